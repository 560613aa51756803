"""The staff sheet's checks, one path for every sheet (the whole-column fast path that used to sit
beside the row loop is gone): each case is checked against what a clerk expects of that sheet, not
against a second implementation."""

from __future__ import annotations

import datetime as dt
import functools
import io
import unicodedata

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processor import form, validate
from processor.devtools import samples
from processor.records import FileStatus, Period
from processor.vntext import person_key
from tests import workbooks

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def check(config, data: bytes):
    return validate.validate_workbook(config, workbooks.incoming(data), True)


def staff_names(data: bytes) -> list[tuple[int, str]]:
    """(row, name) of every staff row with a name, read with openpyxl (not the product's reader)."""
    ws = openpyxl.load_workbook(io.BytesIO(data), read_only=True)[form.STAFF_SHEET]
    name_col = workbooks.staff_col("name")
    return [
        (row, unicodedata.normalize("NFC", " ".join(str(values[name_col - 1]).split())))
        for row, values in enumerate(ws.iter_rows(min_row=2, values_only=True), 2)
        if len(values) >= name_col and values[name_col - 1] not in (None, "")
    ]


def test_generated_unit_workbooks_give_every_named_row_as_a_person(config, tmp_path):
    periods = [Period(2024, 1), Period(2024, 2)]
    samples.generate_inbox(config, tmp_path, periods, seed=11, scenario="demo", as_email=False)
    files = sorted(tmp_path.rglob("*.xlsx"))
    assert len(files) > 20
    clean = 0
    for path in files:
        data = path.read_bytes()
        sub = check(config, data)
        if sub.findings:
            continue  # the demo has a few faulty files; tests/test_samples.py checks what they say
        clean += 1
        assert sub.status is FileStatus.ACCEPTED, path.name
        assert [(p.row, p.name) for p in sub.report.people] == staff_names(data), path.name
    assert clean > len(files) // 2


def test_clean_sheet_with_blank_rows_old_tone_names_and_latin1_text(config):
    spec = workbooks.Spec()
    spec.people = [
        workbooks.person(0, name="Bùi Thị Hoà", note="Ghi chú"),
        workbooks.person(1, name="Nguyễn Thuỷ", position="Chuyên viên chính"),
        workbooks.person(2, name="Lê Mê", seq=None, initiatives=None, discipline=None),
        workbooks.person(3, name="Tổng Văn Cường"),  # a surname, with a birth date: a person
        workbooks.person(4, name="Hà Văn Thủy"),
    ]
    data = workbooks.xlsx(spec, lambda wb: wb[form.STAFF_SHEET].insert_rows(4))  # a blank row
    sub = check(config, data)
    assert sub.findings == [] and sub.status is FileStatus.ACCEPTED
    people = sub.report.people
    assert [p.row for p in people] == [2, 3, 5, 6, 7]
    assert [p.name for p in people] == [
        "Bùi Thị Hoà",
        "Nguyễn Thuỷ",
        "Lê Mê",
        "Tổng Văn Cường",
        "Hà Văn Thủy",
    ]
    assert people[0].note == "Ghi chú" and people[1].position == "Chuyên viên chính"
    assert people[2].initiatives == 0 and people[2].discipline == people[0].discipline


BASE_ROW = 4  # the row of spec.people[2] below


@pytest.mark.parametrize(
    ("change", "code", "column"),
    [
        ({"name": "Bùi Thị Hòa", "birth_date": dt.date(1970, 1, 1)}, "duplicate_person", "name"),
        ({"name": "Lª V¨n A"}, "legacy_encoding_suspected", "name"),  # TCVN3 typed without its font
        ({"birth_date": dt.date(1930, 1, 1)}, "birth_date_unusual", "birth_date"),
        ({"initiatives": 2.5}, "not_whole_number", "initiatives"),
        ({"initiatives": 101}, "out_of_range", "initiatives"),
        ({"note": "x" * 501}, "too_long", "note"),
        ({"name": None}, "required", "name"),
        ({"name": "1.200"}, "name_without_letters", "name"),
        ({"name": "Tổng cộng", "birth_date": None}, "total_row_ignored", "name"),
    ],
)
def test_one_unusual_cell_gives_its_finding_at_that_cell(config, change, code, column):
    spec = workbooks.Spec()
    spec.people = [workbooks.person(0, name="Bùi Thị Hoà", birth_date=dt.date(1970, 1, 1))]
    spec.people += [workbooks.person(i) for i in range(1, 5)]
    spec.people[2] = workbooks.person(2, **change)
    sub = check(config, workbooks.xlsx(spec))
    assert [(f.code, f.sheet, f.cell) for f in sub.findings] == [
        (code, form.STAFF_SHEET, workbooks.staff_cell(2, column))
    ]
    rows = [p.row for p in sub.report.people]
    if code == "birth_date_unusual":  # a warning: the person is kept
        assert rows == [2, 3, 4, 5, 6]
    else:  # an error on the row, or a totals line: not a person
        assert rows == [2, 3, 5, 6]


@pytest.mark.parametrize(
    ("change", "key", "expected"),
    [
        ({"name": "Họ và tên"}, "name", None),  # a repeated header: not a person, no finding
        ({"name": " Trần Văn B"}, "name", "Trần Văn B"),
        ({"position": "Chuyên  viên"}, "position", "Chuyên viên"),
        ({"category": "công chức"}, "category", "same as row 3"),
        ({"registered": True}, "registered", "same as row 3"),
        ({"birth_date": "05/01/1980"}, "birth_date", dt.date(1980, 1, 5)),
        ({"seq": "1"}, "name", "Lê Hoàng Cường"),
    ],
)
def test_cells_the_checks_clean_quietly(config, change, key, expected):
    spec = workbooks.Spec()
    spec.people[2] = workbooks.person(2, **change)
    sub = check(config, workbooks.xlsx(spec))
    assert sub.findings == [] and sub.status is FileStatus.ACCEPTED
    by_row = {p.row: p for p in sub.report.people}
    if expected is None:
        assert BASE_ROW not in by_row and len(by_row) == 4
        return
    if expected == "same as row 3":
        expected = getattr(by_row[3], key)
    assert getattr(by_row[BASE_ROW], key) == expected


def test_a_choice_typed_as_its_code_is_clean(config):
    spec = workbooks.Spec()
    spec.people[1] = workbooks.person(1, rating="HTTNV")
    sub = check(config, workbooks.xlsx(spec))
    assert sub.findings == []
    people = sub.report.people
    assert people[1].rating == people[0].rating  # the code and the label "Hoàn thành tốt nhiệm vụ" alike


@functools.cache
def base() -> bytes:
    spec = workbooks.Spec()
    spec.people = [workbooks.person(i) for i in range(8)]
    return workbooks.xlsx(spec)


staff_values = st.one_of(
    st.sampled_from(
        [
            None, "", " ", "Có", "Không", "có", "Công chức", "Viên chức", "Hoàn thành tốt nhiệm vụ",
            "Hoàn thành xuất sắc nhiệm vụ", "Không hoàn thành nhiệm vụ", "Khiển trách", "Chuyên viên",
            "Tổng cộng", "Họ và tên", "Nguyễn Văn An", "Bùi Thị Hoà", "Lê Mê", "NguyÔn V¨n A", "'Có",
            "Có ", "1.500", "05/01/1980", 0, 1, 3.0, 2.5, -1, 100, 101, True,
            dt.date(1980, 1, 5), dt.date(2030, 1, 1), dt.datetime(1980, 1, 5), dt.datetime(1980, 1, 5, 8, 30),
        ]
    ),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
)  # fmt: skip


@SETTINGS
@given(
    edits=st.lists(
        st.tuples(st.integers(2, 9), st.integers(1, len(form.STAFF_FIELDS)), staff_values), max_size=4
    )
)
def test_any_staff_edits_leave_untouched_rows_as_they_were(config, edits):
    """Rows no edit touched are people exactly as in the unedited sheet, unless an edited row made one
    of them a duplicate (said on that row); no row is a person twice."""
    wb = openpyxl.load_workbook(io.BytesIO(base()))
    for row, col, value in edits:
        wb[form.STAFF_SHEET].cell(row, col).value = value
    sub = check(config, workbooks.save(wb))
    before = {p.row: p for p in check(config, base()).report.people}
    assert sub.report is not None
    after = {p.row: p for p in sub.report.people}
    touched = {row for row, _, _ in edits}
    flagged = {
        int("".join(c for c in f.cell if c.isdigit()))
        for f in sub.findings
        if f.sheet == form.STAFF_SHEET and f.cell
    }
    for row, person in before.items():
        if row in touched:
            continue
        if row in after:
            assert after[row] == person
        else:
            assert row in flagged  # the duplicate of an edited row: said on this row
    assert set(after) <= set(before) | touched
    assert len({person_key(p.name, p.birth_date) for p in after.values()}) == len(after)


def test_what_a_column_remembers_answers_only_for_the_same_value_of_the_same_type(config):
    """The staff loop remembers per column what a raw value became without a finding: TRUE after 1 in
    the initiatives column (equal in Python, not to a clerk) is still the wrong type, and a faulty
    value repeated row after row is said on every row."""
    spec = workbooks.Spec()
    spec.people = [workbooks.person(i, initiatives=1) for i in range(3)]
    spec.people += [workbooks.person(i, initiatives=2.5) for i in range(3, 6)]
    spec.people.append(workbooks.person(6, initiatives=True))
    sub = check(config, workbooks.xlsx(spec))
    assert [(f.code, f.cell) for f in sub.findings] == [
        ("not_whole_number", workbooks.staff_cell(3, "initiatives")),
        ("not_whole_number", workbooks.staff_cell(4, "initiatives")),
        ("not_whole_number", workbooks.staff_cell(5, "initiatives")),
        ("wrong_type", workbooks.staff_cell(6, "initiatives")),
    ]
    assert [p.initiatives for p in sub.report.people] == [1, 1, 1]


def test_latin1_text_is_judged_per_cell_where_a_font_tells_its_encoding(config):
    """A text whose accented letters are all Latin-1 is typed once per column for the rows without a
    legacy font ("Chuyên viên" is clean, the TCVN3 "Chuyªn viªn" is suspected on every row it is in),
    and a cell in a TCVN3 font is still converted with its font's certainty."""
    from openpyxl.styles import Font

    spec = workbooks.Spec()
    spec.people = [workbooks.person(i, position="Chuyên viên") for i in range(2)]
    spec.people += [workbooks.person(i, position="Chuyªn viªn") for i in range(2, 5)]

    def tcvn3_font(wb):
        wb[form.STAFF_SHEET][workbooks.staff_cell(4, "position")].font = Font(name=".VnTime")

    sub = check(config, workbooks.xlsx(spec, tcvn3_font))
    assert [(f.code, f.cell) for f in sub.findings] == [
        ("legacy_encoding_suspected", workbooks.staff_cell(2, "position")),
        ("legacy_encoding_suspected", workbooks.staff_cell(3, "position")),
        ("legacy_encoding_converted", workbooks.staff_cell(4, "position")),
    ]
    assert [(p.row, p.position) for p in sub.report.people] == [
        (2, "Chuyên viên"),
        (3, "Chuyên viên"),
        (6, "Chuyên viên"),
    ]


def test_a_column_of_dates_or_numbers_is_typed_whole_only_inside_its_range(config):
    """Birth dates and initiatives all in range are the values themselves; one outside, or one not
    whole, is said at its own cell while its neighbours stay clean."""
    spec = workbooks.Spec()
    spec.people = [
        workbooks.person(i, birth_date=dt.date(1970 + i, 1, 2), initiatives=float(i)) for i in range(6)
    ]
    clean = check(config, workbooks.xlsx(spec))
    assert clean.findings == []
    assert [(p.birth_date, p.initiatives) for p in clean.report.people] == [
        (dt.date(1970 + i, 1, 2), i) for i in range(6)
    ]
    assert all(type(p.initiatives) is int for p in clean.report.people)
    spec.people[1] = workbooks.person(1, birth_date=dt.date(1930, 1, 2), initiatives=1.0)
    spec.people[4] = workbooks.person(4, birth_date=dt.date(1974, 1, 2), initiatives=4.5)
    sub = check(config, workbooks.xlsx(spec))
    assert [(f.code, f.cell) for f in sub.findings] == [
        ("birth_date_unusual", workbooks.staff_cell(1, "birth_date")),
        ("not_whole_number", workbooks.staff_cell(4, "initiatives")),
    ]
