"""The unit report form, defined once as data, one entry per version kept side by side.

The template generator (template.py) and the validator (validate.py) both derive from these
definitions. A form's hidden sheet names the version it was made from, and a received file is validated
against that version: units go on sending last quarter's form for months after a change. Changing the
form is adding a version (a new `FormVersion` in `VERSIONS`, docs/architecture.md "Form versions"),
never editing one units already hold.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from dataclasses import dataclass
from enum import StrEnum

from processor.config import Config
from processor.records import Period

FORM_ID = "thidua-bao-cao-thang"

UNIT_SHEET = "Đơn vị"
STAFF_SHEET = "Cá nhân"
GUIDE_SHEET = "Hướng dẫn"
META_SHEET = "_thidua"  # hidden and protected: form id, version, unit code, period

STAFF_ROWS = 300  # rows prepared (validation, formats); rows typed below them are still read
UNIT_FIRST_ROW = 4  # first field row of the `Đơn vị` sheet (rows 1-3 hold the title)
STAFF_HEADER_ROW = 1


class Kind(StrEnum):
    TEXT = "text"
    CODE = "code"  # unit code: upper-case, must be in the roster
    PERIOD = "period"  # MM/YYYY
    DATE = "date"
    INT = "int"  # whole number >= minimum
    MONEY = "money"  # whole number of đồng
    CHOICE = "choice"  # one of a choice list, abbreviations accepted
    PHONE = "phone"


class ChoiceList(StrEnum):
    RATING = "rating"
    CATEGORY = "category"
    YES_NO = "yes_no"
    DISCIPLINE = "discipline"
    GENDER = "gender"
    ETHNICITY = "ethnicity"  # config's form.ethnic_groups


@dataclass(frozen=True)
class Field:
    key: str  # attribute of UnitReport / PersonRecord it fills
    label: str  # exact Vietnamese label in the workbook
    kind: Kind
    required: bool
    help: str  # Vietnamese input message shown when the cell is selected
    choices: ChoiceList | None = None
    minimum: int | None = None
    maximum: int | None = None
    width: float = 14
    default: object = None  # value used when an optional cell is empty


UNIT_FIELDS_1: tuple[Field, ...] = (
    Field("unit_code", "Mã đơn vị", Kind.CODE, True, "Mã đơn vị do Phòng TCHC cấp; không sửa."),
    Field("unit_name", "Tên đơn vị", Kind.TEXT, True, "Tên đầy đủ của phòng, ban, đơn vị."),
    Field("period", "Kỳ báo cáo", Kind.PERIOD, True, "Tháng báo cáo, dạng MM/YYYY, ví dụ 02/2024."),
    Field("preparer", "Người lập biểu", Kind.TEXT, True, "Họ và tên người lập biểu."),
    Field(
        "phone", "Số điện thoại", Kind.PHONE, False, "Số điện thoại liên hệ của người lập biểu.", default=""
    ),
    Field("prepared_on", "Ngày lập", Kind.DATE, True, "Ngày lập biểu, dạng dd/mm/yyyy."),
    Field(
        "self_rating",
        "Tự đánh giá xếp loại tập thể",
        Kind.CHOICE,
        True,
        "Chọn mức xếp loại tập thể trong danh sách.",
        choices=ChoiceList.RATING,
    ),
    Field(
        "tasks_assigned",
        "Số nhiệm vụ cấp trên giao trong kỳ",
        Kind.INT,
        True,
        "Số nhiệm vụ cấp trên giao trong tháng (số nguyên, 0 nếu không có).",
        minimum=0,
        maximum=100000,
    ),
    Field(
        "tasks_completed",
        "Số nhiệm vụ đã hoàn thành",
        Kind.INT,
        True,
        "Số nhiệm vụ đã hoàn thành; không lớn hơn số nhiệm vụ được giao.",
        minimum=0,
        maximum=100000,
    ),
    Field(
        "donation_vnd",
        "Số tiền ủng hộ đồng bào bị thiên tai (đồng)",
        Kind.MONEY,
        False,
        "Tổng số tiền ủng hộ trong tháng, tính bằng đồng, chỉ ghi số.",
        minimum=0,
        maximum=100_000_000_000,
        default=0,
    ),
    Field(
        "support_activities",
        "Số hoạt động giúp đỡ xã nghèo, xây dựng nông thôn mới",
        Kind.INT,
        False,
        "Số hoạt động giúp đỡ xã nghèo, xây dựng nông thôn mới trong tháng.",
        minimum=0,
        maximum=10000,
        default=0,
    ),
    Field(
        "highlights",
        "Kết quả nổi bật",
        Kind.TEXT,
        False,
        "Tóm tắt kết quả nổi bật của đơn vị trong tháng (không quá 1.000 ký tự).",
        maximum=1000,
        default="",
    ),
)

STAFF_FIELDS_1: tuple[Field, ...] = (
    Field("seq", "STT", Kind.INT, False, "Số thứ tự.", minimum=0, width=6),
    Field("name", "Họ và tên", Kind.TEXT, True, "Họ và tên đầy đủ, có dấu.", width=26),
    Field("birth_date", "Ngày sinh", Kind.DATE, True, "Ngày sinh, dạng dd/mm/yyyy.", width=12),
    Field("position", "Chức vụ", Kind.TEXT, False, "Chức vụ hoặc vị trí việc làm.", width=18, default=""),
    Field(
        "category",
        "Đối tượng",
        Kind.CHOICE,
        True,
        "Công chức, Viên chức hoặc Hợp đồng lao động.",
        choices=ChoiceList.CATEGORY,
        width=16,
    ),
    Field(
        "registered",
        "Đăng ký thi đua",
        Kind.CHOICE,
        True,
        "Có hoặc Không.",
        choices=ChoiceList.YES_NO,
        width=11,
    ),
    Field(
        "rating",
        "Xếp loại tháng",
        Kind.CHOICE,
        True,
        "Chọn mức xếp loại trong danh sách.",
        choices=ChoiceList.RATING,
        width=27,
    ),
    Field(
        "social",
        "Tham gia hoạt động xã hội",
        Kind.CHOICE,
        True,
        "Có hoặc Không.",
        choices=ChoiceList.YES_NO,
        width=13,
    ),
    Field(
        "initiatives",
        "Số sáng kiến, giải pháp",
        Kind.INT,
        False,
        "Số sáng kiến, giải pháp được công nhận (số nguyên).",
        minimum=0,
        maximum=100,
        width=11,
        default=0,
    ),
    Field(
        "discipline",
        "Kỷ luật",
        Kind.CHOICE,
        False,
        "Không, hoặc hình thức kỷ luật trong kỳ.",
        choices=ChoiceList.DISCIPLINE,
        width=13,
        default="Không",
    ),
    Field("note", "Ghi chú", Kind.TEXT, False, "Ghi chú (nếu có).", width=20, maximum=500, default=""),
)

# Version 2: who the staff are, for the breakdowns higher levels ask for (gender, ethnic minority,
# leadership) and the recruitment date of the "less than 6 months" rule. Optional, empty = no data
# (default None, never a value of its own); after the version 1 columns, so those stay where they were.
STAFF_FIELDS_2: tuple[Field, ...] = (
    *STAFF_FIELDS_1,
    Field(
        "gender",
        "Giới tính",
        Kind.CHOICE,
        False,
        "Giới tính của cán bộ: chọn trong danh sách.",
        choices=ChoiceList.GENDER,
        width=9,
    ),
    Field(
        "ethnicity",
        "Dân tộc",
        Kind.CHOICE,
        False,
        "Dân tộc của cán bộ: chọn trong danh sách.",
        choices=ChoiceList.ETHNICITY,
        width=13,
    ),
    Field(
        "recruited_on",
        "Ngày tuyển dụng",
        Kind.DATE,
        False,
        "Ngày tuyển dụng (người lao động: ngày bắt đầu hợp đồng), dạng dd/mm/yyyy.",
        width=12,
    ),
    Field(
        "leader",
        "Lãnh đạo, quản lý",
        Kind.CHOICE,
        False,
        "Có nếu giữ chức vụ lãnh đạo, quản lý; Không nếu không.",
        choices=ChoiceList.YES_NO,
        width=11,
    ),
)


@dataclass(frozen=True)
class FormVersion:
    """One version of the form: everything its workbooks hold and are validated against."""

    version: str
    unit_fields: tuple[Field, ...]
    staff_fields: tuple[Field, ...]

    @functools.cached_property
    def keys(self) -> frozenset[str]:
        return frozenset(f.key for f in (*self.unit_fields, *self.staff_fields))

    @functools.cached_property
    def digest(self) -> str:
        """The definition as a checksum: a memo entry validated against another definition is stale."""
        return hashlib.sha256(repr((self.version, self.unit_fields, self.staff_fields)).encode()).hexdigest()


# Oldest first. A version is never edited once units hold it: a change is a new version.
VERSIONS: dict[str, FormVersion] = {
    v.version: v
    for v in (
        FormVersion("1", UNIT_FIELDS_1, STAFF_FIELDS_1),
        FormVersion("2", UNIT_FIELDS_1, STAFF_FIELDS_2),
    )
}
LATEST_VERSION = next(reversed(VERSIONS))
FORM_VERSION = LATEST_VERSION
# The newest version's fields: what the look-ups below and most callers mean by "the form".
UNIT_FIELDS = VERSIONS[LATEST_VERSION].unit_fields
STAFF_FIELDS = VERSIONS[LATEST_VERSION].staff_fields


def current_version(config: Config) -> FormVersion:
    """The version new templates are made from: config's form.version, else the newest."""
    return VERSIONS.get(config.form.version) or VERSIONS[LATEST_VERSION]


def missing_fields(version: FormVersion, than: FormVersion | None = None) -> tuple[Field, ...]:
    """Fields of `than` (the newest version) that `version` does not have: no data in its files."""
    than = than or VERSIONS[LATEST_VERSION]
    return tuple(f for f in (*than.unit_fields, *than.staff_fields) if f.key not in version.keys)


@dataclass(frozen=True)
class Option:
    """One allowed value of a choice cell: what the drop-down shows, what it stores, what people type."""

    label: str  # shown in the drop-down and written back
    value: object  # stored in the record: rating/category code, bool, discipline label
    aliases: tuple[str, ...] = ()


def choice_options(config: Config, choices: ChoiceList) -> tuple[Option, ...]:
    """The allowed values of a choice list, from config where the office decides them."""
    if choices is ChoiceList.RATING:
        return tuple(Option(r.label, r.code, (r.code, *r.aliases)) for r in config.ratings)
    if choices is ChoiceList.CATEGORY:
        return tuple(Option(c.label, c.code, (c.code, *c.aliases)) for c in config.staff_categories)
    if choices is ChoiceList.YES_NO:
        return (
            Option("Có", True, ("co", "c", "x", "yes", "y", "1", "đã đăng ký", "có tham gia")),
            Option("Không", False, ("khong", "k", "no", "n", "0", "chưa", "không tham gia")),
        )
    if choices is ChoiceList.GENDER:
        return (Option("Nam", "Nam", ("nam", "m", "male")), Option("Nữ", "Nữ", ("nu", "f", "female")))
    if choices is ChoiceList.ETHNICITY:
        return tuple(Option(name, name, ()) for name in config.form.ethnic_groups)
    return tuple(Option(level, level, ()) for level in config.disciplines.levels)


def date_example(field: Field, period: Period | None = None) -> dt.date:
    """A plausible date to show for a date field: the guide's and the messages' "ví dụ …"."""
    if field.key == "prepared_on":  # a report is made early in the month after its period
        following = period.next() if period is not None else Period(2024, 2)
        return dt.date(following.year, following.month, 2)
    if field.key == "birth_date":
        return dt.date(1985, 3, 15)
    return dt.date(2015, 9, 1)


def unit_field(key: str) -> Field:
    return next(f for f in UNIT_FIELDS if f.key == key)


def staff_field(key: str) -> Field:
    return next(f for f in STAFF_FIELDS if f.key == key)


def template_file_name(period_text: str, unit_code: str) -> str:
    """'2024-02_TCHC_bao-cao-thi-dua.xlsx'."""
    return f"{period_text}_{unit_code}_bao-cao-thi-dua.xlsx"
