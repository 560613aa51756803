"""Breakdowns: the staff and the individuals proposed for commendation, split by gender, ethnic minority,
category and leadership post, as higher levels ask for them in their annual emulation statistics.

Which splits and which groups is data (config's [[breakdowns]]). Pure: from a month's result and its
decisions. A person whose form left the field empty, or whose unit's form version has no such column,
is "không có số liệu": counted apart, never in a group, and the coverage of each field says how many
people had it filled and which units' forms lack it.
"""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from processor import form
from processor.config import Breakdown, BreakdownGroup, Config
from processor.records import Decision, FileStatus, PeriodResult, PersonHistory

NO_DATA_LABEL = "Không có số liệu"
UNGROUPED_LABEL = "Khác"
_YES_NO = {True: "Có", False: "Không"}


@dataclass(frozen=True)
class GroupCount:
    label: str
    staff: int
    proposed: dict[str, int]  # award id -> individuals proposed for it


@dataclass(frozen=True)
class BreakdownResult:
    id: str
    label: str
    field: str
    groups: tuple[GroupCount, ...]
    no_data: GroupCount  # field empty, or not in the unit's form
    filled: int  # staff of the month with the field filled (coverage)
    staff: int  # staff of the month
    units_without_field: tuple[str, ...]  # units whose form of the month has no such column

    @property
    def awards(self) -> list[str]:
        return sorted({a for g in (*self.groups, self.no_data) for a in g.proposed})


def _shown(value: object) -> str | None:
    """A breakdown field's value as groups name it (bools as "Có"/"Không"); None: no data."""
    if isinstance(value, bool):
        return _YES_NO[value]
    return value or None  # type: ignore[return-value]


def month_staff(result: PeriodResult) -> list[PersonHistory]:
    """The people of the month's usable reports (result.people holds the campaign so far)."""
    period = result.period  # the records share it: `is` spares most of the dataclass comparisons
    return [
        p
        for p in result.people
        if p.months and (p.months[-1].period is period or p.months[-1].period == period)
    ]


def breakdowns(
    config: Config, result: PeriodResult, decisions: Sequence[Decision] = ()
) -> list[BreakdownResult]:
    """Every breakdown of config's [[breakdowns]] for the month of `result`, counting as proposed the
    individuals `decisions` propose.

    The run computes them once (pipeline._render_all) and hands them to summary.json, tong-hop.xlsx and
    the báo cáo; `thidua decide` once more, with the awarded list, for its documents and summary.json."""
    staff = month_staff(result)
    by_key = {p.key: p for p in staff}
    proposed = [
        (by_key[d.subject_key], d.award_id)
        for d in decisions
        if d.subject == "individual" and d.proposed and d.subject_key in by_key
    ]
    versions = _unit_versions(result)
    return [_one(config, spec, staff, proposed, versions) for spec in config.breakdowns]


def _one(
    config: Config,
    spec: Breakdown,
    staff: Sequence[PersonHistory],
    proposed: Sequence[tuple[PersonHistory, str]],
    versions: dict[str, form.FormVersion | None],
) -> BreakdownResult:
    # A month's 50,000 people hold a handful of distinct raw values per field: they are counted in one
    # pass at C speed, and each distinct value is put in its group once.
    raw = operator.attrgetter(spec.field)
    by_value = Counter(map(raw, staff))
    groups = _groups(config, spec, by_value)
    named = {value: i for i, g in enumerate(groups) for value in g.values}
    other = next((i for i, g in enumerate(groups) if g.other), None)
    # One slot per group, then "Khác" (a filled value no group names), then "Không có số liệu".
    ungrouped, no_data = len(groups), len(groups) + 1
    counts = [0] * (len(groups) + 2)
    awards: list[dict[str, int]] = [{} for _ in counts]
    slots: dict[object, int] = {}

    def slot(value: object) -> int:
        found = slots.get(value)
        if found is None:
            shown = _shown(value)
            if shown is None:
                found = no_data
            else:
                index = named.get(shown, other)
                found = ungrouped if index is None else index
            slots[value] = found
        return found

    for value, count in by_value.items():
        counts[slot(value)] += count
    people = [person for person, _ in proposed]
    award_ids = [award for _, award in proposed]
    for (value, award), count in Counter(zip(map(raw, people), award_ids, strict=True)).items():
        into = awards[slot(value)]
        into[award] = into.get(award, 0) + count
    rows = [GroupCount(g.label, counts[i], awards[i]) for i, g in enumerate(groups)]
    if counts[ungrouped]:
        rows.append(GroupCount(UNGROUPED_LABEL, counts[ungrouped], awards[ungrouped]))
    lacking = tuple(
        code
        for code, version in versions.items()
        if version is not None and spec.field in _FORM_KEYS and spec.field not in version.keys
    )
    return BreakdownResult(
        spec.id,
        spec.label,
        spec.field,
        tuple(rows),
        GroupCount(NO_DATA_LABEL, counts[no_data], awards[no_data]),
        filled=len(staff) - counts[no_data],
        staff=len(staff),
        units_without_field=lacking,
    )


_FORM_KEYS = frozenset(f.key for v in form.VERSIONS.values() for f in v.staff_fields)


def _groups(config: Config, spec: Breakdown, values: Iterable[object]) -> list[BreakdownGroup]:
    """The groups of a split: config's, else the categories, Có/Không, or each distinct value found."""
    if spec.groups:
        return list(spec.groups)
    if spec.field == "category":
        return [BreakdownGroup(c.label, [c.code]) for c in config.staff_categories]
    if spec.field == "leader":
        return [BreakdownGroup(label, [label]) for label in _YES_NO.values()]
    found = sorted({v for raw in values if (v := _shown(raw)) is not None})
    return [BreakdownGroup(v, [v]) for v in found]


def _unit_versions(result: PeriodResult) -> dict[str, form.FormVersion | None]:
    """The form version of each unit's report used for the month (units with no usable report left out)."""
    used = {u.unit_code: u.file for u in result.units if u.figures.units_reporting}
    out: dict[str, form.FormVersion | None] = {}
    usable = (FileStatus.ACCEPTED, FileStatus.ACCEPTED_PARTIAL)
    for sub in result.submissions:
        if sub.period != result.period or sub.status not in usable or sub.unit_code is None:
            continue
        if used.get(sub.unit_code) == sub.file.display_name:
            # A file naming no version was checked against today's templates (validate.py).
            out[sub.unit_code] = form.VERSIONS.get(sub.form_version or "")
    return out


def as_json(results: Sequence[BreakdownResult], award_names: dict[str, str]) -> list[dict]:
    """summary.json's "breakdowns"."""

    def group(g: GroupCount) -> dict:
        return {"label": g.label, "staff": g.staff, "proposed": dict(sorted(g.proposed.items()))}

    return [
        {
            "field": r.field,
            "id": r.id,
            "label": r.label,
            "coverage": {
                "filled": r.filled,
                "staff": r.staff,
                "units_without_field": list(r.units_without_field),
            },
            "groups": [group(g) for g in r.groups],
            "no_data": group(r.no_data),
            "awards": {a: award_names.get(a, a) for a in r.awards},
        }
        for r in results
    ]
