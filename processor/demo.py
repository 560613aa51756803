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
    show_period: Callable[[object], object] = lambda result: None,
) -> list[Path]:
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
        show_period(outcome.result)
        _show_feedback(outcome, echo)
        reminders = [p for p in outcome.reminders if p.suffix == ".eml"]
        if reminders:
            units = ", ".join(p.name.split("_")[1] for p in reminders)
            echo(f"Thư nhắc nộp báo cáo ({units}): {reminders[0].parent}")
        echo(f"Kết quả: {outcome.out_dir}")
        for path in outcome.outputs:
            if path.suffix == ".docx" or path.name == "tong-hop.xlsx" or path.name.startswith("kiem-tra"):
                echo(f"  {path}")
        outputs += outcome.outputs
    return outputs


def _show_feedback(outcome, echo) -> None:
    """What the clerk sends back: the findings of each file of the month, and the reply drafted for it."""
    drafts = {
        p.name.split("_")[0]: p for p in outcome.outputs if p.suffix == ".eml" and p.parent.name == "phan-hoi"
    }
    for sub in outcome.submissions:
        if (
            sub.period != outcome.result.period
            or not sub.findings
            or sub.status.value in ("duplicate", "superseded")
        ):
            continue
        errors = sum(f.is_error for f in sub.findings)
        echo(
            f"Phản hồi {sub.unit_code or '?'} ({sub.file.display_name}): {errors} lỗi, "
            f"{len(sub.findings) - errors} cảnh báo"
        )
        for finding in sub.findings[:4]:
            echo(f"    {finding.line()}")
        if len(sub.findings) > 4:
            echo(f"    … và {len(sub.findings) - 4} mục khác")
        if sub.unit_code in drafts:
            echo(f"    Thư trả lời soạn sẵn: {drafts[sub.unit_code]}")
