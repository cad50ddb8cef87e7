"""Figures render brand names in Chinese: the figure style falls back glyph by glyph to an
installed CJK font (`sim.present.figures.cjk_font`), Latin text keeps its font. Skipped
where no CJK font is installed (`apt-get install fonts-noto-cjk`, as .ci/run does)."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import matplotlib
import pytest

from sim.present.figures import cjk_font, figure, style

CHINESE = "花西子 美妆"  # a brand name as a Chinese user writes it

needs_cjk = pytest.mark.skipif(
    cjk_font() is None,
    reason="no CJK font installed (apt-get install fonts-noto-cjk; .ci/run installs it)",
)


def render(text: str, rc: dict) -> tuple[bytes, list[str]]:
    """PNG bytes of a small figure titled `text` with a legend entry of it, and the
    missing-glyph warnings drawing it raised."""
    with warnings.catch_warnings(record=True) as caught, matplotlib.rc_context(rc):
        warnings.simplefilter("always")
        fig, axes = figure(1, 1, 3.0, 2.0)
        axes[0, 0].plot([0, 1], [0, 1], label=text)
        axes[0, 0].set_title(text)
        axes[0, 0].legend()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    return buf.getvalue(), missing


@needs_cjk
def test_chinese_brand_names_render_and_latin_keeps_its_font() -> None:
    latin_only = {**style(), "font.family": ["sans-serif"]}
    _, missing = render(CHINESE, latin_only)
    assert missing, "without the fallback the Latin font lacks these glyphs (boxes)"
    _, missing = render(CHINESE, style())
    assert missing == []
    assert render("brand A: GMV", style())[0] == render("brand A: GMV", latin_only)[0]


@needs_cjk
def test_a_run_report_with_a_chinese_brand_draws_no_boxes(tmp_path: Path) -> None:
    from sim.outputs import write_outputs
    from sim.runner import run
    from sim.scenario import load_scenario

    (tmp_path / "cn.toml").write_text(
        '[run]\ndays = 40\nconsumers = 300\n[brands."美妆"]\nstores = 2\n'
        '[brands."美妆".strategy]\nguides_per_store = 1\nad_budget_per_day = 300\n',
        encoding="utf-8",
    )
    result = run(load_scenario(tmp_path / "cn.toml"), seed=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = write_outputs(result, tmp_path / "out", report=True)
    assert [str(w.message) for w in caught if "missing from font" in str(w.message)] == []
    assert list((out / "figures").glob("*.png"))
