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

# The children a w:pPr may hold after w:framePr, in schema order: the Giấy khen's framed texts get their
# w:framePr (and a calibration page its w:pBdr) inserted before them, so the paragraph stays schema-valid.
# Here, not in devtools.word_templates, because the run (render/decision_docs.py) needs it too.
FRAMEPR_SUCCESSORS = (
    "w:widowControl", "w:numPr", "w:suppressLineNumbers", "w:pBdr", "w:shd", "w:tabs",
    "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct", "w:topLinePunct",
    "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind",
    "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection",
    "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr",
    "w:pPrChange",
)  # fmt: skip


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
