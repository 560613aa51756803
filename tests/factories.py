"""Build records directly (no workbook reading) for aggregate and output tests.

A scenario is plain data: tuples a test can count with plain Python to get its expected values
independently of processor.aggregate.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Sequence
from pathlib import Path

from processor.config import Config, Unit
from processor.records import (
    FileStatus,
    Finding,
    Period,
    PersonRecord,
    ReceivedFile,
    Severity,
    Submission,
    UnitReport,
)

ICT = dt.timezone(dt.timedelta(hours=7))


@dataclasses.dataclass(frozen=True)
class Row:
    """One staff row as plain data."""

    name: str
    birth: dt.date | None
    rating: str = "HTTNV"
    registered: bool = True
    social: bool = True
    initiatives: int = 0
    discipline: str = "Không"
    category: str = "CC"
    position: str = "Chuyên viên"


def person(row: Row, index: int) -> PersonRecord:
    return PersonRecord(
        row=index + 2,
        name=row.name,
        birth_date=row.birth,
        position=row.position,
        category=row.category,
        registered=row.registered,
        rating=row.rating,
        social=row.social,
        initiatives=row.initiatives,
        discipline=row.discipline,
    )


def report(
    unit: Unit,
    period: Period,
    rows: Sequence[Row],
    *,
    self_rating: str | None = "HTTNV",
    tasks: tuple[int, int] = (0, 0),
    donation_vnd: int = 0,
    support_activities: int = 0,
    highlights: str = "",
) -> UnitReport:
    return UnitReport(
        unit_code=unit.code,
        unit_name=unit.name,
        period=period,
        preparer="Nguyễn Văn Lập",
        phone="0912345678",
        prepared_on=dt.date(period.next().year, period.next().month, 1),
        self_rating=self_rating,
        tasks_assigned=tasks[0],
        tasks_completed=tasks[1],
        donation_vnd=donation_vnd,
        support_activities=support_activities,
        highlights=highlights,
        people=tuple(person(r, i) for i, r in enumerate(rows)),
    )


def received(name: str, when: dt.datetime, *, sender: str | None = None, salt: str = "") -> ReceivedFile:
    return ReceivedFile(
        display_name=name,
        source_path=Path("inbox") / name,
        sha256=hashlib.sha256(f"{name}|{when.isoformat()}|{salt}".encode()).hexdigest(),
        received_at=when,
        sender=sender,
    )


def submission(
    unit_report: UnitReport | None,
    when: dt.datetime,
    *,
    status: FileStatus = FileStatus.ACCEPTED,
    name: str | None = None,
    unit_code: str | None = None,
    period: Period | None = None,
    errors: int = 0,
    sender: str | None = None,
) -> Submission:
    unit_code = unit_code or (unit_report.unit_code if unit_report else None)
    period = period or (unit_report.period if unit_report else None)
    name = name or f"{period}_{unit_code}_bao-cao-thi-dua.xlsx"
    findings = [
        Finding(Severity.ERROR, "required", "Thiếu thông tin bắt buộc.", name, "Cá nhân", f"B{i + 2}")
        for i in range(errors)
    ]
    return Submission(
        file=received(name, when, sender=sender, salt=status.value),
        status=status,
        findings=findings,
        unit_code=unit_code,
        period=period,
        report=unit_report,
    )


def with_units(config: Config, units: Sequence[tuple[str, str]]) -> Config:
    """The shipped config with another roster."""
    return dataclasses.replace(config, units=[Unit(code, name, []) for code, name in units])


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, 0, tzinfo=ICT)


# ------------------------------------------------------------------------------------------------
# A three-month scenario: four units (one missing in February, one late, one with errors), people
# joining, a name spelled with the tone mark moved, and files that must never be counted.

UNITS = (
    ("TCHC", "Phòng Tổ chức - Hành chính"),
    ("TH", "Phòng Tổng hợp"),
    ("KT", "Phòng Kinh tế"),
    ("KGVX", "Phòng Khoa giáo - Văn xã"),
)
JAN, FEB, MAR = Period(2024, 1), Period(2024, 2), Period(2024, 3)


@dataclasses.dataclass(frozen=True)
class Filing:
    """One received file of the scenario, as plain data."""

    unit: str | None
    period: Period | None
    status: FileStatus
    received: dt.datetime
    rows: tuple[Row, ...] = ()
    self_rating: str | None = "HTTNV"
    tasks: tuple[int, int] = (0, 0)
    donation_vnd: int = 0
    support_activities: int = 0
    highlights: str = ""
    name: str | None = None
    errors: int = 0
    unit_code_as_typed: str | None = None  # the code as the file carries it, if not the roster's


HOA = Row("Nguyễn Văn Hoà", dt.date(1980, 3, 15), "HTXSNV", initiatives=1, position="Trưởng phòng")
LAN = Row("Trần Thị Lan", dt.date(1985, 7, 2), "HTTNV")
MINH = Row("Lê Văn Minh", dt.date(1990, 11, 20), "HTNV", registered=False, social=False)
THUY = Row("Phạm Thị Thủy", dt.date(1995, 1, 9), "HTTNV", category="HĐLĐ", position="Nhân viên")


def _r(row: Row, **changes: object) -> Row:
    return dataclasses.replace(row, **changes)


SCENARIO: tuple[Filing, ...] = (
    # TCHC: on time every month; Thủy joins in February; Hoà's tone mark moves in March.
    Filing("TCHC", JAN, FileStatus.ACCEPTED, at(dt.date(2024, 2, 2)), (HOA, LAN, MINH), "HTXSNV", (10, 10),
           2_000_000, 1, "Hoàn thành tốt công tác tổ chức"),
    Filing("TCHC", FEB, FileStatus.SUPERSEDED, at(dt.date(2024, 3, 1)), (HOA,), "HTNV", (99, 1), 5, 5,
           name="2024-02_TCHC_ban-cu.xlsx"),
    Filing("TCHC", FEB, FileStatus.ACCEPTED, at(dt.date(2024, 3, 4)),
           (HOA, _r(LAN, rating="HTXSNV"), _r(MINH, rating="HTTNV", registered=True), THUY),
           "HTXSNV", (8, 7), 1_500_000, 2),
    Filing("TCHC", FEB, FileStatus.DUPLICATE, at(dt.date(2024, 3, 4), 10), (HOA, LAN), "HTXSNV", (8, 7),
           name="Fwd_2024-02_TCHC.xlsx"),
    Filing("TCHC", MAR, FileStatus.ACCEPTED, at(dt.date(2024, 4, 5), 16),
           (_r(HOA, name="Nguyễn Văn Hòa", initiatives=2), LAN,
            _r(MINH, discipline="Khiển trách", registered=True, social=True), _r(THUY, name="Phạm Thị Thuỷ")),
           "HTTNV", (5, 5), 0, 1, "=Kết quả \"nổi bật\" & <mới>"),
    # TH: missing in February (its February file belongs to another month).
    Filing("TH", JAN, FileStatus.ACCEPTED, at(dt.date(2024, 2, 5), 23),
           (Row("Hoàng Văn Nam", dt.date(1979, 5, 5), "HTTNV"),
            Row("Đỗ Thị Hà", dt.date(1988, 8, 8), "HTTNV", category="VC", social=False)),
           "HTTNV", (4, 3), 500_000),
    Filing("TH", FEB, FileStatus.OTHER_PERIOD, at(dt.date(2024, 3, 3)),
           (Row("Hoàng Văn Nam", dt.date(1979, 5, 5), "HTTNV"),), name="TH_thang-1-gui-lai.xlsx"),
    Filing("TH", MAR, FileStatus.ACCEPTED, at(dt.date(2024, 4, 1)),
           (Row("Hoàng Văn Nam", dt.date(1979, 5, 5), "HTXSNV"),
            Row("Đỗ Thị Hà", dt.date(1988, 8, 8), "HTTNV", category="VC"),
            Row("Vũ Minh Anh", dt.date(1999, 9, 9), "HTNV", category="HĐLĐ", registered=False)),
           "HTNV", (6, 6), 300_000, 1),
    # KT: late in February; its March file carries the code in lower case.
    Filing("KT", JAN, FileStatus.ACCEPTED, at(dt.date(2024, 2, 1)),
           (Row("Bùi Quang Huy", dt.date(1982, 2, 2), "HTTNV", category="VC"),), "HTTNV", (2, 2)),
    Filing("KT", FEB, FileStatus.ACCEPTED, at(dt.date(2024, 3, 7)),
           (Row("Bùi Quang Huy", dt.date(1982, 2, 2), "KHTNV", category="VC", social=False),),
           "HTNV", (3, 1), 100_000),
    Filing("KT", MAR, FileStatus.ACCEPTED, at(dt.date(2024, 4, 2)),
           (Row("Bùi Quang Huy", dt.date(1982, 2, 2), "HTTNV", category="VC"),), "HTTNV", (0, 0),
           unit_code_as_typed="kt"),
    # KGVX: errors in February; in March its file has errors too but valid rows (--accept-partial).
    Filing("KGVX", JAN, FileStatus.ACCEPTED, at(dt.date(2024, 2, 4)),
           (Row("Ngô Thị Mai", dt.date(1991, 4, 4), "HTXSNV"),
            Row("Lý Văn Đức", dt.date(1987, 6, 6), "HTTNV")),
           "HTXSNV", (1, 1), 0, 0),
    Filing("KGVX", FEB, FileStatus.REJECTED, at(dt.date(2024, 3, 2)),
           (Row("Ngô Thị Mai", dt.date(1991, 4, 4), "HTNV"),), "KHTNV", (9, 0), errors=3),
    Filing("KGVX", MAR, FileStatus.ACCEPTED_PARTIAL, at(dt.date(2024, 4, 4)),
           (Row("Ngô Thị Mai", dt.date(1991, 4, 4), "HTXSNV"),), "HTXSNV", (2, 2), errors=1),
    # Never counted: unreadable, outside the roster, after the period.
    Filing(None, None, FileStatus.UNREADABLE, at(dt.date(2024, 3, 3)), name="anh-chup.xlsx", errors=1),
    Filing("XYZ", FEB, FileStatus.ACCEPTED, at(dt.date(2024, 3, 3)), (HOA,), name="2024-02_XYZ.xlsx"),
    Filing("TCHC", Period(2024, 4), FileStatus.ACCEPTED, at(dt.date(2024, 5, 2)), (HOA,),
           name="2024-04_TCHC.xlsx"),
)  # fmt: skip


def scenario_config(config: Config) -> Config:
    return with_units(config, UNITS)


def filing_submission(config: Config, filing: Filing) -> Submission:
    unit = next((u for u in config.units if u.code == filing.unit), Unit(filing.unit or "", "?", []))
    unit_report = None
    if filing.unit and filing.period and filing.status is not FileStatus.UNREADABLE:
        unit_report = report(
            unit,
            filing.period,
            filing.rows,
            self_rating=filing.self_rating,
            tasks=filing.tasks,
            donation_vnd=filing.donation_vnd,
            support_activities=filing.support_activities,
            highlights=filing.highlights,
        )
    return submission(
        unit_report,
        filing.received,
        status=filing.status,
        name=filing.name,
        unit_code=filing.unit_code_as_typed or filing.unit,
        period=filing.period,
        errors=filing.errors,
        sender=f"{(filing.unit or 'khong-ro').lower()}@laocai.gov.vn",
    )


def scenario_submissions(config: Config) -> list[Submission]:
    return [filing_submission(config, f) for f in SCENARIO]


# ------------------------------------------------------------------------------------------------
# Expected values of the scenario, counted from its plain data (never by calling processor.aggregate).

GOOD = ("HTXSNV", "HTTNV")  # "Hoàn thành tốt nhiệm vụ" or better, best first
RATINGS = ("HTXSNV", "HTTNV", "HTNV", "KHTNV")
CATEGORIES = ("CC", "VC", "HĐLĐ")
DUE_DAY = 5


def usable_filing(unit: str, period: Period, accept_partial: bool = False) -> Filing | None:
    ok = {FileStatus.ACCEPTED} | ({FileStatus.ACCEPTED_PARTIAL} if accept_partial else set())
    found = [f for f in SCENARIO if f.unit == unit and f.period == period and f.status in ok]
    return max(found, key=lambda f: f.received) if found else None


def expected_status(unit: str, period: Period, accept_partial: bool = False) -> str:
    filing = usable_filing(unit, period, accept_partial)
    if filing:
        following = period.next()
        due = dt.date(following.year, following.month, DUE_DAY)
        return "late" if filing.received.date() > due else "on_time"
    bad = {FileStatus.REJECTED, FileStatus.ACCEPTED_PARTIAL}
    if any(f.unit == unit and f.period == period and f.status in bad for f in SCENARIO):
        return "with_errors"
    return "missing"


def expected_figures(filings: Sequence[Filing]) -> dict:
    """The figures of summary.json for these reports, by plain counting."""
    rows = [r for f in filings for r in f.rows]
    return {
        "staff": len(rows),
        "staff_by_category": {c: sum(r.category == c for r in rows) for c in CATEGORIES},
        "registered": sum(r.registered for r in rows),
        "rated_good_or_better": sum(r.rating in GOOD for r in rows),
        "rating_counts": {c: sum(r.rating == c for r in rows) for c in RATINGS},
        "social": sum(r.social for r in rows),
        "initiatives": sum(r.initiatives for r in rows),
        "disciplined": sum(r.discipline != "Không" for r in rows),
        "tasks_assigned": sum(f.tasks[0] for f in filings),
        "tasks_completed": sum(f.tasks[1] for f in filings),
        "donation_vnd": sum(f.donation_vnd for f in filings),
        "support_activities": sum(f.support_activities for f in filings),
    }


def reports_of(period: Period, accept_partial: bool = False) -> list[Filing]:
    """Usable reports of the month in roster order."""
    found = (usable_filing(code, period, accept_partial) for code, _ in UNITS)
    return [f for f in found if f is not None]


# measure -> (per-report numerator, per-report denominator, person falls short or None)
MEASURE_ORACLE = {
    "units_rated_good_or_better": (lambda f: int(f.self_rating in GOOD), lambda f: 1, None),
    "staff_rated_good_or_better": (
        lambda f: sum(r.rating in GOOD for r in f.rows),
        lambda f: len(f.rows),
        lambda r: r.rating not in GOOD,
    ),
    "staff_registered": (
        lambda f: sum(r.registered for r in f.rows),
        lambda f: len(f.rows),
        lambda r: not r.registered,
    ),
    "staff_social": (lambda f: sum(r.social for r in f.rows), lambda f: len(f.rows), lambda r: not r.social),
    "tasks_completed": (lambda f: f.tasks[1], lambda f: f.tasks[0], None),
}


# The words of each verdict, written out here rather than taken from aggregate.VERDICT_LABELS.
VERDICT_WORDS = {
    "met": "Đạt",
    "not_met": "Chưa đạt",
    "insufficient_data": "Chưa đủ số liệu",
    "not_applicable": "Không phát sinh",
}

# How far the brute-force verdict below looks: the missing units' staff or tasks, together, up to this.
_UNKNOWN_DENOMINATOR_SPAN = 60


def expected_verdict(
    numerator: int, denominator: int, threshold: object, measure: str, reported: int, required: int
) -> str:
    """What the data prove, by trying every report the missing units could send (not by the reasoning
    of aggregate.judge_target): a unit over units adds one unit, good or not; a unit over people or
    tasks adds any d' (tried up to a span) with 0..d' of them counted. Met (not met) when every outcome
    is (is not); an outcome with nothing to count is neither."""
    from fractions import Fraction

    missing = required - reported
    if missing and not reported:
        return "insufficient_data"
    if measure == "units_rated_good_or_better":
        outcomes = [(numerator + k, denominator + missing) for k in range(missing + 1)]
    elif missing:
        span = range(_UNKNOWN_DENOMINATOR_SPAN + 1)
        outcomes = [(numerator + n, denominator + d) for d in span for n in range(d + 1)]
    else:
        outcomes = [(numerator, denominator)]
    if any(d == 0 for _, d in outcomes):
        return "insufficient_data" if missing else "not_applicable"
    share = Fraction(threshold)  # type: ignore[arg-type]
    met = [n * share.denominator >= share.numerator * d for n, d in outcomes]  # n/d >= threshold
    return "met" if all(met) else "not_met" if not any(met) else "insufficient_data"


def expected_targets(config: Config, period: Period, accept_partial: bool = False) -> list[dict]:
    """Per campaign target: numerator, denominator, verdict, blocking units and people (threshold 100%)."""
    from fractions import Fraction

    reports = reports_of(period, accept_partial)
    out = []
    for target in config.campaign_for(period).targets:
        num_of, den_of, fails = MEASURE_ORACLE[target.measure]
        numerator = sum(num_of(f) for f in reports)
        denominator = sum(den_of(f) for f in reports)
        threshold = Fraction(str(target.threshold)) / 100
        verdict = expected_verdict(
            numerator, denominator, threshold, target.measure, len(reports), len(UNITS)
        )
        units, people = [], []
        if denominator and Fraction(numerator, denominator) < threshold:
            for f in reports:
                if den_of(f) and Fraction(num_of(f), den_of(f)) < threshold:
                    units.append(f.unit)
                    if fails:
                        people += [(f.unit, r.name) for r in f.rows if fails(r)]
        out.append(
            {
                "id": target.id,
                "numerator": numerator,
                "denominator": denominator,
                "value": Fraction(numerator, denominator) if denominator else None,
                "verdict": verdict,
                "met": {"met": True, "not_met": False}.get(verdict),
                "units_reported": len(reports),
                "blocking_units": units,
                "blocking_people": people,
            }
        )
    return out


def province_workspace(root: Path, n_units: int, staff: int) -> Path:
    """A workspace whose config lists `n_units` units, with three months of their workbooks."""
    import re

    from processor.config import load_config
    from processor.devtools.samples import generate_inbox
    from processor.workspace import create_workspace

    create_workspace(root)
    text = (root / "config.toml").read_text(encoding="utf-8")
    text = re.sub(r"\[\[units\]\]\n(?:(?!\n\n|\n#).)*\n\n", "", text, flags=re.S)
    text += "".join(
        f'\n[[units]]\ncode = "DV{i:04d}"\nname = "Đơn vị số {i}"\nemails = ["dv{i:04d}@laocai.gov.vn"]\n'
        for i in range(1, n_units + 1)
    )
    (root / "config.toml").write_text(text, encoding="utf-8")
    config = load_config(root / "config.toml")
    generate_inbox(config, root / "inbox", config.campaigns[0].periods, scenario="demo", staff_per_unit=staff)
    return root
