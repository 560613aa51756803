"""Vietnamese text: the one place that normalises, folds, sorts and formats.

Nothing else in the package formats a number or sorts a name.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass
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


# What XML (so .xlsx, .docx) cannot hold: C0 controls but tab and line breaks, U+FFFE, U+FFFF.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SURROGATES = re.compile("[\ud800-\udfff]")


def xml_safe(text: str) -> str:
    """Text every output can hold: XML-illegal characters dropped (a unit's cell may hold them as
    _x0001_ escapes), lone surrogates (a Linux file name that is not UTF-8) shown as U+FFFD."""
    if text.isprintable():
        return text
    return _SURROGATES.sub("\ufffd", _XML_ILLEGAL.sub("", text))


# What must never reach a single line of text (a mail header, a file name): control characters, which
# include CR, LF and U+0085; the Unicode line and paragraph separators; the bidirectional controls that
# make "xcod.exe" look like "exe.docx"; lone surrogates (shown as U+FFFD).
_NOT_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")


def one_line(text: str) -> str:
    """`text` as one line: anything that breaks or disguises a line becomes a space; NFC; trimmed."""
    if not text.isprintable():
        text = _SURROGATES.sub("\ufffd", _NOT_ONE_LINE.sub(" ", text))
    return _SPACES.sub(" ", nfc(text)).strip()


def clean(text: object) -> str:
    """NFC, with runs of white space (including non-breaking) folded to one space and trimmed."""
    if text is None:
        return ""
    if (
        type(text) is str
        and text.isprintable()  # so its only white space is " " (others are not printable)
        and "  " not in text
        and text[:1] != " "
        and text[-1:] != " "
        and (text.isascii() or unicodedata.is_normalized("NFC", text))
    ):
        return text  # already clean: the usual case (a name, a label), without a regex pass
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


@functools.lru_cache(maxsize=65536)  # names repeat month after month: fold each word once
def _fold_word(word: str) -> str:
    """A word without its tone mark, plus the tone as a digit: 'Hoà' and 'Hòa' both give 'hoa1'."""
    letters = _letters(word)
    tone = max((t for _, t in letters), default=0)
    return "".join(base for base, _ in letters) + (str(tone) if tone else "")


def fold(text: str) -> str:
    """Key that matches spellings of the same text: case, spaces, NFC/NFD and tone placement folded."""
    return " ".join([_fold_word(w) for w in clean(text).split(" ") if w])


def person_key(name: str, birth_date: dt.date | None) -> str:
    """Identity of a person across months and files: folded name plus birth date.

    The one definition of "the same person": duplicates within a file, a person in two units and the
    campaign-to-date histories all use it. Called for every staff row, so a name is folded once.
    """
    return f"{_folded_name(name)}|{birth_date.isoformat() if birth_date else ''}"


_folded_name = functools.lru_cache(maxsize=1 << 17)(fold)  # a province's names, month after month


@functools.lru_cache(maxsize=65536)  # the same names are sorted in several lists of a run
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


# The day of a draft's date, left for the văn thư to write when the document is issued (six no-break spaces).
BLANK_DAY = "\u00a0" * 6


def date_in_words(day: dt.date, *, blank_day: bool = False) -> str:
    """'ngày 05 tháng 02 năm 2024': days below 10 and months 1 and 2 take a leading zero (ND 30/2020).

    `blank_day`: 'ngày       tháng 12 năm 2026', the day left (non-breaking spaces) for the văn thư to write.
    """
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return f"ngày {BLANK_DAY if blank_day else f'{day.day:02d}'} tháng {month} năm {day.year}"


def format_date(day: dt.date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def slug(text: str) -> str:
    """ASCII file-name part: 'Phòng Tổng hợp' -> 'phong-tong-hop'."""
    ascii_text = unicodedata.normalize("NFD", clean(text).replace("đ", "d").replace("Đ", "D"))
    ascii_text = "".join(c for c in ascii_text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


# A file name made from text a unit chose (an attachment's name) is cut to this many bytes of UTF-8:
# ext4 and APFS take 255 bytes a name and the atomic writer's temporary name adds about 21 (NTFS counts
# 255 UTF-16 units, never more than the UTF-8 bytes). It also keeps the path under Windows' 260
# characters: the longest is `<out root>\\.staging-<period>-<pid>-<ns>\\phan-hoi\\.<name>.<8>.tmp-thidua`,
# 72 characters besides the name and the output folder, so an output folder of up to 85 characters.
MAX_FILE_NAME_BYTES = 100
_FILE_NAME_BAD = re.compile(r'[<>:"/\\|?*]+')
_WINDOWS_DEVICES = {"con", "prn", "aux", "nul", *(f"{port}{i}" for port in ("com", "lpt") for i in range(10))}


def safe_file_name(stem: str, suffix: str = "", max_bytes: int = MAX_FILE_NAME_BYTES) -> str:
    """`stem` + `suffix` as a file name every system takes: one line, none of the characters Windows
    refuses, no leading or trailing dot or space, not a Windows device name, at most `max_bytes` of UTF-8
    (the stem is cut, at a character, never the suffix). An empty stem becomes "tep"."""
    stem = _FILE_NAME_BAD.sub("-", one_line(stem))
    room = max_bytes - len(suffix.encode("utf-8"))
    stem = stem.encode("utf-8")[: max(room, 1)].decode("utf-8", "ignore")
    while stem and (unicodedata.combining(stem[-1]) or stem[-1] in "\u200d\ufe0e\ufe0f"):
        stem = stem[:-1]  # what is left of a letter or an emoji the cut went through
    stem = stem.strip(" .-") or "tep"
    if stem.split(".")[0].lower() in _WINDOWS_DEVICES:
        stem = f"{stem}_"
    return f"{stem}{suffix}"


# ================================================================================================
# Legacy encodings
#
# Before Unicode, Vietnamese was typed in 8-bit font encodings: TCVN3 (ABC, fonts ".VnTime",
# ".VnArial"...) and VNI (fonts "VNI-Times"...). In a modern workbook such text is stored as the
# Windows-1252 characters of those bytes ("NguyÔn V¨n A") and reads as garbage once the font is gone.
# Conversion is only safe when the result is real Vietnamese and the original is not: genuine Unicode
# text such as "Lê Hà" also consists of Latin-1 letters only.

# TCVN3 (TCVN 5712:1993, VN3): one byte per letter; capitals with tones come from the "H" fonts
# (".VnTimeH"), which draw the same codes as capitals.
_TCVN3_PAIRS = (
    "µà ¸á ¶ả ·ã ¹ạ ¨ă »ằ ¾ắ ¼ẳ ½ẵ Æặ ©â Çầ Êấ Èẩ Éẫ Ëậ ®đ Ìè Ðé Îẻ Ïẽ Ñẹ ªê Òề Õế Óể Ôễ Öệ "
    "×ì Ýí Øỉ Üĩ Þị ßò ãó áỏ âõ äọ «ô åồ èố æổ çỗ éộ ¬ơ êờ íớ ëở ìỡ îợ ïù óú ñủ òũ ôụ "
    "\u00adư õừ øứ öử ÷ữ ùự úỳ ýý ûỷ üỹ þỵ ¡Ă ¢Â §Đ £Ê ¤Ô ¥Ơ ¦Ư"
)
_TCVN3 = {pair[0]: pair[1] for pair in _TCVN3_PAIRS.split(" ")}

# VNI Windows: a base letter followed by a mark character. Marks differ for the circumflex and breve
# series; ơ, ư, đ and the i/ỵ forms are single characters.
_VNI_TONES = {"ø": "\u0300", "ù": "\u0301", "û": "\u0309", "õ": "\u0303", "ï": "\u0323"}
_VNI_HAT_TONES = {"à": "\u0300", "á": "\u0301", "å": "\u0309", "ã": "\u0303", "ä": "\u0323"}
_VNI_BREVE_TONES = {"è": "\u0300", "é": "\u0301", "ú": "\u0309", "ü": "\u0303", "ë": "\u0323"}
_VNI_SINGLE_LOWER = {"ô": "ơ", "ö": "ư", "ñ": "đ", "æ": "ỉ", "ó": "ĩ", "ò": "ị", "î": "ỵ"}


def _vni_table() -> dict[str, str]:
    table: dict[str, str] = {}

    def add(source: str, target: str) -> None:
        table[source] = target
        table[source.upper()] = target.upper()

    for base in "aeouy":
        for mark, tone in _VNI_TONES.items():
            add(base + mark, nfc(base + tone))
    for base in "aeo":
        add(base + "â", nfc(base + "\u0302"))
        for mark, tone in _VNI_HAT_TONES.items():
            add(base + mark, nfc(base + "\u0302" + tone))
    add("aê", "ă")
    for mark, tone in _VNI_BREVE_TONES.items():
        add("a" + mark, nfc("a\u0306" + tone))
    for base, letter in (("ô", "ơ"), ("ö", "ư")):
        for mark, tone in _VNI_TONES.items():
            add(base + mark, nfc(letter + tone))
    for single, letter in _VNI_SINGLE_LOWER.items():
        add(single, letter)
    return table


_VNI = _vni_table()

LEGACY_ENCODING_NAMES = {"tcvn3": "TCVN3 (ABC)", "vni": "VNI"}

# A Vietnamese syllable: initial consonant, vowel nucleus, final consonant; tones removed first.
_INITIALS = "ngh|ng|gh|gi|kh|nh|ph|th|tr|ch|qu|b|c|d|đ|g|h|k|l|m|n|p|r|s|t|v|x"
_NUCLEI = (  # longest first, so that the alternation tries "uyê" before "u"
    "iêu|oai|oao|oay|oeo|uây|uôi|uya|uyê|uyu|ươi|ươu|yêu|"
    "ai|ao|au|ay|âu|ây|eo|êu|ia|iê|iu|oa|oă|oe|oi|oo|ôi|ơi|ua|uâ|uê|ui|uô|uơ|uy|ưa|ưi|ươ|ưu|yê|"
    "a|ă|â|e|ê|i|o|ô|ơ|u|ư|y"
)
_FINALS = "ch|nh|ng|c|m|n|p|t"
_SYLLABLE = re.compile(f"(?:{_INITIALS})?(?:{_NUCLEI})(?:{_FINALS})?")
_WORD = re.compile(r"[^\W\d_]+")


def _toneless(word: str) -> str:
    return nfc("".join(c for c in unicodedata.normalize("NFD", word.lower()) if c not in _TONES))


def vietnamese_share(text: str) -> float:
    """Share of the words of `text` that are well-formed Vietnamese syllables (0.0 with no words)."""
    words = _WORD.findall(nfc(text))
    if not words:
        return 0.0
    return sum(1 for w in words if _SYLLABLE.fullmatch(_toneless(w))) / len(words)


def is_vietnamese(text: str, threshold: float = 0.8) -> bool:
    """Whether `text` reads as Vietnamese (abbreviations such as UBND are tolerated up to 20%)."""
    return vietnamese_share(text) >= threshold


def legacy_font_encoding(font_name: str | None) -> str | None:
    """'.VnTime' / '.VnArialH' -> 'tcvn3'; 'VNI-Times' -> 'vni'; a Unicode font -> None."""
    name = (font_name or "").strip().lower()
    if name.startswith(".vn"):
        return "tcvn3"
    if name.startswith(("vni-", "vni ")):
        return "vni"
    return None


def decode_legacy(text: str, encoding: str, capitals: bool = False) -> str:
    """Text typed in a legacy font encoding, as Unicode NFC. `capitals`: the font draws capitals."""
    if encoding == "tcvn3":
        out = "".join(_TCVN3.get(c, c) for c in text)
    elif encoding == "vni":
        parts, i = [], 0
        while i < len(text):
            pair = _VNI.get(text[i : i + 2])
            if pair is not None:
                parts.append(pair)
                i += 2
            else:
                parts.append(_VNI.get(text[i], text[i]))
                i += 1
        out = "".join(parts)
    else:
        raise ValueError(f"unknown legacy encoding {encoding!r}")
    return nfc(out.upper() if capitals else out)


@dataclass(frozen=True)
class LegacyText:
    """What `detect_legacy` found: the encoding, the Unicode text, and whether converting is safe."""

    encoding: str  # "tcvn3" | "vni"
    text: str  # the converted text
    certain: bool  # the cell's font names this encoding, so the conversion can be applied


@functools.lru_cache(maxsize=65536)  # positions, notes and names come back in file after file
def detect_legacy(text: str, font_name: str | None = None) -> LegacyText | None:
    """Recognise text typed in TCVN3 or VNI. None when the text is (or may well be) plain Unicode.

    Certain: the cell's font is a legacy font of that encoding and the text only reads as
    Vietnamese once converted. Without the font hint the finding is a guess, to be confirmed by a
    person.
    """
    if text.isascii() or max(text) > "\u00ff":
        return None  # plain ASCII has nothing to convert; letters beyond Latin-1 are Unicode Vietnamese
    hinted = legacy_font_encoding(font_name)
    capitals = hinted is not None and (font_name or "").strip().upper().endswith("H")
    before = vietnamese_share(text)
    if before >= 0.8:
        return None
    best: LegacyText | None = None
    best_share = before
    for encoding in [hinted] if hinted else ["tcvn3", "vni"]:
        converted = decode_legacy(text, encoding, capitals=capitals and encoding == hinted)
        share = vietnamese_share(converted)
        if converted != text and share >= 0.8 and share > best_share:
            best, best_share = LegacyText(encoding, converted, certain=encoding == hinted), share
    return best
