"""The consumers' social network as arrays (CSR adjacency), built from the run's Generator.

Arrays rather than a graph library keep construction reproducible, compact and fast at
large populations; both engines read the same structure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.params import NetworkParams


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


def _csr_from_edges(n: int, a: np.ndarray, b: np.ndarray) -> Network:
    """Symmetric CSR from an edge list, dropping self-loops and duplicate ties."""
    keep = a != b
    lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
    pairs = np.unique(lo.astype(np.int64) * n + hi)
    lo, hi = pairs // n, pairs % n
    src = np.concatenate([lo, hi])
    dst = np.concatenate([hi, lo])
    order = np.lexsort((dst, src))
    src, dst = src[order], dst[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(indptr, src + 1, 1)
    return Network(n, np.cumsum(indptr), dst.astype(np.int32))


def small_world(n: int, mean_degree: int, rewire: float, rng: np.random.Generator) -> Network:
    """Watts & Strogatz (1998): a ring where each node ties to its k/2 nearest on each side,
    each tie's far end rewired to a uniform random node with probability `rewire`."""
    half = max(mean_degree // 2, 1)
    src = np.repeat(np.arange(n), half)
    dst = (src + np.tile(np.arange(1, half + 1), n)) % n
    moved = rng.random(src.size) < rewire
    dst = dst.copy()
    dst[moved] = rng.integers(0, n, int(moved.sum()))
    return _csr_from_edges(n, src, dst)


def scale_free(n: int, mean_degree: int, rng: np.random.Generator) -> Network:
    """Barabási & Albert (1999): each new node ties to m = k/2 existing nodes chosen with
    probability proportional to degree (sampling from the list of tie ends)."""
    m = max(mean_degree // 2, 1)
    if n <= m:
        return small_world(n, mean_degree, 0.0, rng)
    ends = np.empty(2 * m * n, dtype=np.int64)
    src = np.empty(m * n, dtype=np.int64)
    dst = np.empty(m * n, dtype=np.int64)
    seed_nodes = np.arange(m)
    filled = 0
    n_ends = 0
    for node in range(m, n):
        # the first node ties to the seed nodes; later ones sample tie ends (∝ degree)
        sampled = ends[rng.integers(0, max(n_ends, 1), 2 * m)] if n_ends else seed_nodes
        targets = np.unique(sampled)[:m]
        k = targets.size
        src[filled : filled + k] = node
        dst[filled : filled + k] = targets
        filled += k
        ends[n_ends : n_ends + k] = targets
        ends[n_ends + k : n_ends + 2 * k] = node
        n_ends += 2 * k
    return _csr_from_edges(n, src[:filled], dst[:filled])


def build_network(params: NetworkParams, n: int, rng: np.random.Generator) -> Network:
    """The network a scenario asks for."""
    if params.kind == "complete":
        return Network(n, np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.int32), True)
    if params.kind == "scale_free":
        return scale_free(n, params.mean_degree, rng)
    return small_world(n, params.mean_degree, params.rewire, rng)


def circle(net: Network, centre: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """The ~`size` people a KOC or distributor radiates to: friends first, then friends of
    friends (breadth first), then random people if the network runs out."""
    size = min(size, net.n - 1)
    if net.mixing:  # no ties: anyone but the centre
        others = rng.choice(net.n - 1, size=size, replace=False)
        return np.where(others >= centre, others + 1, others).astype(np.int64)
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
