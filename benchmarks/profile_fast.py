"""Where the fast engine's day goes: milliseconds per day of each phase of the day, timed
inside whole days as a run steps them.

    python benchmarks/profile_fast.py                       # bench_three_brands, 1M, day 150
    python benchmarks/profile_fast.py --consumers 200000 --day 60
    python benchmarks/profile_fast.py --density national    # staff at the national density
    python benchmarks/profile_fast.py --scenario national_guides --density file \
        --consumers 15000000 --day 100                      # measurement d's market

Runs the benchmark's scaled scenario (benchmarks/bench_fast.py, measurement b or b2) up to
`--day`, then `--days` days (one call, as a run's window of days: `FastModel.run`) through
a timed copy of the day: `kernels.run_days` and `kernels.step` with the processor's cycle
counter read around every call they make as a statement (each phase, per brand, guide or
distributor where the day loops over them, and the stream loads between). The copy is
made from the kernels' own source (`timed_source`), so it runs the day's code in the day's
order on the state the previous days left: its phases add up to the whole day, and the
ledger it writes is the plain day's (`tests/test_bench_profile.py`). What no row holds is
`step`'s own code between the calls ("between calls": shuffling, the platforms' prices).
Then as many plain days again (`kernels.run_days` itself), to show what the timing costs.
Rows are means over the timed days (a day's work varies: posts, festivals).

The cycle counter ticks at a constant rate on current x86 processors; it is converted to
seconds by the timed call's wall time. `benchmarks/perf_fast.py` samples the same days by
compiled function instead (a helper's cost where it is paid, whichever phase calls it).
"""

from __future__ import annotations

import argparse
import ast
import functools
import inspect
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_fast import DENSITIES, scaled_overrides, staff_counts

from sim.fast import FastModel
from sim.fast import kernels as K
from sim.runner import run_rng
from sim.scenario import load_scenario

BETWEEN = "between calls"
"""The row of `step`'s own code: the whole day less every timed call."""


@intrinsic
def _cycles(typingctx):
    """The processor's cycle counter (LLVM's `readcyclecounter`: `rdtsc` on x86)."""

    def codegen(context, builder, signature, args):
        fnty = ir.FunctionType(ir.IntType(64), [])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.readcyclecounter")
        return builder.call(fn, [])

    return types.int64(), codegen


class _Timed(ast.NodeTransformer):
    """Every statement that is a call of a compiled kernel (`kernels.<name>(...)`) becomes
    the call between two reads of the cycle counter, added to `ticks[k]`, k the callee's
    row; `step(...)` becomes `_timed_step(..., ticks)`."""

    def __init__(self, rows: list[str]) -> None:
        self.rows = rows

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        node.decorator_list = []
        node.name = f"_timed_{node.name}"
        node.args.args.append(ast.arg(arg="ticks"))
        self.generic_visit(node)
        return node

    def visit_Expr(self, node: ast.Expr) -> Any:
        call = node.value
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
            return node
        name = call.func.id
        if name == "step":
            call.func.id = "_timed_step"
            call.args.append(ast.Name(id="ticks", ctx=ast.Load()))
            return node
        if not isinstance(getattr(K, name, None), numba.core.dispatcher.Dispatcher):
            return node
        if name not in self.rows:
            self.rows.append(name)
        k = self.rows.index(name)
        before = ast.parse("_t0 = _cycles()").body[0]
        after = ast.parse(f"ticks[{k}] += _cycles() - _t0").body[0]
        return [before, node, after]


def timed_source(rows: list[str]) -> str:
    """The source of `_timed_run_days` and `_timed_step`: `kernels.run_days` and
    `kernels.step` with every kernel call timed (`_Timed`); `rows` gets the callees'
    names, in the order they first appear."""
    out = []
    for f in (K.step, K.run_days):
        tree = ast.parse(textwrap.dedent(inspect.getsource(f.py_func)))
        out.append(ast.unparse(ast.fix_missing_locations(_Timed(rows).visit(tree))))
    return "\n\n".join(out)


@functools.cache
def timed_day() -> tuple[Callable[..., None], list[str]]:
    """The compiled timed copy of `kernels.run_days` (its last argument: an int64 array of
    cycles per row, added to) and the rows' names; compiled once per process."""
    rows: list[str] = []
    namespace = dict(vars(K), _cycles=_cycles)
    exec(compile(timed_source(rows), "<timed day>", "exec"), namespace)
    # `_timed_run_days` calls `_timed_step` by its global name: the compiled one
    namespace["_timed_step"] = numba.njit(namespace["_timed_step"])
    return numba.njit(namespace["_timed_run_days"]), rows


def profile(model: FastModel, first: int, days: int) -> tuple[dict[str, float], float, float]:
    """Seconds per day of each row over days first..first+days−1 (timed), the whole timed
    day, and the plain day over the days after them."""
    run, rows = timed_day()
    W, B, G = model._structs()
    L, book, rng, S = model._L, model._book, model._draw, model._S
    ticks = np.zeros(len(rows), dtype=np.int64)
    run(W, B, G, L, book, first, first, rng, S, ticks)  # compile; no day runs
    _cycles_now()  # compile
    ticks[:] = 0
    t0, c0 = time.perf_counter(), int(_cycles_now())
    run(W, B, G, L, book, first, first + days, rng, S, ticks)
    wall, cycles = time.perf_counter() - t0, int(_cycles_now()) - c0
    per_cycle = wall / cycles / days
    seconds = {name: ticks[k] * per_cycle for k, name in enumerate(rows)}
    seconds[BETWEEN] = wall / days - sum(seconds.values())
    t0 = time.perf_counter()
    K.run_days(W, B, G, L, book, first + days, first + 2 * days, rng, S)
    return seconds, wall / days, (time.perf_counter() - t0) / days


@numba.njit
def _cycles_now() -> int:
    """The cycle counter, read from Python (the timed window's two ends)."""
    return _cycles()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="bench_three_brands")
    ap.add_argument("--consumers", type=int, default=1_000_000)
    ap.add_argument("--day", type=int, default=150, help="profile from this day on")
    ap.add_argument(
        "--days", type=int, default=30, help="days timed (one window, as a run's: at most 30)"
    )
    ap.add_argument(
        "--density",
        choices=DENSITIES,
        default="scaled",
        help="staff scaled with the population, at the national density, or as in the file",
    )
    args = ap.parse_args(argv)
    days = args.day + 2 * args.days
    counts = staff_counts(args.density, args.scenario, args.consumers)
    sc = load_scenario(args.scenario, scaled_overrides(args.scenario, args.consumers, days, counts))
    model = FastModel(sc, run_rng(1))
    t0 = time.perf_counter()
    model._run_days(0, args.day)
    print(f"{sc.name}: {args.consumers:,} consumers, {args.density} staff; "
          f"days 0-{args.day} in {time.perf_counter() - t0:.1f} s")  # fmt: skip
    seconds, timed, plain = profile(model, args.day, args.days)
    nb = len(model.brand_names)
    members = [int((model.W.m_channel[b] >= 0).sum()) for b in range(nb)]
    print(f"members {members}, guides {model.W.g_brand.size:,}, "
          f"distributors {model.W.d_brand.size:,}; days {args.day}-{args.day + args.days - 1}, "
          f"ms per day (mean)")  # fmt: skip
    for name, sec in sorted(seconds.items(), key=lambda kv: -kv[1]):
        print(f"  {name:22s} {sec * 1000:8.2f}  {sec / timed:6.1%}")
    print(f"  {'whole day, timed':22s} {timed * 1000:8.2f}")
    print(f"  {'whole day, plain':22s} {plain * 1000:8.2f}  (days {args.day + args.days}-"
          f"{args.day + 2 * args.days - 1}; {args.consumers / plain / 1e6:.1f}M "
          f"consumer-days/s)")  # fmt: skip


if __name__ == "__main__":
    main()
