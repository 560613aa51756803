"""Aggregate: from the validated submissions of the inbox to the figures of one month.

Pure: no I/O. The input is every submission of the inbox (all months, all statuses); the output is a
`PeriodResult` for the requested month, chained through `previous` to the first month of the campaign,
so month-on-month change and the campaign-to-date history come from one linear pass over the rows.

Rules (the DHIS2 "reporting rate" idea applied to the monthly form):
- a unit's report for a month is its ACCEPTED submission (or ACCEPTED_PARTIAL with ``accept_partial``);
  when there are several (ingest normally leaves one), the latest received counts;
- without a usable report, a REJECTED submission (or ACCEPTED_PARTIAL without ``accept_partial``) makes
  the unit WITH_ERRORS, otherwise it is MISSING; neither contributes figures;
- a usable report received after the campaign's due date is LATE, else ON_TIME;
- SUPERSEDED, DUPLICATE, UNREADABLE and OTHER_PERIOD submissions are never counted.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from processor.config import MEASURES, Campaign, Config, Unit
from processor.records import (
    Figures,
    FileStatus,
    MonthRecord,
    Period,
    PeriodResult,
    PersonHistory,
    PersonRecord,
    ReportingResult,
    ReportingStatus,
    Submission,
    TargetResult,
    UnitHistory,
    UnitReport,
    UnitReporting,
    UnitResult,
    Verdict,
)
from processor.vntext import format_int, format_percent, person_key

# Vietnamese labels of the reporting statuses, shared by every rendered view.
STATUS_LABELS = {
    ReportingStatus.ON_TIME: "Đúng hạn",
    ReportingStatus.LATE: "Nộp muộn",
    ReportingStatus.WITH_ERRORS: "Nộp nhưng có lỗi",
    ReportingStatus.MISSING: "Chưa nộp",
}

# Countable figures of `Figures` in display order, with their Vietnamese labels.
FIGURE_LABELS = {
    "units_reporting": "Số đơn vị có báo cáo",
    "units_rated_good_or_better": "Số đơn vị tự đánh giá hoàn thành tốt nhiệm vụ trở lên",
    "staff": "Tổng số cán bộ, công chức, viên chức, người lao động",
    "registered": "Số người đăng ký thi đua",
    "rated_good_or_better": "Số người hoàn thành tốt nhiệm vụ trở lên",
    "social": "Số người tham gia hoạt động xã hội",
    "initiatives": "Số sáng kiến, giải pháp",
    "disciplined": "Số người bị kỷ luật",
    "tasks_assigned": "Số nhiệm vụ cấp trên giao",
    "tasks_completed": "Số nhiệm vụ đã hoàn thành",
    "donation_vnd": "Số tiền ủng hộ đồng bào bị thiên tai (đồng)",
    "support_activities": "Số hoạt động giúp đỡ xã nghèo, xây dựng nông thôn mới",
}

_USABLE = {FileStatus.ACCEPTED}
_USABLE_PARTIAL = {FileStatus.ACCEPTED, FileStatus.ACCEPTED_PARTIAL}


# ------------------------------------------------------------------------------------------------
# Measures: how a target's numerator and denominator come out of a unit's figures, and which people
# keep it from being met. A target in config names one of these (config.MEASURES); none is hard-coded.


@dataclass(frozen=True)
class _Measure:
    numerator: Callable[[Figures], int]
    denominator: Callable[[Figures], int]
    # (codes rated good or better, a report's people) -> those falling short; None: not about people.
    # One comprehension per unit, not one call per person: a missed target can list thousands.
    people_failing: Callable[[frozenset[str], Sequence[PersonRecord]], list[PersonRecord]] | None
    # What a unit adds to the denominator when it reports: 1 for a measure over units; None when it is
    # its own count (staff, tasks), unknown until its report comes.
    unit_denominator: int | None = None


def _good_codes(config: Config) -> frozenset[str]:
    """Rating codes at "Hoàn thành tốt nhiệm vụ" or better (config order is best first)."""
    good_rank = config.rating_rank(config.good_rating)
    return frozenset(r.code for r in config.ratings[: good_rank + 1])


_MEASURE_DEFS: dict[str, _Measure] = {
    "units_rated_good_or_better": _Measure(
        lambda f: f.units_rated_good_or_better, lambda f: f.units_reporting, None, unit_denominator=1
    ),
    "staff_rated_good_or_better": _Measure(
        lambda f: f.rated_good_or_better,
        lambda f: f.staff,
        lambda good, people: [p for p in people if p.rating not in good],
    ),
    "staff_registered": _Measure(
        lambda f: f.registered,
        lambda f: f.staff,
        lambda good, people: [p for p in people if not p.registered],
    ),
    "staff_social": _Measure(
        lambda f: f.social, lambda f: f.staff, lambda good, people: [p for p in people if not p.social]
    ),
    "tasks_completed": _Measure(lambda f: f.tasks_completed, lambda f: f.tasks_assigned, None),
}
assert set(_MEASURE_DEFS) == set(MEASURES), "every measure config accepts must be computed here"


def is_person_measure(measure: str) -> bool:
    return _MEASURE_DEFS[measure].people_failing is not None


# ------------------------------------------------------------------------------------------------
# Choosing each unit's report for each month


@dataclass(frozen=True)
class _Pick:
    usable: Submission | None
    rejected: Submission | None


_NO_PICK = _Pick(None, None)


def _order(sub: Submission) -> tuple:
    # Deterministic whatever the inbox order; timestamp() copes with naive and aware datetimes.
    return (sub.file.received_at.timestamp(), sub.file.display_name, sub.file.sha256)


def _picks(
    config: Config, periods: Sequence[Period], submissions: Sequence[Submission], accept_partial: bool
) -> list[dict[str, _Pick]]:
    """The pick of each unit (by roster code) for each month of `periods`, in that order."""
    usable_statuses = _USABLE_PARTIAL if accept_partial else _USABLE
    # Months as numbers: a Period's hash and equality are Python code, and every look-up pays them.
    month_of = {p: i for i, p in enumerate(periods)}
    roster = {unit.code.upper(): unit.code for unit in config.units}
    usable: list[dict[str, Submission]] = [{} for _ in periods]
    rejected: list[dict[str, Submission]] = [{} for _ in periods]
    for sub in submissions:
        month = month_of.get(sub.period)
        if month is None or not sub.unit_code:
            continue
        code = roster.get(sub.unit_code.upper())
        if code is None:
            continue
        if sub.status in usable_statuses and sub.report is not None:
            bucket = usable[month]
        elif sub.status in (FileStatus.REJECTED, FileStatus.ACCEPTED_PARTIAL):
            bucket = rejected[month]
        else:
            continue
        current = bucket.get(code)
        if current is None or _order(sub) > _order(current):
            bucket[code] = sub
    return [
        {code: _Pick(good.get(code), bad.get(code)) for code in good.keys() | bad.keys()}
        for good, bad in zip(usable, rejected, strict=True)
    ]


def _relevant(periods: Sequence[Period], submissions: Sequence[Submission]) -> list[tuple[int, Submission]]:
    """The inputs the months' results are made from: (month number in `periods`, file) for the months'
    files, (-1, file) for files whose month is unknown; in the order each month's result lists them."""
    month_of = {p: i for i, p in enumerate(periods)}
    chosen = []
    for sub in submissions:
        month = -1 if sub.period is None else month_of.get(sub.period)
        if month is not None:
            chosen.append((month, sub))
    chosen.sort(key=_input_order)
    return chosen


def _input_order(item: tuple[int, Submission]) -> tuple:
    sub = item[1]
    return (str(sub.period) if sub.period else "9999-99", (sub.unit_code or "").upper(), _order(sub))


# ------------------------------------------------------------------------------------------------
# Figures


class _Counting:
    """What counting a report needs from config, worked out once per aggregate, not once per report."""

    def __init__(self, config: Config) -> None:
        self.categories = {c.code: 0 for c in config.staff_categories}
        self.ratings = {r.code: 0 for r in config.ratings}
        self.good = _good_codes(config)
        self.punished = frozenset(
            level for level in config.disciplines.levels if config.discipline_rank(level) > 0
        )

    def figures(self, report: UnitReport) -> Figures:
        by_category = self.categories.copy()
        rating_counts = self.ratings.copy()
        registered = social = initiatives = disciplined = 0
        punished = self.punished
        # One pass reading each row once: 150,000 rows a run, and touching a row is what costs.
        for person in report.people:
            try:
                by_category[person.category] += 1
            except KeyError:  # a code config does not know comes last, as a dict keeps order
                by_category[person.category] = 1
            try:
                rating_counts[person.rating] += 1
            except KeyError:
                rating_counts[person.rating] = 1
            registered += person.registered
            social += person.social
            initiatives += person.initiatives
            disciplined += person.discipline in punished
        good = self.good
        return Figures(
            staff=len(report.people),
            staff_by_category=by_category,
            registered=registered,
            rated_good_or_better=sum(count for rating, count in rating_counts.items() if rating in good),
            rating_counts=rating_counts,
            social=social,
            initiatives=initiatives,
            disciplined=disciplined,
            tasks_assigned=report.tasks_assigned,
            tasks_completed=report.tasks_completed,
            donation_vnd=report.donation_vnd,
            support_activities=report.support_activities,
            units_reporting=1,
            units_rated_good_or_better=int(report.self_rating in good),
        )

    def empty(self) -> Figures:
        return Figures(staff_by_category=self.categories.copy(), rating_counts=self.ratings.copy())


def unit_figures(config: Config, report: UnitReport) -> Figures:
    """The countable figures of one unit's report."""
    return _Counting(config).figures(report)


def empty_figures(config: Config) -> Figures:
    """Zero figures with every category and rating level present (a unit with no usable report)."""
    return _Counting(config).empty()


def _add_counts(total: dict[str, int], part: dict[str, int]) -> None:
    for key, value in part.items():
        total[key] = total.get(key, 0) + value


def sum_figures(config: Config, parts: Sequence[Figures]) -> Figures:
    by_category = {c.code: 0 for c in config.staff_categories}
    rating_counts = {r.code: 0 for r in config.ratings}
    sums = dict.fromkeys(FIGURE_LABELS, 0)
    for part in parts:
        _add_counts(by_category, part.staff_by_category)
        _add_counts(rating_counts, part.rating_counts)
        for name in sums:
            sums[name] += getattr(part, name)
    return Figures(staff_by_category=by_category, rating_counts=rating_counts, **sums)


def _share(numerator: int, denominator: int) -> Fraction | None:
    return Fraction(numerator, denominator) if denominator else None


def _below(numerator: int, denominator: int, threshold: Fraction) -> bool:
    """numerator/denominator < threshold for a positive denominator, in integers (1,000 units a month)."""
    if denominator > 0:
        return numerator * threshold.denominator < threshold.numerator * denominator
    return Fraction(numerator, denominator) < threshold


# The office-level verdicts: every rendered view (console, tong-hop.xlsx, summary.json, the documents)
# takes a target's verdict from `judge_target` and its words from here, never judges on its own.
VERDICT_LABELS = {
    Verdict.MET: "Đạt",
    Verdict.NOT_MET: "Chưa đạt",
    Verdict.INSUFFICIENT_DATA: "Chưa đủ số liệu",
    Verdict.NOT_APPLICABLE: "Không phát sinh",
}


def judge_target(
    numerator: int,
    denominator: int,
    threshold: Fraction,
    *,
    units_reported: int,
    units_required: int,
    unit_denominator: int | None,
) -> Verdict:
    """The verdict on one office-level target: only what the month's data prove.

    `numerator`/`denominator` are summed over the `units_reported` units with a usable report; the
    other m = `units_required` - `units_reported` (not reported, or their report unusable) will each add
    their own n' <= d' (every measure counts part of a whole: people among the staff, units among the
    units, tasks done among those assigned, as validation rejects more done than assigned). A verdict
    must hold whatever reports those m units send:

    - complete data (m = 0): the share decides; no denominator at all is NOT_APPLICABLE, not met;
    - no unit reported: INSUFFICIENT_DATA, whatever the threshold (nothing is judged on no data);
    - a measure over units (`unit_denominator` 1): the final share lies between n/(d+m) (every missing
      unit falls short) and (n+m)/(d+m) (every one meets it), both reachable. MET when the lower one
      reaches the threshold, NOT_MET when the upper one stays below it;
    - a measure over people or tasks (`unit_denominator` None): the missing units' d' is not in the data
      and has no bound. With large d' and nothing done the share sinks as near 0 as they like, so MET is
      proven only for a 0% threshold. With large d' all done it climbs as near 100% as they like, but
      while n < d it never reaches 100% (and with d' = 0 it stays n/d): NOT_MET is proven only for a 100%
      threshold that the reported units already miss. With d = 0 so far anything may happen, including
      nothing to measure.

    Otherwise INSUFFICIENT_DATA: the views show the share over what was reported and the coverage.
    """
    missing = units_required - units_reported
    if missing <= 0:
        if denominator == 0:
            return Verdict.NOT_APPLICABLE
        return Verdict.NOT_MET if _below(numerator, denominator, threshold) else Verdict.MET
    if units_reported == 0:
        return Verdict.INSUFFICIENT_DATA
    if unit_denominator is not None:
        most = denominator + missing * unit_denominator
        if not _below(numerator, most, threshold):
            return Verdict.MET
        if _below(numerator + missing * unit_denominator, most, threshold):
            return Verdict.NOT_MET
        return Verdict.INSUFFICIENT_DATA
    if denominator == 0:
        return Verdict.INSUFFICIENT_DATA
    if threshold <= 0:
        return Verdict.MET
    if threshold >= 1 and numerator < denominator:
        return Verdict.NOT_MET
    return Verdict.INSUFFICIENT_DATA


def verdict_label(target: TargetResult) -> str:
    """'Đạt', 'Chưa đạt', 'Chưa đủ số liệu', 'Không phát sinh'."""
    return VERDICT_LABELS[target.verdict]


def coverage_text(target: TargetResult) -> str:
    """'94,8% trên 9/11 đơn vị đã báo cáo': the share over what was reported, and how much that was."""
    reported = f"{format_int(target.units_reported)}/{format_int(target.units_required)} đơn vị đã báo cáo"
    return reported if target.value is None else f"{format_percent(target.value)} trên {reported}"


def verdict_text(target: TargetResult) -> str:
    """The verdict with, when the data are not enough, what there is: 'Chưa đủ số liệu (94,8% trên 9/11
    đơn vị đã báo cáo)'."""
    label = verdict_label(target)
    if target.verdict is Verdict.INSUFFICIENT_DATA:
        return f"{label} ({coverage_text(target)})"
    return label


def assessment_text(target: TargetResult) -> str:
    """The share and the verdict in one phrase: '97,5% (Chưa đạt)', '94,8% trên 9/11 đơn vị đã báo cáo
    (Chưa đủ số liệu)', 'Không phát sinh'."""
    label = verdict_label(target)
    if target.verdict is Verdict.INSUFFICIENT_DATA:
        return f"{coverage_text(target)} ({label})"
    if target.verdict is Verdict.NOT_APPLICABLE:
        return label
    return f"{format_percent(target.value)} ({label})"


def targets_summary(targets: Sequence[TargetResult]) -> str:
    """One clause over all the targets, never claiming more than the verdicts: 'Đạt 5/5 chỉ tiêu thi
    đua', or 'Đạt 3/5 chỉ tiêu thi đua, chưa đạt 1/5, chưa đủ số liệu 1/5 (9/11 đơn vị đã báo cáo)'."""
    total = format_int(len(targets))
    counts = {v: sum(t.verdict is v for t in targets) for v in VERDICT_LABELS}
    shown = [v for v in VERDICT_LABELS if counts[v]]
    if not shown:
        return f"Không có chỉ tiêu thi đua nào (0/{total})"
    parts = [f"{VERDICT_LABELS[v].lower()} {format_int(counts[v])}/{total}" for v in shown]
    parts[0] = f"{parts[0][:1].upper()}{parts[0][1:]} chỉ tiêu thi đua"
    text = ", ".join(parts)
    pending = next((t for t in targets if t.verdict is Verdict.INSUFFICIENT_DATA), None)
    if pending is not None:
        text += (
            f" ({format_int(pending.units_reported)}/{format_int(pending.units_required)} đơn vị đã báo cáo)"
        )
    return text


def _target_results(
    config: Config,
    campaign: Campaign,
    units: Sequence[UnitResult],
    reports: dict[str, UnitReport],
    totals: Figures,
) -> tuple[TargetResult, ...]:
    out = []
    good = _good_codes(config)
    # Every unit of the roster counts toward every target: one without a usable report is data missing.
    units_reported, units_required = len(reports), len(units)
    for target in campaign.targets:
        measure = _MEASURE_DEFS[target.measure]
        threshold = target.share
        numerator, denominator = measure.numerator(totals), measure.denominator(totals)
        verdict = judge_target(
            numerator,
            denominator,
            threshold,
            units_reported=units_reported,
            units_required=units_required,
            unit_denominator=measure.unit_denominator,
        )
        blocking_units: list[str] = []
        blocking_people: list[tuple[str, str]] = []
        if denominator and _below(numerator, denominator, threshold):
            # Only when the reported share misses: a unit below the threshold then keeps it from being met.
            num, den, people_failing = measure.numerator, measure.denominator, measure.people_failing
            for unit in units:
                figures = unit.figures
                if figures.units_reporting == 0:
                    continue
                unit_den = den(figures)
                if unit_den and _below(num(figures), unit_den, threshold):
                    code = unit.unit_code
                    blocking_units.append(code)
                    if people_failing is not None:
                        blocking_people += [
                            (code, p.name) for p in people_failing(good, reports[code].people)
                        ]
        out.append(
            TargetResult(
                target_id=target.id,
                label=target.label,
                measure=target.measure,
                threshold=threshold,
                numerator=numerator,
                denominator=denominator,
                verdict=verdict,
                units_reported=units_reported,
                units_required=units_required,
                blocking_units=tuple(blocking_units),
                blocking_people=tuple(blocking_people),
            )
        )
    return tuple(out)


# ------------------------------------------------------------------------------------------------
# Campaign-to-date histories, built incrementally month by month


class _People:
    """Per-person month records keyed by vntext.person_key: one dict look-up per staff row.

    Most people share their months with many others (same ratings, flags, initiatives), so equal
    histories are one tuple: a person holds the number of their history, and a month's row moves it to
    the number of that history plus this month, found once per distinct (history, month record). Sharing
    the tuple also lets commend judge each distinct history once.
    """

    def __init__(self, roster_index: dict[str, int]) -> None:
        self._roster_index = roster_index
        self._histories: list[tuple[MonthRecord, ...]] = [()]
        # A slot per person, in the order first seen: [roster position of the latest row, key, unit,
        # history number, month number, PersonRecord], updated in place month after month.
        self._slots: dict[str, list] = {}
        # The same spelling recurs every month: folded once, it leads straight to its person's slot.
        self._by_spelling: dict[tuple[str, dt.date | None], list] = {}
        self._month_number = 0

    def add_month(self, period: Period, reports: Sequence[tuple[str, UnitReport]]) -> None:
        self._month_number += 1
        month_number = self._month_number
        by_spelling, histories = self._by_spelling, self._histories  # 50,000 rows a month
        grown: dict[tuple, int] = {}
        for unit_code, report in reports:  # roster order: the first unit listing a person wins
            # (unit index, row index) as one int sorts the same way and costs no tuple per row.
            position = self._roster_index[unit_code] << 32
            for person in report.people:
                spelling = (person.name, person.birth_date)
                slot = by_spelling.get(spelling)
                if slot is None:
                    slot = by_spelling[spelling] = self._slot(spelling)
                if slot[4] == month_number:
                    position += 1
                    continue  # listed twice this month: the first listing counts
                # Validated rows hold bools and ints: equal keys are equal records.
                step = (
                    slot[3],
                    person.rating,
                    person.registered,
                    person.social,
                    person.initiatives,
                    person.discipline,
                )
                try:
                    after = grown[step]
                except KeyError:  # a few hundred distinct (history, record) pairs a month
                    # period, rating, registered, social, initiatives, discipline
                    record = MonthRecord(period, *step[1:])
                    after = grown[step] = len(histories)
                    histories.append((*histories[step[0]], record))
                slot[0] = position
                slot[2] = unit_code
                slot[3] = after
                slot[4] = month_number
                slot[5] = person
                position += 1

    def _slot(self, spelling: tuple[str, dt.date | None]) -> list:
        key = person_key(*spelling)  # its fold remembered per name: resolve's cross-check made most
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = [0, key, "", 0, 0, None]
        return slot

    def snapshot(self) -> tuple[PersonHistory, ...]:
        """People in the order of their latest unit (roster) and row; spelling, unit, position latest."""
        histories = self._histories
        # Stable: equal positions (a person absent since, another in their old row) keep first-seen order.
        ordered = sorted(self._slots.values(), key=_POSITION)
        # key, unit_code, name, birth_date, position, category, months
        return tuple(
            [
                PersonHistory(
                    key,
                    unit_code,
                    person.name,
                    person.birth_date,
                    person.position,
                    person.category,
                    histories[history],
                    person.gender,
                    person.ethnicity,
                    person.recruited_on,
                    person.leader,
                )
                for _, key, unit_code, history, _, person in ordered
            ]
        )


_POSITION = operator.itemgetter(0)


class _Units:
    """Unit histories, extended month by month (a unit's record for a month is its self-rating)."""

    def __init__(self, config: Config) -> None:
        self._units = config.units
        self._state = {unit.code: ((), 0, 0) for unit in config.units}
        self._made: dict[str, UnitHistory] = {}

    def add_month(self, period: Period, reports: dict[str, UnitReport]) -> None:
        state, made = self._state, self._made
        for code, report in reports.items():
            months, assigned, completed = state[code]
            months = (*months, MonthRecord(period=period, rating=report.self_rating))
            state[code] = (months, assigned + report.tasks_assigned, completed + report.tasks_completed)
            made.pop(code, None)

    def snapshot(self) -> tuple[UnitHistory, ...]:
        """Every unit of the roster, in roster order; a unit's history is made again only when it grew."""
        state, made = self._state, self._made
        out = []
        for unit in self._units:
            history = made.get(unit.code)
            if history is None:
                history = made[unit.code] = UnitHistory(unit.code, unit.name, *state[unit.code])
            out.append(history)
        return tuple(out)


# ------------------------------------------------------------------------------------------------
# The stage

# What aggregate computes for the months before the one asked for (see `aggregate`).
Earlier = Literal["full", "figures"]


def aggregate(
    config: Config,
    period: Period,
    submissions: Sequence[Submission],
    *,
    final: bool = False,
    accept_partial: bool = False,
    earlier: Earlier = "full",
) -> PeriodResult:
    """Compute the result of `period` (and, chained through `previous`, of each earlier campaign month).

    `earlier` says what the results of the earlier months hold: "full", each is what aggregating that
    month alone gives; "figures", the same without people and unit histories (50,000 records a month
    that nothing rendered from a month's run reads: it shows earlier months' units, totals and targets).
    `period`'s own result is the same either way. Who reported, without figures: `reporting`.
    Raises UserError (from config.campaign_for) when `period` belongs to no campaign.
    """
    if earlier not in ("full", "figures"):
        raise ValueError(f"earlier={earlier!r}")
    campaign = config.campaign_for(period)
    periods = tuple(p for p in campaign.periods if p <= period)
    picks = _picks(config, periods, submissions, accept_partial)
    counting = _Counting(config)
    people = _People({unit.code: i for i, unit in enumerate(config.units)})
    unit_histories = _Units(config)
    # Sorted once: each month's inputs are a filter of these, in the same order.
    relevant = _relevant(periods, submissions)
    result: PeriodResult | None = None
    for month_index, month in enumerate(periods):
        last = month_index == len(periods) - 1
        month_picks = picks[month_index]
        due = campaign.due_date(month)
        units: list[UnitResult] = []
        reports = {}
        for unit in config.units:
            pick = month_picks.get(unit.code, _NO_PICK)
            seen = _unit_reporting(unit, pick, due)
            report = pick.usable.report if pick.usable is not None else None
            if report is not None:
                reports[unit.code] = report
            units.append(
                UnitResult(
                    seen.unit_code,
                    seen.unit_name,
                    seen.status,
                    seen.received_at,
                    seen.file,
                    seen.partial,
                    self_rating=report.self_rating if report else None,
                    figures=counting.figures(report) if report else counting.empty(),
                    highlights=report.highlights if report else "",
                )
            )
        totals = sum_figures(config, [u.figures for u in units if u.figures.units_reporting])
        # Reports in roster order (as `reports` is): people history and blocking people follow it.
        people.add_month(month, list(reports.items()))
        unit_histories.add_month(month, reports)
        snapshot = last or earlier == "full"
        result = PeriodResult(
            campaign_id=campaign.id,
            period=month,
            periods_to_date=periods[: month_index + 1],
            units=tuple(units),
            totals=totals,
            targets=_target_results(config, campaign, units, reports, totals),
            previous=result,
            people=people.snapshot() if snapshot else (),
            unit_histories=unit_histories.snapshot() if snapshot else (),
            submissions=tuple(sub for number, sub in relevant if number <= month_index),
            accept_partial=accept_partial,
            final=final if month == period else False,
        )
    assert result is not None  # a campaign holds its own month
    return result


# ------------------------------------------------------------------------------------------------
# Views derived from a result (pure, used by the renderers and the CLI)


def month_results(result: PeriodResult) -> list[PeriodResult]:
    """The results of each campaign month up to `result.period`, first month first."""
    chain: list[PeriodResult] = []
    current: PeriodResult | None = result
    while current is not None:
        chain.append(current)
        current = current.previous
    return chain[::-1]


@dataclass(frozen=True)
class Completeness:
    """How many units reported for the month, and how (DHIS2's reporting rate and timeliness)."""

    expected: int
    on_time: int
    late: int
    with_errors: int
    missing: int

    @property
    def submitted(self) -> int:
        """Units with a usable report (on time or late)."""
        return self.on_time + self.late

    @property
    def reporting_rate(self) -> Fraction | None:
        return _share(self.submitted, self.expected)

    @property
    def timeliness_rate(self) -> Fraction | None:
        return _share(self.on_time, self.expected)


def completeness(result: PeriodResult) -> Completeness:
    counts = dict.fromkeys(ReportingStatus, 0)
    for unit in result.units:
        counts[unit.status] += 1
    return Completeness(
        expected=len(result.units),
        on_time=counts[ReportingStatus.ON_TIME],
        late=counts[ReportingStatus.LATE],
        with_errors=counts[ReportingStatus.WITH_ERRORS],
        missing=counts[ReportingStatus.MISSING],
    )


def units_to_remind(result: PeriodResult) -> tuple[UnitResult, ...]:
    """Units with no usable report for the month: missing, or their file has errors."""
    return tuple(
        u for u in result.units if u.status in (ReportingStatus.MISSING, ReportingStatus.WITH_ERRORS)
    )


@dataclass(frozen=True)
class FigureChange:
    """One office-wide figure this month, last month, and the change (None where it does not apply)."""

    key: str  # "staff", "rating_counts.HTXSNV", "target.CT2"
    label: str  # Vietnamese
    kind: str  # "count", "money" or "share"
    current: int | Fraction | None
    previous: int | Fraction | None

    @property
    def change(self) -> int | Fraction | None:
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous


def month_on_month(result: PeriodResult, config: Config | None = None) -> list[FigureChange]:
    """Every office-wide figure and each target's share, this month against the month before.

    With `config`, the rating levels are labelled by their Vietnamese names instead of their codes.
    In the first month of a campaign `previous` (and so `change`) is None. A month in which no unit
    reported has no figures (None, shown "—"), not zeros: only its count of reporting units is known.
    """
    prev = result.previous

    def figure(month: PeriodResult | None, name: str) -> int | None:
        if month is None or (month.totals.units_reporting == 0 and name != "units_reporting"):
            return None
        return getattr(month.totals, name)

    def rated(month: PeriodResult | None, code: str) -> int | None:
        if month is None or month.totals.units_reporting == 0:
            return None
        return month.totals.rating_counts.get(code, 0)

    changes = []
    for name, label in FIGURE_LABELS.items():
        kind = "money" if name == "donation_vnd" else "count"
        changes.append(FigureChange(name, label, kind, figure(result, name), figure(prev, name)))
    for code in result.totals.rating_counts:
        level = config.rating(code).label if config else code
        changes.append(
            FigureChange(
                f"rating_counts.{code}",
                f"Số người xếp loại {level}",
                "count",
                rated(result, code),
                rated(prev, code),
            )
        )
    previous_targets = {t.target_id: t for t in prev.targets} if prev else {}
    for target in result.targets:
        before = previous_targets.get(target.target_id)
        changes.append(
            FigureChange(
                f"target.{target.target_id}",
                f"Tỷ lệ chỉ tiêu {target.target_id}: {target.label}",
                "share",
                target.value,
                before.value if before else None,
            )
        )
    return changes


# ------------------------------------------------------------------------------------------------
# Who reported, without figures (`thidua status`)


def reporting(
    config: Config, period: Period, submissions: Sequence[Submission], *, accept_partial: bool = False
) -> ReportingResult:
    """Each unit's reporting status for `period`, the same as `aggregate` gives, from the month's files
    alone: no figures, so reports may come without their staff rows."""
    due = config.campaign_for(period).due_date(period)
    picks = _picks(config, (period,), submissions, accept_partial)[0]
    units = [_unit_reporting(unit, picks.get(unit.code, _NO_PICK), due) for unit in config.units]
    return ReportingResult(period, tuple(units), tuple(sub for _, sub in _relevant((period,), submissions)))


def _unit_reporting(unit: Unit, pick: _Pick, due: dt.date) -> UnitReporting:
    """On time or late by the day the usable file came; else with errors (a file, none usable) or
    missing. A rejected file is named so the clerk knows which one to have corrected."""
    usable, sub = pick.usable, pick.usable or pick.rejected
    if usable is not None:
        status = ReportingStatus.LATE if usable.file.received_at.date() > due else ReportingStatus.ON_TIME
    else:
        status = ReportingStatus.WITH_ERRORS if sub is not None else ReportingStatus.MISSING
    return UnitReporting(
        unit_code=unit.code,
        unit_name=unit.name,
        status=status,
        received_at=sub.file.received_at if sub else None,
        file=sub.file.display_name if sub else None,
        partial=usable is not None and usable.status is FileStatus.ACCEPTED_PARTIAL,
    )


# ------------------------------------------------------------------------------------------------
# The closing run (tổng kết): what the clerk must know before the tờ trình is written

UNITS_NAMED_IN_NOTICE = 12


def closing_notices(result: PeriodResult, campaign_last: Period, *, requested: bool) -> list[str]:
    """Vietnamese warnings for a closing run (`result.final`): `--final` (`requested`) before the
    campaign's last month `campaign_last` closes it early; units without a usable report leave the
    tờ trình drawn up on incomplete data. Empty for a monthly run."""
    if not result.final:
        return []
    notices = []
    if requested and result.period < campaign_last:
        notices.append(
            f"Lưu ý: --final ở tháng {result.period.label} kết thúc đợt thi đua sớm (đợt kéo dài đến hết "
            f"tháng {campaign_last.label}); báo cáo tổng kết và tờ trình khen thưởng lập theo kết quả đến "
            f"tháng {result.period.label}."
        )
    gaps = units_to_remind(result)
    if gaps:
        names = [f"{u.unit_code} ({STATUS_LABELS[u.status].lower()})" for u in gaps]
        named = ", ".join(names[:UNITS_NAMED_IN_NOTICE])
        if len(names) > UNITS_NAMED_IN_NOTICE:
            named += f" và {format_int(len(names) - UNITS_NAMED_IN_NOTICE)} đơn vị khác"
        notices.append(
            f"Cảnh báo: lần chạy tổng kết còn thiếu số liệu tháng {result.period.label} của "
            f"{format_int(len(gaps))}/{format_int(len(result.units))} đơn vị: {named}. Tờ trình khen thưởng "
            "được lập trên số liệu chưa đầy đủ; các chỉ tiêu chưa kết luận được ghi "
            f"“{VERDICT_LABELS[Verdict.INSUFFICIENT_DATA]}”. Nên nhận đủ báo cáo rồi chạy lại trước khi "
            "trình ký."
        )
    return notices
