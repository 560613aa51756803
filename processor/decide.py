"""Decide: the council's approval read back, checked, and turned into the Quyết định and the Giấy khen.

The closing run writes `output/<period>/duyet-khen-thuong-<period>.xlsx` (render/approval.py). The clerk
edits it after the council meets and saves it where it is. A later `thidua run` of the same period
keeps the edited copy (publish.py moves what the clerk changed into `output/<period>/da-sua-*/`), so
`decide` looks in both places and takes the most recently saved edited copy; `--file` names one
explicitly. With no edited copy it takes the proposal as it stands, and says so.

Checks (each a Vietnamese finding naming the row): the workbook's period, a "Hội đồng đồng ý" other
than Có/Không, an unknown unit or person, an unknown award, a duplicate (the same subject twice: one
achievement, one award), and an award the subject does not meet under the rule set, which the council
may still grant: allowed, flagged for the record.

`review` is pure apart from reading the workbook; `decide_period` runs the stages again for the period
(ingest with the run's memo, aggregate, commend) and writes the documents under the lock.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from processor import commend
from processor import findings as catalogue
from processor.config import Config, RuleSet
from processor.records import Decision, Period, PeriodResult, Severity, UserError
from processor.render import approval
from processor.vntext import clean, fold

RECORD_NAME = "ghi-nhan-duyet-{period}.txt"


@dataclass(frozen=True)
class Finding:
    row: int | None  # the workbook's row (Excel numbering); None for the workbook as a whole
    message: str
    blocking: bool = False  # nothing is written while a blocking finding stands

    def line(self) -> str:
        return f"Dòng {self.row}: {self.message}" if self.row else self.message


def _note(key: str, row: int | None, **fields: object) -> Finding:
    """The approval finding `key` of the catalogue (processor/findings.py): its errors are blocking."""
    entry = catalogue.CATALOGUE[key]
    return Finding(row, entry.format(fields), entry.severity is Severity.ERROR)


@dataclass
class Review:
    """The approved list and what was found on the way."""

    source: Path | None  # the edited workbook read; None: the proposal as it stands
    approved: list[Decision]  # proposed=True, in the office's order (collectives, then individuals)
    findings: list[Finding] = field(default_factory=list)
    notes: dict[tuple[str, str], str] = field(default_factory=dict)  # (subject key, award id) -> note
    not_eligible: list[Decision] = field(default_factory=list)  # granted by the council beyond the rules
    struck: list[Decision] = field(default_factory=list)  # proposed, "Không" in the workbook

    @property
    def blocked(self) -> bool:
        return any(f.blocking for f in self.findings)


@dataclass
class DecideOutcome:
    review: Review
    out_dir: Path
    outputs: list[Path] = field(default_factory=list)
    pdf_skipped: list[tuple[Path, str]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------------------
# Finding the clerk's workbook


def edited_workbooks(period_dir: Path, period_text: str) -> list[Path]:
    """The approval workbooks under `period_dir` someone saved after the program wrote them, newest
    first: the one in the folder when it differs from what the manifest recorded, and every copy that
    a re-run kept in a da-sua-* folder."""
    from processor import publish
    from processor.render import atomic
    from processor.render.summary import MANIFEST_NAME

    name = approval.file_name(period_text)
    found: list[Path] = []
    current = period_dir / name
    if current.is_file():
        try:
            manifest = json.loads((period_dir / MANIFEST_NAME).read_bytes())
            listed = {e["path"]: (int(e["size"]), e["sha256"]) for e in manifest["outputs"]}
        except (OSError, ValueError, TypeError, KeyError):
            listed = {}
        entry = listed.get(name)
        if entry is None or entry != (current.stat().st_size, atomic.sha256_file(current)):
            found.append(current)
    for kept in sorted(period_dir.glob(f"{publish.KEPT_PREFIX}*")):
        found += [p for p in kept.rglob(name) if p.is_file()]
    return sorted(found, key=lambda p: (p.stat().st_mtime, str(p)), reverse=True)


# ------------------------------------------------------------------------------------------------
# Reading and checking


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return clean(str(value))


@dataclass(frozen=True)
class _Row:
    row: int
    subject: str
    name: str
    unit: str
    award: str
    agreed: str
    note: str
    key: str


def _read_rows(config: Config, path: Path) -> tuple[list[_Row], str | None, list[Finding]]:
    """The filled rows of the approval sheet and the period the workbook says it is for."""
    from processor.reader import read_workbook

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"Không đọc được bảng duyệt {path}: {exc.strerror}.") from None
    book = read_workbook(data, path.name, config.validation, [approval.SHEET, approval.INFO_SHEET])
    sheet = book.sheet(approval.SHEET) if book.readable else None
    if sheet is None:
        reasons = "; ".join(f.message for f in book.findings) or f"không có sheet “{approval.SHEET}”"
        return [], None, [_note("approval_unreadable", None, name=path.name, reasons=reasons)]
    info = book.sheet(approval.INFO_SHEET)
    period = None
    if info is not None:
        for r in range(1, 10):
            if _text(info.value(r, 1)) == approval.INFO_PERIOD:
                period = _text(info.value(r, 2))
    rows: list[_Row] = []
    for r in range(approval.HEADER_ROW + 1, sheet.height + 1):
        cells = [_text(sheet.value(r, c)) for c in range(1, len(approval.COLUMNS) + 1)]
        if cells[approval.COL_NAME - 1] == approval.ADDITIONS_LABEL:
            continue
        if not any(cells[c - 1] for c in (approval.COL_NAME, approval.COL_UNIT, approval.COL_AWARD)):
            continue
        rows.append(
            _Row(
                r,
                cells[approval.COL_SUBJECT - 1],
                cells[approval.COL_NAME - 1],
                cells[approval.COL_UNIT - 1],
                cells[approval.COL_AWARD - 1],
                cells[approval.COL_AGREED - 1],
                cells[approval.COL_NOTE - 1],
                cells[approval.COL_KEY - 1],
            )
        )
    return rows, period, []


def _proposal_rows(
    config: Config, result: PeriodResult, decisions: Sequence[Decision], rule_sets
) -> list[_Row]:
    """The workbook as the program wrote it: every proposal agreed."""
    from processor.render.documents import proposal_order

    collectives, individuals = proposal_order(config, result, decisions, rule_sets)
    return [
        _Row(0, approval.SUBJECT_TEXT[d.subject], d.subject_name, d.unit_code, d.award_name, approval.YES, "",
             d.subject_key)
        for d in [*collectives, *individuals]
    ]  # fmt: skip


class _Index:
    """Look-ups from what a clerk types (names, unit names or codes, award names) to the decisions."""

    def __init__(self, config: Config, result: PeriodResult, decisions: Sequence[Decision]):
        self.units: dict[str, str] = {}
        for unit in config.units:
            self.units[fold(unit.code)] = unit.code
            self.units[fold(unit.name)] = unit.code
        for unit in result.unit_histories:
            self.units.setdefault(fold(unit.unit_name), unit.unit_code)
        self.by_subject: dict[tuple[str, str], dict[str, Decision]] = {}  # (subject, key) -> award -> d
        self.people: dict[tuple[str, str], list[str]] = {}  # (unit code, folded name) -> keys
        self.awards: dict[tuple[str, str], list[str]] = {}  # (subject, folded award name) -> award ids
        for d in decisions:
            self.by_subject.setdefault((d.subject, d.subject_key), {})[d.award_id] = d
            ids = self.awards.setdefault((d.subject, fold(d.award_name)), [])
            if d.award_id not in ids:
                ids.append(d.award_id)
            if d.subject == commend.INDIVIDUAL:
                keys = self.people.setdefault((d.unit_code, fold(d.subject_name)), [])
                if d.subject_key not in keys:
                    keys.append(d.subject_key)


def review(
    config: Config,
    result: PeriodResult,
    decisions: Sequence[Decision],
    rule_sets: Sequence[RuleSet],
    workbook: Path | None,
) -> Review:
    """Check the approval workbook (None: the proposal as it stands) against the period's decisions."""
    from processor.render.documents import proposal_order

    findings: list[Finding] = []
    if workbook is None:
        rows = _proposal_rows(config, result, decisions, rule_sets)
    else:
        rows, period, findings = _read_rows(config, workbook)
        if period is not None and period != str(result.period):
            findings.append(
                _note(
                    "approval_other_period",
                    None,
                    name=workbook.name,
                    period=period,
                    current=result.period,
                    expected_name=approval.file_name(str(result.period)),
                )
            )
        elif period is None and not findings:
            findings.append(
                _note("approval_period_unknown", None, name=workbook.name, info_sheet=approval.INFO_SHEET)
            )
    index = _Index(config, result, decisions)
    chosen: dict[tuple[str, str], tuple[int, Decision]] = {}  # (subject, key) -> (row, decision)
    notes: dict[tuple[str, str], str] = {}
    not_eligible: list[Decision] = []
    struck: list[Decision] = []
    for row in rows:
        found = _match(row, index, findings)
        if found is None:
            continue
        agreed = fold(row.agreed)
        if agreed not in (fold(approval.YES), fold(approval.NO)):
            what = f"ghi “{row.agreed}”" if row.agreed else "để trống"
            findings.append(
                _note(
                    "approval_agreed_invalid",
                    row.row,
                    subject=found.subject_name,
                    award=found.award_name,
                    what=what,
                    yes=approval.YES,
                    no=approval.NO,
                )
            )
            continue
        if agreed == fold(approval.NO):
            if found.proposed:
                struck.append(found)
            continue
        subject = (found.subject, found.subject_key)
        if subject in chosen:
            first_row, first = chosen[subject]
            where = f"dòng {first_row}" if first_row else "danh sách"
            findings.append(
                _note(
                    "approval_second_award",
                    row.row,
                    subject=found.subject_name,
                    where=where,
                    award=first.award_name,
                )
            )
            continue
        if not found.proposed and not commend.meets_criteria(found):
            reasons = "; ".join(o.reason for o in found.outcomes if not o.passed) or "không được đề nghị"
            findings.append(
                _note(
                    "approval_not_eligible",
                    row.row,
                    subject=found.subject_name,
                    award=found.award_name,
                    reasons=reasons,
                )
            )
            not_eligible.append(found)
        chosen[subject] = (row.row, dataclasses.replace(found, proposed=True))
        if row.note:
            notes[(found.subject_key, found.award_id)] = row.note
    collectives, individuals = proposal_order(config, result, [d for _, d in chosen.values()], rule_sets)
    return Review(workbook, [*collectives, *individuals], findings, notes, not_eligible, struck)


def _match(row: _Row, index: _Index, findings: list[Finding]) -> Decision | None:
    """The decision a row names (its award for its subject), or None with a finding saying why."""
    name = row.name or "(chưa ghi tên)"
    subject_text = fold(row.subject)
    if subject_text == fold(approval.COLLECTIVE_TEXT):
        subject = commend.COLLECTIVE
    elif subject_text == fold(approval.INDIVIDUAL_TEXT) or not row.subject:
        subject = commend.INDIVIDUAL if row.unit or row.key.count("|") else commend.COLLECTIVE
    else:
        findings.append(
            _note(
                "approval_subject_invalid",
                row.row,
                name=name,
                subject=row.subject,
                collective=approval.COLLECTIVE_TEXT,
                individual=approval.INDIVIDUAL_TEXT,
            )
        )
        return None
    awards = index.awards.get((subject, fold(row.award)), [])
    if not row.award or not awards:
        known = sorted({a for (s, _), ids in index.awards.items() if s == subject for a in ids})
        names = {d.award_id: d.award_name for by in index.by_subject.values() for d in by.values()}
        allowed = ", ".join(dict.fromkeys(names[a] for a in known)) or "(không có)"
        what = f"“{row.award}”" if row.award else "(để trống)"
        findings.append(_note("approval_award_unknown", row.row, name=name, what=what, allowed=allowed))
        return None
    if subject == commend.COLLECTIVE:
        code = index.units.get(fold(row.name)) or index.units.get(fold(row.unit))
        if code is None:
            findings.append(_note("approval_unit_unknown/collective", row.row, name=name))
            return None
        key = code
    else:
        code = index.units.get(fold(row.unit))
        if code is None:
            what = f"“{row.unit}”" if row.unit else "(để trống)"
            findings.append(_note("approval_unit_unknown/individual", row.row, name=name, what=what))
            return None
        keys = index.people.get((code, fold(row.name)), [])
        if row.key in keys:
            key = row.key
        elif len(keys) == 1:
            key = keys[0]
        elif keys:
            findings.append(_note("approval_person_ambiguous", row.row, name=name, count=len(keys)))
            return None
        else:
            findings.append(_note("approval_person_unknown", row.row, name=name, unit=row.unit))
            return None
    by_award = index.by_subject.get((subject, key), {})
    decision = next((by_award[a] for a in awards if a in by_award), None)
    if decision is None:  # pragma: no cover - every subject is judged for every award of its kind
        findings.append(_note("approval_not_judged", row.row, name=name, award=row.award))
    return decision


# ------------------------------------------------------------------------------------------------
# The stage


def _manifest(period_dir: Path) -> dict:
    from processor.render.summary import MANIFEST_NAME

    try:
        return json.loads((period_dir / MANIFEST_NAME).read_bytes())
    except (OSError, ValueError):
        return {}


def decide_period(
    config: Config,
    period_text: str,
    inbox: Path,
    out_root: Path,
    *,
    workbook: Path | None = None,
    pdf: bool = False,
    today: dt.date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DecideOutcome:
    """`thidua decide`: the Quyết định and the Giấy khen of the period's closing run."""
    from processor import breakdown, pipeline
    from processor.aggregate import aggregate
    from processor.render import decision_docs, summary
    from processor.render.documents import convert_to_pdf

    period = Period.parse(period_text)
    config.campaign_for(period)
    period_dir = out_root / str(period)
    generated = period_dir / approval.file_name(str(period))
    if workbook is None and not generated.is_file():
        raise UserError(
            f"Chưa có bảng duyệt {generated}. Chạy “thidua run --period {period}” cho tháng cuối đợt (hoặc "
            "với --final) để lập tờ trình và bảng duyệt trước, rồi chạy lại lệnh này."
        )
    template_dir = pipeline.template_dir_for(config)
    decision_docs.check_templates(template_dir, config)
    manifest = _manifest(period_dir)
    with pipeline.workspace_lock(out_root):
        notices = pipeline.recover_interrupted(out_root)
        if workbook is None:
            candidates = edited_workbooks(period_dir, str(period))
            workbook = candidates[0] if candidates else None
            if len(candidates) > 1:
                others = ", ".join(str(p) for p in candidates[1:])
                notices.append(
                    f"Có {len(candidates)} bảng duyệt đã sửa; dùng bản lưu sau cùng. Các bản khác: {others}"
                )
        accept_partial = bool(manifest.get("accept_partial", False))
        submissions = pipeline.ingest_inbox(
            config, inbox, accept_partial=accept_partial, progress=progress, out_root=out_root
        )
        result = aggregate(
            config, period, submissions, final=True, accept_partial=accept_partial, earlier="figures"
        )
        decisions = commend.decide_closing(config, result)
        rule_sets = commend.closing_rule_sets(config, result)
        checked = review(config, result, decisions, rule_sets, workbook)
        outcome = DecideOutcome(checked, period_dir, notices=notices)
        if checked.blocked:
            return outcome
        period_dir.mkdir(parents=True, exist_ok=True)
        outcome.notices += _keep_edited(
            period_dir, [*decision_docs.all_names(str(period)), RECORD_NAME.format(period=period)]
        )
        # The approved list as proposals: the documents' and summary.json's figures of who is awarded.
        awarded = breakdown.breakdowns(config, result, checked.approved)
        outcome.outputs = decision_docs.write_decision_documents(
            config, result, checked, template_dir, period_dir, breakdowns=awarded, today=today
        )
        outcome.outputs.append(_write_record(result, checked, period_dir))
        outcome.outputs += summary.add_decided(
            period_dir,
            checked.approved,
            awarded,
            source=checked.source.name if checked.source else None,
            struck=len(checked.struck),
            granted_beyond_rules=len(checked.not_eligible),
        )
        if pdf:
            converted, outcome.pdf_skipped = convert_to_pdf(
                [p for p in outcome.outputs if p.suffix == ".docx"], config.documents.pdf_timeout_seconds
            )
            outcome.outputs += converted
        _add_to_manifest(period_dir, outcome.outputs)
    return outcome


def _keep_edited(period_dir: Path, names: Sequence[str]) -> list[str]:
    """Decide's earlier documents that someone changed since (Word, a signature) are moved into a
    da-sua-* folder rather than written over, as a re-run of `thidua run` does (publish.py)."""
    import os

    from processor import publish
    from processor.render import atomic

    listed = {
        e.get("path"): (e.get("size"), e.get("sha256")) for e in _manifest(period_dir).get("outputs", [])
    }
    changed = []
    for name in names:
        path = period_dir / name
        if path.is_file() and listed.get(name) != (path.stat().st_size, atomic.sha256_file(path)):
            changed.append(name)
    if not changed:
        return []
    folder = publish.kept_folder_name(period_dir, dt.datetime.now())
    lines = []
    for name in changed:
        (period_dir / folder).mkdir(exist_ok=True)
        os.replace(period_dir / name, period_dir / folder / name)
        item = publish.Kept(name, f"{folder}/{name}", publish.CHANGED)
        lines.append(publish.kept_line(item, period_dir))
    return lines


def _write_record(result: PeriodResult, checked: Review, period_dir: Path) -> Path:
    """What the council decided beyond the proposal, for the file: plain text, one line each."""
    from processor.render.atomic import write_text

    lines = [f"Kết quả duyệt khen thưởng kỳ {result.period.label}"]
    source = checked.source.name if checked.source else "danh sách đề nghị giữ nguyên (chưa sửa bảng duyệt)"
    lines.append(f"Nguồn: {source}")
    lines.append(f"Được khen thưởng: {len(checked.approved)}")
    for d in checked.struck:
        lines.append(f"Hội đồng không đồng ý: {d.subject_name} ({d.award_name})")
    for d in checked.not_eligible:
        lines.append(f"Hội đồng đồng ý dù chưa đạt tiêu chuẩn: {d.subject_name} ({d.award_name})")
    for (key, award), note in checked.notes.items():
        name = next((d.subject_name for d in checked.approved if d.subject_key == key), key)
        lines.append(f"Ghi chú của Hội đồng về {name} ({award}): {note}")
    lines += [f.line() for f in checked.findings]
    return write_text(period_dir / RECORD_NAME.format(period=result.period), "\n".join(lines) + "\n")


def _add_to_manifest(period_dir: Path, outputs: Sequence[Path]) -> None:
    """The decide outputs join the period's manifest, so a re-run treats them as the program's own
    (kept only when someone changed them since; publish.py)."""
    from processor.render import atomic
    from processor.render.summary import MANIFEST_FORMAT, MANIFEST_NAME, dumps

    data = _manifest(period_dir)
    if data.get("format") != MANIFEST_FORMAT:
        return
    names = {p.name for p in outputs}
    entries = [e for e in data.get("outputs", []) if e.get("path") not in names]
    for path in outputs:
        entries.append({"path": path.name, "sha256": atomic.sha256_file(path), "size": path.stat().st_size})
    data["outputs"] = sorted(entries, key=lambda e: e["path"])
    atomic.write_text(period_dir / MANIFEST_NAME, dumps(data))


def report_lines(outcome: DecideOutcome) -> list[tuple[str, bool]]:
    """What `thidua decide` prints: (line, is a warning)."""
    checked = outcome.review
    lines: list[tuple[str, bool]] = [(n, True) for n in outcome.notices]
    if checked.source is None:
        lines.append(
            (
                "Chưa có bảng duyệt nào được sửa: lập Quyết định theo danh sách đề nghị của tờ trình, giữ "
                "nguyên (coi như Hội đồng đồng ý tất cả).",
                True,
            )
        )
    else:
        lines.append((f"Bảng duyệt: {checked.source}", False))
    lines += [(f.line(), True) for f in checked.findings]
    if checked.blocked:
        lines.append(("Chưa lập Quyết định: sửa các lỗi trên rồi chạy lại.", True))
        return lines
    collectives = sum(d.subject == commend.COLLECTIVE for d in checked.approved)
    lines.append(
        (
            f"Khen thưởng {collectives} tập thể và {len(checked.approved) - collectives} cá nhân; "
            f"Hội đồng không đồng ý {len(checked.struck)}, đồng ý dù chưa đạt tiêu chuẩn "
            f"{len(checked.not_eligible)}.",
            False,
        )
    )
    lines += [(f"Không xuất PDF cho {path.name}: {reason}", True) for path, reason in outcome.pdf_skipped]
    lines.append((f"Kết quả: {outcome.out_dir} ({len(outcome.outputs)} tệp)", False))
    lines += [(f"  {path}", False) for path in outcome.outputs]
    return lines
