"""The fitted models mapped onto a scenario's parameters, and the calibrated scenario file.

| fit | scenario key | how |
|---|---|---|
| BG/NBD r | `population.need_shape` | the gamma shape of need rates, as is |
| r/α per period | `categories.C.purchases_per_year` | × 365/period days, ÷ need share |
| a/(a+b) | `categories.C.dropout_mean` | mean of the dropout probability |
| a+b | `categories.C.dropout_concentration` | its beta concentration |
| Gamma-Gamma pγ/(q−1) | `categories.C.price` | mean order value |

C is the category of the calibrated brand. What does not map exactly, and how it is handled:

- A need is not always an order of this brand: the logit choice sends some needs to other
  brands or to the outside option, so the brand's purchase rate is the need rate thinned by
  the share of its customers' needs it wins. First-order correction: `need_share` (the
  user's estimate of that share, 1 by default: the order log's rate is taken as the need
  rate) divides the fitted rate; `sim.calibrate.adjust` instead finds the factor by
  simulation (`siyu calibrate --simulate`), which also covers the size bias of acquisition
  at a need. The heterogeneity (r) and the dropout (a, b) are mapped as
  they are; thinning by a share common to all customers leaves r unchanged.
- Dropout: Siyu's consumers drop out after an order with probability p_i ~ Beta(a, b) (BG/NBD
  for day-0 customers, MBG/NBD for customers acquired in a run); engaged members drop out
  less (`touches.member_retention`), so on a log with many engaged members the fitted
  dropout is the members' and non-members' mix.
- Needs arrive at most once a day (probability 1 − e^{−λ}); BG/NBD's Poisson allows more.
  Negligible at the rates of order logs (λ well below one a day).
- `price` is a list price; an order's value in a run is the price after the brand's
  discounts. The mean order value is set as the price as it is (no correction for
  discounts) and is in the currency of the order log.
- need_shape is a population parameter: it changes every category's heterogeneity, and the
  category's rate, dropout and price change every brand in that category.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.calibrate import btyd
from sim.params import Scenario


def need_shape(p: dict[str, float]) -> float:
    """`population.need_shape` from BG/NBD parameters: r."""
    return p["r"]


def rate_per_period(p: dict[str, float]) -> float:
    """The mean purchase rate per period, r/α (times periods a year and ÷ need share gives
    `purchases_per_year`)."""
    return p["r"] / p["alpha"]


def dropout_mean(p: dict[str, float]) -> float:
    """`dropout_mean`: a/(a+b)."""
    return p["a"] / (p["a"] + p["b"])


def dropout_concentration(p: dict[str, float]) -> float:
    """`dropout_concentration`: a+b."""
    return p["a"] + p["b"]


TRANSACTION_KEYS = {
    "need_shape": need_shape,
    "purchases_per_year": rate_per_period,
    "dropout_mean": dropout_mean,
    "dropout_concentration": dropout_concentration,
}
"""The last part of each scenario key set from the transaction fit, and the function of the
fit's parameters it is proportional to (`sim.calibrate.draws` redraws the keys with them)."""
SPEND_KEYS = {"price": btyd.mean_spend}
"""The same for the spend (Gamma-Gamma) fit."""


@dataclass(frozen=True)
class Mapped:
    """One scenario key set from the fit: value, standard error, 95% interval, and how."""

    key: str
    value: float
    se: float
    interval: tuple[float, float]
    how: str


def map_fit(
    sc: Scenario,
    brand: str,
    transactions: btyd.Fit,
    spend: btyd.Fit | None,
    unit_days: int,
    need_share: float = 1.0,
) -> list[Mapped]:
    """The scenario keys the fit sets for `brand`'s category, with their intervals."""
    if not 0 < need_share <= 1:
        raise ValueError(f"--need-share: {need_share:g}: must be above 0 and at most 1")
    cat = sc.brands[brand].category
    per_year = 365.0 / unit_days / need_share
    out = []
    r, se, ci = transactions.derived(need_shape)
    out.append(Mapped("population.need_shape", r, se, ci, "BG/NBD r"))
    v, se, ci = transactions.derived(lambda p: rate_per_period(p) * per_year)
    out.append(
        Mapped(
            f"categories.{cat}.purchases_per_year",
            v,
            se,
            ci,
            f"r/alpha x {365.0 / unit_days:.4g} periods a year / need share {need_share:g}",
        )
    )
    v, se, ci = transactions.derived(dropout_mean)
    out.append(Mapped(f"categories.{cat}.dropout_mean", v, se, ci, "a/(a+b)"))
    v, se, ci = transactions.derived(dropout_concentration)
    out.append(Mapped(f"categories.{cat}.dropout_concentration", v, se, ci, "a+b"))
    if spend is not None and spend.params["q"] > 1:
        v, se, ci = spend.derived(btyd.mean_spend)
        out.append(Mapped(f"categories.{cat}.price", v, se, ci, "Gamma-Gamma p*gamma/(q-1)"))
    bad = [m.key for m in out if not np.isfinite(m.value)]
    if bad:
        raise ValueError(f"the fit did not converge to finite values ({', '.join(bad)})")
    return out


def toml_float(v: float) -> str:
    """A float as TOML writes it (always with a point or an exponent)."""
    text = repr(float(f"{v:.6g}"))
    return text if any(c in text for c in ".en") else text + ".0"


def scenario_text(
    base: Path, out: Path, mapped: list[Mapped], header: list[str], description: str
) -> str:
    """A scenario file that extends `base` (relative to `out`'s folder where it can) with the
    mapped values, each with its 95% interval as a comment."""
    here, there = base.resolve(), out.resolve().parent
    try:
        shared = os.path.commonpath([here, there]) != here.anchor
        parent = os.path.relpath(here, there) if shared else str(here)
    except ValueError:  # another drive
        parent = str(here)
    lines = [f"# {h}" for h in header]
    lines += [f"extends = {json.dumps(parent)}", f"description = {json.dumps(description)}", ""]
    tables: dict[str, list[Mapped]] = {}
    for m in mapped:
        table, _, _ = m.key.rpartition(".")
        tables.setdefault(table, []).append(m)
    for table, items in tables.items():
        lines.append(f"[{table}]")
        for m in items:
            lo, hi = m.interval
            lines.append(
                f"{m.key.rpartition('.')[2]} = {toml_float(m.value)}  "
                f"# {m.how}; se {m.se:.3g}; 95% interval {lo:.4g} to {hi:.4g}"
            )
        lines.append("")
    return "\n".join(lines)
