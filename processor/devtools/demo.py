"""`thidua demo`: the whole job on generated sample data, month by month.

Builds a workspace under `output/demo/` (config, templates, an inbox of e-mails from every unit with the
mistakes units really make), then runs each month of the campaign as the clerk would.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from processor.config import load_config
from processor.pipeline import run_period
from processor.workspace import INBOX_DIR, OUTPUT_DIR, create_workspace


def run_demo(
    directory: Path,
    echo: Callable[[str], object] = print,
    show_run: Callable[[object, object], object] | None = None,
) -> list[Path]:
    """`show_run(config, outcome)` prints each month's end of run (cli._print_run, as `thidua run` does);
    without it, the result folder and the documents are echoed."""
    from processor import template
    from processor.devtools import samples

    directory = Path(directory)
    create_workspace(directory)
    config = load_config(directory / "config.toml")
    campaign = config.campaigns[0]
    inbox = directory / INBOX_DIR
    shutil.rmtree(inbox, ignore_errors=True)  # the demo owns its inbox: same data on every run
    inbox.mkdir()
    manifest = samples.generate_inbox(config, inbox, campaign.periods, scenario="demo")
    echo(f"Dữ liệu mẫu: {len(manifest.files)} tệp nhận được từ {len(config.units)} đơn vị trong {inbox}")
    first = campaign.periods[0]
    forms = template.write_unit_workbooks(config, first, directory / OUTPUT_DIR / "bieu-mau" / str(first))
    echo(f"Biểu mẫu gửi đơn vị kỳ {first.label}: {len(forms)} tệp trong {forms[0].parent}")
    outputs: list[Path] = []
    for period in campaign.periods:
        echo("")
        echo(f"=== thidua run --period {period} ===")
        outcome = run_period(config, str(period), inbox, directory / OUTPUT_DIR, notice=echo)
        if show_run is not None:
            show_run(config, outcome)
        else:
            echo(f"Kết quả: {outcome.out_dir}")
            for path in outcome.outputs:
                if path.suffix == ".docx" or path.name.startswith(("tong-hop", "kiem-tra", "duyet-")):
                    echo(f"  {path}")
        outputs += outcome.outputs
    outputs += _council_and_decision(config, campaign.periods[-1], directory, echo, strike=True)
    outputs += _year_demo(directory / YEAR_DIR, echo, show_run)
    return outputs


YEAR_DIR = "ca-nam"


def year_config_text(text: str) -> str:
    """The shipped config with its campaign running the whole of 2024: the closing run of December then
    proposes the annual titles (year_end_rule_set) beside the campaign's Giấy khen."""
    return (
        text.replace('id = "2024-dot-1"', 'id = "2024-ca-nam"', 1)
        .replace('name = "Phong trào thi đua đợt I năm 2024"', 'name = "Phong trào thi đua năm 2024"', 1)
        .replace("phong trào thi đua đợt I năm 2024", "phong trào thi đua năm 2024", 1)
        .replace("end = 2024-03-31", "end = 2024-12-31", 1)
        .replace("được giao Quý I năm 2024", "được giao năm 2024", 1)
    )


def _council_and_decision(config, period, directory: Path, echo, *, strike: bool) -> list[Path]:
    """The council meets: in the Q1 demo it strikes the last name of the list and notes why (the clerk
    saves the approval workbook where the run wrote it), then `thidua decide` writes the Quyết định and
    the Giấy khen."""
    from processor.decide import decide_period, report_lines
    from processor.render import approval

    out_root = directory / OUTPUT_DIR
    echo("")
    if strike:
        path = out_root / str(period) / approval.file_name(str(period))
        _strike_last(path)
        echo(f"Hội đồng thi đua - khen thưởng họp, sửa bảng duyệt: {path} (không đồng ý một trường hợp)")
    echo(f"=== thidua decide --period {period} ===")
    outcome = decide_period(config, str(period), directory / INBOX_DIR, out_root)
    for line, _ in report_lines(outcome):
        echo(line)
    return outcome.outputs


def _strike_last(path: Path) -> None:
    import openpyxl

    from processor.render import approval

    book = openpyxl.load_workbook(path)
    sheet = book[approval.SHEET]
    last = max(r for r in range(approval.HEADER_ROW + 1, sheet.max_row + 1) if sheet.cell(r, 1).value)
    sheet.cell(last, approval.COL_AGREED, approval.NO)
    sheet.cell(last, approval.COL_NOTE, "Hội đồng đề nghị xét lại ở đợt sau")
    book.save(path)


def _year_demo(directory: Path, echo, show_run) -> list[Path]:
    """A second office workspace whose campaign runs the whole year: only December's closing run is made
    (it reads the twelve months), so the annual titles appear in the tờ trình and the Quyết định."""
    from processor.config import default_config_text
    from processor.devtools import samples

    directory.mkdir(parents=True, exist_ok=True)
    config_path = directory / "config.toml"
    config_path.write_text(year_config_text(default_config_text()), encoding="utf-8")
    create_workspace(directory)
    config = load_config(config_path)
    campaign = config.campaigns[0]
    inbox = directory / INBOX_DIR
    shutil.rmtree(inbox, ignore_errors=True)
    inbox.mkdir()
    manifest = samples.generate_inbox(config, inbox, campaign.periods, scenario="demo")
    last = campaign.periods[-1]
    echo("")
    echo(f"--- Đợt thi đua cả năm ({campaign.name}): {len(manifest.files)} tệp nhận được trong {inbox} ---")
    echo(f"=== thidua run --period {last} (tổng kết năm: đề nghị cả danh hiệu thi đua cả năm) ===")
    outcome = run_period(config, str(last), inbox, directory / OUTPUT_DIR, notice=echo)
    if show_run is not None:
        show_run(config, outcome)
    else:
        echo(f"Kết quả: {outcome.out_dir}")
        for path in outcome.outputs:
            if path.suffix in (".docx", ".xlsx") and not path.name.startswith("kiem-tra"):
                echo(f"  {path}")
    return outcome.outputs + _council_and_decision(config, last, directory, echo, strike=False)

