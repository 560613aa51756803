"""Worker processes end with the run that started them (processes.process_pool): a run killed outright
(SIGKILL, the Task Manager) cannot stop its pool, and its workers must not stay behind for days."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from processor.processes import START_METHOD_VARIABLE
from tests.conftest import REPO
from tests.processtree import alive, wait_gone

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads Linux's /proc")

# The run's stand-in: a pool of two workers, one busy with a long job and one idle, whose ids it prints.
PARENT = textwrap.dedent(
    """
    import os, sys, time
    from processor.processes import process_pool

    def slow_pid():
        time.sleep(0.5)
        return os.getpid()

    def main():
        pool = process_pool(2)
        ids = {job.result() for job in [pool.submit(slow_pid) for _ in range(2)]}  # one on each worker
        pool.submit(time.sleep, 3600)
        print(" ".join(map(str, sorted(ids))), flush=True)
        time.sleep(3600)

    if __name__ == "__main__":
        main()
    """
)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_workers_end_when_the_run_is_killed(tmp_path, method):
    script = tmp_path / "run.py"
    script.write_text(PARENT, encoding="utf-8")
    env = {**os.environ, START_METHOD_VARIABLE: method, "PYTHONPATH": str(REPO)}
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env)
    workers: set[int] = set()
    try:
        workers = {int(pid) for pid in parent.stdout.readline().split()}
        assert len(workers) == 2, workers
        assert all(alive(pid) for pid in workers)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
        assert wait_gone(workers, 15) == set()
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()
        for pid in wait_gone(workers, 0):  # a failed run of this test leaves none behind either
            os.kill(pid, signal.SIGKILL)


def test_workers_live_while_the_run_does(tmp_path):
    """The watch ends a worker only when its parent is gone: a run's pool outlives its first jobs."""
    from processor.processes import process_pool

    with process_pool(1) as pool:
        first = pool.submit(os.getpid).result()
        assert wait_gone({first}, 2.5) == {first}  # past two of the watch's one-second checks
        assert pool.submit(os.getpid).result() == first
