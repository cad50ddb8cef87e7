"""Benchmark of individual-level output (`siyu run --events`): time and peak memory of a run
with events recorded against the same run without.

    python benchmarks/bench_events.py                      # 1,000,000 consumers x 365 days
    python benchmarks/bench_events.py --consumers 200000   # a smaller market
    python benchmarks/bench_events.py --consumers 5000 --days 60 --engine agents
    python benchmarks/bench_events.py --regions 2          # the market in two regions

`scenarios/bench_three_brands.toml` (three brands, every mechanism on) is scaled to the
population asked for (`sim.scaling.scale_market`: the same market per consumer) and run once
without events and once with them, each in its own fresh subprocess after a tiny warm-up run
(compilation excluded), same seed. Peak memory is the run's peak RSS (VmHWM, reset after the
warm-up where the kernel allows) above the RSS before it. The figures: wall time, peak
memory, the events written (rows per table, bytes on disk) and the cost of recording
(time and memory ratios on/off). The two ledgers are compared: recording must not change
them. With `--regions R` both runs are the market in R regions, a thread each
(`sim.regions`), whose events are handed on region by region in a fixed order.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from child import reset_peak, status_bytes  # noqa: E402  (the benchmarks' one reader of /proc)


def child(
    consumers: int, days: int, engine: str, events: bool, seed: int, regions: int = 1
) -> dict:
    """One measurement in this process: warm up, then the run."""
    import hashlib

    import pandas as pd

    from sim import load_scenario, run
    from sim.events import FILES
    from sim.scaling import scale_market

    base = load_scenario("bench_three_brands")
    with tempfile.TemporaryDirectory() as tmp:
        warm = load_scenario("bench_three_brands", {"run.consumers": 300, "run.days": 5})
        run(warm, seed=seed, engine=engine, events=Path(tmp) / "warm" if events else None)
        sc, _ = scale_market(base, consumers)
        sc = sc.model_copy(update={"run": sc.run.model_copy(update={"days": days})})
        reset = reset_peak()
        before = status_bytes("VmRSS")
        t0 = time.perf_counter()
        folder = Path(tmp) / "events" if events else None
        result = run(sc, seed=seed, engine=engine, events=folder, regions=regions)
        seconds = time.perf_counter() - t0
        peak = status_bytes("VmHWM")
        out = {
            "consumers": consumers,
            "days": days,
            "engine": engine,
            "events": events,
            "regions": regions,
            "seconds": seconds,
            "peak_above_start_bytes": peak - before if reset else None,
            "peak_rss_bytes": peak,
            "ledger_sha256": hashlib.sha256(
                pd.util.hash_pandas_object(result.ledger, index=True).to_numpy().tobytes()
            ).hexdigest(),
        }
        if events:
            import pyarrow.parquet as pq

            out["rows"] = {f: pq.ParquetFile(folder / f).metadata.num_rows for f in FILES}
            out["bytes_on_disk"] = sum((folder / f).stat().st_size for f in FILES)
        return out


def measure(
    consumers: int, days: int, engine: str, events: bool, seed: int, regions: int = 1
) -> dict:
    """`child` in a fresh subprocess (so peak memory is this measurement's alone)."""
    cmd = [
        sys.executable,
        __file__,
        "--child",
        json.dumps([consumers, days, engine, events, seed, regions]),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"measurement failed ({'on' if events else 'off'}):\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _gb(x: float | None) -> str:
    return "n/a" if x is None else f"{x / 1e9:.2f} GB"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--consumers", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--engine", default="fast")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--regions", type=int, default=1, help="the market in this many regions (sim.regions)"
    )
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(*json.loads(args.child))))
        return 0
    off = measure(args.consumers, args.days, args.engine, False, args.seed, args.regions)
    on = measure(args.consumers, args.days, args.engine, True, args.seed, args.regions)
    where = f", in {args.regions} regions" if args.regions > 1 else ""
    print(
        f"bench_three_brands, {args.consumers:,} consumers x {args.days} days, {args.engine}{where}"
    )
    print("| | events off | events on | on / off |")
    print("|---|---|---|---|")
    print(
        f"| wall time | {off['seconds']:.1f} s | {on['seconds']:.1f} s "
        f"| {on['seconds'] / off['seconds']:.2f} |"
    )
    a, b = off["peak_above_start_bytes"], on["peak_above_start_bytes"]
    ratio = f"{b / a:.2f}" if a and b else "n/a"
    print(f"| peak memory above start | {_gb(a)} | {_gb(b)} | {ratio} |")
    print(f"| peak RSS | {_gb(off['peak_rss_bytes'])} | {_gb(on['peak_rss_bytes'])} | |")
    rows = ", ".join(f"{k.removesuffix('.parquet')} {v:,}" for k, v in on["rows"].items())
    print(f"events written: {rows}; {on['bytes_on_disk'] / 1e6:.1f} MB on disk")
    same = off["ledger_sha256"] == on["ledger_sha256"]
    print(f"ledger identical with and without events: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
