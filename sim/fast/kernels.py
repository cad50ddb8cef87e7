"""The fast engine's day, compiled by Numba: each function mirrors the reference engine's
method of the same name (sim/agents.py, sim/model.py) over the arrays of `layout.World`.

Every formula is a compiled `sim.rules` function (`sim.fast.jit`); every random number
comes from the run's `numpy.random.Generator`, passed in as `rng` (Numba shares its state).
Two devices make a day cost far less than one draw per consumer:

- a daily hazard h that applies to everyone in a state (ads, forgetting, organic
  awareness) is sampled by skipping: the next consumer hit is a geometric(h) step ahead,
  the state is checked only there (the same Bernoulli(h) per consumer, O(n·h) work); a
  step beyond the last consumer is "never" (`sim.rules.geometric_skip`, bounded before
  any integer conversion, so a tiny h cannot overflow into an index outside the arrays);
- a hazard that varies by consumer but has a known ceiling (word of mouth: q·share of
  friends who advocate ≤ q; members' referrals, fakes and leaving ≤ p_max) is sampled by
  thinning: candidates at the ceiling, accepted with p_i / ceiling (Lewis & Shedler 1979).

Advocate counts per consumer (friends who are customers or members) are kept up to date
whenever a funnel state changes (`set_state`), so word of mouth never scans the network.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.fast import jit as R
from sim.fast.bridge import ChannelPolicy, GuideRegime
from sim.fast.layout import (
    BY_EMPLOYEE,
    BY_GUIDE,
    BY_KOC,
    BY_NONE,
    BY_PUSH,
    BY_SMALL_B,
    BY_TRIAL,
    CONTENT,
    EMPLOYEE,
    GROUP_CH,
    GUIDE_CH,
    MEMBER_SOURCE_COLUMN,
    MINI_PROGRAM_CH,
    NEVER,
    NO_COHORT,
    NOT_ACQUIRED,
    PACKAGE_CARD,
    PLATFORM,
    PRIVATE,
    SELLING,
    SERVICE,
    SMALL_B,
    SRC_ADS,
    SRC_DISTRIBUTOR,
    SRC_KOC,
    SRC_ORGANIC,
    SRC_REFERRAL,
    SRC_STORE,
    STORE,
    col,
    cols,
)
from sim.ledger import COST_TYPES
from sim.params import CHANNELS, SOURCES_CUSTOMER

UNAWARE, AWARE, CUSTOMER, MEMBER, LAPSED = 0, 1, 2, 3, 4  # as sim.agents
HORIZONS = np.array([90, 365], dtype=np.int64)  # sim.agents.COHORT_HORIZONS
PHASE_BRANDS, PHASE_DISTRIBUTORS, PHASE_GUIDES, PHASE_MEMBERS, PHASE_NEEDS = range(5)

_jit = njit(nogil=True)
_entry = njit(cache=True, nogil=True)
"""Only the entry points are cached (each cached entry holds all the code it calls);
the helpers compile into them."""

# ---- ledger columns
GMV_CH = cols("gmv_{}", CHANNELS)
ORDERS_CH = cols("orders_{}", CHANNELS)
GMV_SRC = cols("gmv_source_{}", SOURCES_CUSTOMER)
NEW_CUST_SRC = cols("new_customers_{}", SOURCES_CUSTOMER)
GMV_FIRST_SRC = cols("gmv_first_{}", SOURCES_CUSTOMER)
TOUCH_COL = cols("touches_{}", ("content", "service", "selling"))
C_GMV_TOTAL, C_ORDERS_TOTAL, C_UNITS, C_COGS, C_GP, C_DISCOUNTS = (
    col(c)
    for c in ("gmv_total", "orders_total", "units_total", "cogs", "gross_profit", "discounts")
)
C_NEW_CUST, C_FIRST, C_REPEAT, C_REPEAT_MEMBERS = (
    col(c)
    for c in ("new_customers_total", "first_orders", "repeat_orders", "repeat_orders_members")
)
C_GMV_MEMBERS, C_GMV_ASSISTED, C_GMV_PUSHED, C_GMV_GUIDED, C_GMV_KOC = (
    col(c) for c in ("gmv_members", "gmv_assisted", "gmv_pushed", "gmv_guided", "gmv_koc")
)
C_GMV_PRIV, C_ORD_PRIV, C_GMV_PUB, C_ORD_PUB = (
    col(c)
    for c in ("gmv_attr_private", "orders_attr_private", "gmv_attr_public", "orders_attr_public")
)
C_COST_TOTAL = col("cost_total")
_COST = {c: col(f"cost_{c}") for c in COST_TYPES}  # Ledger.cost's typed columns
C_ADS, C_PLATFORM_COMMISSION = _COST["ads"], _COST["platform_commission"]
C_GUIDE_SALARY, C_GUIDE_COMMISSION = _COST["guide_salary"], _COST["guide_commission"]
C_KOC_COMMISSION, C_KOC_FEES = _COST["koc_commission"], _COST["koc_fees"]
C_REFERRAL_REWARDS, C_WELCOME_GIFTS = _COST["referral_rewards"], _COST["welcome_gifts"]
C_TOOLING = _COST["tooling"]
C_HUNTER_REWARDS = col("cost_referral_rewards_hunters")
C_NEW_MEMBERS, C_FAKES, C_REFERRALS, C_INVITES = (
    col(c) for c in ("new_members_total", "fake_members", "referrals", "invites")
)
C_TOUCHES, C_MUTES, C_LEAVES, C_LAPSES = (
    col(c) for c in ("touches_total", "mutes", "leaves", "lapses")
)
C_IMPRESSIONS, C_CPM, C_KOC_REACHED = col("impressions"), col("cpm"), col("koc_reached")


# --------------------------------------------------------------------------- small helpers
@_jit
def cost(L, today, b, column, amount):
    """Cash spent: the typed cost column and the total together (Ledger.cost)."""
    L[today, column, b] += amount
    L[today, C_COST_TOTAL, b] += amount


@_jit
def skip(rng, scale, horizon):
    """Steps to the next success of Bernoulli(h) trials, scale = R.skip_scale(h): the rule
    `geometric_skip` on one uniform draw (three times faster than Generator.geometric in a
    loop); horizon + 1 when beyond `horizon` steps, so a loop over `horizon` consumers
    ends there and tiny hazards cannot overflow an index."""
    return R.geometric_skip(rng.random(), scale, horizon)


@_jit
def is_advocate(state):
    return state == CUSTOMER or state == MEMBER


@_jit
def set_state(W, G, b, i, new):
    """Move consumer i to funnel state `new` towards brand b, keeping its friends'
    advocate counts (customers and members among their ties) current."""
    old = W.funnel[b, i]
    if old == new:
        return
    W.funnel[b, i] = new
    W.n_state[b, old] -= 1
    W.n_state[b, new] += 1
    was, now = is_advocate(old), is_advocate(new)
    if was != now:
        d = 1 if now else -1
        W.n_advocates[b] += d
        if not G.mixing:
            for k in range(W.indptr[i], W.indptr[i + 1]):
                W.advocates[b, W.indices[k]] += d


@_jit
def knows_category(W, B, i, cat):
    for k in range(B.cat_nbrands[cat]):
        s = W.funnel[B.cat_brands[cat, k], i]
        if s >= AWARE and s <= MEMBER:
            return True
    return False


@_jit
def schedule_need(W, B, i, cat, today, rng):
    """Consumer.schedule_need: the day of the next need (geometric), if the category is
    known; an unaware consumer's needs go to unmodelled brands."""
    if not knows_category(W, B, i, cat):
        W.next_need[i, cat] = -1
        return
    p = W.need_p[i, cat]
    if p <= 0:
        W.next_need[i, cat] = NEVER
        return
    wait = skip(rng, R.skip_scale(np.float64(p)), NEVER - today) if p < 1 else 1
    W.next_need[i, cat] = R.need_day(today, wait)


@_jit
def start_needs(W, B, i, cat, today, rng):
    if W.next_need[i, cat] < today:
        schedule_need(W, B, i, cat, today, rng)


@_jit
def latent_need(W, G, i, cat):
    return R.latent_need_probability(np.float64(W.need_rate[i, cat]), G.latent_need_window)


@_jit
def fade(W, G, b, i, today):
    """Consumer.membership: fatigue and engagement faded to today."""
    days = today - W.m_upd[b, i]
    if days != 0:
        W.m_fat[b, i] = W.m_fat[b, i] * G.fatigue_pow[days]
        W.m_eng[b, i] = W.m_eng[b, i] * G.engagement_pow[days]
        W.m_upd[b, i] = today


# --------------------------------------------------------------------------- buying
@_jit
def options(W, B, G, i, b, chan, util, share, at):
    """Consumer.options: the ways to buy brand b now, written from position `at` into
    (chan, util, share); returns the new end position."""
    member = W.m_channel[b, i] >= 0 and B.private_ops[b]
    engagement = np.float64(W.m_eng[b, i]) if member else 0.0
    loyalty = G.customer_loyalty if W.purchases[b, i] > 0 else 0.0
    tier = 0.0
    if member:
        k = B.n_spend_tiers[b]
        tier = R.tier_discount(
            np.float64(W.spend[b, i]), B.tier_spend[b, :k], B.tier_discount[b, :k]
        )
    service = B.member_service[b] * B.service_need[b] if member else 0.0
    appeal = B.appeal[b] - (G.annoyance_penalty if W.annoyed[b, i] else 0.0)
    relationship = G.relationship_weight * engagement
    alpha = np.float64(W.alpha[i])
    coupon = B.member_coupon[b] if member and B.channel_policy[b] == ChannelPolicy.ASSIST else 0.0
    common = (alpha, relationship, loyalty, appeal)
    at = offer(
        chan,
        util,
        share,
        at,
        np.int64(PLATFORM),
        R.effective_price_share(B.platform_discount[b], coupon, tier),
        G.convenience_platform + B.platform_fit[b],
        G.trust_weight * np.float64(W.trust[i]) * G.buyer_protection,
        0.0,
        common,
    )
    if member and B.channel_policy[b] != ChannelPolicy.ASSIST:
        at = offer(
            chan,
            util,
            share,
            at,
            np.int64(PRIVATE),
            R.effective_price_share(B.private_discount[b], 0.0, tier),
            G.convenience_private + B.private_fit[b],
            0.0,
            service,
            common,
        )
    if B.stores[b] > 0 and W.store_access[b, i]:
        at = offer(
            chan,
            util,
            share,
            at,
            np.int64(STORE),
            R.effective_price_share(0.0, 0.0, tier),
            G.convenience_store + B.store_fit[b],
            0.0,
            G.store_service_value * B.service_need[b] + service,
            common,
        )
    return at


@_jit
def offer(chan, util, share, at, channel, price_share, convenience, protection, service, common):
    """One way to buy (Consumer.options' offer): its channel, utility and price share at
    position `at`; `common` = (α, relationship, loyalty, appeal). Returns at + 1."""
    alpha, relationship, loyalty, appeal = common
    chan[at] = channel
    share[at] = price_share
    util[at] = R.channel_utility(
        price_share, alpha, convenience, protection, relationship, loyalty, appeal, service
    )
    return at + 1


@_jit
def record_order(W, B, G, L, today, i, b, channel, price, first, member, prompted_by):
    """Brand.record_order: GMV by channel and source, and the costs an order triggers."""
    list_price = B.price[b]
    cogs = list_price * (1.0 - B.gross_margin[b])
    src = W.source[b, i]
    if src < 0:
        src = SRC_ORGANIC
    coupon = (
        member
        and B.private_ops[b]
        and channel == PLATFORM
        and B.channel_policy[b] == ChannelPolicy.ASSIST
        and B.member_coupon[b] > 0
    )
    L[today, GMV_CH[channel], b] += price
    L[today, ORDERS_CH[channel], b] += 1.0
    L[today, C_GMV_TOTAL, b] += price
    L[today, C_ORDERS_TOTAL, b] += 1.0
    L[today, C_UNITS, b] += 1.0
    L[today, C_COGS, b] += cogs
    L[today, C_GP, b] += price - cogs
    L[today, C_DISCOUNTS, b] += list_price - price
    L[today, GMV_SRC[src], b] += price
    if first:
        L[today, NEW_CUST_SRC[src], b] += 1.0
        L[today, C_NEW_CUST, b] += 1.0
        L[today, GMV_FIRST_SRC[src], b] += price
        L[today, C_FIRST, b] += 1.0
    else:
        L[today, C_REPEAT, b] += 1.0
        if member:
            L[today, C_REPEAT_MEMBERS, b] += 1.0
    if member:
        L[today, C_GMV_MEMBERS, b] += price
    if coupon:
        L[today, C_GMV_ASSISTED, b] += price
    if channel == PLATFORM:
        cost(L, today, b, np.int64(C_PLATFORM_COMMISSION), price * G.take_rate)
    if prompted_by == BY_GUIDE or prompted_by == BY_PUSH:
        L[today, C_GMV_PUSHED, b] += price
    if prompted_by == BY_GUIDE:
        L[today, C_GMV_GUIDED, b] += price
    if member and W.m_guide[b, i] >= 0 and (channel == PRIVATE or channel == STORE):
        cost(L, today, b, np.int64(C_GUIDE_COMMISSION), price * B.guide_commission[b])
    via_node = prompted_by == BY_KOC or prompted_by == BY_SMALL_B or prompted_by == BY_EMPLOYEE
    if (
        channel == PRIVATE
        or coupon
        or prompted_by == BY_GUIDE
        or prompted_by == BY_PUSH
        or via_node
    ):
        L[today, C_GMV_PRIV, b] += price
        L[today, C_ORD_PRIV, b] += 1.0
    elif channel == PLATFORM:
        L[today, C_GMV_PUB, b] += price
        L[today, C_ORD_PUB, b] += 1.0
    if via_node:
        L[today, C_GMV_KOC, b] += price
        rate = B.employee_commission[b] if prompted_by == BY_EMPLOYEE else B.koc_commission[b]
        cost(L, today, b, np.int64(C_KOC_COMMISSION), price * rate)


@_jit
def start_cohort(W, G, book, today, i, b):
    """MarketModel.start_cohort. A cohort's count and every later order inside its
    horizons go straight to the bucket of its due day (book[due, b, h, source]), so a
    customer who lapses and comes back leaves its old cohort booked at its own age."""
    W.cohort_day[b, i] = today
    src = W.source[b, i]
    W.cohort_src[b, i] = src if src >= 0 else SRC_ORGANIC
    for h in range(HORIZONS.size):
        due = today + HORIZONS[h]
        if due < G.days:
            book[due, b, h, W.cohort_src[b, i], 2] += 1.0


@_jit
def purchase(W, B, G, L, book, today, rng, i, b, channel, share, prompted_by):
    """Consumer.purchase: an order, then maybe a package card or a store invitation, then
    maybe dropping out (BG/NBD)."""
    first = W.acquired[b, i] == NOT_ACQUIRED
    if W.source[b, i] < 0:
        W.source[b, i] = SRC_ORGANIC
    if first:
        W.acquired[b, i] = today
        start_cohort(W, G, book, today, i, b)
    member = W.m_channel[b, i] >= 0
    price = B.price[b] * share
    record_order(W, B, G, L, today, i, b, channel, price, first, member, prompted_by)
    W.purchases[b, i] += 1
    if W.purchases[b, i] == 1:
        W.n_ever[b] += 1
    elif W.purchases[b, i] == 2:
        W.n_repeat[b] += 1
    W.spend[b, i] += price
    W.last_purchase[b, i] = today
    if W.cohort_day[b, i] != NO_COHORT:
        age = today - W.cohort_day[b, i]
        pv = price * G.discount_factor**age
        for h in range(HORIZONS.size):
            due = W.cohort_day[b, i] + HORIZONS[h]
            if age < HORIZONS[h] and due < G.days:
                book[due, b, h, W.cohort_src[b, i], 0] += price
                book[due, b, h, W.cohort_src[b, i], 1] += pv
    state = W.funnel[b, i]
    if state == AWARE or state == UNAWARE or state == LAPSED:
        set_state(W, G, b, i, np.int64(CUSTOMER))
    if channel == PLATFORM and not member and B.private_ops[b]:
        if rng.random() < B.package_card_rate[b]:
            invite(W, B, G, L, today, rng, i, b, np.int64(PACKAGE_CARD), B.package_card_channel[b])
    elif channel == STORE and not member and B.private_ops[b]:
        store_invite(W, B, G, L, today, rng, i, b)
    engagement = 0.0
    if W.m_channel[b, i] >= 0:
        fade(W, G, b, i, today)
        engagement = np.float64(W.m_eng[b, i])
    p = R.dropout_probability(np.float64(W.dropout[b, i]), engagement, G.member_retention)
    if rng.random() < p:
        lapse(W, B, G, L, today, i, b)


@_jit
def buy_from(W, B, G, L, book, today, rng, i, b, prompted_by, channel):
    """Consumer.buy_from: buy brand b now (a push, a trial, a store visit), the channel by
    logit among the brand's channels, or `channel` if it is one of them (else the first)."""
    chan, util, share, probs = W.scratch_i[2], W.scratch_f[3], W.scratch_f[4], W.scratch_f[5]
    k = options(W, B, G, i, b, chan, util, share, np.int64(0))
    if channel >= 0:
        found = -1
        for j in range(k):
            if chan[j] == channel:
                found = j
        if found < 0:
            found = 0
        chan[0], util[0], share[0] = chan[found], util[found], share[found]
        k = 1
    R.logit_shares(util[:k], -np.inf, probs[: k + 1])
    j = R.draw_index(probs[:k], rng.random())
    purchase(W, B, G, L, book, today, rng, i, b, chan[j], share[j], prompted_by)
    schedule_need(W, B, i, B.category[b], today, rng)  # the need is met: its clock restarts


@_jit
def on_need(W, B, G, L, book, today, rng, i, cat):
    """Consumer.on_need: choose among known brands of the category and their channels, or
    the outside option (multinomial logit), then buy."""
    m = B.cat_nbrands[cat]
    chan, brand = W.scratch_i[0], W.scratch_i[1]  # buffers: on_need is never re-entered
    util, share, probs = W.scratch_f[0], W.scratch_f[1], W.scratch_f[2]
    k = 0
    for q in range(m):
        b = B.cat_brands[cat, q]
        s = W.funnel[b, i]
        if s == AWARE or s == CUSTOMER or s == MEMBER:
            if W.m_channel[b, i] >= 0:
                fade(W, G, b, i, today)
            k2 = options(W, B, G, i, b, chan, util, share, k)
            for j in range(k, k2):
                brand[j] = b
            k = k2
    if k > 0:
        R.logit_shares(util[:k], G.outside_utility, probs[: k + 1])
        j = R.draw_index(probs[: k + 1], rng.random())
        if j < k:
            purchase(
                W, B, G, L, book, today, rng, i, brand[j], chan[j], share[j], np.int64(BY_NONE)
            )
    schedule_need(W, B, i, cat, today, rng)


# --------------------------------------------------------------------------- awareness
@_jit
def become_aware(W, B, G, L, book, today, rng, i, b, source):
    """Consumer.become_aware: hear of a brand (again, if lapsed); maybe buy at once."""
    s = W.funnel[b, i]
    if s != UNAWARE and s != LAPSED:
        return False
    set_state(W, G, b, i, np.int64(AWARE))
    W.source[b, i] = source
    start_needs(W, B, i, B.category[b], today, rng)
    trial = B.trial_on_awareness[b]
    if source == SRC_ADS:
        trial = R.combine_hazards(trial, G.ad_trial_boost)
    if trial > 0 and rng.random() < trial:
        buy_from(W, B, G, L, book, today, rng, i, b, np.int64(BY_TRIAL), np.int64(-1))
    return True


# --------------------------------------------------------------------------- private domain
@_jit
def guide_add_reachable(W, g, b, i):
    pos = W.g_len[g]
    W.g_list[W.g_off[g] + pos] = i
    W.g_len[g] = pos + 1
    W.m_gpos[b, i] = pos


@_jit
def guide_drop_reachable(W, g, b, i):
    """Take member i off guide g's list of reachable members (swap with the last)."""
    pos = W.m_gpos[b, i]
    last = W.g_len[g] - 1
    j = W.g_list[W.g_off[g] + last]
    W.g_list[W.g_off[g] + pos] = j
    W.m_gpos[b, j] = pos
    W.g_len[g] = last
    W.m_gpos[b, i] = -1


@_jit
def place_member(W, b, channel, rng):
    """Brand.place_member: a uniformly random guide with room (rejection sampling among
    the brand's guides) if the channel is 'guide', the group if all are full."""
    if channel != GUIDE_CH:
        return channel, -1
    lo, hi = W.b_glo[b], W.b_ghi[b]
    if hi == lo or W.b_full[b] >= hi - lo:
        return GROUP_CH, -1
    while True:
        g = lo + rng.integers(0, hi - lo)
        if W.g_n[g] < W.g_cap[g]:
            return GUIDE_CH, g


@_jit
def admit(W, G, b, i, channel, g, engagement, today, stamp, reluctant):
    """Make consumer i a member of brand b's private domain (a fresh Membership), with
    guide g (−1: none) taking it on."""
    W.m_channel[b, i] = channel
    W.m_joined[b, i] = stamp
    W.m_eng[b, i] = engagement
    W.m_fat[b, i] = 0.0
    W.m_harv[b, i] = 0.0
    W.m_upd[b, i] = today
    W.m_muted[b, i] = False
    W.m_reluct[b, i] = reluctant
    W.m_guide[b, i] = g
    W.m_refs[b, i] = 0
    W.n_memb[i] += 1
    if g >= 0:
        W.g_n[g] += 1
        if W.g_n[g] == W.g_cap[g]:
            W.b_full[b] += 1
        guide_add_reachable(W, g, b, i)
    set_state(W, G, b, i, np.int64(MEMBER))


@_jit
def join(W, B, G, L, today, i, b, channel, source, g, reluctant):
    """Consumer.join and Brand.on_join."""
    start = G.join_engagement * (G.reluctant_engagement if reluctant else 1.0)
    admit(W, G, b, i, channel, g, start, today, today * 16 + W.phase[0], reluctant)
    if reluctant:
        W.annoyed[b, i] = True
    L[today, MEMBER_SOURCE_COLUMN[source], b] += 1.0
    L[today, C_NEW_MEMBERS, b] += 1.0
    if B.welcome_gift[b] > 0:
        cost(L, today, b, np.int64(C_WELCOME_GIFTS), B.welcome_gift[b])


@_jit
def invite(W, B, G, L, today, rng, i, b, source, channel):
    """Brand.invite: join if there is a free attention slot and the membership is worth
    it; quota guides push reluctant ones in."""
    if W.m_channel[b, i] >= 0 or W.funnel[b, i] == LAPSED or not B.private_ops[b]:
        return False
    L[today, C_INVITES, b] += 1.0
    channel, g = place_member(W, b, channel, rng)
    if W.hunter[i]:
        p_join = 1.0 if (B.welcome_gift[b] > 0 or B.n_reward_tiers[b] > 0) else 0.0
    elif W.n_memb[i] >= W.slots[i]:
        return False
    else:
        discount = (
            B.member_coupon[b]
            if B.channel_policy[b] == ChannelPolicy.ASSIST
            else B.private_discount[b]
        )
        p_join = R.join_probability(
            B.welcome_gift[b] / B.price[b],
            discount,
            B.service_need[b],
            1.0 if g >= 0 else 0.0,
            G.join_value_weight,
            G.join_service_weight,
            G.join_hassle,
        )
    pressured = p_join
    if g >= 0 and B.guide_regime[b] == GuideRegime.QUOTA:
        pressured = R.pressured_join_probability(p_join, B.quota_pressure[b])
    u = rng.random()
    if u < pressured:
        join(W, B, G, L, today, i, b, channel, source, g, u >= p_join)
        return True
    return False


@_jit
def store_invite(W, B, G, L, today, rng, i, b):
    """Brand.store_invite: a guide asks to add the visitor; without guides the counter's
    QR code invites into the mini-program."""
    if W.b_ghi[b] == W.b_glo[b]:
        if B.qr_invite_rate[b] > 0 and rng.random() < B.qr_invite_rate[b]:
            invite(W, B, G, L, today, rng, i, b, np.int64(SRC_STORE), np.int64(MINI_PROGRAM_CH))
        return
    rate = B.guide_invite_rate[b] * (
        B.quota_invite_multiplier[b] if B.guide_regime[b] == GuideRegime.QUOTA else 1.0
    )
    if rng.random() < min(rate, 1.0):
        invite(W, B, G, L, today, rng, i, b, np.int64(SRC_STORE), np.int64(GUIDE_CH))


@_jit
def leave(W, G, i, b, excluded):
    """Consumer.leave: out of the private domain; if `excluded`, also drop the brand."""
    if W.m_channel[b, i] < 0:
        return
    g = np.int64(W.m_guide[b, i])
    if g >= 0:
        if not W.m_muted[b, i]:
            guide_drop_reachable(W, g, b, i)
        if W.g_n[g] == W.g_cap[g]:
            W.b_full[b] -= 1
        W.g_n[g] -= 1
    W.m_channel[b, i] = -1
    W.m_guide[b, i] = -1
    W.n_memb[i] -= 1
    if excluded:
        set_state(W, G, b, i, LAPSED if W.purchases[b, i] > 0 else UNAWARE)
        W.acquired[b, i] = NOT_ACQUIRED
        W.source[b, i] = -1
    else:
        set_state(W, G, b, i, CUSTOMER if W.purchases[b, i] > 0 else AWARE)


@_jit
def lapse(W, B, G, L, today, i, b):
    """Consumer.lapse: drop out as a customer (BG/NBD)."""
    L[today, C_LAPSES, b] += 1.0
    if W.m_channel[b, i] >= 0:
        leave(W, G, i, b, np.bool_(False))
    set_state(W, G, b, i, np.int64(LAPSED))
    W.acquired[b, i] = NOT_ACQUIRED


@_jit
def receive_touch(W, B, G, L, book, today, rng, i, b, kind, effect, skill, by_guide):
    """Consumer.receive_touch: engagement, fatigue, the harvest feeling, maybe an order;
    too much fatigue mutes, feeling harvested makes the member leave and shun the brand."""
    if W.m_channel[b, i] < 0 or W.m_muted[b, i]:
        return
    fade(W, G, b, i, today)
    L[today, TOUCH_COL[kind], b] += 1.0
    L[today, C_TOUCHES, b] += 1.0
    W.m_fat[b, i] += effect * G.fatigue_touch[kind]
    if kind == CONTENT:
        W.m_eng[b, i] = R.engagement_after_touch(
            np.float64(W.m_eng[b, i]), G.engagement_content * effect * skill
        )
    elif kind == SERVICE:
        gain = G.engagement_service * B.service_need[b] * effect * skill
        W.m_eng[b, i] = R.engagement_after_touch(np.float64(W.m_eng[b, i]), gain)
    if not W.hunter[i]:
        W.m_harv[b, i] = R.harvest_feeling(
            np.float64(W.m_harv[b, i]), 1.0 if kind == SELLING else 0.0, G.harvest_memory
        )
    if kind == SELLING:
        cat = B.category[b]
        p = R.selling_conversion(
            G.selling_conversion,
            np.float64(W.m_eng[b, i]),
            latent_need(W, G, i, cat),
            B.sku_breadth[b],
            effect,
            skill,
        )
        if rng.random() < p:
            buy_from(
                W, B, G, L, book, today, rng, i, b, BY_GUIDE if by_guide else BY_PUSH, np.int64(-1)
            )
            if W.m_channel[b, i] < 0:
                return
    tolerance = np.float64(W.tolerance[i]) * (B.reluctant_tolerance[b] if W.m_reluct[b, i] else 1.0)
    if W.m_fat[b, i] > tolerance:
        W.m_muted[b, i] = True
        W.annoyed[b, i] = True
        L[today, C_MUTES, b] += 1.0
        g = np.int64(W.m_guide[b, i])
        if g >= 0:
            guide_drop_reachable(W, g, b, i)
    elif W.m_harv[b, i] > G.harvest_threshold:
        L[today, C_LEAVES, b] += 1.0
        leave(W, G, i, b, np.bool_(True))


@_jit
def referral(W, B, G, L, book, today, rng, i, b, friend):
    """Brand.referral: the friend hears of the brand and is invited; a join counts
    towards the referrer's reward tiers."""
    if W.m_channel[b, friend] >= 0:
        return
    L[today, C_REFERRALS, b] += 1.0
    become_aware(W, B, G, L, book, today, rng, friend, b, np.int64(SRC_REFERRAL))
    if invite(W, B, G, L, today, rng, friend, b, np.int64(SRC_REFERRAL), np.int64(GROUP_CH)):
        W.m_refs[b, i] += 1
        t = B.n_reward_tiers[b]
        reward = R.reward_due(np.int64(W.m_refs[b, i]), B.tier_needed[b, :t], B.tier_reward[b, :t])
        if reward:
            cost(L, today, b, np.int64(C_REFERRAL_REWARDS), reward)


@_jit
def fake_referral(W, B, L, today, i, b):
    """Brand.fake_referral: a hunter's fake account earns the reward tier, never buys."""
    W.fake_members[b] += 1
    L[today, C_FAKES, b] += 1.0
    W.m_refs[b, i] += 1
    t = B.n_reward_tiers[b]
    reward = R.reward_due(np.int64(W.m_refs[b, i]), B.tier_needed[b, :t], B.tier_reward[b, :t])
    if reward:
        cost(L, today, b, np.int64(C_REFERRAL_REWARDS), reward)
        L[today, C_HUNTER_REWARDS, b] += reward


@_jit
def refer_friend(W, B, G, L, book, today, rng, i, b):
    """Consumer.refer_friend: a random tie (anyone, under random mixing)."""
    lo, hi = W.indptr[i], W.indptr[i + 1]
    if G.mixing or hi == lo:
        friend = rng.integers(0, G.n)
    else:
        friend = np.int64(W.indices[lo + rng.integers(0, hi - lo)])
    if friend != i:
        referral(W, B, G, L, book, today, rng, i, b, friend)


@_jit
def post_reaches(W, B, G, L, book, today, rng, i, b, source, kind):
    """Brand.post_reaches: awareness, maybe an order through the node's link, maybe an
    invitation."""
    L[today, C_KOC_REACHED, b] += 1.0
    if not W.koc_reach[b, i]:
        W.koc_reach[b, i] = True
        W.n_koc_reach[b] += 1
    s = W.funnel[b, i]
    if s == UNAWARE or s == LAPSED:
        if rng.random() < B.koc_awareness[b]:
            become_aware(W, B, G, L, book, today, rng, i, b, source)
        return
    p = B.koc_conversion[b] * latent_need(W, G, i, B.category[b])
    if rng.random() < p:
        by = BY_EMPLOYEE if kind == EMPLOYEE else (BY_SMALL_B if kind == SMALL_B else BY_KOC)
        channel = PRIVATE if W.m_channel[b, i] >= 0 else -1
        buy_from(W, B, G, L, book, today, rng, i, b, by, channel)
        if rng.random() < B.koc_join[b] and W.m_channel[b, i] < 0:
            invite(W, B, G, L, today, rng, i, b, source, np.int64(MINI_PROGRAM_CH))


# --------------------------------------------------------------------------- the day's phases
@_jit
def advertise(W, B, G, L, book, today, rng, b, cpm):
    """Brand.advertise: impressions, adstock, Hill awareness hazard for the unaware."""
    spend = B.ad_budget_per_day[b]
    impressions = spend / cpm * 1000.0 if spend > 0 else 0.0
    if spend > 0:
        cost(L, today, b, np.int64(C_ADS), spend)
        L[today, C_IMPRESSIONS, b] += impressions
    W.adstock[b] = R.adstock(W.adstock[b], impressions, G.adstock_theta)
    h = R.ad_awareness_hazard(
        W.adstock[b], G.n, B.targeting_precision[b], G.ad_max_hazard, G.hill_k, G.hill_s
    )
    if h <= 0:
        return
    funnel = W.funnel[b]  # row views, read in place (hot loops keep them local)
    scale = R.skip_scale(h)
    i = skip(rng, scale, G.n) - 1
    while i < G.n:
        s = funnel[i]
        if s == UNAWARE or s == LAPSED:
            become_aware(W, B, G, L, book, today, rng, i, b, np.int64(SRC_ADS))
        i += skip(rng, scale, G.n)


@_jit
def word_of_mouth(W, B, G, L, book, today, rng, b):
    """Brand.word_of_mouth: aware non-customers forget; the unaware hear of the brand at
    hazard organic + q·(share of friends who are customers or members), drawn as two
    independent exposures (the same 1 − (1 − o)(1 − w))."""
    n = G.n
    funnel = W.funnel[b]
    if G.awareness_decay > 0:
        scale = R.skip_scale(G.awareness_decay)
        i = skip(rng, scale, n) - 1
        while i < n:
            if funnel[i] == AWARE:
                set_state(W, G, b, i, np.int64(UNAWARE))
                W.source[b, i] = -1
            i += skip(rng, scale, n)
    if G.organic_awareness > 0:
        scale = R.skip_scale(G.organic_awareness)
        i = skip(rng, scale, n) - 1
        while i < n:
            s = funnel[i]
            if s == UNAWARE or s == LAPSED:
                become_aware(W, B, G, L, book, today, rng, i, b, np.int64(SRC_ORGANIC))
            i += skip(rng, scale, n)
    if G.mixing:
        q = R.word_of_mouth_hazard(G.wom_rate, W.n_advocates[b] / n)
        if q <= 0:
            return
        scale = R.skip_scale(min(q, 1.0))
        i = skip(rng, scale, n) - 1
        while i < n:
            s = funnel[i]
            if s == UNAWARE or s == LAPSED:
                become_aware(W, B, G, L, book, today, rng, i, b, np.int64(SRC_ORGANIC))
            i += skip(rng, scale, n)
        return
    q = R.word_of_mouth_hazard(G.wom_rate, 1.0)  # the ceiling: every friend advocates
    if q <= 0 or W.n_advocates[b] == 0:
        return
    advocates, indptr = W.advocates[b], W.indptr
    q = min(q, 1.0)
    scale = R.skip_scale(q)
    i = skip(rng, scale, n) - 1
    while i < n:
        s = funnel[i]
        a = advocates[i]
        if a > 0 and (s == UNAWARE or s == LAPSED):
            deg = indptr[i + 1] - indptr[i]
            h = R.word_of_mouth_hazard(G.wom_rate, a / deg)
            if rng.random() * q < h:
                become_aware(W, B, G, L, book, today, rng, i, b, np.int64(SRC_ORGANIC))
        i += skip(rng, scale, n)


@_jit
def store_traffic(W, B, G, L, book, today, rng, b):
    """Brand.store_traffic: visitors learn of the brand, may buy, guides may add them."""
    if B.stores[b] == 0 or B.store_visits_per_day[b] <= 0:
        return
    lo, hi = W.c_ptr[b], W.c_ptr[b + 1]
    if hi == lo:
        return
    visits = rng.poisson(R.bounded_poisson_mean(B.store_visits_per_day[b]))
    for _ in range(visits):
        i = np.int64(W.c_idx[lo + rng.integers(0, hi - lo)])
        become_aware(W, B, G, L, book, today, rng, i, b, np.int64(SRC_STORE))
        p = B.store_conversion[b] * latent_need(W, G, i, B.category[b])
        if rng.random() < p:
            buy_from(W, B, G, L, book, today, rng, i, b, np.int64(BY_NONE), np.int64(STORE))
        elif W.m_channel[b, i] < 0 and B.private_ops[b]:
            store_invite(W, B, G, L, today, rng, i, b)


@_jit
def pay_fixed_costs(W, B, L, today, b):
    if not B.private_ops[b]:
        return
    guides = W.b_ghi[b] - W.b_glo[b]
    if guides:
        cost(L, today, b, np.int64(C_GUIDE_SALARY), guides * B.guide_salary_per_day[b])
    if B.tooling_per_day[b]:
        cost(L, today, b, np.int64(C_TOOLING), B.tooling_per_day[b])
    nodes = 0
    for d in range(W.d_brand.size):
        if W.d_brand[d] == b and W.d_kind[d] != EMPLOYEE:
            nodes += 1
    if nodes and B.koc_fee_per_day[b]:
        cost(L, today, b, np.int64(C_KOC_FEES), nodes * B.koc_fee_per_day[b])


@_jit
def distributor_step(W, B, G, L, book, today, rng, d):
    """Distributor.step: a post with probability posts/7, seen by part of the circle."""
    b = np.int64(W.d_brand[d])
    kind = np.int64(W.d_kind[d])
    rate = (B.employee_posts_per_week[b] if kind == EMPLOYEE else B.koc_posts_per_week[b]) / 7.0
    if rng.random() >= rate:
        return
    source = SRC_DISTRIBUTOR if kind == EMPLOYEE or kind == SMALL_B else SRC_KOC
    for k in range(W.d_ptr[d], W.d_ptr[d + 1]):
        if rng.random() < B.koc_post_reach[b]:
            post_reaches(W, B, G, L, book, today, rng, np.int64(W.d_idx[k]), b, source, kind)


@_jit
def guide_step(W, B, G, L, book, today, rng, g):
    """Guide.step: a Poisson number of 1:1 messages to distinct reachable members, kinds
    drawn from the content mix."""
    b = np.int64(W.g_brand[g])
    n = rng.poisson(R.bounded_poisson_mean(B.guide_touches_per_day[b]))
    m = W.g_len[g]
    if m == 0 or n == 0:
        return
    k = min(n, m)
    off = W.g_off[g]
    picks = np.empty(k, dtype=np.int64)
    if 2 * k >= m:  # most of the list: a partial shuffle of a copy
        pool = W.g_list[off : off + m].copy()
        for j in range(k):
            r = j + rng.integers(0, m - j)
            pool[j], pool[r] = pool[r], pool[j]
            picks[j] = pool[j]
    else:  # a few of many: draw positions, redraw repeats
        j = 0
        while j < k:
            r = W.g_list[off + rng.integers(0, m)]
            fresh = True
            for q in range(j):
                if picks[q] == r:
                    fresh = False
                    break
            if fresh:
                picks[j] = r
                j += 1
    mix = B.mix[b]
    skill = np.float64(W.g_skill[g])
    for j in range(k):
        kind = R.draw_index(mix, rng.random())
        receive_touch(W, B, G, L, book, today, rng, picks[j], b, kind, 1.0, skill, np.bool_(True))


@_jit
def broadcast(W, B, G, L, book, today, rng, b):
    """Brand.broadcast: a post to group, mini-program and official-account members."""
    if B.broadcasts_per_week[b] <= 0 or rng.random() >= B.broadcasts_per_week[b] / 7.0:
        return
    kind = R.draw_index(B.mix[b], rng.random())
    channel, funnel = W.m_channel[b], W.funnel[b]
    for i in range(G.n):
        c = channel[i]
        if c < 0 or c == GUIDE_CH or funnel[i] != MEMBER:
            continue
        effect = G.group_effect if c == GROUP_CH else G.broadcast_effect
        receive_touch(W, B, G, L, book, today, rng, i, b, kind, effect, 1.0, np.bool_(False))


@_jit
def members_day(W, B, G, L, book, today, rng, b):
    """Brand.members_day: each member who was a member when the phase began refers a
    friend, registers a fake (hunters) or leaves (muted) with its own daily probability,
    sampled by thinning at the highest of those probabilities."""
    t = B.n_reward_tiers[b]
    needed, rewards = B.tier_needed[b, :t], B.tier_reward[b, :t]
    top_reward = 0.0
    for k in range(t):
        top_reward = max(top_reward, rewards[k])
    top_share = top_reward / B.price[b]
    ceiling = max(
        G.muted_leave_rate,
        R.hunter_fake_probability(G.hunter_fake_rate, top_share) if t > 0 else 0.0,
        R.referral_probability(G.referral_rate, 1.0, top_share, G.reward_sensitivity),
    )
    if ceiling <= 0:
        return
    stamp = today * 16 + PHASE_MEMBERS
    channel, joined = W.m_channel[b], W.m_joined[b]
    ceiling = min(ceiling, 1.0)
    scale = R.skip_scale(ceiling)
    i = skip(rng, scale, G.n) - 1
    while i < G.n:
        if channel[i] >= 0 and joined[i] != stamp:
            if W.m_muted[b, i]:
                p = G.muted_leave_rate
            else:
                reward = (
                    R.next_referral_reward(np.int64(W.m_refs[b, i]), needed, rewards) / B.price[b]
                )
                if W.hunter[i]:
                    p = R.hunter_fake_probability(G.hunter_fake_rate, reward) if t > 0 else 0.0
                else:
                    engagement = W.m_eng[b, i] * G.engagement_pow[today - W.m_upd[b, i]]
                    p = R.referral_probability(
                        G.referral_rate, engagement, reward, G.reward_sensitivity
                    )
            if rng.random() * ceiling < p:
                if W.m_muted[b, i]:
                    L[today, C_LEAVES, b] += 1.0
                    leave(W, G, i, b, np.bool_(False))
                elif W.hunter[i]:
                    fake_referral(W, B, L, today, i, b)
                else:
                    refer_friend(W, B, G, L, book, today, rng, i, b)
        i += skip(rng, scale, G.n)


@_jit
def needs(W, B, G, L, book, today, rng):
    """Consumers whose need arrives today choose and buy (in index order)."""
    ncat = W.next_need.shape[1]
    due = W.next_need.ravel()
    for k in range(due.size):
        if due[k] == today:
            on_need(W, B, G, L, book, today, rng, k // ncat, k % ncat)


@_jit
def shuffled(rng, n):
    """A random permutation of 0..n−1 (Fisher-Yates) from the run's Generator."""
    order = np.arange(n)
    for j in range(n - 1, 0, -1):
        r = rng.integers(0, j + 1)
        order[j], order[r] = order[r], order[j]
    return order


@_jit
def census(W, B, G, L, today):
    """MarketModel._census: the day-end stocks of every brand."""
    nb = W.funnel.shape[0]
    for b in range(nb):
        funnel, channel = W.funnel[b], W.m_channel[b]
        muted_, eng, upd, last = W.m_muted[b], W.m_eng[b], W.m_upd[b], W.last_purchase[b]
        fade = G.engagement_pow
        threshold, window = G.engaged_threshold, G.active_window
        g0 = g1 = g2 = g3 = 0
        muted = active = engaged = 0
        for i in range(G.n):  # states are counted as they change; members are looked at
            if funnel[i] != MEMBER:
                continue
            c = channel[i]
            g0 += c == 0
            g1 += c == 1
            g2 += c == 2
            g3 += c == 3
            if muted_[i]:
                muted += 1
                continue
            if eng[i] * fade[today - upd[i]] >= threshold:
                engaged += 1
            if today - last[i] < window:
                active += 1
        row = L[today, :, b]
        for s in range(5):
            row[STOCK_STATE[s]] = W.n_state[b, s]
        row[C_EVER] = W.n_ever[b]
        row[C_REPEAT_CUST] = W.n_repeat[b]
        row[C_MUTED] = muted
        row[C_REACHABLE] = W.n_state[b, MEMBER] - muted
        row[C_ACTIVE] = active
        row[C_ENGAGED] = engaged
        row[STOCK_CHANNEL[0]] = g0
        row[STOCK_CHANNEL[1]] = g1
        row[STOCK_CHANNEL[2]] = g2
        row[STOCK_CHANNEL[3]] = g3
        row[C_FAKE_STOCK] = W.fake_members[b]
        row[C_KOC_REACH] = W.n_koc_reach[b]
        nodes = 0
        for d in range(W.d_brand.size):
            if W.d_brand[d] == b:
                nodes += 1
        row[C_KOC_NODES] = nodes
        row[C_GUIDES] = W.b_ghi[b] - W.b_glo[b]
        row[C_PRIVATE_OPS] = 1.0 if B.private_ops[b] else 0.0


STOCK_STATE = cols("stock_{}", ("unaware", "aware", "customers", "members", "lapsed"))
STOCK_CHANNEL = cols("stock_members_{}", ("guide", "group", "mini_program", "official_account"))
C_EVER, C_REPEAT_CUST, C_MUTED, C_REACHABLE, C_ACTIVE, C_ENGAGED = (
    col(c)
    for c in (
        "stock_ever_customers",
        "stock_repeat_customers",
        "stock_muted",
        "stock_reachable",
        "stock_active_members",
        "stock_engaged",
    )
)
C_FAKE_STOCK, C_KOC_REACH, C_KOC_NODES, C_GUIDES, C_PRIVATE_OPS = (
    col(c)
    for c in (
        "stock_fake_members",
        "stock_koc_reach",
        "stock_koc_nodes",
        "stock_guides",
        "private_ops",
    )
)


@_jit
def step(W, B, G, L, book, today, rng):
    """One day, in the reference engine's process order (MarketModel.step)."""
    nb = W.funnel.shape[0]
    W.phase[0] = PHASE_BRANDS
    demand = 0.0
    for b in range(nb):
        demand += B.ad_budget_per_day[b]
    cpm = R.traffic_cpm(
        G.base_cpm,
        G.cpm_growth_per_year,
        today,
        demand,
        G.reference_ad_demand,
        G.cpm_demand_elasticity,
    )
    brands = shuffled(rng, nb)
    for b in brands:
        L[today, C_CPM, b] = cpm
        pay_fixed_costs(W, B, L, today, b)
        advertise(W, B, G, L, book, today, rng, b, cpm)
        word_of_mouth(W, B, G, L, book, today, rng, b)
        store_traffic(W, B, G, L, book, today, rng, b)
    W.phase[0] = PHASE_DISTRIBUTORS
    for d in shuffled(rng, W.d_brand.size):
        distributor_step(W, B, G, L, book, today, rng, d)
    W.phase[0] = PHASE_GUIDES
    for g in shuffled(rng, W.g_brand.size):
        guide_step(W, B, G, L, book, today, rng, g)
    for b in brands:
        if B.private_ops[b]:
            broadcast(W, B, G, L, book, today, rng, b)
    W.phase[0] = PHASE_MEMBERS
    for b in brands:
        if B.private_ops[b]:
            members_day(W, B, G, L, book, today, rng, b)
    W.phase[0] = PHASE_NEEDS
    needs(W, B, G, L, book, today, rng)
    census(W, B, G, L, today)


@_entry
def run_days(W, B, G, L, book, first, last, rng):
    """Days first..last−1."""
    for today in range(first, last):
        step(W, B, G, L, book, today, rng)


# --------------------------------------------------------------------------- set-up
@_entry
def initial_funnel(W, B, G, L, b, order, n_aware, n_cust, n_mem, within, preferred, rng):
    """MarketModel._initial_funnel for brand b: nested random sets aware ⊇ customers ⊇
    members (members placed like invitees; day-0 members are not booked as joins)."""
    for rank in range(n_aware):
        i = order[rank]
        set_state(W, G, b, i, np.int64(AWARE))
        W.source[b, i] = SRC_ORGANIC
        if rank < n_cust:
            set_state(W, G, b, i, np.int64(CUSTOMER))
            W.purchases[b, i] = 1
            W.n_ever[b] += 1
            W.acquired[b, i] = -(10**6)
            W.last_purchase[b, i] = -rng.integers(1, within + 1)
        if rank < n_mem and B.private_ops[b]:
            channel, g = place_member(W, b, preferred, rng)
            admit(
                W, G, b, i, channel, g, G.join_engagement, np.int64(0), np.int64(0), np.bool_(False)
            )


@_entry
def start_all_needs(W, B, today, rng):
    for i in range(W.next_need.shape[0]):
        for cat in range(W.next_need.shape[1]):
            start_needs(W, B, i, cat, today, rng)
