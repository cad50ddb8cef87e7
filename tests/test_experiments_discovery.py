"""Scenario discovery (PRIM through EMA Workbench): it recovers a known box from a constructed
table, the experiment file's `discover` targets are validated with one-line errors, and the
sweep report gets a section (with its figure) for each target, or one line when no run meets
it or the package is missing."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sim.experiments import discovery
from sim.experiments.discovery import choose_box, find_box, meets
from sim.experiments.executors import SerialExecutor
from sim.experiments.report import write_sweep_report
from sim.experiments.spec import Discover, load_experiment
from sim.experiments.sweep import run_sweep
from sim.scenario import ScenarioError

pytest.importorskip("ema_workbench")


def test_prim_recovers_a_known_box() -> None:
    """y = 1 iff x1 > 0.6 and x2 < 0.3; x3 is noise: the box restricts x1 and x2 only."""
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"x1": rng.random(1000), "x2": rng.random(1000), "x3": rng.random(1000)})
    y = ((x["x1"] > 0.6) & (x["x2"] < 0.3)).to_numpy()
    box = find_box(x, y)
    lim = {item.factor: item for item in box.limits}
    assert lim["x1"].restricted and lim["x1"].text.startswith("≥ ")
    assert float(lim["x1"].text[2:]) == pytest.approx(0.6, abs=0.05)
    assert lim["x2"].restricted and lim["x2"].text.startswith("≤ ")
    assert float(lim["x2"].text[2:]) == pytest.approx(0.3, abs=0.05)
    assert not lim["x3"].restricted
    assert box.density > 0.9 and box.coverage >= 0.5
    assert box.mass == pytest.approx(box.n / 1000)
    assert box.k == pytest.approx(box.density * box.n)


def test_prim_restricts_a_category() -> None:
    rng = np.random.default_rng(1)
    x = pd.DataFrame({"x1": rng.random(800), "g": np.where(rng.random(800) < 0.5, "a", "b")})
    y = ((x["x1"] > 0.5) & (x["g"] == "b")).to_numpy()
    lim = {item.factor: item for item in find_box(x, y).limits}
    assert lim["g"].text == "in {b}"
    assert float(lim["x1"].text[2:]) == pytest.approx(0.5, abs=0.05)
    # a category with one level (EMA drops it) is reported unrestricted
    x["g"] = "a"
    lim = {item.factor: item for item in find_box(x, (x["x1"] > 0.5).to_numpy()).limits}
    assert lim["g"].text == "any" and not lim["g"].restricted


def test_prim_keeps_no_box_where_the_target_is_scattered() -> None:
    """10% of runs on target at random: no box reaches density 0.5, EMA keeps none."""
    rng = np.random.default_rng(2)
    x = pd.DataFrame({"a": rng.random(600), "b": rng.random(600)})
    box = find_box(x, rng.random(600) < 0.1)
    assert len(box.trajectory) == 1 and box.coverage == 1.0
    assert not any(item.restricted for item in box.limits)


def test_choose_box_takes_the_densest_with_enough_coverage() -> None:
    t = pd.DataFrame({"coverage": [1.0, 0.9, 0.6, 0.5, 0.3], "density": [0.2, 0.4, 0.7, 0.7, 1.0]})
    assert choose_box(t, 0.5) == 2  # 0.7 at coverage 0.6 beats 0.7 at 0.5; 1.0 is too small
    assert choose_box(t, 0.25) == 4
    assert choose_box(t, 0.95) == 0


def test_meets_each_kind_of_target() -> None:
    v = np.array([0.3, 0.4, 0.45, 0.5, 0.6, np.nan])
    band = Discover(metric="m", between=[0.4, 0.5])
    assert meets(v, band).tolist() == [False, True, True, True, False, False]
    assert meets(v, Discover(metric="m", above=0.5)).tolist() == [0, 0, 0, 1, 1, 0]
    assert meets(v, Discover(metric="m", below=0.4)).tolist() == [1, 1, 0, 0, 0, 0]


EXP = """
name = "disc"
base = "beauty_guides"
design = "lhs"
samples = 60
replicates = 2
seed = 3
metrics = ["brands.brand.roi_private", "market.private_share"]
[factors]
"brands.brand.strategy.private_discount" = { range = [0.0, 0.2] }
"brands.brand.strategy.welcome_gift" = { range = [0.0, 60.0] }
"brands.brand.strategy.guide_regime" = ["quality", "quota"]
[analysis]
DISCOVER
"""


def fake_run(scenario, seed):
    """ROI private above 1 where the discount is above 0.1 and the guides work by quality."""
    s = scenario.brands["brand"].strategy
    noise = np.random.default_rng(seed).normal(0, 0.02)
    good = s.private_discount > 0.1 and s.guide_regime == "quality"
    kpis = {
        "brands": {"brand": {"roi_private": (1.5 if good else 0.6) + noise}},
        "market": {"private_share": 0.2 + noise},
    }
    return SimpleNamespace(summary={"kpis": kpis})


def _experiment(tmp_path: Path, discover: str):
    path = tmp_path / "disc.toml"
    path.write_text(EXP.replace("DISCOVER", discover), encoding="utf-8")
    return load_experiment(path)


def test_report_has_a_box_for_each_target(tmp_path: Path) -> None:
    exp = _experiment(
        tmp_path,
        'discover = [{ metric = "brands.brand.roi_private", above = 1.0 }, '
        '{ metric = "market.private_share", between = [0.4, 0.5] }]',
    )
    res = run_sweep(exp, tmp_path / "out", SerialExecutor(), run_fn=fake_run)
    report = write_sweep_report(exp, res.design, res.manifest, res.results, tmp_path / "out")
    text = report.read_text(encoding="utf-8")
    assert "## Where ROI private of brand is at least 1: scenario discovery (PRIM)" in text
    assert "**private_discount ≥ 0.1" in text  # 0.1 and some digits
    assert "**guide_regime in {quality}**" in text
    assert "coverage" in text and "density" in text and "mass" in text
    assert (tmp_path / "out" / "figures" / "discover_1_roi_private.png").is_file()
    assert "figures/discover_1_roi_private.png" in text
    # the second target: shares as percentages, and no run meets it
    assert "## Where market private share of GMV is between 40.0% and 50.0%" in text
    assert "No run meets the target (between 40.0% and 50.0%): 0 of 120 runs" in text


def test_report_says_how_to_install_without_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exp = _experiment(tmp_path, 'discover = [{ metric = "brands.brand.roi_private", above = 1 }]')

    def missing() -> None:
        raise discovery.DiscoveryUnavailable("No module named 'ema_workbench'")

    monkeypatch.setattr(discovery, "_prim_module", missing)
    res = run_sweep(exp, tmp_path / "out", SerialExecutor(), run_fn=fake_run)
    report = write_sweep_report(exp, res.design, res.manifest, res.results, tmp_path / "out")
    text = report.read_text(encoding="utf-8")
    assert (
        f"Scenario discovery needs EMA Workbench, not installed here: `{discovery.INSTALL}`" in text
    )


@pytest.mark.parametrize(
    ("discover", "key", "message"),
    [
        (
            'discover = [{ metric = "brands.brand.roi_private", above = 1, below = 2 }]',
            "analysis.discover[0]",
            "give one condition: above = X, below = X or between = [low, high] "
            "(got above and below)",
        ),
        (
            'discover = [{ metric = "brands.brand.roi_private" }]',
            "analysis.discover[0]",
            "give one condition",
        ),
        (
            'discover = [{ metric = "brands.brand.roi_public", above = 1 }]',
            "analysis.discover[0].metric",
            "'brands.brand.roi_public' is not in metrics (did you mean "
            "'brands.brand.roi_private'?)",
        ),
        (
            'discover = [{ metric = "brands.brand.roi_private", abov = 1 }]',
            "analysis.discover[0].abov",
            "unknown key (did you mean 'above'?)",
        ),
        (
            'discover = [{ metric = "market.private_share", between = [0.5, 0.4] }]',
            "analysis.discover[0]",
            "between: low must not exceed high",
        ),
        (
            'discover = [{ metric = "brands.*.roi_private", above = 1 }]',
            "analysis.discover[0].metric",
            "'brands.*.roi_private' is not in metrics",
        ),
        (
            'discover = [{ metric = "market.private_share", above = 0.4, coverage = 0 }]',
            "analysis.discover[0].coverage",
            "greater than 0",
        ),
    ],
)
def test_bad_targets_fail_in_one_line(
    tmp_path: Path, discover: str, key: str, message: str
) -> None:
    with pytest.raises(ScenarioError) as err:
        _experiment(tmp_path, discover)
    assert err.value.key == key
    assert message in err.value.message
    assert "\n" not in str(err.value)
