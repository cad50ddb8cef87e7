"""Calibration through the simulator: the synthetic round trip (Siyu's own customers fitted
back), the repeat-buying curve, the simulation-based calibration (Optuna, bootstrap
intervals), parameter draws carried into effects and comparisons, and a calibrated scenario
as an experiment's base."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.calibrate import draws, recovery, roundtrip, sbc
from sim.calibrate.data import read_cdnow
from sim.effects import measure
from sim.scenario import load_scenario
from tests.helpers import cli

ROOT = Path(__file__).resolve().parents[1]
FIT = ROOT / "reports" / "cdnow_calibration" / "fit.json"
CALIBRATED = ROOT / "reports" / "cdnow_calibration" / "calibrated.toml"


def small(sc, consumers=600, days=120):
    return sc.changed({"run.consumers": consumers, "run.days": days})


# ------------------------------------------------------------------ parameter draws


def test_draws_are_seeded_centred_and_follow_the_intervals():
    cd = draws.load(FIT)
    assert set(cd.keys()) == set(json.loads(FIT.read_text())["scenario"])
    assert cd.draw(5) == cd.draw(5)
    assert cd.draw(5) != cd.draw(6)
    many = pd.DataFrame(cd.draws(list(range(400))))
    whole = json.loads(FIT.read_text())
    searched = (whole.get("sbc") or {}).get("se", {})
    for key, rec in whole["scenario"].items():
        logs = np.log(many[key])
        assert abs(np.exp(np.median(logs)) / rec["value"] - 1) < 0.03, key
        if key in searched:  # the simulation-based keys: their bootstrap se (delta method)
            assert np.std(many[key]) == pytest.approx(searched[key], rel=0.25), key
            continue
        lo, hi = rec["interval"]
        # draws from the fit's covariance: each key's log-spread is its delta-method
        # interval's (the interval is a linearisation: loosely)
        assert 0.7 < np.std(logs) / (np.log(hi / lo) / (2 * 1.96)) < 1.5, key


def test_draws_use_the_covariance_when_the_file_has_it(tmp_path):
    fit = json.loads(FIT.read_text())
    names = list(fit["transactions"]["params"])
    cov = np.eye(len(names)) * 1e-10
    fit["transactions"]["cov_log"] = cov.tolist()
    path = tmp_path / "fit.json"
    path.write_text(json.dumps(fit))
    d = draws.load(path).draw(1)
    searched = set((fit.get("sbc") or {}).get("best", {}))
    for key, rec in fit["scenario"].items():
        if not key.endswith(".price") and key not in searched:
            assert d[key] == pytest.approx(rec["value"], rel=1e-4)


@pytest.mark.parametrize(
    "text, message",
    [
        ("not json", "not JSON"),
        ('{"a": 1}', "not a calibration's fit.json"),
        ('{"scenario": {}, "transactions": null}', "sets no scenario key"),
    ],
)
def test_bad_calibration_file_is_one_line(tmp_path, text, message):
    path = tmp_path / "fit.json"
    path.write_text(text)
    with pytest.raises(draws.DrawsError, match=message) as err:
        draws.load(path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def inflated(tmp_path: Path, factor: float) -> Path:
    """The CDNOW fit.json with its standard errors times `factor` (a brand with little data)."""
    fit = json.loads(FIT.read_text())
    for part in ("transactions", "spend"):
        fit[part]["se"] = {k: v * factor for k, v in fit[part]["se"].items()}
        fit[part]["cov_log"] = (np.array(fit[part]["cov_log"]) * factor**2).tolist()
    if fit.get("sbc"):
        fit["sbc"]["se"] = {k: v * factor for k, v in fit["sbc"]["se"].items()}
    path = tmp_path / f"fit{factor:g}.json"
    path.write_text(json.dumps(fit))
    return path


def calibrated_guides(consumers: int, days: int):
    """beauty_guides with the CDNOW calibration's values (the draws are centred on them)."""
    fit = json.loads(FIT.read_text())["scenario"]
    sc = load_scenario(ROOT / "scenarios" / "beauty_guides.toml")
    return small(sc.changed({k: v["value"] for k, v in fit.items()}), consumers, days)


def test_parameter_draws_widen_the_effect_interval(tmp_path):
    sc = calibrated_guides(800, 150)
    seeds = [sc.run.seed + k for k in range(6)]
    cd = draws.load(inflated(tmp_path, 12))
    drawn = draws.per_replicate(cd, seeds, 6)
    plain = measure(sc, "no_private_ops", 6, engine="fast")
    with_draws = measure(sc, "no_private_ops", 6, engine="fast", parameters=drawn)
    width = {}
    for name, fx in (("plain", plain), ("draws", with_draws)):
        row = fx.row("brand", "gmv")
        width[name] = row["high"] - row["low"]
    assert width["draws"] > 1.5 * width["plain"]
    assert all(0 < d["categories.beauty.dropout_mean"] < 1 for d in drawn)
    assert with_draws.summary()["parameters"] == drawn
    assert "parameters" not in plain.summary()
    # the pair shares the draw: the scenario's and the twin's runs of replicate k differ
    # from the plain ones only through the drawn keys
    again = measure(sc, "no_private_ops", 6, engine="fast", parameters=drawn)
    assert again.table.equals(with_draws.table)


def test_siyu_run_and_compare_carry_the_draws(tmp_path, capsys):
    path = inflated(tmp_path, 4)
    common = ["--consumers", "500", "--days", "90", "--replicates", "3"]
    base = tmp_path / "calibrated_guides.toml"
    fit = json.loads(FIT.read_text())["scenario"]
    base.write_text(
        f'extends = "{ROOT / "scenarios" / "beauty_guides.toml"}"\n'
        + "".join(f"{k} = {v['value']!r}\n" for k, v in fit.items())
    )
    code, _, err = cli(
        [
            "run",
            base,
            *common,
            "--out",
            tmp_path / "r",
            "--counterfactual",
            "no_private_ops",
            "--calibration",
            path,
            "--parameter-draws",
            "2",
        ],
        capsys,
    )
    assert code == 0, err
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    fx = summary["effects"]
    assert "parameter uncertainty" in fx["carries"] and "2 draws" in fx["carries"]
    assert fx["parameters"][0] == fx["parameters"][2] != fx["parameters"][1]
    assert "parameter uncertainty" in (tmp_path / "r" / "report.md").read_text()
    code, _, err = cli(
        [
            "compare",
            base,
            *common,
            "--out",
            tmp_path / "c",
            "--counterfactual",
            "no_private_ops",
            "--calibration",
            path,
        ],
        capsys,
    )
    assert code == 0, err
    assert "parameter uncertainty" in (tmp_path / "c" / "report.md").read_text()
    code, _, err = cli(
        ["run", base, *common, "--out", tmp_path / "x", "--calibration", tmp_path / "missing.json"],
        capsys,
    )
    last = err.strip().splitlines()[-1]
    assert code == 2 and last.startswith("error: --calibration: ") and "missing.json" in last
    assert not (tmp_path / "x").exists()
    code, _, err = cli(["run", "beauty_guides", *common, "--parameter-draws", "2"], capsys)
    assert code == 2 and "--parameter-draws: needs --calibration" in err


# ------------------------------------------------------------------ round trips


def test_order_log_from_events_has_the_schema_and_leaves_out_day0_customers(tmp_path):
    sc = small(load_scenario(ROOT / "scenarios" / "public_only.toml"), 800, 200)
    log = roundtrip.run_log(sc, "brand", 3)
    assert list(log.columns) == ["customer", "date", "value", "channel", "source"]
    assert len(log) > 50 and (log["value"] > 0).all()
    assert log["date"].min() >= pd.Timestamp(roundtrip.START)
    # every customer's first order is in the run (acquired in it), so the log can be fitted
    first = log.groupby("customer")["date"].min()
    assert (first < pd.Timestamp(roundtrip.START) + pd.Timedelta(days=200)).all()
    assert roundtrip.run_log(sc, "brand", 3).equals(log)


def test_repeat_curve_counts_repeat_days_of_the_cohort():
    orders = pd.DataFrame(
        {
            "customer": ["a", "a", "a", "a", "b", "c", "c"],
            "date": pd.to_datetime(
                [
                    "2024-01-01",
                    "2024-01-01",
                    "2024-01-09",
                    "2024-01-20",
                    "2024-01-02",
                    "2024-04-01",
                    "2024-04-02",
                ]
            ),
            "value": 1.0,
        }
    )
    curve, n = roundtrip.repeat_curve(orders, weeks=4, cohort_weeks=2)
    assert n == 2  # c's first order is after the cohort's weeks
    assert curve.tolist() == [0.0, 0.5, 1.0, 1.0]  # a: day 8 (week 2), day 19 (week 3)


def recovered(consumers: int, days: int, weeks: int) -> pd.DataFrame:
    sc = load_scenario(ROOT / "scenarios" / "public_only.toml").changed(
        {"run.consumers": consumers, "run.days": days}
    )
    rec = recovery.synthetic(sc, "brand", seed=1, calibration_weeks=weeks)
    assert rec.customers > 1000
    return rec.table.set_index("key")


def test_synthetic_round_trip_recovers_dropout_and_value_and_states_the_choice_bias():
    """6,000 consumers, 2 years, 78 calibration weeks (about 1,500 customers)."""
    t = recovered(6000, 730, 78)
    for key in ("dropout_mean", "dropout_concentration"):  # within their 95% intervals
        assert t.loc[f"categories.beauty.{key}", "covered"], key
    assert abs(t.loc["categories.beauty.price", "bias"]) < 0.01  # no discounts: list price
    # the brand wins only part of its customers' needs (the logit choice thins them): the
    # order log's rate is well below the need rate (--simulate or the SBC corrects it)
    assert -0.6 < t.loc["categories.beauty.purchases_per_year", "bias"] < -0.2


@pytest.mark.heavy
def test_synthetic_round_trip_at_20000_consumers():
    """The figures quoted in docs/ODD.md: 20,000 consumers, 3 years, 104 calibration weeks."""
    t = recovered(20000, 1095, 104)
    assert abs(t.loc["categories.beauty.dropout_mean", "bias"]) < 0.1
    assert abs(t.loc["categories.beauty.dropout_concentration", "bias"]) < 0.5
    assert abs(t.loc["categories.beauty.price", "bias"]) < 0.001
    assert -0.5 < t.loc["categories.beauty.purchases_per_year", "bias"] < -0.35
    assert 0.2 < t.loc["population.need_shape", "bias"] < 0.6


def test_cdnow_repeat_curve_of_the_data():
    orders = read_cdnow()
    curve, n = roundtrip.repeat_curve(orders, weeks=78)
    assert n == 2357
    fit = json.loads(FIT.read_text())
    actual = np.array(fit["holdout"]["tracking"]["actual"][:78]) / 2357
    np.testing.assert_allclose(curve, actual, atol=1e-9)


def test_simulation_based_calibration_moves_toward_the_target():
    sc = small(load_scenario(ROOT / "scenarios" / "public_only.toml"), 800, 182)
    truth = sc.changed({"categories.beauty.purchases_per_year": 6.0})
    target = roundtrip.run_log(truth.changed({"run.days": 182}), "brand", 11)
    fit = sbc.fit(sc, "brand", target, weeks=26, trials=6, seeds=(1, 2), batch=3, resamples=50)
    key = "categories.beauty.purchases_per_year"
    assert len(fit.trials) == 6 and fit.trials["distance"].notna().all()
    lo, hi = fit.interval[key]
    assert lo <= fit.best[key] <= hi
    # the best trial is closer to the target than the scenario as it was
    base = np.array([sbc.trial_curve(sc, "brand", {}, s, 26)[0] for s in (1, 2)])
    assert fit.distance < float(np.mean(sbc.distance(base, fit.actual)))
    assert fit.best[key] > 4.0  # the target's need rate is 6, the base's 4
    again = sbc.fit(sc, "brand", target, weeks=26, trials=6, seeds=(1, 2), batch=3, resamples=50)
    assert again.best == fit.best and again.interval == fit.interval


def test_calibrated_scenario_is_a_sweep_base(tmp_path, capsys):
    spec = tmp_path / "sweep.toml"
    spec.write_text(
        'name = "calibrated_ads"\n'
        f'base = "{CALIBRATED}"\n'
        "replicates = 1\nconsumers = 400\ndays = 60\n"
        'metrics = ["brands.brand.contribution"]\n'
        '[factors]\n"brands.brand.strategy.ad_budget_per_day" = [100.0, 300.0]\n'
    )
    code, _, err = cli(["sweep", spec, "--out", tmp_path / "s", "--workers", "1"], capsys)
    assert code == 0, err
    results = pd.read_parquet(next((tmp_path / "s").rglob("*.parquet")))
    assert len(results) >= 2


def test_siyu_calibrate_with_sbc_records_values_intervals_and_the_curve(tmp_path, capsys):
    out = tmp_path / "cal"
    code, stdout, err = cli(
        [
            "calibrate",
            ROOT / "data" / "cdnow" / "CDNOW_sample.txt",
            "--format",
            "cdnow",
            "--calibration-end",
            "39",
            "--base",
            "public_only",
            "--out",
            out,
            "--sbc-trials",
            "2",
            "--sbc-consumers",
            "5000",
            "--workers",
            "1",
        ],
        capsys,
    )
    assert code == 0, err
    assert "simulation-based calibration (2 trials" in stdout
    text = (out / "calibrated.toml").read_text()
    assert text.count("simulation-based calibration: Optuna TPE, 2 trials") == 2
    fit = json.loads((out / "fit.json").read_text())
    assert len(fit["sbc"]["trials"]["distance"]) == 2 and len(fit["sbc"]["curves"]["data"]) == 78
    assert (out / "repeat_curve.png").stat().st_size > 0
    assert "## Simulation-based calibration" in (out / "report.md").read_text()
    sc = load_scenario(out / "calibrated.toml")
    assert sc.categories["beauty"].dropout_mean == pytest.approx(
        fit["sbc"]["best"]["categories.beauty.dropout_mean"], rel=1e-5
    )
    assert set(draws.load(out / "fit.json").keys()) == set(fit["scenario"])
    code, _, err = cli(
        [
            "calibrate",
            ROOT / "data" / "cdnow" / "CDNOW_sample.txt",
            "--format",
            "cdnow",
            "--calibration-end",
            "39",
            "--base",
            "public_only",
            "--out",
            tmp_path / "bad",
            "--sbc-trials",
            "-1",
        ],
        capsys,
    )
    assert code == 2 and err.strip() == "error: --sbc-trials: must be at least 0 (got -1)"
    assert not (tmp_path / "bad").exists()
