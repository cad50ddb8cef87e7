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
from sim.regions import check_regions, run_regions
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
    bytes. Its events number region r's consumers after region r − 1's and come stretch of
    days by stretch, the regions in order within each. A bad count raises
    `ScenarioError`."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r} (known: {', '.join(ENGINES)})")
    seed = scenario.run.seed if seed is None else int(seed)
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer (got {seed})")
    regions = check_regions(scenario, regions)
    if regions > 1:
        if events is None:
            ledger = run_regions(scenario, seed, engine, regions, progress)
        else:
            recording = Recording(scenario, Path(events))
            try:
                ledger = run_regions(scenario, seed, engine, regions, progress, recording)
                events = recording.close()
            except BaseException:
                recording.abort()
                raise
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


class Recording:
    """A run's events streamed into `folder` (`sim.events.EventWriter`): built in a temporary
    sibling folder (`sim.events.open_folder`) and moved into place by `close`, so a failed or
    interrupted run leaves nothing (`abort`).

    `start(at_start, days)` opens the writer with who had bought from each brand at day 0;
    `add(ints, values)` takes the raw rows of each stretch of days in order. A stretch is
    counted and written by a second thread while the run steps the next (the fast engine's
    compiled days release the interpreter lock, so the two share the cores); the writer
    takes the stretches one at a time, in the order given, so the files are the same bytes
    as when written in turn, and at most one stretch waits in memory. A regional run hands
    its regions' stretches here in a fixed order (`sim.regions.run_regions`)."""

    def __init__(self, scenario: Scenario, folder: Path) -> None:
        self.brands = list(scenario.brands)
        self.categories = [scenario.brands[b].category for b in self.brands]
        self.folder = Path(folder)
        self.tmp = open_folder(self.folder)
        self.writer: EventWriter | None = None
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="siyu-events")
        self.pending: list[Future] = []

    def start(self, at_start: np.ndarray, days: int) -> None:
        """Open the writer: `at_start` is bool [brand, consumer], the day-0 customers."""
        self.writer = EventWriter(self.tmp, self.brands, self.categories, days, at_start)

    def add(self, ints: np.ndarray, values: np.ndarray) -> None:
        """The next stretch's rows; the previous stretch's error, if any, is raised here."""
        if self.pending:
            self.pending.pop().result()
        self.pending.append(self.pool.submit(self.writer.add, ints, values))

    def close(self) -> Path:
        """Finish the files and move them into place; the folder."""
        if self.pending:
            self.pending.pop().result()
        self.writer.close()
        self.pool.shutdown(wait=True)
        return finish(self.tmp, self.folder)

    def abort(self) -> None:
        """Throw away what was written (a stretch being written ends first)."""
        self.pool.shutdown(wait=True, cancel_futures=True)
        if self.writer is not None:
            self.writer.abort()
        shutil.rmtree(self.tmp, ignore_errors=True)


def _run_recording(
    model, scenario: Scenario, folder: Path, progress: Callable[[int], None] | None
) -> Path:
    """Run `model` to its horizon, streaming its events into `folder` (`Recording`)."""
    recording = Recording(scenario, folder)
    try:
        recording.start(model.record_events(), model.days)

        def on_days(day: int) -> None:  # called between whole days: hand them on
            recording.add(*model.take_events())
            if progress is not None:
                progress(day)

        model.run(on_days)
        recording.add(*model.take_events())
        return recording.close()
    except BaseException:
        recording.abort()
        raise
