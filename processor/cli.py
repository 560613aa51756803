"""The `thidua` command: a thin layer that calls the stages in order and prints the results.

Kept light on imports: `thidua --help` and `thidua status` must not load pandas or docxtpl.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from processor import __version__
from processor.records import UserError


def _utf8_console() -> None:
    """Windows consoles default to a legacy code page; Vietnamese needs UTF-8."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure and (stream.encoding or "").lower() not in ("utf-8", "utf8"):
            reconfigure(encoding="utf-8", errors="replace")


class _Group(click.Group):
    """Prints a UserError as a Vietnamese message with no traceback, exit status 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except UserError as exc:
            click.secho(f"Lỗi: {exc}", fg="red", err=True)
            ctx.exit(2)


CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("config.toml"),
    show_default=True,
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
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False), default=Path("."))
def init(directory: Path) -> None:
    """Tạo thư mục làm việc: config.toml, input_templates/, inbox/, output/ (không ghi đè tệp có sẵn)."""
    from processor.workspace import create_workspace

    created, kept = create_workspace(directory)
    for path in created:
        click.echo(f"  Đã tạo: {path}")
    for path in kept:
        click.echo(f"  Đã có, giữ nguyên: {path}")
    click.echo(f"Thư mục làm việc: {directory.resolve()}. Sửa config.toml cho đúng đơn vị của mình.")


def main() -> None:
    _utf8_console()
    cli(prog_name="thidua")
