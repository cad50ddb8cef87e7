"""Every shipped scenario's ledger on both engines matches its recorded fingerprint
(benchmarks/ledger_hashes.json): a refactoring of the engines changes no run. Heavy (about a
minute and a half); a deliberate change of a mechanism rewrites the record with
`python benchmarks/ledger_hashes.py --write` and says why in its commit."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "ledger_hashes.py"


@pytest.mark.heavy
def test_shipped_ledgers_match_their_fingerprints(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("ledger_hashes", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    code = module.main([])
    out = capsys.readouterr().out
    assert code == 0, "fingerprints changed:\n" + "\n".join(
        line for line in out.splitlines() if "CHANGED" in line
    )
    record = module.json.loads(module.RECORD.read_text())
    assert out.count(" same") == len([key for key in record if not key.startswith("_")])
