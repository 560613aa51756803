"""The annotated copy on the workbook shapes the openpyxl round trip used to take (issue 16): notes of the
unit's own (also in a drawing with a form control), a copy sent back (again and again, re-saved by
LibreOffice, with its references stripped), a macro workbook (its macros removed); and what the package
level cannot patch, which comes back untouched with the findings sheet."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.comments import Comment

from processor import form
from processor.records import FileStatus, Submission
from processor.render import annotate, feedback
from processor.render.feedback import COMMENT_AUTHOR, FINDINGS_SHEET, RESTORE_SHEET, write_annotated_copy
from tests import workbooks
from tests.test_feedback import PERIOD, findings_for, make_form, received, rgb, staff_col, unit_row
from tests.test_no_references import strip_references

RATING = f"{staff_col('Xếp loại tháng')}3"  # an error and a warning, and the unit's own note
POSITION = f"{staff_col('Chức vụ')}4"
TASKS = f"B{unit_row('Số nhiệm vụ đã hoàn thành')}"
CHECKBOX = (
    b'<v:shape id="_x0000_s1026" type="#_x0000_t201" style="position:absolute;margin-left:300pt;'
    b'margin-top:150pt;width:80pt;height:15pt;z-index:2" filled="f" stroked="f" o:insetmode="auto">'
    b'<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"><font face="Tahoma">'
    b"\xc4\x90\xc3\xa3 ki\xe1\xbb\x83m tra</font></div></v:textbox>"
    b'<x:ClientData ObjectType="Checkbox"><x:Anchor>9, 0, 10, 0, 10, 0, 11, 0</x:Anchor>'
    b"<x:AutoFill>False</x:AutoFill><x:Checked>1</x:Checked></x:ClientData></v:shape>"
)


def excel_drawing() -> bytes:
    """The staff sheet's drawing as Excel writes it: v/o/x prefixes, the notes of B2 and G3 (block 1)
    and a check box (a form control: it is no note and must stay exactly as it is)."""

    def note(number: int, row: int, col: int) -> bytes:
        return (
            f'<v:shape id="_x0000_s{number}" type="#_x0000_t202" style="position:absolute;margin-left:60pt;'
            'margin-top:2pt;width:108pt;height:60pt;z-index:1;visibility:hidden" fillcolor="#ffffe1" '
            'o:insetmode="auto"><v:fill color2="#ffffe1"/><v:shadow color="black" obscured="t"/>'
            '<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto">'
            '<div style="text-align:left"></div></v:textbox><x:ClientData ObjectType="Note">'
            f"<x:MoveWithCells/><x:SizeWithCells/><x:AutoFill>False</x:AutoFill><x:Row>{row}</x:Row>"
            f"<x:Column>{col}</x:Column></x:ClientData></v:shape>"
        ).encode()

    return (
        b'<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
        b'xmlns:x="urn:schemas-microsoft-com:office:excel">\n <o:shapelayout v:ext="edit">\n'
        b'  <o:idmap v:ext="edit" data="1"/>\n </o:shapelayout>'
        b'<v:shapetype id="_x0000_t201" coordsize="21600,21600" o:spt="201" path="m,l,21600r21600,l21600,xe">'
        b'<v:stroke joinstyle="miter"/><v:path shadowok="f" o:extrusionok="f" strokeok="f" fillok="f" '
        b'o:connecttype="rect"/><o:lock v:ext="edit" shapetype="t"/></v:shapetype>'
        b'<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
        b'<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
        + note(1025, 1, 1) + CHECKBOX + note(1027, 2, 6) + b"</xml>"
    )  # fmt: skip


def submission_for(path: Path, findings=None) -> Submission:
    findings = findings_for(path.name) if findings is None else findings
    return Submission(received(path), FileStatus.REJECTED, findings, "KT", PERIOD)


def part_of(data: bytes, sheet: str) -> str:
    pkg = annotate.Package(data)
    return next(s.part for s in pkg.sheets() if s.name == sheet)


def drawing_of(data: bytes, sheet: str) -> bytes:
    pkg = annotate.Package(data)
    part = part_of(data, sheet)
    vml = next(r.target for r in pkg.rels(part) if r.type == annotate.RT_VML)
    return pkg.read(vml)


def notes(path_or_data, sheet: str) -> dict[str, tuple[str, str]]:
    data = path_or_data if isinstance(path_or_data, bytes) else Path(path_or_data).read_bytes()
    ws = load_workbook(io.BytesIO(data))[sheet]
    cells = (cell for row in ws.iter_rows() for cell in row if cell.comment)
    return {cell.coordinate: (cell.comment.author, cell.comment.text) for cell in cells}


@pytest.fixture
def no_fallback(monkeypatch):
    """Every copy here is marked at the package level: none comes back untouched."""
    monkeypatch.setattr(feedback, "_untouched_with_findings", lambda *a, **k: pytest.fail("not marked"))


def test_notes_merge_into_excels_drawing_beside_a_form_control(tmp_path, no_fallback):
    source = make_form(tmp_path / "KT.xlsx", unit_note=True)
    wb = load_workbook(source)
    wb[form.STAFF_SHEET]["B2"].comment = Comment("Tên đã đối chiếu", "Bình")
    wb.save(source)
    data = source.read_bytes()
    drawing = next(n for n in zipfile.ZipFile(source).namelist() if n.endswith(".vml"))
    source.write_bytes(workbooks.rewrite_parts(data, {drawing: excel_drawing()}))
    before = source.read_bytes()

    copy = write_annotated_copy(submission_for(source), before, tmp_path / "copy.xlsx")
    assert source.read_bytes() == before
    staff = notes(copy, form.STAFF_SHEET)
    assert staff["B2"] == ("Bình", "Tên đã đối chiếu")  # not marked: the unit's note as it was
    author, text = staff[RATING]
    assert author == COMMENT_AUTHOR and "không phải mức xếp loại" in text
    assert text.endswith("— Ghi chú có sẵn —\nChờ ý kiến trưởng phòng")
    assert staff[POSITION][0] == COMMENT_AUTHOR
    assert notes(copy, form.UNIT_SHEET)[TASKS][0] == COMMENT_AUTHOR

    vml = drawing_of(copy.read_bytes(), form.STAFF_SHEET)
    assert CHECKBOX in vml  # the form control untouched
    note_cells = {
        (int(r), int(c)) for r, c in re.findall(rb"<x:Row>(\d+)</x:Row><x:Column>(\d+)</x:Column>", vml)
    }
    assert note_cells == {(1, 1), (2, 6), (3, 3)}  # B2 kept, G3 drawn again for our text, D4 added
    ids = []
    with zipfile.ZipFile(copy) as archive:
        for name in (n for n in archive.namelist() if n.endswith(".vml")):
            drawn = archive.read(name)
            shapes = [int(i) for i in re.findall(rb'id="_x0000_s(\d+)"', drawn)]
            declared = re.search(rb'idmap v:ext="edit" data="([\d,]+)"', drawn).group(1)
            blocks = {int(b) for b in declared.split(b",")}
            assert {i // 1024 for i in shapes} <= blocks  # each shape in a block its drawing declares
            ids += shapes
    assert len(ids) == len(set(ids))  # shape ids unique across the workbook
    assert write_annotated_copy(submission_for(source), before, tmp_path / "again.xlsx").read_bytes() == (
        copy.read_bytes()
    )


def test_a_copy_sent_back_again_and_again_is_cleaned_each_time(tmp_path, no_fallback):
    source = make_form(tmp_path / "KT.xlsx", unit_note=True)
    first = write_annotated_copy(submission_for(source), source.read_bytes(), tmp_path / "1.xlsx")
    second = write_annotated_copy(submission_for(source), first.read_bytes(), tmp_path / "2.xlsx")
    third = write_annotated_copy(submission_for(source), second.read_bytes(), tmp_path / "3.xlsx")
    again = write_annotated_copy(submission_for(source), second.read_bytes(), tmp_path / "3b.xlsx")
    assert again.read_bytes() == third.read_bytes()  # the same copy sent back gives the same bytes
    for copy in (second, third):  # nothing piles up: the same sheets, notes and log as the first time
        assert load_workbook(copy).sheetnames == load_workbook(first).sheetnames
        for sheet in (form.STAFF_SHEET, form.UNIT_SHEET):
            assert notes(copy, sheet) == notes(first, sheet)
        log = [tuple(r) for r in load_workbook(copy)[RESTORE_SHEET].iter_rows(values_only=True)]
        assert log == [tuple(r) for r in load_workbook(first)[RESTORE_SHEET].iter_rows(values_only=True)]
        with zipfile.ZipFile(copy) as archive:
            assert len([n for n in archive.namelist() if n.endswith(".vml")]) == 2
    # Fixed: only the tasks finding remains. The unit's note comes back alone, with its author.
    tasks_only = [f for f in findings_for(source.name) if f.code == "tasks"]
    fourth = write_annotated_copy(submission_for(source, tasks_only), third.read_bytes(), tmp_path / "4.xlsx")
    assert notes(fourth, form.STAFF_SHEET) == {RATING: ("Bình", "Chờ ý kiến trưởng phòng")}
    wb = load_workbook(fourth)
    assert rgb(wb[form.STAFF_SHEET][RATING]) == "" and rgb(wb[form.STAFF_SHEET][POSITION]) == ""
    assert [r.formula for cf in wb[form.STAFF_SHEET].conditional_formatting for r in cf.rules] == [
        ["COUNTA($A2:$K2)>0"]
    ]
    assert rgb(wb[form.UNIT_SHEET][TASKS]) == "FFC7CE"
    assert wb[form.UNIT_SHEET][TASKS].comment.author == COMMENT_AUTHOR
    assert wb.sheetnames.count(FINDINGS_SHEET) == 1 and wb.sheetnames.count(RESTORE_SHEET) == 1
    # No note left on the staff sheet but the unit's: our drawing shapes went with ours.
    assert re.findall(rb"<x:Row>(\d+)</x:Row>", drawing_of(fourth.read_bytes(), form.STAFF_SHEET)) == [b"2"]


def test_a_copy_sent_back_without_references_is_cleaned(tmp_path, no_fallback):
    source = make_form(tmp_path / "KT.xlsx", unit_note=False)
    copy = write_annotated_copy(submission_for(source), source.read_bytes(), tmp_path / "1.xlsx").read_bytes()
    parts = {part_of(copy, name): strip_references for name in (form.STAFF_SHEET, form.UNIT_SHEET)}
    stripped = workbooks.rewrite_parts(copy, parts)
    staff_xml = annotate.Package(stripped).read(part_of(copy, form.STAFF_SHEET))
    assert b'<c r="' not in staff_xml.split(b"<row", 3)[3]
    tasks_only = [f for f in findings_for(source.name) if f.code == "tasks"]
    out = write_annotated_copy(submission_for(source, tasks_only), stripped, tmp_path / "2.xlsx")
    wb = load_workbook(out)
    staff = wb[form.STAFF_SHEET]
    assert rgb(staff[RATING]) == "" and staff[RATING].comment is None and not staff[RATING].protection.locked
    assert notes(out, form.STAFF_SHEET) == {}
    assert rgb(wb[form.UNIT_SHEET][TASKS]) == "FFC7CE"


def test_a_copy_sent_back_with_nameless_notes_is_cleaned(tmp_path, no_fallback):
    """LibreOffice saves every note without its author: ours are known by how they start."""
    source = make_form(tmp_path / "KT.xlsx", unit_note=False)
    copy = write_annotated_copy(submission_for(source), source.read_bytes(), tmp_path / "1.xlsx").read_bytes()
    with zipfile.ZipFile(io.BytesIO(copy)) as archive:
        comments = [n for n in archive.namelist() if re.fullmatch(r"xl/comments\d+\.xml", n)]
    nameless = workbooks.rewrite_parts(
        copy, {n: lambda x: x.replace(b"<author>thidua</author>", b"<author> </author>") for n in comments}
    )
    assert notes(nameless, form.STAFF_SHEET)[RATING][0] == " "
    tasks_only = [f for f in findings_for(source.name) if f.code == "tasks"]
    out = write_annotated_copy(submission_for(source, tasks_only), nameless, tmp_path / "2.xlsx")
    assert notes(out, form.STAFF_SHEET) == {}
    assert rgb(load_workbook(out)[form.STAFF_SHEET][RATING]) == ""
    assert list(notes(out, form.UNIT_SHEET)) == [TASKS]


def test_a_cell_with_a_threaded_comment_keeps_it_and_is_still_coloured(tmp_path, no_fallback):
    """Excel shows a modern (threaded) comment instead of the note of its cell: the thread stays as the
    unit wrote it, the cell is coloured and listed, our note goes on the other cells."""
    source = make_form(tmp_path / "KT.xlsx", unit_note=False)
    data = source.read_bytes()
    staff = part_of(data, form.STAFF_SHEET)
    thread = (
        '<ThreadedComments xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments">'
        f'<threadedComment ref="{RATING}" dT="2024-03-01T09:00:00.00" '
        'personId="{00000000-0000-0000-0000-000000000001}" id="{00000000-0000-0000-0000-000000000002}">'
        "<text>Đang hỏi lại</text></threadedComment></ThreadedComments>"
    ).encode()
    rels_part = annotate.Package.rels_part(staff)
    rel = (
        b'<Relationship Id="rIdT" Type="http://schemas.microsoft.com/office/2017/10/relationships/threadedComment"'
        b' Target="../threadedComments/threadedComment1.xml"/>'
    )
    pkg = annotate.Package(data)
    rels = (
        pkg.read(rels_part)
        if pkg.name_of(rels_part)
        else (f'<Relationships xmlns="{annotate.PKG_REL_NS}"></Relationships>'.encode())
    )
    threaded = workbooks.rewrite_parts(
        data,
        {
            rels_part: rels.replace(b"</Relationships>", rel + b"</Relationships>"),
            "xl/threadedComments/threadedComment1.xml": thread,
        },
    )
    copy = write_annotated_copy(submission_for(source), threaded, tmp_path / "copy.xlsx")
    assert annotate.Package(copy.read_bytes()).read("xl/threadedComments/threadedComment1.xml") == thread
    assert RATING not in notes(copy, form.STAFF_SHEET) and POSITION in notes(copy, form.STAFF_SHEET)
    assert rgb(load_workbook(copy)[form.STAFF_SHEET][RATING]) == "FFC7CE"


VBA_REL = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
VBA_BYTES = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 a VBA project, never run" * 40


def macro_workbook(path: Path) -> Path:
    source = make_form(path, unit_note=True)

    def types(xml: bytes) -> bytes:
        xml = xml.replace(annotate.CT_WORKBOOK.encode(), annotate.CT_MACRO_WORKBOOK.encode())
        default = b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
        return xml.replace(b"</Types>", default + b"</Types>")

    def rels(xml: bytes) -> bytes:
        rel = f'<Relationship Id="rIdVba" Type="{VBA_REL}" Target="vbaProject.bin"/>'.encode()
        return xml.replace(b"</Relationships>", rel + b"</Relationships>")

    data = source.read_bytes()
    edits = {"[Content_Types].xml": types, "xl/_rels/workbook.xml.rels": rels, "xl/vbaProject.bin": VBA_BYTES}
    source.write_bytes(workbooks.rewrite_parts(data, edits))
    return source


def test_a_macro_workbook_comes_back_as_xlsx_without_its_macros(tmp_path, no_fallback):
    """Nothing a unit sends runs on the clerk's PC: the VBA project goes (test_annotated_untrusted.py)."""
    source = macro_workbook(tmp_path / "KT.xlsm")
    before = source.read_bytes()
    copy = write_annotated_copy(submission_for(source), before, tmp_path / "KT_kiem-tra.xlsx")
    assert copy == tmp_path / "KT_kiem-tra.xlsx" and not (tmp_path / "KT_kiem-tra.xlsm").exists()
    assert source.read_bytes() == before
    pkg = annotate.Package(copy.read_bytes())
    assert pkg.content_type(pkg.workbook) == annotate.CT_WORKBOOK
    assert pkg.name_of("xl/vbaProject.bin") is None
    assert [r.target for r in pkg.rels(pkg.workbook) if r.type == VBA_REL] == []
    wb = load_workbook(copy)
    assert wb.sheetnames[0] == FINDINGS_SHEET
    assert rgb(wb[form.UNIT_SHEET][TASKS]) == "FFC7CE"
    assert "Chờ ý kiến trưởng phòng" in wb[form.STAFF_SHEET][RATING].comment.text
    # The draft names the attachment's type as a plain workbook.
    draft = feedback.draft_bytes([("Subject", "x")], "x\n", copy.name, copy.read_bytes())
    assert b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" in draft
    assert b"macroEnabled" not in draft


def test_what_the_package_level_cannot_patch_comes_back_untouched_with_its_findings(tmp_path):
    """A cell reference written with spaces around '=' is valid XML the patching does not read: the
    workbook is returned as it came, the findings sheet in front, every finding listed."""
    source = make_form(tmp_path / "KT.xlsx", unit_note=False)
    data = source.read_bytes()
    staff_part = part_of(data, form.STAFF_SHEET)
    odd = workbooks.rewrite_parts(data, {staff_part: lambda x: x.replace(b'<c r="G3"', b'<c r = "G3"')})
    with pytest.raises(annotate.Unsupported):
        feedback._mark_fast(odd, findings_for(source.name))
    copy = write_annotated_copy(submission_for(source), odd, tmp_path / "copy.xlsx")
    pkg, original = annotate.Package(copy.read_bytes()), annotate.Package(odd)
    assert [s.name for s in pkg.sheets()] == [FINDINGS_SHEET, *(s.name for s in original.sheets())]
    for sheet in original.sheets():
        assert pkg.read(sheet.part).replace(b' tabSelected="0"', b' tabSelected="1"') in (
            original.read(sheet.part),
            original.read(sheet.part).replace(b' tabSelected="0"', b' tabSelected="1"'),
        )
    wb = load_workbook(copy)
    header = " ".join(str(wb[FINDINGS_SHEET].cell(r, 1).value) for r in range(1, 7))
    assert "Không mở lại được tệp đã gửi để tô màu" in header
    assert sum(1 for row in wb[FINDINGS_SHEET].iter_rows(min_row=9) if row[0].value) == 7


@pytest.mark.slow  # LibreOffice takes seconds to start: `make test-slow`, which CI runs
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_a_copy_libreoffice_saved_is_cleaned_and_converts_to_pdf(tmp_path):
    """The unit edits the copy in LibreOffice (shared strings, its own notes and drawing) and sends it
    back: the marks of the fixed cells go, the copy made from it opens and prints."""
    source = make_form(tmp_path / "KT.xlsx", unit_note=True)
    copy = write_annotated_copy(submission_for(source), source.read_bytes(), tmp_path / "copy.xlsx")
    profile = (tmp_path / "profile").as_uri()

    def convert(path: Path, target: str, folder: Path) -> Path:
        command = [
            "soffice", f"-env:UserInstallation={profile}", "--headless",
            "--convert-to", target, "--outdir", str(folder), str(path),
        ]  # fmt: skip
        subprocess.run(command, capture_output=True, timeout=180, check=False)
        return folder / f"{path.stem}.{target.split(':')[0]}"

    saved = convert(copy, "xlsx", tmp_path / "lo")
    tasks_only = [f for f in findings_for(source.name) if f.code == "tasks"]
    out = write_annotated_copy(
        submission_for(source, tasks_only), saved.read_bytes(), tmp_path / "again.xlsx"
    )
    wb = load_workbook(out)
    assert wb.sheetnames.count(FINDINGS_SHEET) == 1 and wb.sheetnames[0] == FINDINGS_SHEET
    staff = wb[form.STAFF_SHEET]
    assert rgb(staff[RATING]) == "" and staff[RATING].comment.author == "Bình"
    assert rgb(staff[POSITION]) == "" and staff[POSITION].comment is None
    assert rgb(wb[form.UNIT_SHEET][TASKS]) == "FFC7CE"
    pdf = convert(out, "pdf", tmp_path / "pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
