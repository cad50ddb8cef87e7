"""A run report's figures drawn on the second core (`sim.present.forked`,
`sim.report.start_figures`): the same files as drawn in the report's own process, the
report whole when the child fails or hangs, nothing left behind, and no child forked where
that is unsafe or switched off."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import pytest

from sim.present import forked
from sim.report import (
    FIGURES,
    FigurePlan,
    PendingFigures,
    figure_plan,
    start_figures,
    write_report,
)
from sim.runner import run
from sim.scenario import load_scenario

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or forked.usable_cores() < 2,
    reason="figures are drawn aside on Linux with two cores",
)


@pytest.fixture(autouse=True)
def one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test process as `siyu run` is when it forks: one thread (an earlier test in this
    worker may have left an idle one; the thread check itself is tested below)."""
    monkeypatch.setattr(forked, "threads", lambda: 1)


@pytest.fixture(scope="module")
def result():
    return run(load_scenario("beauty_guides", {"run.days": 120, "run.consumers": 400}), 3)


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_figures_drawn_aside_are_the_bytes_drawn_here(result, tmp_path: Path) -> None:
    write_report(result, tmp_path / "here")
    pending = start_figures(result, tmp_path)
    assert pending.drawing is not None, "a child should draw them (single thread, two cores)"
    child = pending.drawing.pid
    write_report(result, tmp_path / "aside", pending)
    here, aside = _files(tmp_path / "here"), _files(tmp_path / "aside")
    assert sorted(aside) == sorted(here)
    assert len([f for f in here if f.startswith(FIGURES + "/")]) >= 6
    assert aside == here
    assert not _alive(child)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aside", "here"]  # no scratch left


def _plan_failing_in_child(plan: FigurePlan, parent: int) -> FigurePlan:
    """`plan` whose first figure raises when drawn by any process but `parent`."""
    first = plan.figures[0]

    def draw(path: Path) -> None:
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        first.draw(path)

    figures = [type(first)(first.file, first.title, first.caption, draw), *plan.figures[1:]]
    return FigurePlan(plan.days, plan.focus, plan.window, figures)


def test_a_failing_child_leaves_the_figures_to_the_report(result, tmp_path: Path) -> None:
    write_report(result, tmp_path / "here")
    plan = _plan_failing_in_child(figure_plan(result), os.getpid())
    drawing = forked.draw_aside(plan.draw, [f.file for f in plan.figures], tmp_path)
    assert drawing is not None
    assert not drawing.wait()  # the child failed
    write_report(result, tmp_path / "aside", PendingFigures(plan, drawing))
    assert _files(tmp_path / "aside") == _files(tmp_path / "here")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aside", "here"]


def test_a_child_still_drawing_is_stopped_and_leaves_nothing(tmp_path: Path) -> None:
    def slow(folder: Path) -> None:
        time.sleep(60)

    drawing = forked.draw_aside(slow, ["a.png"], tmp_path)
    assert drawing is not None
    pid = drawing.pid
    assert not drawing.take(tmp_path, timeout=0.2)  # it hangs: stopped, nothing moved
    assert not _alive(pid)
    assert list(tmp_path.iterdir()) == []
    drawing = forked.draw_aside(slow, ["a.png"], tmp_path)
    pid = drawing.pid
    drawing.discard()  # the report is not written (an error, an interrupt)
    assert not _alive(pid)
    assert list(tmp_path.iterdir()) == []


def test_no_child_with_other_threads_or_switched_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def draw(folder: Path) -> None:
        (folder / "a.png").write_bytes(b"x")

    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    monkeypatch.setattr(forked, "threads", threading.active_count)  # the real count
    try:
        assert not forked.can_fork()
        assert forked.draw_aside(draw, ["a.png"], tmp_path) is None
    finally:
        release.set()
        other.join()
    monkeypatch.setattr(forked, "threads", lambda: 1)
    monkeypatch.setenv(forked.SWITCH, "0")
    assert forked.draw_aside(draw, ["a.png"], tmp_path) is None
    monkeypatch.delenv(forked.SWITCH)
    drawing = forked.draw_aside(draw, ["a.png"], tmp_path)
    assert drawing is not None
    (tmp_path / "into").mkdir()
    assert drawing.take(tmp_path / "into")
    assert (tmp_path / "into" / "a.png").read_bytes() == b"x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["into"]
