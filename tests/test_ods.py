"""OpenDocument spreadsheets (.ods, LibreOffice's default) are read and checked like .xlsx; .xlsb is
refused with advice. The .ods files are real: LibreOffice made them from the tests' .xlsx
(tests/fixtures/make_workbook_fixtures.py), and where soffice is installed they are made again and must
read the same."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import importlib.util
import io
import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook

from processor import form
from processor.config import Validation
from processor.pipeline import check_files
from processor.reader import read_workbook
from processor.records import FileStatus, Period
from processor.render import feedback
from processor.validate import validate_workbook
from tests import workbooks
from tests.workbooks import FIXTURES, incoming, staff_cell, unit_cell
from tests.xlsb import xlsb

_spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_workbook_fixtures.py")
make_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_fixtures)

GOOD = (FIXTURES / "workbooks" / "bao-cao-tchc.ods").read_bytes()
FAULTY = (FIXTURES / "workbooks" / "loi-tchc.ods").read_bytes()


def validate(config, data: bytes, name: str = "bao-cao-tchc.ods"):
    return validate_workbook(config, incoming(data, name))


def located(sub) -> list[tuple]:
    return sorted((f.code, f.severity, f.sheet, f.cell) for f in sub.findings)


def rewrite_ods(data: bytes, edits: dict[str, Callable[[bytes], bytes] | bytes]) -> bytes:
    """The package with parts replaced (a callable edits the old bytes) or added; mimetype stays first
    and stored, as OpenDocument requires."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        names = source.namelist()
        for name in names + [n for n in edits if n not in names]:
            old = source.read(name) if name in names else b""
            edit = edits.get(name)
            new = edit(old) if callable(edit) else old if edit is None else edit
            kind = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            target.writestr(zipfile.ZipInfo(name), new, compress_type=kind)
    return out.getvalue()


def content(edit: Callable[[bytes], bytes]) -> bytes:
    return rewrite_ods(GOOD, {"content.xml": edit})


def refused(config, data: bytes) -> str:
    """The one finding a refused file gets, as a code; the file is not read at all."""
    book = read_workbook(data, "x.ods", config.validation)
    assert not book.readable
    [finding] = book.findings
    sub = validate(config, data)
    assert sub.status is FileStatus.UNREADABLE and [f.code for f in sub.findings] == [finding.code]
    return finding.code


# ------------------------------------------------------------------------------------------------
# Same figures, same findings at the same cells


def test_an_ods_report_gives_the_figures_of_the_xlsx_it_was_saved_from(config):
    from_ods = validate(config, GOOD)
    from_xlsx = validate(config, workbooks.xlsx(), "bao-cao-tchc.xlsx")
    assert from_ods.status is FileStatus.ACCEPTED, from_ods.findings
    assert from_ods.findings == []
    assert (from_ods.unit_code, from_ods.period) == ("TCHC", Period(2024, 2))
    assert from_ods.report == from_xlsx.report
    assert len(from_ods.report.people) == 5


def test_an_ods_report_has_its_findings_at_the_cells_of_the_xlsx(config):
    from_ods = validate(config, FAULTY, "loi-tchc.ods")
    from_xlsx = validate(config, workbooks.xlsx(mutate=make_fixtures.mistakes), "loi-tchc.xlsx")
    assert from_ods.status is FileStatus.REJECTED
    # LibreOffice calculated the formula that openpyxl left uncalculated: its #DIV/0! is the finding.
    expected = [
        ("formula_error" if code == "formula_not_calculated" else code, severity, sheet, cell)
        for code, severity, sheet, cell in located(from_xlsx)
    ]
    assert located(from_ods) == sorted(expected)
    cells = {(f.sheet, f.cell): f for f in from_ods.findings}
    assert cells[(form.UNIT_SHEET, unit_cell("donation_vnd"))].value == "#DIV/0!"
    assert cells[(form.STAFF_SHEET, staff_cell(0, "rating"))].code == "allowed_values"
    assert cells[(form.STAFF_SHEET, staff_cell(1, "name"))].code == "legacy_encoding_converted"
    # Person 3's "Có" merged down three rows counts for persons 4 and 5 too (no empty-cell finding).
    assert not any(f.cell in (staff_cell(3, "social"), staff_cell(4, "social")) for f in from_ods.findings)


def test_an_uncalculated_formula_in_an_ods_is_found_at_its_cell(config):
    twelve = b'office:value-type="float" office:value="12" calcext:value-type="float"><text:p>12</text:p>'
    data = content(lambda x: x.replace(twelve, b'table:formula="of:=[.C1]*2"><text:p/>', 1))
    sub = validate(config, data)
    [finding] = [f for f in sub.findings if f.code == "formula_not_calculated"]
    assert (finding.sheet, finding.cell) == (form.UNIT_SHEET, unit_cell("tasks_assigned"))


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_the_committed_ods_fixtures_are_what_libreoffice_makes_today(config, tmp_path):
    make_fixtures.to_ods(make_fixtures.ods_sources(), tmp_path)
    for name in ("bao-cao-tchc.ods", "loi-tchc.ods"):
        committed = validate(config, (FIXTURES / "workbooks" / name).read_bytes(), name)
        fresh = validate(config, (tmp_path / name).read_bytes(), name)
        assert located(fresh) == located(committed), name
        assert fresh.report == committed.report, name


# ------------------------------------------------------------------------------------------------
# Through the inbox, and the feedback


def test_check_takes_an_ods_and_returns_the_marked_copy_as_xlsx(config, tmp_path):
    path = tmp_path / "inbox" / "bao cao TCHC.ods"
    path.parent.mkdir()
    path.write_bytes(FAULTY)
    [sub], written = check_files(config, [path], tmp_path / "out")
    assert sub.status is FileStatus.REJECTED
    copy = next(p for p in written if p.suffix == ".xlsx" and p.parent.name == "phan-hoi")
    wb = load_workbook(copy)
    cell = wb[form.STAFF_SHEET][staff_cell(0, "rating")]
    assert cell.value == "Giỏi" and cell.comment is not None and cell.fill.fgColor.rgb.endswith("FFC7CE")
    assert wb[form.UNIT_SHEET][unit_cell("unit_code")].value == "TCHC"
    first = wb.worksheets[0]
    assert any("OpenDocument (.ods)" in str(row[0]) for row in first.iter_rows(values_only=True))
    # The copy is a form again: the unit may correct it and send it back.
    again = validate(config, copy.read_bytes(), copy.name)
    assert located(again) == located(sub)

    draft = email.message_from_bytes(copy.with_suffix(".eml").read_bytes(), policy=email.policy.default)
    assert "OpenDocument (.ods)" in draft.get_body().get_content()
    [attachment] = draft.iter_attachments()
    assert attachment.get_filename().endswith(".xlsx")
    report = load_workbook(tmp_path / "out" / "kiem-tra-2024-02.xlsx").worksheets[0]
    assert any(".ods" in str(row[0]) and ".xlsx" in str(row[0]) for row in report.iter_rows(values_only=True))


# ------------------------------------------------------------------------------------------------
# Hostile .ods: refused as findings before calamine reads a byte of them


def test_an_ods_zip_bomb_is_refused(config, tmp_path):
    bomb = content(lambda x: x + b" " * (40 * 1024 * 1024))
    assert refused(config, bomb) == "zip_bomb"
    # Through the inbox and its worker processes, beside a good file that is still read.
    (tmp_path / "bom.ods").write_bytes(bomb)
    (tmp_path / "tot.ods").write_bytes(GOOD)
    subs, _ = check_files(config, [tmp_path / "bom.ods", tmp_path / "tot.ods"])
    by_name = {Path(s.file.display_name).name: s for s in subs}
    assert [f.code for f in by_name["bom.ods"].findings] == ["zip_bomb"]
    assert by_name["tot.ods"].status is FileStatus.ACCEPTED


def test_an_ods_declaring_entities_is_refused(config):
    laughs = b'<!DOCTYPE d [<!ENTITY a "hahahahaha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    data = content(lambda x: x.replace(b"?>", b"?>" + laughs, 1))
    assert refused(config, data) == "xml_entities"
    manifest = rewrite_ods(GOOD, {"META-INF/manifest.xml": lambda x: x.replace(b"?>", b"?>" + laughs, 1)})
    assert refused(config, manifest) == "xml_entities"


@pytest.mark.parametrize(
    ("edit", "code"),
    [
        # A value repeated over every column of a million rows: calamine would build a 17-billion-cell grid.
        (
            lambda x: x.replace(
                b"<table:table-row",
                b'<table:table-row table:number-rows-repeated="1048576"><table:table-cell '
                b'table:number-columns-repeated="16384" office:value-type="float" office:value="1"/>'
                b"</table:table-row><table:table-row",
                1,
            ),
            "sheet_too_large",
        ),
        # A value far down the sheet, after a block of empty rows.
        (
            lambda x: x.replace(
                b"<table:table-row",
                b'<table:table-row table:number-rows-repeated="900000"><table:table-cell/></table:table-row>'
                b'<table:table-row><table:table-cell office:value-type="float" office:value="1"/>'
                b"</table:table-row><table:table-row",
                1,
            ),
            "sheet_too_large",
        ),
        # Two billion spaces in one cell, from a few bytes.
        (
            lambda x: x.replace(
                b"<text:p>TCHC</text:p>", b'<text:p>TCHC<text:s text:c="2000000000"/></text:p>', 1
            ),
            "strings_too_large",
        ),
        # A long text repeated in many cells.
        (
            lambda x: x.replace(
                b"<table:table-row",
                b'<table:table-row table:number-rows-repeated="4000"><table:table-cell '
                b'table:number-columns-repeated="50" office:value-type="string"><text:p>'
                + b"x" * 5000
                + b"</text:p></table:table-cell></table:table-row><table:table-row",
                1,
            ),
            "strings_too_large",
        ),
        # What the parser skips or reads otherwise than this check: a comment, a table inside a cell, a
        # repeat count written another way, one attribute twice, two tables with one name.
        (lambda x: x.replace(b"<table:table-row", b"<!-- x --><table:table-row", 1), "unusual_structure"),
        (
            lambda x: x.replace(
                b"<text:p>TCHC</text:p>",
                b"<table:table-row><table:table-cell></table:table-cell></table:table-row>",
                1,
            ),
            "unusual_structure",
        ),
        (
            lambda x: re.sub(rb'number-rows-repeated="(\d+)"', rb'number-rows-repeated="+\1"', x, count=1),
            "unusual_structure",
        ),
        (
            lambda x: x.replace(b"<table:table-row ", b'<table:table-row table:style-name="a" ', 1),
            "unusual_structure",
        ),
        (
            lambda x: x.replace('table:name="Hướng dẫn"'.encode(), 'table:name="Cá nhân"'.encode()),
            "unusual_structure",
        ),
        # A ">" inside an attribute value: the parser reads past it, a tag pattern would stop there.
        (
            lambda x: x.replace(b"<table:table-cell ", b'<table:table-cell table:formula="of:=1>0" ', 1),
            "unusual_structure",
        ),
        # Cut short.
        (lambda x: x[: x.index(b"</table:table>")], "corrupt"),
    ],
)
def test_a_crafted_ods_is_refused_as_a_finding(config, edit, code):
    assert refused(config, content(edit)) == code


def test_ods_packages_that_are_not_plain_spreadsheets_are_refused(config):
    text = rewrite_ods(GOOD, {"mimetype": b"application/vnd.oasis.opendocument.text"})
    assert refused(config, text) == "not_workbook"
    locked = rewrite_ods(
        GOOD,
        {
            "META-INF/manifest.xml": lambda x: x.replace(
                b"</manifest:manifest>",
                b'<manifest:file-entry manifest:full-path="x"><manifest:encryption-data/>'
                b"</manifest:file-entry></manifest:manifest>",
            )
        },
    )
    assert refused(config, locked) == "encrypted"
    # calamine tries its .xlsx reader before its .ods one: an .xlsx part inside would be what it reads.
    both = rewrite_ods(GOOD, {"xl/workbook.xml": b"<workbook/>"})
    assert refused(config, both) == "unusual_structure"
    upper = rewrite_ods(GOOD, {"content.xml": b"", "CONTENT.XML": lambda _: b""})
    assert refused(config, upper) == "unusual_structure"  # one part under two names


# ------------------------------------------------------------------------------------------------
# .xlsb: refused with advice (decision in docs/architecture.md)


def test_an_xlsb_report_is_refused_with_advice_to_save_as_xlsx(config, tmp_path):
    import python_calamine

    rows = {form.UNIT_SHEET: [["Mã đơn vị", "TCHC"], ["Số nhiệm vụ", 12]], form.STAFF_SHEET: [["STT"], [1]]}
    data = xlsb(rows)
    # A real .xlsb: the reader library would read it.
    calamine = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    assert calamine.get_sheet_by_name(form.UNIT_SHEET).to_python()[0] == ["Mã đơn vị", "TCHC"]

    path = tmp_path / "bao-cao.xlsb"
    path.write_bytes(data)
    [sub], _ = check_files(config, [path])
    assert sub.status is FileStatus.UNREADABLE
    [finding] = sub.findings
    assert finding.code == "unsupported_format" and finding.is_error
    assert ".xlsb" in finding.message and "Excel Workbook (*.xlsx)" in finding.message
    # In the month's run the unit that e-mailed it is sent the advice (its file's month is unknown: every
    # month's run; a file with no sender gets no draft, issue #13).
    sub.file = dataclasses.replace(sub.file, sender="tchc.vpubnd@laocai.gov.vn")
    written = feedback.write_feedback([sub], config, Period(2024, 2), tmp_path / "out", lambda f: data)
    [draft] = [p for p in written if p.suffix == ".eml"]
    text = email.message_from_bytes(draft.read_bytes(), policy=email.policy.default).get_body().get_content()
    assert "Excel Workbook (*.xlsx)" in text


def test_the_reader_reports_an_ods_as_ods(config):
    book = read_workbook(GOOD, "x.ods", Validation())
    assert book.kind == "ods" and book.readable
    assert book.sheet_names == (form.UNIT_SHEET, form.STAFF_SHEET, form.GUIDE_SHEET, form.META_SHEET)


def test_the_ods_copy_is_written_by_the_patched_path_and_keeps_formulas_and_dates(
    config, tmp_path, monkeypatch
):
    """The .xlsx copy of an .ods is built from the values read and marked at XML level (annotate.py),
    like any plain workbook: openpyxl never opens or builds a workbook for it."""
    monkeypatch.setattr(feedback, "_untouched_with_findings", lambda *a, **k: pytest.fail("not marked"))
    monkeypatch.setattr(feedback, "Workbook", lambda *a, **k: pytest.fail("openpyxl workbook built"))
    twelve = b'office:value-type="float" office:value="12" calcext:value-type="float"><text:p>12</text:p>'
    data = content(lambda x: x.replace(twelve, b'table:formula="of:=[.C1]*2"><text:p/>', 1))
    sub = validate(config, data)
    path = tmp_path / "bao-cao-tchc.xlsx"
    feedback.write_annotated_copy(sub, data, path, config=config)
    monkeypatch.undo()
    wb = load_workbook(path)
    assert wb.worksheets[0].title != form.UNIT_SHEET  # the findings sheet comes first
    tasks = wb[form.UNIT_SHEET][unit_cell("tasks_assigned")]
    assert tasks.value == "=[.C1]*2" and tasks.comment is not None
    birth = wb[form.STAFF_SHEET][staff_cell(0, "birth_date")]
    assert birth.is_date and birth.number_format == "dd/mm/yyyy"
    assert birth.value.date() == validate(config, GOOD).report.people[0].birth_date
    assert wb[form.META_SHEET].sheet_state == "hidden"
    again = validate(config, path.read_bytes(), path.name)
    assert located(again) == located(sub)
