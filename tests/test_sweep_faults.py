"""Sweeps that survive their runs: a run that crashes or kills its worker, Ctrl-C, a killed
parent, a Dask worker killed mid-sweep, a locked store, a full or read-only disk. Each ends
with the healthy runs done, the bad one recorded, and `--resume` equal to a sweep that was
never interrupted (results.parquet frames compared)."""

from __future__ import annotations

import errno
import functools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.experiments.executors import DaskExecutor, ProcessExecutor, SerialExecutor
from sim.experiments.seeds import compare_seed, run_seed
from sim.experiments.spec import load_experiment
from sim.experiments.store import Store, locked
from sim.experiments.sweep import StoreWriteError, run_sweep
from tests.helpers import cli
from tests.sweep_hooks import FAULT, MARKS, fault, faulty

ROOT = Path(__file__).resolve().parents[1]
TINY = """
name = "tiny_faults"
base = "beauty_guides"
design = "grid"
replicates = 2
days = 20
seed = 11
metrics = ["brands.brand.roi_private", "brands.brand.gmv", "market.private_share"]
[factors]
"brands.brand.strategy.private_discount" = [0.0, 0.2]
"categories.beauty.purchases_per_year" = [2.0, 8.0]
[set]
"run.consumers" = 120  # the population alone: a small, dense market that runs fast
"""
RUNS = 8
BAD = "p00001-r000"
BAD_SEED = run_seed(11, 1, 0)
WAIT_S = 180.0
"""Bound on every wait for a subprocess to reach a state (a loop bound, not an assertion)."""


@pytest.fixture(scope="module")
def exp_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("exp") / "tiny_faults.toml"
    path.write_text(TINY, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def serial(exp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The uninterrupted sweep every faulty one must end up equal to."""
    out = tmp_path_factory.mktemp("serial") / "out"
    return run_sweep(load_experiment(exp_path), out, SerialExecutor()).results


def resume_equals_serial(exp_path: Path, out: Path, serial: pd.DataFrame) -> pd.DataFrame:
    """Resume the sweep in `out` (no fault) and check it equals the uninterrupted one."""
    res = run_sweep(load_experiment(exp_path), out, SerialExecutor(), resume=True)
    pd.testing.assert_frame_equal(res.results, serial)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results.parquet"), serial)
    assert (res.manifest["status"] == "done").all() and res.manifest["run_id"].is_unique
    assert sorted(p.stem for p in (out / "runs").glob("*.parquet")) == sorted(
        res.manifest["run_id"]
    )
    return res.manifest


def without(frame: pd.DataFrame, run: str) -> pd.DataFrame:
    return frame[frame["run_id"] != run].reset_index(drop=True)


def alive(pid: int) -> bool:
    """A process that exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def wait_for(condition, what: str) -> None:
    """Poll `condition` until it holds (bounded by WAIT_S; failing the test past it)."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.1)


def siyu_with_faults(args: list, env: dict[str, str]) -> subprocess.Popen:
    """`siyu ARGS` in a subprocess (its own process group, like a shell job) whose sweeps
    run `faulty_run`."""
    full = {**os.environ, **env, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.sweep_hooks", *map(str, args)],
        cwd=ROOT,
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


# --------------------------------------------------------------------------- crashing runs


@pytest.mark.parametrize(
    ("kind", "workers", "signame"),
    [("segv", 1, "SIGSEGV"), ("abort", 2, "SIGABRT"), ("kill", 2, "SIGKILL")],
)
def test_run_that_kills_its_worker_is_recorded(
    exp_path: Path,
    serial: pd.DataFrame,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    workers: int,
    signame: str,
) -> None:
    out = tmp_path / "out"
    run_fn = faulty(kind, BAD_SEED)
    res = run_sweep(load_experiment(exp_path), out, ProcessExecutor(workers), run_fn=run_fn)
    failed = res.failed
    assert failed["run_id"].tolist() == [BAD]
    assert failed["error"].iloc[0].startswith(f"worker died: signal {signame}")
    assert failed["attempts"].iloc[0] == 1
    assert (res.manifest["status"] == "done").sum() == RUNS - 1
    pd.testing.assert_frame_equal(res.results, without(serial, BAD))
    on_disk = Store(out).read_manifest().set_index("run_id")
    assert on_disk.at[BAD, "status"] == "failed" and signame in on_disk.at[BAD, "error"]
    manifest = resume_equals_serial(exp_path, out, serial).set_index("run_id")
    assert manifest.at[BAD, "attempts"] == 2 and manifest.at[BAD, "error"] == ""


def test_attempts_cap_stops_retrying(
    exp_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    exp, out = load_experiment(exp_path), tmp_path / "out"
    sweep = functools.partial(run_sweep, run_fn=faulty("raise", BAD_SEED), max_attempts=2)
    first = sweep(exp, out, SerialExecutor())
    assert first.failed["run_id"].tolist() == [BAD] and first.given_up.empty
    second = sweep(exp, out, SerialExecutor(), resume=True)
    assert second.ran == 1 and second.given_up["run_id"].tolist() == [BAD]
    assert "RuntimeError: test fault" in second.failed["error"].iloc[0]
    third = sweep(exp, out, SerialExecutor(), resume=True)
    assert third.ran == 0 and third.given_up["attempts"].tolist() == [2]
    # the command line: failed runs exit 3, the run at the cap is named as not retried
    code, stdout, err = cli(
        ["sweep", exp_path, "--out", out, "--resume", "--max-attempts", "2"], capsys
    )
    assert code == 3, err
    assert "0 runs" in stdout and "1 failed" in stdout
    assert "not retried" in err and BAD in err and "Traceback" not in err
    report = (out / "report.md").read_text(encoding="utf-8")
    assert f"| {BAD} | {BAD_SEED} | 2 | RuntimeError: test fault" in report


# --------------------------------------------------------------------------- Ctrl-C, kill


def test_ctrl_c_stops_keeps_finished_runs_and_resumes(
    exp_path: Path, serial: pd.DataFrame, tmp_path: Path
) -> None:
    out, marks = tmp_path / "out", tmp_path / "marks"
    marks.mkdir()
    proc = siyu_with_faults(
        ["sweep", exp_path, "--out", out, "--workers", "2", "--no-report"],
        {FAULT: fault("block", BAD_SEED), MARKS: str(marks)},
    )
    try:
        wait_for(
            lambda: (
                any(marks.iterdir()) and len(list((out / "runs").glob("*.parquet"))) == RUNS - 1
            ),
            "every other run to finish",
        )
        blocked = int(next(marks.iterdir()).name.split("-")[1])
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        _, err = proc.communicate(timeout=WAIT_S)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    assert "--resume" in err and "Traceback" not in err
    manifest = Store(out).read_manifest().set_index("run_id")
    assert manifest.at[BAD, "status"] == "pending"
    assert (manifest["status"] == "done").sum() == RUNS - 1
    wait_for(lambda: not alive(blocked), "the blocked worker to end")
    resume_equals_serial(exp_path, out, serial)


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
def test_killed_parent_leaves_no_workers(
    exp_path: Path, serial: pd.DataFrame, tmp_path: Path, signum: int
) -> None:
    out, marks = tmp_path / "out", tmp_path / "marks"
    marks.mkdir()
    proc = siyu_with_faults(
        ["sweep", exp_path, "--out", out, "--workers", "2", "--no-report"],
        {FAULT: fault("block"), MARKS: str(marks)},
    )
    try:
        wait_for(lambda: len(list(marks.iterdir())) == 2, "both workers to start a run")
        workers = [int(p.name.split("-")[1]) for p in marks.iterdir()]
        assert all(alive(pid) for pid in workers)
        os.kill(proc.pid, signum)
        proc.wait(timeout=WAIT_S)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    wait_for(lambda: not any(alive(pid) for pid in workers), "the orphaned workers to end")
    # the dead parent's lock does not block the resume
    resume_equals_serial(exp_path, out, serial)


# --------------------------------------------------------------------------- Dask


def test_dask_worker_killed_mid_sweep(
    exp_path: Path, serial: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    distributed = pytest.importorskip("dask.distributed")
    import dask

    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), *sys.path]))
    out = tmp_path / "out"
    # one task per worker thread at a time, and no retry of a task whose worker died: only
    # the bad run is charged with the death
    config = {
        "distributed.scheduler.allowed-failures": 0,
        "distributed.scheduler.worker-saturation": 1.0,
    }
    with (
        dask.config.set(config),
        distributed.LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
    ):
        ex = DaskExecutor(cluster.scheduler_address)
        res = run_sweep(load_experiment(exp_path), out, ex, run_fn=faulty("kill", BAD_SEED))
    assert res.failed["run_id"].tolist() == [BAD]
    assert res.failed["error"].iloc[0].startswith("worker died")
    pd.testing.assert_frame_equal(res.results, without(serial, BAD))
    resume_equals_serial(exp_path, out, serial)


def test_dask_without_workers_is_one_line(
    exp_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(
        n_workers=0, processes=False, protocol="tcp", host="127.0.0.1", dashboard_address=None
    ) as cluster:
        args = ["sweep", exp_path, "--out", tmp_path / "o", "--scheduler"]
        args += [cluster.scheduler_address, "--no-workers-timeout", "1"]
        code, _, err = cli(args, capsys)
    assert code == 2, err
    assert err.startswith("error: --scheduler: no Dask worker") and len(err.splitlines()) == 1
    assert not (tmp_path / "o").exists()


# --------------------------------------------------------------------------- lock, disk


def test_store_lock(
    exp_path: Path, serial: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    run_sweep(load_experiment(exp_path), out, SerialExecutor())
    args = ["sweep", exp_path, "--out", out, "--resume", "--no-report"]
    with locked(out):
        code, _, err = cli(args, capsys)
        assert code == 2 and len(err.splitlines()) == 1
        assert f"locked by pid {os.getpid()}" in err
        # the library refuses too (the check under the lock, not only the early one)
        from sim.experiments.sweep import StoreLocked

        with pytest.raises(StoreLocked, match="locked by pid"):
            run_sweep(load_experiment(exp_path), out, SerialExecutor(), resume=True)
    # a lock file left by a process that died holds nothing
    (out / ".lock").write_text("999999999\n")
    code, stdout, err = cli(args, capsys)
    assert code == 0 and "0 runs" in stdout, err


@pytest.mark.parametrize("code_", [errno.EROFS, errno.ENOSPC, errno.EACCES])
def test_unwritable_out_refused_before_any_run(
    exp_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    code_: int,
) -> None:
    import sim.experiments.store as store

    def refuse(*args, **kwargs):
        raise OSError(code_, os.strerror(code_))

    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr(store.tempfile, "TemporaryFile", refuse)
    code, _, err = cli(["sweep", exp_path, "--out", out, "--workers", "1"], capsys)
    assert code == 2 and len(err.splitlines()) == 1 and "cannot write" in err, err
    cmp_args = ["compare", "public_only", "beauty_guides", "--replicates", "1", "--days", "5"]
    code, _, err = cli([*cmp_args, "--workers", "1", "--out", out], capsys)
    assert code == 2 and len(err.splitlines()) == 1 and "cannot write" in err, err
    assert list(out.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in a read-only folder")
def test_read_only_out_folder(
    exp_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        for out in (parent, parent / "new"):
            code, _, err = cli(["sweep", exp_path, "--out", out, "--workers", "1"], capsys)
            assert code == 2 and len(err.splitlines()) == 1 and str(parent) in err, err
    finally:
        parent.chmod(0o755)
    assert list(parent.iterdir()) == []


def test_disk_full_during_sweep_keeps_finished_runs(
    exp_path: Path,
    serial: pd.DataFrame,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "out"
    write_run = Store.write_run
    written: list[str] = []

    def fill_up(self: Store, run_id: str, rows: object) -> None:
        if len(written) == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        write_run(self, run_id, rows)
        written.append(run_id)

    monkeypatch.setattr(Store, "write_run", fill_up)
    with pytest.raises(StoreWriteError, match="no space left"):
        run_sweep(load_experiment(exp_path), out, ProcessExecutor(1))
    assert sorted(Store(out).finished()) == sorted(written)
    # the command line says it in one line, with the way to go on
    written.clear()
    other = tmp_path / "other"
    code, _, err = cli(["sweep", exp_path, "--out", other, "--workers", "1"], capsys)
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1, err
    assert "no space left" in errors[0] and "--resume" in errors[0] and "Traceback" not in err
    monkeypatch.setattr(Store, "write_run", write_run)
    manifest = resume_equals_serial(exp_path, out, serial)
    assert set(manifest.set_index("run_id").loc[written, "attempts"]) == {1}


# --------------------------------------------------------------------------- compare


def test_compare_survives_a_crashing_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sim import load_scenario
    from sim.effects import paired_differences
    from sim.experiments.compare import run_compare

    small = {"run.days": 20, "run.consumers": 120}
    scenarios = [load_scenario(n, small) for n in ("public_only", "beauty_guides")]
    clean = run_compare(scenarios, 3, SerialExecutor(), seed=5)
    run_fn = faulty("segv", compare_seed(5, 1))
    res = run_compare(scenarios, 3, ProcessExecutor(2), seed=5, run_fn=run_fn)
    assert sorted(res.failed["scenario"]) == ["beauty_guides", "public_only"]
    assert set(res.failed["replicate"]) == {1}
    assert res.failed["error"].str.startswith("worker died: signal SIGSEGV").all()
    # the surviving pairs are the differences: n is 2 wherever both runs define the KPI
    survivors = clean.runs[clean.runs["replicate"] != 1]
    expected = paired_differences(survivors, clean.labels)
    pd.testing.assert_frame_equal(res.differences, expected)
    assert res.differences["n"].max() == 2
    pd.testing.assert_frame_equal(
        res.runs, clean.runs[clean.runs["replicate"] != 1].reset_index(drop=True)
    )


def test_compare_with_failing_runs_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sim.experiments.compare as compare

    run_compare = compare.run_compare
    args = ["compare", "public_only", "beauty_guides", "--replicates", "2", "--days", "10"]
    args += ["--set", "run.consumers=80", "--workers", "1", "--seed", "3"]  # population alone
    # one replicate fails: the other pair is reported, exit 3
    monkeypatch.setattr(
        compare,
        "run_compare",
        functools.partial(run_compare, run_fn=faulty("raise", compare_seed(3, 0))),
    )
    code, stdout, err = cli([*args, "--out", tmp_path / "some"], capsys)
    assert "difference from public_only" in stdout
    assert code == 3, err
    assert "2 run(s) failed" in err and "RuntimeError: test fault" in err
    report = (tmp_path / "some" / "report.md").read_text(encoding="utf-8")
    assert "2 run(s) failed" in report
    # every run fails: one line, nothing written
    monkeypatch.setattr(
        compare, "run_compare", functools.partial(run_compare, run_fn=faulty("raise"))
    )
    code, _, err = cli([*args, "--out", tmp_path / "none"], capsys)
    assert code == 3 and len(err.splitlines()) == 1 and "every run failed" in err, err
    assert not (tmp_path / "none").exists()


def test_dask_workers_without_the_package_is_one_line(
    exp_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    distributed = pytest.importorskip("dask.distributed")
    import sim.experiments.executors as executors

    def missing() -> str:
        raise ModuleNotFoundError("No module named 'sim'")

    # the probe a worker runs first, as it fails on a worker without the package
    monkeypatch.setattr(executors, "package_version", missing)
    with distributed.LocalCluster(
        n_workers=1, processes=False, protocol="tcp", host="127.0.0.1", dashboard_address=None
    ) as cluster:
        args = ["sweep", exp_path, "--out", tmp_path / "o", "--scheduler"]
        code, _, err = cli([*args, cluster.scheduler_address], capsys)
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "cannot import siyu" in err and "siyu[cluster]" in err
    assert not (tmp_path / "o").exists()


class PathlessCheck(SerialExecutor):
    """A serial executor that first checks every task as a remote worker would get it: no
    file path in it, and it runs from its pickled bytes alone."""

    def __init__(self, forbidden: list[str]) -> None:
        self.forbidden = forbidden

    def imap(self, fn, items):
        import pickle

        def checked():
            for key, args in items:
                data = pickle.dumps(args)
                for text in self.forbidden:
                    assert text.encode() not in data, f"{text} shipped to a worker"
                yield key, pickle.loads(data)

        return super().imap(fn, checked())


def test_scenarios_are_shipped_as_data(
    exp_path: Path, serial: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exp = load_experiment(exp_path)
    # the base scenario's file and the experiment's folder never reach a worker
    monkeypatch.chdir(tmp_path)
    ex = PathlessCheck([exp.base_path, str(exp_path.parent), "beauty_guides.toml"])
    res = run_sweep(exp, tmp_path / "out", ex)
    pd.testing.assert_frame_equal(res.results, serial)
