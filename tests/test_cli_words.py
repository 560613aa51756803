"""Every word the clerk reads from the command line is Vietnamese: click's own, config syntax errors, the
period, a missing file or workspace (issue 13, "Every word in Vietnamese")."""

from __future__ import annotations

import ast
import datetime as dt
import importlib
import pkgutil
import re
import string
import tomllib
import unicodedata
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from processor import cli_words, toml_errors
from processor.cli import cli
from processor.records import Period
from tests.test_cli import thidua

ACCEPTED = "Ghi tháng theo một trong các dạng: 2024-02, 02/2024, 2/2024 hoặc “tháng 2/2024”."
ENGLISH = ("Usage", "Options", "Commands", "Error", "Show this", "Missing", "No such", "Invalid", "Got ")


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), prog_name="thidua")


@pytest.fixture
def workspace(tmp_path, monkeypatch) -> Path:
    """A fresh `thidua init` workspace as the current folder."""
    assert invoke("init", str(tmp_path)).exit_code == 0
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- click's own words ---------------------------------------------------------------------------


def _click_msgids() -> tuple[set[str], set[tuple[str, str]]]:
    """Every message click's installed source passes to gettext: _("…") and ngettext("…", "…", n)."""
    singles: set[str] = set()
    plurals: set[tuple[str, str]] = set()
    for path in sorted(Path(click.__file__).parent.glob("*.py")):
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            texts = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if node.func.id == "_" and texts:
                singles.add(texts[0])
            elif node.func.id == "ngettext" and len(texts) == 2:
                plurals.add((texts[0], texts[1]))
        if path.name == "core.py":
            # Translated by variable: _(extra["required"]) where extra["required"] = "required".
            assert 'extra["required"] = "required"' in source and '_(extra["required"])' in source
            singles.add("required")
    return singles, plurals


def _fields(text: str) -> set[str]:
    if "%(" in text:
        return set(re.findall(r"%\((\w+)\)s", text))
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_click_message_is_translated_or_known_to_be_for_developers():
    """A click upgrade that adds or rewords a message fails here instead of printing English."""
    singles, plurals = _click_msgids()
    assert singles == set(cli_words.WORDS) | cli_words.DEVELOPER_ONLY, (
        f"new in click: {sorted(singles - set(cli_words.WORDS) - cli_words.DEVELOPER_ONLY)}; "
        f"gone from click: {sorted((set(cli_words.WORDS) | cli_words.DEVELOPER_ONLY) - singles)}"
    )
    assert plurals == set(cli_words.PLURALS)
    for msgid, text in cli_words.WORDS.items():
        assert _fields(text) <= _fields(msgid), msgid  # click formats with the msgid's fields only
        assert unicodedata.is_normalized("NFC", text)
    for (one, many), texts in cli_words.PLURALS.items():
        for text in texts:
            assert _fields(text) <= _fields(one) | _fields(many), one
            assert unicodedata.is_normalized("NFC", text)


def test_every_click_module_that_translates_uses_the_catalogue():
    for info in pkgutil.iter_modules(click.__path__, "click."):
        if info.name == "click._winconsole" and info.name not in cli_words.CLICK_MODULES:
            continue  # Windows only; listed there on Windows
        module = importlib.import_module(info.name)
        if callable(getattr(module, "_", None)):
            assert module._ == cli_words.CATALOGUE.gettext, info.name
        if callable(getattr(module, "ngettext", None)):
            assert module.ngettext == cli_words.CATALOGUE.ngettext, info.name


def test_help_is_vietnamese_with_whole_sentences_in_the_command_list():
    result = invoke("--help")
    assert result.exit_code == 0
    out = result.output
    assert out.startswith("Cách dùng: thidua [TÙY-CHỌN] LỆNH [THAM-SỐ]...")
    assert "\nTùy chọn:\n" in out and "\nLệnh:\n" in out
    assert "Hiện hướng dẫn này rồi thoát." in out and "Hiện số phiên bản rồi thoát." in out
    assert not any(word in out for word in ENGLISH), out
    commands = " ".join(out.split("\nLệnh:\n")[1].split())  # the list, its wrapped lines joined again
    assert "..." not in commands and "…" not in commands
    for name, command in cli.commands.items():
        first_sentence = " ".join(command.help.split("\n\n")[0].split())
        assert f"{name} {first_sentence}" in commands, name
        assert first_sentence.endswith(".")


def test_command_help_and_options_are_vietnamese():
    out = invoke("check", "--help").output
    assert out.startswith("Cách dùng: thidua check [TÙY-CHỌN] TỆP...")
    assert "--config TỆP" in out and "[mặc định: config.toml]" in out and "--out THƯ-MỤC" in out
    assert not any(word in out for word in ENGLISH), out
    out = invoke("run", "--help").output
    assert "--period THÁNG" in out and "PATH" not in out and "TEXT" not in out


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["run", "--periodd", "2024-02"], "Lỗi: Không có tùy chọn “--periodd”. Có phải là '--period'?"),
        (["check"], "Lỗi: Thiếu tham số 'TỆP...'."),
        (
            ["status", "2024-02"],
            "Lỗi: Thừa tham số: 2024-02. Trước giá trị của tùy chọn phải có tên tùy chọn",
        ),
        (["run", "--period"], "Lỗi: Tùy chọn “--period” cần một giá trị đi kèm."),
        (["chay"], "Lỗi: Không có lệnh “chay”."),
        (["init", "--force"], "Lỗi: Không có tùy chọn “--force”."),
    ],
)
def test_click_errors_are_vietnamese(args, said):
    result = invoke(*args)
    assert result.exit_code == 2
    assert said in result.stderr
    assert not any(word in result.stderr for word in ENGLISH), result.stderr
    if "Cách dùng" in result.stderr:
        assert f"Gõ “thidua {args[0]} --help” để xem hướng dẫn." in result.stderr or args == ["chay"]


def test_the_installed_command_speaks_vietnamese(tmp_path):
    """The real entry point (a new process) installs the catalogue before click says anything."""
    proc = thidua("run", "--periodd", "2024-02", cwd=tmp_path)
    assert proc.returncode == 2
    assert "Lỗi: Không có tùy chọn “--periodd”. Có phải là '--period'?" in proc.stderr
    assert "Cách dùng: thidua run [TÙY-CHỌN]" in proc.stderr and "Error" not in proc.stderr


# -- TOML syntax errors --------------------------------------------------------------------------


def _config_error(workspace: Path, old: str, new: str) -> tuple[str, list[str]]:
    """`thidua status` over config.toml with `old` replaced by `new`: the message, and the file's lines."""
    path = workspace / "config.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    result = invoke("status", "--period", "2024-02")
    assert result.exit_code == 2 and result.stdout == ""
    assert "Traceback" not in result.output and "line" not in result.stderr
    return result.stderr, text.split("\n")


def _shown_place(message: str) -> tuple[int, int, str]:
    """The line number, the column under the caret and the line as the message shows them."""
    head, shown, caret = message.rstrip("\n").split("\n")[:3]
    number = int(re.search(r"ở dòng (\d+), cột (\d+)", head)[1])
    column = int(re.search(r"ở dòng (\d+), cột (\d+)", head)[2])
    prefix = f"  {number} | "
    assert shown.startswith(prefix) and caret.startswith(" " * (len(prefix) - 2) + "| ")
    assert caret.index("^") - len(prefix) == column - 1  # the caret stands under the column named
    return number, column, shown[len(prefix) :]


def test_unclosed_quote_shows_line_caret_and_hint(workspace):
    message, lines = _config_error(workspace, 'place = "Lào Cai"', 'place = "Lào Cai')
    assert "thiếu dấu nháy đóng" in message and "Illegal character" not in message
    number, column, shown = _shown_place(message)
    assert lines[number - 1] == shown and shown.startswith('place = "Lào Cai  ') and "#" in shown
    assert column == len("place = ") + 1  # under the quote that opened the string, not after the comment


def test_text_without_quotes_is_told_to_be_quoted(workspace):
    message, _ = _config_error(workspace, 'place = "Lào Cai"', "place = Lào Cai")
    assert 'chữ phải đặt trong dấu nháy kép. Sửa thành: place = "Lào Cai"' in message
    _, column, shown = _shown_place(message)
    assert shown.startswith("place = Lào Cai  ") and column == len("place = ") + 1


def test_a_key_written_twice_names_the_first_line(workspace):
    text = (workspace / "config.toml").read_text(encoding="utf-8").split("\n")
    first = next(i for i, line in enumerate(text, 1) if line.startswith("signer_name"))
    message, _ = _config_error(workspace, "[documents]", 'signer_name = "Ai đó"\n[documents]')
    assert f"khóa “signer_name” đã khai báo ở dòng {first}" in message
    _, column, shown = _shown_place(message)
    assert shown == 'signer_name = "Ai đó"' and column == 1


def test_a_table_declared_twice_names_the_first_line(workspace):
    text = (workspace / "config.toml").read_text(encoding="utf-8")
    first = text.split("\n").index("[office]") + 1
    message, _ = _config_error(workspace, "[documents]", "[office]\n[documents]")
    assert f"bảng [office] đã khai báo ở dòng {first}" in message


def test_a_string_never_closed_points_where_it_opens(workspace):
    """tomllib reports the end of the file; the clerk is shown the line where the quote was opened."""
    message, lines = _config_error(workspace, 'place = "Lào Cai"', 'place = """Lào Cai"')
    assert "đến hết tệp" in message  # tomllib: "Unterminated string (at end of document)"
    number, column, shown = _shown_place(message)
    assert "thiếu dấu nháy đóng" in message and number < len(lines) - 10
    assert shown == lines[number - 1] and shown.startswith('place = """Lào Cai"  ')
    assert column == len("place = ") + 1


def test_every_tomllib_message_has_a_vietnamese_hint():
    """A Python whose tomllib words a syntax error differently fails here, not in front of the clerk."""
    source = Path(tomllib.__file__).with_name("_parser.py").read_text(encoding="utf-8")
    messages = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "suffixed_err":
            text = node.args[2]
            if isinstance(text, ast.Constant):
                messages.append(text.value)
            else:  # an f-string: its fixed start is what the rules match
                messages.append(text.values[0].value + "X")
    assert len(messages) > 20
    for message in messages:
        assert toml_errors.rule_for(message) is not None, message


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("threshold = 97,5\n", "số thập phân dùng dấu chấm"),
        ("threshold = 90 %\n", "không ghi dấu %"),
        ("start = 2024-13-01\n", "ngày không đúng"),
        ("start = 2024-02-30\n", "ngày không có thật"),
        ('path = "D:\\ThiDua"\n', "đường dẫn Windows nên đặt trong dấu nháy đơn"),
        ("x = True\n", "true hoặc false"),
        ('emails = ["a@b.vn" "c@d.vn"]\n', "thiếu dấu phẩy giữa hai phần tử"),
        ('tên = "x"\n', "tên khóa chỉ gồm chữ không dấu"),
        ('name = "Sở "Tư pháp""\n', "đặt cả chuỗi trong dấu nháy đơn"),
    ],
)
def test_common_slips_get_their_own_hint(text, words):
    from processor.config import parse_config
    from processor.records import UserError

    with pytest.raises(UserError) as caught:
        parse_config(text)
    message = str(caught.value)
    assert words in message and "sai cú pháp ở dòng 1" in message
    assert unicodedata.is_normalized("NFC", message)


# -- --period --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["2024-02", "02/2024", "2/2024", "tháng 2/2024", "Tháng 02/2024", "THANG 2/2024"]
)
def test_period_forms_the_clerk_types(workspace, text):
    nfd = unicodedata.normalize("NFD", text)  # typed on a Mac, or pasted
    for form in {text, nfd}:
        result = invoke("status", "--period", form)
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("Kỳ báo cáo 02/2024: 11 đơn vị phải báo cáo")


@pytest.mark.parametrize(
    "text", ["2024/02", "24-02", "02-2024", "2024-13", "13/2024", "tháng hai", "02.2024", ""]
)
def test_any_other_period_gets_one_message_naming_the_forms(workspace, text):
    result = invoke("status", "--period", text)
    assert result.exit_code == 2
    lines = result.stderr.strip().split("\n")
    assert len(lines) == 1 and lines[0].startswith(f"Lỗi: Kỳ báo cáo “{text}” không hợp lệ")
    assert lines[0].endswith(ACCEPTED) and "tháng phải từ 01 đến 12" not in lines[0]


def test_without_period_the_first_line_says_which_and_why(workspace):
    """The shipped campaign (01–03/2024) is long over: its last month is taken, and the clerk told so."""
    result = invoke("status")
    assert result.exit_code == 0, result.output
    first = result.stdout.split("\n")[0]
    last_month = Period.of(dt.date.today()).previous()
    assert first == (
        "Kỳ báo cáo 03/2024: tháng cuối của đợt thi đua “Phong trào thi đua đợt I năm 2024” (đã kết thúc; "
        f"tháng trước {last_month.label} không thuộc đợt thi đua nào trong config.toml). Chọn kỳ khác bằng "
        "--period, ví dụ --period 2024-03."
    )


def test_without_period_during_a_campaign_last_month_is_taken(workspace):
    today = dt.date.today()
    last_month = Period.of(today).previous()
    path = workspace / "config.toml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("start = 2024-01-01", f"start = {last_month.first_day.isoformat()}", 1)
    text = text.replace("end = 2024-03-31", f"end = {today.year + 1}-12-31", 1)
    path.write_text(text, encoding="utf-8")
    result = invoke("template")
    assert result.exit_code == 0, result.output
    assert result.stdout.split("\n")[0] == (
        f"Kỳ báo cáo {last_month.label}: tháng trước của tháng hiện tại ({Period.of(today).label}). Chọn kỳ "
        f"khác bằng --period, ví dụ --period {last_month}."
    )
    assert (workspace / "output" / "bieu-mau" / str(last_month)).is_dir()


# -- a file or a workspace that is not there -------------------------------------------------------


def test_check_of_a_file_that_does_not_exist_says_so(workspace):
    result = invoke("check", "nofile.xlsx", "thu muc/khong-co.xlsx")
    assert result.exit_code == 1
    assert (
        f"[Lỗi] Không có tệp này: không tìm thấy “nofile.xlsx” trong thư mục {Path.cwd()}." in result.stdout
    )
    assert f"không tìm thấy “khong-co.xlsx” vì không có thư mục {Path.cwd() / 'thu muc'}." in result.stdout
    assert "đã bị xóa hoặc di chuyển" not in result.stdout


def test_wrong_folder_names_it_and_says_cd_before_init(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("status")
    assert result.exit_code == 2 and "Traceback" not in result.output
    message = result.stderr
    assert f"Không tìm thấy tệp cấu hình config.toml trong thư mục hiện tại ({Path.cwd()})." in message
    assert "“cd <thư mục làm việc>”" in message
    assert message.index("cd <thư mục làm việc>") < message.index("thidua init")


def test_wrong_folder_next_to_a_workspace_names_it(tmp_path, monkeypatch):
    """Opened a terminal in the folder above the workspace, or inside its inbox: the way back is named."""
    workspace = tmp_path / "Thi Dua"
    assert invoke("init", str(workspace)).exit_code == 0
    for where in (tmp_path, workspace / "inbox"):
        monkeypatch.chdir(where)
        message = invoke("run", "--period", "2024-02").stderr
        assert f'(có config.toml): chuyển vào đó bằng “cd "{workspace.resolve()}"” rồi chạy lại' in message
        assert message.index("cd ") < message.index("thidua init")
