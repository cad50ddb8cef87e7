"""Counterfactual twins: each built-in changes exactly the keys it says, for the brands that
pull its lever; a scenario's own twins and its default are checked when it loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.counterfactual import (
    BUILTINS,
    CounterfactualError,
    brands_changed,
    changes,
    parse,
    twin,
)
from sim.experiments.compare import parameter_differences
from sim.params import BUILTIN_COUNTERFACTUALS, Scenario
from sim.scenario import ScenarioError, load_scenario


def every_lever() -> Scenario:
    """Brand `full` pulls every lever; brand `plain` runs private ops and nothing else."""
    return Scenario.model_validate(
        {
            "name": "levers",
            "run": {"days": 30, "consumers": 200},
            "brands": {
                "full": {
                    "stores": 3,
                    "strategy": {
                        "guides_per_store": 1.0,
                        "referral_tiers": [{"referrals": 1, "reward": 20.0}],
                        "koc_count": 4,
                        "employee_distributors": 2,
                        "private_discount": 0.1,
                        "member_coupon": 0.05,
                        "tier_spend": [100.0, 500.0],
                        "tier_discount": [0.02, 0.05],
                    },
                },
                "plain": {"strategy": {"private_discount": 0.0}},
                "public": {"strategy": {"private_ops": False, "private_discount": 0.0}},
            },
        }
    )


EXPECTED = {
    "no_private_ops": {
        "brands.full.strategy.private_ops": "false",
        "brands.plain.strategy.private_ops": "false",
    },
    "no_guides": {"brands.full.strategy.guides_per_store": "0.0"},
    "no_fission": {"brands.full.strategy.referral_tiers": "[]"},
    "no_nodes": {
        "brands.full.strategy.koc_count": "0.0",
        "brands.full.strategy.employee_distributors": "0.0",
    },
    "no_private_discount": {
        "brands.full.strategy.private_discount": "0.0",
        "brands.full.strategy.member_coupon": "0.0",
        "brands.full.strategy.tier_discount": "[0.0, 0.0]",
    },
}


def test_builtin_names_are_the_schema_names() -> None:
    assert tuple(BUILTINS) == BUILTIN_COUNTERFACTUALS == tuple(EXPECTED)


@pytest.mark.parametrize("name", BUILTIN_COUNTERFACTUALS)
def test_builtin_changes_exactly_its_keys(name: str) -> None:
    sc = every_lever()
    before = sc.model_dump()
    tw = twin(sc, name)
    assert sc.model_dump() == before  # the scenario is left as it was
    assert tw.name == f"levers~{name}"
    diff = parameter_differences([sc, tw], ["scenario", "twin"])
    assert dict(zip(diff["parameter"], diff["twin"], strict=True)) == EXPECTED[name]
    assert set(changes(sc, name)) == set(EXPECTED[name])


def test_one_brand_and_brand_without_the_lever() -> None:
    sc = every_lever()
    assert brands_changed(sc, "no_private_ops") == ["full", "plain"]
    one = twin(sc, "no_private_ops", "plain")
    diff = parameter_differences([sc, one], ["scenario", "twin"])
    assert list(diff["parameter"]) == ["brands.plain.strategy.private_ops"]
    assert one.name == "levers~no_private_ops@plain"
    # a lever no brand pulls: the twin is the scenario (only its name differs)
    sc2 = sc.changed({"brands.full.strategy.referral_tiers": []})
    assert brands_changed(sc2, "no_fission") == []
    assert parameter_differences([sc2, twin(sc2, "no_fission")], ["a", "b"]).empty


def test_unknown_names_and_brands() -> None:
    sc = every_lever()
    with pytest.raises(CounterfactualError, match="nope: unknown counterfactual"):
        twin(sc, "nope")
    with pytest.raises(CounterfactualError, match="zz: unknown brand"):
        twin(sc, "no_guides", "zz")
    with pytest.raises(CounterfactualError, match="no twin"):
        twin(sc, "none")
    assert parse("no_guides@full") == ("no_guides", "full")
    assert parse("no_guides") == ("no_guides", None)


DECLARED = """
[run]
days = 20
consumers = 100
counterfactual = "no_card"
[brands.brand.strategy]
package_card_rate = 0.5
[counterfactuals.no_card]
description = "no package cards"
set = { "brands.brand.strategy.package_card_rate" = 0.0 }
"""


def test_declared_counterfactual_is_the_default(tmp_path: Path) -> None:
    path = tmp_path / "own.toml"
    path.write_text(DECLARED, encoding="utf-8")
    sc = load_scenario(path)
    tw = twin(sc)  # the default: run.counterfactual
    assert tw.name == "own~no_card"
    diff = parameter_differences([sc, tw], ["scenario", "twin"])
    assert list(diff["parameter"]) == ["brands.brand.strategy.package_card_rate"]
    assert brands_changed(sc, "no_card") == []
    with pytest.raises(CounterfactualError, match="takes no brand"):
        twin(sc, "no_card", "brand")


@pytest.mark.parametrize(
    ("edit", "key", "needle"),
    [
        (
            ('package_card_rate" = 0.0', 'package_card_rat" = 0.0'),
            "counterfactuals.no_card.set.brands.brand.strategy.package_card_rat",
            "unknown key",
        ),
        (
            ('package_card_rate" = 0.0', 'package_card_rate" = 2.0'),
            "counterfactuals.no_card.set.brands.brand.strategy.package_card_rate",
            "less than or equal to 1",
        ),
        (
            ('"brands.brand.strategy', '"brands.brnd.strategy'),
            "counterfactuals.no_card.set.brands.brnd",
            "no such table",
        ),
        (
            ('counterfactual = "no_card"', 'counterfactual = "no_crd"'),
            "run.counterfactual",
            "no_card",
        ),
        (
            ('counterfactual = "no_card"', 'counterfactual = "no_guides@brnd"'),
            "run.counterfactual",
            "NAME@BRAND",
        ),
        (
            ("[counterfactuals.no_card]", "[counterfactuals.no_guides]"),
            "counterfactuals.no_guides",
            "built-in",
        ),
    ],
)
def test_bad_declarations_name_file_and_key(
    tmp_path: Path, edit: tuple[str, str], key: str, needle: str
) -> None:
    path = tmp_path / "own.toml"
    path.write_text(DECLARED.replace(*edit), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith(f"{path}: {key}: "), text
    assert needle in text


def test_default_may_name_one_brand(tmp_path: Path) -> None:
    path = tmp_path / "one.toml"
    path.write_text(DECLARED.replace('"no_card"', '"no_private_ops@brand"', 1), encoding="utf-8")
    sc = load_scenario(path)
    assert twin(sc).name == "one~no_private_ops@brand"
    assert twin(sc, "no_guides").name == "one~no_guides"
