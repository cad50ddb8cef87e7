"""Docking of the candidate engine with the reference engine (store guides: 1:1 guides, quotas
and guides at scale).

Rule, tolerances, engines and cost: tests/docking/common.py. One test per scenario; the
heavy variant (`pytest -m heavy tests/docking`) uses more replicates at the shipped size.
"""

from __future__ import annotations

import pytest

from tests.docking.common import assert_docks, scenarios_in

NAMES = scenarios_in("guides")


@pytest.mark.parametrize("name", NAMES, ids=NAMES)
def test_docks(name: str) -> None:
    assert_docks(name)


@pytest.mark.heavy
@pytest.mark.parametrize("name", NAMES, ids=NAMES)
def test_docks_heavy(name: str) -> None:
    assert_docks(name, heavy=True)
