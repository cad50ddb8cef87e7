"""Benchmark of the reference (agents) engine: consumer-days per second and peak memory.

    python benchmarks/bench_reference.py [--consumers 10000] [--days 120] [--repeats 3]

Runs each scenario `repeats` times in this process and prints the median wall time, the
consumer-days per second it implies, and the peak traced memory per consumer. Figures are
measured in one run on this machine; compare ratios, not absolute numbers, across machines.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

from sim import load_scenario, run

SCENARIOS = ("public_only", "beauty_guides", "coffee_miniprogram", "adaptive_market")


def measure(name: str, consumers: int, days: int, repeats: int) -> dict[str, float]:
    """Median wall seconds over `repeats` runs, and peak traced memory of one run."""
    sc = load_scenario(name, {"run.consumers": consumers, "run.days": days})
    times = []
    for seed in range(1, repeats + 1):
        t0 = time.perf_counter()
        run(sc, seed)
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    run(sc, 1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    median = statistics.median(times)
    return {
        "seconds": median,
        "consumer_days_per_s": consumers * days / median,
        "bytes_per_consumer": peak / consumers,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--consumers", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=120)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--scenarios", nargs="*", default=list(SCENARIOS))
    args = ap.parse_args()
    print(
        f"reference engine · {args.consumers:,} consumers · {args.days} days · "
        f"median of {args.repeats}"
    )
    print(f"{'scenario':22s} {'seconds':>9s} {'consumer-days/s':>16s} {'peak bytes/consumer':>20s}")
    for name in args.scenarios:
        m = measure(name, args.consumers, args.days, args.repeats)
        print(
            f"{name:22s} {m['seconds']:9.2f} {m['consumer_days_per_s']:16,.0f} "
            f"{m['bytes_per_consumer']:20,.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
