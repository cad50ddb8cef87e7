"""Generated docs match the code they are generated from, so drift fails CI."""

from __future__ import annotations

from pathlib import Path

from sim.docs import parameter_reference

ROOT = Path(__file__).resolve().parents[1]


def test_parameter_reference_is_current() -> None:
    """docs/parameters.md is `siyu params` verbatim (regenerate it with that command)."""
    on_disk = (ROOT / "docs" / "parameters.md").read_text(encoding="utf-8")
    assert on_disk == parameter_reference(), (
        "docs/parameters.md is stale: run `siyu params > docs/parameters.md`"
    )
