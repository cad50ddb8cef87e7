"""What private operations, and points for reviews, do to platform sales (docs/FACTS.md,
'private lifts public'; ODD 7.21).

Runs `private_lifts_public` and two twins on seeds 1..R (common random numbers: a pair
shares its seed): `no_private_ops` (the same brand without private operations) and
`no_review_points` (the same private domain without points for reviews), and prints the
mean paired difference with a 95% t-interval for platform GMV, non-members' platform GMV
(platform GMV not paid with a member coupon: every member's platform order is, under the
scenario's assist policy), contribution, and the end-of-run review stock; and, for
comparison, `private_serves_public` against its own `no_private_ops` twin.

    python benchmarks/lift_effects.py                  # R = 8, fast engine
    python benchmarks/lift_effects.py --replicates 4 --engine agents
    python benchmarks/lift_effects.py --set platform.rating_weight=1.0   # both sides changed
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim import incremental, load_scenario, run
from sim.counterfactual import twin
from sim.runner import RunResult

Measure = Callable[[RunResult, RunResult], float]


def platform(r: RunResult) -> float:
    return float(r.ledger["gmv_platform"].sum())


def non_member_platform(r: RunResult) -> float:
    return float(r.ledger["gmv_platform"].sum() - r.ledger["gmv_assisted"].sum())


MEASURES: dict[str, Measure] = {
    "platform GMV": lambda r, t: platform(r) - platform(t),
    "non-members' platform GMV": lambda r, t: non_member_platform(r) - non_member_platform(t),
    "contribution": lambda r, t: float(incremental(r, t)["brand"]["contribution"]),
    "review stock (end)": lambda r, t: float(
        r.ledger["review_stock"].iloc[-1] - t.ledger["review_stock"].iloc[-1]
    ),
    "points paid": lambda r, t: float(
        r.ledger["cost_points"].sum() - t.ledger["cost_points"].sum()
    ),
}
LEVELS: dict[str, Callable[[RunResult], float]] = {
    "platform GMV": platform,
    "non-members' platform GMV": non_member_platform,
    "review stock (end)": lambda r: float(r.ledger["review_stock"].iloc[-1]),
}


def interval(values: list[float]) -> tuple[float, float, float]:
    v = np.asarray(values)
    half = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else 0
    return float(v.mean()), float(v.mean() - half), float(v.mean() + half)


def compare(
    name: str, counterfactual: str, replicates: int, engine: str, overrides: dict[str, object]
) -> None:
    scenario = load_scenario(name, overrides)
    tw = twin(scenario, counterfactual)
    diffs: dict[str, list[float]] = {k: [] for k in MEASURES}
    twin_levels: dict[str, list[float]] = {k: [] for k in LEVELS}
    for seed in range(1, replicates + 1):
        r, t = run(scenario, seed, engine), run(tw, seed, engine)
        for key, measure in MEASURES.items():
            diffs[key].append(measure(r, t))
        for key, level in LEVELS.items():
            twin_levels[key].append(level(t))
    changed = "".join(f", {k} = {v}" for k, v in overrides.items())
    print(f"\n{name} minus {counterfactual} ({engine}, seeds 1-{replicates}{changed}, 95% CI)")
    for key, values in diffs.items():
        mean, low, high = interval(values)
        base = f"   twin {np.mean(twin_levels[key]):12,.1f}" if key in LEVELS else ""
        print(f"  {key:28s} {mean:+12,.1f}  [{low:+12,.1f}, {high:+12,.1f}]{base}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=8)
    parser.add_argument("--engine", default="fast", choices=["fast", "agents"])
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="a number, both sides"
    )
    args = parser.parse_args()
    overrides = {k: float(v) for k, _, v in (item.partition("=") for item in args.set)}
    for name, counterfactual in (
        ("private_lifts_public", "no_private_ops"),
        ("private_lifts_public", "no_review_points"),
        ("private_serves_public", "no_private_ops"),
    ):
        compare(name, counterfactual, args.replicates, args.engine, overrides)


if __name__ == "__main__":
    main()
