"""One measurement in a fresh subprocess: the benchmarks' one way of starting a child,
stopping it on a timer and reading what it reports.

A child prints progress lines, which are echoed, and at the end one `RESULT {json}` line;
a child that measures several runs may print `PARTIAL {json}` after each, so that the runs
finished before a timeout or a crash still count. A child reads its own memory here too
(`status_bytes`, `reset_peak`, `maxrss_bytes`). Only the standard library is used: the
peer's cells run this under another interpreter (benchmarks/bench_peer.py), where the
package is not installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULT, PARTIAL = "RESULT ", "PARTIAL "
TAIL_LINES = 20
"""The last lines of a child's output kept for its error message."""


@dataclass
class Outcome:
    """What a child left: its `RESULT` and last `PARTIAL` payloads (None where it printed
    none), exit status, wall seconds, peak resident memory (bytes, 0 where unknown) and why
    it failed ("" when it did not)."""

    result: dict[str, Any] | None
    partial: dict[str, Any] | None
    returncode: int
    wall: float
    peak_rss: int = 0
    timed_out: bool = False
    error: str = ""
    tail: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.result is not None and self.returncode == 0


def status_bytes(key: str) -> int:
    """VmRSS / VmHWM of this process in bytes (0 where /proc is not available)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0: write 5 to clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def maxrss_bytes() -> int:
    """This process's peak RSS in bytes as getrusage gives it (where VmHWM is not reset)."""
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


def not_reached(seconds: float) -> str:
    """How a timeout reads in a report: what was not reached in how long."""
    if seconds >= 120:
        return f"not reached in {seconds / 60:.0f} min"
    return f"not reached in {seconds:.0f} s"


def failure(returncode: int, timed_out: bool, timeout: float, tail: Sequence[str]) -> str:
    """One line saying why a child gave no result."""
    if timed_out:
        return not_reached(timeout)
    if returncode == -9:
        return "killed (SIGKILL: out of memory?)"
    last = next((x for x in reversed(tail) if x.strip()), "")
    return f"exit code {returncode}: {last[-200:]}"


def run_child(
    cmd: Sequence[str | Path],
    env: Mapping[str, str],
    timeout: float,
    echo: Callable[[str], None] = print,
    cwd: Path | None = None,
) -> Outcome:
    """Run `cmd`, echo its progress lines as they come, kill it after `timeout` seconds,
    and return its `Outcome` (a child that cannot start is an Outcome with `error` set)."""
    t0 = time.perf_counter()
    try:
        proc = subprocess.Popen(
            [str(c) for c in cmd],
            cwd=cwd,
            env=dict(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    except OSError as exc:
        return Outcome(None, None, -1, 0.0, error=f"could not start: {exc}")
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        proc.kill()

    timer = threading.Timer(timeout, kill)
    timer.start()
    result = partial = None
    tail: list[str] = []
    peak = 0
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            if line.startswith(RESULT):
                result = json.loads(line[len(RESULT) :])
            elif line.startswith(PARTIAL):
                partial = json.loads(line[len(PARTIAL) :])
            else:
                tail = [*tail[-(TAIL_LINES - 1) :], line]
                echo(line)
        if hasattr(os, "wait4"):
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            peak = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
        else:  # no resource usage of a child on this system
            proc.wait()
    except BaseException:
        proc.kill()
        raise
    finally:
        timer.cancel()
    out = Outcome(
        result,
        partial,
        proc.returncode,
        time.perf_counter() - t0,
        peak_rss=peak,
        timed_out=timed_out.is_set(),
        tail=tail,
    )
    if not out.ok:
        out.error = failure(out.returncode, out.timed_out, timeout, tail)
    return out
