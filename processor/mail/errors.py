"""Failures of the mail connection, said in Vietnamese with what to change."""

from __future__ import annotations

import imaplib
import smtplib
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager

from processor.records import UserError


class MailError(UserError):
    """A connection, TLS, login or mailbox failure: the command stops with exit status 2."""


def _side_word(side: str) -> str:
    return "IMAP (nhận thư)" if side == "imap" else "SMTP (gửi thư)"


def describe(
    exc: BaseException, side: str, host: str, port: int, *, username: str = "", timeout: int = 0
) -> str:
    """The clerk's words for a failure talking to `host`:`port` (`side` is "imap" or "smtp")."""
    where = f"máy chủ {_side_word(side)} {host}, cổng {port}"
    keys = f"mail.{side}_host, mail.{side}_port, mail.{side}_security"
    if isinstance(exc, socket.gaierror):
        return (
            f"Không tìm thấy {where}: tên máy chủ không tra được. Kiểm tra mail.{side}_host trong "
            "config.toml và kết nối mạng của máy."
        )
    if isinstance(exc, ConnectionRefusedError):
        return f"{where[0].upper()}{where[1:]} từ chối kết nối. Kiểm tra {keys} trong config.toml."
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = exc.verify_message or str(exc)
        return (
            f"Chứng chỉ bảo mật của {where} không được tin cậy ({reason}), nên chưa gửi mật khẩu. Nếu máy "
            "chủ thư của cơ quan dùng chứng chỉ riêng, xin tệp chứng chỉ gốc (CA) của cơ quan và ghi đường "
            "dẫn tệp vào mail.ca_file trong config.toml."
        )
    if isinstance(exc, ssl.SSLError):
        return (
            f"Không thiết lập được kết nối bảo mật (TLS) với {where} ({exc.reason or exc}). Kiểm tra "
            f"mail.{side}_security: “ssl” cho cổng {'993' if side == 'imap' else '465'}, “starttls” cho cổng "
            f"{'143' if side == 'imap' else '587'}."
        )
    if isinstance(exc, TimeoutError | socket.timeout):
        return (
            f"{where[0].upper()}{where[1:]} không trả lời sau {timeout} giây. Kiểm tra mạng, tường lửa và "
            f"{keys}; mạng chậm thì tăng mail.timeout_seconds."
        )
    if isinstance(exc, LoginFailed | smtplib.SMTPAuthenticationError):
        return (
            f"{where[0].upper()}{where[1:]} từ chối đăng nhập với tài khoản “{username}”: sai tên đăng nhập "
            "hoặc mật khẩu. Với Gmail, Outlook.com, Yahoo… phải dùng mật khẩu ứng dụng (app password), không "
            "dùng mật khẩu thường. Kiểm tra mail.username và THIDUA_MAIL_PASSWORD (hoặc mật khẩu đã lưu)."
        )
    if isinstance(exc, NoStartTls):
        return f"{where[0].upper()}{where[1:]} không hỗ trợ STARTTLS. Kiểm tra mail.{side}_security, {keys}."
    detail = str(exc).strip()[:300] or type(exc).__name__
    return f"Mất kết nối hoặc lỗi khi làm việc với {where} ({detail}). Chạy lại lệnh sau ít phút."


class LoginFailed(Exception):
    pass


class NoStartTls(Exception):
    pass


# What a dropped connection or a refusing server raises from the two protocol libraries.
NETWORK_ERRORS = (OSError, imaplib.IMAP4.error, smtplib.SMTPException, EOFError)


@contextmanager
def talking_to(side: str, host: str, port: int, *, username: str = "", timeout: int = 0) -> Iterator[None]:
    """Turn any failure of the connection inside into a MailError naming the server."""
    try:
        yield
    except MailError:
        raise
    except (*NETWORK_ERRORS, LoginFailed, NoStartTls) as exc:
        raise MailError(describe(exc, side, host, port, username=username, timeout=timeout)) from None
