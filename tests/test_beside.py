"""render/beside.py: a rendering job in a forked child, with the calling process as the fallback."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from processor import pipeline, samples
from processor.config import load_config
from processor.records import Period
from processor.render.atomic import TEMP_SUFFIX
from processor.render.beside import Beside, can_fork

REPO = Path(__file__).resolve().parents[1]
needs_fork = pytest.mark.skipif(not can_fork(), reason="the second process is used on Linux only")


@needs_fork
def test_job_runs_in_a_child_and_returns_its_result(tmp_path):
    def job():
        (tmp_path / "written.txt").write_text(str(os.getpid()), encoding="utf-8")
        return [os.getpid(), tmp_path / "written.txt"]

    started = Beside(job, enabled=True)
    pid, path = started.result()
    assert pid != os.getpid()
    assert path.read_text(encoding="utf-8") == str(pid)


def test_disabled_job_runs_here(tmp_path):
    assert Beside(os.getpid, enabled=False).result() == os.getpid()


@needs_fork
def test_a_failed_child_is_redone_here_and_its_temporary_files_swept(tmp_path):
    parent = os.getpid()
    stray = tmp_path / "sub" / f".tong-hop.xlsx.1234{TEMP_SUFFIX}"

    def job():
        if os.getpid() != parent:
            stray.parent.mkdir()
            stray.write_bytes(b"half")
            raise OSError("disk full in the child")
        return "done here"

    assert Beside(job, enabled=True, folders=(tmp_path,)).result() == "done here"
    assert not stray.exists()


@needs_fork
def test_an_error_is_raised_by_the_calling_process():
    def job():
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        Beside(job, enabled=True).result()


@needs_fork
def test_close_stops_a_child_still_running(tmp_path):
    marker = tmp_path / "finished"

    def job():
        time.sleep(30)
        marker.write_text("late", encoding="utf-8")

    started = Beside(job, enabled=True)
    pid = started._pid
    began = time.monotonic()
    started.close()
    assert time.monotonic() - began < 5
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped: no zombie left
    assert not marker.exists()


@needs_fork
def test_run_with_feedback_beside_gives_the_same_bytes(tmp_path, monkeypatch):
    config = load_config(REPO / "config.toml")
    inbox = tmp_path / "inbox"
    period = Period.parse("2024-02")
    samples.generate_inbox(config, inbox, [Period.parse("2024-01"), period], scenario="demo")
    monkeypatch.setattr(pipeline, "FEEDBACK_BESIDE_FILES", 10**9)
    alone = pipeline.run_period(config, str(period), inbox, tmp_path / "alone")
    monkeypatch.setattr(pipeline, "FEEDBACK_BESIDE_FILES", 1)
    beside = pipeline.run_period(config, str(period), inbox, tmp_path / "beside")
    assert any("phan-hoi" in p.parts for p in beside.outputs), "the demo inbox has files with findings"
    assert [p.relative_to(beside.out_dir) for p in beside.outputs] == [
        p.relative_to(alone.out_dir) for p in alone.outputs
    ]
    for path in alone.outputs:
        assert (beside.out_dir / path.relative_to(alone.out_dir)).read_bytes() == path.read_bytes(), path
