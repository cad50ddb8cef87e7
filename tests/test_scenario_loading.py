"""Scenario loading: `extends` merges, `--set` overrides, names, shipped scenarios."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim.scenario as scenario_mod
from sim.params import Scenario
from sim.scenario import (
    Override,
    ScenarioError,
    ScenarioLoader,
    added_entries,
    load_scenario,
    parse_override,
    shipped_scenarios,
)


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


BASE = """
description = "base case"
[run]
days = 90
consumers = 500
[brands.a]
stores = 3
appeal = 0.5
[brands.a.strategy]
ad_budget_per_day = 500
private_discount = 0.1
tier_spend = [100, 200, 300]
tier_discount = [0.01, 0.02, 0.03]
[brands.a.strategy.content_mix]
content = 0.5
service = 0.4
selling = 0.1
[brands.b]
appeal = -0.2
"""


@pytest.fixture
def chain(tmp_path: Path) -> Path:
    """base.toml and child.toml, the child overriding one nested key and a list."""
    write(
        tmp_path,
        {
            "base.toml": BASE,
            "child.toml": 'extends = "base.toml"\n'
            "[brands.a.strategy]\nprivate_discount = 0.2\n"
            "tier_spend = [50]\ntier_discount = [0.05]\n",
        },
    )
    return tmp_path / "child.toml"


def test_defaults_from_empty_file(tmp_path: Path) -> None:
    write(tmp_path, {"empty.toml": ""})
    sc = load_scenario(tmp_path / "empty.toml")
    assert sc.model_dump(exclude={"name"}) == Scenario().model_dump(exclude={"name"})
    assert sc.name == "empty"


def test_extends_merges_tables_deeply(chain: Path) -> None:
    sc = load_scenario(chain)
    a = sc.brands["a"]
    assert a.strategy.private_discount == 0.2  # the child's value
    assert a.strategy.ad_budget_per_day == 500  # sibling in the same table kept
    assert (a.stores, a.appeal) == (3, 0.5)  # parent table kept
    assert a.strategy.content_mix.service == 0.4  # nested table kept
    assert sc.brands["b"].appeal == -0.2  # other brand kept
    assert (sc.run.days, sc.run.consumers) == (90, 500)
    assert sc.description == "base case"
    assert sc.population == Scenario().population  # untouched tables keep defaults


def test_extends_lists_replace(chain: Path) -> None:
    st = load_scenario(chain).brands["a"].strategy
    assert st.tier_spend == [50.0]
    assert st.tier_discount == [0.05]


def test_extends_chain_relative_paths_and_bare_names(tmp_path: Path) -> None:
    """Parents resolve relative to the file that names them; `.toml` may be left off."""
    write(
        tmp_path,
        {
            "lib/root.toml": "[run]\ndays = 10\nconsumers = 20\n[brands.a]\nstores = 1\n",
            "lib/mid.toml": 'extends = "root"\n[run]\ndays = 11\n[brands.a]\nappeal = 1.0\n',
            "cases/leaf.toml": 'extends = "../lib/mid.toml"\n[run]\nconsumers = 30\n',
        },
    )
    sc = load_scenario(tmp_path / "cases" / "leaf.toml")
    assert (sc.run.days, sc.run.consumers) == (11, 30)
    assert (sc.brands["a"].stores, sc.brands["a"].appeal) == (1, 1.0)


def test_extends_takes_a_shipped_name_as_the_command_line_does(tmp_path: Path) -> None:
    """`extends = "beauty_guides"` from any folder reads the shipped scenario; a file of that
    name next to the child wins; an unknown name is one line with the close shipped name."""
    write(tmp_path, {"mine.toml": 'extends = "beauty_guides"\n[run]\ndays = 12\n'})
    sc = load_scenario(tmp_path / "mine.toml")
    shipped = load_scenario("beauty_guides")
    assert sc.run.days == 12 and sc.brands == shipped.brands
    write(tmp_path, {"beauty_guides.toml": "[run]\nconsumers = 77\n"})
    assert load_scenario(tmp_path / "mine.toml").run.consumers == 77  # the local file
    write(tmp_path, {"typo.toml": 'extends = "beauty_guide"\n'})
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "typo.toml")
    assert info.value.key == "extends"
    assert "did you mean 'beauty_guides'?" in str(info.value) and "\n" not in str(info.value)


def test_a_child_adding_a_brand_keeps_the_inherited_ones_unless_it_replaces_them(
    tmp_path: Path,
) -> None:
    """Brand tables merge by name along `extends` (a new name adds a brand, the inherited
    ones stay, and `added_entries` says so for the commands to print); `replace = ["brands"]`
    makes the child's brands the whole set."""
    rival = "[brands.rival]\nappeal = 0.1\n"
    write(
        tmp_path,
        {
            "base.toml": BASE,
            "adds.toml": 'extends = "base.toml"\n' + rival,
            "own.toml": 'extends = "base.toml"\nreplace = ["brands"]\n' + rival,
            "same.toml": 'extends = "base.toml"\n[brands.a]\nappeal = 0.9\n',
        },
    )
    assert set(load_scenario(tmp_path / "adds.toml").brands) == {"a", "b", "rival"}
    [note] = added_entries(tmp_path / "adds.toml")
    assert "adds rival and keeps a, b from base.toml" in note and 'replace = ["brands"]' in note
    own = load_scenario(tmp_path / "own.toml")
    assert set(own.brands) == {"rival"} and own.brands["rival"].appeal == 0.1
    assert own.run.days == 90  # only the brands table is replaced
    assert added_entries(tmp_path / "own.toml") == []
    assert added_entries(tmp_path / "same.toml") == []  # changing an inherited brand
    write(tmp_path, {"bad.toml": 'extends = "base.toml"\nreplace = ["brand"]\n'})
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "bad.toml")
    assert info.value.key == "replace" and "'brands' or 'categories'" in str(info.value)
    with pytest.raises(ScenarioError, match="cannot be overridden"):
        parse_override("replace=[]")


def test_child_can_fix_what_parent_left_invalid_on_its_own(tmp_path: Path) -> None:
    """Validation is of the merged result: a base needs not be runnable alone."""
    write(
        tmp_path,
        {
            "_base.toml": "[brands.a]\nstores = 100\nannual_budget = 1e5\n"
            "[brands.a.strategy]\nguides_per_store = 1\n",
            "ok.toml": 'extends = "_base.toml"\n[brands.a]\nannual_budget = 1e9\n',
        },
    )
    with pytest.raises(ScenarioError):
        load_scenario(tmp_path / "_base.toml")
    assert load_scenario(tmp_path / "ok.toml").brands["a"].annual_budget == 1e9


def test_name_defaults_to_stem(tmp_path: Path, chain: Path) -> None:
    write(
        tmp_path,
        {"named.toml": 'name = "custom"\n', "inherits_name.toml": 'extends = "named.toml"\n'},
    )
    assert load_scenario(chain).name == "child"
    assert load_scenario(tmp_path / "named.toml").name == "custom"
    # a child does not inherit its parent's name (its runs would overwrite the parent's)
    assert load_scenario(tmp_path / "inherits_name.toml").name == "inherits_name"
    assert load_scenario(chain, ["name=other"]).name == "other"


@pytest.mark.parametrize(
    ("text", "path", "value"),
    [
        ("run.days=30", ("run", "days"), 30),
        (
            "brands.a.strategy.private_discount = 0.25",
            ("brands", "a", "strategy", "private_discount"),
            0.25,
        ),
        ("run.seed=1_000", ("run", "seed"), 1000),
        ('description="hello world"', ("description",), "hello world"),
        ("description=hello world", ("description",), "hello world"),
        (
            "brands.a.strategy.guide_regime=quota",
            ("brands", "a", "strategy", "guide_regime"),
            "quota",
        ),
        ("brands.a.adaptive=true", ("brands", "a", "adaptive"), True),
        ("brands.a.strategy.private_ops=false", ("brands", "a", "strategy", "private_ops"), False),
        (
            "brands.a.strategy.tier_spend=[100, 200]",
            ("brands", "a", "strategy", "tier_spend"),
            [100, 200],
        ),
        ("brands.a.initial={aware = 0.5}", ("brands", "a", "initial"), {"aware": 0.5}),
        ("description=a=b", ("description",), "a=b"),
    ],
)
def test_parse_override_reads_toml_values(text: str, path: tuple[str, ...], value: object) -> None:
    got = parse_override(text)
    assert got == Override("--set", path, value)
    assert type(got.value) is type(value)


def test_set_overrides_apply_with_types(chain: Path) -> None:
    sc = load_scenario(
        chain,
        [
            "run.days=30",
            "brands.a.strategy.private_discount=0.3",
            "brands.a.strategy.guide_regime=quota",
            "brands.a.adaptive=true",
            "brands.b.strategy.private_ops=false",
            "brands.a.strategy.tier_spend=[10, 20]",
            "brands.a.strategy.tier_discount=[0.1, 0.2]",
            'description="set on the command line"',
            "brands.c={stores = 4}",
        ],
    )
    a = sc.brands["a"]
    assert sc.run.days == 30 and sc.run.consumers == 500
    assert a.strategy.private_discount == 0.3
    assert a.strategy.ad_budget_per_day == 500  # siblings of an overridden key kept
    assert a.strategy.guide_regime == "quota"
    assert a.adaptive is True
    assert sc.brands["b"].strategy.private_ops is False
    assert (a.strategy.tier_spend, a.strategy.tier_discount) == ([10.0, 20.0], [0.1, 0.2])
    assert sc.description == "set on the command line"
    assert sc.brands["c"].stores == 4  # an override may define a whole new brand


def test_override_cannot_invent_a_brand_by_typo(chain: Path, tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(chain, ["brands.aa.strategy.private_discount=0.1"])
    assert (info.value.file, info.value.key) == ("--set", "brands.aa")
    assert "did you mean 'a'" in info.value.message and "known: a, b" in info.value.message
    with pytest.raises(ScenarioError) as info:
        load_scenario(chain, {"categories.defualt.price": 9.0})
    assert "did you mean 'default'" in info.value.message
    # without a [brands] table the default brand is the one to override
    (tmp_path / "empty.toml").write_text("")
    assert (
        load_scenario(tmp_path / "empty.toml", ["brands.brand.stores=2"]).brands["brand"].stores
        == 2
    )


def test_later_override_wins_and_dict_api(chain: Path) -> None:
    assert load_scenario(chain, ["run.days=5", "run.days=7"]).run.days == 7
    sc = load_scenario(chain, {"run.days": 12, "brands.a.strategy.guide_regime": "quota"})
    assert sc.run.days == 12 and sc.brands["a"].strategy.guide_regime == "quota"


def test_override_can_make_a_file_valid(tmp_path: Path) -> None:
    """Overrides are validated with the file, not after it: raising the budget is fine."""
    write(
        tmp_path,
        {
            "big.toml": "[brands.a]\nstores = 100\nannual_budget = 1e5\n"
            "[brands.a.strategy]\nguides_per_store = 1\n"
        },
    )
    sc = load_scenario(tmp_path / "big.toml", ["brands.a.annual_budget=1e9"])
    assert sc.brands["a"].annual_budget == 1e9


def test_override_does_not_mutate_between_loads(chain: Path) -> None:
    load_scenario(chain, ["run.days=3"])
    assert load_scenario(chain).run.days == 90


def test_a_loader_reads_the_files_once_and_loads_as_load_scenario_does(
    chain: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ScenarioLoader` (a sweep's points): each load equals `load_scenario` with the same
    overrides, no load's overrides reach the next (a table override included), and the
    files are read when the loader is made, not again."""
    loader = ScenarioLoader(chain)
    reads: list[Path] = []
    monkeypatch.setattr(scenario_mod, "read_toml_file", lambda path, *a: reads.append(path))
    cases: list[list[str] | dict[str, object] | None] = [
        ["run.days=3"],
        {"brands.a.strategy": {"guide_regime": "quota"}},
        None,
        ["run.days=5", "run.days=7"],
    ]
    loaded = [loader.load(c) for c in cases]
    assert reads == []
    monkeypatch.undo()
    assert [sc.model_dump() for sc in loaded] == [
        load_scenario(chain, c).model_dump() for c in cases
    ]
    assert loaded[2].run.days == 90 and loaded[2].brands["a"].strategy.guide_regime != "quota"
    with pytest.raises(ScenarioError, match=r"run\.days"):
        loader.load(["run.days=-1"])
    assert loader.load().model_dump() == load_scenario(chain).model_dump()


def test_shipped_scenarios_skip_bases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"b.toml": "", "a.toml": "", "_base.toml": "", "notes.md": ""})
    monkeypatch.setattr(scenario_mod, "SCENARIO_DIR", tmp_path)
    assert [p.name for p in shipped_scenarios()] == ["a.toml", "b.toml"]
    # shipped scenarios load by bare name
    assert load_scenario("a").name == "a"


@pytest.mark.parametrize("path", shipped_scenarios(), ids=lambda p: p.stem)
def test_shipped_scenario_validates(path: Path) -> None:
    sc = load_scenario(path)
    assert sc.name
    assert sc.run.days > 0 and sc.run.consumers > 0
    assert load_scenario(path.stem) == sc  # and by its name


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    """Editors on Windows may save a BOM: it is not 'Invalid statement (line 1, column 1)'."""
    (tmp_path / "bom.toml").write_bytes("\ufeff[run]\ndays = 30\n".encode())
    assert load_scenario(tmp_path / "bom.toml").run.days == 30


def test_integers_are_numbers_strings_are_not(tmp_path: Path) -> None:
    """An integer where a number is expected stays fine; a quoted number or flag does not."""
    write(tmp_path, {"s.toml": "[categories.default]\nprice = 200\n[brands.a]\nappeal = 1\n"})
    sc = load_scenario(tmp_path / "s.toml", ["run.days=30", "brands.a.strategy.private_ops=false"])
    assert sc.categories["default"].price == 200.0 and isinstance(sc.brands["a"].appeal, float)
    assert sc.run.days == 30 and sc.brands["a"].strategy.private_ops is False
    for bad in ('run.days="30"', 'brands.a.strategy.private_ops="false"', "run.days=30.0"):
        with pytest.raises(ScenarioError) as info:
            load_scenario(tmp_path / "s.toml", [bad])
        assert info.value.file == "--set" and info.value.key == bad.split("=")[0]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_api_refuses_non_finite_numbers(value: float) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario("beauty_guides", {"brands.brand.appeal": value})
    assert info.value.key == "brands.brand.appeal" and "finite" in info.value.message


def test_api_takes_numpy_scalars() -> None:
    """A loop over np.arange gives np.int64: it is an integer, not a string."""
    np = pytest.importorskip("numpy")
    sc = load_scenario(
        "beauty_guides",
        {"run.days": np.int64(30), "brands.brand.strategy.private_ops": np.bool_(False)},
    )
    assert sc.run.days == 30 and type(sc.run.days) is int
    assert sc.brands["brand"].strategy.private_ops is False
    with pytest.raises(ScenarioError, match="finite"):
        load_scenario("beauty_guides", {"brands.brand.appeal": np.float64("nan")})


def test_size_limits_and_their_override(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sizes above the documented limits need SIYU_ALLOW_LARGE=1; the engines' own index
    range holds even then."""
    big = {"run.days": 36_501, "run.consumers": 100_000_001, "network.mean_degree": 10_001}
    monkeypatch.delenv("SIYU_ALLOW_LARGE", raising=False)
    for key, value in big.items():
        with pytest.raises(ScenarioError) as info:
            load_scenario("beauty_guides", {key: value})
        assert info.value.key == key and "SIYU_ALLOW_LARGE=1" in info.value.message
    assert load_scenario("beauty_guides", {"run.days": 36_500}).run.days == 36_500
    monkeypatch.setenv("SIYU_ALLOW_LARGE", "0")
    with pytest.raises(ScenarioError):
        load_scenario("beauty_guides", {"run.days": 36_501})
    monkeypatch.setenv("SIYU_ALLOW_LARGE", "1")
    sc = load_scenario("beauty_guides", big)
    assert (sc.run.days, sc.run.consumers, sc.network.mean_degree) == tuple(big.values())
    with pytest.raises(ScenarioError, match="more than the engines can count"):
        load_scenario("beauty_guides", {"run.days": 2**31})


def test_depth_check_is_bounded_on_cyclic_input() -> None:
    """A self-containing table from Python is refused, not walked forever."""
    loop: dict = {}
    loop["again"] = loop
    with pytest.raises(ScenarioError) as info:
        load_scenario("beauty_guides", {"brands.brand.strategy": loop})
    assert info.value.key is not None and info.value.key.startswith("brands.brand.strategy")
    assert "nested more than" in info.value.message


def test_staff_counts_are_numbers_a_scaled_market_may_make_fractional(tmp_path: Path) -> None:
    """stores, koc_count and employee_distributors hold expected counts: a whole number in a
    file reads as that number, a fraction (a scaled market's 2.67 stores) is valid, and the
    budget check counts expected guides (stores x guides_per_store)."""
    path = tmp_path / "s.toml"
    path.write_text(
        "[brands.a]\nstores = 3\n[brands.a.strategy]\nkoc_count = 2\n"
        "employee_distributors = 1.5\nguides_per_store = 0.5\n",
        encoding="utf-8",
    )
    sc = load_scenario(path, ["brands.a.stores=2.5"])
    a = sc.brands["a"]
    assert (a.stores, a.strategy.koc_count, a.strategy.employee_distributors) == (2.5, 2, 1.5)
    budget = 365 * (1000.0 + 1.25 * 200.0)  # default ads and salary, 1.25 expected guides
    load_scenario(path, ["brands.a.stores=2.5", f"brands.a.annual_budget={budget}"])
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, ["brands.a.stores=2.5", f"brands.a.annual_budget={budget - 1}"])
    assert "1.25 guides" in str(info.value)
