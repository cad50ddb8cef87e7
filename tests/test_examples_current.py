"""The curated example reports match what the code computes today: each example's KPIs in
`reports/examples/<name>/summary.json` are recomputed (the same shipped scenario, seed and
engine) and compared, so a model change that moves them fails CI until
`python -m sim.examples` regenerates them."""

from __future__ import annotations

import json
import math

import pytest

from sim.examples import EXAMPLES_DIR, default_examples
from sim.runner import run
from sim.scenario import load_scenario


def _close(a: object, b: object, path: str) -> list[str]:
    """Paths where two KPI trees differ (numbers to 1e-9 relative: same code, same bytes,
    but JSON round-trips floats through text)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{path}: keys {sorted(a.keys() ^ b.keys())}"]
        return [d for k in a for d in _close(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, int | float) and isinstance(b, int | float):
        return [] if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) else [f"{path}: {a} vs {b}"]
    return [] if a == b else [f"{path}: {a!r} vs {b!r}"]


@pytest.mark.parametrize("name", default_examples())
def test_curated_example_is_current(name: str) -> None:
    stored = json.loads((EXAMPLES_DIR / name / "summary.json").read_text(encoding="utf-8"))
    sc = load_scenario(name)
    result = run(sc, stored["seed"], engine=stored["engine"])
    fresh = json.loads(json.dumps(result.summary, allow_nan=False))
    assert stored["parameters"] == fresh["parameters"], (
        f"{name}: the scenario changed since the example was written: python -m sim.examples"
    )
    diffs = _close(stored["kpis"], fresh["kpis"], "kpis")
    assert not diffs, f"{name}: stale example ({len(diffs)} KPIs moved, e.g. {diffs[:3]}): " + (
        "regenerate with python -m sim.examples"
    )


@pytest.mark.heavy
def test_curated_reports_and_effects_are_current(tmp_path) -> None:
    """Every example's report.md and effects.csv (the effects take 8 paired replicates each,
    about half a minute an example) are what `python -m sim.examples` writes today."""
    from sim.examples import regenerate

    stale = []
    for folder in regenerate(root=tmp_path / "examples", echo=False):
        for name in ("report.md", "effects.csv"):
            fresh, stored = folder / name, EXAMPLES_DIR / folder.name / name
            if fresh.exists() != stored.exists() or (
                fresh.exists() and fresh.read_bytes() != stored.read_bytes()
            ):
                stale.append(f"{folder.name}/{name}")
    assert not stale, f"stale examples {stale}: regenerate with python -m sim.examples"
