"""Where the fast engine's CPU goes, by compiled function: Linux `perf` samples of a run's
days, each attributed to the engine's function whose code holds it.

    python benchmarks/perf_fast.py                   # bench_three_brands, 1M, days 150-180
    python benchmarks/perf_fast.py --density national --days 120 150
    python benchmarks/perf_fast.py --workload bass --days 0 365  # the peer's Bass workload, 1M
    python benchmarks/perf_fast.py --top 60 --consumers 200000
    python benchmarks/perf_fast.py --workload national_guides --density file --consumers 3000000

`profile_fast.py` times each phase inside whole days; this one samples whole days as a
run steps them (one `run_days` call) by compiled function, so a helper's cost shows where
it is paid, whichever phase calls it, and so do the processor's waits (a sample lands on
the instruction that waits for memory). Samples outside compiled code are shown by their
library's symbol (`libm` logarithms, NumPy's bit generator, the runtime's reference counts
`NRT_incref` / `NRT_decref`, Python).

How: the script runs itself as a child under `perf record` with sampling paused (`--control`
fifo, perf 5.9+); the child runs a tiny warm-up (so that "build" is the build's time, not
also the first load of the compiled engine), builds the model, steps the days before the
window unsampled, resumes sampling for the window's days, pauses it, and writes the address
of every function of the compiled engine (`_shared_module` of `kernels.run_days`'s library,
loaded from the engine's cache). The parent reads `perf report` and maps each sampled
address to the function that starts at or below it. Needs `perf` (linux-tools) and
permission to sample one's own processes (`kernel.perf_event_paranoid` ≤ 2); without them it
says so in one line and exits 2.
"""

from __future__ import annotations

import argparse
import bisect
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

_MANGLED = re.compile(r"(?:kernels|rules|accounting|population)\d+([A-Za-z_]\w*?)B\d+v\d+")
"""A Numba function's name in its mangled symbol: `…kernels12become_awareB4v117…`."""
MAX_FUNCTION_BYTES = 1 << 20
"""A sample further than this above the nearest function's start is in other compiled code
(no engine function is near this long)."""
_REPORT_ROW = re.compile(r"\s*([\d.]+)%\s+(\S.*?)\s+\[\.\]\s+(\S+)")


def short_name(symbol: str) -> str:
    """The Python name in a Numba symbol (`become_aware`), else the symbol itself."""
    m = _MANGLED.search(symbol)
    return m.group(1) if m else symbol


def engine_symbols() -> dict[str, int]:
    """Address of every function compiled into `kernels.run_days` (and the runtime's two
    reference-count functions), by symbol."""
    from numba.core.runtime import nrt

    from sim.fast import kernels as K

    out: dict[str, int] = {}
    for sig in K.run_days.signatures:
        lib = K.run_days.overloads[sig].library
        module = lib._shared_module or lib._final_module
        for fn in module.functions:
            if fn.is_declaration:
                continue
            address = lib.get_pointer_to_function(fn.name)
            if address:
                out[fn.name] = address
    for name in ("NRT_incref", "NRT_decref"):
        out[name] = nrt.rtsys.library.get_pointer_to_function(name)
    return out


# ---------------------------------------------------------------------------- the child
def _signal(control: str | None, word: str) -> None:
    if control:
        with open(control, "w") as f:
            f.write(word + "\n")


def child(args: argparse.Namespace) -> None:
    """Build the workload, step to the window unsampled, sample the window, write symbols."""
    sys.path.insert(0, str(HERE))
    from sim.fast import FastModel
    from sim.fast import kernels as K
    from sim.runner import run_rng
    from sim.scenario import load_scenario

    first, last = args.days
    if args.workload == "bass":
        from bench_peer import SCENARIO, bass_overrides

        sc = load_scenario(SCENARIO, bass_overrides(args.consumers, last))
    else:
        from bench_fast import scaled_overrides, staff_counts

        name = args.workload
        counts = staff_counts(args.density, name, args.consumers)
        sc = load_scenario(name, scaled_overrides(name, args.consumers, last, counts))
    # a tiny run of the same scenario first, so that the build's figure is the build's, not
    # also the first load of the compiled engine from its cache
    from bench_fast import WARMUP

    FastModel(sc.changed(WARMUP), run_rng(args.seed)).run()
    t0 = time.perf_counter()
    model = FastModel(sc, run_rng(args.seed))
    W, B, G = model._structs()
    L, book, rng, S = model._L, model._book, model._draw, model._S
    t1 = time.perf_counter()
    K.run_days(W, B, G, L, book, 0, first, rng, S)
    t2 = time.perf_counter()
    _signal(args.control, "enable")
    K.run_days(W, B, G, L, book, first, last, rng, S)
    _signal(args.control, "disable")
    t3 = time.perf_counter()
    print(
        f"{sc.name}: {args.consumers:,} consumers ({args.density} staff); build {t1 - t0:.2f} s, "
        f"days 0-{first} {t2 - t1:.2f} s, sampled days {first}-{last} {t3 - t2:.2f} s "
        f"({(t3 - t2) / max(last - first, 1) * 1000:.1f} ms/day)",
        file=sys.stderr,
    )
    Path(args.symbols).write_text(json.dumps(engine_symbols()))


# ---------------------------------------------------------------------------- the parent
def attribute(report: str, symbols: dict[str, int]) -> collections.Counter[str]:
    """Per function, the share (%) of the samples `perf report --sort dso,symbol` lists."""
    items = sorted((a, n) for n, a in symbols.items())
    starts = [a for a, _ in items]
    shares: collections.Counter[str] = collections.Counter()
    for line in report.splitlines():
        m = _REPORT_ROW.match(line)
        if line.startswith("#") or not m:
            continue
        pct, symbol = float(m.group(1)), m.group(3)
        name = symbol
        if symbol.startswith("0x"):
            address = int(symbol, 16)
            k = bisect.bisect_right(starts, address) - 1
            known = k >= 0 and address - starts[k] < MAX_FUNCTION_BYTES
            name = short_name(items[k][1]) if known else "(compiled, unknown)"
        shares[name] += pct
    return shares


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--workload",
        default="bench_three_brands",
        help="a shipped scenario scaled as bench_fast does, or 'bass' (the peer's workload)",
    )
    ap.add_argument("--consumers", type=int, default=1_000_000)
    ap.add_argument(
        "--density",
        choices=("scaled", "national", "file"),
        default="scaled",
        help="staff (stores, guides, KOCs, distributors) scaled with the population, at the "
        "national case's density, or as in the scenario file (measurement d)",
    )
    ap.add_argument("--days", type=int, nargs=2, default=(150, 180), metavar=("FIRST", "LAST"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--frequency", type=int, default=2999, help="samples a second")
    ap.add_argument("--top", type=int, default=40, help="rows shown")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--control", help=argparse.SUPPRESS)
    ap.add_argument("--symbols", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    first, last = args.days
    if not 0 <= first < last:
        ap.error(f"--days: need 0 <= FIRST < LAST, got {first} {last}")
    if args.consumers < 1:
        ap.error(f"--consumers: need at least 1, got {args.consumers}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        child(args)
        return 0
    if shutil.which("perf") is None:
        print("perf_fast: `perf` is not installed (linux-tools); nothing sampled", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        control, data, symbols = (os.path.join(tmp, f) for f in ("control", "perf.data", "s"))
        os.mkfifo(control)
        cmd = [
            "perf", "record", "-q", "-D", "-1", "--control", f"fifo:{control}",
            "-F", str(args.frequency), "-o", data, "--",
            sys.executable, __file__, "--child", "--control", control, "--symbols", symbols,
            "--workload", args.workload, "--consumers", str(args.consumers),
            "--density", args.density, "--days", *map(str, args.days), "--seed", str(args.seed),
        ]  # fmt: skip
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        done = subprocess.run(cmd, env=env)
        if done.returncode != 0 or not os.path.exists(symbols):
            print(f"perf_fast: the sampled run failed (exit {done.returncode})", file=sys.stderr)
            return 2
        report = subprocess.run(
            ["perf", "report", "-i", data, "--no-children", "--sort", "dso,symbol"],
            capture_output=True,
            text=True,
        ).stdout
        shares = attribute(report, json.loads(Path(symbols).read_text()))
    if not shares:
        print("perf_fast: perf recorded no samples", file=sys.stderr)
        return 2
    print(f"{'share':>7}  function (self time, % of the sampled days' samples)")
    for name, pct in shares.most_common(args.top):
        print(f"{pct:6.2f}%  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
