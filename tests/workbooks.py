"""Filled unit workbooks for the reader/validator tests, built from the layout contract.

Built with openpyxl here rather than by processor.template, so that the tests check the contract
(labels in column A, header row with "Họ và tên", hidden `_thidua` sheet), not one implementation of it.
A test takes `Spec()`, changes what it needs (a value, a person, the metadata), optionally mutates the
openpyxl workbook, and gets real .xlsx bytes. `rewrite_parts` edits the XML inside the zip for what
openpyxl cannot write (cached formula values, error cells, hostile content).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import hashlib
import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from processor import form
from processor.records import Incoming, ReceivedFile

FIXTURES = Path(__file__).parent / "fixtures"

NAMES = (
    "Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cường", "Phạm Thu Dung", "Hoàng Đức Em",
    "Vũ Thị Giang", "Đặng Minh Hải", "Bùi Thị Hoà", "Đỗ Quốc Khánh", "Hồ Thị Lan",
    "Ngô Văn Minh", "Dương Thị Nga", "Lý Văn Ổn", "Đinh Thị Phương", "Phan Văn Quý",
    "Lương Thị Rạng", "Giàng A Páo", "Vàng Seo Phìn", "Sùng Thị Chứ", "Lò Văn Sơn",
)  # fmt: skip


def default_unit() -> dict[str, object]:
    return {
        "unit_code": "TCHC",
        "unit_name": "Phòng Tổ chức - Hành chính",
        "period": "02/2024",
        "preparer": "Nguyễn Thị Lập",
        "phone": "0912 345 678",
        "prepared_on": dt.date(2024, 3, 2),
        "self_rating": "Hoàn thành tốt nhiệm vụ",
        "tasks_assigned": 12,
        "tasks_completed": 12,
        "donation_vnd": 1_500_000,
        "support_activities": 2,
        "highlights": "Hoàn thành đúng hạn các nhiệm vụ được giao.",
    }


def person(index: int, **changes: object) -> dict[str, object]:
    """One staff row as typed from the drop-downs: labels, not codes."""
    row = {
        "seq": index + 1,
        "name": NAMES[index % len(NAMES)] + ("" if index < len(NAMES) else f" {index // len(NAMES) + 1}"),
        "birth_date": dt.date(1970 + index % 30, 1 + index % 12, 1 + index % 28),
        "position": "Chuyên viên",
        "category": "Công chức",
        "registered": "Có",
        "rating": "Hoàn thành tốt nhiệm vụ",
        "social": "Có",
        "initiatives": 0,
        "discipline": "Không",
        "note": None,
    }
    row.update(changes)
    return row


def default_meta() -> dict[str, str]:
    return {
        "form_id": form.FORM_ID,
        "form_version": form.FORM_VERSION,
        "unit_code": "TCHC",
        "period": "2024-02",
    }


@dataclasses.dataclass
class Spec:
    unit: dict[str, object] = dataclasses.field(default_factory=default_unit)
    people: list[dict[str, object]] = dataclasses.field(default_factory=lambda: [person(i) for i in range(5)])
    meta: dict[str, str] | None = dataclasses.field(default_factory=default_meta)
    prepared_rows: int = 30  # empty formatted rows of the staff sheet (the template prepares 300)
    columns: tuple[str, ...] = tuple(f.key for f in form.STAFF_FIELDS)  # staff column order

    def copy(self) -> Spec:
        return copy.deepcopy(self)


def unit_row(key: str) -> int:
    """Row of a field in the `Đơn vị` sheet as built here (before any rows are inserted)."""
    return form.UNIT_FIRST_ROW + [f.key for f in form.UNIT_FIELDS].index(key)


def unit_cell(key: str) -> str:
    return f"B{unit_row(key)}"


def staff_col(key: str, spec: Spec | None = None) -> int:
    columns = spec.columns if spec else tuple(f.key for f in form.STAFF_FIELDS)
    return columns.index(key) + 1


def staff_cell(index: int, key: str, spec: Spec | None = None) -> str:
    """A1 cell of person `index` (0-based) in column `key`."""
    return f"{get_column_letter(staff_col(key, spec))}{form.STAFF_HEADER_ROW + 1 + index}"


def build(spec: Spec) -> Workbook:
    wb = Workbook()
    unit_ws = wb.active
    unit_ws.title = form.UNIT_SHEET
    unit_ws["A1"] = "BÁO CÁO KẾT QUẢ THỰC HIỆN PHONG TRÀO THI ĐUA"
    unit_ws["A2"] = "Phong trào thi đua đợt I năm 2024 — Tháng 02/2024"
    for col, text in enumerate(("Nội dung", "Số liệu", "Hướng dẫn"), 1):
        unit_ws.cell(form.UNIT_FIRST_ROW - 1, col, text)
    for field in form.UNIT_FIELDS:
        row = unit_row(field.key)
        unit_ws.cell(row, 1, field.label)
        _put(unit_ws.cell(row, 2), spec.unit.get(field.key))
        unit_ws.cell(row, 3, field.help)

    staff_ws = wb.create_sheet(form.STAFF_SHEET)
    fields = {f.key: f for f in form.STAFF_FIELDS}
    for col, key in enumerate(spec.columns, 1):
        staff_ws.cell(form.STAFF_HEADER_ROW, col, fields[key].label)
    first = form.STAFF_HEADER_ROW + 1
    for offset, row_values in enumerate(spec.people):
        for col, key in enumerate(spec.columns, 1):
            _put(staff_ws.cell(first + offset, col), row_values.get(key))
    prepared = Font(name="Times New Roman", size=12)
    for row in range(first, first + max(spec.prepared_rows, len(spec.people))):
        for col in range(1, len(spec.columns) + 1):
            staff_ws.cell(row, col).font = prepared  # formatted but (mostly) empty, like the template

    guide = wb.create_sheet(form.GUIDE_SHEET)
    guide["A1"] = "HƯỚNG DẪN ĐIỀN BIỂU MẪU BÁO CÁO THI ĐUA"
    if spec.meta is not None:
        meta_ws = wb.create_sheet(form.META_SHEET)
        for row, (key, value) in enumerate(spec.meta.items(), 1):
            meta_ws.cell(row, 1, key)
            _put(meta_ws.cell(row, 2), value)
        meta_ws.sheet_state = "hidden"
    return wb


def _put(cell, value: object) -> None:
    if value is None:
        return
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # typed text stays text, even "=..." (no formula)
    elif isinstance(value, dt.date):
        cell.number_format = "dd/mm/yyyy"


def save(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def xlsx(spec: Spec | None = None, mutate: Callable[[Workbook], None] | None = None) -> bytes:
    wb = build(spec or Spec())
    if mutate is not None:
        mutate(wb)
    return save(wb)


def incoming(data: bytes, name: str = "2024-02_TCHC_bao-cao-thi-dua.xlsx") -> Incoming:
    received = ReceivedFile(
        display_name=name,
        source_path=Path("inbox") / name,
        sha256=hashlib.sha256(data).hexdigest(),
        received_at=dt.datetime(2024, 3, 3, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=7))),
    )
    return Incoming(received, data)


# ------------------------------------------------------------------------------------------------
# Editing the zip


def sheet_part(sheet_index: int) -> str:
    """openpyxl names worksheet parts in sheet order: 1 = `Đơn vị`, 2 = `Cá nhân`."""
    return f"xl/worksheets/sheet{sheet_index}.xml"


STAFF_PART = sheet_part(2)
UNIT_PART = sheet_part(1)


def rewrite_parts(data: bytes, edits: dict[str, Callable[[bytes], bytes] | bytes]) -> bytes:
    """Copy of an .xlsx with some parts replaced (bytes) or transformed (callable); new parts added."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            content = source.read(info.filename)
            edit = edits.get(info.filename)
            if callable(edit):
                content = edit(content)
            elif edit is not None:
                content = edit
            target.writestr(info.filename, content)
        for name, edit in edits.items():
            if name not in source.namelist():
                target.writestr(name, edit if isinstance(edit, bytes) else edit(b""))
    return out.getvalue()


def replace_cell(data: bytes, part: str, ref: str, new_xml: bytes) -> bytes:
    """Replace the <c r="ref"...> element (self-closing or not) of a sheet part with `new_xml`."""
    import re

    def edit(xml: bytes) -> bytes:
        pattern = re.compile(rb'<c r="' + ref.encode() + rb'"(?:[^>]*?/>|[^>]*?>.*?</c>)', re.S)
        result, count = pattern.subn(lambda _: new_xml, xml, count=1)
        if count == 0:  # the cell does not exist yet: add it to its row, or add the row
            row = re.search(rb"\d+", ref.encode()).group(0)  # type: ignore[union-attr]
            row_tag = re.compile(rb'(<row r="' + row + rb'"[^>]*?)(/?)>')
            match = row_tag.search(xml)
            if match and match.group(2):
                return xml[: match.start()] + match.group(1) + b">" + new_xml + b"</row>" + xml[match.end() :]
            if match:
                end = xml.index(b"</row>", match.end())
                return xml[:end] + new_xml + xml[end:]
            return xml.replace(b"</sheetData>", b'<row r="' + row + b'">' + new_xml + b"</row></sheetData>")
        return result

    return rewrite_parts(data, {part: edit})


def lie_about_size(data: bytes, name: str, declared: int) -> bytes:
    """Rewrite the sizes and CRC of one deflated entry so that it claims `declared` bytes only.

    The CRC becomes that of the first `declared` bytes, so a reader that trusts the directory and stops
    there sees a perfectly valid entry while the deflate stream itself goes on.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(name)
        content = archive.read(name)
    crc = zlib.crc32(content[:declared])
    out = bytearray(data)
    local = info.header_offset
    struct.pack_into("<I", out, local + 14, crc)
    struct.pack_into("<I", out, local + 22, declared)
    position = data.index(b"PK\x01\x02")
    while position >= 0:
        name_len = struct.unpack_from("<H", data, position + 28)[0]
        entry = data[position + 46 : position + 46 + name_len].decode()
        if entry == name:
            struct.pack_into("<I", out, position + 16, crc)
            struct.pack_into("<I", out, position + 24, declared)
            break
        position = data.find(b"PK\x01\x02", position + 46)
    return bytes(out)
