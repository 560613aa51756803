"""The fast rows of tong-hop.xlsx (render/fastxlsx.py): read back by openpyxl and LibreOffice as written."""

import csv
import datetime as dt
import shutil
import subprocess
import zipfile
from fractions import Fraction

import openpyxl
import pytest
from openpyxl import Workbook

from processor.aggregate import aggregate
from processor.breakdown import breakdowns
from processor.commend import decide, reason_lines, status_label
from processor.render.fastxlsx import RowsXml, SharedStrings, normalise_zip, style_attr
from processor.render.workbook import write_summary_workbook
from tests.factories import MAR, scenario_config, scenario_submissions

HEADER = ["STT", "Tên", "Số", "Tỷ lệ", "Ngày", "Thời điểm", "Ghi chú"]
ROWS = [
    ["Phòng Tổng hợp", 0, Fraction(1, 3), dt.date(1980, 2, 29), dt.datetime(2024, 3, 5, 16, 30), None],
    ["Phòng Tổng hợp", 1, 0.5, None, None, "=1+1"],  # repeated text, 0 and 1, a formula-like text
    [" lề trái", 1_500_000, Fraction(1), dt.date(2000, 1, 1), None, 'A & B <c> "d"'],
    ["Chuông\x07 Reo", 2, 2.0, None, None, ""],  # a control character; "" is blank
    ["Dài " * 9000],  # longer than a cell holds; the rest of the row empty
]
EXPECTED = [
    ["Phòng Tổng hợp", 0, 1 / 3, dt.datetime(1980, 2, 29), dt.datetime(2024, 3, 5, 16, 30), None],
    ["Phòng Tổng hợp", 1, 0.5, None, None, "=1+1"],
    [" lề trái", 1_500_000, 1, dt.datetime(2000, 1, 1), None, 'A & B <c> "d"'],
    ["Chuông Reo", 2, 2, None, None, None],
    [("Dài " * 9000)[:32767], None, None, None, None, None],
]


def _write(path, strings):
    wb = Workbook(write_only=True)
    wb.properties.created = dt.datetime(2024, 4, 5)  # as the product's writers do: openpyxl's default is now
    ws = wb.create_sheet("Bảng")
    ws.append(HEADER)
    formats = [None, None, "#,##0", "0.0%", "dd/mm/yyyy", "dd/mm/yyyy hh:mm", None]
    styles = [style_attr(ws, number_format=f) for f in formats]
    rows = RowsXml(styles, 2, strings=strings)
    rows.add_rows(ROWS, numbered=True)
    rows.add([None, "Tổng cộng", 1_500_003])  # the slow path after the fast one, same string table
    wb.save(path)
    normalise_zip(path, dt.datetime(2024, 4, 5, 9), {ws.path.lstrip("/"): rows}, strings)
    return path


@pytest.mark.parametrize("shared", [True, False], ids=["shared-strings", "inline-strings"])
def test_fast_rows_read_back_as_written(tmp_path, shared):
    path = _write(tmp_path / "bang.xlsx", SharedStrings() if shared else None)
    for read_only in (False, True):
        ws = openpyxl.load_workbook(path, read_only=read_only)["Bảng"]
        got = [list(r) for r in ws.iter_rows(min_row=2, values_only=True)]
        want = [[i, *(row + [None] * (6 - len(row)))] for i, row in enumerate(EXPECTED, 1)]
        want.append([None, "Tổng cộng", 1_500_003, None, None, None, None])
        assert [r + [None] * (7 - len(r)) for r in got] == want
        assert type(got[1][3]) is float and type(got[0][2]) is int
    ws = openpyxl.load_workbook(path)["Bảng"]
    assert ws["C2"].number_format == "#,##0" and ws["D2"].number_format == "0.0%"
    assert ws["E2"].number_format == "dd/mm/yyyy" and ws["F2"].number_format == "dd/mm/yyyy hh:mm"
    assert ws["G3"].data_type == "s"  # "=1+1" stays text
    with zipfile.ZipFile(path) as package:
        assert package.testzip() is None
        names = package.namelist()
        rels = package.read("xl/_rels/workbook.xml.rels").decode()
        types = package.read("[Content_Types].xml").decode()
        sheet = package.read("xl/worksheets/sheet1.xml").decode()
    assert ("xl/sharedStrings.xml" in names) == shared
    assert ("sharedStrings.xml" in rels) == shared and ("/xl/sharedStrings.xml" in types) == shared
    assert ('t="s"' in sheet) == shared


def test_shared_table_holds_each_text_once(tmp_path):
    strings = SharedStrings()
    _write(tmp_path / "bang.xlsx", strings)
    with zipfile.ZipFile(tmp_path / "bang.xlsx") as package:
        table = package.read("xl/sharedStrings.xml").decode()
    assert table.count("Phòng Tổng hợp") == 1 and len(strings) == table.count("<si>")
    assert '<t xml:space="preserve"> lề trái</t>' in table and "A &amp; B &lt;c&gt;" in table


def test_a_table_without_texts_adds_no_shared_strings_part(tmp_path):
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Số")
    rows = RowsXml(["", ""], 1, strings=SharedStrings())
    rows.add_rows([[1, 2.5], [3, None]])
    wb.save(tmp_path / "so.xlsx")
    normalise_zip(tmp_path / "so.xlsx", dt.datetime(2024, 4, 5), {ws.path.lstrip("/"): rows}, SharedStrings())
    with zipfile.ZipFile(tmp_path / "so.xlsx") as package:
        assert "xl/sharedStrings.xml" not in package.namelist()
        assert b"sharedStrings" not in package.read("[Content_Types].xml")
    got = openpyxl.load_workbook(tmp_path / "so.xlsx")["Số"].iter_rows(values_only=True)
    assert [list(r) for r in got] == [[1, 2.5], [3, None]]


def test_fast_rows_refuse_bools_and_extra_values(tmp_path):
    rows = RowsXml(["", ""], 2, strings=SharedStrings())
    with pytest.raises(TypeError):
        rows.add_rows([["x", True]])
    with pytest.raises(ValueError):
        rows.add_rows([["x", 1, 2]])
    rows.file.close()


def test_rows_with_a_shared_tail_give_the_cells_of_whole_rows(tmp_path):
    """add_rows(tail=k): the last k columns given as one tuple, shared by many rows, write the same
    cells as the rows written out in full; a tail of the wrong length is refused."""
    tails = [(1, "Có", None), (2, "Không", "Ghi chú"), (1, "Có", None)]
    rows = [("Phòng Tổng hợp", "Nguyễn Văn An"), ("Phòng Tổng hợp", "Lê Thị Bình"), (" lề", "Trần Cường")]
    written = {}
    for name, tail in [("whole", 0), ("tail", 3)]:
        wb = Workbook(write_only=True)
        wb.properties.created = dt.datetime(2024, 4, 5)
        ws = wb.create_sheet("Bảng")
        strings = SharedStrings()
        xml = RowsXml([""] * 6, 1, strings=strings)
        given = [(*head, t) if tail else (*head, *t) for head, t in zip(rows, tails, strict=True)]
        xml.add_rows(given, numbered=True, tail=tail)
        wb.save(tmp_path / f"{name}.xlsx")
        normalise_zip(tmp_path / f"{name}.xlsx", dt.datetime(2024, 4, 5), {ws.path.lstrip("/"): xml}, strings)
        written[name] = (tmp_path / f"{name}.xlsx").read_bytes()
    assert written["tail"] == written["whole"]
    got = openpyxl.load_workbook(tmp_path / "tail.xlsx")["Bảng"].iter_rows(values_only=True)
    want = [[i, *h, *t] for i, (h, t) in enumerate(zip(rows, tails, strict=True), 1)]
    assert [list(r) for r in got] == want
    short = RowsXml(["", "", ""], 1, strings=SharedStrings())
    with pytest.raises(ValueError):
        short.add_rows([("x", (1,))], tail=2)
    short.file.close()


def test_same_rows_give_the_same_bytes(tmp_path):
    first = _write(tmp_path / "a.xlsx", SharedStrings()).read_bytes()
    assert _write(tmp_path / "b.xlsx", SharedStrings()).read_bytes() == first


@pytest.fixture(scope="module")
def final_month(config, tmp_path_factory):
    cfg = scenario_config(config)
    result = aggregate(cfg, MAR, scenario_submissions(cfg), final=True)
    decisions = decide(cfg, result)
    path = tmp_path_factory.mktemp("final") / "tong-hop.xlsx"
    write_summary_workbook(result, cfg, path, decisions, breakdowns=breakdowns(cfg, result, decisions))
    return decisions, path


def _decision_rows(decisions):
    return [
        [
            i,
            "Cá nhân" if d.subject == "individual" else "Tập thể",
            d.subject_name,
            d.unit_code,
            d.position or None,
            d.award_name,
            status_label(d),
            d.achievement or None,
            "; ".join(reason_lines(d.outcomes)) or None,  # a missing month said once
        ]
        for i, d in enumerate(decisions, 1)
    ]


def test_decisions_sheet_has_every_field_of_every_decision(final_month):
    decisions, path = final_month
    assert {status_label(d) for d in decisions} >= {"Đề nghị", "Chưa đạt"}
    wb = openpyxl.load_workbook(path)
    ws = wb["Khen thưởng"]
    got = [list(r) for r in ws.iter_rows(min_row=2, values_only=True)]
    assert got == _decision_rows(decisions)
    assert ws.tables["KhenThuong"].ref == f"A1:I{len(decisions) + 1}"
    assert ws["H2"].alignment.wrap_text and ws["I2"].alignment.wrap_text


@pytest.mark.slow  # LibreOffice takes seconds to start: `make test-slow`, which CI runs
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_reads_the_fast_sheets_as_openpyxl_does(final_month, tmp_path):
    """LibreOffice opens the workbook and finds every cell where openpyxl does (cells carry no r=)."""
    _, path = final_month
    profile = (tmp_path / "profile").as_uri()
    every_sheet = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
    command = [
        "soffice", f"-env:UserInstallation={profile}", "--headless",
        "--convert-to", every_sheet, "--outdir", str(tmp_path), str(path),
    ]  # fmt: skip
    subprocess.run(command, capture_output=True, timeout=180, check=False)
    wb = openpyxl.load_workbook(path, read_only=True)
    for sheet, skip in (("Khen thưởng", ()), ("Cá nhân", (4,)), ("Đơn vị", (4,))):
        exported = tmp_path / f"tong-hop-{sheet}.csv"
        assert exported.exists(), sorted(p.name for p in tmp_path.iterdir())
        with exported.open(encoding="utf-8", newline="") as f:
            seen = [[c for i, c in enumerate(row) if i not in skip] for row in csv.reader(f)]
        want = [
            [v for i, v in enumerate(row) if i not in skip] for row in wb[sheet].iter_rows(values_only=True)
        ]
        seen = [r for r in seen if any(r)]
        want = [r for r in want if any(v is not None for v in r)]
        assert len(seen) == len(want), sheet
        for shown, values in zip(seen, want, strict=True):
            values = values + [None] * (len(shown) - len(values))
            assert [_value(text, value) for text, value in zip(shown, values, strict=True)] == values, sheet


def _value(text, like):
    """LibreOffice's text of a cell read back as the type openpyxl gave (dates are left out)."""
    if like is None:
        assert text == ""
        return None
    if isinstance(like, float):  # a share, shown as a percentage
        return pytest.approx(float(text.rstrip("%")) / 100, abs=0.0006)
    if isinstance(like, int):
        return int(text.replace(",", ""))
    return text
