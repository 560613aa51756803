"""Commend: who is proposed for which award, and why, from the campaign-to-date record.

Pure: no I/O. The rules are data (config.toml `[[rule_sets]]`); this module only knows how to evaluate
each criterion name config accepts (`config.CRITERIA`), and `CRITERIA` below maps every one of those
names to its function, so a criterion config allows can never be silently skipped.

Order of evaluation:
1. individuals, award by award in chain order (an award that `requires_award` another comes after it);
2. collectives, likewise; their criteria over staff use the individual results of step 1;
3. quota: when an award has `quota_percent`, at most floor(N% of the eligible base) are proposed, in the
   tie-break order, and the rest are listed with the reason;
4. one achievement earns one award: a subject meeting several awards of the rule set is proposed for
   the last one in chain order (the highest) only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from processor.config import Award, Campaign, Config, RuleSet
from processor.records import (
    CriterionOutcome,
    Decision,
    MonthRecord,
    Period,
    PeriodResult,
    PersonHistory,
    UnitHistory,
    UserError,
)
from processor.vntext import format_decimal, format_percent, given_name_sort_key, sort_key

INDIVIDUAL = "individual"
COLLECTIVE = "collective"

# Pseudo-criteria added after the rules: they explain why someone meeting every criterion is not proposed.
QUOTA = "quota"
HIGHER_AWARD = "higher_award"

DEFAULT_TIE_BREAK = {
    INDIVIDUAL: "nhiều tháng xếp loại cao nhất hơn, rồi nhiều sáng kiến hơn, rồi theo tên",
    COLLECTIVE: "nhiều tháng xếp loại cao nhất hơn, rồi tỷ lệ hoàn thành nhiệm vụ cao hơn, rồi theo tên",
}

# Names listed in a reason before "và N người khác": a reason stays one readable line.
_NAMES_IN_REASON = 5


# ------------------------------------------------------------------------------------------------
# Evaluation context


@dataclass
class _Context:
    config: Config
    periods: tuple[Period, ...]
    rule_set: RuleSet
    staff_by_unit: dict[str, list[PersonHistory]]
    earned: dict[str, set[str]] = field(default_factory=dict)  # award id -> keys meeting it within quota
    quota_cut: dict[str, set[str]] = field(default_factory=dict)
    # The profile of each of staff_by_unit's people, in the same order (see `profile`).
    staff_profiles: dict[str, list[int]] = field(default_factory=dict)
    # Problems of one history against one rule, by rule then profile of its months: several awards and
    # the collective criteria ask the same question of 50,000 people, most of whom share their months.
    _problems: dict[tuple, dict[int, list[str]]] = field(default_factory=dict)
    # By id of a months sequence, kept with it, so an id is never mistaken for another object's.
    _views: dict[int, tuple] = field(default_factory=dict)
    _profile_of: dict[int, tuple] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.period_set = frozenset(self.periods)
        self._labels = {r.code: r.label for r in reversed(self.config.ratings)}
        self._at_least: dict[str, str] = {}
        self._profiles: dict[tuple[MonthRecord, ...], int] = {}
        self._profile_months: list[Sequence[MonthRecord]] = []  # a history of each profile
        self._achievements: dict[int, str] = {}
        self._fails: dict[tuple, dict[int, int]] = {}  # rule -> profile -> 1 when it has problems

    def award(self, award_id: str) -> Award | None:
        return next((a for a in self.rule_set.awards if a.id == award_id), None)

    def award_name(self, award_id: str) -> str:
        award = self.award(award_id)
        return award.name if award else award_id

    def rating_label(self, code: str | None) -> str:
        if code is None:
            return "chưa xếp loại"
        return self._labels.get(code, code)

    def rank(self, code: str | None) -> int:
        return self.config.rating_rank(code)

    def at_least(self, code: str) -> str:
        """'hoàn thành tốt nhiệm vụ trở lên'; the top level needs no 'trở lên'."""
        text = self._at_least.get(code)
        if text is None:
            phrase = _lower_first(self.rating_label(code))
            text = self._at_least[code] = phrase if self.rank(code) == 0 else f"{phrase} trở lên"
        return text

    def view(self, months: Sequence[MonthRecord]) -> tuple[tuple, tuple[MonthRecord, ...]]:
        """(the record of each campaign month to date or None, the records within those months).

        Built once per history: looking periods up is what the criteria spend their time on.
        """
        entry = self._views.get(id(months))
        if entry is not None and entry[0] is months:
            return entry[1], entry[2]
        records = _by_period(months)
        aligned = tuple(records.get(period) for period in self.periods)
        inside = tuple(m for m in months if m.period in self.period_set)
        self._views[id(months)] = (months, aligned, inside)
        return aligned, inside

    def profile(self, months: Sequence[MonthRecord]) -> int:
        """A number shared by every history with equal months (equal records, hence equal outcomes)."""
        entry = self._profile_of.get(id(months))
        if entry is not None and entry[0] is months:
            return entry[1]
        number = self._profiles.setdefault(tuple(months), len(self._profiles))
        if number == len(self._profile_months):
            self._profile_months.append(months)
        self._profile_of[id(months)] = (months, number)
        return number

    def problems(
        self,
        months: Sequence[MonthRecord],
        rule: tuple,
        compute: Callable[[Sequence[MonthRecord]], list[str]],
    ) -> list[str]:
        """compute(months), judged once per profile and rule."""
        table = self._problems.get(rule)
        if table is None:
            table = self._problems[rule] = {}
        profile = self.profile(months)
        found = table.get(profile)
        if found is None:
            found = table[profile] = compute(months)
        return found

    def staff_failing(
        self, unit_code: str, rule: tuple, compute: Callable[[Sequence[MonthRecord]], list[str]]
    ) -> tuple[int, list[tuple[PersonHistory, list[str]]]]:
        """How many of a unit's people have problems under `rule`, and the first of them (up to the
        number of names a reason shows) with their problems, in staff order.

        The unit criteria ask this of every person of the office, several times: each distinct history
        is judged once, and the people are counted and picked by look-ups in C (map, compress).
        """
        table = self._problems.get(rule)
        if table is None:
            table = self._problems[rule] = {}
        fails = self._fails.get(rule)
        if fails is None:
            fails = self._fails[rule] = {}
        profiles = self.staff_profiles.get(unit_code, [])
        try:
            flags = list(map(fails.__getitem__, profiles))
        except KeyError:
            for profile in profiles:
                if profile not in fails:
                    found = table.get(profile)
                    if found is None:
                        found = table[profile] = compute(self._profile_months[profile])
                    fails[profile] = 1 if found else 0
            flags = list(map(fails.__getitem__, profiles))
        failing = sum(flags)
        if not failing:
            return 0, []
        found = zip(self.staff_by_unit[unit_code], map(table.__getitem__, profiles), strict=True)
        return failing, list(itertools.islice(itertools.compress(found, flags), _NAMES_IN_REASON))

    def top_rating(self) -> str:
        return self.config.ratings[0].code


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _by_period(months: Sequence[MonthRecord]) -> dict[Period, MonthRecord]:
    return {m.period: m for m in months}


def _pass(name: str, reason: str) -> CriterionOutcome:
    return CriterionOutcome(name, True, f"Đạt: {reason}")


def _fail(name: str, reason: str) -> CriterionOutcome:
    return CriterionOutcome(name, False, f"Chưa đạt: {reason}")


def _outcome(name: str, passed: bool, reason: str) -> CriterionOutcome:
    return _pass(name, reason) if passed else _fail(name, reason)


_FAILED = "Chưa đạt: "
_NO_REPORT = "không có báo cáo tháng "


def reason_lines(outcomes: Sequence[CriterionOutcome]) -> list[str]:
    """Each outcome's reason, a month without a report said once: the rating, the registration and the
    social activity of a person absent from a month would each say it again ("Lý do" of the giải trình
    and of tong-hop.xlsx)."""
    said: set[str] = set()
    lines = []
    for outcome in outcomes:
        reason = outcome.reason
        if not outcome.passed and reason.startswith(_FAILED):
            parts = reason[len(_FAILED) :].split("; ")
            kept = [p for p in parts if not (p.startswith(_NO_REPORT) and p in said)]
            said.update(p for p in parts if p.startswith(_NO_REPORT))
            if not kept:
                continue
            reason = _FAILED + "; ".join(kept)
        lines.append(reason)
    return lines


def _names(items: Sequence[str], total: int | None = None) -> str:
    """The first items, then how many more of `total` (default: of the items) there are."""
    shown = "; ".join(items[:_NAMES_IN_REASON])
    rest = (len(items) if total is None else total) - _NAMES_IN_REASON
    return f"{shown}; và {rest} người khác" if rest > 0 else shown


def _failing_names(failing: int, shown: Sequence[tuple[PersonHistory, list[str]]]) -> str:
    """_names of "name: problems" for the `failing` people with problems, the first of them `shown`."""
    return _names([f"{person.name}: {', '.join(problems)}" for person, problems in shown], failing)


@functools.lru_cache(maxsize=256)  # the few percentages of config, asked of every unit
def _percent_number(value: float) -> str:
    return f"{format_decimal(Fraction(str(value)), 1).removesuffix(',0')}%"


# ------------------------------------------------------------------------------------------------
# Month-by-month checks shared by individual and collective criteria. Each returns the problems found
# over the campaign months to date; an absent month is a problem for an "every month" rule.


# A rule is (its name, its arguments), and rule(ctx, *arguments) gives the function of the months.


def _rating_rule(ctx: _Context, code: str, what: str) -> Callable[[Sequence[MonthRecord]], list[str]]:
    def compute(months: Sequence[MonthRecord]) -> list[str]:
        rank, limit = ctx.config.rating_rank, ctx.rank(code)
        problems = []
        for period, record in zip(ctx.periods, ctx.view(months)[0], strict=True):
            if record is None:
                problems.append(f"không có báo cáo tháng {period.label}")
            elif rank(record.rating) > limit:
                problems.append(f"tháng {period.label} {what} {ctx.rating_label(record.rating)}")
        return problems

    return compute


def _flag_rule(ctx: _Context, attr: str, missing_text: str) -> Callable[[Sequence[MonthRecord]], list[str]]:
    def compute(months: Sequence[MonthRecord]) -> list[str]:
        problems = []
        for period, record in zip(ctx.periods, ctx.view(months)[0], strict=True):
            if record is None:
                problems.append(f"không có báo cáo tháng {period.label}")
            elif not getattr(record, attr):
                problems.append(f"tháng {period.label} {missing_text}")
        return problems

    return compute


def _discipline_rule(ctx: _Context, level: str) -> Callable[[Sequence[MonthRecord]], list[str]]:
    def compute(months: Sequence[MonthRecord]) -> list[str]:
        threshold = max(ctx.config.discipline_rank(level), 1)
        rank = ctx.config.discipline_rank
        return [
            f"tháng {m.period.label} bị kỷ luật {m.discipline}"
            for m in ctx.view(months)[1]
            if rank(m.discipline) >= threshold
        ]

    return compute


_RULES = {"rating": _rating_rule, "flag": _flag_rule, "discipline": _discipline_rule}


def _problems(ctx: _Context, months: Sequence[MonthRecord], rule: tuple) -> list[str]:
    return ctx.problems(months, rule, _RULES[rule[0]](ctx, *rule[1:]))


def _staff_failing(
    ctx: _Context, unit_code: str, rule: tuple
) -> tuple[int, list[tuple[PersonHistory, list[str]]]]:
    return ctx.staff_failing(unit_code, rule, _RULES[rule[0]](ctx, *rule[1:]))


def _rating_problems(ctx: _Context, months: Sequence[MonthRecord], code: str, what: str) -> list[str]:
    return _problems(ctx, months, ("rating", code, what))


def _flag_problems(ctx: _Context, months: Sequence[MonthRecord], attr: str, missing_text: str) -> list[str]:
    return _problems(ctx, months, ("flag", attr, missing_text))


def _discipline_problems(ctx: _Context, months: Sequence[MonthRecord], level: str) -> list[str]:
    return _problems(ctx, months, ("discipline", level))


def _months_at(ctx: _Context, months: Sequence[MonthRecord], code: str) -> int:
    rank, limit = ctx.config.rating_rank, ctx.rank(code)
    return sum(1 for m in ctx.view(months)[1] if rank(m.rating) <= limit)


def _initiatives(ctx: _Context, months: Sequence[MonthRecord]) -> int:
    return sum(m.initiatives for m in ctx.view(months)[1])


# ------------------------------------------------------------------------------------------------
# Individual criteria: (context, person, value from config) -> outcome


def _min_rating_every_month(ctx: _Context, person: PersonHistory, code: str) -> CriterionOutcome:
    name = "min_rating_every_month"
    problems = _rating_problems(ctx, person.months, code, "xếp loại")
    if problems:
        return _fail(name, "; ".join(problems))
    n = len(ctx.periods)
    return _pass(name, f"{n}/{n} tháng {ctx.at_least(code)}")


def _months_at_rating(ctx: _Context, person: PersonHistory, value: dict) -> CriterionOutcome:
    code, needed = value["rating"], value["months"]
    count = _months_at(ctx, person.months, code)
    text = f"{count}/{len(ctx.periods)} tháng {ctx.at_least(code)} (yêu cầu ít nhất {needed} tháng)"
    return _outcome("months_at_rating", count >= needed, text)


def _every_month(criterion: str, done: str, missing: str, not_required: str) -> Criterion:
    """A yes/no column of the staff sheet that must be "Có" every month (registered, social)."""

    def judge(ctx: _Context, person: PersonHistory, required: bool) -> CriterionOutcome:
        if not required:
            return _pass(criterion, not_required)
        problems = _flag_problems(ctx, person.months, criterion, missing)
        if problems:
            return _fail(criterion, "; ".join(problems))
        n = len(ctx.periods)
        return _pass(criterion, f"{done} {n}/{n} tháng")

    return judge


_registered = _every_month(
    "registered", "đăng ký thi đua", "chưa đăng ký thi đua", "không yêu cầu đăng ký thi đua"
)
_social = _every_month(
    "social",
    "tham gia hoạt động xã hội",
    "không tham gia hoạt động xã hội",
    "không yêu cầu tham gia hoạt động xã hội",
)


def _min_initiatives(ctx: _Context, person: PersonHistory, needed: int) -> CriterionOutcome:
    count = _initiatives(ctx, person.months)
    return _outcome(
        "min_initiatives", count >= needed, f"{count} sáng kiến, giải pháp (yêu cầu ít nhất {needed})"
    )


def _months_between(start: dt.date, end: dt.date) -> int:
    """Whole months from `start` to `end` (15/03 to 14/09: 5; to 15/09: 6)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if end.day < start.day else months


def _min_months_since_recruitment(ctx: _Context, person: PersonHistory, needed: int) -> CriterionOutcome:
    """Staff recruited less than `needed` months before the review are not considered (Circular
    01/2024/TT-BNV names 6). The review's day is the last day of the last month judged."""
    name = "min_months_since_recruitment"
    last = ctx.periods[-1]
    review_day = last.next().first_day - dt.timedelta(days=1)
    start = person.recruited_on  # form version 2 carries it; None on older forms
    if start is None:
        return CriterionOutcome(
            name,
            False,
            f"Chưa đủ số liệu: biểu báo cáo chưa ghi ngày tuyển dụng, nên chưa xác định được đã công tác đủ "
            f"{needed} tháng đến ngày {review_day:%d/%m/%Y} hay chưa",
        )
    months = _months_between(start, review_day)
    text = (
        f"tuyển dụng ngày {start:%d/%m/%Y}, đến ngày {review_day:%d/%m/%Y} được {months} tháng "
        f"(yêu cầu ít nhất {needed} tháng)"
    )
    return _outcome(name, months >= needed, text)


def _no_discipline_from(ctx: _Context, person: PersonHistory, level: str) -> CriterionOutcome:
    problems = _discipline_problems(ctx, person.months, level)
    if problems:
        return _fail("no_discipline_from", "; ".join(problems))
    return _pass("no_discipline_from", f"không bị kỷ luật từ mức {level} trở lên")


def _requires_award(ctx: _Context, key: str, award_id: str) -> CriterionOutcome:
    award_name = ctx.award_name(award_id)
    if key in ctx.earned.get(award_id, set()):
        return _pass("requires_award", f"đạt tiêu chuẩn {award_name}")
    if key in ctx.quota_cut.get(award_id, set()):
        return _fail("requires_award", f"không được đề nghị {award_name} do vượt tỷ lệ")
    return _fail("requires_award", f"chưa đạt tiêu chuẩn {award_name}")


def _person_requires_award(ctx: _Context, person: PersonHistory, award_id: str) -> CriterionOutcome:
    return _requires_award(ctx, person.key, award_id)


# ------------------------------------------------------------------------------------------------
# Collective criteria: (context, unit history, value from config) -> outcome


def _unit_rating_every_month(ctx: _Context, unit: UnitHistory, code: str) -> CriterionOutcome:
    name = "unit_rating_every_month"
    problems = _rating_problems(ctx, unit.months, code, "tập thể tự đánh giá")
    if problems:
        return _fail(name, "; ".join(problems))
    n = len(ctx.periods)
    return _pass(name, f"{n}/{n} tháng tập thể {ctx.at_least(code)}")


def _person_target_rule(ctx: _Context, measure: str) -> tuple:
    if measure == "staff_rated_good_or_better":
        return ("rating", ctx.config.good_rating, "xếp loại")
    if measure == "staff_registered":
        return ("flag", "registered", "chưa đăng ký thi đua")
    return ("flag", "social", "không tham gia hoạt động xã hội")


def _target(ctx: _Context, target_id: str):
    return next(t for c in ctx.config.campaigns for t in c.targets if t.id == target_id)


def _unit_months_missing(ctx: _Context, unit: UnitHistory) -> list[str]:
    """"không có báo cáo tháng …" for each campaign month the unit sent no usable report for: then none
    of its people has that month either, and naming each of them for it says nothing more."""
    return [
        f"{_NO_REPORT}{period.label}"
        for period, record in zip(ctx.periods, ctx.view(unit.months)[0], strict=True)
        if record is None
    ]


def _all_staff_meet_targets(ctx: _Context, unit: UnitHistory, target_ids: list) -> CriterionOutcome:
    name = "all_staff_meet_targets"
    staff = ctx.staff_by_unit.get(unit.unit_code, [])
    problems: list[str] = []
    people_ids: list[str] = []
    missing = _unit_months_missing(ctx, unit) if staff else []
    for target_id in target_ids:
        target = _target(ctx, target_id)
        if target.measure == "units_rated_good_or_better":
            unit_problems = _rating_problems(ctx, unit.months, ctx.config.good_rating, "tập thể tự đánh giá")
            problems += [f"chỉ tiêu {target.id}: {p}" for p in unit_problems]
        elif target.measure == "tasks_completed":
            if unit.tasks_assigned and Fraction(unit.tasks_completed, unit.tasks_assigned) < target.share:
                problems.append(
                    f"chỉ tiêu {target.id}: hoàn thành {unit.tasks_completed}/{unit.tasks_assigned} "
                    "nhiệm vụ cấp trên giao"
                )
        else:
            people_ids.append(target.id)
            if missing:
                continue  # every person falls short: said once, below
            failing, shown = _staff_failing(ctx, unit.unit_code, _person_target_rule(ctx, target.measure))
            if failing:
                names = _failing_names(failing, shown)
                problems.append(f"{failing}/{len(staff)} người chưa đạt chỉ tiêu {target.id} ({names})")
    if people_ids and not staff:
        return _fail(name, "đơn vị chưa có danh sách cá nhân trong báo cáo")
    if people_ids and missing:
        problems = [*missing, *problems]
    if problems:
        return _fail(name, "; ".join(problems))
    if people_ids:
        ids = ", ".join(target_ids)
        return _pass(name, f"{len(staff)}/{len(staff)} người đạt các chỉ tiêu {ids} trong tất cả các tháng")
    return _pass(name, f"đạt các chỉ tiêu {', '.join(target_ids)}")


def _tasks_completed_percent(ctx: _Context, unit: UnitHistory, percent: float) -> CriterionOutcome:
    return _tasks_outcome(unit.tasks_completed, unit.tasks_assigned, percent)


@functools.lru_cache(maxsize=4096)  # a thousand units, a few dozen distinct task counts between them
def _tasks_outcome(completed: int, assigned: int, percent: float) -> CriterionOutcome:
    name = "tasks_completed_percent"
    if assigned == 0:
        return _pass(name, "không có nhiệm vụ cấp trên giao trong đợt")
    share = Fraction(completed, assigned)
    text = (
        f"hoàn thành {completed}/{assigned} nhiệm vụ cấp trên giao "
        f"({format_percent(share)}; yêu cầu {_percent_number(percent)})"
    )
    return _outcome(name, share * 100 >= Fraction(str(percent)), text)


def _staff_min_rating_every_month(ctx: _Context, unit: UnitHistory, code: str) -> CriterionOutcome:
    name = "staff_min_rating_every_month"
    staff = ctx.staff_by_unit.get(unit.unit_code, [])
    if not staff:
        return _fail(name, "đơn vị chưa có danh sách cá nhân trong báo cáo")
    missing = _unit_months_missing(ctx, unit)
    if missing:
        return _fail(name, "; ".join(missing))
    failing, shown = _staff_failing(ctx, unit.unit_code, ("rating", code, "xếp loại"))
    if failing:
        return _fail(name, f"{failing}/{len(staff)} người chưa đạt ({_failing_names(failing, shown)})")
    return _pass(name, f"{len(staff)}/{len(staff)} người {ctx.at_least(code)} trong tất cả các tháng")


def _staff_share_at_rating(ctx: _Context, unit: UnitHistory, value: dict) -> CriterionOutcome:
    name = "staff_share_at_rating"
    code, percent = value["rating"], value["percent"]
    staff = ctx.staff_by_unit.get(unit.unit_code, [])
    if not staff:
        return _fail(name, "đơn vị chưa có danh sách cá nhân trong báo cáo")
    count = len(staff) - _staff_failing(ctx, unit.unit_code, ("rating", code, ""))[0]
    share = Fraction(count, len(staff))
    text = (
        f"{count}/{len(staff)} người ({format_percent(share)}) {ctx.at_least(code)} trong tất cả các tháng "
        f"(yêu cầu ít nhất {_percent_number(percent)})"
    )
    return _outcome(name, share * 100 >= Fraction(str(percent)), text)


def _staff_share_with_award(ctx: _Context, unit: UnitHistory, value: dict) -> CriterionOutcome:
    name = "staff_share_with_award"
    award_name = ctx.award_name(value["award"])
    staff = ctx.staff_by_unit.get(unit.unit_code, [])
    if not staff:
        return _fail(name, "đơn vị chưa có danh sách cá nhân trong báo cáo")
    holders = ctx.earned.get(value["award"], set())
    count = sum(1 for p in staff if p.key in holders)
    share = Fraction(count, len(staff))
    if "more_than_percent" in value:
        limit = Fraction(str(value["more_than_percent"]))
        passed, wanted = share * 100 > limit, f"trên {_percent_number(value['more_than_percent'])}"
    else:
        limit = Fraction(str(value["percent"]))
        passed, wanted = share * 100 >= limit, f"ít nhất {_percent_number(value['percent'])}"
    text = (
        f"{count}/{len(staff)} người ({format_percent(share)}) đạt tiêu chuẩn {award_name} (yêu cầu {wanted})"
    )
    return _outcome(name, passed, text)


def _staff_count_with_award(ctx: _Context, unit: UnitHistory, value: dict) -> CriterionOutcome:
    award_name = ctx.award_name(value["award"])
    holders = ctx.earned.get(value["award"], set())
    count = sum(1 for p in ctx.staff_by_unit.get(unit.unit_code, []) if p.key in holders)
    needed = value["count"]
    text = f"{count} người đạt tiêu chuẩn {award_name} (yêu cầu ít nhất {needed})"
    return _outcome("staff_count_with_award", count >= needed, text)


def _no_staff_discipline_from(ctx: _Context, unit: UnitHistory, level: str) -> CriterionOutcome:
    name = "no_staff_discipline_from"
    failing, shown = _staff_failing(ctx, unit.unit_code, ("discipline", level))
    if failing:
        return _fail(
            name, f"{failing} người bị kỷ luật từ mức {level} trở lên ({_failing_names(failing, shown)})"
        )
    return _pass(name, f"không có cá nhân bị kỷ luật từ mức {level} trở lên")


def _unit_requires_award(ctx: _Context, unit: UnitHistory, award_id: str) -> CriterionOutcome:
    return _requires_award(ctx, unit.unit_code, award_id)


Criterion = Callable[[_Context, object, object], CriterionOutcome]

# Every criterion config.CRITERIA accepts, by subject. A test asserts the two name sets are equal.
CRITERIA: dict[str, dict[str, Criterion]] = {
    INDIVIDUAL: {
        "min_rating_every_month": _min_rating_every_month,
        "months_at_rating": _months_at_rating,
        "registered": _registered,
        "social": _social,
        "min_initiatives": _min_initiatives,
        "no_discipline_from": _no_discipline_from,
        "requires_award": _person_requires_award,
        "min_months_since_recruitment": _min_months_since_recruitment,
    },
    COLLECTIVE: {
        "unit_rating_every_month": _unit_rating_every_month,
        "all_staff_meet_targets": _all_staff_meet_targets,
        "tasks_completed_percent": _tasks_completed_percent,
        "staff_min_rating_every_month": _staff_min_rating_every_month,
        "staff_share_at_rating": _staff_share_at_rating,
        "staff_share_with_award": _staff_share_with_award,
        "staff_count_with_award": _staff_count_with_award,
        "no_staff_discipline_from": _no_staff_discipline_from,
        "requires_award": _unit_requires_award,
    },
}  # type: ignore[dict-item]


# ------------------------------------------------------------------------------------------------
# Achievement lines for the list ("3/3 tháng hoàn thành xuất sắc nhiệm vụ; 2 sáng kiến")


def _rating_summary(ctx: _Context, months: Sequence[MonthRecord]) -> str:
    n = len(ctx.periods)
    counts: dict[str | None, int] = {}
    for m in ctx.view(months)[1]:
        counts[m.rating] = counts.get(m.rating, 0) + 1
    parts = []
    for rating in ctx.config.ratings:
        count = counts.get(rating.code)
        if count:
            parts.append(f"{count}/{n} tháng {_lower_first(rating.label)}")
    return ", ".join(parts)


def person_achievement(ctx: _Context, person: PersonHistory) -> str:
    parts = [_rating_summary(ctx, person.months)]
    initiatives = _initiatives(ctx, person.months)
    if initiatives:
        parts.append(f"{initiatives} sáng kiến")
    return "; ".join(p for p in parts if p)


def unit_achievement(ctx: _Context, unit: UnitHistory) -> str:
    parts = [_rating_summary(ctx, unit.months)]
    if unit.tasks_assigned:
        parts.append(f"hoàn thành {unit.tasks_completed}/{unit.tasks_assigned} nhiệm vụ cấp trên giao")
    staff = ctx.staff_by_unit.get(unit.unit_code, [])
    if staff:
        good = len(staff) - _staff_failing(ctx, unit.unit_code, ("rating", ctx.config.good_rating, ""))[0]
        parts.append(f"{good}/{len(staff)} người {ctx.at_least(ctx.config.good_rating)}")
    return "; ".join(p for p in parts if p)


# ------------------------------------------------------------------------------------------------
# The stage


def _campaign(config: Config, campaign_id: str) -> Campaign:
    for campaign in config.campaigns:
        if campaign.id == campaign_id:
            return campaign
    raise UserError(f"Không có đợt thi đua “{campaign_id}” trong config.toml.")


def chain_order(awards: Sequence[Award]) -> list[Award]:
    """Awards of one subject, each after the awards it requires; otherwise in config order."""
    ids = {a.id for a in awards}
    ordered: list[Award] = []
    done: set[str] = set()
    pending = list(awards)
    while pending:
        ready = next(
            (
                a
                for a in pending
                if a.criteria.get("requires_award") not in ids or a.criteria.get("requires_award") in done
            ),
            None,
        )
        if ready is None:
            names = ", ".join(a.id for a in pending)
            raise UserError(
                f"Các hình thức khen thưởng {names} yêu cầu lẫn nhau (requires_award) thành vòng lặp."
            )
        ordered.append(ready)
        done.add(ready.id)
        pending.remove(ready)
    return ordered


def rule_set_for(config: Config, result: PeriodResult, rule_set_id: str | None = None) -> RuleSet:
    rule_set_id = rule_set_id or _campaign(config, result.campaign_id).rule_set
    for rule_set in config.rule_sets:
        if rule_set.id == rule_set_id:
            return rule_set
    raise UserError(f"Không có bộ tiêu chuẩn khen thưởng “{rule_set_id}” trong config.toml ([[rule_sets]]).")


def _tie_key(ctx: _Context, subject: str, item: PersonHistory | UnitHistory) -> tuple:
    top = _months_at(ctx, item.months, ctx.top_rating())
    if isinstance(item, PersonHistory):
        return (-top, -_initiatives(ctx, item.months), given_name_sort_key(item.name), item.key)
    share = Fraction(item.tasks_completed, item.tasks_assigned) if item.tasks_assigned else Fraction(1)
    return (-top, -share, sort_key(item.unit_name), item.unit_code)


def _subject_key(item: PersonHistory | UnitHistory) -> str:
    return item.key if isinstance(item, PersonHistory) else item.unit_code


def decide(config: Config, result: PeriodResult, rule_set_id: str | None = None) -> list[Decision]:
    """Every person and unit against every award of the rule set (the campaign's by default).

    Returns individual decisions first, then collective ones, each award in chain order and subjects in
    the order of the result (roster order).
    """
    rule_set = rule_set_for(config, result, rule_set_id)
    ctx = _Context(config, tuple(result.periods_to_date), rule_set, {})
    # Each person's profile once, for every award and every unit criterion over staff.
    profiles = [ctx.profile(person.months) for person in result.people]
    unit_code, staff, staff_profiles = None, [], []
    for person, profile in zip(result.people, profiles, strict=True):
        if person.unit_code != unit_code:  # people come unit by unit: a look-up per unit, not per person
            unit_code = person.unit_code
            staff = ctx.staff_by_unit.setdefault(unit_code, [])
            staff_profiles = ctx.staff_profiles.setdefault(unit_code, [])
        staff.append(person)
        staff_profiles.append(profile)
    decisions: list[Decision] = []
    for subject, items in ((INDIVIDUAL, result.people), (COLLECTIVE, result.unit_histories)):
        awards = chain_order([a for a in rule_set.awards if a.subject == subject])
        by_award: list[list[Decision]] = [
            _with_basis(award, _decide_award(ctx, award, subject, items, profiles)) for award in awards
        ]
        decisions += _highest_only(ctx, by_award)
    return decisions


def _with_basis(award: Award, decisions: list[Decision]) -> list[Decision]:
    """Each criterion's reason followed by its legal basis (config `criteria_basis`), when one is given."""
    basis = award.criteria_basis
    if not basis:
        return decisions
    texts: dict[CriterionOutcome, CriterionOutcome] = {}

    def cited(outcome: CriterionOutcome) -> CriterionOutcome:
        found = texts.get(outcome)
        if found is None:
            where = basis.get(outcome.criterion)
            found = texts[outcome] = (
                dataclasses.replace(outcome, reason=f"{outcome.reason} (căn cứ: {where})")
                if where
                else outcome
            )
        return found

    # Decisions of people judged alike share one outcomes tuple (see _judge_people); so do their copies.
    copies: dict[int, tuple[tuple, tuple]] = {}

    def cited_all(outcomes: tuple) -> tuple:
        entry = copies.get(id(outcomes))
        if entry is None or entry[0] is not outcomes:
            entry = copies[id(outcomes)] = (outcomes, tuple(map(cited, outcomes)))
        return entry[1]

    return [dataclasses.replace(d, outcomes=cited_all(d.outcomes)) for d in decisions]


def year_end_rule_set(config: Config, result: PeriodResult) -> RuleSet | None:
    """The campaign's `year_end_rule_set` when this run reviews a whole calendar year: the closing run of
    a campaign from 1 January to 31 December (twelve months of ratings), or `annual_review` set."""
    campaign = _campaign(config, result.campaign_id)
    if not campaign.year_end_rule_set or not result.final:
        return None
    whole_year = (
        campaign.start == dt.date(campaign.start.year, 1, 1)
        and campaign.end == dt.date(campaign.start.year, 12, 31)
    )
    if not (whole_year or campaign.annual_review):
        return None
    return rule_set_for(config, result, campaign.year_end_rule_set)


def closing_rule_sets(config: Config, result: PeriodResult) -> list[RuleSet]:
    """The rule sets of the run's proposals: the campaign's, then the annual titles' when they apply."""
    annual = year_end_rule_set(config, result)
    return [rule_set_for(config, result), *([annual] if annual else [])]


def decide_closing(config: Config, result: PeriodResult) -> list[Decision]:
    """`decide` under every rule set of `closing_rule_sets`, with one achievement earning one award
    across them: a subject proposed for an annual title is not proposed for the campaign's award too
    (or the other way round, `one_award_prefers = "campaign"`); the other decision says why."""
    campaign_set, *annual = closing_rule_sets(config, result)
    decisions = decide(config, result, campaign_set.id)
    if not annual:
        return decisions
    titles = decide(config, result, annual[0].id)
    prefer_campaign = _campaign(config, result.campaign_id).one_award_prefers == "campaign"
    kept, other = (decisions, titles) if prefer_campaign else (titles, decisions)
    winners = {(d.subject, d.subject_key): d.award_name for d in kept if d.proposed}
    amended = []
    for d in other:
        top = winners.get((d.subject, d.subject_key))
        if d.proposed and top:
            reason = (
                f"Đạt tiêu chuẩn nhưng không đề nghị riêng: đã đề nghị {top} "
                "(một thành tích chỉ đề nghị một hình thức khen thưởng)"
            )
            d = dataclasses.replace(
                d, proposed=False, outcomes=(*d.outcomes, CriterionOutcome(HIGHER_AWARD, False, reason))
            )
        amended.append(d)
    # The campaign's decisions first, then the titles', each in its own order.
    return [*decisions, *amended] if prefer_campaign else [*amended, *titles]


# Individual criteria that read more than the person's months: judged per person, not per profile.
_PER_PERSON = frozenset({"requires_award", "min_months_since_recruitment"})


def _decide_award(
    ctx: _Context,
    award: Award,
    subject: str,
    items: Sequence[PersonHistory | UnitHistory],
    profiles: Sequence[int],
) -> list[Decision]:
    """Judge every subject against the award's criteria, then hold the proposals to its quota.

    `profiles`: ctx.profile of each person's months, when `items` are the people.
    """
    if subject == INDIVIDUAL:
        decisions, meeting = _judge_people(ctx, award, items, profiles)  # type: ignore[arg-type]
    else:
        decisions, meeting = _judge_units(ctx, award, items)  # type: ignore[arg-type]
    cut: set[str] = set()
    if award.quota_percent > 0 and meeting:
        quota_outcomes, cut = _rank_within_quota(ctx, award, subject, items, meeting)
        decisions = _with_quota_outcomes(decisions, quota_outcomes, cut)
    ctx.earned[award.id] = {_subject_key(item) for item in meeting} - cut
    ctx.quota_cut[award.id] = cut
    return decisions


def _judge_people(
    ctx: _Context, award: Award, people: Sequence[PersonHistory], profiles: Sequence[int]
) -> tuple[list[Decision], list[PersonHistory]]:
    """Each person's decision as if no quota applied, and the people meeting every criterion.

    Every individual criterion but those in _PER_PERSON reads the person's months only, and people with
    the same months are legion: each distinct record is judged once, its outcomes reused.
    """
    functions = CRITERIA[INDIVIDUAL]
    criteria = list(award.criteria.items())
    award_id, award_name, rule_set_id = award.id, award.name, ctx.rule_set.id
    out: list[Decision] = []
    meeting: list[PersonHistory] = []
    per_person = [i for i, (name, _) in enumerate(criteria) if name in _PER_PERSON]
    known: dict[int, tuple[tuple, bool, str]] = {}
    achievements = ctx._achievements
    for item, profile in zip(people, profiles, strict=True):
        shared = known.get(profile)
        if shared is None:
            judged = tuple(
                None if name in _PER_PERSON else functions[name](ctx, item, value) for name, value in criteria
            )
            achievement = achievements.get(profile)
            if achievement is None:
                achievement = achievements[profile] = person_achievement(ctx, item)
            shared = known[profile] = (
                judged,
                all(o.passed for o in judged if o is not None),
                achievement,
            )
        outcomes, passed, achievement = shared
        if per_person:
            filled = list(outcomes)
            for index in per_person:
                name, value = criteria[index]
                outcome = filled[index] = functions[name](ctx, item, value)
                passed = passed and outcome.passed
            outcomes = tuple(filled)
        if passed:
            meeting.append(item)
        out.append(
            # award_id, award_name, subject, subject_key, subject_name, unit_code, position, proposed,
            # outcomes, achievement, quota_excluded, rule_set_id: 50,000 of them, so positionally
            Decision(
                award_id,
                award_name,
                INDIVIDUAL,
                item.key,
                item.name,
                item.unit_code,
                item.position,
                passed,
                outcomes,
                achievement,
                False,
                rule_set_id,
            )
        )
    return out, meeting


def _judge_units(
    ctx: _Context, award: Award, units: Sequence[UnitHistory]
) -> tuple[list[Decision], list[UnitHistory]]:
    """Each unit's decision as if no quota applied, and the units meeting every criterion."""
    functions = CRITERIA[COLLECTIVE]
    criteria = list(award.criteria.items())
    out: list[Decision] = []
    meeting: list[UnitHistory] = []
    for item in units:
        outcomes = tuple(functions[name](ctx, item, value) for name, value in criteria)
        passed = all(o.passed for o in outcomes)
        if passed:
            meeting.append(item)
        out.append(
            Decision(
                award_id=award.id,
                award_name=award.name,
                subject=COLLECTIVE,
                subject_key=item.unit_code,
                subject_name=item.unit_name,
                unit_code=item.unit_code,
                position="",
                proposed=passed,
                outcomes=outcomes,
                achievement=unit_achievement(ctx, item),
                quota_excluded=False,
                rule_set_id=ctx.rule_set.id,
            )
        )
    return out, meeting


def _quota_base(
    ctx: _Context, award: Award, subject: str, items: Sequence[PersonHistory | UnitHistory]
) -> tuple[int, str]:
    """What the quota is a share of, and its wording: the holders of the required award when the award
    requires one (Chiến sĩ thi đua cơ sở over Lao động tiên tiến), else every subject judged."""
    noun = "người" if subject == INDIVIDUAL else "tập thể"
    required = award.criteria.get("requires_award")
    if required:
        base = len(ctx.earned.get(required, set()))
        return base, f"{base} {noun} đạt {ctx.award_name(required)}"
    return len(items), f"{len(items)} {noun}"


def _rank_within_quota(
    ctx: _Context,
    award: Award,
    subject: str,
    items: Sequence[PersonHistory | UnitHistory],
    meeting: Sequence[PersonHistory | UnitHistory],
) -> tuple[dict[str, CriterionOutcome], set[str]]:
    """The quota's outcome for each subject meeting the criteria, in tie-break order, and the keys of
    those past the limit."""
    base, base_text = _quota_base(ctx, award, subject, items)
    limit = math.floor(Fraction(str(award.quota_percent)) * base / 100)
    ranked = sorted(meeting, key=lambda item: _tie_key(ctx, subject, item))
    order = award.tie_break or DEFAULT_TIE_BREAK[subject]
    quota = _percent_number(award.quota_percent)
    outcomes: dict[str, CriterionOutcome] = {}
    cut: set[str] = set()
    for position, item in enumerate(ranked, 1):
        key = _subject_key(item)
        where = f"xếp thứ {position}/{len(ranked)} theo thứ tự ưu tiên: {_lower_first(order)}"
        if position <= limit:
            outcomes[key] = CriterionOutcome(
                QUOTA, True, f"Trong tỷ lệ {quota} (tối đa {limit} trên {base_text}); {where}"
            )
        else:
            cut.add(key)
            outcomes[key] = CriterionOutcome(
                QUOTA,
                False,
                f"Không đề nghị do vượt tỷ lệ {quota} (tối đa {limit} trên {base_text}); {where}",
            )
    return outcomes, cut


def _with_quota_outcomes(
    decisions: list[Decision], quota_outcomes: dict[str, CriterionOutcome], cut: set[str]
) -> list[Decision]:
    """The decisions with the quota's outcome added; those past the limit no longer proposed."""
    for index, decision in enumerate(decisions):
        key = decision.subject_key
        if key in quota_outcomes:
            decisions[index] = dataclasses.replace(
                decision,
                proposed=key not in cut,
                outcomes=(*decision.outcomes, quota_outcomes[key]),
                quota_excluded=key in cut,
            )
    return decisions


def _highest_only(ctx: _Context, by_award: list[list[Decision]]) -> list[Decision]:
    """One achievement, one award: keep the proposal of the last award in chain order a subject earns."""
    if len(by_award) == 1:
        return by_award[0]  # a subject's only award is its highest
    highest: dict[str, str] = {}
    for decisions in by_award:
        for decision in decisions:
            if decision.proposed:
                highest[decision.subject_key] = decision.award_id
    out = []
    for decisions in by_award:
        for decision in decisions:
            top = highest.get(decision.subject_key)
            if decision.proposed and top != decision.award_id:
                reason = (
                    f"Đạt tiêu chuẩn nhưng không đề nghị riêng: đã đề nghị {ctx.award_name(top)} "
                    "(một thành tích chỉ đề nghị một hình thức khen thưởng)"
                )
                decision = dataclasses.replace(
                    decision,
                    proposed=False,
                    outcomes=(*decision.outcomes, CriterionOutcome(HIGHER_AWARD, False, reason)),
                )
            out.append(decision)
    return out


# ------------------------------------------------------------------------------------------------
# Reading decisions back (render uses these)


def meets_criteria(decision: Decision) -> bool:
    """Met every rule of the award (whether or not proposed: quota or a higher award may intervene)."""
    # A plain loop: the renderers ask this of every decision, several times (150,000 calls a run).
    for outcome in decision.outcomes:
        if not outcome.passed and outcome.criterion != QUOTA and outcome.criterion != HIGHER_AWARD:
            return False
    return True


def status_label(decision: Decision) -> str:
    if decision.proposed:
        return "Đề nghị"
    if decision.quota_excluded:
        return "Đạt tiêu chuẩn, không đề nghị do vượt tỷ lệ"
    if meets_criteria(decision):
        return "Đạt tiêu chuẩn, đề nghị hình thức cao hơn"
    return "Chưa đạt"
