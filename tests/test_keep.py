"""Nothing the clerk made is deleted (issue #12): what the clerk put in `output/<period>/`, or changed
there, survives a re-run in a dated `da-sua-*` folder; a killed publish is put back by `status` as well
as by `run`; a full disk prints the Vietnamese message only.

Real workspaces and the real `thidua` command; the full disk is a real 2 MB tmpfs (root on Linux only).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import docx
import pytest

from processor import pipeline, publish
from tests import test_faults
from tests.test_faults import (
    OUT,
    PERIOD,
    TRACEBACK,
    assert_no_leftovers,
    run,
    run_ok,
    snapshot,
    thidua,
)

REPORT = f"bao-cao-{PERIOD}.docx"
DOCUMENTS = (REPORT, f"giai-trinh-khen-thuong-{PERIOD}.docx")


# The finished workspace of test_faults, copied by each test.
finished = test_faults.finished
workspace = test_faults.workspace
reference = test_faults.reference


def kept_folders(period_dir: Path) -> list[Path]:
    return sorted(p for p in period_dir.iterdir() if p.name.startswith(publish.KEPT_PREFIX))


def outputs_only(period_dir: Path) -> dict[str, bytes]:
    """The program's files: everything but the da-sua-* folders."""
    return {k: v for k, v in snapshot(period_dir).items() if not k.startswith(publish.KEPT_PREFIX)}


def add_clerk_files(period_dir: Path) -> dict[str, bytes]:
    """A signed PDF, a notes folder, a note beside the feedback: what a clerk puts there."""
    files = {
        "bao-cao-da-ky.pdf": b"%PDF-1.7\n% signed by the director\n%%EOF\n",
        "ghi-chu/goi-dien.txt": "Đã gọi cho Nhà khách ngày 06/03.\n".encode(),
        "ghi-chu/lan-2/nhac-lai.txt": "Nhắc lại ngày 10/03.\n".encode(),
        "phan-hoi/da-gui.txt": "Đã gửi thư cho TTCB.\n".encode(),
    }
    for relative, data in files.items():
        path = period_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def edit_report(period_dir: Path) -> bytes:
    """The clerk opens the báo cáo in Word, adds a sentence and saves it."""
    document = docx.Document(str(period_dir / REPORT))
    document.add_paragraph("Văn phòng bổ sung: đã làm việc trực tiếp với Nhà khách.")
    document.save(str(period_dir / REPORT))
    return (period_dir / REPORT).read_bytes()


def test_clerk_files_survive_a_rerun_in_a_dated_folder(workspace, reference):
    period_dir = workspace / OUT / PERIOD
    clerk = add_clerk_files(period_dir)
    proc = run_ok(workspace)

    [kept] = kept_folders(period_dir)
    assert kept.name.startswith("da-sua-") and len(kept.name) == len("da-sua-20240305-101500")
    assert snapshot(kept) == clerk  # every file, same bytes, same relative path
    assert outputs_only(period_dir) == reference  # the program's files are the new run's, untouched
    lines = [line for line in proc.stdout.splitlines() if line.startswith("Đã giữ lại")]
    # One line each: the notes folder holds nothing the program wrote and moves as one.
    assert len(lines) == 3, proc.stdout
    assert any("ghi-chu/ (không do thidua tạo)" in line and kept.name in line for line in lines)
    assert any("bao-cao-da-ky.pdf (không do thidua tạo)" in line for line in lines)
    assert_no_leftovers(workspace / OUT)

    # The next run carries the dated folder over as it is: not nested, no new one.
    again = run_ok(workspace)
    assert kept_folders(period_dir) == [kept]
    assert snapshot(kept) == clerk
    assert "Đã giữ lại" not in again.stdout


def test_an_edited_report_is_kept_and_the_new_one_written(workspace, reference):
    period_dir = workspace / OUT / PERIOD
    edited = edit_report(period_dir)
    assert edited != reference[REPORT]
    proc = run_ok(workspace)

    [kept] = kept_folders(period_dir)
    assert (kept / REPORT).read_bytes() == edited
    text = "\n".join(p.text for p in docx.Document(str(kept / REPORT)).paragraphs)
    assert "Văn phòng bổ sung: đã làm việc trực tiếp với Nhà khách." in text
    assert (period_dir / REPORT).read_bytes() == reference[REPORT]
    assert outputs_only(period_dir) == reference
    assert f"Đã giữ lại {REPORT} (đã sửa sau lần chạy trước)" in proc.stdout


def fake_pdf_run(period_dir: Path) -> dict[str, bytes]:
    """What `--pdf` leaves (LibreOffice is not installed here): a PDF beside each document, listed with
    its checksum in the manifest."""
    manifest_path = period_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    pdfs = {}
    for name in DOCUMENTS:
        pdf = Path(name).with_suffix(".pdf").name
        data = b"%PDF-1.7\n% converted from " + name.encode() + b"\n%%EOF\n"
        (period_dir / pdf).write_bytes(data)
        manifest["outputs"].append(
            {"path": pdf, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        )
        pdfs[pdf] = data
    manifest["outputs"].sort(key=lambda entry: entry["path"])
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return pdfs


def test_a_plain_run_after_pdf_keeps_the_pdfs(workspace, reference):
    period_dir = workspace / OUT / PERIOD
    pdfs = fake_pdf_run(period_dir)
    proc = run_ok(workspace)
    [kept] = kept_folders(period_dir)
    assert snapshot(kept) == pdfs
    assert outputs_only(period_dir) == reference
    for pdf in pdfs:
        assert f"Đã giữ lại {pdf} (bản PDF của lần chạy trước; lần này không xuất PDF)" in proc.stdout


def test_a_pdf_run_again_replaces_its_own_unchanged_pdfs(workspace):
    """The rule as publish applies it: a PDF the new run writes again replaces the unchanged old one;
    a signed one (changed) is kept."""
    period_dir = workspace / OUT / PERIOD
    pdfs = fake_pdf_run(period_dir)
    signed = Path(DOCUMENTS[1]).with_suffix(".pdf").name
    (period_dir / signed).write_bytes(b"%PDF-1.7\n% signed\n%%EOF\n")
    written_now = [*json.loads((period_dir / "manifest.json").read_bytes())["outputs"]]
    kept = publish.keep_list(period_dir, [e["path"] for e in written_now], "da-sua-x")
    assert [(k.source, k.reason) for k in kept] == [(signed, publish.CHANGED)]
    assert set(pdfs) - {signed}  # the other PDF is replaced, not kept


def test_same_inputs_twice_give_the_same_files_and_no_dated_folder(workspace, reference):
    period_dir = workspace / OUT / PERIOD
    first = run_ok(workspace)
    assert snapshot(period_dir) == reference
    second = run_ok(workspace)
    assert snapshot(period_dir) == reference
    assert kept_folders(period_dir) == []
    assert "Đã giữ lại" not in first.stdout + second.stdout


def test_a_folder_without_a_manifest_is_kept_whole(workspace, reference):
    """No manifest (deleted, or not ours): nothing there can be shown to be the program's, so all of it
    is kept."""
    period_dir = workspace / OUT / PERIOD
    (period_dir / "manifest.json").write_text("không phải manifest", encoding="utf-8")
    before = snapshot(period_dir)
    run_ok(workspace)
    [kept] = kept_folders(period_dir)
    assert snapshot(kept) == before
    assert outputs_only(period_dir) == reference


# -- killed while publishing: `status` puts it back as `run` does ------------------------------------


def status(folder: Path) -> subprocess.CompletedProcess:
    proc = thidua(folder, "status", "--period", PERIOD, "--config", "config.toml")
    assert proc.returncode == 0, proc.stderr
    assert TRACEBACK not in proc.stderr
    return proc


def test_killed_between_the_renames_status_restores_the_folder(workspace, reference):
    out_root = workspace / OUT
    period_dir = out_root / PERIOD
    clerk = add_clerk_files(period_dir)
    before = snapshot(period_dir)
    # The run had written its plan and set the folder aside; the staging folder never got renamed.
    (out_root / f"{publish.PLAN_PREFIX}{PERIOD}.json").write_text('{"kept_folder": "da-sua-20240305-101500"}')
    os.replace(period_dir, out_root / f"{publish.OLD_PREFIX}{PERIOD}")
    staging = out_root / f"{publish.STAGING_PREFIX}{PERIOD}-4242-1"
    (staging / "da-sua-20240305-101500").mkdir(parents=True)
    assert not period_dir.exists()

    proc = status(workspace)
    assert snapshot(period_dir) == before
    assert f"Đã khôi phục thư mục kết quả {Path(OUT) / PERIOD}" in proc.stdout
    assert_no_leftovers(out_root)
    assert not list(out_root.glob(f"{publish.PLAN_PREFIX}*"))

    run_ok(workspace)
    [kept] = kept_folders(period_dir)
    assert snapshot(kept) == clerk
    assert outputs_only(period_dir) == reference


@pytest.mark.parametrize("command", ["status", "run"])
def test_killed_while_moving_the_kept_files_the_moves_are_finished(workspace, reference, command):
    """Published, one kept file moved, the rest still in the set-aside folder: recovery moves them into
    the dated folder the plan names, then drops the old folder."""
    out_root = workspace / OUT
    period_dir = out_root / PERIOD
    clerk = add_clerk_files(period_dir)
    edited = edit_report(period_dir)
    old = out_root / f"{publish.OLD_PREFIX}{PERIOD}"
    name = "da-sua-20240305-101500"
    (out_root / f"{publish.PLAN_PREFIX}{PERIOD}.json").write_text(json.dumps({"kept_folder": name}))
    os.replace(period_dir, old)
    shutil.copytree(old, period_dir, ignore=lambda *_: ["ghi-chu", "phan-hoi", "bao-cao-da-ky.pdf"])
    (period_dir / REPORT).write_bytes(reference[REPORT])  # the new run's
    shutil.copytree(old / "phan-hoi", period_dir / "phan-hoi", ignore=lambda *_: ["da-gui.txt"])
    (period_dir / name).mkdir()
    os.replace(old / "bao-cao-da-ky.pdf", period_dir / name / "bao-cao-da-ky.pdf")  # moved before the kill

    if command == "status":
        proc = status(workspace)
        assert "Đã giữ lại ghi-chu/ (không do thidua tạo)" in proc.stdout
    else:
        run_ok(workspace)
    assert not old.exists()
    assert_no_leftovers(out_root)
    [kept] = kept_folders(period_dir)
    assert kept.name == name
    assert snapshot(kept) == {**clerk, REPORT: edited}
    assert outputs_only(period_dir) == reference


def test_status_leaves_a_folder_set_aside_while_a_run_holds_the_lock(workspace, reference):
    out_root = workspace / OUT
    old = out_root / f"{publish.OLD_PREFIX}{PERIOD}"
    os.replace(out_root / PERIOD, old)
    with pipeline.workspace_lock(out_root):
        status(workspace)
        assert snapshot(old) == reference and not (out_root / PERIOD).exists()
    status(workspace)
    assert snapshot(out_root / PERIOD) == reference


# -- a really full disk ------------------------------------------------------------------------------


@contextlib.contextmanager
def small_disk(folder: Path, size: str = "2m"):
    """A tmpfs of `size` mounted on `folder`: a disk that really fills up (ENOSPC from the kernel)."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root on Linux")
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(disk: Path, leave_kib: int) -> None:
    """Fill the disk but `leave_kib` KiB."""
    filler = disk / "day-o-dia.bin"
    filler.unlink(missing_ok=True)
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    with open(filler, "wb") as stream:
        stream.truncate(0)
        os.posix_fallocate(stream.fileno(), 0, max(free - leave_kib * 1024, 4096))


def assert_quiet_disk_full(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert TRACEBACK not in proc.stderr and "Exception ignored" not in proc.stderr, proc.stderr
    assert proc.stderr.startswith("Lỗi: ") and "ổ đĩa đã đầy" in proc.stderr, proc.stderr
    assert "No space" not in proc.stderr


# Free space at which the run fails: at its first file, in tong-hop.xlsx (openpyxl and zipfile
# writers whose finalizers flushed to the full disk again), in a document, in the feedback.
FREE_KIB = (4, 20, 60, 150)


@pytest.mark.parametrize("free_kib", FREE_KIB)
def test_full_disk_prints_the_vietnamese_message_only(workspace, free_kib):
    out_root = workspace / OUT
    saved = workspace.parent / "saved"
    shutil.move(out_root, saved)
    with small_disk(out_root):
        for path in saved.iterdir():
            shutil.move(path, out_root / path.name)
        clerk = add_clerk_files(out_root / PERIOD)  # the kept files' moves need room too
        before = snapshot(out_root / PERIOD)
        fill(out_root, free_kib)
        assert_quiet_disk_full(run(workspace))
        assert snapshot(out_root / PERIOD) == before
        (out_root / "day-o-dia.bin").unlink()
        run_ok(workspace)
        [kept] = kept_folders(out_root / PERIOD)
        assert snapshot(kept) == clerk
        assert_no_leftovers(out_root)


def test_printing_to_a_full_disk_is_one_vietnamese_line(workspace):
    """`thidua status > output/danh-sach.txt` with the disk full: no traceback from click's echo, no
    "Exception ignored" from the interpreter's last flush."""
    disk = workspace / "o-nho"
    with small_disk(disk, "64k"):
        fill(disk, 0)
        with open(disk / "danh-sach.txt", "w", encoding="utf-8") as stdout:
            proc = subprocess.run(
                [sys.executable, "-m", "processor", "status", "--period", PERIOD],
                cwd=workspace,
                stdout=stdout,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                env={**os.environ, "PYTHONIOENCODING": "utf-8"},
                timeout=120,
            )
    assert_quiet_disk_full(proc)


# -- a death at every step of publish ----------------------------------------------------------------


def _write_tree(folder: Path, files: dict[str, bytes]) -> None:
    for relative, data in files.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_bytes(data)


def _publish_dying(out_root: Path, step: int, at: str) -> int:
    """Publish the staging folder in a forked child that dies (os._exit, no cleanup, as SIGKILL) at
    its `step`-th rename, or when it starts deleting the old folder; the child's exit status."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            calls = 0
            real_replace = os.replace

            def replace(*args, **kwargs):
                nonlocal calls
                calls += 1
                if at == "rename" and calls == step:
                    os._exit(9)
                return real_replace(*args, **kwargs)

            def rmtree(*args, **kwargs):
                os._exit(9)

            os.replace = replace
            if at == "delete":
                shutil.rmtree = rmtree
            staging = next(out_root.glob(f"{publish.STAGING_PREFIX}*"))
            publish.publish(staging, out_root / PERIOD)
            os._exit(0)
        except BaseException:
            os._exit(3)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the dying publish is a forked child")
def test_a_death_at_any_step_of_publish_loses_nothing(finished, tmp_path):
    """Before the first rename, between the renames, after each kept file's move, before the old folder
    is deleted: each clerk file is somewhere, whole; recovery then leaves the previous folder as it was,
    or the new one with every clerk file in the dated folder."""
    program = finished[1]
    clerk = {
        "ghi-chu/a.txt": b"a\n",
        "ghi-chu/b/c.txt": b"c\n",
        "phan-hoi/da-gui.txt": b"sent\n",
        "bao-cao-da-ky.pdf": b"%PDF-1.7\n%%EOF\n",
        REPORT: program[REPORT] + b"edited",
        "da-sua-20240101-000000/cu.txt": b"kept in January\n",
    }
    steps = [("rename", n) for n in range(1, 12)] + [("delete", 0)]
    outcomes = []
    for at, step in steps:
        out_root = tmp_path / f"{at}-{step}"
        _write_tree(out_root / PERIOD, {**program, **clerk})
        before = snapshot(out_root / PERIOD)
        _write_tree(out_root / f"{publish.STAGING_PREFIX}{PERIOD}-1-1", program)
        code = _publish_dying(out_root, step, at)
        assert code in (0, 9), code
        places = [out_root / PERIOD, out_root / f"{publish.OLD_PREFIX}{PERIOD}"]
        places += list((out_root / PERIOD).glob(f"{publish.KEPT_PREFIX}*"))
        for relative, data in clerk.items():
            assert any((p / relative).is_file() and (p / relative).read_bytes() == data for p in places), (
                at,
                step,
                relative,
            )
        publish.recover(out_root)
        assert sorted(p.name for p in out_root.iterdir()) == [PERIOD], (at, step)
        after = snapshot(out_root / PERIOD)
        if after == before:
            outcomes.append("old")
            continue
        outcomes.append("new")
        assert outputs_only(out_root / PERIOD) == program
        kept = {k.partition("/")[2]: v for k, v in after.items() if k.startswith(publish.KEPT_PREFIX)}
        earlier = "da-sua-20240101-000000/cu.txt"
        assert after[earlier] == clerk[earlier]  # carried over as it was, not nested
        [dated] = [p for p in kept_folders(out_root / PERIOD) if p.name != "da-sua-20240101-000000"]
        assert snapshot(dated) == {k: v for k, v in clerk.items() if k != earlier}
        assert len(kept) == len(clerk)
    # Renames 1-3: the plan, <period> set aside, staging put in place; then one per kept entry (5).
    assert outcomes == ["old"] * 3 + ["new"] * 9, outcomes


def test_a_kept_file_that_cannot_be_moved_stays_safe_until_the_next_status(workspace, reference, monkeypatch):
    """The new folder is in place but one kept file cannot be moved (a full disk, a lock): the run says
    so in Vietnamese, the file stays whole in the set-aside folder, and `status` finishes the move."""
    from processor.config import load_config
    from processor.records import UserError

    out_root = workspace / OUT
    clerk = add_clerk_files(out_root / PERIOD)
    real_replace = os.replace

    def replace(source, target, *args, **kwargs):
        if Path(source).name == "bao-cao-da-ky.pdf":
            raise OSError(28, os.strerror(28))
        return real_replace(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    config = load_config(workspace / "config.toml")
    with pytest.raises(UserError) as refused:
        pipeline.run_period(config, PERIOD, workspace / "inbox", out_root)
    monkeypatch.undo()
    message = str(refused.value)
    assert "Đã ghi kết quả mới" in message and "ổ đĩa đã đầy" in message and "bao-cao-da-ky.pdf" in message
    old = out_root / f"{publish.OLD_PREFIX}{PERIOD}"
    assert (old / "bao-cao-da-ky.pdf").read_bytes() == clerk["bao-cao-da-ky.pdf"]
    assert outputs_only(out_root / PERIOD) == reference

    proc = status(workspace)
    assert "Đã giữ lại bao-cao-da-ky.pdf (không do thidua tạo)" in proc.stdout
    [kept] = kept_folders(out_root / PERIOD)
    assert snapshot(kept) == clerk
    assert_no_leftovers(out_root)
