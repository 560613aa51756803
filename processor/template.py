"""The unit report workbook: the blank master form and one prepared workbook per unit and month.

Everything is derived from the fields of the form version config names (form.current_version): a new
`Field` there gets its column (or row), its drop-down or number validation, its number format and its line
in the guide, with no change here. The layout follows the contract in the project brief, which reader and
validate rely on.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.formatting.rule import Rule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from processor import form
from processor.config import Config, Unit
from processor.form import Field, Kind
from processor.records import Period, PersonRecord, UserError
from processor.render.atomic import write_bytes
from processor.vntext import format_date, format_int

TITLE = "BÁO CÁO KẾT QUẢ THỰC HIỆN PHONG TRÀO THI ĐUA"
UNIT_HEADERS = ("Nội dung", "Số liệu", "Hướng dẫn")
GUIDE_TITLE = "HƯỚNG DẪN ĐIỀN BIỂU MẪU BÁO CÁO THI ĐUA"
MASTER_FILE_NAME = "bieu-mau-bao-cao-thi-dua.xlsx"

# Excel refuses an inline list longer than 255 characters; such lists go to the metadata sheet,
# from this column on, one list a column, and the validation points at that range.
INLINE_LIST_LIMIT = 255
HELPER_FIRST_COLUMN = 4  # column D of form.META_SHEET; A and B hold the key/value metadata

# The earliest and latest dates a date cell accepts (Excel serial numbers are computed from them).
DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2100, 12, 31)

# Timestamp written into the master form's document properties and zip entries, so that
# regenerating the committed form gives the same bytes (no "now" in outputs).
MASTER_STAMP = dt.datetime(2024, 1, 1, 0, 0, 0)

FONT_NAME = "Times New Roman"
FONT_SIZE = 12
FONT_NORMAL = Font(name=FONT_NAME, size=FONT_SIZE)
FONT_BOLD = Font(name=FONT_NAME, size=FONT_SIZE, bold=True)
FONT_TITLE = Font(name=FONT_NAME, size=14, bold=True)
FONT_SUBTITLE = Font(name=FONT_NAME, size=FONT_SIZE, italic=True, bold=True)
FONT_HELP = Font(name=FONT_NAME, size=11, italic=True, color="404040")
FILL_HEADER = PatternFill("solid", fgColor="D9E2F3")  # light blue: column headers
FILL_LABEL = PatternFill("solid", fgColor="F2F2F2")  # light grey: row labels
FILL_INPUT = PatternFill("solid", fgColor="FFF8DC")  # pale yellow: cells the unit fills
FILL_SECTION = PatternFill("solid", fgColor="E2EFDA")  # light green: guide section headings
THIN = Side(style="thin", color="808080")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
LOCKED = Protection(locked=True)
UNLOCKED = Protection(locked=False)
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
WRAP_CENTER = Alignment(wrap_text=True, vertical="center", horizontal="center")
WRAP_LEFT = Alignment(wrap_text=True, vertical="center", horizontal="left", indent=1)

NUMBER_FORMATS = {
    Kind.MONEY: "#,##0",
    Kind.INT: "0",
    Kind.DATE: "dd/mm/yyyy",
    # Text format keeps leading zeros (phone), stops 02/2024 turning into a date and stops a
    # typed "=..." becoming a formula.
    Kind.TEXT: "@",
    Kind.CODE: "@",
    Kind.PERIOD: "@",
    Kind.PHONE: "@",
    Kind.CHOICE: "@",
}

# Staff columns the office may prefill from last month ("templates that remember"): who the person
# is, never what they did this month.
PREFILL_KEYS = (
    "seq", "name", "birth_date", "position", "category", "gender", "ethnicity", "recruited_on", "leader"
)  # fmt: skip

UNIT_COLUMN_WIDTHS = (46, 34, 62)
GUIDE_COLUMN_WIDTHS = (30, 95)


# ------------------------------------------------------------------------------------------------
# Texts shared with the sample generator (devtools/samples.py writes filled workbooks with the same labels)


def subtitle(config: Config, period: Period | None) -> str:
    if period is None:
        return "Mẫu báo cáo hằng tháng — ghi mã đơn vị và kỳ báo cáo vào cột “Số liệu”"
    return f"{config.campaign_for(period).name} — Tháng {period.label}"


def clerk_unit_name(config: Config) -> str:
    unit = config.unit(config.office.clerk_unit)
    return unit.name if unit else config.office.clerk_unit


def _deadline_text(config: Config, period: Period | None) -> str:
    if period is not None:
        due = config.campaign_for(period).due_date(period)
        return f"Chậm nhất ngày {format_date(due)}."
    days = sorted({c.report_due_day for c in config.campaigns})
    if len(days) == 1:
        return f"Chậm nhất ngày {days[0]:02d} của tháng sau tháng báo cáo."
    per_campaign = "; ".join(f"{c.name}: ngày {c.report_due_day:02d}" for c in config.campaigns)
    return f"Chậm nhất vào ngày quy định của tháng sau tháng báo cáo ({per_campaign})."


def allowed_values_text(config: Config, field: Field, period: Period | None = None) -> str:
    """What a field accepts, in words: completes the field's help in the guide."""
    if field.kind is Kind.CHOICE and field.choices is not None:
        labels = [o.label for o in form.choice_options(config, field.choices)]
        return "Chọn một trong: " + "; ".join(labels) + "."
    if field.kind is Kind.CODE:
        if len(config.units) <= 30:
            return "Các mã: " + ", ".join(u.code for u in config.units) + "."
        return "Theo danh sách mã đơn vị của " + clerk_unit_name(config) + "."
    if field.kind in (Kind.INT, Kind.MONEY):
        return _number_range_text(field, with_unit=False)
    if field.kind is Kind.DATE:
        return f"Ví dụ {format_date(form.date_example(field, period))}."
    if field.kind is Kind.PHONE:
        return "Ví dụ 0214 3840 123 hoặc 0912 345 678."
    if field.kind is Kind.TEXT and field.maximum and f"{format_int(field.maximum)} ký tự" not in field.help:
        return f"Không quá {format_int(field.maximum)} ký tự."
    return ""


def error_text(config: Config, field: Field, period: Period | None = None) -> str:
    """The message Excel shows when a typed value is refused: what is wrong and what to enter."""
    if field.kind is Kind.CHOICE:
        what = "Chọn giá trị trong danh sách (bấm mũi tên bên phải ô)."
    elif field.kind is Kind.CODE:
        what = "Chọn mã đơn vị trong danh sách (bấm mũi tên bên phải ô)."
    elif field.kind in (Kind.INT, Kind.MONEY):
        what = "Nhập " + _number_range_text(field)[0].lower() + _number_range_text(field)[1:]
    elif field.kind is Kind.DATE:
        what = f"Nhập ngày dạng dd/mm/yyyy, ví dụ {format_date(form.date_example(field, period))}."
    elif field.kind is Kind.PERIOD:
        what = "Nhập tháng báo cáo dạng MM/YYYY, ví dụ 02/2024."
    elif field.maximum:
        what = f"Nhập không quá {format_int(field.maximum)} ký tự."
    else:
        what = field.help
    return f"Giá trị không hợp lệ ở ô “{field.label}”. {what}"[:225]


def _number_range_text(field: Field, with_unit: bool = True) -> str:
    unit = " (tính bằng đồng, chỉ ghi số)" if with_unit and field.kind is Kind.MONEY else ""
    low = field.minimum if field.minimum is not None else 0
    if field.maximum is not None:
        return f"Số nguyên từ {format_int(low)} đến {format_int(field.maximum)}{unit}."
    return f"Số nguyên từ {format_int(low)} trở lên{unit}."


def guide_rows(config: Config, unit: Unit | None, period: Period | None) -> list[tuple[str, str, bool]]:
    """The `Hướng dẫn` sheet as (column A, column B, is_heading) rows below its title."""
    clerk_name = clerk_unit_name(config)
    rows: list[tuple[str, str, bool]] = [("I. THÔNG TIN CHUNG", "", True)]
    if unit is not None:
        rows.append(("Đơn vị", f"{unit.name} (mã {unit.code})", False))
    if period is not None:
        rows.append(("Kỳ báo cáo", f"Tháng {period.label} — {config.campaign_for(period).name}", False))
    rows += [
        ("Hạn gửi báo cáo", _deadline_text(config, period), False),
        (
            "Nơi nhận",
            f"{clerk_name}, thư điện tử {config.office.clerk_email}. Gửi tệp Excel này (định dạng .xlsx) "
            "làm tệp đính kèm; mỗi đơn vị một tệp cho mỗi tháng.",
            False,
        ),
        (
            "Gửi bản sửa",
            "Nếu phát hiện sai sót sau khi gửi, sửa trên chính tệp này và gửi lại; ghi “bản sửa” ở tiêu đề "
            "thư. Bản nhận sau cùng được dùng để tổng hợp.",
            False,
        ),
        (
            "Cách điền",
            "Điền vào các ô không khóa (ô nền vàng ở sheet “Đơn vị”, các dòng từ dòng 2 ở sheet “Cá nhân”). "
            "Chọn ô để xem hướng dẫn; các ô có mũi tên thì chọn giá trị trong danh sách.",
            False,
        ),
        ("II. SHEET “ĐƠN VỊ”", "Mỗi dòng một nội dung; ghi số liệu vào cột “Số liệu”.", True),
    ]
    version = form.current_version(config)
    rows += [_field_guide_row(config, f, period) for f in version.unit_fields]
    rows.append(
        (
            "III. SHEET “CÁ NHÂN”",
            "Mỗi cán bộ, công chức, viên chức, người lao động của đơn vị ghi một dòng, bắt đầu từ dòng 2, "
            "không để dòng trống xen giữa. Thiếu dòng thì chèn thêm dòng hoặc ghi tiếp xuống dưới.",
            True,
        )
    )
    rows += [_field_guide_row(config, f, period) for f in version.staff_fields]
    rows += [
        ("IV. LƯU Ý", "", True),
        (
            "Không đổi cấu trúc",
            "Không đổi tên sheet, không xóa cột, không sửa tiêu đề cột và nhãn nội dung.",
            False,
        ),
        (
            "Bảo vệ sheet",
            "Tiêu đề và nhãn được khóa để tránh sửa nhầm (không đặt mật khẩu); vẫn chèn được dòng và định "
            f"dạng ô. Cần thay đổi khác, liên hệ {clerk_name}.",
            False,
        ),
        ("Ngày tháng, số tiền", "Ngày ghi dạng dd/mm/yyyy; số tiền và số lượng chỉ ghi số.", False),
        ("Sheet ẩn", "Tệp có một sheet ẩn chứa mã biểu mẫu; không xóa, không sửa.", False),
    ]
    return rows


def _field_guide_row(config: Config, field: Field, period: Period | None = None) -> tuple[str, str, bool]:
    need = "Bắt buộc." if field.required else "Không bắt buộc."
    parts = [field.help, allowed_values_text(config, field, period), need]
    return field.label, " ".join(p for p in parts if p), False


def meta_rows(
    unit: Unit | None, period: Period | None, version: str = form.LATEST_VERSION
) -> list[tuple[str, str]]:
    return [
        ("form_id", form.FORM_ID),
        ("form_version", version),
        ("unit_code", unit.code if unit else ""),
        ("period", str(period) if period else ""),
    ]


def unit_prefill(unit: Unit | None, period: Period | None) -> dict[str, object]:
    """Values of the `Đơn vị` sheet the office fills in before sending the workbook."""
    values: dict[str, object] = {}
    if unit is not None:
        values["unit_code"] = unit.code
        values["unit_name"] = unit.name
    if period is not None:
        values["period"] = period.label
    return values


def print_header_text(unit: Unit | None, period: Period | None) -> str:
    if unit is None:
        return "Báo cáo kết quả thực hiện phong trào thi đua"
    return unit.name + (f" — Báo cáo thi đua tháng {period.label}" if period else "")


def set_text(cell, value: str) -> None:
    """Write text that must stay text: a value typed by a unit starting with = + - @ is no formula."""
    cell.value = value
    cell.data_type = "s"


# ------------------------------------------------------------------------------------------------
# Data validation


def _validation(
    config: Config, field: Field, list_ranges: dict[str, str], period: Period | None = None
) -> DataValidation:
    """The validation of one field: a drop-down, a number or date range, or just the help prompt."""
    kwargs: dict[str, object] = {}
    if field.kind in (Kind.CHOICE, Kind.CODE):
        kwargs = {"type": "list", "formula1": list_ranges[_list_id(field)]}
    elif field.kind in (Kind.INT, Kind.MONEY):
        low = field.minimum if field.minimum is not None else 0
        if field.maximum is not None:
            bounds = {"formula1": str(low), "formula2": str(field.maximum)}
            kwargs = {"type": "whole", "operator": "between", **bounds}
        else:
            kwargs = {"type": "whole", "operator": "greaterThanOrEqual", "formula1": str(low)}
    elif field.kind is Kind.DATE:
        kwargs = {
            "type": "date",
            "operator": "between",
            "formula1": str(int(to_excel(DATE_MIN))),
            "formula2": str(int(to_excel(DATE_MAX))),
        }
    elif field.kind is Kind.PERIOD:
        kwargs = {"type": "textLength", "operator": "equal", "formula1": "7"}
    elif field.kind is Kind.TEXT and field.maximum:
        kwargs = {"type": "textLength", "operator": "lessThanOrEqual", "formula1": str(field.maximum)}
    validation = DataValidation(
        allow_blank=True,
        showInputMessage=True,
        showErrorMessage="type" in kwargs,
        promptTitle=field.label if len(field.label) <= 32 else field.label[:31].rstrip() + "…",
        prompt=field.help[:255],
        errorTitle="Giá trị không hợp lệ",
        error=error_text(config, field, period),
        errorStyle="stop",
        **kwargs,
    )
    return validation


def _list_id(field: Field) -> str:
    """Fields sharing a choice list share its drop-down (and its helper range)."""
    return field.choices.value if field.choices is not None else field.kind.value


def _choice_lists(config: Config) -> dict[str, list[str]]:
    """The drop-down values of every choice or code field, keyed by list id."""
    lists: dict[str, list[str]] = {}
    version = form.current_version(config)
    for field in (*version.unit_fields, *version.staff_fields):
        if field.kind is Kind.CHOICE and field.choices is not None:
            lists[_list_id(field)] = [o.label for o in form.choice_options(config, field.choices)]
        elif field.kind is Kind.CODE:
            lists[_list_id(field)] = [u.code for u in config.units]
    return lists


def _needs_range(values: Sequence[str]) -> bool:
    return len(",".join(values)) > INLINE_LIST_LIMIT or any("," in v or '"' in v for v in values)


def _list_formulas(config: Config, meta: Worksheet) -> dict[str, str]:
    """formula1 of each drop-down: inline when short, else a range of the metadata sheet."""
    formulas: dict[str, str] = {}
    column = HELPER_FIRST_COLUMN
    for key, values in _choice_lists(config).items():
        if not _needs_range(values):
            formulas[key] = '"' + ",".join(values) + '"'
            continue
        letter = get_column_letter(column)
        meta.cell(1, column, f"list:{key}").font = FONT_BOLD
        for row, value in enumerate(values, 2):
            set_text(meta.cell(row, column), value)
        formulas[key] = f"{quote_sheetname(form.META_SHEET)}!${letter}$2:${letter}${len(values) + 1}"
        column += 1
    return formulas


# ------------------------------------------------------------------------------------------------
# Sheets


def page_setup(ws, header: str, landscape: bool = True) -> None:
    """A4, fit to the page width, header with the unit, footer with the page number."""
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.75
    ws.oddHeader.center.text = header
    ws.oddHeader.center.font = f"{FONT_NAME},Italic"
    ws.oddHeader.center.size = 10
    ws.oddFooter.center.text = "Trang &P/&N"
    ws.oddFooter.center.font = FONT_NAME
    ws.oddFooter.center.size = 10
    ws.oddFooter.right.text = "&A"
    ws.oddFooter.right.font = FONT_NAME
    ws.oddFooter.right.size = 10


def _protect(ws: Worksheet) -> None:
    """Lock labels against accidental edits; no password, rows can be inserted and cells formatted.

    In OOXML a True flag means the action is forbidden, so False here means allowed.
    """
    protection = ws.protection
    protection.sheet = True
    protection.formatCells = False
    protection.formatColumns = False
    protection.formatRows = False
    protection.insertRows = False
    protection.deleteRows = False
    protection.sort = False
    protection.autoFilter = False
    protection.insertColumns = True
    protection.deleteColumns = True


def _write_value(cell, field: Field, value: object) -> None:
    if isinstance(value, str):
        set_text(cell, value)
    else:
        cell.value = value
    cell.number_format = NUMBER_FORMATS[field.kind]


def _build_unit_sheet(
    ws: Worksheet, config: Config, unit: Unit | None, period: Period | None, lists: dict[str, str]
) -> None:
    for column, width in enumerate(UNIT_COLUMN_WIDTHS, 1):
        ws.column_dimensions[get_column_letter(column)].width = width
    ws.merge_cells("A1:C1")
    ws.merge_cells("A2:C2")
    title, sub = ws["A1"], ws["A2"]
    set_text(title, TITLE)
    title.font, title.alignment = FONT_TITLE, WRAP_CENTER
    set_text(sub, subtitle(config, period))
    sub.font, sub.alignment = FONT_SUBTITLE, WRAP_CENTER
    ws.row_dimensions[1].height = 24
    ws.row_dimensions[2].height = 22
    for column, text in enumerate(UNIT_HEADERS, 1):
        cell = ws.cell(form.UNIT_FIRST_ROW - 1, column)
        set_text(cell, text)
        cell.font, cell.fill, cell.border, cell.alignment = FONT_BOLD, FILL_HEADER, BORDER, WRAP_CENTER
    values = unit_prefill(unit, period)
    unit_fields = form.current_version(config).unit_fields
    for row, field in enumerate(unit_fields, form.UNIT_FIRST_ROW):
        label, value, help_cell = ws.cell(row, 1), ws.cell(row, 2), ws.cell(row, 3)
        set_text(label, field.label)
        label.font = FONT_BOLD if field.required else FONT_NORMAL
        label.fill, label.border, label.alignment = FILL_LABEL, BORDER, WRAP_LEFT
        _write_value(value, field, values.get(field.key))
        long_text = field.kind is Kind.TEXT and (field.maximum or 0) > 255
        value.font, value.fill, value.border = FONT_NORMAL, FILL_INPUT, BORDER
        value.alignment = Alignment(wrap_text=True, vertical="top", indent=1) if long_text else WRAP_LEFT
        value.protection = UNLOCKED
        set_text(help_cell, field.help)
        help_cell.font, help_cell.border, help_cell.alignment = FONT_HELP, BORDER, WRAP_LEFT
        validation = _validation(config, field, lists, period)
        validation.add(value.coordinate)
        ws.add_data_validation(validation)
        ws.row_dimensions[row].height = 75 if long_text else 24
    ws.row_dimensions[form.UNIT_FIRST_ROW - 1].height = 21
    last = form.UNIT_FIRST_ROW + len(unit_fields) - 1
    # Below the table: a legend, and the signature block of a printed report. Column A holds no
    # caption here, so a reader looking for field labels in column A never mistakes one for a field.
    legend = ws.cell(last + 1, 1)
    set_text(legend, "Ô nền vàng do đơn vị điền; nội dung in đậm là bắt buộc.")
    legend.font = FONT_HELP
    for column, caption in ((2, "NGƯỜI LẬP BIỂU"), (3, "THỦ TRƯỞNG ĐƠN VỊ")):
        head, note = ws.cell(last + 3, column), ws.cell(last + 4, column)
        set_text(head, caption)
        set_text(note, "(Ký, ghi rõ họ tên)")
        head.font, head.alignment = FONT_BOLD, WRAP_CENTER
        note.font, note.alignment = Font(name=FONT_NAME, size=FONT_SIZE, italic=True), WRAP_CENTER
    ws.print_area = f"A1:C{last + 8}"
    page_setup(ws, print_header_text(unit, period))
    _protect(ws)


def _build_staff_sheet(
    ws: Worksheet,
    config: Config,
    unit: Unit | None,
    period: Period | None,
    people: Sequence[PersonRecord],
    lists: dict[str, str],
) -> None:
    fields = form.current_version(config).staff_fields
    header_row = form.STAFF_HEADER_ROW
    first, last = header_row + 1, header_row + max(form.STAFF_ROWS, len(people) + 50)
    labels = {o.value: o.label for o in form.choice_options(config, form.ChoiceList.CATEGORY)}
    yes_no = {o.value: o.label for o in form.choice_options(config, form.ChoiceList.YES_NO)}
    for column, field in enumerate(fields, 1):
        letter = get_column_letter(column)
        ws.column_dimensions[letter].width = field.width
        head = ws.cell(header_row, column)
        set_text(head, field.label)
        head.font, head.fill, head.border, head.alignment = FONT_BOLD, FILL_HEADER, BORDER, WRAP_CENTER
        align = WRAP_LEFT if field.kind in (Kind.TEXT, Kind.PHONE) else WRAP_CENTER
        number_format = NUMBER_FORMATS[field.kind]
        for row in range(first, last + 1):
            cell = ws.cell(row, column)
            cell.font, cell.alignment = FONT_NORMAL, align
            cell.number_format, cell.protection = number_format, UNLOCKED
        validation = _validation(config, field, lists, period)
        validation.add(f"{letter}{first}:{letter}{last}")
        ws.add_data_validation(validation)
    ws.row_dimensions[header_row].height = 48
    # A row gets its borders once something is typed in it: the table grows with the list, and a
    # printout stops at the last person instead of running on over hundreds of empty bordered rows.
    last_letter = get_column_letter(len(fields))
    ws.conditional_formatting.add(
        f"A{first}:{last_letter}{last}",
        Rule(
            type="expression",
            formula=[f"COUNTA($A{first}:${last_letter}{first})>0"],
            dxf=DifferentialStyle(border=BORDER),
        ),
    )
    columns = {f.key: i for i, f in enumerate(fields, 1)}
    for seq, person in enumerate(people, 1):
        row = first + seq - 1
        known = {
            "seq": seq,
            "name": person.name,
            "birth_date": person.birth_date,
            "position": person.position,
            "category": labels.get(person.category, person.category),
            "gender": person.gender,
            "ethnicity": person.ethnicity,
            "recruited_on": person.recruited_on,
            "leader": yes_no.get(person.leader),
        }
        for key in PREFILL_KEYS:
            if key in columns and known.get(key) not in (None, ""):
                field = fields[columns[key] - 1]
                _write_value(ws.cell(row, columns[key]), field, known[key])
    ws.freeze_panes = ws.cell(first, 3).coordinate  # header and the STT / name columns stay in view
    ws.print_title_rows = f"{header_row}:{header_row}"
    page_setup(ws, print_header_text(unit, period))
    _protect(ws)


def _build_guide_sheet(ws: Worksheet, config: Config, unit: Unit | None, period: Period | None) -> None:
    for column, width in enumerate(GUIDE_COLUMN_WIDTHS, 1):
        ws.column_dimensions[get_column_letter(column)].width = width
    ws.merge_cells("A1:B1")
    set_text(ws["A1"], GUIDE_TITLE)
    ws["A1"].font, ws["A1"].alignment = FONT_TITLE, WRAP_CENTER
    ws.row_dimensions[1].height = 24
    for row, (label, text, heading) in enumerate(guide_rows(config, unit, period), 3):
        left, right = ws.cell(row, 1), ws.cell(row, 2)
        set_text(left, label)
        if text:
            set_text(right, text)
        left.font = FONT_BOLD
        right.font = FONT_BOLD if heading else FONT_NORMAL
        for cell in (left, right):
            cell.border, cell.alignment = BORDER, WRAP_TOP
            if heading:
                cell.fill = FILL_SECTION
        ws.row_dimensions[row].height = guide_row_height(label, text)
    page_setup(ws, print_header_text(unit, period), landscape=False)
    ws.protection.sheet = True


def guide_row_height(label: str, text: str) -> float:
    """openpyxl cannot measure wrapped text: estimate the lines so the printout shows all of it."""
    lines = max(1, -(-len(text) // 115), -(-len(label) // 32))
    return 16.5 * lines + 3


def _build_meta_sheet(ws: Worksheet, config: Config, unit: Unit | None, period: Period | None) -> None:
    version = form.current_version(config).version
    for row, (key, value) in enumerate(meta_rows(unit, period, version), 1):
        set_text(ws.cell(row, 1), key)
        if value:
            set_text(ws.cell(row, 2), value)
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 24
    ws.sheet_state = "hidden"
    ws.protection.sheet = True


def build_workbook(
    config: Config,
    unit: Unit | None,
    period: Period | None,
    prefill: Sequence[PersonRecord] | None = None,
) -> Workbook:
    """The report workbook of one unit and month; with no unit and no period, the blank master form."""
    wb = Workbook()
    unit_ws = wb.active
    unit_ws.title = form.UNIT_SHEET
    staff_ws = wb.create_sheet(form.STAFF_SHEET)
    guide_ws = wb.create_sheet(form.GUIDE_SHEET)
    meta_ws = wb.create_sheet(form.META_SHEET)
    _build_meta_sheet(meta_ws, config, unit, period)
    lists = _list_formulas(config, meta_ws)
    _build_unit_sheet(unit_ws, config, unit, period, lists)
    _build_staff_sheet(staff_ws, config, unit, period, prefill or (), lists)
    _build_guide_sheet(guide_ws, config, unit, period)
    wb.active = 0
    stamp = dt.datetime(period.year, period.month, 1) if period else MASTER_STAMP
    wb.properties.creator = "thidua"
    wb.properties.lastModifiedBy = "thidua"
    wb.properties.title = TITLE.capitalize() if unit is None else f"{TITLE.capitalize()} — {unit.name}"
    wb.properties.created = stamp
    wb.properties.modified = stamp
    return wb


# ------------------------------------------------------------------------------------------------
# Saving


_MODIFIED = re.compile(rb"<dcterms:modified([^>]*)>[^<]*</dcterms:modified>")


def workbook_bytes(wb: Workbook, stamp: dt.datetime) -> bytes:
    """Save `wb` with every timestamp set to `stamp`, so the same workbook gives the same bytes.

    openpyxl stamps the zip entries and docProps/core.xml with the time of saving.
    """
    raw = io.BytesIO()
    wb.save(raw)
    return normalize_xlsx(raw.getvalue(), stamp)


def normalize_xlsx(data: bytes, stamp: dt.datetime) -> bytes:
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _MODIFIED.sub(rb"<dcterms:modified\1>" + iso + rb"</dcterms:modified>", content)
            entry = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, content)
    return out.getvalue()


def _stamp(period: Period | None) -> dt.datetime:
    return dt.datetime(period.year, period.month, 1) if period else MASTER_STAMP


def write_master_form(config: Config, out_path: Path) -> Path:
    """The blank form (no unit, no period) shipped in input_templates/."""
    wb = build_workbook(config, None, None)
    return write_bytes(Path(out_path), workbook_bytes(wb, MASTER_STAMP))


def resolve_units(config: Config, unit_codes: Sequence[str] | None) -> list[Unit]:
    if not unit_codes:
        return list(config.units)
    units, unknown = [], []
    for code in unit_codes:
        unit = config.unit(code.strip())
        if unit is None:
            unknown.append(code)
        elif unit not in units:
            units.append(unit)
    if unknown:
        valid = ", ".join(u.code for u in config.units)
        listed = ", ".join(f"“{c}”" for c in unknown)
        raise UserError(f"Không có đơn vị mã {listed} trong config.toml. Các mã hợp lệ: {valid}.")
    return units


def write_unit_workbooks(
    config: Config,
    period: Period,
    out_dir: Path,
    unit_codes: list[str] | None = None,
    prefill: Mapping[str, Sequence[PersonRecord]] | None = None,
) -> list[Path]:
    """One prepared workbook per unit for `period`, named like 2024-02_TCHC_bao-cao-thi-dua.xlsx."""
    units = resolve_units(config, unit_codes)
    config.campaign_for(period)  # a period outside every campaign is a UserError before any file
    prefill = {code.upper(): people for code, people in (prefill or {}).items()}
    paths = []
    for unit in units:
        wb = build_workbook(config, unit, period, prefill.get(unit.code.upper()))
        path = Path(out_dir) / form.template_file_name(str(period), unit.code)
        paths.append(write_bytes(path, workbook_bytes(wb, _stamp(period))))
    return paths
