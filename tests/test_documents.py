"""The Word documents: rendered from a multi-month sample, reopened with python-docx, checked."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import shutil
import stat
import sys
import time
import typing
import zipfile
from fractions import Fraction
from pathlib import Path

import docx
import pytest
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from docx.shared import Pt

from processor import commend
from processor.breakdown import breakdowns
from processor.config import Config
from processor.devtools import word_templates
from processor.records import UserError
from processor.render import decision_docs, documents, docx_files
from processor.vntext import format_percent, given_name_sort_key
from tests.doc_factories import PersonSpec, UnitSpec, build_result, config_with_units, office_result
from tests.factories import VERDICT_WORDS, expected_verdict

REPO = Path(__file__).resolve().parents[1]
XS, T, HT = "HTXSNV", "HTTNV", "HTNV"
NBSP = "\u00a0"
RUN_DAY = dt.date(2026, 12, 2)  # the day the tests pretend to run: the drafts are dated from it


@pytest.fixture(scope="module")
def templates(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("templates")
    word_templates.build_templates(folder)
    return folder


@pytest.fixture(scope="module")
def final_set(config, templates, tmp_path_factory):
    """The whole campaign (3 months, closing report) rendered once for the tests that only read it."""
    result = office_result(config, 3)
    decisions = commend.decide(config, result)
    out = tmp_path_factory.mktemp("final")
    paths = documents.render_documents(config, result, decisions, out, templates, today=RUN_DAY)
    return result, decisions, {p.name: p for p in paths}


def text_of(document) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    return "\n".join(parts)


def rows_of(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def find_table(document, first_header: str, second_header: str):
    for table in document.tables:
        cells = [c.text for c in table.rows[0].cells]
        if len(cells) > 1 and cells[0] == first_header and cells[1] == second_header:
            return table
    raise AssertionError(f"no table with header {first_header!r}, {second_header!r}")


def paragraph_with(document, text: str):
    for paragraph in document.paragraphs:
        if text in paragraph.text:
            return paragraph
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                for paragraph in cell.paragraphs:
                    if text in paragraph.text:
                        return paragraph
    raise AssertionError(f"no paragraph containing {text!r}")


def mm(length) -> float:
    """Lengths are stored in twentieths of a point: compare in whole millimetres."""
    return round(length.mm, 1)


# ------------------------------------------------------------------------------------------------
# Templates


def document_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read("word/document.xml").decode("utf-8")


@pytest.mark.parametrize("folder", ["input_templates", "processor/data/templates"])
def test_committed_templates_match_a_fresh_build(templates, folder):
    for name in docx_files.TEMPLATE_FILES:
        committed = REPO / folder / name
        rebuild = f"python -m processor.devtools.word_templates {folder}"
        assert committed.is_file(), f"{committed} missing: {rebuild}"
        assert document_xml(committed) == document_xml(templates / name), f"{folder}/{name} is stale"


def test_template_build_is_reproducible(tmp_path, templates):
    word_templates.build_templates(tmp_path)
    for name in docx_files.TEMPLATE_FILES:
        assert (tmp_path / name).read_bytes() == (templates / name).read_bytes()


def test_templates_layout_decree_30(templates):
    for name in docx_files.TEMPLATE_FILES:
        document = docx.Document(templates / name)
        first = document.sections[0]
        if name == word_templates.EXPLANATION:
            assert first.orientation == WD_ORIENT.LANDSCAPE
        else:
            assert first.orientation == WD_ORIENT.PORTRAIT
            assert (mm(first.page_width), mm(first.page_height)) == (210, 297)
            assert (mm(first.left_margin), mm(first.right_margin)) == (30, 15)
        assert (mm(first.top_margin), mm(first.bottom_margin)) == (20, 20)
        # Page numbers from the second page: a different first-page header, a PAGE field in the other.
        assert first.different_first_page_header_footer
        assert "PAGE" in first.header._element.xml
        assert "PAGE" not in first.first_page_header._element.xml
        # Times New Roman for every script, in the defaults and in every style that names a font.
        styles = document.styles.element
        defaults = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
        fonts = defaults.find(qn("w:rFonts"))
        for script in ("ascii", "hAnsi", "cs", "eastAsia"):
            assert fonts.get(qn(f"w:{script}")) == "Times New Roman"
        for element in styles.iter(qn("w:rFonts")):
            assert not any(k.endswith("Theme") or k.endswith("theme") for k in element.attrib), element.attrib
            assert element.get(qn("w:ascii")) == "Times New Roman"
        normal = document.styles["Normal"]
        assert normal.font.size == Pt(14)
        assert mm(normal.paragraph_format.first_line_indent) == 12.7
        assert normal.paragraph_format.space_after == Pt(6)


PPR_ORDER = (
    "pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl", "numPr",
    "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap",
    "overflowPunct", "topLinePunct", "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd", "snapToGrid",
    "spacing", "ind", "contextualSpacing", "mirrorIndents", "suppressOverlap", "jc", "textDirection",
    "textAlignment", "textboxTightWrap", "outlineLvl", "divId", "cnfStyle", "rPr", "sectPr", "pPrChange",
)  # fmt: skip


def test_properties_follow_schema_order(templates, final_set):
    """Word refuses a document whose property elements are out of schema order; LibreOffice does not."""
    orders = {"tblPr": word_templates.TBLPR_ORDER, "pPr": PPR_ORDER}
    paths = [templates / n for n in docx_files.TEMPLATE_FILES] + list(final_set[2].values())
    for path in paths:
        body = docx.Document(path).element.body
        for tag, order in orders.items():
            for element in body.iter(qn(f"w:{tag}")):
                names = [child.tag.split("}")[1] for child in element]
                assert all(n in order for n in names), (path.name, names)
                assert names == sorted(names, key=order.index), (path.name, names)


# ------------------------------------------------------------------------------------------------
# The report


def test_report_figures_match_the_result(config, final_set):
    result, _, paths = final_set
    document = docx.Document(paths["bao-cao-2024-03.docx"])
    table = find_table(document, "STT", "Chỉ tiêu")
    rows = rows_of(table)[1:]
    assert len(rows) == len(config.campaigns[0].targets)
    # Recompute every target from the units' figures, independently of the context builder.
    reporting = [u.figures for u in result.units if u.figures.units_reporting]
    measure = {
        "units_rated_good_or_better": lambda f: (f.units_rated_good_or_better, f.units_reporting),
        "staff_rated_good_or_better": lambda f: (f.rated_good_or_better, f.staff),
        "staff_registered": lambda f: (f.registered, f.staff),
        "staff_social": lambda f: (f.social, f.staff),
        "tasks_completed": lambda f: (f.tasks_completed, f.tasks_assigned),
    }
    for target, row in zip(config.campaigns[0].targets, rows, strict=True):
        num = sum(measure[target.measure](f)[0] for f in reporting)
        den = sum(measure[target.measure](f)[1] for f in reporting)
        share = Fraction(num, den)
        assert row[1] == target.label
        assert row[2] == f"{num}/{den}"
        assert row[3] == format_percent(share)
        assert "," in row[3] and row[3].endswith("%")
        verdict = expected_verdict(num, den, target.share, target.measure, len(reporting), len(result.units))
        coverage = f" ({format_percent(share)} trên {len(reporting)}/{len(result.units)} đơn vị đã báo cáo)"
        assert row[5] == VERDICT_WORDS[verdict] + (coverage if verdict == "insufficient_data" else "")
    text = text_of(document)
    assert "BÁO CÁO" in text
    assert "Tổng kết phong trào thi đua đợt I năm 2024" in text  # last month: the closing report
    # A draft: the day left for the văn thư, the month and year of the run (never the reports' deadline).
    assert f"Lào Cai, ngày {NBSP * 6} tháng 12 năm 2026" in text
    assert "ngày 05 tháng 4 năm 2024" not in text
    assert f"Số: {NBSP * 7}/BC-VPUBND-TCHC" in text
    # Month on month: February's share of target 1 beside March's.
    previous = {t.target_id: t for t in result.previous.targets}
    changes = rows_of(find_table(document, "STT", "Nội dung"))
    label = result.targets[1].label
    change_row = next(r for r in changes if r[1] == label)
    assert change_row[2] == format_percent(previous[result.targets[1].target_id].value)
    assert change_row[3] == format_percent(result.targets[1].value)


def test_report_units_table_and_who_must_act(config, final_set):
    result, _, paths = final_set
    document = docx.Document(paths["bao-cao-2024-03.docx"])
    rows = rows_of(find_table(document, "STT", "Đơn vị"))
    body = [r for r in rows[1:] if r[0].isdigit()]
    assert [r[1] for r in body] == [u.unit_name for u in result.units]
    for unit, row in zip(result.units, body, strict=True):
        if unit.figures.units_reporting:
            assert row[3] == str(unit.figures.staff)
            assert row[8] == f"{unit.figures.tasks_completed}/{unit.figures.tasks_assigned}"
    total = rows[-1]
    assert total[1] == "Tổng cộng" and total[3] == str(sum(u.figures.staff for u in result.units))
    text = text_of(document)
    unmet = [t for t in result.targets if t.blocking_people]
    assert unmet, "the sample must miss a target"
    for target in unmet:
        for _, name in target.blocking_people[:5]:
            assert name in text
    errors = [u.unit_name for u in result.units if u.status.value == "with_errors"]
    assert errors and all(name in text for name in errors)
    highlights = [u.highlights for u in result.units if u.highlights]
    assert highlights and all(h in text for h in highlights)


def test_first_month_is_a_progress_report_without_comparison(config, templates, tmp_path):
    result = office_result(config, 1)
    paths = documents.render_documents(
        config, result, commend.decide(config, result), tmp_path, templates, today=dt.date(2024, 2, 7)
    )
    text = text_of(docx.Document(paths[0]))
    assert "Kết quả thực hiện phong trào thi đua đợt I năm 2024 tháng 01/2024" in text
    assert "là tháng đầu tiên của đợt thi đua" in text
    assert f"Lào Cai, ngày {NBSP * 6} tháng 02 năm 2024" in text  # months 1 and 2 with a leading zero


def test_long_unit_table_is_capped_with_a_pointer_to_the_workbook(config, templates, tmp_path):
    many = config_with_units(config, [(f"DV{i:03d}", f"Đơn vị số {i}") for i in range(1, 81)])
    units = [UnitSpec(f"DV{i:03d}", (T,) if i % 9 else (None,)) for i in range(1, 81)]
    result = build_result(many, units, [PersonSpec("Nguyễn Văn An", "DV001", (T,))])
    paths = documents.render_documents(many, result, commend.decide(many, result), tmp_path, templates)
    document = docx.Document(paths[0])
    rows = [r for r in rows_of(find_table(document, "STT", "Đơn vị"))[1:] if r[0].isdigit()]
    assert len(rows) == documents.TABLE_ROW_CAP
    missing = [f"Đơn vị số {i}" for i in range(1, 81) if i % 9 == 0]
    shown = {r[1] for r in rows}
    assert set(missing) <= shown, "units needing attention come first"
    assert "tong-hop.xlsx" in text_of(document)


# ------------------------------------------------------------------------------------------------
# The proposal and its list


def test_proposal_counts_list_and_landscape_section(config, final_set):
    _, decisions, paths = final_set
    document = docx.Document(paths["to-trinh-khen-thuong-2024-03.docx"])
    collectives = [d for d in decisions if d.proposed and d.subject == "collective"]
    individuals = [d for d in decisions if d.proposed and d.subject == "individual"]
    assert collectives and individuals
    counts = f"{len(collectives):02d} tập thể và {len(individuals):02d} cá nhân"
    text = text_of(document)
    assert f"Giấy khen của Chánh Văn phòng cho {counts}" in text
    assert f"Tổng số: {counts}./." in text
    assert "TỜ TRÌNH" in text and "Kính gửi: Chánh Văn phòng UBND tỉnh." in text
    for basis in config.rule_set("giay-khen-dot-i-2024").legal_basis:
        assert f"Căn cứ {basis};" in text
    assert f"Số: {NBSP * 7}/TTr-VPUBND-TCHC" in text
    # The list: on its own landscape section.
    assert len(document.sections) == 2
    landscape = document.sections[1]
    assert landscape.orientation == WD_ORIENT.LANDSCAPE and landscape.page_width > landscape.page_height
    table = find_table(document, "STT", "Họ và tên / Tên tập thể")
    rows = rows_of(table)
    headers = [r[0] for r in rows]
    assert headers.index("I. TẬP THỂ") < headers.index("II. CÁ NHÂN")
    people_rows = rows[headers.index("II. CÁ NHÂN") + 1 :]
    names = [r[1] for r in people_rows]
    assert names == sorted(names, key=given_name_sort_key)
    assert sorted(names) == sorted(d.subject_name for d in individuals)
    by_name = {d.subject_name: d for d in individuals}
    for row in people_rows:
        assert row[5] == by_name[row[1]].achievement
        assert row[4] == "Giấy khen của Chánh Văn phòng"
    # Repeated header row, rows never split across pages.
    first_row = table.rows[0]._tr
    assert first_row.trPr.find(qn("w:tblHeader")) is not None
    assert all(r._tr.trPr.find(qn("w:cantSplit")) is not None for r in table.rows)


def test_the_list_keeps_its_last_row_with_the_total_line(config, final_set):
    """"Tổng số: …./." never opens a page alone: the list's last row is kept with it (Word's "keep with
    next" on that row only; the rows come from one template row, so the program marks the last)."""
    _, _, paths = final_set
    document = docx.Document(paths["to-trinh-khen-thuong-2024-03.docx"])
    table = find_table(document, "STT", "Họ và tên / Tên tập thể")
    after = table._tbl.getnext()
    assert after.tag == qn("w:p") and "".join(after.itertext()).startswith("Tổng số:")

    def kept(row) -> list[bool]:
        return [bool(p.paragraph_format.keep_with_next) for cell in row.cells for p in cell.paragraphs]

    assert all(kept(table.rows[-1]))
    assert not any(any(kept(row)) for row in table.rows[:-1])  # a long list still breaks across pages


def test_names_follow_vietnamese_order(config, templates, tmp_path):
    names = ["Nguyễn Văn Đức", "Trần Thị Dung", "Lê Văn Anh", "Phạm Thị Ánh", "Hoàng Văn Ân", "Bùi Thị Anh"]
    people = [PersonSpec(n, "TCHC", (XS, XS)) for n in names]
    result = build_result(config, [UnitSpec("TCHC", (XS, XS))], people)
    paths = documents.render_documents(config, result, commend.decide(config, result), tmp_path, templates)
    table = find_table(docx.Document(paths[1]), "STT", "Họ và tên / Tên tập thể")
    rows = rows_of(table)
    listed = [r[1] for r in rows[[r[0] for r in rows].index("II. CÁ NHÂN") + 1 :]]
    # Given name first (a < ă < â, d < đ, no tone before acute), then the rest of the name.
    assert listed == [
        "Bùi Thị Anh",
        "Lê Văn Anh",
        "Phạm Thị Ánh",
        "Hoàng Văn Ân",
        "Trần Thị Dung",
        "Nguyễn Văn Đức",
    ]


def test_roster_order_when_configured(config, templates, tmp_path):
    roster_config = dataclasses.replace(
        config, documents=dataclasses.replace(config.documents, name_order="roster")
    )
    names = ["Nguyễn Văn Đức", "Lê Văn Anh"]
    result = build_result(
        roster_config, [UnitSpec("TCHC", (XS,))], [PersonSpec(n, "TCHC", (XS,)) for n in names]
    )
    decisions = commend.decide(roster_config, result, "danh-hieu-co-so-2024")
    paths = documents.render_documents(roster_config, result, decisions, tmp_path, templates)
    rows = rows_of(find_table(docx.Document(paths[1]), "STT", "Họ và tên / Tên tập thể"))
    listed = [r[1] for r in rows[[r[0] for r in rows].index("II. CÁ NHÂN") + 1 :]]
    assert listed == names


def test_number_given_fills_both_documents(config, templates, tmp_path):
    result = office_result(config, 2)
    paths = documents.render_documents(
        config, result, commend.decide(config, result), tmp_path, templates, number=5, today=RUN_DAY
    )
    assert "Số: 05/BC-VPUBND-TCHC" in text_of(docx.Document(paths[0]))
    proposal = text_of(docx.Document(paths[1]))
    assert "Số: 06/TTr-VPUBND-TCHC" in proposal
    assert f"Kèm theo Tờ trình số 06/TTr-VPUBND-TCHC ngày {NBSP * 6}/12/2026" in proposal


def test_fonts_and_sizes_in_the_rendered_proposal(final_set):
    _, _, paths = final_set
    document = docx.Document(paths["to-trinh-khen-thuong-2024-03.docx"])
    xml = document.element.xml
    assert "w:rFonts" not in xml or all(
        el.get(qn("w:ascii")) in (None, "Times New Roman") for el in document.element.iter(qn("w:rFonts"))
    )
    assert paragraph_with(document, "UBND TỈNH LÀO CAI").runs[0].font.size == Pt(13)
    issuing = paragraph_with(document, "VĂN PHÒNG").runs[0]
    assert issuing.font.size == Pt(13) and issuing.bold
    motto = paragraph_with(document, "Độc lập - Tự do - Hạnh phúc").runs[0]
    assert motto.bold and motto.font.size == Pt(14)
    place = paragraph_with(document, "Lào Cai, ngày").runs[0]
    assert place.italic and place.font.size == Pt(14)
    kind = paragraph_with(document, "TỜ TRÌNH").runs[0]
    assert kind.bold and kind.font.size == Pt(14)
    recipients = paragraph_with(document, "Nơi nhận:").runs[0]
    assert recipients.bold and recipients.italic and recipients.font.size == Pt(12)
    assert paragraph_with(document, "- Như trên;").runs[0].font.size == Pt(11)
    assert paragraph_with(document, "- Lưu: VT, TCHC2.").runs[0].font.size == Pt(11)
    signer = paragraph_with(document, "CHÁNH VĂN PHÒNG").runs[0]
    assert signer.bold and signer.font.size == Pt(14)
    assert paragraph_with(document, "Phan Quốc Nghĩa").runs[0].bold


# ------------------------------------------------------------------------------------------------
# The explanation


def test_explanation_lists_every_subject_with_reasons(config, templates, tmp_path):
    people = [
        PersonSpec("Nguyễn Văn An", "TCHC", (XS, XS)),
        PersonSpec("Lê Thị Vừa", "TCHC", (XS, HT)),
    ]
    result = build_result(config, [UnitSpec("TCHC", (XS, XS))], people)
    decisions = commend.decide(config, result)
    paths = documents.render_documents(config, result, decisions, tmp_path, templates)
    document = docx.Document(paths[2])
    text = text_of(document)
    assert "Chưa đạt: tháng 02/2024 xếp loại Hoàn thành nhiệm vụ" in text
    rows = rows_of(find_table(document, "STT", "Họ và tên, đơn vị"))[1:]
    assert len(rows) == 2
    an = next(r for r in rows if r[1].startswith("Nguyễn Văn An"))
    assert an[4] == "Đề nghị" and "Phòng Tổ chức - Hành chính" in an[1]
    vua = next(r for r in rows if r[1].startswith("Lê Thị Vừa"))
    assert vua[4] == "Chưa đạt"
    units = rows_of(find_table(document, "STT", "Tên tập thể"))[1:]
    assert len(units) == len(config.units)


def test_explanation_cap_keeps_the_proposed(config, templates, tmp_path, monkeypatch):
    monkeypatch.setattr(documents, "EXPLANATION_ROW_CAP", 3)
    people = [PersonSpec(f"Người Thứ {i}", "TCHC", (T, T)) for i in range(6)]
    people.append(PersonSpec("Trần Văn Giỏi", "TCHC", (XS, XS)))
    result = build_result(config, [UnitSpec("TCHC", (XS, XS))], people)
    paths = documents.render_documents(config, result, commend.decide(config, result), tmp_path, templates)
    document = docx.Document(paths[2])
    rows = rows_of(find_table(document, "STT", "Họ và tên, đơn vị"))[1:]
    assert len(rows) == 3 and any(r[1].startswith("Trần Văn Giỏi") for r in rows)
    assert "tong-hop.xlsx" in text_of(document)


# ------------------------------------------------------------------------------------------------
# Robustness


def test_ampersand_and_angle_brackets_survive(config, templates, tmp_path):
    odd = config_with_units(config, [("AB", "Phòng A & B <test>"), ("C", "Phòng C")])
    highlights = 'Giảm 5% lỗi & xử lý <100> hồ sơ; "đúng hạn"\fmới'
    units = [UnitSpec("AB", (XS, XS), highlights=highlights), UnitSpec("C", (XS, XS))]
    people = [PersonSpec("Nguyễn Văn <An> & Bình", "AB", (XS, XS))]
    result = build_result(odd, units, people)
    paths = documents.render_documents(odd, result, commend.decide(odd, result), tmp_path, templates)
    for path in paths:
        text = text_of(docx.Document(path))  # opens: the XML is valid
        assert "Phòng A & B <test>" in text
    report = text_of(docx.Document(paths[0]))
    assert 'Giảm 5% lỗi & xử lý <100> hồ sơ; "đúng hạn"mới' in report
    assert "Nguyễn Văn <An> & Bình" in text_of(docx.Document(paths[1]))


def test_rendering_is_reproducible(config, templates, tmp_path):
    result = office_result(config, 2)
    decisions = commend.decide(config, result)
    first = documents.render_documents(config, result, decisions, tmp_path / "a", templates, today=RUN_DAY)
    second = documents.render_documents(config, result, decisions, tmp_path / "b", templates, today=RUN_DAY)
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()


def add_paragraph(source: Path, target: Path, text: str) -> None:
    document = docx.Document(source)
    document.add_paragraph(text)
    document.save(target)


def test_unknown_variable_is_reported_before_rendering(config, templates, tmp_path):
    edited = tmp_path / "mau"
    shutil.copytree(templates, edited)
    add_paragraph(
        templates / word_templates.PROPOSAL, edited / word_templates.PROPOSAL, "{{ so_quyet_dinh }}"
    )
    result = office_result(config, 2)
    out = tmp_path / "out"
    with pytest.raises(UserError) as error:
        documents.render_documents(config, result, commend.decide(config, result), out, edited)
    message = str(error.value)
    assert "to-trinh-khen-thuong.docx" in message
    assert "so_quyet_dinh" in message
    assert "period_label" in message and "proposal_counts" in message  # the variables that exist
    assert not out.exists() or not any(out.iterdir()), "nothing is written when a template is wrong"


def test_unknown_field_of_a_list_item_is_a_user_error(config, templates, tmp_path):
    edited = tmp_path / "mau"
    shutil.copytree(templates, edited)
    add_paragraph(
        templates / word_templates.REPORT,
        edited / word_templates.REPORT,
        "{%p for t in targets %}",
    )
    document = docx.Document(edited / word_templates.REPORT)
    document.add_paragraph("{{ t.khong_co }}")
    document.add_paragraph("{%p endfor %}")
    document.save(edited / word_templates.REPORT)
    result = office_result(config, 1)
    with pytest.raises(UserError, match="khong_co"):
        documents.render_documents(config, result, commend.decide(config, result), tmp_path / "o", edited)


def test_broken_template_is_a_user_error(config, templates, tmp_path):
    edited = tmp_path / "mau"
    shutil.copytree(templates, edited)
    (edited / word_templates.REPORT).write_bytes(b"not a docx")
    result = office_result(config, 1)
    with pytest.raises(UserError, match=r"bao-cao\.docx"):
        documents.render_documents(config, result, commend.decide(config, result), tmp_path / "o", edited)


def test_missing_template_falls_back_to_the_bundled_one(config, tmp_path):
    result = office_result(config, 1)
    paths = documents.render_documents(
        config, result, commend.decide(config, result), tmp_path, tmp_path / "none"
    )
    assert [p.name for p in paths] == [
        "bao-cao-2024-01.docx",
        "to-trinh-khen-thuong-2024-01.docx",
        "giai-trinh-khen-thuong-2024-01.docx",
    ]


def test_context_is_plain_data(config):
    result = office_result(config, 2)
    decisions = commend.decide(config, result)
    counted = breakdowns(config, result, decisions)
    context = documents.build_context(config, result, decisions, breakdowns=counted)

    def plain(value) -> bool:
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return isinstance(value, str | bool)

    assert plain(context)
    documented = (REPO / "docs" / "template-variables.md").read_text(encoding="utf-8")
    for name in context:
        assert f"`{name}`" in documented, f"{name} is not documented in docs/template-variables.md"


def _documented_sections() -> dict[str, list[str]]:
    """docs/template-variables.md's "Variables" part: the dataclass each section names -> the variables of
    its table, in order."""
    text = (REPO / "docs" / "template-variables.md").read_text(encoding="utf-8")
    part = text.split("\n## Variables\n", 1)[1].split("\n## ", 1)[0]
    sections = {}
    for chunk in part.split("\n### ")[1:]:
        named = re.findall(r"^Section `(\w+)`\.$", chunk, re.MULTILINE)
        assert len(named) == 1, f"section {chunk.splitlines()[0]!r} must name its dataclass once"
        sections[named[0]] = re.findall(r"^\| `(\w+)` \|", chunk, re.MULTILINE)
    return sections


def test_each_documented_section_is_a_context_dataclass_with_the_same_variables():
    sections = typing.get_type_hints(documents.DocumentContext)
    classes = {cls.__name__: cls for cls in sections.values()}
    documented = _documented_sections()
    assert list(documented) != [] and set(documented) == set(classes)
    for name, cls in classes.items():
        assert documented[name] == [f.name for f in dataclasses.fields(cls)], f"{name} and its docs differ"


def test_context_sections_assemble_into_the_templates_flat_dict(config):
    result = office_result(config, 3)
    decisions = commend.decide(config, result)
    counted = breakdowns(config, result, decisions)
    sections = documents.document_context(config, result, decisions, breakdowns=counted, today=RUN_DAY)
    flat = documents.build_context(config, result, decisions, breakdowns=counted, today=RUN_DAY)
    names = [
        f.name for s in dataclasses.fields(sections) for f in dataclasses.fields(getattr(sections, s.name))
    ]
    assert len(names) == len(set(names)), "two sections provide the same variable"
    assert list(flat) == names
    assert flat["signer_name"] == sections.office.signer_name == config.office.signer_name
    assert flat["proposal_counts"] == sections.proposals.proposal_counts
    with pytest.raises(dataclasses.FrozenInstanceError):
        sections.office.signer_name = "x"  # type: ignore[misc]


def test_the_documented_decide_variables_are_the_decision_section():
    text = (REPO / "docs" / "template-variables.md").read_text(encoding="utf-8")
    part = text.split("\n## `thidua decide`", 1)[1]
    assert "section `DecisionSection`" in part
    cells = re.findall(r"^\| (`\w+`(?:, `\w+`)*) \|", part, re.MULTILINE)
    documented = [name for cell in cells for name in re.findall(r"`(\w+)`", cell)]
    assert sorted(documented) == sorted(f.name for f in dataclasses.fields(decision_docs.DecisionSection))


def test_a_missing_template_writes_no_document_even_after_shipped_ones(config, tmp_path):
    """Shipped templates skip the check before rendering; one missing is still found before any
    document of the set is written."""
    result = office_result(config, 3)
    decisions = commend.decide(config, result)
    counted = breakdowns(config, result, decisions)
    context = documents.build_context(config, result, decisions, breakdowns=counted, today=RUN_DAY)
    shipped = REPO / "processor" / "data" / "templates"
    templates = ((shipped / "bao-cao.docx", "a.docx"), (shipped / "khong-co.docx", "b.docx"))
    job = documents.DocumentJob(context, templates)
    with pytest.raises(UserError, match=r"Không tìm thấy mẫu văn bản khong-co\.docx"):
        documents.write_documents(job, tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("months", [1, 3])
@pytest.mark.parametrize("folder", ["input_templates", "processor/data/templates"])
def test_committed_templates_use_only_variables_the_context_provides(config, folder, months):
    result = office_result(config, months)
    for decisions in (commend.decide(config, result), []):
        counted = breakdowns(config, result, decisions)
        context = documents.build_context(config, result, decisions, breakdowns=counted, today=RUN_DAY)
        for name in documents.output_names("x"):
            documents.check_template(REPO / folder / name, context)  # raises naming any unknown variable


# ------------------------------------------------------------------------------------------------
# PDF


def test_pdf_without_libreoffice_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setattr(documents, "find_soffice", lambda: None)
    converted, skipped = documents.convert_to_pdf([tmp_path / "a.docx"], 5)
    assert converted == []
    assert skipped[0][0] == tmp_path / "a.docx"
    assert "LibreOffice" in skipped[0][1] and "libreoffice.org" in skipped[0][1]


@pytest.mark.skipif(os.name != "posix", reason="fake soffice is a shell script")
def test_pdf_conversion_is_bounded_in_time(monkeypatch, tmp_path):
    fake = tmp_path / "soffice"
    fake.write_text("#!/bin/sh\nsleep 30 &\nsleep 30\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(documents, "find_soffice", lambda: str(fake))
    started = time.monotonic()
    converted, skipped = documents.convert_to_pdf([tmp_path / "a.docx"], 1)
    assert time.monotonic() - started < 10
    assert converted == [] and "quá 1 giây" in skipped[0][1]


@pytest.mark.slow  # LibreOffice takes seconds to start: `make test-slow`, which CI runs
@pytest.mark.skipif(documents.find_soffice() is None, reason="LibreOffice not installed")
@pytest.mark.skipif(sys.platform == "win32", reason="slow on CI")
def test_pdf_with_libreoffice(config, templates, tmp_path):
    result = office_result(config, 1)
    paths = documents.render_documents(config, result, commend.decide(config, result), tmp_path, templates)
    converted, skipped = documents.convert_to_pdf(paths[:1], 120)
    assert skipped == []
    assert converted == [tmp_path / "bao-cao-2024-01.pdf"]
    assert converted[0].read_bytes().startswith(b"%PDF")


def test_config_fixture_is_the_shipped_one(config: Config):
    assert config.office.symbol_suffix == "VPUBND-TCHC"


# ------------------------------------------------------------------------------------------------
# Drafting conventions (Decree 30 drafts): the date of issue, the rule set cited, the signature block


@pytest.mark.parametrize(
    ("setting", "place_date", "issue_date"),
    [
        ("blank-day", f"Lào Cai, ngày {NBSP * 6} tháng 12 năm 2026", f"{NBSP * 6}/12/2026"),
        ("today", "Lào Cai, ngày 02 tháng 12 năm 2026", "02/12/2026"),
        ("2027-01-08", "Lào Cai, ngày 08 tháng 01 năm 2027", "08/01/2027"),
    ],
)
def test_date_of_issue_follows_the_documents_date_setting(
    config, templates, tmp_path, setting, place_date, issue_date
):
    dated = dataclasses.replace(config, documents=dataclasses.replace(config.documents, date=setting))
    result = office_result(config, 3)  # the closing month: báo cáo and tờ trình
    paths = documents.render_documents(
        dated, result, commend.decide(config, result), tmp_path, templates, today=RUN_DAY
    )
    report, proposal = (docx.Document(p) for p in paths[:2])
    for document in (report, proposal):
        assert paragraph_with(document, "Lào Cai, ngày").text == place_date
    assert f"Kèm theo Tờ trình số {NBSP * 7}/TTr-VPUBND-TCHC ngày {issue_date} của" in text_of(proposal)
    # The reports' deadline (05/04/2024 for March) stays the deadline and is never the date of issue.
    assert "Kỳ báo cáo tháng 03/2024 (hạn gửi 05/04/2024)" in text_of(report)
    assert "05 tháng 4 năm 2024" not in text_of(report) + text_of(proposal)


def test_decisions_carry_their_rule_set_and_the_documents_cite_its_legal_basis(config, templates, tmp_path):
    # The same awards under the 2025 decree: the award ids cannot tell the two rule sets apart, only the
    # rule set id each decision carries can.
    current = config.rule_set(config.campaigns[0].rule_set)
    newer = dataclasses.replace(
        current,
        id="giay-khen-2025",
        name="Tiêu chuẩn tặng Giấy khen của Chánh Văn phòng năm 2025",
        effective_to=dt.date(2026, 12, 31),
        legal_basis=[
            "Luật Thi đua, khen thưởng số 06/2022/QH15 ngày 15 tháng 6 năm 2022",
            "Nghị định số 152/2025/NĐ-CP của Chính phủ quy định chi tiết thi hành Luật Thi đua, khen thưởng",
        ],
    )
    both = dataclasses.replace(config, rule_sets=[*config.rule_sets, newer])
    result = office_result(both, 3)
    for rule_set, folder in ((newer, "newer"), (current, "campaign")):
        decisions = commend.decide(both, result, rule_set.id if rule_set is newer else None)
        assert decisions and {d.rule_set_id for d in decisions} == {rule_set.id}
        paths = documents.render_documents(
            both, result, decisions, tmp_path / folder, templates, today=RUN_DAY
        )
        proposal, explanation = text_of(docx.Document(paths[1])), text_of(docx.Document(paths[2]))
        for basis in rule_set.legal_basis:
            assert f"Căn cứ {basis};" in proposal
        span = "từ 01/01/2024 đến 31/12/2026" if rule_set is newer else "từ 01/01/2024"
        assert f"Bộ tiêu chuẩn áp dụng: {rule_set.name} (áp dụng {span})." in explanation
        other = current if rule_set is newer else newer
        assert other.legal_basis[1] not in proposal + explanation


def _signature_table(document):
    """The Nơi nhận / signer table and the paragraph just before it."""
    table = next(t for t in document.tables if t.rows[0].cells[0].text.startswith("Nơi nhận:"))
    return table, table._tbl.getprevious()


@pytest.mark.parametrize("name", ["bao-cao-2024-03.docx", "to-trinh-khen-thuong-2024-03.docx"])
def test_signature_block_keeps_with_the_closing_paragraph(final_set, name):
    """What keeps the block on one page, in the XML Word and LibreOffice read (see the PDF test below)."""
    _, _, paths = final_set
    table, closing = _signature_table(docx.Document(paths[name]))
    assert "Phan Quốc Nghĩa" in table.rows[0].cells[1].text
    assert len(table.rows) == 1
    assert table.rows[0]._tr.trPr.find(qn("w:cantSplit")) is not None  # the row never splits
    assert closing.tag == qn("w:p") and "".join(closing.itertext()).endswith("./.")
    ppr = closing.find(qn("w:pPr"))
    assert ppr.find(qn("w:keepNext")) is not None  # the closing paragraph goes with the block
    assert ppr.find(qn("w:keepLines")) is not None  # whole


def _pdf_pages(pdf: Path) -> list[str]:
    import subprocess

    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True).stdout
    return text.decode("utf-8").split("\f")[:-1]


@pytest.mark.slow  # renders 11 reports in LibreOffice (7 s): `make test-slow`, which CI runs
@pytest.mark.skipif(
    documents.find_soffice() is None or shutil.which("pdftotext") is None,
    reason="needs LibreOffice and poppler-utils (pdftotext)",
)
def test_signature_block_never_splits_at_a_page_break(config, templates, tmp_path):
    """Reports of growing length: wherever the page break falls, the closing paragraph, Nơi nhận and the
    signer's title and name share a page (the old templates left the name alone on the next page)."""
    import subprocess

    base = office_result(config, 2)
    decisions = commend.decide(config, base)
    sentence = "Tham mưu kịp thời các văn bản chỉ đạo điều hành của UBND tỉnh, không có văn bản chậm muộn. "
    reports = []
    # Each step adds about two lines (34 pt) to the highlights; 11 steps sweep a whole page (43 lines), so
    # the page break falls at every height of the 10-line block at least once.
    for step in range(11):
        units = tuple(
            dataclasses.replace(u, highlights=sentence * (4 * step) if i == 0 else "")
            for i, u in enumerate(base.units)
        )
        result = dataclasses.replace(base, units=units)
        counted = breakdowns(config, result, decisions)
        job = documents.prepare_documents(
            config, result, decisions, templates, breakdowns=counted, include_proposal=False, today=RUN_DAY
        )
        path = documents.write_documents(dataclasses.replace(job, templates=job.templates[:1]), tmp_path)[0]
        reports.append(path.rename(tmp_path / f"bao-cao-{step:02d}.docx"))
    profile = (tmp_path / "profile").as_uri()
    command = [documents.find_soffice(), f"-env:UserInstallation={profile}", "--headless", "--norestore"]
    command += ["--convert-to", "pdf", "--outdir", str(tmp_path), *map(str, reports)]
    subprocess.run(command, capture_output=True, timeout=300, check=True)
    pushed = 0
    for report in reports:
        pages = _pdf_pages(report.with_suffix(".pdf"))
        where = {
            mark: [i for i, page in enumerate(pages) if mark in page]
            for mark in ("Trên đây là báo cáo", "Văn phòng UBND tỉnh./.", "Nơi nhận:", "Phan Quốc Nghĩa")
        }
        assert all(len(found) == 1 for found in where.values()), (report.name, where)
        assert len({found[0] for found in where.values()}) == 1, (report.name, where)
        last = pages[where["Nơi nhận:"][0]].split()
        pushed += last[1:5] == ["Trên", "đây", "là", "báo"]  # after the page number: the block opens the page
    assert pushed, "no length put the page break inside the signature block: the test proves nothing"
