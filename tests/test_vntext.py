"""Vietnamese text: folding, collation, numbers and dates as official documents write them."""

import datetime as dt
import unicodedata
from fractions import Fraction

from processor.records import Period, UserError
from processor.vntext import (
    clean,
    date_in_words,
    fold,
    format_int,
    format_money,
    format_percent,
    given_name_sort_key,
    person_key,
    slug,
    sort_key,
)


def test_clean_normalises_nfd_and_spaces():
    nfd = unicodedata.normalize("NFD", "  Nguyễn\u00a0Thị   Huyền ")
    assert clean(nfd) == "Nguyễn Thị Huyền"
    assert unicodedata.is_normalized("NFC", clean(nfd))


def test_fold_unifies_tone_placement_but_not_tones():
    assert fold("Hoà") == fold("Hòa") == fold("HÒA")
    assert fold("Thuỷ") == fold("Thủy")
    assert fold("Khoẻ") == fold("Khỏe")
    assert fold("Hòa") != fold("Hóa")
    assert person_key("Lê Thị Thuỷ", dt.date(1990, 1, 5)) == person_key("lê thị  thủy", dt.date(1990, 1, 5))


def test_vietnamese_alphabet_order_not_code_points():
    words = ["đào", "dung", "ân", "ăn", "an", "ơn", "ôn", "on", "ưu", "uy"]
    assert sorted(words, key=sort_key) == ["an", "ăn", "ân", "dung", "đào", "on", "ôn", "ơn", "uy", "ưu"]


def test_tones_are_a_secondary_difference():
    tones = ["ma", "mà", "mả", "mã", "má", "mạ"]
    assert sorted(reversed(tones), key=sort_key) == tones
    assert sorted(["mạnh", "man"], key=sort_key) == ["man", "mạnh"]


def test_people_sorted_by_given_name_then_rest():
    names = ["Trần Văn Đức", "Lê Thị Ánh", "Nguyễn Văn An", "Bùi Thị An", "Phạm Văn Bình"]
    assert sorted(names, key=given_name_sort_key) == [
        "Bùi Thị An",
        "Nguyễn Văn An",
        "Lê Thị Ánh",
        "Phạm Văn Bình",
        "Trần Văn Đức",
    ]


def test_numbers_and_money():
    assert format_int(1500000) == "1.500.000"
    assert format_int(-2500) == "-2.500"
    assert format_money(200000) == "200.000 đồng"


def test_percent_is_exact_half_up_with_decimal_comma():
    assert format_percent(Fraction(39, 40)) == "97,5%"
    assert format_percent(Fraction(1)) == "100,0%"
    assert format_percent(Fraction(1, 3)) == "33,3%"
    assert format_percent(Fraction(1, 8)) == "12,5%"
    assert format_percent(Fraction(2, 3)) == "66,7%"
    assert format_percent(None) == "—"


def test_dates_in_words_follow_decree_30():
    assert date_in_words(dt.date(2024, 2, 5)) == "ngày 05 tháng 02 năm 2024"
    assert date_in_words(dt.date(2024, 6, 29)) == "ngày 29 tháng 6 năm 2024"
    assert date_in_words(dt.date(2024, 1, 15)) == "ngày 15 tháng 01 năm 2024"
    assert date_in_words(dt.date(2024, 12, 1)) == "ngày 01 tháng 12 năm 2024"


def test_slug():
    assert slug("Phòng Tổ chức - Hành chính") == "phong-to-chuc-hanh-chinh"


def test_period_parse_and_navigation():
    assert Period.parse("2024-02") == Period.parse("02/2024") == Period(2024, 2)
    assert Period(2024, 12).next() == Period(2025, 1)
    assert Period(2024, 1).previous() == Period(2023, 12)
    assert Period(2024, 2).label == "02/2024"
    for bad in ("2024-13", "abc", "2024/02/01"):
        try:
            Period.parse(bad)
        except UserError as exc:
            assert "không hợp lệ" in str(exc)
        else:
            raise AssertionError(bad)
