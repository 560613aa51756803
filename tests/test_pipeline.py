"""End to end: the sample generator's inbox through `thidua run`, every figure checked against the
generator's own truth (what each unit meant to report), computed here by plain counting."""

import datetime as dt
import hashlib
import json
import os
import zipfile
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import docx
import openpyxl
import pytest

from processor.config import load_config
from processor.devtools.samples import generate_inbox
from processor.pipeline import run_period, status
from processor.records import ReportingStatus
from processor.vntext import format_percent
from processor.workspace import create_workspace
from tests.factories import expected_verdict
from tests.worker_fakes import FORK_ONLY, POISONED, validate_outside_the_main_process

RUN_DAY = dt.date(2026, 12, 2)  # the documents' date follows the day of the run: fixed for comparisons


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("office")
    create_workspace(root)
    config = load_config(root / "config.toml")
    periods = config.campaigns[0].periods
    manifest = generate_inbox(config, root / "inbox", periods, scenario="demo")
    outcomes = {
        str(p): run_period(config, str(p), root / "inbox", root / "output", today=RUN_DAY) for p in periods
    }
    return SimpleNamespace(config=config, manifest=manifest, outcomes=outcomes, root=root)


def expected_unit(report):
    people = report.people
    return {
        "staff": len(people),
        "registered": sum(p.registered for p in people),
        "rated_good_or_better": sum(p.rating in ("HTXSNV", "HTTNV") for p in people),
        "social": sum(p.social for p in people),
        "initiatives": sum(p.initiatives for p in people),
        "disciplined": sum(p.discipline != "Không" for p in people),
        "tasks_assigned": report.tasks_assigned,
        "tasks_completed": report.tasks_completed,
        "donation_vnd": report.donation_vnd,
        "support_activities": report.support_activities,
        "self_rating": report.self_rating,
    }


def test_every_unit_figure_and_status_matches_the_truth(workspace):
    ws = workspace
    for period_text, outcome in ws.outcomes.items():
        summary = json.loads((outcome.out_dir / "summary.json").read_text(encoding="utf-8"))
        assert summary["period"] == period_text
        period = outcome.result.period
        for unit in summary["units"]:
            key = (unit["code"], period)
            assert unit["status"] == ws.manifest.expected_status[key].value, key
            if key in ws.manifest.truth:
                expected = expected_unit(ws.manifest.truth[key])
                assert {k: unit[k] for k in expected} == expected, key


def test_targets_match_plain_counts(workspace):
    ws = workspace
    for outcome in ws.outcomes.values():
        period = outcome.result.period
        reports = [r for (code, p), r in ws.manifest.truth.items() if p == period]
        people = [person for r in reports for person in r.people]
        expected = {
            "CT1-TT": (sum(r.self_rating in ("HTXSNV", "HTTNV") for r in reports), len(reports)),
            "CT1-CN": (sum(p.rating in ("HTXSNV", "HTTNV") for p in people), len(people)),
            "CT2": (sum(p.registered for p in people), len(people)),
            "CT3": (sum(p.social for p in people), len(people)),
            "NV": (sum(r.tasks_completed for r in reports), sum(r.tasks_assigned for r in reports)),
        }
        summary = json.loads((outcome.out_dir / "summary.json").read_text(encoding="utf-8"))
        for target in summary["targets"]:
            numerator, denominator = expected[target["id"]]
            assert (target["numerator"], target["denominator"]) == (numerator, denominator), target["id"]
            measure = target["measure"]
            units = len(ws.config.units)
            verdict = expected_verdict(numerator, denominator, Fraction(1), measure, len(reports), units)
            assert target["verdict"] == verdict, target["id"]
            assert target["met"] is {"met": True, "not_met": False}.get(verdict)
        # The report leadership reads carries the same percentages.
        text = "\n".join(
            cell.text
            for table in docx.Document(outcome.out_dir / f"bao-cao-{period}.docx").tables
            for row in table.rows
            for cell in row.cells
        )
        for numerator, denominator in expected.values():
            if denominator:
                assert format_percent(Fraction(numerator, denominator)) in text


def test_outputs_of_each_month_and_the_closing_proposal(workspace):
    ws = workspace
    for period_text, outcome in ws.outcomes.items():
        names = {p.name for p in outcome.out_dir.iterdir()}
        assert {"tong-hop.xlsx", "summary.json", "manifest.json", f"bao-cao-{period_text}.docx"} <= names
        assert f"giai-trinh-khen-thuong-{period_text}.docx" in names
        final = period_text == "2024-03"
        assert (f"to-trinh-khen-thuong-{period_text}.docx" in names) == final
        for path in outcome.out_dir.rglob("*"):
            if path.suffix in (".xlsx", ".docx"):
                assert zipfile.ZipFile(path).testzip() is None
        manifest_json = json.loads((outcome.out_dir / "manifest.json").read_text(encoding="utf-8"))
        assert manifest_json["config_sha256"] == ws.config.sha256
        for entry in manifest_json["outputs"]:
            data = (outcome.out_dir / entry["path"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["path"]


def test_summary_workbook_lists_every_commendation_decision(workspace):
    ws = workspace
    final = ws.outcomes["2024-03"]
    wb = openpyxl.load_workbook(final.out_dir / "tong-hop.xlsx", read_only=True)
    rows = list(wb["Khen thưởng"].iter_rows(min_row=2, values_only=True))
    from processor.commend import decide

    decisions = decide(ws.config, final.result)
    assert len(rows) == len(decisions)
    proposed = {r[2] for r in rows if r[6] == "Đề nghị"}
    assert proposed == {d.subject_name for d in decisions if d.proposed}
    assert proposed, "the demo must have people and units to propose"
    proposal = docx.Document(final.out_dir / "to-trinh-khen-thuong-2024-03.docx")
    list_text = "\n".join(c.text for t in proposal.tables for r in t.rows for c in r.cells)
    for name in proposed:
        assert name in list_text


def _reporting(units):
    return [(u.unit_code, u.status, u.received_at, u.file, u.partial) for u in units]


@pytest.mark.parametrize("period", ["2024-01", "2024-02", "2024-03"])
def test_status_agrees_with_run(workspace, period):
    ws = workspace
    result = status(ws.config, period, ws.root / "inbox")
    assert _reporting(result.units) == _reporting(ws.outcomes[period].result.units)
    if period == "2024-02":
        assert {ReportingStatus.MISSING, ReportingStatus.LATE, ReportingStatus.ON_TIME} <= {
            u.status for u in result.units
        }


def test_status_from_the_memo_without_staff_rows_agrees_with_run(workspace, tmp_path):
    """The run's memo lets status skip the staff rows of the files it remembers: same answer."""
    import shutil

    ws = workspace
    memo_root = tmp_path / "output"
    shutil.copytree(ws.root / "output", memo_root)
    for period in ("2024-01", "2024-02", "2024-03"):
        result = status(ws.config, period, ws.root / "inbox", memo_root)
        assert _reporting(result.units) == _reporting(ws.outcomes[period].result.units)
        remembered = [s for s in result.submissions if s.report is not None]
        assert remembered and all(s.report.people == () for s in remembered)  # taken without staff


_MARCH_OUTPUTS = (
    "summary.json",
    "tong-hop.xlsx",
    "bao-cao-2024-03.docx",
    "to-trinh-khen-thuong-2024-03.docx",
)


def _assert_same_documents(again: Path, first: Path) -> None:
    for name in _MARCH_OUTPUTS:
        assert (again / name).read_bytes() == (first / name).read_bytes(), name


def test_a_run_over_the_memo_status_wrote_gives_the_same_documents(workspace, tmp_path):
    """Status validates new files without keeping their staff rows, but the memo it writes keeps them:
    a run that then takes every file from that memo writes what a run from the files wrote."""
    from processor.ingest_cache import CACHE_NAME

    ws = workspace
    out = tmp_path / "output"
    out.mkdir()
    result = status(ws.config, "2024-03", ws.root / "inbox", out)
    assert all(s.report.people == () for s in result.submissions if s.report is not None)
    assert (out / ".cache" / CACHE_NAME).stat().st_size > 0
    again = run_period(ws.config, "2024-03", ws.root / "inbox", out, today=RUN_DAY)
    _assert_same_documents(again.out_dir, ws.outcomes["2024-03"].out_dir)


def test_rerun_is_byte_identical(workspace, tmp_path):
    ws = workspace
    again = run_period(ws.config, "2024-03", ws.root / "inbox", tmp_path / "again", today=RUN_DAY)
    _assert_same_documents(again.out_dir, ws.outcomes["2024-03"].out_dir)


def test_summary_json_does_not_depend_on_the_day_of_the_run(workspace, tmp_path):
    """A re-run next month dates its drafts anew; the figures in summary.json stay byte for byte."""
    ws = workspace
    later = dt.date(2027, 1, 15)
    again = run_period(ws.config, "2024-03", ws.root / "inbox", tmp_path / "later", today=later)
    first = ws.outcomes["2024-03"].out_dir
    assert (again.out_dir / "summary.json").read_bytes() == (first / "summary.json").read_bytes()
    for out_dir, month in ((first, "tháng 12 năm 2026"), (again.out_dir, "tháng 01 năm 2027")):
        header = docx.Document(out_dir / "bao-cao-2024-03.docx").tables[0].rows[0].cells[1].text
        assert f"Lào Cai, ngày {chr(0xA0) * 6} {month}" in header


def test_template_remembers_staff_from_the_latest_accepted_report(workspace, tmp_path):
    """`thidua template` for March fills each unit's staff list from its February report."""
    import subprocess
    import sys

    ws = workspace
    out = tmp_path / "forms"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "processor",
            "template",
            "--period",
            "2024-03",
            "--unit",
            "TH",
            "--out",
            str(out),
        ],
        cwd=ws.root,
        capture_output=True,
        text=True,
        encoding="utf-8",
    )
    assert proc.returncode == 0, proc.stderr
    assert "điền sẵn danh sách cán bộ" in proc.stdout
    wb = openpyxl.load_workbook(out / "2024-03_TH_bao-cao-thi-dua.xlsx")
    sheet = wb["Cá nhân"]
    names = [sheet.cell(row, 2).value for row in range(2, 400) if sheet.cell(row, 2).value]
    february = next(r for (code, p), r in ws.manifest.truth.items() if code == "TH" and str(p) == "2024-02")
    assert names == [p.name for p in february.people]
    assert all(
        sheet.cell(row, 7).value is None for row in range(2, 2 + len(names))
    )  # month columns left empty


def test_second_process_gives_the_same_files(workspace, tmp_path, monkeypatch):
    """Large inboxes write the feedback and documents in a second process: the same bytes as in one."""
    from processor import pipeline

    ws = workspace
    monkeypatch.setattr(pipeline, "SECOND_PROCESS_FILES", 1)
    again = run_period(ws.config, "2024-03", ws.root / "inbox", tmp_path / "pooled", today=RUN_DAY)
    first = ws.outcomes["2024-03"].out_dir
    written = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert written == sorted(p.relative_to(again.out_dir) for p in again.out_dir.rglob("*") if p.is_file())
    assert any(p.parts[0] == "phan-hoi" for p in written)
    for relative in written:
        assert (again.out_dir / relative).read_bytes() == (first / relative).read_bytes(), relative


def test_second_process_starts_before_the_inbox_is_read(workspace, tmp_path, monkeypatch):
    """Forked once the province's records are in, the second process would start as a copy of
    hundreds of MB it never uses: it is started before ingest, when the inbox holds enough entries
    (folders walked), and not at all below that."""
    import multiprocessing

    from processor import pipeline

    ws = workspace
    real_ingest = pipeline.ingest_inbox
    seen: list[int] = []

    def ingest(*args, **kwargs):
        seen.append(len(multiprocessing.active_children()))
        return real_ingest(*args, **kwargs)

    monkeypatch.setattr(pipeline, "ingest_inbox", ingest)
    entries = sum(1 for p in (ws.root / "inbox").rglob("*") if p.is_file())
    for threshold, helpers in ((entries, 1), (entries + 1, 0)):
        monkeypatch.setattr(pipeline, "SECOND_PROCESS_FILES", threshold)
        run_period(ws.config, "2024-03", ws.root / "inbox", tmp_path / str(threshold), today=RUN_DAY)
        assert seen.pop() == helpers, threshold


def test_template_mistake_in_the_second_process_is_a_clean_user_error(workspace, tmp_path, monkeypatch):
    """A clerk's template with an unknown variable fails the run with the Vietnamese message, whether
    the documents are filled here or by the second process, and the earlier outputs stay."""
    import shutil

    from processor import pipeline
    from processor.devtools import word_templates
    from processor.records import UserError
    from processor.workspace import TEMPLATE_DIR, bundled_templates

    ws = workspace
    office = tmp_path / "office"
    office.mkdir()
    shutil.copy(ws.config.path, office / "config.toml")
    shutil.copytree(bundled_templates(), office / TEMPLATE_DIR)
    report = office / TEMPLATE_DIR / word_templates.REPORT
    document = docx.Document(report)
    document.add_paragraph("{{ khong_co_bien_nay }}")
    document.save(report)
    config = load_config(office / "config.toml")
    out = tmp_path / "output"
    first = run_period(ws.config, "2024-02", ws.root / "inbox", out)
    before = {p: p.read_bytes() for p in first.out_dir.rglob("*") if p.is_file()}
    for threshold in (10**9, 1):  # in this process, then in the second one
        monkeypatch.setattr(pipeline, "SECOND_PROCESS_FILES", threshold)
        with pytest.raises(UserError, match="khong_co_bien_nay"):
            run_period(config, "2024-02", ws.root / "inbox", out)
        assert {p: p.read_bytes() for p in first.out_dir.rglob("*") if p.is_file()} == before


def _die(*_args):
    os._exit(3)  # a worker killed mid-job (out of memory, security software)


_REAL_VALIDATE_IN_WORKER = None
_DIED_MARKER = "THIDUA_TEST_DIED_MARKER"


def _die_once(batch):
    """The first validation worker to get a batch dies; the files are then tried again elsewhere."""
    try:
        with open(os.environ[_DIED_MARKER], "x"):  # atomic: exactly one process creates it
            pass
    except FileExistsError:
        return _REAL_VALIDATE_IN_WORKER(batch)
    os._exit(3)


@FORK_ONLY
def test_no_received_workbook_is_read_in_the_main_process(workspace, tmp_path, monkeypatch):
    """Even a ten-unit office's run and a unit's `check` read workbooks in worker processes only: a file
    that crashes the reader's native code becomes a finding, and the run and the check go on."""
    import shutil

    from processor import pipeline, validate

    monkeypatch.setattr(validate, "validate_workbook", validate_outside_the_main_process)
    ws = workspace
    inbox = tmp_path / "inbox"
    shutil.copytree(ws.root / "inbox", inbox)
    some = sorted(inbox.rglob("*.xlsx"))[0]
    poisoned = inbox / f"2024-03_{POISONED}.xlsx"
    poisoned.write_bytes(some.read_bytes() + b"\x00")  # other bytes: not a copy of `some`
    outcome = run_period(ws.config, "2024-03", inbox, tmp_path / "out")
    crashed = [s for s in outcome.submissions if s.file.display_name == poisoned.name]
    assert [f.code for s in crashed for f in s.findings] == ["reader_crashed"]
    report = openpyxl.load_workbook(outcome.out_dir / "kiem-tra-2024-03.xlsx", read_only=True)
    rows = [row for sheet in report.worksheets for row in sheet.iter_rows(values_only=True)]
    assert any(poisoned.name in row and "dừng đột ngột" in " ".join(map(str, row)) for row in rows)
    checked, _ = pipeline.check_files(ws.config, [some, poisoned])
    assert [sub.status.name for sub in checked] == ["ACCEPTED", "UNREADABLE"]


@FORK_ONLY
def test_a_dying_worker_process_costs_time_not_results(workspace, tmp_path, monkeypatch):
    """If the validation workers or the second process die, the run does their work itself."""
    from processor import pipeline, validation

    ws = workspace
    monkeypatch.setattr(pipeline, "SECOND_PROCESS_FILES", 1)
    global _REAL_VALIDATE_IN_WORKER
    _REAL_VALIDATE_IN_WORKER = validation._validate_in_worker
    monkeypatch.setenv(_DIED_MARKER, str(tmp_path / "died"))
    monkeypatch.setattr(validation, "_validate_in_worker", _die_once)
    monkeypatch.setattr(pipeline, "_run_pickled", _die)
    again = run_period(ws.config, "2024-03", ws.root / "inbox", tmp_path / "out", today=RUN_DAY)
    assert (tmp_path / "died").exists()  # a validation worker did die
    first = ws.outcomes["2024-03"].out_dir
    written = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert written == sorted(p.relative_to(again.out_dir) for p in again.out_dir.rglob("*") if p.is_file())
    for relative in written:
        assert (again.out_dir / relative).read_bytes() == (first / relative).read_bytes(), relative
