"""An annotated copy the unit edited and sent back, cleaned at the package level before marking again.

The copy we wrote holds a findings sheet, marks (a cloned cell format with our fill and border, a
top-priority conditional format recognised by its formula, a note by our author) and, in a very hidden
sheet, the original fill, border, protection and note of every cell it marked. Cleaning removes both
sheets, our rules and notes, and puts back the look of every cell that still carries our note (the proof
it is still where it was: units insert rows). What the unit changed meanwhile stays.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass

import python_calamine
from openpyxl.styles import Border
from openpyxl.styles.fills import Fill
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string
from openpyxl.xml.functions import fromstring, tostring

from processor.render import annotate
from processor.render.notes import SheetNotes, used_vml_blocks

EMPTY_FILL = "<fill><patternFill/></fill>"
EMPTY_BORDER = "<border><left/><right/><top/><bottom/><diagonal/></border>"


@dataclass(frozen=True)
class Marking:
    """What identifies our marks in a copy: the two sheets we add, the rule's formula, the notes' author."""

    findings_sheet: str
    restore_sheet: str
    formula: str
    author: str
    # LibreOffice saves every note without its author: a nameless note that starts like ours is ours.
    note_start: str = ""

    def ours(self, note) -> bool:
        if note.author == self.author:
            return True
        return (
            not note.author.strip()
            and bool(self.note_start)
            and re.match(self.note_start, note.text) is not None
        )


@dataclass(frozen=True)
class Original:
    """One row of the restore log: a marked cell's look before marking."""

    sheet: str
    cell: tuple[int, int]
    fill: str
    border: str
    locked: bool
    comment: str | None
    author: str | None


def is_returned(pkg: annotate.Package, marking: Marking) -> bool:
    """Whether the workbook is a copy we annotated: one of our sheets, or our rule on a sheet."""
    names = {sheet.name for sheet in pkg.sheets()}
    if {marking.findings_sheet, marking.restore_sheet} & names:
        return True
    formula = _escaped_formulas(marking.formula)
    return any(
        any(f in pkg.read(sheet.part) for f in formula) for sheet in pkg.sheets() if sheet.part is not None
    )


def clean(
    pkg: annotate.Package, data: bytes, marking: Marking, sizes: Callable[[str], tuple[int, int]]
) -> None:
    """Remove our sheets, rules and notes; restore the original look of the cells still noted by us."""
    originals = _read_log(data, marking.restore_sheet) if _has_sheet(pkg, marking.restore_sheet) else []
    for name in (marking.findings_sheet, marking.restore_sheet):
        if _has_sheet(pkg, name):
            annotate.remove_sheet(pkg, name)
    block = used_vml_blocks(pkg) + 1
    for sheet in pkg.sheets():
        if sheet.part is None:
            continue
        ws = annotate.Worksheet(pkg.read(sheet.part))
        notes = SheetNotes(pkg, sheet.part, ws)
        _restore_cells(pkg.styles, ws, notes, [o for o in originals if o.sheet == sheet.name], marking)
        for cell, note in list(notes.notes.items()):
            if marking.ours(note):
                notes.remove(cell)
        ws.remove_rules(_escaped_formulas(marking.formula))
        block = notes.save(sizes, block)
        if ws.edits:
            pkg.write(sheet.part, ws.to_bytes())


def _restore_cells(
    book: annotate.Styles,
    ws: annotate.Worksheet,
    notes: SheetNotes,
    originals: list[Original],
    marking: Marking,
) -> None:
    styles = {}
    for original in originals:
        note = notes.notes.get(original.cell)
        if note is None or not marking.ours(note) or original.cell in styles:
            continue
        current = ws.style_of(*original.cell)
        fill = book.add("fills", _sanitised(Fill, original.fill, EMPTY_FILL))
        border = book.add("borders", _sanitised(Border, original.border, EMPTY_BORDER))
        styles[original.cell] = book.marked(current, fill, border, locked=original.locked)
        notes.remove(original.cell)
        if original.comment:
            notes.put(*original.cell, original.author or "", original.comment)
    if styles:
        ws.restyle(styles)


def _sanitised(kind, xml: str, default: str) -> str:
    """The log's text as openpyxl writes that style element: a forged or damaged log gives the default,
    and nothing but a fill or a border reaches styles.xml."""
    if not xml or "<!" in xml:
        return default
    try:
        return tostring(kind.from_tree(fromstring(xml)).to_tree()).decode("utf-8")
    except Exception:  # a damaged log costs the old colour, not the copy
        return default


def _read_log(data: bytes, restore_sheet: str) -> list[Original]:
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        rows = book.get_sheet_by_name(restore_sheet).to_python(skip_empty_area=False)
    except Exception:  # an unreadable log: our marks still go, the old looks are lost
        return []
    originals = []
    for row in rows[1:]:
        values = [*row[:7], *[None] * (7 - len(row[:7]))]
        sheet, ref, fill, border, locked, comment, author = values
        cell = _cell(ref)
        if not isinstance(sheet, str) or cell is None:
            continue
        originals.append(
            Original(
                sheet, cell, _str(fill), _str(border), bool(locked) and locked != "0", _str(comment) or None,
                _str(author) or None,
            )
        )  # fmt: skip
    return originals


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _cell(ref: object) -> tuple[int, int] | None:
    if not isinstance(ref, str):
        return None
    try:
        column, row = coordinate_from_string(ref.strip().upper())
        return row, column_index_from_string(column)
    except ValueError:
        return None


def _has_sheet(pkg: annotate.Package, name: str) -> bool:
    return any(sheet.name == name for sheet in pkg.sheets())


def _escaped_formulas(formula: str) -> tuple[bytes, ...]:
    escaped = annotate.text(formula)
    return tuple(dict.fromkeys([formula.encode(), escaped.encode(), escaped.replace('"', "&quot;").encode()]))
