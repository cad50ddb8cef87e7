"""benchmarks/layout_ab.py at a tiny size (heavy: each layout compiles once): the records
and the dense layout write the same ledger, run for run, and the table is printed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "layout_ab.py"


@pytest.mark.heavy
def test_both_layouts_run_the_same_market() -> None:
    cmd = [sys.executable, str(SCRIPT), "--consumers", "3000", "--days", "40", "--rounds", "1"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    rows = [line for line in done.stdout.splitlines() if "records / dense" in line]
    assert len(rows) == 2 and all("(same ledger)" in row for row in rows)
