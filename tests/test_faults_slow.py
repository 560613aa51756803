"""Faults that take real time (issue #6): `thidua run` killed with SIGKILL at many moments, a real second
run while the first holds the lock, a workbook with a 100 MB shared-strings part. `make test-slow`.

No hook in the product tells the test where the run is: the moments are seen from outside, in the
output folder (staging folder made, a temporary file being written, summary.json or the manifest in
staging, the old folder set aside, the new one published), plus kills at fixed delays.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from processor import pipeline, publish
from processor.config import load_config
from processor.devtools.samples import generate_inbox
from processor.records import Period
from processor.workspace import create_workspace
from tests import processtree
from tests.conftest import REPO
from tests.factories import province_workspace
from tests.test_faults import (
    OUT,
    PERIOD,
    TARGET,
    assert_complete_outputs,
    assert_no_leftovers,
    assert_user_error,
    new_workspace,
    report_rows,
    run_args,
    run_ok,
    snapshot,
    statuses,
)

pytestmark = pytest.mark.slow

OLD_NAME = f"{publish.OLD_PREFIX}{PERIOD}"


def start(workspace: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "processor", *args],
        cwd=workspace,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


# -- SIGKILL at many moments ---------------------------------------------------------------------------


class Runs:
    """A workspace and the two complete outputs a killed run may leave visible: OLD (the previous run,
    made before three February files arrived) and NEW (the uninterrupted run over the full inbox)."""

    def __init__(self, root: Path):
        self.workspace = new_workspace(root / "ThiDua", staff_per_unit=60)
        self.out = self.workspace / OUT
        inbox = self.workspace / "inbox"
        held = root / "held"
        held.mkdir()
        late = sorted(p for p in inbox.iterdir() if re.search(r"2024-02_|02-2024", p.name))[:3]
        assert len(late) == 3
        for path in late:
            shutil.move(path, held / path.name)
        run_ok(self.workspace)
        self.old = snapshot(self.out / PERIOD)
        self.old_copy = root / "old-copy"
        shutil.copytree(self.out / PERIOD, self.old_copy)
        for path in late:
            shutil.move(held / path.name, inbox / path.name)
        started = time.perf_counter()
        run_ok(self.workspace)
        self.duration = time.perf_counter() - started
        self.new = snapshot(self.out / PERIOD)
        assert self.old != self.new and self.old["summary.json"] != self.new["summary.json"]

    def reset(self) -> None:
        """Back to the previous outputs, as before the clerk's next run."""
        for path in self.out.iterdir():
            if path.is_dir():
                shutil.rmtree(path)
        shutil.copytree(self.old_copy, self.out / PERIOD)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Runs:
    return Runs(tmp_path_factory.mktemp("killed"))


def _staging(out: Path) -> list[Path]:
    return [p for p in out.glob(f"{publish.STAGING_PREFIX}*") if p.is_dir()]


def _in_staging(pattern: str) -> Callable[[Path], bool]:
    def seen(out: Path) -> bool:
        return any(next(s.rglob(pattern), None) is not None for s in _staging(out))

    return seen


def _published(runs: Runs) -> Callable[[Path], bool]:
    """The new folder is in place: its manifest is the new one (the old folder may still be going)."""
    manifest = runs.new["manifest.json"]

    def seen(out: Path) -> bool:
        try:
            return (out / PERIOD / "manifest.json").read_bytes() == manifest
        except OSError:
            return False

    return seen


MOMENTS: dict[str, Callable[[Runs], Callable[[Path], bool] | float]] = {
    "0.15 s: starting up": lambda runs: 0.15,
    "0.5 s: reading the inbox": lambda runs: 0.5,
    "staging folder made": lambda runs: lambda out: bool(_staging(out)),
    "a first temporary file": lambda runs: _in_staging("*.tmp-thidua"),
    "an annotated copy written": lambda runs: _in_staging("phan-hoi/*_kiem-tra.xlsx"),
    "tong-hop.xlsx being written": lambda runs: _in_staging(".tong-hop.xlsx.*"),
    "summary.json in staging": lambda runs: _in_staging("summary.json"),
    "a document being written": lambda runs: _in_staging(".*.docx.*"),
    "manifest in staging, about to publish": lambda runs: _in_staging("manifest.json"),
    "old folder set aside": lambda runs: lambda out: (out / OLD_NAME).exists(),
    "new folder published": _published,
}
FRACTIONS = (0.3, 0.5, 0.7, 0.85, 1.0, 1.1, 1.25)  # of an uninterrupted run's duration


def _kill_at(runs: Runs, moment: Callable[[Path], bool] | float) -> bool:
    """Start a run and SIGKILL it at the moment; False if it finished first."""
    proc = start(runs.workspace, *run_args())
    started = time.perf_counter()
    workers: set[int] = set()
    try:
        while proc.poll() is None:
            due = (time.perf_counter() - started >= moment) if isinstance(moment, float) else moment(runs.out)
            if due:
                workers = processtree.descendants(proc.pid)
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.0005)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    # Its worker processes end with it (processes._exit_with_parent), busy or idle.
    assert processtree.wait_gone(workers, 15) == set()
    return proc.returncode == -signal.SIGKILL


def _check_after_kill(runs: Runs) -> str:
    """The previous outputs or the new ones, each whole and readable; nothing under a final name besides."""
    out = runs.out
    for path in out.iterdir():
        assert path.name == PERIOD or path.name.startswith("."), path.name
    if (out / PERIOD).exists():
        state = snapshot(out / PERIOD)
        assert state in (runs.old, runs.new)
        assert_complete_outputs(out / PERIOD)
        return "old" if state == runs.old else "new"
    # Killed between the two renames: the previous outputs are whole, set aside for the next run.
    assert snapshot(out / OLD_NAME) == runs.old
    assert_complete_outputs(out / OLD_NAME)
    return "old, set aside"


def _kill_and_recover(runs: Runs, moment) -> tuple[bool, str]:
    runs.reset()
    killed = _kill_at(runs, moment)
    seen = _check_after_kill(runs)
    run_ok(runs.workspace)
    assert snapshot(runs.out / PERIOD) == runs.new  # as if never interrupted
    assert json.loads(runs.new["summary.json"])["period"] == PERIOD
    # Killed while saving the validation memo: the next run leaves that temporary file for a minute
    # (a `thidua status`, which takes no lock, could be writing it); anything else must be gone.
    for young in (runs.out / pipeline.CACHE_DIR).glob(".validated.json.*.tmp-thidua"):
        young.unlink()
    assert_no_leftovers(runs.out)
    return killed, seen


@pytest.mark.parametrize("name", list(MOMENTS))
def test_sigkill_at_a_moment(runs, name):
    killed, seen = _kill_and_recover(runs, MOMENTS[name](runs))
    # These states last long enough for the watcher to see them before publishing: the kill lands.
    if name.startswith("0.") or name in ("staging folder made", "summary.json in staging"):
        assert killed and seen == "old"
    if name == "new folder published":
        assert seen == "new"


def test_sigkill_at_fractions_of_a_run(runs):
    outcomes = [_kill_and_recover(runs, runs.duration * f) for f in FRACTIONS]
    rng = random.Random(6)
    outcomes += [_kill_and_recover(runs, rng.uniform(0.2, 1.3) * runs.duration) for _ in range(4)]
    killed = [seen for was_killed, seen in outcomes if was_killed]
    assert len(killed) >= len(FRACTIONS) // 2, outcomes  # most kills land inside the run
    assert "old" in killed, outcomes


# -- two real runs at once -------------------------------------------------------------------------------


def province_config_text(n_units: int) -> str:
    """The shipped config with its roster replaced by n synthetic units."""
    from tests.conftest import REPO

    text = (REPO / "config.toml").read_text(encoding="utf-8")
    text = re.sub(r"\[\[units\]\]\n(?:(?!\n\n|\n#).)*\n\n", "", text, flags=re.S)
    units = "".join(
        f'[[units]]\ncode = "DV{i:04d}"\nname = "Đơn vị số {i}"\nemails = ["dv{i:04d}@laocai.gov.vn"]\n\n'
        for i in range(1, n_units + 1)
    )
    return text + "\n" + units


def _lock_held(lock_file: Path) -> bool | None:
    """Whether some process holds an OS lock on the file (Linux /proc/locks); None if unknown."""
    try:
        table = Path("/proc/locks").read_text()
        inode = lock_file.stat().st_ino
    except OSError:
        return None
    return any(line.split()[5].endswith(f":{inode}") for line in table.splitlines() if len(line.split()) > 5)


def test_a_second_real_run_refuses_while_the_first_writes(tmp_path):
    workspace = tmp_path / "Tinh"
    create_workspace(workspace)
    (workspace / "config.toml").write_text(province_config_text(120), encoding="utf-8")
    config = load_config(workspace / "config.toml")
    periods = [Period.parse("2024-01"), Period.parse(PERIOD)]
    generate_inbox(config, workspace / "inbox", periods, scenario="clean", staff_per_unit=30, as_email=False)

    first = start(workspace, *run_args())
    lock_file = workspace / OUT / pipeline.LOCK_NAME
    deadline = time.perf_counter() + 30
    while first.poll() is None and time.perf_counter() < deadline:
        if lock_file.exists() and _lock_held(lock_file) in (True, None):
            break
        time.sleep(0.005)
    assert first.poll() is None, first.stderr.read()
    second = subprocess.run(
        [sys.executable, "-m", "processor", *run_args()],
        cwd=workspace,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        timeout=120,
    )
    still_running = first.poll() is None
    assert_user_error(second, "Một lần chạy khác đang ghi vào output")
    assert still_running  # the refusal came while the first run was writing
    assert first.wait(timeout=120) == 0, first.stderr.read()
    first.stderr.close()
    written = snapshot(workspace / OUT / PERIOD)
    assert_complete_outputs(workspace / OUT / PERIOD)
    assert_no_leftovers(workspace / OUT)
    run_ok(workspace)
    assert snapshot(workspace / OUT / PERIOD) == written


# -- a 100 MB shared-strings part that is not a zip bomb -----------------------------------------------


def shared_strings_100mb() -> bytes:
    """100 MB of distinct strings: compresses only about 5 times, so neither the compression-ratio
    check nor the 20 MB file cap stops it; the file is just under 20 MB."""
    rng = random.Random(100)
    head = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    parts, size, n = [head], len(head), 0
    while size < 100 * 1024 * 1024:
        item = b"<si><t>%d %08x chuoi van ban</t></si>" % (n, rng.getrandbits(32))
        parts.append(item)
        size += len(item)
        n += 1
    parts.append(b"</sst>")
    return b"".join(parts)


@pytest.fixture(scope="module")
def big_strings_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("sst100")
    workspace = new_workspace(root / "ThiDua", "clean", as_email=False)
    run_ok(workspace)
    baseline = json.loads((workspace / OUT / PERIOD / "summary.json").read_text(encoding="utf-8"))
    inbox = workspace / "inbox"
    hostile = inbox / "doc-hai" / "chuoi-100mb.xlsx"
    hostile.parent.mkdir()
    # Built in a child process: a parent holding ~500 MB would make the measured child's peak (fork
    # before exec) show the parent's memory, not thidua's.
    build = (
        "import sys; from pathlib import Path; "
        "from tests.test_faults import with_shared_strings; "
        "from tests.test_faults_slow import shared_strings_100mb; "
        "data = with_shared_strings(Path(sys.argv[1]).read_bytes(), shared_strings_100mb()); "
        "Path(sys.argv[2]).write_bytes(data)"
    )
    subprocess.run([sys.executable, "-c", build, str(inbox / TARGET), str(hostile)], cwd=REPO, check=True)
    assert 15 * 1024 * 1024 < hostile.stat().st_size < 20 * 1024 * 1024
    older = (inbox / TARGET).stat().st_mtime_ns - 86_400 * 10**9  # if it were taken, the real file wins
    os.utime(hostile, ns=(older, older))

    proc = start(workspace, *run_args())
    began = time.perf_counter()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - began
    stderr = proc.stderr.read().decode("utf-8")
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0, stderr
    summary = json.loads((workspace / OUT / PERIOD / "summary.json").read_text(encoding="utf-8"))
    yield {
        "workspace": workspace,
        "seconds": seconds,
        "peak_mb": usage.ru_maxrss / 1024,
        "summary": summary,
        "baseline": baseline,
        "name": "doc-hai/chuoi-100mb.xlsx",
    }
    hostile.unlink()


def test_100mb_shared_strings_in_bounded_time_and_memory(big_strings_run):
    """Whatever becomes of the file, the run ends in seconds, within a hard memory ceiling, and the good
    files are aggregated exactly as without it."""
    run = big_strings_run
    assert run["seconds"] < 20
    assert run["peak_mb"] < 1024, run["peak_mb"]
    summary, baseline = run["summary"], run["baseline"]
    for key in ("reporting", "units", "totals", "targets"):
        assert summary[key] == baseline[key], key
    found = statuses(summary)
    found.pop(run["name"])
    assert found == statuses(baseline)


def test_100mb_shared_strings_is_refused_with_a_finding_under_500mb(big_strings_run):
    run = big_strings_run
    entry = next(e for e in run["summary"]["generated_from"] if e["name"] == run["name"])
    assert entry["status"] == "unreadable"
    rows = report_rows(run["workspace"] / OUT / PERIOD / f"kiem-tra-{PERIOD}.xlsx")
    assert any(row[2] == run["name"] and row[9] for row in rows)
    assert run["peak_mb"] < 500, run["peak_mb"]


def test_workers_started_as_on_windows_give_the_same_files(tmp_path):
    """Windows starts worker processes by spawning a fresh interpreter (Linux forks): with enough files
    for both the validation workers and the second process, a spawned run writes the same bytes."""
    from processor.processes import START_METHOD_VARIABLE

    root = province_workspace(tmp_path / "office", n_units=80, staff=4)
    files = sum(1 for p in (root / "inbox").rglob("*") if p.is_file())
    assert files >= pipeline.SECOND_PROCESS_FILES
    outputs = {}
    for method in ("fork", "spawn"):
        env = {**os.environ, "PYTHONIOENCODING": "utf-8", START_METHOD_VARIABLE: method}
        done = subprocess.run(
            [sys.executable, "-m", "processor", "run", "--period", "2024-03", "--out", f"out-{method}"],
            cwd=root,
            env=env,
            capture_output=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
        folder = root / f"out-{method}" / "2024-03"
        outputs[method] = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert any(p.parts[0] == "phan-hoi" for p in outputs["fork"])  # the second process had work
    assert outputs["spawn"] == outputs["fork"]


# -- SIGKILL while the clerk's files are moved into the new folder (issue #12) --------------------------

CLERK_NOTES = 300  # enough single files that the moves after the swap take a moment a watcher can see


class KeptRuns:
    """A period folder holding the clerk's own files (notes, a notes folder, a signed PDF) and an edited
    report, before a run over the same inbox: OLD is that folder; a finished run leaves the program's
    NEW files plus every clerk file, same bytes, in a da-sua-* folder."""

    def __init__(self, root: Path):
        self.workspace = new_workspace(root / "ThiDua", staff_per_unit=20)
        self.out = self.workspace / OUT
        run_ok(self.workspace)
        self.program = snapshot(self.out / PERIOD)
        period_dir = self.out / PERIOD
        self.clerk = {f"ghi-chu-{i:03d}.txt": f"Ghi chú số {i}\n".encode() for i in range(CLERK_NOTES)}
        self.clerk["ho-so/bien-ban.txt"] = "Biên bản họp\n".encode()
        self.clerk["phan-hoi/da-gui.txt"] = "Đã gửi\n".encode()
        self.clerk["bao-cao-da-ky.pdf"] = b"%PDF-1.7\n%%EOF\n"
        report = f"bao-cao-{PERIOD}.docx"
        self.clerk[report] = self.program[report] + b"\x00edited"  # what Word saved
        for relative, data in self.clerk.items():
            (period_dir / relative).parent.mkdir(parents=True, exist_ok=True)
            (period_dir / relative).write_bytes(data)
        self.old = snapshot(period_dir)
        self.old_copy = root / "old-copy"
        shutil.copytree(period_dir, self.old_copy)
        started = time.perf_counter()
        run_ok(self.workspace)
        self.duration = time.perf_counter() - started
        assert self.split(period_dir) == (self.program, self.clerk)

    def reset(self) -> None:
        for path in self.out.iterdir():
            if path.is_dir() and path.name != pipeline.CACHE_DIR:
                shutil.rmtree(path)
            elif path.name.startswith(publish.PLAN_PREFIX):
                path.unlink()
        shutil.copytree(self.old_copy, self.out / PERIOD)

    @staticmethod
    def split(period_dir: Path) -> tuple[dict[str, bytes], dict[str, bytes]]:
        """(the program's files, the kept ones by their path inside da-sua-*); each kept file once."""
        program, kept = {}, {}
        for relative, data in snapshot(period_dir).items():
            head, _, rest = relative.partition("/")
            if head.startswith(publish.KEPT_PREFIX):
                assert rest not in kept, rest  # kept twice
                kept[rest] = data
            else:
                program[relative] = data
        return program, kept


@pytest.fixture(scope="module")
def kept_runs(tmp_path_factory) -> KeptRuns:
    return KeptRuns(tmp_path_factory.mktemp("kept"))


def _moving(out: Path) -> bool:
    """Published, and the first kept file is in the dated folder while the old folder still holds more."""
    return (out / OLD_NAME).exists() and any(
        next(folder.iterdir(), None) is not None for folder in (out / PERIOD).glob(f"{publish.KEPT_PREFIX}*")
    )


KEPT_MOMENTS: dict[str, Callable[[KeptRuns], Callable[[Path], bool] | float]] = {
    "plan written": lambda runs: lambda out: (out / f"{publish.PLAN_PREFIX}{PERIOD}.json").exists(),
    "old folder set aside": lambda runs: lambda out: (out / OLD_NAME).exists(),
    "new folder published": lambda runs: lambda out: (out / OLD_NAME).exists() and (out / PERIOD).exists(),
    "kept files being moved": lambda runs: _moving,
    "at 0.9 of a run": lambda runs: runs.duration * 0.9,
    "at 1.0 of a run": lambda runs: runs.duration * 1.0,
}


def _every_clerk_file_somewhere(runs: KeptRuns) -> None:
    """Nothing lost at the kill: each clerk file, same bytes, where it was, set aside, or moved."""
    places = [runs.out / PERIOD, runs.out / OLD_NAME]
    places += list((runs.out / PERIOD).glob(f"{publish.KEPT_PREFIX}*"))
    for relative, data in runs.clerk.items():
        found = [p / relative for p in places if (p / relative).is_file()]
        assert any(path.read_bytes() == data for path in found), relative


@pytest.mark.parametrize("name", list(KEPT_MOMENTS))
def test_sigkill_while_keeping_the_clerks_files(kept_runs, name):
    runs = kept_runs
    runs.reset()
    killed = _kill_at(runs, KEPT_MOMENTS[name](runs))
    _every_clerk_file_somewhere(runs)
    # `status` puts the period folder back (or finishes the moves) as a run would.
    proc = start(runs.workspace, "status", "--period", PERIOD, "--config", "config.toml")
    assert proc.wait(timeout=120) == 0
    stderr = proc.stderr.read().decode("utf-8")
    proc.stderr.close()
    assert "Traceback" not in stderr, stderr
    assert not (runs.out / OLD_NAME).exists()
    assert not list(runs.out.glob(f"{publish.PLAN_PREFIX}*"))
    state = snapshot(runs.out / PERIOD)
    if state != runs.old:  # killed after the swap: the new files, every clerk file kept
        assert runs.split(runs.out / PERIOD) == (runs.program, runs.clerk), name
    run_ok(runs.workspace)
    assert runs.split(runs.out / PERIOD) == (runs.program, runs.clerk)
    for young in (runs.out / pipeline.CACHE_DIR).glob(".validated.json.*.tmp-thidua"):
        young.unlink()
    assert_no_leftovers(runs.out)
    if name in ("plan written", "old folder set aside"):
        assert killed
