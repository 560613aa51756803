"""Inputs found by fuzzing the received files (benchmarks/fuzz_inputs.py), kept as regression tests.

Real files are written and checked by the real `thidua check` in a subprocess: before the fixes, some of
these made calamine abort the whole process on a failed allocation of tens of gigabytes.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

from tests import workbooks
from tests.conftest import REPO
from tests.workbooks import STAFF_PART, replace_cell


def _limit_memory() -> None:
    """3 GB of address space: a reader that runs away fails at once instead of pressing the machine."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))


def _check(files: list[Path], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONPATH": str(REPO)}  # this checkout
    return subprocess.run(
        [sys.executable, "-m", "processor", "check", "--config", str(REPO / "config.toml"), *map(str, files)],
        preexec_fn=_limit_memory if sys.platform != "win32" else None,
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
    )


# Cell references calamine reads but the extent scan did not: lower case, more than three letters, more
# than seven digits, single quotes, spaces around "=", a line break before the attribute.
FAR_CELLS = {
    "eight-digit-row": b'<c r="B99999999" t="inlineStr"><is><t>x</t></is></c>',
    "lower-case": b'<c r="xfd1048576" t="inlineStr"><is><t>x</t></is></c>',
    "many-letters": b'<c r="ZZZZZZZZ3" t="inlineStr"><is><t>x</t></is></c>',
    "single-quotes": b"<c r='XFD1048576' t=\"inlineStr\"><is><t>x</t></is></c>",
    "spaced": b'<c r = "XFD1048576" t="inlineStr"><is><t>x</t></is></c>',
    "line-break": b'<c\nr="XFD1048576" t="inlineStr"><is><t>x</t></is></c>',
    # calamine's row number wraps at 2**32: this one would land on row 1, silently.
    "wrapping-row": b'<c r="B4294967297" t="inlineStr"><is><t>x</t></is></c>',
}


def test_far_cell_references_in_any_spelling_are_refused_not_fatal(tmp_path):
    base = workbooks.xlsx()
    files = []
    for name, cell in FAR_CELLS.items():
        path = tmp_path / f"{name}.xlsx"
        path.write_bytes(replace_cell(base, STAFF_PART, "B3", cell))
        files.append(path)
    proc = _check(files, tmp_path)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and "memory allocation" not in proc.stderr
    for path in files:
        head = next(line for line in proc.stdout.splitlines() if line.startswith(str(path)))
        assert head.endswith("1 lỗi, 0 cảnh báo"), proc.stdout
    assert proc.stdout.count("có dữ liệu tới") == len(files), proc.stdout


def test_part_names_quoted_in_a_finding_carry_no_control_characters(tmp_path, config):
    """A relationship target naming a missing part, with a raw BEL and terminal escape sequence in it."""
    from processor.pipeline import ingest_paths
    from tests.workbooks import rewrite_parts

    target = b"worksheets/sheet2.xml"
    data = rewrite_parts(
        workbooks.xlsx(),
        {"xl/_rels/workbook.xml.rels": lambda xml: xml.replace(target, b"worksheets/\x07\x1b[2Jx.xml")},
    )
    path = tmp_path / "bao-cao.xlsx"
    path.write_bytes(data)
    [sub] = ingest_paths(config, [path]).submissions
    [finding] = sub.findings
    assert finding.code == "corrupt" and "worksheets/[2Jx.xml" in finding.message
    assert finding.message.isprintable()


def test_a_renamed_optional_column_is_a_warning_not_lost_data(tmp_path, config):
    """`Số sáng kiến, giải pháp` retitled `Sáng kiến` (or `Kỷ luật` retitled): the column's values were
    dropped without a word, everyone counted with no initiative or no discipline."""
    from processor import form
    from processor.pipeline import ingest_paths
    from processor.records import FileStatus
    from tests.workbooks import Spec, person

    spec = Spec()
    spec.people = [person(0, initiatives=2), person(1, discipline="Khiển trách")]
    renames = {"initiatives": "Sáng kiến", "discipline": "Hình thức kỷ luật"}

    def retitle(wb):
        sheet = wb[form.STAFF_SHEET]
        for cell in sheet[1]:
            for key, title in renames.items():
                if cell.value == form.staff_field(key).label:
                    cell.value = title

    path = tmp_path / "bao-cao.xlsx"
    path.write_bytes(workbooks.xlsx(spec, retitle))
    [sub] = ingest_paths(config, [path]).submissions
    assert sub.status is FileStatus.ACCEPTED
    warned = {f.field: f for f in sub.findings if f.code == "missing_optional_column"}
    assert set(warned) == {"Số sáng kiến, giải pháp", "Kỷ luật"}, sub.findings
    assert "coi cột này là “0” cho mọi người" in warned["Số sáng kiến, giải pháp"].message
    assert warned["Kỷ luật"].sheet == form.STAFF_SHEET and not warned["Kỷ luật"].is_error


def test_a_lost_optional_unit_label_is_a_warning_not_lost_data(tmp_path, config):
    """The `Đơn vị` sheet is read by its labels in column A: a retitled (or error-valued) label of the
    donation row made the 1,800,000 đồng in B silently 0."""
    from processor import form
    from processor.pipeline import ingest_paths
    from processor.records import FileStatus
    from tests.workbooks import Spec, unit_row

    spec = Spec()
    spec.unit["donation_vnd"] = 1_800_000

    def retitle(wb):
        wb[form.UNIT_SHEET].cell(unit_row("donation_vnd"), 1).value = "Tiền ủng hộ"

    path = tmp_path / "bao-cao.xlsx"
    path.write_bytes(workbooks.xlsx(spec, retitle))
    [sub] = ingest_paths(config, [path]).submissions
    assert sub.status is FileStatus.ACCEPTED
    [finding] = sub.findings
    assert finding.code == "missing_optional_field" and not finding.is_error
    assert finding.sheet == form.UNIT_SHEET and finding.field == form.unit_field("donation_vnd").label
    assert "coi số liệu này là “0”" in finding.message


def test_an_error_cell_typed_with_single_quotes_is_still_an_error(tmp_path, config):
    """<c t='e'>: valid XML that calamine reads as an empty cell; the scan only knew t="e", so #N/A in
    the donation cell became 0 without a finding."""
    from processor import form
    from processor.pipeline import ingest_paths
    from tests.workbooks import UNIT_PART, unit_cell

    ref = unit_cell("donation_vnd")
    data = replace_cell(workbooks.xlsx(), UNIT_PART, ref, f"<c r=\"{ref}\" t='e'><v>#N/A</v></c>".encode())
    path = tmp_path / "bao-cao.xlsx"
    path.write_bytes(data)
    [sub] = ingest_paths(config, [path]).submissions
    [finding] = sub.findings
    assert finding.code == "formula_error" and finding.cell == ref and finding.sheet == form.UNIT_SHEET
    assert "#N/A" in finding.message


def _xls_with_workbook_stream(tmp_path: Path, name: str, edit) -> Path:
    """A copy of the .xls fixture whose Workbook stream (same size) is edited record by record."""
    import olefile

    path = tmp_path / name
    path.write_bytes((REPO / "tests" / "fixtures" / "workbooks" / "bao-cao-tchc.xls").read_bytes())
    with olefile.OleFileIO(str(path), write_mode=True) as ole:
        stream = bytearray(ole.openstream("Workbook").read())
        edit(stream)
        ole.write_stream("Workbook", bytes(stream))
    return path


def _records(stream: bytes):
    position = 0
    while position + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, position)
        yield position, kind, length
        position += 4 + length


def test_damaged_xls_records_are_findings_not_crashes(tmp_path):
    """A DIMENSIONS record whose first row lies past its last made calamine reserve petabytes and abort;
    a cell record cut off by the end of the stream raised struct.error out of the batch."""

    def dimensions_backwards(stream: bytearray) -> None:
        position = next(p for p, kind, _ in _records(stream) if kind == 0x0200)
        struct.pack_into("<II", stream, position + 4, 0x67006E00, 0x43002000)

    def cell_cut_off(stream: bytearray) -> None:
        position, kind, length = list(_records(stream))[-1]
        assert (kind, length, position + 4) == (0x000A, 0, len(stream))  # EOF, the last record
        struct.pack_into("<HH", stream, position, 0x0203, 14)  # a NUMBER record with no room left

    files = [
        _xls_with_workbook_stream(tmp_path, "kich-thuoc.xls", dimensions_backwards),
        _xls_with_workbook_stream(tmp_path, "cut.xls", cell_cut_off),
    ]
    proc = _check(files, tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert "memory allocation" not in proc.stderr
    for path in files:
        assert f"{path}: 1 lỗi" in proc.stdout, proc.stdout


def test_xls_whose_allocation_table_loops_is_refused(tmp_path):
    """A zeroed FAT sector makes every sector's next sector 0: olefile reads streams by their size and
    did not notice, calamine followed the chain for ever and aborted at a 4 GB buffer."""
    path = tmp_path / "fat.xls"
    data = bytearray((REPO / "tests" / "fixtures" / "workbooks" / "bao-cao-tchc.xls").read_bytes())
    first_fat_sector = struct.unpack_from("<I", data, 76)[0]  # the header's first DIFAT entry
    start = (first_fat_sector + 1) * 512
    data[start : start + 512] = bytes(512)
    path.write_bytes(bytes(data))
    proc = _check([path], tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert f"{path}: 1 lỗi" in proc.stdout and "Tệp bị hỏng" in proc.stdout, proc.stdout


def test_a_sheet_not_laid_out_as_the_form_gets_no_optional_row_warnings(tmp_path, config):
    from processor import form
    from processor.pipeline import ingest_paths

    def clear_labels(wb):
        for row in wb[form.UNIT_SHEET].iter_rows(max_col=1):
            row[0].value = None

    path = tmp_path / "bao-cao.xlsx"
    path.write_bytes(workbooks.xlsx(mutate=clear_labels))
    [sub] = ingest_paths(config, [path]).submissions
    codes = [f.code for f in sub.findings]
    assert "missing_field" in codes and "missing_optional_field" not in codes
