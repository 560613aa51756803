"""The council's approval workbook as written (render/approval.py), opened again with openpyxl: the boxed
rows, their heights, the drop-downs and print settings the council works with, text kept as text, and the
same bytes for the same job. `thidua decide` reading it back is tests/test_decide.py."""

import datetime as dt

import openpyxl
import pytest

from processor.config import load_config
from processor.decide import _read_rows
from processor.render import approval
from processor.workspace import create_workspace

AWARDS = ("Giấy khen của Chánh Văn phòng", "Tập thể lao động tiên tiến, xuất sắc")
LONG = "Hoàn thành xuất sắc nhiệm vụ; " * 6  # 180 characters: five lines in "Tóm tắt thành tích" (45 wide)
ROWS = (
    (1, "Tập thể", "Phòng Tổ chức cán bộ", "", "", AWARDS[1], "12/12 tháng hoàn thành", "Có", "", "u:PTC"),
    (2, "Cá nhân", "Nguyễn Văn An", "Chuyên viên", "Phòng Tổ chức cán bộ", AWARDS[0], LONG, "Có", "", "p:1"),
    (3, "Cá nhân", '=HYPERLINK("http://x","y")', "-1+2", "@SUM(A1)", AWARDS[0], "#DIV/0!", "Có", "", "p:2"),
    (4, "Cá nhân", "Trần\x07 Thị Bình", "Cán sự", "+Phòng\x00 Kế toán", AWARDS[0], "ok", "Có", "", "p:3"),
)


def _job(rows=ROWS) -> approval.ApprovalJob:
    return approval.ApprovalJob(
        "2024-03", "03/2024", "2024-dot-1", "Đợt thi đua quý I năm 2024", dt.datetime(2024, 4, 2, 8, 30),
        ("giay-khen-dot-i-2024",), AWARDS, tuple(rows),
    )  # fmt: skip


def _boxed(cell) -> bool:
    b = cell.border
    return all(side.style == "thin" for side in (b.left, b.right, b.top, b.bottom))


def _validations(sheet) -> dict[str, tuple[str, str]]:
    """The sheet's drop-downs: the cells they cover -> (type, list)."""
    return {str(dv.sqref): (dv.type, dv.formula1) for dv in sheet.data_validations.dataValidation}


def test_rows_are_boxed_wrapped_with_heights_and_the_drop_downs(tmp_path):
    path = approval.write_approval(_job(), tmp_path / approval.file_name("2024-03"))
    book = openpyxl.load_workbook(path)
    sheet = book[approval.SHEET]
    header = approval.HEADER_ROW
    assert [c.value for c in sheet[header]] == [h for h, _ in approval.COLUMNS]
    assert all(c.font.b and _boxed(c) and c.fill.fgColor.rgb.endswith("DDEBF7") for c in sheet[header])
    assert sheet.row_dimensions[header].height == 32
    assert sheet["A1"].font.b and sheet["A1"].font.sz == 13 and sheet["A3"].font.i
    assert "2024-03" in sheet["A3"].value and "Đợt thi đua quý I năm 2024" in sheet["A2"].value
    first, last_proposal = header + 1, header + len(ROWS)
    for r in range(first, last_proposal + 1):
        for cell in sheet[r][: len(approval.COLUMNS)]:
            assert _boxed(cell), cell.coordinate
            assert cell.alignment.wrap_text and cell.alignment.vertical == "top", cell.coordinate
        assert sheet.cell(r, approval.COL_AGREED).value == approval.YES
    # One line for short rows; the achievement of 180 characters in a column 45 wide takes five.
    heights = [sheet.row_dimensions[r].height for r in range(first, last_proposal + 1)]
    assert heights == [30, 75, 15, 15]  # row 1: "Tập thể lao động tiên tiến, xuất sắc" wraps in F
    assert [sheet.cell(r, 1).value for r in range(first, last_proposal + 1)] == [1, 2, 3, 4]
    assert sheet.cell(first, approval.COL_KEY).value == "u:PTC"
    label = sheet.cell(last_proposal + 1, approval.COL_NAME)
    assert label.value == approval.ADDITIONS_LABEL and label.font.b and label.font.i
    first_addition, last = last_proposal + 2, last_proposal + 1 + approval.ADDITION_ROWS
    for r in range(first_addition, last + 1):
        assert all(_boxed(sheet.cell(r, c)) for c in range(1, approval.COL_KEY)), r
        assert all(sheet.cell(r, c).value is None for c in range(1, approval.COL_KEY + 1)), r
        assert not _boxed(sheet.cell(r, approval.COL_KEY))
    assert sheet.max_row == last  # nothing boxed below the additions
    assert _validations(sheet) == {
        f"H{first}:H{last}": ("list", '"Có,Không"'),
        f"B{first_addition}:B{last}": ("list", '"Tập thể,Cá nhân"'),
        f"F{first_addition}:F{last}": ("list", "'Thông tin'!$A$7:$A$8"),
    }
    info = book[approval.INFO_SHEET]
    assert [info.cell(r, 1).value for r in (7, 8)] == list(AWARDS)
    assert [(info.cell(r, 1).value, info.cell(r, 2).value) for r in range(1, 5)] == [
        (approval.INFO_PERIOD, "2024-03"), (approval.INFO_CAMPAIGN, "2024-dot-1"),
        (approval.INFO_RULE_SETS, "giay-khen-dot-i-2024"), ("Số đề nghị", len(ROWS)),
    ]  # fmt: skip
    widths = [sheet.column_dimensions[chr(ord("A") + i)].width for i in range(len(approval.COLUMNS))]
    assert widths == [w for _, w in approval.COLUMNS]
    assert sheet.column_dimensions["J"].hidden and not sheet.column_dimensions["I"].hidden
    assert sheet.freeze_panes == f"A{first}" and sheet.print_title_rows == f"${header}:${header}"
    setup = sheet.page_setup  # paper size 9: A4
    assert (setup.orientation, setup.paperSize, setup.fitToWidth, setup.fitToHeight) == ("landscape", 9, 1, 0)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert book.properties.creator == "thidua" and book.properties.modified == dt.datetime(2024, 4, 2, 8, 30)


def test_what_a_unit_typed_stays_text(tmp_path):
    """Names and units starting with =, -, +, @ or reading like an error are text, never a formula;
    control characters are dropped (Excel refuses them)."""
    path = approval.write_approval(_job(), tmp_path / "duyet.xlsx")
    sheet = openpyxl.load_workbook(path)[approval.SHEET]
    row = approval.HEADER_ROW + 3
    for col, text in ((3, '=HYPERLINK("http://x","y")'), (4, "-1+2"), (5, "@SUM(A1)"), (7, "#DIV/0!")):
        assert (sheet.cell(row, col).value, sheet.cell(row, col).data_type) == (text, "s")
    assert sheet.cell(row + 1, 3).value == "Trần Thị Bình"
    assert sheet.cell(row + 1, 5).value == "+Phòng Kế toán"


def test_the_same_job_gives_the_same_bytes(tmp_path):
    first = approval.write_approval(_job(), tmp_path / "a" / "duyet.xlsx")
    second = approval.write_approval(_job(), tmp_path / "b" / "duyet.xlsx")
    assert first.read_bytes() == second.read_bytes()
    third = approval.write_approval(_job(ROWS[:3]), tmp_path / "c" / "duyet.xlsx")
    assert third.read_bytes() != first.read_bytes()


@pytest.mark.parametrize("rows", [ROWS, ()], ids=["proposals", "none"])
def test_decide_reads_the_written_workbook(tmp_path, rows):
    """decide's reader takes the rows as written (the additions' label and blank rows skipped)."""
    create_workspace(tmp_path / "office")
    config = load_config(tmp_path / "office" / "config.toml")
    path = approval.write_approval(_job(rows), tmp_path / "duyet.xlsx")
    read, period, findings = _read_rows(config, path)
    assert period == "2024-03" and not findings
    assert [(r.row, r.subject, r.name, r.award, r.agreed, r.key) for r in read] == [
        (approval.HEADER_ROW + i, v[1], " ".join(v[2].replace("\x07", "").replace("\x00", "").split()), v[5],
         "Có", v[9])
        for i, v in enumerate(rows, 1)
    ]  # fmt: skip
    sheet = openpyxl.load_workbook(path)[approval.SHEET]
    last = approval.HEADER_ROW + len(rows) + 1 + approval.ADDITION_ROWS
    assert f"H{approval.HEADER_ROW + 1}:H{last}" in _validations(sheet)
