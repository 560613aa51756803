"""summary.json (the machine-readable result of a month) and manifest.json (what a run read and wrote).

Both have a fixed key order and no wall-clock time: re-running a period over the same inbox gives the
same bytes. The keys are documented, with an example, in docs/summary-json.md.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

from processor import breakdown, commend
from processor.aggregate import completeness, units_to_remind
from processor.config import Config
from processor.ingest_cache import REFUSED_CODE
from processor.records import (
    UNKNOWN_TIME,
    Decision,
    Figures,
    PeriodResult,
    Submission,
    TargetResult,
    UnitResult,
)
from processor.render import atomic
from processor.vntext import format_percent

SUMMARY_NAME = "summary.json"
MANIFEST_NAME = "manifest.json"
SUMMARY_FORMAT = "thidua-summary/1"
MANIFEST_FORMAT = "thidua-manifest/1"

# Figures of a unit and of the office, in the order they appear in the JSON.
_FIGURE_KEYS = (
    "staff",
    "staff_by_category",
    "registered",
    "rated_good_or_better",
    "rating_counts",
    "social",
    "initiatives",
    "disciplined",
    "tasks_assigned",
    "tasks_completed",
    "donation_vnd",
    "support_activities",
)


# The office's time: every time of the program is naive Vietnam time (ingest), said here with its offset.
OFFICE_TIME = dt.timezone(dt.timedelta(hours=7))


def iso_time(moment: dt.datetime | None) -> str | None:
    """ISO 8601 with the office's UTC offset, whole seconds: "2024-03-04T16:30:00+07:00"; None for no
    time (or a time that could not be read)."""
    if moment is None or moment == UNKNOWN_TIME:
        return None
    if moment.tzinfo is None:  # every received time: one replace
        return moment.replace(microsecond=0, tzinfo=OFFICE_TIME).isoformat()
    try:
        moment = moment.astimezone(OFFICE_TIME)
    except OverflowError:  # a forged Date within hours of year 1 or 9999
        moment = moment.replace(tzinfo=OFFICE_TIME)
    return moment.replace(microsecond=0).isoformat()


def _number(value: float | int | Fraction) -> int | float:
    """100.0 -> 100, 97.5 -> 97.5: thresholds read as they are written in config.toml."""
    value = float(value)
    return int(value) if value.is_integer() else value


def share_value(share: Fraction | None) -> float | None:
    return None if share is None else round(float(share), 4)


def share_fraction(share: Fraction | None) -> str | None:
    return None if share is None else f"{share.numerator}/{share.denominator}"


def _figures(figures: Figures) -> dict:
    out = {}
    for key in _FIGURE_KEYS:
        value = getattr(figures, key)
        out[key] = dict(value) if isinstance(value, dict) else value
    return out


def _unit(unit: UnitResult) -> dict:
    has_report = unit.figures.units_reporting > 0
    out = {
        "code": unit.unit_code,
        "name": unit.unit_name,
        "status": unit.status.value,
        "received_at": iso_time(unit.received_at),
        "file": unit.file,
        "partial": unit.partial,
    }
    figures = _figures(unit.figures)
    # No usable report: null, not 0, so that "no data" never reads as "nobody".
    out.update(figures if has_report else dict.fromkeys(figures))
    out["self_rating"] = unit.self_rating
    return out


def _totals(totals: Figures) -> dict:
    return {
        "units_reporting": totals.units_reporting,
        "units_rated_good_or_better": totals.units_rated_good_or_better,
        **_figures(totals),
    }


def _target(target: TargetResult) -> dict:
    return {
        "id": target.target_id,
        "label": target.label,
        "measure": target.measure,
        "threshold": _number(target.threshold * 100),
        "numerator": target.numerator,
        "denominator": target.denominator,
        "value": share_value(target.value),
        "fraction": share_fraction(target.value),
        "value_text": format_percent(target.value),
        # From aggregate.judge_target: "met" only when the data prove it; `met` null unless proven.
        "verdict": target.verdict.value,
        "met": target.met,
        "coverage": {"units_reported": target.units_reported, "units_required": target.units_required},
        "blocking_units": list(target.blocking_units),
        "blocking_people": [{"unit": unit, "name": name} for unit, name in target.blocking_people],
    }


def _input(sub: Submission) -> dict:
    errors = sum(f.is_error for f in sub.findings)
    return {
        "name": sub.file.display_name,
        "sha256": sub.file.sha256,
        "status": sub.status.value,
        "unit": sub.unit_code,
        "period": str(sub.period) if sub.period else None,
        "received_at": iso_time(sub.file.received_at),
        "sender": sub.file.sender,
        "errors": errors,
        "warnings": len(sub.findings) - errors,
        # Added last: keys are only ever added within a format version.
        "received_from": sub.file.received_source.value,
        "received_time_copied": sub.file.copied,
        "form_version": sub.form_version,
        "refused_after_rule_change": any(f.code == REFUSED_CODE for f in sub.findings),
    }


def summary_data(
    result: PeriodResult,
    config: Config,
    decisions: Sequence[Decision] = (),
    *,
    breakdowns: Sequence[breakdown.BreakdownResult],
) -> dict:
    """The content of summary.json as plain JSON values, keys in their documented order.

    `breakdowns`: breakdown.breakdowns of `result` and `decisions` (computed once for every output)."""
    campaign = config.campaign_for(result.period)
    counts = completeness(result)
    return {
        "format": SUMMARY_FORMAT,
        "campaign": {
            "id": campaign.id,
            "name": campaign.name,
            "start": campaign.start.isoformat(),
            "end": campaign.end.isoformat(),
        },
        "period": str(result.period),
        "periods_to_date": [str(p) for p in result.periods_to_date],
        "due_date": campaign.due_date(result.period).isoformat(),
        "final": result.final,
        "accept_partial": result.accept_partial,
        "generated_from": [_input(sub) for sub in result.submissions],
        "reporting": {
            "expected": counts.expected,
            "on_time": counts.on_time,
            "late": counts.late,
            "with_errors": counts.with_errors,
            "missing": counts.missing,
            "reporting_rate": share_value(counts.reporting_rate),
            "timeliness_rate": share_value(counts.timeliness_rate),
            "to_remind": [u.unit_code for u in units_to_remind(result)],
        },
        "units": [_unit(u) for u in result.units],
        "totals": _totals(result.totals),
        "targets": [_target(t) for t in result.targets],
        # Added last: the staff and the individuals proposed, by gender, ethnic group... (breakdown.py).
        "breakdowns": breakdown.as_json(breakdowns, {d.award_id: d.award_name for d in decisions}),
        "refused_after_rule_change": [
            s.file.display_name for s in result.submissions if any(f.code == REFUSED_CODE for f in s.findings)
        ],
    }


def dumps(data: dict) -> str:
    """JSON with a line per top-level key, per item of a top-level list (a unit, a target, a file) and
    per key of a top-level object.

    Readable in a text editor and diffable line by line, and written by json's C encoder: indent=2 over
    a province's 1,000 units uses the pure-Python one, four times slower.
    """
    compact = functools.partial(json.dumps, ensure_ascii=False)
    lines = []
    for key, value in data.items():
        if isinstance(value, list) and value:
            items = ",\n    ".join(map(compact, value))
            lines.append(f"  {compact(key)}: [\n    {items}\n  ]")
        elif isinstance(value, dict) and value:
            items = ",\n    ".join(f"{compact(k)}: {compact(v)}" for k, v in value.items())
            lines.append(f"  {compact(key)}: {{\n    {items}\n  }}")
        else:
            lines.append(f"  {compact(key)}: {compact(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def write_summary_json(
    result: PeriodResult,
    config: Config,
    out_dir: Path,
    decisions: Sequence[Decision] = (),
    *,
    breakdowns: Sequence[breakdown.BreakdownResult],
) -> Path:
    """Write `out_dir/summary.json` atomically; the same result always gives the same bytes."""
    data = summary_data(result, config, decisions, breakdowns=breakdowns)
    return atomic.write_text(Path(out_dir) / SUMMARY_NAME, dumps(data))


def add_decided(
    out_dir: Path,
    approved: Sequence[Decision],
    awarded: Sequence[breakdown.BreakdownResult],
    *,
    source: str | None,
    struck: int,
    granted_beyond_rules: int,
) -> list[Path]:
    """`thidua decide`: the closing run's `out_dir/summary.json` gains what was awarded beside what was
    proposed: `decided` (the approval workbook read, counts) and, in each breakdown group, `awarded` by
    award id. `approved`: the decisions the council approved; `awarded`: breakdown.breakdowns of them.
    `source`: the edited approval workbook's name (None: the proposal as it stands).

    Rewritten atomically; a re-run of the month writes summary.json afresh, and decide adds this again.
    Returns the path written, or nothing when the run's summary.json is gone or unreadable (removed by
    hand: the decide documents stand alone)."""
    path = Path(out_dir) / SUMMARY_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    by_id = {r.id: r for r in awarded}
    for entry in data.get("breakdowns", []):
        found = by_id.get(entry.get("id"))
        if found is None:
            continue
        counted = {g.label: g.proposed for g in (*found.groups, found.no_data)}
        for group in [*entry.get("groups", []), entry.get("no_data", {})]:
            group["awarded"] = dict(sorted(counted.get(group.get("label"), {}).items()))
    data["decided"] = {
        "source": source,
        "collectives": sum(d.subject == commend.COLLECTIVE for d in approved),
        "individuals": sum(d.subject == commend.INDIVIDUAL for d in approved),
        "struck": struck,
        "granted_beyond_rules": granted_beyond_rules,
    }
    return [atomic.write_text(path, dumps(data))]


def _relative(path: Path, out_dir: Path) -> str:
    try:
        return path.resolve().relative_to(out_dir.resolve()).as_posix()
    except ValueError:
        return path.name


def manifest_data(
    out_dir: Path, result: PeriodResult, config: Config, outputs: Sequence[Path], version: str
) -> dict:
    out_dir = Path(out_dir)
    files = []
    for path in outputs:
        path = Path(path)
        if path.name == MANIFEST_NAME and path.parent.resolve() == out_dir.resolve():
            continue
        files.append(
            {
                "path": _relative(path, out_dir),
                "sha256": atomic.sha256_file(path),
                "size": path.stat().st_size,
            }
        )
    files.sort(key=lambda f: f["path"])
    return {
        "format": MANIFEST_FORMAT,
        "program": "thidua",
        "version": version,
        "campaign": result.campaign_id,
        "period": str(result.period),
        "final": result.final,
        "accept_partial": result.accept_partial,
        "config_sha256": config.sha256,
        "inputs": [
            {"name": s.file.display_name, "sha256": s.file.sha256, "status": s.status.value}
            for s in result.submissions
        ],
        "outputs": files,
    }


def write_manifest(
    out_dir: Path, result: PeriodResult, config: Config, outputs: Sequence[Path], version: str
) -> Path:
    """Write `out_dir/manifest.json`: inputs with checksums and status, outputs with checksums and sizes."""
    data = manifest_data(out_dir, result, config, outputs, version)
    return atomic.write_text(Path(out_dir) / MANIFEST_NAME, dumps(data))
