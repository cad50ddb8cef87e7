"""Calibration to an order log: the loaders' one-line errors, the BG/NBD and Gamma-Gamma
fits against the published CDNOW numbers, recovery of known parameters from a synthetic
log, the CLV integral, the holdout tracking, and `siyu calibrate` writing a scenario that
loads and runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate

from sim.calibrate import adjust, btyd, clv, data, holdout, mapping, report, synthetic
from sim.calibrate.report import PUBLISHED
from sim.runner import run
from sim.scenario import load_scenario
from tests.helpers import cli

TRUE = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


@pytest.fixture(scope="module")
def cdnow() -> tuple[pd.DataFrame, data.Summary]:
    orders = data.read_cdnow()
    return orders, data.summarise(orders, data.calibration_end(orders, "39"))


@pytest.fixture(scope="module")
def cdnow_fit(cdnow) -> btyd.Fit:
    return btyd.fit_transactions(*(getattr(cdnow[1], k) for k in ("x", "t_x", "T")))


# ------------------------------------------------------------------ data


def test_cdnow_summary_matches_the_papers_sample(cdnow):
    orders, s = cdnow
    assert len(orders) == 6919 and len(s.x) == 2357
    assert str(s.end.date()) == "1997-09-30" and s.holdout_length == 39
    # FHL's summary of customer 1 (id 00004): x 2, t_x 30.43, T 38.86 weeks
    assert (s.x[0], round(s.t_x[0], 2), round(s.T[0], 2)) == (2, 30.43, 38.86)
    assert s.x.sum() == 2457  # repeat transactions in weeks 1-39


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = "customer,date,value,channel\nc1,2024-01-01,10,private\nc1,2024-02-01,12.5,store\n"


def test_order_log_loads_csv_and_parquet(tmp_path):
    orders = data.load_orders(_csv(tmp_path, GOOD))
    assert list(orders.columns) == ["customer", "date", "value", "channel"]
    assert orders["value"].tolist() == [10.0, 12.5]
    assert orders["date"].dt.month.tolist() == [1, 2]
    pq = tmp_path / "orders.parquet"
    orders.to_parquet(pq)
    pd.testing.assert_frame_equal(data.load_orders(pq), orders)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("customer,date,value\nc1,2024-01-01,10\n", "column channel: missing"),
        (
            "customer,date,value,channel\nc1,2024-13-45,10,private\n",
            "row 1, column date: not a date",
        ),
        (
            "customer,date,value,channel\nc1,2024-01-01,10,s\nc2,2024-01-02,-3,s\n",
            "row 2, column value: negative value -3",
        ),
        ("customer,date,value,channel\nc1,2024-01-01,ten,s\n", "row 1, column value: not a number"),
        ("customer,date,value,channel\n,2024-01-01,1,s\n", "row 1, column customer: empty"),
        ("customer,date,value,channel\n", "no rows"),
    ],
)
def test_bad_order_log_is_one_line_naming_file_and_column(tmp_path, text, message):
    path = _csv(tmp_path, text)
    with pytest.raises(data.DataError) as info:
        data.load_orders(path)
    line = str(info.value)
    assert line.startswith(f"{path}: ") and message in line and "\n" not in line


def test_optional_tables_are_validated(tmp_path):
    path = tmp_path / "members.csv"
    path.write_text("customer,date,event,channel\nc1,2024-01-01,join,guide\n", encoding="utf-8")
    assert data.load_member_events(path)["event"].tolist() == ["join"]
    path.write_text("customer,date,event,channel\nc1,2024-01-01,quit,guide\n", encoding="utf-8")
    with pytest.raises(data.DataError, match="row 1, column event: 'quit' is not one of"):
        data.load_member_events(path)
    spend = tmp_path / "ads.csv"
    spend.write_text("date,spend\n20240101,300\n", encoding="utf-8")
    assert data.load_ad_spend(spend)["spend"].tolist() == [300.0]
    traffic = tmp_path / "visits.csv"
    traffic.write_text("date,visits\n2024-01-01,-1\n", encoding="utf-8")
    with pytest.raises(data.DataError, match="column visits: negative"):
        data.load_store_traffic(traffic)


# ------------------------------------------------------------------ fits


def test_bgnbd_reproduces_the_published_cdnow_fit(cdnow_fit):
    """FHL (2005) table 1: r 0.243, α 4.414, a 0.793, b 2.426, LL −9582.4; published to 3
    decimals, so within 0.002 relative (and the log-likelihood within 0.1)."""
    for k, v in TRUE.items():
        assert cdnow_fit.params[k] == pytest.approx(v, rel=2e-3), k
    assert cdnow_fit.log_likelihood == pytest.approx(PUBLISHED["bgnbd"]["log_likelihood"], abs=0.1)
    for k, (lo, hi) in cdnow_fit.interval.items():
        assert lo < cdnow_fit.params[k] < hi and cdnow_fit.se[k] > 0


def test_gamma_gamma_reproduces_the_published_cdnow_fit(cdnow):
    """FHL "RFM and CLV": p 6.25, q 3.74, γ 15.44 on the 946 repeat buyers (to 0.3%)."""
    s = cdnow[1]
    fit = btyd.fit_gamma_gamma(s.x, s.m)
    assert fit.n == 946
    for k, v in PUBLISHED["gamma_gamma"].items():
        assert fit.params[k] == pytest.approx(v, rel=3e-3), k


def test_no_repeat_likelihoods_have_their_closed_forms(cdnow):
    """x = 0 over T: BG/NBD gives P(no purchase) = (α/(α+T))^r; MBG/NBD adds the chance of
    dropping out at time 0: (α/(α+T))^r · b/(a+b) + a/(a+b)."""
    r, alpha, a, b = p = (TRUE["r"], TRUE["alpha"], TRUE["a"], TRUE["b"])
    none = (alpha / (alpha + 30)) ** r
    assert np.exp(btyd.bgnbd_ll(*p, 0, 0, 30)) == pytest.approx(none)
    assert np.exp(btyd.mbgnbd_ll(*p, 0, 0, 30)) == pytest.approx(none * b / (a + b) + a / (a + b))
    s = cdnow[1]
    fit = btyd.fit_transactions(s.x, s.t_x, s.T, "mbgnbd")
    assert fit.log_likelihood == pytest.approx(-9582.1, abs=0.5)


def test_synthetic_round_trip_recovers_known_parameters():
    """5,000 customers acquired over 12 weeks, 39 calibration weeks: each BG/NBD parameter
    within 3 standard errors of the truth, and the standard error below 35% of the value
    (r and α below 5%)."""
    orders = synthetic.draw_orders(np.random.default_rng(7), 5000, TRUE)
    s = data.summarise(orders, data.calibration_end(orders, "39"))
    fit = btyd.fit_transactions(s.x, s.t_x, s.T)
    for k, v in TRUE.items():
        assert abs(fit.params[k] - v) < 3 * fit.se[k], (k, fit.params[k], fit.se[k])
        assert fit.se[k] < 0.35 * v
    assert fit.se["r"] < 0.05 * TRUE["r"] and fit.se["alpha"] < 0.1 * TRUE["alpha"]
    spend = btyd.fit_gamma_gamma(s.x, s.m)
    assert btyd.mean_spend(spend.params) == pytest.approx(6.0 * 15.0 / 3.0, rel=0.1)


def test_same_seed_same_synthetic_log():
    a = synthetic.draw_orders(np.random.default_rng(3), 200, TRUE)
    b = synthetic.draw_orders(np.random.default_rng(3), 200, TRUE)
    pd.testing.assert_frame_equal(a, b)


def test_expectations_agree_with_their_definitions(cdnow_fit):
    p = cdnow_fit.params
    # E[X(t)] is the conditional expectation of a customer with no history
    t = np.array([1.0, 10.0, 52.0])
    assert np.allclose(
        btyd.expected_transactions("bgnbd", p, t), btyd.conditional_expected("bgnbd", p, t, 0, 0, 0)
    )
    # a customer with no repeat purchase is surely alive (BG/NBD), not under MBG/NBD
    assert btyd.p_alive("bgnbd", p, 0, 0, 30) == 1.0
    assert btyd.p_alive("mbgnbd", p, 0, 0, 30) < 1.0
    # long silence after many purchases: P(alive) falls
    assert btyd.p_alive("bgnbd", p, 5, 5, 38) < btyd.p_alive("bgnbd", p, 5, 37, 38)


# ------------------------------------------------------------------ CLV


def test_dert_matches_adaptive_quadrature(cdnow_fit):
    p = cdnow_fit.params
    delta = clv.discount_per_period(0.1, 7)
    for x, t_x, T in [(0, 0, 0), (2, 10, 38), (5, 30, 38)]:
        want = integrate.quad(
            lambda t, x=x, t_x=t_x, T=T: (
                delta * np.exp(-delta * t) * btyd.conditional_expected("bgnbd", p, t, x, t_x, T)
            ),
            0,
            np.inf,
        )[0]
        assert clv.dert("bgnbd", p, delta, x, t_x, T) == pytest.approx(want, rel=1e-4)
    # CLV beats a first year's margin and grows as discounting falls
    low = clv.new_customer_clv("bgnbd", p, 35.0, 0.5, clv.discount_per_period(0.2, 7))
    high = clv.new_customer_clv("bgnbd", p, 35.0, 0.5, delta)
    year = 0.5 * 35.0 * (1 + btyd.expected_transactions("bgnbd", p, 365 / 7))
    assert year < low < high


# ------------------------------------------------------------------ holdout and mapping


def test_holdout_tracks_cdnow(cdnow, cdnow_fit):
    """FHL fig. 2-4: the cumulative forecast within 5% at week 78 (it is 4.1% under)."""
    v = holdout.validate(*cdnow, cdnow_fit)
    assert len(v.tracking) == 78 and v.tracking["actual"].iloc[38] == 2457
    assert abs(v.end_error) < 0.05 and v.holdout_mape < 0.05
    assert v.conditional["x"].tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert v.conditional["customers"].sum() == 2357


def test_mapping_sets_the_brands_category(cdnow_fit):
    sc = load_scenario("public_only")
    mapped = {m.key: m for m in mapping.map_fit(sc, "brand", cdnow_fit, None, 7, 0.5)}
    rate = mapped["categories.beauty.purchases_per_year"]
    assert rate.value == pytest.approx(0.243 / 4.414 * 365 / 7 / 0.5, rel=3e-3)
    assert rate.interval[0] < rate.value < rate.interval[1]
    assert mapped["categories.beauty.dropout_mean"].value == pytest.approx(0.793 / 3.219, rel=3e-3)
    assert mapped["population.need_shape"].value == pytest.approx(0.243, rel=2e-3)
    with pytest.raises(ValueError, match="--need-share"):
        mapping.map_fit(sc, "brand", cdnow_fit, None, 7, 1.5)


# ------------------------------------------------------------------ the command


def test_siyu_calibrate_writes_a_scenario_that_runs(tmp_path, capsys):
    out = tmp_path / "cal"
    code, stdout, err = cli(
        [
            "calibrate",
            data.CDNOW_SAMPLE,
            "--format",
            "cdnow",
            "--calibration-end",
            "39",
            "--base",
            "public_only",
            "--out",
            out,
        ],
        capsys,
    )
    assert code == 0, err
    assert "r 0.2426" in stdout and "wrote" in stdout
    for name in ("report.md", "tracking.png", "conditional.png", "fit.json", "calibrated.toml"):
        assert (out / name).is_file(), name
    fitted = json.loads((out / "fit.json").read_text())
    assert fitted["transactions"]["params"]["r"] == pytest.approx(0.243, rel=2e-3)
    text = (out / "report.md").read_text()
    assert "| r | 0.2426 |" in text and "published" in text
    sc = load_scenario(out / "calibrated.toml")
    assert sc.population.need_shape == pytest.approx(0.2426, rel=1e-3)
    assert sc.categories["beauty"].price == pytest.approx(35.17, rel=1e-3)
    assert "95% interval" in (out / "calibrated.toml").read_text()
    res = run(sc.changed({"run.days": 60, "run.consumers": 1000}), seed=1)
    ledger = res.ledger
    assert ledger["day"].nunique() == 60 and ledger["orders_platform"].sum() > 0
    # orders are priced at the fitted mean order value (no platform discount in the base)
    per_order = ledger["gmv_platform"].sum() / ledger["orders_platform"].sum()
    assert per_order == pytest.approx(sc.categories["beauty"].price)


def test_siyu_calibrate_bad_input_is_one_line(tmp_path, capsys):
    bad = _csv(tmp_path, "customer,date,value,channel\nc1,2024-01-01,-5,s\n")
    out = tmp_path / "cal"
    args = [
        "calibrate",
        bad,
        "--calibration-end",
        "2024-06-01",
        "--base",
        "public_only",
        "--out",
        out,
    ]
    code, _, err = cli(args, capsys)
    assert code == 2 and err.count("\n") == 1
    assert f"{bad}: row 1, column value: negative value -5" in err
    assert not out.exists()
    good = _csv(tmp_path, GOOD)
    code, _, err = cli(
        [
            "calibrate",
            good,
            "--calibration-end",
            "2024-06-01",
            "--base",
            "public_only",
            "--out",
            out,
        ],
        capsys,
    )
    assert code == 2 and "no orders after it" in err and not out.exists()
    code, _, err = cli(
        [
            "calibrate",
            good,
            "--calibration-end",
            "1",
            "--format",
            "xls",
            "--base",
            "public_only",
            "--out",
            out,
        ],
        capsys,
    )
    assert code == 2 and "--format" in err
    for end, message in [("99999999999999999999", "too many periods"), ("soon", "not a date")]:
        code, _, err = cli(
            ["calibrate", good, "--calibration-end", end, "--base", "public_only", "--out", out],
            capsys,
        )
        assert code == 2 and "--calibration-end: " in err and message in err
    assert not out.exists()


def test_siyu_calibrate_on_a_csv_log_with_need_share(tmp_path, capsys):
    """A synthetic log as CSV, the calibration end as a date, half the needs won: the purchase
    rate in the scenario is twice the fitted purchase rate."""
    orders = synthetic.draw_orders(np.random.default_rng(11), 800, TRUE)
    path = tmp_path / "orders.csv"
    orders.assign(date=orders["date"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
    out = tmp_path / "cal"
    args = [
        "calibrate",
        path,
        "--calibration-end",
        "2024-09-29",
        "--base",
        "public_only",
        "--need-share",
        "0.5",
        "--out",
        out,
    ]
    code, _, err = cli(args, capsys)
    assert code == 0, err
    fitted = json.loads((out / "fit.json").read_text())
    p = fitted["transactions"]["params"]
    rate = fitted["scenario"]["categories.beauty.purchases_per_year"]["value"]
    assert rate == pytest.approx(p["r"] / p["alpha"] * 365 / 7 / 0.5)
    assert "published" not in (out / "report.md").read_text()
    # a second calibration into the same folder replaces it; a foreign folder is refused
    code, _, err = cli(args, capsys)
    assert code == 0, err
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine", encoding="utf-8")
    code, _, err = cli([*args[:-1], foreign], capsys)
    assert code == 2 and "--out" in err and (foreign / "notes.txt").exists()


def test_simulation_adjustment_finds_the_need_rate_of_a_target():
    """The target is what the scenario itself gives at half its need rate: the search finds
    a factor whose simulated 365-day GMV per new customer meets it (within 5% or twice the
    standard error), starting from a value well off it."""
    sc = load_scenario("public_only").changed({"run.consumers": 1000, "run.days": 730})
    half = sc.changed({"categories.beauty.purchases_per_year": 2.0})
    target, _ = adjust.simulated_ltv365(half, "brand", (1, 2))
    start, _ = adjust.simulated_ltv365(sc, "brand", (1, 2))
    assert start > 1.1 * target  # a real search
    a = adjust.match_need_rate(sc, "brand", target, seeds=(1, 2), tolerance=0.05)
    assert a.met and a.factor < 1 and a.steps[0][0] == 1.0
    factor, value, se = a.steps[-1]
    assert (factor, value) == (a.factor, a.simulated)
    assert abs(value - target) <= max(0.05 * target, 2 * se)
    again, _ = adjust.simulated_ltv365(
        sc.changed({"categories.beauty.purchases_per_year": 4.0 * a.factor}), "brand", (1, 2)
    )
    assert again == pytest.approx(a.simulated)  # same seeds, same runs


def test_calibrate_with_simulation_scales_the_need_rate(tmp_path):
    orders = synthetic.draw_orders(np.random.default_rng(5), 800, TRUE)
    path = tmp_path / "orders.parquet"
    orders.to_parquet(path)
    sc = load_scenario("public_only").changed({"run.consumers": 1000})
    plain, _ = report.calibrate(path, None, "39", sc)
    cal, _ = report.calibrate(path, None, "39", sc, simulate=True)
    a = cal.adjustment
    assert a is not None and a.target == pytest.approx(cal.revenue_365)
    key = "categories.beauty.purchases_per_year"
    want = next(m for m in plain.mapped if m.key == key).value * a.factor
    assert next(m for m in cal.mapped if m.key == key).value == pytest.approx(want)
    assert "Simulation-based adjustment" in report.report_text(cal, str(path), "public_only", None)
    assert "Simulation-based adjustment" not in report.report_text(
        plain, str(path), "public_only", None
    )
