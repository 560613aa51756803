"""Every Vietnamese text the program ships (messages in code, config, templates, docs) is Unicode NFC."""

import unicodedata
import zipfile

import pytest

from tests.conftest import REPO

SHIPPED_TEXT = sorted(
    [
        *(REPO / "processor").rglob("*.py"),
        *(REPO / "processor" / "data").glob("*.toml"),
        *(REPO / "docs").glob("*.md"),
        REPO / "config.toml",
        REPO / "README.md",
    ]
)
TEMPLATES = sorted(p for p in (REPO / "input_templates").iterdir() if p.suffix in (".docx", ".xlsx"))


@pytest.mark.parametrize("path", SHIPPED_TEXT, ids=lambda p: str(p.relative_to(REPO)))
def test_source_text_is_nfc(path):
    text = path.read_text(encoding="utf-8")
    bad = [line for line in text.splitlines() if not unicodedata.is_normalized("NFC", line)]
    assert not bad, bad[:3]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_templates_are_nfc(path):
    assert TEMPLATES, "input_templates/ must hold the form and the Word templates"
    with zipfile.ZipFile(path) as package:
        for name in package.namelist():
            if name.endswith(".xml"):
                text = package.read(name).decode("utf-8")
                assert unicodedata.is_normalized("NFC", text), f"{path.name}:{name}"
