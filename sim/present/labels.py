"""Human names and units of the KPIs a sweep or comparison reports, for figure titles, axes
and report text: one mapping from a KPI's key (`private_share`, `incremental.contribution`,
`days_to.private_share.0.4`) to what a reader calls it and its unit. docs/KPIS.md defines
each KPI; the names here are the ones the run report's KPI table uses.

A share (unit SHARE) is shown as a percentage: `axis_label` says "(%)" and `share_axis` sets
percent ticks, `fmt_value` writes "42.0%".
"""

from __future__ import annotations

import math
import textwrap
from typing import Any

from sim.present.format import fmt_number

YUAN = "yuan"
SHARE = "%"
RATIO = "yuan per yuan"
PEOPLE = "people"
DAYS = "days"
COUNT = "count"

KPI_LABELS: dict[str, tuple[str, str]] = {
    "gmv": ("GMV", YUAN),
    "gmv_platform": ("GMV on the platform", YUAN),
    "gmv_private": ("GMV in the private shop", YUAN),
    "gmv_store": ("GMV in stores", YUAN),
    "private_share": ("private share of GMV", SHARE),
    "private_influenced_share": ("private-influenced share of GMV", SHARE),
    "member_share_of_gmv": ("members' share of GMV", SHARE),
    "orders": ("orders", COUNT),
    "new_customers": ("new customers", PEOPLE),
    "new_members": ("new members", PEOPLE),
    "gross_profit": ("gross profit", YUAN),
    "marketing_cost": ("marketing cost", YUAN),
    "cost_total": ("cost, all", YUAN),
    "contribution": ("contribution (gross profit − cost)", YUAN),
    "cost_acquisition": ("acquisition cost", YUAN),
    "cost_serving": ("serving cost", YUAN),
    "cost_selling": ("selling cost", YUAN),
    "cac_public": ("CAC public", YUAN),
    "cac_private": ("CAC private", YUAN),
    "cac_blended": ("CAC blended", YUAN),
    "roas_ads": ("ROAS ads", RATIO),
    "roi_public": ("ROI public", RATIO),
    "roi_private": ("ROI private", RATIO),
    "roi_total": ("ROI total", RATIO),
    "retention_cost_per_repeat_order": ("retention cost per repeat order", YUAN),
    "referral_rate": ("referral rate", SHARE),
    "fake_member_share": ("fake member share", SHARE),
    "hunter_reward_share": ("hunters' share of referral rewards", SHARE),
    "touches": ("touches", COUNT),
    "mutes": ("mutes", COUNT),
    "leaves": ("members leaving", PEOPLE),
    "lapses": ("customers lapsing", PEOPLE),
    "members": ("members (end)", PEOPLE),
    "reachable": ("reachable members (end)", PEOPLE),
    "engaged": ("engaged members (end)", PEOPLE),
    "active_members": ("active members (end)", PEOPLE),
    "reach_rate": ("reach rate of members", SHARE),
    "customers": ("customers (end)", PEOPLE),
    "lapsed": ("lapsed customers (end)", PEOPLE),
    "aware_share": ("aware share of consumers", SHARE),
    "repurchase_rate": ("repurchase rate", SHARE),
    "fake_members": ("fake members (end)", PEOPLE),
    "koc_reach": ("KOC reach", PEOPLE),
    "koc_nodes": ("KOC nodes", PEOPLE),
    "koc_reach_per_node": ("KOC reach per node", PEOPLE),
    "guides": ("guides (end)", PEOPLE),
    "acquisition_to_retention_cost": ("CAC ÷ retention cost per repeat order", RATIO),
    "ltv90.all": ("LTV90, all sources", YUAN),
    "ltv365.all": ("LTV365, all sources", YUAN),
    "triangle.ownership": ("triangle · ownership (reachable members)", PEOPLE),
    "triangle.single_customer_value": ("triangle · single-customer value", YUAN),
    "triangle.referral_rate": ("triangle · referral rate", SHARE),
    "private_ops_share": ("share of brands running private operations (end)", SHARE),
    "private_ops_share_start": ("share of brands running private operations (start)", SHARE),
    "private_ops_share_last_year": (
        "share of brands running private operations (last year)",
        SHARE,
    ),
    "private_ops": ("share of brands running private operations", SHARE),
    "private_share_first_quarter": ("private share of GMV, first quarter", SHARE),
    "private_share_last_quarter": ("private share of GMV, last quarter", SHARE),
    # incremental KPIs (sim.effects.METRICS) that are not "incremental " + a KPI above
    "incremental.incremental_roi": ("incremental ROI (Δ gross profit ÷ Δ marketing cost)", RATIO),
    "incremental.payback_day": ("payback day of the private domain", DAYS),
}
"""KPI key -> (human name, unit). Keys under `incremental.` not listed take "incremental "
and the KPI's own name (`incremental.contribution`: incremental contribution)."""

INCREMENTAL = "incremental."
DAYS_TO = "days_to."


def kpi_label(name: str) -> tuple[str, str]:
    """(human name, unit) of a KPI key; an unknown key is its own name without underscores."""
    if name in KPI_LABELS:
        return KPI_LABELS[name]
    if name.startswith(INCREMENTAL):
        label, unit = kpi_label(name.removeprefix(INCREMENTAL))
        return f"incremental {label}", unit
    if name.startswith(DAYS_TO):
        kpi, _, level = name.removeprefix(DAYS_TO).partition(".")
        label = kpi_label(kpi)[0]
        try:
            shown = fmt_value(float(level), kpi)
        except ValueError:
            shown = level
        return f"days until {label} reaches {shown}", DAYS
    for prefix in ("cac_", "ltv90.", "ltv365."):
        if name.startswith(prefix):
            rest = name.removeprefix(prefix)
            head = {"cac_": "CAC", "ltv90.": "LTV90", "ltv365.": "LTV365"}[prefix]
            return f"{head} {rest}", YUAN
    return name.replace("_", " "), ""


def is_share(name: str) -> bool:
    """Whether the KPI is a share (shown as a percentage)."""
    return kpi_label(name)[1] == SHARE


def series_label(brand: str, name: str, market: str = "market") -> str:
    """`ROI private of brand`, `market private share of GMV`: one brand's KPI or the
    market's, as a title or a sentence names it."""
    label = kpi_label(name)[0]
    return f"market {label}" if brand == market else f"{label} of {brand}"


def axis_label(brand: str, name: str, market: str = "market") -> str:
    """A series' label with its unit: `market private share of GMV (%)`."""
    unit = kpi_label(name)[1]
    return series_label(brand, name, market) + (f" ({unit})" if unit else "")


def fmt_value(v: float | None, name: str) -> str:
    """A KPI value as a report writes it: a share as a percentage, else `fmt_number`."""
    if v is None or not math.isfinite(v):
        return fmt_number(v)
    if is_share(name):
        return f"{100 * v:.1f}%"
    return fmt_number(v)


def fmt_width(v: float | None, name: str) -> str:
    """A spread (sd, an interval's half-width) of a KPI: percentage points for a share."""
    if v is None or not math.isfinite(v) or not is_share(name):
        return fmt_number(v)
    return f"{100 * v:.1f} pp"


def wrap(text: str, width: int) -> str:
    """`text` broken into lines of at most `width` characters (a long title or axis label
    on a narrow figure); lines already broken stay broken."""
    return "\n".join(
        "\n".join(textwrap.wrap(line, max(width, 12)) or [""]) for line in text.split("\n")
    )


def fits(fig: Any, text: str, size: float = 10.0) -> str:
    """A figure title wrapped to the figure's width at font `size` (points): about 1.9
    characters per point-inch, so a title never runs off the canvas."""
    return wrap(text, int(fig.get_figwidth() * 72 / (0.55 * size)))


def share_axis(ax: Any, name: str, axis: str = "y") -> None:
    """Percent tick labels on the axis of a share (nothing for other KPIs)."""
    if not is_share(name):
        return
    from matplotlib.ticker import PercentFormatter

    getattr(ax, f"{axis}axis").set_major_formatter(PercentFormatter(1.0, decimals=0))
