"""Breakdowns (issue 17): the staff and the individuals proposed, split by gender, ethnic group, category
and leadership, as tong-hop.xlsx ("Phân tổ") and summary.json give them; checked against counts made with
pandas from the received workbooks themselves."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import docx
import openpyxl
import pandas as pd
import pytest

from processor import commend, form, pipeline
from processor.aggregate import aggregate
from processor.breakdown import breakdowns
from processor.config import Breakdown, BreakdownGroup, load_config, parse_config
from processor.devtools import samples
from processor.records import FileStatus, Period, UserError
from processor.render import documents
from processor.render.summary import write_summary_json
from processor.render.workbook import SHEET_BREAKDOWNS, write_summary_workbook
from processor.workspace import bundled_templates

REPO = Path(__file__).resolve().parents[1]
FORMS = REPO / "tests" / "fixtures" / "forms"
JAN, MAR = Period(2024, 1), Period(2024, 3)


@pytest.fixture(scope="module")
def config():
    return load_config(REPO / "config.toml")


@pytest.fixture(scope="module")
def quarter(config, tmp_path_factory):
    """A clean quarter of every unit, as bare workbooks, run as the closing month: people are proposed."""
    inbox = tmp_path_factory.mktemp("quarter") / "inbox"
    manifest = samples.generate_inbox(config, inbox, [Period(2024, m) for m in (1, 2, 3)], scenario="clean",
                                      as_email=False)  # fmt: skip
    subs = pipeline.ingest(config, inbox).submissions
    result = aggregate(config, MAR, subs, final=True)
    decisions = commend.decide(config, result)
    out = tmp_path_factory.mktemp("out")
    counted = breakdowns(config, result, decisions)
    summary_path = write_summary_json(result, config, out, decisions, breakdowns=counted)
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    workbook = write_summary_workbook(result, config, out / "tong-hop.xlsx", decisions, breakdowns=counted)
    march = [f.path for f in manifest.files if f.period == MAR and f.expected_status is FileStatus.ACCEPTED]
    documents.render_documents(config, result, decisions, out, bundled_templates(), include_proposal=False)
    return summary, workbook, decisions, march, out / "bao-cao-2024-03.docx"


def _staff(paths: list[Path]) -> pd.DataFrame:
    """Every staff row of the files, read with pandas alone (labels, not codes)."""
    frames = []
    for path in paths:
        frame = pd.read_excel(path, sheet_name=form.STAFF_SHEET, dtype=object, engine="openpyxl")
        frame = frame[frame["Họ và tên"].notna()]
        unit = pd.read_excel(path, sheet_name=form.UNIT_SHEET, header=None, dtype=object, engine="openpyxl")
        code = unit[unit[0] == "Mã đơn vị"].iloc[0, 1]
        frames.append(frame.assign(unit=code))
    return pd.concat(frames, ignore_index=True)


def _by_id(summary: dict) -> dict[str, dict]:
    return {b["id"]: b for b in summary["breakdowns"]}


def test_breakdown_figures_against_an_independent_count(quarter, config):
    summary, _, decisions, march, _ = quarter
    staff = _staff(march)
    assert len(staff) == summary["totals"]["staff"]
    proposed = {(d.unit_code, d.subject_name) for d in decisions if d.subject == "individual" and d.proposed}
    assert proposed  # the closing run proposes people: their split is checked too
    staff["proposed"] = [(u, n) in proposed for u, n in zip(staff["unit"], staff["Họ và tên"], strict=True)]
    assert staff["proposed"].sum() == len(proposed)
    award = next(d.award_id for d in decisions if d.subject == "individual" and d.proposed)
    minority = staff["Dân tộc"].notna() & (staff["Dân tộc"] != "Kinh")
    expected = {
        "gioi-tinh": {"Nam": staff["Giới tính"] == "Nam", "Nữ": staff["Giới tính"] == "Nữ"},
        "dan-toc": {"Kinh": staff["Dân tộc"] == "Kinh", "Dân tộc thiểu số": minority},
        "doi-tuong": {c.label: staff["Đối tượng"] == c.label for c in config.staff_categories},
        "lanh-dao": {
            "Giữ chức vụ lãnh đạo, quản lý": staff["Lãnh đạo, quản lý"] == "Có",
            "Không giữ chức vụ": staff["Lãnh đạo, quản lý"] == "Không",
        },
    }
    got = _by_id(summary)
    assert list(got) == list(expected)
    assert minority.sum() > 0 and (staff["Lãnh đạo, quản lý"] == "Có").sum() > 0
    for breakdown_id, groups in expected.items():
        entry = got[breakdown_id]
        assert [g["label"] for g in entry["groups"]] == list(groups), breakdown_id
        for group in entry["groups"]:
            mask = groups[group["label"]]
            assert group["staff"] == mask.sum(), (breakdown_id, group)
            assert group["proposed"].get(award, 0) == (mask & staff["proposed"]).sum(), (breakdown_id, group)
        assert entry["coverage"] == {"filled": len(staff), "staff": len(staff), "units_without_field": []}
        assert entry["no_data"]["staff"] == 0


def test_the_workbook_shows_the_same_numbers(quarter):
    summary, workbook, _, _, _ = quarter
    ws = openpyxl.load_workbook(workbook)[SHEET_BREAKDOWNS]
    tables = {name: ws[ref] for name, ref in ws.tables.items()}
    assert len(tables) == len(summary["breakdowns"])
    for number, entry in enumerate(summary["breakdowns"], 1):
        rows = [[c.value for c in row] for row in tables[f"PhanTo{number}"]]
        assert rows[0][:3] == ["Nhóm", "Số người", "Tỷ lệ"]
        shown = {row[0]: row[1] for row in rows[1:]}
        assert shown == {
            **{g["label"]: g["staff"] for g in entry["groups"]},
            "Không có số liệu": entry["no_data"]["staff"],
        }


def test_the_closing_report_has_the_statistics_table(quarter):
    summary, _, _, _, report = quarter
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in docx.Document(report).tables]
    [table] = [t for t in tables if t[0] == ["STT", "Nội dung", "Số người", "Đề nghị khen thưởng"]]
    expected = [["STT", "Nội dung", "Số người", "Đề nghị khen thưởng"]]
    for number, entry in enumerate(summary["breakdowns"], 1):
        filled, staff = entry["coverage"]["filled"], entry["coverage"]["staff"]
        expected.append([str(number), f"{entry['label']} (có số liệu {filled}/{staff} người)", "", ""])
        for g in entry["groups"]:
            expected.append(["", f"– {g['label']}", str(g["staff"]), str(sum(g["proposed"].values()))])
    assert table == expected


def test_a_field_missing_in_old_forms_counts_as_no_data(config, tmp_path):
    """TCHC and TH send version 2 forms, KT its version 1 form: KT's people have no gender, no ethnic group,
    no leadership: counted apart as no data (never in a group, never as 0), and KT named in the coverage."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    versions = (("v2", "TCHC"), ("v2", "TH"), ("v1", "KT"))
    files = [FORMS / v / f"2024-01_{unit}_bao-cao-thi-dua.xlsx" for v, unit in versions]
    for path in files:
        shutil.copyfile(path, inbox / path.name)
    subs = pipeline.ingest(config, inbox).submissions
    result = aggregate(config, JAN, subs)
    path = write_summary_json(result, config, tmp_path, breakdowns=breakdowns(config, result))
    summary = json.loads(path.read_text(encoding="utf-8"))
    staff = _staff(files)  # KT's file has no "Giới tính" column: pandas gives NaN there
    old = staff["unit"] == "KT"
    assert old.sum() == 1 and staff.loc[old, "Giới tính"].isna().all()
    got = _by_id(summary)
    columns = {"gioi-tinh": "Giới tính", "dan-toc": "Dân tộc", "lanh-dao": "Lãnh đạo, quản lý"}
    for breakdown_id, column in columns.items():
        entry = got[breakdown_id]
        filled = staff[column].notna().sum()
        assert entry["coverage"] == {"filled": filled, "staff": len(staff), "units_without_field": ["KT"]}
        assert entry["no_data"] == {"label": "Không có số liệu", "staff": len(staff) - filled, "proposed": {}}
        assert sum(g["staff"] for g in entry["groups"]) == filled  # the old form's people are in no group
    assert got["gioi-tinh"]["groups"] == [
        {"label": "Nam", "staff": int((staff["Giới tính"] == "Nam").sum()), "proposed": {}},
        {"label": "Nữ", "staff": int((staff["Giới tính"] == "Nữ").sum()), "proposed": {}},
    ]
    # Category is in every version: complete coverage, no unit named.
    complete = {"filled": len(staff), "staff": len(staff), "units_without_field": []}
    assert got["doi-tuong"]["coverage"] == complete
    counted = breakdowns(config, result)
    workbook = write_summary_workbook(result, config, tmp_path / "tong-hop.xlsx", breakdowns=counted)
    texts = [row[0] for row in openpyxl.load_workbook(workbook)[SHEET_BREAKDOWNS].iter_rows(values_only=True)]
    assert "Có số liệu: 5/6 người; biểu mẫu chưa có cột này: KT." in texts


def test_breakdowns_are_data_in_config(config, tmp_path):
    """An office asks for another split: one [[breakdowns]] entry, no code."""
    custom = dataclasses.replace(
        config,
        breakdowns=[
            Breakdown("dtts", "Dân tộc (chi tiết)", "ethnicity"),
            Breakdown("nu", "Nữ", "gender", [BreakdownGroup("Nữ", ["Nữ"])]),
        ],
    )
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for unit in ("TCHC", "TH", "KT"):
        shutil.copyfile(FORMS / "v2" / f"2024-01_{unit}_bao-cao-thi-dua.xlsx", inbox / f"{unit}.xlsx")
    result = aggregate(custom, JAN, pipeline.ingest(custom, inbox).submissions)
    path = write_summary_json(result, custom, tmp_path, breakdowns=breakdowns(custom, result))
    got = _by_id(json.loads(path.read_text(encoding="utf-8")))
    staff = _staff(sorted(inbox.iterdir()))
    counts = staff["Dân tộc"].value_counts()
    expected = {k: int(v) for k, v in sorted(counts.items())}
    assert {g["label"]: g["staff"] for g in got["dtts"]["groups"]} == expected
    # A filled value no group names is shown apart ("Khác"), not dropped and not "no data".
    assert [(g["label"], g["staff"]) for g in got["nu"]["groups"]] == [
        ("Nữ", int((staff["Giới tính"] == "Nữ").sum())),
        ("Khác", int((staff["Giới tính"] == "Nam").sum())),
    ]


def test_config_breakdowns_and_form_settings_are_checked():
    text = (REPO / "config.toml").read_text(encoding="utf-8")
    start = text.index("# [[breakdowns]]")
    end = text.index("\n\n", start)
    example = "\n".join(line.removeprefix("# ") for line in text[start:end].split("\n"))
    config = parse_config(text[:start] + example + text[end:])
    assert [(b.id, b.field, [g.label for g in b.groups]) for b in config.breakdowns] == [
        ("dan-toc", "ethnicity", ["Kinh", "Dân tộc thiểu số"])
    ]
    bad = (text[:start] + example + text[end:]).replace('field = "ethnicity"', 'field = "tuoi"')
    bad = bad.replace('version = "2"', 'version = "5"', 1)
    with pytest.raises(UserError) as caught:
        parse_config(bad)
    message = str(caught.value)
    assert "form.version: không có biểu mẫu phiên bản “5”; chương trình có các phiên bản: 1, 2." in message
    assert "breakdowns[1].field: “tuoi” không được hỗ trợ" in message
