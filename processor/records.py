"""Plain typed records that flow between the stages.

config -> template / ingest -> validate -> aggregate -> commend -> render.
Every stage takes and returns these; none of them does I/O.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple


class UserError(Exception):
    """An error the user can fix (bad config, missing folder...). Its message is Vietnamese.

    The CLI prints it without a traceback and exits non-zero.
    """


@dataclass(frozen=True, order=True)
class Period:
    """A reporting month."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        """Accept '2024-02' (CLI, file names) and '02/2024' (what units type)."""
        raw = str(text).strip()
        try:
            if "/" in raw:
                month_text, year_text = raw.split("/")
            else:
                year_text, month_text = raw.split("-")
            period = cls(int(year_text), int(month_text))
        except ValueError:
            raise UserError(f"Kỳ báo cáo “{raw}” không hợp lệ: ghi theo dạng 2024-02 hoặc 02/2024.") from None
        if not (1 <= period.month <= 12 and 1900 <= period.year <= 9999):
            raise UserError(f"Kỳ báo cáo “{raw}” không hợp lệ: tháng phải từ 01 đến 12.")
        return period

    @classmethod
    def of(cls, day: dt.date) -> Period:
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        """The form units see and type: 02/2024."""
        return f"{self.month:02d}/{self.year:04d}"

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    def next(self) -> Period:
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Period:
        return Period(self.year - (self.month == 1), (self.month - 2) % 12 + 1)


class Severity(StrEnum):
    ERROR = "Lỗi"
    WARNING = "Cảnh báo"


@dataclass(frozen=True)
class Finding:
    """One problem found in one received file, located as precisely as possible."""

    severity: Severity
    code: str  # stable machine code, e.g. "required", "allowed_values"
    message: str  # Vietnamese: what is wrong and what to enter instead
    file: str  # file name as the clerk sees it (an e-mail attachment: "mail.eml › bao-cao.xlsx")
    sheet: str | None = None
    cell: str | None = None  # A1 notation
    field: str | None = None  # Vietnamese label of the form field
    value: str | None = None  # what was found, as text

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def line(self) -> str:
        """One console line: '[Lỗi] Cá nhân: Ô G7: …' (the cell is named once, in the message or here)."""
        named = self.cell is not None and self.message.startswith(f"Ô {self.cell}")
        where = ": ".join(x for x in (self.sheet, None if named else self.cell and f"Ô {self.cell}") if x)
        return f"[{self.severity}] {where + ': ' if where else ''}{self.message}"


class FileStatus(StrEnum):
    ACCEPTED = "accepted"  # valid, used
    ACCEPTED_PARTIAL = "accepted_partial"  # had errors, valid rows used (--accept-partial)
    REJECTED = "rejected"  # had errors, not used
    UNREADABLE = "unreadable"  # not a workbook we can read at all
    DUPLICATE = "duplicate"  # same sha256 as another file
    SUPERSEDED = "superseded"  # an older version of a unit's report for the period
    OTHER_PERIOD = "other_period"  # a valid report, but for another month


class TimeSource(StrEnum):
    """Where a received file's `received_at` comes from, most trusted first (ingest's documented order,
    docs/architecture.md "Received time")."""

    MAILBOX = "mailbox"  # the mailbox's own received time (a mailbox intake: IMAP INTERNALDATE)
    RECEIVED = "received"  # the e-mail's topmost `Received:` header: the office's own mail server
    DATE = "date"  # the e-mail's `Date:` header: the sender's clock
    MTIME = "mtime"  # the file's modification time in the inbox

    @property
    def rank(self) -> int:
        """Larger is more trusted: breaks ties between equal times."""
        return len(TimeSource) - list(TimeSource).index(self)


# received_at of a file whose time could not be read at all (it went away while the inbox was read).
UNKNOWN_TIME = dt.datetime(1970, 1, 1, 7, 0)


@dataclass(frozen=True)
class ReceivedFile:
    """A workbook as received: from the inbox directly or as an e-mail attachment."""

    display_name: str  # what messages call it
    source_path: Path  # the file in the inbox (the e-mail for an attachment)
    sha256: str
    received_at: dt.datetime  # see `received_source`
    sender: str | None = None  # e-mail From address, if it came in an e-mail
    attachment_name: str | None = None
    received_source: TimeSource = TimeSource.MTIME
    modified: dt.datetime | None = None  # the inbox file's modification time (copies are told by it)
    # Header times not believed (after the moment the inbox was read, before the campaign): one finding
    # each, added to the file's submission after validation.
    time_findings: tuple[Finding, ...] = ()
    copied: bool = False  # received_at is a modification time that looks like a copy's (ingest)
    message_id: str | None = None  # of the e-mail it came in: the feedback reply threads under it

    @property
    def time_known(self) -> bool:
        return self.received_at != UNKNOWN_TIME

    @property
    def time_is_weak(self) -> bool:
        """A modification time that says nothing about when the unit sent the file: a copy's, or that
        of an e-mail whose own dates were not believed."""
        return self.received_source is TimeSource.MTIME and (self.copied or bool(self.time_findings))


@dataclass(frozen=True)
class Incoming:
    """A received workbook's bytes, ready to be read: what ingest hands to validate."""

    file: ReceivedFile
    data: bytes = field(repr=False)


class PersonRecord(NamedTuple):
    """One staff row of the `Cá nhân` sheet, typed and normalised.

    A named tuple, not a dataclass: a province's run builds, pickles between processes and reads back
    150,000 of them, and a tuple is made, pickled and unpickled several times faster.
    """

    row: int  # the Excel row number, for messages
    name: str
    birth_date: dt.date | None
    position: str
    category: str  # staff category code from config
    registered: bool
    rating: str  # rating code from config, e.g. "HTTNV"
    social: bool
    initiatives: int
    discipline: str  # discipline level label from config; "Không" for none
    note: str = ""
    # Columns of form version 2 on (form.py). None: no data, the cell was empty or the unit's form has
    # no such column; never a value of its own (figures count it as "không có số liệu").
    gender: str | None = None  # "Nam" or "Nữ"
    ethnicity: str | None = None  # the ethnic group's name as in config's form.ethnic_groups
    recruited_on: dt.date | None = None  # Ngày tuyển dụng
    leader: bool | None = None  # holds a leadership or management post (lãnh đạo, quản lý)


@dataclass(frozen=True)
class UnitReport:
    """The content of one unit's workbook for one month, typed and normalised."""

    unit_code: str
    unit_name: str
    period: Period
    preparer: str
    phone: str
    prepared_on: dt.date | None
    self_rating: str | None  # rating code
    tasks_assigned: int
    tasks_completed: int
    donation_vnd: int
    support_activities: int
    highlights: str
    people: tuple[PersonRecord, ...]


@dataclass
class Submission:
    """One received workbook after ingestion and validation."""

    file: ReceivedFile
    status: FileStatus
    findings: list[Finding] = field(default_factory=list)
    unit_code: str | None = None
    period: Period | None = None
    report: UnitReport | None = None  # None when the file could not be read
    superseded_by: str | None = None  # display name of the newer file
    form_version: str | None = None  # the form version the file names in its hidden sheet, as written

    @property
    def has_errors(self) -> bool:
        return any(f.is_error for f in self.findings)


class ReportingStatus(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    WITH_ERRORS = "with_errors"
    MISSING = "missing"


@dataclass(frozen=True)
class Figures:
    """The countable figures of one unit, or of the whole office, for one month."""

    staff: int = 0
    staff_by_category: dict[str, int] = field(default_factory=dict)
    registered: int = 0
    rated_good_or_better: int = 0
    rating_counts: dict[str, int] = field(default_factory=dict)  # rating code -> people
    social: int = 0
    initiatives: int = 0
    disciplined: int = 0
    tasks_assigned: int = 0
    tasks_completed: int = 0
    donation_vnd: int = 0
    support_activities: int = 0
    units_reporting: int = 0
    units_rated_good_or_better: int = 0


@dataclass(frozen=True)
class UnitResult:
    unit_code: str
    unit_name: str
    status: ReportingStatus
    received_at: dt.datetime | None
    file: str | None  # display name of the file used
    partial: bool  # figures come from the valid rows of a file with errors
    self_rating: str | None
    figures: Figures
    highlights: str = ""


@dataclass(frozen=True)
class UnitReporting:
    """Whether and how one unit reported for a month, without its figures (`thidua status`)."""

    unit_code: str
    unit_name: str
    status: ReportingStatus
    received_at: dt.datetime | None
    file: str | None  # display name of the file used, or of the rejected one
    partial: bool


@dataclass(frozen=True)
class ReportingResult:
    """Who reported for a month and how: every unit of the roster, in roster order."""

    period: Period
    units: tuple[UnitReporting, ...]
    submissions: tuple[Submission, ...]  # the files of the month, and those whose month is unknown
    # Every file read (pipeline.status): an earlier month's form sent in this month is told of too.
    received: tuple[Submission, ...] = ()


class Verdict(StrEnum):
    """What the data of a month prove about an office-level target (aggregate.judge_target)."""

    MET = "met"
    NOT_MET = "not_met"
    INSUFFICIENT_DATA = "insufficient_data"  # the units yet to report could still tip it either way
    NOT_APPLICABLE = "not_applicable"  # complete data, nothing to measure (no task assigned to anyone)


@dataclass(frozen=True)
class TargetResult:
    target_id: str
    label: str
    measure: str
    threshold: Fraction  # share, 1 == 100%
    numerator: int  # over the units that reported
    denominator: int
    verdict: Verdict
    units_reported: int  # units with a usable report for the month
    units_required: int  # units of the roster: every one of them counts toward every target
    blocking_units: tuple[str, ...]  # reporting units whose own share is below the threshold
    blocking_people: tuple[tuple[str, str], ...]  # (unit code, person name)

    @property
    def value(self) -> Fraction | None:
        """The share over what was reported (None when nothing was to be counted)."""
        return Fraction(self.numerator, self.denominator) if self.denominator else None

    @property
    def met(self) -> bool | None:
        """True or False when the data prove it, else None (insufficient data, not applicable)."""
        return {Verdict.MET: True, Verdict.NOT_MET: False}.get(self.verdict)


@dataclass(frozen=True)
class MonthRecord:
    """One person's or one unit's record for one month of the campaign."""

    period: Period
    rating: str | None
    registered: bool = False
    social: bool = False
    initiatives: int = 0
    discipline: str = "Không"


@dataclass(frozen=True)
class PersonHistory:
    """A person across the months of the campaign so far, matched by a folded name key."""

    key: str
    unit_code: str  # unit of the latest month
    name: str  # spelling of the latest month
    birth_date: dt.date | None
    position: str
    category: str
    months: tuple[MonthRecord, ...]  # in period order; a month the person is absent from is missing
    # As the latest month's form gives them (None: no data; see PersonRecord).
    gender: str | None = None
    ethnicity: str | None = None
    recruited_on: dt.date | None = None
    leader: bool | None = None


@dataclass(frozen=True)
class UnitHistory:
    unit_code: str
    unit_name: str
    months: tuple[MonthRecord, ...]  # unit self-rating per month
    tasks_assigned: int
    tasks_completed: int


@dataclass(frozen=True)
class PeriodResult:
    """Everything computed for one month: the input of commend and render."""

    campaign_id: str
    period: Period
    periods_to_date: tuple[Period, ...]  # campaign months up to and including `period`
    units: tuple[UnitResult, ...]  # in roster order
    totals: Figures
    targets: tuple[TargetResult, ...]
    previous: PeriodResult | None  # the month before, for month-on-month change
    people: tuple[PersonHistory, ...]
    unit_histories: tuple[UnitHistory, ...]
    submissions: tuple[Submission, ...]
    accept_partial: bool = False
    final: bool = False


@dataclass(frozen=True)
class CriterionOutcome:
    criterion: str
    passed: bool
    reason: str  # Vietnamese, e.g. "Chưa đạt: tháng 02/2024 xếp loại Hoàn thành nhiệm vụ"


@dataclass(frozen=True)
class Decision:
    """Whether one person or unit is proposed for one award, and why."""

    award_id: str
    award_name: str
    subject: str  # "individual" or "collective"
    subject_key: str  # person key or unit code
    subject_name: str
    unit_code: str
    position: str
    proposed: bool
    outcomes: tuple[CriterionOutcome, ...]
    achievement: str  # short line for the list: "3/3 tháng hoàn thành xuất sắc nhiệm vụ; 2 sáng kiến"
    quota_excluded: bool = False
    rule_set_id: str = ""  # the [[rule_sets]] id that made it: the documents cite its legal basis
