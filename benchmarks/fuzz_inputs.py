"""Fuzz the received files: mutants of real sample workbooks, e-mails and .xls/.msg through the batch.

    .venv/bin/python benchmarks/fuzz_inputs.py --count 3000 --seed 1 --out /tmp/thidua-fuzz

Seeds are real files: the sample inbox (`samples.generate_inbox`, workbooks and .eml), an openpyxl
re-save of some of them (shared strings, other part names) and the .xls/.msg test fixtures. Each mutant
goes through `ingest.ingest_paths` in a worker process (a mutant that aborts or kills the worker is
reported and the worker restarted), and a sample of them through `thidua check` in a subprocess.

A problem is: an exception, a dead worker, a check exit status other than 0/1 or a traceback, a hang
(SIGALRM after --timeout seconds, checked when Python regains control), an input file modified, a
finding that is not Vietnamese, not NFC or holds a character XML cannot, and a file accepted without an
error whose data differs from its seed's (listed for a human to judge: often the mutation is legitimate).
Results go to OUT.jsonl, one line per mutant. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import base64
import collections
import copy
import hashlib
import io
import json
import os
import random
import re
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
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# -- zip helpers -------------------------------------------------------------------------------------


def unzip(data: bytes) -> list[tuple[str, bytes]]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return [(info.filename, archive.read(info)) for info in archive.infolist()]


def rezip(entries: list[tuple[str, bytes]], stored: bool = False) -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are one of the mutations
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED) as archive:
            for name, content in entries:
                archive.writestr(name, content)
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

    from processor import samples
    from processor.config import load_config
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
    with (root / "results.jsonl").open("w", encoding="utf-8") as log:
        for result in results:
            log.write(json.dumps(result, ensure_ascii=False) + "\n")
    bad = [r for r in results if r["problems"]]
    by_kind = collections.Counter(job["kind"].split(".")[0] for job in jobs)
    print(f"{len(jobs)} mutants ({dict(by_kind)}), {len(sample)} through `thidua check`")
    other_data = sum("accepted_with_other_data" in r for r in results)
    print(f"{len(bad)} with problems; {other_data} accepted with data other than their seed's (to judge by")
    print(f"hand: most mutations change the data legitimately); details: {root / 'results.jsonl'}")
    for result in bad[:20]:
        print(f"  {result['path']}: {result['problems'][0][:300]}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
