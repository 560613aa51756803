"""Every validation worker has a memory ceiling (issue #12): no single file takes the batch past it.

The reader's bounds stop the files known to blow up calamine. The ceiling is for the ones they miss:
here the office's own limits are raised so far that the bounds let two such files through, and the
ceiling alone must turn each into a finding on that file while the others are read as usual.
"""

from __future__ import annotations

import io
import re
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from processor import processes
from processor.records import FileStatus
from processor.validate import validate_workbook
from processor.validation import WORKER_MEMORY_BUDGET
from tests import workbooks
from tests.conftest import REPO
from tests.test_faults import with_shared_strings
from tests.test_package_names import thidua_limited
from tests.workbooks import STAFF_PART, incoming, rewrite_parts

POSIX = pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_AS is POSIX")
MB = 1024 * 1024


def _allocate(size: int) -> int:
    return len(bytearray(size))


def _limit_and_size() -> tuple[int, int | None]:
    """The worker's address-space limit, and its size when it was measured (Linux only)."""
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    status = Path("/proc/self/status")
    if not status.exists():
        return soft, None
    size_kb = next(
        int(line.split()[1]) for line in status.read_text().splitlines() if line.startswith("VmSize")
    )
    return soft, size_kb * 1024


@POSIX
def test_a_worker_cannot_grow_past_its_budget_and_lives_on():
    with processes.process_pool(1, memory_budget=256 * MB) as pool:
        soft, size = pool.submit(_limit_and_size).result()
        assert soft != -1  # RLIM_INFINITY
        if size is not None:  # capped: what the worker held when it started plus the budget
            assert size < soft <= size + 256 * MB + 64 * MB
        assert pool.submit(_allocate, 64 * MB).result() == 64 * MB
        with pytest.raises(MemoryError):
            pool.submit(_allocate, 512 * MB).result()
        assert pool.submit(_allocate, 64 * MB).result() == 64 * MB  # the same worker goes on


def _far_cell() -> bytes:
    """A value at CV1048576, reached the ordinary way: calamine's grid for it is 3.3 GB."""
    row = b'<row r="1048576"><c r="CV1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    return rewrite_parts(workbooks.xlsx(), {STAFF_PART: lambda xml: xml.replace(b"</sheetData>", row)})


def _padded(size: int) -> bytes:
    """The staff sheet padded with `size` spaces (legal XML whitespace): 1 MB compressed, and a
    `size`-byte string in the worker once inflated."""
    data = workbooks.xlsx()
    xml = zipfile.ZipFile(io.BytesIO(data)).read(STAFF_PART)
    head, tail = xml.split(b"</sheetData>")
    packer = zlib.compressobj(1, zlib.DEFLATED, -15)
    chunks = [packer.compress(head)]
    block = b" " * (16 * MB)
    for _ in range(size // len(block)):
        chunks.append(packer.compress(block))
    chunks += [packer.compress(b"</sheetData>" + tail), packer.flush()]
    stream = b"".join(chunks)
    inflated = len(head) + size // len(block) * len(block) + len(b"</sheetData>") + len(tail)
    crc = zlib.crc32(head)
    for _ in range(size // len(block)):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(b"</sheetData>" + tail, crc)
    # The entry written as zipfile would, with the stream made here (zipfile would deflate 1 GB again).
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename != STAFF_PART:
                target.writestr(info, source.read(info.filename), zipfile.ZIP_DEFLATED)
    body = out.getvalue()
    central = body.index(b"PK\x01\x02")
    name = STAFF_PART.encode()
    # flags, method (deflate), time, date, CRC, sizes, name length: the same in both headers.
    fields = (
        b"\0\0\x08\0\0\0\x21\0"
        + crc.to_bytes(4, "little")
        + len(stream).to_bytes(4, "little")
        + inflated.to_bytes(4, "little")
        + len(name).to_bytes(2, "little")
    )
    local = b"PK\x03\x04\x14\0" + fields + b"\0\0" + name
    entry = b"PK\x01\x02\x14\0\x14\0" + fields + b"\0" * 12 + central.to_bytes(4, "little") + name
    directory = body[central : body.index(b"PK\x05\x06")]
    entries = len(zipfile.ZipFile(io.BytesIO(data)).infolist())
    start = central + len(local) + len(stream)
    size_cd = len(directory) + len(entry)
    end = (
        b"PK\x05\x06\0\0\0\0"
        + entries.to_bytes(2, "little") * 2
        + size_cd.to_bytes(4, "little")
        + start.to_bytes(4, "little")
        + b"\0\0"
    )
    return body[:central] + local + stream + directory + entry + end


def _raised_limits(tmp_path: Path) -> Path:
    """The office's config with the reader's bounds opened wide."""
    text = (REPO / "config.toml").read_text(encoding="utf-8")
    for key, value in {
        "max_rows": 1_048_576,
        "max_columns": 16_384,
        "max_uncompressed_mb": 4096,
        "max_part_mb": 4096,
        "max_compression_ratio": 1_000_000,
    }.items():
        text, count = re.subn(rf"(?m)^{key} = \d+", f"{key} = {value}", text)
        assert count == 1, key
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


@POSIX
@pytest.mark.slow
def test_files_past_the_ceiling_are_findings_and_the_others_are_read(tmp_path):
    far, padded, good = tmp_path / "xa.xlsx", tmp_path / "dem.xlsx", tmp_path / "tot.xlsx"
    far.write_bytes(_far_cell())
    padded.write_bytes(_padded(WORKER_MEMORY_BUDGET + 256 * MB))
    good.write_bytes(workbooks.xlsx())
    assert padded.stat().st_size < 20 * MB
    config = _raised_limits(tmp_path)

    started = time.perf_counter()
    # The whole command under 6 GB of address space: a ceiling that failed would fail the test, not press
    # the machine.
    proc = thidua_limited(
        "check", "--config", str(config), str(far), str(padded), str(good), cwd=tmp_path, gigabytes=6
    )
    assert time.perf_counter() - started < 120
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "memory allocation" in proc.stderr or proc.stderr == ""  # calamine's own words, if any
    lines = proc.stdout.splitlines()
    assert f"{good}: HỢP LỆ" in lines, proc.stdout
    # calamine's native code aborts its worker: tried alone, it aborts again and the file is a finding.
    assert f"{far}: 1 lỗi, 0 cảnh báo" in lines
    assert "bị dừng đột ngột" in proc.stdout
    # Python's own allocation fails: MemoryError in the worker, which goes on.
    assert f"{padded}: 1 lỗi, 0 cảnh báo" in lines
    assert "cần quá nhiều bộ nhớ" in proc.stdout


def _with_string_cells(strings: list[bytes], cells: int) -> bytes:
    """The form with a shared-strings part of `strings`, and `cells` cells past the staff list (columns
    M to V, where the form has nothing) using them in turn."""
    items = b"".join(b"<si><t>" + text + b"</t></si>" for text in strings)
    shared = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' + items + b"</sst>"
    rows = b"".join(
        b'<row r="%d">' % row
        + b"".join(
            b'<c r="%s%d" t="s"><v>%d</v></c>' % (column, row, (row * 10 + i) % len(strings))
            for i, column in enumerate(bytes([c]) for c in b"MNOPQRSTUV")
        )
        + b"</row>"
        for row in range(100, 100 + cells // 10)
    )
    data = with_shared_strings(workbooks.xlsx(), shared)
    return rewrite_parts(data, {STAFF_PART: lambda xml: xml.replace(b"</sheetData>", rows + b"</sheetData>")})


def test_one_long_shared_string_in_many_cells_is_refused_before_calamine(config):
    """12 KB on disk: calamine would copy the 1 MB string into 1,000 cells (2 GB resident on main)."""
    data = _with_string_cells([b"A" * 1_000_000], 1000)  # under 1 MiB: no ratio check
    assert len(data) < 20_000
    started = time.perf_counter()
    sub = validate_workbook(config, incoming(data))
    assert time.perf_counter() - started < 1.0
    assert sub.status is FileStatus.UNREADABLE
    [finding] = sub.findings
    assert finding.code == "strings_too_large" and "bộ nhớ" in finding.message


def test_many_short_shared_strings_in_a_large_sheet_are_read(config):
    """A large unit's file: 20,000 different short strings, 40,000 cells using them."""
    data = _with_string_cells([f"Ghi chú số {i}".encode() for i in range(20_000)], 40_000)
    sub = validate_workbook(config, incoming(data))
    assert sub.status is not FileStatus.UNREADABLE, sub.findings
    assert all(f.code != "strings_too_large" for f in sub.findings)
