"""The README's experiment timings describe today's experiments: each shipped experiment's
fingerprint (its file, the scenario files its base reads, the package version) matches the
one recorded with its timing in benchmarks/timings.json, and the README's table shows the
recorded times. Fast: nothing is timed here; `python benchmarks/timings.py --write`
re-times every experiment (minutes) and rewrites both."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "timings.py"
FIX = "run python benchmarks/timings.py --write"


@pytest.fixture(scope="module")
def timings():
    spec = importlib.util.spec_from_file_location("timings", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_experiment_timing_is_current(timings) -> None:
    record = json.loads(timings.RECORD.read_text(encoding="utf-8"))
    problems = timings.stale(record)
    assert not problems, f"stale timings ({'; '.join(problems)}): {FIX}"


def test_readme_shows_the_recorded_times(timings) -> None:
    record = json.loads(timings.RECORD.read_text(encoding="utf-8"))
    text = timings.README.read_text(encoding="utf-8")
    assert timings.render_readme(text, record) == text, f"README timings table: {FIX}"


def test_a_changed_experiment_or_scenario_makes_its_timing_stale(
    timings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check can fail: an experiment edited, or a scenario its base extends, no longer
    matches its fingerprint."""
    import sim.experiments.spec as spec_mod
    import sim.scenario as scenario_mod

    (tmp_path / "exp").mkdir()
    (tmp_path / "sc").mkdir()
    (tmp_path / "sc" / "_root.toml").write_text("[run]\ndays = 30\n")
    (tmp_path / "sc" / "mid.toml").write_text('extends = "_root.toml"\n')
    exp = tmp_path / "exp" / "e.toml"
    exp.write_text('name = "e"\nbase = "../sc/mid.toml"\n')
    monkeypatch.setattr(spec_mod, "EXPERIMENT_DIR", tmp_path / "exp")
    monkeypatch.setattr(scenario_mod, "SCENARIO_DIR", tmp_path / "sc")
    record = {
        "experiments": {"e": {"seconds": 1.0, "fingerprint": timings.fingerprint(exp)}},
        "measured": {"engine": timings.engine_stamp()},
    }
    assert timings.stale(record) == []
    (tmp_path / "sc" / "_root.toml").write_text("[run]\ndays = 31\n")
    assert timings.stale(record) == ["e: the experiment, its scenarios or the version changed"]
    record["experiments"]["e"]["fingerprint"] = timings.fingerprint(exp)
    exp.write_text('name = "e"\nbase = "../sc/mid.toml"\nreplicates = 2\n')
    assert timings.stale(record) != []
    record["experiments"]["gone"] = record["experiments"].pop("e")
    assert timings.stale(record) == ["e: never timed", "gone: recorded but no longer shipped"]


def test_a_changed_engine_makes_every_timing_stale(
    timings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Timings describe the engine they ran on: once the fast engine's compiled sources
    change (its source stamp), every experiment must be timed again, and `--experiment`
    alone is refused, since the others would still describe the old engine."""
    record = json.loads(timings.RECORD.read_text(encoding="utf-8"))
    assert "every experiment: the fast engine changed since they were timed" not in (
        timings.stale(record)
    )
    monkeypatch.setattr(timings, "engine_stamp", lambda: "0" * 16)
    assert "every experiment: the fast engine changed since they were timed" in (
        timings.stale(record)
    )
    monkeypatch.setattr(timings, "time_sweep", lambda name: pytest.fail("timed a sweep"))
    assert timings.main(["--write", "--experiment", "facts_quota"]) == 2


def test_readme_rows_name_times_and_ranges(timings) -> None:
    text = (
        f"x\n{timings.BEGIN}\n| experiment | time |\n|---|---|\n| `a` | old |\n"
        f"| `f_*` (2 files) | old |\n| `b` | old |\n{timings.END}\n"
        f"a task takes {timings.TASK_BEGIN}old{timings.TASK_END} of compute\n"
    )
    record = {
        "experiments": {
            "a": {"seconds": 12.3, "task_seconds": 0.052},
            "f_1": {"seconds": 9.6, "task_seconds": 0.31},
            "f_2": {"seconds": 31, "task_seconds": 0.12},
            "b": {"seconds": 102, "task_seconds": 0.2},
        }
    }
    out = timings.render_readme(text, record)
    assert "| `a` | 12 s |" in out and "| `f_*` (2 files) | 10–31 s each |" in out
    assert "| `b` | 1.7 min |" in out
    assert f"takes {timings.TASK_BEGIN}0.052–0.31 s{timings.TASK_END} of compute" in out
    assert timings.render_readme(out, record) == out
