"""The `siyu` command: list, validate, params and a tiny run (in-process entry point)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

import sim.scenario as scenario_mod
from sim.docs import SECTIONS
from sim.params import Scenario
from sim.scenario import shipped_scenarios
from tests.helpers import cli

TINY = """
description = "tiny test market"
[run]
days = 60
consumers = 300
[brands.a]
stores = 2
store_visits_per_day = 5
[brands.a.strategy]
guides_per_store = 1
ad_budget_per_day = 300
[brands.b.strategy]
private_ops = false
ad_budget_per_day = 300
"""


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY, encoding="utf-8")
    return path


def test_list_shows_shipped_scenarios(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(["list"], capsys)
    assert code == 0, err
    assert "scenario" in out and "description" in out
    for path in shipped_scenarios():
        assert path.stem in out
    for path in scenario_mod.SCENARIO_DIR.glob("_*.toml"):
        assert path.stem not in out


def test_list_skips_bases_and_flags_broken_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "_common.toml").write_text('description = "BASE DESCRIPTION"\n')
    (tmp_path / "alpha.toml").write_text('extends = "_common.toml"\nsource_case = "Case A"\n')
    (tmp_path / "beta.toml").write_text('description = "Beta [bold]markup[/bold] text"\n')
    (tmp_path / "broken.toml").write_text("[run]\ndayz = 1\n")
    monkeypatch.setattr(scenario_mod, "SCENARIO_DIR", tmp_path)
    code, out, err = cli(["list"], capsys)
    assert code == 0, err
    assert "_common" not in out
    assert "alpha" in out and "BASE DESCRIPTION" in out and "Case A" in out
    assert "[bold]markup[/bold]" in out  # descriptions are data, not rich markup
    assert "broken" in out and "invalid" in out and "dayz" in out


def test_validate_prints_resolved_json(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(
        ["validate", tiny, "--set", "brands.a.strategy.guide_regime=quota"], capsys
    )
    assert code == 0, err
    data = json.loads(out)
    defaults = Scenario().model_dump(mode="json")
    assert data["name"] == "tiny"
    assert data["run"] == {
        "days": 60,
        "consumers": 300,
        "seed": defaults["run"]["seed"],
        "counterfactual": "no_private_ops",
    }
    assert data["population"] == defaults["population"]  # defaults filled in
    assert data["platform"] == defaults["platform"]
    strategy = data["brands"]["a"]["strategy"]
    assert strategy["guide_regime"] == "quota"
    assert (
        strategy["private_discount"] == defaults["brands"]["brand"]["strategy"]["private_discount"]
    )
    assert data == Scenario.model_validate(data).model_dump(mode="json")  # complete and valid


def test_validate_long_values_stay_valid_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "word " * 200
    (tmp_path / "long.toml").write_text(f'description = "{text}"\n')
    code, out, _ = cli(["validate", tmp_path / "long.toml"], capsys)
    assert code == 0
    assert json.loads(out)["description"] == text


def test_params_prints_every_section(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(["params"], capsys)
    assert code == 0
    assert out.startswith("# ")
    for title, model in SECTIONS:
        assert f"## `{title}`" in out
        for name in model.model_fields:
            assert f"| `{name}` |" in out


def test_run_writes_outputs_and_is_reproducible(
    tiny: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)  # piped output: the table's own width
    outs = {name: tmp_path / name for name in ("first", "again", "other")}
    seeds = {"first": 5, "again": 5, "other": 6}
    for name, out in outs.items():
        code, stdout, err = cli(
            ["run", tiny, "--seed", seeds[name], "--out", out, "--no-report", "--no-twin"],
            capsys,
        )
        assert code == 0, err
        assert sorted(p.name for p in out.iterdir()) == ["metrics.parquet", "summary.json"]
        assert f"wrote {out}/" in stdout
    # the KPI table is readable when stdout is not a terminal: headers are not truncated
    assert "private share" in stdout and "CAC private" in stdout and "repurchase" in stdout
    assert "…" not in stdout

    summary = json.loads((outs["first"] / "summary.json").read_text())
    assert (summary["scenario"], summary["seed"]) == ("tiny", 5)
    assert (summary["days"], summary["consumers"]) == (60, 300)
    assert set(summary["kpis"]["brands"]) == {"a", "b"}
    ledger = pd.read_parquet(outs["first"] / "metrics.parquet")
    assert len(ledger) == 60 * 2
    assert set(ledger["brand"]) == {"a", "b"}

    blob = {name: (out / "metrics.parquet").read_bytes() for name, out in outs.items()}
    assert blob["first"] == blob["again"]
    assert blob["first"] != blob["other"]


def test_run_options_override_the_file(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "short"
    code, _, err = cli(
        [
            "run",
            tiny,
            "--days",
            20,
            "--consumers",
            200,
            "--set",
            "brands.b.appeal=0.3",
            "--out",
            out,
            "--no-report",
        ],
        capsys,
    )
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["days"], summary["consumers"]) == (20, 200)
    assert summary["parameters"]["brands"]["b"]["appeal"] == 0.3
    assert summary["seed"] == summary["parameters"]["run"]["seed"]
    # a previous run's folder is replaced, not merged into
    (out / "stale.txt").write_text("old")
    code, _, err = cli(
        ["run", tiny, "--days", 10, "--consumers", 100, "--out", out, "--no-report"], capsys
    )
    assert code == 0, err
    assert not (out / "stale.txt").exists()
    assert json.loads((out / "summary.json").read_text())["days"] == 10


def test_unknown_scenario_suggests_the_shipped_name(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(["run", "beauty_guide", "--no-twin"], capsys)
    assert code == 2 and out == ""
    assert err == (
        "error: beauty_guide: no such file (and no shipped scenario of that name) "
        "(did you mean 'beauty_guides'?)\n"
    )


def test_unknown_experiment_suggests_the_shipped_name(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = cli(["sweep", "fission_rewards"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.endswith("(did you mean 'fission_reward'?)\n")


def test_a_child_adding_a_brand_is_noted_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "rival.toml").write_text(
        'extends = "public_only"\n[brands.rival]\ncategory = "beauty"\n', encoding="utf-8"
    )
    code, out, err = cli(["validate", tmp_path / "rival.toml"], capsys)
    assert code == 0
    assert set(json.loads(out)["brands"]) == {"brand", "rival"}
    assert err.startswith("note: ") and err.count("\n") == 1
    assert "adds rival and keeps brand from public_only.toml" in err


def test_overridden_runs_get_folders_of_their_own(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --out a run with --set/--days/--consumers writes reports/runs/<scenario>-<seed>-
    <hash of the overrides>/: it never replaces the file's own run or another override's,
    and the same command (spacing aside) writes the same folder again."""
    monkeypatch.chdir(tmp_path)
    runs = tmp_path / "reports" / "runs"

    def run(*extra: object) -> Path:
        code, out, err = cli(["run", tiny, "--no-report", "--no-twin", *extra], capsys)
        assert code == 0, err
        [folder] = [line.split()[1].rstrip("/") for line in out.splitlines() if "wrote" in line]
        return Path(folder)

    plain = run()
    assert plain == Path("reports/runs/tiny-1")
    low = run("--set", "brands.b.appeal=0.3")
    high = run("--set", "brands.b.appeal=0.6")
    short = run("--days", 20)
    assert len({plain, low, high, short}) == 4
    assert low.name.startswith("tiny-1-") and len(low.name) == len("tiny-1-") + 8
    assert run("--set", "brands.b.appeal = 0.30") == low  # the value as read
    assert run("--set", "run.days=20") == short  # the same run, the same folder
    params = {
        p.name: json.loads((p / "summary.json").read_text())["parameters"] for p in runs.iterdir()
    }
    assert params[low.name]["brands"]["b"]["appeal"] == 0.3
    assert params[high.name]["brands"]["b"]["appeal"] == 0.6
    assert params[plain.name]["run"]["days"] == 60 and params[short.name]["run"]["days"] == 20


def test_run_engine_default_is_fast_and_agents_still_runs(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for engine in (None, "agents"):
        out = tmp_path / (engine or "default")
        extra = ["--engine", engine] if engine else []
        args = ["run", tiny, "--days", 10, "--consumers", 100, "--out", out, "--no-report"]
        code, _, err = cli([*args, "--replicates", 2, *extra], capsys)
        assert code == 0, err
        assert json.loads((out / "summary.json").read_text())["engine"] == (engine or "fast")


def test_no_arguments_shows_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli([], capsys)
    assert code == 2
    assert "Usage" in out + err and "run" in out + err
    code, out, _ = cli(["--help"], capsys)
    assert code == 0 and "validate" in out


def test_set_values_are_toml_literals(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--set run.days=30` is the integer 30; `--set 'run.days="30"'` is a string: refused."""
    code, out, err = cli(["validate", tiny, "--set", "run.days=30"], capsys)
    assert code == 0, err
    assert json.loads(out)["run"]["days"] == 30
    code, out, err = cli(["validate", tiny, "--set", 'run.days="30"'], capsys)
    assert code == 2 and out == "" and err.startswith("error: --set: run.days: ")


def test_run_measures_effects_against_the_twin(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """By default `siyu run` prints the attributed KPIs (labelled so), then the effects of the
    default twin with intervals; it writes them to summary.json and effects.csv."""
    monkeypatch.delenv("COLUMNS", raising=False)
    out = tmp_path / "fx"
    code, stdout, err = cli(["run", tiny, "--replicates", 3, "--out", out, "--no-report"], capsys)
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == [
        "effects.csv",
        "metrics.parquet",
        "summary.json",
    ]
    assert "attributed KPIs" in stdout
    assert "effects: tiny − tiny~no_private_ops" in stdout
    assert "Δ contribution" in stdout and "incremental ROI" in stdout and "payback day" in stdout
    assert stdout.index("attributed KPIs") < stdout.index("Δ contribution")
    summary = json.loads((out / "summary.json").read_text())
    fx = summary["effects"]
    assert (fx["counterfactual"], fx["twin"], fx["replicates"]) == (
        "no_private_ops",
        "tiny~no_private_ops",
        3,
    )
    assert fx["seeds"] == [summary["seed"], summary["seed"] + 1, summary["seed"] + 2]
    assert fx["brands_changed"] == ["a"]
    table = pd.read_csv(out / "effects.csv")
    assert set(table["brand"]) == {"a", "b", "market"}
    assert table["n"].eq(3).all()
    # another twin, for one brand
    args = ["--replicates", 2, "--counterfactual", "no_guides@a", "--no-report"]
    code, stdout, err = cli(["run", tiny, *args, "--out", out], capsys)
    assert code == 0, err
    assert json.loads((out / "summary.json").read_text())["effects"]["twin"] == ("tiny~no_guides@a")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="figures are drawn aside on Linux")
def test_run_draws_the_figures_aside_while_the_twin_runs(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`siyu run` starts drawing the report's figures in a forked child before the twin's
    replicates (`sim.report.start_figures`); the report is the one drawn in-process, and no
    scratch folder is left."""
    import sim.present.forked as forked

    started = []
    real = forked.draw_aside

    def spy(*args, **kwargs):
        drawing = real(*args, **kwargs)
        started.append(drawing)
        return drawing

    monkeypatch.setattr(forked, "draw_aside", spy)
    monkeypatch.setattr("sim.report.draw_aside", spy)
    monkeypatch.setattr(forked, "usable_cores", lambda: 2)  # a one-core CI box, too
    monkeypatch.setattr(forked, "threads", lambda: 1)  # an idle thread an earlier test left
    outs = {}
    for switch in ("1", "0"):
        monkeypatch.setenv(forked.SWITCH, switch)
        outs[switch] = tmp_path / "outs" / f"aside{switch}"
        code, _, err = cli(["run", tiny, "--replicates", 2, "--out", outs[switch]], capsys)
        assert code == 0, err
    assert started[0] is not None and started[1] is None
    files = {k: sorted(p.relative_to(out) for p in out.rglob("*.png")) for k, out in outs.items()}
    assert len(files["1"]) >= 6 and files["1"] == files["0"]
    for name in [*files["1"], Path("report.md")]:
        assert (outs["1"] / name).read_bytes() == (outs["0"] / name).read_bytes(), name
    assert sorted(p.name for p in (tmp_path / "outs").iterdir()) == ["aside0", "aside1"]


def test_run_without_twin(tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for i, flag in enumerate((["--no-twin"], ["--counterfactual", "none"])):
        out = tmp_path / f"alone{i}"
        code, stdout, err = cli(["run", tiny, *flag, "--out", out, "--no-report"], capsys)
        assert code == 0, err
        assert "effects" not in json.loads((out / "summary.json").read_text())
        assert not (out / "effects.csv").exists()
        assert "Δ contribution" not in stdout and "attributed KPIs" in stdout


@pytest.mark.parametrize(
    ("args", "start"),
    [
        (["--counterfactual", "nope"], "error: --counterfactual: nope: unknown counterfactual"),
        (["--counterfactual", "no_guides@zz"], "error: --counterfactual: zz: unknown brand"),
        (["--replicates", "0"], "error: --replicates: must be at least 1"),
        (["--set", "run.counterfactual=nope"], "error: --set: run.counterfactual: unknown"),
        (["--threads", "0"], "error: --threads: must be at least 1"),
        (["--threads", "2", "--workers", "2"], "error: --threads: the replicates run either"),
    ],
)
def test_run_bad_counterfactual_is_one_line(
    tiny: Path,
    tmp_path: Path,
    args: list[str],
    start: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "bad"
    code, stdout, err = cli(["run", tiny, *args, "--out", out], capsys)
    assert code == 2 and stdout == ""
    assert len(err.splitlines()) == 1 and err.startswith(start), err
    assert not out.exists()


def test_compare_against_a_counterfactual(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`siyu compare SCENARIO --counterfactual NAME`: the twin is the reference column and
    the only parameter that differs is the lever."""
    out = tmp_path / "cmp"
    code, stdout, err = cli(
        [
            "compare",
            tiny,
            "--counterfactual",
            "no_private_ops",
            "--replicates",
            2,
            "--workers",
            1,
            "--days",
            20,
            "--out",
            out,
        ],
        capsys,
    )
    assert code == 0, err
    assert "difference from tiny~no_private_ops" in stdout
    diffs = pd.read_csv(out / "differences.csv")
    assert set(diffs["vs"]) == {"tiny~no_private_ops"} and set(diffs["scenario"]) == {"tiny"}
    assumptions = pd.read_csv(out / "assumptions.csv")
    assert list(assumptions["parameter"]) == ["brands.a.strategy.private_ops"]
    assert list(assumptions.columns) == ["parameter", "tiny~no_private_ops", "tiny"]
    code, _, err = cli(["compare", tiny, "--counterfactual", "nope", "--out", out], capsys)
    assert code == 2 and err.startswith("error: --counterfactual: nope: unknown counterfactual")
    code, _, err = cli(["compare", tiny, "--out", out], capsys)
    assert code == 2 and "at least two scenarios" in err


def test_a_module_imported_aside_loads_or_fails_silently(capfd: pytest.CaptureFixture[str]) -> None:
    """`cli._import_aside` (the report's imports while the runs go) imports the module on
    a thread; a module that cannot be imported is left to the import that needs it, with
    nothing printed."""
    import importlib
    import sys
    import threading

    from sim import cli

    sys.modules.pop("colorsys", None)
    for name in ("colorsys", "sim.no_such_module"):
        cli._import_aside(name)
        for thread in threading.enumerate():
            if thread.name == "siyu-import":
                thread.join(timeout=30)
    assert "colorsys" in sys.modules
    assert capfd.readouterr() == ("", "")
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("sim.no_such_module")
