"""Validate, over many files: the memo first, then validate.validate_workbook in worker processes.

The pool (ValidationPool) is the one place where worker processes are driven: batches, a dead worker's
batch tried again file by file in fresh processes, time limits, each worker's memory ceiling
(processes.py starts and stops the processes). Its interface is small: `offer` a workbook as soon as
collect has read it, then ask for the `results`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from processor import findings as catalogue
from processor.collect import Collected, read_source
from processor.config import Config
from processor.ingest_cache import ValidationCache
from processor.records import FileStatus, Incoming, Submission

Progress = Callable[[int, int], None]
# From this many files to validate, their staff rows share texts with the memo's (see validate_collected).
SHARE_FRESH_FILES = 4000
Validated = tuple[Submission, str | None]  # a submission and, with a memo, its encoded entry


def validate_collected(
    collected: Collected,
    validation: ValidationPool,
    progress: Progress | None = None,
    cache: ValidationCache | None = None,
    staff: bool = True,
) -> list[Submission]:
    """Each workbook collect found, validated: by the memo (`cache`) when it knows the file, else by
    `validation` (whose workers may already have started on the files collect offered them). The
    results go into the memo before resolve adds the rules across files. `staff`: see pipeline.ingest."""
    todo = collected.incoming
    remembered: list[Incoming] = []
    if cache is not None:
        remembered = [item for item in todo if cache.holds(item.file.sha256)]
        todo = [item for item in todo if not cache.holds(item.file.sha256)]

    def recall() -> list[Submission]:
        # Runs while the workers validate the new files: a province's memo is 100,000 staff rows.
        if cache is None:
            return []
        return [sub for sub in (cache.get(item.file, staff) for item in remembered) if sub is not None]

    # Rows from the workers share nothing: a whole year validated again (an edited config) would hold
    # 600,000 of them, so past a size each is shared as it arrives. A month's new files are left as they
    # are: sharing costs 1 µs a row.
    share = cache.share_staff if cache is not None and len(todo) >= SHARE_FRESH_FILES else None
    validated, known = validation.results(todo, progress, meanwhile=recall, share=share)
    if len(known) < len(remembered):  # damaged memo entries: those files are validated again
        recalled = {sub.file.sha256 for sub in known}
        again = [
            Incoming(item.file, item.data or read_source(item.file))  # the memo let collect drop its bytes
            for item in remembered
            if item.file.sha256 not in recalled
        ]
        validated += validation.results(again)[0]
    fresh = [sub for sub, _ in validated]
    if cache is not None:
        for sub, entry in validated:
            if entry is not None:  # None: a file that crashed its reader, tried again next run
                cache.put(sub, entry)  # before the rules across files add their findings
        cache.save()
    return known + fresh


# Files cross to a worker in batches: one message per batch, small enough that both workers finish at
# about the same time.
_BATCH_FILES = 16
# A batch still running after this long holds a file that makes the reader loop: its pool is stopped.
# Sixteen files at the size limits take seconds; a slow office PC, tens of seconds.
BATCH_SECONDS = 300.0
FILE_SECONDS = 120.0  # the same for one file, tried alone
_FILE_MINUTES = f"{FILE_SECONDS / 60:g}"  # as the reader_timeout finding says it
# How far one validation worker's address space may grow (POSIX; see processes.limit_memory).
# Measured on Linux: a worker forked at the start of a province run (300 units x 50 staff x 3 months)
# holds 33 MB of address space and peaks at 40 MB (29 MB resident) over its 450 files; a file at the
# reader's limits (5,000 staff rows) adds 13 MB. A crafted file that gets past the reader's bounds
# takes gigabytes (a value at CV1048576: 3.3 GB): it stops here, a finding on that file.
WORKER_MEMORY_BUDGET = 1024 * 1024 * 1024
_MEMORY_MB = WORKER_MEMORY_BUDGET // (1024 * 1024)  # as the reader_memory finding says it


class ValidationPool:
    """Validates workbooks: with `workers` >= 2 in that many worker processes, never in this one, so
    that a file crashing the reader's native code (calamine aborts on some crafted sheets; the reader's
    checks stop those known, not those to come) cannot take the batch with it. With 1, here (tests, and
    the library's default).

    Collect offers each new workbook as soon as it has read it, so with a large inbox the workers are
    validating while the rest of the folder is still being read and hashed. A workbook's bytes are then
    held here only, and let go once its result is taken: a year's files validated again (an edited
    config) need not all sit in memory beside their results. A worker that dies or hangs costs time, not
    results: its files are tried again one by one in fresh processes, and one that kills or hangs its
    reader again becomes a finding. Only when no process can start at all are files validated here.

    Files are known by their ReceivedFile: collect keeps a copy of each offered Incoming without bytes.
    """

    def __init__(self, config: Config, accept_partial: bool, workers: int, memo: bool, staff: bool = True):
        self.config, self.accept_partial, self.memo, self.staff = config, accept_partial, memo, staff
        self._use_pool = workers > 1
        self._workers = workers
        self._pool = None
        self._retired: list = []  # pools broken by a dying worker
        self._offered: dict[int, Incoming] = {}  # id(ReceivedFile) -> offered and not yet validated
        self._waiting: list[Incoming] = []
        self._batches: list[tuple[list[Incoming], object, object]] = []  # (files, future, pool)
        self._batch_of: dict[int, int] = {}  # id(ReceivedFile) -> its batch
        self._done: dict[int, Validated] = {}  # id(ReceivedFile) -> result of a finished batch

    def __enter__(self) -> ValidationPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for pool in [*self._retired, self._pool]:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)

    def offer(self, item: Incoming) -> bool:
        """A workbook collect has just read; True if its bytes are now held here (collect may drop
        them). The first is sent at once (it starts the workers), the others in batches."""
        if not self._use_pool:
            return False
        self._offered[id(item.file)] = item
        self._waiting.append(item)
        if self._pool is None or len(self._waiting) >= _BATCH_FILES:  # the first starts the workers
            self._send(self._waiting)
            self._waiting = []
        return True

    def results(
        self,
        items: list[Incoming],
        progress: Progress | None = None,
        meanwhile: Callable[[], list[Submission]] = list,
        share: Callable[[Submission], None] | None = None,
    ) -> tuple[list[Validated], list[Submission]]:
        """Each of `items` validated, in order; and what `meanwhile()` returned: it runs while the
        workers work."""
        self._waiting = []  # offered but not sent: sent below if among `items`
        unsent = [self._offered.get(id(i.file), i) for i in items if id(i.file) not in self._batch_of]
        if self._use_pool and unsent:
            self._send(unsent)
        del unsent
        other = meanwhile()
        out: list[Validated] = []
        for item in items:
            result = self._result(item)
            if share is not None:
                share(result[0])
            out.append(result)
            if progress is not None:
                progress(len(out), len(items))
        self._offered.clear()  # copies not taken (the same bytes found again later)
        return out, other

    def _send(self, items: list[Incoming]) -> None:
        for start in range(0, len(items), _BATCH_FILES):
            batch = items[start : start + _BATCH_FILES]
            future = self._submit(batch)
            if future is None:
                self._use_pool = False  # no worker process can start (security software, memory)
                return
            for item in batch:
                self._batch_of[id(item.file)] = len(self._batches)
            self._batches.append((batch, future, self._pool))

    def _new_pool(self, workers: int):
        from processor.processes import process_pool

        settings = (self.config, self.accept_partial, self.memo, self.staff)
        return process_pool(
            workers, memory_budget=WORKER_MEMORY_BUDGET, initializer=_init_worker, initargs=settings
        )

    def _submit(self, batch: list[Incoming]) -> object | None:
        from concurrent.futures.process import BrokenProcessPool

        for _ in range(2):
            try:
                if self._pool is None:
                    self._pool = self._new_pool(self._workers)
                return self._pool.submit(_validate_in_worker, batch)
            except BrokenProcessPool:
                # A worker died (a file crashing the reader, or killed): the batches it held are tried
                # again when their results are asked for. A new pool takes the next ones, never this
                # process.
                self._retired.append(self._pool)
                self._pool = None
            except OSError:
                return None
        return None

    def _result(self, item: Incoming) -> Validated:
        key = id(item.file)
        index = self._batch_of.get(key)
        if index is None:
            return self._here(self._offered.pop(key, item))
        if key not in self._done:
            from concurrent.futures.process import BrokenProcessPool

            batch, future, pool = self._batches[index]
            try:
                results = future.result(timeout=BATCH_SECONDS)  # type: ignore[attr-defined]
            except TimeoutError:
                # A file makes the reader loop: the pool is stopped (its other batches fail), and each
                # file of this batch is tried alone, with a time limit of its own.
                self._stop(pool)
                results = [self._alone(i) for i in batch]
            except (BrokenProcessPool, OSError):
                # A worker died: killed, out of memory, or a file that crashed the reader's native
                # code. Validated here, such a file would end the run; each file of the batch is tried
                # once more alone, in a fresh process.
                results = [self._alone(i) for i in batch]
            self._done.update(zip((id(i.file) for i in batch), results, strict=True))
            self._batches[index] = ([], None, None)  # the batch's bytes can go
            for done in batch:
                self._offered.pop(id(done.file), None)
        return self._done.pop(key)

    def _here(self, item: Incoming) -> Validated:
        return _validate_one(self.config, item, self.accept_partial, self.memo, self.staff)

    def _stop(self, pool: object) -> None:
        from processor.processes import stop_workers

        stop_workers(pool)  # type: ignore[arg-type]
        if pool is self._pool:
            self._retired.append(pool)
            self._pool = None  # the batches sent from now on go to a new pool

    def _alone(self, item: Incoming) -> Validated:
        """One file in a process of its own: if that process dies too, the file is what kills it."""
        from concurrent.futures.process import BrokenProcessPool

        try:
            with self._new_pool(1) as pool:
                try:
                    return pool.submit(_validate_in_worker, [item]).result(timeout=FILE_SECONDS)[0]
                except TimeoutError:
                    from processor.processes import stop_workers

                    stop_workers(pool)
                    return _unreadable(item, "reader_timeout", minutes=_FILE_MINUTES), None
        except BrokenProcessPool:
            # Not remembered: a second death could have been bad luck.
            return _unreadable(item, "reader_crashed"), None
        except OSError:
            return self._here(item)  # no process can start any more: validate here


def _unreadable(item: Incoming, key: str, **fields: object) -> Submission:
    finding = catalogue.finding(key, item.file.display_name, **fields)
    return Submission(item.file, FileStatus.UNREADABLE, [finding])


def _validate_one(config: Config, item: Incoming, accept_partial: bool, memo: bool, staff: bool) -> Validated:
    from processor import ingest_cache, validate

    sub = validate.validate_workbook(config, item, accept_partial)
    entry = ingest_cache.encode(sub) if memo else None
    if not staff and sub.report is not None:
        # Telling who reported needs no staff rows; the memo entry above keeps them.
        sub.report = dataclasses.replace(sub.report, people=())
    return sub, entry


_worker_state: dict[str, object] = {}


def _init_worker(config: Config, accept_partial: bool, memo: bool, staff: bool) -> None:
    """Runs once in each pool process: the config crosses the process boundary once, not per file."""
    _worker_state.update(config=config, accept_partial=accept_partial, memo=memo, staff=staff)


def _validate_in_worker(batch: list[Incoming]) -> list[Validated]:
    # Top-level so that Windows (spawn) can pickle it by name.
    state = _worker_state
    out: list[Validated] = []
    for item in batch:
        try:
            out.append(
                _validate_one(state["config"], item, state["accept_partial"], state["memo"], state["staff"])  # type: ignore[arg-type]
            )
        except MemoryError:
            # The worker's memory ceiling (WORKER_MEMORY_BUDGET): what the file made the reader allocate
            # is released with the exception; the worker goes on with the next file. Not remembered.
            out.append((_unreadable(item, "reader_memory", limit_mb=_MEMORY_MB), None))
    return out


# -- collecting ------------------------------------------------------------------------------------
