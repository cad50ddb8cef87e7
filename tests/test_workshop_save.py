"""The workshop game's save file: a corrupt save is one line naming the file and what is
wrong (exit 2, no traceback, the file left as it was); an edited decision is reported as
edited, a changed simulator as such; the secrets of the links; old saves upgraded; the
writers' lock."""

from __future__ import annotations

import importlib.util
import json
import shutil
import threading
from pathlib import Path

import pytest

import sim.workshop.game as game_module
from sim.scenario import load_scenario
from sim.workshop.game import Game, GameError
from sim.workshop.marketfile import MARKET_FILE
from sim.workshop.savefile import LOCK_FILE, locked
from tests.helpers import cli

A = {"budget": 50_000, "split": {"ads": 0.5, "guides": 0.3, "content": 0.2}}
B = {"budget": 40_000, "split": {"ads": 1.0}, "research": ["survey"]}


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A game with one round played and team A's next decision in."""
    folder = tmp_path_factory.mktemp("save") / "game"
    game = Game.new(
        folder, load_scenario("beauty_guides", {"run.consumers": 300}), ["A", "B"], seed=2
    )
    game.submit("A", A)
    game.submit("B", B)
    game.run_round()
    game.submit("A", B)
    return folder


def copy_of(played: Path, tmp_path: Path) -> tuple[Path, dict]:
    folder = tmp_path / "game"
    shutil.copytree(played, folder)
    return folder, json.loads((folder / "game.json").read_text("utf-8"))


def _set(state: dict, dotted: str, value: object) -> dict:
    *path, last = dotted.split(".")
    node = state
    for p in path:
        node = node[int(p)] if isinstance(node, list) else node[p]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return state


DELETE = object()

CORRUPT = {
    # case: (new content: bytes, or (dotted key, value) edits of the save; expected message)
    "binary bytes": (b"\x89PNG\r\n\x1a\n\x00\xff\xfe", "not a game save: not UTF-8 text"),
    "a JSON array": (b"[1, 2, 3]", "not a game save: the JSON is an array, not an object"),
    "empty": (b"", "not a game save: not valid JSON"),
    "cut short": (None, "not a game save: not valid JSON"),
    "nested too deeply": (b"[" * 100_000 + b"]" * 100_000, "JSON nested too deeply"),
    "NaN": (b'{"format": 2, "seed": NaN}', "NaN is not a number a save may hold"),
    "missing teams": ([("teams", DELETE)], "game.json: teams: missing"),
    "a text seed": ([("seed", "2")], "game.json: seed: Input should be a valid integer"),
    "results not a table": (
        [("rounds.0.results", "x")],
        "game.json: rounds.1.results: Input should be a valid dictionary",
    ),
    "a text rule": ([("rules.rounds", "8")], "game.json: rules.rounds: Input should be a valid"),
    "unknown format": ([("format", 99)], "game.json: format: unsupported game format 99"),
    "teams not the brands": ([("teams", ["A", "C"])], "teams: do not match the brands"),
    "bad scenario": (
        [("scenario.run.consumers", -5)],
        "game.json: scenario.run.consumers: ",
    ),
    "edited decision": (
        [("rounds.0.decisions.A.budget", 45_000)],
        "game.json: rounds.1.decisions.A: edited decision: it no longer matches the checksum",
    ),
    "edited decision, invalid": (
        [("rounds.0.decisions.A.split.ads", 0.2)],
        "game.json: rounds.1.decisions.A.split: edited decision is invalid: shares must sum to 1",
    ),
    "edited decision, over budget": (
        [("rounds.0.decisions.B.budget", 10**9)],
        "game.json: rounds.1.decisions.B.budget: edited decision breaks the rules: ",
    ),
    "a decision missing": (
        [("rounds.0.decisions.B", DELETE)],
        "game.json: rounds.1.decisions.B: missing",
    ),
    "edited results": (
        [("rounds.0.results.teams.A.gmv", 1.0)],
        "game.json: rounds.1.results: edited results",
    ),
    "pending of no team": (
        [("pending.C", A)],
        "game.json: pending.C: not a team of this game",
    ),
    "pending invalid": (
        [("pending.A.budget", -1)],
        "game.json: pending.A.budget: submitted decision is invalid: ",
    ),
    "secrets of other teams": (
        [("secrets.teams", {"A": "x" * 22})],
        "game.json: secrets.teams: do not match the teams",
    ),
    "a short secret": (
        [("secrets.facilitator", "abc")],
        "game.json: secrets.facilitator: String should have at least 16 characters",
    ),
}


@pytest.mark.parametrize("case", list(CORRUPT))
def test_a_corrupt_save_is_one_line_naming_the_file(
    case: str, played: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, state = copy_of(played, tmp_path)
    content, expected = CORRUPT[case]
    path = folder / "game.json"
    if content is None:
        content = path.read_bytes()[: path.stat().st_size // 2]
    elif isinstance(content, list):
        for key, value in content:
            _set(state, key, value)
        content = json.dumps(state).encode()
    path.write_bytes(content)
    commands = [["game", "status", folder], ["game", "run", folder]]
    if importlib.util.find_spec("solara"):  # --port 0: a save that passed would stop there
        commands.append(["app", "public_only", "--game", folder, "--port", "0"])
    for command in commands:
        code, out, err = cli(command, capsys)
        assert code == 2, (case, out, err)
        assert err.startswith(f"error: {path}") and err.count("\n") == 1, err
        assert expected in err, err
        assert "Traceback" not in err and "simulator changed" not in err
    assert path.read_bytes() == content  # nothing written over it
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in played.iterdir())


def test_a_changed_simulator_is_not_blamed_on_the_save(
    played: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, _ = copy_of(played, tmp_path)
    real = game_module.round_results

    def changed(*args):  # a new version of the simulator: other sales
        out = real(*args)
        out["teams"]["A"]["gmv"] += 1.0
        return out

    monkeypatch.setattr(game_module, "round_results", changed)
    (folder / MARKET_FILE).unlink()  # no saved market: the next command replays
    game = Game.load(folder)  # reading the save needs no market
    with pytest.raises(GameError, match=r"rounds.1: .* the simulator changed .* save itself is"):
        game.model  # noqa: B018 (the market is rebuilt on first use)


def test_each_link_has_its_own_secret(played: Path) -> None:
    game = Game.load(played)
    keys = [game.secret(), game.secret("A"), game.secret("B")]
    assert len(set(keys)) == 3 and all(len(k) >= 22 for k in keys)
    assert game.allows(game.secret()) and game.allows(game.secret("A"), "A")
    assert not game.allows(game.secret("A"))  # a team's secret is not the facilitator's
    assert not game.allows(game.secret("A"), "B")  # nor another team's
    assert not game.allows(game.secret(), "A")  # each link opens one page
    for wrong in (None, "", keys[0][:-1], keys[0] + "x", "ключ"):
        assert not game.allows(wrong) and not game.allows(wrong, "A")
    assert not game.allows(game.secret("A"), "C")
    links = game.links("http://127.0.0.1:8765/")
    assert links == {
        "facilitator": f"http://127.0.0.1:8765/game?key={keys[0]}",
        "A": f"http://127.0.0.1:8765/game/team/A?key={keys[1]}",
        "B": f"http://127.0.0.1:8765/game/team/B?key={keys[2]}",
    }
    other = Game.new(
        played.parent / "other", load_scenario("public_only", {"run.consumers": 100}), ["A", "B"]
    )
    assert not {other.secret(), other.secret("A"), other.secret("B")} & set(keys)


def test_links_command_prints_and_renews_the_secrets(
    played: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = copy_of(played, tmp_path)
    old = Game.load(folder).links("http://10.0.0.5:8765")
    code, out, _ = cli(["game", "links", folder, "--url", "http://10.0.0.5:8765"], capsys)
    assert code == 0 and all(link in out for link in old.values())
    code, out, _ = cli(["game", "links", folder, "--renew"], capsys)
    new = Game.load(folder)
    assert code == 0 and new.secret("A") in out
    assert not new.allows(old["A"].split("key=")[1], "A")
    assert not new.allows(old["facilitator"].split("key=")[1])
    code, _, err = cli(["game", "links", folder, "--url", "10.0.0.5"], capsys)
    assert code == 2 and err.startswith("error: --url: ")


def test_an_old_save_gets_secrets_and_checksums_once(played: Path, tmp_path: Path) -> None:
    folder, state = copy_of(played, tmp_path)
    del state["secrets"]
    for rnd in state["rounds"]:
        del rnd["sha256"]
    state["format"] = 1
    (folder / "game.json").write_text(json.dumps(state))
    first = Game.load(folder)
    saved = json.loads((folder / "game.json").read_text())
    assert saved["format"] == 2 and saved["secrets"] == first.state["secrets"]
    assert (
        saved["rounds"][0]["sha256"]
        == json.loads((played / "game.json").read_text())["rounds"][0]["sha256"]
    )
    assert Game.load(folder).secret("A") == first.secret("A")  # stable from now on
    # an old save that was edited is still caught, though it has no checksums
    state["rounds"][0]["decisions"]["A"]["budget"] = 45_000
    (folder / "game.json").write_text(json.dumps(state))
    with pytest.raises(GameError, match=r"rounds.1: replaying .* the save was edited"):
        Game.load(folder)


def test_one_writer_at_a_time(tmp_path: Path) -> None:
    folder = tmp_path / "g"
    held, release, outcome = threading.Event(), threading.Event(), []

    def other_writer() -> None:
        with locked(folder):
            held.set()
            release.wait(30)

    thread = threading.Thread(target=other_writer)
    thread.start()
    try:
        assert held.wait(30)
        busy = pytest.raises(GameError, match=r"busy: another command has held the game")
        with busy, locked(folder, wait=0.2):
            outcome.append("entered")
    finally:
        release.set()
        thread.join(30)
    assert outcome == [] and (folder / LOCK_FILE).exists()
    with locked(folder, wait=0.2), locked(folder, wait=0.2):  # re-entrant in one thread
        outcome.append("entered")
    assert outcome == ["entered"]
