"""The calendar (618, Double 11 and user-defined festivals): its rules, its scenario table
and the day table both engines and reports read (docs/ODD.md 7.23)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError

from sim import calendar, rules
from sim.params import CalendarParams, Scenario, day_of_year_value


def test_day_of_year_wraps_a_365_day_year():
    assert rules.day_of_year(0, 1) == 1
    assert rules.day_of_year(364, 1) == 365
    assert rules.day_of_year(365, 1) == 1
    assert rules.day_of_year(0, 152) == 152
    assert rules.day_of_year(214, 152) == 1  # 152 + 214 = 366 -> 1 January


def test_month_day_is_the_day_of_year_without_leap_day():
    assert day_of_year_value("01-01") == 1
    assert day_of_year_value("06-18") == 169
    assert day_of_year_value("11-11") == 315
    assert day_of_year_value("12-31") == 365
    assert day_of_year_value(42) == 42
    for bad in ("02-29", "13-01", "6/18", 0, 366, True):
        with pytest.raises(ValueError):
            day_of_year_value(bad)


def test_festival_window_may_run_over_the_new_year():
    assert rules.festival_on(5, 1, 10) and not rules.festival_on(11, 1, 10)
    assert rules.festival_on(363, 360, 3) and rules.festival_on(2, 360, 3)
    assert not rules.festival_on(100, 360, 3)


def test_overlapping_festivals_compound_and_ordinary_days_are_one():
    firsts, lasts = np.array([10, 15]), np.array([20, 30])
    mult = np.array([2.0, 3.0])
    assert rules.festival_multiplier(5, firsts, lasts, mult) == 1.0
    assert rules.festival_multiplier(12, firsts, lasts, mult) == 2.0
    assert rules.festival_multiplier(17, firsts, lasts, mult) == 6.0
    assert rules.festival_multiplier(25, firsts, lasts, mult) == 3.0
    assert not rules.is_festival_day(5, firsts, lasts) and rules.is_festival_day(25, firsts, lasts)
    empty = np.zeros(0, dtype=np.int64)
    assert rules.festival_multiplier(5, empty, empty, np.zeros(0)) == 1.0


def test_cpm_and_rates_scale_by_the_multiplier_and_not_at_one():
    assert rules.festival_cpm(40.0, 1.5) == 60.0
    assert rules.festival_rate(15.0, 3.0) == 45.0
    for x in (0.1, 40.0, 1e-300):  # exact at 1: a calendar without festivals changes nothing
        assert rules.festival_cpm(x, 1.0) == x and rules.festival_rate(x, 1.0) == x


def test_extra_need_gives_a_festival_day_the_need_probability_of_rate_m_lambda():
    """P(no need) = e^{−λ} (the clock) × (1 − p_extra) = e^{−mλ}."""
    for lam in (0.001, 0.01, 0.3):
        for m in (1.0, 2.0, 3.0, 10.0):
            p_extra = rules.festival_need_probability(lam, m)
            assert math.isclose(math.exp(-lam) * (1 - p_extra), math.exp(-m * lam), rel_tol=1e-12)
    assert rules.festival_need_probability(0.2, 1.0) == 0.0
    assert rules.festival_need_probability(0.2, 0.5) == 0.0
    assert rules.festival_need_probability(0.0, 3.0) == 0.0


def test_presets_fill_what_a_festival_does_not_say():
    cal = CalendarParams.model_validate(
        {"festivals": [{"preset": "618"}, {"preset": "double11", "demand_multiplier": 4.0}]}
    )
    six18, d11 = cal.festivals
    assert (six18.first, six18.last, six18.name) == (152, 169, "618")
    assert six18.interaction_multiplier == 3.0
    assert (d11.first, d11.last, d11.demand_multiplier, d11.cpm_multiplier) == (305, 315, 4.0, 2.0)


def test_a_festival_without_preset_needs_its_window():
    with pytest.raises(ValidationError, match="first and last are needed"):
        CalendarParams.model_validate({"festivals": [{"name": "sale"}]})
    with pytest.raises(ValidationError):
        CalendarParams.model_validate({"festivals": [{"preset": "618", "demand_multiplier": 0.9}]})


def test_no_calendar_is_every_day_the_same():
    table = calendar.day_table(Scenario().calendar, 400)
    assert (table == np.array([1.0, 1.0, 1.0, 0.0])).all()
    assert calendar.festival_spans(Scenario().calendar, 400) == []


def test_day_table_places_the_presets_on_the_calendar():
    cal = CalendarParams.model_validate(
        {"start_day_of_year": "06-01", "festivals": [{"preset": "618"}, {"preset": "double11"}]}
    )
    table = calendar.day_table(cal, 400)
    assert table[0].tolist() == [1.5, 2.0, 3.0, 1.0]  # day 0 is 1 June
    assert table[17, calendar.FESTIVAL] == 1.0 and table[18, calendar.FESTIVAL] == 0.0
    assert table[153].tolist() == [2.0, 3.0, 4.0, 1.0]  # 1 November
    assert calendar.festival_spans(cal, 400) == [(0, 17), (153, 163), (365, 382)]


def test_festival_posts_never_share_a_stream_with_a_need():
    """Sub-keys of `Phase.FESTIVAL`: a brand's post lies above every need's sub-key."""
    from sim.params import HARD_LIMIT, MAX_CATEGORIES
    from sim.streams import festival_post_sub, need_sub

    assert festival_post_sub(0) > need_sub(HARD_LIMIT, MAX_CATEGORIES - 1)
    assert festival_post_sub(3) < 2**64


def test_report_shows_the_festival_figure_only_with_festivals(tmp_path):
    """The run report shades festival days in its own figure, and only when the scenario's
    calendar has festivals (a scenario without one keeps its report as it was)."""
    from sim import load_scenario, run
    from sim.report import write_report

    small = {"run.consumers": 300, "run.days": 40, "calendar.start_day_of_year": "05-20"}
    with_calendar = load_scenario("festival_calendar").changed(small)
    assert calendar.festival_spans(with_calendar.calendar, 40) == [(12, 29)]  # 618
    for name, sc, shown in (
        ("on", with_calendar, True),
        ("off", with_calendar.changed({"calendar.festivals": []}), False),
    ):
        write_report(run(sc, 1), tmp_path / name)
        assert (tmp_path / name / "figures" / "calendar.png").exists() == shown
        assert ("Festival calendar" in (tmp_path / name / "report.md").read_text()) == shown
