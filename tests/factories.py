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
