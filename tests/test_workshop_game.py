"""The workshop game: decisions, refusals, rounds, saving and exact restore by replay, research
noise from its own Generator, and the `siyu game` commands."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from sim.protocol import ENGINES
from sim.scenario import SCENARIO_DIR, load_scenario
from sim.workshop.game import (
    SPLIT_ITEMS,
    Game,
    GameError,
    allocated_vs_booked,
    decision_toml,
    levers,
    parse_decision,
    purchases,
    read_decision,
    use_help,
)
from sim.workshop.marketfile import MARKET_FILE
from sim.workshop.report import market_markdown, team_markdown, waterfall
from tests.helpers import cli

SMALL = {"run.consumers": 400}
A = {
    "budget": 60_000,
    "split": {
        "ads": 0.4,
        "guides": 0.3,
        "content": 0.1,
        "discounts": 0.1,
        "rewards": 0.05,
        "kocs": 0.05,
    },
    "research": ["survey", "panel"],
}
B = {"budget": 80_000, "split": {"ads": 1.0}}


def new_game(folder: Path, seed: int = 3, engine: str = "agents") -> Game:
    sc = load_scenario("beauty_guides", SMALL)
    return Game.new(folder, sc, ["A", "B"], seed=seed, engine=engine)


def play(game: Game, decisions: dict) -> dict:
    for team, d in decisions.items():
        game.submit(team, d)
    return game.run_round()


def test_decision_validation_names_the_key() -> None:
    with pytest.raises(
        GameError, match=r"decision: split: shares must sum to 1 \(they sum to 0.7\)"
    ):
        parse_decision({"budget": 1, "split": {"ads": 0.7}})
    with pytest.raises(GameError, match=r"split.adz: unknown key"):
        parse_decision({"budget": 1, "split": {"ads": 1, "adz": 0}})
    with pytest.raises(GameError, match=r"budget: missing"):
        parse_decision({"split": {"ads": 1}})
    with pytest.raises(GameError, match=r"research.0: "):
        parse_decision({"budget": 1, "split": {"ads": 1}, "research": ["focus group"]})
    # no coercion, no NaN or inf: a decision says what it means
    with pytest.raises(GameError, match=r"budget: Input should be a valid number \(got '6'\)"):
        parse_decision({"budget": "6", "split": {"ads": 1}})
    with pytest.raises(GameError, match=r"budget: Input should be a finite number"):
        parse_decision({"budget": float("nan"), "split": {"ads": 1}})
    with pytest.raises(GameError, match=r"split.ads: Input should be a valid number"):
        parse_decision({"budget": 1, "split": {"ads": True}})


def test_levers_follow_the_published_rules(tmp_path: Path) -> None:
    game = new_game(tmp_path / "g")
    d = parse_decision(A)
    st = game.template["A"]
    lv = levers(d, st, 10, game.rules)
    assert lv["ad_budget_per_day"] == pytest.approx(60_000 * 0.4 / 90)
    assert lv["guides_per_store"] * 10 == int(60_000 * 0.3 // (90 * st.guide_salary_per_day))
    assert lv["private_discount"] == pytest.approx(6_000 / 2_000 / 100)
    assert lv["referral_tiers"][0].reward == pytest.approx(3_000 / 50)
    assert lv["koc_count"] == (3_000 // (90 * 30))
    assert levers(parse_decision(B), st, 10, game.rules)["private_ops"] is False


def test_bad_decisions_are_refused_and_the_round_does_not_advance(tmp_path: Path) -> None:
    game = new_game(tmp_path / "g")
    cap = game.rules.budget_per_round
    with pytest.raises(GameError, match=r"budget: .* over the budget of"):
        game.submit("A", {**A, "budget": cap})  # research on top breaks the cap
    with pytest.raises(GameError, match="unknown team 'C'"):
        game.submit("C", A)
    game.submit("A", A)
    with pytest.raises(GameError, match="waits for team"):
        game.run_round()
    assert game.round == 0
    assert Game.load(game.folder).state["pending"].keys() == {"A"}


@pytest.mark.parametrize("engine", ENGINES)
def test_a_restart_between_rounds_restores_the_game_exactly(tmp_path: Path, engine: str) -> None:
    one = new_game(tmp_path / "one", engine=engine)
    play(one, {"A": A, "B": B})
    restored = Game.load(one.folder)  # a new process would do the same
    assert restored.round == 1 and restored.engine == engine
    assert restored.state["rounds"] == json.loads((one.folder / "game.json").read_text())["rounds"]
    r_cont = play(one, {"A": B, "B": A})
    r_rest = play(restored, {"A": B, "B": A})
    assert r_cont == r_rest
    # and an uninterrupted game from the same seed is the same market
    other = new_game(tmp_path / "other", engine=engine)
    play(other, {"A": A, "B": B})
    assert play(other, {"A": B, "B": A}) == r_cont
    assert [t for t, _ in restored.ranking()] == [t for t, _ in one.ranking()]


def test_a_game_records_its_engine_and_an_older_save_replays_on_the_reference(
    tmp_path: Path,
) -> None:
    fast = new_game(tmp_path / "fast", engine="fast")
    ref = new_game(tmp_path / "ref")
    r_fast, r_ref = play(fast, {"A": A, "B": B}), play(ref, {"A": A, "B": B})
    assert r_fast["teams"]["A"]["gmv"] != r_ref["teams"]["A"]["gmv"]  # two engines
    assert json.loads((fast.folder / "game.json").read_text())["engine"] == "fast"
    # a save from before the engine choice names none: it was played on the reference
    state = json.loads((ref.folder / "game.json").read_text())
    del state["engine"]
    (ref.folder / "game.json").write_text(json.dumps(state))
    old = Game.load(ref.folder)
    assert old.engine == "agents" and old.results(1) == r_ref
    state["engine"] = "warp"
    (ref.folder / "game.json").write_text(json.dumps(state))
    with pytest.raises(GameError, match=r"game.json: engine: unknown engine 'warp'"):
        Game.load(ref.folder)
    with pytest.raises(GameError, match=r"--engine: unknown engine 'warp'"):
        new_game(tmp_path / "warp", engine="warp")


def test_replay_detects_a_tampered_save(tmp_path: Path) -> None:
    game = new_game(tmp_path / "g")
    play(game, {"A": A, "B": B})
    state = json.loads((game.folder / "game.json").read_text())
    state["rounds"][0]["results"]["teams"]["A"]["gmv"] += 1
    (game.folder / "game.json").write_text(json.dumps(state))
    with pytest.raises(GameError, match=r"rounds.1.results: edited results"):
        Game.load(game.folder)


@pytest.mark.parametrize("engine", ENGINES)
def test_research_noise_does_not_change_the_market(tmp_path: Path, engine: str) -> None:
    with_research = play(new_game(tmp_path / "a", engine=engine), {"A": A, "B": B})
    without = play(new_game(tmp_path / "b", engine=engine), {"A": {**A, "research": []}, "B": B})
    for team in ("A", "B"):
        assert with_research["teams"][team]["gmv"] == without["teams"][team]["gmv"]
    survey = with_research["teams"]["A"]["research"]["survey"]
    assert survey["sample"] == 200 and set(survey["brands"]) == {"A", "B"}
    panel = with_research["teams"]["A"]["research"]["panel"]
    assert sum(sum(v.values()) for v in panel["brands"].values()) == 300


def test_reports_add_up(tmp_path: Path) -> None:
    game = new_game(tmp_path / "g")
    play(game, {"A": A, "B": B})
    t = game.results(1)["teams"]["A"]
    rows = waterfall(t)
    steps = {label: v for label, v, _ in rows}
    assert steps["GMV"] == pytest.approx(steps["sales at list price"] + steps["discounts"])
    costs = sum(v for label, v, kind in rows[5:-3] if kind == "step")
    assert steps["contribution"] == pytest.approx(steps["gross profit"] + costs)
    assert steps["after research"] == pytest.approx(steps["contribution"] - 13_000)
    assert "P&L" in team_markdown(game, "A") and "| rank |" in market_markdown(game)


def test_game_commands_play_on_paper(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scen = tmp_path / "small.toml"
    scen.write_text(f'extends = "{SCENARIO_DIR / "beauty_guides.toml"}"\n[run]\nconsumers = 300\n')
    d = tmp_path / "game"
    code, out, _ = cli(["game", "new", scen, "--teams", "A,B", "--dir", d, "--rounds", "2"], capsys)
    assert code == 0 and "waiting for A, B" in out
    assert f"team A: http://127.0.0.1:8765/game/team/A?key={Game.load(d).secret('A')}" in out
    code, form, _ = cli(["game", "form", d, "--team", "A"], capsys)
    assert code == 0
    good = tmp_path / "a.toml"
    good.write_text(form)
    assert read_decision(good).split.ads == 1.0
    bom = tmp_path / "bom.toml"  # saved by an editor that writes a byte-order mark
    bom.write_bytes(b"\xef\xbb\xbf" + form.encode("utf-8"))
    assert read_decision(bom) == read_decision(good)
    bad = tmp_path / "bad.toml"
    bad.write_text(form.replace("ads = 1", "ads = 0.5"))
    code, _, err = cli(["game", "submit", d, "--team", "A", "--file", bad], capsys)
    assert (
        code == 2 and err.strip() == f"error: {bad}: split: shares must sum to 1 (they sum to 0.5)"
    )
    code, _, err = cli(["game", "run", d], capsys)
    assert code == 2 and "waits for team(s) A, B" in err and err.count("\n") == 1
    for team in ("A", "B"):
        assert cli(["game", "submit", d, "--team", team, "--file", good], capsys)[0] == 0
    code, out, _ = cli(["game", "run", d], capsys)
    assert code == 0 and "| rank |" in out and (d / "round-1" / "A.md").exists()
    code, out, _ = cli(["game", "status", d], capsys)
    assert "round 1 of 2 played" in out and "1. " in out
    code, _, err = cli(["game", "status", tmp_path / "nowhere"], capsys)
    assert code == 2 and "no game here" in err


def test_game_new_takes_an_engine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scen = tmp_path / "small.toml"
    scen.write_text(f'extends = "{SCENARIO_DIR / "beauty_guides.toml"}"\n[run]\nconsumers = 300\n')
    d = tmp_path / "game"
    code, out, _ = cli(
        ["game", "new", scen, "--teams", "A,B", "--dir", d, "--engine", "fast"], capsys
    )
    assert code == 0 and "fast engine" in out and Game.load(d).engine == "fast"
    code, _, err = cli(
        ["game", "new", scen, "--teams", "A", "--dir", tmp_path / "x", "--engine", "warp"], capsys
    )
    assert (
        code == 2 and err.strip() == "error: --engine: unknown engine 'warp' (known: fast, agents)"
    )


def test_each_round_continues_the_saved_market_byte_for_byte(tmp_path: Path) -> None:
    """Round N continues the market saved after round N-1 (no replay), and gives the bytes a
    replay from the seed gives; a market file that is not this game's is ignored."""
    rounds = [{"A": A, "B": B}, {"A": B, "B": A}, {"A": A, "B": A}]
    new_game(tmp_path / "inc")
    new_game(tmp_path / "rep")
    for k, decisions in enumerate(rounds):
        inc = Game.load(tmp_path / "inc")
        (tmp_path / "rep" / MARKET_FILE).unlink(missing_ok=True)
        rep = Game.load(tmp_path / "rep")
        assert inc.market_from is None  # reading the save builds no market
        assert play(inc, decisions) == play(rep, decisions)
        assert inc.market_from == ("save" if k else "replay") and rep.market_from == "replay"
        assert inc.model.ledger.array.tobytes() == rep.model.ledger.array.tobytes()
    # a market file signed for other rounds, or edited, is not used
    path = tmp_path / "inc" / MARKET_FILE
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 1
    path.write_bytes(bytes(raw))
    game = Game.load(tmp_path / "inc")
    assert game.model.today == 3 * game.rules.round_days and game.market_from == "replay"
    shutil.copy(tmp_path / "rep" / MARKET_FILE, path)  # another game's (another secret)
    game = Game.load(tmp_path / "inc")
    assert game.model.today == 3 * game.rules.round_days and game.market_from == "replay"


def test_the_form_shows_what_each_yuan_buys_at_the_games_prices(tmp_path: Path) -> None:
    game = new_game(tmp_path / "g")
    d, base, stores = parse_decision(A), game.template["A"], game.scenario.brands["A"].stores
    rules, days = game.rules, game.rules.round_days
    rows = {r["use"]: r for r in purchases(d, base, stores, rules, 40.0)}
    assert sum(r["yuan"] for r in rows.values()) == pytest.approx(d.budget)
    guides = int(d.spend("guides") // (base.guide_salary_per_day * days))
    assert rows["guides"]["buys"].startswith(f"{guides} guides")
    assert f"{base.guide_salary_per_day:g} yuan/day per guide" in rows["guides"]["price"]
    kocs = int(d.spend("kocs") // (rules.koc_cost_per_day * days))
    assert rows["kocs"]["buys"] == f"{kocs} KOCs"
    points = d.spend("discounts") / rules.discount_cost_per_point
    assert rows["discounts"]["buys"].startswith(f"{points:.1f}% off")
    # the prices are the game's: another price, another purchase
    dearer = rules.model_copy(update={"koc_cost_per_day": 10 * rules.koc_cost_per_day})
    assert {r["use"]: r for r in purchases(d, base, stores, dearer, 40.0)}["kocs"]["buys"] == (
        f"{int(d.spend('kocs') // (dearer.koc_cost_per_day * days))} KOCs"
    )
    # the paper form's comments are the same explanations
    form = decision_toml(game, "A")
    for item in ("discounts", "rewards"):
        assert use_help(item, rules)[:60] in " ".join(form.replace("# ", "").split())


def test_pnl_lines_match_the_split_as_documented(tmp_path: Path) -> None:
    """Fixed-cost uses are booked up to their allocation; per-event uses are booked per
    order or referral, and the report shows both beside each other."""
    game = new_game(tmp_path / "g")
    play(game, {"A": A, "B": B})
    d, t = game.decision(1, "A"), game.results(1)["teams"]["A"]
    rows = {r["use"]: r for r in allocated_vs_booked(d, t)}
    assert sum(r["allocated"] for r in rows.values()) == pytest.approx(d.budget)
    for use in SPLIT_ITEMS:
        assert rows[use]["allocated"] == pytest.approx(d.budget * getattr(d.split, use))
    cash = t["cash"]
    stores = game.scenario.brands["A"].stores
    days, lv = game.rules.round_days, levers(d, game.template["A"], stores, game.rules)
    # booked lines add up to the P&L's lines
    assert cash["cost_ads"] == pytest.approx(t["costs"]["ads"])
    assert sum(rows["guides"]["booked"].values()) == pytest.approx(t["costs"]["guides"])
    assert sum(rows["kocs"]["booked"].values()) == pytest.approx(t["costs"]["KOCs"])
    assert sum(rows["rewards"]["booked"].values()) == pytest.approx(t["costs"]["rewards and gifts"])
    assert cash["discounts"] == pytest.approx(t["discounts"])
    assert cash["cost_tooling"] == pytest.approx(rows["content"]["allocated"])
    # what the allocation bought is what was booked for the fixed costs
    assert cash["cost_ads"] <= rows["ads"]["allocated"] + 1e-6
    guides = round(lv["guides_per_store"] * stores)
    salary = guides * game.template["A"].guide_salary_per_day * days
    assert (
        cash["cost_guide_salary"] == pytest.approx(salary) and salary <= rows["guides"]["allocated"]
    )
    fees = lv["koc_count"] * game.rules.koc_cost_per_day * days
    assert cash["cost_koc_fees"] == pytest.approx(fees) and fees <= rows["kocs"]["allocated"]
    # per event: the discount is a rate on private orders, far from its allocation
    assert cash["discounts"] < rows["discounts"]["allocated"]
    report = team_markdown(game, "A")
    assert "allocated and booked" in report and "paid on each private order" in report


def test_the_score_counts_incremental_contribution_against_a_twin(tmp_path: Path) -> None:
    """A team's twin is the same market on the same seed with its brand's private
    operations off: its contribution there is what its ads alone earn (a game where it buys
    only those ads gives the same), and the score adds `value_rounds` x the positive
    difference as customer value."""
    game = new_game(tmp_path / "g")
    r = play(game, {"A": A, "B": B})["teams"]
    ads_only = new_game(tmp_path / "ads")
    same_ads = {"budget": A["budget"] * A["split"]["ads"], "split": {"ads": 1.0}}
    alone = play(ads_only, {"A": same_ads, "B": B})["teams"]
    assert r["A"]["twin_contribution"] == pytest.approx(alone["A"]["contribution"])
    assert r["A"]["incremental_contribution"] == pytest.approx(
        r["A"]["contribution"] - alone["A"]["contribution"]
    )
    assert r["B"]["incremental_contribution"] == 0.0  # no private operations: its own twin
    for t in r.values():
        value = game.rules.value_rounds * max(0.0, t["incremental_contribution"])
        assert t["customer_value"] == pytest.approx(value)
        assert t["score"] == pytest.approx(t["cumulative_contribution"] + value)
    text = market_markdown(game)
    assert "incremental contribution" in text and "twin" in text
    assert "private operations added" in team_markdown(game, "A")


def test_a_game_saved_before_twins_keeps_its_score(tmp_path: Path) -> None:
    game = new_game(tmp_path / "g")
    play(game, {"A": A, "B": B})
    state = json.loads((game.folder / "game.json").read_text())
    del state["rules"]["value_rounds"]
    state["rules"]["member_value"] = 30.0
    for rnd in state["rounds"]:  # results as an older version saved them
        for t in rnd["results"]["teams"].values():
            for key in ("twin_contribution", "incremental_contribution", "customer_value"):
                del t[key]
            t["score"] = t["cumulative_contribution"] + 30.0 * t["reachable"]
        del rnd["sha256"]
    state["format"] = 1
    (game.folder / "game.json").write_text(json.dumps(state))
    (game.folder / MARKET_FILE).unlink()
    old = Game.load(game.folder)  # replayed (no checksums), the same score
    assert old.rules.value_rounds == 0 and old.twin_teams == []
    assert "30 yuan per reachable member" in market_markdown(old)


def test_a_facilitator_shock_applies_from_its_round_and_is_saved(tmp_path: Path) -> None:
    shocked, calm = new_game(tmp_path / "s"), new_game(tmp_path / "c")
    with pytest.raises(GameError, match=r"--kind: unknown shock 'meteor'"):
        shocked.add_shock("meteor")
    shock = shocked.add_shock("ban_package_cards", from_round=2)
    assert shock == {"kind": "ban_package_cards", "from_round": 2, "value": 0.0}
    assert play(shocked, {"A": A, "B": B}) == play(calm, {"A": A, "B": B})  # not yet
    with pytest.raises(GameError, match=r"--from-round: round 1 is not to come"):
        shocked.add_shock("platform_discount", from_round=1)
    shocked.add_shock("platform_discount", value=0.2)  # from the next round, round 2
    r_shock, r_calm = play(shocked, {"A": A, "B": B}), play(calm, {"A": A, "B": B})
    assert r_shock["teams"]["A"]["discounts"] > r_calm["teams"]["A"]["discounts"]
    assert r_shock["teams"]["B"]["gmv"] != r_calm["teams"]["B"]["gmv"]
    (shocked.folder / MARKET_FILE).unlink()
    again = Game.load(shocked.folder)  # recorded in the save: a replay gives the same market
    assert len(again.state["shocks"]) == 2 and again.model.today == 180
    assert "Market news" in team_markdown(again, "A") and "20%" in market_markdown(again)


def test_platform_terms_shocks_change_cpm_and_commission_from_their_round(tmp_path: Path) -> None:
    """A CPM spike and a take-rate rise reach the market (and every team's twin) through
    the engine protocol's set_platform, from their round on; a replay repeats them."""
    shocked, calm = new_game(tmp_path / "s"), new_game(tmp_path / "c")
    with pytest.raises(GameError, match=r"--value: a multiplier from 0.1 to below 10 \(got 12\)"):
        shocked.add_shock("cpm_spike", value=12)
    shocked.add_shock("cpm_spike", from_round=2, value=3.0)
    shocked.add_shock("take_rate", from_round=2, value=0.3)
    assert play(shocked, {"A": A, "B": B}) == play(calm, {"A": A, "B": B})  # not yet
    r_shock, r_calm = play(shocked, {"A": A, "B": B}), play(calm, {"A": A, "B": B})
    first = r_calm["days"][0]
    cpm_s, cpm_c = shocked.model.ledger.data["cpm"], calm.model.ledger.data["cpm"]
    assert np.allclose(cpm_s[first], 3.0 * cpm_c[first], rtol=1e-12)
    assert shocked.model.scenario.platform.take_rate == 0.3
    ledger = shocked.model.ledger.data
    sold = ledger["gmv_platform"][first:] > 0
    rate = ledger["cost_platform_commission"][first:][sold] / ledger["gmv_platform"][first:][sold]
    assert sold.any() and np.allclose(rate, 0.3)
    assert r_shock["teams"]["A"]["contribution"] < r_calm["teams"]["A"]["contribution"]
    (shocked.folder / MARKET_FILE).unlink()
    again = Game.load(shocked.folder)  # replayed from the save: the same terms, same bytes
    assert np.array_equal(again.model.ledger.data["cpm"], cpm_s)
    assert "3 times as much" in market_markdown(again)


def test_computer_run_rivals_play_by_their_rule_deterministically(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sc = load_scenario("beauty_guides", SMALL)
    games = [
        Game.new(tmp_path / f"g{j}", sc, ["A"], seed=3, rivals=["copycat", "ads_only"])
        for j in range(2)
    ]
    for game in games:
        assert game.teams == ["A", "rival-copycat", "rival-ads_only"]
        assert game.waiting_for() == ["A"] and "rival-copycat" not in game.links("http://x")
        play(game, {"A": A})
        play(game, {"A": B})
    one, two = games
    assert one.state["rounds"] == two.state["rounds"]  # deterministic per seed
    assert one.decision(1, "rival-ads_only").split.ads == 1.0
    assert one.decision(1, "rival-copycat").split.guides > 0  # balanced in round 1
    best = next(t for t, _ in one.ranking_after(1) if t != "rival-copycat")
    copied = one.decision(2, "rival-copycat")
    assert copied.split == one.decision(1, best).split and copied.research == []
    with pytest.raises(GameError, match=r"team: rival-copycat is a computer-run rival"):
        one.submit("rival-copycat", A)
    with pytest.raises(GameError, match=r"--rivals: unknown rival 'genius'"):
        Game.new(tmp_path / "x", sc, ["A"], rivals=["genius"])
    scen = tmp_path / "small.toml"
    scen.write_text(f'extends = "{SCENARIO_DIR / "beauty_guides.toml"}"\n[run]\nconsumers = 300\n')
    d = tmp_path / "paper"
    code, out, _ = cli(
        ["game", "new", scen, "--teams", "A", "--dir", d, "--rivals", "balanced"], capsys
    )
    assert code == 0 and "rival rival-balanced: a fixed split" in out
    code, out, _ = cli(["game", "shock", d, "--kind", "ban_package_cards"], capsys)
    assert code == 0 and "from round 1: the platform bans package cards" in out
    code, _, err = cli(["game", "shock", d, "--kind", "meteor"], capsys)
    assert code == 2 and err.count("\n") == 1 and "unknown shock 'meteor'" in err
