"""A small writer of Excel binary workbooks (.xlsb, MS-XLSB), for the tests of their refusal.

LibreOffice reads .xlsb but cannot save one, and Excel is not on the test machines: this writes the
records Excel writes for plain values (BrtBundleSh per sheet in workbook.bin; BrtWsDim, BrtRowHdr,
BrtCellReal and BrtCellSt in each sheet), in the package Excel makes. python-calamine reads the result
(tests/test_ods.py checks it does), which is what makes it a real .xlsb for the program's decision.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Sequence


def _varint(number: int) -> bytes:
    out = bytearray()
    while True:
        byte = number & 0x7F
        number >>= 7
        out.append(byte | (0x80 if number else 0))
        if not number:
            return bytes(out)


def _record(kind: int, body: bytes = b"") -> bytes:
    kind_bytes = bytes([kind]) if kind < 0x80 else bytes([(kind & 0x7F) | 0x80, kind >> 7])
    return kind_bytes + _varint(len(body)) + body


def _wide(text: str) -> bytes:
    data = text.encode("utf-16-le")
    return struct.pack("<I", len(data) // 2) + data


def _sheet(rows: Sequence[Sequence[object]]) -> bytes:
    width = max((len(r) for r in rows), default=1)
    out = [_record(0x0081), _record(0x0094, struct.pack("<IIII", 0, max(len(rows) - 1, 0), 0, width - 1))]
    out.append(_record(0x0091))
    for r, row in enumerate(rows):
        out.append(_record(0x0000, struct.pack("<IIHBBBI", r, 0, 300, 0, 0, 0, 0)))
        for c, value in enumerate(row):
            head = struct.pack("<II", c, 0)
            if isinstance(value, str):
                out.append(_record(0x0006, head + _wide(value)))
            elif value is not None:
                out.append(_record(0x0005, head + struct.pack("<d", float(value))))
    out += [_record(0x0092), _record(0x0082)]
    return b"".join(out)


def xlsb(sheets: dict[str, Sequence[Sequence[object]]]) -> bytes:
    """The bytes of an .xlsb holding these sheets (name -> rows of str / number / None)."""
    book = [_record(0x0083), _record(0x008F)]
    rels = []
    for index, name in enumerate(sheets, 1):
        book.append(_record(0x009C, struct.pack("<II", 0, index) + _wide(f"rId{index}") + _wide(name)))
        rels.append(
            f'<Relationship Id="rId{index}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            f'relationships/worksheet" Target="worksheets/sheet{index}.bin"/>'
        )
    book += [_record(0x0090), _record(0x0084)]
    types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/>'
        "</Types>"
    )
    package_rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="xl/workbook.bin"/></Relationships>'
    )
    book_rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(rels)
        + "</Relationships>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("_rels/.rels", package_rels)
        archive.writestr("xl/workbook.bin", b"".join(book))
        archive.writestr("xl/_rels/workbook.bin.rels", book_rels)
        for index, rows in enumerate(sheets.values(), 1):
            archive.writestr(f"xl/worksheets/sheet{index}.bin", _sheet(rows))
    return out.getvalue()
