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
