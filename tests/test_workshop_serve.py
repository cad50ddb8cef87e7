"""`siyu app` before it starts a server: a port that is taken is one line naming the port and
what to do (exit 2), printed before any URL; Solara's per-connection samesite warning is
filtered out of the server's output, other warnings are not."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from sim.workshop.serve import SAMESITE_WARNING, server_env
from tests.helpers import cli


def test_a_busy_port_is_one_line_before_any_url(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        code, out, err = cli(["app", "public_only", "--port", port], capsys)
    assert code == 2
    assert out == ""  # no URL that would not answer
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"error: --port: port {port} on 127.0.0.1 is in use")
    assert "choose another port, e.g. --port " in err


def test_an_unknown_host_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(["app", "public_only", "--host", "no-such-host.invalid"], capsys)
    assert code == 2 and out == ""
    assert err.startswith("error: --host: cannot listen on 'no-such-host.invalid'")


def test_the_server_env_silences_only_the_samesite_warning() -> None:
    """What the server's Python does with the filter `server_env` gives it (Solara's own
    message, as it starts); an earlier PYTHONWARNINGS is kept."""
    code = (
        "import warnings\n"
        f"warnings.warn({SAMESITE_WARNING + ', but according to the asgi framework'!r})\n"
        "warnings.warn('another warning')\n"
    )
    base = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}

    def stderr(env: dict[str, str]) -> str:
        return subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        ).stderr

    assert "samesite" in stderr(base)  # the warning shows without the filter
    quiet = stderr(server_env(base))
    assert "samesite" not in quiet and "another warning" in quiet
    kept = server_env({**base, "PYTHONWARNINGS": "error::DeprecationWarning"})
    assert kept["PYTHONWARNINGS"].startswith("error::DeprecationWarning,ignore:")
