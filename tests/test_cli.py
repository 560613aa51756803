"""The `thidua` command as the clerk uses it: real processes, real files."""

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def thidua(*args: str, cwd: Path, check: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run(
        [sys.executable, "-m", "processor", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_help_is_vietnamese_and_light(tmp_path):
    code = (
        "import sys; from processor.cli import cli\n"
        "try:\n    cli(['--help'])\nexcept SystemExit: pass\n"
        "heavy = [m for m in ('pandas', 'docxtpl', 'openpyxl', 'python_calamine') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, encoding="utf-8", cwd=REPO
    )
    assert "thidua template" in proc.stdout and "Quy trình hằng tháng" in proc.stdout
    assert "HEAVY []" in proc.stdout


def test_init_creates_workspace_and_never_overwrites(tmp_path):
    workspace = tmp_path / "ThiDua"
    proc = thidua("init", str(workspace), cwd=tmp_path, check=True)
    assert "Đã tạo" in proc.stdout
    for name in ("config.toml", "input_templates", "inbox", "output"):
        assert (workspace / name).exists(), name
    assert (workspace / "config.toml").read_text(encoding="utf-8") == (REPO / "config.toml").read_text(
        encoding="utf-8"
    )
    (workspace / "config.toml").write_text("# edited by the clerk\n", encoding="utf-8")
    proc = thidua("init", str(workspace), cwd=tmp_path, check=True)
    assert "giữ nguyên" in proc.stdout
    assert (workspace / "config.toml").read_text(encoding="utf-8") == "# edited by the clerk\n"


def test_config_error_is_printed_without_traceback(tmp_path):
    text = (REPO / "config.toml").read_text(encoding="utf-8").replace("signer_name", "signer_nmae")
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    proc = thidua("status", "--period", "2024-02", cwd=tmp_path)
    assert proc.returncode == 2
    assert "office.signer_nmae: khóa không được hỗ trợ" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_config_and_bad_period_are_user_errors(tmp_path):
    proc = thidua("run", "--period", "2024-02", cwd=tmp_path)
    assert proc.returncode == 2 and "thidua init" in proc.stderr and "Traceback" not in proc.stderr
    (tmp_path / "config.toml").write_text(
        (REPO / "config.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    proc = thidua("run", "--period", "2024-13", cwd=tmp_path)
    assert proc.returncode == 2 and "không hợp lệ" in proc.stderr and "Traceback" not in proc.stderr
    proc = thidua("run", "--period", "2025-02", cwd=tmp_path)
    assert proc.returncode == 2 and "không thuộc đợt thi đua nào" in proc.stderr


def test_check_names_each_error_cell_and_exits_1(tmp_path):
    """`thidua check` on what units sent: every real mistake is printed with its row; a good file passes."""
    from processor.config import load_config
    from processor.devtools.samples import generate_inbox

    config = load_config(REPO / "config.toml")
    manifest = generate_inbox(config, tmp_path / "inbox", config.campaigns[0].periods, scenario="demo")
    (tmp_path / "config.toml").write_text(
        (REPO / "config.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    bad = next(f for f in manifest.files if f.role == "with_errors")
    proc = thidua("check", str(bad.path), cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    for mistake in bad.mistakes:
        if mistake.is_error and mistake.row:
            assert re.search(rf"\[Lỗi\] {mistake.sheet}: Ô [A-Z]+{mistake.row}: ", proc.stdout), mistake
    good = next(f for f in manifest.files if f.role == "report" and not f.mistakes)
    proc = thidua("check", str(good.path), cwd=tmp_path)
    assert proc.returncode == 0 and "HỢP LỆ" in proc.stdout


def test_run_names_a_few_units_per_unmet_target_and_points_to_the_workbook(tmp_path):
    """A province has hundreds of units below a target: the console names the first twelve and says how
    many more there are, the workbook and summary.json list them all."""
    import json

    from processor.cli import UNITS_NAMED_PER_TARGET
    from tests.factories import province_workspace

    root = province_workspace(tmp_path / "office", n_units=120, staff=3)
    proc = thidua("run", "--period", "2024-01", cwd=root, check=True)
    summary = json.loads((root / "output" / "2024-01" / "summary.json").read_text(encoding="utf-8"))
    long_lists = [t for t in summary["targets"] if len(t["blocking_units"]) > UNITS_NAMED_PER_TARGET]
    assert long_lists, "the sample should leave more than twelve units below some target"
    lines = [line for line in proc.stdout.splitlines() if "Đơn vị chưa đạt:" in line]
    for target in long_lists:
        codes = target["blocking_units"]
        rest = len(codes) - UNITS_NAMED_PER_TARGET
        expected = ", ".join(codes[:UNITS_NAMED_PER_TARGET]) + f" và {rest} đơn vị khác"
        assert any(expected in line and "tong-hop.xlsx" in line for line in lines), expected
    assert all(line.count("DV") <= UNITS_NAMED_PER_TARGET for line in lines)
