"""Accounting identities of the ledger, on every shipped scenario (short runs) and on both
engines, and the census against each engine's own state."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario
from sim.agents import MEMBER
from sim.fast import FastModel
from sim.ledger import COLUMNS, COST_TYPES, STOCKS
from sim.model import MarketModel
from sim.params import CHANNELS, SOURCES_CUSTOMER, SOURCES_MEMBER
from sim.runner import ENGINES, run_rng
from sim.scenario import shipped_scenarios

SHORT = {"run.days": 60, "run.consumers": 400}
MODELS = {"agents": MarketModel, "fast": FastModel}
CASES = [(path, engine) for path in shipped_scenarios() for engine in ENGINES]


def _short_run(path, engine: str) -> tuple[MarketModel | FastModel, pd.DataFrame]:
    sc = load_scenario(path, SHORT)
    model = MODELS[engine](sc, rng=run_rng(7))
    model.run()
    return model, model.ledger.to_frame()


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{c[0].stem}-{c[1]}")
def short_run(request):
    return _short_run(*request.param)


def _close(a, b) -> None:
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=1e-9, atol=1e-6)


def test_schema_is_complete(short_run):
    model, led = short_run
    assert list(led.columns) == ["day", "brand", "category", *COLUMNS]
    assert len(led) == model.days * len(model.scenario.brands)
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
    if isinstance(model, FastModel):  # the arrays' own state
        W = model.W
        for b, name in enumerate(model.brand_names):
            members = W.m_channel[b] >= 0
            assert members.sum() == last.loc[name, "stock_members"]
            assert (W.funnel[b][members] == MEMBER).all()
            assert (W.funnel[b] == MEMBER).sum() == members.sum()
            assert (W.purchases[b] > 0).sum() == last.loc[name, "stock_ever_customers"]
            assert (W.m_guide[b] >= 0).sum() == last.loc[name, "stock_members_guide"]
            guides = slice(W.b_glo[b], W.b_ghi[b])
            assert W.g_n[guides].sum() == last.loc[name, "stock_members_guide"]
            reachable = members & ~W.m_muted[b] & (W.m_guide[b] >= 0)
            assert W.g_len[guides].sum() == reachable.sum()
        return
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


def _parquet_bytes(path, seed: int, engine: str) -> bytes:
    sc = load_scenario(path, SHORT)
    model = MODELS[engine](sc, rng=run_rng(seed))
    model.run()
    buf = io.BytesIO()
    model.ledger.to_frame().to_parquet(buf, index=False, compression="zstd")
    return buf.getvalue()


@pytest.mark.parametrize(("path", "engine"), CASES, ids=lambda c: getattr(c, "stem", c))
def test_same_seed_same_bytes_other_seed_differs(path, engine):
    assert _parquet_bytes(path, 3, engine) == _parquet_bytes(path, 3, engine)
    assert _parquet_bytes(path, 3, engine) != _parquet_bytes(path, 4, engine)
