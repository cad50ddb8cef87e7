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
