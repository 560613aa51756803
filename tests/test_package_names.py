"""The package check reads what calamine reads (issue #12): one byte stream per part.

A relationship naming `worksheets/../worksheets/sheet2.xml` beside a zip entry of that literal name was
checked as the harmless `xl/worksheets/sheet2.xml` while calamine opened the literal entry: a value at
CV1048576 took `thidua check` to 4.2 GB and 28 s, and a unit sheet saying 3 tasks done was counted as 10.
Every way of naming one part twice is now refused before calamine sees the file.
"""

from __future__ import annotations

import functools
import io
import json
import os
import re
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from processor import form
from processor.records import FileStatus
from processor.validate import validate_workbook
from tests import workbooks
from tests.conftest import REPO
from tests.workbooks import STAFF_PART, UNIT_PART, incoming, rewrite_parts

RELS = "xl/_rels/workbook.xml.rels"
SST_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
FAR_ROW = b'<row r="1048576"><c r="CV1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'


def _target_of(data: bytes, part: str) -> bytes:
    """The relationship target that names `part`, as this workbook's writer wrote it."""
    rels = zipfile.ZipFile(io.BytesIO(data)).read(RELS)
    name = part.removeprefix("xl/").encode()
    return re.search(rb'Target="(/xl/' + re.escape(name) + rb"|" + re.escape(name) + rb')"', rels).group(1)


def literal_twin(data: bytes, part: str, twin: bytes) -> bytes:
    """The attack: the relationship for `part` goes through `..`, and an entry of that literal name holds
    `twin`; the entry `part` itself stays as it was."""
    folder, _, name = part.removeprefix("xl/").rpartition("/")
    detour = f"{folder}/../{folder}/{name}"
    target = _target_of(data, part)
    edit = {RELS: lambda xml: xml.replace(b'"' + target + b'"', f'"{detour}"'.encode()), f"xl/{detour}": twin}
    return rewrite_parts(data, edit)


def _part(data: bytes, name: str) -> bytes:
    return zipfile.ZipFile(io.BytesIO(data)).read(name)


def far_cell_twin(data: bytes) -> bytes:
    """A genuine workbook whose staff sheet, as calamine would read it, has a value at CV1048576."""
    return literal_twin(data, STAFF_PART, _part(data, STAFF_PART).replace(b"</sheetData>", FAR_ROW))


def assert_unusual(data: bytes, config) -> None:
    sub = validate_workbook(config, incoming(data))
    assert sub.status is FileStatus.UNREADABLE, sub.findings
    [finding] = sub.findings
    assert finding.code == "unusual_structure", finding
    assert finding.message.startswith("Cấu trúc tệp Excel bất thường")
    assert "lưu lại" in finding.message and "gửi lại" in finding.message


def test_the_unit_sheet_calamine_would_read_is_not_the_one_checked(config):
    """Visible sheet: 3 tasks done. The literal twin says 10, and calamine reads the twin."""
    import python_calamine

    spec = workbooks.Spec()
    spec.unit["tasks_completed"] = 3
    genuine = workbooks.xlsx(spec)
    spec.unit["tasks_completed"] = 10
    twin = _part(workbooks.xlsx(spec), UNIT_PART)
    data = literal_twin(genuine, UNIT_PART, twin)

    # What the attack relies on, so that this test fails if calamine ever stops reading the twin.
    label_row = workbooks.unit_row("tasks_completed")
    rows = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(form.UNIT_SHEET)
    assert rows.to_python()[label_row - 1][1] == 10

    assert validate_workbook(config, incoming(genuine)).report.tasks_completed == 3
    assert_unusual(data, config)


def test_a_far_cell_in_the_literal_twin_is_refused_before_calamine(config):
    data = far_cell_twin(workbooks.xlsx())
    assert len(data) < 30_000
    started = time.perf_counter()
    assert_unusual(data, config)
    assert time.perf_counter() - started < 1.0


def _entry_renamed(data: bytes, old: str, new: str, extra: bytes = b"") -> bytes:
    """A copy whose entry `old` is stored under the raw name `new` (anything zipfile would not write)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            copy = zipfile.ZipInfo(new if info.filename == old else info.filename, info.date_time)
            copy.compress_type = zipfile.ZIP_DEFLATED
            if info.filename == old:
                copy.extra = extra
            target.writestr(copy, source.read(info.filename))
    return out.getvalue()


def _unicode_path(name: str, shown: str) -> bytes:
    """Info-ZIP Unicode Path extra field: calamine's zip library reads `shown` as the entry's name."""
    body = b"\x01" + struct.pack("<I", zlib.crc32(name.encode())) + shown.encode()
    return struct.pack("<HH", 0x7075, len(body)) + body


def _add_relationship(xml: bytes, rel: str) -> bytes:
    return xml.replace(b"</Relationships>", rel.encode() + b"</Relationships>")


HARMLESS = "xl/worksheets/harmless.xml"


def retarget(data: bytes, target: str) -> bytes:
    """The staff sheet's relationship names `target`, and an entry of that literal name (below xl/) holds
    the far-cell twin: the harmless entry stays for a check that resolves names its own way."""
    twin = _part(data, STAFF_PART).replace(b"</sheetData>", FAR_ROW)
    old = b'Target="' + _target_of(data, STAFF_PART) + b'"'
    new = f'Target="{target}"'.encode()
    return rewrite_parts(data, {RELS: lambda xml: xml.replace(old, new), f"xl/{target}": twin})


UNUSUAL = {
    "dot segment": lambda d: retarget(d, "./worksheets/sheet2.xml"),
    "backslash target": lambda d: retarget(d, "worksheets\\sheet2.xml"),
    "percent-escape": lambda d: retarget(d, "worksheets/sheet%32.xml"),
    "character reference": lambda d: retarget(d, "worksheets/&#115;heet2.xml"),
    "double slash": lambda d: retarget(d, "worksheets//sheet2.xml"),
    "entry with a backslash": lambda d: _entry_renamed(d, STAFF_PART, STAFF_PART.replace("/", "\\")),
    "entry with a dot segment": lambda d: _entry_renamed(d, "xl/styles.xml", "xl/./styles.xml"),
    # zipfile cuts a name at NUL when writing too: the byte goes in afterwards, in both headers.
    "entry with a NUL": lambda d: _entry_renamed(d, "docProps/app.xml", "docProps/app.xml@evil").replace(
        b"app.xml@evil", b"app.xml\0evil"
    ),
    "entry from the root": lambda d: _entry_renamed(d, "docProps/app.xml", "/docProps/app.xml"),
    "entries differing in case": lambda d: rewrite_parts(
        d, {STAFF_PART.upper(): _part(d, STAFF_PART).replace(b"</sheetData>", FAR_ROW)}
    ),
    "unicode path extra field": lambda d: _entry_renamed(
        rewrite_parts(d, {HARMLESS: _part(d, STAFF_PART).replace(b"</sheetData>", FAR_ROW)}),
        HARMLESS,
        HARMLESS,
        _unicode_path(HARMLESS, STAFF_PART),
    ),
    "relationship id twice": lambda d: rewrite_parts(
        d, {RELS: lambda x: x.replace(b'Id="rId3"', b'Id="rId2"')}
    ),
    "relationship in a comment": lambda d: rewrite_parts(
        d, {RELS: lambda x: _add_relationship(x, '<!-- <Relationship Id="rId9" Target="x.xml"/> -->')}
    ),
    "shared strings elsewhere": lambda d: rewrite_parts(
        d,
        {
            RELS: lambda x: _add_relationship(
                x, f'<Relationship Id="rIdS" Type="{SST_TYPE}" Target="other.xml"/>'
            ),
            "xl/other.xml": b"<sst/>",
        },
    ),
    "sheet name twice": lambda d: rewrite_parts(
        d, {"xl/workbook.xml": lambda x: x.replace("Hướng dẫn".encode(), form.STAFF_SHEET.encode())}
    ),
    "workbook outside xl": lambda d: rewrite_parts(
        d,
        {
            "_rels/.rels": lambda x: x.replace(b'Target="xl/workbook.xml"', b'Target="other/workbook.xml"'),
            "other/workbook.xml": _part(d, "xl/workbook.xml"),
        },
    ),
    # calamine's .xlsx reader failing (no package relationships) would hand these to its .xlsb or
    # OpenDocument reader.
    "an OpenDocument part beside": lambda d: rewrite_parts(
        d, {"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"}
    ),
    "an .xlsb part beside": lambda d: rewrite_parts(d, {"xl/workbook.bin": b"\0" * 8}),
    "two office documents": lambda d: rewrite_parts(
        d,
        {
            "_rels/.rels": lambda x: x.replace(
                b"</Relationships>",
                b'<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                b'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
            )
        },
    ),
}


@pytest.mark.parametrize("variant", sorted(UNUSUAL))
def test_a_part_named_two_ways_is_refused(config, variant):
    assert_unusual(UNUSUAL[variant](workbooks.xlsx()), config)


def test_custom_xml_parts_outside_xl_are_accepted(config):
    """Excel relates a workbook to its custom XML (SharePoint, sensitivity labels) as
    "../customXml/item1.xml": a part calamine never reads, not a part named two ways."""
    rel = (
        '<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/customXml" Target="../customXml/item1.xml"/>'
    )
    data = rewrite_parts(
        workbooks.xlsx(),
        {RELS: lambda x: _add_relationship(x, rel), "customXml/item1.xml": b"<b:Sources/>"},
    )
    assert validate_workbook(config, incoming(data)).status is FileStatus.ACCEPTED


def test_the_unit_forms_as_written_are_accepted(config, tmp_path):
    """What the program's own form writer and openpyxl write (targets relative, or from the root)."""
    from processor.config import load_config
    from processor.devtools.samples import generate_inbox
    from processor.workspace import create_workspace

    openpyxl_made = workbooks.xlsx()
    assert _target_of(openpyxl_made, STAFF_PART).startswith(b"/xl/")
    assert validate_workbook(config, incoming(openpyxl_made)).status is FileStatus.ACCEPTED

    create_workspace(tmp_path)
    office = load_config(tmp_path / "config.toml")
    generate_inbox(office, tmp_path / "inbox", office.campaigns[0].periods[:1], as_email=False)
    generated = sorted((tmp_path / "inbox").rglob("*.xlsx"))[0].read_bytes()
    assert not _target_of(generated, STAFF_PART).startswith(b"/")
    assert validate_workbook(office, incoming(generated)).status is not FileStatus.UNREADABLE


def test_a_single_quoted_target_is_the_part_scanned(config):
    """The XML parser behind calamine reads Target='...' too: so does the check, which finds the far cell."""
    data = retarget(workbooks.xlsx(), "worksheets/other.xml")
    data = rewrite_parts(
        data, {RELS: lambda x: x.replace(b'Target="worksheets/other.xml"', b"Target='worksheets/other.xml'")}
    )
    sub = validate_workbook(config, incoming(data))
    assert [f.code for f in sub.findings] == ["sheet_too_large"]


def test_a_part_name_in_other_case_is_found_as_calamine_finds_it(config):
    """OPC names are case-insensitive: calamine finds `xl/worksheets/Sheet2.xml` for `sheet2.xml`, and so
    does the check (it scans the very entry calamine reads)."""
    data = workbooks.xlsx()
    staff = _part(data, STAFF_PART)
    renamed = _entry_renamed(data, STAFF_PART, "xl/worksheets/Sheet2.xml")
    assert validate_workbook(config, incoming(renamed)).status is FileStatus.ACCEPTED
    far = rewrite_parts(renamed, {"xl/worksheets/Sheet2.xml": staff.replace(b"</sheetData>", FAR_ROW)})
    sub = validate_workbook(config, incoming(far))
    assert [f.code for f in sub.findings] == ["sheet_too_large"]


def _limit_memory(gigabytes: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (gigabytes << 30, gigabytes << 30))


def thidua_limited(*args: str, cwd: Path, gigabytes: int = 3) -> subprocess.CompletedProcess:
    """The command in a process of at most `gigabytes` of address space: a reader that runs away fails
    at once instead of pressing the machine."""
    limit = functools.partial(_limit_memory, gigabytes) if sys.platform != "win32" else None
    return subprocess.run(
        [sys.executable, "-m", "processor", *args],
        preexec_fn=limit,
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONPATH": str(REPO)},
        timeout=300,
    )


def test_check_and_run_refuse_the_far_cell_twin_quickly_and_go_on(tmp_path):
    from tests.test_faults import PERIOD, new_workspace

    root = new_workspace(tmp_path / "office", as_email=False)
    inbox = sorted((root / "inbox").rglob(f"{PERIOD}_*.xlsx"))
    victim, other = inbox[0], inbox[1]
    victim.write_bytes(far_cell_twin(victim.read_bytes()))

    started = time.perf_counter()
    proc = thidua_limited("check", "--config", "config.toml", str(victim), str(other), cwd=root)
    assert time.perf_counter() - started < 20
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"{victim}: 1 lỗi" in proc.stdout and "Cấu trúc tệp Excel bất thường" in proc.stdout
    assert f"{other}: HỢP LỆ" in proc.stdout or f"{other}: 0 lỗi" in proc.stdout, proc.stdout

    started = time.perf_counter()
    proc = thidua_limited("run", "--period", PERIOD, "--config", "config.toml", cwd=root)
    assert time.perf_counter() - started < 60
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    summary = json.loads((root / "output" / PERIOD / "summary.json").read_text(encoding="utf-8"))
    status = {f["name"]: f["status"] for f in summary["generated_from"]}
    assert status.pop(victim.name) == "unreadable"
    assert status[other.name] in ("accepted", "rejected")
    assert len(status) >= 10  # the other units' January and February files
    assert all(s != "unreadable" for s in status.values()), status
