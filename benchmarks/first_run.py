"""Benchmark of a first run that compiles: the README's first command (`siyu run
scenarios/beauty_guides.toml`) on a fresh copy of the package that no install compiled (a
wheel install, `SIYU_COMPILE_AT_INSTALL=0`, an edited engine), compilation of the fast engine
included. (An editable install compiles ahead: `backend/siyu_build.py`; `bench_fast.py`'s
measurement f times both.)

    python benchmarks/first_run.py              # the README's command, fresh cache
    python benchmarks/first_run.py --ahead      # `python -m sim.fast` (compile ahead) instead
    python benchmarks/first_run.py --repeat 2   # then again on the cache the first one built
    python benchmarks/first_run.py --functions 25  # and which process compiled what

The package (`sim/`, `scenarios/`, `data/`) is copied to a temporary folder, so nothing
compiled before is found (the fast engine caches next to its source, other compiled code in
Numba's cache, pointed at an empty folder too), and the command runs there in a fresh
process. Printed: wall and CPU seconds of each run; where the compiling CPU went (`split`: LLVM's
optimisation of each function as it is lowered and of each library (a helper's on its own,
an entry point's with all it calls linked in: `sim.fast.jit`), LLVM's making of machine
code, and the rest, nearly all Numba's own front end:
typing and lowering to LLVM IR); and the seconds Numba spent compiling each function the
run compiled at the top (an entry point, with everything it calls), from Numba's compile
events. On a machine other processes share, CPU seconds are the steadier figure. The run
compiles on two cores (`sim.fast.aside`): its CPU seconds include the second process's, but
the split and each function's seconds are the run's own process's;
`SIYU_COMPILE_ASIDE=0 python benchmarks/first_run.py` compiles in one process.

`--functions N` also logs every compile in both processes (a `sitecustomize` on the child's
path, which the second process inherits: `PROCESS_LOG`) and prints, per process, its CPU
seconds and when it compiled its first and last function (on the command's clock), the N
functions whose own compile took longest (nested compiles subtracted) with the process that
compiled each, each process's top-level compiles in time order (when each entry point's
compile, with everything compiled inside it, began and ended: where the two processes wait
on each other), and the functions both processes compiled (a library function neither
claims, `sim.fast.aside`, or one compiled for other argument types in each). The second
process's last compile is where the two met; what the run's process does after it (the
day's own LLVM, the runs, the report) is the serial tail of a first run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
COPIED = ("sim", "scenarios", "data")
"""What a run needs of the repository: the package, the shipped scenarios and data."""
README_COMMAND = ["run", "scenarios/beauty_guides.toml"]


SPLIT = (
    ("CPUCodeLibrary", "_optimize_functions", "LLVM: function passes"),
    ("CPUCodeLibrary", "_optimize_final_module", "LLVM: module passes"),
    ("JITCodeLibrary", "_finalize_specific", "LLVM: machine code"),
)
"""The code-library methods timed in the child (`split`): Numba's class, the method, what
it does."""


def _timed(inner: Any, key: str, seconds: dict[str, float]) -> Any:
    """`inner`, adding the CPU seconds of each call to seconds[key]."""

    def timed(self: Any, *args: Any) -> Any:
        t0 = time.process_time()
        try:
            return inner(self, *args)
        finally:
            seconds[key] += time.process_time() - t0

    return timed


def split(seconds: dict[str, float]) -> None:
    """Time (CPU) every call of the code-library methods of `SPLIT` into `seconds` (none of
    them calls another, so nothing is counted twice)."""
    from numba.core import codegen

    from sim.fast import jit

    for cls_name, name, key in SPLIT:
        cls = getattr(codegen, cls_name)
        seconds[key] = 0.0
        setattr(cls, name, _timed(getattr(cls, name), key, seconds))
    # the entry points' libraries run their own module passes (jit._EntryLibrary: the
    # reference counts made local between the two stages), not Numba's method
    entry = jit._EntryLibrary
    entry._optimize_final_module = _timed(
        entry._optimize_final_module, "LLVM: module passes", seconds
    )


def child(ahead: bool, out: str) -> None:
    """In the fresh process: record the top-level compiles and the LLVM time, run the
    command, print JSON."""
    from numba.core import event

    llvm: dict[str, float] = {}
    split(llvm)

    compiles: list[tuple[str, float]] = []
    depth = [0]

    class TopCompiles(event.Listener):
        """Seconds of each outermost compile (the functions it pulls in included)."""

        def on_start(self, ev: event.Event) -> None:
            if depth[0] == 0:
                self.t0 = time.perf_counter()
            depth[0] += 1

        def on_end(self, ev: event.Event) -> None:
            depth[0] -= 1
            if depth[0] == 0:
                f = ev.data["dispatcher"].py_func
                compiles.append((f"{f.__module__}.{f.__name__}", time.perf_counter() - self.t0))

    event.register("numba:compile", TopCompiles())
    t0, cpu0 = time.perf_counter(), time.process_time()
    if ahead:
        from sim.fast.__main__ import main

        main()
    else:
        from sim.launch import command

        sys.argv = ["siyu", *README_COMMAND, "--out", out]
        try:
            command()
        except SystemExit as exc:
            if exc.code:
                raise
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    print(json.dumps({"seconds": seconds, "cpu_here": cpu, "compiles": compiles, "llvm": llvm}))


PROCESS_LOG = """
import atexit, collections, json, os, sys, time
from numba.core import event

_folder, _t0 = os.environ["SIYU_FIRST_RUN_LOG"], float(os.environ["SIYU_FIRST_RUN_T0"])
_stack, _own, _first, _top = [], collections.Counter(), {}, []
_clock = [time.process_time()]
_pid = os.getpid()


class _Own(event.Listener):
    def on_start(self, ev):
        now = time.process_time()
        if _stack:
            _own[_stack[-1]] += now - _clock[0]
        d = ev.data["dispatcher"]
        f = getattr(d, "py_func", d)
        name = f"{getattr(f, '__module__', '?')}.{f.__qualname__}"
        if not _stack:  # a top-level compile: an entry point, with all it compiles inside
            _top.append([name, time.time() - _t0, None])
        _stack.append(name)
        _first.setdefault(name, time.time() - _t0)
        _clock[0] = now

    def on_end(self, ev):
        now = time.process_time()
        _own[_stack.pop()] += now - _clock[0]
        _clock[0] = now
        if not _stack:
            _top[-1][2] = time.time() - _t0


def _dump():
    second = "sim.fast.aside" in sys.argv[0] or sys.argv[0].endswith("aside.py")
    forked = os.getpid() != _pid  # a child the run forked (its figures): nothing of its own
    record = {
        "process": "forked" if forked else "second" if second else "run",
        "cpu": time.process_time(),
        "end": time.time() - _t0,
        "own": {} if forked else dict(_own),
        "first": {} if forked else _first,
        "top": [] if forked else _top,
    }
    with open(os.path.join(_folder, f"{os.getpid()}.json"), "w") as f:
        json.dump(record, f)


event.register("numba:compile", _Own())
atexit.register(_dump)
_exit = os._exit


def _logged_exit(code):  # the second process ends by os._exit (sim.fast.aside)
    try:
        _dump()
    finally:
        _exit(code)


os._exit = _logged_exit
"""
"""The `sitecustomize` of `--functions`: in every process of the command (the second
process inherits the path), each function's own compile CPU seconds (nested compiles
subtracted) and when its compile began, written to one JSON file per process at exit."""


def measure(folder: Path, ahead: bool, k: int, log: Path | None = None) -> dict:
    """Run the command once in a fresh process in `folder`; its JSON line plus CPU time.
    With `log`, every process of the command writes its compiles there (`PROCESS_LOG`)."""
    env = dict(os.environ, PYTHONPATH=str(folder), NUMBA_CACHE_DIR=str(folder / "numba-cache"))
    if log is not None:
        log.mkdir()
        (log / "sitecustomize.py").write_text(PROCESS_LOG)
        env["PYTHONPATH"] = os.pathsep.join([str(log), str(folder)])
        env["SIYU_FIRST_RUN_LOG"], env["SIYU_FIRST_RUN_T0"] = str(log), repr(time.time())
    out = folder / f"out-{k}"
    args = [sys.executable, __file__, "--child", str(out)] + (["--ahead"] if ahead else [])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(args, cwd=folder, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"first_run: the command failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall"] = wall
    result["cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result


def by_process(log: Path, top: int) -> None:
    """Print what `PROCESS_LOG` recorded: each process, its top-level compiles in time
    order, the `top` functions by own compile seconds, and the functions compiled in both
    processes. A child the run forked (the
    report's figures, `sim.present.forked`) is shown with its CPU; it compiles nothing."""
    records = [json.loads(p.read_text()) for p in sorted(log.glob("*.json"))]
    order = {"run": 0, "second": 1, "forked": 2}
    records.sort(key=lambda r: order.get(r["process"], 3))
    runs = [r for r in records if r["process"] != "forked"]
    for r in records:
        starts = sorted(r["first"].values())
        span = f"compiles from {starts[0]:.1f} s to {starts[-1]:.1f} s" if starts else "none"
        print(
            f"  {r['process']} process: {r['cpu']:.1f} s CPU, {sum(r['own'].values()):.1f} s "
            f"of it compiling {len(r['own'])} functions; {span}; ended at {r['end']:.1f} s"
        )
    for r in runs:
        print(f"  {r['process']} process, its top-level compiles (s on the command's clock):")
        for name, start, end in r.get("top", []):
            stop = "unfinished" if end is None else f"{end:5.1f}"
            print(f"    {start:5.1f} - {stop}  {name}")
    own = [(seconds, name, r["process"]) for r in runs for name, seconds in r["own"].items()]
    print(f"  the {top} longest own compiles (CPU s, process, function):")
    for seconds, name, process in sorted(own, reverse=True)[:top]:
        print(f"    {seconds:6.2f}  {process:6}  {name}")
    if len(runs) == 2:
        both = set(runs[0]["own"]) & set(runs[1]["own"])
        cost = sum(runs[0]["own"][n] + runs[1]["own"][n] for n in both)
        print(
            f"  compiled in both processes (by name: also for other argument types in each): "
            f"{len(both)} functions, {cost:.1f} s CPU in all"
        )
        for name in sorted(both, key=lambda n: -(runs[0]["own"][n] + runs[1]["own"][n]))[:top]:
            print(f"    {runs[0]['own'][name]:6.2f} + {runs[1]['own'][name]:.2f}  {name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ahead", action="store_true", help="time `python -m sim.fast`")
    parser.add_argument("--repeat", type=int, default=1, help="runs on the same copy (≥ 1)")
    parser.add_argument(
        "--functions",
        type=int,
        default=0,
        metavar="N",
        help="also print each process's compiles: the N longest, and those done twice",
    )
    parser.add_argument("--child", metavar="OUT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        child(args.ahead, args.child)
        return 0
    if args.repeat < 1:
        parser.error("--repeat: at least 1")
    if args.functions < 0:
        parser.error("--functions: at least 0")
    what = "python -m sim.fast" if args.ahead else "siyu " + " ".join(README_COMMAND)
    with tempfile.TemporaryDirectory(prefix="siyu-first-run-") as tmp:
        folder = Path(tmp)
        for name in COPIED:
            shutil.copytree(
                ROOT / name, folder / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        for k in range(args.repeat):
            log = folder / f"compiles-{k}" if args.functions else None
            res = measure(folder, args.ahead, k, log)
            state = "fresh cache" if k == 0 else "cache built"
            print(f"{what} ({state}): {res['wall']:.1f} s wall, {res['cpu']:.1f} s CPU")
            compiling = sum(seconds for _, seconds in res["compiles"])
            if compiling:
                llvm = sum(res["llvm"].values())
                parts = ", ".join(f"{k} {v:.1f} s" for k, v in res["llvm"].items())
                print(
                    f"  compiling: {compiling:.1f} s wall; CPU in LLVM {llvm:.1f} s ({parts}); "
                    f"the rest of the command's {res['cpu_here']:.1f} s CPU is Numba's front end "
                    "and the run itself"
                )
            for name, seconds in sorted(res["compiles"], key=lambda c: -c[1]):
                print(f"    compiled {name}: {seconds:.1f} s")
            if log is not None and compiling:
                by_process(log, args.functions)
    return 0


if __name__ == "__main__":
    sys.exit(main())
