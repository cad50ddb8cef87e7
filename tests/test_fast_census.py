"""The census's member stocks kept as they change (`sim.fast.kernels.plan_days`,
`member_count`): inside run_days the census reads each brand's counts of members by
channel, muted, engaged and active instead of looking at every member. With the check
switch (`World.cs_meta[3]`) the census also scans every consumer each day, writes the
scan's figures and counts the brand-days on which the kept counts differ; these tests run
scenarios whose members join, leave, mute, lapse, fade and buy, and require no difference
on any day and the same ledger as without the check."""

from __future__ import annotations

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
