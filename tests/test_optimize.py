"""`siyu optimize`: the search finds known optima, the budget holds for every trial, the
optimum's scenario file reproduces what was reported, bad input exits 2 in one line, and the
same seed gives the same trials."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.experiments.optimize import (
    Lever,
    OptimizeError,
    default_levers,
    optimize,
    parse_lever,
    planned_spend,
    repair,
    run_values,
    search,
)
from sim.experiments.optimize_report import OPTIMUM, write_optimize
from sim.scenario import load_scenario
from tests.helpers import cli

DAYS = 60
OWN_ADS = 200.0

TINY = f"""extends = "{Path(__file__).resolve().parents[1] / "scenarios" / "public_only.toml"}"
name = "dud_ads"
description = "Ads that cost and do nothing: no awareness, no impulse trial."

[run]
days = {DAYS}
consumers = 300

[platform]
ad_max_hazard = 0.0
ad_trial_boost = 0.0

[brands.brand.strategy]
ad_budget_per_day = {OWN_ADS}
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("opt") / "dud_ads.toml"
    path.write_text(TINY, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the search layer

LEVERS = [
    Lever("x", 0.0, 10.0),
    Lever("y", 0.0, 10.0),
    Lever("policy", choices=("a", "b")),
]


def bowl(values: dict[str, Any]) -> tuple[dict[str, Any], float, dict[str, np.ndarray]]:
    """A known maximum: 5 at x=3, y=7, policy a (three identical 'replicates')."""
    v = (
        -((values["x"] - 3) ** 2)
        - (values["y"] - 7) ** 2
        + (5.0 if values["policy"] == "a" else 0.0)
    )
    return dict(values), 1.0, {"contribution": np.full(3, v)}


def test_search_finds_a_known_optimum() -> None:
    trials = search(LEVERS, bowl, ["contribution"], trials=60, seed=3)
    best = max(trials, key=lambda t: t.objectives["contribution"])
    assert best.values["policy"] == "a"
    assert abs(best.values["x"] - 3) < 1.0 and abs(best.values["y"] - 7) < 1.0
    assert best.objectives["contribution"] > 5 - 2.0


def test_same_seed_same_trials_other_seed_others() -> None:
    a = search(LEVERS, bowl, ["contribution"], trials=15, seed=7)
    b = search(LEVERS, bowl, ["contribution"], trials=15, seed=7)
    c = search(LEVERS, bowl, ["contribution"], trials=15, seed=8)
    assert [t.asked for t in a] == [t.asked for t in b]
    assert [t.asked for t in a] != [t.asked for t in c]


def test_first_allocation_is_tried_first() -> None:
    trials = search(
        LEVERS, bowl, ["contribution"], trials=3, seed=1, first={"x": 1.0, "y": 2.0, "policy": "b"}
    )
    assert trials[0].asked == {"x": 1.0, "y": 2.0, "policy": "b"}


def test_two_objectives_give_a_front() -> None:
    from sim.experiments.optimize import pareto

    def two(values: dict[str, Any]) -> tuple[dict[str, Any], float, dict[str, np.ndarray]]:
        x = values["x"]
        return dict(values), 1.0, {"contribution": np.array([x]), "members": np.array([10 - x])}

    trials = search(LEVERS[:1], two, ["contribution", "members"], trials=12, seed=0)
    front = pareto(trials, ["contribution", "members"])
    assert len(front) == len(trials)  # every point trades one objective for the other
    dominated = [*trials, trials[0]]
    assert len(pareto(dominated, ["contribution", "members"])) >= len(front)


# --------------------------------------------------------------------------- the budget


def test_repair_scales_spend_into_the_budget(tiny: Path) -> None:
    sc = load_scenario(tiny)
    levers = [Lever("ad_budget_per_day", 50.0, 500.0), Lever("private_discount", 0.0, 0.3)]
    budget = 365 * 150.0
    values, factor = repair(
        sc, "brand", levers, {"ad_budget_per_day": 450.0, "private_discount": 0.2}, budget
    )
    assert factor < 1
    assert planned_spend(sc, "brand", values) <= budget
    assert planned_spend(sc, "brand", values) == pytest.approx(budget, rel=1e-6)
    assert values["private_discount"] == 0.2  # not a spend lever: untouched
    with pytest.raises(OptimizeError, match="budget"):
        repair(
            sc, "brand", levers, {"ad_budget_per_day": 450.0, "private_discount": 0.0}, 365 * 10.0
        )


# --------------------------------------------------------------------------- a tiny scenario


@pytest.fixture(scope="module")
def dud(tiny: Path):
    sc = load_scenario(tiny)
    return optimize(
        sc,
        "brand",
        levers=[Lever("ad_budget_per_day", 0.0, 500.0)],
        trials=8,
        replicates=2,
        final_replicates=2,
        seed=11,
        roi=True,
    )


def test_ads_without_effect_optimum_spends_least(dud) -> None:
    ads = [t.values["ad_budget_per_day"] for t in dud.trials]
    assert dud.best.values["ad_budget_per_day"] == min(ads)
    assert dud.best.values["ad_budget_per_day"] < 0.2 * OWN_ADS
    # no effect and common random numbers: the increment is exactly the ads saved
    for t in dud.trials:
        saved = (OWN_ADS - t.values["ad_budget_per_day"]) * DAYS
        assert t.objectives["contribution"] == pytest.approx(saved, rel=1e-6, abs=1e-3)
    assert dud.beats
    assert "beats the scenario's own" in dud.verdict


def test_budget_holds_for_every_trial(dud) -> None:
    assert dud.budget == pytest.approx(365 * OWN_ADS)
    for t in dud.trials:
        assert t.planned <= dud.budget * (1 + 1e-12)
        assert t.values["ad_budget_per_day"] <= OWN_ADS * (1 + 1e-9)
    assert any(t.factor < 1 for t in dud.trials)  # some asked more and were scaled


def test_optimum_file_reproduces_the_reported_value(dud, tiny: Path, tmp_path: Path) -> None:
    files = write_optimize(dud, tmp_path / "out", tiny)
    out = tmp_path / "out"
    assert {"report.md", "summary.json", "trials.csv", OPTIMUM} <= {f for f in files}
    for f in files:
        assert (out / f).is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left
    best = load_scenario(out / OPTIMUM)
    assert best.brands["brand"].strategy.ad_budget_per_day == dud.best.values["ad_budget_per_day"]
    assert best.brands["brand"].annual_budget == dud.budget
    seed = best.run.seed
    assert seed == dud.final_seeds[0]
    mine = run_values(best, seed, "fast", "brand")
    theirs = run_values(dud.reference, seed, "fast", "brand")
    assert mine["contribution"] - theirs["contribution"] == pytest.approx(dud.check["contribution"])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["verdict"] == dud.verdict
    assert "Verdict" in (out / "report.md").read_text()


def test_marginal_roi_of_a_dud_lever(dud) -> None:
    roi = dud.roi.dropna(subset=["d_contribution"])
    assert len(roi) >= 1
    for r in roi.itertuples():
        # each extra yuan of ads loses exactly that yuan: marginal ROI -1
        assert r.marginal_roi == pytest.approx(-1.0, rel=1e-6)


# --------------------------------------------------------------------------- levers and input


def test_default_levers_fit_the_brand() -> None:
    sc = load_scenario("beauty_guides")
    keys = [lv.key for lv in default_levers(sc, "brand", 1e6)]
    assert keys[0] == "ad_budget_per_day"
    assert {"guides_per_store", "private_discount", "channel_policy", "guide_regime"} <= set(keys)
    public = load_scenario("public_only")
    assert [lv.key for lv in default_levers(public, "brand", 1e6)] == ["ad_budget_per_day"]


def test_parse_lever() -> None:
    sc = load_scenario("beauty_guides")
    assert parse_lever("private_discount=0:0.2", sc, "brand") == Lever("private_discount", 0.0, 0.2)
    assert parse_lever("channel_policy=separate,assist", sc, "brand").choices == (
        "separate",
        "assist",
    )
    assert parse_lever("private_ops=true,false", sc, "brand").choices == (True, False)
    for bad, match in (
        ("privat_discount=0:0.2", "unknown lever"),
        ("private_discount=0.3:0.1", "above high"),
        ("private_discount=0:2", "private_discount"),
        ("referral_tiers=0:1", "list"),
        ("channel_policy=separate,nowhere", "channel_policy"),
        ("private_discount", "expected"),
    ):
        with pytest.raises(OptimizeError, match=match):
            parse_lever(bad, sc, "brand")


@pytest.mark.parametrize(
    "args, where",
    [
        (["--lever", "no_such_key=0:1"], "--lever: no_such_key: unknown lever"),
        (["--lever", "private_discount=0.3:0.1"], "--lever: private_discount: low 0.3 is above"),
        (["--brand", "nobody"], "--brand: nobody: unknown brand"),
        (["--budget", "0"], "--budget: must be a positive"),
        (["--budget", "-5"], "--budget: must be a positive"),
        (["--objective", "fame"], "--objective: fame: unknown objective"),
        (["--trials", "0"], "--trials: must be at least 1"),
    ],
)
def test_bad_input_exits_2_in_one_line(args, where, tmp_path: Path, capsys) -> None:
    code, _out, err = cli(["optimize", "beauty_guides", "--out", tmp_path / "o", *args], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and where in lines[0], err
    assert not (tmp_path / "o").exists()


def test_budget_below_the_unsearched_plan_exits_2(capsys, tmp_path: Path) -> None:
    code, _, err = cli(
        [
            "optimize",
            "beauty_guides",
            "--budget",
            "1000",
            "--lever",
            "private_discount=0:0.2",
            "--out",
            tmp_path / "o",
        ],
        capsys,
    )
    assert code == 2
    assert err.count("\n") == 1 and "--budget:" in err


def test_cli_optimize_writes_its_folder(tiny: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "o"
    code, stdout, err = cli(
        [
            "optimize",
            tiny,
            "--trials",
            "3",
            "--replicates",
            "2",
            "--final-replicates",
            "2",
            "--executor",
            "serial",
            "--no-roi",
            "--out",
            out,
            "--objective",
            "contribution",
            "--objective",
            "customers",
        ],
        capsys,
    )
    assert code == 0, err
    assert "trial 3/3" in err
    assert "brand: " in stdout and f"wrote {out}/" in stdout
    assert (out / "pareto.csv").is_file() and (out / OPTIMUM).is_file()
    assert math.isfinite(json.loads((out / "summary.json").read_text())["budget"])


def test_npv_is_discounted_contribution_plus_base_value(tiny: Path) -> None:
    from sim.experiments.optimize import base_value
    from sim.rules import daily_discount_factor, retention_clv
    from sim.runner import run

    sc = load_scenario(tiny)
    v = run_values(sc, 3, "fast", "brand")
    ledger = run(sc, 3).ledger
    c = (ledger["gross_profit"] - ledger["cost_total"]).to_numpy()
    d = daily_discount_factor(sc.market.discount_rate_per_year)
    gp = ledger["gross_profit"].to_numpy()
    cat = sc.categories[sc.brands["brand"].category]
    r = (1 - cat.dropout_mean) ** cat.purchases_per_year
    value = v["customers"] * retention_clv(
        gp.sum() * 365 / len(gp) / v["customers"], r, sc.market.discount_rate_per_year
    )
    assert base_value(sc, "brand", gp, v["customers"]) == pytest.approx(value)
    expected = sum(d**t * x for t, x in enumerate(c)) + d ** len(c) * value
    assert v["npv"] == pytest.approx(expected, rel=1e-9)
    assert v["contribution"] == pytest.approx(c.sum())


def test_a_failed_write_leaves_nothing(dud, tiny: Path, tmp_path: Path, monkeypatch) -> None:
    import sim.experiments.optimize_report as rep

    def boom(*_: Any, **__: Any) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(rep, "report_md", boom)
    with pytest.raises(OSError):
        write_optimize(dud, tmp_path / "out", tiny)
    assert list(tmp_path.iterdir()) == []


def test_a_fixed_lever_and_whole_numbers(tiny: Path) -> None:
    sc = load_scenario("beauty_guides")
    fixed = parse_lever("private_discount=0.1:0.1", sc, "brand")
    whole = parse_lever("guide_capacity=100:400", sc, "brand")
    assert whole.integer
    trials = search(
        [fixed, whole],
        lambda v: (dict(v), 1.0, {"contribution": np.array([v["guide_capacity"] * 1.0])}),
        ["contribution"],
        trials=5,
        seed=0,
    )
    assert all(t.values["private_discount"] == 0.1 for t in trials)
    assert all(isinstance(t.values["guide_capacity"], int) for t in trials)
    with pytest.raises(OptimizeError, match="whole"):
        parse_lever("guide_capacity=100.5:400", sc, "brand")


def test_default_budget_is_the_plan_unless_the_brand_has_one() -> None:
    from sim.experiments.optimize import default_budget
    from sim.params import planned_annual_spend
    from sim.scaling import scale_market

    sc = load_scenario("beauty_guides")
    plan = planned_annual_spend(sc.brands["brand"])
    assert default_budget(sc, "brand") == pytest.approx(plan)
    half, _ = scale_market(sc, 1500)  # the default 1e12 scaled to 5e11 is still no budget
    assert default_budget(half, "brand") == pytest.approx(plan / 2)
    own = sc.changed({"brands.brand.annual_budget": 400_000.0})
    assert default_budget(own, "brand") == 400_000.0


def test_referral_reward_lever_scales_every_tier() -> None:
    from sim.experiments.optimize import REWARD_KEY, settings

    sc = load_scenario("fission_hunters")
    levers = default_levers(sc, "brand", 1e6)
    assert REWARD_KEY in [lv.key for lv in levers]
    changed = sc.changed(settings(sc, "brand", {REWARD_KEY: 0.5}))
    before = sc.brands["brand"].strategy.referral_tiers
    after = changed.brands["brand"].strategy.referral_tiers
    assert [t.reward for t in after] == [t.reward / 2 for t in before]
    assert [t.referrals for t in after] == [t.referrals for t in before]
    with pytest.raises(OptimizeError, match="no referral tiers"):
        parse_lever(f"{REWARD_KEY}=0:2", load_scenario("beauty_guides"), "brand")
