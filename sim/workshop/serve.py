"""Running the app's Solara server as a child of `siyu app` that never outlives it.

The server runs in its own process group. SIGTERM, SIGINT (Ctrl-C) and SIGHUP (the
terminal closed) of `siyu app` terminate that whole group, wait for it (at most
`STOP_WAIT_S`, then SIGKILL) and return, so no orphan keeps the port. On Linux the child
also asks the kernel for SIGTERM should `siyu app` die without running any handler
(SIGKILL, a crash).
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

STOP_WAIT_S = 10.0
"""seconds: how long a stopping server may take before it is killed."""
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name)
)


SAMESITE_WARNING = "Cookies with samesite=none require https"
"""The start of the warning Solara's server prints (12 lines) for every page a browser
opens over plain http on an address other than `localhost`: it then sets its session cookie
with SameSite=Lax, which is what a classroom on a local network needs; nothing to act on."""


def server_env(env: dict[str, str]) -> dict[str, str]:
    """The server's environment: `env` with Python's warning filter told to ignore
    `SAMESITE_WARNING` (other warnings still show, and a PYTHONWARNINGS already set is kept)."""
    ignore = f"ignore:{SAMESITE_WARNING}:UserWarning"
    given = env.get("PYTHONWARNINGS", "")
    return {**env, "PYTHONWARNINGS": f"{given},{ignore}" if given else ignore}


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec function asking Linux to SIGTERM the child when its parent dies."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    pr_set_pdeathsig = 1

    def preexec() -> None:
        libc.prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)

    return preexec


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    """Send `sig` to the child's process group (the server and anything it started)."""
    try:
        if os.name == "posix":
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop(proc: subprocess.Popen, wait: float = STOP_WAIT_S) -> None:
    """Terminate the server's group, wait for it, kill it if it does not stop in time."""
    _signal_group(proc, signal.SIGTERM)
    try:
        proc.wait(wait)
    except subprocess.TimeoutExpired:
        _signal_group(proc, signal.SIGKILL)
        proc.wait()


def listen_problem(host: str, port: int) -> str | None:
    """Why the server could not listen on `host`:`port` (one line naming the option and
    what to do), or None when it can. The check binds a socket as the server will (with
    SO_REUSEADDR, so a port in TIME_WAIT counts as free) and closes it at once."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"--host: cannot listen on {host!r}: {exc.strerror or exc}"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                other = _free_port(host, port)
                return (
                    f"--port: port {port} on {host} is in use (another siyu app, or another "
                    f"program): stop it, or choose another port, e.g. --port {other}"
                )
            return f"--host/--port: cannot listen on {host}:{port}: {exc.strerror or exc}"
    return None


def _free_port(host: str, port: int) -> int:
    """A port free on `host` now, for the suggestion: the first of the next ten, else one
    the system picks."""
    for candidate in [*range(port + 1, min(port + 11, 65536)), 0]:
        try:
            with socket.create_server((host, candidate)) as sock:
                return int(sock.getsockname()[1])
        except OSError:
            continue
    return port + 1


class _Stop(Exception):
    """Raised by the signal handler to leave the wait for the server."""


def serve(cmd: list[str], env: dict[str, str]) -> int:
    """Run the server until it exits or `siyu app` is stopped; return the exit code
    (0 when stopped by a signal)."""
    posix = os.name == "posix"

    def on_signal(signum: int, frame: FrameType | None) -> None:
        raise _Stop

    def on_second_signal(signum: int, frame: FrameType | None) -> None:
        _signal_group(proc, signal.SIGKILL)

    proc = subprocess.Popen(
        cmd,
        env=server_env(env),
        start_new_session=posix,
        preexec_fn=_die_with_parent() if posix else None,  # before any thread starts
    )
    previous: dict[int, Any] = {}
    try:
        # a signal before this line kills `siyu app` and, through the kernel, the child
        for s in STOP_SIGNALS:
            previous[s] = signal.signal(s, on_signal)
        return proc.wait()
    except (_Stop, KeyboardInterrupt):
        for s in STOP_SIGNALS:
            signal.signal(s, on_second_signal)
        stop(proc)
        return 0
    finally:
        if proc.poll() is None:  # any other way out: never leave the server behind
            stop(proc)
        for s, handler in previous.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(s, handler)
