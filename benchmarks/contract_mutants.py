"""Planted one-term drifts: does the engine contract catch them, and does docking?

Each mutant is one exact text replacement in one source file (`MUTANTS`: file, old text,
new text), applied to a copy of the source tree in a temporary folder; the contract suite
(tests/test_contract.py) and the docking tests (default: tests/docking/test_dock_guides.py,
the 1:1 guides whose touches the drifts touch) then run against the copy, and a table says
which caught it. A first row runs the unmutated copy: both must pass there, or the table
means nothing. Each old text must occur exactly once in its file (else the script stops),
so a mutant that no longer applies after the code moves is noticed, not silently skipped.

    python benchmarks/contract_mutants.py                     # every mutant, contract + docking
    python benchmarks/contract_mutants.py --no-docking        # the contract only
    python benchmarks/contract_mutants.py --only service_need --docking FILE ...

Bounded time: every pytest run has a wall-clock limit (`--contract-timeout`, default 900 s;
`--docking-timeout`, default 1800 s), so a full run takes at most (mutants + 1) x 45
minutes. In practice each copy of the tree compiles the fast engine afresh when a mutant
touches its sources (one to three minutes on a shared two-core machine, once for the
contract's entry point and once more for the day the docking runs; a mutant of the
reference engine reuses the compiled cache), the contract suite takes under a minute and
stops at its first failure, and the guides' docking takes several minutes. A run that hits
its limit is reported as "timeout", never as caught.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str
    old: str
    new: str
    what: str


MUTANTS = (
    Mutant(
        "service_need",
        "sim/fast/kernels.py",
        "kind, effect, skill, G.engagement_content, G.engagement_service, B.service_need[b]",
        "kind, effect, skill, G.engagement_content, G.engagement_service, 1.0",
        "fast engine: service_need dropped from a service touch's engagement gain",
    ),
    Mutant(
        "fatigue_effect",
        "sim/fast/kernels.py",
        "R.touch_fatigue(kind, effect, G.fatigue_touch)",
        "R.touch_fatigue(kind, 1.0, G.fatigue_touch)",
        "fast engine: a touch's fatigue ignores the channel's effect (group, broadcast)",
    ),
    Mutant(
        "content_skill",
        "sim/fast/kernels.py",
        "        kind, effect, skill, G.engagement_content,",
        "        kind, effect, 1.0, G.engagement_content,",
        "fast engine: the guide's skill forgotten in a touch's engagement gain",
    ),
    Mutant(
        "guide_commission_nonmember",
        "sim/fast/kernels.py",
        "        member and W.m_guide[b, i] >= 0,\n",
        "        W.m_guide[b, i] >= 0 or channel == Channel.STORE,\n",
        "fast engine: guide commission booked on every store order, member or not",
    ),
    Mutant(
        "hunter_harvest",
        "sim/fast/kernels.py",
        "    if not W.hunter[i]:\n        W.m_harv[b, i]",
        "    if True:\n        W.m_harv[b, i]",
        "fast engine: coupon hunters feel harvested too",
    ),
    Mutant(
        "first_repeat_swapped",
        "sim/agents.py",
        "            cat.gross_margin,\n            first,\n",
        "            cat.gross_margin,\n            not first,\n",
        "reference engine: first and repeat orders booked the other way round",
    ),
    Mutant(
        "reluctant_engagement",
        "sim/agents.py",
        "rules.joiner_engagement(pop.join_engagement, reluctant, pop.reluctant_engagement)",
        "rules.joiner_engagement(pop.join_engagement, False, pop.reluctant_engagement)",
        "reference engine: a reluctant joiner starts as engaged as a willing one",
    ),
    Mutant(
        "quota_invites",
        "sim/agents.py",
        'st.guide_invite_rate, st.guide_regime == "quota", st.quota_invite_multiplier',
        "st.guide_invite_rate, False, st.quota_invite_multiplier",
        "reference engine: quota guides invite store visitors no more often",
    ),
)
"""(file, exact old text, new text): re-point `file` and `old` when the code moves."""


def copy_tree(dest: Path) -> None:
    """The tracked and untracked (not ignored) files of the checkout, plus the fast
    engine's compiled cache (reused where a mutant leaves the engine's sources alone)."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        rel = raw.decode()
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    cache = ROOT / "sim" / "fast" / "__pycache__"
    if cache.is_dir():
        shutil.copytree(cache, dest / "sim" / "fast" / "__pycache__", dirs_exist_ok=True)


def apply(tree: Path, mutant: Mutant) -> None:
    path = tree / mutant.file
    text = path.read_text()
    count = text.count(mutant.old)
    if count != 1:
        raise SystemExit(
            f"mutant {mutant.name}: its old text occurs {count} times in {mutant.file}"
        )
    path.write_text(text.replace(mutant.old, mutant.new))


def pytest_verdict(tree: Path, files: list[str], timeout: float) -> tuple[str, float]:
    """Run pytest on `files` in the copy: 'caught by <first failing test>', 'passed',
    'timeout' or 'error' (pytest could not run: collection, import), and the seconds."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    cmd = [sys.executable, "-m", "pytest", "-n", "0", "-q", "-x", "-p", "no:cacheprovider"]
    t0 = time.perf_counter()
    try:
        done = subprocess.run(
            [*cmd, "-rf", *files],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - t0
    seconds = time.perf_counter() - t0
    if done.returncode == 1:
        failed = [line for line in done.stdout.splitlines() if line.startswith("FAILED ")]
        test = failed[0].split()[1].split("::", 1)[-1] if failed else "?"
        return f"caught by {test}", seconds
    return {0: "passed"}.get(done.returncode, f"error (rc {done.returncode})"), seconds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", help="mutant names (default: all)")
    ap.add_argument("--docking", nargs="*", default=["tests/docking/test_dock_guides.py"])
    ap.add_argument("--no-docking", action="store_true")
    ap.add_argument("--no-contract", action="store_true")
    ap.add_argument("--no-baseline", action="store_true", help="skip the unmutated row")
    ap.add_argument("--contract-timeout", type=float, default=900.0)
    ap.add_argument("--docking-timeout", type=float, default=1800.0)
    args = ap.parse_args(argv)
    mutants = [m for m in MUTANTS if not args.only or m.name in args.only]
    docking = [] if args.no_docking else args.docking
    rows = [] if args.no_baseline else [("none (baseline)", None)]
    rows += [(m.name, m) for m in mutants]
    print("| mutant | contract | docking | what |")
    print("|---|---|---|---|")
    for name, mutant in rows:
        with tempfile.TemporaryDirectory(prefix="siyu-mutant-") as tmp:
            tree = Path(tmp)
            copy_tree(tree)
            if mutant is not None:
                apply(tree, mutant)
            contract, tc = ("not run", 0.0)
            if not args.no_contract:
                contract, tc = pytest_verdict(
                    tree, ["tests/test_contract.py"], args.contract_timeout
                )
            dock, td = ("not run", 0.0)
            if docking:
                dock, td = pytest_verdict(tree, docking, args.docking_timeout)
            what = mutant.what if mutant else "the source as it is"
            print(
                f"| {name} | {contract} ({tc:.0f} s) | {dock} ({td:.0f} s) | {what} |", flush=True
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
