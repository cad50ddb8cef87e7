"""The build backend `pip install` runs: setuptools' own, and for an editable install
(`pip install -e .`, the README's first command) the fast engine compiled ahead, so that the
first `siyu run` on a fresh install loads it from the cache instead of compiling it.

Why here: a first run otherwise spends some 25 s compiling the fast engine before anything
happens (`benchmarks/first_run.py`), and an install is where a newcomer expects to wait.
pip gives the backend no hook after it has installed the dependencies, so the compile runs
in the build's own environment, which `get_requires_for_build_editable` fills with the
project's dependencies the compile imports (`COMPILE_NEEDS`, their versions read from
`pyproject.toml`, where they are listed once). The code is
compiled into the source tree's caches (`sim/fast/__pycache__`, `sim/__pycache__`), the
place an editable install's runs look; Numba keys them by its version, the machine and the
engine's sources, so where the installed environment resolved another Numba the first run
simply compiles, as without this step.

The compile never fails an install: where it cannot run, the backend prints one line and the
first run compiles. `SIYU_COMPILE_AT_INSTALL=0` skips it (and the dependencies it needs in
the build environment). A wheel (`pip install .`) is built by setuptools alone: its copy of
the sources would not find a cache made here, and the first run compiles. A source
distribution holds this file (MANIFEST.in), so pip can build from one.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403 (every other hook is setuptools')

SWITCH = "SIYU_COMPILE_AT_INSTALL"
"""Set to 0 to install without compiling ahead."""
COMPILE = ("-m", "sim.fast")
"""What compiles the fast engine ahead (`python -m sim.fast`, as CI does before its tests)."""
COMPILE_NEEDS = ("numba", "numpy", "pandas", "pyarrow", "pydantic", "scipy")
"""The run-time dependencies the compile imports (the rest, plotting, Mesa, the command
line, the experiments' libraries, are not installed into the build environment, which keeps
the install's extra time down); tests/test_build_backend.py checks that
`python -m sim.fast` imports no other."""
TIMEOUT_S = 1800
"""The longest the compile may take before the install goes on without it."""


def wanted() -> bool:
    """Whether this install compiles ahead (`SIYU_COMPILE_AT_INSTALL` is not 0)."""
    return os.environ.get(SWITCH, "1").strip() != "0"


def dependencies(root: Path) -> list[str]:
    """The project's run-time dependencies the compile imports (`COMPILE_NEEDS`), as
    `pyproject.toml` lists them (with their versions)."""
    with (root / "pyproject.toml").open("rb") as f:
        listed = tomllib.load(f)["project"]["dependencies"]
    return [r for r in listed if name_of(r) in COMPILE_NEEDS]


def name_of(requirement: str) -> str:
    """A requirement's distribution name, lower case ("numba>=0.60" -> "numba")."""
    return re.match(r"[A-Za-z0-9._-]+", requirement)[0].lower()


def get_requires_for_build_editable(config_settings=None) -> list[str]:
    """setuptools' requirements, and the dependencies the compile imports."""
    own = _setuptools.get_requires_for_build_editable(config_settings)
    return [*own, *dependencies(Path.cwd())] if wanted() else own


def build_editable(wheel_directory, config_settings=None, metadata_directory=None) -> str:
    """setuptools' editable wheel, then the fast engine compiled into the source tree."""
    name = _setuptools.build_editable(wheel_directory, config_settings, metadata_directory)
    if wanted():
        compile_ahead(Path.cwd())
    return name


def compile_ahead(
    root: Path,
    env: dict[str, str] | None = None,
    timeout_s: float = TIMEOUT_S,
    command: tuple[str, ...] = COMPILE,
) -> bool:
    """Run `python -m sim.fast` (`command`) in `root` with `env` (this process's when None);
    whether it compiled. Never raises: a failure is one line on stderr naming what failed,
    and the first run compiles instead."""
    t0 = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, *command],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        _say(f"the fast engine was not compiled at install ({exc}); the first run compiles it")
        return False
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        _say(
            f"the fast engine was not compiled at install (exit {done.returncode}: {last}); "
            "the first run compiles it"
        )
        return False
    _say(f"fast engine compiled at install in {time.perf_counter() - t0:.0f} s")
    return True


def _say(line: str) -> None:
    print(f"siyu: {line}", file=sys.stderr, flush=True)
