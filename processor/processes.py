"""Worker processes, started the way the clerk's platform starts them.

Linux forks a worker; Windows spawns a fresh interpreter that imports what it needs and receives its
job pickled. Every job is therefore a top-level function of plain, picklable data. Setting
THIDUA_START_METHOD=spawn makes Linux start workers as Windows does, so the tests can prove it.
"""

from __future__ import annotations

import concurrent.futures
import os

START_METHOD_VARIABLE = "THIDUA_START_METHOD"


def process_pool(max_workers: int, **kwargs) -> concurrent.futures.ProcessPoolExecutor:
    import multiprocessing

    method = os.environ.get(START_METHOD_VARIABLE)
    context = multiprocessing.get_context(method) if method else None
    return concurrent.futures.ProcessPoolExecutor(max_workers=max_workers, mp_context=context, **kwargs)


def stop_workers(pool: concurrent.futures.ProcessPoolExecutor) -> None:
    """End a pool one of whose workers hangs: its processes are terminated, so its pending jobs fail
    (BrokenProcessPool) instead of being waited for. Python 3.14 has this built in; before it, the pool's
    process table is the only handle on its workers."""
    terminate = getattr(pool, "terminate_workers", None)
    if terminate is not None:
        terminate()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
