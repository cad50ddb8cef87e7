"""Rewrite the fast engine's kernels to the generated per-brand and global field names.

    python tools/bridge_rename.py [sim/fast/kernels.py ...]

`sim.fast.layout.Brands` and `Globals` now carry the scenario's own field names and hold a
text choice as its code (`sim.fast.bridge`). This rewrites `B.<old>` and `G.<old>` to the
new names, the two former booleans to tests of their codes, and adds the import of the code
enums. Running it twice changes nothing more (every pattern ends at a word boundary, and
no new name contains an old pattern). Prints each file's rewrites per pattern.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

RENAMES = {
    "B.ad_budget": "B.ad_budget_per_day",
    "B.precision": "B.targeting_precision",
    "B.guide_touches": "B.guide_touches_per_day",
    "B.quota_multiplier": "B.quota_invite_multiplier",
    "B.guide_salary": "B.guide_salary_per_day",
    "B.broadcasts": "B.broadcasts_per_week",
    "B.koc_posts": "B.koc_posts_per_week",
    "B.koc_fee": "B.koc_fee_per_day",
    "B.employee_posts": "B.employee_posts_per_week",
    "B.tooling": "B.tooling_per_day",
    "B.store_visits": "B.store_visits_per_day",
    "B.trial": "B.trial_on_awareness",
    "G.cpm_growth": "G.cpm_growth_per_year",
    "G.reference_demand": "G.reference_ad_demand",
    "G.cpm_elasticity": "G.cpm_demand_elasticity",
}
"""Old field -> the parameter model's name."""

CODE_TESTS = {
    "B.assist": ("B.channel_policy", "ChannelPolicy.ASSIST"),
    "B.quota": ("B.guide_regime", "GuideRegime.QUOTA"),
}
"""Former boolean -> (the text choice's code array, the option it tested)."""

SAFE_BEFORE = r"(\b(?:if|and|or) )"
SAFE_AFTER = r"(?= else\b| and\b| or\b|:|\)|,|\n)"
"""Where a comparison needs no parentheses: an operand of if / and / or (all bind looser
than == and !=), ended by else / and / or, a colon, a closing bracket or a line end."""

IMPORT = "from sim.fast.bridge import ChannelPolicy, GuideRegime\n"
ANCHOR = re.compile(r"^from sim\.[\w.]+ import .*\n", re.M)
"""The import goes after the first `from sim... import` line (ruff then sorts the block)."""


def rewrite(text: str) -> tuple[str, dict[str, int]]:
    """The rewritten text and the number of rewrites per old name."""
    counts: dict[str, int] = {}
    for old, new in RENAMES.items():
        text, counts[old] = re.subn(re.escape(old) + r"\b", new, text)
    for old, (array, option) in CODE_TESTS.items():
        index = re.escape(old) + r"\[([^\[\]]+)\]"
        text, negated = re.subn(r"\bnot " + index, rf"{array}[\1] != {option}", text)
        text, safe = re.subn(SAFE_BEFORE + index + SAFE_AFTER, rf"\1{array}[\2] == {option}", text)
        text, other = re.subn(index, rf"({array}[\1] == {option})", text)
        counts[old] = negated + safe + other
        left = re.search(re.escape(old) + r"\b", text)
        if left:
            raise SystemExit(f"{old} used without a plain [index]: {text[left.start() :][:60]!r}")
    if IMPORT not in text:
        text, found = ANCHOR.subn(lambda m: m.group(0) + IMPORT, text, count=1)
        if not found:
            raise SystemExit("no 'from sim... import' line to put the import after")
        counts["import"] = 1
    return text, counts


def main(paths: list[str]) -> int:
    for name in paths or ["sim/fast/kernels.py"]:
        path = Path(name)
        text, counts = rewrite(path.read_text())
        path.write_text(text)
        # sort the imports, and wrap the lines the longer names pushed past the line length
        for command in (["check", "--select", "I", "--fix"], ["format"]):
            subprocess.run(["ruff", *command, "--quiet", str(path)], check=False)
        done = {k: v for k, v in counts.items() if v}
        print(f"{path}: {sum(done.values())} rewrites {done}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
