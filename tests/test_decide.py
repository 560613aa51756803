"""`thidua decide`: the council's approval workbook read back and checked, the Quyết định and the Giấy khen.

Real files throughout: the demo inbox through the closing run, the approval workbook edited with openpyxl
as a clerk's Excel would save it, the documents opened again with python-docx.
"""

import datetime as dt
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import docx
import openpyxl
import pytest
from click.testing import CliRunner

from processor import commend
from processor.cli import cli
from processor.config import load_config
from processor.decide import decide_period, edited_workbooks
from processor.devtools.samples import generate_inbox
from processor.pipeline import run_period
from processor.render import approval
from processor.workspace import create_workspace

RUN_DAY = dt.date(2026, 12, 2)
PERIOD = "2024-03"


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    root = tmp_path_factory.mktemp("council")
    create_workspace(root)
    config = load_config(root / "config.toml")
    periods = config.campaigns[0].periods
    generate_inbox(config, root / "inbox", periods, scenario="demo")
    for period in periods:
        outcome = run_period(config, str(period), root / "inbox", root / "output", today=RUN_DAY)
    return SimpleNamespace(root=root, config=config, closing=outcome)


@pytest.fixture
def out_root(office, tmp_path) -> Path:
    """A copy of the office's output folder, for a test to edit and decide in."""
    target = tmp_path / "output"
    shutil.copytree(office.root / "output", target)
    return target


def _decide(office, out_root, **kwargs):
    return decide_period(office.config, PERIOD, office.root / "inbox", out_root, today=RUN_DAY, **kwargs)


def _workbook_rows(path: Path) -> list[tuple]:
    sheet = openpyxl.load_workbook(path, read_only=True)[approval.SHEET]
    rows = list(sheet.iter_rows(min_row=approval.HEADER_ROW + 1, values_only=True))
    return [r for r in rows if r[0] is not None]


def _list_names(path: Path) -> list[tuple[str, str]]:
    """(name, award) of each numbered row of the document's Danh sách table."""
    document = docx.Document(path)
    table = document.tables[-1]
    out = []
    for row in table.rows:
        cells = [c.text for c in row.cells]
        if cells[0].isdigit():
            award = next(c for c in cells if c.startswith(("Giấy khen", "Lao động", "Chiến sĩ", "Tập thể")))
            out.append((cells[1], award))
    return out


def _certificate_names(path: Path) -> list[str]:
    return [p.text for p in docx.Document(path).paragraphs if p.style.name == "GK Name"]


def _edit(path: Path, change) -> None:
    book = openpyxl.load_workbook(path)
    change(book)
    book.save(path)


def test_closing_run_writes_the_approval_workbook_with_a_drop_down(office):
    path = office.closing.out_dir / approval.file_name(PERIOD)
    assert path in office.closing.outputs
    book = openpyxl.load_workbook(path)
    sheet = book[approval.SHEET]
    header = [c.value for c in sheet[approval.HEADER_ROW]]
    assert header[approval.COL_AGREED - 1] == "Hội đồng đồng ý"
    rows = _workbook_rows(path)
    assert rows and all(r[approval.COL_AGREED - 1] == approval.YES for r in rows)
    lists = [dv.formula1 for dv in sheet.data_validations.dataValidation]
    assert '"Có,Không"' in lists
    assert book[approval.INFO_SHEET]["B1"].value == PERIOD
    earlier = office.root / "output" / "2024-02" / approval.file_name("2024-02")
    assert not earlier.exists(), "only the closing run proposes"


def test_decide_without_an_edited_workbook_takes_the_proposal_and_the_four_outputs_agree(office, out_root):
    outcome = _decide(office, out_root)
    assert outcome.review.source is None and not outcome.review.findings
    period_dir = out_root / PERIOD
    proposal = _list_names(period_dir / f"to-trinh-khen-thuong-{PERIOD}.docx")
    rows = [(r[approval.COL_NAME - 1], r[approval.COL_AWARD - 1]) for r in _workbook_rows(
        period_dir / approval.file_name(PERIOD))]  # fmt: skip
    decision = _list_names(period_dir / f"quyet-dinh-khen-thuong-{PERIOD}.docx")
    certificates = _certificate_names(period_dir / f"giay-khen-{PERIOD}.docx")
    assert len(proposal) > 5
    assert proposal == rows == decision, "same people, same awards, same order"
    assert certificates == [name for name, _ in proposal]
    counts = docx.Document(period_dir / f"quyet-dinh-khen-thuong-{PERIOD}.docx").paragraphs
    collectives = sum(1 for r in _workbook_rows(period_dir / approval.file_name(PERIOD)) if r[1] == "Tập thể")
    article = next(p.text for p in counts if p.text.startswith("Điều 1."))
    assert f"{collectives:02d} tập thể và {len(proposal) - collectives:02d} cá nhân" in article
    calibration = _certificate_names(period_dir / f"giay-khen-can-chinh-{PERIOD}.docx")
    assert calibration == ["[Họ và tên / Tên tập thể]"]
    lines = (period_dir / f"ghi-nhan-duyet-{PERIOD}.txt").read_text(encoding="utf-8")
    assert f"Được khen thưởng: {len(proposal)}" in lines


def test_council_edits_are_checked_row_by_row(office, out_root):
    path = out_root / PERIOD / approval.file_name(PERIOD)
    rows = _workbook_rows(path)
    first_person = next(i for i, r in enumerate(rows) if r[1] == "Cá nhân")
    struck_row = approval.HEADER_ROW + 1 + first_person
    struck_name = rows[first_person][2]
    dup = rows[first_person + 1]
    decisions = commend.decide(office.config, office.closing.result)
    outsider = next(
        d
        for d in decisions
        if d.subject == commend.INDIVIDUAL and not d.proposed and not commend.meets_criteria(d)
    )
    unit_name = office.config.unit(outsider.unit_code).name
    first_blank = approval.HEADER_ROW + len(rows) + 2

    def change(book):
        sheet = book[approval.SHEET]
        sheet.cell(struck_row, approval.COL_AGREED, "Không")
        sheet.cell(struck_row + 2, approval.COL_AGREED, "Đồng ý")
        additions = [
            ("Cá nhân", outsider.subject_name, unit_name, outsider.award_name, "Có", "Hội đồng đề nghị thêm"),
            ("Cá nhân", "Nguyễn Văn Không Có", unit_name, outsider.award_name, "Có", ""),
            ("Cá nhân", outsider.subject_name, "Phòng Không Tồn Tại", outsider.award_name, "Có", ""),
            ("Cá nhân", dup[2], dup[4], dup[5], "Có", ""),
            ("Tập thể", "Ban Không Có Thật", "", "Giấy khen của Chánh Văn phòng", "Có", ""),
        ]
        for offset, (kind, name, unit, award, agreed, note) in enumerate(additions):
            r = first_blank + offset
            for col, value in ((2, kind), (3, name), (5, unit), (6, award), (8, agreed), (9, note)):
                sheet.cell(r, col, value)

    _edit(path, change)
    assert edited_workbooks(out_root / PERIOD, PERIOD) == [path]
    outcome = _decide(office, out_root)
    review = outcome.review
    assert review.source == path and not review.blocked
    lines = [f.line() for f in review.findings]
    joined = "\n".join(lines)
    assert f"Dòng {struck_row + 2}:" in joined and "“Đồng ý”" in joined
    assert f"Dòng {first_blank}: {outsider.subject_name}: chưa đạt tiêu chuẩn" in joined
    assert f"Dòng {first_blank + 1}: Không tìm thấy “Nguyễn Văn Không Có”" in joined
    assert f"Dòng {first_blank + 2}: {outsider.subject_name}: đơn vị “Phòng Không Tồn Tại”" in joined
    assert f"Dòng {first_blank + 3}: {dup[2]} đã có ở dòng" in joined
    assert f"Dòng {first_blank + 4}: Tập thể “Ban Không Có Thật”" in joined
    approved = [d.subject_name for d in review.approved]
    assert struck_name not in approved and [d.subject_name for d in review.struck] == [struck_name]
    assert outsider.subject_name in approved, "the council may grant beyond the rules, flagged"
    assert rows[first_person + 2][2] not in approved, "a row without Có/Không is left out"
    certificates = _certificate_names(out_root / PERIOD / f"giay-khen-{PERIOD}.docx")
    assert certificates == approved
    record = (out_root / PERIOD / f"ghi-nhan-duyet-{PERIOD}.txt").read_text(encoding="utf-8")
    assert f"Hội đồng đồng ý dù chưa đạt tiêu chuẩn: {outsider.subject_name}" in record
    assert "Hội đồng đề nghị thêm" in record


def test_a_workbook_of_another_period_is_refused_and_nothing_is_written(office, out_root):
    path = out_root / PERIOD / approval.file_name(PERIOD)
    _edit(path, lambda book: book[approval.INFO_SHEET].cell(1, 2, "2024-02"))
    outcome = _decide(office, out_root)
    assert outcome.review.blocked and not outcome.outputs
    assert "là của kỳ 2024-02, không phải kỳ 2024-03" in outcome.review.findings[0].line()
    assert not (out_root / PERIOD / f"quyet-dinh-khen-thuong-{PERIOD}.docx").exists()


def test_the_edited_workbook_survives_a_rerun_and_decide_finds_it(office, out_root):
    path = out_root / PERIOD / approval.file_name(PERIOD)
    rows = _workbook_rows(path)
    _edit(path, lambda book: book[approval.SHEET].cell(approval.HEADER_ROW + 1, approval.COL_AGREED, "Không"))
    again = run_period(office.config, PERIOD, office.root / "inbox", out_root, today=RUN_DAY)
    kept = [k.target for k in again.kept]
    assert any(t.endswith(approval.file_name(PERIOD)) and t.startswith("da-sua-") for t in kept)
    outcome = _decide(office, out_root)
    assert outcome.review.source is not None and outcome.review.source.parent.name.startswith("da-sua-")
    assert [d.subject_name for d in outcome.review.struck] == [rows[0][2]]


@pytest.mark.slow  # LibreOffice takes seconds to start: `make test-slow`, which CI runs
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_a_workbook_saved_by_libreoffice_is_read_back(office, out_root, tmp_path):
    """The council may save the proposal with LibreOffice (its own string table, styles and row markup):
    decide reads the struck row and the row added in the blank boxes."""
    path = out_root / PERIOD / approval.file_name(PERIOD)
    rows = _workbook_rows(path)
    first_blank = approval.HEADER_ROW + len(rows) + 2
    edited = tmp_path / "hoi-dong.xlsx"
    shutil.copy(path, edited)

    def change(book):
        sheet = book[approval.SHEET]
        sheet.cell(approval.HEADER_ROW + 1, approval.COL_AGREED, "Không")
        sheet.cell(approval.HEADER_ROW + 1, approval.COL_NOTE, "Xét lại đợt sau")
        for col, value in ((2, "Tập thể"), (3, "Ban Không Có Thật"), (6, rows[0][5]), (8, "Có")):
            sheet.cell(first_blank, col, value)

    _edit(edited, change)
    saved = tmp_path / "lo"
    command = [
        "soffice", f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
        "--convert-to", "xlsx", "--outdir", str(saved), str(edited),
    ]  # fmt: skip
    subprocess.run(command, capture_output=True, timeout=180, check=False)
    assert (saved / edited.name).is_file()
    outcome = _decide(office, out_root, workbook=saved / edited.name)
    review = outcome.review
    assert review.source == saved / edited.name and not review.blocked
    assert [d.subject_name for d in review.struck] == [rows[0][2]]
    lines = "\n".join(f.line() for f in review.findings)
    assert f"Dòng {first_blank}: Tập thể “Ban Không Có Thật”" in lines
    assert len(review.approved) == len(rows) - 1


def test_cli_decide_says_it_took_the_proposal(office, out_root):
    result = CliRunner().invoke(
        cli,
        ["decide", "--config", str(office.root / "config.toml"), "--period", PERIOD,
         "--inbox", str(office.root / "inbox"), "--out", str(out_root)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Chưa có bảng duyệt nào được sửa" in result.output
    assert f"quyet-dinh-khen-thuong-{PERIOD}.docx" in result.output


def test_decide_before_the_closing_run_says_what_to_do(office, tmp_path):
    result = CliRunner().invoke(
        cli,
        ["decide", "--config", str(office.root / "config.toml"), "--period", PERIOD,
         "--inbox", str(office.root / "inbox"), "--out", str(tmp_path / "none")],
    )  # fmt: skip
    assert result.exit_code != 0
    assert "Chưa có bảng duyệt" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("folder", ["input_templates", "processor/data/templates"])
def test_committed_decide_templates_match_a_fresh_build(tmp_path, folder):
    import zipfile

    from processor.devtools import word_templates
    from processor.render import docx_files

    word_templates.build_templates(tmp_path)
    repo = Path(__file__).resolve().parents[1]
    for name in docx_files.DECIDE_TEMPLATE_FILES:
        with zipfile.ZipFile(repo / folder / name) as committed, zipfile.ZipFile(tmp_path / name) as fresh:
            assert committed.read("word/document.xml") == fresh.read("word/document.xml"), f"{folder}/{name}"


def test_an_unsafe_decision_template_is_refused_before_anything_is_read(office, out_root, tmp_path):
    from processor.records import UserError
    from processor.render import docx_files

    workspace = tmp_path / "ws"
    create_workspace(workspace)
    template = workspace / "input_templates" / docx_files.DECISION
    document = docx.Document(template)
    document.add_paragraph("{{ cycler.__init__.__globals__ }}")
    document.save(template)
    config = load_config(workspace / "config.toml")
    with pytest.raises(UserError, match="không được phép"):
        decide_period(config, PERIOD, office.root / "inbox", out_root, today=RUN_DAY)
    assert not (out_root / PERIOD / f"quyet-dinh-khen-thuong-{PERIOD}.docx").exists()


def test_a_decision_edited_in_word_is_kept_when_decide_runs_again(office, out_root):
    _decide(office, out_root)
    decision = out_root / PERIOD / f"quyet-dinh-khen-thuong-{PERIOD}.docx"
    edited = docx.Document(decision)
    edited.add_paragraph("Sửa tay của văn thư")
    edited.save(decision)
    again = _decide(office, out_root)
    kept = list((out_root / PERIOD).glob(f"da-sua-*/quyet-dinh-khen-thuong-{PERIOD}.docx"))
    assert len(kept) == 1
    assert "Sửa tay của văn thư" in "\n".join(p.text for p in docx.Document(kept[0]).paragraphs)
    assert any("Đã giữ lại" in line for line in again.notices)
    assert "Sửa tay" not in "\n".join(p.text for p in docx.Document(decision).paragraphs)
    third = _decide(office, out_root)  # unchanged since: simply replaced
    assert not any("Đã giữ lại" in line for line in third.notices)


def test_a_year_long_campaign_carries_the_annual_titles_through_all_four_outputs(tmp_path):
    """The demo's second workspace: December's closing run proposes titles; decide takes them to the end."""
    from processor.config import default_config_text
    from processor.devtools.demo import year_config_text

    create_workspace(tmp_path)
    (tmp_path / "config.toml").write_text(year_config_text(default_config_text()), encoding="utf-8")
    config = load_config(tmp_path / "config.toml")
    periods = config.campaigns[0].periods
    assert len(periods) == 12
    generate_inbox(config, tmp_path / "inbox", periods, scenario="demo")
    closing = run_period(config, "2024-12", tmp_path / "inbox", tmp_path / "output", today=RUN_DAY)
    period_dir = closing.out_dir
    outcome = decide_period(config, "2024-12", tmp_path / "inbox", tmp_path / "output", today=RUN_DAY)
    proposal = _list_names(period_dir / "to-trinh-khen-thuong-2024-12.docx")
    rows = [(r[2], r[5]) for r in _workbook_rows(period_dir / approval.file_name("2024-12"))]
    decision = _list_names(period_dir / "quyet-dinh-khen-thuong-2024-12.docx")
    certificates = _certificate_names(period_dir / "giay-khen-2024-12.docx")
    assert proposal == rows == decision and certificates == [name for name, _ in proposal]
    awards = {award for _, award in proposal}
    assert {"Lao động tiên tiến", "Chiến sĩ thi đua cơ sở"} <= awards
    approved = outcome.review.approved
    subjects = {(d.subject, d.subject_key) for d in approved}
    assert len(approved) == len(proposal) == len(subjects), "one award each"
    assert outcome.review.source is None
    explanation = docx.Document(period_dir / "giai-trinh-khen-thuong-2024-12.docx")
    reasons = "\n".join(c.text for t in explanation.tables for r in t.rows for c in r.cells)
    assert "(căn cứ: Điều 24 Luật Thi đua, khen thưởng 2022" in reasons
    titles = [p.text for p in docx.Document(period_dir / "giay-khen-2024-12.docx").paragraphs]
    assert any(text.startswith("Đạt danh hiệu") and text.endswith("năm 2024") for text in titles)
    # Two rule sets cite the same decree and decision in two wordings: each is a Căn cứ line once.
    for name in ("to-trinh-khen-thuong-2024-12.docx", "quyet-dinh-khen-thuong-2024-12.docx"):
        grounds = [p.text for p in docx.Document(period_dir / name).paragraphs if p.text.startswith("Căn cứ")]
        for number in ("06/2022/QH15", "98/2023/NĐ-CP", "14/2024/QĐ-UBND"):
            assert sum(number in line for line in grounds) == 1, (name, grounds)


def test_cli_decide_with_file_of_another_period_exits_1_and_writes_nothing(office, out_root, tmp_path):
    clerk = tmp_path / "ban-duyet-cua-van-thu.xlsx"
    shutil.copy(out_root / PERIOD / approval.file_name(PERIOD), clerk)
    _edit(clerk, lambda book: book[approval.INFO_SHEET].cell(1, 2, "2024-01"))
    result = CliRunner().invoke(
        cli,
        ["decide", "--config", str(office.root / "config.toml"), "--period", PERIOD,
         "--inbox", str(office.root / "inbox"), "--out", str(out_root), "--file", str(clerk)],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "là của kỳ 2024-01" in result.output and "Chưa lập Quyết định" in result.output
    assert not (out_root / PERIOD / f"quyet-dinh-khen-thuong-{PERIOD}.docx").exists()


def test_reward_article_and_certificate_positions_come_from_config(office, out_root):
    import dataclasses
    import zipfile

    from processor.config import Box

    positions = dataclasses.replace(office.config.decision.positions, name=Box(50, 80, 190, 20))
    settings = dataclasses.replace(office.config.decision, reward_individual_vnd=500_000, positions=positions)
    config = dataclasses.replace(office.config, decision=settings)
    outcome = decide_period(config, PERIOD, office.root / "inbox", out_root, today=RUN_DAY)
    individuals = sum(d.subject == commend.INDIVIDUAL for d in outcome.review.approved)
    decision = docx.Document(out_root / PERIOD / f"quyet-dinh-khen-thuong-{PERIOD}.docx")
    text = [p.text for p in decision.paragraphs]
    article = next(t for t in text if t.startswith("Điều 2."))
    assert "mỗi cá nhân được thưởng 500.000 đồng" in article and "mỗi tập thể" not in article
    assert f"{individuals * 500_000:,}".replace(",", ".") + " đồng" in article
    assert any(t.startswith("Điều 3.") and "căn cứ Quyết định thi hành" in t for t in text)
    with zipfile.ZipFile(out_root / PERIOD / f"giay-khen-{PERIOD}.docx") as package:
        xml = package.read("word/document.xml").decode("utf-8")
    # 50 mm = 2835 twips; every page's name frame moved there
    assert xml.count('w:x="2835"') == len(outcome.review.approved)
    assert 'w:y="4535"' in xml and 'w:w="10772"' in xml


def test_summary_gains_the_awarded_breakdown_beside_the_proposed(office, out_root):
    """Where decided, summary.json breaks the awards down as it does the proposals (issue 17): the one
    person the council strikes leaves their gender's group, the rest stay, each counted from the
    person's own record."""
    import json

    path = out_root / PERIOD / approval.file_name(PERIOD)
    rows = _workbook_rows(path)
    first_person = next(i for i, r in enumerate(rows) if r[1] == "Cá nhân")
    struck_key = rows[first_person][approval.COL_KEY - 1]
    award = rows[first_person][approval.COL_AWARD - 1]
    _edit(path, lambda b: b[approval.SHEET].cell(approval.HEADER_ROW + 1 + first_person, approval.COL_AGREED,
                                                  "Không"))  # fmt: skip
    outcome = _decide(office, out_root)
    summary = json.loads((out_root / PERIOD / "summary.json").read_text(encoding="utf-8"))
    people = {p.key: p for p in office.closing.result.people}
    approved = [d for d in outcome.review.approved if d.subject == commend.INDIVIDUAL]
    assert struck_key not in {d.subject_key for d in approved} and len(approved) >= 5
    assert summary["decided"]["individuals"] == len(approved) and summary["decided"]["struck"] == 1
    gender = next(b for b in summary["breakdowns"] if b["field"] == "gender")
    by_label = {g["label"]: g for g in [*gender["groups"], gender["no_data"]]}
    expected: dict[str, dict[str, int]] = {}
    for d in approved:
        label = people[d.subject_key].gender or gender["no_data"]["label"]
        expected.setdefault(label, {}).setdefault(d.award_id, 0)
        expected[label][d.award_id] += 1
    assert {k: g["awarded"] for k, g in by_label.items() if g["awarded"]} == expected
    struck_group = by_label[people[struck_key].gender or gender["no_data"]["label"]]
    award_id = next(a for a, name in gender["awards"].items() if name == award)
    assert struck_group["proposed"][award_id] - struck_group["awarded"].get(award_id, 0) == 1
