"""The annotated copy is opened on the clerk's PC: what a unit sent must not run or reach outside from it.
A macro workbook comes back a plain .xlsx without its VBA project (nor its signature, nor a ribbon
calling macros); external links are dropped, their formulas keep their text and cached values."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook

from processor import form
from processor.render import annotate, feedback, inert
from processor.render.feedback import FINDINGS_SHEET, write_annotated_copy
from tests import workbooks
from tests.test_annotated_shapes import (
    POSITION,
    RATING,
    TASKS,
    VBA_BYTES,
    VBA_REL,
    excel_drawing,
    macro_workbook,
    part_of,
    submission_for,
)
from tests.test_feedback import rgb

MS = "http://schemas.microsoft.com/office"
SIGNATURE_REL = f"{MS}/2006/relationships/vbaProjectSignature"
RIBBON_REL = f"{MS}/2007/relationships/ui/extensibility"
TASKPANES_REL = f"{MS}/2011/relationships/webextensiontaskpanes"
WEBEXTENSION_REL = f"{MS}/2011/relationships/webextension"
CT_MACRO_TEMPLATE = "application/vnd.ms-excel.template.macroEnabled.main+xml"
LINK_PATH = "https://may-chu.invalid/du-lieu/bang-goc.xlsx"  # where Excel would go to update the link
LINK_TYPE = annotate.REL_NS + "/externalLink"
CT_LINK = "application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"
CT_CALC_CHAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"
# Row 1 of the guide sheet: a formula through the link, a shared one (master and child), a string
# result through the link, and a formula of the unit's own.
FORMULAS = (
    b'<c r="B1"><f>[1]Data!A1</f><v>42</v></c>'
    b'<c r="C1"><f t="shared" ref="C1:D1" si="0">[1]Data!A1*2</f><v>84</v></c>'
    b'<c r="D1"><f t="shared" si="0"/><v>86</v></c>'
    b'<c r="E1" t="str"><f>"Ngu&#7891;n: "&amp;\'[1]Data\'!B1</f><v>Ngu&#7891;n: S&#7903;</v></c>'
    b'<c r="F1"><f>SUM(2,3)</f><v>5</v></c>'
)


# A form button whose macro is in another workbook: a click would make Excel open that file.
BUTTON = (
    b'<v:shape id="_x0000_s1100" type="#_x0000_t201" style="position:absolute;margin-left:300pt;'
    b'margin-top:150pt;width:80pt;height:15pt;z-index:3" o:button="t" fillcolor="buttonFace [67]">'
    b'<x:ClientData ObjectType="Button"><x:Anchor>9, 0, 10, 0, 10, 0, 11, 0</x:Anchor>'
    b"<x:PrintObject>False</x:PrintObject><x:AutoFill>False</x:AutoFill>"
    b"<x:FmlaMacro>'\\\\may-chu\\chia-se\\macro.xlsm'!Xoa_Du_Lieu</x:FmlaMacro>"
    b"<x:TextHAlign>Center</x:TextHAlign></x:ClientData></v:shape>"
)


@pytest.fixture
def no_fallback(monkeypatch):
    """Every copy here is marked at the package level: none comes back untouched."""
    monkeypatch.setattr(feedback, "_untouched_with_findings", lambda *a, **k: pytest.fail("not marked"))


def signed_macro_workbook(path: Path, content_type: str = annotate.CT_MACRO_WORKBOOK) -> Path:
    """A macro workbook as Excel saves a signed one with a custom ribbon: the VBA project, its
    signature (a part of the project's own rels) and a ribbon whose callbacks are macros."""
    source = macro_workbook(path)

    def types(xml: bytes) -> bytes:
        xml = xml.replace(annotate.CT_MACRO_WORKBOOK.encode(), content_type.encode())
        overrides = (
            b'<Override PartName="/xl/vbaProjectSignature.bin" '
            b'ContentType="application/vnd.ms-office.vbaProjectSignature"/>'
            b'<Override PartName="/xl/webextensions/taskpanes.xml" '
            b'ContentType="application/vnd.ms-office.webextensiontaskpanes+xml"/>'
            b'<Override PartName="/xl/webextensions/webextension1.xml" '
            b'ContentType="application/vnd.ms-office.webextension+xml"/>'
        )
        return xml.replace(b"</Types>", overrides + b"</Types>")

    def root_rels(xml: bytes) -> bytes:
        rels = (
            f'<Relationship Id="rIdUi" Type="{RIBBON_REL}" Target="customUI/customUI14.xml"/>'
            f'<Relationship Id="rIdTp" Type="{TASKPANES_REL}" Target="xl/webextensions/taskpanes.xml"/>'
        )
        return xml.replace(b"</Relationships>", rels.encode() + b"</Relationships>")

    ribbon = (
        b'<customUI xmlns="http://schemas.microsoft.com/office/2009/07/customui" onLoad="Ribbon_Load">'
        b'<ribbon><tabs><tab id="t" label="Thi dua"><group id="g" label="g"><button id="b" label="Chay" '
        b'onAction="Xoa_Du_Lieu"/></group></tab></tabs></ribbon></customUI>'
    )
    vba_rels = (
        b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="'
        + annotate.PKG_REL_NS.encode()
        + b'"><Relationship Id="rId1" Type="'
        + SIGNATURE_REL.encode()
        + b'" Target="vbaProjectSignature.bin"/></Relationships>'
    )
    data = source.read_bytes()
    vml = next(
        r.target
        for r in annotate.Package(data).rels(part_of(data, form.STAFF_SHEET))
        if r.type == annotate.RT_VML
    )
    edits = {
        vml: excel_drawing().replace(b"</xml>", BUTTON + b"</xml>"),  # Excel's own VML
        "[Content_Types].xml": types,
        "_rels/.rels": root_rels,
        "customUI/customUI14.xml": ribbon,
        "xl/_rels/vbaProject.bin.rels": vba_rels,
        "xl/vbaProjectSignature.bin": b"\x01\x02 a signature" * 20,
        # An add-in's task pane Excel opens with the workbook, loading the add-in from the web.
        "xl/webextensions/taskpanes.xml": (
            b'<wetp:taskpanes xmlns:wetp="http://schemas.microsoft.com/office/webextensions/taskpanes/2010/11"'
            b' xmlns:r="' + annotate.REL_NS.encode() + b'"><wetp:taskpane dockstate="right" visibility="1" '
            b'width="350" row="4"><wetp:webextensionref r:id="rId1"/></wetp:taskpane></wetp:taskpanes>'
        ),
        "xl/webextensions/_rels/taskpanes.xml.rels": (
            b'<Relationships xmlns="' + annotate.PKG_REL_NS.encode() + b'"><Relationship Id="rId1" '
            b'Type="' + WEBEXTENSION_REL.encode() + b'" Target="webextension1.xml"/></Relationships>'
        ),
        "xl/webextensions/webextension1.xml": (
            b'<we:webextension xmlns:we="http://schemas.microsoft.com/office/webextensions/webextension/2010/11"'
            b' id="{6B1D8A2B-0000-0000-0000-000000000001}"><we:reference id="wa000000001" version="1.0.0.0"'
            b' store="' + LINK_PATH.encode() + b'" storeType="Registry"/></we:webextension>'
        ),
    }
    source.write_bytes(workbooks.rewrite_parts(data, edits))
    return source


def linked_workbook(path: Path) -> Path:
    """A workbook with an external link as Excel writes it: the link part and its rels (the other file's
    address), `<externalReferences>`, a defined name and a cell formula through `[1]`."""
    source = signed_macro_workbook(path)  # with macros, a ribbon and an add-in too: all go
    data = source.read_bytes()
    link = (
        f'<externalLink xmlns="{annotate.MAIN_NS}" xmlns:r="{annotate.REL_NS}"><externalBook r:id="rId1">'
        '<sheetNames><sheetName val="Data"/></sheetNames><sheetDataSet><sheetData sheetId="0"><row r="1">'
        '<cell r="A1"><v>42</v></cell></row></sheetData></sheetDataSet></externalBook></externalLink>'
    ).encode()
    link_rels = (
        f'<Relationships xmlns="{annotate.PKG_REL_NS}"><Relationship Id="rId1" '
        f'Type="{annotate.REL_NS}/externalLinkPath" Target="{LINK_PATH}" TargetMode="External"/>'
        "</Relationships>"
    ).encode()

    def types(xml: bytes) -> bytes:
        override = (
            f'<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="{CT_LINK}"/>'
            f'<Override PartName="/xl/calcChain.xml" ContentType="{CT_CALC_CHAIN}"/>'
        )
        return xml.replace(b"</Types>", override.encode() + b"</Types>")

    def rels(xml: bytes) -> bytes:
        rel = (
            f'<Relationship Id="rIdLink" Type="{LINK_TYPE}" Target="externalLinks/externalLink1.xml"/>'
            f'<Relationship Id="rIdCalc" Type="{annotate.RT_CALC_CHAIN}" Target="calcChain.xml"/>'
        )
        return xml.replace(b"</Relationships>", rel.encode() + b"</Relationships>")

    def book(xml: bytes) -> bytes:
        references = f'<externalReferences><externalReference xmlns:r="{annotate.REL_NS}" r:id="rIdLink"/>'
        xml = xml.replace(b"</sheets>", b"</sheets>" + references.encode() + b"</externalReferences>")
        name = b'<definedName name="SoLieuGoc">[1]Data!$A$1</definedName>'
        return xml.replace(b"</definedNames>", name + b"</definedNames>")

    edits = {
        "[Content_Types].xml": types,
        "xl/_rels/workbook.xml.rels": rels,
        "xl/workbook.xml": book,
        "xl/externalLinks/externalLink1.xml": link,
        "xl/externalLinks/_rels/externalLink1.xml.rels": link_rels,
        "xl/calcChain.xml": f'<calcChain xmlns="{annotate.MAIN_NS}"><c r="B1" i="3"/></calcChain>'.encode(),
    }
    data = workbooks.rewrite_parts(data, edits)
    guide = part_of(data, form.GUIDE_SHEET)
    source.write_bytes(workbooks.replace_cell(data, guide, "B1", FORMULAS))
    return source


def assert_nothing_points_at_a_removed_part(pkg: annotate.Package) -> None:
    for name in pkg.part_names():
        if name.endswith(".rels"):
            for rel in pkg.rels(name.replace("_rels/", "").removesuffix(".rels")):
                assert rel.external or pkg.name_of(rel.target) is not None, (name, rel)
    for part in pkg.part_names():  # and every part has a content type
        assert pkg.content_type(part) or part in ("[Content_Types].xml", "_rels/.rels"), part


def assert_marked(copy: Path) -> None:
    wb = load_workbook(copy)
    assert wb.sheetnames[0] == FINDINGS_SHEET
    assert rgb(wb[form.UNIT_SHEET][TASKS]) == "FFC7CE"
    assert rgb(wb[form.STAFF_SHEET][POSITION]) != ""
    assert "Chờ ý kiến trưởng phòng" in wb[form.STAFF_SHEET][RATING].comment.text


def test_a_macro_workbook_comes_back_a_plain_xlsx_without_its_macros(tmp_path, no_fallback):
    source = signed_macro_workbook(tmp_path / "KT.xlsm")
    before = source.read_bytes()
    target = tmp_path / "KT_kiem-tra.xlsx"
    copy = write_annotated_copy(submission_for(source), before, target)
    assert copy == target and not target.with_suffix(".xlsm").exists()
    assert source.read_bytes() == before
    names = zipfile.ZipFile(copy).namelist()
    assert not [n for n in names if "vbaproject" in n.lower() or n.lower().startswith("customui")]
    assert not [n for n in names if "webextension" in n]
    pkg = annotate.Package(copy.read_bytes())
    assert pkg.content_type(pkg.workbook) == annotate.CT_WORKBOOK
    assert {r.type for r in pkg.rels(pkg.workbook) + pkg.rels("")}.isdisjoint(
        {VBA_REL, RIBBON_REL, TASKPANES_REL}
    )
    assert LINK_PATH.encode() not in pkg.read("[Content_Types].xml")
    assert_nothing_points_at_a_removed_part(pkg)
    types = pkg.read("[Content_Types].xml")
    assert b"vbaProject" not in types and b"macroEnabled" not in types
    assert_marked(copy)
    staff_vml = next(
        pkg.read(r.target)
        for r in pkg.rels(part_of(copy.read_bytes(), form.STAFF_SHEET))
        if r.type == annotate.RT_VML
    )
    assert b'ObjectType="Button"' in staff_vml and b"FmlaMacro" not in staff_vml  # kept, assigned nothing
    # The draft attaches it as the plain workbook it is.
    draft = feedback.draft_bytes([("Subject", "x")], "x\n", copy.name, copy.read_bytes())
    assert b"spreadsheetml.sheet" in draft and b"macroEnabled" not in draft
    # A re-run gives the same bytes.
    again = write_annotated_copy(submission_for(source), before, tmp_path / "again.xlsx")
    assert again.read_bytes() == copy.read_bytes()


def test_a_macro_template_comes_back_a_plain_workbook(tmp_path, no_fallback):
    source = signed_macro_workbook(tmp_path / "KT.xltm", CT_MACRO_TEMPLATE)
    assert annotate.Package(source.read_bytes()).read("xl/vbaProject.bin") == VBA_BYTES
    copy = write_annotated_copy(submission_for(source), source.read_bytes(), tmp_path / "KT_kiem-tra.xlsx")
    pkg = annotate.Package(copy.read_bytes())
    assert pkg.content_type(pkg.workbook) == annotate.CT_WORKBOOK
    assert pkg.name_of("xl/vbaProject.bin") is None and b"macroEnabled" not in pkg.read("[Content_Types].xml")
    assert_marked(copy)


def test_external_links_are_dropped_and_formulas_keep_their_values(tmp_path, no_fallback):
    source = linked_workbook(tmp_path / "KT.xlsm")
    before = source.read_bytes()
    copy = write_annotated_copy(submission_for(source), before, tmp_path / "KT_kiem-tra.xlsx")
    assert source.read_bytes() == before
    with zipfile.ZipFile(copy) as archive:
        assert not [n for n in archive.namelist() if "externallink" in n.lower() or "vbaproject" in n.lower()]
        everything = b"".join(archive.read(n) for n in archive.namelist() if not n.endswith(".bin"))
    assert LINK_PATH.encode() not in everything and b"externalLink" not in everything
    pkg = annotate.Package(copy.read_bytes())
    book = pkg.read(pkg.workbook)
    assert b"externalReference" not in book and b"SoLieuGoc" not in book
    assert b"Print_Titles" in book  # the unit's own names stay
    assert_nothing_points_at_a_removed_part(pkg)
    guide = pkg.read(part_of(copy.read_bytes(), form.GUIDE_SHEET))
    assert b"[1]" not in guide and b"<f>SUM(2,3)</f><v>5</v>" in guide  # the unit's own formula stays
    assert pkg.name_of("xl/calcChain.xml") is None  # it named cells that had a formula: Excel rebuilds it
    values = load_workbook(copy)[form.GUIDE_SHEET]  # the values as they showed
    assert [values[ref].value for ref in ("B1", "C1", "D1", "E1", "F1")] == [
        42,
        84,
        86,
        "Nguồn: Sở",
        "=SUM(2,3)",
    ]
    assert_marked(copy)
    again = write_annotated_copy(submission_for(source), before, tmp_path / "again.xlsx")
    assert again.read_bytes() == copy.read_bytes()


def connected(data: bytes) -> bytes:
    """A web query refreshed on opening."""

    def rels(xml: bytes) -> bytes:
        rel = f'<Relationship Id="rIdC" Type="{annotate.REL_NS}/connections" Target="connections.xml"/>'
        return xml.replace(b"</Relationships>", rel.encode() + b"</Relationships>")

    connection = (
        f'<connections xmlns="{annotate.MAIN_NS}"><connection id="1" name="Web" type="4" '
        f'refreshOnLoad="1"><webPr url="{LINK_PATH}"/></connection></connections>'
    ).encode()
    return workbooks.rewrite_parts(
        data, {"xl/_rels/workbook.xml.rels": rels, "xl/connections.xml": connection}
    )


def linked_picture(data: bytes) -> bytes:
    """A picture Excel fetches from a server when the workbook opens."""

    def rels(xml: bytes) -> bytes:
        rel = (
            f'<Relationship Id="rIdPic" Type="{annotate.REL_NS}/image" Target="{LINK_PATH}.png" '
            'TargetMode="External"/>'
        )
        return xml.replace(b"</Relationships>", rel.encode() + b"</Relationships>")

    return workbooks.rewrite_parts(data, {"xl/worksheets/_rels/sheet2.xml.rels": rels})


def in_staff_sheet(rel_type: str, target: str, external: bool = False) -> Callable[[bytes], bytes]:
    def edit(data: bytes) -> bytes:
        def rels(xml: bytes) -> bytes:
            mode = ' TargetMode="External"' if external else ""
            rel = f'<Relationship Id="rIdX" Type="{rel_type}" Target="{target}"{mode}/>'
            return xml.replace(b"</Relationships>", rel.encode() + b"</Relationships>")

        return workbooks.rewrite_parts(data, {"xl/worksheets/_rels/sheet2.xml.rels": rels})

    edit.__name__ = rel_type.rsplit("/", 1)[-1]
    return edit


ACTIVEX = in_staff_sheet(f"{annotate.REL_NS}/control", "../activeX/activeX1.xml")
OLE = in_staff_sheet(f"{annotate.REL_NS}/oleObject", "../embeddings/oleObject1.bin")
LINKED_OLE = in_staff_sheet(f"{annotate.REL_NS}/oleObject", LINK_PATH, external=True)


@pytest.mark.parametrize(
    "reaching_out", [connected, linked_picture, ACTIVEX, OLE, LINKED_OLE], ids=lambda f: f.__name__
)
def test_a_workbook_reaching_outside_comes_back_as_its_findings_alone(tmp_path, reaching_out):
    source = macro_workbook(tmp_path / "KT.xlsm")
    data = reaching_out(source.read_bytes())
    with pytest.raises(annotate.Unsupported):
        inert.make_inert(annotate.Package(data))
    copy = write_annotated_copy(submission_for(source), data, tmp_path / "KT_kiem-tra.xlsx")
    with zipfile.ZipFile(copy) as archive:
        everything = b"".join(archive.read(n) for n in archive.namelist())
        assert not [n for n in archive.namelist() if "connections" in n or "vbaproject" in n.lower()]
    assert LINK_PATH.encode() not in everything
    wb = load_workbook(copy)
    assert wb.sheetnames == [FINDINGS_SHEET]
    assert sum(1 for row in wb[FINDINGS_SHEET].iter_rows(min_row=9) if row[0].value) == 7


@pytest.mark.slow  # LibreOffice takes seconds to start: `make test-slow`, which CI runs
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_a_copy_of_a_linked_macro_workbook_converts_to_pdf(tmp_path):
    source = linked_workbook(tmp_path / "KT.xlsm")
    copy = write_annotated_copy(submission_for(source), source.read_bytes(), tmp_path / "copy.xlsx")
    command = [
        "soffice", f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
        "--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"), str(copy),
    ]  # fmt: skip
    subprocess.run(command, capture_output=True, timeout=180, check=False)
    assert (tmp_path / "pdf" / "copy.pdf").read_bytes().startswith(b"%PDF")
