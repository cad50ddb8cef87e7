"""Behavioural rules: every formula of the model, once, as a pure function.

Each function takes scalars or NumPy arrays alike and returns the same shape, and is
written in the subset of Python that Numba compiles (no `isinstance`, no `np.asarray` of a
scalar), so the reference engine calls it as plain Python and the fast engine calls the
very same function compiled (`sim.fast.jit`). Engines never re-derive a formula. The
docstring of each rule states the formula and its source. Parameters come from
`sim.params` (the scenario).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from sim.vocab import Channel, DistributorKind, MemberChannel, Segment, Source, Touch


def _at_most_one(p):
    """Cap a probability at 1 (scalar or array)."""
    return np.minimum(p, 1.0)


# --------------------------------------------------------------------------- bounded numerics

NEVER_DAY = 2**31 - 1
"""The day of an event that will not happen: beyond any horizon a run can have, and small
enough that a day plus a skip never leaves int64."""

HILL_POWER_MAX = 1e300
"""Cap on the powers x^s and K^s in `hill`: their sum stays finite."""

GAMMA_SHAPE_MAX = 1e300
"""Largest Gamma shape drawn: a spread (cv) below 1e-150 would need a larger one (1/cv²
overflows to inf and, below ~1e-162, cv² underflows to 0 and 1/cv² divides by zero). At this
shape a draw equals its mean to within ~1e-150 of it: the degenerate distribution at the mean,
which is the limit of a vanishing spread."""

GAMMA_SHAPE_MIN = 1e-300
"""Smallest Gamma shape drawn: a spread above 1e150 (cv² overflows) or a shape parameter
below this one is drawn at this shape, whose draws are 0 but for a vanishing share, so the
scale mean/shape stays finite (the limit of an ever wider spread around the same mean)."""


BETA_PARAM_MIN = 1e-300
"""Smallest Beta parameter drawn (`beta_ab`)."""


POISSON_MEAN_MAX = 1e9
"""Largest Poisson mean drawn (`bounded_poisson_mean`)."""


def bounded_poisson_mean(lam: float) -> float:
    """A Poisson mean (messages, visits or circle members per draw) capped at
    POISSON_MEAN_MAX: Generator.poisson refuses means above ~9.2e18 and the compiled draw
    overflows into negative counts. Every count drawn from such a mean is at most a
    population or a member list, far below the cap, except store visits, which the scenario
    schema must bound. Means within the cap are returned unchanged."""
    if lam > POISSON_MEAN_MAX:
        return POISSON_MEAN_MAX
    return lam


def bounded_gamma_shape(shape: float) -> float:
    """A Gamma shape clamped to [GAMMA_SHAPE_MIN, GAMMA_SHAPE_MAX]; see those limits. Shapes
    within them (every shape a scenario means literally) are returned unchanged."""
    if shape < GAMMA_SHAPE_MIN:
        return GAMMA_SHAPE_MIN
    if shape > GAMMA_SHAPE_MAX:
        return GAMMA_SHAPE_MAX
    return shape


def skip_scale(h: float) -> float:
    """The constant 1 / log(1 − h) of `geometric_skip` for a daily hazard h.

    h ≥ 1 gives 0 (every trial succeeds: skips of 1); h ≤ 0 (or NaN) gives −inf, so that
    every skip is beyond its horizon ("never"), and a hazard so small that 1 / log(1 − h)
    overflows (h below ~1e-308) gives −inf too, with the same meaning.
    """
    if h >= 1.0:
        return 0.0
    if h > 0.0:
        return 1.0 / np.log1p(-h)
    return -np.inf


def geometric_skip(u: float, scale: float, horizon: int) -> int:
    """Trials up to the first success of Bernoulli(h) trials (a geometric(h) draw), by
    inversion: 1 + ⌊log(1 − u) · scale⌋ with u uniform on [0, 1) and scale = skip_scale(h)
    (Devroye 1986, §X.2); or horizon + 1 when the first success lies beyond `horizon` trials.

    A skip beyond the horizon means "never within it". The comparison is made on the float
    before any conversion to an integer: for h below ~1e-16 the float exceeds 2⁶³, and
    converting it first would wrap to a negative integer (an index outside the arrays, a
    need scheduled in the past). NaN (h = 0 with u = 0) counts as beyond. Below the horizon
    the result is exactly the unbounded draw, so bounding changes no run's draws.
    """
    x = np.log(1.0 - u) * scale
    if x < horizon:
        return 1 + np.int64(x)
    return horizon + 1


def need_day(today: int, wait: int) -> int:
    """The day of the next need, `wait` days (≥ 1) from today, or NEVER_DAY when that lies at
    or beyond it: a geometric wait of a tiny need rate can reach 2⁶³ (the reference engine's
    Generator.geometric returns up to 2⁶³ − 1), and today + wait must not leave int64."""
    if wait < NEVER_DAY - today:
        return today + wait
    return NEVER_DAY


# --------------------------------------------------------------------------- public domain


def traffic_cpm(
    base_cpm: float,
    growth_per_year: float,
    day: int,
    ad_demand: ArrayLike,
    reference_demand: float,
    elasticity: float,
) -> np.ndarray | float:
    """Cost per 1000 impressions: base · (1+g)^(day/365) · (demand/reference)^elasticity.

    The time drift is the fading traffic dividend (domain brief, mechanism 1); the demand
    term is the auction's response to total ad spend (price rises with competition). The
    demand ratio is floored at 1 so a quiet market does not make traffic cheaper than base.
    """
    ratio = np.maximum(ad_demand / reference_demand, 1.0)
    return base_cpm * (1.0 + growth_per_year) ** (day / 365.0) * ratio**elasticity


def adstock(previous: ArrayLike, spend: ArrayLike, theta: float) -> np.ndarray | float:
    """Geometric adstock A_t = x_t + θ·A_{t−1} (Broadbent; PyMC-Marketing `geometric_adstock`)."""
    return spend + theta * previous


def impressions_bought(spend: float, cpm: float) -> float:
    """Ad impressions a day's budget buys at the day's price: 1000 · spend / CPM (CPM is the
    price of 1000 impressions); none without spend."""
    if spend > 0:
        return spend / cpm * 1000.0
    return 0.0


def hill(x: ArrayLike, k: float, s: float) -> np.ndarray | float:
    """Hill saturation x^s / (x^s + K^s) (Meridian, Robyn, PyMC-Marketing `hill_function`).

    Limits: x^s and K^s are capped at HILL_POWER_MAX, so a power that overflows gives a
    saturation in [0, 1] instead of inf/inf; where both underflow to 0 the saturation is 0
    (no response below the float range) instead of 0/0.
    """
    xs = np.minimum(np.maximum(x, 0.0) ** s, HILL_POWER_MAX)
    ks = np.minimum(np.power(k, s), HILL_POWER_MAX)
    return xs / np.maximum(xs + ks, 5e-324)


def ad_awareness_hazard(
    adstocked_impressions: ArrayLike,
    consumers: int,
    precision: float,
    max_hazard: float,
    k: float,
    s: float,
) -> np.ndarray | float:
    """Daily probability an unaware target consumer becomes aware from ads.

    h = h_max · Hill(A · precision / N; K, s): adstocked impressions, thinned by targeting
    precision ("of 10 circles only 1 is a target customer"), per consumer, saturated.
    """
    per_consumer = adstocked_impressions * precision / max(consumers, 1)
    return max_hazard * hill(per_consumer, k, s)


def combine_hazards(p: ArrayLike, q: ArrayLike) -> np.ndarray | float:
    """Two independent competing exposures: 1 − (1 − p)(1 − q)."""
    return 1.0 - (1.0 - p) * (1.0 - q)


def word_of_mouth_hazard(rate: float, customer_share_of_friends: ArrayLike) -> np.ndarray | float:
    """Bass imitation hazard q·F, with F the share of one's friends (or of everyone, under
    random mixing) who are customers (Bass 1969; agent form: Rand & Rust 2011)."""
    return rate * customer_share_of_friends


def posting_probability(posts_per_week: float) -> float:
    """P(a KOC, distributor or brand broadcast posts today) = posts per week / 7: posting
    days spread evenly over the week."""
    return posts_per_week / 7.0


def conversion_probability(rate: float, latent_need: float) -> float:
    """P(an encounter — a store visit, a KOC or distributor post — turns into an order now)
    = conversion rate × P(latent need) (`latent_need_probability`): like a pushed offer,
    an encounter sells only to someone who would have needed the product soon."""
    return rate * latent_need


def distributor_source(kind: int) -> int:
    """The customer source credited to a distributor's post: 'distributor' for small-B
    nodes and employee distributors, 'koc' for KOCs (Luckin's and Dmall's distributor
    programmes against key opinion consumers)."""
    if kind == DistributorKind.EMPLOYEE or kind == DistributorKind.SMALL_B:
        return np.int64(Source.DISTRIBUTOR)
    return np.int64(Source.KOC)


def distributor_commission_rate(
    kind: int, koc_commission: float, employee_commission: float
) -> float:
    """Commission on an order through a distributor's link: the employee rate for employee
    distributors, the KOC rate for KOCs and small-B nodes."""
    if kind == DistributorKind.EMPLOYEE:
        return employee_commission
    return koc_commission


def bass_cdf(t: ArrayLike, p: float, q: float) -> np.ndarray | float:
    """Bass closed form F(t) = (1 − e^{−(p+q)t}) / (1 + (q/p)·e^{−(p+q)t})."""
    e = np.exp(-(p + q) * np.asarray(t, dtype=float))  # closed form: Python only
    return (1.0 - e) / (1.0 + (q / p) * e)


# --------------------------------------------------------------------------- needs and choice


def daily_need_probability(rate_per_day: ArrayLike) -> np.ndarray | float:
    """Poisson need arrivals: P(at least one need today) = 1 − e^{−λ}."""
    return -np.expm1(-rate_per_day)


def latent_need_probability(rate_per_day: ArrayLike, window_days: float) -> np.ndarray | float:
    """Probability a need would arise within the window: 1 − e^{−λ·w}.

    A pushed offer ("goods find people") converts only a consumer with a latent need, so
    frequent buyers convert more often than rare ones; the order restarts the consumer's
    need clock (arrivals are memoryless, so pushes do add demand: the 'goods find people'
    uplift).
    """
    return -np.expm1(-rate_per_day * window_days)


def channel_utility(
    price_share: ArrayLike,
    price_sensitivity: ArrayLike,
    convenience: ArrayLike,
    protection: ArrayLike = 0.0,
    relationship: ArrayLike = 0.0,
    loyalty: ArrayLike = 0.0,
    appeal: ArrayLike = 0.0,
    service: ArrayLike = 0.0,
) -> np.ndarray | float:
    """Deterministic utility of buying brand b through channel c (random-utility model):

    V = −α_i·(p_bc / p_list) + convenience_c + trust_i·protection_c + w_rel·engagement_ib
        + loyalty_ib + appeal_b + service_bc

    For the private shop, convenience_c includes the consumer's ordering habit for the
    brand's shop (`private_convenience`).

    Each term is already weighted by its scenario coefficient by the caller. Choice among
    options then follows the multinomial logit (McFadden 1974), see `logit_probabilities`.
    """
    return (
        -price_sensitivity * price_share
        + convenience
        + protection
        + relationship
        + loyalty
        + appeal
        + service
    )


def logit_shares(utilities, outside: float, out) -> None:
    """Multinomial logit shares e^{V_j} / (e^{V_0} + Σ_k e^{V_k}) of a handful of options,
    written into `out` (length len(utilities) + 1; the last entry is the outside option:
    buy an unmodelled brand, or wait). Pass outside = -inf for no outside option.
    A loop over plain floats: fast in Python for a few options, and compiled by Numba."""
    top = outside
    for u in utilities:
        top = max(top, u)
    total = 0.0
    for k in range(len(utilities)):
        out[k] = math.exp(utilities[k] - top)
        total += out[k]
    out[len(utilities)] = math.exp(outside - top)
    total += out[len(utilities)]
    for k in range(len(utilities) + 1):
        out[k] = out[k] / total


def logit_probabilities(utilities, outside: float | None = None):
    """Multinomial logit shares of a few options (McFadden 1974), see `logit_shares`.

    With `outside` given, the result has one more entry at the end: the outside option. A
    list gives a list; a 1-D array gives an array.
    """
    values = [float(u) for u in utilities]
    out = [0.0] * (len(values) + 1)
    logit_shares(values, -math.inf if outside is None else outside, out)
    out = out if outside is not None else out[:-1]
    return np.asarray(out) if isinstance(utilities, np.ndarray) else out


def draw_index(probabilities, u: float) -> int:
    """Inverse-CDF draw: the first index whose cumulative probability exceeds u ∈ [0, 1).
    With u uniform this samples an index with the given probabilities."""
    total = 0.0
    for k in range(len(probabilities)):
        total += probabilities[k]
        if u < total:
            return k
    return len(probabilities) - 1


def effective_price_share(
    channel_discount: ArrayLike, coupon: ArrayLike = 0.0, tier: ArrayLike = 0.0
) -> np.ndarray | float:
    """Price paid as a share of list price: (1 − channel discount)·(1 − coupon)·(1 − tier)."""
    return (1.0 - channel_discount) * (1.0 - coupon) * (1.0 - tier)


def habit_now(habit: float, half_life: float, days: float) -> float:
    """A consumer's habit of ordering in a brand's own shop, faded to today: h · 2^(−d/H),
    d days after it was last updated, H the half-life in days. Fading in calendar time is
    what lets purchase frequency decide (domain brief, mechanism 3): a weekly buyer orders
    again before the habit fades, a once-a-year buyer has lost it by the next order.
    Computed lazily from the day of the last update: no daily loop, no draw."""
    return habit * 0.5 ** (days / half_life)


def habit_after_private_order(habit: float, gain: float) -> float:
    """The habit after an order in the brand's own shop: exponential smoothing toward 1,
    h + g·(1 − h), the brand-loyalty update of Guadagni & Little (1983) applied to the
    channel: each order in the mini-program keeps its 'slot in the phone' warmer."""
    return habit + gain * (1.0 - habit)


def private_convenience(
    convenience_private: float, private_fit: float, habit_weight: float, habit: float
) -> float:
    """The private shop's convenience term in `channel_utility`: the population's
    convenience of a mini-program shop, the category's `private_fit`, and the consumer's
    ordering habit for this brand's shop, habit_weight · h (h faded to today by
    `habit_now`)."""
    return convenience_private + private_fit + habit_weight * habit


def member_coupon_share(member: bool, assist: bool, member_coupon: float) -> float:
    """The coupon off a platform order that a member's price carries (ODD 7.6): the
    `member_coupon` for members of a brand whose channel policy is 'assist' (its private
    domain sends members to the platform with a coupon, Kiehl's model), else 0."""
    return member_coupon if member and assist else 0.0


def private_shop_offered(member: bool, separate: bool) -> bool:
    """Whether the brand's own shop is among a consumer's options (ODD 7.6): only for its
    members, and only under the 'separate' channel policy (Bosideng's mini-program store)."""
    return member and separate


def member_service_value(member: bool, member_service: float, service_need: float) -> float:
    """The service a member values in the private shop and in stores (ODD 7.6): the brand's
    `member_service` times the category's service need; 0 for non-members."""
    return member_service * service_need if member else 0.0


def store_service_value(
    store_service: float, service_need: float, member_service_value: float
) -> float:
    """The service a store visit is worth (ODD 7.6): `store_service_value` times the
    category's service need, plus a member's own service value."""
    return store_service * service_need + member_service_value


def platform_protection_value(trust_weight: float, trust: float, protection: float) -> float:
    """What the platform's buyer protection is worth to a consumer (ODD 7.6): its
    `trust_weight` times the consumer's platform trust times `buyer_protection`."""
    return trust_weight * trust * protection


def trial_probability(trial_on_awareness: float, from_ads: bool, ad_trial_boost: float) -> float:
    """Probability of buying at once on hearing of a brand (ODD 7.4): the category's
    `trial_on_awareness`, raised by the platform's ad trial boost as an independent second
    chance, 1 − (1 − τ)(1 − boost), when the consumer heard of it through an ad."""
    if from_ads:
        return combine_hazards(trial_on_awareness, ad_trial_boost)
    return trial_on_awareness


def present_value(amount: float, discount_factor: float, age_days: int) -> float:
    """An amount `age_days` after acquisition, discounted to the acquisition day with the
    per-day factor δ (ODD 7.15): amount · δ^age."""
    return amount * discount_factor**age_days


def tier_discount(spend: float, thresholds, discounts) -> float:
    """Membership tier discount: the discount of the highest tier whose spend threshold the
    member's cumulative spend has reached (0 below the first tier; thresholds increase)."""
    out = 0.0
    for k in range(len(thresholds)):
        if spend >= thresholds[k]:
            out = discounts[k]
    return out


# --------------------------------------------------------------------------- private domain


def member_coupon_applies(
    member: bool, private_ops: bool, channel: int, assist: bool, member_coupon: float
) -> bool:
    """Whether an order is paid with a member coupon pushed from the private domain: a
    member of a brand running private operations, ordering on the platform, where the
    brand's channel policy is 'assist' (the private domain sends members to the platform
    with a coupon instead of running its own shop) and the coupon is worth something."""
    return member and private_ops and channel == Channel.PLATFORM and assist and member_coupon > 0


def guide_commission_due(guided: bool, channel: int) -> bool:
    """Whether an order earns a guide's commission: the buyer is a member served by a guide
    (`guided`) and orders in the private shop or a store, the channels a guide sells through
    (Bosideng's and Kiehl's guides are paid on their members' store and mini-program sales)."""
    return guided and (channel == Channel.PRIVATE or channel == Channel.STORE)


def invitation_after_purchase(channel: int, member: bool, private_ops: bool) -> int:
    """Which invitation into the private domain an order by a non-member of a brand running
    private operations triggers: a package card in a platform parcel (`Source.PACKAGE_CARD`,
    taken up at the strategy's package-card rate), a guide's or the counter's invitation
    after a store purchase (`Source.STORE`), none (−1) otherwise."""
    if member or not private_ops:
        return np.int64(-1)
    if channel == Channel.PLATFORM:
        return np.int64(Source.PACKAGE_CARD)
    if channel == Channel.STORE:
        return np.int64(Source.STORE)
    return np.int64(-1)


def guide_invite_probability(rate: float, quota: bool, quota_multiplier: float) -> float:
    """P(a guide asks a store visitor or buyer to add them on WeCom): the invite rate, times
    the quota multiplier under quota KPIs (Bosideng's 'adding for the sake of adding'),
    capped at 1."""
    return min(rate * (quota_multiplier if quota else 1.0), 1.0)


# ------------------------------------------- organisation and channel conflict (brand A)


def public_team_diversion(separate_kpi: bool, separate_shop: bool, cooperation: float) -> float:
    """Share of the planned diversion (package cards in platform parcels) the public
    (platform-store) team carries out: `cooperation` when private-shop sales are credited
    to a separate private sales KPI and the brand runs its own shop (every buyer it diverts
    takes later orders off its own numbers), else 1 (shared credit, or the assist policy,
    under which private sales land on the platform and count for it). Source: brand A's
    article (domain brief, mechanism 8): a separate private sales KPI and a public team
    unwilling to divert traffic; shared credit and assist are its remedies."""
    if separate_kpi and separate_shop:
        return cooperation
    return 1.0


def package_card_probability(
    rate: float, separate_kpi: bool, separate_shop: bool, cooperation: float
) -> float:
    """P(a platform parcel of a non-member carries a package card): the strategy's
    `package_card_rate` times the public team's diversion (`public_team_diversion`);
    exactly the rate under shared credit."""
    return rate * public_team_diversion(separate_kpi, separate_shop, cooperation)


def withheld_by_owner(u: ArrayLike, franchise_share: float, handover: float):
    """Whether a consumer's store relationship is owned by a franchisee (or distributor)
    that keeps it from the brand's private domain, from one uniform u per consumer drawn at
    set-up: u < f·(1 − h), f = `franchise_share`, h = `franchise_handover`. A franchised
    customer is one with u < f, handed over unless u < f·(1 − h): one draw keeps the sets
    nested, so raising the handover or the direct share frees the same customers first
    (common random numbers). Source: Bosideng's 3,600 stores, half direct (mechanism 4);
    brand A's distributors unwilling to hand over their customers (mechanism 8)."""
    return u < franchise_share * (1.0 - handover)


def store_invite_rate(rate: float, withheld: bool) -> float:
    """P(a store invitation, by a guide or the counter's QR code) for one consumer: the
    brand's rate, or 0 for a customer its franchisee keeps (`withheld_by_owner`)."""
    return 0.0 if withheld else rate


def private_guarantee_value(trust_weight: float, trust: float, guarantee: float) -> float:
    """What the private shop's buyer guarantee (Youzan's 担保, escrow until the buyer
    confirms) is worth to a consumer in `channel_utility`: valued as the platform's buyer
    protection is (`platform_protection_value`), trust_weight · trust_i · `private_guarantee`,
    so the consumers who prefer the platform for its protection are the ones it wins back.
    Source: the private-shop guarantee answering buyer protection (domain brief, mechanisms
    8 and 9)."""
    return platform_protection_value(trust_weight, trust, guarantee)


def join_discount(separate: bool, private_discount: float, member_coupon: float) -> float:
    """The price advantage an invitee weighs when deciding to join (share of list price):
    the private shop's discount when the channel policy is 'separate' (members buy in the
    brand's own shop), the member coupon for the platform otherwise ('assist')."""
    if separate:
        return private_discount
    return member_coupon


def hunter_join_probability(welcome_gift: float, referral_tiers: int) -> float:
    """A coupon hunter joins whenever joining pays — a welcome gift, or referral rewards to
    farm with fake accounts — and never otherwise (domain brief, mechanism 5): 1 or 0."""
    if welcome_gift > 0 or referral_tiers > 0:
        return 1.0
    return 0.0


def joiner_engagement(join_engagement: float, reluctant: bool, reluctant_factor: float) -> float:
    """A new member's engagement: the population's join engagement, times the reluctant
    factor for someone a quota guide pushed in against their own choice."""
    return join_engagement * (reluctant_factor if reluctant else 1.0)


def fatigue_tolerance(tolerance: float, reluctant: bool, reluctant_factor: float) -> float:
    """The fatigue a member bears before muting: its own tolerance, times the strategy's
    reluctant factor for a member pushed in by a quota guide (they tire sooner)."""
    return tolerance * (reluctant_factor if reluctant else 1.0)


def touch_fatigue(kind: int, effect: float, fatigue_by_kind) -> float:
    """Fatigue one touch adds: its effect (1 for a guide's 1:1 message, the channel's
    broadcast effect otherwise) × the fatigue of its kind (`fatigue_by_kind`, in `Touch`
    order): every message costs attention, selling most (domain brief, mechanism 7)."""
    return effect * fatigue_by_kind[kind]


def touch_engagement_gain(
    kind: int,
    effect: float,
    skill: float,
    engagement_content: float,
    engagement_service: float,
    service_need: float,
) -> float:
    """Share of the way to full engagement one touch moves a member
    (`engagement_after_touch`): content g_c · effect · skill; service
    g_s · service need · effect · skill (service matters as much as the category needs it);
    selling 0 (it sells, it does not bond). The relationship value of content and service
    is the case of Kiehl's and brand A (domain brief, mechanisms 3 and 7)."""
    if kind == Touch.CONTENT:
        return engagement_content * effect * skill
    if kind == Touch.SERVICE:
        return engagement_service * service_need * effect * skill
    return 0.0


def mutes(fatigue: float, tolerance: float) -> bool:
    """A member mutes the brand once its fatigue exceeds its tolerance (`fatigue_tolerance`)."""
    return fatigue > tolerance


def feels_harvested(harvest: float, threshold: float) -> bool:
    """A member leaves and shuns the brand once its harvest feeling (`harvest_feeling`)
    exceeds the threshold: 'harvested like leeks' (domain brief, mechanism 7)."""
    return harvest > threshold


def broadcast_touch_effect(channel: int, group_effect: float, broadcast_effect: float) -> float:
    """Effect of a brand broadcast on a member, by the member's channel (`MemberChannel`):
    the group's effect in a group chat, the broadcast effect in the mini-program and the
    official account (guide members get 1:1 messages, not broadcasts)."""
    if channel == MemberChannel.GROUP:
        return group_effect
    return broadcast_effect


def logistic(x: ArrayLike) -> np.ndarray | float:
    """The logistic function 1 / (1 + e^{−x})."""
    return 1.0 / (1.0 + np.exp(-x))


def join_probability(
    gift_share: ArrayLike,
    discount_share: ArrayLike,
    service_need: ArrayLike,
    one_to_one: ArrayLike,
    value_weight: float,
    service_weight: float,
    hassle: float,
) -> np.ndarray | float:
    """P(accept an invitation to the private domain) = logistic(value − hassle).

    value = w_v·(gift + private discount, as shares of price) + w_s·service_need·[1:1 guide].
    Joining costs attention (a slot, checked by the caller) and hassle; people join
    only if the membership is worth it (domain brief, mechanism 7: attention is scarce).
    """
    value = (
        value_weight * (gift_share + discount_share) + service_weight * service_need * one_to_one
    )
    return logistic(value - hassle)


def pressured_join_probability(p_join: ArrayLike, pressure: float) -> np.ndarray | float:
    """Under quota KPIs a reluctant invitee joins anyway with probability `pressure`:
    P = p + (1 − p)·pressure (Bosideng's 'adding for the sake of adding')."""
    return p_join + (1.0 - p_join) * pressure


def engagement_after_touch(engagement: ArrayLike, gain: ArrayLike) -> np.ndarray | float:
    """Engagement moves a share `gain` of the way to 1: e + g·(1 − e)."""
    return engagement + gain * (1.0 - engagement)


def decay(value: ArrayLike, rate: float, days: ArrayLike = 1) -> np.ndarray | float:
    """Exponential fading: v·(1 − rate)^days (fatigue and engagement between touches)."""
    return value * (1.0 - rate) ** days


def harvest_feeling(previous: ArrayLike, selling: ArrayLike, span: float) -> np.ndarray | float:
    """EWMA of the selling share of touches, h ← h + (s − h)/span: feeling 'harvested like
    leeks' when hard selling dominates (domain brief, mechanism 7)."""
    return previous + (selling - previous) / max(span, 1.0)


def selling_conversion(
    base: float,
    engagement: ArrayLike,
    latent_need: ArrayLike,
    sku_breadth: float,
    effect: ArrayLike = 1.0,
    skill: ArrayLike = 1.0,
) -> np.ndarray | float:
    """P(a selling touch leads to an order) = base · e · P(latent need) · SKU · effect · skill,
    capped at 1. SKU breadth gives a push more to recommend (domain brief, mechanism 3)."""
    return _at_most_one(base * engagement * latent_need * sku_breadth * effect * skill)


def dropout_probability(
    base: ArrayLike, engagement: ArrayLike, retention_effect: float
) -> np.ndarray | float:
    """BG/NBD dropout after a purchase, p_i ~ Beta(a, b) (Fader, Hardie & Lee 2005), cut for
    engaged members: p_i · (1 − retention_effect · engagement)."""
    return base * (1.0 - retention_effect * engagement)


def referral_probability(
    base: float, engagement: ArrayLike, next_reward_share: ArrayLike, sensitivity: float
) -> np.ndarray | float:
    """Daily probability an engaged member refers a friend:
    r · e · (1 + s·reward/price). Rewards raise the rate linearly (Kiehl's tiers)."""
    return _at_most_one(base * engagement * (1.0 + sensitivity * next_reward_share))


def hunter_fake_probability(rate: float, next_reward_share: ArrayLike) -> np.ndarray | float:
    """Daily probability a coupon hunter registers a fake referral: rate · reward/price, ≤ 1.
    Hunters respond to the reward itself, not to the brand (domain brief, mechanism 5)."""
    return _at_most_one(rate * next_reward_share)


def next_referral_reward(count: int, needed, rewards) -> float:
    """The reward of the next tier a member can reach, given its successful referrals so far
    (tiers as referral counts `needed`, increasing, with their `rewards`); 0 when all tiers
    are reached."""
    for k in range(len(needed)):
        if count < needed[k]:
            return rewards[k]
    return 0.0


def reward_due(count_after: int, needed, rewards) -> float:
    """Reward paid when a member's successful referrals reach exactly a tier's count."""
    total = 0.0
    for k in range(len(needed)):
        if needed[k] == count_after:
            total += rewards[k]
    return total


# --------------------------------------------------------------------------- firms and value


# --------------------------------------------------------------------------- private lifts public
# Reviews for points, the platform rating they build, and points as a currency (ODD 7.21;
# domain brief mechanism 9, the "private serves public" case: the private domain is where
# members are rewarded for reviews and earn points, and the platform sells more for it).

REVIEW_REWARDED, REVIEW_OTHER = 0, 1
"""The two kinds of a platform order's review chance (`review_kind`): by a member the
brand rewards with points, by anyone else."""


def review_kind(channel: int, member: bool, private_ops: bool, review_points: float) -> int:
    """Which review chance a platform order carries (ODD 7.21): `REVIEW_REWARDED` if the
    buyer is a member of a brand running private operations that rewards reviews with points
    (`review_points` > 0), `REVIEW_OTHER` for any other platform order, −1 for an order in
    another channel (reviews are posted on the platform, of a platform order)."""
    if channel != Channel.PLATFORM:
        return np.int64(-1)
    if member and private_ops and review_points > 0:
        return np.int64(REVIEW_REWARDED)
    return np.int64(REVIEW_OTHER)


def review_probability(
    base_rate: float, rewarded: bool, sensitivity: float, reward: float, list_price: float
) -> float:
    """Probability that a platform buyer posts a review of its order (ODD 7.21): the
    unrewarded rate r₀ (`review_rate`); for a member rewarded with points worth R yuan on an
    order of list price P, 1 − (1 − r₀)·e^(−s·R/P), s = `review_reward_sensitivity`: the
    reward is a second, saturating reason to review (as `referral_probability`'s reward
    term, bounded by 1). Source: "private serves public" (domain brief, mechanism 9):
    members rewarded with points for reviews."""
    if not rewarded:
        return base_rate
    return 1.0 - (1.0 - base_rate) * math.exp(-sensitivity * reward / list_price)


def review_stock_after(stock: float, reviews: float, decay: float) -> float:
    """The brand's platform review stock at the end of a day: Q ← Q·(1 − δ) + r, the day's
    reviews r added to the faded stock (δ = `review_decay`; a geometric carry-over like the
    adstock of 7.2: platforms show recent reviews first, old ones count less)."""
    return stock * (1.0 - decay) + reviews


def platform_rating_value(
    weight: float, stock: float, consumers: int, half_saturation: float
) -> float:
    """The utility the brand's platform rating adds to its platform channel for every buyer,
    member or not (ODD 7.21): w·x / (x + K), x = Q/N the review stock per consumer, K =
    `rating_half_saturation`, w = `rating_weight`. Saturating (a Hill curve of shape 1, as
    7.2): the first reviews move conversion most, a rating full of reviews moves it no
    further. 0 without reviews. Source: "private serves public" (domain brief, mechanism
    9): reviews raise the platform rating and so conversion for everyone."""
    x = stock / consumers
    if x <= 0.0:
        return 0.0
    return weight * x / (x + half_saturation)


def points_value(member: bool, points_rate: float, price_sensitivity: float, share: float) -> float:
    """What the points a member earns on an order are worth to it, in utility (ODD 7.21):
    α_i·π·s, the points (π = `points_rate` of the price share s paid) valued as the money
    they save on a later order, so that the member's price is felt as s·(1 − π). 0 for
    non-members. Source: "private serves public" (domain brief, mechanism 9), points as a
    currency across the brand's channels (Tmall FAST+'s full-domain members)."""
    if not member:
        return 0.0
    return price_sensitivity * points_rate * share


def points_earned(member: bool, private_ops: bool, points_rate: float, price: float) -> float:
    """Yuan of points a member of a brand running private operations earns on an order of
    `price` (paid) in any channel: π·price (ODD 7.21); booked as a cost when earned (the
    liability of redeemable points, all assumed redeemed). 0 for anyone else."""
    if member and private_ops:
        return points_rate * price
    return 0.0


# --------------------------------------------------------------------------- budgets

BUDGET_YEAR_DAYS = 365
"""Days of a budget year: `annual_budget` caps each span of days 0-364, 365-729, ..."""


def budget_year_start(today: int) -> int:
    """The first day of the budget year that holds `today` (a multiple of 365)."""
    return today - today % BUDGET_YEAR_DAYS


def budget_days_left(today: int) -> int:
    """Days from `today` (included) to the end of its budget year."""
    return budget_year_start(today) + BUDGET_YEAR_DAYS - today


def fixed_cost_per_day(
    private_ops: bool,
    guides: int,
    guide_salary: float,
    tooling: float,
    nodes: int,
    node_fee: float,
) -> float:
    """The day's contracted cost of private-domain operations: guides x salary + tooling +
    KOC and small-B nodes x daily fee (0 without private operations), as
    `sim.accounting.book_fixed_costs` books it."""
    if not private_ops:
        return 0.0
    return guides * guide_salary + tooling + nodes * node_fee


def ads_within_budget(
    ad_spend: float,
    spent: float,
    fixed_per_day: float,
    days_left: int,
    annual_budget: float,
) -> bool:
    """Whether the brand buys today's ads: spend counted so far this budget year (`spent`),
    plus the contracted operations reserved for the rest of the year at today's rate
    (`fixed_per_day` x `days_left`, today included), plus today's ads, stays within
    `annual_budget`. When it does not, the budget binds: the ads stop for the day (and, as
    spend only grows, for the rest of the budget year; they resume on its first day).

    Rule: a brand cannot spend cash it has not budgeted, and discretionary spend stops first
    (zero-based budgeting, the usual practice of a marketing budget: committed costs are
    reserved, the variable media buy is what gives). Ads are the one lever bought day by
    day with no promise attached, so they are what stops. Guides' salaries, tooling and node
    fees are contracts for the year, reserved ahead; welcome gifts and referral rewards are
    terms announced to consumers and honoured to whoever joins or refers (withdrawing them
    is a strategy change); commissions and the platform's take are fees on sales already
    made. All of these are paid in full, so counted spend exceeds the cap only by gifts and
    rewards paid after the ads stop."""
    return spent + fixed_per_day * days_left + ad_spend <= annual_budget


def fermi_copy_probability(payoff_peer: ArrayLike, payoff_self: ArrayLike, kappa: float):
    """Pairwise imitation, Fermi rule: P(copy) = 1 / (1 + e^{−(π_peer − π_self)/κ})
    (Szabó & Tőke 1998; Traulsen et al. 2006)."""
    return logistic((payoff_peer - payoff_self) / kappa)


def retention_clv(margin: float, retention: float, discount: float) -> float:
    """Customer lifetime value with constant retention: m·r / (1 + d − r)
    (Gupta & Lehmann 2003), margin received each period the customer is retained."""
    return margin * retention / (1.0 + discount - retention)


def daily_discount_factor(rate_per_year: float) -> float:
    """Per-day discount factor equivalent to an annual rate: (1 + d)^(−1/365)."""
    return (1.0 + rate_per_year) ** (-1.0 / 365.0)


def gamma_shape_scale(mean: ArrayLike, cv: float) -> tuple:
    """Gamma (shape, scale) with a given mean and coefficient of variation: shape 1/cv²,
    scale mean/shape.

    Limits: the shape is kept within [GAMMA_SHAPE_MIN, GAMMA_SHAPE_MAX] (`bounded_gamma_shape`),
    so a vanishing spread (cv ≤ 1e-150, where cv² underflows and 1/cv² would divide by zero,
    and cv ≤ 0) gives the degenerate distribution at the mean, and a spread beyond 1e150
    (where cv² overflows) the widest shape drawn. Callers that mean "no spread" (cv ≤ 0)
    skip the draw altogether.
    """
    if 1e-150 < cv <= 1e150:
        shape = bounded_gamma_shape(1.0 / cv**2)
    elif cv > 1e150:
        shape = GAMMA_SHAPE_MIN
    else:
        shape = GAMMA_SHAPE_MAX
    return shape, np.asarray(mean, dtype=float) / shape


def beta_ab(mean: float, concentration: float) -> tuple[float, float]:
    """Beta (a, b) from mean and concentration a + b.

    Limits: a and b are at least BETA_PARAM_MIN: a vanishing concentration (5e-324 times a
    share underflows to 0, which no Beta distribution allows) then draws almost surely 0 or
    1, the limit of a concentration going to 0. Values at or above the floor are unchanged.
    """
    return max(mean * concentration, BETA_PARAM_MIN), max(
        (1.0 - mean) * concentration, BETA_PARAM_MIN
    )


# --------------------------------------------------------------------------- order values
# Order values and baskets (issue 12, item 5).


def basket_multiplier(cross_sell: float, sku_breadth: float, channel: int, pushed: bool) -> float:
    """The basket of an order relative to one product: 1 + x·max(B − 1, 0) for an order in
    the brand's private shop or prompted by a private-domain push (`pushed`: a guide's or a
    broadcast's message), 1 otherwise; x = `cross_sell`, B = the category's `sku_breadth`.

    A recommendation in the brand's own shop or a member push can show the rest of the range
    ("you may also like", bundles); a search on the platform finds the one product. A range
    of one product (B ≤ 1) has nothing to add. Source: the domain brief's mechanism 3
    (private operation suits categories with many SKUs); cross-selling through a customer
    database (Kamakura, Wedel, de Rosa & Mazzon 2003; Li, Sun & Wilcox 2005)."""
    if cross_sell > 0.0 and sku_breadth > 1.0 and (channel == Channel.PRIVATE or pushed):
        return 1.0 + cross_sell * (sku_breadth - 1.0)
    return 1.0


def order_value_shape(cv: float) -> float:
    """The Gamma shape 1/cv² of a spread of mean 1 and coefficient of variation cv (scale
    1/shape), kept within [GAMMA_SHAPE_MIN, GAMMA_SHAPE_MAX] as `gamma_shape_scale` keeps
    it: a vanishing cv gives the degenerate draw at 1, a huge one the widest shape."""
    if cv > 1e150:
        return GAMMA_SHAPE_MIN
    if cv <= 1e-150:
        return GAMMA_SHAPE_MAX
    return bounded_gamma_shape(1.0 / (cv * cv))


def order_list_value(price: float, value_mean: float, basket: float, draw: float) -> float:
    """An order's value at list price: p·ν_i·k·w, p the category's `price`, ν_i the buyer's
    mean order value relative to it (Gamma across consumers, mean 1, cv `order_value_cv`),
    k the basket (`basket_multiplier`) and w this order's draw around the buyer's mean
    (Gamma, mean 1, cv `order_value_cv_order`). The paid value is this times the price
    share the channel's discounts leave. With every factor 1 it is the price itself.

    Source: the Gamma-Gamma model of spend (Fader, Hardie & Lee 2005, "RFM and CLV";
    Colombo & Jiang 1999): a customer's transaction values vary around a mean of their own,
    which varies across customers, independently of how often they buy. Here both are
    Gamma with mean 1 (Gamma-Gamma's mean is inverse Gamma across customers; the two agree
    in mean and spread)."""
    return price * (value_mean * basket * draw)


# --------------------------------------------------------------------------- demand expansion
# (issue 12, item 8: membership raises the member's own category need)


def membership_need_lift(lift: float, member: bool, muted: bool, private_ops: bool) -> float:
    """The rise of a consumer's need rate that one brand's membership gives: `lift`
    (`member_need_lift`) while the consumer is a member who has not muted the brand and the
    brand runs private operations (its reminders reach the member), else 0. A consumer's
    lift in a category is the largest over the category's brands (one need is reminded
    once, whoever reminds it).

    Source: the articles' claim that private operation grows total demand through
    repurchase reminders and cross-sell rather than only taking share (domain brief,
    mechanism 13; Kiehl's members' repurchase, Youzan's 'goods find people')."""
    if member and not muted and private_ops:
        return lift
    return 0.0


def lifted_need_rate(rate_per_day: float, lift: float) -> float:
    """A member's need rate under demand expansion: λ·(1 + lift), λ its own Gamma-drawn
    rate (7.5). With lift 0 it is λ itself, so an off lever changes nothing."""
    return rate_per_day * (1.0 + lift)


def redrawn_need_day(u: float, p: float, today: int) -> int:
    """The day of the next need redrawn from today when the daily need probability changes
    to p: a geometric wait from one uniform u by inversion (`geometric_skip`), `need_day`
    bounded; NEVER_DAY where p ≤ 0, tomorrow where p ≥ 1. Arrivals are memoryless (ODD
    §3.3), so discarding the pending day and drawing afresh at the new rate is exact."""
    if p <= 0.0:
        return NEVER_DAY
    wait = 1
    if p < 1.0:
        wait = geometric_skip(u, skip_scale(p), NEVER_DAY - today)
    return need_day(today, wait)


# --------------------------------------------------------------------------- several platforms
# (issue 12, item 4: Tmall/JD/Douyin/Channels differ in CPM, take rate, buyer protection,
# discovery and ban risk)


def home_platforms(u: np.ndarray, shoppers: np.ndarray) -> np.ndarray:
    """Each consumer's home platform from a uniform draw u: the platform k whose slice of
    the cumulative shopper shares holds u (P(k) = shoppers[k]); a share rounding short of
    1 gives the last platform. Where a consumer shops is a trait (domain brief: the public
    domain is several platforms, each with its own rules and buyers)."""
    edges = np.cumsum(shoppers)
    return np.minimum(np.searchsorted(edges, u, side="right"), shoppers.size - 1)


def discovery_multiplier(feed: bool, boost: float) -> float:
    """Multiplier on organic awareness and word of mouth among a platform's shoppers: the
    feed boost on a content-feed platform (Douyin, Channels: the feed shows friends' and
    creators' posts about goods, "goods find people"), 1 on a search platform (Tmall, JD:
    a shopper finds only what they search for, "people find goods"; domain brief)."""
    if feed:
        return boost
    return 1.0


def blended_cpm(cpms: np.ndarray, shares: np.ndarray) -> float:
    """The CPM a brand pays today across platforms: Σ share_k · CPM_k / Σ share_k, its ad
    budget's split weighting each platform's price (the one CPM with one platform)."""
    total = 0.0
    weight = 0.0
    for k in range(cpms.size):
        total += shares[k] * cpms[k]
        weight += shares[k]
    if weight > 0:
        return total / weight
    return cpms[0]


def card_blocked(ban_risk: float, u: float) -> bool:
    """A package card in a parcel of a platform with ban risk r is reported and blocked with
    probability r (u uniform): platforms forbid diverting their buyers to private
    channels and ban the store's followers or penalise the card (domain brief: the
    platform's rules — take rate, buyer protection, bans — apply in the public domain)."""
    return u < ban_risk


# --------------------------------------------------------------------------- the calendar
# (festival days: 618, Double 11 and user-defined; sim.params.CalendarParams)

CALENDAR_YEAR = 365
"""Days of the calendar year (no leap days): `sim.params.DAYS_PER_YEAR`."""


def day_of_year(day: int, start_day_of_year: int) -> int:
    """The calendar day (1-365) of simulated day `day` when day 0 is `start_day_of_year`:
    (start − 1 + day) mod 365 + 1. The year has no leap day."""
    return (start_day_of_year - 1 + day) % CALENDAR_YEAR + 1


def festival_on(doy: int, first: int, last: int) -> bool:
    """Whether calendar day `doy` lies in the festival window first..last (inclusive); a
    window whose last day comes before its first runs over the new year (e.g. 360..3)."""
    if first <= last:
        return first <= doy and doy <= last
    return doy >= first or doy <= last


def is_festival_day(doy: int, firsts: np.ndarray, lasts: np.ndarray) -> bool:
    """Whether any festival of the calendar (windows `firsts[k]..lasts[k]`) covers `doy`."""
    for k in range(firsts.shape[0]):  # noqa: SIM110 (a loop Numba compiles; no generator)
        if festival_on(doy, firsts[k], lasts[k]):
            return True
    return False


def festival_multiplier(
    doy: int, firsts: np.ndarray, lasts: np.ndarray, multipliers: np.ndarray
) -> float:
    """The day's multiplier of one quantity (CPM, demand or private interaction): the
    product of `multipliers[k]` over the festivals k whose window covers calendar day
    `doy`; 1 on an ordinary day. Festivals that overlap compound. Source: the 618 and
    Double 11 peaks (domain brief, mechanism 6: Kiehl's interaction on those days several
    times the daily level); the multipliers are scenario inputs."""
    m = 1.0
    for k in range(firsts.shape[0]):
        if festival_on(doy, firsts[k], lasts[k]):
            m *= multipliers[k]
    return m


def festival_cpm(cpm: float, multiplier: float) -> float:
    """The platform's price of traffic on a festival day: the day's CPM (`traffic_cpm`)
    times the festival's CPM multiplier (advertisers crowd the auction at 618 and Double
    11); unchanged at 1."""
    return cpm * multiplier


def festival_rate(rate: float, multiplier: float) -> float:
    """A private-domain activity rate on a festival day (guides' messages per day, a
    brand's posts per week, members' referral rate): the ordinary rate times the day's
    interaction multiplier (Kiehl's: interaction on 618 / Double 11 several times the
    daily level); unchanged at 1."""
    return rate * multiplier


def festival_need_probability(rate_per_day: float, multiplier: float) -> float:
    """P(an extra need on a festival day) = 1 − e^{−(m − 1)·λ} for a consumer with need
    rate λ and the day's demand multiplier m ≥ 1 (0 when m ≤ 1).

    With the ordinary need clock (P(a need today) = 1 − e^{−λ}, §3.3 of the ODD) left as
    it is, the chance of no need on the day is e^{−λ}·e^{−(m−1)λ} = e^{−mλ}: a festival day
    has the need probability of a Poisson rate m·λ, without redrawing anyone's clock."""
    if multiplier <= 1.0:
        return 0.0
    return -math.expm1(-(multiplier - 1.0) * rate_per_day)


# --------------------------------------------------------------------------- lifecycle operations

YEAR_DAYS = 365
"""Lifecycle operations: days of a birthday year (day of the year 0..364; day 0 of a run is
the first day of a year)."""

NO_LIFECYCLE_TOUCH = -(2**31) + 1
"""Lifecycle operations: the last lifecycle touch of a membership that has had none, so a
member who joined during the run is due its welcome."""

WELCOMED_BEFORE_RUN = -(2**30)
"""Lifecycle operations: the last lifecycle touch of a day-0 member, welcomed before the
run: never due a welcome, and due any win-back or birthday touch whose window it is in."""

_NONE, _WELCOME, _WINBACK, _BIRTHDAY = (int(s) for s in Segment)


def inter_purchase_days(purchases_per_year: float) -> float:
    """Lifecycle operations: a category's mean days between a customer's orders, 365 /
    purchases per year: the unit of the win-back window, as a repurchase cycle (Kiehl's
    long-term skin care follows the refill cycle; domain brief, mechanism 6)."""
    return YEAR_DAYS / purchases_per_year


def lifecycle_segment(
    today: int,
    joined: int,
    last_purchase: int,
    bought: bool,
    birthday: int,
    last_touch: int,
    welcome_days: int,
    winback_start: float,
    winback_end: float,
    birthday_days: int,
) -> int:
    """The lifecycle segment (`sim.vocab.Segment`, the member's tag) a member is due a
    touch for today, the first that applies in order of priority:

    1. WELCOME: joined within `welcome_days` (today − joined < welcome_days) and had no
       lifecycle touch since joining (last_touch = NO_LIFECYCLE_TOUCH);
    2. WINBACK: has bought, its last order s = today − last_purchase days ago with
       winback_start ≤ s < winback_end (days: multiples of `inter_purchase_days`), and no
       lifecycle touch since it entered that window (last_touch < last_purchase +
       winback_start): one touch before the member lapses for good;
    3. BIRTHDAY: its birthday (day of the year, −1: none) fell d = (today − birthday) mod
       365 days ago with d < birthday_days, and no lifecycle touch since (last_touch <
       today − d);

    else NONE. One touch per window: a touch of any segment answers every window open at
    that day. Source: the lifecycle SOPs of private-domain operations (welcome a new
    friend, win back one about to lapse, birthday and festival care; domain brief,
    mechanisms 4 and 6: Bosideng's guides on natural traffic, Kiehl's long-term care),
    against the random touches of section 7.9."""
    if today - joined < welcome_days and last_touch == NO_LIFECYCLE_TOUCH:
        return _WELCOME
    if bought:
        since = today - last_purchase
        if winback_start <= since < winback_end and last_touch < last_purchase + winback_start:
            return _WINBACK
    if birthday >= 0 and birthday_days > 0:
        ago = (today % YEAR_DAYS - birthday + YEAR_DAYS) % YEAR_DAYS
        if ago < birthday_days and last_touch < today - ago:
            return _BIRTHDAY
    return _NONE


def lifecycle_priority(segment: int, consumer: int, consumers: int) -> int:
    """Lifecycle operations: the order in which a guide serves its members due a lifecycle
    touch: by segment (welcome, win-back, birthday), then by consumer index (a key that
    sorts the same in both engines, whatever order each keeps its members in)."""
    return segment * consumers + consumer
