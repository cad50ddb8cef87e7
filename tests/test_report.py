"""The strategist's report: files written, brands and KPI table present, figures valid PNGs;
and the curated examples' README."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from sim.outputs import write_outputs
from sim.params import Scenario
from sim.report import FIGURES, headline, kpi_table
from sim.runner import RunResult, run

FIGURE_FILES = (
    "penetration.png",
    "cac_roi.png",
    "funnel_stocks.png",
    "gmv_channels.png",
    "ltv.png",
    "traffic.png",
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def tiny_scenario() -> Scenario:
    """Two brands, 300 consumers, 100 days: one with guides and package cards, one that
    only buys ads (so some KPIs are undefined and must show '–')."""
    return Scenario.model_validate(
        {
            "name": "tiny_two_brands",
            "description": "test: a guided brand against an ads-only brand",
            "source_case": "none (unit test)",
            "run": {"days": 100, "consumers": 300, "seed": 3},
            "brands": {
                "guided": {
                    "stores": 2,
                    "store_visits_per_day": 6,
                    "strategy": {
                        "guides_per_store": 1,
                        "package_card_rate": 0.5,
                        "ad_budget_per_day": 200,
                    },
                },
                "ads_only": {"strategy": {"private_ops": False, "ad_budget_per_day": 300}},
            },
        }
    )


@pytest.fixture(scope="module")
def result() -> RunResult:
    return run(tiny_scenario())


@pytest.fixture(scope="module")
def report_dir(result: RunResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_outputs(result, tmp_path_factory.mktemp("rep") / "out")


def _png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (after checking the signature)."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_files_written(report_dir: Path) -> None:
    assert (report_dir / "report.md").is_file()
    assert (report_dir / "summary.json").is_file()
    assert (report_dir / "metrics.parquet").is_file()
    for name in FIGURE_FILES:
        assert (report_dir / FIGURES / name).is_file(), name


def test_figures_are_valid_pngs(report_dir: Path) -> None:
    for name in FIGURE_FILES:
        path = report_dir / FIGURES / name
        assert path.stat().st_size > 5_000, name
        w, h = _png_size(path)
        assert 300 <= w <= 4000 and 200 <= h <= 4000, (name, w, h)
        assert path.read_bytes().rstrip().endswith(b"IEND\xaeB`\x82"), name


def test_report_content(report_dir: Path, result: RunResult) -> None:
    text = (report_dir / "report.md").read_text(encoding="utf-8")
    assert text.startswith("# tiny_two_brands")
    for brand in result.summary["kpis"]["brands"]:
        assert f"**{brand}**" in text or f"| {brand} |" in text
    assert "## Headline" in text and "## Definitions" in text
    # the KPI table: header with every brand and the market, and its rows
    assert "| KPI | guided | ads_only | market |" in text
    for row in (
        "| GMV (yuan) |",
        "| ROI total |",
        "| CAC public (yuan) |",
        "| LTV90, all sources (yuan) |",
        "| fake member share |",
    ):
        assert row in text, row
    # the ads-only brand has no private domain: its private ROI is undefined and shown so
    roi_private = next(line for line in text.splitlines() if line.startswith("| ROI private |"))
    assert roi_private.split("|")[3].strip() == "–"
    for name in FIGURE_FILES:
        assert f"({FIGURES}/{name})" in text
    assert "nan" not in text.lower().replace("financ", "")
    assert "None" not in text


def test_headline_and_table_helpers(result: RunResult) -> None:
    kpis = result.summary["kpis"]
    lines = headline(result.summary, result.scenario.run.days)
    assert any("ROI" in s for s in lines)
    table = kpi_table(kpis).splitlines()
    assert table[0].startswith("| KPI |") and len(table) > 10
    assert all(line.count("|") == table[0].count("|") for line in table)


def test_without_ledger(result: RunResult, tmp_path: Path) -> None:
    """Curated examples leave the ledger out."""
    out = write_outputs(result, tmp_path / "ex", report=False, ledger=False)
    assert (out / "summary.json").is_file()
    assert not (out / "metrics.parquet").exists()
    assert not (out / "report.md").exists()


def test_examples_readme(result: RunResult, tmp_path: Path) -> None:
    from sim.examples import default_examples, write_readme

    root = tmp_path / "reports" / "examples"
    write_outputs(result, root / "tiny_two_brands", report=False, ledger=False)
    readme = write_readme(root).read_text(encoding="utf-8")
    assert "[tiny_two_brands](examples/tiny_two_brands/report.md)" in readme
    assert "a guided brand against an ads-only brand" in readme
    assert "python -m sim.examples" in readme
    assert isinstance(default_examples(), list)


@pytest.fixture(scope="module")
def with_effects(result: RunResult) -> RunResult:
    """The tiny run with the effects of its default twin (no private ops for `guided`)."""
    from sim.effects import measure

    fx = measure(result.scenario, replicates=3, seed=result.seed, base=result)
    summary = {**result.summary, "effects": fx.summary()}
    return RunResult(result.scenario, result.seed, result.engine, result.ledger, summary)


def test_headline_opens_with_the_effects(with_effects: RunResult, result: RunResult) -> None:
    from sim.report import ATTRIBUTION_LEAD, ATTRIBUTION_ONLY

    days = result.scenario.run.days
    lines = headline(with_effects.summary, days)
    assert lines[0].startswith("**Effects** against the counterfactual twin")
    assert "tiny_two_brands~no_private_ops" in lines[0]
    guided = next(s for s in lines if "**guided**" in s)
    assert lines.index(guided) < lines.index(ATTRIBUTION_LEAD)
    assert "yuan of contribution over the 100 days" in guided and "95% CI" in guided
    assert "pay back" in guided or "payback" in guided
    assert "per yuan of marketing cost" in guided
    assert any(s.startswith("For the market as a whole") for s in lines)
    # the ads-only brand's levers are not switched off: no sentence claims an effect for it
    assert not any("**ads_only**, private operations" in s for s in lines)
    # without effects, the headline says its figures are attributions
    plain = headline(result.summary, days)
    assert plain[0] == ATTRIBUTION_ONLY and ATTRIBUTION_LEAD in plain


def test_report_page_with_effects(with_effects: RunResult, tmp_path: Path) -> None:
    out = write_outputs(with_effects, tmp_path / "fx")
    text = (out / "report.md").read_text(encoding="utf-8")
    heads = [line for line in text.splitlines() if line.startswith("## ")]
    assert heads[:3] == [
        "## Headline",
        "## Effects against the counterfactual twin",
        "## Attributed KPIs over the whole run (attribution, not effects)",
    ]
    assert "| incremental KPI | guided | ads_only | market |" in text
    assert "| Δ contribution (yuan) |" in text and "| payback day |" in text
    assert (out / "effects.csv").is_file()
    assert "nan" not in text.lower().replace("financ", "") and "None" not in text


def test_identical_twin_headline(result: RunResult) -> None:
    from sim.effects import measure

    fx = measure(result.scenario, "no_fission", replicates=2, seed=result.seed)
    summary = {**result.summary, "effects": fx.summary()}
    lines = headline(summary, result.scenario.run.days)
    assert "every increment is zero" in lines[1]
