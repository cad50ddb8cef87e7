"""Strategy maps: bundle factors (a level sets its table of keys together), the map's choice
logic on constructed results, and the map's validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.experiments.design import build_design
from sim.experiments.spec import load_experiment
from sim.experiments.strategy_map import CLEAR, NONE, TIE, analyse_maps, choose, map_cells
from sim.scenario import ScenarioError, load_scenario

BUNDLES = """
name = "bundles"
base = "public_only"
design = "grid"
replicates = 2
days = 20
seed = 1
metrics = ["brands.brand.contribution"]
[factors]
"categories.beauty.purchases_per_year" = [2.0, 8.0]
[factors."brands.brand.strategy"]
labels = ["guides", "nodes"]
values = [
    { guides_per_store = 0.5, package_card_channel = "guide" },
    { koc_count = 12, koc_kind = "small_b" },
]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "e.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_bundle_level_sets_exactly_its_keys(tmp_path: Path) -> None:
    exp = load_experiment(write(tmp_path, BUNDLES))
    design = build_design(exp)
    base = load_scenario(exp.base_path, exp.fixed_overrides()).brands["brand"].strategy
    seen = set()
    for point in design.points:
        level = point["brands.brand.strategy"]
        sc = load_scenario(exp.base_path, exp.run_overrides(point))
        got = sc.brands["brand"].strategy.model_dump()
        changed = {k for k, v in got.items() if v != base.model_dump()[k]}
        assert changed == set(level), (level, changed)
        assert all(got[k] == v for k, v in level.items())
        seen.add(exp.factors["brands.brand.strategy"].label(level))
    assert seen == {"guides", "nodes"}


def test_bundle_unknown_key_is_one_line_naming_the_level(tmp_path: Path) -> None:
    text = BUNDLES.replace("koc_kind", "koc_knd")
    with pytest.raises(ScenarioError) as err:
        load_experiment(write(tmp_path, text))
    msg = str(err.value)
    assert "\n" not in msg
    assert "factors.brands.brand.strategy: level 'nodes':" in msg
    assert "koc_knd: unknown key" in msg and "did you mean 'koc_kind'" in msg


def test_bundle_needs_labels(tmp_path: Path) -> None:
    text = BUNDLES.replace('labels = ["guides", "nodes"]\n', "")
    with pytest.raises(ScenarioError, match="needs labels"):
        load_experiment(write(tmp_path, text))


def test_map_must_name_factors_and_a_metric(tmp_path: Path) -> None:
    ok = BUNDLES + (
        '[analysis]\nmaps = [{ rows = "categories.beauty.purchases_per_year", '
        'cols = "categories.beauty.purchases_per_year", choice = "brands.brand.strategy", '
        'metric = "brands.brand.contribution" }]\n'
    )
    with pytest.raises(ScenarioError, match="rows, cols and choice must be different"):
        load_experiment(write(tmp_path, ok))
    bad = ok.replace('metric = "brands.brand.contribution"', 'metric = "brands.brand.roi"')
    with pytest.raises(ScenarioError, match=r"maps\[0\]\.metric"):
        load_experiment(write(tmp_path, bad))


def test_choose_known_winner_tie_and_none() -> None:
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 1.0, 6)
    clear = {"a": 100 + noise, "b": 50 + noise[::-1], "c": 10 + noise}
    best, runner, (m, lo, hi), (dlo, _dhi), status = choose(clear, 0.95)
    assert (best, runner, status) == ("a", "b", CLEAR)
    assert lo < m < hi and lo > 0 and dlo > 0
    tie = {"a": 100 + 20 * noise, "b": 99 + 20 * noise[::-1]}
    assert choose(tie, 0.95)[4] == TIE
    none = {"a": 1 + 20 * noise, "b": -50 + noise}
    best, _, _, _, status = choose(none, 0.95)
    assert (best, status) == ("a", NONE)


def _results(values: dict[tuple[str, str, str], list[float]]) -> pd.DataFrame:
    rows = []
    for (r, c, k), vs in values.items():
        for rep, v in enumerate(vs):
            rows.append(
                {
                    "rows": r,
                    "cols": c,
                    "choice": k,
                    "replicate": rep,
                    "brand": "b",
                    "metric": "m",
                    "value": v,
                }
            )
    return pd.DataFrame(rows)


def test_map_cells_on_a_constructed_table() -> None:
    df = _results(
        {
            ("lo", "x", "guides"): [10.0, 11.0, 12.0, 10.5],
            ("lo", "x", "groups"): [1.0, 2.0, 1.5, 2.5],
            ("hi", "x", "guides"): [5.0, 9.0, 7.0, 3.0],
            ("hi", "x", "groups"): [6.0, 4.0, 8.0, 6.5],
            ("hi", "y", "guides"): [-5.0, -4.0, -6.0, -5.5],
            ("hi", "y", "groups"): [-1.0, 1.0, -2.0, 0.5],
        }
    )
    cells = {(c.row, c.col): c for c in map_cells(df, "rows", "cols", "choice", "b", "m", 0.95)}
    assert cells["lo", "x"].best == "guides" and cells["lo", "x"].status == CLEAR
    assert cells["lo", "x"].mean == pytest.approx(10.875)
    assert cells["hi", "x"].status == TIE and {
        cells["hi", "x"].best,
        cells["hi", "x"].runner_up,
    } == {
        "guides",
        "groups",
    }
    assert cells["hi", "y"].best == "groups" and cells["hi", "y"].status == NONE


def test_map_section_from_a_tiny_sweep_table(tmp_path: Path) -> None:
    text = BUNDLES + (
        '[analysis]\nmaps = [{ rows = "categories.beauty.purchases_per_year", '
        'cols = "brands.brand.days", choice = "brands.brand.strategy", '
        'metric = "brands.brand.contribution" }]\n'
    )
    with pytest.raises(ScenarioError, match="is not a factor"):
        load_experiment(write(tmp_path, text))
    text = BUNDLES.replace(
        "[factors]\n", '[factors]\n"categories.beauty.service_need" = [0.2, 0.8]\n'
    ) + (
        '[analysis]\nmaps = [{ rows = "categories.beauty.service_need", '
        'cols = "categories.beauty.purchases_per_year", choice = "brands.brand.strategy", '
        'metric = "brands.brand.contribution" }]\n'
    )
    exp = load_experiment(write(tmp_path, text))
    design = build_design(exp)
    rows = []
    for p, point in enumerate(design.points):
        nodes = exp.factors["brands.brand.strategy"].label(point["brands.brand.strategy"])
        for rep in range(3):
            value = (100.0 if nodes == "nodes" else 10.0) + rep
            rows.append(
                {
                    "point": p,
                    "replicate": rep,
                    "brand": "brand",
                    "metric": "contribution",
                    "value": value,
                }
            )
    (tmp_path / "figures").mkdir()
    sections = analyse_maps(exp, design, pd.DataFrame(rows), tmp_path)
    assert len(sections) == 1
    table = sections[0].text[0]
    assert table.count("| nodes |") == 4 and "clear" in table
    assert (tmp_path / sections[0].figures[0][0]).stat().st_size > 0
