"""Run a scenario: the Python API researchers call (the computing layer; writing a run's
outputs is `sim.outputs.write_outputs`, a layer above).

from sim import load_scenario, run
sc = load_scenario("beauty_guides", {"brands.brand.strategy.private_discount": 0.1})
result = run(sc, seed=3)
result.ledger        # pandas DataFrame, one row per day x brand
result.summary       # dict of KPIs per brand and for the market
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from sim.kpis import summarize
from sim.params import Scenario
from sim.protocol import ENGINES, build_engine  # ENGINES: the engines' names, for callers
from sim.streams import RunStreams
from sim.version import __version__


@dataclass
class RunResult:
    """A finished run: the scenario as run, its seed, the ledger and the KPI summary."""

    scenario: Scenario
    seed: int
    engine: str
    ledger: pd.DataFrame
    summary: dict


def run_rng(seed: int) -> RunStreams:
    """The run's random streams from its seed (`sim.streams`): the same seed for a
    scenario and its counterfactual twin gives both the same draws wherever they have not
    diverged (common random numbers)."""
    return RunStreams(seed)


def run(
    scenario: Scenario,
    seed: int | None = None,
    engine: str = "fast",
    progress: Callable[[int], None] | None = None,
) -> RunResult:
    """Run a scenario once with a seed (default: the scenario's) on an engine."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r} (known: {', '.join(ENGINES)})")
    seed = scenario.run.seed if seed is None else int(seed)
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer (got {seed})")
    model = build_engine(engine, scenario, run_rng(seed))
    model.run(progress)
    ledger = model.ledger.to_frame()
    summary = {
        "scenario": scenario.name,
        "description": scenario.description,
        "source_case": scenario.source_case,
        "seed": seed,
        "days": scenario.run.days,
        "consumers": scenario.run.consumers,
        "engine": engine,
        "version": __version__,
        "kpis": summarize(ledger, scenario.run.consumers),
        "parameters": scenario.model_dump(mode="json"),
    }
    return RunResult(scenario, seed, engine, ledger, summary)
