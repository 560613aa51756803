"""Deterministic sample inboxes: realistic filled workbooks and saved e-mails from the units.

Feeds `thidua demo`, the tests and the benchmarks. Everything comes from `random.Random` seeded by the
caller (never the global generator, never the clock), so a seed always gives the same files, cell for
cell and byte for byte. The returned `SampleManifest` says what each file is, what status the batch
should give it, and the true content of every report, so tests compute expectations independently.

Staff are stable from month to month (same names, birth dates, positions, categories); a person joins
or leaves now and then. Scenario "demo" adds what a real month brings: a unit that never reports, one
that reports late, typing habits the validator must accept (abbreviations, stray spaces, old-style tone
marks, decomposed Unicode, a moved column), real errors, a corrected resubmission and an exact
duplicate. Scenario "clean" has none of that.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.policy
import hashlib
import io
import os
import random
import unicodedata
import zipfile
import zlib
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from pathlib import Path

from openpyxl.utils import get_column_letter

from processor import form, template
from processor.config import Config, Unit
from processor.form import Field, Kind
from processor.records import FileStatus, Period, PersonRecord, ReportingStatus, UnitReport, UserError
from processor.render.atomic import write_bytes

SCENARIOS = ("demo", "clean")
VN_TZ = dt.timezone(dt.timedelta(hours=7), "ICT")
XLSX_MIME = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")

# ------------------------------------------------------------------------------------------------
# Vocabulary

FAMILY_NAMES = (
    ("Nguyễn", 30), ("Trần", 10), ("Lê", 9), ("Phạm", 7), ("Hoàng", 5), ("Vũ", 4), ("Đặng", 3),
    ("Bùi", 3), ("Đỗ", 3), ("Hồ", 2), ("Ngô", 2), ("Dương", 2), ("Lý", 2), ("Đinh", 2), ("Phan", 2),
    ("Lương", 1), ("Vương", 1), ("Hà", 2), ("Lò", 1), ("Giàng", 1), ("Tẩn", 1), ("Sầm", 1),
)  # fmt: skip
MIDDLE_MALE = ("Văn", "Đức", "Minh", "Quốc", "Hữu", "Công", "Thanh", "Xuân", "Mạnh", "Tiến", "Ngọc")
MIDDLE_FEMALE = ("Thị", "Thu", "Thanh", "Ngọc", "Minh", "Phương", "Hồng", "Thúy", "Kim", "Diệu")
SECOND_MIDDLE_FEMALE = ("Thu", "Thanh", "Hồng", "Minh", "Phương", "Ngọc")
GIVEN_MALE = (
    "Dũng", "Tuấn", "Đức", "Hùng", "Cường", "Hải", "Thắng", "Long", "Quân", "Sơn", "Trung", "Hòa",
    "Khải", "Việt", "Nghĩa", "Phúc", "Tùng", "Thịnh", "Kiên", "Lộc", "Huy", "Khoa", "Quý", "Hiếu",
    "Toàn", "Vĩnh", "Nhật", "Bảo", "Thủy", "Chiến",
)  # fmt: skip
GIVEN_FEMALE = (
    "Hương", "Thủy", "Ánh", "Ngọc", "Huyền", "Quỳnh", "Lan", "Hà", "Trang", "Hằng", "Nga", "Thảo",
    "Yến", "Linh", "Nhung", "Loan", "Mỹ", "Hòa", "Thư", "Duyên", "Oanh", "Giang", "Hạnh", "Liên",
    "Diệp", "Tuyết", "Thoa", "Vân", "Phượng", "Ngân",
)  # fmt: skip
STAFF_POSITIONS = (
    ("Chuyên viên", 40), ("Chuyên viên chính", 14), ("Kế toán", 4), ("Văn thư", 4), ("Lái xe", 5),
    ("Nhân viên", 8), ("Cán sự", 3), ("Chuyên viên cao cấp", 1),
)  # fmt: skip
CONTRACT_POSITIONS = {"Lái xe", "Nhân viên", "Bảo vệ", "Phục vụ"}
HIGHLIGHTS = (
    "Tham mưu hoàn thành đúng hạn {n} văn bản theo chương trình công tác tháng.",
    "Hoàn thành {n} nhiệm vụ được Lãnh đạo Văn phòng giao, không có nhiệm vụ quá hạn.",
    "Tổ chức quyên góp ủng hộ đồng bào bị ảnh hưởng thiên tai; {n} lượt người tham gia.",
    "Phối hợp tổ chức hội nghị giao ban, phục vụ chu đáo {n} cuộc họp của UBND tỉnh.",
    "Số hóa {n} hồ sơ lưu trữ; cập nhật đầy đủ dữ liệu trên hệ thống quản lý văn bản.",
    "Giúp đỡ xã Bản Xèo xây dựng nông thôn mới: {n} buổi hướng dẫn, tặng quà hộ nghèo.",
    "Giải quyết {n} hồ sơ thủ tục hành chính đúng và trước hạn, không có phản ánh, kiến nghị.",
    "Triển khai đăng ký thi đua năm 2024 tới 100% công chức, người lao động của đơn vị.",
)
NOTES = ("Đi học trung cấp lý luận chính trị", "Đi học bồi dưỡng ngạch chuyên viên chính", "Nghỉ ốm 05 ngày")
MATERNITY_NOTE = "Nghỉ thai sản từ 15/{month:02d}/{year}"

# Spellings with the tone mark placed the old way ("Hoà" for "Hòa"): same person, different string.
OLD_STYLE_TONES = {"òa": "oà", "óa": "oá", "ỏa": "oả", "õa": "oã", "ọa": "oạ", "ùy": "uỳ", "úy": "uý",
                   "ủy": "uỷ", "ũy": "uỹ", "ụy": "uỵ"}  # fmt: skip


# ------------------------------------------------------------------------------------------------
# Manifest


@dataclass(frozen=True)
class Mistake:
    """Something a unit typed that is not the plain label: an accepted variant or a real error."""

    kind: str  # e.g. "abbreviation", "padded_text", "invalid_rating", "duplicate_person"
    is_error: bool  # True: the validator must report an error; False: it must accept the value
    sheet: str
    field: str  # Vietnamese label of the field
    row: int | None  # Excel row of the cell in the written file
    value: str  # what was written, as text


@dataclass(frozen=True)
class SampleFile:
    """One file dropped into the inbox."""

    path: Path  # the file in the inbox: .eml or .xlsx
    attachment_name: str | None  # the workbook's name inside the e-mail
    unit_code: str
    period: Period
    sender: str | None  # e-mail From address
    received_at: dt.datetime  # aware (+07:00): the e-mail Date header, else the file's mtime
    workbook_sha256: str  # of the workbook bytes (the attachment for an e-mail)
    role: str  # "report", "late", "with_errors", "correction_first", "correction_final", "duplicate_copy"
    expected_status: FileStatus
    mistakes: tuple[Mistake, ...]
    report: UnitReport  # what the unit meant; what validate yields when the file has no error


@dataclass(frozen=True)
class SampleManifest:
    seed: int
    scenario: str
    inbox: Path
    periods: tuple[Period, ...]
    files: tuple[SampleFile, ...]
    # ReportingStatus of every unit for every period.
    expected_status: dict[tuple[str, Period], ReportingStatus]
    # The report the batch should use for a unit and period (its accepted file); absent when none.
    truth: dict[tuple[str, Period], UnitReport]
    roles: dict[str, str]  # unit code -> "missing", "late", "errors", "correction", "duplicate", "excellent"

    def files_for(self, unit_code: str, period: Period) -> list[SampleFile]:
        return [f for f in self.files if f.unit_code == unit_code and f.period == period]

    def units_with_role(self, role: str) -> list[str]:
        return [code for code, r in self.roles.items() if r == role]


# ------------------------------------------------------------------------------------------------
# People and months


@dataclass
class _Person:
    name: str
    birth_date: dt.date
    position: str
    category: str
    profile: str  # "star", "strong", "average", "weak"
    registered: bool
    female: bool = False
    joined: int = 0  # index of the first period the person appears in
    left: int | None = None  # index of the first period the person no longer appears in


@dataclass
class _Month:
    rating: str
    registered: bool
    social: bool
    initiatives: int
    discipline: str
    note: str = ""


@dataclass
class _UnitPlan:
    unit: Unit
    role: str
    people: list[_Person]
    preparer: str
    phone: str
    months: dict[tuple[int, int], _Month] = field(default_factory=dict)  # (person index, period index)


def _weighted(rng: random.Random, pairs: Sequence[tuple[str, int]]) -> str:
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


def _new_name(rng: random.Random, taken: set[str]) -> tuple[str, bool]:
    for _ in range(50):
        female = rng.random() < 0.5
        family = _weighted(rng, FAMILY_NAMES)
        if female:
            middle = rng.choice(MIDDLE_FEMALE)
            if middle == "Thị" and rng.random() < 0.35:
                middle += " " + rng.choice(SECOND_MIDDLE_FEMALE)
            given = rng.choice(GIVEN_FEMALE)
        else:
            middle, given = rng.choice(MIDDLE_MALE), rng.choice(GIVEN_MALE)
        name = f"{family} {middle} {given}"
        if name not in taken:
            taken.add(name)
            return name, female
    return name, female  # a large unit may repeat a name; birth dates still tell the people apart


# Family names of the province's ethnic minorities in the samples, and the group a person of that family
# belongs to; everyone else is Kinh. The version 2 columns are derived from who the person is (never from
# the random stream), so adding them changed no other sample value.
MINORITY_FAMILIES = {"Lò": "Thái", "Giàng": "Mông", "Tẩn": "Dao", "Sầm": "Tày", "Lương": "Tày"}
LEADER_PREFIXES = ("Trưởng", "Phó", "Giám đốc", "Chánh")
LATEST_RECRUITMENT = dt.date(2023, 8, 1)  # before the samples' first month


def _who(person: _Person, ethnic_groups: Sequence[str]) -> dict[str, object]:
    """The version 2 columns of a sample person: gender, ethnic group, recruitment date, leadership."""
    spin = zlib.crc32(person.name.encode("utf-8"))
    family = person.name.split(" ", 1)[0]
    group = MINORITY_FAMILIES.get(family, "Kinh")
    recruited = dt.date(person.birth_date.year + 22 + spin % 5, 1 + spin % 12, 1)
    return {
        "gender": "Nữ" if person.female else "Nam",
        "ethnicity": group if group in ethnic_groups else "Kinh",
        "recruited_on": min(recruited, LATEST_RECRUITMENT),
        "leader": person.position.startswith(LEADER_PREFIXES),
    }


def _leader_titles(unit: Unit) -> tuple[str, str]:
    name = unit.name.casefold()
    if name.startswith("ban"):
        return "Trưởng ban", "Phó Trưởng ban"
    if name.startswith(("trung tâm", "nhà khách")):
        return "Giám đốc", "Phó Giám đốc"
    return "Trưởng phòng", "Phó Trưởng phòng"


def _category_for(unit: Unit, position: str) -> str:
    if position in CONTRACT_POSITIONS:
        return "HĐLĐ"
    if unit.name.casefold().startswith(("trung tâm", "nhà khách")):
        return "VC"
    return "CC"


def _birth_date(rng: random.Random, first_year: int, last_year: int) -> dt.date:
    start = dt.date(first_year, 1, 1).toordinal()
    return dt.date.fromordinal(rng.randint(start, dt.date(last_year, 12, 31).toordinal()))


def _person(rng: random.Random, unit: Unit, position: str, taken: set[str], profile: str) -> _Person:
    leader = position.startswith(("Trưởng", "Phó", "Giám đốc"))
    born = _birth_date(rng, 1966, 1982) if leader else _birth_date(rng, 1968, 2001)
    registered = profile in ("star", "strong") or rng.random() < 0.96
    name, female = _new_name(rng, taken)
    return _Person(name, born, position, _category_for(unit, position), profile, registered, female)


def _roster(rng: random.Random, unit: Unit, size: int, excellent: bool) -> list[_Person]:
    head, deputy = _leader_titles(unit)
    taken: set[str] = set()
    positions = [head] + [deputy] * (2 if size >= 10 else 1)
    positions += [_weighted(rng, STAFF_POSITIONS) for _ in range(max(0, size - len(positions)))]
    positions = positions[:size]
    people = []
    stars = 1 + (size >= 12) + (size >= 30)
    for i, position in enumerate(positions):
        if i < stars:
            profile = "star"
        else:
            profile = _weighted(rng, (("strong", 15), ("average", 75), ("weak", 10)))
            if excellent and profile == "weak":
                profile = "average"
        person = _person(rng, unit, position, taken, profile)
        person.registered = person.registered or excellent  # an excellent unit leaves no one out
        people.append(person)
    # The star who is not the head is anyone in the unit, not always the deputy.
    if len(people) > 2 and stars > 1:
        j = rng.randrange(2, len(people))
        people[1].profile, people[j].profile = people[j].profile, people[1].profile
    return people


def _rate(rng: random.Random, profile: str, excellent: bool) -> str:
    roll = rng.random()
    if profile == "star":
        return "HTXSNV" if roll < 0.85 else "HTTNV"
    if profile == "strong":
        return "HTXSNV" if roll < 0.55 else "HTTNV"
    if profile == "average":
        rating = "HTXSNV" if roll < 0.1 else "HTTNV" if roll < 0.96 else "HTNV"
    else:
        rating = "HTTNV" if roll < 0.5 else "HTNV"
    return "HTTNV" if excellent and rating == "HTNV" else rating


def _simulate(rng: random.Random, plan: _UnitPlan, periods: Sequence[Period], churn: bool) -> None:
    """Monthly records of every person, with a rare arrival or departure after the first month."""
    excellent = plan.role == "excellent"
    taken = {p.name for p in plan.people}
    for index in range(1, len(periods) if churn else 0):
        present = [p for p in plan.people if p.left is None and p.joined < index]
        if rng.random() < 0.12:
            position = rng.choice(("Chuyên viên", "Nhân viên", "Chuyên viên"))
            newcomer = _person(rng, plan.unit, position, taken, "average")
            newcomer.joined = index
            newcomer.registered = newcomer.registered or excellent
            plan.people.append(newcomer)
        leavers = [p for p in present if p.profile in ("average", "weak") and p.name != plan.preparer]
        if leavers and rng.random() < 0.08:
            rng.choice(leavers).left = index
    for i, person in enumerate(plan.people):
        xs_needed = person.profile == "star"
        for index, period in enumerate(periods):
            if index < person.joined or (person.left is not None and index >= person.left):
                continue
            rating = _rate(rng, person.profile, excellent)
            social = (
                excellent or person.profile == "star" or rng.random() < (0.97, 0.9)[person.profile == "weak"]
            )
            strong = person.profile in ("star", "strong")
            initiatives = 1 if rng.random() < (0.2 if strong else 0.03) else 0
            note = ""
            if index == person.joined and index > 0:
                note = f"Mới tiếp nhận từ tháng {period.label}"
            elif rng.random() < 0.015:
                choices = (*NOTES, MATERNITY_NOTE) if person.female else NOTES
                note = rng.choice(choices).format(month=period.month, year=period.year)
            plan.months[(i, index)] = _Month(rating, person.registered, social, initiatives, "Không", note)
        if xs_needed:
            # A star earns the campaign's certificate: excellent in all but at most one month.
            indexes = [k for (j, k) in plan.months if j == i]
            for k in indexes:
                plan.months[(i, k)].rating = "HTXSNV"
            if len(indexes) >= 3:
                plan.months[(i, rng.choice(indexes))].rating = "HTTNV"


# ------------------------------------------------------------------------------------------------
# What is written: raw cell values per field key, and the typed report they stand for


@dataclass
class _Filled:
    unit_values: dict[str, object]
    staff_rows: list[dict[str, object]]
    staff_order: list[Field] = field(default_factory=lambda: list(form.STAFF_FIELDS))
    unit_blank_after: str | None = None  # a unit inserted an empty row after this field
    mistakes: list[Mistake] = field(default_factory=list)


def _labels(config: Config) -> dict[form.ChoiceList, dict[object, str]]:
    return {c: {o.value: o.label for o in form.choice_options(config, c)} for c in form.ChoiceList}


def _report_and_cells(
    config: Config, plan: _UnitPlan, period: Period, index: int, prepared_on: dt.date, rng: random.Random
) -> tuple[UnitReport, _Filled]:
    labels = _labels(config)
    rating_label = labels[form.ChoiceList.RATING]
    yes_no = labels[form.ChoiceList.YES_NO]
    people: list[PersonRecord] = []
    rows: list[dict[str, object]] = []
    present = [(i, p) for i, p in enumerate(plan.people) if (i, index) in plan.months]
    for seq, (i, person) in enumerate(present, 1):
        month = plan.months[(i, index)]
        row = form.STAFF_HEADER_ROW + seq
        who = _who(person, config.form.ethnic_groups)
        people.append(
            PersonRecord(
                row=row,
                name=person.name,
                birth_date=person.birth_date,
                position=person.position,
                category=person.category,
                registered=month.registered,
                rating=month.rating,
                social=month.social,
                initiatives=month.initiatives,
                discipline=month.discipline,
                note=month.note,
                **who,  # type: ignore[arg-type]
            )
        )
        rows.append(
            {
                "seq": seq,
                "name": person.name,
                "birth_date": person.birth_date,
                "position": person.position,
                "category": labels[form.ChoiceList.CATEGORY][person.category],
                "registered": yes_no[month.registered],
                "rating": rating_label[month.rating],
                "social": yes_no[month.social],
                "initiatives": month.initiatives,
                "discipline": month.discipline,
                "note": month.note or None,
                **who,
                "leader": yes_no[who["leader"]],
            }
        )
    excellent = plan.role == "excellent"
    assigned = rng.randint(4, 30)
    completed = assigned if excellent or rng.random() < 0.8 else max(0, assigned - rng.randint(1, 2))
    roll = rng.random()
    self_rating = "HTXSNV" if excellent or roll < 0.3 else "HTTNV" if roll < 0.95 else "HTNV"
    donation = rng.randrange(200_000, 2_000_001, 50_000) if rng.random() < 0.75 else 0
    support = rng.randint(0, 3)
    highlights = " ".join(h.format(n=rng.randint(2, 40)) for h in rng.sample(HIGHLIGHTS, rng.randint(1, 2)))
    report = UnitReport(
        unit_code=plan.unit.code,
        unit_name=plan.unit.name,
        period=period,
        preparer=plan.preparer,
        phone=plan.phone.replace(" ", ""),  # the validator keeps the digits only
        prepared_on=prepared_on,
        self_rating=self_rating,
        tasks_assigned=assigned,
        tasks_completed=completed,
        donation_vnd=donation,
        support_activities=support,
        highlights=highlights,
        people=tuple(people),
    )
    unit_values: dict[str, object] = {
        "unit_code": plan.unit.code,
        "unit_name": plan.unit.name,
        "period": period.label,
        "preparer": plan.preparer,
        "phone": plan.phone,
        "prepared_on": prepared_on,
        "self_rating": rating_label[self_rating],
        "tasks_assigned": assigned,
        "tasks_completed": completed,
        "donation_vnd": donation,
        "support_activities": support,
        "highlights": highlights,
    }
    return report, _Filled(unit_values, rows)


# Accepted variants: (kind, sheet, field key, transform of the row/values). Applied in the demo only.
def _apply_variant(kind: str, filled: _Filled, report: UnitReport, rng: random.Random) -> UnitReport:
    staff_label = {f.key: f.label for f in form.STAFF_FIELDS}
    unit_label = {f.key: f.label for f in form.UNIT_FIELDS}
    rows = filled.staff_rows
    pick = rng.randrange(len(rows)) if rows else 0
    row_number = form.STAFF_HEADER_ROW + 1 + pick

    def note(sheet: str, key: str, row: int | None, value: str) -> None:
        label = (staff_label if sheet == form.STAFF_SHEET else unit_label)[key]
        filled.mistakes.append(Mistake(kind, False, sheet, label, row, value))

    if kind == "abbreviation" and rows:
        code = report.people[pick].rating
        rows[pick]["rating"] = code
        note(form.STAFF_SHEET, "rating", row_number, code)
    elif kind == "padded_text" and rows:
        text = " có " if report.people[pick].registered else " không "
        rows[pick]["registered"] = text
        note(form.STAFF_SHEET, "registered", row_number, text)
    elif kind == "unit_abbreviation":
        filled.unit_values["self_rating"] = report.self_rating
        unit_row = form.UNIT_FIRST_ROW + [f.key for f in form.UNIT_FIELDS].index("self_rating")
        note(form.UNIT_SHEET, "self_rating", unit_row, str(report.self_rating))
    elif kind == "category_code" and rows:
        rows[pick]["category"] = report.people[pick].category
        note(form.STAFF_SHEET, "category", row_number, report.people[pick].category)
    elif kind == "tone_variant":
        for k, person in enumerate(report.people):
            variant = _old_style(person.name)
            if variant != person.name:
                rows[k]["name"] = variant
                note(form.STAFF_SHEET, "name", person.row, variant)
                people = list(report.people)
                people[k] = person._replace(name=variant)
                return dataclasses.replace(report, people=tuple(people))
    elif kind == "nfd_text" and rows:
        decomposed = unicodedata.normalize("NFD", report.people[pick].name)
        rows[pick]["name"] = decomposed
        note(form.STAFF_SHEET, "name", row_number, decomposed)
    elif kind == "formula_like_text" and rows:
        text = "- Biệt phái sang Sở Nội vụ"
        rows[pick]["note"] = text
        note(form.STAFF_SHEET, "note", row_number, text)
        people = list(report.people)
        people[pick] = people[pick]._replace(note=text)
        return dataclasses.replace(report, people=tuple(people))
    elif kind == "moved_column":
        order = list(form.STAFF_FIELDS)
        keys = [f.key for f in order]
        a, b = keys.index("birth_date"), keys.index("position")
        order[a], order[b] = order[b], order[a]
        filled.staff_order = order
        filled.mistakes.append(Mistake(kind, False, form.STAFF_SHEET, staff_label["position"], 1, "moved"))
    elif kind == "inserted_row":
        filled.unit_blank_after = "phone"
        filled.mistakes.append(Mistake(kind, False, form.UNIT_SHEET, unit_label["phone"], None, ""))
        # Rows below the inserted one move down by one; staff rows are unaffected.
    return report


def _old_style(name: str) -> str:
    words = name.split(" ")
    for w, word in enumerate(words):
        lower = word.lower()
        for new, old in OLD_STYLE_TONES.items():
            if lower.endswith(new):
                words[w] = word[: -len(new)] + old
                return " ".join(words)
    return name


def _inject_errors(filled: _Filled, report: UnitReport, rng: random.Random, kinds: Sequence[str]) -> None:
    """Real mistakes that the validator must report as errors."""
    staff_label = {f.key: f.label for f in form.STAFF_FIELDS}
    unit_label = {f.key: f.label for f in form.UNIT_FIELDS}
    rows = filled.staff_rows
    used: set[int] = set()

    def add(kind: str, sheet: str, label: str, row: int, value: str) -> None:
        filled.mistakes.append(Mistake(kind, True, sheet, label, row, value))

    def pick() -> int:
        choices = [k for k in range(len(rows)) if k not in used] or list(range(len(rows)))
        k = rng.choice(choices)
        used.add(k)
        return k

    for kind in kinds:
        if kind == "tasks_completed_gt_assigned":
            value = int(report.tasks_assigned) + 2
            filled.unit_values["tasks_completed"] = value
            row = form.UNIT_FIRST_ROW + [f.key for f in form.UNIT_FIELDS].index("tasks_completed")
            filled.mistakes.append(
                Mistake(kind, True, form.UNIT_SHEET, unit_label["tasks_completed"], row, str(value))
            )
        elif kind == "missing_birth_date":
            k = pick()
            rows[k]["birth_date"] = None
            filled.mistakes.append(
                Mistake(kind, True, form.STAFF_SHEET, staff_label["birth_date"], k + 2, "")
            )
        elif kind == "invalid_rating":
            k = pick()
            rows[k]["rating"] = "Tốt lắm"
            filled.mistakes.append(
                Mistake(kind, True, form.STAFF_SHEET, staff_label["rating"], k + 2, "Tốt lắm")
            )
        elif kind == "missing_rating":
            k = pick()
            rows[k]["rating"] = None
            add(kind, form.STAFF_SHEET, staff_label["rating"], k + 2, "")
        elif kind == "duplicate_person":
            k = pick()
            copy = dict(rows[k])
            copy["seq"] = len(rows) + 1
            rows.append(copy)
            filled.mistakes.append(
                Mistake(kind, True, form.STAFF_SHEET, staff_label["name"], len(rows) + 1, str(copy["name"]))
            )


# ------------------------------------------------------------------------------------------------
# Writing the workbook a unit sends back.
#
# Same sheets, labels, layout and metadata as the template (no validations: what units send back
# need not carry them), written straight as SpreadsheetML. openpyxl, even in streaming mode, needs
# about 40 ms a workbook; this writer about 3 ms, which is what lets the benchmarks make thousands.
# Its output is checked by reading it back with openpyxl and calamine (tests/test_samples.py).

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_DATE_FORMAT_ID = 164  # custom number format "dd/mm/yyyy"
_NUMBER_FORMAT_IDS = {"@": 49, "0": 1, "#,##0": 3, "dd/mm/yyyy": _DATE_FORMAT_ID}


def _rgb(fill_or_font_color: str) -> str:
    return "FF" + fill_or_font_color[-6:]


def _font_xml(font) -> str:
    parts = ["<b/>" if font.b else "", "<i/>" if font.i else "", f'<sz val="{font.sz:g}"/>']
    if font.color is not None and font.color.rgb:
        parts.append(f'<color rgb="{_rgb(font.color.rgb)}"/>')
    parts.append(f'<name val="{font.name}"/><family val="1"/>')
    return "<font>" + "".join(parts) + "</font>"


_FONTS = {
    "normal": template.FONT_NORMAL,
    "bold": template.FONT_BOLD,
    "title": template.FONT_TITLE,
    "subtitle": template.FONT_SUBTITLE,
    "help": template.FONT_HELP,
}
_FILLS = {
    "header": template.FILL_HEADER,
    "label": template.FILL_LABEL,
    "input": template.FILL_INPUT,
    "section": template.FILL_SECTION,
}
_ALIGNMENTS = {
    "": "",
    "center": '<alignment horizontal="center" vertical="center" wrapText="1"/>',
    "left": '<alignment horizontal="left" vertical="center" wrapText="1" indent="1"/>',
    "top": '<alignment vertical="top" wrapText="1"/>',
    "lefttop": '<alignment horizontal="left" vertical="top" wrapText="1" indent="1"/>',
}


class _Styles:
    """The cell formats of the filled workbooks: one fixed stylesheet, formats numbered on first use."""

    def __init__(self) -> None:
        self.index: dict[tuple[str, str, bool, str, str], int] = {("normal", "", False, "", ""): 0}

    def xf(self, font: str, fill: str = "", border: bool = False, fmt: str = "", align: str = "") -> int:
        key = (font, fill, border, fmt, align)
        if key not in self.index:
            self.index[key] = len(self.index)
        return self.index[key]

    def xml(self) -> str:
        fonts = list(_FONTS)
        fills = list(_FILLS)
        xfs = []
        for font, fill, border, fmt, align in self.index:
            fmt_id = _NUMBER_FORMAT_IDS[fmt] if fmt else 0
            fill_id = fills.index(fill) + 2 if fill else 0
            attrs = (
                f'numFmtId="{fmt_id}" fontId="{fonts.index(font)}" fillId="{fill_id}" '
                f'borderId="{int(border)}" xfId="0" applyNumberFormat="1" applyFont="1" applyFill="1" '
                f'applyBorder="1" applyAlignment="1"'
            )
            inner = _ALIGNMENTS[align]
            xfs.append(f"<xf {attrs}>{inner}</xf>" if inner else f"<xf {attrs}/>")
        line = '<{0} style="thin"><color rgb="{1}"/></{0}>'
        grey = _rgb(template.THIN.color.rgb)
        thin = "".join(line.format(side, grey) for side in ("left", "right", "top", "bottom"))
        fill_xml = "".join(
            f'<fill><patternFill patternType="solid"><fgColor rgb="{_rgb(_FILLS[f].fgColor.rgb)}"/>'
            '<bgColor indexed="64"/></patternFill></fill>'
            for f in fills
        )
        return (
            f'{_XML_HEAD}<styleSheet xmlns="{_MAIN_NS}">'
            f'<numFmts count="1"><numFmt numFmtId="{_DATE_FORMAT_ID}" formatCode="dd/mm/yyyy"/></numFmts>'
            f'<fonts count="{len(fonts)}">{"".join(_font_xml(_FONTS[f]) for f in fonts)}</fonts>'
            f'<fills count="{len(fills) + 2}"><fill><patternFill patternType="none"/></fill>'
            f'<fill><patternFill patternType="gray125"/></fill>{fill_xml}</fills>'
            '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
            f"<border>{thin}<diagonal/></border></borders>"
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>"
        )


def _column_letters(count: int) -> list[str]:
    return [get_column_letter(i) for i in range(1, count + 1)]


_EXCEL_EPOCH = dt.date(1899, 12, 30).toordinal()


def _cell_xml(ref: str, value: object, xf: int) -> str:
    style = f' s="{xf}"' if xf else ""
    if value is None or value == "":
        return f'<c r="{ref}"{style}/>' if xf else ""
    if isinstance(value, str):
        space = ' xml:space="preserve"' if value != value.strip() else ""
        # Inline text is always text: a value starting with "=" is never a formula here.
        return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{_escape(value)}</t></is></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}"{style} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, dt.datetime):
        raise TypeError("filled workbooks hold dates, not datetimes")
    if isinstance(value, dt.date):
        return f'<c r="{ref}"{style}><v>{value.toordinal() - _EXCEL_EPOCH}</v></c>'
    return f'<c r="{ref}"{style}><v>{value}</v></c>'


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass
class _Sheet:
    name: str
    widths: Sequence[float]
    rows: list[tuple[float | None, list[tuple[object, int]]]] = field(default_factory=list)
    header_text: str = ""
    landscape: bool = True
    frozen: str | None = None  # top-left cell of the scrolling pane, e.g. "C2"
    hidden: bool = False
    protected: bool = False

    def add(self, cells: list[tuple[object, int]], height: float | None = None) -> None:
        self.rows.append((height, cells))

    def xml(self, selected: bool) -> str:
        letters = _column_letters(max([len(self.widths)] + [len(cells) for _, cells in self.rows]))
        out = [f'{_XML_HEAD}<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">']
        out.append('<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>')
        out.append(f'<dimension ref="A1:{letters[-1]}{max(1, len(self.rows))}"/>')
        view = ' tabSelected="1"' if selected else ""
        if self.frozen:
            column = sum(c.isalpha() for c in self.frozen)
            x = letters.index(self.frozen[:column])
            y = int(self.frozen[column:]) - 1
            out.append(
                f'<sheetViews><sheetView{view} workbookViewId="0"><pane xSplit="{x}" ySplit="{y}" '
                f'topLeftCell="{self.frozen}" activePane="bottomRight" state="frozen"/>'
                '<selection pane="topRight"/><selection pane="bottomLeft"/>'
                f'<selection pane="bottomRight" activeCell="{self.frozen}" sqref="{self.frozen}"/>'
                "</sheetView></sheetViews>"
            )
        else:
            out.append(f'<sheetViews><sheetView{view} workbookViewId="0"/></sheetViews>')
        out.append('<sheetFormatPr defaultRowHeight="15.75"/><cols>')
        out += [
            f'<col min="{i}" max="{i}" width="{w:g}" customWidth="1"/>' for i, w in enumerate(self.widths, 1)
        ]
        out.append("</cols><sheetData>")
        for number, (height, cells) in enumerate(self.rows, 1):
            extra = f' ht="{height:g}" customHeight="1"' if height else ""
            out.append(f'<row r="{number}"{extra}>')
            out += [_cell_xml(f"{letters[i]}{number}", v, xf) for i, (v, xf) in enumerate(cells)]
            out.append("</row>")
        out.append("</sheetData>")
        if self.protected:
            out.append('<sheetProtection sheet="1" objects="1" scenarios="1"/>')
        if not self.hidden:
            orientation = "landscape" if self.landscape else "portrait"
            header = _escape(self.header_text.replace("&", "&&"))
            out.append(
                '<printOptions horizontalCentered="1"/>'
                '<pageMargins left="0.5" right="0.5" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
                f'<pageSetup paperSize="9" orientation="{orientation}" fitToWidth="1" fitToHeight="0"/>'
                f'<headerFooter><oddHeader>&amp;C&amp;"{template.FONT_NAME},Italic"&amp;10 {header}'
                f'</oddHeader><oddFooter>&amp;C&amp;"{template.FONT_NAME}"&amp;10 Trang &amp;P/&amp;N'
                f'&amp;R&amp;"{template.FONT_NAME}"&amp;10 &amp;A</oddFooter></headerFooter>'
            )
        out.append("</worksheet>")
        return "".join(out)


def _package(sheets: list[_Sheet], styles: _Styles, title: str, stamp: dt.datetime) -> bytes:
    """Zip the parts of a workbook; every entry dated `stamp`, so equal content gives equal bytes."""
    when = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    sheet_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{sheet_type}"/>'
        for i in range(1, len(sheets) + 1)
    )
    office = "application/vnd.openxmlformats-officedocument"
    parts = {
        "[Content_Types].xml": (
            f'{_XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{office}.spreadsheetml.sheet.main+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{office}.spreadsheetml.styles+xml"/>'
            f"{overrides}"
            '<Override PartName="/docProps/core.xml" '
            'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            f'<Override PartName="/docProps/app.xml" ContentType="{office}.extended-properties+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            f'{_XML_HEAD}<Relationships xmlns="{_PKG_REL_NS}">'
            f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
            f'<Relationship Id="rId2" Type="{_PKG_REL_NS}/metadata/core-properties" '
            'Target="docProps/core.xml"/>'
            f'<Relationship Id="rId3" Type="{_REL_NS}/extended-properties" Target="docProps/app.xml"/>'
            "</Relationships>"
        ),
        "docProps/core.xml": (
            f"{_XML_HEAD}<cp:coreProperties "
            'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:title>{_escape(title)}</dc:title><dc:creator>thidua</dc:creator>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{when}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{when}</dcterms:modified>'
            "</cp:coreProperties>"
        ),
        "docProps/app.xml": (
            f'{_XML_HEAD}<Properties xmlns="{_REL_NS.rsplit("/", 1)[0]}/extended-properties">'
            "<Application>Microsoft Excel</Application></Properties>"
        ),
        "xl/workbook.xml": _workbook_xml(sheets),
        "xl/_rels/workbook.xml.rels": (
            f'{_XML_HEAD}<Relationships xmlns="{_PKG_REL_NS}">'
            + "".join(
                f'<Relationship Id="rId{i}" Type="{_REL_NS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                for i in range(1, len(sheets) + 1)
            )
            + f'<Relationship Id="rId{len(sheets) + 1}" Type="{_REL_NS}/styles" Target="styles.xml"/>'
            "</Relationships>"
        ),
        "xl/styles.xml": styles.xml(),
    }
    for i, sheet in enumerate(sheets, 1):
        parts[f"xl/worksheets/sheet{i}.xml"] = sheet.xml(selected=i == 1)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            entry = zipfile.ZipInfo(name, date_time=stamp.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            archive.writestr(entry, text.encode("utf-8"))
    return out.getvalue()


def _workbook_xml(sheets: list[_Sheet]) -> str:
    entries, names = [], []
    for i, sheet in enumerate(sheets, 1):
        state = ' state="hidden"' if sheet.hidden else ""
        entries.append(f'<sheet name="{_escape(sheet.name)}" sheetId="{i}"{state} r:id="rId{i}"/>')
        if sheet.frozen and sheet.name == form.STAFF_SHEET:
            quoted = "'" + sheet.name.replace("'", "''") + "'"
            row = form.STAFF_HEADER_ROW
            names.append(
                f'<definedName name="_xlnm.Print_Titles" localSheetId="{i - 1}">'
                f"{_escape(quoted)}!${row}:${row}</definedName>"
            )
    defined = f"<definedNames>{''.join(names)}</definedNames>" if names else ""
    return (
        f'{_XML_HEAD}<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}"><workbookPr/>'
        '<bookViews><workbookView activeTab="0"/></bookViews>'
        f"<sheets>{''.join(entries)}</sheets>{defined}"
        '<calcPr calcId="191029"/></workbook>'
    )


def _lines(value: object, width: float) -> int:
    """Lines a wrapped text needs in a column of `width` characters (a printout must show it all)."""
    if not isinstance(value, str):
        return 1
    return max(1, -(-len(value) // max(1, int(width * 0.95))))


def filled_workbook_bytes(
    config: Config, unit: Unit, period: Period, filled: _Filled, stamp: dt.datetime
) -> bytes:
    """A workbook as a unit sends it back, following the layout contract; `stamp` is its save time."""
    st = _Styles()
    header = template.print_header_text(unit, period)
    fmt = template.NUMBER_FORMATS

    unit_sheet = _Sheet(form.UNIT_SHEET, template.UNIT_COLUMN_WIDTHS, header_text=header)
    unit_sheet.add([(template.TITLE, st.xf("title"))], 24)
    unit_sheet.add([(template.subtitle(config, period), st.xf("subtitle"))], 22)
    head = st.xf("bold", "header", True, "", "center")
    unit_sheet.add([(text, head) for text in template.UNIT_HEADERS], 21)
    for f in form.UNIT_FIELDS:
        long_text = f.kind is Kind.TEXT and (f.maximum or 0) > 255
        align = "lefttop" if long_text else "left"
        cells = [
            (f.label, st.xf("bold" if f.required else "normal", "label", True, "", "left")),
            (filled.unit_values.get(f.key), st.xf("normal", "input", True, fmt[f.kind], align)),
            (f.help, st.xf("help", "", True, "", "left")),
        ]
        unit_sheet.add(cells, 75 if long_text else 24)
        if filled.unit_blank_after == f.key:
            unit_sheet.add([])

    order = filled.staff_order
    staff = _Sheet(form.STAFF_SHEET, [f.width for f in order], header_text=header, frozen="C2")
    staff.add([(f.label, head) for f in order], 48)
    formats = [
        st.xf("normal", "", True, fmt[f.kind], "left" if f.kind in (Kind.TEXT, Kind.PHONE) else "center")
        for f in order
    ]
    for values in filled.staff_rows:
        cells = [(values.get(f.key), xf) for f, xf in zip(order, formats, strict=True)]
        lines = max(_lines(value, f.width) for f, (value, _) in zip(order, cells, strict=True))
        staff.add(cells, 15.75 * lines if lines > 1 else None)

    guide = _Sheet(form.GUIDE_SHEET, template.GUIDE_COLUMN_WIDTHS, header_text=header, landscape=False)
    guide.protected = True
    guide.add([(template.GUIDE_TITLE, st.xf("title"))], 24)
    guide.add([])
    plain_label, plain_text = st.xf("bold", "", True, "", "top"), st.xf("normal", "", True, "", "top")
    section = st.xf("bold", "section", True, "", "top")
    for label, text, heading in template.guide_rows(config, unit, period):
        cells = [(label, section if heading else plain_label), (text, section if heading else plain_text)]
        guide.add(cells, template.guide_row_height(label, text))

    meta = _Sheet(form.META_SHEET, (16, 24), hidden=True, protected=True)
    for key, value in template.meta_rows(unit, period):
        meta.add([(key, 0), (value, 0)])
    title = f"{template.TITLE.capitalize()} — {unit.name}"
    return _package([unit_sheet, staff, guide, meta], st, title, stamp)


# ------------------------------------------------------------------------------------------------
# E-mails and send times


def _skip_weekend(day: dt.date, forward: bool) -> dt.date:
    while day.weekday() >= 5:
        day += dt.timedelta(days=1 if forward else -1)
    return day


def _at(day: dt.date, rng: random.Random, first_hour: int = 7, last_hour: int = 16) -> dt.datetime:
    minute = rng.randint(first_hour * 60 + 30, last_hour * 60 + 59)
    return dt.datetime(
        day.year, day.month, day.day, minute // 60, minute % 60, rng.randint(0, 59), tzinfo=VN_TZ
    )


def _send_time(rng: random.Random, period: Period, due: dt.date, late: bool) -> dt.datetime:
    if late:
        return _at(_skip_weekend(due + dt.timedelta(days=rng.randint(1, 6)), forward=True), rng)
    last_day = period.next().first_day - dt.timedelta(days=1)
    start = last_day - dt.timedelta(days=2)
    day = start + dt.timedelta(days=rng.randint(0, (due - start).days))
    return _at(_skip_weekend(day, forward=False), rng)


def _safe_file_name(text: str) -> str:
    for bad in '/\\:*?"<>|':
        text = text.replace(bad, "-")
    return text.strip(" .")


def _email_bytes(
    config: Config,
    unit: Unit,
    sent: dt.datetime,
    subject: str,
    body: str,
    attachment_name: str,
    workbook: bytes,
    message_id: str,
) -> bytes:
    """A saved e-mail (.eml) as a mail client writes it: text body, the workbook attached.

    Built with the classic MIME classes: the newer EmailMessage API folds headers ten times slower,
    which matters when the benchmarks write thousands of e-mails.
    """
    # A fixed boundary (the default is random) keeps the same seed giving the same bytes.
    message = MIMEMultipart(boundary="=_thidua_" + hashlib.sha256(message_id.encode()).hexdigest()[:24])
    sender = unit.emails[0] if unit.emails else f"{unit.code.lower()}@mau.thidua.invalid"
    message["From"] = formataddr((unit.name, sender))
    message["To"] = formataddr((template.clerk_unit_name(config), config.office.clerk_email))
    message["Subject"] = Header(subject, "utf-8", header_name="Subject")
    message["Date"] = format_datetime(sent)
    message["Message-ID"] = message_id
    message.attach(MIMEText(body, "plain", "utf-8"))
    attachment = MIMEApplication(workbook, XLSX_MIME[1])
    attachment.add_header("Content-Disposition", "attachment", filename=("utf-8", "", attachment_name))
    message.attach(attachment)
    return message.as_bytes(policy=_CRLF)


_CRLF = email.policy.compat32.clone(linesep="\r\n")


# ------------------------------------------------------------------------------------------------
# The inbox


DEMO_VARIANTS = (
    "abbreviation",
    "padded_text",
    "unit_abbreviation",
    "category_code",
    "tone_variant",
    "nfd_text",
    "formula_like_text",
    "moved_column",
    "inserted_row",
)
DEMO_ERRORS = ("tasks_completed_gt_assigned", "missing_birth_date", "invalid_rating", "duplicate_person")


def _assign_roles(config: Config, seed: int, scenario: str) -> dict[str, str]:
    rng = random.Random(f"{seed}/roles")
    others = [u.code for u in config.units if u.code.upper() != config.office.clerk_unit.upper()]
    clerk = [u.code for u in config.units if u.code.upper() == config.office.clerk_unit.upper()]
    rng.shuffle(others)
    roles = {code: "normal" for code in clerk + others}
    special = ("missing", "late", "errors", "correction", "duplicate") if scenario == "demo" else ()
    for role, code in zip(special, others, strict=False):
        roles[code] = role
    normal = [code for code in others[len(special) :] + clerk]
    for code in normal[: max(1, len(config.units) // 5)]:
        roles[code] = "excellent"
    return roles


class _Writer:
    """Names and writes the inbox files, keeping names unique within one generation.

    Each file goes through the atomic writer, whose fsync dominates the cost of a small file; a few
    threads overlap those waits. Contents are all decided before, so the result stays deterministic.
    """

    def __init__(self, inbox: Path) -> None:
        self.inbox = inbox
        self.used: set[str] = set()
        self.pool = ThreadPoolExecutor(max_workers=4)
        self.pending: list[Future] = []

    def name(self, wanted: str) -> Path:
        stem, dot, ext = wanted.rpartition(".")
        candidate, n = wanted, 1
        while candidate.casefold() in self.used:
            n += 1
            candidate = f"{stem} ({n}){dot}{ext}"
        self.used.add(candidate.casefold())
        return self.inbox / candidate

    def write(self, path: Path, data: bytes, when: dt.datetime) -> None:
        self.pending.append(self.pool.submit(self._write, path, data, when.timestamp()))

    @staticmethod
    def _write(path: Path, data: bytes, stamp: float) -> None:
        write_bytes(path, data)
        os.utime(path, (stamp, stamp))

    def close(self) -> None:
        try:
            for job in self.pending:
                job.result()  # re-raises a UserError of the atomic writer
        finally:
            self.pool.shutdown()


def generate_inbox(
    config: Config,
    inbox: Path,
    periods: Sequence[Period],
    seed: int = 2024,
    scenario: str = "demo",
    *,
    staff_per_unit: int | None = None,
    as_email: bool = True,
) -> SampleManifest:
    """Fill a workbook for every unit and month and drop them into `inbox` as e-mails and files.

    `staff_per_unit` fixes the head count of every unit (benchmarks) and turns off arrivals and
    departures; by default a unit has 6 to 15 people who change rarely. With `as_email=False` every
    workbook is a bare .xlsx file (same workbook bytes as in the e-mails).
    """
    if scenario not in SCENARIOS:
        raise UserError(f"Kịch bản mẫu “{scenario}” không có; dùng một trong: {', '.join(SCENARIOS)}.")
    periods = tuple(sorted(set(periods)))
    if not periods:
        raise UserError("Cần ít nhất một kỳ báo cáo để tạo dữ liệu mẫu.")
    campaigns = {p: config.campaign_for(p) for p in periods}
    demo = scenario == "demo"
    roles = _assign_roles(config, seed, scenario)
    clerk_name = template.clerk_unit_name(config)
    plans: list[_UnitPlan] = []
    for unit in config.units:
        rng = random.Random(f"{seed}/{unit.code}/people")
        size = staff_per_unit or rng.randint(6, 15)
        role = roles[unit.code]
        people = _roster(rng, unit, size, role == "excellent")
        clerks = [p for p in people if p.position in ("Văn thư", "Chuyên viên", "Cán sự")] or people
        preparer = clerks[0].name
        phone = rng.choice(("0214 3840 ", "0214 3820 ", "0912 ", "0983 ", "0388 "))
        phone += (
            f"{rng.randint(100, 999)}"
            if phone.startswith("0214")
            else f"{rng.randint(100, 999)} {rng.randint(100, 999)}"
        )
        plan = _UnitPlan(unit, role, people, preparer, phone)
        _simulate(rng, plan, periods, churn=staff_per_unit is None)
        plans.append(plan)
    _discipline_one(plans, periods, seed)

    variant_at: dict[tuple[str, int], list[str]] = {}
    if demo:
        rng = random.Random(f"{seed}/variants")
        slots = [
            (p.unit.code, i)
            for p in plans
            if p.role in ("normal", "excellent", "late")
            for i in range(len(periods))
        ]
        by_code = {p.unit.code: p for p in plans}

        def respelled(slot: tuple[str, int]) -> bool:
            # An old-style tone mark only tests matching when the person is in another month too.
            plan, index = by_code[slot[0]], slot[1]
            return any(
                (i, index) in plan.months
                and _old_style(person.name) != person.name
                and any((i, k) in plan.months for k in range(len(periods)) if k != index)
                for i, person in enumerate(plan.people)
            )

        for kind, slot in zip(
            DEMO_VARIANTS, rng.sample(slots, min(len(slots), len(DEMO_VARIANTS))), strict=False
        ):
            if kind == "tone_variant" and not respelled(slot):
                fits = [other for other in slots if respelled(other)]
                slot = rng.choice(fits) if fits else slot
            variant_at.setdefault(slot, []).append(kind)

    writer = _Writer(Path(inbox))
    files: list[SampleFile] = []
    expected: dict[tuple[str, Period], ReportingStatus] = {}
    truth: dict[tuple[str, Period], UnitReport] = {}
    last = len(periods) - 1
    try:
        for plan in plans:
            unit = plan.unit
            for index, period in enumerate(periods):
                key = (unit.code, period)
                if plan.role == "missing":
                    expected[key] = ReportingStatus.MISSING
                    continue
                rng = random.Random(f"{seed}/{unit.code}/{period}/file")
                due = campaigns[period].due_date(period)
                late = plan.role == "late"
                sent = _send_time(rng, period, due, late)
                if plan.role == "correction" and index == last and sent.date() >= due:
                    sent = _at(_skip_weekend(due - dt.timedelta(days=1), forward=False), rng)
                prepared = sent.date() - dt.timedelta(days=rng.randint(0, 1))
                report, filled = _report_and_cells(config, plan, period, index, prepared, rng)
                for kind in variant_at.get((unit.code, index), ()):
                    report = _apply_variant(kind, filled, report, rng)
                expected[key] = ReportingStatus.LATE if late else ReportingStatus.ON_TIME
                common = {
                    "config": config,
                    "unit": unit,
                    "period": period,
                    "report": report,
                    "writer": writer,
                    "rng": rng,
                    "seed": seed,
                    "clerk": clerk_name,
                    "as_email": as_email,
                }
                if demo and index == last and plan.role == "errors":
                    _inject_errors(filled, report, rng, DEMO_ERRORS)
                    expected[key] = ReportingStatus.WITH_ERRORS
                    files += _emit(
                        **common,
                        filled=filled,
                        sent=sent,
                        role="with_errors",
                        status=FileStatus.REJECTED,
                    )
                    continue
                truth[key] = report
                if demo and index == last and plan.role == "correction":
                    first = dataclasses.replace(
                        filled, staff_rows=[dict(r) for r in filled.staff_rows], mistakes=[]
                    )
                    _inject_errors(first, report, rng, ("missing_rating",))
                    early = sent.replace(hour=8, minute=rng.randint(0, 59))
                    files += _emit(
                        **common,
                        filled=first,
                        sent=early,
                        role="correction_first",
                        status=FileStatus.SUPERSEDED,
                    )
                    fixed = early + dt.timedelta(hours=rng.randint(2, 6), minutes=rng.randint(0, 59))
                    files += _emit(
                        **common,
                        filled=filled,
                        sent=fixed,
                        role="correction_final",
                        status=FileStatus.ACCEPTED,
                        correction_of=early,
                    )
                    continue
                transport = "xlsx" if rng.random() < 0.2 else "eml"
                duplicate = demo and index == last and plan.role == "duplicate"
                files += _emit(
                    **common,
                    filled=filled,
                    sent=sent,
                    role="late" if late else "report",
                    status=FileStatus.ACCEPTED,
                    transport="xlsx" if duplicate else transport,
                    duplicate=duplicate,
                )
    finally:
        writer.close()
    return SampleManifest(
        seed=seed,
        scenario=scenario,
        inbox=Path(inbox),
        periods=periods,
        files=tuple(files),
        expected_status=expected,
        truth=truth,
        roles=roles,
    )


def _discipline_one(plans: list[_UnitPlan], periods: Sequence[Period], seed: int) -> None:
    """Discipline is rare: one person of an ordinary unit, in the last month."""
    rng = random.Random(f"{seed}/discipline")
    last = len(periods) - 1
    candidates = [
        (plan, i)
        for plan in plans
        if plan.role in ("normal", "late")
        for i, person in enumerate(plan.people)
        if person.profile in ("average", "weak") and (i, last) in plan.months
    ]
    if candidates:
        plan, i = rng.choice(candidates)
        month = plan.months[(i, last)]
        month.discipline, month.rating = "Khiển trách", "HTNV"


def _emit(
    *,
    config: Config,
    unit: Unit,
    period: Period,
    report: UnitReport,
    writer: _Writer,
    filled: _Filled,
    sent: dt.datetime,
    role: str,
    status: FileStatus,
    rng: random.Random,
    seed: int,
    clerk: str,
    as_email: bool = True,
    transport: str = "eml",
    duplicate: bool = False,
    correction_of: dt.datetime | None = None,
) -> list[SampleFile]:
    stamp = (sent - dt.timedelta(minutes=rng.randint(3, 90))).replace(tzinfo=None)
    workbook = filled_workbook_bytes(config, unit, period, filled, stamp)
    digest = hashlib.sha256(workbook).hexdigest()
    template_name = form.template_file_name(str(period), unit.code)
    own_name = f"Báo cáo thi đua tháng {period.month:02d}-{period.year} - {unit.name}.xlsx"
    attachment = template_name if rng.random() < 0.5 else own_name
    mistakes = tuple(filled.mistakes)
    out = []
    if transport == "xlsx" or not as_email:
        path = writer.name(template_name)
        writer.write(path, workbook, sent)
        out.append(
            SampleFile(path, None, unit.code, period, None, sent, digest, role, status, mistakes, report)
        )
        if duplicate:
            # The clerk saved the same attachment twice; the browser named the copy "… (1)".
            copy_time = sent + dt.timedelta(minutes=rng.randint(5, 120))
            stem = template_name.removesuffix(".xlsx")
            copy = writer.name(f"{stem} (1).xlsx")
            writer.write(copy, workbook, copy_time)
            out.append(
                SampleFile(
                    copy,
                    None,
                    unit.code,
                    period,
                    None,
                    copy_time,
                    digest,
                    "duplicate_copy",
                    FileStatus.DUPLICATE,
                    mistakes,
                    report,
                )
            )
        return out
    label = period.label
    if correction_of is not None:
        subject = f"V/v gửi lại báo cáo thi đua tháng {label} (bản sửa) - {unit.name}"
        body = (
            f"Kính gửi {clerk},\n\n{unit.name} gửi lại báo cáo kết quả thực hiện phong trào thi đua "
            f"tháng {label} đã sửa sai sót; đề nghị sử dụng bản này thay cho bản gửi lúc "
            f"{correction_of:%H:%M} ngày {correction_of:%d/%m/%Y}.\n\n"
        )
    else:
        subject = f"Báo cáo kết quả thi đua tháng {label} - {unit.name}"
        body = (
            f"Kính gửi {clerk},\n\n{unit.name} gửi báo cáo kết quả thực hiện phong trào thi đua "
            f"tháng {label} (tệp đính kèm).\n\n"
        )
    body += f"Trân trọng,\n{report.preparer}\n{unit.name}\nĐT: {report.phone}\n"
    message_id = f"<{period}.{unit.code}.{role}.{seed}@mau.thidua.invalid>"
    data = _email_bytes(config, unit, sent, subject, body, attachment, workbook, message_id)
    path = writer.name(f"{sent:%Y-%m-%d %H%M} {_safe_file_name(subject)}.eml")
    writer.write(path, data, sent)
    sender = unit.emails[0] if unit.emails else None
    out.append(
        SampleFile(path, attachment, unit.code, period, sender, sent, digest, role, status, mistakes, report)
    )
    return out


# ------------------------------------------------------------------------------------------------
# A synthetic province for the benchmarks

_PREFIXES = ("Phòng", "Ban", "Trung tâm", "Phòng", "Phòng")
_TOPICS = (
    "Tổng hợp", "Kinh tế", "Nội chính", "Khoa giáo - Văn xã", "Hành chính công", "Tiếp công dân",
    "Thông tin - Công báo", "Quản trị - Tài vụ", "Kiểm soát thủ tục", "Tổ chức - Hành chính",
)  # fmt: skip


def generate_province(n_units: int, *, base: Config | None = None) -> Config:
    """The default config (or `base`) with `n_units` synthetic units DV0001, DV0002…; DV0001 is the clerk."""
    from processor.config import default_config_text, parse_config

    base = base or parse_config(default_config_text())
    units = [
        Unit(
            code=f"DV{i:04d}",
            name=f"{_PREFIXES[i % len(_PREFIXES)]} {_TOPICS[i % len(_TOPICS)]} số {i:04d}",
            emails=[f"dv{i:04d}@laocai.gov.vn"],
        )
        for i in range(1, n_units + 1)
    ]
    office = dataclasses.replace(base.office, clerk_unit=units[0].code if units else base.office.clerk_unit)
    digest = hashlib.sha256(f"province:{n_units}:{base.sha256}".encode()).hexdigest()
    return dataclasses.replace(base, units=units, office=office, sha256=digest)
