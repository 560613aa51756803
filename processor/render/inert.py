"""A unit's package made inert before it is annotated and sent back to the clerk's PC.

Everything a unit sends is untrusted, and the copy we write is opened on the office PC: it must not carry
code Excel runs, nor links that make Excel fetch other files or URLs. So, as the openpyxl round trip did
(keep_vba=False, keep_links=False):

- the VBA project goes (with its signatures), and so do ribbon extensions (their callbacks are macros)
  and task pane add-ins (Excel loads them from the web); the workbook part is typed a plain workbook,
  written as .xlsx;
- macro assignments of shapes and form controls are emptied (one may name a macro in another file);
- external links go: their parts, their relationships, `<externalReferences>`, the defined names and the
  cell formulas that point through them (`[1]Sheet!A1`), the cells keeping their cached values. Excel
  would otherwise repair the file on opening ("Removed Records: Formula from /xl/worksheets/sheet1.xml",
  "Named range from /xl/workbook.xml"), and say so to the clerk.

What cannot be made inert this simply raises annotate.Unsupported, and the caller sends the findings sheet
alone: Excel 4 macro sheets, data connections and their query tables (refreshed from outside), ActiveX
controls and OLE objects (code of the PC, files run on a double click), add-ins inside a sheet, and any
external target but a hyperlink (a linked picture Excel fetches on opening, a linked OLE object).
"""

from __future__ import annotations

import posixpath
import re

from processor.render import annotate
from processor.render.annotate import Package, Unsupported

_MS = "http://schemas.microsoft.com/office"
# Relationships removed with their target and what only it uses.
_MACRO_RELS = {
    f"{_MS}/2006/relationships/vbaProject",
    f"{_MS}/2006/relationships/vbaProjectSignature",
    f"{_MS}/2014/relationships/vbaProjectSignatureAgile",
    f"{_MS}/2020/07/relationships/vbaProjectSignatureV3",
    f"{_MS}/2006/relationships/ui/extensibility",  # customUI.xml (Office 2007 ribbon)
    f"{_MS}/2007/relationships/ui/extensibility",  # customUI14.xml (Office 2010 ribbon)
    f"{_MS}/2011/relationships/webextensiontaskpanes",  # Office add-ins opened with the workbook
}
_USED_ONLY_BY_THEM = {
    *_MACRO_RELS,
    annotate.REL_NS + "/image",  # a ribbon's icons
    f"{_MS}/2011/relationships/webextension",  # a task pane's add-in
}
RT_EXTERNAL_LINK = annotate.REL_NS + "/externalLink"
RT_HYPERLINK = annotate.REL_NS + "/hyperlink"
CT_EXTERNAL_LINK = "application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"
# What cannot simply go (the sheets' XML refers to it) and may run or reach outside: refused.
_REFUSED_RELS = {
    f"{_MS}/2006/relationships/xlMacrosheet",
    f"{_MS}/2006/relationships/xlIntlMacrosheet",
    annotate.REL_NS + "/connections",
    annotate.REL_NS + "/queryTable",
    annotate.REL_NS + "/control",  # an ActiveX control
    annotate.REL_NS + "/oleObject",
    f"{_MS}/2011/relationships/webextension",  # an add-in inside a sheet
}
_REFUSED_TYPES = {
    "application/vnd.ms-excel.macrosheet+xml",
    "application/vnd.ms-excel.intlmacrosheet+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.connections+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.querytable+xml",
    "application/vnd.ms-office.activex+xml",
    "application/vnd.ms-office.activex",
    "application/vnd.openxmlformats-officedocument.oleobject",
    "application/vnd.ms-office.webextension+xml",
}
CT_CONTROL_PROPERTIES = "application/vnd.ms-excel.controlproperties+xml"
CT_DRAWING = "application/vnd.openxmlformats-officedocument.drawing+xml"

_EXTERNAL_REFERENCES = re.compile(
    rb"<externalReferences\b[^>]*?(?:/>|>.*?</externalReferences>)", re.S
)  # fmt: skip
_DEFINED_NAMES = re.compile(rb"<definedNames\b[^>]*?(?:/>|>(.*?)</definedNames>)", re.S)
_DEFINED_NAME = re.compile(rb"<definedName\b[^>]*?(?:/>|>(.*?)</definedName>)", re.S)
_BOOK_INDEX = re.compile(rb"\[\d+\]")  # [1]Sheet1!A1: a reference through the first external link
_FORMULA = re.compile(rb"<f\b([^>]*?)(?:/>|>([^<]*)</f>)")
_PREFIXED_FORMULA = re.compile(rb"<[\w.\-]+:f\b[^>]*>([^<]*)<")  # x14 rules in an extLst: <xm:f>
_SHARED = re.compile(rb'\st="shared"')
_SHARED_INDEX = re.compile(rb'\ssi="(\d+)"')
_FMLA_MACRO_ATTR = re.compile(rb'\sfmlaMacro="[^"]*"')
_FMLA_MACRO_ELEMENT = re.compile(
    rb"<(?:[\w.\-]+:)?FmlaMacro\b[^>]*?(?:/>|>[^<]*</(?:[\w.\-]+:)?FmlaMacro>)"
)  # fmt: skip
_MACRO_ATTR = re.compile(rb'(\smacro=")[^"]+(")')


def make_inert(pkg: Package) -> None:
    """Remove the macros and external links of a unit's package, type it a plain workbook (a template
    comes back the workbook it makes); raises Unsupported for what has no simple inert form."""
    workbook = pkg.workbook
    for owner in ("", workbook):
        for rel in pkg.drop_rels(owner, lambda r: r.type in _MACRO_RELS):
            _remove_tree(pkg, rel)
    # A VBA project nothing points at still goes: Excel may look for it by its name.
    for name in pkg.part_names():
        if name.rsplit("/", 1)[-1].lower().startswith("vbaproject"):
            pkg.remove(name)
    pkg.drop_defaults(lambda content_type: "vbaproject" in content_type.lower())
    _drop_external_links(pkg, workbook)
    _refuse_what_reaches_outside(pkg)
    _empty_macro_assignments(pkg)
    pkg.as_workbook()


def _remove_tree(pkg: Package, rel: annotate.Relationship) -> None:
    """A part and what only it uses (a VBA project's signatures, a ribbon's images); removed first, so
    a loop of relationships ends."""
    if rel.external or pkg.name_of(rel.target) is None:
        return
    children = list(pkg.rels(rel.target))
    pkg.remove(rel.target)
    for child in children:
        if child.type in _USED_ONLY_BY_THEM:
            _remove_tree(pkg, child)


def _drop_external_links(pkg: Package, workbook: str) -> None:
    links = pkg.drop_rels(workbook, lambda r: r.type == RT_EXTERNAL_LINK)
    for rel in links:
        if not rel.external:
            pkg.remove(rel.target)  # its own rels (the linked file's address) go with it
    for name in pkg.part_names():  # and one nothing points at
        if pkg.content_type(name) == CT_EXTERNAL_LINK:
            pkg.remove(name)
    data = pkg.read(workbook)
    if not links and b"externalReference" not in data:
        return
    data = _EXTERNAL_REFERENCES.sub(b"", data)
    if b"externalReference" in data:
        raise Unsupported("externalReferences")

    def names(match: re.Match[bytes]) -> bytes:
        kept = [
            m.group(0)
            for m in _DEFINED_NAME.finditer(match.group(1) or b"")
            if not _BOOK_INDEX.search(m.group(1) or b"")
        ]
        return b"<definedNames>" + b"".join(kept) + b"</definedNames>" if kept else b""

    pkg.write(workbook, _DEFINED_NAMES.sub(names, data, count=1))
    if any([_drop_external_formulas(pkg, sheet.part) for sheet in pkg.sheets() if sheet.part is not None]):
        # The calculation chain names the cells that had a formula: Excel rebuilds it.
        for rel in pkg.drop_rels(workbook, lambda r: r.type == annotate.RT_CALC_CHAIN):
            if not rel.external:
                pkg.remove(rel.target)


def _drop_external_formulas(pkg: Package, part: str) -> bool:
    """Remove the formulas through an external link from a sheet (with the cells that share one);
    returns whether any went."""
    data = pkg.read(part)
    if not _BOOK_INDEX.search(data):
        return False
    if any(_BOOK_INDEX.search(m.group(1)) for m in _PREFIXED_FORMULA.finditer(data)):
        raise Unsupported(f"an external reference in an extension of {part}")
    shared = set()
    for match in _FORMULA.finditer(data):
        attrs, formula = match.groups()
        if formula and _BOOK_INDEX.search(formula):
            si = _SHARED_INDEX.search(attrs) if _SHARED.search(attrs) else None
            if si is not None:
                shared.add(si.group(1))

    def drop(match: re.Match[bytes]) -> bytes:
        attrs, formula = match.groups()
        if formula and _BOOK_INDEX.search(formula):
            return b""
        si = _SHARED_INDEX.search(attrs) if _SHARED.search(attrs) else None
        return b"" if si is not None and si.group(1) in shared else match.group(0)

    changed = _FORMULA.sub(drop, data)
    if changed == data:
        return False
    pkg.write(part, changed)
    return True


def _refuse_what_reaches_outside(pkg: Package) -> None:
    """What is left that may run or reach outside. A hyperlink outside is followed only when clicked;
    any other external target (a linked picture, a linked OLE object, a chart's data in another file)
    Excel may fetch on opening."""
    for name in pkg.part_names():
        if pkg.content_type(name).lower() in _REFUSED_TYPES:
            raise Unsupported(f"{name}: {pkg.content_type(name)}")
        folder, rels = name.rsplit("/", 1) if "/" in name else ("", name)
        if not (folder == "_rels" or folder.endswith("/_rels")) or not rels.lower().endswith(".rels"):
            continue
        owner = posixpath.join(posixpath.dirname(folder), rels[: -len(".rels")])
        for rel in pkg.rels(owner):
            if rel.type in _REFUSED_RELS or (rel.external and rel.type != RT_HYPERLINK):
                raise Unsupported(f"{rel.type} of {owner or 'the package'}")


def _empty_macro_assignments(pkg: Package) -> None:
    """A button or shape may name a macro, in this file (gone now) or in another one Excel would open."""
    for name in pkg.part_names():
        content_type = pkg.content_type(name)
        if content_type == CT_CONTROL_PROPERTIES:
            edit = (_FMLA_MACRO_ATTR, b"")
        elif content_type == annotate.CT_VML:
            edit = (_FMLA_MACRO_ELEMENT, b"")
        elif content_type == CT_DRAWING:
            edit = (_MACRO_ATTR, rb"\1\2")
        else:
            continue
        data = pkg.read(name)
        changed = edit[0].sub(edit[1], data)
        if changed != data:
            pkg.write(name, changed)
