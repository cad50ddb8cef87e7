"""`siyu app` never leaves its Solara server behind: stopped with SIGTERM, SIGINT (Ctrl-C) or
SIGHUP (the terminal closed), the server's process is gone and the port free. Loopback
only; every wait bounded. Skipped where solara is not installed or not on Linux (the test
reads the process tree from /proc). SIGTERM runs in CI; SIGINT and SIGHUP under `-m heavy`
(each start of the server takes some seconds)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("solara", reason="solara is not installed (pip install -e '.[app]')")
if not Path("/proc/self/task").is_dir():
    pytest.skip("reads the process tree from /proc (Linux)", allow_module_level=True)

START_WAIT = 90.0
STOP_WAIT = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        out += [int(c) for c in text]
    return out


def alive(pid: int) -> bool:
    """Running (not gone, not a zombie waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def serving(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def until(cond, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.2)
    return cond()


@pytest.mark.parametrize(
    "sig",
    [
        signal.SIGTERM,
        pytest.param(signal.SIGINT, marks=pytest.mark.heavy),
        pytest.param(signal.SIGHUP, marks=pytest.mark.heavy),
        pytest.param(signal.SIGKILL, marks=pytest.mark.heavy),  # the kernel stops the child
    ],
)
def test_siyu_app_stops_its_server(sig: signal.Signals, tmp_path: Path) -> None:
    port = free_port()
    log = (tmp_path / "app.log").open("wb")
    cmd = ["app", "public_only", "--consumers", "50", "--port", str(port)]
    app = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", *cmd],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    server: list[int] = []
    try:
        assert until(lambda: serving(port) or app.poll() is not None, START_WAIT), "no server"
        assert app.poll() is None, (tmp_path / "app.log").read_text()[-2000:]
        server = children(app.pid)
        assert server and all(alive(pid) for pid in server)
        app.send_signal(sig)
        assert app.wait(STOP_WAIT) == (-signal.SIGKILL if sig == signal.SIGKILL else 0)
        assert until(lambda: not any(alive(pid) for pid in server), STOP_WAIT), "orphan"
        assert until(lambda: port_free(port), STOP_WAIT), "the port is still held"
        # the page was served over http on 127.0.0.1: no samesite warning per connection
        assert "samesite" not in (tmp_path / "app.log").read_text()
    finally:
        log.close()
        for pid in server:  # never leave one behind, whatever failed above
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        if app.poll() is None:
            app.kill()
            app.wait()
