"""Several cores for one command: `ThreadExecutor` and `siyu run --threads N`, whose results
must not depend on the number of threads (each run keeps its own generators)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.experiments.executors import ExecutorError, TaskFailed, ThreadExecutor
from tests.helpers import cli
from tests.test_cli import TINY


def square_or_fail(x: int) -> int:
    if x == 3:
        raise ValueError("three")
    return x * x


def test_thread_executor_runs_every_task_and_records_failures() -> None:
    ex = ThreadExecutor(2)
    got = dict(ex.imap(square_or_fail, [(k, (k,)) for k in range(7)]))
    ex.shutdown()
    assert sorted(got) == list(range(7))
    assert {k: v for k, v in got.items() if k != 3} == {k: k * k for k in range(7) if k != 3}
    assert isinstance(got[3], TaskFailed) and "ValueError: three" in got[3].cause
    with pytest.raises(ExecutorError, match="--threads must be at least 1"):
        ThreadExecutor(0)


def test_run_effects_are_the_same_bytes_on_one_or_two_threads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The replicates of `siyu run` on two threads give byte-identical effects and outputs to
    the same replicates run in turn."""
    path = tmp_path / "tiny.toml"
    path.write_text(TINY, encoding="utf-8")
    outs = []
    for threads in (1, 2):
        out = tmp_path / f"t{threads}"
        args = ["run", path, "--replicates", 3, "--days", 30, "--no-report", "--out", out]
        code, _, err = cli([*args, "--threads", threads], capsys)
        assert code == 0, err
        outs.append(out)
    for name in ("effects.csv", "metrics.parquet"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name


def test_replicates_take_every_core_only_for_a_large_market(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`siyu run`'s default: one thread below REPLICATE_THREADS_FROM consumer-days a run or
    on the reference engine; at or above it every usable core, as many as half the memory
    holds runs of the market at once (RUN_BYTES_PER_CONSUMER), at least one."""
    import sim.effects as effects
    import sim.machine as machine
    from sim.scenario import load_scenario

    path = tmp_path / "tiny.toml"
    path.write_text(TINY, encoding="utf-8")
    sc = load_scenario(path)  # 300 consumers x 60 days, two brands
    monkeypatch.setattr(machine, "usable_cores", lambda: 4)
    monkeypatch.setattr(machine, "physical_memory", lambda: 1 << 40)
    assert effects.replicate_threads(sc) == 1  # 18,000 consumer-days
    monkeypatch.setattr(effects, "REPLICATE_THREADS_FROM", 300 * 60)
    assert effects.replicate_threads(sc) == 4
    assert effects.replicate_threads(sc, "agents") == 1
    run_bytes = 300 * (effects.RUN_BYTES_PER_CONSUMER[0] + 2 * effects.RUN_BYTES_PER_CONSUMER[1])
    monkeypatch.setattr(machine, "physical_memory", lambda: 2 * 3 * run_bytes)
    assert effects.replicate_threads(sc) == 3  # half the memory holds three runs
    monkeypatch.setattr(machine, "physical_memory", lambda: run_bytes)
    assert effects.replicate_threads(sc) == 1
    monkeypatch.setattr(machine, "physical_memory", lambda: None)
    assert effects.replicate_threads(sc) == 4
    monkeypatch.setattr(effects, "REPLICATE_THREADS_FROM", 300 * 60 + 1)
    assert effects.replicate_threads(sc) == 1


def test_run_puts_the_replicates_on_the_threads_the_market_calls_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --threads, `siyu run` asks `replicate_threads` (with --workers it does not:
    the replicates go to the processes); --threads N is taken as given."""
    import sim.effects as effects
    import sim.experiments.executors as executors

    path = tmp_path / "tiny.toml"
    path.write_text(TINY, encoding="utf-8")
    used: list[int] = []
    real = executors.ThreadExecutor

    class Counted(real):  # type: ignore[misc, valid-type]
        def __init__(self, workers: int) -> None:
            used.append(workers)
            super().__init__(workers)

    monkeypatch.setattr(executors, "ThreadExecutor", Counted)
    monkeypatch.setattr(effects, "replicate_threads", lambda sc, engine="fast": 2)
    args = ["run", path, "--replicates", 2, "--days", 20, "--no-report"]
    cases = (([], [2]), (["--threads", 1], []), (["--threads", 3], [3]), (["--workers", 1], []))
    for k, (extra, want) in enumerate(cases):
        used.clear()
        code, _, err = cli([*args, *extra, "--out", tmp_path / f"out{k}"], capsys)
        assert code == 0, err
        assert used == want, extra
