"""summary.json, manifest.json and tong-hop.xlsx: written, read back, and checked against plain counting."""

import datetime as dt
import hashlib
import json
import random
import re
import time
import zipfile
from fractions import Fraction

import openpyxl
import pytest

from processor.aggregate import aggregate
from processor.breakdown import breakdowns
from processor.records import FileStatus, Finding, Severity
from processor.render.summary import write_manifest, write_summary_json
from processor.render.workbook import write_summary_workbook
from processor.vntext import format_percent, given_name_sort_key, person_key
from tests.conftest import REPO
from tests.factories import (
    CATEGORIES,
    FEB,
    GOOD,
    JAN,
    MAR,
    RATINGS,
    SCENARIO,
    UNITS,
    VERDICT_WORDS,
    Row,
    at,
    expected_figures,
    expected_status,
    expected_targets,
    report,
    reports_of,
    scenario_config,
    scenario_submissions,
    submission,
    usable_filing,
    with_units,
)

STATUS_VI = {
    "on_time": "Đúng hạn",
    "late": "Nộp muộn",
    "with_errors": "Nộp nhưng có lỗi",
    "missing": "Chưa nộp",
}
FIGURE_KEYS = list(expected_figures([]))


@pytest.fixture(scope="module")
def cfg(config):
    return scenario_config(config)


@pytest.fixture(scope="module")
def subs(cfg):
    return scenario_submissions(cfg)


@pytest.fixture(scope="module")
def outputs(cfg, subs, tmp_path_factory):
    """March (the final month) written once for the read-back tests."""
    out = tmp_path_factory.mktemp("2024-03")
    result = aggregate(cfg, MAR, subs, final=True)
    summary = _summary_json(cfg, result, out)
    workbook = _workbook(cfg, result, out / "tong-hop.xlsx")
    return result, summary, workbook


def _summary_json(cfg, result, out):
    """summary.json of a month without decisions, its breakdowns computed as the pipeline does."""
    return write_summary_json(result, cfg, out, breakdowns=breakdowns(cfg, result))


def _workbook(cfg, result, path):
    """tong-hop.xlsx of a month without decisions, its breakdowns computed as the pipeline does."""
    return write_summary_workbook(result, cfg, path, breakdowns=breakdowns(cfg, result))


def _json(cfg, subs, tmp_path, period, **flags):
    path = _summary_json(cfg, aggregate(cfg, period, subs, **flags), tmp_path / str(period))
    return json.loads(path.read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------------------
# summary.json


def test_summary_keys_are_stable_and_documented(cfg, subs, tmp_path):
    data = _json(cfg, subs, tmp_path, FEB)
    assert list(data) == [
        "format",
        "campaign",
        "period",
        "periods_to_date",
        "due_date",
        "final",
        "accept_partial",
        "generated_from",
        "reporting",
        "units",
        "totals",
        "targets",
        "breakdowns",
        "refused_after_rule_change",
    ]
    assert data["campaign"] == {
        "id": "2024-dot-1",
        "name": "Phong trào thi đua đợt I năm 2024",
        "start": "2024-01-01",
        "end": "2024-03-31",
    }
    assert (data["period"], data["periods_to_date"], data["due_date"]) == (
        "2024-02",
        ["2024-01", "2024-02"],
        "2024-03-05",
    )
    assert list(data["units"][0]) == [
        "code",
        "name",
        "status",
        "received_at",
        "file",
        "partial",
        *FIGURE_KEYS,
        "self_rating",
    ]
    assert list(data["totals"]) == ["units_reporting", "units_rated_good_or_better", *FIGURE_KEYS]
    assert list(data["targets"][0]) == [
        "id",
        "label",
        "measure",
        "threshold",
        "numerator",
        "denominator",
        "value",
        "fraction",
        "value_text",
        "verdict",
        "met",
        "coverage",
        "blocking_units",
        "blocking_people",
    ]
    assert list(data["generated_from"][0]) == [
        "name",
        "sha256",
        "status",
        "unit",
        "period",
        "received_at",
        "sender",
        "errors",
        "warnings",
        "received_from",
        "received_time_copied",
        "form_version",
        "refused_after_rule_change",
    ]
    documented = (REPO / "docs" / "summary-json.md").read_text(encoding="utf-8")
    for key in [*data, *data["campaign"], *data["units"][0], *data["totals"], *data["targets"][0]]:
        assert f"`{key}`" in documented, key
    for key in [*data["generated_from"][0], *data["reporting"], *data["breakdowns"][0]]:
        assert f"`{key}`" in documented, key
    for key in [*data["breakdowns"][0]["coverage"], *data["breakdowns"][0]["no_data"]]:
        assert f"`{key}`" in documented, key


@pytest.mark.parametrize("accept_partial", [False, True])
@pytest.mark.parametrize("period", [JAN, FEB, MAR])
def test_every_figure_of_summary_json(cfg, subs, tmp_path, period, accept_partial):
    data = _json(cfg, subs, tmp_path, period, accept_partial=accept_partial)
    assert data["accept_partial"] is accept_partial and data["final"] is False
    for unit, (code, name) in zip(data["units"], UNITS, strict=True):
        assert (unit["code"], unit["name"]) == (code, name)
        assert unit["status"] == expected_status(code, period, accept_partial)
        filing = usable_filing(code, period, accept_partial)
        if filing is None:
            assert all(unit[key] is None for key in FIGURE_KEYS) and unit["self_rating"] is None
        else:
            assert {key: unit[key] for key in FIGURE_KEYS} == expected_figures([filing])
            assert unit["self_rating"] == filing.self_rating
            assert unit["received_at"] == filing.received.isoformat()
    reports = reports_of(period, accept_partial)
    totals = data["totals"]
    assert {key: totals[key] for key in FIGURE_KEYS} == expected_figures(reports)
    assert totals["units_reporting"] == len(reports)
    assert totals["units_rated_good_or_better"] == sum(f.self_rating in GOOD for f in reports)
    for target, want in zip(data["targets"], expected_targets(cfg, period, accept_partial), strict=True):
        value = want["value"]
        assert target["id"] == want["id"]
        assert target["threshold"] == 100 and isinstance(target["threshold"], int)
        assert (target["numerator"], target["denominator"]) == (want["numerator"], want["denominator"])
        assert target["value"] == (None if value is None else round(value.numerator / value.denominator, 4))
        assert target["fraction"] == (None if value is None else f"{value.numerator}/{value.denominator}")
        assert target["value_text"] == format_percent(value)
        assert target["verdict"] == want["verdict"]
        assert target["met"] is want["met"]
        assert target["coverage"] == {"units_reported": len(reports), "units_required": len(UNITS)}
        assert target["blocking_units"] == want["blocking_units"]
        assert [(p["unit"], p["name"]) for p in target["blocking_people"]] == want["blocking_people"]
    statuses = [expected_status(code, period, accept_partial) for code, _ in UNITS]
    reporting = data["reporting"]
    for key in ("on_time", "late", "with_errors", "missing"):
        assert reporting[key] == statuses.count(key)
    assert reporting["expected"] == len(UNITS)
    assert reporting["reporting_rate"] == round(
        (statuses.count("on_time") + statuses.count("late")) / len(UNITS), 4
    )
    assert reporting["to_remind"] == [
        c for (c, _), s in zip(UNITS, statuses, strict=True) if s in ("missing", "with_errors")
    ]


def test_generated_from_lists_the_months_inputs(cfg, subs, tmp_path):
    data = _json(cfg, subs, tmp_path, FEB)
    wanted = [f for f in SCENARIO if f.period is None or f.period in (JAN, FEB)]
    by_name = {entry["name"]: entry for entry in data["generated_from"]}
    assert len(by_name) == len(data["generated_from"]) == len(wanted)
    sub_by_name = {s.file.display_name: s for s in subs}
    for filing in wanted:
        name = (
            filing.name or f"{filing.period}_{filing.unit_code_as_typed or filing.unit}_bao-cao-thi-dua.xlsx"
        )
        entry = by_name[name]
        assert entry["status"] == filing.status.value
        assert entry["sha256"] == sub_by_name[name].file.sha256
        assert entry["period"] == (str(filing.period) if filing.period else None)
        assert entry["received_at"] == filing.received.isoformat()
        assert entry["errors"] == filing.errors
        assert entry["sender"].endswith("@laocai.gov.vn")


def test_three_decimal_places_never_leak_a_float_artifact(config, tmp_path):
    cfg = with_units(config, [("A", "Phòng A")])
    rows = [Row(f"Người {i}", dt.date(1990, 1, 1 + i % 28), registered=i != 0) for i in range(40)]
    result = aggregate(cfg, JAN, [submission(report(cfg.units[0], JAN, rows), at(FEB.first_day))])
    data = json.loads(_summary_json(cfg, result, tmp_path).read_text(encoding="utf-8"))
    target = next(t for t in data["targets"] if t["measure"] == "staff_registered")
    assert (target["value"], target["fraction"], target["value_text"]) == (0.975, "39/40", "97,5%")
    assert '"value": 0.975,' in (tmp_path / "summary.json").read_text(encoding="utf-8")


def test_rerun_gives_byte_identical_summary(cfg, subs, tmp_path):
    first = _summary_json(cfg, aggregate(cfg, MAR, subs), tmp_path / "a").read_bytes()
    shuffled = list(subs)
    random.Random(1).shuffle(shuffled)
    second = _summary_json(cfg, aggregate(cfg, MAR, shuffled), tmp_path / "b").read_bytes()
    assert first == second
    assert first.endswith(b"\n") and "Phòng Tổ chức".encode() in first  # UTF-8, not \u escapes
    assert dt.date.today().isoformat().encode() not in first


def test_summary_has_a_line_per_unit_and_per_target(cfg, subs, tmp_path):
    text = _summary_json(cfg, aggregate(cfg, MAR, subs), tmp_path).read_text(encoding="utf-8")
    data = json.loads(text)
    lines = text.splitlines()
    stripped = {line.strip().rstrip(",") for line in lines}
    assert all(json.dumps(unit, ensure_ascii=False) in stripped for unit in data["units"])
    unit_lines = [line for line in lines if line.startswith('    {"code": ')]
    assert len(unit_lines) == len(data["units"]) == len(cfg.units)
    assert len([line for line in lines if line.startswith('    {"id": ')]) == len(data["targets"])


def test_manifest_lists_inputs_outputs_config_and_version(cfg, subs, tmp_path):
    result = aggregate(cfg, FEB, subs)
    summary = _summary_json(cfg, result, tmp_path)
    book = _workbook(cfg, result, tmp_path / "tong-hop.xlsx")
    nested = tmp_path / "phan-hoi" / "ghi-chu.txt"
    nested.parent.mkdir()
    nested.write_text("phản hồi", encoding="utf-8")
    path = write_manifest(tmp_path, result, cfg, [book, summary, nested], "9.9.9")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert (data["program"], data["version"], data["period"], data["campaign"]) == (
        "thidua",
        "9.9.9",
        "2024-02",
        "2024-dot-1",
    )
    assert data["config_sha256"] == cfg.sha256 and len(cfg.sha256) == 64
    assert [o["path"] for o in data["outputs"]] == ["phan-hoi/ghi-chu.txt", "summary.json", "tong-hop.xlsx"]
    for entry in data["outputs"]:
        raw = (tmp_path / entry["path"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(raw).hexdigest() and entry["size"] == len(raw)
    assert {(i["name"], i["status"]) for i in data["inputs"]} == {
        (s.file.display_name, s.status.value) for s in result.submissions
    }
    again = write_manifest(tmp_path, result, cfg, [summary, book, nested, path], "9.9.9")
    assert again.read_bytes() == path.read_bytes()  # the manifest never lists itself


# ------------------------------------------------------------------------------------------------
# tong-hop.xlsx


def _rows(ws, header_row=1):
    """The sheet's table under `header_row` as dicts keyed by header, up to the first empty row."""
    rows = ws.iter_rows(min_row=header_row, values_only=True)
    header = next(rows)
    out = []
    for values in rows:
        if all(v is None for v in values):
            break
        out.append(dict(zip(header, values, strict=True)))
    return out


def _find_row(ws, text, column=1):
    for row in ws.iter_rows(min_col=column, max_col=column):
        if row[0].value == text:
            return row[0].row
    raise AssertionError(f"{text!r} not found in {ws.title}")


def _share(value):
    return None if value is None else pytest.approx(value.numerator / value.denominator)


def test_workbook_sheets_tables_panes_and_chart(outputs):
    _, _, path = outputs
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [
        "Chỉ tiêu", "Đơn vị", "Cá nhân", "Tiến độ nộp", "So sánh tháng", "Phân tổ", "Lỗi"
    ]  # fmt: skip
    panes = {"Chỉ tiêu": "A6", "Đơn vị": "D2", "Cá nhân": "E2", "Tiến độ nộp": "D2", "So sánh tháng": "C2"}
    for name, pane in panes.items():
        assert wb[name].freeze_panes == pane
    for ws in wb:
        assert ws.tables, ws.title
        for table in ws.tables.values():
            header = ws[table.ref][0]
            assert table.autoFilter is not None and table.autoFilter.ref == table.ref
            assert [c.name for c in table.tableColumns] == [cell.value for cell in header]
        assert ws.column_dimensions["B"].width > 5
    assert set(wb["Chỉ tiêu"].tables) == {"ChiTieu", "TheoThang"}
    with zipfile.ZipFile(path) as package:
        chart = package.read("xl/charts/chart1.xml").decode()
    assert "<barChart>" in chart and "'Chỉ tiêu'!$B$" in chart and chart.count("<ser>") == 5


def test_targets_sheet_against_plain_counts(cfg, outputs):
    _, _, path = outputs
    ws = openpyxl.load_workbook(path)["Chỉ tiêu"]
    assert ws["A1"].value == "TỔNG HỢP KẾT QUẢ PHONG TRÀO THI ĐUA"
    assert "Tháng 03/2024" in ws["A2"].value and "tổng kết đợt" in ws["A2"].value
    rows = _rows(ws, 5)
    names = dict(UNITS)
    for row, want in zip(rows, expected_targets(cfg, MAR), strict=True):
        assert row["Mã chỉ tiêu"] == want["id"]
        assert (row["Số đạt"], row["Tổng số"]) == (want["numerator"], want["denominator"])
        assert row["Tỷ lệ"] == _share(want["value"])
        assert row["Tỷ lệ (ghi bằng chữ số)"] == format_percent(want["value"])
        assert row["Ngưỡng"] == 1
        assert row["Kết quả"] == VERDICT_WORDS[want["verdict"]]
        assert row["Đơn vị đã báo cáo"] == f"{want['units_reported']}/{len(UNITS)}"
        assert row["Đơn vị chưa đạt"] == ("; ".join(names[c] for c in want["blocking_units"]) or None)
        assert row["Số người chưa đạt"] == len(want["blocking_people"])
    value_cell = ws.cell(row=6, column=7)
    assert value_cell.number_format == "0.0%"
    month_header = _find_row(ws, "Tháng")
    months = _rows(ws, month_header)
    assert [m["Tháng"] for m in months] == ["01/2024", "02/2024", "03/2024"]
    for month, period in zip(months, (JAN, FEB, MAR), strict=True):
        for want in expected_targets(cfg, period):
            assert month[want["id"]] == _share(want["value"])


def test_units_sheet_against_plain_counts(cfg, outputs):
    _, _, path = outputs
    ws = openpyxl.load_workbook(path)["Đơn vị"]
    rows = _rows(ws)
    columns = {
        "staff": "Tổng số người",
        "registered": "Số người đăng ký thi đua",
        "rated_good_or_better": "Số người hoàn thành tốt nhiệm vụ trở lên",
        "social": "Số người tham gia hoạt động xã hội",
        "initiatives": "Số sáng kiến, giải pháp",
        "disciplined": "Số người bị kỷ luật",
        "tasks_assigned": "Số nhiệm vụ cấp trên giao",
        "tasks_completed": "Số nhiệm vụ đã hoàn thành",
        "donation_vnd": "Số tiền ủng hộ (đồng)",
        "support_activities": "Số hoạt động giúp đỡ xã nghèo",
    }
    rating_columns = {code: f"Số người {cfg.rating(code).label.lower()}" for code in RATINGS}
    category_columns = {c.code: f"Số {c.label.lower()}" for c in cfg.staff_categories}
    assert set(category_columns) == set(CATEGORIES)
    for row, (code, name) in zip(rows, UNITS, strict=True):
        assert (row["Mã đơn vị"], row["Tên đơn vị"]) == (code, name)
        assert row["Tình trạng nộp"] == STATUS_VI[expected_status(code, MAR)]
        filing = usable_filing(code, MAR)
        if filing is None:
            assert all(row[c] is None for c in columns.values())
            continue
        want = expected_figures([filing])
        for key, column in columns.items():
            assert row[column] == want[key], (code, column)
        for rating, column in rating_columns.items():
            assert row[column] == want["rating_counts"][rating]
        for category, column in category_columns.items():
            assert row[column] == want["staff_by_category"][category]
        assert row["Tỷ lệ đăng ký thi đua"] == _share(Fraction(want["registered"], want["staff"]))
        assert row["Tự đánh giá xếp loại tập thể"] == cfg.rating(filing.self_rating).label
        assert row["Kết quả nổi bật"] == (filing.highlights or None)
    total_row = _find_row(ws, "Tổng cộng (các đơn vị có báo cáo)", column=3)
    header = [c.value for c in ws[1]]
    totals = dict(zip(header, [c.value for c in ws[total_row]], strict=True))
    want = expected_figures(reports_of(MAR))
    for key, column in columns.items():
        assert totals[column] == want[key]
    share_column = header.index("Tỷ lệ hoàn thành nhiệm vụ") + 1
    assert ws.cell(row=2, column=share_column).number_format == "0.0%"
    assert ws.cell(row=2, column=header.index("Số tiền ủng hộ (đồng)") + 1).number_format == "#,##0"


def test_people_sheet_every_person_of_the_month(cfg, outputs):
    _, _, path = outputs
    ws = openpyxl.load_workbook(path)["Cá nhân"]
    rows = _rows(ws)
    # Expected: every row of March's usable reports, with its months counted from the scenario.
    history: dict[str, list] = {}
    for period in (JAN, FEB, MAR):
        for code, _ in UNITS:
            filing = usable_filing(code, period)
            for r in filing.rows if filing else ():
                history.setdefault(person_key(r.name, r.birth), []).append((period, r))
    march = [(code, r) for code, _ in UNITS if (f := usable_filing(code, MAR)) for r in f.rows]
    assert len(rows) == len(march)
    order = [code for code, _ in UNITS]
    expected_order = sorted(march, key=lambda cr: (order.index(cr[0]), given_name_sort_key(cr[1].name)))
    assert [r["Họ và tên"] for r in rows] == [r.name for _, r in expected_order]
    for row, (code, person) in zip(rows, expected_order, strict=True):
        months = history[person_key(person.name, person.birth)]
        assert row["Mã đơn vị"] == code
        assert row["Ngày sinh"].date() == person.birth
        assert row["Đối tượng"] == next(c.label for c in cfg.staff_categories if c.code == person.category)
        assert row["Xếp loại tháng"] == cfg.rating(person.rating).label
        assert row["Đăng ký thi đua"] == ("Có" if person.registered else "Không")
        assert row["Tham gia hoạt động xã hội"] == ("Có" if person.social else "Không")
        assert row["Số sáng kiến, giải pháp"] == person.initiatives
        assert row["Kỷ luật"] == person.discipline
        for period in (JAN, FEB, MAR):
            rating = next((r.rating for p, r in months if p == period), None)
            assert row[f"Xếp loại tháng {period.label}"] == rating
        assert row["Số tháng hoàn thành tốt nhiệm vụ trở lên"] == sum(r.rating in GOOD for _, r in months)
        assert row["Số tháng đăng ký thi đua"] == sum(r.registered for _, r in months)
        assert row["Tổng số sáng kiến trong đợt"] == sum(r.initiatives for _, r in months)
    assert ws["E2"].number_format == "dd/mm/yyyy"


def test_progress_sheet_and_who_to_remind(cfg, subs, tmp_path):
    path = _workbook(cfg, aggregate(cfg, FEB, subs), tmp_path / "tong-hop.xlsx")
    ws = openpyxl.load_workbook(path)["Tiến độ nộp"]
    rows = _rows(ws)
    for row, (code, _) in zip(rows, UNITS, strict=True):
        assert row["Tình trạng nộp"] == STATUS_VI[expected_status(code, FEB)]
        assert row["Tháng 01/2024"] == STATUS_VI[expected_status(code, JAN)]
        assert row["Tháng 02/2024"] == row["Tình trạng nộp"]
        assert row["Cần nhắc"] == ("Có" if expected_status(code, FEB) in ("missing", "with_errors") else None)
        assert row["Hạn nộp"].date() == dt.date(2024, 3, 5)
    kt = next(r for r in rows if r["Mã đơn vị"] == "KT")
    assert kt["Số ngày nộp muộn"] == 2
    kgvx = next(r for r in rows if r["Mã đơn vị"] == "KGVX")
    assert kgvx["Số lỗi trong tệp"] == 3
    remind = _find_row(ws, "Đơn vị cần nhắc", column=3)
    assert ws.cell(row=remind, column=4).value == "Phòng Tổng hợp; Phòng Khoa giáo - Văn xã"
    rate = _find_row(ws, "Tỷ lệ nộp báo cáo", column=3)
    assert ws.cell(row=rate, column=4).value == pytest.approx(0.5)
    assert ws.cell(row=rate, column=4).number_format == "0.0%"
    findings = _rows(openpyxl.load_workbook(path)["Lỗi"])
    assert sorted(r["Tệp"] for r in findings) == sorted(
        [f.name or f"{f.period}_{f.unit}_bao-cao-thi-dua.xlsx" for f in SCENARIO if f.period in (FEB, None)
         for _ in range(f.errors)]
    )  # fmt: skip


def test_month_on_month_sheet(cfg, outputs):
    _, _, path = outputs
    rows = _rows(openpyxl.load_workbook(path)["So sánh tháng"])
    by_label = {r["Chỉ số"]: r for r in rows}
    now, before = expected_figures(reports_of(MAR)), expected_figures(reports_of(FEB))
    staff = by_label["Tổng số cán bộ, công chức, viên chức, người lao động"]
    assert (staff["Tháng 02/2024"], staff["Tháng 03/2024"], staff["Thay đổi"]) == (
        before["staff"],
        now["staff"],
        now["staff"] - before["staff"],
    )
    donation = by_label["Số tiền ủng hộ đồng bào bị thiên tai (đồng)"]
    assert donation["Thay đổi"] == now["donation_vnd"] - before["donation_vnd"]
    for want_now, want_before in zip(expected_targets(cfg, MAR), expected_targets(cfg, FEB), strict=True):
        row = next(
            r for label, r in by_label.items() if label.startswith(f"Tỷ lệ chỉ tiêu {want_now['id']}:")
        )
        assert row["Tháng 03/2024"] == _share(want_now["value"])
        assert row["Tháng 02/2024"] == _share(want_before["value"])


def test_unit_text_never_becomes_a_formula(config, tmp_path):
    risky = ['=HYPERLINK("http://x.example","bấm")', "+84 912 345 678", "-Lê Văn", "@SUM(A1)", "#N/A"]
    cfg = with_units(config, [("A", risky[0]), ("B", "Phòng B")])
    rows = [Row(name, dt.date(1990, 1, 1 + i)) for i, name in enumerate(risky)]
    rows.append(Row("Chuông\x07 Reo", dt.date(1990, 2, 1)))  # a control character Excel cannot store
    rows.append(Row("Rất dài " * 5000, dt.date(1990, 3, 1)))  # longer than an Excel cell holds
    a_report = report(cfg.units[0], JAN, rows, highlights="=1+1")
    bad = submission(
        report(cfg.units[1], JAN, rows[:1]), at(FEB.first_day), status=FileStatus.REJECTED, errors=0
    )
    bad.findings.append(
        Finding(Severity.ERROR, "required", "=2+2", "b.xlsx", "Cá nhân", "B2", "Họ và tên", "=3+3")
    )
    bad.findings.append(Finding(Severity.WARNING, "long", "Dài " * 9000, "b.xlsx"))
    result = aggregate(cfg, JAN, [submission(a_report, at(FEB.first_day)), bad])
    path = _workbook(cfg, result, tmp_path / "tong-hop.xlsx")
    with zipfile.ZipFile(path) as package:
        sheets = [n for n in package.namelist() if n.startswith("xl/worksheets/sheet")]
        for name in sheets:
            assert not re.search(r"<f[ >]", package.read(name).decode()), name
    wb = openpyxl.load_workbook(path)
    texts = {}
    for ws in wb:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type not in ("f", "e"), (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.setdefault(cell.value, cell.data_type)
    for text in [*risky, "=1+1", "=2+2", "=3+3", "Chuông Reo"]:
        assert texts.get(text) == "s", text
    long = [t for t in texts if len(t) > 1000]
    assert len(long) == 2 and all(len(t) == 32767 for t in long)  # people (fast rows) and findings


def test_rerun_gives_byte_identical_workbook(cfg, subs, tmp_path):
    first = _workbook(cfg, aggregate(cfg, MAR, subs), tmp_path / "a.xlsx").read_bytes()
    time.sleep(1.1)  # the zip's own timestamps have a two-second grain; the clock must not show
    shuffled = list(subs)
    random.Random(2).shuffle(shuffled)
    second = _workbook(cfg, aggregate(cfg, MAR, shuffled), tmp_path / "b.xlsx").read_bytes()
    assert first == second
    with zipfile.ZipFile(tmp_path / "a.xlsx") as package:
        core = package.read("docProps/core.xml").decode()
    assert "2024-04-05T09:00:00Z" in core  # latest input received (16:00 in Lào Cai), not the clock


def test_a_month_nobody_reported_still_gives_valid_tables(cfg, tmp_path):
    path = _workbook(cfg, aggregate(cfg, JAN, []), tmp_path / "tong-hop.xlsx")
    wb = openpyxl.load_workbook(path)
    assert re.fullmatch(r"A1:[A-Z]+2", wb["Cá nhân"].tables["CaNhan"].ref)  # header and one empty row
    assert _rows(wb["Cá nhân"]) == []
    assert "Lỗi" not in wb.sheetnames
    assert all(r["Tình trạng nộp"] == "Chưa nộp" for r in _rows(wb["Đơn vị"]))


def _province(config, units, people):
    cfg = with_units(config, [(f"DV{i:04d}", f"Đơn vị số {i + 1}") for i in range(units)])
    subs = []
    for month in (JAN, FEB, MAR):
        for u in cfg.units:
            rows = [
                Row(f"Trần Thị {u.code} {k}", dt.date(1980, 1 + k % 12, 1 + k % 28)) for k in range(people)
            ]
            subs.append(submission(report(u, month, rows, tasks=(2, 2)), at(month.next().first_day)))
    return cfg, subs


def _timed_workbook(config, tmp_path, units):
    cfg, subs = _province(config, units, 50)
    result = aggregate(cfg, MAR, subs)
    start = time.perf_counter()
    path = _workbook(cfg, result, tmp_path / f"tong-hop-{units}.xlsx")
    return time.perf_counter() - start, path


def test_hundred_units_workbook_is_quick(config, tmp_path):
    elapsed, path = _timed_workbook(config, tmp_path, 100)
    assert elapsed < 4, f"5,000 people took {elapsed:.1f} s"
    ws = openpyxl.load_workbook(path, read_only=True)["Cá nhân"]
    assert sum(1 for _ in ws.iter_rows(min_row=2, values_only=True)) == 5000


@pytest.mark.slow
def test_province_workbook_is_linear_and_fast(config, tmp_path):
    small, _ = _timed_workbook(config, tmp_path, 250)
    large, path = _timed_workbook(config, tmp_path, 1000)
    assert large < 15, f"50,000 people took {large:.1f} s"
    assert large / small < 7, (small, large)  # linear: about 4
    wb = openpyxl.load_workbook(path, read_only=True)
    assert sum(1 for _ in wb["Cá nhân"].iter_rows(min_row=2, values_only=True)) == 50_000
