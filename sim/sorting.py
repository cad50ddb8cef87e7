"""Sorting for compiled code: non-negative integer keys, in place.

Compiled code sorts integer keys in three places: a day's due needs (`i·ncat + cat`,
`kernels.needs_listed`), a guide's members due a lifecycle touch
(`rules.lifecycle_priority`, `kernels.lifecycle_touches`), and a node's ties while the
network is built (`network._group_ties`, `network._attach`). All three are non-negative
integers, so a least-significant-digit radix sort orders them in a few linear passes, and
short arrays by insertion.

Why not NumPy's `sort` under Numba: the result is the same (integers sort to one order),
but Numba compiles its quicksort for each caller's array type, about 1.4 s of a fresh
install's first run (`benchmarks/first_run.py`); and on a day's need keys (a sorted run
followed by the day's reschedules, 47,000 of them a day at 15 million consumers) it took
1.2 ms where this takes 0.45 ms (7.5 ms and 3.0 ms for 255,000).

The network's compiled functions are cached by Numba stamped with network.py alone: after
editing this file, clear `sim/__pycache__` (the fast engine's kernels, stamped with every
source they are built from, `sim.fast.jit`, recompile by themselves).
"""

from __future__ import annotations

import numpy as np
from numba import njit

INSERTION_UP_TO = 32
"""Arrays of at most this many keys are sorted by insertion (no scratch array, no passes)."""

DIGIT_BITS = 8
"""Bits sorted per radix pass: 256 counters, and a pass only for each byte some key uses."""


@njit(cache=True, nogil=True)
def sort_keys(a):
    """Sort the 1-D array `a` of non-negative integers in place, ascending.

    Insertion sort up to `INSERTION_UP_TO` keys; above, an LSD radix sort on `DIGIT_BITS`
    at a time, stable, through one scratch array, skipping the digits no key has set (the
    OR of all keys tells which). A negative key is out of its contract and sorts wrong."""
    n = a.size
    if n <= INSERTION_UP_TO:
        for i in range(1, n):
            v = a[i]
            j = i - 1
            while j >= 0 and a[j] > v:
                a[j + 1] = a[j]
                j -= 1
            a[j + 1] = v
        return
    bits = 0
    for i in range(n):
        bits |= a[i]
    radix = 1 << DIGIT_BITS
    mask = radix - 1
    count = np.empty(radix, dtype=np.int64)
    src = a
    dst = np.empty_like(a)
    in_a = True  # whether the sorted-so-far keys are in `a` (else in the scratch)
    shift = 0
    while shift < 64 and (bits >> shift) != 0:
        if (bits >> shift) & mask:  # some key has a bit in this digit
            for d in range(radix):
                count[d] = 0
            for i in range(n):
                count[(src[i] >> shift) & mask] += 1
            start = 0
            for d in range(radix):
                c = count[d]
                count[d] = start
                start += c
            for i in range(n):
                v = src[i]
                d = (v >> shift) & mask
                dst[count[d]] = v
                count[d] += 1
            src, dst = dst, src
            in_a = not in_a
        shift += DIGIT_BITS
    if not in_a:
        for i in range(n):
            a[i] = src[i]
