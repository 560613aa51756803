"""A memo of validated workbooks, so each month's run reads only the files that are new.

The campaign-to-date figures need every month's files, but a file already validated under the same
rules gives the same result: its Submission (before the rules across files, which are re-applied on every
run) is kept here by the file's sha256, with the key of the rules it was validated under (`Rules`): its
form version's definition, the parts of the config that validation reads, and RULES_REVISION. Not the
program's source: a change of code that changes no rule re-checks no history. A changed rule re-checks
the files it applies to, and a file that was accepted and is refused now is said so (a finding, see
`put`), never silently flipped. The memo is plain JSON in the output folder, never code (no pickle: the
folder may be shared).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import hashlib
import json
from pathlib import Path

from processor import findings as catalogue
from processor import form
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

CACHE_FORMAT = "thidua-validated/4"
CACHE_NAME = "validated.json"
# Below this many superseded or forgotten lines the memo is not worth rewriting.
COMPACT_MIN_LINES = 1000
# The program's own validation rules, as a number: raise it with a change of validate.py or reader.py that
# changes what some file validates to (a new check, a message reworded), so every file is checked again.
# A refactoring or a speed-up leaves it: the history stays as it was checked.
RULES_REVISION = 2  # 2: cells without an `r` reference; duplicates by vntext.person_key
# Code of the finding on a file accepted before and refused under today's rules.
REFUSED_CODE = "refused_after_rule_change"


def _config_rules(config: Config) -> str:
    """The parts of the config that validation reads, as text: editing anything else (documents, targets,
    awards, e-mail addresses) re-checks nothing."""
    parts = {
        "ratings": config.ratings,
        "staff_categories": config.staff_categories,
        "disciplines": config.disciplines,
        "units": [(u.code, u.name) for u in config.units],
        "campaigns": [(c.id, c.name, c.start, c.end) for c in config.campaigns],
        "validation": config.validation,
        "clerk_unit": config.office.clerk_unit,
        "form": config.form,
    }
    return json.dumps(parts, ensure_ascii=False, sort_keys=True, default=_plain)


def _plain(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return str(value)  # dates


class Rules:
    """The key of the rules a file is validated under, by the form version it names.

    A file is checked against its own version's definition; a file naming no version or one this program
    does not know is checked against the version of today's templates (validate.py), so its key is that
    version's, marked as such. Computed once per version.
    """

    def __init__(self, config: Config, accept_partial: bool):
        base = f"{CACHE_FORMAT}|{RULES_REVISION}|{accept_partial}|{_config_rules(config)}"
        self._base = hashlib.sha256(base.encode()).hexdigest()
        self._current = form.current_version(config)
        self._keys: dict[str | None, str] = {}

    def key(self, version: str | None) -> str:
        """The rules key of a file naming `version` (None: no version)."""
        known = form.VERSIONS.get(version) if version is not None else None
        slot = version if known is not None else (None if version is None else "?")
        key = self._keys.get(slot)
        if key is None:
            if known is not None:
                what = f"version {known.version} {known.digest}"
            else:
                what = f"{'unknown' if slot else 'none'} {','.join(form.VERSIONS)} {self._current.digest}"
            key = self._keys[slot] = hashlib.sha256(f"{self._base}|{what}".encode()).hexdigest()[:32]
        return key

    @functools.cached_property
    def valid(self) -> frozenset[str]:
        return frozenset(self.key(v) for v in (*form.VERSIONS, None, "?"))


class _OneKey:
    """Rules under one fixed key, whatever the version (tests, and memos made by hand)."""

    def __init__(self, key: str):
        self.valid = frozenset([key])
        self._key = key

    def key(self, version: str | None) -> str:
        return self._key


def cache_key(config: Config, accept_partial: bool) -> Rules:
    """What a memo's entries are checked against: the rules of this config (see Rules)."""
    return Rules(config, accept_partial)


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
            p.gender,
            p.ethnicity,
            p.recruited_on.isoformat() if p.recruited_on else None,
            p.leader,
        ]
        for p in (report.people if report else ())
    ]


class _Shared:
    """One object per distinct text and date across the memo's staff rows.

    json.loads makes a new string for every occurrence: the same positions, categories and ratings
    100,000 times a quarter, and each person's name and birth date again every month. Shared, a quarter's
    staff rows take 16 MB instead of 55 MB (an annual campaign's, 90 MB instead of 300 MB), at the same
    cost in time: a date looked up is not parsed again.
    """

    def __init__(self) -> None:
        self.text: dict[str, str] = {}
        self.dates: dict[str, dt.date] = {}  # the memo's ISO texts -> one date each
        self.days: dict[dt.date, dt.date] = {}  # dates made elsewhere (a worker's rows) -> one object each

    def records(self, people: tuple[PersonRecord, ...]) -> tuple[PersonRecord, ...]:
        """Records made elsewhere (a validation worker) with their texts and dates shared."""
        text, day = self.text.setdefault, self.days.setdefault
        return tuple(
            PersonRecord(
                p.row,
                text(p.name, p.name),
                day(p.birth_date, p.birth_date) if p.birth_date is not None else None,
                text(p.position, p.position),
                text(p.category, p.category),
                p.registered,
                text(p.rating, p.rating),
                p.social,
                p.initiatives,
                text(p.discipline, p.discipline),
                text(p.note, p.note),
                p.gender if p.gender is None else text(p.gender, p.gender),
                p.ethnicity if p.ethnicity is None else text(p.ethnicity, p.ethnicity),
                day(p.recruited_on, p.recruited_on) if p.recruited_on is not None else None,
                p.leader,
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
            gender,
            ethnicity,
            recruited,
            leader,
        ) in rows:
            born = dates.get(birth) if birth is not None else None
            if born is None and birth is not None:
                born = dates[birth] = dt.date.fromisoformat(birth)
            if recruited is not None:
                day = dates.get(recruited)
                if day is None:
                    day = dates[recruited] = dt.date.fromisoformat(recruited)
                recruited = day
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
                    gender if gender is None else text(gender, gender),
                    ethnicity if ethnicity is None else text(ethnicity, ethnicity),
                    recruited,
                    leader,
                )
            )
        return tuple(out)


def _decode_report(data: dict, people: tuple[PersonRecord, ...]) -> UnitReport:
    values = {**data, "people": people, "period": Period.parse(data["period"])}
    values["prepared_on"] = _date(data["prepared_on"])
    return UnitReport(**values)


def _encode_finding(f: Finding) -> list:
    return [f.severity.value, f.code, f.message, f.sheet, f.cell, f.field, f.value]


def encode(sub: Submission) -> str:
    """A memo entry: the submission as JSON, a tab, its staff rows as JSON (parsed only when needed)."""
    entry = {
        "status": sub.status.value,
        "unit_code": sub.unit_code,
        "period": str(sub.period) if sub.period else None,
        "findings": [_encode_finding(f) for f in sub.findings],
        "report": _encode_report(sub.report) if sub.report else None,
        "form_version": sub.form_version,
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
        form_version=data["form_version"],
    )


def _was_accepted(entry: bytes) -> bool:
    try:
        head = json.loads(entry.partition(b"\t")[0])
        return head["status"] == FileStatus.ACCEPTED.value
    except (ValueError, KeyError, TypeError):
        return False


def refused_finding(sub: Submission) -> Finding:
    """The finding on a file accepted under the rules of an earlier run and refused under today's."""
    partial = sub.status is FileStatus.ACCEPTED_PARTIAL
    return catalogue.finding(
        "refused_after_rule_change/partial" if partial else "refused_after_rule_change/rejected",
        sub.file.display_name,
    )


def refused_after_rule_change(submissions) -> list[Submission]:
    """The files accepted before and refused under today's rules (see ValidationCache.put)."""
    return [s for s in submissions if any(f.code == REFUSED_CODE for f in s.findings)]


class ValidationCache:
    """Validated submissions by sha256, loaded from and saved to one text file.

    One line per file: its sha256, a tab, the key of the rules it was validated under (Rules.key), a tab,
    its submission as JSON, a tab, its staff rows as JSON; a first line names the format.
    A province's memo holds 100,000 staff rows: an entry is parsed only when its file is still in the
    inbox. A run appends the entries of its new files instead of rewriting the memo (a month adds a third
    to a quarter's memo; rewriting it all cost more than validating some files); the same sha256 twice
    means the later line wins. An entry under other rules than today's is validated again (its old status
    is kept for `put` to compare). The file is rewritten, keeping only the files still in the inbox, when it
    is not of this format or when most of its lines are for files gone.
    """

    def __init__(self, path: Path, key: Rules | str):
        self.path = Path(path)
        # A plain string: one key for every entry and the memo (tests, and callers without a config).
        self.rules: Rules | _OneKey = _OneKey(key) if isinstance(key, str) else key
        self.key = key if isinstance(key, str) else CACHE_FORMAT
        # sha256 -> the entry as read: UTF-8 bytes, a third of the memory of text (an annual campaign's
        # memo is 70 MB) and decoded only for the files still in the inbox.
        self._lines: dict[str, tuple[bytes, bytes]] = {}  # sha -> (rules key, entry) under today's rules
        self._stale: dict[str, bytes] = {}  # sha -> entry validated under other rules
        self._line_count = 0  # entry lines in the file, superseded ones included
        self._appendable = False  # the file holds this memo (format and key) and can grow at its end
        self._new: dict[str, tuple[str, str]] = {}  # sha -> (rules key, entry)
        self._used: set[str] = set()
        self._shared = _Shared()  # the staff rows of all entries share their texts and dates
        valid = {k.encode("ascii") for k in self.rules.valid}
        try:
            with open(self.path, "rb") as stream:
                if not self._is_ours(stream.readline()):
                    return  # no memo, or one of another format: validate everything again
                self._appendable = True
                for line in stream:  # split at b"\n" only: U+2028 may sit unescaped in an entry
                    sha_bytes, tab, rest = line.rstrip(b"\r\n").partition(b"\t")
                    rules, tab2, entry = rest.partition(b"\t")
                    if not (tab and tab2 and len(sha_bytes) == 64):
                        continue
                    sha = sha_bytes.decode("ascii", "replace")
                    self._line_count += 1
                    if rules in valid:
                        self._lines[sha] = (rules, entry)
                        self._stale.pop(sha, None)
                    else:
                        self._stale[sha] = entry
                        self._lines.pop(sha, None)
        except OSError:
            return

    def holds(self, sha256: str) -> bool:
        """Whether the file was validated under today's rules (else it is read and validated again)."""
        return sha256 in self._lines

    def get(self, file: ReceivedFile, staff: bool = True) -> Submission | None:
        """The remembered submission; with `staff=False` its report has no staff rows, which are then not
        even parsed (a tenth of the cost: who reported and how does not need them)."""
        line = self._lines.get(file.sha256)
        if line is None:
            return None
        rules, entry = line
        try:
            sub = decode(entry.decode("utf-8"), file, staff, self._shared)
        except (ValueError, KeyError, TypeError, AttributeError):
            return None  # a damaged line: that file is validated again
        if self.rules.key(sub.form_version).encode("ascii") != rules:
            return None  # a key of another version's rules: validated again
        self._used.add(file.sha256)
        return sub

    def share_staff(self, sub: Submission) -> None:
        """Let a freshly validated submission's staff rows share texts and dates with the memo's."""
        if sub.report is not None and sub.report.people:
            sub.report = dataclasses.replace(sub.report, people=self._shared.records(sub.report.people))

    def put(self, sub: Submission, entry: str | None = None) -> None:
        """Remember a submission as validate_workbook returned it (before the rules across files);
        `entry` is its `encode`d text when that was already made.

        A file the memo had accepted under other rules and that today's rules refuse (or accept only
        with errors) gets a finding saying so, remembered with it: the clerk sees it on every run until
        the unit sends a new file, in the console, the unit's kiem-tra and summary.json.
        """
        sha = sub.file.sha256
        entry = entry if entry is not None else encode(sub)
        before = self._stale.get(sha)
        if before is not None and sub.status is not FileStatus.ACCEPTED and _was_accepted(before):
            finding = refused_finding(sub)
            sub.findings.append(finding)
            # Into the entry as encoded: `sub` may have lost its staff rows already (status), the entry not.
            head, _, people = entry.partition("\t")
            data = json.loads(head)
            data["findings"].append(_encode_finding(finding))
            entry = f"{json.dumps(data, ensure_ascii=False)}\t{people}"
        self._new[sha] = (self.rules.key(sub.form_version), entry)
        self._used.add(sha)

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
            rules, entry = (new[0].encode("ascii"), new[1].encode("utf-8")) if new else self._lines[sha]
            out.append(sha.encode("ascii") + b"\t" + rules + b"\t" + entry)
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
