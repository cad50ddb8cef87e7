"""The `siyu` command: run, validate and list scenarios; print the parameter reference.

Bad input (a bad scenario file, override or option) prints ONE line on stderr,
`error: FILE: KEY: message`, exits with code 2 and writes nothing.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from sim.params import Scenario
from sim.scenario import Override, ScenarioError, load_scenario, shipped_scenarios

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    help="Siyu: simulate brands moving consumers from public platforms into "
    "private domains, and what it does to CAC, ROI and private share.",
)

# click's exception classes: typer >= 0.20 vendors click, older typer uses the click package
_BASES = {cls.__name__: cls for cls in typer.BadParameter.__mro__}
UsageError: type[Exception] = _BASES["UsageError"]
ClickException: type[Exception] = _BASES["ClickException"]

PIPE_WIDTH = 150
"""Width of tables printed when stdout is not a terminal (a pipe, a file, a CI log)."""


def out_console() -> Console:
    """A console on the current stdout; wide enough for the KPI table when piped."""
    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else PIPE_WIDTH
    return Console(file=sys.stdout, width=width)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _fail(message: str, code: int = 2) -> NoReturn:
    """Print one plain line on stderr (never wrapped, no markup) and exit."""
    print(f"error: {_one_line(message)}", file=sys.stderr, flush=True)
    raise typer.Exit(code)


def _load(scenario: str, overrides: list[str] | None, **options: Any) -> Scenario:
    """Load a scenario with `--set` overrides and options such as `--days` (run.days)."""
    items: list[str | Override] = list(overrides or [])
    for option, value in options.items():
        if value is not None:
            items.append(Override(f"--{option}", ("run", option), value))
    try:
        return load_scenario(scenario, items)
    except ScenarioError as exc:
        _fail(str(exc))


def _fmt(v: float | None, kind: str = "") -> str:
    """A KPI cell: `kind` is "pct" (a share), "int" (a count) or "" (money, ratios)."""
    if v is None:
        return "–"
    if kind == "pct":
        return f"{100 * v:.1f}%"
    if kind == "int":
        return f"{v:,.0f}"
    if abs(v) >= 1e4:
        return f"{v:,.0f}"
    return f"{v:.2f}"


def kpi_table(summary: dict) -> Table:
    """The short per-brand KPI table printed after a run."""
    kpis = summary["kpis"]
    table = Table(title=f"{summary['scenario']} · seed {summary['seed']} · {summary['days']} days")
    cols = [
        ("GMV", "gmv", ""),
        ("private share", "private_share", "pct"),
        ("CAC public", "cac_public", ""),
        ("CAC private", "cac_private", ""),
        ("ROAS ads", "roas_ads", ""),
        ("ROI public", "roi_public", ""),
        ("ROI private", "roi_private", ""),
        ("ROI total", "roi_total", ""),
        ("members", "members", "int"),
        ("repurchase", "repurchase_rate", "pct"),
    ]
    table.add_column("brand", no_wrap=True)
    for title, _, _ in cols:
        table.add_column(title, justify="right", no_wrap=True)
    rows = [*kpis["brands"].items(), ("market", kpis["market"])]
    for name, k in rows:
        table.add_row(Text(str(name)), *[_fmt(k.get(key), kind) for _, key, kind in cols])
    return table


def _check_out(target: Path) -> None:
    """Refuse an --out that is a file, or a non-empty folder that is not a run's output
    (writing replaces the folder)."""
    if target.exists() and not target.is_dir():
        _fail(f"--out: {target}: exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not (target / "summary.json").exists():
        _fail(f"--out: {target}: folder exists and is not a run's output (refusing to replace it)")


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(help="scenario file, or a shipped scenario's name")],
    seed: Annotated[int | None, typer.Option(help="random seed (default: the scenario's)")] = None,
    days: Annotated[int | None, typer.Option(help="override run.days")] = None,
    consumers: Annotated[int | None, typer.Option(help="override run.consumers")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="override any key: path.to.key=value (repeatable)"),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="output folder (default reports/runs/<scenario>-<seed>/)")
    ] = None,
    engine: Annotated[str, typer.Option(help="simulation engine: agents (reference)")] = "agents",
    no_report: Annotated[
        bool, typer.Option("--no-report", help="skip report.md and figures")
    ] = False,
) -> None:
    """Run one scenario; write metrics.parquet, summary.json and report.md."""
    from sim.runner import ENGINES, default_out_dir, write_outputs
    from sim.runner import run as run_scenario

    if engine not in ENGINES:
        _fail(f"--engine: unknown engine {engine!r} (known: {', '.join(ENGINES)})")
    sc = _load(scenario, set_, days=days, consumers=consumers, seed=seed)
    used_seed = sc.run.seed
    target = out or default_out_dir(sc, used_seed)
    _check_out(target)
    err_console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("day {task.completed:.0f}/{task.total:.0f}"),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=not sys.stderr.isatty(),
    ) as bar:
        task = bar.add_task(sc.name, total=sc.run.days)
        result = run_scenario(
            sc, used_seed, engine, progress=lambda d: bar.update(task, completed=d)
        )
    try:
        path = write_outputs(result, target, report=not no_report)
    except OSError as exc:
        _fail(f"--out: {target}: cannot write: {exc.strerror or exc}")
    out_console().print(kpi_table(result.summary))
    written = "metrics.parquet, summary.json" + (", report.md, figures/" if not no_report else "")
    print(f"wrote {path}/ ({written})", flush=True)


@app.command()
def validate(
    scenario: Annotated[str, typer.Argument(help="scenario file, or a shipped scenario's name")],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="override any key: path.to.key=value (repeatable)"),
    ] = None,
) -> None:
    """Check a scenario file and print its fully resolved parameters (JSON)."""
    sc = _load(scenario, set_)
    text = json.dumps(sc.model_dump(mode="json"), ensure_ascii=False, indent=2)
    if sys.stdout.isatty():
        out_console().print_json(text, soft_wrap=True)
    else:
        sys.stdout.write(text + "\n")


@app.command("list")
def list_() -> None:
    """List the shipped scenarios with their descriptions."""
    table = Table(show_lines=False)
    table.add_column("scenario", style="bold", no_wrap=True)
    table.add_column("description")
    table.add_column("source case")
    for path in shipped_scenarios():
        try:
            sc = load_scenario(path)
            table.add_row(path.stem, Text(sc.description), Text(sc.source_case))
        except ScenarioError as exc:
            table.add_row(path.stem, Text(f"invalid: {exc}", style="red"), "")
    out_console().print(table)


@app.command()
def params() -> None:
    """Print the parameter reference (Markdown): every key, default, unit and meaning."""
    from sim.docs import parameter_reference

    sys.stdout.write(parameter_reference())


def main(argv: list[str] | None = None) -> NoReturn:
    """Entry point: bad input exits with code 2 and one line on stderr, never a traceback.

    Usage errors that click itself detects (a non-integer `--days`, an unknown option)
    are printed as one line too, instead of click's framed multi-line box.
    """
    try:
        rv = app(args=argv, prog_name="siyu", standalone_mode=False)
    except UsageError as exc:
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
            print(ctx.get_help(), file=sys.stderr)  # `siyu` alone: the help
            sys.exit(2)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        print(f"error: {_one_line(exc.format_message())}{hint}", file=sys.stderr)
        sys.exit(2)
    except ClickException as exc:
        print(f"error: {_one_line(exc.format_message())}", file=sys.stderr)
        sys.exit(getattr(exc, "exit_code", 1))
    except ScenarioError as exc:  # _load handles these; belt and braces
        print(f"error: {_one_line(str(exc))}", file=sys.stderr)
        sys.exit(2)
    except typer.Abort:
        print("aborted", file=sys.stderr)
        sys.exit(1)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":
    main()
