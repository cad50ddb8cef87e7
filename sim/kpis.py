"""KPIs, derived from the ledger only (so every KPI is a function of ledger columns and
accounting identities can be tested). Definitions are in docs/KPIS.md and the report.

`summarize(ledger)` gives the whole-run KPIs per brand and for the market under stable
names; `periodic(ledger, days)` gives the time series the report plots.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.params import SOURCES_CUSTOMER

PUBLIC_COSTS = ("cost_ads", "cost_platform_commission")
PRIVATE_COSTS = (
    "cost_guide_salary",
    "cost_guide_commission",
    "cost_koc_commission",
    "cost_koc_fees",
    "cost_referral_rewards",
    "cost_welcome_gifts",
    "cost_tooling",
)
PRIVATE_ACQUISITION_COSTS = ("cost_referral_rewards", "cost_koc_commission", "cost_koc_fees")
"""Private costs that bring new customers (divided by customers from PRIVATE_SOURCES)."""
PRIVATE_RETENTION_COSTS = (
    "cost_guide_salary",
    "cost_guide_commission",
    "cost_tooling",
    "cost_welcome_gifts",
)
"""Private costs of serving members (divided by members' repeat orders)."""
PRIVATE_SOURCES = ("referral", "koc", "distributor")


def ratio(num: float, den: float) -> float | None:
    """num/den, or None (JSON null) when the denominator is zero: an undefined KPI. A quotient
    beyond the float range (a denominator of a few denormal yuan, e.g. a 5e-324 take rate)
    is undefined too, rather than inf."""
    if not den:
        return None
    value = float(num) / float(den)
    return value if math.isfinite(value) else None


def _unit_cogs(t: pd.Series | pd.DataFrame) -> float:
    return ratio(t["cogs"], t["orders_total"]) or 0.0


def flow_kpis(t: pd.Series) -> dict[str, float | None]:
    """KPIs of summed flows (a brand's or the market's totals over some window)."""
    unit_cogs = _unit_cogs(t)
    gp_public = t["gmv_attr_public"] - t["orders_attr_public"] * unit_cogs
    gp_private = t["gmv_attr_private"] - t["orders_attr_private"] * unit_cogs
    public_cost = sum(t[c] for c in PUBLIC_COSTS)
    private_cost = sum(t[c] for c in PRIVATE_COSTS)
    new_private = sum(t[f"new_customers_{s}"] for s in PRIVATE_SOURCES)
    acq_cost = t["cost_ads"] + sum(t[c] for c in PRIVATE_ACQUISITION_COSTS)
    return {
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
        "cac_public": ratio(t["cost_ads"], t["new_customers_ads"]),
        "cac_private": ratio(sum(t[c] for c in PRIVATE_ACQUISITION_COSTS), new_private),
        "cac_blended": ratio(acq_cost, t["new_customers_total"]),
        "roas_ads": ratio(t["gmv_first_ads"], t["cost_ads"]),
        "roi_public": ratio(gp_public, public_cost),
        "roi_private": ratio(gp_private, private_cost),
        "roi_total": ratio(t["gross_profit"], t["cost_total"]),
        "retention_cost_per_repeat_order": ratio(
            sum(t[c] for c in PRIVATE_RETENTION_COSTS), t["repeat_orders_members"]
        ),
        "referral_rate": ratio(t["new_customers_referral"], t["new_customers_total"]),
        "fake_member_share": ratio(t["fake_members"], t["fake_members"] + t["new_members_total"]),
        "hunter_reward_share": ratio(
            t["cost_referral_rewards_hunters"], t["cost_referral_rewards"]
        ),
        "touches": float(t["touches_total"]),
        "mutes": float(t["mutes"]),
        "leaves": float(t["leaves"]),
        "lapses": float(t["lapses"]),
    }


def ltv_by_source(t: pd.Series) -> dict[str, dict[str, float | None]]:
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


def stock_kpis(last: pd.Series, consumers: int, brands: int = 1) -> dict[str, float | None]:
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


def _summary_of(rows: pd.DataFrame, consumers: int) -> dict:
    brands = int(rows["brand"].nunique())
    flows = rows.drop(columns=["day", "brand", "category"], errors="ignore").sum()
    last_day = rows["day"].max()
    last = (
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
    return out


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
