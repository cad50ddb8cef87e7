"""Where the fast engine's day goes: milliseconds per day of each phase of the day.

    python benchmarks/profile_fast.py                       # bench_three_brands, 1M, day 150
    python benchmarks/profile_fast.py --consumers 200000 --day 60
    python benchmarks/profile_fast.py --density national    # staff at the national density
    python benchmarks/profile_fast.py --scenario national_guides --density file \
        --consumers 15000000 --day 100                      # measurement d's market

Runs the benchmark's scaled scenario (benchmarks/bench_fast.py, measurement b or b2) up to
`--day`, then times each phase kernel of `sim.fast.kernels.step` called on its own for
`--repeat` days (each phase on the state the previous days left), and a plain run of the
same number of whole days for comparison. Phase timings include one Python-to-Numba call
per brand; the figures are medians over the days. Compiling the per-phase entry points
takes a minute the first time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_fast import DENSITIES, scaled_overrides, staff_counts

from sim.fast import FastModel
from sim.fast import kernels as K
from sim.runner import run_rng
from sim.scenario import load_scenario


@numba.njit
def _guides(W, B, G, L, book, day, rng, n):
    for g in range(n):
        K.guide_step(W, B, G, L, book, day, rng, g)


@numba.njit
def _distributors(W, B, G, L, book, day, rng, n):
    for d in range(n):
        K.distributor_step(W, B, G, L, book, day, rng, d)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="bench_three_brands")
    ap.add_argument("--consumers", type=int, default=1_000_000)
    ap.add_argument("--day", type=int, default=150, help="profile from this day on")
    ap.add_argument("--repeat", type=int, default=7, help="days timed per phase")
    ap.add_argument(
        "--density",
        choices=DENSITIES,
        default="scaled",
        help="staff scaled with the population, at the national density, or as in the file",
    )
    args = ap.parse_args(argv)
    days = args.day + 3 * args.repeat + 2
    counts = staff_counts(args.density, args.scenario, args.consumers)
    sc = load_scenario(args.scenario, scaled_overrides(args.scenario, args.consumers, days, counts))
    model = FastModel(sc, run_rng(1))
    W, B, G = model._structs()
    L, book, rng, S = model._L, model._book, model._draw, model._S
    t0 = time.perf_counter()
    K.run_days(W, B, G, L, book, 0, args.day, rng, S)
    print(f"{sc.name}: {args.consumers:,} consumers, {args.density} staff; "
          f"days 0-{args.day} in {time.perf_counter() - t0:.1f} s")  # fmt: skip
    nb, ng, nd = len(model.brand_names), model.W.g_brand.size, model.W.d_brand.size
    brands = range(nb)
    cpms = np.full(np.size(model.G.pl_shoppers), 40.0)  # each platform's price of traffic
    phases = {
        "advertise": lambda d: [K.advertise(W, B, G, L, book, d, rng, b, cpms) for b in brands],
        "word of mouth": lambda d: [K.word_of_mouth(W, B, G, L, book, d, rng, b) for b in brands],
        "store traffic": lambda d: [K.store_traffic(W, B, G, L, book, d, rng, b) for b in brands],
        "distributors": lambda d: _distributors(W, B, G, L, book, d, rng, nd),
        "guides": lambda d: _guides(W, B, G, L, book, d, rng, ng),
        "broadcasts": lambda d: [K.broadcast(W, B, G, L, book, d, rng, b) for b in brands],
        "members' day": lambda d: [K.members_day(W, B, G, L, book, d, rng, b) for b in brands],
        "needs": lambda d: K.needs(W, B, G, L, book, d, rng, S),
        "census": lambda d: K.census(W, B, G, L, d),
    }
    day = args.day
    # the phases see the day's lists of due needs and kept member counts, as inside run_days
    K.plan_days(W, G, day, day + 3 * args.repeat + 2)
    for f in phases.values():  # compile
        f(day)
    day += 1
    rows = []
    for name, f in phases.items():
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            f(day)
            times.append(time.perf_counter() - t)
        rows.append((name, statistics.median(times)))
    day += args.repeat
    t = time.perf_counter()  # whole days as a run steps them: one call for the days
    K.run_days(W, B, G, L, book, day, day + args.repeat, rng, S)
    wd = (time.perf_counter() - t) / args.repeat
    members = [int((model.W.m_channel[b] >= 0).sum()) for b in brands]
    print(f"members {members}, guides {ng:,}, distributors {nd:,}")
    for name, sec in rows:
        print(f"  {name:14s} {sec * 1000:8.1f} ms/day")
    print(f"  {'sum of phases':14s} {sum(s for _, s in rows) * 1000:8.1f} ms/day")
    print(f"  {'whole day':14s} {wd * 1000:8.1f} ms/day "
          f"({args.consumers / wd / 1e6:.1f}M consumer-days/s)")  # fmt: skip


if __name__ == "__main__":
    main()
