"""The fast engine's memory layout (sim.fast.layout): every per consumer × brand field of
World is placed exactly once (a record field or a dense array), the records are one cache
line in consumer-major order, each field starts at its initial value in either layout, and
a market written to its file keeps the record fields as views of one block."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from sim.fast.layout import (
    BRAND_FIELDS,
    BRAND_RECORD,
    CONSUMER_FIELDS,
    CONSUMER_RECORD,
    DENSE_FIELDS,
    LINE,
    World,
    consumer_state,
)
from sim.workshop.marketfile import dumps


def _root(a: np.ndarray) -> np.ndarray:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def test_every_field_is_placed_once_and_is_a_world_field() -> None:
    names = [f[0] for f in CONSUMER_FIELDS + BRAND_FIELDS + DENSE_FIELDS]
    assert len(names) == len(set(names))
    assert set(names) <= set(World._fields)
    for records in (False, True):
        state = consumer_state(3, 10, records)
        assert list(state) == names


def test_records_are_one_line_per_brand_and_sixteen_bytes_per_consumer() -> None:
    assert BRAND_RECORD.itemsize == LINE == 64
    assert CONSUMER_RECORD.itemsize == 16
    nb, n = 3, 1001
    state = consumer_state(nb, n, records=True)
    spend = state["spend"]
    assert spend.shape == (nb, n)
    # consumer-major: brand b of consumer i is record i·nb + b
    assert spend.strides == (LINE, nb * LINE)
    block = _address(_root(spend))
    for name, _, _ in BRAND_FIELDS:
        view = state[name]
        assert view.shape == (nb, n) and view.flags.aligned
        assert _root(view) is _root(spend)  # interleaved: the same block, no common byte
        offset = _address(view) - _address(spend) + BRAND_RECORD.fields["spend"][1]
        assert offset == BRAND_RECORD.fields[name][1]
    start = _address(state["purchases"]) - BRAND_RECORD.fields["purchases"][1]
    assert start % LINE == 0 and start >= block
    for name, _, _ in CONSUMER_FIELDS:
        assert state[name].shape == (n,) and state[name].strides == (16,)
    for name, dtype, _ in DENSE_FIELDS:
        assert state[name].flags.c_contiguous and state[name].dtype == np.dtype(dtype)


@pytest.mark.parametrize("records", [False, True])
@pytest.mark.parametrize("nb, n", [(1, 5), (3, 7), (4, 1)])
def test_fields_start_at_their_initial_values_and_stay_apart(
    nb: int, n: int, records: bool
) -> None:
    state = consumer_state(nb, n, records)
    for name, dtype, fill in CONSUMER_FIELDS + BRAND_FIELDS + DENSE_FIELDS:
        assert state[name].dtype == np.dtype(dtype)
        assert (state[name] == np.array(fill).astype(dtype)).all(), name
    # a write to one field of one record reaches no other field or record
    state["m_eng"][nb - 1, n - 1] = 0.5
    state["source"][0, 0] = 3
    state["alpha"][n - 1] = 2.0
    for name, dtype, fill in CONSUMER_FIELDS + BRAND_FIELDS + DENSE_FIELDS:
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
    assert _root(loaded["purchases"]) is _root(loaded["m_muted"])


def test_dense_fields_are_c_contiguous_arrays_of_their_own() -> None:
    state = consumer_state(3, 20, records=False)
    for name, array in state.items():
        assert array.flags.c_contiguous and array.base is None, name
