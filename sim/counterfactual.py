"""Counterfactual twins: a scenario with one strategy switched off, everything else kept.

An effect is the scenario minus its twin, run with the same seed (common random numbers), so
a twin must differ from its scenario only in the lever whose effect is measured. A
counterfactual is a named transform of a resolved scenario; `twin(scenario, name, brand)`
returns a new validated Scenario and never changes the one it is given.

Built-in counterfactuals (each applied to one brand, or by default to every brand that pulls
the lever; the twin keeps the same stores, store visits, ads, budgets, category and
starting funnel):

- `no_private_ops`: `private_ops = false`: no guides, groups, pushes, member discounts,
  referral rewards or nodes at all (an adaptive brand may still take them up at a review);
- `no_guides`: `guides_per_store = 0`: no WeCom store guides (groups, the mini-program,
  package cards and rewards stay);
- `no_fission`: `referral_tiers = []`: no referral rewards (word of mouth stays);
- `no_nodes`: `koc_count = 0`, `employee_distributors = 0`: no KOC, small-B or employee
  nodes;
- `no_private_discount`: `private_discount = 0`, `member_coupon = 0` and every
  `tier_discount` 0: members pay the list price (the welcome gift stays: it is a gift).

A scenario may declare its own in its file, as keys to set (the same dotted keys as `--set`):

    [counterfactuals.no_card]
    description = "no package cards in parcels"
    set = { "brands.brand.strategy.package_card_rate" = 0.0 }

and choose the one `siyu run` measures against with `run.counterfactual` (default
`no_private_ops`; "none" for no twin).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sim.params import NO_COUNTERFACTUAL, BrandParams, Scenario

TWIN_MARK = "~"
"""A twin's name is its scenario's name, this mark and the counterfactual's name."""


class CounterfactualError(ValueError):
    """An unknown counterfactual or brand, or a twin the scenario refuses: `str(err)` is
    one line, `KEY: message`."""


@dataclass(frozen=True)
class Builtin:
    """A built-in counterfactual: which brands pull its lever, and the strategy keys it sets."""

    name: str
    switches_off: str
    """What the twin does not do (for reports): 'private operations', 'store guides' …"""
    pulls: Callable[[BrandParams], bool]
    """Whether a brand uses the lever (the default brands the twin changes)."""
    settings: Callable[[BrandParams], dict[str, Any]]
    """Strategy key -> value in the twin."""


BUILTINS: dict[str, Builtin] = {
    b.name: b
    for b in (
        Builtin(
            "no_private_ops",
            "private operations",
            lambda b: b.strategy.private_ops,
            lambda b: {"private_ops": False},
        ),
        Builtin(
            "no_guides",
            "store guides",
            lambda b: b.stores > 0 and b.strategy.guides_per_store > 0,
            lambda b: {"guides_per_store": 0.0},
        ),
        Builtin(
            "no_fission",
            "referral rewards",
            lambda b: bool(b.strategy.referral_tiers),
            lambda b: {"referral_tiers": []},
        ),
        Builtin(
            "no_nodes",
            "KOC, small-B and employee nodes",
            lambda b: b.strategy.koc_count > 0 or b.strategy.employee_distributors > 0,
            lambda b: {"koc_count": 0, "employee_distributors": 0},
        ),
        Builtin(
            "no_private_discount",
            "member discounts",
            lambda b: (
                b.strategy.private_discount > 0
                or b.strategy.member_coupon > 0
                or any(d > 0 for d in b.strategy.tier_discount)
            ),
            lambda b: {
                "private_discount": 0.0,
                "member_coupon": 0.0,
                "tier_discount": [0.0] * len(b.strategy.tier_discount),
            },
        ),
    )
}
"""The built-in counterfactuals by name, in the order of `sim.params.BUILTIN_COUNTERFACTUALS`
(the scenario schema knows the names, to check `run.counterfactual`; tests hold them equal)."""


def names(scenario: Scenario) -> list[str]:
    """Every counterfactual the scenario has: the built-ins, then its own."""
    return [*BUILTINS, *scenario.counterfactuals]


def default_name(scenario: Scenario) -> str | None:
    """The counterfactual `siyu run` measures against (`run.counterfactual`, perhaps
    `NAME@BRAND`), or None for "none"."""
    name = scenario.run.counterfactual
    return None if name == NO_COUNTERFACTUAL else name


def resolve(
    scenario: Scenario, name: str | None = None, brand: str | None = None
) -> tuple[str, str | None]:
    """(counterfactual, brand) from a name that may be `NAME@BRAND` (None: the scenario's
    `run.counterfactual`); a brand given apart wins over one in the name."""
    name, named = parse(scenario.run.counterfactual if name is None else name)
    return name, brand if brand is not None else named


def _check(scenario: Scenario, name: str, brand: str | None) -> None:
    if name not in BUILTINS and name not in scenario.counterfactuals:
        raise CounterfactualError(
            f"{name}: unknown counterfactual (known: {', '.join(names(scenario))})"
        )
    if brand is not None and brand not in scenario.brands:
        raise CounterfactualError(f"{brand}: unknown brand (known: {', '.join(scenario.brands)})")
    if brand is not None and name not in BUILTINS:
        raise CounterfactualError(
            f"{name}: a scenario's own counterfactual names its keys; it takes no brand"
        )


def brands_changed(scenario: Scenario, name: str, brand: str | None = None) -> list[str]:
    """The brands a built-in counterfactual changes: `brand`, or every brand that pulls its
    lever (none for a declared counterfactual, which names its own keys)."""
    _check(scenario, name, brand)
    if name not in BUILTINS:
        return []
    if brand is not None:
        return [brand]
    return [b for b, params in scenario.brands.items() if BUILTINS[name].pulls(params)]


def changes(scenario: Scenario, name: str, brand: str | None = None) -> dict[str, Any]:
    """The dotted keys the twin sets, and their values."""
    _check(scenario, name, brand)
    if name not in BUILTINS:
        return dict(scenario.counterfactuals[name].set)
    rule = BUILTINS[name]
    return {
        f"brands.{b}.strategy.{key}": value
        for b in brands_changed(scenario, name, brand)
        for key, value in rule.settings(scenario.brands[b]).items()
    }


def describe(scenario: Scenario, name: str, brand: str | None = None) -> str:
    """One phrase for reports: what the twin switches off, and for which brands."""
    _check(scenario, name, brand)
    if name not in BUILTINS:
        own = scenario.counterfactuals[name].description
        return own or f"{name} ({', '.join(scenario.counterfactuals[name].set)})"
    which = brands_changed(scenario, name, brand)
    off = BUILTINS[name].switches_off
    if not which:
        return f"{off} off (no brand uses them: the twin is the scenario itself)"
    text = f"{off} off for {', '.join(which)}; same stores, ads and budgets"
    if name == "no_private_ops" and any(scenario.brands[b].adaptive for b in scenario.brands):
        text += " (adaptive brands may still take them up at a review)"
    return text


def lever(scenario: Scenario, name: str) -> str:
    """What the twin switches off, as the subject of a sentence ("private operations add …"):
    the built-in's name for it (plural), or "the difference from NAME" for a declared one."""
    _check(scenario, name, None)
    if name in BUILTINS:
        return BUILTINS[name].switches_off
    return f"the difference from {name}"


def twin_name(scenario: Scenario, name: str, brand: str | None = None) -> str:
    """`beauty_guides~no_private_ops` (or `…~no_guides@brand` for one brand named)."""
    return f"{scenario.name}{TWIN_MARK}{name}" + (f"@{brand}" if brand is not None else "")


def twin(scenario: Scenario, name: str | None = None, brand: str | None = None) -> Scenario:
    """The scenario's counterfactual twin `name` (None: its default, `run.counterfactual`;
    `NAME@BRAND` names a brand too), applied to `brand` or to every brand that pulls the
    lever. A new validated Scenario named `twin_name(…)`; raises CounterfactualError for an
    unknown name or brand, for "none", or for keys the scenario refuses."""
    name, brand = resolve(scenario, name, brand)
    if name == NO_COUNTERFACTUAL:
        raise CounterfactualError(f"{name}: no counterfactual asked for; there is no twin")
    values = changes(scenario, name, brand)
    try:
        out = scenario.changed(values)
    except (KeyError, ValueError) as exc:
        text = exc.args[0] if exc.args else str(exc)
        where = f"{name}: " if name in BUILTINS else f"counterfactuals.{name}.set."
        raise CounterfactualError(where + text) from None
    return out.model_copy(update={"name": twin_name(scenario, name, brand)})


def parse(text: str) -> tuple[str, str | None]:
    """`no_guides` -> ("no_guides", None); `no_guides@brand_a` -> ("no_guides", "brand_a")
    (the form `--counterfactual` takes, and `twin_name` writes)."""
    name, sep, brand = text.partition("@")
    return name.strip(), (brand.strip() if sep else None)
