"""The validation pool: workbooks validated in worker processes give the serial result, and a worker
that dies or hangs costs time, not results."""

from __future__ import annotations

import datetime as dt
import os
import time
from concurrent.futures.process import BrokenProcessPool

import pytest

from processor import collect, pipeline, validation
from processor.records import FileStatus, Incoming, ReceivedFile
from tests.test_collect import (
    NC,
    VN,
    _real_validate,
    eml,
    put,
    workbook,
)
from tests.worker_fakes import FORK_ONLY, POISONED, validate_outside_the_main_process


def test_parallel_validation_gives_the_serial_result(tmp_path, config, monkeypatch):
    _real_validate()
    folder = tmp_path / "in"
    for n in range(20):
        put(
            folder / f"{n:03d}.xlsx",
            workbook("TCHC", "2024-02", f"tệp {n}"),
            dt.datetime(2024, 3, 1, tzinfo=VN),
        )
    serial = pipeline.ingest(config, folder).submissions
    import concurrent.futures

    pools = []

    class CountedPool(concurrent.futures.ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):
            pools.append(kwargs.get("max_workers"))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", CountedPool)
    calls = []
    parallel = pipeline.ingest(config, folder, workers=2, progress=lambda d, t: calls.append(d)).submissions
    assert pools == [2]  # the pool really ran
    assert parallel == serial
    assert calls == list(range(1, len(serial) + 1))


def test_workers_start_while_collecting_and_a_later_emailed_copy_is_still_the_one_taken(
    tmp_path, config, monkeypatch
):
    """Files go to the workers as soon as they are read. A loose workbook sent off that way can turn out
    to be a copy of one attached to an e-mail found later, which is the copy taken: its submission and
    findings name the e-mail, exactly as when everything is validated here."""
    _real_validate()
    folder = tmp_path / "in"
    fillers = 2 * validation._BATCH_FILES
    for n in range(fillers):
        put(
            folder / f"{n:03d}.xlsx",
            workbook("TCHC", "2024-02", f"tệp {n}"),
            dt.datetime(2024, 3, 2, tzinfo=VN),
        )
    # Files are read newest first: the loose copy (saved today) before the e-mail (received in March).
    put(folder / "a-luu-tu-thu.xlsx", NC)
    put(
        folder / "thu.eml",
        eml("noichinh.vpubnd@laocai.gov.vn", "Mon, 04 Mar 2024 09:00:00 +0700", [("NC.xlsx", NC)]),
        dt.datetime(2024, 3, 4, 9, 5, tzinfo=VN),
    )
    serial = pipeline.ingest(config, folder).submissions

    sent_while_collecting = []
    real_done, real_send = collect._Collector.done, validation.ValidationPool._send

    def done(collector):
        sent_while_collecting.append(sent)
        return real_done(collector)

    sent: list[str] = []

    def send(validation, items):
        sent.extend(item.file.display_name for item in items)
        return real_send(validation, items)

    monkeypatch.setattr(collect._Collector, "done", done)
    monkeypatch.setattr(validation.ValidationPool, "_send", send)
    parallel = pipeline.ingest(config, folder, workers=2).submissions
    [at_end_of_collect] = sent_while_collecting
    assert "a-luu-tu-thu.xlsx" in at_end_of_collect  # the loose copy went to the workers early
    assert parallel == serial
    taken = next(s for s in parallel if s.file.display_name == "thu.eml › NC.xlsx")
    assert taken.status is not FileStatus.DUPLICATE and taken.file.sender == "noichinh.vpubnd@laocai.gov.vn"
    assert taken.findings and {f.file for f in taken.findings} == {"thu.eml › NC.xlsx"}


def test_bytes_sent_to_the_workers_are_held_once_and_let_go_when_validated(tmp_path, config):
    """A year's files validated again must not sit in memory twice, nor after their results are in."""
    _real_validate()
    folder = tmp_path / "in"
    for n in range(20):
        put(folder / f"{n:03d}.xlsx", workbook("TCHC", "2024-02", f"tệp {n}"))
    with validation.ValidationPool(config, False, workers=2, memo=False) as pool:
        collected = collect.collect(folder, config, on_new=pool.offer)
        assert all(item.data == b"" for item in collected.incoming)  # the validation holds the bytes
        results, _ = pool.results(collected.incoming)
        assert not pool._offered and all(batch == ([], None, None) for batch in pool._batches)
    assert [sub.file for sub, _ in results] == [item.file for item in collected.incoming]
    assert results and all(sub.unit_code == "TCHC" for sub, _ in results)  # really read, not empty


_REAL_VALIDATE_IN_WORKER = validation._validate_in_worker


def _die_on_a_poisoned_file(batch):
    if any(POISONED in item.file.display_name for item in batch):
        os._exit(134)  # as when native code aborts on a crafted file
    return _REAL_VALIDATE_IN_WORKER(batch)


@FORK_ONLY
def test_a_file_that_kills_its_reader_is_a_finding_and_the_others_are_validated(
    tmp_path, config, monkeypatch
):
    """A workbook that crashes the reader's native code takes its worker with it. Its batch is tried
    again file by file in fresh processes: that file becomes a finding and the others are read."""
    _real_validate()
    folder = tmp_path / "in"
    for n in range(20):
        put(folder / f"{n:03d}.xlsx", workbook("TCHC", "2024-02", f"tệp {n}"))
    put(folder / f"010-{POISONED}.xlsx", workbook("TCHC", "2024-02", "độc hại"))
    serial = {s.file.display_name: s for s in pipeline.ingest(config, folder).submissions}
    monkeypatch.setattr(validation, "_validate_in_worker", _die_on_a_poisoned_file)
    cache = validation.ValidationCache(tmp_path / "memo.json", "key")
    parallel = pipeline.ingest(config, folder, workers=2, cache=cache).submissions
    by_name = {s.file.display_name: s for s in parallel}
    poisoned = by_name.pop("010-doc-hai.xlsx")
    assert poisoned.status is FileStatus.UNREADABLE
    [finding] = poisoned.findings
    assert finding.code == "reader_crashed" and finding.is_error and finding.file == "010-doc-hai.xlsx"
    assert "gửi lại" in finding.message
    del serial["010-doc-hai.xlsx"]
    # Every other file, including those of its batch, read as usual (which one is the unit's newest
    # report changes: the poisoned file no longer competes).
    assert {n: (s.findings, s.report) for n, s in by_name.items()} == {
        n: (s.findings, s.report) for n, s in serial.items()
    }
    saved = validation.ValidationCache(tmp_path / "memo.json", "key")
    assert not saved.holds(poisoned.file.sha256)  # tried again next run, not remembered as broken
    assert all(saved.holds(sha) for sha in {s.file.sha256 for s in by_name.values()})


@FORK_ONLY
def test_files_sent_after_a_worker_died_go_to_a_new_pool_not_the_main_process(tmp_path, config, monkeypatch):
    """The first file kills its worker before the others are sent: they go to a fresh pool."""
    validate = _real_validate()
    monkeypatch.setattr(validate, "validate_workbook", validate_outside_the_main_process)
    poisoned = put(tmp_path / f"{POISONED}.xlsx", workbook("TCHC", "2024-02", "độc hại"))
    others = [put(tmp_path / f"{n:02d}.xlsx", workbook("TCHC", "2024-02", f"tệp {n}")) for n in range(20)]
    items = [
        Incoming(ReceivedFile(p.name, p, collect._sha256(p.read_bytes()), None), p.read_bytes())
        for p in [poisoned, *others]
    ]
    with validation.ValidationPool(config, False, workers=2, memo=False) as pool:
        pool.offer(items[0])  # sent at once: it starts the workers, and kills one
        first = pool._batches[0][1]
        with pytest.raises(BrokenProcessPool):
            first.result(timeout=30)
        for item in items[1:]:
            pool.offer(item)
        results, _ = pool.results(items)
    assert [f.code for f in results[0][0].findings] == ["reader_crashed"]
    assert all(sub.unit_code == "TCHC" and sub.status is not FileStatus.UNREADABLE for sub, _ in results[1:])


def _hang_on_a_looping_file(batch):
    if any("treo" in item.file.display_name for item in batch):
        time.sleep(3600)  # as when the reader loops on a crafted file
    return _REAL_VALIDATE_IN_WORKER(batch)


@FORK_ONLY
def test_a_file_that_makes_its_reader_hang_is_a_finding_and_the_batch_goes_on(tmp_path, config, monkeypatch):
    """A worker busy far longer than any real file takes is stopped; the files of its batch are tried
    alone with a time limit each: the looping one becomes a finding, the others are read."""
    _real_validate()
    folder = tmp_path / "in"
    for n in range(20):
        put(folder / f"{n:03d}.xlsx", workbook("TCHC", "2024-02", f"tệp {n}"))
    put(folder / "005-treo.xlsx", workbook("TCHC", "2024-02", "treo"))
    monkeypatch.setattr(validation, "BATCH_SECONDS", 1.0)
    monkeypatch.setattr(validation, "FILE_SECONDS", 1.0)
    monkeypatch.setattr(validation, "_validate_in_worker", _hang_on_a_looping_file)
    started = time.monotonic()
    subs = {s.file.display_name: s for s in pipeline.ingest(config, folder, workers=2).submissions}
    assert time.monotonic() - started < 30
    hung = subs.pop("005-treo.xlsx")
    assert hung.status is FileStatus.UNREADABLE
    assert [(f.code, f.is_error) for f in hung.findings] == [("reader_timeout", True)]
    assert "quá lâu" in hung.findings[0].message
    assert len(subs) == 20 and all(
        s.unit_code == "TCHC" and s.status is not FileStatus.UNREADABLE for s in subs.values()
    )
