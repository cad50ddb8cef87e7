"""Sensitivity designs end to end with a stand-in model of known structure: Sobol' and Morris
rank the factors as the formula says, with bootstrap intervals; reports and figures exist."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from sim.experiments.executors import SerialExecutor
from sim.experiments.report import write_sweep_report
from sim.experiments.spec import load_experiment
from sim.experiments.sweep import run_sweep

SENS = """
name = "sens"
base = "beauty_guides"
design = "DESIGN"
samples = SAMPLES
replicates = 2
seed = 5
metrics = ["brands.brand.roi_private", "market.private_share"]
[factors]
"brands.brand.strategy.private_discount" = { range = [0.0, 0.2] }
"brands.brand.strategy.welcome_gift" = { range = [0.0, 60.0] }
"population.hunter_share" = { range = [0.0, 0.2] }
"brands.brand.strategy.guide_regime" = ["quality", "quota"]
"""


def fake_run(scenario, seed):
    """y = 4 d + w + noise: discount matters most, gift some, hunters and regime not at all."""
    s = scenario.brands["brand"].strategy
    noise = np.random.default_rng(seed).normal(0, 0.01)
    y = 4 * s.private_discount / 0.2 + s.welcome_gift / 60 + noise
    kpis = {
        "brands": {"brand": {"roi_private": y}},
        "market": {"private_share": None},  # undefined everywhere: reported, not analysed
    }
    return SimpleNamespace(summary={"kpis": kpis})


@pytest.mark.parametrize(("design", "samples"), [("sobol", 16), ("morris", 8), ("lhs", 30)])
def test_sensitivity_ranks_known_structure(tmp_path: Path, design: str, samples: int) -> None:
    path = tmp_path / "sens.toml"
    path.write_text(SENS.replace("DESIGN", design).replace("SAMPLES", str(samples)))
    exp = load_experiment(path)
    res = run_sweep(exp, tmp_path / "out", SerialExecutor(), run_fn=fake_run)
    assert (res.manifest["status"] == "done").all()
    report = write_sweep_report(exp, res.design, res.manifest, res.results, tmp_path / "out")
    text = report.read_text(encoding="utf-8")
    assert "brands.brand.roi_private" in text
    for fig in (tmp_path / "out" / "figures").glob("*.png"):
        assert f"figures/{fig.name}" in text
    if design == "lhs":
        assert "Spearman" in text
        return
    from sim.experiments.analysis import matrix, point_means, sensitivity_indices

    y = matrix(point_means(res.results), "brand", "roi_private", len(res.design))
    t = sensitivity_indices(exp, res.design, y)
    assert t is not None
    keys = list(exp.factors)
    d, w, h, g = keys
    col = "ST" if design == "sobol" else "mu_star"
    assert t.loc[d, col] > t.loc[w, col] > max(t.loc[h, col], t.loc[g, col])
    assert t.loc[h, col] < 0.05 * t.loc[d, col]
    conf = "ST_conf" if design == "sobol" else "mu_star_conf"
    assert (t[conf] >= 0).all() and t[conf].notna().all()
    assert "Not analysed" in text and "market.private_share" in text
    assert (tmp_path / "out" / "figures" / f"{design}.png").is_file()


TIE = """
name = "tie"
base = "beauty_guides"
design = "grid"
replicates = 3
seed = 2
metrics = ["brands.brand.roi_private"]
[factors]
"brands.brand.strategy.welcome_gift" = LEVELS
"brands.brand.strategy.private_discount" = [0.0]
"""


def level_run(scenario, seed):
    """y = the welcome gift plus noise of sd 0.1: levels 0.05 apart tie, 10 apart do not."""
    s = scenario.brands["brand"].strategy
    y = s.welcome_gift + np.random.default_rng(seed).normal(0, 0.1)
    return SimpleNamespace(
        summary={"kpis": {"brands": {"brand": {"roi_private": y}}, "market": {}}}
    )


@pytest.mark.parametrize(
    ("levels", "says"),
    [
        ("[0.0, 10.0, 10.05]", "not distinguishable from the next"),
        ("[0.0, 10.0, 20.0]", "clear of every other point's"),
    ],
)
def test_best_point_is_named_with_its_interval_and_ties_said(
    tmp_path: Path, levels: str, says: str
) -> None:
    path = tmp_path / "tie.toml"
    path.write_text(TIE.replace("LEVELS", levels), encoding="utf-8")
    exp = load_experiment(path)
    res = run_sweep(exp, tmp_path / "out", SerialExecutor(), run_fn=level_run)
    text = write_sweep_report(exp, res.design, res.manifest, res.results, tmp_path / "out")
    text = text.read_text(encoding="utf-8")
    line = next(t for t in text.splitlines() if t.startswith("Highest"))
    top = levels.strip("[]").split(", ")[-1]
    assert f"welcome_gift = {float(top):g}" in line.split(";")[2]
    assert "95% CI" in line and "n 3" in line
    assert says in line.split("Lowest")[0]
    assert "clear of every other point's" in line.split("Lowest")[1]  # 0 is far below


BAND = """
name = "band"
base = "beauty_guides"
design = "grid"
replicates = 2
seed = 2
metrics = ["market.private_share", "brands.brand.roi_private"]
[factors]
"brands.brand.strategy.welcome_gift" = [0.0, 42.0, 45.0]
"brands.brand.strategy.private_discount" = [0.0, 0.1]
[analysis]
[[analysis.heatmaps]]
x = "brands.brand.strategy.welcome_gift"
y = "brands.brand.strategy.private_discount"
metric = "market.private_share"
band = [0.4, 0.5]
"""


def share_run(scenario, seed):
    """Market private share = gift / 100 (0, 42%, 45%) + discount (0, 10%): 42% and 45% in
    the band [0.4, 0.5], the other four cells (0, 10%, 52%, 55%) outside it."""
    s = scenario.brands["brand"].strategy
    noise = np.random.default_rng(seed).normal(0, 0.001)
    share = s.welcome_gift / 100 + s.private_discount + noise
    kpis = {"brands": {"brand": {"roi_private": 1.2 + noise}}, "market": {"private_share": share}}
    return SimpleNamespace(summary={"kpis": kpis})


def test_figures_name_kpis_in_words_with_units_and_draw_the_band(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Titles and axes use `sim.present.labels` (no raw keys), shares get percent ticks, and
    the heatmap outlines exactly the cells whose mean is inside the target band."""
    from matplotlib.patches import Rectangle
    from matplotlib.ticker import PercentFormatter

    from sim.experiments import analysis

    seen: dict[str, object] = {}
    real_save = analysis.save

    def keep(fig, path):
        axes = fig.get_axes()
        seen[Path(path).name] = {
            # as read: a long title or label wraps onto lines
            "title": " ".join(fig.get_suptitle().split()),
            "labels": [" ".join(a.get_ylabel().split()) for a in axes],
            "percent": [isinstance(a.yaxis.get_major_formatter(), PercentFormatter) for a in axes],
            "outlined": sum(
                bool(isinstance(p, Rectangle) and p.get_hatch()) for p in axes[0].patches
            ),
        }
        real_save(fig, path)

    monkeypatch.setattr(analysis, "save", keep)
    path = tmp_path / "band.toml"
    path.write_text(BAND, encoding="utf-8")
    exp = load_experiment(path)
    res = run_sweep(exp, tmp_path / "out", SerialExecutor(), run_fn=share_run)
    text = write_sweep_report(exp, res.design, res.manifest, res.results, tmp_path / "out")
    text = text.read_text(encoding="utf-8")
    heat = seen["heatmap_1_market_private_share.png"]
    assert heat["title"].startswith("market private share of GMV (%): mean over replicates")
    assert "in the target band 40.0%–50.0%" in heat["title"]
    assert heat["outlined"] == 2
    assert "%" in heat["labels"]  # the colour bar's unit
    assert any(heat["percent"])
    resp = seen["response_brand_roi_private.png"]
    assert resp["title"] == "ROI private of brand by factor (mean of runs, 95% CI)"
    assert resp["labels"][0] == "ROI private of brand (yuan per yuan)"
    assert not any(resp["percent"])
    for fig in seen.values():
        assert "brands.brand" not in fig["title"] and "market.private" not in fig["title"]
    assert "Target 40.0%–50.0% of market private share of GMV: reached at " in text
    assert "## Market private share of GMV over welcome_gift × private_discount" in text
