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
    from processor import samples, template

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
                if path.suffix == ".docx" or path.name == "tong-hop.xlsx" or path.name.startswith("kiem-tra"):
                    echo(f"  {path}")
        outputs += outcome.outputs
    return outputs

