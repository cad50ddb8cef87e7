"""What every `siyu` command shares (`sim.cli` and the workshop's `sim.workshop.cli`): bad
input ends in ONE plain line on stderr, `error: FILE: KEY: message`, and an exit code (2
for bad input), never a traceback; a scenario is loaded with its `--set` overrides and
options such as `--days` the same way everywhere."""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import typer

from sim.params import Scenario
from sim.present.format import one_line
from sim.scenario import Override, ScenarioError, load_scenario


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one plain line on stderr (never wrapped, no markup) and exit."""
    print(f"error: {one_line(message)}", file=sys.stderr, flush=True)
    raise typer.Exit(code)


def load_or_fail(scenario: str, overrides: list[str] | None, **options: Any) -> Scenario:
    """Load a scenario with `--set` overrides and options such as `--days` (run.days); bad
    input fails with one line."""
    items: list[str | Override] = list(overrides or [])
    for option, value in options.items():
        if value is not None:
            items.append(Override(f"--{option}", ("run", option), value))
    try:
        return load_scenario(scenario, items)
    except ScenarioError as exc:
        fail(str(exc))
