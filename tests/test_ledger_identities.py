"""Accounting identities of the ledger, on every shipped scenario (short runs), and the
census against the agents' own state."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario
from sim.agents import MEMBER
from sim.ledger import COLUMNS, COST_TYPES, STOCKS
from sim.model import MarketModel
from sim.params import CHANNELS, SOURCES_CUSTOMER, SOURCES_MEMBER
from sim.runner import run_rng
from sim.scenario import shipped_scenarios

SHORT = {"run.days": 60, "run.consumers": 400}


def _short_run(path) -> tuple[MarketModel, pd.DataFrame]:
    sc = load_scenario(path, SHORT)
    model = MarketModel(sc, rng=run_rng(7))
    model.run()
    return model, model.ledger.to_frame()


@pytest.fixture(scope="module", params=shipped_scenarios(), ids=lambda p: p.stem)
def short_run(request):
    return _short_run(request.param)


def _close(a, b) -> None:
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=1e-9, atol=1e-6)


def test_schema_is_complete(short_run):
    model, led = short_run
    assert list(led.columns) == ["day", "brand", "category", *COLUMNS]
    assert len(led) == model.days * len(model.brands)
    assert not led[list(COLUMNS)].isna().any().any()


def test_channels_sum_to_total(short_run):
    _, led = short_run
    _close(sum(led[f"gmv_{c}"] for c in CHANNELS), led["gmv_total"])
    _close(sum(led[f"orders_{c}"] for c in CHANNELS), led["orders_total"])
    _close(led["orders_total"], led["first_orders"] + led["repeat_orders"])
    _close(sum(led[f"gmv_source_{s}"] for s in SOURCES_CUSTOMER), led["gmv_total"])
    _close(led["gross_profit"] + led["cogs"], led["gmv_total"])
    assert (led["gmv_attr_private"] + led["gmv_attr_public"] <= led["gmv_total"] + 1e-6).all()
    assert (led["gmv_assisted"] <= led["gmv_platform"] + 1e-6).all()


def test_new_customers_and_members_sum_over_sources(short_run):
    _, led = short_run
    _close(sum(led[f"new_customers_{s}"] for s in SOURCES_CUSTOMER), led["new_customers_total"])
    _close(led["new_customers_total"], led["first_orders"])
    _close(sum(led[f"new_members_{s}"] for s in SOURCES_MEMBER), led["new_members_total"])


def test_stocks_sum_to_population(short_run):
    model, led = short_run
    _close(sum(led[f"stock_{s}"] for s in STOCKS), np.full(len(led), model.n_consumers))
    assert (led["stock_reachable"] + led["stock_muted"] == led["stock_members"]).all()
    assert (led["stock_active_members"] <= led["stock_reachable"]).all()
    assert (led["stock_repeat_customers"] <= led["stock_ever_customers"]).all()


def test_costs_sum_to_spend(short_run):
    _, led = short_run
    _close(sum(led[f"cost_{c}"] for c in COST_TYPES), led["cost_total"])
    assert (led["cost_referral_rewards_hunters"] <= led["cost_referral_rewards"] + 1e-9).all()
    assert (led[[f"cost_{c}" for c in COST_TYPES]] >= 0).all().all()


def test_census_matches_the_agents(short_run):
    model, led = short_run
    last = led[led["day"] == led["day"].max()].set_index("brand")
    for br in model.brands:
        members = [c for c in model.consumers if br.index in c.memberships]
        assert len(members) == last.loc[br.name, "stock_members"]
        assert all(model.funnel[br.index, c.index] == MEMBER for c in members)
        ever = sum(int(c.purchases[br.index] > 0) for c in model.consumers)
        assert ever == last.loc[br.name, "stock_ever_customers"]
        assert sum(len(g.members) for g in br.guides) == last.loc[br.name, "stock_members_guide"]


def test_spend_matches_the_strategy_on_a_public_brand():
    """Independent check of the cost columns: a brand with only ads pays its budget daily."""
    sc = load_scenario("public_only", SHORT)
    led = MarketModel(sc, rng=run_rng(1))
    led.run()
    frame = led.ledger.to_frame()
    budget = sc.brands["brand"].strategy.ad_budget_per_day
    _close(frame["cost_ads"], np.full(len(frame), budget))
    take = sc.platform.take_rate
    _close(frame["cost_platform_commission"], frame["gmv_platform"] * take)


def _parquet_bytes(path, seed: int) -> bytes:
    sc = load_scenario(path, SHORT)
    model = MarketModel(sc, rng=run_rng(seed))
    model.run()
    buf = io.BytesIO()
    model.ledger.to_frame().to_parquet(buf, index=False, compression="zstd")
    return buf.getvalue()


@pytest.mark.parametrize("path", shipped_scenarios(), ids=lambda p: p.stem)
def test_same_seed_same_bytes_other_seed_differs(path):
    assert _parquet_bytes(path, 3) == _parquet_bytes(path, 3)
    assert _parquet_bytes(path, 3) != _parquet_bytes(path, 4)
