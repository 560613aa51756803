"""A worksheet's comments (notes), patched at the package level: the unit's own are kept as they are.

Excel shows a note only with its VML shape, so a sheet's notes live in two parts: the comments part
(authors, then one `<comment ref=...>` per cell) and the VML drawing its `legacyDrawing` names, which may
also hold form controls. Both are kept as text and only the comments and shapes that change are
rewritten: the unit's rich text, controls and shapes stay byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import unescape

from openpyxl.utils import column_index_from_string, get_column_letter

from processor.render import annotate
from processor.render.annotate import (
    CT_COMMENTS,
    CT_VML,
    MAIN_NS,
    REL_NS,
    RT_COMMENTS,
    RT_VML,
    XML_HEAD,
    Package,
    Unsupported,
    Worksheet,
)

_COMMENT = re.compile(rb"<comment\b(" + annotate._ATTRS + rb")(?:/>|>(.*?)</comment>)", re.S)
_REF = re.compile(rb'\sref="\$?([A-Z]{1,3})\$?(\d+)"')
_AUTHOR_ID = re.compile(rb'\sauthorId="(\d+)"')
_AUTHOR = re.compile(rb"<author\s*/>|<author>(.*?)</author>", re.S)
_T = re.compile(rb"<t(?:\s[^>]*)?>(.*?)</t>|<t\s*/>", re.S)
_SHAPE = re.compile(rb"<v:shape\b(" + annotate._ATTRS + rb")>(.*?)</v:shape>", re.S)
_NOTE = re.compile(rb'<x:ClientData\b[^>]*ObjectType="Note"')
_ROW = re.compile(rb"<x:Row>\s*(\d+)\s*</x:Row>")
_COLUMN = re.compile(rb"<x:Column>\s*(\d+)\s*</x:Column>")
_IDMAP = re.compile(rb'(<o:idmap\b[^>]*\sdata=")([^"]*)(")')
_SHAPE_ID = re.compile(rb'\sid="_x0000_s(\d+)"')
_VML_NS = {
    b"v": b"urn:schemas-microsoft-com:vml",
    b"o": b"urn:schemas-microsoft-com:office:office",
    b"x": b"urn:schemas-microsoft-com:office:excel",
}
NOTE_SHAPE_TYPE = (
    b'<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
    b'<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
)


@dataclass
class Note:
    """One comment: where, who, its plain text, and its XML as the unit's file held it (None: ours)."""

    row: int
    col: int
    author: str
    text: str
    raw: bytes | None = None


def used_vml_blocks(pkg: Package) -> int:
    """The highest VML shape block (1,024 shape ids each) any drawing of the workbook uses: Excel wants
    shape ids unique across the workbook, so ours start above it."""
    highest = 0
    for name in pkg.part_names():
        if pkg.content_type(name) != CT_VML and not name.lower().endswith(".vml"):
            continue
        data = pkg.read(name)
        for match in _IDMAP.finditer(data):
            highest = max([highest, *(int(n) for n in re.findall(rb"\d+", match.group(2)))])
        for match in _SHAPE_ID.finditer(data):
            highest = max(highest, int(match.group(1)) // 1024)
    return highest


class SheetNotes:
    """The notes of one worksheet: read from its comments part, changed, and written back with their
    VML shapes (`save`)."""

    def __init__(self, pkg: Package, sheet_part: str, sheet: Worksheet) -> None:
        self.pkg, self.sheet_part, self.sheet = pkg, sheet_part, sheet
        rels = [r for r in pkg.rels(sheet_part) if not r.external]
        comments = [r for r in rels if r.type == RT_COMMENTS]
        if len(comments) > 1:
            raise Unsupported("two comments parts on one sheet")
        self.comments_part = comments[0].target if comments else None
        self.vml_part = self._legacy_drawing(rels)
        self.head = f'<comments xmlns="{MAIN_NS}">'.encode()
        self.tail = b""
        self.authors: list[str] = []
        self.notes: dict[tuple[int, int], Note] = {}
        self.changed: set[tuple[int, int]] = set()  # cells whose shape is rewritten (or removed)
        self.threaded = self._threaded(rels)  # cells with a modern (threaded) comment: left alone
        if self.comments_part is not None and pkg.name_of(self.comments_part) is not None:
            self._read(pkg.read(self.comments_part))

    def _threaded(self, rels) -> set[tuple[int, int]]:
        cells = set()
        for rel in rels:
            if rel.type.endswith("/threadedComment") and self.pkg.name_of(rel.target) is not None:
                for match in _REF.finditer(self.pkg.read(rel.target)):
                    cells.add((int(match.group(2)), column_index_from_string(match.group(1).decode())))
        return cells

    def _legacy_drawing(self, rels) -> str | None:
        found = re.search(rb'<legacyDrawing\b[^>]*\sr:id="([^"]*)"', self.sheet.data[self.sheet.tail_start :])
        if found is None:
            return None
        if not self.sheet.data.count(b'xmlns:r="' + REL_NS.encode() + b'"'):
            raise Unsupported("legacyDrawing with another prefix")
        rid = found.group(1).decode()
        target = next((r for r in rels if r.id == rid and r.type == RT_VML), None)
        if target is None or self.pkg.name_of(target.target) is None:
            raise Unsupported("legacyDrawing without its part")
        return target.target

    def _read(self, data: bytes) -> None:
        annotate._root_is_main(data, b"comments")
        annotate._parse(data)  # well-formed, no DOCTYPE
        opening = re.search(rb"<comments\b" + annotate._ATTRS + rb">", data)
        self.head = opening.group()  # keeps the unit's namespace declarations (xr:uid...)
        authors_end = data.find(b"</authors>")
        if authors_end >= 0:
            start = data.find(b"<authors", opening.end())
            self.authors = [_plain(m.group(1) or b"") for m in _AUTHOR.finditer(data, start, authors_end)]
        list_end = data.find(b"</commentList>")
        if list_end >= 0:
            self.tail = data[list_end + len(b"</commentList>") : data.rfind(b"</comments>")]
        for match in _COMMENT.finditer(data):
            ref = _REF.search(match.group(1))
            author = _AUTHOR_ID.search(match.group(1))
            if ref is None:
                raise Unsupported("a comment without its cell")
            cell = (int(ref.group(2)), column_index_from_string(ref.group(1).decode()))
            index = int(author.group(1)) if author else 0
            name = self.authors[index] if index < len(self.authors) else ""
            body = "".join(_plain(t.group(1) or b"") for t in _T.finditer(match.group(2) or b""))
            self.notes[cell] = Note(*cell, name, body, match.group())

    def remove(self, cell: tuple[int, int]) -> Note | None:
        note = self.notes.pop(cell, None)
        if note is not None:
            self.changed.add(cell)
        return note

    def put(self, row: int, col: int, author: str, body: str) -> None:
        self.notes[(row, col)] = Note(row, col, author, body)
        self.changed.add((row, col))

    # -- writing

    def save(self, sizes: Callable[[str], tuple[int, int]], block: int) -> int:
        """Write the comments part and the VML shapes of what changed; returns the next free shape block."""
        if not self.changed:
            return block
        ours = [note for cell, note in sorted(self.notes.items()) if note.raw is None]
        vml, block = self._vml(ours, sizes, block)
        if not self.notes:
            self._drop_comments_part()
        else:
            self._write_comments()
        if vml is not None:
            if self.vml_part is None:
                number = next(n for n in range(1, 100000) if self.pkg.name_of(self._vml_name(n)) is None)
                self.vml_part = self._vml_name(number)
                self.pkg.add_part(self.vml_part, vml, CT_VML)
                self.sheet.add_legacy_drawing(self.pkg.add_rel(self.sheet_part, RT_VML, self.vml_part))
            else:
                self.pkg.write(self.vml_part, vml)
        return block

    @staticmethod
    def _vml_name(number: int) -> str:
        return f"xl/drawings/vmlDrawing{number}.vml"

    def _write_comments(self) -> None:
        authors = list(self.authors)
        items = []
        for (row, col), note in sorted(self.notes.items()):
            if note.raw is not None:
                items.append(note.raw)
                continue
            if note.author not in authors:
                authors.append(note.author)
            items.append(
                f'<comment ref="{get_column_letter(col)}{row}" authorId="{authors.index(note.author)}">'
                f"<text>{annotate._t(note.text)}</text></comment>".encode()
            )
        names = "".join(f"<author>{annotate.text(a)}</author>" for a in authors).encode()
        xml = (
            XML_HEAD + self.head + b"<authors>" + names + b"</authors><commentList>" + b"".join(items)
            + b"</commentList>" + self.tail + b"</comments>"
        )  # fmt: skip
        if self.comments_part is None:
            number = next(n for n in range(1, 100000) if self.pkg.name_of(f"xl/comments{n}.xml") is None)
            self.comments_part = f"xl/comments{number}.xml"
            self.pkg.add_part(self.comments_part, xml, CT_COMMENTS)
            self.pkg.add_rel(self.sheet_part, RT_COMMENTS, self.comments_part)
        else:
            self.pkg.write(self.comments_part, xml)

    def _drop_comments_part(self) -> None:
        if self.comments_part is not None:
            self.pkg.remove(self.comments_part)
            self.pkg.drop_rels(self.sheet_part, lambda r: r.type == RT_COMMENTS)
            self.comments_part = None

    def _vml(
        self, ours: Sequence[Note], sizes: Callable[[str], tuple[int, int]], block: int
    ) -> tuple[bytes | None, int]:
        shapes = [(n.row, n.col, *sizes(n.text)) for n in ours]
        if self.vml_part is None:
            if not shapes:
                return None, block
            return annotate.vml_xml(block, shapes)
        data = self.pkg.read(self.vml_part)
        if _notes_only(data):  # as openpyxl or LibreOffice write it (any prefixes): drawn again, whole
            every = [(n.row, n.col, *sizes(n.text)) for _, n in sorted(self.notes.items())]
            if not every:
                self._drop_vml()
                return None, block
            return annotate.vml_xml(block, every)
        _check_vml_prefixes(data)  # form controls beside the notes: Excel's own VML, patched
        gone = {(row - 1, col - 1) for row, col in self.changed}
        removals = []
        for match in _SHAPE.finditer(data):
            body = match.group(2)
            row, col = _ROW.search(body), _COLUMN.search(body)
            if _NOTE.search(body) and row and col and (int(row.group(1)), int(col.group(1))) in gone:
                removals.append((match.start(), match.end(), b""))
        if not shapes and len(removals) == len(_SHAPE.findall(data)) and not _other_shapes(data):
            self._drop_vml()
            return None, block
        edits = removals
        if shapes:
            new = annotate.vml_shapes(block, shapes)
            if b'id="_x0000_t202"' not in data:
                new = NOTE_SHAPE_TYPE + new
            end = data.rfind(b"</xml>")
            if end < 0:
                raise Unsupported("VML without its end")
            edits.append((end, end, new))
            idmap = _IDMAP.search(data)
            blocks = len(shapes) // 1024 + 1
            listed = ",".join(str(b) for b in range(block, block + blocks)).encode()
            if idmap is not None:
                joined = idmap.group(2) + b"," + listed if idmap.group(2).strip() else listed
                edits.append((idmap.start(2), idmap.end(2), joined))
            else:
                opening = re.search(rb"<xml\b" + annotate._ATTRS + rb">", data)
                if opening is None:
                    raise Unsupported("VML without its root")
                layout = b'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="' + listed
                edits.append((opening.end(), opening.end(), layout + b'"/></o:shapelayout>'))
            block += blocks
        return annotate._splice(data, edits), block

    def _drop_vml(self) -> None:
        """No shape left: the drawing, its relationship and the sheet's `legacyDrawing` go."""
        self.pkg.remove(self.vml_part)
        self.pkg.drop_rels(self.sheet_part, lambda r: r.type == RT_VML and r.target == self.vml_part)
        self.sheet.drop_legacy_drawing()
        self.vml_part = None


def _notes_only(data: bytes) -> bool:
    """Whether a drawing holds nothing but note shapes (and their layout and type)."""
    try:
        root = annotate._parse(data)
    except Unsupported:
        return False
    for child in root:
        name = child.tag.rsplit("}", 1)[-1]
        if name in ("shapelayout", "shapetype"):
            continue
        data_ = next((e for e in child if e.tag == "{" + _VML_NS[b"x"].decode() + "}ClientData"), None)
        if name != "shape" or data_ is None or data_.get("ObjectType") != "Note":
            return False
    return True


def _other_shapes(data: bytes) -> bool:
    """Anything drawn besides the notes (a form control is a v:shape too; pictures, lines, rects)."""
    return bool(re.search(rb"<v:(?:rect|line|oval|roundrect|image|group|polyline|arc|curve)\b", data))


def _check_vml_prefixes(data: bytes) -> None:
    opening = re.search(rb"<xml\b(" + annotate._ATTRS + rb")>", data)
    if opening is None or b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise Unsupported("VML")
    for prefix, uri in _VML_NS.items():
        if b"xmlns:" + prefix + b'="' + uri + b'"' not in opening.group(1):
            raise Unsupported("VML with other prefixes")


def _plain(escaped: bytes) -> str:
    return unescape(escaped.decode("utf-8", "replace"))
