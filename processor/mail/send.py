"""`thidua send --period P`: the period's feedback drafts and reminders sent over SMTP, each once.

Drafts are the .eml files `thidua run` writes (output/<P>/phan-hoi/) and reminders (output/<P>/nhac-nop/).
A send log (output/.thidua-mail/sent.jsonl: Message-ID, recipients, time) makes a second `send` send
nothing. A draft is known by what its reader sees: recipients, subject, text and attachment names (not the
attachment's bytes, which a re-run may zip differently), so a new draft for a unit after its correction
(a new received time, other findings) is a new message, and the same draft written again is not.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import email
import email.policy
import hashlib
import imaplib
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses
from pathlib import Path

from processor.config import Config, is_email_address
from processor.mail import imap, settings
from processor.mail.errors import LoginFailed, MailError, NoStartTls, describe, talking_to
from processor.mail.journal import Journal
from processor.records import Period, UserError
from processor.vntext import one_line

DRAFT_FOLDERS = ("phan-hoi", "nhac-nop")  # feedback to units with findings; reminders to units missing
SEND_LOG = Path(".thidua-mail") / "sent.jsonl"


@dataclass(frozen=True)
class Draft:
    path: Path
    message: EmailMessage
    key: str  # sha256 of what the reader sees
    recipients: tuple[str, ...]
    subject: str
    attachments: tuple[str, ...]
    sent: dict | None = None  # the send log's line when it was sent before


@dataclass
class SendResult:
    sent: list[tuple[Draft, dict[str, str]]] = field(default_factory=list)  # with refused recipients
    failed: list[tuple[Draft, str]] = field(default_factory=list)  # not sent, and why
    copy_problem: str | None = None  # the copy to the Sent folder could not be made


def send_log_path(out_root: Path) -> Path:
    return Path(out_root) / SEND_LOG


def list_drafts(out_root: Path, period: Period) -> list[Draft]:
    """Every draft of the period, feedback first, each with its log line if it was sent before."""
    log = Journal.at(send_log_path(out_root))
    sent = {e.get("draft"): e for e in log.entries if e.get("kind") == "sent"}
    drafts: list[Draft] = []
    for name in DRAFT_FOLDERS:
        folder = Path(out_root) / str(period) / name
        for path in sorted(folder.glob("*.eml")) if folder.is_dir() else ():
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise UserError(f"Không đọc được thư nháp {path}: {exc.strerror}.") from None
            draft = _draft(path, data)
            drafts.append(dataclasses.replace(draft, sent=sent.get(draft.key)))
    return drafts


def _draft(path: Path, data: bytes) -> Draft:
    message = email.message_from_bytes(data, policy=email.policy.default)
    pairs = getaddresses([str(v) for name in ("To", "Cc") for v in message.get_all(name, [])])
    recipients: list[str] = []
    for _name, address in pairs:
        if is_email_address(address) and address.lower() not in (r.lower() for r in recipients):
            recipients.append(address)
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    attachments = tuple(
        one_line(str(p.get_filename())) for p in message.iter_attachments() if p.get_filename()
    )
    subject = one_line(str(message.get("Subject", "")))
    seen = "\n".join([*recipients, subject, text, *attachments])
    key = hashlib.sha256(seen.encode("utf-8", "replace")).hexdigest()
    return Draft(path, message, key, tuple(recipients), subject, attachments)


def _outgoing(draft: Draft, sender: tuple[str, str], now: dt.datetime) -> tuple[bytes, str]:
    """The draft as sent: from the mailbox's address, dated now, with a Message-ID of its own (the same
    for the same draft, so a message sent again after a crash is recognisably the same one)."""
    message = email.message_from_bytes(draft.message.as_bytes(), policy=email.policy.default)
    for name in ("From", "Sender", "Date", "Message-ID", "X-Unsent", "Bcc"):
        del message[name]
    name, address = sender
    message["From"] = Address(display_name=one_line(name), addr_spec=address)
    message["Date"] = format_datetime(now)
    message_id = f"<thidua.{draft.key[:32]}@{address.rpartition('@')[2]}>"
    message["Message-ID"] = message_id
    return message.as_bytes(policy=email.policy.SMTP), message_id


def send_drafts(
    config: Config,
    drafts: list[Draft],
    out_root: Path,
    *,
    secret: Callable[[settings.Server], str] = settings.password,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    on_done: Callable[[Draft, str | None], None] | None = None,
) -> SendResult:
    """Send the drafts not sent before; a message whose recipients are all refused is reported and the
    others go on. Each sent message is logged at once (a crash loses at most the line of the message
    being sent, which is then sent again next time)."""
    server = settings.smtp_server(config)
    sender = settings.from_address(config)
    log = Journal.at(send_log_path(out_root))
    asked: dict[str, str] = {}

    def remembered(server: settings.Server) -> str:  # asked once for SMTP and the Sent copy
        if "password" not in asked:
            asked["password"] = secret(server)
        return asked["password"]

    result = SendResult()
    waiting = [d for d in drafts if d.sent is None and d.recipients]
    copies: list[bytes] = []
    if waiting:
        with _Smtp(server, remembered) as smtp:
            for draft in waiting:
                data, message_id = _outgoing(draft, sender, now())
                try:
                    with talking_to("smtp", server.host, server.port, timeout=server.timeout):
                        try:
                            refused = smtp.sendmail(sender[1], list(draft.recipients), data)
                        except smtplib.SMTPRecipientsRefused as exc:
                            result.failed.append((draft, _refused_text(exc.recipients)))
                            _reset(smtp)
                            if on_done:
                                on_done(draft, result.failed[-1][1])
                            continue
                        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
                            result.failed.append((draft, _server_said(exc.smtp_code, exc.smtp_error)))
                            _reset(smtp)
                            if on_done:
                                on_done(draft, result.failed[-1][1])
                            continue
                except MailError as exc:
                    raise MailError(
                        f"{exc} Các thư đã gửi được ghi nhận; chạy lại “thidua send” để gửi tiếp."
                    ) from None
                refused_text = {a: _server_said(code, text) for a, (code, text) in refused.items()}
                log.append(
                    {
                        "kind": "sent",
                        "draft": draft.key,
                        "path": draft.path.name,
                        "message_id": message_id,
                        "recipients": [a for a in draft.recipients if a not in refused],
                        "refused": refused_text,
                        "time": now().isoformat(timespec="seconds"),
                    }
                )
                result.sent.append((draft, refused_text))
                copies.append(data)
                if on_done:
                    on_done(draft, None)
    if copies and config.mail.sent_folder:
        result.copy_problem = _copy_to_sent(config, copies, remembered, now())
    return result


class _Smtp:
    """An SMTP connection with the settings' security, logged in when the server offers AUTH."""

    def __init__(self, server: settings.Server, secret: Callable[[settings.Server], str]):
        self.server, self.secret, self.smtp = server, secret, None

    def __enter__(self) -> smtplib.SMTP:
        try:
            return self._open()
        except BaseException:
            self.__exit__()  # a refused login or TLS upgrade leaves no socket open behind the message
            raise

    def _open(self) -> smtplib.SMTP:
        server = self.server
        context = server.tls_context()
        with talking_to("smtp", server.host, server.port, username=server.username, timeout=server.timeout):
            if server.security == "ssl":
                self.smtp = smtplib.SMTP_SSL(
                    server.host, server.port, timeout=server.timeout, context=context
                )
            else:
                self.smtp = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
            self.smtp.ehlo()
            if server.security == "starttls":
                if not self.smtp.has_extn("starttls"):
                    raise NoStartTls()
                self.smtp.starttls(context=context)
                self.smtp.ehlo()
            if self.smtp.has_extn("auth") and server.username:
                try:
                    self.smtp.login(server.username, self.secret(server))
                except smtplib.SMTPAuthenticationError:
                    raise LoginFailed() from None
        return self.smtp

    def __exit__(self, *exc_info) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None


def _reset(smtp: smtplib.SMTP) -> None:
    with contextlib.suppress(smtplib.SMTPServerDisconnected):
        smtp.rset()


def _server_said(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return one_line(f"{code} {text}")[:300]


def _refused_text(recipients: dict) -> str:
    parts = [f"{address}: {_server_said(code, text)}" for address, (code, text) in recipients.items()]
    return "máy chủ từ chối người nhận (" + "; ".join(parts) + ")"


def _copy_to_sent(config: Config, copies: list[bytes], secret, moment: dt.datetime) -> str | None:
    """Append a copy of each sent message to mail.sent_folder; a failure is reported, never fatal (the
    messages have gone)."""
    try:
        server = settings.imap_server(config)
        with imap.connected(server, secret) as client:
            for data in copies:
                try:
                    client.append(config.mail.sent_folder, data, flags=[b"\\Seen"], msg_time=moment)
                except imaplib.IMAP4.abort:
                    raise
                except imaplib.IMAP4.error as exc:
                    return (
                        f"Không lưu được bản sao thư đã gửi vào thư mục “{config.mail.sent_folder}” "
                        f"(mail.sent_folder): {one_line(str(exc))[:200]}. Các thư vẫn đã được gửi."
                    )
    except MailError as exc:
        return str(exc)
    except Exception as exc:  # the folder is missing, the server refused the copy: the clerk is told
        return describe(exc, "imap", config.mail.imap_host, config.mail.imap_port or 0)
    return None
