"""A run's folder of outputs: metrics.parquet (the ledger), summary.json, effects.csv (when
the summary carries effects against a counterfactual twin), the event files (when the run
recorded them, `sim.events`) and the report (report.md, figures/), written atomically.
This sits above the runner (which computes) and the report (which renders), so the
computing API never imports the report.

from sim import load_scenario, run
from sim.outputs import write_outputs
write_outputs(run(load_scenario("beauty_guides"), seed=3), Path("reports/runs/x"))
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from sim.effects import TABLE_COLUMNS
from sim.events import FILES as EVENT_FILES
from sim.params import Scenario
from sim.runner import RunResult
from sim.scenario import Override

if TYPE_CHECKING:
    from sim.report import PendingFigures


def default_out_dir(scenario: Scenario, seed: int, overrides: Sequence[Override] = ()) -> Path:
    """Where `siyu run` writes a run without --out: reports/runs/<scenario>-<seed>, and for a
    run whose scenario the command line changed (`--set`, `--days`, `--consumers`, or
    `--regions`, which runs it as regions: `run.regions` here),
    reports/runs/<scenario>-<seed>-<8 hex digits>: a hash of those overrides (each key and
    its value as read, in the order given), so an overridden run never replaces the file's
    own run or another override's, and the same command writes the same folder again."""
    name = f"{scenario.name}-{seed}"
    if overrides:
        text = "\n".join(
            ".".join(o.path) + "=" + json.dumps(o.value, sort_keys=True, default=str)
            for o in overrides
        )
        name += "-" + hashlib.sha256(text.encode()).hexdigest()[:8]
    return Path("reports") / "runs" / name


def is_run_folder(path: Path) -> bool:
    """A folder written by `write_outputs` (safe to replace): it holds a summary.json."""
    return (path / "summary.json").is_file()


def _existing_ancestor(path: Path) -> Path:
    """The nearest of `path` and its parents that exists (the folder new ones go into)."""
    path = Path(os.path.abspath(path))
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def check_writable(out: Path) -> None:
    """Raise OSError if `write_outputs(…, out)` could not write: the folder that will hold
    the output (or the nearest existing ancestor of it) must be a folder we can create in.

    The check creates and removes an empty probe folder, so a read-only disk or mount is
    caught too, not only permission bits; nothing is left behind.
    """
    out = Path(out)
    holder = _existing_ancestor(out.parent if out.exists() else out)
    if not holder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(holder))
    try:
        probe = tempfile.mkdtemp(prefix=".siyu-probe-", dir=holder)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror or str(exc), str(holder)) from None
    os.rmdir(probe)


def scratch_holder(out: Path) -> Path:
    """The folder where scratch files for output `out` go: the nearest existing ancestor of
    where `out` will be, on the disk `out` goes to, so that moving them in is a rename."""
    return _existing_ancestor(Path(out).parent)


def events_scratch(out: Path) -> Path:
    """A fresh hidden folder beside where `out` will be (`scratch_holder`), for a run to
    stream its event files into before `write_outputs` moves them into `out`. The caller
    removes it."""
    return Path(tempfile.mkdtemp(prefix=".siyu-events-", dir=scratch_holder(out)))


def _make_parents(folder: Path) -> list[Path]:
    """Create `folder` and its missing parents; return those created, outermost first."""
    missing: list[Path] = []
    path = Path(os.path.abspath(folder))
    while not path.exists() and path.parent != path:
        missing.append(path)
        path = path.parent
    missing.reverse()
    for m in missing:
        m.mkdir(exist_ok=True)
    return missing


def _remove_empty(folders: list[Path]) -> None:
    for folder in reversed(folders):
        try:
            folder.rmdir()
        except OSError:
            break


def write_outputs(
    result: RunResult,
    out: Path,
    report: bool = True,
    ledger: bool = True,
    figures: PendingFigures | None = None,
) -> Path:
    """Write metrics.parquet, summary.json, effects.csv (when `result.summary` has an
    "effects" section, from `sim.effects.Effects.summary`), report.md and figures/ into
    `out`, and move the run's event files (`result.events`, `sim.events.FILES`) in with
    them (`result.events` then names `out`), atomically:
    everything is built in a temporary sibling folder and moved into place at the end.
    `ledger=False` leaves out metrics.parquet (curated examples stay small). `figures`:
    the report's figures as `sim.report.start_figures` began drawing them for this result
    (else they are drawn here).

    On any failure (a full disk, a permission fault, an interrupt) nothing is left behind:
    not the temporary folder, not the parents this call created, and a previous run's
    output in `out` is put back as it was. The error is raised for the caller to report.
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not is_run_folder(out))):
        raise FileExistsError(f"{out} exists and is not a previous run's output; not replacing it")
    created = _make_parents(out.parent)
    tmp: Path | None = None
    old: Path | None = None
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
        tmp.chmod(0o755)
        if ledger:
            result.ledger.to_parquet(tmp / "metrics.parquet", index=False, compression="zstd")
        (tmp / "summary.json").write_text(
            json.dumps(result.summary, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
            encoding="utf-8",
        )
        if "effects" in result.summary:
            table = pd.DataFrame(result.summary["effects"]["table"], columns=TABLE_COLUMNS)
            table.to_csv(tmp / "effects.csv", index=False)
        if report:
            from sim.report import write_report

            write_report(result, tmp, figures)
        if result.events is not None:
            for name in EVENT_FILES:
                shutil.move(Path(result.events) / name, tmp / name)
        if out.exists():  # a previous run's output: set aside until the new one is in place
            old = tmp.with_name(tmp.name + "-old")
            out.rename(old)
        tmp.rename(out)
        tmp = None
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not out.exists():
            old.rename(out)
            old = None
        _remove_empty(created)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    if result.events is not None:
        result.events = out
    return out
