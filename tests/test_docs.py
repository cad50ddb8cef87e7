"""Generated docs match the code they are generated from, so drift fails CI; the ODD's map from
submodels to code names only what exists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from types import ModuleType

from sim.docs import parameter_reference

ROOT = Path(__file__).resolve().parents[1]


def test_parameter_reference_is_current() -> None:
    """docs/parameters.md is `siyu params` verbatim (regenerate it with that command)."""
    on_disk = (ROOT / "docs" / "parameters.md").read_text(encoding="utf-8")
    assert on_disk == parameter_reference(), (
        "docs/parameters.md is stale: run `siyu params > docs/parameters.md`"
    )


def _odd_code_map() -> list[list[str]]:
    """The rows of ODD §7's table from submodels to code, as cells."""
    text = (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8")
    section = text.split("## 7 Submodels", 1)[1].split("### 7.1 ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| 7.")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]


def _resolve(name: str, modules: list[ModuleType]) -> bool:
    """Whether a dotted name (`Brand.advertise`, `sim.review.review_strategies`) exists."""
    if name.startswith("sim."):
        module_name, _, attr = name.rpartition(".")
        return hasattr(importlib.import_module(module_name), attr)
    for module in modules:
        obj: object = module
        for part in name.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                break
        if obj is not None:
            return True
    return False


def test_odd_code_map_names_what_exists() -> None:
    """ODD §7 names, per submodel, its rules, its bookings, its reference method and its
    kernel; every name must exist, so the ODD cannot point at code that moved."""
    from sim import accounting, agents, model, review, rules, staffing
    from sim.fast import engine, kernels

    columns = (
        [rules],
        [accounting],
        [agents, model, staffing, review],
        [kernels, engine, staffing, review],
    )
    rows = _odd_code_map()
    sections = [r[0] for r in rows]
    assert sections[:15] == [f"7.{k}" for k in range(1, 16)]
    # submodels added after 7.17 (the mechanisms) each have one row
    assert len(set(sections)) == len(sections) and all(s.startswith("7.") for s in sections)
    missing = []
    for row in rows:
        for cell, modules in zip(row[1:], columns, strict=True):
            for name in re.findall(r"`([^`]+)`", cell):
                if not _resolve(name, modules):
                    missing.append(f"{row[0]}: {name}")
    assert not missing, f"ODD §7 names code that does not exist: {missing}"


def test_parameter_reference_lists_the_values_of_text_choices() -> None:
    """Every text choice (a `Literal` field) shows its allowed values in its row."""
    from typing import Literal, get_args, get_origin

    from sim.docs import SECTIONS

    reference = parameter_reference()
    rows = {
        line.split("|")[1].strip(" `"): line
        for line in reference.splitlines()[1:]
        if line.startswith("| `")
    }
    seen = 0
    for _, model in SECTIONS:
        for name, field in model.model_fields.items():
            if get_origin(field.annotation) is Literal:
                seen += 1
                listed = ", ".join(f"`{v}`" for v in get_args(field.annotation))
                assert f"(one of: {listed})" in rows[name], name
    assert seen >= 5  # network kind, package card channel, guide regime, koc kind, policy
