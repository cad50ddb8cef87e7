"""The variance reduction common random numbers give a paired difference (scenario − twin).

For each scenario, the twin is the same scenario with one brand's private operations off
(`brands.<brand>.strategy.private_ops = false`: same stores, same ads). Over R replicates it
runs the scenario with seed s, the twin with the same seed s (common random numbers: the
twin's draws are the scenario's wherever the runs have not diverged, `sim.streams`) and the
twin with an independent seed s + 100000, and prints, per KPI, the standard deviation of the
paired difference each way and the variance ratio var(independent) / var(same seed): how
many times more replicates independent seeds need for the same interval.

    python benchmarks/crn_variance.py                       # the four scenarios, R = 12
    python benchmarks/crn_variance.py --replicates 6 --consumers 800 beauty_guides

Only `sim.load_scenario` and `sim.runner.run` are used, so the script measures any version
of the engines (run it with PYTHONPATH at another checkout to compare).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim import load_scenario
from sim.runner import run

SCENARIOS = ("beauty_guides", "private_serves_public", "fmcg_small_b", "coffee_miniprogram")
KPIS = ("contribution", "gmv", "gross_profit", "customers", "members", "cost_total")
INDEPENDENT = 100_000
"""Offset of the twin's seed in the independent-seeds pairing."""


def private_brand(name: str) -> str:
    """The first brand of the scenario that runs private operations."""
    sc = load_scenario(name)
    for brand, params in sc.brands.items():
        if params.strategy.private_ops:
            return brand
    raise SystemExit(f"{name}: no brand runs private operations")


def kpis(result, brand: str) -> dict[str, float]:
    k = result.summary["kpis"]["brands"][brand]
    return {x: float(k[x] or 0.0) for x in KPIS}


def measure(name: str, replicates: int, consumers: int, first_seed: int, engine: str) -> dict:
    """Paired differences of the KPIs over the replicates, same seed and independent."""
    brand = private_brand(name)
    base = {"run.consumers": consumers}
    sc = load_scenario(name, base)
    twin = load_scenario(name, {**base, f"brands.{brand}.strategy.private_ops": False})
    same: dict[str, list[float]] = {x: [] for x in KPIS}
    indep: dict[str, list[float]] = {x: [] for x in KPIS}
    for r in range(replicates):
        seed = first_seed + r
        a = kpis(run(sc, seed, engine), brand)
        t = kpis(run(twin, seed, engine), brand)
        u = kpis(run(twin, seed + INDEPENDENT, engine), brand)
        for x in KPIS:
            same[x].append(a[x] - t[x])
            indep[x].append(a[x] - u[x])
    rows = {}
    for x in KPIS:
        sd_same = float(np.std(same[x], ddof=1))
        sd_indep = float(np.std(indep[x], ddof=1))
        ratio = (sd_indep / sd_same) ** 2 if sd_same > 0 else float("inf")
        rows[x] = {
            "mean_same": float(np.mean(same[x])),
            "mean_indep": float(np.mean(indep[x])),
            "sd_same": sd_same,
            "sd_indep": sd_indep,
            "variance_ratio": ratio,
        }
    return {"brand": brand, "kpis": rows}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenarios", nargs="*", default=list(SCENARIOS))
    ap.add_argument("--replicates", type=int, default=12)
    ap.add_argument("--consumers", type=int, default=1500)
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--engine", default="fast")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    out = {}
    print(
        f"{'scenario':24s} {'KPI':14s} {'sd same seed':>14s} {'sd independent':>15s} {'ratio':>8s}"
    )
    for name in args.scenarios:
        res = out[name] = measure(
            name, args.replicates, args.consumers, args.first_seed, args.engine
        )
        for x, row in res["kpis"].items():
            print(
                f"{name:24s} {x:14s} {row['sd_same']:14.1f} {row['sd_indep']:15.1f} "
                f"{row['variance_ratio']:8.1f}"
            )
        med = statistics.median(r["variance_ratio"] for r in res["kpis"].values())
        res["median_ratio"] = med
        print(f"{name:24s} {'median':14s} {'':14s} {'':15s} {med:8.1f}")
    overall = statistics.median(
        r["variance_ratio"] for res in out.values() for r in res["kpis"].values()
    )
    print(f"median variance ratio over scenarios and KPIs: {overall:.1f}")
    print(
        f"({args.replicates} replicates, {args.consumers} consumers, engine {args.engine}, "
        f"{time.perf_counter() - t0:.0f} s)"
    )
    if args.json:
        args.json.write_text(json.dumps({"median_ratio": overall, "scenarios": out}, indent=1))


if __name__ == "__main__":
    main()
