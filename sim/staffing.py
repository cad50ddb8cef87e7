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


def guide_skills(strategy: StrategyParams, stores: int, rng: np.random.Generator) -> np.ndarray:
    """Skills of round(stores × guides_per_store) guides: gamma around 1 with sd
    `guide_skill_sd` (`rules.gamma_shape_scale`), all 1 when the sd is 0 (no draw)."""
    n_guides = round(stores * strategy.guides_per_store)
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
    top = np.argpartition(-score, k - 1)[:k]
    return top[np.argsort(-score[top])]


def draw_staff(
    strategy: StrategyParams, stores: int, network: Network, rng: np.random.Generator
) -> Staff:
    """Hire guides and recruit distributors as a strategy says (none without private ops).

    KOCs (or small-B nodes) are people with wide circles: the `koc_count` best-connected
    consumers, ties broken at random (`best_connected`); each radiates to a Poisson
    (`koc_circle`) number of people (`sim.network.circle`). Employee distributors are
    consumers drawn uniformly, with Poisson (`employee_circle`) circles. Draw order: guide
    skills, the KOC tie-break keys, each KOC's circle, each employee's centre and circle.
    """
    if not strategy.private_ops:
        return Staff()
    skills = guide_skills(strategy, stores, rng)
    distributors: list[Distributor] = []
    if strategy.koc_count:
        deg = network.degree() if not network.mixing else np.zeros(network.n)
        kind = DistributorKind[strategy.koc_kind.upper()]
        for centre in best_connected(deg, rng.random(network.n), strategy.koc_count).tolist():
            size = int(rng.poisson(rules.bounded_poisson_mean(strategy.koc_circle)))
            distributors.append(Distributor(kind, centre, circle(network, centre, size, rng)))
    for _ in range(strategy.employee_distributors):
        centre = int(rng.integers(0, network.n))
        size = int(rng.poisson(rules.bounded_poisson_mean(strategy.employee_circle)))
        distributors.append(
            Distributor(DistributorKind.EMPLOYEE, centre, circle(network, centre, size, rng))
        )
    return Staff(skills, tuple(distributors))
