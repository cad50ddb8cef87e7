"""Order logs drawn from the BG/NBD process with known parameters (for round-trip tests and
for checking what a fit recovers at a given size).

Customer i buys first on a day spread over an acquisition window; while alive it buys at
Poisson rate λ_i ~ Gamma(r, rate α) per period; after each repeat purchase it drops out with
probability p_i ~ Beta(a, b) (Fader, Hardie & Lee 2005). Values follow Gamma-Gamma: ν_i ~
Gamma(q, rate γ), each value ~ Gamma(p, rate ν_i). All draws come from the one
numpy Generator passed in, so the same seed gives the same log.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def draw_orders(
    rng: np.random.Generator,
    n: int,
    params: dict[str, float],
    spend: dict[str, float] | None = None,
    days: int = 546,
    acquisition_days: int = 84,
    unit_days: int = 7,
    start: str = "2024-01-01",
) -> pd.DataFrame:
    """An order log (customer, date, value, channel) of `n` customers over `days` days."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    spend = spend or {"p": 6.0, "q": 4.0, "gamma": 15.0}
    lam = rng.gamma(r, 1.0 / alpha, size=n) / unit_days  # per day
    drop = rng.beta(a, b, size=n)
    nu = rng.gamma(spend["q"], 1.0 / spend["gamma"], size=n)
    first = rng.integers(0, acquisition_days, size=n)
    rows_c: list[np.ndarray] = []
    rows_t: list[np.ndarray] = []
    t = first.astype(float)
    alive = np.ones(n, bool)
    rows_c.append(np.arange(n))
    rows_t.append(t.copy())
    while alive.any():
        idx = np.flatnonzero(alive)
        t[idx] += rng.exponential(1.0, size=len(idx)) / np.maximum(lam[idx], 1e-300)
        inside = t[idx] < days
        alive[idx[~inside]] = False
        idx = idx[inside]
        rows_c.append(idx)
        rows_t.append(t[idx].copy())
        alive[idx[rng.random(len(idx)) < drop[idx]]] = False
    cust = np.concatenate(rows_c)
    day = np.floor(np.concatenate(rows_t)).astype(int)
    value = rng.gamma(spend["p"], 1.0 / nu[cust])
    order = np.lexsort((day, cust))
    return pd.DataFrame(
        {
            "customer": [f"c{c:06d}" for c in cust[order]],
            "date": pd.Timestamp(start) + pd.to_timedelta(day[order], unit="D"),
            "value": value[order],
            "channel": "private",
        }
    )
