"""The fast engine's driver: stepping day by day (with the adaptive brands' reviews between
days) gives the same ledger as running in chunks; both engines staff a brand alike; the
compile-ahead command works."""

from __future__ import annotations

import subprocess
import sys

import numba
import numpy as np

from sim import load_scenario
from sim.fast import FastModel
from sim.fast import kernels as K
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


@numba.njit
def _window_lists(W):
    """Rows of the need lists' chunks, days of their heads, days of the span ends."""
    return W.nq.shape[0], W.nq_head.shape[0], W.cs_stop.shape[2]


def test_a_window_drops_its_need_lists_and_spans():
    """run_days plans a window's need lists and the census's span ends (`plan_days`) and
    lets their memory go at the window's end, so that one window's lists never meet the
    next's at a large run's peak; the next window plans its own and the run goes on alike."""
    sc = load_scenario("beauty_guides", {"run.days": 60, "run.consumers": 2000})
    model = FastModel(sc, run_rng(2))
    W, B, G = model._structs()
    L, book, rng, S = model._L, model._book, model._draw, model._S
    K.plan_days(W, G, 0, 30)
    chunks, days, span_days = _window_lists(W)
    assert chunks >= 64 and days == span_days == 30
    K.run_days(W, B, G, L, book, 0, 30, rng, S)
    assert _window_lists(W) == (0, 0, 0)
    K.run_days(W, B, G, L, book, 30, 60, rng, S)
    whole = FastModel(sc, run_rng(2))
    whole.run()
    assert whole.ledger.to_frame().equals(model.ledger.to_frame())


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
