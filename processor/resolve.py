"""Resolve: the rules across received files, once each file has been validated.

Copies of one file (same sha256) are listed as duplicates of the one taken. Several different files from
one unit for one period are corrections: the newest is used, the others are superseded (resolve_versions:
registered senders first, times that look like a copy's last). Received times that look like a copy's
are marked, senders the unit has not registered are warned about, and the checks across files
(validate.cross_check) run last. See docs/architecture.md "Received time and corrections".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
from collections.abc import Iterable
from pathlib import Path

from processor import findings as catalogue
from processor.collect import VIETNAM_TIME, Collected, to_vietnam_time
from processor.config import Config
from processor.records import FileStatus, Finding, Period, Submission, TimeSource

# Statuses of the files that compete to be a unit's report for a period (see resolve_versions).
_COMPETING = {FileStatus.ACCEPTED, FileStatus.ACCEPTED_PARTIAL, FileStatus.REJECTED, FileStatus.OTHER_PERIOD}
_DIGITS = re.compile(r"(\d+)")
# Modification times that look like a copy's rather than the moment a file was saved from the e-mail:
# this many files within this many seconds (a folder copied, "Save all attachments"), or a time this
# many days after the form's Ngày lập.
COPY_CLUSTER_FILES = 5
COPY_CLUSTER_SECONDS = 2.0
COPY_AFTER_PREPARED = dt.timedelta(days=30)


def resolve(
    config: Config, collected: Collected, validated: list[Submission], staff: bool = True
) -> list[Submission]:
    """Every received file as a submission, sorted by display name: the validated ones, the copies of
    them (DUPLICATE), and the files collect could not take; then the rules across files. With
    `staff=False` the checks across files, which only warn and need the staff rows, are not applied."""
    # Imported here: validate is the heavy part, and `thidua --help` must not load it.
    from processor import validate

    submissions = list(validated)
    by_sha = {sub.file.sha256: sub for sub in submissions}
    for copy, kept in collected.duplicates:
        original = by_sha[kept.sha256]
        submissions.append(
            Submission(
                copy,
                FileStatus.DUPLICATE,
                unit_code=original.unit_code,
                period=original.period,
                superseded_by=kept.display_name,  # the copy that was taken
            )
        )
    submissions.extend(collected.not_taken)
    check_received_times(submissions)
    resolve_versions(submissions, config)
    check_senders(config, submissions)
    if staff:
        validate.cross_check(config, submissions)
    submissions.sort(key=lambda s: (s.file.display_name, s.file.sha256))
    return submissions


def resolve_versions(submissions: list[Submission], config: Config | None = None) -> None:
    """Several files from one unit for one period are corrections: the newest is the report.

    The order (docs/architecture.md, "Received time and corrections"):
    1. With `config`: a file e-mailed from an address the unit has not registered never replaces one
       e-mailed from a registered address. While the unit has such a file the others are out of the
       running, and one that would have won says why (a finding).
    2. A weak time (`ReceivedFile.time_is_weak`: a modification time that looks like a copy's, or that of
       an e-mail whose own dates were not believed) ranks below every believable one: it says nothing
       about when the unit sent the file.
    3. Then the latest `received_at`; equal times go to the more trusted source (`TimeSource.rank`), then
       to the name that sorts last, numbers compared as numbers and the extension left out
       ("bao-cao-lan2" after "bao-cao", "(10)" after "(2)": versions attached to one e-mail), then to the
       larger sha256, so that the inbox's order never decides.
    The others become SUPERSEDED, naming the file that replaced them. Only files that say which unit
    and period they are for take part; duplicates and unreadable files never do.
    """
    groups: dict[tuple[str, object], list[Submission]] = {}
    for sub in submissions:
        if sub.status in _COMPETING and sub.unit_code and sub.period is not None:
            groups.setdefault((sub.unit_code.upper(), sub.period), []).append(sub)
    units = {unit.code.upper(): unit for unit in config.units} if config is not None else {}
    for (code, _), group in groups.items():
        if len(group) < 2:
            continue
        unit = units.get(code)
        registered = {e.strip().lower() for e in unit.emails} if unit is not None else set()
        contenders = group
        if any(_sender(sub) in registered for sub in group):
            contenders = [sub for sub in group if not _sender(sub) or _sender(sub) in registered]
        newest = max(contenders, key=_version_order)
        for sub in group:
            if sub is newest:
                continue
            sub.status = FileStatus.SUPERSEDED
            sub.superseded_by = newest.file.display_name
            if unit is not None and _version_order(sub) > _version_order(newest):
                _add(sub, _kept_registered(sub, newest, unit))


def _sender(sub: Submission) -> str:
    return (sub.file.sender or "").strip().lower()


def _version_order(sub: Submission) -> tuple:
    file = sub.file
    return (
        not file.time_is_weak,
        _instant(file.received_at),
        file.received_source.rank,
        _name_order(file.display_name),
        file.sha256,
    )


def _kept_registered(sub: Submission, kept: Submission, unit) -> Finding:
    sender = _sender(sub)
    return catalogue.finding(
        "sender_not_registered_not_used",
        sub.file.display_name,
        value=sender,
        kept=kept.file.display_name,
        sender=sender,
        unit=unit.name,
        unit_code=unit.code,
    )


def _add(sub: Submission, finding: Finding) -> None:
    """Rules across files run again over remembered submissions: a finding is added once."""
    if finding not in sub.findings:
        sub.findings.append(finding)


def check_received_times(submissions: list[Submission]) -> None:
    """Mark received times that come from a copy, and add the findings about header times not believed.

    A modification time looks like a copy's when the file is one of `COPY_CLUSTER_FILES` inbox files
    modified within `COPY_CLUSTER_SECONDS` (a folder copied, all attachments saved at once), or when it is
    more than `COPY_AFTER_PREPARED` after the form's Ngày lập. Runs after validation (Ngày lập is in the
    report), before resolve_versions, which ranks such times last.
    """
    clustered = _copied_together(submissions)
    for sub in submissions:
        file = sub.file
        copied = file.received_source is TimeSource.MTIME and (
            os.fspath(file.source_path) in clustered
            or (
                sub.report is not None
                and sub.report.prepared_on is not None
                and file.received_at.date() - sub.report.prepared_on > COPY_AFTER_PREPARED
            )
        )
        if copied != file.copied:
            sub.file = dataclasses.replace(file, copied=copied)
        for finding in file.time_findings:
            _add(sub, finding)


def _copied_together(submissions: Iterable[Submission]) -> set[str]:
    """The inbox files (as paths' text: a Path hashes slowly) modified within a few seconds of enough
    others to look like one copy."""
    modified: dict[str, dt.datetime] = {}
    for sub in submissions:
        when = sub.file.modified
        if when is not None:
            modified[os.fspath(sub.file.source_path)] = when if when.tzinfo is None else to_vietnam_time(when)
    stamps = sorted((when, path) for path, when in modified.items())
    window = dt.timedelta(seconds=COPY_CLUSTER_SECONDS)
    out: set[str] = set()
    left = marked = 0
    for right in range(len(stamps)):
        while stamps[right][0] - stamps[left][0] > window:
            left += 1
        if right - left + 1 >= COPY_CLUSTER_FILES:
            out.update(path for _, path in stamps[max(left, marked) : right + 1])
            marked = right + 1
    return out


def copied_times(submissions: Iterable[Submission], period: Period) -> list[Submission]:
    """The files of `period` whose received time is a copy's modification time: their on-time or late,
    and which version is the newest, may be wrong (`status` and `run` say so). E-mails whose own dates
    were not believed are left out: a finding on each says so already, and the advice (save the
    e-mails) would be beside the point."""
    return [
        sub
        for sub in submissions
        if sub.period == period
        and sub.file.copied
        and not sub.file.time_findings
        and sub.status not in (FileStatus.DUPLICATE, FileStatus.UNREADABLE)
    ]


def _instant(moment: dt.datetime) -> dt.datetime:
    """Comparable whether a record holds ingest's naive Vietnam time or an aware time."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=VIETNAM_TIME)


def _name_order(display_name: str) -> tuple:
    stem = display_name[: -len(suffix)] if (suffix := Path(display_name).suffix) else display_name
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in _DIGITS.split(stem))


def check_senders(config: Config, submissions: Iterable[Submission]) -> None:
    """A report e-mailed from an address the unit has not registered is a warning on that file."""
    units = {unit.code.upper(): unit for unit in config.units}
    for sub in submissions:
        sender = (sub.file.sender or "").strip().lower()
        if not sender or not sub.unit_code or sub.status in (FileStatus.DUPLICATE, FileStatus.UNREADABLE):
            continue
        unit = units.get(sub.unit_code.upper())
        if unit is None or not unit.emails:
            continue
        if sender in {e.strip().lower() for e in unit.emails}:
            continue
        _add(
            sub,
            catalogue.finding(
                "sender_not_registered",
                sub.file.display_name,
                value=sender,
                sender=sender,
                unit=unit.name,
                unit_code=unit.code,
                registered=", ".join(unit.emails),
            ),
        )


# -- after collecting: validate, then the rules across files ---------------------------------------
