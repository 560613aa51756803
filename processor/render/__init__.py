"""The render stage: everything that writes a result file (documents, workbooks, JSON, feedback)."""
