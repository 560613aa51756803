"""The reporting month the clerk names on the command line, and the one chosen when none is named.

`Period.parse` reads the month written inside a form (strict: 2024-02 or 02/2024); this module reads what a
person types after ``--period``, which is looser, and says in one message which forms it takes.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import TYPE_CHECKING

from processor.records import Period, UserError

if TYPE_CHECKING:
    from processor.config import Config

# What the error message names, in the order a clerk is most likely to write them.
ACCEPTED_FORMS = "2024-02, 02/2024, 2/2024 hoặc “tháng 2/2024”"

_YEAR_FIRST = re.compile(r"(\d{4})-(\d{1,2})")
_MONTH_FIRST = re.compile(r"(?:thang\s*)?(\d{1,2})\s*/\s*(\d{4})")


def _plain(text: str) -> str:
    """Lower case, no diacritics, single spaces: "THÁNG  2/2024" and "thang 2/2024" read alike."""
    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFC", text))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.replace("đ", "d").replace("Đ", "D").lower().split())


def parse_period_text(text: str) -> Period:
    """The month `text` names: 2024-02, 02/2024, 2/2024 or "tháng 2/2024" (any case, with or without
    diacritics). Anything else is a UserError naming the accepted forms."""
    raw = unicodedata.normalize("NFC", str(text)).strip()
    plain = _plain(raw)
    match = _YEAR_FIRST.fullmatch(plain)
    if match:
        year, month = int(match[1]), int(match[2])
    else:
        match = _MONTH_FIRST.fullmatch(plain)
        month, year = (int(match[1]), int(match[2])) if match else (0, 0)
    if match and 1 <= month <= 12 and year >= 1900:
        return Period(year, month)
    detail = f" (không có tháng {month})" if match and not 1 <= month <= 12 else ""
    raise UserError(
        f"Kỳ báo cáo “{raw}” không hợp lệ{detail}. Ghi tháng theo một trong các dạng: {ACCEPTED_FORMS}."
    )


def default_period(config: Config, today: dt.date) -> tuple[Period, str]:
    """The month a command works on when the clerk names none, and why (one Vietnamese phrase).

    The month before `today` when a campaign covers it (the month whose reports are coming in); else the
    last month of the campaign that ends last.
    """
    current = Period.of(today)
    last_month = current.previous()
    if any(c.contains(last_month) for c in config.campaigns):
        return last_month, f"tháng trước của tháng hiện tại ({current.label})"
    if not config.campaigns:
        raise UserError("config.toml chưa có đợt thi đua nào ([[campaigns]]) nên không chọn được kỳ báo cáo.")
    latest = max(config.campaigns, key=lambda c: c.end)
    where = "đã kết thúc" if latest.end < today else "chưa kết thúc"
    return latest.periods[-1], (
        f"tháng cuối của đợt thi đua “{latest.name}” ({where}; tháng trước {last_month.label} không thuộc "
        "đợt thi đua nào trong config.toml)"
    )


def announce_default(period: Period, reason: str) -> str:
    """The first line of a command run without --period."""
    return f"Kỳ báo cáo {period.label}: {reason}. Chọn kỳ khác bằng --period, ví dụ --period {period}."
