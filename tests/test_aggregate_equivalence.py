"""aggregate's and commend's fast paths against plain reference loops, on messy random inboxes.

aggregate shares equal month histories between people, finds a person by spelling through one slot
and compares shares in integers; commend judges each distinct history
once. The references below are the straightforward loops those replaced: every record must come out the
same, down to its repr (types and order included).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import unicodedata
from fractions import Fraction

import pytest

from processor import commend
from processor.aggregate import aggregate, month_results, reporting
from processor.config import Config
from processor.records import (
    Figures,
    FileStatus,
    MonthRecord,
    PeriodResult,
    PersonHistory,
    UnitHistory,
)
from processor.vntext import person_key
from tests.factories import Row, at, report, submission, with_units

# ------------------------------------------------------------------------------------------------
# Person keys: aggregate keys people by vntext.person_key itself (no fast path of its own to check).


def test_person_keys_fold_tone_placement_and_case_alike():
    born = dt.date(1980, 1, 2)
    assert person_key("Nguyễn Văn Hoà", born) == person_key("nguyễn văn hòa", born)
    assert person_key("Nguyễn  Văn Hoà ", None) == person_key("Nguyễn Văn Hòa", None)


# ------------------------------------------------------------------------------------------------
# A messy province: people move, leave and come back, are spelled several ways, and are listed by two
# units in one month; units miss months, file late or with errors.

_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi")
_MIDDLE = ("Văn", "Thị", "Hữu", "Thuỳ", "Quốc")
_GIVEN = ("Hoà", "Thuỷ", "Khoẻ", "Mai", "Lan", "Hùng", "Tuấn", "Huệ", "Quý", "Ngọc")
_RATINGS = ("HTXSNV", "HTTNV", "HTTNV", "HTNV", "KHTNV")
_DISCIPLINES = ("Không", "Không", "Không", "Khiển trách", "Cảnh cáo")


def _spellings(name: str) -> list[str]:
    """Ways a clerk may type one name: tone moved, lower case, spaces doubled, decomposed."""
    moved = name.replace("oà", "òa").replace("uỷ", "ủy").replace("oẻ", "ỏe").replace("uý", "úy")
    return [name, moved, name.lower(), name.replace(" ", "  ", 1), unicodedata.normalize("NFD", name)]


def _province(config: Config, seed: int, units: int = 9, people: int = 70):
    rng = random.Random(seed)
    cfg = with_units(config, [(f"U{i:02d}", f"Đơn vị {i}") for i in range(units)])
    campaign = cfg.campaigns[0]
    pool = [
        (
            f"{rng.choice(_FAMILY)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}",
            dt.date(1970 + i % 30, 1 + i % 12, 1 + i % 28),
        )
        for i in range(people)
    ]
    home = {i: rng.randrange(units) for i in range(people)}
    subs = []
    for month in campaign.periods:
        due = campaign.due_date(month)
        staff: dict[int, list[int]] = {u: [] for u in range(units)}
        for i in range(people):
            if i % 3 and rng.random() < 0.1:
                home[i] = rng.randrange(units)  # moved
            if i % 3 == 0 or rng.random() < 0.85:  # else absent this month
                staff[home[i]].append(i)
            if rng.random() < 0.04:
                staff[rng.randrange(units)].append(i)  # listed by a second unit too
        for u, unit in enumerate(cfg.units):
            model = u % 2 == 0  # a unit of exemplary people, some of whom earn awards
            roll = rng.random() if not model else 0.2 + rng.random() * 0.8
            if roll < 0.1:
                continue  # nothing received
            rng.shuffle(staff[u])
            rows = [
                Row(
                    rng.choice(_spellings(pool[i][0])),
                    pool[i][1],
                    rating=rng.choice(
                        ("HTXSNV", "HTXSNV", "HTXSNV", "HTTNV") if model and i % 3 == 0 else _RATINGS
                    ),
                    registered=(model and i % 3 == 0) or rng.random() < 0.9,
                    social=(model and i % 3 == 0) or rng.random() < 0.9,
                    initiatives=rng.choice((0, 0, 0, 0, 1, 2)),
                    discipline="Không" if model and i % 3 == 0 else rng.choice(_DISCIPLINES),
                    category=rng.choice(("CC", "VC", "HĐLĐ", "XX")),  # XX: a code outside config
                    position=rng.choice(("Chuyên viên", "Trưởng phòng")),
                )
                for i in staff[u]
            ]
            unit_report = report(
                unit,
                month,
                rows,
                self_rating="HTXSNV" if model and roll > 0.5 else rng.choice((*_RATINGS, None)),
                tasks=(4, 4) if model else rng.choice(((0, 0), (4, 4), (5, 3), (3, 3))),
            )
            when = at(due - dt.timedelta(days=1) if rng.random() < 0.8 else due + dt.timedelta(days=2))
            status = FileStatus.REJECTED if roll < 0.18 else FileStatus.ACCEPTED
            subs.append(
                submission(unit_report, when, status=status, errors=int(status is FileStatus.REJECTED))
            )
    return cfg, subs


# ------------------------------------------------------------------------------------------------
# The reference loops


def _plain_people(config: Config, result: PeriodResult) -> tuple[PersonHistory, ...]:
    roster_index = {unit.code: i for i, unit in enumerate(config.units)}
    months: dict[str, list[MonthRecord]] = {}
    latest: dict[str, tuple] = {}
    for month in month_results(result):
        reports = [(u.unit_code, s.report) for u in month.units for s in _used(month, u.unit_code)]
        seen: set[str] = set()
        for code, unit_report in reports:
            for row_index, p in enumerate(unit_report.people):
                key = person_key(p.name, p.birth_date)
                if key in seen:
                    continue
                seen.add(key)
                record = MonthRecord(
                    month.period, p.rating, p.registered, p.social, p.initiatives, p.discipline
                )
                months.setdefault(key, []).append(record)
                latest[key] = (p, code, (roster_index[code], row_index))
    ordered = sorted(latest.items(), key=lambda item: item[1][2])
    return tuple(
        PersonHistory(key, code, p.name, p.birth_date, p.position, p.category, tuple(months[key]))
        for key, (p, code, _) in ordered
    )


def _used(month: PeriodResult, unit_code: str) -> list:
    unit = next(u for u in month.units if u.unit_code == unit_code)
    if unit.file is None or unit.figures.units_reporting == 0:
        return []
    return [s for s in month.submissions if s.period == month.period and s.file.display_name == unit.file]


def _plain_figures(config: Config, unit_report) -> Figures:
    by_category = {c.code: 0 for c in config.staff_categories}
    rating_counts = {r.code: 0 for r in config.ratings}
    good_rank = config.rating_rank(config.good_rating)
    good = {r.code for r in config.ratings[: good_rank + 1]}
    punished = {level for level in config.disciplines.levels if config.discipline_rank(level) > 0}
    counts = dict.fromkeys(("registered", "rated", "social", "initiatives", "disciplined"), 0)
    for p in unit_report.people:
        by_category[p.category] = by_category.get(p.category, 0) + 1
        rating_counts[p.rating] = rating_counts.get(p.rating, 0) + 1
        counts["registered"] += p.registered
        counts["social"] += p.social
        counts["initiatives"] += p.initiatives
        counts["rated"] += p.rating in good
        counts["disciplined"] += p.discipline in punished
    return Figures(
        staff=len(unit_report.people),
        staff_by_category=by_category,
        registered=counts["registered"],
        rated_good_or_better=counts["rated"],
        rating_counts=rating_counts,
        social=counts["social"],
        initiatives=counts["initiatives"],
        disciplined=counts["disciplined"],
        tasks_assigned=unit_report.tasks_assigned,
        tasks_completed=unit_report.tasks_completed,
        donation_vnd=unit_report.donation_vnd,
        support_activities=unit_report.support_activities,
        units_reporting=1,
        units_rated_good_or_better=int(unit_report.self_rating in good),
    )


_PEOPLE_FAIL = {
    "staff_rated_good_or_better": lambda good, p: p.rating not in good,
    "staff_registered": lambda good, p: not p.registered,
    "staff_social": lambda good, p: not p.social,
}
_SHARES = {
    "units_rated_good_or_better": ("units_rated_good_or_better", "units_reporting"),
    "staff_rated_good_or_better": ("rated_good_or_better", "staff"),
    "staff_registered": ("registered", "staff"),
    "staff_social": ("social", "staff"),
    "tasks_completed": ("tasks_completed", "tasks_assigned"),
}


def _plain_blocking(config: Config, month: PeriodResult) -> list[tuple[tuple, tuple]]:
    good_rank = config.rating_rank(config.good_rating)
    good = {r.code for r in config.ratings[: good_rank + 1]}
    out = []
    for target in month.targets:
        units, people = [], []
        if target.value is not None and target.value < target.threshold:
            num, den = _SHARES[target.measure]
            for unit in month.units:
                f = unit.figures
                if (
                    f.units_reporting
                    and getattr(f, den)
                    and Fraction(getattr(f, num), getattr(f, den)) < target.threshold
                ):
                    units.append(unit.unit_code)
                    fails = _PEOPLE_FAIL.get(target.measure)
                    if fails:
                        (used,) = _used(month, unit.unit_code)
                        people += [(unit.unit_code, p.name) for p in used.report.people if fails(good, p)]
        out.append((tuple(units), tuple(people)))
    return out


def _plain_unit_histories(config: Config, result: PeriodResult) -> tuple[UnitHistory, ...]:
    out = []
    chain = month_results(result)
    for unit in config.units:
        months, assigned, completed = [], 0, 0
        for month in chain:
            used = _used(month, unit.code)
            if used:
                months.append(MonthRecord(period=month.period, rating=used[0].report.self_rating))
                assigned += used[0].report.tasks_assigned
                completed += used[0].report.tasks_completed
        out.append(UnitHistory(unit.code, unit.name, tuple(months), assigned, completed))
    return tuple(out)


@pytest.mark.parametrize("seed", range(6))
def test_every_month_matches_the_plain_loops(config, seed):
    cfg, subs = _province(config, seed)
    result = aggregate(cfg, cfg.campaigns[0].periods[-1], subs)
    for month in month_results(result):
        assert repr(month.people) == repr(_plain_people(cfg, month))
        assert repr(month.unit_histories) == repr(_plain_unit_histories(cfg, month))
        for unit in month.units:
            used = _used(month, unit.unit_code)
            if used:
                assert repr(unit.figures) == repr(_plain_figures(cfg, used[0].report))
        got = [(t.blocking_units, t.blocking_people) for t in month.targets]
        assert got == _plain_blocking(cfg, month)
    # The inbox is messy enough to reach the paths that matter.
    spellings = {(p.name, p.birth_date) for s in subs if s.report for p in s.report.people}
    assert len(spellings) > len(result.people) > 0
    assert any(len(p.months) < len(result.periods_to_date) for p in result.people)
    assert any(t.blocking_people for t in result.targets)


def test_status_reporting_is_that_of_the_full_run(config):
    cfg, subs = _province(config, 7)
    for period in cfg.campaigns[0].periods:
        full, status = aggregate(cfg, period, subs), reporting(cfg, period, subs)
        assert [
            (u.unit_code, u.unit_name, u.status, u.received_at, u.file, u.partial) for u in full.units
        ] == [(u.unit_code, u.unit_name, u.status, u.received_at, u.file, u.partial) for u in status.units]
        assert status.submissions == tuple(s for s in full.submissions if s.period in (period, None))


# ------------------------------------------------------------------------------------------------
# commend: people sharing one months tuple are judged as people with equal, separate tuples


def _unshared(result: PeriodResult) -> PeriodResult:
    people = tuple(dataclasses.replace(p, months=tuple(list(p.months))) for p in result.people)
    return dataclasses.replace(result, people=people)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("rule_set", [0, 1])
def test_decisions_do_not_depend_on_shared_histories(config, seed, rule_set):
    cfg, subs = _province(config, seed, units=8, people=90)
    rule_sets = [
        dataclasses.replace(
            rs,
            awards=[
                dataclasses.replace(a, quota_percent=40) if "requires_award" in a.criteria else a
                for a in rs.awards
            ],
        )
        for rs in cfg.rule_sets
    ]
    cfg = dataclasses.replace(cfg, rule_sets=rule_sets)
    result = aggregate(cfg, cfg.campaigns[0].periods[-1], subs, final=True)
    shared = sum(1 for a in result.people for b in result.people if a is not b and a.months is b.months)
    assert shared, "equal histories are one tuple"
    rule_set_id = cfg.rule_sets[rule_set].id
    decisions = commend.decide(cfg, result, rule_set_id)
    assert repr(decisions) == repr(commend.decide(cfg, _unshared(result), rule_set_id))
    assert any(d.proposed for d in decisions) and any(not d.proposed for d in decisions)


# ------------------------------------------------------------------------------------------------
# What the earlier months hold


def _without_histories(result: PeriodResult | None) -> PeriodResult | None:
    if result is None:
        return None
    return dataclasses.replace(
        result, people=(), unit_histories=(), previous=_without_histories(result.previous)
    )


@pytest.mark.parametrize("seed", range(3))
def test_earlier_months_figures_leave_the_month_itself_alone(config, seed):
    cfg, subs = _province(config, seed)
    for period in cfg.campaigns[0].periods:
        full = aggregate(cfg, period, subs, final=True)
        figures = aggregate(cfg, period, subs, final=True, earlier="figures")
        assert repr(figures.people) == repr(full.people) and figures.unit_histories == full.unit_histories
        assert dataclasses.replace(figures, previous=None) == dataclasses.replace(full, previous=None)
        assert figures.previous == _without_histories(full.previous)
    with pytest.raises(ValueError):
        aggregate(cfg, period, subs, earlier="none")
