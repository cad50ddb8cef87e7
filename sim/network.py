"""The consumers' social network as arrays (CSR adjacency), built from the run's Generator.

Arrays rather than a graph library keep construction reproducible, compact and fast at
large populations; both engines read the same structure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np

from sim.hints import prefetch
from sim.params import NetworkParams
from sim.sorting import sort_keys


@dataclass(frozen=True)
class Network:
    """Undirected graph in CSR form: the friends of i are indices[indptr[i]:indptr[i+1]].

    `mixing` marks the random-mixing limit (no explicit ties): word of mouth then sees
    the whole population.
    """

    n: int
    indptr: np.ndarray
    indices: np.ndarray
    mixing: bool = False

    def friends(self, i: int) -> np.ndarray:
        return self.indices[self.indptr[i] : self.indptr[i + 1]]

    def degree(self) -> np.ndarray:
        return np.diff(self.indptr)

    def max_degree(self, chunk: int = 1 << 22) -> int:
        """The most ties any consumer has (0 without ties), a chunk of rows at a time: no
        array of every consumer's degree is made."""
        top = 0
        for lo in range(0, self.indptr.size - 1, chunk):
            top = max(top, int(np.diff(self.indptr[lo : lo + chunk + 1]).max()))
        return top


# Construction runs in numba kernels over compact arrays, so that a network of tens of
# millions of consumers builds in seconds. Every random number is still drawn through the
# run's Generator by the same calls, in the same order and with the same results, as the
# plain NumPy construction these kernels replace (tests/test_network_scale.py keeps that
# version and checks both agree exactly, Generator state included).

_CHUNK = 1 << 22  # draws per NumPy call: bounds the temporaries, and yields the same stream
# numba's Generator.integers draws what NumPy's does while high - low - 1 fits in 32 bits
# (both then use Lemire's method on 32-bit draws); beyond that their 64-bit paths differ
_NUMBA_SAME_RANGE = 0xFFFFFFFF
_AHEAD = 128
"""Ties ahead whose far end's counters the construction requests (`sim.hints.prefetch`):
the ring's ties are near their node, the rewired ones anywhere. Measured at 15,000,000
consumers (small world, degree 10, 10% rewired): grouping and CSR took 2.0 + 2.1 s without
the requests, 1.6 + 1.7 s 16 ties ahead, 1.3 + 1.1 s 128 ahead, the same 256 ahead."""


def _id_dtype(n: int) -> type:
    """The narrowest integer type that holds every node id."""
    return np.int32 if n <= np.iinfo(np.int32).max else np.int64


@numba.njit(cache=True, nogil=True)
def _group_ties(n, src, dst, half):
    """Each distinct tie once as (lo, hi), lo < hi, grouped by lo: the his of lo are
    grp[gptr[lo]:gptr[lo + 1]], ascending. Self-loops are dropped. Tie t joins src[t] and
    dst[t], or t // half and dst[t] when half > 0 (src is then not read)."""
    gptr = np.zeros(n + 1, np.int64)
    step = max(half, 1)  # ties t of node a = t // half: a·half .. a·half + half − 1
    m = dst.size
    for t0 in range(0, m, step):
        for t in range(t0, min(t0 + step, m)):
            if t + _AHEAD < m:  # a rewired (or random) tie's end is a miss: request it early
                prefetch(gptr, np.int64(dst[t + _AHEAD]) + 1)
            a = t0 // half if half > 0 else np.int64(src[t])
            b = np.int64(dst[t])
            if a != b:
                gptr[min(a, b) + 1] += 1
    for i in range(n):
        gptr[i + 1] += gptr[i]
    grp = np.empty(gptr[n], dst.dtype)
    for t0 in range(0, m, step):  # counting sort by lo: gptr[lo] walks lo's group
        for t in range(t0, min(t0 + step, m)):
            if t + _AHEAD < m:
                prefetch(gptr, np.int64(dst[t + _AHEAD]))
            a = t0 // half if half > 0 else np.int64(src[t])
            b = np.int64(dst[t])
            if a != b:
                lo, hi = min(a, b), max(a, b)
                grp[gptr[lo]] = hi
                gptr[lo] += 1
    for i in range(n, 0, -1):  # gptr[lo] now ends lo's group: shift back to starts
        gptr[i] = gptr[i - 1]
    gptr[0] = 0
    w = 0  # sort each group, drop repeated ties, and close the gaps they leave
    start = 0
    for lo in range(n):
        stop = gptr[lo + 1]
        g = grp[start:stop]
        sort_keys(g)
        gptr[lo] = w
        for j in range(g.size):
            if j == 0 or g[j] != grp[w - 1]:
                grp[w] = g[j]
                w += 1
        start = stop
    gptr[n] = w
    return gptr, grp[:w]


def _indptr_dtype(ends: int) -> type:
    """The row pointers' dtype: int32 while the tie ends (twice the ties) fit in it, as
    they do far beyond 50 million consumers at the shipped degrees (4 bytes a consumer
    less), int64 beyond (a second compiled form of the code that reads them)."""
    return np.int32 if ends <= np.iinfo(np.int32).max else np.int64


def _csr_from_groups(n: int, gptr: np.ndarray, grp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(indptr, indices) of `_fill_csr`, indptr in the narrowest dtype that holds the
    2 · ties tie ends (`_indptr_dtype`), allocated at that dtype (no wider copy made)."""
    indptr = np.zeros(n + 1, _indptr_dtype(2 * int(gptr[n])))
    return indptr, _fill_csr(n, gptr, grp, indptr)


@numba.njit(cache=True, nogil=True)
def _fill_csr(n, gptr, grp, indptr):
    """Symmetric CSR from distinct ties grouped by one end, ascending, with the other ends of
    each group ascending and all above the group's node, or all below it. Filling rows in
    group order then leaves every row sorted: a node's lower friends arrive (ascending)
    before its higher ones (ascending). Fills indptr (zeros, n + 1) and returns indices."""
    ends = grp.size
    for g in range(n):
        indptr[g + 1] += gptr[g + 1] - gptr[g]
        for p in range(gptr[g], gptr[g + 1]):
            if p + _AHEAD < ends:  # a rewired tie's far end is a miss: request it early
                prefetch(indptr, grp[p + _AHEAD] + 1)
            indptr[grp[p] + 1] += 1
    for i in range(n):
        indptr[i + 1] += indptr[i]
    indices = np.empty(indptr[n], np.int32)
    for g in range(n):  # indptr[i] walks row i (g's in a register: no tie joins g to g)
        w = indptr[g]
        for p in range(gptr[g], gptr[g + 1]):
            if p + _AHEAD < ends:  # the far end's row pointer, then (nearer) its row's slot
                prefetch(indptr, grp[p + _AHEAD])
            if p + _AHEAD // 2 < ends:
                prefetch(indices, indptr[grp[p + _AHEAD // 2]])
            other = grp[p]
            indices[w] = other
            w += 1
            indices[indptr[other]] = g
            indptr[other] += 1
        indptr[g] = w
    for i in range(n, 0, -1):
        indptr[i] = indptr[i - 1]
    indptr[0] = 0
    return indices


def _csr_from_edges(n: int, a: np.ndarray, b: np.ndarray) -> Network:
    """Symmetric CSR from an edge list, dropping self-loops and duplicate ties."""
    a = np.asarray(a, dtype=np.int64)
    gptr, grp = _group_ties(n, a, np.asarray(b, dtype=np.int64), 0)
    return Network(n, *_csr_from_groups(n, gptr, grp))


@numba.njit(cache=True, nogil=True)
def _ring(dst, n, half):
    """Tie t = i * half + j - 1 of the ring joins i to (i + j) % n (no division per tie)."""
    t = 0
    for i in range(dst.size // half):
        for j in range(1, half + 1):
            far = i + j
            dst[t] = far % n if far >= n else far
            t += 1


@numba.njit(cache=True, nogil=True)
def _rewire(dst, moved, targets, t):
    """Give the next len(targets) moved ties, from tie t on, their new far ends."""
    for target in targets:
        while not moved[t]:
            t += 1
        dst[t] = target
        t += 1
    return t


def small_world(n: int, mean_degree: int, rewire: float, rng: np.random.Generator) -> Network:
    """Watts & Strogatz (1998): a ring where each node ties to its k/2 nearest on each side,
    each tie's far end rewired to a uniform random node with probability `rewire`."""
    half = max(mean_degree // 2, 1)
    ties = n * half
    dst = np.empty(ties, dtype=_id_dtype(n))
    _ring(dst, n, half)
    # the draws of rng.random(ties) and then rng.integers(0, n, n_moved), in chunks
    moved = np.empty(ties, dtype=bool)
    for lo in range(0, ties, _CHUNK):
        np.less(rng.random(min(_CHUNK, ties - lo)), rewire, out=moved[lo : lo + _CHUNK])
    n_moved = int(np.count_nonzero(moved))
    t = 0
    for lo in range(0, n_moved, _CHUNK):
        t = _rewire(dst, moved, rng.integers(0, n, min(_CHUNK, n_moved - lo)), t)
    del moved
    gptr, grp = _group_ties(n, np.empty(0, dst.dtype), dst, half)
    del dst
    return Network(n, *_csr_from_groups(n, gptr, grp))


@numba.njit(cache=True)
def _attach(rng, ends, gptr, m, node, n_ends, limit):
    """Preferential attachment from `node` on (see `_scale_free`), drawing through rng as
    NumPy would; stops early, before a draw whose range exceeds `limit`."""
    n = gptr.size - 1
    buf = np.empty(2 * m, ends.dtype)
    while node < n:
        if n_ends - 1 > limit:
            break
        idx = rng.integers(0, n_ends, 2 * m)
        for j in range(2 * m):
            buf[j] = ends[idx[j]]
        sort_keys(buf)
        k = 0  # the m smallest distinct sampled ends
        for j in range(2 * m):
            if k == 0 or buf[j] != ends[n_ends + k - 1]:
                ends[n_ends + k] = buf[j]
                k += 1
                if k == m:
                    break
        for j in range(k):
            ends[n_ends + k + j] = node
        n_ends += 2 * k
        gptr[node + 1] = gptr[node] + k
        node += 1
    return node, n_ends


@numba.njit(cache=True, nogil=True)
def _targets_only(ends, gptr, m):
    """Pack each node's targets (the first half of its block of tie ends) to the front."""
    for node in range(m, gptr.size - 1):
        k = gptr[node + 1] - gptr[node]
        for j in range(k):
            ends[gptr[node] + j] = ends[2 * gptr[node] + j]


def scale_free(n: int, mean_degree: int, rng: np.random.Generator) -> Network:
    """Barabási & Albert (1999): each new node ties to m = k/2 existing nodes chosen with
    probability proportional to degree (sampling from the list of tie ends)."""
    return _scale_free(n, mean_degree, rng)


def _scale_free(
    n: int, mean_degree: int, rng: np.random.Generator, numba_limit: int = _NUMBA_SAME_RANGE
) -> Network:
    """`scale_free`; draws whose range exceeds `numba_limit` are left to NumPy (a parameter
    so that the tests can reach that path at small sizes)."""
    m = max(mean_degree // 2, 1)
    if n <= m:
        return small_world(n, mean_degree, 0.0, rng)
    # ends lists every tie's two ends, node by node: its targets, then itself once per target
    ends = np.empty(2 * m * (n - m), dtype=_id_dtype(n))
    gptr = np.zeros(n + 1, dtype=np.int64)  # node's targets: gptr[node]:gptr[node + 1]
    ends[:m] = np.arange(m)  # the first node ties to the seed nodes, without a draw
    ends[m : 2 * m] = m
    gptr[m + 1] = m
    node, n_ends = _attach(rng, ends, gptr, m, m + 1, 2 * m, numba_limit)
    while node < n:  # beyond numba's exact range (over 2**32 tie ends): NumPy, as it was
        targets = np.unique(ends[rng.integers(0, n_ends, 2 * m)])[:m]
        k = targets.size
        ends[n_ends : n_ends + k] = targets
        ends[n_ends + k : n_ends + 2 * k] = node
        n_ends += 2 * k
        gptr[node + 1] = gptr[node] + k
        node += 1
    _targets_only(ends, gptr, m)  # tie i joins targets[i] to the node whose range holds i
    grp = ends[: gptr[n]]
    return Network(n, *_csr_from_groups(n, gptr, grp))


def compile_ahead(idle: Callable[[], bool]) -> None:
    """Compile, into Numba's disk cache, the kernels a network's build calls after the ring
    and its rewiring, for a market's usual types (int32 ids and row pointers), in the order
    the build needs them, each only while `idle()`. The second compiling process of a first
    run calls it while the run imports and starts its build (`sim.fast.early`): the run,
    reaching them, loads them instead of compiling them (tests/test_launch.py checks they
    are the ones a build compiles)."""
    ids, ptr = _id_dtype(0), _indptr_dtype(0)
    steps = (
        lambda: sort_keys(np.zeros(0, ids)),  # each node's ties (`_group_ties`)
        lambda: _fill_csr(0, np.zeros(1, np.int64), np.zeros(0, ids), np.zeros(1, ptr)),
    )
    for step in steps:
        if not idle():
            return
        step()


def build_network(params: NetworkParams, n: int, rng: np.random.Generator) -> Network:
    """The network a scenario asks for."""
    if params.kind == "complete":
        return Network(n, np.zeros(n + 1, dtype=np.int32), np.zeros(0, dtype=np.int32), True)
    if params.kind == "scale_free":
        return scale_free(n, params.mean_degree, rng)
    return small_world(n, params.mean_degree, params.rewire, rng)


@numba.njit(cache=True)
def _circle(indptr, indices, n, centre, size, rng):
    """`circle` on ties, drawing through rng what NumPy would: each node's friends in a
    `permutation` (numba's is NumPy's shuffle, draw for draw), then uniform `integers`
    (the same while n - 1 fits in 32 bits). The circle is queue[1:1 + k]; the frontier
    being scanned is queue[lo:hi], as the people found while scanning the one before."""
    queue = np.empty(size + 1, np.int64)
    queue[0] = centre
    seen = {np.int64(centre)}
    k = 0
    lo, hi = 0, 1
    while lo < hi and k < size:
        for p in range(lo, hi):
            node = queue[p]
            for friend in rng.permutation(indices[indptr[node] : indptr[node + 1]]):
                f = np.int64(friend)
                if f not in seen:
                    seen.add(f)
                    k += 1
                    queue[k] = f
                    if k >= size:
                        break
            if k >= size:
                break
        lo, hi = hi, k + 1
    while k < size:
        f = np.int64(rng.integers(0, n))
        if f not in seen:
            seen.add(f)
            k += 1
            queue[k] = f
    return queue[1:]


def circle(net: Network, centre: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """The ~`size` people a KOC or distributor radiates to: friends first, then friends of
    friends (breadth first), then random people if the network runs out.

    On ties this runs compiled (`_circle`) with the very draws of the Python walk below,
    which stays for the populations beyond numba's exact range of `integers`."""
    size = min(size, net.n - 1)
    if net.mixing:  # no ties: anyone but the centre
        others = rng.choice(net.n - 1, size=size, replace=False)
        return np.where(others >= centre, others + 1, others).astype(np.int64)
    if size <= 0:
        return np.zeros(0, dtype=np.int64)
    if net.n - 1 <= _NUMBA_SAME_RANGE:
        return _circle(net.indptr, net.indices, net.n, centre, size, rng)
    return _circle_python(net, centre, size, rng)


def _circle_python(net: Network, centre: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """`circle` on ties in Python, for populations whose draws numba does not match."""
    seen = {centre}
    out: list[int] = []
    frontier = [centre]
    while frontier and len(out) < size:
        nxt: list[int] = []
        for node in frontier:
            for f in rng.permutation(net.friends(node)).tolist():
                if f not in seen:
                    seen.add(f)
                    out.append(f)
                    nxt.append(f)
                    if len(out) >= size:
                        break
            if len(out) >= size:
                break
        frontier = nxt
    while len(out) < size:
        f = int(rng.integers(0, net.n))
        if f not in seen:
            seen.add(f)
            out.append(f)
    return np.asarray(out, dtype=np.int64)
