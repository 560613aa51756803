"""tong-hop.xlsx: the clerk's workbook for a month, one sheet per view.

Sheets: "Chỉ tiêu" (targets, with a chart of each target's share by month), "Đơn vị" (every figure per
unit), "Cá nhân" (every person of the month with the campaign-to-date months), "Tiến độ nộp" (who
reported, when, who to remind), "So sánh tháng" (month on month), "Phân tổ" (the breakdowns by gender,
ethnic group, category, leadership: breakdown.py) and, when any file has findings, "Lỗi".

Written with openpyxl's streaming (write_only) mode, since a province has 1,000 units and 50,000 people:
rows go to disk as they are produced. Every view is a real Excel table with filters. Text that came from
units is always stored as text, never as a formula. The zip is then rewritten with fixed timestamps, so
the same result gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from processor.aggregate import (
    STATUS_LABELS,
    completeness,
    month_on_month,
    month_results,
    units_to_remind,
    verdict_label,
)
from processor.breakdown import BreakdownResult, month_staff
from processor.config import Config
from processor.records import Decision, FileStatus, PeriodResult, ReportingStatus, Submission
from processor.render import atomic
from processor.render.fastxlsx import (
    RowsXml,
    SharedStrings,
    declare_table,
    normalise_zip,
    storable,
    style_attr,
)
from processor.vntext import format_percent, given_name_sort_key

SHEET_TARGETS = "Chỉ tiêu"
SHEET_UNITS = "Đơn vị"
SHEET_PEOPLE = "Cá nhân"
SHEET_PROGRESS = "Tiến độ nộp"
SHEET_MONTHS = "So sánh tháng"
SHEET_FINDINGS = "Lỗi"
SHEET_DECISIONS = "Khen thưởng"
SHEET_BREAKDOWNS = "Phân tổ"

FMT_INT = "#,##0"
FMT_SHARE = "0.0%"
FMT_CHANGE_SHARE = "+0.0%;-0.0%;0.0%"
FMT_CHANGE_INT = "+#,##0;-#,##0;0"
FMT_DATE = "dd/mm/yyyy"
FMT_DATETIME = "dd/mm/yyyy hh:mm"

NO_DATA = "—"  # a month without data: never 0
YES_NO = {True: "Có", False: "Không"}
FILE_STATUS_LABELS = {
    FileStatus.ACCEPTED: "Đã tiếp nhận",
    FileStatus.ACCEPTED_PARTIAL: "Dùng các dòng hợp lệ",
    FileStatus.REJECTED: "Có lỗi, chưa dùng",
    FileStatus.UNREADABLE: "Không đọc được",
    FileStatus.DUPLICATE: "Trùng tệp đã nhận",
    FileStatus.SUPERSEDED: "Đã có bản mới hơn",
    FileStatus.OTHER_PERIOD: "Báo cáo kỳ khác",
}

# Characters that make a spreadsheet treat typed text as a formula (CSV/formula injection).
_FORMULA_START = ("=", "+", "-", "@")


_storable = storable


_TITLE_FONT = Font(bold=True, size=14)
_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")


@dataclass(frozen=True)
class Col:
    header: str
    width: float = 12
    fmt: str | None = None  # number format; None: General (or text)
    wrap: bool = False


class _Sheet:
    """A streaming sheet that writes rows with formats and keeps unit text as text.

    In write_only mode openpyxl writes the sheet's head (column widths, frozen panes) with the first
    row, so both are given here, before any row.
    """

    def __init__(self, wb: Workbook, title: str, cols: Sequence[Col], freeze: str | None = None) -> None:
        self.ws = wb.create_sheet(title)
        self.row = 0
        self.closed = False
        for index, col in enumerate(cols, 1):
            self.ws.column_dimensions[get_column_letter(index)].width = col.width
        if freeze:
            self.ws.freeze_panes = freeze
            # The frozen header row is repeated on every printed page.
            header_row = int(re.sub(r"[A-Z]+", "", freeze)) - 1
            self.ws.print_title_rows = f"{header_row}:{header_row}"
            # Headers wrap; not every spreadsheet grows the row to fit on its own.
            self.ws.row_dimensions[header_row].height = 48
        # Wide views print landscape on A4, one page wide.
        self.ws.page_setup.orientation = "landscape"
        self.ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
        self.ws.page_setup.fitToWidth = 1
        self.ws.page_setup.fitToHeight = 0
        self.ws.sheet_properties.pageSetUpPr.fitToPage = True

    def cell(self, value: object, fmt: str | None = None, font: Font | None = None, wrap: bool = False):
        if isinstance(value, str):
            return self.text(value, font, wrap)
        if value is None:
            return None
        if isinstance(value, Fraction):
            value = float(value)
        elif isinstance(value, dt.datetime) and value.tzinfo is not None:
            # Excel has no time zones: show the time as the sender's clock read it.
            value = value.replace(tzinfo=None)
        if fmt is None and font is None:
            return value
        cell = WriteOnlyCell(self.ws, value)
        if fmt:
            cell.number_format = fmt
        if font:
            cell.font = font
        return cell

    def text(self, value: str, font: Font | None = None, wrap: bool = False):
        value = _storable(value)
        risky = value.startswith(_FORMULA_START) or value in ERROR_CODES
        if not (risky or font or wrap):
            return value
        cell = WriteOnlyCell(self.ws, value)
        cell.data_type = "s"  # after the value: openpyxl would otherwise store "=..." as a formula
        if font:
            cell.font = font
        if wrap:
            cell.alignment = _WRAP
        return cell

    def append(self, values: Iterable[object]) -> None:
        assert not self.closed, "a fast table ends its sheet"
        self.ws.append(list(values))
        self.row += 1

    def line(self, text: str = "", font: Font | None = None) -> None:
        self.append([self.text(text, font)] if text else [])

    def header(self, cols: Sequence[Col]) -> int:
        self.append([self.text(c.header, _BOLD, wrap=True) for c in cols])
        return self.row

    def add_table(self, name: str, cols: Sequence[Col], header: int) -> None:
        """Declare rows `header`..current as an Excel table with filters (at least one data row)."""
        if self.row == header:
            self.append([])
        ref = f"A{header}:{get_column_letter(len(cols))}{self.row}"
        declare_table(self.ws, name, ref, [col.header for col in cols])

    def fast_table(
        self,
        name: str,
        cols: Sequence[Col],
        rows: Iterable[Sequence[object]],
        strings: SharedStrings,
        tail: int = 0,
    ) -> RowsXml:
        """Like `table`, for large tables that end their sheet: rows are written as XML text.

        openpyxl spends about 10 µs a cell; a province's 50,000 people would take 10 s and more.
        The rows go to a temporary file and are spliced into the sheet when the package is rewritten.
        The first column is the row's number (STT): the rows leave it out. `tail`: see RowsXml.add_rows.
        """
        header = self.header(cols)
        styles = [
            style_attr(self.ws, number_format=col.fmt, alignment=_WRAP if col.wrap else None) for col in cols
        ]
        rows_xml = RowsXml(styles, header + 1, strings=strings)
        rows_xml.add_rows(rows, numbered=True, tail=tail)
        self.row = header + rows_xml.count
        self.add_table(name, cols, header)
        if rows_xml.count == 0:
            rows_xml.count = 1  # add_table wrote the empty data row an Excel table needs
            rows_xml.next_row += 1
        self.closed = True
        return rows_xml

    def fast_styles(self, cols: Sequence[Col], values: Sequence[object], font: Font | None) -> list[str]:
        """Styles of a row after a fast table, as `cell(value, col.fmt, font)` would give them."""
        return [
            style_attr(self.ws, number_format=None if isinstance(v, str) else c.fmt, font=font)
            for v, c in zip(values, cols, strict=False)
        ]

    def table(self, name: str, cols: Sequence[Col], rows: Iterable[Sequence[object]]) -> tuple[int, int]:
        """Write a header and rows as an Excel table; returns (header row, last row)."""
        header = self.header(cols)
        for values in rows:
            self.append(self.cell(v, c.fmt, wrap=c.wrap) for v, c in zip(values, cols, strict=True))
        self.add_table(name, cols, header)
        return header, self.row


# ------------------------------------------------------------------------------------------------


def _rating_label(config: Config, code: str | None) -> str | None:
    if code is None:
        return None
    return next((r.label for r in config.ratings if r.code == code), code)


def _category_label(config: Config, code: str) -> str:
    return next((c.label for c in config.staff_categories if c.code == code), code)


def _share(numerator: int, denominator: int) -> Fraction | None:
    return Fraction(numerator, denominator) if denominator else None


def _unit_names(config: Config, codes: Sequence[str]) -> str:
    names = {u.code: u.name for u in config.units}
    return "; ".join(names.get(code, code) for code in codes)


def _values(result: PeriodResult) -> dict[str, Fraction | None]:
    return {t.target_id: t.value for t in result.targets}


def _subtitle(result: PeriodResult, config: Config) -> str:
    parts = [f"Tháng {result.period.label}"]
    if result.final:
        parts.append("tổng kết đợt thi đua")
    if result.accept_partial:
        parts.append("có dùng các dòng hợp lệ của tệp có lỗi")
    return f"{config.campaign_for(result.period).name} — " + "; ".join(parts)


_TARGETS_HEADER = 5  # three lines of title and a blank line above the table


def _targets_sheet(wb: Workbook, result: PeriodResult, config: Config) -> None:
    cols = [
        Col("STT", 9),  # also the month column of the table under it
        Col("Mã chỉ tiêu", 10),
        Col("Chỉ tiêu", 60, wrap=True),
        Col("Ngưỡng", 10, FMT_SHARE),
        Col("Số đạt", 10, FMT_INT),
        Col("Tổng số", 10, FMT_INT),
        Col("Tỷ lệ", 10, FMT_SHARE),
        Col("Tỷ lệ (ghi bằng chữ số)", 12),
        Col("Kết quả", 16),
        Col("Đơn vị đã báo cáo", 12),
        Col("Đơn vị chưa đạt", 40, wrap=True),
        Col("Số người chưa đạt", 10, FMT_INT),
    ]
    sheet = _Sheet(wb, SHEET_TARGETS, cols, freeze=f"A{_TARGETS_HEADER + 1}")
    for row in range(_TARGETS_HEADER + 1, _TARGETS_HEADER + 1 + len(result.targets)):
        sheet.ws.row_dimensions[row].height = 32  # the wording of a target takes two lines
    counts = completeness(result)
    sheet.line("TỔNG HỢP KẾT QUẢ PHONG TRÀO THI ĐUA", _TITLE_FONT)
    sheet.line(_subtitle(result, config))
    sheet.line(
        f"Đơn vị đã nộp báo cáo: {counts.submitted}/{counts.expected} (đúng hạn {counts.on_time}, "
        f"nộp muộn {counts.late}); nộp nhưng có lỗi {counts.with_errors}; chưa nộp {counts.missing}."
    )
    sheet.line()
    header, _ = sheet.table(
        "ChiTieu",
        cols,
        (
            [
                i,
                t.target_id,
                t.label,
                t.threshold,
                t.numerator,
                t.denominator,
                t.value,
                format_percent(t.value),
                verdict_label(t),
                f"{t.units_reported}/{t.units_required}",
                _unit_names(config, t.blocking_units),
                len(t.blocking_people),
            ]
            for i, t in enumerate(result.targets, 1)
        ),
    )
    assert header == _TARGETS_HEADER
    sheet.line()
    sheet.line("Tỷ lệ thực hiện chỉ tiêu theo tháng", _BOLD)
    months = month_results(result)
    month_cols = [Col("Tháng", 10)] + [Col(t.target_id, 10, FMT_SHARE) for t in result.targets]
    first, last = sheet.table(
        "TheoThang",
        month_cols,
        (
            [
                m.period.label,
                *({t.target_id: t.value for t in m.targets}.get(x.target_id) for x in result.targets),
            ]
            for m in months
        ),
    )
    if result.targets:
        chart = BarChart()
        chart.type = "col"
        chart.title = "Tỷ lệ thực hiện chỉ tiêu theo tháng"
        chart.y_axis.title = "Tỷ lệ"
        chart.y_axis.number_format = "0%"
        chart.y_axis.scaling.min = 0
        chart.y_axis.scaling.max = 1
        chart.x_axis.title = "Tháng"
        # openpyxl 3.1 hides axes unless told otherwise.
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        chart.height, chart.width = 9, 18
        data = Reference(sheet.ws, min_col=2, max_col=len(month_cols), min_row=first, max_row=last)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(sheet.ws, min_col=1, min_row=first + 1, max_row=last))
        sheet.ws.add_chart(chart, f"A{last + 3}")


def _units_sheet(
    wb: Workbook, result: PeriodResult, config: Config, strings: SharedStrings
) -> tuple[object, RowsXml]:
    categories = [c.code for c in config.staff_categories]
    ratings = [r.code for r in config.ratings]
    cols = [
        Col("STT", 6),
        Col("Mã đơn vị", 10),
        Col("Tên đơn vị", 34),
        Col("Tình trạng nộp", 16),
        Col("Thời điểm nhận", 16, FMT_DATETIME),
        Col("Tệp", 30),
        Col("Tự đánh giá xếp loại tập thể", 26),
        Col("Tổng số người", 10, FMT_INT),
        *(Col(f"Số {_category_label(config, c).lower()}", 10, FMT_INT) for c in categories),
        Col("Số người đăng ký thi đua", 11, FMT_INT),
        Col("Tỷ lệ đăng ký thi đua", 11, FMT_SHARE),
        *(Col(f"Số người {config.rating(r).label.lower()}", 13, FMT_INT) for r in ratings),
        Col("Số người hoàn thành tốt nhiệm vụ trở lên", 13, FMT_INT),
        Col("Tỷ lệ hoàn thành tốt nhiệm vụ trở lên", 13, FMT_SHARE),
        Col("Số người tham gia hoạt động xã hội", 13, FMT_INT),
        Col("Tỷ lệ tham gia hoạt động xã hội", 13, FMT_SHARE),
        Col("Số sáng kiến, giải pháp", 10, FMT_INT),
        Col("Số người bị kỷ luật", 10, FMT_INT),
        Col("Số nhiệm vụ cấp trên giao", 11, FMT_INT),
        Col("Số nhiệm vụ đã hoàn thành", 11, FMT_INT),
        Col("Tỷ lệ hoàn thành nhiệm vụ", 11, FMT_SHARE),
        Col("Số tiền ủng hộ (đồng)", 15, FMT_INT),
        Col("Số hoạt động giúp đỡ xã nghèo", 11, FMT_INT),
        Col("Kết quả nổi bật", 50, wrap=True),
        Col("Ghi chú", 24),
    ]
    sheet = _Sheet(wb, SHEET_UNITS, cols, freeze="D2")

    def figures_row(f) -> list[object]:
        return [
            f.staff,
            *(f.staff_by_category.get(c, 0) for c in categories),
            f.registered,
            _share(f.registered, f.staff),
            *(f.rating_counts.get(r, 0) for r in ratings),
            f.rated_good_or_better,
            _share(f.rated_good_or_better, f.staff),
            f.social,
            _share(f.social, f.staff),
            f.initiatives,
            f.disciplined,
            f.tasks_assigned,
            f.tasks_completed,
            _share(f.tasks_completed, f.tasks_assigned),
            f.donation_vnd,
            f.support_activities,
        ]

    blank = [None] * (len(figures_row(result.totals)))

    def rows():
        for unit in result.units:
            has_report = unit.figures.units_reporting > 0
            note = "Dùng các dòng hợp lệ của tệp có lỗi" if unit.partial else None
            yield [
                unit.unit_code,
                unit.unit_name,
                STATUS_LABELS[unit.status],
                unit.received_at,
                unit.file,
                _rating_label(config, unit.self_rating),
                *(figures_row(unit.figures) if has_report else blank),
                unit.highlights or None,
                note,
            ]

    fast = sheet.fast_table("DonVi", cols, rows(), strings)
    fast.next_row += 1  # a blank line
    total_cells = [
        None,
        None,
        "Tổng cộng (các đơn vị có báo cáo)",
        f"{result.totals.units_reporting}/{len(result.units)} đơn vị",
        None,
        None,
        None,
        *figures_row(result.totals),
    ]
    fast.add(total_cells, styles=sheet.fast_styles(cols, total_cells, _BOLD))
    return sheet.ws, fast


def _people_sheet(
    wb: Workbook, result: PeriodResult, config: Config, strings: SharedStrings
) -> tuple[object, RowsXml]:
    months = result.periods_to_date
    person_cols = [  # the number and the person; the columns after them come from their history
        Col("STT", 7),
        Col("Mã đơn vị", 10),
        Col("Tên đơn vị", 28),
        Col("Họ và tên", 26),
        Col("Ngày sinh", 11, FMT_DATE),
        Col("Chức vụ", 18),
        Col("Đối tượng", 16),
    ]
    history_cols = [
        Col("Xếp loại tháng", 27),
        Col("Đăng ký thi đua", 10),
        Col("Tham gia hoạt động xã hội", 11),
        Col("Số sáng kiến, giải pháp", 10, FMT_INT),
        Col("Kỷ luật", 12),
        *(Col(f"Xếp loại tháng {p.label}", 12) for p in months),
        Col("Số tháng hoàn thành tốt nhiệm vụ trở lên", 12, FMT_INT),
        Col("Số tháng đăng ký thi đua", 11, FMT_INT),
        Col("Số tháng tham gia hoạt động xã hội", 11, FMT_INT),
        Col("Tổng số sáng kiến trong đợt", 11, FMT_INT),
    ]
    cols = person_cols + history_cols
    sheet = _Sheet(wb, SHEET_PEOPLE, cols, freeze="E2")
    unit_names = {u.code: u.name for u in config.units}
    roster_index = {u.code: i for i, u in enumerate(config.units)}
    category_labels = {c.code: c.label for c in config.staff_categories}
    rating_labels = {r.code: r.label for r in config.ratings}
    good_rank = config.rating_rank(config.good_rating)
    present = month_staff(result)
    if config.documents.name_order == "given_name":
        # 50,000 people share some 12,000 names: each name is keyed once and people sort on whole numbers
        # (equal keys get equal ranks, and the sort is stable: the order is the one of the keys).
        keys = {p.name: None for p in present}
        for name in keys:
            keys[name] = given_name_sort_key(name)
        ranks = {key: i for i, key in enumerate(sorted(set(keys.values())))}
        rank = {name: ranks[key] for name, key in keys.items()}
        last, names = len(roster_index), len(ranks)
        order = [roster_index.get(p.unit_code, last) * names + rank[p.name] for p in present]
        present = [present[i] for i in sorted(range(len(present)), key=order.__getitem__)]

    slots = {p: i for i, p in enumerate(months)}
    # A result shares its Period objects: found by identity, a month costs no dataclass hash.
    slot_of: dict[int, int | None] = {}
    good_codes = {r.code for r in config.ratings if config.rating_rank(r.code) <= good_rank}
    width = len(months)

    def history_cells(history: tuple) -> tuple:
        """The columns a person's months give, from the month's rating to the campaign's sums."""
        now = history[-1]
        by_month: list[str | None] = [None] * width
        good = registered = social = initiatives = 0
        for m in history:
            period, rating = m.period, m.rating
            at = slot_of.get(id(period), -1)
            if at == -1:
                at = slot_of[id(period)] = slots.get(period)
            if at is not None:
                by_month[at] = rating
            good += rating in good_codes
            registered += m.registered
            social += m.social
            initiatives += m.initiatives
        return (
            rating_labels.get(now.rating, now.rating),
            YES_NO[now.registered],
            YES_NO[now.social],
            now.initiatives,
            now.discipline,
            *by_month,
            good,
            registered,
            social,
            initiatives,
        )

    def rows():
        # People with the same months share one history tuple (aggregate._People): a few hundred
        # distinct ones for 50,000 people, so their columns are made once per history.
        made: dict[int, tuple] = {}
        unit_name, category = unit_names.get, category_labels.get
        for person in present:
            history = person.months
            tail = made.get(id(history))
            if tail is None:
                tail = made[id(history)] = history_cells(history)
            code = person.unit_code
            yield (
                code,
                unit_name(code, code),
                person.name,
                person.birth_date,
                person.position or None,
                category(person.category, person.category),
                tail,
            )

    return sheet.ws, sheet.fast_table("CaNhan", cols, rows(), strings, tail=len(history_cols))


def _file_errors(result: PeriodResult) -> dict[str, int]:
    return {
        s.file.display_name: sum(f.is_error for f in s.findings)
        for s in result.submissions
        if s.period == result.period
    }


def _progress_sheet(
    wb: Workbook, result: PeriodResult, config: Config, strings: SharedStrings
) -> tuple[object, RowsXml]:
    months = month_results(result)
    due = config.campaign_for(result.period).due_date(result.period)
    cols = [
        Col("STT", 6),
        Col("Mã đơn vị", 10),
        Col("Tên đơn vị", 34),
        Col("Tình trạng nộp", 16),
        Col("Thời điểm nhận", 16, FMT_DATETIME),
        Col("Hạn nộp", 11, FMT_DATE),
        Col("Số ngày nộp muộn", 10, FMT_INT),
        Col("Tệp", 30),
        Col("Số lỗi trong tệp", 10, FMT_INT),
        Col("Cần nhắc", 9),
        Col("Thư điện tử", 30),
        *(Col(f"Tháng {m.period.label}", 16) for m in months),
    ]
    sheet = _Sheet(wb, SHEET_PROGRESS, cols, freeze="D2")
    errors = _file_errors(result)
    emails = {u.code: ", ".join(u.emails) for u in config.units}
    remind = {u.unit_code for u in units_to_remind(result)}
    history = [{u.unit_code: u.status for u in m.units} for m in months]

    def rows():
        for unit in result.units:
            late_days = None
            if unit.status is ReportingStatus.LATE and unit.received_at:
                late_days = (unit.received_at.date() - due).days
            yield [
                unit.unit_code,
                unit.unit_name,
                STATUS_LABELS[unit.status],
                unit.received_at,
                due,
                late_days,
                unit.file,
                errors.get(unit.file) if unit.file else None,
                "Có" if unit.unit_code in remind else None,
                emails.get(unit.unit_code) or None,
                *(STATUS_LABELS[h[unit.unit_code]] if unit.unit_code in h else None for h in history),
            ]

    fast = sheet.fast_table("TienDo", cols, rows(), strings)
    counts = completeness(result)
    fast.next_row += 1  # a blank line
    label_style = style_attr(sheet.ws, font=_BOLD)
    for label, value, fmt in (
        ("Số đơn vị phải báo cáo", counts.expected, FMT_INT),
        (STATUS_LABELS[ReportingStatus.ON_TIME], counts.on_time, FMT_INT),
        (STATUS_LABELS[ReportingStatus.LATE], counts.late, FMT_INT),
        (STATUS_LABELS[ReportingStatus.WITH_ERRORS], counts.with_errors, FMT_INT),
        (STATUS_LABELS[ReportingStatus.MISSING], counts.missing, FMT_INT),
        ("Tỷ lệ nộp báo cáo", counts.reporting_rate, FMT_SHARE),
        ("Tỷ lệ nộp đúng hạn", counts.timeliness_rate, FMT_SHARE),
    ):
        fast.add(
            [None, None, label, value], styles=["", "", label_style, style_attr(sheet.ws, number_format=fmt)]
        )
    names = "; ".join(u.unit_name for u in result.units if u.unit_code in remind)
    fast.add([None, None, "Đơn vị cần nhắc", names or "Không có"], styles=["", "", label_style, ""])
    return sheet.ws, fast


def _months_sheet(wb: Workbook, result: PeriodResult, config: Config) -> None:
    before = f"Tháng {result.previous.period.label}" if result.previous else "Tháng trước"
    cols = [
        Col("STT", 6),
        Col("Chỉ số", 70, wrap=True),
        Col(before, 14),
        Col(f"Tháng {result.period.label}", 14),
        Col("Thay đổi", 14),
    ]
    sheet = _Sheet(wb, SHEET_MONTHS, cols, freeze="C2")
    header = sheet.header(cols)
    for i, change in enumerate(month_on_month(result, config), 1):
        share = change.kind == "share"
        fmt = FMT_SHARE if share else FMT_INT
        sheet.append(
            [
                i,
                sheet.text(change.label, wrap=True),
                NO_DATA if change.previous is None else sheet.cell(change.previous, fmt),
                NO_DATA if change.current is None else sheet.cell(change.current, fmt),
                NO_DATA
                if change.change is None
                else sheet.cell(change.change, FMT_CHANGE_SHARE if share else FMT_CHANGE_INT),
            ]
        )
    sheet.add_table("SoSanh", cols, header)


def _findings(result: PeriodResult) -> list[Submission]:
    return [s for s in result.submissions if s.findings and (s.period in (None, result.period))]


def _findings_sheet(
    wb: Workbook, result: PeriodResult, strings: SharedStrings
) -> tuple[object, RowsXml] | None:
    """Every finding of every file; a province month may hold thousands (a warning a file is common)."""
    subs = _findings(result)
    if not subs:
        return None
    cols = [
        Col("STT", 6),
        Col("Tệp", 32),
        Col("Mã đơn vị", 10),
        Col("Tình trạng tệp", 18),
        Col("Mức độ", 10),
        Col("Sheet", 12),
        Col("Ô", 8),
        Col("Trường", 24),
        Col("Giá trị", 24),
        Col("Nội dung", 70, wrap=True),
    ]
    sheet = _Sheet(wb, SHEET_FINDINGS, cols, freeze="C2")

    def rows():
        for sub in subs:
            status = FILE_STATUS_LABELS.get(sub.status, sub.status.value)
            for f in sub.findings:
                yield [
                    f.file or sub.file.display_name,
                    sub.unit_code,
                    status,
                    str(f.severity),
                    f.sheet,
                    f.cell,
                    f.field,
                    f.value,
                    f.message,
                ]

    return sheet.ws, sheet.fast_table("Loi", cols, rows(), strings)


# ------------------------------------------------------------------------------------------------


def _stamp(result: PeriodResult) -> dt.datetime:
    """The workbook's creation time, from the inputs (latest file received), never from the clock."""
    times = [s.file.received_at for s in result.submissions]
    if not times:
        return dt.datetime.combine(result.period.first_day, dt.time())
    latest = max(times, key=lambda t: t.timestamp())
    if latest.tzinfo is not None:
        latest = latest.astimezone(dt.UTC).replace(tzinfo=None)
    return latest.replace(microsecond=0)


def _decisions_sheet(
    wb: Workbook, result: PeriodResult, config: Config, decisions: Sequence[Decision], strings: SharedStrings
) -> tuple[object, RowsXml] | None:
    """Every commendation decision with its reasons: the documents cap their lists and point here."""
    if not decisions:
        return None
    from processor.commend import reason_lines, status_label

    cols = [
        Col("STT", 6),
        Col("Đối tượng", 10),
        Col("Họ và tên / Tên tập thể", 28),
        Col("Mã đơn vị", 10),
        Col("Chức vụ", 18),
        Col("Hình thức", 28),
        Col("Kết quả xét", 26),
        Col("Tóm tắt thành tích", 40, wrap=True),
        Col("Lý do", 80, wrap=True),
    ]
    sheet = _Sheet(wb, SHEET_DECISIONS, cols, freeze="D2")

    # People judged alike share their outcome objects (commend judges each distinct record once): the
    # verdict and its reasons are worded once per set of outcomes, and the column caches see one string.
    verdicts: dict[tuple, tuple[str, str]] = {}

    def rows():
        for d in decisions:
            key = (d.proposed, d.quota_excluded, *map(id, d.outcomes))
            verdict = verdicts.get(key)
            if verdict is None:
                verdict = verdicts[key] = status_label(d), "; ".join(reason_lines(d.outcomes))
            yield [
                "Cá nhân" if d.subject == "individual" else "Tập thể",
                d.subject_name,
                d.unit_code,
                d.position,
                d.award_name,
                verdict[0],
                d.achievement,
                verdict[1],
            ]

    return sheet.ws, sheet.fast_table("KhenThuong", cols, rows(), strings)


def _breakdowns_sheet(
    wb: Workbook,
    result: PeriodResult,
    config: Config,
    decisions: Sequence[Decision],
    results: Sequence[BreakdownResult],
) -> None:
    if not results:
        return
    names = {d.award_id: d.award_name for d in decisions}
    awards = sorted({a for r in results for a in r.awards})
    cols = [Col("Nhóm", 34), Col("Số người", 12, FMT_INT), Col("Tỷ lệ", 10, FMT_SHARE)]
    cols += [Col(f"Đề nghị: {names.get(a, a)}", 22, FMT_INT, wrap=True) for a in awards]
    sheet = _Sheet(wb, SHEET_BREAKDOWNS, cols)
    sheet.line("PHÂN TỔ CÁN BỘ VÀ KẾT QUẢ ĐỀ NGHỊ KHEN THƯỞNG", _TITLE_FONT)
    sheet.line(_subtitle(result, config))
    sheet.line(
        "Tỷ lệ tính trên số người có số liệu. “Không có số liệu”: ô để trống, hoặc biểu mẫu của đơn vị "
        "chưa có cột này (phiên bản cũ); không tính vào nhóm nào."
    )
    for number, r in enumerate(results, 1):
        sheet.line()
        sheet.line(f"{number}. {r.label}", _BOLD)
        coverage = f"Có số liệu: {r.filled:,}/{r.staff:,} người".replace(",", ".")
        if r.units_without_field:
            coverage += "; biểu mẫu chưa có cột này: " + ", ".join(r.units_without_field)
        sheet.line(coverage + ".")
        rows = [
            [g.label, g.staff, _share(g.staff, r.filled), *(g.proposed.get(a, 0) for a in awards)]
            for g in r.groups
        ]
        rows.append([r.no_data.label, r.no_data.staff, None, *(r.no_data.proposed.get(a, 0) for a in awards)])
        sheet.table(f"PhanTo{number}", cols, rows)


def write_summary_workbook(
    result: PeriodResult,
    config: Config,
    out_path: Path,
    decisions: Sequence[Decision] = (),
    *,
    breakdowns: Sequence[BreakdownResult],
) -> Path:
    """Write tong-hop.xlsx atomically. Returns `out_path`.

    `breakdowns`: breakdown.breakdowns of `result` and `decisions` (computed once for every output)."""

    def build(temp: Path) -> None:
        wb = Workbook(write_only=True)
        stamp = _stamp(result)
        wb.properties.creator = "thidua"
        wb.properties.title = f"Tổng hợp kết quả thi đua tháng {result.period.label}"
        wb.properties.created = stamp
        wb.properties.modified = stamp
        # One table of distinct texts for every fast sheet: names, labels and reasons recur by the thousand.
        strings = SharedStrings()
        _targets_sheet(wb, result, config)
        fast_sheets = [_units_sheet(wb, result, config, strings), _people_sheet(wb, result, config, strings)]
        fast_sheets.append(_progress_sheet(wb, result, config, strings))
        _months_sheet(wb, result, config)
        _breakdowns_sheet(wb, result, config, decisions, breakdowns)
        findings = _findings_sheet(wb, result, strings)
        decided = _decisions_sheet(wb, result, config, decisions, strings)
        fast_sheets += [sheet for sheet in (findings, decided) if sheet is not None]
        try:
            wb.save(temp)
        except BaseException:
            for _, rows in fast_sheets:
                rows.file.close()
            raise
        # Sheets are numbered when saved: the fast sheets' part names are known only now.
        normalise_zip(temp, stamp, {ws.path.lstrip("/"): rows for ws, rows in fast_sheets}, strings)

    return atomic.write_with(Path(out_path), build)
