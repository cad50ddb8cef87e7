"""Budgets that bind: a brand's `annual_budget` caps its spend per budget year during a run
(`sim.rules.ads_within_budget`): once today's ads no longer fit beside the year's spend and
the contracted operations reserved for the rest of the year, the ads stop until the next
budget year; gifts, rewards, salaries, tooling and node fees are paid in full.

The engines' agreement on the daily decision is in the contract (tests/test_contract.py,
`test_contract_budget_day`); here whole runs on the fast engine, one short run on the
reference engine, and the report's notice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario, run
from sim.accounting import BUDGET_COSTS
from sim.ledger import COLUMNS
from sim.rules import BUDGET_YEAR_DAYS
from tests.helpers import cli

BASE = "fission_hunters"  # ads, guides, tooling, welcome gifts and tiered referral rewards
SMALL = {"run.consumers": 1000, "run.days": 400}
COUNTED = [list(COLUMNS)[k] for k in BUDGET_COSTS]
CONTRACTED = ["cost_ads", "cost_guide_salary", "cost_tooling", "cost_koc_fees"]
PROMISED = ["cost_welcome_gifts", "cost_referral_rewards"]


def year_one(ledger: pd.DataFrame) -> pd.DataFrame:
    return ledger[ledger["day"] < BUDGET_YEAR_DAYS]


@pytest.fixture(scope="module")
def unlimited() -> pd.DataFrame:
    return run(load_scenario(BASE, SMALL), seed=1).ledger


@pytest.fixture(scope="module")
def capped(unlimited: pd.DataFrame) -> tuple[float, pd.DataFrame]:
    """The same run with a budget that pays a year of ads and operations but only half
    the year's gifts and rewards of the unlimited run: it must bind within the year."""
    first = year_one(unlimited)
    planned, promised = first[CONTRACTED].sum().sum(), first[PROMISED].sum().sum()
    assert promised > 0
    budget = float(planned + promised / 2)
    sc = load_scenario(BASE, {**SMALL, "brands.brand.annual_budget": budget})
    return budget, run(sc, seed=1).ledger


def test_budget_binds_stops_ads_and_resumes_next_year(capped):
    _, ledger = capped
    ads = ledger["cost_ads"].to_numpy()
    bound = ledger["budget_bound"].to_numpy()
    days = ledger["day"].to_numpy()
    planned_ads = load_scenario(BASE, SMALL).brands["brand"].strategy.ad_budget_per_day
    assert bound.any(), "the cap never bound"
    first = int(days[bound > 0].min())
    assert 0 < first < BUDGET_YEAR_DAYS
    # before it binds the ads run in full; from then on to the year's end they stop
    assert np.all(ads[days < first] == planned_ads)
    in_year = (days >= first) & (days < BUDGET_YEAR_DAYS)
    assert np.all(bound[in_year] == 1) and np.all(ads[in_year] == 0)
    assert ledger.loc[in_year, "impressions"].eq(0).all()
    # contracted operations go on while the ads are stopped
    assert ledger.loc[in_year, "cost_guide_salary"].gt(0).all()
    # the next budget year starts afresh: the ads run again
    assert bound[days == BUDGET_YEAR_DAYS][0] == 0
    assert ads[days == BUDGET_YEAR_DAYS][0] == planned_ads


def test_year_spend_exceeds_the_cap_only_by_promised_gifts_and_rewards(capped):
    """Counted spend of the year ≤ cap + the gifts and rewards paid from the last day
    with ads on (the documented obligations), and it does exceed the cap: gifts and
    rewards go on being paid after the ads stop."""
    budget, ledger = capped
    first = year_one(ledger)
    last_ads = int(first.loc[first["budget_bound"] == 0, "day"].max())
    spent = first[COUNTED].sum().sum()
    owed = first.loc[first["day"] >= last_ads, PROMISED].sum().sum()
    assert spent > budget  # gifts and rewards paid after the ads stopped
    assert spent <= budget + owed + 1e-6 * budget


def test_commissions_are_not_budget(capped):
    """Platform, guide and KOC commissions are fees on sales: they go on being booked
    after the cap binds and are not counted in it."""
    _, ledger = capped
    assert not {"cost_platform_commission", "cost_guide_commission"} & set(COUNTED)
    bound = ledger[ledger["budget_bound"] > 0]
    assert bound["cost_platform_commission"].sum() > 0


def test_a_budget_that_never_binds_changes_nothing(unlimited):
    """A cap above the year's spend gives the very ledger of the default (unlimited)."""
    spent = year_one(unlimited)[COUNTED].sum().sum()
    sc = load_scenario(BASE, {**SMALL, "brands.brand.annual_budget": float(spent * 1.01)})
    again = run(sc, seed=1).ledger
    assert unlimited["budget_bound"].eq(0).all()
    pd.testing.assert_frame_equal(again, unlimited)


def test_reference_engine_stops_the_ads_too():
    """The reference engine applies the same rule in a whole run (a short, small one): a
    budget of exactly a year of 1 yuan/day ads and the operations leaves only the
    unspent ads of the year for gifts and rewards, which the programme soon exceeds."""
    small = {"run.consumers": 300, "run.days": 40, "brands.brand.strategy.ad_budget_per_day": 1.0}
    open_run = run(load_scenario(BASE, small), seed=2, engine="agents").ledger
    fixed = open_run[["cost_guide_salary", "cost_tooling", "cost_koc_fees"]].iloc[0].sum()
    budget = float(365 * (1.0 + fixed) + 1.0)
    assert open_run[PROMISED].sum().sum() > 365  # so it binds within the run
    sc = load_scenario(BASE, {**small, "brands.brand.annual_budget": budget})
    capped = run(sc, seed=2, engine="agents").ledger
    assert capped["budget_bound"].any()
    first = int(capped.loc[capped["budget_bound"] > 0, "day"].min())
    assert capped.loc[capped["day"] < first, "cost_ads"].eq(1.0).all()
    assert capped.loc[capped["day"] >= first, "cost_ads"].eq(0).all()
    assert capped.loc[capped["day"] >= first, "budget_bound"].eq(1).all()


def test_report_says_when_the_budget_bound(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], capped
):
    """`siyu run` writes the notice into the report's headline."""
    budget, ledger = capped
    first = int(ledger.loc[ledger["budget_bound"] > 0, "day"].min())
    out = tmp_path / "run"
    args = ["run", BASE, "--seed", 1, "--out", out, "--no-twin"]
    for key, value in {**SMALL, "brands.brand.annual_budget": budget}.items():
        args += ["--set", f"{key}={value!r}"]
    code, _, err = cli(args, capsys)
    assert code == 0, err
    report = (out / "report.md").read_text(encoding="utf-8")
    assert f"**brand**'s budget bound on day {first}:" in report
