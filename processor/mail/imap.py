"""One IMAP connection, opened with the settings' security and closed whatever happens."""

from __future__ import annotations

import contextlib
import imaplib
from collections.abc import Callable, Iterator

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from processor.mail.errors import LoginFailed, MailError, NoStartTls, talking_to
from processor.mail.settings import Server


@contextlib.contextmanager
def connected(server: Server, secret: Callable[[Server], str]) -> Iterator[IMAPClient]:
    """A logged-in client; every failure on the way (and while it is used) is a MailError. The password
    is asked for only once the server has answered over a checked connection."""
    context = server.tls_context()
    client = None
    with talking_to("imap", server.host, server.port, username=server.username, timeout=server.timeout):
        try:
            client = IMAPClient(
                server.host,
                port=server.port,
                ssl=server.security == "ssl",
                ssl_context=context,
                timeout=server.timeout,
            )
            if server.security == "starttls":
                if not client.has_capability("STARTTLS"):
                    raise NoStartTls()
                client.starttls(context)
            try:
                client.login(server.username, secret(server))
            except LoginError:
                raise LoginFailed() from None
            client.normalise_times = False  # INTERNALDATE with its offset, not the machine's local time
            yield client
        finally:
            if client is not None:
                with contextlib.suppress(Exception):
                    client.logout()


def examine(client: IMAPClient, folder: str) -> int:
    """Open `folder` read-only (EXAMINE: no flag, no deletion, nothing changes on the server); its
    UIDVALIDITY."""
    try:
        info = client.select_folder(folder, readonly=True)
    except imaplib.IMAP4.abort:
        raise
    except IMAPClientError:
        raise MailError(_no_folder(client, folder)) from None
    return int(info[b"UIDVALIDITY"])


def _no_folder(client: IMAPClient, folder: str) -> str:
    names: list[str] = []
    with contextlib.suppress(Exception):
        names = [str(name) for _flags, _sep, name in client.list_folders()]
    shown = ", ".join(f"“{n}”" for n in names[:15]) + (", …" if len(names) > 15 else "")
    listing = f" Hộp thư có các thư mục: {shown}." if names else ""
    return f"Không có thư mục “{folder}” trong hộp thư. Sửa mail.folder trong config.toml.{listing}"
