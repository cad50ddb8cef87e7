"""Demand expansion (docs/ODD.md 7.20): its rules, its bounds on input, and that it is off by
default (no brand lifts a need, nothing is listed or drawn)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sim import load_scenario, rules
from sim.fast import FastModel
from sim.model import MarketModel
from sim.params import MAX_NEED_LIFT, StrategyParams
from tests.helpers import cli
from tests.test_bad_input import OUT, assert_bad_input, write


def test_membership_need_lift_needs_an_unmuted_member_of_a_brand_with_private_ops():
    assert rules.membership_need_lift(0.4, True, False, True) == 0.4
    assert rules.membership_need_lift(0.4, True, True, True) == 0.0  # muted: reminders unseen
    assert rules.membership_need_lift(0.4, False, False, True) == 0.0  # not a member
    assert rules.membership_need_lift(0.4, True, False, False) == 0.0  # no private operations
    assert rules.membership_need_lift(0.0, True, False, True) == 0.0


def test_lifted_need_rate_scales_the_own_rate():
    assert rules.lifted_need_rate(0.1, 0.0) == 0.1
    assert rules.lifted_need_rate(0.1, 0.5) == pytest.approx(0.15)
    assert rules.lifted_need_rate(0.0, 3.0) == 0.0


@pytest.mark.parametrize("p", [0.01, 0.2, 0.7])
def test_redrawn_need_day_is_a_geometric_wait_from_today(p):
    """Inversion: the wait is 1 + ⌊log(1 − u) / log(1 − p)⌋; its mean over the uniform grid
    is 1/p (the geometric mean), and the day is today plus the wait."""
    today = 100
    n = 200_000
    waits = [rules.redrawn_need_day((k + 0.5) / n, p, today) - today for k in range(n)]
    assert min(waits) == 1
    assert sum(waits) / n == pytest.approx(1 / p, rel=0.01)
    u = 0.37
    assert rules.redrawn_need_day(u, p, today) == today + 1 + math.floor(
        math.log(1 - u) / math.log(1 - p)
    )


def test_redrawn_need_day_bounds():
    assert rules.redrawn_need_day(0.5, 0.0, 10) == rules.NEVER_DAY
    assert rules.redrawn_need_day(0.5, -1.0, 10) == rules.NEVER_DAY
    assert rules.redrawn_need_day(0.99, 1.0, 10) == 11
    assert rules.redrawn_need_day(0.999999, 1e-300, 10) == rules.NEVER_DAY


def test_off_by_default():
    """The default lever is 0: no shipped scenario but demand_expansion sets it."""
    assert StrategyParams().member_need_lift == 0.0
    sc = load_scenario("coffee_miniprogram")
    assert all(b.strategy.member_need_lift == 0.0 for b in sc.brands.values())


@pytest.mark.parametrize("engine", ["agents", "fast"])
def test_off_lists_and_lifts_no_one(engine):
    """With every lift 0 a run of a private-domain brand lists no consumer for
    recomputation and no need lift is in force at the end."""
    sc = load_scenario("coffee_miniprogram", {"run.days": 40, "run.consumers": 300})
    model = (MarketModel if engine == "agents" else FastModel)(sc, 3)
    model.run()
    if engine == "agents":
        assert not model.demand_due
        assert all(not c.need_lift.any() for c in model.consumers)
    else:
        assert model.W.dm_n[0] == 0 and not model.W.need_lift.any()


def test_on_lifts_members_in_both_engines():
    """With a lift, members end the run with it in force, non-members without it."""
    sc = load_scenario("demand_expansion", {"run.days": 40, "run.consumers": 300})
    lift = sc.brands["cafe"].strategy.member_need_lift
    ref, fast = MarketModel(sc, 3), FastModel(sc, 3)
    ref.run()
    fast.run()
    cat = ref.brands[0].category_index  # the reference keeps every category of the scenario
    on_ref = 0
    for c in ref.consumers:
        m = c.memberships.get(0)
        on = m is not None and not m.muted
        on_ref += on
        assert c.need_lift[cat] == pytest.approx(lift if on else 0.0)
    assert on_ref > 0
    W = fast.W
    on = (W.m_channel[0] >= 0) & ~W.m_muted[0]
    assert on.any()
    assert np.allclose(W.need_lift[on, 0], lift) and not W.need_lift[~on, 0].any()


@pytest.mark.parametrize("value", ["-0.5", str(MAX_NEED_LIFT + 1)])
def test_lift_out_of_range_is_one_line(value, tmp_path: Path, monkeypatch, capsys):
    write(tmp_path, {"s.toml": f"[brands.brand.strategy]\nmember_need_lift = {value}\n"})
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(["run", "s.toml", "--out", OUT, "--no-report"], capsys)
    assert_bad_input(code, err, tmp_path, "s.toml: brands.brand.strategy.member_need_lift: ")
