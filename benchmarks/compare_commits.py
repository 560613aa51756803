"""The province benchmark for another commit and for this checkout, alternately, on this machine.

RESULTS.md holds one run on one day. The host is shared, and the same code measures up to 1.5x slower
from one hour to the next (see ANALYSIS.md, "Noise"): "no more than 10 % worse than RESULTS.md" is
judged by running the commit that wrote RESULTS.md beside this checkout, in the same hour, each with
its own `benchmarks/run_bench.py --no-scaling` (its own sample province and protocol), and comparing
the ratios, which each run takes within itself.

    python benchmarks/compare_commits.py d5578a1 --rounds 2

The other commit runs from a git worktree in a temporary folder, with this checkout's Python and
packages: a commit whose dependencies differ needs its own environment. Prints one row per bench run
and the median of each ratio per commit.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Rows of a RESULTS.md table: "| c/b (run vs calamine floor) | 5.64 | <= 3 | NO |",
# "| (c) thidua run, month 3, ... | 4.84 | 159 |".
_RATIO = re.compile(r"^\| (c/b|a/c|d/b|c_cold/b_all|peak memory)[^|]*\| ([\d.]+) \|", re.MULTILINE)
_STEP = re.compile(r"^\| \((a|b|c|d)\)[^|]*\| ([\d.]+) \|", re.MULTILINE)
_PROBE = re.compile(r"Load probe[^:]*: ([\d.]+) s then ([\d.]+) s")
COLUMNS = ("a", "b", "c", "d", "c/b", "a/c", "d/b", "peak memory", "c_cold/b_all")


def bench(root: Path, results: Path) -> dict[str, float | str]:
    """One `run_bench.py --no-scaling` of the code under `root`; its figures."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    script = root / "benchmarks" / "run_bench.py"
    command = [sys.executable, str(script), "--no-scaling", "--results", str(results)]
    subprocess.run(command, cwd=root, env=env, check=True, stdout=subprocess.DEVNULL)
    return figures_of(results.read_text(encoding="utf-8"))


def figures_of(text: str) -> dict[str, float | str]:
    """The seconds of steps a-d, the ratios and the load probe of a RESULTS.md text."""
    figures: dict[str, float | str] = {name: float(value) for name, value in _STEP.findall(text)}
    figures.update({name: float(value) for name, value in _RATIO.findall(text)})
    probe = _PROBE.search(text)
    figures["probe"] = f"{probe.group(1)}-{probe.group(2)}" if probe else "?"
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("ref", help="the other commit (the one that wrote RESULTS.md, say)")
    parser.add_argument("--rounds", type=int, default=2, help="bench runs of each, alternated")
    args = parser.parse_args(argv)
    runs: dict[str, list[dict]] = {args.ref: [], "checkout": []}
    print("| run | " + " | ".join(COLUMNS) + " |\n|---|" + "---:|" * len(COLUMNS), flush=True)
    with tempfile.TemporaryDirectory(prefix="thidua-compare-") as temp:
        other = Path(temp) / "other"
        subprocess.run(["git", "worktree", "add", "--detach", str(other), args.ref], cwd=REPO, check=True)
        try:
            subprocess.run([sys.executable, "-m", "compileall", "-q", str(other / "processor")], check=True)
            for round_number in range(args.rounds):
                for label, root in ((args.ref, other), ("checkout", REPO)):
                    figures = bench(root, Path(temp) / f"results-{round_number}.md")
                    runs[label].append(figures)
                    print(_row(f"{label} #{round_number + 1}", figures), flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(other)], cwd=REPO, check=False)
    print("\n| median | " + " | ".join(COLUMNS) + " |\n|---|" + "---:|" * len(COLUMNS))
    for label, figures in runs.items():
        medians = {
            name: statistics.median(values)
            for name in COLUMNS
            if (values := [f[name] for f in figures if isinstance(f.get(name), float)])
        }
        print(_row(label, medians))


def _row(label: str, figures: dict) -> str:
    cells = [f"{figures[name]:.2f}" if isinstance(figures.get(name), float) else "-" for name in COLUMNS]
    probe = figures.get("probe")
    return f"| {label}{f' (probe {probe})' if probe else ''} | " + " | ".join(cells) + " |"


if __name__ == "__main__":
    main()
