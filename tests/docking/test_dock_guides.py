"""Docking of the candidate engine with the reference engine (store guides: 1:1 guides, quotas
and guides at scale).

Rule, tolerances, engines and cost: tests/docking/common.py. One test per scenario; the
heavy variant (`pytest -m heavy tests/docking`) uses more replicates at the shipped size.
"""

from tests.docking.common import docking_tests

test_docks, test_docks_heavy = docking_tests("guides")
