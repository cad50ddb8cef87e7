"""Run a scenario: the Python API researchers call (the computing layer; writing a run's
outputs is `sim.outputs.write_outputs`, a layer above).

from sim import load_scenario, run
sc = load_scenario("beauty_guides", {"brands.brand.strategy.private_discount": 0.1})
result = run(sc, seed=3)
result.ledger        # pandas DataFrame, one row per day x brand
result.summary       # dict of KPIs per brand and for the market
result = run(sc, seed=3, events="events/")   # and every order, join, lapse (sim.events)
result.events        # the folder of orders / memberships / lapses / customers .parquet
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.events import EventWriter, finish, open_folder
from sim.kpis import summarize
from sim.params import Scenario
from sim.protocol import ENGINES, build_engine  # ENGINES: the engines' names, for callers
from sim.regions import SOURCE, check_regions, run_regions
from sim.scenario import ScenarioError
from sim.streams import RunStreams
from sim.version import __version__


@dataclass
class RunResult:
    """A finished run: the scenario as run, its seed, the ledger and the KPI summary, and
    the folder of its event files when it recorded them (`sim.events`)."""

    scenario: Scenario
    seed: int
    engine: str
    ledger: pd.DataFrame
    summary: dict
    events: Path | None = None


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
    events: str | Path | None = None,
    regions: int = 1,
) -> RunResult:
    """Run a scenario once with a seed (default: the scenario's) on an engine.

    With `events` (a folder), every order, membership event and lapse and the customer
    summary are written there as Parquet while the run goes (`sim.events.FILES`): built
    in a temporary sibling folder and moved into place when the run is done, so a failed
    or interrupted run leaves nothing (earlier event files in the folder are replaced).
    Recording changes neither the draws nor the ledger.

    With `regions` above 1 the market runs as that many regions of equal size, each the
    same market per consumer, one thread each, their ledgers added (`sim.regions`): a
    different draw of the same market that uses every core, same seed and regions, same
    bytes; no events are recorded then. A bad count raises `ScenarioError`."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r} (known: {', '.join(ENGINES)})")
    seed = scenario.run.seed if seed is None else int(seed)
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer (got {seed})")
    regions = check_regions(scenario, regions)
    if regions > 1:
        if events is not None:
            raise ScenarioError(
                SOURCE, None, "events are recorded by a market run whole, not in regions"
            )
        ledger = run_regions(scenario, seed, engine, regions, progress)
    else:
        model = build_engine(engine, scenario, run_rng(seed))
        if events is None:
            model.run(progress)
        else:
            events = _run_recording(model, scenario, Path(events), progress)
        ledger = model.ledger.to_frame()
        del model
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
    if regions > 1:  # only then: a whole market's summary is as before
        summary["regions"] = regions
    return RunResult(scenario, seed, engine, ledger, summary, events)


def _run_recording(
    model, scenario: Scenario, folder: Path, progress: Callable[[int], None] | None
) -> Path:
    """Run `model` to its horizon, streaming its events into `folder` (`run`).

    The rows of each stretch of days are counted and written by a second thread while the
    model steps the next stretch (the fast engine's compiled days release the interpreter
    lock, so the two share the cores); the writer takes the stretches in order, one at a
    time, so the files are the same bytes as when written in turn, and at most one stretch
    waits in memory."""
    tmp = open_folder(folder)
    writer = None
    pool = ThreadPoolExecutor(1, thread_name_prefix="siyu-events")
    pending: list[Future] = []
    try:
        at_start = model.record_events()
        brands = list(scenario.brands)
        writer = EventWriter(
            tmp, brands, [scenario.brands[b].category for b in brands], model.days, at_start
        )

        def hand_on(ints: np.ndarray, values: np.ndarray) -> None:
            if pending:  # the previous stretch first (its error, if any, is raised here)
                pending.pop().result()
            pending.append(pool.submit(writer.add, ints, values))

        def on_days(day: int) -> None:  # called between whole days: hand them on
            hand_on(*model.take_events())
            if progress is not None:
                progress(day)

        model.run(on_days)
        hand_on(*model.take_events())
        pending.pop().result()
        writer.close()
        return finish(tmp, folder)
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)  # a stretch being written ends first
        if writer is not None:
            writer.abort()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        pool.shutdown(wait=True)
