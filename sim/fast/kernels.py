"""The fast engine's day, compiled by Numba: each function mirrors the reference engine's
method of the same name (sim/agents.py, sim/model.py) over the arrays of `layout.World`.

Every formula and decision rule is a compiled `sim.rules` function (`R`), every booking
into the ledger a compiled `sim.accounting` function (`A`, into the day slot `L[today]`),
both from `sim.fast.jit`: what remains here is control flow. Codes are those of `sim.vocab`.
Every random number comes from a `numpy.random.Generator` passed in as `rng` (Numba
shares its state; `uniform` steps its PCG64 state inline, as NumPy would): during a day,
the one Generator the run's streams are loaded into, phase by phase (`run_days`,
`sim.streams`). Two devices make a day cost far less than one
draw per consumer:

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
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.random.generator_core import next_uint32
from numba.np.random.random_methods import bounded_lemire_uint64, buffered_bounded_lemire_uint32

from sim.accounting import SERVES, column, columns
from sim.calendar import CPM, DEMAND, FESTIVAL, INTERACTION
from sim.events import FIRST, HARVESTED, MEMBER, WIDTH, Kind
from sim.fast import jit as R
from sim.fast.bridge import (
    ChannelPolicy,
    FestivalBroadcast,
    GuideRegime,
    PrivateSalesKpi,
    TouchTargeting,
)
from sim.fast.jit import accounting as A
from sim.fast.layout import (
    NEVER,
    NO_COHORT,
    NOT_ACQUIRED,
)
from sim.hints import prefetch
from sim.rules import NO_LIFECYCLE_TOUCH, REVIEW_OTHER, REVIEW_REWARDED, WELCOMED_BEFORE_RUN
from sim.sorting import sort_keys
from sim.streams import (
    FESTIVAL_POST_SUB,
    MAX_CATEGORIES,
    Phase,
    card_sub,
    order_sub,
    order_uniform,
    stream_words,
)
from sim.vocab import (
    COHORT_HORIZONS,
    MEMBER_CHANNELS,
    STATE_NAMES,
    Channel,
    DistributorKind,
    MemberChannel,
    Prompt,
    Segment,
    Source,
    State,
    Touch,
)

HORIZONS = np.array(COHORT_HORIZONS, dtype=np.int64)
PHASE_BRANDS, PHASE_DISTRIBUTORS, PHASE_GUIDES, PHASE_MEMBERS, PHASE_NEEDS = range(5)

_jit = R.helper
_entry = R.entry
"""Only the entry points are cached (each cached entry holds all the code it calls);
the helpers compile into them."""
_inline = njit(nogil=True, inline="always")
"""A small helper of the adoption path with one caller on it (or, like `prefetch_adoption`,
a few hints long), inlined into its caller's Numba IR: no call, and none of the reference
counting of the world's structs that every compiled call does on entry and exit (its
caller already holds them). The body is typed and compiled where it is inlined, so a
larger helper with many callers stays a call (inlining the adoption path's helpers made a
fresh compile about 6 % longer)."""


@_inline
def copy_into(dst, src):
    """dst[k] = src[k] for every k of src, into a 1-D array at least as long. A loop, not
    `dst[:] = src`: Numba's slice assignment compiles its shape-mismatch message, string
    formatting included, about 2.5 s of a fresh install's first run."""
    for k in range(src.size):
        dst[k] = src[k]


# --------------------------------------------------------------------------- events
@_jit
def note(W, kind, i, b, today, channel, source, prompt, flags, value):
    """Append one raw event row (`sim.events`) to the buffers, doubling them when full.
    Called only when the run records events (`W.ev_on[0]`)."""
    n = W.ev_n[0]
    if n == W.ev_val.size:
        grown_i = np.empty((2 * n + 4096, WIDTH), dtype=np.int32)
        for r in range(n):
            copy_into(grown_i[r], W.ev_int[r])
        grown_v = np.empty(2 * n + 4096)
        copy_into(grown_v, W.ev_val)
        W.ev_int = grown_i
        W.ev_val = grown_v
    row = W.ev_int[n]
    row[0] = kind
    row[1] = i
    row[2] = b
    row[3] = today
    row[4] = channel
    row[5] = source
    row[6] = prompt
    row[7] = flags
    W.ev_val[n] = value
    W.ev_n[0] = n + 1


@_jit
def note_membership(W, kind, i, b, today, source, flags):
    """A join, mute or leave of consumer i in brand b's private domain (its channel as
    it is now)."""
    note(W, kind, i, b, today, np.int64(W.m_channel[b, i]), source, -1, flags, 0.0)


@_entry
def take_events(W):
    """The raw event rows recorded since the last call (copies), and the buffers."""
    n = W.ev_n[0]
    W.ev_n[0] = 0
    return W.ev_int[:n].copy(), W.ev_val[:n].copy(), W.ev_int, W.ev_val


@_entry
def event_buffers(W):
    """The event buffers the struct holds now (the kernels may have grown them)."""
    return W.ev_int, W.ev_val


# --------------------------------------------------------------------------- small helpers
PCG64_MULTIPLIER = (2549297995355413924 << 64) + 4865540595714422341
"""PCG64's 128-bit LCG multiplier (NumPy's `PCG_DEFAULT_MULTIPLIER_128`)."""


@intrinsic
def uniform(typingctx, rng):
    """`rng.random()` of a PCG64 Generator, stepped here instead of through the bit
    generator's function pointer: the same state change and the same double (NumPy's
    `pcg64_next64`, state ← state·M + inc and the XSL-RR output, then `(x >> 11)·2⁻⁵³`),
    written where the Generator keeps its state, so draws made here and by the Generator
    itself interleave as one stream. Inlined, it is a few instructions where the call was
    an indirect call the compiler could not see through (most of a skip's cost besides its
    logarithm). Every Generator the kernels are given is PCG64 (`sim.streams`, whose
    `state_views` checks NumPy's layout of that state); tests/test_fast_uniform.py compares
    its draws with NumPy's."""
    if not isinstance(rng, types.NumPyRandomGeneratorType):
        return None
    sig = types.float64(rng)

    def codegen(context, builder, signature, args):
        gen = cgutils.create_struct_proxy(signature.args[0])(context, builder, value=args[0])
        bitgen = cgutils.create_struct_proxy(types.NumPyRandomBitGeneratorType("bit_generator"))(
            context, builder, value=gen.bit_generator
        )
        i64, i128 = ir.IntType(64), ir.IntType(128)
        # bitgen.state: the address of NumPy's pcg64_state, whose first field points to the
        # 128-bit state and increment (native integers: low word first)
        outer = builder.inttoptr(bitgen.state, i128.as_pointer().as_pointer())
        words = builder.load(outer)
        inc_ptr = builder.gep(words, [ir.Constant(i64, 1)])
        state = builder.load(words, align=8)
        inc = builder.load(inc_ptr, align=8)
        state = builder.add(builder.mul(state, ir.Constant(i128, PCG64_MULTIPLIER)), inc)
        builder.store(state, words, align=8)
        hi = builder.trunc(builder.lshr(state, ir.Constant(i128, 64)), i64)
        lo = builder.trunc(state, i64)
        x = builder.xor(hi, lo)
        rot = builder.trunc(builder.lshr(state, ir.Constant(i128, 122)), i64)
        left = builder.and_(builder.neg(rot), ir.Constant(i64, 63))
        out = builder.or_(builder.lshr(x, rot), builder.shl(x, left))
        top = builder.uitofp(builder.lshr(out, ir.Constant(i64, 11)), ir.DoubleType())
        return builder.fmul(top, ir.Constant(ir.DoubleType(), 1.0 / 9007199254740992.0))

    return sig, codegen


@_jit
def skip(rng, scale, horizon):
    """Steps to the next success of Bernoulli(h) trials, scale = R.skip_scale(h): the rule
    `geometric_skip` on one uniform draw (three times faster than Generator.geometric in a
    loop); horizon + 1 when beyond `horizon` steps, so a loop over `horizon` consumers
    ends there and tiny hazards cannot overflow an index. The uniform is `uniform`'s."""
    return R.geometric_skip(uniform(rng), scale, horizon)


@_jit
def below(rng, m):
    """`rng.integers(0, m)` for m ≥ 1: the same bits drawn and the same value as Numba's
    `Generator.integers` (NumPy's Lemire method, on a buffered 32-bit half when m − 1 fits
    in 32 bits, `random_bounded_uint64_fill`), without the one-item array that `integers`
    allocates, fills and frees on every call (a guide's picks, a store's visitors). Values
    are exact below 2⁵³, as there (Numba adds the uint64 draw to the int64 bound as a
    float); no caller comes near."""
    r = np.int64(m) - 1
    if r < 0:
        raise ValueError("low is greater than high in given interval")
    if r == 0:
        return np.int64(0)
    bitgen = rng.bit_generator
    if r < 0xFFFFFFFF:
        return np.int64(buffered_bounded_lemire_uint32(bitgen, r))
    if r == 0xFFFFFFFF:
        return np.int64(next_uint32(bitgen))
    return np.int64(bounded_lemire_uint64(bitgen, r))


@_jit
def held_below(W, m):
    """What the next `below(rng, m)` returns where the run's Generator holds a buffered
    32-bit half (`W.draw_flags`: NumPy's `has_uint32` and `uinteger`, which `uniform`
    leaves alone) and Lemire's method accepts it at once; −1 otherwise. A guess for hints
    only (`store_traffic`): a draw of another 32-bit value in between makes it wrong, and
    nothing is drawn or changed here. At 15M consumers (national_guides, days 30-59) the
    store's day took 8-10 % less for it, against the needs' and the guides' days (four
    runs of benchmarks/profile_fast.py without it, two with); guessing the other visits'
    draws too (the state a visitor's one or two doubles leave) measured no better."""
    excl = np.uint64(m)  # `below`'s bound, m − 1, plus one
    if m <= 1 or excl > np.uint64(0xFFFFFFFF) or W.draw_flags[2] == 0:
        return np.int64(-1)
    prod = np.uint64(W.draw_flags[3]) * excl
    left = prod & np.uint64(0xFFFFFFFF)
    if left < excl and left < (np.uint64(0x100000000) - excl) % excl:
        return np.int64(-1)  # Lemire's method would draw again
    return np.int64(prod >> np.uint64(32))


@_jit
def poisson(rng, mean):
    """`rng.poisson(mean)`, the same draw, from one helper: the three phases that draw a
    count (store visits, a guide's touches, lifecycle touches) call it, so that a first run
    compiles NumPy's Poisson sampler once, in whichever process claims this helper
    (`sim.fast.aside`), not once in each."""
    return rng.poisson(mean)


@_jit
def is_advocate(state):
    return state == State.CUSTOMER or state == State.MEMBER


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


@_inline
def knows_category(W, B, i, cat):
    for k in range(B.cat_nbrands[cat]):
        s = W.funnel[B.cat_brands[cat, k], i]
        if s >= State.AWARE and s <= State.MEMBER:
            return True
    return False


@_jit
def schedule_need(W, B, i, cat, today, rng):
    """Consumer.schedule_need: the day of the next need (geometric), if the category is
    known; an unaware consumer's needs go to unmodelled brands."""
    if not knows_category(W, B, i, cat):
        W.next_need[i, cat] = -1
        return
    schedule_known_need(W, i, cat, today, rng)


@_inline
def schedule_known_need(W, i, cat, today, rng):
    """`schedule_need` for a consumer known to know the category (one of its brands aware,
    a customer or a member): the next need's day, one draw where the need can come."""
    p = need_probability(W, i, cat)  # demand expansion: the lifted rate of a member
    if p <= 0:
        W.next_need[i, cat] = NEVER
        return
    wait = skip(rng, R.skip_scale(np.float64(p)), NEVER - today) if p < 1 else 1
    W.next_need[i, cat] = R.need_day(today, wait)
    list_need(W, i, cat)


@_inline
def start_needs(W, B, i, cat, today, rng):
    if W.next_need[i, cat] < today:
        schedule_need(W, B, i, cat, today, rng)


@_jit
def latent_need(W, G, i, cat):
    return R.latent_need_probability(need_rate_now(W, i, cat), G.latent_need_window)


@_jit
def need_converts(W, G, i, cat, u, rate):
    """Whether uniform draw u converts an encounter at conversion rate `rate`: u below
    `R.conversion_probability(rate, latent need)`. The probability grows with the latent
    need, which is at most 1, so where u is not below the probability at 1 the latent need
    (an exponential, and the consumer's need rate: at a scattered consumer a cache miss) is
    not computed: the same answer, for most encounters without them."""
    return u < R.conversion_probability(rate, 1.0) and u < R.conversion_probability(
        rate, latent_need(W, G, i, cat)
    )


# --------------------------------------------------------------------------- demand expansion
# (issue 12, item 8: membership raises the member's own category need; ODD 7.20)
@_jit
def lift_of(W, i, cat):
    """Consumer i's need lift in force in a category: 0 where no strategy lifts needs (the
    table is then not allocated: `FastModel` gives it no consumer rows)."""
    if W.need_lift.shape[0] == 0:
        return np.float32(0.0)
    return W.need_lift[i, cat]


@_jit
def need_rate_now(W, i, cat):
    """Consumer.need_rate_now: λ, or λ·(1 + lift) under demand expansion."""
    lift = lift_of(W, i, cat)
    if lift == 0:
        return np.float64(W.need_rate[i, cat])
    return R.lifted_need_rate(np.float64(W.need_rate[i, cat]), np.float64(lift))


@_jit
def need_probability(W, i, cat):
    """Consumer.need_probability: P(a need today) at the need rate in force."""
    if lift_of(W, i, cat) == 0:
        return np.float64(W.need_p[i, cat])
    return R.daily_need_probability(need_rate_now(W, i, cat))


@_jit
def relift_need(W, B, i, cat, today, rng):
    """Consumer.relift_need: the category's lift from the memberships held now; if it
    changed and the need is tracked, the next need redrawn from today (one uniform)."""
    lift = 0.0
    for k in range(B.cat_nbrands[cat]):
        b = B.cat_brands[cat, k]
        lift = max(
            lift,
            R.membership_need_lift(
                B.member_need_lift[b], W.m_channel[b, i] >= 0, W.m_muted[b, i], B.private_ops[b]
            ),
        )
    if np.float32(lift) == lift_of(W, i, cat):
        return
    W.need_lift[i, cat] = lift
    if W.next_need[i, cat] > today:
        W.next_need[i, cat] = R.redrawn_need_day(uniform(rng), need_probability(W, i, cat), today)
        list_need(W, i, cat)


@_jit
def demand_due(W, i):
    """List consumer i for recomputation at the day's end (once)."""
    if not W.dm_due[i]:
        W.dm_due[i] = True
        W.dm_list[W.dm_n[0]] = i
        W.dm_n[0] += 1


@_jit
def note_need_lift(W, B, i, b):
    """Consumer.note_need_lift on a join: joining a brand with a lift lists the consumer
    for the day's end."""
    if B.member_need_lift[b] > 0:
        demand_due(W, i)


@_jit
def note_need_drop(W, i):
    """Consumer.note_need_lift on a mute or leave: a consumer with a lift in force is
    listed for the day's end."""
    for cat in range(W.need_lift.shape[1]):
        if lift_of(W, i, cat) > 0:
            demand_due(W, i)
            return


@_jit
def expand_demand(W, B, today, rng, S):
    """MarketModel.expand_demand: members of a brand whose effective lift changed and the
    consumers listed today get their need lift recomputed, each category's redraw from
    stream `Phase.DEMAND_EXPANSION` (sub-key: consumer and category)."""
    nb = W.funnel.shape[0]
    for b in range(nb):
        lift = R.membership_need_lift(B.member_need_lift[b], True, False, B.private_ops[b])
        if lift != W.dm_seen[b]:
            W.dm_seen[b] = lift
            for i in range(W.funnel.shape[1]):
                if W.m_channel[b, i] >= 0:
                    demand_due(W, i)
    for k in range(W.dm_n[0]):
        i = np.int64(W.dm_list[k])
        W.dm_due[i] = False
        for cat in range(W.next_need.shape[1]):
            load_stream(S, Phase.DEMAND_EXPANSION, today, i * MAX_CATEGORIES + S[5][cat])
            relift_need(W, B, i, cat, today, rng)
    W.dm_n[0] = 0


@_jit
def fade(W, G, b, i, today):
    """Consumer.membership: fatigue and engagement faded to today (the census's engaged
    count follows the new engagement: `engaged_rewritten`)."""
    upd = np.int64(W.m_upd[b, i])
    if today != upd:
        eng = W.m_eng[b, i]
        faded(W, G, b, i, today)
        if W.cs_meta[2] and W.m_channel[b, i] >= 0 and not W.m_muted[b, i]:
            engaged_rewritten(W, G, b, eng, upd, W.m_eng[b, i], np.int64(today))


@_jit
def faded(W, G, b, i, today):
    """`fade` without the census's counts (the caller keeps them)."""
    days = today - W.m_upd[b, i]
    if days != 0:
        W.m_fat[b, i] = W.m_fat[b, i] * G.fatigue_pow[days]
        W.m_eng[b, i] = W.m_eng[b, i] * G.engagement_pow[days]
        W.m_upd[b, i] = today


# --------------------------------------------------------------------------- buying
@_jit
def habit_today(W, G, b, i, today):
    """Consumer.habit_today: the habit of ordering in brand b's own shop, faded to today."""
    days = today - W.habit_day[b, i]
    return R.habit_now(np.float64(W.habit[b, i]), G.habit_half_life, np.float64(days))


@_jit
def home_of(W, G, i):
    """Consumer i's home public platform: 0 without reading it where there is one platform
    (every home is 0 then), so a purchase does not touch the array for nothing."""
    if G.pl_shoppers.size == 1:
        return np.int64(0)
    return np.int64(W.home[i])


@_jit
def options(W, B, G, today, i, b, chan, util, share, at, utilities):
    """Consumer.options: the ways to buy brand b now, written from position `at` into
    (chan, util, share); returns the new end position. With `utilities` False the
    utilities are not computed (util 0) and the consumer's traits not read: the channels
    and price shares are those of `utilities` True (`buy_from` with one way to buy, where
    the logit choice is certain whatever the utility)."""
    member = W.m_channel[b, i] >= 0 and B.private_ops[b]
    engagement = np.float64(W.m_eng[b, i]) if member else 0.0
    tier = 0.0
    if member:
        k = B.n_spend_tiers[b]
        tier = R.tier_discount(
            np.float64(W.spend[b, i]), B.tier_spend[b, :k], B.tier_discount[b, :k]
        )
    service = R.member_service_value(member, B.member_service[b], B.service_need[b])
    coupon = R.member_coupon_share(
        member, B.channel_policy[b] == ChannelPolicy.ASSIST, B.member_coupon[b]
    )
    loyalty, appeal, relationship, alpha, rating = 0.0, 0.0, 0.0, 0.0, 0.0
    if utilities:
        loyalty = G.customer_loyalty if W.purchases[b, i] > 0 else 0.0
        appeal = B.appeal[b] - (G.annoyance_penalty if W.annoyed[b, i] else 0.0)
        relationship = G.relationship_weight * engagement
        alpha = np.float64(W.alpha[i])
        # private lifts public (7.21): the platform rating everyone sees, a member's points
        rating = R.platform_rating_value(
            G.rating_weight, W.review_stock[b], G.n, G.rating_half_saturation
        )
    common = (alpha, relationship, loyalty, appeal)
    s = R.effective_price_share(B.platform_discount[b], coupon, tier)
    convenience, protection = 0.0, 0.0
    if utilities:
        points = R.points_value(member, B.points_rate[b], alpha, s)
        convenience = G.convenience_platform + B.platform_fit[b] + rating + points
        protection = R.platform_protection_value(
            G.trust_weight, np.float64(W.trust[i]), G.pl_protection[home_of(W, G, i)]
        )
    at = offer(
        chan,
        util,
        share,
        at,
        np.int64(Channel.PLATFORM),
        s,
        convenience,
        protection,
        0.0,
        common,
        utilities,
    )
    if R.private_shop_offered(member, B.channel_policy[b] == ChannelPolicy.SEPARATE):
        s = R.effective_price_share(B.private_discount[b], 0.0, tier)
        convenience, guarantee = 0.0, 0.0
        if utilities:
            points = R.points_value(member, B.points_rate[b], alpha, s)
            convenience = (
                R.private_convenience(
                    G.convenience_private,
                    B.private_fit[b],
                    G.habit_weight,
                    habit_today(W, G, b, i, today),
                )
                + points
            )
            # the private shop's guarantee (organisation and channel conflict)
            guarantee = R.private_guarantee_value(
                G.trust_weight, np.float64(W.trust[i]), B.private_guarantee[b]
            )
        at = offer(
            chan,
            util,
            share,
            at,
            np.int64(Channel.PRIVATE),
            s,
            convenience,
            guarantee,
            service,
            common,
            utilities,
        )
    if B.stores[b] > 0 and W.store_access[b, i]:
        s = R.effective_price_share(0.0, 0.0, tier)
        convenience, store_service = 0.0, 0.0
        if utilities:
            points = R.points_value(member, B.points_rate[b], alpha, s)
            convenience = G.convenience_store + B.store_fit[b] + points
            store_service = R.store_service_value(G.store_service_value, B.service_need[b], service)
        at = offer(
            chan,
            util,
            share,
            at,
            np.int64(Channel.STORE),
            s,
            convenience,
            0.0,
            store_service,
            common,
            utilities,
        )
    return at


@_jit
def offer(
    chan, util, share, at, channel, price_share, convenience, protection, service, common, utilities
):
    """One way to buy (Consumer.options' offer): its channel, utility (0 without
    `utilities`) and price share at position `at`; `common` = (α, relationship, loyalty,
    appeal). Returns at + 1."""
    alpha, relationship, loyalty, appeal = common
    chan[at] = channel
    share[at] = price_share
    util[at] = 0.0
    if utilities:
        util[at] = R.channel_utility(
            price_share, alpha, convenience, protection, relationship, loyalty, appeal, service
        )
    return at + 1


@_inline
def record_order(W, B, G, L, today, i, b, channel, price, first, member, prompted_by, list_price):
    """Brand.record_order: the order booked by `sim.accounting.book_order` (`list_price`:
    its value before discounts, `order_value`)."""
    src = np.int64(W.source[b, i])
    if src < 0:
        src = np.int64(Source.ORGANIC)
    coupon = R.member_coupon_applies(
        member,
        B.private_ops[b],
        channel,
        B.channel_policy[b] == ChannelPolicy.ASSIST,
        B.member_coupon[b],
    )
    day = L[today]
    A.book_order(
        day,
        b,
        channel,
        src,
        prompted_by,
        price,
        list_price,
        B.gross_margin[b],
        first,
        member,
        member and W.m_guide[b, i] >= 0,
        coupon,
        G.pl_take_rate[home_of(W, G, i)],
        B.guide_commission[b],
        B.koc_commission[b],
        B.employee_commission[b],
    )
    # private lifts public (7.21): points earned, the order's review chance
    points = R.points_earned(member, B.private_ops[b], B.points_rate[b], price)
    A.book_points(day, b, points, src if first else np.int64(SERVES))
    kind = R.review_kind(channel, member, B.private_ops[b], B.review_points[b])
    if kind >= 0:
        W.review_orders[b, kind] += 1
    if W.ev_on[0]:
        flags = (FIRST if first else 0) | (MEMBER if member else 0)
        note(W, Kind.ORDER, i, b, today, channel, src, prompted_by, flags, price)


@_inline
def start_cohort(W, G, book, today, i, b):
    """MarketModel.start_cohort. A cohort's count and every later order inside its
    horizons go straight to the bucket of its due day (book[due, b, h, source]), so a
    customer who lapses and comes back leaves its old cohort booked at its own age."""
    W.cohort_day[b, i] = today
    src = W.source[b, i]
    W.cohort_src[b, i] = src if src >= 0 else np.int64(Source.ORGANIC)
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
        W.source[b, i] = np.int64(Source.ORGANIC)
    if first:
        W.acquired[b, i] = today
        start_cohort(W, G, book, today, i, b)
    member = W.m_channel[b, i] >= 0
    list_price = order_value(W, B, today, rng, i, b, channel, prompted_by)
    price = list_price * share
    record_order(W, B, G, L, today, i, b, channel, price, first, member, prompted_by, list_price)
    W.purchases[b, i] += 1
    if W.purchases[b, i] == 1:
        W.n_ever[b] += 1
    elif W.purchases[b, i] == 2:
        W.n_repeat[b] += 1
    W.spend[b, i] += price
    if member:  # `active_count` counts members only (none joins or leaves in between)
        active_count(W, G, b, i, -1)
    W.last_purchase[b, i] = today
    if member:
        active_count(W, G, b, i, 1)
    if channel == Channel.PRIVATE:  # the order keeps the shop's slot in the phone warm
        W.habit[b, i] = R.habit_after_private_order(habit_today(W, G, b, i, today), G.habit_gain)
        W.habit_day[b, i] = today
    if W.cohort_day[b, i] != NO_COHORT:
        age = today - W.cohort_day[b, i]
        # on the acquisition day δ⁰ = 1: the present value is the price (no power taken)
        pv = price if age == 0 else R.present_value(price, G.discount_factor, age)
        for h in range(HORIZONS.size):
            due = W.cohort_day[b, i] + HORIZONS[h]
            if age < HORIZONS[h] and due < G.days:
                book[due, b, h, W.cohort_src[b, i], 0] += price
                book[due, b, h, W.cohort_src[b, i], 1] += pv
    state = W.funnel[b, i]
    if state == State.AWARE or state == State.UNAWARE or state == State.LAPSED:
        set_state(W, G, b, i, np.int64(State.CUSTOMER))
    invitation = R.invitation_after_purchase(channel, member, B.private_ops[b])
    if invitation == Source.PACKAGE_CARD:
        sent = R.package_card_probability(  # the public team's diversion (KPI credit)
            B.package_card_rate[b],
            B.private_sales_kpi[b] == PrivateSalesKpi.SEPARATE,
            B.channel_policy[b] == ChannelPolicy.SEPARATE,
            B.public_team_cooperation[b],
        )
        if uniform(rng) < sent:
            # several platforms: the home platform may block the card (ban risk)
            risk = G.pl_ban_risk[home_of(W, G, i)]
            if risk > 0 and R.card_blocked(
                risk,
                order_uniform(G.ban_key, today, card_sub(i, b, W.purchases[b, i]), W.pl_words),
            ):
                A.book_card_blocked(L[today], b)
            else:
                invite(W, B, G, L, today, rng, i, b, invitation, B.package_card_channel[b])
    elif invitation == Source.STORE:
        store_invite(W, B, G, L, today, rng, i, b)
    engagement = 0.0
    if W.m_channel[b, i] >= 0:
        fade(W, G, b, i, today)
        engagement = np.float64(W.m_eng[b, i])
    p = R.dropout_probability(np.float64(W.dropout[b, i]), engagement, G.member_retention)
    if uniform(rng) < p:
        lapse(W, B, G, L, today, i, b)


# --------------------------------------------------------------------------- order values
# Order values and baskets (issue 12, item 5).
@_inline
def order_value(W, B, today, rng, i, b, channel, prompted_by):
    """Consumer.order_value: the list value of consumer i's order of brand b now
    (`sim.rules.order_list_value`): the price times the consumer's mean order value in the
    category, the basket cross-sell adds (`sim.rules.basket_multiplier`) and, where orders
    vary, this order's own draw (`order_value_draw`)."""
    basket = R.basket_multiplier(B.cross_sell[b], B.sku_breadth[b], channel, A.pushed(prompted_by))
    draw = 1.0
    if B.order_value_cv_order[b] > 0:
        draw = order_value_draw(W, today, rng, i, b, B.order_value_cv_order[b])
    mean = 1.0
    if B.order_value_cv[b] > 0:
        mean = W.value_mean[i, B.category[b]]
    return R.order_list_value(B.price[b], mean, basket, draw)


@_jit
def order_value_draw(W, today, rng, i, b, cv):
    """One order's value around its buyer's mean: Gamma(1/cv², cv²) from the order's own
    stream (`Phase.ORDER_VALUE`, sub-key `sim.streams.order_sub`). The day's Generator is
    pointed at that stream for the draw and then back where the interrupted stream stood,
    so the phase placing the order draws as it would without it."""
    words, flags, saved = W.draw_words, W.draw_flags, W.draw_saved
    for k in range(4):
        saved[k] = words[k]
    saved[4] = flags[2]
    saved[5] = flags[3]
    stream_words(W.value_key, today, order_sub(i, b, W.purchases[b, i]), saved[6:10])
    for k in range(4):
        words[k] = saved[6 + k]
    flags[2] = 0
    flags[3] = 0
    shape = R.order_value_shape(cv)
    draw = rng.gamma(shape, 1.0 / shape)
    for k in range(4):
        words[k] = saved[k]
    flags[2] = np.uint32(saved[4])
    flags[3] = np.uint32(saved[5])
    return draw


@_jit
def buy_from(W, B, G, L, book, today, rng, i, b, prompted_by, channel):
    """Consumer.buy_from: buy brand b now (a push, a trial, a store visit), the channel by
    logit among the brand's channels, or `channel` if it is one of them (else the first)."""
    bought(W, B, G, L, book, today, rng, i, b, prompted_by, channel)


@_inline
def bought(W, B, G, L, book, today, rng, i, b, prompted_by, channel):
    """`buy_from`'s body, inlined where a trial follows awareness (`aware_now`): one call
    and its reference counts fewer per adoption."""
    chan, util, share, probs = W.scratch_i[2], W.scratch_f[3], W.scratch_f[4], W.scratch_f[5]
    # the utilities decide between two or more ways to buy only: with one (or a channel
    # given) the choice is certain, its uniform drawn all the same
    k = options(W, B, G, today, i, b, chan, util, share, np.int64(0), False)
    if k > 1 and channel < 0:
        k = options(W, B, G, today, i, b, chan, util, share, np.int64(0), True)
        R.logit_shares(util[:k], -np.inf, probs[: k + 1])
        j = R.draw_index(probs[:k], uniform(rng))
    else:
        j = 0
        if channel >= 0:
            for q in range(k):
                if chan[q] == channel:
                    j = q
        uniform(rng)
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
        if s == State.AWARE or s == State.CUSTOMER or s == State.MEMBER:
            if W.m_channel[b, i] >= 0:
                fade(W, G, b, i, today)
            k2 = options(W, B, G, today, i, b, chan, util, share, k, True)
            for j in range(k, k2):
                brand[j] = b
            k = k2
    if k > 0:
        R.logit_shares(util[:k], G.outside_utility, probs[: k + 1])
        j = R.draw_index(probs[: k + 1], uniform(rng))
        if j < k:
            purchase(
                W, B, G, L, book, today, rng, i, brand[j], chan[j], share[j], np.int64(Prompt.NONE)
            )
    schedule_need(W, B, i, cat, today, rng)


# --------------------------------------------------------------------------- private lifts public
@_jit
def reviews_day(W, B, G, L, today, rng, b):
    """Brand.reviews_day (ODD 7.21): each of today's platform orders of brand b is reviewed
    with its probability, rewarded members' orders first, one uniform each (drawn only
    where a review can happen); reviews and points booked; the review stock fades and
    grows; today's order counts start again."""
    counts = np.zeros(2, dtype=np.int64)
    for kind in range(2):
        n = W.review_orders[b, kind]
        p = R.review_probability(
            G.review_rate,
            kind == REVIEW_REWARDED,
            G.review_reward_sensitivity,
            B.review_points[b],
            B.price[b],
        )
        if n > 0 and p > 0:
            for _ in range(n):
                if uniform(rng) < p:
                    counts[kind] += 1
    A.book_reviews(
        L[today],
        b,
        counts[REVIEW_REWARDED],
        counts[REVIEW_OTHER],
        B.review_points[b],
    )
    W.review_stock[b] = R.review_stock_after(
        W.review_stock[b], np.float64(counts[0] + counts[1]), G.review_decay
    )
    A.book_review_stock(L[today], b, W.review_stock[b])
    W.review_orders[b, 0] = 0
    W.review_orders[b, 1] = 0


@_jit
def festival_need(W, B, G, L, book, today, rng, i, cat, multiplier):
    """Consumer.festival_need (the calendar): an extra need in the category with
    probability 1 − e^{−(m−1)λ}, met like a due need (`on_need`)."""
    p = R.festival_need_probability(need_rate_now(W, i, cat), multiplier)
    if uniform(rng) < p:
        on_need(W, B, G, L, book, today, rng, i, cat)


# --------------------------------------------------------------------------- awareness
@_inline
def prefetch_lift(W, i, cat):
    """Request the line of consumer i's demand-expansion lift in category `cat`, where that
    table is allocated (`layout.UNUSED_WHEN_OFF`): the prefetches' one read of it."""
    if W.need_lift.shape[0] > 0:
        prefetch(W.need_lift[i], cat)


@_inline
def prefetch_adoption(W, B, i, b):
    """Bring in at once the cache lines that consumer i's awareness of brand b, and the
    trial order it may lead to, read and write: independent misses that the processor then
    overlaps, instead of meeting them one after another along the adoption's path (at a
    large population nearly every one is a miss)."""
    cat = B.category[b]
    prefetch(W.source[b], i)
    prefetch(W.next_need[i], cat)
    prefetch(W.need_p[i], cat)
    prefetch_lift(W, i, cat)
    prefetch(W.m_channel[b], i)
    prefetch(W.acquired[b], i)
    prefetch(W.cohort_day[b], i)
    prefetch(W.cohort_src[b], i)
    prefetch(W.purchases[b], i)
    prefetch(W.spend[b], i)
    prefetch(W.last_purchase[b], i)
    prefetch(W.dropout[b], i)


TOUCH_AHEAD = 4
"""How many members ahead of the one being touched a guide's messages request their cache
lines (`prefetch_touch`): enough to overlap the misses, few enough that the requests do not
queue (4 and 8 measured alike)."""


@_jit
def prefetch_touch(W, B, i, b):
    """Bring in at once the cache lines a touch of member i of brand b reads and writes
    (`receive_touch`: membership, engagement and its day, fatigue, harvest feeling,
    reluctance, the consumer's tolerance and hunter flag, the need a selling touch reads):
    a guide's members are scattered over the population, so each is a miss, and requested
    a few members ahead they overlap (a hint: no value changes)."""
    cat = B.category[b]
    prefetch(W.m_channel[b], i)
    # the membership record (m_eng .. m_reluct, `layout.member_record`): its first and last
    # field, one line where it is narrow (16 bytes, never straddling), both where it is wide
    prefetch(W.m_eng[b], i)
    prefetch(W.m_reluct[b], i)
    prefetch(W.hunter, i)
    prefetch(W.tolerance, i)
    prefetch(W.need_rate[i], cat)
    prefetch_lift(W, i, cat)


@_jit
def touch_members(W, B, G, L, book, today, rng, b, picks, k, skill):
    """A guide's 1:1 messages to members picks[:k], in that order, each of a kind drawn
    from brand b's content mix (`receive_touch`), the members' lines prefetched
    TOUCH_AHEAD messages ahead."""
    for j in range(min(k, TOUCH_AHEAD)):
        prefetch_touch(W, B, picks[j], b)
    mix = B.mix[b]
    for j in range(k):
        if j + TOUCH_AHEAD < k:
            prefetch_touch(W, B, picks[j + TOUCH_AHEAD], b)
        kind = R.draw_index(mix, uniform(rng))
        receive_touch(W, B, G, L, book, today, rng, picks[j], b, kind, 1.0, skill, np.bool_(True))


@_jit
def become_aware(W, B, G, L, book, today, rng, i, b, source):
    """Consumer.become_aware: hear of a brand (again, if lapsed); maybe buy at once."""
    return aware_now(W, B, G, L, book, today, rng, i, b, source)


@_inline
def aware_now(W, B, G, L, book, today, rng, i, b, source):
    """`become_aware`'s body, inlined into the skipping loops that make nearly every
    adoption (`advertise`, `hear_on_platform`), with the trial order's `bought`: the
    adoption's first two calls, and their reference counts, are gone."""
    s = W.funnel[b, i]
    if s != State.UNAWARE and s != State.LAPSED:
        return False
    set_state(W, G, b, i, np.int64(State.AWARE))
    W.source[b, i] = source
    cat = B.category[b]
    if W.next_need[i, cat] < today:  # start_needs: b is aware now, so the category known
        schedule_known_need(W, i, cat, today, rng)
    trial = R.trial_probability(B.trial_on_awareness[b], source == Source.ADS, G.ad_trial_boost)
    if trial > 0 and uniform(rng) < trial:
        bought(W, B, G, L, book, today, rng, i, b, np.int64(Prompt.TRIAL), np.int64(-1))
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
    if channel != MemberChannel.GUIDE:
        return channel, -1
    lo, hi = W.b_glo[b], W.b_ghi[b]
    if hi == lo or W.b_full[b] >= hi - lo:
        return np.int64(MemberChannel.GROUP), -1
    while True:
        g = lo + below(rng, hi - lo)
        if W.g_n[g] < W.g_cap[g]:
            return np.int64(MemberChannel.GUIDE), g


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
    if W.m_life.shape[1] > 0:  # lifecycle operations (UNUSED_WHEN_OFF)
        W.m_life[b, i] = NO_LIFECYCLE_TOUCH
    W.n_memb[i] += 1
    if g >= 0:
        W.g_n[g] += 1
        if W.g_n[g] == W.g_cap[g]:
            W.b_full[b] += 1
        guide_add_reachable(W, g, b, i)
    set_state(W, G, b, i, np.int64(State.MEMBER))
    member_count(W, G, b, i, 1)


@_jit
def join(W, B, G, L, today, i, b, channel, source, g, reluctant):
    """Consumer.join and Brand.on_join."""
    start = R.joiner_engagement(G.join_engagement, reluctant, G.reluctant_engagement)
    admit(W, G, b, i, channel, g, start, today, today * 16 + W.phase[0], reluctant)
    if reluctant:
        W.annoyed[b, i] = True
    serves = A.acquisition_source(W.acquired[b, i] == NOT_ACQUIRED, np.int64(W.source[b, i]))
    A.book_join(L[today], b, source, B.welcome_gift[b], serves)
    if W.ev_on[0]:
        note_membership(W, Kind.JOIN, i, b, today, source, 0)
    note_need_lift(W, B, i, b)  # demand expansion


@_jit
def invite(W, B, G, L, today, rng, i, b, source, channel):
    """Brand.invite: join if there is a free attention slot and the membership is worth
    it; quota guides push reluctant ones in."""
    if W.m_channel[b, i] >= 0 or W.funnel[b, i] == State.LAPSED or not B.private_ops[b]:
        return False
    A.book_invite(
        L[today],
        b,
        A.acquisition_source(W.acquired[b, i] == NOT_ACQUIRED, np.int64(W.source[b, i])),
    )
    channel, g = place_member(W, b, channel, rng)
    if W.hunter[i]:
        p_join = R.hunter_join_probability(B.welcome_gift[b], B.n_reward_tiers[b])
    elif W.n_memb[i] >= W.slots[i]:
        return False
    else:
        discount = R.join_discount(
            B.channel_policy[b] == ChannelPolicy.SEPARATE, B.private_discount[b], B.member_coupon[b]
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
    u = uniform(rng)
    if u < pressured:
        join(W, B, G, L, today, i, b, channel, source, g, u >= p_join)
        return True
    return False


@_jit
def store_invite(W, B, G, L, today, rng, i, b):
    """Brand.store_invite: a guide asks to add the visitor; without guides the counter's
    QR code invites into the mini-program; never a customer its franchisee keeps."""
    withheld = W.withheld[b, i] if W.withheld.shape[1] > 0 else False  # none franchised
    if W.b_ghi[b] == W.b_glo[b]:
        if B.qr_invite_rate[b] > 0 and uniform(rng) < R.store_invite_rate(
            B.qr_invite_rate[b], withheld
        ):
            invite(
                W,
                B,
                G,
                L,
                today,
                rng,
                i,
                b,
                np.int64(Source.STORE),
                np.int64(MemberChannel.MINI_PROGRAM),
            )
        return
    p = R.guide_invite_probability(
        B.guide_invite_rate[b],
        B.guide_regime[b] == GuideRegime.QUOTA,
        B.quota_invite_multiplier[b],
    )
    if uniform(rng) < R.store_invite_rate(p, withheld):
        invite(W, B, G, L, today, rng, i, b, np.int64(Source.STORE), np.int64(MemberChannel.GUIDE))


@_jit
def leave(W, G, i, b, excluded):
    """Consumer.leave: out of the private domain; if `excluded`, also drop the brand."""
    if W.m_channel[b, i] < 0:
        return
    note_need_drop(W, i)  # demand expansion
    member_count(W, G, b, i, -1)
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
        set_state(W, G, b, i, np.int64(State.LAPSED if W.purchases[b, i] > 0 else State.UNAWARE))
        W.acquired[b, i] = NOT_ACQUIRED
        W.source[b, i] = -1
    else:
        set_state(W, G, b, i, np.int64(State.CUSTOMER if W.purchases[b, i] > 0 else State.AWARE))


@_jit
def lapse(W, B, G, L, today, i, b):
    """Consumer.lapse: drop out as a customer (BG/NBD)."""
    A.book_lapse(L[today], b)
    if W.ev_on[0]:
        note(W, Kind.LAPSE, i, b, today, -1, -1, -1, MEMBER if W.m_channel[b, i] >= 0 else 0, 0.0)
    if W.m_channel[b, i] >= 0:
        leave(W, G, i, b, np.bool_(False))
    set_state(W, G, b, i, np.int64(State.LAPSED))
    W.acquired[b, i] = NOT_ACQUIRED


@_jit
def receive_touch(W, B, G, L, book, today, rng, i, b, kind, effect, skill, by_guide):
    """Consumer.receive_touch: engagement, fatigue, the harvest feeling, maybe an order;
    too much fatigue mutes, feeling harvested makes the member leave and shun the brand."""
    if W.m_channel[b, i] < 0 or W.m_muted[b, i]:
        return
    # the census's engaged count follows the new engagement (`engaged_rewritten`)
    eng, upd = W.m_eng[b, i], np.int64(W.m_upd[b, i])
    faded(W, G, b, i, today)
    A.book_touch(L[today], b, kind)
    W.m_fat[b, i] += R.touch_fatigue(kind, effect, G.fatigue_touch)
    gain = R.touch_engagement_gain(
        kind, effect, skill, G.engagement_content, G.engagement_service, B.service_need[b]
    )
    W.m_eng[b, i] = R.engagement_after_touch(np.float64(W.m_eng[b, i]), gain)
    if W.cs_meta[2]:
        engaged_rewritten(W, G, b, eng, upd, W.m_eng[b, i], np.int64(today))
    if not W.hunter[i]:
        W.m_harv[b, i] = R.harvest_feeling(
            np.float64(W.m_harv[b, i]), 1.0 if kind == Touch.SELLING else 0.0, G.harvest_memory
        )
    if kind == Touch.SELLING:
        u, eng = uniform(rng), np.float64(W.m_eng[b, i])
        base, sku = G.selling_conversion, B.sku_breadth[b]
        top = R.selling_conversion(base, eng, 1.0, sku, effect, skill)  # as `need_converts`
        cat = B.category[b]
        if u < top and u < R.selling_conversion(
            base, eng, latent_need(W, G, i, cat), sku, effect, skill
        ):
            by = np.int64(Prompt.GUIDE) if by_guide else np.int64(Prompt.PUSH)
            buy_from(W, B, G, L, book, today, rng, i, b, by, np.int64(-1))
            if W.m_channel[b, i] < 0:
                return
    tolerance = R.fatigue_tolerance(
        np.float64(W.tolerance[i]), W.m_reluct[b, i], B.reluctant_tolerance[b]
    )
    if R.mutes(W.m_fat[b, i], tolerance):
        member_count(W, G, b, i, -1)
        W.m_muted[b, i] = True
        member_count(W, G, b, i, 1)
        W.annoyed[b, i] = True
        note_need_drop(W, i)  # demand expansion
        A.book_mute(L[today], b)
        if W.ev_on[0]:
            note_membership(W, Kind.MUTE, i, b, today, -1, 0)
        g = np.int64(W.m_guide[b, i])
        if g >= 0:
            guide_drop_reachable(W, g, b, i)
    elif R.feels_harvested(W.m_harv[b, i], G.harvest_threshold):
        A.book_leave(L[today], b)
        if W.ev_on[0]:
            note_membership(W, Kind.LEAVE, i, b, today, -1, HARVESTED)
        leave(W, G, i, b, np.bool_(True))


@_jit
def referral(W, B, G, L, book, today, rng, i, b, friend):
    """Brand.referral: the friend hears of the brand and is invited; a join counts
    towards the referrer's reward tiers."""
    if W.m_channel[b, friend] >= 0:
        return
    A.book_referral(L[today], b)
    become_aware(W, B, G, L, book, today, rng, friend, b, np.int64(Source.REFERRAL))
    referral, group = np.int64(Source.REFERRAL), np.int64(MemberChannel.GROUP)
    if invite(W, B, G, L, today, rng, friend, b, referral, group):
        W.m_refs[b, i] += 1
        t = B.n_reward_tiers[b]
        reward = R.reward_due(np.int64(W.m_refs[b, i]), B.tier_needed[b, :t], B.tier_reward[b, :t])
        A.book_referral_reward(L[today], b, reward)


@_jit
def fake_referral(W, B, L, today, i, b):
    """Brand.fake_referral: a hunter's fake account earns the reward tier, never buys."""
    W.fake_members[b] += 1
    W.m_refs[b, i] += 1
    t = B.n_reward_tiers[b]
    reward = R.reward_due(np.int64(W.m_refs[b, i]), B.tier_needed[b, :t], B.tier_reward[b, :t])
    A.book_fake_referral(L[today], b, reward)


@_jit
def refer_friend(W, B, G, L, book, today, rng, i, b):
    """Consumer.refer_friend: a random tie (anyone, under random mixing)."""
    lo, hi = np.int64(W.indptr[i]), np.int64(W.indptr[i + 1])  # int32 row pointers
    if G.mixing or hi == lo:
        friend = below(rng, G.n)
    else:
        friend = np.int64(W.indices[lo + below(rng, hi - lo)])
    if friend != i:
        referral(W, B, G, L, book, today, rng, i, b, friend)


@_jit
def post_reaches(W, B, G, L, book, today, rng, i, b, source, kind):
    """Brand.post_reaches: awareness, maybe an order through the node's link, maybe an
    invitation."""
    A.book_koc_reach(L[today], b)
    if not W.koc_reach[b, i]:
        W.koc_reach[b, i] = True
        W.n_koc_reach[b] += 1
    s = W.funnel[b, i]
    if s == State.UNAWARE or s == State.LAPSED:
        if uniform(rng) < B.koc_awareness[b]:
            become_aware(W, B, G, L, book, today, rng, i, b, source)
        return
    if need_converts(W, G, i, B.category[b], uniform(rng), B.koc_conversion[b]):
        by = np.int64(A.distributor_prompt(kind))
        channel = np.int64(Channel.PRIVATE) if W.m_channel[b, i] >= 0 else np.int64(-1)
        buy_from(W, B, G, L, book, today, rng, i, b, by, channel)
        if uniform(rng) < B.koc_join[b] and W.m_channel[b, i] < 0:
            invite(W, B, G, L, today, rng, i, b, source, np.int64(MemberChannel.MINI_PROGRAM))


# --------------------------------------------------------------------------- the day's phases
SKIP_AHEAD = 4.0
"""How many mean skips ahead of the candidate in hand a skipping loop (the ads' and organic
awareness, forgetting, word of mouth's thinning) asks for the lines its candidates read
first: the funnel state, and in word of mouth's thinning also the advocate count and the
row of ties. At hazard h the candidates lie a mean 1/h apart, so the line that far on is,
mostly, one a candidate a few skips later will read (a hint: no value changes). At 15M
consumers (national_guides) word of mouth took 20 % less time a day with it; 8 skips
ahead measured the same as 4."""


@_jit
def skip_ahead(h, n):
    """How far ahead of its candidate a skipping loop at hazard h > 0 over n consumers asks
    for lines: SKIP_AHEAD mean skips, at most n."""
    return np.int64(min(SKIP_AHEAD / h, n))


@_jit
def advertise(W, B, G, L, book, today, rng, b, cpms):
    """Brand.advertise: impressions on each platform (the budget's split at its CPM),
    adstock per platform, Hill awareness hazard for the unaware among its shoppers."""
    n_platforms = G.pl_shoppers.size
    total = 0.0
    for k in range(n_platforms):
        spend = W.ad_spend[b] * B.ad_split[b, k]
        impressions = R.impressions_bought(spend, cpms[k])
        A.book_ads(L[today], b, spend, impressions)
        W.pl_adstock[b, k] = R.adstock(W.pl_adstock[b, k], impressions, G.adstock_theta)
        total += W.pl_adstock[b, k]
    W.adstock[b] = total
    funnel, home = W.funnel[b], W.home  # row views, read in place (hot loops keep them local)
    single = n_platforms == 1  # every home is platform 0
    for k in range(n_platforms):
        h = R.ad_awareness_hazard(
            W.pl_adstock[b, k],
            G.pl_shoppers[k],
            B.targeting_precision[b],
            G.ad_max_hazard,
            G.hill_k,
            G.hill_s,
        )
        if h <= 0:
            continue
        scale = R.skip_scale(h)
        ahead = skip_ahead(h, G.n)
        i = skip(rng, scale, G.n) - 1
        while i < G.n:  # the state first: a home is read only for the unaware
            prefetch(funnel, min(i + ahead, G.n - 1))
            s = funnel[i]
            if (s == State.UNAWARE or s == State.LAPSED) and (single or home[i] == k):
                prefetch_adoption(W, B, i, b)
                aware_now(W, B, G, L, book, today, rng, i, b, np.int64(Source.ADS))
            i += skip(rng, scale, G.n)


@_jit
def feed_multiplier(G, k):
    """The discovery multiplier of platform k (`sim.rules.discovery_multiplier`)."""
    return R.discovery_multiplier(G.pl_feed[k], G.pl_feed_boost[k])


@_jit
def hear_on_platform(W, B, G, L, book, today, rng, b, k, h):
    """One constant hazard h of word of mouth's (organic awareness, or word of mouth under
    random mixing) on the shoppers of platform k: each unaware or lapsed one becomes aware
    of brand b with probability min(h, 1), sampled by skipping; nothing where h ≤ 0."""
    if h <= 0:
        return
    n = G.n
    funnel, home = W.funnel[b], W.home
    single = G.pl_shoppers.size == 1  # every home is platform 0
    scale = R.skip_scale(min(h, 1.0))
    ahead = skip_ahead(min(h, 1.0), n)
    i = skip(rng, scale, n) - 1
    while i < n:  # the state first: a home is read only for the unaware
        prefetch(funnel, min(i + ahead, n - 1))
        s = funnel[i]
        if (s == State.UNAWARE or s == State.LAPSED) and (single or home[i] == k):
            prefetch_adoption(W, B, i, b)
            aware_now(W, B, G, L, book, today, rng, i, b, np.int64(Source.ORGANIC))
        i += skip(rng, scale, n)


@_jit
def word_of_mouth(W, B, G, L, book, today, rng, b):
    """Brand.word_of_mouth: aware non-customers forget; the unaware hear of the brand at
    hazard organic + q·(share of friends who are customers or members), drawn as two
    independent exposures (the same 1 − (1 − o)(1 − w))."""
    n = G.n
    funnel = W.funnel[b]
    if G.awareness_decay > 0:
        scale = R.skip_scale(G.awareness_decay)
        ahead = skip_ahead(G.awareness_decay, n)
        i = skip(rng, scale, n) - 1
        while i < n:
            prefetch(funnel, min(i + ahead, n - 1))
            if funnel[i] == State.AWARE:
                set_state(W, G, b, i, np.int64(State.UNAWARE))
                W.source[b, i] = -1
            i += skip(rng, scale, n)
    home = W.home
    n_platforms = G.pl_shoppers.size
    if G.organic_awareness > 0:
        for k in range(n_platforms):  # a feed platform's shoppers discover more
            hear_on_platform(
                W, B, G, L, book, today, rng, b, k, G.organic_awareness * feed_multiplier(G, k)
            )
    if G.mixing:
        for k in range(n_platforms):
            q = R.word_of_mouth_hazard(G.wom_rate * feed_multiplier(G, k), W.n_advocates[b] / n)
            hear_on_platform(W, B, G, L, book, today, rng, b, k, q)
        return
    top = 0.0  # the largest discovery multiplier: the thinning ceiling's
    for k in range(n_platforms):
        top = max(top, feed_multiplier(G, k))
    q = R.word_of_mouth_hazard(G.wom_rate * top, 1.0)  # the ceiling: every friend advocates
    if q <= 0 or W.n_advocates[b] == 0:
        return
    advocates, indptr = W.advocates[b], W.indptr
    q = min(q, 1.0)
    scale = R.skip_scale(q)
    ahead = skip_ahead(q, n)
    i = skip(rng, scale, n) - 1
    while i < n:
        j = min(i + ahead, n - 1)  # the lines the candidates a few skips on will read
        prefetch(funnel, j)
        prefetch(advocates, j)
        prefetch(indptr, j)
        s = funnel[i]  # the state first: the advocates are read only for the unaware
        if s == State.UNAWARE or s == State.LAPSED:
            a = advocates[i]
            if a > 0:
                deg = indptr[i + 1] - indptr[i]
                h = R.word_of_mouth_hazard(G.wom_rate * feed_multiplier(G, home[i]), a / deg)
                if uniform(rng) * q < h:
                    prefetch_adoption(W, B, i, b)
                    become_aware(W, B, G, L, book, today, rng, i, b, np.int64(Source.ORGANIC))
        i += skip(rng, scale, n)


@_jit
def store_traffic(W, B, G, L, book, today, rng, b):
    """Brand.store_traffic: visitors learn of the brand, may buy, guides may add them."""
    if B.stores[b] == 0 or B.store_visits_per_day[b] <= 0:
        return
    lo, hi = W.c_ptr[b], W.c_ptr[b + 1]
    if hi == lo:
        return
    visits = poisson(rng, R.bounded_poisson_mean(B.store_visits_per_day[b]))
    m = hi - lo
    for _ in range(visits):
        i = np.int64(W.c_idx[lo + below(rng, m)])
        prefetch_adoption(W, B, i, b)  # the visitor's lines at once (most are misses)
        # the next visitor, where the Generator already holds its draw (every other visit):
        # its catchment entry now, its lines once this visitor's first misses are met
        ahead = held_below(W, m)
        if ahead >= 0:
            prefetch(W.c_idx, lo + ahead)
        become_aware(W, B, G, L, book, today, rng, i, b, np.int64(Source.STORE))
        if ahead >= 0:
            prefetch_adoption(W, B, np.int64(W.c_idx[lo + ahead]), b)
        if need_converts(W, G, i, B.category[b], uniform(rng), B.store_conversion[b]):
            store = np.int64(Channel.STORE)
            buy_from(W, B, G, L, book, today, rng, i, b, np.int64(Prompt.NONE), store)
        elif W.m_channel[b, i] < 0 and B.private_ops[b]:
            store_invite(W, B, G, L, today, rng, i, b)


@_jit
def budget_day(W, B, L, today, b):
    """Brand.budget_day: count yesterday's spend against the budget year, let today's ads
    run only if they fit."""
    start = R.budget_year_start(today)
    if today == start:
        W.budget_spent[b] = 0.0
    else:
        W.budget_spent[b] += A.budget_spend(L[today - 1], b)
    nodes = 0
    for d in range(W.d_brand.size):
        if W.d_brand[d] == b and W.d_kind[d] != DistributorKind.EMPLOYEE:
            nodes += 1
    fixed = R.fixed_cost_per_day(
        B.private_ops[b],
        W.b_ghi[b] - W.b_glo[b],
        B.guide_salary_per_day[b],
        B.tooling_per_day[b],
        nodes,
        B.koc_fee_per_day[b],
    )
    days_left = R.budget_days_left(today)
    if R.ads_within_budget(
        B.ad_budget_per_day[b], W.budget_spent[b], fixed, days_left, B.annual_budget[b]
    ):
        W.ad_spend[b] = B.ad_budget_per_day[b]
    else:
        W.ad_spend[b] = 0.0
        A.book_budget_bound(L[today], b)


@_jit
def pay_fixed_costs(W, B, L, today, b):
    """Brand.pay_fixed_costs: a day of private-domain operations."""
    if not B.private_ops[b]:
        return
    kocs, small_bs = 0, 0
    for d in range(W.d_brand.size):
        if W.d_brand[d] == b and W.d_kind[d] == DistributorKind.KOC:
            kocs += 1
        elif W.d_brand[d] == b and W.d_kind[d] == DistributorKind.SMALL_B:
            small_bs += 1
    guides = W.b_ghi[b] - W.b_glo[b]
    A.book_fixed_costs(
        L[today],
        b,
        guides,
        B.guide_salary_per_day[b],
        B.tooling_per_day[b],
        kocs,
        small_bs,
        B.koc_fee_per_day[b],
    )


@_jit
def distributor_step(W, B, G, L, book, today, rng, d):
    """Distributor.step: a post with probability posts/7, seen by part of the circle."""
    b = np.int64(W.d_brand[d])
    kind = np.int64(W.d_kind[d])
    posts = (
        B.employee_posts_per_week[b]
        if kind == DistributorKind.EMPLOYEE
        else B.koc_posts_per_week[b]
    )
    if uniform(rng) >= R.posting_probability(posts):
        return
    source = R.distributor_source(kind)
    for k in range(W.d_ptr[d], W.d_ptr[d + 1]):
        if uniform(rng) < B.koc_post_reach[b]:
            post_reaches(W, B, G, L, book, today, rng, np.int64(W.d_idx[k]), b, source, kind)


@_jit
def guide_step(W, B, G, L, book, today, rng, g):
    """Guide.step: a Poisson number of 1:1 messages to distinct reachable members, kinds
    drawn from the content mix."""
    b = np.int64(W.g_brand[g])
    # the calendar: more messages on festival days (rules.festival_rate)
    rate = R.festival_rate(B.guide_touches_per_day[b], G.festival_today[INTERACTION])
    n = poisson(rng, R.bounded_poisson_mean(rate))
    m = W.g_len[g]
    if m == 0 or n == 0:
        return
    k = min(n, m)
    off = W.g_off[g]
    picks = W.g_scratch[0, :k]  # room for the longest list (no allocation a guide-day)
    if 2 * k >= m:  # most of the list: a partial shuffle of a copy
        pool = W.g_scratch[1, :m]
        copy_into(pool, W.g_list[off : off + m])
        for j in range(k):
            r = j + below(rng, m - j)
            pool[j], pool[r] = pool[r], pool[j]
            picks[j] = pool[j]
    else:  # a few of many: draw positions, redraw repeats
        j = 0
        while j < k:
            r = W.g_list[off + below(rng, m)]
            fresh = True
            for q in range(j):
                if picks[q] == r:
                    fresh = False
                    break
            if fresh:
                picks[j] = r
                j += 1
    touch_members(W, B, G, L, book, today, rng, b, picks, k, np.float64(W.g_skill[g]))


# --------------------------------------------------------------------------- lifecycle operations
@_jit
def lifecycle_touches(W, B, G, L, book, today, rng, g, n):
    """Guide.lifecycle_touches: up to n messages to guide g's reachable members due a
    lifecycle touch (`R.lifecycle_segment`), in the order of `R.lifecycle_priority`, each
    of a kind drawn from its segment's mix; returns how many were sent."""
    b = np.int64(W.g_brand[g])
    m = W.g_len[g]
    off = W.g_off[g]
    cycle = R.inter_purchase_days(B.purchases_per_year[b])
    start, end = B.winback_after[b] * cycle, B.winback_until[b] * cycle
    keys = W.g_scratch[0, :m]  # room for the longest list (no allocation a guide-day)
    k = 0
    for j in range(m):
        i = np.int64(W.g_list[off + j])
        segment = R.lifecycle_segment(
            today,
            np.int64(W.m_joined[b, i]) // 16,
            np.int64(W.last_purchase[b, i]),
            W.purchases[b, i] > 0,
            np.int64(W.birthday[i]),
            np.int64(W.m_life[b, i]),
            B.welcome_days[b],
            start,
            end,
            B.birthday_days[b],
        )
        if segment != Segment.NONE:
            keys[k] = R.lifecycle_priority(segment, i, G.n)
            k += 1
    keys = keys[:k]
    sort_keys(keys)
    skill = np.float64(W.g_skill[g])
    sent = 0
    for j in range(k):
        if sent >= n:
            break
        segment, i = keys[j] // G.n, keys[j] % G.n
        if W.m_channel[b, i] < 0 or W.m_muted[b, i]:
            continue
        kind = R.draw_index(B.segment_mix[b, segment], uniform(rng))
        W.m_life[b, i] = today
        A.book_lifecycle_touch(L[today], b, segment)
        receive_touch(W, B, G, L, book, today, rng, i, b, kind, 1.0, skill, np.bool_(True))
        sent += 1
    return sent


@_jit
def lifecycle_guide_step(W, B, G, L, book, today, rng, S, g):
    """Guide.step under lifecycle targeting: the day's Poisson number of messages (the
    guides' stream), first to the members due a lifecycle touch (`lifecycle_touches`,
    drawing from the brand's lifecycle stream, kept in row nb + b of `S[3]`), the rest to
    distinct reachable members not touched so today, drawn at random, kinds from the
    content mix."""
    b = np.int64(W.g_brand[g])
    # the calendar: more messages on festival days (rules.festival_rate)
    rate = R.festival_rate(B.guide_touches_per_day[b], G.festival_today[INTERACTION])
    n = poisson(rng, R.bounded_poisson_mean(rate))
    if W.g_len[g] == 0 or n == 0:
        return
    nb = W.funnel.shape[0]
    save_stream(S, b)
    resume_stream(S, nb + b)
    n -= lifecycle_touches(W, B, G, L, book, today, rng, g, n)
    save_stream(S, nb + b)
    resume_stream(S, b)
    m = W.g_len[g]
    off = W.g_off[g]
    pool = W.g_scratch[1, :m]
    c = 0
    for j in range(m):
        i = W.g_list[off + j]
        if W.m_life[b, i] != today:
            pool[c] = i
            c += 1
    k = min(n, c)
    for j in range(k):  # a partial shuffle: k distinct members, uniformly
        r = j + below(rng, c - j)
        pool[j], pool[r] = pool[r], pool[j]
    touch_members(W, B, G, L, book, today, rng, b, pool, k, np.float64(W.g_skill[g]))


@_jit
def broadcast(W, B, G, L, book, today, rng, b):
    """Brand.broadcast: a post to group, mini-program and official-account members."""
    # the calendar: more posts on festival days (rules.festival_rate)
    posts = R.festival_rate(B.broadcasts_per_week[b], G.festival_today[INTERACTION])
    if B.broadcasts_per_week[b] <= 0 or uniform(rng) >= R.posting_probability(posts):
        return
    post_to_members(W, B, G, L, book, today, rng, b, R.draw_index(B.mix[b], uniform(rng)))


@_jit
def post_to_members(W, B, G, L, book, today, rng, b, kind):
    """Brand.post_to_members: one post of `kind` to group, mini-program and account
    members, each touched with its channel's broadcast effect."""
    channel, funnel = W.m_channel[b], W.funnel[b]
    for i in range(G.n):
        c = channel[i]
        if c < 0 or c == MemberChannel.GUIDE or funnel[i] != State.MEMBER:
            continue
        effect = R.broadcast_touch_effect(c, G.group_effect, G.broadcast_effect)
        receive_touch(W, B, G, L, book, today, rng, i, b, kind, effect, 1.0, np.bool_(False))


@_jit
def festival_post(W, B, G, L, book, today, rng, b):
    """Brand.festival_post (the calendar's festival touch plan): one extra post of the
    strategy's `festival_broadcast` kind to group, mini-program and account members."""
    kind = B.festival_broadcast[b]
    if kind == FestivalBroadcast.NONE:
        return
    post_to_members(W, B, G, L, book, today, rng, b, kind)


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
    # the calendar: members refer more on festival days (rules.festival_rate)
    referral_rate = R.festival_rate(G.referral_rate, G.festival_today[INTERACTION])
    ceiling = max(
        G.muted_leave_rate,
        R.hunter_fake_probability(G.hunter_fake_rate, top_share) if t > 0 else 0.0,
        R.referral_probability(referral_rate, 1.0, top_share, G.reward_sensitivity),
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
                        referral_rate, engagement, reward, G.reward_sensitivity
                    )
            if uniform(rng) * ceiling < p:
                if W.m_muted[b, i]:
                    A.book_leave(L[today], b)
                    if W.ev_on[0]:
                        note_membership(W, Kind.LEAVE, i, b, today, -1, 0)
                    leave(W, G, i, b, np.bool_(False))
                elif W.hunter[i]:
                    fake_referral(W, B, L, today, i, b)
                else:
                    refer_friend(W, B, G, L, book, today, rng, i, b)
        i += skip(rng, scale, G.n)


NEED_AHEAD = 4
"""How many listed needs ahead of the one being met `needs` requests the cache lines of
(`prefetch_need`)."""


@_jit
def prefetch_need(W, B, i, cat):
    """Bring in at once the cache lines consumer i's need in category `cat` reads first
    (`on_need`: whether it is still due, the consumer's price sensitivity, trust and home,
    and per brand of the category its funnel state, membership, purchases, annoyance and
    spend): the day's needs are scattered over the population, so each is a miss, and
    requested a few needs ahead they overlap (a hint: no value changes)."""
    prefetch(W.next_need[i], cat)
    prefetch(W.need_rate[i], cat)
    prefetch_lift(W, i, cat)
    prefetch(W.alpha, i)
    prefetch(W.trust, i)
    prefetch(W.home, i)
    for q in range(B.cat_nbrands[cat]):
        b = B.cat_brands[cat, q]
        prefetch(W.funnel[b], i)
        prefetch(W.m_channel[b], i)
        prefetch(W.purchases[b], i)
        prefetch(W.annoyed[b], i)
        prefetch(W.spend[b], i)


@_jit
def needs(W, B, G, L, book, today, rng, S):
    """Consumers whose need arrives today choose and buy (in index order), each need from
    its own stream (`Phase.NEEDS`, sub-key: the consumer and the category's position in
    the scenario, `S[5]`). Called inside `run_days` only, whose window lists the day's
    needs (`plan_days`)."""
    ncat = W.next_need.shape[1]
    keys = needs_listed(W, today)
    prev = -1
    for p in range(min(keys.size, NEED_AHEAD)):
        prefetch_need(W, B, keys[p] // ncat, keys[p] % ncat)
    for p in range(keys.size):
        if p + NEED_AHEAD < keys.size:
            ahead = keys[p + NEED_AHEAD]
            prefetch_need(W, B, ahead // ncat, ahead % ncat)
        k = keys[p]
        if k == prev:  # listed twice (rescheduled to the same day)
            continue
        prev = k
        i, cat = k // ncat, k % ncat
        if W.next_need[i, cat] == today:  # still due: not rescheduled since it was listed
            load_stream(S, Phase.NEEDS, today, i * MAX_CATEGORIES + S[5][cat])
            on_need(W, B, G, L, book, today, rng, i, cat)


@_jit
def festival_needs(W, B, G, L, book, today, rng, S, multiplier):
    """MarketModel._festival_needs (the calendar): every consumer whose needs are tracked
    in a category may have an extra need there, in index order, each from its own stream
    (`Phase.FESTIVAL`, the need's sub-key)."""
    ncat = W.next_need.shape[1]
    for i in range(G.n):
        for cat in range(ncat):
            if W.next_need[i, cat] > today:
                load_stream(S, Phase.FESTIVAL, today, i * MAX_CATEGORIES + S[5][cat])
                festival_need(W, B, G, L, book, today, rng, i, cat, multiplier)


@_jit
def calendar_day(G, today):
    """The calendar's row for `today` into `G.festival_today` (sim.calendar.day_row): the
    CPM, demand and interaction multipliers and the festival flag."""
    doy = R.day_of_year(today, G.start_day_of_year)
    for k in range(3):
        G.festival_today[k] = R.festival_multiplier(doy, G.fest_first, G.fest_last, G.fest_mult[k])
    G.festival_today[FESTIVAL] = 1.0 if R.is_festival_day(doy, G.fest_first, G.fest_last) else 0.0


@_jit
def shuffled(rng, n):
    """A random permutation of 0..n−1 (Fisher-Yates) from the run's Generator."""
    order = np.arange(n)
    for j in range(n - 1, 0, -1):
        r = below(rng, j + 1)
        order[j], order[r] = order[r], order[j]
    return order


@_jit
def tally_member(W, G, b, i, today, t):
    """Count member i of brand b into the census tallies t: by channel (t[0..3]), muted
    (t[4]); an unmuted member also as engaged (t[5]) and active (t[6])."""
    c = W.m_channel[b, i]
    t[0] += c == MemberChannel.GUIDE
    t[1] += c == MemberChannel.GROUP
    t[2] += c == MemberChannel.MINI_PROGRAM
    t[3] += c == MemberChannel.OFFICIAL_ACCOUNT
    if W.m_muted[b, i]:
        t[4] += 1
        return
    if W.m_eng[b, i] * G.engagement_pow[today - W.m_upd[b, i]] >= G.engaged_threshold:
        t[5] += 1
    if today - W.last_purchase[b, i] < G.active_window:
        t[6] += 1


@_jit
def census(W, B, G, L, today):
    """MarketModel._census: the day-end stocks of every brand. States are counted as they
    change; inside run_days so are the members by channel, muted, engaged and active
    (`member_count`: the spans that end today are taken off here), else the census looks
    at every consumer (`tally_member`)."""
    nb = W.funnel.shape[0]
    t = np.zeros(7, dtype=np.int64)  # members by channel (4), muted, engaged, active
    scan = np.zeros(7, dtype=np.int64)
    meta = W.cs_meta
    kept = meta[2] != 0
    ended = meta[0]  # the spans ending on days ended..today stop counting
    if kept:
        meta[0] = max(ended, today + 1)
    for b in range(nb):
        if kept:
            for d in range(ended, today + 1):
                k = d - W.nq_meta[0]
                W.cs_n[b, CS_ENGAGED] -= W.cs_stop[0, b, k]
                W.cs_n[b, CS_ACTIVE] -= W.cs_stop[1, b, k]
            copy_into(t, W.cs_n[b])
        if not kept or meta[3]:
            scan[:] = 0
            funnel = W.funnel[b]
            for i in range(G.n):
                if funnel[i] == State.MEMBER:
                    tally_member(W, G, b, i, today, scan)
            if kept:  # checks: the kept counts against the scan
                for c in range(7):
                    if t[c] != scan[c]:
                        meta[4] += 1
                        break
            copy_into(t, scan)
        g0, g1, g2, g3, muted, engaged, active = t[0], t[1], t[2], t[3], t[4], t[5], t[6]
        row = L[today, :, b]
        for s in range(STOCK_STATE.size):
            row[STOCK_STATE[s]] = W.n_state[b, s]
        row[C_EVER] = W.n_ever[b]
        row[C_REPEAT_CUST] = W.n_repeat[b]
        row[C_MUTED] = muted
        row[C_REACHABLE] = W.n_state[b, State.MEMBER] - muted
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


STOCK_STATE = columns("stock_{}", STATE_NAMES)
STOCK_CHANNEL = columns("stock_members_{}", MEMBER_CHANNELS)
C_EVER, C_REPEAT_CUST, C_MUTED, C_REACHABLE, C_ACTIVE, C_ENGAGED = (
    column(c)
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
    column(c)
    for c in (
        "stock_fake_members",
        "stock_koc_reach",
        "stock_koc_nodes",
        "stock_guides",
        "private_ops",
    )
)


@_jit
def load_stream(S, phase, today, sub):
    """Point the day's Generator at the start of daily stream (phase, today, sub): write the
    state `sim.streams.stream_words` gives into its memory (`S[0]`, `S[1]`:
    `sim.streams.state_views`), clearing its buffered 32 bits. `S` is the engine's stream
    table (`FastModel._S`)."""
    words, flags, keys, tmp = S[0], S[1], S[2], S[4]
    stream_words(keys[phase], today, sub, tmp)
    for k in range(4):
        words[k] = tmp[k]
    flags[2] = 0
    flags[3] = 0


@_jit
def save_stream(S, row):
    """Keep where the Generator's current stream stands in row `row` of `S[3]`."""
    saved = S[3]
    for k in range(4):
        saved[row, k] = S[0][k]
    saved[row, 4] = S[1][2]
    saved[row, 5] = S[1][3]


@_jit
def resume_stream(S, row):
    """Continue the stream kept in row `row` of `S[3]` (`save_stream`)."""
    saved = S[3]
    for k in range(4):
        S[0][k] = saved[row, k]
    S[1][2] = np.uint32(saved[row, 4])
    S[1][3] = np.uint32(saved[row, 5])


@_jit
def step(W, B, G, L, book, today, rng, S):
    """One day, in the reference engine's process order (MarketModel.step). Each phase
    draws from its own stream (`sim.streams.Phase`), per brand where the phase is a
    brand's: `rng` is the one Generator, pointed at each stream in turn."""
    nb = W.funnel.shape[0]
    W.phase[0] = PHASE_BRANDS
    calendar_day(G, today)
    for b in range(nb):
        budget_day(W, B, L, today, b)
    # each platform prices its traffic from the ad demand on it (several platforms), dearer
    # on festival days (the calendar)
    cpms = np.empty(G.pl_shoppers.size)
    for k in range(cpms.size):
        demand = 0.0
        for b in range(nb):
            demand += W.ad_spend[b] * B.ad_split[b, k]
        cpm = R.traffic_cpm(
            G.pl_base_cpm[k],
            G.pl_cpm_growth[k],
            today,
            demand,
            G.pl_reference[k],
            G.pl_elasticity[k],
        )
        cpms[k] = R.festival_cpm(cpm, G.festival_today[CPM])
    load_stream(S, Phase.BRAND_ORDER, today, 0)
    brands = shuffled(rng, nb)
    for b in brands:
        A.book_cpm(L[today], b, R.blended_cpm(cpms, B.ad_split[b]))
        pay_fixed_costs(W, B, L, today, b)
        load_stream(S, Phase.ADS, today, b)
        advertise(W, B, G, L, book, today, rng, b, cpms)
        load_stream(S, Phase.WORD_OF_MOUTH, today, b)
        word_of_mouth(W, B, G, L, book, today, rng, b)
        load_stream(S, Phase.STORE_TRAFFIC, today, b)
        store_traffic(W, B, G, L, book, today, rng, b)
    # distributors and guides of all brands are pooled in one random order; each draws
    # from its brand's stream, continued from where the brand's last one left it
    W.phase[0] = PHASE_DISTRIBUTORS
    for b in range(nb):
        load_stream(S, Phase.DISTRIBUTORS, today, b)
        save_stream(S, b)
    load_stream(S, Phase.DISTRIBUTOR_ORDER, today, 0)
    for d in shuffled(rng, W.d_brand.size):
        b = W.d_brand[d]
        resume_stream(S, b)
        distributor_step(W, B, G, L, book, today, rng, d)
        save_stream(S, b)
    W.phase[0] = PHASE_GUIDES
    for b in range(nb):
        if B.touch_targeting[b] == TouchTargeting.LIFECYCLE:  # lifecycle operations
            load_stream(S, Phase.LIFECYCLE, today, b)
            save_stream(S, nb + b)
        load_stream(S, Phase.GUIDES, today, b)
        save_stream(S, b)
    load_stream(S, Phase.GUIDE_ORDER, today, 0)
    for g in shuffled(rng, W.g_brand.size):
        b = W.g_brand[g]
        resume_stream(S, b)
        if B.touch_targeting[b] == TouchTargeting.LIFECYCLE:
            lifecycle_guide_step(W, B, G, L, book, today, rng, S, g)
        else:
            guide_step(W, B, G, L, book, today, rng, g)
        save_stream(S, b)
    for b in brands:
        if B.private_ops[b]:
            load_stream(S, Phase.BROADCAST, today, b)
            broadcast(W, B, G, L, book, today, rng, b)
    if G.festival_today[FESTIVAL] > 0:  # the calendar: festival posts
        for b in brands:
            if B.private_ops[b]:
                load_stream(S, Phase.FESTIVAL, today, FESTIVAL_POST_SUB + b)
                festival_post(W, B, G, L, book, today, rng, b)
    W.phase[0] = PHASE_MEMBERS
    for b in brands:
        if B.private_ops[b]:
            load_stream(S, Phase.MEMBERS_DAY, today, b)
            members_day(W, B, G, L, book, today, rng, b)
    W.phase[0] = PHASE_NEEDS
    needs(W, B, G, L, book, today, rng, S)
    if G.festival_today[DEMAND] > 1.0:
        festival_needs(W, B, G, L, book, today, rng, S, G.festival_today[DEMAND])
    expand_demand(W, B, today, rng, S)
    for b in range(nb):  # private lifts public (7.21): the day's platform reviews
        load_stream(S, Phase.REVIEWS, today, b)
        reviews_day(W, B, G, L, today, rng, b)
    census(W, B, G, L, today)


@_jit
def step_backwards(W, B, G, L, book, today, rng, S):
    """Never run: `step`'s phases in reverse order, each called with the argument types
    `step` gives it (to a helper a brand, guide or distributor index is an int64,
    `_widened`). A second process compiles this on a cold cache, from the day's end, while
    the first compiles `run_days` from its start (`sim.fast.aside`); they meet in the
    middle, and each helper is compiled once (`jit.Claims`)."""
    census(W, B, G, L, today)
    reviews_day(W, B, G, L, today, rng, today)
    expand_demand(W, B, today, rng, S)
    festival_needs(W, B, G, L, book, today, rng, S, G.festival_today[DEMAND])
    needs(W, B, G, L, book, today, rng, S)
    members_day(W, B, G, L, book, today, rng, today)
    festival_post(W, B, G, L, book, today, rng, today)
    broadcast(W, B, G, L, book, today, rng, today)
    guide_step(W, B, G, L, book, today, rng, today)
    lifecycle_guide_step(W, B, G, L, book, today, rng, S, today)
    distributor_step(W, B, G, L, book, today, rng, today)
    store_traffic(W, B, G, L, book, today, rng, today)
    word_of_mouth(W, B, G, L, book, today, rng, today)
    advertise(W, B, G, L, book, today, rng, today, np.empty(G.pl_shoppers.size))
    pay_fixed_costs(W, B, L, today, today)
    budget_day(W, B, L, today, today)


@_entry
def run_days(W, B, G, L, book, first, last, rng, S):
    """Days first..last−1, drawing through `rng` from the streams of table `S`. The needs
    due in them are listed and each brand's members counted first (`plan_days`), so a day
    costs what happens in it; the lists and counts are dropped at the end (the state may
    then be changed from outside the kernels, by events or tests)."""
    plan_days(W, G, first, last)
    for today in range(first, last):
        step(W, B, G, L, book, today, rng, S)
    W.nq_meta[1] = W.nq_meta[0]
    W.cs_meta[2] = 0
    # their memory goes too: at 15M consumers a window's need lists take about 80 MB, which
    # the next window's would otherwise join at the run's peak
    W.nq = np.zeros((0, NQ_CHUNK + 1), dtype=np.int64)
    W.nq_head = np.zeros((0, 2), dtype=np.int64)
    W.cs_stop = np.zeros((2, W.funnel.shape[0], 0), dtype=np.int64)


# ----------------------------------------------------------- days that cost what happens
# A day's needs step and census look only at what concerns them: the needs due that day
# (listed by day when their day is drawn) and each brand's member stocks, kept as they
# change. One pass over the population per call of run_days (at most a review period, 30
# days) lists the needs and counts the members; the order of processing is the contract's
# (needs in index order, `needs`), so the run's bytes are those of a daily scan.
@_jit
def plan_days(W, G, first, last):
    """List the needs due in days first..last−1 by day (`list_need`), count each brand's
    members into its kept stocks (`member_count`) and switch both on. The stocks are kept
    only where engagement can only fade between two writes (`engagement_pow` non-increasing
    and non-negative, a positive `engaged_threshold`: `engaged_quick`'s binary search needs
    it); otherwise the census scans every consumer each day."""
    n, ncat = W.next_need.shape
    due = 0
    for i in range(n):
        for cat in range(ncat):
            d = W.next_need[i, cat]
            due += d >= first and d < last
    W.nq_meta[0], W.nq_meta[1], W.nq_meta[2] = first, last, 0
    W.nq_head = np.zeros((last - first, 2), dtype=np.int64)
    W.nq_head[:, 0] = -1
    chunks = (2 * due) // NQ_CHUNK + 2 * (last - first)  # room for the reschedules, too
    W.nq = np.empty((max(chunks, 64), NQ_CHUNK + 1), dtype=np.int64)
    for i in range(n):
        for cat in range(ncat):
            list_need(W, i, cat)
    nb = W.funnel.shape[0]
    fading = G.engaged_threshold > 0
    pw = G.engagement_pow
    for k in range(pw.size):
        if not pw[k] >= 0 or (k > 0 and not pw[k] <= pw[k - 1]):
            fading = False
    W.cs_n[:] = 0
    W.cs_stop = np.zeros((2, nb, last - first), dtype=np.int64)
    W.cs_meta[0], W.cs_meta[1], W.cs_meta[2] = first, last, fading
    if fading:
        for b in range(nb):
            channel = W.m_channel[b]
            for i in range(n):
                if channel[i] >= 0:
                    member_count(W, G, b, i, 1)


# The census's member stocks (`census`), kept inside run_days: each brand's members by
# channel (cs_n columns 0-3) and muted (CS_MUTED), and its unmuted members engaged and
# active (CS_ENGAGED, CS_ACTIVE). An unmuted member is engaged on day d while
# m_eng·engagement_pow[d − m_upd] ≥ engaged_threshold and active while d − last_purchase <
# active_window: each test holds up to a day, its span's end, and fails from there on, as
# long as the fields stay as they are. A member's span counts from when it is written until
# the census of its end's day takes it off (`cs_stop`, by day of the window); every write of
# those fields, a join, a leave and a mute takes the member's spans off as they stood and
# counts them again as they stand (`member_count`, `engaged_rewritten`, `active_count`).
CS_MUTED, CS_ENGAGED, CS_ACTIVE = 4, 5, 6
NO_SPAN = -(2**62)
"""The end of an engaged span not kept: none (not engaged), or not a kept member."""


@_jit
def engaged_quick(eng, upd, meta, G):
    """The end of the engaged span of an unmuted member of engagement `eng` (its m_eng, a
    float32) last faded on day `upd`: the first day, from max(upd, meta[0] − 1) on, on which
    the census's test eng·engagement_pow[day − upd] ≥ engaged_threshold fails (the same
    float product; `meta` is cs_meta), or the window's end meta[1] if it holds to there;
    NO_SPAN if it fails from the start (a span ending on its first day counts on no day).
    Two tests settle most members; the rest take the search (`engaged_end`). Takes values,
    not the World, as a touch calls it twice."""
    pw, threshold = G.engagement_pow, G.engaged_threshold
    lo = max(upd, meta[0] - 1)
    if not eng * pw[lo - upd] >= threshold:  # most members: not engaged from the start,
        return NO_SPAN  # so on no day the census has still to close
    if eng * pw[meta[1] - 1 - upd] >= threshold:  # or engaged to the window's end
        return meta[1]
    return engaged_end(eng, upd, lo + 1, meta[1] - 1, pw, threshold)


@_jit
def engaged_end(eng, upd, lo, hi, pw, threshold):
    """`engaged_quick`'s search: the first day in lo..hi on which eng·pw[day − upd] ≥
    threshold fails, given it holds on lo − 1 and fails on hi. The product only falls as the
    day grows (`plan_days` checks the table), so the days it holds come first: a binary
    search."""
    while lo < hi:
        mid = (lo + hi) // 2
        if eng * pw[mid - upd] >= threshold:
            lo = mid + 1
        else:
            hi = mid
    return lo


@_jit
def count_span(W, column, b, end, d):
    """Count (d = 1) or take off (d = −1) a span of brand b's stock `column` (CS_ENGAGED or
    CS_ACTIVE) that holds until day `end` (exclusive): only one still counted, i.e. not
    ending before the first day the census has not yet closed (cs_meta[0]); its end is
    booked for that day's census when it lies in the window."""
    meta = W.cs_meta
    if end < meta[0]:
        return
    W.cs_n[b, column] += d
    if end < meta[1]:
        W.cs_stop[column - CS_ENGAGED, b, end - W.nq_meta[0]] += d


@_jit
def engaged_span(W, G, b, i):
    """The end of member i's engaged span as kept in brand b's stocks (`engaged_quick`), or
    NO_SPAN where none is kept: outside run_days, not a member, muted."""
    meta = W.cs_meta
    if meta[2] and W.m_channel[b, i] >= 0 and not W.m_muted[b, i]:
        upd = np.int64(W.m_upd[b, i])
        return engaged_quick(W.m_eng[b, i], upd, meta, G)
    return NO_SPAN


@_jit
def engaged_rewritten(W, G, b, eng0, upd0, eng, upd):
    """Move a kept member's engaged span in brand b's stocks from where its engagement
    `eng0` faded from day `upd0` ended it (`engaged_quick`) to where `eng` from day `upd`
    ends it: after every write of an unmuted member's m_eng or m_upd (a touch, a fade), the
    caller having checked the stocks are kept (cs_meta[2]). Nothing moves when the ends are
    the same. Most members touched are engaged to the window's end before and after: one
    product each settles that (the span's end is the window's end on both sides), so the
    spans are only looked for when the count may move."""
    meta, pw, threshold = W.cs_meta, G.engagement_pow, G.engaged_threshold
    last = meta[1] - 1
    if (eng * pw[last - upd] >= threshold) & (eng0 * pw[last - upd0] >= threshold):
        return
    before = engaged_quick(eng0, upd0, meta, G)
    after = engaged_quick(eng, upd, meta, G)
    if after != before:
        count_span(W, CS_ENGAGED, b, before, -1)
        count_span(W, CS_ENGAGED, b, after, 1)


@_jit
def active_count(W, G, b, i, d):
    """Count (1) or take off (−1) member i's active span (it ends on last_purchase +
    active_window) in brand b's kept stocks: around every write of last_purchase."""
    if W.cs_meta[2] and W.m_channel[b, i] >= 0 and not W.m_muted[b, i]:
        end = np.int64(W.last_purchase[b, i]) + np.int64(G.active_window)
        count_span(W, CS_ACTIVE, b, end, d)


@_jit
def member_count(W, G, b, i, d):
    """Count member i into (d = 1) or out of (−1) brand b's kept stocks, as its fields stand:
    its channel, and muted or its engaged and active spans. Called after a join, before a
    leave and around a mute."""
    if not W.cs_meta[2]:
        return
    c = W.m_channel[b, i]
    if c >= 0 and c < 4:
        W.cs_n[b, c] += d
    if W.m_muted[b, i]:
        W.cs_n[b, CS_MUTED] += d
    else:
        count_span(W, CS_ENGAGED, b, engaged_span(W, G, b, i), d)
        active_count(W, G, b, i, d)


@_inline
def list_need(W, i, cat):
    """Add need (i, cat) to the list of its day when that day lies in the planned window
    (`plan_days`); called wherever a need's day is written. An earlier entry of the same
    need stays listed under its old day and is skipped there (`needs` checks the day).
    The window's test is inlined into the callers (most needs drawn at an adoption lie
    beyond it); the listing is `listed_need`."""
    d = np.int64(W.next_need[i, cat])
    if d >= W.nq_meta[0] and d < W.nq_meta[1]:
        listed_need(W, i, cat, d)


NQ_CHUNK = 31
"""Keys per chunk of a day's need list: a chunk and its link fill one 256-byte row of `W.nq`,
four cache lines in a row, so a day's walk (`needs_listed`) meets a miss per chunk rather
than one per need."""


@_jit
def listed_need(W, i, cat, d):
    """`list_need`'s listing of need (i, cat) under day d, in the window: its key in the
    slot after the day's last one, in the day's newest chunk, or in a fresh chunk linked
    to it when that one is full (or the day has none yet); the day's count kept, so that
    it walks once (`needs_listed`)."""
    row = d - W.nq_meta[0]
    c = W.nq_head[row, 1]
    slot = c % NQ_CHUNK
    if slot == 0:
        e = W.nq_meta[2]
        if e == W.nq.shape[0]:
            grown = np.empty((2 * e, NQ_CHUNK + 1), dtype=np.int64)
            for r in range(e):
                copy_into(grown[r], W.nq[r])
            W.nq = grown
        W.nq[e, NQ_CHUNK] = W.nq_head[row, 0]
        W.nq_head[row, 0] = e
        W.nq_meta[2] = e + 1
    W.nq[W.nq_head[row, 0], slot] = i * W.next_need.shape[1] + cat
    W.nq_head[row, 1] = c + 1


@_jit
def needs_listed(W, today):
    """The keys (i·ncat + cat) listed under `today`, sorted: index order, duplicates
    adjacent. The day's chunks are walked newest first: the newest holds the count's
    remainder (1..NQ_CHUNK keys), every older one NQ_CHUNK; each next chunk's lines are
    requested before this one's keys are copied."""
    row = today - W.nq_meta[0]
    m = W.nq_head[row, 1]
    keys = np.empty(m, dtype=np.int64)
    e = W.nq_head[row, 0]
    k = m
    filled = (m - 1) % NQ_CHUNK + 1  # the newest chunk's keys (no walk when m is 0)
    while k > 0:
        chunk = W.nq[e]
        after = chunk[NQ_CHUNK]
        if after >= 0:
            for q in range(0, NQ_CHUNK + 1, 8):  # its four lines
                prefetch(W.nq[after], q)
        k -= filled
        copy_into(keys[k : k + filled], chunk[:filled])
        e = after
        filled = NQ_CHUNK
    sort_keys(keys)
    return keys


# --------------------------------------------------------------------------- set-up
FUNNEL_AHEAD = 48
"""Ranks of the initial funnel's random order whose consumers' lines are requested ahead of
the one being placed (`prefetch_funnel_entry`; a customer's ties half as far ahead, when its
row pointer has come in). At 15,000,000 consumers (national_guides, half of them aware) the
funnel took 2.05 s 16 ranks ahead without the ties, 1.55-1.89 s so
(`benchmarks/bench_build.py --sizes 15000000 --workloads national`)."""


@_jit
def prefetch_funnel_entry(W, b, i, customer):
    """Request the cache lines the initial funnel reads and writes for consumer i of brand b
    (funnel state and source; a customer's purchases, acquisition, last purchase, ties and
    advocate counts, which its friends' nearby), a few ranks before it is placed: the order
    is random, so each is a miss, and requested ahead they overlap (a hint: no value
    changes)."""
    prefetch(W.funnel[b], i)
    prefetch(W.source[b], i)
    if customer:
        prefetch(W.purchases[b], i)
        prefetch(W.acquired[b], i)
        prefetch(W.last_purchase[b], i)
        prefetch(W.indptr, i)
        prefetch(W.advocates[b], i)


@_entry
def initial_funnel(W, B, G, L, b, order, n_aware, n_cust, n_mem, within, preferred, rng):
    """MarketModel._initial_funnel for brand b: nested random sets aware ⊇ customers ⊇
    members (members placed like invitees; day-0 members are not booked as joins)."""
    for rank in range(n_aware):
        ahead = rank + FUNNEL_AHEAD  # its lines on the way while these ranks are placed
        if ahead < n_aware:
            prefetch_funnel_entry(W, b, order[ahead], ahead < n_cust)
        near = rank + FUNNEL_AHEAD // 2  # a customer's ties, once its row pointer is in
        if near < n_cust and not G.mixing:
            prefetch(W.indices, W.indptr[order[near]])
        i = order[rank]
        set_state(W, G, b, i, np.int64(State.AWARE))
        W.source[b, i] = np.int64(Source.ORGANIC)
        if rank < n_cust:
            set_state(W, G, b, i, np.int64(State.CUSTOMER))
            W.purchases[b, i] = 1
            W.n_ever[b] += 1
            W.acquired[b, i] = -(10**6)
            W.last_purchase[b, i] = -(1 + below(rng, within))  # rng.integers(1, within + 1)
        if rank < n_mem and B.private_ops[b]:
            channel, g = place_member(W, b, preferred, rng)
            admit(
                W, G, b, i, channel, g, G.join_engagement, np.int64(0), np.int64(0), np.bool_(False)
            )
            if W.m_life.shape[1] > 0:  # lifecycle operations (UNUSED_WHEN_OFF)
                W.m_life[b, i] = WELCOMED_BEFORE_RUN


@_entry
def start_all_needs(W, B, today, rng):
    for i in range(W.next_need.shape[0]):
        for cat in range(W.next_need.shape[1]):
            start_needs(W, B, i, cat, today, rng)
