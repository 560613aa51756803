"""Target verdicts end to end: no "Đạt" without data, the coverage beside a share, "Chưa đạt" only when
no missing report can change it, "Không phát sinh" for nothing to count, "—" for a month without data,
and the closing run's warnings. Real workbooks in, real console, summary.json, tong-hop.xlsx and .docx out.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from fractions import Fraction
from pathlib import Path

import docx
import openpyxl
import pytest

from processor import commend
from processor.aggregate import aggregate, judge_target
from processor.breakdown import breakdowns
from processor.config import load_config
from processor.devtools import word_templates
from processor.devtools.samples import generate_inbox
from processor.records import Period, Verdict
from processor.render import documents
from processor.render.summary import write_summary_json
from processor.render.workbook import write_summary_workbook
from processor.vntext import format_percent
from processor.workspace import create_workspace
from tests.factories import VERDICT_WORDS, Row, at, expected_verdict, report, submission, with_units
from tests.test_cli import thidua
from tests.test_outputs import _rows as sheet_rows

JAN, FEB, MAR = Period(2024, 1), Period(2024, 2), Period(2024, 3)
# "Đạt" as a word of its own: "Chưa đạt" and "đạt tiêu chuẩn" are other words.
MET_WORD = re.compile(r"(?<!\w)Đạt(?!\w)")


def docx_text(path: Path) -> str:
    document = docx.Document(path)
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def workbook_cells(path: Path) -> list[str]:
    """Every cell of tong-hop.xlsx but the award decisions' sheet, whose "Đạt: …" is an award criterion
    of commend, not a target's verdict."""
    wb = openpyxl.load_workbook(path)
    sheets = [ws for ws in wb if ws.title != "Khen thưởng"]
    return [str(c.value) for ws in sheets for row in ws.iter_rows() for c in row if c.value is not None]


def target_rows(path: Path) -> list[dict]:
    return sheet_rows(openpyxl.load_workbook(path)["Chỉ tiêu"], 5)


def console_verdicts(stdout: str) -> dict[str, str]:
    """Target id -> the verdict words the console printed on its line."""
    found = {}
    for line in stdout.splitlines():
        match = re.match(r"  (\S+)\s+(?:—|[\d,]+%)\s+(Đạt|Chưa đạt|Chưa đủ số liệu|Không phát sinh)\s", line)
        if match:
            found[match[1]] = match[2]
    return found


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("verdicts")
    create_workspace(root)
    return root


# ------------------------------------------------------------------------------------------------
# An empty month, through the command


def test_an_empty_closing_month_says_nothing_is_met(workspace):
    config = load_config(workspace / "config.toml")
    proc = thidua("run", "--period", "2024-03", cwd=workspace, check=True)
    out = proc.stdout
    targets = config.campaigns[0].targets
    assert console_verdicts(out) == {t.id: "Chưa đủ số liệu" for t in targets}
    assert not MET_WORD.search(out)
    assert f"(0/{len(config.units)} đơn vị đã báo cáo)" in out
    # The closing run warns that every unit's data are missing, before the documents are written.
    warning = out.index("Cảnh báo: lần chạy tổng kết còn thiếu số liệu tháng 03/2024")
    assert warning < out.index("Kết quả:")
    assert f"của {len(config.units)}/{len(config.units)} đơn vị" in out
    assert "kết thúc đợt thi đua sớm" not in out  # the campaign's own last month

    folder = workspace / "output" / "2024-03"
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    for target in summary["targets"]:
        assert target["verdict"] == "insufficient_data" and target["met"] is None
        assert target["coverage"] == {"units_reported": 0, "units_required": len(config.units)}
    cells = workbook_cells(folder / "tong-hop.xlsx")
    assert not [c for c in cells if MET_WORD.search(c)]
    assert [r["Kết quả"] for r in target_rows(folder / "tong-hop.xlsx")] == ["Chưa đủ số liệu"] * len(targets)

    report_text = docx_text(folder / "bao-cao-2024-03.docx")
    proposal_text = docx_text(folder / "to-trinh-khen-thuong-2024-03.docx")
    for text in (report_text, proposal_text):
        assert not MET_WORD.search(text)
        assert "đều đạt" not in text and f"đạt {len(targets)}/{len(targets)}" not in text.lower()
        assert f"Chưa đủ số liệu {len(targets)}/{len(targets)} chỉ tiêu thi đua" in text
    # The report's opening says whose data are missing.
    opening = report_text.split("I. NỘI DUNG")[0]
    assert f"chưa có số liệu của {len(config.units)} đơn vị" in opening
    assert config.units[0].name in opening


@pytest.mark.slow  # three or more whole runs (5 s): `make test-slow`, which CI runs
def test_final_on_an_early_month_says_it_closes_the_campaign_early(workspace):
    proc = thidua("run", "--period", "2024-01", "--final", cwd=workspace, check=True)
    assert "--final ở tháng 01/2024 kết thúc đợt thi đua sớm" in proc.stdout
    assert "Cảnh báo: lần chạy tổng kết còn thiếu số liệu tháng 01/2024" in proc.stdout
    assert (workspace / "output" / "2024-01" / "to-trinh-khen-thuong-2024-01.docx").is_file()
    monthly = thidua("run", "--period", "2024-02", cwd=workspace, check=True)
    assert "Cảnh báo" not in monthly.stdout and "sớm" not in monthly.stdout


# ------------------------------------------------------------------------------------------------
# One unit missing, through the command: real workbooks of every other unit


@pytest.fixture(scope="module")
def one_missing(tmp_path_factory):
    root = tmp_path_factory.mktemp("one-missing")
    create_workspace(root)
    config = load_config(root / "config.toml")
    manifest = generate_inbox(config, root / "inbox", [MAR], scenario="clean", as_email=False)
    absent = config.units[-1]
    for sample in manifest.files_for(absent.code, MAR):
        sample.path.unlink()
    proc = thidua("run", "--period", "2024-03", cwd=root, check=True)
    reports = [r for (code, _), r in manifest.truth.items() if code != absent.code]
    return config, absent, reports, proc.stdout, root / "output" / "2024-03"


def _expected(config, reports) -> dict[str, tuple[str, Fraction | None]]:
    """Target id -> (verdict, share over what was reported), counted from the units' own data."""
    good = ("HTXSNV", "HTTNV")
    people = [p for r in reports for p in r.people]
    counts = {
        "units_rated_good_or_better": (sum(r.self_rating in good for r in reports), len(reports)),
        "staff_rated_good_or_better": (sum(p.rating in good for p in people), len(people)),
        "staff_registered": (sum(p.registered for p in people), len(people)),
        "staff_social": (sum(p.social for p in people), len(people)),
        "tasks_completed": (sum(r.tasks_completed for r in reports), sum(r.tasks_assigned for r in reports)),
    }
    out = {}
    for target in config.campaigns[0].targets:
        n, d = counts[target.measure]
        verdict = expected_verdict(n, d, target.share, target.measure, len(reports), len(config.units))
        out[target.id] = (verdict, Fraction(n, d) if d else None)
    return out


def test_one_missing_unit_leaves_targets_open_or_proven_missed(one_missing):
    config, absent, reports, out, folder = one_missing
    expected = _expected(config, reports)
    verdicts = {v for v, _ in expected.values()}
    # The sample holds both cases: shares still open with a unit to come, and 100% targets already missed.
    assert {"insufficient_data", "not_met"} <= verdicts and "met" not in verdicts
    coverage = f"10/{len(config.units)} đơn vị đã báo cáo"
    assert console_verdicts(out) == {tid: VERDICT_WORDS[v] for tid, (v, _) in expected.items()}
    assert not MET_WORD.search(out)
    assert f"Cảnh báo: lần chạy tổng kết còn thiếu số liệu tháng 03/2024 của 1/{len(config.units)}" in out
    assert absent.code in out.split("Cảnh báo:")[1]

    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    rows = target_rows(folder / "tong-hop.xlsx")
    report_text = docx_text(folder / "bao-cao-2024-03.docx")
    proposal_text = docx_text(folder / "to-trinh-khen-thuong-2024-03.docx")
    for target, row in zip(summary["targets"], rows, strict=True):
        verdict, share = expected[target["id"]]
        assert target["verdict"] == verdict
        assert target["met"] is {"not_met": False}.get(verdict)
        assert target["coverage"] == {"units_reported": 10, "units_required": len(config.units)}
        assert (
            row["Kết quả"] == VERDICT_WORDS[verdict] and row["Đơn vị đã báo cáo"] == f"10/{len(config.units)}"
        )
        if verdict == "insufficient_data":
            shown = f"{format_percent(share)} trên {coverage}"
            assert f"\n{' ' * 19}({shown})\n" in out  # under the target's line on the console
            assert f"Chưa đủ số liệu ({shown})" in report_text  # the report's table
            assert f"{target['label']}: {shown} (Chưa đủ số liệu)." in proposal_text
            assert f"{target['label']}: chưa đủ số liệu để kết luận ({shown})." in report_text
        else:
            assert f"{target['label']}: {format_percent(share)} (Chưa đạt)." in proposal_text
    for text in (report_text, proposal_text):
        assert not MET_WORD.search(text) and "đều đạt" not in text
    opening = report_text.split("I. NỘI DUNG")[0]
    assert f"từ báo cáo của 10/{len(config.units)} đơn vị" in opening and absent.name in opening


# ------------------------------------------------------------------------------------------------
# The verdict itself, on small offices built from records


def _office(config, units, threshold=None):
    cfg = with_units(config, units)
    if threshold is not None:
        campaign = cfg.campaigns[0]
        targets = [dataclasses.replace(t, threshold=threshold) for t in campaign.targets]
        cfg = dataclasses.replace(cfg, campaigns=[dataclasses.replace(campaign, targets=targets)])
    return cfg


def _by_measure(result):
    return {t.measure: t for t in result.targets}


def test_a_100_percent_target_already_missed_is_not_met_with_units_missing(config, tmp_path):
    cfg = _office(config, [("A", "Phòng A"), ("B", "Phòng B"), ("C", "Phòng C")])
    a = cfg.units[0]
    rows = [Row("Lê Văn An", dt.date(1990, 1, 1)), Row("Hà Thị Bình", dt.date(1991, 2, 2), registered=False)]
    result = aggregate(cfg, JAN, [submission(report(a, JAN, rows, tasks=(4, 3)), at(dt.date(2024, 2, 1)))])
    targets = _by_measure(result)
    # One person of the one reporting unit did not register: no report B or C sends can make it 100%.
    assert targets["staff_registered"].verdict is Verdict.NOT_MET
    assert targets["tasks_completed"].verdict is Verdict.NOT_MET  # 3 of 4 tasks: the same
    # Everyone rated good so far, but B and C may send anything.
    assert targets["staff_rated_good_or_better"].verdict is Verdict.INSUFFICIENT_DATA
    assert targets["units_rated_good_or_better"].verdict is Verdict.INSUFFICIENT_DATA

    summary = write_summary_json(result, cfg, tmp_path, breakdowns=breakdowns(cfg, result))
    data = json.loads(summary.read_text(encoding="utf-8"))
    registered = next(t for t in data["targets"] if t["measure"] == "staff_registered")
    assert (registered["verdict"], registered["met"]) == ("not_met", False)
    assert registered["coverage"] == {"units_reported": 1, "units_required": 3}
    good = next(t for t in data["targets"] if t["measure"] == "staff_rated_good_or_better")
    assert (good["verdict"], good["met"], good["value_text"]) == ("insufficient_data", None, "100,0%")


def test_a_target_over_units_is_decided_before_every_unit_reported(config):
    units = [(f"P{i}", f"Phòng {i}") for i in range(1, 6)]
    cfg = _office(config, units, threshold=60)
    ratings = {"P1": "HTTNV", "P2": "HTTNV", "P3": "HTXSNV", "P4": "HTNV"}
    subs = [
        submission(
            report(u, JAN, [Row(f"Người {u.code}", None)], self_rating=ratings[u.code]),
            at(dt.date(2024, 2, 1)),
        )
        for u in cfg.units
        if u.code in ratings
    ]
    # 3 of the 4 reporting units rated good; P5 may be good or not: 3/5 or 4/5, both at least 60%.
    target = _by_measure(aggregate(cfg, JAN, subs))["units_rated_good_or_better"]
    assert target.verdict is Verdict.MET and (target.units_reported, target.units_required) == (4, 5)
    # The same figures against 100%: already missed, whatever P5 says.
    strict = _office(config, units, threshold=100)
    assert _by_measure(aggregate(strict, JAN, subs))["units_rated_good_or_better"].verdict is Verdict.NOT_MET


def test_nothing_to_count_with_every_unit_reported_is_not_applicable(config, templates, tmp_path):
    cfg = _office(config, [("A", "Phòng A"), ("B", "Phòng B")])
    subs = [
        submission(report(u, JAN, [Row(f"Người {u.code}", None)], tasks=(0, 0)), at(dt.date(2024, 2, 1)))
        for u in cfg.units
    ]
    result = aggregate(cfg, JAN, subs)
    tasks = _by_measure(result)["tasks_completed"]
    assert tasks.denominator == 0 and tasks.verdict is Verdict.NOT_APPLICABLE and tasks.met is None
    others = [t for t in result.targets if t.measure != "tasks_completed"]
    assert all(t.verdict is Verdict.MET for t in others)

    summary = write_summary_json(result, cfg, tmp_path, breakdowns=breakdowns(cfg, result))
    data = json.loads(summary.read_text(encoding="utf-8"))
    row = next(t for t in data["targets"] if t["measure"] == "tasks_completed")
    assert (row["verdict"], row["met"], row["value"]) == ("not_applicable", None, None)
    workbook = write_summary_workbook(
        result, cfg, tmp_path / "tong-hop.xlsx", breakdowns=breakdowns(cfg, result)
    )
    by_id = {r["Mã chỉ tiêu"]: r["Kết quả"] for r in target_rows(workbook)}
    assert by_id[tasks.target_id] == "Không phát sinh"
    paths = documents.render_documents(cfg, result, commend.decide(cfg, result), tmp_path, templates)
    text = docx_text(paths[0])
    n = len(result.targets)
    # Four of five met and one with nothing to count: not "all met", not "5/5".
    assert f"Đạt {n - 1}/{n} chỉ tiêu thi đua, không phát sinh 1/{n}, cụ thể như sau:" in text
    assert "Tất cả các chỉ tiêu thi đua đều đạt" not in text
    assert f"{tasks.label}: không phát sinh trong tháng 01/2024." in text
    table = next(t for t in docx.Document(paths[0]).tables if t.rows[0].cells[1].text == "Chỉ tiêu")
    statuses = {row.cells[1].text: row.cells[5].text for row in table.rows[1:]}
    assert statuses[tasks.label] == "Không phát sinh" and statuses[others[0].label] == "Đạt"


@pytest.fixture(scope="module")
def templates(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("templates")
    word_templates.build_templates(folder)
    return folder


@pytest.mark.parametrize("empty", [FEB, JAN])
def test_month_on_month_shows_a_dash_for_a_month_without_data(config, templates, tmp_path, empty):
    cfg = _office(config, [("A", "Phòng A")])
    a = cfg.units[0]
    rows = [Row("Lê Văn An", dt.date(1990, 1, 1), initiatives=2), Row("Hà Thị Bình", dt.date(1991, 2, 2))]
    full = FEB if empty == JAN else JAN
    subs = [submission(report(a, full, rows, tasks=(3, 3)), at(full.next().first_day))]
    result = aggregate(cfg, FEB, subs)
    workbook = write_summary_workbook(
        result, cfg, tmp_path / "tong-hop.xlsx", breakdowns=breakdowns(cfg, result)
    )
    ws = openpyxl.load_workbook(workbook)["So sánh tháng"]
    sheet = {row[1]: row[2:] for row in ws.iter_rows(min_row=2, values_only=True)}
    staff = sheet["Tổng số cán bộ, công chức, viên chức, người lao động"]
    initiatives = sheet["Số sáng kiến, giải pháp"]
    if empty == FEB:
        assert staff == (2, "—", "—") and initiatives == (2, "—", "—")
    else:
        assert staff == ("—", 2, "—") and initiatives == ("—", 2, "—")
    assert sheet["Số đơn vị có báo cáo"][2] == (-1 if empty == FEB else 1)  # who reported is known

    paths = documents.render_documents(cfg, result, commend.decide(cfg, result), tmp_path, templates)
    table = next(t for t in docx.Document(paths[0]).tables if t.rows[0].cells[1].text == "Nội dung")
    changes = {row.cells[1].text: [c.text for c in row.cells[2:]] for row in table.rows[1:]}
    staff_row = changes["Tổng số cán bộ, công chức, viên chức, người lao động"]
    assert staff_row == (["2", "—", "—"] if empty == FEB else ["—", "2", "—"])
    for before, now, change in changes.values():
        if "—" in (before, now):
            assert change == "—"  # never a change from or to a month without data


# ------------------------------------------------------------------------------------------------
# judge_target against trying every report the missing units could send


@pytest.mark.parametrize("measure", ["units_rated_good_or_better", "staff_registered"])
def test_judge_target_agrees_with_trying_every_outcome(measure):
    unit_denominator = 1 if measure == "units_rated_good_or_better" else None
    thresholds = [Fraction(0), Fraction(1, 2), Fraction(3, 5), Fraction(9, 10), Fraction(1)]
    for required in range(1, 5):
        for reported in range(required + 1):
            for denominator in range(0, 6) if unit_denominator is None else [reported]:
                for numerator in range(denominator + 1):
                    for threshold in thresholds:
                        got = judge_target(
                            numerator,
                            denominator,
                            threshold,
                            units_reported=reported,
                            units_required=required,
                            unit_denominator=unit_denominator,
                        )
                        want = expected_verdict(
                            numerator, denominator, threshold, measure, reported, required
                        )
                        assert got.value == want, (numerator, denominator, threshold, reported, required)
