"""Real mail servers on 127.0.0.1 for the `fetch` and `send` tests: Debian's dovecot (IMAP) in a
throwaway folder, and aiosmtpd (SMTP) in this process.

Dovecot must be installed (`apt-get install dovecot-imapd`; .ci/run does it). Where it cannot start the
tests FAIL, so that CI never passes without having talked to a real IMAP server; a developer without
dovecot may set THIDUA_ALLOW_NO_DOVECOT=1 to skip them instead.

Quirks handled here: run as root, dovecot's login process is `dovenull` and mail processes refuse uid 0,
so the users file and the Maildir belong to `nobody` and the folder is world-readable; the folder's path
is short (/tmp/dvXXXXXXXX: Unix socket paths are limited to 108 bytes); INTERNALDATE comes back in UTC.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import pytest

ALLOW_MISSING = "THIDUA_ALLOW_NO_DOVECOT"
USER, PASSWORD = "vanthu", "mat-khau-dung"


def _unavailable(why: str) -> None:
    if os.environ.get(ALLOW_MISSING):
        pytest.skip(f"dovecot unavailable ({why}); skipped because {ALLOW_MISSING} is set")
    pytest.fail(
        f"dovecot unavailable: {why}. Install it (apt-get install dovecot-imapd), or set {ALLOW_MISSING}=1 "
        "to skip the mail server tests on a machine without it.",
        pytrace=False,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 / localhost (the openssl command, no new dependency)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    os.chmod(key, 0o644)  # read by dovecot's login process
    return cert, key


class Dovecot:
    """A dovecot serving one user: plain IMAP (STARTTLS offered) on `port`, IMAPS on `tls_port`."""

    def __init__(self) -> None:
        binary = shutil.which("dovecot") or (
            "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
        )
        if binary is None:
            _unavailable("the dovecot command is not installed")
        if shutil.which("openssl") is None:
            _unavailable("the openssl command is not installed")
        self.binary = binary
        import pwd  # POSIX only: collecting these tests elsewhere must not fail

        self.root = Path(tempfile.mkdtemp(prefix="dv", dir="/tmp"))  # short: socket paths <= 108 bytes
        os.chmod(self.root, 0o755)
        self.port, self.tls_port = free_port(), free_port()
        self.cert, key = make_certificate(self.root)
        if os.geteuid() == 0:
            owner = pwd.getpwnam("nobody")
            login_user, internal_user = "dovenull", "dovecot"
        else:
            owner = pwd.getpwuid(os.getuid())
            login_user = internal_user = owner.pw_name
        for name in ("mail", "home"):
            (self.root / name).mkdir()
            os.chown(self.root / name, owner.pw_uid, owner.pw_gid)
        (self.root / "users").write_text(
            f"{USER}:{{PLAIN}}{PASSWORD}:{owner.pw_uid}:{owner.pw_gid}::{self.root}/home/{USER}::\n"
        )
        r = self.root
        self.config = r / "dovecot.conf"
        self.config.write_text(f"""
base_dir = {r}/run
state_dir = {r}/state
log_path = {r}/log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{self.cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_login_user = {login_user}
default_internal_user = {internal_user}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {r}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {r}/users
}}
mail_location = maildir:{r}/mail/%u
service imap-login {{
  inet_listener imap {{
    port = {self.port}
  }}
  inet_listener imaps {{
    port = {self.tls_port}
  }}
}}
""")
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        # -F: in the foreground, in a session of its own, so that one killpg takes every dovecot process.
        self.process = subprocess.Popen(
            [self.binary, "-F", "-c", str(self.config)], start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.5) as s:
                if s.recv(200).startswith(b"* OK"):
                    return
            time.sleep(0.02)
        log = (self.root / "log").read_text(errors="replace") if (self.root / "log").exists() else ""
        err = self.process.stderr.read().decode(errors="replace") if self.process.poll() is not None else ""
        self.kill()
        _unavailable(f"it did not start: {err.strip()} {log.strip()[-1500:]}")

    def kill(self) -> None:
        """SIGKILL to the master and every child: the server dies mid-conversation."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)
        self.process = None

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)

    def rebuild(self, uidvalidity: int, first_uid: int) -> None:
        """The mailbox rebuilt as after a migration: a new UIDVALIDITY and new UIDs for every message
        (written into dovecot's uidlist while it is down, its indexes removed)."""
        self.kill()
        box = self.root / "mail" / USER
        header, *lines = (box / "dovecot-uidlist").read_text().splitlines()
        renumbered = [f"{first_uid + n} {line.split(' ', 1)[1]}" for n, line in enumerate(lines)]
        header = re.sub(r" N\d+", f" N{first_uid + len(lines)}", re.sub(r" V\d+", f" V{uidvalidity}", header))
        (box / "dovecot-uidlist").write_text("\n".join([header, *renumbered]) + "\n")
        for index in box.glob("dovecot.index*"):
            index.unlink()
        self.start()

    def deliver(self, message: bytes, received: dt.datetime, folder: str = "INBOX") -> None:
        """Put a message into the mailbox as the office's server would, with its received time
        (INTERNALDATE), by APPEND."""
        from imapclient import IMAPClient

        with IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10) as client:
            client.login(USER, PASSWORD)
            if folder != "INBOX" and not client.folder_exists(folder):
                client.create_folder(folder)
            client.append(folder, message, msg_time=received)

    def messages(self, folder: str = "INBOX") -> dict[int, dict]:
        """Every message of `folder` with its flags, read-only."""
        from imapclient import IMAPClient

        with IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10) as client:
            client.login(USER, PASSWORD)
            client.select_folder(folder, readonly=True)
            return client.fetch(client.search("ALL"), ["FLAGS", "BODY.PEEK[]"])


class SmtpServer:
    """aiosmtpd on 127.0.0.1: keeps what it receives; refuses the addresses in `refuse`; asks for AUTH
    (PLAIN/LOGIN without TLS: a local test server) when `password` is set."""

    def __init__(self, password: str | None = None, tls: tuple[Path, Path] | None = None) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.received: list[tuple[str, list[str], bytes]] = []
        self.refuse: set[str] = set()
        server = self

        class Handler:
            async def handle_RCPT(self, smtp, session, envelope, address, rcpt_options):
                if address.lower() in server.refuse:
                    return "550 5.1.1 No such mailbox"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, smtp, session, envelope):
                server.received.append(
                    (envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
                )
                return "250 OK"

        def authenticate(smtp, session, envelope, mechanism, auth_data):
            ok = auth_data.login == USER.encode() and auth_data.password == (password or "").encode()
            return AuthResult(success=ok, handled=False)  # False: aiosmtpd answers 535 itself

        self.port = free_port()
        options: dict = {}
        if password is not None:
            options = {
                "authenticator": authenticate, "auth_require_tls": False, "auth_required": True,
                "auth_exclude_mechanism": ["LOGIN"],  # PLAIN only: one failure, one 535
            }  # fmt: skip
        if tls is not None:  # implicit TLS (port 465 style) with this certificate and key
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*map(str, tls))
            options["ssl_context"] = context
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **options)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "AUTH without TLS": this is a local test server
            self.controller.start()

    def stop(self) -> None:
        self.controller.stop()
