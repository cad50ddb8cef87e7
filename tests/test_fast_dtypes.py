"""The fast engine's World holds what a run can use: the arrays of a mechanism no brand can
use get no consumers (`layout.UNUSED_WHEN_OFF`), the network's row pointers are int32 where
the ties fit, the day stamps, guide indices and friend counts of `layout.NARROW` are int16
where the run's bounds fit, and none of it changes a run: the same ledger and the same state
as with every array at full size (`FastModel(lean=False)`) and every field wide
(`FastModel(narrow=False)`), also when a strategy turns a mechanism on during the run or a
bound passes int16 (the fields are widened then)."""

from __future__ import annotations

import numpy as np
import pytest

from sim import network
from sim.fast import FastModel, layout
from sim.fast.layout import NARROW, UNUSED_WHEN_OFF
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


def _dtypes(model: FastModel) -> set[np.dtype]:
    return {getattr(model.W, name).dtype for name in NARROW}


def _same_run(a: FastModel, b: FastModel) -> None:
    """Two models with the same arrays left out hold the same values in every World array
    (whatever their dtypes) and the same ledger."""
    assert a._unused == b._unused
    for field, value in a.W._asdict().items():
        if isinstance(value, np.ndarray) and field not in ("draw_words", "draw_flags"):
            np.testing.assert_array_equal(value, getattr(b.W, field), err_msg=field)
    assert a.ledger.to_frame().equals(b.ledger.to_frame())


def test_narrow_fits_holds_every_bound_within_int16():
    assert layout.narrow_fits(2047) and not layout.narrow_fits(2048)  # the join stamp
    assert layout.narrow_fits(30, guides=32767, capacity=32767, degree=32767)
    assert not layout.narrow_fits(30, guides=32768)
    assert not layout.narrow_fits(30, capacity=32768)
    assert not layout.narrow_fits(30, degree=32768)
    assert np.iinfo(np.int16).min == layout.NO_COHORT


@pytest.mark.parametrize("name", ["beauty_guides", "fission_hunters", "lifecycle_guides"])
def test_narrow_fields_are_int16_and_a_wide_run_is_the_same(name):
    """Guides (m_guide, m_gpos), joins and engagement (m_joined, m_upd), cohorts, the
    shop habit and word of mouth's friend counts, int16 against int32: same state, same
    ledger."""
    start = {"aware": 0.3, "customers": 0.1, "members": 0.03}
    over = {f"brands.brand.initial.{k}": v for k, v in start.items()}
    sc = load_scenario(name, {"run.consumers": 500, "run.days": 60, **over})
    narrow, wide = FastModel(sc, run_rng(3)), FastModel(sc, run_rng(3), narrow=False)
    assert _dtypes(narrow) == {np.dtype(np.int16)} and _dtypes(wide) == {np.dtype(np.int32)}
    narrow.run()
    wide.run()
    assert (narrow.W.m_guide >= 0).any() and (narrow.W.cohort_day >= 0).any()
    assert (narrow.W.advocates > 0).any() and (narrow.W.m_joined > 0).any()
    _same_run(narrow, wide)
    assert _dtypes(narrow) == {np.dtype(np.int16)}


def test_a_run_longer_than_int16_holds_is_wide_from_the_start():
    sc = load_scenario("public_only", {"run.consumers": 200, "run.days": 2048})
    assert _dtypes(FastModel(sc, run_rng(1))) == {np.dtype(np.int32)}


def test_a_consumer_with_more_ties_than_int16_holds_widens_the_fields_before_the_run(
    monkeypatch,
):
    sc = load_scenario("beauty_guides", {"run.consumers": 400, "run.days": 30})
    wide = FastModel(sc, run_rng(5), narrow=False)
    monkeypatch.setattr(network.Network, "max_degree", lambda self: 2**15)
    widened = FastModel(sc, run_rng(5))
    assert _dtypes(widened) == {np.dtype(np.int32)}
    widened.run()
    wide.run()
    _same_run(widened, wide)


def test_a_re_staffing_past_int16_widens_the_fields_and_the_run_goes_on_the_same():
    """beauty_guides' guides, their capacity raised to 40,000 members on day 15: m_gpos must
    then hold positions past int16, so every narrow field becomes int32, values kept, and the
    run ends where a run wide from the start ends."""
    sc = load_scenario("beauty_guides", {"run.consumers": 500, "run.days": 45})
    narrow, wide = FastModel(sc, run_rng(4)), FastModel(sc, run_rng(4), narrow=False)
    st = narrow.strategy(0).model_copy(update={"guide_capacity": 40_000})
    for model in (narrow, wide):
        for _ in range(15):
            model.step()
        model.set_strategy(0, st)
    assert _dtypes(narrow) == {np.dtype(np.int32)} and narrow.W.g_cap.max() == 40_000
    for model in (narrow, wide):
        model.run()
    assert (narrow.W.m_guide >= 0).any()  # members joined the new guides
    _same_run(narrow, wide)
