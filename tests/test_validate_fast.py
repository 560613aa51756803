"""The staff sheet's fast path (a column at a time, for sheets where every row is correct) gives
exactly what the row-by-row checks give: same records, same findings, same status."""

from __future__ import annotations

import datetime as dt
import functools
import io

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processor import form, validate
from processor.devtools import samples
from processor.records import Period
from tests import workbooks

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def both_ways(config, data: bytes, monkeypatch) -> tuple[object, object, bool]:
    """(submission with the fast path, submission without it, whether the fast path gave the people)."""
    taken = []
    fast_path = validate._staff_all_clean

    def spy(*args):
        out = fast_path(*args)
        taken.append(out is not None)
        return out

    with monkeypatch.context() as patch:
        patch.setattr(validate, "_staff_all_clean", spy)
        fast = validate.validate_workbook(config, workbooks.incoming(data), True)
    with monkeypatch.context() as patch:
        patch.setattr(validate, "_staff_all_clean", lambda *args: None)
        slow = validate.validate_workbook(config, workbooks.incoming(data), True)
    return fast, slow, any(taken)


def test_generated_unit_workbooks_take_the_fast_path_with_the_same_result(config, monkeypatch, tmp_path):
    periods = [Period(2024, 1), Period(2024, 2)]
    samples.generate_inbox(config, tmp_path, periods, seed=11, scenario="demo", as_email=False)
    files = sorted(tmp_path.rglob("*.xlsx"))
    assert len(files) > 20
    taken = 0
    for path in files:
        fast, slow, used = both_ways(config, path.read_bytes(), monkeypatch)
        assert fast == slow, path.name
        taken += used
    assert taken > len(files) // 2  # the demo has a few faulty files; most are clean


def test_clean_sheet_with_blank_rows_old_tone_names_and_latin1_text(config, monkeypatch):
    spec = workbooks.Spec()
    spec.people = [
        workbooks.person(0, name="Bùi Thị Hoà", note="Ghi chú"),
        workbooks.person(1, name="Nguyễn Thuỷ", position="Chuyên viên chính"),
        workbooks.person(2, name="Lê Mê", seq=None, initiatives=None, discipline=None),
        workbooks.person(3, name="Tổng Văn Cường"),  # a surname, with a birth date: a person
        workbooks.person(4, name="Hà Văn Thủy"),
    ]
    data = workbooks.xlsx(spec, lambda wb: wb[form.STAFF_SHEET].insert_rows(4))  # a blank row
    fast, slow, used = both_ways(config, data, monkeypatch)
    assert used and fast == slow
    assert [p.row for p in fast.report.people] == [2, 3, 5, 6, 7]


@pytest.mark.parametrize(
    "change",
    [
        {"name": "Bùi Thị Hòa", "birth_date": dt.date(1970, 1, 1)},  # the same person as row 2
        {"name": "Họ và tên"},  # a repeated header, not a person
        {"name": "Lª V¨n A"},  # TCVN3 typed without its font
        {"name": " Trần Văn B"},
        {"position": "Chuyên  viên"},
        {"category": "công chức"},
        {"birth_date": "05/01/1980"},
        {"birth_date": dt.date(1930, 1, 1)},
        {"initiatives": 2.5},
        {"initiatives": 101},
        {"seq": "1"},
        {"registered": True},
        {"note": "x" * 501},
        {"name": None},
    ],
)
def test_one_unusual_cell_gives_the_same_result(config, monkeypatch, change):
    spec = workbooks.Spec()
    spec.people = [workbooks.person(0, name="Bùi Thị Hoà", birth_date=dt.date(1970, 1, 1))]
    spec.people += [workbooks.person(i) for i in range(1, 5)]
    spec.people[2] = workbooks.person(2, **change)
    fast, slow, used = both_ways(config, workbooks.xlsx(spec), monkeypatch)
    assert fast == slow
    assert not used  # every one of these needs the row-by-row checks


def test_a_choice_typed_as_its_code_is_clean(config, monkeypatch):
    spec = workbooks.Spec()
    spec.people[1] = workbooks.person(1, rating="HTTNV")
    fast, slow, used = both_ways(config, workbooks.xlsx(spec), monkeypatch)
    assert used and fast == slow


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
        st.tuples(st.integers(2, 11), st.integers(1, len(form.STAFF_FIELDS)), staff_values), max_size=4
    )
)
def test_any_staff_edits_give_the_same_result_both_ways(config, monkeypatch, edits):
    wb = openpyxl.load_workbook(io.BytesIO(base()))
    for row, col, value in edits:
        wb[form.STAFF_SHEET].cell(row, col).value = value
    fast, slow, _ = both_ways(config, workbooks.save(wb), monkeypatch)
    assert fast == slow
