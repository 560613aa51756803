"""A memo of validated workbooks, so each month's run reads only the files that are new.

The campaign-to-date figures need every month's files, but a file already validated under the same
config and the same program gives the same result: its Submission (before the rules across files, which
are re-applied on every run) is kept here by the file's sha256. The memo is plain JSON in the output
folder, never code (no pickle: the folder may be shared), and is thrown away whenever the config, the
form or the validating code changes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
from pathlib import Path

from processor import __version__
from processor.config import Config
from processor.records import (
    FileStatus,
    Finding,
    Period,
    PersonRecord,
    ReceivedFile,
    Severity,
    Submission,
    UnitReport,
    UserError,
)

CACHE_FORMAT = "thidua-validated/3"
CACHE_NAME = "validated.json"
# Below this many superseded or forgotten lines the memo is not worth rewriting.
COMPACT_MIN_LINES = 1000
# The modules whose code decides what a workbook validates to.
_SOURCES = ("validate.py", "reader.py", "form.py", "vntext.py", "records.py", "ingest_cache.py")


def cache_key(config: Config, accept_partial: bool) -> str:
    digest = hashlib.sha256()
    digest.update(f"{CACHE_FORMAT}|{__version__}|{config.sha256}|{accept_partial}".encode())
    package = Path(__file__).parent
    for name in _SOURCES:
        digest.update((package / name).read_bytes())
    return digest.hexdigest()


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _encode_report(report: UnitReport) -> dict:
    fields = {f.name: getattr(report, f.name) for f in dataclasses.fields(report) if f.name != "people"}
    fields["period"] = str(report.period)
    fields["prepared_on"] = report.prepared_on.isoformat() if report.prepared_on else None
    return fields


def _encode_people(report: UnitReport | None) -> list:
    return [
        [
            p.row,
            p.name,
            p.birth_date.isoformat() if p.birth_date else None,
            p.position,
            p.category,
            p.registered,
            p.rating,
            p.social,
            p.initiatives,
            p.discipline,
            p.note,
        ]
        for p in (report.people if report else ())
    ]


class _Shared:
    """One object per distinct text and birth date across the memo's staff rows.

    json.loads makes a new string for every occurrence: the same positions, categories and ratings
    100,000 times a quarter, and each person's name and birth date again every month. Shared, a quarter's
    staff rows take 16 MB instead of 55 MB (an annual campaign's, 90 MB instead of 300 MB), at the same
    cost in time: a date looked up is not parsed again.
    """

    def __init__(self) -> None:
        self.text: dict[str, str] = {}
        self.dates: dict[str, dt.date] = {}
        self.born: dict[dt.date, dt.date] = {}

    def records(self, people: tuple[PersonRecord, ...]) -> tuple[PersonRecord, ...]:
        """Records made elsewhere (a validation worker) with their texts and birth dates shared."""
        text, born = self.text.setdefault, self.born.setdefault
        return tuple(
            PersonRecord(
                p.row,
                text(p.name, p.name),
                born(p.birth_date, p.birth_date) if p.birth_date is not None else None,
                text(p.position, p.position),
                text(p.category, p.category),
                p.registered,
                text(p.rating, p.rating),
                p.social,
                p.initiatives,
                text(p.discipline, p.discipline),
                text(p.note, p.note),
            )
            for p in people
        )

    def people(self, rows: list) -> tuple[PersonRecord, ...]:
        text, dates = self.text.setdefault, self.dates
        out = []
        for (
            row,
            name,
            birth,
            position,
            category,
            registered,
            rating,
            social,
            initiatives,
            discipline,
            note,
        ) in rows:
            born = dates.get(birth) if birth is not None else None
            if born is None and birth is not None:
                born = dates[birth] = dt.date.fromisoformat(birth)
            out.append(
                PersonRecord(
                    row,
                    text(name, name),
                    born,
                    text(position, position),
                    text(category, category),
                    registered,
                    text(rating, rating),
                    social,
                    initiatives,
                    text(discipline, discipline),
                    text(note, note),
                )
            )
        return tuple(out)


def _decode_report(data: dict, people: tuple[PersonRecord, ...]) -> UnitReport:
    values = {**data, "people": people, "period": Period.parse(data["period"])}
    values["prepared_on"] = _date(data["prepared_on"])
    return UnitReport(**values)


def encode(sub: Submission) -> str:
    """A memo entry: the submission as JSON, a tab, its staff rows as JSON (parsed only when needed)."""
    entry = {
        "status": sub.status.value,
        "unit_code": sub.unit_code,
        "period": str(sub.period) if sub.period else None,
        "findings": [
            [f.severity.value, f.code, f.message, f.sheet, f.cell, f.field, f.value] for f in sub.findings
        ],
        "report": _encode_report(sub.report) if sub.report else None,
    }
    # JSON never holds a raw tab (it is escaped in strings): the tab is a safe separator.
    people = json.dumps(_encode_people(sub.report), ensure_ascii=False)
    return f"{json.dumps(entry, ensure_ascii=False)}\t{people}"


def decode(text: str, file: ReceivedFile, staff: bool = True, shared: _Shared | None = None) -> Submission:
    head, tab, people = text.partition("\t")
    if not tab:
        raise ValueError("memo entry without its staff rows")
    data = json.loads(head)
    report = None
    if data["report"]:
        rows = (shared or _Shared()).people(json.loads(people)) if staff else ()
        report = _decode_report(data["report"], rows)
    return Submission(
        file=file,
        status=FileStatus(data["status"]),
        findings=[
            Finding(Severity(sev), code, message, file.display_name, sheet, cell, field, value)
            for sev, code, message, sheet, cell, field, value in data["findings"]
        ],
        unit_code=data["unit_code"],
        period=Period.parse(data["period"]) if data["period"] else None,
        report=report,
    )


class ValidationCache:
    """Validated submissions by sha256, loaded from and saved to one text file.

    One line per file: its sha256, a tab, its submission as JSON, a tab, its staff rows as JSON; a first
    line names the format and key.
    A province's memo holds 100,000 staff rows: an entry is parsed only when its file is still in the
    inbox. A run appends the entries of its new files instead of rewriting the memo (a month adds a third
    to a quarter's memo; rewriting it all cost more than validating some files); the same sha256 twice
    means the later line wins. The file is rewritten, keeping only the files still in the inbox, when it
    is not this memo's (other config or program) or when most of its lines are for files gone.
    """

    def __init__(self, path: Path, key: str):
        self.path = Path(path)
        self.key = key
        # sha256 -> the entry as read: UTF-8 bytes, a third of the memory of text (an annual campaign's
        # memo is 70 MB) and decoded only for the files still in the inbox.
        self._lines: dict[str, bytes] = {}
        self._line_count = 0  # entry lines in the file, superseded ones included
        self._appendable = False  # the file holds this memo (format and key) and can grow at its end
        self._new: dict[str, str] = {}
        self._used: set[str] = set()
        self._shared = _Shared()  # the staff rows of all entries share their texts and dates
        try:
            with open(self.path, "rb") as stream:
                if not self._is_ours(stream.readline()):
                    return  # no memo, or one of another config or program: validate everything again
                self._appendable = True
                for line in stream:  # split at b"\n" only: U+2028 may sit unescaped in an entry
                    sha, tab, entry = line.rstrip(b"\r\n").partition(b"\t")
                    if tab and len(sha) == 64:
                        self._lines[sha.decode("ascii", "replace")] = entry
                        self._line_count += 1
        except OSError:
            return

    def holds(self, sha256: str) -> bool:
        return sha256 in self._lines

    def get(self, file: ReceivedFile, staff: bool = True) -> Submission | None:
        """The remembered submission; with `staff=False` its report has no staff rows, which are then not
        even parsed (a tenth of the cost: who reported and how does not need them)."""
        entry = self._lines.get(file.sha256)
        if entry is None:
            return None
        try:
            sub = decode(entry.decode("utf-8"), file, staff, self._shared)
        except (ValueError, KeyError, TypeError, AttributeError):
            return None  # a damaged line: that file is validated again
        self._used.add(file.sha256)
        return sub

    def share_staff(self, sub: Submission) -> None:
        """Let a freshly validated submission's staff rows share texts and dates with the memo's."""
        if sub.report is not None and sub.report.people:
            sub.report = dataclasses.replace(sub.report, people=self._shared.records(sub.report.people))

    def put(self, sub: Submission, entry: str | None = None) -> None:
        """Remember a submission as validate_workbook returned it (before the rules across files);
        `entry` is its `encode`d text when that was already made."""
        self._new[sub.file.sha256] = entry if entry is not None else encode(sub)
        self._used.add(sub.file.sha256)

    def save(self) -> None:
        """Append this run's new entries; rewrite the memo when it is foreign or mostly dead lines."""
        # A read-only or full output folder: the memo only saves time, the results do not depend on it.
        with contextlib.suppress(UserError, OSError):
            live = len(self._used)
            dead = self._line_count + len(self._new) - live
            if self._appendable and dead <= max(live, COMPACT_MIN_LINES):
                self._append()
            elif self._new or dead:
                self._rewrite()

    def _entry_lines(self, shas) -> list[bytes]:
        out = []
        for sha in shas:
            new = self._new.get(sha)
            out.append(sha.encode("ascii") + b"\t" + (new.encode("utf-8") if new else self._lines[sha]))
        return out

    def _append(self) -> None:
        if not self._new:
            return
        from filelock import FileLock, Timeout

        text = b"\n".join(self._entry_lines(sorted(self._new))) + b"\n"
        # `thidua status` saves without the workspace lock: two appenders must not interleave.
        try:
            with FileLock(str(self.path) + ".lock", timeout=10), open(self.path, "r+b") as out:
                # Another process (a run under an edited config) may have rewritten the memo since it was
                # read: entries validated under this key must not join a memo of another.
                if not self._is_ours(out.readline()):
                    return
                out.seek(0, 2)
                if out.tell() and (out.seek(-1, 2), out.read(1))[1] != b"\n":
                    text = b"\n" + text  # the torn last line of a killed run stays a line of its own
                out.write(text)
        except Timeout:
            return

    def _is_ours(self, head: bytes) -> bool:
        try:
            header = json.loads(head)
        except ValueError:
            return False
        return (
            isinstance(header, dict)
            and header.get("format") == CACHE_FORMAT
            and header.get("key") == self.key
        )

    def _rewrite(self) -> None:
        from processor.render.atomic import write_bytes

        header = json.dumps({"format": CACHE_FORMAT, "key": self.key}).encode("ascii")
        write_bytes(self.path, b"\n".join([header, *self._entry_lines(sorted(self._used))]) + b"\n")
