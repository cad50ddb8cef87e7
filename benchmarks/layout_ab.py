"""The fast engine's two memory layouts side by side: process time of a whole run with the
per consumer × brand records (`sim.fast.layout.RECORDS`, the default) and with every field
a dense array, alternated run by run.

    python benchmarks/layout_ab.py                        # (b2) and (b): 1M x 365, 2 rounds
    python benchmarks/layout_ab.py --rounds 3 --runs b2
    python benchmarks/layout_ab.py --consumers 200000 --days 120

Each run is a fresh process (`child.run_child`) that sets the layout before it builds
bench_fast's scenario with the overrides of measurement b or b2, and reports the process
time of `run()` and its peak memory. Before the timed runs each layout runs once small,
untimed, so that neither timed run compiles. Alternating the layouts, round after round,
is what makes the ratio worth quoting on a shared machine: the machine's speed drifts by
more than the difference between layouts within an hour. Prints each run and, per
workload, the medians and their ratio; the two layouts write the same ledger (checked).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from child import RESULT, run_child  # noqa: E402

LAYOUTS = ("dense", "records")
RUNS = ("b2", "b")


def child(which: str, layout: str, consumers: int, days: int) -> None:
    """Build and run one model in this process with `layout`; print its RESULT line."""
    import hashlib

    from sim.fast import layout as L

    L.RECORDS = layout == "records"
    from bench_fast import scaled_overrides, staff_counts

    from sim.fast import FastModel
    from sim.runner import run_rng
    from sim.scenario import load_scenario

    name = "bench_three_brands"
    density = staff_counts("national" if which == "b2" else "scaled", name, consumers)
    sc = load_scenario(name, scaled_overrides(name, consumers, days, density))
    model = FastModel(sc, run_rng(1))
    t0 = time.process_time()
    model.run()
    seconds = time.process_time() - t0
    ledger = hashlib.sha256(model.ledger.array.tobytes()).hexdigest()[:12]
    print(RESULT + json.dumps({"seconds": seconds, "ledger": ledger}), flush=True)


def measure(which: str, layout: str, consumers: int, days: int, timeout: float) -> dict:
    """One run in a fresh process (`child`): its seconds, peak bytes and ledger digest."""
    cmd = [sys.executable, str(Path(__file__)), "--child", which, layout, str(consumers), str(days)]
    outcome = run_child(cmd, env=dict(os.environ), timeout=timeout)
    if not outcome.ok:
        raise SystemExit(f"layout_ab: {which} {layout}: {outcome.error}")
    return {**outcome.result, "peak": outcome.peak_rss}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", nargs="+", choices=RUNS, default=list(RUNS))
    ap.add_argument("--consumers", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds a run may take")
    ap.add_argument("--child", nargs=4, metavar=("RUN", "LAYOUT", "CONSUMERS", "DAYS"))
    args = ap.parse_args(argv)
    if args.child:
        which, layout, consumers, days = args.child
        child(which, layout, int(consumers), int(days))
        return
    for layout in LAYOUTS:  # each layout compiled (or loaded) once, untimed
        measure(args.runs[0], layout, 20_000, 20, args.timeout)
    times: dict[tuple[str, str], list[float]] = {}
    ledgers: dict[str, set[str]] = {}
    for r in range(args.rounds):
        for which in args.runs:
            order = LAYOUTS if r % 2 == 0 else LAYOUTS[::-1]
            for layout in order:
                res = measure(which, layout, args.consumers, args.days, args.timeout)
                times.setdefault((which, layout), []).append(res["seconds"])
                ledgers.setdefault(which, set()).add(res["ledger"])
                gb, s = res["peak"] / 1e9, res["seconds"]
                print(f"round {r + 1} {which:2s} {layout:7s} {s:7.2f} s  peak {gb:.2f} GB  "
                      f"ledger {res['ledger']}", flush=True)  # fmt: skip
    print(f"\n{args.consumers:,} consumers x {args.days} days, process time of run(), medians "
          f"of {args.rounds} round(s):")  # fmt: skip
    for which in args.runs:
        dense = statistics.median(times[(which, "dense")])
        records = statistics.median(times[(which, "records")])
        same = "same ledger" if len(ledgers[which]) == 1 else "LEDGERS DIFFER"
        print(f"  {which:2s}  dense {dense:7.2f} s   records {records:7.2f} s   "
              f"records / dense {records / dense:.3f}   ({same})")  # fmt: skip
        if len(ledgers[which]) != 1:
            raise SystemExit(2)


if __name__ == "__main__":
    main()
