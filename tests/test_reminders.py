"""Reminders (output/<period>/nhac-nop/): a draft to each unit that has not reported or whose report
has errors, its form for the month attached; by `thidua run` and by `thidua status --reminders`."""

from __future__ import annotations

import email
import email.policy
import io
import os
from pathlib import Path

import pytest
from openpyxl import load_workbook

from processor import form
from processor.config import load_config
from processor.pipeline import run_period, write_reminders_now
from processor.records import Period
from processor.render.reminders import NO_ADDRESS_LIST, REMINDER_DIR
from processor.vntext import format_date
from processor.workspace import create_workspace
from tests import workbooks
from tests.test_cli import thidua
from tests.workbooks import Spec, person

PERIOD = "2024-02"
NO_ADDRESS = "NC"  # its e-mails are removed from the workspace's config


def report(code: str, name: str, month: int, people: list[dict] | None = None, **changes) -> bytes:
    spec = Spec()
    spec.unit.update(unit_code=code, unit_name=name, period=f"{month:02d}/2024", **changes)
    spec.meta.update(unit_code=code, period=f"2024-{month:02d}")
    if people is not None:
        spec.people = people
    return workbooks.xlsx(spec)


@pytest.fixture
def office(tmp_path):
    """TCHC reported January and February; KT reported January and a faulty February; NC has no
    registered address; the other units sent nothing."""
    root = tmp_path / "office"
    create_workspace(root)
    config_path = root / "config.toml"
    text = config_path.read_text(encoding="utf-8")
    start = text.index(f'code = "{NO_ADDRESS}"')
    line_start = text.index("emails = ", start)
    line_end = text.index("\n", line_start)
    config_path.write_text(text[:line_start] + "emails = []" + text[line_end:], encoding="utf-8")
    inbox = root / "inbox"
    inbox.mkdir(exist_ok=True)
    kt_people = [person(i, name=f"Cán bộ Kinh tế {i + 1}") for i in range(3)]
    files = {
        "tchc-01.xlsx": report("TCHC", "Phòng Tổ chức - Hành chính", 1),
        "tchc-02.xlsx": report("TCHC", "Phòng Tổ chức - Hành chính", 2),
        "kt-01.xlsx": report("KT", "Phòng Kinh tế", 1, kt_people),
        "kt-02.xlsx": report("KT", "Phòng Kinh tế", 2, kt_people, tasks_completed=99),
    }
    for name, data in files.items():
        (inbox / name).write_bytes(data)
    return root, load_config(config_path)


def drafts(folder: Path) -> dict[str, email.message.EmailMessage]:
    return {
        p.name: email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted(folder.glob("*.eml"))
    }


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_run_writes_a_reminder_to_each_missing_or_unusable_unit(office):
    root, config = office
    outcome = run_period(config, PERIOD, root / "inbox", root / "output")
    folder = outcome.out_dir / REMINDER_DIR
    assert sorted(outcome.reminders) == sorted(folder.iterdir())
    sent = drafts(folder)
    codes = {name.split("_")[1] for name in sent}
    expected = {u.code for u in config.units} - {"TCHC", NO_ADDRESS}
    assert codes == expected  # KT (errors) and every unit that sent nothing; not TCHC, which reported
    due = format_date(config.campaign_for(Period(2024, 2)).due_date(Period(2024, 2)))

    kt = sent[f"{PERIOD}_KT_nhac-nop.eml"]
    assert kt["To"].addresses[0].addr_spec == config.unit("KT").emails[0]
    assert "Nhắc nộp báo cáo tháng 02/2024" in kt["Subject"]
    body = kt.get_body().get_content()
    assert "còn lỗi" in body and "kt-02.xlsx" in body and due in body
    [attachment] = kt.iter_attachments()
    assert attachment.get_filename() == form.template_file_name(PERIOD, "KT")
    wb = load_workbook(io.BytesIO(attachment.get_content()))
    meta = dict(wb[form.META_SHEET].iter_rows(min_col=1, max_col=2, values_only=True))
    assert (meta["unit_code"], meta["period"]) == ("KT", PERIOD)
    staff = wb[form.STAFF_SHEET]
    names = [staff.cell(form.STAFF_HEADER_ROW + 1 + i, 2).value for i in range(4)]
    assert names == ["Cán bộ Kinh tế 1", "Cán bộ Kinh tế 2", "Cán bộ Kinh tế 3", None]  # January's staff

    th = sent[f"{PERIOD}_TH_nhac-nop.eml"]
    body = th.get_body().get_content()
    assert "chưa nhận được báo cáo" in body and due in body
    [attachment] = th.iter_attachments()
    meta = dict(
        load_workbook(io.BytesIO(attachment.get_content()))[form.META_SHEET].iter_rows(
            min_col=1, max_col=2, values_only=True
        )
    )
    assert (meta["unit_code"], meta["period"]) == ("TH", PERIOD)

    # No address: no e-mail, the form beside and a list for the clerk.
    assert (folder / form.template_file_name(PERIOD, NO_ADDRESS)).is_file()
    listing = (folder / NO_ADDRESS_LIST).read_text(encoding="utf-8")
    assert NO_ADDRESS in listing and "units[].emails" in listing
    assert not any(NO_ADDRESS in name for name in sent)


def test_a_rerun_gives_the_same_reminders(office):
    root, config = office
    first = run_period(config, PERIOD, root / "inbox", root / "output")
    before = snapshot(first.out_dir / REMINDER_DIR)
    second = run_period(config, PERIOD, root / "inbox", root / "output")
    assert snapshot(second.out_dir / REMINDER_DIR) == before
    assert not second.kept  # nothing to keep: the reminders were the program's own


def test_status_reminders_writes_what_run_writes_and_keeps_the_clerks_files(office):
    root, config = office
    paths = write_reminders_now(config, PERIOD, root / "inbox", root / "status-output")
    folder = root / "status-output" / PERIOD / REMINDER_DIR
    assert sorted(paths) == sorted(folder.iterdir())
    ran = run_period(config, PERIOD, root / "inbox", root / "output")
    assert snapshot(folder) == snapshot(ran.out_dir / REMINDER_DIR)

    # After a run: the clerk's note and an edited draft are kept; the run's own drafts are replaced.
    own = ran.out_dir / REMINDER_DIR
    (own / "ghi-chu.txt").write_text("gọi điện cho phòng Nội chính", encoding="utf-8")
    edited = own / f"{PERIOD}_TH_nhac-nop.eml"
    edited.write_bytes(edited.read_bytes() + b"\r\nDa goi dien.\r\n")
    # KT corrects its report: it is no longer reminded.
    (root / "inbox" / "kt-02-sua.xlsx").write_bytes(report("KT", "Phòng Kinh tế", 2))
    later = (root / "inbox" / "kt-02.xlsx").stat().st_mtime + 3600  # saved from the e-mail an hour later
    os.utime(root / "inbox" / "kt-02-sua.xlsx", (later, later))
    paths = write_reminders_now(config, PERIOD, root / "inbox", root / "output")
    assert not (own / f"{PERIOD}_KT_nhac-nop.eml").exists()
    assert {p.name for p in paths} == {p.name for p in own.iterdir()}
    [kept] = [p for p in ran.out_dir.iterdir() if p.name.startswith("da-sua-")]
    assert (kept / REMINDER_DIR / "ghi-chu.txt").read_text(encoding="utf-8") == "gọi điện cho phòng Nội chính"
    assert (kept / REMINDER_DIR / edited.name).read_bytes().endswith(b"Da goi dien.\r\n")
    assert (ran.out_dir / "bao-cao-2024-02.docx").is_file()  # the rest of the period folder is untouched

    # The next run takes status's drafts as its own: nothing more is kept.
    again = run_period(config, PERIOD, root / "inbox", root / "output")
    assert not again.kept
    assert snapshot(again.out_dir / REMINDER_DIR) == {p.name: p.read_bytes() for p in paths}


def test_status_reminders_on_the_command_line(office):
    root, _ = office
    proc = thidua("status", "--period", PERIOD, "--reminders", cwd=root, check=True)
    folder = root / "output" / PERIOD / REMINDER_DIR
    assert f"thư trong {Path('output') / PERIOD / REMINDER_DIR}" in proc.stdout
    assert NO_ADDRESS_LIST in proc.stdout
    assert len(list(folder.glob("*.eml"))) == len(drafts(folder)) > 0
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    plain = thidua("status", "--period", PERIOD, cwd=root, check=True)
    # Without the flag, status writes no reminder; it names those on disk, as `run` does (issue #13).
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before
    assert f"thư trong {Path('output') / PERIOD / REMINDER_DIR}" in plain.stdout
