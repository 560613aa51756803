"""The province benchmark (`make bench`, not part of `make test`) kept from rotting: the same script on a
five-unit province, its results written to a temporary file and read back."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


# 14 s of the fast suite's 3 minutes: with the benchmarks, in `make test-slow` (CI runs both).
@pytest.mark.slow
def test_benchmark_script_runs_every_step_and_writes_its_results(tmp_path):
    results = tmp_path / "RESULTS.md"
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "run_bench.py"),
            "--units",
            "5",
            "--staff",
            "8",
            "--no-scaling",
            "--results",
            str(results),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = results.read_text(encoding="utf-8")
    assert "5 units x 8 staff x 3 months (15 workbooks); timed on month 3's 5 workbooks" in text
    timed = dict(re.findall(r"^\| \(?(\w+)\)?[^|]*\| ([0-9.]+) \| [0-9]+ \|$", text, re.M))
    assert set(timed) == {"a", "b", "c", "d", "c_cold", "b_all"}
    assert all(float(seconds) > 0 for seconds in timed.values())
    for ratio in ("c/b", "a/c", "d/b", "peak memory", "c_cold/b_all"):
        row = rf"^\| {re.escape(ratio)}[^|]*\| [0-9.]+ \| [<>]=? [0-9.]+ \| (yes|NO) \|$"
        assert re.search(row, text, re.M), ratio
    # The status and --help probes ran, and the floor on their imports holds.
    assert re.search(r"`thidua --help` imports: .* \(holds\)", text)
    assert re.search(r"`thidua status` imports: .* \(holds\)", text)
    # The benchmark leaves nothing in the repository but what it was told to write.
    assert not (REPO / "benchmarks" / "RESULTS.md").is_file() or "5 units x 8 staff" not in (
        REPO / "benchmarks" / "RESULTS.md"
    ).read_text(encoding="utf-8")


def _compare_commits():
    script = REPO / "benchmarks" / "compare_commits.py"
    spec = importlib.util.spec_from_file_location("compare_commits", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_compare_commits_reads_the_figures_of_a_results_file():
    """benchmarks/compare_commits.py reads each bench's RESULTS.md: the committed one, read back, gives
    steps and ratios that agree with each other (a/c is a over c, c/b is c over b, within the rounding
    of the seconds shown)."""
    figures = _compare_commits().figures_of((REPO / "benchmarks" / "RESULTS.md").read_text(encoding="utf-8"))
    assert {"a", "b", "c", "d", "c/b", "a/c", "d/b", "peak memory", "c_cold/b_all"} <= set(figures)
    assert figures["a/c"] == pytest.approx(figures["a"] / figures["c"], rel=0.02)
    assert figures["c/b"] == pytest.approx(figures["c"] / figures["b"], rel=0.02)
    assert figures["d/b"] == pytest.approx(figures["d"] / figures["b"], rel=0.02)
    assert 0 < figures["peak memory"] < 10_000
    assert re.fullmatch(r"[0-9.]+-[0-9.]+", figures["probe"])
