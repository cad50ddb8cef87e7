"""Workshop commands for `siyu`: `siyu app` (the live browser app, and a game's pages) and
`siyu game new|form|submit|run|status` (the game from the command line, with decision files,
so a workshop can also run on paper). Bad input: one line `error: FILE: KEY: message`, exit 2.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

game_app = typer.Typer(
    no_args_is_help=True,
    help="The workshop game: teams run brands in one market, a quarter per round.",
)

APP_FILE = Path(__file__).with_name("app.py")


def _fail(message: str, code: int = 2):
    from sim.cli import _fail as fail

    fail(message, code)


def _load_game(folder: Path):
    from sim.workshop.game import Game, GameError

    try:
        return Game.load(folder)
    except GameError as exc:
        _fail(str(exc))


def _teams(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _new_game(scenario: str, teams: str, folder: Path, seed, brand, rounds, budget):
    from sim.cli import _load
    from sim.workshop.game import Game, GameError

    sc = _load(scenario, None)
    rules = {}
    if rounds is not None:
        rules["rounds"] = rounds
    if budget is not None:
        rules["budget_per_round"] = budget
    try:
        return Game.new(folder, sc, _teams(teams), seed=seed, brand=brand, rules=rules)
    except GameError as exc:
        _fail(str(exc))
    except ValueError as exc:  # a rule out of range
        _fail(f"--rounds/--budget: {' '.join(str(exc).split())}")


def _print_status(game) -> None:
    from sim.workshop.report import SCORE_RULE, money

    print(
        f"game {game.folder}: {game.state['name']}, seed {game.seed}, teams "
        f"{', '.join(game.teams)}; round {game.round} of {game.rules.rounds} played; "
        f"budget {money(game.rules.budget_per_round)} yuan a round"
    )
    if game.finished:
        print("the game is over")
    else:
        waiting = game.waiting_for()
        submitted = [t for t in game.teams if t not in waiting]
        print(
            f"round {game.round + 1}: submitted {', '.join(submitted) or '–'}; "
            f"waiting for {', '.join(waiting) or '– (ready: siyu game run)'}"
        )
    if game.round:
        print(SCORE_RULE.format(member_value=game.rules.member_value))
        for j, (team, score) in enumerate(game.ranking(), 1):
            print(f"  {j}. {team}: {money(score)}")


@game_app.command("new")
def game_new(
    scenario: Annotated[str, typer.Argument(help="scenario file or shipped name")],
    teams: Annotated[str, typer.Option(help="team names, comma-separated: A,B")],
    dir_: Annotated[Path, typer.Option("--dir", help="folder to keep the game in")],
    seed: Annotated[int | None, typer.Option(help="seed (default: the scenario's)")] = None,
    brand: Annotated[
        str | None, typer.Option(help="scenario brand every team starts as (default: first)")
    ] = None,
    rounds: Annotated[int | None, typer.Option(help="rounds (quarters) in the game")] = None,
    budget: Annotated[float | None, typer.Option(help="yuan a team may commit a round")] = None,
) -> None:
    """Create a game: one brand per team, cloned from a scenario brand."""
    game = _new_game(scenario, teams, dir_, seed, brand, rounds, budget)
    _print_status(game)


@game_app.command("form")
def game_form(
    dir_: Annotated[Path, typer.Argument(help="the game folder")],
    team: Annotated[str, typer.Option(help="team name")],
) -> None:
    """Print a decision file to fill in (the team's last decision)."""
    from sim.workshop.game import decision_toml

    game = _load_game(dir_)
    if team not in game.teams:
        _fail(f"--team: unknown team {team!r} (teams: {', '.join(game.teams)})")
    sys.stdout.write(decision_toml(game, team))


@game_app.command("submit")
def game_submit(
    dir_: Annotated[Path, typer.Argument(help="the game folder")],
    team: Annotated[str, typer.Option(help="team name")],
    file: Annotated[Path, typer.Option(help="decision file (TOML)")],
) -> None:
    """Submit a team's decision for the next round (refused with the reason if it breaks
    the rules; the round does not advance)."""
    from sim.workshop.game import GameError, read_decision

    game = _load_game(dir_)
    try:
        if team not in game.teams:
            raise GameError(
                "--team", None, f"unknown team {team!r} (teams: {', '.join(game.teams)})"
            )
        game.submit(team, read_decision(file), where=file)
    except GameError as exc:
        _fail(str(exc))
    _print_status(game)


@game_app.command("run")
def game_run(dir_: Annotated[Path, typer.Argument(help="the game folder")]) -> None:
    """Run the next round once every team has submitted; write round-N/*.md reports."""
    from sim.workshop.game import GameError
    from sim.workshop.report import market_markdown, write_round_reports

    game = _load_game(dir_)
    try:
        game.run_round()
    except GameError as exc:
        _fail(str(exc))
    folder = write_round_reports(game)
    sys.stdout.write(market_markdown(game))
    print(f"wrote {folder}/ (one report per team, market.md)")


@game_app.command("status")
def game_status(dir_: Annotated[Path, typer.Argument(help="the game folder")]) -> None:
    """Where the game stands: rounds played, who has submitted, the ranking."""
    _print_status(_load_game(dir_))


def app_command(
    scenario: Annotated[
        str, typer.Argument(help="scenario for the live page (file or shipped name)")
    ] = "beauty_guides",
    port: Annotated[int, typer.Option(help="port on localhost")] = 8765,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    consumers: Annotated[
        int | None, typer.Option(help="consumers on the live page (default 600: classroom size)")
    ] = None,
    game: Annotated[
        Path | None, typer.Option(help="game folder: serve its facilitator and team pages")
    ] = None,
    teams: Annotated[
        str | None, typer.Option(help="with --game: create the game there with these teams")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="seed (default: the scenario's)")] = None,
) -> None:
    """Start the live browser app (and a game's pages with --game)."""
    from sim.cli import _load

    _load(scenario, None)  # one-line errors before starting a server
    if consumers is not None and consumers <= 0:
        _fail(f"--consumers: must be positive (got {consumers})")
    try:
        import solara  # noqa: F401
    except ImportError:
        _fail("the app needs solara: pip install -e '.[app]'", 1)
    env = dict(os.environ, SIYU_APP_SCENARIO=scenario)
    if consumers is not None:
        env["SIYU_APP_CONSUMERS"] = str(consumers)
    if seed is not None:
        env["SIYU_APP_SEED"] = str(seed)
    if game is not None:
        if teams and not (game / "game.json").exists():
            _new_game(scenario, teams, game, seed, None, None, None)
        else:
            _load_game(game)
        env["SIYU_GAME_DIR"] = str(game.resolve())
    elif teams:
        _fail("--teams: needs --game DIR")
    where = f"http://{host}:{port}/"
    print(f"Siyu workshop app on {where} (live model)", flush=True)
    if game is not None:
        print(f"  facilitator: {where}game   teams: {where}game/team/NAME", flush=True)
    cmd = [
        sys.executable,
        "-m",
        "solara",
        "run",
        str(APP_FILE),
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--no-open",
    ]
    try:
        raise typer.Exit(subprocess.call(cmd, env=env))
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


def register(app: typer.Typer) -> None:
    """Add `siyu app` and `siyu game …` to the main command."""
    app.command("app")(app_command)
    app.add_typer(game_app, name="game")
