"""The festival calendar of a scenario as the engines and reports read it: the festivals'
windows and multipliers as arrays (what `sim.rules.festival_multiplier` takes), and a table
of every simulated day's multipliers.

The rules (`sim.rules.day_of_year`, `festival_multiplier`, `is_festival_day`) decide what a
day is; this module only lays the scenario's `[calendar]` out for them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim import rules
from sim.params import CalendarParams

CPM, DEMAND, INTERACTION, FESTIVAL = range(4)
"""Columns of a day's calendar row: the CPM, demand and interaction multipliers and
whether the day is a festival day (1.0) or not (0.0)."""
MULTIPLIERS = ("cpm_multiplier", "demand_multiplier", "interaction_multiplier")
"""The festival fields of the first three columns, in order."""


class Windows(NamedTuple):
    """The festivals of a calendar as arrays: windows first[k]..last[k] (day of year) and
    multipliers[k] (CPM, demand, interaction)."""

    first: np.ndarray  # [F] int64
    last: np.ndarray  # [F] int64
    multipliers: np.ndarray  # [F, 3] float64


def windows(calendar: CalendarParams) -> Windows:
    """The calendar's festivals as arrays (empty when there are none)."""
    fests = calendar.festivals
    mult = np.array(
        [[getattr(f, k) for k in MULTIPLIERS] for f in fests], dtype=np.float64
    ).reshape(len(fests), 3)
    return Windows(
        np.array([f.first for f in fests], dtype=np.int64),
        np.array([f.last for f in fests], dtype=np.int64),
        mult,
    )


def day_row(w: Windows, start_day_of_year: int, day: int, out: np.ndarray) -> None:
    """Write simulated day `day`'s row (CPM, DEMAND, INTERACTION, FESTIVAL) into `out`."""
    doy = rules.day_of_year(day, start_day_of_year)
    for k in range(3):
        out[k] = rules.festival_multiplier(doy, w.first, w.last, w.multipliers[:, k])
    out[FESTIVAL] = 1.0 if rules.is_festival_day(doy, w.first, w.last) else 0.0


def day_table(calendar: CalendarParams, days: int) -> np.ndarray:
    """[days, 4] every simulated day's row (`day_row`); all ordinary days (1, 1, 1, 0)
    without festivals."""
    w = windows(calendar)
    table = np.empty((days, 4))
    for t in range(days):
        day_row(w, calendar.start_day_of_year, t, table[t])
    return table


def festival_spans(calendar: CalendarParams, days: int) -> list[tuple[int, int]]:
    """The runs of consecutive festival days within the horizon, as (first day, last day)
    simulated days inclusive: what a report shades."""
    on = day_table(calendar, days)[:, FESTIVAL] > 0
    spans: list[tuple[int, int]] = []
    t = 0
    while t < days:
        if on[t]:
            s = t
            while t + 1 < days and on[t + 1]:
                t += 1
            spans.append((s, t))
        t += 1
    return spans
