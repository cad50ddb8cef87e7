"""`report.md` of a sweep (and of a comparison): what was run, how it went, what it shows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.experiments.analysis import Section, analyse
from sim.experiments.design import Design
from sim.experiments.discovery import analyse_discovery
from sim.experiments.spec import Experiment, parse_metric
from sim.experiments.store import Store
from sim.experiments.strategy_map import analyse_maps
from sim.files import atomic_write
from sim.present.format import short
from sim.present.labels import kpi_label, series_label
from sim.present.tables import md_table_plain


def _factor_row(exp: Experiment, key: str) -> list[str]:
    f = exp.factors[key]
    if f.values is not None:
        what = ", ".join(f.label(v) for v in f.values)
    else:
        lo, hi = f.range or (0, 0)
        what = f"{lo:g} … {hi:g}" + (f" ({f.steps} steps)" if f.steps else "")
        what += " (integer)" if f.integer else ""
    return [f"`{key}`", short(key, list(exp.factors)), what]


def _metric_text(metric: str) -> str:
    """`ROI private of brand (`brands.brand.roi_private`, yuan per yuan)`."""
    who, name = parse_metric(metric, ())
    label, unit = kpi_label(name)
    whose = "every brand's " if who == "*" else ""
    return f"{whose}{series_label(who, name) if who != '*' else label} (`{metric}`" + (
        f", {unit})" if unit else ")"
    )


def _duration(seconds: float) -> str:
    """Seconds as the report shows them: two significant figures under ten seconds (a run of
    a small market takes a few hundredths), whole seconds under 90, else minutes."""
    if seconds < 10:
        return f"{seconds:.2g} s"
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min"


def render_sections(sections: list[Section]) -> list[str]:
    lines: list[str] = []
    for sec in sections:
        lines += [f"## {sec.title[:1].upper()}{sec.title[1:]}", ""]
        for text in sec.text:
            lines += [text, ""]
        for path, caption in sec.figures:
            lines += [f"![{sec.title}]({path})", "", f"*{caption}*", ""]
    return lines


def write_sweep_report(
    exp: Experiment,
    design: Design,
    manifest: pd.DataFrame,
    results: pd.DataFrame,
    folder: Path,
    executor: str = "",
    paths: pd.DataFrame | None = None,
) -> Path:
    """Analyse the finished runs and write `folder/report.md` (figures in folder/figures/);
    `paths` defaults to the store's paths.parquet in `folder`, if the sweep kept paths."""
    folder = Path(folder)
    if paths is None and exp.paths:
        paths = Store(folder).read_paths()
    sections = analyse(exp, design, results, folder, paths)
    if not results.empty:  # maps and discovered boxes first: they answer the question
        found = analyse_discovery(exp, design, results, folder) if exp.analysis.discover else []
        sections = analyse_maps(exp, design, results, folder) + found + sections
    done = int((manifest["status"] == "done").sum())
    failed = manifest[manifest["status"] == "failed"]
    pending = int((manifest["status"] == "pending").sum())
    busy = pd.to_numeric(manifest["duration_s"], errors="coerce")
    lines = [f"# Sweep: {exp.name}", ""]
    if exp.description:
        lines += [exp.description, ""]
    if exp.question:
        lines += [f"**Question.** {exp.question}", ""]
    lines += [
        f"Base scenario `{Path(exp.base_path).name}`"
        + (f", {exp.days} days" if exp.days else "")
        + f", {exp.population_note()}"
        + f"; design **{exp.design}**, {len(design)} points × {exp.replicates} replicate"
        + ("s" if exp.replicates > 1 else "")
        + f" = {len(manifest)} runs (root seed {exp.seed}).",
        "",
        f"Runs finished: **{done}**, failed: **{len(failed)}**"
        + (f", not yet run: **{pending}** (complete with `--resume`)" if pending else "")
        + f". Compute time {_duration(float(busy.sum()))} over runs"
        + (f" (mean {_duration(float(busy.mean()))} a run)" if busy.notna().any() else "")
        + (f"; executor: {executor}" if executor else "")
        + ".",
        "",
        "| factor | short name | values |",
        "|---|---|---|",
    ]
    lines += ["| " + " | ".join(_factor_row(exp, k)) + " |" for k in exp.factors]
    lines += ["", "KPIs kept: " + "; ".join(_metric_text(m) for m in exp.metrics) + "."]
    if exp.set:
        lines += [
            "",
            "Fixed for every run: " + ", ".join(f"`{k}` = {v!r}" for k, v in exp.set.items()) + ".",
        ]
    lines.append("")
    if len(failed):
        lines += ["## Failed runs", ""]
        rows = [
            [
                r.run_id,
                str(r.seed),
                str(getattr(r, "attempts", "")),
                str(r.error)[:200].replace("|", "\\|"),
            ]
            for r in failed.head(20).itertuples()
        ]
        lines += [
            "A failed run's cause is the exception it raised, or `worker died: signal …` when "
            "it crashed or was killed (out of memory, by a person). `--resume` retries it until "
            "it has had `--max-attempts` attempts.",
            "",
            md_table_plain(["run", "seed", "attempts", "last error"], rows),
            "",
        ]
    lines += render_sections(sections)
    lines += [
        "## Data",
        "",
        "`results.parquet` is the tidy table (one row per run × brand × KPI, with the factor "
        "values); `manifest.parquet` lists every run with its seed, status, error and timings; "
        "`runs/` holds one file per finished run."
        + (
            " `paths.parquet` holds the kept paths (one row per run × brand × KPI × "
            f"{exp.path_window}-day window: period, its last day, value)."
            if exp.paths
            else ""
        ),
        "",
        "```python",
        "import pandas as pd",
        f'df = pd.read_parquet("{folder.name}/results.parquet")',
        'df.groupby(["point", "brand", "metric"])["value"].mean()',
        "# or: duckdb.sql(\"select * from 'results.parquet'\")",
        "```",
        "",
    ]
    path = folder / "report.md"
    atomic_write(path, lambda p: p.write_text("\n".join(lines), encoding="utf-8"))
    return path
