"""How the fast engine compiles (`sim.fast.jit`): helpers are linked into the entry points
that call them, compiled once per argument type (not per constant), and still callable from
Python; the values are those of the plain Python functions."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit
from numba.core import types

from sim import accounting, rules
from sim.fast import jit

pytestmark = pytest.mark.skipif(
    not jit._LINKING, reason="helpers compile as plain functions on this Numba release"
)


@njit
def _entry_books(day):
    """An entry point calling one helper with two different constant columns."""
    jit.accounting.book_cost(day, 0, 3, 1.5)
    jit.accounting.book_cost(day, 1, 4, 2.0)
    return jit.hill(0.5, 1.0, 2.0)


def test_helper_is_compiled_once_for_constant_arguments() -> None:
    day = np.zeros((accounting.COST_TOTAL + 8, 2))
    assert _entry_books(day) == rules.hill(0.5, 1.0, 2.0)
    expected = np.zeros_like(day)
    accounting.book_cost(expected, 0, 3, 1.5)
    accounting.book_cost(expected, 1, 4, 2.0)
    np.testing.assert_array_equal(day, expected)
    sigs = jit.accounting.book_cost.signatures
    assert sigs, "the entry point compiled book_cost into itself"
    assert not any(isinstance(t, types.Literal) for sig in sigs for t in sig), sigs
    assert len(sigs) == 1, sigs


def test_helper_called_from_python_runs_its_twin() -> None:
    """A helper has no machine code of its own (its library links and optimises what it
    calls, for the entry points to link in); called from Python it runs an ordinary
    compiled copy with the same result."""
    helper = jit.rules.hill
    assert isinstance(helper, jit._Helper)
    assert helper(0.25, 1.0, 3.0) == rules.hill(0.25, 1.0, 3.0)
    for cres in helper.overloads.values():
        assert isinstance(cres.library, jit._LinkedLibrary)
