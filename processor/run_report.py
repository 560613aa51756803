"""What a run did, said plainly at its end (issue #13).

`build_report` turns a run's outcome (or `thidua status`'s result) into a `RunReport`: the files of the
month with findings, one line per unit; every file that was not used and why; hints (a unit that sent
last month's form); what only the clerk can do (a draft with nobody to send it to, a zip to unpack);
where the feedback drafts, the reminders and the documents are. `render_report` gives its Vietnamese
lines. `run`, `status` and `demo` print the same thing.

Kept light (no openpyxl, no docxtpl): `thidua status` uses it. The rules here that decide what is the
clerk's and what the unit's (`for_clerk`, `has_recipient`) are also the feedback stage's, so the console,
the drafts and the validation report never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePath

from processor.config import Config, is_email_address
from processor.records import FileStatus, Finding, Period, ReportingStatus, Submission, TimeSource
from processor.vntext import format_date

FEEDBACK_DIR = "phan-hoi"  # render/feedback.py writes the drafts here
REMINDERS_DIR = "nhac-nop"  # reminder drafts (.eml), read from disk

_ARCHIVE_SUFFIXES = {".zip", ".rar", ".7z", ".gz", ".tar"}
_WORD_SUFFIXES = {".doc", ".docx", ".docm", ".odt", ".rtf"}
_IN_USE = (FileStatus.ACCEPTED, FileStatus.ACCEPTED_PARTIAL, FileStatus.REJECTED)

# Findings only the clerk can act on: the inbox, the config, the mail itself. A unit is never sent these
# (they say "giải nén … rồi chạy lại", "bổ sung vào units.emails trong config.toml").
CLERK_CODES = frozenset(
    {
        "file_unreadable",
        "folder_unreadable",
        "file_changing",
        "file_too_large",
        "link_not_followed",
        "special_file",
        "folder_too_deep",
        "email_unreadable",
        "too_many_attachments",
        "received_time_not_believed",
        "sender_not_registered",
        "sender_not_registered_not_used",
        "feedback_not_written",
    }
)


class Unused(StrEnum):
    """Why a file of the month was not used."""

    ARCHIVE = "archive"
    WORD = "word"
    WRONG_FORMAT = "wrong_format"
    NOT_A_FORM = "not_a_form"
    NO_IDENTITY = "no_identity"
    UNREADABLE = "unreadable"
    EARLIER_FORM = "earlier_form"
    DUPLICATE = "duplicate"
    SUPERSEDED = "superseded"


UNUSED_LABELS = {
    Unused.ARCHIVE: "tệp nén",
    Unused.WORD: "tệp Word",
    Unused.WRONG_FORMAT: "sai định dạng",
    Unused.NOT_A_FORM: "không phải biểu mẫu",
    Unused.NO_IDENTITY: "không rõ đơn vị hoặc kỳ báo cáo",
    Unused.UNREADABLE: "không đọc được",
    Unused.EARLIER_FORM: "biểu mẫu tháng trước",
    Unused.DUPLICATE: "trùng lặp",
    Unused.SUPERSEDED: "đã có bản mới hơn",
}


@dataclass(frozen=True)
class FileFindings:
    """A file of the month in use (accepted, partly accepted or rejected) that has findings."""

    unit_code: str
    file: str
    status: FileStatus
    errors: int
    warnings: int
    first: str  # the first finding as one console line (errors first)


@dataclass(frozen=True)
class UnusedFile:
    file: str
    kind: Unused
    reason: str  # Vietnamese: why, and what to do


@dataclass(frozen=True)
class ClerkTask:
    file: str
    what: str  # Vietnamese: what the clerk should do


@dataclass(frozen=True)
class Drafts:
    folder: Path
    count: int


@dataclass(frozen=True)
class RunReport:
    period: Period
    with_findings: tuple[FileFindings, ...]
    unused: tuple[UnusedFile, ...]
    hints: tuple[str, ...]
    clerk_tasks: tuple[ClerkTask, ...]
    out_dir: Path | None = None
    outputs: int = 0  # files the run wrote
    feedback: Drafts | None = None
    reminders: Drafts | None = None
    documents: tuple[Path, ...] = ()
    pdf_skipped: tuple[tuple[str, tuple[Path, ...]], ...] = ()  # (reason, documents), one line a reason
    notices: tuple[str, ...] = ()


# ------------------------------------------------------------------------------------------------
# Rules shared with the feedback stage


def for_clerk(finding: Finding) -> bool:
    """Whether a finding is the clerk's to act on rather than the unit's."""
    if finding.code in CLERK_CODES:
        return True
    if finding.code == "no_workbook_attachment":  # value: the e-mail's attachments
        names = (finding.value or "").lower().split("; ")
        return any(PurePath(name).suffix in _ARCHIVE_SUFFIXES for name in names)
    if finding.code == "not_a_report":
        name = PurePath(finding.file.replace("\\", "/")).name.lower()
        # An archive is unpacked by the clerk; lock and temporary files are the clerk's own clutter.
        return PurePath(name).suffix in _ARCHIVE_SUFFIXES or name.startswith(("~$", "."))
    return False


def for_unit(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if not for_clerk(f)]


def has_recipient(submission: Submission, config: Config) -> bool:
    """Whether a draft to the unit would have an address: the unit's registered ones, or the sender."""
    unit = config.unit(submission.unit_code) if submission.unit_code else None
    addresses = [*(unit.emails if unit else ()), submission.file.sender or ""]
    return any(is_email_address(a.strip()) for a in addresses)


# Findings a unit is told alongside others but that call for no reply of their own: a clean report on
# last year's form version is valid, and a monthly e-mail saying so would teach units to ignore replies.
NO_REPLY_ALONE_CODES = frozenset({"form_version_old"})


def needs_feedback(submission: Submission, period: Period) -> bool:
    """A file the feedback stage writes a marked copy for: in use for the month, or unreadable or not the
    form and received in the month or the next (`_of_month`), with findings for the unit."""
    if all(f.code in NO_REPLY_ALONE_CODES for f in for_unit(submission.findings)):
        return False
    if submission.status is FileStatus.UNREADABLE or submission.period is None:
        # Not the form, or not readable: its sender is told, in the runs of the months it may be for.
        bad = submission.status in (FileStatus.UNREADABLE, FileStatus.REJECTED)
        return bad and submission.period in (None, period) and _of_month(submission, period)
    return submission.status in _IN_USE and submission.period == period


def clerk_task(submission: Submission, config: Config, period: Period) -> str | None:
    """What the clerk must do about a file that the drafts cannot do for them, or None."""
    parts = [f.message for f in submission.findings if for_clerk(f)]
    if needs_feedback(submission, period) and not has_recipient(submission, config):
        unit = config.unit(submission.unit_code) if submission.unit_code else None
        if unit is not None:
            parts.append(
                f"Chưa soạn thư phản hồi vì {unit.name} ({unit.code}) chưa có địa chỉ thư điện tử "
                "(units.emails trong config.toml) và tệp không gửi qua thư: bổ sung địa chỉ rồi chạy lại, "
                f"hoặc gửi cho đơn vị bản đánh dấu lỗi trong thư mục {FEEDBACK_DIR}."
            )
        else:
            parts.append(
                "Chưa soạn thư phản hồi vì không rõ đơn vị nào gửi tệp này (tệp không gửi qua thư): tìm "
                f"đơn vị đã gửi và chuyển cho đơn vị bản đánh dấu lỗi trong thư mục {FEEDBACK_DIR}, hoặc "
                "lưu cả thư của đơn vị (.eml, .msg) vào thư mục nhận rồi chạy lại."
            )
    return " ".join(dict.fromkeys(parts)) or None


# ------------------------------------------------------------------------------------------------
# The record


def _of_month(sub: Submission, period: Period) -> bool:
    """A file of the month: for `period`, or of unknown month and e-mailed in that month or the next
    (when that month's reports come in), or saved into the inbox at any time."""
    if sub.period is not None:
        return sub.period == period
    if not sub.file.time_known or sub.file.received_source is TimeSource.MTIME:
        return True  # a copy's time may be months after the e-mail: it says nothing of the month
    return period.first_day <= sub.file.received_at.date() < period.next().next().first_day


def _first(findings: Sequence[Finding]) -> Finding:
    return next((f for f in findings if f.is_error), findings[0])


def _unused_kind(sub: Submission) -> Unused:
    if sub.status is FileStatus.DUPLICATE:
        return Unused.DUPLICATE
    if sub.status is FileStatus.SUPERSEDED:
        return Unused.SUPERSEDED
    codes = {f.code for f in sub.findings}
    if any(f.code == "no_workbook_attachment" and for_clerk(f) for f in sub.findings):
        return Unused.ARCHIVE  # an e-mail whose reports came zipped
    if "not_a_report" in codes:
        suffix = PurePath(sub.file.display_name).suffix.lower()
        if suffix in _ARCHIVE_SUFFIXES:
            return Unused.ARCHIVE
        if suffix in _WORD_SUFFIXES:
            return Unused.WORD
        return Unused.WRONG_FORMAT
    if codes & {"wrong_form", "no_workbook_attachment"}:
        return Unused.NOT_A_FORM
    if sub.status is not FileStatus.UNREADABLE:
        return Unused.NO_IDENTITY  # the form, but which unit or month it is for is not known
    return Unused.UNREADABLE


def _unused_reason(sub: Submission) -> str:
    if sub.status is FileStatus.DUPLICATE:
        return f"giống hệt tệp {sub.superseded_by}, chỉ dùng một lần."
    if sub.status is FileStatus.SUPERSEDED:
        return f"đơn vị đã gửi bản mới hơn ({sub.superseded_by}), bản này không dùng."
    return _first(sub.findings).message if sub.findings else "không dùng được."


def _earlier_forms(
    period: Period, submissions: Sequence[Submission], without_report: set[str]
) -> list[tuple[Submission, str]]:
    """Files received when `period`'s reports come in (from the first day of the next month) that are a
    form of an earlier month, from a unit with no usable report for `period`: last month's form sent
    again, or filled with this month's figures."""
    since = period.next().first_day
    found = []
    for sub in submissions:
        if (
            sub.period is None
            or sub.period >= period
            or not sub.unit_code
            or sub.unit_code.upper() not in without_report
            or sub.status is FileStatus.UNREADABLE
            or not sub.file.time_known
            or sub.file.received_at.date() < since
        ):
            continue
        used = ""
        if sub.status in (FileStatus.ACCEPTED, FileStatus.ACCEPTED_PARTIAL):
            replaced = [
                other.file.display_name
                for other in submissions
                if other.status is FileStatus.SUPERSEDED and other.superseded_by == sub.file.display_name
            ]
            if replaced:
                used = (
                    f" Tệp này đang được dùng làm báo cáo tháng {sub.period.label} thay cho {replaced[0]}; "
                    f"nếu đó không phải ý của đơn vị, chuyển tệp này ra khỏi thư mục nhận rồi chạy lại kỳ "
                    f"{sub.period}."
                )
        hint = (
            f"{sub.unit_code} gửi biểu mẫu tháng {sub.period.label} (tệp {sub.file.display_name}, nhận ngày "
            f"{format_date(sub.file.received_at.date())}) trong thời gian nộp báo cáo tháng {period.label}: "
            f"kỳ báo cáo ghi trong tệp là tháng {sub.period.label}, nên tệp không được tính cho tháng "
            f"{period.label}. Nếu đơn vị định gửi báo cáo tháng {period.label}, đề nghị đơn vị điền biểu mẫu "
            f"tháng {period.label} (thidua template --period {period} --unit {sub.unit_code}) rồi gửi lại."
            f"{used}"
        )
        found.append((sub, hint))
    return found


def _drafts(folder: Path) -> Drafts | None:
    try:
        count = sum(1 for p in folder.iterdir() if p.suffix.lower() == ".eml" and p.is_file())
    except OSError:
        return None
    return Drafts(folder, count) if count else None


def build_report(
    config: Config,
    period: Period,
    submissions: Sequence[Submission],
    units: Sequence[object],
    *,
    out_dir: Path | None = None,
    outputs: Sequence[Path] = (),
    pdf_skipped: Sequence[tuple[Path, str]] = (),
    notices: Sequence[str] = (),
) -> RunReport:
    """The record of a run (`outputs`: what it wrote into `out_dir`) or of a status (`out_dir` the period
    folder of an earlier run, if any: the drafts there are counted). `units`: each unit's reporting
    status for the month (UnitResult or UnitReporting)."""
    without_report = {
        u.unit_code.upper()  # type: ignore[attr-defined]
        for u in units
        if u.status in (ReportingStatus.MISSING, ReportingStatus.WITH_ERRORS)  # type: ignore[attr-defined]
    }
    month = [sub for sub in submissions if _of_month(sub, period)]
    with_findings = []
    unused = []
    for sub in month:
        if sub.status in _IN_USE and sub.unit_code and sub.period == period:
            if sub.findings:
                errors = sum(f.is_error for f in sub.findings)
                with_findings.append(
                    FileFindings(
                        sub.unit_code,
                        sub.file.display_name,
                        sub.status,
                        errors,
                        len(sub.findings) - errors,
                        _first(sub.findings).line(),
                    )
                )
        else:
            unused.append(UnusedFile(sub.file.display_name, _unused_kind(sub), _unused_reason(sub)))
    earlier = _earlier_forms(period, submissions, without_report)
    for sub, _ in earlier:
        unused.append(
            UnusedFile(
                sub.file.display_name,
                Unused.EARLIER_FORM,
                f"biểu mẫu tháng {sub.period.label}, không phải tháng {period.label}.",  # type: ignore[union-attr]
            )
        )
    tasks = []
    said = {(item.file, item.reason) for item in unused}
    for sub in month:
        what = clerk_task(sub, config, period)
        if what and (sub.file.display_name, what) not in said:  # a .zip: its reason says it already
            tasks.append(ClerkTask(sub.file.display_name, what))
    rank = {u.unit_code.upper(): i for i, u in enumerate(units)}  # type: ignore[attr-defined]
    with_findings.sort(key=lambda f: (rank.get(f.unit_code.upper(), len(rank)), f.file))
    documents: tuple[Path, ...] = ()
    feedback = reminders = None
    if out_dir is not None:
        documents = tuple(
            p
            for p in outputs
            if p.parent == out_dir and (p.suffix.lower() in (".docx", ".pdf", ".xlsx"))
        )
        feedback = _drafts(out_dir / FEEDBACK_DIR)
        reminders = _drafts(out_dir / REMINDERS_DIR)
    grouped: dict[str, list[Path]] = {}
    for path, reason in pdf_skipped:
        grouped.setdefault(reason, []).append(Path(path))
    return RunReport(
        period=period,
        with_findings=tuple(with_findings),
        unused=tuple(unused),
        hints=tuple(hint for _, hint in earlier),
        clerk_tasks=tuple(tasks),
        out_dir=out_dir,
        outputs=len(outputs),
        feedback=feedback,
        reminders=reminders,
        documents=documents,
        pdf_skipped=tuple((reason, tuple(paths)) for reason, paths in grouped.items()),
        notices=tuple(notices),
    )


# ------------------------------------------------------------------------------------------------
# The text


def render_report(report: RunReport, *, run: bool = True) -> list[str]:
    """The report's Vietnamese lines. `run`: the end of a run (the documents and the result folder);
    otherwise a status (what is on disk from an earlier run, if anything)."""
    lines: list[str] = []
    period = report.period.label
    if report.with_findings:
        lines.append(f"Tệp có lỗi, cảnh báo kỳ {period} ({len(report.with_findings)} tệp):")
        for item in report.with_findings:
            used = {
                FileStatus.ACCEPTED: "đã dùng",
                FileStatus.ACCEPTED_PARTIAL: "dùng các dòng hợp lệ",
                FileStatus.REJECTED: "chưa dùng được",
            }[item.status]
            lines.append(
                f"  {item.unit_code}: {item.errors} lỗi, {item.warnings} cảnh báo ({used}) – {item.file}"
            )
            lines.append(f"      {item.first}")
    if report.unused:
        lines.append(f"Tệp không dùng ({len(report.unused)}):")
        for item in report.unused:
            lines.append(f"  {item.file}: {UNUSED_LABELS[item.kind]} – {item.reason}")
    for hint in report.hints:
        lines.append(f"Gợi ý: {hint}")
    if report.clerk_tasks:
        lines.append(f"Việc văn thư cần làm ({len(report.clerk_tasks)}):")
        for task in report.clerk_tasks:
            lines.append(f"  {task.file}: {task.what}")
    for reason, paths in report.pdf_skipped:
        names = ", ".join(p.name for p in paths)
        lines.append(f"Không xuất PDF cho {names}: {reason}")
    lines += report.notices
    if report.feedback is not None:
        lines.append(
            f"Thư phản hồi soạn sẵn cho đơn vị: {report.feedback.folder} ({report.feedback.count} thư, "
            "mở bằng Outlook hoặc Thunderbird để gửi)"
        )
    if report.reminders is not None:
        lines.append(f"Thư nhắc nộp báo cáo: {report.reminders.count} thư trong {report.reminders.folder}")
    if run and report.out_dir is not None:
        if report.documents:
            lines.append("Văn bản và bảng tính:")
            lines += [f"  {path}" for path in report.documents]
        lines.append(f"Kết quả: {report.out_dir} ({report.outputs} tệp)")
    return lines

