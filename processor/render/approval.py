"""The council's approval workbook, `duyet-khen-thuong-<period>.xlsx`, written by the closing run.

One row per proposal (tập thể, then cá nhân, in the tờ trình's order), each with "Có" already in the
"Hội đồng đồng ý" column: the council changes it to "Không" to strike a name, writes its note beside it,
and adds names in the rows left blank below. `thidua decide` reads it back (processor/decide.py); the
column layout and the "Thông tin" sheet are the contract between the two, so both live here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from processor import commend
from processor.config import Config, RuleSet
from processor.records import Decision, PeriodResult

SHEET = "Duyệt khen thưởng"
INFO_SHEET = "Thông tin"
YES, NO = "Có", "Không"
COLLECTIVE_TEXT, INDIVIDUAL_TEXT = "Tập thể", "Cá nhân"
SUBJECT_TEXT = {commend.COLLECTIVE: COLLECTIVE_TEXT, commend.INDIVIDUAL: INDIVIDUAL_TEXT}
ADDITIONS_LABEL = "BỔ SUNG (tên tập thể, cá nhân Hội đồng đề nghị thêm; ghi đủ đơn vị và hình thức):"
ADDITION_ROWS = 15
HEADER_ROW = 4  # rows 1-3: title, period, how to fill it in
# (header, width); the last column holds the program's key of the subject, hidden.
COLUMNS = (
    ("STT", 6),
    ("Tập thể / Cá nhân", 12),
    ("Họ và tên / Tên tập thể", 28),
    ("Chức vụ", 18),
    ("Đơn vị", 30),
    ("Hình thức khen thưởng", 30),
    ("Tóm tắt thành tích", 45),
    ("Hội đồng đồng ý", 12),
    ("Ghi chú của Hội đồng", 35),
    ("Mã (chương trình dùng, không sửa)", 10),
)
COL_NO, COL_SUBJECT, COL_NAME, COL_POSITION, COL_UNIT, COL_AWARD, COL_ACHIEVEMENT = range(1, 8)
COL_AGREED, COL_NOTE, COL_KEY = 8, 9, 10
# "Thông tin" sheet: label in column A, value in column B.
INFO_PERIOD = "Kỳ báo cáo"
INFO_CAMPAIGN = "Đợt thi đua"
INFO_RULE_SETS = "Bộ tiêu chuẩn"


def file_name(period_text: str) -> str:
    return f"duyet-khen-thuong-{period_text}.xlsx"


@dataclass(frozen=True)
class ApprovalJob:
    """The workbook's content as plain data, so the run's second process can write it."""

    period: str  # "2024-03"
    period_label: str  # "03/2024"
    campaign_id: str
    campaign_name: str
    stamp: dt.datetime
    rule_set_ids: tuple[str, ...]
    award_names: tuple[str, ...]
    rows: tuple[tuple, ...]  # one per proposal, the COLUMNS' values


def prepare_approval(
    config: Config, result: PeriodResult, decisions: Sequence[Decision], rule_sets: Sequence[RuleSet]
) -> ApprovalJob:
    from processor.render.documents import _unit_names, proposal_order
    from processor.render.workbook import _stamp

    collectives, individuals = proposal_order(config, result, decisions, rule_sets)
    names = _unit_names(config, result)
    campaign = next((c for c in config.campaigns if c.id == result.campaign_id), None)
    rows = []
    for no, d in enumerate([*collectives, *individuals], 1):
        unit = "" if d.subject == commend.COLLECTIVE else names.get(d.unit_code, d.unit_code)
        rows.append(
            (no, SUBJECT_TEXT[d.subject], d.subject_name, d.position, unit, d.award_name, d.achievement,
             YES, "", d.subject_key)
        )  # fmt: skip
    return ApprovalJob(
        str(result.period),
        result.period.label,
        result.campaign_id,
        campaign.name if campaign else result.campaign_id,
        _stamp(result),
        tuple(r.id for r in rule_sets),
        tuple(dict.fromkeys(a.name for r in rule_sets for a in r.awards)),
        tuple(rows),
    )


def write_approval_workbook(
    config: Config,
    result: PeriodResult,
    decisions: Sequence[Decision],
    rule_sets: Sequence[RuleSet],
    out_path: Path,
) -> Path:
    """Write the approval workbook atomically (same inputs, same bytes). Returns `out_path`."""
    return write_approval(prepare_approval(config, result, decisions, rule_sets), out_path)


def write_approval(job: ApprovalJob, out_path: Path) -> Path:
    """Write the workbook of `job` atomically (same job, same bytes). Returns `out_path`.

    openpyxl's streaming (write_only) mode writes everything around the rows: the title lines, the
    header, column widths, frozen panes, drop-downs, print settings and the "Thông tin" sheet. The
    proposal rows and the boxed rows left for additions, a province's 8,000 rows of ten styled cells,
    are XML text (render/fastxlsx.py) spliced into the sheet: openpyxl would spend about 2 s and 40 MB
    on them cell by cell.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation
    from openpyxl.worksheet.worksheet import Worksheet

    from processor.render import atomic
    from processor.render.fastxlsx import RowsXml, SharedStrings, normalise_zip, style_attr

    award_names = list(job.award_names)
    first_addition = HEADER_ROW + len(job.rows) + 2  # after the proposals and the additions' label
    last = first_addition + ADDITION_ROWS - 1

    def build(temp: Path) -> None:
        wb = Workbook(write_only=True)
        stamp = job.stamp
        wb.properties.creator = "thidua"
        wb.properties.title = f"Duyệt khen thưởng kỳ {job.period_label}"
        wb.properties.created = stamp
        wb.properties.modified = stamp
        ws = wb.create_sheet(SHEET)
        thin = Side(style="thin")
        box = Border(left=thin, right=thin, top=thin, bottom=thin)
        # In write_only mode the sheet's head (widths, frozen panes, row heights) goes out with the first
        # row: all of it is set before any.
        for col, (_, width) in enumerate(COLUMNS, 1):
            ws.column_dimensions[get_column_letter(col)].width = width
        ws.column_dimensions[get_column_letter(COL_KEY)].hidden = True
        ws.row_dimensions[HEADER_ROW].height = 32
        ws.freeze_panes = f"A{HEADER_ROW + 1}"
        ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        title = "BẢNG DUYỆT KHEN THƯỞNG CỦA HỘI ĐỒNG THI ĐUA - KHEN THƯỞNG"
        ws.append([_text(ws, title, Font(bold=True, size=13))])
        ws.append([_text(ws, f"{job.campaign_name}; kỳ báo cáo {job.period_label} (mã kỳ {job.period})")])
        how_to = (
            f"Cách ghi: cột “Hội đồng đồng ý” chọn {YES} hoặc {NO}; ghi ý kiến ở cột “Ghi chú”; tên Hội đồng "
            "đề nghị thêm ghi ở các dòng trống cuối bảng. Lưu tệp rồi chạy: thidua decide --period "
            f"{job.period}"
        )
        ws.append([_text(ws, how_to, Font(italic=True))])
        header = Alignment(wrap_text=True, horizontal="center", vertical="center")
        fill = PatternFill("solid", fgColor="DDEBF7")
        ws.append([_text(ws, text, Font(bold=True), header, box, fill) for text, _ in COLUMNS])
        boxed = style_attr(ws, border=box, alignment=Alignment(wrap_text=True, vertical="top"))
        label = style_attr(ws, font=Font(bold=True, italic=True))
        strings = SharedStrings()
        rows = RowsXml([boxed] * len(COLUMNS), HEADER_ROW + 1, styled_blanks=True, strings=strings)
        try:
            for values in job.rows:
                # Excel does not grow a row for wrapped text written by a program: the height is set from
                # the longest text against its column's width (about one character a width unit).
                lines = max(
                    -(-len(str(value)) // max(int(width) - 1, 1))
                    for value, (_, width) in zip(values[:-1], COLUMNS[:-1], strict=True)
                )
                rows.add(values, height=15 * max(lines, 1))
            rows.add([None, None, ADDITIONS_LABEL], styles=["", "", label])
            for _ in range(ADDITION_ROWS):
                rows.add([None] * (len(COLUMNS) - 1))  # boxed blanks; the hidden key column stays empty
            agreed = DataValidation(type="list", formula1=f'"{YES},{NO}"', allow_blank=True)
            agreed.error, agreed.errorTitle = f"Chọn {YES} hoặc {NO}.", "Hội đồng đồng ý"
            agreed.add(f"H{HEADER_ROW + 1}:H{last}")
            subject = DataValidation(
                type="list", formula1=f'"{COLLECTIVE_TEXT},{INDIVIDUAL_TEXT}"', allow_blank=True
            )
            subject.add(f"B{first_addition}:B{last}")
            # data_validations is the sheet's public list (what Worksheet.add_data_validation appends to;
            # the write_only sheet has no such method).
            ws.data_validations.append(agreed)
            ws.data_validations.append(subject)
            if award_names:
                # The awards' names as a list on the info sheet: a drop-down's inline list cannot hold commas.
                award = DataValidation(
                    type="list", formula1=f"'{INFO_SHEET}'!$A$7:$A${6 + len(award_names)}", allow_blank=True
                )
                award.add(f"F{first_addition}:F{last}")
                ws.data_validations.append(award)
            info = wb.create_sheet(INFO_SHEET)
            info.column_dimensions["A"].width = 30
            info.column_dimensions["B"].width = 30
            info.append([_text(info, INFO_PERIOD), _text(info, job.period)])
            info.append([_text(info, INFO_CAMPAIGN), _text(info, job.campaign_id)])
            info.append([_text(info, INFO_RULE_SETS), _text(info, ", ".join(job.rule_set_ids))])
            info.append([_text(info, "Số đề nghị"), len(job.rows)])
            info.append([])
            info.append([_text(info, "Hình thức khen thưởng")])
            for name in award_names:
                info.append([_text(info, name)])
            wb.save(temp)
        except BaseException:
            rows.file.close()
            raise
        normalise_zip(temp, stamp, {ws.path.lstrip("/"): rows}, strings)

    return atomic.write_with(Path(out_path), build)


def _text(ws, value: str, font=None, alignment=None, border=None, fill=None):
    """A text cell of a write_only sheet that stays text, whatever it starts with ("=", "-", ...)."""
    from processor.render.fastxlsx import styled_cell

    return styled_cell(ws, value, font=font, alignment=alignment, border=border, fill=fill)
