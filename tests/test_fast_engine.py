"""The fast engine's driver: stepping day by day (with the adaptive brands' reviews between
days) gives the same ledger as running in chunks; both engines staff a brand alike; the
compile-ahead command works."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from sim import load_scenario
from sim.fast import FastModel
from sim.model import MarketModel
from sim.runner import run_rng
from sim.streams import Purpose


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


def test_both_engines_staff_a_brand_alike():
    """From the same staffing stream both engines hire the same guides (skills) and
    recruit the same distributors (kind, circle): one staffing rule, sim.staffing; a
    re-staffing continues the brand's stream alike in both."""
    sc = load_scenario(
        "bench_three_brands",
        {"run.consumers": 400, "run.days": 5, "brands.nodes.strategy.employee_distributors": 3},
    )
    fast, ref = FastModel(sc, run_rng(4)), MarketModel(sc, run_rng(4))
    assert np.array_equal(fast.network.indices, ref.network.indices)  # one network stream
    staffed = 0
    for b, brand in enumerate(ref.brands):
        brand.staff()
        fast._staff(b)
        skills = np.array([g.skill for g in brand.guides], dtype=np.float32)
        assert np.array_equal(skills, fast._skills[b])
        assert [(int(d.kind), d.circle.tolist()) for d in brand.distributors] == [
            (kind, c.tolist()) for kind, c in fast._distributors[b]
        ]
        stream = (e.streams.setup(Purpose.STAFFING, b).bit_generator.state for e in (fast, ref))
        assert next(stream) == next(stream)
        staffed += len(brand.guides) + len(brand.distributors)
    assert staffed > 10
