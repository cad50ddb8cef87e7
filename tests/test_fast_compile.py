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
from sim.vocab import State

pytestmark = pytest.mark.skipif(
    not jit._LINKING, reason="helpers compile as plain functions on this Numba release"
)


@njit
def _entry_books(day):
    """An entry point calling one helper with two different constant columns."""
    jit.accounting.book_cost(day, 0, 3, 1.5)
    jit.accounting.book_cost(day, 1, 4, 2.0)
    return jit.hill(0.5, 1.0, 2.0)


def _add(a, b):
    """A helper of two integers (`test_helper_is_compiled_once_for_integer_widths`)."""
    return a + b


_add_helper = jit.helper(_add)


@njit
def _entry_widths(small, big):
    """An entry point calling one helper with int8, int32 and int64 values and an IntEnum
    member."""
    return (
        _add_helper(small[0], big),
        _add_helper(np.int8(-3), big),
        _add_helper(State.MEMBER, small[1]),
        _add_helper(big, big),
    )


def test_helper_is_compiled_once_for_integer_widths() -> None:
    """A narrower signed integer or an enumeration member is passed as int64: one copy of
    the helper, and the sums of the plain function."""
    small = np.array([2**31 - 1, -5], dtype=np.int32)
    got = _entry_widths(small, np.int64(2**40))
    assert got == (_add(2**31 - 1, 2**40), -3 + 2**40, int(State.MEMBER) - 5, 2**41)
    assert _add_helper.signatures == [(types.int64, types.int64)]


def test_unsigned_and_floats_keep_their_types() -> None:
    assert jit._widened(types.uint32) == types.uint32
    assert jit._widened(types.float32) == types.float32
    assert jit._widened(types.boolean) == types.boolean
    assert jit._widened(types.IntegerLiteral(7)) == types.int64


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


def test_helper_has_no_python_or_c_wrapper() -> None:
    """Only compiled code calls a helper (Python calls its twin): its library holds the
    function alone, without the `cpython.` and `cfunc.` wrappers an ordinary compile adds."""
    _entry_books(np.zeros((accounting.COST_TOTAL + 8, 2)))
    for cres in jit.accounting.book_cost.overloads.values():
        names = [
            fn.name
            for fn in cres.library._final_module.functions
            if not fn.is_declaration and "book_cost" in fn.name
        ]
        assert names, "the helper's own function is in its library"
        assert not [n for n in names if n.startswith(("cpython.", "cfunc."))], names
