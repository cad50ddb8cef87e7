"""Stylised fact: market penetration of private-domain operations climbs from about 10%
towards 40-50% when brands imitate more profitable peers (Fermi rule)."""

from __future__ import annotations

import numpy as np

from tests.facts.common import runs, window_ratio


def test_market_private_share_climbs_from_10_towards_40_50_percent():
    """The market's private share of GMV is 3-15% in the first quarter and 35-60% in the
    last; the share of brands running private operations rises from 1 in 8 (2 seeds)."""
    results = runs("adaptive_market", 2)
    days = results[0].scenario.run.days
    first = window_ratio(results, "gmv_private", "gmv_total", 0, 90)
    last = window_ratio(results, "gmv_private", "gmv_total", days - 90, days)
    assert 0.03 <= first <= 0.15
    assert 0.35 <= last <= 0.60
    ops_start = np.mean([r.summary["kpis"]["market"]["private_ops_share_start"] for r in results])
    ops_end = np.mean([r.summary["kpis"]["market"]["private_ops_share"] for r in results])
    assert ops_start == 1 / 8
    assert ops_end >= 0.5
