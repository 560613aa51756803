"""The [mail] settings made ready for a connection: ports, TLS context, and the password.

The password is never in config.toml, a log or an output: THIDUA_MAIL_PASSWORD, else the OS keyring
(the optional `keyring` package: Windows Credential Manager, macOS Keychain, Secret Service), else a
hidden prompt when a person is at the terminal.
"""

from __future__ import annotations

import getpass
import os
import ssl
import sys
from dataclasses import dataclass
from pathlib import Path

from processor.config import Config, Mail
from processor.mail.errors import MailError

PASSWORD_VARIABLE = "THIDUA_MAIL_PASSWORD"
KEYRING_SERVICE = "thidua"
DEFAULT_PORTS = {
    ("imap", "ssl"): 993,
    ("imap", "starttls"): 143,
    ("imap", "none"): 143,
    ("smtp", "ssl"): 465,
    ("smtp", "starttls"): 587,
    ("smtp", "none"): 25,
}


@dataclass(frozen=True)
class Server:
    side: str  # "imap" | "smtp"
    host: str
    port: int
    security: str  # "ssl" | "starttls" | "none"
    timeout: int
    username: str
    ca_file: Path | None

    def tls_context(self) -> ssl.SSLContext | None:
        """The system's trusted certificates, plus mail.ca_file: certificates and host names are always
        checked (an office server with its own certificate is trusted through ca_file, never by turning
        the check off)."""
        if self.security == "none":
            return None
        context = ssl.create_default_context()
        if self.ca_file is not None:
            try:
                context.load_verify_locations(cafile=str(self.ca_file))
            except (OSError, ssl.SSLError) as exc:
                reason = getattr(exc, "strerror", None) or str(exc)
                raise MailError(
                    f"Không đọc được tệp chứng chỉ {self.ca_file} (mail.ca_file): {reason}. Tệp phải là "
                    "chứng chỉ gốc (CA) dạng PEM."
                ) from None
        return context


def _ca_file(config: Config) -> Path | None:
    if not config.mail.ca_file:
        return None
    path = Path(config.mail.ca_file)
    if not path.is_absolute() and config.path is not None:
        path = Path(config.path).parent / path  # relative to config.toml, like the workspace's folders
    if not path.is_file():
        raise MailError(f"Không tìm thấy tệp chứng chỉ {path} (mail.ca_file trong config.toml).")
    return path


def _require(mail: Mail, keys: tuple[str, ...], command: str) -> None:
    missing = [f"mail.{key}" for key in keys if not getattr(mail, key)]
    if missing:
        raise MailError(
            f"Chưa cấu hình hộp thư cho lệnh “thidua {command}”: thiếu {', '.join(missing)} trong mục [mail] "
            "của config.toml (xem README, phần nhận và gửi thư)."
        )


def imap_server(config: Config) -> Server:
    mail = config.mail
    _require(mail, ("imap_host", "username"), "fetch")
    port = mail.imap_port or DEFAULT_PORTS[("imap", mail.imap_security)]
    return Server(
        "imap",
        mail.imap_host,
        port,
        mail.imap_security,
        mail.timeout_seconds,
        mail.username,
        _ca_file(config),
    )


def smtp_server(config: Config) -> Server:
    mail = config.mail
    _require(mail, ("smtp_host",), "send")
    port = mail.smtp_port or DEFAULT_PORTS[("smtp", mail.smtp_security)]
    return Server(
        "smtp",
        mail.smtp_host,
        port,
        mail.smtp_security,
        mail.timeout_seconds,
        mail.username,
        _ca_file(config),
    )


def from_address(config: Config) -> tuple[str, str]:
    """(display name, address) the messages are sent from."""
    address = config.mail.from_address or config.office.clerk_email
    if not address:
        raise MailError(
            "Chưa có địa chỉ gửi thư: ghi mail.from_address (hoặc office.clerk_email) trong config.toml."
        )
    return config.mail.from_name, address


def password(server: Server) -> str:
    """The mailbox password, from the first of: THIDUA_MAIL_PASSWORD, the OS keyring, a hidden prompt."""
    value = os.environ.get(PASSWORD_VARIABLE)
    if value:
        return value
    value = _from_keyring(server)
    if value:
        return value
    if sys.stdin is not None and sys.stdin.isatty():
        try:
            value = getpass.getpass(f"Mật khẩu hộp thư {server.username} ({server.host}): ")
        except (EOFError, KeyboardInterrupt):
            value = ""
        if value:
            return value
    raise MailError(
        f"Chưa có mật khẩu hộp thư {server.username}: đặt biến môi trường {PASSWORD_VARIABLE}, hoặc lưu mật "
        f"khẩu vào kho mật khẩu của hệ điều hành (keyring set {KEYRING_SERVICE} {server.username}), hoặc "
        "chạy lệnh trong cửa sổ dòng lệnh để nhập khi được hỏi."
    )


def _from_keyring(server: Server) -> str | None:
    try:
        import keyring  # optional: not every machine has a keyring worth asking
    except ImportError:
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, server.username)
    except Exception:  # no usable backend (a server without a desktop session): the next source
        return None
