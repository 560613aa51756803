"""Property: whatever a unit does to its workbook, or whatever happens to the bytes on the way,
validate_workbook never raises, and every file ends accepted or with at least one finding."""

from __future__ import annotations

import datetime as dt
import functools
import io

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processor import form
from processor.records import FileStatus
from processor.validate import validate_workbook
from tests import workbooks

SETTINGS = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@functools.cache
def base() -> bytes:
    return workbooks.xlsx()


cell_values = st.one_of(
    st.none(),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40),
    st.sampled_from(
        [
            "Có",
            " không ",
            "HTXSNV",
            "Tốt lắm",
            "05/01/1980",
            "31/02/1980",
            "1.500.000",
            "1,5",
            "=1+1",
            "NguyÔn V¨n A",
            "-",
            "#N/A",
            "'",
            "02/2024",
            "TCHC",
            "XYZ",
        ]
    ),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(2200, 12, 31)),
)
places = st.one_of(
    st.tuples(st.just(form.UNIT_SHEET), st.integers(1, 20), st.integers(1, 3)),
    st.tuples(st.just(form.STAFF_SHEET), st.integers(1, 9), st.integers(1, len(form.STAFF_FIELDS) + 1)),
    st.tuples(st.just(form.META_SHEET), st.integers(1, 5), st.integers(1, 2)),
)


def ends_well(sub) -> None:
    assert sub.status in set(FileStatus)
    if sub.status is not FileStatus.ACCEPTED:
        assert sub.findings, sub.status
    if sub.status is FileStatus.UNREADABLE:
        assert sub.report is None
    if any(f.is_error for f in sub.findings):
        assert sub.status is not FileStatus.ACCEPTED
    for finding in sub.findings:
        assert finding.message and finding.file


@SETTINGS
@given(edits=st.lists(st.tuples(places, cell_values), min_size=1, max_size=6))
def test_any_cell_edits(config, edits):
    wb = openpyxl.load_workbook(io.BytesIO(base()))
    for (sheet, row, col), value in edits:
        cell = wb[sheet].cell(row, col)
        if isinstance(value, float) and abs(value) > 1e15:
            value = str(value)
        cell.value = value
        if isinstance(value, str):
            cell.data_type = "s"
    ends_well(validate_workbook(config, workbooks.incoming(workbooks.save(wb))))


@SETTINGS
@given(
    flips=st.lists(st.tuples(st.integers(0, 10**9), st.integers(1, 255)), max_size=8),
    cut=st.one_of(st.none(), st.integers(0, 10**9)),
    junk=st.binary(max_size=64),
)
def test_any_damage_to_the_bytes(config, flips, cut, junk):
    data = bytearray(base())
    for position, mask in flips:
        data[position % len(data)] ^= mask
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    data = bytes(data) + junk
    ends_well(validate_workbook(config, workbooks.incoming(data)))


@SETTINGS
@given(data=st.binary(max_size=2048))
def test_any_bytes_at_all(config, data):
    ends_well(validate_workbook(config, workbooks.incoming(data)))


fragments = st.sampled_from(
    [b'<c r="XFD1048576"><v>1</v></c>', b"<f>1+1</f>", b"</row>", b"<row>", b'<c t="e"><v>#N/A</v></c>',
     b"<!DOCTYPE x>", b'<c r="A2" t="s"><v>99999</v></c>', b"<c><v>1</v></c>", b"&amp;", b"\xff\xfe", b"<"]
)  # fmt: skip


@SETTINGS
@given(
    edits=st.lists(
        st.tuples(st.integers(0, 10**9), st.integers(0, 40), st.one_of(fragments, st.binary(max_size=12))),
        min_size=1,
        max_size=5,
    )
)
def test_any_edit_of_the_sheet_xml(config, edits):
    """Damage inside a well-formed zip (CRCs recomputed): the XML scanners and calamine face it."""

    def edit(xml: bytes) -> bytes:
        for position, length, insert in edits:
            at = position % (len(xml) + 1)
            xml = xml[:at] + insert + xml[at + length :]
        return xml

    data = workbooks.rewrite_parts(base(), {workbooks.STAFF_PART: edit})
    ends_well(validate_workbook(config, workbooks.incoming(data)))
