"""Run a scenario and write its outputs: the Python API researchers call.

from sim import load_scenario, run
sc = load_scenario("beauty_guides", {"brands.brand.strategy.private_discount": 0.1})
result = run(sc, seed=3)
result.ledger        # pandas DataFrame, one row per day x brand
result.summary       # dict of KPIs per brand and for the market
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim import __version__
from sim.kpis import summarize
from sim.params import Scenario

ENGINES = ("fast", "agents")
"""fast: arrays and compiled kernels (sim.fast, the default); agents: the Mesa reference."""


@dataclass
class RunResult:
    """A finished run: the scenario as run, its seed, the ledger and the KPI summary."""

    scenario: Scenario
    seed: int
    engine: str
    ledger: pd.DataFrame
    summary: dict


def run_rng(seed: int) -> np.random.Generator:
    """The run's one Generator, from a SeedSequence keyed by the seed."""
    return np.random.default_rng(np.random.SeedSequence(seed))


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
    if engine == "fast":
        from sim.fast import FastModel as Model
    else:
        from sim.model import MarketModel as Model

    model = Model(scenario, rng=run_rng(seed))
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


def default_out_dir(scenario: Scenario, seed: int) -> Path:
    return Path("reports") / "runs" / f"{scenario.name}-{seed}"


def is_run_folder(path: Path) -> bool:
    """A folder written by `write_outputs` (safe to replace): it holds a summary.json."""
    return (path / "summary.json").is_file()


def write_outputs(result: RunResult, out: Path, report: bool = True, ledger: bool = True) -> Path:
    """Write metrics.parquet, summary.json, report.md and figures/ into `out`, atomically:
    everything is built in a temporary sibling folder and moved into place at the end.
    `ledger=False` leaves out metrics.parquet (curated examples stay small)."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not is_run_folder(out))):
        raise FileExistsError(f"{out} exists and is not a previous run's output; not replacing it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    tmp.chmod(0o755)
    try:
        if ledger:
            result.ledger.to_parquet(tmp / "metrics.parquet", index=False, compression="zstd")
        (tmp / "summary.json").write_text(
            json.dumps(result.summary, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
            encoding="utf-8",
        )
        if report:
            from sim.report import write_report

            write_report(result, tmp)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
