"""The results store of a sweep: one folder, written so that a crash loses at most the runs
in flight and `--resume` re-runs only what is missing.

    OUT/
      experiment.json       the experiment as loaded, its digest, the design, package version
      manifest.parquet      one row per run: run_id, point, replicate, seed, the factor values
                            (typed columns), status (pending / done / failed), error, timings
      runs/<run_id>.parquet the finished run's tidy KPI rows
                            (run_id, point, replicate, seed, brand, metric, value)
      results.parquet       all finished runs' rows joined with their factor values
      paths/<run_id>.parquet   (with `paths`) the finished run's KPI time series
                            (run_id, point, replicate, seed, brand, metric, period, day, value)
      paths.parquet         all finished runs' paths joined with their factor values
      .lock                 held (flock) by the process writing the store; a second one is
                            refused, and the kernel releases it when that process dies

Every file is written to a temporary name in the same folder and moved into place with
`os.replace`, so a reader never sees half a file. A run file exists only for a run that
finished; it is the truth `--resume` trusts.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.files import atomic_write

RUNS = "runs"
MANIFEST = "manifest.parquet"
EXPERIMENT = "experiment.json"
RESULTS = "results.parquet"
PATHS = "paths"
PATHS_FILE = "paths.parquet"
ROW_COLUMNS = ["run_id", "point", "replicate", "seed", "brand", "metric", "value"]
PATH_COLUMNS = ["run_id", "point", "replicate", "seed", "brand", "metric", "period", "day", "value"]
LOCK = ".lock"
STATUS = ("pending", "done", "failed")
PROBE_BYTES = 64 * 1024
"""Bytes written (and removed) to check that an output folder takes files before any run."""

try:
    import fcntl
except ImportError:  # not on Windows: stores are not locked there
    fcntl = None  # type: ignore[assignment]


class StoreError(Exception):
    """An output folder that cannot be used (not a sweep's, a different experiment's, not
    writable, locked by another process)."""


class StoreLocked(StoreError):
    """The store is being written by another live process."""


def cannot_write(path: Path, exc: OSError) -> str:
    """An OSError while writing under `path`, as one line."""
    what = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        what = "no space left on the device"
    return f"{path}: cannot write: {what}"


def check_writable(folder: Path) -> None:
    """Raise StoreError unless files can be written in `folder` (or, if it does not exist
    yet, in the nearest folder above it that does); writes nothing that stays."""
    folder = Path(folder)
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise StoreError(f"{probe}: exists and is not a folder")
    if probe != folder:
        if not os.access(probe, os.W_OK | os.X_OK):
            raise StoreError(f"{folder}: cannot create it: {probe} is not writable")
        return
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".probe.") as f:
            f.write(b"\0" * PROBE_BYTES)
            f.flush()
    except OSError as exc:
        raise StoreError(cannot_write(folder, exc)) from None


def is_empty(folder: Path) -> bool:
    """A folder with nothing in it but (possibly) a store's lock file."""
    return all(p.name == LOCK for p in Path(folder).iterdir())


def _holder(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    return os.read(fd, 32).decode(errors="replace").strip() or "?"


@contextlib.contextmanager
def locked(root: Path) -> Iterator[None]:
    """Hold the store's lock while writing it (created with the folder if needed); raise
    StoreLocked naming the pid that holds it. A lock left by a dead process does not count:
    the kernel drops an flock with its holder."""
    root = Path(root)
    if fcntl is None:
        yield
        return
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(cannot_write(root, exc)) from None
    try:
        _try_lock(fd, root, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # releases the lock; the file stays (removing it would race a new holder)


def _try_lock(fd: int, root: Path, mode: int) -> None:
    """Take `mode` (shared or exclusive) on the store's lock file without waiting, or raise
    StoreLocked naming the process that holds it."""
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        raise StoreLocked(
            f"{root}: locked by pid {_holder(fd)} (another sweep is writing it)"
        ) from None


def check_unlocked(root: Path) -> None:
    """Raise StoreLocked if a live process holds the store's lock (checks, holds nothing)."""
    path = Path(root) / LOCK
    if fcntl is None or not path.is_file():
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        _try_lock(fd, root, fcntl.LOCK_SH)
    finally:
        os.close(fd)


def write_json(path: Path, data: Any) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_parquet(path: Path, df: pd.DataFrame) -> None:
    atomic_write(path, lambda p: df.to_parquet(p, index=False))


def is_store(path: Path) -> bool:
    return (path / EXPERIMENT).is_file()


def identity(run: dict[str, Any], n: int) -> dict[str, pa.Array]:
    """The run's identity columns (run id, point, replicate, seed) for `n` rows."""
    return {
        "run_id": pa.array([str(run["run_id"])] * n, pa.string()),
        "point": pa.array([int(run["point"])] * n, pa.int64()),
        "replicate": pa.array([int(run["replicate"])] * n, pa.int64()),
        "seed": pa.array([int(run["seed"])] * n, pa.int64()),
    }


def rows_table(rows: list[tuple[str, str, float]], run: dict[str, Any]) -> pa.Table:
    """A run's tidy KPI rows (ROW_COLUMNS) as an Arrow table with the run's identity."""
    return pa.table(
        {
            **identity(run, len(rows)),
            "brand": pa.array([r[0] for r in rows], pa.string()),
            "metric": pa.array([r[1] for r in rows], pa.string()),
            "value": pa.array([float(r[2]) for r in rows], pa.float64()),
        }
    )


def paths_table(rows: list[tuple[str, str, int, int, float]], run: dict[str, Any]) -> pa.Table:
    """A run's path rows (PATH_COLUMNS: brand, KPI, window, its last day, value) as an Arrow
    table with the run's identity."""
    return pa.table(
        {
            **identity(run, len(rows)),
            "brand": pa.array([r[0] for r in rows], pa.string()),
            "metric": pa.array([r[1] for r in rows], pa.string()),
            "period": pa.array([int(r[2]) for r in rows], pa.int64()),
            "day": pa.array([int(r[3]) for r in rows], pa.int64()),
            "value": pa.array([float(r[4]) for r in rows], pa.float64()),
        }
    )


class Store:
    """A sweep's folder: manifest, run files, consolidated results."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.runs = self.root / RUNS

    def run_path(self, run_id: str) -> Path:
        return self.runs / f"{run_id}.parquet"

    def finished(self) -> set[str]:
        """Run ids with a run file (written atomically after the run finished)."""
        if not self.runs.is_dir():
            return set()
        return {p.stem for p in self.runs.glob("*.parquet")}

    def read_manifest(self) -> pd.DataFrame:
        return pd.read_parquet(self.root / MANIFEST)

    def write_manifest(self, manifest: pd.DataFrame) -> None:
        write_parquet(self.root / MANIFEST, manifest)

    def read_experiment(self) -> dict[str, Any]:
        return json.loads((self.root / EXPERIMENT).read_text(encoding="utf-8"))

    def write_experiment(self, data: dict[str, Any]) -> None:
        write_json(self.root / EXPERIMENT, data)

    def write_run(self, run_id: str, rows: pa.Table) -> None:
        atomic_write(self.run_path(run_id), lambda p: pq.write_table(rows, p))

    def consolidate(self, manifest: pd.DataFrame, factor_columns: list[str]) -> pd.DataFrame:
        """results.parquet: every finished run's rows with its factor values, sorted."""
        return self._gather(
            manifest,
            factor_columns,
            self.run_path,
            ROW_COLUMNS,
            ["point", "replicate", "brand", "metric"],
            RESULTS,
        )

    def _gather(
        self,
        manifest: pd.DataFrame,
        factor_columns: list[str],
        file_of: Callable[[str], Path],
        columns: Sequence[str],
        keys: list[str],
        target: str,
    ) -> pd.DataFrame:
        """Every finished run's table (`file_of(run_id)`) with its factor values, sorted by
        `keys`, written to `target` in the store."""
        done = manifest.loc[manifest["status"] == "done", "run_id"].tolist()
        tables = [pq.read_table(file_of(r)) for r in sorted(done)]
        if tables:
            rows = pa.concat_tables(tables).to_pandas()
        else:
            rows = pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
        out = rows.merge(manifest[["run_id", *factor_columns]], on="run_id", how="left")
        out = out.sort_values(keys, kind="stable").reset_index(drop=True)
        write_parquet(self.root / target, out)
        return out

    def read_results(self) -> pd.DataFrame:
        return pd.read_parquet(self.root / RESULTS)

    def paths_path(self, run_id: str) -> Path:
        return self.root / PATHS / f"{run_id}.parquet"

    def write_paths(self, run_id: str, rows: pa.Table) -> None:
        atomic_write(self.paths_path(run_id), lambda p: pq.write_table(rows, p))

    def consolidate_paths(self, manifest: pd.DataFrame, factor_columns: list[str]) -> pd.DataFrame:
        """paths.parquet: every finished run's paths with its factor values, sorted."""
        return self._gather(
            manifest,
            factor_columns,
            self.paths_path,
            PATH_COLUMNS,
            ["point", "replicate", "brand", "metric", "period"],
            PATHS_FILE,
        )

    def read_paths(self) -> pd.DataFrame | None:
        """paths.parquet, or None when the sweep kept no paths."""
        path = self.root / PATHS_FILE
        return pd.read_parquet(path) if path.is_file() else None
