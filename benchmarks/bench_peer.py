"""Benchmark against a peer: Bass diffusion in Siyu's fast engine and in Starsim 3.7.2.

    python benchmarks/bench_peer.py                    # 100k, 1M, 10M consumers x 365 days, 3 runs
    python benchmarks/bench_peer.py --quick            # 10k and 100k, 1 run: checks the set-up
    python benchmarks/bench_peer.py --sizes 1000000 --repeats 5
    python benchmarks/bench_peer.py --no-peer          # Siyu alone

The workload is the simplest both simulators express: `scenarios/verify_bass.toml` (pure
Bass diffusion, random mixing) scaled to N consumers with the advertising hazard held at
p = 0.002857 a day (the ad budget grows with N) and word of mouth at q = 0.03, for 365 days.
Each cell (a simulator at a size) runs in its own fresh subprocess: a tiny run first (JIT
compilation and first-call costs, timed apart), then `--repeats` runs (seeds 1..n), each
timed as build (constructing the model: population and network) and run (the 365 days).
Every thread pool is held to one thread (NUMBA_NUM_THREADS, OMP_NUM_THREADS, ...) in both.

 - Siyu fast: `sim.protocol.build_engine("fast", ...)` is the build, `model.run()` the run.
 - Starsim, minimal module: a custom `ss.Module` of a dozen lines (`_starsim_classes`) with one
   `BoolState` and one `ss.bernoulli` whose probability is Siyu's daily adoption chance
   1 - (1 - p)(1 - q F), F the adopted share at the start of the day.
 - Starsim, built-in mixing pool: `ss.SIS` (no recovery within the year, so SI) transmitting
   through one `ss.MixingPool` of everyone with disease beta q (a daily probability), so the
   daily chance is q F, plus p as an importation hazard (a small `ss.Intervention`: Starsim
   has no built-in importation).

Build is `ss.Sim(...)` plus `sim.init()`, run is `sim.run()`; both Starsim variants pass
`people_results=False` (Starsim's documented switch for light sims without demographics).

Printed per size: median build and run seconds of each; memory above the import baseline
per consumer (peak RSS of the repeats, VmHWM reset after the warm-up where the kernel allows,
minus the RSS after imports and warm-up); the ratio Siyu / Starsim-min speed, build included
(median Starsim-min build + run over median Siyu build + run), judged against the target
(>= 2x) at 1M and 10M, and the same ratio of CPU seconds (the cell's process time over build
and run: on a shared machine the fairer figure, since other work inflates wall time); and
the share of adopters after 91 and 365 days of each simulator beside the Bass curve F(t)
(closed form, `sim.rules.bass_cdf`) and the expected path of the daily recursion
F' = F + (1 - F)(1 - (1 - p)(1 - q F)), so the simulators are seen to do the same work.

Starsim lives in a separate virtual environment that this script creates on first use
(default ~/.cache/siyu-bench/starsim-3.7.2, or --peer-venv / SIYU_PEER_VENV): `python -m
venv` and pip's normal client installing starsim==3.7.2 with the numpy and numba versions
Siyu runs on. It is never a dependency of the package or of its tests. Without a network
(or with --no-peer) the script says so in one line and reports the Siyu column alone.
Figures are from one machine; compare ratios, not absolute numbers, across machines.
`bench_fast.py` can print the same table in its own invocation: `peer_table` and
`format_peer`.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(HERE) not in sys.path:  # imported from elsewhere (the tests)
    sys.path.insert(0, str(HERE))
from child import PARTIAL, RESULT, run_child  # noqa: E402  (the benchmarks' one child runner; stdlib only)

PEER = "starsim"
PEER_VERSION = "3.7.2"
SCENARIO = "verify_bass"
DAYS = 365
SIZES = (100_000, 1_000_000, 10_000_000)
QUICK_SIZES = (10_000, 100_000)
JUDGED_AT = (1_000_000, 10_000_000)
TARGET_RATIO = 2.0
CHECK_DAYS = (91, 365)
"""Days after which each simulator's adopter share is set beside the Bass curve: mid-rise
(F = 0.62) and the year's end (F = 1.00)."""
WARMUP_CONSUMERS, WARMUP_DAYS = 5_000, 5
"""The warm-up run: above Starsim's 2,000-agent switch to its Numba indexing kernels, so
those compile in it too, not in the first measured run."""
ENGINES = ("siyu", "starsim-min", "starsim-pool")
LABELS = {
    "siyu": "Siyu fast",
    "starsim-min": "Starsim, minimal module",
    "starsim-pool": "Starsim, MixingPool",
}
THREAD_VARS = (
    "NUMBA_NUM_THREADS",
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)
PIP_TIMEOUT = 1200.0
Echo = Callable[[str], None]


def default_venv() -> Path:
    """Where the Starsim environment lives: SIYU_PEER_VENV, else the user's cache folder."""
    env = os.environ.get("SIYU_PEER_VENV")
    if env:
        return Path(env).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "siyu-bench" / f"{PEER}-{PEER_VERSION}"


# ---------------------------------------------------------------------------- results
@dataclass
class Once:
    """One measured run: wall seconds of build and run, CPU seconds of both, adopter shares
    after CHECK_DAYS (nan past the run's end)."""

    build: float
    run: float
    cpu: float
    shares: list[float]


@dataclass
class CellSpec:
    """One simulator at one size, measured by a fresh subprocess (`--cell`)."""

    engine: str
    consumers: int
    days: int = DAYS
    repeats: int = 3
    p: float = 0.0
    q: float = 0.0
    warmup: bool = True


@dataclass
class Cell:
    """What a cell gives back (`error` set when it crashed, timed out or could not start)."""

    engine: str
    consumers: int
    days: int
    build: list[float] = field(default_factory=list)
    run: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # CPU seconds of build + run
    shares: list[list[float]] = field(default_factory=list)  # per repeat, at CHECK_DAYS
    import_seconds: float = 0.0
    warmup_seconds: float = 0.0
    wall_seconds: float = 0.0  # the whole subprocess
    baseline_rss: int = 0
    peak_rss: int = 0
    peak_reset: bool = False
    version: str = ""
    error: str = ""
    note: str = ""  # fewer runs than asked: why it stopped

    @property
    def ok(self) -> bool:
        return not self.error and bool(self.run)

    @property
    def total(self) -> float:
        """Median of build + run over the repeats (nan without runs)."""
        if not self.ok:
            return float("nan")
        return statistics.median(b + r for b, r in zip(self.build, self.run, strict=True))

    @property
    def cpu_total(self) -> float:
        """Median CPU seconds of build + run: what the run cost when the machine is shared
        (both simulators are single-threaded, so on a quiet machine it is the wall time)."""
        return statistics.median(self.cpu) if self.ok and self.cpu else float("nan")

    @property
    def build_median(self) -> float:
        return statistics.median(self.build) if self.ok else float("nan")

    @property
    def run_median(self) -> float:
        return statistics.median(self.run) if self.ok else float("nan")

    @property
    def bytes_per_consumer(self) -> float:
        if not self.ok or not self.peak_rss:
            return float("nan")
        return max(self.peak_rss - self.baseline_rss, 0) / self.consumers

    def share(self, day: int) -> float:
        """Mean adopter share after `day` days over the repeats (nan when not measured)."""
        if not self.ok or day not in CHECK_DAYS:
            return float("nan")
        k = CHECK_DAYS.index(day)
        return statistics.fmean(s[k] for s in self.shares)


# ---------------------------------------------------------------------------- the workload
def bass_overrides(consumers: int, days: int = DAYS) -> dict[str, Any]:
    """`verify_bass` at `consumers`: the ad budget (and the platform's reference ad demand,
    so the CPM is unchanged) grows with the population, so the ad hazard per consumer, p,
    stays what the shipped file gives (0.002857 a day); word of mouth q is a rate per
    consumer and needs no scaling. The benchmark's own scaling (`bench_fast.scaled_overrides`:
    the file has no stores and no tooling, so nothing else changes)."""
    if str(HERE) not in sys.path:  # imported from elsewhere (the tests): its sibling too
        sys.path.insert(0, str(HERE))
    from bench_fast import scaled_overrides

    return scaled_overrides(SCENARIO, consumers, days, False)


def bass_parameters(consumers: int) -> tuple[float, float]:
    """(p, q) of `verify_bass` at `consumers`: p the daily advertising hazard its ad budget
    buys (adstock θ = 0, as tests/test_verification.py derives it), q its word-of-mouth rate."""
    from sim import rules
    from sim.scenario import load_scenario

    sc = load_scenario(SCENARIO, bass_overrides(consumers, 1))
    (brand,) = sc.brands.values()
    pf = sc.platform
    cpm = rules.traffic_cpm(
        pf.base_cpm,
        pf.cpm_growth_per_year,
        0,
        0.0,
        pf.reference_ad_demand,
        pf.cpm_demand_elasticity,
    )
    impressions = brand.strategy.ad_budget_per_day / cpm * 1000.0
    p = rules.ad_awareness_hazard(
        impressions,
        sc.run.consumers,
        brand.strategy.targeting_precision,
        pf.ad_max_hazard,
        pf.hill_k,
        pf.hill_s,
    )
    return float(p), float(sc.population.wom_rate)


def bass_curve(day: int, p: float, q: float) -> float:
    """Bass F(day) for a daily ad probability p (its continuous hazard -ln(1 - p)) and q."""
    from sim import rules

    return float(rules.bass_cdf(day, -math.log1p(-p), q))


def bass_daily(day: int, p: float, q: float) -> float:
    """The adopter share after `day` days of the daily recursion both Starsim variants and
    the minimal module's docstring state, F' = F + (1 - F)(1 - (1 - p)(1 - q F)): the
    expected path of a day-by-day process, a little behind the closed form."""
    share = 0.0
    for _ in range(day):
        share += (1.0 - share) * (1.0 - (1.0 - p) * (1.0 - q * share))
    return share


# ---------------------------------------------------------------------------- Siyu cell
def _siyu_once(consumers: int, days: int, seed: int) -> Once:
    """One Siyu run: build and run seconds, their CPU seconds, adopter shares."""
    from sim.protocol import build_engine
    from sim.runner import run_rng
    from sim.scenario import load_scenario

    sc = load_scenario(SCENARIO, bass_overrides(consumers, days))
    t0, c0 = time.perf_counter(), time.process_time()
    model = build_engine("fast", sc, run_rng(seed))
    t1 = time.perf_counter()
    model.run()
    t2, c2 = time.perf_counter(), time.process_time()
    ever = model.ledger.data["stock_ever_customers"][:, 0]
    shares = [float(ever[d - 1]) / consumers if d <= days else float("nan") for d in CHECK_DAYS]
    del model
    return Once(t1 - t0, t2 - t1, c2 - c0, shares)


def _siyu_version() -> str:
    from sim.version import __version__

    return f"siyu {__version__}"


# ---------------------------------------------------------------------------- Starsim cell
def _starsim_classes() -> tuple[type, type]:
    """The Starsim side: the minimal Bass module and the importation intervention that the
    mixing-pool variant adds (imported only in Starsim's environment)."""
    import starsim as ss

    class Bass(ss.Module):
        """Bass diffusion under random mixing: each day a non-adopter adopts with
        probability 1 - (1 - p)(1 - q F), F the adopted share at the start of the day."""

        def __init__(self, p: float, q: float, **kwargs: Any):
            super().__init__(**kwargs)
            self.define_pars(p=p, q=q)
            self.define_states(ss.BoolState("adopted", label="Adopted"))
            self.adopt = ss.bernoulli(p=self.p_adopt)

        @staticmethod
        def p_adopt(self: Bass, sim: Any, uids: Any) -> float:
            share = self.adopted.count() / len(self.adopted)
            return 1.0 - (1.0 - self.pars.p) * (1.0 - self.pars.q * share)

        def step(self) -> None:
            self.adopted[self.adopt.filter(self.adopted.false())] = True

    class Importation(ss.Intervention):
        """Infects each susceptible with a constant daily probability p (the ad hazard)."""

        def __init__(self, p: float, disease: str, **kwargs: Any):
            super().__init__(**kwargs)
            self.define_pars(p=p)
            self.disease = disease
            self.hit = ss.bernoulli(p=p)

        def step(self) -> None:
            dis = self.sim.diseases[self.disease]
            dis.set_prognoses(self.hit.filter(dis.susceptible.uids))

    return Bass, Importation


def _starsim_sim(engine: str, consumers: int, days: int, p: float, q: float, seed: int) -> Any:
    """A Starsim sim of the Bass workload (`dur` counts time points after the start, so
    `days - 1` gives `days` steps)."""
    import starsim as ss

    Bass, Importation = _starsim_classes()
    common = dict(
        n_agents=consumers,
        start=0,
        dur=days - 1,
        dt="day",
        rand_seed=seed,
        verbose=0,
        people_results=False,
    )
    if engine == "starsim-min":
        return ss.Sim(modules=Bass(p, q), **common)
    sis = ss.SIS(
        beta=ss.probperday(q),
        init_prev=ss.bernoulli(p=0.0),
        dur_inf=ss.constant(ss.days(10 * days)),  # no recovery within the run: SI
        waning=0.0,
        imm_boost=0.0,
    )
    pool = ss.MixingPool(diseases="sis", beta=1.0, n_contacts=ss.constant(1))
    return ss.Sim(diseases=sis, networks=pool, interventions=Importation(p, "sis"), **common)


def _starsim_once(engine: str, consumers: int, days: int, p: float, q: float, seed: int) -> Once:
    """One Starsim run: build and run seconds, their CPU seconds, adopter shares."""
    t0, c0 = time.perf_counter(), time.process_time()
    sim = _starsim_sim(engine, consumers, days, p, q, seed)
    sim.init()
    t1 = time.perf_counter()
    sim.run()
    t2, c2 = time.perf_counter(), time.process_time()
    if engine == "starsim-min":
        (bass,) = (m for m in sim.modules if type(m).__name__ == "Bass")
        counts = bass.results.n_adopted
    else:
        counts = sim.diseases["sis"].results.n_infected
    if len(counts) != days:
        raise RuntimeError(f"Starsim ran {len(counts)} steps, not {days}")
    shares = [float(counts[d - 1]) / consumers if d <= days else float("nan") for d in CHECK_DAYS]
    del sim
    return Once(t1 - t0, t2 - t1, c2 - c0, shares)


def _starsim_version() -> str:
    import numba
    import numpy
    import starsim

    return f"starsim {starsim.__version__}, numpy {numpy.__version__}, numba {numba.__version__}"


# ---------------------------------------------------------------------------- the child
def run_cell(
    spec: CellSpec, echo: Echo | None = None, partial: Callable[[Cell], None] | None = None
) -> Cell:
    """Measure a cell in this process (the subprocess calls this): imports, an optional
    warm-up at a tiny size, the baseline RSS, then `repeats` runs (seeds 1..n); `partial`
    gets the cell so far after each run (so a cell cut short keeps the runs it finished)."""
    if str(HERE) not in sys.path:  # imported from elsewhere (the tests)
        sys.path.insert(0, str(HERE))
    from child import maxrss_bytes, reset_peak, status_bytes  # no package: a Starsim venv

    siyu = spec.engine == "siyu"
    cell = Cell(spec.engine, spec.consumers, spec.days)
    t_start = time.perf_counter()
    cell.version = _siyu_version() if siyu else _starsim_version()
    cell.import_seconds = time.perf_counter() - t_start

    def once(consumers: int, days: int, seed: int) -> Once:
        if siyu:
            return _siyu_once(consumers, days, seed)
        return _starsim_once(spec.engine, consumers, days, spec.p, spec.q, seed)

    if spec.warmup:
        t0 = time.perf_counter()
        once(WARMUP_CONSUMERS, WARMUP_DAYS, 0)
        gc.collect()
        cell.warmup_seconds = time.perf_counter() - t0
    cell.baseline_rss = status_bytes("VmRSS")
    cell.peak_reset = reset_peak()
    for k in range(spec.repeats):
        one = once(spec.consumers, spec.days, k + 1)
        gc.collect()
        cell.build.append(one.build)
        cell.run.append(one.run)
        cell.cpu.append(one.cpu)
        cell.shares.append(one.shares)
        cell.peak_rss = status_bytes("VmHWM") if cell.peak_reset else 0
        if not cell.peak_rss:  # no /proc, or no reset: the process's lifetime peak
            cell.peak_rss = max(status_bytes("VmHWM"), maxrss_bytes())
        cell.wall_seconds = time.perf_counter() - t_start
        if echo is not None:
            echo(
                f"    {spec.engine} · {spec.consumers:,} · run {k + 1}/{spec.repeats} · "
                f"build {one.build:.2f} s · run {one.run:.2f} s · CPU {one.cpu:.2f} s · "
                f"share {one.shares[-1]:.4f}"
            )
        if partial is not None and k + 1 < spec.repeats:
            partial(cell)
    return cell


def _child(payload: str) -> None:
    spec = CellSpec(**json.loads(payload))
    cell = run_cell(
        spec,
        echo=lambda line: print(line, file=sys.stderr, flush=True),
        partial=lambda c: print(PARTIAL + json.dumps(asdict(c)), flush=True),
    )
    print(RESULT + json.dumps(asdict(cell)), flush=True)


# ---------------------------------------------------------------------------- the parent
def child_env(threads: int = 1, peer: bool = False) -> dict[str, str]:
    """The environment of a cell: the repository importable, every thread pool at `threads`;
    Starsim's cells get no PYTHONPATH of Siyu's (its own environment only)."""
    env = dict(os.environ)
    for var in THREAD_VARS:
        env[var] = str(threads)
    if peer:
        env.pop("PYTHONPATH", None)
        env.pop("PYTHONHOME", None)
        env["STARSIM_INSTALL_FONTS"] = "0"
    else:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def measure_cell(
    spec: CellSpec,
    python: str | Path,
    timeout: float,
    echo: Echo = print,
    threads: int = 1,
) -> Cell:
    """Run one cell in a fresh subprocess of `python` (`child.run_child`, as
    bench_fast.measure does): its progress lines echoed; a crash, an out-of-memory kill or
    a timeout gives a Cell with `error` set (the runs it finished still count)."""
    echo(
        f"[{spec.engine}] {LABELS[spec.engine]} · {spec.consumers:,} consumers × {spec.days} "
        f"days · {spec.repeats} run(s)"
    )
    peer = spec.engine != "siyu"
    cmd = [python, Path(__file__).resolve(), "--cell", json.dumps(asdict(spec))]
    out = run_child(cmd, child_env(threads, peer), timeout, echo, cwd=ROOT)

    def from_json(data: dict[str, Any]) -> Cell:
        cell = Cell(**{k: v for k, v in data.items() if k in Cell.__dataclass_fields__})
        cell.wall_seconds = out.wall
        return cell

    if out.ok:
        assert out.result is not None
        return from_json(out.result)
    if out.partial is not None:  # the runs finished before it stopped still count
        cell = from_json(out.partial)
        cell.note = f"{out.error}: {len(cell.run)} of {spec.repeats} runs"
        echo(f"[{spec.engine}] cut short: {cell.note}")
        return cell
    cell = Cell(spec.engine, spec.consumers, spec.days, wall_seconds=out.wall, error=out.error)
    echo(f"[{spec.engine}] FAILED: {cell.error}")
    return cell


# ---------------------------------------------------------------------------- the peer's venv
def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _installed_version(python: Path) -> str:
    """The Starsim version installed for `python` ("" when none or it does not run)."""
    if not python.exists():
        return ""
    code = f"import importlib.metadata as m; print(m.version({PEER!r}))"
    try:
        out = subprocess.run(
            [str(python), "-c", code], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def _pins() -> list[str]:
    """numpy and numba at the versions Siyu runs on, so both sides use the same ones."""
    from importlib.metadata import PackageNotFoundError, version

    pins = []
    for name in ("numpy", "numba"):
        with contextlib.suppress(PackageNotFoundError):
            pins.append(f"{name}=={version(name)}")
    return pins


def _run_quiet(cmd: list[str], timeout: float) -> tuple[int, str]:
    """Run `cmd`; (exit code, its last non-empty output line)."""
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return 124, f"no answer in {timeout:.0f} s"
    except OSError as exc:
        return 127, str(exc)
    lines = [x for x in (out.stdout + out.stderr).splitlines() if x.strip()]
    errors = [x for x in lines if "ERROR" in x or "error" in x.lower()]
    return out.returncode, ((errors or lines or [""])[-1]).strip()[:200]


def ensure_peer(venv: Path | None = None, echo: Echo = print) -> tuple[Path | None, str]:
    """The Python of Starsim's environment, created on first use: (python, "") or
    (None, why not) in one line. An existing environment with the right version is reused;
    a new one is built beside it and moved into place only once it works."""
    venv = default_venv() if venv is None else Path(venv)
    python = _venv_python(venv)
    if _installed_version(python) == PEER_VERSION:
        return python, ""
    tmp = venv.with_name(venv.name + ".partial")
    echo(f"creating {venv} ({PEER}=={PEER_VERSION}, pip's normal client; a few minutes) ...")
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return None, f"cannot create {venv}: {exc}"
    code, last = _run_quiet([sys.executable, "-m", "venv", str(tmp)], 300)
    if code != 0:
        return None, f"`python -m venv {tmp}` failed ({last or f'exit code {code}'})"
    pip = [str(_venv_python(tmp)), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    pip += ["--retries", "2", "--timeout", "30", f"{PEER}=={PEER_VERSION}"]
    code, last = _run_quiet([*pip, *_pins()], PIP_TIMEOUT)
    if code != 0 and _pins():  # Siyu's numpy/numba not installable next to it: pip's choice
        code, last = _run_quiet(pip, PIP_TIMEOUT)
    if code != 0 or _installed_version(_venv_python(tmp)) != PEER_VERSION:
        shutil.rmtree(tmp, ignore_errors=True)
        return None, f"pip could not install {PEER}=={PEER_VERSION} ({last or f'exit {code}'})"
    try:
        shutil.rmtree(venv, ignore_errors=True)
        tmp.rename(venv)
    except OSError as exc:
        return None, f"cannot move {tmp} to {venv}: {exc}"
    return python, ""  # scripts in bin/ name the old folder; `python -m pip` does not


# ---------------------------------------------------------------------------- the table
def peer_table(
    sizes: tuple[int, ...] | list[int] = SIZES,
    repeats: int = 3,
    timeout: float = 1800.0,
    echo: Echo = print,
    *,
    days: int = DAYS,
    peer: bool = True,
    venv: Path | None = None,
    threads: int = 1,
) -> list[dict[str, Any]]:
    """Measure the Bass workload at each size: Siyu, then (with `peer` and its environment
    available) Starsim's minimal module and its mixing pool, each cell a fresh subprocess.
    One dict per size: consumers, days, p, q, `bass` (F at CHECK_DAYS), `cells` (engine ->
    Cell), `ratio` (Starsim-min total / Siyu total, nan without both; `ratio_cpu` the same of
    CPU seconds), `judged` (the size is
    one of the target's) and `met` (ratio >= TARGET_RATIO; None when not judged or not
    measured); the first dict also carries `peer_note` (why Starsim is absent, or "")."""
    python, note = (None, "--no-peer given") if not peer else ensure_peer(venv, echo)
    if python is None and peer:
        echo(f"Starsim peer unavailable: {note}; reporting Siyu alone")
    rows: list[dict[str, Any]] = []
    for n in sizes:
        p, q = bass_parameters(n)
        cells: dict[str, Cell] = {}
        for engine in ENGINES:
            if engine != "siyu" and python is None:
                continue
            spec = CellSpec(engine, n, days, repeats, p, q)
            exe = sys.executable if engine == "siyu" else python
            assert exe is not None
            cells[engine] = measure_cell(spec, exe, timeout, echo, threads)
            echo(format_cell(cells[engine]))
        siyu, ss_min = cells.get("siyu"), cells.get("starsim-min")
        ratio = ratio_cpu = float("nan")
        if siyu is not None and ss_min is not None and siyu.ok and ss_min.ok:
            ratio = ss_min.total / siyu.total
            ratio_cpu = ss_min.cpu_total / siyu.cpu_total
        judged = n in JUDGED_AT and days == DAYS
        rows.append(
            {
                "consumers": n,
                "days": days,
                "p": p,
                "q": q,
                "bass": {d: bass_curve(d, p, q) for d in CHECK_DAYS if d <= days},
                "daily": {d: bass_daily(d, p, q) for d in CHECK_DAYS if d <= days},
                "cells": cells,
                "ratio": ratio,
                "ratio_cpu": ratio_cpu,
                "judged": judged,
                "met": (ratio >= TARGET_RATIO) if judged and ratio == ratio else None,
                "peer_note": note if not rows else "",
            }
        )
    return rows


def _secs(cell: Cell | None) -> str:
    if cell is None:
        return "–"
    if not cell.ok:
        return f"failed ({cell.error[:40]})"
    short = " *" if cell.note else ""
    return f"{cell.total:.2f} s ({cell.build_median:.2f} build){short}"


def _mem(cell: Cell | None) -> str:
    if cell is None or not cell.ok:
        return "–"
    return f"{cell.bytes_per_consumer:,.0f}"


def _ratio(x: float) -> str:
    return "–" if x != x else f"{x:.2f}x"


def _fmt_n(n: int) -> str:
    for div, unit in ((1_000_000, "M"), (1_000, "k")):
        if n >= div and n % div == 0:
            return f"{n // div}{unit}"
    return f"{n:,}"


def _grid(head: tuple[str, ...], body: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(head)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    return [line.format(*head), line.format(*("-" * w for w in widths))] + [
        line.format(*r).rstrip() for r in body
    ]


def format_peer(rows: list[dict[str, Any]]) -> str:
    """The printed tables: speed and memory with the ratio and its target, then the adopter
    shares beside the Bass curve."""
    if not rows:
        return "(no sizes measured)"
    out: list[str] = []
    note = rows[0].get("peer_note", "")
    if note:
        out.append(f"Starsim peer not measured: {note}")
    head = ("N", *(LABELS[e] for e in ENGINES), "B/consumer (Siyu / min / pool)")
    head += ("Siyu ÷ Starsim-min", "(CPU)", "target", "met")
    body = []
    for r in rows:
        cells = r["cells"]
        target = f">= {TARGET_RATIO:.0f}x" if r["judged"] else ""
        met = "" if not r["judged"] else "n/a" if r["met"] is None else "yes" if r["met"] else "NO"
        body.append(
            (
                _fmt_n(r["consumers"]),
                *(_secs(cells.get(e)) for e in ENGINES),
                " / ".join(_mem(cells.get(e)) for e in ENGINES),
                _ratio(r["ratio"]),
                _ratio(r.get("ratio_cpu", float("nan"))),
                target,
                met,
            )
        )
    out += _grid(head, body)
    if any(c.note for r in rows for c in r["cells"].values()):
        out.append("* fewer runs than asked (the cell timed out or was killed): see its detail")
    out.append("")
    head = ("N", "day", "Bass F", "daily recursion", *(LABELS[e] for e in ENGINES))
    body = []
    for r in rows:
        for d, f in r["bass"].items():
            shares = []
            for e in ENGINES:
                cell = r["cells"].get(e)
                s = cell.share(d) if cell is not None else float("nan")
                shares.append("–" if s != s else f"{s:.4f}")
            daily = r.get("daily", {}).get(d, float("nan"))
            body.append((_fmt_n(r["consumers"]), str(d), f"{f:.4f}", f"{daily:.4f}", *shares))
    out += _grid(head, body)
    out.append(
        "seconds: median of build + run (build: population and network); memory: peak RSS "
        "above the import baseline per consumer; ratio: Starsim-min ÷ Siyu seconds, (CPU) "
        "the same of CPU seconds (a shared machine's fairer figure); the target judges seconds"
    )
    return "\n".join(out)


def format_cell(cell: Cell) -> str:
    """One line of detail of a measured cell."""
    if not cell.ok:
        return f"  {cell.engine} {cell.consumers:,}: FAILED ({cell.error})"
    runs = ", ".join(f"{b:.2f}+{r:.2f}" for b, r in zip(cell.build, cell.run, strict=True))
    peak = f"peak {cell.peak_rss / 1e9:.2f} GB (baseline {cell.baseline_rss / 1e9:.2f} GB"
    peak += "" if cell.peak_reset else ", peak not reset after warm-up"
    return (
        f"  {cell.engine} {cell.consumers:,} × {cell.days} d · build+run [{runs}] s · "
        f"median {cell.total:.2f} s (CPU {cell.cpu_total:.2f} s) · import "
        f"{cell.import_seconds:.1f} s · warm-up {cell.warmup_seconds:.1f} s · subprocess "
        f"{cell.wall_seconds:.1f} s · {peak}) · {cell.version}"
        + (f" · CUT SHORT: {cell.note}" if cell.note else "")
    )


# ---------------------------------------------------------------------------- main
def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(x.replace("_", "")) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of integers: {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"sizes must be positive integers: {text!r}")
    return sizes


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=(__doc__ or "").splitlines()[0],
        formatter_class=argparse.RawTextHelpFormatter,
    )
    ap.add_argument("--sizes", type=_sizes, help="consumers, comma-separated (100k,1M,10M)")
    ap.add_argument("--repeats", type=_positive, help="runs per cell (3; 1 with --quick)")
    ap.add_argument("--days", type=_positive, default=DAYS, help="days per run (365)")
    ap.add_argument("--quick", action="store_true", help="10k and 100k consumers, 1 run")
    ap.add_argument("--no-peer", action="store_true", help="Siyu alone (no Starsim)")
    ap.add_argument("--peer-venv", type=Path, help=f"Starsim's environment ({default_venv()})")
    ap.add_argument("--threads", type=_positive, default=1, help="threads per simulator (1)")
    ap.add_argument("--timeout", type=_seconds, default=1800.0, help="seconds per cell (1800)")
    ap.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    ap.add_argument("--cell", help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def rows_json(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with their cells as plain dicts (and their medians), for --json."""
    out = []
    for r in rows:
        cells = {}
        for e, c in r["cells"].items():
            cells[e] = asdict(c) | {
                "total_median": c.total,
                "cpu_median": c.cpu_total,
                "bytes_per_consumer": c.bytes_per_consumer,
            }
        curves = {k: {str(d): f for d, f in r.get(k, {}).items()} for k in ("bass", "daily")}
        out.append(r | {"cells": cells} | curves)
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.cell:
        _child(args.cell)
        return 0
    if args.json and not args.json.resolve().parent.is_dir():
        print(f"--json: no folder {args.json.resolve().parent}", file=sys.stderr)
        return 2
    sizes = args.sizes or (QUICK_SIZES if args.quick else SIZES)
    repeats = args.repeats or (1 if args.quick else 3)
    print(
        f"bench_peer · Bass ({SCENARIO}) × {args.days} days · Siyu fast vs {PEER} "
        f"{PEER_VERSION} · {args.threads} thread(s) each · {os.cpu_count()} CPUs · "
        f"Python {platform.python_version()} · {platform.machine()}",
        flush=True,
    )
    rows = peer_table(
        sizes,
        repeats,
        args.timeout,
        lambda line: print(line, flush=True),
        days=args.days,
        peer=not args.no_peer,
        venv=args.peer_venv,
        threads=args.threads,
    )
    print()
    if not any(r["judged"] for r in rows):
        print(f"target judged only at {', '.join(map(_fmt_n, JUDGED_AT))} × {DAYS} days")
    print(format_peer(rows))
    if args.json:
        try:
            args.json.write_text(json.dumps(rows_json(rows), indent=1))
        except OSError as exc:
            print(f"--json: cannot write {args.json}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    failed = any(not c.ok or c.note for r in rows for c in r["cells"].values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
