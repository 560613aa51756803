"""click's own words in Vietnamese, and the pieces of the command line that are made of words.

click wraps every message it prints ("Usage:", "Error: No such option…", "Show this message and exit.")
in gettext, but reads the stdlib's global catalogue, which follows the LANGUAGE/LANG environment: a
Vietnamese catalogue could only be switched on there by changing the environment of the whole process and
of every program it starts (LibreOffice). Instead `install()` points the `_` and `ngettext` that each click
module imported at the catalogue below: one place, done once, before the commands are declared (click
translates some words, such as the help of --version, when a decorator runs).

tests/test_cli_words.py reads click's installed source and fails when a msgid appears there that is
neither translated here nor listed in DEVELOPER_ONLY, or when one here is gone: a click upgrade that
rewords a message is seen, not shipped in English.
"""

from __future__ import annotations

import gettext
import importlib
import sys

import click

# msgid (exactly as in click's source) -> Vietnamese. click formats most of them afterwards with named
# fields; a translation uses only fields of its msgid. `{name!r}` becomes “{name}”: the clerk reads
# Vietnamese quotes everywhere else.
WORDS = {
    # Help pages.
    "Usage:": "Cách dùng:",
    "Options": "Tùy chọn",
    "Commands": "Lệnh",
    "Positional arguments": "Tham số",
    "Show this message and exit.": "Hiện hướng dẫn này rồi thoát.",
    "Show the version and exit.": "Hiện số phiên bản rồi thoát.",
    "%(prog)s, version %(version)s": "%(prog)s, phiên bản %(version)s",
    "default: {default}": "mặc định: {default}",
    "env var: {var}": "biến môi trường: {var}",
    "required": "bắt buộc",  # not a literal _() call: core.py does _(extra["required"])
    "(dynamic)": "(tính lúc chạy)",
    "deprecated": "không còn dùng",
    "Choose from:\n\t{choices}": "Chọn một trong:\n\t{choices}",
    # Names of path types: the metavar of a path option (upper-cased) and the start of its errors.
    "file": "tệp",
    "directory": "thư-mục",
    "path": "đường-dẫn",
    # Errors.
    "Error: {message}": "Lỗi: {message}",
    "Try '{command} {option}' for help.": "Gõ “{command} {option}” để xem hướng dẫn.",
    "No such option {name!r}.": "Không có tùy chọn “{name}”.",
    "No such command {name!r}.": "Không có lệnh “{name}”.",
    "Missing command.": "Thiếu tên lệnh.",
    "Missing argument": "Thiếu tham số",
    "Missing option": "Thiếu tùy chọn",
    "Missing parameter": "Thiếu tham số",
    "Missing parameter: {param_name}": "Thiếu tham số: {param_name}",
    "Missing {param_type}": "Thiếu {param_type}",
    "Invalid value for {param_hint}: {message}": "Giá trị không hợp lệ cho {param_hint}: {message}",
    "Invalid value: {message}": "Giá trị không hợp lệ: {message}",
    "Option {name!r} does not take a value.": "Tùy chọn “{name}” không nhận giá trị.",
    "Argument {name!r} takes {nargs} values.": "Tham số “{name}” cần {nargs} giá trị.",
    "Value must be an iterable.": "Giá trị phải là một danh sách.",
    "Could not open file {filename!r}: {message}": "Không mở được tệp “{filename}”: {message}",
    "unknown error": "lỗi không xác định",
    "Aborted!": "Đã dừng.",
    "{name} {filename!r} does not exist.": "Không có “{filename}”.",
    "{name} {filename!r} is a file.": "“{filename}” là một tệp, không phải thư mục.",
    "{name} {filename!r} is a directory.": "“{filename}” là một thư mục, không phải tệp.",
    "{name} {filename!r} is not readable.": "Không có quyền đọc “{filename}”.",
    "{name} {filename!r} is not writable.": "Không có quyền ghi vào “{filename}”.",
    "{name} {filename!r} is not executable.": "Không có quyền chạy “{filename}”.",
    "{value} is not in the range {range}.": "{value} nằm ngoài khoảng {range}.",
    "{value!r} is not a valid boolean. Recognized values: {states}": (
        "“{value}” không phải giá trị đúng/sai. Các giá trị nhận được: {states}"
    ),
    "{value!r} is not a valid {number_type}.": "“{value}” không phải một số hợp lệ.",
    "{value!r} is not a valid UUID.": "“{value}” không phải mã UUID hợp lệ.",
    "DeprecationWarning: The command {name!r} is deprecated.{extra_message}": (
        "Cảnh báo: lệnh “{name}” không còn được dùng.{extra_message}"
    ),
    "DeprecationWarning: The {param_type} {name!r} is deprecated.{extra_message}": (
        "Cảnh báo: “{name}” không còn được dùng.{extra_message}"
    ),
    # Prompts and the terminal.
    "Do you want to continue?": "Tiếp tục?",
    "Confirm the action without prompting.": "Xác nhận luôn, không hỏi lại.",
    "Repeat for confirmation": "Nhập lại để xác nhận",
    "Error: The two entered values do not match.": "Lỗi: hai giá trị đã nhập không khớp nhau.",
    "Error: invalid input": "Lỗi: giá trị nhập không hợp lệ",
    "Press any key to continue...": "Nhấn phím bất kỳ để tiếp tục...",
    "d": " ngày",  # days in a progress bar's time left: "1 ngày 02:03:04"
    "{editor}: Editing failed": "{editor}: sửa không thành công",
    "{editor}: Editing failed: {e}": "{editor}: sửa không thành công: {e}",
    "Windows error: {error}": "Lỗi Windows: {error}",
    "Couldn't detect Bash version, shell completion is not supported.": (
        "Không xác định được phiên bản Bash nên không gợi ý lệnh được."
    ),
    "Shell completion is not supported for Bash versions older than 4.4.": (
        "Không gợi ý lệnh được với Bash cũ hơn bản 4.4."
    ),
}

# (singular msgid, plural msgid) -> (singular, plural) in Vietnamese, which inflects neither.
PLURALS = {
    ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"): (
        "Thừa tham số: {args}. Trước giá trị của tùy chọn phải có tên tùy chọn (ví dụ --period 2024-02); "
        "tên tệp hay thư mục có dấu cách phải đặt trong dấu nháy kép.",
        "Thừa các tham số: {args}. Trước giá trị của tùy chọn phải có tên tùy chọn (ví dụ --period "
        "2024-02); tên tệp hay thư mục có dấu cách phải đặt trong dấu nháy kép.",
    ),
    ("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"): (
        "Có phải là {possibility}?",
        "(Có phải là một trong: {possibilities}?)",
    ),
    ("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."): (
        "Tùy chọn “{name}” cần một giá trị đi kèm.",
        "Tùy chọn “{name}” cần {nargs} giá trị đi kèm.",
    ),
    ("Takes {nargs} values but 1 was given.", "Takes {nargs} values but {len} were given."): (
        "Cần {nargs} giá trị nhưng chỉ có 1.",
        "Cần {nargs} giá trị nhưng có {len}.",
    ),
    ("{value!r} is not {choice}.", "{value!r} is not one of {choices}."): (
        "“{value}” không phải {choice}.",
        "“{value}” không thuộc các giá trị {choices}.",
    ),
    ("{value!r} does not match the format {format}.", "{value!r} does not match the formats {formats}."): (
        "“{value}” không đúng dạng {format}.",
        "“{value}” không đúng dạng nào trong {formats}.",
    ),
    (
        "{len_type} values are required, but {len_value} was given.",
        "{len_type} values are required, but {len_value} were given.",
    ): (
        "Cần {len_type} giá trị, nhưng có {len_value}.",
        "Cần {len_type} giá trị, nhưng có {len_value}.",
    ),
}

# Raised while the commands are declared or by a programming mistake (a TypeError or ValueError with a
# traceback, for the developer); the clerk never sees them, so they stay as click wrote them.
DEVELOPER_ONLY = frozenset(
    {
        "Could not determine name for option with declarations {decls!r}",
        "No options defined but a name was passed ({name}). Did you mean to declare an argument instead? "
        "Did you mean to pass '--{name}'?",
        "Arguments take exactly one parameter declaration, got {length}: {decls}.",
        "Name '{name}' defined twice",
        "Boolean option {decl!r} cannot use the same flag for true/false.",
        "Invalid start character for option ({option})",
        "Unknown color {colour!r}",
        "Unknown standard stream '{name}'",
        "Choice({choices})",  # a repr
    }
)

# click's modules that translate; the ones loaded on demand are imported now so they are covered too.
CLICK_MODULES = (
    "click.core",
    "click.decorators",
    "click.exceptions",
    "click.formatting",
    "click.parser",
    "click.termui",
    "click.types",
    "click.utils",
    "click._termui_impl",
    "click.shell_completion",
    *(("click._winconsole",) if sys.platform == "win32" else ()),
)


class Catalogue(gettext.NullTranslations):
    """The Vietnamese words above; a msgid not there (a new click message) passes through unchanged."""

    def gettext(self, message: str) -> str:
        return WORDS.get(message, message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        pair = PLURALS.get((msgid1, msgid2))
        if pair is None:
            return msgid1 if n == 1 else msgid2
        return pair[0] if n == 1 else pair[1]


CATALOGUE = Catalogue()


def install() -> None:
    """Make click speak Vietnamese in this process. Idempotent."""
    for name in CLICK_MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "_"):
            module._ = CATALOGUE.gettext
        if hasattr(module, "ngettext"):
            module.ngettext = CATALOGUE.ngettext


class Command(click.Command):
    """A command whose usage line and command-list entry are Vietnamese and never cut mid-phrase."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("options_metavar", "[TÙY-CHỌN]")
        super().__init__(*args, **kwargs)

    def get_short_help_str(self, limit: int = 45) -> str:
        # click cuts the first sentence to the width left on the line and adds "...": the command
        # list would show half a sentence. The whole first sentence is kept and wraps instead.
        return super().get_short_help_str(limit=10_000)


class Group(click.Group):
    """The `thidua` group: its commands are `Command`s; its usage line is Vietnamese."""

    command_class = Command

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("options_metavar", "[TÙY-CHỌN]")
        kwargs.setdefault("subcommand_metavar", "LỆNH [THAM-SỐ]...")
        super().__init__(*args, **kwargs)


class PeriodParam(click.ParamType):
    """--period: any form `periods.parse_period_text` reads, handed on as 2024-02."""

    name = "tháng"

    def convert(self, value, param, ctx):
        from processor.periods import parse_period_text

        # A UserError, not self.fail(): the group prints it as the one line "Lỗi: Kỳ báo cáo … không hợp
        # lệ. Ghi tháng theo một trong các dạng: …", without click's usage lines around it.
        return str(parse_period_text(value))
