"""The council's approval workbook, `duyet-khen-thuong-<period>.xlsx`, written by the closing run.

One row per proposal (tập thể, then cá nhân, in the tờ trình's order), each with "Có" already in the
"Hội đồng đồng ý" column: the council changes it to "Không" to strike a name, writes its note beside it,
and adds names in the rows left blank below. `thidua decide` reads it back (processor/decide.py); the
column layout and the "Thông tin" sheet are the contract between the two, so both live here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from copy import copy
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
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.worksheet.datavalidation import DataValidation

    from processor.render import atomic
    from processor.render.fastxlsx import normalise_zip, storable

    award_names = list(job.award_names)

    def build(temp: Path) -> None:
        wb = Workbook()
        stamp = job.stamp
        wb.properties.creator = "thidua"
        wb.properties.title = f"Duyệt khen thưởng kỳ {job.period_label}"
        wb.properties.created = stamp
        wb.properties.modified = stamp
        ws = wb.active
        ws.title = SHEET
        thin = Side(style="thin")
        box = Border(left=thin, right=thin, top=thin, bottom=thin)
        wrap = Alignment(wrap_text=True, vertical="top")
        ws["A1"] = "BẢNG DUYỆT KHEN THƯỞNG CỦA HỘI ĐỒNG THI ĐUA - KHEN THƯỞNG"
        ws["A1"].font = Font(bold=True, size=13)
        ws["A2"] = storable(f"{job.campaign_name}; kỳ báo cáo {job.period_label} (mã kỳ {job.period})")
        ws["A3"] = (
            f"Cách ghi: cột “Hội đồng đồng ý” chọn {YES} hoặc {NO}; ghi ý kiến ở cột “Ghi chú”; tên Hội đồng "
            "đề nghị thêm ghi ở các dòng trống cuối bảng. Lưu tệp rồi chạy: thidua decide --period "
            f"{job.period}"
        )
        ws["A3"].font = Font(italic=True)
        for col, (header, width) in enumerate(COLUMNS, 1):
            cell = ws.cell(HEADER_ROW, col, header)
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
            cell.border = box
            cell.fill = PatternFill("solid", fgColor="DDEBF7")
            ws.column_dimensions[cell.column_letter].width = width
        ws.column_dimensions["J"].hidden = True
        ws.row_dimensions[HEADER_ROW].height = 32
        ws.freeze_panes = ws.cell(HEADER_ROW + 1, 1)
        boxed = ws.cell(HEADER_ROW + 1, 1)
        boxed.border, boxed.alignment = box, wrap
        row = HEADER_ROW
        for values in job.rows:
            row += 1
            for col, value in enumerate(values, 1):
                cell = ws.cell(row, col, storable(value) if isinstance(value, str) else value)
                # The prototype's style indexes, copied: setting border and alignment on each cell
                # costs openpyxl a style look-up each (2 s for a province's 3,000 proposals).
                cell._style = copy(boxed._style)
            # Excel does not grow a row for wrapped text written by a program: the height is set from
            # the longest text against its column's width (about one character a width unit).
            lines = max(
                -(-len(str(value)) // max(int(width) - 1, 1))
                for value, (_, width) in zip(values[:-1], COLUMNS[:-1], strict=True)
            )
            ws.row_dimensions[row].height = 15 * max(lines, 1)
        last_proposal = row
        row += 1
        ws.cell(row, COL_NAME, ADDITIONS_LABEL).font = Font(bold=True, italic=True)
        first_addition = row + 1
        last = row + ADDITION_ROWS
        for r in range(first_addition, last + 1):
            for col in range(1, len(COLUMNS)):
                ws.cell(r, col)._style = copy(boxed._style)
        agreed = DataValidation(type="list", formula1=f'"{YES},{NO}"', allow_blank=True)
        agreed.error, agreed.errorTitle = f"Chọn {YES} hoặc {NO}.", "Hội đồng đồng ý"
        agreed.add(f"H{HEADER_ROW + 1}:H{last}")
        subject = DataValidation(
            type="list", formula1=f'"{COLLECTIVE_TEXT},{INDIVIDUAL_TEXT}"', allow_blank=True
        )
        subject.add(f"B{first_addition}:B{last}")
        ws.add_data_validation(agreed)
        ws.add_data_validation(subject)
        # The awards' names as a list on the info sheet: a drop-down's inline list cannot hold commas.
        info = wb.create_sheet(INFO_SHEET)
        info["A1"], info["B1"] = INFO_PERIOD, job.period
        info["A2"], info["B2"] = INFO_CAMPAIGN, job.campaign_id
        info["A3"], info["B3"] = INFO_RULE_SETS, ", ".join(job.rule_set_ids)
        info["A4"] = "Số đề nghị"
        info["B4"] = last_proposal - HEADER_ROW
        info["A6"] = "Hình thức khen thưởng"
        for i, name in enumerate(award_names, 7):
            info.cell(i, 1, name)
        if award_names:
            award = DataValidation(
                type="list", formula1=f"'{INFO_SHEET}'!$A$7:$A${6 + len(award_names)}", allow_blank=True
            )
            award.add(f"F{first_addition}:F{last}")
            ws.add_data_validation(award)
        info.column_dimensions["A"].width = 30
        info.column_dimensions["B"].width = 30
        ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        wb.save(temp)
        normalise_zip(temp, stamp, {})

    return atomic.write_with(Path(out_path), build)
