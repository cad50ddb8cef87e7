"""Helpers shared by the test modules."""

from __future__ import annotations

import pytest

from sim.cli import main


def cli(args: list, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run `siyu ARGS` in-process through the console-script entry point: (exit code,
    stdout, stderr)."""
    with pytest.raises(SystemExit) as info:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    code = info.value.code
    return (0 if code is None else int(code)), out, err


def entry_module_text(dispatcher) -> str:
    """The LLVM IR of a fast-engine entry point's module (its shared module, as loaded from
    the cache), after a tiny run has compiled or loaded it."""
    from sim.protocol import build_engine
    from sim.runner import run_rng
    from sim.scenario import load_scenario

    sc = load_scenario("beauty_guides", {"run.consumers": 200, "run.days": 2})
    build_engine("fast", sc, run_rng(0)).step()
    library = next(iter(dispatcher.overloads.values())).library
    module = library._shared_module or library._final_module
    return str(module)
