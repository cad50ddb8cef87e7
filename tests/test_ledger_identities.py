"""Accounting identities of the ledger, on every shipped scenario (short runs) and on both
engines, and the census against each engine's own state (the checks live in
tests/ledger_checks.py, shared with the property-based test)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario
from sim.fast import FastModel
from sim.kpis import cost_assignment
from sim.ledger import SELLING_COSTS, SHARED_COSTS
from sim.model import MarketModel
from sim.runner import ENGINES, run_rng
from sim.scenario import shipped_scenarios
from sim.vocab import SOURCES_CUSTOMER
from tests.ledger_checks import (
    check_census,
    check_channels_sum_to_total,
    check_costs,
    check_new_customers_and_members,
    check_schema,
    check_stocks,
    close,
)

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


def test_schema_is_complete(short_run):
    check_schema(*short_run)


def test_channels_sum_to_total(short_run):
    check_channels_sum_to_total(short_run[1])


def test_new_customers_and_members_sum_over_sources(short_run):
    check_new_customers_and_members(short_run[1])


def test_stocks_sum_to_population(short_run):
    check_stocks(*short_run)


def test_costs_sum_to_spend(short_run):
    check_costs(short_run[1])


def test_every_cost_is_assigned_once(short_run):
    """Day by day, every yuan of cost_total is booked once to acquiring a source, to serving,
    to selling or to the shared fixed costs; over the run and per brand, the split of the
    shared costs (sim.kpis.cost_assignment) then accounts for cost_total exactly."""
    led = short_run[1]
    booked = sum(led[f"acq_cost_{s}"] for s in SOURCES_CUSTOMER) + led["serve_cost"]
    booked += sum(led[f"cost_{c}"] for c in (*SHARED_COSTS, *SELLING_COSTS))
    close(booked, led["cost_total"])
    assert (led[[f"acq_cost_{s}" for s in SOURCES_CUSTOMER] + ["serve_cost"]] >= 0).all().all()
    flows = led.drop(columns=["day", "brand", "category"])
    for _, rows in [("market", flows), *flows.groupby(led["brand"], observed=True)]:
        t = rows.sum()
        split = cost_assignment(t)
        assert min(split.values()) >= -1e-9
        close(np.array([sum(split.values())]), np.array([t["cost_total"]]))
        acquired = sum(split[f"acquisition_{s}"] for s in SOURCES_CUSTOMER)
        assert acquired >= t["cost_ads"] - 1e-9


def test_node_fees_acquire_the_source_their_posts_credit(short_run):
    """KOC nodes' fees go to acquiring 'koc' customers, small-B nodes' to 'distributor'
    (sim.rules.distributor_source): the source of the brand's node kind carries them all."""
    model, led = short_run
    for b, brand in enumerate(model.scenario.brands.values()):
        rows = led[led["brand"] == led["brand"].cat.categories[b]]
        fees = rows["cost_koc_fees"].sum()
        if fees:
            source = "distributor" if brand.strategy.koc_kind == "small_b" else "koc"
            assert rows[f"acq_cost_{source}"].sum() >= fees - 1e-6


def test_credit_columns_are_parts_of_their_totals(short_run):
    led = short_run[1]
    tol = 1e-9
    assert (
        led["commission_attr_ads"] + led["commission_attr_private"]
        <= led["cost_platform_commission"] + tol
    ).all()
    assert (led["gmv_attr_ads"] <= led["gmv_attr_public"] + tol).all()
    assert (led["orders_attr_ads"] <= led["orders_attr_public"]).all()
    assert (led["new_customers_private"] <= led["new_customers_total"]).all()
    assert (sum(led[f"invites_new_{s}"] for s in SOURCES_CUSTOMER) <= led["invites"]).all()
    discounts = sum(led[f"acq_discounts_{s}"] for s in SOURCES_CUSTOMER)
    assert (led["discounts_first_private"] <= discounts + tol).all()
    assert (discounts <= led["discounts"] + tol).all()
    for domain in ("private", "ads"):  # gross profit of an order is at most its price
        assert (led[f"gross_profit_attr_{domain}"] <= led[f"gmv_attr_{domain}"] + tol).all()


def test_census_matches_the_agents(short_run):
    check_census(*short_run)


def test_spend_matches_the_strategy_on_a_public_brand():
    """Independent check of the cost columns: a brand with only ads pays its budget daily."""
    sc = load_scenario("public_only", SHORT)
    led = MarketModel(sc, rng=run_rng(1))
    led.run()
    frame = led.ledger.to_frame()
    budget = sc.brands["brand"].strategy.ad_budget_per_day
    close(frame["cost_ads"], np.full(len(frame), budget))
    take = sc.platform.take_rate
    close(frame["cost_platform_commission"], frame["gmv_platform"] * take)


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
