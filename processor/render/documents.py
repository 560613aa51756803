"""The Word documents leadership receives, rendered from the clerk's templates with docxtpl.

- `bao-cao-<period>.docx`: Báo cáo kết quả thực hiện phong trào thi đua (sơ kết, or tổng kết when final);
- `to-trinh-khen-thuong-<period>.docx`: Tờ trình đề nghị khen thưởng with its Danh sách;
- `giai-trinh-khen-thuong-<period>.docx`: every unit and person, each rule's decision and why (for the clerk).

The templates belong to the clerk (input_templates/, editable in Word). The program builds the values,
pre-formatted, in sections (`document_context`: a frozen dataclass per section, such as `OfficeSection` or
`ProposalsSection`) and hands the templates one plain dict of them (`build_context`); every name in it is
documented with an example, under its section, in docs/template-variables.md. A template using a name the
program does not provide is reported, in Vietnamese, before anything is rendered.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import heapq
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from processor import breakdown, commend
from processor.aggregate import (
    STATUS_LABELS,
    VERDICT_LABELS,
    assessment_text,
    coverage_text,
    month_on_month,
    targets_summary,
    units_to_remind,
    verdict_text,
)
from processor.breakdown import BreakdownResult
from processor.config import Campaign, Config, RuleSet
from processor.records import Decision, PeriodResult, ReportingStatus, UnitResult, UserError, Verdict
from processor.render.atomic import write_bytes, write_with
from processor.render.docx_files import EXPLANATION, PROPOSAL, REPORT, normalize_docx
from processor.vntext import (
    BLANK_DAY,
    date_in_words,
    format_date,
    format_int,
    format_money,
    format_percent,
    given_name_sort_key,
)
from processor.workspace import bundled_templates

# Long lists belong in tong-hop.xlsx; a document shows at most this many rows or names of each.
TABLE_ROW_CAP = 60
NAMES_IN_TEXT_CAP = 30
PEOPLE_IN_TEXT_CAP = 20
HIGHLIGHTS_CAP = 30
EXPLANATION_ROW_CAP = 500  # beyond this the giải trình is too long to read; tong-hop.xlsx has all
# The tờ trình's Danh sách lists at most this many collectives and this many individuals; past that a last
# row says how many more are proposed and where the full list is (tong-hop.xlsx, sheet "Khen thưởng").
# A province proposes thousands: Word shows them as hundreds of pages and LibreOffice cannot make a PDF.
PROPOSAL_ROW_CAP = 500
DECISIONS_SHEET = "Khen thưởng"  # tong-hop.xlsx's sheet with every decision (render/workbook.py)
SUMMARY_WORKBOOK = "tong-hop.xlsx"

BLANK_NUMBER = "\u00a0" * 7  # "Số:        /BC-…": the văn thư writes the number when the letter is issued
SYMBOLS = {REPORT: "BC", PROPOSAL: "TTr"}

# The same words as the CLI and tong-hop.xlsx use for a unit's reporting status.
STATUS_TEXT = STATUS_LABELS

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def output_names(period_text: str) -> dict[str, str]:
    """Template file name -> output file name for a period ('2024-02')."""
    return {
        REPORT: f"bao-cao-{period_text}.docx",
        PROPOSAL: f"to-trinh-khen-thuong-{period_text}.docx",
        EXPLANATION: f"giai-trinh-khen-thuong-{period_text}.docx",
    }


# ------------------------------------------------------------------------------------------------
# Formatting helpers


def count_text(count: int) -> str:
    """Counts in official prose take two digits below ten: '03 tập thể'."""
    return f"{count:02d}" if 0 <= count < 10 else format_int(count)


def _joined(names: Sequence[str], cap: int, noun: str) -> str:
    if len(names) <= cap:
        return ", ".join(names)
    rest = len(names) - cap
    return f"{', '.join(names[:cap])} và {format_int(rest)} {noun} khác (xem {SUMMARY_WORKBOOK})"


def _points(change: Fraction) -> str:
    if change == 0:
        return "không đổi"
    sign = "+" if change > 0 else "-"
    return f"{sign}{format_percent(abs(change)).removesuffix('%')} điểm %"


def _delta(diff: int, money: bool = False) -> str:
    if diff == 0:
        return "không đổi"
    text = format_money(abs(diff)) if money else format_int(abs(diff))
    return f"{'+' if diff > 0 else '-'}{text}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _clean(value: object) -> object:
    """Strip control characters docxtpl would turn into page or paragraph breaks (\\f, \\a), recursively."""
    if isinstance(value, str):
        return _CONTROL.sub("", value.replace("\t", " ").replace("\r\n", "\n").replace("\r", "\n"))
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


# ------------------------------------------------------------------------------------------------
# Context


def _campaign(config: Config, result: PeriodResult) -> Campaign:
    for campaign in config.campaigns:
        if campaign.id == result.campaign_id:
            return campaign
    return config.campaign_for(result.period)


def _rule_sets(config: Config, result: PeriodResult, decisions: Sequence[Decision]) -> list[RuleSet]:
    """The rule sets the decisions were made with (each carries its id), in the closing run's order (the
    campaign's, then the annual titles'); the campaign's when none was made."""
    ids = list(dict.fromkeys(d.rule_set_id for d in decisions if d.rule_set_id))
    if not ids:
        return [commend.rule_set_for(config, result)]
    order = [r.id for r in commend.closing_rule_sets(config, result)]
    ids.sort(key=lambda i: order.index(i) if i in order else len(order))
    return [commend.rule_set_for(config, result, i) for i in ids]


_INSTRUMENT_NUMBER = re.compile(r"\bsố\s+(\d+/\d{4}/[^\s,;]+)", re.IGNORECASE)


def distinct_instruments(lines: Iterable[str]) -> list[str]:
    """Each legal instrument cited once: two rule sets may cite one decree in two wordings ("… của Chính
    phủ" and "… của Chính phủ quy định chi tiết …"); the first wording wins, as a Căn cứ line must not
    repeat. Lines without a number ("Căn cứ Quy chế …") are kept unless repeated word for word."""
    seen: set[str] = set()
    kept = []
    for line in lines:
        number = _INSTRUMENT_NUMBER.search(line)
        key = number.group(1).upper() if number else line.strip()
        if key not in seen:
            seen.add(key)
            kept.append(line)
    return kept


def _award_phrase(names: Sequence[str]) -> str:
    """'tặng Giấy khen của Chánh Văn phòng'; titles: 'tặng danh hiệu Lao động tiên tiến và …'."""
    forms = [n for n in names if n.split(" ")[0].lower() in ("giấy", "bằng", "cờ", "huy", "huân", "kỷ")]
    titles = [n for n in names if n not in forms]
    parts = list(forms)
    if titles:
        parts.append("danh hiệu " + _and(titles))
    return "tặng " + _and(parts)


def _and(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} và {items[-1]}"


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _proposal_counts(collectives: int, individuals: int) -> str:
    parts = []
    if collectives:
        parts.append(f"{count_text(collectives)} tập thể")
    if individuals:
        parts.append(f"{count_text(individuals)} cá nhân")
    return " và ".join(parts) if parts else "không có tập thể, cá nhân nào"


def _unit_names(config: Config, result: PeriodResult) -> dict[str, str]:
    names = {u.code: u.name for u in config.units}
    names.update({u.unit_code: u.unit_name for u in result.units})
    names.update({u.unit_code: u.unit_name for u in result.unit_histories})
    return names


def _target_rows(result: PeriodResult) -> list[dict]:
    previous = {t.target_id: t for t in result.previous.targets} if result.previous else {}
    rows = []
    for no, target in enumerate(result.targets, 1):
        before = previous.get(target.target_id)
        rows.append(
            {
                "no": str(no),
                "id": target.target_id,
                "label": target.label,
                "counts": f"{format_int(target.numerator)}/{format_int(target.denominator)}",
                "result": format_percent(target.value),
                "threshold": format_percent(target.threshold, 0),
                "met": target.verdict is Verdict.MET,  # a template's context holds text and true/false only
                "verdict": target.verdict.value,
                "status": verdict_text(target),
                "assessment": assessment_text(target),
                "previous": format_percent(before.value) if before else "—",
            }
        )
    return rows


def _needs_attention(unit: UnitResult, blocking: set[str]) -> bool:
    return unit.status is not ReportingStatus.ON_TIME or unit.unit_code in blocking


def _unit_row(config: Config, no: int, unit: UnitResult) -> dict:
    f = unit.figures
    reported = f.units_reporting > 0
    status = STATUS_TEXT[unit.status] + (" (một phần)" if unit.partial else "")

    def number(value: int) -> str:
        return format_int(value) if reported else "—"

    return {
        "no": str(no),
        "code": unit.unit_code,
        "name": unit.unit_name,
        "status": status,
        "received": format_date(unit.received_at.date()) if unit.received_at else "",
        "staff": number(f.staff),
        "registered": number(f.registered),
        "good_or_better": number(f.rated_good_or_better),
        "social": number(f.social),
        "initiatives": number(f.initiatives),
        "tasks": f"{format_int(f.tasks_completed)}/{format_int(f.tasks_assigned)}" if reported else "—",
        "donation": format_money(f.donation_vnd) if reported else "—",
        "self_rating": unit.self_rating or "—",
        "self_rating_label": config.rating(unit.self_rating).label
        if unit.self_rating in {r.code for r in config.ratings}
        else "",
    }


def _totals(config: Config, result: PeriodResult) -> dict:
    t = result.totals
    ratings = [
        f"{format_int(t.rating_counts.get(r.code, 0))} người {_lower_first(r.label)}"
        for r in config.ratings
        if t.rating_counts.get(r.code, 0)
    ]
    return {
        "staff": format_int(t.staff),
        "registered": format_int(t.registered),
        "good_or_better": format_int(t.rated_good_or_better),
        "good_or_better_share": format_percent(
            Fraction(t.rated_good_or_better, t.staff) if t.staff else None
        ),
        "social": format_int(t.social),
        "initiatives": format_int(t.initiatives),
        "disciplined": format_int(t.disciplined),
        "tasks_assigned": format_int(t.tasks_assigned),
        "tasks_completed": format_int(t.tasks_completed),
        "tasks": f"{format_int(t.tasks_completed)}/{format_int(t.tasks_assigned)}",
        "donation": format_money(t.donation_vnd),
        "support_activities": format_int(t.support_activities),
        "units_reporting": format_int(t.units_reporting),
        "ratings": ", ".join(ratings) if ratings else "chưa có",
    }


def _target_items(result: PeriodResult, verdict: Verdict, names: dict[str, str]) -> list[dict]:
    """The targets of one verdict, with the units and people below the threshold in what was reported."""
    out = []
    for target in result.targets:
        if target.verdict is not verdict:
            continue
        units = [names.get(code, code) for code in target.blocking_units]
        people = [f"{name} ({names.get(code, code)})" for code, name in target.blocking_people]
        out.append(
            {
                "label": target.label,
                "result": format_percent(target.value),
                "counts": f"{format_int(target.numerator)}/{format_int(target.denominator)}",
                "threshold": format_percent(target.threshold, 0),
                "coverage": coverage_text(target),
                "units": _joined(units, NAMES_IN_TEXT_CAP, "đơn vị"),
                "people": _joined(people, PEOPLE_IN_TEXT_CAP, "người"),
                "people_count": format_int(len(people)),
            }
        )
    return out


# The office-wide figures of the báo cáo's month-on-month table, with their wording there.
_CHANGE_FIGURES = {
    "units_reporting": "Số đơn vị gửi báo cáo hợp lệ",
    "staff": "Tổng số cán bộ, công chức, viên chức, người lao động",
    "initiatives": "Số sáng kiến, giải pháp",
    "tasks_completed": "Số nhiệm vụ cấp trên giao đã hoàn thành",
    "donation_vnd": "Số tiền ủng hộ đồng bào bị thiên tai",
    "support_activities": "Số hoạt động giúp đỡ xã nghèo, xây dựng nông thôn mới",
}


def _figure_text(value: int | Fraction | None, kind: str) -> str:
    if value is None:
        return "—"  # a month without data: never 0
    if kind == "share":
        return format_percent(value)  # type: ignore[arg-type]
    return format_money(value) if kind == "money" else format_int(value)  # type: ignore[arg-type]


def _changes(result: PeriodResult) -> list[dict]:
    """Each target's share and the main figures, last month and this; "—" where a month has no data."""
    if result.previous is None:
        return []
    changes = {c.key: c for c in month_on_month(result)}
    shown = [(t.label, changes[f"target.{t.target_id}"]) for t in result.targets]
    shown += [(label, changes[key]) for key, label in _CHANGE_FIGURES.items()]
    rows = []
    for no, (label, c) in enumerate(shown, 1):
        if c.change is None:
            change = "—"
        elif c.kind == "share":
            change = _points(c.change)  # type: ignore[arg-type]
        else:
            change = _delta(c.change, c.kind == "money")  # type: ignore[arg-type]
        rows.append(
            {
                "no": str(no),
                "label": label,
                "previous": _figure_text(c.previous, c.kind),
                "current": _figure_text(c.current, c.kind),
                "change": change,
            }
        )
    return rows


def _stat_rows(breakdowns: Sequence[BreakdownResult]) -> list[dict]:
    """The breakdowns (breakdown.py) as the rows of one table: a row per split, then one per group; people
    without the field ("không có số liệu") on a row of their own, never in a group."""
    rows: list[dict] = []
    for no, item in enumerate(breakdowns, 1):
        coverage = f"{item.label} (có số liệu {format_int(item.filled)}/{format_int(item.staff)} người)"
        rows.append({"no": str(no), "label": coverage, "staff": "", "proposed": ""})
        groups = list(item.groups) + ([item.no_data] if item.no_data.staff else [])
        for group in groups:
            rows.append(
                {
                    "no": "",
                    "label": f"– {group.label}",
                    "staff": format_int(group.staff),
                    "proposed": format_int(sum(group.proposed.values())),
                }
            )
    return rows


def _data_gap_note(result: PeriodResult) -> str:
    """A sentence for the report's opening when units' data are missing ("" when every unit reported)."""
    gaps = units_to_remind(result)
    if not gaps:
        return ""
    names = [f"{u.unit_name} ({STATUS_TEXT[u.status].lower()})" for u in gaps]
    reported = len(result.units) - len(gaps)
    return (
        f"Số liệu tháng {result.period.label} được tổng hợp từ báo cáo của {format_int(reported)}/"
        f"{format_int(len(result.units))} đơn vị; chưa có số liệu của {format_int(len(gaps))} đơn vị: "
        f"{_joined(names, NAMES_IN_TEXT_CAP, 'đơn vị')}. Chỉ tiêu nào chưa thể kết luận khi thiếu số liệu "
        f"các đơn vị này được ghi “{VERDICT_LABELS[Verdict.INSUFFICIENT_DATA]}”."
    )


def _name_key(config: Config, result: PeriodResult):
    if config.documents.name_order == "roster":
        roster = {p.key: i for i, p in enumerate(result.people)}  # a province's 50,000: only when used
        return lambda d: (roster.get(d.subject_key, len(roster)),)
    return lambda d: (given_name_sort_key(d.subject_name), d.subject_key)


def proposal_order(
    config: Config, result: PeriodResult, decisions: Sequence[Decision], rule_sets: Sequence[RuleSet]
) -> tuple[list[Decision], list[Decision]]:
    """The proposed collectives and individuals in the office's order: the order of the tờ trình's
    Danh sách, which the approval workbook, the Quyết định and the Giấy khen keep (highest award first,
    units in roster order, people by `documents.name_order`). Rule sets later in `rule_sets` come first
    (an annual title before a campaign's Giấy khen)."""
    unit_order = {u.code: i for i, u in enumerate(config.units)}
    award_rank: dict[tuple[str, str], tuple[int, int]] = {}
    for set_rank, rule_set in enumerate(rule_sets):
        for subject in (commend.INDIVIDUAL, commend.COLLECTIVE):
            chain = commend.chain_order([a for a in rule_set.awards if a.subject == subject])
            # highest award first
            award_rank.update({(rule_set.id, a.id): (-set_rank, -i) for i, a in enumerate(chain)})

    def rank(d: Decision) -> tuple[int, int]:
        return award_rank.get((d.rule_set_id, d.award_id)) or next(
            (v for (_, award), v in award_rank.items() if award == d.award_id), (0, 0)
        )

    name_key = _name_key(config, result)
    collectives = sorted(
        (d for d in decisions if d.proposed and d.subject == commend.COLLECTIVE),
        key=lambda d: (rank(d), unit_order.get(d.unit_code, len(unit_order))),
    )
    individuals = sorted(
        (d for d in decisions if d.proposed and d.subject == commend.INDIVIDUAL),
        key=lambda d: (rank(d), *name_key(d)),
    )
    return collectives, individuals


def _proposal_rows(
    config: Config, result: PeriodResult, decisions: Sequence[Decision], rule_sets: Sequence[RuleSet]
):
    names = _unit_names(config, result)
    collectives, individuals = proposal_order(config, result, decisions, rule_sets)

    def row(no: int, d: Decision) -> dict:
        return {
            "no": str(no),
            "name": d.subject_name,
            "position": d.position,
            "unit": "" if d.subject == commend.COLLECTIVE else names.get(d.unit_code, d.unit_code),
            "award": d.award_name,
            "achievement": d.achievement,
            "note": "",
        }

    def rows(chosen: list[Decision], noun: str) -> list[dict]:
        out = [row(i, d) for i, d in enumerate(chosen[:PROPOSAL_ROW_CAP], 1)]
        if len(chosen) > PROPOSAL_ROW_CAP:
            rest = format_int(len(chosen) - PROPOSAL_ROW_CAP)
            more = (
                f"Còn {rest} {noun} khác được đề nghị: danh sách đầy đủ {format_int(len(chosen))} {noun} "
                f"tại tệp {SUMMARY_WORKBOOK}, sheet “{DECISIONS_SHEET}” (các dòng “Đề nghị”)."
            )
            out.append({**dict.fromkeys(out[0], ""), "name": more})
        return out

    return rows(collectives, "tập thể"), rows(individuals, "cá nhân"), len(collectives), len(individuals)


def _explanation_rows(
    config: Config, result: PeriodResult, decisions: Sequence[Decision], rule_sets: Sequence[RuleSet]
):
    names = _unit_names(config, result)
    unit_order = {u.code: i for i, u in enumerate(config.units)}
    chain = {a.id: i for i, a in enumerate(a for r in rule_sets for a in r.awards)}
    name_key = _name_key(config, result)

    def row(no: int, d: Decision) -> dict:
        return {
            "no": str(no),
            "name": d.subject_name,
            "unit": names.get(d.unit_code, d.unit_code),
            "position": d.position,
            "award": d.award_name,
            "status": commend.status_label(d),
            "proposed": d.proposed,
            "achievement": d.achievement,
            "reasons": "\n".join(f"- {reason}" for reason in commend.reason_lines(d.outcomes)),
        }

    collectives = [d for d in decisions if d.subject == commend.COLLECTIVE]
    individuals = [d for d in decisions if d.subject == commend.INDIVIDUAL]
    notes = []
    total = len(collectives)
    collectives = _most_relevant(
        collectives,
        lambda d: (unit_order.get(d.unit_code, len(unit_order)), chain.get(d.award_id, 0)),
        EXPLANATION_ROW_CAP,
    )
    if total > EXPLANATION_ROW_CAP:
        notes.append(
            f"Danh sách tập thể chỉ ghi {format_int(EXPLANATION_ROW_CAP)} trong số {format_int(total)} "
            f"trường hợp xét (ưu tiên tập thể được đề nghị và tập thể đạt tiêu chuẩn)."
        )
    total = len(individuals)
    individuals = _most_relevant(
        individuals,
        lambda d: (unit_order.get(d.unit_code, len(unit_order)), *name_key(d), chain.get(d.award_id, 0)),
        EXPLANATION_ROW_CAP,
    )
    if total > EXPLANATION_ROW_CAP:
        notes.append(
            f"Danh sách cá nhân chỉ ghi {format_int(EXPLANATION_ROW_CAP)} trong số "
            f"{format_int(total)} trường hợp xét (ưu tiên người được đề nghị và người đạt tiêu chuẩn)."
        )
    omitted = ""
    if notes:
        omitted = " ".join(notes) + f" Các trường hợp chưa đạt còn lại xem tại tệp {SUMMARY_WORKBOOK}."
    numbered_c = [row(i, d) for i, d in enumerate(collectives, 1)]
    numbered_i = [row(i, d) for i, d in enumerate(individuals, 1)]
    return numbered_c, numbered_i, omitted


def _most_relevant(decisions: list[Decision], key, cap: int) -> list[Decision]:
    """The decisions in `key` order; past `cap`, the proposed and the near misses first (what the
    clerk checks), each group's first ones in `key` order.

    The same rows as sorting all of them and picking, but the key (a Vietnamese collation of the
    name) is computed for the groups that fill the cap only, not for a province's 50,000 people.
    """
    indexed = list(enumerate(decisions))  # the index keeps equal keys in their given order

    def order(item: tuple[int, Decision]) -> tuple:
        return (key(item[1]), item[0])

    if len(decisions) <= cap:
        return [d for _, d in sorted(indexed, key=order)]
    groups: dict[tuple[bool, bool], list[tuple[int, Decision]]] = {}
    for item in indexed:
        d = item[1]
        groups.setdefault((not d.proposed, not commend.meets_criteria(d)), []).append(item)
    chosen: list[tuple[int, Decision]] = []
    for rank in sorted(groups):
        if len(chosen) >= cap:
            break
        chosen += heapq.nsmallest(cap - len(chosen), groups[rank], key=order)
    return [d for _, d in sorted(chosen, key=order)]


def _signer_heading(config: Config) -> str:
    authority, title = config.office.signer_authority.strip(), config.office.signer_title.strip()
    if not authority:
        return title
    if len(authority) <= 4 and authority.endswith("."):  # KT. / TL. / TM. on the same line
        return f"{authority} {title}"
    return f"{authority}\n{title}"


def _number(config: Config, symbol: str, value: int | None) -> str:
    suffix = config.office.symbol_suffix
    code = f"{symbol}-{suffix}" if suffix else symbol
    return f"{value:02d}/{code}" if value else f"{BLANK_NUMBER}/{code}"


# ------------------------------------------------------------------------------------------------
# The context's sections: one frozen dataclass each, assembled for the templates in `as_template_context`.
# Each field is a template variable under the same name (docs/template-variables.md lists them section by
# section): clerks' templates use these names, so a field is never renamed. Lists hold plain dict items.


@dataclass(frozen=True)
class OfficeSection:
    """The header and the signature block (`[office]` in config.toml)."""

    parent_body: str
    issuing_body: str
    issuing_body_name: str
    place: str
    signer_authority: str
    signer_title: str
    signer_heading: str
    signer_name: str
    deciding_authority: str
    recipients: list[str]
    clerk_unit: str
    clerk_unit_name: str


@dataclass(frozen=True)
class IssueSection:
    """The documents' numbers and date of issue, and the period's deadline."""

    report_number: str
    proposal_number: str
    issue_date: str
    date_words: str
    place_date: str
    due_date: str


@dataclass(frozen=True)
class PeriodSection:
    """The campaign, the period reported, and whether the report is a sơ kết or a tổng kết."""

    campaign_name: str
    campaign_short_name: str
    launch_letter: str
    campaign_start: str
    campaign_end: str
    campaign_span: str
    period_label: str
    period_words: str
    months_to_date: str
    months_count: str
    is_final: bool
    report_kind: str
    report_subject: str
    report_scope: str


@dataclass(frozen=True)
class TargetsSection:
    """Each target's verdict, and who keeps the unmet ones from being met."""

    targets: list[dict]
    targets_met: str
    targets_total: str
    targets_summary: str
    all_targets_met: bool
    unmet_targets: list[dict]
    pending_targets: list[dict]
    inapplicable_targets: list[dict]
    data_gap_note: str


@dataclass(frozen=True)
class ReportingSection:
    """Who reported and when, the unit table, the office's totals and the units' highlights."""

    units_total: str
    units_reporting: str
    units_on_time: str
    units_late: str
    units_with_errors: str
    units_missing: str
    late_units: str
    error_units: str
    missing_units: str
    unit_rows: list[dict]
    unit_rows_omitted: str
    totals: dict
    highlights: list[dict]
    highlights_omitted: str


@dataclass(frozen=True)
class BreakdownSection:
    """The breakdowns (issue 17): a short statistics table, in the closing report."""

    stat_rows: list[dict]


@dataclass(frozen=True)
class MonthOnMonthSection:
    has_previous: bool
    previous_period_label: str
    changes: list[dict]


@dataclass(frozen=True)
class RulesSection:
    """The rule sets the decisions were made with, their legal basis and their awards."""

    rule_set_name: str
    rule_set_effective: str
    rule_set_span: str
    legal_basis: list[str]
    legal_basis_text: str
    award_names: str
    award_phrase: str


@dataclass(frozen=True)
class ProposalsSection:
    """The tờ trình's Danh sách: who is proposed, in the office's order."""

    has_proposals: bool
    collectives: list[dict]
    individuals: list[dict]
    collectives_count: str
    individuals_count: str
    proposal_counts: str


@dataclass(frozen=True)
class ExplanationSection:
    """The giải trình: every subject and award, and why."""

    explanation_collectives: list[dict]
    explanation_individuals: list[dict]
    explanation_omitted: str
    explanation_summary: str


@dataclass(frozen=True)
class DocumentContext:
    """Every value the templates may use, by section."""

    office: OfficeSection
    issue: IssueSection
    period: PeriodSection
    targets: TargetsSection
    reporting: ReportingSection
    breakdown: BreakdownSection
    month_on_month: MonthOnMonthSection
    rules: RulesSection
    proposals: ProposalsSection
    explanation: ExplanationSection

    def as_template_context(self) -> dict:
        """The one flat dict of names the templates see, cleaned of characters Word would misread."""
        context: dict = {}
        for section in dataclasses.fields(self):
            values = getattr(self, section.name)
            context.update((f.name, getattr(values, f.name)) for f in dataclasses.fields(values))
        return _clean(context)  # type: ignore[return-value]


def _office_section(config: Config, names: dict[str, str]) -> OfficeSection:
    office = config.office
    return OfficeSection(
        parent_body=office.parent_body,
        issuing_body=office.issuing_body,
        issuing_body_name=office.issuing_body_name,
        place=office.place,
        signer_authority=office.signer_authority,
        signer_title=office.signer_title,
        signer_heading=_signer_heading(config),
        signer_name=office.signer_name,
        deciding_authority=office.deciding_authority,
        recipients=list(office.recipients),
        clerk_unit=office.clerk_unit,
        clerk_unit_name=names.get(office.clerk_unit, office.clerk_unit),
    )


def _issue_section(
    config: Config, campaign: Campaign, result: PeriodResult, number: int | None, today: dt.date
) -> IssueSection:
    first = number if number is not None else (config.documents.first_number or None)
    issue, blank = config.documents.issue_date(today)  # `documents.date` in config.toml (see docs)
    words = date_in_words(issue, blank_day=blank)
    return IssueSection(
        report_number=_number(config, SYMBOLS[REPORT], first),
        proposal_number=_number(config, SYMBOLS[PROPOSAL], first + 1 if first else None),
        issue_date=f"{BLANK_DAY}/{issue:%m/%Y}" if blank else format_date(issue),
        date_words=words,
        place_date=f"{config.office.place}, {words}",
        due_date=format_date(campaign.due_date(result.period)),
    )


def _period_section(campaign: Campaign, result: PeriodResult) -> PeriodSection:
    final = result.final or result.period == campaign.periods[-1]
    short = campaign.short_name
    label = result.period.label
    start, end = campaign.periods[0].label, campaign.periods[-1].label
    periods = result.periods_to_date
    return PeriodSection(
        campaign_name=campaign.name,
        campaign_short_name=short,
        launch_letter=campaign.launch_letter,
        campaign_start=start,
        campaign_end=end,
        campaign_span=f"từ tháng {start} đến hết tháng {end}",
        period_label=label,
        period_words=f"tháng {result.period.month:02d} năm {result.period.year}",
        months_to_date=", ".join(p.label for p in periods),
        months_count=str(len(periods)),
        is_final=final,
        report_kind="tổng kết" if final else "sơ kết",
        report_subject=f"Tổng kết {short}" if final else f"Kết quả thực hiện {short} tháng {label}",
        report_scope=f"tổng kết {short}" if final else f"kết quả thực hiện {short} tháng {label}",
    )


def _targets_section(result: PeriodResult, names: dict[str, str]) -> TargetsSection:
    targets = result.targets
    return TargetsSection(
        targets=_target_rows(result),
        targets_met=str(sum(t.verdict is Verdict.MET for t in targets)),
        targets_total=str(len(targets)),
        targets_summary=targets_summary(targets),
        all_targets_met=bool(targets) and all(t.verdict is Verdict.MET for t in targets),
        unmet_targets=_target_items(result, Verdict.NOT_MET, names),
        pending_targets=_target_items(result, Verdict.INSUFFICIENT_DATA, names),
        inapplicable_targets=_target_items(result, Verdict.NOT_APPLICABLE, names),
        data_gap_note=_data_gap_note(result),
    )


def _shown_units(result: PeriodResult) -> tuple[list[UnitResult], str]:
    """The unit table's units (past the cap, those needing attention first) and the note saying so."""
    units = list(result.units)
    if len(units) <= TABLE_ROW_CAP:
        return units, ""
    blocking: set[str] = {code for t in result.targets for code in t.blocking_units}
    order = {u.unit_code: i for i, u in enumerate(units)}
    chosen = sorted(units, key=lambda u: (not _needs_attention(u, blocking), order[u.unit_code]))
    shown = sorted(chosen[:TABLE_ROW_CAP], key=lambda u: order[u.unit_code])
    note = (
        f"Bảng trên ghi {TABLE_ROW_CAP} trong số "
        f"{format_int(len(units))} đơn vị (ưu tiên các đơn vị chưa "
        "gửi, gửi muộn, có lỗi hoặc chưa đạt chỉ tiêu); số liệu đầy đủ của tất cả các đơn vị xem tại tệp "
        f"{SUMMARY_WORKBOOK}."
    )
    return shown, note


def _highlights(result: PeriodResult) -> tuple[list[dict], str]:
    """The units' "Kết quả nổi bật" (at most HIGHLIGHTS_CAP) and the note when some are left out."""
    highlights = [
        {"unit": u.unit_name, "text": u.highlights.strip()} for u in result.units if u.highlights.strip()
    ]
    if len(highlights) <= HIGHLIGHTS_CAP:
        return highlights, ""
    note = (
        f"Còn {format_int(len(highlights) - HIGHLIGHTS_CAP)} đơn vị "
        f"khác nêu kết quả nổi bật: xem tại tệp "
        f"{SUMMARY_WORKBOOK}."
    )
    return highlights[:HIGHLIGHTS_CAP], note


def _reporting_section(config: Config, result: PeriodResult) -> ReportingSection:
    units = result.units

    def by_status(status: ReportingStatus) -> list[str]:
        return [u.unit_name for u in units if u.status is status]

    shown, unit_rows_omitted = _shown_units(result)
    highlights, highlights_omitted = _highlights(result)
    return ReportingSection(
        units_total=format_int(len(units)),
        units_reporting=format_int(sum(u.figures.units_reporting > 0 for u in units)),
        units_on_time=format_int(len(by_status(ReportingStatus.ON_TIME))),
        units_late=format_int(len(by_status(ReportingStatus.LATE))),
        units_with_errors=format_int(len(by_status(ReportingStatus.WITH_ERRORS))),
        units_missing=format_int(len(by_status(ReportingStatus.MISSING))),
        late_units=_joined(by_status(ReportingStatus.LATE), NAMES_IN_TEXT_CAP, "đơn vị"),
        error_units=_joined(by_status(ReportingStatus.WITH_ERRORS), NAMES_IN_TEXT_CAP, "đơn vị"),
        missing_units=_joined(by_status(ReportingStatus.MISSING), NAMES_IN_TEXT_CAP, "đơn vị"),
        unit_rows=[_unit_row(config, i, u) for i, u in enumerate(shown, 1)],
        unit_rows_omitted=unit_rows_omitted,
        totals=_totals(config, result),
        highlights=highlights,
        highlights_omitted=highlights_omitted,
    )


def _month_on_month_section(result: PeriodResult) -> MonthOnMonthSection:
    return MonthOnMonthSection(
        has_previous=result.previous is not None,
        previous_period_label=result.previous.period.label if result.previous else "",
        changes=_changes(result),
    )


def _rules_section(decisions: Sequence[Decision], rule_sets: Sequence[RuleSet]) -> RulesSection:
    legal_basis = distinct_instruments(b for r in rule_sets for b in r.legal_basis)
    award_names = _unique([a.name for r in rule_sets for a in r.awards])
    # The trích yếu names the awards proposed; the rule sets' when nobody is.
    phrase_names = _unique([d.award_name for d in decisions if d.proposed]) or award_names
    return RulesSection(
        rule_set_name="; ".join(r.name for r in rule_sets),
        rule_set_effective=format_date(rule_sets[0].effective_from),
        rule_set_span=rule_sets[0].span_text,
        legal_basis=legal_basis,
        legal_basis_text="; ".join(legal_basis),
        award_names=_and(award_names),
        award_phrase=_award_phrase(phrase_names),
    )


def _proposals_section(
    config: Config, result: PeriodResult, decisions: Sequence[Decision], rule_sets: Sequence[RuleSet]
) -> ProposalsSection:
    collectives, individuals, collective_count, individual_count = _proposal_rows(
        config, result, decisions, rule_sets
    )
    return ProposalsSection(
        has_proposals=any(d.proposed for d in decisions),
        collectives=collectives,
        individuals=individuals,
        collectives_count=count_text(collective_count),
        individuals_count=count_text(individual_count),
        proposal_counts=_proposal_counts(collective_count, individual_count),
    )


def _explanation_summary(decisions: Sequence[Decision]) -> str:
    people = len({d.subject_key for d in decisions if d.subject == commend.INDIVIDUAL})
    units = len({d.subject_key for d in decisions if d.subject == commend.COLLECTIVE})
    quota_cut = sum(d.quota_excluded for d in decisions)
    higher = sum(
        1 for d in decisions if not d.proposed and not d.quota_excluded and commend.meets_criteria(d)
    )
    return (
        f"xét {format_int(people)} cá nhân và {format_int(units)} tập thể; "
        f"{format_int(quota_cut)} trường hợp đạt tiêu chuẩn nhưng vượt tỷ lệ; "
        f"{format_int(higher)} trường hợp đạt tiêu chuẩn và được đề nghị hình thức cao hơn"
    )


def _explanation_section(
    config: Config, result: PeriodResult, decisions: Sequence[Decision], rule_sets: Sequence[RuleSet]
) -> ExplanationSection:
    collectives, individuals, omitted = _explanation_rows(config, result, decisions, rule_sets)
    return ExplanationSection(
        explanation_collectives=collectives,
        explanation_individuals=individuals,
        explanation_omitted=omitted,
        explanation_summary=_explanation_summary(decisions),
    )


def document_context(
    config: Config,
    result: PeriodResult,
    decisions: Sequence[Decision],
    *,
    breakdowns: Sequence[BreakdownResult],
    number: int | None = None,
    today: dt.date | None = None,
) -> DocumentContext:
    """The documents' values by section (see `build_context` for the templates' flat dict).

    `breakdowns`: breakdown.breakdowns of `result` and `decisions`, computed once by the caller."""
    campaign = _campaign(config, result)
    rule_sets = _rule_sets(config, result, decisions)
    names = _unit_names(config, result)
    return DocumentContext(
        office=_office_section(config, names),
        issue=_issue_section(config, campaign, result, number, today or dt.date.today()),
        period=_period_section(campaign, result),
        targets=_targets_section(result, names),
        reporting=_reporting_section(config, result),
        breakdown=BreakdownSection(stat_rows=_stat_rows(breakdowns)),
        month_on_month=_month_on_month_section(result),
        rules=_rules_section(decisions, rule_sets),
        proposals=_proposals_section(config, result, decisions, rule_sets),
        explanation=_explanation_section(config, result, decisions, rule_sets),
    )


def build_context(
    config: Config,
    result: PeriodResult,
    decisions: Sequence[Decision],
    *,
    breakdowns: Sequence[BreakdownResult],
    number: int | None = None,
    today: dt.date | None = None,
) -> dict:
    """Every value the templates may use, pre-formatted, as one flat dict (docs/template-variables.md).

    `today`: the day of the run (the date of issue follows it, see `documents.date`); the clock's by default.
    """
    sections = document_context(config, result, decisions, breakdowns=breakdowns, number=number, today=today)
    return sections.as_template_context()


# ------------------------------------------------------------------------------------------------
# Rendering


def _environment():
    """Jinja's sandbox: templates travel by e-mail between offices and clerks edit them, so a template
    must not reach Python's internals (`cycler.__init__.__globals__.os` runs a command in a plain
    Environment). A template doing so at render time is stopped with a SecurityError."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)


def _unsafe_expressions(tree) -> list[str]:
    """The expressions of a parsed template that name something starting with "_": a variable, an
    attribute (`x.__class__`, `x['__globals__']`, `x|attr('__init__')`). Nothing a template may use
    starts so (docs/template-variables.md); such names lead to Python's internals."""
    from jinja2 import nodes

    found = []
    for node in tree.find_all((nodes.Name, nodes.Getattr, nodes.Getitem, nodes.Filter)):
        if isinstance(node, nodes.Name):
            name = node.name
        elif isinstance(node, nodes.Getattr):
            name = node.attr
        elif isinstance(node, nodes.Getitem):
            name = node.arg.value if isinstance(node.arg, nodes.Const) else None
        else:
            first = node.args[0] if node.name == "attr" and node.args else None
            name = first.value if isinstance(first, nodes.Const) else None
        if isinstance(name, str) and name.startswith("_"):
            found.append(_expression_text(node))
    # `a.__init__.__globals__` holds `a.__init__`: the longer names both.
    return [
        text
        for text in dict.fromkeys(found)
        if not any(o.startswith((text + ".", text + "[", text + "|")) for o in found)
    ]


def _expression_text(node) -> str:
    """An expression written back as the clerk would see it in the template (approximately)."""
    from jinja2 import nodes

    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_expression_text(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem):
        key = repr(node.arg.value) if isinstance(node.arg, nodes.Const) else "…"
        return f"{_expression_text(node.node)}[{key}]"
    if isinstance(node, nodes.Filter):
        args = ", ".join(repr(a.value) if isinstance(a, nodes.Const) else "…" for a in node.args)
        return f"{_expression_text(node.node) if node.node else '…'}|{node.name}({args})"
    if isinstance(node, nodes.Call):
        return f"{_expression_text(node.node)}(…)"
    if isinstance(node, nodes.Const):
        return repr(node.value)
    return "…"


def resolve_template(template_dir: Path, name: str) -> Path:
    """The clerk's template if present, else the default shipped with the program."""
    own = Path(template_dir) / name
    if own.is_file():
        return own
    return bundled_templates() / name


_LISTING = re.compile("[\n\t\a\f]")
_PARAGRAPH_END = "</w:p>"


def _template_class():
    from docxtpl import DocxTemplate

    class Template(DocxTemplate):
        def resolve_listing(self, xml: str) -> str:
            """docxtpl's own, applied only to the paragraphs holding a character it turns into a break.

            docxtpl runs three nested regular expressions over every paragraph of the rendered part;
            a province's Danh sách is megabytes of paragraphs, and almost none holds a line break. A
            paragraph ends at its first "</w:p>", so cutting the text there changes no match.
            Measured on 40,000 list paragraphs (8.7 MB of XML): docxtpl's 1.77 s, this 0.16 s.
            An override of docxtpl's method (not documented API): tests/test_library_seams.py checks that
            docxtpl still calls it when rendering and that its result is docxtpl's own.
            """
            if not _LISTING.search(xml):
                return xml
            chunks = xml.split(_PARAGRAPH_END)
            resolve = super().resolve_listing
            for index in range(len(chunks) - 1):
                if _LISTING.search(chunks[index]):
                    chunks[index] = resolve(chunks[index] + _PARAGRAPH_END)[: -len(_PARAGRAPH_END)]
            return _PARAGRAPH_END.join(chunks)

    return Template


def _open_template(path: Path):
    try:
        template = _template_class()(path)
        template.init_docx()
    except FileNotFoundError:
        raise UserError(
            f"Không tìm thấy mẫu văn bản {path.name}. Chạy “thidua init” để chép lại các mẫu mặc định."
        ) from None
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise UserError(
            f"Mẫu văn bản {path} không mở được ({exc}). Mở lại bằng Word và lưu dạng .docx, "
            "hoặc xóa tệp để dùng mẫu mặc định."
        ) from None
    return template


def check_template(path: Path, context: dict | None = None) -> None:
    """Raise UserError for a template with a syntax error, an expression reaching Python's internals,
    or (given the `context`) a variable the program does not provide; each named."""
    from jinja2 import TemplateSyntaxError

    template = _open_template(path)
    environment = _environment()
    trees: list = []
    parse = environment.parse

    def keep_tree(*args, **kwargs):
        # docxtpl prepares the XML (Word's runs joined) before parsing it: the tree it parses is
        # the one checked here.
        trees.append(parse(*args, **kwargs))
        return trees[-1]

    environment.parse = keep_tree  # type: ignore[method-assign]
    try:
        variables = template.get_undeclared_template_variables(environment)
        # docxtpl renders these too: the document's properties (title, subject, comments...) and
        # footnotes. Checked for safety only, as before they are rendered.
        properties = template.docx.core_properties
        for name in ("author", "comments", "identifier", "language", "subject", "title"):
            environment.parse(getattr(properties, name) or "")
        for part in template.docx.part.package.parts:
            if part.content_type.endswith(".wordprocessingml.footnotes+xml"):
                environment.parse(template.patch_xml(part.blob.decode("utf-8")))
    except TemplateSyntaxError as exc:
        raise UserError(
            f"Mẫu văn bản {path.name} có thẻ sai cú pháp ({exc.message}). Kiểm tra các cặp {{{{ }}}} và "
            "{% %} trong mẫu."
        ) from None
    unsafe = [text for tree in trees for text in _unsafe_expressions(tree)]
    if unsafe:
        raise UserError(
            f"Mẫu văn bản {path.name} có biểu thức không được phép: "
            + ", ".join(f"“{{{{ {text} }}}}”" for text in unsafe)
            + ". Tên bắt đầu bằng dấu gạch dưới (_) dẫn vào bên trong chương trình, mẫu văn bản không được "
            "dùng. Mở mẫu bằng Word, xóa các biểu thức này rồi chạy lại (hoặc xóa tệp mẫu để dùng mẫu mặc "
            "định)."
        )
    unknown = variables - set(context) if context is not None else set()
    if unknown:
        raise UserError(
            f"Mẫu văn bản {path.name} dùng biến không có: {', '.join(sorted(unknown))}. "
            f"Các biến có thể dùng: {', '.join(sorted(context or ()))}. "
            "Ý nghĩa và ví dụ của từng biến: docs/template-variables.md."
        )


def check_templates_before_ingest(template_dir: Path, *, include_proposal: bool = True) -> None:
    """The templates' syntax and safety (`check_template` without a context), before any received file
    is read: a bad template fails the run in a second, not after the batch. A template identical to the
    one shipped with the program is not opened (docxtpl costs half a second to load)."""
    for name in output_names("0000-00"):
        if name == PROPOSAL and not include_proposal:
            continue
        path = resolve_template(template_dir, name)
        if not _as_shipped(path):
            check_template(path)


def _as_shipped(path: Path) -> bool:
    """The template shipped with the program, or a copy of it not changed: it needs no check (it is safe,
    and tests/test_documents.py checks it uses only the variables the context provides)."""
    bundled = bundled_templates()
    try:
        if path.parent == bundled:
            return path.is_file()  # a missing one is checked, and named, before anything is written
        return path.read_bytes() == (bundled / path.name).read_bytes()
    except OSError:
        return False


def render_template(
    path: Path,
    context: dict,
    out_path: Path,
    *,
    checked: bool = False,
    finish: Callable[[object], None] | None = None,
) -> Path:
    """Render one template to `out_path`; `checked`: check_template already passed for this context.

    `finish(document)` changes the rendered python-docx Document before it is saved (the Giấy khen's
    frames, render/decision_docs.py).
    """
    from jinja2 import TemplateError, UndefinedError
    from jinja2.exceptions import SecurityError

    if not checked:
        check_template(path, context)
    template = _open_template(path)
    try:
        template.render(context, _environment(), autoescape=True)
    except UndefinedError as exc:
        raise UserError(
            f"Mẫu văn bản {path.name} dùng giá trị không có: {exc.message}. "
            "Xem docs/template-variables.md để biết các trường của từng biến."
        ) from None
    except SecurityError:
        raise UserError(
            f"Mẫu văn bản {path.name} có biểu thức tìm cách truy cập bên trong chương trình (không được "
            "phép), nên văn bản không được tạo. Mở mẫu bằng Word, xóa biểu thức đó rồi chạy lại (hoặc xóa "
            "tệp mẫu để dùng mẫu mặc định)."
        ) from None
    except TemplateError as exc:
        raise UserError(f"Mẫu văn bản {path.name} không dựng được: {exc}.") from None
    keep_tables_with_the_line_after(template.docx)
    if finish is not None:
        finish(template.docx)

    def save(temp: Path) -> None:
        template.save(temp)
        normalize_docx(temp)

    return write_with(out_path, save)


def keep_tables_with_the_line_after(document) -> None:
    """A line of text right after a table (the danh sách's "Tổng số: …./.") never starts a page alone:
    the paragraphs of the table's last row are kept with the next one (Word's "keep with next"; the rows
    come from a loop, so the template cannot mark the last one itself)."""
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph

    body = document.element.body
    for table in body.iterchildren(qn("w:tbl")):
        after = table.getnext()
        if after is None or after.tag != qn("w:p") or not "".join(after.itertext()).strip():
            continue
        rows = table.findall(qn("w:tr"))
        if rows:
            for paragraph in rows[-1].iter(qn("w:p")):
                Paragraph(paragraph, None).paragraph_format.keep_with_next = True


@dataclass(frozen=True)
class DocumentJob:
    """What rendering the period's documents needs: plain data, so another process can do it."""

    context: dict
    templates: tuple[tuple[Path, str], ...]  # (template, output file name), in writing order


def prepare_documents(
    config: Config,
    result: PeriodResult,
    decisions: Sequence[Decision],
    template_dir: Path,
    *,
    breakdowns: Sequence[BreakdownResult],
    number: int | None = None,
    include_proposal: bool = True,
    today: dt.date | None = None,
) -> DocumentJob:
    """The context every template gets and the templates to fill (see `render_documents`)."""
    context = build_context(config, result, decisions, breakdowns=breakdowns, number=number, today=today)
    names = output_names(str(result.period))
    if not include_proposal:
        names.pop(PROPOSAL)
    return DocumentJob(
        context, tuple((resolve_template(template_dir, name), out) for name, out in names.items())
    )


def write_documents(job: DocumentJob, out_dir: Path) -> list[Path]:
    """Check every template, then write the documents; return their paths.

    Every template is checked before any document is written, so a mistake in one does not leave a
    half set of documents; one as shipped needs no check (opening and parsing it twice more cost 0.1 s of
    the three documents' 0.55 s at 1,000 units).
    """
    for path, _ in job.templates:
        if not _as_shipped(path):
            check_template(path, job.context)
    return [
        render_template(path, job.context, Path(out_dir) / out, checked=True) for path, out in job.templates
    ]


def render_documents(
    config: Config,
    result: PeriodResult,
    decisions: Sequence[Decision],
    out_dir: Path,
    template_dir: Path,
    *,
    number: int | None = None,
    include_proposal: bool = True,
    today: dt.date | None = None,
) -> list[Path]:
    """Write the report, the proposal and the explanation for the period; return their paths: the whole
    stage from a result and its decisions (the pipeline calls `prepare_documents` with the breakdowns it
    computed once for every output).

    The pipeline leaves the proposal out before the campaign's closing run (tổng kết): commendation is
    proposed when a campaign is reviewed, and the giải trình already shows who is on track and why.
    `today`: the day of the run, which the date of issue follows (the clock's by default).
    """
    job = prepare_documents(
        config,
        result,
        decisions,
        template_dir,
        breakdowns=breakdown.breakdowns(config, result, decisions),
        number=number,
        include_proposal=include_proposal,
        today=today,
    )
    return write_documents(job, out_dir)


# ------------------------------------------------------------------------------------------------
# PDF through LibreOffice

NO_LIBREOFFICE = (
    "Chưa tạo được tệp PDF vì máy chưa cài LibreOffice (không tìm thấy lệnh soffice). Các tệp Word (.docx) "
    "vẫn được tạo đầy đủ. Muốn có PDF: cài LibreOffice miễn phí từ https://www.libreoffice.org/download/ "
    "(Linux: sudo apt install libreoffice-writer; Windows: cài vào thư mục mặc định), rồi chạy lại với --pdf."
)


def find_soffice() -> str | None:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found:
        return found
    if sys.platform == "win32":
        for base in (os.environ.get("PROGRAMFILES", ""), os.environ.get("PROGRAMFILES(X86)", "")):
            candidate = Path(base) / "LibreOffice" / "program" / "soffice.exe"
            if base and candidate.is_file():
                return str(candidate)
    return None


def _run_bounded(command: list[str], timeout: float) -> tuple[int | None, str]:
    """Run with a time limit; on expiry kill the whole process group (soffice starts a child)."""
    kwargs: dict = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT}
    if os.name == "posix":
        kwargs["start_new_session"] = True
    process = subprocess.Popen(command, **kwargs)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if os.name == "posix":
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
        process.communicate()
        return None, ""
    return process.returncode, output.decode("utf-8", "replace")


def convert_to_pdf(
    paths: Sequence[Path], timeout: float, progress: Callable[[int, int], None] | None = None
) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Convert each .docx to a PDF beside it. Returns (converted PDFs, [(docx, Vietnamese reason)]).
    `progress(done, total)` after each document: LibreOffice takes seconds for each."""
    soffice = find_soffice()
    if soffice is None:
        return [], [(Path(p), NO_LIBREOFFICE) for p in paths]
    converted: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    with tempfile.TemporaryDirectory(prefix="thidua-pdf-") as work:
        # A private profile: a LibreOffice the user has open would otherwise swallow the request.
        profile = (Path(work) / "profile").as_uri()
        for done, path in enumerate(map(Path, paths)):
            if progress is not None:
                progress(done, len(paths))
            out = Path(work) / "out"
            shutil.rmtree(out, ignore_errors=True)
            command = [
                soffice, f"-env:UserInstallation={profile}", "--headless", "--norestore", "--nologo",
                "--convert-to", "pdf", "--outdir", str(out), str(path),
            ]  # fmt: skip
            try:
                code, output = _run_bounded(command, timeout)
            except OSError as exc:
                skipped.append((path, f"không chạy được LibreOffice ({exc.strerror})."))
                continue
            produced = out / f"{path.stem}.pdf"
            if code is None:
                skipped.append(
                    (path, f"LibreOffice chạy quá {timeout:g} giây nên đã dừng; tệp .docx vẫn dùng được.")
                )
            elif code != 0 or not produced.is_file():
                detail = output.strip().splitlines()[-1] if output.strip() else f"mã lỗi {code}"
                skipped.append((path, f"LibreOffice không chuyển được sang PDF ({detail})."))
            else:
                converted.append(write_bytes(path.with_suffix(".pdf"), produced.read_bytes()))
    if progress is not None:
        progress(len(paths), len(paths))
    return converted, skipped
