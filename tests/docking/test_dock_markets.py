"""Docking of the candidate engine with the reference engine (several brands and national scale:
the adaptive market, the three-brand benchmark case and the national guide chain, plus any
shipped scenario no group names).

Rule, tolerances, engines and cost: tests/docking/common.py. One test per scenario; the
heavy variant (`pytest -m heavy tests/docking`) uses more replicates at the shipped size.
"""

from __future__ import annotations

import pytest

from tests.docking.common import assert_docks, scenarios_in

NAMES = scenarios_in("markets")


@pytest.mark.parametrize("name", NAMES, ids=NAMES)
def test_docks(name: str) -> None:
    assert_docks(name)


@pytest.mark.heavy
@pytest.mark.parametrize("name", NAMES, ids=NAMES)
def test_docks_heavy(name: str) -> None:
    assert_docks(name, heavy=True)
