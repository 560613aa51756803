"""Commendation rules: each criterion on both sides of its threshold, chains, quotas, one award each."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from processor import commend
from processor import config as config_module
from processor.config import Award, Config, RuleSet
from processor.records import Decision, UserError
from tests.doc_factories import PersonSpec, UnitSpec, build_result, config_with_units

XS, T, HT, K = "HTXSNV", "HTTNV", "HTNV", "KHTNV"


@pytest.fixture
def two_units(config: Config) -> Config:
    return config_with_units(config, [("A", "Phòng A"), ("B", "Phòng B")])


def with_awards(config: Config, *awards: Award) -> Config:
    rule_set = RuleSet("test", "Bộ tiêu chuẩn thử", dt.date(2024, 1, 1), ["Luật thử"], list(awards))
    campaign = dataclasses.replace(config.campaigns[0], rule_set="test")
    return dataclasses.replace(config, rule_sets=[rule_set], campaigns=[campaign, *config.campaigns[1:]])


def person_award(criteria: dict, **kw) -> Award:
    return Award(kw.pop("id", "X"), kw.pop("name", "Giấy khen thử"), "individual", criteria, **kw)


def unit_award(criteria: dict, **kw) -> Award:
    return Award(kw.pop("id", "TX"), kw.pop("name", "Giấy khen tập thể thử"), "collective", criteria, **kw)


def units_ok(*codes: str, months: int = 3, **kw) -> list[UnitSpec]:
    return [UnitSpec(code, (XS,) * months, **kw) for code in codes]


def decisions_for(config: Config, people: list[PersonSpec], units: list[UnitSpec] | None = None):
    result = build_result(config, units or units_ok("A", "B"), people)
    return commend.decide(config, result)


def one(decisions: list[Decision], name: str, award_id: str | None = None) -> Decision:
    found = [d for d in decisions if d.subject_name == name and (award_id is None or d.award_id == award_id)]
    assert len(found) == 1, found
    return found[0]


def reason(decision: Decision, criterion: str) -> str:
    return next(o.reason for o in decision.outcomes if o.criterion == criterion)


def passed(decision: Decision, criterion: str) -> bool:
    return next(o.passed for o in decision.outcomes if o.criterion == criterion)


def test_registry_is_exactly_the_criteria_config_accepts():
    assert set(commend.CRITERIA) == set(config_module.CRITERIA)
    for subject, names in config_module.CRITERIA.items():
        assert set(commend.CRITERIA[subject]) == set(names), subject


# ------------------------------------------------------------------------------------------------
# Individual criteria, each on both sides


def test_min_rating_every_month(two_units):
    config = with_awards(two_units, person_award({"min_rating_every_month": T}))
    people = [
        PersonSpec("Nguyễn Văn Tốt", "A", (T, XS, T)),
        PersonSpec("Lê Thị Vừa", "A", (T, HT, T)),
    ]
    decisions = decisions_for(config, people)
    good, weak = one(decisions, "Nguyễn Văn Tốt"), one(decisions, "Lê Thị Vừa")
    assert good.proposed and reason(good, "min_rating_every_month") == (
        "Đạt: 3/3 tháng hoàn thành tốt nhiệm vụ trở lên"
    )
    assert not weak.proposed
    assert reason(weak, "min_rating_every_month") == "Chưa đạt: tháng 02/2024 xếp loại Hoàn thành nhiệm vụ"


def test_person_missing_from_a_month_fails_every_month_rules(two_units):
    config = with_awards(two_units, person_award({"min_rating_every_month": T, "registered": True}))
    people = [PersonSpec("Trần Văn Mới", "A", (None, XS, XS))]
    decision = one(decisions_for(config, people), "Trần Văn Mới")
    assert not decision.proposed
    assert reason(decision, "min_rating_every_month") == "Chưa đạt: không có báo cáo tháng 01/2024"
    assert reason(decision, "registered") == "Chưa đạt: không có báo cáo tháng 01/2024"


def test_months_at_rating(two_units):
    config = with_awards(two_units, person_award({"months_at_rating": {"rating": XS, "months": 2}}))
    people = [PersonSpec("Hai Tháng", "A", (XS, T, XS)), PersonSpec("Một Tháng", "A", (XS, T, T))]
    decisions = decisions_for(config, people)
    assert one(decisions, "Hai Tháng").proposed
    assert reason(one(decisions, "Hai Tháng"), "months_at_rating").startswith(
        "Đạt: 2/3 tháng hoàn thành xuất sắc nhiệm vụ"
    )
    low = one(decisions, "Một Tháng")
    assert not low.proposed
    assert reason(low, "months_at_rating") == (
        "Chưa đạt: 1/3 tháng hoàn thành xuất sắc nhiệm vụ (yêu cầu ít nhất 2 tháng)"
    )


@pytest.mark.parametrize(
    ("criterion", "field", "text"),
    [
        ("registered", "registered", "chưa đăng ký thi đua"),
        ("social", "social", "không tham gia hoạt động xã hội"),
    ],
)
def test_every_month_flags(two_units, criterion, field, text):
    config = with_awards(two_units, person_award({criterion: True}))
    people = [
        PersonSpec("Đủ Cả", "A", (T, T, T), **{field: True}),
        PersonSpec("Thiếu Một", "A", (T, T, T), **{field: (True, True, False)}),
    ]
    decisions = decisions_for(config, people)
    assert one(decisions, "Đủ Cả").proposed
    missing = one(decisions, "Thiếu Một")
    assert not missing.proposed
    assert reason(missing, criterion) == f"Chưa đạt: tháng 03/2024 {text}"


def test_flag_criterion_false_requires_nothing(two_units):
    config = with_awards(two_units, person_award({"registered": False}))
    decision = one(
        decisions_for(config, [PersonSpec("Chưa Đăng Ký", "A", (T, T, T), registered=False)]), "Chưa Đăng Ký"
    )
    assert decision.proposed


def test_min_initiatives(two_units):
    config = with_awards(two_units, person_award({"min_initiatives": 2}))
    people = [
        PersonSpec("Hai Sáng Kiến", "A", (T, T, T), initiatives=(1, 0, 1)),
        PersonSpec("Một Sáng Kiến", "A", (T, T, T), initiatives=(0, 1, 0)),
    ]
    decisions = decisions_for(config, people)
    assert one(decisions, "Hai Sáng Kiến").proposed
    assert reason(one(decisions, "Một Sáng Kiến"), "min_initiatives") == (
        "Chưa đạt: 1 sáng kiến, giải pháp (yêu cầu ít nhất 2)"
    )


def test_no_discipline_from(two_units):
    config = with_awards(two_units, person_award({"no_discipline_from": "Cảnh cáo"}))
    people = [
        PersonSpec("Khiển Trách", "A", (T, T, T), discipline=("Không", "Khiển trách", "Không")),
        PersonSpec("Cảnh Cáo", "A", (T, T, T), discipline=("Không", "Không", "Cảnh cáo")),
    ]
    decisions = decisions_for(config, people)
    assert one(decisions, "Khiển Trách").proposed  # below the level
    assert (
        reason(one(decisions, "Cảnh Cáo"), "no_discipline_from")
        == "Chưa đạt: tháng 03/2024 bị kỷ luật Cảnh cáo"
    )
    assert not one(decisions, "Cảnh Cáo").proposed


def test_achievement_line_from_data(two_units):
    config = with_awards(two_units, person_award({"min_rating_every_month": T}))
    person = PersonSpec("Phạm Thị Giỏi", "A", (XS, XS, XS), initiatives=(1, 1, 0))
    decision = one(decisions_for(config, [person]), "Phạm Thị Giỏi")
    assert decision.achievement == "3/3 tháng hoàn thành xuất sắc nhiệm vụ; 2 sáng kiến"
    mixed = PersonSpec("Vũ Văn Khá", "A", (XS, T, XS))
    assert one(decisions_for(config, [mixed]), "Vũ Văn Khá").achievement == (
        "2/3 tháng hoàn thành xuất sắc nhiệm vụ, 1/3 tháng hoàn thành tốt nhiệm vụ"
    )


# ------------------------------------------------------------------------------------------------
# The shipped rule sets


def test_campaign_giay_khen_defaults(config):
    units = [UnitSpec("TCHC", (XS, XS, XS)), UnitSpec("TH", (XS, T, XS))]
    people = [
        PersonSpec("Nguyễn Văn An", "TCHC", (XS, XS, T)),
        PersonSpec("Lê Thị Bình", "TCHC", (XS, T, T)),  # one month at the top only
        PersonSpec("Trần Văn Cường", "TH", (XS, XS, XS), social=(True, False, True)),
        PersonSpec("Đỗ Thị Dung", "TH", (XS, XS, XS), discipline=("Không", "Khiển trách", "Không")),
    ]
    result = build_result(config, units, people)
    decisions = commend.decide(config, result)
    proposed = {d.subject_name for d in decisions if d.proposed and d.subject == "individual"}
    assert proposed == {"Nguyễn Văn An"}
    # TCHC: rated at the top every month, and both its people meet targets 1-3 (rated good+, registered,
    # social), though only one of them earns the individual Giấy khen.
    tchc = one(decisions, "Phòng Tổ chức - Hành chính")
    assert tchc.proposed, tchc.outcomes
    th = one(decisions, "Phòng Tổng hợp")
    assert not th.proposed
    assert reason(th, "unit_rating_every_month") == (
        "Chưa đạt: tháng 02/2024 tập thể tự đánh giá Hoàn thành tốt nhiệm vụ"
    )
    assert "Trần Văn Cường" in reason(th, "all_staff_meet_targets")
    missing = one(decisions, "Phòng Kinh tế")  # never reported
    assert reason(missing, "unit_rating_every_month").startswith("Chưa đạt: không có báo cáo tháng 01/2024")
    # individuals first, then collectives
    subjects = [d.subject for d in decisions]
    assert subjects == sorted(subjects, key=lambda s: s != "individual")


def test_year_end_titles_chain_and_one_award_each(config):
    units = [UnitSpec("TCHC", (XS, XS, XS))]
    people = [
        PersonSpec("Nguyễn Văn An", "TCHC", (XS, XS, XS), initiatives=(1, 0, 0)),
        PersonSpec("Lê Thị Bình", "TCHC", (T, T, T)),
        PersonSpec("Trần Văn Cường", "TCHC", (T, HT, T), initiatives=(2, 0, 0)),
    ]
    result = build_result(config, units, people)
    decisions = commend.decide(config, result, "danh-hieu-co-so-2024")
    # Every decision names the rule set that made it (the documents cite that one's legal basis),
    # quota and higher-award amendments included; the campaign's own by default.
    assert {d.rule_set_id for d in decisions} == {"danh-hieu-co-so-2024"}
    assert {d.rule_set_id for d in commend.decide(config, result)} == {"giay-khen-dot-i-2024"}
    an_ldtt, an_cs = one(decisions, "Nguyễn Văn An", "LĐTT"), one(decisions, "Nguyễn Văn An", "CSTĐCS")
    assert an_cs.proposed and not an_ldtt.proposed
    assert "đã đề nghị Chiến sĩ thi đua cơ sở" in reason(an_ldtt, commend.HIGHER_AWARD)
    assert commend.meets_criteria(an_ldtt)
    assert commend.status_label(an_ldtt) == "Đạt tiêu chuẩn, đề nghị hình thức cao hơn"
    assert one(decisions, "Lê Thị Bình", "LĐTT").proposed
    assert not one(decisions, "Lê Thị Bình", "CSTĐCS").proposed
    cuong = one(decisions, "Trần Văn Cường", "CSTĐCS")
    assert passed(cuong, "min_initiatives") and not cuong.proposed
    assert reason(cuong, "requires_award") == (
        "Chưa đạt: chưa đạt tiêu chuẩn Lao động tiên tiến "
        "(căn cứ: Điều 23 Luật Thi đua, khen thưởng 2022: đạt danh hiệu Lao động tiên tiến)"
    )
    # Collective: 2/3 hold LĐTT (66,7% < 70%) -> TTLĐXS fails; TTLĐTT (> 50%) proposed.
    xs, tt = (
        one(decisions, "Phòng Tổ chức - Hành chính", "TTLĐXS"),
        one(decisions, "Phòng Tổ chức - Hành chính", "TTLĐTT"),
    )
    assert tt.proposed and not xs.proposed
    assert reason(xs, "staff_share_with_award").startswith(
        "Chưa đạt: 2/3 người (66,7%) đạt tiêu chuẩn Lao động tiên tiến (yêu cầu ít nhất 70%) (căn cứ: Điều 27"
    )
    assert reason(xs, "staff_min_rating_every_month").startswith("Đạt: 3/3 người hoàn thành nhiệm vụ trở lên")


def test_collective_highest_title_only(config):
    units = [UnitSpec("TCHC", (XS, XS, XS))]
    people = [
        PersonSpec("Nguyễn Văn An", "TCHC", (XS, XS, XS), initiatives=1),
        PersonSpec("Lê Thị Bình", "TCHC", (T, T, T)),
        PersonSpec("Trần Văn Cường", "TCHC", (T, T, T)),
    ]
    decisions = commend.decide(config, build_result(config, units, people), "danh-hieu-co-so-2024")
    xs = one(decisions, "Phòng Tổ chức - Hành chính", "TTLĐXS")
    tt = one(decisions, "Phòng Tổ chức - Hành chính", "TTLĐTT")
    assert xs.proposed and not tt.proposed
    assert "Tập thể lao động xuất sắc" in reason(tt, commend.HIGHER_AWARD)
    assert reason(xs, "staff_count_with_award").startswith(
        "Đạt: 1 người đạt tiêu chuẩn Chiến sĩ thi đua cơ sở (yêu cầu ít nhất 1) (căn cứ: Điều 27"
    )


# ------------------------------------------------------------------------------------------------
# Collective criteria, each on both sides


def test_unit_rating_every_month(two_units):
    config = with_awards(two_units, unit_award({"unit_rating_every_month": XS}))
    units = [UnitSpec("A", (XS, XS, XS)), UnitSpec("B", (XS, T, XS))]
    decisions = decisions_for(config, [], units)
    assert one(decisions, "Phòng A").proposed
    assert reason(one(decisions, "Phòng A"), "unit_rating_every_month") == (
        "Đạt: 3/3 tháng tập thể hoàn thành xuất sắc nhiệm vụ"
    )
    assert not one(decisions, "Phòng B").proposed


def test_all_staff_meet_targets(two_units):
    config = with_awards(two_units, unit_award({"all_staff_meet_targets": ["CT1-CN", "CT2", "CT3"]}))
    people = [
        PersonSpec("Nguyễn Văn An", "A", (T, T, T)),
        PersonSpec("Lê Thị Bình", "B", (T, T, T)),
        PersonSpec("Trần Văn Cường", "B", (T, T, T), registered=(True, False, True)),
    ]
    decisions = decisions_for(config, people)
    assert one(decisions, "Phòng A").proposed
    assert reason(one(decisions, "Phòng A"), "all_staff_meet_targets") == (
        "Đạt: 1/1 người đạt các chỉ tiêu CT1-CN, CT2, CT3 trong tất cả các tháng"
    )
    b = one(decisions, "Phòng B")
    assert not b.proposed
    assert reason(b, "all_staff_meet_targets") == (
        "Chưa đạt: 1/2 người chưa đạt chỉ tiêu CT2 (Trần Văn Cường: tháng 02/2024 chưa đăng ký thi đua)"
    )


def test_tasks_completed_percent(two_units):
    config = with_awards(two_units, unit_award({"tasks_completed_percent": 100}))
    units = [UnitSpec("A", (XS,) * 3, tasks=(4, 4)), UnitSpec("B", (XS,) * 3, tasks=((4, 4), (4, 3), (4, 4)))]
    decisions = decisions_for(config, [], units)
    assert one(decisions, "Phòng A").proposed
    assert reason(one(decisions, "Phòng B"), "tasks_completed_percent") == (
        "Chưa đạt: hoàn thành 11/12 nhiệm vụ cấp trên giao (91,7%; yêu cầu 100%)"
    )
    none = decisions_for(config, [], [UnitSpec("A", (XS,) * 3, tasks=(0, 0))])
    assert one(none, "Phòng A").proposed
    config90 = with_awards(two_units, unit_award({"tasks_completed_percent": 91.6}))
    assert one(decisions_for(config90, [], units), "Phòng B").proposed


def test_staff_min_rating_every_month(two_units):
    config = with_awards(two_units, unit_award({"staff_min_rating_every_month": HT}))
    people = [PersonSpec("Ổn Định", "A", (HT, HT, T)), PersonSpec("Không Đạt", "B", (HT, K, HT))]
    decisions = decisions_for(config, people)
    assert one(decisions, "Phòng A").proposed
    assert reason(one(decisions, "Phòng B"), "staff_min_rating_every_month") == (
        "Chưa đạt: 1/1 người chưa đạt (Không Đạt: tháng 02/2024 xếp loại Không hoàn thành nhiệm vụ)"
    )


def test_staff_share_at_rating_threshold_is_inclusive(two_units):
    config = with_awards(two_units, unit_award({"staff_share_at_rating": {"rating": XS, "percent": 70}}))
    people = [PersonSpec(f"A Người {i}", "A", (XS,) * 3 if i < 7 else (T,) * 3) for i in range(10)]
    people += [PersonSpec(f"B Người {i}", "B", (XS,) * 3 if i < 6 else (T,) * 3) for i in range(10)]
    decisions = decisions_for(config, people)
    assert one(decisions, "Phòng A").proposed
    assert not one(decisions, "Phòng B").proposed
    assert reason(one(decisions, "Phòng B"), "staff_share_at_rating").startswith(
        "Chưa đạt: 6/10 người (60,0%) hoàn thành xuất sắc nhiệm vụ"
    )


@pytest.mark.parametrize(
    ("value", "holders_a", "holders_b"),
    [({"percent": 70}, 7, 6), ({"more_than_percent": 50}, 6, 5)],
)
def test_staff_share_with_award(two_units, value, holders_a, holders_b):
    ldtt = person_award({"min_rating_every_month": T}, id="LĐTT", name="Lao động tiên tiến")
    config = with_awards(two_units, ldtt, unit_award({"staff_share_with_award": {"award": "LĐTT", **value}}))
    people = [PersonSpec(f"A {i}", "A", (T,) * 3 if i < holders_a else (HT,) * 3) for i in range(10)]
    people += [PersonSpec(f"B {i}", "B", (T,) * 3 if i < holders_b else (HT,) * 3) for i in range(10)]
    decisions = decisions_for(config, people)
    assert one(decisions, "Phòng A").proposed
    assert not one(decisions, "Phòng B").proposed


def test_staff_count_with_award(two_units):
    cs = person_award({"min_initiatives": 1}, id="CS", name="Chiến sĩ thi đua cơ sở")
    config = with_awards(two_units, cs, unit_award({"staff_count_with_award": {"award": "CS", "count": 1}}))
    people = [PersonSpec("Có Sáng Kiến", "A", (T,) * 3, initiatives=1), PersonSpec("Không Có", "B", (T,) * 3)]
    decisions = decisions_for(config, people)
    assert one(decisions, "Phòng A").proposed
    assert reason(one(decisions, "Phòng B"), "staff_count_with_award") == (
        "Chưa đạt: 0 người đạt tiêu chuẩn Chiến sĩ thi đua cơ sở (yêu cầu ít nhất 1)"
    )


def test_no_staff_discipline_from(two_units):
    config = with_awards(two_units, unit_award({"no_staff_discipline_from": "Cảnh cáo"}))
    people = [
        PersonSpec("Nhẹ", "A", (T,) * 3, discipline=("Khiển trách", "Không", "Không")),
        PersonSpec("Nặng", "B", (T,) * 3, discipline=("Không", "Cảnh cáo", "Không")),
    ]
    decisions = decisions_for(config, people)
    assert one(decisions, "Phòng A").proposed
    assert reason(one(decisions, "Phòng B"), "no_staff_discipline_from") == (
        "Chưa đạt: 1 người bị kỷ luật từ mức Cảnh cáo trở lên (Nặng: tháng 02/2024 bị kỷ luật Cảnh cáo)"
    )


# ------------------------------------------------------------------------------------------------
# Quotas


def quota_config(two_units: Config, percent: float) -> Config:
    base = person_award({"min_rating_every_month": T}, id="LĐTT", name="Lao động tiên tiến")
    top = person_award(
        {"requires_award": "LĐTT", "min_initiatives": 1},
        id="CS",
        name="Chiến sĩ thi đua cơ sở",
        quota_percent=percent,
        tie_break="Nhiều tháng Hoàn thành xuất sắc nhiệm vụ hơn, rồi nhiều sáng kiến hơn, rồi theo tên",
    )
    return with_awards(two_units, base, top)


def quota_people() -> list[PersonSpec]:
    people = [PersonSpec(f"Nguyễn Văn Đủ {i}", "A", (T,) * 3) for i in range(11)]  # LĐTT only
    return [
        *people,
        PersonSpec("Lê Văn Ánh", "B", (XS, XS, T), initiatives=1),  # 2 top months
        PersonSpec("Trần Văn An", "B", (XS, XS, T), initiatives=1),  # same, but An < Ánh
        PersonSpec("Đỗ Văn Ba", "B", (XS, XS, XS), initiatives=1),  # 3 top months: first
    ]


def test_quota_cuts_by_tie_break_and_says_why(two_units):
    # 14 people hold LĐTT; 15% of 14 = 2,1 -> at most 2 CSTĐCS among the 3 who qualify.
    decisions = decisions_for(quota_config(two_units, 15), quota_people())
    cs = {d.subject_name: d for d in decisions if d.award_id == "CS"}
    assert cs["Đỗ Văn Ba"].proposed and cs["Trần Văn An"].proposed
    cut = cs["Lê Văn Ánh"]
    assert not cut.proposed and cut.quota_excluded
    text = reason(cut, commend.QUOTA)
    assert text.startswith("Không đề nghị do vượt tỷ lệ 15% (tối đa 2 trên 14 người đạt Lao động tiên tiến)")
    assert "xếp thứ 3/3" in text
    assert commend.status_label(cut) == "Đạt tiêu chuẩn, không đề nghị do vượt tỷ lệ"
    # Cut from CSTĐCS, the person keeps LĐTT.
    assert one(decisions, "Lê Văn Ánh", "LĐTT").proposed
    assert not one(decisions, "Trần Văn An", "LĐTT").proposed  # holds the higher one


def test_quota_large_enough_cuts_nobody(two_units):
    # 22% of 14 = 3,08 -> 3 places for 3 candidates.
    decisions = decisions_for(quota_config(two_units, 22), quota_people())
    cs = [d for d in decisions if d.award_id == "CS" and commend.meets_criteria(d)]
    assert len(cs) == 3 and all(d.proposed and not d.quota_excluded for d in cs)
    assert all(reason(d, commend.QUOTA).startswith("Trong tỷ lệ 22% (tối đa 3") for d in cs)


def test_quota_zero_means_no_limit(two_units):
    decisions = decisions_for(quota_config(two_units, 0), quota_people())
    assert sum(d.proposed for d in decisions if d.award_id == "CS") == 3
    assert not any(o.criterion == commend.QUOTA for d in decisions for o in d.outcomes)


def test_collective_quota_base_is_all_units(two_units):
    config = with_awards(two_units, unit_award({"unit_rating_every_month": T}, quota_percent=50))
    units = [UnitSpec("A", (T, T, T)), UnitSpec("B", (XS, XS, T))]
    decisions = decisions_for(config, [], units)
    assert one(decisions, "Phòng B").proposed  # more top months
    a = one(decisions, "Phòng A")
    assert a.quota_excluded and "tối đa 1 trên 2 tập thể" in reason(a, commend.QUOTA)


# ------------------------------------------------------------------------------------------------
# Config-level problems


def test_unknown_rule_set_is_a_user_error(config):
    result = build_result(config, [UnitSpec("TCHC", (T,))], [])
    with pytest.raises(UserError, match="không-có"):
        commend.decide(config, result, "không-có")


def test_requires_award_cycle_is_a_user_error(two_units):
    a = person_award({"requires_award": "Y"}, id="X")
    b = person_award({"requires_award": "X"}, id="Y")
    config = with_awards(two_units, a, b)
    with pytest.raises(UserError, match="vòng lặp"):
        decisions_for(config, [PersonSpec("Ai Đó", "A", (T, T, T))])


def test_decision_per_subject_and_award(config):
    units = [UnitSpec(u.code, (T, T)) for u in config.units]
    people = [PersonSpec(f"Người {u.code}", u.code, (T, T)) for u in config.units]
    result = build_result(config, units, people)
    decisions = commend.decide(config, result, "danh-hieu-co-so-2024")
    assert len(decisions) == 2 * len(people) + 2 * len(config.units)
    assert all(
        o.reason.startswith(("Đạt", "Chưa đạt", "Trong", "Không")) for d in decisions for o in d.outcomes
    )


@pytest.mark.parametrize(
    "outcomes",
    [
        (),
        (("a", True),),
        (("a", False),),
        (("a", True), (commend.QUOTA, False)),
        (("a", True), (commend.HIGHER_AWARD, False)),
        (("a", False), (commend.QUOTA, True)),
        (("a", True), ("b", False), (commend.HIGHER_AWARD, False)),
        ((commend.QUOTA, False), (commend.HIGHER_AWARD, False)),
    ],
)
def test_meets_criteria_ignores_only_quota_and_higher_award(outcomes):
    decision = Decision(
        "X", "Giấy khen", "individual", "k", "Tên", "A", "", False,
        tuple(commend.CriterionOutcome(name, passed, "") for name, passed in outcomes), "", False,
    )  # fmt: skip
    rules = [passed for name, passed in outcomes if name not in (commend.QUOTA, commend.HIGHER_AWARD)]
    assert commend.meets_criteria(decision) is all(rules)


def test_a_unit_without_a_months_report_is_not_explained_person_by_person(config):
    """Its people have no month either: the unit's criteria say the month once, not once per person."""
    units = [UnitSpec("TCHC", (XS, XS, None))]
    people = [PersonSpec(f"Người {i}", "TCHC", (XS, XS, None)) for i in range(3)]
    cfg = config_with_units(config, [("TCHC", "Phòng Tổ chức - Hành chính")])
    result = build_result(cfg, units, people, final=True)
    [unit] = [d for d in commend.decide(cfg, result) if d.subject == "collective"]
    for criterion in ("all_staff_meet_targets", "staff_min_rating_every_month"):
        if any(o.criterion == criterion for o in unit.outcomes):
            assert reason(unit, criterion) == "Chưa đạt: không có báo cáo tháng 03/2024"
    said = "; ".join(commend.reason_lines(unit.outcomes))
    assert said.count("không có báo cáo tháng 03/2024") == 1 and "Người 0" not in said
