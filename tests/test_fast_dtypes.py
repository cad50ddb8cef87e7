"""The fast engine's World holds what a run can use: the arrays of a mechanism no brand can
use get no consumers (`layout.UNUSED_WHEN_OFF`), the network's row pointers are int32 where
the ties fit, and neither changes a run: the same ledger and the same state as with every
array at full size (`FastModel(lean=False)`), also when a strategy turns a mechanism on
during the run."""

from __future__ import annotations

import numpy as np
import pytest

from sim import network
from sim.fast import FastModel
from sim.fast.layout import UNUSED_WHEN_OFF
from sim.rules import WELCOMED_BEFORE_RUN
from sim.runner import run_rng
from sim.scenario import load_scenario


def _same_state(lean: FastModel, full: FastModel) -> None:
    """The two models hold the same World and the same ledger; an array the lean model
    still leaves without consumers holds only its initial value in the full one (m_life:
    what the lean model would rebuild were lifecycle targeting turned on now)."""
    for field, value in lean.W._asdict().items():
        if field == "m_life" and field in lean._unused:  # what a switch would rebuild
            np.testing.assert_array_equal(lean._lifecycle_days(), full.W.m_life)
        elif field in lean._unused:
            initial = {"m_gpos": -1, "birthday": -1}.get(field, 0)
            assert (getattr(full.W, field) == initial).all(), field
        elif isinstance(value, np.ndarray) and field not in ("draw_words", "draw_flags"):
            np.testing.assert_array_equal(value, getattr(full.W, field), err_msg=field)
    assert lean.ledger.to_frame().equals(full.ledger.to_frame())


PER_CONSUMER = ("need_lift", "dm_due", "dm_list", "birthday")
"""The fields of UNUSED_WHEN_OFF whose first axis is the consumers'."""
ALL = frozenset(UNUSED_WHEN_OFF)


def _consumers(model: FastModel, field: str) -> int:
    """The consumers an array of UNUSED_WHEN_OFF has room for."""
    a = getattr(model.W, field)
    return a.shape[0] if field in PER_CONSUMER else a.shape[1]


@pytest.mark.parametrize(
    ("name", "unused"),
    [
        ("public_only", ALL),  # ads and word of mouth only
        ("beauty_guides", ALL - {"m_gpos"}),  # guides
        ("demand_expansion", ALL - {"need_lift", "dm_due", "dm_list"}),
        ("fission_hunters", ALL - {"m_gpos"}),
        ("employee_distributors", ALL - {"koc_reach"}),
        ("lifecycle_guides", ALL - {"birthday", "m_gpos", "m_life"}),
    ],
)
def test_unused_arrays_hold_no_consumers_and_change_nothing(name, unused):
    sc = load_scenario(name, {"run.consumers": 400, "run.days": 40})
    lean, full = FastModel(sc, run_rng(2)), FastModel(sc, run_rng(2), lean=False)
    n = sc.run.consumers
    assert lean._unused == unused and full._unused == frozenset()
    for field in UNUSED_WHEN_OFF:
        assert _consumers(lean, field) == (0 if field in unused else n), field
        assert _consumers(full, field) == n, field
    lean.run()
    full.run()
    _same_state(lean, full)


def test_a_strategy_that_turns_mechanisms_on_first_gives_their_arrays_room():
    """public_only's brand starts with nothing but ads; from day 15 a strategy with guides,
    KOCs, demand expansion and lifecycle touches (birthdays included): the lean model gives
    those arrays their consumers then, and ends where the full-sized one ends."""
    stores = {"brands.brand.stores": 4, "brands.brand.store_coverage": 0.5}
    sc = load_scenario("public_only", {"run.consumers": 500, "run.days": 45, **stores})
    lean, full = FastModel(sc, run_rng(4)), FastModel(sc, run_rng(4), lean=False)
    assert {"need_lift", "koc_reach", "birthday", "m_gpos", "m_life"} <= lean._unused
    st = lean.strategy(0).model_copy(
        update={
            "private_ops": True,
            "guides_per_store": 1.0,
            "koc_count": 3.0,
            "member_need_lift": 0.5,
            "touch_targeting": "lifecycle",
            "birthday_days": 3,
            "package_card_rate": 0.5,
        }
    )
    for model in (lean, full):
        for _ in range(15):
            model.step()
        model.set_strategy(0, st)
    assert not lean._unused & {"need_lift", "koc_reach", "birthday", "m_gpos", "m_life"}
    for model in (lean, full):
        model.run()
    assert lean.W.g_brand.size > 0 and lean.W.d_brand.size > 0  # guides and KOCs came
    assert (lean.W.birthday >= 0).all()  # drawn
    _same_state(lean, full)


@pytest.mark.parametrize("switch_day", [1, 12])
def test_lifecycle_days_from_before_the_switch_are_what_the_full_array_held(switch_day):
    """beauty_guides with members from before the run, its guides switched to lifecycle
    targeting during the run: m_life, left out until then, is rebuilt exactly (members
    from before the run who still hold that membership: welcomed before the run), and the
    run goes on as with the array kept all along."""
    start = {"aware": 0.5, "customers": 0.2, "members": 0.06}
    over = {f"brands.brand.initial.{k}": v for k, v in start.items()}
    sc = load_scenario("beauty_guides", {"run.consumers": 600, "run.days": 40, **over})
    lean, full = FastModel(sc, run_rng(6)), FastModel(sc, run_rng(6), lean=False)
    assert "m_life" in lean._unused and lean._welcomed[0].size > 0
    st = lean.strategy(0).model_copy(
        update={"touch_targeting": "lifecycle", "welcome_days": 30, "birthday_days": 2}
    )
    for model in (lean, full):
        for _ in range(switch_day):
            model.step()
        model.set_strategy(0, st)
    assert "m_life" not in lean._unused
    assert (lean.W.m_life == WELCOMED_BEFORE_RUN).any()
    np.testing.assert_array_equal(lean.W.m_life, full.W.m_life)
    for model in (lean, full):
        model.run()
    _same_state(lean, full)


def test_row_pointers_are_int32_where_the_ties_fit_and_int64_gives_the_same():
    sc = load_scenario("public_only", {"run.consumers": 300})
    rng = np.random.default_rng(7)
    narrow = network.build_network(sc.network, 300, rng)
    assert narrow.indptr.dtype == np.int32
    assert network._indptr_dtype(2**31 - 1) is np.int32
    assert network._indptr_dtype(2**31) is np.int64
    wide_types = pytest.MonkeyPatch()
    wide_types.setattr(network, "_indptr_dtype", lambda ends: np.int64)
    try:
        wide = network.build_network(sc.network, 300, np.random.default_rng(7))
    finally:
        wide_types.undo()
    assert wide.indptr.dtype == np.int64
    np.testing.assert_array_equal(wide.indptr, narrow.indptr)
    np.testing.assert_array_equal(wide.indices, narrow.indices)
