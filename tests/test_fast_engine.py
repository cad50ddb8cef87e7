"""The fast engine's driver: stepping day by day (with the adaptive brands' reviews between
days) gives the same ledger as running in chunks; the compile-ahead command works."""

from __future__ import annotations

import subprocess
import sys

from sim import load_scenario
from sim.fast import FastModel
from sim.runner import run_rng


def test_step_by_step_equals_run_in_chunks():
    sc = load_scenario("adaptive_market", {"run.days": 200, "run.consumers": 300})
    whole = FastModel(sc, run_rng(5))
    whole.run()
    stepped = FastModel(sc, run_rng(5))
    for _ in range(sc.run.days):
        stepped.step()
    assert whole.ledger.to_frame().equals(stepped.ledger.to_frame())
    assert whole.strategies == stepped.strategies


def test_compile_ahead_command():
    out = subprocess.run(
        [sys.executable, "-m", "sim.fast"], capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr
    assert "fast engine ready" in out.stdout
