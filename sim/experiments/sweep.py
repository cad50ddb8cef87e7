"""Run an experiment's design on an executor into a results store, resumably.

A run's identity is (design point, replicate): its id `p00012-r001`, its seed
`SeedSequence(experiment.seed, spawn_key=(point, replicate))`. The same experiment gives the
same runs whatever the executor, and adding replicates adds runs without changing any.
"""

from __future__ import annotations

import json
import os
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from sim import __version__
from sim.experiments.design import Design, build_design
from sim.experiments.seeds import run_seed
from sim.experiments.spec import Experiment, metric_values
from sim.experiments.store import Store, is_store, rows_table

RunFn = Callable[..., Any]
"""`run_fn(scenario, seed)` -> an object with `.summary["kpis"]` (default `sim.runner.run`)."""


MANIFEST_EVERY_S = 0.5
"""The manifest is rewritten at most this often while runs finish (and always at the end or
on an interruption); after a hard crash, runs finished since the last write are redone."""


class StoreError(Exception):
    """An output folder that cannot be used (not a sweep's, or a different experiment's)."""


def run_id(point: int, replicate: int) -> str:
    return f"p{point:05d}-r{replicate:03d}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def execute_run(task: dict[str, Any], run_fn: RunFn | None = None) -> dict[str, Any]:
    """Run one task (in any process or on any worker) and return its outcome; an exception
    inside the run is caught and returned as a failed outcome with its error."""
    from sim.scenario import load_scenario

    started = _now()
    t0 = time.perf_counter()
    out: dict[str, Any] = {"run_id": task["run_id"], "started": started}
    try:
        scenario = load_scenario(task["base"], task["overrides"])
        if run_fn is None:
            from sim.runner import run

            result = run(scenario, task["seed"], engine=task.get("engine", "fast"))
        else:
            result = run_fn(scenario, task["seed"])
        out["rows"] = metric_values(result.summary["kpis"], task["metrics"])
        out["status"] = "done"
        out["error"] = ""
    except Exception as exc:
        out["status"] = "failed"
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" (at {Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
        out["error"] = " ".join(f"{type(exc).__name__}: {exc}{where}".split())
        out["rows"] = []
    out["finished"] = _now()
    out["duration_s"] = time.perf_counter() - t0
    out["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    return out


def factor_column(value: Any, exp: Experiment, key: str) -> Any:
    f = exp.factors[key]
    return value if f.is_scalar() else f.label(value)


def plan(exp: Experiment, design: Design | None = None) -> pd.DataFrame:
    """The manifest of a fresh sweep: one pending row per (point, replicate)."""
    design = design or build_design(exp)
    rows = []
    for p, point in enumerate(design.points):
        for r in range(exp.replicates):
            row: dict[str, Any] = {
                "run_id": run_id(p, r),
                "point": p,
                "replicate": r,
                "seed": run_seed(exp.seed, p, r),
            }
            for key in design.keys:
                row[key] = factor_column(point[key], exp, key)
            row["params_json"] = json.dumps(point, sort_keys=True, ensure_ascii=False)
            row.update(status="pending", error="", started="", finished="")
            row.update(duration_s=float("nan"), worker="", version=__version__)
            rows.append(row)
    df = pd.DataFrame(rows)
    for col in ("point", "replicate", "seed"):
        df[col] = df[col].astype("int64")
    return df


def experiment_record(exp: Experiment, design: Design) -> dict[str, Any]:
    return {
        "name": exp.name,
        "file": exp.file,
        "base": exp.base_path,
        "digest": digest(exp),
        "version": __version__,
        "experiment": exp.model_dump(mode="json"),
        "factor_keys": design.keys,
        "points": design.points,
        "unit": design.unit.tolist() if design.unit is not None else None,
        "problem": design.problem,
    }


def digest(exp: Experiment) -> str:
    """The experiment's identity for --resume: what decides the runs and their rows, so
    neither the number of replicates (adding replicates runs only the new ones) nor the
    analysis or the wording (a new report from the same runs) is part of it."""
    from sim.experiments.spec import Analysis

    same_runs = {"replicates": 1, "analysis": Analysis(), "description": "", "question": ""}
    return exp.model_copy(update=same_runs).digest()


@dataclass
class SweepResult:
    store: Store
    manifest: pd.DataFrame
    results: pd.DataFrame
    design: Design
    ran: int
    skipped: int
    seconds: float

    @property
    def failed(self) -> pd.DataFrame:
        return self.manifest[self.manifest["status"] == "failed"]


def prepare(exp: Experiment, out: Path, resume: bool, design: Design) -> pd.DataFrame:
    """Check the output folder and return the manifest to run from (done runs kept)."""
    out = Path(out)
    fresh = plan(exp, design)
    if out.exists() and not out.is_dir():
        raise StoreError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not is_store(out):
            raise StoreError(f"{out}: folder exists and is not a sweep's results store")
        store = Store(out)
        if not resume:
            raise StoreError(f"{out}: holds a sweep already (add --resume to complete it)")
        old = store.read_experiment()
        if old.get("digest") != digest(exp):
            raise StoreError(
                f"{out}: holds a sweep of a different experiment (or base scenario); "
                "use another --out"
            )
        finished = store.finished()
        try:
            previous = store.read_manifest().set_index("run_id")
        except FileNotFoundError:
            previous = pd.DataFrame()
        rows = []
        for _, row in fresh.iterrows():
            rid = row["run_id"]
            if rid in finished and rid in previous.index and previous.at[rid, "status"] == "done":
                keep = previous.loc[rid]
                for col in ("status", "error", "started", "finished", "duration_s", "worker"):
                    row[col] = keep[col]
                row["version"] = keep["version"]
            rows.append(row)
        return pd.DataFrame(rows).reset_index(drop=True).astype(fresh.dtypes.to_dict())
    return fresh


def run_sweep(
    exp: Experiment,
    out: Path,
    executor: Any,
    resume: bool = False,
    progress: Callable[[int, int], None] | None = None,
    run_fn: RunFn | None = None,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> SweepResult:
    """Run every missing run of the experiment on `executor` into the store at `out`.

    Finished runs are written (run file, then manifest) as they complete; a run that raises
    is recorded as failed with its error and the sweep goes on. `on_result` is called after
    each recorded run (a test hook: raising there interrupts the sweep like Ctrl-C).
    """
    t0 = time.perf_counter()
    out = Path(out)
    design = build_design(exp)
    manifest = prepare(exp, out, resume, design)
    store = Store(out)
    out.mkdir(parents=True, exist_ok=True)
    store.write_experiment(experiment_record(exp, design))
    store.write_manifest(manifest)
    todo = manifest.index[manifest["status"] != "done"].tolist()
    total = len(manifest)
    done = total - len(todo)
    if progress:
        progress(done, total)
    metrics = list(exp.metrics)
    index = {rid: i for i, rid in enumerate(manifest["run_id"])}
    futures = []
    last_save = time.perf_counter()
    try:
        for i in todo:
            row = manifest.loc[i]
            point = design.points[int(row["point"])]
            task = {
                "run_id": row["run_id"],
                "base": exp.base_path,
                "overrides": exp.run_overrides(point),
                "seed": int(row["seed"]),
                "engine": exp.engine,
                "metrics": metrics,
            }
            futures.append(
                executor.submit(execute_run, task)
                if run_fn is None
                else executor.submit(execute_run, task, run_fn)
            )
        for fut in executor.as_completed(futures):
            outcome = fut.result()
            i = index[outcome["run_id"]]
            row = manifest.loc[i].to_dict()
            if outcome["status"] == "done":
                store.write_run(outcome["run_id"], rows_table(outcome["rows"], row))
            for col in ("status", "error", "started", "finished", "duration_s", "worker"):
                manifest.at[i, col] = outcome[col]
            manifest.at[i, "version"] = __version__
            if time.perf_counter() - last_save >= MANIFEST_EVERY_S:
                store.write_manifest(manifest)
                last_save = time.perf_counter()
            done += 1
            if progress:
                progress(done, total)
            if on_result:
                on_result(outcome)
    except BaseException:
        store.write_manifest(manifest)
        executor.shutdown(cancel=True)
        raise
    store.write_manifest(manifest)
    executor.shutdown()
    results = store.consolidate(manifest, list(design.keys))
    return SweepResult(
        store, manifest, results, design, len(todo), total - len(todo), time.perf_counter() - t0
    )
