"""A TOML syntax error in config.toml, said the way a clerk editing it in Notepad can act on it.

tomllib reports "Illegal character '\\n' (at line 12, column 18)". The clerk gets the line number, the
line itself with a caret under the column, and what is most likely wrong there in Vietnamese ("thiếu dấu
nháy đóng", "chữ phải đặt trong dấu nháy", "khóa này đã khai báo ở dòng 5"). The hint is chosen from
tomllib's message and the text around the error; tests/test_cli_words.py fails when tomllib's source has a
message no rule below recognises.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass

# "Invalid value (at line 2, column 8)" / "... (at end of document)"; Python 3.14 also sets attributes.
_WHERE = re.compile(r"^(?P<msg>.*) \(at (?:line (?P<line>\d+), column (?P<col>\d+)|end of document)\)$", re.S)
_BARE_KEY = r"[A-Za-z0-9_-]+"
_KEY_LINE = re.compile(rf"\s*(?P<key>{_BARE_KEY}|\"[^\"]*\"|'[^']*')\s*=(?P<value>.*)$")
_HEADER = re.compile(r"\s*\[(?P<double>\[)?\s*(?P<name>[^\]]*?)\s*\]")
_DATE_LIKE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")


@dataclass
class _Place:
    """Where the error is: the text as tomllib reads it, its lines, a line and column (1-based)."""

    src: str
    lines: list[str]
    line: int
    col: int

    @property
    def text(self) -> str:
        return self.lines[self.line - 1] if 0 < self.line <= len(self.lines) else ""

    @property
    def before(self) -> str:
        return self.text[: self.col - 1]

    @property
    def after(self) -> str:
        return self.text[self.col - 1 :]


def describe(exc: tomllib.TOMLDecodeError, text: str, where: str) -> str:
    """The Vietnamese message for a syntax error tomllib found in `text` (the content of file `where`)."""
    src = text.replace("\r\n", "\n")  # as tomllib reads it, so its positions fall on the same characters
    lines = src.split("\n")
    message, line, col = _parse(exc, src)
    place = _Place(src, lines, line, col)
    hint, moved = _hint(message, place)
    if moved is not None:
        place = moved
    # One character per column, so the caret stays under it: a tab or a hidden control character (the
    # error itself, often) shows as one visible mark.
    shown = "".join(" " if ch == "\t" else ch if ch.isprintable() else "�" for ch in place.text)
    number = str(place.line)
    gutter = " " * len(number)
    caret = " " * min(place.col - 1, len(shown)) + "^"
    return (
        f"Tệp cấu hình {where} sai cú pháp ở dòng {place.line}, cột {place.col}: {hint}\n"
        f"  {number} | {shown}\n"
        f"  {gutter} | {caret}"
    )


def _parse(exc: tomllib.TOMLDecodeError, src: str) -> tuple[str, int, int]:
    match = _WHERE.match(str(exc))
    message = getattr(exc, "msg", None) or (match["msg"] if match else str(exc))
    if match and match["line"]:
        return message, int(match["line"]), int(match["col"])
    # At the end of the document: point just after its last character.
    lines = src.split("\n")
    while len(lines) > 1 and not lines[-1]:
        lines.pop()
    return message, len(lines), len(lines[-1]) + 1


# -- the hints -----------------------------------------------------------------------------------

_QUOTE_TIP = (
    "Nếu chữ có dấu nháy kép bên trong, đặt cả chuỗi trong dấu nháy đơn ('Sở \"Tư pháp\"') hoặc dùng dấu “ ”."
)
_NUMBER_TIP = (
    "số viết không đúng: chỉ gồm chữ số (chữ O không thay được số 0), số thập phân dùng dấu chấm (97.5); "
    "chữ thì phải đặt trong dấu nháy kép."
)
_BACKSLASH_TIP = (
    'Trong dấu nháy kép, dấu \\ phải viết hai lần ("D:\\\\ThiDua"); đường dẫn Windows nên đặt trong dấu '
    "nháy đơn ('D:\\ThiDua') hoặc dùng dấu /."
)


def _unquoted_text(place: _Place, message: str) -> str:
    match = _KEY_LINE.match(place.text)
    value = place.after.split(" #")[0].strip()
    if not value:
        return "thiếu giá trị sau dấu “=”."
    if value in ("True", "False", "TRUE", "FALSE", "đúng", "sai"):
        return "giá trị đúng/sai viết bằng chữ thường: true hoặc false."
    if _KEY_LINE.match(place.after):
        return "dòng trên còn một danh sách [ … ] hoặc bảng { … } chưa đóng: thiếu dấu “]” hoặc “}”."
    if value[0].isdigit() or value[0] in "+-.":
        return _NUMBER_TIP
    fix = f' Sửa thành: {match["key"]} = "{value}"' if match and '"' not in value else ""
    return f"chữ phải đặt trong dấu nháy kép.{fix}"


def _after_statement(place: _Place, message: str) -> str:
    rest = place.after.lstrip()
    match = _KEY_LINE.match(place.text)
    value = match["value"].strip() if match else ""
    if rest.startswith("%"):
        return "chỉ ghi số, không ghi dấu %."
    if rest.startswith(",") and value[:1].isdigit():
        return "số thập phân dùng dấu chấm, không dùng dấu phẩy (ví dụ 97.5)."
    if _DATE_LIKE.match(value):
        return "ngày không đúng: ghi theo dạng YYYY-MM-DD với tháng từ 01 đến 12, ví dụ 2024-06-30."
    if value[:1].isdigit():
        return _NUMBER_TIP
    if value.startswith(('"', "'")):
        return f"sau dấu nháy đóng chuỗi chỉ được có chú thích (bắt đầu bằng #). {_QUOTE_TIP}"
    return "mỗi dòng chỉ ghi một khóa = giá trị; phần còn lại của dòng phải là chú thích (bắt đầu bằng #)."


def _expected_equals(place: _Place, message: str) -> str:
    if not place.after.strip():
        return "thiếu dấu “=” và giá trị sau tên khóa."
    if "=" in place.after and not place.after.lstrip().startswith(('"', "'")):
        return (
            "tên khóa chỉ gồm chữ không dấu, chữ số, “_” và “-”, không có dấu cách; hoặc thiếu dấu “=” giữa "
            "khóa và giá trị."
        )
    return "thiếu dấu “=” giữa tên khóa và giá trị."


def _duplicate_key(place: _Place, message: str) -> tuple[str, _Place | None]:
    """Cannot overwrite a value: a key (or a table named like a key) written twice in one table."""
    if _HEADER.match(place.text):
        return (
            "tên bảng này trùng với một khóa đã khai báo trước đó trong bảng cha; đổi tên bảng hoặc bỏ khóa "
            "trùng.",
            None,
        )
    # tomllib points at the end of the value; the key starts on the last key line at or above it.
    start = place.line
    while start > 1 and not _KEY_LINE.match(place.lines[start - 1]):
        start -= 1
    match = _KEY_LINE.match(place.lines[start - 1])
    if not match:
        return "khóa này đã khai báo trước đó trong cùng bảng; mỗi khóa chỉ ghi một lần.", None
    key = match["key"].strip("\"'")
    at = _Place(place.src, place.lines, start, match.start("key") + 1)
    for number in range(start - 1, 0, -1):
        line = place.lines[number - 1]
        if _HEADER.match(line):
            break
        earlier = _KEY_LINE.match(line)
        if earlier and earlier["key"].strip("\"'") == key:
            return (
                f"khóa “{key}” đã khai báo ở dòng {number}; mỗi khóa chỉ ghi một lần trong một bảng, xóa "
                "một trong hai dòng.",
                at,
            )
    return f"khóa “{key}” đã khai báo trước đó trong cùng bảng; mỗi khóa chỉ ghi một lần.", at


def _duplicate_table(place: _Place, message: str) -> str:
    header = _HEADER.match(place.text)
    name = header["name"] if header else ""
    for number in range(1, place.line):
        earlier = _HEADER.match(place.lines[number - 1])
        if earlier and not earlier["double"] and earlier["name"] == name:
            return (
                f"bảng [{name}] đã khai báo ở dòng {number}; gộp các khóa vào một bảng (danh sách nhiều mục "
                "như đơn vị thì dùng hai dấu ngoặc: [[units]])."
            )
    return f"bảng [{name}] đã khai báo trước đó; mỗi bảng chỉ khai báo một lần."


def _unclosed_string_start(src: str) -> int | None:
    """Where the string that runs to the end of the document opens (tomllib reports only the end)."""
    pos, opened = 0, None
    while pos < len(src):
        ch = src[pos]
        if opened is None:
            if ch == "#":
                pos = src.find("\n", pos)
                if pos < 0:
                    return None
            elif ch in "\"'":
                delim = ch * 3 if src.startswith(ch * 3, pos) else ch
                opened = (pos, delim)
                pos += len(delim)
                continue
        else:
            start, delim = opened
            if ch == "\\" and delim[0] == '"':
                pos += 2
                continue
            if src.startswith(delim, pos):
                opened = None
                pos += len(delim)
                continue
            if ch == "\n" and len(delim) == 1:
                return start
        pos += 1
    return opened[0] if opened else None


def _unclosed_string(place: _Place, message: str) -> tuple[str, _Place | None]:
    src = place.src
    start = _unclosed_string_start(src)
    hint = "thiếu dấu nháy đóng: chuỗi chữ mở bằng dấu nháy ở đây chưa được đóng đến hết tệp."
    if start is None:
        return hint, None
    line = src.count("\n", 0, start) + 1
    col = start - (src.rfind("\n", 0, start) + 1) + 1
    return hint, _Place(src, place.lines, line, col)


def _illegal_character(place: _Place, message: str) -> str | tuple[str, _Place | None]:
    if message.endswith(("'\\n'", "'\\r'")) or not place.after:
        # tomllib stops at the end of the line, after any comment the string swallowed: the caret goes
        # under the quote that opened it.
        start = _unclosed_string_start(place.text + "\n")
        moved = None if start is None else _Place(place.src, place.lines, place.line, start + 1)
        return (
            "thiếu dấu nháy đóng: chuỗi chữ mở bằng dấu nháy ở đây phải đóng trên cùng dòng (trước dấu # "
            "của chú thích, nếu có).",
            moved,
        )
    return (
        "có ký tự điều khiển (tab, ký tự ẩn chép từ Word hay trang web) không được phép ở đây; xóa rồi gõ "
        "lại đoạn này."
    )


# A hint that depends on the text around the error; it may move the place shown (tomllib points at the
# end of a value written twice, or at the end of the file for a string never closed).
Rule = Callable[[_Place, str], "str | tuple[str, _Place | None]"]

# tomllib's messages (a prefix; the rest names a key or a character) and the hint, or rule, for each.
RULES: list[tuple[str, str | Rule]] = [
    ("Invalid value", _unquoted_text),
    ("Illegal character", _illegal_character),
    ("Found invalid character", _illegal_character),
    ("Unterminated string", _unclosed_string),
    ("Expected newline or end of document after a statement", _after_statement),
    ("Expected '=' after a key in a key/value pair", _expected_equals),
    ("Cannot overwrite a value", _duplicate_key),
    ("Cannot declare", _duplicate_table),
    (
        "Duplicate inline table key",
        "khóa này ghi hai lần trong cùng một bảng { … }; mỗi khóa chỉ ghi một lần.",
    ),
    (
        "Cannot redefine namespace",
        "khóa có dấu chấm này trùng tên với một bảng [ … ] đã khai báo; đổi tên khóa.",
    ),
    (
        "Cannot mutate immutable namespace",
        "bảng hay danh sách này đã ghi trọn trên một dòng ({ … } hoặc [ … ]) ở trên, không "
        "thêm khóa vào nó được nữa; ghi mọi khóa của nó ở một chỗ.",
    ),
    (
        "Unclosed array",
        "danh sách [ … ] thiếu dấu phẩy giữa hai phần tử, hoặc thiếu dấu “]” đóng danh sách.",
    ),
    (
        "Unclosed inline table",
        "bảng { … } thiếu dấu phẩy giữa hai khóa, hoặc thiếu dấu “}” đóng bảng.",
    ),
    (
        "Expected ']' at the end of a table declaration",
        "tên bảng thiếu dấu “]” đóng, ví dụ [office]; tên bảng chỉ gồm chữ không dấu, số, "
        "“_”, “-” và dấu chấm.",
    ),
    (
        "Expected ']]' at the end of an array declaration",
        "tên danh sách bảng thiếu “]]” đóng, ví dụ [[units]].",
    ),
    (
        "Invalid statement",
        "dòng này không phải khóa = giá trị, tên bảng [ … ] hay chú thích bắt đầu bằng #.",
    ),
    (
        "Invalid initial character for a key part",
        "tên khóa chỉ gồm chữ không dấu, chữ số, “_” và “-” (tên có ký tự khác phải đặt trong dấu nháy kép).",
    ),
    ("Unescaped '\\' in a string", f"dấu \\ không đúng cách. {_BACKSLASH_TIP}"),
    ("Invalid hex value", f"sau \\u hay \\U phải là mã ký tự hệ 16. {_BACKSLASH_TIP}"),
    (
        "Escaped character is not a Unicode scalar value",
        f"mã ký tự sau \\u hay \\U không có thật. {_BACKSLASH_TIP}",
    ),
    (
        "Invalid date or datetime",
        "ngày không có thật: ghi theo dạng YYYY-MM-DD, ví dụ 2024-06-30.",
    ),
    # Last, after the other "Expected …": f"Expected {quote!r}", a '…' or '''…''' string never closed.
    ("Expected ", _unclosed_string),
]

_FALLBACK = "kiểm tra dấu nháy, dấu “=”, dấu ngoặc [ ] { } và dấu phẩy trên dòng này và dòng trên."


def rule_for(message: str) -> str | Rule | None:
    """The hint or rule for a tomllib message, or None when it is one this module does not know yet."""
    return next((rule for prefix, rule in RULES if message.startswith(prefix)), None)


def _hint(message: str, place: _Place) -> tuple[str, _Place | None]:
    rule = rule_for(message)
    if rule is None:
        return _FALLBACK, None
    result = rule if isinstance(rule, str) else rule(place, message)
    return result if isinstance(result, tuple) else (result, None)
