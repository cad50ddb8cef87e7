"""Regenerate the curated example reports under `reports/examples/`.

    python -m sim.examples              # every scenario in EXAMPLES
    python -m sim.examples NAME [NAME…]  # just these shipped scenarios

Each example is a shipped scenario run with its default seed, measured against its default
counterfactual twin as `siyu run` does (EXAMPLE_REPLICATES paired replicates), and written
as report.md, summary.json (with its effects), effects.csv and figures/ — without
metrics.parquet, so the committed folder stays small
(rerun `siyu run NAME` to get the ledger). `reports/README.md` is rewritten to list every
example folder present, so regenerating one example keeps the others listed.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sim.counterfactual import default_name
from sim.effects import measure
from sim.outputs import write_outputs
from sim.runner import run
from sim.scenario import ScenarioError, load_scenario, shipped_scenarios

EXAMPLES: list[str] = [
    "public_only",
    "beauty_guides",
    "guides_quota",
    "coffee_miniprogram",
    "fmcg_small_b",
    "fission_hunters",
    "brand_a",
    "private_serves_public",
    "adaptive_market",
]
"""The curated shipped scenarios, one per family, in reading order: the public baseline,
guides, the mini-program shop, small-B distribution, fission, brand A and its fix, the
adaptive market. If emptied, every shipped scenario (`scenarios/*.toml` not starting with
`_`) is an example."""

EXAMPLE_REPLICATES = 8
"""Paired replicates of each example's effects: `siyu run`'s default."""

REPORTS_DIR = Path(__file__).resolve().parent.parent / "reports"
EXAMPLES_DIR = REPORTS_DIR / "examples"
COMMAND = "python -m sim.examples"


def default_examples() -> list[str]:
    """EXAMPLES, or every shipped scenario's name while EXAMPLES is empty."""
    return list(EXAMPLES) or [p.stem for p in shipped_scenarios()]


def regenerate(
    names: Sequence[str] | None = None, root: Path = EXAMPLES_DIR, echo: bool = True
) -> list[Path]:
    """Run each named shipped scenario with its default seed and write its report into
    `root/<name>/` (no ledger); then rewrite the README beside `root`. Returns the folders."""
    names = list(names) if names else default_examples()
    say = print if echo else (lambda *_a, **_k: None)
    # load every scenario first, so a typo fails before any long run starts
    scenarios = [load_scenario(name) for name in names]
    done: list[Path] = []
    for i, sc in enumerate(scenarios, start=1):
        say(
            f"[{i}/{len(scenarios)}] {sc.name}: {sc.run.days} days, {sc.run.consumers:,} "
            f"consumers, {len(sc.brands)} brand(s), seed {sc.run.seed} …",
            flush=True,
        )
        t0 = time.perf_counter()
        result = run(sc)
        twin = default_name(sc)
        if twin is not None:
            fx = measure(sc, twin, EXAMPLE_REPLICATES, seed=result.seed, base=result)
            result.summary["effects"] = fx.summary()
        out = write_outputs(result, root / sc.name, report=True, ledger=False)
        say(f"      wrote {out} in {time.perf_counter() - t0:.1f}s", flush=True)
        done.append(out)
    readme = write_readme(root)
    say(f"wrote {readme}", flush=True)
    return done


def write_readme(root: Path = EXAMPLES_DIR) -> Path:
    """`reports/README.md` (beside `root`): one line per example folder, from its
    summary.json, and the command that regenerates them."""
    entries = []
    for folder in sorted(p for p in root.glob("*") if (p / "summary.json").is_file()):
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        desc = summary.get("description") or "(no description)"
        rel = folder.relative_to(root.parent).as_posix()
        entries.append(
            f"- [{folder.name}]({rel}/report.md) — {desc} (seed "
            f"{summary.get('seed')}, {summary.get('days')} days, "
            f"{summary.get('consumers'):,} consumers)"
        )
    lines = [
        "# Reports",
        "",
        "Curated example runs of the shipped scenarios, each with its default seed: a "
        "strategist's `report.md`, the KPI `summary.json` and `figures/`, and the effects "
        f"against the scenario's counterfactual twin (`effects.csv`, {EXAMPLE_REPLICATES} "
        "paired replicates). The daily ledger (`metrics.parquet`) is left out to keep the "
        "folder small; `siyu run NAME` writes it under `reports/runs/`.",
        "",
        "## Examples",
        "",
        *(entries or ["(none yet)"]),
        "",
        "## Regenerate",
        "",
        "```",
        f"{COMMAND}            # all curated examples (sim/examples.py: EXAMPLES)",
        f"{COMMAND} NAME ...   # only these shipped scenarios",
        "```",
        "",
        "Runs are deterministic for a given seed and code version, so a regenerated example "
        "changes only when the model or the scenario changed.",
        "",
    ]
    path = root.parent / "README.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: scenario names as arguments (default: EXAMPLES); 2 on a bad name."""
    args = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in args):
        print(__doc__)
        return 0
    try:
        regenerate(args or None)
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
