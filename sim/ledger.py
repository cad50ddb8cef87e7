"""The daily ledger: one tidy row per day × brand, plain numbers, the only thing KPIs read.

Money and counts are accounted once, here. Flow columns are summed over the day; stock
columns are a census taken at the end of the day. The schema is fixed (both engines write
it), and every column is documented in `COLUMNS`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.vocab import (
    CHANNELS,
    COHORT_HORIZONS,
    LIFECYCLE_SEGMENTS,
    MEMBER_CHANNELS,
    SOURCES_CUSTOMER,
    SOURCES_MEMBER,
    STATE_NAMES,
    TOUCH_KINDS,
)

COST_TYPES = (
    "ads",
    "platform_commission",
    "guide_salary",
    "guide_commission",
    "koc_commission",
    "koc_fees",
    "referral_rewards",
    "welcome_gifts",
    "tooling",
    "points",  # private lifts public (ODD 7.21): points issued to members
)
"""Cash spent by the brand; `cost_total` is their sum. Discounts are foregone revenue,
kept apart in `discounts` (GMV is recorded at the price paid).

Every yuan of `cost_total` is assigned once (docs/KPIS.md, "Where every cost goes"): at its
event to acquiring a customer of one source (``acq_cost_<source>``) or to serving existing
customers and members (``serve_cost``); platform commission to selling; guides' salaries
and tooling (SHARED_COSTS) are split by activity in `sim.kpis.cost_assignment`."""

SHARED_COSTS = ("guide_salary", "tooling")
"""Fixed costs of private-domain operations shared by acquisition and serving."""
SELLING_COSTS = ("platform_commission",)
"""Costs of selling any order, whoever acquired the customer."""

STOCKS = STATE_NAMES
"""Mutually exclusive funnel states towards a brand; they sum to the population."""

_flow: dict[str, str] = {}
for ch in CHANNELS:
    _flow[f"gmv_{ch}"] = f"yuan: GMV of orders placed in the {ch} channel"
    _flow[f"orders_{ch}"] = f"orders placed in the {ch} channel"
for s in SOURCES_CUSTOMER:
    _flow[f"new_customers_{s}"] = f"first orders by consumers who heard of the brand via {s}"
    _flow[f"gmv_source_{s}"] = f"yuan: GMV from customers acquired via {s}"
    _flow[f"gmv_first_{s}"] = f"yuan: GMV of first orders by customers acquired via {s}"
    _flow[f"acq_cost_{s}"] = (
        f"yuan: cash cost booked at an event that acquires a customer via {s}: ad spend "
        "(ads), referral rewards (referral), KOC and small-B fees (koc, distributor), guide "
        "and distributor commissions on first orders, welcome gifts to joiners who have not "
        "bought yet"
    )
    _flow[f"acq_discounts_{s}"] = (
        f"yuan: discounts on first orders by customers acquired via {s} (foregone revenue)"
    )
    _flow[f"invites_new_{s}"] = (
        f"invitations into the private domain to consumers not yet customers, who heard of "
        f"the brand via {s} (acquisition work of the private domain)"
    )
for s in SOURCES_MEMBER:
    _flow[f"new_members_{s}"] = f"consumers joining the private domain via {s}"
for c in COST_TYPES:
    _flow[f"cost_{c}"] = f"yuan: spend on {c.replace('_', ' ')}"
for s in SOURCES_CUSTOMER:
    for h in COHORT_HORIZONS:
        _flow[f"cohort{h}_gmv_{s}"] = (
            f"yuan: first-{h}-day GMV of {s} customers whose {h}th day since acquisition is today"
            " (a customer who lapsed and came back keeps its old cohort, booked on its day)"
        )
        _flow[f"cohort{h}_n_{s}"] = f"{s} customers reaching their {h}th day since acquisition"
        _flow[f"cohort{h}_pv_{s}"] = (
            f"yuan: first-{h}-day GMV of those customers, discounted to acquisition day"
        )

FLOWS: dict[str, str] = {
    **_flow,
    "gmv_total": "yuan: GMV over all channels (summed order by order)",
    "orders_total": "orders over all channels",
    "units_total": "units sold",
    "gmv_assisted": "yuan: platform GMV paid with coupons pushed from the private domain",
    "gmv_members": "yuan: GMV placed by private-domain members (any channel)",
    "gmv_guided": "yuan: GMV of orders prompted by a guide's message",
    "gmv_pushed": "yuan: GMV of orders prompted by any private-domain touch",
    "gmv_koc": "yuan: GMV of orders through KOC, small-B or employee links",
    "gmv_attr_private": "yuan: GMV credited to the private domain: private-shop orders, orders "
    "prompted by a private touch or a KOC link, platform orders paid with a member coupon",
    "orders_attr_private": "orders credited to the private domain",
    "gmv_attr_public": "yuan: platform GMV not credited to the private domain",
    "orders_attr_public": "platform orders not credited to the private domain",
    "gross_profit": "yuan: GMV minus cost of goods",
    "cogs": "yuan: cost of goods sold",
    "discounts": "yuan: list price minus price paid (foregone revenue)",
    "first_orders": "orders that were a customer's first with the brand",
    "repeat_orders": "orders by customers who had bought before",
    "repeat_orders_members": "repeat orders placed by members",
    "new_customers_total": "first orders (new customers, re-acquired lapsed included)",
    "new_members_total": "consumers joining the private domain",
    "fake_members": "fake accounts registered by coupon hunters' referrals",
    "referrals": "real friends referred by members",
    "invites": "private-domain invitations made (guides, cards, KOCs, referrals)",
    **{f"touches_{k}": f"{k} touches delivered" for k in TOUCH_KINDS},
    "touches_total": "touches delivered",
    "mutes": "members who muted the brand",
    "leaves": "members who left the private domain (feeling harvested, or muted and then gone)",
    "lapses": "customers who dropped out (BG/NBD) after a purchase",
    "impressions": "ad impressions bought",
    "cpm": "yuan per 1000 impressions paid today",
    "cost_total": "yuan: all cash spend (sum of the cost_* columns)",
    "cost_referral_rewards_hunters": "yuan: part of referral rewards paid for fake accounts",
    "serve_cost": "yuan: cash cost booked at an event that serves an existing customer or "
    "member: guide and distributor commissions on repeat orders, welcome gifts to joiners "
    "who have bought before",
    "new_customers_private": "first orders the private domain acquired: placed by a member, "
    "credited to the private domain, or by a customer acquired via referral, KOC or "
    "distributor",
    "discounts_first_private": "yuan: discounts on those first orders (foregone revenue)",
    "gmv_attr_ads": "yuan: platform GMV of ad-acquired customers not credited to the private "
    "domain (the orders the public domain is credited with)",
    "orders_attr_ads": "platform orders of ad-acquired customers not credited to the private "
    "domain",
    "gross_profit_attr_ads": "yuan: gross profit of those orders",
    "gross_profit_attr_private": "yuan: gross profit of orders credited to the private domain",
    "commission_attr_ads": "yuan: platform commission on orders credited to the public domain "
    "(part of cost_platform_commission)",
    "commission_attr_private": "yuan: platform commission on orders credited to the private "
    "domain (platform orders paid with a member coupon or prompted by a private touch or "
    "link; part of cost_platform_commission)",
    "koc_reached": "consumers reached by KOC/small-B/employee posts today (with repeats)",
    "budget_bound": "1 if the brand's annual_budget stopped its ads today (sim.rules."
    "ads_within_budget; summed over a window: days bound)",
    # private lifts public (ODD 7.21)
    "reviews": "platform reviews posted today of the day's platform orders (members and not)",
    "reviews_rewarded": "platform reviews posted by members rewarded with points",
    "cards_blocked": "package cards a platform with ban risk blocked (several public "
    "platforms: no invitation follows)",
}

# lifecycle operations: the guides' lifecycle touches counted by segment (the member's tag);
# zero unless a brand targets its guides' messages by lifecycle (`strategy.touch_targeting`)
FLOWS.update(
    {
        f"lifecycle_{s}": f"guide messages sent to members due a {s} touch (lifecycle "
        "targeting; also counted in touches_<kind>)"
        for s in LIFECYCLE_SEGMENTS
    }
)

STOCK_COLUMNS: dict[str, str] = {
    **{f"stock_{s}": f"consumers in state {s} at day end" for s in STOCKS},
    "stock_active_members": "members not muted who bought within the active window",
    "stock_reachable": "members who have not muted the brand",
    "stock_engaged": "members whose engagement is at least population.engaged_threshold",
    "stock_muted": "members who muted the brand",
    "stock_ever_customers": "consumers who have ever bought from the brand",
    "stock_repeat_customers": "consumers who have bought from the brand at least twice",
    "stock_fake_members": "fake accounts in the member list (cumulative)",
    "stock_koc_reach": "distinct consumers ever reached by the brand's KOCs or distributors",
    "stock_koc_nodes": "KOCs, small-B nodes and employee distributors working for the brand",
    "stock_guides": "guides employed",
    **{f"stock_members_{c}": f"members in the {c} channel" for c in MEMBER_CHANNELS},
    "private_ops": "1 if the brand runs private-domain operations today",
    "review_stock": "platform reviews of the brand at day end, faded (platform.review_decay):"
    " the stock its platform rating is built from (ODD 7.21)",
}

COLUMNS: dict[str, str] = {**FLOWS, **STOCK_COLUMNS}
KEY_COLUMNS = ("day", "brand", "category")


COLUMN_INDEX: dict[str, int] = {name: k for k, name in enumerate(COLUMNS)}
"""Each column's position in `Ledger.array` (and in a day slot `Ledger.today`)."""


class Ledger:
    """The daily table as one float array `array[day, column, brand]` (columns in `COLUMNS`
    order), written while a run steps. `data[name]` is a column's (days × brands) view of it.

    Both engines write the same array: the reference engine books into today's slot
    (`today`, a [column, brand] view) through `sim.accounting`, the fast engine's compiled
    day writes the whole array in place."""

    def __init__(self, days: int, brands: list[str], categories: list[str]):
        self.days = days
        self.brands = brands
        self.categories = categories
        self.array = np.zeros((days, len(COLUMNS), len(brands)))
        self.data = {name: self.array[:, k, :] for name, k in COLUMN_INDEX.items()}
        self.day = 0

    @property
    def today(self) -> np.ndarray:
        """Today's slot, [column, brand]: what `sim.accounting` books into."""
        return self.array[self.day]

    def add(self, column: str, brand: int, amount: float = 1.0) -> None:
        """Add a flow to today's row of a brand."""
        self.array[self.day, COLUMN_INDEX[column], brand] += amount

    def set(self, column: str, brand: int, value: float) -> None:
        """Record a stock (census) or a rate for today's row of a brand."""
        if column not in COLUMN_INDEX:
            raise KeyError(column)
        self.array[self.day, COLUMN_INDEX[column], brand] = float(value)

    def close_day(self) -> None:
        """Start the next day (today's slot is already written)."""
        self.day += 1

    def to_frame(self, days: int | None = None) -> pd.DataFrame:
        """The tidy table: one row per day × brand, columns in schema order."""
        days = self.days if days is None else days
        nb = len(self.brands)
        frame = {
            "day": np.repeat(np.arange(days, dtype=np.int32), nb),
            "brand": pd.Categorical(np.tile(self.brands, days), categories=self.brands),
            "category": np.tile(self.categories, days),
        }
        for name in COLUMNS:
            frame[name] = self.data[name][:days].reshape(-1)
        return pd.DataFrame(frame)
