"""The source cases' growth frameworks, computed from the ledger (docs/KPIS.md, "Frameworks").

- **Tmall FAST** as ratios of the day-end stocks: *reach* (reachable consumer assets: members
  who have not muted the brand, and their share of consumers), *engagement rate* (engaged
  members ÷ reachable members), *membership* (members ÷ customers, members included) and
  *activity* (members who bought within the active window ÷ members).
- **Tencent's waterwheel**, each stage mapped onto a ledger KPI over the run: *inflow* (new
  members), *conversion* (members' share of GMV), *retention* (repurchase rate: repeat
  customers ÷ customers ever) and *fission* (referral rate: referred new customers ÷ new
  customers).
- **The four forces** (product, merchandise, operations, organisation), each mapped onto the
  scenario's levers (`FORCES`) and the KPIs of `sim.kpis.summarize` they move.

The Youzan triangle is `sim.kpis.summarize`'s ``triangle``. Nothing here is a new
measurement: every number is a ratio of ledger columns or a scenario value, so a report
reader can recompute it from `metrics.parquet`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from pydantic import BaseModel

from sim.kpis import ratio
from sim.params import BrandParams, Scenario

FAST_KEYS = ("reach", "reach_share", "engagement_rate", "membership", "activity")
"""Tmall FAST ratios, in the order the report shows them."""
WATERWHEEL_KEYS = ("inflow", "conversion", "retention", "fission")
"""Tencent's waterwheel stages, in flow order."""


@dataclass(frozen=True)
class Force:
    """One of Tencent's four forces: the scenario levers it pulls and the KPIs it moves."""

    name: str
    levers: tuple[str, ...]
    """Keys of a brand's table: `strategy.X`, `X` (the brand's own) or `category.X`."""
    kpis: tuple[str, ...]
    """Keys of a brand's whole-run KPIs (`sim.kpis.summarize`)."""


FORCES: tuple[Force, ...] = (
    Force(
        "product",
        ("category.price", "category.purchases_per_year", "category.sku_breadth", "appeal"),
        ("gmv", "orders", "repurchase_rate"),
    ),
    Force(
        "merchandise",
        (
            "strategy.platform_discount",
            "strategy.private_discount",
            "strategy.member_coupon",
            "strategy.channel_policy",
            "strategy.welcome_gift",
        ),
        ("private_share", "member_share_of_gmv", "gross_profit"),
    ),
    Force(
        "operations",
        (
            "strategy.broadcasts_per_week",
            "strategy.guide_touches_per_day",
            "strategy.package_card_rate",
            "strategy.member_service",
            "strategy.member_need_lift",
        ),
        ("new_members", "engaged", "active_members", "referral_rate", "mutes"),
    ),
    Force(
        "organisation",
        (
            "strategy.guides_per_store",
            "strategy.guide_regime",
            "strategy.koc_count",
            "strategy.employee_distributors",
            "strategy.tooling_per_day",
        ),
        ("guides", "cost_serving", "roi_private", "contribution"),
    ),
)
"""The four forces (Tencent, domain brief mechanism 13) mapped onto levers and KPIs."""


def lever_value(brand: BrandParams, category: BaseModel, key: str) -> object:
    """A brand's value of a lever key of `FORCES`."""
    table, _, name = key.rpartition(".")
    source = {"strategy": brand.strategy, "category": category, "": brand}[table]
    return getattr(source, name)


def fast_ratios(last: pd.Series, consumers: int, brands: int = 1) -> dict[str, float | None]:
    """Tmall FAST from day-end stocks (a brand's last row, or the market's summed)."""
    members = last["stock_members"]
    return {
        "reach": float(last["stock_reachable"]),
        "reach_share": ratio(last["stock_reachable"], consumers * brands),
        "engagement_rate": ratio(last["stock_engaged"], last["stock_reachable"]),
        "membership": ratio(members, last["stock_customers"] + members),
        "activity": ratio(last["stock_active_members"], members),
    }


def waterwheel(flows: pd.Series, last: pd.Series) -> dict[str, float | None]:
    """Tencent's waterwheel stages from summed flows and day-end stocks."""
    return {
        "inflow": float(flows["new_members_total"]),
        "conversion": ratio(flows["gmv_members"], flows["gmv_total"]),
        "retention": ratio(last["stock_repeat_customers"], last["stock_ever_customers"]),
        "fission": ratio(flows["new_customers_referral"], flows["new_customers_total"]),
    }


def _panel(rows: pd.DataFrame, consumers: int) -> dict[str, dict[str, float | None]]:
    brands = int(rows["brand"].nunique())
    numbers = rows.drop(columns=["day", "brand", "category"], errors="ignore")
    last = numbers[rows["day"] == rows["day"].max()].sum()
    return {
        "fast": fast_ratios(last, consumers, brands),
        "waterwheel": waterwheel(numbers.sum(), last),
    }


def frameworks(ledger: pd.DataFrame, scenario: Scenario, kpis: dict | None = None) -> dict:
    """FAST ratios and waterwheel stages per brand and for the market, and the four forces
    per brand: ``{"brands": {name: {"fast", "waterwheel", "forces"}}, "market": {...}}``.
    The forces' KPI values come from `kpis` (a run's `summary["kpis"]`) when given."""
    consumers = scenario.run.consumers
    out: dict = {"brands": {}, "market": _panel(ledger, consumers)}
    for name, rows in ledger.groupby("brand", observed=True, sort=False):
        panel = _panel(rows, consumers)
        bp = scenario.brands[str(name)]
        category = scenario.categories[bp.category]
        brand_kpis = (kpis or {}).get("brands", {}).get(str(name), {})
        panel["forces"] = {
            f.name: {
                "levers": {k: lever_value(bp, category, k) for k in f.levers},
                "kpis": {k: brand_kpis.get(k) for k in f.kpis},
            }
            for f in FORCES
        }
        out["brands"][str(name)] = panel
    return out
