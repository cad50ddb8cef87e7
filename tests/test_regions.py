"""A market run as regions (`sim.regions`, `siyu run --regions`): the split, the seeds,
the merge of the regions' ledgers, the same bytes for the same seed and count whatever the
threads' timing, the refusals, and the regional market's KPIs against the whole market's."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sim.events import FILES
from sim.ledger import COLUMNS
from sim.regions import (
    MIN_REGION,
    NOT_ADDED,
    check_regions,
    merge_ledgers,
    region_scenarios,
    region_seed,
    region_sizes,
)
from sim.runner import run
from sim.scaling import scale_market
from sim.scenario import ScenarioError, load_scenario
from tests.helpers import cli


@pytest.fixture(scope="module")
def three() -> object:
    """Every mechanism at once, at 4,000 consumers for 90 days."""
    return scale_market(load_scenario("bench_three_brands", {"run.days": 90}), 4000)[0]


def test_sizes_split_the_population_evenly() -> None:
    assert region_sizes(10, 3) == [4, 3, 3]
    assert region_sizes(15_000_000, 2) == [7_500_000, 7_500_000]
    for n, r in [(1001, 7), (5000, 1), (999_999, 4)]:
        sizes = region_sizes(n, r)
        assert sum(sizes) == n and max(sizes) - min(sizes) <= 1 and len(sizes) == r


def test_region_seeds_are_fixed_distinct_and_fit_a_seed() -> None:
    seeds = [region_seed(s, r) for s in (0, 1, 2**62) for r in range(4)]
    assert len(set(seeds)) == len(seeds)
    assert all(0 <= s < 2**63 for s in seeds)
    assert region_seed(7, 1) == region_seed(7, 1)


def test_each_region_is_the_market_at_its_share(three) -> None:
    """Extensive quantities (stores, visits, budgets) scale with the region's population;
    per-consumer ones do not."""
    parts = region_scenarios(three, 3)
    assert [p.run.consumers for p in parts] == region_sizes(4000, 3)
    for name, brand in three.brands.items():
        for p in parts:
            share = p.run.consumers / three.run.consumers
            part = p.brands[name]
            assert part.stores == pytest.approx(brand.stores * share)
            assert part.store_visits_per_day == pytest.approx(brand.store_visits_per_day * share)
            assert part.strategy.ad_budget_per_day == pytest.approx(
                brand.strategy.ad_budget_per_day * share
            )
            assert part.strategy.guides_per_store == brand.strategy.guides_per_store
            assert part.store_conversion == brand.store_conversion


@pytest.mark.parametrize(
    ("regions", "says"),
    [
        (0, "must be at least 1"),
        (-2, "must be at least 1"),
        (True, "whole number"),
        (2.0, "whole number"),
        (41, "fewer than 100"),
    ],
)
def test_a_count_the_market_cannot_take_is_refused(three, regions, says) -> None:
    with pytest.raises(ScenarioError, match=says) as info:
        check_regions(three, regions)
    assert str(info.value).startswith("--regions: ")
    assert check_regions(three, 4000 // MIN_REGION) == 40


def _frame(days: int, values: dict[str, list[float]]) -> pd.DataFrame:
    data = {"day": np.arange(days, dtype=np.int32), "brand": ["a"] * days, "category": ["c"] * days}
    for name in COLUMNS:
        data[name] = np.asarray(values.get(name, [0.0] * days), dtype=np.float64)
    return pd.DataFrame(data)


def test_merge_adds_counts_and_money_weights_prices_and_keeps_flags() -> None:
    a = _frame(
        3,
        {
            "gmv_total": [1.0, 2.0, 3.0],
            "stock_members": [10.0, 11.0, 12.0],
            "impressions": [1000.0, 0.0, 0.0],
            "cpm": [20.0, 30.0, 40.0],
            "budget_bound": [0.0, 1.0, 0.0],
            "private_ops": [1.0, 1.0, 1.0],
        },
    )
    b = _frame(
        3,
        {
            "gmv_total": [0.5, 0.25, 0.0],
            "stock_members": [5.0, 6.0, 7.0],
            "impressions": [3000.0, 0.0, 10.0],
            "cpm": [24.0, 34.0, 44.0],
            "budget_bound": [0.0, 0.0, 0.0],
            "private_ops": [1.0, 1.0, 1.0],
        },
    )
    m = merge_ledgers([a, b])
    assert m["gmv_total"].tolist() == [1.5, 2.25, 3.0]
    assert m["stock_members"].tolist() == [15.0, 17.0, 19.0]
    assert m["impressions"].tolist() == [4000.0, 0.0, 10.0]
    # weighted by impressions where any were bought, else the regions' mean
    assert m["cpm"].tolist() == [pytest.approx(23.0), pytest.approx(32.0), pytest.approx(44.0)]
    assert m["budget_bound"].tolist() == [0.0, 1.0, 0.0]
    assert m["private_ops"].tolist() == [1.0, 1.0, 1.0]
    assert list(m.columns) == list(a.columns) and (m.dtypes == a.dtypes).all()
    assert merge_ledgers([a]) is a
    assert set(NOT_ADDED) <= set(COLUMNS)


def test_a_regional_run_is_its_regions_run_alone_and_added(three) -> None:
    """The threads change nothing: each region's ledger is the one its scenario and seed
    give when run alone, in this thread, and the market's is their merge; twice the same."""
    seed = 5
    merged = run(three, seed, regions=2)
    alone = [
        run(part, region_seed(seed, r)).ledger for r, part in enumerate(region_scenarios(three, 2))
    ]
    pd.testing.assert_frame_equal(merged.ledger, merge_ledgers(alone), check_exact=True)
    again = run(three, seed, regions=2)
    pd.testing.assert_frame_equal(merged.ledger, again.ledger, check_exact=True)
    assert merged.summary["regions"] == 2 and merged.summary["consumers"] == 4000
    assert not merged.ledger.equals(run(three, seed).ledger)  # a different draw


def test_one_region_is_the_market_whole(three) -> None:
    whole, one = run(three, 2), run(three, 2, regions=1)
    pd.testing.assert_frame_equal(whole.ledger, one.ledger, check_exact=True)
    assert "regions" not in one.summary


@pytest.mark.parametrize("events", [False, True])
def test_a_failing_region_stops_the_others_and_raises_its_error(
    three, monkeypatch, tmp_path, events
) -> None:
    """...and, recording events, leaves no file behind (the other region, waiting for its
    turn to hand on its events or stepping, stops)."""
    import sim.regions as regions

    real, seen = regions.build_engine, []

    def build(engine, scenario, streams):
        model = real(engine, scenario, streams)
        if streams.seed == region_seed(1, 1):

            def fail(progress):
                raise RuntimeError("boom")

            model.run = fail
        else:
            steps = model.run
            model.run = lambda progress: steps(lambda day: (seen.append(day), progress(day)))
        return model

    monkeypatch.setattr(regions, "build_engine", build)
    long = three.model_copy(update={"run": three.run.model_copy(update={"days": 900})})
    with pytest.raises(RuntimeError, match="boom"):
        run(long, 1, regions=2, events=tmp_path / "ev" if events else None)
    assert seen and max(seen) < 900  # the other region stopped early
    assert list(tmp_path.iterdir()) == []


def test_big_blocks_are_mapped_where_glibc_runs() -> None:
    import platform

    from sim.regions import map_big_blocks

    assert map_big_blocks() is (platform.libc_ver()[0] == "glibc")


def test_regional_events_are_each_regions_own_renumbered_and_in_turn(three, tmp_path) -> None:
    """A regional run's event files hold every region's events as that region records them
    run alone (its consumers numbered after the regions before it), stretch of days by
    stretch, the regions in order within each; twice the same bytes. (That they add up to
    the merged ledger: tests/test_events.py, "fast in 2 regions".)"""
    seed = 3
    parts = region_scenarios(three, 2)
    first = [0, parts[0].run.consumers]
    both = run(three, seed, regions=2, events=tmp_path / "both")
    run(three, seed, regions=2, events=tmp_path / "again")
    ends: list[int] = []
    alone = [
        run(p, region_seed(seed, r), events=tmp_path / f"r{r}", progress=ends.append if r else None)
        for r, p in enumerate(parts)
    ]
    pd.testing.assert_frame_equal(both.ledger, merge_ledgers([a.ledger for a in alone]))
    stretch_of = np.searchsorted(np.array(ends), np.arange(three.run.days), side="right")
    for name in FILES:
        assert (tmp_path / "both" / name).read_bytes() == (tmp_path / "again" / name).read_bytes()
        merged = pd.read_parquet(tmp_path / "both" / name)
        region = (merged["consumer"] >= first[1]).to_numpy().astype(int)
        for r in range(2):
            own = pd.read_parquet(tmp_path / f"r{r}" / name)
            own["consumer"] += first[r]
            mine = merged[region == r].reset_index(drop=True)
            pd.testing.assert_frame_equal(mine, own, check_categorical=False)
        if name == "customers.parquet":  # brand by brand, consumers in index order
            brand = merged["brand"].cat.codes.to_numpy()
            key = brand.astype(np.int64) * three.run.consumers + merged["consumer"].to_numpy()
            assert (np.diff(key) > 0).all()
        else:
            order = stretch_of[merged["day"].to_numpy()] * 2 + region
            assert (np.diff(order) >= 0).all() and len(np.unique(region)) == 2, name


def test_the_regional_market_agrees_with_the_whole() -> None:
    """Six seeds of bench_three_brands (every mechanism) at 60,000 consumers for 180 days,
    whole and in two regions: the market's KPIs agree within four standard errors of their
    difference and 2 %. Measured: the largest |z| 1.26 (customers), relative differences
    under 0.5 %. A region that lost its staff, a merge that dropped or doubled a region, or
    regions sharing their draws would fail it."""
    sc = scale_market(load_scenario("bench_three_brands", {"run.days": 180}), 60_000)[0]
    kpis = {
        r: [run(sc, s, regions=r).summary["kpis"]["market"] for s in range(1, 7)] for r in (1, 2)
    }
    for key in ("gmv", "private_share", "members", "customers", "roi_total", "guides"):
        whole = np.array([k[key] for k in kpis[1]], dtype=float)
        parts = np.array([k[key] for k in kpis[2]], dtype=float)
        diff = parts.mean() - whole.mean()
        se = np.sqrt(whole.var(ddof=1) / whole.size + parts.var(ddof=1) / parts.size)
        assert abs(diff) <= max(4 * se, 1e-9 * abs(whole.mean())), (key, diff, se)
        assert abs(diff) <= 0.02 * abs(whole.mean()), (key, whole.mean(), parts.mean())


def test_cli_runs_in_regions_and_refuses_bad_counts(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    args = ["run", "beauty_guides", "--regions", "2", "--replicates", "2", "--no-report"]
    code, _, err = cli([*args, "--out", out], capsys)
    assert code == 0, err
    assert "regions: 2 of 1,500 consumers, one thread each" in err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["regions"] == 2 and "effects" in summary
    page = tmp_path / "page"
    code, _, err = cli([*args[:-1], "--no-twin", "--events", "--out", page], capsys)
    assert code == 0, err
    assert "3,000 consumers in 2 regions (`--regions`" in (page / "report.md").read_text()
    orders = pd.read_parquet(page / "orders.parquet")
    assert len(orders) == pd.read_parquet(page / "metrics.parquet").orders_total.sum() > 0
    assert orders["consumer"].max() >= 1500  # the second region's consumers, renumbered
    for args, says in [
        (["--regions", "0"], "error: --regions: must be at least 1 (got 0)"),
        (["--regions", "31"], "error: --regions: 31 regions of 3,000 consumers leave fewer"),
    ]:
        code, _, err = cli(["run", "beauty_guides", *args, "--out", tmp_path / "bad"], capsys)
        assert code == 2 and err.startswith(says), err
        assert "Traceback" not in err
    assert not (tmp_path / "bad").exists()
