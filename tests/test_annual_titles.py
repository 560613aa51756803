"""Annual titles at the closing run of a campaign spanning a calendar year: each criterion of LĐTT, CSTĐCS,
TTLĐXS and TTLĐTT failing alone, the unconfirmed settings, and one achievement earning one award across
the campaign's Giấy khen and the titles."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from processor import commend
from processor.config import Config
from tests.doc_factories import PersonSpec, UnitSpec, build_result

XS, T, HT = "HTXSNV", "HTTNV", "HTNV"
YEAR = 12
TITLES = "danh-hieu-co-so-2024"


def year_config(config: Config, **campaign_changes) -> Config:
    changes = {
        "id": "2024-ca-nam",
        "name": "Phong trào thi đua năm 2024",
        "short_name": "phong trào thi đua năm 2024",
        "start": dt.date(2024, 1, 1),
        "end": dt.date(2024, 12, 31),
    }
    campaign = dataclasses.replace(config.campaigns[0], **{**changes, **campaign_changes})
    return dataclasses.replace(config, campaigns=[campaign])


def with_criteria(config: Config, award_id: str, **changes) -> Config:
    """The titles' rule set with one award's criteria changed (None removes a criterion)."""
    rule_sets = []
    for rule_set in config.rule_sets:
        awards = []
        for award in rule_set.awards:
            if rule_set.id == TITLES and award.id == award_id:
                criteria = {**award.criteria, **changes}
                kept = {k: v for k, v in criteria.items() if v is not None}
                award = dataclasses.replace(award, criteria=kept)
            awards.append(award)
        rule_sets.append(dataclasses.replace(rule_set, awards=awards))
    return dataclasses.replace(config, rule_sets=rule_sets)


def months(*pattern: str) -> tuple[str, ...]:
    return tuple((list(pattern) * YEAR)[:YEAR])


def closing(config: Config, units: list[UnitSpec], people: list[PersonSpec]):
    result = build_result(config, units, people, final=True)
    return result, commend.decide_closing(config, result)


def one(decisions, name: str, award_id: str):
    found = [d for d in decisions if d.subject_name == name and d.award_id == award_id]
    assert len(found) == 1, (name, award_id, found)
    return found[0]


def outcome(decision, criterion: str):
    return next(o for o in decision.outcomes if o.criterion == criterion)


def failing(decision) -> list[str]:
    return [o.criterion for o in decision.outcomes if not o.passed]


@pytest.fixture
def year(config) -> Config:
    return year_config(config)


# A unit where everyone holds LĐTT and one CSTĐCS: the baseline every case below breaks in one place.
def staff(**changes) -> list[PersonSpec]:
    people = [
        PersonSpec("Nguyễn Văn An", "TCHC", months(XS), initiatives=(1,) + (0,) * 11),
        PersonSpec("Lê Thị Bình", "TCHC", months(T)),
        PersonSpec("Trần Văn Cường", "TCHC", months(T)),
    ]
    return [dataclasses.replace(p, **changes.get(p.name, {})) for p in people]


def test_titles_appear_only_when_the_campaign_spans_a_year(config, year):
    units = [UnitSpec("TCHC", months(XS)[:3])]
    people = [PersonSpec("Lê Thị Bình", "TCHC", (T, T, T))]
    quarter = build_result(config, units, people, final=True)
    assert {d.rule_set_id for d in commend.decide_closing(config, quarter)} == {"giay-khen-dot-i-2024"}
    _, decisions = closing(year, [UnitSpec("TCHC", months(XS))], staff())
    assert {d.rule_set_id for d in decisions} == {"giay-khen-dot-i-2024", TITLES}
    not_final = build_result(year, [UnitSpec("TCHC", months(XS))], staff(), final=False, months=11)
    assert {d.rule_set_id for d in commend.decide_closing(year, not_final)} == {"giay-khen-dot-i-2024"}
    marked = year_config(config, end=dt.date(2024, 6, 30), annual_review=True)
    half = build_result(marked, [UnitSpec("TCHC", months(XS)[:6])], staff(), final=True, months=6)
    assert TITLES in {d.rule_set_id for d in commend.decide_closing(marked, half)}


def test_baseline_everyone_earns_their_title(year):
    _, decisions = closing(year, [UnitSpec("TCHC", months(XS))], staff())
    assert one(decisions, "Nguyễn Văn An", "CSTĐCS").proposed
    assert one(decisions, "Lê Thị Bình", "LĐTT").proposed
    assert one(decisions, "Phòng Tổ chức - Hành chính", "TTLĐXS").proposed
    reason = outcome(one(decisions, "Lê Thị Bình", "LĐTT"), "min_rating_every_month").reason
    assert reason.startswith("Đạt: 12/12 tháng hoàn thành tốt nhiệm vụ trở lên (căn cứ: Điều 24 Luật")


@pytest.mark.parametrize(
    ("change", "criterion"),
    [
        ({"ratings": months(T, T, T, T, HT, T)}, "min_rating_every_month"),
        ({"registered": (True,) * 11 + (False,)}, "registered"),
    ],
)
def test_each_ldtt_criterion_fails_alone(year, change, criterion):
    _, decisions = closing(year, [UnitSpec("TCHC", months(XS))], staff(**{"Lê Thị Bình": change}))
    binh = one(decisions, "Lê Thị Bình", "LĐTT")
    assert not binh.proposed and failing(binh) == [criterion]
    assert any(month in outcome(binh, criterion).reason for month in ("tháng 12/2024", "tháng 05/2024"))


def test_each_cstdcs_criterion_fails_alone(year):
    units = [UnitSpec("TCHC", months(XS))]
    _, decisions = closing(year, units, staff(**{"Nguyễn Văn An": {"initiatives": 0}}))
    an = one(decisions, "Nguyễn Văn An", "CSTĐCS")
    assert not an.proposed and failing(an) == ["min_initiatives"]
    assert one(decisions, "Nguyễn Văn An", "LĐTT").proposed  # the lower title is proposed instead
    change = {"initiatives": (1,) + (0,) * 11, "registered": (False,) + (True,) * 11}
    _, decisions = closing(year, units, staff(**{"Lê Thị Bình": change}))
    binh = one(decisions, "Lê Thị Bình", "CSTĐCS")
    assert not binh.proposed and failing(binh) == ["requires_award"]


@pytest.mark.parametrize(
    ("unit", "people", "criterion"),
    [
        ({"ratings": months(XS, XS, T)}, {}, "unit_rating_every_month"),
        ({}, {"Trần Văn Cường": {"ratings": months(T, HT)}}, "staff_share_with_award"),
        ({}, {"Nguyễn Văn An": {"initiatives": 0}}, "staff_count_with_award"),
    ],
)
def test_each_ttldxs_criterion_fails_alone(year, unit, people, criterion):
    units = [dataclasses.replace(UnitSpec("TCHC", months(XS)), **unit)]
    # Four people, so that one losing LĐTT leaves 75% (> 70%) unless the case is about that share.
    extra = PersonSpec("Đỗ Thị Dung", "TCHC", months(T))
    crowd = staff(**people) + ([extra] if criterion != "staff_share_with_award" else [])
    _, decisions = closing(year, units, crowd)
    xs = one(decisions, "Phòng Tổ chức - Hành chính", "TTLĐXS")
    if criterion == "unit_rating_every_month":
        # A unit rated "good" in some months is not TTLĐTT either way, and TTLĐXS requires it.
        assert set(failing(xs)) == {"unit_rating_every_month"} | {"requires_award"} & set(failing(xs))
    else:
        assert failing(xs) == [criterion], xs.outcomes
    assert not xs.proposed


def test_ttldxs_staff_rating_fails_alone(year):
    units = [UnitSpec("TCHC", months(XS))]
    people = [*staff(), *(PersonSpec(f"Người {i}", "TCHC", months(XS)) for i in range(8))]
    people.append(PersonSpec("Phạm Văn Yếu", "TCHC", months(T, T, "KHTNV")))
    _, decisions = closing(year, units, people)
    xs = one(decisions, "Phòng Tổ chức - Hành chính", "TTLĐXS")
    assert failing(xs) == ["staff_min_rating_every_month"], xs.outcomes


@pytest.mark.parametrize(
    ("unit", "people", "criterion"),
    [
        ({"ratings": months(T, T, HT)}, {}, "unit_rating_every_month"),
        (
            {},
            {"Lê Thị Bình": {"ratings": months(HT)}, "Trần Văn Cường": {"ratings": months(HT)}},
            "staff_share_with_award",
        ),
    ],
)
def test_each_ttldtt_criterion_fails_alone(year, unit, people, criterion):
    units = [dataclasses.replace(UnitSpec("TCHC", months(T)), **unit)]
    _, decisions = closing(year, units, staff(**people))
    tt = one(decisions, "Phòng Tổ chức - Hành chính", "TTLĐTT")
    assert not tt.proposed and failing(tt) == [criterion], tt.outcomes


def test_discipline_is_a_setting_off_by_default(year):
    units = [UnitSpec("TCHC", months(T))]
    disciplined = {"Lê Thị Bình": {"discipline": ("Khiển trách",) + ("Không",) * 11}}
    _, decisions = closing(year, units, staff(**disciplined))
    assert one(decisions, "Lê Thị Bình", "LĐTT").proposed
    on = with_criteria(year, "LĐTT", no_discipline_from="Khiển trách")
    _, decisions = closing(on, units, staff(**disciplined))
    binh = one(decisions, "Lê Thị Bình", "LĐTT")
    assert not binh.proposed and failing(binh) == ["no_discipline_from"]


def test_six_month_rule_never_passes_an_unknown_date(year):
    config = with_criteria(year, "LĐTT", min_months_since_recruitment=6)
    result = build_result(config, [UnitSpec("TCHC", months(T))], staff(), final=True)
    decisions = commend.decide_closing(config, result)
    binh = one(decisions, "Lê Thị Bình", "LĐTT")
    assert not binh.proposed and failing(binh) == ["min_months_since_recruitment"]
    assert outcome(binh, "min_months_since_recruitment").reason.startswith("Chưa đủ số liệu:")
    # Form version 2 carries the day of recruitment: 01/07/2024 is 5 months before 31/12, 30/06 six.
    for person, day in zip(result.people, (dt.date(2024, 7, 1), dt.date(2024, 6, 30), None), strict=True):
        object.__setattr__(person, "recruited_on", day)
    decisions = commend.decide_closing(config, result)
    assert failing(one(decisions, "Nguyễn Văn An", "LĐTT")) == ["min_months_since_recruitment"]
    an = one(decisions, "Nguyễn Văn An", "LĐTT")
    assert "được 5 tháng" in outcome(an, "min_months_since_recruitment").reason
    assert one(decisions, "Lê Thị Bình", "LĐTT").proposed
    assert not one(decisions, "Trần Văn Cường", "LĐTT").proposed


def test_quota_is_off_by_default_and_a_setting(year):
    units = [UnitSpec("TCHC", months(XS))]
    people = [PersonSpec(f"Người Số {i}", "TCHC", months(XS), initiatives=1) for i in range(4)]
    _, decisions = closing(year, units, people)
    assert sum(d.proposed for d in decisions if d.award_id == "CSTĐCS") == 4
    rule_sets = [
        dataclasses.replace(
            r, awards=[dataclasses.replace(a, quota_percent=50) if a.id == "CSTĐCS" else a for a in r.awards]
        )
        for r in year.rule_sets
    ]
    _, decisions = closing(dataclasses.replace(year, rule_sets=rule_sets), units, people)
    assert sum(d.proposed for d in decisions if d.award_id == "CSTĐCS") == 2


def test_one_achievement_one_award_across_giay_khen_and_titles(config, year):
    units = [UnitSpec("TCHC", months(XS))]
    # Meets the campaign's Giấy khen (top rating in 2+ months, registered, social) and LĐTT.
    _, decisions = closing(year, units, staff())
    gk, title = one(decisions, "Lê Thị Bình", "GK-CN"), one(decisions, "Lê Thị Bình", "LĐTT")
    an_gk = one(decisions, "Nguyễn Văn An", "GK-CN")
    assert commend.meets_criteria(an_gk) and not an_gk.proposed
    assert "đã đề nghị Chiến sĩ thi đua cơ sở" in outcome(an_gk, commend.HIGHER_AWARD).reason
    assert title.proposed and not gk.proposed
    proposed_twice = [
        key for key in {d.subject_key for d in decisions}
        if sum(d.proposed for d in decisions if d.subject_key == key) > 1
    ]  # fmt: skip
    assert proposed_twice == []
    unit_gk = one(decisions, "Phòng Tổ chức - Hành chính", "GK-TT")
    assert commend.meets_criteria(unit_gk) and not unit_gk.proposed
    # The other way round, when the office prefers the campaign's award.
    prefer = year_config(config, one_award_prefers="campaign")
    _, decisions = closing(prefer, units, staff())
    assert one(decisions, "Nguyễn Văn An", "GK-CN").proposed
    cs = one(decisions, "Nguyễn Văn An", "CSTĐCS")
    assert not cs.proposed and "Giấy khen" in outcome(cs, commend.HIGHER_AWARD).reason
