"""What `thidua fetch` took from the mailbox, kept beside the messages it saved.

`<inbox>/.thidua-mail/fetched.jsonl`, one JSON object a line, appended and flushed to disk one line at a
time (a fetch killed while writing a line leaves a broken last line, which reading skips):

- `{"kind": "saved", "mailbox", "uidvalidity", "uid", "message_id", "sha256", "internaldate", "path", ...}`
  for each message saved as an .eml (`sha256` of its bytes, `internaldate` the server's received time,
  ISO 8601 with its offset): ingest takes its received time from here (`received_times`), so the saved
  message is never changed;
- `{"kind": "too_large", ...}` for a message over mail.max_message_mb, listed and not downloaded;
- `{"kind": "checked", "mailbox", "uidvalidity", "uid"}`: every UID up to `uid` has been looked at.

The folder's name starts with a dot, so ingest's walk of the inbox passes it by as clutter.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from processor.records import UserError
from processor.render.atomic import describe_os_error

STATE_DIR = ".thidua-mail"
JOURNAL_NAME = "fetched.jsonl"
VIETNAM_TIME = dt.timezone(dt.timedelta(hours=7))


_MESSAGE_ID = re.compile(r"<[!-;=?-~]{1,250}>")


def message_id(value: object) -> str | None:
    """The Message-ID a header holds, fit to de-duplicate by and to name in a reply's In-Reply-To;
    anything else (forged, folded, absent) is none."""
    match = _MESSAGE_ID.search(str(value or ""))
    return match.group(0) if match else None


def journal_path(inbox: Path) -> Path:
    return Path(inbox) / STATE_DIR / JOURNAL_NAME


def _lines(path: Path) -> list[dict]:
    try:
        text = path.read_bytes().decode("utf-8", "replace")
    except OSError:
        return []
    out = []
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            item = json.loads(line)
            if isinstance(item, dict):
                out.append(item)
    return out


def _moment(text: object) -> dt.datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def received_times(inbox: Path) -> dict[str, dt.datetime]:
    """sha256 of each saved message's bytes -> the mailbox's received time, naive Vietnam time (the
    time ingest works in). Empty when nothing was fetched into this inbox."""
    out: dict[str, dt.datetime] = {}
    for item in _lines(journal_path(inbox)):
        moment = _moment(item.get("internaldate"))
        if item.get("kind") == "saved" and isinstance(item.get("sha256"), str) and moment is not None:
            out[item["sha256"]] = moment.astimezone(VIETNAM_TIME).replace(tzinfo=None)
    return out


@dataclass
class Journal:
    path: Path
    entries: list[dict] = field(default_factory=list)

    @classmethod
    def load(cls, inbox: Path) -> Journal:
        return cls.at(journal_path(inbox))

    @classmethod
    def at(cls, path: Path) -> Journal:
        return cls(path, _lines(path))

    def saved(self) -> list[dict]:
        return [e for e in self.entries if e.get("kind") == "saved"]

    def message_ids(self) -> set[str]:
        return {e["message_id"] for e in self.saved() if isinstance(e.get("message_id"), str)}

    def hashes(self) -> set[str]:
        return {e["sha256"] for e in self.saved() if isinstance(e.get("sha256"), str)}

    def last_uid(self, mailbox: str, uidvalidity: int) -> int:
        """The highest UID of this mailbox and UIDVALIDITY already looked at (0: none)."""
        uids = [
            e.get("uid")
            for e in self.entries
            if e.get("mailbox") == mailbox and e.get("uidvalidity") == uidvalidity
        ]
        return max((u for u in uids if isinstance(u, int)), default=0)

    def too_large(self, mailbox: str, uidvalidity: int) -> dict[int, dict]:
        """Messages listed as over the size cap and not saved since, by UID."""
        out: dict[int, dict] = {}
        for e in self.entries:
            if e.get("mailbox") != mailbox or e.get("uidvalidity") != uidvalidity:
                continue
            if e.get("kind") == "too_large" and isinstance(e.get("uid"), int):
                out[e["uid"]] = e
            elif e.get("kind") == "saved":
                out.pop(e.get("uid"), None)  # type: ignore[arg-type]
        return out

    def append(self, entry: dict) -> None:
        """Add one line and flush it to disk before going on."""
        line = json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "ab") as stream:
                if stream.tell() and not self._ends_with_newline():
                    stream.write(b"\n")  # the broken last line of a killed fetch stays a line of its own
                stream.write(line.encode("utf-8"))
                stream.flush()
                os.fsync(stream.fileno())
        except OSError as exc:
            raise UserError(f"Không ghi được tệp {self.path}: {describe_os_error(exc)}.") from None
        self.entries.append(entry)

    def _ends_with_newline(self) -> bool:
        with open(self.path, "rb") as stream:
            stream.seek(-1, os.SEEK_END)
            return stream.read(1) == b"\n"
