"""The figure style without importing seaborn (`sim.present.figures.LOOK`, `COLORBLIND`): its
values are those the installed seaborn gives, so every figure keeps its bytes, and neither a
report nor the effects' intervals import seaborn or scipy.stats (about 2 s of every
`siyu run`)."""

from __future__ import annotations

import subprocess
import sys

import seaborn as sns

from sim.present import figures


def test_look_is_seaborn_whitegrid_at_notebook_sizes() -> None:
    expected = {**sns.axes_style("whitegrid"), **sns.plotting_context("notebook", 0.85)}
    assert expected.pop("image.cmap") == "rocket"  # seaborn's own map, left out on purpose
    assert expected == figures.LOOK
    assert list(figures.LOOK) == list(expected)  # the same order into rc_context


def test_style_does_not_share_lists_with_look() -> None:
    rc = figures.style()
    rc["font.sans-serif"].append("x")
    assert "x" not in figures.LOOK["font.sans-serif"]


def test_brand_colors_are_seaborn_palettes() -> None:
    for n in (1, 3, 10):
        brands = [f"b{k}" for k in range(n)]
        assert figures.brand_colors(brands) == dict(
            zip(brands, sns.color_palette("colorblind", n), strict=True)
        )
    brands = [f"b{k}" for k in range(12)]  # more than the colorblind palette: husl
    assert figures.brand_colors(brands) == dict(
        zip(brands, sns.color_palette("husl", 12), strict=True)
    )


def test_report_and_effects_import_neither_seaborn_nor_scipy_stats() -> None:
    code = (
        "import sys, sim.cli, sim.report, sim.effects; "
        "print(sorted(m for m in ('seaborn', 'scipy.stats', 'matplotlib.pyplot') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
