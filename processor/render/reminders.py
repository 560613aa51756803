"""Reminder drafts: for each unit that has not reported for the month, or whose report cannot be used.

`output/<period>/nhac-nop/` holds, per such unit, a ready-to-send `.eml` to the unit's registered
addresses (config `units[].emails`) with the unit's form for the month attached (prefilled as
`thidua template` does: unit, period, and the staff of its last accepted report), the deadline in the
text. A unit without a usable registered address gets no e-mail: its form is written beside, and it is
listed in `don-vi-chua-co-dia-chi-thu.txt` with what the clerk can do. The same inputs give the same
bytes (no clock in the text, the forms stamped with the period).

Written by `thidua run` into its staging folder (published with the period), and by
`thidua status --reminders` without a run (pipeline.write_reminders_now, publish.replace_subfolder).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from processor import form
from processor.config import Config, Unit
from processor.records import Period, PersonRecord, ReportingStatus
from processor.render import atomic
from processor.render.feedback import _addresses, _deadline, _office_unit_name, draft_bytes
from processor.vntext import clean, format_date, nfc, one_line, safe_file_name, xml_safe

REMINDER_DIR = "nhac-nop"
NO_ADDRESS_LIST = "don-vi-chua-co-dia-chi-thu.txt"
# The statuses that call for a reminder: no report at all, or only one with errors (not used).
REMIND = (ReportingStatus.MISSING, ReportingStatus.WITH_ERRORS)


# A form takes openpyxl about 80 ms to build: the same unit's form for the same month and staff is
# built once per process (a run and then `status --reminders`, the tests' many runs).
_FORMS: dict[tuple, bytes] = {}
_FORMS_KEPT = 256


@dataclass(frozen=True)
class Reminder:
    """One unit to remind, and what was written for it."""

    unit_code: str
    unit_name: str
    status: ReportingStatus
    email: Path | None  # the draft; None when the unit has no usable registered address
    form: Path | None  # the prefilled form written beside, for a unit without an address


def units_to_remind(units: Iterable) -> list:
    """The units (aggregate's UnitResult or UnitReporting, roster order) that get a reminder: missing, or
    with errors and not used (a report used in part under --accept-partial is not chased)."""
    return [u for u in units if u.status in REMIND and not getattr(u, "partial", False)]


def reminder_file_name(period: Period, unit_code: str) -> str:
    return safe_file_name(f"{period}_{unit_code}", "_nhac-nop.eml")


def _body(
    config: Config,
    unit: Unit,
    status: ReportingStatus,
    period: Period,
    attachment: str,
    file: str | None,
    staff: bool,
) -> str:
    office = _office_unit_name(config)
    due = _deadline(config, period)
    if status is ReportingStatus.WITH_ERRORS:
        shown = f" (tệp “{one_line(file)[:200]}”)" if file else ""
        situation = (
            f"Báo cáo kết quả thực hiện phong trào thi đua tháng {period.label} đơn vị đã gửi{shown} còn lỗi "
            f"nên chưa được tổng hợp; thư kết quả kiểm tra của {office} đã chỉ rõ các ô cần sửa."
        )
    else:
        situation = (
            f"{office} chưa nhận được báo cáo kết quả thực hiện phong trào thi đua tháng {period.label} của "
            "đơn vị."
        )
    paragraphs = [f"Kính gửi: {unit.name}", situation]
    if due:
        paragraphs.append(f"Hạn nộp báo cáo tháng {period.label}: ngày {format_date(due)}.")
    filled = (
        "mã đơn vị, kỳ báo cáo và danh sách cán bộ theo báo cáo gần nhất"
        if staff
        else "mã đơn vị, kỳ báo cáo"
    )
    paragraphs.append(
        f"Đề nghị đơn vị điền biểu mẫu đính kèm “{attachment}” (đã ghi sẵn {filled}), lưu dạng .xlsx hoặc "
        f".ods rồi gửi cho {office}. Nếu đơn vị đã gửi báo cáo, xin bỏ qua thư này."
    )
    signature = ["Trân trọng./.", "", office]
    if config.office.issuing_body_name:
        signature.append(clean(f"{config.office.issuing_body_name} {config.office.place}"))
    if config.office.clerk_email:
        signature.append(config.office.clerk_email)
    paragraphs.append("\n".join(signature))
    return xml_safe(nfc("\n\n".join(paragraphs) + "\n"))


def write_reminders(
    config: Config,
    period: Period,
    units: Iterable,
    out_dir: Path,
    prefill: Mapping[str, Sequence[PersonRecord]] | None = None,
) -> list[Reminder]:
    """Reminder drafts under out_dir/nhac-nop/ for the units that need one (see `units_to_remind`).

    `units`: the month's reporting status of every unit (PeriodResult.units or ReportingResult.units).
    `prefill`: staff of each unit's latest accepted report before `period` (pipeline.staff_lists).
    """
    from processor.template import _stamp, build_workbook, workbook_bytes

    folder = Path(out_dir) / REMINDER_DIR
    prefill = {code.upper(): people for code, people in (prefill or {}).items()}
    office = _addresses([config.office.clerk_email], _office_unit_name(config))
    written: list[Reminder] = []
    for status in units_to_remind(units):
        unit = config.unit(status.unit_code)
        if unit is None:
            continue
        people = tuple(prefill.get(unit.code.upper()) or ())
        # A config made in code has no checksum: its forms are not remembered.
        key = (config.sha256, unit.code, str(period), people) if config.sha256 else None
        attachment = _FORMS.get(key) if key else None
        if attachment is None:
            attachment = workbook_bytes(build_workbook(config, unit, period, people), _stamp(period))
        if key and key not in _FORMS:
            if len(_FORMS) >= _FORMS_KEPT:
                del _FORMS[next(iter(_FORMS))]  # the oldest
            _FORMS[key] = attachment
        attachment_name = form.template_file_name(str(period), unit.code)
        to = _addresses(unit.emails, unit.name)
        if not to:
            form_path = folder / safe_file_name(Path(attachment_name).stem, ".xlsx")
            path = atomic.write_bytes(form_path, attachment)
            written.append(Reminder(unit.code, unit.name, status.status, None, path))
            continue
        headers: list[tuple[str, object]] = []
        if office:
            headers.append(("From", office))
        headers.append(("To", to))
        subject = f"[Thi đua] Nhắc nộp báo cáo tháng {period.label} – {unit.name}"
        headers.append(("Subject", one_line(subject)))
        body = _body(
            config, unit, status.status, period, attachment_name, getattr(status, "file", None), bool(people)
        )
        eml = folder / reminder_file_name(period, unit.code)
        atomic.write_bytes(eml, draft_bytes(headers, body, attachment_name, attachment))
        written.append(Reminder(unit.code, unit.name, status.status, eml, None))
    missing_address = [r for r in written if r.email is None]
    if missing_address:
        atomic.write_text(folder / NO_ADDRESS_LIST, _no_address_text(period, missing_address))
    return written


def _no_address_text(period: Period, reminders: Sequence[Reminder]) -> str:
    from processor.aggregate import STATUS_LABELS

    lines = [
        f"Đơn vị cần nhắc nộp báo cáo tháng {period.label} nhưng chưa đăng ký địa chỉ thư điện tử "
        "(units[].emails trong config.toml):",
        "",
    ]
    for r in reminders:
        form_name = r.form.name if r.form else ""
        label = STATUS_LABELS[r.status].lower()
        lines.append(f"- {r.unit_code} – {r.unit_name}: {label}; biểu mẫu: {form_name}")
    lines += [
        "",
        "Cách làm: gửi biểu mẫu của đơn vị (trong thư mục này) bằng cách khác; hoặc thêm địa chỉ thư của đơn "
        "vị vào config.toml rồi chạy lại “thidua status --reminders” để có thư nhắc.",
    ]
    return nfc("\n".join(lines) + "\n")


def reminder_paths(reminders: Sequence[Reminder], out_dir: Path) -> list[Path]:
    """Every file written for the reminders (drafts, forms of units without an address, the list)."""
    paths: list[Path] = []
    for r in reminders:
        paths += [p for p in (r.email, r.form) if p is not None]
    if any(r.email is None for r in reminders):
        paths.append(Path(out_dir) / REMINDER_DIR / NO_ADDRESS_LIST)
    return paths
