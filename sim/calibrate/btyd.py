"""Buy-till-you-die models of a customer base, fitted by maximum likelihood.

- BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way", Marketing
  Science 24(2)): while alive a customer buys at Poisson rate λ ~ Gamma(r, α); after each
  repeat purchase it drops out with probability p ~ Beta(a, b).
- MBG/NBD (Batislam, Denizel & Filiztekin 2007, IJRM 24(3)): the same, but a customer may
  also drop out right after its first purchase (at time 0).
- Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV", JMR 42(4)): the value of a
  transaction is Gamma(p, ν) with ν ~ Gamma(q, γ), independent of the transaction process.

Siyu's consumers follow both: day-0 customers drop out only after a repeat order (BG/NBD),
customers acquired in a run after every order, the first included (MBG/NBD); see docs/ODD.md.

Every formula is written once here, in the notation of those papers (x repeat transactions,
t_x the time of the last, T the time observed, all from the first purchase). Fits maximise
the log-likelihood over log parameters (scipy.optimize, L-BFGS-B then Nelder-Mead polish);
standard errors come from the inverse of a central-difference Hessian of the negative
log-likelihood in log parameters (delta method to the parameters, 95% intervals
exp(log θ ± 1.96 se) so they stay positive).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import betaln, gammaln, hyp2f1

MODELS = ("bgnbd", "mbgnbd")
"""The transaction models: BG/NBD and MBG/NBD."""
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Fit:
    """A maximum-likelihood fit: parameters by name, their standard errors and 95%
    intervals, the log-likelihood at the optimum, the number of customers, and the model."""

    model: str
    params: dict[str, float]
    se: dict[str, float]
    interval: dict[str, tuple[float, float]]
    log_likelihood: float
    n: int
    converged: bool = True
    cov_log: np.ndarray | None = field(default=None, repr=False)
    """Covariance of the log parameters (inverse Hessian), for intervals of derived values."""

    def derived(self, func, z: float = Z95) -> tuple[float, float, tuple[float, float]]:
        """A value derived from the parameters, `func(params)` > 0, its standard error and
        95% interval by the delta method on the log scale (numerical gradient in log θ)."""
        names = list(self.params)
        theta = np.log([self.params[k] for k in names])

        def g(t: np.ndarray) -> float:
            return float(np.log(func(dict(zip(names, np.exp(t), strict=True)))))

        value = float(np.exp(g(theta)))
        if self.cov_log is None or not np.all(np.isfinite(self.cov_log)):
            return value, float("nan"), (float("nan"), float("nan"))
        h = 1e-6
        grad = np.array(
            [(g(theta + h * e) - g(theta - h * e)) / (2 * h) for e in np.eye(len(theta))]
        )
        sd = float(np.sqrt(max(grad @ self.cov_log @ grad, 0.0)))
        return value, value * sd, (value * float(np.exp(-z * sd)), value * float(np.exp(z * sd)))


# ------------------------------------------------------------------ log-likelihoods


def bgnbd_ll(r, alpha, a, b, x, t_x, T) -> np.ndarray:
    """BG/NBD log-likelihood of each customer (Fader, Hardie & Lee 2005, eq. 6):
    L = B(a, b+x)/B(a, b) · Γ(r+x)α^r/(Γ(r)(α+T)^{r+x})
        + δ_{x>0} B(a+1, b+x−1)/B(a, b) · Γ(r+x)α^r/(Γ(r)(α+t_x)^{r+x})."""
    x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(
            x > 0,
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return a1 + a2 + np.logaddexp(a3, a4)


def mbgnbd_ll(r, alpha, a, b, x, t_x, T) -> np.ndarray:
    """MBG/NBD log-likelihood of each customer (Batislam et al. 2007, eq. 5):
    L = Γ(r+x)α^r/Γ(r) · [B(a, b+x+1)/B(a, b) (α+T)^{−(r+x)}
        + B(a+1, b+x)/B(a, b) (α+t_x)^{−(r+x)}]."""
    x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    alive = betaln(a, b + x + 1) - (r + x) * np.log(alpha + T)
    dropped = betaln(a + 1, b + x) - (r + x) * np.log(alpha + t_x)
    return head + np.logaddexp(alive, dropped)


def gamma_gamma_ll(p, q, gamma, x, m) -> np.ndarray:
    """Gamma-Gamma log-likelihood of a customer's mean spend m over x ≥ 1 transactions
    (Fader, Hardie & Lee 2005, "RFM and CLV", eq. 3; the Jacobian of the mean included):
    Γ(px+q)/(Γ(px)Γ(q)) · γ^q m^{px−1} x^{px} / (γ + m x)^{px+q}."""
    x, m = np.asarray(x, float), np.asarray(m, float)
    return (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(gamma)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(gamma + m * x)
    )


# ------------------------------------------------------------------ expectations


def expected_transactions(model: str, params: dict[str, float], t) -> np.ndarray:
    """E[X(t)]: expected repeat transactions of a new customer in (0, t].
    BG/NBD (FHL 2005, eq. 9): (a+b−1)/(a−1) · [1 − (α/(α+t))^r ₂F₁(r, b; a+b−1; t/(α+t))];
    MBG/NBD (Batislam et al. 2007): b/(a−1) · [1 − (α/(α+t))^r ₂F₁(r, b+1; a+b; t/(α+t))]."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    t = np.asarray(t, float)
    z = t / (alpha + t)
    lead = (alpha / (alpha + t)) ** r
    if model == "bgnbd":
        return (a + b - 1) / (a - 1) * (1 - lead * hyp2f1(r, b, a + b - 1, z))
    return b / (a - 1) * (1 - lead * hyp2f1(r, b + 1, a + b, z))


def p_alive(model: str, params: dict[str, float], x, t_x, T) -> np.ndarray:
    """P(alive at T | x, t_x, T). BG/NBD (FHL 2005, eq. 11): 1 / (1 + δ_{x>0} a/(b+x−1) ·
    ((α+T)/(α+t_x))^{r+x}); MBG/NBD: 1 / (1 + a/(b+x) · ((α+T)/(α+t_x))^{r+x})."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
    ratio = ((alpha + T) / (alpha + t_x)) ** (r + x)
    if model == "bgnbd":
        odds = np.where(x > 0, a / np.maximum(b + x - 1, 1e-300) * ratio, 0.0)
    else:
        odds = a / (b + x) * ratio
    return 1.0 / (1.0 + odds)


def conditional_expected(model: str, params: dict[str, float], t, x, t_x, T) -> np.ndarray:
    """E[Y(t) | x, t_x, T]: expected transactions in the next t of a customer with that
    history. BG/NBD (FHL 2005, eq. 10): (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^{r+x}
    ₂F₁(r+x, b+x; a+b+x−1; t/(α+T+t))] · P(alive); MBG/NBD: (a+b+x)/(a−1) · [1 −
    ((α+T)/(α+T+t))^{r+x} ₂F₁(r+x, b+x+1; a+b+x; t/(α+T+t))] · P(alive)."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    t, x, t_x, T = (np.asarray(v, float) for v in (t, x, t_x, T))
    z = t / (alpha + T + t)
    lead = ((alpha + T) / (alpha + T + t)) ** (r + x)
    if model == "bgnbd":
        body = (a + b + x - 1) / (a - 1) * (1 - lead * hyp2f1(r + x, b + x, a + b + x - 1, z))
    else:
        body = (a + b + x) / (a - 1) * (1 - lead * hyp2f1(r + x, b + x + 1, a + b + x, z))
    return body * p_alive(model, params, x, t_x, T)


def mean_spend(params: dict[str, float]) -> float:
    """Gamma-Gamma population mean value of a transaction: pγ/(q−1) (infinite for q ≤ 1)."""
    p, q, gamma = params["p"], params["q"], params["gamma"]
    return p * gamma / (q - 1) if q > 1 else float("inf")


def conditional_spend(params: dict[str, float], x, m) -> np.ndarray:
    """E[Z | x, m]: a customer's expected transaction value (FHL "RFM and CLV", eq. 5), a
    weighted mean of the population mean and its own mean m over x transactions; the
    population mean where x = 0."""
    p, q = params["p"], params["q"]
    x, m = np.asarray(x, float), np.asarray(m, float)
    w = (q - 1) / (p * x + q - 1)
    return np.where(x > 0, w * mean_spend(params) + (1 - w) * np.nan_to_num(m), mean_spend(params))


# ------------------------------------------------------------------ fitting


def hessian(f, theta: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian of a scalar function at `theta`."""
    k = len(theta)
    h = np.empty((k, k))
    e = np.eye(k) * step
    f0 = f(theta)
    for i in range(k):
        for j in range(i, k):
            if i == j:
                v = (f(theta + e[i]) - 2 * f0 + f(theta - e[i])) / step**2
            else:
                v = (
                    f(theta + e[i] + e[j])
                    - f(theta + e[i] - e[j])
                    - f(theta - e[i] + e[j])
                    + f(theta - e[i] - e[j])
                ) / (4 * step**2)
            h[i, j] = h[j, i] = v
    return h


def _maximise(names, nll, start, n: int, model: str) -> Fit:
    """Minimise a negative log-likelihood over log parameters; errors from its Hessian."""
    from scipy import optimize  # here, not at import: every `siyu run` imports this module

    best = optimize.minimize(nll, np.log(start), method="L-BFGS-B")
    polish = optimize.minimize(
        nll, best.x, method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-8, "maxiter": 4000}
    )
    res = polish if polish.fun <= best.fun else best
    theta = res.x
    try:
        cov = np.linalg.inv(hessian(nll, theta))
        se_log = np.sqrt(np.clip(np.diag(cov), 0, None))
        if not np.all(np.isfinite(se_log)) or np.any(np.diag(cov) < 0):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        se_log = np.full(len(theta), np.nan)
        cov = None
    values = np.exp(theta)
    return Fit(
        model=model,
        params={k: float(v) for k, v in zip(names, values, strict=True)},
        se={k: float(v * s) for k, v, s in zip(names, values, se_log, strict=True)},
        interval={
            k: (float(np.exp(t - Z95 * s)), float(np.exp(t + Z95 * s)))
            for k, t, s in zip(names, theta, se_log, strict=True)
        },
        log_likelihood=float(-res.fun),
        n=n,
        converged=bool(np.isfinite(res.fun)),
        cov_log=cov,
    )


def fit_transactions(x, t_x, T, model: str = "bgnbd") -> Fit:
    """Fit BG/NBD or MBG/NBD (r, alpha, a, b) to per-customer (x, t_x, T)."""
    if model not in MODELS:
        raise ValueError(f"model: {model!r} is not one of {', '.join(MODELS)}")
    x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
    if len(x) < 4 or not np.any(x > 0):
        raise ValueError("too few customers or no repeat purchases to fit the model")
    ll = bgnbd_ll if model == "bgnbd" else mbgnbd_ll

    def nll(theta: np.ndarray) -> float:
        r, alpha, a, b = np.exp(np.clip(theta, -30, 30))
        v = -float(np.sum(ll(r, alpha, a, b, x, t_x, T)))
        return v if np.isfinite(v) else 1e300

    start = np.array([1.0, max(float(np.mean(T)), 1e-3), 1.0, 1.0])
    return _maximise(("r", "alpha", "a", "b"), nll, start, len(x), model)


def fit_gamma_gamma(x, m) -> Fit:
    """Fit Gamma-Gamma (p, q, gamma) to customers with x ≥ 1 repeat transactions of mean
    value m > 0 (others are left out, as in FHL's "RFM and CLV")."""
    x, m = np.asarray(x, float), np.asarray(m, float)
    keep = (x > 0) & np.isfinite(m) & (m > 0)
    x, m = x[keep], m[keep]
    if len(x) < 4:
        raise ValueError("too few customers with repeat purchases to fit Gamma-Gamma")

    def nll(theta: np.ndarray) -> float:
        p, q, gamma = np.exp(np.clip(theta, -30, 30))
        v = -float(np.sum(gamma_gamma_ll(p, q, gamma, x, m)))
        return v if np.isfinite(v) else 1e300

    start = np.array([1.0, 2.0, float(np.mean(m))])
    return _maximise(("p", "q", "gamma"), nll, start, len(x), "gamma_gamma")
