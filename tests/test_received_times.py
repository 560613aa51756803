"""Who sent a file and when (issue #12): received times, forged dates, copies, corrections, senders.

Real inboxes: e-mails written with email.message.EmailMessage, Outlook files with the .msg builder,
workbooks built from the form, modification times set with os.utime, the real validator.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import json
import os
from email.message import EmailMessage
from pathlib import Path

import pytest

from processor import collect, pipeline, resolve
from processor.ingest_cache import ValidationCache
from processor.records import FileStatus, Period, ReceivedFile, Severity, Submission, TimeSource
from tests.conftest import REPO
from tests.test_cli import thidua
from tests.test_collect import eml, make_msg, put
from tests.workbooks import Spec, xlsx

VN = dt.timezone(dt.timedelta(hours=7))
FEB = Period(2024, 2)
NOW = dt.datetime(2024, 3, 10, 12, 0, tzinfo=VN)  # the moment the inbox is read, in most tests
UNIT_NAMES = {"TCHC": "Phòng Tổ chức - Hành chính", "KT": "Phòng Kinh tế", "TH": "Phòng Tổng hợp"}


def report(unit: str = "TCHC", prepared: dt.date = dt.date(2024, 3, 2), *, faulty=False, done=12) -> bytes:
    """A real February report; `faulty`: more tasks completed than assigned (an error)."""
    spec = Spec()
    spec.unit.update(unit_code=unit, unit_name=UNIT_NAMES[unit], prepared_on=prepared, tasks_completed=done)
    if faulty:
        spec.unit["tasks_completed"] = 15
    spec.meta["unit_code"] = unit
    return xlsx(spec)


def relayed(mail: bytes, *received: str) -> bytes:
    """The e-mail with Received: headers above the others, topmost first, as mail servers add them."""
    return "".join(f"Received: {line}\r\n" for line in received).encode("ascii") + mail


GENUINE = "Mon, 04 Mar 2024 08:00:00 +0700"
FORGED = "Fri, 01 Jan 2100 00:00:00 +0700"


def mail(
    folder: Path,
    name: str,
    date: str | None,
    *,
    sender: str = "tchc.vpubnd@laocai.gov.vn",
    done: int = 12,
    attachment: str = "x.xlsx",
    when: dt.datetime | None = None,
) -> None:
    """An e-mail with one February report of Phòng TCHC (`done` tasks completed) in the inbox."""
    put(folder / name, eml(sender, date, [(attachment, report(done=done))]), when)


def kt_correction(folder: Path, when: dt.datetime | None = None, name: str = "sua.eml") -> None:
    """Phòng Kinh tế's correct report, e-mailed on 05/03/2024 from its registered address."""
    message = eml(
        "kinhte.vpubnd@laocai.gov.vn", "Tue, 05 Mar 2024 09:00:00 +0700", [("bao-cao-KT.xlsx", report("KT"))]
    )
    put(folder / name, message, when)


def received_line(when: str, by: str = "mail.laocai.gov.vn") -> str:
    return f"from mx.example.vn (mx.example.vn [203.0.113.5]) by {by} with ESMTPS id 4Tq; {when}"


def by_name(submissions) -> dict[str, Submission]:
    return {s.file.display_name: s for s in submissions}


def codes(sub: Submission) -> list[str]:
    return [f.code for f in sub.findings]


# -- the order of sources --------------------------------------------------------------------------


def test_received_time_comes_from_the_topmost_received_header_then_date_then_mtime(tmp_path, config):
    folder = tmp_path / "in"
    saved = dt.datetime(2024, 3, 9, 8, 0, tzinfo=VN)
    through_servers = relayed(
        eml("tchc.vpubnd@laocai.gov.vn", GENUINE, [("a.xlsx", report(done=1))]),
        received_line("Mon, 4 Mar 2024 09:15:02 +0700 (ICT)"),  # the office's own server: believed
        received_line("Mon, 4 Mar 2024 01:00:00 +0000", by="mx.example.vn"),  # the sender's side
    )
    put(folder / "a.eml", through_servers, saved)
    mail(folder, "b.eml", "Tue, 05 Mar 2024 10:00:00 +0700", done=2, attachment="b.xlsx", when=saved)
    mail(folder, "c.eml", None, done=3, attachment="c.xlsx", when=saved)
    put(folder / "d.xlsx", report(done=4), saved)
    files = {i.file.display_name: i.file for i in collect.collect(folder, config, now=NOW).incoming}
    expected = {
        "a.eml › a.xlsx": (dt.datetime(2024, 3, 4, 9, 15, 2), TimeSource.RECEIVED),
        "b.eml › b.xlsx": (dt.datetime(2024, 3, 5, 10, 0), TimeSource.DATE),
        "c.eml › c.xlsx": (dt.datetime(2024, 3, 9, 8, 0), TimeSource.MTIME),
        "d.xlsx": (dt.datetime(2024, 3, 9, 8, 0), TimeSource.MTIME),
    }
    assert {name: (f.received_at, f.received_source) for name, f in files.items()} == expected
    assert all(f.modified == dt.datetime(2024, 3, 9, 8, 0) and not f.time_findings for f in files.values())


def test_a_received_header_of_an_outlook_file_is_read_too(tmp_path, config):
    headers = (
        f"Received: {received_line('Tue, 5 Mar 2024 07:30:00 +0700')}\r\n"
        "From: kstt.vpubnd@laocai.gov.vn\r\nDate: Mon, 4 Mar 2024 16:45:00 +0700\r\n"
    )
    data = make_msg.build_msg(
        subject="Báo cáo tháng 02/2024",
        sender_name="Phòng KSTT",
        sender_email="kstt.vpubnd@laocai.gov.vn",
        sent_at=dt.datetime(2024, 3, 4, 16, 45, tzinfo=VN),
        attachments=[("x.xlsx", report())],
        transport_headers=headers,
    )
    put(tmp_path / "in" / "kstt.msg", data)
    [item] = collect.collect(tmp_path / "in", config, now=NOW).incoming
    assert (item.file.received_at, item.file.received_source) == (
        dt.datetime(2024, 3, 5, 7, 30),
        TimeSource.RECEIVED,
    )


@pytest.mark.parametrize(
    ("date", "refused_because"),
    [
        ("Mon, 11 Mar 2024 11:00:00 +0700", None),  # 23 hours after the moment the inbox is read
        ("Mon, 11 Mar 2024 12:30:00 +0700", "muộn hơn thời điểm đọc tệp quá một ngày"),  # 24.5 hours
        ("Mon, 01 Jan 2024 00:00:00 +0700", None),  # the day the campaign began
        ("Sun, 31 Dec 2023 23:59:00 +0700", "trước ngày bắt đầu đợt thi đua (01/01/2024)"),
    ],
)
def test_a_date_is_believed_from_the_campaign_start_to_a_day_after_now(
    tmp_path, config, date, refused_because
):
    saved = dt.datetime(2024, 3, 8, 17, 0, tzinfo=VN)
    mail(tmp_path / "in", "thu.eml", date, when=saved)
    [item] = collect.collect(tmp_path / "in", config, now=NOW).incoming
    if refused_because is None:
        assert item.file.received_source is TimeSource.DATE and not item.file.time_findings
        return
    assert (item.file.received_at, item.file.received_source) == (
        dt.datetime(2024, 3, 8, 17),
        TimeSource.MTIME,
    )
    [finding] = item.file.time_findings
    assert (finding.severity, finding.code, finding.file) == (
        Severity.WARNING,
        "received_time_not_believed",
        "thu.eml › x.xlsx",
    )
    assert refused_because in finding.message and "ngày giờ sửa tệp" in finding.message
    assert item.file.time_is_weak


def test_a_received_header_not_believed_falls_back_to_the_date(tmp_path, config):
    forged_server = relayed(
        eml("tchc.vpubnd@laocai.gov.vn", GENUINE, [("x.xlsx", report())]),
        received_line("Sat, 1 Jan 2100 00:00:00 +0700"),
    )
    put(tmp_path / "in" / "thu.eml", forged_server)
    [item] = collect.collect(tmp_path / "in", config, now=NOW).incoming
    assert (item.file.received_at, item.file.received_source) == (dt.datetime(2024, 3, 4, 8), TimeSource.DATE)
    [finding] = item.file.time_findings
    assert "tiêu đề Received" in finding.message and "01/01/2100" in finding.message
    assert "tiêu đề Date" in finding.message  # what was used instead
    assert not item.file.time_is_weak  # a believable time was found


def test_a_forwarded_email_whose_inner_date_is_forged_takes_the_forward_s_time(tmp_path, config):
    inner = eml("tchc.vpubnd@laocai.gov.vn", FORGED, [("x.xlsx", report())])
    outer = EmailMessage()
    outer["Received"] = received_line("Thu, 7 Mar 2024 10:00:05 +0700")
    outer["From"] = "lanh.dao@laocai.gov.vn"
    outer["Date"] = "Thu, 07 Mar 2024 10:00:00 +0700"
    outer.set_content("Chuyển Phòng TCHC.")
    outer.add_attachment(email.message_from_bytes(inner, policy=email.policy.default))
    put(tmp_path / "in" / "fw.eml", outer.as_bytes())
    [item] = collect.collect(tmp_path / "in", config, now=NOW).incoming
    assert (item.file.received_at, item.file.received_source) == (
        dt.datetime(2024, 3, 7, 10, 0, 5),
        TimeSource.RECEIVED,
    )
    assert [f.value for f in item.file.time_findings] == ["00:00 ngày 01/01/2100"]
    assert item.file.sender == "tchc.vpubnd@laocai.gov.vn"


# -- forged dates and unregistered senders ---------------------------------------------------------


def test_a_forged_date_in_2100_does_not_replace_the_genuine_report(tmp_path, config):
    """Issue #12: an e-mail with the unit's registered From and `Date: 01 Jan 2100` replaced the unit's
    genuine report. Its date is not believed: a finding, the file's own time instead, ranked below any
    believable time, so the genuine report stays even though the forgery was saved later."""
    folder = tmp_path / "in"
    mail(
        folder, "that.eml", GENUINE, attachment="bao-cao.xlsx", when=dt.datetime(2024, 3, 4, 8, 5, tzinfo=VN)
    )
    mail(
        folder,
        "gia.eml",
        FORGED,
        done=0,
        attachment="bao-cao.xlsx",
        when=dt.datetime(2024, 3, 9, 8, tzinfo=VN),
    )
    subs = by_name(pipeline.ingest(config, folder, now=NOW).submissions)
    genuine, forged = subs["that.eml › bao-cao.xlsx"], subs["gia.eml › bao-cao.xlsx"]
    assert genuine.status is FileStatus.ACCEPTED and genuine.report.tasks_completed == 12
    assert (forged.status, forged.superseded_by) == (FileStatus.SUPERSEDED, "that.eml › bao-cao.xlsx")
    assert forged.file.received_at == dt.datetime(2024, 3, 9, 8, 0)
    assert "received_time_not_believed" in codes(forged)
    assert (
        "không thay thế được báo cáo khác"
        in forged.findings[codes(forged).index("received_time_not_believed")].message
    )


def test_a_forged_date_alone_is_still_used_with_its_warning(tmp_path, config):
    mail(tmp_path / "in", "gia.eml", FORGED)
    [sub] = pipeline.ingest(config, tmp_path / "in").submissions  # the real clock: 2100 is the future
    assert sub.status is FileStatus.ACCEPTED and codes(sub) == ["received_time_not_believed"]


def test_an_unregistered_sender_never_replaces_a_registered_one(tmp_path, config):
    folder = tmp_path / "in"
    mail(folder, "a.eml", GENUINE)
    mail(folder, "b.eml", "Wed, 06 Mar 2024 08:00:00 +0700", sender="Kẻ giả <ai.do@gmail.com>", done=3)
    subs = by_name(pipeline.ingest(config, folder, now=NOW).submissions)
    registered, stranger = subs["a.eml › x.xlsx"], subs["b.eml › x.xlsx"]
    assert registered.status is FileStatus.ACCEPTED and registered.findings == []
    assert (stranger.status, stranger.superseded_by) == (FileStatus.SUPERSEDED, "a.eml › x.xlsx")
    assert codes(stranger) == ["sender_not_registered_not_used", "sender_not_registered"]
    explained = stranger.findings[0]
    assert explained.value == "ai.do@gmail.com" and "a.eml › x.xlsx" in explained.message
    assert "Phòng Tổ chức - Hành chính (TCHC)" in explained.message and "units.emails" in explained.message


def test_without_a_registered_file_an_unregistered_sender_competes_by_time(tmp_path, config):
    folder = tmp_path / "in"
    put(folder / "a.xlsx", report(), dt.datetime(2024, 3, 4, 8, 0, tzinfo=VN))
    mail(folder, "b.eml", "Wed, 06 Mar 2024 08:00:00 +0700", sender="ai.do@gmail.com", done=3)
    subs = by_name(pipeline.ingest(config, folder, now=NOW).submissions)
    assert subs["b.eml › x.xlsx"].status is FileStatus.ACCEPTED
    assert codes(subs["b.eml › x.xlsx"]) == ["sender_not_registered"]
    assert subs["a.xlsx"].status is FileStatus.SUPERSEDED


def test_an_older_unregistered_file_is_superseded_without_the_explanation(tmp_path, config):
    folder = tmp_path / "in"
    mail(folder, "a.eml", "Sat, 02 Mar 2024 08:00:00 +0700", sender="ai.do@gmail.com", done=3)
    mail(folder, "b.eml", GENUINE)
    subs = by_name(pipeline.ingest(config, folder, now=NOW).submissions)
    assert codes(subs["a.eml › x.xlsx"]) == ["sender_not_registered"]  # it lost by its time anyway


# -- copies ----------------------------------------------------------------------------------------


def test_a_correction_email_wins_over_an_older_faulty_workbook_copied_later(tmp_path, config):
    """Issue #12, as a new user found it: the correction e-mail dated 05/03/2024 lost to the older faulty
    .xlsx because the .xlsx had been copied into the inbox later. The .xlsx's only time is its
    modification time, weeks after its own Ngày lập: a copy's, which ranks below the e-mail's date."""
    folder = tmp_path / "in"
    kt_correction(folder, dt.datetime(2024, 3, 5, 9, 2, tzinfo=VN))
    faulty = put(folder / "bao-cao-KT.xlsx", report("KT", dt.date(2024, 3, 1), faulty=True))
    os.utime(faulty, (dt.datetime(2024, 4, 12, 15, 0, tzinfo=VN).timestamp(),) * 2)
    now = dt.datetime(2024, 4, 12, 16, 0, tzinfo=VN)
    subs = by_name(pipeline.ingest(config, folder, now=now).submissions)
    fixed, old = subs["sua.eml › bao-cao-KT.xlsx"], subs["bao-cao-KT.xlsx"]
    assert fixed.status is FileStatus.ACCEPTED
    assert (old.status, old.superseded_by) == (FileStatus.SUPERSEDED, "sua.eml › bao-cao-KT.xlsx")
    assert old.file.copied and not fixed.file.copied
    assert resolve.copied_times(subs.values(), FEB) == [old]


def test_many_files_modified_within_two_seconds_are_a_copy(tmp_path, config):
    folder = tmp_path / "in"
    kt_correction(folder)
    copied_at = dt.datetime(2024, 3, 7, 8, 0, tzinfo=VN)
    put(folder / "bao-cao-KT.xlsx", report("KT", dt.date(2024, 3, 1), faulty=True), copied_at)
    for n, unit in enumerate(["TCHC", "TH", "TCHC", "TH"]):  # four more files of the same copy
        put(folder / f"khac-{n}.xlsx", report(unit, done=n), copied_at + dt.timedelta(seconds=0.5 * n))
    put(
        folder / "truoc.eml",
        eml("tonghop.vpubnd@laocai.gov.vn", None, []),
        copied_at - dt.timedelta(minutes=5),
    )
    subs = by_name(pipeline.ingest(config, folder, now=NOW).submissions)
    assert subs["sua.eml › bao-cao-KT.xlsx"].status is FileStatus.ACCEPTED
    assert subs["bao-cao-KT.xlsx"].status is FileStatus.SUPERSEDED
    assert sorted(n for n, s in subs.items() if s.file.copied) == [
        "bao-cao-KT.xlsx",
        "khac-0.xlsx",
        "khac-1.xlsx",
        "khac-2.xlsx",
        "khac-3.xlsx",
    ]


def test_four_files_within_two_seconds_and_a_recent_save_are_believed(tmp_path, config):
    """A workbook saved from the e-mail days after the correction, its Ngày lập that week, and only a
    few files saved with it: nothing says it is a copy, so it is the newer version."""
    folder = tmp_path / "in"
    kt_correction(folder)
    saved = dt.datetime(2024, 3, 7, 8, 0, tzinfo=VN)
    put(folder / "bao-cao-KT-lan3.xlsx", report("KT", dt.date(2024, 3, 6), done=11), saved)
    for n in range(3):
        put(folder / f"khac-{n}.xlsx", report("TCHC", done=n), saved + dt.timedelta(seconds=0.5 * n))
    subs = by_name(pipeline.ingest(config, folder, now=NOW).submissions)
    assert not any(s.file.copied for s in subs.values())
    assert subs["bao-cao-KT-lan3.xlsx"].status is FileStatus.ACCEPTED
    assert subs["sua.eml › bao-cao-KT.xlsx"].status is FileStatus.SUPERSEDED
    assert resolve.copied_times(subs.values(), FEB) == []


# -- ties and determinism --------------------------------------------------------------------------


def _version(name: str, source: TimeSource, sha: str, at=dt.datetime(2024, 3, 4, 9, 0)) -> Submission:
    file = ReceivedFile(name, Path(name), sha, at, received_source=source)
    return Submission(file, FileStatus.ACCEPTED, unit_code="KT", period=FEB)


def test_equal_times_go_to_the_more_trusted_source_then_the_name_then_the_sha256():
    def winner(versions: list[Submission]) -> str:
        names = set()
        for order in (versions, versions[::-1], versions[1:] + versions[:1]):
            fresh = [dataclasses.replace(v, findings=[]) for v in order]
            resolve.resolve_versions(fresh)
            [kept] = [v for v in fresh if v.status is FileStatus.ACCEPTED]
            names.add(kept.file.display_name)
        [name] = names  # the same whatever the order
        return name

    assert (
        winner(
            [
                _version("z.xlsx", TimeSource.MTIME, "f" * 64),
                _version("a.eml › x.xlsx", TimeSource.DATE, "0" * 64),
            ]
        )
        == "a.eml › x.xlsx"
    )
    assert (
        winner(
            [
                _version("b.eml › x.xlsx", TimeSource.DATE, "0" * 64),
                _version("a.eml › x.xlsx", TimeSource.RECEIVED, "0" * 64),
            ]
        )
        == "a.eml › x.xlsx"
    )
    assert (
        winner([_version("m", TimeSource.MAILBOX, "0" * 64), _version("n", TimeSource.RECEIVED, "f" * 64)])
        == "m"
    )
    assert winner([_version("x", TimeSource.DATE, "1" * 64), _version("x", TimeSource.DATE, "2" * 64)]) == "x"
    same = [_version("x", TimeSource.DATE, "1" * 64), _version("x", TimeSource.DATE, "2" * 64)]
    resolve.resolve_versions(same)
    assert [s.status for s in same] == [FileStatus.SUPERSEDED, FileStatus.ACCEPTED]  # the larger sha256


def test_the_memo_gives_the_same_times_and_findings_again(tmp_path, config):
    folder = tmp_path / "in"
    mail(folder, "that.eml", GENUINE)
    mail(folder, "gia.eml", FORGED, done=0)
    faulty = put(folder / "cu.xlsx", report("TCHC", dt.date(2024, 1, 2), faulty=True))
    os.utime(faulty, (dt.datetime(2024, 3, 9, tzinfo=VN).timestamp(),) * 2)
    memo = tmp_path / "memo.json"
    first = pipeline.ingest(config, folder, cache=ValidationCache(memo, "k"), now=NOW).submissions
    cache = ValidationCache(memo, "k")
    assert all(cache.holds(s.file.sha256) for s in first if s.file.sha256)
    again = pipeline.ingest(config, folder, cache=cache, now=NOW).submissions
    assert again == first
    assert by_name(again)["cu.xlsx"].file.copied
    assert "received_time_not_believed" in codes(by_name(again)["gia.eml › x.xlsx"])


# -- the commands ----------------------------------------------------------------------------------


def test_status_and_run_warn_that_times_come_from_a_copy_and_keep_the_genuine_reports(tmp_path):
    (tmp_path / "config.toml").write_text(
        (REPO / "config.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    inbox = tmp_path / "inbox"
    mail(inbox, "tchc-that.eml", GENUINE, attachment="bao-cao.xlsx")
    mail(inbox, "tchc-gia.eml", FORGED, done=0, attachment="bao-cao.xlsx")
    kt_correction(inbox, name="kt-sua.eml")
    put(inbox / "bao-cao-KT.xlsx", report("KT", dt.date(2024, 3, 1), faulty=True))  # copied today
    status = thidua("status", "--period", "2024-02", cwd=tmp_path, check=True)
    for proc in (status, thidua("run", "--period", "2024-02", cwd=tmp_path, check=True)):
        assert "Lưu ý: 1 tệp của kỳ 02/2024 (bao-cao-KT.xlsx)" in proc.stdout
        assert "đánh giá nộp đúng hạn hay muộn, và việc chọn bản sửa mới nhất, có thể sai" in proc.stdout
        assert "Traceback" not in proc.stderr
    summary = json.loads((tmp_path / "output" / "2024-02" / "summary.json").read_text(encoding="utf-8"))
    units = {u["code"]: u for u in summary["units"]}
    assert units["TCHC"]["file"] == "tchc-that.eml › bao-cao.xlsx" and units["TCHC"]["tasks_completed"] == 12
    assert units["KT"]["file"] == "kt-sua.eml › bao-cao-KT.xlsx" and units["KT"]["status"] == "on_time"
    inputs = {i["name"]: i for i in summary["generated_from"]}
    where = {name: (i["status"], i["received_from"], i["received_time_copied"]) for name, i in inputs.items()}
    assert where["bao-cao-KT.xlsx"] == ("superseded", "mtime", True)
    assert where["kt-sua.eml › bao-cao-KT.xlsx"] == ("accepted", "date", False)
    assert where["tchc-gia.eml › bao-cao.xlsx"] == ("superseded", "mtime", True)
    assert inputs["tchc-gia.eml › bao-cao.xlsx"]["warnings"] == 1  # its Date was not believed


def test_status_says_nothing_about_copies_when_times_are_believable(tmp_path):
    (tmp_path / "config.toml").write_text(
        (REPO / "config.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    kt_correction(tmp_path / "inbox")
    put(tmp_path / "inbox" / "tchc.xlsx", report(), dt.datetime(2024, 3, 4, 10, 0, tzinfo=VN))
    proc = thidua("status", "--period", "2024-02", cwd=tmp_path, check=True)
    assert "Lưu ý" not in proc.stdout
