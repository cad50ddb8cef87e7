"""Sweeps: identical results serial / process pool / Dask, resume after an interruption with
no duplicates, failing runs recorded while the sweep goes on, the CLI and its report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.experiments.executors import (
    DaskExecutor,
    ProcessExecutor,
    SerialExecutor,
    make_executor,
)
from sim.experiments.report import write_sweep_report
from sim.experiments.spec import load_experiment
from sim.experiments.store import Store
from sim.experiments.sweep import run_sweep
from sim.present.format import fmt_number
from sim.runner import run
from tests.helpers import cli

TINY = """
name = "tiny"
base = "beauty_guides"
design = "grid"
replicates = 2
days = 25
seed = 11
metrics = ["brands.brand.roi_private", "brands.brand.gmv", "market.private_share"]
[factors]
"brands.brand.strategy.private_discount" = [0.0, 0.2]
"categories.beauty.purchases_per_year" = [2.0, 8.0]
[set]
"run.consumers" = 150  # the population alone: a small, dense market that runs fast
"""


@pytest.fixture(scope="module")
def exp_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("exp") / "tiny.toml"
    path.write_text(TINY, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def serial(exp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("serial") / "out"
    return run_sweep(load_experiment(exp_path), out, SerialExecutor()).results


def failing_run(scenario, seed):  # top level: picklable for the process pool
    """A run that raises at one factor value (a stand-in for a model that breaks)."""
    if scenario.brands["brand"].strategy.private_discount > 0.1:
        raise RuntimeError("model blew up at this discount")
    return run(scenario, seed)


def test_serial_results_are_complete_and_tidy(serial: pd.DataFrame) -> None:
    assert len(serial) == 4 * 2 * 3
    assert not serial.duplicated(["run_id", "brand", "metric"]).any()
    assert set(serial["brand"]) == {"brand", "market"}
    assert {"run_id", "point", "replicate", "seed", "brand", "metric", "value"} <= set(serial)
    assert "categories.beauty.purchases_per_year" in serial
    assert serial["value"].notna().all()


def test_process_pool_equals_serial(exp_path: Path, serial: pd.DataFrame, tmp_path: Path) -> None:
    res = run_sweep(load_experiment(exp_path), tmp_path / "out", ProcessExecutor(2))
    pd.testing.assert_frame_equal(res.results, serial)


def test_dask_local_cluster_equals_serial(
    exp_path: Path, serial: pd.DataFrame, tmp_path: Path
) -> None:
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        protocol="tcp",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        ex = DaskExecutor(cluster.scheduler_address)
        assert ex.workers == 2
        res = run_sweep(load_experiment(exp_path), tmp_path / "out", ex)
    pd.testing.assert_frame_equal(res.results, serial)


class Interrupt(KeyboardInterrupt):
    pass


def test_interrupted_then_resumed_equals_uninterrupted(
    exp_path: Path, serial: pd.DataFrame, tmp_path: Path
) -> None:
    exp = load_experiment(exp_path)
    out = tmp_path / "out"
    seen: list[str] = []

    def ctrl_c_after_three(outcome: dict) -> None:
        seen.append(outcome["run_id"])
        if len(seen) == 3:
            raise Interrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(exp, out, SerialExecutor(), on_result=ctrl_c_after_three)
    store = Store(out)
    manifest = store.read_manifest()
    assert (manifest["status"] == "done").sum() == 3
    assert store.finished() == set(seen)
    # a crash between writing a run file and the manifest: the run is redone, not duplicated
    manifest.loc[manifest["run_id"] == seen[-1], "status"] = "pending"
    store.write_manifest(manifest)
    (out / "runs" / ".stray.parquet.tmp").write_text("half a file")
    ran: list[str] = []
    res = run_sweep(
        exp, out, SerialExecutor(), resume=True, on_result=lambda o: ran.append(o["run_id"])
    )
    assert sorted(ran) == sorted(set(res.manifest["run_id"]) - set(seen[:2]))
    assert res.skipped == 2 and res.ran == 6
    pd.testing.assert_frame_equal(res.results, serial)
    assert res.manifest["run_id"].is_unique
    assert (res.manifest["status"] == "done").all()
    assert len(list((out / "runs").glob("*.parquet"))) == 8
    # resuming a finished sweep runs nothing
    again = run_sweep(exp, out, SerialExecutor(), resume=True)
    assert again.ran == 0
    pd.testing.assert_frame_equal(again.results, serial)


def test_more_replicates_on_resume_adds_runs_only(
    exp_path: Path, serial: pd.DataFrame, tmp_path: Path
) -> None:
    exp = load_experiment(exp_path)
    out = tmp_path / "out"
    run_sweep(exp.model_copy(update={"replicates": 1}), out, SerialExecutor())
    res = run_sweep(exp, out, SerialExecutor(), resume=True)
    assert res.ran == 4 and res.skipped == 4
    pd.testing.assert_frame_equal(res.results, serial)


def test_resume_with_new_analysis_reuses_runs(exp_path: Path, tmp_path: Path) -> None:
    exp = load_experiment(exp_path)
    out = tmp_path / "out"
    run_sweep(exp, out, SerialExecutor())
    from sim.experiments.spec import Analysis, Heatmap

    keys = list(exp.factors)
    new = exp.model_copy(
        update={
            "description": "reworded",
            "analysis": Analysis(
                heatmaps=[Heatmap(x=keys[0], y=keys[1], metric=exp.metrics[0], band=(0, 9))]
            ),
        }
    )
    res = run_sweep(new, out, SerialExecutor(), resume=True)
    assert res.ran == 0 and res.skipped == 8
    changed = exp.model_copy(update={"days": 26})
    from sim.experiments.sweep import StoreError

    with pytest.raises(StoreError, match="different experiment"):
        run_sweep(changed, out, SerialExecutor(), resume=True)


@pytest.mark.parametrize("workers", [1, 2])
def test_failing_run_is_recorded_and_sweep_goes_on(
    exp_path: Path, serial: pd.DataFrame, tmp_path: Path, workers: int
) -> None:
    exp = load_experiment(exp_path)
    res = run_sweep(exp, tmp_path / "out", make_executor(workers), run_fn=failing_run)
    failed = res.manifest[res.manifest["status"] == "failed"]
    assert len(failed) == 4
    assert (failed["brands.brand.strategy.private_discount"] == 0.2).all()
    assert failed["error"].str.contains("RuntimeError: model blew up").all()
    done = res.manifest[res.manifest["status"] == "done"]
    assert len(done) == 4
    expected = serial[serial["brands.brand.strategy.private_discount"] == 0.0]
    pd.testing.assert_frame_equal(res.results, expected.reset_index(drop=True))
    # the manifest on disk says the same
    on_disk = Store(tmp_path / "out").read_manifest()
    assert (on_disk["status"] == "failed").sum() == 4


def test_cli_sweep_report_and_refusals(
    exp_path: Path, serial: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sweep"
    code, stdout, err = cli(["sweep", exp_path, "--out", out, "--workers", "1"], capsys)
    assert code == 0, err
    assert "wrote" in stdout
    for name in ("report.md", "results.parquet", "manifest.parquet", "experiment.json"):
        assert (out / name).is_file()
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "# Sweep: tiny" in report and "figures/heatmap_1_brand_roi_private.png" in report
    figures = list((out / "figures").glob("*.png"))
    assert len(figures) >= 4
    assert all(f"figures/{f.name}" in report for f in figures)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results.parquet"), serial)
    # again without --resume: refused, one line
    code, _, err = cli(["sweep", exp_path, "--out", out, "--workers", "1"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--resume" in err
    # with --resume: nothing to do
    code, stdout, err = cli(["sweep", exp_path, "--out", out, "--workers", "1", "--resume"], capsys)
    assert code == 0 and "0 runs" in stdout
    # a folder that is not a store
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.txt").write_text("keep me")
    code, _, err = cli(["sweep", exp_path, "--out", other], capsys)
    assert code == 2 and "not a sweep" in err
    assert sorted(p.name for p in other.iterdir()) == ["x.txt"]


def test_cli_bad_executor_options(
    exp_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(["sweep", exp_path, "--out", tmp_path / "o", "--workers", "0"], capsys)
    assert code == 2 and "--workers" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli(
        ["sweep", exp_path, "--out", tmp_path / "o", "--scheduler", "nowhere"], capsys
    )
    assert code == 2 and "--scheduler" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.heavy
def test_dask_worker_processes_equal_serial(
    exp_path: Path, serial: pd.DataFrame, tmp_path: Path
) -> None:
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        res = run_sweep(
            load_experiment(exp_path), tmp_path / "out", DaskExecutor(cluster.scheduler_address)
        )
    pd.testing.assert_frame_equal(res.results, serial)


@pytest.mark.heavy
@pytest.mark.parametrize("name", ["where_private_pays", "fission_reward"])
def test_shipped_grid_experiment_end_to_end(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / name
    code, _, err = cli(["sweep", name, "--out", out], capsys)
    assert code == 0, err
    manifest = pd.read_parquet(out / "manifest.parquet")
    assert (manifest["status"] == "done").all()
    report = (out / "report.md").read_text(encoding="utf-8")
    assert report.count("![") >= 4


def test_a_sweep_with_a_counterfactual_records_each_pairs_effects(tmp_path: Path) -> None:
    """`counterfactual` pairs every run with its twin on the same seed: the incremental
    metrics are exactly `sim.effects.incremental` of that pair, and a level where the twin is
    the scenario itself (no fission tiers to remove) adds exactly nothing."""
    from sim import load_scenario
    from sim.counterfactual import twin
    from sim.effects import incremental

    text = TINY.replace('name = "tiny"', 'name = "paired"\ncounterfactual = "no_fission"')
    text = text.replace(
        'metrics = ["brands.brand.roi_private", "brands.brand.gmv", "market.private_share"]',
        'metrics = ["brands.brand.incremental.contribution", "market.incremental.gmv"]',
    )
    text = text.replace(
        '"brands.brand.strategy.private_discount" = [0.0, 0.2]\n'
        '"categories.beauty.purchases_per_year" = [2.0, 8.0]',
        '"brands.brand.strategy.referral_tiers" = { labels = ["none", "one"], values = '
        "[[], [{ referrals = 1, reward = 50.0 }]] }",
    )
    path = tmp_path / "paired.toml"
    path.write_text(text, encoding="utf-8")
    exp = load_experiment(path)
    res = run_sweep(exp, tmp_path / "out", SerialExecutor()).results
    assert len(res) == 2 * 2 * 2 and res["value"].notna().all()
    none = res[res["brands.brand.strategy.referral_tiers"] == "none"]
    assert (none["value"] == 0.0).all()
    row = res[(res["brands.brand.strategy.referral_tiers"] == "one") & (res["replicate"] == 1)]
    seed = int(row["seed"].iloc[0])
    sc = load_scenario(
        exp.base_path,
        exp.run_overrides(
            {"brands.brand.strategy.referral_tiers": [{"referrals": 1, "reward": 50.0}]}
        ),
    )
    want = incremental(run(sc, seed), run(twin(sc, "no_fission"), seed))
    got = row.set_index(["brand", "metric"])["value"]
    assert got["brand", "incremental.contribution"] == want["brand"]["contribution"]
    assert got["market", "incremental.gmv"] == want["market"]["gmv"]
    assert want["brand"]["contribution"] != 0.0


PATHS = TINY.replace('name = "tiny"', 'name = "paths"\npath_window = 7').replace(
    '"market.private_share"]',
    '"market.private_share", "market.days_to.private_share.0.06", '
    '"brands.brand.days_to.stock_members.15"]\n'
    'paths = ["market.private_share", "brands.*.stock_members"]',
)


@pytest.fixture(scope="module")
def paths_exp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("exp") / "paths.toml"
    path.write_text(PATHS, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def paths_serial(paths_exp: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("paths") / "out"
    res = run_sweep(load_experiment(paths_exp), out, SerialExecutor())
    return res, Store(out).read_paths()


def test_paths_are_periodic_of_the_same_run(paths_exp: Path, paths_serial) -> None:
    """paths.parquet holds exactly `sim.kpis.periodic` of each run (market and brand)."""
    from sim import load_scenario
    from sim.kpis import periodic

    res, paths = paths_serial
    assert paths is not None and len(paths)
    assert set(zip(paths["brand"], paths["metric"], strict=True)) == {
        ("market", "private_share"),
        ("brand", "stock_members"),
    }
    assert {"run_id", "point", "replicate", "brand", "metric", "period", "day", "value"} <= set(
        paths
    )
    assert "categories.beauty.purchases_per_year" in paths
    assert paths.groupby("run_id").size().nunique() == 1 and paths["run_id"].nunique() == 8
    exp = load_experiment(paths_exp)
    row = res.manifest.iloc[5]
    sc = load_scenario(exp.base_path, exp.run_overrides(res.design.points[int(row["point"])]))
    ledger = run(sc, int(row["seed"])).ledger
    mine = paths[paths["run_id"] == row["run_id"]]
    market = periodic(ledger, 7, by_brand=False)
    got = mine[mine["metric"] == "private_share"]
    assert got["period"].tolist() == market["period"].tolist()
    assert got["day"].tolist() == market["day"].tolist()
    assert got["value"].to_numpy() == pytest.approx(market["private_share"].to_numpy(), nan_ok=True)
    brand = periodic(ledger, 7)
    got = mine[mine["metric"] == "stock_members"]
    assert got["value"].tolist() == brand["stock_members"].astype(float).tolist()
    assert len(got) == 4  # 25 days in windows of 7: 0-6, 7-13, 14-20, 21-24


def test_days_to_is_the_first_window_at_the_threshold(paths_serial) -> None:
    """days_to.KPI.T = the last day + 1 of the first window whose KPI is >= T, by hand from
    the run's kept path; NaN when no window reaches it."""
    res, paths = paths_serial
    results = res.results
    checked = {"reached": 0, "never": 0}
    for run_id, mine in paths.groupby("run_id"):
        for who, kpi, metric, t in [
            ("market", "private_share", "days_to.private_share.0.06", 0.06),
            ("brand", "stock_members", "days_to.stock_members.15", 15.0),
        ]:
            path = mine[(mine["brand"] == who) & (mine["metric"] == kpi)].sort_values("period")
            hits = [d for d, v in zip(path["day"], path["value"], strict=True) if v >= t]
            want = float(hits[0] + 1) if hits else float("nan")
            sel = (results["run_id"] == run_id) & (results["metric"] == metric)
            got = float(results.loc[sel, "value"].iloc[0])
            assert got == pytest.approx(want, nan_ok=True), (run_id, metric)
            checked["reached" if hits else "never"] += 1
    assert checked["reached"] > 0


def test_paths_identical_across_executors_and_resume(
    paths_exp: Path, paths_serial, tmp_path: Path
) -> None:
    _, serial_paths = paths_serial
    exp = load_experiment(paths_exp)
    run_sweep(exp, tmp_path / "pool", ProcessExecutor(2))
    pd.testing.assert_frame_equal(Store(tmp_path / "pool").read_paths(), serial_paths)
    out = tmp_path / "resumed"
    seen: list[str] = []

    def stop_after_three(outcome: dict) -> None:
        seen.append(outcome["run_id"])
        if len(seen) == 3:
            raise Interrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(exp, out, SerialExecutor(), on_result=stop_after_three)
    res = run_sweep(exp, out, SerialExecutor(), resume=True)
    assert res.ran == 5
    pd.testing.assert_frame_equal(Store(out).read_paths(), serial_paths)


def test_report_names_no_best_point_without_its_interval(
    paths_exp: Path, paths_serial, tmp_path: Path
) -> None:
    res, paths = paths_serial
    exp = load_experiment(paths_exp)
    report = write_sweep_report(exp, res.design, res.manifest, res.results, tmp_path, paths=paths)
    text = report.read_text(encoding="utf-8")
    means = res.results.groupby(["point", "brand", "metric"])["value"]
    roi = means.agg(["mean", "std"]).xs(("brand", "roi_private"), level=("brand", "metric"))
    best = roi["mean"].idxmax()
    half = stats.t.ppf(0.975, 1) * roi.at[best, "std"] / np.sqrt(2)
    lo, hi = fmt_number(roi.at[best, "mean"] - half), fmt_number(roi.at[best, "mean"] + half)
    # the default heatmap is of the first metric: its sentence names the best point
    line = next(t for t in text.splitlines() if t.startswith("Highest ROI private of brand"))
    assert f"**{fmt_number(roi.at[best, 'mean'])} (95% CI {lo} to {hi}; " in line
    assert f"sd {fmt_number(roi.at[best, 'std'])}; n 2)**" in line
    assert "not distinguishable from the next" in line or "clear of every other" in line
    assert "Lowest" in line
    # the points table gives every mean with its spread
    assert "± " in text and "(sd " in text
    for name in ("path_market_private_share.png", "path_brand_stock_members.png"):
        assert f"figures/{name}" in text and (tmp_path / "figures" / name).is_file()
