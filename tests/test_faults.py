"""Faults a clerk's run must survive (issue #6): crashes, read-only or full disks, missing or odd inboxes,
files that change or are locked, hostile workbooks, two runs at once, re-runs.

Real workspaces (`create_workspace` + the sample inbox), the real `thidua` command in a subprocess where
the clerk would type it, and the pipeline in-process only where a fault has to be injected (a full disk,
a file growing while it is read). The slow half (real SIGKILLs, a real concurrent run, a 100 MB part)
is in test_faults_slow.py.
"""

from __future__ import annotations

import builtins
import errno
import hashlib
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from processor import ingest, pipeline, publish
from processor.config import load_config
from processor.devtools.samples import generate_inbox
from processor.records import FileStatus, Period, UserError
from processor.workspace import create_workspace
from tests.workbooks import STAFF_PART, replace_cell, rewrite_parts

PERIOD = "2024-02"
OUT = "output"
TRACEBACK = "Traceback"


# -- helpers shared with test_faults_slow.py -------------------------------------------------------


def new_workspace(root: Path, scenario: str = "demo", *, as_email: bool = True, **sample) -> Path:
    """What `thidua init` makes, with the sample units' January and February files in the inbox."""
    create_workspace(root)
    config = load_config(root / "config.toml")
    periods = [Period.parse("2024-01"), Period.parse(PERIOD)]
    generate_inbox(config, root / "inbox", periods, scenario=scenario, as_email=as_email, **sample)
    return root


def thidua(workspace: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """The command as the clerk types it, from the workspace folder."""
    return subprocess.run(
        [sys.executable, "-m", "processor", *args],
        cwd=workspace,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        timeout=timeout,
    )


def run_args(*extra: str) -> list[str]:
    return ["run", "--period", PERIOD, "--config", "config.toml", *extra]


def run(workspace: Path, *extra: str) -> subprocess.CompletedProcess:
    return thidua(workspace, *run_args(*extra))


def run_ok(workspace: Path, *extra: str) -> subprocess.CompletedProcess:
    proc = run(workspace, *extra)
    assert proc.returncode == 0, proc.stderr
    assert TRACEBACK not in proc.stderr
    return proc


def assert_user_error(proc: subprocess.CompletedProcess, *words: str) -> str:
    """Refused the way a clerk can act on: a Vietnamese sentence, no traceback, a non-zero exit."""
    assert proc.returncode != 0
    assert TRACEBACK not in proc.stderr and TRACEBACK not in proc.stdout
    assert proc.stderr.startswith("Lỗi: "), proc.stderr
    for word in words:
        assert word in proc.stderr, (word, proc.stderr)
    return proc.stderr


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` by relative path: two runs' outputs compare byte for byte."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def inbox_state(inbox: Path) -> dict[str, tuple[str, int]]:
    return {
        p.relative_to(inbox).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(inbox.rglob("*"))
        if p.is_file()
    }


def assert_complete_outputs(folder: Path) -> dict:
    """A period folder is a whole set: every file the manifest lists, with its checksum, and nothing else;
    JSON parses and every .xlsx/.docx is an intact zip. Returns summary.json."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    listed = {entry["path"]: entry for entry in manifest["outputs"]}
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert present == set(listed) | {"manifest.json"}
    for name, entry in listed.items():
        data = (folder / name).read_bytes()
        assert len(data) == entry["size"] and hashlib.sha256(data).hexdigest() == entry["sha256"], name
        if name.endswith((".xlsx", ".docx")):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                assert archive.testzip() is None, name
    return summary


def assert_no_leftovers(out_root: Path) -> None:
    """No staging or set-aside folder, no temporary file, anywhere under the output folder."""
    left = [
        p.relative_to(out_root).as_posix()
        for p in out_root.rglob("*")
        if p.name.startswith((publish.STAGING_PREFIX, publish.OLD_PREFIX, publish.PLAN_PREFIX))
        or p.name.endswith(".tmp-thidua")
    ]
    assert left == []


def statuses(summary: dict) -> dict[str, str]:
    return {entry["name"]: entry["status"] for entry in summary["generated_from"]}


def report_rows(workbook: Path) -> list[tuple]:
    """The rows of kiem-tra-<period>.xlsx's findings sheet (file in column C, message in column J)."""
    book = openpyxl.load_workbook(workbook, read_only=True)
    try:
        return [row for row in book.worksheets[0].iter_rows(min_row=5, values_only=True) if any(row)]
    finally:
        book.close()


# -- a finished workspace, copied by each test -----------------------------------------------------


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> tuple[Path, dict[str, bytes]]:
    """A workspace after one uninterrupted run of February: the reference every test compares with."""
    workspace = new_workspace(tmp_path_factory.mktemp("finished") / "ThiDua")
    run_ok(workspace)
    return workspace, snapshot(workspace / OUT / PERIOD)


@pytest.fixture
def workspace(finished, tmp_path) -> Path:
    """A copy of the finished workspace (file times kept: received times come from them)."""
    copy = tmp_path / "ThiDua"
    shutil.copytree(finished[0], copy)
    return copy


@pytest.fixture
def reference(finished) -> dict[str, bytes]:
    return finished[1]


# -- 1. a crash between the two renames of publish --------------------------------------------------


def _leave_crash_debris(out_root: Path) -> None:
    """What a run killed between `2024-02 -> .old-2024-02` and `staging -> 2024-02` leaves behind."""
    os.replace(out_root / PERIOD, out_root / f"{publish.OLD_PREFIX}{PERIOD}")
    staging = out_root / f"{publish.STAGING_PREFIX}{PERIOD}-4242-123456789"
    (staging / "phan-hoi").mkdir(parents=True)
    (staging / "summary.json").write_text('{\n  "format": "thidua-summary/1",\n  "peri', encoding="utf-8")
    (staging / ".tong-hop.xlsx.k2j3h4.tmp-thidua").write_bytes(b"PK\x03\x04\x14\x00half")
    (staging / "phan-hoi" / ".x_kiem-tra.xlsx.abc.tmp-thidua").write_bytes(b"PK\x03")
    # Killed a while ago while saving the validation memo (a young one may be a live `status` writing).
    memo_temp = out_root / pipeline.CACHE_DIR / ".validated.json.q1w2e3.tmp-thidua"
    memo_temp.write_text('{"format": ', encoding="utf-8")
    an_hour_ago = time.time() - 3600
    os.utime(memo_temp, (an_hour_ago, an_hour_ago))


def test_killed_between_the_renames_the_next_run_restores_then_replaces(workspace, reference):
    out_root = workspace / OUT
    _leave_crash_debris(out_root)
    assert not (out_root / PERIOD).exists()
    # The previous outputs are whole where the killed run set them aside.
    assert snapshot(out_root / f".old-{PERIOD}") == reference

    # Even a run that then fails (the inbox is gone) first puts them back under their own name.
    assert_user_error(run(workspace, "--inbox", "khong-co"), "Không tìm thấy thư mục khong-co")
    assert snapshot(out_root / PERIOD) == reference
    assert_no_leftovers(out_root)

    _leave_crash_debris(out_root)
    run_ok(workspace)
    assert snapshot(out_root / PERIOD) == reference
    assert_complete_outputs(out_root / PERIOD)
    assert_no_leftovers(out_root)


def test_killed_after_publish_keeps_the_new_outputs(workspace, reference):
    """Killed while deleting the set-aside folder: the new outputs are complete; the rest is dropped."""
    out_root = workspace / OUT
    old = out_root / f".old-{PERIOD}"
    shutil.copytree(out_root / PERIOD, old)
    (old / "summary.json").unlink()  # rmtree got this far
    (out_root / PERIOD / ".summary.json.zz.tmp-thidua").write_bytes(b"{")  # never there, but harmless
    pipeline.recover_interrupted(out_root)
    assert not old.exists()
    run_ok(workspace)
    assert snapshot(out_root / PERIOD) == reference
    assert_no_leftovers(out_root)


# -- 2. read-only and full output folders ------------------------------------------------------------


def test_output_path_below_a_file(workspace):
    blocker = workspace / "ketqua.txt"
    blocker.write_text("không phải thư mục\n", encoding="utf-8")
    message = assert_user_error(run(workspace, "--out", "ketqua.txt/2024"), "Không tạo được thư mục kết quả")
    assert "là tệp, không phải thư mục" in message
    assert blocker.read_text(encoding="utf-8") == "không phải thư mục\n"


@pytest.mark.parametrize("option", ["--out", "--inbox"])
def test_output_or_inbox_that_is_a_file_gets_a_vietnamese_message(workspace, option):
    (workspace / "ketqua.txt").write_text("không phải thư mục\n", encoding="utf-8")
    assert_user_error(run(workspace, option, "ketqua.txt"), "ketqua.txt")


def _without_root_powers():
    """preexec_fn for a child that must obey file modes even when the tests run as root (containers):
    it drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from its bounding set before exec."""
    if os.geteuid() != 0:
        return None
    if not sys.platform.startswith("linux"):
        pytest.skip("root ignores file modes; dropping capabilities needs Linux")
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)

    def drop() -> None:
        for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
            if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")

    return drop


def _thidua_unprivileged(workspace: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "processor", *args],
        cwd=workspace,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        preexec_fn=_without_root_powers(),
        timeout=120,
    )


def _set_writable(folder: Path, writable: bool) -> None:
    for path in [folder, *folder.rglob("*")]:
        mode = path.stat().st_mode
        mode = mode | stat.S_IWUSR if writable else mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
        path.chmod(mode)


@pytest.mark.parametrize("lock_file", ["left by the last run", "never created"])
def test_read_only_output_folder(workspace, reference, lock_file):
    """The shared folder became read-only. With the lock file of an earlier run still there the lock is
    taken and only the staging folder fails (this was a traceback); without it the lock itself fails."""
    out_root = workspace / OUT
    if lock_file == "never created":
        (out_root / pipeline.LOCK_NAME).unlink()
    _set_writable(out_root, False)
    if lock_file == "left by the last run":
        (out_root / pipeline.LOCK_NAME).chmod(0o666)  # the folder is read-only, not the files in it
    try:
        proc = _thidua_unprivileged(workspace, *run_args())
        message = assert_user_error(proc, "Không ghi được vào thư mục kết quả", "không có quyền ghi")
        assert "giữ nguyên" in message
        assert snapshot(out_root / PERIOD) == reference
        # Looking at who has reported needs no write access.
        status = _thidua_unprivileged(workspace, "status", "--period", PERIOD, "--config", "config.toml")
        assert status.returncode == 0, status.stderr
        assert "Chưa nộp" in status.stdout
    finally:
        _set_writable(out_root, True)
    assert_no_leftovers(out_root)


def test_status_on_a_read_only_output_folder_with_a_new_file(workspace):
    (workspace / "inbox" / "moi-nhan.xlsx").write_bytes(b"%PDF-1.7\n%%EOF\n")
    out_root = workspace / OUT
    _set_writable(out_root, False)
    try:
        status = _thidua_unprivileged(workspace, "status", "--period", PERIOD, "--config", "config.toml")
    finally:
        _set_writable(out_root, True)
    assert status.returncode == 0, status.stderr


def _fsync_fails_after(monkeypatch, successes: int, code: int = errno.ENOSPC) -> None:
    real_fsync = os.fsync
    calls = {"n": 0}

    def fsync(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] > successes:
            raise OSError(code, os.strerror(code))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.parametrize("where", ["first file", "fourth file", "staging folder", "publishing rename"])
def test_full_disk_keeps_the_previous_outputs(workspace, reference, monkeypatch, where):
    config = load_config(workspace / "config.toml")
    out_root = workspace / OUT
    if where == "first file":
        _fsync_fails_after(monkeypatch, 0)
    elif where == "fourth file":
        _fsync_fails_after(monkeypatch, 3)
    elif where == "staging folder":
        real_mkdir = Path.mkdir

        def mkdir(self, *args, **kwargs):
            if self.name.startswith(publish.STAGING_PREFIX):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
            return real_mkdir(self, *args, **kwargs)

        monkeypatch.setattr(Path, "mkdir", mkdir)
    else:
        real_replace = os.replace

        def replace(source, target, *args, **kwargs):
            if Path(source).name.startswith(publish.STAGING_PREFIX):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real_replace(source, target, *args, **kwargs)

        monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(UserError) as refused:
        pipeline.run_period(config, PERIOD, workspace / "inbox", out_root)
    message = str(refused.value)
    assert "ổ đĩa đã đầy" in message and "No space" not in message
    monkeypatch.undo()
    assert snapshot(out_root / PERIOD) == reference
    assert_no_leftovers(out_root)


# -- 3. missing and empty inbox ----------------------------------------------------------------------


def test_missing_inbox_is_a_message_not_a_traceback(workspace, reference):
    assert_user_error(run(workspace, "--inbox", "thu-muc-khac"), "Không tìm thấy thư mục thu-muc-khac")
    shutil.rmtree(workspace / "inbox")
    assert_user_error(run(workspace), "Không tìm thấy thư mục inbox")
    assert snapshot(workspace / OUT / PERIOD) == reference


def test_empty_inbox_completes_with_every_unit_missing(tmp_path):
    workspace = tmp_path / "ThiDua"
    create_workspace(workspace)
    proc = run_ok(workspace)
    units = load_config(workspace / "config.toml").units
    summary = assert_complete_outputs(workspace / OUT / PERIOD)
    assert summary["generated_from"] == []
    assert summary["reporting"]["expected"] == summary["reporting"]["missing"] == len(units)
    assert {u["code"]: u["status"] for u in summary["units"]} == {u.code: "missing" for u in units}
    assert re.search(rf"Chưa nộp\s+{len(units)}\b", proc.stdout)


# -- 4. Office lock files beside the real ones --------------------------------------------------------


def _excel_owner_file(user: str) -> bytes:
    """What Excel writes to `~$name.xlsx` while a workbook is open: the user's name, twice, padded."""
    name = user.encode("latin-1")
    wide = user.encode("utf-16-le")
    return (bytes([len(name)]) + name.ljust(53, b" ") + bytes([len(user), 0]) + wide).ljust(165, b"\0")


def test_office_lock_files_are_never_submissions(workspace, reference):
    inbox = workspace / "inbox"
    real = inbox / "2024-02_BTCD_bao-cao-thi-dua.xlsx"
    assert real.is_file()
    locks = {
        f"~${real.name}": _excel_owner_file("vanthu"),
        f"~${real.name[2:]}": _excel_owner_file("vanthu"),  # Excel shortens long names this way
        f".~lock.{real.name}#": b"vanthu,MAY-VT,MAY-VT,26.11.2024 08:15,file:///C:/Users/vanthu;\n",
        "~WRL0003.tmp": b"\0" * 512,
    }
    for name, data in locks.items():
        (inbox / name).write_bytes(data)
    run_ok(workspace)
    out = workspace / OUT / PERIOD
    summary = assert_complete_outputs(out)
    names = statuses(summary)
    assert not any(Path(name).name in locks for name in names)
    assert names[real.name] == "accepted"
    inputs = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["inputs"]
    assert not any(Path(entry["name"]).name in locks for entry in inputs)
    # Nothing else moves: the lock files change no figure and no byte of the result.
    assert snapshot(out) == reference


# -- 5. files that change, vanish or are locked while being read ---------------------------------------


TARGET = "2024-02_BTCD_bao-cao-thi-dua.xlsx"  # a bare workbook, accepted in the reference run


class _GrowingFile:
    """A file still being copied into the inbox: it grows while it is read."""

    def __init__(self, path: Path):
        self.path = path
        self.stream = builtins.open(path, "rb")  # noqa: SIM115 - closed by __exit__, like a real file

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.stream.close()

    def read(self, *args) -> bytes:
        data = self.stream.read(*args)
        with builtins.open(self.path, "ab") as copying:
            copying.write(b"\0" * 65536)
        return data


@pytest.mark.parametrize(
    ("fault", "code", "words"),
    [
        ("grows while read", "file_changing", "đang thay đổi trong lúc đọc"),
        ("locked by another program", "file_unreadable", "đang bị chương trình khác khóa"),
        ("deleted while the run reads the others", "file_unreadable", "không còn trong thư mục"),
    ],
)
def test_file_changing_while_read_is_a_finding(workspace, reference, monkeypatch, fault, code, words):
    target = workspace / "inbox" / TARGET

    def faulty_open(path, mode="r", *args, **kwargs):
        if Path(path).name != TARGET:
            return builtins.open(path, mode, *args, **kwargs)
        if fault == "grows while read":
            return _GrowingFile(Path(path))
        if fault == "locked by another program":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        os.unlink(path)
        return builtins.open(path, mode, *args, **kwargs)

    monkeypatch.setattr(ingest, "open", faulty_open, raising=False)
    config = load_config(workspace / "config.toml")
    outcome = pipeline.run_period(config, PERIOD, workspace / "inbox", workspace / OUT)
    monkeypatch.undo()

    [sub] = [s for s in outcome.submissions if s.file.display_name == TARGET]
    assert sub.status is FileStatus.UNREADABLE
    [finding] = sub.findings
    assert finding.code == code and words in finding.message
    summary = assert_complete_outputs(workspace / OUT / PERIOD)
    before = statuses(json.loads(reference["summary.json"]))
    after = statuses(summary)
    assert before.pop(TARGET) == "accepted" and after.pop(TARGET) == "unreadable"
    assert after == before  # every other file proceeded as in the uninterrupted run
    rows = report_rows(workspace / OUT / PERIOD / f"kiem-tra-{PERIOD}.xlsx")
    assert any(row[2] == TARGET and words in (row[9] or "") for row in rows)
    assert target.exists() or fault == "deleted while the run reads the others"


def test_file_changed_after_validation_still_gets_its_feedback(workspace, reference, monkeypatch):
    """A rejected file overwritten between validation and writing its annotated copy: the run completes
    and the feedback copy carries the findings alone."""
    summary = json.loads(reference["summary.json"])
    rejected = next(e["name"] for e in summary["generated_from"] if e["status"] == "rejected")
    source = workspace / "inbox" / rejected.split(ingest.SEPARATOR)[0]
    real_ingest = pipeline.ingest_inbox

    def ingest_then_overwrite(*args, **kwargs):
        submissions = real_ingest(*args, **kwargs)
        source.write_bytes(b"From: someone\n\nnothing attached any more\n")
        return submissions

    monkeypatch.setattr(pipeline, "ingest_inbox", ingest_then_overwrite)
    config = load_config(workspace / "config.toml")
    outcome = pipeline.run_period(config, PERIOD, workspace / "inbox", workspace / OUT)
    out = workspace / OUT / PERIOD
    assert_complete_outputs(out)
    assert (out / "summary.json").read_bytes() == reference["summary.json"]
    [copy] = [p for p in outcome.outputs if p.parent.name == "phan-hoi" and p.suffix == ".xlsx"]
    book = openpyxl.load_workbook(copy, read_only=True)
    try:
        assert len(book.sheetnames) == 1  # the findings, without the unit's sheets it no longer matches
    finally:
        book.close()
    assert copy.read_bytes() != reference[f"phan-hoi/{copy.name}"]


# -- 6. hostile workbooks among good ones --------------------------------------------------------------


_LAUGHS = "".join(f' <!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">\n' for i in range(2, 10)).replace(
    "lol1;", "lol;"
)
BILLION_LAUGHS = (
    f'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n{_LAUGHS}]>\n'
    '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
    "<si><t>&lol9;</t></si></sst>"
).encode()
SST_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
SST_CONTENT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def with_shared_strings(data: bytes, shared_strings: bytes) -> bytes:
    """A workbook with a shared-strings part added (the sample workbooks use inline strings)."""
    rel = f'<Relationship Id="rIdSST" Type="{SST_TYPE}" Target="sharedStrings.xml"/></Relationships>'
    override = f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SST_CONTENT}"/></Types>'
    return rewrite_parts(
        data,
        {
            "xl/sharedStrings.xml": shared_strings,
            "xl/_rels/workbook.xml.rels": lambda xml: xml.replace(b"</Relationships>", rel.encode()),
            "[Content_Types].xml": lambda xml: xml.replace(b"</Types>", override.encode()),
        },
    )


def _inline(ref: str) -> bytes:
    return f'<c r="{ref}" t="inlineStr"><is><t>x</t></is></c>'.encode()


def hostile_workbooks(good: bytes) -> dict[str, tuple[bytes, str]]:
    """name -> (bytes, words the finding must contain), each built from a real unit's workbook."""
    repetitive = b"<si><t>Nguy\xe1\xbb\x85n V\xc4\x83n A</t></si>" * (100 * 1024 * 1024 // 34)
    sst_100mb = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' + repetitive + b"</sst>"
    )
    return {
        "billion-laughs.xlsx": (with_shared_strings(good, BILLION_LAUGHS), "billion laughs"),
        "bom-nen.xlsx": (rewrite_parts(good, {"xl/media/image1.png": b"\0" * (30 * 1024 * 1024)}), "bom nén"),
        "dong-cuoi.xlsx": (replace_cell(good, STAFF_PART, "A1048576", _inline("A1048576")), "1.048.576"),
        "cot-cuoi.xlsx": (replace_cell(good, STAFF_PART, "XFD2", _inline("XFD2")), "XFD"),
        "chuoi-100mb.xlsx": (with_shared_strings(good, sst_100mb), "bom nén"),
        "la-pdf.xlsx": (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n", "PDF"),
        "bi-cat-cut.xlsx": (good[: len(good) // 2], "hỏng"),
    }


def test_hostile_workbooks_are_refused_and_the_good_ones_aggregated(tmp_path):
    workspace = new_workspace(tmp_path / "ThiDua", "clean", as_email=False)
    run_ok(workspace)
    baseline = json.loads((workspace / OUT / PERIOD / "summary.json").read_text(encoding="utf-8"))

    inbox = workspace / "inbox"
    good = (inbox / TARGET).read_bytes()
    dropped = inbox / "doc-hai"
    dropped.mkdir()
    hostile = hostile_workbooks(good)
    for name, (data, _) in hostile.items():
        (dropped / name).write_bytes(data)
    # A dimension that lies about the sheet's size is harmless: the same report, read at normal speed.
    # An older copy of the unit's report, so that the real file stays the one in use.
    liar = dropped / "kich-thuoc-gia.xlsx"
    big = b'<dimension ref="A1:XFD1048576"/>'
    liar.write_bytes(
        rewrite_parts(good, {STAFF_PART: lambda xml: re.sub(rb'<dimension ref="[^"]*"/>', big, xml)})
    )
    day_before = (inbox / TARGET).stat().st_mtime_ns - 86_400 * 10**9
    os.utime(liar, ns=(day_before, day_before))

    started = time.perf_counter()
    run_ok(workspace)
    assert time.perf_counter() - started < 20

    out = workspace / OUT / PERIOD
    summary = assert_complete_outputs(out)
    found = statuses(summary)
    for name in hostile:
        entry = next(e for e in summary["generated_from"] if e["name"] == f"doc-hai/{name}")
        assert entry["status"] == "unreadable" and entry["errors"] >= 1, entry
        del found[f"doc-hai/{name}"]
    assert found.pop("doc-hai/kich-thuoc-gia.xlsx") == "superseded"
    assert found == statuses(baseline)  # the good files, exactly as without the hostile ones
    for key in ("reporting", "units", "totals", "targets"):
        assert summary[key] == baseline[key], key
    rows = report_rows(out / f"kiem-tra-{PERIOD}.xlsx")
    for name, (_, words) in hostile.items():
        messages = [row[9] for row in rows if row[2] == f"doc-hai/{name}"]
        assert messages and any(words in (m or "") for m in messages), (name, messages)


# -- 7. two runs at once -------------------------------------------------------------------------------


def test_second_run_refuses_while_another_holds_the_lock(workspace, reference):
    from filelock import FileLock

    out_root = workspace / OUT
    lock = FileLock(str(out_root / pipeline.LOCK_NAME))
    with lock.acquire(timeout=5):
        message = assert_user_error(run(workspace), "Một lần chạy khác đang ghi vào output")
        assert "Đợi lần chạy đó kết thúc" in message
        assert snapshot(out_root / PERIOD) == reference
        assert_no_leftovers(out_root)
        status = thidua(workspace, "status", "--period", PERIOD, "--config", "config.toml")
        assert status.returncode == 0, status.stderr  # reading who has reported needs no lock
    run_ok(workspace)
    assert snapshot(out_root / PERIOD) == reference


# -- 8. re-runs are byte-identical and never touch the inbox ---------------------------------------------


def test_rerun_is_byte_identical_and_never_touches_the_inbox(workspace, reference):
    """The reference is a fresh workspace's first run; this is the clerk running it again (the second
    time with --final, which adds the tờ trình)."""
    inbox = workspace / "inbox"
    before = inbox_state(inbox)
    run_ok(workspace)
    again = snapshot(workspace / OUT / PERIOD)
    assert again == reference
    assert {"summary.json", "tong-hop.xlsx", f"kiem-tra-{PERIOD}.xlsx"} <= set(again)
    assert sum(name.endswith(".docx") for name in again) >= 2
    run_ok(workspace, "--final")
    closing = snapshot(workspace / OUT / PERIOD)
    assert any(name.startswith("to-trinh") and name.endswith(".docx") for name in closing)
    assert inbox_state(inbox) == before


def test_characters_xml_cannot_hold_never_reach_the_outputs(tmp_path):
    """A name typed with control characters (stored as _x0001_ escapes) or U+FFFE, and a file name
    that is not UTF-8 (Linux): the run completes and every output opens again."""
    import docx

    workspace = new_workspace(tmp_path / "ThiDua", "clean", as_email=False)
    inbox = workspace / "inbox"
    data = (inbox / TARGET).read_bytes()
    odd = "Nguyễn_x0001_ Văn\ufffe Bình".encode()
    data = replace_cell(data, STAFF_PART, "B5", b'<c r="B5" t="inlineStr"><is><t>' + odd + b"</t></is></c>")
    (inbox / TARGET).write_bytes(data)
    if os.name == "posix":
        (inbox / "khac").mkdir()
        with open(os.fsencode(inbox / "khac") + b"/B\xe1o c\xe1o.xlsx", "wb") as stream:
            stream.write(data)
    run_ok(workspace)
    out = workspace / OUT / PERIOD
    summary = assert_complete_outputs(out)
    text = json.dumps(summary, ensure_ascii=False)
    assert "\x01" not in text and "\ufffe" not in text
    for path in out.rglob("*.xlsx"):
        openpyxl.load_workbook(path).close()  # strict XML: an illegal character would fail here
    for path in out.rglob("*.docx"):
        docx.Document(path)
    if os.name == "posix":
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        assert "khac/B\ufffdo c\ufffdo.xlsx" in {entry["name"] for entry in manifest["inputs"]}
