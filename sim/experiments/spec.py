"""Experiment files: schema, loading and validation before any run.

An experiment file is TOML, read as data:

    name = "where_private_pays"
    description = "..."
    base = "beauty_guides"            # a scenario file (relative to this file) or shipped name
    design = "grid"                   # grid | lhs | sobol | morris
    samples = 16                      # lhs: points; sobol: base samples N; morris: trajectories
    replicates = 2
    days = 365                        # run.days of every run (optional)
    consumers = 600                   # scale the market to this population (optional)
    seed = 1                          # root of every run's SeedSequence
    engine = "fast"                   # fast (default) | agents (the Mesa reference engine)
    counterfactual = "no_private_ops" # also run each run's twin, same seed (optional)
    metrics = ["brands.brand.roi_private", "brands.brand.incremental.contribution"]
    paths = ["market.private_share"]  # per-run KPI time series kept (optional)
    path_window = 30                  # days per window of the paths and days_to metrics

    [set]                             # fixed overrides, dotted keys
    "brands.brand.strategy.tooling_per_day" = 50.0

    [factors]                         # dotted scenario keys ('*' = every brand / category)
    "categories.beauty.purchases_per_year" = [2.0, 4.0, 8.0]
    "brands.brand.strategy.private_discount" = { range = [0.0, 0.2], steps = 5 }
    "brands.brand.strategy.guide_regime" = { values = ["quality", "quota"] }

    [factors."brands.brand.strategy"]     # a bundle: each level a table of keys set together
    labels = ["guides", "groups"]         # (labels needed: they name the levels)
    values = [{ guides_per_store = 0.5 }, { package_card_channel = "group" }]

    [analysis]
    heatmaps = [{ x = "...", y = "...", metric = "brands.brand.roi_private" }]
    maps = [{ rows = "...", cols = "...", choice = "brands.brand.strategy", metric = "..." }]
    discover = [{ metric = "market.private_share", between = [0.4, 0.5] }]  # PRIM boxes

Every problem is a `ScenarioError` whose text is one line `FILE: KEY: message`. Each factor
is checked by loading the base scenario with the factor at each of its values (a range: at
both bounds), so a bad key or an out-of-range value fails before any run starts. Types are
strict and numbers finite, as in scenario files. A sweep may have at most `MAX_RUNS` runs
(design points times replicates), counted before any design is built; SIYU_ALLOW_LARGE=1
lifts the limit.

A factor level that is a table sets each of its keys under the factor's key together and
leaves every other key at the base's value (a strategy archetype as one level); an error in
one names the level by its label. `maps` draw which level of a choice factor pays best in
each cell of two others (`sim.experiments.strategy_map`). `discover` finds, by PRIM, the box
of factor space where runs meet a target (`above`, `below` or `between` on one of the
metrics; `sim.experiments.discovery`), in any design; the factors are the experiment's.

`counterfactual` (a name `siyu run --counterfactual` takes: `no_private_ops`, `NAME@BRAND`, one
the base declares) makes every run a pair: the run and its counterfactual twin with the same
seed (common random numbers). Metrics may then name the pair's incremental KPIs
(`sim.effects.METRICS`, docs/KPIS.md section 8) under `incremental.`:
`brands.brand.incremental.contribution`, `market.incremental.incremental_roi`: effects, where
the other KPIs are attributions.

`paths` keeps, for every run, time series of KPIs over windows of `path_window` days
(`sim.kpis.periodic`; `market.KPI` or `brands.NAME.KPI`, NAME may be '*'), and a metric
`market.days_to.KPI.THRESHOLD` is the days until a window's KPI first reaches THRESHOLD
(NaN if never): see `sim.experiments.paths`.

`consumers` runs the base's market at another population, as `siyu run --consumers` does
(`sim.scaling.scale_market`): every number of the experiment (its `set`, its factor levels)
describes the base scenario's own population, and each run's extensive quantities (stores,
store visits, budgets, tooling, nodes, reference ad demand) are then scaled with it, so the
market per consumer is the one the files name. To change the population alone, put
`run.consumers` in `[set]` instead.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from sim.experiments.paths import DAYS_TO, parse_days_to, path_kpi_names
from sim.params import ALLOW_LARGE_ENV, HARD_LIMIT, Capped, allow_large
from sim.scaling import scale_market, thin_staff
from sim.scenario import (
    SCENARIO_DIR,
    Override,
    ScenarioError,
    check_depth,
    check_file_name,
    did_you_mean,
    load_scenario,
    read_toml_file,
    resolve_path,
)

EXPERIMENT_DIR = Path(__file__).resolve().parent.parent.parent / "experiments"
FACTOR_SPEC_KEYS = frozenset({"values", "range", "steps", "integer", "labels"})
MARKET = "market"
WILDCARD_TABLES = ("brands", "categories")
SET_SOURCE = "<experiment set>"
FACTOR_SOURCE = "<experiment factor>"
CONSUMERS_SOURCE = "<consumers>"
MAX_RUNS = 1_000_000
"""Most runs (design points x replicates) a sweep may have unless SIYU_ALLOW_LARGE=1."""
MAX_RESAMPLES = 100_000
"""Most bootstrap resamples of the sensitivity analysis unless SIYU_ALLOW_LARGE=1."""

Pair = Annotated[
    list[float],
    Field(min_length=2, max_length=2),
    BeforeValidator(lambda v: list(v) if isinstance(v, tuple) else v),
]
"""[low, high]: two finite numbers (a TOML array; a tuple from Python is fine too)."""


class _Strict(BaseModel):
    """Unknown keys are errors; no string is read as a number or flag; numbers are finite."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class Factor(_Strict):
    """One varied scenario key: a list of values (any TOML values), or a numeric range."""

    values: list[Any] | None = None
    range: Pair | None = None
    steps: Annotated[int, Field(ge=2)] | None = None
    integer: bool = False
    labels: list[str] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Factor:
        if (self.values is None) == (self.range is None):
            raise ValueError("give either values = [...] or range = [low, high]")
        if self.values is not None:
            if not self.values:
                raise ValueError("values: at least one value is needed")
            if self.steps is not None or self.integer:
                raise ValueError("steps and integer go with a range, not with values")
            if self.labels is not None and len(self.labels) != len(self.values):
                raise ValueError("labels: one label per value is needed")
            if self.labels is None and any(isinstance(v, Mapping) for v in self.values):
                raise ValueError(
                    "a level that is a table (a bundle of keys set together) needs "
                    "labels = [...], one name per level"
                )
            if self.labels is not None and len(set(self.labels)) != len(self.labels):
                raise ValueError("labels: each level needs its own label")
        if self.range is not None:
            lo, hi = self.range
            if lo >= hi:
                raise ValueError(f"range: low must be below high (got [{lo:g}, {hi:g}])")
            if not math.isfinite(hi - lo):
                raise ValueError(f"range: too wide to divide (got [{lo:g}, {hi:g}])")
            if self.labels is not None:
                raise ValueError("labels go with values, not with a range")
        return self

    @property
    def kind(self) -> str:
        """'choice' (a list of values), 'int' or 'float' (a range)."""
        if self.values is not None:
            return "choice"
        return "int" if self.integer else "float"

    def grid_levels(self) -> list[Any]:
        """The values a grid visits (a range needs `steps`)."""
        if self.values is not None:
            return list(self.values)
        assert self.range is not None and self.steps is not None
        return self._cast(np.linspace(self.range[0], self.range[1], self.steps), unique=True)

    def check_values(self) -> list[Any]:
        """The values checked against the scenario before any run: all values, or both bounds."""
        if self.values is not None:
            return list(self.values)
        assert self.range is not None
        return self._cast(np.asarray(self.range, dtype=float), unique=True)

    def from_unit(self, u: np.ndarray) -> list[Any]:
        """Map points of [0, 1] to values: a range linearly, a list by equal-width bins."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        if self.values is not None:
            idx = np.minimum((u * len(self.values)).astype(int), len(self.values) - 1)
            return [self.values[i] for i in idx]
        assert self.range is not None
        lo, hi = self.range
        return self._cast(lo + u * (hi - lo))

    def _cast(self, x: np.ndarray, unique: bool = False) -> list[Any]:
        vals = [int(v) for v in np.rint(x)] if self.integer else [float(round(v, 12)) for v in x]
        if unique:
            vals = list(dict.fromkeys(vals))
        return vals

    def label(self, value: Any) -> str:
        """A short text for a value (plots, tables)."""
        if self.values is not None and self.labels is not None:
            for v, lab in zip(self.values, self.labels, strict=True):
                if v == value:
                    return lab
        if isinstance(value, float):
            return f"{value:g}"
        if isinstance(value, str | int | bool):
            return str(value)
        return json.dumps(value, separators=(",", ":"))

    def is_scalar(self) -> bool:
        return self.values is None or all(
            isinstance(v, bool | int | float | str) for v in self.values
        )


class Heatmap(_Strict):
    x: str
    y: str
    metric: str
    facet: str | None = None
    band: Pair | None = None
    """A target range of the metric (e.g. [0.4, 0.5]): the report lists the points in it."""

    @model_validator(mode="after")
    def _band(self) -> Heatmap:
        if self.band is not None and self.band[0] > self.band[1]:
            raise ValueError("band: low must not exceed high")
        return self


class StrategyMap(_Strict):
    """A strategy map (`sim.experiments.strategy_map`): in each cell of rows x cols, the level
    of `choice` with the best mean `metric`, with intervals."""

    rows: str
    cols: str
    choice: str
    metric: str


class Discover(_Strict):
    """A target for scenario discovery (`sim.experiments.discovery`): PRIM finds the box of
    factor space where runs meet it. Give one of `above` (at least), `below` (at most) or
    `between` (within, bounds included)."""

    metric: str
    above: float | None = None
    below: float | None = None
    between: Pair | None = None
    coverage: Annotated[float, Field(gt=0.0, le=1.0)] = 0.5
    """The reported box keeps at least this share of the runs meeting the target."""

    @model_validator(mode="after")
    def _one_condition(self) -> Discover:
        given = [k for k in ("above", "below", "between") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give one condition: above = X, below = X or between = [low, high]"
                + (f" (got {' and '.join(given)})" if given else "")
            )
        if self.between is not None and self.between[0] > self.between[1]:
            raise ValueError("between: low must not exceed high")
        return self


class Analysis(_Strict):
    heatmaps: list[Heatmap] = []
    maps: list[StrategyMap] = []
    discover: list[Discover] = []
    responses: bool = True
    conf_level: Annotated[float, Field(gt=0.5, lt=1.0)] = 0.95
    resamples: Annotated[int, Field(ge=100), Capped(MAX_RESAMPLES, "resamples")] = 1000


class Experiment(_Strict):
    """A validated experiment: what `siyu sweep` needs, nothing more."""

    name: Annotated[str, Field(pattern=r"^\w[\w.-]*$", max_length=100)] = "experiment"
    """Also the results folder's name: letters, digits, _ . and - only."""
    description: str = ""
    question: str = ""
    base: str
    design: Literal["grid", "lhs", "sobol", "morris"] = "grid"
    samples: Annotated[int, Field(ge=1)] | None = None
    levels: Annotated[int, Field(ge=2, le=HARD_LIMIT)] = 4
    replicates: Annotated[int, Field(ge=1)] = 1
    days: Annotated[int, Field(ge=1)] | None = None
    consumers: Annotated[int, Field(ge=1)] | None = None
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    engine: Literal["fast", "agents"] = "fast"
    counterfactual: str | None = None
    """Run each run's counterfactual twin too (same seed), for `incremental.` metrics."""
    set: dict[str, Any] = {}
    factors: dict[str, Factor]
    metrics: Annotated[list[str], Field(min_length=1)]
    paths: list[str] = []
    """KPI time series kept per run (`sim.experiments.paths`): `market.KPI`, `brands.NAME.KPI`."""
    path_window: Annotated[int, Field(ge=1)] = 30
    """Days per window of the paths and of `days_to` metrics."""
    analysis: Analysis = Analysis()

    # resolved by load_experiment (not read from the file)
    file: str = Field("", exclude=True)
    base_path: str = Field("", exclude=True)

    def fixed_overrides(self) -> dict[str, Any]:
        """Overrides every run gets: `set` plus days, and the base market scaled to
        `consumers` (see `scaled`)."""
        out = dict(self.set)
        if self.days is not None:
            out["run.days"] = self.days
        return self.scaled(out)

    def run_overrides(self, point: Mapping[str, Any]) -> dict[str, Any]:
        """The overrides of one design point (factor keys with '*' expanded), the market
        scaled to `consumers` after the factors are set (a factor's levels are in the base
        population's units, as every number of the experiment)."""
        out = dict(self.set)
        if self.days is not None:
            out["run.days"] = self.days
        for key, value in point.items():
            for k in expand_key(key, self.base_path):
                out[k] = value
        return self.scaled(out)

    def scaled(self, overrides: dict[str, Any]) -> dict[str, Any]:
        """`overrides` plus what scales the base scenario (with them) to `consumers`
        people: run.consumers and every extensive quantity's scaled value
        (`sim.scaling.scale_market`). Unchanged without `consumers`."""
        if self.consumers is None:
            return overrides
        sc = load_scenario(self.base_path, overrides)
        _, changes = scale_market(sc, self.consumers, source=CONSUMERS_SOURCE)
        return {
            **overrides,
            "run.consumers": self.consumers,
            **{c.key: c.after for c in changes},
        }

    def population_note(self) -> str:
        """The population the runs have and how it relates to the base, for the report."""
        base = dict(self.set)
        if self.days is not None:
            base["run.days"] = self.days
        own = load_scenario(self.base_path).run.consumers
        sc = load_scenario(self.base_path, base)
        if self.consumers is None:
            if sc.run.consumers == own:
                return f"{own:,} consumers (the base's own market)"
            return (
                f"{sc.run.consumers:,} consumers (run.consumers set: the base's {own:,} "
                "changed alone, a denser or thinner market)"
            )
        scaled, changes = scale_market(sc, self.consumers, source=CONSUMERS_SOURCE)
        if not changes:
            return f"{self.consumers:,} consumers (the base's own market)"
        keys = ", ".join(dict.fromkeys(c.key.rsplit(".", 1)[-1] for c in changes))
        factor = self.consumers / sc.run.consumers
        thin = thin_staff(scaled)
        return (
            f"{self.consumers:,} consumers: the base's market scaled ×{factor:.4g} from its "
            f"{sc.run.consumers:,} (extensive quantities scaled with it: {keys}; `set` values "
            "and factor levels are per the base's population and scaled too)"
            + (f"; note: {'; '.join(thin)}" if thin else "")
        )

    def uses_paths(self) -> bool:
        """Whether runs compute paths: kept ones, or windows a `days_to` metric reads."""
        return bool(self.paths) or any(is_days_to(m) for m in self.metrics)

    def digest(self) -> str:
        """A hash of the experiment and the resolved base scenario: a resumed sweep must match.
        Without paths the path keys are left out, and without discovery targets the empty
        `analysis.discover`, so stores written before they existed still resume."""
        base = load_scenario(self.base_path, self.fixed_overrides()).model_dump(mode="json")
        data = self.model_dump(mode="json")
        if not self.uses_paths():
            data.pop("paths")
            data.pop("path_window")
        if not self.analysis.discover:
            data["analysis"].pop("discover")
        text = json.dumps(
            {"experiment": data, "base": base},
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- helpers


def _flatten_factors(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """[factors] may use quoted dotted keys or nested tables; a table holding factor spec keys
    (values, range …) is a factor, any other table is a level of the key path."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and not (set(value) & FACTOR_SPEC_KEYS):
            out.update(_flatten_factors(value, path))
        elif isinstance(value, list):
            out[path] = {"values": value}
        else:
            out[path] = value
    return out


def _flatten_set(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            out.update(_flatten_set(value, path))
        else:
            out[path] = value
    return out


def _base_names(base_path: str, table: str) -> list[str]:
    sc = load_scenario(base_path)
    return list(getattr(sc, table))


def expand_key(key: str, base_path: str) -> list[str]:
    """`brands.*.strategy.x` -> one key per brand of the base scenario."""
    parts = key.split(".")
    if len(parts) >= 2 and parts[1] == "*" and parts[0] in WILDCARD_TABLES:
        rest = ".".join(parts[2:])
        return [
            f"{parts[0]}.{name}" + (f".{rest}" if rest else "")
            for name in _base_names(base_path, parts[0])
        ]
    return [key]


def resolve_base(base: str, file: Path) -> Path:
    """The base scenario: a path relative to the experiment file, or a shipped name."""
    check_file_name(file.parent / base, file, "base")
    for candidate in (file.parent / base, Path(base)):
        if candidate.is_file():
            return candidate
        if not candidate.suffix and candidate.with_suffix(".toml").is_file():
            return candidate.with_suffix(".toml")
    return resolve_path(base)  # shipped name, or ScenarioError


def resolve_experiment_path(name: str | Path) -> Path:
    """An experiment path, or a shipped experiment's name (`fission_reward`)."""
    check_file_name(name)
    path = Path(name)
    if path.is_file():
        return path
    if str(name) and path.name == str(name):
        for candidate in (EXPERIMENT_DIR / f"{name}.toml", EXPERIMENT_DIR / str(name)):
            if candidate.is_file():
                return candidate
    if path.is_dir():
        raise ScenarioError(name, None, "is a folder, not an experiment file")
    hint = did_you_mean(path.stem, [p.stem for p in shipped_experiments()])
    raise ScenarioError(name, None, f"no such file (and no shipped experiment of that name){hint}")


def shipped_experiments() -> list[Path]:
    return sorted(p for p in EXPERIMENT_DIR.glob("*.toml") if not p.name.startswith("_"))


def _explain(err: Mapping[str, Any]) -> tuple[str, str]:
    loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
    # factor keys are dotted themselves: keep them whole
    key = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in loc)
    key = key.replace(".[", "[")
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        fields: list[str] = []
        if len(loc) == 1:
            fields = list(Experiment.model_fields)
        elif loc[0] == "factors":
            fields = list(Factor.model_fields)
        elif loc[0] == "analysis":
            inners = {"maps": StrategyMap, "discover": Discover}
            inner = inners.get(str(loc[1]), Heatmap) if len(loc) > 1 else Heatmap
            fields = list(Analysis.model_fields if len(loc) == 2 else inner.model_fields)
        fields = [f for f in fields if f not in ("file", "base_path")]
        msg = "unknown key" + did_you_mean(str(loc[-1]), fields)
    elif loc[0] == "factors" and len(loc) == 2 and err["type"] == "model_type":
        msg = f"a factor needs values = [...] or range = [low, high] (got {err['input']!r})"
    elif "input" in err and err["type"] != "missing" and not isinstance(err["input"], dict):
        text = repr(err["input"])
        msg += f" (got {text if len(text) < 60 else text[:59] + '…'})"
    return key or "(top level)", msg


# --------------------------------------------------------------------------- KPI names


def flat_kpis(kpis: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested dict as dotted names: a run's KPIs (`ltv90.all`, the names metrics use), or a
    dumped scenario's parameters (`brands.brand.stores`)."""
    out: dict[str, Any] = {}
    for key, value in kpis.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            out.update(flat_kpis(value, name))
        else:
            out[name] = value
    return out


@lru_cache(maxsize=8)
def _probe(base_path: str) -> tuple[tuple[str, ...], ...]:
    """(brand KPI names, market KPI names, brand names, path KPI names) of a base scenario,
    from one two-day run of 50 consumers (names do not depend on the numbers)."""
    from sim.runner import run

    sc = load_scenario(base_path, {"run.days": 2, "run.consumers": 50})
    result = run(sc, 0)
    kpis = result.summary["kpis"]
    brand_names = tuple(kpis["brands"])
    first = next(iter(kpis["brands"].values()))
    paths = path_kpi_names(result.ledger)
    return tuple(flat_kpis(first)), tuple(flat_kpis(kpis["market"])), brand_names, paths


def kpi_names(base_path: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(brand KPI names, market KPI names, brand names) that `summarize` gives for a base
    scenario, from a two-day run of 50 consumers (names do not depend on the numbers)."""
    return _probe(base_path)[:3]


def path_names(base_path: str) -> tuple[str, ...]:
    """The KPIs a path (or a `days_to` metric) may follow: `sim.kpis.periodic`'s columns."""
    return _probe(base_path)[3]


def is_days_to(metric: str) -> bool:
    """A time-to-threshold metric: `market.days_to.KPI.THRESHOLD`, `brands.NAME.days_to...`."""
    try:
        _, name = parse_metric(metric, ())
    except ValueError:
        return False
    return name.startswith(DAYS_TO)


def parse_metric(metric: str, brands: tuple[str, ...]) -> tuple[str, str]:
    """`market.roi_total` -> ('market', 'roi_total'); `brands.NAME.kpi` -> (NAME, 'kpi');
    `brands.*.kpi` -> ('*', 'kpi')."""
    parts = metric.split(".")
    if parts[0] == MARKET and len(parts) >= 2:
        return MARKET, ".".join(parts[1:])
    if parts[0] == "brands" and len(parts) >= 3:
        return parts[1], ".".join(parts[2:])
    raise ValueError("expected market.KPI or brands.NAME.KPI (NAME may be '*')")


INCREMENTAL = "incremental."
"""Prefix of the incremental KPIs a sweep with a `counterfactual` records (`with_effects`)."""


def with_effects(kpis: Mapping[str, Any], effects: Mapping[str, Mapping[str, Any]]) -> dict:
    """A run's KPIs with its pair's incremental KPIs (`sim.effects.incremental`) added under
    `incremental` for each brand and the market, so metrics can name them."""
    out = {"market": {**kpis["market"], "incremental": dict(effects.get(MARKET, {}))}}
    out["brands"] = {
        b: {**k, "incremental": dict(effects.get(b, {}))} for b, k in kpis["brands"].items()
    }
    return out


def metric_values(kpis: Mapping[str, Any], metrics: list[str]) -> list[tuple[str, str, float]]:
    """(brand or 'market', KPI name, value) for each kept metric; an undefined KPI is NaN."""
    rows: list[tuple[str, str, float]] = []
    market = flat_kpis(kpis["market"])
    brands = {name: flat_kpis(k) for name, k in kpis["brands"].items()}
    for metric in metrics:
        who, name = parse_metric(metric, tuple(brands))
        targets = [MARKET] if who == MARKET else (list(brands) if who == "*" else [who])
        for t in targets:
            value = (market if t == MARKET else brands[t]).get(name)
            rows.append((t, name, float("nan") if value is None else float(value)))
    return rows


# --------------------------------------------------------------------------- loading


def _check_scenario(
    exp: Experiment, file: str, overrides: dict[str, Any], key: str, level: str = ""
) -> None:
    """Load the base with `set`, days and `overrides` (one factor at one level, whose label
    `level` names it in errors instead of its value); raise one line FILE: KEY: message."""
    items = [Override(SET_SOURCE, tuple(k.split(".")), v) for k, v in exp.set.items()]
    if exp.days is not None:
        items.append(Override("<days>", ("run", "days"), exp.days))
    items += [Override(FACTOR_SOURCE, tuple(k.split(".")), v) for k, v in overrides.items()]
    try:
        sc = load_scenario(exp.base_path, items)
        if exp.consumers is not None:
            scale_market(sc, exp.consumers, source=CONSUMERS_SOURCE)
    except ScenarioError as exc:
        if exc.file == CONSUMERS_SOURCE:
            where = "" if exc.key == "run.consumers" else f"scaled, {exc.key}: "
            if overrides and where:  # a factor level that the scaling pushes out of range
                shown = level or f"value {next(iter(overrides.values()))!r}"
                raise ScenarioError(file, key, f"{shown}: {where}{exc.message}") from None
            raise ScenarioError(file, "consumers", where + exc.message) from None
        if exc.file == SET_SOURCE:
            raise ScenarioError(file, f"set.{exc.key}", exc.message) from None
        if exc.file == FACTOR_SOURCE:
            shown = level or f"value {next(iter(overrides.values()))!r}"
            detail = exc.message if exc.key in overrides else f"{exc.key}: {exc.message}"
            raise ScenarioError(file, key, f"{shown}: {detail}") from None
        if exc.file.startswith("<"):
            raise ScenarioError(file, exc.file.strip("<>"), exc.message) from None
        where = f"{exc.file}: {exc.key}: " if exc.key else f"{exc.file}: "
        raise ScenarioError(file, "base", where + exc.message) from None


def _check_keys(exp: Experiment, file: str) -> None:
    """Every `set` and factor key must name a scenario parameter of the base scenario."""
    for key in [*exp.set, *exp.factors]:
        parts = key.split(".")
        if len(parts) >= 2 and parts[1] == "*" and parts[0] not in WILDCARD_TABLES:
            where = "set" if key in exp.set else "factors"
            raise ScenarioError(file, f"{where}.{key}", "'*' only stands for a brand or category")


def validate_experiment(data: dict[str, Any], file: str | Path) -> Experiment:
    """Validate a parsed experiment table; raise one ScenarioError (FILE: KEY: message)."""
    file = str(file)
    check_depth(data, file)
    data = dict(data)
    if isinstance(data.get("factors"), Mapping):
        data["factors"] = _flatten_factors(data["factors"])
    if isinstance(data.get("set"), Mapping):
        data["set"] = _flatten_set(data["set"])
    for k in ("file", "base_path"):
        if k in data:
            raise ScenarioError(file, k, "unknown key")
    try:
        exp = Experiment.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        key, msg = _explain(errors[0])
        if len(errors) > 1:
            msg += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
        raise ScenarioError(file, key, msg) from None
    exp.file = file
    try:
        exp.base_path = str(resolve_base(exp.base, Path(file)))
    except ScenarioError as exc:
        raise ScenarioError(file, "base", f"{exp.base}: {exc.message}") from None
    if not exp.factors:
        raise ScenarioError(file, "factors", "at least one factor is needed")
    _check_keys(exp, file)
    _check_design(exp, file)
    check_size(exp, file)
    # the base scenario with `set`, days and consumers
    _check_scenario(exp, file, {}, "set")
    # each factor at each of its values (a range: at both bounds)
    for key, factor in exp.factors.items():
        expanded = expand_key(key, exp.base_path)
        for value in factor.check_values():
            level = f"level {factor.label(value)!r}" if isinstance(value, Mapping) else ""
            _check_scenario(exp, file, dict.fromkeys(expanded, value), f"factors.{key}", level)
    _check_counterfactual(exp, file)
    _check_metrics(exp, file)
    _check_paths(exp, file)
    _check_analysis(exp, file)
    return exp


def _check_design(exp: Experiment, file: str) -> None:
    if exp.design == "grid":
        for key, f in exp.factors.items():
            if f.range is not None and f.steps is None:
                raise ScenarioError(
                    file, f"factors.{key}", "a grid needs steps = N with a range (or values)"
                )
        if exp.samples is not None:
            raise ScenarioError(file, "samples", "a grid has no samples (it visits every level)")
        return
    if exp.samples is None:
        what = {"lhs": "points", "sobol": "base samples N", "morris": "trajectories"}
        raise ScenarioError(
            file, "samples", f"design {exp.design!r} needs samples = N ({what[exp.design]})"
        )
    if exp.design == "sobol" and exp.samples & (exp.samples - 1):
        raise ScenarioError(
            file, "samples", f"a Sobol design needs a power of 2 (got {exp.samples})"
        )
    if exp.design in ("sobol", "morris") and len(exp.factors) < 2:
        raise ScenarioError(file, "factors", f"a {exp.design} design needs at least 2 factors")
    for key, f in exp.factors.items():
        if f.steps is not None:
            raise ScenarioError(
                file, f"factors.{key}", f"steps only apply to a grid (design is {exp.design!r})"
            )


def design_size(exp: Experiment) -> int:
    """How many design points `build_design` will make, counted without building them."""
    k = len(exp.factors)
    if exp.design == "grid":
        return math.prod(
            len(f.values) if f.values is not None else (f.steps or 0) for f in exp.factors.values()
        )
    samples = exp.samples or 0
    if exp.design == "sobol":
        return samples * (k + 2)  # Saltelli without second order: N (D + 2)
    if exp.design == "morris":
        return samples * (k + 1)  # trajectories of D + 1 points
    return samples


def _count(n: int) -> str:
    return f"{n:,}" if n < 10**15 else f"about 1e+{len(str(n)) - 1}"


def check_size(exp: Experiment, file: str) -> None:
    """Refuse a sweep of more than MAX_RUNS runs before anything the size of it is built."""
    points = design_size(exp)
    runs = points * exp.replicates
    if runs <= MAX_RUNS or (allow_large() and runs <= HARD_LIMIT):
        return
    if exp.replicates > MAX_RUNS:
        key = "replicates"
    else:
        key = "factors" if exp.design == "grid" else "samples"
    what = f"{_count(points)} design points x {_count(exp.replicates)} replicates"
    if runs > HARD_LIMIT and allow_large():
        raise ScenarioError(file, key, f"{what} is more runs than a sweep can hold")
    raise ScenarioError(
        file,
        key,
        f"{what} = {_count(runs)} runs, above the limit of {MAX_RUNS:,} runs per sweep "
        f"(set {ALLOW_LARGE_ENV}=1 in the environment if you mean it)",
    )


def _check_counterfactual(exp: Experiment, file: str) -> None:
    """The twin of the base (with `set`) can be built: a known counterfactual and brand."""
    if exp.counterfactual is None:
        return
    from sim.counterfactual import CounterfactualError, twin

    try:
        twin(load_scenario(exp.base_path, exp.fixed_overrides()), exp.counterfactual)
    except (CounterfactualError, ScenarioError) as exc:
        raise ScenarioError(file, "counterfactual", str(exc)) from None


def _check_metrics(exp: Experiment, file: str) -> None:
    brand_kpis, market_kpis, brands = kpi_names(exp.base_path)
    for i, metric in enumerate(exp.metrics):
        key = f"metrics[{i}]"
        who, name = _check_who(file, key, metric, brands)
        names = market_kpis if who == MARKET else brand_kpis
        if name.startswith(DAYS_TO):
            try:
                kpi, _ = parse_days_to(name)
            except ValueError as exc:
                raise ScenarioError(file, key, f"{metric!r}: {exc}") from None
            _check_path_kpi(exp, file, key, metric, kpi)
            continue
        if name.startswith(INCREMENTAL):
            if exp.counterfactual is None:
                raise ScenarioError(
                    file,
                    key,
                    f"{metric!r}: an incremental KPI needs a twin: set counterfactual = "
                    '"no_private_ops" (or another counterfactual) in the experiment',
                )
            from sim.effects import METRICS as EFFECT_METRICS  # the runs layer, only here

            names = tuple(f"{INCREMENTAL}{m}" for m in EFFECT_METRICS)
        if name not in names:
            raise ScenarioError(
                file,
                key,
                f"{metric!r}: unknown KPI {name!r}"
                + did_you_mean(name, names)
                + " (see docs/KPIS.md)",
            )
    if len(set(exp.metrics)) != len(exp.metrics):
        raise ScenarioError(file, "metrics", "a metric is listed twice")


def _check_who(file: str, key: str, metric: str, brands: tuple[str, ...]) -> tuple[str, str]:
    """(who, name) of a metric or path naming the market, '*' or a brand of the base."""
    try:
        who, name = parse_metric(metric, brands)
    except ValueError as exc:
        raise ScenarioError(file, key, f"{metric!r}: {exc}") from None
    if who not in (MARKET, "*") and who not in brands:
        raise ScenarioError(
            file,
            key,
            f"{metric!r}: unknown brand {who!r}"
            + did_you_mean(who, brands)
            + f" (known: {', '.join(brands)})",
        )
    return who, name


def _check_path_kpi(exp: Experiment, file: str, key: str, metric: str, kpi: str) -> None:
    names = path_names(exp.base_path)
    if kpi not in names:
        raise ScenarioError(
            file,
            key,
            f"{metric!r}: {kpi!r} is not a KPI with a path"
            + did_you_mean(kpi, names)
            + " (the columns of sim.kpis.periodic, e.g. private_share, gmv, stock_members)",
        )


def _check_paths(exp: Experiment, file: str) -> None:
    """Each path names the market, '*' or a brand, and a KPI `periodic` gives."""
    brands = kpi_names(exp.base_path)[2]
    for i, path in enumerate(exp.paths):
        key = f"paths[{i}]"
        _, name = _check_who(file, key, path, brands)
        _check_path_kpi(exp, file, key, path, name)
    if len(set(exp.paths)) != len(exp.paths):
        raise ScenarioError(file, "paths", "a path is listed twice")


def _check_analysis(exp: Experiment, file: str) -> None:
    for i, h in enumerate(exp.analysis.heatmaps):
        key = f"analysis.heatmaps[{i}]"
        if exp.design != "grid":
            raise ScenarioError(file, key, "heatmaps need a grid design")
        for attr in ("x", "y", "facet"):
            v = getattr(h, attr)
            if v is not None and v not in exp.factors:
                raise ScenarioError(file, f"{key}.{attr}", f"{v!r} is not a factor")
        if h.metric not in exp.metrics:
            raise ScenarioError(file, f"{key}.metric", f"{h.metric!r} is not in metrics")
        if len({h.x, h.y, h.facet} - {None}) != len([v for v in (h.x, h.y, h.facet) if v]):
            raise ScenarioError(file, key, "x, y and facet must be different factors")
    for i, m in enumerate(exp.analysis.maps):
        key = f"analysis.maps[{i}]"
        if exp.design != "grid":
            raise ScenarioError(file, key, "maps need a grid design")
        for attr in ("rows", "cols", "choice"):
            if getattr(m, attr) not in exp.factors:
                raise ScenarioError(file, f"{key}.{attr}", f"{getattr(m, attr)!r} is not a factor")
        if m.metric not in exp.metrics:
            raise ScenarioError(file, f"{key}.metric", f"{m.metric!r} is not in metrics")
        if len({m.rows, m.cols, m.choice}) != 3:
            raise ScenarioError(file, key, "rows, cols and choice must be different factors")
    for i, d in enumerate(exp.analysis.discover):
        key = f"analysis.discover[{i}]"
        if d.metric not in exp.metrics:
            raise ScenarioError(
                file,
                f"{key}.metric",
                f"{d.metric!r} is not in metrics" + did_you_mean(d.metric, exp.metrics),
            )
        if d.metric.startswith("brands.*."):
            raise ScenarioError(
                file, f"{key}.metric", "name one brand (or the market): a target is one KPI"
            )


def load_experiment(name: str | Path) -> Experiment:
    """Read, validate and check an experiment file (or a shipped experiment's name)."""
    path = resolve_experiment_path(name)
    return validate_experiment(read_toml_file(path, "experiment file"), path)


__all__ = [
    "SCENARIO_DIR",
    "Experiment",
    "Factor",
    "expand_key",
    "kpi_names",
    "load_experiment",
    "metric_values",
    "shipped_experiments",
]
