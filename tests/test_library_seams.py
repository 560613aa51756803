"""Each place the program relies on another library's internals (issue 16, point 6) is one seam, and each
test here fails if the library changes under it: the behaviour relied on is pinned, not the code."""

from __future__ import annotations

import gc
import io
import subprocess
import sys
import time
import zipfile
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from processor import pipeline, processes
from processor.render import documents, fastxlsx


def _hang(marker: str) -> None:
    # Top-level so that a spawned worker can import it.
    Path(marker).write_text("started")
    time.sleep(3600)


def test_stop_workers_ends_a_hanging_job(tmp_path):
    """processes.stop_workers: ProcessPoolExecutor._processes before Python 3.14 (terminate_workers
    after). A pool it cannot stop would leave the job waiting an hour."""
    pool = processes.process_pool(1)
    assert hasattr(pool, "terminate_workers") or hasattr(pool, "_processes")
    marker = tmp_path / "started"
    future = pool.submit(_hang, str(marker))
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists()
    started = time.monotonic()
    processes.stop_workers(pool)
    with pytest.raises(BrokenProcessPool):
        future.result(timeout=30)
    assert time.monotonic() - started < 30


_PARAGRAPH = '<w:p><w:r><w:t xml:space="preserve">Nguyễn Văn An {0}, Chuyên viên</w:t></w:r></w:p>'


def test_resolve_listing_override_gives_docxtpls_own_result():
    """documents' Template.resolve_listing runs docxtpl's only on paragraphs with a break character:
    the same XML out as docxtpl's own, whichever paragraphs hold one."""
    from docxtpl import DocxTemplate

    body = "".join(_PARAGRAPH.format(i) for i in range(50))
    body += '<w:p><w:r><w:t>dòng một\ndòng hai\tcột\aba</w:t></w:r></w:p>' + _PARAGRAPH.format("cuối")
    body += "<w:p><w:r><w:t>\fsau ngắt trang</w:t></w:r></w:p>"
    xml = f"<w:document><w:body>{body}</w:body></w:document>"
    ours = documents._template_class()
    expected = DocxTemplate.resolve_listing(DocxTemplate.__new__(DocxTemplate), xml)
    assert "<w:br/>" in expected and "<w:tab/>" in expected  # docxtpl still turns them into breaks
    assert ours.resolve_listing(ours.__new__(ours), xml) == expected
    plain = "".join(_PARAGRAPH.format(i) for i in range(5))
    assert ours.resolve_listing(ours.__new__(ours), plain) == DocxTemplate.resolve_listing(
        DocxTemplate.__new__(DocxTemplate), plain
    )


def test_docxtpl_still_calls_resolve_listing_when_rendering(tmp_path):
    """The override only helps if docxtpl's render goes through the method of that name."""
    import docx

    source = tmp_path / "mau.docx"
    document = docx.Document()
    document.add_paragraph("{{ ten }}")
    document.save(source)
    calls = []

    class Spy(documents._template_class()):
        def resolve_listing(self, xml: str) -> str:
            calls.append(len(xml))
            return super().resolve_listing(xml)

    template = Spy(source)
    template.render({"ten": "dòng một\ndòng hai"})
    out = io.BytesIO()
    template.save(out)
    assert calls
    with zipfile.ZipFile(out) as package:
        rendered = package.read("word/document.xml").decode()
    assert "dòng một" in rendered and "<w:br/>" in rendered


def test_a_zip_entry_keeps_the_compress_level_given_it(tmp_path):
    """fastxlsx._set_compress_level: zipfile's private _compresslevel on Python 3.11-3.12."""
    cells = '<row><c t="n"><v>{0}</v></c><c><v>{1}</v></c></row>'
    rows = "".join(cells.format(i * 7919 % 100003, i) for i in range(60000))
    sizes = {}
    for level in (1, 9):
        info = zipfile.ZipInfo("sheet.xml", date_time=fastxlsx.FIXED_ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        fastxlsx._set_compress_level(info, level)
        path = tmp_path / f"level{level}.zip"
        with (
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as target,
            target.open(info, "w") as stream,
        ):
            stream.write(rows.encode())
        with zipfile.ZipFile(path) as written:
            assert written.read("sheet.xml") == rows.encode()
            sizes[level] = written.getinfo("sheet.xml").compress_size
    assert sizes[1] > sizes[9]  # each entry compressed at its own level, not the archive's 6


def test_openpyxl_loads_with_numpy_banned():
    """cli._without_numpy: openpyxl must treat `import numpy` failing as numpy absent."""
    probe = (
        "from processor.cli import _without_numpy\n"
        "_without_numpy()\n"
        "import openpyxl, openpyxl.compat.numbers as numbers\n"
        "assert numbers.NUMPY is False, numbers.NUMPY\n"
        "assert sys.modules['numpy'] is None\n"
        "wb = openpyxl.Workbook(); wb.active['A1'] = 1.5\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", "import sys\n" + probe], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_records_only_pauses_the_collector_and_freezes_what_was_built():
    """pipeline._records_only: gc.disable inside, gc.freeze after, the collector's state given back."""
    gc.unfreeze()
    assert gc.isenabled()
    try:
        with pipeline._records_only():
            assert not gc.isenabled()
            built = [[n] for n in range(1000)]
        assert gc.isenabled()
        assert gc.get_freeze_count() >= len(built)
        gc.disable()
        with pipeline._records_only():
            pass
        assert not gc.isenabled()  # a caller's disabled collector stays disabled
    finally:
        gc.enable()
        gc.unfreeze()
