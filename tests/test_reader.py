"""reader.py: real workbooks written by the tests and read back; calamine's quirks normalised once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import unicodedata

import pytest
from openpyxl.styles import Font

from processor import form, reader
from processor.reader import CellProblem, RawSheet, read_workbook
from tests import workbooks
from tests.workbooks import FIXTURES, STAFF_PART, Spec, replace_cell, staff_cell

SHEETS = (form.UNIT_SHEET, form.STAFF_SHEET, form.META_SHEET)


def read(data: bytes, config, wanted=SHEETS):
    return read_workbook(data, "bao-cao.xlsx", config.validation, wanted)


def test_values_come_out_normalised(config):
    spec = Spec()
    spec.people[0].update(initiatives=2, note="  Ghi   chú\u00a0 ")
    spec.people[1].update(name=unicodedata.normalize("NFD", "Trần Thị Bình"), note=3.5)
    book = read(workbooks.xlsx(spec), config)
    assert book.readable and book.findings == []
    assert book.kind == "xlsx"
    assert book.sheet_names == (form.UNIT_SHEET, form.STAFF_SHEET, form.GUIDE_SHEET, form.META_SHEET)
    assert set(book.sheets) == set(SHEETS)  # the guide sheet was not asked for, so not read
    staff = book.sheets[form.STAFF_SHEET]
    row = 2
    assert staff.value(row, 1) == 1 and type(staff.value(row, 1)) is int  # calamine gives 1.0
    assert staff.value(row, 3) == spec.people[0]["birth_date"]
    assert type(staff.value(row, 3)) is dt.date  # not a datetime
    assert staff.value(row, 9) == 2 and type(staff.value(row, 9)) is int
    assert staff.value(row, 11) == "Ghi chú"
    assert staff.value(row + 1, 2) == "Trần Thị Bình"
    assert unicodedata.is_normalized("NFC", staff.value(row + 1, 2))
    assert staff.value(row + 1, 11) == 3.5
    assert staff.value(row + 2, 11) is None  # empty cells are absent, not ''
    assert (row + 2, 11) not in staff.cells
    assert staff.max_row == 1 + len(spec.people)
    assert staff.max_col == len(form.STAFF_FIELDS)


def test_a1_helpers_and_tolerant_sheet_lookup(config):
    book = read(workbooks.xlsx(), config)
    assert RawSheet.a1(7, 7) == "G7"
    assert RawSheet.a1(1, 28) == "AB1"
    assert book.sheet("ca nhan") is book.sheets[form.STAFF_SHEET]
    assert book.sheet("CÁ NHÂN") is book.sheets[form.STAFF_SHEET]
    assert book.sheet("Không có") is None


def test_leading_apostrophe_and_blank_text_are_normalised(config):
    def mutate(wb):
        ws = wb[form.STAFF_SHEET]
        ws[staff_cell(0, "birth_date")] = "'05/01/1980"
        ws[staff_cell(0, "note")] = "   "
        ws[staff_cell(0, "note")].data_type = "s"

    staff = read(workbooks.xlsx(mutate=mutate), config).sheets[form.STAFF_SHEET]
    assert staff.value(2, 3) == "05/01/1980"
    assert staff.value(2, 11) is None


def test_thousands_of_formatted_empty_rows_cost_nothing(config):
    def mutate(wb):
        ws = wb[form.STAFF_SHEET]
        font = Font(name="Times New Roman", bold=True)
        for row in range(2, 20_002):
            for col in (1, 2, 3):
                ws.cell(row, col).font = font

    data = workbooks.xlsx(mutate=mutate)
    started = time.perf_counter()
    book = read(data, config)
    elapsed = time.perf_counter() - started
    staff = book.sheets[form.STAFF_SHEET]
    assert book.readable
    assert staff.max_row == 6  # the last row holding a value, not the last formatted one
    assert elapsed < 1.0


def test_merged_cells_show_their_value_in_every_cell(config):
    def mutate(wb):
        ws = wb[form.STAFF_SHEET]
        col = workbooks.staff_col("category")
        for row in range(3, 7):
            ws.cell(row, col).value = None
        ws.merge_cells(start_row=2, start_column=col, end_row=6, end_column=col)

    staff = read(workbooks.xlsx(mutate=mutate), config).sheets[form.STAFF_SHEET]
    col = workbooks.staff_col("category")
    assert [staff.value(row, col) for row in range(2, 7)] == ["Công chức"] * 5
    assert (2, col, 6, col) in staff.merged


def test_a_range_merged_across_columns_fills_its_first_column_only(config):
    """A unit that merges a person's discipline cell into Ghi chú, or a name across the row, means one
    value for one field: the other columns stay empty rather than silently take that value."""

    def mutate(wb):
        ws = wb[form.STAFF_SHEET]
        discipline, note = workbooks.staff_col("discipline"), workbooks.staff_col("note")
        ws.cell(3, note).value = None
        ws.merge_cells(start_row=3, start_column=discipline, end_row=3, end_column=note)
        ws.cell(5, discipline).value = None
        ws.cell(4, note).value = ws.cell(5, note).value = None
        ws.merge_cells(start_row=4, start_column=discipline, end_row=5, end_column=note)

    staff = read(workbooks.xlsx(mutate=mutate), config).sheets[form.STAFF_SHEET]
    discipline, note = workbooks.staff_col("discipline"), workbooks.staff_col("note")
    assert staff.value(3, note) is None
    assert staff.value(5, discipline) == staff.value(4, discipline) is not None  # down its column
    assert staff.value(4, note) is None and staff.value(5, note) is None


def test_formulas_cached_uncached_and_errors(config):
    data = workbooks.xlsx()
    data = replace_cell(data, STAFF_PART, "I2", b'<c r="I2"><f>1+1</f><v>2</v></c>')
    data = replace_cell(data, STAFF_PART, "I3", b'<c r="I3"><f>SUM(I2:I2)</f></c>')
    data = replace_cell(data, STAFF_PART, "I4", b'<c r="I4"><f>1/0</f><v></v></c>')
    data = replace_cell(data, STAFF_PART, "I5", b'<c r="I5" t="e"><f>1/0</f><v>#DIV/0!</v></c>')
    data = replace_cell(data, STAFF_PART, "K2", b'<c r="K2" t="str"><f>""</f><v></v></c>')
    staff = read(data, config).sheets[form.STAFF_SHEET]
    assert staff.value(2, 9) == 2  # formula with its cached value: the value
    assert staff.value(3, 9) == CellProblem("uncached_formula", "SUM(I2:I2)")
    assert staff.value(4, 9) == CellProblem("uncached_formula", "1/0")  # openpyxl writes an empty <v>
    assert staff.value(5, 9) == CellProblem("error", "#DIV/0!")
    assert staff.value(2, 11) is None  # a calculated empty string is just empty
    assert str(staff.value(3, 9)) == "=SUM(I2:I2)"


def test_legacy_font_cells_are_reported_with_their_font(config):
    def mutate(wb):
        ws = wb[form.STAFF_SHEET]
        ws[staff_cell(1, "name")] = "TrÇn ThÞ B×nh"
        ws[staff_cell(1, "name")].font = Font(name=".VnTime")
        ws[staff_cell(2, "name")].font = Font(name="VNI-Times")
        ws[staff_cell(4, "note")].font = Font(name=".VnArialH")  # formatted only: no value, no entry

    staff = read(workbooks.xlsx(mutate=mutate), config).sheets[form.STAFF_SHEET]
    assert staff.font(3, 2) == ".VnTime"
    assert staff.font(4, 2) == "VNI-Times"
    assert staff.font(2, 2) is None
    assert (6, 11) not in staff.legacy_fonts


def test_xls_reads_like_xlsx(config):
    data = (FIXTURES / "workbooks" / "bao-cao-tchc.xls").read_bytes()
    book = read(data, config)
    # The fixture was saved from the test workbook of form version 1 (its staff columns).
    version_1 = workbooks.Spec(columns=tuple(f.key for f in form.VERSIONS["1"].staff_fields))
    reference = read(workbooks.xlsx(version_1), config)
    assert book.kind == "xls" and book.readable
    staff, expected = book.sheets[form.STAFF_SHEET], reference.sheets[form.STAFF_SHEET]
    changed = {(3, 2)}  # person 2's name is typed in TCVN3 in the fixture
    assert {k: v for k, v in staff.cells.items() if k not in changed} == {
        k: v for k, v in expected.cells.items() if k not in changed
    }
    assert staff.value(3, 2) == "TrÇn ThÞ B×nh"
    assert staff.font(3, 2) == ".VnTime"  # found in the BIFF FONT/XF records
    assert book.sheets[form.UNIT_SHEET].cells == reference.sheets[form.UNIT_SHEET].cells


def test_unwanted_sheets_are_not_scanned(config):
    """A huge extra sheet a unit added does not matter when it is not one of ours."""

    def mutate(wb):
        wb.create_sheet("Nháp")["XFD1048576"] = "x"

    book = read(workbooks.xlsx(mutate=mutate), config)
    assert book.readable and "Nháp" in book.sheet_names and "Nháp" not in book.sheets
    everything = read_workbook(workbooks.xlsx(mutate=mutate), "x.xlsx", config.validation, None)
    assert not everything.readable
    assert everything.findings[0].code == "sheet_too_large"


def test_limits_come_from_config(config):
    spec = Spec(people=[workbooks.person(i) for i in range(20)])
    tight = dataclasses.replace(config.validation, max_rows=16)
    book = read_workbook(workbooks.xlsx(spec), "x.xlsx", tight, SHEETS)
    assert not book.readable
    assert book.findings[0].code == "sheet_too_large"
    assert book.findings[0].sheet == form.STAFF_SHEET
    assert "giới hạn 16 dòng" in book.findings[0].message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2.0, 2),
        (2.5, 2.5),
        ("", None),
        ("  a  b ", "a b"),
        ("'x", "x"),
        ("dòng 1\n  dòng 2 ", "dòng 1\ndòng 2"),
        (dt.datetime(2024, 2, 1), dt.date(2024, 2, 1)),
        (dt.datetime(2024, 2, 1, 8, 30), dt.datetime(2024, 2, 1, 8, 30)),
        (True, True),
    ],
)
def test_normalise_is_the_one_place_for_calamine_quirks(value, expected):
    result = reader._normalise(value)
    assert result == expected and type(result) is type(expected)


def test_macro_enabled_workbook_is_read_never_run(config):
    """An .xlsm carries a VBA project: it is read like an .xlsx, the macros are never touched."""
    data = workbooks.rewrite_parts(workbooks.xlsx(), {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 not run"})
    book = read(data, config)
    assert book.readable and book.kind == "xlsm"
    assert book.sheets[form.STAFF_SHEET].value(2, 2) == workbooks.person(0)["name"]


def test_legacy_font_in_rich_text_runs(config):
    """Rich text names its font run by run: inline in the sheet (openpyxl) or in sharedStrings (Excel)."""
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    def mutate(wb):
        cell = wb[form.STAFF_SHEET][staff_cell(0, "note")]
        cell.value = CellRichText([TextBlock(InlineFont(rFont=".VnTime"), "Ghi chó")])

    staff = read(workbooks.xlsx(mutate=mutate), config).sheets[form.STAFF_SHEET]
    assert staff.font(2, 11) == ".VnTime"

    shared = (
        b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<si><t>Chuy\xc3\xaan vi\xc3\xaan</t></si>"
        + '<si><r><rPr><rFont val="VNI-Times"/></rPr><t>Nguyeãn</t></r></si></sst>'.encode()
    )
    data = workbooks.rewrite_parts(
        workbooks.xlsx(),
        {
            "xl/sharedStrings.xml": shared,
            "xl/_rels/workbook.xml.rels": lambda xml: xml.replace(
                b"</Relationships>",
                b'<Relationship Id="rIdSST" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
            ),
        },
    )
    data = replace_cell(data, STAFF_PART, "K3", b'<c r="K3" t="s"><v>1</v></c>')
    data = replace_cell(data, STAFF_PART, "K4", b'<c r="K4" t="s"><v>0</v></c>')
    staff = read(data, config).sheets[form.STAFF_SHEET]
    assert staff.font(3, 11) == "VNI-Times"
    assert staff.font(4, 11) is None
