"""Large worksheets as SpreadsheetML text, spliced into a package openpyxl wrote.

openpyxl spends about 10 µs a cell even in write-only mode; a province's 50,000 people or 3,000 received
files would take seconds. openpyxl still writes everything around the rows (styles, tables, frozen
panes, print settings); the data rows are produced here as XML text into a temporary file and copied
into the sheet when the package is rewritten with fixed timestamps (`normalise_zip`), so the same
inputs give the same bytes.

Only strings, numbers, booleans and dates are written: text from units can never become a formula or an
error value. Strings are inline (`<is>`), or, given a `SharedStrings`, indexes into the workbook's table of
distinct texts: a province's sheets repeat unit names, labels and reasons tens of thousands of times, and
the shared table makes the sheet XML (and its deflate) a fraction of the size.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from operator import getitem
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

MAX_CELL_TEXT = 32767  # Excel refuses to open a file with a longer cell
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_EXCEL_EPOCH_TIME = dt.datetime(1899, 12, 30)
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")
_END_ROWS = b"</sheetData>"
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_TEXT_CACHE = 50_000  # distinct texts remembered per sheet (per column in add_rows): bounded memory
# openpyxl writes inline strings and no string table: the part, its relationship and content type.
_SST_PART = "xl/sharedStrings.xml"
_SST_DECLARATIONS = {
    "xl/_rels/workbook.xml.rels": (
        b"</Relationships>",
        b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        b'sharedStrings" Target="sharedStrings.xml" Id="rIdSharedStrings"/>',
    ),
    "[Content_Types].xml": (
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" '
        b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>',
    ),
}


def storable(value: str) -> str:
    """Text Excel can hold: no control characters, not longer than a cell takes."""
    if ILLEGAL_CHARACTERS_RE.search(value):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return value[:MAX_CELL_TEXT]


def styled_cell(
    ws, value=None, *, number_format=None, font=None, border=None, fill=None, alignment=None
) -> WriteOnlyCell:
    """A write_only cell with its look; text stays text, whatever it starts with ("=", "-", ...)."""
    cell = WriteOnlyCell(ws, storable(value) if isinstance(value, str) else value)
    if isinstance(value, str):
        cell.data_type = "s"  # after the value: openpyxl would otherwise store "=..." as a formula
    if number_format:
        cell.number_format = number_format
    if font is not None:
        cell.font = font
    if border is not None:
        cell.border = border
    if fill is not None:
        cell.fill = fill
    if alignment is not None:
        cell.alignment = alignment
    return cell


def style_attr(ws, *, number_format=None, font=None, border=None, fill=None, alignment=None) -> str:
    """The ` s="N"` attribute of a cell style, registered in the workbook's styles by a prototype cell."""
    if not (number_format or font or border or fill or alignment):
        return ""
    cell = styled_cell(
        ws, number_format=number_format, font=font, border=border, fill=fill, alignment=alignment
    )
    return f' s="{cell.style_id}"'


class SharedStrings:
    """The shared string table (xl/sharedStrings.xml): each distinct text once, in first-use order."""

    def __init__(self) -> None:
        self._index: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._index)

    def index(self, text: str) -> int:
        """The index of `text` (already made `storable`), added when new."""
        at = self._index.get(text)
        if at is None:
            at = self._index[text] = len(self._index)
        return at

    def xml(self) -> bytes:
        parts = [
            f'<sst xmlns="{_MAIN_NS}" uniqueCount="{len(self._index)}">',
            *(f"<si>{_text_element(text)}</si>" for text in self._index),
            "</sst>",
        ]
        return "".join(parts).encode("utf-8")


class RowsXml:
    """Data rows of one sheet, from `first_row` on, one style per column (see `style_attr`)."""

    def __init__(
        self,
        styles: Sequence[str],
        first_row: int,
        *,
        styled_blanks: bool = False,
        strings: SharedStrings | None = None,
    ) -> None:
        # Per column, the text before the row number and after it: '<c r="B' ... '" s="3"'.
        self._cells = [(f'<c r="{get_column_letter(i)}', style) for i, style in enumerate(styles, 1)]
        # With styled_blanks, an empty value still gets a cell carrying its column's style (a grid).
        self._blanks = styled_blanks
        self._strings = strings
        self._columns: list[_Column] | None = None  # add_rows' per-column caches, made on first use
        # Unit names, labels, reasons recur thousands of times: each is cleaned and escaped once.
        self._texts: dict[str, str] = {}
        self.next_row = first_row
        self.count = 0
        # Closed by normalise_zip (or by the caller on a failed save), after the rows are copied.
        self.file = tempfile.TemporaryFile()  # noqa: SIM115
        self._buffer: list[str] = []

    def add(
        self, values: Sequence[object], height: float | None = None, styles: Sequence[str] | None = None
    ) -> None:
        """One row: a value per column, or fewer (the rest empty); `styles` overrides the columns'."""
        r = str(self.next_row)
        head = f'<row r="{r}">' if height is None else f'<row r="{r}" ht="{height:g}" customHeight="1">'
        parts = [head]
        append = parts.append
        texts = self._texts
        cells = self._cells
        if styles is not None:
            cells = [(start, style) for (start, _), style in zip(cells, styles, strict=False)]
        if len(values) > len(cells):
            raise ValueError(f"{len(values)} values for {len(cells)} columns")
        for (start, style), value in zip(cells, values, strict=False):
            kind = type(value)
            if kind is str or isinstance(value, str):
                if value:
                    text = texts.get(value)
                    if text is None:
                        text = self._text_cell(value)
                        if len(texts) < _TEXT_CACHE:
                            texts[value] = text
                    append(f'{start}{r}"{style}{text}')
                elif self._blanks and style:
                    append(f'{start}{r}"{style}/>')
            elif value is None:
                if self._blanks and style:
                    append(f'{start}{r}"{style}/>')
            elif kind is int:  # t="n" is the default type: left out, a province's sheets are large
                append(f'{start}{r}"{style}><v>{value}</v></c>')
            elif kind is bool:
                append(f'{start}{r}"{style} t="b"><v>{int(value)}</v></c>')
            else:
                append(f'{start}{r}"{style}><v>{_number(value)}</v></c>')
        append("</row>")
        self._buffer.append("".join(parts))
        self.next_row += 1
        self.count += 1
        if len(self._buffer) >= 2000:
            self._flush()

    def _text_cell(self, value: str) -> str:
        """The end of a text cell after its style: its type and value."""
        if self._strings is None:
            return f' t="inlineStr"><is>{_text_element(storable(value))}</is></c>'
        return f' t="s"><v>{self._strings.index(storable(value))}</v></c>'

    def add_rows(self, rows: Iterable[Sequence[object]], *, numbered: bool = False, tail: int = 0) -> None:
        """Many rows, each a value per column (or fewer), in the columns' styles, at the default height.

        The fast path of `add`, for the bulk of a province's sheets. A column's cells repeat their values
        (unit names, labels, small counts), so each distinct value of a column becomes its cell's XML once
        and a row is a join of cached cells. The cells carry no reference (r="B7"): it is optional in
        SpreadsheetML, a cell without one is the one after its left neighbour (Excel, LibreOffice,
        openpyxl and calamine read it so), and the row numbers repeated in every cell were a third of
        the XML and most of the deflated bytes. So an empty value keeps its place with an empty cell
        (`<c/>`, styled with styled_blanks), which reads as blank.

        Numbers equal in Python are written alike (2 and 2.0 as "2"). Bools are refused: a dict cannot
        tell True from 1, and the clerk reads words (Có/Không) better anyway.

        With `numbered`, the first column is the row's position (1, 2, ...) and the rows leave it out.
        With `tail` = k, a row's last value is a tuple of the values of the last k columns: rows that
        share a tail (a person's months, shared by thousands) have its cells made and joined once.
        """
        columns = self._columns
        if columns is None:
            columns = self._columns = [_Column(self, style) for _, style in self._cells]
        if numbered:
            number_style, columns = self._cells[0][1], columns[1:]
        if tail:
            columns = [*columns[:-tail], _Tail(columns[-tail:])]
        width = len(columns)
        blank = (None,) * width
        buffer = self._buffer
        row = first = self.next_row
        for values in rows:
            short = width - len(values)
            if short:
                if short < 0:
                    raise ValueError(f"{len(values)} values for {width} columns")
                values = (*values, *blank[:short])
            cells = "".join(map(getitem, columns, values))
            if numbered:
                buffer.append(f'<row r="{row}"><c{number_style}><v>{row - first + 1}</v></c>{cells}</row>')
            else:
                buffer.append(f'<row r="{row}">{cells}</row>')
            row += 1
            if len(buffer) >= 2000:
                self._flush()
        self.count += row - first
        self.next_row = row

    def _flush(self) -> None:
        self.file.write("".join(self._buffer).encode("utf-8"))
        self._buffer.clear()

    def finish(self):
        self._flush()
        self.file.seek(0)
        return self.file


class _Column(dict):
    """One column's values -> their cells' XML.

    A dict, so that a value seen before costs one lookup; `__missing__` makes the cell of a new one.
    """

    def __init__(self, rows: RowsXml, style: str) -> None:
        super().__init__()
        self._rows = rows
        self._style = style
        self[None] = self[""] = f"<c{style}/>" if rows._blanks and style else "<c/>"

    def __missing__(self, value: object) -> str:
        kind = type(value)
        if kind is str or isinstance(value, str):
            cell = f"<c{self._style}{self._rows._text_cell(value)}"
        elif kind is int:
            cell = f"<c{self._style}><v>{value}</v></c>"
        elif kind is bool:
            raise TypeError("add_rows takes no bools: give text, or use add")
        else:
            cell = f"<c{self._style}><v>{_number(value)}</v></c>"
        if len(self) < _TEXT_CACHE:
            self[value] = cell
        return cell


class _Tail(dict):
    """The last columns of a row as one: a tuple of their values -> the XML of their cells."""

    def __init__(self, columns: list[_Column]) -> None:
        super().__init__()
        self._columns = columns

    def __missing__(self, values: tuple) -> str:
        if len(values) != len(self._columns):
            raise ValueError(f"{len(values)} values for the {len(self._columns)} columns of a tail")
        cells = "".join(map(getitem, self._columns, values))
        if len(self) < _TEXT_CACHE:
            self[values] = cells
        return cells


def _text_element(value: str) -> str:
    space = ' xml:space="preserve"' if value[:1].isspace() or value[-1:].isspace() else ""
    return f"<t{space}>{escape(value)}</t>"


def _number(value: object) -> str:
    if isinstance(value, dt.datetime):
        delta = value.replace(tzinfo=None) - _EXCEL_EPOCH_TIME
        return repr(delta.days + delta.seconds / 86400)
    if isinstance(value, dt.date):
        return str((value - _EXCEL_EPOCH).days)
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(int(value))
    return repr(float(value))  # type: ignore[arg-type]


def _set_compress_level(info: zipfile.ZipInfo, level: int) -> None:
    # Python 3.13 named the attribute compress_level; 3.11 and 3.12 read _compresslevel (private: the
    # only way to give one zip entry its own level). Level 1 writes the 50,000 rows of a province in a
    # third of level 6's time (see normalise_zip); tests/test_library_seams.py fails if it is ignored.
    setattr(info, "compress_level" if hasattr(info, "compress_level") else "_compresslevel", level)


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def declare_table(ws: object, name: str, ref: str, headers: Sequence[str]) -> None:
    """An Excel table with filters over `ref` of a write-only sheet, its columns named `headers`.

    write_only mode cannot read the headers back from the cells, so the columns are given here with
    openpyxl's public records (what its private Table._initialise_columns would build, names included).
    """
    table = Table(displayName=name, ref=ref)
    table.tableColumns = [TableColumn(id=i, name=header) for i, header in enumerate(headers, 1)]
    table.autoFilter = AutoFilter(ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "In write-only mode you must add table columns manually")
        ws.add_table(table)  # type: ignore[attr-defined]


def w3c_time(moment: dt.datetime) -> str:
    """A naive UTC time as a package's properties write it: "2024-03-04T01:30:00Z". isoformat, not
    strftime: the year has its four digits on every platform (glibc writes year 999 as "999", which no
    reader takes), whatever date a forged e-mail gives."""
    return moment.replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def normalise_zip(
    path: Path, stamp: dt.datetime, splices: dict[str, RowsXml], strings: SharedStrings | None = None
) -> None:
    """Rewrite the package: fixed entry times, the modified date from the inputs, fast rows spliced in.

    With `strings` (the table the fast rows index into), the package gains xl/sharedStrings.xml.
    """
    strings = strings or None  # an empty table is left out, with its declarations
    fixed = path.with_name(path.name + ".z")
    when = w3c_time(stamp).encode()
    try:
        with (
            zipfile.ZipFile(path) as source,
            zipfile.ZipFile(fixed, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as target,
        ):
            for entry in source.infolist():
                data = source.read(entry)
                if entry.filename == "docProps/core.xml":
                    data = _MODIFIED.sub(rb"\g<1>" + when + rb"\g<2>", data)
                elif strings is not None and entry.filename in _SST_DECLARATIONS:
                    end, declaration = _SST_DECLARATIONS[entry.filename]
                    at = data.rindex(end)
                    data = data[:at] + declaration + data[at:]
                info = _entry(entry.filename)
                rows = splices.get(entry.filename)
                if rows is None:
                    target.writestr(info, data)
                    continue
                # Tens of megabytes of rows: the fastest deflate level takes a third of the default's
                # time for a file a third larger (measured on the 50,000 people of a province).
                _set_compress_level(info, 1)
                end = data.rindex(_END_ROWS)
                with target.open(info, "w", force_zip64=True) as stream:
                    stream.write(data[:end])
                    shutil.copyfileobj(rows.finish(), stream, 1 << 20)
                    stream.write(data[end:])
            if strings is not None:
                info = _entry(_SST_PART)
                _set_compress_level(info, 1)  # the reasons of 50,000 decisions: a megabyte and more
                target.writestr(info, strings.xml())
        os.replace(fixed, path)
    finally:
        fixed.unlink(missing_ok=True)
        for rows in splices.values():
            rows.file.close()
