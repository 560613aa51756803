"""Collect: find what the units sent, in folders and in e-mails, as Incoming records for validate.

The clerk drops files in an inbox folder: workbooks (.xlsx, .xlsm, .xls, .ods) saved from e-mails, or the
e-mails themselves (.eml from any mail program, .msg from Outlook), in any sub-folder. Collect is the
only stage that reads them. It never changes, moves or deletes a file, and a file it cannot take
becomes a finding, never an exception: one bad file must not stop the others.

Nothing outside the inbox is read: links (symbolic links, Windows junctions) are not followed, FIFOs,
sockets and devices are not opened, each is a finding; folders are walked MAX_FOLDER_DEPTH levels down;
an e-mail has at most validation.max_attachments attachments opened, those of attached e-mails included.

Times: `received_at` is, in this order, the mailbox's own received time (a mailbox intake, not built
yet), the date of the e-mail's topmost `Received:` header, its `Date:` header, else the file's
modification time (`ReceivedFile.received_source` says which). A header time more than a day after the
moment the inbox is read, or before the first campaign began, is not believed: a finding, and the next
source is used. Times are naive datetimes in Vietnam time (UTC+7, a fixed offset: Vietnam has no
daylight saving, and a fixed offset needs no time-zone database on Windows). The same files give the
same times on any machine. See docs/architecture.md "Received time and corrections".

Same bytes twice (sha256) are taken once; the other copies are listed as duplicates. Which of several
files from one unit for one period is the report is resolve's job (processor/resolve.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import email
import email.errors
import email.policy
import errno
import functools
import hashlib
import logging
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import Message
from email.parser import HeaderParser
from email.utils import parseaddr, parsedate_to_datetime
from fractions import Fraction
from pathlib import Path

from processor import findings as catalogue
from processor.config import Config
from processor.mail.journal import message_id, received_times
from processor.records import (
    UNKNOWN_TIME,
    FileStatus,
    Finding,
    Incoming,
    ReceivedFile,
    Submission,
    TimeSource,
    UserError,
)
from processor.vntext import format_date, format_decimal, nfc, one_line, xml_safe

# .ods is read like .xlsx (reader.py). An .xlsb is taken to the reader too, which refuses it with a
# finding the unit receives (save as .xlsx): its binary sheets cannot be bounded before calamine reads
# them as the XML of the other formats is (docs/architecture.md).
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".xlsb")
EMAIL_SUFFIXES = (".eml", ".msg")
VIETNAM_TIME = dt.timezone(dt.timedelta(hours=7), "UTC+07:00")
SEPARATOR = " › "  # between an e-mail's name and its attachment's, in display names

# Files no one sends as a report: office lock and temp files, folder clutter of Windows and macOS.
_CLUTTER_NAMES = {"thumbs.db", "desktop.ini", ".ds_store", "__macosx"}
_WINDOWS_HIDDEN = getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 2) | getattr(stat, "FILE_ATTRIBUTE_SYSTEM", 4)
# Units reach for these when the workbook will not save; each needs its own advice.
_RESAVE_SUFFIXES = {".csv", ".numbers", ".xltx", ".xlt", ".fods"}
_ARCHIVE_SUFFIXES = {".zip", ".rar", ".7z", ".gz", ".tar"}

_MAX_NESTING = 3  # e-mails attached to e-mails: deeper is not a forward, it is a bomb
# Folders below the inbox that are walked: a clerk files by month and unit, a few levels; a chain of a
# thousand folders is an attack on the walk, and what lies below this is one finding.
MAX_FOLDER_DEPTH = 20
# Windows reparse points that lead elsewhere (a symbolic link, a junction): never followed. Other
# reparse points (OneDrive's files kept online) are the files themselves.
_LINK_REPARSE_TAGS = {0xA000000C, 0xA0000003}  # IO_REPARSE_TAG_SYMLINK, IO_REPARSE_TAG_MOUNT_POINT
_REPARSE_POINT = getattr(stat, "FILE_ATTRIBUTE_REPARSE_POINT", 0x400)

# A header time this far after the moment the inbox is read is not believed (a forged Date, a sender's
# clock years off); a day covers every time zone and a sender's clock some hours fast.
FUTURE_TOLERANCE = dt.timedelta(days=1)




@dataclass
class Collected:
    """What the inbox holds, before any workbook is read."""

    incoming: list[Incoming] = field(default_factory=list)  # workbooks to validate, each once
    not_taken: list[Submission] = field(default_factory=list)  # UNREADABLE, each with its findings
    duplicates: list[tuple[ReceivedFile, ReceivedFile]] = field(default_factory=list)  # (copy, kept)
    skipped: list[Path] = field(default_factory=list)  # lock, temporary and hidden files: never reports

    @property
    def findings(self) -> list[Finding]:
        """Every finding about files that could not be taken."""
        return [f for sub in self.not_taken for f in sub.findings]


# -- the public stage ------------------------------------------------------------------------------


def collect(
    inbox: Path,
    config: Config,
    keep_bytes: Callable[[str], bool] | None = None,
    on_new: Callable[[Incoming], bool] | None = None,
    now: dt.datetime | None = None,
) -> Collected:
    """Find every received workbook under `inbox` (recursively, in sorted order) and read its bytes.

    With `keep_bytes`, a workbook whose sha256 it refuses keeps no bytes (`Incoming.data` is b""): the
    memo already knows it, and a province's year of files would otherwise sit in memory all run.
    `on_new` is told of each distinct workbook that keeps its bytes as soon as it has been read; when it
    returns True it holds the bytes, and the workbook's Incoming here has none. Which copy of a file sent
    twice is taken is only known at the end (`Collected.incoming`). `now`: see `ingest`.
    """
    inbox = Path(inbox)
    if not inbox.exists():
        raise UserError(f"Không tìm thấy thư mục {inbox}. Tạo thư mục hoặc chỉ rõ --inbox.")
    if not inbox.is_dir():
        raise UserError(f"{inbox} là một tệp, không phải thư mục. Chỉ rõ thư mục nhận bằng --inbox.")
    collector = _Collector(config, keep_bytes, on_new, now)
    collector.mailbox_times = received_times(inbox)  # what `thidua fetch` recorded (processor/mail)
    collector.add_folder(inbox, prefix="")
    collector.read_walked()
    return collector.done()


def collect_paths(paths: Sequence[Path], config: Config, now: dt.datetime | None = None) -> Collected:
    """Like `collect`, over files (or folders) named one by one: their display name is the path given."""
    collector = _Collector(config, now=now)
    for path in map(Path, paths):
        if path.is_dir():
            collector.add_folder(path, prefix=f"{_shown(str(path)).rstrip('/')}/")
            collector.read_walked()
        else:
            # A link named on the command line is the clerk's choice: its target is read (and read
            # again for the feedback) as the file itself.
            source = Path(os.path.realpath(path)) if path.is_symlink() else path
            collector.add_file(source, _shown(str(path)), named=True)
    return collector.done()


def read_source(file: ReceivedFile) -> bytes:
    """A received workbook's bytes again (the feedback stage annotates a copy): the file itself, or the
    attachment taken out of its e-mail again. The bytes must still be the ones that were validated."""
    try:
        data = _read_stable(file.source_path, None)[0]
    except _SourceProblem as problem:
        raise UserError(f"Không đọc lại được tệp {file.display_name}: {problem.message}") from None
    if file.attachment_name is None:
        if _sha256(data) == file.sha256:
            return data
    else:
        try:
            parts = _reopen_email(data, file.source_path.suffix.lower())
        except _EmailUnreadable:
            parts = None
        for attachment in parts.attachments if parts else ():
            if attachment.name == file.attachment_name and _sha256(attachment.data) == file.sha256:
                return attachment.data
    raise UserError(
        f"Tệp {file.display_name} đã thay đổi hoặc không còn trong thư mục nhận kể từ lúc kiểm tra. "
        "Chạy lại để kiểm tra tệp hiện có."
    )


@functools.lru_cache(maxsize=2)
def _reopen_email(data: bytes, suffix: str) -> _Email:
    """An e-mail opened again for one of its attachments: the next attachment asked for is most often
    from the same e-mail, and parsing one with thousands of parts takes a second."""
    return _open_email(data, suffix, max_attachments=None)




class _SourceProblem(Exception):
    """A file that cannot be taken, with the finding that says why (`key` in processor/findings.py, its
    message filled from `fields`)."""

    def __init__(self, key: str, value: str | None = None, **fields: object):
        entry = catalogue.CATALOGUE[key]
        message = entry.format(fields)
        super().__init__(message)
        self.code, self.message, self.severity, self.value = entry.code, message, entry.severity, value
        self.sender: str | None = None  # an e-mail that could not be taken still says who sent it, when
        self.sent_at: dt.datetime | None = None
        self.time_source = TimeSource.MTIME  # of sent_at


class _EmailUnreadable(Exception):
    pass


@dataclass(frozen=True)
class _Attachment:
    name: str
    data: bytes
    via: tuple[str, ...] = ()  # the attached e-mails it sits in ("forward as attachment"), outermost first
    sender: str | None = None  # of the innermost of those e-mails: the unit that wrote it
    sent_at: dt.datetime | None = None
    relayed_at: dt.datetime | None = None  # that e-mail's topmost Received: header


@dataclass
class _Email:
    sender: str | None
    sent_at: dt.datetime | None
    attachments: list[_Attachment]  # in the e-mail's order, those of attached e-mails in place
    forwarded: int = 0  # attached e-mails that could not be opened
    dropped: int = 0  # attachments and attached e-mails past validation.max_attachments, not opened
    relayed_at: dt.datetime | None = None  # the topmost Received: header: the office's server got it
    message_id: str | None = None  # what a reply names in In-Reply-To (.eml only)


class _Budget:
    """How many more attachments one e-mail may have opened, those of the e-mails attached to it (at any
    depth) included: one e-mail with 20,000 tiny workbooks must not become 20,000 files to validate and
    40,000 to write."""

    def __init__(self, limit: int | None):
        self.left = limit
        self.dropped = 0

    def take(self) -> bool:
        if self.left is None:
            return True
        if self.left > 0:
            self.left -= 1
            return True
        self.dropped += 1
        return False


class _Collector:
    def __init__(
        self,
        config: Config,
        keep_bytes: Callable[[str], bool] | None = None,
        on_new: Callable[[Incoming], bool] | None = None,
        now: dt.datetime | None = None,
    ):
        # Header times are believed between the first campaign's start and a day after this moment.
        moment = now if now is not None else dt.datetime.now(dt.UTC)
        self.latest = (moment if moment.tzinfo is None else to_vietnam_time(moment)) + FUTURE_TOLERANCE
        self.earliest = min((dt.datetime.combine(c.start, dt.time()) for c in config.campaigns), default=None)
        self.limit = config.validation.max_file_mb * 1024 * 1024
        self.limit_mb = config.validation.max_file_mb
        self.max_attachments = config.validation.max_attachments
        self.keep_bytes = keep_bytes
        self.on_new = on_new
        self.offered: set[str] = set()
        self.found: list[Incoming] = []
        self.collected = Collected()
        self._walked: list[tuple[Path, str, float]] = []  # files found by add_folder, not yet read
        self.mailbox_times: dict[str, dt.datetime] = {}  # sha256 of a fetched e-mail -> INTERNALDATE

    def read_walked(self) -> None:
        """Read the files add_folder found, newest first: this month's reports are usually the newest
        files, and reading them first lets the validation start while the older, already validated
        files are hashed. What is found keeps the folder's sorted order."""
        walked, self._walked = self._walked, []
        found, missing = self.found, self.collected.not_taken
        slots: list[tuple[list[Incoming], list[Submission]]] = [([], [])] * len(walked)
        for i in sorted(range(len(walked)), key=lambda i: (-walked[i][2], i)):
            found_at, missing_at = len(found), len(missing)
            self.add_file(walked[i][0], walked[i][1])
            slots[i] = (found[found_at:], missing[missing_at:])
            del found[found_at:], missing[missing_at:]
        for items, problems in slots:
            found += items
            missing += problems

    # walking
    def add_folder(self, folder: Path, prefix: str) -> None:
        """Note the files under `folder` for read_walked, depth first in sorted order. Links are not
        followed, FIFOs and devices not opened (each is a finding), and the walk keeps its own stack:
        a chain of a thousand folders is walked down to MAX_FOLDER_DEPTH, then one finding."""
        top = self._scan(folder, prefix.rstrip("/") or _shown(str(folder)))
        stack = [(iter(top), prefix, 0)] if top is not None else []
        while stack:
            entries, prefix, depth = stack[-1]
            entry = next(entries, None)
            if entry is None:
                stack.pop()
                continue
            path = Path(entry.path)
            display = f"{prefix}{_shown(entry.name)}"
            if is_clutter_name(entry.name):
                self.collected.skipped.append(path)
                continue
            try:
                info = entry.stat(follow_symlinks=False)
                kind = _kind(entry.path, info)
            except OSError as exc:
                self._not_taken(path, display, None, _unreadable_file(exc))
                continue
            if getattr(info, "st_file_attributes", 0) & _WINDOWS_HIDDEN:
                self.collected.skipped.append(path)
            elif kind == "link":
                self._not_taken(path, display, None, _link_problem(path))
            elif kind == "special":
                self._not_taken(path, display, None, _special_file_problem())
            elif kind == "folder" and depth >= MAX_FOLDER_DEPTH:
                self._not_taken(path, display, None, _too_deep_problem())
            elif kind == "folder":
                inner = self._scan(path, display)
                if inner is not None:
                    stack.append((iter(inner), f"{display}/", depth + 1))
            else:
                self._walked.append((path, display, info.st_mtime))

    def _scan(self, folder: Path, display: str) -> list[os.DirEntry] | None:
        try:
            with os.scandir(folder) as entries:
                return sorted(entries, key=lambda e: nfc(e.name))
        except OSError as exc:
            self._not_taken(folder, display, None, _unreadable_folder(exc))
            return None

    def add_file(self, path: Path, display: str, named: bool = False) -> None:
        suffix = path.suffix.lower()
        mtime = None
        data = None
        try:
            if named and not os.path.lexists(path):
                raise _not_found(display)
            if named and is_clutter_name(path.name):
                raise _SourceProblem("not_a_report/clutter")
            if suffix not in WORKBOOK_SUFFIXES and suffix not in EMAIL_SUFFIXES:
                raise _not_a_report(suffix)
            data, mtime = _read_stable(path, self.limit, self.limit_mb)
            if suffix in WORKBOOK_SUFFIXES:
                self._found(ReceivedFile(display, path, _sha256(data), mtime, modified=mtime), data)
            else:
                self._add_email(path, display, data, mtime, suffix)
        except _SourceProblem as problem:
            self._not_taken(path, display, mtime, problem, data)

    def _add_email(self, path: Path, display: str, data: bytes, mtime: dt.datetime, suffix: str) -> None:
        try:
            message = _open_email(data, suffix, self.max_attachments)
        except _EmailUnreadable as exc:
            raise _email_unreadable(suffix, str(exc)[:200] or None) from None
        own_times = ((TimeSource.RECEIVED, message.relayed_at), (TimeSource.DATE, message.sent_at))
        if self.mailbox_times:
            own_times = ((TimeSource.MAILBOX, self.mailbox_times.get(_sha256(data))), *own_times)
        received_at, source, refused = self._received_time(own_times, mtime, display)
        taken = 0
        others: list[str] = []
        seen_names: dict[str, int] = {}
        for attachment in message.attachments:
            name = attachment.name
            inside = SEPARATOR.join((*attachment.via, name))
            if Path(name).suffix.lower() not in WORKBOOK_SUFFIXES:
                others.append(inside)
                continue
            seen_names[inside] = seen_names.get(inside, 0) + 1
            # Two attachments of one e-mail may share a name; messages must still tell them apart.
            shown = inside if seen_names[inside] == 1 else f"{inside} ({seen_names[inside]})"
            taken += 1
            # No size check here: an attachment is smaller than its e-mail, which passed the check.
            full_name = f"{display}{SEPARATOR}{shown}"
            when, how, doubts = received_at, source, refused
            if attachment.via:  # in a forwarded e-mail: the unit's own times first, then the forward's
                inner = ((TimeSource.RECEIVED, attachment.relayed_at), (TimeSource.DATE, attachment.sent_at))
                when, how, doubts = self._received_time((*inner, *own_times), mtime, full_name)
            received = ReceivedFile(
                full_name,
                path,
                _sha256(attachment.data),
                when,
                attachment.sender or message.sender,
                name,
                received_source=how,
                modified=mtime,
                time_findings=_named(doubts, full_name),
                message_id=message.message_id,
            )
            self._found(received, attachment.data)
        if not taken:
            shown_others = ", ".join(others[:10]) + (", …" if len(others) > 10 else "")
            details = [catalogue.hint("attachments_listed", names=shown_others)] if others else []
            if any(name.lower() == "winmail.dat" for name in others):
                # Outlook's rich-text format hides the attachments inside winmail.dat (TNEF).
                details.append(catalogue.hint("winmail"))
            if message.forwarded:
                details.append(catalogue.hint("forwarded"))
            if message.dropped:
                details.append(self._dropped_message(message))
            archives = [n for n in others if Path(n).suffix.lower() in _ARCHIVE_SUFFIXES]
            if archives:
                details.append(catalogue.hint("archives"))
            problem = _SourceProblem(
                "no_workbook_attachment",
                # The attachments' names: a .zip among them is the clerk's to unpack (run_report.for_clerk).
                value="; ".join(others[:10])[:500] or None,
                details="".join(" " + d for d in details),
            )
            problem.sender = message.sender
            if source is not TimeSource.MTIME:
                problem.sent_at, problem.time_source = received_at, source
            raise problem
        if message.dropped:
            problem = _SourceProblem(
                "too_many_attachments", limit=self.max_attachments, dropped=message.dropped
            )
            problem.sender = message.sender
            if source is not TimeSource.MTIME:
                problem.sent_at, problem.time_source = received_at, source
            self._not_taken(path, display, received_at, problem)

    def _dropped_message(self, message: _Email) -> str:
        return catalogue.message("too_many_attachments", limit=self.max_attachments, dropped=message.dropped)

    # recording
    def _found(self, received: ReceivedFile, data: bytes) -> None:
        if self.keep_bytes is not None and not self.keep_bytes(received.sha256):
            data = b""
        if self.on_new is not None and data and received.sha256 not in self.offered:
            self.offered.add(received.sha256)
            if self.on_new(Incoming(received, data)):
                data = b""  # on_new holds the bytes now, and lets them go once it is done with them
        self.found.append(Incoming(received, data))

    def _not_taken(
        self,
        path: Path,
        display: str,
        received_at: dt.datetime | None,
        problem: _SourceProblem,
        data: bytes | None = None,
    ) -> None:
        # A file not taken keeps its real time and checksum: summary.json and the clerk's report name it.
        sha = _sha256(data) if data is not None else ""
        if data is None or received_at is None:
            hashed, modified = _fingerprint(path, self.limit if problem.code != "file_changing" else -1)
            sha = sha or hashed
            received_at = received_at or modified
        when = problem.sent_at or received_at or UNKNOWN_TIME
        source = problem.time_source if problem.sent_at else TimeSource.MTIME
        received = ReceivedFile(
            display, path, sha, when, sender=problem.sender, received_source=source, modified=received_at
        )
        finding = Finding(problem.severity, problem.code, problem.message, display, value=problem.value)
        self.collected.not_taken.append(Submission(received, FileStatus.UNREADABLE, [finding]))

    def _received_time(
        self,
        candidates: Iterable[tuple[TimeSource, dt.datetime | None]],
        mtime: dt.datetime,
        display: str,
    ) -> tuple[dt.datetime, TimeSource, tuple[Finding, ...]]:
        """The first believable of `candidates` (source, time), in the documented order, else the file's
        modification time; and a finding for each time passed over because it was not believable.
        A mailbox intake puts its own received time first: (TimeSource.MAILBOX, its time)."""
        refused: list[tuple[TimeSource, dt.datetime, bool]] = []
        chosen: tuple[dt.datetime, TimeSource] = (mtime, TimeSource.MTIME)
        for source, moment in candidates:
            if moment is None:
                continue
            too_late = moment > self.latest
            if too_late or (self.earliest is not None and moment < self.earliest):
                refused.append((source, moment, too_late))
                continue
            chosen = (moment, source)
            break
        used = chosen[1]
        findings = tuple(_time_not_believed(*item, used, self.earliest, display) for item in refused)
        return chosen[0], used, findings

    def done(self) -> Collected:
        """Take each distinct workbook once: the copy that came by e-mail (it names its sender and
        date), else the one received first, else the first in sorted order."""
        position = {id(item): n for n, item in enumerate(self.found)}
        groups: dict[str, list[Incoming]] = {}
        for item in self.found:
            groups.setdefault(item.file.sha256, []).append(item)
        kept_ids = set()
        for group in groups.values():
            kept = min(group, key=lambda i: (i.file.sender is None, i.file.received_at, position[id(i)]))
            kept_ids.add(id(kept))
            self.collected.duplicates += [(i.file, kept.file) for i in group if i is not kept]
        self.collected.incoming = [item for item in self.found if id(item) in kept_ids]
        return self.collected


def _fingerprint(path: Path, limit: int | None) -> tuple[str, dt.datetime | None]:
    """The sha256 and modification time of an inbox entry that is not taken, as far as they can be had:
    a folder, a link or a FIFO has a time but no checksum, nor has a file over `limit` bytes (never read
    whole; -1: not read at all); an entry gone has neither."""
    try:
        info = os.stat(path, follow_symlinks=False)
    except (OSError, ValueError):
        return "", None
    modified = to_vietnam_time(dt.datetime.fromtimestamp(info.st_mtime, dt.UTC))
    if not stat.S_ISREG(info.st_mode) or (limit is not None and not 0 <= info.st_size <= limit):
        return "", modified
    digest = hashlib.sha256()
    try:
        with open(path, "rb", opener=_open_as_found) as stream:
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return "", modified
    return digest.hexdigest(), modified


_TIME_LABELS = {
    TimeSource.MAILBOX: "thời điểm hộp thư ghi nhận thư",
    TimeSource.RECEIVED: "thời điểm máy chủ thư của cơ quan nhận thư (tiêu đề Received)",
    TimeSource.DATE: "ngày giờ gửi ghi trong thư (tiêu đề Date)",
    TimeSource.MTIME: "ngày giờ sửa tệp trong thư mục nhận",
}


def _time_not_believed(
    source: TimeSource,
    moment: dt.datetime,
    too_late: bool,
    used: TimeSource,
    earliest: dt.datetime | None,
    display: str,
) -> Finding:
    label = _TIME_LABELS[source]
    when = f"{moment:%H:%M} ngày {format_date(moment.date())}"
    label = f"{label[0].upper()}{label[1:]}"
    consequence = " " + catalogue.hint("not_replacing") if used is TimeSource.MTIME else ""
    if too_late or earliest is None:
        return catalogue.finding(
            "received_time_not_believed/too_late",
            display,
            value=when,
            label=label,
            when=when,
            used=_TIME_LABELS[used],
            consequence=consequence,
        )
    return catalogue.finding(
        "received_time_not_believed/before_campaign",
        display,
        value=when,
        label=label,
        when=when,
        start=format_date(earliest.date()),
        used=_TIME_LABELS[used],
        consequence=consequence,
    )


def _named(findings: tuple[Finding, ...], display: str) -> tuple[Finding, ...]:
    """An e-mail's findings about its times, as those of one of its attachments."""
    return tuple(dataclasses.replace(f, file=display) for f in findings)


def _kind(path: str, info: os.stat_result) -> str:
    """ "folder", "file", "link" (a symbolic link, a Windows junction) or "special" (FIFO, socket,
    device), from the entry's own status (links not followed)."""
    if stat.S_ISLNK(info.st_mode):
        return "link"
    if getattr(info, "st_file_attributes", 0) & _REPARSE_POINT:
        tag = getattr(info, "st_reparse_tag", 0) or getattr(os.lstat(path), "st_reparse_tag", 0)
        if tag in _LINK_REPARSE_TAGS:
            return "link"
    if stat.S_ISDIR(info.st_mode):
        return "folder"
    return "file" if stat.S_ISREG(info.st_mode) else "special"


def is_clutter_name(name: str) -> bool:
    lowered = name.lower()
    return (
        lowered.startswith(("~$", "."))  # Office lock files, hidden files (LibreOffice's .~lock too)
        or lowered.endswith(("~", ".tmp", ".temp", ".crdownload", ".part"))
        or lowered in _CLUTTER_NAMES
    )


def _read_stable(path: Path, limit: int | None, limit_mb: int = 0) -> tuple[bytes, dt.datetime]:
    """The file's bytes and its modification time, refusing a file larger than `limit` or still being
    written, and anything that is not a plain file: a link is not followed, a FIFO not waited on."""
    try:
        before = os.stat(path, follow_symlinks=False)
        kind = _kind(str(path), before)
        if kind == "link":
            raise _link_problem(path)
        _check_regular(before.st_mode)
        if limit is not None and before.st_size > limit:
            raise _too_large(before.st_size, limit_mb)
        # read(limit + 1) allocates the limit (megabytes) and gives back what the file did not fill. It
        # costs 20 µs a file more than asking for the size the status said, but on Linux that leaves each
        # file's bytes in a mapping of its own, returned to the system when the workers are done with
        # them; read into the heap, a cold run's 3,000 files raised its peak from 207 to 229 MB (measured).
        with open(path, "rb", opener=_open_as_found) as stream:
            data = stream.read() if limit is None else stream.read(limit + 1)
        after = os.stat(path, follow_symlinks=False)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # O_NOFOLLOW: a link put there since the status above
            raise _link_problem(path) from None
        raise _unreadable_file(exc) from None
    if limit is not None and len(data) > limit:
        raise _too_large(len(data), limit_mb)
    _check_regular(after.st_mode)
    unchanged = (before.st_size, before.st_mtime_ns) == (after.st_size, after.st_mtime_ns)
    if not unchanged or len(data) != after.st_size:
        raise _SourceProblem("file_changing")
    return data, to_vietnam_time(dt.datetime.fromtimestamp(after.st_mtime, dt.UTC))


def _open_as_found(path: str, flags: int) -> int:
    """Open what the status before saw: never through a link put there since (O_NOFOLLOW), never
    waiting on a FIFO (O_NONBLOCK: a FIFO would block until something writes to it)."""
    return os.open(path, flags | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))


def _check_regular(mode: int) -> None:
    if stat.S_ISDIR(mode):
        raise _SourceProblem("file_unreadable/folder")
    if not stat.S_ISREG(mode):
        raise _special_file_problem()


def to_vietnam_time(moment: dt.datetime) -> dt.datetime:
    """Naive Vietnam time. A time with no zone is taken as UTC (RFC 5322's "-0000")."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(VIETNAM_TIME).replace(tzinfo=None)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- e-mails ---------------------------------------------------------------------------------------


def _open_email(data: bytes, suffix: str, max_attachments: int | None) -> _Email:
    """Sender, date and attachments of a saved e-mail; _EmailUnreadable if it is not one. Past
    `max_attachments` (attached e-mails and theirs included) attachments are counted, not opened."""
    budget = _Budget(max_attachments)
    if suffix == ".msg":
        return _open_msg(data, budget)
    try:
        return _open_eml(data, budget)
    except _EmailUnreadable:
        raise
    except Exception as exc:
        # The standard parser has raised assorted errors on malformed headers over the years; a hostile
        # e-mail is bad input, to be reported, not a reason to stop the batch.
        raise _EmailUnreadable(f"{type(exc).__name__}: {exc}") from None


def _open_eml(data: bytes, budget: _Budget) -> _Email:
    # compat32 rather than the default policy: headers stay plain text (a malformed Date costs the
    # date, not the e-mail) and parsing is twice as fast, which counts over a thousand e-mails.
    message = email.message_from_bytes(data, policy=email.policy.compat32)
    if not message.keys():
        raise _EmailUnreadable("no header")
    content = _eml_content(message, 0, budget)
    content.dropped = budget.dropped
    content.message_id = message_id(message.get("Message-ID"))
    return content


def _eml_content(message: Message, depth: int, budget: _Budget) -> _Email:
    attachments: list[_Attachment] = []
    forwarded = 0
    for part in _leaf_parts(message):
        if part.get_content_type() == "message/rfc822":
            if not budget.take():
                continue
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if inner is None or depth >= _MAX_NESTING or not inner.keys():
                forwarded += 1
                continue
            content = _eml_content(inner, depth + 1, budget)
            name = _decoded(part.get_filename())
            label = _attachment_name(name) if name else _subject_label(_decoded(inner.get("Subject")), ".eml")
            attachments += _nested(content, label)
            forwarded += content.forwarded
            continue
        name = _decoded(part.get_filename())
        if not name or not budget.take():
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            attachments.append(_Attachment(_attachment_name(name), payload))
    return _Email(
        _address(message.get("From")),
        _parse_date(message.get("Date")),
        attachments,
        forwarded,
        relayed_at=_relayed_at(message.get_all("Received")),
    )


def _leaf_parts(message: Message) -> Iterator[Message]:
    """The parts that carry content, in order; an attached e-mail is one part, not opened here."""
    if message.get_content_type() == "message/rfc822" or not message.is_multipart():
        yield message
        return
    for part in message.get_payload():
        if isinstance(part, Message):
            yield from _leaf_parts(part)


def _decoded(value: object) -> str:
    """A header or file name as text: RFC 2047 words ("=?utf-8?b?...?=", which many mail programs put
    in file names) decoded; RFC 2231 names come decoded from get_filename already."""
    if value is None:
        return ""
    text = str(value)
    if "=?" in text:
        with contextlib.suppress(ValueError, LookupError, UnicodeError, email.errors.HeaderParseError):
            text = str(make_header(decode_header(text)))
    return _shown(text)


def _subject_label(subject: str, suffix: str) -> str:
    # A subject is not a path: "02/2024" must not look like a folder in the display name.
    text = " ".join(subject.replace("/", "-").replace("\\", "-").split())[:60].strip()
    return f"{text or 'thư đính kèm'}{suffix}"


def _open_msg(data: bytes, budget: _Budget) -> _Email:
    try:
        import extract_msg
        from extract_msg.enums import ErrorBehavior
    except ImportError:  # pragma: no cover - a dependency of the package
        raise _EmailUnreadable("extract-msg is not installed") from None
    logger = logging.getLogger("extract_msg")
    if not logger.handlers:
        # Its warnings about odd but readable files would otherwise be printed on the clerk's console.
        logger.addHandler(logging.NullHandler())
    tolerant = (
        ErrorBehavior.ATTACH_SUPPRESS_ALL
        | ErrorBehavior.STANDARDS_VIOLATION
        | ErrorBehavior.NAMED_NAME_STREAM
    )
    try:
        with extract_msg.openMsg(data, strict=False, errorBehavior=tolerant) as message:
            content = _msg_content(message, 0, budget)
        content.dropped = budget.dropped
        return content
    except Exception as exc:
        # extract-msg and olefile raise many kinds of errors on damaged files (struct, OLE, custom);
        # each means the same thing here: this .msg cannot be read.
        raise _EmailUnreadable(f"{type(exc).__name__}: {exc}") from None


def _msg_content(message, depth: int, budget: _Budget) -> _Email:
    """Sender, date and attachments of an open extract-msg message, and of the messages it carries."""
    from extract_msg.enums import AttachmentType

    headers = None
    header_text = getattr(message, "headerText", None)
    if header_text:
        headers = HeaderParser().parsestr(header_text)
    candidates = [headers.get("From") if headers else None]
    candidates += [message.getStringStream(f"__substg1.0_{tag}") for tag in ("5D01", "0C1F", "0065")]
    sender = next((a for a in map(_address, candidates) if a), None)
    sent_at = _parse_date(headers.get("Date")) if headers else None
    relayed_at = _relayed_at(headers.get_all("Received")) if headers else None
    if sent_at is None:
        stamp = message.props.date or message.getPropertyVal("0E060040")
        sent_at = to_vietnam_time(stamp) if isinstance(stamp, dt.datetime) else None
    attachments: list[_Attachment] = []
    forwarded = 0
    for attachment in message.attachments:
        payload = getattr(attachment, "data", None)
        if attachment.type is AttachmentType.MSG:
            if not budget.take():
                continue
            if depth >= _MAX_NESTING or payload is None or not hasattr(payload, "attachments"):
                forwarded += 1
                continue
            inner = _msg_content(payload, depth + 1, budget)
            subject = getattr(payload, "subject", None) or ""
            label = _subject_label(subject, ".msg")
            attachments += _nested(inner, label)
            forwarded += inner.forwarded
            continue
        name = attachment.longFilename or attachment.shortFilename or getattr(attachment, "name", None)
        if attachment.type is AttachmentType.DATA and isinstance(payload, bytes) and name and budget.take():
            attachments.append(_Attachment(_attachment_name(name), payload))
    return _Email(sender, sent_at, attachments, forwarded, relayed_at=relayed_at)


def _nested(inner: _Email, label: str) -> list[_Attachment]:
    """The attachments of an attached e-mail, as seen from the outer one: the inner sender and date
    are the unit's, the outer ones only those of whoever forwarded it."""
    return [
        dataclasses.replace(
            item,
            via=(label, *item.via),
            sender=item.sender or inner.sender,
            sent_at=item.sent_at or inner.sent_at,
            relayed_at=item.relayed_at or inner.relayed_at,
        )
        for item in inner.attachments
    ]


def _parse_date(text: object) -> dt.datetime | None:
    """An e-mail Date header as naive Vietnam time; None if absent or unreadable."""
    if not text:
        return None
    try:
        return to_vietnam_time(parsedate_to_datetime(str(text)))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _relayed_at(received: list | None) -> dt.datetime | None:
    """The date of the topmost `Received:` header (the last added: by the office's own mail server, the
    one a sender cannot write), which follows its last ";"; None if absent or unreadable."""
    if not received:
        return None
    _, semicolon, date = str(received[0]).rpartition(";")
    return _parse_date(" ".join(date.split())) if semicolon else None


def _address(text: object) -> str | None:
    if not text:
        return None
    address = parseaddr(str(text))[1].strip().lower()
    # A damaged Outlook file gives its sender from raw property streams: NULs, escape sequences for the
    # clerk's terminal. Such a text is no address, and is not shown as one.
    usable = "@" in address and address.isprintable() and not any(c.isspace() for c in address)
    return address if usable else None


def _attachment_name(name: str) -> str:
    """The file name only: an attachment called '..\\..\\x.xlsx' is shown, never used, as a path; and on
    one line (RFC 2231 lets a name carry CR/LF, which would end up in headers and file names)."""
    return one_line(_shown(name.replace("\\", "/").rsplit("/", 1)[-1]))


def _shown(name: str) -> str:
    """A file name as the outputs show it: NFC, and only characters they can hold."""
    return xml_safe(nfc(name))


# -- messages --------------------------------------------------------------------------------------


def _not_a_report(suffix: str) -> _SourceProblem:
    suffix = one_line(suffix)  # a name that is not UTF-8 ("0.\udc80") must still print
    if suffix in _RESAVE_SUFFIXES:
        return _SourceProblem("not_a_report/resave", suffix=suffix)
    if suffix in _ARCHIVE_SUFFIXES:
        return _SourceProblem("not_a_report/archive", suffix=suffix)
    if suffix:
        return _SourceProblem("not_a_report/suffix", suffix=suffix)
    return _SourceProblem("not_a_report/no_suffix")


def _email_unreadable(suffix: str, detail: str | None) -> _SourceProblem:
    msg = one_line(suffix) == ".msg"
    return _SourceProblem("email_unreadable/msg" if msg else "email_unreadable/eml", value=detail)


def _too_large(size: int, limit_mb: int) -> _SourceProblem:
    size_mb = format_decimal(Fraction(size, 1024 * 1024), 1)
    return _SourceProblem("file_too_large/inbox", value=f"{size_mb} MB", size_mb=size_mb, limit_mb=limit_mb)


def _link_problem(path: Path) -> _SourceProblem:
    try:
        target = _shown(os.readlink(path))[:300] or None
    except (OSError, ValueError):
        target = None
    return _SourceProblem("link_not_followed", value=target)


def _special_file_problem() -> _SourceProblem:
    return _SourceProblem("special_file")


def _too_deep_problem() -> _SourceProblem:
    return _SourceProblem("folder_too_deep", depth=MAX_FOLDER_DEPTH)


def _not_found(display: str) -> _SourceProblem:
    """A file named on the command line that is not there: a typo or the wrong folder, not a deletion."""
    folder = (Path.cwd() / display).parent
    return _SourceProblem(
        "file_not_found/in_folder" if folder.is_dir() else "file_not_found/no_folder",
        name=Path(display).name,
        folder=folder,
    )


def _unreadable_file(exc: OSError) -> _SourceProblem:
    if isinstance(exc, FileNotFoundError):
        return _SourceProblem("file_unreadable/gone")
    if isinstance(exc, PermissionError):
        return _SourceProblem("file_unreadable/permission")
    if isinstance(exc, IsADirectoryError):
        return _SourceProblem("file_unreadable/folder")
    return _SourceProblem("file_unreadable/other", reason=exc.strerror or exc)


def _unreadable_folder(exc: OSError) -> _SourceProblem:
    if isinstance(exc, PermissionError):
        return _SourceProblem("folder_unreadable/permission")
    return _SourceProblem("folder_unreadable/other", reason=exc.strerror or exc)
