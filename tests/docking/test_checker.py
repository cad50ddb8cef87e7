"""The docking checker itself: its rule on made-up samples, and on real runs that it fails
a model that differs (the reference engine docked with itself under a changed lever) and
passes the reference engine docked with itself on independent seeds.

These run on the reference engine only, so they run whether or not the candidate engine is
registered (about 12 short runs of `public_only`).
"""

from __future__ import annotations

import math

import pytest

from sim.scenario import load_scenario
from tests.docking.common import (
    CATCH_ALL,
    GROUPS,
    REFERENCE,
    REPLICATES,
    compare_metric,
    dock,
    metrics_for,
    scenarios_in,
    shipped_names,
)

# ---------------------------------------------------------------------------- the rule


def test_equal_samples_pass_and_shifted_samples_fail():
    ref = [100.0, 102.0, 98.0, 101.0]
    assert compare_metric("m", ref, [101.0, 99.0, 100.0, 102.0], floor=0.0).status == "ok"
    row = compare_metric("m", ref, [x * 1.3 for x in ref], floor=0.0)
    assert row.status == "FAIL" and row.diff == pytest.approx(30.075)
    assert row.allowed == pytest.approx(10.025) and row.band == "rel"
    assert row.p < 0.001


def test_noise_widens_the_band_and_the_floor_covers_tiny_means():
    noisy = compare_metric("m", [1.0, 3.0, 0.5, 2.5], [2.0, 4.0, 1.0, 3.5], floor=0.0)
    assert noisy.status == "ok" and noisy.band == "t*SE"
    tiny = compare_metric("m", [0.0, 0.001, 0.0, 0.0], [0.004, 0.0, 0.003, 0.002], floor=0.01)
    assert tiny.status == "ok" and tiny.band == "floor"


def test_constant_samples_compare_by_the_relative_band():
    assert compare_metric("m", [5.0] * 4, [5.4] * 4, floor=0.0).status == "ok"
    row = compare_metric("m", [5.0] * 4, [6.0] * 4, floor=0.0)
    assert row.status == "FAIL" and math.isinf(row.t) and row.p == 0.0


def test_undefined_values():
    both = compare_metric("m", [None] * 4, [None, None, None, 1.0], floor=0.0)
    assert both.status == "undefined"
    one_side = compare_metric("m", [1.0, 1.1, 0.9, 1.0], [None] * 4, floor=0.0)
    assert one_side.status == "FAIL" and one_side.band == "defined"
    some = compare_metric("m", [1.0, None, 1.1, 0.9], [1.0, 1.05, None, 0.95], floor=0.0)
    assert some.status == "ok" and (some.ref_undefined, some.cand_undefined) == (1, 1)
    few = compare_metric("m", [1.0, None], [1.0, 0.9], floor=0.0)
    assert few.status == "too few"
    # with more runs, Fisher's exact test on how often: 9 of 12 against none
    often = compare_metric("m", [1.0] * 12, [None] * 9 + [1.0] * 3, floor=0.0)
    assert often.status == "FAIL" and often.band == "defined"
    assert compare_metric("m", [1.0] * 12, [None] * 3 + [1.0] * 9, floor=0.0).status == "ok"


def test_metrics_cover_every_brand_and_the_market():
    sc = load_scenario("bench_three_brands")
    labels = [m.label for m in metrics_for(sc)]
    assert "market.gmv" in labels and "market.private_share" in labels
    for brand in sc.brand_names():
        for key in ("gmv", "private_share", "cac_blended", "roi_total", "roi_private",
                    "members", "new_customers", "ltv90"):  # fmt: skip
            assert f"{brand}.{key}" in labels
    single = [m.label for m in metrics_for(load_scenario("beauty_guides"))]
    assert "gmv" in single and "ltv365" in single and not any("market" in x for x in single)


def test_every_shipped_scenario_is_docked_once():
    docked = [n for g in GROUPS for n in scenarios_in(g)]
    assert sorted(docked) == sorted(shipped_names())
    named = [n for g in GROUPS.values() for n in g]
    assert len(named) == len(set(named))
    assert set(named) <= set(shipped_names()), "GROUPS names a scenario that is not shipped"
    assert CATCH_ALL in GROUPS


# ---------------------------------------------------------------------------- on real runs


def test_checker_fails_a_different_model():
    """The reference engine against itself with twice the ad budget: the checker must
    report a mismatch, in the KPIs ads move, with a readable table."""
    report = dock(
        "public_only",
        replicates=REPLICATES,
        reference=REFERENCE,
        candidate=REFERENCE,
        candidate_overrides={"brands.brand.strategy.ad_budget_per_day": 600.0},
    )
    assert not report.ok, report.table()
    failed = {r.metric for r in report.failures}
    assert {"gmv", "new_customers", "cac_blended", "roi_total"} <= failed, report.table()
    table = report.table()
    assert "FAIL" in table and "mean ± sd" in table and "allowed" in table
    assert "metrics differ materially" in table


def test_checker_passes_the_reference_against_itself():
    """The reference engine docks with itself on independent seeds (1..R vs 1001..1000+R)."""
    report = dock("public_only", replicates=REPLICATES, reference=REFERENCE, candidate=REFERENCE)
    assert report.ok, report.table()
    assert report.ref_seeds != report.cand_seeds
