"""The `siyu` command: run, validate and list scenarios; print the parameter reference.

Bad input (a bad scenario file, override or option) prints ONE line on stderr,
`error: FILE: KEY: message`, exits with code 2 and writes nothing.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import shutil
import sys
import threading
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from sim.command import CONSUMERS_HELP, fail, load_or_fail
from sim.present.console import effects_table, out_console, run_kpi_table
from sim.present.format import clip, one_line
from sim.scenario import (
    Override,
    ScenarioError,
    load_scenario,
    parse_override,
    shipped_scenarios,
)

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


def compile_notice() -> str:
    """What a run says when the fast engine is still compiling after a few seconds (a
    fresh install's first run, `sim.fast.aside`: on two cores where it can)."""
    from sim.fast import aside

    cores = " on two cores" if aside.running() else ""
    return f"compiling the fast engine{cores} (once per install and version)…"


def _import_aside(module: str) -> threading.Thread:
    """Import `module` on a background thread, so that the report's imports (matplotlib,
    about half a second) load while the runs go: the fast engine's compiled day, and its
    compiling, leave the interpreter to other threads most of the time. A failure is left
    to the import that needs the module."""

    def load() -> None:
        with contextlib.suppress(Exception):
            importlib.import_module(module)

    thread = threading.Thread(target=load, name="siyu-import", daemon=True)
    thread.start()
    return thread


def _check_out(target: Path) -> None:
    """Refuse an --out that is a file, a non-empty folder that is not a run's output
    (writing replaces the folder), or a place we cannot write in; all before any run."""
    from sim.outputs import check_writable

    shown = clip(target)
    try:
        if target.exists() and not target.is_dir():
            fail(f"--out: {shown}: exists and is not a folder")
        if target.is_dir() and any(target.iterdir()) and not (target / "summary.json").exists():
            fail(
                f"--out: {shown}: folder exists and is not a run's output (refusing to replace it)"
            )
        check_writable(target)
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the name
        filename = getattr(exc, "filename", None)
        where = f" in {clip(filename)}" if filename and str(filename) != str(target) else ""
        reason = getattr(exc, "strerror", None) or exc
        fail(f"--out: {shown}: cannot write{where}: {reason}")


def _check_regions(sc: Any, regions: int, engine: str) -> None:
    """Refuse a --regions the market cannot be split into (one line, exit 2), before any
    run; say on stderr what a region holds, and where a region's staff is thin
    (`sim.scaling.thin_staff`)."""
    from sim.regions import region_scenarios
    from sim.scaling import thin_staff
    from sim.scenario import ScenarioError

    try:
        parts = region_scenarios(sc, regions)
    except ScenarioError as exc:
        fail(str(exc))
    sizes = sorted({p.run.consumers for p in parts})
    print(
        f"regions: {regions} of {' or '.join(f'{n:,}' for n in sizes)} consumers, one thread "
        "each" + ("" if engine == "fast" else " (the agents engine runs them in turn)"),
        file=sys.stderr,
    )
    for note in thin_staff(parts[-1]):
        print(f"regions: {note}", file=sys.stderr)


CounterfactualOption = Annotated[
    str | None,
    typer.Option(
        help="the twin effects are measured against: no_private_ops, no_guides, no_fission, "
        "no_nodes, no_private_discount or one the scenario declares; NAME@BRAND for one "
        "brand; none for no twin (default: the scenario's run.counterfactual)",
    ),
]


CalibrationOption = Annotated[
    Path | None,
    typer.Option(
        help="a calibration's fit.json (siyu calibrate): each replicate pair runs with one "
        "draw of the calibrated parameters from their fitted sampling distribution, so the "
        "intervals carry parameter uncertainty as well as noise",
    ),
]
ParameterDrawsOption = Annotated[
    int | None,
    typer.Option(
        help="with --calibration: how many parameter draws, replicate k using draw k mod K "
        "(default: one per replicate)",
    ),
]


def _draws_or_fail(
    calibration: Path | None, k: int | None, sc: Any, seeds: list[int]
) -> tuple[list[dict[str, float]] | None, str]:
    """The per-replicate parameter draws of --calibration (None without it) and what the
    intervals carry; one-line exit 2 on a bad file or option."""
    from sim.calibrate import draws

    if calibration is None:
        if k is not None:
            fail("--parameter-draws: needs --calibration")
        return None, draws.describe(None)
    k = len(seeds) if k is None else k
    if k < 1:
        fail(f"--parameter-draws: must be at least 1 (got {k})")
    try:
        cd = draws.load(calibration)
        draws.check_scenario(cd, sc)
    except draws.DrawsError as exc:
        fail(f"--calibration: {exc}")
    return draws.per_replicate(cd, seeds, k), draws.describe(cd, min(k, len(seeds)))


def _twin_or_fail(sc: Any, counterfactual: str | None, source: str) -> tuple[str, str | None]:
    """The counterfactual (name, brand) asked for, checked by building the twin once, or one
    line naming the option (or the scenario file's run.counterfactual) and exit 2."""
    from sim.counterfactual import CounterfactualError, resolve, twin

    name, brand = resolve(sc, counterfactual)
    where = "--counterfactual" if counterfactual is not None else f"{source}: run.counterfactual"
    try:
        twin(sc, name, brand)
    except CounterfactualError as exc:
        fail(f"{where}: {exc}")
    return name, brand


@app.command(
    epilog="Exit codes: 0 done; 3 some replicate runs failed (the effects leave their pairs "
    "out; if none finished, the attributed run is written alone); 2 bad input or an --out "
    "that cannot be written (nothing written); 130 interrupted."
)
def run(
    scenario: Annotated[str, typer.Argument(help="scenario file, or a shipped scenario's name")],
    seed: Annotated[int | None, typer.Option(help="random seed (default: the scenario's)")] = None,
    days: Annotated[int | None, typer.Option(help="override run.days")] = None,
    consumers: Annotated[int | None, typer.Option(help=CONSUMERS_HELP)] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="override any key: path.to.key=value (repeatable)"),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="output folder (default reports/runs/<scenario>-<seed>/; with --set, --days "
            "or --consumers, reports/runs/<scenario>-<seed>-<hash of them>/)"
        ),
    ] = None,
    engine: Annotated[
        str,
        typer.Option(help="simulation engine: fast (arrays, compiled) or agents (Mesa reference)"),
    ] = "fast",
    no_report: Annotated[
        bool, typer.Option("--no-report", help="skip report.md and figures")
    ] = False,
    counterfactual: CounterfactualOption = None,
    replicates: Annotated[
        int,
        typer.Option(help="paired replicates of scenario and twin (seeds seed, seed+1, …)"),
    ] = 8,
    no_twin: Annotated[
        bool,
        typer.Option("--no-twin", help="the attributed run alone (same as --counterfactual none)"),
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(help="local processes for the replicates (default: run them here, in turn)"),
    ] = None,
    threads: Annotated[
        int | None,
        typer.Option(
            help="threads of this process for the replicates: the fast engine's day releases "
            "the interpreter lock, so a large market's runs share the cores with no process "
            "to start; results are the same for any count (default: one per core for a "
            "large market, as memory allows, else 1: sim.effects.replicate_threads)",
            show_default=False,
        ),
    ] = None,
    events: Annotated[
        bool,
        typer.Option(
            "--events",
            help="also write every order, membership event and lapse, and a per-customer "
            "summary (orders, memberships, lapses, customers .parquet)",
        ),
    ] = False,
    regions: Annotated[
        int,
        typer.Option(
            help="run the market as R regions of equal size, one thread each, their ledgers "
            "added: each region the same market per consumer (stores, staff, visits and "
            "budgets scaled as --consumers scales them), no tie, visit or guide crossing a "
            "region; a large market's run then uses R cores. A different draw of the same "
            "market (same seed and R, same bytes); 1: the market whole (sim.regions)",
        ),
    ] = 1,
    calibration: CalibrationOption = None,
    parameter_draws: ParameterDrawsOption = None,
) -> None:
    """Run a scenario and measure its effects against its counterfactual twin.

    Writes the seed's run (metrics.parquet, summary.json, report.md) and prints its
    attributed KPIs; then runs scenario and twin over paired replicates (common random
    numbers) and prints and writes the incremental KPIs with 95% intervals (summary.json
    "effects", effects.csv)."""
    from sim.outputs import default_out_dir, events_scratch, scratch_holder, write_outputs
    from sim.params import NO_COUNTERFACTUAL
    from sim.runner import ENGINES
    from sim.runner import run as run_scenario

    if engine not in ENGINES:
        fail(f"--engine: unknown engine {engine!r} (known: {', '.join(ENGINES)})")
    if replicates < 1:
        fail(f"--replicates: must be at least 1 (got {replicates})")
    if workers is not None and workers < 1:
        fail(f"--workers: must be at least 1 (got {workers})")
    if threads is not None and threads < 1:
        fail(f"--threads: must be at least 1 (got {threads})")
    if threads is not None and threads > 1 and workers is not None:
        fail("--threads: the replicates run either on threads or on --workers processes, not both")
    sc = load_or_fail(scenario, set_, days=days, consumers=consumers, seed=seed)
    if regions != 1:
        _check_regions(sc, regions, engine)
    wanted = NO_COUNTERFACTUAL if no_twin else counterfactual
    cf: tuple[str, str | None] | None = None
    if (wanted if wanted is not None else sc.run.counterfactual) != NO_COUNTERFACTUAL:
        _check_compare_size(2, replicates)
        cf = _twin_or_fail(sc, wanted, scenario)
    used_seed = sc.run.seed
    if cf is not None and used_seed + replicates > 2**63:
        fail(f"--seed: {used_seed} leaves no room for {replicates} replicates' seeds")
    drawn, carries = _draws_or_fail(
        calibration, parameter_draws, sc, [used_seed + k for k in range(replicates)]
    )
    if drawn is not None and cf is None:
        fail("--calibration: parameter draws apply to the effects; the run has no twin")
    changed = [parse_override(text) for text in set_ or []]  # they parsed in load_or_fail
    changed += [
        Override(f"--{k}", ("run", k), v)
        for k, v in (("days", days), ("consumers", consumers))
        if v is not None
    ]
    if regions != 1:
        changed.append(Override("--regions", ("run", "regions"), regions))
    target = out or default_out_dir(sc, used_seed, changed)
    _check_out(target)
    err_console = Console(stderr=True)
    importing = None if no_report else _import_aside("sim.report")
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
        # the fast engine compiles once per install and version: say so if it does
        notice = threading.Timer(5.0, lambda: err_console.print(compile_notice()))
        if engine == "fast":
            notice.start()

        def progress(day: int) -> None:
            notice.cancel()
            bar.update(task, completed=day)

        scratch = events_scratch(target) if events else None
        try:
            result = run_scenario(
                sc,
                used_seed,
                engine,
                progress=progress,
                events=None if scratch is None else scratch / "events",
                regions=regions,
            )
        except BaseException:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
            raise
        finally:
            notice.cancel()
    # the report's figures are drawn on the second core while the twin's replicates run
    figures = None
    try:
        if not no_report:
            from sim.report import start_figures

            if importing is not None:  # a fork copies this thread only: the others end first
                importing.join()
            if notice.is_alive():
                notice.join()
            figures = start_figures(result, scratch_holder(target))
        effects = None
        if cf is not None:
            effects = _measure_effects(
                sc,
                cf,
                replicates,
                used_seed,
                engine,
                workers,
                result,
                drawn,
                carries,
                threads,
                regions,
            )
            if effects is not None:
                result.summary["effects"] = effects.summary()
        try:
            path = write_outputs(result, target, report=not no_report, figures=figures)
        except OSError as exc:  # a full disk, a permission fault: nothing is left half-written
            fail(f"--out: {target}: cannot write: {exc.strerror or exc} (nothing written)")
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        if figures is not None:
            figures.discard()
    out_console().print(run_kpi_table(result.summary))
    from sim.report import budget_notices

    for line in budget_notices(result.ledger):  # a budget that bound is news: say it here too
        print(line.replace("**", ""), flush=True)
    if effects is not None:
        out_console().print(effects_table(result.summary))
    written = "metrics.parquet, summary.json" + (", effects.csv" if effects is not None else "")
    written += ", report.md, figures/" if not no_report else ""
    written += ", orders, memberships, lapses, customers .parquet" if events else ""
    print(f"wrote {path}/ ({written})", flush=True)
    if cf is not None and (effects is None or len(effects.failed)):
        raise typer.Exit(3)


def _measure_effects(
    sc: Any,
    cf: tuple[str, str | None],
    replicates: int,
    seed: int,
    engine: str,
    workers: int | None,
    base: Any,
    parameters: list[dict[str, float]] | None = None,
    carries: str | None = None,
    threads: int | None = 1,
    regions: int = 1,
) -> Any:
    """Run the scenario and its twin over paired replicates (progress on stderr): here in
    turn, on `threads` threads of this process (None: as many as suit the market,
    `sim.effects.replicate_threads`, or one when each run is in `regions` regions, which
    use the cores already), or on `workers` processes; the Effects, or None (with a
    warning) when no pair finished. Failed runs are warned about."""
    import functools
    import time as _time

    from sim.counterfactual import twin_name
    from sim.effects import EffectsError, measure, replicate_threads
    from sim.experiments.executors import ThreadExecutor
    from sim.runner import run as run_scenario

    name, brand = cf
    if threads is None:
        threads = 1 if workers is not None or regions > 1 else replicate_threads(sc, engine)
    ex = (
        ThreadExecutor(threads)
        if threads > 1
        else None
        if workers is None
        else _executor(workers, None)
    )
    say = sys.stderr.isatty()  # a log gets warnings only: the run takes seconds
    if say:
        print(
            f"effects: {sc.name} against {twin_name(sc, name, brand)}, {replicates} paired "
            f"replicate(s), seeds {seed}–{seed + replicates - 1}"
            + ("" if ex is None else f", on {_executor_name(ex)}")
            + " …",
            file=sys.stderr,
            flush=True,
        )
    t0 = _time.perf_counter()
    with _progress_bar("effects") as bar:
        task = bar.add_task("effects", total=2 * replicates)
        try:
            fx = measure(
                sc,
                name,
                replicates,
                seed=seed,
                engine=engine,
                executor=ex,
                progress=lambda d, t: bar.update(task, completed=d, total=t),
                brand=brand,
                base=base,
                parameters=parameters,
                carries=carries,
                run_fn=None if regions == 1 else functools.partial(run_scenario, regions=regions),
            )
        except KeyboardInterrupt:
            print("interrupted: nothing written", file=sys.stderr)
            raise typer.Exit(130) from None
        except EffectsError as exc:
            print(f"warning: effects: {exc}; writing the attributed run only", file=sys.stderr)
            return None
    if say:
        took = _time.perf_counter() - t0
        print(f"effects: {2 * replicates} runs in {took:.1f} s", file=sys.stderr)
    if parameters is not None:
        print(f"effects: the intervals carry {fx.carries}", file=sys.stderr)
    if len(fx.failed):
        print(
            f"warning: {len(fx.failed)} run(s) failed; the effects leave their pairs out",
            file=sys.stderr,
        )
        for r in fx.failed.head(3).itertuples():
            print(f"  {r.side} replicate {r.replicate}: {one_line(r.error)[:200]}", file=sys.stderr)
    return fx


@app.command()
def validate(
    scenario: Annotated[str, typer.Argument(help="scenario file, or a shipped scenario's name")],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="override any key: path.to.key=value (repeatable)"),
    ] = None,
    consumers: Annotated[int | None, typer.Option(help=CONSUMERS_HELP)] = None,
) -> None:
    """Check a scenario file and print its fully resolved parameters (JSON)."""
    sc = load_or_fail(scenario, set_, consumers=consumers)
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


def _progress_bar(label: str) -> Progress:
    """A bar on stderr driven by completed runs, with elapsed time and an ETA."""
    from rich.progress import MofNCompleteColumn, TimeElapsedColumn

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("runs"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
        disable=not sys.stderr.isatty(),
    )


def _log_progress(done: int, total: int, t0: float, start: int = 0) -> None:
    """Without a terminal (a log, CI): a line at every tenth of the runs, with an ETA from
    the runs finished in this session (`start` were done before it)."""
    import time as _time

    if sys.stderr.isatty() or total == 0 or done <= start:
        return
    step = max(1, total // 10)
    if done % step and done != total:
        return
    spent = _time.perf_counter() - t0
    left = spent / (done - start) * (total - done)
    print(f"{done}/{total} runs, {spent:.0f} s, ETA {left:.0f} s", file=sys.stderr, flush=True)


def _executor(workers: int | None, scheduler: str | None, no_workers_s: float | None = None) -> Any:
    from sim.experiments.executors import NO_WORKERS_S, ExecutorError, make_executor

    if scheduler:
        _quiet_dask()
    try:
        return make_executor(
            workers, scheduler, NO_WORKERS_S if no_workers_s is None else no_workers_s
        )
    except ExecutorError as exc:
        fail(
            str(exc)
            if str(exc).startswith("--")
            else f"--scheduler: {exc}"
            if scheduler
            else str(exc)
        )


def _quiet_dask() -> None:
    """Dask logs a lost connection as tracebacks on stderr; the sweep reports it in one line
    of its own, so the command keeps only Dask's critical messages."""
    import logging

    try:
        import distributed  # noqa: F401  (configures its loggers on import)
    except ImportError:
        return
    for name in list(logging.root.manager.loggerDict):
        if name == "distributed" or name.startswith("distributed."):
            logging.getLogger(name).setLevel(logging.CRITICAL)


def _executor_name(ex: Any) -> str:
    if ex.name == "dask":
        return f"Dask cluster {ex.address} ({ex.workers} threads)"
    if ex.name == "serial":
        return "serial (in this process)"
    if ex.name == "threads":
        return f"{ex.workers} threads of this process"
    return "1 worker process (serial)" if ex.workers == 1 else f"{ex.workers} local processes"


WorkersOption = Annotated[
    int | None, typer.Option(help="local processes (1: serial; default: all cores)")
]
SchedulerOption = Annotated[str | None, typer.Option(help="run on a Dask cluster: tcp://HOST:PORT")]


NoWorkersOption = Annotated[
    float | None,
    typer.Option(
        "--no-workers-timeout",
        help="with --scheduler: stop when no Dask worker is there for this many seconds "
        "(default 60)",
    ),
]

EXIT_CODES = (
    "Exit codes: 0 every run done; 3 some runs failed (causes in manifest.parquet; --resume "
    "retries them); 2 bad input, or an --out that is unusable, not writable or locked by "
    "another sweep; 1 the executor was lost (--resume continues) or the report failed; "
    "130 interrupted (Ctrl-C; --resume continues)."
)


def _report_failures(failed: Any, target: Path, max_attempts: int) -> None:
    """Warn (stderr) about failed runs: how many, the first causes, what --resume does."""
    given_up = int((failed["attempts"] >= max_attempts).sum()) if "attempts" in failed else 0
    print(
        f"warning: {len(failed)} run(s) failed; causes in {target}/manifest.parquet"
        + (f"; {given_up} had all {max_attempts} attempts and are not retried" if given_up else "")
        + (
            f"; --resume retries the other {len(failed) - given_up}"
            if len(failed) > given_up
            else ""
        ),
        file=sys.stderr,
    )
    for r in failed.head(3).itertuples():
        print(f"  {r.run_id}: {one_line(r.error)[:200]}", file=sys.stderr)


@app.command(epilog=EXIT_CODES)
def sweep(
    experiment: Annotated[str, typer.Argument(help="experiment file, or a shipped one's name")],
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    out: Annotated[
        Path | None, typer.Option(help="results folder (default reports/sweeps/<name>/)")
    ] = None,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="complete an interrupted sweep in --out, retry failed runs"),
    ] = False,
    max_attempts: Annotated[
        int,
        typer.Option(help="attempts a run gets in all before --resume stops retrying it"),
    ] = 3,
    no_workers_timeout: NoWorkersOption = None,
    no_report: Annotated[
        bool, typer.Option("--no-report", help="skip the analysis, report.md and figures")
    ] = False,
) -> None:
    """Run an experiment's design (grid, lhs, sobol, morris) into a resumable results store.

    Each run is isolated: a run that fails, crashes or kills its worker is recorded as failed
    with its cause and the sweep goes on.
    """
    import time as _time

    from sim.experiments.design import build_design
    from sim.experiments.executors import ExecutorError
    from sim.experiments.report import write_sweep_report
    from sim.experiments.spec import load_experiment
    from sim.experiments.store import check_writable
    from sim.experiments.sweep import StoreError, StoreWriteError, prepare, run_sweep

    try:
        exp = load_experiment(experiment)
    except ScenarioError as exc:
        fail(str(exc))
    if max_attempts < 1:
        fail(f"--max-attempts: must be at least 1 (got {max_attempts})")
    if no_workers_timeout is not None and not no_workers_timeout > 0:
        fail(
            f"--no-workers-timeout: must be a positive number of seconds (got {no_workers_timeout})"
        )
    target = out or Path("reports") / "sweeps" / exp.name
    design = build_design(exp)
    try:
        manifest = prepare(exp, target, resume, design, max_attempts)
        check_writable(target)
    except StoreError as exc:
        fail(f"--out: {exc}")
    todo = int((manifest["status"] == "pending").sum())
    ex = _executor(workers, scheduler, no_workers_timeout)
    t0 = _time.perf_counter()
    print(
        f"{exp.name}: {len(manifest)} runs ({len(design)} points x {exp.replicates} "
        f"replicates), {todo} to run on {_executor_name(ex)}",
        file=sys.stderr,
        flush=True,
    )
    hint = f"siyu sweep {experiment} --out {target} --resume"
    state = {"done": len(manifest) - todo, "total": len(manifest)}
    with _progress_bar(exp.name) as bar:
        task = bar.add_task(exp.name, total=len(manifest))

        def progress(done: int, total: int) -> None:
            state.update(done=done, total=total)
            bar.update(task, completed=done, total=total)
            _log_progress(done, total, t0, len(manifest) - todo)

        try:
            result = run_sweep(
                exp, target, ex, resume=resume, progress=progress, max_attempts=max_attempts
            )
        except KeyboardInterrupt:
            print(
                f"interrupted: {state['done']} of {state['total']} runs are in {target}/; "
                f"finish with: {hint}",
                file=sys.stderr,
            )
            raise typer.Exit(130) from None
        except StoreWriteError as exc:
            fail(f"--out: {exc}; the finished runs are kept: make room and finish with: {hint}")
        except StoreError as exc:
            ex.shutdown(cancel=True)
            fail(f"--out: {exc}")
        except ExecutorError as exc:
            fail(
                f"{'--scheduler: ' if scheduler else ''}{exc}; the finished runs are kept in "
                f"{target}/: finish with: {hint}",
                code=1,
            )
    if not no_report:
        try:
            write_sweep_report(
                exp, result.design, result.manifest, result.results, target, _executor_name(ex)
            )
        except Exception as exc:  # the runs are safe in the store; say so in one line
            fail(
                f"report: {type(exc).__name__}: {exc} (the runs are in {target}/; "
                "rerun with --resume to retry the report)",
                code=1,
            )
    failed = result.failed
    took = _time.perf_counter() - t0
    print(
        f"wrote {target}/ ({result.ran} runs in {took:.0f} s, {result.skipped} already done, "
        f"{len(failed)} failed: results.parquet, manifest.parquet"
        + (", paths.parquet" if exp.paths else "")
        + (", report.md, figures/" if not no_report else "")
        + ")",
        flush=True,
    )
    if len(failed):
        _report_failures(failed, target, max_attempts)
        raise typer.Exit(3)


def _check_compare_size(scenarios: int, replicates: int) -> None:
    """Refuse a comparison of more runs than a sweep may have (the same limit and override)."""
    from sim.experiments.spec import MAX_RUNS
    from sim.params import ALLOW_LARGE_ENV, HARD_LIMIT, allow_large

    runs = scenarios * replicates
    if runs <= MAX_RUNS or (allow_large() and runs <= HARD_LIMIT):
        return
    hint = "" if allow_large() else f" (set {ALLOW_LARGE_ENV}=1 in the environment if you mean it)"
    limit = HARD_LIMIT if allow_large() else MAX_RUNS
    fail(
        f"--replicates: {scenarios} scenarios x {replicates:,} replicates = {runs:,} runs, "
        f"above the limit of {limit:,}{hint}"
    )


def targeted_overrides(overrides: list[str], scenarios: list[str]) -> list[list[str]]:
    """Each scenario's `--set` overrides for `siyu compare`: an override applies to every
    scenario, unless it starts with `N:` (the scenario's position, from 1) or `NAME:` (a
    scenario named once on the command line), when it applies to that one only. That is how
    a comparison sets a scenario against its own twin, changed in one lever only:
    `siyu compare beauty_guides beauty_guides --set 2:brands.brand.strategy.private_ops=false`.
    """
    out: list[list[str]] = [[] for _ in scenarios]
    for text in overrides:
        head, sep, rest = text.partition(":")
        if not sep or "=" in head or not (head.isdigit() or head in scenarios):
            for own in out:
                own.append(text)
            continue
        if head.isdigit():
            k = int(head) - 1
            if not 0 <= k < len(scenarios):
                fail(f"--set: {text}: no scenario {head} (give 1 to {len(scenarios)})")
        else:
            places = [i for i, name in enumerate(scenarios) if name == head]
            if len(places) > 1:
                fail(f"--set: {text}: {head} is given {len(places)} times; name it by position")
            k = places[0]
        out[k].append(rest)
    return out


@app.command(
    epilog="Exit codes: 0 every run done; 3 some runs failed (the differences use the pairs "
    "that finished; if none did, nothing is written); 2 bad input or an --out that cannot be "
    "written; 1 the executor was lost; 130 interrupted."
)
def compare(
    scenarios: Annotated[
        list[str],
        typer.Argument(
            help="two or more scenarios; the first is the reference (with --counterfactual, "
            "one or more: the first one's twin is the reference)"
        ),
    ],
    replicates: Annotated[int, typer.Option(help="paired runs of each scenario")] = 5,
    seed: Annotated[int, typer.Option(help="root seed of the common random numbers")] = 0,
    days: Annotated[int | None, typer.Option(help="override run.days of every scenario")] = None,
    consumers: Annotated[
        int | None, typer.Option(help=CONSUMERS_HELP.replace("run at", "run every scenario at"))
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="override a key in every scenario, or in one: N:key=value (its position, "
            "from 1) or NAME:key=value (repeatable)",
        ),
    ] = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    out: Annotated[
        Path | None, typer.Option(help="output folder (default reports/compare/<a>-vs-<b>/)")
    ] = None,
    counterfactual: Annotated[
        str | None,
        typer.Option(
            help="compare against the first scenario's counterfactual twin (NAME or "
            "NAME@BRAND: no_private_ops, no_guides, no_fission, no_nodes, "
            "no_private_discount or one the scenario declares), the reference column "
            "SCENARIO~NAME",
        ),
    ] = None,
    calibration: CalibrationOption = None,
    parameter_draws: ParameterDrawsOption = None,
) -> None:
    """Compare strategies with common random numbers: paired KPI differences with 95% CIs.

    With --counterfactual the reference is the first scenario's twin with that lever
    switched off, so `siyu compare beauty_guides --counterfactual no_private_ops` gives
    what private operations add."""
    from sim.experiments.compare import (
        CompareError,
        run_compare,
        shown_differences,
        write_compare,
    )
    from sim.experiments.executors import ExecutorError
    from sim.experiments.store import StoreError, cannot_write, check_writable
    from sim.params import NO_COUNTERFACTUAL

    with_twin = counterfactual is not None and counterfactual != NO_COUNTERFACTUAL
    if len(scenarios) < (1 if with_twin else 2):
        fail(
            "SCENARIO: give at least two scenarios (the first is the reference), or one "
            "with --counterfactual"
        )
    if replicates < 1:
        fail(f"--replicates: must be at least 1 (got {replicates})")
    _check_compare_size(len(scenarios) + with_twin, replicates)
    if seed < 0:
        fail(f"--seed: must be a non-negative integer (got {seed})")
    targeted = targeted_overrides(set_ or [], scenarios)
    loaded = [
        load_or_fail(s, own, days=days, consumers=consumers)
        for s, own in zip(scenarios, targeted, strict=True)
    ]
    if with_twin:
        from sim.counterfactual import twin

        name, brand = _twin_or_fail(loaded[0], counterfactual, scenarios[0])
        loaded = [twin(loaded[0], name, brand), *loaded]
    from sim.experiments.seeds import compare_seed

    drawn, carries = _draws_or_fail(
        calibration, parameter_draws, loaded[-1], [compare_seed(seed, k) for k in range(replicates)]
    )
    for sc in loaded[:-1] if drawn is not None else []:
        _draws_or_fail(calibration, parameter_draws, sc, [0])
    target = out or Path("reports") / "compare" / "-vs-".join(sc.name for sc in loaded)
    if target.exists() and not target.is_dir():
        fail(f"--out: {target}: exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not (target / "differences.csv").exists():
        fail(f"--out: {target}: folder exists and is not a comparison's output")
    try:
        check_writable(target)
    except StoreError as exc:
        fail(f"--out: {exc}")
    ex = _executor(workers, scheduler)
    with _progress_bar("compare") as bar:
        task = bar.add_task("compare", total=len(loaded) * replicates)
        try:
            res = run_compare(
                loaded,
                replicates,
                ex,
                seed=seed,
                progress=lambda d, t: bar.update(task, completed=d, total=t),
                parameters=drawn,
                carries=carries,
            )
        except KeyboardInterrupt:
            print("interrupted: nothing written", file=sys.stderr)
            raise typer.Exit(130) from None
        except CompareError as exc:
            fail(f"compare: {exc}; nothing written", code=3)
        except ExecutorError as exc:
            fail(f"{'--scheduler: ' if scheduler else ''}{exc}; nothing written", code=1)
    try:
        write_compare(res, target, days=days)
    except OSError as exc:
        fail(f"--out: {cannot_write(target, exc)}")
    table = Table(title=f"difference from {res.labels[0]} ({replicates} paired replicates)")
    for col in ("scenario", "brand", "KPI", "difference", "95% CI"):
        table.add_column(col, justify="left" if col in ("scenario", "brand", "KPI") else "right")
    for r in shown_differences(res.differences).itertuples():
        ci = f"[{r.low:.3g}, {r.high:.3g}]" if r.low == r.low else "–"
        table.add_row(r.scenario, r.brand, r.metric, f"{r.diff:.3g}", ci)
    out_console().print(table)
    files = "report.md, figures/, results.parquet, differences.csv, assumptions.csv"
    print(f"wrote {target}/ ({files})", flush=True)
    if len(res.failed):
        print(
            f"warning: {len(res.failed)} run(s) failed; the differences leave their pairs out "
            f"(listed in {target}/report.md)",
            file=sys.stderr,
        )
        for r in res.failed.head(3).itertuples():
            print(
                f"  {r.scenario} replicate {r.replicate}: {one_line(r.error)[:200]}",
                file=sys.stderr,
            )
        raise typer.Exit(3)


@app.command()
def calibrate(
    orders: Annotated[str, typer.Argument(help="order log: CSV, Parquet or CDNOW text")],
    calibration_end: Annotated[
        str,
        typer.Option(
            "--calibration-end",
            help="last day of the calibration period: a date (YYYY-MM-DD) or a number of "
            "weeks from the first order (39 on CDNOW); later orders are the holdout",
        ),
    ],
    base: Annotated[str, typer.Option(help="scenario the calibrated file extends")],
    out: Annotated[Path, typer.Option(help="folder for the report and calibrated.toml")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="cdnow, csv or parquet (default: by suffix)")
    ] = None,
    brand: Annotated[
        str | None, typer.Option(help="brand of the base the log belongs to (default: first)")
    ] = None,
    model: Annotated[str, typer.Option(help="bgnbd or mbgnbd")] = "bgnbd",
    need_share: Annotated[
        float,
        typer.Option(
            help="share of its customers' category needs the brand wins (the purchase rate "
            "is divided by it to give the need rate)"
        ),
    ] = 1.0,
    simulate: Annotated[
        bool,
        typer.Option(
            "--simulate",
            help="adjust the need rate by simulation so that new customers' first-year "
            "GMV in the scenario matches the fit's (a few runs of the base)",
        ),
    ] = False,
    sbc_trials: Annotated[
        int,
        typer.Option(
            help="simulation-based calibration: search the need rate and dropout mean in "
            "this many trials (3 runs each) so that the simulated repeat-buying curve matches "
            "the data's over the calibration weeks (0: off; 64 take under a minute on 2 "
            "cores)",
        ),
    ] = 0,
    sbc_consumers: Annotated[
        int, typer.Option(help="consumers of the simulation-based calibration's runs")
    ] = 60000,
    workers: Annotated[
        int | None,
        typer.Option(help="local processes for the simulation-based calibration's runs"),
    ] = None,
    scheduler: SchedulerOption = None,
    members: Annotated[
        str | None,
        typer.Option(
            help="member events file (CSV or Parquet): with --sbc-trials, the monthly joins "
            "and leaves become calibration targets"
        ),
    ] = None,
    sbc_keys: Annotated[
        str | None,
        typer.Option(
            help="keys the simulation-based calibration searches, comma-separated KEY or "
            "KEY=LOW:HIGH (a bare KEY: a third to three times its value); default: the need "
            "rate and the dropout mean"
        ),
    ] = None,
    ad_spend: Annotated[
        str | None,
        typer.Option(
            help="daily ad spend file (CSV or Parquet: date, spend): with --sbc-trials, the "
            "cumulative CAC of customers acquired through ads (the order log's source column) "
            "becomes a calibration target"
        ),
    ] = None,
) -> None:
    """Fit BG/NBD and Gamma-Gamma to an order log, validate on the holdout, and write a report
    and a scenario that extends the base with the fitted values (docs: README, "Calibrate to
    your order log")."""
    from sim.calibrate.data import FORMATS, DataError
    from sim.calibrate.report import calibrate as run_calibration
    from sim.calibrate.report import write
    from sim.experiments.executors import ExecutorError
    from sim.scenario import resolve_path

    if fmt is not None and fmt not in FORMATS:
        fail(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
    if model not in ("bgnbd", "mbgnbd"):
        fail(f"--model: {model!r} is not one of bgnbd, mbgnbd")
    if out.exists() and (
        not out.is_dir() or (any(out.iterdir()) and not (out / "calibrated.toml").exists())
    ):
        fail(f"--out: {clip(out)}: exists and is not a calibration's folder (refusing to replace)")
    if sbc_trials < 0:
        fail(f"--sbc-trials: must be at least 0 (got {sbc_trials})")
    if sbc_consumers < 1:
        fail(f"--sbc-consumers: must be at least 1 (got {sbc_consumers})")
    needs = [
        name
        for name, given in (
            ("--members", members),
            ("--sbc-keys", sbc_keys),
            ("--ad-spend", ad_spend),
        )
        if given is not None
    ]
    if needs and not sbc_trials:
        fail(f"{needs[0]}: needs --sbc-trials")
    sc = load_or_fail(base, None)
    if scheduler:
        _quiet_dask()
    ex = _executor(workers, scheduler) if sbc_trials else None
    try:
        base_path = resolve_path(base)
        cal, _ = run_calibration(
            orders,
            fmt,
            calibration_end,
            sc,
            brand,
            model,
            need_share,
            simulate=simulate,
            sbc_trials=sbc_trials,
            sbc_consumers=sbc_consumers,
            executor=ex,
            members_path=members,
            sbc_keys=sbc_keys,
            ad_spend_path=ad_spend,
        )
        write(cal, out, base_path, orders, base, fmt)
    except ExecutorError as exc:
        fail(f"{'--scheduler: ' if scheduler else ''}{exc}; nothing written", code=1)
    except (DataError, ValueError, ScenarioError) as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"--out: {clip(out)}: cannot write: {exc.strerror or exc}")
    fit, v = cal.transactions, cal.validation
    params = ", ".join(f"{k} {val:.4g}" for k, val in fit.params.items())
    print(f"{fit.model}: {params} (log-likelihood {fit.log_likelihood:,.1f}, {fit.n:,} customers)")
    if cal.spend is not None:
        sp = ", ".join(f"{k} {val:.4g}" for k, val in cal.spend.params.items())
        print(f"gamma-gamma: {sp}")
    print(
        f"holdout: cumulative repeat transactions {v.end_error:+.1%} at the end, "
        f"MAPE {v.holdout_mape:.1%}"
    )
    if cal.adjustment is not None:
        a = cal.adjustment
        print(
            f"simulation: need rate x {a.factor:.4g} gives 365-day GMV per new customer "
            f"{a.simulated:,.4g} (fit {a.target:,.4g})" + ("" if a.met else ", NOT matched")
        )
    if cal.sbc is not None and cal.curve_errors is not None:
        vals = ", ".join(
            f"{k.rpartition('.')[2]} {v:.4g} [{cal.sbc.interval[k][0]:.4g}, "
            f"{cal.sbc.interval[k][1]:.4g}]"
            for k, v in cal.sbc.best.items()
        )
        e = cal.curve_errors
        print(
            f"simulation-based calibration ({len(cal.sbc.trials)} trials, "
            f"{cal.sbc.seconds:.0f} s): {vals}; repeat-buying curve MAPE, calibration/holdout "
            f"weeks: as mapped {e['mapped']['calibration'].mape:.1%}/"
            f"{e['mapped']['holdout'].mape:.1%}, fitted {e['fitted']['calibration'].mape:.1%}/"
            f"{e['fitted']['holdout'].mape:.1%}"
        )
        for t in cal.sbc.targets:
            print(f"  target {t.name}: distance {t.distance:.3f} (weight {t.weight:g})")
    print(f"CLV of a new customer {cal.clv_new:,.4g} (365-day revenue {cal.revenue_365:,.4g})")
    extra = ", repeat_curve.png" if cal.sbc is not None else ""
    print(
        f"wrote {out}/ (report.md, tracking.png, conditional.png{extra}, fit.json, calibrated.toml)"
    )


OPTIMIZE_OPTIONS = {"brand", "budget", "objective", "lever", "trials", "counterfactual"}
"""The options an optimisation's setup errors name (`KEY: message` -> `--KEY: message`)."""


@app.command(
    epilog="Exit codes: 0 done; 2 bad input or an --out that cannot be written (nothing "
    "written); 1 a run failed or the executor was lost (nothing written); 130 interrupted "
    "(nothing written)."
)
def optimize(
    scenario: Annotated[str, typer.Argument(help="scenario file, or a shipped scenario's name")],
    brand: Annotated[
        str | None, typer.Option(help="the brand whose levers are searched (default: the only one)")
    ] = None,
    budget: Annotated[
        float | None,
        typer.Option(
            help="yuan a year the brand may spend (default: its annual_budget, else its own "
            "planned spend)"
        ),
    ] = None,
    lever: Annotated[
        list[str] | None,
        typer.Option(
            help="a lever to search instead of the default set: KEY=LOW:HIGH or KEY=A,B "
            "(a strategy key; repeatable)"
        ),
    ] = None,
    objective: Annotated[
        list[str] | None,
        typer.Option(
            help="contribution (default), npv, members, customers, gmv or private_share; "
            "several give the Pareto front (the first picks the best)"
        ),
    ] = None,
    trials: Annotated[int, typer.Option(help="allocations the optimiser tries")] = 30,
    replicates: Annotated[
        int, typer.Option(help="seeds each trial runs on (the same for every trial)")
    ] = 4,
    final_replicates: Annotated[
        int | None,
        typer.Option(
            help="fresh seeds the best and the own allocation are checked on (default "
            "max(2 x replicates, 8))"
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="root seed (default: the scenario's)")] = None,
    days: Annotated[int | None, typer.Option(help="horizon: override run.days")] = None,
    consumers: Annotated[int | None, typer.Option(help=CONSUMERS_HELP)] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="override any key: path.to.key=value (repeatable)"),
    ] = None,
    counterfactual: Annotated[
        str | None,
        typer.Option(
            help="the fixed twin objectives are measured against (default: the scenario's "
            "run.counterfactual for the brand, no_private_ops when none)"
        ),
    ] = None,
    executor: Annotated[
        str, typer.Option(help="processes (local), dask (with --scheduler) or serial")
    ] = "processes",
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    no_roi: Annotated[
        bool, typer.Option("--no-roi", help="skip the marginal ROI of each lever at the optimum")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(help="output folder (default reports/optimize/<scenario>-<brand>/)"),
    ] = None,
) -> None:
    """Search a brand's allocation across its levers for the best incremental contribution
    (or NPV, members, private share) under an annual budget, against a fixed counterfactual
    twin on common random numbers, and check the best against the scenario's own on fresh
    seeds."""
    import shlex
    import time as _time

    from sim.experiments.executors import ExecutorError, SerialExecutor
    from sim.experiments.optimize import (
        OptimizeError,
        check_setup,
        default_levers,
        own_values,
        parse_lever,
        repair,
    )
    from sim.experiments.optimize import optimize as run_optimize
    from sim.experiments.optimize_report import MARKER, write_optimize
    from sim.experiments.store import StoreError, check_writable
    from sim.scenario import resolve_path

    if trials < 1:
        fail(f"--trials: must be at least 1 (got {trials})")
    if replicates < 1:
        fail(f"--replicates: must be at least 1 (got {replicates})")
    if final_replicates is not None and final_replicates < 2:
        fail(f"--final-replicates: must be at least 2 (got {final_replicates})")
    if seed is not None and seed < 0:
        fail(f"--seed: must be a non-negative integer (got {seed})")
    if executor not in ("processes", "dask", "serial"):
        fail(f"--executor: unknown executor {executor!r} (known: processes, dask, serial)")
    if executor == "dask" and not scheduler:
        fail("--executor: dask needs --scheduler tcp://HOST:PORT")
    sc = load_or_fail(scenario, set_, days=days, consumers=consumers)
    if brand is None:
        if len(sc.brands) > 1:
            fail(
                f"--brand: {scenario} has {len(sc.brands)} brands: name one "
                f"({', '.join(sc.brands)})"
            )
        brand = next(iter(sc.brands))

    def option_error(exc: Exception) -> str:
        key, _, rest = str(exc).partition(": ")
        return f"--{key}: {rest}" if key in OPTIMIZE_OPTIONS else str(exc)

    try:
        objectives = list(objective or ["contribution"])
        used_budget = check_setup(sc, brand, budget, objectives)
        levers = [parse_lever(t, sc, brand) for t in lever] if lever else None
        searched = levers or default_levers(sc, brand, used_budget)
        repair(sc, brand, searched, own_values(sc, brand, searched), used_budget)  # lows fit
    except OptimizeError as exc:
        message = option_error(exc)
        fail(message if message.startswith("--") else f"--lever: {message}")
    if levers and len({lv.key for lv in levers}) != len(levers):
        fail("--lever: each key once")
    target = out or Path("reports") / "optimize" / f"{sc.name}-{brand}"
    if target.exists() and not target.is_dir():
        fail(f"--out: {target}: exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not (target / MARKER).exists():
        fail(f"--out: {target}: folder exists and is not an optimisation's output")
    try:
        check_writable(target)
    except StoreError as exc:
        fail(f"--out: {exc}")
    ex = SerialExecutor() if executor == "serial" else _executor(workers, scheduler)
    t0 = _time.perf_counter()

    def say(line: str) -> None:
        print(f"{_time.perf_counter() - t0:6.0f} s  {line}", file=sys.stderr, flush=True)

    try:
        res = run_optimize(
            sc,
            brand,
            budget=used_budget,
            levers=levers,
            objectives=objectives,
            trials=trials,
            replicates=replicates,
            final_replicates=final_replicates,
            seed=seed,
            counterfactual=counterfactual,
            executor=ex,
            roi=not no_roi,
            progress=say,
        )
    except KeyboardInterrupt:
        ex.shutdown(cancel=True)
        print("interrupted: nothing written", file=sys.stderr)
        raise typer.Exit(130) from None
    except OptimizeError as exc:
        ex.shutdown(cancel=True)
        message = option_error(exc)
        fail(f"{message}; nothing written", code=2 if message.startswith("--") else 1)
    except ExecutorError as exc:
        ex.shutdown(cancel=True)
        fail(f"{'--scheduler: ' if scheduler else ''}{exc}; nothing written", code=1)
    ex.shutdown()
    command = "siyu optimize " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    try:
        write_optimize(res, target, resolve_path(scenario), command)
    except OSError as exc:
        fail(f"--out: {target}: cannot write: {exc.strerror or exc} (nothing written)")
    best = ", ".join(f"{k}={_short_value(v)}" for k, v in res.best.values.items())
    own = ", ".join(f"{k}={_short_value(v)}" for k, v in res.own.items())
    print(f"own:  {own}")
    print(f"best: {best}")
    print(f"{res.brand}: {res.verdict}")
    print(f"wrote {target}/ (report.md, optimum.toml, trials.csv, figures/) in {res.seconds:.0f} s")


def _short_value(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _add_workshop_commands() -> None:
    """`siyu app` and `siyu game …` live in sim.workshop.cli."""
    from sim.workshop.cli import register

    register(app)


_add_workshop_commands()


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
        print(f"error: {one_line(exc.format_message())}{hint}", file=sys.stderr)
        sys.exit(2)
    except ClickException as exc:
        print(f"error: {one_line(exc.format_message())}", file=sys.stderr)
        sys.exit(getattr(exc, "exit_code", 1))
    except ScenarioError as exc:  # load_or_fail handles these; belt and braces
        print(f"error: {one_line(str(exc))}", file=sys.stderr)
        sys.exit(2)
    except typer.Abort:
        print("aborted", file=sys.stderr)
        sys.exit(1)
    sys.exit(rv if isinstance(rv, int) else 0)


def command() -> NoReturn:
    """The `siyu` program (pyproject's script, `python -m sim.cli`): `main`, then an exit
    without the interpreter's last full garbage collection (`gc.freeze`). A run leaves a few
    million objects (compiled code, tables, figures) whose final traversal took a quarter
    of a second of every command; they are still released as the interpreter exits, and
    only unreachable reference cycles are left to the operating system. Not in `main`,
    which tests call in their own process."""
    try:
        main()
    finally:
        gc.freeze()


if __name__ == "__main__":
    command()
