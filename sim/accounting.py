"""Accounting: how every event of a run is booked into the ledger, once, for both engines.

Each function books one kind of event (an order, a cost, a join, a touch ...) into a day
slot of the ledger, `day[column, brand]` (`Ledger.today` in the reference engine, one day of
the fast engine's array), and does nothing else. Column positions are module constants built
from `sim.ledger.COLUMNS`, in arrays indexed by the codes of `sim.vocab`
(`GMV_BY_CHANNEL[Channel.PLATFORM]` is the position of ``gmv_platform``).

The functions are written in the subset of Python that Numba compiles, so the reference
engine calls them as plain Python and the fast engine calls the very same functions
compiled (`sim.fast.jit`). Additions into a cell happen in the order of the calls, so both
engines accumulate a day's totals in the same order as the events happen.
"""

from __future__ import annotations

import numpy as np

from sim.ledger import COLUMN_INDEX, COST_TYPES
from sim.rules import distributor_commission_rate, distributor_source, guide_commission_due
from sim.vocab import (
    CHANNELS,
    COHORT_HORIZONS,
    LIFECYCLE_SEGMENTS,
    SOURCES_CUSTOMER,
    SOURCES_MEMBER,
    TOUCH_KINDS,
    Channel,
    DistributorKind,
    Prompt,
    Source,
)


def column(name: str) -> int:
    """The position of a ledger column in a day slot."""
    return COLUMN_INDEX[name]


def columns(template: str, names: tuple[str, ...]) -> np.ndarray:
    """Positions of the columns `template.format(name)`, one per name, in code order."""
    return np.array([COLUMN_INDEX[template.format(x)] for x in names], dtype=np.int64)


# --------------------------------------------------------------------------- column positions
GMV_BY_CHANNEL = columns("gmv_{}", CHANNELS)
ORDERS_BY_CHANNEL = columns("orders_{}", CHANNELS)
GMV_BY_SOURCE = columns("gmv_source_{}", SOURCES_CUSTOMER)
NEW_CUSTOMERS_BY_SOURCE = columns("new_customers_{}", SOURCES_CUSTOMER)
GMV_FIRST_BY_SOURCE = columns("gmv_first_{}", SOURCES_CUSTOMER)
TOUCHES_BY_KIND = columns("touches_{}", TOUCH_KINDS)
ACQ_COST_BY_SOURCE = columns("acq_cost_{}", SOURCES_CUSTOMER)
ACQ_DISCOUNTS_BY_SOURCE = columns("acq_discounts_{}", SOURCES_CUSTOMER)
INVITES_NEW_BY_SOURCE = columns("invites_new_{}", SOURCES_CUSTOMER)
NEW_MEMBERS_BY_SOURCE = np.full(len(Source), -1, dtype=np.int64)
"""``new_members_<source>`` by `Source` code; −1 for a source no one joins through."""
for _source in SOURCES_MEMBER:
    NEW_MEMBERS_BY_SOURCE[Source[_source.upper()]] = COLUMN_INDEX[f"new_members_{_source}"]

COHORT_GMV, COHORT_PV, COHORT_N = (
    np.array([columns(f"cohort{h}_{what}_{{}}", SOURCES_CUSTOMER) for h in COHORT_HORIZONS])
    for what in ("gmv", "pv", "n")
)
"""``cohort<horizon>_{gmv,pv,n}_<source>`` by [horizon index, `Source` code]."""

GMV_TOTAL, ORDERS_TOTAL, UNITS_TOTAL = (
    column(c) for c in ("gmv_total", "orders_total", "units_total")
)
COGS, GROSS_PROFIT, DISCOUNTS = (column(c) for c in ("cogs", "gross_profit", "discounts"))
NEW_CUSTOMERS_TOTAL, FIRST_ORDERS = column("new_customers_total"), column("first_orders")
REPEAT_ORDERS, REPEAT_ORDERS_MEMBERS = (
    column("repeat_orders"),
    column("repeat_orders_members"),
)
GMV_MEMBERS, GMV_ASSISTED, GMV_PUSHED, GMV_GUIDED, GMV_KOC = (
    column(c) for c in ("gmv_members", "gmv_assisted", "gmv_pushed", "gmv_guided", "gmv_koc")
)
GMV_ATTR_PRIVATE, ORDERS_ATTR_PRIVATE = column("gmv_attr_private"), column("orders_attr_private")
GMV_ATTR_PUBLIC, ORDERS_ATTR_PUBLIC = column("gmv_attr_public"), column("orders_attr_public")
NEW_MEMBERS_TOTAL, FAKE_MEMBERS, REFERRALS, INVITES = (
    column(c) for c in ("new_members_total", "fake_members", "referrals", "invites")
)
TOUCHES_TOTAL, MUTES, LEAVES, LAPSES = (
    column(c) for c in ("touches_total", "mutes", "leaves", "lapses")
)
IMPRESSIONS, CPM, KOC_REACHED = column("impressions"), column("cpm"), column("koc_reached")

COST_TOTAL = column("cost_total")
COST_ADS, COST_PLATFORM_COMMISSION, COST_GUIDE_SALARY, COST_GUIDE_COMMISSION = (
    column(f"cost_{c}") for c in COST_TYPES[:4]
)
COST_KOC_COMMISSION, COST_KOC_FEES, COST_REFERRAL_REWARDS, COST_WELCOME_GIFTS, COST_TOOLING = (
    column(f"cost_{c}") for c in COST_TYPES[4:9]
)
COST_REFERRAL_REWARDS_HUNTERS = column("cost_referral_rewards_hunters")
SERVE_COST = column("serve_cost")
NEW_CUSTOMERS_PRIVATE, DISCOUNTS_FIRST_PRIVATE = (
    column("new_customers_private"),
    column("discounts_first_private"),
)
GMV_ATTR_ADS, ORDERS_ATTR_ADS = column("gmv_attr_ads"), column("orders_attr_ads")
GROSS_PROFIT_ATTR_ADS, GROSS_PROFIT_ATTR_PRIVATE = (
    column("gross_profit_attr_ads"),
    column("gross_profit_attr_private"),
)
COMMISSION_ATTR_ADS, COMMISSION_ATTR_PRIVATE = (
    column("commission_attr_ads"),
    column("commission_attr_private"),
)
BUDGET_BOUND = column("budget_bound")
# private lifts public (ODD 7.21)
COST_POINTS = column("cost_points")
REVIEWS, REVIEWS_REWARDED, REVIEW_STOCK = (
    column(c) for c in ("reviews", "reviews_rewarded", "review_stock")
)
CARDS_BLOCKED = column("cards_blocked")
BUDGET_COSTS = np.array(
    [
        COST_ADS,
        COST_GUIDE_SALARY,
        COST_KOC_FEES,
        COST_REFERRAL_REWARDS,
        COST_WELCOME_GIFTS,
        COST_TOOLING,
    ],
    dtype=np.int64,
)
"""The cost columns counted against `annual_budget`: what the brand chooses to spend (ads,
guides' salaries, node fees, referral rewards, welcome gifts, tooling). Commissions and the
platform's take are fees on sales, not budget (`sim.rules.ads_within_budget`)."""
SERVES = -1
"""The `serves` code of a cost that serves existing customers and members (not a source)."""


# --------------------------------------------------------------------------- what prompted an order
def pushed(prompt: int) -> bool:
    """An order prompted by a private-domain touch: a guide's or a broadcast's selling
    message (``gmv_pushed``)."""
    return prompt == Prompt.GUIDE or prompt == Prompt.PUSH


def via_distributor(prompt: int) -> bool:
    """An order placed through a KOC's, small-B node's or employee distributor's link
    (``gmv_koc``)."""
    return prompt == Prompt.KOC or prompt == Prompt.SMALL_B or prompt == Prompt.EMPLOYEE


def distributor_prompt(kind: int) -> int:
    """The prompt of an order through a distributor's link: `Prompt.KOC`, `Prompt.SMALL_B`
    or `Prompt.EMPLOYEE` for the `DistributorKind` of the same name."""
    return Prompt.KOC + kind


def distributor_kind(prompt: int) -> int:
    """The `DistributorKind` whose link prompted an order (`via_distributor(prompt)`)."""
    return prompt - Prompt.KOC


def private_credit(channel: int, coupon: bool, prompt: int) -> bool:
    """Whether an order is credited to the private domain (``gmv_attr_private``): placed in
    the private shop, paid on the platform with a member coupon, or prompted by a private
    touch (a guide's or a broadcast's message) or a distributor's link (KOC, small-B,
    employee). Every other platform order is public (``gmv_attr_public``); store orders not
    credited to the private domain are neither."""
    return channel == Channel.PRIVATE or coupon or pushed(prompt) or via_distributor(prompt)


def private_source(source: int) -> bool:
    """A customer source that is the private domain's own reach: referral, KOC, distributor."""
    return source == Source.REFERRAL or source == Source.KOC or source == Source.DISTRIBUTOR


def acquisition_source(prospect: bool, source: int) -> int:
    """What a cost spent on a consumer serves: the consumer's customer source (`Source`;
    organic when none is recorded) if it has not bought yet (a `prospect`, whose next order
    is a first order), else `SERVES` (an existing customer)."""
    if not prospect:
        return SERVES
    return source if source >= 0 else np.int64(Source.ORGANIC)


# --------------------------------------------------------------------------- booking
def book_cost(day, b: int, cost_column: int, amount: float) -> None:
    """Cash spent: the typed cost column (one of the COST_* positions) and `cost_total`."""
    day[cost_column, b] += amount
    day[COST_TOTAL, b] += amount


def book_assigned(day, b: int, cost_column: int, amount: float, serves: int) -> None:
    """Cash spent at an event (`book_cost`), and the same amount assigned to what it serves:
    acquiring a customer of source `serves` (``acq_cost_<source>``) or, for `SERVES`,
    existing customers and members (``serve_cost``)."""
    book_cost(day, b, cost_column, amount)
    if serves >= 0:
        day[ACQ_COST_BY_SOURCE[serves], b] += amount
    else:
        day[SERVE_COST, b] += amount


def book_order(
    day,
    b: int,
    channel: int,
    source: int,
    prompt: int,
    price: float,
    list_price: float,
    gross_margin: float,
    first: bool,
    member: bool,
    guided: bool,
    coupon: bool,
    take_rate: float,
    guide_commission: float,
    koc_commission: float,
    employee_commission: float,
) -> None:
    """One order of brand b at `price` (paid) through `channel` (`Channel`) by a customer
    acquired via `source` (`Source`), prompted by `prompt` (`Prompt`): GMV, orders and units
    by channel and source, cost of goods (list price × (1 − gross margin)), gross profit,
    the discount given, first or repeat order, member GMV, GMV paid with a member `coupon`
    (``gmv_assisted``), pushed and guided GMV, the private / public credit
    (`private_credit`), and the costs the order triggers: the platform's take on platform
    orders, a guide's commission when due (`sim.rules.guide_commission_due`: the member has
    a guide, `guided`), a distributor's commission on orders through its link
    (`sim.rules.distributor_commission_rate`).

    Commissions on a first order are assigned to acquiring its source, on a repeat order to
    serving (`book_assigned`); a first order's discount is booked by source, and, with the
    count, for the customers the private domain acquired (a member's, a private-credited
    one, or via a `private_source`). Orders credited to the private domain, and platform
    orders of ad-acquired customers not credited to it (the public domain's), carry their
    gross profit and platform commission (docs/KPIS.md: ROI on one base)."""
    cogs = list_price * (1.0 - gross_margin)
    serves = source if first else SERVES
    credited = private_credit(channel, coupon, prompt)
    day[GMV_BY_CHANNEL[channel], b] += price
    day[ORDERS_BY_CHANNEL[channel], b] += 1.0
    day[GMV_TOTAL, b] += price
    day[ORDERS_TOTAL, b] += 1.0
    day[UNITS_TOTAL, b] += 1.0
    day[COGS, b] += cogs
    day[GROSS_PROFIT, b] += price - cogs
    day[DISCOUNTS, b] += list_price - price
    day[GMV_BY_SOURCE[source], b] += price
    if first:
        day[NEW_CUSTOMERS_BY_SOURCE[source], b] += 1.0
        day[NEW_CUSTOMERS_TOTAL, b] += 1.0
        day[GMV_FIRST_BY_SOURCE[source], b] += price
        day[FIRST_ORDERS, b] += 1.0
        day[ACQ_DISCOUNTS_BY_SOURCE[source], b] += list_price - price
        if member or credited or private_source(source):
            day[NEW_CUSTOMERS_PRIVATE, b] += 1.0
            day[DISCOUNTS_FIRST_PRIVATE, b] += list_price - price
    else:
        day[REPEAT_ORDERS, b] += 1.0
        if member:
            day[REPEAT_ORDERS_MEMBERS, b] += 1.0
    if member:
        day[GMV_MEMBERS, b] += price
    if coupon:
        day[GMV_ASSISTED, b] += price
    if channel == Channel.PLATFORM:
        book_cost(day, b, COST_PLATFORM_COMMISSION, price * take_rate)
    if pushed(prompt):
        day[GMV_PUSHED, b] += price
    if prompt == Prompt.GUIDE:
        day[GMV_GUIDED, b] += price
    if guide_commission_due(guided, channel):
        book_assigned(day, b, COST_GUIDE_COMMISSION, price * guide_commission, serves)
    if credited:
        day[GMV_ATTR_PRIVATE, b] += price
        day[ORDERS_ATTR_PRIVATE, b] += 1.0
        day[GROSS_PROFIT_ATTR_PRIVATE, b] += price - cogs
        if channel == Channel.PLATFORM:
            day[COMMISSION_ATTR_PRIVATE, b] += price * take_rate
    elif channel == Channel.PLATFORM:
        day[GMV_ATTR_PUBLIC, b] += price
        day[ORDERS_ATTR_PUBLIC, b] += 1.0
        if source == Source.ADS:
            day[GMV_ATTR_ADS, b] += price
            day[ORDERS_ATTR_ADS, b] += 1.0
            day[GROSS_PROFIT_ATTR_ADS, b] += price - cogs
            day[COMMISSION_ATTR_ADS, b] += price * take_rate
    if via_distributor(prompt):
        day[GMV_KOC, b] += price
        rate = distributor_commission_rate(
            distributor_kind(prompt), koc_commission, employee_commission
        )
        book_assigned(day, b, COST_KOC_COMMISSION, price * rate, serves)


def book_join(day, b: int, source: int, welcome_gift: float, serves: int) -> None:
    """A consumer joins the private domain via `source` (`Source`): ``new_members_<source>``,
    the total, and the welcome gift it is given (if any), assigned to what it `serves`
    (`acquisition_source`: the joiner's customer source if it has not bought yet)."""
    day[NEW_MEMBERS_BY_SOURCE[source], b] += 1.0
    day[NEW_MEMBERS_TOTAL, b] += 1.0
    if welcome_gift > 0:
        book_assigned(day, b, COST_WELCOME_GIFTS, welcome_gift, serves)


def book_invite(day, b: int, serves: int) -> None:
    """An invitation into the private domain is made; one to a consumer who has not bought
    yet (`serves` its customer source, `acquisition_source`) is acquisition work, counted
    by source (``invites_new_<source>``, the activity `sim.kpis.cost_assignment` splits
    guides' salaries and tooling by)."""
    day[INVITES, b] += 1.0
    if serves >= 0:
        day[INVITES_NEW_BY_SOURCE[serves], b] += 1.0


def book_touch(day, b: int, kind: int) -> None:
    """A private-domain message of `kind` (`Touch`) is delivered."""
    day[TOUCHES_BY_KIND[kind], b] += 1.0
    day[TOUCHES_TOTAL, b] += 1.0


LIFECYCLE_BY_SEGMENT = np.array(
    [-1] + [COLUMN_INDEX[f"lifecycle_{s}"] for s in LIFECYCLE_SEGMENTS], dtype=np.int64
)
"""Lifecycle operations: ``lifecycle_<segment>`` by `Segment` code (−1 for NONE)."""


def book_lifecycle_touch(day, b: int, segment: int) -> None:
    """Lifecycle operations: a guide's message goes to a member due a lifecycle touch of
    `segment` (`Segment`; the touch itself is booked by `book_touch`)."""
    day[LIFECYCLE_BY_SEGMENT[segment], b] += 1.0


def book_mute(day, b: int) -> None:
    """A member mutes the brand."""
    day[MUTES, b] += 1.0


def book_leave(day, b: int) -> None:
    """A member leaves the private domain (felt harvested, or muted and then gone)."""
    day[LEAVES, b] += 1.0


def book_lapse(day, b: int) -> None:
    """A customer drops out after a purchase (BG/NBD)."""
    day[LAPSES, b] += 1.0


def book_referral(day, b: int) -> None:
    """A member refers a real friend."""
    day[REFERRALS, b] += 1.0


def book_referral_reward(day, b: int, reward: float) -> None:
    """The reward due to a member whose referral joined (`sim.rules.reward_due`), if any:
    a cost of acquiring referral customers."""
    if reward:
        book_assigned(day, b, COST_REFERRAL_REWARDS, reward, np.int64(Source.REFERRAL))


def book_fake_referral(day, b: int, reward: float) -> None:
    """A coupon hunter registers a fake account: a fake member, and the reward it earns (if
    any), booked as a referral reward (spent on acquiring referral customers, none of
    whom it brings) and as the part of them paid to hunters."""
    day[FAKE_MEMBERS, b] += 1.0
    if reward:
        book_assigned(day, b, COST_REFERRAL_REWARDS, reward, np.int64(Source.REFERRAL))
        day[COST_REFERRAL_REWARDS_HUNTERS, b] += reward


def book_fixed_costs(
    day,
    b: int,
    guides: int,
    guide_salary: float,
    tooling: float,
    kocs: int,
    small_bs: int,
    koc_fee: float,
) -> None:
    """A day of private-domain operations: the guides' salaries, the tooling (both shared by
    acquisition and serving, split in `sim.kpis.cost_assignment`), and the daily fee of each
    KOC or small-B node (employee distributors are paid by commission only), assigned to
    acquiring customers of the source each node's posts credit (`sim.rules.
    distributor_source`: koc, distributor)."""
    if guides:
        book_cost(day, b, COST_GUIDE_SALARY, guides * guide_salary)
    if tooling:
        book_cost(day, b, COST_TOOLING, tooling)
    nodes = kocs + small_bs
    if nodes and koc_fee:
        book_cost(day, b, COST_KOC_FEES, nodes * koc_fee)
        day[ACQ_COST_BY_SOURCE[distributor_source(DistributorKind.KOC)], b] += kocs * koc_fee
        day[ACQ_COST_BY_SOURCE[distributor_source(DistributorKind.SMALL_B)], b] += (
            small_bs * koc_fee
        )


def book_ads(day, b: int, spend: float, impressions: float) -> None:
    """A day's ad budget (if any), a cost of acquiring ad customers, and the impressions it
    bought."""
    if spend > 0:
        book_assigned(day, b, COST_ADS, spend, np.int64(Source.ADS))
        day[IMPRESSIONS, b] += impressions


def budget_spend(day, b: int) -> float:
    """A day's spend of brand b counted against its budget: the `BUDGET_COSTS` columns of
    the day slot, added in that order."""
    total = 0.0
    for k in range(BUDGET_COSTS.size):
        total += day[BUDGET_COSTS[k], b]
    return total


def book_budget_bound(day, b: int) -> None:
    """The budget stopped brand b's ads today (``budget_bound``)."""
    day[BUDGET_BOUND, b] = 1.0


def book_card_blocked(day, b: int) -> None:
    """A platform with ban risk blocked one of brand b's package cards (several public
    platforms): counted; no invitation follows."""
    day[CARDS_BLOCKED, b] += 1.0


def book_cpm(day, b: int, cpm: float) -> None:
    """The price of traffic today (yuan per 1000 impressions)."""
    day[CPM, b] = cpm


def book_cohort(day, b: int, horizon: int, source: int, spend: float, pv: float) -> None:
    """One customer acquired via `source` reaches the end of its `horizon` (index into
    `COHORT_HORIZONS`): its spend over those first days, that spend discounted to its
    acquisition day (`pv`), and the count."""
    day[COHORT_GMV[horizon, source], b] += spend
    day[COHORT_PV[horizon, source], b] += pv
    day[COHORT_N[horizon, source], b] += 1.0


def book_koc_reach(day, b: int) -> None:
    """A KOC, small-B or employee post reaches a consumer."""
    day[KOC_REACHED, b] += 1.0


# --------------------------------------------------------------------------- private lifts public
def book_points(day, b: int, amount: float, serves: int) -> None:
    """Points a member earns on an order (`sim.rules.points_earned`), at face value: a cost
    (``cost_points``) when they are issued, assigned to what the order `serves` (acquiring
    its source on a first order, else serving, `book_assigned`). Nothing when 0."""
    if amount > 0:
        book_assigned(day, b, COST_POINTS, amount, serves)


def book_reviews(day, b: int, rewarded: int, others: int, review_points: float) -> None:
    """A day's platform reviews of brand b: ``reviews`` (all), ``reviews_rewarded`` (by
    members rewarded with points) and the points they are paid, `review_points` each, a
    cost of serving members (``cost_points``, ``serve_cost``)."""
    day[REVIEWS, b] += rewarded + others
    day[REVIEWS_REWARDED, b] += rewarded
    if rewarded and review_points > 0:
        book_assigned(day, b, COST_POINTS, rewarded * review_points, SERVES)


def book_review_stock(day, b: int, stock: float) -> None:
    """The brand's platform review stock at day end (``review_stock``)."""
    day[REVIEW_STOCK, b] = stock


NAMES = (
    "pushed",
    "via_distributor",
    "distributor_prompt",
    "distributor_kind",
    "private_credit",
    "private_source",
    "acquisition_source",
    "book_cost",
    "book_assigned",
    "book_order",
    "book_join",
    "book_invite",
    "book_touch",
    "book_mute",
    "book_leave",
    "book_lapse",
    "book_referral",
    "book_referral_reward",
    "book_fake_referral",
    "book_fixed_costs",
    "book_ads",
    "budget_spend",
    "book_budget_bound",
    "book_cpm",
    "book_cohort",
    "book_koc_reach",
    "book_points",
    "book_reviews",
    "book_review_stock",
    "book_card_blocked",
)
"""The functions the fast engine compiles (`sim.fast.jit`)."""
