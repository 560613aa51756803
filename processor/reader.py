"""Reading received workbooks: the one module that reads cells, whichever library does it.

Every received file is hostile until proven otherwise. Before any parser sees the bytes:
- size cap, then recognition by magic bytes (zip = .xlsx/.xlsm, or .ods when it holds a `mimetype`
  entry; OLE2 = .xls or a password-protected .xlsx; anything else = not a workbook, named for what it
  looks like); .xlsb is refused with advice (docs/architecture.md);
- for a zip: entry count, total uncompressed size and per-entry compression ratio from the central
  directory; then each part we need is inflated by us with its declared size as a hard limit, so a
  lying directory cannot make the Rust reader inflate more than we checked;
- the XML parts are refused if they declare a DTD or entities (calamine does not expand them, but a
  file that carries them is an attack, not a report);
- the cell extent of each sheet is bounded from the XML before calamine builds its dense grid: a value
  at XFD1048576 would make it allocate 17 billion cells and abort the whole process.

Values are read with python-calamine (about ten times faster than openpyxl). Its quirks are normalised
in `_normalise` (and `cell_value`, its fast path, which the staff checks in validate.py inline) and
nowhere else, when a cell is asked for: whole floats become int, '' becomes None, strings are NFC with spaces
folded, a leading apostrophe is dropped, midnight datetimes become dates. Formula cells without a cached
value and error cells (#N/A...) that calamine reports as '' are found in the XML and returned as
`CellProblem`, never as an empty cell or a zero. Cells typed in a legacy Vietnamese font (.VnTime,
VNI-Times) are listed with the font name. openpyxl is not used here at all: the few things calamine
does not tell (formulas, fonts) come from a scan of the XML bytes, which is cheaper.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import io
import itertools
import re
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

import python_calamine

from processor import findings as catalogue
from processor.config import Validation
from processor.records import Finding
from processor.vntext import clean, format_int, legacy_font_encoding, slug, xml_safe

# Sheet names are compared tolerantly; the same few names come in every file.
_sheet_key = functools.lru_cache(maxsize=1024)(slug)

MB = 1024 * 1024
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
# Parts smaller than this are not judged by their compression ratio: a small, repetitive XML part
# legitimately compresses very well and cannot hurt.
RATIO_MIN_BYTES = MB

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")

T = TypeVar("T")
Value = str | int | float | bool | dt.date | dt.datetime | dt.time | dt.timedelta


@dataclass(frozen=True)
class CellProblem:
    """A cell whose content cannot be used as a value: an error result or a never-calculated formula."""

    kind: str  # "error" (#DIV/0!, #N/A...) | "uncached_formula"
    text: str  # the error code, or the formula

    def __str__(self) -> str:
        return self.text if self.kind == "error" else f"={self.text}"


class RawSheet:
    """The cells of one sheet, by (row, column), both 1-based as Excel shows them.

    Holds calamine's grid as it came and normalises a cell when it is asked for: the validator reads
    only the cells the form defines, so the help texts beside them are never looked at. `cells` (every
    non-empty cell) and the exact `max_row`/`max_col` are worked out on first use.
    """

    def __init__(
        self,
        name: str,
        grid: list[list] | None = None,
        overlay: dict[tuple[int, int], Value | CellProblem] | None = None,
        legacy_fonts: dict[tuple[int, int], str] | None = None,
        merged: tuple[tuple[int, int, int, int], ...] = (),
    ):
        self.name = name
        self.grid = grid if grid is not None else []  # rows of raw calamine values ('' = empty)
        # Cells that win over the grid: formula problems found in the XML, merged-range fills.
        self.overlay = overlay if overlay is not None else {}
        self.legacy_fonts = legacy_fonts if legacy_fonts is not None else {}  # cell -> legacy font name
        self.merged = merged  # (first row, first col, last row, last col)
        self._cells: dict[tuple[int, int], Value | CellProblem] | None = None
        self._extent: tuple[int, int] | None = None

    def __repr__(self) -> str:
        return f"RawSheet({self.name!r}, {self.max_row}x{self.max_col})"

    @property
    def height(self) -> int:
        """Rows that may hold a value: at least `max_row`, cheap to know (loops can stop here)."""
        extra = max((r for r, _ in self.overlay), default=0) if self.overlay else 0
        return max(len(self.grid), extra)

    @property
    def width(self) -> int:
        """Columns that may hold a value: at least `max_col`, cheap to know."""
        extra = max((c for _, c in self.overlay), default=0) if self.overlay else 0
        return max(len(self.grid[0]) if self.grid else 0, extra)

    @property
    def max_row(self) -> int:
        return self._exact_extent()[0]

    @property
    def max_col(self) -> int:
        return self._exact_extent()[1]

    @property
    def cells(self) -> dict[tuple[int, int], Value | CellProblem]:
        """Every non-empty cell by position."""
        if self._cells is None:
            cells: dict[tuple[int, int], Value | CellProblem] = {}
            for r, row in enumerate(self.grid, 1):
                for c, raw in enumerate(row, 1):
                    value = cell_value(raw)
                    if value is not None:
                        cells[(r, c)] = value
            cells.update(self.overlay)
            self._cells = cells
        return self._cells

    def value(self, row: int, col: int) -> Value | CellProblem | None:
        if self.overlay:
            found = self.overlay.get((row, col))
            if found is not None:
                return found
        if 0 < row <= len(self.grid):
            values = self.grid[row - 1]
            if 0 < col <= len(values):
                return cell_value(values[col - 1])
        return None

    def row_values(self, row: int) -> list[Value | CellProblem | None]:
        """Columns 1..max_col of one row."""
        return [self.value(row, col) for col in range(1, self.max_col + 1)]

    def font(self, row: int, col: int) -> str | None:
        return self.legacy_fonts.get((row, col))

    @staticmethod
    def a1(row: int, col: int) -> str:
        return f"{column_letter(col)}{row}"

    def _exact_extent(self) -> tuple[int, int]:
        if self._extent is None:
            max_row = max_col = 0
            for r, row in enumerate(self.grid, 1):
                # From the right: the last non-empty value of the row, usually found at once.
                for c in range(len(row), 0, -1):
                    if cell_value(row[c - 1]) is not None:
                        max_row = r
                        max_col = max(max_col, c)
                        break
            for r, c in self.overlay:
                max_row, max_col = max(max_row, r), max(max_col, c)
            self._extent = (max_row, max_col)
        return self._extent


@dataclass
class RawWorkbook:
    """What `read_workbook` found. `readable` is False when no sheet could be read safely."""

    file: str
    kind: str  # "xlsx" | "xlsm" | "xls" | what the file looks like instead
    sheet_names: tuple[str, ...] = ()  # every sheet of the workbook, in order
    sheets: dict[str, RawSheet] = field(default_factory=dict)  # the sheets read
    findings: list[Finding] = field(default_factory=list)
    readable: bool = True

    def sheet(self, name: str) -> RawSheet | None:
        """A sheet by name, tolerant of case, accents and spacing ("Ca nhan" finds "Cá nhân")."""
        if name in self.sheets:
            return self.sheets[name]
        wanted = _sheet_key(name)
        return next((s for n, s in self.sheets.items() if _sheet_key(n) == wanted), None)


# What zipfile raises on a damaged directory (an unknown "version needed" is NotImplementedError).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    ValueError,
    EOFError,
    struct.error,
    NotImplementedError,
    UnicodeDecodeError,
)


def column_letter(number: int) -> str:
    """1 -> 'A', 28 -> 'AB' (openpyxl's helper, without importing openpyxl and numpy)."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class _Refused(Exception):
    """The file cannot be read safely; carries the finding that says why (`key` in processor/findings.py,
    its message filled from `fields`)."""

    def __init__(self, key: str, sheet: str | None = None, **fields: object):
        message = catalogue.message(key, **fields)
        super().__init__(message)
        # Messages quote part and sheet names from the file itself: control characters (an escape
        # sequence for the clerk's terminal) are dropped here, as the reader drops them from cell values.
        self.key, self.code, self.message = key, catalogue.CATALOGUE[key].code, xml_safe(message)
        self.sheet = None if sheet is None else xml_safe(sheet)


# ------------------------------------------------------------------------------------------------
# Entry point


def read_workbook(
    data: bytes, file_name: str, limits: Validation, wanted: Iterable[str] | None = None
) -> RawWorkbook:
    """Read the sheets named in `wanted` (all sheets if None) of a received workbook's bytes.

    Never raises on bad input: every problem is a Finding, and `readable` says whether sheets came out.
    Sheet names in `wanted` are matched tolerantly (see `RawWorkbook.sheet`).
    """
    wanted_slugs = None if wanted is None else {_sheet_key(n) for n in wanted}
    try:
        return _read(data, file_name, limits, wanted_slugs)
    except _Refused as refused:
        severity = catalogue.CATALOGUE[refused.key].severity
        finding = Finding(severity, refused.code, refused.message, file_name, refused.sheet)
        kind = "xlsx" if data.startswith(ZIP_MAGICS) else "xls" if data.startswith(OLE_MAGIC) else "unknown"
        return RawWorkbook(file_name, kind, findings=[finding], readable=False)


def _read(data: bytes, file_name: str, limits: Validation, wanted: set[str] | None) -> RawWorkbook:
    if not data:
        raise _Refused("file_empty")
    if len(data) > limits.max_file_mb * MB:
        raise _Refused("file_too_large/workbook", size_mb=_mb(len(data)), limit_mb=limits.max_file_mb)
    if data.startswith(ZIP_MAGICS):
        return _read_xlsx(data, file_name, limits, wanted)
    if data.startswith(OLE_MAGIC):
        return _read_ole(data, file_name, limits, wanted)
    kind = _looks_like(data)
    raise _Refused("not_workbook/renamed", kind=kind)


def _mb(size: int) -> str:
    return f"{size / MB:.1f}".replace(".", ",")


def _looks_like(data: bytes) -> str:
    """What a file's first bytes say it is, in words for the clerk."""
    head = data[:512].lstrip()
    low = head.lower()
    known = (
        (b"%pdf", "một tệp PDF"),
        (b"{\\rtf", "một văn bản RTF (Word)"),
        (b"\x89png", "một ảnh PNG"),
        (b"\xff\xd8\xff", "một ảnh JPEG"),
        (b"gif8", "một ảnh GIF"),
        (b"rar!", "một tệp nén RAR"),
        (b"7z\xbc\xaf", "một tệp nén 7z"),
        (b"mime-version", "một trang web lưu một tệp (.mht)"),
    )
    for magic, words in known:
        if low.startswith(magic):
            return words
    if data.startswith(OLE_MAGIC):
        return "tệp Office 97-2003"
    if data.startswith(ZIP_MAGICS):
        return "tệp nén zip"
    if not data:
        return "tệp rỗng"
    if b"<html" in low or b"<!doctype html" in low or b"<table" in low:
        return "một trang web (HTML), thường do phần mềm khác xuất ra với đuôi .xls"
    if b"<?xml" in low:
        return "một tệp XML (có thể là bảng tính XML 2003)"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "dữ liệu không nhận dạng được"
    return "văn bản thuần (có thể là tệp CSV)"


# ------------------------------------------------------------------------------------------------
# .xlsx / .xlsm


_OTHER_ZIPS = (
    ("word/document.xml", "một văn bản Word (.docx)"),
    ("ppt/presentation.xml", "một bản trình chiếu PowerPoint (.pptx)"),
    ("xl/workbook.bin", "một bảng tính Excel nhị phân (.xlsb)"),
    ("content.xml", "một tài liệu OpenDocument (.odt, .odp)"),
)


def _read_xlsx(data: bytes, file_name: str, limits: Validation, wanted: set[str] | None) -> RawWorkbook:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except _ZIP_ERRORS:
        raise _Refused("corrupt/package") from None
    _check_zip_directory(infos, limits)
    parts = _package_parts(infos)
    if "mimetype" in parts:
        return _read_ods(data, file_name, limits, wanted, parts)
    workbook_path = _office_document(data, parts)
    if workbook_path is None:
        kind = next((words for name, words in _OTHER_ZIPS if name in parts), "một tệp nén zip")
        raise _Refused("not_workbook/document", kind=kind)
    if workbook_path.endswith(".bin"):
        raise _Refused("unsupported_format/xlsb")
    if _entry(parts, "mimetype") or _entry(parts, "xl/workbook.bin"):
        # Another format's main part beside the workbook: when calamine's .xlsx reader fails on the
        # package it tries its .xlsb and OpenDocument readers next, on parts this check never read.
        raise _unusual_structure()
    kind = "xlsm" if _entry(parts, "xl/vbaProject.bin") else "xlsx"
    workbook_xml = _part(data, parts, workbook_path, cache=True)
    rels = _part(data, parts, _rels_path(workbook_path), required=False, cache=True) or b""
    if len(workbook_xml) + len(rels) <= _CACHED_XML_BYTES:
        relationships, sheets = _workbook_structure_cached(workbook_xml, rels, workbook_path)
    else:
        relationships, sheets = _workbook_structure(workbook_xml, rels, workbook_path)
    names = tuple(name for name, _ in sheets)
    chosen = [(n, p) for n, p in sheets if wanted is None or _sheet_key(n) in wanted]
    book = RawWorkbook(file_name, kind, sheet_names=names)

    # The parts calamine reads besides the sheets, where it reads them (beside the workbook part).
    shared = (
        _part(data, parts, _related(relationships, workbook_path, "sharedStrings"), required=False) or b""
    )
    styles_path = _related(relationships, workbook_path, "styles")
    styles = _part(data, parts, styles_path, required=False, cache=True) or b""
    legacy_xfs = _legacy_styles_cached(styles) if len(styles) <= _CACHED_XML_BYTES else _legacy_styles(styles)
    legacy_strings = _legacy_shared_strings(shared)

    scans: dict[str, _SheetScan] = {}
    sheet_bytes = 0
    for name, path in chosen:
        if _entry(parts, path) is None:
            raise _corrupt_part(path)
        xml = _part(data, parts, path)
        scans[name] = _scan_sheet(xml, name, limits, legacy_xfs, legacy_strings)
        sheet_bytes += len(xml)
    if shared:
        _check_string_copies(shared, sheet_bytes)

    if chosen:
        calamine = _calamine(lambda: python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)))
        for name, _ in chosen:
            rows, merged = _calamine(lambda name=name: _sheet_rows(calamine, name))
            book.sheets[name] = _build_sheet(name, rows, merged, scans[name], limits)
    return book


# calamine copies a shared string into each cell using it, and Python makes one more copy of each: a
# 10 MB string used by 30,000 cells of a 6 MB file would take 600 GB. Bounded here, before calamine
# reads, on every platform (where RLIMIT_AS is unknown, Windows, this and the extent and size bounds
# are the only memory ceiling; elsewhere ingest's worker ceiling backs them up).
STRING_COPIES_BYTES = 256 * MB
_SMALLEST_STRING_CELL = len(b'<c t="s"><v>0</v></c>')
_SHARED_ITEM = re.compile(rb"<" + rb"""(?:[^\s<>/:!?="']+:)?""" + rb"si[\s/>]")


def _check_string_copies(shared: bytes, sheet_bytes: int) -> None:
    """Refuse a workbook whose shared strings, copied into the cells that may use them, would take more
    than STRING_COPIES_BYTES: at most (sheet bytes / smallest string cell) cells, each a copy of at most
    the longest string. A form's strings part is small enough to pass on its size alone."""
    cells = sheet_bytes // _SMALLEST_STRING_CELL
    if len(shared) * cells <= STRING_COPIES_BYTES:
        return  # the usual case: no search at all
    if b"<!" in shared:
        # A comment or CDATA section could hide items from the measure below (calamine skips them).
        # Excel never writes them in this part.
        raise _unusual_structure()
    starts = [match.start() for match in _SHARED_ITEM.finditer(shared)] + [len(shared)]
    longest = max((b - a for a, b in itertools.pairwise(starts)), default=len(shared))
    if longest * cells > STRING_COPIES_BYTES:
        raise _Refused(
            "strings_too_large/long", length=format_int(longest), limit_mb=STRING_COPIES_BYTES // MB
        )


def _sheet_rows(calamine: python_calamine.CalamineWorkbook, name: str) -> tuple[list[list], list]:
    sheet = calamine.get_sheet_by_name(name)
    return sheet.to_python(skip_empty_area=False), sheet.merged_cell_ranges or []


def _calamine(call: Callable[[], T]) -> T:
    """Run one calamine call; whatever it raises on malformed content becomes a finding."""
    try:
        return call()
    except python_calamine.PasswordError:
        raise _encrypted() from None
    except MemoryError:
        raise  # the worker's memory ceiling: a finding of its own (validation._validate_in_worker)
    except Exception as exc:  # calamine raises its own errors, ValueError, OSError... on bad content
        raise _read_error(exc) from None
    except BaseException as exc:
        # pyo3 turns a Rust panic on malformed input into PanicException, a BaseException.
        if type(exc).__name__ == "PanicException":
            raise _read_error(exc) from None
        raise


def _check_zip_directory(infos: list[zipfile.ZipInfo], limits: Validation) -> None:
    """Refuse a zip bomb from its central directory, before inflating a single byte."""
    if len(infos) > limits.max_zip_entries:
        raise _Refused(
            "zip_too_many_entries", count=format_int(len(infos)), limit=format_int(limits.max_zip_entries)
        )
    total = sum(info.file_size for info in infos)
    if total > limits.max_uncompressed_mb * MB:
        raise _Refused("zip_too_large", size_mb=_mb(total), limit_mb=limits.max_uncompressed_mb)
    for info in infos:
        if info.flag_bits & 0x1:
            raise _encrypted()
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _Refused("unsupported_format/compression", part=info.filename)
        if (
            info.file_size >= RATIO_MIN_BYTES
            and info.file_size > info.compress_size * limits.max_compression_ratio
        ):
            ratio = info.file_size // max(info.compress_size, 1)
            raise _Refused(
                "zip_bomb/ratio",
                part=info.filename,
                ratio=format_int(ratio),
                limit=format_int(limits.max_compression_ratio),
            )
        if info.file_size > limits.max_part_mb * MB:
            # One part inflated whole is what costs memory: a 100 MB sharedStrings.xml that compresses only
            # 5x passes the ratio check but would take half a gigabyte to read.
            raise _Refused(
                "zip_part_too_large",
                part=info.filename,
                size_mb=_mb(info.file_size),
                limit_mb=limits.max_part_mb,
            )


def _office_document(data: bytes, parts: dict[str, zipfile.ZipInfo]) -> str | None:
    """The workbook part, where calamine finds it: the package relationship of type officeDocument
    names its folder, and calamine reads `workbook.xml` there (`xl/workbook.xml` when there is no
    package relationship). A .xlsb's part is returned too, to be named; None for another kind of file."""
    rels = _part(data, parts, "_rels/.rels", required=False, cache=True)
    if rels is None:
        return next((c for c in ("xl/workbook.xml", "xl/workbook.bin") if _entry(parts, c)), None)
    targets = _office_targets_cached(rels) if len(rels) <= _CACHED_XML_BYTES else _office_targets(rels)
    if not targets:
        if _entry(parts, "xl/workbook.xml"):
            raise _unusual_structure()  # calamine finds no workbook where this check would read one
        return None
    if len(targets) > 1:
        raise _unusual_structure()
    path = _resolve("", targets[0])
    if path.lower() in ("xl/workbook.xml", "xl/workbook.bin"):
        return path
    if "workbook" in path.lower():
        # A workbook outside xl/: calamine versions differ on where they look, the check would not
        # be reading what they read.
        raise _unusual_structure()
    return None


def _office_targets(rels: bytes) -> tuple[str, ...]:
    """The targets of the package's officeDocument relationships, as calamine reads them."""
    return tuple(
        attrs.get("Target", "")
        for attrs in _tags(rels, b"Relationship", raw=True)
        if attrs.get("Type", "").endswith("/relationships/officeDocument")
    )


_office_targets_cached = functools.lru_cache(maxsize=64)(_office_targets)  # the same in file after file


def _rels_path(part: str) -> str:
    folder, _, name = part.rpartition("/")
    return f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"


# Parts that come the same in file after file (workbook, relationships, styles of one template), by
# their compressed bytes: the same compressed bytes inflate to the same checked content.
_PART_CACHE: dict[tuple, bytes] = {}
_PART_CACHE_ENTRIES = 64
_PART_CACHE_MAX_BYTES = 64 * 1024  # compressed
_CACHED_XML_BYTES = 256 * 1024  # inflated: what the caches keep stays small


def _part(
    data: bytes, parts: dict[str, zipfile.ZipInfo], name: str, required: bool = True, cache: bool = False
) -> bytes | None:
    """One zip entry, inflated by us: never more than its declared size, CRC checked, XML vetted.

    With `cache`, a part already inflated and checked with the very same compressed bytes, sizes and
    CRC is not inflated again (what fails is never cached, so it fails again).
    """
    info = _entry(parts, name)
    if info is None:
        if required:
            raise _corrupt_part(name)
        return None
    start = info.header_offset
    header = data[start : start + 30]
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise _corrupt_part(name)
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    begin = start + 30 + name_len + extra_len
    raw = data[begin : begin + info.compress_size]
    if len(raw) < info.compress_size:
        raise _corrupt_part(name)
    key = None
    if cache and info.compress_size <= _PART_CACHE_MAX_BYTES and info.file_size <= _CACHED_XML_BYTES:
        key = (name, info.compress_type, info.file_size, info.CRC, raw)
        known = _PART_CACHE.get(key)
        if known is not None:
            return known
    if info.compress_type == zipfile.ZIP_STORED:
        content = raw[: info.file_size]
    else:
        inflater = zlib.decompressobj(-15)
        try:
            content = inflater.decompress(raw, info.file_size + 1)
        except zlib.error:
            raise _corrupt_part(name) from None
        if len(content) != info.file_size or not inflater.eof:
            # The stream inflates to more (or less) than the directory says: a size lie is an attack.
            raise _Refused("zip_bomb/size", part=name)
    if len(content) != info.file_size or zlib.crc32(content) != info.CRC:
        raise _corrupt_part(name)
    if name.endswith((".xml", ".rels")):
        _vet_xml(content, name)
    if key is not None:
        if len(_PART_CACHE) >= _PART_CACHE_ENTRIES:
            del _PART_CACHE[next(iter(_PART_CACHE))]  # the oldest
        _PART_CACHE[key] = content
    return content


_DECLARATION = re.compile(rb"<!(?:DOCTYPE|ENTITY)")  # one pass, starting at the rare "<!"


def _vet_xml(content: bytes, name: str) -> None:
    if content[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in content[:64]:
        raise _Refused("unsupported_format/encoding", part=name)
    if b"!" in content and _DECLARATION.search(content):  # "!" is rare in XML: one fast byte search
        raise _Refused("xml_entities", part=name)


def _corrupt_part(name: str) -> _Refused:
    return _Refused("corrupt/part", part=name)


def _encrypted() -> _Refused:
    return _Refused("encrypted")


def _read_error(exc: Exception) -> _Refused:
    detail = clean(str(exc))[:160]
    # The reader's own words are English: marked as a detail for whoever helps the unit.
    return _Refused("corrupt/read_error", detail=detail)


# Attribute values in either quote; tag and attribute names with any namespace prefix. The XML parser
# behind calamine accepts all of these: a narrower pattern here would let it see a part or a
# relationship this check never saw.
_ATTR = re.compile(rb"""([^\s=<>/"']+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_PREFIX = rb"""(?:[^\s<>/:!?="']+:)?"""


def _tags(xml: bytes, tag: bytes, raw: bool = False) -> Iterator[dict[str, str]]:
    """Attributes of each <tag .../> in `xml`. Unless `raw`, values are unescaped and attribute names
    lose their namespace prefix; `raw` keeps both as calamine reads a relationship (exact names,
    values as written)."""
    for match in re.finditer(rb"<" + _PREFIX + tag + rb"(?=[\s/>])([^>]*)>", xml):
        attrs = {}
        for key, double, single in _ATTR.findall(match.group(1)):
            value = (double or single).decode("utf-8", "replace")
            if raw:
                attrs[key.decode("utf-8", "replace")] = value
            else:
                attrs[key.decode("utf-8", "replace").rsplit(":", 1)[-1]] = html.unescape(value)
        yield attrs


def _related(relationships: tuple[dict[str, str], ...], workbook_path: str, kind: str) -> str:
    """Zip path of the `kind` part ("styles", "sharedStrings"): calamine reads it beside the workbook
    part under its usual name, whatever the relationships say; one that names another part is
    refused, since the check would read that one."""
    base = workbook_path.rsplit("/", 1)[0]
    usual = f"{base}/{kind}.xml"
    for attrs in relationships:
        if (
            attrs.get("Type", "").endswith("/" + kind)
            and attrs.get("TargetMode") != "External"
            and _resolve(base, attrs.get("Target", "")).lower() != usual.lower()
        ):
            raise _unusual_structure()
    return usual


def _workbook_structure(
    workbook_xml: bytes, rels: bytes, workbook_path: str
) -> tuple[tuple[dict[str, str], ...], tuple[tuple[str, str], ...]]:
    """The workbook's relationships and its sheets (name, part): the same in file after file.

    Every relationship must name its part one way only (see `_resolve`), each once: calamine takes the
    last of two with one Id, and a sheet name given twice is read from the first sheet of that name."""
    if b"<!" in rels or b"<!" in workbook_xml:
        # A comment or CDATA section: the patterns here would read relationships or sheets inside
        # it that the XML parser skips. Excel never writes them in these parts.
        raise _unusual_structure()
    relationships = tuple(_tags(rels, b"Relationship", raw=True))
    ids = [attrs.get("Id", "") for attrs in relationships]
    if len(set(ids)) != len(ids):
        raise _unusual_structure()
    # Only the targets calamine follows (sheets here, styles and shared strings in `_related`) must be
    # canonical: Excel itself writes "../customXml/item1.xml" for a workbook's custom XML parts.
    sheets = tuple(_sheet_parts(workbook_xml, relationships, workbook_path))
    names = [name.lower() for name, _ in sheets]
    if len(set(names)) != len(names):
        raise _unusual_structure()
    return relationships, sheets


_workbook_structure_cached = functools.lru_cache(maxsize=64)(_workbook_structure)


def _sheet_parts(
    workbook_xml: bytes, relationships: tuple[dict[str, str], ...], workbook_path: str
) -> list[tuple[str, str]]:
    """(sheet name, zip path of its XML) of every worksheet, in workbook order."""
    targets = {a.get("Id", ""): a.get("Target", "") for a in relationships}
    base = workbook_path.rsplit("/", 1)[0]
    out = []
    for attrs in _tags(workbook_xml, b"sheet", raw=True):
        name = html.unescape(attrs.get("name", ""))
        # calamine takes the last attribute named "id" whatever its prefix, with its value as written.
        rel_id = next((v for k, v in reversed(attrs.items()) if k.rsplit(":", 1)[-1] == "id"), "")
        target = targets.get(rel_id)
        if not name or not target:
            continue
        out.append((name, _resolve(base, target)))
    return out


def _canonical(names: str) -> bool:
    """Whether part names (one, or several joined by newlines) are as Excel and every other writer of
    workbooks writes them: segments separated by single slashes, none of them "." or "..", no
    backslash, percent-escape or character reference. Anything else names one part two ways, and the
    libraries behind calamine do not resolve such names as this check would. Substring searches only:
    this runs on every file."""
    if "//" in names or "\\" in names or "%" in names or "&" in names:
        return False
    wrapped = "/" + names.replace("\n", "/\n/") + "/"
    return "/./" not in wrapped and "/../" not in wrapped


def _resolve(base: str, target: str) -> str:
    """The zip path of a relationship target as calamine resolves it: from the package root when it
    starts with "/", else under `base` (the folder of the workbook part). Refused unless canonical."""
    if not target or "\n" in target or not _canonical(target):
        raise _unusual_structure()
    if target.startswith("/"):
        return target[1:]
    return f"{base}/{target}" if base else target


def _package_parts(infos: list[zipfile.ZipInfo]) -> dict[str, zipfile.ZipInfo]:
    """The zip entries by name, and by name in lower case as well (calamine finds a part whatever the
    case of its name, as Excel does). Refused when two entries share a name, in any case, or when a name
    is not canonical, or read differently by Python and by calamine's zip library (a name cut at a NUL
    byte, or replaced by an Info-ZIP Unicode Path extra field, which only calamine's reads).

    Works on the names zipfile has listed: a few microseconds a file."""
    names = [info.orig_filename for info in infos]
    joined = "\n".join(names)
    folded = joined.lower().split("\n")
    if (
        len(set(folded)) != len(names)
        or not _canonical(joined)
        or joined.startswith("/")
        or "\n/" in joined
        or any(info.filename != name for info, name in zip(infos, names, strict=True))
        or any(info.extra and _unicode_path_field(info.extra) for info in infos)
    ):
        raise _unusual_structure()
    parts = dict(zip(folded, infos, strict=True))
    parts.update(zip(names, infos, strict=True))
    return parts


def _unicode_path_field(extra: bytes) -> bool:
    position = 0
    while position + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, position)
        if kind == 0x7075:
            return True
        position += 4 + size
    return False


def _entry(parts: dict[str, zipfile.ZipInfo], name: str) -> zipfile.ZipInfo | None:
    return parts.get(name) or parts.get(name.lower())


def _unusual_structure() -> _Refused:
    return _Refused("unusual_structure")


# -- styles: which cell formats use a legacy Vietnamese font -----------------------------------------

_FONT_BLOCK = re.compile(rb"<font\b[^>]*?(?:/>|>(.*?)</font>)", re.S)
_FONT_NAME = re.compile(rb'<name\s+val="([^"]*)"')
_XF = re.compile(rb"<xf\b([^>]*?)/?>")


def _legacy_hint(xml: bytes) -> bool:
    """Whether a styles or strings part names a font like .VnTime or VNI-Times (cheap byte search)."""
    low = xml.lower()
    return b'val=".vn' in low or b'val="vni-' in low or b'val="vni ' in low


def _legacy_styles(styles: bytes) -> dict[int, str]:
    """Cell format index (the `s` of a cell) -> legacy font name, for formats using .VnTime, VNI-...."""
    if not styles or not _legacy_hint(styles):
        return {}
    fonts_xml = _section(styles, b"fonts")
    fonts = []
    for block in _FONT_BLOCK.finditer(fonts_xml):
        name = _FONT_NAME.search(block.group(1) or b"")
        fonts.append(html.unescape(name.group(1).decode("utf-8", "replace")) if name else "")
    out = {}
    for index, xf in enumerate(_XF.finditer(_section(styles, b"cellXfs"))):
        font_id = re.search(rb'fontId="(\d+)"', xf.group(1))
        font = fonts[int(font_id.group(1))] if font_id and int(font_id.group(1)) < len(fonts) else ""
        if legacy_font_encoding(font):
            out[index] = font
    return out


_legacy_styles_cached = functools.lru_cache(maxsize=64)(_legacy_styles)  # one template's, file after file


def _section(xml: bytes, tag: bytes) -> bytes:
    match = re.search(rb"<" + tag + rb"\b[^>]*>(.*?)</" + tag + rb">", xml, re.S)
    return match.group(1) if match else b""


_SI = re.compile(rb"<si\b[^>]*?(?:/>|>(.*?)</si>)", re.S)
_RUN_FONT = re.compile(rb'<rFont\s+val="([^"]*)"')
_LEGACY_RUN = re.compile(rb'rFont val="(?:\.[Vv][Nn]|[Vv][Nn][Ii][- ])')


def _legacy_shared_strings(shared: bytes) -> dict[int, str]:
    """Shared string index -> legacy font name, for rich text whose runs name .VnTime, VNI-..."""
    if not shared or b"rFont" not in shared or not _legacy_hint(shared):
        return {}
    out = {}
    for index, si in enumerate(_SI.finditer(shared)):
        for font in _RUN_FONT.findall(si.group(1) or b""):
            name = font.decode("utf-8", "replace")
            if legacy_font_encoding(name):
                out[index] = name
                break
    return out


# -- sheet XML scan --------------------------------------------------------------------------------


@dataclass
class _SheetScan:
    problems: dict[tuple[int, int], CellProblem] = field(default_factory=dict)
    legacy_fonts: dict[tuple[int, int], str] = field(default_factory=dict)


# A reference as calamine reads it: letters of either case, any number of them and of digits, either
# quote, spaces around "=". Read with Python's integers: calamine's own arithmetic wraps, so "B99999999" or
# "zzzzzzzz3" must be seen here as the huge extent they mean (it would make calamine abort the process).
_CELL_REF = re.compile(rb"""\br\s*=\s*["']([A-Za-z]+)(\d+)["']""")
# Tags may carry a namespace prefix (<x:c>, written by the .NET Open XML SDK).
_CELL_BODY = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_FORMULA = re.compile(rb"<(?:\w+:)?f\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?f>)", re.S)
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>|<(?:\w+:)?v/>")
_INLINE = re.compile(rb"<(?:\w+:)?is>")
_STYLE = re.compile(rb'\bs="(\d+)"')
_TYPE = re.compile(rb"""\bt\s*=\s*["'](\w+)["']""")


def _column_number(letters: bytes) -> int:
    number = 0
    for char in letters.upper():
        number = number * 26 + char - 64
    return number


def _scan_sheet(
    xml: bytes, name: str, limits: Validation, legacy_xfs: dict[int, str], legacy_strings: dict[int, str]
) -> _SheetScan:
    """What calamine must not be left to discover: the extent of the data, formulas, errors, fonts.

    A few searches for literals find everything unusual; a normal sheet matches none. Cells and rows
    written without their reference first (or with prefixed tags) take a slower, exact walk.
    """
    cells, rows = _suspect_patterns(len(str(limits.max_rows)))
    walk = False
    for match in cells.finditer(xml):
        if match.group(1) is None:
            walk = True  # a cell without its reference first: the exact walk below decides
            break
        end = xml.find(b">", match.end())
        empty = end < 0 or xml[end - 1 : end] == b"/" or xml.startswith(b"</c>", end + 1)
        if not empty:  # formatted but empty cells cost nothing and are not data
            ref = _CELL_REF.search(xml, match.start(), end if end > 0 else len(xml))
            if ref is not None:
                _limit(name, int(ref.group(2)), _column_number(ref.group(1)), limits)
    prefixed = _PREFIXED.search(xml) is not None  # <x:row><x:c>: written by the .NET Open XML SDK
    if walk or prefixed or rows.search(xml):
        _check_extent_slow(xml, name, limits)
    has_formula = _HAS_FORMULA.search(xml) is not None or (prefixed and _HAS_PREFIXED_FORMULA.search(xml))
    scan = _SheetScan()
    # t="e", however quoted and spaced: a quoted "e" is otherwise rare, two fast byte searches.
    has_error = b'"e"' in xml or b"'e'" in xml
    inline_legacy = _LEGACY_RUN.search(xml) is not None  # rich text typed in the cell, run by run
    if not (has_formula or has_error or legacy_xfs or legacy_strings or inline_legacy):
        return scan  # the normal case: nothing more to look at
    # Cells written without their reference are placed as calamine places them (_placed_cells).
    cells_at = _placed_cells(xml) if walk or prefixed else _referenced_cells(xml)
    for position, attrs, body in cells_at:
        kind = _TYPE.search(attrs)
        cell_type = kind.group(1) if kind else b"n"
        value = _VALUE.search(body)
        value_text = (value.group(1) or b"") if value else None
        if has_formula and _FORMULA.search(body):
            # No <v> at all: never calculated. An empty <v> is a calculated empty string only when
            # the cell is typed as a string; a number cannot be empty.
            uncached = value_text is None or (not value_text.strip() and cell_type not in (b"str", b"s"))
            if uncached and not (cell_type == b"inlineStr" and _INLINE.search(body)):
                formula = _FORMULA.search(body)
                text = formula.group(1) if formula else b""
                scan.problems[position] = CellProblem(
                    "uncached_formula", html.unescape((text or b"").decode("utf-8", "replace"))
                )
        if cell_type == b"e" and value_text is not None:
            scan.problems[position] = CellProblem("error", value_text.decode("utf-8", "replace") or "#ERROR")
        style = _STYLE.search(attrs)
        font = legacy_xfs.get(int(style.group(1)) if style else 0)
        if font is None and cell_type == b"s" and value_text and value_text.strip().isdigit():
            font = legacy_strings.get(int(value_text))
        if font is None and inline_legacy and cell_type == b"inlineStr":
            font = next(
                (
                    n
                    for f in _RUN_FONT.findall(body)
                    if legacy_font_encoding(n := f.decode("utf-8", "replace"))
                ),
                None,
            )
        if font is not None and (value_text or _INLINE.search(body)):
            scan.legacy_fonts[position] = font
    return scan


def _cells(xml: bytes) -> Iterator[tuple[bytes, bytes]]:
    for match in _CELL_BODY.finditer(xml):
        yield match.group(1), match.group(2) or b""


def _referenced_cells(xml: bytes) -> Iterator[tuple[tuple[int, int], bytes, bytes]]:
    """(row, column), attributes and content of each cell, in a sheet where every cell has its `r`."""
    for attrs, body in _cells(xml):
        ref = _CELL_REF.search(attrs)
        if ref is not None:
            yield (int(ref.group(2)), _column_number(ref.group(1))), attrs, body


def _placed_cells(xml: bytes) -> Iterator[tuple[tuple[int, int], bytes, bytes]]:
    """(row, column), attributes and content of each cell, placed as a reader places cells and rows
    written without their reference (valid OOXML): the next row, the next column."""
    for row, body in _placed_rows(xml):
        yield from _row_cells(row, body)


def _placed_rows(xml: bytes) -> Iterator[tuple[int, bytes]]:
    """Each row with content: its number (a row without a reference is the one after the last) and body."""
    row = 0
    for row_match in _ROW_TAG.finditer(xml):
        ref = _ROW_NUMBER.search(row_match.group(1))
        row = int(ref.group(1)) if ref else row + 1
        if row_match.group(2) == b"/":
            continue
        end = xml.find(b"row>", row_match.end())
        yield row, xml[row_match.end() : end if end >= 0 else len(xml)]


def _row_cells(row: int, body: bytes) -> Iterator[tuple[tuple[int, int], bytes, bytes]]:
    """The cells of one row's body, a cell without a reference placed in the next column."""
    col = 0
    for attrs, content in _cells(body):
        ref = _CELL_REF.search(attrs)
        col = _column_number(ref.group(1)) if ref else col + 1
        yield (int(ref.group(2)) if ref else row, col), attrs, content


# Each pattern starts with a literal, which the regex engine searches for quickly; a normal sheet
# matches none of them.
_HAS_FORMULA = re.compile(rb"<f[ >]")
_PREFIXED = re.compile(rb":(?:c[ >]|row[ >])")
_HAS_PREFIXED_FORMULA = re.compile(rb":f[ >]")
_SUSPECTS: dict[int, tuple[re.Pattern, re.Pattern]] = {}


def _suspect_patterns(row_digits: int) -> tuple[re.Pattern, re.Pattern]:
    """Cells: group 1 set for a reference with 2+ column letters or `row_digits`+ row digits (it may
    exceed the limits), unset for a cell without a plain reference first (none, another attribute first,
    lower case, single quotes...). Rows: a row without a plain reference first.
    """
    if row_digits not in _SUSPECTS:
        _SUSPECTS[row_digits] = (
            re.compile(rb'<c(?:\s(r="(?:[A-Z]{2}|[A-Z]\d{%d,}))|\s(?!r="[A-Z]\d)|>)' % row_digits),
            re.compile(rb'<row(?:\s(?!r="\d)|>)'),
        )
    return _SUSPECTS[row_digits]


_ROW_TAG = re.compile(rb"<(?:\w+:)?row\b([^>]*?)(/?)>")
_ROW_NUMBER = re.compile(rb"""\br\s*=\s*["'](\d+)["']""")


def _check_extent_slow(xml: bytes, name: str, limits: Validation) -> None:
    """Walk every row and cell, placing unreferenced ones as a reader does (next row, next column)."""
    for row, body in _placed_rows(xml):
        col = 0
        for (cell_row, col), _attrs, content in _row_cells(row, body):
            if content.strip():
                _limit(name, cell_row, col, limits)
        if row > limits.max_rows and body.strip():
            _limit(name, row, max(col, 1), limits)


def _limit(name: str, row: int, col: int, limits: Validation) -> None:
    if row > limits.max_rows:
        raise _Refused(
            "sheet_too_large/rows",
            name,
            sheet_name=name,
            last_row=format_int(row),
            limit=format_int(limits.max_rows),
            example=f"{column_letter(min(col, EXCEL_MAX_COLUMNS))}{row}",
        )
    if col > limits.max_columns:
        raise _Refused(
            "sheet_too_large/columns",
            name,
            sheet_name=name,
            last_column=column_letter(min(col, EXCEL_MAX_COLUMNS)),
            limit=limits.max_columns,
            at_row=format_int(row),
        )


# -- building the sheet --------------------------------------------------------------------------


_TRIM = (" ", "'", "\u2019")


def _normalise(value: object) -> Value | None:
    """calamine's cell value as the rest of the program wants it: the one place for its quirks."""
    if isinstance(value, str):
        if not value:
            return None
        if (
            value.isprintable()  # no tab, newline, non-breaking or other odd space
            and value[0] not in _TRIM
            and value[-1] != " "
            and "  " not in value
            and (value.isascii() or unicodedata.is_normalized("NFC", value))
        ):
            return value  # already clean: the usual case, at C speed
        value = xml_safe(value)
        if "\n" in value or "\r" in value:
            text = "\n".join(line for line in (clean(p) for p in value.splitlines()) if line)
        else:
            text = clean(value)
        if text[:1] in ("'", "\u2019"):
            text = clean(text[1:])  # a typed apostrophe meant "keep as text"
        return text or None
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time(0) else value
    return value  # int, date, time, timedelta


def cell_value(raw: object) -> Value | None:
    """One calamine value as `_normalise` makes it, with a fast path for what is already clean."""
    kind = type(raw)
    if kind is str:
        if not raw:
            return None
        if (
            raw.isprintable()  # type: ignore[union-attr]
            and raw[0] not in _TRIM  # type: ignore[index]
            and raw[-1] != " "  # type: ignore[index]
            and "  " not in raw  # type: ignore[operator]
            and (raw.isascii() or unicodedata.is_normalized("NFC", raw))  # type: ignore[union-attr,arg-type]
        ):
            return raw  # type: ignore[return-value]
        return _normalise(raw)
    if kind is float:
        return int(raw) if raw.is_integer() and abs(raw) < 2**53 else raw  # type: ignore[union-attr,arg-type,return-value]
    if kind is int or kind is bool or kind is dt.date:
        return raw  # type: ignore[return-value]
    return _normalise(raw)


def _build_sheet(name: str, rows: list[list], merged: list, scan: _SheetScan, limits: Validation) -> RawSheet:
    if len(rows) > limits.max_rows:
        _limit(name, len(rows), 1, limits)
    max_columns = limits.max_columns
    for r, row in enumerate(rows, 1):
        if len(row) > max_columns:
            last = max((i for i, v in enumerate(row, 1) if v != ""), default=0)
            if last > max_columns:
                _limit(name, r, last, limits)
    overlay = {
        position: problem
        for position, problem in scan.problems.items()
        if position[0] <= limits.max_rows and position[1] <= max_columns
    }
    sheet = RawSheet(name, rows, overlay, scan.legacy_fonts)
    if merged:
        sheet.merged = _fill_merged(sheet, merged, limits)
    return sheet


def _fill_merged(sheet: RawSheet, merged: list, limits: Validation) -> tuple[tuple[int, int, int, int], ...]:
    """A merged range's top-left value belongs to its first column: it fills that column's cells down
    the range (people grouped under one "Có"), never the columns to its right, which are other fields
    (a name merged across the row must not become everyone's rating and notes). Clipped to the data."""
    out = []
    budget = limits.max_rows * 4  # cells filled in all: a crafted file may hold thousands of ranges
    for (r1, c1), (r2, c2) in merged:
        top, left = r1 + 1, c1 + 1
        bottom = min(r2 + 1, max(sheet.max_row, top), limits.max_rows)
        out.append((top, left, r2 + 1, c2 + 1))
        value = sheet.value(top, left)
        budget -= bottom - top
        if value is None or budget < 0:
            continue
        font = sheet.legacy_fonts.get((top, left))
        for r in range(top + 1, bottom + 1):
            if sheet.value(r, left) is None:
                sheet.overlay[(r, left)] = value
                if font:
                    sheet.legacy_fonts[(r, left)] = font
    return tuple(out)


# ------------------------------------------------------------------------------------------------
# OLE2: .xls, or a password-protected .xlsx


def _read_ole(data: bytes, file_name: str, limits: Validation, wanted: set[str] | None) -> RawWorkbook:
    import olefile  # installed with extract-msg; loaded only for the rare OLE file

    try:
        ole = olefile.OleFileIO(data)
    except Exception:  # olefile raises many types on damaged input
        raise _Refused("corrupt/xls") from None
    with ole:
        if ole.exists("EncryptionInfo") or ole.exists("EncryptedPackage"):
            raise _encrypted()
        stream_name = "Workbook" if ole.exists("Workbook") else "Book" if ole.exists("Book") else None
        if stream_name is None:
            raise _Refused("not_workbook/document", kind=_ole_kind(ole))
        try:
            stream = ole.openstream(stream_name).read()
            chains_end = _ole_chains_end(ole)
        except Exception:
            raise _corrupt_part(stream_name) from None
        if not chains_end:
            raise _corrupt_part(stream_name)
    biff = _scan_biff(stream, limits, biff8=stream_name == "Workbook")
    # calamine parses every sheet of an .xls when opening it: the extent check above came first.
    calamine = _calamine(lambda: python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)))
    book = RawWorkbook(file_name, "xls", sheet_names=tuple(calamine.sheet_names))
    for name in book.sheet_names:
        if wanted is not None and _sheet_key(name) not in wanted:
            continue
        rows, merged = _calamine(lambda name=name: _sheet_rows(calamine, name))
        scan = _SheetScan(legacy_fonts=biff.legacy_fonts.get(name, {}))
        book.sheets[name] = _build_sheet(name, rows, merged, scan, limits)
    return book


def _ole_chains_end(ole) -> bool:
    """Whether every sector chain of the container ends (ENDOFCHAIN) without a loop or a stray index.

    olefile reads a stream by its size; calamine follows each chain until its end mark, growing a buffer
    as it goes: a damaged allocation table (a zeroed sector makes every sector point to sector 0) loops
    forever and calamine aborts the process when the buffer reaches 4 GB.
    """
    import olefile

    def ends(start: int, table) -> bool:
        seen: set[int] = set()
        sector = start
        while sector != olefile.ENDOFCHAIN:
            if sector >= len(table) or sector in seen:
                return False
            seen.add(sector)
            sector = table[sector]
        return True

    fat = ole.fat
    if not (ends(ole.first_dir_sector, fat) and ends(ole.first_mini_fat_sector, fat)):
        return False
    kinds = (olefile.STGTY_STREAM, olefile.STGTY_ROOT)
    entries = [e for e in ole.direntries if e is not None and e.entry_type in kinds]
    if any(e.entry_type == olefile.STGTY_STREAM and 0 < e.size < ole.minisectorcutoff for e in entries):
        ole.loadminifat()
    for entry in entries:
        big = entry.entry_type != olefile.STGTY_STREAM or entry.size >= ole.minisectorcutoff
        if (big or entry.size) and not ends(entry.isectStart, fat if big else ole.minifat):
            return False
    return True


def _ole_kind(ole) -> str:
    if ole.exists("WordDocument"):
        return "một văn bản Word 97-2003 (.doc)"
    if ole.exists("PowerPoint Document"):
        return "một bản trình chiếu PowerPoint 97-2003 (.ppt)"
    if any(entry and entry[0].startswith("__substg1.0_") for entry in ole.listdir()):
        return "một thư Outlook (.msg)"
    return "một tệp Office 97-2003 không phải bảng tính"


@dataclass
class _BiffScan:
    legacy_fonts: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)


# BIFF8 cell records: LABELSST, LABEL, NUMBER, RK, FORMULA, BOOLERR, RSTRING; MULRK holds several.
_BIFF_CELLS = {0x00FD, 0x0204, 0x0203, 0x027E, 0x0006, 0x0205, 0x00D6}
_BIFF_MULRK = 0x00BD
_BIFF_BOF, _BIFF_BOUNDSHEET, _BIFF_FONT, _BIFF_XF, _BIFF_FILEPASS = 0x0809, 0x0085, 0x0031, 0x00E0, 0x002F
_BIFF_DIMENSIONS = 0x0200


def _scan_biff(stream: bytes, limits: Validation, biff8: bool = True) -> _BiffScan:
    """One pass over the BIFF records: password, the extent of the data, legacy fonts by sheet.

    calamine builds a dense grid from the highest row and column holding a value; a crafted .xls with a
    value at row 65536, column 256 would cost it 400 MB, so the extent is checked here first, for every
    cell record wherever it sits.
    """
    scan = _BiffScan()
    sheet_at: dict[int, str] = {}
    fonts: list[str] = []
    xf_fonts: list[int] = []
    current = "?"
    legacy_xfs: dict[int, str] | None = None
    pos, size = 0, len(stream)
    while pos + 4 <= size:
        kind, length = struct.unpack_from("<HH", stream, pos)
        body = stream[pos + 4 : pos + 4 + length]
        if len(body) < length:
            break  # a record cut off by the end of the stream: calamine reports it, nothing to bound
        if kind == _BIFF_BOF:
            current = sheet_at.get(pos, current)
        elif kind == _BIFF_FILEPASS:
            raise _encrypted()
        elif kind == _BIFF_BOUNDSHEET and length >= 8:
            sheet_at[struct.unpack_from("<I", body)[0]] = _biff_string(body[6:], biff8)
        elif kind == _BIFF_FONT and length >= 16:
            fonts.append(_biff_string(body[14:], biff8))
        elif kind == _BIFF_XF and length >= 2:
            xf_fonts.append(struct.unpack_from("<H", body)[0])
        elif kind in _BIFF_CELLS and length >= 6:
            row, col, xf = struct.unpack_from("<HHH", body)
            _limit(current, row + 1, col + 1, limits)
            if legacy_xfs is None:
                legacy_xfs = _biff_legacy_xfs(fonts, xf_fonts)
            if xf in legacy_xfs:
                scan.legacy_fonts.setdefault(current, {})[(row + 1, col + 1)] = legacy_xfs[xf]
        elif kind == _BIFF_DIMENSIONS and length >= 8:
            _check_dimensions(current, body, limits)
        elif kind == _BIFF_MULRK and length >= 6:
            row, first = struct.unpack_from("<HH", body)
            last = struct.unpack_from("<H", body, length - 2)[0]
            _limit(current, row + 1, max(first, last) + 1, limits)
        pos += 4 + length
    return scan


def _check_dimensions(sheet: str, body: bytes, limits: Validation) -> None:
    """DIMENSIONS (first row, last row + 1, first column, last column + 1): calamine reserves room for
    (last - first + 1) rows times columns from it before reading a cell, with no check, so a damaged
    record (first past last, or past what the format can hold) makes it ask for petabytes and abort."""
    if len(body) >= 12:  # BIFF8: rows as 32-bit numbers
        first_row, last_row, first_col, last_col = struct.unpack_from("<IIHH", body)
    else:  # BIFF5
        first_row, last_row, first_col, last_col = struct.unpack_from("<HHHH", body)
    if first_row > last_row or first_col > last_col or last_row > 65_536 or last_col > 256:
        raise _corrupt_part("Workbook")


def _biff_legacy_xfs(fonts: list[str], xf_fonts: list[int]) -> dict[int, str]:
    out = {}
    for index, font_index in enumerate(xf_fonts):
        # BIFF font indices skip 4 (a historical quirk): index 5 is the fifth FONT record.
        position = font_index - 1 if font_index > 4 else font_index
        if position < len(fonts) and legacy_font_encoding(fonts[position]):
            out[index] = fonts[position]
    return out


def _biff_string(body: bytes, biff8: bool = True) -> str:
    """BIFF8: length byte, flags byte, Latin-1 or UTF-16LE characters. BIFF5: length byte, ANSI bytes."""
    if len(body) < 2:
        return ""
    count = body[0]
    if not biff8:
        return body[1 : 1 + count].decode("cp1252", "replace")
    if body[1] & 0x1:
        return body[2 : 2 + 2 * count].decode("utf-16-le", "replace")
    return body[2 : 2 + count].decode("latin-1")


# ------------------------------------------------------------------------------------------------
# .ods: the OpenDocument spreadsheet, LibreOffice's default (and the state's recommended format)
#
# calamine reads three parts: `mimetype`, `META-INF/manifest.xml` (encryption) and `content.xml`, all
# by their exact names, and parses every table of content.xml when the file is opened. It tries its
# .xlsx and .xlsb readers on the package first, so a package holding their parts as well is refused.
# Its .ods reader repeats a cell `number-columns-repeated` times and a row `number-rows-repeated`
# times, and a `<text:s text:c="…"/>` that many spaces: the extent of the non-empty cells and the text
# they copy are bounded here first, reading content.xml as calamine reads it (literal tag names, empty
# elements expanded, the first closing tag ending a cell, a row, a table).

ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_ODF_KINDS = (
    (b"application/vnd.oasis.opendocument.text", "một văn bản OpenDocument (.odt)"),
    (b"application/vnd.oasis.opendocument.presentation", "một bản trình chiếu OpenDocument (.odp)"),
    (b"application/vnd.oasis.opendocument.graphics", "một bản vẽ OpenDocument (.odg)"),
)
# A tag's attributes up to the first ">"; `_ods_attrs` refuses one whose quotes do not pair (a ">" inside
# a value, which the parser would read past): a pattern that skipped quoted ">" could scan to the end
# of the part from every tag of a crafted file.
_TAG_ATTRS = rb"([^>]*)"
_PAIRED_QUOTES = re.compile(rb"""(?:[^"']|"[^"]*"|'[^']*')*""")
_ODS_TABLE = re.compile(rb"<table:table(?=[\s/>])" + _TAG_ATTRS + rb">")
_ODS_TABLE_END = re.compile(rb"</table:table\s*>")
_ODS_ROW = re.compile(rb"<table:table-row(?=[\s/>])" + _TAG_ATTRS + rb">")
_ODS_ROW_END = re.compile(rb"</table:table-row\s*>")
_ODS_CELL = re.compile(rb"<table:(?:table-cell|covered-table-cell)(?=[\s/>])" + _TAG_ATTRS + rb">")
_ODS_CELL_END = re.compile(rb"</table:(?:table-cell|covered-table-cell)\s*>")
_ODS_SPACES = re.compile(rb"<text:s(?=[\s/>])" + _TAG_ATTRS + rb">")
_ODS_SPAN = re.compile(rb"""<text:span\b[^>]*?text:style-name\s*=\s*["']([^"']*)["']""")
_ODS_PARAGRAPH = re.compile(rb"<text:p\b[^>]*>(.*?)</text:p>", re.S)
_ODS_STYLE = re.compile(rb"(?=[\s/>])" + _TAG_ATTRS + rb">")  # after "<style:style"
_ODS_FONT_FACE = re.compile(rb"<style:font-face(?=[\s/>])" + _TAG_ATTRS + rb">")
_ODS_TEXT_PROPERTIES = re.compile(rb"<style:text-properties(?=[\s/>])" + _TAG_ATTRS + rb">")
# Attributes whose presence gives a cell a value or a formula in calamine's reading (else it is empty).
_ODS_VALUE_KEYS = (b"office:value", b"office:string-value", b"office:date-value", b"office:time-value",
                   b"office:boolean-value")  # fmt: skip
_ODS_MERGE_BUDGET = 10_000


def _read_ods(
    data: bytes,
    file_name: str,
    limits: Validation,
    wanted: set[str] | None,
    parts: dict[str, zipfile.ZipInfo],
) -> RawWorkbook:
    if any(key.startswith("xl/") or key in ("_rels/.rels", "[content_types].xml") for key in parts):
        raise _unusual_structure()
    mimetype = _part(data, parts, _exact(parts, "mimetype")) or b""
    if not mimetype.startswith(ODS_MIMETYPE):
        kind = next((words for mime, words in _ODF_KINDS if mimetype.startswith(mime)), "một tệp nén zip")
        raise _Refused("not_workbook/opendocument", kind=kind)
    manifest = b""
    if "META-INF/manifest.xml" in parts:
        manifest = _part(data, parts, "META-INF/manifest.xml", required=False) or b""
    if b"encryption-data" in manifest:
        raise _encrypted()
    content = _part(data, parts, _exact(parts, "content.xml")) or b""
    # Not read by calamine: the named styles a cell's automatic style may take its font from.
    styles = _part(data, parts, "styles.xml", required=False) or b"" if "styles.xml" in parts else b""
    tables = _ods_tables(content, limits, _ods_legacy_styles(content, styles))
    calamine = _calamine(lambda: python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)))
    names = tuple(calamine.sheet_names)
    if names != tuple(name for name, _, _ in tables):
        raise _unusual_structure()  # calamine sees other tables than this check read
    book = RawWorkbook(file_name, "ods", sheet_names=names)
    for name, scan, merged in tables:
        if wanted is not None and _sheet_key(name) not in wanted:
            continue
        rows, _ = _calamine(lambda name=name: _sheet_rows(calamine, name))
        book.sheets[name] = _build_sheet(name, rows, merged, scan, limits)
    return book


def _exact(parts: dict[str, zipfile.ZipInfo], name: str) -> str:
    """calamine opens the OpenDocument parts by their exact names: another case is a missing part."""
    if name not in parts or parts[name].orig_filename != name:
        raise _corrupt_part(name)
    return name


def _ods_attrs(raw: bytes) -> dict[bytes, bytes]:
    """A tag's attributes by their literal names (as calamine reads them), values as written; an
    attribute given twice is refused (which of the two a reader takes is not something to rely on)."""
    if _PAIRED_QUOTES.fullmatch(raw) is None:
        raise _unusual_structure()
    attrs: dict[bytes, bytes] = {}
    for key, double, single in _ATTR.findall(raw):
        if key in attrs:
            raise _unusual_structure()
        attrs[key] = double or single
    return attrs


def _ods_count(attrs: dict[bytes, bytes], key: bytes) -> int:
    value = attrs.get(key)
    if value is None:
        return 1
    if not value.isdigit() or int(value) < 1:
        raise _unusual_structure()  # LibreOffice writes a plain positive number
    return int(value)


def _ods_text(raw: bytes) -> str:
    return html.unescape(raw.decode("utf-8", "replace"))


def _ods_tables(
    content: bytes, limits: Validation, legacy_styles: dict[bytes, str]
) -> list[tuple[str, _SheetScan, list]]:
    """(name, formula problems and legacy fonts by cell, merged ranges) of every table, in order, after
    bounding each one's non-empty cells to the sheet limits and the text they copy."""
    if b"<!" in content:
        # A comment or CDATA section could hide tags from this reading that the parser skips, or show
        # it tags the parser does not see. LibreOffice never writes them in content.xml.
        raise _unusual_structure()
    tables: list[tuple[str, _SheetScan, list]] = []
    text_copies = 0
    position = 0
    while (table := _ODS_TABLE.search(content, position)) is not None:
        attrs_raw = table.group(1)
        closed = attrs_raw.endswith(b"/")
        end = table.end() if closed else _end_of(_ODS_TABLE_END, content, table.end())
        position = end
        name_raw = _ods_attrs(attrs_raw.rstrip(b"/")).get(b"table:name")
        if name_raw is None:
            continue  # calamine skips a table without a name
        name = xml_safe(_ods_text(name_raw))
        scan, merged = _SheetScan(), []
        row = 0
        cursor = table.end()
        while not closed and (row_tag := _ODS_ROW.search(content, cursor, end)) is not None:
            row_attrs = row_tag.group(1)
            row_closed = row_attrs.endswith(b"/")
            row_end = row_tag.end() if row_closed else _end_of(_ODS_ROW_END, content, row_tag.end(), end)
            cursor = row_end
            repeats = _ods_count(_ods_attrs(row_attrs.rstrip(b"/")), b"table:number-rows-repeated")
            col = 0
            cell_cursor = row_tag.end()
            while not row_closed and (cell := _ODS_CELL.search(content, cell_cursor, row_end)) is not None:
                cell_attrs = cell.group(1)
                cell_closed = cell_attrs.endswith(b"/")
                cell_end = cell.end() if cell_closed else _end_of(_ODS_CELL_END, content, cell.end(), row_end)
                cell_cursor = cell_end
                body = content[cell.end() : cell_end]
                if b"<table:" in body:
                    raise _unusual_structure()  # a table inside a cell: calamine skips what this reads
                attrs = _ods_attrs(cell_attrs.rstrip(b"/"))
                columns = _ods_count(attrs, b"table:number-columns-repeated")
                if _ods_filled(attrs):
                    _limit(name, row + repeats, col + columns, limits)
                    spaces = sum(_ods_spaces(m.group(1)) for m in _ODS_SPACES.finditer(body))
                    text_copies += (len(cell_attrs) + len(body) + spaces) * columns * repeats
                    if text_copies > STRING_COPIES_BYTES:
                        raise _ods_text_too_large()
                    _ods_cell_notes(scan, attrs, body, row, col, repeats, columns, legacy_styles)
                spans = (_ods_count(attrs, b"table:number-rows-spanned"),
                         _ods_count(attrs, b"table:number-columns-spanned"))  # fmt: skip
                if spans != (1, 1) and len(merged) < _ODS_MERGE_BUDGET:
                    merged.append(((row, col), (row + spans[0] - 1, col + spans[1] - 1)))
                col += columns
            row += repeats
        tables.append((name, scan, merged))
    names = [name.lower() for name, _, _ in tables]
    if len(set(names)) != len(names):
        raise _unusual_structure()  # calamine keeps the last of two tables with one name
    return tables


def _end_of(pattern: re.Pattern, content: bytes, start: int, limit: int | None = None) -> int:
    """Where the first closing tag after `start` ends: the parser ends the element there (it does not
    match closing names to opening ones)."""
    found = pattern.search(content, start, len(content) if limit is None else limit)
    if found is None:
        raise _Refused("corrupt/ods_content")
    return found.end()


def _ods_filled(attrs: dict[bytes, bytes]) -> bool:
    """Whether calamine gives the cell a value or a formula (a styled empty cell costs nothing)."""
    return (
        any(key in attrs for key in _ODS_VALUE_KEYS)
        or b"table:formula" in attrs
        or attrs.get(b"office:value-type") == b"string"
    )


def _ods_spaces(raw: bytes) -> int:
    value = _ods_attrs(raw.rstrip(b"/")).get(b"text:c", b"1").strip()
    digits = value[1:] if value.startswith(b"+") else value
    if not digits.isdigit():
        raise _unusual_structure()
    return int(digits)


def _ods_text_too_large() -> _Refused:
    return _Refused("strings_too_large/repeated", limit_mb=STRING_COPIES_BYTES // MB)


def _ods_cell_notes(
    scan: _SheetScan,
    attrs: dict[bytes, bytes],
    body: bytes,
    row: int,
    col: int,
    repeats: int,
    columns: int,
    legacy_styles: dict[bytes, str],
) -> None:
    """Error results, formulas never calculated and legacy fonts, for each cell the tag stands for."""
    problem = None
    if attrs.get(b"calcext:value-type") == b"error":
        paragraph = _ODS_PARAGRAPH.search(body)
        text = re.sub(rb"<[^>]*>", b"", paragraph.group(1)) if paragraph else b""
        problem = CellProblem("error", _ods_text(text).strip() or "#ERROR")
    elif (
        b"table:formula" in attrs
        and not any(key in attrs for key in _ODS_VALUE_KEYS)
        and attrs.get(b"office:value-type") != b"string"  # the text of the cell is its value
    ):
        formula = _ods_text(attrs[b"table:formula"])
        problem = CellProblem("uncached_formula", formula.split("=", 1)[1] if "=" in formula else formula)
    font = None
    if legacy_styles:
        font = legacy_styles.get(attrs.get(b"table:style-name", b""))
        if font is None:
            font = next((legacy_styles[s] for s in _ODS_SPAN.findall(body) if s in legacy_styles), None)
    if problem is None and font is None:
        return
    for r in range(row + 1, row + repeats + 1):
        for c in range(col + 1, col + columns + 1):
            if problem is not None:
                scan.problems[(r, c)] = problem
            if font is not None:
                scan.legacy_fonts[(r, c)] = font


def _ods_legacy_hint(xml: bytes) -> bool:
    low = xml.lower()
    return b'font-name=".vn' in low or b'font-name="vni' in low or b'font-family=".vn' in low


def _ods_legacy_styles(content: bytes, styles: bytes) -> dict[bytes, str]:
    """Style name -> legacy font name (.VnTime, VNI-Times), for the cell and text styles using one,
    through their parent styles; a font is named by its font-face declaration."""
    if not (_ods_legacy_hint(content) or _ods_legacy_hint(styles)):
        return {}
    faces: dict[bytes, str] = {}
    own: dict[bytes, tuple[bytes | None, bytes | None]] = {}  # style -> (font name, parent)
    for xml in (styles, content):
        for face in _ODS_FONT_FACE.finditer(xml):
            attrs = _ATTR.findall(face.group(1))
            values = {key: double or single for key, double, single in attrs}
            if b"style:name" in values:
                family = _ods_text(values.get(b"svg:font-family", values[b"style:name"]))
                faces[values[b"style:name"]] = family.strip("'\"")
        # Each style's text runs to its closing tag, or to the next style: pieces that do not overlap.
        for piece in xml.split(b"<style:style")[1:]:
            style = _ODS_STYLE.match(piece)
            if style is None:
                continue
            body = piece[style.end() : max(piece.find(b"</style:style"), style.end())]
            values = {key: double or single for key, double, single in _ATTR.findall(style.group(1))}
            font = None
            for properties in _ODS_TEXT_PROPERTIES.finditer(body):
                props = {key: double or single for key, double, single in _ATTR.findall(properties.group(1))}
                font = props.get(b"style:font-name") or props.get(b"fo:font-family") or font
            if b"style:name" in values:
                own[values[b"style:name"]] = (font, values.get(b"style:parent-style-name"))
    out: dict[bytes, str] = {}
    for name in own:
        current, seen = name, set()
        while current in own and current not in seen:
            seen.add(current)
            font, parent = own[current]
            if font is not None:
                family = faces.get(font, _ods_text(font).strip("'\""))
                if legacy_font_encoding(family):
                    out[name] = family
                break
            current = parent
    return out
