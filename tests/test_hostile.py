"""Hostile and broken input: every file is refused with a finding, quickly, and never crashes the batch.

Some of these would abort the whole process if the guard failed (calamine allocating a dense grid for a
value at XFD1048576): a failing guard shows as a crashed test run, not a quiet pass.
"""

from __future__ import annotations

import dataclasses
import io
import time
import zipfile

import openpyxl
import pytest

from processor import form
from processor.reader import read_workbook
from processor.records import FileStatus
from processor.validate import validate_workbook
from tests import workbooks
from tests.workbooks import FIXTURES, STAFF_PART, incoming, lie_about_size, replace_cell, rewrite_parts


def check(config, data: bytes, name: str = "bao-cao.xlsx"):
    """Validate and return (submission, the one finding); the file must be unreadable."""
    sub = validate_workbook(config, incoming(data, name))
    assert sub.status is FileStatus.UNREADABLE, sub.findings
    assert sub.report is None
    assert len(sub.findings) == 1
    finding = sub.findings[0]
    assert finding.is_error and finding.file == name
    return sub, finding


def with_limits(config, **limits):
    return dataclasses.replace(config, validation=dataclasses.replace(config.validation, **limits))


def test_renamed_pdf_says_what_it_is(config):
    _, finding = check(config, b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF")
    assert finding.code == "not_workbook"
    assert "PDF" in finding.message


def test_renamed_docx_says_what_it_is(config):
    data = _zip({"word/document.xml": b"<w:document/>", "[Content_Types].xml": b"<Types/>"})
    _, finding = check(config, data)
    assert finding.code == "not_workbook"
    assert "Word" in finding.message


def test_outlook_message_is_not_a_workbook(config):
    data = next((FIXTURES / "msg").glob("*.msg")).read_bytes()
    _, finding = check(config, data, "thu.xlsx")
    assert finding.code == "not_workbook"
    assert "Outlook" in finding.message


def test_html_saved_as_xls(config):
    _, finding = check(config, b"<html><body><table><tr><td>1</td></tr></table></body></html>", "bc.xls")
    assert finding.code == "not_workbook" and "HTML" in finding.message


def test_empty_file(config):
    _, finding = check(config, b"")
    assert finding.code == "file_empty"


def test_file_over_the_size_cap(config):
    _, finding = check(with_limits(config, max_file_mb=0), workbooks.xlsx())
    assert finding.code == "file_too_large"


def test_truncated_zip(config):
    data = workbooks.xlsx()
    _, finding = check(config, data[: len(data) // 2])
    assert finding.code == "corrupt"


def test_damaged_entry_fails_its_crc(config):
    data = bytearray(workbooks.xlsx())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo(STAFF_PART)
    middle = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    data[middle] ^= 0xFF
    _, finding = check(config, bytes(data))
    assert finding.code in ("corrupt", "zip_bomb")


def test_zip_bomb_is_refused_from_the_directory(config):
    bomb = _zip({"xl/workbook.xml": b"<workbook/>", "xl/media/image1.bin": b"\0" * (40 * 1024 * 1024)})
    assert len(bomb) < 200_000
    started = time.perf_counter()
    _, finding = check(config, bomb)
    assert finding.code == "zip_bomb"
    assert time.perf_counter() - started < 0.5  # judged from the directory, nothing inflated


def test_total_uncompressed_size_and_entry_count(config):
    data = workbooks.xlsx()
    _, finding = check(with_limits(config, max_uncompressed_mb=0), data)
    assert finding.code == "zip_too_large"
    _, finding = check(with_limits(config, max_zip_entries=3), data)
    assert finding.code == "zip_too_many_entries"


def test_one_large_part_is_refused_even_when_it_compresses_modestly(config):
    """A big sharedStrings.xml that passes the ratio check is still refused before it is inflated."""
    import random

    rng = random.Random(7)
    strings = b"".join(b"<si><t>%08d</t></si>" % rng.randrange(10**8) for _ in range(80_000))
    data = _zip({"xl/workbook.xml": b"<workbook/>", "xl/sharedStrings.xml": b"<sst>" + strings + b"</sst>"})
    assert len(strings) > 1024 * 1024 and len(data) * 20 > len(strings)  # a modest ratio, not a bomb
    _, finding = check(with_limits(config, max_part_mb=1), data)
    assert finding.code == "zip_part_too_large"
    assert "xl/sharedStrings.xml" in finding.message and "giới hạn 1 MB" in finding.message


def test_entry_lying_about_its_size(config):
    """The directory says 100 bytes (with a matching CRC); the deflate stream goes on much further."""
    data = lie_about_size(workbooks.xlsx(), STAFF_PART, 100)
    _, finding = check(config, data)
    assert finding.code == "zip_bomb"
    assert "khai báo sai" in finding.message


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">
<si><t>&lol9;</t></si></sst>"""


def _with_billion_laughs() -> bytes:
    data = workbooks.xlsx()
    data = rewrite_parts(
        data,
        {
            "xl/sharedStrings.xml": BILLION_LAUGHS,
            "xl/_rels/workbook.xml.rels": lambda xml: xml.replace(
                b"</Relationships>",
                b'<Relationship Id="rIdSST" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
            ),
            "[Content_Types].xml": lambda xml: xml.replace(
                b"</Types>",
                b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
            ),
        },
    )
    return replace_cell(data, STAFF_PART, "K2", b'<c r="K2" t="s"><v>0</v></c>')


def test_billion_laughs_refused_before_calamine(config):
    _, finding = check(config, _with_billion_laughs())
    assert finding.code == "xml_entities"
    assert "sharedStrings" in finding.message


def test_openpyxl_refuses_entities_through_defusedxml():
    """openpyxl (used elsewhere for the annotated copy) picks defusedxml up when it is installed."""
    assert openpyxl.DEFUSEDXML is True
    with pytest.raises(Exception) as caught:
        openpyxl.load_workbook(io.BytesIO(_with_billion_laughs()))
    chain, error = [], caught.value
    while error is not None:
        chain.append(type(error).__name__)
        error = error.__cause__ or error.__context__
    assert any(name in ("EntitiesForbidden", "DTDForbidden") for name in chain), chain


@pytest.mark.parametrize(
    ("ref", "what"),
    [("A1048576", "dòng 1.048.576"), ("XFD2", "cột XFD"), ("XFD1048576", "dòng 1.048.576")],
)
def test_sheet_reaching_the_last_row_or_column_is_refused_quickly(config, ref, what):
    data = replace_cell(
        workbooks.xlsx(), STAFF_PART, ref, f'<c r="{ref}" t="inlineStr"><is><t>x</t></is></c>'.encode()
    )
    started = time.perf_counter()
    _, finding = check(config, data)
    assert time.perf_counter() - started < 1.0
    assert finding.code == "sheet_too_large"
    assert finding.sheet == form.STAFF_SHEET
    assert what in finding.message


def test_formatted_cell_in_the_last_row_is_not_data(config):
    data = replace_cell(workbooks.xlsx(), STAFF_PART, "XFD1048576", b'<c r="XFD1048576" s="1"/>')
    sub = validate_workbook(config, incoming(data))
    assert sub.status is FileStatus.ACCEPTED, sub.findings


def test_lying_dimension_is_harmless(config):
    data = rewrite_parts(
        workbooks.xlsx(),
        {
            STAFF_PART: lambda xml: xml.replace(
                b'<dimension ref="A1:K31"/>', b'<dimension ref="A1:XFD1048576"/>'
            )
        },
    )
    assert validate_workbook(config, incoming(data)).status is FileStatus.ACCEPTED


def test_cells_without_references_are_placed_and_bounded(config):
    """Cells may omit r="": they take the next column. 20,000 of them in a row reach past column XFD."""
    row = b'<row r="40">' + b"<c><v>1</v></c>" * 20_000 + b"</row>"
    data = rewrite_parts(
        workbooks.xlsx(), {STAFF_PART: lambda xml: xml.replace(b"</sheetData>", row + b"</sheetData>")}
    )
    _, finding = check(config, data)
    assert finding.code == "sheet_too_large"
    assert "cột" in finding.message


def test_prefixed_tags_do_not_slip_past_the_scan(config):
    def prefixed(xml: bytes) -> bytes:
        xml = xml.replace(
            b"<worksheet ",
            b'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ',
        )
        cell = b'<x:row r="2000000"><x:c r="A2000000" t="inlineStr"><x:is><x:t>x</x:t></x:is></x:c></x:row>'
        return xml.replace(b"</sheetData>", cell + b"</sheetData>")

    data = rewrite_parts(workbooks.xlsx(), {STAFF_PART: prefixed})
    started = time.perf_counter()
    _, finding = check(config, data)
    assert finding.code == "sheet_too_large"
    assert "2.000.000" in finding.message  # found in the XML, before calamine built two million rows
    assert time.perf_counter() - started < 0.5


def test_password_protected_xlsx(config):
    data = (FIXTURES / "workbooks" / "mat-khau.xlsx").read_bytes()
    assert data[:8] == bytes.fromhex("D0CF11E0A1B11AE1")  # an OLE2 container where an .xlsx is expected
    _, finding = check(config, data)
    assert finding.code == "encrypted"
    assert "mật khẩu" in finding.message


def test_xls_with_a_value_in_its_last_cell(config):
    data = (FIXTURES / "workbooks" / "xa-qua.xls").read_bytes()
    _, finding = check(config, data, "bao-cao.xls")
    assert finding.code == "sheet_too_large"
    assert "65.536" in finding.message


def test_biff_scan_bounds_every_cell_record(config):
    """A hand-made BIFF stream: one NUMBER record at row 65536, column 256, outside any known sheet."""
    from processor.reader import _Refused, _scan_biff

    number = b"\x03\x02" + (14).to_bytes(2, "little") + b"\xff\xff\xff\x00\x0f\x00" + b"\0" * 8
    with pytest.raises(_Refused) as refused:
        _scan_biff(number, config.validation)
    assert refused.value.code == "sheet_too_large"


def test_one_bad_file_does_not_stop_the_others(config):
    files = [b"%PDF-1.4", workbooks.xlsx(), b"", workbooks.xlsx()[:300]]
    statuses = [validate_workbook(config, incoming(d, f"f{i}.xlsx")).status for i, d in enumerate(files)]
    assert statuses == [
        FileStatus.UNREADABLE,
        FileStatus.ACCEPTED,
        FileStatus.UNREADABLE,
        FileStatus.UNREADABLE,
    ]


def test_read_workbook_never_raises_on_garbage(config):
    for data in (
        b"PK\x03\x04" + b"\0" * 100,
        bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 600,
        b"PK\x05\x06" + b"\0" * 18,
    ):
        book = read_workbook(data, "x.xlsx", config.validation)
        assert not book.readable and book.findings and book.findings[0].is_error


def _zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return out.getvalue()


def test_the_readers_own_words_are_marked_as_a_technical_detail(config):
    """calamine's error text is English: the unit reads a Vietnamese message, the detail is labelled."""
    data = rewrite_parts(
        workbooks.xlsx(), {STAFF_PART: lambda xml: xml.replace(b"<sheetData>", b"<sheetData><row r=", 1)}
    )
    _, finding = check(config, data)
    assert finding.code == "corrupt"  # calamine's own error: the XML is cut inside a tag
    assert "chi tiết kỹ thuật: " in finding.message
    assert finding.message.startswith("Không đọc được nội dung tệp")
