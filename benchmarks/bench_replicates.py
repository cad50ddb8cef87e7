"""Benchmark of `siyu run`'s replicates on threads: the command on a large market with
`--threads 1` against its default (`sim.effects.replicate_threads`, every core from 15M
consumer-days a run, as memory allows).

    python benchmarks/bench_replicates.py              # national_guides, 1M consumers x 120 days
    python benchmarks/bench_replicates.py --scenario beauty_guides --consumers 100000 --days 365
    python benchmarks/bench_replicates.py --rounds 3   # more alternated rounds
    python benchmarks/bench_replicates.py --write      # and record it for the README

Each command runs in a fresh process (`child.run_child`), the two forms alternated round by
round (1 then default, then default then 1, ...), so that a drift of the machine falls on
both. The population is set with `--set run.consumers=N`, which keeps the scenario's staff
and stores as the file has them (`--consumers` would scale them with the market). Printed:
each form's wall seconds (every round, and the median), its peak RSS, the threads the
default chose, the ratio of the medians (one thread over the default), and whether both
forms wrote the same bytes (`effects.csv`, `metrics.parquet`): they must, whatever the
thread count. The exit status is 1 when a command failed or the bytes differ.

`--write` (the default market, at least two rounds; refused otherwise, exit 2) records the
figures as the (r) rows of benchmarks/performance.json and rewrites the README's sentence
that quotes them (`performance.py`), unless a command failed or the bytes differ.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "benchmarks") not in sys.path:  # imported from elsewhere (the tests)
    sys.path.insert(0, str(ROOT / "benchmarks"))
from child import RESULT, Outcome, run_child  # noqa: E402  (the benchmarks' one child runner)

FORMS = ("1", "default")
"""`--threads 1`, and no `--threads` (the command's default)."""
COMPARED = ("effects.csv", "metrics.parquet")
"""The outputs both forms must write byte for byte alike."""


def command(scenario: str, consumers: int, days: int, out: Path, form: str) -> list[str]:
    """`siyu run`'s arguments for one form."""
    args = ["run", scenario, "--set", f"run.consumers={consumers}", "--days", str(days)]
    return [*args, "--out", str(out), *(["--threads", form] if form != "default" else [])]


def child(argv: list[str]) -> int:
    """In the fresh process: run the command (its tables to nowhere: only its errors are
    shown), then report its exit code and the threads the default chooses for this market
    (`RESULT`)."""
    from sim.cli import main
    from sim.effects import replicate_threads
    from sim.scenario import load_scenario

    scenario, consumers, days = argv[1], int(argv[3].split("=")[1]), int(argv[5])
    with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        else:
            code = 0
    sc = load_scenario(scenario, [f"run.consumers={consumers}", f"run.days={days}"])
    print(RESULT + f'{{"code": {code}, "threads": {replicate_threads(sc)}}}', flush=True)
    return 0


def measure(args: argparse.Namespace, folder: Path) -> dict[str, list[Outcome]]:
    """Every round's two commands, alternated; each form's outcomes in round order."""
    outcomes: dict[str, list[Outcome]] = {form: [] for form in FORMS}
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for k in range(args.rounds):
        for form in FORMS if k % 2 == 0 else FORMS[::-1]:
            out = folder / f"{form}-{k}"
            cmd = command(args.scenario, args.consumers, args.days, out, form)
            print(f"round {k + 1}: siyu {' '.join(cmd)}", flush=True)
            outcomes[form].append(
                run_child([sys.executable, __file__, "--child", *cmd], env, args.timeout, cwd=ROOT)
            )
    return outcomes


def same_bytes(folder: Path, rounds: int) -> bool:
    """Whether every command wrote the outputs of COMPARED alike."""
    outs = [folder / f"{form}-{k}" for k in range(rounds) for form in FORMS]
    first = [(outs[0] / name).read_bytes() for name in COMPARED]
    return all([(out / name).read_bytes() for name in COMPARED] == first for out in outs[1:])


def failed(outcome: Outcome) -> bool:
    """Whether a command gave no result or exited with an error (it then wrote nothing)."""
    return not outcome.ok or (outcome.result or {}).get("code") != 0


def figures(runs: list[Outcome], form: str) -> dict[str, Any]:
    """One form's figures: the threads its command ran the replicates on, its wall seconds
    (every round and their median) and its peak RSS in GB."""
    walls = [o.wall for o in runs]
    return {
        "threads": runs[0].result["threads"] if form == "default" else 1,  # type: ignore[index]
        "walls": walls,
        "median": statistics.median(walls),
        "peak_gb": max(o.peak_rss for o in runs) / 1e9,
    }


def report(outcomes: dict[str, list[Outcome]], same: bool | None) -> tuple[list[str], int]:
    """The printed lines and the exit status."""
    lines, medians, any_failed = [], {}, False
    for form, runs in outcomes.items():
        bad = [o for o in runs if failed(o)]
        if bad:
            any_failed = True
            why = bad[0].error or f"exit {(bad[0].result or {}).get('code')}"
            lines.append(f"--threads {form}: failed ({why})")
            continue
        f = figures(runs, form)
        medians[form] = f["median"]
        threads = f["threads"]
        lines.append(
            f"--threads {form:7s} ({threads} thread{'s' if threads != 1 else ''}): median "
            f"{f['median']:.1f} s ({', '.join(f'{w:.1f}' for w in f['walls'])}), peak RSS "
            f"{f['peak_gb']:.2f} GB"
        )
    if len(medians) == 2:
        lines.append(f"one thread / default: {medians['1'] / medians['default']:.2f}x")
    if same is not None:
        lines.append(f"same bytes ({', '.join(COMPARED)}): {'yes' if same else 'NO'}")
    return lines, int(any_failed or same is False)


DEFAULTS = {"scenario": "national_guides", "consumers": 1_000_000, "days": 120}
"""The options' defaults: the market the README quotes (`--write` records it only)."""


def write_refused(args: argparse.Namespace) -> str:
    """Why `--write` may not record this invocation (empty when it may)."""
    if not args.write:
        return ""
    if any(getattr(args, k) != v for k, v in DEFAULTS.items()) or args.rounds < 2:
        return "--write: only for the default market, days and at least 2 rounds"
    return ""


def record(outcomes: dict[str, list[Outcome]], args: argparse.Namespace) -> None:
    """`--write`: the two forms' figures as the (r) rows of benchmarks/performance.json and
    the README's replicates sentence (`performance`), once every command succeeded and
    both forms wrote the same bytes."""
    import performance

    one, default = figures(outcomes["1"], "1"), figures(outcomes["default"], "default")
    run = f"(r) siyu run {args.scenario} --set run.consumers={args.consumers} --days {args.days}"

    def cell(f: dict[str, Any]) -> str:
        walls = " / ".join(f"{w:.1f}" for w in f["walls"])
        return f"{f['median']:.1f} s ({walls}), peak {f['peak_gb']:.2f} GB"

    rows = [
        (f"{run} --threads 1", "1", cell(one), "(reported)", ""),
        (f"{run} (default threads)", str(default["threads"]), cell(default), "(reported)", ""),
        (
            "(r) speed, default / --threads 1 (same bytes)",
            "",
            f"{one['median'] / default['median']:.2f}x",
            "(reported)",
            "",
        ),
    ]
    values = {
        "one": round(one["median"], 2),
        "default": round(default["median"], 2),
        "one_peak_gb": round(one["peak_gb"], 3),
        "default_peak_gb": round(default["peak_gb"], 3),
    }
    performance.write(rows, {"r"}, {"replicates": values})
    print("recorded (r) in benchmarks/performance.json and README.md")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child(argv[1:])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=DEFAULTS["scenario"])
    ap.add_argument("--consumers", type=int, default=DEFAULTS["consumers"])
    ap.add_argument("--days", type=int, default=DEFAULTS["days"])
    ap.add_argument("--rounds", type=int, default=2, help="alternated rounds (>= 1)")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds a command may take")
    ap.add_argument(
        "--write",
        action="store_true",
        help="record the figures for the README (default market, at least 2 rounds)",
    )
    args = ap.parse_args(argv)
    if args.rounds < 1 or args.consumers < 1 or args.days < 1:
        ap.error("--rounds, --consumers and --days: at least 1")
    refused = write_refused(args)
    if refused:
        print(f"bench_replicates.py: {refused}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="siyu-bench-replicates-") as tmp:
        folder = Path(tmp)
        outcomes = measure(args, folder)
        ok = not any(failed(o) for runs in outcomes.values() for o in runs)
        lines, status = report(outcomes, same_bytes(folder, args.rounds) if ok else None)
    print(f"siyu run {args.scenario}, {args.consumers:,} consumers x {args.days} days:")
    for line in lines:
        print(f"  {line}")
    if args.write and status == 0:
        record(outcomes, args)
    return status


if __name__ == "__main__":
    sys.exit(main())
