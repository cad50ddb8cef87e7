"""What every `siyu` command shares (`sim.cli` and the workshop's `sim.workshop.cli`): bad
input ends in ONE plain line on stderr, `error: FILE: KEY: message`, and an exit code (2
for bad input), never a traceback; a scenario is loaded with its `--set` overrides and
options such as `--days` (and `--consumers`, which scales the market) the same way
everywhere."""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import typer

from sim.params import Scenario
from sim.present.format import one_line
from sim.scaling import describe, scale_market, thin_staff
from sim.scenario import Override, ScenarioError, added_entries, load_scenario, resolve_path

CONSUMERS_HELP = (
    "run at N consumers with the same market per consumer: stores, store visits, budgets, "
    "tooling, KOC and employee nodes and the platform's reference ad demand scale with it "
    "(stderr lists them); --set run.consumers=N changes the population alone"
)
"""The help of every `--consumers` option (it scales the market; see `load_or_fail`)."""


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one plain line on stderr (never wrapped, no markup) and exit."""
    print(f"error: {one_line(message)}", file=sys.stderr, flush=True)
    raise typer.Exit(code)


def load_or_fail(
    scenario: str, overrides: list[str] | None, consumers: int | None = None, **options: Any
) -> Scenario:
    """Load a scenario with `--set` overrides and options such as `--days` (run.days); bad
    input fails with one line.

    `--consumers N` scales the market (`sim.scaling.scale_market`: every extensive quantity
    follows the population, so the market per consumer stays the same) after the overrides,
    and says on stderr what it scaled; `--set run.consumers=N` changes the population alone.
    """
    items: list[str | Override] = list(overrides or [])
    for option, value in options.items():
        if value is not None:
            items.append(Override(f"--{option}", ("run", option), value))
    try:
        sc = load_scenario(scenario, items)
        for note in added_entries(resolve_path(scenario)):
            print(f"note: {one_line(note)}", file=sys.stderr, flush=True)
        if consumers is None or consumers == sc.run.consumers:
            return sc
        scaled, changes = scale_market(sc, consumers)
    except ScenarioError as exc:
        fail(str(exc))
    line = describe(sc.run.consumers, consumers, changes)
    thin = thin_staff(scaled)
    note = f" (note: {'; '.join(thin)})" if thin else ""
    print(f"{sc.name}: {line}{note}", file=sys.stderr, flush=True)
    return scaled
