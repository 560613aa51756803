"""Forms that evolve (issue 17): every file is validated against the form version it names, version "1"
forms made by the program before versions were data keep working, and the memo of validated files follows
the rules, not the program's code.

The version "1" files under tests/fixtures/forms/v1 were made by `thidua template` of main at 1b44d92 and
filled from the factories' January scenario (tests/fixtures/make_form_fixtures.py).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from processor import form, pipeline, run_report, validate
from processor.aggregate import aggregate
from processor.config import load_config
from processor.ingest_cache import CACHE_NAME, RULES_REVISION, ValidationCache, cache_key
from processor.records import FileStatus, Finding, Period, Severity
from tests.workbooks import incoming

REPO = Path(__file__).resolve().parents[1]
FORMS = REPO / "tests" / "fixtures" / "forms"
JAN = Period(2024, 1)


def _fixture(version: str, unit: str) -> Path:
    return FORMS / f"v{version}" / form.template_file_name(str(JAN), unit)


def _inbox(folder: Path, files: list[Path]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for path in files:
        shutil.copyfile(path, folder / path.name)
    return folder


def _count(path: Path, config) -> dict[str, object]:
    """The figures of one received file, counted with openpyxl alone."""
    ws = openpyxl.load_workbook(path, read_only=True)[form.STAFF_SHEET]
    rows = list(ws.iter_rows(values_only=True))
    col = {label: i for i, label in enumerate(rows[0]) if label}
    people = [r for r in rows[1:] if r[col["Họ và tên"]]]
    ratings = {r.label: r.code for r in config.ratings}
    categories = {c.label: c.code for c in config.staff_categories}
    return {
        "staff": len(people),
        "registered": sum(r[col["Đăng ký thi đua"]] == "Có" for r in people),
        "social": sum(r[col["Tham gia hoạt động xã hội"]] == "Có" for r in people),
        "ratings": [ratings[r[col["Xếp loại tháng"]]] for r in people],
        "categories": [categories[r[col["Đối tượng"]]] for r in people],
        "genders": [r[col["Giới tính"]] if "Giới tính" in col else None for r in people],
    }


@pytest.fixture(scope="module")
def config():
    return load_config(REPO / "config.toml")


def test_the_fixtures_are_what_each_version_makes():
    for version, count in (("1", 11), ("2", 15)):
        for unit in ("TCHC", "TH", "KT"):
            wb = openpyxl.load_workbook(_fixture(version, unit))
            meta = wb[form.META_SHEET]
            assert (meta["A2"].value, meta["B2"].value) == ("form_version", version)
            header = [c.value for c in wb[form.STAFF_SHEET][1] if c.value]
            assert header == [f.label for f in form.VERSIONS[version].staff_fields] and len(header) == count


def test_old_version_files_are_accepted_with_correct_figures_beside_new_version_files(config, tmp_path):
    files = [_fixture("1", "TCHC"), _fixture("1", "TH"), _fixture("2", "KT")]
    subs = pipeline.ingest(config, _inbox(tmp_path / "inbox", files)).submissions
    by_unit = {s.unit_code: s for s in subs}
    assert {u: (s.status, s.form_version) for u, s in by_unit.items()} == {
        "TCHC": (FileStatus.ACCEPTED, "1"),
        "TH": (FileStatus.ACCEPTED, "1"),
        "KT": (FileStatus.ACCEPTED, "2"),
    }
    # An old form is no error: one warning telling the unit which columns the new form adds.
    old = [f for f in by_unit["TH"].findings]
    assert [f.code for f in old] == ["form_version_old"] and not old[0].is_error
    assert "“Giới tính”" in old[0].message and "phiên bản 2" in old[0].message
    assert by_unit["KT"].findings == []
    # ...which is no reason for a reply of its own; beside a real mistake the unit is told it too.
    assert not run_report.needs_feedback(by_unit["TH"], JAN)
    mistake = Finding(Severity.ERROR, "tasks_exceed", "số nhiệm vụ", "x.xlsx")
    wrong = dataclasses.replace(by_unit["TH"], findings=[*old, mistake])
    assert run_report.needs_feedback(wrong, JAN) and run_report.for_unit(wrong.findings)[0] == old[0]

    result = aggregate(config, JAN, subs)
    counted = [_count(path, config) for path in files]
    totals = result.totals
    assert totals.units_reporting == 3
    assert totals.staff == sum(c["staff"] for c in counted) == 6
    assert totals.registered == sum(c["registered"] for c in counted)
    assert totals.social == sum(c["social"] for c in counted)
    for code in totals.rating_counts:
        assert totals.rating_counts[code] == sum(c["ratings"].count(code) for c in counted), code
    for code in totals.staff_by_category:
        assert totals.staff_by_category[code] == sum(c["categories"].count(code) for c in counted), code
    # The version 2 columns: read where the form has them, no data (None) where it does not.
    people = {p.name: p for s in subs for p in s.report.people}
    assert people["Bùi Quang Huy"].gender == counted[2]["genders"][0] == "Nam"
    assert people["Bùi Quang Huy"].ethnicity == "Kinh" and people["Bùi Quang Huy"].leader is True
    assert people["Bùi Quang Huy"].recruited_on is not None
    for name in ("Nguyễn Văn Hoà", "Hoàng Văn Nam", "Đỗ Thị Hà"):
        person = people[name]
        assert (person.gender, person.ethnicity, person.recruited_on, person.leader) == (None,) * 4


def _with_version(path: Path, version: str, out: Path) -> Path:
    wb = openpyxl.load_workbook(path)
    wb[form.META_SHEET]["B2"].value = version
    wb.save(out)
    return out


def test_an_unknown_version_is_one_finding_naming_both_versions(config, tmp_path):
    path = _with_version(_fixture("1", "TH"), "7", tmp_path / "TH.xlsx")
    sub = validate.validate_workbook(config, incoming(path.read_bytes(), path.name))
    [finding] = sub.findings
    assert finding.code == "form_version_unknown" and finding.is_error
    assert "“7”" in finding.message and f"phiên bản {form.LATEST_VERSION}" in finding.message
    assert finding.value == "7" and sub.form_version == "7"
    assert sub.status is FileStatus.REJECTED


def test_a_version_unknown_to_this_program_is_refused_not_read_as_another(config, tmp_path):
    """A newer program's form sent to an older program: refused with the versions named, not guessed."""
    path = _with_version(_fixture("2", "KT"), "3", tmp_path / "KT.xlsx")
    sub = validate.validate_workbook(config, incoming(path.read_bytes(), path.name))
    assert [f.code for f in sub.findings] == ["form_version_unknown"]


# -- the memo: keyed by the rules, not by the program's code --------------------------------------


def _thidua(*args: str, cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [sys.executable, "-m", "processor", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
    )


def _workspace(tmp_path: Path) -> Path:
    workspace = tmp_path / "ws"
    _inbox(workspace / "inbox", [_fixture("1", "TCHC"), _fixture("1", "TH"), _fixture("2", "KT")])
    shutil.copyfile(REPO / "config.toml", workspace / "config.toml")
    (workspace / "output").mkdir()  # `status` keeps its memo in an existing output folder only
    return workspace


def test_a_change_of_code_that_changes_no_rule_checks_nothing_again(tmp_path):
    workspace = _workspace(tmp_path)
    status = ("status", "--period", "2024-01")
    assert _thidua(*status, cwd=workspace).returncode == 0
    memo = workspace / "output" / ".cache" / CACHE_NAME
    remembered = memo.read_bytes()
    assert remembered.count(b"\n") == 4  # the header and the three files

    # The same program with its validating modules edited (a comment: a refactoring changes no rule).
    copy = tmp_path / "edited"
    shutil.copytree(REPO / "processor", copy / "processor", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("validate.py", "reader.py", "form.py", "records.py", "ingest_cache.py"):
        with open(copy / "processor" / name, "a", encoding="utf-8") as source:
            source.write("\n# edited: no rule changed\n")
    edited = _thidua(*status, cwd=workspace, pythonpath=copy)
    assert edited.returncode == 0, edited.stderr
    assert memo.read_bytes() == remembered  # every file a memo hit: nothing validated, nothing written

    # A config edit outside the rules (a target's threshold, the signer) re-checks nothing either.
    config = workspace / "config.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("Phan Quốc Nghĩa", "Nguyễn Văn Ký"), encoding="utf-8")
    assert _thidua(*status, cwd=workspace).returncode == 0
    assert memo.read_bytes() == remembered

    # The control: raising the program's rules revision checks every file again.
    ingest_cache = copy / "processor" / "ingest_cache.py"
    source = ingest_cache.read_text(encoding="utf-8")
    revision = f"RULES_REVISION = {RULES_REVISION}"
    assert revision in source
    raised = source.replace(revision, f"RULES_REVISION = {RULES_REVISION + 1}")
    ingest_cache.write_text(raised, encoding="utf-8")
    assert _thidua(*status, cwd=workspace, pythonpath=copy).returncode == 0
    assert memo.read_bytes() != remembered and memo.read_bytes().count(b"\n") == 7


def test_memo_hits_per_version_in_process(config, tmp_path, monkeypatch):
    """The same, counted: a second run validates no file; a rule of version 2 only re-checks version 2."""
    inbox = _inbox(tmp_path / "inbox", [_fixture("1", "TCHC"), _fixture("1", "TH"), _fixture("2", "KT")])
    memo = tmp_path / CACHE_NAME
    validated: list[str] = []
    real = validate.validate_workbook

    def counting(config, item, accept_partial=False):
        validated.append(item.file.display_name)
        return real(config, item, accept_partial)

    monkeypatch.setattr(validate, "validate_workbook", counting)

    def run(cfg):
        validated.clear()
        return pipeline.ingest(cfg, inbox, cache=ValidationCache(memo, cache_key(cfg, False))).submissions

    first = run(config)
    assert len(validated) == 3
    assert run(config) == first and validated == []
    # Version 2's definition changes (a help text reworded): its files only are checked again.
    v2 = form.VERSIONS["2"]
    reworded = tuple(
        dataclasses.replace(f, help="Chọn Nam hoặc Nữ.") if f.key == "gender" else f for f in v2.staff_fields
    )
    monkeypatch.setitem(form.VERSIONS, "2", form.FormVersion("2", v2.unit_fields, reworded))
    run(config)
    assert validated == [_fixture("2", "KT").name]


def test_a_rule_change_that_refuses_an_accepted_file_is_reported_everywhere(tmp_path):
    workspace = _workspace(tmp_path)
    run = ("run", "--period", "2024-01")
    before = _thidua(*run, cwd=workspace)
    assert before.returncode == 0, before.stderr
    out = workspace / "output" / "2024-01"
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["refused_after_rule_change"] == []

    # The office drops the category "Viên chức": TH's and KT's files list a viên chức each.
    config = workspace / "config.toml"
    text = config.read_text(encoding="utf-8")
    start = text.index('[[staff_categories]]\ncode = "VC"')
    end = text.index("[[staff_categories]]", start + 1)
    config.write_text(text[:start] + text[end:], encoding="utf-8")
    # `status` meets the change first (it validates without keeping staff rows): the memo entry it
    # writes keeps them, and the finding.
    assert _thidua("status", "--period", "2024-01", cwd=workspace).returncode == 0
    memo = (workspace / "output" / ".cache" / CACHE_NAME).read_text(encoding="utf-8").splitlines()
    flagged = [line for line in memo if "refused_after_rule_change" in line]
    assert len(flagged) == 2
    assert any("Hoàng Văn Nam" in line.split("\t")[3] for line in flagged)  # TH's valid row
    after = _thidua(*run, cwd=workspace)
    assert after.returncode == 0, after.stderr

    flipped = sorted(form.template_file_name("2024-01", unit) for unit in ("KT", "TH"))
    for name in flipped:  # the console
        assert f"Lưu ý: tệp {name}" in after.stdout and "không còn được chấp nhận" in after.stdout
    assert f"Lưu ý: tệp {form.template_file_name('2024-01', 'TCHC')}" not in after.stdout
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert sorted(summary["refused_after_rule_change"]) == flipped
    inputs = {i["name"]: i for i in summary["generated_from"]}
    assert [n for n, i in sorted(inputs.items()) if i["refused_after_rule_change"]] == flipped
    assert all(inputs[n]["status"] == "rejected" for n in flipped)
    # kiem-tra: the month's list of findings names it for each flipped file.
    ws = openpyxl.load_workbook(out / "kiem-tra-2024-01.xlsx").active
    texts = [" ".join(str(v) for v in row if v) for row in ws.iter_rows(values_only=True)]
    for name in flipped:
        assert any(name in t and "đã được chấp nhận ở lần chạy trước" in t for t in texts), name

    # Still said on the next run (a memo hit): never silently flipped.
    again = _thidua(*run, cwd=workspace)
    assert all(f"Lưu ý: tệp {name}" in again.stdout for name in flipped)
