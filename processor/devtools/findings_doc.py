"""docs/findings.md from the findings catalogue (processor/findings.py).

    python -m processor.devtools.findings_doc [docs/findings.md]

tests/test_findings_catalogue.py fails when the committed file is not what this writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from processor import findings

DEFAULT = Path(__file__).resolve().parents[2] / "docs" / "findings.md"

_HEAD = """\
# Findings catalogue

<!-- Generated from processor/findings.py by `make findings-doc`
     (python -m processor.devtools.findings_doc); a test fails when it is stale. Do not edit. -->

Every finding a run can report on a received file, its severity and its Vietnamese message, in the order
of a run. The code is what outputs carry (summary.json, the checking report, the feedback copies); a key
with a slash (`invalid_date/not_real`) is one wording of the code before the slash. A code has one
severity: **Lỗi** (error: the file, or with `--accept-partial` the row, is not used) or **Cảnh báo**
(warning: the data are used, the unit is told).

`{{name}}` is a value the check fills in. The form's own names (sheet “{unit_sheet}”, “{staff_sheet}”,
“{meta_sheet}”, form id “{form_id}”) are already filled in below. A message about one cell is shown
after “Ô G7: ” (the cell), which is why those start in lower case. The council's approval workbook has
findings of its own (`thidua decide`): there an error blocks the decision documents and a warning leaves
its row out.
"""


def render() -> str:
    """The whole of docs/findings.md."""
    lines = [_HEAD.format(**findings.FORM_NAMES).rstrip("\n")]
    stage = None
    for entry in findings.CATALOGUE.values():
        if entry.stage != stage:
            stage = entry.stage
            lines += ["", f"## {stage}", "", "| Key | Severity | Message |", "| --- | --- | --- |"]
        lines.append(f"| `{entry.key}` | {entry.severity} | {_cell(entry.text)} |")
    lines += [
        "",
        "## Parts of messages",
        "",
        "Put into a message's placeholder by the check when they apply (`HINTS` in processor/findings.py).",
        "",
        "| Name | Text |",
        "| --- | --- |",
    ]
    lines += [f"| `{name}` | {_cell(text)} |" for name, text in findings.HINTS.items()]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def main(argv: list[str]) -> None:
    target = Path(argv[0]) if argv else DEFAULT
    target.write_text(render(), encoding="utf-8", newline="\n")
    print(f"Wrote {target}")


if __name__ == "__main__":
    main(sys.argv[1:])
