"""Worker processes, started the way the clerk's platform starts them.

Linux forks a worker; Windows spawns a fresh interpreter that imports what it needs and receives its
job pickled. Every job is therefore a top-level function of plain, picklable data. Setting
THIDUA_START_METHOD=spawn makes Linux start workers as Windows does, so the tests can prove it.
"""

from __future__ import annotations

import concurrent.futures
import os

START_METHOD_VARIABLE = "THIDUA_START_METHOD"


def process_pool(
    max_workers: int, *, memory_budget: int | None = None, **kwargs
) -> concurrent.futures.ProcessPoolExecutor:
    """A pool; with `memory_budget`, each worker's address space may grow by that many bytes at most
    (see `limit_memory`) before the pool's initializer runs."""
    import multiprocessing

    method = os.environ.get(START_METHOD_VARIABLE)
    context = multiprocessing.get_context(method) if method else None
    kwargs["initargs"] = (memory_budget, kwargs.get("initializer"), kwargs.get("initargs", ()))
    kwargs["initializer"] = _start_worker
    return concurrent.futures.ProcessPoolExecutor(max_workers=max_workers, mp_context=context, **kwargs)


def _start_worker(budget: int | None, initializer, initargs: tuple) -> None:
    # Top-level so that Windows (spawn) can pickle it by name.
    _exit_with_parent()
    if budget is not None:
        limit_memory(budget)
    if initializer is not None:
        initializer(*initargs)


def _exit_with_parent() -> None:
    """End this worker when the run that started it dies.

    A run killed outright (SIGKILL, the Task Manager's End task, a power button) cannot stop its pool,
    and an idle worker waits on its job queue forever: every write end of that pipe is held by some
    worker, so none sees the end of it. The workers would stay, holding memory, until the PC restarts.
    multiprocessing gives each child a sentinel that becomes ready when its parent is gone (a pipe on
    POSIX, the parent's process handle on Windows); a daemon thread waits on it. On POSIX the parent's
    id changing is checked too, in case a process started later holds the sentinel pipe open.
    """
    import multiprocessing
    import threading

    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:
        return
    threading.Thread(
        target=_watch_parent, args=(parent.sentinel, os.getppid()), name="thidua-parent-watch", daemon=True
    ).start()


def _watch_parent(sentinel: int, parent_id: int) -> None:
    from multiprocessing.connection import wait

    while not wait([sentinel], timeout=1.0):
        if os.name == "posix" and os.getppid() != parent_id:
            break
    os._exit(1)  # the run is gone: its outputs are written atomically, a half-done job leaves none


def limit_memory(budget: int) -> int | None:
    """Cap this process's address space at what it holds now plus `budget` bytes; the cap set, or None.

    POSIX only (RLIMIT_AS). The cap counts address space, not memory in use: a forked worker starts
    with its parent's (shared, mostly untouched), and calamine's and the allocator's arenas reserve
    more than they fill, hence a budget above what a file needs rather than a fixed total. Past the cap
    an allocation fails at once: Python raises MemoryError, calamine's native code aborts the worker
    (both become a finding on the file, see validation.ValidationPool). Windows has no such limit without
    pywin32 (a job object): there the reader's bounds, checked before calamine reads, are the only
    ceiling (cells per sheet, part and total sizes: see reader.py).
    """
    try:
        import resource
    except ImportError:  # Windows
        return None
    cap = _address_space() + budget
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    if soft != resource.RLIM_INFINITY and soft <= cap:
        return soft  # already capped lower (a test, or the clerk's own ulimit)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    return cap


def _address_space() -> int:
    """Bytes of address space this process holds (Linux /proc; 0 where unknown: macOS does not
    enforce RLIMIT_AS anyway)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            pages = int(statm.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def stop_workers(pool: concurrent.futures.ProcessPoolExecutor) -> None:
    """End a pool one of whose workers hangs: its processes are terminated, so its pending jobs fail
    (BrokenProcessPool) instead of being waited for. Python 3.14 has this built in; before it, the pool's
    process table is the only handle on its workers.

    The one place a library's private attribute is read (ProcessPoolExecutor._processes, before 3.14). It
    buys no speed: without it a file that makes the reader loop holds the batch forever (shutdown waits
    for the worker). tests/test_library_seams.py fails if the pool stops honouring it. pebble's ProcessPool
    would do this publicly, but its per-task timeout ends one task's worker, and the batches of 16 files
    that keep the pool's messages few would need the same retry logic around it: not adopted."""
    terminate = getattr(pool, "terminate_workers", None)
    if terminate is not None:
        terminate()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
