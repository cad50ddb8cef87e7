"""Benchmark of the fast engine: against the reference engine, at national scale, on a fresh
install, and against a peer.

    python benchmarks/bench_fast.py                # every measurement (tens of minutes on 2 cores)
    python benchmarks/bench_fast.py --skip-50m     # all but the 50-million-consumer year
    python benchmarks/bench_fast.py --skip-15m --skip-50m   # neither national-scale year
    python benchmarks/bench_fast.py --quick        # small sizes, ~2 min quiet: checks the set-up
    python benchmarks/bench_fast.py --quick --engine agents   # the same without the fast engine
    python benchmarks/bench_fast.py --threads 1,2  # thread counts of (b), (b2), (d), (e)
    python benchmarks/bench_fast.py --regions 1    # no runs of the market in regions
    python benchmarks/bench_fast.py --write        # every measurement, recorded for the README

Measured in one invocation, each in its own fresh subprocess (so peak memory is per
measurement, and a crash, an out-of-memory kill or a timeout is reported, not fatal):

 (a) the fast engine against the reference on the same scenario: `beauty_guides` at
     10,000 consumers for a year (365 days), median wall time of `--repeats` runs (seeds 1..n) on
     each engine after one warm-up run at a tiny size (JIT compilation excluded, reported
     apart; the candidate runs each seed A_ROUNDS times, as its runs take tens of ms);
     consumer-days per second of each and their ratio (one thread);
 (b) consumer-days per second of the fast engine at 1,000,000 consumers and 3 brands for
     365 days: `scenarios/bench_three_brands.toml`, every mechanism on, scaled up from its
     shipped 1,500 consumers (see `scaled_overrides`) twice: with its staff (stores, hence
     guides, KOCs, employee distributors) scaled with the population — a stress test, one
     guide per ~170 consumers — and (b2) with staff at the national case's density (one
     store per 15M / 3,600 consumers, as Bosideng; see `national_density`);
 (c) peak memory per consumer of (b): peak RSS of the run (VmHWM, reset after the warm-up
     where the kernel allows) minus the RSS of the interpreter with the package imported
     and compiled, divided by the consumers;
 (d) time and peak memory of a 365-day run at 15,000,000 consumers with 9,000 guides:
     `scenarios/national_guides.toml` (3,600 stores x 2.5 guides), scaled up from its
     shipped 2,000 consumers; the time is the whole subprocess's (start-up, loading the
     compiled engine, the warm-up, the population's build and the run);
 (e) the same at 50,000,000 consumers with staff at the national density (12,000 stores,
     30,000 guides): time and peak memory, under its own timeout (`--timeout-50m`, an hour by
     default); a run that does not finish in time is reported as "not reached in N min";
 (f) the first run of the README's main command, `siyu run scenarios/beauty_guides.toml`, on
     a fresh install: the package (sim/, scenarios/, data/, pyproject.toml, backend/,
     without any `__pycache__`) is copied to a temporary folder, so the engine's in-tree
     cache there is empty, and run from it with `PYTHONPATH` pointing at it and
     `NUMBA_CACHE_DIR` at a fresh empty folder. First what `pip install -e .` does after
     building (`backend/siyu_build.py`: `python -m sim.fast`, compiling the engine into the
     copy's caches), timed, then the command; then a second (warm) run of the same command
     from the same copy; then the command on a fresh copy the install did not compile (a
     wheel install, another Numba, `SIYU_COMPILE_AT_INSTALL=0`: the run compiles, on two
     cores) and on another compiled in one process; wall time of each whole command;
 (g) the cost of `--events` output: (b)'s run again with every order, membership event,
     lapse and the customer summary written as Parquet (`sim.runner.run(events=...)`, what
     `siyu run --events` does), time and peak memory against (b) without, and whether the
     ledger is the same (recording must not change it).

(b), (b2), (d) and (e) run at each thread count of `--threads` (default: 1 and every core
this process may use), the engine's threads set in the subprocess with
`numba.set_num_threads`; the final table has a threads column and prints, per measurement,
the speed at N threads over the speed at 1 and whether the ledger is the same. (a) and (g)
run at one thread. Then each runs once more with its market in `--regions` regions (default:
every usable core), a thread each (`sim.regions`, `siyu run --regions`): the same market per
consumer, as R markets of N/R with no tie, visit or guide crossing a region, so its ledger is
another draw of the market, not the same bytes; its rows say "in R regions", are judged
against the same targets, and a row gives its speed over the whole market's at one thread
with its GMV and members against the whole market's.

The peer (unless `--skip-peer`): `benchmarks/bench_peer.py`'s `peer_table`, the Bass
diffusion workload in Siyu and in Starsim side by side, at 1,000,000 and 10,000,000
consumers (100,000 with `--quick`); its table is printed and its ratio (Siyu's speed over
Starsim's minimal module's, build included) goes into the final table. Without that file,
or where it cannot run, the benchmark says so in one line and goes on.

The final table puts the targets beside the figures: (a) fast >= 50x the reference at 10k
consumers; (b) >= 25M consumer-days/s at 1M consumers and 3 brands, (b2) >= 40M; (d) 15M x
365 days in < 45 s and < 2.5 GB peak RSS; (e) 50M x 365 days in < 5 min and < 12 GB; (f)
the first run on a fresh install in < 20 s; the peer: Siyu >= 2x Starsim's minimal module at
1M and 10M consumers. With `--quick` (or other sizes) the figures are shown but not judged
against the size-bound targets; (f) and the ledger's identity with and without events are
judged at any size. The exit status is 1 when a measurement crashed (a timeout is a target
not reached, not a crash) or events changed the ledger, else 0. Figures are from one
machine; compare ratios, not absolute numbers, across machines. The benchmark is never part
of the test suite (tests/test_bench_fast.py only checks its plumbing at a tiny size).

`--write` (at the targets' sizes, engines and thread counts; refused otherwise, exit 2)
records the final table in benchmarks/performance.json and rewrites the README's
performance table and first-run figures from it (`performance.py`); a measurement left out
keeps its recorded rows. Nothing is recorded when a measurement crashed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "benchmarks") not in sys.path:  # imported from elsewhere (the tests)
    sys.path.insert(0, str(ROOT / "benchmarks"))
from child import (  # noqa: E402  (the benchmarks' one child runner and reader of /proc)
    RESULT,
    maxrss_bytes,
    not_reached,
    reset_peak,
    run_child,
    status_bytes,
)

from sim.machine import usable_cores  # noqa: E402  (light: no NumPy, no Numba)

TARGET_SPEEDUP = 50.0
TARGET_CDPS = {"b": 25e6, "b2": 40e6}
TARGET_NATIONAL = {"d": (45.0, 2.5e9), "e": (300.0, 12e9)}
"""(d) and (e): (seconds, peak bytes)."""
TARGET_FIRST_RUN = 20.0
TARGET_PEER = 2.0
PEER_JUDGED = (1_000_000, 10_000_000)
"""The sizes at which the peer's ratio is judged."""

FULL = {
    "ab": ("beauty_guides", 10_000, 365),
    "big": ("bench_three_brands", 1_000_000, 365),
    "national": ("national_guides", 15_000_000, 365),
    "fifty": ("national_guides", 50_000_000, 365),
}
QUICK = {
    "ab": ("beauty_guides", 2_000, 60),
    "big": ("bench_three_brands", 100_000, 30),
    "national": ("national_guides", 200_000, 30),
    "fifty": ("national_guides", 400_000, 30),
}
PEER_SIZES = {"full": [1_000_000, 10_000_000], "quick": [100_000]}
WARMUP = {"run.consumers": 300, "run.days": 5}
"""A tiny run of the shipped scenario first in every subprocess: JIT compilation and
first-call costs, timed apart (`warmup_seconds`)."""

FIRST_RUN_ARGS = ["run", "scenarios/beauty_guides.toml"]
"""The README's main command (`siyu run scenarios/beauty_guides.toml`), measured by (f)."""
FIRST_RUN_CODE = (
    "import os, sys; import sim; "
    "root = os.path.realpath(os.environ['PYTHONPATH']); "
    "here = os.path.realpath(sim.__file__); "
    "assert here.startswith(root + os.sep), f'sim imported from {here}, not {root}'; "
    "from sim.launch import command; sys.argv[0] = 'siyu'; command()"
)
"""What the `siyu` console script runs, after checking that `sim` is the fresh copy's."""
FRESH_COPY = ("sim", "scenarios", "data", "pyproject.toml", "backend")
"""What a fresh install holds of the source tree (copied without compiled files)."""
COMPILED = ("__pycache__", "*.pyc", "*.nbi", "*.nbc")


A_ROUNDS = 5
"""(a): how many times the candidate engine runs each seed (its runs are short)."""


@dataclass
class Spec:
    """One measurement, run by a fresh subprocess (`--child`)."""

    label: str
    scenario: str
    engine: str
    overrides: dict[str, Any]
    repeats: int = 1
    rounds: int = 1  # each seed's run this many times (runs of a few tens of ms are noisy)
    seed: int = 1
    warmup: bool = True
    progress: bool = True
    threads: int = 1
    events: bool = False
    regions: int = 1  # the market run as this many regions, one thread each (sim.regions)


@dataclass
class Result:
    """What a measurement gives back (`error` set when it crashed or timed out)."""

    label: str
    engine: str
    consumers: int
    days: int
    seconds: list[float] = field(default_factory=list)
    warmup_seconds: float = 0.0
    wall_seconds: float = 0.0  # the whole subprocess: start-up, imports, warm-up, runs
    baseline_rss: int = 0
    peak_rss: int = 0
    peak_reset: bool = False
    gmv: float = 0.0
    members: float = 0.0
    threads: int = 1
    events: bool = False
    regions: int = 1
    event_rows: int = 0
    event_bytes: int = 0
    ledger_sha256: str = ""  # the last run's ledger, compared across threads and events
    timed_out: bool = False
    error: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float("nan")

    @property
    def consumer_days_per_s(self) -> float:
        return self.consumers * self.days / self.median if self.seconds else float("nan")

    @property
    def peak_above_baseline(self) -> int:
        return max(self.peak_rss - self.baseline_rss, 0)

    @property
    def bytes_per_consumer(self) -> float:
        if not self.peak_rss:
            return float("nan")
        return self.peak_above_baseline / self.consumers


@dataclass
class FirstRun:
    """(f): wall seconds of the README's command on fresh copies: after the install's
    compile, warm, and with nothing compiled (on two cores, in one process)."""

    first_seconds: float = float("nan")  # after the install's compile
    warm_seconds: float = float("nan")
    cold_seconds: float = float("nan")  # on a fresh copy no install compiled
    one_process_seconds: float = float("nan")  # the same, compiled in one process
    install_seconds: float = float("nan")  # the install's compile
    cache_files: int = 0  # compiled entries the install's compile left in the caches
    timed_out: bool = False
    error: str = ""


# ---------------------------------------------------------------------------- scenarios
def scaled_overrides(name: str, consumers: int, days: int, scale_counts: bool | float) -> dict:
    """Overrides that run a shipped scenario at `consumers` with the same market per
    consumer: store visits, ad budgets (and the platform's reference ad demand, so the CPM
    is unchanged) and tooling grow with the population; with `scale_counts`, so do stores
    (hence guides), KOCs and employee distributors. Without it those stay as in the file
    (national_guides: 3,600 stores and 9,000 guides are the real counts); a number instead
    of True scales those counts by that factor instead of the population's."""
    from sim.scenario import load_scenario

    sc = load_scenario(name)
    f = consumers / sc.run.consumers
    out: dict[str, Any] = {
        "run.consumers": consumers,
        "run.days": days,
        "platform.reference_ad_demand": sc.platform.reference_ad_demand * f,
    }
    for b, bp in sc.brands.items():
        st = bp.strategy
        out[f"brands.{b}.store_visits_per_day"] = bp.store_visits_per_day * f
        out[f"brands.{b}.strategy.ad_budget_per_day"] = st.ad_budget_per_day * f
        out[f"brands.{b}.strategy.tooling_per_day"] = st.tooling_per_day * f
        if scale_counts:
            g = f if scale_counts is True else float(scale_counts)
            out[f"brands.{b}.stores"] = max(round(bp.stores * g), min(bp.stores, 1))
            out[f"brands.{b}.strategy.koc_count"] = round(st.koc_count * g)
            out[f"brands.{b}.strategy.employee_distributors"] = round(st.employee_distributors * g)
    return out


def national_density(name: str, consumers: int) -> float:
    """The factor that gives scenario `name` at `consumers` as many consumers per store as
    the national case (national_guides: 3,600 stores for 15,000,000 consumers)."""
    from sim.scenario import load_scenario

    stores = sum(bp.stores for bp in load_scenario(name).brands.values())
    nat = load_scenario("national_guides").brands["bosideng"].stores
    return consumers / (15_000_000 / nat) / max(stores, 1)


DENSITIES = ("scaled", "national", "file")
"""How a profiling script staffs the scaled scenario (`staff_counts`)."""


def staff_counts(density: str, name: str, consumers: int) -> bool | float:
    """`scaled_overrides`' `scale_counts` for a density of DENSITIES: staff grown with the
    population ("scaled"), at the national density ("national") or as in the file ("file")."""
    if density == "national":
        return national_density(name, consumers)
    return density == "scaled"


# ---------------------------------------------------------------------------- the child
def set_threads(threads: int) -> None:
    """The engine's thread count (Numba's), before anything runs; one clear error when the
    count is above what Numba was started with (`NUMBA_NUM_THREADS`)."""
    import numba

    most = numba.config.NUMBA_NUM_THREADS
    if not 1 <= threads <= most:
        raise SystemExit(f"--threads: {threads} is not in 1..{most} (NUMBA_NUM_THREADS)")
    numba.set_num_threads(threads)


def ledger_fingerprint(ledger: Any) -> str:
    """SHA-256 of a ledger frame's values and index (as benchmarks/bench_events.py)."""
    import pandas as pd

    values = pd.util.hash_pandas_object(ledger, index=True).to_numpy()
    return hashlib.sha256(values.tobytes()).hexdigest()


def _event_files(folder: Path) -> tuple[int, int]:
    """Rows and bytes on disk of the event files a run wrote into `folder`."""
    import pyarrow.parquet as pq

    from sim.events import FILES

    rows = sum(pq.ParquetFile(folder / f).metadata.num_rows for f in FILES)
    return rows, sum((folder / f).stat().st_size for f in FILES)


def run_measurement(spec: Spec, echo: Callable[[str], None] | None = None) -> Result:
    """Run a measurement in this process (the subprocess calls this): the thread count,
    optional warm-up, baseline RSS, then `repeats` timed runs (each writing its events to a
    temporary folder with `spec.events`); peak RSS from VmHWM (or ru_maxrss)."""
    t_start = time.perf_counter()
    from sim.runner import run
    from sim.scenario import load_scenario

    if spec.engine == "fast":
        set_threads(spec.threads)
    sc = load_scenario(spec.scenario, spec.overrides)
    days, consumers = sc.run.days, sc.run.consumers
    res = Result(spec.label, spec.engine, consumers, days, threads=spec.threads)
    res.events, res.regions = spec.events, spec.regions
    scratch = Path(tempfile.mkdtemp(prefix="bench-events-")) if spec.events else None
    try:
        if spec.warmup:
            t0 = time.perf_counter()
            warm = None if scratch is None else scratch / "warm-up"
            run(load_scenario(spec.scenario, WARMUP), 0, engine=spec.engine, events=warm)
            res.warmup_seconds = time.perf_counter() - t0
        res.baseline_rss = status_bytes("VmRSS")
        res.peak_reset = reset_peak()
        step = max(days // 10, 1)
        for k in range(spec.repeats * spec.rounds):
            t0 = time.perf_counter()
            last = [t0]

            def progress(day: int, t0: float = t0, k: int = k, last: list = last) -> None:
                # a line at each tenth of the run, at most one every 5 s (and the last day)
                now = time.perf_counter()
                if echo is None or not (day == days or (day % step == 0 and now - last[0] > 5)):
                    return
                last[0] = now
                runs = spec.repeats * spec.rounds
                echo(
                    f"    {spec.label} · {spec.engine} · run {k + 1}/{runs} · "
                    f"day {day}/{days} · {now - t0:.0f} s"
                )

            folder = None if scratch is None else scratch / f"run-{k}"
            seed = spec.seed + k % spec.repeats
            result = run(
                sc, seed, engine=spec.engine, progress=progress, events=folder, regions=spec.regions
            )
            res.seconds.append(time.perf_counter() - t0)
            market = result.summary["kpis"]["market"]
            res.gmv, res.members = float(market["gmv"]), float(market["members"])
            res.ledger_sha256 = ledger_fingerprint(result.ledger)
            if folder is not None:
                res.event_rows, res.event_bytes = _event_files(folder)
                shutil.rmtree(folder)
            del result
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    res.peak_rss = status_bytes("VmHWM") if res.peak_reset else 0
    if not res.peak_rss:  # no /proc, or no reset: the process's lifetime peak
        res.peak_rss = max(status_bytes("VmHWM"), maxrss_bytes())
    res.wall_seconds = time.perf_counter() - t_start
    return res


def _child(payload: str) -> None:
    spec = Spec(**json.loads(payload))
    res = run_measurement(spec, echo=lambda line: print(line, file=sys.stderr, flush=True))
    print(RESULT + json.dumps(asdict(res)), flush=True)


# ---------------------------------------------------------------------------- the parent
def measure(spec: Spec, timeout: float, echo: Callable[[str], None] = print) -> Result:
    """Run one measurement in a fresh subprocess (`child.run_child`), streaming its progress
    lines; a crash, an out-of-memory kill or a timeout gives a Result with `error` set."""
    sc_days = spec.overrides.get("run.days", 0)
    sc_consumers = spec.overrides.get("run.consumers", 0)
    extra = (
        (" · events on" if spec.events else "")
        + (
            f" · {spec.threads} thread{'s' if spec.threads > 1 else ''}"
            if spec.engine == "fast"
            else ""
        )
        + (f" · {spec.regions} regions" if spec.regions > 1 else "")
    )
    echo(
        f"[{spec.label}] {spec.engine} · {spec.scenario} · {sc_consumers:,} consumers × "
        f"{sc_days} days · {spec.repeats * spec.rounds} run(s){extra}"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if spec.threads > usable_cores() and "NUMBA_NUM_THREADS" not in env:
        env["NUMBA_NUM_THREADS"] = str(spec.threads)  # more threads than cores, on purpose
    cmd = [sys.executable, Path(__file__).resolve(), "--child", json.dumps(asdict(spec))]
    out = run_child(cmd, env, timeout, echo, cwd=ROOT)
    if out.ok:
        assert out.result is not None
        res = Result(**{k: v for k, v in out.result.items() if k in Result.__dataclass_fields__})
        res.wall_seconds = out.wall
        if not res.peak_rss:
            res.peak_rss = out.peak_rss
        return res
    res = Result(spec.label, spec.engine, sc_consumers, sc_days, wall_seconds=out.wall)
    res.threads, res.events, res.regions = spec.threads, spec.events, spec.regions
    res.peak_rss = out.peak_rss
    res.timed_out, res.error = out.timed_out, out.error
    echo(f"[{spec.label}] {'STOPPED' if res.timed_out else 'FAILED'}: {res.error}")
    return res


def fresh_copy(dest: Path) -> Path:
    """Copy what an install of the package holds (`FRESH_COPY`) into `dest`, without any
    compiled file (bytecode, Numba's index and data), so that nothing there is cached."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in FRESH_COPY:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=shutil.ignore_patterns(*COMPILED))
        elif source.is_file():
            shutil.copy2(source, dest / name)
    return dest


def cached_entries(*folders: Path) -> int:
    """Numba cache index files (`*.nbi`, one per compiled function) under the folders."""
    return sum(1 for folder in folders if folder.is_dir() for _ in folder.rglob("*.nbi"))


def first_run_command() -> list[str]:
    """The README's main command as the `siyu` console script runs it."""
    return [sys.executable, "-c", FIRST_RUN_CODE, *FIRST_RUN_ARGS]


def install_compile(copy: Path, env: dict[str, str], timeout: float) -> bool:
    """What `pip install -e .` does after building the editable wheel: the fast engine
    compiled into the copy's caches (`backend/siyu_build.py`'s `compile_ahead`, here in this
    interpreter rather than pip's build environment)."""
    backend = str(ROOT / "backend")
    if backend not in sys.path:
        sys.path.insert(0, backend)
    import siyu_build

    return siyu_build.compile_ahead(copy, env=env, timeout_s=timeout)


FIRST_RUNS = (
    ("first_seconds", True, "1"),
    ("warm_seconds", False, "1"),
    ("cold_seconds", False, "1"),
    ("one_process_seconds", False, "0"),
)
"""(f)'s runs: the `FirstRun` field each fills, whether the install compiled the engine
first, and `SIYU_COMPILE_ASIDE`. Every run but the warm one is on a fresh copy."""


def first_run(timeout: float, echo: Callable[[str], None] = print) -> FirstRun:
    """(f): the README's main command on a fresh copy of the package after the install's
    compile (`install_compile`), timed wall-clock as a user meets it; then again from the
    same copy (warm); then on a fresh copy the install did not compile (`pip install .`, a
    different Numba, `SIYU_COMPILE_AT_INSTALL=0`: the run compiles, on two cores:
    `sim.fast.aside`); then on another compiled in one process (`SIYU_COMPILE_ASIDE=0`)."""
    cmd = " ".join(["siyu", *FIRST_RUN_ARGS])
    echo(f"[f] first run of `{cmd}` on a fresh copy of the package after the install's")
    echo("    compile, a warm run, and first runs on fresh copies no install compiled,")
    echo("    on two cores and in one process")
    out = FirstRun()
    with tempfile.TemporaryDirectory(prefix="siyu-fresh-") as tmp:
        for attr, installed, aside in FIRST_RUNS:
            if attr != "warm_seconds":  # a fresh copy and empty caches
                folder = Path(tmp) / attr
                copy = fresh_copy(folder / "siyu")
                cache = folder / "numba-cache"
                cache.mkdir()
                folders = (copy / "sim", cache)
                if cached_entries(*folders):
                    out.error = "the fresh copy holds compiled files"
                    break
            env = dict(os.environ, PYTHONPATH=str(copy), NUMBA_CACHE_DIR=str(cache))
            env["SIYU_COMPILE_ASIDE"] = aside
            if installed:
                t0 = time.perf_counter()
                if not install_compile(copy, env, timeout):
                    out.error = "the install's compile failed"
                    break
                out.install_seconds = time.perf_counter() - t0
                out.cache_files = cached_entries(*folders)
                echo(f"    the install's compile: {out.install_seconds:.1f} s")
            t0 = time.perf_counter()
            try:
                proc = subprocess.run(
                    first_run_command(),
                    cwd=copy,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    timeout=timeout,
                )
            except subprocess.TimeoutExpired:
                out.timed_out, out.error = True, not_reached(timeout)
                break
            seconds = time.perf_counter() - t0
            if proc.returncode != 0:
                last = next((x for x in reversed(proc.stdout.splitlines()) if x.strip()), "")
                out.error = f"exit code {proc.returncode}: {last[-200:]}"
                break
            setattr(out, attr, seconds)
            echo(f"    {attr.rsplit('_', 1)[0].replace('_', ' ')} run: {seconds:.1f} s")
    if out.error:
        echo(f"[f] {'STOPPED' if out.timed_out else 'FAILED'}: {out.error}")
    return out


def load_peer(echo: Callable[[str], None] = print) -> Any:
    """benchmarks/bench_peer.py as a module, or None (said in one line) where it is missing
    or does not import."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    try:
        import bench_peer
    except ModuleNotFoundError as exc:
        if exc.name != "bench_peer":
            echo(f"[peer] skipped: benchmarks/bench_peer.py needs {exc.name}")
        else:
            echo("[peer] skipped: benchmarks/bench_peer.py is not there")
        return None
    except Exception as exc:  # the peer's file is another part's: it must not stop us
        echo(f"[peer] skipped: benchmarks/bench_peer.py does not import: {exc}")
        return None
    return bench_peer


def measure_peer(
    sizes: list[int], repeats: int, timeout: float, echo: Callable[[str], None] = print
) -> tuple[list[dict], str]:
    """The peer's rows and its printed table (`bench_peer.peer_table`, `format_peer`);
    no rows where it is missing or fails."""
    peer = load_peer(echo)
    if peer is None:
        return [], ""
    echo(f"[peer] Bass diffusion, Siyu and Starsim, at {', '.join(f'{n:,}' for n in sizes)}")
    try:
        rows = list(peer.peer_table(sizes, repeats, timeout, echo))
        return rows, peer.format_peer(rows)
    except Exception as exc:  # never let the peer end the benchmark
        echo(f"[peer] FAILED: {type(exc).__name__}: {exc}")
        return [], ""


# ---------------------------------------------------------------------------- reporting
Row = tuple[str, str, str, str, str]
"""A line of the final table: measurement, threads, figure, target, met."""


def _gb(x: float) -> str:
    return f"{x / 1e9:.2f} GB"


def _fmt_rate(x: float) -> str:
    return "–" if x != x else f"{x / 1e6:.2f}M" if x >= 1e6 else f"{x:,.0f}"


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("yes" if ok else "NO")


def _failed(res: Result | FirstRun) -> str:
    return res.error if res.timed_out else f"failed: {res.error}"


def label(base: str, threads: int, regions: int = 1) -> str:
    """A measurement's key: its letter, with the thread count unless it is one and the
    regions' count unless the market runs whole (b, b@2, b@2r2)."""
    key = base if threads == 1 else f"{base}@{threads}"
    return key if regions == 1 else f"{base}@{threads}r{regions}"


def _base(key: str) -> str:
    return key.split("@")[0]


def _in_regions(res: Result) -> str:
    """The suffix of a measurement's rows when its market ran in regions."""
    return f", in {res.regions} regions" if res.regions > 1 else ""


def _change(x: float, base: float) -> str:
    """x against base as a signed percentage ("+0.07%"), or "–" against nothing."""
    return f"{x / base - 1:+.2%}" if base else "–"


def _seconds(x: float | None) -> str:
    return "–" if x is None or x != x else f"{x:.2f} s"


def summary_rows(
    results: dict[str, Result],
    judged: bool,
    first: FirstRun | None = None,
    peer: list[dict] | None = None,
) -> list[Row]:
    """(measurement, threads, figure, target, met) rows for the final table; `met` is "n/a"
    when the sizes are not the targets' sizes (except (f) and the ledger's identity with
    and without events, which do not depend on them)."""
    rows: list[Row] = []

    def add(
        what: str,
        threads: str,
        figure: str,
        target: str = "",
        ok: bool | None = None,
        always: bool = False,
    ) -> None:
        if not target or target == "(reported)":
            met = ""
        else:
            met = _verdict(ok if judged or always else None)
        rows.append((what, threads, figure, target, met))

    ref, cand = results.get("a-ref"), results.get("a-cand")
    speedup = f">= {TARGET_SPEEDUP:.0f}x"
    if ref is not None and cand is not None:
        sfx = f"{cand.consumers:,} consumers x {cand.days} d"
        t = str(cand.threads)
        if ref.error or cand.error:
            add(f"(a) speed-up at {sfx}", t, _failed(ref if ref.error else cand), speedup, False)
        else:
            ratio = cand.consumer_days_per_s / ref.consumer_days_per_s
            add(f"(a) {ref.engine} consumer-days/s, {sfx}", "", _fmt_rate(ref.consumer_days_per_s))
            add(f"(a) {cand.engine} consumer-days/s, {sfx}", t, _fmt_rate(cand.consumer_days_per_s))
            add(f"(a) speed-up {cand.engine} / {ref.engine}", t, f"{ratio:.1f}x", speedup,
                ratio >= TARGET_SPEEDUP)  # fmt: skip
    by_base: dict[str, list[Result]] = {}
    for key, res in results.items():
        by_base.setdefault(_base(key), []).append(res)

    def thread_ratios(key: str) -> None:
        """Speed at N threads over speed at 1 (same invocation), and whether the ledger is
        the same: one row per N, after the measurement's own rows."""
        one = results.get(key)
        if one is None or one.error:
            return
        for res in by_base.get(key, []):
            if res.threads == 1 or res.error or res.regions > 1:
                continue
            ratio = res.consumer_days_per_s / one.consumer_days_per_s
            same = "same" if res.ledger_sha256 == one.ledger_sha256 else "differs"
            add(
                f"({key}) speed {res.threads} threads / 1 thread",
                str(res.threads),
                f"{ratio:.2f}x (ledger {same})",
                "(reported)",
            )
        for res in by_base.get(key, []):
            if res.regions == 1 or res.error:
                continue
            ratio = res.consumer_days_per_s / one.consumer_days_per_s
            add(
                f"({key}) speed in {res.regions} regions / the market whole on 1 thread",
                str(res.threads),
                f"{ratio:.2f}x (GMV {_change(res.gmv, one.gmv)}, members "
                f"{_change(res.members, one.members)}: another draw of the market)",
                "(reported)",
            )

    for key, what in (("b", "3 brands"), ("b2", "3 brands, national staff density")):
        rate = f">= {TARGET_CDPS[key] / 1e6:.0f}M"
        for res in by_base.get(key, []):
            sfx = f"{res.consumers:,} consumers x {res.days} d, {what}{_in_regions(res)}"
            t = str(res.threads)
            if res.error:
                add(f"({key}) consumer-days/s, {sfx}", t, _failed(res), rate, False)
                continue
            cdps = res.consumer_days_per_s
            add(f"({key}) {res.engine} consumer-days/s, {sfx}", t, _fmt_rate(cdps), rate,
                cdps >= TARGET_CDPS[key])  # fmt: skip
            if key == "b" and res.regions == 1:
                per = f"{res.bytes_per_consumer:,.0f} B (peak {_gb(res.peak_rss)})"
                add(f"(c) peak memory per consumer, {sfx}", t, per, "(reported)")
        thread_ratios(key)
    for key, staff in (("d", "9,000 guides"), ("e", "national staff density")):
        seconds, peak = TARGET_NATIONAL[key]
        limit = f"< {seconds / 60:.0f} min" if seconds >= 120 else f"< {seconds:.0f} s"
        memory = f"< {peak / 1e9:g} GB"
        for res in by_base.get(key, []):
            sfx = f"{res.consumers:,} consumers x {res.days} d, {staff}{_in_regions(res)}"
            t = str(res.threads)
            if res.error:
                add(f"({key}) time and memory, {sfx}", t, _failed(res), f"{limit}, {memory}", False)
                continue
            took = f"{res.wall_seconds:.1f} s (run {res.median:.1f} s)"
            add(f"({key}) time, {sfx}", t, took, limit, res.wall_seconds < seconds)
            used = f"{_gb(res.peak_rss)} ({res.bytes_per_consumer:,.0f} B/consumer)"
            add(f"({key}) peak memory, {sfx}", t, used, memory, res.peak_rss < peak)
        thread_ratios(key)
    if first is not None:
        cmd = " ".join(["siyu", *FIRST_RUN_ARGS])
        target = f"< {TARGET_FIRST_RUN:.0f} s"
        if first.error:
            add(
                f"(f) first run on a fresh install: {cmd}",
                "",
                _failed(first),
                target,
                False,
                always=True,
            )
        else:
            took = f"{first.first_seconds:.1f} s"
            add(
                f"(f) first run on a fresh install: {cmd}",
                "",
                took,
                target,
                first.first_seconds < TARGET_FIRST_RUN,
                always=True,
            )
            add(
                "(f) the install's compile (pip install -e .: python -m sim.fast)",
                "",
                f"{first.install_seconds:.1f} s ({first.cache_files} compiled entries cached)",
                "(reported)",
            )
            add(f"(f) second (warm) run: {cmd}", "", f"{first.warm_seconds:.1f} s", "(reported)")
            add(
                "(f) first run the install did not compile (SIYU_COMPILE_AT_INSTALL=0)",
                "",
                f"{first.cold_seconds:.1f} s",
                "(reported)",
            )
            one = first.one_process_seconds
            add(
                "(f) the same compiled in one process (SIYU_COMPILE_ASIDE=0)",
                "",
                f"{one:.1f} s; two processes {one / first.cold_seconds:.2f}x as fast",
                "(reported)",
            )
    for on in by_base.get("g", []):
        off = results.get(label("b", on.threads))
        t = str(on.threads)
        sfx = f"{on.consumers:,} consumers x {on.days} d"
        if on.error or off is None or off.error:
            why = _failed(on) if on.error else "no run without events to compare"
            add(f"(g) --events on / off, {sfx}", t, why, "ledger unchanged", False, always=True)
            continue
        took = f"{on.median / off.median:.2f}x ({on.median:.1f} s / {off.median:.1f} s)"
        add(f"(g) run time, --events on / off, {sfx}", t, took, "(reported)")
        a, b = off.peak_above_baseline, on.peak_above_baseline
        mem = f"{b / a:.2f}x ({_gb(b)} / {_gb(a)} above start)" if a and b else "–"
        add(f"(g) peak memory, --events on / off, {sfx}", t, mem, "(reported)")
        wrote = f"{on.event_rows:,} rows, {on.event_bytes / 1e6:.1f} MB of Parquet"
        add(f"(g) events written, {sfx}", t, wrote, "(reported)")
        same = on.ledger_sha256 == off.ledger_sha256
        add(
            f"(g) ledger with events = without, {sfx}",
            t,
            "same" if same else "DIFFERS",
            "identical",
            same,
            always=True,
        )
    for row in peer or []:  # bench_peer.peer_table's rows
        n = int(row["consumers"])
        ratio = row.get("ratio")
        what = f"(peer) speed Siyu / Starsim-min, Bass, build included, {n:,} consumers"
        target = f">= {TARGET_PEER:g}x" if n in PEER_JUDGED else "(reported)"
        if ratio is None or ratio != ratio:  # None or NaN: a side could not run
            rows.append((what, "", "not measured: a side could not run", target, "n/a"))
            continue
        cells = row.get("cells", {})
        siyu, ss_min = cells.get("siyu"), cells.get("starsim-min")
        sides = (
            f"Siyu {_seconds(siyu.total)} (build {_seconds(siyu.build_median)}), "
            f"Starsim-min {_seconds(ss_min.total)}"
        )
        add(what, "", f"{float(ratio):.2f}x ({sides})", target, float(ratio) >= TARGET_PEER)
    return rows


def format_table(rows: list[Row]) -> str:
    head = ("measurement", "threads", "figure", "target", "met")
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(head)]  # fmt: skip
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [line.format(*head), line.format(*("-" * w for w in widths))]
    return "\n".join(out + [line.format(*r) for r in rows])


def _detail(res: Result) -> str:
    name = f"{res.label} {res.engine}"
    if res.error:
        return f"  {name}: {'STOPPED' if res.timed_out else 'FAILED'} ({res.error})"
    runs = ", ".join(f"{s:.2f}" for s in res.seconds)
    events = (
        f" · events {res.event_rows:,} rows, {res.event_bytes / 1e6:.1f} MB" if res.events else ""
    )
    return (
        f"  {name}: {res.consumers:,} × {res.days} d · {res.threads} thread(s)"
        f"{f' · {res.regions} regions' if res.regions > 1 else ''} · runs [{runs}] s · "
        f"median {res.median:.2f} s · {_fmt_rate(res.consumer_days_per_s)} consumer-days/s · "
        f"warm-up {res.warmup_seconds:.1f} s · subprocess {res.wall_seconds:.1f} s · "
        f"peak {_gb(res.peak_rss)} (baseline {_gb(res.baseline_rss)}"
        f"{'' if res.peak_reset else ', peak not reset after warm-up'}) · "
        f"GMV {res.gmv:,.0f} · members {res.members:,.0f}{events} · "
        f"ledger {res.ledger_sha256[:12]}"
    )


# ---------------------------------------------------------------------------- main
class _Parser(argparse.ArgumentParser):
    """Bad options end in one line naming the option, exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"bench_fast.py: {message}\n")


def _positive(kind: type) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be above 0 (got {text})")
        return value

    return parse


def _threads(text: str) -> list[int]:
    """`--threads 1,2`: the thread counts, each at least 1, in order, without repeats."""
    counts: list[int] = []
    for part in text.split(","):
        try:
            n = int(part)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{part!r} is not a whole number") from None
        if n < 1:
            raise argparse.ArgumentTypeError(f"thread counts are at least 1 (got {n})")
        if n not in counts:
            counts.append(n)
    return counts


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = _Parser(description=__doc__.splitlines()[0], formatter_class=argparse.RawTextHelpFormatter)
    count, seconds = _positive(int), _positive(float)
    ap.add_argument("--engine", default="fast", help="engine measured (default fast)")
    ap.add_argument("--reference", default="agents", help="reference engine for (a)")
    ap.add_argument(
        "--quick", action="store_true", help="small sizes, size-bound targets not judged"
    )
    ap.add_argument("--skip-15m", action="store_true", help="leave out (d)")
    ap.add_argument("--skip-50m", action="store_true", help="leave out (e)")
    ap.add_argument("--skip-first-run", action="store_true", help="leave out (f)")
    ap.add_argument("--skip-events", action="store_true", help="leave out (g)")
    ap.add_argument("--skip-peer", action="store_true", help="leave out the peer (Starsim)")
    ap.add_argument(
        "--threads",
        type=_threads,
        help=f"thread counts of (b), (b2), (d), (e), comma-separated (default 1,{usable_cores()})",
    )
    ap.add_argument(
        "--regions",
        type=count,
        help="(b), (b2), (d) and (e) again with the market in this many regions, a thread each "
        f"(sim.regions; default {usable_cores()}, every usable core; 1: none)",
    )
    ap.add_argument("--repeats", type=count, help="runs per engine in (a), and the peer's (3)")
    ap.add_argument("--ab-consumers", type=count, help="(a) consumers (10,000)")
    ap.add_argument("--ab-days", type=count, help="(a) days (365)")
    ap.add_argument("--big-consumers", type=count, help="(b, c, g) consumers (1,000,000)")
    ap.add_argument("--big-days", type=count, help="(b, c, g) days (365)")
    ap.add_argument("--national-consumers", type=count, help="(d) consumers (15,000,000)")
    ap.add_argument("--national-days", type=count, help="(d) days (365)")
    ap.add_argument("--fifty-consumers", type=count, help="(e) consumers (50,000,000)")
    ap.add_argument("--fifty-days", type=count, help="(e) days (365)")
    ap.add_argument("--timeout", type=seconds, default=1800.0, help="seconds per subprocess (1800)")
    ap.add_argument(
        "--timeout-50m", type=seconds, default=3600.0, help="seconds for each (e) subprocess (3600)"
    )
    ap.add_argument(
        "--write",
        action="store_true",
        help="record the figures in benchmarks/performance.json and rewrite the README's "
        "(target sizes, default engines and threads only)",
    )
    ap.add_argument("--child", help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def write_refused(args: argparse.Namespace) -> str:
    """Why `--write` may not record this invocation (empty when it may): the README's
    figures are the targets' measurements, at their sizes, engines and thread counts."""
    if not args.write:
        return ""
    if args.quick or sizes_of(args) != FULL:
        return "--write: only at the targets' sizes (no --quick, no size options)"
    if args.engine != "fast" or args.reference != "agents":
        return "--write: only for the fast engine against the agents reference"
    if args.threads or args.regions is not None:
        return "--write: only at the default thread and region counts (no --threads, --regions)"
    return ""


def regions_of(args: argparse.Namespace) -> int:
    """`--regions`, or every usable core for the fast engine (1: no regional runs)."""
    if args.regions is not None:
        return args.regions
    return usable_cores() if args.engine == "fast" else 1


def thread_counts(args: argparse.Namespace) -> list[int]:
    """`--threads`, or 1 and every usable core (1 alone for an engine Numba does not run:
    its thread count would change nothing)."""
    if args.threads:
        return args.threads
    return sorted({1, usable_cores()}) if args.engine == "fast" else [1]


def sizes_of(args: argparse.Namespace) -> dict[str, tuple[str, int, int]]:
    """(scenario, consumers, days) of each size-bound measurement, options applied."""
    sizes = dict(QUICK if args.quick else FULL)
    for key, c_opt, d_opt in (("ab", "ab_consumers", "ab_days"),
                              ("big", "big_consumers", "big_days"),
                              ("national", "national_consumers", "national_days"),
                              ("fifty", "fifty_consumers", "fifty_days")):  # fmt: skip
        name, consumers, days = sizes[key]
        sizes[key] = (name, getattr(args, c_opt) or consumers, getattr(args, d_opt) or days)
    return sizes


def plan(args: argparse.Namespace) -> tuple[list[tuple[str, Spec]], bool]:
    """The measurements to run (key, spec) and whether the sizes are the target sizes.

    Each thread count's run of a measurement follows the previous one's, so the ratios
    compare runs made close together; (g) follows (b)'s run at the first thread count,
    the run it is compared with."""
    sizes = sizes_of(args)
    judged = sizes == FULL
    repeats = args.repeats or (1 if args.quick else 3)
    threads = thread_counts(args)
    name, consumers, days = sizes["ab"]
    ab = {"run.consumers": consumers, "run.days": days}
    specs = [
        ("a-ref", Spec("a-ref", name, args.reference, ab, repeats=repeats)),
        # the fast engine's year at 10,000 consumers takes a few tens of ms: each seed's
        # run five times, so that one run's noise does not decide the ratio
        ("a-cand", Spec("a-cand", name, args.engine, ab, repeats=repeats, rounds=A_ROUNDS)),
    ]

    regions = regions_of(args)

    def each(base: str, name: str, over: dict[str, Any]) -> None:
        for t in threads:
            specs.append((label(base, t), Spec(label(base, t), name, args.engine, over, threads=t)))
            if base == "b" and t == threads[0] and not args.skip_events:
                g = Spec(label("g", t), name, args.engine, over, threads=t, events=True)
                specs.append((g.label, g))
        if regions > 1:  # the same market in regions, a thread each (sim.regions)
            key = label(base, regions, regions)
            specs.append(
                (key, Spec(key, name, args.engine, over, threads=regions, regions=regions))
            )

    name, consumers, days = sizes["big"]
    each("b", name, scaled_overrides(name, consumers, days, True))
    each("b2", name, scaled_overrides(name, consumers, days, national_density(name, consumers)))
    if not args.skip_15m:
        name, consumers, days = sizes["national"]
        each("d", name, scaled_overrides(name, consumers, days, False))
    if not args.skip_50m:
        name, consumers, days = sizes["fifty"]
        dense = national_density(name, consumers)
        each("e", name, scaled_overrides(name, consumers, days, dense))
    return specs, judged


def failed(results: dict[str, Result], first: FirstRun | None) -> bool:
    """Whether a measurement crashed (a timeout is a target not reached) or recording
    events changed a ledger: the benchmark's exit status 1."""
    crashed = any(r.error and not r.timed_out for r in results.values())
    crashed = crashed or (first is not None and bool(first.error) and not first.timed_out)
    return crashed or any(
        row[0].startswith("(g) ledger") and row[4] != "yes"
        for row in summary_rows(results, judged=False)
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        _child(args.child)
        return 0
    refused = write_refused(args)
    if refused:
        print(f"bench_fast.py: {refused}", file=sys.stderr)
        return 2
    specs, judged = plan(args)
    threads = ",".join(map(str, thread_counts(args)))
    print(
        f"bench_fast · engine {args.engine} vs reference {args.reference} · "
        f"{'quick sizes' if args.quick else 'target sizes' if judged else 'custom sizes'} · "
        f"threads {threads} · {usable_cores()} usable cores of {os.cpu_count()} · "
        f"Python {platform.python_version()} · {platform.machine()}",
        flush=True,
    )

    def echo(line: str) -> None:
        print(line, flush=True)

    results: dict[str, Result] = {}
    first: FirstRun | None = None
    for key, spec in specs:
        timeout = args.timeout_50m if _base(key) == "e" else args.timeout
        res = measure(spec, timeout, echo=echo)
        results[key] = res
        print(_detail(res), flush=True)
        if key == "a-cand" and not args.skip_first_run:
            first = first_run(args.timeout, echo=echo)
    peer_rows: list[dict] = []
    if not args.skip_peer:
        sizes = PEER_SIZES["quick" if args.quick else "full"]
        peer_rows, text = measure_peer(
            sizes, args.repeats or (1 if args.quick else 3), args.timeout, echo
        )
        if text:
            print(text, flush=True)
    print()
    if not judged:
        print("sizes differ from the targets' sizes: figures shown, size-bound targets not judged")
    rows = summary_rows(results, judged, first, peer_rows)
    print(format_table(rows))
    if failed(results, first):
        if args.write:
            print("bench_fast.py: a measurement failed: nothing recorded", file=sys.stderr)
        return 1
    if args.write:
        record(rows, first)
    return 0


def record(rows: list[Row], first: FirstRun | None) -> None:
    """`--write`: the final table's rows into benchmarks/performance.json, each measurement
    that gave rows replacing its old ones (the others kept), and the README's figures
    rewritten from the record (`performance`)."""
    import performance

    measured = {performance.group_of(row) for row in rows}
    figures = {}
    if first is not None and not first.error:
        figures["first_run"] = {
            "first": round(first.first_seconds, 2),
            "install": round(first.install_seconds, 2),
            "warm": round(first.warm_seconds, 2),
            "cold": round(first.cold_seconds, 2),
            "one-process": round(first.one_process_seconds, 2),
        }
    performance.write(rows, measured, figures)
    print(f"recorded {', '.join(sorted(measured))} in benchmarks/performance.json and README.md")


if __name__ == "__main__":
    sys.exit(main())
