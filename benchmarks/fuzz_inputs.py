"""Fuzz the received files: mutants of real sample workbooks, e-mails and .xls/.msg through the batch.

    .venv/bin/python benchmarks/fuzz_inputs.py --count 3000 --seed 1 --cli 150 --run 300 --out /tmp/fuzz

Seeds are real files: the sample inbox (`samples.generate_inbox`, workbooks and .eml), an openpyxl
re-save of some of them (shared strings, other part names) and the .xls/.msg test fixtures. Each mutant
goes through `ingest.ingest_paths` in a worker process (a mutant that aborts or kills the worker is
reported and the worker restarted), and a sample of them through `thidua check` in a subprocess.

A problem is: an exception, a dead worker, a check exit status other than 0/1 or a traceback, a hang
(SIGALRM after --timeout seconds, checked when Python regains control), an input file modified, a
finding that is not Vietnamese, not NFC or holds a character XML cannot, and a file accepted without an
error whose data differs from its seed's (listed for a human to judge: often the mutation is legitimate).

Then --run mutants of what surrounds the bytes go through `thidua run --period <the sample month>`, spread
over --run-workspaces workspaces (`thidua init`, the genuine sample inbox, each mutant in its own folder
`m0042/` of the inbox): file names (CR/LF, U+2028/U+2029/U+0085, control characters, 255 bytes, not UTF-8,
other extensions, leading dashes, Windows device names, trailing dots), attachment names (RFC 2231/2047,
paths, 200 attachments), senders `parseaddr` accepts but are no address, control characters and broken
encoded words in headers, duplicated or missing From/Date, dates far off or malformed, Received: headers,
file times in 2100, 1970 or all the same, and a share of the byte mutants above. A problem is: an exit
status other than 0, a traceback or "Exception ignored", the period not published, an input changed,
anything written beside the workspace (a canary folder) or outside output/, an output name Windows cannot
hold, a feedback draft with a duplicated or injected header, a mutant named nowhere in summary.json or
kiem-tra (hidden and lock files excepted: skipped by design), or, run again, a different summary.json. A
failed run is narrowed down to the mutants it needs (--bisect halvings), which are set aside
(`run/NN/set-aside/`) and the run tried again, up to --peel times. Each workspace stays in OUT/run/NN/
with its mutants.json (family, kind, name, mtime); results.jsonl has each failure's stderr tail.

The same --seed gives the same mutants. Results go to OUT/results.jsonl, one line per mutant or
workspace. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import base64
import collections
import copy
import dataclasses
import datetime as dt
import hashlib
import io
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import unicodedata
import warnings
import zipfile
from collections.abc import Callable
from email import message_from_bytes, policy
from email.utils import format_datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VIETNAM = dt.timezone(dt.timedelta(hours=7))

# -- zip helpers -------------------------------------------------------------------------------------


def unzip(data: bytes) -> list[tuple[str, bytes]]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return [(info.filename, archive.read(info)) for info in archive.infolist()]


def rezip(entries: list[tuple[str, bytes]], stored: bool = False) -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are one of the mutations
        with zipfile.ZipFile(out, "w") as archive:
            for name, content in entries:
                # A fixed time, not the clock's: the same --seed gives the same bytes.
                info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
                info.external_attr = 0o600 << 16
                archive.writestr(info, content)
    return out.getvalue()


def flip(rng: random.Random, data: bytes, count: int) -> bytes:
    out = bytearray(data)
    for _ in range(count):
        if out:
            out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


# -- worksheet XML mutations -------------------------------------------------------------------------

SHEETS = {
    "unit": "xl/worksheets/sheet1.xml",
    "staff": "xl/worksheets/sheet2.xml",
    "meta": "xl/worksheets/sheet4.xml",
}
CELL = re.compile(rb"<c\b[^>]*?(?:/>|>.*?</c>)", re.S)
ROW = re.compile(rb"<row\b[^>]*?(?:/>|>.*?</row>)", re.S)
ODD_TEXT = [
    "x" * 32767,
    "Nguyễn " * 6000,
    "\u200fNguyễn Văn A\u200f",
    "\u202eA nắV nễyugN",
    "Nguye\u0302\u0303n Va\u0306n A",
    "\ufeffCó",
    "C\u200bó",
    "  Có  ",
    "NaN",
    "inf",
    "1e308",
    "０１/２０２４",
    "=1+1",
    "'Có",
    "Có\nKhông",
    "🙂",
    "\ud800",
]
ODD_CONTROL = [b"&#1;", b"&#0;", b"&#x1F;", b"&#xD800;", b"&#xFFFE;", b"\x01", b"\x0b", b"\x1b[2J", b"&#x85;"]
ODD_NUMBER = [
    b"-1",
    b"0",
    b"60",
    b"1e308",
    b"2958466",
    b"NaN",
    b"inf",
    b"1.5",
    b"abc",
    b"",
    b"1,5",
    b"9" * 400,
]
ODD_REF = [
    b"A0",
    b"XFE1",
    b"A1048577",
    b"XFD1048576",
    b"",
    b"1A",
    b"a1",
    b"b3",
    b"AAAA1",
    b"$A$1",
    b"B99999999",
]
ODD_REF += [b"zz3", b"B4294967297", b"A1:B2", b"C3"]

XML_MUTATIONS: dict[str, Callable[[random.Random, bytes], bytes]] = {}


def xml_mutation(
    function: Callable[[random.Random, bytes], bytes],
) -> Callable[[random.Random, bytes], bytes]:
    XML_MUTATIONS[function.__name__] = function
    return function


def _pick(rng: random.Random, pattern: re.Pattern, xml: bytes) -> re.Match | None:
    found = list(pattern.finditer(xml))
    return rng.choice(found) if found else None


def _on_cell(rng: random.Random, xml: bytes, edit: Callable[[bytes], bytes]) -> bytes:
    match = _pick(rng, CELL, xml)
    return xml if match is None else xml[: match.start()] + edit(match.group(0)) + xml[match.end() :]


def _attrs(cell: bytes) -> bytes:
    found = (re.search(rb'\br="[^"]*"', cell), re.search(rb'\bs="[^"]*"', cell))
    return b" ".join(m.group(0) for m in found if m)


def _valued(cell: bytes, kind: bytes | None, value: bytes | None, inner: bytes = b"") -> bytes:
    attrs = _attrs(cell) + (b' t="' + kind + b'"' if kind is not None else b"")
    body = inner + (b"<v>" + value + b"</v>" if value is not None else b"")
    return b"<c " + attrs + b">" + body + b"</c>"


def _inline(cell: bytes, text: bytes) -> bytes:
    return b"<c " + _attrs(cell) + b' t="inlineStr"><is><t xml:space="preserve">' + text + b"</t></is></c>"


def _escaped(text: str) -> bytes:
    return text.replace("&", "&amp;").replace("<", "&lt;").encode("utf-8", "surrogatepass")


@xml_mutation
def row_remove(rng, xml):
    match = _pick(rng, ROW, xml)
    return xml if match is None else xml[: match.start()] + xml[match.end() :]


@xml_mutation
def row_duplicate(rng, xml):
    match = _pick(rng, ROW, xml)
    return xml if match is None else xml[: match.end()] + match.group(0) + xml[match.end() :]


@xml_mutation
def row_reference(rng, xml):
    value = rng.choice([b"0", b"1048577", b"-3", b"", b"99999999", b"2"])
    return re.sub(rb'<row r="\d+"', b'<row r="' + value + b'"', xml, count=1)


@xml_mutation
def cell_remove(rng, xml):
    return _on_cell(rng, xml, lambda cell: b"")


@xml_mutation
def cell_duplicate(rng, xml):
    return _on_cell(rng, xml, lambda cell: cell + cell)


@xml_mutation
def cell_reference(rng, xml):
    ref = b'r="' + rng.choice(ODD_REF) + b'"'
    return _on_cell(rng, xml, lambda cell: re.sub(rb'\br="[^"]*"', ref, cell, count=1))


@xml_mutation
def cell_without_reference(rng, xml):
    return _on_cell(rng, xml, lambda cell: re.sub(rb'\br="[^"]*"', b"", cell, count=1))


@xml_mutation
def attributes_quoted_or_spaced(rng, xml):
    if rng.random() < 0.5:
        return _on_cell(rng, xml, lambda cell: cell.replace(b'"', b"'"))
    return _on_cell(rng, xml, lambda cell: cell.replace(b"<c r=", b"<c\n\tr = ", 1))


@xml_mutation
def style_huge(rng, xml):
    style = b's="' + rng.choice([b"999999", b"-1", b"4294967296", b"x"]) + b'"'
    return _on_cell(rng, xml, lambda cell: re.sub(rb'\bs="[^"]*"', style, cell) if b" s=" in cell else cell)


@xml_mutation
def shared_string_out_of_range(rng, xml):
    index = rng.choice([b"0", b"5", b"99999999", b"-1", b"abc", b""])
    return _on_cell(rng, xml, lambda cell: _valued(cell, b"s", index))


@xml_mutation
def typed_error(rng, xml):
    value = rng.choice([b"#N/A", b"#DIV/0!", b"", b"garbage"])
    if rng.random() < 0.3:
        return _on_cell(rng, xml, lambda cell: _valued(cell, None, value).replace(b"<c ", b"<c t='e' ", 1))
    return _on_cell(rng, xml, lambda cell: _valued(cell, b"e", value))


@xml_mutation
def typed_boolean(rng, xml):
    value = rng.choice([b"1", b"0", b"2", b"true", b"", b"-1"])
    return _on_cell(rng, xml, lambda cell: _valued(cell, b"b", value))


@xml_mutation
def typed_date(rng, xml):
    value = rng.choice([b"2024-01-15", b"2024-13-45", b"not-a-date", b"1e308", b"", b"0001-01-01T00:00:00"])
    return _on_cell(rng, xml, lambda cell: _valued(cell, b"d", value))


@xml_mutation
def number(rng, xml):
    value = rng.choice(ODD_NUMBER)
    return _on_cell(rng, xml, lambda cell: _valued(cell, None, value))


@xml_mutation
def date_serial(rng, xml):
    def serial(match: re.Match) -> bytes:
        return match.group(1) + b"<v>" + rng.choice(ODD_NUMBER) + b"</v>"

    return re.sub(rb'(<c r="(?:C\d+|B9)"[^>]*>)<v>[^<]*</v>', serial, xml, count=rng.randint(1, 3))


@xml_mutation
def formula_string(rng, xml):
    text = _escaped(rng.choice(ODD_TEXT))
    return _on_cell(rng, xml, lambda cell: _valued(cell, b"str", text))


@xml_mutation
def inline_text(rng, xml):
    text = _escaped(rng.choice(ODD_TEXT))
    return _on_cell(rng, xml, lambda cell: _inline(cell, text))


@xml_mutation
def inline_control(rng, xml):
    text = b"C" + rng.choice(ODD_CONTROL) + b"o"
    return _on_cell(rng, xml, lambda cell: _inline(cell, text))


@xml_mutation
def formula(rng, xml):
    text = rng.choice([b"1/0", b"SUM(A1:A3)", b"", b"A1", b"NOW()"])
    kind, value = rng.choice([(None, b"1"), (b"str", b""), (b"e", b"#VALUE!"), (None, None)])
    return _on_cell(rng, xml, lambda cell: _valued(cell, kind, value, b"<f>" + text + b"</f>"))


@xml_mutation
def merge_huge(rng, xml):
    ref = rng.choice([b"A1:XFD1048576", b"B2:B1048576", b"A2:K2", b"A1:A0", b"ZZ:ZZ", b"B2:K200"])
    merge = b'<mergeCells count="1"><mergeCell ref="' + ref + b'"/></mergeCells>'
    return xml.replace(b"</sheetData>", b"</sheetData>" + merge, 1)


@xml_mutation
def dimension_lie(rng, xml):
    return re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', xml)


@xml_mutation
def prefixed_tags(rng, xml):
    xml = re.sub(rb"<(/?)(row|c|v|is|t|sheetData)\b", rb"<\1x:\2", xml)
    return xml.replace(b'xmlns="http', b'xmlns:x="http', 1)


@xml_mutation
def far_cell(rng, xml):
    row = rng.choice([1048576, 70000, 20001, 5001])
    column = rng.choice([b"A", b"XFD", b"AA", b"xfd"])
    cell = b'<row r="%d"><c r="%s%d" t="inlineStr"><is><t>x</t></is></c></row>' % (row, column, row)
    return xml.replace(b"</sheetData>", cell + b"</sheetData>", 1)


@xml_mutation
def many_rows(rng, xml):
    count = rng.choice([10, 3000, 25000])
    rows = b"".join(
        b'<row r="%d"><c r="B%d" t="inlineStr"><is><t>Nguy\xe1\xbb\x85n %d</t></is></c></row>' % (i, i, i)
        for i in range(100, 100 + count)
    )
    return xml.replace(b"</sheetData>", rows + b"</sheetData>", 1)


@xml_mutation
def encoding_declared(rng, xml):
    declared = rng.choice([b'encoding="ISO-8859-1"', b'encoding="UTF-16"', b'encoding="windows-1258"'])
    return xml.replace(b'encoding="UTF-8"', declared, 1)


@xml_mutation
def bytes_flipped(rng, xml):
    return flip(rng, xml, rng.randint(1, 4))


@xml_mutation
def truncated(rng, xml):
    return xml[: rng.randrange(len(xml))]


# -- package mutations -------------------------------------------------------------------------------

Entries = list[tuple[str, bytes]]
PACKAGE_MUTATIONS: dict[str, Callable[[random.Random, Entries], Entries]] = {}


def package_mutation(function: Callable[[random.Random, Entries], Entries]) -> Callable:
    PACKAGE_MUTATIONS[function.__name__] = function
    return function


def _edit(entries: Entries, name: str, edit: Callable[[bytes], bytes]) -> Entries:
    return [(n, edit(c) if n == name else c) for n, c in entries]


@package_mutation
def sheet_removed(rng, entries):
    name = rng.choice(["Đơn vị", "Cá nhân", "_thidua", "Hướng dẫn"]).encode()
    return _edit(
        entries, "xl/workbook.xml", lambda c: re.sub(rb'<sheet name="' + name + rb'"[^>]*/>', b"", c)
    )


@package_mutation
def sheet_renamed(rng, entries):
    old = rng.choice(["Đơn vị", "Cá nhân", "_thidua"]).encode()
    new = rng.choice(
        ["Ca nhan", "CÁ NHÂN", "Sheet1", "", "x" * 40, "Cá\u200bnhân", "Cá nhân\x1b[2J"]
    ).encode()
    return _edit(entries, "xl/workbook.xml", lambda c: c.replace(old, new, 1))


@package_mutation
def sheets_swapped(rng, entries):
    def swap(c: bytes) -> bytes:
        c = c.replace(b'r:id="rId1"', b'r:id="TMP"').replace(b'r:id="rId2"', b'r:id="rId1"')
        return c.replace(b'r:id="TMP"', b'r:id="rId2"')

    return _edit(entries, "xl/workbook.xml", swap)


@package_mutation
def defined_name(rng, entries):
    formula = rng.choice([b"1/0", b"INDIRECT(&quot;A1&quot;)", b"WEBSERVICE(&quot;http://x&quot;)"])
    name = b'<definedName name="x">' + formula + b"</definedName></definedNames>"
    return _edit(entries, "xl/workbook.xml", lambda c: c.replace(b"</definedNames>", name))


@package_mutation
def workbook_damaged(rng, entries):
    if rng.random() < 0.5:
        return _edit(entries, "xl/workbook.xml", lambda c: c[: rng.randrange(len(c))])
    return _edit(entries, "xl/workbook.xml", lambda c: flip(rng, c, 2))


@package_mutation
def relationships_damaged(rng, entries):
    target = rng.choice([b"../../../etc/passwd", b"/xl/worksheets/sheet2.xml", b"worksheets/nosuch.xml", b""])
    target = rng.choice([target, b"worksheets/\x07\x1b[31m.xml"])
    choices = [
        lambda c: b"",
        lambda c: c[: len(c) // 2],
        lambda c: c.replace(b"worksheets/sheet2.xml", target),
        lambda c: flip(rng, c, 3),
    ]
    return _edit(entries, "xl/_rels/workbook.xml.rels", rng.choice(choices))


@package_mutation
def part_removed(rng, entries):
    gone = rng.choice(
        ["xl/_rels/workbook.xml.rels", "_rels/.rels", "[Content_Types].xml", "xl/styles.xml", SHEETS["staff"]]
    )
    return [(n, c) for n, c in entries if n != gone]


@package_mutation
def content_types_damaged(rng, entries):
    return _edit(entries, "[Content_Types].xml", lambda c: rng.choice([b"", b"garbage", c[:100]]))


@package_mutation
def entry_duplicated(rng, entries):
    name, content = rng.choice(entries)
    return [*entries, (name, rng.choice([content, flip(rng, content, 3), content[: len(content) // 2]]))]


@package_mutation
def entry_added(rng, entries):
    name = rng.choice(
        ["xl/vbaProject.bin", "xl/sharedStrings.xml", "../evil.txt", "/abs.xml", "xl/\x1bx.xml"]
    )
    content = rng.choice([b"", b"<sst/>", b"\x00" * 10, b"<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>"])
    return [*entries, (name, content)]


@package_mutation
def metadata_disagrees(rng, entries):
    edits = [
        lambda c: re.sub(
            rb"<t>(\d{4}-\d\d)</t>", b"<t>" + rng.choice([b"2023-12", b"2024-13", b""]) + b"</t>", c
        ),
        lambda c: re.sub(rb'(<c r="B3"[^>]*><is><t>)[^<]*', rb"\g<1>" + rng.choice([b"ZZ", b"KT", b""]), c),
        lambda c: re.sub(rb'(<c r="B2"[^>]*><is><t>)[^<]*', rb"\g<1>" + rng.choice([b"999", b"x"]), c),
        lambda c: re.sub(rb"<sheetData>.*</sheetData>", b"<sheetData/>", c, flags=re.S),
    ]
    return _edit(entries, SHEETS["meta"], rng.choice(edits))


# -- byte mutations ----------------------------------------------------------------------------------


def _flip_entry(rng: random.Random, data: bytes) -> bytes:
    info = rng.choice(zipfile.ZipFile(io.BytesIO(data)).infolist())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    out = bytearray(data)
    if info.compress_size:
        out[start + rng.randrange(info.compress_size)] = rng.randrange(256)
    return bytes(out)


def _flip_stored(rng: random.Random, data: bytes) -> bytes:
    entries = unzip(data)
    index = rng.randrange(len(entries))
    entries[index] = (entries[index][0], flip(rng, entries[index][1], rng.choice([1, 3])))
    return rezip(entries, stored=True)  # the CRC is right: only the content is wrong


def _directory_lie(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    position = out.rfind(b"PK\x01\x02")
    if position >= 0:
        at = position + rng.choice([20, 24, 28, 42])
        out[at : at + 4] = rng.choice([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x01\x00\x00\x00"])
    return bytes(out)


BYTE_MUTATIONS: dict[str, Callable[[random.Random, bytes], bytes]] = {
    "truncate": lambda rng, data: data[: rng.randrange(1, len(data))],
    "flip_any": lambda rng, data: flip(rng, data, rng.choice([1, 2, 8, 64])),
    "flip_entry": _flip_entry,
    "flip_stored": _flip_stored,
    "directory_lie": _directory_lie,
    "prepend": lambda rng, data: rng.choice([b"\xef\xbb\xbf", b"junk" * 10]) + data,
    "append": lambda rng, data: data + rng.choice([b"\x00" * 100, data]),
}


def mutate_workbook(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    kind = rng.choice(["xml"] * 6 + ["package"] * 3 + ["bytes"] * 2)
    if kind == "xml":
        sheet = rng.choice(["unit", "staff", "staff", "meta"])
        names = [rng.choice(sorted(XML_MUTATIONS))]
        if rng.random() < 0.3:
            names.append(rng.choice(sorted(XML_MUTATIONS)))
        entries = unzip(data)
        for name in names:
            entries = _edit(entries, SHEETS[sheet], lambda c, name=name: XML_MUTATIONS[name](rng, c))
        return f"xml.{sheet}.{'+'.join(names)}", rezip(entries)
    if kind == "package":
        name = rng.choice(sorted(PACKAGE_MUTATIONS))
        return f"package.{name}", rezip(PACKAGE_MUTATIONS[name](rng, unzip(data)))
    name = rng.choice(sorted(BYTE_MUTATIONS))
    return f"bytes.{name}", BYTE_MUTATIONS[name](rng, data)


# -- e-mail mutations --------------------------------------------------------------------------------


def _attachment_garbled(rng: random.Random, data: bytes) -> bytes:
    start = data.find(b"Content-Disposition: attachment")
    body = data.find(b"\n\n", start) if start >= 0 else -1
    if body < 0:
        return data
    out = bytearray(data)
    for _ in range(rng.choice([1, 4, 20])):
        out[body + 4 + rng.randrange(min(3000, len(out) - body - 5))] = rng.choice(b"!*?=-_\x00\xff ")
    return bytes(out)


def _attachment_replaced(data: bytes, workbook: bytes) -> bytes:
    message = message_from_bytes(data, policy=policy.compat32)
    for part in message.walk():
        if part.get_filename():
            part.set_payload(base64.encodebytes(workbook).decode())
    return message.as_bytes()


def _attachment_doubled(data: bytes) -> bytes:
    message = message_from_bytes(data, policy=policy.compat32)
    parts = message.get_payload()
    attached = [p for p in parts if p.get_filename()] if isinstance(parts, list) else []
    if attached:
        other = copy.deepcopy(attached[0])
        payload = base64.b64decode(other.get_payload())
        other.set_payload(base64.encodebytes(payload[: len(payload) // 2]).decode())
        message.attach(other)
    return message.as_bytes()


def _nested(data: bytes, depth: int) -> bytes:
    for i in range(depth):
        head = (
            f"From: fw{i}@laocai.gov.vn\r\nSubject: Fw: {i}\r\nMIME-Version: 1.0\r\n"
            f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n'
            f"--b{i}\r\nContent-Type: text/plain\r\n\r\n"
            f"fw\r\n--b{i}\r\nContent-Type: message/rfc822\r\n\r\n"
        )
        data = head.encode() + data + f"\r\n--b{i}--\r\n".encode()
    return data


def mutate_email(rng: random.Random, data: bytes, workbook: bytes) -> tuple[str, bytes]:
    match = re.search(rb'boundary="([^"]+)"', data)
    boundary = match.group(1) if match else b"x"
    filename = rng.choice(
        [
            b"filename*=utf-8''..%2F..%2Fevil.xlsx",
            b'filename="=?utf-8?b?!!!?=.xlsx"',
            b"filename*=bogus''%FF%FE.xlsx",
            b'filename="' + b"x" * 5000 + b'.xlsx"',
            b'filename="\x01\x1b[2J.xlsx"',
            b'filename=""',
        ]
    )
    date = rng.choice([b"Mon, 99 Foo 2024 25:61:61 +9999", b"", b"Fri, 31 Dec 9999 23:59:59 -1200", b"0"])
    sender = rng.choice([b"<>", b"@", b"a@b@c", b"=?utf-8?q?=FF?= <x@y>", b"x\x1b[2J@y.vn"])
    choices: dict[str, Callable[[], bytes]] = {
        "boundary_broken": lambda: data.replace(b'boundary="' + boundary + b'"', b'boundary="zz"', 1),
        "boundary_gone": lambda: data.replace(b"--" + boundary, b""),
        "base64_garbled": lambda: _attachment_garbled(rng, data),
        "huge_header": lambda: b"Subject: " + b"A" * 2_000_000 + b"\r\n" + data,
        "many_headers": lambda: b"".join(b"X-H%d: v\r\n" % i for i in range(50000)) + data,
        "charset": lambda: data.replace(
            b"utf-8", rng.choice([b"x-unknown", b"utf-7", b"iso-2022-jp", b"utf-16"])
        ),
        "filename": lambda: re.sub(rb"filename\*=utf-8''[^\r\n]+", filename, data, count=1),
        "date": lambda: re.sub(rb"Date: [^\r\n]+", b"Date: " + date, data, count=1),
        "sender": lambda: re.sub(rb"From: [^\r\n]+(\r?\n [^\r\n]+)?", b"From: " + sender, data, count=1),
        "nested": lambda: _nested(data, rng.choice([1, 2, 3, 4, 6])),
        "attachment_mutant": lambda: _attachment_replaced(data, workbook),
        "attachment_doubled": lambda: _attachment_doubled(data),
        "truncate": lambda: data[: rng.randrange(1, len(data))],
        "flip": lambda: flip(rng, data, rng.choice([1, 5, 30])),
        "transfer_encoding": lambda: data.replace(
            b"Content-Transfer-Encoding: base64", b"Content-Transfer-Encoding: quoted-printable"
        ),
        "content_type": lambda: data.replace(
            b"multipart/mixed", rng.choice([b"text/plain", b"multipart/"]), 1
        ),
    }
    name = rng.choice(sorted(choices))
    return f"email.{name}", choices[name]()


# -- OLE2 (.xls, .msg) mutations ---------------------------------------------------------------------


def mutate_ole(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    out = bytearray(data)
    kind = rng.choice(["flip", "flip", "truncate", "sector_blanked", "sector_copied"])
    if kind == "flip":
        out = bytearray(flip(rng, data, rng.choice([1, 4, 16, 64])))
    elif kind == "truncate":
        out = out[: rng.randrange(8, len(out))]
    elif kind == "sector_blanked":
        start = rng.randrange(len(out) // 512) * 512
        out[start : start + 512] = rng.choice([b"\xff", b"\x00"]) * 512
    else:
        start = rng.randrange(len(out) - 1024)
        out[start + 512 : start + 1024] = out[start : start + 512]
    return f"ole.{kind}", bytes(out)


# -- seeds -------------------------------------------------------------------------------------------


def make_seeds(root: Path) -> tuple[Path, dict[str, list[Path]]]:
    """A workspace (`create_workspace`) and real seed files: the sample inbox of the first month."""
    import openpyxl

    from processor.config import load_config
    from processor.devtools import samples
    from processor.workspace import create_workspace

    workspace = root / "workspace"
    create_workspace(workspace)
    config = load_config(workspace / "config.toml")
    first = config.campaigns[0].periods[:1]
    seeds: dict[str, list[Path]] = {}
    for as_email, kind in ((False, "workbook"), (True, "email")):
        inbox = root / f"seed-{kind}"
        inbox.mkdir(exist_ok=True)
        samples.generate_inbox(config, inbox, first, scenario="demo", as_email=as_email)
        seeds[kind] = sorted(inbox.glob("*.eml" if as_email else "*.xlsx"))
    for i, path in enumerate(seeds["workbook"][:3]):  # shared strings, openpyxl's part names
        target = root / f"seed-openpyxl-{i}.xlsx"
        openpyxl.load_workbook(path).save(target)
        # openpyxl stamps the time of saving: a fixed one instead, so the same --seed gives the same bytes.
        entries = [
            (name, re.sub(rb"(<dcterms:modified\b[^>]*>)[^<]*", rb"\g<1>2024-02-01T00:00:00Z", content))
            for name, content in unzip(target.read_bytes())
        ]
        target.write_bytes(rezip(entries))
        seeds["workbook"].append(target)
    fixtures = REPO / "tests" / "fixtures"
    seeds["ole"] = [fixtures / "workbooks" / "bao-cao-tchc.xls", *sorted((fixtures / "msg").glob("*.msg"))]
    return workspace, seeds


def make_mutants(seeds: dict[str, list[Path]], count: int, seed: int, out: Path) -> list[dict]:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    jobs = []
    for i in range(count):
        roll = rng.random()
        if roll < 0.7:
            source = rng.choice(seeds["workbook"])
            kind, data = mutate_workbook(rng, source.read_bytes())
        elif roll < 0.9:
            source = rng.choice(seeds["email"])
            _, workbook = mutate_workbook(rng, rng.choice(seeds["workbook"]).read_bytes())
            kind, data = mutate_email(rng, source.read_bytes(), workbook)
        else:
            source = rng.choice(seeds["ole"])
            kind, data = mutate_ole(rng, source.read_bytes())
        path = out / f"{i:05d}_{re.sub(r'[^A-Za-z0-9_.+-]', '_', kind)}{source.suffix}"
        path.write_bytes(data)
        jobs.append(
            {"path": str(path), "seed": str(source) if source.suffix == ".xlsx" else None, "kind": kind}
        )
    return jobs


# -- the worker: one process, mutant after mutant ----------------------------------------------------

XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
VIETNAMESE = re.compile("[ăâđêôơưáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ]", re.I)


class _Timeout(Exception):
    pass


def _on_alarm(*_: object) -> None:
    raise _Timeout


def worker(config_path: Path, timeout: int) -> None:
    """Read jobs (JSON lines) on stdin; print START before and RESULT after each."""
    from processor.config import load_config
    from processor.ingest import ingest_paths

    config = load_config(config_path)
    signal.signal(signal.SIGALRM, _on_alarm)
    baseline: dict[str, list[str]] = {}
    for line in sys.stdin:
        job = json.loads(line)
        print("START", job["path"], flush=True)
        result = _one(config, ingest_paths, Path(job["path"]), job.get("seed"), baseline, timeout)
        print("RESULT", json.dumps(result, ensure_ascii=False), flush=True)


def _one(config, ingest_paths, path: Path, seed: str | None, baseline: dict, timeout: int) -> dict:
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    out: dict = {"path": str(path), "problems": []}
    started = time.perf_counter()
    signal.alarm(timeout)
    try:
        submissions = ingest_paths(config, [path]).submissions
    except _Timeout:
        out["problems"].append(f"hang > {timeout} s")
        return out
    except BaseException as exc:
        out["problems"].append("exception: " + "".join(traceback.format_exception(exc))[-3000:])
        return out
    finally:
        signal.alarm(0)
    out["seconds"] = round(time.perf_counter() - started, 2)
    if hashlib.sha256(path.read_bytes()).hexdigest() != before:
        out["problems"].append("input modified")
    out["status"] = [s.status.value for s in submissions]
    out["codes"] = sorted({f.code for s in submissions for f in s.findings})
    for sub in submissions:
        for finding in sub.findings:
            for attr in ("message", "file", "sheet", "cell", "field", "value"):
                text = getattr(finding, attr)
                if text is None:
                    continue
                if XML_ILLEGAL.search(text):
                    out["problems"].append(f"control character in finding.{attr}: {text[:100]!r}")
                if unicodedata.normalize("NFC", text) != text:
                    out["problems"].append(f"finding.{attr} not NFC: {text[:100]!r}")
            if not VIETNAMESE.search(finding.message):
                out["problems"].append(f"message not Vietnamese: {finding.message[:200]!r}")
        accepted = sub.status.value in ("accepted", "accepted_partial", "other_period")
        if accepted and not sub.has_errors and seed:
            if seed not in baseline:
                baseline[seed] = [repr(s.report) for s in ingest_paths(config, [Path(seed)]).submissions]
            if repr(sub.report) not in baseline[seed]:
                out["accepted_with_other_data"] = True
    return out


def run_jobs(jobs: list[dict], config_path: Path, timeout: int) -> list[dict]:
    """Every job through workers; a worker that dies is reported for the mutant it was reading."""
    pending, results = list(jobs), []
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    while pending:
        command = [sys.executable, __file__, "--worker", str(config_path), "--timeout", str(timeout)]
        proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        feed = "".join(json.dumps(job) + "\n" for job in pending)

        def write(proc=proc, feed=feed) -> None:
            try:
                proc.stdin.write(feed)
                proc.stdin.close()
            except BrokenPipeError:
                pass  # the worker died; the loop below reports it

        threading.Thread(target=write, daemon=True).start()
        errors: list[str] = []
        threading.Thread(target=lambda p=proc, e=errors: e.append(p.stderr.read()), daemon=True).start()
        current, done = None, set()
        for line in proc.stdout:
            if line.startswith("START "):
                current = line[6:].strip()
            elif line.startswith("RESULT "):
                result = json.loads(line[7:])
                results.append(result)
                done.add(result["path"])
                current = None
        proc.wait()
        if current is not None:
            tail = "".join(errors)[-1500:]
            results.append({"path": current, "problems": [f"worker died (status {proc.returncode}): {tail}"]})
            done.add(current)
        pending = [job for job in pending if job["path"] not in done]
    kinds = {job["path"]: job["kind"] for job in jobs}
    for result in results:
        result["kind"] = kinds.get(result["path"])
    return results


def check_with_cli(paths: list[Path], workspace: Path) -> list[dict]:
    """`thidua check FILE` in a subprocess, from the workspace."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8"}
    out = []
    for path in paths:
        before = hashlib.sha256(path.read_bytes()).hexdigest()
        problems = []
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "processor", "check", str(path)],
                cwd=workspace,
                env=env,
                capture_output=True,
                timeout=60,
            )
        except subprocess.TimeoutExpired:
            out.append({"path": str(path), "problems": ["check: hang > 60 s"]})
            continue
        stdout = proc.stdout.decode("utf-8", "replace")
        stderr = proc.stderr.decode("utf-8", "replace")
        if proc.returncode not in (0, 1):
            problems.append(f"check: exit status {proc.returncode}: {stderr[-300:]}")
        if "Traceback" in stdout + stderr:
            problems.append(f"check: traceback: {stderr[-300:]}")
        if XML_ILLEGAL.search(stdout):
            problems.append("check: control characters on the console")
        if hashlib.sha256(path.read_bytes()).hexdigest() != before:
            problems.append("check: input modified")
        out.append({"path": str(path), "problems": problems})
    return out


# -- names, senders and dates through `thidua run` ---------------------------------------------------
#
# Each run-stage mutant is a file (a workbook or an e-mail) that sits in its own folder `m0042/` of a
# workspace's inbox, beside the genuine files of the sample month. The folder names it: any line of the
# run's results that starts with "m0042/" accounts for it, whatever the product makes of the odd name.

RUN_FAMILIES = (("name", 30), ("attachment", 20), ("header", 20), ("date", 15), ("bytes", 15))
TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"
XLSX_TYPE = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WINDOWS_RESERVED = re.compile(r"(?i)^(con|prn|aux|nul|com\d|lpt\d|conin\$|conout\$|clock\$)$")
WINDOWS_BAD_CHARS = re.compile(r'[\x00-\x1f<>:"\\|?*]')
# Output paths from the workspace: Windows' limit is 260 characters, and the workspace itself sits
# somewhere like C:\Users\<name>\Documents\ThiDua\ (about 60).
OUTPUT_PATH_CHARS = 200
MTIMES = {  # file modification times (POSIX seconds); ext4 clamps the far ones to 2446
    "future_2100": 4102444800,
    "far_future": 10**12,
    "epoch": 0,
    "before_epoch": -(10**9),
    "before_campaign": 1690000000,  # July 2023
    "y2038": 2**31,
    "fraction": 1706745600.999999,
}
ODD_DATES = [
    b"Fri, 01 Jan 2100 00:00:00 +0700",
    b"Mon, 01 Jan 1990 08:00:00 +0700",
    b"Thu, 01 Jan 1970 00:00:00 +0000",
    b"Fri, 31 Dec 9999 23:59:59 -1200",
    b"Mon, 01 Jan 0001 00:00:00 +0000",
    b"Sat, 01 Jan 10000 00:00:00 +0000",
    b"Mon, 99 Foo 2024 25:61:61 +9999",
    b"Thu, 01 Feb 2024 10:00:00 +2359",
    b"Thu, 01 Feb 2024 10:00:00 -2359",
    b"Thu, 01 Feb 2024 10:00:00 +1400",
    b"Thu, 01 Feb 2024 10:00:00 -1200",
    b"Thu, 01 Feb 2024 10:00:00 GMT+7",
    b"Thu, 01 Feb 2024 24:00:00 +0700",
    b"Thu, 01 Feb 2024 10:00:60 +0700",
    b"Thu, 29 Feb 2023 10:00:00 +0700",
    b"1 Feb 24 10:00 +0700",
    b"2024-02-01T10:00:00+07:00",
    b"01/02/2024",
    b"yesterday",
    b"",
]
BAD_SENDERS = [
    b"a@.",
    b"@c.vn",
    b"a@b@c.vn",
    b"a@[bad",
    b"<a@.>",
    b"x <@c.vn>",
    b"a@b@c.vn <a@b@c.vn>",
    b'"a@b"@c.vn',
    b"a..b@c.vn",
    b"a@c..vn",
    b"a@" + b"x" * 300 + b".vn",
    b"a@c.vn, b@d.vn",
    b"undisclosed-recipients:;",
    b"<>",
    b"a@c.vn\x1b[2J",
]


@dataclasses.dataclass
class Mutant:
    """One file placed at inbox/<folder>/<name> with modification time `mtime`."""

    number: int
    family: str
    kind: str
    name: bytes  # a file name as the file system holds it: not always UTF-8
    data: bytes
    mtime: float

    @property
    def folder(self) -> str:
        return f"m{self.number:04d}"

    def describe(self) -> dict:
        return {
            "id": self.folder,
            "family": self.family,
            "kind": self.kind,
            "name": self.name.decode("utf-8", "backslashreplace"),
            "mtime": self.mtime,
        }


def _legacy(text: str, codec: str) -> bytes:
    """`text` in a legacy code page; Windows-1258 spells a toned letter as base letter + tone mark."""
    out = b""
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode(codec)
        except UnicodeEncodeError:
            base, *marks = unicodedata.normalize("NFD", char)
            head = unicodedata.normalize("NFC", base + "".join(m for m in marks if m not in TONE_MARKS))
            tones = "".join(m for m in marks if m in TONE_MARKS)
            out += head.encode(codec, "replace") + tones.encode(codec, "replace")
    return out


def _fit(name: bytes, limit: int = 255) -> bytes:
    """A name Linux can create: no slash, no NUL, at most 255 bytes (a cut character is welcome)."""
    return name.replace(b"/", b"_").replace(b"\0", b"_")[:limit] or b"_"


NAME_KINDS: dict[str, Callable[[random.Random, str, str], str | bytes]] = {
    "crlf": lambda rng, stem, suffix: f"{stem}\r\nBcc: ke-gian@example.com\r\n{suffix}",
    "lf": lambda rng, stem, suffix: f"{stem}\n{suffix}",
    "cr": lambda rng, stem, suffix: f"\r{stem}{suffix}",
    "u2028": lambda rng, stem, suffix: f"{stem}\u2028Bcc: x@y.vn{suffix}",
    "u2029": lambda rng, stem, suffix: f"Báo cáo\u2029{stem}{suffix}",
    "u0085": lambda rng, stem, suffix: f"{stem}\u0085x{suffix}",
    "control": lambda rng, stem, suffix: (
        stem + rng.choice(["\x01", "\x07", "\x1b[2J", "\x7f", "\t", "\x0b", "\x0c", "\x1f", "\x9b"]) + suffix
    ),
    "long_vietnamese": lambda rng, stem, suffix: "ễ" * 70 + suffix,
    "long_emoji": lambda rng, stem, suffix: "🙂" * 60 + suffix,
    "long_255_bytes": lambda rng, stem, suffix: "a" * (255 - len(suffix)) + suffix,
    "long_cut_character": lambda rng, stem, suffix: (
        ("Báo cáo thi đua tháng 01-2024 " * 9).encode()[:251] + suffix.encode()
    ),
    "cp1258": lambda rng, stem, suffix: _legacy(f"Báo cáo thi đua - Phòng Kinh tế{suffix}", "cp1258"),
    "cp1252": lambda rng, stem, suffix: _legacy(f"Báo cáo tháng 01 - Phòng Tài vụ{suffix}", "cp1252"),
    "invalid_utf8": lambda rng, stem, suffix: b"\xff\xfe\x80bao-cao\xc3" + suffix.encode(),
    "shift_jis": lambda rng, stem, suffix: "報告書".encode("shift_jis") + suffix.encode(),
    "nfd": lambda rng, stem, suffix: unicodedata.normalize("NFD", f"Báo cáo Kinh tế {stem}{suffix}"),
    "other_extension": lambda rng, stem, suffix: (
        stem
        + rng.choice(
            [
                ".xlsx.exe",
                ".pdf.xlsx",
                ".xlsx.lnk",
                ".xlsx.eml",
                ".eml.xlsx",
                ".XLSX",
                ".Xlsx",
                ".xls",
                ".xlsm",
                ".xlsx.zip",
                ".msg",
                "",
            ]
        )
    ),
    "leading": lambda rng, stem, suffix: (
        rng.choice(["-", "--", "-rf ", "--help", "- ", "\u2013", "."]) + stem + suffix
    ),
    "reserved": lambda rng, stem, suffix: (
        rng.choice(["CON", "NUL", "con", "PRN", "AUX", "COM1", "LPT9", "CONIN$", "CLOCK$"])
        + rng.choice(["", suffix, ".txt" + suffix])
    ),
    "trailing": lambda rng, stem, suffix: rng.choice(
        [f"{stem}{suffix}.", f"{stem}{suffix} ", f"{stem}{suffix}. .", f"{stem} {suffix}", f"{stem}.{suffix}"]
    ),
    "windows_characters": lambda rng, stem, suffix: (
        rng.choice(
            ["a<b>", "a:b", 'a"b', "a|b", "a?b", "a*b", "..\\..\\evil", "C:\\Windows\\x", "\\\\srv\\x"]
        )
        + suffix
    ),
    "bidi": lambda rng, stem, suffix: rng.choice(["\u202e", "\u200b", "\ufeff", "\u200f"]) + stem + suffix,
}


def odd_name(rng: random.Random, stem: str, suffix: str) -> tuple[str, str | bytes]:
    kind = rng.choice(sorted(NAME_KINDS))
    return kind, NAME_KINDS[kind](rng, stem, suffix)


def _as_bytes(name: str | bytes) -> bytes:
    return name if isinstance(name, bytes) else name.encode("utf-8", "surrogateescape")


def _tagged(data: bytes, tag: str) -> bytes:
    """The same workbook with other bytes (a zip comment), so that copies are not taken as duplicates."""
    out = io.BytesIO(data)
    try:
        with zipfile.ZipFile(out, "a") as archive:
            archive.comment = tag.encode()
        return out.getvalue()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return data + tag.encode()


def build_email(headers: list[bytes], attachments: list[tuple[bytes, bytes]]) -> bytes:
    """A saved e-mail from raw header lines and (Content-Disposition parameters, bytes) attachments."""
    lines = [*headers, b"MIME-Version: 1.0", b'Content-Type: multipart/mixed; boundary="=_fuzz"', b""]
    lines += [b"--=_fuzz", b"Content-Type: text/plain; charset=utf-8", b"", "Gửi báo cáo.".encode(), b""]
    for disposition, data in attachments:
        lines += [
            b"--=_fuzz",
            b"Content-Type: " + XLSX_TYPE,
            b"Content-Transfer-Encoding: base64",
            b"Content-Disposition: attachment; " + disposition,
            b"",
            base64.encodebytes(data).replace(b"\n", b"\r\n"),
        ]
    lines.append(b"--=_fuzz--")
    return b"\r\n".join(lines) + b"\r\n"


def _filename_parameter(rng: random.Random, name: str | bytes) -> tuple[str, bytes]:
    """How a mail program may spell an attachment's name in Content-Disposition."""
    from urllib.parse import quote_from_bytes

    raw = _as_bytes(name)
    text = raw.decode("utf-8", "replace")
    encodings = {
        "rfc2231": lambda: b"filename*=utf-8''" + quote_from_bytes(raw, safe="").encode(),
        "rfc2231_cp1258": lambda: (
            b"filename*=windows-1258''" + quote_from_bytes(_legacy(text, "cp1258"), safe="").encode()
        ),
        "rfc2231_continued": lambda: (
            b"filename*0*=utf-8''"
            + quote_from_bytes(raw[:10], safe="").encode()
            + b"; filename*1*="
            + quote_from_bytes(raw[10:], safe="").encode()
        ),
        "rfc2047": lambda: b'filename="=?utf-8?b?' + base64.b64encode(raw) + b'?="',
        "raw_8bit": lambda: b'filename="' + raw.replace(b'"', b"'") + b'"',
    }
    kind = rng.choice(sorted(encodings))
    return kind, encodings[kind]()


class RunMutants:
    """Mutants of names, senders and dates around the genuine files of the sample month."""

    def __init__(self, rng: random.Random, config, seeds: dict[str, list[Path]], jobs: list[dict]):
        self.rng = rng
        self.units = {unit.code: unit for unit in config.units}
        self.clerk = config.office.clerk_email
        self.workbooks = [p for p in seeds["workbook"] if self._unit_of(p)]
        self.byte_mutants = [Path(job["path"]) for job in jobs]
        period = config.campaigns[0].periods[0]
        self.subject = f"Báo cáo thi đua tháng {period.label}".encode()
        start = dt.datetime.combine(period.next().first_day, dt.time(8), VIETNAM)
        self.window = (start.timestamp(), start.timestamp() + 4 * 86400)

    def _unit_of(self, path: Path) -> str | None:
        match = re.match(r"\d{4}-\d\d_([A-Z]+)_", path.name)
        return match.group(1) if match else None

    def normal_time(self) -> float:
        return round(self.rng.uniform(*self.window))

    def _date_header(self, when: float | None = None) -> bytes:
        moment = dt.datetime.fromtimestamp(when or self.normal_time(), VIETNAM)
        return b"Date: " + format_datetime(moment).encode()

    def _content(self, number: int) -> tuple[str, bytes, Path]:
        """A workbook to carry: genuine (corrections of a unit), damaged, or not a workbook at all."""
        source = self.rng.choice(self.workbooks)
        roll = self.rng.random()
        if roll < 0.45:
            return "genuine", _tagged(source.read_bytes(), f"fuzz {number}"), source
        if roll < 0.8:
            kind, data = mutate_workbook(self.rng, source.read_bytes())
            return kind, data, source
        return "garbage", self.rng.choice([b"", b"PK\x03\x04", b"not a workbook %d" % number]), source

    def _sender(self, source: Path) -> bytes:
        unit = self.units[self._unit_of(source) or ""]
        address = unit.emails[0] if unit.emails else "vanthu@laocai.gov.vn"
        return b"=?utf-8?b?" + base64.b64encode(unit.name.encode()) + b"?= <" + address.encode() + b">"

    def _headers(self, source: Path, sender: bytes | None = None, date: bytes | None = None) -> list[bytes]:
        return [
            b"From: " + (sender if sender is not None else self._sender(source)),
            b"To: " + self.clerk.encode(),
            b"Subject: =?utf-8?b?" + base64.b64encode(self.subject) + b"?=",
            date if date is not None else self._date_header(),
        ]

    def make(self, number: int) -> Mutant:
        family = self.rng.choices([f for f, _ in RUN_FAMILIES], [w for _, w in RUN_FAMILIES])[0]
        if family == "bytes" and not self.byte_mutants:
            family = "name"
        return getattr(self, f"_{family}")(number)

    def _name(self, number: int) -> Mutant:
        content, data, source = self._content(number)
        if self.rng.random() < 0.15:  # a saved e-mail with an odd name
            suffix = ".eml"
            data = build_email(self._headers(source), [(b'filename="bao-cao.xlsx"', data)])
        else:
            suffix = ".xlsx"
        kind, name = odd_name(self.rng, source.stem, suffix)
        return Mutant(number, "name", f"{kind}/{content}", _fit(_as_bytes(name)), data, self.normal_time())

    def _attachment(self, number: int) -> Mutant:
        content, data, source = self._content(number)
        roll = self.rng.random()
        if roll < 0.15:  # many attachments: tiny ones, or one name many times
            count = self.rng.choice([60, 200])
            same = self.rng.random() < 0.5
            parts = [
                (b'filename="bao-cao.xlsx"' if same else b'filename="%03d.xlsx"' % i, b"tiny %d" % i)
                for i in range(count)
            ]
            parts.insert(self.rng.randrange(count), (b'filename="that-bao-cao.xlsx"', data))
            kind = f"many_{count}{'_same_name' if same else ''}"
        else:
            if roll < 0.3:
                name: str | bytes = self.rng.choice(
                    [
                        "../../evil.xlsx",
                        "/etc/passwd.xlsx",
                        "C:\\Windows\\x.xlsx",
                        "",
                        ".",
                        "..",
                        ".xlsx",
                        "x" * 300 + ".xlsx",
                        "Báo cáo " * 40 + ".xlsx",
                    ]
                )
                kind = "path"
            else:
                kind, name = odd_name(self.rng, source.stem, ".xlsx")
            encoding, parameter = _filename_parameter(self.rng, name)
            if self.rng.random() < 0.3:  # the header injection of the issue, literally
                kind, encoding, parameter = (
                    "crlf_bcc",
                    "rfc2231",
                    b"filename*=utf-8''x%0D%0ABcc%3A%20ke-gian%40example.com%0D%0A.xlsx",
                )
            parts = [(parameter, data)]
            kind = f"{kind}/{encoding}"
        data = build_email(self._headers(source), parts)
        return Mutant(number, "attachment", f"{kind}/{content}", b"thu.eml", data, self.normal_time())

    def _header(self, number: int) -> Mutant:
        content, data, source = self._content(number)
        good = self._sender(source)
        encoded_word = lambda text: b"=?utf-8?b?" + base64.b64encode(text.encode()) + b"?="  # noqa: E731
        address = good[good.rindex(b"<") :]
        senders = {
            "invalid_address": lambda: self.rng.choice(BAD_SENDERS),
            "display_control": lambda: self.rng.choice(
                [
                    b"=?utf-8?q?Ph=C3=B2ng=0D=0ABcc:_x@y.vn?= " + address,
                    encoded_word("Phòng\u2028Kinh tế") + b" " + address,
                    encoded_word("Phòng\u0085Kinh tế\x1b[2J") + b" " + address,
                    "\x1b[2J Phòng Kinh tế ".encode() + address,
                    b"Ph\xf2ng Kinh t\xea\xec " + address,  # Windows-1258 bytes in a header
                ]
            ),
            "encoded_garbage": lambda: (
                self.rng.choice(
                    [
                        b"=?utf-8?b?!!!?=",
                        b"=?x-unknown?q?abc?=",
                        b"=?utf-8?q?=FF=FE?=",
                        b"=?utf-8?b?",
                        b"=?utf-8?Q?" + b"a" * 3000 + b"?=",
                        b"=?utf-8?b?" + base64.b64encode(b"\xff\xfe@x") + b"?=",
                    ]
                )
                + self.rng.choice([b"", b" " + address])
            ),
        }
        roll = self.rng.random()
        if roll < 0.6:
            kind = self.rng.choice(sorted(senders))
            headers = self._headers(source, sender=senders[kind]())
        elif roll < 0.75:
            kind = "duplicated_from"
            bad = self.rng.choice(BAD_SENDERS)
            first, second = (good, bad) if self.rng.random() < 0.5 else (bad, good)
            headers = [*self._headers(source, sender=first), b"From: " + second]
        elif roll < 0.85:
            kind = "duplicated_date"
            headers = [*self._headers(source), b"Date: " + self.rng.choice(ODD_DATES)]
        else:
            kind = self.rng.choice(["missing_date", "missing_from"])
            gone = b"Date:" if kind == "missing_date" else b"From:"
            headers = [h for h in self._headers(source) if not h.startswith(gone)]
        if self.rng.random() < 0.2:  # no workbook attached: the sender alone is the feedback's address
            parts, content = [(b'filename="ghi-chu.txt"', b"text")], "no_workbook"
        else:
            parts = [(b"filename*=utf-8''" + source.name.encode(), data)]
        data = build_email(headers, parts)
        return Mutant(number, "header", f"{kind}/{content}", b"thu.eml", data, self.normal_time())

    def _date(self, number: int) -> Mutant:
        content, data, source = self._content(number)
        roll = self.rng.random()
        if roll < 0.4:  # a bare workbook: its modification time is its received time
            kind = self.rng.choice(sorted(MTIMES))
            return Mutant(number, "date", f"mtime_{kind}/{content}", source.name.encode(), data, MTIMES[kind])
        date = self.rng.choice(ODD_DATES)
        if roll < 0.8:
            kind, headers = "date", self._headers(source, date=b"Date: " + date)
        else:
            received = [
                b"Received: from mail.laocai.gov.vn by mx.laocai.gov.vn; " + self.rng.choice(ODD_DATES)
                for _ in range(self.rng.randint(1, 4))
            ]
            received += self.rng.choice([[], [b"Received: ;;;;"], [b"Received: " + b"x" * 5000]])
            kind, headers = "received", [*received, *self._headers(source)]
            if self.rng.random() < 0.5:
                headers = [h for h in headers if not h.startswith(b"Date:")]
                kind = "received_no_date"
        data = build_email(headers, [(b"filename*=utf-8''" + source.name.encode(), data)])
        return Mutant(number, "date", f"{kind}/{content}", b"thu.eml", data, self.normal_time())

    def _bytes(self, number: int) -> Mutant:
        path = self.rng.choice(self.byte_mutants)
        kind = path.name.split("_", 1)[-1]
        return Mutant(number, "bytes", kind, path.name.encode(), path.read_bytes(), self.normal_time())


def place(inbox: Path, mutant: Mutant) -> None:
    folder = os.fsencode(inbox / mutant.folder)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, mutant.name)
    with open(path, "wb") as stream:
        stream.write(mutant.data)
    os.utime(path, (mutant.mtime, mutant.mtime))


def _tree(folder: Path) -> dict[bytes, str]:
    """Every file under `folder` (bytes paths: names need not be UTF-8) with its sha256 and mtime."""
    found = {}
    top = os.fsencode(folder)
    for parent, _, files in os.walk(top):
        for name in files:
            path = os.path.join(parent, name)
            with open(path, "rb") as stream:
                digest = hashlib.sha256(stream.read()).hexdigest()
            found[os.path.relpath(path, top)] = f"{digest} {os.stat(path).st_mtime_ns}"
    return found


def _thidua(args: list[str], cwd: Path, timeout: int) -> tuple[int | None, str, str, float]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8"}
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "processor", *args], cwd=cwd, env=env, capture_output=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"").decode("utf-8", "replace"), (exc.stderr or b"").decode("utf-8", "replace")
        return None, *out, time.perf_counter() - started
    out = proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
    return proc.returncode, *out, time.perf_counter() - started


def _crash(status: int | None, stdout: str, stderr: str, timeout: int) -> str | None:
    """What went wrong with a run in one line (its signature), or None."""
    if status is None:
        return f"hang > {timeout} s"
    for text in (stderr, stdout):
        if "Traceback" in text or "Exception ignored" in text:
            lines = [line for line in text.splitlines() if line.strip()]
            return f"traceback: {lines[-1][:300] if lines else ''}"
    if status != 0:
        return f"exit status {status}: {(stderr.strip().splitlines() or [''])[-1][:300]}"
    return None


def _windows_problem(relative: str) -> str | None:
    """Why an output path would not exist on Windows, or None."""
    if len(relative) > OUTPUT_PATH_CHARS:
        return f"{len(relative)} characters"
    for part in relative.split("/"):
        if WINDOWS_BAD_CHARS.search(part):
            return f"character {WINDOWS_BAD_CHARS.search(part).group(0)!r} in {part!r}"
        if part.endswith((".", " ")):
            return f"trailing dot or space in {part!r}"
        if WINDOWS_RESERVED.match(part.split(".")[0].rstrip(" ")):
            return f"reserved name {part!r}"
        if len(part.encode("utf-16-le")) // 2 > 255:
            return f"name longer than 255 characters: {part[:60]!r}…"
    return None


def _draft_problems(path: Path) -> list[str]:
    """A feedback draft must carry one From, To, Subject each and no header the inputs slipped in."""
    message = message_from_bytes(path.read_bytes(), policy=policy.compat32)
    keys = collections.Counter(key.lower() for key in message)
    problems = [
        f"draft {path.name!r}: header {key!r} {count} times" for key, count in keys.items() if count > 1
    ]
    problems += [f"draft {path.name!r}: header {key!r}" for key in keys if key in ("bcc", "reply-to")]
    return problems


def _accounted(ws: Path, period: str) -> set[str]:
    """The mutant folders named anywhere in summary.json or in kiem-tra (every file, every finding)."""
    import openpyxl

    names: list[str] = []
    summary = json.loads((ws / "output" / period / "summary.json").read_text(encoding="utf-8"))
    names += [item["name"] for item in summary["generated_from"]]
    workbook = openpyxl.load_workbook(ws / "output" / period / f"kiem-tra-{period}.xlsx", read_only=True)
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows(values_only=True):
            names += [value for value in row if isinstance(value, str)]
    workbook.close()
    return {match.group(1) for name in names if (match := re.match(r"(m\d{4})/", name))}


def judge_run(container: Path, period: str, before: dict, mutants: list[Mutant], timeout: int) -> dict:
    """`thidua run` twice over the workspace; the problems, each with what a human needs to look."""
    ws, problems = container / "ws", []
    status, stdout, stderr, seconds = _thidua(["run", "--period", period], ws, timeout)
    out = {"path": str(ws), "kind": "run", "seconds": round(seconds, 1), "problems": problems}
    out["stderr_tail"] = stderr[-2000:]
    crash = out["signature"] = _crash(status, stdout, stderr, timeout)
    if crash:
        problems.append(f"run: {crash}")
    if XML_ILLEGAL.search(stdout):
        problems.append("run: control characters on the console")
    if _tree(ws / "inbox") != before["inbox"]:
        problems.append("run: inbox changed (a file modified, added or removed)")
    if (
        _tree(ws / "input_templates") != before["templates"]
        or _tree(container / "canary") != before["canary"]
    ):
        problems.append("run: input_templates or the canary folder beside the workspace changed")
    if set(os.listdir(container)) - {"canary", "mutants.json", "set-aside", "ws"}:
        problems.append(f"run: wrote beside the workspace: {sorted(os.listdir(container))}")
    extra = set(os.listdir(ws)) - {"config.toml", "input_templates", "inbox", "output"}
    if extra:
        problems.append(f"run: wrote into the workspace outside output/: {sorted(extra)}")
    output = ws / "output"
    extra = set(os.listdir(output)) - {period, ".cache", ".thidua.lock"}
    if extra:
        problems.append(f"run: unexpected entries in output/: {sorted(extra)}")
    published = output / period
    for name in ("summary.json", f"bao-cao-{period}.docx", f"kiem-tra-{period}.xlsx", "manifest.json"):
        if not crash and not (published / name).is_file():
            problems.append(f"run: period not published: no output/{period}/{name}")
    if crash or not (published / "summary.json").is_file():
        return out
    for path in sorted(published.rglob("*")) if published.is_dir() else []:
        relative = path.relative_to(ws).as_posix()
        if path.is_symlink() or not path.resolve().is_relative_to(published.resolve()):
            problems.append(f"run: {relative!r} leads outside output/{period}/")
        elif why := _windows_problem(relative):
            problems.append(f"run: output name not valid on Windows ({why}): {relative!r}")
        elif path.suffix == ".eml":
            problems += [f"run: {p}" for p in _draft_problems(path)]
    if (published / f"kiem-tra-{period}.xlsx").is_file():
        found = _accounted(ws, period)
        for mutant in mutants:
            hidden = mutant.name.startswith((b".", b"~$"))  # hidden and lock files are skipped by design
            if mutant.folder not in found and not hidden:
                problems.append(f"run: {mutant.folder} not accounted for: {json.dumps(mutant.describe())}")
    if not problems:
        first = (published / "summary.json").read_bytes()
        status, stdout, stderr, _ = _thidua(["run", "--period", period], ws, timeout)
        crash = _crash(status, stdout, stderr, timeout)
        if crash:
            problems.append(f"second run: {crash}")
            out["stderr_tail"] = stderr[-2000:]
        elif (published / "summary.json").read_bytes() != first:
            problems.append("second run: summary.json differs from the first run's")
    return out


def build_workspace(container: Path, genuine: Path, mutants: list[Mutant], same_mtime: float | None) -> None:
    """`thidua init` beside a canary folder, the genuine month and the mutants in the inbox."""
    container.mkdir(parents=True)
    (container / "canary").mkdir()
    (container / "canary" / "keep.txt").write_text("canary\n", encoding="utf-8")
    status, _, stderr, _ = _thidua(["init", "ws"], container, 60)
    if status != 0:
        raise SystemExit(f"thidua init failed: {stderr[-1000:]}")
    inbox = container / "ws" / "inbox"
    for path in sorted(genuine.iterdir()):
        shutil.copy2(path, inbox / path.name)
    for mutant in mutants:
        place(inbox, mutant)
    if same_mtime is not None:  # every file copied at once: received times from mtimes say nothing
        for parent, _, files in os.walk(os.fsencode(inbox)):
            for name in files:
                os.utime(os.path.join(parent, name), (same_mtime, same_mtime))


def _culprits(
    container: Path, period: str, mutants: list[Mutant], failure: tuple[str, str], timeout: int, steps: int
) -> tuple[list[Mutant], tuple[str, str]]:
    """Halve the mutants of a failed workspace while the run still fails: the same way if a half does,
    else as a half does (another crash hid behind the first). Returns the suspects and their failure
    (signature, stderr tail)."""
    suspects = list(mutants)
    for step in range(steps):
        if len(suspects) <= 1:
            break
        half = len(suspects) // 2
        other = None
        for candidate in (suspects[:half], suspects[half:]):
            status, stdout, stderr = _trial(container, period, candidate, timeout, step)
            crash = _crash(status, stdout, stderr, timeout)
            if _same_failure(crash, failure[0]):
                suspects, other = candidate, None
                failure = (crash, stderr[-2000:])
                break
            if crash and other is None:
                other = (candidate, (crash, stderr[-2000:]))
        else:
            if other is None:
                break  # neither half alone: the failure needs mutants from both
            suspects, failure = other
    return suspects, failure


def _trial(container: Path, period: str, mutants: list[Mutant], timeout: int, step: int) -> tuple:
    """`thidua run` over a copy of the workspace with the genuine files and only these mutants."""
    source = container / "ws" / "inbox"
    trial = container.parent / f"{container.name}-bisect-{step}"
    shutil.rmtree(trial, ignore_errors=True)
    for name in ("inbox", "output"):
        (trial / name).mkdir(parents=True)
    shutil.copy2(container / "ws" / "config.toml", trial / "config.toml")
    shutil.copytree(container / "ws" / "input_templates", trial / "input_templates")
    keep = {m.folder for m in mutants}
    for entry in sorted(os.listdir(source)):
        if not re.fullmatch(r"m\d{4}", entry) or entry in keep:
            copy = shutil.copytree if (source / entry).is_dir() else shutil.copy2
            copy(source / entry, trial / "inbox" / entry)
    status, stdout, stderr, _ = _thidua(["run", "--period", period], trial, timeout)
    shutil.rmtree(trial, ignore_errors=True)
    return status, stdout, stderr


def _same_failure(one: str | None, other: str | None) -> bool:
    """The same kind of failure: the exception's name, not its message (which quotes a position)."""
    if one is None or other is None:
        return False
    parts = 2 if one.startswith("traceback") else 1
    return one.split(":")[:parts] == other.split(":")[:parts]


def _set_aside(container: Path, mutants: list[Mutant]) -> None:
    """Move mutants that crash the run out of the inbox, so the next run can meet the others."""
    aside = container / "set-aside"
    aside.mkdir(exist_ok=True)
    for mutant in mutants:
        os.replace(container / "ws" / "inbox" / mutant.folder, aside / mutant.folder)


def _snapshot(container: Path) -> dict:
    return {
        "inbox": _tree(container / "ws" / "inbox"),
        "templates": _tree(container / "ws" / "input_templates"),
        "canary": _tree(container / "canary"),
    }


def run_stage(
    root: Path, config, seeds: dict[str, list[Path]], jobs: list[dict], args: argparse.Namespace
) -> list[dict]:
    """--run mutants over --run-workspaces workspaces, each through `thidua run` (twice).

    A run that fails is narrowed down to the mutants it needs (--bisect halvings); those are set aside
    and the run tried again without them, up to --peel times, so one crash does not hide the others.
    """
    rng = random.Random(f"{args.seed}/run")
    period = str(config.campaigns[0].periods[0])
    maker = RunMutants(rng, config, seeds, jobs)
    count = max(1, min(args.run_workspaces, args.run))
    shutil.rmtree(root / "run", ignore_errors=True)
    results, numbers = [], iter(range(args.run))
    for index in range(count):
        share = args.run // count + (index < args.run % count)
        mutants = [maker.make(next(numbers)) for _ in range(share)]
        same_mtime = maker.normal_time() if rng.random() < 0.3 else None
        container = root / "run" / f"{index:02d}"
        build_workspace(container, root / "seed-email", mutants, same_mtime)
        described = {"same_mtime": same_mtime, "mutants": [m.describe() for m in mutants]}
        text = json.dumps(described, ensure_ascii=False, indent=1)
        (container / "mutants.json").write_text(text, encoding="utf-8")
        found, crashes, left, seconds = [], [], list(mutants), 0.0
        while True:
            result = judge_run(container, period, _snapshot(container), left, args.run_timeout)
            seconds += result["seconds"]
            signature = result["signature"]
            if not signature or not args.bisect or len(crashes) >= args.peel:
                break
            found += [p for p in result["problems"] if p != f"run: {signature}"]
            failure = (signature, result["stderr_tail"])
            culprits, failure = _culprits(container, period, left, failure, args.run_timeout, args.bisect)
            shown = ", ".join(f"{m.folder} ({m.family} {m.kind})" for m in culprits[:5])
            more = f" and {len(culprits) - 5} more" if len(culprits) > 5 else ""
            alone = "alone makes" if len(culprits) == 1 else "together make"
            found.append(f"run: {failure[0]}; {shown}{more} {alone} the run fail so (set-aside/)")
            crashes.append(
                {
                    "signature": failure[0],
                    "stderr_tail": failure[1],
                    "culprits": [m.describe() for m in culprits],
                }
            )
            _set_aside(container, culprits)
            left = [m for m in left if m not in culprits]
        if result["signature"] and crashes and len(crashes) >= args.peel:
            result["problems"].append(
                f"run: stopped after setting aside the culprits of {len(crashes)} failures"
            )
        result["problems"][:0] = found
        result["seconds"] = round(seconds, 1)
        result["crashes"] = crashes
        result["mutants"] = len(mutants)
        results.append(result)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="folder for seeds and mutants (kept)")
    parser.add_argument("--timeout", type=int, default=20, help="seconds per file")
    parser.add_argument(
        "--cli", type=int, default=100, help="how many mutants also go through `thidua check`"
    )
    parser.add_argument(
        "--run", type=int, default=300, help="mutants of names, senders and dates through `thidua run`"
    )
    parser.add_argument("--run-workspaces", type=int, default=5, help="workspaces the --run mutants share")
    parser.add_argument("--run-timeout", type=int, default=300, help="seconds per `thidua run`")
    parser.add_argument(
        "--bisect", type=int, default=8, help="halvings to find the mutants a failed run needs (0: none)"
    )
    parser.add_argument("--peel", type=int, default=3, help="failures narrowed down per workspace")
    parser.add_argument("--worker", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    if args.worker is not None:
        worker(args.worker, args.timeout)
        return
    root = args.out or Path(tempfile.mkdtemp(prefix="thidua-fuzz-"))
    root.mkdir(parents=True, exist_ok=True)
    workspace, seeds = make_seeds(root)
    jobs = make_mutants(seeds, args.count, args.seed, root / "mutants")
    results = run_jobs(jobs, workspace / "config.toml", args.timeout)
    sample = random.Random(args.seed).sample(jobs, min(args.cli, len(jobs)))
    results += check_with_cli([Path(job["path"]) for job in sample], workspace)
    if args.run > 0:
        from processor.config import load_config

        results += run_stage(root, load_config(workspace / "config.toml"), seeds, jobs, args)
    with (root / "results.jsonl").open("w", encoding="utf-8") as log:
        for result in results:
            log.write(json.dumps(result, ensure_ascii=False) + "\n")
    bad = [r for r in results if r["problems"]]
    by_kind = collections.Counter(job["kind"].split(".")[0] for job in jobs)
    print(f"{len(jobs)} mutants ({dict(by_kind)}), {len(sample)} through `thidua check`")
    runs = [r for r in results if r.get("kind") == "run"]
    if runs:
        seconds = sum(r["seconds"] for r in runs)
        print(
            f"{args.run} mutants of names, senders and dates through `thidua run` in {len(runs)} workspaces"
        )
        print(f"  ({seconds:.0f} s of `thidua run` without the narrowing down; mutants: run/NN/mutants.json)")
    other_data = sum("accepted_with_other_data" in r for r in results)
    print(f"{len(bad)} with problems; {other_data} accepted with data other than their seed's (to judge by")
    print(f"hand: most mutations change the data legitimately); details: {root / 'results.jsonl'}")
    for result in [r for r in bad if r.get("kind") != "run"][:20]:
        print(f"  {result['path']}: {result['problems'][0][:300]}")
    for result in [r for r in bad if r.get("kind") == "run"]:
        print(f"  {result['path']}:")
        for problem in result["problems"][:12]:
            print(f"    {problem[:400]}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
