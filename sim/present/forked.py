"""Drawing a report's figures on the machine's second core while this process goes on.

A run's report spends most of its time drawing figures (matplotlib's layout and rendering,
about a second for a run report), and `siyu run` has other work to do once the run is
over: the twin's replicates, the tables, the files. `draw_aside` forks a child that draws
the figures into a scratch folder while this process does that work; the report then takes
the child's files (`Drawing.take`), or draws them itself wherever the child could not. The
child runs the very code this process would, on a copy of its memory, so the files are the
same bytes either way.

The child is forked only where that is safe and useful: on Linux (elsewhere a forked child
of a process that has used the system's frameworks may crash or hang), with two cores or
more for this process, and while this process runs a single thread (a fork copies only the
calling thread, so a lock another thread held would stay locked in the child).
`SIYU_FIGURES_ASIDE=0` switches it off.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from sim.machine import usable_cores

SWITCH = "SIYU_FIGURES_ASIDE"
"""The environment variable that switches drawing aside off ("0")."""

WAIT_SECONDS = 60.0
"""How long `Drawing.take` waits for the child before it stops it and the caller draws the
figures itself: a run report's figures take a second or two (they show at most a few
brands, whatever the market's size), so a child still drawing after a minute is stuck; it
costs that minute once, never a wrong file."""


def threads() -> int:
    """The threads this process runs now (a fork copies only the calling one)."""
    return threading.active_count()


def can_fork() -> bool:
    """Whether figures may be drawn in a forked child now (see the module's docstring)."""
    return (
        sys.platform.startswith("linux")
        and os.environ.get(SWITCH, "1") != "0"
        and usable_cores() >= 2
        and threads() == 1
    )


class Drawing:
    """Figures a forked child is drawing into `folder` (`draw_aside`)."""

    def __init__(self, pid: int, folder: Path, files: Sequence[str]) -> None:
        self.pid: int | None = pid
        self.folder = folder
        self.files = list(files)
        self.status: int | None = None

    def wait(self, timeout: float = WAIT_SECONDS) -> bool:
        """Wait for the child; whether it drew every file. A child still drawing after
        `timeout` seconds is stopped (and counts as failed)."""
        if self.pid is not None:
            end = time.monotonic() + timeout
            while True:
                try:
                    pid, status = os.waitpid(self.pid, os.WNOHANG)
                except ChildProcessError:  # reaped elsewhere: its outcome is unknown
                    self.pid = None
                    break
                if pid:
                    self.pid, self.status = None, status
                    break
                if time.monotonic() > end:
                    self._stop()
                    break
                time.sleep(0.005)
        return self.status == 0 and all((self.folder / f).is_file() for f in self.files)

    def take(self, into: Path, timeout: float = WAIT_SECONDS) -> bool:
        """Move the child's files into folder `into` once it has drawn them all; False,
        with nothing moved, where it did not (the caller then draws them)."""
        ok = self.wait(timeout)
        try:
            if ok:
                for f in self.files:
                    shutil.move(self.folder / f, into / f)  # a rename on one disk
        finally:
            self.discard()
        return ok

    def discard(self) -> None:
        """Stop the child if it is still drawing and remove its folder."""
        self._stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _stop(self) -> None:
        if self.pid is None:
            return
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        self.pid, self.status = None, -1


def draw_aside(draw: Callable[[Path], None], files: Sequence[str], near: Path) -> Drawing | None:
    """Fork a child that calls `draw(folder)`, which writes `files` into a fresh scratch
    folder made in folder `near` (on the disk the report goes to, so taking the files is a
    rename); None, with nothing started, where drawing aside is not possible
    (`can_fork`) or the folder cannot be made."""
    if not can_fork():
        return None
    try:
        folder = Path(tempfile.mkdtemp(prefix=".siyu-figures-", dir=near))
    except OSError:
        return None
    for stream in (sys.stdout, sys.stderr):  # nothing buffered is written twice
        with contextlib.suppress(Exception):
            stream.flush()
    try:
        pid = os.fork()
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        return None
    if pid == 0:  # the child: draw, then leave at once (no exit handlers, no buffers)
        code = 1
        try:
            with open(os.devnull, "w") as quiet, contextlib.redirect_stderr(quiet):
                draw(folder)
            code = 0
        except BaseException:  # the parent draws them itself, and meets the error there
            pass
        finally:
            os._exit(code)
    return Drawing(pid, folder, files)
