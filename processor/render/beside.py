"""One rendering job in a second process, beside the rest of the run.

On a two-core machine the feedback of a province (a copy of each workbook with findings, opened and
saved by openpyxl, and the clerk's report of every file) takes as long as the rest of the rendering
together; done in a forked child it costs no wall time. Linux only (fork is cheap there and the child
inherits the run's records without copying or pickling them); elsewhere, or when the child fails, the
job simply runs in the calling process, where its errors are raised as usual.

The child writes its files into the same staging folder, returns its result pickled through a pipe, and
dies with its parent (a run killed by the user or the system leaves no orphan writing behind it).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from processor.render.atomic import remove_stale_temps

T = TypeVar("T")


def can_fork() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork")


class Beside(Generic[T]):
    """`job()` started in a forked child when `enabled`; `result()` waits for it (or runs it here)."""

    def __init__(self, job: Callable[[], T], *, enabled: bool, folders: tuple[Path, ...] = ()) -> None:
        self._job = job
        self._folders = folders  # where the job writes: its temporary files are swept if it fails
        self._pid: int | None = None
        self._read: int | None = None
        if enabled and can_fork():
            self._start()

    def _start(self) -> None:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()  # else both processes would print what is buffered
        read, write = os.pipe()
        parent = os.getpid()
        try:
            pid = os.fork()
        except OSError:
            os.close(read)
            os.close(write)
            return  # no second process to be had: the job runs in this one
        if pid == 0:
            os.close(read)
            _child(self._job, write, parent)
        os.close(write)
        self._pid, self._read = pid, read

    def result(self) -> T:
        if self._pid is None:
            return self._job()
        assert self._read is not None
        with os.fdopen(self._read, "rb") as stream:
            data = stream.read()
        self._read = None
        _, status = os.waitpid(self._pid, 0)
        self._pid = None
        if os.waitstatus_to_exitcode(status) == 0 and data:
            return pickle.loads(data)  # our own child's answer, through our own pipe
        # The child failed (or was killed): do the job here, so its error surfaces as it would have.
        for folder in self._folders:
            for path in (folder, *(p for p in folder.rglob("*") if p.is_dir())) if folder.is_dir() else ():
                remove_stale_temps(path)
        return self._job()

    def close(self) -> None:
        """Stop a child still running (the run failed elsewhere) and reap it."""
        if self._pid is not None:
            with contextlib.suppress(OSError):
                os.kill(self._pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.waitpid(self._pid, 0)
            self._pid = None
        if self._read is not None:
            with contextlib.suppress(OSError):
                os.close(self._read)
            self._read = None


def _child(job: Callable[[], object], write: int, parent: int) -> None:
    code = 1
    try:
        _die_with(parent)
        data = pickle.dumps(job())
        with os.fdopen(write, "wb") as stream:
            stream.write(data)
        code = 0
    except BaseException:  # the parent redoes the job and reports its error
        pass
    finally:
        # No cleanup of the parent's: its lock, temporary files and buffers are not the child's.
        os._exit(code)


def _die_with(parent: int) -> None:
    """Ask Linux to kill this child when its parent dies (prctl PR_SET_PDEATHSIG)."""
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
