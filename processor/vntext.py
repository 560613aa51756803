"""Vietnamese text: the one place that normalises, folds, sorts and formats.

Nothing else in the package formats a number or sorts a name.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

# Tone marks in NFD and their rank as a secondary collation difference (CLDR "vi"):
# none < huyền < hỏi < ngã < sắc < nặng.
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
_MODIFIERS = {"\u0306", "\u0302", "\u031b"}  # breve, circumflex, horn: part of the letter
_ALPHABET = [
    "a", "ă", "â", "b", "c", "d", "đ", "e", "ê", "f", "g", "h", "i", "j", "k", "l", "m", "n",
    "o", "ô", "ơ", "p", "q", "r", "s", "t", "u", "ư", "v", "w", "x", "y", "z",
]  # fmt: skip
_LETTER_RANK = {letter: rank for rank, letter in enumerate(_ALPHABET)}
_SPACES = re.compile(r"\s+")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def clean(text: object) -> str:
    """NFC, with runs of white space (including non-breaking) folded to one space and trimmed."""
    if text is None:
        return ""
    return _SPACES.sub(" ", nfc(str(text)).replace("\u00a0", " ")).strip()


def _letters(word: str) -> list[tuple[str, int]]:
    """Split a word into (base letter with its modifiers, tone rank) pairs."""
    out: list[tuple[str, int]] = []
    for char in unicodedata.normalize("NFD", word.lower()):
        if char in _TONES:
            if out:
                out[-1] = (out[-1][0], _TONES[char])
        elif char in _MODIFIERS:
            if out:
                out[-1] = (nfc(out[-1][0] + char), out[-1][1])
        else:
            out.append((char, 0))
    return out


def _fold_word(word: str) -> str:
    """A word without its tone mark, plus the tone as a digit: 'Hoà' and 'Hòa' both give 'hoa1'."""
    letters = _letters(word)
    tone = max((t for _, t in letters), default=0)
    return "".join(base for base, _ in letters) + (str(tone) if tone else "")


def fold(text: str) -> str:
    """Key that matches spellings of the same text: case, spaces, NFC/NFD and tone placement folded."""
    return " ".join(_fold_word(w) for w in clean(text).split(" ") if w)


def person_key(name: str, birth_date: dt.date | None) -> str:
    """Identity of a person across months and files: folded name plus birth date."""
    return f"{fold(name)}|{birth_date.isoformat() if birth_date else ''}"


def _collation_key(text: str) -> tuple:
    letters = [pair for w in clean(text).split(" ") for pair in [*_letters(w), (" ", 0)]]
    primary = tuple(-1 if base == " " else _LETTER_RANK.get(base, 100 + ord(base[0])) for base, _ in letters)
    secondary = tuple(tone for _, tone in letters)
    return primary, secondary, clean(text)


def sort_key(text: str) -> tuple:
    """Vietnamese alphabetical order: a < ă < â, d < đ...; tones are a secondary difference."""
    return _collation_key(text)


def given_name_sort_key(full_name: str) -> tuple:
    """Order people the Vietnamese way: by given name (last word), then the rest of the name."""
    words = clean(full_name).split(" ")
    return _collation_key(words[-1]), _collation_key(" ".join(words[:-1]))


def format_int(value: int) -> str:
    """1500000 -> '1.500.000'."""
    sign = "-" if value < 0 else ""
    return sign + f"{abs(int(value)):,}".replace(",", ".")


def format_money(value: int) -> str:
    return f"{format_int(value)} đồng"


def format_decimal(value: Fraction | float | int, places: int = 1) -> str:
    """Exact rounding half up, decimal comma: Fraction(39, 40) * 100 -> '97,5'."""
    number = Fraction(value)
    exact = Decimal(number.numerator) / Decimal(number.denominator)
    rounded = exact.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    whole, _, decimals = f"{abs(rounded):f}".partition(".")
    text = sign + format_int(int(whole))
    return f"{text},{decimals}" if decimals else text


def format_percent(share: Fraction | None, places: int = 1) -> str:
    """Fraction(39, 40) -> '97,5%'; None (no denominator) -> '—'."""
    if share is None:
        return "—"
    return f"{format_decimal(share * 100, places)}%"


def two_digits(number: int) -> str:
    return f"{number:02d}"


def date_in_words(day: dt.date) -> str:
    """'ngày 05 tháng 02 năm 2024': days below 10 and months 1 and 2 take a leading zero (ND 30/2020)."""
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def format_date(day: dt.date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def slug(text: str) -> str:
    """ASCII file-name part: 'Phòng Tổng hợp' -> 'phong-tong-hop'."""
    ascii_text = unicodedata.normalize("NFD", clean(text).replace("đ", "d").replace("Đ", "D"))
    ascii_text = "".join(c for c in ascii_text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
