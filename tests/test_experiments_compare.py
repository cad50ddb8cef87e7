"""`siyu compare`: common random numbers, paired differences with t-intervals, the report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario
from sim.cli import main
from sim.experiments.compare import paired_differences, run_compare, write_compare
from sim.experiments.executors import SerialExecutor

SMALL = {"run.days": 60, "run.consumers": 300}


@pytest.fixture(scope="module")
def result():
    scenarios = [load_scenario(n, SMALL) for n in ("public_only", "beauty_guides", "public_only")]
    return run_compare(scenarios, 4, SerialExecutor(), seed=5)


def row(res, scenario: str, brand: str, metric: str):
    d = res.differences
    return d[(d["scenario"] == scenario) & (d["brand"] == brand) & (d["metric"] == metric)].iloc[0]


def test_common_random_numbers_same_scenario_differs_by_zero(result) -> None:
    assert result.labels == ["public_only", "beauty_guides", "public_only#2"]
    same = result.differences[result.differences["scenario"] == "public_only#2"]
    assert len(same) > 20
    assert np.allclose(same["diff"].fillna(0), 0.0)
    assert np.allclose(same["low"].dropna(), 0.0) and np.allclose(same["high"].dropna(), 0.0)
    seeds = result.runs.groupby(["scenario", "replicate"])["seed"].first().unstack(0)
    assert (seeds.nunique(axis=1) == 1).all()  # replicate k: one seed for every scenario


def test_known_sign_difference_ci_covers_truth(result) -> None:
    # public_only runs no private domain: its private share is exactly 0, so the true
    # difference is beauty_guides' own (positive) private share
    r = row(result, "beauty_guides", "brand", "private_share")
    assert r["reference"] == 0.0
    assert r["n"] == 4
    assert r["low"] > 0 and r["low"] <= r["diff"] <= r["high"]
    assert r["diff"] == pytest.approx(r["value"])


def test_paired_ci_from_differences() -> None:
    runs = pd.DataFrame(
        {
            "scenario": ["a"] * 3 + ["b"] * 3,
            "replicate": [0, 1, 2] * 2,
            "brand": "x",
            "metric": "m",
            "value": [1.0, 2.0, 3.0, 2.0, 4.0, 3.0],
        }
    )
    d = paired_differences(runs, ["a", "b"]).iloc[0]
    diffs = np.array([1.0, 2.0, 0.0])
    half = 4.302652729911275 * diffs.std(ddof=1) / np.sqrt(3)  # t(0.975, 2)
    assert d["diff"] == pytest.approx(1.0)
    assert d["low"] == pytest.approx(1.0 - half) and d["high"] == pytest.approx(1.0 + half)


def test_write_compare_report(result, tmp_path: Path) -> None:
    write_compare(result, tmp_path, days=SMALL["run.days"])
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "# Comparison: public_only vs beauty_guides" in report
    assert "figures/differences.png" in report
    assert (tmp_path / "figures" / "differences.png").stat().st_size > 10_000
    assert (tmp_path / "results.parquet").is_file() and (tmp_path / "differences.csv").is_file()


def test_cli_compare(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cmp"
    args = [
        "compare",
        "public_only",
        "beauty_guides",
        "--replicates",
        "2",
        "--days",
        "30",
        "--consumers",
        "150",
        "--workers",
        "1",
        "--out",
        str(out),
    ]
    with pytest.raises(SystemExit) as info:
        main(args)
    stdout, err = capsys.readouterr()
    assert (info.value.code or 0) == 0, err
    assert "private_share" in stdout and (out / "report.md").is_file()
    with pytest.raises(SystemExit) as info:
        main(["compare", "public_only", "--out", str(tmp_path / "x")])
    _, err = capsys.readouterr()
    assert info.value.code == 2 and "at least two" in err
    with pytest.raises(SystemExit) as info:
        main(["compare", "public_only", "nope_scenario", "--out", str(tmp_path / "y")])
    _, err = capsys.readouterr()
    assert info.value.code == 2 and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_report_lists_what_differs(result, tmp_path: Path) -> None:
    """The report names every resolved parameter that differs between the scenarios (here
    stores, brands, levers ...), and only those: identical scenarios differ in nothing."""
    table = result.assumptions
    assert list(table.columns) == ["parameter", *result.labels]
    keys = set(table["parameter"])
    assert "brands.brand.stores" in keys  # public_only has no stores; beauty_guides has
    assert "run.days" not in keys and "run.consumers" not in keys  # the same in all three
    assert not {"name", "description", "source_case"} & keys
    same = table[table["public_only"] != table["public_only#2"]]
    assert same.empty  # the repeated scenario differs from the first in nothing
    write_compare(result, tmp_path)
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "## What differs between the scenarios" in report
    assert "`brands.brand.stores`" in report
    written = pd.read_csv(tmp_path / "assumptions.csv")
    assert set(written["parameter"]) == keys


def test_set_targets_one_scenario() -> None:
    """`--set N:key=value` or `NAME:key=value` changes one scenario; a plain `--set` all."""
    from sim.cli import targeted_overrides

    got = targeted_overrides(
        ["run.days=30", "2:brands.brand.strategy.private_ops=false", "brand_a:run.seed=4"],
        ["beauty_guides", "beauty_guides", "brand_a"],
    )
    assert got == [
        ["run.days=30"],
        ["run.days=30", "brands.brand.strategy.private_ops=false"],
        ["run.days=30", "run.seed=4"],
    ]
    # a value with a colon is not a target
    assert targeted_overrides(['description="a:b"'], ["x", "y"]) == [
        ['description="a:b"'],
        ['description="a:b"'],
    ]


def test_cli_compare_against_a_twin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A scenario against itself with one lever changed: the report names that lever as
    the only assumption that differs; a target that names no scenario is one line, exit 2."""
    out = tmp_path / "twin"
    base = ["compare", "beauty_guides", "beauty_guides", "--replicates", "2", "--days", "30"]
    twin = "2:brands.brand.strategy.private_ops=false"
    args = [*base, "--consumers", "150", "--workers", "1", "--set", twin, "--out", str(out)]
    with pytest.raises(SystemExit) as info:
        main(args)
    _, err = capsys.readouterr()
    assert (info.value.code or 0) == 0, err
    written = pd.read_csv(out / "assumptions.csv")
    assert list(written["parameter"]) == ["brands.brand.strategy.private_ops"]
    assert "`brands.brand.strategy.private_ops`" in (out / "report.md").read_text("utf-8")
    with pytest.raises(SystemExit) as info:
        main([*base, "--set", "3:run.seed=1", "--out", str(tmp_path / "x")])
    _, err = capsys.readouterr()
    assert info.value.code == 2
    assert err.strip() == "error: --set: 3:run.seed=1: no scenario 3 (give 1 to 2)"
    assert not (tmp_path / "x").exists()
