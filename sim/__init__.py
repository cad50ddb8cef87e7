"""Siyu: an agent-based market simulator for private-domain traffic.

Python API::

    from sim import load_scenario, run
    result = run(load_scenario("beauty_guides"), seed=1)
    result.ledger    # pandas DataFrame: one row per day x brand
    result.summary   # KPIs per brand and for the market
"""

from sim.runner import RunResult, run
from sim.scenario import ScenarioError, load_scenario
from sim.version import __version__

__all__ = ["RunResult", "ScenarioError", "__version__", "load_scenario", "run"]
