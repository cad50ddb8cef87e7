"""The live page's model on both engines, through the engine protocol only: it steps with its
twin, takes every lever (re-staffing only for staff levers, the twin following with private
operations off), sends a screen its network, KPI panel and plots (complete windows only, the
reports' KPI definitions); sessions keep a market for a reload, play it on their own thread
and share one view among screens; and a light load test (the 30-session one is heavy)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from sim.kpis import periodic, summarize
from sim.protocol import ENGINES
from sim.vocab import STATE_NAMES
from sim.workshop import live as lv
from sim.workshop.load import load_test

N = 200


@pytest.fixture(params=ENGINES)
def live(request: pytest.FixtureRequest) -> lv.Live:
    return lv.Live(lv.live_scenario("beauty_guides", N), seed=1, engine=request.param)


def test_the_live_model_steps_with_its_twin_and_draws(live: lv.Live) -> None:
    assert live.day == 0 and live.layout.shape == (N, 2) and live.edges
    assert live.twin_model is not None and not live.twin_model.strategy(0).private_ops
    static = lv.network_static(live)
    assert static["ids"] == list(range(N)) and len(static["xy"]) == N
    live.step(7)
    assert live.day == 7 == live.twin_model.today
    view = lv.network_view(live, 0)
    assert view["states"] == "".join(str(s) for s in live.model.states(0).tolist())
    brand = live.model.brand_snapshot(0)
    assert len(view["guides"]) == len(brand.guides) > 0
    served = sum(len(g.members) for g in brand.guides)
    assert view["rings"].count("1") + view["rings"].count("2") >= served > 0
    member = int(np.flatnonzero(live.model.member_channels(0) >= 0)[0])
    text = lv.consumer_text(live.model, member)
    assert text.startswith(f"consumer {member}: ") and "member via " in text
    frame = live.model.ledger.to_frame(live.day)
    assert frame[[f"stock_{s}" for s in STATE_NAMES]].sum(axis=1).eq(N).all()


def test_kpi_panel_is_the_reports_kpis_and_the_incremental_is_against_the_twin(
    live: lv.Live,
) -> None:
    empty = lv.kpi_panel(live, 0)
    assert empty["day"] == 0 and all(v is None for k, v in empty.items() if k != "day")
    live.step(40)
    k = lv.kpi_panel(live, 0)
    full = summarize(live.model.ledger.to_frame(40), N)["brands"]["brand"]
    keys = ("gmv", "contribution", "private_share", "members", "reachable", "roi_private")
    for key in (*keys, "cac_private"):
        assert k[key] == (None if full[key] is None else pytest.approx(full[key])), key
    twin = summarize(live.twin_model.ledger.to_frame(40), N)["brands"]["brand"]
    assert k["incremental"] == pytest.approx(full["contribution"] - twin["contribution"])
    assert k["incremental"] != 0
    alone = lv.Live(live.scenario, seed=1, engine=live.engine, twin=False)
    alone.step(3)
    assert alone.twin_model is None and lv.kpi_panel(alone, 0)["incremental"] is None


def test_plots_show_complete_windows_only(live: lv.Live) -> None:
    live.step(29)
    assert lv.plot_panels(live, 0)["panels"] == []
    live.step(40)  # day 69: two complete windows, the third partial
    plots = lv.plot_panels(live, 0)
    assert plots["days"] == 60 and len(plots["panels"]) == 4
    assert [p["title"] for p in plots["panels"]][:2] == ["funnel", "GMV by channel"]
    assert plots["panels"][0]["yticks"][-1]["t"] == "100%"  # shares in percent
    assert all(p["ylabel"] for p in plots["panels"])  # every axis says its unit
    per = periodic(live.model.ledger.to_frame(60), 30)
    mine = lv.windows(live.model, 0)
    assert [w["day"] for w in mine] == [30, 60]
    for key in ("gmv_platform", "roi_private", "stock_members", "contribution"):
        got = np.array([np.nan if w[key] is None else w[key] for w in mine], dtype=float)
        assert np.allclose(got, per[key].to_numpy(dtype=float), equal_nan=True), key


def test_every_lever_takes_effect_only_staff_levers_restaff_and_the_twin_follows(
    live: lv.Live,
) -> None:
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
        twin = live.twin_model.strategy(0)
        assert twin == live.model.strategy(0).model_copy(update={"private_ops": False}), name
    live.set_lever(0, "koc_count", 3)
    after = live.model.brand_snapshot(0)
    assert len(after.distributors) == 3 and after.strategy_since == live.day + 1
    rings = lv.network_view(live, 0)["rings"]
    assert sorted(i for i, r in enumerate(rings) if r == "2") == sorted(
        {d.centre for d in after.distributors}
    )
    live.set_lever(0, "private_ops", False)
    assert not live.model.brand_snapshot(0).guides
    day = live.day
    live.step(14)
    assert live.day == day + 14


def test_a_large_market_is_drawn_from_a_sample() -> None:
    drawn = lv.drawn_consumers(5000, 1500)
    assert len(drawn) == 1500 and drawn[0] == 0 and drawn[-1] == 4999
    assert np.all(np.diff(drawn) > 0)
    assert lv.drawn_consumers(300).tolist() == list(range(300))


def test_sessions_keep_a_market_for_a_reload_and_share_one_view() -> None:
    sc = lv.live_scenario("beauty_guides", N)
    store = lv.Sessions(limit=2)
    made = []

    def make() -> lv.Live:
        made.append(1)
        return lv.Live(sc, seed=1, twin=False)

    first = store.open(None, make)
    first.step(14)
    assert store.open(first.id, make) is first and len(made) == 1  # a reload finds it
    assert first.view() is first.view()  # one view per tick for every screen
    version = first.version
    first.set_lever("broadcasts_per_week", 4.0)
    assert first.version > version and first.view()["levers"]["broadcasts_per_week"] == 4.0
    assert store.open("unknown", make).id == "unknown" and len(made) == 2
    store.open(None, make)  # a third market drops the one used longest ago
    assert len(store) == 2 and store.get(first.id) is None
    assert len({lv.new_id() for _ in range(50)}) == 50


def test_a_session_plays_on_its_own_thread() -> None:
    session = lv.Session("s", lv.Live(lv.live_scenario("beauty_guides", N), seed=1))
    session.play(True)
    time.sleep(1.2)
    session.play(False)
    day = session.live.day
    assert day >= 14 and day % lv.DAYS_PER_TICK == 0
    time.sleep(lv.TICK_S * 2)
    assert session.live.day == day  # stopped


def test_a_few_sessions_each_advance_more_than_a_week_a_second() -> None:
    result = load_test(sessions=3, seconds=2.0, consumers=N)
    assert min(result.days_per_second) >= 7.0, result.line()
    assert result.ticks > 0 and 0 < result.bytes_per_tick < 20_000


@pytest.mark.heavy
def test_thirty_sessions_each_advance_more_than_a_week_a_second() -> None:
    result = load_test(sessions=30, seconds=10.0)
    assert min(result.days_per_second) >= 7.0, result.line()
