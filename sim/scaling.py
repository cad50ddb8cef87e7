"""Markets that scale: run a scenario at another population with the same market per consumer.

A scenario's numbers describe a market of `run.consumers` people. Its extensive quantities
(marked `extensive=True` in `sim.params`: stores, store visits, ad budgets, tooling, KOC and
employee nodes, annual budgets, the platform's reference ad demand) belong to the whole
market; every other number is per consumer, per member, per guide or a share, and holds at
any size. `scale_market` multiplies the extensive ones by new / old population, so a run
at N consumers is the same market, N people big: `siyu run --consumers N` (and `validate`,
`compare`, an experiment's `consumers`) use it. Setting `run.consumers` alone
(`--set run.consumers=N`) changes the population and nothing else: a denser or thinner
market, on purpose.

Counts that must be whole (stores x guides_per_store guides, KOCs, employees) may come out
fractional; they stay expectations here and staffing draws them without bias
(`sim.staffing.draw_count`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from sim.params import Scenario, expected_guides, is_extensive
from sim.scenario import ScenarioError, validate

CONSUMERS_KEY = "run.consumers"
SOURCE = "--consumers"
"""The source named in errors about a scaled scenario (the option that asked for it)."""


@dataclass(frozen=True)
class Change:
    """One scaled quantity: its dotted key and its value before and after."""

    key: str
    before: float
    after: float


def extensive_keys(scenario: Scenario) -> list[str]:
    """The dotted keys of every extensive quantity of a scenario, in declaration order
    (one per brand for brand fields: `brands.NAME.stores`, `brands.NAME.strategy.…`)."""
    return [key for key, _ in _extensive(scenario, "")]


def _extensive(model: BaseModel, prefix: str) -> list[tuple[str, float]]:
    """(dotted key, value) of the extensive fields of `model` and of the models it holds."""
    out: list[tuple[str, float]] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        key = f"{prefix}{name}"
        if is_extensive(type(model), name):
            out.append((key, value))
        elif isinstance(value, BaseModel):
            out.extend(_extensive(value, key + "."))
        elif isinstance(value, dict):
            for entry, item in value.items():
                if isinstance(item, BaseModel):
                    out.extend(_extensive(item, f"{key}.{entry}."))
    return out


def _set(data: dict[str, Any], key: str, value: float) -> None:
    """Set a dotted key in a nested dict (in place)."""
    *tables, last = key.split(".")
    for part in tables:
        data = data[part]
    data[last] = value


def scale_market(
    scenario: Scenario, consumers: int, source: str = SOURCE
) -> tuple[Scenario, list[Change]]:
    """The scenario at `consumers` people with the same market per consumer, and what changed.

    Every extensive quantity is multiplied by consumers / scenario.run.consumers; the
    changes list the quantities whose value moved (zeros stay zero). At the scenario's own
    population it returns the scenario unchanged and no changes. A bad population or a
    scaled count above its limit raises one `ScenarioError` naming `source` and the key.
    """
    if isinstance(consumers, bool) or not isinstance(consumers, int):
        raise ScenarioError(source, CONSUMERS_KEY, f"must be a whole number (got {consumers!r})")
    data = scenario.model_dump()
    data["run"]["consumers"] = consumers
    validate(data, source, {})  # the population itself first: one clear line if it is bad
    factor = consumers / scenario.run.consumers
    changes: list[Change] = []
    if factor != 1.0:
        for key, value in _extensive(scenario, ""):
            after = value * factor
            _set(data, key, after)
            if after != value:
                changes.append(Change(key, value, after))
    scaled = validate(data, source, {})
    return scaled, changes


def thin_staff(scenario: Scenario) -> list[str]:
    """Notes for brands whose expected guides, nodes or employees are above 0 but below 1.

    Scaling is linear in these counts only from one up: a brand's guides invite every store
    visitor whatever their number (capacity permitting), so a brand that draws no guide (a
    chance of 1 - x at x < 1 expected) invites no one, and per-capita results fall. Such a
    scaled market is thinner than its file; the note says so."""
    notes = []
    for name, brand in scenario.brands.items():
        st = brand.strategy
        counts = {
            "guides": expected_guides(brand),
            "nodes": st.koc_count,
            "employee distributors": st.employee_distributors,
        }
        for what, x in counts.items():
            if st.private_ops and 0 < x < 1:
                notes.append(
                    f"{name} has {x:.2g} {what} expected, fewer than one: "
                    f"none in {1 - x:.0%} of runs"
                )
    return notes


def _num(value: float) -> str:
    """A short readable number: 10, 2.667, 1,200, 1e+12."""
    if abs(value) >= 1e9:
        return f"{value:.4g}"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.4g}"


def _short_key(key: str) -> str:
    """`brands.a.strategy.ad_budget_per_day` -> `a.ad_budget_per_day` (for the one line)."""
    parts = key.split(".")
    if parts[0] == "brands":
        parts = [p for p in parts[1:] if p != "strategy"]
    return ".".join(parts)


def describe(before: int, after: int, changes: list[Change]) -> str:
    """One line saying what scaling did, e.g. 'scaled to 6,000 consumers (x2 of the
    scenario's 3,000): stores 10→20, store_visits_per_day 15→30, …'."""
    factor = after / before
    head = f"scaled to {after:,} consumers (x{factor:.4g} of the scenario's {before:,})"
    if not changes:
        return head + ": no extensive quantity to scale"
    body = ", ".join(f"{_short_key(c.key)} {_num(c.before)}→{_num(c.after)}" for c in changes)
    return f"{head}: {body}"


__all__ = ["Change", "describe", "extensive_keys", "scale_market", "thin_staff"]
