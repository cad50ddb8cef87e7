"""KPIs, derived from the ledger only (so every KPI is a function of ledger columns and
accounting identities can be tested). Definitions are in docs/KPIS.md and the report.

`summarize(ledger)` gives the whole-run KPIs per brand and for the market under stable
names; `periodic(ledger, days)` gives the time series the report plots.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from sim.params import CHANNELS, SOURCES_CUSTOMER

PRIVATE_COSTS = (
    "cost_guide_salary",
    "cost_guide_commission",
    "cost_koc_commission",
    "cost_koc_fees",
    "cost_referral_rewards",
    "cost_welcome_gifts",
    "cost_points",  # private lifts public (ODD 7.21)
    "cost_tooling",
)
"""Cash spent on private-domain operations (ROI private's cost with the platform's take on
the orders credited to the private domain)."""
PRIVATE_SOURCES = ("referral", "koc", "distributor")
"""Customer sources that are the private domain's own reach."""

MIN_EVENTS = 30
"""Fewest events (customers, orders, members ...) a ratio KPI must rest on to be shown: below
it the report and the console print the ratio as withheld, with its count and this minimum
(the summary keeps the raw value, so sweeps can still average it). 30 is the usual floor
for a mean to be roughly normal; a CAC from 12 customers moves by a third when one more
customer comes or goes."""


def ratio(num: float, den: float) -> float | None:
    """num/den, or None (JSON null) when the denominator is zero: an undefined KPI. A quotient
    beyond the float range (a denominator of a few denormal yuan, e.g. a 5e-324 take rate)
    is undefined too, rather than inf."""
    if not den:
        return None
    value = float(num) / float(den)
    return value if math.isfinite(value) else None


def cost_assignment(t: Mapping[str, float]) -> dict[str, float]:
    """Every yuan of `cost_total` over a window assigned once (docs/KPIS.md, "Where every
    cost goes"): ``acquisition_<source>`` for each customer source, ``serving`` (existing
    customers and members) and ``selling`` (platform commission); the keys sum to
    `cost_total`.

    Costs tied to an event are assigned where they are booked (``acq_cost_<source>``,
    ``serve_cost``). Guides' salaries and tooling, shared fixed costs, follow the private
    domain's activity in the window, one unit per action: each invitation to a consumer who
    has not bought yet is acquisition work for its source (``invites_new_<source>``), each
    other invitation and each touch delivered is serving work. A window with no action puts
    them on serving (operations kept up with no one to acquire)."""
    shared = t["cost_guide_salary"] + t["cost_tooling"]
    actions = t["invites"] + t["touches_total"]
    out = {}
    assigned = 0.0
    for s in SOURCES_CUSTOMER:
        share = shared * t[f"invites_new_{s}"] / actions if actions else 0.0
        assigned += share
        out[f"acquisition_{s}"] = float(t[f"acq_cost_{s}"] + share)
    out["serving"] = float(t["serve_cost"] + shared - assigned)
    out["selling"] = float(t["cost_platform_commission"])
    return out


def acquisition_costs(t: Mapping[str, float]) -> dict[str, float]:
    """What acquiring the customers of each source cost over a window: its cash
    (`cost_assignment`) plus the discounts given on their first orders (foregone revenue;
    CAC counts them because a first-order discount is a price paid to win a customer)."""
    cash = cost_assignment(t)
    return {s: cash[f"acquisition_{s}"] + float(t[f"acq_discounts_{s}"]) for s in SOURCES_CUSTOMER}


def flow_kpis(t: Mapping[str, float]) -> dict[str, float | None]:
    """KPIs of summed flows (a brand's or the market's totals over some window)."""
    cash = cost_assignment(t)
    acq = acquisition_costs(t)
    private_acq = (
        sum(cash[f"acquisition_{s}"] for s in SOURCES_CUSTOMER)
        - t["cost_ads"]
        + t["discounts_first_private"]
    )
    public_cost = t["cost_ads"] + t["commission_attr_ads"]
    private_cost = sum(t[c] for c in PRIVATE_COSTS) + t["commission_attr_private"]
    out = {
        "gmv": float(t["gmv_total"]),
        "gmv_platform": float(t["gmv_platform"]),
        "gmv_private": float(t["gmv_private"]),
        "gmv_store": float(t["gmv_store"]),
        "private_share": ratio(t["gmv_private"], t["gmv_total"]),
        "private_influenced_share": ratio(t["gmv_attr_private"], t["gmv_total"]),
        "member_share_of_gmv": ratio(t["gmv_members"], t["gmv_total"]),
        "orders": float(t["orders_total"]),
        "new_customers": float(t["new_customers_total"]),
        "new_members": float(t["new_members_total"]),
        "gross_profit": float(t["gross_profit"]),
        "cost_total": float(t["cost_total"]),
        "contribution": float(t["gross_profit"] - t["cost_total"]),
        "cost_acquisition": float(sum(cash[f"acquisition_{s}"] for s in SOURCES_CUSTOMER)),
        "cost_serving": cash["serving"],
        "cost_selling": cash["selling"],
        **{f"cac_{s}": ratio(acq[s], t[f"new_customers_{s}"]) for s in SOURCES_CUSTOMER},
        "cac_public": ratio(t["cost_ads"], t["new_customers_ads"]),
        "cac_private": ratio(private_acq, t["new_customers_private"]),
        "cac_blended": ratio(sum(acq.values()), t["new_customers_total"]),
        "roas_ads": ratio(t["gmv_first_ads"], t["cost_ads"]),
        "roi_public": ratio(t["gross_profit_attr_ads"], public_cost),
        "roi_private": ratio(t["gross_profit_attr_private"], private_cost),
        "roi_total": ratio(t["gross_profit"], t["cost_total"]),
        "retention_cost_per_repeat_order": ratio(cash["serving"], t["repeat_orders_members"]),
        "referral_rate": ratio(t["new_customers_referral"], t["new_customers_total"]),
        "fake_member_share": ratio(t["fake_members"], t["fake_members"] + t["new_members_total"]),
        "hunter_reward_share": ratio(
            t["cost_referral_rewards_hunters"], t["cost_referral_rewards"]
        ),
        "touches": float(t["touches_total"]),
        "mutes": float(t["mutes"]),
        "leaves": float(t["leaves"]),
        "lapses": float(t["lapses"]),
        # order values and baskets (issue 12, item 5): the mean order value paid, by channel
        "order_value": ratio(t["gmv_total"], t["orders_total"]),
        **{f"order_value_{c}": ratio(t[f"gmv_{c}"], t[f"orders_{c}"]) for c in CHANNELS},
    }
    return out


def flow_counts(t: Mapping[str, float]) -> dict[str, float]:
    """The event count each ratio of `flow_kpis` rests on (its denominator's events)."""
    return {
        "private_share": float(t["orders_total"]),
        "private_influenced_share": float(t["orders_total"]),
        "member_share_of_gmv": float(t["orders_total"]),
        **{f"cac_{s}": float(t[f"new_customers_{s}"]) for s in SOURCES_CUSTOMER},
        "cac_public": float(t["new_customers_ads"]),
        "cac_private": float(t["new_customers_private"]),
        "cac_blended": float(t["new_customers_total"]),
        "roas_ads": float(t["new_customers_ads"]),
        "roi_public": float(t["orders_attr_ads"]),
        "roi_private": float(t["orders_attr_private"]),
        "roi_total": float(t["orders_total"]),
        "retention_cost_per_repeat_order": float(t["repeat_orders_members"]),
        "referral_rate": float(t["new_customers_total"]),
        "fake_member_share": float(t["fake_members"] + t["new_members_total"]),
        "hunter_reward_share": float(t["fake_members"] + t["new_members_referral"]),
        "order_value": float(t["orders_total"]),
        **{f"order_value_{c}": float(t[f"orders_{c}"]) for c in CHANNELS},
    }


def ltv_by_source(t: Mapping[str, float]) -> dict[str, dict[str, float | None]]:
    """90- and 365-day LTV (GMV per acquired customer, and its present value) by acquisition
    source, over the cohorts that reached that age within the run (None if none did)."""
    out: dict[str, dict[str, float | None]] = {}
    for h in (90, 365):
        for kind in ("gmv", "pv"):
            key = f"ltv{h}" if kind == "gmv" else f"ltv{h}_pv"
            per = {
                s: ratio(t[f"cohort{h}_{kind}_{s}"], t[f"cohort{h}_n_{s}"])
                for s in SOURCES_CUSTOMER
            }
            n_all = sum(t[f"cohort{h}_n_{s}"] for s in SOURCES_CUSTOMER)
            per["all"] = ratio(sum(t[f"cohort{h}_{kind}_{s}"] for s in SOURCES_CUSTOMER), n_all)
            out[key] = per
    return out


def ltv_counts(t: Mapping[str, float]) -> dict[str, dict[str, float]]:
    """The cohort sizes (customers who reached the horizon) the LTVs of `ltv_by_source`
    rest on, keyed like them."""
    out: dict[str, dict[str, float]] = {}
    for h in (90, 365):
        per = {s: float(t[f"cohort{h}_n_{s}"]) for s in SOURCES_CUSTOMER}
        per["all"] = float(sum(per.values()))
        out[f"ltv{h}"] = per
        out[f"ltv{h}_pv"] = dict(per)
    return out


def stock_counts(last: Mapping[str, float], consumers: int, brands: int = 1) -> dict[str, float]:
    """The count each ratio of `stock_kpis` rests on."""
    return {
        "reach_rate": float(last["stock_members"]),
        "aware_share": float(consumers * brands),
        "repurchase_rate": float(last["stock_ever_customers"]),
        "koc_reach_per_node": float(last["stock_koc_nodes"]),
    }


def stock_kpis(
    last: Mapping[str, float], consumers: int, brands: int = 1
) -> dict[str, float | None]:
    """KPIs of the day-end stocks (a brand's last row, or the market's summed over brands:
    market stocks count consumer-brand relationships, so a consumer who is a member of two
    brands counts twice)."""
    repurchase = ratio(last["stock_repeat_customers"], last["stock_ever_customers"])
    return {
        "members": float(last["stock_members"]),
        "reachable": float(last["stock_reachable"]),
        "engaged": float(last["stock_engaged"]),
        "active_members": float(last["stock_active_members"]),
        "reach_rate": ratio(last["stock_reachable"], last["stock_members"]),
        "customers": float(last["stock_customers"] + last["stock_members"]),
        "lapsed": float(last["stock_lapsed"]),
        "aware_share": 1.0 - float(last["stock_unaware"]) / (consumers * brands)
        if consumers
        else None,
        "repurchase_rate": repurchase,
        "fake_members": float(last["stock_fake_members"]),
        "koc_reach": float(last["stock_koc_reach"]),
        "koc_nodes": float(last["stock_koc_nodes"]),
        "koc_reach_per_node": ratio(last["stock_koc_reach"], last["stock_koc_nodes"]),
        "guides": float(last["stock_guides"]),
    }


def _by_column(totals: pd.Series) -> dict:
    """A Series of column totals as a plain dict (the same values as Python scalars): the
    KPI functions read a few hundred totals one by one, and a Series lookup costs
    microseconds each, a tenth of a small run's time."""
    return dict(zip(totals.index, totals.tolist(), strict=True))


def _summary_of(rows: pd.DataFrame, consumers: int) -> dict:
    brands = int(rows["brand"].nunique())
    flows = _by_column(rows.drop(columns=["day", "brand", "category"], errors="ignore").sum())
    last_day = rows["day"].max()
    last = _by_column(
        rows[rows["day"] == last_day]
        .drop(columns=["day", "brand", "category"], errors="ignore")
        .sum()
    )
    out = flow_kpis(flows)
    out.update(stock_kpis(last, consumers, brands))
    ltv = ltv_by_source(flows)
    out.update(ltv)
    value = ltv["ltv365"]["all"] if ltv["ltv365"]["all"] is not None else ltv["ltv90"]["all"]
    out["triangle"] = {
        "ownership": float(last["stock_reachable"]),
        "single_customer_value": value * out["repurchase_rate"]
        if value is not None and out["repurchase_rate"] is not None
        else None,
        "referral_rate": out["referral_rate"],
    }
    out["fast"] = {
        "reachable": float(last["stock_reachable"]),
        "engaged": float(last["stock_engaged"]),
        "members": float(last["stock_members"]),
        "active": float(last["stock_active_members"]),
    }
    cac = out["cac_blended"]
    ret = out["retention_cost_per_repeat_order"]
    out["acquisition_to_retention_cost"] = ratio(cac, ret) if cac is not None and ret else None
    counts = flow_counts(flows)
    counts.update(stock_counts(last, consumers, brands))
    counts.update(ltv_counts(flows))
    counts["acquisition_to_retention_cost"] = min(
        counts["cac_blended"], counts["retention_cost_per_repeat_order"]
    )
    out["counts"] = counts
    return out


def withheld(value: float | None, count: float | None, unit: str = "events") -> str | None:
    """Why a ratio is not shown: "n=12 < 30 customers" when it rests on fewer than
    `MIN_EVENTS` events, else None (show it). An undefined ratio (None) is not withheld: it
    shows as undefined. `unit` names the events (customers, orders ...)."""
    if value is None or count is None or count >= MIN_EVENTS:
        return None
    return f"n={count:,.0f} < {MIN_EVENTS} {unit}"


COUNT_UNITS: dict[str, str] = {
    **{f"cac_{s}": "customers" for s in (*SOURCES_CUSTOMER, "public", "private", "blended")},
    "roas_ads": "customers",
    "roi_public": "orders",
    "roi_private": "orders",
    "roi_total": "orders",
    "private_share": "orders",
    "private_influenced_share": "orders",
    "member_share_of_gmv": "orders",
    "retention_cost_per_repeat_order": "orders",
    "referral_rate": "customers",
    "repurchase_rate": "customers",
    "fake_member_share": "sign-ups",
    "hunter_reward_share": "sign-ups",
    "reach_rate": "members",
    "koc_reach_per_node": "nodes",
    "ltv90": "customers",
    "ltv365": "customers",
    "ltv90_pv": "customers",
    "ltv365_pv": "customers",
    "order_value": "orders",
    **{f"order_value_{c}": "orders" for c in CHANNELS},
}
"""What each ratio's count counts (the word of the withholding reason)."""


def count_of(kpis: dict, key: str, sub: str | None = None) -> float | None:
    """The count behind a KPI of a summary panel (`sub` for a nested KPI such as
    ``ltv90`` / ``all``), or None if it has none."""
    c = kpis.get("counts", {}).get(key)
    if isinstance(c, dict):
        return c.get(sub or "all")
    return c


def shown_reason(kpis: dict, key: str, sub: str | None = None) -> str | None:
    """Why a panel's KPI is withheld from the report and the console (`withheld`), or
    None to show it."""
    value = kpis.get(key)
    if isinstance(value, dict):
        value = value.get(sub or "all")
    return withheld(value, count_of(kpis, key, sub), COUNT_UNITS.get(key, "events"))


def summarize(ledger: pd.DataFrame, consumers: int) -> dict:
    """Whole-run KPIs per brand and for the market, plus the market's penetration path
    endpoints and the share of brands running private-domain operations."""
    brands = {
        str(name): _summary_of(rows, consumers)
        for name, rows in ledger.groupby("brand", observed=True, sort=False)
    }
    market = _summary_of(ledger, consumers)
    last_day = ledger["day"].max()
    market["private_ops_share"] = float(ledger.loc[ledger["day"] == last_day, "private_ops"].mean())
    market["private_ops_share_start"] = float(ledger.loc[ledger["day"] == 0, "private_ops"].mean())
    first = ledger[ledger["day"] < 90]
    final = ledger[ledger["day"] > last_day - 90]
    market["private_share_first_quarter"] = ratio(
        first["gmv_private"].sum(), first["gmv_total"].sum()
    )
    market["private_share_last_quarter"] = ratio(
        final["gmv_private"].sum(), final["gmv_total"].sum()
    )
    market["private_ops_share_last_year"] = float(
        ledger.loc[ledger["day"] > last_day - 365, "private_ops"].mean()
    )
    return {"brands": brands, "market": market}


def _clean(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def periodic(ledger: pd.DataFrame, days: int = 30, by_brand: bool = True) -> pd.DataFrame:
    """KPI time series over windows of `days` days (per brand, or for the market)."""
    df = ledger.assign(period=ledger["day"] // days)
    keys = ["period", "brand"] if by_brand else ["period"]
    flow_cols = [
        c
        for c in ledger.columns
        if not c.startswith("stock_")
        and c not in ("day", "brand", "category", "private_ops", "cpm")
    ]
    flows = df.groupby(keys, observed=True)[flow_cols].sum()
    last = df[df["day"] == df.groupby("period")["day"].transform("max")]
    stock_cols = [c for c in ledger.columns if c.startswith("stock_")] + ["private_ops"]
    stocks = (
        last.groupby(keys, observed=True)[stock_cols].sum()
        if by_brand
        else last.groupby("period")[stock_cols].agg(
            {**{c: "sum" for c in stock_cols}, "private_ops": "mean"}
        )
    )
    rows = []
    for key, t in flows.iterrows():
        k = flow_kpis(t)
        rec = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        rec.update({n: (np.nan if v is None else v) for n, v in k.items()})
        rows.append(rec)
    out = pd.DataFrame(rows).set_index(keys).join(stocks).reset_index()
    out["day"] = np.minimum((out["period"] + 1) * days, int(ledger["day"].max()) + 1) - 1
    out["cpm"] = df.groupby(keys, observed=True)["cpm"].mean().to_numpy()
    return out
