"""Seeds keyed by a run's identity, so every executor gives the same runs and adding
replicates or points never changes the runs already there.

Each seed is the first 32-bit word of `SeedSequence(root, spawn_key=identity)`; the run
itself builds its random streams from that seed (`sim.runner.run_rng`).
"""

from __future__ import annotations

import numpy as np


def _seed(root: int, key: tuple[int, ...]) -> int:
    state = np.random.SeedSequence(int(root), spawn_key=tuple(int(k) for k in key))
    return int(state.generate_state(1, np.uint32)[0])


def run_seed(root: int, point: int, replicate: int) -> int:
    """The seed of replicate `replicate` at design point `point` of a sweep."""
    return _seed(root, (point, replicate))


def compare_seed(root: int, replicate: int) -> int:
    """The seed of replicate `replicate` of every scenario in a comparison (common random
    numbers: the k-th run of each strategy sees the same seed)."""
    return _seed(root, (replicate,))
