"""`calibrate()`: an order log in, a fitted, validated, calibrated scenario out (the
pipeline behind `siyu calibrate`), and its report.

The output folder holds `report.md` (fitted parameters with standard errors, beside the
published ones on CDNOW; holdout errors; the mapping; the CLV), `tracking.png`,
`conditional.png`, `fit.json` (every number of the report) and `calibrated.toml`, a scenario
that extends the base with the fitted values and their intervals as comments.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibrate import adjust, btyd, clv, holdout, mapping, roundtrip, sbc, targets
from sim.calibrate.data import (
    Summary,
    calibration_end,
    load_ad_spend,
    load_member_events,
    load_orders,
    summarise,
)
from sim.params import Scenario
from sim.present.tables import md_table

PUBLISHED = {
    "bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "log_likelihood": -9582.4},
    "gamma_gamma": {"p": 6.25, "q": 3.74, "gamma": 15.44},
}
"""Fader, Hardie & Lee (2005): BG/NBD on the 2,357-customer CDNOW sample, weeks 1-39
("Counting your customers the easy way", table 1) and Gamma-Gamma on its 946 repeat buyers
("RFM and CLV", section 4)."""
CDNOW_CUSTOMERS = 2357
CDNOW_CALIBRATION_END = "1997-09-30"
"""The end of week 39 of the CDNOW cohort, the papers' calibration period."""

FILES = ("report.md", "tracking.png", "conditional.png", "fit.json", "calibrated.toml")
SBC_FILE = "repeat_curve.png"
"""The simulated repeat-buying curve against the data's (with `sbc_trials`)."""
SBC_CONSUMERS = 60000
"""Consumers of the simulation-based calibration's runs (its cohort of new customers must be
large enough for a smooth curve; `--sbc-consumers`)."""


@dataclass(frozen=True)
class Calibration:
    """What `calibrate` found: the summary, both fits, the validation, the mapped keys and
    the CLVs (new customer; mean residual of the cohort; 365-day revenue for contrast)."""

    summary: Summary
    transactions: btyd.Fit
    spend: btyd.Fit | None
    validation: holdout.Validation
    mapped: list[mapping.Mapped]
    clv_new: float
    clv_residual_mean: float
    revenue_365: float
    margin: float
    discount_rate: float
    brand: str
    published: bool
    adjustment: adjust.Adjustment | None = None
    sbc: sbc.SbcFit | None = None
    curves: dict[str, np.ndarray] | None = None
    """With `sbc`: the repeat-buying curve per customer over calibration and holdout weeks of
    the data, of the scenario as the fit maps it, and as the simulation-based calibration
    sets it (means over the seeds)."""
    curve_errors: dict[str, dict[str, roundtrip.CurveError]] | None = None
    """The errors of those curves against the data's, over the calibration and the holdout
    weeks."""


def calibrate(
    orders_path: str | Path,
    fmt: str | None,
    end: str,
    sc: Scenario,
    brand: str | None = None,
    model: str = "bgnbd",
    need_share: float = 1.0,
    unit_days: int = 7,
    simulate: bool = False,
    sbc_trials: int = 0,
    sbc_consumers: int = SBC_CONSUMERS,
    executor=None,
    members_path: str | Path | None = None,
    sbc_keys: str | None = None,
    ad_spend_path: str | Path | None = None,
) -> tuple[Calibration, pd.DataFrame]:
    """Load, summarise, fit, validate and map (with `simulate`, adjust the need rate by
    simulation: `sim.calibrate.adjust`; with `sbc_trials`, search the need rate and the
    dropout mean by simulation against the repeat-buying curve: `sim.calibrate.sbc`, on
    `executor`, searching `sbc_keys` if given (`sim.calibrate.targets.parse_keys`) and
    fitting the aggregate targets the data gives: the private share path when the log names
    a private channel, member joins and leaves with `members_path`, CAC with `ad_spend_path`);
    raises DataError or
    ValueError (one line)."""
    orders = load_orders(orders_path, fmt)
    members = load_member_events(members_path) if members_path is not None else None
    ad_spend = load_ad_spend(ad_spend_path) if ad_spend_path is not None else None
    brand = brand or sc.brand_names()[0]
    if brand not in sc.brands:
        raise ValueError(
            f"--brand: {brand!r} is not a brand of the base (brands: {', '.join(sc.brands)})"
        )
    s = summarise(orders, calibration_end(orders, end, unit_days), unit_days)
    if s.end >= s.holdout_end:
        raise ValueError(f"--calibration-end: {s.end.date()}: no orders after it to validate on")
    fit = btyd.fit_transactions(s.x, s.t_x, s.T, model)
    try:
        spend = btyd.fit_gamma_gamma(s.x, s.m)
    except ValueError:
        spend = None
    validation = holdout.validate(orders, s, fit)
    mapped = mapping.map_fit(sc, brand, fit, spend, unit_days, need_share)
    try:  # the calibrated values must make a valid scenario before anything is written
        sc.changed({m.key: m.value for m in mapped})
    except (KeyError, ValueError) as exc:
        raise ValueError(f"the fit gives a value the scenario refuses: {exc}") from None
    margin = sc.categories[sc.brands[brand].category].gross_margin
    delta = clv.discount_per_period(sc.market.discount_rate_per_year, unit_days)
    mean_z = btyd.mean_spend(spend.params) if spend else float(np.nanmean(s.m))
    z_i = btyd.conditional_spend(spend.params, s.x, s.m) if spend else np.full(len(s.x), mean_z)
    new = clv.new_customer_clv(model, fit.params, mean_z, margin, delta)
    residual = clv.residual_clv(model, fit.params, z_i, margin, delta, s.x, s.t_x, s.T)
    revenue = mean_z * (1 + float(btyd.expected_transactions(model, fit.params, 365 / unit_days)))
    published = (
        fmt == "cdnow"
        and len(s.x) == CDNOW_CUSTOMERS
        and model == "bgnbd"
        and s.end == pd.Timestamp(CDNOW_CALIBRATION_END)
    )
    adjustment = None
    if simulate:
        mapped_sc = sc.changed({m.key: m.value for m in mapped})
        adjustment = adjust.match_need_rate(mapped_sc, brand, revenue)
        mapped = [adjusted(m, adjustment.factor) for m in mapped]
    found, curves, errors = None, None, None
    if sbc_trials:
        found, mapped, curves, errors = simulation_based(
            sc,
            brand,
            orders,
            s,
            mapped,
            sbc_trials,
            sbc_consumers,
            executor,
            members,
            sbc_keys,
            ad_spend,
        )
    cal = Calibration(
        s,
        fit,
        spend,
        validation,
        mapped,
        new,
        float(np.mean(residual)),
        revenue,
        margin,
        sc.market.discount_rate_per_year,
        brand,
        published,
        adjustment,
        found,
        curves,
        errors,
    )
    return cal, orders


def simulation_based(
    sc: Scenario,
    brand: str,
    orders: pd.DataFrame,
    s: Summary,
    mapped: list[mapping.Mapped],
    trials: int,
    consumers: int,
    executor,
    members: pd.DataFrame | None = None,
    keys: str | None = None,
    ad_spend: pd.DataFrame | None = None,
) -> tuple[sbc.SbcFit, list[mapping.Mapped], dict, dict]:
    """The simulation-based calibration against the calibration weeks' repeat-buying curve,
    the mapped keys with its values, and the curves (data, as mapped, as fitted) over the
    calibration and holdout weeks with their errors."""
    mapped_sc = sc.changed({**{m.key: m.value for m in mapped}, "run.consumers": consumers})
    start = orders["date"].min()
    cal_weeks = max(int((s.end - start).days + 1) // 7, 1)
    all_weeks = max(int((s.holdout_end - start).days + 1) // 7, cal_weeks)
    parameters = targets.parse_keys(keys, mapped_sc) if keys is not None else None
    found = sbc.fit(
        mapped_sc,
        brand,
        orders[orders["date"] <= s.end],
        cal_weeks,
        trials,
        parameters=parameters,
        executor=executor,
        targets=bool(targets.is_private(orders["channel"]).any()),
        members=members[members["date"] <= s.end] if members is not None else None,
        ad_spend=ad_spend[ad_spend["date"] <= s.end] if ad_spend is not None else None,
    )
    data_curve, _ = roundtrip.repeat_curve(orders, all_weeks)
    as_mapped, _ = roundtrip.simulated_curves(mapped_sc, brand, found.seeds, all_weeks)
    fitted, _ = roundtrip.simulated_curves(
        mapped_sc.changed(found.best), brand, found.seeds, all_weeks
    )
    curves = {"data": data_curve, "mapped": as_mapped.mean(0), "fitted": fitted.mean(0)}
    errors = {
        name: {
            "calibration": roundtrip.curve_error(curves[name][:cal_weeks], data_curve[:cal_weeks]),
            "holdout": roundtrip.curve_error(curves[name][cal_weeks:], data_curve[cal_weeks:])
            if all_weeks > cal_weeks
            else roundtrip.CurveError(float("nan"), float("nan")),
        }
        for name in ("mapped", "fitted")
    }
    how = (
        f"simulation-based calibration: Optuna TPE, {trials} trials x {len(found.seeds)} "
        f"seeds at {consumers:,} consumers; bootstrap interval"
    )
    out = [
        mapping.Mapped(m.key, found.best[m.key], found.se[m.key], found.interval[m.key], how)
        if m.key in found.best
        else m
        for m in mapped
    ]
    out += [
        mapping.Mapped(k, v, found.se[k], found.interval[k], how)
        for k, v in found.best.items()
        if k not in {m.key for m in mapped}
    ]
    return found, out, curves, errors


def adjusted(m: mapping.Mapped, factor: float) -> mapping.Mapped:
    """A mapped need rate times the simulation's factor (other keys as they are)."""
    if not m.key.endswith(".purchases_per_year"):
        return m
    lo, hi = m.interval
    return mapping.Mapped(
        m.key,
        m.value * factor,
        m.se * factor,
        (lo * factor, hi * factor),
        f"{m.how} x {factor:.4g} (simulation-based adjustment)",
    )


def _num(v: float) -> str:
    return "n/a" if v is None or not math.isfinite(v) else f"{v:,.4g}"


def report_text(cal: Calibration, orders_path: str, base: str, fmt: str | None) -> str:
    """The Markdown report."""
    s, fit, sp, v = cal.summary, cal.transactions, cal.spend, cal.validation
    unit = "week" if s.unit_days == 7 else f"{s.unit_days}-day period"
    name = {"bgnbd": "BG/NBD", "mbgnbd": "MBG/NBD"}[fit.model]
    lines = [
        f"# Calibration of `{base}` to `{orders_path}`",
        "",
        f"{len(s.x):,} customers with a first order from {s.start.date()} to {s.end.date()}; "
        f"calibration to {s.end.date()} ({v.calibration_periods:g} {unit}s), holdout to "
        f"{s.holdout_end.date()} ({s.holdout_length:g} {unit}s). Times in {unit}s; orders of "
        "a customer on one day count as one transaction.",
        "",
        f"## {name} (transactions)",
        "",
    ]
    pub = PUBLISHED["bgnbd"] if cal.published else {}
    head = ["parameter", "estimate", "se", "95% interval"] + (["published"] if pub else [])
    rows = []
    for k, val in fit.params.items():
        lo, hi = fit.interval[k]
        rows.append(
            [k, _num(val), _num(fit.se[k]), f"{_num(lo)} to {_num(hi)}"]
            + ([_num(pub[k])] if pub else [])
        )
    rows.append(
        ["log-likelihood", f"{fit.log_likelihood:,.1f}", "", ""]
        + ([f"{pub['log_likelihood']:,.1f}"] if pub else [])
    )
    lines += [md_table(head, rows), ""]
    if pub:
        lines += [
            "Published: Fader, Hardie & Lee (2005), on the same 2,357-customer sample, weeks 1-39.",
            "",
        ]
    if sp is not None:
        gpub = PUBLISHED["gamma_gamma"] if cal.published else {}
        rows = []
        for k, val in sp.params.items():
            lo, hi = sp.interval[k]
            rows.append(
                [k, _num(val), _num(sp.se[k]), f"{_num(lo)} to {_num(hi)}"]
                + ([_num(gpub[k])] if gpub else [])
            )
        lines += [
            "## Gamma-Gamma (value of a repeat transaction)",
            "",
            f"{sp.n:,} customers with repeat transactions; mean value "
            f"{_num(btyd.mean_spend(sp.params))}.",
            "",
            md_table(head[:4] + (["published"] if gpub else []), rows),
            "",
        ]
    lines += [
        "## Holdout",
        "",
        f"Cumulative repeat transactions at the end of the holdout: actual "
        f"{int(v.tracking['actual'].iloc[-1]):,}, model {v.tracking['model'].iloc[-1]:,.0f} "
        f"(error {v.end_error:+.1%}); mean absolute percentage error of the cumulative "
        f"over the holdout {unit}s: {v.holdout_mape:.1%}.",
        "",
        "![tracking](tracking.png)",
        "",
        md_table(
            [
                "repeat transactions in calibration",
                "customers",
                "actual holdout mean",
                "model holdout mean",
            ],
            [
                [r.x, f"{r.customers:,}", f"{r.actual:.3f}", f"{r.model:.3f}"]
                for r in v.conditional.itertuples()
            ],
        ),
        "",
        "![conditional expectations](conditional.png)",
        "",
        f"## Scenario values (brand `{cal.brand}`)",
        "",
        md_table(
            ["key", "value", "se", "95% interval", "from"],
            [
                [
                    f"`{m.key}`",
                    _num(m.value),
                    _num(m.se),
                    f"{_num(m.interval[0])} to {_num(m.interval[1])}",
                    m.how,
                ]
                for m in cal.mapped
            ],
        ),
        "",
        "`calibrated.toml` extends the base with these values (intervals as comments). A need "
        "is not always an order of this brand (the logit choice thins it): the purchase rate "
        "is divided by the need share given (`--need-share`); see `sim/calibrate/mapping.py` "
        "for what else does not map exactly.",
        "",
        *adjustment_lines(cal),
        *sbc_lines(cal),
        "## CLV",
        "",
        f"Margin-based, discounted, unlimited horizon (docs/KPIS.md; gross margin "
        f"{cal.margin:g} of the base's category, discount rate {cal.discount_rate:.0%} a "
        f"year): a new customer "
        f"{_num(cal.clv_new)}; the calibration cohort's expected residual value, mean "
        f"{_num(cal.clv_residual_mean)}. For contrast, a new customer's expected revenue "
        f"in its first 365 days (undiscounted, no margin, like `ltv365`): "
        f"{_num(cal.revenue_365)}.",
        "",
    ]
    return "\n".join(lines)


def adjustment_lines(cal: Calibration) -> list[str]:
    """The report's section on the simulation-based adjustment (none without one)."""
    a = cal.adjustment
    if a is None:
        return []
    steps = "; ".join(f"x{f:.4g}: {v:,.4g} (se {se:.2g})" for f, v, se in a.steps)
    return [
        "## Simulation-based adjustment of the need rate",
        "",
        f"The fit's 365-day GMV per new customer is {_num(a.target)}; the calibrated scenario "
        f"gives it with the need rate x {a.factor:.4g}: {_num(a.simulated)} (mean of seeds "
        f"{', '.join(map(str, a.seeds))}, {a.days} days; "
        + ("within" if a.met else "NOT within")
        + " 3% or twice the standard error over the seeds). "
        + f"Steps (factor: simulated): {steps}. The factor folds together the logit "
        "choice's thinning, the size bias of acquisition at a need and the dropout after a "
        "first order (`sim/calibrate/adjust.py`); the need-rate interval is scaled by it, "
        "without the simulation's own noise.",
        "",
    ]


def sbc_lines(cal: Calibration) -> list[str]:
    """The report's section on the simulation-based calibration (none without one)."""
    f = cal.sbc
    if f is None or cal.curves is None or cal.curve_errors is None:
        return []
    e = cal.curve_errors

    def err(name: str, part: str) -> str:
        x = e[name][part]
        return f"{x.end:+.1%} at the end, MAPE {x.mape:.1%}"

    rows = [
        [
            f"`{p.key}`",
            _num(f.best[p.key]),
            _num(f.se[p.key]),
            f"{_num(f.interval[p.key][0])} to {_num(f.interval[p.key][1])}",
            f"{_num(p.low)} to {_num(p.high)}",
        ]
        for p in f.parameters
    ]
    return [
        "## Simulation-based calibration: the repeat-buying curve",
        "",
        f"The scenario as the fit maps it is run with events and its new customers' cohort "
        f"(first order in the first {roundtrip.COHORT_WEEKS} weeks) set against the data's: "
        "weekly cumulative repeat transactions per cohort customer (Fader, Hardie & Lee 2005, "
        "figure 2, divided by the cohort's size). Then the keys below are searched so that "
        f"the simulated curve matches the data's over the {f.weeks} calibration weeks "
        f"(`sim/calibrate/sbc.py`): Optuna's TPE sampler (seed 0), {len(f.trials)} trials, "
        f"each run with seeds {', '.join(map(str, f.seeds))} (common random numbers); "
        "distance: root mean square difference of the curves relative to the data's last "
        f"value. Intervals: {sbc.RESAMPLES} bootstrap resamples of the data's "
        f"{f.cohort:,} cohort customers and of the seeds, each taking the best trial (so "
        f"they carry the data's sampling error and the simulation's noise). Best distance "
        f"{f.distance:.3f}; {f.seconds:.0f} s.",
        "",
        md_table(["key", "value", "se", "95% interval", "searched"], rows),
        "",
        "| scenario | calibration weeks | holdout weeks |",
        "|---|---|---|",
        f"| as the fit maps it | {err('mapped', 'calibration')} | {err('mapped', 'holdout')} |",
        f"| simulation-based | {err('fitted', 'calibration')} | {err('fitted', 'holdout')} |",
        "",
        f"![repeat-buying curve]({SBC_FILE})",
        "",
        "`calibrated.toml` carries the simulation-based values with their intervals. The "
        "holdout weeks were not used by the search: their error is out of sample.",
        "",
        *target_lines(f),
    ]


def target_lines(f: sbc.SbcFit) -> list[str]:
    """The report's table of the aggregate targets' fits (none without targets)."""
    if not f.targets:
        return []

    def path(a: np.ndarray) -> str:
        return " ".join(f"{x:.3g}" for x in a)

    rows = [
        [t.name, _num(t.weight), f"{t.distance:.3f}", path(t.actual), path(t.simulated)]
        for t in f.targets
    ]
    return [
        "### Aggregate targets",
        "",
        "Besides the repeat-buying curve (weight "
        f"{_num(targets.WEIGHTS['repeat_curve'])}), the search fitted these monthly paths "
        f"({targets.MONTH_DAYS}-day months from the log's first day; `sim/calibrate/targets.py`): "
        "the private share of order value (order-log channels "
        f"{', '.join(sorted(targets.PRIVATE_CHANNELS))} count as private) and, with a member "
        "events file, joins and leaves per customer of the log. Each target's distance is the "
        "root mean square difference of the paths relative to the data's mean, added to the "
        "curve's times its weight; the simulated path is the best trial's mean over the seeds.",
        "",
        md_table(["target", "weight", "distance", "data by month", "simulated by month"], rows),
        "",
    ]


def finite(value):
    """A JSON-ready copy with every NaN or infinity as null (strict JSON has neither)."""
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def fit_json(cal: Calibration) -> dict:
    """Every number of the report, for programs."""

    def fit_dict(f: btyd.Fit | None) -> dict | None:
        if f is None:
            return None
        return {
            "model": f.model,
            "params": f.params,
            "se": f.se,
            "interval": {k: list(v) for k, v in f.interval.items()},
            "log_likelihood": f.log_likelihood,
            "customers": f.n,
            "cov_log": None if f.cov_log is None else np.asarray(f.cov_log).tolist(),
        }

    v = cal.validation
    return {
        "transactions": fit_dict(cal.transactions),
        "spend": fit_dict(cal.spend),
        "holdout": {
            "end_error": v.end_error,
            "mape": v.holdout_mape,
            "tracking": v.tracking.to_dict("list"),
            "conditional": v.conditional.to_dict("list"),
        },
        "scenario": {
            m.key: {"value": m.value, "se": m.se, "interval": list(m.interval)} for m in cal.mapped
        },
        "adjustment": None
        if cal.adjustment is None
        else {
            "factor": cal.adjustment.factor,
            "simulated": cal.adjustment.simulated,
            "target": cal.adjustment.target,
            "met": cal.adjustment.met,
            "steps": [list(x) for x in cal.adjustment.steps],
        },
        "sbc": None
        if cal.sbc is None
        else {
            "best": cal.sbc.best,
            "se": cal.sbc.se,
            "interval": {k: list(v) for k, v in cal.sbc.interval.items()},
            "distance": cal.sbc.distance,
            "targets": {
                t.name: {
                    "weight": t.weight,
                    "distance": t.distance,
                    "actual": list(t.actual),
                    "simulated": list(t.simulated),
                }
                for t in cal.sbc.targets
            },
            "trials": cal.sbc.trials.to_dict("list"),
            "seeds": list(cal.sbc.seeds),
            "weeks": cal.sbc.weeks,
            "seconds": cal.sbc.seconds,
            "curves": {k: list(v) for k, v in (cal.curves or {}).items()},
            "errors": {
                n: {p: {"end": x.end, "mape": x.mape} for p, x in parts.items()}
                for n, parts in (cal.curve_errors or {}).items()
            },
        },
        "clv": {
            "new_customer": cal.clv_new,
            "residual_mean": cal.clv_residual_mean,
            "revenue_365": cal.revenue_365,
        },
    }


def write(
    cal: Calibration, out: Path, base_path: Path, orders_path: str, base: str, fmt: str | None
) -> None:
    """Write the output folder whole: built in a temporary sibling, then moved into place
    (a folder of an earlier calibration is replaced)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        (tmp / "report.md").write_text(report_text(cal, orders_path, base, fmt), encoding="utf-8")
        unit = "week" if cal.summary.unit_days == 7 else "period"
        holdout.tracking_figure(cal.validation, tmp / "tracking.png", unit)
        holdout.conditional_figure(cal.validation, tmp / "conditional.png")
        if cal.curves is not None and cal.sbc is not None:
            roundtrip.curve_figure(
                cal.curves["data"],
                np.array([cal.curves["fitted"]]),
                tmp / SBC_FILE,
                label="data",
                calibration_weeks=cal.sbc.weeks,
                extra={"simulated, as the fit maps it": cal.curves["mapped"]},
                simulated_label="simulated, simulation-based calibration",
            )
        (tmp / "fit.json").write_text(
            json.dumps(finite(fit_json(cal)), indent=2, default=float) + "\n", encoding="utf-8"
        )
        s = cal.summary
        header = [
            f"Calibrated by `siyu calibrate` from {Path(orders_path).name}: "
            f"{len(s.x):,} customers, calibration {s.start.date()} to {s.end.date()}, "
            f"{cal.transactions.model}; values below with their 95% intervals "
            "(report.md in this folder)."
        ]
        desc = f"{base} calibrated to {Path(orders_path).name} (brand {cal.brand})"
        text = mapping.scenario_text(base_path, out / "calibrated.toml", cal.mapped, header, desc)
        (tmp / "calibrated.toml").write_text(text, encoding="utf-8")
        tmp.chmod(0o755)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
