"""Build the default Word templates: real .docx files with Jinja tags, laid out per Decree 30/2020/NĐ-CP.

The templates belong to the clerk: `thidua init` copies them into `input_templates/`, and the office
rewords them in Word. This module only produces the first version, so that the layout (margins, fonts,
the two-column header with its rules, signature block, page numbers from the second page) is right
without anyone drawing it by hand. Run `python -m processor.devtools.word_templates DIR` to rebuild.

Every variable a template uses is documented, with an example, in docs/template-variables.md.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from processor.render.atomic import write_with
from processor.render.docx_files import (
    CERTIFICATE,
    CERTIFICATE_PLAIN,
    DECISION,
    EXPLANATION,
    FRAMEPR_SUCCESSORS,
    PROPOSAL,
    REPORT,
    normalize_docx,
)

FONT = "Times New Roman"


# Decree 30/2020, Appendix I: A4; margins top/bottom 20-25 mm, left 30-35 mm, right 15-20 mm.
PAGE_W, PAGE_H = 210, 297
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT = 20, 20, 30, 15
TEXT_W = PAGE_W - MARGIN_LEFT - MARGIN_RIGHT  # 165 mm
LANDSCAPE_LEFT, LANDSCAPE_RIGHT = 20, 20
LANDSCAPE_TEXT_W = PAGE_H - LANDSCAPE_LEFT - LANDSCAPE_RIGHT  # 257 mm

# Header columns: the Quốc hiệu in 13 pt bold caps is 95.7 mm wide (Times New Roman metrics).
HEADER_LEFT_W, HEADER_RIGHT_W = 63, 102
CELL_MARGIN = 1  # mm, left and right, in the borderless layout tables
# "Độc lập - Tự do - Hạnh phúc" in 14 pt bold is 60.5 mm: its rule is a bottom border on a paragraph
# indented to that width (Decree 30: "có độ dài bằng độ dài của dòng chữ").
MOTTO_W = 61.0
ISSUER_RULE_W = 22  # short rule under the issuing body
SUBJECT_RULE_W = 40  # short rule under the trích yếu

BODY_INDENT = Mm(12.7)


# ------------------------------------------------------------------------------------------------
# Low-level OXML helpers


def _set(parent, tag: str, **attrs: str):
    """Get or create child `tag` of `parent` and set its w: attributes."""
    child = parent.find(qn(tag))
    if child is None:
        child = OxmlElement(tag)
        parent.append(child)
    for key, value in attrs.items():
        child.set(qn(f"w:{key}"), value)
    return child


def _fonts(rpr) -> None:
    """Times New Roman for every script; theme fonts would override the explicit names, so drop them."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in list(fonts.attrib):
        if attr.endswith("Theme") or attr.endswith("theme"):
            del fonts.attrib[attr]
    for script in ("ascii", "hAnsi", "cs", "eastAsia"):
        fonts.set(qn(f"w:{script}"), FONT)


def _border(paragraph: Paragraph, side: str = "bottom", size: int = 6, space: int = 1) -> None:
    ppr = paragraph._p.get_or_add_pPr()
    borders = ppr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        # pBdr must come before spacing/ind/jc in pPr (schema order), after keepNext/keepLines.
        anchor = None
        for tag in ("w:shd", "w:tabs", "w:spacing", "w:ind", "w:jc"):
            anchor = ppr.find(qn(tag))
            if anchor is not None:
                break
        if anchor is not None:
            anchor.addprevious(borders)
        else:
            ppr.append(borders)
    line = OxmlElement(f"w:{side}")
    line.set(qn("w:val"), "single")
    line.set(qn("w:sz"), str(size))
    line.set(qn("w:space"), str(space))
    line.set(qn("w:color"), "000000")
    borders.append(line)


def _table_borders(table: Table, val: str) -> None:
    tblpr = table._tbl.tblPr
    borders = tblpr.find(qn("w:tblBorders"))
    if borders is not None:
        tblpr.remove(borders)
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:val"), val)
        if val != "nil":
            edge.set(qn("w:sz"), "4")
            edge.set(qn("w:space"), "0")
            edge.set(qn("w:color"), "000000")
        borders.append(edge)
    tblpr.append(borders)


def _cell_margins(table: Table, left_right_mm: float, top_bottom_mm: float = 0) -> None:
    margins = OxmlElement("w:tblCellMar")
    for side, mm in (("top", top_bottom_mm), ("left", left_right_mm), ("bottom", top_bottom_mm)):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:w"), str(round(mm * 56.7)))
        edge.set(qn("w:type"), "dxa")
        margins.append(edge)
    edge = OxmlElement("w:right")
    edge.set(qn("w:w"), str(round(left_right_mm * 56.7)))
    edge.set(qn("w:type"), "dxa")
    margins.append(edge)
    table._tbl.tblPr.append(margins)


def _fixed_widths(table: Table, widths_mm: Sequence[float]) -> None:
    table.autofit = False
    tblpr = table._tbl.tblPr
    _set(tblpr, "w:tblW", w=str(round(sum(widths_mm) * 56.7)), type="dxa")
    _set(tblpr, "w:tblLayout", type="fixed")
    for column, mm in zip(table.columns, widths_mm, strict=True):
        column.width = Mm(mm)
    for row in table.rows:
        for cell, mm in zip(row.cells, widths_mm, strict=False):
            cell.width = Mm(mm)


def _row_flags(row, *, header: bool = False) -> None:
    """Rows never break across pages; header rows repeat on every page of the table."""
    trpr = row._tr.get_or_add_trPr()
    trpr.append(OxmlElement("w:cantSplit"))
    if header:
        trpr.append(OxmlElement("w:tblHeader"))


# Child order of w:tblPr in the schema (ECMA-376): Word rejects a file whose elements are out of order.
TBLPR_ORDER = (
    "tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize", "tblStyleColBandSize", "tblW",
    "jc", "tblCellSpacing", "tblInd", "tblBorders", "shd", "tblLayout", "tblCellMar", "tblLook",
    "tblCaption", "tblDescription",
)  # fmt: skip


def _finish(document: DocumentObject) -> None:
    """Last pass: schema order of table properties, and every w:t keeps its spaces ('      /BC-…')."""
    rank = {qn(f"w:{tag}"): i for i, tag in enumerate(TBLPR_ORDER)}
    for tblpr in document.element.body.iter(qn("w:tblPr")):
        children = sorted(tblpr, key=lambda child: rank.get(child.tag, len(rank)))
        for child in children:
            tblpr.append(child)
    for text in document.element.body.iter(qn("w:t")):
        text.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")


# ------------------------------------------------------------------------------------------------
# Styles and page


BODY = "Normal"
HEADER_TEXT = "Header Block"
TABLE_TEXT = "Table Text"
SECTION_HEADING = "Section Heading"
TAG = "Template Tag"


def _setup_styles(document: DocumentObject) -> None:
    styles = document.styles
    defaults = styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _fonts(rpr)
    _set(rpr, "w:sz", val="28")
    _set(rpr, "w:szCs", val="28")
    _set(rpr, "w:lang", val="vi-VN", eastAsia="en-US", bidi="ar-SA")
    ppr = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr"))
    _set(ppr, "w:spacing", after="0", line="240", lineRule="auto")
    # Every style that names fonts names Times New Roman (headings otherwise use the theme's)
    # (table styles' conditional formats included), and text is black: no theme colours.
    for fonts in list(styles.element.iter(qn("w:rFonts"))):
        _fonts(fonts.getparent())
    for color in list(styles.element.iter(qn("w:color"))):
        color.getparent().remove(color)

    normal = styles["Normal"]
    normal.font.name = FONT
    _fonts(normal.element.get_or_add_rPr())
    normal.font.size = Pt(14)
    fmt = normal.paragraph_format
    fmt.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    fmt.first_line_indent = BODY_INDENT
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(6)
    fmt.line_spacing = 1.2
    fmt.widow_control = True

    def paragraph_style(name: str, size: float, **opts) -> None:
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = normal
        style.font.size = Pt(size)
        style.font.bold = opts.get("bold")
        pf = style.paragraph_format
        pf.first_line_indent = opts.get("indent", Mm(0))
        pf.alignment = opts.get("align", WD_ALIGN_PARAGRAPH.CENTER)
        pf.space_before = Pt(opts.get("before", 0))
        pf.space_after = Pt(opts.get("after", 0))
        pf.line_spacing = opts.get("line", 1.0)
        pf.keep_with_next = opts.get("keep", False)

    paragraph_style(HEADER_TEXT, 13)
    paragraph_style(TABLE_TEXT, 12, before=2, after=2, align=WD_ALIGN_PARAGRAPH.LEFT)
    paragraph_style(
        SECTION_HEADING,
        14,
        bold=True,
        indent=BODY_INDENT,
        align=WD_ALIGN_PARAGRAPH.JUSTIFY,
        after=6,
        line=1.2,
        keep=True,
        before=3,
    )
    # Tag-only paragraphs ({%p for %}) vanish when rendered; small and grey-free so the clerk sees them.
    paragraph_style(TAG, 10, align=WD_ALIGN_PARAGRAPH.LEFT)

    header = styles["Header"]
    header.font.size = Pt(13)
    header.paragraph_format.first_line_indent = Mm(0)
    header.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    header.paragraph_format.space_after = Pt(0)
    header.paragraph_format.line_spacing = 1.0


def _page(section, *, landscape: bool = False) -> None:
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Mm(PAGE_H), Mm(PAGE_W)
        section.left_margin, section.right_margin = Mm(LANDSCAPE_LEFT), Mm(LANDSCAPE_RIGHT)
    else:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(PAGE_W), Mm(PAGE_H)
        section.left_margin, section.right_margin = Mm(MARGIN_LEFT), Mm(MARGIN_RIGHT)
    section.top_margin, section.bottom_margin = Mm(MARGIN_TOP), Mm(MARGIN_BOTTOM)
    section.header_distance = Mm(10)
    section.footer_distance = Mm(10)


def _page_numbers(section) -> None:
    """Page number centred in the top margin, from the second page (Decree 30, Appendix I)."""
    section.different_first_page_header_footer = True
    section.first_page_header.is_linked_to_previous = False
    paragraph = section.header.paragraphs[0]
    paragraph.style = "Header"
    run = paragraph.add_run()
    run.font.size = Pt(13)
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "2"), ("end", None)):
        if kind:
            field = OxmlElement("w:fldChar")
            field.set(qn("w:fldCharType"), kind)
            run._r.append(field)
        elif text.strip() == "PAGE":
            instr = OxmlElement("w:instrText")
            instr.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
            instr.text = text
            run._r.append(instr)
        else:
            shown = OxmlElement("w:t")
            shown.text = text
            run._r.append(shown)


def new_document(*, landscape: bool = False) -> DocumentObject:
    document = Document()
    _setup_styles(document)
    section = document.sections[0]
    _page(section, landscape=landscape)
    _page_numbers(section)
    props = document.core_properties
    props.author = "thidua"
    props.last_modified_by = "thidua"
    props.title = ""
    props.comments = "Mẫu văn bản của thidua: sửa câu chữ trong Word, giữ nguyên các thẻ trong ngoặc nhọn."
    props.revision = 1
    import datetime as dt

    fixed = dt.datetime(2024, 1, 1, 0, 0, 0)
    props.created = fixed
    props.modified = fixed
    # The default body holds one empty paragraph; start from nothing.
    body = document.element.body
    for paragraph in list(body.iter(qn("w:p"))):
        body.remove(paragraph)
    return document


# ------------------------------------------------------------------------------------------------
# Paragraph builders


@dataclass(frozen=True)
class Run:
    text: str
    bold: bool | None = None
    italic: bool | None = None
    size: float | None = None


def _runs(paragraph: Paragraph, parts: Sequence[Run | str], size: float | None, bold, italic) -> Paragraph:
    for part in parts:
        spec = part if isinstance(part, Run) else Run(part)
        run = paragraph.add_run(spec.text)
        run.bold = spec.bold if spec.bold is not None else bold
        run.italic = spec.italic if spec.italic is not None else italic
        if spec.size or size:
            run.font.size = Pt(spec.size or size)
    return paragraph


def para(
    container,
    *parts: Run | str,
    style: str = BODY,
    size: float | None = None,
    bold: bool | None = None,
    italic: bool | None = None,
    align=None,
    indent: float | None = None,
    before: float | None = None,
    after: float | None = None,
    line: float | None = None,
    keep: bool | None = None,
    left: float | None = None,
    right: float | None = None,
    exact: float | None = None,
    reuse: bool = False,
) -> Paragraph:
    if reuse and isinstance(container, _Cell) and not container.paragraphs[0].text:
        paragraph = container.paragraphs[0]
        paragraph.style = style
    else:
        paragraph = container.add_paragraph(style=style)
    fmt = paragraph.paragraph_format
    if align is not None:
        fmt.alignment = align
    if indent is not None:
        fmt.first_line_indent = Mm(indent)
    if before is not None:
        fmt.space_before = Pt(before)
    if after is not None:
        fmt.space_after = Pt(after)
    if line is not None:
        fmt.line_spacing = line
    if exact is not None:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(exact)
    if keep is not None:
        fmt.keep_with_next = keep
    if left is not None:
        fmt.left_indent = Mm(left)
    if right is not None:
        fmt.right_indent = Mm(right)
    return _runs(paragraph, parts, size, bold, italic)


def tag(container, text: str) -> Paragraph:
    """A paragraph holding only a {%p %} tag: docxtpl removes the whole paragraph when rendering."""
    return para(container, text, style=TAG)


def rule(container, width_mm: float, column_mm: float, *, before: float = 0, after: float = 0) -> Paragraph:
    """A short centred horizontal rule: the top border of an empty, narrow, 1 pt high paragraph."""
    side = max((column_mm - width_mm) / 2, 0)
    paragraph = para(
        container, style=HEADER_TEXT, left=side, right=side, before=before, after=after, exact=1, size=1
    )
    _border(paragraph, "top", size=6, space=0)
    return paragraph


def heading(container, text: str) -> Paragraph:
    return para(container, text, style=SECTION_HEADING)


# ------------------------------------------------------------------------------------------------
# Tables


@dataclass(frozen=True)
class Row:
    """One table row: cells' texts; a single text spans every column (group headings, tag rows)."""

    cells: tuple[str, ...]
    header: bool = False
    bold: bool = False
    tag: bool = False


def tag_row(text: str) -> Row:
    return Row((text,), tag=True)


def data_table(
    container,
    widths_mm: Sequence[float],
    rows: Sequence[Row],
    *,
    aligns: str,
    size: float = 12,
) -> Table:
    """A bordered table: header rows repeat on each page, no row breaks across pages."""
    table = container.add_table(rows=len(rows), cols=len(widths_mm))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _table_borders(table, "single")
    _cell_margins(table, 1.0 if size <= 10 else 1.2, 0)
    _fixed_widths(table, widths_mm)
    align_of = {
        "l": WD_ALIGN_PARAGRAPH.LEFT,
        "c": WD_ALIGN_PARAGRAPH.CENTER,
        "r": WD_ALIGN_PARAGRAPH.RIGHT,
        "j": WD_ALIGN_PARAGRAPH.JUSTIFY,
    }
    for spec, row in zip(rows, table.rows, strict=True):
        _row_flags(row, header=spec.header)
        cells = row.cells
        if len(spec.cells) == 1 and len(cells) > 1:
            merged = cells[0].merge(cells[-1])
            texts, targets = spec.cells, [merged]
        else:
            texts, targets = spec.cells, cells
        for i, (text, cell) in enumerate(zip(texts, targets, strict=True)):
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            if spec.tag:
                align = WD_ALIGN_PARAGRAPH.LEFT
                font = 10
            elif spec.header:
                align = WD_ALIGN_PARAGRAPH.CENTER
                font = size
            elif len(spec.cells) == 1:
                align = WD_ALIGN_PARAGRAPH.LEFT
                font = size
            else:
                align = align_of[aligns[i]]
                font = size
            para(
                cell,
                text,
                style=TABLE_TEXT,
                size=font,
                bold=spec.header or spec.bold or None,
                align=align,
                reuse=True,
            )
    return table


def layout_table(container, widths_mm: Sequence[float]) -> Table:
    """A borderless table used for layout: the two-column header and the signature block."""
    table = container.add_table(rows=1, cols=len(widths_mm))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _table_borders(table, "nil")
    _cell_margins(table, CELL_MARGIN)
    _fixed_widths(table, widths_mm)
    return table


# ------------------------------------------------------------------------------------------------
# Blocks shared by the documents


def header_block(document: DocumentObject, number_variable: str | None, *, text_w: float = TEXT_W) -> None:
    """Decree 30 header: issuing body left (with Số), Quốc hiệu and Tiêu ngữ right, then place and date."""
    right_w = HEADER_RIGHT_W + (text_w - TEXT_W)
    table = layout_table(document, (HEADER_LEFT_W, right_w))
    left, right = table.rows[0].cells
    inner_left, inner_right = HEADER_LEFT_W - 2 * CELL_MARGIN, right_w - 2 * CELL_MARGIN
    para(left, "{{ parent_body }}", style=HEADER_TEXT, size=13, reuse=True)
    para(left, "{{ issuing_body }}", style=HEADER_TEXT, size=13, bold=True)
    rule(left, ISSUER_RULE_W, inner_left, before=2)
    if number_variable:
        para(left, f"Số: {{{{ {number_variable} }}}}", style=HEADER_TEXT, size=13, before=7)
    para(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", style=HEADER_TEXT, size=13, bold=True, reuse=True)
    side = (inner_right - MOTTO_W) / 2
    motto = para(
        right, "Độc lập - Tự do - Hạnh phúc", style=HEADER_TEXT, size=14, bold=True, left=side, right=side
    )
    _border(motto, "bottom", size=6, space=1)
    para(right, "{{ place_date }}", style=HEADER_TEXT, size=14, italic=True, before=6)


def title_block(document: DocumentObject, kind: str, subject: str, *, text_w: float = TEXT_W) -> None:
    para(document, kind, style=HEADER_TEXT, size=14, bold=True, before=18)
    para(document, subject, style=HEADER_TEXT, size=14, bold=True, before=0, line=1.1)
    rule(document, SUBJECT_RULE_W, text_w, before=5, after=12)


def signature_block(
    document: DocumentObject, *, text_w: float = TEXT_W, recipients: str = "recipients"
) -> None:
    """Nơi nhận (bold italic 12, list 11) on the left; the signer's title and name on the right.

    The block never starts a page alone, nor splits (Decree 30 drafting): its row cannot break across
    pages, and the document's closing paragraph, just before it, keeps with it.
    """
    closing = Paragraph(document.element.body.findall(qn("w:p"))[-1], document._body).paragraph_format
    closing.keep_with_next = closing.keep_together = True
    left_w = 80
    table = layout_table(document, (left_w, text_w - left_w))
    _row_flags(table.rows[0])
    left, right = table.rows[0].cells
    para(left, Run("Nơi nhận:", bold=True, italic=True), style=TABLE_TEXT, size=12, reuse=True, before=6)
    tag(left, f"{{%p for r in {recipients} %}}")
    para(left, "- {{ r }}{{ '.' if loop.last else ';' }}", style=TABLE_TEXT, size=11, before=0, after=0)
    tag(left, "{%p endfor %}")
    para(right, "{{ signer_heading }}", style=HEADER_TEXT, size=14, bold=True, reuse=True, before=6)
    for _ in range(4):
        para(right, "", style=HEADER_TEXT, size=14, line=1.2)
    para(right, "{{ signer_name }}", style=HEADER_TEXT, size=14, bold=True)


def body(document: DocumentObject, *parts: Run | str, **opts) -> Paragraph:
    return para(document, *parts, **opts)


def note(document: DocumentObject, text: str) -> Paragraph:
    return para(document, text, italic=True, size=13)


# ------------------------------------------------------------------------------------------------
# The three documents


def build_report() -> DocumentObject:
    """Báo cáo kết quả thực hiện phong trào thi đua (sơ kết hằng tháng / tổng kết)."""
    doc = new_document()
    header_block(doc, "report_number")
    title_block(doc, "BÁO CÁO", "{{ report_subject }}")
    body(
        doc,
        "Thực hiện {{ launch_letter }}; căn cứ báo cáo của các phòng, ban, đơn vị, {{ issuing_body_name }} "
        "báo cáo {{ report_scope }} như sau:",
    )
    tag(doc, "{%p if data_gap_note %}")
    body(doc, "{{ data_gap_note }}")
    tag(doc, "{%p endif %}")
    _report_targets(doc)
    _report_submissions(doc)
    _report_target_table(doc)
    _report_unit_table(doc)
    _report_highlights(doc)
    _report_unmet(doc)
    _report_comparison(doc)
    _report_statistics(doc)
    _report_proposals(doc)
    signature_block(doc)
    _finish(doc)
    return doc


def _report_targets(doc: DocumentObject) -> None:
    """I. The campaign's content and targets."""
    heading(doc, "I. NỘI DUNG, CHỈ TIÊU THI ĐUA")
    body(
        doc,
        "Thời gian thi đua {{ campaign_span }}. Đối tượng thi đua: "
        "tập thể các phòng, ban, đơn vị và toàn thể "
        "cán bộ, công chức, viên chức, người lao động. Chỉ tiêu thi đua cụ thể:",
    )
    tag(doc, "{%p for t in targets %}")
    body(doc, "{{ t.no }}. {{ t.label }}.")
    tag(doc, "{%p endfor %}")


def _report_submissions(doc: DocumentObject) -> None:
    """II.1. Who reported, late, with errors, not at all."""
    heading(doc, "II. KẾT QUẢ THỰC HIỆN")
    heading(doc, "1. Tình hình gửi báo cáo")
    body(
        doc,
        "Kỳ báo cáo tháng {{ period_label }} (hạn gửi {{ due_date }}): "
        "{{ units_reporting }}/{{ units_total }} đơn vị gửi báo cáo hợp lệ, trong đó {{ units_on_time }} "
        "đơn vị gửi đúng hạn, {{ units_late }} đơn vị gửi muộn"
        "{% if units_with_errors != '0' %}; {{ units_with_errors }} đơn vị gửi báo cáo có lỗi chưa sử "
        "dụng được{% endif %}"
        "{% if units_missing != '0' %}; {{ units_missing }} đơn vị chưa gửi báo cáo{% endif %}.",
    )
    tag(doc, "{%p if late_units %}")
    body(doc, "- Đơn vị gửi muộn: {{ late_units }}.")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if error_units %}")
    body(doc, "- Đơn vị gửi báo cáo có lỗi, cần sửa và gửi lại: {{ error_units }}.")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if missing_units %}")
    body(doc, "- Đơn vị chưa gửi báo cáo: {{ missing_units }}.")
    tag(doc, "{%p endif %}")


def _report_target_table(doc: DocumentObject) -> None:
    """II.2. Each target's result against its threshold and last month."""
    heading(doc, "2. Kết quả thực hiện các chỉ tiêu thi đua")
    body(doc, "{{ targets_summary }}, cụ thể như sau:", keep=True)
    data_table(
        doc,
        (12, 73, 22, 19, 19, 20),
        [
            Row(("STT", "Chỉ tiêu", "Kết quả", "Tỷ lệ", "Tháng trước", "Đánh giá"), header=True),
            tag_row("{%tr for t in targets %}"),
            Row(
                (
                    "{{ t.no }}",
                    "{{ t.label }}",
                    "{{ t.counts }}",
                    "{{ t.result }}",
                    "{{ t.previous }}",
                    "{{ t.status }}",
                )
            ),
            tag_row("{%tr endfor %}"),
        ],
        aligns="clcccc",
    )
    para(doc, "", after=0)


def _report_unit_table(doc: DocumentObject) -> None:
    """II.3. The office totals and a row per unit."""
    heading(doc, "3. Kết quả của các phòng, ban, đơn vị")
    body(
        doc,
        "Tổng số cán bộ, công chức, viên chức, người lao động trong các báo cáo: {{ totals.staff }} người; "
        "xếp loại tháng: {{ totals.ratings }}; {{ totals.registered }} người đăng ký thi đua; "
        "{{ totals.social }} người tham gia hoạt động xã hội; {{ totals.initiatives }} sáng kiến, giải pháp; "
        "ủng hộ đồng bào bị thiên tai {{ totals.donation }}; "
        "{{ totals.support_activities }} hoạt động giúp đỡ xã nghèo, xây dựng nông thôn mới; "
        "hoàn thành {{ totals.tasks_completed }}/{{ totals.tasks_assigned }} nhiệm vụ cấp trên giao.",
        keep=True,
    )
    data_table(
        doc,
        (10, 41, 17, 12, 13, 13, 13, 12, 15, 19),
        [
            Row(
                (
                    "STT",
                    "Đơn vị",
                    "Báo cáo",
                    "Số người",
                    "Đăng ký thi đua",
                    "HTT NV trở lên",
                    "Tham gia HĐXH",
                    "Sáng kiến",
                    "Nhiệm vụ HT/giao",
                    "Tự xếp loại",
                ),
                header=True,
            ),
            tag_row("{%tr for u in unit_rows %}"),
            Row(
                (
                    "{{ u.no }}",
                    "{{ u.name }}",
                    "{{ u.status }}",
                    "{{ u.staff }}",
                    "{{ u.registered }}",
                    "{{ u.good_or_better }}",
                    "{{ u.social }}",
                    "{{ u.initiatives }}",
                    "{{ u.tasks }}",
                    "{{ u.self_rating }}",
                )
            ),
            tag_row("{%tr endfor %}"),
            Row(
                (
                    "",
                    "Tổng cộng",
                    "{{ totals.units_reporting }}/{{ units_total }}",
                    "{{ totals.staff }}",
                    "{{ totals.registered }}",
                    "{{ totals.good_or_better }}",
                    "{{ totals.social }}",
                    "{{ totals.initiatives }}",
                    "{{ totals.tasks }}",
                    "",
                ),
                bold=True,
            ),
        ],
        aligns="clcccccccc",
        size=10,
    )
    tag(doc, "{%p if unit_rows_omitted %}")
    note(doc, "{{ unit_rows_omitted }}")
    tag(doc, "{%p endif %}")
    para(doc, "", after=0)


def _report_highlights(doc: DocumentObject) -> None:
    """II.4. What units reported as notable."""
    heading(doc, "4. Kết quả nổi bật")
    tag(doc, "{%p for h in highlights %}")
    body(doc, Run("- {{ h.unit }}: ", italic=True), "{{ h.text }}")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p if highlights_omitted %}")
    note(doc, "{{ highlights_omitted }}")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if not highlights %}")
    body(doc, "Các đơn vị chưa nêu kết quả nổi bật trong kỳ.")
    tag(doc, "{%p endif %}")


def _report_unmet(doc: DocumentObject) -> None:
    """III. Targets not met, not yet decidable, or not applicable."""
    heading(doc, "III. NHỮNG CHỈ TIÊU CHƯA ĐẠT VÀ TRÁCH NHIỆM KHẮC PHỤC")
    tag(doc, "{%p if all_targets_met %}")
    body(doc, "Tất cả các chỉ tiêu thi đua đều đạt trong tháng {{ period_label }}.")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p for m in unmet_targets %}")
    body(
        doc,
        Run("- {{ m.label }}: ", bold=True),
        "đạt {{ m.result }} ({{ m.counts }}), chưa đạt yêu cầu {{ m.threshold }}.",
    )
    tag(doc, "{%p if m.units %}")
    body(doc, "Đơn vị cần khắc phục: {{ m.units }}.")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if m.people %}")
    body(doc, "Cá nhân chưa đạt: {{ m.people }}.")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p for m in pending_targets %}")
    body(doc, Run("- {{ m.label }}: ", bold=True), "chưa đủ số liệu để kết luận ({{ m.coverage }}).")
    tag(doc, "{%p if m.units %}")
    body(doc, "Đơn vị đã báo cáo nhưng chưa đạt yêu cầu {{ m.threshold }}: {{ m.units }}.")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p for m in inapplicable_targets %}")
    body(doc, Run("- {{ m.label }}: ", bold=True), "không phát sinh trong tháng {{ period_label }}.")
    tag(doc, "{%p endfor %}")


def _report_comparison(doc: DocumentObject) -> None:
    """IV. The month against the previous one."""
    heading(doc, "IV. SO SÁNH VỚI THÁNG TRƯỚC")
    tag(doc, "{%p if has_previous %}")
    body(doc, "So với tháng {{ previous_period_label }}, các chỉ số chính thay đổi như sau:", keep=True)
    data_table(
        doc,
        (12, 63, 29, 29, 32),
        [
            Row(
                (
                    "STT",
                    "Nội dung",
                    "Tháng {{ previous_period_label }}",
                    "Tháng {{ period_label }}",
                    "Thay đổi",
                ),
                header=True,
            ),
            tag_row("{%tr for c in changes %}"),
            Row(("{{ c.no }}", "{{ c.label }}", "{{ c.previous }}", "{{ c.current }}", "{{ c.change }}")),
            tag_row("{%tr endfor %}"),
        ],
        aligns="clccc",
    )
    para(doc, "", after=0)
    tag(doc, "{%p else %}")
    body(doc, "Tháng {{ period_label }} là tháng đầu tiên của đợt thi đua, chưa có số liệu để so sánh.")
    tag(doc, "{%p endif %}")


def _report_statistics(doc: DocumentObject) -> None:
    """The closing report's statistics by gender, ethnic group, category and post (breakdowns)."""
    tag(doc, "{%p if is_final and stat_rows %}")
    body(
        doc,
        "Thống kê cán bộ, công chức, viên chức, người lao động tháng {{ period_label }} và số cá nhân "
        "được đề nghị khen thưởng theo giới tính, dân tộc, đối tượng, chức vụ:",
        keep=True,
    )
    data_table(
        doc,
        (12, 83, 35, 35),
        [
            Row(("STT", "Nội dung", "Số người", "Đề nghị khen thưởng"), header=True),
            tag_row("{%tr for s in stat_rows %}"),
            Row(("{{ s.no }}", "{{ s.label }}", "{{ s.staff }}", "{{ s.proposed }}")),
            tag_row("{%tr endfor %}"),
        ],
        aligns="clcc",
    )
    note(doc, "“Không có số liệu”: ô để trống, hoặc đơn vị dùng biểu mẫu phiên bản cũ chưa có cột này.")
    tag(doc, "{%p endif %}")


def _report_proposals(doc: DocumentObject) -> None:
    """V. Proposals and requests; the closing line."""
    heading(doc, "V. ĐỀ XUẤT, KIẾN NGHỊ")
    tag(doc, "{%p if is_final and has_proposals %}")
    body(
        doc,
        "Căn cứ kết quả thực hiện {{ campaign_short_name }} và tiêu "
        "chuẩn khen thưởng, {{ issuing_body_name }} "
        "đề nghị {{ award_phrase }} cho {{ proposal_counts }} có "
        "thành tích xuất sắc (có Tờ trình và danh sách "
        "kèm theo).",
    )
    tag(doc, "{%p elif has_proposals %}")
    body(
        doc,
        "Theo kết quả đến tháng {{ period_label }}, có {{ proposal_counts }} đang đạt tiêu chuẩn "
        "{{ award_names }}; việc xét khen thưởng được thực hiện khi tổng kết đợt thi đua.",
    )
    tag(doc, "{%p else %}")
    body(
        doc, "Đến tháng {{ period_label }}, chưa có tập thể, cá nhân nào đạt đủ tiêu chuẩn {{ award_names }}."
    )
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if unmet_targets or missing_units or error_units %}")
    body(
        doc,
        "Đề nghị thủ trưởng các phòng, ban, đơn vị chưa đạt chỉ tiêu chỉ đạo khắc phục ngay; các đơn vị chưa "
        "gửi báo cáo hoặc báo cáo có lỗi hoàn thiện và gửi lại về {{ clerk_unit_name }} để tổng hợp.",
    )
    tag(doc, "{%p endif %}")
    body(doc, "Trên đây là báo cáo {{ report_scope }} của {{ issuing_body_name }}./.")


def _list_section(doc: DocumentObject) -> None:
    """Danh sách đề nghị khen thưởng, on landscape pages of its own section."""
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    _page(section, landscape=True)
    section.different_first_page_header_footer = False
    para(doc, "DANH SÁCH", style=HEADER_TEXT, size=14, bold=True)
    para(
        doc,
        "Đề nghị {{ award_phrase }} cho các tập thể, cá nhân có thành tích xuất sắc",
        style=HEADER_TEXT,
        size=14,
        bold=True,
    )
    para(doc, "trong {{ campaign_short_name }}", style=HEADER_TEXT, size=14, bold=True)
    para(
        doc,
        "(Kèm theo Tờ trình số {{ proposal_number }} ngày {{ issue_date }} của {{ issuing_body_name }})",
        style=HEADER_TEXT,
        size=14,
        italic=True,
    )
    rule(doc, SUBJECT_RULE_W, LANDSCAPE_TEXT_W, before=6, after=10)
    widths = (12, 48, 32, 45, 36, 64, 20)
    data_table(
        doc,
        widths,
        [
            Row(
                (
                    "STT",
                    "Họ và tên / Tên tập thể",
                    "Chức vụ",
                    "Đơn vị",
                    "Hình thức đề nghị",
                    "Tóm tắt thành tích",
                    "Ghi chú",
                ),
                header=True,
            ),
            Row(("I. TẬP THỂ",), bold=True),
            tag_row("{%tr for c in collectives %}"),
            Row(
                (
                    "{{ c.no }}",
                    "{{ c.name }}",
                    "{{ c.position }}",
                    "{{ c.unit }}",
                    "{{ c.award }}",
                    "{{ c.achievement }}",
                    "{{ c.note }}",
                )
            ),
            tag_row("{%tr endfor %}"),
            tag_row("{%tr if not collectives %}"),
            Row(("Không có tập thể đủ tiêu chuẩn đề nghị.",)),
            tag_row("{%tr endif %}"),
            Row(("II. CÁ NHÂN",), bold=True),
            tag_row("{%tr for p in individuals %}"),
            Row(
                (
                    "{{ p.no }}",
                    "{{ p.name }}",
                    "{{ p.position }}",
                    "{{ p.unit }}",
                    "{{ p.award }}",
                    "{{ p.achievement }}",
                    "{{ p.note }}",
                )
            ),
            tag_row("{%tr endfor %}"),
            tag_row("{%tr if not individuals %}"),
            Row(("Không có cá nhân đủ tiêu chuẩn đề nghị.",)),
            tag_row("{%tr endif %}"),
        ],
        aligns="cllllll",
    )
    para(doc, Run("Tổng số: {{ proposal_counts }}./.", bold=True), before=8, indent=0)


def build_proposal() -> DocumentObject:
    """Tờ trình đề nghị khen thưởng, with the Danh sách on landscape pages."""
    doc = new_document()
    header_block(doc, "proposal_number")
    title_block(
        doc,
        "TỜ TRÌNH",
        "Về việc đề nghị {{ award_phrase }} cho các tập thể, cá nhân có thành tích xuất sắc trong "
        "{{ campaign_short_name }}",
    )
    para(doc, "Kính gửi: {{ deciding_authority }}.", style=HEADER_TEXT, size=14, after=12)
    tag(doc, "{%p for b in legal_basis %}")
    body(doc, "Căn cứ {{ b }};", italic=True)
    tag(doc, "{%p endfor %}")
    body(doc, "Căn cứ {{ launch_letter }};", italic=True)
    body(
        doc,
        "Căn cứ kết quả thực hiện phong trào thi đua của các phòng, "
        "ban, đơn vị đến tháng {{ period_label }},",
        italic=True,
    )
    body(doc, "{{ issuing_body_name }} kính trình {{ deciding_authority }} như sau:")
    heading(doc, "1. Kết quả thực hiện phong trào thi đua")
    body(
        doc,
        "{{ campaign_name }} được triển khai {{ campaign_span }} tới {{ units_total }} phòng, ban, đơn vị. "
        "Đến tháng {{ period_label }}, có {{ units_reporting }}/{{ units_total }} đơn vị gửi báo cáo. "
        "{{ targets_summary }}:",
    )
    tag(doc, "{%p for t in targets %}")
    body(doc, "- {{ t.label }}: {{ t.assessment }}.")
    tag(doc, "{%p endfor %}")
    heading(doc, "2. Đề nghị khen thưởng")
    tag(doc, "{%p if has_proposals %}")
    body(
        doc,
        "Căn cứ tiêu chuẩn khen thưởng ({{ rule_set_name }}), trên cơ sở kết quả bình xét, "
        "{{ issuing_body_name }} đề nghị {{ award_phrase }} cho ",
        Run("{{ proposal_counts }}", bold=True),
        " có thành tích xuất sắc trong {{ campaign_short_name }} (có danh sách kèm theo).",
    )
    tag(doc, "{%p else %}")
    body(doc, "Chưa có tập thể, cá nhân nào đạt đủ tiêu chuẩn {{ award_names }} để đề nghị khen thưởng.")
    tag(doc, "{%p endif %}")
    body(doc, "Kính trình {{ deciding_authority }} xem xét, quyết định./.")
    signature_block(doc)
    _list_section(doc)
    _finish(doc)
    return doc


def _explanation_table(doc: DocumentObject, name_header: str, rows: str, name_cell: str) -> None:
    """One table of the giải trình: a subject a row, with the award weighed and every criterion's reason."""
    data_table(
        doc,
        (12, 45, 45, 35, 27, 93),
        [
            Row(
                ("STT", name_header, "Thành tích", "Hình thức xét", "Kết quả", "Các tiêu chí và lý do"),
                header=True,
            ),
            tag_row(f"{{%tr for e in {rows} %}}"),
            Row(
                (
                    "{{ e.no }}",
                    name_cell,
                    "{{ e.achievement }}",
                    "{{ e.award }}",
                    "{{ e.status }}",
                    "{{ e.reasons }}",
                )
            ),
            tag_row("{%tr endfor %}"),
        ],
        aligns="clllll",
        size=11,
    )


def build_explanation() -> DocumentObject:
    """Giải trình xét khen thưởng: for the clerk, every subject with each rule's decision and why."""
    doc = new_document(landscape=True)
    header_block(doc, None, text_w=LANDSCAPE_TEXT_W)
    title_block(
        doc,
        "GIẢI TRÌNH XÉT KHEN THƯỞNG",
        "{{ campaign_name }}: kết quả đến tháng {{ period_label }}",
        text_w=LANDSCAPE_TEXT_W,
    )
    body(doc, "Bộ tiêu chuẩn áp dụng: {{ rule_set_name }} (áp dụng {{ rule_set_span }}).")
    body(doc, "Căn cứ: {{ legal_basis_text }}.")
    body(
        doc,
        "Số liệu xét: {{ months_count }} tháng ({{ months_to_date }}). "
        "Kết quả: đề nghị {{ proposal_counts }}; {{ explanation_summary }}.",
    )
    body(
        doc,
        "Mỗi tập thể, cá nhân được xét theo từng tiêu chí của từng hình thức khen thưởng; tháng không có "
        "báo cáo được tính là chưa đạt các tiêu chí \u201chằng tháng\u201d. Một thành tích chỉ đề nghị "
        "một hình thức khen thưởng (hình thức cao nhất đạt được).",
    )
    heading(doc, "I. TẬP THỂ")
    _explanation_table(doc, "Tên tập thể", "explanation_collectives", "{{ e.name }}")
    para(doc, "", after=0)
    heading(doc, "II. CÁ NHÂN")
    _explanation_table(doc, "Họ và tên, đơn vị", "explanation_individuals", "{{ e.name }}\n{{ e.unit }}")
    tag(doc, "{%p if explanation_omitted %}")
    note(doc, "{{ explanation_omitted }}")
    tag(doc, "{%p endif %}")
    para(doc, Run("Người lập: {{ clerk_unit_name }}.", italic=True), before=12)
    _finish(doc)
    return doc


def build_decision() -> DocumentObject:
    """Quyết định khen thưởng (Decree 30, form of a decision), with the approved Danh sách attached."""
    doc = new_document()
    header_block(doc, "decision_number")
    title_block(doc, "QUYẾT ĐỊNH", "{{ decision_subject }}")
    para(doc, "{{ authority_line }}", style=HEADER_TEXT, size=14, bold=True, after=12)
    tag(doc, "{%p for b in legal_basis %}")
    body(doc, "Căn cứ {{ b }};", italic=True)
    tag(doc, "{%p endfor %}")
    body(doc, "Căn cứ {{ launch_letter }};", italic=True)
    body(doc, "Xét đề nghị của {{ proposer }} tại Tờ trình số {{ proposal_number }}.", italic=True)
    para(doc, "QUYẾT ĐỊNH:", style=HEADER_TEXT, size=14, bold=True, before=6, after=12)
    body(
        doc,
        Run("Điều 1. ", bold=True),
        "{{ decision_award_text }}, đã có thành tích xuất sắc trong {{ campaign_short_name }} "
        "(có danh sách kèm theo).",
    )
    tag(doc, "{%p if has_reward %}")
    body(doc, Run("Điều 2. ", bold=True), "{{ reward_text }}")
    tag(doc, "{%p endif %}")
    body(
        doc,
        Run("{{ executors_article }}. ", bold=True),
        "{{ executors }} căn cứ Quyết định thi hành./.",
    )
    signature_block(doc, recipients="decision_recipients")
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    _page(section, landscape=True)
    section.different_first_page_header_footer = False
    para(doc, "DANH SÁCH", style=HEADER_TEXT, size=14, bold=True)
    para(
        doc,
        "{{ decision_list_title }}",
        style=HEADER_TEXT,
        size=14,
        bold=True,
    )
    para(
        doc,
        "(Kèm theo Quyết định số {{ decision_number }} ngày {{ issue_date }} của {{ signer_title_words }})",
        style=HEADER_TEXT,
        size=14,
        italic=True,
    )
    rule(doc, SUBJECT_RULE_W, LANDSCAPE_TEXT_W, before=6, after=10)
    data_table(
        doc,
        (12, 60, 40, 55, 40, 50),
        [
            Row(("STT", "Họ và tên / Tên tập thể", "Chức vụ", "Đơn vị", "Hình thức khen thưởng", "Ghi chú"),
                header=True),
            tag_row("{%tr if collectives %}"),
            Row(("I. TẬP THỂ",), bold=True),
            tag_row("{%tr endif %}"),
            tag_row("{%tr for c in collectives %}"),
            Row(
                (
                    "{{ c.no }}",
                    "{{ c.name }}",
                    "{{ c.position }}",
                    "{{ c.unit }}",
                    "{{ c.award }}",
                    "{{ c.note }}",
                )
            ),
            tag_row("{%tr endfor %}"),
            tag_row("{%tr if individuals %}"),
            Row(("{{ individuals_heading }}",), bold=True),
            tag_row("{%tr endif %}"),
            tag_row("{%tr for p in individuals %}"),
            Row(
                (
                    "{{ p.no }}",
                    "{{ p.name }}",
                    "{{ p.position }}",
                    "{{ p.unit }}",
                    "{{ p.award }}",
                    "{{ p.note }}",
                )
            ),
            tag_row("{%tr endfor %}"),
        ],
        aligns="clllll",
    )  # fmt: skip
    para(doc, Run("Tổng số: {{ proposal_counts }}./.", bold=True), before=8, indent=0)
    _finish(doc)
    return doc


# The Giấy khen's texts on a pre-printed blank: each a paragraph of its own style, framed at a position
# of the page. The program sets the frames from config.toml (decision.positions) when it renders, so
# the template's positions are only the defaults; the styles carry the fonts the clerk may change.
CERTIFICATE_FIELDS = {
    "name": ("GK Name", "{{ a.name }}", 22, True, False),
    "unit": ("GK Unit", "{{ a.unit_line }}", 16, False, False),
    "achievement": ("GK Achievement", "{{ a.achievement_line }}", 16, False, True),
    "decision": ("GK Decision", "{{ a.decision_line }}", 12, False, True),
    "place_date": ("GK PlaceDate", "{{ a.place_date }}", 14, False, True),
    "signer": ("GK Signer", "{{ a.signer_block }}", 14, True, False),
}


def frame(paragraph: Paragraph, x: float, y: float, width: float, height: float) -> None:
    """Place a paragraph in a frame at (x, y) mm from the page's top left corner, width x height mm."""
    ppr = paragraph._p.get_or_add_pPr()
    old = ppr.find(qn("w:framePr"))
    if old is not None:
        ppr.remove(old)
    element = OxmlElement("w:framePr")
    twips = {"w": width, "h": height, "x": x, "y": y}
    for key, value in twips.items():
        element.set(qn(f"w:{key}"), str(round(value * 1440 / 25.4)))
    element.set(qn("w:hRule"), "exact")
    element.set(qn("w:hAnchor"), "page")
    element.set(qn("w:vAnchor"), "page")
    element.set(qn("w:wrap"), "around")
    ppr.insert_element_before(element, *FRAMEPR_SUCCESSORS)


def _certificate_page(*, plain: bool) -> DocumentObject:
    doc = new_document(landscape=True)
    section = doc.sections[0]
    section.different_first_page_header_footer = False
    for part in (section.header, section.first_page_header):
        for paragraph in part.paragraphs:
            for run in list(paragraph.runs):
                run._r.getparent().remove(run._r)
    section.top_margin = section.bottom_margin = Mm(12)
    section.left_margin = section.right_margin = Mm(15)
    return doc


def build_certificate() -> DocumentObject:
    """Giấy khen on the office's pre-printed blanks: only the texts, framed at positions from config."""
    from processor.config import CertificatePositions

    doc = _certificate_page(plain=False)
    positions = CertificatePositions()
    styles = doc.styles
    for style_name, _, size, bold, italic in CERTIFICATE_FIELDS.values():
        style = styles.add_style(style_name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = styles[BODY]
        style.font.size = Pt(size)
        style.font.bold = bold
        style.font.italic = italic
        pf = style.paragraph_format
        pf.first_line_indent = Mm(0)
        pf.alignment = WD_ALIGN_PARAGRAPH.CENTER
        pf.space_before = pf.space_after = Pt(0)
        pf.line_spacing = 1.0
    tag(doc, "{%p for a in certificates %}")
    for field_name, (style_name, text, *_) in CERTIFICATE_FIELDS.items():
        box = getattr(positions, field_name)
        frame(para(doc, text, style=style_name), box.x, box.y, box.width, box.height)
    tag(doc, "{%p if not loop.last %}")
    para(doc, "", style=TAG).add_run().add_break(WD_BREAK.PAGE)
    tag(doc, "{%p endif %}")
    tag(doc, "{%p endfor %}")
    # A paragraph outside every frame: LibreOffice loses the place of a document's last frames without one.
    para(doc, "", style=TAG, size=1, exact=1)
    _finish(doc)
    return doc


def build_certificate_plain() -> DocumentObject:
    """Giấy khen printed whole, for offices without blanks: border, Quốc hiệu, heading, texts, signature."""
    doc = _certificate_page(plain=True)
    sect_pr = doc.sections[0]._sectPr
    borders = OxmlElement("w:pgBorders")
    borders.set(qn("w:offsetFrom"), "page")
    for side in ("top", "left", "bottom", "right"):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:val"), "thinThickSmallGap")
        edge.set(qn("w:sz"), "24")
        edge.set(qn("w:space"), "24")
        edge.set(qn("w:color"), "C00000")
        borders.append(edge)
    sect_pr.insert_element_before(
        borders, "w:lnNumType", "w:pgNumType", "w:cols", "w:formProt", "w:vAlign", "w:noEndnote",
        "w:titlePg", "w:textDirection", "w:bidi", "w:rtlGutter", "w:docGrid", "w:printerSettings",
        "w:sectPrChange",
    )  # fmt: skip
    tag(doc, "{%p for a in certificates %}")
    para(doc, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", style=HEADER_TEXT, size=14, bold=True, before=6)
    side = (LANDSCAPE_TEXT_W - MOTTO_W) / 2
    motto = para(
        doc, "Độc lập - Tự do - Hạnh phúc", style=HEADER_TEXT, size=14, bold=True, left=side, right=side
    )
    _border(motto, "bottom", size=6, space=1)
    para(doc, "{{ a.authority_line }}", style=HEADER_TEXT, size=16, bold=True, before=30)
    para(doc, "TẶNG", style=HEADER_TEXT, size=15, bold=True, before=10)
    title = para(doc, "GIẤY KHEN", style=HEADER_TEXT, size=54, bold=True, before=10, after=10)
    for run in title.runs:
        run.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    para(doc, "{{ a.name }}", style=HEADER_TEXT, size=26, bold=True, before=12)
    para(doc, "{{ a.unit_line }}", style=HEADER_TEXT, size=16, before=8)
    para(doc, "{{ a.achievement_line }}", style=HEADER_TEXT, size=16, italic=True, before=14, line=1.15)
    table = layout_table(doc, (120, LANDSCAPE_TEXT_W - 120))
    _row_flags(table.rows[0])
    left, right = table.rows[0].cells
    para(left, "{{ a.decision_line }}", style=HEADER_TEXT, size=12, italic=True, reuse=True, before=90)
    para(right, "{{ a.place_date }}", style=HEADER_TEXT, size=14, italic=True, reuse=True, before=24)
    para(right, "{{ a.signer_block }}", style=HEADER_TEXT, size=14, bold=True, before=2)
    tag(doc, "{%p if not loop.last %}")
    para(doc, "", style=TAG).add_run().add_break(WD_BREAK.PAGE)
    tag(doc, "{%p endif %}")
    tag(doc, "{%p endfor %}")
    _finish(doc)
    return doc


BUILDERS = {
    REPORT: build_report,
    PROPOSAL: build_proposal,
    EXPLANATION: build_explanation,
    DECISION: build_decision,
    CERTIFICATE: build_certificate,
    CERTIFICATE_PLAIN: build_certificate_plain,
}


def build_templates(out_dir: Path) -> list[Path]:
    """Write the three default templates into `out_dir` (atomic, reproducible bytes)."""
    out_dir = Path(out_dir)
    written = []
    for name, builder in BUILDERS.items():
        document = builder()

        def save(temp: Path, document=document) -> None:
            document.save(temp)
            normalize_docx(temp)

        written.append(write_with(out_dir / name, save))
    return written


if __name__ == "__main__":  # pragma: no cover - developer tool
    for path in build_templates(Path(sys.argv[1] if len(sys.argv) > 1 else "input_templates")):
        print(path)
