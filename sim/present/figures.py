"""The figure style of every report: seaborn's look (`LOOK`) applied through rc_context only,
bare `matplotlib.figure.Figure` objects rendered by the Agg canvas (no pyplot state, so
nothing stays open and the user's backend and style are left alone) and PNGs without a
version stamp, so the same numbers always give the same bytes. Also the panel helpers the
run report's figures share."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colors, font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

DPI = 110
LOOK: dict[str, Any] = {
    # seaborn.axes_style("whitegrid")
    "figure.facecolor": "white",
    "axes.labelcolor": ".15",
    "xtick.direction": "out",
    "ytick.direction": "out",
    "xtick.color": ".15",
    "ytick.color": ".15",
    "axes.axisbelow": True,
    "grid.linestyle": "-",
    "text.color": ".15",
    "font.family": ["sans-serif"],
    "font.sans-serif": [
        "Arial",
        "DejaVu Sans",
        "Liberation Sans",
        "Bitstream Vera Sans",
        "sans-serif",
    ],
    "lines.solid_capstyle": "round",
    "patch.edgecolor": "w",
    "patch.force_edgecolor": True,
    "xtick.top": False,
    "ytick.right": False,
    "axes.grid": True,
    "axes.facecolor": "white",
    "axes.edgecolor": ".8",
    "grid.color": ".8",
    "axes.spines.left": True,
    "axes.spines.bottom": True,
    "axes.spines.right": True,
    "axes.spines.top": True,
    "xtick.bottom": False,
    "ytick.left": False,
    # seaborn.plotting_context("notebook", 0.85)
    "axes.linewidth": 1.25,
    "grid.linewidth": 1,
    "lines.linewidth": 1.5,
    "lines.markersize": 6,
    "patch.linewidth": 1,
    "xtick.major.width": 1.25,
    "ytick.major.width": 1.25,
    "xtick.minor.width": 1,
    "ytick.minor.width": 1,
    "xtick.major.size": 6,
    "ytick.major.size": 6,
    "xtick.minor.size": 4,
    "ytick.minor.size": 4,
    "font.size": 10.2,
    "axes.labelsize": 10.2,
    "axes.titlesize": 10.2,
    "xtick.labelsize": 9.35,
    "ytick.labelsize": 9.35,
    "legend.fontsize": 9.35,
    "legend.title_fontsize": 10.2,
}
"""Seaborn's whitegrid look at notebook sizes scaled by 0.85, as its values: importing
seaborn (and with it pyplot) would cost every report about 1.5 s. Its default colormap
(`image.cmap`, seaborn's own "rocket") is left out: every image here names its colormap.
tests/test_figures_style.py holds these values to what the installed seaborn gives."""
COLORBLIND = ("#0173B2", "#DE8F05", "#029E73", "#D55E00", "#CC78BC")
COLORBLIND += ("#CA9161", "#FBAFE4", "#949494", "#ECE133", "#56B4E9")
"""Seaborn's "colorblind" palette: the brands' colours up to 10 brands (`brand_colors`)."""
CHANNEL_COLORS = {"platform": "#4c72b0", "private": "#dd8452", "store": "#55a868"}
"""The sales channels' colours in every figure (run reports, sweeps, the live page)."""
STOCK_COLORS = {
    "members": "#1b7837",
    "customers": "#7fbf7b",
    "lapsed": "#c2a5cf",
    "aware": "#9ecae1",
    "unaware": "#e0e0e0",
}
"""The funnel states' colours in every figure and on the live page's network."""


CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Source Han Sans SC",
    "Source Han Sans",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
)
"""Fonts with Chinese glyphs, in order of preference: the first installed one is where the
figures' text falls back for characters its Latin font lacks (brand names in Chinese).
Debian and Ubuntu: `apt-get install fonts-noto-cjk` (what CI installs)."""

CJK_FILES = ("notosanscjk", "sourcehansans", "wqy-microhei", "wqy-zenhei", "droidsansfallback")
"""File names of those fonts, to find one installed after matplotlib cached its font list."""


@functools.cache
def cjk_font() -> str | None:
    """The name of the first installed font of CJK_FONTS, or None (then Chinese characters
    render as empty boxes, with matplotlib's missing-glyph warning).

    Matplotlib caches the fonts it saw on first use; a CJK font installed later is found on
    disk and added to this process's list (the cache on disk is left alone)."""
    known = {f.name for f in font_manager.fontManager.ttflist}
    if not any(name in known for name in CJK_FONTS):
        for path in font_manager.findSystemFonts():
            if any(key in Path(path).name.lower().replace("_", "") for key in CJK_FILES):
                with contextlib.suppress(Exception):  # an unreadable file: skip it
                    font_manager.fontManager.addfont(path)
        known = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in known), None)


def style() -> dict[str, Any]:
    """Seaborn's look (`LOOK`) with this package's sizes, applied through rc_context only.

    Text is set in the look's sans-serif font; a character that font lacks (Chinese, say)
    falls back glyph by glyph to the installed CJK font (`cjk_font`), so Latin text keeps
    its font and Chinese brand names render."""
    rc: dict[str, Any] = {k: list(v) if isinstance(v, list) else v for k, v in LOOK.items()}
    rc.update(
        {"figure.dpi": DPI, "savefig.dpi": DPI, "axes.titleweight": "bold", "legend.frameon": False}
    )
    cjk = cjk_font()
    if cjk is not None:
        rc["font.family"] = ["sans-serif", cjk]
    return rc


def figure(
    ncols: int, nrows: int, panel_w: float, panel_h: float, legend_w: float = 0.0, **kw: Any
) -> tuple[Figure, np.ndarray]:
    """A constrained-layout figure of panels, `legend_w` inches wider for a side legend."""
    fig = Figure(
        figsize=(max(ncols * panel_w, 5.0) + legend_w, nrows * panel_h),
        dpi=DPI,
        layout="constrained",
    )
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def save(fig: Figure, path: Path) -> None:
    """Write a PNG without the matplotlib version stamp in its metadata, then drop the figure."""
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    fig.clear()


def brand_colors(brands: Sequence[str]) -> dict[str, Any]:
    """One colour per brand, fixed by the scenario's brand order (the market is black):
    seaborn's colorblind palette, or its husl palette for more than 10 brands (the only
    case that imports seaborn)."""
    if len(brands) <= len(COLORBLIND):
        palette = [colors.to_rgb(c) for c in COLORBLIND]
    else:
        import seaborn as sns

        palette = sns.color_palette("husl", len(brands))
    return {b: palette[i] for i, b in enumerate(brands)}


def thousands_axis(ax: Any) -> None:
    """Y tick labels as whole numbers with thousands separators (yuan, consumers)."""
    ax.yaxis.set_major_formatter(
        FuncFormatter(
            lambda v, _: f"{v:,.0f}" if abs(v) >= 1000 or float(v).is_integer() else f"{v:.3g}"
        )
    )


def mark_if_empty(
    ax: Any,
    frames: Iterable[pd.DataFrame],
    columns: Sequence[str],
    message: str,
    set_scale: bool = True,
) -> bool:
    """If no window has a defined value in `columns`, say so on the panel (and, unless the
    y axis is shared, keep a sane 0–1 scale instead of matplotlib's degenerate one).
    True when the panel is empty."""
    finite = any(np.isfinite(f[c].to_numpy(dtype=float)).any() for f in frames for c in columns)
    if not finite:
        if set_scale:
            ax.set_ylim(0, 1)
        ax.text(
            0.5,
            0.5,
            message,
            transform=ax.transAxes,
            ha="center",
            va="center",
            color="grey",
            fontsize=9,
            wrap=True,
        )
    return not finite


def hide_unused(axes: np.ndarray, used: int, xlabel: str | None = None) -> None:
    """Hide the panels past `used`; give the lowest used panel of each column its x tick
    labels (a shared x axis hides them above a hidden panel) and `xlabel`."""
    for ax in axes.flat[used:]:
        ax.set_visible(False)
    nrows, ncols = axes.shape
    for c in range(ncols):
        rows = [r for r in range(nrows) if r * ncols + c < used]
        if rows:
            ax = axes[rows[-1], c]
            ax.xaxis.set_tick_params(labelbottom=True)
            if xlabel:
                ax.set_xlabel(xlabel)


FESTIVAL_SHADE = {"color": "#f4a261", "alpha": 0.25, "lw": 0}
"""How festival days of the calendar are shaded on a day axis."""


def shade_spans(ax: Any, spans: Sequence[tuple[int, int]]) -> None:
    """Shade runs of festival days (first, last day inclusive) on a day axis."""
    for k, (first, last) in enumerate(spans):
        ax.axvspan(first - 0.5, last + 0.5, label="festival" if k == 0 else None, **FESTIVAL_SHADE)
