"""Number formats and short labels shared by the run report, the experiment reports, the
workshop sheets and the command line. Each reader keeps the format it has always printed
(the run report's money has a decimal below 100 yuan, the workshop's does not), so each
format here is named for what it shows."""

from __future__ import annotations

import math
from typing import Any

DASH = "–"
"""Shown for an undefined value (a ratio over zero, a KPI with no data)."""


def is_missing(v: Any) -> bool:
    """None or a float NaN: a value the reports show as DASH."""
    return v is None or (isinstance(v, float) and math.isnan(v))


# --------------------------------------------------------------------------- the run report


def fmt_money(v: float | None) -> str:
    """Yuan, thousands separated, no decimals for big sums; '–' when undefined."""
    if is_missing(v):
        return DASH
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.1f}"


def fmt_ratio(v: float | None) -> str:
    """A ratio such as ROI or ROAS (yuan per yuan), two decimals; '–' when undefined."""
    return DASH if is_missing(v) else f"{v:.2f}"


def fmt_share(v: float | None) -> str:
    """A share as a percentage; '–' when undefined."""
    if is_missing(v):
        return DASH
    return f"{100 * v:.2f}%" if 0 < abs(v) < 0.01 else f"{100 * v:.1f}%"


def fmt_count(v: float | None) -> str:
    """A head count, thousands separated; '–' when undefined."""
    return DASH if is_missing(v) else f"{v:,.0f}"


# --------------------------------------------------------------------------- other readers


def fmt_cell(v: float | None, kind: str = "") -> str:
    """A KPI cell of the terminal table: `kind` is "pct" (a share), "int" (a count) or ""
    (money, ratios: two decimals, whole numbers from 10,000 up)."""
    if v is None:
        return DASH
    if kind == "pct":
        return f"{100 * v:.1f}%"
    if kind == "int":
        return f"{v:,.0f}"
    if abs(v) >= 1e4:
        return f"{v:,.0f}"
    return f"{v:.2f}"


def fmt_number(v: float | None) -> str:
    """Any KPI in an experiment's tables and figures, whose unit the column names: whole
    numbers from 10,000 up, one decimal from 100, else three significant digits."""
    if v is None or not math.isfinite(v):
        return DASH
    if abs(v) >= 1e4:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:,.1f}"
    return f"{v:.3g}"


def fmt_whole_money(v: float | None) -> str:
    """Yuan on the workshop's sheets: whole yuan, and 0 (not -0) for a rounding residue."""
    return DASH if v is None else f"{(0.0 if abs(v) < 0.5 else v):,.0f}"


def fmt_plain_ratio(v: float | None) -> str:
    """A ratio on the workshop's sheets: two decimals; '–' for None."""
    return DASH if v is None else f"{v:.2f}"


def fmt_plain_share(v: float | None) -> str:
    """A share on the workshop's sheets: one decimal of a percent; '–' for None."""
    return DASH if v is None else f"{100 * v:.1f}%"


# --------------------------------------------------------------------------- labels


def short(key: str, keys: list[str]) -> str:
    """The last part of a dotted key, or the last two where the last is ambiguous."""
    last = key.split(".")[-1]
    if sum(k.split(".")[-1] == last for k in keys) > 1:
        return ".".join(key.split(".")[-2:])
    return last


def one_line(text: object) -> str:
    """Text on one line, runs of white space (newlines included) as one space."""
    return " ".join(str(text).split())


def clip(text: object, limit: int = 240) -> str:
    """Text as shown in a message (a path, a name): cut short with '…' when absurdly long."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
