"""Resolve: the rules across files (corrections, senders), over submissions made by hand or collected
from real files."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from processor import collect, resolve
from processor.records import FileStatus, Period, ReceivedFile, Severity, Submission
from tests.test_collect import (
    FEB,
    NC,
    VN,
    eml,
    put,
)

# -- rules across files ----------------------------------------------------------------------------


def sub(name, unit="KT", period=FEB, at=(2024, 3, 1), status=FileStatus.ACCEPTED, sender=None):
    file = ReceivedFile(name, Path(name), name, dt.datetime(*at), sender)
    return Submission(file, status, unit_code=unit, period=period)


def test_resolve_versions_keeps_the_newest_per_unit_and_period():
    old = sub("a.xlsx", at=(2024, 3, 1))
    new = sub("b.xlsx", at=(2024, 3, 4), status=FileStatus.REJECTED)
    middle = sub("c.xlsx", unit="kt", at=(2024, 3, 2))
    january = sub("d.xlsx", period=Period(2024, 1), at=(2024, 3, 9))
    other_unit = sub("e.xlsx", unit="NC", at=(2024, 3, 9))
    no_period = sub("f.xlsx", period=None, at=(2024, 3, 9))
    duplicate = sub("g.xlsx", at=(2024, 3, 9), status=FileStatus.DUPLICATE)
    unreadable = sub("h.xlsx", at=(2024, 3, 9), status=FileStatus.UNREADABLE)
    everything = [old, new, middle, january, other_unit, no_period, duplicate, unreadable]
    resolve.resolve_versions(everything)
    assert [s.status for s in everything] == [
        FileStatus.SUPERSEDED,
        FileStatus.REJECTED,  # the newest is the unit's report even when it has errors
        FileStatus.SUPERSEDED,
        FileStatus.ACCEPTED,
        FileStatus.ACCEPTED,
        FileStatus.ACCEPTED,
        FileStatus.DUPLICATE,
        FileStatus.UNREADABLE,
    ]
    assert old.superseded_by == middle.superseded_by == "b.xlsx"
    assert new.superseded_by is None


def test_resolve_versions_compares_aware_and_naive_times():
    naive = sub("a.xlsx", at=(2024, 3, 4, 9, 0))  # ingest's naive Vietnam time
    aware = sub("b.xlsx", at=(2024, 3, 4, 8, 0))
    aware.file = dataclasses.replace(aware.file, received_at=aware.file.received_at.replace(tzinfo=VN))
    resolve.resolve_versions([naive, aware])
    assert (naive.status, aware.status) == (FileStatus.ACCEPTED, FileStatus.SUPERSEDED)


def test_resolve_versions_breaks_ties_by_name_whatever_the_order():
    names = ["thu.eml › bao-cao.xlsx", "thu.eml › bao-cao (2).xlsx", "thu.eml › bao-cao (10).xlsx"]
    for order in ([0, 1, 2], [2, 1, 0], [1, 2, 0]):
        subs = [sub(name) for name in names]  # one e-mail, one time: the names decide
        resolve.resolve_versions([subs[i] for i in order])
        assert [s.status for s in subs] == [FileStatus.SUPERSEDED, FileStatus.SUPERSEDED, FileStatus.ACCEPTED]
        assert subs[0].superseded_by == subs[1].superseded_by == "thu.eml › bao-cao (10).xlsx"
    subs = [sub("bao-cao-TH-lan2.xlsx"), sub("bao-cao-TH.xlsx")]
    resolve.resolve_versions(subs)
    assert [s.status for s in subs] == [FileStatus.ACCEPTED, FileStatus.SUPERSEDED]


def test_check_senders_warns_about_unregistered_addresses(config):
    registered = sub("a.eml › x.xlsx", unit="KSTT", sender="KSTT.LaoCai@Gmail.com")
    stranger = sub("b.eml › x.xlsx", unit="KSTT", sender="ai.do@yahoo.com")
    loose = sub("c.xlsx", unit="KSTT")
    unknown_unit = sub("d.eml › x.xlsx", unit="XYZ", sender="ai.do@yahoo.com")
    copy = sub("e.eml › x.xlsx", unit="KSTT", sender="ai.do@yahoo.com", status=FileStatus.DUPLICATE)
    subs = [registered, stranger, loose, unknown_unit, copy]
    resolve.check_senders(config, subs)
    resolve.check_senders(config, subs)  # twice: still one warning
    assert [len(s.findings) for s in subs] == [0, 1, 0, 0, 0]
    [warning] = stranger.findings
    assert (warning.severity, warning.code, warning.file, warning.value) == (
        Severity.WARNING,
        "sender_not_registered",
        "b.eml › x.xlsx",
        "ai.do@yahoo.com",
    )
    assert "ai.do@yahoo.com" in warning.message
    assert "kstt.vpubnd@laocai.gov.vn, kstt.laocai@gmail.com" in warning.message
    assert "Phòng Kiểm soát thủ tục hành chính" in warning.message


def test_a_sender_with_control_characters_is_no_address(tmp_path, config):
    """A damaged e-mail's From can hold NULs or a terminal escape sequence: no sender is recorded (the
    file is taken as if it came without one), and nothing of it reaches the findings or the console."""
    good = eml("kstt.vpubnd@laocai.gov.vn", "Mon, 04 Mar 2024 09:00:00 +0700", [("NC.xlsx", NC)])
    for n, sender in enumerate(
        [b"kstt.laocai@gmail.co\x00", b"Ke toan <kt\x1b[2J@laocai.gov.vn>", b"a b@c.vn"]
    ):
        damaged = good.replace(b"kstt.vpubnd@laocai.gov.vn", sender, 1)
        assert damaged != good
        put(tmp_path / "in" / f"{n}.eml", damaged)
    collected = collect.collect(tmp_path / "in", config)
    assert len(collected.incoming) == 1 and len(collected.duplicates) == 2  # the same workbook three times
    received = [item.file for item in collected.incoming] + [copy for copy, _ in collected.duplicates]
    assert [file.sender for file in received] == [None, None, None]
