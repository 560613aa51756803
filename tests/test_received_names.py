"""Issue #12: one received file never stops the batch, and nothing outside the inbox is read.

Names, senders and dates that once made `thidua run` end with a traceback and publish nothing, links that
made it read files elsewhere, a FIFO that made `thidua check` wait for ever, an e-mail that became 40,000
files: each is put in one inbox and run through `thidua run` once; each test below then checks what became
of its own case. Property tests push arbitrary names, addresses and dates through the feedback writer and
through `thidua run`.
"""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import email.utils
import functools
import json
import os
import shutil
import socket
import stat
import sys
import tempfile
import time
import unicodedata
import urllib.parse
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from processor import collect
from processor.config import is_email_address
from processor.records import FileStatus, Finding, Period, ReceivedFile, Severity, Submission
from processor.render import feedback
from processor.run_report import has_recipient
from processor.vntext import MAX_FILE_NAME_BYTES
from tests import workbooks
from tests.conftest import REPO
from tests.test_faults import thidua

PERIOD = "2024-02"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
POSIX = os.name == "posix"
# The longest staging path of a feedback file besides the output folder and the name (pipeline's
# `.staging-<period>-<pid>-<ns>`, `phan-hoi`, the atomic writer's `.<name>.<8 chars>.tmp-thidua`).
STAGING_OVERHEAD = len(r"\.staging-2024-02-9999999-9999999999999999\phan-hoi\..12345678.tmp-thidua")
OUT_ROOT_CHARACTERS = 80  # `C:\Users\<name>\Documents\ThiDua\output\` with room to spare
DEEP = 1100


def raw_email(sender: str, attachments: list[tuple[str, bytes]], date: str | None = None) -> bytes:
    """An e-mail as a mail program saves it, each attachment named by an RFC 2231 parameter (which can
    carry any byte, CR and LF included) unless the name is given as a whole header parameter."""
    parts = []
    for name, data in attachments:
        if name.startswith(("filename=", "filename*=")):
            disposition = name
        else:
            quoted = urllib.parse.quote(name.encode("utf-8", "surrogatepass"), safe="")
            disposition = f"filename*=utf-8''{quoted}"
        parts.append(
            f"--BB\r\nContent-Type: {XLSX_TYPE}\r\nContent-Disposition: attachment; {disposition}\r\n"
            f"Content-Transfer-Encoding: base64\r\n\r\n{base64.b64encode(data).decode()}\r\n"
        )
    head = f"From: {sender}\r\nTo: tchc.vpubnd@laocai.gov.vn\r\nSubject: Bao cao thi dua\r\n"
    head += f"Date: {date or 'Mon, 04 Mar 2024 08:30:00 +0700'}\r\nMIME-Version: 1.0\r\n"
    head += "Content-Type: multipart/mixed; boundary=BB\r\n\r\n"
    head += "--BB\r\nContent-Type: text/plain\r\n\r\nKinh gui\r\n"
    text = head + "".join(parts) + "--BB--\r\n"
    try:
        return text.encode("utf-8", "surrogateescape")  # "\udc80": the raw byte 0x80, as a file name holds it
    except UnicodeEncodeError:  # a lone "\ud800" (found by CI): its three bytes, not UTF-8 either
        return text.encode("utf-8", "surrogatepass")


def workbook_with_an_error(unit: str) -> bytes:
    """A real unit report with one error (more tasks done than assigned): it gets an annotated copy."""
    spec = workbooks.Spec()
    spec.unit.update(unit_code=unit, tasks_assigned=3, tasks_completed=10)
    spec.meta["unit_code"] = unit
    return workbooks.xlsx(spec)


def junk(label: str) -> bytes:
    """Bytes that are no workbook, different for each case (the same bytes twice are one file)."""
    return f"not a workbook: {label}".encode("utf-8", "surrogatepass")


SENDERS = ("a@.", "@c.vn", "a@b@c.vn", "a@[bad")
LONG_NAME = "ễ" * 70 + ".xlsx"  # 70 characters under the old cap, 215 bytes
EMOJI_NAME = "😀" * 60 + ".xlsx"
CP1258_NAME = "Báo cáo tháng 2".encode("cp1258") + b".xlsx"  # unzipped on Linux: not UTF-8


def build_inbox(root: Path, outside: Path) -> dict[str, bool]:
    """Every case of the issue in one inbox; returns which of the platform-bound ones could be made."""
    inbox = root / "inbox"
    (inbox / "thu-crlf.eml").write_bytes(
        raw_email(
            "kinhte.vpubnd@laocai.gov.vn", [("KT\r\nBcc: x@evil.vn.xlsx", workbook_with_an_error("KT"))]
        )
    )
    for label, char in (("u2028", "\u2028"), ("u2029", "\u2029"), ("u0085", "\u0085")):
        (inbox / f"ten{char}{label}.xlsx").write_bytes(junk(label))
    for number, sender in enumerate(SENDERS, 1):
        (inbox / f"nguoi-gui-{number}.eml").write_bytes(
            raw_email(sender, [(f"gui-{number}.xlsx", junk(sender))])
        )
    (inbox / "nguoi-gui-th.eml").write_bytes(raw_email("a@.", [("TH.xlsx", workbook_with_an_error("TH"))]))
    (inbox / LONG_NAME).write_bytes(junk("long"))
    (inbox / "bieu-tuong.eml").write_bytes(raw_email("vui@laocai.gov.vn", [(EMOJI_NAME, junk("emoji"))]))
    many = [(f"tep-{n:05}.xlsx", f"{n}".encode()) for n in range(60)]
    (inbox / "nhieu-tep.eml").write_bytes(raw_email("nhieu@laocai.gov.vn", many))

    (inbox / "loi-tat.lnk").write_bytes(b"L\0\0\0\x01\x14\x02\0" + junk("shortcut"))  # a Windows shortcut
    made = {"deep": sys.platform != "win32", "cp1258": sys.platform.startswith("linux")}
    if made["deep"]:
        folder = inbox / "sau"
        folder.mkdir()
        os.chdir(folder)  # relative steps: the whole path would pass the OS's limit on the way down
        try:
            for _ in range(DEEP):
                os.mkdir("d")
                os.chdir("d")
            Path("bao-cao.xlsx").write_bytes(workbook_with_an_error("KGVX"))
        finally:
            os.chdir(REPO)
    if made["cp1258"]:
        with open(os.fsencode(inbox) + b"/" + CP1258_NAME, "wb") as stream:
            stream.write(junk("cp1258"))
    made["links"] = _try(lambda: os.symlink(outside / "TCHC.xlsx", inbox / "lien-ket-TCHC.xlsx"))
    made["links"] &= _try(lambda: os.symlink(outside / "mat-khau.txt", inbox / "lien-ket.eml"))
    made["links"] &= _try(lambda: os.symlink(outside, inbox / "thu-muc-lien-ket", target_is_directory=True))
    made["fifo"] = POSIX and _try(lambda: os.mkfifo(inbox / "ong-dan.xlsx"))
    made["socket"] = POSIX and _try(lambda: _unix_socket(inbox / "s.eml"))
    return made


def _try(make) -> bool:
    try:
        make()
    except (OSError, NotImplementedError, AttributeError):
        return False
    return True


def _unix_socket(path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))


def remove_deep(folder: Path) -> None:
    """shutil.rmtree recurses once per level: a chain of 1,100 folders is removed bottom up instead."""
    if not folder.exists():
        return
    os.chdir(folder)
    try:
        depth = 0
        while os.path.isdir("d"):
            os.chdir("d")
            depth += 1
        for entry in os.listdir("."):
            os.unlink(entry)
        for _ in range(depth):
            os.chdir("..")
            os.rmdir("d")
    finally:
        os.chdir(REPO)


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    # Not below pytest's base folder: a run killed before the teardown would leave the 1,100 folders to
    # its clean-up of old folders, which goes down them recursively.
    root = Path(tempfile.mkdtemp(prefix="thidua-hostile-"))
    assert thidua(root, "init", str(root)).returncode == 0
    outside = tmp_path_factory.mktemp("outside")
    (outside / "TCHC.xlsx").write_bytes(workbooks.xlsx())  # a genuine TCHC report, outside the inbox
    (outside / "mat-khau.txt").write_text("From: root@may-chu\n\nmat khau: 123456\n", encoding="utf-8")
    made = build_inbox(root, outside)
    proc = thidua(root, "run", "--period", PERIOD)
    out = root / "output" / PERIOD
    rows = []
    if (out / f"kiem-tra-{PERIOD}.xlsx").exists():
        book = openpyxl.load_workbook(out / f"kiem-tra-{PERIOD}.xlsx", read_only=True)
        rows = [r for r in book.worksheets[0].iter_rows(min_row=5, values_only=True) if r[2]]
        book.close()
    yield SimpleNamespace(root=root, proc=proc, out=out, rows=rows, made=made, outside=outside)
    remove_deep(root / "inbox" / "sau")
    shutil.rmtree(root, ignore_errors=True)


def findings_of(office, name_part: str) -> list[tuple]:
    return [r for r in office.rows if name_part in r[2]]


def drafts(office) -> dict[str, email.message.EmailMessage]:
    return {
        path.name: email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in (office.out / "phan-hoi").glob("*.eml")
    }


def test_the_run_completes_and_publishes_the_period(office):
    assert office.proc.returncode == 0, office.proc.stderr[-3000:]
    assert "Traceback" not in office.proc.stderr
    manifest = json.loads((office.out / "manifest.json").read_text(encoding="utf-8"))
    listed = {Path(o["path"]).name for o in manifest["outputs"]}
    assert {f"bao-cao-{PERIOD}.docx", "tong-hop.xlsx", f"kiem-tra-{PERIOD}.xlsx"} <= listed
    for path in (office.out / "phan-hoi").iterdir():
        assert path.name in listed, path.name  # every feedback file written is a listed output
    assert not list(office.out.rglob("*.tmp-thidua"))


def test_crlf_in_an_attachment_name_adds_no_header(office):
    messages = [m for name, m in drafts(office).items() if name.startswith("KT_")]
    assert len(messages) == 1
    [message] = messages
    assert message["Bcc"] is None
    assert [a.addr_spec for a in message["To"].addresses] == ["kinhte.vpubnd@laocai.gov.vn"]
    assert "\n" not in message["Subject"] and "\r" not in message["Subject"]
    [attachment] = message.iter_attachments()
    assert attachment.get_filename() == "KT_KT Bcc- x@evil.vn_kiem-tra.xlsx"
    copy = openpyxl.load_workbook(office.out / "phan-hoi" / attachment.get_filename(), read_only=True)
    assert copy.sheetnames[0] == feedback.FINDINGS_SHEET
    copy.close()


@pytest.mark.parametrize("label", ["u2028", "u2029", "u0085"])
def test_line_separators_in_a_file_name(office, label):
    [row] = findings_of(office, label)
    assert row[3] == "Không đọc được"  # the file's own finding, like any file that is no workbook
    # No sender, no unit: no draft to nobody (issue #13); the marked copy's name is one safe line.
    assert not [n for n in drafts(office) if label in n]
    [name] = [p.name for p in (office.out / "phan-hoi").glob("*.xlsx") if label in p.name]
    assert name == f"CHUA-RO-DON-VI_ten {label}_kiem-tra.xlsx"


@pytest.mark.parametrize("number", range(1, len(SENDERS) + 1))
def test_a_sender_the_draft_cannot_carry_is_left_out(office, number):
    # No unit known, no usable address: no draft (issue #13), the marked copy and a task for the clerk.
    assert f"CHUA-RO-DON-VI_gui-{number}_kiem-tra.eml" not in drafts(office)
    assert (office.out / "phan-hoi" / f"CHUA-RO-DON-VI_gui-{number}_kiem-tra.xlsx").is_file()
    assert "không rõ đơn vị nào gửi tệp này" in office.proc.stdout


def test_a_broken_sender_leaves_the_draft_to_the_units_registered_address(office):
    message = drafts(office)["TH_TH_kiem-tra.eml"]
    assert [a.addr_spec for a in message["To"].addresses] == ["tonghop.vpubnd@laocai.gov.vn"]
    assert message["Cc"] is None


@pytest.mark.parametrize("name", [LONG_NAME, EMOJI_NAME])
def test_names_too_long_in_bytes_are_cut_to_fit(office, name):
    stem = name[:5]
    written = [p.name for p in (office.out / "phan-hoi").iterdir() if stem in p.name]
    assert any(n.endswith("_kiem-tra.xlsx") for n in written)  # and its draft when it came by e-mail
    for written_name in written:
        assert len(written_name.encode("utf-8")) <= MAX_FILE_NAME_BYTES
        assert OUT_ROOT_CHARACTERS + STAGING_OVERHEAD + len(written_name) < 260
        assert written_name.endswith(("_kiem-tra.xlsx", "_kiem-tra.eml"))
    assert findings_of(office, name)  # the report names the file in full


def test_a_name_that_is_not_utf8(office):
    if not office.made["cp1258"]:
        pytest.skip("only Linux keeps a file name that is not UTF-8")
    [row] = findings_of(office, "B\ufffdo c\ufffdo")
    assert row[3] == "Không đọc được"
    [name] = [p.name for p in (office.out / "phan-hoi").iterdir() if "\ufffd" in p.name]
    assert name.endswith("_kiem-tra.xlsx")


def test_a_folder_chain_past_the_depth_cap_is_one_finding(office):
    if not office.made["deep"]:
        pytest.skip("Windows paths cannot hold the chain")
    deep = findings_of(office, "sau/")
    assert len(deep) == 1
    assert deep[0][2] == "sau/" + "/".join(["d"] * collect.MAX_FOLDER_DEPTH)
    assert "sâu hơn 20 cấp" in deep[0][9] and deep[0][4] == "Lỗi"


def test_links_are_not_followed(office):
    if not office.made["links"]:
        pytest.skip("no symbolic links here")
    for name in ("lien-ket-TCHC.xlsx", "lien-ket.eml", "thu-muc-lien-ket"):
        [row] = findings_of(office, name)
        assert "lối tắt" in row[9] and row[4] == "Cảnh báo", row
    summary = json.loads((office.out / "summary.json").read_text(encoding="utf-8"))
    tchc = next(u for u in summary["units"] if u["code"] == "TCHC")
    assert tchc["status"] == "missing"  # the linked report elsewhere was not taken as TCHC's
    assert not any("mat-khau" in r[2] or r[2] == "TCHC.xlsx" for r in office.rows)


def test_a_windows_shortcut_is_a_file_that_is_no_report(office):
    [row] = findings_of(office, "loi-tat.lnk")
    assert "Tệp .lnk không phải biểu mẫu báo cáo" in row[9]


@pytest.mark.parametrize(
    ("attributes", "tag", "kind"),
    [
        (0x10 | 0x400, 0xA0000003, "link"),  # a directory junction
        (0x20 | 0x400, 0xA000000C, "link"),  # a symbolic link to a file
        (0x20 | 0x400, 0x9000701A, "file"),  # a OneDrive file kept online: the file itself
        (0x20, 0, "file"),
    ],
)
def test_windows_junctions_and_links_are_links(attributes, tag, kind):
    """What Windows reports for an inbox entry, as os.stat(follow_symlinks=False) gives it there."""
    mode = stat.S_IFDIR if attributes & 0x10 else stat.S_IFREG
    info = SimpleNamespace(st_mode=mode, st_file_attributes=attributes, st_reparse_tag=tag)
    assert collect._kind("x", info) == kind


def test_fifos_and_sockets_are_findings(office):
    if not office.made["fifo"]:
        pytest.skip("no FIFOs here")
    names = ["ong-dan.xlsx"] + (["s.eml"] if office.made["socket"] else [])
    for name in names:
        [row] = findings_of(office, name)
        assert "không phải tệp thông thường" in row[9], row


def test_attachments_past_the_cap_are_one_finding(office):
    rows = findings_of(office, "nhieu-tep.eml")
    taken = {r[2] for r in rows if "›" in r[2]}
    assert len(taken) == 50  # validation.max_attachments in config.toml
    [about] = [r for r in rows if r[2] == "nhieu-tep.eml"]
    assert "hơn 50 tệp đính kèm" in about[9] and "10 tệp còn lại đã bỏ qua" in about[9]
    assert "validation.max_attachments" in about[9]


def test_check_on_a_fifo_does_not_wait(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    shutil.copy(REPO / "config.toml", tmp_path / "config.toml")
    os.mkfifo(tmp_path / "ong-dan.xlsx")
    proc = thidua(tmp_path, "check", "ong-dan.xlsx", timeout=60)
    assert proc.returncode == 1, proc.stderr  # not a file that can be accepted (issue #13)
    assert "không phải tệp thông thường" in proc.stdout


def test_a_device_file_in_the_inbox_is_a_finding(tmp_path, config):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    if not _try(lambda: os.mknod(inbox / "thiet-bi.xlsx", stat.S_IFCHR | 0o600, os.makedev(1, 5))):
        pytest.skip("creating a device file needs privileges")
    [finding] = collect.collect(inbox, config).findings
    assert finding.code == "special_file"
    [finding] = collect.collect_paths([inbox / "thiet-bi.xlsx"], config).findings
    assert finding.code == "special_file"


def test_attachments_of_attached_emails_count_toward_the_cap(tmp_path, config):
    inner = raw_email("don-vi@laocai.gov.vn", [(f"trong-{n}.xlsx", f"{n}".encode()) for n in range(4)])
    forward = (
        b"From: chuyen-tiep@laocai.gov.vn\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=OO\r\n\r\n"
        + b"".join(b"--OO\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"\r\n" for _ in range(3))
        + b"--OO--\r\n"
    )
    (tmp_path / "chuyen-tiep.eml").write_bytes(forward)
    small = _with_max_attachments(config, 6)
    collected = collect.collect(tmp_path, small)
    # Three attached e-mails of four attachments each: the first takes 1 + 4 of the six, the second
    # the last one; its four attachments and the third e-mail are counted, not opened.
    assert [i.file.attachment_name for i in collected.incoming] == [f"trong-{n}.xlsx" for n in range(4)]
    [finding] = collected.findings
    assert finding.code == "too_many_attachments" and "5 tệp còn lại" in finding.message


def _with_max_attachments(config, limit: int):
    import dataclasses

    return dataclasses.replace(
        config, validation=dataclasses.replace(config.validation, max_attachments=limit)
    )


@pytest.mark.slow
def test_twenty_thousand_tiny_attachments(tmp_path):
    """The e-mail that took 280 s and wrote 40,000 files."""
    assert thidua(tmp_path, "init", str(tmp_path)).returncode == 0
    tiny = [(f"a{n:05}.xlsx", f"{n}".encode()) for n in range(20_000)]
    (tmp_path / "inbox" / "bom.eml").write_bytes(raw_email("bom@laocai.gov.vn", tiny))
    started = time.monotonic()
    proc = thidua(tmp_path, "run", "--period", PERIOD)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert time.monotonic() - started < 60
    written = list((tmp_path / "output" / PERIOD / "phan-hoi").iterdir())
    # The 50 attachments taken get a copy and a draft each; the e-mail's own finding (too many
    # attachments) is the clerk's, listed at the end of the run, never a reply to the unit.
    assert len(written) == 2 * 50
    assert "Thư có hơn 50 tệp đính kèm" in proc.stdout  # ...told to the clerk instead


# -- the writer on its own ----------------------------------------------------------------------------


def _submission(name: str, *, sender: str | None = None, when: dt.datetime | None = None, unit=None):
    received = ReceivedFile(
        f"thu.eml › {name}",
        Path("inbox") / "thu.eml",
        "0" * 64,
        when or dt.datetime(2024, 3, 4),
        sender,
        name,
    )
    finding = Finding(
        Severity.ERROR, "not_workbook", "Tệp không phải bảng tính Excel.", received.display_name
    )
    return Submission(received, FileStatus.UNREADABLE, [finding], unit_code=unit)


def test_a_units_feedback_that_cannot_be_written_is_a_finding_and_the_others_are(tmp_path, config):
    """Here the draft's name is taken by a folder: whatever stops one unit's feedback, the period's
    report says so on that file, and the other units get theirs."""
    blocked = _submission("bi-chan.xlsx", sender="a@b.vn")
    fine = _submission("binh-thuong.xlsx", sender="c@d.vn")
    (tmp_path / "phan-hoi" / feedback.feedback_file_name(blocked).replace(".xlsx", ".eml")).mkdir(
        parents=True
    )
    written = feedback.write_feedback([blocked, fine], config, Period(2024, 2), tmp_path, lambda f: b"")
    names = sorted(p.name for p in written)
    assert names == [
        "CHUA-RO-DON-VI_binh-thuong_kiem-tra.eml",
        "CHUA-RO-DON-VI_binh-thuong_kiem-tra.xlsx",
        "kiem-tra-2024-02.xlsx",
    ]
    assert not (tmp_path / "phan-hoi" / feedback.feedback_file_name(blocked)).exists()
    book = openpyxl.load_workbook(tmp_path / "kiem-tra-2024-02.xlsx", read_only=True)
    rows = [r for r in book.worksheets[0].iter_rows(min_row=5, values_only=True) if r[2]]
    book.close()
    [row] = [r for r in rows if "bi-chan" in r[2] and r[4] == "Cảnh báo"]
    assert row[9].startswith("Không tạo được bản đánh dấu lỗi và thư trả lời cho tệp này")
    assert len([r for r in rows if "binh-thuong" in r[2]]) == 1
    assert len(blocked.findings) == 1  # the run's own submissions are left as they were


@pytest.mark.parametrize("sender", SENDERS)
def test_a_sender_the_draft_cannot_carry_leaves_it_to_the_unit(tmp_path, config, sender):
    """Whatever parseaddr let through on this Python: the draft goes to KT's registered address."""
    submission = _submission("bao-cao.xlsx", sender=sender, unit="KT")
    feedback.write_feedback([submission], config, Period(2024, 2), tmp_path, lambda f: b"")
    raw = (tmp_path / "phan-hoi" / "KT_bao-cao_kiem-tra.eml").read_bytes()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert [a.addr_spec for a in message["To"].addresses] == ["kinhte.vpubnd@laocai.gov.vn"]
    assert message["Cc"] is None


def test_two_long_names_that_cut_to_the_same_name_stay_apart(tmp_path, config):
    first, second = _submission("ễ" * 70 + "1.xlsx"), _submission("ễ" * 70 + "2.xlsx")
    written = feedback.write_feedback([first, second], config, Period(2024, 2), tmp_path, lambda f: b"")
    names = sorted(p.name for p in written if p.suffix == ".xlsx" and p.parent.name == "phan-hoi")
    assert len(names) == 2 and any(n.endswith("_kiem-tra-2.xlsx") for n in names)
    assert all(len(n.encode("utf-8")) <= MAX_FILE_NAME_BYTES for n in names)


def test_office_addresses_the_draft_cannot_carry_are_config_errors(config_text):
    from processor.config import parse_config
    from processor.records import UserError

    text = config_text.replace('emails = ["kinhte.vpubnd@laocai.gov.vn"]', 'emails = ["kinhte@."]')
    with pytest.raises(UserError) as caught:
        parse_config(text)
    assert "“kinhte@.” không phải địa chỉ thư điện tử" in str(caught.value)
    text = config_text.replace('clerk_email = "tchc.vpubnd@laocai.gov.vn"', 'clerk_email = "tchc@[bad"')
    with pytest.raises(UserError) as caught:
        parse_config(text)
    assert "office.clerk_email: “tchc@[bad” không phải địa chỉ thư điện tử" in str(caught.value)
    with pytest.raises(UserError) as caught:
        parse_config(config_text.replace("max_attachments = 50", "max_attachments = 0"))
    assert "validation.max_attachments" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("kinhte.vpubnd@laocai.gov.vn", True),
        ("a+b@x.vn", True),
        ("a@.", False),
        ("@c.vn", False),
        ("a@b@c.vn", False),
        ("a@[bad", False),
        ("a@[10.0.0.1]", False),
        ("a.@b.vn", False),
        ("a@b..vn", False),
        ("a@b.vn\r\nBcc: x@y.vn", False),
        ("ai.do@gmail.com ", False),
    ],
)
def test_is_email_address(text, valid):
    assert is_email_address(text) is valid


# -- properties ---------------------------------------------------------------------------------------

any_character = st.characters(blacklist_categories=())  # controls, separators and lone surrogates too
fragments = st.sampled_from(
    ["\r\n", "\r", "\n", "\u2028", "\u2029", "\u0085", "\x00", "\x1b[31m", "\udce1", "\ud800", "\u202e",
     "Bcc: x@evil.vn", "=?utf-8?q?x?=", "ễ" * 70, "😀" * 60, "..\\", "/", ":", "CON", " ", ".", "\"<>|?*",
     "Ủy ban nhân dân xã Bản Qua", ".xlsx", "a" * 300]
)  # fmt: skip
names = st.lists(st.one_of(st.text(any_character, max_size=30), fragments), max_size=6).map("".join)
addresses = st.one_of(
    st.none(),
    st.sampled_from([*SENDERS, "kinhte.vpubnd@laocai.gov.vn", "a@b.vn\r\nBcc: c@d.vn", "", "a@b.vn>", "<>"]),
    st.emails(),
    st.text(any_character, max_size=60),
)
zones = st.one_of(
    st.none(),
    st.builds(
        dt.timezone, st.timedeltas(dt.timedelta(hours=-23, minutes=-59), dt.timedelta(hours=23, minutes=59))
    ),
)
moments = st.datetimes(dt.datetime.min, dt.datetime.max, timezones=zones)
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


@functools.cache
def _readable_report() -> bytes:
    return workbook_with_an_error("KT")


def _arbitrary_submission(name, sender, when, unit, readable, as_attachment) -> Submission:
    source = Path("inbox") / ("thu.eml" if as_attachment else "x.xlsx")
    as_path = name.replace("/", "-").replace("\\", "-")
    if not as_attachment and as_path not in ("", ".", ".."):  # what a path's last part can be
        source = source.with_name(as_path)
    received = ReceivedFile(name, source, "0" * 64, when, sender, name if as_attachment else None)
    finding = Finding(Severity.ERROR, "x", f"Ô B12: {name}", name, "Đơn vị", "B12", name, name)
    status = FileStatus.REJECTED if readable else FileStatus.UNREADABLE
    period = Period(2024, 2) if readable else None
    return Submission(received, status, [finding], unit_code=unit, period=period)


def assert_draft_is_sound(path: Path, attached: Path) -> None:
    raw = path.read_bytes()
    assert all(b"\r" not in line for line in raw.split(b"\r\n"))
    message = email.message_from_bytes(raw, policy=email.policy.default)
    for name, value in message.items():
        assert "\n" not in str(value) and "\r" not in str(value), name
    for header in ("To", "Cc"):
        if message[header] is not None:
            assert all(is_email_address(a.addr_spec) for a in message[header].addresses)
    [attachment] = message.iter_attachments()
    assert attachment.get_content() == attached.read_bytes()
    assert message.get_body(("plain",)).get_content()


@PROPERTY
@given(
    name=names,
    sender=addresses,
    when=moments,
    unit=st.one_of(st.none(), st.just("KT"), st.text(any_character, max_size=12)),
    readable=st.booleans(),
    as_attachment=st.booleans(),
)
def test_the_feedback_writer_takes_any_name_address_and_date(
    tmp_path_factory, config, name, sender, when, unit, readable, as_attachment
):
    submission = _arbitrary_submission(name, sender, when, unit, readable, as_attachment)
    out = tmp_path_factory.mktemp("feedback")
    data = _readable_report() if readable else b""
    written = feedback.write_feedback([submission], config, Period(2024, 2), out, lambda f: data)
    copies = [p for p in written if p.parent.name == "phan-hoi"]
    # Never a finding about the writer: nothing here may make it fail. A draft only with an address.
    assert len(copies) == (2 if has_recipient(submission, config) else 1), written
    for path in written:
        assert path.is_file() and len(path.name.encode("utf-8")) <= MAX_FILE_NAME_BYTES
        assert OUT_ROOT_CHARACTERS + STAGING_OVERHEAD + len(path.name) < 260
        assert not any(unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in path.name)
    xlsx = next(p for p in copies if p.suffix == ".xlsx")
    if len(copies) == 2:
        assert_draft_is_sound(xlsx.with_suffix(".eml"), xlsx)
    book = openpyxl.load_workbook(xlsx, read_only=True)
    assert book.sheetnames[0] == feedback.FINDINGS_SHEET
    book.close()


def _file_name_here(name: str) -> bytes | None:
    """`name` as this system's file name, if it can be one."""
    try:
        raw = os.fsencode(name)
    except UnicodeEncodeError:
        return None
    ok = raw not in (b"", b".", b"..") and b"/" not in raw and b"\0" not in raw and len(raw) <= 255
    return raw if ok and (POSIX or b"\\" not in raw) else None


def _run_on(inbox_files: dict[bytes, bytes]) -> None:
    from click.testing import CliRunner

    from processor.cli import cli
    from processor.workspace import create_workspace

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        create_workspace(root)
        for name, data in inbox_files.items():
            with open(os.fsencode(root / "inbox") + os.sep.encode() + name, "wb") as stream:
                stream.write(data)
        options = ["--config", str(root / "config.toml"), "--inbox", str(root / "inbox")]
        result = CliRunner().invoke(cli, ["run", *options, "--out", str(root / "output"), "--period", PERIOD])
        assert result.exit_code == 0, (result.output, result.exception)
        out = root / "output" / PERIOD
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        # Clutter (".~lock…", "~$…", hidden names) is skipped by the walk's documented rule, unlisted.
        listed = [name for name in inbox_files if not collect.is_clutter_name(os.fsdecode(name))]
        assert len(manifest["inputs"]) >= len(listed)
        for path in (out / "phan-hoi").glob("*.eml"):
            assert_draft_is_sound(path, path.with_suffix(".xlsx"))


def _dated(moment: dt.datetime | str) -> str:
    if isinstance(moment, str):
        return moment.replace("\r", " ").replace("\n", " ")
    try:
        return email.utils.format_datetime(moment)
    except (ValueError, OverflowError):
        return "Mon, 01 Jan 0001 00:00:00 +0000"


run_examples = dict(
    name=names,
    sender=addresses,
    date=st.one_of(moments, st.text(any_character, max_size=40)),
    readable=st.booleans(),
)


def _run_property(name, sender, date, readable) -> None:
    data = _readable_report() if readable else junk(name)
    sender = (sender or "").replace("\r", " ").replace("\n", " ")  # one From line; its text is anything
    files = {b"thu.eml": raw_email(sender, [(name, data)], _dated(date))}
    loose = _file_name_here(name)
    if loose is not None and loose != b"thu.eml":
        files[loose] = junk(f"loose {name}")
    _run_on(files)


@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(**run_examples)
# Found by CI: a loose file whose name is not UTF-8 and whose suffix is a lone byte; the end-of-run
# report printed its finding and the console refused the surrogate.
@example(name="0.\udc80", sender=None, date="", readable=False)
# Found by CI: a sender holding a lone high surrogate (the e-mail's From line is not UTF-8).
@example(name="", sender="\ud800", date="", readable=False)
def test_thidua_run_takes_any_name_sender_and_date(name, sender, date, readable):
    _run_property(name, sender, date, readable)


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(**run_examples)
def test_thidua_run_takes_any_name_sender_and_date_many_times(name, sender, date, readable):
    _run_property(name, sender, date, readable)
