"""validate.py: what units really type is accepted, what is wrong is found at its exact cell."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import unicodedata

import pytest
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from processor import form, template
from processor.config import Unit
from processor.records import FileStatus, Period, Severity, Submission
from processor.validate import cross_check, validate_workbook
from tests import workbooks
from tests.workbooks import (
    FIXTURES,
    STAFF_PART,
    UNIT_PART,
    Spec,
    incoming,
    person,
    replace_cell,
    staff_cell,
    unit_cell,
)

NAME = "2024-02_TCHC_bao-cao-thi-dua.xlsx"


def run(config, data: bytes, accept_partial: bool = False, name: str = NAME) -> Submission:
    return validate_workbook(config, incoming(data, name), accept_partial)


def only(sub: Submission, code: str):
    """The one finding with `code`; fails if there is none or several."""
    found = [f for f in sub.findings if f.code == code]
    assert len(found) == 1, [(f.code, f.cell, f.message) for f in sub.findings]
    return found[0]


def codes(sub: Submission) -> list[str]:
    return [f.code for f in sub.findings]


# ------------------------------------------------------------------------------------------------
# A clean workbook


def test_clean_workbook_is_accepted_with_its_report(config):
    spec = Spec()
    spec.people[3].update(rating="Hoàn thành xuất sắc nhiệm vụ", category="Viên chức", initiatives=2)
    spec.people[4].update(registered="Không", discipline="Khiển trách", position=None)
    sub = run(config, workbooks.xlsx(spec))
    assert sub.status is FileStatus.ACCEPTED, sub.findings
    assert sub.findings == []
    assert (sub.unit_code, sub.period) == ("TCHC", Period(2024, 2))
    report = sub.report
    assert report is not None
    assert report.unit_name == "Phòng Tổ chức - Hành chính"
    assert report.preparer == "Nguyễn Thị Lập"
    assert report.phone == "0912345678"
    assert report.prepared_on == dt.date(2024, 3, 2)
    assert report.self_rating == "HTTNV"
    assert (report.tasks_assigned, report.tasks_completed) == (12, 12)
    assert report.donation_vnd == 1_500_000 and report.support_activities == 2
    assert [p.name for p in report.people] == [p["name"] for p in spec.people]
    assert [p.row for p in report.people] == [2, 3, 4, 5, 6]
    fourth, fifth = report.people[3], report.people[4]
    assert (fourth.rating, fourth.category, fourth.initiatives) == ("HTXSNV", "VC", 2)
    assert (fifth.registered, fifth.discipline, fifth.position) == (False, "Khiển trách", "")
    assert report.people[0].social is True and report.people[0].note == ""


def test_workbook_made_by_the_template_module(config):
    """H1's template, filled in like a unit would: the contract holds between writer and reader."""
    wb = template.build_workbook(config, config.unit("KT"), Period(2024, 3))
    unit_ws, staff_ws = wb[form.UNIT_SHEET], wb[form.STAFF_SHEET]
    labels = {unit_ws.cell(r, 1).value: r for r in range(1, 40)}
    answers = {
        "Người lập biểu": "Lê Văn Lập",
        "Ngày lập": dt.date(2024, 4, 2),
        "Tự đánh giá xếp loại tập thể": "Hoàn thành xuất sắc nhiệm vụ",
        "Số nhiệm vụ cấp trên giao trong kỳ": 5,
        "Số nhiệm vụ đã hoàn thành": 5,
    }
    for label, value in answers.items():
        unit_ws.cell(labels[label], 2).value = value
    for i in range(3):
        values = person(i, rating="Hoàn thành xuất sắc nhiệm vụ")
        for col, field in enumerate(form.STAFF_FIELDS, 1):
            if values.get(field.key) is not None:
                staff_ws.cell(2 + i, col).value = values[field.key]
    sub = run(config, workbooks.save(wb), name="2024-03_KT_bao-cao-thi-dua.xlsx")
    assert sub.status is FileStatus.ACCEPTED, sub.findings
    assert (sub.unit_code, sub.period) == ("KT", Period(2024, 3))
    assert sub.report is not None and len(sub.report.people) == 3
    assert sub.report.self_rating == "HTXSNV"


# ------------------------------------------------------------------------------------------------
# Accepted as people type it


def test_odd_case_spaces_nfd_and_abbreviations_are_accepted_silently(config):
    spec = Spec()
    nfd = unicodedata.normalize("NFD", "Trần Thị Bình")
    spec.people[0].update(registered=" có ", social="CÓ", rating="HTXSNV", category="công chức")
    spec.people[1].update(name=nfd, rating="httnv", registered="x", category="VC")
    spec.people[2].update(rating="HTNV", social="Không", category="Hợp đồng")
    spec.people[3].update(rating="KHTNV", discipline=" khiển trách ")
    spec.people[4].update(rating="Hoàn thành tốt", registered=unicodedata.normalize("NFD", "Có"))
    spec.unit["self_rating"] = "hoan thanh nhiem vu"  # no accents at all: still one option only
    sub = run(config, workbooks.xlsx(spec))
    assert sub.status is FileStatus.ACCEPTED, sub.findings
    assert codes(sub) == []
    people = sub.report.people
    assert [p.rating for p in people] == ["HTXSNV", "HTTNV", "HTNV", "KHTNV", "HTTNV"]
    assert [p.registered for p in people] == [True, True, True, True, True]
    assert [p.category for p in people][:3] == ["CC", "VC", "HĐLĐ"]
    assert people[2].social is False and people[3].discipline == "Khiển trách"
    assert people[1].name == "Trần Thị Bình" and unicodedata.is_normalized("NFC", people[1].name)
    assert sub.report.self_rating == "HTNV"


def test_numbers_typed_as_text(config):
    spec = Spec()
    spec.unit.update(
        donation_vnd="1.500.000", tasks_assigned="12", tasks_completed=" 2 ", support_activities="-"
    )
    spec.people[0]["initiatives"] = "2"
    spec.people[1]["initiatives"] = "không"
    sub = run(config, workbooks.xlsx(spec))
    assert sub.status is FileStatus.ACCEPTED, sub.findings
    assert codes(sub) == []
    assert sub.report.donation_vnd == 1_500_000
    assert (sub.report.tasks_assigned, sub.report.tasks_completed, sub.report.support_activities) == (
        12,
        2,
        0,
    )
    assert [p.initiatives for p in sub.report.people[:2]] == [2, 0]


@pytest.mark.parametrize(
    "typed", ["1,500,000", "1 500 000", "1.500.000 đồng", "1500000đ", "1.500.000,00", "1500000.0"]
)
def test_money_spellings(config, typed):
    spec = Spec()
    spec.unit["donation_vnd"] = typed
    sub = run(config, workbooks.xlsx(spec))
    assert sub.status is FileStatus.ACCEPTED and codes(sub) == [], sub.findings
    assert sub.report.donation_vnd == 1_500_000


def test_ambiguous_numbers_are_read_and_flagged(config):
    spec = Spec()
    spec.unit.update(tasks_assigned="1,500", tasks_completed=3, donation_vnd="1,5 triệu")
    sub = run(config, workbooks.xlsx(spec))
    assert sub.status is FileStatus.ACCEPTED
    assert only(sub, "ambiguous_number").cell == unit_cell("tasks_assigned")
    assert only(sub, "number_in_words").cell == unit_cell("donation_vnd")
    assert sub.report.tasks_assigned == 1500 and sub.report.donation_vnd == 1_500_000
    assert all(f.severity is Severity.WARNING for f in sub.findings)


@pytest.mark.parametrize(
    "typed", ["05/01/1980", "5/1/1980", "1980-01-05", "05-01-1980", "05.01.1980", "'05/01/1980"]
)
def test_dates_typed_as_text(config, typed):
    spec = Spec()
    spec.people[0]["birth_date"] = typed
    sub = run(config, workbooks.xlsx(spec))
    assert sub.status is FileStatus.ACCEPTED and codes(sub) == [], sub.findings
    assert sub.report.people[0].birth_date == dt.date(1980, 1, 5)


def test_dates_that_need_a_second_look(config):
    spec = Spec()
    spec.people[0]["birth_date"] = "01/25/1980"  # month first
    spec.people[1]["birth_date"] = "05/01/80"  # two-digit year
    spec.people[2]["birth_date"] = 29225  # an Excel date that lost its format
    sub = run(config, workbooks.xlsx(spec))
    assert sub.status is FileStatus.ACCEPTED
    assert only(sub, "date_order").cell == staff_cell(0, "birth_date")
    assert only(sub, "two_digit_year").cell == staff_cell(1, "birth_date")
    assert only(sub, "date_as_number").cell == staff_cell(2, "birth_date")
    assert [p.birth_date for p in sub.report.people[:3]] == [
        dt.date(1980, 1, 25),
        dt.date(1980, 1, 5),
        dt.date(1980, 1, 5),
    ]


def test_quote_prefixed_text_and_text_formulas_stay_text(config):
    def mutate(wb):
        cell = wb[form.STAFF_SHEET][staff_cell(0, "birth_date")]
        cell.value = "05/01/1980"
        cell.quotePrefix = True
        note = wb[form.STAFF_SHEET][staff_cell(1, "note")]
        note.value = "=1+1 không phải công thức"
        note.data_type = "s"

    sub = run(config, workbooks.xlsx(mutate=mutate))
    assert sub.status is FileStatus.ACCEPTED, sub.findings
    assert sub.report.people[0].birth_date == dt.date(1980, 1, 5)
    assert sub.report.people[1].note == "=1+1 không phải công thức"


def test_blank_rows_in_the_middle_and_rows_past_the_prepared_range(config):
    spec = Spec(prepared_rows=300)

    def mutate(wb):
        ws = wb[form.STAFF_SHEET]
        for col in range(1, len(form.STAFF_FIELDS) + 1):
            ws.cell(4, col).value = None  # person 3 erased: a blank row in the middle
        for col, key in enumerate(spec.columns, 1):
            value = person(7).get(key)
            if value is not None:
                ws.cell(350, col).value = value  # typed below the 300 prepared rows
        ws.cell(120, 1).value = 119  # a row holding only its number is not a person

    sub = run(config, workbooks.xlsx(spec, mutate))
    assert sub.status is FileStatus.ACCEPTED, sub.findings
    assert [p.row for p in sub.report.people] == [2, 3, 5, 6, 350]
    assert sub.report.people[-1].name == person(7)["name"]


def test_totals_line_and_repeated_header_are_not_people(config):
    spec = Spec()
    spec.people.append({"seq": None, "name": "Tổng cộng: 5 người", "initiatives": 2})
    spec.people.insert(2, {key: form.staff_field(key).label for key in spec.columns})
    sub = run(config, workbooks.xlsx(spec))
    assert sub.status is FileStatus.ACCEPTED, sub.findings
    assert only(sub, "total_row_ignored").cell == staff_cell(6, "name")
    assert [p.row for p in sub.report.people] == [2, 3, 5, 6, 7]


def test_a_name_without_letters_is_an_error(config):
    """A number in the name column (the row number typed twice, a figure pasted one column off) is no
    person: the unit is told which cell, whether the number was typed as text or as a number."""
    name_col = workbooks.staff_col("name")

    def mutate(wb):
        ws = wb[form.STAFF_SHEET]
        ws.cell(3, name_col).value = "5"
        ws.cell(4, name_col).value = 7
        ws.cell(5, name_col).value = "Lê Văn 2"  # letters and a digit: a name

    sub = run(config, workbooks.xlsx(mutate=mutate))
    wrong = [f for f in sub.findings if f.code == "name_without_letters"]
    letter = get_column_letter(name_col)
    assert [(f.cell, f.value, f.is_error) for f in wrong] == [
        (f"{letter}3", "5", True),
        (f"{letter}4", "7", True),
    ]
    assert all("không có chữ cái" in f.message for f in wrong)
    assert sub.status is FileStatus.REJECTED
    assert "Lê Văn 2" not in {f.value for f in sub.findings}


def test_merged_cells(config):
    def mutate(wb):
        ws = wb[form.STAFF_SHEET]
        col = workbooks.staff_col("category")
        for row in range(3, 7):
            ws.cell(row, col).value = None
        ws.merge_cells(start_row=2, start_column=col, end_row=6, end_column=col)
        wb[form.UNIT_SHEET].merge_cells(f"{unit_cell('preparer')}:C{workbooks.unit_row('preparer')}")

    sub = run(config, workbooks.xlsx(mutate=mutate))
    assert sub.status is FileStatus.ACCEPTED, sub.findings
    assert [p.category for p in sub.report.people] == ["CC"] * 5
    assert sub.report.preparer == "Nguyễn Thị Lập"


def test_formulas_with_cached_values_are_used(config):
    data = workbooks.xlsx()
    data = replace_cell(data, STAFF_PART, "I2", b'<c r="I2"><f>1+1</f><v>2</v></c>')
    cell = unit_cell("tasks_completed")
    data = replace_cell(
        data,
        UNIT_PART,
        cell,
        f'<c r="{cell}"><f>B{workbooks.unit_row("tasks_assigned")}</f><v>12</v></c>'.encode(),
    )
    sub = run(config, data)
    assert sub.status is FileStatus.ACCEPTED, sub.findings
    assert sub.report.people[0].initiatives == 2
    assert sub.report.tasks_completed == 12


def test_moved_columns_and_inserted_rows(config):
    spec = Spec()
    columns = list(spec.columns)
    columns[2], columns[6] = columns[6], columns[2]  # "Xếp loại tháng" now where "Ngày sinh" was
    spec.columns = tuple(columns)

    def mutate(wb):
        wb[form.UNIT_SHEET].insert_rows(5, 3)  # the unit added lines of its own above its data
        wb[form.STAFF_SHEET].insert_rows(1, 2)  # and a title above the header
        wb[form.STAFF_SHEET]["A1"] = "DANH SÁCH CÁ NHÂN"

    sub = run(config, workbooks.xlsx(spec, mutate))
    assert sub.status is FileStatus.ACCEPTED, sub.findings
    assert sub.report.people[0].birth_date == spec.people[0]["birth_date"]
    assert sub.report.people[0].row == 4
    assert sub.report.preparer == "Nguyễn Thị Lập"


def test_labels_with_marks_people_add(config):
    def mutate(wb):
        ws = wb[form.UNIT_SHEET]
        ws.cell(workbooks.unit_row("preparer"), 1).value = "Người lập biểu (*):"
        wb[form.STAFF_SHEET].cell(1, 2).value = "HỌ VÀ TÊN"

    sub = run(config, workbooks.xlsx(mutate=mutate))
    assert sub.status is FileStatus.ACCEPTED, sub.findings


# ------------------------------------------------------------------------------------------------
# Legacy Vietnamese encodings


def test_tcvn3_text_in_a_vntime_cell_is_converted_with_a_warning(config):
    def mutate(wb):
        cell = wb[form.STAFF_SHEET][staff_cell(0, "name")]
        cell.value = "NguyÔn V¨n An"
        cell.font = Font(name=".VnTime")

    sub = run(config, workbooks.xlsx(mutate=mutate))
    assert sub.status is FileStatus.ACCEPTED
    finding = only(sub, "legacy_encoding_converted")
    assert (finding.cell, finding.severity, finding.value) == ("B2", Severity.WARNING, "NguyÔn V¨n An")
    assert "Nguyễn Văn An" in finding.message and "TCVN3" in finding.message
    assert sub.report.people[0].name == "Nguyễn Văn An"


def test_vni_text_in_a_vni_font_cell_is_converted(config):
    def mutate(wb):
        cell = wb[form.UNIT_SHEET][unit_cell("preparer")]
        cell.value = "Nguyeãn Thò Laäp"
        cell.font = Font(name="VNI-Times")

    sub = run(config, workbooks.xlsx(mutate=mutate))
    assert only(sub, "legacy_encoding_converted").cell == unit_cell("preparer")
    assert sub.report.preparer == "Nguyễn Thị Lập"


def test_tcvn3_text_without_the_font_is_flagged_not_guessed(config):
    spec = Spec()
    spec.people[2]["name"] = "Lª Hoµng C­êng"
    sub = run(config, workbooks.xlsx(spec))
    finding = only(sub, "legacy_encoding_suspected")
    assert finding.cell == staff_cell(2, "name") and finding.is_error
    assert "Lê Hoàng Cường" in finding.message
    assert sub.status is FileStatus.REJECTED
    assert [p.row for p in sub.report.people] == [2, 3, 5, 6]  # the doubtful row is left out


def test_tcvn3_rating_matches_its_option(config):
    spec = Spec()
    spec.people[0]["rating"] = "Hoµn thµnh tèt nhiÖm vô"
    sub = run(config, workbooks.xlsx(spec))
    assert sub.status is FileStatus.ACCEPTED
    assert only(sub, "legacy_encoding_converted").cell == staff_cell(0, "rating")
    assert sub.report.people[0].rating == "HTTNV"


def test_xls_file_with_a_tcvn3_cell(config):
    data = (FIXTURES / "workbooks" / "bao-cao-tchc.xls").read_bytes()
    sub = run(config, data, name="bao-cao.xls")
    assert sub.status is FileStatus.ACCEPTED, sub.findings
    assert only(sub, "legacy_encoding_converted").cell == staff_cell(1, "name")
    reference = run(config, workbooks.xlsx())
    assert sub.report == reference.report  # the same report as the .xlsx it was saved from


# ------------------------------------------------------------------------------------------------
# Errors, each at its cell


def test_wrong_choice_names_the_options(config):
    spec = Spec()
    spec.people[4]["rating"] = "Tốt lắm"
    sub = run(config, workbooks.xlsx(spec))
    finding = only(sub, "allowed_values")
    assert finding.cell == "G6" and finding.sheet == form.STAFF_SHEET and finding.field == "Xếp loại tháng"
    assert finding.value == "Tốt lắm"
    assert finding.message.startswith("Ô G6: “Tốt lắm” không phải giá trị hợp lệ")
    assert "Chọn một trong: Hoàn thành xuất sắc nhiệm vụ; Hoàn thành tốt nhiệm vụ" in finding.message
    assert sub.status is FileStatus.REJECTED


@pytest.mark.parametrize(
    ("key", "value", "code"),
    [
        ("name", None, "required"),
        ("birth_date", None, "required"),
        ("birth_date", "31/02/1980", "invalid_date"),
        ("birth_date", "ngày sinh", "invalid_date"),
        ("birth_date", dt.date(2030, 1, 1), "invalid_date"),
        ("initiatives", -1, "out_of_range"),
        ("initiatives", 2.5, "not_whole_number"),
        ("initiatives", "hai", "not_a_number"),
        ("initiatives", 1000, "out_of_range"),
        ("note", "x" * 501, "too_long"),
        ("category", "Bộ đội", "allowed_values"),
        ("registered", None, "required"),
        ("social", True, None),
        ("discipline", "Nhắc nhở", "allowed_values"),
    ],
)
def test_staff_cell_errors(config, key, value, code):
    spec = Spec()
    spec.people[1][key] = value
    sub = run(config, workbooks.xlsx(spec))
    if code is None:
        assert sub.status is FileStatus.ACCEPTED, sub.findings
        return
    finding = only(sub, code)
    assert finding.is_error
    assert finding.cell == staff_cell(1, key)
    assert finding.field == form.staff_field(key).label
    assert finding.file == NAME
    assert sub.status is FileStatus.REJECTED
    assert len(sub.report.people) == 4  # the row with the error is left out


def test_unit_sheet_errors(config):
    spec = Spec()
    spec.unit.update(tasks_assigned=3, tasks_completed=5, preparer=None, phone="12345", prepared_on="hôm qua")
    sub = run(config, workbooks.xlsx(spec))
    assert only(sub, "tasks_exceed").cell == unit_cell("tasks_completed")
    assert only(sub, "required").cell == unit_cell("preparer")
    assert only(sub, "phone_format").cell == unit_cell("phone")
    assert only(sub, "phone_format").severity is Severity.WARNING
    assert only(sub, "invalid_date").cell == unit_cell("prepared_on")
    assert sub.status is FileStatus.REJECTED


def test_uncached_formula_is_a_finding_never_a_zero(config):
    data = replace_cell(workbooks.xlsx(), STAFF_PART, "I3", b'<c r="I3"><f>SUM(I2:I2)</f></c>')
    cell = unit_cell("tasks_assigned")
    data = replace_cell(data, UNIT_PART, cell, f'<c r="{cell}"><f>10+2</f><v></v></c>'.encode())
    sub = run(config, data)
    findings = [f for f in sub.findings if f.code == "formula_not_calculated"]
    assert sorted(f.cell for f in findings) == sorted([cell, "I3"])
    assert all(f.is_error for f in findings)
    assert "=SUM(I2:I2)" in next(f.message for f in findings if f.cell == "I3")
    assert sub.status is FileStatus.REJECTED


def test_error_value_of_a_formula(config):
    data = replace_cell(workbooks.xlsx(), STAFF_PART, "I2", b'<c r="I2" t="e"><f>1/0</f><v>#DIV/0!</v></c>')
    finding = only(run(config, data), "formula_error")
    assert finding.cell == "I2" and "#DIV/0!" in finding.message


def test_duplicate_person_folds_tone_placement(config):
    spec = Spec()
    spec.people[4].update(name="Bùi Thị Hòa", birth_date=spec.people[0]["birth_date"])
    spec.people[0].update(name="BÙI THỊ HOÀ")
    sub = run(config, workbooks.xlsx(spec))
    finding = only(sub, "duplicate_person")
    assert finding.cell == staff_cell(4, "name")
    assert "dòng 2" in finding.message
    assert len(sub.report.people) == 4


def test_same_name_other_birth_date_is_another_person(config):
    spec = Spec()
    spec.people[1]["name"] = spec.people[0]["name"]
    sub = run(config, workbooks.xlsx(spec))
    assert sub.status is FileStatus.ACCEPTED, sub.findings


def test_unit_rating_above_what_staff_allow(config):
    spec = Spec()
    spec.unit["self_rating"] = "Hoàn thành xuất sắc nhiệm vụ"
    spec.people[0]["rating"] = "Không hoàn thành nhiệm vụ"
    sub = run(config, workbooks.xlsx(spec))
    finding = only(sub, "self_rating_above_staff")
    assert finding.severity is Severity.WARNING and finding.cell == unit_cell("self_rating")
    assert sub.status is FileStatus.ACCEPTED
    spec.people[0]["rating"] = "Hoàn thành tốt nhiệm vụ"
    assert codes(run(config, workbooks.xlsx(spec))) == []


def test_no_staff_rows(config):
    sub = run(config, workbooks.xlsx(Spec(people=[])))
    assert only(sub, "no_staff").sheet == form.STAFF_SHEET
    assert sub.status is FileStatus.REJECTED


def test_missing_required_column_and_label(config):
    spec = Spec()
    spec.columns = tuple(k for k in spec.columns if k != "rating")

    def mutate(wb):
        wb[form.UNIT_SHEET].cell(workbooks.unit_row("preparer"), 1).value = "Ghi chú khác"

    sub = run(config, workbooks.xlsx(spec, mutate))
    assert only(sub, "missing_column").field == "Xếp loại tháng"
    assert only(sub, "missing_field").field == "Người lập biểu"
    assert sub.status is FileStatus.REJECTED


# ------------------------------------------------------------------------------------------------
# Which unit and period


def test_metadata_disagreeing_with_the_visible_cells(config):
    spec = Spec()
    spec.unit.update(unit_code="KT", period="03/2024")
    sub = run(config, workbooks.xlsx(spec), accept_partial=True)
    assert only(sub, "unit_mismatch").cell == unit_cell("unit_code")
    assert only(sub, "period_mismatch").cell == unit_cell("period")
    assert sub.status is FileStatus.REJECTED  # never used, even with --accept-partial
    assert (sub.unit_code, sub.period) == ("TCHC", Period(2024, 2))


def test_missing_metadata_sheet_uses_the_visible_cells(config):
    spec = Spec(meta=None)
    spec.unit["unit_code"] = "kt"
    sub = run(config, workbooks.xlsx(spec))
    finding = only(sub, "metadata_missing")
    assert finding.severity is Severity.WARNING
    assert sub.status is FileStatus.ACCEPTED
    assert (sub.unit_code, sub.period) == ("KT", Period(2024, 2))


def test_unknown_unit_and_period_outside_every_campaign(config):
    spec = Spec(meta=None)
    spec.unit.update(unit_code="XYZ", period="02/2023")
    sub = run(config, workbooks.xlsx(spec))
    assert only(sub, "unknown_unit").cell == unit_cell("unit_code")
    assert "TCHC" in only(sub, "unknown_unit").message
    assert only(sub, "period_outside_campaign").cell == unit_cell("period")
    assert sub.unit_code is None and sub.period is None and sub.report is None
    assert sub.status is FileStatus.REJECTED


def test_period_typed_as_a_date_or_in_other_forms(config):
    for typed in (dt.date(2024, 2, 1), "2/2024", "2024-02", "Tháng 02/2024", "02-2024"):
        spec = Spec()
        spec.unit["period"] = typed
        sub = run(config, workbooks.xlsx(spec))
        assert sub.status is FileStatus.ACCEPTED and sub.period == Period(2024, 2), (typed, sub.findings)


def test_other_form_and_newer_version(config):
    spec = Spec()
    spec.meta["form_version"] = "9"
    sub = run(config, workbooks.xlsx(spec))
    unknown = only(sub, "form_version_unknown")
    assert unknown.is_error and "“9”" in unknown.message
    assert f"phiên bản {form.LATEST_VERSION}" in unknown.message
    spec.meta["form_id"] = "bao-cao-khac"
    assert only(run(config, workbooks.xlsx(spec)), "wrong_form").is_error


def test_not_our_workbook_at_all(config):
    def mutate(wb):
        for ws in list(wb.worksheets):
            if ws.title != form.GUIDE_SHEET:
                wb.remove(ws)

    sub = run(config, workbooks.xlsx(mutate=mutate))
    assert only(sub, "wrong_form").is_error
    assert sub.status is FileStatus.REJECTED and sub.report is None


# ------------------------------------------------------------------------------------------------
# --accept-partial


def test_accept_partial_keeps_the_valid_rows(config):
    spec = Spec()
    spec.people[1]["rating"] = "Tốt lắm"
    strict = run(config, workbooks.xlsx(spec))
    partial = run(config, workbooks.xlsx(spec), accept_partial=True)
    assert strict.status is FileStatus.REJECTED
    assert partial.status is FileStatus.ACCEPTED_PARTIAL
    assert [p.row for p in partial.report.people] == [2, 4, 5, 6]
    assert strict.report == partial.report


# ------------------------------------------------------------------------------------------------
# Across files


def _submission(config, code: str, period: Period, people: list[dict], when_day: int = 3) -> Submission:
    spec = Spec(people=people)
    spec.unit.update(unit_code=code, unit_name=config.unit(code).name, period=period.label)
    spec.unit["prepared_on"] = period.next().first_day
    spec.meta.update(unit_code=code, period=str(period))
    sub = run(config, workbooks.xlsx(spec), name=f"{period}_{code}.xlsx")
    assert sub.status is FileStatus.ACCEPTED, sub.findings
    return sub


def test_person_reported_by_two_units(config):
    shared = person(0)
    first = _submission(config, "TCHC", Period(2024, 2), [shared, person(1)])
    second = _submission(config, "KT", Period(2024, 2), [person(2), {**shared, "name": "NGUYỄN VĂN AN"}])
    later = _submission(config, "KT", Period(2024, 3), [person(2), person(0)])  # moved: another month
    cross_check(config, [first, second, later])
    one, two = only(first, "person_in_two_units"), only(second, "person_in_two_units")
    assert one.cell == "B2" and two.cell == "B3"
    assert "KT" in one.message and "TCHC" in two.message
    assert one.severity is Severity.WARNING
    assert codes(later) == []
    cross_check(config, [first, second, later])  # run twice: no duplicate findings
    assert codes(first) == ["person_in_two_units"]


def test_headcount_change_since_the_previous_accepted_month(config):
    january = _submission(config, "TCHC", Period(2024, 1), [person(i) for i in range(10)])
    february = _submission(config, "TCHC", Period(2024, 2), [person(i) for i in range(7)])
    march = _submission(config, "TCHC", Period(2024, 3), [person(i) for i in range(8)])
    cross_check(config, [march, january, february])
    finding = only(february, "headcount_change")
    assert finding.severity is Severity.WARNING
    assert "10" in finding.message and "giảm 30,0%" in finding.message
    assert codes(march) == [] and codes(january) == []  # 7 -> 8 is within 20%


def test_cross_check_is_linear(config):
    """2,000 units x 50 people in one call: dictionaries, not pairs."""
    from tests.factories import Row, report, submission

    config = dataclasses.replace(config, units=[Unit(f"U{i}", f"Đơn vị {i}") for i in range(2000)])
    subs = []
    for i, unit in enumerate(config.units):
        rows = [Row(f"Người {i} {j}", dt.date(1980, 1, 1 + j % 28)) for j in range(50)]
        subs.append(submission(report(unit, Period(2024, 2), rows), dt.datetime(2024, 3, 1)))
    started = time.process_time()  # CPU time: a busy machine (xdist, CI neighbours) does not count
    cross_check(config, subs)
    assert time.process_time() - started < 3  # pairs of 100,000 people would take hours
    assert all(s.findings == [] for s in subs)
