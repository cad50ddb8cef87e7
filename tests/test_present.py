"""The presentation layer's formats and tables: what every report and the CLI print."""

from __future__ import annotations

import math

import pytest

from sim.present.format import (
    DASH,
    clip,
    fmt_cell,
    fmt_count,
    fmt_money,
    fmt_number,
    fmt_plain_share,
    fmt_ratio,
    fmt_share,
    fmt_whole_money,
    one_line,
    short,
)
from sim.present.tables import md_escape, md_table, md_table_plain


@pytest.mark.parametrize("fmt", [fmt_money, fmt_ratio, fmt_share, fmt_count, fmt_number])
def test_undefined_is_a_dash(fmt) -> None:
    assert fmt(None) == DASH
    assert fmt(math.nan) == DASH


def test_report_formats() -> None:
    assert fmt_money(12345.6) == "12,346" and fmt_money(42.25) == "42.2"
    assert fmt_share(0.004) == "0.40%" and fmt_share(0.25) == "25.0%" and fmt_share(0) == "0.0%"
    assert fmt_ratio(1.005) == "1.00" and fmt_count(1234.4) == "1,234"


def test_cli_and_experiment_formats() -> None:
    assert [fmt_cell(0.123, "pct"), fmt_cell(5e4), fmt_cell(3.14159)] == ["12.3%", "50,000", "3.14"]
    assert [fmt_number(2e4), fmt_number(123.45), fmt_number(0.012345)] == [
        "20,000",
        "123.5",
        "0.0123",
    ]
    assert fmt_number(math.inf) == DASH


def test_workshop_formats() -> None:
    """Whole yuan, and a rounding residue shows as 0, never -0."""
    assert fmt_whole_money(-0.3) == "0" and fmt_whole_money(-1234.6) == "-1,235"
    assert fmt_plain_share(None) == DASH and fmt_plain_share(0.5) == "50.0%"


def test_labels() -> None:
    keys = ["brands.a.strategy.budget", "brands.b.strategy.budget", "population.size"]
    assert short("population.size", keys) == "size"
    assert short("brands.a.strategy.budget", keys) == "strategy.budget"
    assert one_line("a\n  b\tc") == "a b c"
    assert clip("x" * 10, 5) == "xxxx…" and clip("short", 5) == "short"


def test_markdown_tables() -> None:
    assert md_table(["k", "v"], [["a", "1"]]).splitlines() == [
        "| k | v |",
        "|:---|---:|",
        "| a | 1 |",
    ]
    assert md_table_plain(["k", "v"], [["a", "1"]]).splitlines()[1] == "|---|---|"
    assert md_escape("a|b") == "a\\|b"
