"""Templates cannot run code (issue #12).

Templates are e-mailed between offices and edited by clerks. Rendered by a plain jinja2 Environment,
`{{ cycler.__init__.__globals__.os.popen('id').read() }}` added to bao-cao.docx ran a shell command and
`{{ lipsum.__globals__['__builtins__']['open'](...) }}` opened a file. Each payload here tries to create a
marker file: the run must stop with a Vietnamese message, before any received file is read, and the
marker must not exist.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from docx import Document

from processor.records import UserError
from processor.render import documents
from tests.test_faults import PERIOD, TRACEBACK, new_workspace, run


def _with_paragraph(template: Path, text: str) -> None:
    """The clerk's edit: a paragraph typed into a real template, saved by python-docx as Word would."""
    document = Document(str(template))
    document.add_paragraph(text)
    document.save(str(template))


PAYLOADS = {
    "cycler globals": "{{{{ cycler.__init__.__globals__.os.popen('touch {marker}').read() }}}}",
    "lipsum builtins": (
        "{{{{ lipsum.__globals__['__builtins__']['open']('{marker}', 'w').write('x') }}}}"
    ),
}


@pytest.fixture(scope="module")
def office(tmp_path_factory) -> Path:
    return new_workspace(tmp_path_factory.mktemp("sandbox") / "office", as_email=False)


@pytest.fixture
def workspace(office, tmp_path) -> Path:
    root = tmp_path / "office"
    shutil.copytree(office, root)
    return root


@pytest.mark.parametrize("payload", sorted(PAYLOADS))
def test_a_template_reaching_python_stops_the_run_before_ingest(workspace, payload):
    marker = workspace / "MARKER"
    _with_paragraph(workspace / "input_templates" / "bao-cao.docx", PAYLOADS[payload].format(marker=marker))

    started = time.perf_counter()
    proc = run(workspace)
    elapsed = time.perf_counter() - started

    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert TRACEBACK not in proc.stderr
    assert "Mẫu văn bản bao-cao.docx có biểu thức không được phép" in proc.stderr
    assert "__globals__" in proc.stderr  # the expression is named
    assert not marker.exists()
    # Failed before any received file was read: no memo of validated files, nothing published.
    assert not (workspace / "output" / ".cache").exists()
    assert not (workspace / "output" / PERIOD).exists()
    assert elapsed < 15, elapsed


def test_a_name_built_at_render_time_is_stopped_by_the_sandbox(workspace):
    """A name joined at render time from a variable passes the check (jinja folds joined constants, which
    the check then sees; a variable it cannot): the sandbox stops it while rendering, after the batch,
    and the clerk reads a Vietnamese message, not a traceback."""
    text = "{% set u = '_' %}{{ (cycler|attr(u ~ u ~ 'init' ~ u ~ u))() }}"
    _with_paragraph(workspace / "input_templates" / "bao-cao.docx", text)

    proc = run(workspace)

    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert TRACEBACK not in proc.stderr
    assert "Mẫu văn bản bao-cao.docx có biểu thức tìm cách truy cập bên trong chương trình" in proc.stderr
    assert not (workspace / "output" / PERIOD).exists()


@pytest.mark.parametrize(
    ("expression", "named"),
    [
        ("{{ _secret }}", "_secret"),
        ("{{ office.__class__ }}", "office.__class__"),
        ("{{ office['__dict__'] }}", "office['__dict__']"),
        ("{{ office|attr('__class__') }}", "office|attr('__class__')"),
        ("{% set _x = 1 %}", "_x"),
    ],
)
def test_check_template_names_the_expression(tmp_path, expression, named):
    template = tmp_path / "bao-cao.docx"
    shutil.copy(documents.resolve_template(tmp_path / "none", documents.REPORT), template)
    _with_paragraph(template, expression)
    with pytest.raises(UserError) as error:
        documents.check_template(template)
    assert "bao-cao.docx" in error.value.args[0] and named in error.value.args[0]


def test_the_document_properties_are_checked_too(tmp_path):
    """docxtpl renders the title, subject, comments... as templates as well (File › Info in Word)."""
    template = tmp_path / "bao-cao.docx"
    document = Document(str(documents.resolve_template(tmp_path / "none", documents.REPORT)))
    document.core_properties.title = "{{ lipsum.__globals__['__builtins__'] }}"
    document.save(str(template))
    with pytest.raises(UserError) as error:
        documents.check_template(template)
    assert "lipsum.__globals__" in error.value.args[0]


def test_the_shipped_templates_pass_the_check(tmp_path):
    for name in documents.output_names(PERIOD):
        documents.check_template(documents.resolve_template(tmp_path / "none", name))
