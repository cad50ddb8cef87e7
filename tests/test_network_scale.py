"""The scalable network construction (numba kernels, compact arrays) builds exactly what the
plain NumPy construction it replaced built, and draws the same random numbers from the run's
Generator: the reference below is a verbatim copy of that construction, kept as the oracle."""

from __future__ import annotations

import numpy as np
import pytest

from sim import network
from sim.network import Network
from sim.params import NetworkParams

# ---- the reference: sim/network.py before the numba kernels, verbatim ------------------------


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


# ---- the checks ----------------------------------------------------------------------------

BIT_GENERATORS = [np.random.PCG64, np.random.MT19937, np.random.Philox, np.random.SFC64]


def _rngs(seed: int, bit_generator: type = np.random.PCG64):
    """Two Generators in the same state, the second one mid-stream with a cached 32-bit half
    for odd seeds (so that state is carried through the construction too)."""
    pair = []
    for _ in range(2):
        rng = np.random.Generator(bit_generator(seed))
        if seed % 2:
            rng.integers(0, 10, 3)  # three 32-bit draws: leaves half a 64-bit word cached
        pair.append(rng)
    return pair


def _state(rng: np.random.Generator) -> object:
    """The bit generator's state, comparable with == (MT19937 keeps an array in it)."""

    def plain(x: object) -> object:
        if isinstance(x, dict):
            return {k: plain(v) for k, v in x.items()}
        return x.tolist() if isinstance(x, np.ndarray) else x

    return plain(rng.bit_generator.state)


def _assert_same(ref: Network, new: Network, r_ref: np.random.Generator, r_new) -> None:
    assert new.n == ref.n and new.mixing == ref.mixing
    assert ref.indptr.dtype == np.int64 and new.indptr.dtype == np.int32  # the ties fit
    assert new.indices.dtype == ref.indices.dtype == np.int32
    np.testing.assert_array_equal(new.indptr, ref.indptr)
    np.testing.assert_array_equal(new.indices, ref.indices)
    assert _state(r_new) == _state(r_ref)
    # and the draws after the construction are the same
    assert r_new.integers(0, 2**40, 5).tolist() == r_ref.integers(0, 2**40, 5).tolist()
    assert r_new.random(3).tolist() == r_ref.random(3).tolist()


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 60, 1500])
@pytest.mark.parametrize("mean_degree", [0, 1, 2, 4, 7, 10, 30])
@pytest.mark.parametrize("rewire", [0.0, 0.1, 0.5, 1.0])
def test_small_world_is_unchanged(n, mean_degree, rewire):
    for seed in (0, 1, 2):
        r_ref, r_new = _rngs(seed)
        ref = small_world(n, mean_degree, rewire, r_ref)
        new = network.small_world(n, mean_degree, rewire, r_new)
        _assert_same(ref, new, r_ref, r_new)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 6, 7, 60, 1500])
@pytest.mark.parametrize("mean_degree", [0, 1, 2, 3, 4, 10, 12, 40])
def test_scale_free_is_unchanged(n, mean_degree):
    for seed in (0, 1, 2, 3):
        r_ref, r_new = _rngs(seed)
        ref = scale_free(n, mean_degree, r_ref)
        new = network.scale_free(n, mean_degree, r_new)
        _assert_same(ref, new, r_ref, r_new)


@pytest.mark.parametrize("bit_generator", BIT_GENERATORS)
def test_unchanged_under_every_bit_generator(bit_generator):
    for seed in (3, 4):
        r_ref, r_new = _rngs(seed, bit_generator)
        ref = scale_free(2000, 10, r_ref)
        _assert_same(ref, network.scale_free(2000, 10, r_new), r_ref, r_new)
        ref = small_world(2000, 10, 0.3, r_ref)
        _assert_same(ref, network.small_world(2000, 10, 0.3, r_new), r_ref, r_new)


@pytest.mark.parametrize("n", [30_000])
def test_unchanged_at_a_larger_size(n):
    for kind, mean_degree, seed in [
        ("scale_free", 10, 7),
        ("small_world", 10, 8),
        ("scale_free", 6, 9),
        ("small_world", 20, 10),
    ]:
        params = NetworkParams(kind=kind, mean_degree=mean_degree, rewire=0.1)
        r_ref, r_new = _rngs(seed)
        ref = build_network(params, n, r_ref)
        _assert_same(ref, network.build_network(params, n, r_new), r_ref, r_new)


@pytest.mark.parametrize("kind", ["small_world", "scale_free", "complete"])
def test_build_network_and_circle_are_unchanged(kind):
    params = NetworkParams(kind=kind, mean_degree=8, rewire=0.2)
    for n, seed in [(2, 0), (3, 1), (40, 2), (900, 3)]:
        r_ref, r_new = _rngs(seed)
        ref = build_network(params, n, r_ref)
        new = network.build_network(params, n, r_new)
        _assert_same(ref, new, r_ref, r_new)
        for centre, size in [(0, 1), (n // 2, 5), (n - 1, 30), (1 % n, 10 * n)]:
            a = circle(ref, centre, size, r_ref)
            b = network.circle(new, centre, size, r_new)
            assert b.dtype == a.dtype and b.tolist() == a.tolist()
            assert _state(r_new) == _state(r_ref)


@pytest.mark.parametrize("limit", [0, 1, 7, 100, 5000])
def test_numpy_path_beyond_numbas_exact_range_is_unchanged(limit):
    """Past 2**32 tie ends numba's bounded integers stop matching NumPy's, so those draws
    go back to NumPy; a low limit reaches that hand-over at small sizes."""
    for n, mean_degree, seed in [(6, 4, 0), (300, 4, 1), (1000, 10, 2), (400, 1, 3)]:
        r_ref, r_new = _rngs(seed)
        ref = scale_free(n, mean_degree, r_ref)
        new = network._scale_free(n, mean_degree, r_new, numba_limit=limit)
        _assert_same(ref, new, r_ref, r_new)


def test_chunked_draws_are_unchanged(monkeypatch):
    """Small-world draws its uniforms and new far ends in chunks; tiny chunks give the same."""
    for chunk in (1, 3, 64):
        monkeypatch.setattr(network, "_CHUNK", chunk)
        for n, mean_degree, rewire, seed in [(5, 4, 0.5, 0), (300, 6, 0.3, 1), (301, 10, 1.0, 2)]:
            r_ref, r_new = _rngs(seed)
            ref = small_world(n, mean_degree, rewire, r_ref)
            new = network.small_world(n, mean_degree, rewire, r_new)
            _assert_same(ref, new, r_ref, r_new)


def test_csr_from_edges_is_unchanged():
    rng = np.random.default_rng(11)
    for n in (1, 2, 5, 40, 1000):
        for n_edges in (0, 1, 3 * n, 20 * n):
            a = rng.integers(0, n, n_edges)
            b = rng.integers(0, n, n_edges)  # self-loops and repeats (both ways) included
            ref, new = _csr_from_edges(n, a, b), network._csr_from_edges(n, a, b)
            assert new.indptr.dtype == np.int32 and new.indices.dtype == ref.indices.dtype
            np.testing.assert_array_equal(new.indptr, ref.indptr)
            np.testing.assert_array_equal(new.indices, ref.indices)


@pytest.mark.heavy
@pytest.mark.parametrize("kind", ["small_world", "scale_free"])
def test_unchanged_at_a_million(kind):
    params = NetworkParams(kind=kind, mean_degree=10, rewire=0.1)
    r_ref, r_new = _rngs(2024)
    ref = build_network(params, 1_000_000, r_ref)
    _assert_same(ref, network.build_network(params, 1_000_000, r_new), r_ref, r_new)


@pytest.mark.parametrize("bit_generator", BIT_GENERATORS)
def test_compiled_circle_is_unchanged(bit_generator):
    """The compiled walk (`network._circle`) finds the people the Python walk found, in the
    same order, and leaves the Generator where it left it: many centres and sizes, from a
    single friend to more than the network holds (the random tail), on both kinds of ties."""
    for kind, n, seed in [("small_world", 500, 5), ("scale_free", 700, 6), ("small_world", 9, 7)]:
        params = NetworkParams(kind=kind, mean_degree=6, rewire=0.1)
        net = network.build_network(params, n, np.random.default_rng(seed))
        r_ref, r_new = _rngs(seed, bit_generator)
        for centre in range(0, n, max(n // 25, 1)):
            for size in (1, 4, 37, n // 3, 2 * n):
                a = circle(net, centre, size, r_ref)
                b = network.circle(net, centre, size, r_new)
                assert b.dtype == a.dtype and b.tolist() == a.tolist()
        assert _state(r_new) == _state(r_ref)


def test_python_circle_beyond_numbas_exact_range_is_unchanged(monkeypatch):
    """Populations past numba's exact range of `integers` walk in Python; a limit below
    every population here sends them all there."""
    monkeypatch.setattr(network, "_NUMBA_SAME_RANGE", -1)
    net = network.build_network(NetworkParams(kind="scale_free", mean_degree=4), 300, _rngs(1)[0])
    r_ref, r_new = _rngs(3)
    for centre, size in [(0, 5), (150, 60), (299, 600)]:
        assert network.circle(net, centre, size, r_new).tolist() == (
            circle(net, centre, size, r_ref).tolist()
        )
    assert _state(r_new) == _state(r_ref)
