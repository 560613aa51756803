"""The unit workbook and the master form: written to disk, reopened with openpyxl (and calamine)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter
from python_calamine import CalamineWorkbook

from processor import form, template
from processor.config import Choice
from processor.devtools import samples
from processor.form import Field, Kind
from processor.records import FileStatus, Incoming, Period, PersonRecord, ReceivedFile, UserError

REPO = Path(__file__).resolve().parents[1]
MASTER = REPO / "input_templates" / template.MASTER_FILE_NAME
BUNDLED = REPO / "processor" / "data" / "templates" / template.MASTER_FILE_NAME
FEB = Period(2024, 2)
LAST_ROW = form.STAFF_HEADER_ROW + form.STAFF_ROWS


def _person(row: int, name: str, born: dt.date | None, position: str, category: str) -> PersonRecord:
    return PersonRecord(row, name, born, position, category, True, "HTTNV", True, 0, "Không")


@pytest.fixture(scope="module")
def unit_book(config, tmp_path_factory):
    out = tmp_path_factory.mktemp("forms")
    prefill = {
        "th": [
            _person(2, "Nguyễn Thị Thu Hương", dt.date(1985, 3, 15), "Trưởng phòng", "CC"),
            _person(3, '=HYPERLINK("x")', dt.date(1990, 1, 2), "+Chuyên viên", "HĐLĐ"),
            _person(4, "Lò Văn Hòa", None, "", "VC"),
        ]
    }
    paths = template.write_unit_workbooks(config, FEB, out, ["TH"], prefill)
    return paths[0], openpyxl.load_workbook(paths[0])


def _validations(ws) -> dict[str, object]:
    """Data validations by the cell range they cover."""
    return {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}


def _unit_row(key: str) -> int:
    return form.UNIT_FIRST_ROW + [f.key for f in form.UNIT_FIELDS].index(key)


# -- layout ----------------------------------------------------------------------------------------


def test_file_name_and_sheets(unit_book):
    path, wb = unit_book
    assert path.name == "2024-02_TH_bao-cao-thi-dua.xlsx"
    assert wb.sheetnames == [form.UNIT_SHEET, form.STAFF_SHEET, form.GUIDE_SHEET, form.META_SHEET]
    assert not list(path.parent.glob("*.tmp-thidua"))


def test_unit_sheet_labels_and_prefilled_identity(unit_book, config):
    _, wb = unit_book
    ws = wb[form.UNIT_SHEET]
    assert ws["A1"].value == template.TITLE
    assert config.campaigns[0].name in ws["A2"].value and "Tháng 02/2024" in ws["A2"].value
    assert [ws.cell(3, c).value for c in (1, 2, 3)] == list(template.UNIT_HEADERS)
    for row, field in enumerate(form.UNIT_FIELDS, form.UNIT_FIRST_ROW):
        assert ws.cell(row, 1).value == field.label
        assert ws.cell(row, 3).value == field.help
    code, name, period = (ws.cell(_unit_row(k), 2) for k in ("unit_code", "unit_name", "period"))
    assert (code.value, name.value, period.value) == ("TH", config.unit("TH").name, "02/2024")
    assert period.data_type == "s" and period.number_format == "@"
    for key in ("preparer", "prepared_on", "self_rating", "tasks_assigned"):
        assert ws.cell(_unit_row(key), 2).value is None


def test_staff_header_and_empty_rows(unit_book):
    _, wb = unit_book
    ws = wb[form.STAFF_SHEET]
    assert [c.value for c in ws[form.STAFF_HEADER_ROW]] == [f.label for f in form.STAFF_FIELDS]
    # Nothing but the prefilled people: no STT numbers in empty rows, so the reader sees no data.
    values = [
        ws.cell(r, c).value for r in range(5, LAST_ROW + 1) for c in range(1, len(form.STAFF_FIELDS) + 1)
    ]
    assert set(values) == {None}
    for field in form.STAFF_FIELDS:
        column = get_column_letter(form.STAFF_FIELDS.index(field) + 1)
        assert ws.column_dimensions[column].width == field.width
        assert ws[f"{column}{LAST_ROW}"].number_format == template.NUMBER_FORMATS[field.kind]
    assert ws.freeze_panes == "C2"


def test_number_formats(unit_book):
    _, wb = unit_book
    unit_ws, staff_ws = wb[form.UNIT_SHEET], wb[form.STAFF_SHEET]
    assert unit_ws.cell(_unit_row("donation_vnd"), 2).number_format == "#,##0"
    assert unit_ws.cell(_unit_row("prepared_on"), 2).number_format == "dd/mm/yyyy"
    assert unit_ws.cell(_unit_row("phone"), 2).number_format == "@"
    birth = get_column_letter([f.key for f in form.STAFF_FIELDS].index("birth_date") + 1)
    assert staff_ws[f"{birth}2"].number_format == "dd/mm/yyyy"


# -- validation ------------------------------------------------------------------------------------


def test_every_staff_column_has_its_validation_over_the_prepared_rows(unit_book, config):
    _, wb = unit_book
    validations = _validations(wb[form.STAFF_SHEET])
    for index, field in enumerate(form.STAFF_FIELDS, 1):
        letter = get_column_letter(index)
        dv = validations[f"{letter}2:{letter}{LAST_ROW}"]
        assert dv.prompt == field.help and dv.showInputMessage
        if field.kind is Kind.CHOICE:
            labels = [o.label for o in form.choice_options(config, field.choices)]
            assert dv.type == "list"
            assert dv.formula1 == '"' + ",".join(labels) + '"'
            assert not dv.showDropDown  # (an openpyxl quirk: True would hide the arrow)
        elif field.kind in (Kind.INT, Kind.MONEY):
            assert dv.type == "whole"
            assert int(dv.formula1) == (field.minimum or 0)
            if field.maximum is not None:
                assert int(dv.formula2) == field.maximum
        elif field.kind is Kind.DATE:
            assert dv.type == "date"
        if dv.type:
            assert dv.showErrorMessage and dv.errorStyle == "stop"
            assert dv.errorTitle == "Giá trị không hợp lệ"
            assert "Giá trị không hợp lệ" in dv.error and field.label in dv.error


def test_unit_fields_validation_messages_say_what_to_enter(unit_book, config):
    _, wb = unit_book
    validations = _validations(wb[form.UNIT_SHEET])
    rating = validations[f"B{_unit_row('self_rating')}"]
    labels = [r.label for r in config.ratings]
    assert rating.type == "list" and rating.formula1 == '"' + ",".join(labels) + '"'
    tasks = validations[f"B{_unit_row('tasks_assigned')}"]
    assert (tasks.type, tasks.formula1, tasks.formula2) == ("whole", "0", "100000")
    assert "Nhập số nguyên từ 0 đến 100.000" in tasks.error
    money = validations[f"B{_unit_row('donation_vnd')}"]
    assert "đồng" in money.error
    date = validations[f"B{_unit_row('prepared_on')}"]
    assert date.type == "date" and "dd/mm/yyyy" in date.error
    period = validations[f"B{_unit_row('period')}"]
    assert period.type == "textLength" and "MM/YYYY" in period.error
    code = validations[f"B{_unit_row('unit_code')}"]
    assert code.type == "list" and code.formula1 == '"' + ",".join(u.code for u in config.units) + '"'


def test_long_lists_go_to_a_hidden_range(tmp_path):
    province = samples.generate_province(60)  # 60 unit codes: 419 characters inline, over Excel's 255
    path = template.write_unit_workbooks(province, FEB, tmp_path, ["DV0002"])[0]
    wb = openpyxl.load_workbook(path)
    dv = _validations(wb[form.UNIT_SHEET])[f"B{_unit_row('unit_code')}"]
    assert dv.type == "list"
    assert dv.formula1 == f"'{form.META_SHEET}'!$D$2:$D$61"
    meta = wb[form.META_SHEET]
    assert [meta.cell(r, 4).value for r in range(2, 62)] == [u.code for u in province.units]
    assert [meta.cell(r, 1).value for r in range(1, 5)] == ["form_id", "form_version", "unit_code", "period"]


def test_a_label_with_a_comma_is_not_split(config, tmp_path):
    categories = [*config.staff_categories, Choice("CB", "Cán bộ, công chức cấp xã")]
    changed = dataclasses.replace(config, staff_categories=categories)
    wb = template.build_workbook(changed, changed.unit("TH"), FEB)
    column = get_column_letter([f.key for f in form.STAFF_FIELDS].index("category") + 1)
    dv = _validations(wb[form.STAFF_SHEET])[f"{column}2:{column}{LAST_ROW}"]
    assert dv.formula1.startswith(f"'{form.META_SHEET}'!$")
    letter = dv.formula1.split("!$")[1].split("$")[0]
    meta = wb[form.META_SHEET]
    assert meta[f"{letter}{len(categories) + 1}"].value == "Cán bộ, công chức cấp xã"


# -- protection, metadata, printing --------------------------------------------------------------


def test_labels_locked_data_cells_unlocked(unit_book):
    _, wb = unit_book
    unit_ws, staff_ws = wb[form.UNIT_SHEET], wb[form.STAFF_SHEET]
    for ws in (unit_ws, staff_ws, wb[form.GUIDE_SHEET], wb[form.META_SHEET]):
        assert ws.protection.sheet
        assert ws.protection.password is None  # documented in the guide: no password
    for ws in (unit_ws, staff_ws):
        # In OOXML a False flag means the action stays allowed on the protected sheet.
        assert not ws.protection.insertRows and not ws.protection.formatCells
        assert ws.protection.deleteColumns and ws.protection.insertColumns
    for row in range(form.UNIT_FIRST_ROW, form.UNIT_FIRST_ROW + len(form.UNIT_FIELDS)):
        assert unit_ws.cell(row, 1).protection.locked
        assert not unit_ws.cell(row, 2).protection.locked
        assert unit_ws.cell(row, 3).protection.locked
    assert unit_ws["A1"].protection.locked
    for column in range(1, len(form.STAFF_FIELDS) + 1):
        assert staff_ws.cell(1, column).protection.locked
        assert not staff_ws.cell(2, column).protection.locked
        assert not staff_ws.cell(LAST_ROW, column).protection.locked


def test_metadata_sheet(unit_book):
    _, wb = unit_book
    meta = wb[form.META_SHEET]
    assert meta.sheet_state == "hidden"
    rows = {meta.cell(r, 1).value: meta.cell(r, 2).value for r in range(1, 5)}
    assert rows == {
        "form_id": form.FORM_ID,
        "form_version": form.FORM_VERSION,
        "unit_code": "TH",
        "period": "2024-02",
    }


def test_print_setup(unit_book, config):
    _, wb = unit_book
    for name in (form.UNIT_SHEET, form.STAFF_SHEET, form.GUIDE_SHEET):
        ws = wb[name]
        assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4
        assert ws.page_setup.orientation == ("portrait" if name == form.GUIDE_SHEET else "landscape")
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
        assert config.unit("TH").name in ws.oddHeader.center.text
        assert "&P" in ws.oddFooter.center.text
    assert wb[form.STAFF_SHEET].print_title_rows == "$1:$1"


def test_guide_says_deadline_recipient_and_rules(unit_book, config):
    _, wb = unit_book
    ws = wb[form.GUIDE_SHEET]
    text = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    due = config.campaigns[0].due_date(FEB)
    assert due == dt.date(2024, 3, 5) and "05/03/2024" in text
    assert config.office.clerk_email in text
    assert config.unit(config.office.clerk_unit).name in text
    assert "Không đổi tên sheet, không xóa cột" in text
    for field in (*form.UNIT_FIELDS, *form.STAFF_FIELDS):
        assert field.label in text
    for rating in config.ratings:
        assert rating.label in text


# -- prefill ---------------------------------------------------------------------------------------


def test_prefill_writes_who_not_what(unit_book):
    path, wb = unit_book
    ws = wb[form.STAFF_SHEET]
    column = {f.key: i for i, f in enumerate(form.STAFF_FIELDS, 1)}
    rows = [{k: ws.cell(r, c).value for k, c in column.items()} for r in (2, 3, 4)]
    assert [r["seq"] for r in rows] == [1, 2, 3]
    assert rows[0]["name"] == "Nguyễn Thị Thu Hương"
    assert rows[0]["birth_date"] == dt.datetime(1985, 3, 15)
    assert [r["category"] for r in rows] == ["Công chức", "Hợp đồng lao động", "Viên chức"]
    assert rows[2]["birth_date"] is None and rows[2]["position"] is None
    for row in rows:
        assert row["rating"] is None and row["registered"] is None and row["social"] is None
    # Text from a unit never becomes a formula, whatever it starts with.
    assert rows[1]["name"] == '=HYPERLINK("x")' and ws.cell(3, column["name"]).data_type == "s"
    assert rows[1]["position"] == "+Chuyên viên"
    calamine = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(form.STAFF_SHEET).to_python()
    assert calamine[2][column["name"] - 1] == '=HYPERLINK("x")'


def test_prefill_keys_are_case_insensitive_and_other_units_get_none(config, tmp_path):
    people = {"tchc": [_person(2, "Phạm Văn Dũng", dt.date(1970, 1, 1), "Chánh", "CC")]}
    paths = template.write_unit_workbooks(config, FEB, tmp_path, ["TCHC", "KT"], people)
    first, second = (openpyxl.load_workbook(p)[form.STAFF_SHEET] for p in paths)
    assert first["B2"].value == "Phạm Văn Dũng"
    assert second["B2"].value is None


def test_prefill_carries_the_version_2_columns_over(config, tmp_path):
    person = _person(2, "Giàng Thị Mai", dt.date(1990, 5, 6), "Chuyên viên", "CC")._replace(
        gender="Nữ", ethnicity="Mông", recruited_on=dt.date(2015, 9, 1), leader=False
    )
    old_form = _person(3, "Lò Văn Sơn", dt.date(1988, 1, 2), "Chuyên viên", "VC")  # from a version 1 form
    [path] = template.write_unit_workbooks(config, FEB, tmp_path, ["TH"], {"TH": [person, old_form]})
    ws = openpyxl.load_workbook(path)[form.STAFF_SHEET]
    column = {c.value: c.column for c in ws[1]}
    labels = ("Giới tính", "Dân tộc", "Ngày tuyển dụng", "Lãnh đạo, quản lý")
    carried = [ws.cell(2, column[label]).value for label in labels]
    assert carried == ["Nữ", "Mông", dt.datetime(2015, 9, 1), "Không"]
    assert [ws.cell(3, column[label]).value for label in labels] == [None] * 4  # no data stays empty


def test_version_2_columns_have_drop_downs_and_vietnamese_prompts(unit_book, config):
    _, wb = unit_book
    ws = wb[form.STAFF_SHEET]
    validations = _validations(ws)
    column = {c.value: c.column_letter for c in ws[1]}
    expected = {
        "Giới tính": ("list", '"Nam,Nữ"'),
        "Dân tộc": ("list", '"' + ",".join(config.form.ethnic_groups) + '"'),
        "Ngày tuyển dụng": ("date", None),
        "Lãnh đạo, quản lý": ("list", '"Có,Không"'),
    }
    for label, (kind, formula) in expected.items():
        letter = column[label]
        dv = validations[f"{letter}2:{letter}{LAST_ROW}"]
        assert dv.type == kind and dv.showInputMessage and dv.prompt, label
        assert "Kinh" in config.form.ethnic_groups
        if formula:
            assert dv.formula1 == formula, label
    assert wb[form.META_SHEET]["B2"].value == form.current_version(config).version == "2"


def test_config_chooses_the_version_new_templates_use(config, tmp_path):
    """An office may hold back the new form: [form] version = "1" makes the old layout, named as such."""
    old = dataclasses.replace(config, form=dataclasses.replace(config.form, version="1"))
    wb = template.build_workbook(old, old.unit("TH"), FEB)
    assert wb[form.META_SHEET]["B2"].value == "1"
    assert [c.value for c in wb[form.STAFF_SHEET][1]] == [f.label for f in form.VERSIONS["1"].staff_fields]


def test_ngay_lap_example_is_a_date_of_the_period_and_guidance_says_things_once(unit_book):
    _, wb = unit_book
    guide = {row[0]: row[1] for row in wb[form.GUIDE_SHEET].iter_rows(min_row=3, values_only=True) if row[0]}
    assert "Ví dụ 02/03/2024." in guide["Ngày lập"] and "1985" not in guide["Ngày lập"]
    dv = _validations(wb[form.UNIT_SHEET])[f"B{_unit_row('prepared_on')}"]
    assert "02/03/2024" in dv.error and "1985" not in dv.error
    assert "15/03/1985" in guide["Ngày sinh"]  # a birth date's example stays a birth date
    assert guide["Kết quả nổi bật"].count("1.000 ký tự") == 1
    for text in guide.values():
        sentences = [s.strip() for s in (text or "").split(".") if len(s.strip()) > 12]
        assert len(sentences) == len(set(sentences)), text


def test_template_note_on_prefilled_units_whatever_the_case_of_the_code(tmp_path):
    workspace = tmp_path / "ws"
    (workspace / "inbox").mkdir(parents=True)
    shutil.copyfile(REPO / "config.toml", workspace / "config.toml")
    fixture = REPO / "tests" / "fixtures" / "forms" / "v1" / "2024-01_TCHC_bao-cao-thi-dua.xlsx"
    shutil.copyfile(fixture, workspace / "inbox" / fixture.name)

    def template_for(code: str) -> str:
        proc = subprocess.run(
            [sys.executable, "-m", "processor", "template", "--period", "2024-02", "--unit", code],
            cwd=workspace,
            capture_output=True,
            text=True,
            encoding="utf-8",
            env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    # The code as typed in lower case: TCHC's form, prefilled, and the note says so.
    assert "(1 đơn vị đã điền sẵn danh sách cán bộ từ báo cáo gần nhất)" in template_for("tchc")
    made = workspace / "output" / "bieu-mau" / "2024-02" / "2024-02_TCHC_bao-cao-thi-dua.xlsx"
    assert openpyxl.load_workbook(made)[form.STAFF_SHEET]["B2"].value == "Nguyễn Văn Hoà"
    assert "điền sẵn" not in template_for("nc")  # nothing to remember for NC: no note


# -- form-driven -----------------------------------------------------------------------------------


def _new_version(config, monkeypatch, unit_fields=(), staff_fields=()):
    """A version "3" added as data, and a config whose templates use it."""
    latest = form.VERSIONS[form.LATEST_VERSION]
    added = form.FormVersion("3", (*latest.unit_fields, *unit_fields), (*latest.staff_fields, *staff_fields))
    monkeypatch.setitem(form.VERSIONS, "3", added)
    return dataclasses.replace(config, form=dataclasses.replace(config.form, version="3")), added


def test_a_new_staff_field_gets_its_column_and_validation(config, monkeypatch, tmp_path):
    score = Field("score", "Điểm đánh giá", Kind.INT, False, "Điểm từ 0 đến 100.", minimum=0, maximum=100)
    config, added = _new_version(config, monkeypatch, staff_fields=(score,))
    path = template.write_unit_workbooks(config, FEB, tmp_path, ["TH"])[0]
    wb = openpyxl.load_workbook(path)
    ws = wb[form.STAFF_SHEET]
    assert wb[form.META_SHEET]["B2"].value == "3"
    letter = get_column_letter(len(added.staff_fields))
    assert ws[f"{letter}1"].value == "Điểm đánh giá"
    dv = _validations(ws)[f"{letter}2:{letter}{LAST_ROW}"]
    assert (dv.type, dv.formula1, dv.formula2, dv.prompt) == ("whole", "0", "100", "Điểm từ 0 đến 100.")
    assert not ws[f"{letter}2"].protection.locked
    guide = "\n".join(str(c.value) for row in wb[form.GUIDE_SHEET].iter_rows() for c in row if c.value)
    assert "Điểm đánh giá" in guide


def test_a_new_unit_field_gets_its_row(config, monkeypatch):
    extra = Field("meetings", "Số cuộc họp", Kind.INT, False, "Số cuộc họp trong tháng.", minimum=0)
    config, added = _new_version(config, monkeypatch, unit_fields=(extra,))
    wb = template.build_workbook(config, config.unit("TH"), FEB)
    row = form.UNIT_FIRST_ROW + len(added.unit_fields) - 1
    ws = wb[form.UNIT_SHEET]
    assert ws.cell(row, 1).value == "Số cuộc họp"
    dv = _validations(ws)[f"B{row}"]
    assert (dv.type, dv.operator, dv.formula1) == ("whole", "greaterThanOrEqual", "0")


# -- errors and determinism -----------------------------------------------------------------------


def test_unknown_unit_code_lists_the_valid_ones(config, tmp_path):
    with pytest.raises(UserError) as caught:
        template.write_unit_workbooks(config, FEB, tmp_path, ["TH", "XYZ"])
    message = str(caught.value)
    assert "“XYZ”" in message and "TCHC" in message and "NK" in message
    assert not list(tmp_path.iterdir())  # nothing written when one code is wrong


def test_period_outside_every_campaign(config, tmp_path):
    with pytest.raises(UserError, match="không thuộc đợt thi đua"):
        template.write_unit_workbooks(config, Period(2030, 1), tmp_path)


def test_all_units_by_default_and_same_bytes_twice(config, tmp_path):
    first = template.write_unit_workbooks(config, FEB, tmp_path / "a")
    second = template.write_unit_workbooks(config, FEB, tmp_path / "b")
    assert [p.name for p in first] == [form.template_file_name("2024-02", u.code) for u in config.units]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()


# -- the committed master form ---------------------------------------------------------------------


def _sheet_snapshot(ws) -> tuple:
    cells = tuple((c.coordinate, c.value) for row in ws.iter_rows() for c in row if c.value is not None)
    validations = tuple(
        sorted(
            (str(dv.sqref), dv.type, dv.operator, dv.formula1, dv.formula2, dv.prompt, dv.error)
            for dv in ws.data_validations.dataValidation
        )
    )
    return ws.title, ws.sheet_state, ws.protection.sheet, cells, validations


def test_master_form_is_blank(config):
    wb = openpyxl.load_workbook(MASTER)
    unit_ws = wb[form.UNIT_SHEET]
    for key in ("unit_code", "unit_name", "period"):
        assert unit_ws.cell(_unit_row(key), 2).value is None
    meta = wb[form.META_SHEET]
    assert [meta.cell(r, 2).value for r in range(1, 5)] == [form.FORM_ID, form.FORM_VERSION, None, None]


def test_committed_master_form_is_not_stale(config, tmp_path):
    fresh = template.write_master_form(config, tmp_path / template.MASTER_FILE_NAME)
    committed = openpyxl.load_workbook(MASTER)
    regenerated = openpyxl.load_workbook(fresh)
    assert committed.sheetnames == regenerated.sheetnames
    for name in committed.sheetnames:
        assert _sheet_snapshot(committed[name]) == _sheet_snapshot(regenerated[name]), (
            f"{MASTER} is stale: regenerate it with template.write_master_form"
        )
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (MASTER, BUNDLED)]
    assert digest[0] == digest[1], "input_templates/ and processor/data/templates/ must hold the same form"


# -- the reader accepts what the template produces -------------------------------------------------


def test_filled_template_is_accepted_by_validate(config, tmp_path):
    from processor.validate import validate_workbook

    path = template.write_unit_workbooks(config, FEB, tmp_path, ["KT"])[0]
    wb = openpyxl.load_workbook(path)
    unit_ws, staff_ws = wb[form.UNIT_SHEET], wb[form.STAFF_SHEET]
    unit_values = {
        "preparer": "Lê Thị Thủy",
        "prepared_on": dt.date(2024, 3, 1),
        "self_rating": "Hoàn thành tốt nhiệm vụ",
        "tasks_assigned": 5,
        "tasks_completed": 5,
    }
    for key, value in unit_values.items():
        unit_ws.cell(_unit_row(key), 2).value = value
    staff_ws.append([1, "Vũ Đức Thắng", dt.date(1980, 4, 30), "Trưởng phòng", "Công chức", "Có",
                     "Hoàn thành xuất sắc nhiệm vụ", "Có", 1, "Không", None])  # fmt: skip
    wb.save(path)
    data = path.read_bytes()
    received = ReceivedFile(path.name, path, hashlib.sha256(data).hexdigest(), dt.datetime(2024, 3, 1, 9))
    submission = validate_workbook(config, Incoming(received, data))
    assert submission.status is FileStatus.ACCEPTED, submission.findings
    assert submission.report.unit_code == "KT" and submission.report.period == FEB
    assert [p.name for p in submission.report.people] == ["Vũ Đức Thắng"]


@pytest.mark.slow  # LibreOffice takes seconds to start: `make test-slow`, which CI runs
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_opens_the_form(tmp_path):
    """LibreOffice converts the form without complaint (a form Excel would "repair" often fails here)."""
    profile = (tmp_path / "profile").as_uri()
    command = [
        "soffice", f"-env:UserInstallation={profile}", "--headless",
        "--convert-to", "pdf", "--outdir", str(tmp_path), str(MASTER),
    ]  # fmt: skip
    subprocess.run(command, capture_output=True, timeout=180, check=False)
    pdf = tmp_path / MASTER.with_suffix(".pdf").name
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")
    # The unit sheet, the (empty) staff sheet and the guide: one page each, nothing spilling over.
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf.read_bytes())) == 3
