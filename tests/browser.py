"""What the browser tests share: Debian's Chromium and chromedriver (a test module calls
`require_browser()` first, so it is skipped with the reason where they are missing), a
Solara server of the workshop app on a free 127.0.0.1 port that the tests start and stop,
a headless Chrome, and a wait that retries while the page re-renders."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
APP = Path(__file__).resolve().parent.parent / "sim" / "workshop" / "app.py"
WAIT = 40.0


def require_browser() -> None:
    """Skip the calling test module where Chromium, chromedriver, selenium or solara is
    missing (CI installs them: .ci/run)."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip(
            "Chromium and chromedriver are not installed "
            "(apt-get install chromium chromium-driver)",
            allow_module_level=True,
        )
    pytest.importorskip("selenium", reason="selenium is not installed (pip install -e '.[app]')")
    pytest.importorskip("solara", reason="solara is not installed (pip install -e '.[app]')")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`solara run` of the workshop app in a subprocess on a free 127.0.0.1 port, with the
    app's settings in `env` (SIYU_APP_SCENARIO defaults to beauty_guides)."""

    def __init__(self, log: Path, env: dict[str, str], timeout: float = 90.0):
        self.log = log
        self.env = env
        self.timeout = timeout
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = dict(os.environ, SIYU_APP_SCENARIO="beauty_guides", **self.env)
        cmd = [sys.executable, "-m", "solara", "run", str(APP), "--host", "127.0.0.1",
               "--port", str(self.port), "--production", "--no-open"]  # fmt: skip
        self.launch(cmd, env)

    def launch(self, cmd: list[str], env: dict[str, str]) -> None:
        """Start `cmd` with its output in the log and wait until the app answers (and
        `ready()` holds)."""
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2) as r:
                    if r.status == 200 and self.ready():
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"server did not start in {self.timeout:.0f} s")

    def ready(self) -> bool:
        """More than answering, where a server must print something first."""
        return True

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


SCROLL_TO_CENTRE = "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});"
"""Scroll an element to the middle of the window at once: the page's style scrolls smoothly,
and a click made while the scroll is still moving lands where the element is not yet."""


def chrome(window: str, logging: dict[str, str] | None = None) -> tuple[Any, str]:
    """A headless Chrome of the given window size ("W,H") with its own profile folder
    (returned, for `quit_chrome`); `logging`: the goog:loggingPrefs capability."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", f"--window-size={window}",
    ):  # fmt: skip
        opts.add_argument(arg)
    if logging:
        opts.set_capability("goog:loggingPrefs", logging)
    profile = tempfile.mkdtemp(prefix="siyu-chromium-")
    opts.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    return driver, profile


def quit_chrome(driver: Any, profile: str) -> None:
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def wait_for(cond: Callable[[], object], what: str, timeout: float = WAIT):
    """cond()'s first truthy value, retried every 0.2 s (an exception while the page
    re-renders counts as not yet); AssertionError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = cond()
            if value:
                return value
        except Exception as exc:  # the page is re-rendering: try again
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what} ({last!r})")
