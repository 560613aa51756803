"""The end of every run says what happened (issue #13): real workspaces, real files, the real command.

A February with the mistakes a clerk meets: a .zip holding two units' reports, a Word file, a workbook
that is not the form, and a unit (TH) that sent January's form again in March instead of February's.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pytest

from processor import pipeline
from processor.config import load_config
from processor.devtools.samples import generate_inbox
from processor.progress import RUN_STAGES, RunProgress
from processor.records import FileStatus, Finding, Period, Severity
from processor.run_report import Unused, build_report, render_report
from processor.workspace import create_workspace
from tests.conftest import REPO

PERIOD = "2024-02"
ICT = dt.timezone(dt.timedelta(hours=7))
TH_ADDRESS = "tonghop.vpubnd@laocai.gov.vn"


def thidua(cwd: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("stderr", subprocess.PIPE)
    return subprocess.run(
        [sys.executable, "-m", "processor", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        timeout=300,
        **kwargs,
    )


def _at(path: Path, when: dt.datetime) -> None:
    stamp = when.timestamp()
    os.utime(path, (stamp, stamp))


def _mail(sender: str, date: dt.datetime, subject: str, name: str, data: bytes) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "tchc.vpubnd@laocai.gov.vn"
    message["Subject"] = subject
    message["Date"] = email.utils.format_datetime(date)
    message.set_content("Kính gửi Phòng TCHC, đơn vị gửi báo cáo.")
    message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return message.as_bytes()


def build_workspace(root: Path) -> dict[str, Path]:
    """January and February of the sample office, then the clerk's February mistakes."""
    create_workspace(root)
    config = load_config(root / "config.toml")
    inbox = root / "inbox"
    periods = [Period(2024, 1), Period(2024, 2)]
    manifest = generate_inbox(config, inbox, periods, scenario="demo", as_email=False)
    th_january = next(f for f in manifest.files if f.unit_code == "TH" and f.period == Period(2024, 1))
    for sample in manifest.files_for("TH", Period(2024, 2)):
        sample.path.unlink()  # TH has not sent February's report...
    # ... but re-sent January's form on 4 March (re-saved: not the same bytes as the first one).
    book = openpyxl.load_workbook(th_january.path)
    book.properties.title = "Báo cáo tháng 2"
    buffer = io.BytesIO()
    book.save(buffer)
    again = inbox / "2024-03-04 Báo cáo thi đua - Phòng Tổng hợp.eml"
    sent = dt.datetime(2024, 3, 4, 9, 0, tzinfo=ICT)
    resent = _mail(TH_ADDRESS, sent, "Báo cáo thi đua tháng 2", "bao-cao-TH.xlsx", buffer.getvalue())
    again.write_bytes(resent)
    # Two units' reports in one .zip, a Word file and a workbook that is not the form, saved in March.
    kt, nc = (next(f for f in manifest.files_for(code, Period(2024, 2))) for code in ("KT", "NC"))
    archive = inbox / "bao-cao-2-don-vi.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("KT.xlsx", kt.path.read_bytes())
        bundle.writestr("NC.xlsx", nc.path.read_bytes())
    word = inbox / "Báo cáo thi đua tháng 2 - Phòng Nội chính.docx"
    word.write_bytes(b"PK\x03\x04 not really a document")
    other = openpyxl.Workbook()
    other.active.title = "Danh sách"
    other.active["A1"] = "Danh sách cán bộ"
    not_form = inbox / "danh-sach.xlsx"
    other.save(not_form)
    for path, day in ((archive, 2), (word, 3), (not_form, 5)):
        _at(path, dt.datetime(2024, 3, day, 10, 0, tzinfo=ICT))
    return {"archive": archive, "word": word, "not_form": not_form, "again": again}


@pytest.fixture(scope="module")
def february(tmp_path_factory):
    root = tmp_path_factory.mktemp("office")
    files = build_workspace(root)
    proc = thidua(root, "run", "--period", PERIOD)
    assert proc.returncode == 0, proc.stderr
    return root, files, proc


def _section(stdout: str, title: str) -> list[str]:
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith(" ")), len(lines))
    return lines[start:end]


def test_run_ends_with_every_file_not_used_and_why(february):
    root, files, proc = february
    unused = _section(proc.stdout, "Tệp không dùng")
    text = "\n".join(unused)
    assert "bao-cao-2-don-vi.zip: tệp nén – " in text and "giải nén" in text
    assert "Báo cáo thi đua tháng 2 - Phòng Nội chính.docx: tệp Word – " in text
    assert "danh-sach.xlsx: không phải biểu mẫu – " in text
    assert f"{files['again'].name} › bao-cao-TH.xlsx: biểu mẫu tháng trước" in text
    assert unused[0] == f"Tệp không dùng ({len(unused) - 1}):"
    # The paths of the documents and the result folder, as the clerk can open them.
    out = Path("output") / PERIOD
    for name in (f"bao-cao-{PERIOD}.docx", "tong-hop.xlsx", f"kiem-tra-{PERIOD}.xlsx"):
        assert f"  {out / name}" in proc.stdout.splitlines()
    written = json.loads((root / out / "manifest.json").read_text(encoding="utf-8"))["outputs"]
    assert proc.stdout.splitlines()[-1] == f"Kết quả: {out} ({len(written) + 1} tệp)"


def test_last_months_form_sent_this_month_gets_a_hint(february):
    _, _, proc = february
    hints = [line for line in proc.stdout.splitlines() if line.startswith("Gợi ý: ")]
    assert len(hints) == 1
    hint = hints[0]
    assert hint.startswith("Gợi ý: TH gửi biểu mẫu tháng 01/2024 (tệp ")
    assert "nhận ngày 04/03/2024" in hint and "thời gian nộp báo cáo tháng 02/2024" in hint
    assert "thidua template --period 2024-02 --unit TH" in hint
    # Being newer, it took the place of TH's January report: the clerk is told, and what to do.
    assert "đang được dùng làm báo cáo tháng 01/2024 thay cho 2024-01_TH_bao-cao-thi-dua.xlsx" in hint


def test_no_hint_when_the_unit_has_sent_this_months_report(tmp_path, config):
    """The same January file from a unit whose February report is in: nothing to say about it."""
    root = tmp_path / "office"
    build_workspace(root)
    result = pipeline.status(config, PERIOD, root / "inbox")
    units = [u if u.unit_code != "TH" else _on_time(u) for u in result.units]
    report = build_report(config, result.period, result.received, units)
    assert report.hints == () and Unused.EARLIER_FORM not in {u.kind for u in report.unused}


def _on_time(unit):
    import dataclasses

    from processor.records import ReportingStatus

    return dataclasses.replace(unit, status=ReportingStatus.ON_TIME)


def test_clerk_tasks_instead_of_drafts_to_nobody(february):
    root, _, proc = february
    tasks = "\n".join(_section(proc.stdout, "Việc văn thư cần làm"))
    # The .zip is the clerk's to unpack: said once, with the files not used, never sent to a unit.
    assert "bao-cao-2-don-vi.zip" not in tasks and "giải nén" in "\n".join(_section(proc.stdout, "Tệp không"))
    assert "danh-sach.xlsx: " in tasks and "không rõ đơn vị nào gửi tệp này" in tasks
    drafts = root / "output" / PERIOD / "phan-hoi"
    # No e-mail to "Quý đơn vị" for files nobody can be said to have sent; the units' drafts are there.
    assert [p.name.split("_")[0] for p in drafts.glob("*.eml")] == ["TTCB"]
    assert (drafts / "CHUA-RO-DON-VI_danh-sach_kiem-tra.xlsx").is_file()  # for the clerk to pass on
    assert f"Thư phản hồi soạn sẵn cho đơn vị: {Path('output') / PERIOD / 'phan-hoi'} (1 thư," in proc.stdout
    report = openpyxl.load_workbook(root / "output" / PERIOD / f"kiem-tra-{PERIOD}.xlsx", read_only=True)
    rows = list(report["Tệp đã nhận"].iter_rows(min_row=3, values_only=True))
    column = rows[0].index("Việc văn thư cần làm")
    by_name = {row[0]: row[column] for row in rows[1:]}
    assert "giải nén" in by_name["bao-cao-2-don-vi.zip"]
    assert "không rõ đơn vị nào gửi tệp này" in by_name["danh-sach.xlsx"]


def test_skipped_files_keep_their_received_time_and_checksum(february):
    root, files, _ = february
    summary = json.loads((root / "output" / PERIOD / "summary.json").read_text(encoding="utf-8"))
    entries = {e["name"]: e for e in summary["generated_from"]}
    for key, day in (("archive", 2), ("word", 3)):
        entry = entries[files[key].name]
        assert entry["status"] == "unreadable"
        assert entry["received_at"] == f"2024-03-0{day}T10:00:00+07:00"
        assert entry["sha256"] == hashlib.sha256(files[key].read_bytes()).hexdigest()
    assert not any("1970" in str(e["received_at"]) for e in entries.values())
    report = openpyxl.load_workbook(root / "output" / PERIOD / f"kiem-tra-{PERIOD}.xlsx", read_only=True)
    rows = {row[0]: row for row in report["Tệp đã nhận"].iter_rows(min_row=4, values_only=True)}
    assert rows[files["archive"].name][5] == dt.datetime(2024, 3, 2, 10, 0)


def test_summary_times_carry_the_office_offset_in_whole_seconds(february):
    root, _, _ = february
    text = (root / "output" / PERIOD / "summary.json").read_text(encoding="utf-8")
    times = re.findall(r'"received_at": "([^"]+)"', text)
    assert times and all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00", t) for t in times), times


def test_status_lists_the_same_counts(february):
    root, _, run = february
    status = thidua(root, "status", "--period", PERIOD)
    assert status.returncode == 0, status.stderr
    for title in ("Tệp có lỗi, cảnh báo", "Tệp không dùng"):
        assert _section(status.stdout, title) == _section(run.stdout, title)
    assert [x for x in status.stdout.splitlines() if x.startswith("Gợi ý")] == [
        x for x in run.stdout.splitlines() if x.startswith("Gợi ý")
    ]
    # The reminders the run wrote (TH and QTTV have no usable report), counted on disk by both.
    folder = root / "output" / PERIOD / "nhac-nop"
    count = len(list(folder.glob("*.eml")))
    assert count >= 2
    line = f"Thư nhắc nộp báo cáo: {count} thư trong {Path('output') / PERIOD / 'nhac-nop'}"
    assert line in run.stdout.splitlines() and line in status.stdout.splitlines()
    assert "Kết quả:" not in status.stdout


def test_check_exits_1_for_a_file_that_is_not_accepted(february):
    root, files, _ = february
    for key in ("archive", "word", "not_form"):
        proc = thidua(root, "check", str(files[key]))
        assert proc.returncode == 1, (key, proc.stdout)
        assert "Traceback" not in proc.stderr
    good = next((root / "inbox").glob("2024-02_KT_*.xlsx"))
    assert thidua(root, "check", str(good)).returncode == 0


def test_no_progress_line_when_output_is_not_a_terminal(february):
    _, _, proc = february
    assert proc.stderr == ""
    assert "\r" not in proc.stdout


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal (POSIX)")
def test_progress_line_over_the_whole_run_on_a_terminal(tmp_path):
    root = tmp_path / "office"
    build_workspace(root)
    leader, follower = os.openpty()
    try:
        proc = thidua(root, "run", "--period", PERIOD, stderr=follower)
    finally:
        os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.returncode == 0
    shown = b"".join(chunks).decode("utf-8")
    steps = ["[1/4] Đọc thư mục nhận", "[2/4] Kiểm tra tệp", "[3/4] Tổng hợp số liệu", "[4/4] Lập văn bản"]
    positions = [shown.find(step) for step in steps]
    assert -1 not in positions and positions == sorted(positions), shown
    assert shown.endswith("\r")  # the line is taken away before the results are printed
    assert "Tệp không dùng" in proc.stdout


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_stages_through_run_period(tmp_path, config):
    root = tmp_path / "office"
    build_workspace(root)
    screen = _Terminal()
    progress = RunProgress(screen, RUN_STAGES)
    pipeline.run_period(config, PERIOD, root / "inbox", root / "output", progress=progress)
    text = screen.getvalue()
    labels = ("Đọc thư mục nhận", "Kiểm tra tệp", "Tổng hợp số liệu", "Lập văn bản")
    for number, label in enumerate(labels, 1):
        assert f"[{number}/4] {label}" in text
    assert re.search(r"\[2/4\] Kiểm tra tệp (\d+)/\1", text)  # the count reaches its total
    quiet = io.StringIO()  # not a terminal: not a character
    RunProgress(quiet, RUN_STAGES).stage("read")
    assert quiet.getvalue() == ""


def test_pdf_step_reports_each_document(tmp_path, monkeypatch):
    """A stand-in soffice that writes the PDF: the step counts documents one by one."""
    from processor.render import documents

    fake = tmp_path / "bin" / "soffice"
    fake.parent.mkdir()
    fake.write_text(
        f"#!{sys.executable}\n"
        "import sys, pathlib\n"
        "args = sys.argv\n"
        "out = pathlib.Path(args[args.index('--outdir') + 1]); out.mkdir(parents=True, exist_ok=True)\n"
        "src = pathlib.Path(args[-1]); (out / (src.stem + '.pdf')).write_bytes(b'%PDF-1.4\\n%%EOF\\n')\n",
        encoding="utf-8",
    )
    fake.chmod(0o755)
    monkeypatch.setattr(documents, "find_soffice", lambda: str(fake))
    docs = []
    for name in ("a", "b", "c"):
        path = tmp_path / f"{name}.docx"
        path.write_bytes(b"docx")
        docs.append(path)
    seen = []
    converted, skipped = documents.convert_to_pdf(docs, 30, progress=lambda *count: seen.append(count))
    assert len(converted) == 3 and not skipped
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]


def test_libreoffice_missing_is_said_once(config, tmp_path):
    from processor.render.documents import NO_LIBREOFFICE

    docs = [tmp_path / f"{name}.docx" for name in ("bao-cao", "to-trinh", "giai-trinh")]
    report = build_report(config, Period(2024, 2), [], [], pdf_skipped=[(p, NO_LIBREOFFICE) for p in docs])
    lines = [line for line in render_report(report) if NO_LIBREOFFICE in line]
    assert lines == [f"Không xuất PDF cho bao-cao.docx, to-trinh.docx, giai-trinh.docx: {NO_LIBREOFFICE}"]


def test_feedback_sends_units_only_what_they_can_fix(tmp_path, config, february):
    """A file with a cell to fix and a finding for the clerk (a Date not believed): the draft and the
    marked copy hold the first only; a whole-file warning is not called a yellow cell."""
    from processor import collect, pipeline
    from processor.render import feedback

    root, _, _ = february
    form = next((root / "inbox").glob("2024-02_KT_*.xlsx"))
    [sub] = pipeline.ingest_paths(config, [form]).submissions
    sub.file = sub.file.__class__(**{**sub.file.__dict__, "sender": "kt.vpubnd@laocai.gov.vn"})
    clerk = Finding(
        Severity.WARNING,
        "received_time_not_believed",
        "Ngày giờ gửi ghi trong thư là 01/01/2100, không được dùng. Kiểm tra lại thư với đơn vị.",
        sub.file.display_name,
    )
    whole_file = Finding(Severity.WARNING, "headcount_change", "Số cá nhân giảm 50%.", sub.file.display_name)
    sub.findings = [clerk, whole_file]
    out = tmp_path / "out"
    written = feedback.write_feedback([sub], config, Period(2024, 2), out, collect.read_source)
    [eml] = [p for p in written if p.suffix == ".eml"]
    body = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default).get_body().get_content()
    assert "Số cá nhân giảm 50%" in body
    assert "Kiểm tra lại thư với đơn vị" not in body and "2100" not in body
    assert "ô tô vàng" not in body and "1 cảnh báo cần xem lại." in body
    [copy] = [p for p in written if p.suffix == ".xlsx" and p.parent.name == "phan-hoi"]
    sheet = openpyxl.load_workbook(copy, read_only=True)["Kết quả kiểm tra"]
    texts = " ".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row if c)
    assert "2100" not in texts and "(ô tô vàng)" not in texts
    # A warning at a cell is still called a yellow cell.
    sub.findings = [Finding(Severity.WARNING, "x", "Kiểm tra lại.", sub.file.display_name, "Đơn vị", "B5")]
    written = feedback.write_feedback([sub], config, Period(2024, 2), tmp_path / "again", collect.read_source)
    [eml] = [p for p in written if p.suffix == ".eml"]
    body = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default).get_body().get_content()
    assert "1 cảnh báo cần xem lại (ô tô vàng)" in body


@pytest.mark.slow  # three or more whole runs (5 s): `make test-slow`, which CI runs
def test_a_read_only_period_folder_leaves_no_hidden_folder(tmp_path, config):
    """The previous output/2024-02 made read-only: refused with nothing moved, no .old-2024-02."""
    from tests.test_faults import _set_writable, _thidua_unprivileged

    root = tmp_path / "office"
    build_workspace(root)
    assert thidua(root, "run", "--period", PERIOD).returncode == 0
    period_dir = root / "output" / PERIOD
    before = sorted(p.relative_to(period_dir) for p in period_dir.rglob("*"))
    _set_writable(period_dir, False)
    try:
        proc = _thidua_unprivileged(root, "run", "--period", PERIOD)
    finally:
        _set_writable(period_dir, True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "giữ nguyên" in proc.stderr and str(Path("output") / PERIOD) in proc.stderr
    assert sorted(p.name for p in (root / "output").iterdir() if p.name.startswith(".old-")) == []
    assert sorted(p.relative_to(period_dir) for p in period_dir.rglob("*")) == before
    assert thidua(root, "run", "--period", PERIOD).returncode == 0  # writable again: runs as before


# ------------------------------------------------------------------------------------------------
# The demo: every month's end of run, its summary.json against the schema, the reasons


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    proc = thidua(root, "demo", "--dir", str(root / "demo"))
    assert proc.returncode == 0, proc.stderr
    return root / "demo", proc


@pytest.mark.slow  # the whole demo in a subprocess (10 s): `make test-slow`, which CI runs
def test_demo_prints_each_months_end_of_run(demo):
    _, proc = demo
    march = proc.stdout.split("=== thidua run --period 2024-03 ===")[1]
    lines = _section(march, "Tệp có lỗi, cảnh báo kỳ 03/2024")
    assert lines[0] == "Tệp có lỗi, cảnh báo kỳ 03/2024 (1 tệp):"
    assert lines[1].startswith("  TTCB: 4 lỗi, 0 cảnh báo (chưa dùng được) – ")
    assert lines[2].startswith("      [Lỗi] ")
    assert "Thư phản hồi soạn sẵn cho đơn vị: " in march and "(1 thư," in march
    # Every run of the demo ends as `thidua run` does: its documents, then the result folder.
    for run in proc.stdout.split("=== thidua run --period")[1:]:
        assert re.search(r"^Văn bản và bảng tính:\n(  .+\n)+Kết quả: .+ \(\d+ tệp\)$", run, re.M), run


@pytest.mark.slow  # the whole demo in a subprocess (10 s): `make test-slow`, which CI runs
def test_every_demo_summary_matches_the_schema(demo, february):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((REPO / "docs" / "summary.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    folder, _ = demo
    summaries = sorted(folder.glob("**/output/20*/summary.json"))
    assert len(summaries) >= 3
    summaries.append(february[0] / "output" / PERIOD / "summary.json")  # skipped files too
    for path in summaries:
        data = json.loads(path.read_text(encoding="utf-8"))
        errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(data)]
        assert not errors, (path, errors[:5])
    # The schema can fail: a time without its offset, as summary.json used to write them.
    data["generated_from"][0]["received_at"] = "2024-03-04T16:30:00.123456"
    assert not validator.is_valid(data)


@pytest.mark.slow  # the whole demo in a subprocess (10 s): `make test-slow`, which CI runs
def test_reasons_say_a_missing_month_once(demo):
    folder, _ = demo
    book = openpyxl.load_workbook(folder / "output" / "2024-03" / "tong-hop.xlsx", read_only=True)
    rows = book["Khen thưởng"].iter_rows(min_row=2, values_only=True)
    # People (a unit's reason may name several people each absent from a month: tests/test_commend.py).
    reasons = [row[-1] for row in rows if row[-1] and row[1] == "Cá nhân"]
    said = [re.findall(r"không có báo cáo tháng \d\d/\d{4}", text) for text in reasons]
    assert any(said), "the demo has people absent from a month"
    repeated = [text for text, found in zip(reasons, said, strict=True) if len(found) != len(set(found))]
    assert not repeated, repeated[:3]


@pytest.mark.skipif(os.sep != "/", reason="the README shows the paths as on the office's Linux test box")
def test_readme_shows_the_end_of_a_real_run(february):
    _, _, proc = february
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    shown = readme.split("```text\nTệp có lỗi, cảnh báo kỳ 02/2024", 1)[1].split("```", 1)[0]
    shown = "Tệp có lỗi, cảnh báo kỳ 02/2024" + shown
    assert proc.stdout.endswith(shown)


def test_status_says_what_it_writes():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| `thidua status"))
    assert "output/.cache/validated.json" in row and "writes nothing" not in row


def test_a_skipped_file_of_unknown_time_has_no_time(config):
    from processor.records import UNKNOWN_TIME, ReceivedFile, Submission
    from processor.render.summary import iso_time

    assert iso_time(UNKNOWN_TIME) is None
    assert iso_time(dt.datetime(2024, 3, 4, 16, 30, 0, 123456)) == "2024-03-04T16:30:00+07:00"
    assert iso_time(dt.datetime(2024, 3, 4, 9, 30, tzinfo=dt.UTC)) == "2024-03-04T16:30:00+07:00"
    gone = ReceivedFile("x.zip", Path("x.zip"), "", UNKNOWN_TIME)
    assert not gone.time_known
    sub = Submission(gone, FileStatus.UNREADABLE, [Finding(Severity.WARNING, "not_a_report", "…", "x.zip")])
    report = build_report(config, Period(2024, 2), [sub], [])
    assert [u.kind for u in report.unused] == [Unused.ARCHIVE]


def test_a_unit_mailing_a_word_file_gets_a_reply_by_name_without_yellow_cells(tmp_path, config):
    """An e-mail from Phòng Nội chính's registered address with a Word file instead of the form: the
    reply names the unit, the real time it came, and calls nothing a yellow cell (no cell is marked)."""
    from processor import collect, pipeline
    from processor.render import feedback

    sent = dt.datetime(2024, 3, 3, 9, 0, tzinfo=ICT)
    mail = tmp_path / "thu-NC.eml"
    mail.write_bytes(_mail("noichinh.vpubnd@laocai.gov.vn", sent, "Báo cáo", "bao-cao.docx", b"PK\x03\x04"))
    [sub] = pipeline.ingest_paths(config, [mail]).submissions
    assert sub.status is FileStatus.UNREADABLE and sub.unit_code is None
    assert sub.file.sha256 == hashlib.sha256(mail.read_bytes()).hexdigest()
    written = feedback.write_feedback([sub], config, Period(2024, 2), tmp_path / "out", collect.read_source)
    [eml] = [p for p in written if p.suffix == ".eml"]
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    body = message.get_body().get_content()
    assert body.splitlines()[0] == "Kính gửi: Phòng Nội chính"
    assert "nhận lúc 09:00 ngày 03/03/2024" in body and "1970" not in body
    assert "ô tô" not in body and "tô vàng" not in body
    assert [a.addr_spec for a in message["To"].addresses] == ["noichinh.vpubnd@laocai.gov.vn"]


def test_reports_mailed_in_a_zip_are_the_clerks_to_unpack(tmp_path, config):
    """A unit e-mails its form zipped: the clerk is told to unpack it; the unit gets no reply about it."""
    from processor import collect, pipeline
    from processor.render import feedback

    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("TH.xlsx", b"PK")
    mail = tmp_path / "thu-TH.eml"
    sent = dt.datetime(2024, 3, 3, 9, 0, tzinfo=ICT)
    mail.write_bytes(_mail(TH_ADDRESS, sent, "Báo cáo", "bao-cao-thang-2.zip", bundle.getvalue()))
    [sub] = pipeline.ingest_paths(config, [mail]).submissions
    report = build_report(config, Period(2024, 2), [sub], [])
    [unused] = report.unused
    assert unused.kind is Unused.ARCHIVE and "giải nén" in unused.reason
    assert report.clerk_tasks == ()  # said once, with the files not used
    written = feedback.write_feedback([sub], config, Period(2024, 2), tmp_path / "out", collect.read_source)
    assert [p.name for p in written] == ["kiem-tra-2024-02.xlsx"]
