"""Documents at province scale: long lists are capped in Word and point to tong-hop.xlsx (issue #6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from processor import commend, pipeline
from processor.aggregate import aggregate
from processor.breakdown import breakdowns
from processor.config import load_config
from processor.devtools import samples
from processor.render import documents

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def quarter(tmp_path_factory):
    config = load_config(REPO / "config.toml")
    inbox = tmp_path_factory.mktemp("caps") / "inbox"
    periods = config.campaigns[0].periods
    samples.generate_inbox(config, inbox, periods, scenario="demo")
    submissions = pipeline.ingest(config, inbox).submissions
    result = aggregate(config, periods[-1], submissions, final=True)
    return config, result, commend.decide(config, result)


def test_proposal_list_is_capped_with_a_row_pointing_to_the_workbook(quarter, monkeypatch):
    config, result, decisions = quarter
    proposed = [d for d in decisions if d.proposed and d.subject == commend.INDIVIDUAL]
    cap = 2
    assert len(proposed) > cap, "the demo quarter proposes more individuals than the test cap"
    counted = breakdowns(config, result, decisions)
    full = documents.build_context(config, result, decisions, breakdowns=counted)
    monkeypatch.setattr(documents, "PROPOSAL_ROW_CAP", cap)
    capped = documents.build_context(config, result, decisions, breakdowns=counted)
    assert capped["individuals"][:cap] == full["individuals"][:cap]
    assert len(capped["individuals"]) == cap + 1
    last = capped["individuals"][-1]
    assert last["no"] == "" and last["award"] == ""
    assert f"Còn {len(proposed) - cap} cá nhân khác" in last["name"]
    assert "tong-hop.xlsx" in last["name"] and "Khen thưởng" in last["name"]
    # The counts in the text are of everyone proposed, not of the rows shown.
    assert capped["individuals_count"] == full["individuals_count"]
    assert capped["proposal_counts"] == full["proposal_counts"]


def test_explanation_caps_collectives_and_individuals_keeping_the_proposed_first(quarter, monkeypatch):
    config, result, decisions = quarter
    counted = breakdowns(config, result, decisions)
    full = documents.build_context(config, result, decisions, breakdowns=counted)
    cap = 3
    monkeypatch.setattr(documents, "EXPLANATION_ROW_CAP", cap)
    capped = documents.build_context(config, result, decisions, breakdowns=counted)
    for key in ("explanation_collectives", "explanation_individuals"):
        rows = full[key]
        assert len(rows) > cap
        shown = capped[key]
        assert len(shown) == cap
        # Rows keep the full list's order, the proposed before the rest.
        order = [(r["name"], r["award"]) for r in rows]
        kept = [order.index((r["name"], r["award"])) for r in shown]
        assert kept == sorted(kept)
        proposed = [r for r in rows if r["proposed"]]
        assert [r["name"] for r in shown if r["proposed"]] == [r["name"] for r in proposed[:cap]]
    note = capped["explanation_omitted"]
    assert "Danh sách tập thể chỉ ghi 3 trong số" in note and "Danh sách cá nhân chỉ ghi 3 trong số" in note
    assert full["explanation_omitted"] == ""
