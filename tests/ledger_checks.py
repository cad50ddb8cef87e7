"""The ledger's accounting identities and the KPI contract, as checks any test can run on a
finished model: tests/test_ledger_identities.py runs them on every shipped scenario, and
tests/test_property.py on random valid scenarios."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.fast import FastModel
from sim.ledger import COLUMNS, COST_TYPES, STOCKS
from sim.model import MarketModel
from sim.params import CHANNELS, SOURCES_CUSTOMER, SOURCES_MEMBER
from sim.vocab import State

Model = MarketModel | FastModel


def close(a, b) -> None:
    """Equal up to float summation error."""
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=1e-9, atol=1e-6)


def check_schema(model: Model, led: pd.DataFrame) -> None:
    """The ledger has every column, a row per day and brand, and no missing value."""
    assert list(led.columns) == ["day", "brand", "category", *COLUMNS]
    assert len(led) == model.days * len(model.scenario.brands)
    assert not led[list(COLUMNS)].isna().any().any()


def check_channels_sum_to_total(led: pd.DataFrame) -> None:
    """GMV and orders by channel and by source add up to their totals."""
    close(sum(led[f"gmv_{c}"] for c in CHANNELS), led["gmv_total"])
    close(sum(led[f"orders_{c}"] for c in CHANNELS), led["orders_total"])
    close(led["orders_total"], led["first_orders"] + led["repeat_orders"])
    close(sum(led[f"gmv_source_{s}"] for s in SOURCES_CUSTOMER), led["gmv_total"])
    close(led["gross_profit"] + led["cogs"], led["gmv_total"])
    assert (led["gmv_attr_private"] + led["gmv_attr_public"] <= led["gmv_total"] + 1e-6).all()
    assert (led["gmv_assisted"] <= led["gmv_platform"] + 1e-6).all()


def check_new_customers_and_members(led: pd.DataFrame) -> None:
    """New customers and members by source add up; every new customer is a first order."""
    close(sum(led[f"new_customers_{s}"] for s in SOURCES_CUSTOMER), led["new_customers_total"])
    close(led["new_customers_total"], led["first_orders"])
    close(sum(led[f"new_members_{s}"] for s in SOURCES_MEMBER), led["new_members_total"])


def check_stocks(model: Model, led: pd.DataFrame) -> None:
    """The funnel stocks partition the population; member sub-stocks nest."""
    close(sum(led[f"stock_{s}"] for s in STOCKS), np.full(len(led), model.n_consumers))
    assert (led["stock_reachable"] + led["stock_muted"] == led["stock_members"]).all()
    assert (led["stock_active_members"] <= led["stock_reachable"]).all()
    assert (led["stock_repeat_customers"] <= led["stock_ever_customers"]).all()


def check_costs(led: pd.DataFrame) -> None:
    """Typed costs add up to the total spend and none is negative."""
    close(sum(led[f"cost_{c}"] for c in COST_TYPES), led["cost_total"])
    assert (led["cost_referral_rewards_hunters"] <= led["cost_referral_rewards"] + 1e-9).all()
    assert (led[[f"cost_{c}" for c in COST_TYPES]] >= 0).all().all()


def check_census(model: Model, led: pd.DataFrame) -> None:
    """The last day's stocks equal a count of the engine's own state."""
    last = led[led["day"] == led["day"].max()].set_index("brand")
    if isinstance(model, FastModel):  # the arrays' own state
        W = model.W
        for b, name in enumerate(model.brand_names):
            members = W.m_channel[b] >= 0
            assert members.sum() == last.loc[name, "stock_members"]
            assert (W.funnel[b][members] == State.MEMBER).all()
            assert (W.funnel[b] == State.MEMBER).sum() == members.sum()
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
        assert all(model.funnel[br.index, c.index] == State.MEMBER for c in members)
        ever = sum(int(c.purchases[br.index] > 0) for c in model.consumers)
        assert ever == last.loc[br.name, "stock_ever_customers"]
        assert sum(len(g.members) for g in br.guides) == last.loc[br.name, "stock_members_guide"]


def check_identities(model: Model, led: pd.DataFrame) -> None:
    """Every accounting identity above, on one finished run."""
    check_schema(model, led)
    check_channels_sum_to_total(led)
    check_new_customers_and_members(led)
    check_stocks(model, led)
    check_costs(led)
    check_census(model, led)


def check_kpis_defined_or_none(kpis, where: str = "kpis") -> None:
    """Every KPI is a finite number or None: None is the documented 'undefined' (a ratio with
    a zero denominator, docs/KPIS.md); NaN and inf never appear."""
    if isinstance(kpis, dict):
        for key, value in kpis.items():
            check_kpis_defined_or_none(value, f"{where}.{key}")
    elif isinstance(kpis, list | tuple):
        for k, value in enumerate(kpis):
            check_kpis_defined_or_none(value, f"{where}[{k}]")
    elif kpis is not None and not isinstance(kpis, str | bool):
        assert isinstance(kpis, int | float), f"{where}: {kpis!r} is not a number"
        assert math.isfinite(kpis), f"{where}: {kpis!r} is not finite"
