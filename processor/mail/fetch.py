"""`thidua fetch`: new messages of the office mailbox saved whole, one .eml each, under the inbox.

Read-only on the server (EXAMINE, BODY.PEEK). Incremental: the journal (journal.py) keeps UIDVALIDITY and
the UIDs looked at; a UIDVALIDITY change scans the folder again, and Message-IDs and the saved bytes'
sha256 keep anything from being saved twice. Each .eml is written atomically under a name made of its
received time, sender and hash, then recorded: a fetch killed between the two saves the same file again
under the same name next time, so nothing is lost or doubled.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from email.utils import parseaddr
from pathlib import Path

from processor import findings as catalogue
from processor.config import Config
from processor.mail import imap, settings
from processor.mail.journal import VIETNAM_TIME, Journal
from processor.mail.journal import message_id as journal_message_id
from processor.records import Finding, Period
from processor.render import atomic
from processor.vntext import format_date, one_line

METADATA = ["INTERNALDATE", "RFC822.SIZE", "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID FROM SUBJECT)]"]
BATCH = 200  # UIDs per metadata FETCH: one round trip each, and a bounded reply
STALE_TEMP_SECONDS = 3600  # a temporary .eml this old is a killed fetch's, not one being written


@dataclass(frozen=True)
class SavedMessage:
    path: Path
    sender: str
    unit: str  # "KT (Phòng Kinh tế)", or "" when the sender is not a registered address
    attachments: tuple[str, ...]
    received_at: dt.datetime  # the server's INTERNALDATE, aware


@dataclass
class FetchResult:
    mailbox: str
    saved: list[SavedMessage] = field(default_factory=list)
    already: int = 0  # messages looked at that were saved before (same Message-ID or bytes)
    too_large: list[Finding] = field(default_factory=list)


def mailbox_key(config: Config) -> str:
    mail = config.mail
    return f"{mail.username}@{mail.imap_host}/{mail.folder}"


def fetch_mail(
    config: Config,
    inbox: Path,
    *,
    secret: Callable[[settings.Server], str] = settings.password,
    progress: Callable[[int, int], None] | None = None,
    on_saved: Callable[[SavedMessage], None] | None = None,
) -> FetchResult:
    """Save the mailbox's new messages since the first campaign's start under `inbox`.

    Nothing is written before the server has been reached, logged in to and the folder opened.
    `secret` gives the password (settings.password: environment, keyring, prompt)."""
    server = settings.imap_server(config)
    inbox = Path(inbox)
    journal = Journal.load(inbox)
    key = mailbox_key(config)
    result = FetchResult(key)
    cap = config.mail.max_message_mb * 1024 * 1024
    since = min((c.start for c in config.campaigns), default=dt.date(1970, 1, 2)) - dt.timedelta(days=1)
    with imap.connected(server, secret) as client:
        uidvalidity = imap.examine(client, config.mail.folder)
        last = journal.last_uid(key, uidvalidity)
        criteria: list = ["SINCE", since]
        if last:
            criteria = ["UID", f"{last + 1}:*", *criteria]
        pending = journal.too_large(key, uidvalidity)  # listed before: tried again (the cap may be higher)
        uids = sorted({u for u in client.search(criteria) if u > last} | set(pending))
        ids, hashes = journal.message_ids(), journal.hashes()
        done = 0
        for start in range(0, len(uids), BATCH):
            chunk = uids[start : start + BATCH]
            metadata = client.fetch(chunk, METADATA)
            for uid in chunk:
                done += 1
                if progress is not None:
                    progress(done, len(uids))
                info = metadata.get(uid)
                if info is None:
                    continue  # expunged since the search
                headers = BytesHeaderParser(policy=email.policy.compat32).parsebytes(_header_fields(info))
                message_id = journal_message_id(headers.get("Message-ID"))
                sender = _sender(headers.get("From"))
                received = _aware(info[b"INTERNALDATE"])
                size = int(info.get(b"RFC822.SIZE", 0))
                base = {"mailbox": key, "uidvalidity": uidvalidity, "uid": uid, "message_id": message_id}
                if message_id is not None and message_id in ids:
                    result.already += 1
                    continue
                if size > cap:
                    subject = _decoded(headers.get("Subject"))[:200]
                    result.too_large.append(_too_large(config, uid, sender, subject, size, received))
                    if uid not in pending:
                        journal.append(
                            {
                                **base,
                                "kind": "too_large",
                                "size": size,
                                "sender": sender,
                                "subject": subject,
                                "internaldate": received.isoformat(),
                            }
                        )
                    continue
                body = client.fetch([uid], ["BODY.PEEK[]"]).get(uid, {}).get(b"BODY[]")
                if body is None:
                    continue
                digest = hashlib.sha256(body).hexdigest()
                if digest in hashes:
                    result.already += 1
                    continue
                path = _save(config, inbox, body, digest, sender, received)
                journal.append(
                    {
                        **base,
                        "kind": "saved",
                        "sha256": digest,
                        "internaldate": received.isoformat(),
                        "path": path.relative_to(inbox).as_posix(),
                        "size": len(body),
                    }
                )
                hashes.add(digest)
                if message_id is not None:
                    ids.add(message_id)
                saved = SavedMessage(path, sender, _unit_of(config, sender), _attachments(body), received)
                result.saved.append(saved)
                if on_saved is not None:
                    on_saved(saved)
        if uids and max(uids) > last:
            journal.append({"kind": "checked", "mailbox": key, "uidvalidity": uidvalidity, "uid": max(uids)})
    return result


def _header_fields(info: dict) -> bytes:
    """The header fields asked for; servers echo the item's name in their own spelling (quoted field
    names, another case), so it is found by its start."""
    for name, value in info.items():
        if (
            isinstance(name, bytes)
            and name.upper().startswith(b"BODY[HEADER.FIELDS")
            and isinstance(value, bytes)
        ):
            return value
    return b""


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _decoded(value: object) -> str:
    """A header's text with its encoded words (=?utf-8?b?...?=) decoded; as it is when they are broken."""
    text = str(value or "")
    with contextlib.suppress(Exception):  # a malformed or unknown charset: the raw text still says something
        text = str(make_header(decode_header(text)))
    return one_line(text)


def _sender(value: object) -> str:
    address = parseaddr(one_line(str(value or "")))[1]
    return address.lower() if "@" in address else ""


def _unit_of(config: Config, sender: str) -> str:
    for unit in config.units:
        if sender and sender in (e.lower() for e in unit.emails):
            return f"{unit.code} ({unit.name})"
    return ""


def _attachments(data: bytes) -> tuple[str, ...]:
    try:
        message = email.message_from_bytes(data, policy=email.policy.default)
        names = [part.get_filename() for part in message.walk() if not part.is_multipart()]
    except Exception:  # a malformed message is saved as it is; ingest will say what is wrong with it
        return ()
    return tuple(one_line(str(name))[:200] for name in names if name)


def folder_for(config: Config, received: dt.date) -> str:
    """The month a message is most likely a report for: the month before, while that month's reports are
    still due (on 2 March, February's), else its own month. Ingest reads the period from the form, so
    this only keeps the inbox tidy for the clerk."""
    month = Period.of(received)
    previous = month.previous()
    for campaign in config.campaigns:
        if campaign.contains(previous) and received <= campaign.due_date(previous):
            return str(previous)
    return str(month)


def _save(config: Config, inbox: Path, data: bytes, digest: str, sender: str, received: dt.datetime) -> Path:
    local = received.astimezone(VIETNAM_TIME)
    who = re.sub(r"[^a-z0-9]+", "-", sender).strip("-")[:60] or "khong-ro-nguoi-gui"
    folder = inbox / folder_for(config, local.date())
    atomic.remove_stale_temps(folder, min_age_seconds=STALE_TEMP_SECONDS)
    return atomic.write_bytes(folder / f"{local:%Y%m%d-%H%M}_{who}_{digest[:12]}.eml", data)


def _too_large(
    config: Config, uid: int, sender: str, subject: str, size: int, received: dt.datetime
) -> Finding:
    local = received.astimezone(VIETNAM_TIME)
    mb = f"{size / 1024 / 1024:.1f}".replace(".", ",")
    return catalogue.finding(
        "mail_too_large",
        f"hộp thư {config.mail.folder}, thư số {uid}",
        value=f"{mb} MB",
        sender=sender or catalogue.hint("unknown_sender"),
        subject=subject,
        time=f"{local:%H:%M}",
        date=format_date(local.date()),
        size_mb=mb,
        limit_mb=config.mail.max_message_mb,
    )
