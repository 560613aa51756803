"""Collect, and collect-validate-resolve together (pipeline.ingest): an inbox of real files (workbooks,
.eml, .msg, clutter) made by the tests.

Most tests swap processor.validate for a stand-in that reads only the workbook's metadata sheet, so
that they prove ingest's own rules (what is taken, from whom, when, once, which version) whatever the
state of the validator. The tests at the end run the real validator when it is importable.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import hashlib
import importlib.util
import io
import os
import shutil
import sys
import types
import unicodedata
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import processor
from processor import collect, pipeline
from processor.records import FileStatus, Period, Severity, Submission, UserError

FIXTURES = Path(__file__).parent / "fixtures"
_spec = importlib.util.spec_from_file_location("make_msg", FIXTURES / "make_msg.py")
make_msg = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_msg)

VN = dt.timezone(dt.timedelta(hours=7))
FEB = Period(2024, 2)
XLSX_MIME = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


# -- building an inbox -----------------------------------------------------------------------------


def workbook(unit: str, period: str, note: str = "") -> bytes:
    """A small real workbook with the metadata sheet; `note` makes otherwise equal workbooks differ."""
    book = openpyxl.Workbook()
    book.active.title = "Đơn vị"
    book.active["A1"] = "BÁO CÁO KẾT QUẢ THỰC HIỆN PHONG TRÀO THI ĐUA"
    book.active["A2"] = note
    meta = book.create_sheet("_thidua")
    for row, (key, value) in enumerate([("unit_code", unit), ("period", period)], 1):
        meta.cell(row, 1, key)
        meta.cell(row, 2, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def eml(
    sender: str, date: str | None, attachments: list[tuple[str, bytes]], subject="Báo cáo thi đua"
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "Phòng TCHC <tchc.vpubnd@laocai.gov.vn>"
    message["Subject"] = subject
    if date:
        message["Date"] = date
    message.set_content("Kính gửi Phòng Tổ chức - Hành chính,\nĐơn vị gửi báo cáo tháng.\n")
    for name, data in attachments:
        if name.endswith(".pdf"):
            message.add_attachment(data, maintype="application", subtype="pdf", filename=name)
        else:
            message.add_attachment(data, maintype=XLSX_MIME[0], subtype=XLSX_MIME[1], filename=name)
    return message.as_bytes()


def put(path: Path, data: bytes, when: dt.datetime | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if when is not None:
        os.utime(path, (when.timestamp(), when.timestamp()))
    return path


TCHC = workbook("TCHC", "2024-02")
TH_FEB = workbook("TH", "2024-02")
TH_JAN = workbook("TH", "2024-01")
KT_FIRST = workbook("KT", "2024-02", "bản đầu")
KT_FIXED = workbook("KT", "2024-02", "bản sửa")
NC = workbook("NC", "2024-02")


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    root = tmp_path / "inbox"
    put(root / "2024-02_TCHC_bao-cao.xlsx", TCHC, dt.datetime(2024, 3, 3, 10, 0, tzinfo=VN))
    put(root / "~$2024-02_TCHC_bao-cao.xlsx", b"\x00lock owner")
    put(root / ".an.xlsx", TCHC)
    put(root / "cong-van-phat-dong.pdf", b"%PDF-1.4\n%test\n")
    put(root / "nop-lai" / "2024-02_TCHC_bao-cao (1).xlsx", TCHC, dt.datetime(2024, 3, 6, 9, 0, tzinfo=VN))
    put(
        root / "thu-tong-hop.eml",
        eml(
            "Phòng Tổng hợp <TongHop.VPUBND@LaoCai.gov.vn>",
            "Mon, 04 Mar 2024 08:30:00 +0700",
            [
                ("2024-02_TH_bao-cao.xlsx", TH_FEB),
                ("2024-01_TH_bao-cao.xlsx", TH_JAN),
                ("to-trinh.pdf", b"%PDF"),
            ],
        ),
        dt.datetime(2024, 3, 10, 0, 0, tzinfo=VN),
    )
    put(
        root / "khong-dinh-kem.eml", eml("kinhte.vpubnd@laocai.gov.vn", "Sat, 02 Mar 2024 07:00:00 +0000", [])
    )
    put(root / "hong.eml", bytes(range(256)) * 4)
    # KT: first version by e-mail on the 2nd, corrected file saved on the 5th.
    put(
        root / "thang-02" / "KT" / "thu-kinh-te.eml",
        eml(
            "kinhte.vpubnd@laocai.gov.vn", "Sat, 02 Mar 2024 01:00:00 +0000", [("bao-cao-KT.xlsx", KT_FIRST)]
        ),
    )
    put(root / "thang-02" / "KT" / "bao-cao-KT-sua.xlsx", KT_FIXED, dt.datetime(2024, 3, 5, 14, 0, tzinfo=VN))
    put(root / "thang-02" / "kstt.msg", (FIXTURES / "msg" / "kstt-bao-cao-thang-02.msg").read_bytes())
    put(root / "thang-02" / "nc.eml", eml("Nguyễn Văn Lạ <nguoi.la@gmail.com>", None, [("NC.xlsx", NC)]))
    os.utime(root / "thang-02" / "nc.eml", (dt.datetime(2024, 3, 4, 17, 0, tzinfo=VN).timestamp(),) * 2)
    return root


def snapshot(folder: Path) -> dict[str, tuple[str, int, int]]:
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            info = path.stat()
            out[path.relative_to(folder).as_posix()] = (
                hashlib.sha256(path.read_bytes()).hexdigest(),
                info.st_mtime_ns,
                info.st_size,
            )
    return out


# -- a stand-in validator --------------------------------------------------------------------------


@pytest.fixture
def fake_validate(monkeypatch):
    calls = {"cross_check": []}

    def validate_workbook(config, incoming, accept_partial=False):
        book = openpyxl.load_workbook(io.BytesIO(incoming.data), read_only=True)
        meta = {row[0]: row[1] for row in book["_thidua"].iter_rows(values_only=True)}
        period = Period.parse(meta["period"])
        status = FileStatus.ACCEPTED if period == Period(2024, 2) else FileStatus.OTHER_PERIOD
        return Submission(incoming.file, status, unit_code=meta["unit_code"], period=period)

    def cross_check(config, submissions):
        calls["cross_check"].append(list(submissions))

    module = types.SimpleNamespace(validate_workbook=validate_workbook, cross_check=cross_check)
    monkeypatch.setitem(sys.modules, "processor.validate", module)
    monkeypatch.setattr(processor, "validate", module, raising=False)
    return calls


def by_name(submissions):
    return {s.file.display_name: s for s in submissions}


# -- collect ---------------------------------------------------------------------------------------


def test_collect_takes_workbooks_and_attachments_in_sorted_order(inbox, config):
    collected = collect.collect(inbox, config)
    names = [i.file.display_name for i in collected.incoming]
    assert names == [
        "2024-02_TCHC_bao-cao.xlsx",
        "thang-02/KT/bao-cao-KT-sua.xlsx",
        "thang-02/KT/thu-kinh-te.eml › bao-cao-KT.xlsx",
        "thang-02/kstt.msg › 2024-02_KSTT_bao-cao-thi-dua.xlsx",
        "thang-02/nc.eml › NC.xlsx",
        "thu-tong-hop.eml › 2024-02_TH_bao-cao.xlsx",
        "thu-tong-hop.eml › 2024-01_TH_bao-cao.xlsx",
    ]
    for item in collected.incoming:
        assert item.file.sha256 == hashlib.sha256(item.data).hexdigest()
        assert item.file.source_path.is_file()
    files = {i.file.display_name: i.file for i in collected.incoming}
    plain = files["2024-02_TCHC_bao-cao.xlsx"]
    assert (plain.sender, plain.attachment_name) == (None, None)
    assert plain.received_at == dt.datetime(2024, 3, 3, 10, 0)  # the file's mtime, Vietnam time, naive
    assert collected.incoming[0].data == TCHC

    mailed = files["thu-tong-hop.eml › 2024-01_TH_bao-cao.xlsx"]
    assert mailed.sender == "tonghop.vpubnd@laocai.gov.vn"  # lower-case address, no display name
    assert mailed.received_at == dt.datetime(2024, 3, 4, 8, 30)  # the Date header, not the mtime
    assert mailed.attachment_name == "2024-01_TH_bao-cao.xlsx"
    assert mailed.source_path == inbox / "thu-tong-hop.eml"
    kt_mail = files["thang-02/KT/thu-kinh-te.eml › bao-cao-KT.xlsx"]
    assert kt_mail.received_at == dt.datetime(2024, 3, 2, 8, 0)  # 01:00 UTC is 08:00 in Vietnam
    no_date = files["thang-02/nc.eml › NC.xlsx"]
    assert no_date.received_at == dt.datetime(2024, 3, 4, 17, 0)  # no Date header: the e-mail file's mtime

    outlook = files["thang-02/kstt.msg › 2024-02_KSTT_bao-cao-thi-dua.xlsx"]
    assert outlook.sender == "kstt.laocai@gmail.com"
    assert outlook.received_at == dt.datetime(2024, 3, 4, 16, 45)
    assert outlook.attachment_name == "2024-02_KSTT_bao-cao-thi-dua.xlsx"


def test_collect_takes_the_same_bytes_once(inbox, config):
    collected = collect.collect(inbox, config)
    assert [(copy.display_name, kept.display_name) for copy, kept in collected.duplicates] == [
        ("nop-lai/2024-02_TCHC_bao-cao (1).xlsx", "2024-02_TCHC_bao-cao.xlsx")
    ]
    assert sum(i.data == TCHC for i in collected.incoming) == 1


def test_collect_skips_clutter_and_reports_what_it_cannot_take(inbox, config):
    collected = collect.collect(inbox, config)
    assert sorted(p.name for p in collected.skipped) == [".an.xlsx", "~$2024-02_TCHC_bao-cao.xlsx"]
    problems = {s.file.display_name: s for s in collected.not_taken}
    assert set(problems) == {"cong-van-phat-dong.pdf", "khong-dinh-kem.eml", "hong.eml"}
    assert all(s.status is FileStatus.UNREADABLE for s in problems.values())
    pdf = problems["cong-van-phat-dong.pdf"].findings
    assert [(f.severity, f.code, f.file) for f in pdf] == [
        (Severity.WARNING, "not_a_report", "cong-van-phat-dong.pdf")
    ]
    assert "Tệp .pdf không phải biểu mẫu báo cáo" in pdf[0].message
    empty = problems["khong-dinh-kem.eml"]
    assert [(f.severity, f.code) for f in empty.findings] == [(Severity.WARNING, "no_workbook_attachment")]
    assert "Thư không có tệp biểu mẫu báo cáo đính kèm" in empty.findings[0].message
    assert empty.file.sender == "kinhte.vpubnd@laocai.gov.vn"  # the clerk can still see who sent it
    assert empty.file.received_at == dt.datetime(2024, 3, 2, 14, 0)
    broken = problems["hong.eml"].findings
    assert [(f.severity, f.code) for f in broken] == [(Severity.ERROR, "email_unreadable")]
    assert "không phải thư điện tử" in broken[0].message
    assert collected.findings == [f for s in collected.not_taken for f in s.findings]
    for finding in collected.findings:
        assert finding.message == unicodedata.normalize("NFC", finding.message)


def test_collect_never_changes_the_inbox(inbox, config, fake_validate):
    before = snapshot(inbox)
    collect.collect(inbox, config)
    result = pipeline.ingest(config, inbox)
    for sub in result.submissions:
        if sub.file.sha256:
            collect.read_source(sub.file)
    assert snapshot(inbox) == before


def test_missing_inbox_is_a_user_error_in_vietnamese(tmp_path, config):
    with pytest.raises(UserError, match=r"Không tìm thấy thư mục .*Tạo thư mục hoặc chỉ rõ --inbox"):
        collect.collect(tmp_path / "khong-co", config)
    put(tmp_path / "tep", b"x")
    with pytest.raises(UserError, match="không phải thư mục"):
        collect.collect(tmp_path / "tep", config)


def test_files_too_large_are_not_read(tmp_path, config):
    small = dataclasses.replace(config, validation=dataclasses.replace(config.validation, max_file_mb=1))
    put(tmp_path / "in" / "to.xlsx", b"\0" * (1024 * 1024 + 1))
    put(tmp_path / "in" / "to.eml", eml("a@b.vn", None, [("x.xlsx", b"\0" * 800_000)]))
    put(tmp_path / "in" / "vua.xlsx", TCHC)
    collected = collect.collect(tmp_path / "in", small)
    assert [i.file.display_name for i in collected.incoming] == ["vua.xlsx"]
    findings = {f.file: f for f in collected.findings}
    assert set(findings) == {"to.xlsx", "to.eml"}
    assert findings["to.xlsx"].code == "file_too_large"
    assert findings["to.xlsx"].message.startswith("Tệp dung lượng 1,0 MB, vượt giới hạn 1 MB")
    assert findings["to.eml"].severity is Severity.ERROR


# The copy goes on while ingest reads: after its status is taken and before the bytes are read, or after
# the read.
@pytest.mark.parametrize("grows_at_stat", [1, 2])
def test_a_file_changing_while_read_is_reported_and_the_others_go_on(
    tmp_path, config, monkeypatch, grows_at_stat
):
    growing = put(tmp_path / "in" / "a-dang-chep.xlsx", TH_FEB)
    put(tmp_path / "in" / "b.xlsx", TCHC)
    real_stat = os.stat
    seen = []

    def stat(path, *args, **kwargs):
        if Path(path) == growing:
            seen.append(path)
            status = real_stat(path, *args, **kwargs)
            if len(seen) == grows_at_stat:
                with open(growing, "ab") as stream:
                    stream.write(b"more")
                if grows_at_stat == 2:
                    status = real_stat(path, *args, **kwargs)
            return status
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(collect.os, "stat", stat)
    collected = collect.collect(tmp_path / "in", config)
    assert [i.file.display_name for i in collected.incoming] == ["b.xlsx"]
    [finding] = collected.findings
    assert (finding.file, finding.code, finding.severity) == (
        "a-dang-chep.xlsx",
        "file_changing",
        Severity.ERROR,
    )
    assert "Chờ chép xong rồi chạy lại" in finding.message


def test_unreadable_and_vanished_files_are_findings(tmp_path, config, monkeypatch):
    locked = put(tmp_path / "in" / "khoa.xlsx", TCHC)
    put(tmp_path / "in" / "mo.xlsx", TH_FEB)
    real_open = open

    def guarded_open(path, *args, **kwargs):
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(collect, "open", guarded_open, raising=False)
    collected = collect.collect(tmp_path / "in", config)
    assert [i.file.display_name for i in collected.incoming] == ["mo.xlsx"]
    [finding] = collected.findings
    assert finding.code == "file_unreadable"
    assert finding.message.startswith("Không có quyền đọc tệp")

    gone = collect.collect_paths([tmp_path / "in" / "da-xoa.xlsx"], config)
    [finding] = gone.findings
    assert finding.code == "file_not_found"
    assert f"không tìm thấy “da-xoa.xlsx” trong thư mục {tmp_path / 'in'}" in finding.message


def test_other_formats_get_advice(tmp_path, config):
    put(tmp_path / "in" / "bao-cao.csv", b"a;b")
    put(tmp_path / "in" / "bieu-mau.zip", b"PK")
    put(tmp_path / "in" / "hong.msg", b"not an OLE file at all" * 10)
    findings = {f.file: f for f in collect.collect(tmp_path / "in", config).findings}
    assert "lưu lại dạng Excel Workbook (.xlsx)" in findings["bao-cao.csv"].message
    assert "giải nén" in findings["bieu-mau.zip"].message
    assert findings["hong.msg"].code == "email_unreadable"
    assert findings["hong.msg"].severity is Severity.ERROR
    assert "Outlook" in findings["hong.msg"].message


def test_names_are_nfc_and_attachment_names_cannot_be_paths(tmp_path, config):
    nfd_name = unicodedata.normalize("NFD", "Báo cáo tháng 02.xlsx")
    put(tmp_path / "in" / nfd_name, TCHC)
    put(
        tmp_path / "in" / "thu.eml",
        eml("Đơn vị <nc@x.vn>", None, [("Kết quả thi đua.xlsx", TH_FEB), ("..\\..\\NC.xlsx", NC)]),
    )
    names = [i.file.display_name for i in collect.collect(tmp_path / "in", config).incoming]
    assert names == ["Báo cáo tháng 02.xlsx", "thu.eml › Kết quả thi đua.xlsx", "thu.eml › NC.xlsx"]
    assert all(n == unicodedata.normalize("NFC", n) for n in names)


def test_file_names_encoded_as_outlook_and_webmail_do(tmp_path, config):
    """RFC 2047 words inside a file name (not standard, but what many mail programs send)."""
    import base64

    encoded = "=?utf-8?B?" + base64.b64encode("Báo cáo tháng 02.xlsx".encode()).decode() + "?="
    raw = (
        "From: =?utf-8?Q?Ph=C3=B2ng_N=E1=BB=99i_ch=C3=ADnh?= <NC@laocai.gov.vn>\r\n"
        "Date: Tue, 05 Mar 2024 23:30:00 -0200\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBáo cáo.\r\n"
        f'--b1\r\nContent-Type: application/octet-stream; name="{encoded}"\r\n'
        f'Content-Disposition: attachment; filename="{encoded}"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(NC).decode().replace("\n", "\r\n")
        + "--b1--\r\n"
    ).encode("utf-8")
    put(tmp_path / "in" / "thu.eml", raw)
    [item] = collect.collect(tmp_path / "in", config).incoming
    assert item.file.display_name == "thu.eml › Báo cáo tháng 02.xlsx"
    assert item.file.attachment_name == "Báo cáo tháng 02.xlsx"
    assert item.file.sender == "nc@laocai.gov.vn"
    assert item.file.received_at == dt.datetime(
        2024, 3, 6, 8, 30
    )  # 23:30 at UTC-2 is 08:30 next day in Vietnam
    assert item.data == NC


def test_two_attachments_with_one_name_stay_apart(tmp_path, config):
    put(tmp_path / "in" / "thu.eml", eml("a@b.vn", None, [("bao-cao.xlsx", TCHC), ("bao-cao.xlsx", TH_FEB)]))
    collected = collect.collect(tmp_path / "in", config)
    assert [i.file.display_name for i in collected.incoming] == [
        "thu.eml › bao-cao.xlsx",
        "thu.eml › bao-cao.xlsx (2)",
    ]
    assert [collect.read_source(i.file) for i in collected.incoming] == [TCHC, TH_FEB]


def test_collect_reads_the_newest_files_first_and_lists_them_in_folder_order(tmp_path, config):
    """This month's reports are usually the newest files: read first, the validation can start on them
    while last months' files are hashed. What collect returns keeps the sorted order."""
    folder = tmp_path / "in"
    put(folder / "a.xlsx", TCHC, dt.datetime(2024, 2, 1, tzinfo=VN))
    put(folder / "b.xlsx", TH_FEB, dt.datetime(2024, 4, 1, tzinfo=VN))
    put(folder / "sub" / "c.xlsx", NC, dt.datetime(2024, 3, 1, tzinfo=VN))
    put(folder / "d.txt", b"ghi chu", dt.datetime(2024, 5, 1, tzinfo=VN))
    offered = []
    collected = collect.collect(folder, config, on_new=lambda item: offered.append(item.file.display_name))
    assert offered == ["b.xlsx", "sub/c.xlsx", "a.xlsx"]
    assert [i.file.display_name for i in collected.incoming] == ["a.xlsx", "b.xlsx", "sub/c.xlsx"]
    assert [s.file.display_name for s in collected.not_taken] == ["d.txt"]


def test_an_emailed_copy_is_kept_over_a_loose_one(tmp_path, config):
    put(tmp_path / "in" / "a-luu-tu-thu.xlsx", NC, dt.datetime(2024, 3, 1, 8, 0, tzinfo=VN))
    put(
        tmp_path / "in" / "thu.eml",
        eml("noichinh.vpubnd@laocai.gov.vn", "Mon, 04 Mar 2024 09:00:00 +0700", [("NC.xlsx", NC)]),
    )
    collected = collect.collect(tmp_path / "in", config)
    [kept] = collected.incoming
    assert kept.file.display_name == "thu.eml › NC.xlsx"
    assert [(c.display_name, k.display_name) for c, k in collected.duplicates] == [
        ("a-luu-tu-thu.xlsx", "thu.eml › NC.xlsx")
    ]


def test_named_paths_for_check(tmp_path, config):
    book = put(tmp_path / "bao-cao.xlsx", TCHC)
    lock = put(tmp_path / "~$bao-cao.xlsx", b"lock")
    collected = collect.collect_paths([book, lock], config)
    assert [i.file.display_name for i in collected.incoming] == [str(book)]
    [finding] = collected.findings
    assert (finding.file, finding.code, finding.severity) == (str(lock), "not_a_report", Severity.WARNING)


# -- read_source -----------------------------------------------------------------------------------


def test_read_source_gives_the_same_bytes_again(inbox, config):
    for item in collect.collect(inbox, config).incoming:
        assert collect.read_source(item.file) == item.data


def test_read_source_refuses_a_file_changed_since(inbox, config):
    items = {i.file.display_name: i for i in collect.collect(inbox, config).incoming}
    plain = items["2024-02_TCHC_bao-cao.xlsx"].file
    mailed = items["thu-tong-hop.eml › 2024-02_TH_bao-cao.xlsx"].file
    put(inbox / "2024-02_TCHC_bao-cao.xlsx", TH_FEB)
    put(inbox / "thu-tong-hop.eml", eml("a@b.vn", None, [("2024-02_TH_bao-cao.xlsx", NC)]))
    for file in (plain, mailed):
        with pytest.raises(UserError, match="đã thay đổi hoặc không còn trong thư mục nhận"):
            collect.read_source(file)


# -- the whole stage -------------------------------------------------------------------------------


def test_ingest_gives_every_file_a_status(inbox, config, fake_validate):
    progress = []
    result = pipeline.ingest(config, inbox, progress=lambda done, total: progress.append((done, total)))
    subs = by_name(result.submissions)
    names = [s.file.display_name for s in result.submissions]
    assert names == sorted(names)
    assert progress == [(n, 7) for n in range(1, 8)]
    status = {name: s.status for name, s in subs.items()}
    assert status == {
        "2024-02_TCHC_bao-cao.xlsx": FileStatus.ACCEPTED,
        "nop-lai/2024-02_TCHC_bao-cao (1).xlsx": FileStatus.DUPLICATE,
        "cong-van-phat-dong.pdf": FileStatus.UNREADABLE,
        "hong.eml": FileStatus.UNREADABLE,
        "khong-dinh-kem.eml": FileStatus.UNREADABLE,
        "thang-02/KT/bao-cao-KT-sua.xlsx": FileStatus.ACCEPTED,
        "thang-02/KT/thu-kinh-te.eml › bao-cao-KT.xlsx": FileStatus.SUPERSEDED,
        "thang-02/kstt.msg › 2024-02_KSTT_bao-cao-thi-dua.xlsx": FileStatus.ACCEPTED,
        "thang-02/nc.eml › NC.xlsx": FileStatus.ACCEPTED,
        "thu-tong-hop.eml › 2024-01_TH_bao-cao.xlsx": FileStatus.OTHER_PERIOD,
        "thu-tong-hop.eml › 2024-02_TH_bao-cao.xlsx": FileStatus.ACCEPTED,
    }
    assert (
        subs["thang-02/KT/thu-kinh-te.eml › bao-cao-KT.xlsx"].superseded_by
        == "thang-02/KT/bao-cao-KT-sua.xlsx"
    )
    copy = subs["nop-lai/2024-02_TCHC_bao-cao (1).xlsx"]
    assert (copy.unit_code, copy.period, copy.superseded_by) == (
        "TCHC",
        Period(2024, 2),
        "2024-02_TCHC_bao-cao.xlsx",
    )
    assert copy.file.sha256 == subs["2024-02_TCHC_bao-cao.xlsx"].file.sha256
    warned = {name: [f.code for f in s.findings] for name, s in subs.items() if s.findings}
    assert warned == {
        "cong-van-phat-dong.pdf": ["not_a_report"],
        "hong.eml": ["email_unreadable"],
        "khong-dinh-kem.eml": ["no_workbook_attachment"],
        "thang-02/nc.eml › NC.xlsx": ["sender_not_registered"],  # the .msg sender matches, any case
    }
    [checked] = fake_validate["cross_check"]
    assert {s.file.display_name for s in checked} == set(subs)
    assert [p.name for p in result.skipped] == [".an.xlsx", "~$2024-02_TCHC_bao-cao.xlsx"]


def test_ingest_is_deterministic(inbox, config, fake_validate, tmp_path):
    first = pipeline.ingest(config, inbox).submissions
    moved = tmp_path / "ban-sao"
    shutil.copytree(inbox, moved, copy_function=shutil.copy2)
    second = pipeline.ingest(config, moved).submissions
    strip = [(s.file.display_name, s.file.sha256, s.file.received_at, s.status, s.findings) for s in first]
    again = [(s.file.display_name, s.file.sha256, s.file.received_at, s.status, s.findings) for s in second]
    assert strip == again


# -- with the real validator -----------------------------------------------------------------------


def _real_validate():
    try:
        from processor import validate
    except ImportError:
        pytest.skip("processor.validate is not written yet")
    return validate


def test_real_validator_every_file_ends_with_a_status(inbox, config):
    _real_validate()
    result = pipeline.ingest(config, inbox)
    assert len(result.submissions) == 11
    for s in result.submissions:
        assert s.status in FileStatus
        assert (
            s.status is FileStatus.ACCEPTED
            or s.findings
            or s.status in (FileStatus.DUPLICATE, FileStatus.SUPERSEDED)
        )


def forward(inner: bytes, sender: str, date: str | None = None) -> bytes:
    outer = EmailMessage()
    outer["From"] = sender
    outer["Subject"] = "Fwd: báo cáo"
    if date:
        outer["Date"] = date
    outer.set_content("Chuyển Phòng TCHC.")
    outer.add_attachment(email.message_from_bytes(inner, policy=email.policy.default))
    return outer.as_bytes()


def test_an_email_forwarded_as_attachment_is_opened(tmp_path, config):
    original = eml(
        "Phòng Nội chính <NoiChinh.VPUBND@laocai.gov.vn>",
        "Mon, 04 Mar 2024 08:00:00 +0700",
        [("NC.xlsx", NC)],
        subject="Báo cáo thi đua tháng 02/2024",
    )
    put(
        tmp_path / "in" / "chuyen-tiep.eml",
        forward(original, "lanh.dao@laocai.gov.vn", "Thu, 07 Mar 2024 10:00:00 +0700"),
    )
    [item] = collect.collect(tmp_path / "in", config).incoming
    assert item.file.display_name == "chuyen-tiep.eml › Báo cáo thi đua tháng 02-2024.eml › NC.xlsx"
    # The unit wrote the inner e-mail: its address and date are the submission's.
    assert (item.file.sender, item.file.received_at) == (
        "noichinh.vpubnd@laocai.gov.vn",
        dt.datetime(2024, 3, 4, 8, 0),
    )
    assert item.data == NC
    assert collect.read_source(item.file) == NC


def test_an_outlook_email_forwarded_as_attachment_is_opened(tmp_path, config):
    unit_mail = {
        "subject": "Báo cáo tháng 02/2024",
        "sender_name": "Phòng Nội chính",
        "sender_email": "NoiChinh.VPUBND@laocai.gov.vn",
        "sent_at": dt.datetime(2024, 3, 4, 8, 0, tzinfo=VN),
        "attachments": [("NC.xlsx", NC)],
    }
    data = make_msg.build_msg(
        subject="FW: Báo cáo tháng 02/2024",
        sender_name="Lãnh đạo Văn phòng",
        sender_email="lanhdao@laocai.gov.vn",
        sent_at=dt.datetime(2024, 3, 7, 10, 0, tzinfo=VN),
        attachments=[unit_mail, ("ghi-chu.txt", b"xem")],
    )
    put(tmp_path / "in" / "fw.msg", data)
    [item] = collect.collect(tmp_path / "in", config).incoming
    assert item.file.display_name == "fw.msg › Báo cáo tháng 02-2024.msg › NC.xlsx"
    assert (item.file.sender, item.file.received_at) == (
        "noichinh.vpubnd@laocai.gov.vn",
        dt.datetime(2024, 3, 4, 8, 0),
    )
    assert collect.read_source(item.file) == NC


def test_emails_whose_workbook_is_wrapped_too_deep_get_advice(tmp_path, config):
    nested = eml("nc@x.vn", None, [("NC.xlsx", NC)])
    for _ in range(collect._MAX_NESTING + 1):
        nested = forward(nested, "a@b.vn")
    put(tmp_path / "in" / "chuyen-tiep.eml", nested)
    rich = EmailMessage()
    rich["From"] = "kt@x.vn"
    rich.set_content("Báo cáo.")
    rich.add_attachment(
        b"\x78\x9f\x3e\x22", maintype="application", subtype="ms-tnef", filename="winmail.dat"
    )
    put(tmp_path / "in" / "outlook-rtf.eml", rich.as_bytes())
    findings = {f.file: f for f in collect.collect(tmp_path / "in", config).findings}
    assert [f.code for f in findings.values()] == ["no_workbook_attachment"] * 2
    assert "chuyển tiếp dạng tệp đính kèm" in findings["chuyen-tiep.eml"].message
    assert (
        "Tệp đính kèm trong thư: winmail.dat. Tệp winmail.dat do Outlook tạo"
        in findings["outlook-rtf.eml"].message
    )


# -- hostile bytes ---------------------------------------------------------------------------------

MSG_BYTES = (FIXTURES / "msg" / "kstt-bao-cao-thang-02.msg").read_bytes()
EML_BYTES = eml("a@b.vn", "Mon, 04 Mar 2024 08:30:00 +0700", [("x.xlsx", TCHC)])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from([".msg", ".eml"]),
    edits=st.lists(st.tuples(st.integers(0, 20_000), st.integers(0, 255)), max_size=30),
    cut=st.one_of(st.none(), st.integers(0, 20_000)),
)
def test_damaged_emails_never_stop_the_batch(tmp_path_factory, config, kind, edits, cut):
    data = bytearray(MSG_BYTES if kind == ".msg" else EML_BYTES)
    for position, value in edits:
        data[position % len(data)] = value
    if cut is not None:
        data = data[:cut]
    folder = tmp_path_factory.mktemp("in")
    put(folder / f"thu{kind}", bytes(data))
    collected = collect.collect(folder, config)
    # Each e-mail ends either as workbooks to validate or as a finding, never as an exception.
    assert collected.incoming or collected.findings
    for item in collected.incoming:
        assert item.file.display_name.startswith(f"thu{kind} › ")
