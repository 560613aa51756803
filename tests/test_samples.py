"""The sample inbox: real .eml and .xlsx files, reopened with the standard library, openpyxl and calamine."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import time
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from processor import form
from processor.devtools import samples
from processor.records import FileStatus, Period, ReportingStatus, UserError
from processor.vntext import fold, person_key

Q1 = (Period(2024, 1), Period(2024, 2), Period(2024, 3))


@pytest.fixture(scope="module")
def demo(config, tmp_path_factory):
    return samples.generate_inbox(config, tmp_path_factory.mktemp("demo"), Q1, seed=2024, scenario="demo")


@pytest.fixture(scope="module")
def clean(config, tmp_path_factory):
    return samples.generate_inbox(config, tmp_path_factory.mktemp("clean"), Q1, seed=99, scenario="clean")


def _workbook_bytes(sample: samples.SampleFile) -> bytes:
    if sample.path.suffix == ".xlsx":
        return sample.path.read_bytes()
    message = email.message_from_bytes(sample.path.read_bytes(), policy=email.policy.default)
    (attachment,) = message.iter_attachments()
    return attachment.get_content()


def _read_back(config, data: bytes) -> dict:
    """Parse a filled workbook independently of processor.validate: labels, then plain mapping."""
    import io

    wb = openpyxl.load_workbook(io.BytesIO(data))
    unit_ws, staff_ws, meta_ws = wb[form.UNIT_SHEET], wb[form.STAFF_SHEET], wb[form.META_SHEET]
    by_label = {f.label: f.key for f in form.UNIT_FIELDS}
    unit = {by_label[r[0]]: r[1] for r in unit_ws.iter_rows(min_row=4, max_col=2, values_only=True) if r[0]}
    staff_keys = {f.label: f.key for f in form.STAFF_FIELDS}
    header = [staff_keys[c.value] for c in staff_ws[1]]
    rows = [dict(zip(header, r, strict=True)) for r in staff_ws.iter_rows(min_row=2, values_only=True)]
    meta = {r[0]: r[1] for r in meta_ws.iter_rows(values_only=True)}
    return {
        "unit": unit,
        "rows": rows,
        "meta": meta,
        "sheets": wb.sheetnames,
        "meta_state": meta_ws.sheet_state,
    }


def _code(config, choices: form.ChoiceList, label: str) -> object:
    return next(o.value for o in form.choice_options(config, choices) if o.label == label)


# -- determinism -----------------------------------------------------------------------------------


def test_same_seed_same_files_byte_for_byte(config, tmp_path, demo):
    again = samples.generate_inbox(config, tmp_path / "again", Q1, seed=2024, scenario="demo")
    names = sorted(f.path.name for f in demo.files)
    assert names == sorted(f.path.name for f in again.files)
    for first, second in zip(demo.files, again.files, strict=True):
        assert first.path.read_bytes() == second.path.read_bytes()
        assert first.path.stat().st_mtime == second.path.stat().st_mtime
    assert again.truth == demo.truth and again.expected_status == demo.expected_status


def test_another_seed_other_people(config, tmp_path, demo):
    other = samples.generate_inbox(config, tmp_path, Q1, seed=2025, scenario="demo")
    names = {p.name for r in demo.truth.values() for p in r.people}
    other_names = {p.name for r in other.truth.values() for p in r.people}
    assert names != other_names


# -- what the files hold ---------------------------------------------------------------------------


def test_every_accepted_workbook_holds_its_manifest_report(config, clean):
    """Read back with openpyxl, mapped by label: the manifest's truth is what the files say."""
    assert len(clean.files) == len(config.units) * len(Q1)
    for sample in clean.files:
        data = _workbook_bytes(sample)
        assert hashlib.sha256(data).hexdigest() == sample.workbook_sha256
        read = _read_back(config, data)
        report = clean.truth[(sample.unit_code, sample.period)]
        assert read["sheets"] == [form.UNIT_SHEET, form.STAFF_SHEET, form.GUIDE_SHEET, form.META_SHEET]
        assert read["meta_state"] == "hidden"
        assert read["meta"] == {
            "form_id": form.FORM_ID,
            "form_version": form.FORM_VERSION,
            "unit_code": sample.unit_code,
            "period": str(sample.period),
        }
        unit = read["unit"]
        assert (unit["unit_code"], unit["period"]) == (report.unit_code, report.period.label)
        assert unit["tasks_completed"] == report.tasks_completed <= unit["tasks_assigned"]
        assert unit["donation_vnd"] == report.donation_vnd
        assert unit["prepared_on"].date() == report.prepared_on <= sample.received_at.date()
        assert _code(config, form.ChoiceList.RATING, unit["self_rating"]) == report.self_rating
        assert len(read["rows"]) == len(report.people)
        for row, person in zip(read["rows"], report.people, strict=True):
            assert row["name"] == person.name and row["birth_date"].date() == person.birth_date
            assert _code(config, form.ChoiceList.RATING, row["rating"]) == person.rating
            assert _code(config, form.ChoiceList.CATEGORY, row["category"]) == person.category
            assert _code(config, form.ChoiceList.YES_NO, row["registered"]) is person.registered
            assert _code(config, form.ChoiceList.YES_NO, row["social"]) is person.social
            assert row["discipline"] == person.discipline
            assert row["seq"] == person.row - 1


def test_calamine_reads_the_same_cells(config, clean):
    sample = clean.files[0]
    book = CalamineWorkbook.from_filelike(__import__("io").BytesIO(_workbook_bytes(sample)))
    rows = book.get_sheet_by_name(form.STAFF_SHEET).to_python()
    assert rows[0] == [f.label for f in form.STAFF_FIELDS]
    report = clean.truth[(sample.unit_code, sample.period)]
    assert [r[1] for r in rows[1:]] == [p.name for p in report.people]
    assert rows[1][2] == report.people[0].birth_date


def test_realistic_vietnamese_people(config, demo):
    people = [p for r in demo.truth.values() for p in r.people]
    assert all(unicodedata.is_normalized("NFC", p.name) for p in people)
    assert all(len(p.name.split()) >= 3 for p in people)
    family = Counter(p.name.split()[0] for p in people)
    assert family.most_common(1)[0][0] == "Nguyễn" and len(family) >= 8
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    marks = {c for p in people for c in unicodedata.normalize("NFD", p.name)}
    assert tones <= marks and "đ" in "".join(p.name.lower() for p in people)
    categories = Counter(p.category for p in people)
    assert categories["CC"] > categories["VC"] > 0 and categories["HĐLĐ"] > 0
    ratings = Counter(p.rating for p in people)
    assert ratings["HTTNV"] + ratings["HTXSNV"] > 0.85 * len(people) and ratings["HTNV"] > 0
    assert sum(p.discipline != "Không" for p in people) == 1
    assert 0 < sum(p.initiatives for p in people) < len(people) / 4
    per_unit = Counter((u, p) for u, p in demo.truth)
    assert all(6 <= len(r.people) <= 16 for r in demo.truth.values()) and per_unit
    positions = {p.position for p in people}
    assert {"Trưởng phòng", "Phó Trưởng phòng", "Chuyên viên"} <= positions
    assert all(200_000 <= r.donation_vnd <= 2_000_000 for r in demo.truth.values() if r.donation_vnd)


def test_people_are_stable_across_months(clean):
    seen: dict[tuple[str, str], set] = defaultdict(set)
    months: dict[tuple[str, str], int] = Counter()
    for (unit, _), report in clean.truth.items():
        for p in report.people:
            key = (unit, fold(p.name))
            seen[key].add((p.birth_date, p.position, p.category))
            months[key] += 1
    assert all(len(identities) == 1 for identities in seen.values())
    assert sum(n == len(Q1) for n in months.values()) > 0.9 * len(months)


def test_campaign_awards_have_candidates(config, demo):
    """Several people earn the Giấy khen (GK-CN) and at least one unit the collective one (GK-TT)."""
    good = {r.code for r in config.ratings[:2]}
    history: dict[tuple[str, str], list] = defaultdict(list)
    for (unit, _), report in demo.truth.items():
        for p in report.people:
            history[(unit, person_key(p.name, p.birth_date))].append(p)
    winners = [
        key
        for key, months in history.items()
        if len(months) == len(Q1)
        and all(p.rating in good and p.registered and p.social and p.discipline == "Không" for p in months)
        and sum(p.rating == "HTXSNV" for p in months) >= 2
    ]
    assert len(winners) >= 5
    units = [
        code
        for code in {u for u, _ in demo.truth}
        if all((code, p) in demo.truth for p in Q1)
        and all(
            r.self_rating == "HTXSNV"
            and r.tasks_completed == r.tasks_assigned
            and all(p.rating in good and p.registered and p.social for p in r.people)
            for r in (demo.truth[(code, p)] for p in Q1)
        )
    ]
    assert units and set(units) >= set(demo.units_with_role("excellent"))


# -- the demo scenario -----------------------------------------------------------------------------


def test_demo_roles_and_statuses(config, demo):
    for role in ("missing", "late", "errors", "correction", "duplicate"):
        assert len(demo.units_with_role(role)) == 1, role
    assert config.office.clerk_unit not in demo.units_with_role("missing")
    (missing,) = demo.units_with_role("missing")
    assert all(demo.expected_status[(missing, p)] is ReportingStatus.MISSING for p in Q1)
    assert not [f for f in demo.files if f.unit_code == missing]
    (late,) = demo.units_with_role("late")
    for sample in (f for f in demo.files if f.unit_code == late):
        due = config.campaign_for(sample.period).due_date(sample.period)
        assert sample.received_at.date() > due
        assert demo.expected_status[(late, sample.period)] is ReportingStatus.LATE
    others = [f for f in demo.files if f.unit_code not in (late,)]
    for sample in others:
        assert sample.received_at.date() <= config.campaign_for(sample.period).due_date(sample.period)
    assert set(demo.expected_status) == {(u.code, p) for u in config.units for p in Q1}


def test_demo_errors_file(config, demo):
    (unit,) = demo.units_with_role("errors")
    (sample,) = [f for f in demo.files if f.role == "with_errors"]
    assert sample.unit_code == unit and sample.expected_status is FileStatus.REJECTED
    assert demo.expected_status[(unit, sample.period)] is ReportingStatus.WITH_ERRORS
    assert (unit, sample.period) not in demo.truth
    kinds = {m.kind for m in sample.mistakes}
    assert kinds == {
        "tasks_completed_gt_assigned",
        "missing_birth_date",
        "invalid_rating",
        "duplicate_person",
    }
    assert all(m.is_error for m in sample.mistakes)
    read = _read_back(config, _workbook_bytes(sample))
    assert read["unit"]["tasks_completed"] > read["unit"]["tasks_assigned"]
    assert "Tốt lắm" in [r["rating"] for r in read["rows"]]
    assert None in [r["birth_date"] for r in read["rows"]]
    identities = Counter((r["name"], r["birth_date"]) for r in read["rows"] if r["birth_date"])
    assert identities.most_common(1)[0][1] == 2


def test_demo_correction_and_duplicate(demo):
    (first,) = [f for f in demo.files if f.role == "correction_first"]
    (final,) = [f for f in demo.files if f.role == "correction_final"]
    assert (first.unit_code, first.period) == (final.unit_code, final.period)
    assert first.workbook_sha256 != final.workbook_sha256 and first.received_at < final.received_at
    assert first.expected_status is FileStatus.SUPERSEDED and final.expected_status is FileStatus.ACCEPTED
    assert any(m.is_error for m in first.mistakes) and not final.mistakes
    (copy,) = [f for f in demo.files if f.role == "duplicate_copy"]
    (original,) = [
        f for f in demo.files if (f.unit_code, f.period) == (copy.unit_code, copy.period) and f is not copy
    ]
    assert copy.path.read_bytes() == original.path.read_bytes()
    assert copy.expected_status is FileStatus.DUPLICATE and original.expected_status is FileStatus.ACCEPTED
    assert copy.received_at > original.received_at


def test_demo_typing_habits_are_in_the_files(config, demo):
    variants = {m.kind: (f, m) for f in demo.files for m in f.mistakes if not m.is_error}
    assert {"abbreviation", "padded_text", "tone_variant", "nfd_text", "moved_column"} <= set(variants)
    sample, mistake = variants["abbreviation"]
    rows = _read_back(config, _workbook_bytes(sample))["rows"]
    assert rows[mistake.row - 2]["rating"] in {r.code for r in config.ratings}
    sample, mistake = variants["padded_text"]
    rows = _read_back(config, _workbook_bytes(sample))["rows"]
    assert rows[mistake.row - 2]["registered"] in (" có ", " không ")
    sample, mistake = variants["nfd_text"]
    rows = _read_back(config, _workbook_bytes(sample))["rows"]
    assert not unicodedata.is_normalized("NFC", rows[mistake.row - 2]["name"])
    assert all(f.expected_status is FileStatus.ACCEPTED for f, _ in variants.values())


def test_real_ingest_agrees_with_the_manifest(config, demo):
    """The batch's own ingest and validation give every demo file the status the manifest expects."""
    from processor.ingest import ingest

    result = ingest(config, demo.inbox)
    by_name = defaultdict(list)
    for submission in result.submissions:
        by_name[submission.file.source_path.name].append(submission)
    for sample in demo.files:
        (submission,) = by_name[sample.path.name]
        assert submission.status is sample.expected_status, (sample.path.name, submission.findings)
        if sample.expected_status is FileStatus.ACCEPTED:
            assert submission.report == sample.report, sample.path.name


# -- e-mails and bare files -----------------------------------------------------------------------


def test_emails_parse_and_carry_the_workbook(config, demo):
    emails = [f for f in demo.files if f.path.suffix == ".eml"]
    assert len(emails) > len(demo.files) / 2
    for sample in emails:
        message = email.message_from_bytes(sample.path.read_bytes(), policy=email.policy.default)
        unit = config.unit(sample.unit_code)
        assert message["From"].addresses[0].addr_spec == unit.emails[0] == sample.sender
        assert message["To"].addresses[0].addr_spec == config.office.clerk_email
        assert message["Date"].datetime == sample.received_at
        assert sample.period.label in message["Subject"] and unit.name in message["Subject"]
        (attachment,) = message.iter_attachments()
        assert attachment.get_filename() == sample.attachment_name and sample.attachment_name.endswith(
            ".xlsx"
        )
        assert hashlib.sha256(attachment.get_content()).hexdigest() == sample.workbook_sha256
        assert "Kính gửi" in message.get_body().get_content()
    assert any(not f.attachment_name.isascii() for f in emails)  # Vietnamese attachment names, RFC 2231


def test_bare_files_carry_their_send_time(demo):
    bare = [f for f in demo.files if f.path.suffix == ".xlsx"]
    assert bare
    for sample in bare:
        assert sample.path.stat().st_mtime == sample.received_at.timestamp()
        assert sample.sender is None and sample.attachment_name is None


# -- the clean scenario and scale ------------------------------------------------------------------


def test_clean_scenario(config, clean):
    assert set(clean.expected_status.values()) == {ReportingStatus.ON_TIME}
    assert all(f.expected_status is FileStatus.ACCEPTED and not f.mistakes for f in clean.files)
    assert Counter((f.unit_code, f.period) for f in clean.files) == Counter(
        {(u.code, p): 1 for u in config.units for p in Q1}
    )
    assert set(clean.truth) == set(clean.expected_status)


def test_province_of_fifty_units_is_fast(tmp_path):
    province = samples.generate_province(50)
    assert [u.code for u in province.units][:2] == ["DV0001", "DV0002"] and len(province.units) == 50
    assert province.office.clerk_unit == "DV0001"
    started = time.perf_counter()
    manifest = samples.generate_inbox(province, tmp_path, Q1[:1], scenario="clean", staff_per_unit=50)
    elapsed = time.perf_counter() - started
    assert elapsed < 5, f"50 workbooks of 50 people took {elapsed:.1f} s"
    assert len(manifest.files) == 50 and len(list(tmp_path.iterdir())) == 50
    assert all(len(r.people) == 50 for r in manifest.truth.values())
    sample = manifest.files[-1]
    rows = _read_back(province, _workbook_bytes(sample))["rows"]
    assert len(rows) == 50


def test_unknown_scenario_and_no_period(config, tmp_path):
    with pytest.raises(UserError, match="demo, clean"):
        samples.generate_inbox(config, tmp_path, Q1, scenario="chaos")
    with pytest.raises(UserError):
        samples.generate_inbox(config, tmp_path, [])


def test_single_month_and_received_times_are_vietnam_time(config, tmp_path):
    manifest = samples.generate_inbox(config, tmp_path, [Period(2024, 2)], scenario="demo")
    assert {f.period for f in manifest.files} == {Period(2024, 2)}
    for sample in manifest.files:
        assert sample.received_at.utcoffset() == dt.timedelta(hours=7)
        assert 7 <= sample.received_at.hour <= 17 and sample.received_at.weekday() < 5


def test_inbox_holds_only_what_the_manifest_lists(demo):
    on_disk = sorted(p.name for p in Path(demo.inbox).iterdir())
    assert on_disk == sorted(f.path.name for f in demo.files)


def test_bare_files_only_hold_the_same_workbooks(config, tmp_path, demo):
    bare = samples.generate_inbox(config, tmp_path, Q1, seed=2024, scenario="demo", as_email=False)
    assert {p.suffix for p in tmp_path.iterdir()} == {".xlsx"}
    assert [f.workbook_sha256 for f in bare.files] == [f.workbook_sha256 for f in demo.files]
    assert [f.expected_status for f in bare.files] == [f.expected_status for f in demo.files]
    for sample in bare.files:
        assert hashlib.sha256(sample.path.read_bytes()).hexdigest() == sample.workbook_sha256
