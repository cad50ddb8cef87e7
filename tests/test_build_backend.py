"""The build backend `pip install` runs (backend/siyu_build.py): setuptools' hooks, and for an
editable install the fast engine compiled ahead, which never fails the install."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def backend(monkeypatch) -> ModuleType:
    """backend/siyu_build.py as pip loads it (its folder on the path), with the switch
    unset."""
    monkeypatch.delenv("SIYU_COMPILE_AT_INSTALL", raising=False)
    spec = importlib.util.spec_from_file_location("siyu_build", ROOT / "backend" / "siyu_build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pyproject() -> dict:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def copied(dest: Path, *names: str) -> Path:
    """The repository's files and folders `names` copied into `dest`, without bytecode or
    compiled caches."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in names:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, dest / name)
    return dest


def test_pip_builds_with_it() -> None:
    system = pyproject()["build-system"]
    assert system["build-backend"] == "siyu_build"
    assert system["backend-path"] == ["backend"]


def test_the_build_environment_gets_the_run_time_dependencies(backend, monkeypatch) -> None:
    from setuptools import build_meta

    monkeypatch.chdir(ROOT)
    own = build_meta.get_requires_for_build_editable()
    listed = pyproject()["project"]["dependencies"]
    deps = backend.dependencies(ROOT)
    assert len(deps) == len(backend.COMPILE_NEEDS) and set(deps) <= set(listed)
    assert "numba>=0.60" in deps and not any(r.startswith(("mesa", "matplotlib")) for r in deps)
    assert backend.get_requires_for_build_editable() == [*own, *deps]
    monkeypatch.setenv("SIYU_COMPILE_AT_INSTALL", "0")
    assert backend.get_requires_for_build_editable() == own


def test_the_compile_imports_no_other_dependency(backend) -> None:
    """What `python -m sim.fast` imports of the run-time dependencies is in the build
    environment (`COMPILE_NEEDS`): otherwise the install's compile fails on an import."""
    listed = {backend.name_of(r) for r in pyproject()["project"]["dependencies"]}
    code = (
        "import sys, runpy; runpy.run_module('sim.fast', run_name='__main__'); "
        "print(' '.join(sorted({m.split('.')[0].lower() for m in sys.modules})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    imported = set(done.stdout.split()) & listed
    assert imported and imported <= set(backend.COMPILE_NEEDS)


def test_every_other_hook_is_setuptools(backend) -> None:
    from setuptools import build_meta

    for hook in ("build_wheel", "build_sdist", "prepare_metadata_for_build_editable"):
        assert getattr(backend, hook) is getattr(build_meta, hook)


def test_an_editable_build_compiles_after_the_wheel(backend, monkeypatch, tmp_path) -> None:
    calls: list[tuple] = []
    monkeypatch.setattr(
        backend._setuptools,
        "build_editable",
        lambda directory, settings=None, metadata=None: (
            calls.append(("wheel", directory)) or "siyu-0.1.0-0.editable-py3-none-any.whl"
        ),
    )
    monkeypatch.setattr(backend, "compile_ahead", lambda root: calls.append(("compile", root)))
    monkeypatch.chdir(tmp_path)
    name = backend.build_editable(str(tmp_path / "dist"))
    assert name == "siyu-0.1.0-0.editable-py3-none-any.whl"
    assert calls == [("wheel", str(tmp_path / "dist")), ("compile", tmp_path)]
    calls.clear()
    monkeypatch.setenv("SIYU_COMPILE_AT_INSTALL", "0")
    backend.build_editable(str(tmp_path / "dist"))
    assert calls == [("wheel", str(tmp_path / "dist"))]


def test_a_compile_that_fails_is_one_line_and_no_error(backend, tmp_path, capsys) -> None:
    code = "import sys; print('traceback', file=sys.stderr); print('boom', file=sys.stderr)"
    fails = ("-c", code + "; sys.exit(3)")
    assert backend.compile_ahead(tmp_path, command=fails) is False
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "siyu: the fast engine was not compiled at install (exit 3: boom); the first run "
        "compiles it"
    ]
    slow = ("-c", "import time; time.sleep(30)")
    assert backend.compile_ahead(tmp_path, timeout_s=0.5, command=slow) is False
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "timed out after 0.5 seconds" in err[0]


def test_a_compile_runs_in_the_tree_with_the_environment_given(backend, tmp_path, capsys) -> None:
    where = ("-c", "import os; open('here', 'w').write(os.environ['PROBE'])")
    env = dict(os.environ, PROBE="given")
    assert backend.compile_ahead(tmp_path, env=env, command=where) is True
    assert (tmp_path / "here").read_text() == "given"
    assert capsys.readouterr().err.startswith("siyu: fast engine compiled at install in ")


def test_a_source_distribution_holds_the_backend(backend, tmp_path, monkeypatch) -> None:
    """pip builds a source distribution with the backend it names: the sdist must hold it
    (MANIFEST.in)."""
    import tarfile

    copied(tmp_path, "sim", "backend", "pyproject.toml", "README.md", "MANIFEST.in")
    monkeypatch.chdir(tmp_path)
    name = backend.build_sdist(str(tmp_path / "dist"))
    with tarfile.open(tmp_path / "dist" / name) as sdist:
        names = sdist.getnames()
    assert "siyu-0.1.0/backend/siyu_build.py" in names


@pytest.mark.heavy
def test_pip_compiles_an_editable_install(tmp_path) -> None:
    """pip itself runs the hook: an editable install of a copy of the package (this
    environment's packages, no isolation: no registry needed; into a folder of its own,
    leaving this environment's install alone) leaves the day compiled in the copy's cache."""
    copy = copied(tmp_path / "siyu", "sim", "scenarios", "data", "backend", "pyproject.toml",
                  "README.md")  # fmt: skip
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba-cache"))
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-deps",
         "--ignore-installed", "-v", "--disable-pip-version-check",
         "--prefix", str(tmp_path / "prefix"), "-e", str(copy)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "siyu: fast engine compiled at install in" in done.stdout + done.stderr
    assert list((copy / "sim" / "fast" / "__pycache__").glob("kernels.run_days-*.nbi"))
