"""Stylised facts: the fading traffic dividend, brand A's failed private channel and its
remedies, and the 'private serves public' fix (domain brief, mechanisms 1, 8 and 9)."""

from __future__ import annotations

from tests.facts.common import brand_kpi, paired, runs, window_ratio


def test_public_ad_roas_decays_towards_0_8():
    """docs/FACTS.md 'ROAS decays': spend 100, sell 80: over the second year first-order ad
    ROAS is 0.8 ± 0.15 (3 seeds), well below its level in the first full half-year after
    ramp-up. Part of the decay is saturation (fewer unaware targets are left): without the
    drift in traffic prices (cpm_growth_per_year 0, same seeds) ROAS still falls by over
    10%; the level of 0.8 rests on the drift, an input: without it the second year's ROAS
    is at least 0.1 higher."""
    results = runs("public_only", 3)
    early = window_ratio(results, "gmv_first_ads", "cost_ads", 90, 270)
    late = window_ratio(results, "gmv_first_ads", "cost_ads", 365, 730)
    assert 0.65 <= late <= 0.95
    assert early > 1.2 * late
    cpm_start = results[0].ledger["cpm"].iloc[0]
    cpm_end = results[0].ledger["cpm"].iloc[-1]
    assert cpm_end > 1.4 * cpm_start
    flat = runs("public_only", 3, platform__cpm_growth_per_year=0.0)
    flat_early = window_ratio(flat, "gmv_first_ads", "cost_ads", 90, 270)
    flat_late = window_ratio(flat, "gmv_first_ads", "cost_ads", 365, 730)
    assert flat_late < 0.9 * flat_early
    assert flat_late > late + 0.1


def test_brand_a_fails_through_its_causes():
    """docs/FACTS.md 'brand A': with ordinary operations (the 631 mix, two posts a week,
    100 yuan/day of tooling) the mall still sells almost nothing (private share < 5%) and
    private ROI is below public ROI (2 seeds). The causes are brand A's own (ODD 7.18): few
    join because the public team, under a separate private sales KPI, sends a fifth of the
    planned package cards and the distributor-run counters keep their customers; with the
    KPI shared or the customers handed over, more than 1.5 times as many join on the same
    seeds. Where private ROI lands against public also rests on an input, the tooling bill:
    the causes decide how little the mall sells against it."""
    results = runs("brand_a", 2)
    assert brand_kpi(results, "private_share") < 0.05
    assert brand_kpi(results, "roi_private") < brand_kpi(results, "roi_public")
    joined = [r.ledger["new_members_total"].sum() for r in results]
    for remedy in (
        {"brands__brand__strategy__private_sales_kpi": "shared"},
        {"brands__brand__franchise_handover": 1.0},
    ):
        remedied = [r.ledger["new_members_total"].sum() for r in runs("brand_a", 2, **remedy)]
        for before, after in zip(joined, remedied, strict=True):
            assert after > 1.5 * before


REMEDIES = {
    "shared credit": {"brands__brand__strategy__private_sales_kpi": "shared"},
    "assist": {"brands__brand__strategy__channel_policy": "assist"},
    "price advantage": {"brands__brand__strategy__private_discount": 0.1},
    "guarantee": {"brands__brand__strategy__private_guarantee": 1.0},
    "handover": {"brands__brand__franchise_handover": 1.0},
}


def _sum(column: str):
    return lambda r: float(r.ledger[column].sum())


def test_brand_a_remedies_move_the_way_their_causes_say():
    """docs/FACTS.md 'brand A remedies' (experiments/brand_a_remedies.toml): each remedy
    against brand A as it is, seed by seed on common random numbers (3 seeds), moves what
    its cause says: shared credit and the assist policy restore the package cards (more
    join), distributors handing over their customers bring store joins (more join); a
    price advantage and a guarantee make the mall sell more (private GMV up) and the
    guarantee takes members' orders off the platform (platform GMV down); under assist
    the mall is closed (no private GMV). Whether each pays is the experiment's outcome,
    not asserted here."""
    base = runs("brand_a", 3)
    moved = {
        name: {
            column: paired(runs("brand_a", 3, **remedy), base, _sum(column))
            for column in ("new_members_total", "gmv_private", "gmv_platform")
        }
        for name, remedy in REMEDIES.items()
    }
    for name in ("shared credit", "assist", "handover"):
        assert min(moved[name]["new_members_total"]) > 0, name
    for name in ("price advantage", "guarantee", "shared credit", "handover"):
        assert min(moved[name]["gmv_private"]) > 0, name
    assert max(moved["guarantee"]["gmv_platform"]) < 0
    assert max(moved["assist"]["gmv_private"]) < 0


def test_private_serving_public_beats_brand_a():
    """docs/FACTS.md 'private serves public': the same brand, coupons pushed to the
    platform (the assist policy, under which the public team loses no credit and sends
    every planned package card), tiers and a VIP service, against brand A on the same seeds:
    about twice the members, more platform GMV than brand A's and private ROI more than
    twice brand A's (2 seeds). Brand A no longer sells hard, so neither loses members to
    the harvest feeling: leaves are not compared."""
    a = runs("brand_a", 2)
    psp = runs("private_serves_public", 2)
    assert brand_kpi(psp, "members") > 1.8 * brand_kpi(a, "members")
    assert brand_kpi(psp, "gmv_platform") > brand_kpi(a, "gmv_platform")
    assert brand_kpi(psp, "roi_private") > 2 * brand_kpi(a, "roi_private")
    assert brand_kpi(psp, "private_influenced_share") > 0.1
