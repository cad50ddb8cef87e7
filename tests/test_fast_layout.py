"""The fast engine's memory layout (sim.fast.layout): every per consumer × brand field of
World is placed exactly once (a record field or a dense array), the brand records lie in
consumer-major order (24 bytes, 28 wide) and the membership records in brand-major order
(16 bytes, 20 wide), each field starts at its initial value in either layout, a widened
market keeps its values and its records, and a market written to its file keeps the record
fields as views of their blocks."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from sim.fast.layout import (
    BRAND_FIELDS,
    CONSUMER_FIELDS,
    DENSE_FIELDS,
    LINE,
    MEMBER_FIELDS,
    NARROW,
    World,
    brand_record,
    consumer_state,
    member_record,
    widened,
)
from sim.workshop.marketfile import dumps


def _root(a: np.ndarray) -> np.ndarray:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def test_every_field_is_placed_once_and_is_a_world_field() -> None:
    names = [f[0] for f in CONSUMER_FIELDS + BRAND_FIELDS + MEMBER_FIELDS + DENSE_FIELDS]
    assert len(names) == len(set(names))
    assert set(names) <= set(World._fields)
    for records in (False, True):
        state = consumer_state(3, 10, records)
        assert list(state) == names


@pytest.mark.parametrize("narrow", [False, True])
def test_records_are_consumer_major_and_consumers_dense(narrow: bool) -> None:
    record = brand_record(narrow)
    assert record.itemsize == (24 if narrow else 28)
    nb, n = 3, 1001
    state = consumer_state(nb, n, records=True, narrow=narrow)
    spend = state["spend"]
    assert spend.shape == (nb, n)
    # consumer-major: brand b of consumer i is record i·nb + b
    size = record.itemsize
    assert spend.strides == (size, nb * size)
    block = _address(_root(spend))
    for name, _, _ in BRAND_FIELDS:
        view = state[name]
        assert view.shape == (nb, n) and view.flags.aligned
        assert view.dtype == np.dtype("i2" if narrow and name in NARROW else record[name])
        assert _root(view) is _root(spend)  # interleaved: the same block, no common byte
        offset = _address(view) - _address(spend) + record.fields["spend"][1]
        assert offset == record.fields[name][1]
    start = _address(state["purchases"]) - record.fields["purchases"][1]
    assert start % LINE == 0 and start >= block
    # brand-major: member record b·n + i, four narrow records to a cache line
    member = member_record(narrow)
    assert member.itemsize == (16 if narrow else 20)
    eng = state["m_eng"]
    assert eng.strides == (n * member.itemsize, member.itemsize)
    for name, _, _ in MEMBER_FIELDS:
        view = state[name]
        assert view.shape == (nb, n) and view.flags.aligned
        assert view.dtype == np.dtype("i2" if narrow and name in NARROW else member[name])
        assert _root(view) is _root(eng) and _root(view) is not _root(spend)
        offset = _address(view) - _address(eng) + member.fields["m_eng"][1]
        assert offset == member.fields[name][1]
    assert (_address(eng) - member.fields["m_eng"][1]) % LINE == 0
    for name, dtype, _ in CONSUMER_FIELDS:
        assert state[name].shape == (n,) and state[name].flags.c_contiguous
        assert state[name].dtype == np.dtype(dtype)
    for name, dtype, _ in DENSE_FIELDS:
        wanted = "i2" if narrow and name in NARROW else dtype
        assert state[name].flags.c_contiguous and state[name].dtype == np.dtype(wanted)


@pytest.mark.parametrize("records", [False, True])
def test_widening_keeps_every_value_and_the_records_together(records: bool) -> None:
    nb, n = 2, 9
    state = consumer_state(nb, n, records=records, narrow=True)
    rng = np.random.default_rng(0)
    for array in state.values():
        array[...] = rng.integers(-100, 100, array.shape).astype(array.dtype)
    before = {name: array.copy() for name, array in state.items()}
    wide = widened(state, records)
    assert set(wide) >= set(NARROW)
    state.update(wide)
    for name, array in state.items():
        assert (array == before[name]).all(), name
        if name in NARROW:
            assert array.dtype == np.int32
    if records:  # every record field a view of its one new block, at the wide record's places
        root = _root(state["purchases"])
        for name, _, _ in BRAND_FIELDS:
            assert _root(state[name]) is root
            assert state[name].strides == (28, nb * 28)
        root = _root(state["m_eng"])
        for name, _, _ in MEMBER_FIELDS:
            assert _root(state[name]) is root
            assert state[name].strides == (n * 20, 20)


@pytest.mark.parametrize("records", [False, True])
@pytest.mark.parametrize("nb, n", [(1, 5), (3, 7), (4, 1)])
def test_fields_start_at_their_initial_values_and_stay_apart(
    nb: int, n: int, records: bool
) -> None:
    state = consumer_state(nb, n, records)
    for name, dtype, fill in CONSUMER_FIELDS + BRAND_FIELDS + MEMBER_FIELDS + DENSE_FIELDS:
        assert state[name].dtype == np.dtype(dtype)
        assert (state[name] == np.array(fill).astype(dtype)).all(), name
    # a write to one field of one record reaches no other field or record
    state["m_eng"][nb - 1, n - 1] = 0.5
    state["source"][0, 0] = 3
    state["alpha"][n - 1] = 2.0
    for name, dtype, fill in CONSUMER_FIELDS + BRAND_FIELDS + MEMBER_FIELDS + DENSE_FIELDS:
        expected = np.full(state[name].shape, fill, dtype=dtype)
        if name == "m_eng":
            expected[nb - 1, n - 1] = 0.5
        elif name == "source":
            expected[0, 0] = 3
        elif name == "alpha":
            expected[n - 1] = 2.0
        assert (state[name] == expected).all(), name


def test_a_saved_market_keeps_record_fields_as_views_of_one_block() -> None:
    state = consumer_state(2, 50, records=True)
    state["spend"][1, 7] = 12.5
    loaded = pickle.loads(dumps(state))
    for name in state:
        assert loaded[name].dtype == state[name].dtype
        assert loaded[name].strides == state[name].strides
        assert (loaded[name] == state[name]).all()
    assert np.may_share_memory(loaded["spend"], loaded["purchases"])
    loaded["purchases"][1, 7] = 4
    assert loaded["spend"][1, 7] == np.float32(12.5)
    assert _root(loaded["purchases"]) is _root(loaded["source"])
    assert _root(loaded["m_eng"]) is _root(loaded["m_muted"])
    loaded["m_muted"][1, 7] = True
    assert loaded["m_eng"][1, 7] == 0 and loaded["m_fat"][1, 7] == 0


def test_dense_fields_are_c_contiguous_arrays_of_their_own() -> None:
    state = consumer_state(3, 20, records=False)
    for name, array in state.items():
        assert array.flags.c_contiguous and array.base is None, name


def test_a_struct_holds_one_reference_to_each_array_while_it_lives() -> None:
    """`as_struct` stores each field of the layout tuple and takes its reference once
    (`layout._struct_from_tuple`); the struct's destructor gives them back."""
    import gc
    import sys

    from sim.fast import FastModel
    from sim.fast.layout import as_struct
    from sim.runner import run_rng
    from sim.scenario import load_scenario

    model = FastModel(load_scenario("beauty_guides", {"run.consumers": 300}), run_rng(0))
    for group in (model.W, model.B, model.G):
        arrays = [v for v in group if isinstance(v, np.ndarray)]
        before = [sys.getrefcount(a) for a in arrays]
        struct = as_struct(group)
        assert [sys.getrefcount(a) for a in arrays] == [n + 1 for n in before]
        del struct
        gc.collect()
        assert [sys.getrefcount(a) for a in arrays] == before
