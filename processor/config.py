"""config.toml: loaded once, validated completely, returned as typed records.

Every mistake is reported in Vietnamese with its key path (``units[3].emails``) and all of them at once,
so the clerk fixes the file in one go; nothing else runs on a bad config.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from processor.records import Period, UserError
from processor.vntext import clean, fold, format_date, format_decimal

# Measures a target may apply to. Aggregate computes each; a target naming another is a config error.
MEASURES = {
    "units_rated_good_or_better": "Tập thể tự đánh giá hoàn thành tốt nhiệm vụ trở lên",
    "staff_rated_good_or_better": "Cá nhân xếp loại hoàn thành tốt nhiệm vụ trở lên",
    "staff_registered": "Cá nhân đăng ký thi đua",
    "staff_social": "Cá nhân tham gia hoạt động xã hội",
    "tasks_completed": "Nhiệm vụ cấp trên giao đã hoàn thành",
}

# Criteria the commendation engine knows, with the shape of their value. A rule naming any other
# criterion is a config error, never a silent pass. commend.CRITERIA implements exactly these.
CRITERIA = {
    "individual": {
        "min_rating_every_month": "rating",
        "months_at_rating": {"rating": "rating", "months": "int"},
        "registered": "bool",
        "social": "bool",
        "min_initiatives": "int",
        "no_discipline_from": "discipline",
        "requires_award": "award",
        "min_months_since_recruitment": "int",
    },
    "collective": {
        "unit_rating_every_month": "rating",
        "all_staff_meet_targets": "targets",
        "tasks_completed_percent": "number",
        "staff_min_rating_every_month": "rating",
        "staff_share_at_rating": {"rating": "rating", "percent": "number"},
        "staff_share_with_award": {"award": "award", "percent": "number?", "more_than_percent": "number?"},
        "staff_count_with_award": {"award": "award", "count": "int"},
        "no_staff_discipline_from": "discipline",
        "requires_award": "award",
    },
}


@dataclass(frozen=True)
class Office:
    parent_body: str
    issuing_body: str
    issuing_body_name: str
    place: str
    symbol_suffix: str
    signer_title: str
    signer_name: str
    deciding_authority: str
    clerk_unit: str
    clerk_email: str
    recipients: list[str]
    signer_authority: str = ""


# documents.date: what the drafts print in "Lào Cai, ngày … tháng … năm …" (or a fixed YYYY-MM-DD).
DATE_BLANK_DAY = "blank-day"  # the day left for the văn thư, month and year of the run (Decree 30 drafts)
DATE_TODAY = "today"  # the day of the run
DATE_MODES = (DATE_BLANK_DAY, DATE_TODAY)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Documents:
    first_number: int = 0
    name_order: str = "given_name"
    pdf_timeout_seconds: int = 60
    date: str | dt.date = DATE_BLANK_DAY

    def issue_date(self, today: dt.date) -> tuple[dt.date, bool]:
        """The date a draft made on `today` carries, and whether its day is left blank for the văn thư.

        Never the reporting deadline: a draft is dated when it is signed, and the văn thư writes the day.
        """
        if isinstance(self.date, dt.date):
            return self.date, False
        if self.date == DATE_TODAY:
            return today, False
        if self.date == DATE_BLANK_DAY:
            return today, True
        return dt.date.fromisoformat(self.date), False  # checked by parse_config


@dataclass(frozen=True)
class Validation:
    headcount_change_warning: float = 0.2
    max_rows: int = 5000
    max_columns: int = 60
    max_file_mb: int = 20
    max_uncompressed_mb: int = 200
    max_part_mb: int = 50
    max_zip_entries: int = 2000
    max_compression_ratio: int = 200
    max_attachments: int = 50  # per e-mail, attached e-mails included: the rest is one finding


# [mail]: the office mailbox `thidua fetch` reads over IMAP and `thidua send` sends from over SMTP
# (processor/mail/). The password is never here: THIDUA_MAIL_PASSWORD, the OS keyring, or a prompt.
MAIL_SECURITY = ("ssl", "starttls", "none")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")  # the only hosts "none" (no encryption) is accepted for


@dataclass(frozen=True)
class Mail:
    imap_host: str = ""
    imap_port: int = 0  # 0: the usual port of imap_security (993 ssl, 143 starttls / none)
    imap_security: str = "ssl"
    username: str = ""
    folder: str = "INBOX"
    smtp_host: str = ""
    smtp_port: int = 0  # 0: the usual port of smtp_security (465 ssl, 587 starttls, 25 none)
    smtp_security: str = "ssl"
    from_address: str = ""  # empty: office.clerk_email
    from_name: str = ""
    ca_file: str = ""  # a CA bundle to trust besides the system's (an office server's own certificate)
    timeout_seconds: int = 30
    max_message_mb: int = 25  # a larger message is listed by `fetch`, not downloaded
    sent_folder: str = ""  # IMAP folder `send` appends a copy of each sent message to; empty: none


# The 54 ethnic groups of Vietnam (Tổng cục Thống kê's list), Kinh first: the `Dân tộc` drop-down when
# config.toml names no groups of its own (a province lists its own in [form] ethnic_groups).
ETHNIC_GROUPS = [
    "Kinh", "Tày", "Thái", "Mường", "Khmer", "Hoa", "Nùng", "Mông", "Dao", "Gia Rai", "Ê Đê", "Ba Na",
    "Sán Chay", "Chăm", "Cơ Ho", "Xơ Đăng", "Sán Dìu", "Hrê", "Ra Glai", "Mnông", "Thổ", "Xtiêng",
    "Khơ Mú", "Bru - Vân Kiều", "Cơ Tu", "Giáy", "Tà Ôi", "Mạ", "Giẻ - Triêng", "Co", "Chơ Ro",
    "Xinh Mun", "Hà Nhì", "Chu Ru", "Lào", "Kháng", "La Chí", "Phù Lá", "La Hủ", "La Ha", "Pà Thẻn",
    "Lự", "Ngái", "Chứt", "Lô Lô", "Mảng", "Cơ Lao", "Bố Y", "Cống", "Si La", "Pu Péo", "Rơ Măm",
    "Brâu", "Ơ Đu",
]  # fmt: skip


@dataclass(frozen=True)
class FormSettings:
    """[form]: which version of the report form new templates are made from, and its lists."""

    version: str = ""  # empty: the newest version the program knows (form.LATEST_VERSION)
    ethnic_groups: list[str] = field(default_factory=lambda: list(ETHNIC_GROUPS))


# The staff fields a breakdown may split by (PersonRecord attributes); bool fields group as "Có"/"Không".
BREAKDOWN_FIELDS = {
    "gender": "Giới tính",
    "ethnicity": "Dân tộc",
    "category": "Đối tượng",
    "leader": "Lãnh đạo, quản lý",
}


@dataclass(frozen=True)
class BreakdownGroup:
    label: str
    values: list[str] = field(default_factory=list)  # the field's values in the group (category codes)
    other: bool = False  # every filled value no other group of the breakdown names


@dataclass(frozen=True)
class Breakdown:
    """[[breakdowns]]: one split of the staff and commendation figures, as higher levels ask for it."""

    id: str
    label: str
    field: str  # one of BREAKDOWN_FIELDS
    groups: list[BreakdownGroup] = field(default_factory=list)  # none: one group per value found


def default_breakdowns() -> list[Breakdown]:
    """What annual emulation statistics ask for when config.toml lists no [[breakdowns]]."""
    return [
        Breakdown(
            "gioi-tinh", "Giới tính", "gender", [BreakdownGroup("Nam", ["Nam"]), BreakdownGroup("Nữ", ["Nữ"])]
        ),
        Breakdown(
            "dan-toc",
            "Dân tộc",
            "ethnicity",
            [BreakdownGroup("Kinh", ["Kinh"]), BreakdownGroup("Dân tộc thiểu số", other=True)],
        ),
        Breakdown("doi-tuong", "Đối tượng", "category"),
        Breakdown(
            "lanh-dao",
            "Lãnh đạo, quản lý",
            "leader",
            [
                BreakdownGroup("Giữ chức vụ lãnh đạo, quản lý", ["Có"]),
                BreakdownGroup("Không giữ chức vụ", ["Không"]),
            ],
        ),
    ]


@dataclass(frozen=True)
class Choice:
    """A rating level or a staff category: a code, its label, and what people type for it."""

    code: str
    label: str
    aliases: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Disciplines:
    levels: list[str]


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    emails: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Target:
    id: str
    label: str
    measure: str
    threshold: float  # percent

    @property
    def share(self) -> Fraction:
        return Fraction(str(self.threshold)) / 100


@dataclass(frozen=True)
class Campaign:
    id: str
    name: str
    short_name: str
    launch_letter: str
    start: dt.date
    end: dt.date
    report_due_day: int
    rule_set: str
    targets: list[Target]
    year_end_rule_set: str = ""
    # The closing run also proposes the year_end_rule_set's titles when the campaign spans 1 January to
    # 31 December; `annual_review = true` makes another campaign's closing run the annual review.
    annual_review: bool = False
    # One achievement, one award: which wins when a subject earns both an annual title and the campaign's
    # award at the same closing run ("year_end" or "campaign"; unconfirmed, hence a setting).
    one_award_prefers: str = "year_end"

    @property
    def periods(self) -> tuple[Period, ...]:
        out, period = [], Period.of(self.start)
        while period <= Period.of(self.end):
            out.append(period)
            period = period.next()
        return tuple(out)

    def contains(self, period: Period) -> bool:
        return Period.of(self.start) <= period <= Period.of(self.end)

    def due_date(self, period: Period) -> dt.date:
        """Reports for a month are due on `report_due_day` of the following month."""
        following = period.next()
        return dt.date(following.year, following.month, self.report_due_day)


@dataclass(frozen=True)
class Award:
    id: str
    name: str
    subject: str  # "individual" | "collective"
    criteria: dict
    quota_percent: float = 0
    tie_break: str = ""
    # The legal basis of each criterion, by criterion name: the giải trình cites it after the reason.
    criteria_basis: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RuleSet:
    id: str
    name: str
    effective_from: dt.date
    legal_basis: list[str]
    awards: list[Award]
    effective_to: dt.date | None = None  # the last day it applies; none: until replaced

    def in_force(self, start: dt.date, end: dt.date) -> bool:
        """Whether it applies on every day from `start` to `end`."""
        return self.effective_from <= start and (self.effective_to is None or end <= self.effective_to)

    @property
    def span_text(self) -> str:
        """'từ 01/01/2024' or 'từ 01/01/2024 đến 30/06/2025', as the config check and the documents say it."""
        text = f"từ {format_date(self.effective_from)}"
        return f"{text} đến {format_date(self.effective_to)}" if self.effective_to else text


@dataclass(frozen=True)
class Box:
    """Where one text of the Giấy khen goes on the pre-printed blank: millimetres from the page's top left."""

    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class CertificatePositions:
    """The Giấy khen's variable texts on an A4 landscape blank (297 x 210 mm); see docs."""

    name: Box = field(default_factory=lambda: Box(40, 92, 217, 14))
    unit: Box = field(default_factory=lambda: Box(40, 108, 217, 10))
    achievement: Box = field(default_factory=lambda: Box(40, 120, 217, 24))
    decision: Box = field(default_factory=lambda: Box(25, 168, 115, 16))
    place_date: Box = field(default_factory=lambda: Box(160, 150, 120, 9))
    signer: Box = field(default_factory=lambda: Box(160, 160, 120, 36))


@dataclass(frozen=True)
class DecisionSettings:
    """`thidua decide`: the Quyết định khen thưởng and the Giấy khen (config.toml [decision])."""

    authority_line: str = ""  # "CHÁNH VĂN PHÒNG UBND TỈNH LÀO CAI"; empty: signer_title + parent_body
    proposer: str = "Trưởng phòng Tổ chức - Hành chính"
    executors: str = (
        "Trưởng phòng Tổ chức - Hành chính, Thủ trưởng các phòng, ban, đơn vị thuộc Văn phòng và các "
        "tập thể, cá nhân có tên tại Điều 1"
    )
    recipients: list[str] = field(default_factory=lambda: ["Lãnh đạo Văn phòng", "Lưu: VT, TCHC"])
    reward_collective_vnd: int = 0  # 0 and 0: no Điều on reward money
    reward_individual_vnd: int = 0
    reward_source: str = "Quỹ thi đua, khen thưởng của Văn phòng"
    certificate: str = "preprinted"  # "preprinted" (in ra phôi in sẵn) or "plain" (in cả khung, tiêu đề)
    positions: CertificatePositions = field(default_factory=CertificatePositions)


@dataclass(frozen=True)
class Config:
    office: Office
    ratings: list[Choice]
    staff_categories: list[Choice]
    disciplines: Disciplines
    units: list[Unit]
    campaigns: list[Campaign]
    rule_sets: list[RuleSet]
    documents: Documents = field(default_factory=Documents)
    validation: Validation = field(default_factory=Validation)
    mail: Mail = field(default_factory=Mail)
    form: FormSettings = field(default_factory=FormSettings)
    breakdowns: list[Breakdown] = field(default_factory=default_breakdowns)
    decision: DecisionSettings = field(default_factory=DecisionSettings)
    path: Path | None = None
    sha256: str = ""

    # -- look-ups -------------------------------------------------------------------------------
    # Indexes are built once per Config: the stages call these per person (50,000 at province scale).
    # cached_property writes the instance __dict__ directly, so it works on a frozen dataclass, and
    # dataclasses.replace starts a fresh instance with no stale index.
    def unit(self, code: str) -> Unit | None:
        return self._units_by_code.get(code.upper())

    @functools.cached_property
    def _units_by_code(self) -> dict[str, Unit]:
        return {u.code.upper(): u for u in self.units}

    @functools.cached_property
    def unit_index(self) -> dict[str, int]:
        """Roster position of each unit code (upper case): the order of every list of units."""
        return {u.code.upper(): i for i, u in reversed(list(enumerate(self.units)))}  # first wins

    @functools.cached_property
    def _ratings_by_code(self) -> dict[str, Choice]:
        return {r.code: r for r in reversed(self.ratings)}  # the first of equal codes wins, as next() did

    @functools.cached_property
    def _rating_ranks(self) -> dict[str, int]:
        return {r.code: i for i, r in reversed(list(enumerate(self.ratings)))}

    def rating(self, code: str) -> Choice:
        try:
            return self._ratings_by_code[code]
        except (KeyError, TypeError):
            raise StopIteration from None  # as the former next() over the list did

    def rating_rank(self, code: str | None) -> int:
        """0 for the best level; larger is worse; unknown/None ranks below every level."""
        rank = self._rating_ranks.get(code) if isinstance(code, str) else None
        return len(self.ratings) if rank is None else rank

    @functools.cached_property
    def _discipline_ranks(self) -> dict[str, int]:
        return {level: i for i, level in reversed(list(enumerate(self.disciplines.levels)))}

    def discipline_rank(self, level: str) -> int:
        return self._discipline_ranks.get(level, 0) if isinstance(level, str) else 0

    @property
    def good_rating(self) -> str:
        """The "Hoàn thành tốt nhiệm vụ" level: the second of the scale."""
        return self.ratings[1].code

    def campaign_for(self, period: Period) -> Campaign:
        for campaign in self.campaigns:
            if campaign.contains(period):
                return campaign
        spans = "; ".join(
            f"{c.name}: {Period.of(c.start).label}–{Period.of(c.end).label}" for c in self.campaigns
        )
        raise UserError(f"Kỳ {period.label} không thuộc đợt thi đua nào trong config.toml ({spans}).")

    def rule_set(self, rule_set_id: str) -> RuleSet:
        return next(r for r in self.rule_sets if r.id == rule_set_id)


# ------------------------------------------------------------------------------------------------
# Loading


_TYPE_NAMES = {
    str: "chuỗi ký tự",
    int: "số nguyên",
    float: "số",
    bool: "true/false",
    dt.date: "ngày (YYYY-MM-DD)",
}


def _type_name(kind: object) -> str:
    origin = typing.get_origin(kind)
    if origin is list:
        return "danh sách [ ... ]"
    if dataclasses.is_dataclass(kind):
        return "bảng (table)"
    return _TYPE_NAMES.get(kind, str(kind))  # type: ignore[arg-type]


class _Errors(list):
    def add(self, path: str, message: str) -> None:
        self.append(f"{path or '(gốc)'}: {message}")


def _convert(value: object, kind: object, path: str, errors: _Errors) -> object:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        # The member the value already is (a TOML date for `str | dt.date`), else the first one.
        members = [a for a in typing.get_args(kind) if a is not type(None)]
        kind = next((a for a in members if isinstance(a, type) and isinstance(value, a)), members[0])
        origin = typing.get_origin(kind)
    if dataclasses.is_dataclass(kind):
        return _build(kind, value, path, errors)
    if origin is list:
        (item_kind,) = typing.get_args(kind)
        if not isinstance(value, list):
            errors.add(path, f"phải là {_type_name(kind)}, đang là {value!r}.")
            return []
        return [_convert(v, item_kind, f"{path}[{i + 1}]", errors) for i, v in enumerate(value)]
    if kind is dict:
        if not isinstance(value, dict):
            errors.add(path, "phải là bảng (table).")
            return {}
        return value
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is dt.date and isinstance(value, dt.datetime):
        errors.add(path, f"chỉ ghi ngày, không ghi giờ: {value.date().isoformat()}.")
        return value.date()
    if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):  # type: ignore[arg-type]
        errors.add(path, f"phải là {_type_name(kind)}, đang là {value!r}.")
        return value
    return clean(value) if kind is str else value


def _build(cls: type, data: object, path: str, errors: _Errors) -> object:
    if not isinstance(data, dict):
        errors.add(path, f"phải là bảng (table), đang là {data!r}.")
        return None
    hints, fields = _shape(cls)
    for key in data:
        if key not in fields:
            close = [name for name in fields if fold(name)[:4] == fold(key)[:4]]
            hint = f" Có phải là “{close[0]}”?" if close else f" Các khóa hợp lệ: {', '.join(fields)}."
            errors.add(_join(path, key), f"khóa không được hỗ trợ (có thể gõ nhầm).{hint}")
    values = {}
    for name, spec in fields.items():
        if name in data:
            values[name] = _convert(data[name], hints[name], _join(path, name), errors)
        elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            errors.add(_join(path, name), f"thiếu khóa bắt buộc (kiểu {_type_name(hints[name])}).")
    try:
        return cls(**values)
    except TypeError:
        return None


@functools.cache
def _shape(cls: type) -> tuple[dict[str, object], dict[str, dataclasses.Field]]:
    """A config class's field types and the fields a config file may set: worked out once per class
    (a province's config builds a thousand units)."""
    hints = typing.get_type_hints(cls)
    return hints, {f.name: f for f in dataclasses.fields(cls) if f.name not in ("path", "sha256")}


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _check_unique(items: list, attr: str, path: str, errors: _Errors) -> None:
    seen: dict[str, int] = {}
    for i, item in enumerate(items, 1):
        key = str(getattr(item, attr)).upper()
        if key in seen:
            errors.add(f"{path}[{i}].{attr}", f"“{getattr(item, attr)}” trùng với {path}[{seen[key]}].")
        seen.setdefault(key, i)


def _check_criterion_value(shape: object, value: object, path: str, refs: dict, errors: _Errors) -> None:
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            errors.add(path, f"phải là bảng {{ {', '.join(shape)} }}.")
            return
        for key in value:
            if key not in shape:
                errors.add(f"{path}.{key}", f"khóa không được hỗ trợ; dùng: {', '.join(shape)}.")
        for key, sub in shape.items():
            if key in value:
                _check_criterion_value(sub.rstrip("?"), value[key], f"{path}.{key}", refs, errors)
            elif not sub.endswith("?"):
                errors.add(f"{path}.{key}", "thiếu khóa bắt buộc.")
        optional = [k for k, s in shape.items() if s.endswith("?")]
        if optional and sum(k in value for k in optional) != 1:
            errors.add(path, f"ghi đúng một trong các khóa: {', '.join(optional)}.")
        return
    ok = {
        "bool": isinstance(value, bool),
        "int": isinstance(value, int) and not isinstance(value, bool) and value >= 0,
        "number": isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 100,
        "rating": value in refs["rating"],
        "discipline": value in refs["discipline"],
        "award": value in refs["award"],
        "targets": isinstance(value, list) and all(v in refs["targets"] for v in value),
    }[shape]
    if not ok:
        allowed = {
            "bool": "true hoặc false",
            "int": "số nguyên không âm",
            "number": "số từ 0 đến 100",
            "rating": ", ".join(refs["rating"]),
            "discipline": ", ".join(refs["discipline"]),
            "award": ", ".join(refs["award"]) or "(chưa có hình thức nào)",
            "targets": "danh sách mã chỉ tiêu: " + ", ".join(refs["targets"]),
        }[shape]
        errors.add(path, f"giá trị {value!r} không hợp lệ; dùng: {allowed}.")


# A percentage written in a label: "100%", "97,5 %", "90%".
_LABEL_PERCENT = re.compile(r"(\d+(?:[.,]\d+)?)\s*%")


def _check_label_percent(target: Target, path: str, errors: _Errors) -> None:
    """The label is what leadership reads beside the verdict: a percentage in it must be the threshold.

    Every percentage written in the label is compared (wherever it stands); a label with none is fine.
    """
    threshold = Fraction(str(target.threshold))
    for number in _LABEL_PERCENT.findall(target.label):
        if Fraction(number.replace(",", ".")) != threshold:
            errors.add(
                f"{path}.label",
                f"nhãn của chỉ tiêu “{target.id}” ghi {number}% nhưng ngưỡng đạt (threshold) là "
                f"{format_decimal(threshold, 1).removesuffix(',0')}%. Sửa nhãn hoặc ngưỡng cho khớp nhau.",
            )


def _check_date_setting(value: object, errors: _Errors) -> None:
    if isinstance(value, dt.date) or value in DATE_MODES:
        return
    try:
        valid = isinstance(value, str) and _ISO_DATE.fullmatch(value) and dt.date.fromisoformat(value)
    except ValueError:
        valid = False
    if not valid:
        errors.add(
            "documents.date",
            f"giá trị {value!r} không hợp lệ; dùng “{DATE_BLANK_DAY}” (để trống ngày cho văn thư, ghi "
            f"tháng và năm của ngày chạy), “{DATE_TODAY}” (ngày chạy) hoặc một ngày cố định dạng "
            "YYYY-MM-DD, ví dụ “2024-04-05”.",
        )


def _check_decision(decision: DecisionSettings, errors: _Errors) -> None:
    if decision.certificate not in ("preprinted", "plain"):
        errors.add(
            "decision.certificate", "chỉ nhận “preprinted” (in lên phôi in sẵn) hoặc “plain” (in cả trang)."
        )
    for key in ("reward_collective_vnd", "reward_individual_vnd"):
        if getattr(decision, key) < 0:
            errors.add(f"decision.{key}", "là số tiền (đồng), không âm; 0 nếu không thưởng tiền.")
    for item in dataclasses.fields(CertificatePositions):
        box = getattr(decision.positions, item.name)
        if not isinstance(box, Box):
            continue
        fits = box.x >= 0 and box.y >= 0 and box.x + box.width <= 297 and box.y + box.height <= 210
        if not fits or box.width <= 0 or box.height <= 0:
            errors.add(
                f"decision.positions.{item.name}",
                "khung phải nằm trong trang A4 ngang (297 x 210 mm): x + width ≤ 297, y + height ≤ 210, "
                "width và height lớn hơn 0.",
            )


# An address as mail programs write it (RFC 5322's dot-atom on both sides of the @): what the drafts can
# carry in a header. Quoted local parts and address literals ("a@[10.0.0.1]") are valid too, but no
# office uses them, and the email package turns some half-written ones into exceptions.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})*")


def is_email_address(text: str) -> bool:
    return len(text) <= 254 and _EMAIL_ADDRESS.fullmatch(text) is not None


def _check(config: Config, errors: _Errors) -> None:
    if not config.ratings or len(config.ratings) < 2:
        errors.add("ratings", "cần ít nhất hai mức xếp loại, từ cao xuống thấp.")
    _check_unique(config.ratings, "code", "ratings", errors)
    _check_unique(config.staff_categories, "code", "staff_categories", errors)
    _check_unique(config.units, "code", "units", errors)
    _check_unique(config.campaigns, "id", "campaigns", errors)
    _check_unique(config.rule_sets, "id", "rule_sets", errors)
    if not config.units:
        errors.add("units", "danh sách đơn vị đang trống; thêm ít nhất một [[units]].")
    if not config.disciplines.levels:
        errors.add("disciplines.levels", "cần ít nhất mức “Không”.")
    for i, unit in enumerate(config.units, 1):
        for j, email in enumerate(unit.emails, 1):
            if not is_email_address(email):
                errors.add(f"units[{i}].emails[{j}]", f"“{email}” không phải địa chỉ thư điện tử.")
    if config.office.clerk_email and not is_email_address(config.office.clerk_email):
        errors.add("office.clerk_email", f"“{config.office.clerk_email}” không phải địa chỉ thư điện tử.")
    if config.validation.max_attachments < 1:
        errors.add(
            "validation.max_attachments", "phải là số nguyên dương: số tệp đính kèm tối đa của một thư."
        )
    if config.documents.name_order not in ("given_name", "roster"):
        errors.add("documents.name_order", "chỉ nhận “given_name” hoặc “roster”.")
    _check_date_setting(config.documents.date, errors)
    _check_mail(config.mail, errors)
    _check_form(config, errors)
    _check_decision(config.decision, errors)
    rule_sets = {r.id: (i, r) for i, r in reversed(list(enumerate(config.rule_sets, 1)))}
    rule_set_ids = set(rule_sets)
    for i, campaign in enumerate(config.campaigns, 1):
        path = f"campaigns[{i}]"
        if campaign.start > campaign.end:
            errors.add(f"{path}.end", f"ngày kết thúc {campaign.end} trước ngày bắt đầu {campaign.start}.")
        if not 1 <= campaign.report_due_day <= 28:
            errors.add(f"{path}.report_due_day", "phải là ngày từ 1 đến 28 của tháng sau kỳ báo cáo.")
        for key in ("rule_set", "year_end_rule_set"):
            value = getattr(campaign, key)
            if value and value not in rule_set_ids:
                errors.add(f"{path}.{key}", f"không có bộ tiêu chuẩn “{value}” trong [[rule_sets]].")
            elif value and campaign.start <= campaign.end:
                index, rule_set = rule_sets[value]
                if not rule_set.in_force(campaign.start, campaign.end):
                    late = rule_set.effective_from > campaign.start
                    dates = f"rule_sets[{index}].{'effective_from' if late else 'effective_to'}"
                    errors.add(
                        f"{path}.{key}",
                        f"bộ tiêu chuẩn “{value}” áp dụng {rule_set.span_text}, nhưng đợt thi đua "
                        f"“{campaign.id}” diễn ra từ {format_date(campaign.start)} đến "
                        f"{format_date(campaign.end)}: bộ tiêu chuẩn phải có hiệu lực trong suốt thời gian "
                        f"của đợt. Chọn bộ tiêu chuẩn khác, hoặc sửa {dates} nếu ghi nhầm.",
                    )
        if campaign.one_award_prefers not in ("year_end", "campaign"):
            errors.add(f"{path}.one_award_prefers", "chỉ nhận “year_end” (danh hiệu cả năm) hoặc “campaign”.")
        _check_unique(campaign.targets, "id", f"{path}.targets", errors)
        for j, target in enumerate(campaign.targets, 1):
            if target.measure not in MEASURES:
                errors.add(
                    f"{path}.targets[{j}].measure",
                    f"chỉ số “{target.measure}” không được hỗ trợ; dùng: {', '.join(MEASURES)}.",
                )
            if not 0 <= target.threshold <= 100:
                errors.add(f"{path}.targets[{j}].threshold", "là tỷ lệ phần trăm, từ 0 đến 100.")
            else:
                _check_label_percent(target, f"{path}.targets[{j}]", errors)
        for other in config.campaigns[i:]:
            if campaign.start <= other.end and other.start <= campaign.end:
                errors.add(f"{path}", f"thời gian trùng với đợt “{other.id}”; mỗi tháng thuộc một đợt.")
    target_ids = [t.id for c in config.campaigns for t in c.targets]
    for i, rule_set in enumerate(config.rule_sets, 1):
        _check_unique(rule_set.awards, "id", f"rule_sets[{i}].awards", errors)
        if rule_set.effective_to is not None and rule_set.effective_to < rule_set.effective_from:
            errors.add(
                f"rule_sets[{i}].effective_to",
                f"ngày hết áp dụng {format_date(rule_set.effective_to)} trước ngày bắt đầu áp dụng "
                f"{format_date(rule_set.effective_from)}.",
            )
        refs = {
            "rating": [r.code for r in config.ratings],
            "discipline": config.disciplines.levels[1:],
            "award": [a.id for a in rule_set.awards],
            "targets": target_ids,
        }
        for j, award in enumerate(rule_set.awards, 1):
            path = f"rule_sets[{i}].awards[{j}]"
            if award.subject not in CRITERIA:
                errors.add(f"{path}.subject", "chỉ nhận “individual” (cá nhân) hoặc “collective” (tập thể).")
                continue
            if not 0 <= award.quota_percent <= 100:
                errors.add(f"{path}.quota_percent", "là tỷ lệ phần trăm từ 0 (không giới hạn) đến 100.")
            known = CRITERIA[award.subject]
            for name in award.criteria_basis:
                if name not in award.criteria:
                    errors.add(
                        f"{path}.criteria_basis.{name}", "không có tiêu chí này trong criteria của hình thức."
                    )
            for name, value in award.criteria.items():
                if name not in known:
                    errors.add(
                        f"{path}.criteria.{name}",
                        f"tiêu chí không được hỗ trợ cho “{award.subject}”; dùng: {', '.join(known)}.",
                    )
                else:
                    _check_criterion_value(known[name], value, f"{path}.criteria.{name}", refs, errors)


def _check_mail(mail: Mail, errors: _Errors) -> None:
    for side in ("imap", "smtp"):
        security, host = getattr(mail, f"{side}_security"), getattr(mail, f"{side}_host")
        if security not in MAIL_SECURITY:
            errors.add(f"mail.{side}_security", "chỉ nhận “ssl”, “starttls” hoặc “none”.")
        elif security == "none" and host and host.lower() not in LOCAL_HOSTS:
            errors.add(
                f"mail.{side}_security",
                f"“none” (không mã hóa) chỉ dùng được với máy chủ trên chính máy này (localhost), không với "
                f"“{host}”: mật khẩu và thư sẽ đi qua mạng không được bảo vệ. Dùng “ssl” hoặc “starttls”.",
            )
        if not 0 <= getattr(mail, f"{side}_port") <= 65535:
            errors.add(f"mail.{side}_port", "là số cổng từ 1 đến 65535 (0: cổng thông thường).")
    if mail.from_address and not is_email_address(mail.from_address):
        errors.add("mail.from_address", f"“{mail.from_address}” không phải địa chỉ thư điện tử.")
    if mail.timeout_seconds < 1:
        errors.add("mail.timeout_seconds", "là số giây chờ máy chủ thư trả lời, ít nhất 1.")
    if mail.max_message_mb < 1:
        errors.add("mail.max_message_mb", "là dung lượng tối đa (MB) của một thư được tải về, ít nhất 1.")
    if not mail.folder:
        errors.add("mail.folder", "là tên thư mục trong hộp thư, ví dụ “INBOX”.")


def _check_form(config: Config, errors: _Errors) -> None:
    from processor import form  # form derives from this module's records: imported when first needed

    version = config.form.version
    if version and version not in form.VERSIONS:
        errors.add(
            "form.version",
            f"không có biểu mẫu phiên bản “{version}”; chương trình có các phiên bản: "
            f"{', '.join(form.VERSIONS)}.",
        )
    if "Kinh" not in config.form.ethnic_groups:
        errors.add("form.ethnic_groups", "danh sách dân tộc cần có “Kinh”.")
    if len(set(map(fold, config.form.ethnic_groups))) != len(config.form.ethnic_groups):
        errors.add("form.ethnic_groups", "có tên dân tộc ghi hai lần.")
    _check_unique(config.breakdowns, "id", "breakdowns", errors)
    for i, breakdown in enumerate(config.breakdowns, 1):
        if breakdown.field not in BREAKDOWN_FIELDS:
            errors.add(
                f"breakdowns[{i}].field",
                f"“{breakdown.field}” không được hỗ trợ; dùng: {', '.join(BREAKDOWN_FIELDS)}.",
            )
        if sum(g.other for g in breakdown.groups) > 1:
            errors.add(f"breakdowns[{i}].groups", "chỉ một nhóm được ghi other = true.")


def parse_config(text: str, path: Path | None = None) -> Config:
    """Parse and validate config text; raise UserError listing every problem."""
    where = str(path) if path else "config.toml"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        from processor.toml_errors import describe

        raise UserError(describe(exc, text, where)) from None
    errors = _Errors()
    if isinstance(data.get("mail"), dict) and "password" in data["mail"]:
        del data["mail"]["password"]  # never echoed back
        errors.add(
            "mail.password",
            "không ghi mật khẩu trong config.toml. Đặt biến môi trường THIDUA_MAIL_PASSWORD, lưu mật khẩu "
            "vào kho mật khẩu của hệ điều hành (gói keyring), hoặc nhập khi chương trình hỏi.",
        )
    config = _build(Config, data, "", errors)
    if config is not None and not errors:
        _check(config, errors)
    if errors or config is None:
        listing = "\n".join(f"  - {e}" for e in errors)
        raise UserError(f"Tệp cấu hình {where} có {len(errors)} lỗi, cần sửa trước khi chạy:\n{listing}")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return dataclasses.replace(config, path=path, sha256=digest)


def load_config(path: Path | str = "config.toml") -> Config:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UserError(missing_config_message(path)) from None
    except OSError as exc:
        raise UserError(f"Không đọc được tệp cấu hình {path}: {exc.strerror}.") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UserError(f"Tệp cấu hình {path} phải được lưu với bảng mã UTF-8.") from None
    return parse_config(text, path)


def _nearby_workspaces(folder: Path, name: str) -> list[Path]:
    """Folders above `folder`, and its subfolders, holding a `name`: where the clerk probably meant to be."""
    found: list[Path] = []
    try:
        found += [parent for parent in folder.parents if (parent / name).is_file()][:1]
        # A home folder has a few dozen entries; one that is a whole disk is not searched through.
        children = sorted(p for _, p in zip(range(500), folder.iterdir(), strict=False))
        found += [child for child in children if (child / name).is_file()][:3]
    except OSError:
        pass
    return found


def _shell_path(path: Path) -> str:
    return f'"{path}"' if " " in str(path) else str(path)


def missing_config_message(path: Path) -> str:
    """Why no config was found, and what to do: go to the workspace first, create one only if none exists.

    A clerk who opens a terminal lands in the home folder: the usual cause is not being in the workspace.
    """
    if path.is_absolute():
        return (
            f"Không tìm thấy tệp cấu hình {path}. Kiểm tra lại đường dẫn sau --config; nếu chưa có thư mục "
            "làm việc, tạo bằng “thidua init <thư mục>”."
        )
    here = Path.cwd()
    nearby = _nearby_workspaces(here, path.name) if len(path.parts) == 1 else []
    if nearby:
        go = " hoặc ".join(f"“cd {_shell_path(folder)}”" for folder in nearby)
        where = (
            f"Thư mục làm việc có lẽ ở gần đây (có {path.name}): chuyển vào đó bằng {go} rồi chạy lại lệnh."
        )
    else:
        where = (
            "Các lệnh thidua chạy trong thư mục làm việc (thư mục có config.toml, inbox và output): chuyển "
            "vào đó bằng “cd <thư mục làm việc>”, ví dụ “cd D:\\ThiDua”, rồi chạy lại lệnh."
        )
    return (
        f"Không tìm thấy tệp cấu hình {path} trong thư mục hiện tại ({here}). {where} Nếu chưa có thư mục "
        "làm việc, tạo bằng “thidua init <thư mục>”; hoặc chỉ rõ tệp cấu hình bằng --config."
    )


def default_config_text() -> str:
    """The first customer's config, shipped with the package for `thidua init` and the demo."""
    return (Path(__file__).parent / "data" / "config.toml").read_text(encoding="utf-8")
