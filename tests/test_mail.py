"""`thidua fetch` and `thidua send` against real servers on 127.0.0.1 (tests/mailservers.py): dovecot
for IMAP, aiosmtpd for SMTP. Messages reach the mailbox by APPEND with the received time (INTERNALDATE)
the office's server would have given them."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner

from processor.cli import cli
from processor.config import load_config
from processor.mail.errors import MailError
from processor.mail.fetch import fetch_mail
from processor.mail.journal import journal_path
from tests import workbooks
from tests.mailservers import PASSWORD, USER, Dovecot, SmtpServer

# aiosmtpd warns, in its own thread, that AUTH without TLS is unsafe: this is a local test server.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

REPO = Path(__file__).resolve().parents[1]
VN = dt.timezone(dt.timedelta(hours=7))
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KT = "kinhte.vpubnd@laocai.gov.vn"
TH = "tonghop.vpubnd@laocai.gov.vn"


@pytest.fixture
def dovecot():
    server = Dovecot()
    yield server
    server.stop()


@pytest.fixture
def smtp():
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def password(monkeypatch):
    monkeypatch.setenv("THIDUA_MAIL_PASSWORD", PASSWORD)


def workspace(root: Path, *, imap_port: int = 0, smtp_port: int = 0, **mail: object) -> Path:
    """A workspace whose config.toml is the shipped one with a [mail] section for the local servers."""
    settings = {
        "imap_host": "127.0.0.1", "imap_port": imap_port, "imap_security": "none", "username": USER,
        "smtp_host": "127.0.0.1", "smtp_port": smtp_port, "smtp_security": "none",
        "from_address": "tchc.vpubnd@laocai.gov.vn", "from_name": "Phòng Tổ chức - Hành chính",
        "timeout_seconds": 5, **mail,
    }  # fmt: skip
    lines = [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in settings.items()]
    root.mkdir(parents=True, exist_ok=True)
    text = (REPO / "config.toml").read_text(encoding="utf-8")
    (root / "config.toml").write_text(text + "\n[mail]\n" + "\n".join(lines) + "\n", encoding="utf-8")
    (root / "inbox").mkdir(exist_ok=True)
    return root


def report(unit: str, name: str, *, faulty: bool = False) -> bytes:
    spec = workbooks.Spec()
    spec.unit.update(unit_code=unit, unit_name=name, prepared_on=dt.date(2024, 3, 1))
    spec.meta["unit_code"] = unit
    if faulty:
        spec.unit["tasks_completed"] = 15  # more than the 12 assigned
    return workbooks.xlsx(spec)


def message(
    sender: str,
    subject: str,
    attachments: dict[str, bytes],
    *,
    date: dt.datetime | None = None,
    message_id: str | None = None,
    padding: int = 0,
) -> bytes:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = "tchc.vpubnd@laocai.gov.vn"
    mail["Subject"] = subject
    if date is not None:
        mail["Date"] = email.utils.format_datetime(date)
    if message_id is not None:
        mail["Message-ID"] = message_id
    mail.set_content("Kính gửi Phòng TCHC, đơn vị gửi báo cáo." + " " * 0)
    for name, data in attachments.items():
        mail.add_attachment(data, maintype="application", subtype=XLSX.split("/")[1], filename=name)
    if padding:
        mail.add_attachment(
            os.urandom(padding), maintype="application", subtype="octet-stream", filename="anh.bin"
        )
    return mail.as_bytes(policy=email.policy.SMTP)


def fetch(ws: Path, *extra: str):
    return CliRunner().invoke(
        cli, ["fetch", "--config", str(ws / "config.toml"), "--inbox", str(ws / "inbox"), *extra]
    )


def saved(ws: Path) -> list[Path]:
    return sorted(p for p in (ws / "inbox").rglob("*.eml"))


def tree(ws: Path) -> list[str]:
    return sorted(str(p.relative_to(ws)) for p in ws.rglob("*") if p.name != "config.toml")


MARCH_2 = dt.datetime(2024, 3, 2, 9, 15, tzinfo=VN)


# -- fetch -----------------------------------------------------------------------------------------


def test_first_fetch_saves_each_message_whole_named_by_received_time_and_sender_read_only(tmp_path, dovecot):
    no_date = message(
        KT,
        "Báo cáo tháng 2",
        {"bao-cao-KT.xlsx": report("KT", "Phòng Kinh tế")},
        message_id="<kt-1@laocai.gov.vn>",
    )
    dated = message(
        TH,
        "Báo cáo",
        {"bao-cao-TH.xlsx": report("TH", "Phòng Tổng hợp")},
        date=dt.datetime(2024, 3, 4, 8, 0, tzinfo=VN),
    )
    dovecot.deliver(no_date, MARCH_2)
    dovecot.deliver(dated, dt.datetime(2024, 3, 4, 8, 1, tzinfo=VN))
    ws = workspace(tmp_path / "ws", imap_port=dovecot.port)

    result = fetch(ws)

    assert result.exit_code == 0, result.output
    names = [p.relative_to(ws / "inbox").as_posix() for p in saved(ws)]
    assert len(names) == 2
    assert names[0].startswith("2024-02/20240302-0915_kinhte-vpubnd-laocai-gov-vn_"), names
    assert names[1].startswith("2024-02/20240304-0801_tonghop-vpubnd-laocai-gov-vn_"), names
    assert saved(ws)[0].read_bytes() == no_date  # whole, as sent: never changed
    assert "KT (Phòng Kinh tế)" in result.output and "bao-cao-KT.xlsx" in result.output
    assert "đã lưu 2 thư mới" in result.output
    # EXAMINE and BODY.PEEK: the server's messages are exactly as they were, none marked read
    flags = [set(m[b"FLAGS"]) - {b"\\Recent"} for m in dovecot.messages().values()]  # \\Recent: per session
    assert flags == [set(), set()]
    # the received time is recorded beside the messages, as a moment (dovecot answers in UTC)
    lines = [json.loads(line) for line in journal_path(ws / "inbox").read_text().splitlines()]
    first = next(e for e in lines if e.get("message_id") == "<kt-1@laocai.gov.vn>")
    assert dt.datetime.fromisoformat(first["internaldate"]) == MARCH_2


def test_a_second_fetch_saves_nothing_and_a_new_message_is_fetched_alone(tmp_path, dovecot):
    dovecot.deliver(message(KT, "Báo cáo", {"a.xlsx": report("KT", "Phòng Kinh tế")}), MARCH_2)
    ws = workspace(tmp_path / "ws", imap_port=dovecot.port)
    assert fetch(ws).exit_code == 0
    before = {p: p.read_bytes() for p in ws.rglob("*") if p.is_file()}

    again = fetch(ws)

    assert again.exit_code == 0, again.output
    assert "đã lưu 0 thư mới" in again.output
    assert {p: p.read_bytes() for p in ws.rglob("*") if p.is_file()} == before  # nothing written at all

    dovecot.deliver(message(TH, "Báo cáo", {"b.xlsx": report("TH", "Phòng Tổng hợp")}),
                    dt.datetime(2024, 3, 3, 10, 0, tzinfo=VN))  # fmt: skip
    third = fetch(ws)
    assert third.exit_code == 0, third.output
    assert "đã lưu 1 thư mới" in third.output and TH in third.output and KT not in third.output
    assert len(saved(ws)) == 2


def test_a_new_uidvalidity_scans_the_folder_again_without_saving_anything_twice(tmp_path, dovecot):
    # one known again by its Message-ID, one (without) by its bytes
    dovecot.deliver(
        message(KT, "Báo cáo", {"a.xlsx": report("KT", "Phòng Kinh tế")}, message_id="<a@kt.vn>"), MARCH_2
    )
    dovecot.deliver(message(TH, "Báo cáo", {"b.xlsx": report("TH", "Phòng Tổng hợp")}), MARCH_2)
    ws = workspace(tmp_path / "ws", imap_port=dovecot.port)
    assert "đã lưu 2 thư mới" in fetch(ws).output
    dovecot.rebuild(uidvalidity=4242, first_uid=50)  # a migration, a restored backup
    dovecot.deliver(message(KT, "Báo cáo sửa", {"c.xlsx": report("KT", "Phòng Kinh tế")}), MARCH_2)

    result = fetch(ws)

    assert "đã lưu 1 thư mới, bỏ qua 2 thư đã tải trước đây" in result.output, result.output
    assert len(saved(ws)) == 3
    validities = {
        json.loads(line)["uidvalidity"] for line in journal_path(ws / "inbox").read_text().splitlines()
    }
    assert len(validities) == 2


def test_a_message_with_two_attachments_lists_both_and_ingest_takes_both_with_the_mailbox_time(
    tmp_path, dovecot
):
    from processor.ingest import collect
    from processor.records import TimeSource

    two = {
        "bao-cao.xlsx": report("KT", "Phòng Kinh tế"),
        "bao-cao-sua.xlsx": report("KT", "Phòng Kinh tế", faulty=True),
    }
    dovecot.deliver(message(KT, "Hai tệp", two, date=dt.datetime(2024, 4, 20, tzinfo=VN)), MARCH_2)
    ws = workspace(tmp_path / "ws", imap_port=dovecot.port)

    result = fetch(ws)

    assert "tệp đính kèm: bao-cao.xlsx, bao-cao-sua.xlsx" in result.output, result.output
    files = [item.file for item in collect(ws / "inbox", load_config(ws / "config.toml")).incoming]
    assert sorted(f.attachment_name for f in files) == ["bao-cao-sua.xlsx", "bao-cao.xlsx"]
    # the mailbox's time, not the Date header (20 April) and not the file's modification time (today)
    assert {(f.received_at, f.received_source) for f in files} == {
        (dt.datetime(2024, 3, 2, 9, 15), TimeSource.MAILBOX)
    }


def test_a_message_over_the_size_cap_is_a_finding_until_the_cap_is_raised(tmp_path, dovecot):
    dovecot.deliver(message(KT, "Ảnh chụp báo cáo", {}, padding=1_300_000), MARCH_2)
    dovecot.deliver(message(TH, "Báo cáo", {"b.xlsx": report("TH", "Phòng Tổng hợp")}), MARCH_2)
    ws = workspace(tmp_path / "ws", imap_port=dovecot.port, max_message_mb=1)

    result = fetch(ws)

    assert result.exit_code == 0, result.output
    assert [p.name.split("_")[1] for p in saved(ws)] == ["tonghop-vpubnd-laocai-gov-vn"]
    assert "lớn hơn mức 1 MB (mail.max_message_mb)" in result.output and KT in result.output
    assert "“Ảnh chụp báo cáo”" in result.output  # the subject as the clerk sees it in the mailbox
    assert "1 thư quá lớn chưa tải" in fetch(ws).output  # still said, never silently forgotten

    workspace(ws, imap_port=dovecot.port, max_message_mb=2)
    raised = fetch(ws)
    assert "đã lưu 1 thư mới" in raised.output and KT in raised.output, raised.output
    assert len(saved(ws)) == 2


def _four_messages(dovecot: Dovecot) -> list[bytes]:
    sent = []
    for n, (sender, unit, name) in enumerate([(KT, "KT", "Phòng Kinh tế"), (TH, "TH", "Phòng Tổng hợp")] * 2):
        data = message(
            sender, f"Báo cáo {n}", {f"bc-{n}.xlsx": report(unit, name)}, message_id=f"<m{n}@x.vn>"
        )
        dovecot.deliver(data, MARCH_2 + dt.timedelta(minutes=n))
        sent.append(data)
    return sent


def _check_each_saved_once(ws: Path, sent: list[bytes]) -> None:
    files = saved(ws)
    assert sorted(p.read_bytes() for p in files) == sorted(sent)
    assert not [
        p
        for p in (ws / "inbox").rglob("*")
        if p.is_file() and p.suffix != ".eml" and ".thidua-mail" not in str(p)
    ]
    records = [
        json.loads(line) for line in journal_path(ws / "inbox").read_text().splitlines() if line.strip()
    ]
    assert sorted(r["sha256"] for r in records if r["kind"] == "saved") == sorted(
        {r["sha256"] for r in records if r["kind"] == "saved"}
    )


def test_the_server_killed_mid_fetch_then_fetch_again_loses_and_doubles_nothing(tmp_path, dovecot):
    sent = _four_messages(dovecot)
    ws = workspace(tmp_path / "ws", imap_port=dovecot.port)
    config = load_config(ws / "config.toml")

    def kill_after_first(_saved) -> None:
        dovecot.kill()

    with pytest.raises(MailError) as error:
        fetch_mail(config, ws / "inbox", on_saved=kill_after_first)
    assert "Chạy lại" in str(error.value)
    assert len(saved(ws)) == 1

    dovecot.start()
    result = fetch(ws)
    assert result.exit_code == 0, result.output
    assert "đã lưu 3 thư mới" in result.output
    _check_each_saved_once(ws, sent)


def test_fetch_killed_at_once_after_its_first_save_then_again_loses_and_doubles_nothing(tmp_path, dovecot):
    sent = _four_messages(dovecot)
    ws = workspace(tmp_path / "ws", imap_port=dovecot.port)
    command = ["fetch", "--config", str(ws / "config.toml"), "--inbox", str(ws / "inbox")]
    process = subprocess.Popen(
        [sys.executable, "-m", "processor", *command],
        stdout=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"}, cwd=REPO,
    )  # fmt: skip
    assert b"inbox" in process.stdout.readline()  # the first message is saved
    process.send_signal(signal.SIGKILL)
    process.wait()

    assert fetch(ws).exit_code == 0
    _check_each_saved_once(ws, sent)


def test_a_wrong_password_is_a_clear_error_and_nothing_is_written(tmp_path, dovecot, monkeypatch):
    dovecot.deliver(message(KT, "Báo cáo", {"a.xlsx": b"x"}), MARCH_2)
    ws = workspace(tmp_path / "ws", imap_port=dovecot.port)
    monkeypatch.setenv("THIDUA_MAIL_PASSWORD", "sai-mat-khau")
    before = tree(ws)

    result = fetch(ws)

    assert result.exit_code == 2
    assert "từ chối đăng nhập với tài khoản “vanthu”: sai tên đăng nhập hoặc mật khẩu" in result.output
    assert "mật khẩu ứng dụng" in result.output and "sai-mat-khau" not in result.output
    assert "Traceback" not in result.output
    assert tree(ws) == before


def test_tls_with_an_untrusted_certificate_fails_and_trusting_it_with_ca_file_works(tmp_path, dovecot):
    dovecot.deliver(message(KT, "Báo cáo", {"a.xlsx": b"x"}), MARCH_2)
    ws = workspace(tmp_path / "ws", imap_port=dovecot.tls_port, imap_security="ssl")

    untrusted = fetch(ws)

    assert untrusted.exit_code == 2
    assert "không được tin cậy" in untrusted.output and "mail.ca_file" in untrusted.output, untrusted.output
    assert tree(ws) == ["inbox"]

    shutil.copy(dovecot.cert, ws / "ca-co-quan.pem")
    workspace(ws, imap_port=dovecot.tls_port, imap_security="ssl", ca_file="ca-co-quan.pem")
    trusted = fetch(ws)
    assert trusted.exit_code == 0, trusted.output
    assert len(saved(ws)) == 1

    workspace(ws, imap_port=dovecot.port, imap_security="starttls", ca_file="ca-co-quan.pem")
    assert fetch(ws).exit_code == 0  # STARTTLS on the plain port, the same certificate checked


def test_connection_failures_are_said_in_vietnamese_with_exit_2_and_nothing_written(tmp_path, dovecot):
    silent = socket.socket()  # accepts connections (backlog) and never says a word
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
    cases = {
        "từ chối kết nối": {"imap_port": closed.getsockname()[1]},
        "không tìm thấy máy chủ imap": {"imap_host": "hop-thu.khong-ton-tai.invalid", "imap_security": "ssl"},
        "không trả lời sau 1 giây": {"imap_port": silent.getsockname()[1], "timeout_seconds": 1},
        "không có thư mục “hop-thu-khac”": {"imap_port": dovecot.port, "folder": "hop-thu-khac"},
    }
    try:
        for n, (words, settings) in enumerate(cases.items()):
            ws = workspace(tmp_path / f"ws{n}", **{"imap_port": dovecot.port, **settings})
            result = fetch(ws)
            assert result.exit_code == 2, (words, result.output)
            assert words in result.output.lower(), result.output
            assert "Traceback" not in result.output
            assert tree(ws) == ["inbox"]
    finally:
        silent.close()
        closed.close()


def test_security_none_is_refused_for_a_remote_host_and_a_password_in_the_config_is_refused(tmp_path):
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(REPO / "config.toml", bare / "config.toml")
    result = fetch(bare)
    assert result.exit_code == 2 and "thiếu mail.imap_host, mail.username" in result.output, result.output

    ws = workspace(tmp_path / "ws", imap_host="mail.laocai.gov.vn")
    result = fetch(ws)
    assert result.exit_code == 2 and "mail.imap_security" in result.output and "localhost" in result.output

    text = (ws / "config.toml").read_text(encoding="utf-8")
    (ws / "config.toml").write_text(
        text.replace("[mail]\n", '[mail]\npassword = "bi-mat-123"\n'), encoding="utf-8"
    )
    result = fetch(ws)
    assert (
        result.exit_code == 2 and "mail.password" in result.output and "THIDUA_MAIL_PASSWORD" in result.output
    )
    assert "bi-mat-123" not in result.output


def test_the_mail_settings_are_checked_with_the_rest_of_the_config(config_text):
    from processor.config import parse_config
    from processor.records import UserError

    parse_config(config_text)  # no [mail]: every other command works as before
    bad = '[mail]\nimap_security = "tls"\nsmtp_port = 70000\nfrom_address = "van thu"\nmax_message_mb = 0\n'
    with pytest.raises(UserError) as error:
        parse_config(config_text + "\n" + bad)
    for key in ("mail.imap_security", "mail.smtp_port", "mail.from_address", "mail.max_message_mb"):
        assert key in str(error.value)


# -- end to end ------------------------------------------------------------------------------------


def test_fetch_then_run_a_report_without_a_date_header_received_on_2_march_is_on_time(tmp_path, dovecot):
    dovecot.deliver(message(KT, "Báo cáo tháng 2", {"bao-cao.xlsx": report("KT", "Phòng Kinh tế")}), MARCH_2)
    ws = workspace(tmp_path / "ws", imap_port=dovecot.port)
    assert fetch(ws).exit_code == 0
    for path in saved(ws):  # saved long after the deadline: the file's own time says "late"
        os.utime(path, (dt.datetime(2024, 4, 20).timestamp(),) * 2)

    result = CliRunner().invoke(
        cli, ["run", "--config", str(ws / "config.toml"), "--inbox", str(ws / "inbox"),
              "--out", str(ws / "output"), "--period", "2024-02"],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    summary = json.loads((ws / "output" / "2024-02" / "summary.json").read_text(encoding="utf-8"))
    unit = next(u for u in summary["units"] if u["code"] == "KT")
    assert unit["status"] == "on_time", unit
    assert unit["received_at"].startswith("2024-03-02T09:15"), unit
    source = next(i for i in summary["generated_from"] if "bao-cao.xlsx" in i["name"])
    assert source["received_from"] == "mailbox"


# -- send ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def drafted(tmp_path_factory) -> Path:
    """A workspace after `thidua run --period 2024-02`: two units' faulty reports e-mailed with their
    Message-IDs, so output/2024-02/phan-hoi/ holds a draft reply to each; and a reminder."""
    ws = workspace(tmp_path_factory.mktemp("drafted") / "ws")
    for sender, unit, name in [(KT, "KT", "Phòng Kinh tế"), (TH, "TH", "Phòng Tổng hợp")]:
        data = message(
            sender,
            "Báo cáo tháng 2",
            {f"bao-cao-{unit}.xlsx": report(unit, name, faulty=True)},
            date=dt.datetime(2024, 3, 3, 8, 0, tzinfo=VN),
            message_id=f"<bc-{unit}@laocai.gov.vn>",
        )
        (ws / "inbox" / f"{unit}.eml").write_bytes(data)
    result = CliRunner().invoke(cli, ["run", *_places(ws), "--period", "2024-02"])
    assert result.exit_code == 0, result.output
    _keep_one_reminder(ws)
    return ws


def _keep_one_reminder(ws: Path) -> None:
    """A run writes a reminder to every unit without a usable report; the send tests keep one of them,
    KGVX's, so that each case counts three messages: two replies and a reminder."""
    reminders = ws / "output" / "2024-02" / "nhac-nop"
    kept = [path for path in reminders.glob("*.eml") if path.name.endswith("_KGVX_nhac-nop.eml")]
    assert len(kept) == 1, sorted(path.name for path in reminders.iterdir())
    for path in reminders.iterdir():
        if path not in kept:
            path.unlink()
    kept[0].rename(reminders / "KGVX_nhac-nop.eml")


def _places(ws: Path) -> list[str]:
    return ["--config", str(ws / "config.toml"), "--inbox", str(ws / "inbox"), "--out", str(ws / "output")]


def _copy(drafted: Path, root: Path, **mail: object) -> Path:
    ws = root / "ws"
    shutil.copytree(drafted, ws)
    return workspace(ws, **mail)


def send(ws: Path, *extra: str, answer: str | None = None):
    command = [
        "send",
        "--config",
        str(ws / "config.toml"),
        "--out",
        str(ws / "output"),
        "--period",
        "2024-02",
    ]
    return CliRunner().invoke(cli, [*command, *extra], input=answer)


def _parsed(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_send_lists_asks_and_sends_each_draft_once_threaded_under_the_unit_s_message(tmp_path, drafted, smtp):
    ws = _copy(drafted, tmp_path, smtp_port=smtp.port)

    listed = send(ws, "--dry-run")
    assert listed.exit_code == 0 and "Sẽ gửi 3 thư" in listed.output, listed.output
    declined = send(ws, answer="n\n")
    assert "Chưa gửi thư nào" in declined.output
    assert smtp.received == []

    result = send(ws, answer="y\n")

    assert result.exit_code == 0, result.output
    assert "Đã gửi 3 thư" in result.output
    by_recipient = {tuple(rcpt): _parsed(raw) for _sender, rcpt, raw in smtp.received}
    assert set(by_recipient) == {(KT,), (TH,), ("kgvx.vpubnd@laocai.gov.vn",)}
    reply = by_recipient[(KT,)]
    assert reply["In-Reply-To"] == "<bc-KT@laocai.gov.vn>" and reply["References"] == "<bc-KT@laocai.gov.vn>"
    assert reply["From"].addresses[0].addr_spec == "tchc.vpubnd@laocai.gov.vn"
    assert reply["Message-ID"] and reply["Date"] and reply["X-Unsent"] is None
    assert [p.get_filename() for p in reply.iter_attachments()] == [
        p.name for p in (ws / "output" / "2024-02" / "phan-hoi").glob("KT_*.xlsx")
    ]
    log = [
        json.loads(line) for line in (ws / "output" / ".thidua-mail" / "sent.jsonl").read_text().splitlines()
    ]
    assert {entry["message_id"] for entry in log} == {m["Message-ID"] for m in by_recipient.values()}

    again = send(ws, "--yes")
    assert again.exit_code == 0 and "Không có thư mới cần gửi" in again.output
    assert len(smtp.received) == 3


def test_a_refused_recipient_is_reported_the_rest_go_and_it_is_sent_next_time(tmp_path, drafted, smtp):
    ws = _copy(drafted, tmp_path, smtp_port=smtp.port)
    reminder = ws / "output" / "2024-02" / "nhac-nop" / "KGVX_nhac-nop.eml"
    two = _parsed(reminder.read_bytes())
    two.replace_header("To", "kgvx.vpubnd@laocai.gov.vn, cu.vpubnd@laocai.gov.vn")
    reminder.write_bytes(bytes(two))
    smtp.refuse.update({TH, "cu.vpubnd@laocai.gov.vn"})

    result = send(ws, "--yes")

    assert result.exit_code == 0, result.output
    assert "Không gửi được" in result.output and TH in result.output and "550" in result.output
    assert "từ chối người nhận cu.vpubnd@laocai.gov.vn" in result.output  # the reminder went to the other
    assert sorted(tuple(r) for _s, r, _m in smtp.received) == [("kgvx.vpubnd@laocai.gov.vn",), (KT,)]

    smtp.refuse.clear()
    later = send(ws, "--yes")
    assert "Đã gửi 1 thư" in later.output
    assert [r for _s, r, _m in smtp.received[2:]] == [[TH]]


def test_a_new_draft_for_a_unit_after_its_correction_is_sent_as_a_new_message(tmp_path, drafted, smtp):
    ws = _copy(drafted, tmp_path, smtp_port=smtp.port)
    assert send(ws, "--yes").exit_code == 0
    corrected = message(
        TH,
        "Báo cáo sửa",
        {"bao-cao-TH-sua.xlsx": report("TH", "Phòng Tổng hợp", faulty=True)},
        date=dt.datetime(2024, 3, 4, 8, 0, tzinfo=VN),
        message_id="<bc-TH-2@laocai.gov.vn>",
    )
    (ws / "inbox" / "TH-sua.eml").write_bytes(corrected)
    assert CliRunner().invoke(cli, ["run", *_places(ws), "--period", "2024-02"]).exit_code == 0
    _keep_one_reminder(ws)

    result = send(ws, "--yes")

    assert "Đã gửi 1 thư" in result.output, result.output
    new = _parsed(smtp.received[-1][2])
    assert smtp.received[-1][1] == [TH] and new["In-Reply-To"] == "<bc-TH-2@laocai.gov.vn>"
    assert len({_parsed(raw)["Message-ID"] for _s, _r, raw in smtp.received}) == 4


def test_send_logs_in_when_the_server_asks_and_a_copy_goes_to_the_sent_folder(
    tmp_path, drafted, dovecot, monkeypatch
):
    smtp = SmtpServer(password=PASSWORD)
    try:
        ws = _copy(drafted, tmp_path, smtp_port=smtp.port, imap_port=dovecot.port, sent_folder="Sent")
        dovecot.deliver(message(KT, "tạo thư mục", {}), MARCH_2, folder="Sent")
        result = send(ws, "--yes")
        assert result.exit_code == 0, result.output
        assert len(smtp.received) == 3
        copies = [m for m in dovecot.messages("Sent").values() if b"thidua." in m[b"BODY[]"]]
        assert len(copies) == 3 and all(b"\\Seen" in m[b"FLAGS"] for m in copies)

        smtp.received.clear()
        other = _copy(drafted, tmp_path / "other", smtp_port=smtp.port)
        monkeypatch.setenv("THIDUA_MAIL_PASSWORD", "sai")
        wrong = send(other, "--yes")
        assert wrong.exit_code == 2 and "sai tên đăng nhập hoặc mật khẩu" in wrong.output
        assert smtp.received == [] and not (other / "output" / ".thidua-mail").exists()
    finally:
        smtp.stop()


def test_smtp_over_tls_refuses_an_untrusted_certificate_and_sends_with_ca_file(tmp_path, drafted):
    from tests.mailservers import make_certificate

    (tmp_path / "tls").mkdir()
    cert, key = make_certificate(tmp_path / "tls")
    smtp = SmtpServer(tls=(cert, key))
    try:
        ws = _copy(drafted, tmp_path, smtp_port=smtp.port, smtp_security="ssl")
        untrusted = send(ws, "--yes")
        assert untrusted.exit_code == 2 and "không được tin cậy" in untrusted.output, untrusted.output
        assert "mail.ca_file" in untrusted.output and smtp.received == []
        assert not (ws / "output" / ".thidua-mail").exists()

        workspace(ws, smtp_port=smtp.port, smtp_security="ssl", ca_file=str(cert))
        trusted = send(ws, "--yes")
        assert trusted.exit_code == 0 and len(smtp.received) == 3, trusted.output
    finally:
        smtp.stop()
