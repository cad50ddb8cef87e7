"""What the app's game pages may do (`sim.workshop.access.GameDesk`, without a browser): a
team's secret submits only that team's form, only the facilitator's runs a round, refused on
the server; every action re-reads the save, so `siyu game` commands and the pages can be
mixed; a round whose reports failed to write is saved, and `siyu game report` writes them."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.scenario import load_scenario
from sim.workshop.access import GameDesk, NotAllowed
from sim.workshop.game import Game, GameError
from sim.workshop.report import market_markdown, team_markdown
from tests.helpers import cli

A = {"budget": 50_000, "split": {"ads": 0.5, "guides": 0.3, "content": 0.2}}
B = {"budget": 40_000, "split": {"ads": 1.0}}
PAPER = 'budget = 30000\nchannel_policy = "assist"\n[split]\nads = 0.5\nkocs = 0.5\n'


def new_game(folder: Path) -> Game:
    sc = load_scenario("beauty_guides", {"run.consumers": 300})
    return Game.new(folder, sc, ["A", "B"], seed=7, rules={"rounds": 3})


def test_a_link_acts_only_for_its_own_page(tmp_path: Path) -> None:
    game = new_game(tmp_path / "g")
    desk = GameDesk(game.folder)
    key_a, key_b, key_f = game.secret("A"), game.secret("B"), game.secret()
    for team, key in (("B", key_a), ("A", key_b), ("A", key_f), ("A", None), ("A", "x" * 22)):
        with pytest.raises(NotAllowed, match="this link is not valid"):
            desk.submit(team, key, A)
    with pytest.raises(NotAllowed):
        desk.submit("C", key_a, A)  # no such team: the same answer
    assert Game.load(game.folder).state["pending"] == {}
    assert desk.submit("A", key_a, A)[1] == 1
    assert desk.submit("B", key_b, B)[1] == 1
    for key in (key_a, key_b, None, ""):  # RUN ROUND needs the facilitator's secret
        with pytest.raises(NotAllowed):
            desk.run_round(key)
    assert Game.load(game.folder).round == 0
    assert desk.run_round(key_f) == (1, None)
    assert Game.load(game.folder).round == 1


def test_the_pages_and_the_commands_can_be_mixed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    game = new_game(tmp_path / "g")
    paper = tmp_path / "b.toml"
    paper.write_text(PAPER)
    desk = GameDesk(game.folder)
    key_a, key_f = game.secret("A"), game.secret()
    with desk.lock:
        drawn = desk.fresh()  # the facilitator's page is drawn: nobody has submitted
        assert drawn.waiting_for() == ["A", "B"]
    # team B submits on paper, team A on its page, both after that draw
    assert cli(["game", "submit", game.folder, "--team", "B", "--file", paper], capsys)[0] == 0
    desk.submit("A", key_a, A)
    assert desk.run_round(key_f)[0] == 1  # not refused as "waiting for B"
    saved = Game.load(game.folder)
    assert saved.decision(1, "B").channel_policy == "assist"  # the paper decision was played
    assert saved.decision(1, "A").split.guides == pytest.approx(0.3)
    # round 2: A submits on its page, then the facilitator re-submits A's and B's on paper
    # and runs the round from the command line; the page's next action sees round 2 played
    desk.submit("A", key_a, B)
    for team in ("A", "B"):
        assert cli(["game", "submit", game.folder, "--team", team, "--file", paper], capsys)[0] == 0
    assert cli(["game", "run", game.folder], capsys)[0] == 0
    assert Game.load(game.folder).decision(2, "A").channel_policy == "assist"
    assert desk.submit("A", key_a, A)[1] == 3  # for round 3, on the replayed market
    with desk.lock:
        assert desk.fresh().round == 2
    # the market the page acts on is the one replayed from the save: a round run there
    # equals the same game played uninterrupted in one process
    desk.submit("B", game.secret("B"), B)
    desk.run_round(key_f)
    final = Game.load(game.folder)
    other = new_game(tmp_path / "other")
    for k in (1, 2, 3):
        for team in ("A", "B"):
            other.submit(team, final.decision(k, team))
        other.run_round()
    assert other.results(3) == final.results(3)


def test_reports_can_be_written_again(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    game = new_game(tmp_path / "g")
    for team in ("A", "B"):
        game.submit(team, A)
    blocker = game.folder / "round-1"
    blocker.write_text("not a folder")  # the reports cannot be written
    code, _, err = cli(["game", "run", game.folder], capsys)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert f"error: {blocker}: cannot write the round reports" in err
    assert f"round 1 is saved: `siyu game report {game.folder}`" in err
    assert Game.load(game.folder).round == 1  # the round itself is kept
    blocker.unlink()
    code, out, _ = cli(["game", "report", game.folder], capsys)
    assert code == 0 and "round-1" in out
    saved = Game.load(game.folder)
    assert (blocker / "A.md").read_text() == team_markdown(saved, "A", 1)
    assert (blocker / "market.md").read_text() == market_markdown(saved, 1)
    code, _, err = cli(["game", "report", game.folder, "--round", "2"], capsys)
    assert code == 2 and err.startswith("error: --round: round 2 has not been played")
    # the facilitator's page: the round is played and saved, the note says how to recover
    desk = GameDesk(game.folder)
    for team in ("A", "B"):
        desk.submit(team, game.secret(team), B)
    (game.folder / "round-2").write_text("not a folder")
    played, note = desk.run_round(game.secret())
    assert played == 2 and "cannot write the round reports" in note
    assert f"siyu game report {game.folder}" in note
    assert Game.load(game.folder).round == 2


def test_a_save_corrupted_while_the_app_runs_is_reported_not_raised(tmp_path: Path) -> None:
    game = new_game(tmp_path / "g")
    desk = GameDesk(game.folder)
    with desk.lock:
        desk.fresh()
    (game.folder / "game.json").write_bytes(b"\x00\xff")
    with pytest.raises(GameError, match=r"game.json: not a game save"):
        desk.submit("A", game.secret("A"), A)
    with desk.lock, pytest.raises(GameError, match=r"not a game save"):
        desk.fresh()
