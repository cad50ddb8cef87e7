"""Stylised fact: market penetration of private-domain operations climbs when brands
imitate more profitable peers (Fermi rule) in a frequently bought category, on the
consumers' ordering habit for a brand's own shop (docs/FACTS.md, row 'market path')."""

from __future__ import annotations

import numpy as np

from tests.facts.common import last_quarter_private_share, paired, runs, window_ratio


def test_market_private_share_climbs_on_habit_and_imitation():
    """docs/FACTS.md 'market path': the market's private share of GMV is 1-10% in the first
    quarter and 15-40% in the last; the share of brands running private operations rises
    from 1 in 8 to at least half. The climb rests on the ordering habit: against the same
    market without it (habit_weight 0, same seeds) the last quarter's private share is
    more than 5 points lower on every seed (2 seeds)."""
    results = runs("adaptive_market", 2)
    first = window_ratio(results, "gmv_private", "gmv_total", 0, 90)
    last = float(np.mean([last_quarter_private_share(r) for r in results]))
    assert 0.01 <= first <= 0.10
    assert 0.15 <= last <= 0.40
    ops_start = np.mean([r.summary["kpis"]["market"]["private_ops_share_start"] for r in results])
    ops_end = np.mean([r.summary["kpis"]["market"]["private_ops_share"] for r in results])
    assert ops_start == 1 / 8
    assert ops_end >= 0.5
    no_habit = runs("adaptive_market", 2, population__habit_weight=0.0)
    assert min(paired(results, no_habit, last_quarter_private_share)) > 0.05
