"""Where building the fast engine's model goes: time and peak memory of `FastModel(...)`,
phase by phase, at given sizes and workloads.

    python benchmarks/bench_build.py                              # bass, national, three
    python benchmarks/bench_build.py --sizes 1000000 --workloads bass national --repeats 5
    python benchmarks/bench_build.py --quick                      # 100,000 consumers, ~1 min
    python benchmarks/bench_build.py --sizes 10000000 --workloads bass --threads 1 2

Workloads (`WORKLOADS`): `bass` is the peer comparison's Bass diffusion (`verify_bass`, random
mixing, one brand, no staff) at the size; `national` is `national_guides` scaled as
benchmarks/bench_fast.py (d) scales it (3,600 stores, 9,000 guides, small-world ties);
`three` and `three-national` are `bench_three_brands` scaled as (b) and (b2) scale it (staff
grown with the population, or at the national density).

Each (workload, size) cell runs in its own fresh subprocess: one tiny build first (JIT
compilation and first-call costs, not counted), then `--repeats` builds with seeds 1, 2, ...
The phases are those `sim.fast.engine.BuildClock` marks in `FastModel.__init__` (consumers,
platforms, arrays, staff, staff layout, birthdays, initial funnel, start needs, ...): the
table gives each phase's median seconds over the builds and its peak resident memory above
the RSS the build started from (VmHWM, reset at each phase's start where the kernel allows;
from the first build), and the whole build's median and peak in bytes per consumer. The
"consumers" phase runs the set-up tasks (traits, network, needs, fields, stores, ...: each
draws its own streams) on `--threads` threads at once; the lines under it give each task's
own median seconds, so that their sum against the phase shows what the threads saved.
Figures are from one machine, and noisy where it is shared: compare figures taken in the
same invocation. Never part of the test suite (tests/test_bench_build.py checks its
plumbing at a tiny size).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_fast import national_density, scaled_overrides  # noqa: E402
from child import reset_peak, status_bytes  # noqa: E402

WORKLOADS = ("bass", "national", "three", "three-national")
SIZES = (1_000_000, 10_000_000)
DEFAULT_WORKLOADS = ("bass", "national", "three-national")


def overrides(workload: str, consumers: int) -> tuple[str, dict[str, Any]]:
    """The scenario and overrides of a workload at `consumers` (see the module's notes)."""
    if workload == "bass":
        return "verify_bass", {"run.consumers": consumers}
    if workload == "national":
        return "national_guides", scaled_overrides("national_guides", consumers, 365, False)
    name = "bench_three_brands"
    if workload == "three":
        return name, scaled_overrides(name, consumers, 365, True)
    if workload == "three-national":
        counts = national_density(name, consumers)
        return name, scaled_overrides(name, consumers, 365, counts)
    raise ValueError(f"unknown workload {workload!r} (known: {', '.join(WORKLOADS)})")


def build_once(scenario: Any, seed: int, memory: bool) -> dict[str, Any]:
    """Build one model; its phases' seconds and (with `memory`) each phase's peak RSS above
    the RSS before the build. The model is dropped before returning."""
    from sim.fast import engine
    from sim.runner import run_rng

    start_rss = status_bytes("VmRSS")
    peaks: dict[str, int] = {}

    class MemoryClock(engine.BuildClock):
        """The engine's clock, sampling peak memory at each lap (then resetting the peak)."""

        def __init__(self) -> None:
            reset_peak()
            super().__init__()

        def lap(self, phase: str) -> None:
            super().lap(phase)
            if memory:
                peak = max(status_bytes("VmHWM"), status_bytes("VmRSS"))
                peaks[phase] = max(peaks.get(phase, 0), peak - start_rss)
                reset_peak()

    engine.FastModel.build_clock = MemoryClock
    try:
        t0 = time.perf_counter()
        model = engine.FastModel(scenario, run_rng(seed))
        total = time.perf_counter() - t0
        phases = dict(model.build_phases)
        tasks = dict(model.build_tasks)
        held = status_bytes("VmRSS") - start_rss
        del model
    finally:
        engine.FastModel.build_clock = engine.BuildClock
    return {"total": total, "phases": phases, "tasks": tasks, "peaks": peaks, "held": held}


def measure_cell(
    workload: str, consumers: int, repeats: int, threads: int | None = None
) -> dict[str, Any]:
    """One cell, in this process: a tiny build (compilation), then `repeats` builds, the
    set-up tasks on `threads` threads (None: the engine's default)."""
    from sim.fast import engine
    from sim.scenario import load_scenario

    engine.BUILD_THREADS = threads

    name, over = overrides(workload, consumers)
    tiny = load_scenario(name, {"run.consumers": 300, "run.days": 5})
    t0 = time.perf_counter()
    build_once(tiny, 0, memory=False)
    warmup = time.perf_counter() - t0
    sc = load_scenario(name, over)
    builds = [build_once(sc, seed, memory=seed == 1) for seed in range(1, repeats + 1)]
    phases = list(builds[0]["phases"])
    tasks = list(builds[0]["tasks"])
    return {
        "workload": workload,
        "consumers": consumers,
        "threads": engine.build_threads(consumers),
        "warmup": warmup,
        "total": statistics.median(b["total"] for b in builds),
        "totals": [b["total"] for b in builds],
        "phases": {p: statistics.median(b["phases"].get(p, 0.0) for b in builds) for p in phases},
        "tasks": {t: statistics.median(b["tasks"].get(t, 0.0) for b in builds) for t in tasks},
        "peaks": builds[0]["peaks"],
        "peak": max(builds[0]["peaks"].values(), default=0),
        "held": builds[0]["held"],
    }


def run_cell(
    workload: str, consumers: int, repeats: int, timeout: float, threads: int | None = None
) -> dict[str, Any]:
    """`measure_cell` in a fresh subprocess (peak memory is then the cell's own); a crash or
    a timeout gives a cell with `error` set."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    args = json.dumps([workload, consumers, repeats, threads])
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", args]
    try:
        out = subprocess.run(
            cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"workload": workload, "consumers": consumers, "error": f"timed out ({timeout} s)"}
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    last = (out.stderr.strip().splitlines() or [f"exit code {out.returncode}"])[-1]
    return {"workload": workload, "consumers": consumers, "error": last[-200:]}


def format_cell(cell: dict[str, Any]) -> str:
    """The phase table of one cell."""
    head = f"{cell['workload']} · {cell['consumers']:,} consumers"
    if "error" in cell:
        return f"{head}: FAILED: {cell['error']}"
    n = cell["consumers"]
    lines = [
        f"{head} · {cell['threads']} thread{'s' if cell['threads'] > 1 else ''} · build "
        f"{cell['total']:.3f} s (median of {len(cell['totals'])}; "
        f"compile/warm-up {cell['warmup']:.1f} s)",
        f"  {'phase':<16}{'median s':>10}{'share':>8}{'peak MB':>10}{'peak B/cons':>13}",
    ]
    for phase, sec in cell["phases"].items():
        peak = cell["peaks"].get(phase, 0)
        share = sec / cell["total"] if cell["total"] else 0.0
        lines.append(f"  {phase:<16}{sec:>10.3f}{share:>8.0%}{peak / 1e6:>10.1f}{peak / n:>13.1f}")
        if phase == "consumers":
            for task, own in cell["tasks"].items():
                lines.append(f"  └ {task:<14}{own:>10.3f}")
    lines.append(
        f"  {'build':<16}{cell['total']:>10.3f}{'':>8}{cell['peak'] / 1e6:>10.1f}"
        f"{cell['peak'] / n:>13.1f}   (held after: {cell['held'] / n:.1f} B/consumer)"
    )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    ap.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=list(DEFAULT_WORKLOADS))
    ap.add_argument("--repeats", type=int, default=3, help="builds per cell (median)")
    ap.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=[None],
        help="set-up threads to compare (default: the engine's own choice)",
    )
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per cell")
    ap.add_argument("--quick", action="store_true", help="100,000 consumers, 2 builds")
    ap.add_argument("--json", type=Path, help="also write the cells to this file")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.repeats < 1:
        ap.error("--repeats must be at least 1")
    if any(s < 1 for s in args.sizes):
        ap.error("--sizes must be positive")
    if any(t is not None and t < 1 for t in args.threads):
        ap.error("--threads must be at least 1")
    if args.quick:
        args.sizes, args.repeats = [100_000], 2
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        workload, consumers, repeats, threads = json.loads(args.child)
        cell = measure_cell(workload, consumers, repeats, threads)
        print("RESULT " + json.dumps(cell), flush=True)
        return 0
    cells = []
    for consumers in args.sizes:
        for workload in args.workloads:
            for threads in args.threads:  # side by side: one count after the other
                cell = run_cell(workload, consumers, args.repeats, args.timeout, threads)
                print(format_cell(cell), flush=True)
                cells.append(cell)
    if args.json:
        args.json.write_text(json.dumps(cells, indent=1))
    return 1 if any("error" in c for c in cells) else 0


if __name__ == "__main__":
    sys.exit(main())
