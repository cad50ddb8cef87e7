"""The synthetic round trip: a scenario with known population and category parameters is run
with events, its brand's order log (`sim.calibrate.roundtrip.order_log`) calibrated
(`sim.calibrate.report.calibrate`, MBG/NBD: customers acquired in a run may drop out after
their first order) and the mapped values set beside the true ones. docs/ODD.md (section
7.12) quotes what it recovers and what the choice and the acquisition bias.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.calibrate.report import calibrate
from sim.calibrate.roundtrip import run_log
from sim.params import Scenario


@dataclass(frozen=True)
class Recovery:
    """A synthetic round trip: per scenario key, the true value, the estimate and its 95%
    interval; the customers the fit saw, and the consumers simulated."""

    table: pd.DataFrame
    customers: int
    consumers: int


def synthetic(
    sc: Scenario,
    brand: str,
    seed: int,
    calibration_weeks: int = 39,
    model: str = "mbgnbd",
    spells: bool = True,
) -> Recovery:
    """Run `sc` with events, calibrate its brand's order log (with `spells`, each acquisition
    a customer: `order_log`) back onto `sc` and set each mapped key's estimate beside its
    true value (`sc`'s)."""
    log = run_log(sc, brand, seed, spells=spells)
    with tempfile.TemporaryDirectory(prefix="siyu-roundtrip-") as tmp:
        path = Path(tmp) / "orders.parquet"
        log.to_parquet(path)
        cal, _ = calibrate(path, "parquet", str(calibration_weeks), sc, brand, model)
    flat = sc.model_dump()
    rows = []
    for m in cal.mapped:
        true = flat
        for part in m.key.split("."):
            true = true[part]
        lo, hi = m.interval
        rows.append((m.key, float(true), m.value, lo, hi, m.value / float(true) - 1))
    table = pd.DataFrame(rows, columns=["key", "true", "estimate", "low", "high", "bias"])
    table["covered"] = (table["low"] <= table["true"]) & (table["true"] <= table["high"])
    return Recovery(table, cal.transactions.n, sc.run.consumers)
