"""Workbooks whose cells and rows carry no `r` reference (valid OOXML: a reader places such a cell in
the next column, such a row below the last). Written with openpyxl, then the references a writer may
leave out are stripped from the sheet XML; the formula, error and legacy-font findings must survive."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from openpyxl.styles import Font

from processor import form, reader, validate
from processor.config import Validation
from tests import workbooks
from tests.workbooks import STAFF_PART, UNIT_PART, replace_cell, staff_cell

_ROW = re.compile(rb'<row r="(\d+)"')
_CELL = re.compile(rb'<c r="([A-Z]+)(\d+)"')


def strip_references(xml: bytes) -> bytes:
    """Drop every `r` a reader can do without: a row's when it is the next row, a cell's when it is the
    next column of its row. The others stay (a cell after a gap needs its reference)."""
    out, last_row, position, at = [], 0, 0, 0
    tags = sorted([*_ROW.finditer(xml), *_CELL.finditer(xml)], key=lambda m: m.start())
    for tag in tags:
        out.append(xml[at : tag.start()])
        at = tag.end()
        if tag.re is _ROW:
            row = int(tag.group(1))
            out.append(b"<row" if row == last_row + 1 else tag.group(0))
            last_row, position = row, 0
        else:
            col = reader_column(tag.group(1))
            out.append(b"<c" if col == position + 1 and int(tag.group(2)) == last_row else tag.group(0))
            position = col
    out.append(xml[at:])
    return b"".join(out)


def reader_column(letters: bytes) -> int:
    number = 0
    for char in letters:
        number = number * 26 + char - 64
    return number


def without_references(data: bytes) -> bytes:
    stripped = workbooks.rewrite_parts(data, {STAFF_PART: strip_references, UNIT_PART: strip_references})
    with zipfile.ZipFile(io.BytesIO(stripped)) as archive:
        staff = archive.read(STAFF_PART)
    assert b'<c r="' not in staff.split(b"<row", 3)[3]  # the staff rows below carry no reference at all
    return stripped


def unusual_workbook() -> bytes:
    """Row 3's name typed in TCVN3 with its font; I4 never calculated; I5 a #DIV/0! result."""

    def mutate(wb):
        ws = wb[form.STAFF_SHEET]
        ws[staff_cell(1, "name")] = "TrÇn ThÞ B×nh"
        ws[staff_cell(1, "name")].font = Font(name=".VnTime")
        for index in range(len(workbooks.Spec().people)):
            ws[staff_cell(index, "note")] = "Ghi chú"  # every column filled: no gap needs a reference

    data = workbooks.xlsx(mutate=mutate)
    data = replace_cell(data, STAFF_PART, "I4", b'<c r="I4"><f>SUM(I2:I2)</f></c>')
    return replace_cell(data, STAFF_PART, "I5", b'<c r="I5" t="e"><f>1/0</f><v>#DIV/0!</v></c>')


def test_strip_references_leaves_a_workbook_read_the_same():
    data = unusual_workbook()
    stripped = without_references(data)
    assert stripped != data

    def sheets(blob):
        book = reader.read_workbook(blob, "bao-cao.xlsx", Validation(), set(validate.SHEETS))
        return {name: (sheet.cells, sheet.legacy_fonts) for name, sheet in book.sheets.items()}

    assert sheets(stripped) == sheets(data)


def test_cells_without_references_keep_their_formula_error_and_font(config):
    staff = reader.read_workbook(
        without_references(unusual_workbook()), "bao-cao.xlsx", config.validation, set(validate.SHEETS)
    ).sheets[form.STAFF_SHEET]
    assert staff.font(3, 2) == ".VnTime"
    assert staff.value(4, 9) == reader.CellProblem("uncached_formula", "SUM(I2:I2)")
    assert staff.value(5, 9) == reader.CellProblem("error", "#DIV/0!")


def test_validation_of_a_workbook_without_references_finds_the_same(config):
    sub = validate.validate_workbook(config, workbooks.incoming(without_references(unusual_workbook())), True)
    found = {(f.code, f.cell) for f in sub.findings}
    assert ("legacy_encoding_converted", "B3") in found
    assert ("formula_not_calculated", "I4") in found
    assert ("formula_error", "I5") in found
    converted = next(p for p in sub.report.people if p.row == 3)
    assert converted.name == "Trần Thị Bình"


def test_the_annotated_copy_of_a_workbook_without_references_is_patched_in_place(
    config, tmp_path, monkeypatch
):
    """Marked at XML level like any plain workbook (not sent to openpyxl): the references are written out
    first, so a created cell cannot move the cells after it."""
    from openpyxl import load_workbook

    from processor.render import feedback

    data = without_references(unusual_workbook())
    sub = validate.validate_workbook(config, workbooks.incoming(data), True)
    path = tmp_path / "copy.xlsx"
    monkeypatch.setattr(feedback, "_untouched_with_findings", lambda *a, **k: pytest.fail("not marked"))
    feedback.write_annotated_copy(sub, data, path, config=config)
    monkeypatch.undo()
    staff = load_workbook(path)[form.STAFF_SHEET]
    for ref in ("B3", "I4", "I5"):
        assert staff[ref].comment is not None, ref
    assert staff["B3"].value == "TrÇn ThÞ B×nh" and staff["B3"].font.name == ".VnTime"
    assert (
        staff["C3"].comment is None and staff["J5"].value == "Không" and staff["K5"].value == "Ghi chú"
    )  # the cells after them did not move
    again = validate.validate_workbook(config, workbooks.incoming(path.read_bytes(), path.name), True)
    assert sorted((f.code, f.cell) for f in again.findings) == sorted((f.code, f.cell) for f in sub.findings)
