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
    message = errors_of(config_text.replace("start = 2024-01-01", "start = 2024-13-01", 1))
    assert "sai cú pháp TOML" in message and "line" in message


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
