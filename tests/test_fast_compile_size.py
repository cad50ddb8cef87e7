"""What a first run compiles stays lean (measurement f, `benchmarks/first_run.py`): the day's
and the set-up's code hold none of the Numba library code that compiled for seconds and
that the kernels do without.

- `dst[:] = src` of arrays compiled Numba's shape-mismatch message, string formatting
  included (`kernels.copy_into` copies instead);
- `array.sort()` compiled Numba's quicksort (`sim.sorting.sort_keys` sorts the keys);
- `rng.integers` compiled NumPy's bounded-integer fill (`kernels.below` draws the same);
- `np.flatnonzero` served a scan that was never reached."""

from __future__ import annotations

import functools
import re

import pytest

from sim.fast import jit
from sim.fast import kernels as K
from tests.helpers import entry_module_text

pytestmark = pytest.mark.skipif(not jit._LINKING, reason="entries compile as Numba's own here")

ABSENT = {
    "string formatting": r"unicode|raise_with_shape_context",
    "Numba's quicksort": r"quicksort",
    "Generator.integers": r"GeneratorType_integers|random_bounded_uint64_fill",
    "np.flatnonzero": r"flatnonzero",
}


@functools.cache
def _defined(entry: str) -> frozenset[str]:
    """The functions a compiled entry point's module defines, by mangled name (read once
    per entry)."""
    text = entry_module_text(getattr(K, entry))
    return frozenset(re.findall(r"^define [^@\n]*@\"?([\w.$]+)", text, re.M))


@pytest.mark.parametrize("what", sorted(ABSENT))
@pytest.mark.parametrize("entry", ["run_days", "initial_funnel", "start_all_needs"])
def test_the_entries_hold_no_library_code_they_do_without(entry: str, what: str) -> None:
    found = sorted(n for n in _defined(entry) if re.search(ABSENT[what], n))
    assert not found, f"{what} compiled into {entry}: {found[:3]}"
