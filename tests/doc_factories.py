"""Build `PeriodResult`s directly from plain specs, for the commend and documents tests.

Independent of processor.aggregate on purpose: the figures and targets here are computed with plain
Python so the tests compare the documents against values they derive themselves.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Sequence
from fractions import Fraction

from processor.config import Config, Unit
from processor.records import (
    Figures,
    MonthRecord,
    Period,
    PeriodResult,
    PersonHistory,
    ReportingStatus,
    TargetResult,
    UnitHistory,
    UnitResult,
    Verdict,
)
from processor.vntext import person_key
from tests.factories import expected_verdict

ICT = dt.timezone(dt.timedelta(hours=7))


def _per_month(value: object, months: int) -> tuple:
    return tuple(value) if isinstance(value, tuple | list) else (value,) * months


@dataclasses.dataclass(frozen=True)
class PersonSpec:
    """A person over the campaign months: `ratings[i]` None means absent from month i."""

    name: str
    unit: str
    ratings: tuple[str | None, ...]
    registered: bool | tuple = True
    social: bool | tuple = True
    initiatives: int | tuple = 0
    discipline: str | tuple = "Không"
    position: str = "Chuyên viên"
    category: str = "CC"
    birth: dt.date = dt.date(1985, 5, 20)

    def month(self, i: int) -> MonthRecord | None:
        n = len(self.ratings)
        if self.ratings[i] is None:
            return None
        return MonthRecord(
            period=Period(0, 1),  # replaced by the caller
            rating=self.ratings[i],
            registered=_per_month(self.registered, n)[i],
            social=_per_month(self.social, n)[i],
            initiatives=_per_month(self.initiatives, n)[i],
            discipline=_per_month(self.discipline, n)[i],
        )


@dataclasses.dataclass(frozen=True)
class UnitSpec:
    """A unit over the campaign months: `ratings[i]` None means no usable report for month i."""

    code: str
    ratings: tuple[str | None, ...]
    tasks: tuple[int, int] | tuple = (4, 4)  # (assigned, completed) for every month, or one pair a month
    late: bool | tuple = False
    with_errors: bool | tuple = False  # when the rating is None: a rejected file rather than nothing
    highlights: str | tuple = ""
    donation_vnd: int | tuple = 0
    support_activities: int | tuple = 0

    def tasks_at(self, i: int) -> tuple[int, int]:
        if isinstance(self.tasks[0], tuple | list):
            return tuple(self.tasks[i])  # type: ignore[return-value]
        return self.tasks  # type: ignore[return-value]


def config_with_units(config: Config, units: Sequence[tuple[str, str]]) -> Config:
    return dataclasses.replace(config, units=[Unit(code, name, []) for code, name in units])


def _good(config: Config, rating: str | None) -> bool:
    return config.rating_rank(rating) <= config.rating_rank(config.good_rating)


def _figures(config: Config, unit: UnitSpec | None, month: int, people: Sequence[MonthRecord]) -> Figures:
    if unit is None:
        return Figures(
            staff_by_category={c.code: 0 for c in config.staff_categories},
            rating_counts={r.code: 0 for r in config.ratings},
        )
    counts = {r.code: 0 for r in config.ratings}
    for record in people:
        counts[record.rating] += 1
    assigned, completed = unit.tasks_at(month)
    n = len(unit.ratings)
    return Figures(
        staff=len(people),
        staff_by_category={c.code: 0 for c in config.staff_categories} | {"CC": len(people)},
        registered=sum(r.registered for r in people),
        rated_good_or_better=sum(_good(config, r.rating) for r in people),
        rating_counts=counts,
        social=sum(r.social for r in people),
        initiatives=sum(r.initiatives for r in people),
        disciplined=sum(r.discipline != "Không" for r in people),
        tasks_assigned=assigned,
        tasks_completed=completed,
        donation_vnd=_per_month(unit.donation_vnd, n)[month],
        support_activities=_per_month(unit.support_activities, n)[month],
        units_reporting=1,
        units_rated_good_or_better=int(_good(config, unit.ratings[month])),
    )


def _sum(config: Config, parts: Sequence[Figures]) -> Figures:
    names = [f.name for f in dataclasses.fields(Figures) if f.type in ("int", int)]
    totals = {name: sum(getattr(p, name) for p in parts) for name in names}
    counts = {r.code: sum(p.rating_counts.get(r.code, 0) for p in parts) for r in config.ratings}
    cats = {c.code: sum(p.staff_by_category.get(c.code, 0) for p in parts) for c in config.staff_categories}
    return Figures(**totals, rating_counts=counts, staff_by_category=cats)


_MEASURES = {
    "units_rated_good_or_better": ("units_rated_good_or_better", "units_reporting", None),
    "staff_rated_good_or_better": ("rated_good_or_better", "staff", "rating"),
    "staff_registered": ("registered", "staff", "registered"),
    "staff_social": ("social", "staff", "social"),
    "tasks_completed": ("tasks_completed", "tasks_assigned", None),
}


def _person_fails(config: Config, attr: str, record: MonthRecord) -> bool:
    return not _good(config, record.rating) if attr == "rating" else not getattr(record, attr)


def build_result(
    config: Config,
    units: Sequence[UnitSpec],
    people: Sequence[PersonSpec],
    *,
    months: int | None = None,
    final: bool = False,
    campaign_index: int = 0,
) -> PeriodResult:
    """The result of the `months`-th campaign month (default: as many as the specs have)."""
    campaign = config.campaigns[campaign_index]
    months = months or max(len(u.ratings) for u in units)
    periods = campaign.periods[:months]
    specs = {u.code: u for u in units}
    previous: PeriodResult | None = None
    for m, period in enumerate(periods):
        unit_results = []
        month_people: dict[str, list[tuple[PersonSpec, MonthRecord]]] = {}
        for spec in people:
            unit = specs.get(spec.unit)
            record = spec.month(m) if m < len(spec.ratings) else None
            if record is not None and unit is not None and unit.ratings[m] is not None:
                record = dataclasses.replace(record, period=period)
                month_people.setdefault(spec.unit, []).append((spec, record))
        for unit in config.units:
            spec = specs.get(unit.code)
            reported = spec is not None and spec.ratings[m] is not None
            records = [r for _, r in month_people.get(unit.code, [])]
            if reported:
                n = len(spec.ratings)
                late = _per_month(spec.late, n)[m]
                due = campaign.due_date(period)
                day = due + dt.timedelta(days=2 if late else -1)
                when = dt.datetime(day.year, day.month, day.day, 9, 0, tzinfo=ICT)
                status = ReportingStatus.LATE if late else ReportingStatus.ON_TIME
                highlights = _per_month(spec.highlights, n)[m]
            else:
                errors = spec is not None and _per_month(spec.with_errors, len(spec.ratings))[m]
                status = ReportingStatus.WITH_ERRORS if errors else ReportingStatus.MISSING
                when, highlights = None, ""
            unit_results.append(
                UnitResult(
                    unit_code=unit.code,
                    unit_name=unit.name,
                    status=status,
                    received_at=when,
                    file=f"{period}_{unit.code}_bao-cao-thi-dua.xlsx" if when else None,
                    partial=False,
                    self_rating=spec.ratings[m] if reported else None,
                    figures=_figures(config, spec if reported else None, m, records),
                    highlights=highlights,
                )
            )
        totals = _sum(config, [u.figures for u in unit_results if u.figures.units_reporting])
        targets = []
        for target in campaign.targets:
            num_attr, den_attr, person_attr = _MEASURES[target.measure]
            num, den = getattr(totals, num_attr), getattr(totals, den_attr)
            reported = sum(u.figures.units_reporting for u in unit_results)
            verdict = expected_verdict(num, den, target.share, target.measure, reported, len(unit_results))
            blocking_units, blocking_people = [], []
            if den and Fraction(num, den) < target.share:
                for u in unit_results:
                    f = u.figures
                    den_u = getattr(f, den_attr)
                    if f.units_reporting and den_u and Fraction(getattr(f, num_attr), den_u) < target.share:
                        blocking_units.append(u.unit_code)
                        if person_attr:
                            blocking_people += [
                                (u.unit_code, s.name)
                                for s, r in month_people.get(u.unit_code, [])
                                if _person_fails(config, person_attr, r)
                            ]
            targets.append(
                TargetResult(
                    target.id,
                    target.label,
                    target.measure,
                    target.share,
                    num,
                    den,
                    Verdict(verdict),
                    reported,
                    len(unit_results),
                    tuple(blocking_units),
                    tuple(blocking_people),
                )
            )
        histories = []
        for spec in people:
            records = []
            for i, period_i in enumerate(periods[: m + 1]):
                unit = specs.get(spec.unit)
                record = spec.month(i) if i < len(spec.ratings) else None
                if record is not None and unit is not None and unit.ratings[i] is not None:
                    records.append(dataclasses.replace(record, period=period_i))
            if records:
                histories.append(
                    PersonHistory(
                        key=person_key(spec.name, spec.birth),
                        unit_code=spec.unit,
                        name=spec.name,
                        birth_date=spec.birth,
                        position=spec.position,
                        category=spec.category,
                        months=tuple(records),
                    )
                )
        unit_histories = []
        for unit in config.units:
            spec = specs.get(unit.code)
            months_done = []
            assigned = completed = 0
            if spec is not None:
                for i, period_i in enumerate(periods[: m + 1]):
                    if spec.ratings[i] is not None:
                        months_done.append(MonthRecord(period=period_i, rating=spec.ratings[i]))
                        a, c = spec.tasks_at(i)
                        assigned, completed = assigned + a, completed + c
            unit_histories.append(UnitHistory(unit.code, unit.name, tuple(months_done), assigned, completed))
        previous = PeriodResult(
            campaign_id=campaign.id,
            period=period,
            periods_to_date=tuple(periods[: m + 1]),
            units=tuple(unit_results),
            totals=totals,
            targets=tuple(targets),
            previous=previous,
            people=tuple(histories),
            unit_histories=tuple(unit_histories),
            submissions=(),
            final=final and m == months - 1,
        )
    assert previous is not None
    return previous


# ------------------------------------------------------------------------------------------------
# A realistic office for the render tests and the page images in docs/images/

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MIDDLE = ["Văn", "Thị", "Đức", "Thu", "Minh", "Quốc", "Thanh", "Ngọc", "Hữu", "Thị Thu", "Xuân", "Hồng"]
GIVEN = [
    "An", "Anh", "Ánh", "Bình", "Chi", "Cường", "Dũng", "Duyên", "Đạt", "Giang", "Hà", "Hải", "Hạnh",
    "Hòa", "Hùng", "Huyền", "Khánh", "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Ngọc", "Phương",
    "Quân", "Sơn", "Tâm", "Thảo", "Thắng", "Thủy", "Trang", "Tuấn", "Uyên", "Vân", "Yến",
]  # fmt: skip
POSITIONS = ["Chuyên viên", "Chuyên viên chính", "Phó Trưởng phòng", "Trưởng phòng", "Nhân viên"]
HIGHLIGHTS = [
    "Tham mưu kịp thời các văn bản chỉ đạo điều hành của UBND tỉnh; không có văn bản chậm muộn.",
    "Hoàn thành 100% hồ sơ thủ tục hành chính đúng hạn; triển khai ký số toàn bộ văn bản đi.",
    "Tổ chức thành công hội nghị giao ban; phối hợp tốt với các sở, ngành.",
    "Ủng hộ đồng bào bị thiên tai và giúp đỡ xã Bản Xèo xây dựng nông thôn mới.",
]


def office_result(
    config: Config,
    months: int = 3,
    *,
    final: bool = False,
    seed: int = 2024,
    model_units: Sequence[str] = ("TH", "KSTT"),
) -> PeriodResult:
    """The office's units over `months` months, with the mistakes and gaps real months have.

    `model_units` do everything right (rated excellent, every person good or better, registered and
    taking part, all tasks done), so the campaign's collective Giấy khen has someone to go to.
    """
    rng = random.Random(seed)
    n = len(config.campaigns[0].periods)
    units, people = [], []
    used: set[str] = set()
    for index, unit in enumerate(config.units):
        model = unit.code in model_units
        ratings: list[str | None] = [rng.choice(["HTXSNV", "HTXSNV", "HTTNV"]) for _ in range(n)]
        if model:
            ratings = ["HTXSNV"] * n
        late = tuple(rng.random() < 0.15 for _ in range(n))
        if index == 4:
            ratings[1] = None  # one unit misses the second month
        if index == 7:
            ratings[-1] = None  # and another the last
        units.append(
            UnitSpec(
                code=unit.code,
                ratings=tuple(ratings),
                tasks=tuple(
                    (a, a - (not model and rng.random() < 0.2)) for a in (rng.randint(2, 8) for _ in range(n))
                ),
                late=late,
                with_errors=index == 7,
                highlights=tuple(rng.choice([*HIGHLIGHTS, ""]) for _ in range(n)),
                donation_vnd=tuple(rng.choice([0, 500_000, 1_500_000, 2_000_000]) for _ in range(n)),
                support_activities=tuple(rng.randint(0, 2) for _ in range(n)),
            )
        )
        for j in range(rng.randint(4, 9)):
            while True:
                name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
                if name not in used:
                    used.add(name)
                    break
            excellent = rng.random() < 0.45
            steady = model or rng.random() < 0.5
            person_ratings = tuple(
                rng.choice(["HTXSNV", "HTXSNV", "HTXSNV", "HTTNV"])
                if excellent
                else rng.choice(["HTTNV", "HTTNV", "HTTNV", "HTTNV", "HTNV"] if not model else ["HTTNV"])
                for _ in range(n)
            )
            people.append(
                PersonSpec(
                    name=name,
                    unit=unit.code,
                    ratings=person_ratings,
                    registered=tuple(steady or rng.random() > 0.08 for _ in range(n)),
                    social=tuple(steady or rng.random() > 0.1 for _ in range(n)),
                    initiatives=tuple(rng.choice([0, 0, 0, 1]) for _ in range(n)),
                    discipline="Không",
                    position=POSITIONS[3] if j == 0 else rng.choice([*POSITIONS[:3], POSITIONS[4]]),
                    birth=dt.date(rng.randint(1968, 1998), rng.randint(1, 12), rng.randint(1, 28)),
                )
            )
    return build_result(config, units, people, months=months, final=final)
