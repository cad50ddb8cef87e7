"""Strategy review by imitation: adaptive brands compare the trailing ROI of their strategy
with a random same-category peer's and copy the peer's strategy with the Fermi probability
(`rules.fermi_copy_probability`: Szabó & Tőke 1998; Traulsen et al. 2006); failing
that, they switch private operations on or off with a small exploration probability.

Both engines review through `review_strategies` (the reference engine's
`MarketModel._review_strategies`, the fast engine's `FastModel._review_strategies`) and
apply each adoption their own way, through the `adopt` callback.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence

import numpy as np

from sim import rules
from sim.kpis import ratio
from sim.params import MarketParams, StrategyParams


def trailing_roi(
    gross_profit: np.ndarray, cost: np.ndarray, today: int, window: int
) -> list[float]:
    """Each brand's ROI over the trailing window ending today: gross profit / total cost
    over days max(0, today + 1 − window) .. today (as KPI roi_total; 0 where no cost).
    `gross_profit` and `cost` are the ledger's [day, brand] columns."""
    lo = max(0, today + 1 - window)
    gp = gross_profit[lo : today + 1].sum(axis=0)
    c = cost[lo : today + 1].sum(axis=0)
    return [ratio(g, x) or 0.0 for g, x in zip(gp, c, strict=True)]


def review_strategies(
    gross_profit: np.ndarray,
    cost: np.ndarray,
    adaptive: Sequence[bool],
    category: Sequence[Hashable],
    strategies: Sequence[StrategyParams],
    since: Sequence[int],
    today: int,
    market: MarketParams,
    rng: np.random.Generator,
    adopt: Callable[[int, StrategyParams], None],
) -> list[tuple[int, StrategyParams]]:
    """Review the brands' strategies at the end of day `today`; returns the adoptions
    [(brand, new strategy)] in the order made.

    Brands are visited in a random order. An adaptive brand whose strategy has run a whole
    payoff window (since[b] is the day it was adopted) draws a random same-category peer and
    copies its strategy with the Fermi probability of their ROI difference (if it differs);
    otherwise it flips `private_ops` with probability `market.exploration`.

    `adopt(b, strategy)` is called at once for each adoption, before the next brand is
    reviewed: re-staffing draws from the same generator, so the engines' draws interleave
    in this one order. Later brands see an adopted strategy as their peer's strategy.
    """
    nb = len(strategies)
    if nb < 2:
        return []
    roi = trailing_roi(gross_profit, cost, today, market.payoff_window)
    current = list(strategies)
    adoptions: list[tuple[int, StrategyParams]] = []
    for b in rng.permutation(nb).tolist():
        if not adaptive[b] or today + 1 - since[b] < market.payoff_window:
            continue  # judge a strategy only once it has run a whole payoff window
        peers = [p for p in range(nb) if p != b and category[p] == category[b]]
        if not peers:
            continue
        peer = peers[int(rng.integers(0, len(peers)))]
        p_copy = rules.fermi_copy_probability(roi[peer], roi[b], market.fermi_kappa)
        if rng.random() < p_copy and current[peer] != current[b]:
            new = current[peer]
        elif rng.random() < market.exploration:
            new = current[b].model_copy(update={"private_ops": not current[b].private_ops})
        else:
            continue
        current[b] = new
        adoptions.append((b, new))
        adopt(b, new)
    return adoptions
