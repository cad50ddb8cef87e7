"""The README's experiment timings, measured and kept current.

    python benchmarks/timings.py --write             # time every shipped experiment, record
                                                     # benchmarks/timings.json, rewrite README
    python benchmarks/timings.py --write --repeat 3  # the median of three timings each
    python benchmarks/timings.py --readme            # rewrite README from the record only
    python benchmarks/timings.py                     # check: exit 1 if a timing is stale

Each experiment is timed as a user runs it: `siyu sweep NAME --out TMP` (default workers,
report and figures included), wall-clock, in a fresh process, after `python -m sim.fast` has
compiled the engine (a sweep on a stale cache would time the compile). The record keeps, per
experiment, the seconds (the median of `--repeat` timings), the median compute of one task
(a run, or a scenario-and-twin pair) in its worker (the sweep manifest's `duration_s`), and
a fingerprint of what was timed: the experiment file, the scenario files its base reads
(its `extends` chain) and the package version; and, for all of them, the fast engine's
source stamp (`sim.fast.jit.source_stamp`), which changes whenever the compiled code does.
When any of these changes, the timing no longer describes the experiment:
tests/test_timings.py fails until this script is run again. The README's table (between the
`timings:` markers) is written from the record: each row's last cell is the time of the
experiment its first cell names (`facts_*`: the range over those experiments); so is the
range of a task's compute in the sentence after it (between the `timings: task` markers).
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sim.experiments.spec import EXPERIMENT_DIR, resolve_base, shipped_experiments
from sim.scenario import extends_chain, read_toml_file
from sim.version import __version__

ROOT = Path(__file__).resolve().parents[1]
RECORD = Path(__file__).with_name("timings.json")
README = ROOT / "README.md"
BEGIN = "<!-- timings: begin (python benchmarks/timings.py --write rewrites this table) -->"
END = "<!-- timings: end -->"
TASK_BEGIN, TASK_END = "<!-- timings: task -->", "<!-- /timings: task -->"
"""Around the README's range of one task's compute (`task_range`)."""


def fingerprint(experiment: Path) -> str:
    """What a timing describes: the experiment file's bytes, those of every scenario file its
    base reads (names relative to the repository) and the package version."""
    base = read_toml_file(experiment, "experiment file")["base"]
    files = [experiment, *extends_chain(resolve_base(str(base), experiment))]
    digest = hashlib.sha256(f"siyu {__version__}\n".encode())
    for path in files:
        name = os.path.relpath(path.resolve(), ROOT)
        digest.update(f"{name}\n".encode() + path.read_bytes() + b"\n")
    return digest.hexdigest()[:16]


def engine_stamp() -> str:
    """The fast engine's source stamp, shortened (`sim.fast.jit.source_stamp`)."""
    from sim.fast.jit import source_stamp

    return source_stamp()[:16]


def time_sweep(name: str) -> tuple[float, float]:
    """Wall-clock seconds of `siyu sweep NAME` into a temporary folder, and the median
    seconds of one of its tasks in its worker (the manifest's `duration_s`); raises on
    failure."""
    import pandas as pd

    with tempfile.TemporaryDirectory(prefix=f"siyu-timing-{name}-") as tmp:
        out = Path(tmp) / "out"
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "sim.cli", "sweep", name, "--out", str(out)],
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        seconds = time.perf_counter() - t0
        manifest = pd.read_parquet(out / "manifest.parquet")
        done = manifest.loc[manifest["status"] == "done", "duration_s"]
        return seconds, float(done.median())


def stale(record: dict) -> list[str]:
    """Lines naming each shipped experiment whose timing is missing or stale, and each
    recorded experiment that no longer ships."""
    timed = record.get("experiments", {})
    out = []
    for path in shipped_experiments():
        entry = timed.get(path.stem)
        if entry is None:
            out.append(f"{path.stem}: never timed")
        elif entry["fingerprint"] != fingerprint(path):
            out.append(f"{path.stem}: the experiment, its scenarios or the version changed")
    if timed and record.get("measured", {}).get("engine") != engine_stamp():
        out.append("every experiment: the fast engine changed since they were timed")
    shipped = {p.stem for p in shipped_experiments()}
    out.extend(f"{name}: recorded but no longer shipped" for name in timed if name not in shipped)
    return out


def shown(seconds: float) -> str:
    """A time as the README shows it: `12 s`, `1.7 min`."""
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def row_time(first_cell: str, times: dict[str, float]) -> str | None:
    """The time cell of a README row whose first cell names an experiment (or a pattern such
    as `facts_*`: the range of the experiments it matches, "each"); None if it names none."""
    found = re.search(r"`([^`]+)`", first_cell)
    if not found:
        return None
    matched = [t for name, t in times.items() if fnmatch.fnmatchcase(name, found.group(1))]
    if not matched:
        return None
    if "*" not in found.group(1):
        return shown(matched[0])
    low, high = shown(min(matched)), shown(max(matched))
    if low == high:
        return f"{low} each"
    if low.endswith(" s") and high.endswith(" s"):
        return f"{low[:-2]}–{high} each"
    return f"{low}–{high} each"


def task_range(record: dict) -> str:
    """The range over the experiments of their median task's compute: `0.05–0.4 s`."""
    tasks = [e["task_seconds"] for e in record.get("experiments", {}).values()]
    if not tasks:
        return "–"
    low, high = (f"{t:.2g}" for t in (min(tasks), max(tasks)))
    return f"{low} s" if low == high else f"{low}–{high} s"


def render_readme(text: str, record: dict) -> str:
    """README text with the table between the timings markers, and the task range between
    its markers, rewritten from the record."""
    start, end = text.find(TASK_BEGIN), text.find(TASK_END)
    if start < 0 or end < start:
        raise ValueError(f"README.md: no task range between {TASK_BEGIN!r} and {TASK_END!r}")
    text = text[: start + len(TASK_BEGIN)] + task_range(record) + text[end:]
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"README.md: no table between {BEGIN!r} and {END!r}")
    times = {name: e["seconds"] for name, e in record.get("experiments", {}).items()}
    lines = text[start:end].split("\n")
    for i, line in enumerate(lines):
        cells = line.split("|")
        if not line.startswith("| `") or len(cells) < 3:
            continue
        cell = row_time(cells[1], times)
        if cell is not None:
            cells[-2] = f" {cell} "
            lines[i] = "|".join(cells)
    return text[:start] + "\n".join(lines) + text[end:]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="time every experiment and record it")
    ap.add_argument("--readme", action="store_true", help="rewrite README from the record")
    ap.add_argument("--repeat", type=int, default=1, help="timings per experiment (median)")
    ap.add_argument("--experiment", action="append", help="time only these (with --write)")
    args = ap.parse_args(argv)
    record = json.loads(RECORD.read_text()) if RECORD.exists() else {"experiments": {}}
    if args.write:
        names = args.experiment or [p.stem for p in shipped_experiments()]
        if args.experiment and record.get("measured", {}).get("engine") != engine_stamp():
            print(
                "timings.py: --experiment: the fast engine changed since the others were "
                "timed: time every experiment (without --experiment)",
                file=sys.stderr,
            )
            return 2
        # the engine compiled first, so that no sweep's time includes compiling it
        subprocess.run([sys.executable, "-m", "sim.fast"], check=True, cwd=ROOT)
        load = os.getloadavg()[0]
        for name in names:
            path = EXPERIMENT_DIR / f"{name}.toml"
            timed = [time_sweep(name) for _ in range(max(1, args.repeat))]
            runs = [wall for wall, _ in timed]
            seconds = round(statistics.median(runs), 1)
            task = round(statistics.median(t for _, t in timed), 3)
            record["experiments"][name] = {
                "seconds": seconds,
                "task_seconds": task,
                "fingerprint": fingerprint(path),
            }
            print(
                f"{name:28s} {shown(seconds):>8s}  ({', '.join(f'{t:.1f}' for t in runs)}); "
                f"a task {task:.3f} s"
            )
        record["experiments"] = dict(sorted(record["experiments"].items()))
        record["measured"] = {
            "date": datetime.now(UTC).strftime("%Y-%m-%d"),
            "cpu_count": os.cpu_count(),
            "load_average_before": round(load, 1),
            "repeat": max(1, args.repeat),
            "engine": engine_stamp(),
        }
        RECORD.write_text(json.dumps(record, indent=1) + "\n")
    if args.write or args.readme:
        README.write_text(render_readme(README.read_text(), record))
        print(f"wrote {RECORD.relative_to(ROOT)} and the table in README.md")
        return 0
    problems = stale(record)
    for line in problems:
        print(line)
    if problems:
        print("stale timings: run python benchmarks/timings.py --write")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
