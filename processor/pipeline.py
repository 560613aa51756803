"""The stages in order, as functions the CLI (and tests, and benchmarks) call.

    collect -> validate -> resolve -> aggregate -> commend -> render

collect.py finds what the units sent (folders, e-mails); validation.py validates each workbook in worker
processes (validate.py, one file); resolve.py applies the rules across files (copies, corrections,
senders, received times); `ingest` below runs these three, overlapped: the workers start on the first
workbooks while collect is still reading the rest.

A period's outputs are written into a staging folder and published in one step: a run killed at any
moment leaves the previous complete set of `output/<period>/` in place (or the next run or `status`
restores it), never a mix of old and new files; what the clerk put there is kept (publish.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import gc
import os
import pickle
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from processor import __version__, publish
from processor.config import Config
from processor.progress import AGGREGATE, CHECK, DOCUMENTS, PDF, READ, step
from processor.records import Period, PeriodResult, ReportingResult, Submission, UserError
from processor.render.atomic import describe_os_error, remove_stale_temps
from processor.workspace import TEMPLATE_DIR, bundled_templates

if TYPE_CHECKING:
    from processor.ingest_cache import ValidationCache
    from processor.render.approval import ApprovalJob

Progress = Callable[[int, int], None]
LOCK_NAME = ".thidua.lock"
CACHE_DIR = ".cache"
# From this many received files the feedback and the Word documents are written by a second process
# while this one aggregates and writes the rest. Below it, starting a process costs more than it saves.
SECOND_PROCESS_FILES = 200
VALIDATION_WORKERS = 2


@dataclass
class RunOutcome:
    result: PeriodResult
    submissions: list[Submission]
    out_dir: Path
    outputs: list[Path] = field(default_factory=list)
    pdf_skipped: list[tuple[Path, str]] = field(default_factory=list)
    # What the previous period folder held that the program did not write (or that was changed since),
    # now in the new folder's da-sua-* folder; and the Vietnamese lines saying so.
    kept: list[publish.Kept] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    # Everything under output/<period>/nhac-nop/: reminder drafts (.eml) to the units that have not
    # reported or whose report has errors, the forms of those without an address and their list.
    reminders: list[Path] = field(default_factory=list)


@contextlib.contextmanager
def workspace_lock(out_root: Path, wait_seconds: float = 0) -> Iterator[None]:
    """One writer per output folder. The OS lock dies with its process, so a killed run leaves none."""
    from filelock import FileLock, Timeout

    try:
        out_root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"Không tạo được thư mục kết quả {out_root}: {describe_os_error(exc)}.") from None
    lock = FileLock(str(out_root / LOCK_NAME))
    try:
        lock.acquire(timeout=wait_seconds)
    except Timeout:
        raise UserError(
            f"Một lần chạy khác đang ghi vào {out_root}. Đợi lần chạy đó kết thúc rồi chạy lại."
        ) from None
    except OSError as exc:
        raise UserError(_cannot_write(out_root, exc)) from None
    try:
        yield
    finally:
        lock.release()


def _cannot_write(out_root: Path, exc: OSError) -> str:
    where = f" ({exc.filename})" if isinstance(exc.filename, str) and exc.filename != str(out_root) else ""
    return (
        f"Không ghi được vào thư mục kết quả {out_root}{where}: {describe_os_error(exc)}. Kết quả đã có "
        "trong thư mục được giữ nguyên. Nếu đang mở tệp kết quả bằng Excel hoặc Word, hãy đóng lại; khắc "
        "phục rồi chạy lại."
    )


def recover_interrupted(out_root: Path) -> list[str]:
    """Undo or finish what a killed run left (publish.recover); Vietnamese lines saying what was done."""
    done = publish.recover(out_root)
    # A run killed while saving the memo leaves its temporary file there. `thidua status` saves the memo
    # without taking the lock, so a young one may be in the middle of being written: leave those.
    remove_stale_temps(out_root / CACHE_DIR, min_age_seconds=60)
    return done


@contextlib.contextmanager
def _records_only() -> Iterator[None]:
    """For the stages that build hundreds of thousands of small records and no reference cycles.

    The cyclic collector would walk those records again and again as they pile up (measured at 1,000
    units: aggregate 2.6 s with it, 1.5 s without). Afterwards the records, alive for the rest of the run,
    are moved out of its sight (gc.freeze), so the collections of the rendering stages stay short.
    The one place the collector is touched; tests/test_library_seams.py checks the context does both and
    gives the collector back as it found it.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def template_dir_for(config: Config) -> Path:
    """The clerk's own (possibly edited) templates if the workspace has them, else the bundled ones."""
    if config.path is not None:
        own = config.path.parent / TEMPLATE_DIR
        if own.is_dir() and any(own.glob("*.docx")):
            return own
    return bundled_templates()


@dataclass
class IngestResult:
    submissions: list[Submission]  # every received file, sorted by display name
    skipped: list[Path] = field(default_factory=list)  # lock, temporary and hidden files: never reports


def ingest(
    config: Config,
    inbox: Path,
    accept_partial: bool = False,
    progress: Progress | None = None,
    workers: int = 1,
    cache: ValidationCache | None = None,
    staff: bool = True,
    now: dt.datetime | None = None,
) -> IngestResult:
    """Everything in the inbox as validated submissions, duplicates and corrections resolved:
    collect -> validate -> resolve.

    With a `cache`, files validated by an earlier run under the same rules (same bytes, form version and
    validation rules: ingest_cache.Rules) are not read again.
    `workers`: 1 validates in this process; from 2, in that many worker processes (see
    validation.ValidationPool: the commands use 2, whatever the number of cores, so that no received file
    is read in this process).
    With `staff=False` (enough to tell who reported and how, `thidua status`) the submissions come
    without their staff rows, and the rules across files, which only warn, are not applied.
    `now`: the moment the inbox is read (aware, or naive Vietnam time; the clock if None): header times
    more than a day after it are not believed.
    """
    from processor.collect import collect
    from processor.resolve import resolve
    from processor.validation import ValidationPool, validate_collected

    keep_bytes = None if cache is None else (lambda sha: not cache.holds(sha))
    with ValidationPool(config, accept_partial, workers, memo=cache is not None, staff=staff) as validation:
        # The workers validate what collect has read while it goes on reading and hashing the rest.
        collected = collect(Path(inbox), config, keep_bytes, on_new=validation.offer, now=now)
        step(progress, CHECK)
        validated = validate_collected(collected, validation, progress, cache, staff)
    return IngestResult(resolve(config, collected, validated, staff), collected.skipped)


def ingest_paths(
    config: Config,
    paths: Sequence[Path],
    accept_partial: bool = False,
    progress: Progress | None = None,
    workers: int = 1,
    now: dt.datetime | None = None,
) -> IngestResult:
    """`thidua check FILE...`: the same stages over files named on the command line."""
    from processor.collect import collect_paths
    from processor.resolve import resolve
    from processor.validation import ValidationPool, validate_collected

    with ValidationPool(config, accept_partial, workers, memo=False) as validation:
        collected = collect_paths(paths, config, now)
        validated = validate_collected(collected, validation, progress)
    return IngestResult(resolve(config, collected, validated), collected.skipped)


def ingest_inbox(
    config: Config,
    inbox: Path,
    *,
    accept_partial: bool = False,
    progress: Progress | None = None,
    out_root: Path | None = None,
    staff: bool = True,
) -> list[Submission]:
    """All received files, validated. Under `out_root` a memo lets unchanged files skip validation.

    `staff=False`: see `ingest` (enough to tell who reported).
    """
    from processor.ingest_cache import CACHE_NAME, ValidationCache, cache_key

    cache = None
    if out_root is not None:
        cache = ValidationCache(out_root / CACHE_DIR / CACHE_NAME, cache_key(config, accept_partial))
    # Two worker processes: validation is CPU-bound per file, and no received file is read in this
    # process, whose death would end the batch (see validation.ValidationPool); on one core too.
    workers = VALIDATION_WORKERS
    result = ingest(
        config,
        inbox,
        accept_partial=accept_partial,
        progress=progress,
        workers=workers,
        cache=cache,
        staff=staff,
    )
    return result.submissions


def run_period(
    config: Config,
    period_text: str,
    inbox: Path,
    out_root: Path,
    *,
    final: bool = False,
    accept_partial: bool = False,
    pdf: bool = False,
    progress: Progress | None = None,
    notice: Callable[[str], object] | None = None,
    today: dt.date | None = None,
) -> RunOutcome:
    """The monthly batch: everything for the period under `out_root/<period>/`.

    `notice` receives the closing run's warnings (aggregate.closing_notices) before any document is
    written: units whose data are missing, `--final` closing the campaign early.
    `today`: the day of the run, which the documents' date of issue follows (the clock's by default).
    """
    period = Period.parse(period_text)
    campaign = config.campaign_for(period)
    from processor.aggregate import aggregate, closing_notices

    requested_final = final
    final = final or period == campaign.periods[-1]
    from processor.render.documents import check_templates_before_ingest

    check_templates_before_ingest(template_dir_for(config), include_proposal=final)
    with workspace_lock(out_root):
        try:
            recovered = recover_interrupted(out_root)
        except OSError as exc:
            raise UserError(_cannot_write(out_root, exc)) from None
        step(progress, READ)
        helper = _SecondProcess(
            (os.cpu_count() or 1) >= 2 and _inbox_size(inbox, SECOND_PROCESS_FILES) >= SECOND_PROCESS_FILES
        )
        try:
            with _records_only():
                submissions = ingest_inbox(
                    config, inbox, accept_partial=accept_partial, progress=progress, out_root=out_root
                )
        except BaseException:
            helper.close()
            raise
        staging = out_root / f"{publish.STAGING_PREFIX}{period}-{os.getpid()}-{time.monotonic_ns()}"
        try:
            # A read-only folder that still holds the lock file of an earlier run fails only here.
            staging.mkdir(parents=True)
            light = _without_staff(submissions)
            feedback_paths = helper.submit(write_feedback_job, light, config, period, staging)
            step(progress, AGGREGATE)
            with _records_only():
                # Earlier months feed the month-on-month figures and the per-month sheets only.
                result = aggregate(
                    config, period, submissions, final=final, accept_partial=accept_partial, earlier="figures"
                )
            if notice is not None:
                for line in closing_notices(result, campaign.periods[-1], requested=requested_final):
                    notice(line)
            reminder_paths = write_reminders_job(
                config, period, result.units, staging, staff_lists(submissions, period)
            )
            # The staff rows live on in the result's histories; the submissions' own copies can go
            # before the documents are made (an annual campaign's December holds 600,000 of them).
            _drop_staff_rows(submissions, light)
            outcome = RunOutcome(result, submissions, out_root / str(period))
            outcome.outputs, outcome.pdf_skipped = _render_all(
                config,
                result,
                staging,
                helper,
                feedback_paths,
                pdf=pdf,
                today=today,
                extra=reminder_paths,
                progress=progress,
            )
            outcome.kept = _publish(staging, outcome.out_dir)
        except publish.KeepFailed as exc:
            raise UserError(_keep_failed(exc)) from None
        except OSError as exc:
            raise UserError(_cannot_write(out_root, exc)) from None
        finally:
            helper.close()  # before the staging folder goes
            shutil.rmtree(staging, ignore_errors=True)
        outcome.outputs = [outcome.out_dir / p.relative_to(staging) for p in outcome.outputs]
        outcome.reminders = [outcome.out_dir / p.relative_to(staging) for p in reminder_paths]
        outcome.notices = recovered + [publish.kept_line(item, outcome.out_dir) for item in outcome.kept]
        return outcome


def _publish(staging: Path, final: Path) -> list[publish.Kept]:
    """publish.publish; the earlier da-sua-* folders that only moved over are not news to the clerk."""
    return [item for item in publish.publish(staging, final) if item.reason != publish.EARLIER_KEPT]


def _keep_failed(exc: publish.KeepFailed) -> str:
    return (
        f"Đã ghi kết quả mới vào {exc.final}, nhưng chưa chuyển được {exc.item.source} vào "
        f"{exc.final / exc.item.target}: {describe_os_error(exc)}. Tệp đó vẫn nguyên vẹn trong {exc.old}; "
        "khắc phục rồi chạy lại (hoặc chạy thidua status), chương trình sẽ chuyển tiếp."
    )


def write_feedback_job(
    submissions: Sequence[Submission], config: Config, period: Period, out_dir: Path
) -> list[Path]:
    """The feedback stage as a top-level function, so a spawned process (Windows) can run it too."""
    from processor.collect import read_source
    from processor.render import feedback

    return feedback.write_feedback(submissions, config, period, out_dir, read_source)


def write_approval_job(rows: ApprovalJob, path: Path) -> list[Path]:
    """The council's approval workbook (render/approval.py) as a top-level job for the second process."""
    from processor.render import approval

    return [approval.write_approval(rows, path)]


def write_reminders_job(
    config: Config, period: Period, units: Sequence, out_dir: Path, prefill: dict[str, tuple]
) -> list[Path]:
    """The reminder drafts under out_dir/nhac-nop/ (render/reminders.py); the paths written."""
    from processor.render import reminders

    written = reminders.write_reminders(config, period, units, out_dir, prefill)
    return reminders.reminder_paths(written, out_dir)


def _drop_staff_rows(submissions: Sequence[Submission], light: Sequence[Submission]) -> None:
    """Each submission's report becomes its copy without staff rows in `light` (_without_staff)."""
    for sub, copy in zip(submissions, light, strict=True):
        sub.report = copy.report


def _inbox_size(inbox: Path, enough: int) -> int:
    """How many entries the inbox holds, counted up to `enough` (folders walked; e-mails count once):
    whether a second process will pay for itself is decided before the inbox is read."""
    count = 0
    folders = [inbox]
    while folders and count < enough:
        try:
            with os.scandir(folders.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        folders.append(Path(entry.path))
                    else:
                        count += 1
        except OSError:
            continue  # collect says what cannot be read
    return count


def _without_staff(submissions: Sequence[Submission]) -> list[Submission]:
    # Feedback reads a report's unit name only: the staff rows need not cross to the other process.
    return [
        dataclasses.replace(s, report=dataclasses.replace(s.report, people=())) if s.report else s
        for s in submissions
    ]


class _SecondProcess:
    """The run's second core: jobs that need only plain data (the feedback, filling the Word templates)
    run in one worker process while this one aggregates and writes the rest.

    A ProcessPoolExecutor: fork on Linux, spawn on Windows, so each job is a top-level function. Without
    a worker (small inboxes, one core) a job runs here when its result is asked for, in the same order.
    """

    def __init__(self, enabled: bool):
        self._pool = None
        if enabled:
            from concurrent.futures.process import BrokenProcessPool

            from processor.processes import process_pool

            self._pool = process_pool(1)
            # Started now, before the inbox is read: a forked worker starts with a copy of this process,
            # small now and hundreds of MB once a province's records are in (its jobs arrive pickled and
            # need none of it). A spawned one (Windows) starts its interpreter while the inbox is read.
            with contextlib.suppress(BrokenProcessPool, OSError):
                self._pool.submit(os.getpid)

    def submit(self, job: Callable[..., list[Path]], *args: object) -> Callable[[], list[Path]]:
        """Start `job(*args)`; return the function that waits for its result."""
        if self._pool is None:
            return lambda: job(*args)
        from concurrent.futures.process import BrokenProcessPool

        try:
            # Pickled here, not in the pool's feeder thread: this thread goes on filling the config's
            # cached look-ups, and a dict that changes while pickled fails.
            future = self._pool.submit(_run_pickled, pickle.dumps((job, args)))
        except (BrokenProcessPool, OSError):
            return lambda: job(*args)  # no worker could be started: the job runs here

        def result() -> list[Path]:
            try:
                return future.result()
            except BrokenProcessPool:
                # The worker died (killed, out of memory, stopped by security software): its files are
                # written atomically, so doing the job again here leaves no half-written one.
                return job(*args)

        return result

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def _run_pickled(job: bytes) -> list[Path]:
    function, args = pickle.loads(job)  # our own job, from this run's parent process
    return function(*args)


def _render_all(
    config: Config,
    result: PeriodResult,
    out_dir: Path,
    helper: _SecondProcess,
    feedback_paths: Callable[[], list[Path]],
    *,
    pdf: bool,
    today: dt.date | None = None,
    extra: Sequence[Path] = (),
    progress: Progress | None = None,
) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Everything after aggregate; the feedback, started before it, is awaited at the end."""
    from processor import breakdown, commend
    from processor.render import approval, documents, summary, workbook

    outputs: list[Path] = []
    with _records_only():
        decisions = commend.decide_closing(config, result)  # with the annual titles at a year's close
    approval_paths: Callable[[], list[Path]] = list
    if result.final:  # the council's approval workbook goes with the tờ trình (thidua decide reads it)
        approval_rows = approval.prepare_approval(
            config, result, decisions, commend.closing_rule_sets(config, result)
        )
        # Its rows are small to send (under 1 MB at 1,000 units) and 0.1 s to write: in the second
        # process, which has finished the feedback by now and would otherwise wait for the documents'
        # context below.
        path = out_dir / approval.file_name(str(result.period))
        approval_paths = helper.submit(write_approval_job, approval_rows, path)
    # Computed once: summary.json, tong-hop.xlsx and the báo cáo each show them.
    breakdowns = breakdown.breakdowns(config, result, decisions)
    # The documents need a small context (their lists are capped): built here, filled by the helper
    # while this process writes the big workbook.
    step(progress, DOCUMENTS)
    job = documents.prepare_documents(
        config,
        result,
        decisions,
        template_dir_for(config),
        breakdowns=breakdowns,
        include_proposal=result.final,
        today=today,
    )
    document_paths = helper.submit(documents.write_documents, job, out_dir)
    outputs.append(
        workbook.write_summary_workbook(
            result, config, out_dir / "tong-hop.xlsx", decisions, breakdowns=breakdowns
        )
    )
    outputs.append(summary.write_summary_json(result, config, out_dir, decisions, breakdowns=breakdowns))
    docs = document_paths()
    outputs += approval_paths()
    outputs += docs
    outputs[:0] = feedback_paths()  # the feedback files head the manifest's list of outputs
    outputs += extra
    skipped: list[tuple[Path, str]] = []
    if pdf:
        step(progress, PDF, len(docs))
        converted, skipped = documents.convert_to_pdf(
            docs, config.documents.pdf_timeout_seconds, progress=progress
        )
        outputs += converted
    outputs.append(summary.write_manifest(out_dir, result, config, outputs, __version__))
    return outputs, skipped


def status(
    config: Config,
    period_text: str,
    inbox: Path,
    out_root: Path | None = None,
    notify: Callable[[str], object] | None = None,
    progress: Progress | None = None,
) -> ReportingResult:
    """Who has reported, without figures or documents: fast enough to run after every e-mail.

    With `out_root`, it reuses (and updates) the memo of validated files that `run` keeps there; the
    files it remembers are taken without their staff rows, which telling who reported does not need.
    A period folder a killed run left set aside is put back first (each line of what was done goes to
    `notify`), when no run holds the lock and the folder can be written.
    """
    period = Period.parse(period_text)
    config.campaign_for(period)
    from processor.aggregate import reporting

    if out_root is not None and not out_root.is_dir():
        out_root = None  # no workspace output yet: nothing to reuse, and status creates no folders
    if out_root is not None and publish.needs_recovery(out_root):
        # Status needs no write access: a read-only folder, or a run in progress, leaves it for later.
        with contextlib.suppress(UserError, OSError), workspace_lock(out_root):
            for line in recover_interrupted(out_root):
                if notify is not None:
                    notify(line)
    step(progress, READ)
    with _records_only():
        submissions = ingest_inbox(config, inbox, out_root=out_root, staff=False, progress=progress)
    return dataclasses.replace(reporting(config, period, submissions), received=tuple(submissions))


def check_files(
    config: Config, paths: Sequence[Path], out_dir: Path | None = None
) -> tuple[list[Submission], list[Path]]:
    """`thidua check`: validate the given files (workbooks or saved e-mails) and optionally write feedback."""
    from processor.collect import read_source

    submissions = ingest_paths(config, list(paths), workers=VALIDATION_WORKERS).submissions
    written: list[Path] = []
    if out_dir is not None:
        from processor.render import feedback

        for period in sorted({sub.period for sub in submissions if sub.period is not None}):
            batch = [sub for sub in submissions if sub.period == period]
            written += feedback.write_feedback(batch, config, period, out_dir, read_source)
    return submissions, written


def latest_staff_lists(config: Config, inbox: Path, period: Period) -> dict[str, tuple]:
    """Staff of each unit from its latest accepted report before `period` (templates that remember)."""
    return staff_lists(ingest_inbox(config, inbox), period)


def staff_lists(submissions: Sequence[Submission], period: Period) -> dict[str, tuple]:
    """Staff of each unit from its latest accepted report before `period`, among `submissions`."""
    from processor.records import FileStatus

    latest: dict[str, object] = {}
    for sub in submissions:
        if sub.status is FileStatus.ACCEPTED and sub.report and sub.period and sub.period < period:
            known = latest.get(sub.unit_code)
            if known is None or sub.period > known.period:
                latest[sub.unit_code] = sub.report
    return {code: report.people for code, report in latest.items()}


def write_reminders_now(
    config: Config,
    period_text: str,
    inbox: Path,
    out_root: Path,
    notify: Callable[[str], object] | None = None,
) -> list[Path]:
    """`thidua status --reminders`: the reminders `run` would write, without a run.

    output/<period>/nhac-nop/ is replaced as a whole (publish.replace_subfolder): the program's own
    unchanged drafts go, what the clerk put or changed there moves into a da-sua-* folder, the
    period's manifest lists the new files, so the next run replaces them as its own.
    """
    period = Period.parse(period_text)
    config.campaign_for(period)
    from processor.aggregate import reporting

    with workspace_lock(out_root):
        try:
            for line in recover_interrupted(out_root):
                if notify is not None:
                    notify(line)
        except OSError as exc:
            raise UserError(_cannot_write(out_root, exc)) from None
        with _records_only():
            submissions = ingest_inbox(config, inbox, out_root=out_root)
        result = reporting(config, period, submissions)
        staging = out_root / f"{publish.STAGING_PREFIX}nhac-nop-{period}-{os.getpid()}-{time.monotonic_ns()}"
        final = out_root / str(period)
        try:
            staging.mkdir(parents=True)
            prefill = staff_lists(submissions, period)
            written = write_reminders_job(config, period, result.units, staging, prefill)
            kept = publish.replace_subfolder(staging, final, _reminder_dir())
        except publish.KeepFailed as exc:
            raise UserError(_keep_failed(exc)) from None
        except OSError as exc:
            raise UserError(_cannot_write(out_root, exc)) from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if notify is not None:
            for item in kept:
                notify(publish.kept_line(item, final))
        return [final / p.relative_to(staging) for p in written]


def _reminder_dir() -> str:
    from processor.render.reminders import REMINDER_DIR

    return REMINDER_DIR
