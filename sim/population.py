"""The consumers' heterogeneity, drawn as arrays from the run's Generator: both engines
draw their population here, in the same order (need rates, then traits), and the channel
owners (who keeps which store customers) from their own streams."""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from numba.np.random import random_methods

from sim import rules
from sim.hints import prefetch
from sim.params import Scenario
from sim.streams import Purpose, RunStreams


@dataclass(frozen=True)
class Traits:
    """Per consumer: price sensitivity α, platform trust, attention slots, coupon hunter,
    fatigue tolerance; per brand × consumer: the BG/NBD dropout probability."""

    alpha: np.ndarray
    trust: np.ndarray
    slots: np.ndarray
    hunter: np.ndarray
    tolerance: np.ndarray
    dropout: np.ndarray  # [brands, consumers]


def gamma(rng: np.random.Generator, mean: float, cv: float, n: int) -> np.ndarray:
    """n draws with a given mean and coefficient of variation (all `mean` when cv is 0)."""
    if cv <= 0:
        return np.full(n, mean)
    shape, scale = rules.gamma_shape_scale(mean, cv)
    return rng.gamma(shape, scale, size=n)


def need_rates(sc: Scenario, categories: list[str], n: int, rng: np.random.Generator) -> np.ndarray:
    """[n, categories] needs per day: Gamma(need_shape) around purchases_per_year / 365.

    The shape is bounded by `rules.bounded_gamma_shape` (unchanged for any shape within
    [1e-300, 1e300]), so that mean/shape stays finite: a shape of 5e-324 would give inf
    scales and NaN rates."""
    shape = rules.bounded_gamma_shape(sc.population.need_shape)
    means = np.array([sc.categories[c].purchases_per_year / 365.0 for c in categories])
    return rng.gamma(shape, 1.0, size=(n, len(categories))) * (means / shape)


TRAIT_FIELDS = ("alpha", "trust", "slots", "hunter", "tolerance", "dropout")
"""The arrays `traits_into` writes (per consumer; `dropout` per brand × consumer)."""

CHUNK = 1 << 16
"""Consumers per NumPy call in the `*_into` draws: the float64 temporaries stay in cache and
are reused, and no consumer-sized float64 array is ever made."""


def _chunks(n: int, chunk: int):
    """(lo, hi) bounds of consecutive chunks of 0..n."""
    chunk = max(int(chunk), 1)
    for lo in range(0, n, chunk):
        yield lo, min(lo + chunk, n)


def gamma_into(
    rng: np.random.Generator, mean: float, cv: float, out: np.ndarray, chunk: int = CHUNK
) -> None:
    """`gamma(rng, mean, cv, out.size)` written into `out` (cast to its dtype) a chunk at a
    time: the same draws and values. NumPy's gamma is scale × standard_gamma(shape), one
    double product per draw, which is what is computed here; a Generator carries nothing
    between calls, so chunks draw the stream's numbers in order."""
    if cv <= 0:
        out[...] = mean
        return
    shape, scale = rules.gamma_shape_scale(mean, cv)
    buf = np.empty(min(max(int(chunk), 1), out.size))
    for lo, hi in _chunks(out.size, chunk):
        part = buf[: hi - lo]
        rng.standard_gamma(shape, out=part)
        part *= scale
        out[lo:hi] = part


def need_rates_into(
    sc: Scenario,
    category: str,
    rng: np.random.Generator,
    rate: np.ndarray,
    p: np.ndarray | None = None,
    chunk: int = CHUNK,
) -> None:
    """`need_rates(sc, [category], rate.size, rng)[:, 0]` written into `rate` (cast to its
    dtype) a chunk at a time, and, when `p` is given, the daily probability of a need
    (`rules.daily_need_probability`, from the float64 rate) into `p`: the same draws and
    values (Gamma(shape, 1) is the standard gamma itself)."""
    shape = rules.bounded_gamma_shape(sc.population.need_shape)
    means = np.array([sc.categories[category].purchases_per_year / 365.0])
    factor = (means / shape)[0]
    buf = np.empty(min(max(int(chunk), 1), rate.shape[0]))
    for lo, hi in _chunks(rate.shape[0], chunk):
        part = buf[: hi - lo]
        rng.standard_gamma(shape, out=part)
        part *= factor
        rate[lo:hi] = part
        if p is not None:
            p[lo:hi] = rules.daily_need_probability(part)


def traits(
    sc: Scenario,
    brands: list[str],
    n: int,
    rng: np.random.Generator,
    dtype: type = np.float64,
) -> Traits:
    """The traits of n consumers towards the named brands (in that order).

    The real-valued traits (α, trust, tolerance, dropout) are drawn in float64 and held in
    `dtype`: the fast engine asks for float32, the precision it keeps, so each is rounded as
    soon as it is drawn and no float64 copy of the population outlives its own draw (the
    same values as rounding them afterwards). Drawn by `traits_into`."""
    out = {
        "alpha": np.empty(n, dtype=dtype),
        "trust": np.empty(n, dtype=dtype),
        "slots": np.empty(n, dtype=np.int64),
        "hunter": np.empty(n, dtype=bool),
        "tolerance": np.empty(n, dtype=dtype),
        "dropout": np.zeros((len(brands), n), dtype=dtype),
    }
    traits_into(sc, brands, rng, out, chunk=max(n, 1))
    return Traits(**out)


def traits_into(
    sc: Scenario,
    brands: list[str],
    rng: np.random.Generator,
    out: dict[str, np.ndarray],
    chunk: int = CHUNK,
) -> None:
    """Draw the traits (`Traits`) straight into the arrays `out[field]` (TRAIT_FIELDS; any
    dtype and layout, e.g. views of records), a chunk of consumers at a time: in order α,
    trust, slots, hunter, tolerance, then each brand's dropout, each trait over the whole
    population before the next (the draws of `traits`). Reals are drawn in float64 and
    rounded to the target's dtype as written; slots are capped at the largest value the
    target holds (127 in int8). No consumer-sized temporary is made."""
    pop = sc.population
    n = out["alpha"].shape[0]
    gamma_into(rng, pop.price_sensitivity_mean, pop.price_sensitivity_cv, out["alpha"], chunk)
    trust = out["trust"]
    if 0 < pop.platform_trust_mean < 1:
        a, b = rules.beta_ab(pop.platform_trust_mean, pop.platform_trust_concentration)
        for lo, hi in _chunks(n, chunk):
            trust[lo:hi] = rng.beta(a, b, size=hi - lo)
    else:
        trust[...] = pop.platform_trust_mean
    slots = out["slots"]
    lam = rules.bounded_poisson_mean(pop.attention_slots_mean - 1.0)
    cap = np.iinfo(slots.dtype).max
    for lo, hi in _chunks(n, chunk):
        drawn = rng.poisson(lam, size=hi - lo)
        drawn += 1
        slots[lo:hi] = np.minimum(drawn, cap)
    hunter = out["hunter"]
    for lo, hi in _chunks(n, chunk):
        np.less(rng.random(hi - lo), pop.hunter_share, out=hunter[lo:hi])
    gamma_into(rng, pop.fatigue_tolerance_mean, pop.fatigue_tolerance_cv, out["tolerance"], chunk)
    dropout = out["dropout"]
    for k, name in enumerate(brands):
        cat = sc.categories[sc.brands[name].category]
        if 0 < cat.dropout_mean < 1:
            da, db = rules.beta_ab(cat.dropout_mean, cat.dropout_concentration)
            for lo, hi in _chunks(n, chunk):
                dropout[k, lo:hi] = rng.beta(da, db, size=hi - lo)
        else:
            dropout[k] = cat.dropout_mean


def channel_owners(sc: Scenario, brands: list[str], n: int, streams: RunStreams) -> np.ndarray:
    """[brands, consumers] bool: whose store relationship a franchisee (or distributor)
    owns and keeps from the brand's private domain (`rules.withheld_by_owner`; organisation
    and channel conflict). One uniform per consumer from the brand's own set-up stream
    (`Purpose.CHANNEL_OWNERS`), drawn only for a brand with stores and a franchise share
    above 0: with the share at 0 nothing is drawn and nobody is withheld."""
    withheld = np.zeros((len(brands), n), dtype=bool)
    channel_owners_into(sc, brands, streams, withheld, chunk=max(n, 1))
    return withheld


def channel_owners_into(
    sc: Scenario, brands: list[str], streams: RunStreams, out: np.ndarray, chunk: int = CHUNK
) -> None:
    """`channel_owners` written into `out` ([brands, consumers], zeroed by the caller), a
    chunk of uniforms at a time (the same draws: one 64-bit word each)."""
    n = out.shape[1]
    for k, name in enumerate(brands):
        bp = sc.brands[name]
        if bp.stores > 0 and bp.franchise_share > 0:
            rng = streams.setup(Purpose.CHANNEL_OWNERS, k)
            for lo, hi in _chunks(n, chunk):
                u = rng.random(hi - lo)
                out[k, lo:hi] = rules.withheld_by_owner(
                    u, bp.franchise_share, bp.franchise_handover
                )


def order_value_means(
    sc: Scenario, categories: list[str], n: int, streams: RunStreams
) -> np.ndarray:
    """[n, categories] each consumer's mean order value in each category relative to its
    price (order values and baskets, `sim.rules.order_list_value`): Gamma with mean 1 and
    cv `order_value_cv`, drawn from the category's own set-up stream
    (`Purpose.ORDER_VALUES`, index: its position in the scenario), or 1 for everyone
    without a draw where the cv is 0."""
    out = np.ones((n, len(categories)))
    names = list(sc.categories)
    for c, name in enumerate(categories):
        cv = sc.categories[name].order_value_cv
        if cv > 0:
            rng = streams.setup(Purpose.ORDER_VALUES, names.index(name))
            shape = rules.order_value_shape(cv)
            out[:, c] = rng.gamma(shape, 1.0 / shape, size=n)
    return out


# ---- the initial funnel
_INT32_ORDER = 0x7FFFFFFF
"""Populations up to this size get their order as int32 from `_shuffled32`; numba's
`random_interval` is NumPy's for every bound below 2**32, so the draws are the same."""


_SHUFFLE_AHEAD = 64
"""Swaps ahead whose partner `_shuffled32` draws and requests early (a random position of
the order: at a large population each is a cache miss). At 15,000,000 consumers numba's
`shuffle` took 1.37 s."""


@numba.njit(cache=True)
def _shuffled32(n, rng):
    """NumPy's `rng.permutation(n)` in int32: its Fisher-Yates shuffle of 0..n-1, swap i
    with `random_interval(i)` for i = n-1 down to 1, the draws NumPy's (and numba's
    `shuffle`, a translation of it) make, in the same order. Each partner is drawn
    _SHUFFLE_AHEAD swaps before its swap and its line requested then; the draws do not
    depend on the order's contents, so drawing them early changes nothing."""
    order = np.arange(n, dtype=np.int32)
    bitgen = rng.bit_generator
    ahead = _SHUFFLE_AHEAD
    partner = np.empty(ahead, np.int64)  # partner[i % ahead]: i's, drawn
    drawn = n - 1  # the next i to draw for (draws go n-1, n-2, ..., 1)
    while drawn >= 1 and drawn > n - 1 - ahead:
        j = np.int64(random_methods.random_interval(bitgen, drawn))
        partner[drawn % ahead] = j
        prefetch(order, j)
        drawn -= 1
    for i in range(n - 1, 0, -1):
        j = partner[i % ahead]
        if drawn >= 1:  # i − ahead's partner, into the slot i's leaves
            k = np.int64(random_methods.random_interval(bitgen, drawn))
            partner[drawn % ahead] = k
            prefetch(order, k)
            drawn -= 1
        if i != j:
            order[i], order[j] = order[j], order[i]
    return order


def funnel_order(n: int, rng: np.random.Generator) -> np.ndarray:
    """`rng.permutation(n)`: the order in which the initial funnel fills (aware first, then
    customers, then members, as prefixes), drawn as NumPy draws it; int32 where it fits,
    so that a population's order costs 4 bytes a consumer, not 8."""
    if 0 < n <= _INT32_ORDER:
        return _shuffled32(n, rng)
    return rng.permutation(n)


# ---- lifecycle operations
def wants_birthdays(strategies) -> bool:
    """Lifecycle operations: whether any of these strategies touches members on their
    birthday, so that the run draws consumers' birthdays."""
    return any(st.wants_birthdays() for st in strategies)


def birthdays(n: int, rng: np.random.Generator | None) -> np.ndarray:
    """Lifecycle operations: each consumer's birthday as a day of the year, uniform on
    0..364 (int16), drawn from `rng` (the set-up stream `Purpose.BIRTHDAYS`); −1 for all,
    drawing nothing, when `rng` is None (no brand touches on birthdays)."""
    if rng is None:
        return np.full(n, -1, dtype=np.int16)
    return rng.integers(0, rules.YEAR_DAYS, size=n).astype(np.int16)
