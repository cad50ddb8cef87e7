"""The README's performance figures, measured by `bench_fast.py` and kept current.

    python benchmarks/bench_fast.py --write     # measure everything, record it, rewrite README
    python benchmarks/bench_fast.py --write --skip-50m   # re-measure all but (e), keep (e)'s
    python benchmarks/bench_replicates.py --write        # the replicates' figures (r)
    python benchmarks/performance.py            # check: exit 1 if a figure is stale
    python benchmarks/performance.py --readme   # rewrite README from the record only

`bench_fast.py --write` (at the targets' sizes only) records its final table in
benchmarks/performance.json, each measurement's rows (`GROUPS`: the letter in a row's first
cell) with the date it was measured and the fast engine's source stamp
(`sim.fast.jit.source_stamp`), which changes whenever the compiled code does. A measurement
left out (`--skip-50m`, `--skip-peer`, ...) keeps the rows it was last measured with, and
their stamp. Once the engine's stamp moves on, those figures describe another engine:
tests/test_performance.py fails until they are measured again. `bench_replicates.py
--write` records its rows the same way, as (r). The README's table (between the
`performance:` markers) and the figures in its text (`INLINE`) are written from the
record, never by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORD = Path(__file__).with_name("performance.json")
README = ROOT / "README.md"
BEGIN = "<!-- performance: begin (python benchmarks/bench_fast.py --write rewrites this table) -->"
END = "<!-- performance: end -->"
INLINE = {
    "first": ("first_run", "first", "s"),
    "install": ("first_run", "install", "s"),
    "warm": ("first_run", "warm", "s"),
    "cold": ("first_run", "cold", "s"),
    "one-process": ("first_run", "one-process", "s"),
    "replicates-one": ("replicates", "one", "s"),
    "replicates-default": ("replicates", "default", "s"),
    "replicates-one-peak": ("replicates", "one_peak_gb", "GB"),
    "replicates-default-peak": ("replicates", "default_peak_gb", "GB"),
}
"""The README's inline figures (`<!-- performance: NAME -->17 s<!-- /performance: NAME -->`):
marker name, then the record's section and key, and the unit. (f)'s seconds (`first_run`:
the first run on a fresh install; the install's compile before it; the same command again,
warm; a first run the install did not compile, which compiles on two cores; the same
compiled in one process) are written by `bench_fast.py --write`, the replicates'
medians and peaks (`replicates`: `siyu run` with `--threads 1` and with its default) by
`bench_replicates.py --write`."""
GROUPS = ("a", "b", "c", "b2", "d", "e", "f", "g", "peer", "r")
"""The measurements, in the table's order, named as the rows' first cells open: "(b2) ...";
(r) is `bench_replicates.py`'s, the others `bench_fast.py`'s."""
FIX = (
    "run python benchmarks/bench_fast.py --write, and python benchmarks/bench_replicates.py "
    "--write for (r)"
)


def engine_stamp() -> str:
    """The fast engine's source stamp, shortened (`sim.fast.jit.source_stamp`)."""
    from sim.fast.jit import source_stamp

    return source_stamp()[:16]


def group_of(row: list[str] | tuple[str, ...]) -> str:
    """The measurement a final-table row belongs to: the letter its first cell opens with."""
    found = re.match(r"\((\w+)\)", row[0])
    if found is None or found.group(1) not in GROUPS:
        raise ValueError(f"a row of no measurement: {row[0]!r}")
    return found.group(1)


def merged(record: dict, rows: list, measured: set[str], figures: dict[str, dict]) -> dict:
    """The record with the rows of the measurements in `measured` replaced by `rows` (each
    stamped with today's date and the engine's stamp), the others kept as they were, and
    each section of inline figures in `figures` (`INLINE`) replaced."""
    stamp = {"date": datetime.now(UTC).strftime("%Y-%m-%d"), "engine": engine_stamp()}
    kept = [r for r in record.get("rows", []) if group_of(r) not in measured]
    new = [list(r) for r in rows if group_of(r) in measured]
    order = {g: k for k, g in enumerate(GROUPS)}
    when = {g: v for g, v in record.get("measured", {}).items() if g not in measured}
    when.update({g: dict(stamp) for g in measured})
    out = {
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "machine": platform.machine(),
        },
        "measured": {g: when[g] for g in GROUPS if g in when},
        # stable: a measurement's rows keep their order within it
        "rows": sorted(kept + new, key=lambda r: order[group_of(r)]),
    }
    for section in sorted({section for section, _, _ in INLINE.values()}):
        out[section] = figures.get(section, record.get(section, {}))
    return out


def stale(record: dict) -> list[str]:
    """Lines naming each measurement never recorded, or recorded on another engine."""
    now = engine_stamp()
    out = []
    for g in GROUPS:
        entry = record.get("measured", {}).get(g)
        if entry is None:
            out.append(f"({g}): never measured")
        elif entry["engine"] != now:
            out.append(f"({g}): the fast engine changed since it was measured ({entry['date']})")
    return out


def shown(value: float, unit: str = "s") -> str:
    """A figure as the README prints it: seconds to two significant figures (4.4 s, 25 s),
    gigabytes to two decimals (0.63 GB)."""
    if unit == "GB":
        return f"{value:.2f} GB"
    return f"{value:.1f} s" if value < 9.95 else f"{value:.0f} s"


def table(record: dict) -> str:
    """The README's table: where and when it was measured, then the final table's rows."""
    dates = sorted({e["date"] for e in record.get("measured", {}).values()})
    span = dates[0] if len(dates) == 1 else f"{dates[0]} to {dates[-1]}" if dates else "never"
    m = record.get("machine", {})
    head = (
        f"Measured {span} on a shared {m.get('cpu_count', '?')}-core "
        f"{m.get('machine', '?')} machine (Python {m.get('python', '?')}), written by "
        "`python benchmarks/bench_fast.py --write` ((r): `python benchmarks/bench_replicates.py "
        "--write`); the engine's source stamp is recorded with each measurement in "
        "`benchmarks/performance.json`."
    )
    lines = [
        head,
        "",
        "| measurement | threads | figure | target | met |",
        "|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(cell or " " for cell in row) + " |" for row in record["rows"]]
    return "\n".join(lines)


def render_readme(text: str, record: dict) -> str:
    """README text with the table between the performance markers, and each inline figure
    between its markers, rewritten from the record."""
    for name, (section, key, unit) in INLINE.items():
        begin, end = f"<!-- performance: {name} -->", f"<!-- /performance: {name} -->"
        value = record.get(section, {}).get(key)
        cell = "–" if value is None else shown(value, unit)
        # every place that quotes the figure (the README quotes some twice)
        quoted = begin + cell + end
        text, found = re.subn(
            re.escape(begin) + ".*?" + re.escape(end), quoted.replace("\\", r"\\"), text, flags=re.S
        )
        if not found:
            raise ValueError(f"README.md: no figure between {begin!r} and {end!r}")
    start, stop = text.find(BEGIN), text.find(END)
    if start < 0 or stop < start:
        raise ValueError(f"README.md: no table between {BEGIN!r} and {END!r}")
    return text[: start + len(BEGIN)] + "\n" + table(record) + "\n" + text[stop:]


def load() -> dict:
    """The record (empty where there is none yet)."""
    return json.loads(RECORD.read_text(encoding="utf-8")) if RECORD.exists() else {"rows": []}


def write(rows: list, measured: set[str], figures: dict[str, dict]) -> None:
    """Record `rows` for the measurements `measured` and the sections of inline figures in
    `figures`, and rewrite the README from the record."""
    record = merged(load(), rows, measured, figures)
    RECORD.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    rewrite_readme(record)


def rewrite_readme(record: dict) -> None:
    """README.md with its performance figures rendered from `record` (`render_readme`)."""
    README.write_text(render_readme(README.read_text(encoding="utf-8"), record), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--readme", action="store_true", help="rewrite README from the record")
    args = ap.parse_args(argv)
    record = load()
    if args.readme:
        rewrite_readme(record)
        print("wrote the performance figures in README.md")
        return 0
    problems = stale(record)
    for line in problems:
        print(line)
    if problems:
        print(f"stale performance figures: {FIX}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
