"""Docking of the candidate engine with the reference engine (several brands and national scale:
the adaptive market, the three-brand benchmark case and the national guide chain, plus any
shipped scenario no group names).

Rule, tolerances, engines and cost: tests/docking/common.py. One test per scenario; the
heavy variant (`pytest -m heavy tests/docking`) uses more replicates at the shipped size.
"""

from tests.docking.common import docking_tests

test_docks, test_docks_heavy = docking_tests("markets")
