"""The `thidua` command: a thin layer that calls the stages in order and prints the results.

Kept light on imports: `thidua --help` and `thidua status` must not load pandas or docxtpl.
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

import click

from processor import __version__, cli_words
from processor.records import UserError, Verdict

# Before any command is declared: click translates some of its words as the decorators run.
cli_words.install()


def _utf8_console() -> None:
    """Windows consoles default to a legacy code page; Vietnamese needs UTF-8. A character the stream
    cannot carry (a lone surrogate from a file name that is not UTF-8) prints as "?" instead of ending
    the run, on a UTF-8 console too."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure:
            reconfigure(encoding="utf-8", errors="replace")


def _without_numpy() -> None:
    """openpyxl imports numpy, when it is installed, only to recognise numpy's number types, which this
    program never hands it: that import is a tenth of a second of every run's start-up (measured:
    `import openpyxl` 0.16 s with numpy 2 installed, 0.09 s with it banned; nothing where numpy is not
    installed, as numpy is no dependency). The ban holds because openpyxl catches the ImportError
    (openpyxl.compat.numbers): tests/test_library_seams.py fails if it stops doing so."""
    sys.modules.setdefault("numpy", None)  # type: ignore[arg-type]  # None: "import numpy" fails


class _Group(cli_words.Group):
    """Prints a UserError as a Vietnamese message with no traceback, exit status 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except UserError as exc:
            click.secho(f"Lỗi: {exc}", fg="red", err=True)
            ctx.exit(2)
        except OSError as exc:
            # Every write of the pipeline reports its own failure as a UserError: one that arrives here
            # is printing to stdout redirected to a full disk.
            if exc.errno not in _DISK_FULL:
                raise
            from processor.render.atomic import describe_os_error

            _silence_stdout()
            click.secho(f"Lỗi: không in được kết quả ra tệp: {describe_os_error(exc)}.", fg="red", err=True)
            ctx.exit(2)


_DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO)


def _console_lost() -> bool:
    """Whether stdout can no longer be written (redirected to a full disk); if so it is silenced."""
    try:
        sys.stdout.flush()
        return False
    except (OSError, ValueError):
        _silence_stdout()
        return True


def _silence_stdout() -> None:
    """Point stdout at the null device, so that Python's last flush at exit adds no "Exception ignored"
    block after the Vietnamese message."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError):
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115  # lives until exit


CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=Path("config.toml"),
    show_default=True,
    metavar="TỆP",
    help="Tệp cấu hình.",
)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="thidua", message="%(prog)s %(version)s")
def cli() -> None:
    """thidua — tổng hợp kết quả phong trào thi đua từ biểu mẫu Excel của các đơn vị.

    Quy trình hằng tháng: “thidua template” tạo biểu mẫu gửi đơn vị; đơn vị điền và gửi lại;
    văn thư chép tệp nhận được vào thư mục inbox/ rồi chạy “thidua run --period 2024-02”.
    """


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path), default=Path("."), metavar="[THƯ-MỤC]")
def init(directory: Path) -> None:
    """Tạo thư mục làm việc: config.toml, input_templates/, inbox/, output/ (không ghi đè tệp có sẵn)."""
    from processor.workspace import create_workspace

    created, kept = create_workspace(directory)
    for path in created:
        click.echo(f"  Đã tạo: {path}")
    for path in kept:
        click.echo(f"  Đã có, giữ nguyên: {path}")
    click.echo(f"Thư mục làm việc: {directory.resolve()}. Sửa config.toml cho đúng đơn vị của mình.")


def _load(config_path: Path):
    from processor.config import load_config

    return load_config(config_path)


def _default_period(config) -> str:
    """The period of a command run without --period; the first line printed says which and why."""
    import datetime as dt

    from processor.periods import announce_default, default_period

    period, reason = default_period(config, dt.date.today())
    click.echo(announce_default(period, reason))
    return str(period)


PERIOD_OPTION = click.option(
    "--period",
    "period_text",
    type=cli_words.PeriodParam(),
    help="Kỳ báo cáo (tháng): 2024-02, 02/2024, 2/2024 hoặc “tháng 2/2024”. Không ghi thì chọn tháng "
    "trước tháng hiện tại nếu tháng đó thuộc một đợt thi đua, nếu không thì tháng cuối của đợt kết thúc "
    "sau cùng.",
)
INBOX_OPTION = click.option(
    "--inbox",
    type=click.Path(path_type=Path),
    default=Path("inbox"),
    show_default=True,
    metavar="THƯ-MỤC",
    help="Thư mục chứa tệp và thư điện tử nhận được từ các đơn vị.",
)
OUT_OPTION = click.option(
    "--out",
    "out_root",
    type=click.Path(path_type=Path),
    default=Path("output"),
    show_default=True,
    metavar="THƯ-MỤC",
    help="Thư mục ghi kết quả.",
)


@cli.command()
@CONFIG_OPTION
@PERIOD_OPTION
@click.option("--unit", "units", multiple=True, metavar="MÃ", help="Chỉ tạo cho đơn vị này (lặp lại được).")
@click.option(
    "--out", type=click.Path(path_type=Path), default=None, metavar="THƯ-MỤC", help="Thư mục ghi biểu mẫu."
)
@click.option("--master", is_flag=True, help="Chỉ tạo biểu mẫu trắng (không gắn đơn vị, kỳ báo cáo).")
@INBOX_OPTION
def template(config_path, period_text, units, out, master, inbox) -> None:
    """Tạo biểu mẫu Excel cho từng đơn vị điền báo cáo tháng."""
    from processor import template as form_template
    from processor.records import Period

    config = _load(config_path)
    if master:
        target = (out or Path("input_templates")) / "bieu-mau-bao-cao-thi-dua.xlsx"
        form_template.write_master_form(config, target)
        click.echo(f"Đã tạo biểu mẫu trắng: {target}")
        return
    period = Period.parse(period_text or _default_period(config))
    config.campaign_for(period)
    # Not under output/<period>/: that folder belongs to `thidua run` and is replaced as a whole.
    out = out or Path("output") / "bieu-mau" / str(period)
    from processor.pipeline import latest_staff_lists

    prefill = latest_staff_lists(config, inbox, period) if inbox.is_dir() else {}
    paths = form_template.write_unit_workbooks(config, period, out, list(units) or None, prefill=prefill)
    for path in paths:
        click.echo(f"  {path}")
    # Codes as the roster spells them (`--unit tchc` makes TCHC's form, prefilled like `--unit TCHC`).
    wanted = {code.strip().upper() for code in units}
    remembered = sum(1 for code, staff in prefill.items() if staff and (not wanted or code.upper() in wanted))
    click.echo(
        f"Đã tạo {len(paths)} biểu mẫu kỳ {period.label} trong {out}"
        + (f" ({remembered} đơn vị đã điền sẵn danh sách cán bộ từ báo cáo gần nhất)." if remembered else ".")
    )


@cli.command()
@CONFIG_OPTION
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="TỆP...")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    metavar="THƯ-MỤC",
    help="Ghi bản có đánh dấu lỗi và thư trả lời vào thư mục này.",
)
def check(config_path, files, out) -> None:
    """Kiểm tra tệp báo cáo của đơn vị và in các lỗi cần sửa (mã thoát 1 nếu có tệp lỗi, không dùng được)."""
    from processor.pipeline import check_files

    config = _load(config_path)
    submissions, written = check_files(config, list(files), out)
    from processor.records import FileStatus

    failed = False
    for sub in submissions:
        n_err = sum(f.is_error for f in sub.findings)
        n_warn = len(sub.findings) - n_err
        # A file that is not a form at all (a .zip, a Word file, an unreadable one) fails the check too,
        # even when what is said about it is only a warning.
        refused = sub.status in (FileStatus.UNREADABLE, FileStatus.REJECTED)
        failed = failed or refused or n_err > 0
        head = "HỢP LỆ" if not sub.findings else f"{n_err} lỗi, {n_warn} cảnh báo"
        click.secho(f"{sub.file.display_name}: {head}", fg="red" if refused or n_err else "green", bold=True)
        for f in sub.findings:
            click.echo(f"  {f.line()}")
    for path in written:
        click.echo(f"  Đã ghi: {path}")
    sys.exit(1 if failed else 0)


def _print_completeness(result) -> None:
    from collections import Counter

    from processor.aggregate import STATUS_LABELS
    from processor.records import ReportingStatus

    counts = Counter(u.status for u in result.units)
    click.echo(f"Kỳ báo cáo {result.period.label}: {len(result.units)} đơn vị phải báo cáo")
    for status, label in STATUS_LABELS.items():
        click.echo(f"  {label:<18}{counts.get(status, 0):>5}")
    width = max((len(u.unit_name) for u in result.units), default=10)
    for unit in result.units:
        if unit.status is not ReportingStatus.ON_TIME:
            when = f" (nhận {unit.received_at:%d/%m/%Y})" if unit.received_at else ""
            label = STATUS_LABELS[unit.status]
            click.echo(f"    {unit.unit_code:<7}{unit.unit_name:<{width}}  {label}{when}")


def _warn_copied_times(submissions, period) -> None:
    """Received times taken from a copy's modification times make on-time and late guesswork."""
    from processor.resolve import COPY_AFTER_PREPARED, copied_times

    copied = copied_times(submissions, period)
    if not copied:
        return
    names = ", ".join(sub.file.display_name for sub in copied[:3]) + (", …" if len(copied) > 3 else "")
    days = COPY_AFTER_PREPARED.days
    click.secho(
        f"Lưu ý: {len(copied)} tệp của kỳ {period.label} ({names}) có thời điểm nhận lấy theo ngày giờ sửa "
        "tệp, mà các tệp này có vẻ đã được chép lại (nhiều tệp cùng một lúc, hoặc sau ngày lập báo cáo hơn "
        f"{days} ngày): thời điểm đó là lúc chép, không phải lúc đơn vị gửi, nên việc đánh giá nộp đúng hạn "
        "hay muộn, và việc chọn bản sửa mới nhất, có thể sai. Nên lưu cả thư điện tử của đơn vị (.eml, "
        ".msg) vào thư mục nhận thay vì chỉ lưu tệp Excel đính kèm.",
        fg="yellow",
    )


def _warn_refused_after_rule_change(submissions) -> None:
    """Files accepted by an earlier run that today's rules refuse: never a silent change of history."""
    from processor.ingest_cache import refused_after_rule_change

    for sub in refused_after_rule_change(submissions):
        where = f" ({sub.unit_code} tháng {sub.period.label})" if sub.unit_code and sub.period else ""
        click.secho(
            f"Lưu ý: tệp {sub.file.display_name}{where} đã được chấp nhận ở lần chạy trước, nay không còn "
            "được chấp nhận theo quy định kiểm tra hiện hành (config.toml đã thay đổi). Xem sheet “Lỗi” "
            "trong tong-hop.xlsx và phản hồi kiểm tra của đơn vị.",
            fg="yellow",
        )


# A province has hundreds of units below a target: the console names the first few, the workbook all.
UNITS_NAMED_PER_TARGET = 12


# The colour of each verdict on the console (the words come from aggregate.VERDICT_LABELS).
_VERDICT_COLOURS = {
    Verdict.MET: "green",
    Verdict.NOT_MET: "red",
    Verdict.INSUFFICIENT_DATA: "yellow",
    Verdict.NOT_APPLICABLE: None,
}


def _print_targets(result) -> None:
    from processor.aggregate import VERDICT_LABELS, coverage_text
    from processor.vntext import format_int, format_percent

    width = max(len(label) for label in VERDICT_LABELS.values())
    click.echo("Chỉ tiêu thi đua:")
    for target in result.targets:
        label = VERDICT_LABELS[target.verdict]
        mark = click.style(f"{label:<{width}}", fg=_VERDICT_COLOURS[target.verdict])
        value = format_percent(target.value)
        click.echo(f"  {target.target_id:<7}{value:>8}  {mark}  {target.label}")
        if target.verdict is Verdict.INSUFFICIENT_DATA:
            click.echo(f"{'':>19}({coverage_text(target)})")
        codes = target.blocking_units
        if codes:
            named = ", ".join(codes[:UNITS_NAMED_PER_TARGET])
            if len(codes) > UNITS_NAMED_PER_TARGET:
                rest = format_int(len(codes) - UNITS_NAMED_PER_TARGET)
                named += f" và {rest} đơn vị khác (xem sheet “Chỉ tiêu” trong tong-hop.xlsx)"
            click.echo(f"{'':>19}Đơn vị chưa đạt: {named}")


@cli.command()
@CONFIG_OPTION
@PERIOD_OPTION
@INBOX_OPTION
@OUT_OPTION
@click.option("--final", is_flag=True, help="Lập báo cáo tổng kết đợt thi đua (mặc định ở tháng cuối đợt).")
@click.option(
    "--accept-partial", is_flag=True, help="Dùng các dòng hợp lệ của tệp có lỗi (ghi rõ trong kết quả)."
)
@click.option("--pdf", is_flag=True, help="Xuất thêm bản PDF của văn bản (cần LibreOffice).")
def run(config_path, period_text, inbox, out_root, final, accept_partial, pdf) -> None:
    """Chạy tổng hợp tháng: kiểm tra tệp, tính chỉ tiêu, lập báo cáo và tờ trình khen thưởng."""
    from processor.pipeline import run_period

    config = _load(config_path)
    period_text = period_text or _default_period(config)
    from processor.progress import PDF, RUN_STAGES

    def job(progress):
        def notice(line: str) -> None:
            if progress is not None:
                progress.clear()  # the line comes back with the next step
            click.secho(line, fg="yellow")

        return run_period(
            config,
            period_text,
            inbox,
            out_root,
            final=final,
            accept_partial=accept_partial,
            pdf=pdf,
            progress=progress,
            notice=notice,
        )

    outcome = _with_progress(job, RUN_STAGES + ((PDF,) if pdf else ()))
    _print_run(config, outcome)


def _print_run(config, outcome) -> None:
    """The end of a run (`thidua run`, each month of `thidua demo`): who reported, the targets, then what
    happened to every file and where everything is (run_report)."""
    from processor.run_report import build_report, render_report

    _print_completeness(outcome.result)
    _warn_copied_times(outcome.submissions, outcome.result.period)
    _warn_refused_after_rule_change(outcome.submissions)
    _print_targets(outcome.result)
    if outcome.result.accept_partial:
        click.secho("Lưu ý: đã dùng các dòng hợp lệ của tệp có lỗi (--accept-partial).", fg="yellow")
    report = build_report(
        config,
        outcome.result.period,
        outcome.submissions,
        outcome.result.units,
        out_dir=outcome.out_dir,
        outputs=outcome.outputs,
        pdf_skipped=outcome.pdf_skipped,
        notices=[*outcome.notices, *_no_address_lines(outcome.reminders)],
    )
    for line in render_report(report):
        click.echo(line)


def _print_reminders(paths) -> None:
    """Where the reminder drafts are, and the units without an address the clerk must reach otherwise."""
    drafts = [p for p in paths if p.suffix == ".eml"]
    if drafts:
        click.echo(f"Thư nhắc nộp báo cáo: {len(drafts)} thư trong {drafts[0].parent}")
    for line in _no_address_lines(paths):
        click.secho(line, fg="yellow")


def _no_address_lines(paths) -> list[str]:
    from processor.render.reminders import NO_ADDRESS_LIST

    listing = next((p for p in paths if p.name == NO_ADDRESS_LIST), None)
    if listing is None:
        return []
    return [
        f"Đơn vị cần nhắc nộp nhưng chưa đăng ký địa chỉ thư: xem {listing} (biểu mẫu của các đơn vị này "
        "nằm cùng thư mục)."
    ]


def _with_progress(job, stages=None):
    """Run `job(progress)` with the progress line on stderr when it is a terminal (`progress` is None
    otherwise, and nothing is written); the line is taken away before the results are printed."""
    from processor.progress import STATUS_STAGES, RunProgress

    progress = RunProgress(sys.stderr, stages or STATUS_STAGES)
    if not progress.enabled:
        return job(None)
    try:
        return job(progress)
    finally:
        progress.clear()


@cli.command()
@CONFIG_OPTION
@PERIOD_OPTION
@INBOX_OPTION
@OUT_OPTION
@click.option(
    "--reminders",
    is_flag=True,
    help="Ghi thư nhắc nộp (kèm biểu mẫu) cho đơn vị chưa nộp hoặc có lỗi vào output/<kỳ>/nhac-nop/.",
)
def status(config_path, period_text, inbox, out_root, reminders) -> None:
    """Xem nhanh đơn vị nào đã nộp, nộp muộn, có lỗi hoặc chưa nộp (không lập văn bản)."""
    from processor.pipeline import status as period_status

    config = _load(config_path)
    period_text = period_text or _default_period(config)
    from processor.progress import STATUS_STAGES
    from processor.run_report import build_report, render_report

    paths = None
    if reminders:
        from processor.pipeline import write_reminders_now

        paths = write_reminders_now(config, period_text, inbox, out_root, notify=click.echo)

    def job(progress):
        return period_status(config, period_text, inbox, out_root, notify=click.echo, progress=progress)

    result = _with_progress(job, STATUS_STAGES)
    _print_completeness(result)
    _warn_copied_times(result.submissions, result.period)
    # Drafts a run of this period wrote earlier (the feedback, the reminders) are on disk there.
    earlier = out_root / str(result.period)
    report = build_report(
        config,
        result.period,
        result.received or result.submissions,
        result.units,
        out_dir=earlier if earlier.is_dir() else None,
    )
    for line in render_report(report, run=False):
        click.echo(line)
    if paths is not None:
        for line in _no_address_lines(paths):
            click.secho(line, fg="yellow")
        if not paths:
            click.echo("Không có đơn vị nào cần nhắc nộp báo cáo.")

@cli.command()
@CONFIG_OPTION
@INBOX_OPTION
def fetch(config_path, inbox) -> None:
    """Tải thư mới từ hộp thư của cơ quan (IMAP, chỉ đọc) vào thư mục inbox/, kèm thời điểm hộp thư nhận."""
    from processor.mail import commands

    config = _load(config_path)
    commands.fetch(config, inbox, echo=click.echo, warn=lambda line: click.secho(line, fg="yellow"))


@cli.command()
@CONFIG_OPTION
@PERIOD_OPTION
@OUT_OPTION
@click.option("--yes", is_flag=True, help="Gửi ngay, không hỏi lại.")
@click.option("--dry-run", is_flag=True, help="Chỉ liệt kê thư sẽ gửi, không gửi.")
def send(config_path, period_text, out_root, yes, dry_run) -> None:
    """Gửi thư phản hồi và thư nhắc nộp của kỳ báo cáo qua SMTP (mỗi thư một lần)."""
    from processor.mail import commands

    config = _load(config_path)
    commands.send(config, period_text or _default_period(config), out_root, yes=yes, dry_run=dry_run)


@cli.command()
@CONFIG_OPTION
@PERIOD_OPTION
@INBOX_OPTION
@OUT_OPTION
@click.option(
    "--file",
    "workbook",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Bảng duyệt đã sửa (mặc định: bản đã sửa trong thư mục kết quả của kỳ).",
)
@click.option("--pdf", is_flag=True, help="Xuất thêm bản PDF của văn bản (cần LibreOffice).")
def decide(config_path, period_text, inbox, out_root, workbook, pdf) -> None:
    """Lập Quyết định khen thưởng và Giấy khen theo bảng duyệt của Hội đồng thi đua - khen thưởng."""
    from processor.decide import decide_period, report_lines

    config = _load(config_path)
    period_text = period_text or _default_period(config)
    outcome = _with_progress(
        lambda progress: decide_period(
            config, period_text, inbox, out_root, workbook=workbook, pdf=pdf, progress=progress
        )
    )
    for line, warning in report_lines(outcome):
        click.secho(line, fg="yellow" if warning else None)
    if outcome.review.blocked:
        sys.exit(1)


@cli.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    default=Path("output/demo"),
    show_default=True,
    metavar="THƯ-MỤC",
    help="Thư mục tạo dữ liệu mẫu.",
)
def demo(directory) -> None:
    """Chạy thử toàn bộ quy trình trên dữ liệu mẫu của Văn phòng UBND tỉnh Lào Cai."""
    from processor.devtools.demo import run_demo

    run_demo(directory, echo=click.echo, show_run=_print_run)


def main() -> None:
    _utf8_console()
    _without_numpy()
    try:
        cli(prog_name="thidua")
    finally:
        # The output printed last is flushed now, where a failure can be said in Vietnamese.
        if _console_lost():
            click.secho("Lỗi: không in được hết kết quả ra tệp (ổ đĩa đã đầy?).", fg="red", err=True)
