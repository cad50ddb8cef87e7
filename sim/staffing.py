"""A brand's staff, drawn from its strategy: its store guides' skills and its distributors
(KOCs or small-B nodes, and employee distributors), each with the circle it posts to.

Both engines staff a brand through `draw_staff` (the reference engine's `Brand.staff`
makes agents of the result, the fast engine's `FastModel._staff` lays it out as arrays),
so the same strategy, stores, network and generator state give the same staff.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim import rules
from sim.network import Network, circle
from sim.params import StrategyParams
from sim.vocab import DistributorKind


@dataclass(frozen=True)
class Distributor:
    """A recruited distributor: its kind, the consumer it is, and the circle it posts to."""

    kind: DistributorKind
    centre: int
    circle: np.ndarray


@dataclass(frozen=True)
class Staff:
    """A brand's staff: one skill per guide (float64; guide j serves store j mod stores)
    and its distributors, KOCs or small-B nodes first, then employees."""

    skills: np.ndarray = field(default_factory=lambda: np.zeros(0))
    distributors: tuple[Distributor, ...] = ()


WHOLE_TOLERANCE = 1e-9
"""How close to a whole number an expected count must be to be taken as that number (no
draw): 7 guides / 3 stores x 3 stores is 7 up to a rounding error, not 6 or 7 at random."""


def draw_count(expected: float, rng: np.random.Generator) -> int:
    """A whole number of staff with mean `expected`, by unbiased stochastic rounding:
    floor(expected) plus one with probability equal to the fraction (one uniform draw from
    `rng`). A whole `expected` (within `WHOLE_TOLERANCE`) is returned as it is without a draw,
    so runs whose counts are whole draw exactly what they drew before this rule.

    Rounding to the nearest (or half to even: 5 stores x 0.5 guides -> 2) would bias every
    fractional count, as a scaled market makes them (`sim.scaling`); this keeps the mean."""
    whole = round(expected)
    if abs(expected - whole) <= WHOLE_TOLERANCE:
        return int(whole)
    low = int(np.floor(expected))
    return low + int(rng.random() < expected - low)


def guide_skills(strategy: StrategyParams, stores: float, rng: np.random.Generator) -> np.ndarray:
    """Skills of the brand's guides, stores x guides_per_store of them drawn by `draw_count`:
    gamma around 1 with sd `guide_skill_sd` (`rules.gamma_shape_scale`), all 1 when the sd
    is 0 (no draw)."""
    n_guides = draw_count(stores * strategy.guides_per_store, rng)
    if strategy.guide_skill_sd <= 0:
        return np.ones(n_guides)
    shape, scale = rules.gamma_shape_scale(1.0, strategy.guide_skill_sd)
    return rng.gamma(shape, float(scale), size=n_guides)


def best_connected(degree: np.ndarray, key: np.ndarray, k: int) -> np.ndarray:
    """The k nodes of highest degree, best first; ties go to the larger random key (in
    [0, 1)). O(n): a partial selection on degree + key, then a sort of the k chosen."""
    k = min(k, degree.size)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    score = degree + key
    np.negative(score, out=score)  # best first, without a second array of the population
    top = np.argpartition(score, k - 1)[:k]
    return top[np.argsort(score[top])]


def draw_staff(
    strategy: StrategyParams, stores: float, network: Network, rng: np.random.Generator
) -> Staff:
    """Hire guides and recruit distributors as a strategy says (none without private ops).

    KOCs (or small-B nodes) are people with wide circles: the `koc_count` best-connected
    consumers, ties broken at random (`best_connected`); each radiates to a Poisson
    (`koc_circle`) number of people (`sim.network.circle`). Employee distributors are
    consumers drawn uniformly, with Poisson (`employee_circle`) circles. The counts of
    guides, nodes and employees are expectations (a scaled market makes them fractional);
    each is drawn by `draw_count` (a draw only when it is fractional). Draw order: the
    guide count, guide skills, the node count, the KOC tie-break keys, each KOC's circle,
    the employee count, each employee's centre and circle.
    """
    if not strategy.private_ops:
        return Staff()
    skills = guide_skills(strategy, stores, rng)
    distributors: list[Distributor] = []
    kocs = draw_count(strategy.koc_count, rng)
    if kocs:
        deg = network.degree() if not network.mixing else np.zeros(network.n)
        kind = DistributorKind[strategy.koc_kind.upper()]
        for centre in best_connected(deg, rng.random(network.n), kocs).tolist():
            size = int(rng.poisson(rules.bounded_poisson_mean(strategy.koc_circle)))
            distributors.append(Distributor(kind, centre, circle(network, centre, size, rng)))
    for _ in range(draw_count(strategy.employee_distributors, rng)):
        centre = int(rng.integers(0, network.n))
        size = int(rng.poisson(rules.bounded_poisson_mean(strategy.employee_circle)))
        distributors.append(
            Distributor(DistributorKind.EMPLOYEE, centre, circle(network, centre, size, rng))
        )
    return Staff(skills, tuple(distributors))
