"""Fingerprints of every shipped scenario's ledger on both engines: the guard that a
refactoring of the engines changes no run.

    python benchmarks/ledger_hashes.py --write      # record benchmarks/ledger_hashes.json
    python benchmarks/ledger_hashes.py              # compare with the record; exit 1 on drift
    python benchmarks/ledger_hashes.py --engine fast --scenario brand_a

Each fingerprint is the md5 of the ledger's CSV (`run(load_scenario(name), seed,
engine).ledger.to_csv()`): same seed, same bytes. The fast engine is fingerprinted on
seeds 1-3, the reference engine (slower) on seed 3.

The record keeps the ledger's columns at the time it was written (`_columns`). A column
added since (a new mechanism's booking) is left out of the fingerprint when it is zero on
every row — a mechanism that is off books nothing — so the old columns must still be
byte-identical; a new column that is not all zero is a change. `--write` records the
columns of today's ledger.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from sim.runner import run
from sim.scenario import load_scenario, shipped_scenarios

RECORD = Path(__file__).with_name("ledger_hashes.json")
SEEDS = {"fast": (1, 2, 3), "agents": (3,)}


def fingerprint(
    name: str, seed: int, engine: str, columns: list[str] | None = None
) -> tuple[str, list[str]]:
    """The md5 of the run's ledger CSV over `columns` (all when None), and the columns left
    out because they are new and not all zero (these make the run a change)."""
    ledger = run(load_scenario(name), seed=seed, engine=engine).ledger
    if columns is None:
        return hashlib.md5(ledger.to_csv().encode()).hexdigest(), []
    new = [c for c in ledger.columns if c not in columns]
    nonzero = [c for c in new if (ledger[c] != 0).any()]
    kept = ledger[[c for c in ledger.columns if c in columns]]
    return hashlib.md5(kept.to_csv().encode()).hexdigest(), nonzero


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="record the fingerprints")
    ap.add_argument("--engine", choices=sorted(SEEDS), action="append")
    ap.add_argument("--scenario", action="append")
    args = ap.parse_args(argv)
    record = json.loads(RECORD.read_text()) if RECORD.exists() else {}
    names = args.scenario or [p.stem for p in shipped_scenarios()]
    columns = None if args.write else record.get("_columns")
    drift = 0
    for engine in args.engine or sorted(SEEDS):
        for name in names:
            for seed in SEEDS[engine]:
                key = f"{engine}/{name}/{seed}"
                got, nonzero = fingerprint(name, seed, engine, columns)
                want = record.get(key)
                status = "new" if want is None else ("same" if want == got else "CHANGED")
                if nonzero and status == "same":
                    status = "CHANGED (new columns not zero: " + ", ".join(nonzero) + ")"
                drift += status.startswith("CHANGED")
                print(f"{key:45s} {got} {status}", flush=True)
                if args.write:
                    record[key] = got
    if args.write:
        from sim.ledger import COLUMNS, KEY_COLUMNS

        record["_columns"] = [*KEY_COLUMNS, *COLUMNS]
        RECORD.write_text(json.dumps(dict(sorted(record.items())), indent=1) + "\n")
    return 1 if drift and not args.write else 0


if __name__ == "__main__":
    sys.exit(main())
