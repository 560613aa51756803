"""Validate one received workbook against the form definition, and the files against each other.

Driven by `processor.form`: fields are found by their folded label (units insert rows and move columns),
converted by their `Kind`, checked against `required`, `choices`, `minimum`, `maximum`. What people really
type is accepted and normalised without a finding (" có ", NFD text, HTTNV, "1.500.000", "05/01/1980",
a leading apostrophe, blank rows, rows past the prepared range, merged cells, formulas with a cached
value); what is ambiguous is accepted with a warning that says how it was read; what is wrong is an
error that says what to enter instead. Nothing here reads a file: reader.py does, once per workbook.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import functools
import itertools
import re
from collections.abc import Sequence
from fractions import Fraction

from processor import form, reader
from processor.config import Config, Unit
from processor.findings import CATALOGUE, finding, hint
from processor.form import ChoiceList, Field, Kind, Option
from processor.reader import CellProblem, RawSheet, column_letter
from processor.records import (
    FileStatus,
    Finding,
    Incoming,
    Period,
    PersonRecord,
    Severity,
    Submission,
    UnitReport,
    UserError,
)
from processor.vntext import (
    LEGACY_ENCODING_NAMES,
    clean,
    detect_legacy,
    fold,
    format_date,
    format_int,
    format_percent,
    person_key,
    slug,
)

SHEETS = (form.UNIT_SHEET, form.STAFF_SHEET, form.META_SHEET)
UNIT_LABEL_ROWS = 60  # the `Đơn vị` labels are looked for in this many rows (units insert rows)
STAFF_HEADER_ROWS = 10  # the `Cá nhân` header is looked for in this many rows
EXCEL_EPOCH = dt.date(1899, 12, 30)
DATE_MIN, DATE_MAX = dt.date(1900, 1, 1), dt.date(2100, 12, 31)
SERIAL_MIN = 3000  # a whole number from here on in a date cell is an Excel date that lost its format

# A unit's self-rating against its staff's ratings of the month. Mirrors the collective titles of the
# Law on Emulation and Commendation 2022 (art. 27): "excellent" needs everyone to complete their tasks
# and at least 70% rated good or better; "good" needs more than half rated good or better.
BEST_RATING_MIN_GOOD_SHARE = Fraction(70, 100)
GOOD_RATING_MIN_GOOD_SHARE = Fraction(50, 100)  # strictly more than

# Birth dates outside this age range (at the reporting month) are probably typing mistakes.
AGE_MIN, AGE_MAX = 16, 80

# Codes of findings about which unit or period a file is for: with one of these, the file is not used
# even with --accept-partial.
IDENTITY_CODES = frozenset(
    {"wrong_form", "unknown_unit", "unit_mismatch", "period_mismatch", "period_outside_campaign"}
)

_INVALID = object()  # a cell whose value could not be used (its finding is recorded)
# A letter beyond Latin-1 ("ễ", "ư"): text that holds one is Unicode Vietnamese, not TCVN3 or VNI
# (vntext.detect_legacy's own test, max(text) > "\u00ff", as one search instead of a comparison per letter).
_BEYOND_LATIN1 = re.compile(r"[^\x00-\xff]").search
_NOT_QUICK = object()  # a staff cell that needs convert() (and may get a finding)


def _quick(field: Field, options: dict | None, quiet: object, value: object) -> object:
    """What a staff cell holding `value` becomes when a correct form gives it: no finding possible, no
    context needed (the cell's place, font, row). _NOT_QUICK for anything else, which convert() takes."""
    kind = type(value)
    if value is None and not field.required:
        return field.default
    if options is not None and kind is str and value in options:
        return options[value].value  # the drop-down label itself: the usual case
    if quiet is str:
        if (
            kind is str
            and (value.isascii() or _BEYOND_LATIN1(value))  # type: ignore[union-attr,arg-type]
            and (field.maximum is None or len(value) <= field.maximum)  # type: ignore[arg-type]
        ):
            return value  # Unicode text of a fitting length: nothing to convert
        return _NOT_QUICK
    if quiet is not None and kind is quiet[0] and quiet[1] <= value <= quiet[2]:  # type: ignore[index,operator]
        return value  # a real date or whole number in the range needing no second look
    return _NOT_QUICK


def _unhinted_text(field: Field, text: str) -> object:
    """Text whose accented letters are all Latin-1 ("Chuyên viên", "Lái xe": ê and á are Latin-1, so
    `_quick` cannot rule out TCVN3), in a cell without a legacy font: what convert() makes of it when
    detect_legacy, which then decides on the text alone, finds nothing to convert. _NOT_QUICK otherwise.
    Not for a cell with a font hint: the font changes what detect_legacy finds."""
    if detect_legacy(text) is None and (field.maximum is None or len(text) <= field.maximum):
        return text
    return _NOT_QUICK


def _in_range_column(quiet: object, kinds: set[type], distinct: set, raws: Sequence) -> Sequence | None:
    """A column of dates, or of whole numbers, all inside the field's quiet range: each cell is what
    `_quick` makes of it (the value itself), found with two comparisons instead of a call per value
    (birth dates, recruitment dates and row numbers are nearly all distinct). None otherwise."""
    if type(quiet) is not tuple or len(kinds) != 1:
        return None
    kind, low, high = quiet
    (raw_kind,) = kinds
    if raw_kind is kind and kind in (dt.date, int):
        return raws if low <= min(distinct) and max(distinct) <= high else None
    if raw_kind is float and kind is int:
        lowest, highest = min(distinct), max(distinct)
        if (
            low <= lowest
            and highest <= high
            and lowest > -(2**53)
            and highest < 2**53
            and all(map(float.is_integer, distinct))  # NaN and infinities are not: they take the long way
        ):
            return list(map(int, raws))  # what reader.cell_value makes of a whole float
    return None


def _quick_columns(rows: list, plan: list[tuple], columns: list[tuple]) -> tuple[list, list] | None:
    """Every staff cell's (value, typed) column by column: each column's distinct raw values are read
    (reader.cell_value) and typed (_quick, or _unhinted_text) once, then looked up. Returns the rows'
    values and typed values as tuples, _NOT_QUICK in a typed cell that needs the cell-by-cell way; None
    when a column mixes bools, whole and decimal numbers (True == 1 == 1.0 as dict keys: their cells
    would be confused). For rows whose cells have no legacy font and no overlay only (usual rows).
    """
    value_columns, typed_columns = [], []
    cell_value = reader.cell_value
    # calamine's rows are all as wide as the sheet: one transposition gives every column.
    width = min(map(len, rows), default=0)
    grid_columns = list(zip(*rows, strict=False)) if width else []
    for i, at in columns:
        field, _, _, options, quiet = plan[i]
        raws = grid_columns[at] if at < width else [row[at] if at < len(row) else "" for row in rows]
        kinds = set(map(type, raws))
        if len(kinds & {bool, int, float}) > 1:
            return None
        value_of, typed_of = {}, {}
        try:
            distinct = set(raws)
        except TypeError:  # not a value calamine gives: the cell-by-cell way judges it
            return None
        whole = _in_range_column(quiet, kinds, distinct, raws)
        if whole is not None:
            value_columns.append(whole)
            typed_columns.append(whole)
            continue
        for raw in distinct:
            value = value_of[raw] = cell_value(raw)
            typed = _quick(field, options, quiet, value)
            if typed is _NOT_QUICK and quiet is str and type(value) is str:
                typed = _unhinted_text(field, value)
            typed_of[raw] = typed
        value_columns.append(map(value_of.__getitem__, raws))
        typed_columns.append(map(typed_of.__getitem__, raws))
    return list(zip(*value_columns, strict=True)), list(zip(*typed_columns, strict=True))


_EMPTY_TEXTS = frozenset({"-", "–", "—"})
# A totals line, accent-less: "Tổng cộng", "Tổng số: 50", "Cộng". Not "Tống Văn A" (a surname).
_TOTAL_ROWS = re.compile(r"(?:tong-cong|tong-so)(?:-.*)?|(?:tong|cong)(?:-\d.*)?")


# ------------------------------------------------------------------------------------------------
# Entry points


def validate_workbook(config: Config, incoming: Incoming, accept_partial: bool = False) -> Submission:
    """Read and check one received workbook; never raises on bad input."""
    name = incoming.file.display_name
    raw = reader.read_workbook(incoming.data, name, config.validation, SHEETS)
    if not raw.readable:
        return Submission(incoming.file, FileStatus.UNREADABLE, list(raw.findings))
    check = _Checker(config, name)
    check.findings.extend(raw.findings)
    check.errors += sum(f.is_error for f in raw.findings)
    unit_sheet, staff_sheet, meta_sheet = (raw.sheet(n) for n in SHEETS)
    if unit_sheet is None and staff_sheet is None:
        listed = ", ".join(f"“{n}”" for n in raw.sheet_names) or "không có"
        check.error("wrong_form/no_sheets", listed=listed, clerk_unit=config.office.clerk_unit)
        return Submission(incoming.file, FileStatus.REJECTED, check.findings)

    meta = check.metadata(meta_sheet)
    version_text = check.form_version(meta)
    check.period = _meta_period(meta)
    unit_values = check.unit_fields(unit_sheet)
    unit_code, period = check.identity(meta, unit_values)
    people = check.staff(staff_sheet, period)
    check.cross_fields(unit_values, people)

    report = None
    if unit_code is not None and period is not None:
        report = _unit_report(config, check.form, unit_code, period, unit_values, people)
    status = FileStatus.ACCEPTED
    if any(f.is_error for f in check.findings):
        identity_broken = any(f.is_error and f.code in IDENTITY_CODES for f in check.findings)
        partial_ok = accept_partial and report is not None and not identity_broken
        status = FileStatus.ACCEPTED_PARTIAL if partial_ok else FileStatus.REJECTED
    return Submission(
        incoming.file,
        status,
        check.findings,
        unit_code=unit_code,
        period=period,
        report=report,
        form_version=version_text,
    )


def cross_check(config: Config, submissions: Sequence[Submission]) -> None:
    """Rules across files, for all periods at once; warnings are appended to the submissions in place.

    A person reported by two units in one month: a warning on both. A unit whose headcount changed by
    more than `validation.headcount_change_warning` since its previous accepted month: a warning.
    Linear in the number of people (one dictionary pass), n log n in the number of files.
    """
    usable = [
        s
        for s in submissions
        if s.report is not None
        and s.status in (FileStatus.ACCEPTED, FileStatus.ACCEPTED_PARTIAL, FileStatus.REJECTED)
    ]
    _people_in_two_units(config, usable)
    _headcount_changes(config, usable)


# ------------------------------------------------------------------------------------------------
# One workbook


# A cell as (sheet, row, column): a plain tuple, made for every cell read; its A1 name is only
# computed for a finding.
_Cell = tuple[str, int, int]
# A staff column the sheet lacks reads as a grid index past the end of every row: its cells are empty.
_NO_COLUMN = 1 << 62


class _Checker:
    """Holds the findings of one file while its sheets are checked."""

    def __init__(self, config: Config, file: str):
        self.config = config
        self.file = file
        self.findings: list[Finding] = []
        self.errors = 0  # findings of severity ERROR so far
        self.choices = _choice_index(config)
        self.period: Period | None = None  # once known: dates are judged against it
        self._unit_rows: dict[str, int] = {}
        self._unit_sheet = form.UNIT_SHEET
        # The version the file is checked against: the one its hidden sheet names (form_version()).
        self.form = form.current_version(config)
        self.version_unknown = False  # a version this program does not know: its optional fields may differ

    # -- findings --------------------------------------------------------------------------------

    def add(
        self,
        key: str,
        cell: _Cell | None = None,
        field: Field | None = None,
        value: object = None,
        sheet: str | None = None,
        **fields: object,
    ) -> None:
        """The finding `key` of the catalogue (processor/findings.py), its message filled from `fields`."""
        entry = CATALOGUE[key]
        a1 = f"{column_letter(cell[2])}{cell[1]}" if cell is not None else None
        where = f"Ô {a1}: " if a1 else ""
        self.errors += entry.severity is Severity.ERROR
        self.findings.append(
            Finding(
                entry.severity,
                entry.code,
                where + entry.text.format_map(fields),
                self.file,
                sheet or (cell[0] if cell else None),
                a1,
                field.label if field else None,
                _as_text(value),
            )
        )

    # The same as add(): the word at the call site says what the catalogue says (a test checks they
    # agree), without a second call per finding.
    error = add
    warning = add

    def reject(self, key: str, cell: _Cell, field: Field, value: object = None, **fields: object) -> object:
        """An error on a field's cell whose value cannot be used: _INVALID, for the caller to pass on."""
        self.add(key, cell, field, value, **fields)
        return _INVALID

    # -- sheets ----------------------------------------------------------------------------------

    def metadata(self, sheet: RawSheet | None) -> dict[str, str] | None:
        if sheet is None:
            return None
        values: dict[str, str] = {}
        for row in range(1, min(sheet.height, 50) + 1):
            key, value = sheet.value(row, 1), sheet.value(row, 2)
            if isinstance(key, str) and value is not None and not isinstance(value, CellProblem):
                values.setdefault(key.strip().lower(), _as_text(value) or "")
        return values

    def form_version(self, meta: dict[str, str] | None) -> str | None:
        """The version the file names; picks the definition it is checked against (self.form).

        A file without one (no hidden sheet: its content was copied to another workbook) is checked
        against the version of today's templates. A version this program does not know (a newer
        program's form, a hand-edited hidden sheet) is one error naming both versions.
        """
        text = (meta or {}).get("form_version", "").strip() or None
        if text is None:
            return None
        if (meta or {}).get("form_id", form.FORM_ID) not in ("", form.FORM_ID):
            return text  # another form altogether: its version says nothing; `wrong_form` says it all
        known = form.VERSIONS.get(text)
        current = form.current_version(self.config).version
        if known is not None:
            self.form = known
            if known.version != current and (lacking := form.missing_fields(known)):
                listed = ", ".join(f"“{f.label}”" for f in lacking)
                self.warning(
                    "form_version_old",
                    sheet=form.META_SHEET,
                    value=text,
                    version=text,
                    current=current,
                    listed=listed,
                    clerk_unit=self.config.office.clerk_unit,
                )
            return text
        self.version_unknown = True
        self.error(
            "form_version_unknown",
            sheet=form.META_SHEET,
            value=text,
            version=text,
            known=", ".join(form.VERSIONS),
            current=current,
            clerk_unit=self.config.office.clerk_unit,
        )
        return text

    def unit_fields(self, sheet: RawSheet | None) -> dict[str, object]:
        """Typed values of the `Đơn vị` sheet by field key; _INVALID where a finding was recorded."""
        values: dict[str, object] = {}
        rows: dict[str, int] = {}
        assumed: list[Field] = []  # optional fields whose row was not found
        if sheet is None:
            self.error("missing_sheet/unit", sheet=form.UNIT_SHEET)
            return {f.key: _INVALID if f.required else f.default for f in self.form.unit_fields}
        by_label, by_slug = _labels(self.form.unit_fields)
        for row in range(1, min(sheet.height, UNIT_LABEL_ROWS) + 1):
            label = sheet.value(row, 1)
            if not isinstance(label, str):
                continue
            field = by_label.get(_label_key(label)) or by_slug.get(_slug(label))
            if field is not None and field.key not in rows:
                rows[field.key] = row
        for field in self.form.unit_fields:
            row = rows.get(field.key)
            if row is None:
                if field.required:
                    self.error(
                        "missing_field",
                        sheet=form.UNIT_SHEET,
                        field=field,
                        label=field.label,
                        help=field.help,
                    )
                    values[field.key] = _INVALID
                else:
                    values[field.key] = field.default
                    assumed.append(field)
                continue
            cell = (sheet.name, row, 2)
            values[field.key] = self.convert(field, sheet.value(row, 2), cell, sheet.font(row, 2))
        if not self.version_unknown and all(f.key in rows for f in self.form.unit_fields if f.required):
            # Only on a sheet laid out as the form: on another, the missing rows above say it all.
            for field in assumed:
                self.warning(
                    "missing_optional_field",
                    sheet=sheet.name,
                    field=field,
                    sheet_name=sheet.name,
                    label=field.label,
                    assumed=_assumed(field),
                    help=field.help,
                )
        self._unit_rows = rows
        self._unit_sheet = sheet.name
        return values

    def identity(
        self, meta: dict[str, str] | None, unit_values: dict[str, object]
    ) -> tuple[str | None, Period | None]:
        """Unit and period of the file: from the hidden metadata, checked against the visible cells."""
        config = self.config
        visible_code = unit_values.get("unit_code")
        visible_code = visible_code if isinstance(visible_code, str) else None
        visible_period = unit_values.get("period")
        visible_period = visible_period if isinstance(visible_period, Period) else None
        code_cell = self._unit_cell("unit_code")
        period_cell = self._unit_cell("period")
        meta_code = meta_period = None
        if meta is None:
            self.warning("metadata_missing", sheet=form.META_SHEET)
        else:
            form_id = meta.get("form_id", "")
            if form_id and form_id != form.FORM_ID:
                self.error(
                    "wrong_form/other_form",
                    sheet=form.META_SHEET,
                    value=form_id,
                    other_form=form_id,
                    clerk_unit=config.office.clerk_unit,
                )
            meta_code = (meta.get("unit_code") or "").strip().upper() or None
            try:
                meta_period = Period.parse(meta["period"]) if meta.get("period") else None
            except UserError:
                meta_period = None
        if meta_code and visible_code and meta_code != visible_code.upper():
            self.error(
                "unit_mismatch",
                code_cell,
                field=form.unit_field("unit_code"),
                value=visible_code,
                found=visible_code,
                expected=meta_code,
            )
        if meta_period and visible_period and meta_period != visible_period:
            self.error(
                "period_mismatch",
                period_cell,
                field=form.unit_field("period"),
                value=visible_period.label,
                found=visible_period.label,
                expected=meta_period.label,
            )
        units = _units(config)
        code = meta_code if meta_code and meta_code in units else (visible_code or meta_code)
        period = meta_period or visible_period
        if code is not None and code.upper() not in units:
            known = ", ".join(u.code for u in config.units)
            self.error(
                "unknown_unit",
                code_cell if code == visible_code else None,
                field=form.unit_field("unit_code"),
                value=code,
                sheet=form.UNIT_SHEET,
                code=code,
                known=known,
            )
            code = None
        if code is not None:
            code = units[code.upper()].code
        if period is not None and not any(c.contains(period) for c in config.campaigns):
            spans = "; ".join(
                f"{c.name}: {Period.of(c.start).label}–{Period.of(c.end).label}" for c in config.campaigns
            )
            self.error(
                "period_outside_campaign",
                period_cell,
                field=form.unit_field("period"),
                value=period.label,
                sheet=form.UNIT_SHEET,
                period=period.label,
                spans=spans,
            )
            period = None
        self.period = period
        return code, period

    def _unit_cell(self, key: str) -> _Cell | None:
        row = self._unit_rows.get(key)
        return (self._unit_sheet, row, 2) if row else None

    def staff(self, sheet: RawSheet | None, period: Period | None) -> list[tuple[PersonRecord, int]]:
        """Valid staff rows as (record, column of the name), duplicates and bad rows left out."""
        self.period = period
        if sheet is None:
            self.error("missing_sheet/staff", sheet=form.STAFF_SHEET)
            return []
        columns, header = self._staff_columns(sheet)
        if header is None:
            return []
        name_col = columns["name"]
        plan = [
            (f, columns.get(f.key), kept, self.choices[f.choices] if f.choices else None, _quiet(f, period))
            for f, kept in _staff_plan(self.form)
        ]
        out = self._staff_rows(sheet, header, plan, name_col)
        if not out and not any(f.is_error and f.sheet == sheet.name for f in self.findings):
            self.error("no_staff", sheet=sheet.name, sheet_name=sheet.name, first_row=header + 1)
        return out

    def _staff_rows(
        self, sheet: RawSheet, header: int, plan: list[tuple], name_col: int
    ) -> list[tuple[PersonRecord, int]]:
        """The staff rows one by one, with a finding for each problem.

        Every cell takes the same way: normalised as the reader does (reader.cell_value), then typed by
        its field: `_quick` for what a correct form holds, else convert(), which says what is wrong.
        `_quick_columns` does the first for each distinct raw value of a column once (a category, a
        rating, a position repeats row after row), so a row of such cells becomes a record at once.
        Rows with a cell whose reading depends on more than its value (a formula problem or a merged
        range's fill in the overlay, a legacy font) take every cell the cell-by-cell way.
        """
        content = [i for i, (f, col, _, _, _) in enumerate(plan) if col is not None and f.key != "seq"]
        name_at = next(i for i, p in enumerate(plan) if p[0].key == "name")
        birth_at = next(i for i, p in enumerate(plan) if p[0].key == "birth_date")
        kept_at = [i for i, p in enumerate(plan) if p[2]]
        # _staff_plan puts the kept fields together, in PersonRecord order: a record is one slice.
        kept = slice(kept_at[0], kept_at[-1] + 1)
        assert kept_at == list(range(len(plan)))[kept] and len(kept_at) == len(PersonRecord._fields) - 1
        # Per column: its place in the plan and its index in a grid row (past any row's end for a column
        # the sheet lacks: its cells read as empty).
        columns = [
            (i, col - 1 if col is not None else _NO_COLUMN) for i, (_, col, _, _, _) in enumerate(plan)
        ]
        grid, overlay, fonts, name = sheet.grid, sheet.overlay, sheet.legacy_fonts, sheet.name
        special = {r for r, _ in overlay} | {r for r, _ in fonts}
        cell_value = reader.cell_value
        born_on: dict[object, list[tuple[object, int]]] = {}  # birth date -> (name, row) of the rows kept
        out: list[tuple[PersonRecord, int]] = []
        rows = [grid[row - 1] if row <= len(grid) else () for row in range(header + 1, sheet.height + 1)]
        quick = _quick_columns(rows, plan, columns)
        for row, raw_row in enumerate(rows, header + 1):
            if row not in special and quick is not None:
                # Read and typed by _quick_columns: left for convert() are the cells it marked.
                values, typed = quick[0][row - header - 1], quick[1][row - header - 1]
            else:
                # A merged range's fill or a formula problem (the overlay), a legacy font: read one by one.
                width = len(raw_row)
                values = []
                for _, at in columns:
                    found = overlay.get((row, at + 1))
                    if found is None:
                        found = cell_value(raw_row[at] if at < width else "")
                    values.append(found)
                typed = [_quick(p[0], p[3], p[4], value) for p, value in zip(plan, values, strict=True)]
            if values[name_at] is None and all(values[i] is None for i in content):
                continue  # blank rows in the middle, or a row holding only its number
            if self._not_a_person(name, row, name_col, values[name_at], values[birth_at] is not None):
                continue
            errors_before = self.errors
            if _NOT_QUICK in typed:  # anything but what a correct row holds: convert() says what is wrong
                typed = list(typed)
                for i, result in enumerate(typed):
                    if result is _NOT_QUICK:
                        field, col = plan[i][0], plan[i][1]
                        font = fonts.get((row, col)) if fonts else None
                        typed[i] = self.convert(field, values[i], (name, row, col or 0), font)
            person_name = typed[name_at]
            if (
                isinstance(person_name, str)
                and not person_name[:1].isalpha()
                and not any(c.isalpha() for c in person_name)
            ):
                self.error(
                    "name_without_letters",
                    (name, row, name_col),
                    field=form.staff_field("name"),
                    value=person_name,
                    name=person_name,
                )
            if self.errors > errors_before:
                continue
            birth_date = typed[birth_at]
            # Two rows are one person when their person_key agree; keys that differ in the birth date
            # never do, so names are folded only for rows born on a day seen before (rare in a unit).
            same_day = born_on.setdefault(birth_date, [])
            if same_day:
                key = person_key(person_name, birth_date)  # type: ignore[arg-type]
                first = next((r for n, r in same_day if person_key(n, birth_date) == key), None)  # type: ignore[arg-type]
                if first is not None:
                    self.error(
                        "duplicate_person",
                        (name, row, name_col),
                        field=form.staff_field("name"),
                        value=person_name,
                        name=person_name,
                        born=_born(birth_date),  # type: ignore[arg-type]
                        first_row=first,
                    )
                    continue
            same_day.append((person_name, row))
            out.append((PersonRecord._make((row, *typed[kept])), name_col))
        return out

    def _not_a_person(self, sheet: str, row: int, name_col: int, name: object, has_birth_date: bool) -> bool:
        """A repeated header (a merged two-row header, a pasted page) or a totals line, not a person.

        Cheap tests on the first letters come first: this runs for every row.
        """
        if not isinstance(name, str) or name[:1] not in "HhTtCc":
            return False
        start = name[:4].lower()
        if start.startswith("h") and len(name) <= 20:
            return _label_key(name) == _NAME_LABEL_KEY
        if not start.startswith(("tổng", "tong", "cộng", "cong")) or not _TOTAL_ROWS.fullmatch(slug(name)):
            return False
        if has_birth_date:
            return False
        self.warning(
            "total_row_ignored",
            (sheet, row, name_col),
            field=form.staff_field("name"),
            value=name,
            at_row=row,
            name=name,
        )
        return True

    def _staff_columns(self, sheet: RawSheet) -> tuple[dict[str, int], int | None]:
        name_label = _label_key(form.staff_field("name").label)
        by_label, by_slug = _labels(self.form.staff_fields)
        for row in range(1, min(sheet.height, STAFF_HEADER_ROWS) + 1):
            labels = {
                col: value
                for col in range(1, sheet.width + 1)
                if isinstance(value := sheet.value(row, col), str)
            }
            if not any(_label_key(v) == name_label for v in labels.values()):
                continue
            columns: dict[str, int] = {}
            for col, text in labels.items():
                field = by_label.get(_label_key(text)) or by_slug.get(_slug(text))
                if field is not None and field.key not in columns:
                    columns[field.key] = col
            missing = [f for f in self.form.staff_fields if f.required and f.key not in columns]
            for field in missing:
                self.error(
                    "missing_column",
                    sheet=sheet.name,
                    field=field,
                    sheet_name=sheet.name,
                    label=field.label,
                    header_row=row,
                    help=field.help,
                )
            if not missing and not self.version_unknown:
                self._optional_columns_missing(sheet.name, row, columns)
            return columns, (row if not missing else None)
        self.error(
            "missing_header",
            sheet=sheet.name,
            sheet_name=sheet.name,
            name_label=form.staff_field("name").label,
            rows=STAFF_HEADER_ROWS,
        )
        return {}, None

    def _optional_columns_missing(self, sheet: str, row: int, columns: dict[str, int]) -> None:
        """An optional column not found under its title (renamed, deleted) would silently give everyone its
        default: no initiative, no discipline. Said as a warning: the file is still used."""
        for field in self.form.staff_fields:
            if field.required or field.key == "seq" or field.key in columns:
                continue
            self.warning(
                "missing_optional_column",
                sheet=sheet,
                field=field,
                sheet_name=sheet,
                label=field.label,
                header_row=row,
                assumed=_assumed(field),
                help=field.help,
            )

    def cross_fields(self, unit_values: dict[str, object], people: list[tuple[PersonRecord, int]]) -> None:
        assigned, completed = unit_values.get("tasks_assigned"), unit_values.get("tasks_completed")
        if isinstance(assigned, int) and isinstance(completed, int) and completed > assigned:
            self.error(
                "tasks_exceed",
                self._unit_cell("tasks_completed"),
                field=form.unit_field("tasks_completed"),
                value=completed,
                completed=format_int(completed),
                assigned=format_int(assigned),
            )
        prepared = unit_values.get("prepared_on")
        if isinstance(prepared, dt.date) and self.period is not None and prepared < self.period.first_day:
            self.warning(
                "prepared_before_period",
                self._unit_cell("prepared_on"),
                field=form.unit_field("prepared_on"),
                value=prepared,
                date=format_date(prepared),
                period=self.period.label,
            )
        rating = unit_values.get("self_rating")
        if isinstance(rating, str) and people:
            allowed = _allowed_unit_rank(self.config, [p.rating for p, _ in people])
            if self.config.rating_rank(rating) < allowed:
                best = self.config.ratings[allowed]
                good = self.config.rating(self.config.good_rating).label.lower()
                worst = self.config.ratings[-1].label.lower()
                self.warning(
                    "self_rating_above_staff",
                    self._unit_cell("self_rating"),
                    field=form.unit_field("self_rating"),
                    value=self.config.rating(rating).label,
                    rating=self.config.rating(rating).label,
                    allowed=best.label,
                    worst=worst,
                    best_share=format_percent(BEST_RATING_MIN_GOOD_SHARE, 0),
                    good=good,
                    good_share=format_percent(GOOD_RATING_MIN_GOOD_SHARE, 0),
                )

    # -- one cell --------------------------------------------------------------------------------

    def convert(self, field: Field, value: object, cell: _Cell, font: str | None) -> object:
        """The typed value of one cell, or the field's default when empty and optional, or _INVALID."""
        if isinstance(value, CellProblem):
            if value.kind == "uncached_formula":
                self.error(
                    "formula_not_calculated",
                    cell,
                    field=field,
                    value=value,
                    formula=value,
                    expect=_expect(self.config, field),
                )
            else:
                self.error(
                    "formula_error",
                    cell,
                    field=field,
                    value=value,
                    error=value,
                    expect=_expect(self.config, field),
                )
            return _INVALID
        kind = field.kind
        if type(value) is str:
            if kind is Kind.CHOICE:
                option = self.choices[field.choices].get(value)  # type: ignore[index]
                if option is not None:
                    return option.value  # the drop-down label itself: the usual case
            elif kind is Kind.TEXT:
                if (value.isascii() or _BEYOND_LATIN1(value)) and (
                    field.maximum is None or len(value) <= field.maximum
                ):
                    return value  # Unicode text of a fitting length: no legacy encoding to look for
            elif value in _EMPTY_TEXTS:
                value = None
        elif (
            type(value) is int
            and kind is Kind.INT
            and (field.minimum is None or value >= field.minimum)
            and (field.maximum is None or value <= field.maximum)
        ):
            return value
        if value is None:
            if field.required:
                return self.reject(
                    "required", cell, field, label=field.label, expect=_expect(self.config, field)
                )
            return field.default
        return _CONVERTERS[kind](self, field, value, cell, font)

    def legacy(self, field: Field, text: str, cell: _Cell, font: str | None) -> str | object:
        """Text typed in TCVN3/VNI: converted with a warning when certain, an error when only likely."""
        guess = detect_legacy(text, font)
        if guess is None:
            return text
        encoding = LEGACY_ENCODING_NAMES[guess.encoding]
        if guess.certain:
            self.warning(
                "legacy_encoding_converted/text",
                cell,
                field=field,
                value=text,
                text=text,
                encoding=encoding,
                font=font,
                converted=guess.text,
            )
            return guess.text
        return self.reject(
            "legacy_encoding_suspected", cell, field, text, text=text, encoding=encoding, converted=guess.text
        )


# -- converters by kind ---------------------------------------------------------------------------


def _text(check: _Checker, field: Field, value: object, cell: _Cell, font: str | None) -> object:
    if isinstance(value, str):
        text = check.legacy(field, value, cell, font)
        if text is _INVALID:
            return _INVALID
    elif isinstance(value, bool):
        return _wrong_type(check, field, value, cell)
    elif isinstance(value, dt.date):
        text = format_date(value)
    elif isinstance(value, int | float):
        text = _as_text(value) or ""
    else:
        return _wrong_type(check, field, value, cell)
    if field.maximum is not None and len(text) > field.maximum:  # type: ignore[arg-type]
        return check.reject(
            "too_long",
            cell,
            field,
            text,
            length=format_int(len(text)),
            limit=format_int(field.maximum),  # type: ignore[arg-type]
            label=field.label,
        )
    return text


def _code(check: _Checker, field: Field, value: object, cell: _Cell, font: str | None) -> object:
    if not isinstance(value, str | int) or isinstance(value, bool):
        return _wrong_type(check, field, value, cell)
    code = clean(str(value)).upper()
    unit = _units(check.config).get(code)
    if unit is None:
        known = ", ".join(u.code for u in check.config.units)
        return check.reject("unknown_unit", cell, field, value, code=value, known=known)
    return unit.code


_PERIOD_MONTH_FIRST = re.compile(r"(?:tháng|thang|t)?\s*(\d{1,2})\s*[/.\-]\s*(\d{4})", re.I)
_PERIOD_YEAR_FIRST = re.compile(r"(\d{4})\s*[/.\-]\s*(\d{1,2})")


def _period(check: _Checker, field: Field, value: object, cell: _Cell, font: str | None) -> object:
    if isinstance(value, dt.date):
        return Period.of(value)  # Excel turned a typed "02/2024" into 1 February 2024
    text = clean(str(value)) if isinstance(value, str) else ""
    match = _PERIOD_MONTH_FIRST.fullmatch(text)
    month, year = (match.group(1), match.group(2)) if match else (None, None)
    if match is None and (match := _PERIOD_YEAR_FIRST.fullmatch(text)):
        year, month = match.group(1), match.group(2)
    if month is not None and 1 <= int(month) <= 12 and 1900 <= int(year) <= 9999:  # type: ignore[arg-type]
        return Period(int(year), int(month))  # type: ignore[arg-type]
    return check.reject(
        "invalid_period", cell, field, value, text=_as_text(value), expect=_expect(check.config, field)
    )


_DATE_DMY = re.compile(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{2}|\d{4})")
_DATE_YMD = re.compile(r"(\d{4})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})")
_DATE_WORDS = re.compile(r"(?:ngày\s*)?(\d{1,2})\s*tháng\s*(\d{1,2})\s*(?:năm|,)?\s*(\d{4})", re.I)


def _date(check: _Checker, field: Field, value: object, cell: _Cell, font: str | None) -> object:
    day = _parse_date(check, field, value, cell)
    if day is _INVALID:
        return _INVALID
    assert isinstance(day, dt.date)
    if not DATE_MIN <= day <= DATE_MAX:
        return check.reject(
            "invalid_date/out_of_range",
            cell,
            field,
            value,
            date=format_date(day),
            expect=_expect(check.config, field),
        )
    _date_plausibility(check, field, day, cell)
    return day


def _parse_date(check: _Checker, field: Field, value: object, cell: _Cell) -> object:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and SERIAL_MIN <= value <= 2958465:
        day = EXCEL_EPOCH + dt.timedelta(days=value)
        check.warning("date_as_number", cell, field=field, value=value, number=value, date=format_date(day))
        return day
    if isinstance(value, str):
        text = clean(value)
        if match := _DATE_YMD.fullmatch(text):
            year, month, day_ = (int(g) for g in match.groups())
            return _make_date(check, field, value, cell, year, month, day_)
        if match := _DATE_DMY.fullmatch(text) or _DATE_WORDS.fullmatch(text):
            first, second, year_text = match.groups()
            day_, month = int(first), int(second)
            year = int(year_text)
            if len(year_text) == 2:
                year = _two_digit_year(check, year)
                check.warning("two_digit_year", cell, field=field, value=value, text=text, year=year)
            if month > 12 and day_ <= 12:
                day_, month = month, day_
                check.warning(
                    "date_order",
                    cell,
                    field=field,
                    value=value,
                    text=text,
                    date=f"{day_:02d}/{month:02d}/{year}",
                )
            return _make_date(check, field, value, cell, year, month, day_)
    return check.reject(
        "invalid_date/unreadable",
        cell,
        field,
        value,
        text=_as_text(value),
        expect=_expect(check.config, field),
    )


def _two_digit_year(check: _Checker, year: int) -> int:
    reference = check.period.year if check.period else 2000
    return 1900 + year if 1900 + year > reference - 100 and 2000 + year > reference else 2000 + year


def _make_date(
    check: _Checker, field: Field, value: object, cell: _Cell, year: int, month: int, day: int
) -> object:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return check.reject(
            "invalid_date/not_real",
            cell,
            field,
            value,
            text=_as_text(value),
            expect=_expect(check.config, field),
        )


@functools.lru_cache(maxsize=16)
def _staff_plan(version: form.FormVersion) -> tuple[tuple[Field, bool], ...]:
    """The staff fields of a version in PersonRecord order, each with whether the record keeps it: the
    row number's place is the `seq` column's (not kept), and a record field the version lacks is a
    column never found (its default None: no data). Made once per version, not per file or row."""
    fields = {f.key: f for f in version.staff_fields}
    plan = [(fields["seq"], False)] if "seq" in fields else []
    for key in PersonRecord._fields[1:]:
        plan.append((fields.get(key) or _absent(key), True))
    plan += [(f, False) for f in version.staff_fields if f.key != "seq" and f.key not in PersonRecord._fields]
    return tuple(plan)


def _absent(key: str) -> Field:
    return Field(key, key, Kind.TEXT, False, "", default=None)


def _quiet(field: Field, period: Period | None) -> object:
    """What a field takes without any finding, for the fast path of the staff loop: (type, low, high)
    for dates and whole numbers, `str` for text, None otherwise (always through convert())."""
    if field.kind is Kind.DATE:
        if field.key == "birth_date" and period is not None:
            return dt.date, dt.date(period.year - AGE_MAX, 1, 1), dt.date(period.year - AGE_MIN, 12, 31)
        if field.key == "recruited_on" and period is not None:
            return dt.date, DATE_MIN, period.next().first_day - dt.timedelta(days=1)
        return dt.date, DATE_MIN, DATE_MAX
    if field.kind is Kind.INT:
        low = field.minimum if field.minimum is not None else -(2**63)
        return int, low, field.maximum if field.maximum is not None else 2**63
    if field.kind is Kind.TEXT:
        return str
    return None


def _date_plausibility(check: _Checker, field: Field, day: dt.date, cell: _Cell) -> None:
    period = check.period
    if period is None:
        return
    if field.key == "recruited_on" and day >= period.next().first_day:
        check.error(
            "invalid_date/recruited_after_period",
            cell,
            field=field,
            value=day,
            date=format_date(day),
            period=period.label,
        )
    if field.key == "birth_date":
        age = period.year - day.year
        if day >= period.next().first_day:
            check.error(
                "invalid_date/born_after_period",
                cell,
                field=field,
                value=day,
                date=format_date(day),
                period=period.label,
            )
        elif not AGE_MIN <= age <= AGE_MAX:
            check.warning("birth_date_unusual", cell, field=field, value=day, date=format_date(day), age=age)


_NUMBER_PLAIN = re.compile(r"[+-]?\d+")
_NUMBER_DOTS = re.compile(r"(\d{1,3}(?:\.\d{3})+)(?:,(\d+))?")
_NUMBER_COMMAS = re.compile(r"(\d{1,3}(?:,\d{3})+)(?:\.(\d+))?")
_NUMBER_DECIMAL = re.compile(r"(\d+)[.,](\d+)")
_MONEY_SUFFIX = re.compile(r"\s*(?:đồng|dong|vnđ|vnd|đ|d)\.?$", re.I)
_MULTIPLIERS = {
    "nghìn": 1000,
    "ngàn": 1000,
    "nghin": 1000,
    "ngan": 1000,
    "triệu": 10**6,
    "trieu": 10**6,
    "tỷ": 10**9,
    "tỉ": 10**9,
    "ty": 10**9,
}
_MULTIPLIER = re.compile(r"(\d+(?:[.,]\d+)?)\s*(" + "|".join(_MULTIPLIERS) + r")", re.I)


def _integer(check: _Checker, field: Field, value: object, cell: _Cell, font: str | None) -> object:
    number = _parse_int(check, field, value, cell)
    if number is _INVALID:
        return _INVALID
    assert isinstance(number, int)
    low, high = field.minimum, field.maximum
    if (low is not None and number < low) or (high is not None and number > high):
        return check.reject(
            "out_of_range", cell, field, value, number=format_int(number), expect=_expect(check.config, field)
        )
    return number


def _parse_int(check: _Checker, field: Field, value: object, cell: _Cell) -> object:
    if isinstance(value, bool):
        return _wrong_type(check, field, value, cell)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return _not_whole(check, field, value, cell)
    if not isinstance(value, str):
        return _wrong_type(check, field, value, cell)
    text = clean(value).replace(" ", "").replace("\u202f", "")
    if field.kind is Kind.MONEY:
        text = _MONEY_SUFFIX.sub("", text)
    if fold(text) in ("khong", "không", "0"):
        return 0
    if _NUMBER_PLAIN.fullmatch(text):
        return int(text)
    if match := _NUMBER_DOTS.fullmatch(text):
        whole = int(match.group(1).replace(".", ""))
        return whole if not (match.group(2) or "").strip("0") else _not_whole(check, field, value, cell)
    if match := _NUMBER_COMMAS.fullmatch(text):
        whole = int(match.group(1).replace(",", ""))
        if (match.group(2) or "").strip("0"):
            return _not_whole(check, field, value, cell)
        if match.group(1).count(",") == 1:
            # "1,500": Vietnamese reads a comma as the decimal sign; only a whole number fits here.
            check.warning(
                "ambiguous_number",
                cell,
                field=field,
                value=value,
                text=value,
                dotted=match.group(1).replace(",", "."),
                number=format_int(whole),
            )
        return whole
    if match := _NUMBER_DECIMAL.fullmatch(text):
        if not match.group(2).strip("0"):
            return int(match.group(1))
        return _not_whole(check, field, value, cell)
    if field.kind is Kind.MONEY and (match := _MULTIPLIER.fullmatch(clean(value).lower())):
        amount = Fraction(match.group(1).replace(",", ".")) * _MULTIPLIERS[match.group(2)]
        if amount.denominator == 1:
            check.warning(
                "number_in_words",
                cell,
                field=field,
                value=value,
                text=value,
                amount=format_int(int(amount)),
                digits=int(amount),
            )
            return int(amount)
    return check.reject(
        "not_a_number", cell, field, value, text=_as_text(value), expect=_expect(check.config, field)
    )


def _not_whole(check: _Checker, field: Field, value: object, cell: _Cell) -> object:
    return check.reject(
        "not_whole_number", cell, field, value, text=_as_text(value), expect=_expect(check.config, field)
    )


def _choice(check: _Checker, field: Field, value: object, cell: _Cell, font: str | None) -> object:
    assert field.choices is not None
    index = check.choices[field.choices]
    if isinstance(value, bool) and field.choices is ChoiceList.YES_NO:
        return value
    text = value if isinstance(value, str) else _as_text(value) if isinstance(value, int) else None
    if text is not None and not isinstance(value, bool):
        option = index.get(text) or index.get(_choice_key(text)) or index.get(_slug(text))
        if option is not None:
            return option.value
        guess = detect_legacy(text, font)
        if guess is not None:
            option = index.get(guess.text) or index.get(_choice_key(guess.text))
            if option is not None:
                encoding = LEGACY_ENCODING_NAMES[guess.encoding]
                check.warning(
                    "legacy_encoding_converted/choice",
                    cell,
                    field=field,
                    value=text,
                    text=text,
                    encoding=encoding,
                    option=option.label,
                )
                return option.value
    labels = "; ".join(o.label for o in form.choice_options(check.config, field.choices))
    return check.reject(
        "allowed_values", cell, field, value, text=_as_text(value), label=field.label, labels=labels
    )


_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")


def _phone(check: _Checker, field: Field, value: object, cell: _Cell, font: str | None) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        digits = str(value)
        digits = "0" + digits if len(digits) in (9, 10) and not digits.startswith("0") else digits
    elif isinstance(value, str):
        digits = _PHONE_SEPARATORS.sub("", value)
        if digits.startswith("+84"):
            digits = "0" + digits[3:]
        elif digits.startswith("84") and len(digits) == 11:
            digits = "0" + digits[2:]
    else:
        return _wrong_type(check, field, value, cell)
    if digits.isdigit() and digits.startswith("0") and 10 <= len(digits) <= 11:
        return digits
    check.warning(
        "phone_format",
        cell,
        field=field,
        value=value,
        text=_as_text(value),
        expect=_expect(check.config, field),
    )
    return _as_text(value)


def _wrong_type(check: _Checker, field: Field, value: object, cell: _Cell) -> object:
    return check.reject(
        "wrong_type",
        cell,
        field,
        value,
        text=_as_text(value),
        label=field.label,
        expect=_expect(check.config, field),
    )


_CONVERTERS = {
    Kind.TEXT: _text,
    Kind.CODE: _code,
    Kind.PERIOD: _period,
    Kind.DATE: _date,
    Kind.INT: _integer,
    Kind.MONEY: _integer,
    Kind.CHOICE: _choice,
    Kind.PHONE: _phone,
}


# ------------------------------------------------------------------------------------------------
# Helpers


def _assumed(field: Field) -> str:
    """What an optional field not found in the form is taken as, in words: 'là “0”', 'để trống'."""
    if field.default in ("", None):
        return hint("assumed_empty")
    return hint("assumed_value", default=_as_text(field.default))


def _born(day: dt.date | None) -> str:
    """' (sinh 05/01/1980)' after a person's name, or nothing."""
    return " " + hint("born", date=format_date(day)) if day else ""


def _as_text(value: object) -> str | None:
    """A found value as the clerk would read it."""
    if value is None or value is _INVALID:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return format_date(value)
    if isinstance(value, float):
        return str(value).replace(".", ",")
    return str(value)


_LABEL_NOISE = re.compile(r"\(\s*\*\s*\)|\*|:\s*$")


@functools.lru_cache(maxsize=4096)
def _label_key(text: str) -> str:
    """A label as compared: folded, without the '(*)' or ':' people add. Cached: labels repeat."""
    return fold(_LABEL_NOISE.sub("", clean(text)))


@functools.lru_cache(maxsize=8)
def _labels(fields: tuple[Field, ...]) -> tuple[dict[str, Field], dict[str, Field]]:
    """Fields by folded label and by accent-less label."""
    return {_label_key(f.label): f for f in fields}, {slug(f.label): f for f in fields}


_NAME_LABEL_KEY = _label_key(form.staff_field("name").label)


@functools.lru_cache(maxsize=4096)
def _slug(text: str) -> str:
    return slug(text)


def _choice_key(text: str) -> str:
    return fold(text.strip(" .;,'\"“”"))


_UNITS: dict[int, tuple[Config, dict[str, Unit]]] = {}


def _units(config: Config) -> dict[str, Unit]:
    """Upper-cased unit code -> unit, built once per config (Config.unit rebuilds it on every call)."""
    cached = _UNITS.get(id(config))
    if cached is None or cached[0] is not config:
        cached = _UNITS[id(config)] = (config, {u.code.upper(): u for u in config.units})
    return cached[1]


_INDEXES: dict[int, tuple[Config, dict[ChoiceList, dict[str, Option]]]] = {}


def _choice_index(config: Config) -> dict[ChoiceList, dict[str, Option]]:
    """For each choice list: exact label, folded label/alias and accent-less form -> option.

    An accent-less form shared by two options is left out (ambiguous); cached per config object.
    """
    cached = _INDEXES.get(id(config))
    if cached is not None and cached[0] is config:
        return cached[1]
    out: dict[ChoiceList, dict[str, Option]] = {}
    for choices in ChoiceList:
        index: dict[str, Option] = {}
        slugs: dict[str, set[int]] = {}
        options = form.choice_options(config, choices)
        for number, option in enumerate(options):
            for text in (option.label, *option.aliases):
                index.setdefault(text, option)
                index.setdefault(_choice_key(text), option)
                slugs.setdefault(slug(text), set()).add(number)
        for key, numbers in slugs.items():
            if len(numbers) == 1 and key:
                index.setdefault(key, options[next(iter(numbers))])
        out[choices] = index
    _INDEXES[id(config)] = (config, out)
    return out


def _expect(config: Config, field: Field) -> str:
    """What to enter instead, in words."""
    if field.kind is Kind.CHOICE and field.choices is not None:
        return (
            "Chọn một trong: " + "; ".join(o.label for o in form.choice_options(config, field.choices)) + "."
        )
    if field.kind is Kind.CODE:
        return "Ghi mã đơn vị, một trong: " + ", ".join(u.code for u in config.units) + "."
    if field.kind is Kind.PERIOD:
        return "Ghi tháng báo cáo dạng MM/YYYY, ví dụ 02/2024."
    if field.kind is Kind.DATE:
        return f"Ghi ngày dạng dd/mm/yyyy, ví dụ {format_date(form.date_example(field))}."
    if field.kind in (Kind.INT, Kind.MONEY):
        low = field.minimum if field.minimum is not None else 0
        unit = " (đồng)" if field.kind is Kind.MONEY else ""
        if field.maximum is not None:
            return (
                f"Ghi số nguyên từ {format_int(low)} đến {format_int(field.maximum)}{unit}, chỉ ghi chữ số."
            )
        return f"Ghi số nguyên từ {format_int(low)} trở lên{unit}, chỉ ghi chữ số."
    if field.kind is Kind.PHONE:
        return "Ví dụ 0214 3840 123 hoặc 0912 345 678."
    return field.help


def _allowed_unit_rank(config: Config, ratings: Sequence[str]) -> int:
    """The best unit rating rank the staff results allow (0 = the best level)."""
    good_rank = config.rating_rank(config.good_rating)
    worst_rank = len(config.ratings) - 1
    ranks = [config.rating_rank(r) for r in ratings]
    good_share = Fraction(sum(1 for r in ranks if r <= good_rank), len(ranks))
    if all(r < worst_rank for r in ranks) and good_share >= BEST_RATING_MIN_GOOD_SHARE:
        return 0
    if good_share > GOOD_RATING_MIN_GOOD_SHARE:
        return min(good_rank, worst_rank)
    return min(good_rank + 1, worst_rank)


def _unit_report(
    config: Config,
    version: form.FormVersion,
    unit_code: str,
    period: Period,
    values: dict[str, object],
    people: list[tuple[PersonRecord, int]],
) -> UnitReport:
    """The unit's report from its valid values: an invalid one counts as its field's empty value."""
    report_fields = {f.name for f in dataclasses.fields(UnitReport)}
    typed: dict[str, object] = {}
    # A field the file's version lacks takes its empty value, like a field left empty (none so far).
    for field in (*version.unit_fields, *form.missing_fields(version)):
        if field.key not in report_fields or field.key in typed:
            continue
        value = values.get(field.key, field.default)
        if value is _INVALID or value is None:
            value = _blank(field)
        typed[field.key] = value
    unit = _units(config).get(unit_code)
    typed["unit_code"] = unit_code
    typed["period"] = period
    if not typed.get("unit_name") and unit is not None:
        typed["unit_name"] = unit.name
    return UnitReport(**typed, people=tuple(p for p, _ in people))  # type: ignore[arg-type]


def _blank(field: Field) -> object:
    if field.default is not None:
        return field.default
    return {Kind.INT: 0, Kind.MONEY: 0, Kind.DATE: None, Kind.CHOICE: None}.get(field.kind, "")


# ------------------------------------------------------------------------------------------------
# Across files


_NAME_COLUMN = column_letter(next(i for i, f in enumerate(form.STAFF_FIELDS, 1) if f.key == "name"))


def _people_in_two_units(config: Config, submissions: list[Submission]) -> None:
    # Month by month: a person is looked for in the other units of the same month only, and one month's
    # table (50,000 people in a province) is all that is held at once, not a year's.
    by_month: dict[str, list[Submission]] = {}
    for sub in submissions:
        assert sub.report is not None
        by_month.setdefault(str(sub.report.period), []).append(sub)
    # A person's spelling recurs month after month: its key is made once (as aggregate's _People does).
    keys: dict[tuple[str, dt.date | None], str] = {}
    for month in by_month.values():
        _people_in_two_units_of_a_month(config, month, keys)


def _people_in_two_units_of_a_month(
    config: Config, submissions: list[Submission], keys: dict[tuple[str, dt.date | None], str]
) -> None:
    # Each file's keys as a list, counted at once: only the rare key found twice is looked at person by
    # person, and only in the files that hold one.
    file_keys: list[list[str]] = []
    for sub in submissions:
        assert sub.report is not None
        spellings = [(person.name, person.birth_date) for person in sub.report.people]
        found = list(map(keys.get, spellings))
        if None in found:
            found = [
                key if key is not None else keys.setdefault(spelling, person_key(*spelling))
                for key, spelling in zip(found, spellings, strict=True)
            ]
        file_keys.append(found)
    counts = collections.Counter(itertools.chain.from_iterable(file_keys))
    twice = {key for key, count in counts.items() if count > 1}
    clashes: dict[str, list[tuple[Submission, PersonRecord]]] = {}
    for sub, found in zip(submissions, file_keys, strict=True):
        if twice.isdisjoint(found):
            continue
        for key, person in zip(found, sub.report.people, strict=True):  # type: ignore[union-attr]
            if key in twice:
                entries = clashes.setdefault(key, [])
                if not entries or entries[0][1] is not person:  # the same record listed again
                    entries.append((sub, person))
    for entries in clashes.values():
        period = entries[0][0].report.period  # type: ignore[union-attr]
        units = {sub.report.unit_code for sub, _ in entries}  # type: ignore[union-attr]
        if len(units) < 2:
            continue
        for sub, person in entries:
            others = sorted(units - {sub.report.unit_code})  # type: ignore[union-attr]
            names = ", ".join(f"{code} ({_unit_name(config, code)})" for code in others)
            _append(
                sub,
                finding(
                    "person_in_two_units",
                    sub.file.display_name,
                    sheet=form.STAFF_SHEET,
                    cell=f"{_NAME_COLUMN}{person.row}",
                    field=form.staff_field("name").label,
                    value=person.name,
                    at_row=person.row,
                    name=person.name,
                    born=_born(person.birth_date),
                    period=period.label,
                    units=names,
                ),
            )


def _headcount_changes(config: Config, submissions: list[Submission]) -> None:
    limit = Fraction(str(config.validation.headcount_change_warning))
    accepted: dict[str, dict[Period, Submission]] = {}
    for sub in submissions:
        if sub.status in (FileStatus.ACCEPTED, FileStatus.ACCEPTED_PARTIAL):
            report = sub.report
            assert report is not None
            by_period = accepted.setdefault(report.unit_code, {})
            current = by_period.get(report.period)
            if current is None or current.file.received_at < sub.file.received_at:
                by_period[report.period] = sub
    ordered = {code: sorted(periods) for code, periods in accepted.items()}
    for code, periods in ordered.items():
        for index, period in enumerate(periods):
            if index == 0:
                continue
            previous = periods[index - 1]
            sub = accepted[code][period]
            count = len(sub.report.people)  # type: ignore[union-attr]
            before = len(accepted[code][previous].report.people)  # type: ignore[union-attr]
            if before == 0 or Fraction(abs(count - before), before) <= limit:
                continue
            change = Fraction(count - before, before)
            _append(
                sub,
                finding(
                    "headcount_change/up" if change > 0 else "headcount_change/down",
                    sub.file.display_name,
                    sheet=form.STAFF_SHEET,
                    value=str(count),
                    period=period.label,
                    count=count,
                    previous=previous.label,
                    before=before,
                    change=format_percent(abs(change)),
                    limit=format_percent(limit, 0),
                ),
            )


def _meta_period(meta: dict[str, str] | None) -> Period | None:
    try:
        return Period.parse(meta["period"]) if meta and meta.get("period") else None
    except UserError:
        return None


def _unit_name(config: Config, code: str) -> str:
    unit = _units(config).get(code.upper())
    return unit.name if unit else code


def _append(sub: Submission, finding: Finding) -> None:
    if finding not in sub.findings:
        sub.findings.append(finding)
