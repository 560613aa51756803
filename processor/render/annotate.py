"""A unit's workbook with findings marked, patched at the package (zip + XML) level.

openpyxl reads every cell of a workbook into objects and writes them all back: about 45 ms for one
form, when the copy needs a handful of changes. Here the unit's package is copied entry by entry and
only these parts change:

- xl/styles.xml: fills, borders, fonts and cell formats are appended (a marked cell's format is a clone
  of its own with the mark's fill and border, so number formats and fonts stay);
- the XML of each sheet with findings: the `s=` of the marked cells (a missing cell is created), the
  mark's conditional formats ahead of the form's, a `legacyDrawing` for the comments, the sheet's rels;
- new comments and VML parts (Excel shows a comment only with its VML shape);
- new sheets (the findings list first, the very hidden restore log last): workbook.xml, its rels and
  [Content_Types].xml.

Notes already on a sheet (the unit's, or a form control's VML) are merged with ours (notes.py); a copy
sent back is cleaned first (returned.py); macros and external links are removed first (inert.py), a
template or macro workbook comes back a plain workbook; rows and cells written without their reference
are patched (the references are written out first). What this module does not understand raises
`Unsupported`: the caller then returns the workbook untouched with the findings sheet alone.
The input already passed the reader's checks (zip bomb, entities); still, no unit text reaches the XML
unescaped, and a DOCTYPE anywhere is refused.
"""

from __future__ import annotations

import io
import itertools
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Border
from openpyxl.styles.fills import Fill
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.xml.functions import tostring

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
RT_OFFICE_DOCUMENT = REL_NS + "/officeDocument"
RT_CORE = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"
RT_APP = REL_NS + "/extended-properties"
RT_WORKSHEET = REL_NS + "/worksheet"
RT_CHARTSHEET = REL_NS + "/chartsheet"
RT_STYLES = REL_NS + "/styles"
RT_COMMENTS = REL_NS + "/comments"
RT_VML = REL_NS + "/vmlDrawing"
RT_CALC_CHAIN = REL_NS + "/calcChain"
CT_WORKBOOK = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
CT_MACRO_WORKBOOK = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
# A template sent as a report comes back as the workbook it would make; a macro workbook comes back a
# plain one, its VBA project removed (inert.py): nothing a unit sends runs on the clerk's PC.
_AS_WORKBOOK = {
    CT_WORKBOOK: CT_WORKBOOK,
    CT_MACRO_WORKBOOK: CT_WORKBOOK,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": CT_WORKBOOK,
    "application/vnd.ms-excel.template.macroEnabled.main+xml": CT_WORKBOOK,
}
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
CT_RELS = "application/vnd.openxmlformats-package.relationships+xml"
CT_CORE = "application/vnd.openxmlformats-package.core-properties+xml"
CT_APP = "application/vnd.openxmlformats-officedocument.extended-properties+xml"
XML_HEAD = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01, the earliest a zip can say (time 00:00:00)
_M = "{" + MAIN_NS + "}"

# One attribute: name="..." or name='...' (values may hold '>' in principle).
_ATTRS = rb"""(?:[^>"']|"[^"]*"|'[^']*')*?"""
_TAG = re.compile(rb"<(/?)([A-Za-z_][\w.\-]*(?::[\w.\-]+)?)(" + _ATTRS + rb")(/?)>")
_ROW_TAG = re.compile(rb"<row\b(" + _ATTRS + rb")(/?)>")
_CELL_TAG = re.compile(rb"<c\b(" + _ATTRS + rb")(/?)>")
_CELL_START = re.compile(rb"<c[\s/>]")
_R_ROW = re.compile(rb'\sr="(\d+)"')
_R_CELL = re.compile(rb'\sr="([A-Z]{1,3})(\d+)"')
_S_ATTR = re.compile(rb'\ss="(\d+)"')
_SPANS = re.compile(rb'\sspans="[^"]*"')
_MERGE = re.compile(rb'<mergeCell\b[^>]*\sref="([A-Z]{1,3})(\d+)(?::([A-Z]{1,3})(\d+))?"')
_CF_RULE = re.compile(rb"<(?:[\w.\-]+:)?cfRule\b" + _ATTRS + rb"/?>")
_PRIORITY = re.compile(rb'\spriority="(\d+)"')
_TAB_SELECTED = re.compile(rb'\stabSelected="(?:1|true)"')
_COUNT = re.compile(rb'\scount="\d*"')
_DIMENSION = re.compile(rb'<dimension\b[^>]*\sref="([^"]*)"[^>]*/>')
_SHEET_TAG = re.compile(rb"<sheet\b(" + _ATTRS + rb")/>")
_COL = re.compile(rb"<col\b(" + _ATTRS + rb")/?>")
_CF_BLOCK = re.compile(rb"<conditionalFormatting\b" + _ATTRS + rb">.*?</conditionalFormatting>", re.S)
_CF_RULE_ELEMENT = re.compile(rb"<cfRule\b" + _ATTRS + rb"(?:/>|>.*?</cfRule>)", re.S)

# Schema order of a worksheet's children after sheetData: new ones go before the first that follows.
_AFTER_CONDITIONAL_FORMATTING = {
    b"dataValidations", b"hyperlinks", b"printOptions", b"pageMargins", b"pageSetup", b"headerFooter",
    b"rowBreaks", b"colBreaks", b"customProperties", b"cellWatches", b"ignoredErrors", b"smartTags",
    b"drawing", b"legacyDrawing", b"legacyDrawingHF", b"drawingHF", b"picture", b"oleObjects",
    b"controls", b"webPublishItems", b"tableParts", b"extLst", b"mc:AlternateContent",
}  # fmt: skip
_AFTER_LEGACY_DRAWING = {
    b"legacyDrawingHF", b"drawingHF", b"picture", b"oleObjects", b"controls", b"webPublishItems",
    b"tableParts", b"extLst", b"mc:AlternateContent",
}  # fmt: skip
_AFTER_DEFINED_NAMES = {
    b"calcPr", b"oleSize", b"customWorkbookViews", b"pivotCaches", b"smartTagPr", b"smartTagTypes",
    b"webPublishing", b"fileRecoveryPr", b"webPublishObjects", b"extLst",
}  # fmt: skip
_AFTER_DXFS = (b"<tableStyles", b"<colors", b"<extLst", b"</styleSheet>")


class Unsupported(Exception):
    """Something in the unit's package this module does not patch: take the openpyxl path."""


# ------------------------------------------------------------------------------------------------
# XML text


def text(value: str) -> str:
    """Element text: no XML-illegal control characters, markup escaped."""
    return escape(ILLEGAL_CHARACTERS_RE.sub("", value))


def attr(value: str) -> str:
    return escape(ILLEGAL_CHARACTERS_RE.sub("", value), {'"': "&quot;", "\n": "&#10;", "\r": "&#13;"})


def _t(value: str) -> str:
    space = ' xml:space="preserve"' if value[:1].isspace() or value[-1:].isspace() or "\n" in value else ""
    return f"<t{space}>{text(value)}</t>"


def _parse(data: bytes) -> ET.Element:
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise Unsupported("DOCTYPE")
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise Unsupported(str(exc)) from None


def _root_is_main(data: bytes, tag: bytes) -> None:
    """The root element `tag` in the main namespace as default: our unprefixed elements then belong."""
    match = re.search(rb"<([\w.\-]+:)?" + tag + rb"\b(" + _ATTRS + rb")>", data)
    if match is None or match.group(1) or f'xmlns="{MAIN_NS}"'.encode() not in match.group(2):
        raise Unsupported(f"{tag.decode()} not in the main namespace as default")


def _top_level(data: bytes, start: int) -> list[tuple[bytes, int]]:
    """(name, offset) of each element from `start` at the depth of the first one (the root's children)."""
    out = []
    depth = 0
    for match in _TAG.finditer(data, start):
        closing, name, _, empty = match.groups()
        if closing:
            depth -= 1
            if depth < 0:
                out.append((b"/", match.start()))  # the root's end tag
                return out
        else:
            if depth == 0:
                out.append((name, match.start()))
            if not empty:
                depth += 1
    raise Unsupported("no end tag")


def _insert_point(children: list[tuple[bytes, int]], before: set[bytes]) -> int:
    for name, offset in children:
        if name in before or name == b"/":
            return offset
    raise Unsupported("no insert point")


def _splice(data: bytes, edits: Iterable[tuple[int, int, bytes]]) -> bytes:
    """Replace data[start:end] by each new text; edits must not overlap."""
    parts = []
    last = 0
    for start, end, new in sorted(edits, key=lambda e: (e[0], e[1])):
        if start < last:
            raise Unsupported("overlapping edits")
        parts += [data[last:start], new]
        last = end
    parts.append(data[last:])
    return b"".join(parts)


def _set_attr(attrs: bytes, name: bytes, value: bytes) -> bytes:
    pattern = re.compile(rb"\s" + name + rb'="[^"]*"')
    new = b" " + name + b'="' + value + b'"'
    if pattern.search(attrs):
        return pattern.sub(lambda _: new, attrs, count=1)
    return attrs.rstrip() + new if attrs.strip() else new


def _drop_attr(attrs: bytes, name: bytes) -> bytes:
    return re.sub(rb"\s" + name + rb'="[^"]*"', b"", attrs)


# ------------------------------------------------------------------------------------------------
# The package


@dataclass
class Relationship:
    id: str
    type: str
    target: str
    external: bool = False


@dataclass
class SheetEntry:
    name: str
    sheet_id: int
    state: str
    part: str | None  # None: not a worksheet (a chart sheet, a dialog sheet)


class Package:
    """The parts of an .xlsx, read lazily; changed and new parts replace or follow them when saved."""

    def __init__(self, data: bytes | None = None) -> None:
        self._zip: zipfile.ZipFile | None = None
        self._data = data or b""
        self._read: dict[str, bytes] = {}
        self._infos: dict[str, zipfile.ZipInfo] = {}
        self._names: dict[str, str] = {}  # lower-case name -> stored name
        if data is not None:
            try:
                self._zip = zipfile.ZipFile(io.BytesIO(data))
                infos = self._zip.infolist()
            except (zipfile.BadZipFile, OSError, ValueError) as exc:
                raise Unsupported(str(exc)) from None
            for info in infos:
                if info.is_dir():
                    continue
                if info.filename.lower() in self._names or info.flag_bits & 0x1:
                    raise Unsupported("duplicate or encrypted entry")
                self._infos[info.filename] = info
                self._names[info.filename.lower()] = info.filename
        self._new: dict[str, bytes] = {}
        self._rels: dict[str, list[Relationship]] = {}
        self._dirty_rels: set[str] = set()
        self._types: tuple[dict[str, str], dict[str, str]] | None = None
        self._types_changed = False
        self._spelling: dict[str, str] = {}  # lower-case part name -> as [Content_Types].xml spells it
        self._styles: Styles | None = None
        self._workbook: str | None = None
        self._sheets: list[SheetEntry] | None = None

    def name_of(self, part: str) -> str | None:
        """The stored name of a part: part names compare case-insensitively."""
        return self._names.get(part.lower())

    def read(self, part: str) -> bytes:
        name = self.name_of(part)
        if name is None:
            raise Unsupported(f"missing part {part}")
        if name in self._new:
            return self._new[name]
        if name in self._read:
            return self._read[name]
        try:
            data = self._read[name] = self._zip.read(self._infos[name])  # type: ignore[union-attr]
            return data
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, zlib.error) as exc:
            raise Unsupported(str(exc)) from None

    def write(self, part: str, data: bytes) -> None:
        name = self._names.setdefault(part.lower(), part)
        self._new[name] = data

    def remove(self, part: str) -> None:
        """Drop a part, its content type override and its relationships part."""
        name = self.name_of(part)
        if name is None:
            return
        del self._names[name.lower()]
        for store in (self._new, self._infos, self._read):
            store.pop(name, None)
        overrides = self._content_types()[1]
        if name.lower() in overrides:
            del overrides[name.lower()]
            self._types_changed = True
        self._rels.pop(name, None)
        self._dirty_rels.discard(name)
        if self.name_of(self.rels_part(name)) is not None:
            self.remove(self.rels_part(name))

    def unused(self, pattern: str) -> str:
        """The first free part name of a pattern with one `{}` for a number from 1."""
        for number in itertools.count(1):
            name = pattern.format(number)
            if name.lower() not in self._names:
                return name
        raise AssertionError  # pragma: no cover

    # -- content types

    def _content_types(self) -> tuple[dict[str, str], dict[str, str]]:
        if self._types is None:
            root = _parse(self.read("[Content_Types].xml"))
            defaults = {
                e.get("Extension", "").lower(): e.get("ContentType", "")
                for e in root.iter(f"{{{CT_NS}}}Default")
            }
            overrides = {}
            for e in root.iter(f"{{{CT_NS}}}Override"):
                name = e.get("PartName", "").lstrip("/")
                overrides[name.lower()] = e.get("ContentType", "")
                self._spelling[name.lower()] = name
            self._types = (defaults, overrides)
        return self._types

    def content_type(self, part: str) -> str:
        defaults, overrides = self._content_types()
        if part.lower() in overrides:
            return overrides[part.lower()]
        return defaults.get(posixpath.splitext(part)[1].lstrip(".").lower(), "")

    def part_names(self) -> list[str]:
        return [*self._infos, *(name for name in self._new if name not in self._infos)]

    def drop_defaults(self, which: Callable[[str], bool]) -> None:
        """Remove the default content types (by extension) whose type `which` selects."""
        defaults = self._content_types()[0]
        for extension in [e for e, t in defaults.items() if which(t)]:
            del defaults[extension]
            self._types_changed = True

    def add_part(self, part: str, data: bytes, content_type: str) -> None:
        self.write(part, data)
        if self.content_type(part) != content_type:
            self._content_types()[1][part.lower()] = content_type
            self._types_changed = True

    # -- relationships

    @staticmethod
    def rels_part(part: str) -> str:
        folder, name = posixpath.split(part)
        return posixpath.join(folder, "_rels", name + ".rels")

    def rels(self, part: str) -> list[Relationship]:
        """Relationships of a part ("" for the package), targets resolved to part names."""
        if part not in self._rels:
            rels_name = self.rels_part(part)
            found = []
            if self.name_of(rels_name) is not None:
                folder = posixpath.dirname(part)
                for element in _parse(self.read(rels_name)).iter(f"{{{PKG_REL_NS}}}Relationship"):
                    external = element.get("TargetMode") == "External"
                    target = element.get("Target", "")
                    if not external:
                        target = (
                            target[1:]
                            if target.startswith("/")
                            else posixpath.normpath(posixpath.join(folder, target))
                        )
                    found.append(
                        Relationship(element.get("Id", ""), element.get("Type", ""), target, external)
                    )
            self._rels[part] = found
        return self._rels[part]

    def add_rel(self, part: str, rel_type: str, target: str) -> str:
        rels = self.rels(part)
        ids = {rel.id for rel in rels}
        rid = next(f"rId{n}" for n in itertools.count(1) if f"rId{n}" not in ids)
        rels.append(Relationship(rid, rel_type, target))
        self._dirty_rels.add(part)
        return rid

    def drop_rels(self, part: str, which: Callable[[Relationship], bool]) -> list[Relationship]:
        """Remove the relationships of a part `which` selects; returns them."""
        rels = self.rels(part)
        dropped = [rel for rel in rels if which(rel)]
        if dropped:
            self._rels[part] = [rel for rel in rels if not which(rel)]
            self._dirty_rels.add(part)
        return dropped

    def _rels_xml(self, part: str) -> bytes:
        folder = posixpath.dirname(part)
        items = []
        for rel in self._rels[part]:
            target = rel.target if rel.external else posixpath.relpath(rel.target, folder or ".")
            mode = ' TargetMode="External"' if rel.external else ""
            items.append(
                f'<Relationship Id="{attr(rel.id)}" Type="{attr(rel.type)}" Target="{attr(target)}"{mode}/>'
            )
        return XML_HEAD + f'<Relationships xmlns="{PKG_REL_NS}">{"".join(items)}</Relationships>'.encode()

    def _types_xml(self) -> bytes:
        defaults, overrides = self._content_types()
        items = [f'<Default Extension="{attr(e)}" ContentType="{attr(t)}"/>' for e, t in defaults.items()]
        # The lookup is case-insensitive, as OPC says; the part names written are spelt as the zip stores
        # them (openpyxl, the Open XML SDK and Numbers match them case-sensitively).
        for lower, content_type in overrides.items():
            name = self.name_of(lower) or self._spelling.get(lower, lower)
            items.append(f'<Override PartName="/{attr(name)}" ContentType="{attr(content_type)}"/>')
        return XML_HEAD + f'<Types xmlns="{CT_NS}">{"".join(items)}</Types>'.encode()

    # -- the workbook

    @property
    def workbook(self) -> str:
        if self._workbook is None:
            docs = [r for r in self.rels("") if r.type == RT_OFFICE_DOCUMENT and not r.external]
            if len(docs) != 1 or self.content_type(docs[0].target) not in _AS_WORKBOOK:
                raise Unsupported("not a workbook")
            self._workbook = docs[0].target
        return self._workbook

    def as_workbook(self) -> None:
        """The workbook part typed a plain workbook (a template as the workbook it makes). A macro
        workbook's VBA project must be removed too (inert.make_inert does both)."""
        content_type = self.content_type(self.workbook)
        if _AS_WORKBOOK[content_type] != content_type:
            self._content_types()[1][self.workbook.lower()] = _AS_WORKBOOK[content_type]
            self._types_changed = True

    def sheets(self) -> list[SheetEntry]:
        if self._sheets is None:
            data = self.read(self.workbook)
            _root_is_main(data, b"workbook")
            root = _parse(data)
            targets = {r.id: r for r in self.rels(self.workbook) if not r.external}
            entries = []
            for element in root.iterfind(f"{_M}sheets/{_M}sheet"):
                rel = targets.get(element.get(f"{{{REL_NS}}}id", ""))
                try:
                    sheet_id = int(element.get("sheetId", ""))
                except ValueError:
                    raise Unsupported("sheetId") from None
                part = rel.target if rel is not None and rel.type == RT_WORKSHEET else None
                if part is not None and self.name_of(part) is None:
                    raise Unsupported(f"missing sheet {part}")
                entries.append(
                    SheetEntry(element.get("name", ""), sheet_id, element.get("state", "visible"), part)
                )
            self._sheets = entries
        return self._sheets

    @property
    def styles(self) -> Styles:
        if self._styles is None:
            found = [r.target for r in self.rels(self.workbook) if r.type == RT_STYLES and not r.external]
            if len(found) != 1:
                raise Unsupported("no styles part")
            self._styles = Styles(found[0], self.read(found[0]))
        return self._styles

    # -- saving

    def to_bytes(self) -> bytes:
        if self._styles is not None and self._styles.changed:
            self.write(self._styles.part, self._styles.to_bytes())
        for part in sorted(self._dirty_rels):
            if self.content_type(self.rels_part(part)) != CT_RELS:
                self._content_types()[0]["rels"] = CT_RELS
                self._types_changed = True
            self.write(self.rels_part(part), self._rels_xml(part))
        if self._types_changed:
            self.write("[Content_Types].xml", self._types_xml())
        entries = []
        for name in self.part_names():
            info = self._infos.get(name)
            if name in self._new or info is None or info.compress_type not in (0, 8):
                data = self._new[name] if name in self._new else self.read(name)
                packer = zlib.compressobj(6, zlib.DEFLATED, -15)
                entries.append((name, 8, zlib.crc32(data), len(data), packer.compress(data) + packer.flush()))
            else:  # untouched: its compressed bytes as they are (read once above: the CRC was checked)
                self.read(name)
                entries.append((name, info.compress_type, info.CRC, info.file_size, self._raw(info)))
        return _zip(entries)

    def _raw(self, info: zipfile.ZipInfo) -> bytes:
        data = self._data
        start = info.header_offset
        if data[start : start + 4] != b"PK\x03\x04":
            raise Unsupported("local header")
        name_length, extra_length = struct.unpack("<HH", data[start + 26 : start + 30])
        start += 30 + name_length + extra_length
        return data[start : start + info.compress_size]


def _zip(entries: Sequence[tuple[str, int, int, int, bytes]]) -> bytes:
    """A zip of (name, method, CRC, size, compressed bytes): fixed times and attributes, so the same
    parts give the same bytes on every platform."""
    out = bytearray()
    central = bytearray()
    for name, method, crc, size, data in entries:
        encoded = name.encode("utf-8")
        flags = 0 if encoded.isascii() else 0x800
        if max(size, len(data), len(out)) >= 0xFFFFFFFF:
            raise Unsupported("zip64")
        offset = len(out)
        out += struct.pack(
            "<4s5H3L2H", b"PK\x03\x04", 20, flags, method, 0, _DOS_DATE, crc, len(data), size, len(encoded), 0
        )
        out += encoded
        out += data
        central += struct.pack(
            "<4s6H3L5H2L",
            b"PK\x01\x02",
            (3 << 8) | 20,  # made by: Unix (the attributes below), zip 2.0
            20,
            flags,
            method,
            0,
            _DOS_DATE,
            crc,
            len(data),
            size,
            len(encoded),
            0,
            0,
            0,
            0,
            0o100600 << 16,
            offset,
        )
        central += encoded
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), len(out), 0)
    return bytes(out + central + end)


# ------------------------------------------------------------------------------------------------
# Styles


class Styles:
    """xl/styles.xml: read with ElementTree, extended by appending to its lists in the original text."""

    SECTIONS = ("fonts", "fills", "borders", "cellXfs", "dxfs")

    def __init__(self, part: str, data: bytes) -> None:
        _root_is_main(data, b"styleSheet")
        self.part = part
        self.data = data
        root = _parse(data)
        self.lists = {name: root.find(_M + name) for name in self.SECTIONS}
        for name in ("fonts", "fills", "borders", "cellXfs"):
            if self.lists[name] is None or len(self.lists[name]) == 0:
                raise Unsupported(f"styles without {name}")
        self.added: dict[str, list[str]] = {name: [] for name in self.SECTIONS}
        self._ids: dict[tuple[str, str], int] = {}
        self._looks: dict[tuple[int, int], tuple[str, str]] = {}

    @property
    def changed(self) -> bool:
        return any(self.added.values())

    def count(self, section: str) -> int:
        element = self.lists[section]
        return (0 if element is None else len(element)) + len(self.added[section])

    def add(self, section: str, xml: str) -> int:
        """The index of an entry (`<font>...</font>` etc.) appended once per distinct text."""
        key = (section, xml)
        if key not in self._ids:
            self._ids[key] = self.count(section)
            self.added[section].append(xml)
        return self._ids[key]

    def xf(
        self, font: int = 0, fill: int = 0, border: int = 0, number_format: int = 0, alignment: str = ""
    ) -> int:
        head = (
            f'<xf numFmtId="{number_format}" fontId="{font}" fillId="{fill}" borderId="{border}" xfId="0"'
            ' applyNumberFormat="1" applyFont="1" applyFill="1" applyBorder="1"'
        )
        if alignment:
            return self.add("cellXfs", f'{head} applyAlignment="1">{alignment}</xf>')
        return self.add("cellXfs", head + "/>")

    def _xf(self, index: int) -> ET.Element:
        return self._entry("cellXfs", index)

    def _entry(self, section: str, index: int) -> ET.Element:
        """Entry `index` of a list, the ones added here included (a copy sent back is cleaned, then
        marked: the marks clone the formats the cleaning made)."""
        existing = self.lists[section]
        count = 0 if existing is None else len(existing)
        if 0 <= index < count:
            return existing[index]  # type: ignore[index]
        if not 0 <= index - count < len(self.added[section]):
            raise Unsupported(f"{section} {index} out of range")
        xml = self.added[section][index - count]
        name_end = re.match(r"<[\w:]+", xml).end()  # type: ignore[union-attr]
        return ET.fromstring(f'{xml[:name_end]} xmlns="{MAIN_NS}"{xml[name_end:]}')

    def marked(self, index: int, fill: int, border: int, locked: bool = False) -> int:
        """A clone of cell format `index` with another fill and border, unlocked (the sheet may be
        protected, the unit must be able to fix the cell) unless restoring a locked cell's look."""
        xf = self._xf(index)
        attrs = {k: v for k, v in xf.attrib.items() if not k.startswith("{")}
        attrs.update(fillId=str(fill), borderId=str(border), applyFill="1", applyBorder="1")
        attrs["applyProtection"] = "1"
        children = []
        alignment = xf.find(_M + "alignment")
        if alignment is not None:
            children.append(_element("alignment", alignment.attrib))
        protection = xf.find(_M + "protection")
        hidden = protection.get("hidden") if protection is not None else None
        locking = {"locked": "1" if locked else "0", **({"hidden": hidden} if hidden else {})}
        children.append(_element("protection", locking))
        head = " ".join(f'{k}="{attr(v)}"' for k, v in attrs.items())
        return self.add("cellXfs", f"<xf {head}>{''.join(children)}</xf>")

    def look(self, index: int) -> tuple[str, str, int]:
        """Fill and border of cell format `index` as openpyxl writes them, and whether it is locked."""
        xf = self._xf(index)
        try:
            fill_id, border_id = int(xf.get("fillId", "0")), int(xf.get("borderId", "0"))
            fill, border = self._entry("fills", fill_id), self._entry("borders", border_id)
        except ValueError:
            raise Unsupported("fill or border out of range") from None
        key = (fill_id, border_id)
        if key not in self._looks:
            self._looks[key] = (
                tostring(Fill.from_tree(fill).to_tree()).decode("utf-8"),
                tostring(Border.from_tree(border).to_tree()).decode("utf-8"),
            )
        protection = xf.find(_M + "protection")
        locked = protection is None or protection.get("locked", "1") not in ("0", "false")
        return (*self._looks[key], 1 if locked else 0)

    def to_bytes(self) -> bytes:
        data = self.data
        edits = []
        for section in self.SECTIONS:
            added = "".join(self.added[section]).encode("utf-8")
            if not added:
                continue
            count = str(self.count(section)).encode()
            opening = re.search(rb"<" + section.encode() + rb"\b(" + _ATTRS + rb")(/?)>", data)
            if opening is None:  # dxfs only (the others were checked): before what follows it
                at = min((i for i in (data.find(t) for t in _AFTER_DXFS) if i >= 0), default=-1)
                if at < 0:
                    raise Unsupported("no place for dxfs")
                edits.append((at, at, b'<dxfs count="' + count + b'">' + added + b"</dxfs>"))
                continue
            attrs = _set_attr(opening.group(1), b"count", count)
            name = section.encode()
            if opening.group(2):  # <dxfs count="0"/>
                edits.append(
                    (opening.start(), opening.end(), b"<" + name + attrs + b">" + added + b"</" + name + b">")
                )
                continue
            end = data.find(b"</" + name + b">", opening.end())
            if end < 0:
                raise Unsupported(f"no end of {section}")
            edits.append((opening.start(), opening.end(), b"<" + name + attrs + b">"))
            edits.append((end, end, added))
        return _splice(data, edits)


def _element(name: str, attrs: dict[str, str]) -> str:
    head = "".join(f' {k}="{attr(v)}"' for k, v in attrs.items() if not k.startswith("{"))
    return f"<{name}{head}/>"


# ------------------------------------------------------------------------------------------------
# A worksheet with some cells re-styled


class Worksheet:
    """The XML of one worksheet, indexed just enough to re-style cells and add elements after sheetData."""

    def __init__(self, data: bytes) -> None:
        _root_is_main(data, b"worksheet")
        if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
            raise Unsupported("DOCTYPE")
        data = _explicit_references(data)
        self.data = data
        opening = re.search(rb"<sheetData\b" + _ATTRS + rb"(/?)>", data)
        if opening is None:
            raise Unsupported("no sheetData")
        self.head_end = opening.start()
        if opening.group(1):
            self.rows_start = self.rows_end = opening.end()
            self.tail_start = opening.end()
            self._empty_tag = (opening.start(), opening.end())
        else:
            self.rows_start = opening.end()
            self.rows_end = data.find(b"</sheetData>", self.rows_start)
            if self.rows_end < 0:
                raise Unsupported("no end of sheetData")
            self.tail_start = self.rows_end + len(b"</sheetData>")
            self._empty_tag = None
        self.children = _top_level(data, self.tail_start)
        names = {name for name, _ in self.children}
        self.has_legacy_drawing = b"legacyDrawing" in names
        self.merges = [
            (
                column_index_from_string(m.group(1).decode()),
                int(m.group(2)),
                column_index_from_string((m.group(3) or m.group(1)).decode()),
                int(m.group(4) or m.group(2)),
            )
            for m in _MERGE.finditer(data, self.tail_start)
        ]
        self._rows: dict[int, tuple[int, int, bytes, bool]] | None = None
        self.styles: dict[tuple[int, int], int] = {}  # (row, col) -> new s
        self.edits: list[tuple[int, int, bytes]] = []

    def anchor(self, row: int, col: int) -> tuple[int, int]:
        """Comments and colours go on the top-left cell of a merged range, the only one Excel shows."""
        for min_col, min_row, max_col, max_row in self.merges:
            if min_row <= row <= max_row and min_col <= col <= max_col:
                return min_row, min_col
        return row, col

    def _index_rows(self) -> dict[int, tuple[int, int, bytes, bool]]:
        """Row number -> (start, end, attributes, empty tag) of each row element."""
        if self._rows is None:
            rows = {}
            found = 0
            for match in _ROW_TAG.finditer(self.data, self.rows_start, self.rows_end):
                found += 1
                number = _R_ROW.search(match.group(1))
                if number is None:
                    raise Unsupported("a row without its number")
                if match.group(2):
                    end = match.end()
                else:
                    end = self.data.find(b"</row>", match.end(), self.rows_end)
                    if end < 0:
                        raise Unsupported("no end of row")
                    end += len(b"</row>")
                rows[int(number.group(1))] = (match.start(), end, match.group(1), bool(match.group(2)))
            if found != self.data.count(b"<row", self.rows_start, self.rows_end):
                raise Unsupported("unexpected row markup")
            self._rows = rows
        return self._rows

    @staticmethod
    def _cells(row: bytes) -> list[tuple[int, re.Match]]:
        """(column, start tag) of each cell in the text of one row."""
        cells = []
        for match in _CELL_TAG.finditer(row):
            ref = _R_CELL.search(match.group(1))
            if ref is None:
                raise Unsupported("a cell without its reference")
            cells.append((column_index_from_string(ref.group(1).decode()), match))
        if len(cells) != len(_CELL_START.findall(row)):
            raise Unsupported("unexpected cell markup")
        return cells

    def _column_styles(self) -> list[tuple[int, int, int]]:
        cols = []
        for match in _COL.finditer(self.data, 0, self.head_end):
            values = dict(re.findall(rb'\s(\w+)="([^"]*)"', match.group(1)))
            if b"style" in values:
                try:
                    cols.append((int(values[b"min"]), int(values[b"max"]), int(values[b"style"])))
                except (KeyError, ValueError):
                    raise Unsupported("col") from None
        return cols

    def style_of(self, row: int, col: int) -> int:
        """The cell format a cell shows: its own, else its row's, else its column's."""
        rows = self._index_rows()
        if row in rows:
            start, end, attrs, empty = rows[row]
            if not empty:
                for column, match in self._cells(self.data[start:end]):
                    if column == col:
                        found = _S_ATTR.search(match.group(1))
                        return int(found.group(1)) if found else 0
            row_style = _S_ATTR.search(attrs)
            if row_style and re.search(rb'\scustomFormat="(?:1|true)"', attrs):
                return int(row_style.group(1))
        for low, high, style in self._column_styles():
            if low <= col <= high:
                return style
        return 0

    def restyle(self, styles: dict[tuple[int, int], int]) -> None:
        """Give cells new formats, creating the cells (and rows) that do not exist yet."""
        rows = self._index_rows()
        by_row: dict[int, list[tuple[int, int]]] = {}
        for (row, col), style in sorted(styles.items()):
            by_row.setdefault(row, []).append((col, style))
        starts = sorted((number, start) for number, (start, _, _, _) in rows.items())
        missing: dict[int, list[bytes]] = {}  # offset -> new rows to insert there, in order
        for row, wanted in by_row.items():
            if row in rows:
                start, end, attrs, empty = rows[row]
                self.edits.append((start, end, _row_with(self.data[start:end], attrs, empty, row, wanted)))
                continue
            at = next((start for number, start in starts if number > row), self.rows_end)
            cells = b"".join(_new_cell(row, col, style) for col, style in wanted)
            missing.setdefault(at, []).append(b'<row r="%d">' % row + cells + b"</row>")
        if self._empty_tag is not None and missing:  # <sheetData/>: opened around the new rows
            start, end = self._empty_tag
            self.edits.append((start, end, b"<sheetData>" + b"".join(missing.pop(end)) + b"</sheetData>"))
        self.edits += [(at, at, b"".join(new_rows)) for at, new_rows in missing.items()]
        self._grow_dimension(styles)

    def _grow_dimension(self, styles: dict[tuple[int, int], int]) -> None:
        match = _DIMENSION.search(self.data, 0, self.head_end)
        if match is None or not styles:
            return
        ref = match.group(1).decode()
        bounds = _bounds(ref)
        rows = [row for row, _ in styles]
        cols = [col for _, col in styles]
        low_col, low_row, high_col, high_row = (
            bounds if bounds else (min(cols), min(rows), max(cols), max(rows))
        )
        new = (
            f"{get_column_letter(min(low_col, *cols))}{min(low_row, *rows)}:"
            f"{get_column_letter(max(high_col, *cols))}{max(high_row, *rows)}"
        )
        start, end = match.span(1)
        self.edits.append((start, end, new.encode()))

    def add_conditional_formats(self, blocks: Sequence[tuple[str, int, str]]) -> None:
        """(cells, dxf id, formula) rules ahead of the sheet's own, first in the file and in priority."""

        def priority(item: tuple[int, re.Match]) -> tuple[int, int]:
            found = _PRIORITY.search(item[1].group())
            return (int(found.group(1)) if found else 0, item[0])

        ranked = sorted(enumerate(_CF_RULE.finditer(self.data, self.tail_start)), key=priority)
        for rank, (_, match) in enumerate(ranked, len(blocks) + 1):
            tag = match.group()
            new = _PRIORITY.sub(lambda _, r=rank: b' priority="%d"' % r, tag, count=1)
            self.edits.append((match.start(), match.end(), new))
        xml = "".join(
            f'<conditionalFormatting sqref="{attr(cells)}"><cfRule type="expression" dxfId="{dxf}"'
            f' priority="{priority}"><formula>{text(formula)}</formula></cfRule></conditionalFormatting>'
            for priority, (cells, dxf, formula) in enumerate(blocks, 1)
        )
        existing = [offset for name, offset in self.children if name == b"conditionalFormatting"]
        at = existing[0] if existing else _insert_point(self.children, _AFTER_CONDITIONAL_FORMATTING)
        self.edits.append((at, at, xml.encode("utf-8")))

    def remove_rules(self, formulas: Sequence[bytes]) -> None:
        """Drop the conditional formats whose formula is one of `formulas` (as the XML may spell it);
        the others keep their order, priorities renumbered from 1."""
        removed: list[tuple[int, int]] = []
        for block in _CF_BLOCK.finditer(self.data, self.tail_start):
            rules = list(_CF_RULE_ELEMENT.finditer(block.group()))
            ours = [r for r in rules if any(b"<formula>" + f + b"</formula>" in r.group() for f in formulas)]
            if ours and len(ours) == len(rules):
                removed.append(block.span())
            else:
                removed += [(block.start() + r.start(), block.start() + r.end()) for r in ours]
        if not removed:
            return
        self.edits += [(start, end, b"") for start, end in removed]

        def priority(item: tuple[int, re.Match]) -> tuple[int, int]:
            found = _PRIORITY.search(item[1].group())
            return (int(found.group(1)) if found else 0, item[0])

        kept = [
            m
            for m in _CF_RULE.finditer(self.data, self.tail_start)
            if not any(start <= m.start() < end for start, end in removed)
        ]
        for rank, (_, match) in enumerate(sorted(enumerate(kept), key=priority), 1):
            new = _PRIORITY.sub(lambda _, r=rank: b' priority="%d"' % r, match.group(), count=1)
            self.edits.append((match.start(), match.end(), new))

    def drop_legacy_drawing(self) -> None:
        found = re.search(rb"<legacyDrawing\b" + _ATTRS + rb"/>", self.data[self.tail_start :])
        if found is not None:
            self.edits.append((self.tail_start + found.start(), self.tail_start + found.end(), b""))

    def add_legacy_drawing(self, rid: str) -> None:
        if self.has_legacy_drawing:
            raise Unsupported("a legacyDrawing already")
        at = _insert_point(self.children, _AFTER_LEGACY_DRAWING)
        xml = f'<legacyDrawing xmlns:r="{REL_NS}" r:id="{attr(rid)}"/>'
        self.edits.append((at, at, xml.encode()))

    def to_bytes(self) -> bytes:
        return _splice(self.data, self.edits)


_HAS_R = re.compile(rb"\sr\s*=")


def _explicit_references(data: bytes) -> bytes:
    """The sheet with an `r` on every row and cell of its data. A writer may leave them out (valid OOXML:
    a row without one is the next row, a cell the next column); marking finds cells by their reference,
    so they are written out first, where they are. A sheet with them all is returned as is."""
    start, end = data.find(b"<sheetData"), data.find(b"</sheetData>")
    if start < 0 or end < 0:
        return data
    rows = list(_ROW_TAG.finditer(data, start, end))
    cells = list(_CELL_TAG.finditer(data, start, end))
    if all(_HAS_R.search(m.group(1)) for m in rows) and all(_HAS_R.search(m.group(1)) for m in cells):
        return data
    edits = []
    number = 0
    for index, row in enumerate(rows):
        found = _R_ROW.search(row.group(1))
        if found is None and _HAS_R.search(row.group(1)):
            raise Unsupported("a row reference written oddly")
        number = int(found.group(1)) if found else number + 1
        if found is None:
            attrs = _set_attr(row.group(1), b"r", b"%d" % number)
            edits.append((row.start(), row.end(), b"<row" + attrs + row.group(2) + b">"))
        if row.group(2):
            continue
        row_end = rows[index + 1].start() if index + 1 < len(rows) else end
        column = 0
        for cell in _CELL_TAG.finditer(data, row.end(), row_end):
            ref = _R_CELL.search(cell.group(1))
            if ref is None and _HAS_R.search(cell.group(1)):
                raise Unsupported("a cell reference written oddly")
            if ref is not None and int(ref.group(2)) != number:
                raise Unsupported("a cell outside its row")
            column = column_index_from_string(ref.group(1).decode()) if ref else column + 1
            if ref is None:
                name = f"{get_column_letter(column)}{number}".encode()
                attrs = _set_attr(cell.group(1), b"r", name)
                edits.append((cell.start(), cell.end(), b"<c" + attrs + cell.group(2) + b">"))
    return _splice(data, edits)


def _row_with(row_xml: bytes, attrs: bytes, empty: bool, row: int, wanted: list[tuple[int, int]]) -> bytes:
    """One row's XML with the `wanted` (column, format) cells re-styled or created in column order."""
    cells = [] if empty else Worksheet._cells(row_xml)
    existing = dict(cells)
    edits = []
    for col, style in wanted:
        match = existing.get(col)
        if match is not None:
            tag_attrs = _set_attr(match.group(1), b"s", str(style).encode())
            end, body = match.end(), None
            if not match.group(2):
                end = row_xml.index(b"</c>", match.end()) + len(b"</c>")
                body = _not_a_number(tag_attrs, row_xml[match.end() : end - len(b"</c>")])
            if body is not None:  # kept as it was, the copy would not open: the text it meant, as text
                tag_attrs = _set_attr(tag_attrs, b"t", b"inlineStr")
                edits.append((match.start(), end, b"<c" + tag_attrs + b"><is><t>" + body + b"</t></is></c>"))
            else:
                edits.append(
                    (match.start(), match.end(), b"<c" + tag_attrs + (b"/>" if match.group(2) else b">"))
                )
            continue
        at = next((m.start() for column, m in cells if column > col), len(row_xml) - len(b"</row>"))
        edits.append((at, at, _new_cell(row, col, style)))
    if len(edits) == len([c for c, _ in wanted if c in existing]):
        return _splice(row_xml, edits)
    # `spans` is a hint of the row's first and last cells: a new cell may lie outside it.
    opening = b"<row" + _SPANS.sub(b"", attrs) + b">"
    if empty:  # <row r="5"/> becomes <row r="5">cells</row>
        return opening + b"".join(new for _, _, new in edits) + b"</row>"
    tag_end = row_xml.index(b">") + 1  # attrs hold no '>' (checked by the row pattern's quoting)
    return opening + _splice(row_xml, edits)[tag_end:]


_PLAIN_VALUE = re.compile(rb"\s*<v>([^<]*)</v>\s*")
_NUMBER = re.compile(rb"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")


def _not_a_number(attrs: bytes, content: bytes) -> bytes | None:
    """The escaped text of a number cell whose value is no number (`<v>abc</v>`, written by some
    generators; Excel repairs the file, openpyxl refuses it), else None."""
    kind = re.search(rb'\st="([^"]*)"', attrs)
    if kind is not None and kind.group(1) != b"n":
        return None
    value = _PLAIN_VALUE.fullmatch(content)
    if value is None or _NUMBER.fullmatch(value.group(1)):
        return None
    return value.group(1)  # already escaped as the XML held it


def _new_cell(row: int, col: int, style: int) -> bytes:
    return f'<c r="{get_column_letter(col)}{row}" s="{style}"/>'.encode()


def _bounds(ref: str) -> tuple[int, int, int, int] | None:
    match = re.fullmatch(r"\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?", ref)
    if match is None:
        return None
    low_col, low_row = column_index_from_string(match.group(1)), int(match.group(2))
    high_col = column_index_from_string(match.group(3)) if match.group(3) else low_col
    high_row = int(match.group(4)) if match.group(4) else low_row
    return low_col, low_row, high_col, high_row


# ------------------------------------------------------------------------------------------------
# Comments


def vml_xml(first_block: int, comments: Sequence[tuple[int, int, int, int]]) -> tuple[bytes, int]:
    """The note shapes of (row, col, width px, height px) comments; shape ids from block `first_block`
    (1,024 each, unique across the workbook). Returns the VML and the next free block."""
    blocks = len(comments) // 1024 + 1
    data = ",".join(str(b) for b in range(first_block, first_block + blocks))
    xml = (
        '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel">'
        f'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{data}"/></o:shapelayout>'
        '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
        '<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
    )
    return xml.encode("utf-8") + vml_shapes(first_block, comments) + b"</xml>", first_block + blocks


def vml_shapes(first_block: int, comments: Sequence[tuple[int, int, int, int]]) -> bytes:
    """The note shapes alone (for a drawing that has its shape layout and note shape type already)."""
    shapes = "".join(
        f'<v:shape id="_x0000_s{first_block * 1024 + 1 + number}" type="#_x0000_t202" '
        f'style="position:absolute;margin-left:59.25pt;margin-top:1.5pt;width:{width}px;height:{height}px;'
        f'z-index:{number + 1};visibility:hidden" fillcolor="#ffffe1" o:insetmode="auto">'
        '<v:fill color2="#ffffe1"/><v:shadow color="black" obscured="t"/><v:path o:connecttype="none"/>'
        '<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div></v:textbox>'
        '<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/><x:AutoFill>False</x:AutoFill>'
        f"<x:Row>{row - 1}</x:Row><x:Column>{col - 1}</x:Column></x:ClientData></v:shape>"
        for number, (row, col, width, height) in enumerate(comments)
    )
    return shapes.encode("utf-8")


# ------------------------------------------------------------------------------------------------
# New sheets


@dataclass
class NewSheet:
    """A small sheet written as XML: titles, tables of findings, the restore log."""

    widths: Sequence[float] = ()
    rows: list[tuple[int, float | None, list[tuple[int, object, int]]]] = field(default_factory=list)
    merges: list[str] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (cell, location inside the workbook)
    freeze_row: int | None = None  # rows above this one stay in view
    tab_color: str | None = None
    landscape_fit_width: bool = False
    centred: bool = False
    margins: tuple[float, float] = (0.75, 0.75)  # left, right
    protected: bool = False

    def to_bytes(self, selected: bool) -> bytes:
        out = [f'<worksheet xmlns="{MAIN_NS}">']
        props = ""
        if self.tab_color:
            props += f'<tabColor rgb="{attr(self.tab_color)}"/>'
        if self.landscape_fit_width:
            props += '<pageSetUpPr fitToPage="1"/>'
        if props:
            out.append(f"<sheetPr>{props}</sheetPr>")
        cells = [(row, col) for row, _, line in self.rows for col, _, _ in line]
        if cells:
            last = f"{get_column_letter(max(c for _, c in cells))}{max(r for r, _ in cells)}"
            out.append(f'<dimension ref="A1:{last}"/>')
        view = (
            '<sheetView tabSelected="1" workbookViewId="0"' if selected else '<sheetView workbookViewId="0"'
        )
        if self.freeze_row:
            top = f"A{self.freeze_row + 1}"
            view += (
                f'><pane ySplit="{self.freeze_row}" topLeftCell="{top}" activePane="bottomLeft"'
                f' state="frozen"/><selection pane="bottomLeft" activeCell="{top}" sqref="{top}"/>'
                "</sheetView>"
            )
        else:
            view += "/>"
        out.append(f'<sheetViews>{view}</sheetViews><sheetFormatPr baseColWidth="8" defaultRowHeight="15"/>')
        if self.widths:
            cols = "".join(
                f'<col min="{i}" max="{i}" width="{w:.16g}" customWidth="1"/>'
                for i, w in enumerate(self.widths, 1)
            )
            out.append(f"<cols>{cols}</cols>")
        out.append("<sheetData>")
        for row, height, line in self.rows:
            size = f' ht="{height:.16g}" customHeight="1"' if height is not None else ""
            out.append(f'<row r="{row}"{size}>')
            for col, value, style in line:
                out.append(_cell(f"{get_column_letter(col)}{row}", value, style))
            out.append("</row>")
        out.append("</sheetData>")
        if self.protected:
            out.append('<sheetProtection sheet="1" objects="1" scenarios="1"/>')
        if self.merges:
            merged = "".join(f'<mergeCell ref="{m}"/>' for m in self.merges)
            out.append(f'<mergeCells count="{len(self.merges)}">{merged}</mergeCells>')
        if self.links:
            links = "".join(f'<hyperlink ref="{ref}" location="{attr(where)}"/>' for ref, where in self.links)
            out.append(f"<hyperlinks>{links}</hyperlinks>")
        if self.centred:
            out.append('<printOptions horizontalCentered="1"/>')
        left, right = self.margins
        out.append(
            f'<pageMargins left="{left}" right="{right}" top="1" bottom="1" header="0.5" footer="0.5"/>'
        )
        if self.landscape_fit_width:
            out.append('<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>')
        out.append("</worksheet>")
        return XML_HEAD + "".join(out).encode("utf-8", "replace")


@dataclass(frozen=True)
class Formula:
    """A formula cell never calculated (no cached value), as a unit's file held it: found again on reading."""

    text: str  # without the leading "="


@dataclass(frozen=True)
class ErrorValue:
    """An error result (#DIV/0!, #N/A...) as a unit's file held it."""

    text: str


def _cell(ref: str, value: object, style: int) -> str:
    s = f' s="{style}"' if style else ""
    if value is None:
        return f'<c r="{ref}"{s}/>'
    if isinstance(value, Formula):
        return f'<c r="{ref}"{s}><f>{text(value.text)}</f></c>'
    if isinstance(value, ErrorValue):
        return f'<c r="{ref}"{s} t="e"><v>{text(value.text)}</v></c>'
    if isinstance(value, str):  # inline text: a unit's "=1+1" stays text
        return f'<c r="{ref}"{s} t="inlineStr"><is>{_t(value)}</is></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"{s}><v>{value!r}</v></c>'
    raise TypeError(type(value))


def add_sheet(pkg: Package, name: str, xml: bytes, *, first: bool, state: str = "visible") -> str:
    """Add a worksheet as the first or the last sheet; returns its part name. A name the workbook already
    has in another case gets a number (Excel compares sheet names case-insensitively and repairs a file
    with two "the same")."""
    sheets = pkg.sheets()
    taken = {s.name.casefold() for s in sheets}
    name = next(
        candidate
        for candidate in itertools.chain([name], (f"{name} ({n})" for n in itertools.count(2)))
        if candidate.casefold() not in taken
    )
    part = pkg.unused("xl/worksheets/sheet{}.xml")
    pkg.add_part(part, xml, CT_WORKSHEET)
    rid = pkg.add_rel(pkg.workbook, RT_WORKSHEET, part)
    sheet_id = max((s.sheet_id for s in sheets), default=0) + 1
    state_attr = f' state="{state}"' if state != "visible" else ""
    element = (
        f'<sheet xmlns:r="{REL_NS}" name="{attr(name)}" sheetId="{sheet_id}"{state_attr} r:id="{rid}"/>'
    ).encode()
    data = pkg.read(pkg.workbook)
    opening = re.search(rb"<sheets\b" + _ATTRS + rb"(/?)>", data)
    if opening is None:
        raise Unsupported("no sheets element")
    if opening.group(1):
        data = _splice(data, [(opening.start(), opening.end(), b"<sheets>" + element + b"</sheets>")])
    elif first:
        data = _splice(data, [(opening.end(), opening.end(), element)])
    else:
        end = data.find(b"</sheets>", opening.end())
        data = _splice(data, [(end, end, element)])
    if first:
        data = _shift_local_sheet_ids(data)
    pkg.write(pkg.workbook, data)
    entry = SheetEntry(name, sheet_id, state, part)
    sheets.insert(0, entry) if first else sheets.append(entry)
    return part


def _shift_local_sheet_ids(data: bytes, removed: int | None = None) -> bytes:
    """Defined names local to a sheet name it by position: one more sheet in front moves them all; a
    sheet `removed` takes its own names along and moves the ones after it back."""
    start = data.find(b"<definedNames")
    if start < 0:
        return data
    end = data.find(b"</definedNames>", start)
    if end < 0:
        return data

    def shifted(match: re.Match) -> bytes:
        position = int(match.group(2))
        if removed is None:
            return match.group(1) + str(position + 1).encode() + b'"'
        return match.group(1) + str(position - (position > removed)).encode() + b'"'

    names = data[start:end]
    if removed is not None:
        own = rb'<definedName\b[^>]*\slocalSheetId="%d"[^>]*(?:/>|>[^<]*</definedName>)' % removed
        names = re.sub(own, b"", names)
    names = re.sub(rb'(<definedName\b[^>]*\slocalSheetId=")(\d+)"', shifted, names)
    return data[:start] + names + data[end:]


def remove_sheet(pkg: Package, name: str) -> None:
    """Remove a worksheet, its part, its relationship, the names local to it and the calculation chain
    (it may name the sheet's cells; Excel rebuilds it)."""
    sheets = pkg.sheets()
    position = next(i for i, sheet in enumerate(sheets) if sheet.name == name)
    data = pkg.read(pkg.workbook)
    element = next(
        (m for m in _SHEET_TAG.finditer(data) if _unescaped_attr(m.group(1), b"name") == name), None
    )
    if element is None:
        raise Unsupported("sheet element")
    data = _shift_local_sheet_ids(_splice(data, [(element.start(), element.end(), b"")]), removed=position)
    pkg.write(pkg.workbook, data)
    rid = _unescaped_attr(element.group(1), b"r:id")
    for rel in pkg.drop_rels(pkg.workbook, lambda r: r.id == rid or r.type == RT_CALC_CHAIN):
        if not rel.external:
            pkg.remove(rel.target)
    del sheets[position]


def _unescaped_attr(attrs: bytes, name: bytes) -> str | None:
    found = re.search(rb"\s" + re.escape(name) + rb'="([^"]*)"', attrs)
    if found is None:
        return None
    from html import unescape

    return unescape(found.group(1).decode("utf-8", "replace"))


def add_defined_name(pkg: Package, name: str, local_sheet: int, value: str) -> None:
    data = pkg.read(pkg.workbook)
    element = (
        f'<definedName name="{attr(name)}" localSheetId="{local_sheet}">{text(value)}</definedName>'.encode()
    )
    opening = re.search(rb"<definedNames\b" + _ATTRS + rb"(/?)>", data)
    if opening is not None and opening.group(1):
        data = _splice(
            data, [(opening.start(), opening.end(), b"<definedNames>" + element + b"</definedNames>")]
        )
    elif opening is not None:
        data = _splice(data, [(opening.end(), opening.end(), element)])
    else:
        sheets_end = data.find(b"</sheets>")
        if sheets_end < 0:
            raise Unsupported("no sheets element")
        at = _insert_point(_top_level(data, sheets_end + len(b"</sheets>")), _AFTER_DEFINED_NAMES)
        data = _splice(data, [(at, at, b"<definedNames>" + element + b"</definedNames>")])
    pkg.write(pkg.workbook, data)


def select_first_sheet(pkg: Package, skip: Iterable[str] = ()) -> None:
    """The first sheet is the one open and selected; every other sheet's tab is unselected."""
    data = pkg.read(pkg.workbook)
    view = re.search(rb"<workbookView\b(" + _ATTRS + rb")(/?)>", data)
    if view is not None:
        attrs = _set_attr(_drop_attr(view.group(1), b"firstSheet"), b"activeTab", b"0")
        data = _splice(data, [(view.start(1), view.end(1), attrs)])
        pkg.write(pkg.workbook, data)
    skip = set(skip)
    # Chart sheets too: Excel opens every selected tab as one group with the findings sheet.
    charts = [r.target for r in pkg.rels(pkg.workbook) if r.type == RT_CHARTSHEET and not r.external]
    for part in [sheet.part for sheet in pkg.sheets() if sheet.part is not None] + charts:
        if part in skip or pkg.name_of(part) is None:
            continue
        xml = pkg.read(part)
        if _TAB_SELECTED.search(xml):
            pkg.write(part, _TAB_SELECTED.sub(b' tabSelected="0"', xml))


# ------------------------------------------------------------------------------------------------
# Document properties


def set_core_properties(pkg: Package, modified: str, last_modified_by: str) -> None:
    cores = [r.target for r in pkg.rels("") if r.type == RT_CORE and not r.external]
    if len(cores) != 1 or pkg.name_of(cores[0]) is None:
        return  # a workbook without properties keeps having none
    data = pkg.read(cores[0])
    end = data.rfind(b"</cp:coreProperties>")
    if end < 0 or b"<!DOCTYPE" in data:
        return  # another prefix: left as the unit sent it
    stamp = modified.encode()
    if re.search(rb"<dcterms:modified\b[^>]*>[^<]*</dcterms:modified>", data):
        data = re.sub(
            rb"(<dcterms:modified\b[^>]*>)[^<]*(</dcterms:modified>)",
            lambda m: m.group(1) + stamp + m.group(2),
            data,
        )
    else:
        data = data[:end] + _modified_element(stamp) + data[end:]
    end = data.rfind(b"</cp:coreProperties>")  # the new stamp need not be as long as the old one
    who = text(last_modified_by).encode("utf-8")
    pattern = re.compile(rb"<cp:lastModifiedBy\s*/>|<cp:lastModifiedBy>[^<]*</cp:lastModifiedBy>")
    element = b"<cp:lastModifiedBy>" + who + b"</cp:lastModifiedBy>"
    if pattern.search(data):
        data = pattern.sub(lambda _: element, data, count=1)
    else:
        data = data[:end] + element + data[end:]
    pkg.write(cores[0], data)


def _modified_element(stamp: bytes) -> bytes:
    return (
        b'<dcterms:modified xmlns:dcterms="http://purl.org/dc/terms/" '
        b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="dcterms:W3CDTF">'
        + stamp
        + b"</dcterms:modified>"
    )


# The Vietnamese date formats of a package made by empty_package (Excel's built-in 14 follows the locale).
DATE_FORMAT, DATE_TIME_FORMAT = 164, 165
_EMPTY_STYLES = (
    f'<styleSheet xmlns="{MAIN_NS}"><numFmts count="2"><numFmt numFmtId="{DATE_FORMAT}" '
    f'formatCode="dd/mm/yyyy"/><numFmt numFmtId="{DATE_TIME_FORMAT}" formatCode="dd/mm/yyyy hh:mm"/>'
    '</numFmts><fonts count="1"><font><sz val="11"/><name val="Calibri"/>'
    '<family val="2"/></font></fonts><fills count="2"><fill><patternFill/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/>'
    '<top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" '
    'fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
    'borderId="0" xfId="0"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" '
    'builtinId="0"/></cellStyles></styleSheet>'
)


def empty_package(author: str, created: str) -> Package:
    """A workbook without sheets (add at least one): for a file that could not be opened."""
    pkg = Package()
    types = (
        f'<Types xmlns="{CT_NS}"><Default Extension="rels" ContentType="{CT_RELS}"/>'
        f'<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{CT_WORKBOOK}"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{CT_STYLES}"/>'
        f'<Override PartName="/docProps/core.xml" ContentType="{CT_CORE}"/>'
        f'<Override PartName="/docProps/app.xml" ContentType="{CT_APP}"/></Types>'
    )
    root_rels = (
        f'<Relationships xmlns="{PKG_REL_NS}">'
        f'<Relationship Id="rId1" Type="{RT_OFFICE_DOCUMENT}" Target="xl/workbook.xml"/>'
        f'<Relationship Id="rId2" Type="{RT_CORE}" Target="docProps/core.xml"/>'
        f'<Relationship Id="rId3" Type="{RT_APP}" Target="docProps/app.xml"/></Relationships>'
    )
    who = text(author)
    core = (
        "<cp:coreProperties"
        ' xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:creator>{who}</dc:creator><cp:lastModifiedBy>{who}</cp:lastModifiedBy>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{created}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{created}</dcterms:modified></cp:coreProperties>'
    )
    app = (
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        "<Application>Microsoft Excel</Application></Properties>"
    )
    workbook = (
        f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><workbookPr/>'
        '<bookViews><workbookView activeTab="0"/></bookViews><sheets/><calcPr calcId="191029"/></workbook>'
    )
    workbook_rels = (
        f'<Relationships xmlns="{PKG_REL_NS}">'
        f'<Relationship Id="rId1" Type="{RT_STYLES}" Target="styles.xml"/></Relationships>'
    )
    for part, xml in (
        ("[Content_Types].xml", types),
        ("_rels/.rels", root_rels),
        ("docProps/app.xml", app),
        ("docProps/core.xml", core),
        ("xl/workbook.xml", workbook),
        ("xl/_rels/workbook.xml.rels", workbook_rels),
        ("xl/styles.xml", _EMPTY_STYLES),
    ):
        pkg.write(part, XML_HEAD + xml.encode("utf-8"))
    return pkg


# ------------------------------------------------------------------------------------------------
# Marking findings


@dataclass(frozen=True)
class MarkStyle:
    """How a finding's cell is marked: `<fill>`, `<border>` and the conditional format's `<dxf>`."""

    fill: str
    border: str
    dxf: str


@dataclass
class Marks:
    """What marking a workbook's findings did."""

    located: dict[int, str]  # finding index -> the cell its comment and link went to
    # (sheet, cell, fill, border, locked[, note, its author]) of each marked cell before marking
    originals: list[tuple]


@dataclass
class _Plan:
    """Where each finding goes: the sheets opened, the anchor cell of each finding, the cells to colour."""

    sheets: dict[str, tuple[str, Worksheet]] = field(default_factory=dict)  # name -> (part, XML)
    located: dict[int, str] = field(default_factory=dict)
    per_cell: dict[tuple[str, tuple[int, int]], list] = field(default_factory=dict)
    marks: dict[str, dict[tuple[int, int], bool]] = field(default_factory=dict)  # sheet -> cell -> error
    order: list[tuple[str, tuple[int, int]]] = field(default_factory=list)


def mark_findings(
    pkg: Package,
    findings: Sequence,
    refs: Sequence[tuple[int, int, int, int] | None],
    styles: dict[bool, MarkStyle],
    *,
    formula: str,
    author: str,
    comment: Callable[[list], str],
    comment_size: Callable[[str], tuple[int, int]],
    max_cells: int,
    keep_note: Callable[[str, str], str] = lambda ours, theirs: ours,
) -> Marks:
    """Colour, unlock and comment the cells of each finding; `refs[i]` is finding i's
    (min_col, min_row, max_col, max_row) or None. Keys of `styles`: is an error. A note already on a
    cell becomes `keep_note(ours, its text)`."""
    from processor.render.notes import SheetNotes

    plan = _plan(pkg, findings, refs, max_cells)
    if not plan.marks:
        return Marks(plan.located, [])
    notes = {name: SheetNotes(pkg, part, ws) for name, (part, ws) in plan.sheets.items()}
    bases = {key: plan.sheets[key[0]][1].style_of(*key[1]) for key in plan.order}
    originals = [_original(pkg.styles, bases[key], key, notes[key[0]]) for key in plan.order]
    _colour(pkg.styles, plan, bases, styles, formula)
    _add_notes(pkg, plan, notes, author, comment, comment_size, keep_note)
    for part, ws in plan.sheets.values():
        if ws.edits:
            pkg.write(part, ws.to_bytes())
    return Marks(plan.located, originals)


def _plan(pkg: Package, findings: Sequence, refs: Sequence, max_cells: int) -> _Plan:
    by_name = {sheet.name: sheet for sheet in pkg.sheets()}
    plan = _Plan()
    for index, (finding, ref) in enumerate(zip(findings, refs, strict=True)):
        entry = by_name.get(finding.sheet)
        if ref is None or entry is None or entry.part is None:  # not a sheet of cells (a chart)
            continue
        if finding.sheet not in plan.sheets:
            plan.sheets[finding.sheet] = (entry.part, Worksheet(pkg.read(entry.part)))
        ws = plan.sheets[finding.sheet][1]
        min_col, min_row, max_col, max_row = ref
        anchor = ws.anchor(min_row, min_col)
        plan.located[index] = _ref(anchor)
        plan.per_cell.setdefault((finding.sheet, anchor), []).append(finding)
        sheet_marks = plan.marks.setdefault(finding.sheet, {})
        cells = itertools.product(range(min_row, max_row + 1), range(min_col, max_col + 1))
        for row, col in itertools.islice(cells, max_cells):
            target = ws.anchor(row, col)
            if target not in sheet_marks:
                plan.order.append((finding.sheet, target))
            sheet_marks[target] = sheet_marks.get(target, False) or finding.is_error
    return plan


def _original(book: Styles, base: int, key: tuple[str, tuple[int, int]], notes) -> tuple:
    sheet, cell = key
    look = (sheet, _ref(cell), *book.look(base))
    note = notes.notes.get(cell)
    return look if note is None else (*look, note.text, note.author)


def _colour(book: Styles, plan: _Plan, bases: dict, styles: dict[bool, MarkStyle], formula: str) -> None:
    used = {error for sheet_marks in plan.marks.values() for error in sheet_marks.values()}
    fills = {error: book.add("fills", styles[error].fill) for error in used}
    borders = {error: book.add("borders", styles[error].border) for error in used}
    dxfs = {error: book.add("dxfs", styles[error].dxf) for error in used}
    for sheet, sheet_marks in plan.marks.items():
        ws = plan.sheets[sheet][1]
        ws.restyle(
            {
                cell: book.marked(bases[(sheet, cell)], fills[error], borders[error])
                for cell, error in sheet_marks.items()
            }
        )
        blocks = []
        for error in (True, False):
            cells = sorted(cell for cell, e in sheet_marks.items() if e is error)
            if cells:
                blocks.append((" ".join(_ref(cell) for cell in cells), dxfs[error], formula))
        ws.add_conditional_formats(blocks)


def _add_notes(pkg: Package, plan: _Plan, notes: dict, author: str, comment, comment_size, keep_note) -> None:
    from processor.render.notes import used_vml_blocks

    block = used_vml_blocks(pkg) + 1
    for sheet in (s.name for s in pkg.sheets() if s.name in plan.sheets):
        sheet_notes = notes[sheet]
        for (name, cell), on in sorted(plan.per_cell.items()):
            if name != sheet or cell in sheet_notes.threaded:  # Excel shows the thread, not a note
                continue
            body = comment(on)
            existing = sheet_notes.notes.get(cell)
            if existing is not None and existing.author != author:
                body = keep_note(body, existing.text)
            sheet_notes.put(*cell, author, body)
        block = sheet_notes.save(comment_size, block)


def _ref(cell: tuple[int, int]) -> str:
    return f"{get_column_letter(cell[1])}{cell[0]}"
