"""Parameter draws from a calibration's sampling distribution: uncertainty carried forward.

A calibration (`siyu calibrate`, its `fit.json`) fixes the scenario keys it maps at their
maximum-likelihood values; the data only pin them down to an interval. To carry that
uncertainty into a strategy's effect, each replicate pair of `siyu run` / `siyu compare`
(`--calibration fit.json --parameter-draws K`) runs with one draw of the fitted parameters:

- the log parameters of each fit (BG/NBD or MBG/NBD; Gamma-Gamma) are drawn from the normal
  approximation of the MLE, N(log θ̂, Σ) with Σ the inverse Hessian of the negative
  log-likelihood in log θ (`fit.json` `cov_log`; a file without it falls back to the diagonal
  from the standard errors, (se/θ̂)², ignoring correlations);
- each mapped scenario key is scaled by the ratio its parameter function takes at the draw
  and at the estimate (`sim.calibrate.mapping.TRANSACTION_KEYS`, `SPEND_KEYS`): the constant
  factors of the mapping (periods a year, need share, the simulation-based adjustment)
  cancel, so the draw is centred on the calibrated value whatever they were;
- a key set by the simulation-based calibration (`fit.json` `sbc`, `sim.calibrate.sbc`) is
  drawn instead from a normal on its log scale with the bootstrap's standard error
  (sd = se/value; a probability on its logit scale, sd = se/(v(1−v)), so it stays within
  0–1), independently of the others.

Draw k comes from its own generator, `SeedSequence(seed_k, spawn_key=(DRAWS,))`, with seed_k
the seed of replicate k: the scenario and its twin share it (they share the seed), and the
same seed gives the same draws.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.calibrate import mapping

DRAWS = 7
"""Spawn key of the draws' generator (apart from every run stream, `sim.streams`)."""


@dataclass(frozen=True)
class FitDistribution:
    """One fit's sampling distribution: parameter names, estimates, covariance of the logs."""

    names: list[str]
    estimate: np.ndarray
    cov_log: np.ndarray
    keys: dict[str, float]
    """Scenario keys this fit sets → calibrated value."""
    functions: dict[str, object]
    """Scenario key → the parameter function it is proportional to."""
    logit: bool = False
    """Draw on the logit scale instead of the log scale (a probability: stays within 0-1)."""


@dataclass(frozen=True)
class CalibrationDraws:
    """What a calibration lets a run draw: one distribution per fit, and the file."""

    path: Path
    fits: list[FitDistribution]

    def keys(self) -> list[str]:
        """Every scenario key the draws set."""
        return [k for f in self.fits for k in f.keys]

    def draw(self, seed: int) -> dict[str, float]:
        """One draw of every key (scenario key → value) for the replicate with `seed`."""
        rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(DRAWS,)))
        out: dict[str, float] = {}
        for f in self.fits:
            if f.logit:
                z = rng.multivariate_normal(logit(f.estimate), f.cov_log, method="cholesky")
                at = dict(zip(f.names, 1 / (1 + np.exp(-z)), strict=True))
            else:
                z = rng.multivariate_normal(np.log(f.estimate), f.cov_log, method="cholesky")
                at = dict(zip(f.names, np.exp(z), strict=True))
            hat = dict(zip(f.names, f.estimate, strict=True))
            for key, value in f.keys.items():
                fn = f.functions[key]
                out[key] = float(value * fn(at) / fn(hat))  # type: ignore[operator]
        return out

    def draws(self, seeds: list[int]) -> list[dict[str, float]]:
        """One draw per replicate seed."""
        return [self.draw(s) for s in seeds]


PROBABILITIES = ("dropout_mean",)
"""Last parts of keys that are probabilities: a simulation-based one is drawn on the logit
scale (sd = se / (v (1 − v))), so that no draw leaves 0–1."""


def logit(p: np.ndarray) -> np.ndarray:
    """log(p / (1 − p))."""
    return np.log(p) - np.log1p(-p)


class DrawsError(ValueError):
    """A calibration file that cannot be drawn from (one line)."""


def _fit(path: Path, name: str, block: dict, scenario: dict, table: dict) -> FitDistribution:
    names = list(block["params"])
    est = np.array([float(block["params"][k]) for k in names])
    if not np.all(np.isfinite(est) & (est > 0)):
        raise DrawsError(f"{path}: {name}.params: every parameter must be positive")
    cov = block.get("cov_log")
    if cov is not None:
        cov = np.array(cov, dtype=float)
    else:
        se = np.array([float(block["se"][k]) for k in names], dtype=float)
        cov = np.diag((se / est) ** 2)
    if cov.shape != (len(names), len(names)) or not np.all(np.isfinite(cov)):
        raise DrawsError(f"{path}: {name}: no finite covariance or standard errors to draw from")
    cov = (cov + cov.T) / 2
    try:
        np.linalg.cholesky(cov + 1e-12 * np.eye(len(names)))
    except np.linalg.LinAlgError:
        raise DrawsError(f"{path}: {name}.cov_log: not positive definite") from None
    keys, functions = {}, {}
    for key, rec in scenario.items():
        fn = table.get(key.rpartition(".")[2])
        if fn is not None:
            keys[key] = float(rec["value"])
            functions[key] = fn
    return FitDistribution(names, est, cov + 1e-12 * np.eye(len(names)), keys, functions)


def load(path: str | Path) -> CalibrationDraws:
    """The draws a calibration's `fit.json` allows; DrawsError (one line) if it is not one."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DrawsError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise DrawsError(f"{path}: not JSON: {exc.msg} (line {exc.lineno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("scenario"), dict):
        raise DrawsError(f"{path}: not a calibration's fit.json (no 'scenario' table)")
    fits = []
    try:
        for name, table in (
            ("transactions", mapping.TRANSACTION_KEYS),
            ("spend", mapping.SPEND_KEYS),
        ):
            if data.get(name):
                fits.append(_fit(path, name, data[name], data["scenario"], table))
    except DrawsError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise DrawsError(
            f"{path}: not a calibration's fit.json ({type(exc).__name__}: {exc})"
        ) from None
    found = data.get("sbc")
    if found:  # keys set by the simulation-based calibration: drawn from their bootstrap
        for key, value in found["best"].items():
            value, se = float(value), float(found["se"][key])
            prob = key.rpartition(".")[2] in PROBABILITIES
            if not (np.isfinite(se) and value > 0 and (value < 1 or not prob)):
                raise DrawsError(f"{path}: sbc.{key}: no finite value and se to draw from")
            for f in fits:
                f.keys.pop(key, None)
                f.functions.pop(key, None)
            sd = se / (value * (1 - value)) if prob else se / value
            fits.append(
                FitDistribution(
                    [key],
                    np.array([value]),
                    np.array([[sd**2 + 1e-12]]),
                    {key: value},
                    {key: lambda p, key=key: p[key]},
                    logit=prob,
                )
            )
    fits = [f for f in fits if f.keys]
    if not fits:
        raise DrawsError(f"{path}: sets no scenario key to draw")
    return CalibrationDraws(path, fits)


def check_scenario(cd: CalibrationDraws, sc) -> None:
    """DrawsError unless every key the draws set is a key of the scenario."""
    try:
        sc.changed({k: v for f in cd.fits for k, v in f.keys.items()})
    except (KeyError, ValueError) as exc:
        raise DrawsError(f"{cd.path}: does not fit the scenario: {exc}") from None


def describe(cd: CalibrationDraws | None, k: int = 0) -> str:
    """What an effect's interval carries (one sentence)."""
    if cd is None or k == 0:
        return "stochastic noise only (the calibrated parameters fixed at their estimates)"
    return (
        f"stochastic noise and parameter uncertainty: each pair one of {k} draws of "
        f"{', '.join(cd.keys())} from {cd.path} (normal on the log scale of the MLE)"
    )


def per_replicate(cd: CalibrationDraws, seeds: list[int], k: int) -> list[dict[str, float]]:
    """The draws of replicates with `seeds` when `k` draws are asked for: replicate i gets
    draw i mod k, the draw made from the seed of replicate i mod k (k ≥ the replicates:
    every pair its own draw)."""
    if k < 1:
        raise ValueError(f"--parameter-draws: must be at least 1 (got {k})")
    first = cd.draws(seeds[: min(k, len(seeds))])
    return [first[i % len(first)] for i in range(len(seeds))]
