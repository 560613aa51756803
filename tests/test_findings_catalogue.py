"""The findings catalogue (processor/findings.py): every message in one place, used, documented, NFC.

The checks name a message by its key; these tests read the source of processor/ to hold the two sides
together: every key is used, every key used is in the catalogue, each call passes exactly the
placeholders of its template, and error()/warning() at a call site say what the catalogue says.
"""

import ast
import string
import unicodedata
from pathlib import Path

import pytest

from processor import findings
from processor.devtools import findings_doc
from processor.findings import CATALOGUE, HINTS, RESERVED, SEVERITIES, hint, message
from processor.records import Severity
from tests.conftest import REPO

SOURCES = sorted(p for p in (REPO / "processor").rglob("*.py") if p.name != "findings.py")
# Codes other modules compare findings against.
NAMED_CODE_SETS = ("processor.validate:IDENTITY_CODES", "processor.run_report:CLERK_CODES")
# Builders of a finding from a key, and the arguments that are the record's, not the template's.
_RECORD_KEYWORDS = RESERVED


def _trees() -> dict[Path, ast.AST]:
    return {path: ast.parse(path.read_text(encoding="utf-8"), str(path)) for path in SOURCES}


_TREES = _trees()


def _keys_in(node: ast.AST) -> list[str]:
    """The catalogue keys an argument is written as: a literal, or `"a" if x else "b"` (both)."""
    if isinstance(node, ast.Constant):
        return [node.value] if isinstance(node.value, str) and node.value in CATALOGUE else []
    if isinstance(node, ast.IfExp):
        return _keys_in(node.body) + _keys_in(node.orelse)
    return []


def _calls() -> list[tuple[Path, ast.Call, list[str]]]:
    """Every call one of whose positional arguments names catalogue keys, with those keys."""
    out = []
    for path, tree in _TREES.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                for arg in node.args:
                    keys = _keys_in(arg)
                    if keys:
                        out.append((path, node, keys))
                        break
    return out


_CALLS = _calls()


def test_every_catalogue_key_is_used_in_processor():
    used = {key for _, _, keys in _CALLS for key in keys}
    unused = sorted(set(CATALOGUE) - used)
    assert not unused, f"in processor/findings.py but never used: {unused}"


def test_every_hint_is_used_in_processor():
    used = set()
    for tree in _TREES.values():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", getattr(node.func, "id", "")) == "hint"
            ):
                used |= {a.value for a in node.args[:1] if isinstance(a, ast.Constant)}
    assert used == set(HINTS)


def _uses_catalogue(tree: ast.AST) -> bool:
    return any(
        isinstance(n, ast.ImportFrom)
        and (
            n.module == "processor.findings"
            or (n.module == "processor" and any(a.name == "findings" for a in n.names))
        )
        for n in ast.walk(tree)
    )


def _literal_first_arguments(functions: set[str], methods: set[str]) -> list[tuple[Path, int, str]]:
    """String literals passed first to calls of `functions` (by name or as a module's attribute) and of
    `methods` of a check (`self.error(...)`, `check.warning(...)`)."""
    out = []
    for path, tree in _TREES.items():
        if not _uses_catalogue(tree):
            continue  # another module's own add()/error() (openpyxl styles, config errors)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = getattr(func, "attr", getattr(func, "id", None))
            receiver = getattr(getattr(func, "value", None), "id", None)
            if name in functions or (name in methods and receiver in ("self", "check")):
                for constant in ast.walk(node.args[0]):
                    if isinstance(constant, ast.Constant) and isinstance(constant.value, str):
                        out.append((path, node.lineno, constant.value))
    return out


def test_every_key_a_check_names_is_in_the_catalogue():
    functions = {"finding", "message", "_Refused", "_SourceProblem", "_note"}
    named = _literal_first_arguments(functions, {"error", "warning", "reject", "add"})
    unknown = [(str(path.relative_to(REPO)), line, key) for path, line, key in named if key not in CATALOGUE]
    assert not unknown
    assert len([k for _, _, k in named if k in CATALOGUE]) > 100
    users = {path.relative_to(REPO).as_posix() for path, tree in _TREES.items() if _uses_catalogue(tree)}
    assert {
        "processor/validate.py",
        "processor/reader.py",
        "processor/collect.py",
        "processor/decide.py",
    } <= users


def test_records_finding_is_made_by_the_catalogue_only():
    """A finding made with a literal code and message elsewhere would escape the catalogue."""
    makers = []
    for path, tree in _TREES.items():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "Finding"
                and len(node.args) >= 3
            ):
                code, text = node.args[1], node.args[2]
                if isinstance(code, ast.Constant) or isinstance(text, ast.Constant | ast.JoinedStr):
                    makers.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not makers


def test_codes_compared_elsewhere_are_catalogue_codes():
    import importlib

    from processor.ingest_cache import REFUSED_CODE

    for spec in NAMED_CODE_SETS:
        module, name = spec.split(":")
        codes = getattr(importlib.import_module(module), name)
        assert set(codes) <= set(SEVERITIES), spec
    assert REFUSED_CODE in SEVERITIES
    compared = set()
    for tree in _TREES.values():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Compare)
                and isinstance(node.left, ast.Attribute)
                and node.left.attr == "code"
                and isinstance(node.comparators[0], ast.Constant)
            ):
                compared.add(node.comparators[0].value)
    assert compared and compared <= set(SEVERITIES)


def test_each_call_passes_exactly_the_placeholders_of_its_template():
    problems = []
    for path, call, keys in _CALLS:
        if any(k.arg is None for k in call.keywords):
            continue  # **fields: a wrapper passing on what its own caller gave
        passed = {k.arg for k in call.keywords} - _RECORD_KEYWORDS
        for key in keys:
            wanted = set(CATALOGUE[key].fields)
            if passed != wanted:
                where = f"{path.relative_to(REPO)}:{call.lineno}"
                problems.append(
                    f"{where} {key}: missing {sorted(wanted - passed)}, extra {sorted(passed - wanted)}"
                )
    assert not problems, "\n".join(problems)


def test_error_and_warning_at_a_call_site_agree_with_the_catalogue():
    said = {"error": Severity.ERROR, "warning": Severity.WARNING, "reject": Severity.ERROR}
    wrong = []
    for path, call, keys in _CALLS:
        name = getattr(call.func, "attr", None)
        if name in said:
            wrong += [
                f"{path.name}:{call.lineno} {k}" for k in keys if CATALOGUE[k].severity is not said[name]
            ]
    assert not wrong


def test_a_code_has_one_severity():
    by_code: dict[str, set[Severity]] = {}
    for entry in CATALOGUE.values():
        by_code.setdefault(entry.code, set()).add(entry.severity)
    assert {code: s for code, s in by_code.items() if len(s) > 1} == {}
    assert len(by_code) == len(SEVERITIES) >= 80


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_template_is_nfc_vietnamese_and_formats_with_its_fields(key):
    entry = CATALOGUE[key]
    assert unicodedata.is_normalized("NFC", entry.template)
    assert not entry.template.isascii(), "a message without a single Vietnamese letter"
    assert not set(entry.fields) & RESERVED, "a placeholder named like the record's own arguments"
    assert entry.template == entry.template.strip() and "  " not in entry.template
    names = [n for _, n, _, _ in string.Formatter().parse(entry.text) if n is not None]
    assert all(n.isidentifier() for n in names), "positional or attribute placeholders"
    values = {name: f"<{name}>" for name in entry.fields}
    text = message(key, **values)
    assert "{" not in text and "}" not in text
    assert all(f"<{name}>" in text for name in entry.fields)
    if entry.fields:
        with pytest.raises(KeyError):
            message(key, **dict(list(values.items())[1:]))


@pytest.mark.parametrize("name", sorted(HINTS))
def test_hint_is_nfc(name):
    text = hint(name, **{n: "x" for _, n, _, _ in string.Formatter().parse(HINTS[name]) if n})
    assert unicodedata.is_normalized("NFC", HINTS[name]) and text == text.strip()
    assert "{" not in text


def test_docs_findings_md_is_generated_from_the_catalogue():
    committed = (REPO / "docs" / "findings.md").read_text(encoding="utf-8")
    assert committed == findings_doc.render(), "docs/findings.md is stale: run `make findings-doc`"
    for key in CATALOGUE:
        assert f"| `{key}` |" in committed


def test_findings_doc_command_writes_the_file(tmp_path):
    target = tmp_path / "findings.md"
    findings_doc.main([str(target)])
    text = target.read_text(encoding="utf-8")
    assert text == findings_doc.render()
    assert findings.FORM_NAMES["unit_sheet"] in text and "{unit_sheet}" not in text.split("## ", 1)[1]


def test_a_finding_carries_the_code_severity_and_filled_message():
    made = findings.finding("file_too_large/inbox", "a.xlsx", value="9 MB", size_mb="9,0", limit_mb=5)
    assert (made.code, made.severity, made.file, made.value) == (
        "file_too_large",
        Severity.ERROR,
        "a.xlsx",
        "9 MB",
    )
    assert made.message.startswith("Tệp dung lượng 9,0 MB, vượt giới hạn 5 MB")
