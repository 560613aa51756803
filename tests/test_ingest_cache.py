"""The memo of validated files (processor/ingest_cache.py): what a month's run does not read again."""

from __future__ import annotations

from pathlib import Path

import pytest

from processor import collect, pipeline, validate, validation
from processor.config import load_config
from processor.devtools import samples
from processor.ingest_cache import CACHE_FORMAT, CACHE_NAME, ValidationCache, cache_key
from processor.records import Period

REPO = Path(__file__).resolve().parents[1]
VALIDATE = validate.validate_workbook


@pytest.fixture(scope="module")
def inbox(tmp_path_factory):
    folder = tmp_path_factory.mktemp("memo") / "inbox"
    config = load_config(REPO / "config.toml")
    samples.generate_inbox(config, folder, [Period.parse("2024-01")], scenario="demo")
    return config, folder


def _run(config, folder, memo: Path, monkeypatch) -> tuple[list, list[str]]:
    validated: list[str] = []

    def counting(config, item, accept_partial=False):
        validated.append(item.file.display_name)
        return VALIDATE(config, item, accept_partial)

    monkeypatch.setattr(validate, "validate_workbook", counting)
    cache = ValidationCache(memo, cache_key(config, False))
    return pipeline.ingest(config, folder, workers=1, cache=cache).submissions, validated


def test_second_run_reads_no_workbook_and_gives_the_same_submissions(inbox, tmp_path, monkeypatch):
    config, folder = inbox
    memo = tmp_path / CACHE_NAME
    first, validated = _run(config, folder, memo, monkeypatch)
    assert validated and memo.is_file()
    written = memo.read_bytes()
    second, validated_again = _run(config, folder, memo, monkeypatch)
    assert validated_again == []
    assert second == first
    assert memo.read_bytes() == written  # nothing new: the memo is not rewritten


def test_damaged_entry_is_validated_again_and_the_others_kept_verbatim(inbox, tmp_path, monkeypatch):
    config, folder = inbox
    memo = tmp_path / CACHE_NAME
    first, _ = _run(config, folder, memo, monkeypatch)
    header, *lines = memo.read_text(encoding="utf-8").rstrip("\n").split("\n")
    sha, _, entry = lines[0].partition("\t")
    memo.write_text("\n".join([header, f"{sha}\t{entry[:-20]}", *lines[1:]]) + "\n", encoding="utf-8")
    second, validated = _run(config, folder, memo, monkeypatch)
    damaged = [s.file.display_name for s in first if s.file.sha256 == sha and s.status != "duplicate"]
    assert validated == damaged
    assert second == first
    again = memo.read_text(encoding="utf-8").rstrip("\n").split("\n")
    assert again[0] == header and again[2 : len(lines) + 1] == lines[1:]  # entries kept as they were read
    assert again[1] == f"{sha}\t{entry[:-20]}"  # appended to, not rewritten
    appended = again[len(lines) + 1 :]
    assert [line.partition("\t")[0] for line in appended] == [sha]  # the damaged one written anew
    third, validated = _run(config, folder, memo, monkeypatch)
    assert validated == [] and third == first  # the later line wins


def test_memo_of_another_format_is_ignored(inbox, tmp_path, monkeypatch):
    """(Config and rule changes: tests/test_form_versions.py.)"""
    config, folder = inbox
    memo = tmp_path / CACHE_NAME
    _, validated_first = _run(config, folder, memo, monkeypatch)
    text = memo.read_text(encoding="utf-8")
    memo.write_text(text.replace(CACHE_FORMAT, "thidua-validated/3", 1), encoding="utf-8")
    _, validated = _run(config, folder, memo, monkeypatch)
    assert validated == validated_first  # every workbook read again


def test_new_files_are_appended_and_a_torn_last_line_is_repaired(inbox, tmp_path, monkeypatch):
    config, folder = inbox
    partial = tmp_path / "inbox"
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    late = [p for p in files if p.suffix == ".eml"][-1]  # one e-mail, one workbook attached
    files.remove(late)
    files.append(late)
    partial.mkdir()
    for path in files[:-1]:
        (partial / path.name).write_bytes(path.read_bytes())
    memo = tmp_path / CACHE_NAME
    _run(config, partial, memo, monkeypatch)
    before = memo.read_bytes()
    (partial / files[-1].name).write_bytes(files[-1].read_bytes())  # a late file arrives
    _, validated = _run(config, partial, memo, monkeypatch)
    assert len(validated) == 1 and validated[0].startswith(late.name)
    grown = memo.read_bytes()
    assert grown.startswith(before) and grown.count(b"\n") == before.count(b"\n") + 1

    memo.write_bytes(grown[:-40])  # a run killed while appending: the last line is torn
    _, again = _run(config, partial, memo, monkeypatch)
    assert again == validated  # only the torn entry is read again
    repaired = memo.read_bytes()
    assert repaired.startswith(grown[:-40] + b"\n")  # the torn line stays on a line of its own
    final, validated = _run(config, partial, memo, monkeypatch)
    assert validated == []
    fresh, _ = _run(config, partial, tmp_path / "other-memo.json", monkeypatch)
    assert final == fresh


def test_memo_mostly_of_files_gone_is_rewritten_with_the_files_still_there(inbox, tmp_path, monkeypatch):
    config, folder = inbox
    memo = tmp_path / CACHE_NAME
    _run(config, folder, memo, monkeypatch)
    kept = tmp_path / "kept"
    kept.mkdir()
    survivor = sorted(p for p in folder.rglob("*.xlsx"))[0]
    (kept / survivor.name).write_bytes(survivor.read_bytes())
    monkeypatch.setattr("processor.ingest_cache.COMPACT_MIN_LINES", 0)
    _, validated = _run(config, kept, memo, monkeypatch)
    assert validated == []
    _header, *entries = memo.read_text(encoding="utf-8").rstrip("\n").split("\n")
    assert len(entries) == 1  # the files no longer in the inbox are forgotten


def test_entries_of_another_config_never_join_a_memo_rewritten_meanwhile(inbox, tmp_path, monkeypatch):
    """`thidua status` (old config, memo loaded) still running when a run under an edited config rewrote
    the memo: status's entries, validated under the old config, must not join the new memo."""
    config, folder = inbox
    subs, _ = _run(config, folder, tmp_path / "scratch.json", monkeypatch)
    first, second, third = subs[:3]
    memo = tmp_path / CACHE_NAME
    old = ValidationCache(memo, "old-config")
    old.put(first)
    old.save()
    status = ValidationCache(memo, "old-config")  # loaded: the memo is its own, it may append
    run = ValidationCache(memo, "new-config")
    run.put(second)
    run.save()  # rewritten under the new key
    status.put(third)
    status.save()
    after = ValidationCache(memo, "new-config")
    assert after.holds(second.file.sha256)
    assert not after.holds(third.file.sha256)


def test_remembered_staff_rows_share_their_texts_and_dates(inbox, tmp_path, monkeypatch):
    """A province's memo holds the same positions and ratings, and each person's name and birth date
    every month: read back, equal values are one object (a third of the memory)."""
    config, folder = inbox
    memo = tmp_path / CACHE_NAME
    first, _ = _run(config, folder, memo, monkeypatch)
    second, validated = _run(config, folder, memo, monkeypatch)
    assert validated == [] and second == first
    people = [p for s in second if s.report for p in s.report.people]
    assert len(people) > 20
    for field in ("position", "rating", "category", "discipline"):
        values = {getattr(p, field) for p in people}
        assert len({id(getattr(p, field)) for p in people}) == len(values), field


def test_files_the_memo_knows_keep_no_bytes_in_memory(inbox, tmp_path, monkeypatch):
    """A year of a province's files would sit in memory all run: collect keeps the bytes of new files only."""
    config, folder = inbox
    memo = tmp_path / CACHE_NAME
    _run(config, folder, memo, monkeypatch)
    cache = ValidationCache(memo, cache_key(config, False))
    collected = collect.collect(folder, config, keep_bytes=lambda sha: not cache.holds(sha))
    assert collected.incoming and all(item.data == b"" for item in collected.incoming)
    everything = collect.collect(folder, config)
    assert [i.file for i in collected.incoming] == [i.file for i in everything.incoming]
    assert all(item.data for item in everything.incoming)


def test_many_freshly_validated_rows_share_their_texts(inbox, tmp_path, monkeypatch):
    """A year validated again at once (an edited config) is many rows from the workers: past a threshold
    they share texts and dates like the memo's, with the same submissions."""
    config, folder = inbox
    plain, _ = _run(config, folder, tmp_path / "a.json", monkeypatch)
    monkeypatch.setattr(validation, "SHARE_FRESH_FILES", 1)
    shared, _ = _run(config, folder, tmp_path / "b.json", monkeypatch)
    assert shared == plain
    people = [p for s in shared if s.report for p in s.report.people]
    positions = {p.position for p in people}
    assert len({id(p.position) for p in people}) == len(positions)
    plain_people = [p for s in plain if s.report for p in s.report.people]
    assert len({id(p.position) for p in plain_people}) > len(positions)  # below the threshold: as made
    for field in ("birth_date", "recruited_on"):
        days = [getattr(p, field) for p in people if getattr(p, field) is not None]
        assert len(days) > len(set(days)), field  # some people share a day
        assert len({id(day) for day in days}) == len(set(days)), field
