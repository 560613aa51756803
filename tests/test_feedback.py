"""Feedback: annotated copies, the clerk's validation report and the e-mail drafts, on real files."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import io
import re
import shutil
import subprocess
import unicodedata
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.formatting.rule import Rule
from openpyxl.styles import Border, Protection, Side
from openpyxl.styles.differential import DifferentialStyle

from processor import form
from processor.config import default_config_text, parse_config
from processor.records import FileStatus, Finding, Period, ReceivedFile, Severity, Submission
from processor.render import annotate, feedback
from processor.render.feedback import (
    FINDINGS_SHEET,
    RESTORE_SHEET,
    write_annotated_copy,
    write_feedback,
    write_feedback_email,
    write_validation_report,
)

VN = dt.timezone(dt.timedelta(hours=7))
PERIOD = Period(2024, 2)
FORM_BORDER = Border(bottom=Side(style="thin", color="808080"))


@pytest.fixture(scope="module")
def config():
    return parse_config(default_config_text())


def make_form(path: Path, unit_code: str = "KT", period: str = "02/2024", unit_note: bool = True) -> Path:
    """A unit's workbook following the layout contract, filled in with a few mistakes. With `unit_note`
    the unit left a comment of its own (merged with ours in the annotated copy, see notes.py)."""
    wb = Workbook()
    unit = wb.active
    unit.title = form.UNIT_SHEET
    unit["A1"] = "BÁO CÁO KẾT QUẢ THỰC HIỆN PHONG TRÀO THI ĐUA"
    unit.merge_cells("A1:C1")
    unit["A2"] = f"Phong trào thi đua đợt I năm 2024 – Tháng {period}"
    for column, title in enumerate(("Nội dung", "Số liệu", "Hướng dẫn"), 1):
        unit.cell(3, column, title)
    values = {
        "unit_code": unit_code,
        "unit_name": "Phòng Kinh tế",
        "period": period,
        "preparer": "Nguyễn Thị Hoà",
        "phone": "0912345678",
        "prepared_on": dt.date(2024, 3, 2),
        "self_rating": "Tốt lắm",
        "tasks_assigned": 5,
        "tasks_completed": 7,
        "donation_vnd": 1500000,
        "support_activities": 2,
        "highlights": "Hoàn thành sớm kế hoạch",
    }
    for row, field in enumerate(form.UNIT_FIELDS, form.UNIT_FIRST_ROW):
        unit.cell(row, 1, field.label)
        value_cell = unit.cell(row, 2, values[field.key])
        value_cell.protection = Protection(locked=False)
        value_cell.border = FORM_BORDER
        unit.cell(row, 3, field.help)
    highlights_row = form.UNIT_FIRST_ROW + len(form.UNIT_FIELDS) - 1
    unit.merge_cells(f"B{highlights_row}:C{highlights_row}")
    unit.protection.sheet = True
    unit.protection.password = "thidua"

    staff = wb.create_sheet(form.STAFF_SHEET)
    for column, field in enumerate(form.STAFF_FIELDS, 1):
        staff.cell(1, column, field.label)
    people = [
        ["Nguyễn Văn An", dt.date(1980, 1, 5), "Trưởng phòng", "Công chức", "Có", "Hoàn thành tốt nhiệm vụ"],
        ["Trần Thị Bình", dt.date(1990, 6, 1), "Chuyên viên", "Công chức", "Có", "Tốt lắm"],
        ["Lê Văn Cường", dt.date(1985, 2, 3), "=1+1", "Viên chức", "Có", "Hoàn thành nhiệm vụ"],
    ]
    for row, person in enumerate(people, 2):
        staff.cell(row, 1, "=ROW()-1")  # the form numbers its rows with a formula
        for column, value in enumerate([*person, "Có", 0, "Không", ""], 2):
            cell = staff.cell(row, column, value)
            cell.protection = Protection(locked=False)
    staff["D4"].data_type = "s"  # the unit typed "=1+1" as text: it must stay text everywhere
    if unit_note:
        staff["G3"].comment = Comment("Chờ ý kiến trưởng phòng", "Bình")
    staff.print_title_rows = "1:1"  # a name local to the sheet: stays on it when a sheet goes in front
    # Like the real form: filled rows get borders by conditional formatting, which beats cell formats.
    staff.conditional_formatting.add(
        "A2:K300",
        Rule(type="expression", formula=["COUNTA($A2:$K2)>0"], dxf=DifferentialStyle(border=FORM_BORDER)),
    )
    staff.protection.sheet = True

    guide = wb.create_sheet(form.GUIDE_SHEET)
    guide["A1"] = "Hướng dẫn điền biểu mẫu"
    meta = wb.create_sheet(form.META_SHEET)
    for row, (key, value) in enumerate(
        [("form_id", form.FORM_ID), ("form_version", form.FORM_VERSION), ("unit_code", unit_code)], 1
    ):
        meta.cell(row, 1, key)
        meta.cell(row, 2, value)
    meta.cell(4, 1, "period")
    meta.cell(4, 2, str(Period.parse(period)))
    meta.sheet_state = "hidden"
    meta.protection.sheet = True
    wb.active = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


KT_SENDER = "kinhte.vpubnd@laocai.gov.vn"


def received(path: Path, minute: int = 30, sender: str | None = KT_SENDER) -> ReceivedFile:
    return ReceivedFile(
        display_name=path.name,
        source_path=path,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        received_at=dt.datetime(2024, 3, 4, 9, minute, tzinfo=VN),
        sender=sender,
    )


def unit_row(label: str) -> int:
    return form.UNIT_FIRST_ROW + [f.label for f in form.UNIT_FIELDS].index(label)


def staff_col(label: str) -> str:
    return "ABCDEFGHIJK"[[f.label for f in form.STAFF_FIELDS].index(label)]


def findings_for(name: str) -> list[Finding]:
    rating = staff_col("Xếp loại tháng")
    tasks = unit_row("Số nhiệm vụ đã hoàn thành")
    highlights = unit_row("Kết quả nổi bật")
    return [
        Finding(
            Severity.WARNING,
            "position",
            "Chức vụ “=1+1” không giống một chức vụ; ghi chức vụ hoặc vị trí việc làm.",
            name,
            form.STAFF_SHEET,
            f"{staff_col('Chức vụ')}4",
            "Chức vụ",
            "=1+1",
        ),
        Finding(
            Severity.ERROR,
            "tasks",
            "Số nhiệm vụ đã hoàn thành (7) lớn hơn số nhiệm vụ được giao (5); sửa lại cho đúng.",
            name,
            form.UNIT_SHEET,
            f"B{tasks}",
            "Số nhiệm vụ đã hoàn thành",
            "7",
        ),
        Finding(
            Severity.WARNING,
            "rating_vs_staff",
            "Xếp loại này cao hơn kết quả của đơn vị; kiểm tra lại.",
            name,
            form.STAFF_SHEET,
            f"{rating}3",
            "Xếp loại tháng",
            "Tốt lắm",
        ),
        Finding(
            Severity.ERROR,
            "allowed_values",
            "“Tốt lắm” không phải mức xếp loại; chọn một mức trong danh sách, ví dụ Hoàn thành tốt nhiệm vụ.",
            name,
            form.STAFF_SHEET,
            f"{rating}3",
            "Xếp loại tháng",
            "Tốt lắm",
        ),
        Finding(
            Severity.ERROR,
            "max_length",
            "Kết quả nổi bật quá dài\x07; ghi không quá 1.000 ký tự.",  # a control character from a unit
            name,
            form.UNIT_SHEET,
            f"C{highlights}",  # inside the merged B:C cell
            "Kết quả nổi bật",
            "+84 Hoàn thành\x07",
        ),
        Finding(Severity.WARNING, "sender", "Người gửi không thuộc đơn vị.", name),
        Finding(Severity.WARNING, "odd_sheet", "Sheet lạ.", name, "Sheet9", "A1", None, "@x"),
    ]


@pytest.fixture(params=["patched", "commented"])
def way(request, monkeypatch) -> str:
    """Run a test on a plain workbook and on one with a note of the unit's own (merged with ours,
    notes.py), and make sure both are marked: the copy never falls back to the workbook untouched."""
    monkeypatch.setattr(feedback, "_untouched_with_findings", lambda *a, **k: pytest.fail("not marked"))
    return request.param


@pytest.fixture
def unit_file(tmp_path: Path, way: str) -> Path:
    return make_form(tmp_path / "inbox" / "Báo cáo KT tháng 2.xlsx", unit_note=way == "commented")


@pytest.fixture
def submission(unit_file: Path) -> Submission:
    return Submission(
        file=received(unit_file),
        status=FileStatus.REJECTED,
        findings=findings_for(unit_file.name),
        unit_code="KT",
        period=PERIOD,
    )


def rgb(cell) -> str:
    return (cell.fill.fgColor.rgb or "")[-6:] if cell.fill.fill_type else ""


def cf_rules(ws) -> list[tuple[int, str, str, str]]:
    """(priority, cells, formula, dxf fill colour) of each conditional format, by priority."""
    out = []
    for target in ws.conditional_formatting:
        for rule in target.rules:
            fill = rule.dxf.fill.bgColor.rgb[-6:] if rule.dxf and rule.dxf.fill else ""
            out.append((rule.priority, str(target.sqref), rule.formula[0], fill))
    return sorted(out)


def findings_rows(ws) -> list[tuple]:
    header = next(r for r in range(1, 20) if ws.cell(r, 1).value == "STT")
    titles = [c.value for c in ws[header]]
    assert titles == ["STT", "Mức độ", "Sheet", "Ô", "Nội dung", "Giá trị", "Hướng dẫn sửa"]
    return [tuple(c for c in row) for row in ws.iter_rows(min_row=header + 1) if row[0].value is not None]


# ------------------------------------------------------------------------------------------------
# Annotated copy


def findings_sheet_xml(path: Path) -> str:
    """The XML of the first sheet, found as Excel finds it (workbook.xml, then its rels)."""
    pkg = annotate.Package(path.read_bytes())
    first = next(s for s in pkg.sheets() if s.name == FINDINGS_SHEET)
    assert pkg.sheets()[0] is first
    return pkg.read(first.part).decode()


def test_annotated_copy_marks_cells_and_lists_findings(tmp_path, way, unit_file, submission, config):
    before = unit_file.read_bytes()
    out = write_annotated_copy(submission, before, tmp_path / "out" / "copy.xlsx", config=config)
    assert unit_file.read_bytes() == before  # the received file is never touched

    wb = load_workbook(out)
    assert wb.sheetnames[0] == FINDINGS_SHEET
    assert wb.active.title == FINDINGS_SHEET
    assert [ws.sheet_view.tabSelected for ws in wb.worksheets].count(True) == 1
    unit, staff = wb[form.UNIT_SHEET], wb[form.STAFF_SHEET]
    tasks = unit[f"B{unit_row('Số nhiệm vụ đã hoàn thành')}"]
    rating = staff[f"{staff_col('Xếp loại tháng')}3"]
    position = staff[f"{staff_col('Chức vụ')}4"]

    assert rgb(tasks) == "FFC7CE" and tasks.border.left.style == "medium"
    assert tasks.border.left.color.rgb.endswith("E00000")
    assert tasks.comment.author == "thidua"
    assert "lớn hơn số nhiệm vụ được giao" in tasks.comment.text
    # An error and a warning on one cell: red wins, both messages in the comment, the unit's note kept.
    assert rgb(rating) == "FFC7CE"
    assert "không phải mức xếp loại" in rating.comment.text and "cao hơn kết quả" in rating.comment.text
    assert ("Chờ ý kiến trưởng phòng" in rating.comment.text) is (way == "commented")
    assert rgb(position) == "FFEB9C"
    assert position.value == "=1+1" and position.data_type == "s"
    # The finding inside a merged cell lands on the visible top-left cell.
    highlights = unit[f"B{unit_row('Kết quả nổi bật')}"]
    assert rgb(highlights) == "FFC7CE" and "quá dài" in highlights.comment.text
    # Untouched cells keep their look, and the form's formulas stay formulas.
    assert rgb(unit[f"B{unit_row('Số nhiệm vụ cấp trên giao trong kỳ')}"]) == ""
    assert staff["A2"].value == "=ROW()-1" and staff["A2"].data_type == "f"

    # The marks also come first in conditional formatting, so the form's own rules cannot hide them.
    mark = feedback.MARK_FORMULA
    assert cf_rules(staff) == [
        (1, rating.coordinate, mark, "FFC7CE"),
        (2, position.coordinate, mark, "FFEB9C"),
        (3, "A2:K300", "COUNTA($A2:$K2)>0", ""),
    ]
    assert next(iter(staff.conditional_formatting)).rules[0].formula == [mark]  # LibreOffice: first wins
    assert cf_rules(unit) == [(1, f"{tasks.coordinate} {highlights.coordinate}", mark, "FFC7CE")]

    # Protection stays, but every flagged cell can be edited.
    assert unit.protection.sheet and staff.protection.sheet
    assert not tasks.protection.locked and not rating.protection.locked
    assert unit["A5"].protection.locked
    assert wb[form.META_SHEET].sheet_state == "hidden"
    assert wb[RESTORE_SHEET].sheet_state == "veryHidden"
    # The form's own print titles stay on their sheet.
    assert staff.print_title_rows.replace("$", "") == "1:1"
    assert wb[FINDINGS_SHEET].print_title_rows.replace("$", "") == "8:8"

    rows = findings_rows(wb[FINDINGS_SHEET])
    assert len(rows) == len(submission.findings)
    assert [r[0].value for r in rows] == list(range(1, len(rows) + 1))
    severities = [r[1].value for r in rows]
    assert severities == sorted(severities, key=lambda s: s != "Lỗi")  # errors first
    by_cell = {(r[2].value, r[3].value, r[4].value): r for r in rows}
    tasks_row = by_cell[(form.UNIT_SHEET, tasks.coordinate, "Số nhiệm vụ đã hoàn thành")]
    assert tasks_row[3].hyperlink.location == f"'{form.UNIT_SHEET}'!{tasks.coordinate}"
    assert tasks_row[5].value == "7"
    merged_row = by_cell[(form.UNIT_SHEET, highlights.coordinate, "Kết quả nổi bật")]
    assert merged_row[3].hyperlink.location.endswith(f"!{highlights.coordinate}")
    assert merged_row[5].value == "+84 Hoàn thành" and merged_row[5].data_type == "s"
    assert "\x07" not in merged_row[6].value
    formula_row = by_cell[(form.STAFF_SHEET, position.coordinate, "Chức vụ")]
    assert formula_row[5].value == "=1+1" and formula_row[5].data_type == "s"
    odd = by_cell[("Sheet9", "A1", None)]
    assert odd[3].hyperlink is None and odd[5].value == "@x" and odd[5].data_type == "s"
    file_level = by_cell[(None, None, None)]
    assert file_level[6].value == "Người gửi không thuộc đơn vị."

    header_text = " ".join(str(wb[FINDINGS_SHEET].cell(r, 1).value) for r in range(1, 7))
    assert "Sửa các ô tô đỏ" in header_text.replace("sửa các ô tô đỏ", "Sửa các ô tô đỏ")
    assert "Phòng Tổ chức - Hành chính trước ngày 05/03/2024" in header_text
    assert "Phòng Kinh tế" in header_text and "3 lỗi" in header_text and "4 cảnh báo" in header_text
    assert unicodedata.is_normalized("NFC", header_text)
    sheet_xml = findings_sheet_xml(out)
    assert "=1+1" in sheet_xml and "<f>" not in sheet_xml  # nothing written as a formula


def test_annotated_copy_is_byte_identical_on_rerun(tmp_path, way, unit_file, submission, config):
    data = unit_file.read_bytes()
    first = write_annotated_copy(submission, data, tmp_path / "a.xlsx", config=config).read_bytes()
    second = write_annotated_copy(submission, data, tmp_path / "b.xlsx", config=config).read_bytes()
    assert first == second


@pytest.mark.parametrize("unit_note", [True, False])
def test_returned_copy_is_cleaned_before_marking_again(tmp_path, unit_note, config):
    """The unit fixes the annotated copy and sends it back: fixed cells lose their marks. The first copy
    has a note of the unit's or not; the returned one is cleaned at the package level (returned.py)."""
    unit_file = make_form(tmp_path / "inbox" / "Báo cáo KT tháng 2.xlsx", unit_note=unit_note)
    submission = Submission(
        received(unit_file), FileStatus.REJECTED, findings_for(unit_file.name), "KT", PERIOD
    )
    copy = write_annotated_copy(submission, unit_file.read_bytes(), tmp_path / "copy.xlsx", config=config)
    wb = load_workbook(copy)
    rating_ref = f"{staff_col('Xếp loại tháng')}3"
    wb[form.STAFF_SHEET][rating_ref] = "Hoàn thành tốt nhiệm vụ"  # fixed
    returned = io.BytesIO()
    wb.save(returned)

    remaining = [f for f in submission.findings if f.code == "tasks"]
    second = Submission(submission.file, FileStatus.REJECTED, remaining, "KT", PERIOD)
    out = write_annotated_copy(second, returned.getvalue(), tmp_path / "again.xlsx", config=config)
    wb = load_workbook(out)
    assert wb.sheetnames.count(FINDINGS_SHEET) == 1 and wb.sheetnames[0] == FINDINGS_SHEET
    rating = wb[form.STAFF_SHEET][rating_ref]
    assert rgb(rating) == "" and rating.protection.locked is False  # the form left it unlocked
    if unit_note:
        assert rating.comment.text == "Chờ ý kiến trưởng phòng" and rating.comment.author == "Bình"
    else:
        assert rating.comment is None
    position = wb[form.STAFF_SHEET][f"{staff_col('Chức vụ')}4"]
    assert rgb(position) == "" and position.comment is None
    tasks = wb[form.UNIT_SHEET][f"B{unit_row('Số nhiệm vụ đã hoàn thành')}"]
    assert rgb(tasks) == "FFC7CE" and tasks.comment.author == "thidua"
    highlights = wb[form.UNIT_SHEET][f"B{unit_row('Kết quả nổi bật')}"]
    assert rgb(highlights) == "" and highlights.border.bottom.style == "thin"  # the form's own border
    assert len(findings_rows(wb[FINDINGS_SHEET])) == 1
    assert cf_rules(wb[form.STAFF_SHEET]) == [(1, "A2:K300", "COUNTA($A2:$K2)>0", "")]
    assert cf_rules(wb[form.UNIT_SHEET]) == [(1, tasks.coordinate, feedback.MARK_FORMULA, "FFC7CE")]


@pytest.mark.parametrize(
    ("status", "explained"),
    [(FileStatus.UNREADABLE, "không đọc được"), (FileStatus.REJECTED, "Không mở lại được tệp")],
)
def test_unreadable_file_gives_findings_sheet_only(tmp_path, status, explained, config):
    bad = tmp_path / "inbox" / "bao-cao.xlsx"
    bad.parent.mkdir()
    bad.write_bytes(b"PK\x03\x04 not really a workbook")
    finding = Finding(Severity.ERROR, "unreadable", "Tệp không phải là tệp Excel hợp lệ.", bad.name)
    sub = Submission(received(bad, sender=None), status, [finding], None, None)
    out = write_annotated_copy(sub, bad.read_bytes(), tmp_path / "out.xlsx", config=config)
    wb = load_workbook(out)
    assert wb.sheetnames == [FINDINGS_SHEET]
    rows = findings_rows(wb.active)
    assert [(r[1].value, r[6].value) for r in rows] == [("Lỗi", "Tệp không phải là tệp Excel hợp lệ.")]
    assert explained in " ".join(str(wb.active.cell(r, 1).value) for r in range(1, 7))


def test_workbook_that_cannot_be_rewritten_still_gets_its_findings(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("choked on something in the unit's file")

    monkeypatch.setattr(annotate, "mark_findings", broken)
    unit_file = make_form(tmp_path / "inbox" / "KT.xlsx", unit_note=False)
    submission = Submission(
        received(unit_file), FileStatus.REJECTED, findings_for(unit_file.name), "KT", PERIOD
    )
    data = submission.file.source_path.read_bytes()
    wb = load_workbook(write_annotated_copy(submission, data, tmp_path / "x.xlsx"))
    assert wb.sheetnames == [FINDINGS_SHEET]
    assert len(findings_rows(wb.active)) == len(submission.findings)


# ------------------------------------------------------------------------------------------------
# Validation report


def other_submissions(tmp_path: Path) -> list[Submission]:
    th = make_form(tmp_path / "inbox" / "TH.xlsx", "TH")
    dup = tmp_path / "inbox" / "TH (1).xlsx"
    dup.write_bytes(th.read_bytes())
    junk = tmp_path / "inbox" / "=cmd.xlsx"
    junk.write_bytes(b"junk")
    payload = "=cmd|' /C'!A0"
    unreadable = Finding(Severity.ERROR, "unreadable", "Không đọc được tệp.", junk.name, value=payload)
    return [
        Submission(received(junk, 5, None), FileStatus.UNREADABLE, [unreadable]),
        Submission(received(dup, 10), FileStatus.DUPLICATE, [], "TH", PERIOD),
        Submission(received(th, 1), FileStatus.ACCEPTED, [], "TH", PERIOD),
    ]


def test_validation_report(tmp_path, submission, config):
    subs = [*other_submissions(tmp_path), submission]
    out = write_validation_report(subs, config, PERIOD, tmp_path / "kiem-tra-2024-02.xlsx")
    wb = load_workbook(out)
    ws = wb[FINDINGS_SHEET]
    assert "THÁNG 02/2024" in ws["A1"].value
    table = ws.tables["KiemTra"]
    header = [c.value for c in ws[4]]
    assert header == [
        "Đơn vị",
        "Tên đơn vị",
        "Tệp",
        "Trạng thái tệp",
        "Mức độ",
        "Sheet",
        "Ô",
        "Nội dung",
        "Giá trị",
        "Thông báo",
    ]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=5, values_only=False)]
    assert table.ref == f"A4:J{4 + len(rows)}"
    assert table.autoFilter is not None and table.autoFilter.ref == table.ref
    assert ws.freeze_panes == "A5"
    assert len(rows) == len(submission.findings) + 1
    # Roster order: KT (a roster unit) before the file no unit could be found for.
    assert [r[0] for r in rows] == ["KT"] * len(submission.findings) + [None]
    assert rows[0][1] == "Phòng Kinh tế" and rows[0][3] == "Bị từ chối" and rows[0][4] == "Lỗi"
    assert rows[-1][3] == "Không đọc được" and rows[-1][8] == "=cmd|' /C'!A0"
    last = 5 + len(rows) - 1
    assert ws.cell(last, 9).data_type == "s"
    assert ws.cell(last, 3).value == "=cmd.xlsx" and ws.cell(last, 3).data_type == "s"

    files = wb["Tệp đã nhận"]
    file_rows = [[c.value for c in r] for r in files.iter_rows(min_row=4)]
    assert files.tables["TepDaNhan"].ref == f"A3:L{3 + len(file_rows)}"
    # Roster order (TH comes before KT in config.toml), then time received.
    assert [r[0] for r in file_rows] == ["TH.xlsx", "TH (1).xlsx", "Báo cáo KT tháng 2.xlsx", "=cmd.xlsx"]
    kt = file_rows[2]
    assert kt[1] == submission.file.sha256[:12]
    assert kt[4] == "02/2024" and kt[5] == dt.datetime(2024, 3, 4, 9, 30)
    assert kt[7] == "Bị từ chối" and (kt[8], kt[9]) == (3, 4)
    assert file_rows[1][7] == "Trùng lặp" and file_rows[3][0] == "=cmd.xlsx"

    again = write_validation_report(list(reversed(subs)), config, PERIOD, tmp_path / "again.xlsx")
    assert again.read_bytes() == out.read_bytes()  # order and bytes do not depend on input order


# ------------------------------------------------------------------------------------------------
# E-mail draft


def test_feedback_email(tmp_path, unit_file, submission, config):
    name = feedback.feedback_file_name(submission)
    copy = write_annotated_copy(submission, unit_file.read_bytes(), tmp_path / name)
    eml = write_feedback_email(submission, config, copy, tmp_path / "KT.eml")
    raw = eml.read_bytes()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert [a.addr_spec for a in msg["To"].addresses] == config.unit("KT").emails
    assert msg["From"].addresses[0].addr_spec == config.office.clerk_email
    assert msg["From"].addresses[0].display_name == "Phòng Tổ chức - Hành chính"
    assert msg["Subject"] == "[Thi đua] Kết quả kiểm tra báo cáo tháng 02/2024 – Phòng Kinh tế"
    assert msg["X-Unsent"] == "1" and msg["Date"] is None and msg["Cc"] is None
    body = msg.get_body(("plain",)).get_content()
    assert unicodedata.is_normalized("NFC", body)
    assert body.splitlines()[0] == "Kính gửi: Phòng Kinh tế"
    assert "Báo cáo còn lỗi nên chưa được tổng hợp." in body
    assert "3 lỗi phải sửa" in body and "4 cảnh báo" in body
    assert f"ô B{unit_row('Số nhiệm vụ đã hoàn thành')}" in body and "lớn hơn số nhiệm vụ được giao" in body
    assert f"ô {staff_col('Xếp loại tháng')}3" in body
    assert "trước ngày 05/03/2024" in body and "Phòng Tổ chức - Hành chính" in body.split("Trân trọng")[1]
    (attachment,) = list(msg.iter_attachments())
    assert attachment.get_content_type() == "application/" + feedback.XLSX_MIME[1]
    assert feedback.XLSX_MIME[1] == "vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert attachment.get_filename() == "KT_Báo cáo KT tháng 2_kiem-tra.xlsx"
    assert load_workbook(io.BytesIO(attachment.get_content())).sheetnames[0] == FINDINGS_SHEET
    again = write_feedback_email(submission, config, copy, tmp_path / "again.eml")
    assert again.read_bytes() == raw


def test_email_to_an_unknown_unit_goes_to_the_sender(tmp_path, config):
    junk = tmp_path / "bảng.xlsx"
    junk.write_bytes(b"junk")
    message = "Tệp bị đặt mật khẩu; gỡ mật khẩu rồi gửi lại."
    finding = Finding(Severity.ERROR, "unreadable", message, junk.name)
    sub = Submission(received(junk, sender="ai.do@gmail.com"), FileStatus.UNREADABLE, [finding])
    copy = write_annotated_copy(sub, b"", tmp_path / "copy.xlsx", config=config)
    msg = email.message_from_bytes(
        write_feedback_email(sub, config, copy, tmp_path / "x.eml", period=PERIOD).read_bytes(),
        policy=email.policy.default,
    )
    assert [a.addr_spec for a in msg["To"].addresses] == ["ai.do@gmail.com"]
    assert msg["Subject"] == "[Thi đua] Kết quả kiểm tra báo cáo tháng 02/2024 – tệp bảng.xlsx"
    body = msg.get_body(("plain",)).get_content()
    assert "gỡ mật khẩu" in body and "không đặt mật khẩu" in body


# ------------------------------------------------------------------------------------------------
# The whole period


def test_write_feedback_picks_the_files_in_use(tmp_path, unit_file, submission, config):
    old = make_form(tmp_path / "inbox" / "cu.xlsx")
    superseded = Submission(
        received(old, 1), FileStatus.SUPERSEDED, findings_for(old.name), "KT", PERIOD, superseded_by="x"
    )
    january = make_form(tmp_path / "inbox" / "thang1.xlsx", "KT", "01/2024")
    other = Submission(
        received(january, 2), FileStatus.OTHER_PERIOD, findings_for("t"), "KT", Period(2024, 1)
    )
    subs = [superseded, other, submission, *other_submissions(tmp_path)]
    loaded: list[str] = []

    def load(file: ReceivedFile) -> bytes:
        loaded.append(file.display_name)
        return file.source_path.read_bytes()

    out_dir = tmp_path / "output"
    before = {p: p.read_bytes() for p in (tmp_path / "inbox").iterdir()}
    paths = write_feedback(subs, config, PERIOD, out_dir, load)
    names = sorted(p.relative_to(out_dir).as_posix() for p in paths)
    assert names == [
        "kiem-tra-2024-02.xlsx",
        # No unit, no sender: no draft to nobody; the clerk is told in the report (below).
        "phan-hoi/CHUA-RO-DON-VI_=cmd_kiem-tra.xlsx",
        "phan-hoi/KT_Báo cáo KT tháng 2_kiem-tra.eml",
        "phan-hoi/KT_Báo cáo KT tháng 2_kiem-tra.xlsx",
    ]
    assert all(p.is_file() for p in paths)
    assert loaded == [unit_file.name]  # the unreadable file's bytes are never parsed again
    assert {p: p.read_bytes() for p in (tmp_path / "inbox").iterdir()} == before
    report = load_workbook(out_dir / "kiem-tra-2024-02.xlsx")
    statuses = {r[7] for r in report["Tệp đã nhận"].iter_rows(min_row=4, values_only=True)}
    assert statuses == {"Đã được thay thế", "Kỳ khác", "Bị từ chối", "Không đọc được", "Trùng lặp", "Hợp lệ"}
    tasks = {r[0]: r[11] for r in report["Tệp đã nhận"].iter_rows(min_row=4, values_only=True)}
    assert "không rõ đơn vị nào gửi tệp này" in tasks["=cmd.xlsx"] and "phan-hoi" in tasks["=cmd.xlsx"]
    assert tasks[submission.file.display_name] is None
    assert not list(out_dir.rglob(f"*{feedback.atomic.TEMP_SUFFIX}"))


def test_feedback_file_name_is_safe():
    when = dt.datetime(2024, 3, 1)
    file = ReceivedFile("mail.eml › a/b:c?.xlsx", Path("mail.eml"), "0" * 64, when, None, "..\\x.xlsx")
    name = feedback.feedback_file_name(Submission(file, FileStatus.REJECTED, [], "KT", PERIOD))
    assert name == "KT_x_kiem-tra.xlsx"


def test_range_findings_colour_each_cell_up_to_a_cap(tmp_path, unit_file):
    name = unit_file.name
    findings = [
        Finding(Severity.ERROR, "duplicate_person", "Trùng người ở dòng 2.", name, form.STAFF_SHEET, "A2:K2"),
        Finding(Severity.WARNING, "column", "Cột bị đổi tên.", name, form.STAFF_SHEET, "$L$1:$L$1048576"),
        Finding(Severity.WARNING, "meta", "Mã đơn vị ẩn khác mã đơn vị.", name, form.META_SHEET, "B3"),
    ]
    sub = Submission(received(unit_file), FileStatus.REJECTED, findings, "KT", PERIOD)
    wb = load_workbook(write_annotated_copy(sub, unit_file.read_bytes(), tmp_path / "x.xlsx"))
    staff = wb[form.STAFF_SHEET]
    assert all(rgb(cell) == "FFC7CE" for cell in staff[2][:11])
    assert staff["A2"].comment is not None and staff["B2"].comment is None
    painted = [row for row in range(1, 400) if rgb(staff.cell(row, 12)) == "FFEB9C"]
    assert painted == list(range(1, feedback.MAX_CELLS_PER_FINDING + 1))
    rows = findings_rows(wb[FINDINGS_SHEET])
    assert rows[0][3].hyperlink.location == f"'{form.STAFF_SHEET}'!A2"
    meta_row = next(r for r in rows if r[2].value == form.META_SHEET)
    assert meta_row[3].value == "B3" and meta_row[3].hyperlink is None  # no link into a hidden sheet


def test_huge_workbook_is_not_loaded_for_its_copy(tmp_path, submission, monkeypatch):
    data = submission.file.source_path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        size = sum(i.file_size for i in archive.infolist() if i.filename.startswith("xl/worksheets/"))
    monkeypatch.setattr(feedback, "MAX_SHEET_XML_BYTES", size - 1)
    monkeypatch.setattr(feedback, "_mark_fast", lambda *a, **k: pytest.fail("must not be loaded"))
    wb = load_workbook(write_annotated_copy(submission, data, tmp_path / "x.xlsx"))
    assert wb.sheetnames == [FINDINGS_SHEET]


class _FoldingEverything(feedback._DraftPolicy):
    plain_headers = frozenset()


@pytest.mark.parametrize(
    ("to", "cc", "subject", "body", "filename"),
    [
        (
            ["kinhte@laocai.gov.vn"],
            [],
            "[Thi đua] Kết quả – Phòng Kinh tế",
            "Kính gửi:\nx\n",
            "KT_a_kiem-tra.xlsx",
        ),
        (
            ["a@x.vn", "b@x.vn"],
            ["Người Gửi <ai.do@gmail.com>"],
            "[Thi đua] Kết quả kiểm tra báo cáo tháng 02/2024 – " + "Ủy ban nhân dân xã Bản Qua " * 4,
            "Dòng có khoảng trắng cuối   \r\nDòng\rkhác\n\n" + "rất dài " * 60 + "\n=3D =?utf-8?q?x?= .\n",
            "KT_Báo cáo tháng 2 của Ủy ban nhân dân xã Bản Qua rất dài rất dài rất dài_kiem-tra.xlsx",
        ),
        ([], [], "=?utf-8?q?gi=E1=BA=A3?= ASCII only", "no newline at the end", "x y\"z';_kiem-tra.xlsx"),
    ],
)
def test_draft_reads_back_as_written(to, cc, subject, body, filename, monkeypatch):
    """The draft the email package writes: every header, the body and the attachment read back the same;
    CRLF lines a mail server takes; and the MIME headers written without the folder are the folder's."""
    office = feedback._addresses(["tchc.vpubnd@laocai.gov.vn"], "Phòng Tổ chức - Hành chính")
    headers = [("From", office)]
    if to:
        headers.append(("To", feedback._addresses(to)))
    if cc:
        headers.append(("Cc", cc))
    headers.append(("Subject", subject))
    attachment = bytes(range(256)) * 97 + b"tail"  # lines of base64 and a short last one
    raw = feedback.draft_bytes(headers, body, filename, attachment)
    assert raw == feedback.draft_bytes(headers, body, filename, attachment)
    lines = raw.split(b"\r\n")
    assert all(b"\n" not in line and b"\r" not in line and len(line) <= 998 for line in lines)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["X-Unsent"] == "1"
    if "=?" not in subject:  # the reader decodes encoded-word look-alikes inside the decoded text again
        assert msg["Subject"] == subject
    assert msg["From"].addresses[0].display_name == "Phòng Tổ chức - Hành chính"
    assert [a.addr_spec for a in msg["To"].addresses] == to if to else msg["To"] is None
    assert [str(a) for a in msg["Cc"].addresses] == cc if cc else msg["Cc"] is None
    text = msg.get_body(("plain",)).get_content()
    assert text.splitlines() == body.splitlines()
    (part,) = list(msg.iter_attachments())
    assert part.get_filename() == filename and part.get_content() == attachment
    monkeypatch.setattr(feedback, "DRAFT_POLICY", _FoldingEverything(linesep="\r\n"))
    assert feedback.draft_bytes(headers, body, filename, attachment) == raw


# ------------------------------------------------------------------------------------------------
# The patched copy (annotate.py) on its own


def _patched_copy(tmp_path: Path, findings: list[Finding], source: Path, monkeypatch) -> Path:
    monkeypatch.setattr(feedback, "_untouched_with_findings", lambda *a, **k: pytest.fail("not marked"))
    sub = Submission(received(source), FileStatus.REJECTED, findings, "KT", PERIOD)
    return write_annotated_copy(sub, source.read_bytes(), tmp_path / "copy.xlsx")


def test_patched_copy_keeps_formats_creates_cells_and_escapes_text(tmp_path, monkeypatch):
    source = make_form(tmp_path / "KT.xlsx", unit_note=False)
    wb = load_workbook(source)
    wb.create_sheet("Trống")  # a sheet without a single cell: <sheetData/>
    wb[form.STAFF_SHEET]["C2"].number_format = "dd/mm/yyyy"
    wb.save(source)
    hostile = "Ghi <b>đậm</b> & \"trích\" 'dẫn' ]]> \x01"
    findings = [
        Finding(Severity.ERROR, "date", hostile, source.name, form.STAFF_SHEET, "C2", "Ngày sinh"),
        Finding(Severity.WARNING, "guide", "Ô trống.", source.name, form.GUIDE_SHEET, "D40"),
        Finding(Severity.WARNING, "guide", "Ô trước.", source.name, form.GUIDE_SHEET, "B1"),
        Finding(Severity.ERROR, "empty", "Sheet trống.", source.name, "Trống", "C3"),
    ]
    wb = load_workbook(_patched_copy(tmp_path, findings, source, monkeypatch))
    birth = wb[form.STAFF_SHEET]["C2"]
    assert birth.number_format == "dd/mm/yyyy" and birth.value == dt.datetime(1980, 1, 5)
    assert rgb(birth) == "FFC7CE" and not birth.protection.locked
    assert birth.comment.text == "Lỗi – Ngày sinh: " + hostile.replace("\x01", "")
    guide = wb[form.GUIDE_SHEET]
    assert guide["A1"].value == "Hướng dẫn điền biểu mẫu"  # the row it shares with B1 is intact
    assert rgb(guide["B1"]) == "FFEB9C" and rgb(guide["D40"]) == "FFEB9C" and guide["D40"].value is None
    assert rgb(wb["Trống"]["C3"]) == "FFC7CE" and wb["Trống"]["C3"].comment.text.endswith("Sheet trống.")
    rows = findings_rows(wb[FINDINGS_SHEET])
    assert rows[0][6].value == hostile.replace("\x01", "")
    links = {r[3].hyperlink.location for r in rows if r[3].hyperlink}
    assert links == {
        f"'{form.STAFF_SHEET}'!C2",
        f"'{form.GUIDE_SHEET}'!D40",
        f"'{form.GUIDE_SHEET}'!B1",
        "'Trống'!C3",
    }


def test_worksheet_restyle_on_excel_like_rows():
    """Rows as Excel writes them (spans, prefixed attributes, empty rows, cells without s=)."""
    xml = (
        f'<worksheet xmlns="{annotate.MAIN_NS}" xmlns:x14ac="urn:x14ac"><dimension ref="B2:C5"/>'
        '<sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews><sheetData>'
        '<row r="2" spans="2:3" x14ac:dyDescent="0.25">'
        '<c r="B2" s="1" t="s"><v>0</v></c><c r="C2"><v>5</v></c></row>'
        '<row r="4" spans="2:3" s="2" customFormat="1"/>'
        '<row r="5"><c r="C5" s="3"/></row>'
        '</sheetData><mergeCells count="1"><mergeCell ref="B5:C5"/></mergeCells>'
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'
    ).encode()
    ws = annotate.Worksheet(xml)
    assert ws.anchor(5, 3) == (5, 2)  # inside B5:C5
    assert [ws.style_of(2, 2), ws.style_of(2, 3), ws.style_of(4, 5), ws.style_of(9, 1)] == [1, 0, 2, 0]
    ws.restyle({(2, 3): 10, (2, 4): 11, (1, 1): 12, (3, 2): 13, (4, 2): 14, (5, 2): 15, (7, 1): 16})
    ws.add_conditional_formats([("C2 D2", 0, '"thidua"="thidua"')])
    root = ET.fromstring(ws.to_bytes())
    m = "{" + annotate.MAIN_NS + "}"
    cells = [
        (row.get("r"), [(c.get("r"), c.get("s"), c.findtext(m + "v")) for c in row])
        for row in root.iter(m + "row")
    ]
    assert cells == [
        ("1", [("A1", "12", None)]),
        ("2", [("B2", "1", "0"), ("C2", "10", "5"), ("D2", "11", None)]),
        ("3", [("B3", "13", None)]),
        ("4", [("B4", "14", None)]),
        ("5", [("B5", "15", None), ("C5", "3", None)]),
        ("7", [("A7", "16", None)]),
    ]
    rows = {row.get("r"): row.attrib for row in root.iter(m + "row")}
    assert "spans" not in rows["2"] and rows["4"]["customFormat"] == "1"  # D2 lies outside 2:3
    assert root.find(m + "dimension").get("ref") == "A1:D7"
    names = [child.tag.removeprefix(m) for child in root]
    assert names.index("conditionalFormatting") == names.index("mergeCells") + 1
    assert names.index("conditionalFormatting") < names.index("pageMargins")


def test_template_workbook_comes_back_a_plain_xlsx(tmp_path):
    source = make_form(tmp_path / "KT.xltx", unit_note=False)
    wb = load_workbook(source)
    wb.template = True
    wb.save(source)
    template = annotate.Package(source.read_bytes())
    assert template.content_type(template.workbook) != annotate.CT_WORKBOOK
    sub = Submission(received(source), FileStatus.REJECTED, findings_for(source.name), "KT", PERIOD)
    copy = write_annotated_copy(sub, source.read_bytes(), tmp_path / "copy.xlsx")
    pkg = annotate.Package(copy.read_bytes())
    assert pkg.content_type(pkg.workbook) == annotate.CT_WORKBOOK
    assert load_workbook(copy).sheetnames[0] == FINDINGS_SHEET


@pytest.mark.slow  # LibreOffice takes seconds to start: `make test-slow`, which CI runs
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_opens_the_patched_copy(tmp_path, monkeypatch):
    """LibreOffice reads the patched package: the PDF has the findings, a round trip keeps the marks."""
    source = make_form(tmp_path / "KT.xlsx", unit_note=False)
    copy = _patched_copy(tmp_path, findings_for(source.name), source, monkeypatch)
    profile = (tmp_path / "profile").as_uri()
    for target, folder in (("pdf", tmp_path / "pdf"), ("xlsx", tmp_path / "lo")):
        command = [
            "soffice", f"-env:UserInstallation={profile}", "--headless",
            "--convert-to", target, "--outdir", str(folder), str(copy),
        ]  # fmt: skip
        subprocess.run(command, capture_output=True, timeout=180, check=False)
    pdf = tmp_path / "pdf" / "copy.pdf"
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")
    wb = load_workbook(tmp_path / "lo" / "copy.xlsx")
    assert wb.sheetnames[0] == FINDINGS_SHEET
    rating = wb[form.STAFF_SHEET][f"{staff_col('Xếp loại tháng')}3"]
    assert rgb(rating) == "FFC7CE" and "không phải mức xếp loại" in rating.comment.text


def _with_shared_strings(source: Path) -> None:
    """Add the shared strings part Excel writes in every workbook it saves (camel-case name)."""
    with zipfile.ZipFile(source) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    parts["xl/sharedStrings.xml"] = (
        f'<sst xmlns="{annotate.MAIN_NS}" count="1" uniqueCount="1"><si><t>Hoà</t></si></sst>'
    ).encode()
    rel = f'<Relationship Id="rIdSst" Type="{annotate.REL_NS}/sharedStrings" Target="sharedStrings.xml"/>'
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    parts["xl/_rels/workbook.xml.rels"] = rels.replace("</Relationships>", rel + "</Relationships>").encode()
    override = (
        '<Override PartName="/xl/sharedStrings.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    )
    types = parts["[Content_Types].xml"].decode()
    parts["[Content_Types].xml"] = types.replace("</Types>", override + "</Types>").encode()
    with zipfile.ZipFile(source, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def test_patched_copy_content_types_name_parts_as_stored(tmp_path, monkeypatch):
    """[Content_Types].xml keeps each part name's case: readers that match it case-sensitively (openpyxl,
    the Open XML SDK, Numbers) otherwise miss xl/sharedStrings.xml, docProps/core.xml, the VML parts."""
    source = make_form(tmp_path / "KT.xlsx", unit_note=False)
    _with_shared_strings(source)
    copy = _patched_copy(tmp_path, findings_for(source.name), source, monkeypatch)
    with zipfile.ZipFile(copy) as archive:
        names = set(archive.namelist())
        types = ET.fromstring(archive.read("[Content_Types].xml"))
    ns = "{http://schemas.openxmlformats.org/package/2006/content-types}"
    overrides = {e.get("PartName").lstrip("/") for e in types.iter(ns + "Override")}
    defaults = {e.get("Extension").lower() for e in types.iter(ns + "Default")}
    assert overrides <= names
    assert {"xl/sharedStrings.xml", "docProps/core.xml", "xl/drawings/vmlDrawing1.vml"} <= overrides
    untyped = [n for n in names - overrides if n.rsplit(".", 1)[-1].lower() not in defaults]
    assert untyped == []
    wb = load_workbook(copy)  # openpyxl finds the shared strings by the override's name
    assert wb.sheetnames[0] == FINDINGS_SHEET


@pytest.mark.parametrize("unit_note", [False, True], ids=["patched", "commented"])
def test_findings_sheet_name_never_repeats_a_units_sheet_in_another_case(tmp_path, unit_note):
    """Excel compares sheet names case-insensitively: two 'Kết quả kiểm tra' make it repair the file."""
    source = make_form(tmp_path / "KT.xlsx", unit_note=unit_note)
    wb = load_workbook(source)
    wb.create_sheet(FINDINGS_SHEET.upper())
    wb.save(source)
    sub = Submission(received(source), FileStatus.REJECTED, findings_for(source.name), "KT", PERIOD)
    copy = write_annotated_copy(sub, source.read_bytes(), tmp_path / "copy.xlsx")
    names = annotate.Package(copy.read_bytes()).sheets()
    folded = [s.name.casefold() for s in names]
    assert len(set(folded)) == len(folded)
    assert names[0].name == f"{FINDINGS_SHEET} (2)" and FINDINGS_SHEET.upper() in [s.name for s in names]
    with zipfile.ZipFile(copy) as archive:  # the print titles follow the sheet's real name
        workbook = archive.read("xl/workbook.xml").decode()
    assert f"'{names[0].name}'!$8:$8</definedName>" in workbook
    wb = load_workbook(copy)
    assert rgb(wb[form.STAFF_SHEET][f"{staff_col('Xếp loại tháng')}3"]) == "FFC7CE"


def test_rows_stay_within_excels_height_limit(tmp_path, config):
    """A very long finding (a unit's pasted text quoted back) must not make a row taller than Excel's
    409 points: Excel would call the file damaged and repair it."""
    unit_file = make_form(tmp_path / "inbox" / "Báo cáo KT tháng 2.xlsx", unit_note=False)
    long = Finding(
        Severity.WARNING, "highlights", "Kết quả nổi bật quá dài: " + "rất dài " * 600, unit_file.name,
        form.UNIT_SHEET, f"B{unit_row('Kết quả nổi bật')}", "Kết quả nổi bật", "x" * 1500,
    )  # fmt: skip
    submission = Submission(received(unit_file), FileStatus.ACCEPTED, [long], "KT", PERIOD)
    copy = write_annotated_copy(submission, unit_file.read_bytes(), tmp_path / "copy.xlsx", config=config)
    report = write_validation_report([submission], config, PERIOD, tmp_path / "kiem-tra.xlsx")
    for path in (copy, report):
        heights = [
            d.height for ws in load_workbook(path).worksheets for d in ws.row_dimensions.values() if d.height
        ]
        assert 400 <= max(heights) <= 409, (path.name, max(heights))  # the long finding's row, capped


def test_a_selected_chart_sheet_is_not_left_selected_beside_the_findings(tmp_path, config):
    """Excel opens the tabs that are selected as a group: only the findings sheet may be."""
    from openpyxl.chart import BarChart, Reference

    unit_file = make_form(tmp_path / "inbox" / "Báo cáo KT tháng 2.xlsx", unit_note=False)
    wb = load_workbook(unit_file)
    chart_sheet = wb.create_chartsheet("Biểu đồ")
    chart = BarChart()
    chart.add_data(Reference(wb[form.UNIT_SHEET], min_col=2, min_row=2, max_row=4))
    chart_sheet.add_chart(chart)
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = False
    chart_sheet.sheetViews.sheetView[0].tabSelected = True
    wb.active = wb.sheetnames.index("Biểu đồ")
    wb.save(unit_file)
    findings = findings_for(unit_file.name)
    submission = Submission(received(unit_file), FileStatus.REJECTED, findings, "KT", PERIOD)
    copy = write_annotated_copy(submission, unit_file.read_bytes(), tmp_path / "copy.xlsx", config=config)
    with zipfile.ZipFile(copy) as package:
        selected = [
            name
            for name in package.namelist()
            if name.startswith(("xl/worksheets/", "xl/chartsheets/"))
            and name.endswith(".xml")
            and re.search(rb'tabSelected="(1|true)"', package.read(name))
        ]
    assert len(selected) == 1, selected
    assert load_workbook(copy).sheetnames[0] == FINDINGS_SHEET


def test_a_number_cell_holding_text_becomes_text_in_the_annotated_copy(tmp_path):
    """Some generators write text into a number cell (<v>abc</v>): Excel repairs such a file, openpyxl
    refuses it. The copy the unit gets back holds the text as text, marked, and opens everywhere."""
    from processor.config import load_config
    from processor.pipeline import check_files
    from processor.workspace import create_workspace
    from tests import workbooks
    from tests.workbooks import STAFF_PART, replace_cell

    create_workspace(tmp_path / "ws")
    config = load_config(tmp_path / "ws" / "config.toml")
    sent = tmp_path / "bao-cao.xlsx"
    sent.write_bytes(replace_cell(workbooks.xlsx(), STAFF_PART, "I3", b'<c r="I3"><v>abc</v></c>'))
    [sub], written = check_files(config, [sent], tmp_path / "fb")
    assert [(f.cell, f.value) for f in sub.findings] == [("I3", "abc")]
    [copy] = [p for p in written if p.suffix == ".xlsx" and p.parent.name == "phan-hoi"]
    book = load_workbook(copy)  # refused before: "could not read worksheets"
    cell = book[form.STAFF_SHEET]["I3"]
    assert cell.value == "abc" and cell.comment is not None
    assert cell.fill.fgColor.rgb != book[form.STAFF_SHEET]["I4"].fill.fgColor.rgb  # marked
