"""Siyu: an agent-based market simulator for private-domain traffic.

Python API::

    from sim import load_scenario, run
    result = run(load_scenario("beauty_guides"), seed=1)
    result.ledger    # pandas DataFrame: one row per day x brand
    result.summary   # KPIs per brand and for the market

    from sim import measure
    fx = measure(load_scenario("beauty_guides"), "no_private_ops", replicates=8)
    fx.table         # incremental KPIs per brand and market: diff and 95% interval
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sim.version import __version__

if TYPE_CHECKING:
    from sim.effects import Effects, incremental, measure
    from sim.runner import RunResult, run
    from sim.scenario import ScenarioError, load_scenario

_API = {
    "Effects": "sim.effects",
    "incremental": "sim.effects",
    "measure": "sim.effects",
    "RunResult": "sim.runner",
    "run": "sim.runner",
    "ScenarioError": "sim.scenario",
    "load_scenario": "sim.scenario",
}
"""Where each name of the API lives. They load on first use (PEP 562), so that importing
one module of the package (the `siyu` program's `sim.launch`, a sweep's worker) does not
import them all: pandas, SciPy and Numba alone take about a second."""


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))


__all__ = [
    "Effects",
    "RunResult",
    "ScenarioError",
    "__version__",
    "incremental",
    "load_scenario",
    "measure",
    "run",
]
