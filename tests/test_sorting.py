"""`sim.sorting.sort_keys` sorts non-negative integer keys in place, as NumPy's sort would:
by insertion up to `INSERTION_UP_TO` keys and by radix passes above, for the key widths and
array types its callers use (a day's need keys, lifecycle priorities, network ids)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.sorting import DIGIT_BITS, INSERTION_UP_TO, sort_keys


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 2**62), max_size=300),
    st.sampled_from([np.int64, np.int32]),
)
def test_sorts_as_numpy_does(keys: list[int], dtype: type) -> None:
    a = np.array(keys, dtype=np.int64)
    if dtype is np.int32:
        a = (a % 2**31).astype(np.int32)
    want = np.sort(a)
    sort_keys(a)
    assert a.dtype == want.dtype
    assert np.array_equal(a, want)


@pytest.mark.parametrize("n", [0, 1, 2, INSERTION_UP_TO, INSERTION_UP_TO + 1, 5000])
@pytest.mark.parametrize("top", [1, 2**DIGIT_BITS, 2**31 - 1, 2**62])
def test_each_path_and_digit_count(n: int, top: int) -> None:
    rng = np.random.default_rng(n + top)
    a = rng.integers(0, top, n, dtype=np.int64)
    want = np.sort(a)
    sort_keys(a)
    assert np.array_equal(a, want)


def test_a_sorted_run_followed_by_late_keys() -> None:
    """A day's need keys: those listed in index order, then the day's reschedules."""
    rng = np.random.default_rng(3)
    listed = np.sort(rng.choice(30_000_000, 20_000, replace=False))
    a = np.concatenate([listed, rng.integers(0, 30_000_000, 500)])
    want = np.sort(a)
    sort_keys(a)
    assert np.array_equal(a, want)


def test_sorts_a_view_in_place() -> None:
    """The callers sort a slice of a scratch row: the keys beyond it stay as they were."""
    row = np.arange(100, 0, -1, dtype=np.int64)
    sort_keys(row[:60])
    assert np.array_equal(row[:60], np.arange(41, 101))
    assert np.array_equal(row[60:], np.arange(40, 0, -1))


@pytest.mark.parametrize("shift", [1, 3, DIGIT_BITS, DIGIT_BITS + 5, 40])
def test_keys_whose_low_bits_are_all_clear(shift: int) -> None:
    """Digits that no key or only some bits of it use: the passes skipped and kept are the
    right ones."""
    rng = np.random.default_rng(shift)
    a = rng.integers(0, 2**20, 1000, dtype=np.int64) << shift
    want = np.sort(a)
    sort_keys(a)
    assert np.array_equal(a, want)
