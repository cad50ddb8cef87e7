"""What the census's kept engaged count costs a touch: posts to every member, counts on vs. off.

    python benchmarks/touch_census.py                          # bench_three_brands, 1M, day 150
    python benchmarks/touch_census.py --consumers 200000 --reps 9

Runs the benchmark's scaled scenario (benchmarks/bench_fast.py, measurement b) up to `--day`,
lists the next days as run_days does (`plan_days`, which switches the kept counts on), then
each day from there posts content, service and selling to every group, mini-program and
account member of every brand (`post_to_members`) twice: once with the kept counts on
(cs_meta[2] = 1) and once off, in alternating order. Prints the medians over the days in ms
per three posts to all brands, their difference per touch, and how the members' engaged spans
stood (not engaged, engaged to the window's end, ending inside it). Same seed, same state: two
source trees given the same arguments time the same touches.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_fast import scaled_overrides

from sim.fast import FastModel
from sim.fast import kernels as K
from sim.runner import run_rng
from sim.scenario import load_scenario
from sim.vocab import MemberChannel, State, Touch


def spans(model: FastModel, day: int) -> tuple[int, int, int, int]:
    """Broadcast members (unmuted) by their engaged span on `day`: none, to the window's end,
    ending inside the window; and all touched."""
    W, G = model.W, model.G
    none = whole = inside = 0
    for b in range(W.m_channel.shape[0]):
        c = W.m_channel[b]
        sel = (c >= 0) & (c != MemberChannel.GUIDE) & (W.funnel[b] == State.MEMBER)
        sel &= ~W.m_muted[b].astype(bool)
        eng = W.m_eng[b][sel].astype(np.float64)
        age = day - W.m_upd[b][sel].astype(np.int64)
        now = eng * G.engagement_pow[age] >= G.engaged_threshold
        end = eng * G.engagement_pow[age + int(W.cs_meta[1]) - 1 - day] >= G.engaged_threshold
        none += int((~now).sum())
        whole += int(end.sum())
        inside += int((now & ~end).sum())
    return none, whole, inside, none + whole + inside


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="bench_three_brands")
    ap.add_argument("--consumers", type=int, default=1_000_000)
    ap.add_argument("--day", type=int, default=150, help="post from this day on")
    ap.add_argument("--reps", type=int, default=7, help="days posted on (≤ 29)")
    args = ap.parse_args(argv)
    window = 30
    days = args.day + window + 2
    sc = load_scenario(args.scenario, scaled_overrides(args.scenario, args.consumers, days, True))
    model = FastModel(sc, run_rng(1))
    W, B, G = model._structs()
    L, book, rng, S = model._L, model._book, model._draw, model._S
    K.run_days(W, B, G, L, book, 0, args.day, rng, S)
    K.plan_days(W, G, args.day, args.day + window)
    nb = len(model.brand_names)
    kinds = (Touch.CONTENT, Touch.SERVICE, Touch.SELLING)

    def posts(day: int, on: bool) -> float:
        model.W.cs_meta[2] = 1 if on else 0
        t = time.perf_counter()
        for kind in kinds:
            for b in range(nb):
                K.post_to_members(W, B, G, L, book, day, rng, b, kind)
        return time.perf_counter() - t

    posts(args.day, True)  # compile the entry, warm the arrays
    times: dict[bool, list[float]] = {True: [], False: []}
    touched = []
    for rep in range(args.reps):
        day = args.day + 1 + rep
        touched.append(spans(model, day))
        for on in (True, False) if rep % 2 == 0 else (False, True):
            times[on].append(posts(day, on))
    model.W.cs_meta[2] = 0
    on, off = (statistics.median(times[k]) * 1000 for k in (True, False))
    n = statistics.median(t[3] for t in touched) * len(kinds)
    none, whole, inside = (statistics.median(t[k] for t in touched) for k in range(3))
    print(
        f"{args.consumers:,} consumers, days {args.day + 1}-{args.day + args.reps}: "
        f"counts on {on:.1f} ms, off {off:.1f} ms per three posts ({n:,.0f} touches), "
        f"{(on - off) / n * 1e6:.1f} ns a touch; spans none {none:,.0f}, to the end "
        f"{whole:,.0f}, inside {inside:,.0f}"
    )


if __name__ == "__main__":
    main()
