"""Experiment files: validation before any run (one line, exit 2, nothing written), designs
and seeds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.experiments.design import build_design
from sim.experiments.seeds import compare_seed, run_seed
from sim.experiments.spec import load_experiment, shipped_experiments, validate_experiment
from sim.experiments.sweep import plan
from sim.scenario import ScenarioError, load_scenario
from tests.helpers import cli

GOOD = """
name = "tiny"
base = "beauty_guides"
design = "grid"
replicates = 2
days = 20
consumers = 100
seed = 3
metrics = ["brands.brand.roi_private", "market.private_share"]
[factors]
"brands.brand.strategy.private_discount" = { range = [0.0, 0.2], steps = 3 }
"categories.beauty.purchases_per_year" = [2.0, 8.0]
"""


BAD = {
    "unknown top-level key": (
        "replicats = 3\n" + GOOD,
        "replicats: unknown key (did you mean 'replicates'?)",
    ),
    "bad design": (GOOD.replace('"grid"', '"factorial"'), "design:"),
    "bad factor key": (
        GOOD.replace("private_discount", "private_discout"),
        "factors.brands.brand.strategy.private_discout: ",
    ),
    "unknown brand in factor": (
        GOOD.replace("brands.brand.strategy", "brands.brnad.strategy"),
        "factors.brands.brnad.strategy.private_discount: ",
    ),
    "value out of range": (
        GOOD.replace("[0.0, 0.2]", "[0.0, 1.5]"),
        "factors.brands.brand.strategy.private_discount: value 1.5:",
    ),
    "empty range": (GOOD.replace("[0.0, 0.2]", "[0.3, 0.2]"), "range: low must be below high"),
    "grid range without steps": (GOOD.replace(", steps = 3", ""), "a grid needs steps"),
    "choice value of the wrong type": (
        GOOD.replace("[2.0, 8.0]", '[2.0, "often"]'),
        "factors.categories.beauty.purchases_per_year: value 'often':",
    ),
    "sobol not a power of 2": (
        GOOD.replace('"grid"', '"sobol"\nsamples = 12').replace(", steps = 3", ""),
        "samples: a Sobol design needs a power of 2",
    ),
    "sampled design without samples": (
        GOOD.replace('"grid"', '"lhs"').replace(", steps = 3", ""),
        "samples: design 'lhs' needs samples",
    ),
    "unknown metric": (
        GOOD.replace("market.private_share", "market.private_shar"),
        "metrics[1]: 'market.private_shar': unknown KPI 'private_shar' (did you mean "
        "'private_share'?)",
    ),
    "unknown metric brand": (GOOD.replace("brands.brand.roi", "brands.bran.roi"), "metrics[0]:"),
    "missing base": (GOOD.replace('"beauty_guides"', '"no_such_base"'), "base: no_such_base"),
    "bad set key": (GOOD + '\n[set]\n"run.dayz" = 3\n', "set.run.dayz: unknown key"),
    "toml syntax": (GOOD + "\nfactors = [\n", "TOML syntax error"),
    "bad days": (GOOD.replace("days = 20", "days = 0"), "days:"),
    "factor not a list or table": (GOOD + '"population.hunter_share" = 0.1\n', "needs values"),
    "consumers above the limit": (
        GOOD.replace("consumers = 100", "consumers = 100000001"),
        "consumers: 100,000,001 consumers is above the limit",
    ),
    "incremental metric without a twin": (
        GOOD.replace(
            "brands.brand.roi", 'brands.brand.incremental.contribution", "brands.brand.roi'
        ),
        "metrics[0]: 'brands.brand.incremental.contribution': an incremental KPI needs a twin",
    ),
    "unknown incremental metric": (
        GOOD.replace("metrics = [", 'counterfactual = "no_private_ops"\nmetrics = [').replace(
            "brands.brand.roi", 'brands.brand.incremental.contributoin", "brands.brand.roi'
        ),
        "unknown KPI 'incremental.contributoin' (did you mean 'incremental.contribution'?)",
    ),
    "unknown counterfactual": (
        GOOD.replace("metrics = [", 'counterfactual = "no_such_twin"\nmetrics = ['),
        "counterfactual: no_such_twin: unknown counterfactual",
    ),
    "days_to threshold not a number": (
        GOOD.replace("market.private_share", "market.days_to.private_share.forty"),
        "metrics[1]: 'market.days_to.private_share.forty': threshold 'forty' is not a number",
    ),
    "days_to without a threshold": (
        GOOD.replace("market.private_share", "market.days_to.private_share"),
        "metrics[1]: 'market.days_to.private_share': expected days_to.KPI.THRESHOLD",
    ),
    "days_to threshold not finite": (
        GOOD.replace("market.private_share", "market.days_to.private_share.inf"),
        "threshold 'inf' must be a finite number",
    ),
    "days_to of an unknown KPI": (
        GOOD.replace("market.private_share", "market.days_to.private_shar.0.4"),
        "metrics[1]: 'market.days_to.private_shar.0.4': 'private_shar' is not a KPI with a "
        "path (did you mean 'private_share'?)",
    ),
    "path of an unknown KPI": (
        GOOD.replace("[factors]", 'paths = ["market.private_share", "market.membrs"]\n[factors]'),
        "paths[1]: 'market.membrs': 'membrs' is not a KPI with a path",
    ),
    "path of an unknown brand": (
        GOOD.replace("[factors]", 'paths = ["brands.bran.private_share"]\n[factors]'),
        "paths[0]: 'brands.bran.private_share': unknown brand 'bran' (did you mean 'brand'?)",
    ),
    "path not a KPI name": (
        GOOD.replace("[factors]", 'paths = ["private_share"]\n[factors]'),
        "paths[0]: 'private_share': expected market.KPI or brands.NAME.KPI",
    ),
    "path window of zero days": (
        GOOD.replace("[factors]", 'paths = ["market.private_share"]\npath_window = 0\n[factors]'),
        "path_window:",
    ),
    "path listed twice": (
        GOOD.replace(
            "[factors]", 'paths = ["market.private_share", "market.private_share"]\n[factors]'
        ),
        "paths: a path is listed twice",
    ),
    "factor level pushed over a limit by the scaling": (
        GOOD.replace("consumers = 100", "consumers = 3000000")
        + '"brands.brand.stores" = [10.0, 2000.0]\n',
        "factors.brands.brand.stores: value 2000.0: scaled, brands.brand.stores: ",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_experiment_one_line_exit_2_nothing_written(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, expected = BAD[case]
    path = tmp_path / "x.toml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    code, _stdout, err = cli(["sweep", path, "--out", out, "--workers", "1"], capsys)
    assert code == 2, (case, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: {path}: "), err
    assert expected in lines[0], (expected, err)
    assert "Traceback" not in err
    assert not out.exists()


def test_bad_experiment_api_raises_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        validate_experiment({"base": "beauty_guides", "factors": {}, "metrics": []}, "e.toml")
    assert str(info.value).startswith("e.toml: metrics: ")


def test_missing_experiment_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(["sweep", tmp_path / "nope.toml"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "no such file" in err


def test_nested_factor_tables_and_wildcards(tmp_path: Path) -> None:
    text = GOOD.replace(
        '"brands.brand.strategy.private_discount" = { range = [0.0, 0.2], steps = 3 }\n', ""
    )
    text += "[factors.brands.'*'.strategy]\nprivate_discount = { range = [0.0, 0.2], steps = 3 }\n"
    path = tmp_path / "nested.toml"
    path.write_text(text, encoding="utf-8")
    exp = load_experiment(path)
    assert set(exp.factors) == {
        "categories.beauty.purchases_per_year",
        "brands.*.strategy.private_discount",
    }
    point = build_design(exp).points[-1]
    assert exp.run_overrides(point)["brands.brand.strategy.private_discount"] == 0.2


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "e.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_grid_design_points(tmp_path: Path) -> None:
    exp = load_experiment(write(tmp_path, GOOD))
    d = build_design(exp)
    assert len(d) == 6
    assert d.points[0] == {
        "brands.brand.strategy.private_discount": 0.0,
        "categories.beauty.purchases_per_year": 2.0,
    }
    assert sorted({p["brands.brand.strategy.private_discount"] for p in d.points}) == [
        0.0,
        0.1,
        0.2,
    ]


@pytest.mark.parametrize(
    ("design", "samples", "n"), [("sobol", 8, 8 * 4), ("morris", 3, 3 * 3), ("lhs", 7, 7)]
)
def test_sampled_designs_sizes_bounds_and_types(
    tmp_path: Path, design: str, samples: int, n: int
) -> None:
    text = (
        GOOD.replace('"grid"', f'"{design}"\nsamples = {samples}')
        .replace(", steps = 3", "")
        .replace("[2.0, 8.0]", "{ range = [1, 12], integer = true }")
    )
    exp = load_experiment(write(tmp_path, text))
    d = build_design(exp)
    assert len(d) == n
    for p in d.points:
        assert 0.0 <= p["brands.brand.strategy.private_discount"] <= 0.2
        v = p["categories.beauty.purchases_per_year"]
        assert isinstance(v, int) and 1 <= v <= 12
    assert build_design(exp).points == d.points  # deterministic


def test_choice_factor_in_sampled_design(tmp_path: Path) -> None:
    text = GOOD.replace('"grid"', '"lhs"\nsamples = 20').replace(", steps = 3", "")
    text += '"brands.brand.strategy.guide_regime" = ["quality", "quota"]\n'
    exp = load_experiment(write(tmp_path, text))
    regimes = [p["brands.brand.strategy.guide_regime"] for p in build_design(exp).points]
    assert set(regimes) == {"quality", "quota"}


def test_seeds_keyed_by_identity_stable_when_replicates_added(tmp_path: Path) -> None:
    exp = load_experiment(write(tmp_path, GOOD))
    two = plan(exp)
    four = plan(exp.model_copy(update={"replicates": 4}))
    merged = four.merge(two, on="run_id", suffixes=("", "_2"))
    assert len(merged) == len(two)
    assert (merged["seed"] == merged["seed_2"]).all()
    assert four["seed"].is_unique
    assert run_seed(3, 1, 0) == run_seed(3, 1, 0) != run_seed(3, 0, 1)
    assert compare_seed(0, 2) == compare_seed(0, 2) != compare_seed(0, 3)
    assert all(0 <= s < 2**32 for s in four["seed"])
    assert isinstance(run_seed(0, 0, 0), int)
    assert np.issubdtype(four["seed"].dtype, np.integer)


def test_shipped_experiments_are_valid() -> None:
    names = {p.stem for p in shipped_experiments()}
    assert {
        "where_private_pays",
        "fission_reward",
        "private_roi_drivers",
        "penetration_conditions",
    } <= names
    for path in shipped_experiments():
        exp = load_experiment(path)
        assert len(build_design(exp)) >= 2


def test_run_count_checked_before_building(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """design_size counts what build_design makes; above MAX_RUNS a sweep is refused (no
    design built) unless SIYU_ALLOW_LARGE=1."""
    from sim.experiments.spec import MAX_RUNS, check_size, design_size

    exp = load_experiment(write(tmp_path, GOOD))
    assert design_size(exp) == len(build_design(exp)) == 6
    for design, samples, n in (("sobol", 8, 32), ("morris", 3, 9), ("lhs", 7, 7)):
        text = GOOD.replace('"grid"', f'"{design}"\nsamples = {samples}').replace(", steps = 3", "")
        sampled = load_experiment(write(tmp_path, text))
        assert design_size(sampled) == len(build_design(sampled)) == n
    huge = exp.model_copy(update={"replicates": MAX_RUNS})
    monkeypatch.delenv("SIYU_ALLOW_LARGE", raising=False)
    with pytest.raises(ScenarioError) as info:
        build_design(huge)
    assert info.value.key == "factors" and "SIYU_ALLOW_LARGE=1" in info.value.message
    monkeypatch.setenv("SIYU_ALLOW_LARGE", "1")
    check_size(huge, "e.toml")  # allowed now


def test_byte_order_mark_in_experiment(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(("\ufeff" + GOOD).encode())
    assert load_experiment(path).name == "tiny"


def test_consumers_scales_the_base_market_and_its_factor_levels(tmp_path: Path) -> None:
    """An experiment's `consumers` runs the base's market at that population (as `siyu run
    --consumers`): extensive quantities, factor levels included, follow it; intensive ones
    do not. `run.consumers` in `[set]` changes the population alone."""
    text = GOOD.replace("consumers = 100", "consumers = 600")
    text += '"brands.brand.stores" = [10.0, 20.0]\n'
    exp = load_experiment(write(tmp_path, text))
    base = load_scenario(exp.base_path)  # beauty_guides: 3,000 consumers, 10 stores
    factor = 600 / base.run.consumers
    points = build_design(exp).points
    stores = sorted({exp.run_overrides(p)["brands.brand.stores"] for p in points})
    assert stores == pytest.approx([10 * factor, 20 * factor])
    over = exp.run_overrides(points[0])
    assert over["run.consumers"] == 600
    assert over["brands.brand.strategy.ad_budget_per_day"] == pytest.approx(
        base.brands["brand"].strategy.ad_budget_per_day * factor
    )
    assert over["platform.reference_ad_demand"] == pytest.approx(
        base.platform.reference_ad_demand * factor
    )
    sc = load_scenario(exp.base_path, over)
    assert (
        sc.brands["brand"].strategy.guides_per_store
        == base.brands["brand"].strategy.guides_per_store
    )
    assert "scaled ×0.2 from its 3,000" in exp.population_note()

    alone = load_experiment(
        write(tmp_path, GOOD.replace("consumers = 100\n", "") + '[set]\n"run.consumers" = 600\n')
    )
    over = alone.run_overrides(build_design(alone).points[0])
    assert over == {"run.consumers": 600, "run.days": 20, **build_design(alone).points[0]}
    assert "changed alone" in alone.population_note()


def test_shipped_experiments_run_the_markets_their_bases_name() -> None:
    for path in shipped_experiments():
        exp = load_experiment(path)
        assert exp.consumers is None and "run.consumers" not in exp.set, path.name
        assert "the base's own market" in exp.population_note()


def test_experiment_file_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    """Editors on Windows may save a BOM: an experiment file (like a scenario) still loads."""
    text = 'base = "public_only"\nmetrics = ["market.gmv"]\n[factors."run.days"]\nvalues = [10]\n'
    (tmp_path / "bom.toml").write_bytes(("\ufeff" + text).encode("utf-8"))
    exp = load_experiment(tmp_path / "bom.toml")
    assert Path(exp.base_path).name == "public_only.toml" and exp.base == "public_only"
