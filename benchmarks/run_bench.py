"""Province-scale benchmark (issue #6): `make bench`.

Generates a province with the sample generator (N unit workbooks x S staff rows x the campaign's three
months) and times, in the same run and on the same files, each as a whole process:
  (a) a plain loop of pandas.read_excel(engine="openpyxl") reading every staff sheet (the obvious way),
  (b) python-calamine merely reading the same sheets (the floor),
  (c) `thidua run` for the last month, end to end, documents included,
  (d) `thidua status`.
Prints the ratios and peak memory and writes benchmarks/RESULTS.md.

    python benchmarks/run_bench.py                    # 1,000 units x 50 staff, plus scaling 100/300
    python benchmarks/run_bench.py --units 200 --no-scaling
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

READ_PANDAS = """
import sys, pandas as pd
for path in open(sys.argv[1], encoding="utf-8").read().splitlines():
    pd.read_excel(path, sheet_name="Cá nhân", engine="openpyxl")
"""
READ_CALAMINE = """
import sys
from python_calamine import CalamineWorkbook
for path in open(sys.argv[1], encoding="utf-8").read().splitlines():
    CalamineWorkbook.from_path(path).get_sheet_by_name("Cá nhân").to_python()
"""


def measure(command: list[str], cwd: Path) -> tuple[float, float, str]:
    """Wall seconds and peak RSS (MB, the process and its children) of one whole process."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = proc.stdout.read().decode("utf-8", "replace") if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"command failed: {' '.join(command)}\n{output}")
    return seconds, usage.ru_maxrss / 1024, output


def province_config_text(n_units: int) -> str:
    """The shipped config with its roster replaced by n synthetic units."""
    text = (REPO / "config.toml").read_text(encoding="utf-8")
    text = re.sub(r"\[\[units\]\]\n(?:(?!\n\n|\n#).)*\n\n", "", text, flags=re.S)
    units = "".join(
        f'[[units]]\ncode = "DV{i:04d}"\nname = "Đơn vị số {i}"\nemails = ["dv{i:04d}@laocai.gov.vn"]\n\n'
        for i in range(1, n_units + 1)
    )
    return text + "\n" + units


def build_province(root: Path, n_units: int, staff: int) -> tuple[Path, list[Path]]:
    from processor import samples
    from processor.config import load_config

    root.mkdir(parents=True, exist_ok=True)
    (root / "config.toml").write_text(province_config_text(n_units), encoding="utf-8")
    config = load_config(root / "config.toml")
    inbox = root / "inbox"
    started = time.perf_counter()
    samples.generate_inbox(
        config, inbox, config.campaigns[0].periods, scenario="clean", staff_per_unit=staff, as_email=False
    )
    print(f"  generated {n_units} units x {staff} staff x 3 months in {time.perf_counter() - started:.1f} s")
    files = sorted(inbox.rglob("*.xlsx"))
    return root, files


def bench(n_units: int, staff: int, workdir: Path) -> dict:
    root, files = build_province(workdir / f"province-{n_units}", n_units, staff)
    listing = root / "files.txt"
    listing.write_text("\n".join(str(f) for f in files), encoding="utf-8")
    py = sys.executable
    period = "2024-03"
    results = {"units": n_units, "staff": staff, "files": len(files)}
    steps = {
        "a_pandas_openpyxl": [py, "-c", READ_PANDAS, str(listing)],
        "b_calamine": [py, "-c", READ_CALAMINE, str(listing)],
        "c_run": [py, "-m", "processor", "run", "--period", period, "--config", "config.toml"],
        "d_status": [py, "-m", "processor", "status", "--period", period, "--config", "config.toml"],
    }
    for name, command in steps.items():
        if name.startswith("a_") and n_units != ARGS.units:
            continue  # the slow baseline only at full size
        seconds, peak_mb, _ = measure(command, root)
        results[name] = (seconds, peak_mb)
        print(f"  {name:<18} {seconds:7.2f} s   peak {peak_mb:6.0f} MB")
    return results


def main() -> None:
    global ARGS
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--staff", type=int, default=50)
    parser.add_argument("--no-scaling", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    ARGS = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="thidua-bench-"))
    sizes = [ARGS.units] if ARGS.no_scaling else sorted({100, 300, ARGS.units})
    try:
        runs = []
        for size in sizes:
            print(f"{size} units:")
            runs.append(bench(size, ARGS.staff, workdir))
    finally:
        if not ARGS.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    write_results(runs)


def write_results(runs: list[dict]) -> None:
    full = runs[-1]
    a, b, c, d = (full[k][0] for k in ("a_pandas_openpyxl", "b_calamine", "c_run", "d_status"))
    peak = max(full[k][1] for k in ("c_run", "d_status"))
    ratios = [
        ("c/b (run vs calamine floor)", c / b, "<= 3"),
        ("a/c (pandas loop vs run: run is this many times faster)", a / c, ">= 5"),
        ("d/b (status vs calamine floor)", d / b, "<= 1.5"),
    ]
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        f"Date: {dt.date.today().isoformat()}. Command: `make bench` (benchmarks/run_bench.py).",
        f"Province: {full['units']} units x {full['staff']} staff x 3 months = {full['files']} workbooks.",
        "",
        "| step | seconds | peak MB |",
        "|---|---:|---:|",
    ]
    labels = {
        "a_pandas_openpyxl": "(a) pandas.read_excel(engine='openpyxl') loop, staff sheets only",
        "b_calamine": "(b) python-calamine reading the same sheets (floor)",
        "c_run": "(c) thidua run --period 2024-03, end to end with documents",
        "d_status": "(d) thidua status --period 2024-03",
    }
    for key, label in labels.items():
        seconds, mb = full[key]
        lines.append(f"| {label} | {seconds:.2f} | {mb:.0f} |")
    lines += ["", "| ratio | value | floor |", "|---|---:|---|"]
    lines += [f"| {name} | {value:.2f} | {floor} |" for name, value, floor in ratios]
    lines += ["", f"Peak memory of run/status: {peak:.0f} MB (floor: < 500 MB).", ""]
    if len(runs) > 1:
        lines += ["## Scaling", "", "| units | files | run s | status s | calamine s | run s per 100 units |"]
        lines += ["|---:|---:|---:|---:|---:|---:|"]
        for r in runs:
            lines.append(
                f"| {r['units']} | {r['files']} | {r['c_run'][0]:.2f} | {r['d_status'][0]:.2f} | "
                f"{r['b_calamine'][0]:.2f} | {100 * r['c_run'][0] / r['units']:.2f} |"
            )
        lines.append("")
    text = "\n".join(lines)
    (REPO / "benchmarks" / "RESULTS.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
