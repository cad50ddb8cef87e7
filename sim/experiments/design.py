"""Designs: the list of design points (factor key -> typed value) an experiment visits.

- grid: every combination of the factors' levels (values, or `steps` points of a range);
- lhs: a Latin hypercube of `samples` points (scipy.stats.qmc), seeded by the experiment;
- sobol: Saltelli/Sobol' sampling for first- and total-order indices (SALib), N = samples;
- morris: `samples` elementary-effect trajectories on `levels` levels (SALib).

Sampled designs work in the unit cube: a range factor maps linearly onto [low, high] (integer
factors are rounded), a list of values is split into equal-width bins (one per value). The
unit-cube points are kept: SALib's analysis of Morris designs needs them.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.experiments.spec import Experiment, check_size


@dataclass
class Design:
    keys: list[str]
    points: list[dict[str, Any]]
    unit: np.ndarray | None = None
    problem: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.points)


def salib_problem(exp: Experiment) -> dict[str, Any]:
    keys = list(exp.factors)
    return {"num_vars": len(keys), "names": keys, "bounds": [[0.0, 1.0]] * len(keys)}


def _from_unit(exp: Experiment, unit: np.ndarray) -> list[dict[str, Any]]:
    keys = list(exp.factors)
    cols = {k: exp.factors[k].from_unit(unit[:, j]) for j, k in enumerate(keys)}
    return [{k: cols[k][i] for k in keys} for i in range(unit.shape[0])]


def build_design(exp: Experiment) -> Design:
    """The design points of an experiment, in a fixed order (a point's index is its identity).

    The size is checked first (a ScenarioError above the limit), before anything is built.
    """
    check_size(exp, exp.file or "experiment")
    keys = list(exp.factors)
    if exp.design == "grid":
        levels = [exp.factors[k].grid_levels() for k in keys]
        points = [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*levels)]
        return Design(keys, points)
    problem = salib_problem(exp)
    assert exp.samples is not None
    if exp.design == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(keys), seed=np.random.default_rng(exp.seed)).random(
            exp.samples
        )
    elif exp.design == "sobol":
        from SALib.sample import sobol

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            unit = sobol.sample(problem, exp.samples, calc_second_order=False, seed=exp.seed)
    else:
        from SALib.sample import morris

        unit = morris.sample(problem, exp.samples, num_levels=exp.levels, seed=exp.seed)
    return Design(keys, _from_unit(exp, unit), unit=np.asarray(unit), problem=problem)
