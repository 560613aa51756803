"""Feedback a unit can act on, and the clerk's validation report.

- an annotated copy of each unit's own workbook: bad cells coloured, a comment on each, and a first sheet
  listing every finding with a link to its cell (the received file itself is never touched);
- a ready-to-send `.eml` draft to the unit with that copy attached;
- one validation report workbook for the clerk: every finding of every file, one row each.

A unit often corrects the annotated copy itself and sends it back. The copy therefore remembers, in a
very hidden sheet, the original fill, border, protection and comment of every cell it marked, so that
annotating a returned copy first puts those cells back as they were: no stale red on a fixed cell.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import email.policy
import functools
import hashlib
import io
import math
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.xml.functions import tostring

from processor import findings as catalogue
from processor import form
from processor.config import Config, is_email_address
from processor.records import FileStatus, Finding, Period, ReceivedFile, Severity, Submission, UserError
from processor.render import annotate, atomic, inert, returned
from processor.run_report import clerk_task, for_unit, has_recipient, needs_feedback
from processor.vntext import clean, format_date, nfc, one_line, safe_file_name, sort_key, xml_safe

FINDINGS_SHEET = "Kết quả kiểm tra"
FILES_SHEET = "Tệp đã nhận"
RESTORE_SHEET = "_thidua_kiem_tra"  # very hidden: original look of the cells the copy marked
COMMENT_AUTHOR = "thidua"
FEEDBACK_DIR = "phan-hoi"
XLSX_MIME = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")

STATUS_LABELS = {
    FileStatus.ACCEPTED: "Hợp lệ",
    FileStatus.ACCEPTED_PARTIAL: "Hợp lệ một phần",
    FileStatus.REJECTED: "Bị từ chối",
    FileStatus.UNREADABLE: "Không đọc được",
    FileStatus.DUPLICATE: "Trùng lặp",
    FileStatus.SUPERSEDED: "Đã được thay thế",
    FileStatus.OTHER_PERIOD: "Kỳ khác",
}

# Excel's own "bad" / "neutral" colours: units already read them as "wrong" / "check this".
ERROR_FILL = PatternFill("solid", fgColor="FFC7CE")
WARNING_FILL = PatternFill("solid", fgColor="FFEB9C")
ERROR_SIDE = Side(style="medium", color="E00000")
WARNING_SIDE = Side(style="medium", color="BF8F00")
ERROR_BORDER = Border(left=ERROR_SIDE, right=ERROR_SIDE, top=ERROR_SIDE, bottom=ERROR_SIDE)
WARNING_BORDER = Border(left=WARNING_SIDE, right=WARNING_SIDE, top=WARNING_SIDE, bottom=WARNING_SIDE)
# Conditional formatting beats a cell's own format in Excel, and the form has rules (borders on
# filled rows): the marks are repeated as a top-priority rule, recognised later by this formula.
MARK_FORMULA = '"thidua"="thidua"'
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
FONT_NAME = "Times New Roman"  # the form's font: one look across the copy


def _font(size: float = 12, **style) -> Font:
    return Font(name=FONT_NAME, size=size, **style)


HEADER_FONT = _font(bold=True, color="FFFFFF")
BODY_FONT = _font()
THIN = Side(style="thin", color="A6A6A6")
MAX_ROW_HEIGHT = 409  # points: Excel's limit (it repairs a file with a taller row)
GRID = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP_TOP = Alignment(wrap_text=True, vertical="top")

# A finding naming a huge range (a whole column of rows) colours at most this many cells.
MAX_CELLS_PER_FINDING = 300
# openpyxl holds every cell in memory (about 50 times its XML): a workbook with a million formatted
# empty rows would cost gigabytes, so above this its copy is the findings sheet alone. The form itself
# is about 100 KB of sheet XML.
MAX_SHEET_XML_BYTES = 40 * 1024 * 1024
MAX_TEXT = 2000  # unit text copied into a cell or comment is cut here
EMAIL_FINDINGS_LISTED = 10
VIETNAM_TIME = dt.timezone(dt.timedelta(hours=7))


# ------------------------------------------------------------------------------------------------
# Small shared helpers


def _text(value: object, limit: int = MAX_TEXT) -> str:
    """Text safe for a cell, a comment or a mail: NFC, no XML-illegal control characters, no lone
    surrogates (a file name that is not UTF-8), bounded."""
    if value is None:
        return ""
    text = xml_safe(nfc(str(value)))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _local(moment: dt.datetime) -> dt.datetime:
    """Excel has no time zones: show every time as Vietnam time, naive."""
    if moment.tzinfo is not None:
        return _shifted(moment, VIETNAM_TIME)
    return moment


def _utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VIETNAM_TIME)
    return _shifted(moment, dt.UTC)


def _shifted(moment: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """`moment` in `zone`, naive; a time within hours of year 1 or 9999 (a forged Date) stays at the edge
    instead of overflowing."""
    try:
        return moment.astimezone(zone).replace(tzinfo=None)
    except OverflowError:
        return dt.datetime.min if moment.year == 1 else dt.datetime.max


def _when(moment: dt.datetime) -> str:
    local = _local(moment)
    return f"{local:%H:%M} ngày {format_date(local.date())}"


def _received_note(file: ReceivedFile, lead: str = " (") -> str:
    """" (nhận lúc 09:15 ngày 04/03/2024)"; nothing for a time that could not be read."""
    if not file.time_known:
        return ""
    return f"{lead}nhận lúc {_when(file.received_at)}" + (")" if lead == " (" else "")


def _parse_ref(ref: str | None) -> tuple[int, int, int, int] | None:
    """(min_col, min_row, max_col, max_row) of an A1 reference, or None if it names no cell."""
    if not ref:
        return None
    try:
        min_col, min_row, max_col, max_row = range_boundaries(ref.replace("$", "").strip().upper())
    except (ValueError, TypeError):
        return None
    if None in (min_col, min_row, max_col, max_row):
        return None
    if not (1 <= min_col <= max_col <= 16384 and 1 <= min_row <= max_row <= 1048576):
        return None
    return min_col, min_row, max_col, max_row


def _sheet_rank(sheet: str | None) -> tuple:
    order = {None: 0, form.UNIT_SHEET: 1, form.STAFF_SHEET: 2, form.META_SHEET: 3}
    if sheet in order:
        return (order[sheet],)
    return (4, sort_key(sheet or ""))


def _indexed_in_order(findings: Iterable[Finding]) -> list[tuple[int, Finding]]:
    """Errors first, then by sheet of the form, row and column; ties keep the validator's order."""

    def key(item: tuple[int, Finding]) -> tuple:
        index, finding = item
        ref = _parse_ref(finding.cell)
        where = (ref[1], ref[0]) if ref else (0, 0)
        return (not finding.is_error, _sheet_rank(finding.sheet), where, index)

    return sorted(enumerate(findings), key=key)


def ordered_findings(findings: Iterable[Finding]) -> list[Finding]:
    return [finding for _, finding in _indexed_in_order(findings)]


def _counts(findings: Iterable[Finding]) -> tuple[int, int]:
    findings = list(findings)
    errors = sum(f.is_error for f in findings)
    return errors, len(findings) - errors


def _roster_rank(config: Config | None, code: str | None) -> int:
    if config is None:
        return 0
    index = config.unit_index.get(code.upper()) if code else None
    return len(config.units) if index is None else index


def _submission_key(config: Config | None, submission: Submission) -> tuple:
    file = submission.file
    return (
        _roster_rank(config, submission.unit_code),
        submission.unit_code or "",
        _utc(file.received_at),
        sort_key(file.display_name),
        file.sha256,
    )


def _unit_name(submission: Submission, config: Config | None) -> str:
    unit = config.unit(submission.unit_code) if config and submission.unit_code else None
    if unit is None and config and submission.file.sender:
        # A file whose unit the content does not say (not the form, unreadable), e-mailed from an
        # address a unit registered: that unit, not "Quý đơn vị".
        sender = submission.file.sender.strip().lower()
        unit = next((u for u in config.units if sender in (e.strip().lower() for e in u.emails)), None)
    if unit:
        return unit.name
    if submission.report and submission.report.unit_name:
        return clean(submission.report.unit_name)
    return ""


def _office_unit_name(config: Config | None) -> str:
    if config:
        unit = config.unit(config.office.clerk_unit)
        if unit:
            return unit.name
        return f"Phòng {config.office.clerk_unit}"
    return "Phòng Tổ chức - Hành chính"


def _deadline(config: Config | None, period: Period | None) -> dt.date | None:
    if config is None or period is None:
        return None
    try:
        return config.campaign_for(period).due_date(period)
    except UserError:
        return None


def _original_name(file: ReceivedFile) -> str:
    return file.attachment_name or file.source_path.name


def _severity_word(finding: Finding) -> str:
    return str(finding.severity)


def _where(finding: Finding) -> str:
    parts = []
    if finding.sheet:
        parts.append(f"sheet “{finding.sheet}”")
    if finding.cell:
        parts.append(f"ô {finding.cell}")
    place = ", ".join(parts)
    if finding.field:
        place = f"{place} ({finding.field})" if place else finding.field
    return place


def _status_sentence(submission: Submission) -> str:
    errors, _ = _counts(submission.findings)
    status = submission.status
    if status is FileStatus.UNREADABLE:
        return "Không đọc được tệp báo cáo nên báo cáo chưa được tổng hợp."
    if status is FileStatus.ACCEPTED_PARTIAL:
        return "Báo cáo còn lỗi: chỉ các dòng hợp lệ được tổng hợp."
    if errors:
        return "Báo cáo còn lỗi nên chưa được tổng hợp."
    if status is FileStatus.ACCEPTED:
        return "Báo cáo đã được tiếp nhận và tổng hợp."
    return f"Trạng thái tệp: {STATUS_LABELS.get(status, str(status))}."


def _marked(submission: Submission, findings: Sequence[Finding]) -> set[bool]:
    """Which kinds (is_error) of `findings` name a cell the copy colours: a whole-file problem, or any
    problem of a file that cannot be opened, colours none."""
    if submission.status is FileStatus.UNREADABLE:
        return set()
    return {f.is_error for f in findings if f.cell}


def _count_sentence(submission: Submission, marked: set[bool] | None = None) -> str:
    errors, warnings = _counts(submission.findings)
    if marked is None:
        marked = _marked(submission, submission.findings)
    parts = []
    if errors:
        parts.append(f"{errors} lỗi phải sửa" + (" (ô tô đỏ)" if True in marked else ""))
    if warnings:
        parts.append(f"{warnings} cảnh báo cần xem lại" + (" (ô tô vàng)" if False in marked else ""))
    return "Kết quả kiểm tra: " + (" và ".join(parts) if parts else "không có lỗi, cảnh báo nào") + "."


# ------------------------------------------------------------------------------------------------
# 1. The annotated copy of a unit's workbook


def _may_open(submission: Submission, data: bytes) -> bool:
    if submission.status is FileStatus.UNREADABLE or not data:
        return False  # ingest already judged these bytes hostile or broken: never parse them again
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            sheets = sum(i.file_size for i in archive.infolist() if i.filename.startswith("xl/worksheets/"))
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    return sheets <= MAX_SHEET_XML_BYTES


def _comment_size(text: str) -> tuple[int, int]:
    width = 340
    lines = sum(max(1, math.ceil(len(part) / 52)) for part in text.split("\n"))
    return width, min(600, 18 * lines + 16)


_FINDINGS_COLUMNS = (
    ("STT", 6),
    ("Mức độ", 11),
    ("Sheet", 13),
    ("Ô", 8),
    ("Nội dung", 24),
    ("Giá trị", 22),
    ("Hướng dẫn sửa", 62),
)


def _xml(style) -> str:
    """An openpyxl style object as styles.xml text: one definition of each look for both paths."""
    return tostring(style.to_tree()).decode("utf-8")


@functools.cache
def _mark_styles() -> dict[bool, annotate.MarkStyle]:
    def style(fill: PatternFill, border: Border) -> annotate.MarkStyle:
        colour = fill.fgColor.rgb
        dxf = DifferentialStyle(fill=PatternFill("solid", fgColor=colour, bgColor=colour), border=border)
        return annotate.MarkStyle(_xml(fill), _xml(border), _xml(dxf))

    return {True: style(ERROR_FILL, ERROR_BORDER), False: style(WARNING_FILL, WARNING_BORDER)}


@functools.cache
def _findings_sheet_looks() -> dict[str, tuple[str, str, str, str]]:
    """(font, fill, border, alignment) XML of each look in the findings sheet, built once a process."""
    no_border = "<border><left/><right/><top/><bottom/><diagonal/></border>"
    title = _xml(Alignment(wrap_text=True, vertical="center"))
    grid, wrap_top = _xml(GRID), _xml(WRAP_TOP)
    return {
        "title": (_xml(_font(bold=True, size=14, color="1F4E78")), "", no_border, title),
        "bold": (_xml(_font(bold=True)), "", no_border, title),
        "plain": (_xml(_font()), "", no_border, title),
        "errors": (_xml(_font(bold=True, color="C00000")), "", no_border, title),
        "warnings": (_xml(_font(bold=True, color="7F6000")), "", no_border, title),
        "italic": (_xml(_font(italic=True)), "", no_border, title),
        "header": (
            _xml(HEADER_FONT),
            _xml(HEADER_FILL),
            grid,
            _xml(Alignment(horizontal="center", vertical="center", wrap_text=True)),
        ),
        "body": (_xml(BODY_FONT), "", grid, wrap_top),
        "number": (_xml(BODY_FONT), "", grid, _xml(Alignment(horizontal="center", vertical="top"))),
        "error": (_xml(_font(bold=True, color="9C0006")), _xml(ERROR_FILL), grid, wrap_top),
        "warning": (_xml(_font(bold=True, color="7F6000")), _xml(WARNING_FILL), grid, wrap_top),
        "link": (_xml(_font(color="0563C1", underline="single")), "", grid, wrap_top),
        "none": (_xml(BODY_FONT), "", no_border, ""),
    }


def _comment_text(on_cell: list[Finding]) -> str:
    lines = [f"{f.severity}{' – ' + f.field if f.field else ''}: {_text(f.message, 600)}" for f in on_cell]
    return "\n\n".join(lines)


def _cell_value(value: object) -> object:
    """Cleaned text (written as inline text, never a formula), numbers as they are."""
    if isinstance(value, str):
        return _text(value) or None
    return value


# Our notes start with the severity (_comment_text): "Lỗi – Ngày sinh: ...", "Cảnh báo: ...".
_NOTE_START = f"(?:{'|'.join(map(str, Severity))})[ :]"
MARKING = returned.Marking(FINDINGS_SHEET, RESTORE_SHEET, MARK_FORMULA, COMMENT_AUTHOR, _NOTE_START)
_RESTORE_TITLES = ("sheet", "cell", "fill", "border", "locked", "comment", "author")


def _keep_note(ours: str, theirs: str) -> str:
    """Our note on a cell the unit had noted: theirs follows (the restore log puts it back alone)."""
    return f"{ours}\n\n— Ghi chú có sẵn —\n{_text(theirs, 600)}"


def _mark_fast(data: bytes, findings: list[Finding]) -> tuple[annotate.Package, dict[int, str]]:
    """Mark the findings by patching the unit's package (a copy sent back is cleaned first); raises
    annotate.Unsupported for what the package level cannot patch."""
    pkg = annotate.Package(data)
    inert.make_inert(pkg)
    if returned.is_returned(pkg, MARKING):
        returned.clean(pkg, data, MARKING, _comment_size)
    marks = annotate.mark_findings(
        pkg,
        findings,
        [_parse_ref(f.cell) for f in findings],
        _mark_styles(),
        formula=MARK_FORMULA,
        author=COMMENT_AUTHOR,
        comment=_comment_text,
        comment_size=_comment_size,
        max_cells=MAX_CELLS_PER_FINDING,
        keep_note=_keep_note,
    )
    if marks.originals:
        _add_restore_log(pkg, marks.originals)
    return pkg, marks.located


def _add_restore_log(pkg: annotate.Package, originals: list[tuple]) -> None:
    """The very hidden sheet a copy sent back is cleaned with (returned.py)."""
    log = annotate.NewSheet(protected=True)
    log.rows.append((1, None, [(column, title, 0) for column, title in enumerate(_RESTORE_TITLES, 1)]))
    for row, values in enumerate(originals, 2):
        cells = [(column, _cell_value(v), 0) for column, v in enumerate(values, 1) if v is not None]
        log.rows.append((row, None, cells))
    annotate.add_sheet(pkg, RESTORE_SHEET, log.to_bytes(selected=False), first=False, state="veryHidden")


def _untouched_with_findings(data: bytes) -> annotate.Package | None:
    """The unit's workbook as it came, for a findings sheet alone: what the marking could not patch."""
    try:
        pkg = annotate.Package(data)
        inert.make_inert(pkg)
        pkg.sheets()
        return pkg
    except Exception:  # not even that: a workbook of the findings sheet alone
        return None


def is_ods(data: bytes) -> bool:
    """Whether received bytes are an OpenDocument spreadsheet (a zip whose first entry is its mimetype)."""
    from processor.reader import ODS_MIMETYPE

    return data[:4] == b"PK\x03\x04" and ODS_MIMETYPE in data[30:200]


def sent_as_ods(submission: Submission) -> bool:
    """The unit sent an .ods: its annotated copy comes back as an .xlsx, and the texts say so."""
    return Path(_original_name(submission.file).replace("\\", "/")).suffix.lower() in (".ods", ".ots")


ODS_COPY_NOTE = (
    "Đơn vị gửi bảng tính OpenDocument (.ods): bản đánh dấu này là tệp Excel (.xlsx) chép lại số liệu của "
    "tệp đó (không giữ định dạng, công thức), mở được bằng LibreOffice Calc hoặc Excel. Đơn vị có thể sửa "
    "ngay trên tệp này, hoặc sửa tệp .ods của mình, rồi gửi lại."
)


def _mark_ods(
    submission: Submission, data: bytes, findings: list[Finding], config: Config | None, created: str
) -> tuple[annotate.Package | None, dict[int, str]]:
    """An .ods cannot be patched: its values, as the reader read them for the validation, are written
    into a new package (annotate.py), which is then marked like any other workbook."""
    from processor import reader
    from processor.config import Validation

    limits = config.validation if config is not None else Validation()
    raw = reader.read_workbook(data, submission.file.display_name, limits)
    if not raw.readable:
        return None, {}
    pkg = annotate.empty_package(COMMENT_AUTHOR, created)
    styles = pkg.styles
    for name in raw.sheet_names:
        sheet = raw.sheets.get(name)
        copy = annotate.NewSheet()
        if sheet is not None:
            copy.widths = [18] * sheet.max_col
            rows: dict[int, list[tuple[int, object, int]]] = {}
            for (row, col), value in sorted(sheet.cells.items()):
                number_format = 0
                if isinstance(value, reader.CellProblem):
                    # Kept as the problem it is, so that the copy sent back is found at the same cell again.
                    is_formula = value.kind == "uncached_formula"
                    value = (
                        annotate.Formula(_text(value.text)) if is_formula else annotate.ErrorValue(value.text)
                    )
                elif isinstance(value, _TIME_TYPES):
                    value, number_format = _serial(value)
                elif isinstance(value, str):
                    value = _text(value) or None
                font = sheet.font(row, col)
                # The legacy font tells how the text was typed.
                font_id = (
                    styles.add("fonts", f'<font><name val="{annotate.attr(font)}"/></font>') if font else 0
                )
                style = styles.xf(font=font_id, number_format=number_format) if font or number_format else 0
                rows.setdefault(row, []).append((col, value, style))
            copy.rows = [(row, None, line) for row, line in rows.items()]
        state = "hidden" if name == form.META_SHEET else "visible"
        annotate.add_sheet(
            pkg, _text(name, 31) or "Sheet", copy.to_bytes(selected=False), first=False, state=state
        )
    return _mark_fast(pkg.to_bytes(), findings)


# Dates as the form writes them (formats of annotate.empty_package), times in Excel's built-in formats.
_TIME_TYPES = (dt.date, dt.time, dt.timedelta)
_DAY_ZERO = dt.datetime(1899, 12, 30)


def _serial(value: dt.date | dt.time | dt.timedelta) -> tuple[float, int]:
    """A date or time as Excel stores it: days since day zero, with the number format that shows it."""
    if isinstance(value, dt.datetime):
        return (value.replace(tzinfo=None) - _DAY_ZERO) / dt.timedelta(days=1), annotate.DATE_TIME_FORMAT
    if isinstance(value, dt.date):
        return (value - _DAY_ZERO.date()).days, annotate.DATE_FORMAT
    if isinstance(value, dt.time):
        return (dt.datetime.combine(_DAY_ZERO, value.replace(tzinfo=None)) - _DAY_ZERO) / dt.timedelta(
            days=1
        ), 21
    return value / dt.timedelta(days=1), 46


def _findings_sheet(
    pkg: annotate.Package,
    submission: Submission,
    findings: list[Finding],
    located: dict[int, str],
    config: Config | None,
    readable: bool,
    converted: bool = False,
) -> None:
    """The first sheet of the copy: what was found, how to fix it, a link to each cell."""
    xf = _looks(pkg.styles)
    lines = _title_lines(submission, findings, located, config, readable, converted)
    header_row = len(lines) + 2
    sheet = annotate.NewSheet(
        widths=[width for _, width in _FINDINGS_COLUMNS],
        freeze_row=header_row,
        tab_color="00C00000" if _counts(findings)[0] else "00BF8F00",
        landscape_fit_width=True,
        centred=True,
        margins=(0.4, 0.4),
    )
    _title_rows(sheet, lines, xf)
    header = xf("header")
    sheet.rows.append(
        (header_row, 20, [(c, title, header) for c, (title, _) in enumerate(_FINDINGS_COLUMNS, 1)])
    )
    visible = {s.name for s in pkg.sheets() if s.part is not None and s.state == "visible"}
    _finding_rows(sheet, findings, located, visible, xf, header_row)
    part = annotate.add_sheet(pkg, FINDINGS_SHEET, sheet.to_bytes(selected=True), first=True)
    print_titles = f"{quote_sheetname(pkg.sheets()[0].name)}!${header_row}:${header_row}"
    annotate.add_defined_name(pkg, "_xlnm.Print_Titles", 0, print_titles)
    annotate.select_first_sheet(pkg, skip={part})


def _looks(styles: annotate.Styles) -> Callable[[str], int]:
    """The cell format of a look of the findings sheet (_findings_sheet_looks), added to the workbook."""

    def xf(name: str) -> int:
        font, fill, border, alignment = _findings_sheet_looks()[name]
        return styles.xf(
            font=styles.add("fonts", font),
            fill=styles.add("fills", fill) if fill else 0,
            border=styles.add("borders", border),
            alignment=alignment,
        )

    return xf


def _instructions(submission: Submission, config: Config | None, readable: bool) -> tuple[str, str]:
    """How to fix the report, and how to use this copy: it depends on whether the cells are marked."""
    office = _office_unit_name(config)
    due = _deadline(config, submission.period)
    by = f" trước ngày {format_date(due)}" if due else ""
    if readable:
        return (
            f"Cách sửa: sửa các ô tô đỏ (lỗi) rồi gửi lại tệp cho {office}{by}. Ô tô vàng là cảnh báo: "
            "kiểm tra lại, nếu số liệu đúng thì giữ nguyên.",
            "Bấm vào địa chỉ ở cột “Ô” để đi tới ô cần sửa; đưa chuột lên ô tô màu để xem hướng dẫn. "
            "Có thể sửa ngay trên tệp này rồi gửi lại, không cần xóa sheet này.",
        )
    if submission.status is FileStatus.UNREADABLE:
        return (
            f"Cách sửa: mở biểu mẫu báo cáo đã được gửi, điền số liệu, lưu dạng Excel (.xlsx), không đặt "
            f"mật khẩu, rồi gửi lại tệp cho {office}{by}.",
            "Tệp gửi đến không đọc được nên không đánh dấu được ô cần sửa; lý do ghi ở bảng dưới.",
        )
    return (
        f"Cách sửa: sửa trên tệp đã gửi các ô ghi ở bảng dưới rồi gửi lại tệp cho {office}{by}.",
        "Không mở lại được tệp đã gửi để tô màu các ô cần sửa; địa chỉ từng ô ghi ở bảng dưới.",
    )


def _title_lines(
    submission: Submission,
    findings: list[Finding],
    located: dict[int, str],
    config: Config | None,
    readable: bool,
    converted: bool,
) -> list[tuple[str, str]]:
    """(text, look) of each line above the table."""
    unit_name = _unit_name(submission, config)
    unit = " – ".join(part for part in (submission.unit_code, unit_name) if part) or "(chưa xác định)"
    period = f"tháng {submission.period.label}" if submission.period else "(chưa xác định)"
    marked = {findings[index].is_error for index in located} if readable else set()
    fix, how = _instructions(submission, config, readable)
    lines = [
        ("KẾT QUẢ KIỂM TRA BÁO CÁO THI ĐUA", "title"),
        (f"Đơn vị: {unit}  ·  Kỳ báo cáo: {period}", "bold"),
        (f"Tệp: {submission.file.display_name}{_received_note(submission.file)}", "plain"),
        (
            f"{_status_sentence(submission)} {_count_sentence(submission, marked)}",
            "errors" if _counts(findings)[0] else "warnings",
        ),
        (fix, "plain"),
        (how, "italic"),
    ]
    if converted:
        lines.append((ODS_COPY_NOTE, "italic"))
    return lines


def _title_rows(sheet: annotate.NewSheet, lines: list[tuple[str, str]], xf: Callable[[str], int]) -> None:
    last = get_column_letter(len(_FINDINGS_COLUMNS))
    total_width = sum(width for _, width in _FINDINGS_COLUMNS)
    for row, (text, look) in enumerate(lines, 1):
        # Excel does not grow merged rows to fit wrapped text: size them from the text.
        per_line = total_width * 1.1 / (1.3 if look == "title" else 1)
        height = 24 if row == 1 else min(16 * max(1, math.ceil(len(text) / per_line)) + 4, MAX_ROW_HEIGHT)
        sheet.rows.append((row, height, [(1, _cell_value(text), xf(look))]))
        sheet.merges.append(f"A{row}:{last}{row}")


def _finding_rows(
    sheet: annotate.NewSheet,
    findings: list[Finding],
    located: dict[int, str],
    visible: set[str],
    xf: Callable[[str], int],
    header_row: int,
) -> None:
    """One row per finding below the header, errors first; the cell column links to the marked cell."""
    body, number_style, link_style = xf("body"), xf("number"), xf("link")
    severity_style = {True: xf("error"), False: xf("warning")}
    for row, (index, finding) in enumerate(_indexed_in_order(findings), header_row + 1):
        values = (
            row - header_row,
            _severity_word(finding),
            finding.sheet or "",
            located.get(index) or finding.cell or "",
            finding.field or "",
            _text(finding.value, 500) if finding.value is not None else "",
            finding.message,
        )
        linked = index in located and finding.sheet in visible  # Excel cannot go to a hidden sheet
        cell_styles = [number_style, severity_style[finding.is_error], body, link_style if linked else body]
        cell_styles += [body] * (len(values) - len(cell_styles))
        cells = [
            (column, _cell_value(value), style)
            for column, (value, style) in enumerate(zip(values, cell_styles, strict=True), 1)
        ]
        longest = max(len(str(values[6])) / 60, len(str(values[5])) / 21, len(str(values[4])) / 23, 1)
        sheet.rows.append((row, min(15.5 * math.ceil(longest) + 3, MAX_ROW_HEIGHT), cells))
        if linked:
            sheet.links.append((f"D{row}", f"{quote_sheetname(finding.sheet)}!{located[index]}"))
    if not findings:
        sheet.rows.append((header_row + 1, None, [(1, "Không có lỗi, cảnh báo nào.", xf("none"))]))


def write_annotated_copy(
    submission: Submission, data: bytes, out_path: Path, *, config: Config | None = None
) -> Path:
    """Write the unit's workbook with its findings marked, plus a first sheet listing them.

    `data` is the file as received; it is only read. `config` (optional) supplies the unit's name,
    the office's name and the deadline in the instructions. A file that cannot be opened gives a
    workbook with the findings sheet only.

    The unit's package is patched (annotate.py; a copy sent back is cleaned first, returned.py). What
    the package level cannot patch (annotate.Unsupported) comes back untouched with the findings sheet.
    Macros and external links are removed first (inert.py): the copy is opened on the clerk's PC. The
    path written (`out_path`) is returned.
    """
    from processor.render.fastxlsx import w3c_time

    findings = list(submission.findings)
    modified = w3c_time(_utc(submission.file.received_at))
    converted = submission.status is not FileStatus.UNREADABLE and is_ods(data)
    for pkg, located, readable in _copies(submission, data, findings, config, modified, converted):
        try:
            _findings_sheet(pkg, submission, findings, located, config, readable, converted=converted)
            annotate.set_core_properties(pkg, modified, COMMENT_AUTHOR)
            return atomic.write_bytes(Path(out_path), pkg.to_bytes())
        except Exception:  # a package that cannot take the findings sheet: the next way
            continue
    pkg = annotate.empty_package(COMMENT_AUTHOR, modified)
    _findings_sheet(pkg, submission, findings, {}, config, readable=False)
    return atomic.write_bytes(Path(out_path), pkg.to_bytes())


def _copies(
    submission: Submission,
    data: bytes,
    findings: list[Finding],
    config: Config | None,
    modified: str,
    converted: bool,
) -> Iterator[tuple[annotate.Package, dict[int, str], bool]]:
    """The ways to make the copy, best first: (package, located findings, cells marked)."""
    if converted:
        try:
            pkg, located = _mark_ods(submission, data, findings, config, modified)
        except Exception:  # a surprise in a hostile file: the findings sheet alone
            return
        if pkg is not None:
            yield pkg, located, True
        return
    if not _may_open(submission, data):
        return
    try:
        pkg, located = _mark_fast(data, findings)
    except annotate.Unsupported:  # a shape the package level does not patch: the workbook as it came
        pkg = _untouched_with_findings(data)
        if pkg is not None:
            yield pkg, {}, False
        return
    except Exception:  # a surprise in a hostile file: never reuse its package, the findings sheet alone
        return
    yield pkg, located, True


# ------------------------------------------------------------------------------------------------
# 2. The clerk's validation report


_REPORT_FINDINGS_COLUMNS = [
    ("Đơn vị", 10),
    ("Tên đơn vị", 28),
    ("Tệp", 32),
    ("Trạng thái tệp", 16),
    ("Mức độ", 10),
    ("Sheet", 12),
    ("Ô", 8),
    ("Nội dung", 24),
    ("Giá trị", 22),
    ("Thông báo", 70),
]
_REPORT_FILES_COLUMNS = [
    ("Tệp", 34),
    ("SHA-256 (rút gọn)", 15),
    ("Đơn vị", 10),
    ("Tên đơn vị", 28),
    ("Kỳ báo cáo", 11),
    ("Thời điểm nhận", 17),
    ("Người gửi", 28),
    ("Trạng thái", 16),
    ("Số lỗi", 8),
    ("Số cảnh báo", 11),
    ("Được thay thế bởi", 32),
    ("Việc văn thư cần làm", 60),
]
_RECEIVED_COLUMN = 6  # "Thời điểm nhận" of the files sheet: a date and time


def _row_height(values: Sequence[object], titles: Sequence[tuple[str, float]]) -> float:
    """From the longest wrapped text: LibreOffice does not grow rows on opening."""
    lines = 1
    for value, (_, width) in zip(values, titles, strict=True):
        if isinstance(value, str):
            lines = max(lines, math.ceil(len(value) * 1.1 / max(width - 1, 1)))
    return min(15.5 * lines + 2, MAX_ROW_HEIGHT)


def _cell_text(value: object) -> object:
    return _text(value) if isinstance(value, str) else value


class _ReportSheet:
    """One streamed sheet of the validation report: title lines, a styled header, then fast rows."""

    def __init__(self, wb: Workbook, title: str, titles: Sequence[tuple[str, float]], header_row: int):
        from processor.render.fastxlsx import style_attr

        self.ws = ws = wb.create_sheet(title)
        self.titles = titles
        self.header_row = header_row
        for column, (_, width) in enumerate(titles, 1):
            ws.column_dimensions[get_column_letter(column)].width = width
        ws.row_dimensions[header_row].height = 32
        ws.freeze_panes = f"A{header_row + 1}"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_margins.left = ws.page_margins.right = 0.4
        self.body = style_attr(ws, font=BODY_FONT, border=GRID, alignment=WRAP_TOP)
        self.lines: list[list] = []

    def title(self, text: str, bold: bool = True, size: int = 12) -> None:
        cell = WriteOnlyCell(self.ws, _text(text))
        cell.font = _font(bold=bold, size=size)
        self.lines.append([cell])

    def header(self) -> None:
        while len(self.lines) < self.header_row - 1:
            self.lines.append([])
        cells = []
        for title, _ in self.titles:
            cell = WriteOnlyCell(self.ws, title)
            cell.font, cell.fill, cell.border = HEADER_FONT, HEADER_FILL, GRID
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            cells.append(cell)
        for line in [*self.lines, cells]:
            self.ws.append(line)

    def rows(self, styles: Sequence[str], rows: Iterable[Sequence[object]]):
        from processor.render.fastxlsx import RowsXml

        fast = RowsXml(styles, self.header_row + 1, styled_blanks=True)
        try:
            for values in rows:
                values = [_cell_text(v) for v in values]
                fast.add(values, _row_height(values, self.titles))
        except BaseException:
            fast.file.close()
            raise
        return fast

    def table(self, name: str, last_row: int) -> None:
        from processor.render.fastxlsx import declare_table

        ref = f"A{self.header_row}:{get_column_letter(len(self.titles))}{last_row}"
        declare_table(self.ws, name, ref, [title for title, _ in self.titles])


def write_validation_report(
    submissions: Iterable[Submission], config: Config, period: Period, out_path: Path
) -> Path:
    """One workbook for the clerk: every finding of every file (one row each), then every file.

    Streamed (a province sends 1,000 files a month and the report lists every file of the campaign):
    openpyxl writes the titles, headers, tables and print settings, the rows are written as XML text.
    """
    from processor.render.fastxlsx import normalise_zip, style_attr

    submissions = sorted(submissions, key=lambda s: _submission_key(config, s))
    names = {id(s): _unit_name(s, config) for s in submissions}
    counts = {id(s): _counts(s.findings) for s in submissions}
    errors = sum(c[0] for c in counts.values())
    warnings_count = sum(c[1] for c in counts.values())
    wb = Workbook(write_only=True)

    findings = _ReportSheet(wb, FINDINGS_SHEET, _REPORT_FINDINGS_COLUMNS, header_row=4)
    findings.ws.print_title_rows = "4:4"
    findings.title(f"KẾT QUẢ KIỂM TRA BÁO CÁO THI ĐUA THÁNG {period.label}", size=14)
    findings.title(
        f"{len(submissions)} tệp đã nhận; {errors} lỗi, {warnings_count} cảnh báo. "
        "Dùng nút lọc ở dòng tiêu đề để xem theo đơn vị, mức độ hoặc trạng thái.",
        bold=False,
    )
    from_ods = [s.file.display_name for s in submissions if needs_feedback(s, period) and sent_as_ods(s)]
    if from_ods:
        named = ", ".join(from_ods[:5]) + (f" và {len(from_ods) - 5} tệp khác" if len(from_ods) > 5 else "")
        findings.title(
            f"Tệp .ods ({named}): bản đánh dấu lỗi gửi lại đơn vị trong phan-hoi/ là tệp Excel (.xlsx) chép "
            "lại số liệu, không giữ định dạng của tệp .ods.",
            bold=False,
        )
    finding_rows = [
        (
            submission.unit_code or "",
            names[id(submission)],
            submission.file.display_name,
            STATUS_LABELS.get(submission.status, str(submission.status)),
            _severity_word(finding),
            finding.sheet or "",
            finding.cell or "",
            finding.field or "",
            finding.value if finding.value is not None else "",
            finding.message,
        )
        for submission in submissions
        for finding in ordered_findings(submission.findings)
    ]
    if not finding_rows:
        cell = WriteOnlyCell(findings.ws, "Không có lỗi, cảnh báo nào.")
        cell.font = BODY_FONT
    findings.header()
    if finding_rows:
        findings.table("KiemTra", findings.header_row + len(finding_rows))
        finding_xml = findings.rows([findings.body] * len(_REPORT_FINDINGS_COLUMNS), finding_rows)
    else:
        findings.ws.append([cell])
        finding_xml = None

    files = _ReportSheet(wb, FILES_SHEET, _REPORT_FILES_COLUMNS, header_row=3)
    files.title(f"CÁC TỆP ĐÃ NHẬN – KỲ BÁO CÁO THÁNG {period.label}", size=14)
    files.header()
    if submissions:
        files.table("TepDaNhan", files.header_row + len(submissions))
    styles = [files.body] * len(_REPORT_FILES_COLUMNS)
    styles[_RECEIVED_COLUMN - 1] = style_attr(
        files.ws, number_format="dd/mm/yyyy hh:mm", font=BODY_FONT, border=GRID, alignment=WRAP_TOP
    )
    file_xml = files.rows(
        styles,
        (
            (
                s.file.display_name,
                s.file.sha256[:12],
                s.unit_code or "",
                names[id(s)],
                s.period.label if s.period else "",
                _local(s.file.received_at) if s.file.time_known else None,
                s.file.sender or "",
                STATUS_LABELS.get(s.status, str(s.status)),
                counts[id(s)][0],
                counts[id(s)][1],
                s.superseded_by or "",
                clerk_task(s, config, period) or "",
            )
            for s in submissions
        ),
    )

    latest = max((s.file.received_at for s in submissions), key=_utc, default=None)
    stamp = latest or dt.datetime.combine(period.first_day, dt.time())
    wb.properties.creator = COMMENT_AUTHOR
    wb.properties.created = _utc(stamp)
    splices = [(findings.ws, finding_xml), (files.ws, file_xml)]

    def build(temp: Path) -> None:
        try:
            wb.save(temp)
        except BaseException:
            for _, rows in splices:
                if rows is not None:
                    rows.file.close()
            raise
        # Sheets are numbered when saved: their part names are known only now.
        normalise_zip(
            temp, _utc(stamp), {ws.path.lstrip("/"): rows for ws, rows in splices if rows is not None}
        )

    return atomic.write_with(Path(out_path), build)


# ------------------------------------------------------------------------------------------------
# 3. The e-mail draft to the unit


class _DraftPolicy(email.policy.EmailPolicy):
    """SMTP line endings, and a Subject encoded by email.header.

    Python 3.11's folder drops the space between two encoded words when it folds a long non-ASCII
    Subject ("báo cáotháng"); email.header keeps spaces inside the encoded words.

    The MIME headers the package writes itself are plain ASCII that fits a line: written as they are,
    they cost nothing, where the folder's parse of each was half the time of a draft (tests hold the
    two ways to the same bytes).
    """

    plain_headers = frozenset({"content-type", "content-transfer-encoding", "mime-version", "x-unsent"})

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() == "subject":
            encoded = Header(str(value), "utf-8", header_name=name).encode(linesep=self.linesep)
            return f"{name}: {encoded}{self.linesep}".encode("ascii")
        if name.lower() in self.plain_headers:
            text = str(value)
            if text.isascii() and text.isprintable() and len(name) + len(text) + 2 <= self.max_line_length:
                return f"{name}: {text}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


DRAFT_POLICY = _DraftPolicy(linesep="\r\n")


def _addresses(texts: Iterable[str], name: str = "") -> list[Address]:
    """The addresses a draft can carry. Any other (a forged or mangled sender, which parseaddr may still
    have let through: "a@.", "@c.vn") is left out, never a reason to fail."""
    name = one_line(name)
    return [Address(display_name=name, addr_spec=t.strip()) for t in texts if is_email_address(t.strip())]


def _email_body(submission: Submission, config: Config, period: Period | None, attachment: str) -> str:
    unit_name = _unit_name(submission, config) or "Quý đơn vị"
    office = _office_unit_name(config)
    findings = ordered_findings(submission.findings)
    errors, _ = _counts(findings)
    marked = _marked(submission, findings)
    due = _deadline(config, period)
    month = f" tháng {period.label}" if period else ""
    file = submission.file
    paragraphs = [
        f"Kính gửi: {unit_name}",
        f"{office} đã nhận báo cáo kết quả thực hiện phong trào thi đua{month} của đơn vị "
        f"(tệp “{_text(_original_name(file), 200)}”{_received_note(file, ', ')}).",
        f"{_status_sentence(submission)} {_count_sentence(submission)}",
    ]
    listed = findings[:EMAIL_FINDINGS_LISTED]
    if listed:
        items = [
            f"{number}. {f.severity} – {_where(f) or 'toàn tệp'}: {_text(f.message, 600)}"
            for number, f in enumerate(listed, 1)
        ]
        if len(findings) > len(listed):
            items.append(f"(và {len(findings) - len(listed)} nội dung khác, xem trong tệp đính kèm)")
        paragraphs.append("Các nội dung cần xem lại:\n" + "\n".join(items))
    by = f" trước ngày {format_date(due)}" if due else ""
    if submission.status is FileStatus.UNREADABLE:
        paragraphs.append(
            "Đề nghị đơn vị lưu báo cáo bằng biểu mẫu Excel (.xlsx) đã được gửi, không đặt mật khẩu, "
            f"rồi gửi lại cho {office}{by}. Tệp đính kèm “{attachment}” ghi rõ lý do."
        )
    elif errors and marked:
        paragraphs.append(
            f"Đề nghị đơn vị mở tệp đính kèm “{attachment}”: ô có lỗi được tô đỏ, ô có cảnh báo được tô "
            "vàng, mỗi ô có ghi chú hướng dẫn cách sửa; sheet “Kết quả kiểm tra” liệt kê đầy đủ. "
            f"Sau khi sửa, đơn vị gửi lại tệp cho {office}{by}."
        )
    elif errors:
        paragraphs.append(
            f"Đề nghị đơn vị sửa các nội dung nêu trên (sheet “Kết quả kiểm tra” của tệp đính kèm "
            f"“{attachment}” ghi đầy đủ) rồi gửi lại tệp cho {office}{by}."
        )
    elif not marked:
        paragraphs.append(
            f"Đề nghị đơn vị xem lại các cảnh báo nêu trên (ghi đầy đủ trong tệp đính kèm “{attachment}”); "
            f"nếu có sai sót, đơn vị sửa và gửi lại tệp cho {office}{by}. Nếu số liệu đã đúng, không cần gửi "
            "lại."
        )
    else:
        paragraphs.append(
            f"Đề nghị đơn vị xem lại các ô tô vàng trong tệp đính kèm “{attachment}”; nếu có sai sót, "
            f"đơn vị sửa và gửi lại tệp cho {office}{by}. Nếu số liệu đã đúng, không cần gửi lại."
        )
    if sent_as_ods(submission) and submission.status is not FileStatus.UNREADABLE:
        paragraphs.append(
            f"Đơn vị gửi bảng tính OpenDocument (.ods); tệp đính kèm “{attachment}” là tệp Excel (.xlsx) "
            "chép lại số liệu để đánh dấu các ô cần sửa, mở được bằng LibreOffice Calc hoặc Excel. Đơn vị có "
            "thể gửi lại dạng .ods hoặc .xlsx."
        )
    signature = ["Trân trọng./.", "", office]
    if config.office.issuing_body_name:
        signature.append(clean(f"{config.office.issuing_body_name} {config.office.place}"))
    if config.office.clerk_email:
        signature.append(config.office.clerk_email)
    paragraphs.append("\n".join(signature))
    return xml_safe(nfc("\n\n".join(paragraphs) + "\n"))  # a unit's name may hold a lone surrogate


def write_feedback_email(
    submission: Submission,
    config: Config,
    annotated_path: Path,
    out_path: Path,
    *,
    period: Period | None = None,
) -> Path:
    """A draft e-mail (.eml, opens as a new message in Outlook) to the unit, the annotated copy attached.

    To the unit's registered addresses, the sender in copy; to the sender when the unit has none; with
    no To when no address is usable (the clerk fills it in).
    """
    period = submission.period or period
    unit = config.unit(submission.unit_code) if submission.unit_code else None
    to = _addresses(unit.emails if unit else ())
    cc = _addresses([submission.file.sender or ""])
    if {a.addr_spec.lower() for a in cc} <= {a.addr_spec.lower() for a in to}:
        cc = []
    if not to:
        to, cc = cc, []
    unit_name = _unit_name(submission, config)
    month = f" tháng {period.label}" if period else ""
    about = unit_name or f"tệp {_original_name(submission.file)}"
    annotated_path = Path(annotated_path)

    headers: list[tuple[str, object]] = []
    office = _addresses([config.office.clerk_email], _office_unit_name(config))
    if office:
        headers.append(("From", office))
    if to:
        headers.append(("To", to))
    if cc:
        headers.append(("Cc", cc))
    headers.append(("Subject", one_line(f"[Thi đua] Kết quả kiểm tra báo cáo{month} – {_text(about, 200)}")))
    if submission.file.message_id:  # the reply threads under the unit's own message
        headers += [("In-Reply-To", submission.file.message_id), ("References", submission.file.message_id)]
    body = _email_body(submission, config, period, annotated_path.name)
    return atomic.write_bytes(
        Path(out_path), draft_bytes(headers, body, annotated_path.name, annotated_path.read_bytes())
    )


def draft_bytes(headers: Sequence[tuple[str, object]], body: str, filename: str, attachment: bytes) -> bytes:
    """The draft as the email package writes it: an EmailMessage with these headers, the body as
    quoted-printable text and the attachment, under DRAFT_POLICY. The package checks every header as it
    is set; the texts that come from received files (names, addresses) are made one line before."""
    message = EmailMessage(policy=email.policy.default)
    for name, value in headers:
        message[name] = value
    message["X-Unsent"] = "1"  # Outlook opens the file as a new message ready to send
    message.set_content(body, cte="quoted-printable")
    maintype, subtype = XLSX_MIME
    message.add_attachment(attachment, maintype=maintype, subtype=subtype, filename=one_line(filename))
    # A fixed boundary derived from the content: the same inputs give the same bytes.
    digest = hashlib.sha256(body.encode("utf-8") + attachment).hexdigest()
    message.set_boundary(f"thidua-{digest[:32]}")
    return message.as_bytes(policy=DRAFT_POLICY)


# ------------------------------------------------------------------------------------------------
# 4. All feedback of one period


def feedback_file_name(submission: Submission, number: int = 1) -> str:
    """`<UNIT>_<original-stem>_kiem-tra.xlsx` (`…_kiem-tra-2.xlsx` for the second of one name), a name
    every system takes whatever the attachment was called (vntext.safe_file_name)."""
    original = _original_name(submission.file)
    stem = safe_file_name(Path(one_line(original).replace("\\", "/")).stem)
    copy = f"-{number}" if number > 1 else ""
    return safe_file_name(f"{submission.unit_code or 'CHUA-RO-DON-VI'}_{stem}", f"_kiem-tra{copy}.xlsx")


def write_feedback(
    submissions: Iterable[Submission],
    config: Config,
    period: Period,
    out_dir: Path,
    load: Callable[[ReceivedFile], bytes],
) -> list[Path]:
    """Annotated copies and e-mail drafts for the files in use with findings, and the clerk's report.

    Files: out_dir/phan-hoi/<UNIT>_<stem>_kiem-tra.xlsx and .eml beside it, out_dir/kiem-tra-<period>.xlsx.
    A unit's feedback that cannot be written becomes a finding on its file in the report.
    """
    submissions = sorted(submissions, key=lambda s: _submission_key(config, s))
    reported = list(submissions)
    out_dir = Path(out_dir)
    folder = out_dir / FEEDBACK_DIR
    written: list[Path] = []
    used: set[str] = set()
    for index, submission in enumerate(submissions):
        if not needs_feedback(submission, period):
            continue
        # What only the clerk can act on ("giải nén … rồi chạy lại") is in the report, never sent.
        for_the_unit = dataclasses.replace(submission, findings=for_unit(submission.findings))
        name, number = feedback_file_name(submission), 1
        while name.lower() in used:
            number += 1
            name = feedback_file_name(submission, number)
        used.add(name.lower())
        data = b""
        if submission.status is not FileStatus.UNREADABLE:
            try:
                data = load(submission.file)
            except (OSError, UserError):
                data = b""  # the file went away since ingest: the findings sheet alone still helps
        xlsx = folder / name
        try:
            xlsx = write_annotated_copy(for_the_unit, data, xlsx, config=config)
            # No address to write to: the clerk is told (run_report.clerk_task), no draft to nobody.
            if not has_recipient(submission, config):
                written.append(xlsx)
                continue
            eml = write_feedback_email(for_the_unit, config, xlsx, xlsx.with_suffix(".eml"), period=period)
        except Exception as exc:  # one unit's feedback must not cost the period its results
            with contextlib.suppress(OSError):  # a copy without its draft would not be in the manifest
                xlsx.unlink(missing_ok=True)
            finding = _feedback_not_written(submission, exc)
            reported[index] = dataclasses.replace(submission, findings=[*submission.findings, finding])
            continue
        written += [xlsx, eml]
    written.append(write_validation_report(reported, config, period, out_dir / f"kiem-tra-{period}.xlsx"))
    return written


def _feedback_not_written(submission: Submission, exc: Exception) -> Finding:
    if isinstance(exc, UserError):
        reason = str(exc)
    else:
        reason = catalogue.hint("program_error", error_type=type(exc).__name__, error=exc)
    return catalogue.finding("feedback_not_written", submission.file.display_name, reason=_text(reason, 300))
