"""config.toml: the shipped content and the messages a clerk gets for each kind of mistake."""

import datetime as dt
import unicodedata
from fractions import Fraction

import pytest

from processor.config import MEASURES, load_config, parse_config
from processor.records import Period, UserError
from tests.conftest import REPO


def errors_of(text: str) -> str:
    with pytest.raises(UserError) as caught:
        parse_config(text)
    return str(caught.value)


def test_default_config_is_the_first_customers(config):
    assert config.office.parent_body == "UBND TỈNH LÀO CAI"
    assert config.office.signer_name == "Phan Quốc Nghĩa"
    assert config.office.symbol_suffix == "VPUBND-TCHC"
    assert "Ban TĐKT tỉnh" in config.office.recipients
    assert len(config.units) >= 10
    assert config.unit("tchc").name == "Phòng Tổ chức - Hành chính"
    campaign = config.campaign_for(Period(2024, 2))
    assert campaign.name == "Phong trào thi đua đợt I năm 2024"
    assert campaign.periods == (Period(2024, 1), Period(2024, 2), Period(2024, 3))
    assert campaign.due_date(Period(2024, 2)) == dt.date(2024, 3, 5)
    assert {t.measure for t in campaign.targets} == set(MEASURES)
    assert all(t.share == Fraction(1) for t in campaign.targets)
    assert [r.code for r in config.ratings] == ["HTXSNV", "HTTNV", "HTNV", "KHTNV"]
    assert config.good_rating == "HTTNV"
    assert config.rating_rank("HTXSNV") < config.rating_rank("HTNV")


def test_shipped_copy_matches_repo_config():
    packaged = (REPO / "processor" / "data" / "config.toml").read_text(encoding="utf-8")
    assert packaged == (REPO / "config.toml").read_text(encoding="utf-8")


def test_config_text_is_nfc(config_text):
    assert unicodedata.is_normalized("NFC", config_text)


def test_unknown_key_is_reported_with_path_and_suggestion(config_text):
    message = errors_of(config_text.replace("report_due_day = 5", "report_due_dya = 5"))
    assert "campaigns[1].report_due_dya: khóa không được hỗ trợ" in message
    assert "“report_due_day”" in message
    assert "campaigns[1].report_due_day: thiếu khóa bắt buộc" in message


def test_wrong_type_and_bad_date(config_text):
    text = config_text.replace("start = 2024-01-01", 'start = "2024-13-01"', 1)
    text = text.replace("threshold = 100\n", 'threshold = "100"\n', 1)
    message = errors_of(text)
    assert "campaigns[1].start: phải là ngày (YYYY-MM-DD)" in message
    assert "campaigns[1].targets[1].threshold: phải là số" in message


def test_toml_syntax_error_names_the_line(config_text):
    text = config_text.replace("start = 2024-01-01", "start = 2024-13-01", 1)
    line = text.split("\n").index("start = 2024-13-01") + 1
    message = errors_of(text)
    assert f"sai cú pháp ở dòng {line}, cột 13: ngày không đúng" in message
    assert f"  {line} | start = 2024-13-01\n" in message and "line" not in message


def test_unknown_measure_and_criterion_are_config_errors(config_text):
    text = config_text.replace('measure = "staff_social"', 'measure = "staff_happiness"')
    text = text.replace("criteria.social = true", "criteria.smiles = true", 1)
    message = errors_of(text)
    assert "chỉ số “staff_happiness” không được hỗ trợ" in message
    assert "criteria.smiles: tiêu chí không được hỗ trợ" in message


def test_criterion_values_are_checked(config_text):
    text = config_text.replace(
        'criteria.min_rating_every_month = "HTTNV"', 'criteria.min_rating_every_month = "TOT"', 1
    )
    assert "giá trị 'TOT' không hợp lệ; dùng: HTXSNV, HTTNV, HTNV, KHTNV" in errors_of(text)


def test_duplicate_unit_code_and_bad_email(config_text):
    text = config_text.replace('code = "TH"\n', 'code = "TCHC"\n').replace(
        '"tonghop.vpubnd@laocai.gov.vn"', '"tonghop at laocai"'
    )
    message = errors_of(text)
    assert "units[2].code: “TCHC” trùng với units[1]" in message
    assert "units[2].emails[1]: “tonghop at laocai” không phải địa chỉ thư điện tử" in message


def test_overlapping_campaigns_and_end_before_start(config_text):
    second = config_text[
        config_text.index("[[campaigns]]") : config_text.index("# ----", config_text.index("[[campaigns]]"))
    ]
    text = (
        config_text
        + "\n"
        + second.replace('id = "2024-dot-1"', 'id = "2024-dot-2"').replace(
            "end = 2024-03-31", "end = 2023-12-31"
        )
    )
    message = errors_of(text)
    assert "campaigns[2].end: ngày kết thúc 2023-12-31 trước ngày bắt đầu 2024-01-01" in message


def test_period_picks_its_campaign(config_text):
    second = config_text[
        config_text.index("[[campaigns]]") : config_text.index("# ----", config_text.index("[[campaigns]]"))
    ]
    second = second.replace('id = "2024-dot-1"', 'id = "2024-dot-2"').replace("đợt I năm", "đợt II năm")
    second = second.replace("start = 2024-01-01", "start = 2024-04-01").replace(
        "end = 2024-03-31", "end = 2024-06-30"
    )
    config = parse_config(config_text + "\n" + second)
    assert config.campaign_for(Period(2024, 5)).id == "2024-dot-2"
    assert config.campaign_for(Period(2024, 3)).id == "2024-dot-1"
    with pytest.raises(UserError, match="không thuộc đợt thi đua nào"):
        config.campaign_for(Period(2024, 7))


def test_missing_config_file_says_what_to_do(tmp_path):
    with pytest.raises(UserError, match="thidua init"):
        load_config(tmp_path / "config.toml")


# ------------------------------------------------------------------------------------------------
# What the documents say must agree with the rules: labels, rule sets in force, the date of issue


@pytest.mark.parametrize(
    ("measure", "threshold", "path", "target"),
    [
        # CT3 lowered to 90 while its label still promises "100% … tham gia …": leadership would read
        # "100% … tham gia các hoạt động xã hội: 91,7% (Đạt)".
        ("staff_social", 90, "campaigns[1].targets[4].label", "CT3"),
        # "Hoàn thành 100% nhiệm vụ …": the percentage is not at the start of the label.
        ("tasks_completed", 95, "campaigns[1].targets[5].label", "NV"),
    ],
)
def test_a_label_stating_another_percentage_than_its_threshold_is_rejected(
    config_text, measure, threshold, path, target
):
    line = f'measure = "{measure}"\nthreshold = 100'
    assert line in config_text
    message = errors_of(config_text.replace(line, line.replace("100", str(threshold))))
    said = f"nhãn của chỉ tiêu “{target}” ghi 100% nhưng ngưỡng đạt (threshold) là {threshold}%"
    assert f"{path}: {said}" in message
    assert "1 lỗi" in message  # the other targets agree with their labels


def test_a_label_agreeing_with_its_threshold_or_stating_none_is_accepted(config_text):
    old = "label = \"100% công chức, viên chức và hợp đồng lao động tham gia các hoạt động xã hội\"\n" \
        'measure = "staff_social"\nthreshold = 100'  # fmt: skip
    assert old in config_text
    agreeing = old.replace("100%", "97,5 %").replace("threshold = 100", "threshold = 97.5")
    config = parse_config(config_text.replace(old, agreeing))
    assert config.campaigns[0].targets[3].share == Fraction(39, 40)
    silent = old.replace("100% công chức", "Công chức").replace("threshold = 100", "threshold = 90")
    assert parse_config(config_text.replace(old, silent)).campaigns[0].targets[3].threshold == 90


def test_a_rule_set_not_in_force_for_the_campaign_is_rejected(config_text):
    # A 2030 rule set was applied to the 2024 campaign without a word.
    text = config_text.replace(
        'id = "giay-khen-dot-i-2024"\nname = "Tiêu chuẩn tặng Giấy khen của Chánh Văn phòng theo phong trào '
        'thi đua đợt I năm 2024"\neffective_from = 2024-01-01',
        'id = "giay-khen-dot-i-2024"\nname = "Tiêu chuẩn tặng Giấy khen của Chánh Văn phòng theo phong trào '
        'thi đua đợt I năm 2024"\neffective_from = 2030-01-01',
    )
    assert text != config_text
    message = errors_of(text)
    assert "campaigns[1].rule_set: bộ tiêu chuẩn “giay-khen-dot-i-2024” áp dụng từ 01/01/2030," in message
    assert "đợt thi đua “2024-dot-1” diễn ra từ 01/01/2024 đến 31/03/2024" in message
    assert "sửa rule_sets[1].effective_from nếu ghi nhầm" in message


def test_a_rule_set_that_ended_before_the_campaign_ended_is_rejected(config_text):
    # The year-end rule set replaced in February (the law moves: Decree 98/2023 -> 152/2025).
    anchor = 'id = "danh-hieu-co-so-2024"\n'
    text = config_text.replace(anchor, anchor + "effective_to = 2024-02-29\n")
    message = errors_of(text)
    assert "campaigns[1].year_end_rule_set: bộ tiêu chuẩn “danh-hieu-co-so-2024” áp dụng từ " \
        "01/01/2024 đến 29/02/2024, nhưng đợt thi đua “2024-dot-1” diễn ra từ 01/01/2024 đến " \
        "31/03/2024" in message  # fmt: skip
    assert "sửa rule_sets[2].effective_to nếu ghi nhầm" in message
    # In force over the whole campaign: accepted, and the end date is kept.
    config = parse_config(config_text.replace(anchor, anchor + "effective_to = 2025-06-30\n"))
    assert config.rule_set("danh-hieu-co-so-2024").effective_to == dt.date(2025, 6, 30)
    backwards = config_text.replace(anchor, anchor + "effective_to = 2023-12-31\n")
    assert "rule_sets[2].effective_to: ngày hết áp dụng 31/12/2023 trước ngày bắt đầu" in errors_of(backwards)


@pytest.mark.parametrize(
    ("setting", "issued", "blank"),
    [
        (None, dt.date(2026, 12, 2), True),  # the default: the day left for the văn thư
        ('"blank-day"', dt.date(2026, 12, 2), True),
        ('"today"', dt.date(2026, 12, 2), False),
        ('"2024-04-05"', dt.date(2024, 4, 5), False),
        ("2024-04-05", dt.date(2024, 4, 5), False),  # a TOML date, unquoted
    ],
)
def test_documents_date_modes(config_text, setting, issued, blank):
    line = 'date = "blank-day"'
    assert line in config_text
    text = config_text.replace(line, "" if setting is None else f"date = {setting}")
    config = parse_config(text)
    assert config.documents.issue_date(dt.date(2026, 12, 2)) == (issued, blank)


@pytest.mark.parametrize("setting", ['"hôm nay"', '"05/04/2024"', '"2024-02-30"', "5"])
def test_a_bad_documents_date_names_the_key_and_the_choices(config_text, setting):
    message = errors_of(config_text.replace('date = "blank-day"', f"date = {setting}"))
    assert "documents.date:" in message
    if setting != "5":
        assert "“blank-day”" in message and "“today”" in message and "YYYY-MM-DD" in message
