"""Docking of the candidate engine with the reference engine (the public baseline, brand A and
its fix, and the verification scenarios).

Rule, tolerances, engines and cost: tests/docking/common.py. One test per scenario; the
heavy variant (`pytest -m heavy tests/docking`) uses more replicates at the shipped size.
"""

from tests.docking.common import docking_tests

test_docks, test_docks_heavy = docking_tests("public")
