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

from sim.effects import Effects, incremental, measure
from sim.runner import RunResult, run
from sim.scenario import ScenarioError, load_scenario
from sim.version import __version__

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
