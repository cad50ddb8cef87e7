"""The source cases' frameworks (`sim.frameworks`, docs/KPIS.md section 11) on a small run:
each FAST ratio and waterwheel stage equals its definition recomputed from the ledger's
columns, the stages are the KPIs they map onto, the four forces name real levers and KPIs,
and the run report shows the section."""

from __future__ import annotations

from functools import lru_cache

import pytest

from sim.frameworks import FAST_KEYS, FORCES, WATERWHEEL_KEYS, frameworks, lever_value
from sim.params import Scenario, StrategyParams
from sim.report import frameworks_section
from sim.runner import RunResult, run


@lru_cache(maxsize=1)
def small_run() -> RunResult:
    """A guided brand with referral rewards and an ads-only one, 400 consumers, 60 days."""
    scenario = Scenario.model_validate(
        {
            "name": "frameworks_small",
            "run": {"days": 60, "consumers": 400, "seed": 5},
            "brands": {
                "guided": {
                    "stores": 2,
                    "store_visits_per_day": 8,
                    "initial": {"aware": 0.3, "customers": 0.1, "members": 0.05},
                    "strategy": {
                        "guides_per_store": 1,
                        "package_card_rate": 0.5,
                        "referral_tiers": [{"referrals": 1, "reward": 10.0}],
                    },
                },
                "ads": {"strategy": {"private_ops": False, "ad_budget_per_day": 300}},
            },
        }
    )
    return run(scenario, engine="agents")


def last_and_flows(result: RunResult, brand: str | None):
    ledger = result.ledger
    rows = ledger if brand is None else ledger[ledger["brand"] == brand]
    numbers = rows.drop(columns=["day", "brand", "category"])
    return numbers[rows["day"] == rows["day"].max()].sum(), numbers.sum()


@pytest.mark.parametrize("brand", ["guided", "ads", None])
def test_fast_ratios_and_waterwheel_equal_their_definitions(brand):
    result = small_run()
    fw = frameworks(result.ledger, result.scenario, result.summary["kpis"])
    panel = fw["market"] if brand is None else fw["brands"][brand]
    last, flows = last_and_flows(result, brand)
    n = result.scenario.run.consumers * (2 if brand is None else 1)
    fast, wheel = panel["fast"], panel["waterwheel"]
    assert set(fast) == set(FAST_KEYS) and set(wheel) == set(WATERWHEEL_KEYS)
    assert fast["reach"] == last["stock_reachable"]
    assert fast["reach_share"] == pytest.approx(last["stock_reachable"] / n)
    members = last["stock_members"]
    if brand == "ads":  # no private domain: the member ratios are undefined, not 0
        assert members == 0 and fast["membership"] == 0.0
        assert fast["engagement_rate"] is None and fast["activity"] is None
    else:
        assert members > 0
        assert fast["engagement_rate"] == pytest.approx(
            last["stock_engaged"] / last["stock_reachable"]
        )
        assert fast["membership"] == pytest.approx(members / (last["stock_customers"] + members))
        assert fast["activity"] == pytest.approx(last["stock_active_members"] / members)
    assert wheel["inflow"] == flows["new_members_total"]
    assert wheel["conversion"] == pytest.approx(flows["gmv_members"] / flows["gmv_total"])
    assert wheel["retention"] == pytest.approx(
        last["stock_repeat_customers"] / last["stock_ever_customers"]
    )
    assert wheel["fission"] == pytest.approx(
        flows["new_customers_referral"] / flows["new_customers_total"]
    )


def test_waterwheel_stages_are_the_kpis_they_map_onto():
    result = small_run()
    kpis = result.summary["kpis"]
    fw = frameworks(result.ledger, result.scenario, kpis)
    for name, panel in [*fw["brands"].items(), ("market", fw["market"])]:
        k = kpis["market"] if name == "market" else kpis["brands"][name]
        wheel = panel["waterwheel"]
        assert wheel["inflow"] == k["new_members"]
        assert wheel["conversion"] == pytest.approx(k["member_share_of_gmv"])
        assert wheel["retention"] == pytest.approx(k["repurchase_rate"])
        assert wheel["fission"] == pytest.approx(k["referral_rate"])
        assert panel["fast"]["reach"] == k["triangle"]["ownership"]


def test_four_forces_name_real_levers_and_kpis():
    result = small_run()
    kpis = result.summary["kpis"]
    fw = frameworks(result.ledger, result.scenario, kpis)
    assert [f.name for f in FORCES] == ["product", "merchandise", "operations", "organisation"]
    bp = result.scenario.brands["guided"]
    category = result.scenario.categories[bp.category]
    for force in FORCES:
        got = fw["brands"]["guided"]["forces"][force.name]
        for key in force.levers:
            table, _, name = key.rpartition(".")
            if table == "strategy":
                assert name in StrategyParams.model_fields
            assert got["levers"][key] == lever_value(bp, category, key)
        for key in force.kpis:
            assert key in kpis["brands"]["guided"]
            assert got["kpis"][key] == kpis["brands"]["guided"][key]
    levers = fw["brands"]["guided"]["forces"]["organisation"]["levers"]
    assert levers["strategy.guides_per_store"] == 1


def test_report_shows_the_frameworks():
    result = small_run()
    text = "\n".join(frameworks_section(result, ["guided", "ads"]))
    assert "## Frameworks" in text
    for label in ("FAST · engagement rate", "waterwheel · fission", "organisation"):
        assert label in text
