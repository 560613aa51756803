"""The fuzz harness (`make fuzz`, not part of `make test`) kept honest: the same --seed gives the same
mutants byte for byte, and its `thidua run` stage judges a real workspace (it can fail)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from processor.config import load_config

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "fuzz_inputs.py"

pytestmark = pytest.mark.slow


def _harness():
    if "fuzz_inputs" not in sys.modules:  # its dataclass looks its module up there
        spec = importlib.util.spec_from_file_location("fuzz_inputs", SCRIPT)
        sys.modules["fuzz_inputs"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules["fuzz_inputs"])
    return sys.modules["fuzz_inputs"]


def _fingerprint(fuzz, root: Path, seed: int) -> str:
    workspace, seeds = fuzz.make_seeds(root)
    jobs = fuzz.make_mutants(seeds, 25, seed, root / "mutants")
    config = load_config(workspace / "config.toml")
    maker = fuzz.RunMutants(random.Random(f"{seed}/run"), config, seeds, jobs)
    digest = hashlib.sha256()
    for job in jobs:
        digest.update(Path(job["path"]).read_bytes())
    for number in range(60):
        mutant = maker.make(number)
        digest.update(mutant.name + mutant.data + repr(mutant.mtime).encode())
    return digest.hexdigest()


def test_the_same_seed_gives_the_same_mutants_byte_for_byte(tmp_path):
    fuzz = _harness()
    first = _fingerprint(fuzz, tmp_path / "a", seed=5)
    assert _fingerprint(fuzz, tmp_path / "b", seed=5) == first
    assert _fingerprint(fuzz, tmp_path / "c", seed=6) != first


def test_the_run_stage_judges_each_workspace_and_keeps_its_mutants(tmp_path):
    out = tmp_path / "fuzz"
    options = ["--count", "4", "--cli", "1", "--run", "6", "--run-workspaces", "2", "--bisect", "0"]
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), *options, "--seed", "3", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "6 mutants of names, senders and dates through `thidua run` in 2 workspaces" in proc.stdout
    results = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    runs = [r for r in results if r.get("kind") == "run"]
    assert [r["mutants"] for r in runs] == [3, 3]
    for index in range(2):
        container = out / "run" / f"{index:02d}"
        kept = json.loads((container / "mutants.json").read_text(encoding="utf-8"))
        assert len(kept["mutants"]) == 3
        assert all((container / "ws" / "inbox" / m["id"]).is_dir() for m in kept["mutants"])

    # The judge fails a run that does not name a file it was given, and one that writes beside it.
    fuzz = _harness()
    container = out / "run" / "00"
    ghost = fuzz.Mutant(9999, "name", "never placed", b"ghost.xlsx", b"", 0)
    (container / "stray.txt").write_text("written outside the workspace", encoding="utf-8")
    result = fuzz.judge_run(container, "2024-01", fuzz._snapshot(container), [ghost], 300)
    if result["signature"] is None:  # the run itself went through: the judge must still see both
        assert any("m9999 not accounted for" in p for p in result["problems"]), result["problems"]
    assert any("wrote beside the workspace" in p for p in result["problems"]), result["problems"]
