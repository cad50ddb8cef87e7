"""The live page's model on both engines, through the engine protocol only: it steps, takes
every lever (re-staffing only for staff levers), draws the network, the tooltips and the
plots."""

from __future__ import annotations

import numpy as np
import pytest

from sim.protocol import ENGINES
from sim.vocab import STATE_NAMES
from sim.workshop import live as lv

N = 200


@pytest.fixture(params=ENGINES)
def live(request: pytest.FixtureRequest) -> lv.Live:
    return lv.Live(lv.live_scenario("beauty_guides", N), seed=1, engine=request.param)


def test_the_live_model_steps_and_draws(live: lv.Live) -> None:
    assert live.day == 0 and live.layout.shape == (N, 2) and live.edges
    live.step(7)
    assert live.day == 7
    points, guides = lv.network_points(live, 0)
    assert [p["i"] for p in points] == list(range(N))
    states = live.model.states(0)
    colours = [lv.STATE_COLORS[s] for s in states.tolist()]
    assert [p["c"] for p in points] == colours
    brand = live.model.brand_snapshot(0)
    assert len(guides) == len(brand.guides) > 0
    served = sum(len(g.members) for g in brand.guides)
    assert sum(p["s"] == "#31a354" for p in points) == served  # ringed: served by a guide
    member = int(np.flatnonzero(live.model.member_channels(0) >= 0)[0]) if served else 0
    text = lv.consumer_text(live.model, member)
    assert text.startswith(f"consumer {member}: ") and "brand: " in text
    if served:
        assert "member via " in text and "engagement " in text
    fig = lv.live_figure(live, 0)
    assert len(fig.axes) == 6 and "day 7" in fig.texts[0].get_text()
    frame = live.model.ledger.to_frame(live.day)
    assert frame[[f"stock_{s}" for s in STATE_NAMES]].sum(axis=1).eq(N).all()


def test_every_lever_takes_effect_and_only_staff_levers_restaff(live: lv.Live) -> None:
    live.step(7)
    guides = live.model.brand_snapshot(0).guides
    for name, value in (
        ("ad_budget_per_day", 1234.0),
        ("selling_share", 0.5),
        ("broadcasts_per_week", 3.0),
        ("private_discount", 0.12),
        ("referral_reward", 40.0),
        ("channel_policy", "assist"),
        ("guide_regime", "quota"),
    ):
        live.set_lever(0, name, value)
        expected = pytest.approx(value) if isinstance(value, float) else value
        assert live.levers(0)[name] == expected, name
        assert live.model.brand_snapshot(0).guides == guides, name  # not re-staffed
    live.set_lever(0, "koc_count", 3)
    after = live.model.brand_snapshot(0)
    assert len(after.distributors) == 3 and after.strategy_since == live.day + 1
    kocs = [p for p in lv.network_points(live, 0)[0] if p["t"].startswith("KOC · ")]
    assert sorted(p["i"] for p in kocs) == sorted({d.centre for d in after.distributors})
    live.set_lever(0, "private_ops", False)
    assert not live.model.brand_snapshot(0).guides
    day = live.day
    live.step(14)
    assert live.day == day + 14
