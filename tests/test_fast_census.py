"""The census's member stocks kept as they change (`sim.fast.kernels.plan_days`,
`member_count`): inside run_days the census reads each brand's counts of members by
channel, muted, engaged and active instead of looking at every member. With the check
switch (`World.cs_meta[3]`) the census also scans every consumer each day, writes the
scan's figures and counts the brand-days on which the kept counts differ; these tests run
scenarios whose members join, leave, mute, lapse, fade and buy, and require no difference
on any day and the same ledger as without the check."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from sim import load_scenario
from sim.fast import FastModel
from sim.fast import kernels as K
from sim.runner import run_rng

SMALL = {"run.consumers": 1500, "run.days": 150}


def _run(name: str, overrides: dict, seed: int, check: bool, stepped: bool = False) -> FastModel:
    model = FastModel(load_scenario(name, {**SMALL, **overrides}), run_rng(seed))
    model.W.cs_meta[3] = 1 if check else 0
    if stepped:
        for _ in range(model.days):
            model.step()
    else:
        model.run()
    return model


@pytest.mark.parametrize(
    ("name", "overrides"),
    [
        ("beauty_guides", {}),
        ("guides_quota", {}),  # reluctant members, mutes
        ("fission_hunters", {}),  # hunters, fake referrals, harvested leavers
        ("lifecycle_guides", {}),  # lifecycle touches
        ("festival_calendar", {}),  # festival posts and needs
        ("adaptive_market", {"run.days": 120}),  # strategies change between windows
        # engagement that fades fast and a short active window: spans end inside windows
        ("beauty_guides", {"population.engagement_decay": 0.2, "population.active_window": 7}),
        # touches that add no engagement (each only fades and rounds the member's), members
        # who join engaged: spans end as engagement fades, touched or not
        (
            "beauty_guides",
            {
                "touches.engagement_content": 0.0,
                "touches.engagement_service": 0.0,
                "population.join_engagement": 0.6,
            },
        ),
        # engagement that never fades: spans run to the window's end or are not there
        ("beauty_guides", {"population.engagement_decay": 0.0}),
    ],
)
def test_kept_counts_equal_the_scan_every_day(name: str, overrides: dict) -> None:
    checked = _run(name, overrides, 3, check=True)
    assert checked.W.cs_meta[4] == 0, "brand-days whose kept counts differ from the scan"
    assert checked.W.cs_meta[0] == checked.days  # the census took the kept counts every day
    plain = _run(name, overrides, 3, check=False)
    assert plain.ledger.to_frame().equals(checked.ledger.to_frame())
    frame = plain.ledger.to_frame()
    for column in ("stock_engaged", "stock_active_members"):
        assert frame[column].to_numpy().max() > 0, column  # the stocks were exercised


def test_kept_counts_when_stepping_day_by_day() -> None:
    """One day a window (FastModel.step): spans end past each window and are counted
    again in the next."""
    overrides = {"run.days": 60, "population.engagement_decay": 0.1}
    stepped = _run("fission_hunters", overrides, 2, check=True, stepped=True)
    assert stepped.W.cs_meta[4] == 0
    whole = _run("fission_hunters", overrides, 2, check=False)
    assert whole.ledger.to_frame().equals(stepped.ledger.to_frame())


def test_mutes_and_leaves_are_counted() -> None:
    """Members who mute and later leave: the muted stock rises and falls within a run."""
    overrides = {"population.engagement_decay": 0.05}
    model = _run("guides_quota", overrides, 1, check=True)
    assert model.W.cs_meta[4] == 0
    muted = model.ledger.to_frame()["stock_muted"].to_numpy()
    assert muted.max() > 0


def test_census_scans_where_engagement_need_not_fade() -> None:
    """With an engaged threshold of 0 a member of negative engagement could become engaged
    as it fades, so the spans are not kept and the census scans (same figures)."""
    model = _run("beauty_guides", {"population.engaged_threshold": 0.0}, 1, check=False)
    assert model.W.cs_meta[0] < model.days - 1  # the kept counts were never taken
    frame = model.ledger.to_frame()
    engaged, reachable = (frame[c].to_numpy() for c in ("stock_engaged", "stock_reachable"))
    assert np.array_equal(engaged, reachable) and reachable.max() > 0


def test_the_check_sees_a_wrong_count() -> None:
    """The check is not blind: a kept count put off by one is caught (and the scan's
    figure written)."""
    model = FastModel(load_scenario("beauty_guides", {**SMALL, "run.days": 40}), run_rng(1))
    for _ in range(30):
        model.step()
    model.W.cs_meta[3] = 1
    W, B, G = model._structs()
    K.plan_days(W, G, 30, 40)
    model.W.cs_n[0, K.CS_ENGAGED] += 1
    K.census(W, B, G, model._L, 30)
    assert model.W.cs_meta[4] == 1
    model.W.cs_n[0, K.CS_ENGAGED] -= 1
    K.census(W, B, G, model._L, 31)
    assert model.W.cs_meta[4] == 1


def _scanned_end(eng: np.float32, upd: int, first: int, last: int, pw, threshold) -> int:
    """The census's own test day by day (float64 product of the float32 engagement): the
    first day from max(upd, first − 1) on that it fails, `last` if none, NO_SPAN if the
    first."""
    lo = max(upd, first - 1)
    for day in range(lo, last):
        if not np.float64(eng) * pw[day - upd] >= threshold:
            return K.NO_SPAN if day == lo else day
    return last


def _edges(threshold: float, pw, ages) -> list[np.float32]:
    """Float32 engagements on both sides of the threshold after each fading age: the least
    that passes (eng·pw[age] ≥ threshold) and the one below it, the threshold itself and
    its neighbours, 0 and 1."""
    out = [np.float32(0.0), np.float32(1.0)]
    t = np.float32(threshold)
    out += [t, np.nextafter(t, np.float32(0)), np.nextafter(t, np.float32(1))]
    for a in ages:
        e = np.float32(threshold / pw[a])
        while np.float64(e) * pw[a] >= threshold:
            e = np.nextafter(e, np.float32(0))
        while not np.float64(e) * pw[a] >= threshold:
            e = np.nextafter(e, np.float32(np.inf))
        out += [e, np.nextafter(e, np.float32(0))]
    return out


@numba.njit
def _rewrite_each(W, G, eng0, upd0, eng, upd, n, stops):
    """K.engaged_rewritten for brand 0 with each case in turn; brand 0's kept engaged count
    and its spans ending by day of the window, before the first (row 0) and after each."""
    n[0], stops[0] = W.cs_n[0, K.CS_ENGAGED], W.cs_stop[0, 0]
    for k in range(eng0.size):
        K.engaged_rewritten(W, G, 0, eng0[k], upd0[k], eng[k], upd[k])
        n[k + 1], stops[k + 1] = W.cs_n[0, K.CS_ENGAGED], W.cs_stop[0, 0]


@pytest.mark.parametrize(("threshold", "decay"), [(0.375, 0.05), (0.3, 0.01), (0.375, 0.0)])
def test_a_rewrite_moves_the_engaged_span_exactly(threshold: float, decay: float) -> None:
    """Every pair of engagements around the threshold's edges, before and after a write
    (a touch, a fade; the same day or days apart): the kept count and the day its span
    ends move as a day-by-day scan of the census's test says, shortcut or not; members
    exactly at the threshold count as engaged."""
    overrides = {
        **SMALL,
        "run.days": 60,
        "population.engaged_threshold": threshold,
        "population.engagement_decay": decay,
    }
    model = FastModel(load_scenario("beauty_guides", overrides), run_rng(1))
    W, _, G = model._structs()
    first, last = 20, 50
    K.plan_days(W, G, first, last)
    pw, thr = model.G.engagement_pow, model.G.engaged_threshold
    days = (first - 9, first - 1, first, first + 7, last - 1)
    engs = _edges(thr, pw, range(0, last - first + 10, 3))
    cases = [
        (eng0, upd0, eng, upd)
        for upd0 in days[:-1]
        for upd in days
        if upd >= upd0
        for eng0 in engs[::3]
        for eng in engs
    ]
    eng0s, upd0s, engs1, upds = (np.array(c) for c in zip(*cases, strict=True))
    n = np.empty(len(cases) + 1, dtype=np.int64)
    stops = np.empty((len(cases) + 1, last - first), dtype=np.int64)
    _rewrite_each(W, G, eng0s, upd0s, engs1, upds, n, stops)
    moved = 0
    for k, (eng0, upd0, eng, upd) in enumerate(cases):
        before = _scanned_end(eng0, upd0, first, last, pw, thr)
        after = _scanned_end(eng, upd, first, last, pw, thr)
        want_n, want = n[k], stops[k].copy()
        for end, d in ((before, -1), (after, 1)):
            want_n += d * (end >= first)
            if first <= end < last:
                want[end - first] += d
        moved += before != after
        assert n[k + 1] == want_n, cases[k]
        assert np.array_equal(stops[k + 1], want), cases[k]
    assert moved > 0
