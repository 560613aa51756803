"""What `thidua fetch` and `thidua send` print around the work of fetch.py and send.py."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from processor.config import Config
from processor.mail.errors import MailError
from processor.mail.fetch import FetchResult, SavedMessage, fetch_mail
from processor.mail.send import Draft, list_drafts, send_drafts
from processor.records import Period
from processor.vntext import format_date


def fetch(
    config: Config, inbox: Path, echo: Callable[[str], None], warn: Callable[[str], None]
) -> FetchResult:
    count = 0
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if not sys.stderr.isatty():
            return
        if bar is None:
            bar = click.progressbar(length=total, label="Tải thư", file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)

    def saved(message: SavedMessage) -> None:
        nonlocal count
        count += 1
        who = message.sender or "người gửi không rõ"
        unit = f", đơn vị {message.unit}" if message.unit else ", địa chỉ chưa đăng ký cho đơn vị nào"
        files = ", ".join(message.attachments) if message.attachments else "không có"
        if bar is not None:
            click.echo("", err=True)
        echo(f"  Đã lưu {message.path} (từ {who}{unit}; tệp đính kèm: {files})")

    try:
        result = fetch_mail(config, inbox, progress=progress, on_saved=saved)
    except MailError as exc:
        if count:
            raise MailError(
                f"{exc} Đã lưu {count} thư trước khi lỗi; chạy lại “thidua fetch” để tải tiếp."
            ) from None
        raise
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    for finding in result.too_large:
        warn(f"  Cảnh báo – {finding.file}: {finding.message}")
    parts = [f"đã lưu {len(result.saved)} thư mới"]
    if result.already:
        parts.append(f"bỏ qua {result.already} thư đã tải trước đây")
    if result.too_large:
        parts.append(f"{len(result.too_large)} thư quá lớn chưa tải")
    echo(f"Hộp thư {result.mailbox}: {', '.join(parts)}.")
    return result


def _line(draft: Draft) -> str:
    to = ", ".join(draft.recipients) or "(chưa có địa chỉ người nhận: không gửi được, gửi bằng tay)"
    files = f"; đính kèm: {', '.join(draft.attachments)}" if draft.attachments else ""
    head = f"{draft.path.parent.name}/{draft.path.name}"
    return f"{head} → {to}: “{draft.subject}”{files}"


def send(config: Config, period_text: str, out_root: Path, *, yes: bool, dry_run: bool) -> None:
    period = Period.parse(period_text)
    drafts = list_drafts(out_root, period)
    if not drafts:
        click.echo(
            f"Không có thư nào để gửi cho kỳ {period.label} (thư mục {Path(out_root) / str(period)}/phan-hoi "
            "và nhac-nop trống hoặc chưa có). Chạy “thidua run” trước."
        )
        return
    waiting = [d for d in drafts if d.sent is None and d.recipients]
    click.echo(f"Thư của kỳ {period.label}:")
    for draft in drafts:
        if draft.sent is not None:
            click.echo(f"  [đã gửi {_sent_when(draft.sent)}] {_line(draft)}")
        else:
            click.echo(f"  {_line(draft)}")
    if dry_run:
        click.echo(f"Sẽ gửi {len(waiting)} thư (--dry-run: chưa gửi thư nào).")
        return
    if not waiting:
        click.echo("Không có thư mới cần gửi: các thư trên đã được gửi trước đây.")
        return
    if not yes:
        try:
            agreed = click.confirm(f"Gửi {len(waiting)} thư? Gõ y để gửi", default=False)
        except click.Abort:
            agreed = False
        if not agreed:
            click.echo("Chưa gửi thư nào (thêm --yes để gửi không cần hỏi).")
            return

    def done(draft: Draft, problem: str | None) -> None:
        if problem is None:
            click.echo(f"  Đã gửi {_line(draft)}")
        else:
            click.secho(f"  Không gửi được {draft.path.name}: {problem}", fg="red")

    result = send_drafts(config, waiting, out_root, on_done=done)
    for draft, refused in result.sent:
        for address, reason in refused.items():
            click.secho(f"  {draft.path.name}: máy chủ từ chối người nhận {address} ({reason})", fg="red")
    summary = f"Đã gửi {len(result.sent)} thư"
    if result.failed:
        summary += f"; {len(result.failed)} thư không gửi được (xem trên), sẽ được gửi lại ở lần chạy sau"
    click.echo(summary + ".")
    if result.copy_problem:
        click.secho(result.copy_problem, fg="yellow")


def _sent_when(entry: dict) -> str:
    import datetime as dt

    try:
        moment = dt.datetime.fromisoformat(str(entry.get("time"))).astimezone(
            dt.timezone(dt.timedelta(hours=7))
        )
    except ValueError:
        return "trước đây"
    return f"{moment:%H:%M} ngày {format_date(moment.date())}"
