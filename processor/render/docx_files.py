"""The Word templates' file names and the reproducible .docx package, without python-docx.

The run fills the templates in its second process; the main process needs only these names, so it does
not pay for importing python-docx and lxml.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

REPORT = "bao-cao.docx"
PROPOSAL = "to-trinh-khen-thuong.docx"
EXPLANATION = "giai-trinh-khen-thuong.docx"
TEMPLATE_FILES = (REPORT, PROPOSAL, EXPLANATION)
# `thidua decide`'s templates: the Quyết định, the Giấy khen on pre-printed blanks, and printed whole.
DECISION = "quyet-dinh-khen-thuong.docx"
CERTIFICATE = "giay-khen.docx"
CERTIFICATE_PLAIN = "giay-khen-tron.docx"
DECIDE_TEMPLATE_FILES = (DECISION, CERTIFICATE, CERTIFICATE_PLAIN)


def normalize_docx(path: Path) -> None:
    """Rewrite a .docx with fixed entry times: same content gives the same bytes on every run."""
    with zipfile.ZipFile(path) as source:
        entries = [(info.filename, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, data)
