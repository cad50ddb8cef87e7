"""The fast engine's own draws against the Generator's: the inlined PCG64 uniform
(`sim.fast.kernels.uniform`) against NumPy's doubles, and the allocation-free bounded
integer (`sim.fast.kernels.below`) against Numba's `Generator.integers`: the same values and
the same state, draw by draw, interleaved with the Generator's own draws (the kernels mix
them on one stream)."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from sim.fast.kernels import below, held_below, uniform
from sim.streams import state_views


@njit(cache=False)
def _interleaved(rng, n):
    """n pairs: a draw by `uniform`, then one by the Generator itself."""
    out = np.empty(2 * n)
    for k in range(n):
        out[2 * k] = uniform(rng)
        out[2 * k + 1] = rng.random()
    return out


def _states() -> list[np.random.Generator]:
    """Generators at varied states: seeded, and written word by word (high bits set in
    state and increment, so the 128-bit carry and the rotation's whole range are used)."""
    gens = [np.random.Generator(np.random.PCG64(seed)) for seed in (0, 1, 12345, 2**63 + 7)]
    for state, inc in (((1 << 128) - 1, (1 << 128) - 1), (1 << 127, 1), (3, (1 << 64) + 1)):
        g = np.random.Generator(np.random.PCG64(0))
        g.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": state, "inc": inc},
            "has_uint32": 0,
            "uinteger": 0,
        }
        gens.append(g)
    return gens


def test_uniform_draws_numpys_doubles_and_state() -> None:
    n = 5000
    for gen in _states():
        twin = np.random.Generator(np.random.PCG64(0))
        twin.bit_generator.state = gen.bit_generator.state
        got = _interleaved(gen, n)
        want = twin.random(2 * n)
        assert np.array_equal(got, want)
        assert gen.bit_generator.state == twin.bit_generator.state


def test_uniform_keeps_the_buffered_half_word() -> None:
    """A buffered 32-bit half (`integers` of 32 bits leaves one) is neither used nor
    cleared by a double draw, as in NumPy."""
    gen = np.random.Generator(np.random.PCG64(99))
    gen.integers(0, 2**32, dtype=np.uint32)
    twin = np.random.Generator(np.random.PCG64(0))
    twin.bit_generator.state = gen.bit_generator.state
    _, flags = state_views(gen)
    assert flags[2] == 1
    got = _interleaved(gen, 3)
    want = twin.random(6)
    assert np.array_equal(got, want)
    assert gen.bit_generator.state == twin.bit_generator.state
    assert gen.integers(0, 2**32, dtype=np.uint32) == twin.integers(0, 2**32, dtype=np.uint32)


@njit(cache=False)
def _bounded(rng, m, n, ours):
    """n integers below m, by `below` (ours) or by Numba's `integers`, each followed by a
    double from the Generator (so a buffered 32-bit half is kept across draws)."""
    out = np.empty(2 * n)
    for k in range(n):
        out[2 * k] = below(rng, m) if ours else rng.integers(0, m)
        out[2 * k + 1] = rng.random()
    return out


# bounds: no draw (1), the buffered 32-bit Lemire path, its edge where m − 1 is 2³² − 1
# (a plain 32-bit half), and the 64-bit Lemire path
BOUNDS = (1, 2, 3, 7, 1000, 1_000_003, 2**31 + 11, 2**32 - 1, 2**32, 2**32 + 1, 2**40 + 5)


@pytest.mark.parametrize("m", BOUNDS)
def test_below_draws_numbas_integers(m: int) -> None:
    for gen in _states():
        twin = np.random.Generator(np.random.PCG64(0))
        twin.bit_generator.state = gen.bit_generator.state
        got = _bounded(gen, m, 700, True)
        want = _bounded(twin, m, 700, False)
        assert np.array_equal(got, want)
        assert gen.bit_generator.state == twin.bit_generator.state
        assert got[::2].min() >= 0 and got[::2].max() < m


def test_below_refuses_an_empty_range() -> None:
    with pytest.raises(ValueError, match="low is greater than high"):
        _bounded(np.random.default_rng(1), 0, 1, True)


@njit(cache=False)
def _held_then_drawn(rng, W, m, n):
    """n rounds of: the guess `held_below` makes, then the value `below` draws, then a
    double (which leaves a buffered half as it is)."""
    out = np.empty((n, 2), dtype=np.int64)
    for k in range(n):
        out[k, 0] = held_below(W, m)
        out[k, 1] = below(rng, m)
        rng.random()
    return out


@pytest.mark.parametrize("m", BOUNDS)
def test_a_held_draw_is_guessed_exactly_and_nothing_drawn(m: int) -> None:
    """`held_below` returns what the next `below` draws wherever the Generator holds a
    buffered half and Lemire's method takes it (up to every other draw, for bounds up to
    2³² − 1), −1 elsewhere, and draws nothing: the Generator's stream is the one `below`
    alone gives."""
    from collections import namedtuple

    for gen in _states():
        twin = np.random.Generator(np.random.PCG64(0))
        twin.bit_generator.state = gen.bit_generator.state
        _, flags = state_views(gen)
        W = namedtuple("W", "draw_flags")(flags)
        rounds = _held_then_drawn(gen, W, m, 2000)
        held = rounds[:, 0] >= 0
        assert np.array_equal(rounds[held, 0], rounds[held, 1])
        assert np.array_equal(rounds[:, 1], _bounded(twin, m, 2000, True)[::2].astype(np.int64))
        assert gen.bit_generator.state == twin.bit_generator.state
        if 1 < m <= 2**32 - 1:  # the buffered path: up to every other draw is held
            assert 0.2 < held.mean() < 0.6
        else:
            assert not held.any()
