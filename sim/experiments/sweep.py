"""Run an experiment's design on an executor into a results store, resumably.

A run's identity is (design point, replicate): its id `p00012-r001`, its seed
`SeedSequence(experiment.seed, spawn_key=(point, replicate))`. The same experiment gives the
same runs whatever the executor, and adding replicates adds runs without changing any.

Each run's scenario is resolved here, in the driver, and shipped to the worker as data (the
validated parameters), so a worker needs the package but none of the files.

Faults: a run that raises, or whose worker dies (a crash, a kill, out of memory), is recorded
as failed with its cause and the sweep goes on; `--resume` retries failed runs until they
have had `MAX_ATTEMPTS` attempts in all (the manifest's `attempts` column; `error` keeps the
last cause). An interruption (Ctrl-C), a lost executor or a full disk stops the sweep with
the finished runs kept and the runs in flight left pending. One process at a time writes a
store (a lock).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiments.design import Design, build_design
from sim.experiments.executors import TaskFailed, describe
from sim.experiments.paths import PathRow, parse_days_to, run_paths, threshold_values
from sim.experiments.seeds import run_seed
from sim.experiments.spec import (
    MARKET,
    Experiment,
    is_days_to,
    metric_values,
    parse_metric,
    with_effects,
)
from sim.experiments.store import (
    Store,
    StoreError,
    StoreLocked,
    cannot_write,
    check_unlocked,
    check_writable,
    is_empty,
    is_store,
    locked,
    paths_table,
    rows_table,
)
from sim.version import __version__

__all__ = ["StoreError", "StoreLocked", "StoreWriteError", "plan", "prepare", "run_sweep"]

RunFn = Callable[..., Any]
"""`run_fn(scenario, seed)` -> an object with `.summary["kpis"]` (default `sim.runner.run`)."""


MANIFEST_EVERY_S = 0.5
"""The manifest is rewritten at most this often while runs finish (and always at the end or
on an interruption); after a hard crash, runs finished since the last write are redone."""

MAX_ATTEMPTS = 3
"""Attempts a run gets in all (the first and the `--resume` retries) before `--resume` stops
retrying it (`--max-attempts`); a run at the cap stays failed and is reported."""

OUTCOME = ("status", "error", "started", "finished", "duration_s", "worker")
"""The manifest columns a run's outcome sets."""


class StoreWriteError(StoreError):
    """The store could not be written during a sweep (a full disk, a folder made read-only):
    the runs finished before are safe, `--resume` completes the sweep."""


def run_id(point: int, replicate: int) -> str:
    return f"p{point:05d}-r{replicate:03d}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def execute_run(task: dict[str, Any], run_fn: RunFn | None = None) -> dict[str, Any]:
    """Run one task (in any process or on any worker) and return its outcome; an exception
    inside the run is caught and returned as a failed outcome with its error.

    `task["scenario"]` is the run's validated scenario as a parameter dict (data, not a
    path): it is rebuilt here with `Scenario.model_validate`."""
    from sim.params import Scenario

    started = _now()
    t0 = time.perf_counter()
    out: dict[str, Any] = {"run_id": task["run_id"], "started": started}
    try:
        scenario = Scenario.model_validate(task["scenario"])
        go = run_fn
        if go is None:
            from sim.runner import run

            go = partial(run, engine=task.get("engine", "fast"))
        result = go(scenario, task["seed"])
        kpis = result.summary["kpis"]
        if task.get("counterfactual"):  # the pair: the twin on the same seed (CRN)
            from sim.counterfactual import twin
            from sim.effects import incremental

            twin_result = go(twin(scenario, task["counterfactual"]), task["seed"])
            kpis = with_effects(kpis, incremental(result, twin_result))
        out["paths"] = []
        if task.get("paths") or any(is_days_to(m) for m in task["metrics"]):
            kpis, out["paths"] = _with_paths(result.ledger, kpis, task)
        out["rows"] = metric_values(kpis, task["metrics"])
        out["status"] = "done"
        out["error"] = ""
    except Exception as exc:
        out["status"] = "failed"
        out["error"] = describe(exc)
        out["rows"] = []
        out["paths"] = []
    out["finished"] = _now()
    out["duration_s"] = time.perf_counter() - t0
    out["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    return out


def _with_paths(
    ledger: pd.DataFrame, kpis: dict[str, Any], task: dict[str, Any]
) -> tuple[dict[str, Any], list[PathRow]]:
    """The run's kept paths, and its KPIs with each `days_to` metric's value added under its
    own name (read off the windows of `task["path_window"]` days)."""
    window = int(task.get("path_window", 30))
    kept = run_paths(ledger, window, [parse_metric(p, ()) for p in task.get("paths") or []])
    days = [m for m in task["metrics"] if is_days_to(m)]
    if not days:
        return kpis, kept
    wanted = [parse_metric(m, ()) for m in days]
    windows = run_paths(ledger, window, [(w, parse_days_to(n)[0]) for w, n in wanted])
    out = {
        "market": dict(kpis["market"]),
        "brands": {b: dict(k) for b, k in kpis["brands"].items()},
    }
    for who, name in wanted:
        kpi, threshold = parse_days_to(name)
        for brand, value in threshold_values(windows, who, kpi, threshold).items():
            (out["market"] if brand == MARKET else out["brands"].setdefault(brand, {}))[name] = (
                value
            )
    return out, kept


def failed_outcome(run: str, cause: str) -> dict[str, Any]:
    """The outcome of a run that returned nothing (its worker died, its scenario failed)."""
    now = _now()
    return {
        "run_id": run,
        "status": "failed",
        "error": cause,
        "rows": [],
        "paths": [],
        "started": "",
        "finished": now,
        "duration_s": float("nan"),
        "worker": "",
    }


@contextlib.contextmanager
def second_interrupt_exits(code: int = 130) -> Iterator[None]:
    """While cleaning up after a Ctrl-C: a second Ctrl-C exits at once (the store is safe:
    every file in it is written atomically, and the run files are the truth)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def now(signum: int, frame: Any) -> None:
        os.write(2, b"interrupted again: stopped at once\n")
        os._exit(code)

    old = signal.signal(signal.SIGINT, now)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


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
            row.update(status="pending", error="", attempts=0, started="", finished="")
            row.update(duration_s=float("nan"), worker="", version=__version__)
            rows.append(row)
    df = pd.DataFrame(rows)
    for col in ("point", "replicate", "seed", "attempts"):
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
    max_attempts: int = MAX_ATTEMPTS

    @property
    def failed(self) -> pd.DataFrame:
        return self.manifest[self.manifest["status"] == "failed"]

    @property
    def given_up(self) -> pd.DataFrame:
        """Failed runs that have had every attempt: `--resume` will not retry them."""
        f = self.failed
        return f[f["attempts"] >= self.max_attempts]


def _previous(store: Store) -> pd.DataFrame:
    try:
        previous = store.read_manifest().set_index("run_id")
    except FileNotFoundError:
        return pd.DataFrame()
    if "attempts" not in previous:  # a store written before attempts were counted
        previous["attempts"] = (previous["status"] != "pending").astype("int64")
    return previous


def prepare(
    exp: Experiment,
    out: Path,
    resume: bool,
    design: Design,
    max_attempts: int = MAX_ATTEMPTS,
    check_lock: bool = True,
) -> pd.DataFrame:
    """Check the output folder and return the manifest to run from: done runs kept, failed
    runs pending again (with their attempts and last cause) unless they have had
    `max_attempts`, in which case they stay failed."""
    out = Path(out)
    fresh = plan(exp, design)
    if out.exists() and not out.is_dir():
        raise StoreError(f"{out}: exists and is not a folder")
    if not out.is_dir() or is_empty(out):
        return fresh
    if not is_store(out):
        raise StoreError(f"{out}: folder exists and is not a sweep's results store")
    store = Store(out)
    if not resume:
        raise StoreError(f"{out}: holds a sweep already (add --resume to complete it)")
    if check_lock:
        check_unlocked(out)
    old = store.read_experiment()
    if old.get("digest") != digest(exp):
        raise StoreError(
            f"{out}: holds a sweep of a different experiment (or base scenario); use another --out"
        )
    finished = store.finished()
    previous = _previous(store)
    keep = (*OUTCOME, "version")
    rows = []
    for _, row in fresh.iterrows():
        rid = row["run_id"]
        if rid in previous.index:
            prev = previous.loc[rid]
            row["attempts"] = int(prev["attempts"])
            if prev["status"] == "done" and rid in finished:
                for col in keep:
                    row[col] = prev[col]
            elif prev["status"] == "failed":
                row["error"] = prev["error"]
                if row["attempts"] >= max_attempts:
                    for col in keep:
                        row[col] = prev[col]
        rows.append(row)
    return pd.DataFrame(rows).reset_index(drop=True).astype(fresh.dtypes.to_dict())


def run_sweep(
    exp: Experiment,
    out: Path,
    executor: Any,
    resume: bool = False,
    progress: Callable[[int, int], None] | None = None,
    run_fn: RunFn | None = None,
    on_result: Callable[[dict[str, Any]], None] | None = None,
    max_attempts: int = MAX_ATTEMPTS,
) -> SweepResult:
    """Run every missing run of the experiment on `executor` into the store at `out`.

    Finished runs are written (run file, then manifest) as they complete; a run that raises
    or whose worker dies is recorded as failed with its cause and the sweep goes on. On any
    interruption the workers are stopped, the manifest is written and the exception goes on
    (runs in flight stay pending). `on_result` is called after each recorded run (a test
    hook: raising there interrupts the sweep like Ctrl-C).

    Raises StoreError (a folder that is not a store, another experiment's, not writable),
    StoreLocked (another process is writing the store), StoreWriteError (a write failed
    during the sweep), ExecutorError (the executor was lost), KeyboardInterrupt.
    """
    t0 = time.perf_counter()
    out = Path(out)
    design = build_design(exp)
    prepare(exp, out, resume, design, max_attempts)  # refuse a bad folder before creating it
    check_writable(out)
    with locked(out):
        return _locked_sweep(
            exp, out, executor, resume, design, progress, run_fn, on_result, max_attempts, t0
        )


def _locked_sweep(
    exp: Experiment,
    out: Path,
    executor: Any,
    resume: bool,
    design: Design,
    progress: Callable[[int, int], None] | None,
    run_fn: RunFn | None,
    on_result: Callable[[dict[str, Any]], None] | None,
    max_attempts: int,
    t0: float,
) -> SweepResult:
    from sim.scenario import ScenarioLoader

    manifest = prepare(exp, out, resume, design, max_attempts, check_lock=False)
    store = Store(out)

    def save() -> None:
        try:
            store.write_manifest(manifest)
        except OSError as exc:
            raise StoreWriteError(cannot_write(out, exc)) from None

    try:
        store.write_experiment(experiment_record(exp, design))
    except OSError as exc:
        raise StoreError(cannot_write(out, exc)) from None
    save()
    todo = manifest.index[manifest["status"] == "pending"].tolist()
    total = len(manifest)
    state = {"done": total - len(todo), "saved": time.perf_counter()}
    if progress:
        progress(state["done"], total)
    metrics = list(exp.metrics)

    def record(i: int, outcome: dict[str, Any]) -> None:
        row = manifest.loc[i].to_dict()
        if outcome["status"] == "done":
            try:
                if exp.paths:  # before the run file, which says the run is done
                    store.write_paths(outcome["run_id"], paths_table(outcome["paths"], row))
                store.write_run(outcome["run_id"], rows_table(outcome["rows"], row))
            except OSError as exc:
                raise StoreWriteError(cannot_write(out, exc)) from None
        for col in OUTCOME:
            manifest.at[i, col] = outcome[col]
        manifest.at[i, "attempts"] = int(row["attempts"]) + 1
        manifest.at[i, "version"] = __version__
        if time.perf_counter() - state["saved"] >= MANIFEST_EVERY_S:
            save()
            state["saved"] = time.perf_counter()
        state["done"] += 1
        if progress:
            progress(state["done"], total)
        if on_result:
            on_result(outcome)

    def tasks() -> Iterator[tuple[int, tuple[Any, ...]]]:
        """The runs to do, built one at a time as the executor asks for them; a point whose
        scenario does not validate fails here without reaching a worker. The base's files
        are read once (`ScenarioLoader`): reading and parsing them again for each point
        cost ~0.7 ms, four fifths of making a task."""
        loader: ScenarioLoader | None = None
        for i in todo:
            rid, point = manifest.at[i, "run_id"], int(manifest.at[i, "point"])
            try:
                overrides = exp.run_overrides(design.points[point])
                loader = loader or ScenarioLoader(exp.base_path)
                scenario = loader.load(overrides).model_dump()
            except Exception as exc:
                record(i, failed_outcome(rid, describe(exc)))
                continue
            task = {
                "run_id": rid,
                "scenario": scenario,
                "seed": int(manifest.at[i, "seed"]),
                "engine": exp.engine,
                "counterfactual": exp.counterfactual,
                "metrics": metrics,
                "paths": list(exp.paths),
                "path_window": exp.path_window,
            }
            yield i, ((task,) if run_fn is None else (task, run_fn))

    try:
        for i, result in executor.imap(execute_run, tasks()):
            if isinstance(result, TaskFailed):
                result = failed_outcome(str(manifest.at[i, "run_id"]), result.cause)
            record(i, result)
    except BaseException:
        with second_interrupt_exits():
            executor.shutdown(cancel=True)
            with contextlib.suppress(OSError):
                store.write_manifest(manifest)
        raise
    executor.shutdown()
    save()
    try:
        results = store.consolidate(manifest, list(design.keys))
        if exp.paths:
            store.consolidate_paths(manifest, list(design.keys))
    except OSError as exc:
        raise StoreWriteError(cannot_write(out, exc)) from None
    return SweepResult(
        store,
        manifest,
        results,
        design,
        len(todo),
        total - len(todo),
        time.perf_counter() - t0,
        max_attempts,
    )
