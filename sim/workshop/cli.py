"""Workshop commands for `siyu`: `siyu app` (the live browser app, and a game's pages) and
`siyu game new|links|form|submit|run|report|shock|status` (the game from the command line, with
decision files, so a workshop can also run on paper). Bad input, a corrupt save or a disk
fault: one line `error: FILE: KEY: message`, exit 2. Commands that change a game hold its
writers' lock, so they can be mixed with the app's pages.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Annotated

import typer

from sim.command import fail, load_or_fail
from sim.present.format import fmt_whole_money

game_app = typer.Typer(
    no_args_is_help=True,
    help="The workshop game: teams run brands in one market, a quarter per round.",
)

APP_FILE = Path(__file__).with_name("app.py")
DEFAULT_PORT = 8765
DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_PORT}"


def _load_game(folder: Path):
    from sim.workshop.game import Game, GameError

    try:
        return Game.load(folder)
    except GameError as exc:
        fail(str(exc))


def _teams(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _new_game(
    scenario: str, teams: str, folder: Path, seed, brand, rounds, budget, engine, rivals=None
):
    from sim.workshop.game import Game, GameError

    sc = load_or_fail(scenario, None)
    rules = {}
    if rounds is not None:
        rules["rounds"] = rounds
    if budget is not None:
        rules["budget_per_round"] = budget
    try:
        return Game.new(
            folder,
            sc,
            _teams(teams),
            seed=seed,
            brand=brand,
            rules=rules,
            engine=engine,
            rivals=_teams(rivals or ""),
        )
    except GameError as exc:
        fail(str(exc))
    except ValueError as exc:  # a rule out of range
        fail(f"--rounds/--budget: {' '.join(str(exc).split())}")


def _print_status(game) -> None:
    from sim.workshop.game import RIVALS, score_rule, shock_text

    print(
        f"game {game.folder}: {game.state['name']}, seed {game.seed}, {game.engine} engine, teams "
        f"{', '.join(game.teams)}; round {game.round} of {game.rules.rounds} played; "
        f"budget {fmt_whole_money(game.rules.budget_per_round)} yuan a round"
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
    for shock in game.state["shocks"]:
        print(f"shock {shock_text(shock)}")
    for team, archetype in game.rivals.items():
        print(f"rival {team}: {RIVALS[archetype]}")
    if game.round:
        print(score_rule(game.rules))
        for j, (team, score) in enumerate(game.ranking(), 1):
            print(f"  {j}. {team}: {fmt_whole_money(score)}")


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
    engine: Annotated[
        str, typer.Option(help="engine of the market: agents (the reference) or fast")
    ] = "agents",
    rivals: Annotated[
        str | None,
        typer.Option(
            help="computer-run rival brands, comma-separated archetypes: ads_only, balanced, "
            "copycat (see the facilitator guide)"
        ),
    ] = None,
) -> None:
    """Create a game: one brand per team, cloned from a scenario brand. Prints the links
    (with their secrets) for `siyu app --game DIR`: keep the facilitator's to yourself."""
    game = _new_game(scenario, teams, dir_, seed, brand, rounds, budget, engine, rivals)
    _print_status(game)
    _print_links(game, DEFAULT_URL)


def _print_links(game, url: str) -> None:
    links = game.links(url)
    print(
        "links (each opens one page; hand each team only its own; another address: "
        f"siyu game links {game.folder} --url URL):"
    )
    print(f"  facilitator: {links.pop('facilitator')}")
    for team, link in links.items():
        print(f"  team {team}: {link}")


@game_app.command("links")
def game_links(
    dir_: Annotated[Path, typer.Argument(help="the game folder")],
    url: Annotated[
        str, typer.Option(help="address the app is reached at, as participants type it")
    ] = DEFAULT_URL,
    renew: Annotated[
        bool, typer.Option("--renew", help="new secrets: every old link stops working")
    ] = False,
) -> None:
    """Print the facilitator's link and each team's link (each carries its secret)."""
    from sim.workshop.game import Game, GameError

    if not url.startswith(("http://", "https://")):
        fail(f"--url: must start with http:// or https:// (got {url!r})")
    try:
        with Game.edit(dir_) as game:
            if renew:
                game.renew_secrets()
    except GameError as exc:
        fail(str(exc))
    _print_links(game, url)


@game_app.command("form")
def game_form(
    dir_: Annotated[Path, typer.Argument(help="the game folder")],
    team: Annotated[str, typer.Option(help="team name")],
) -> None:
    """Print a decision file to fill in (the team's last decision)."""
    from sim.workshop.game import decision_toml

    game = _load_game(dir_)
    if team not in game.teams:
        fail(f"--team: unknown team {team!r} (teams: {', '.join(game.teams)})")
    sys.stdout.write(decision_toml(game, team))


@game_app.command("submit")
def game_submit(
    dir_: Annotated[Path, typer.Argument(help="the game folder")],
    team: Annotated[str, typer.Option(help="team name")],
    file: Annotated[Path, typer.Option(help="decision file (TOML)")],
) -> None:
    """Submit a team's decision for the next round (refused with the reason if it breaks
    the rules; the round does not advance)."""
    from sim.workshop.game import Game, GameError, read_decision

    try:
        decision = read_decision(file)
        with Game.edit(dir_) as game:
            if team not in game.teams:
                raise GameError(
                    "--team", None, f"unknown team {team!r} (teams: {', '.join(game.teams)})"
                )
            game.submit(team, decision, where=file)
    except GameError as exc:
        fail(str(exc))
    _print_status(game)


@game_app.command("run")
def game_run(dir_: Annotated[Path, typer.Argument(help="the game folder")]) -> None:
    """Run the next round once every team has submitted; write round-N/*.md reports."""
    from sim.workshop.game import Game, GameError
    from sim.workshop.report import market_markdown

    try:
        with Game.edit(dir_) as game:
            game.run_round()
    except GameError as exc:
        fail(str(exc))
    sys.stdout.write(market_markdown(game))
    _write_reports(game, game.round, saved=True)


def _write_reports(game, k: int, saved: bool = False) -> None:
    from sim.workshop.game import GameError
    from sim.workshop.report import write_round_reports

    try:
        folder = write_round_reports(game, k)
    except GameError as exc:
        hint = f" (round {k} is saved: `siyu game report {game.folder}` writes them again)"
        fail(str(exc) + (hint if saved else ""))
    print(f"wrote {folder}/ (one report per team, market.md)")


@game_app.command("report")
def game_report(
    dir_: Annotated[Path, typer.Argument(help="the game folder")],
    round_: Annotated[
        int | None, typer.Option("--round", help="only this round (default: every round played)")
    ] = None,
) -> None:
    """Write the round-N/*.md reports again from the save (after a disk fault, say)."""
    game = _load_game(dir_)
    if not game.round:
        fail(f"{dir_}: no round has been played yet")
    if round_ is not None and not 1 <= round_ <= game.round:
        fail(f"--round: round {round_} has not been played (played: 1 to {game.round})")
    for k in [round_] if round_ is not None else range(1, game.round + 1):
        _write_reports(game, k)


@game_app.command("shock")
def game_shock(
    dir_: Annotated[Path, typer.Argument(help="the game folder")],
    kind: Annotated[
        str, typer.Option(help="ban_package_cards, platform_discount, cpm_spike or take_rate")
    ],
    from_round: Annotated[
        int | None, typer.Option(help="first round it applies to (default: the next)")
    ] = None,
    value: Annotated[
        float | None,
        typer.Option(
            help="size: platform_discount and take_rate a share (default 0.1), cpm_spike a "
            "multiplier of the CPM (default 2)"
        ),
    ] = None,
) -> None:
    """Apply a platform shock to every brand from a round on (recorded in the save)."""
    from sim.workshop.game import Game, GameError, shock_text

    try:
        with Game.edit(dir_) as game:
            shock = game.add_shock(kind, from_round, value)
    except GameError as exc:
        fail(str(exc))
    print(f"shock recorded: {shock_text(shock)}")


@game_app.command("status")
def game_status(dir_: Annotated[Path, typer.Argument(help="the game folder")]) -> None:
    """Where the game stands: rounds played, who has submitted, the ranking."""
    _print_status(_load_game(dir_))


def app_command(
    scenario: Annotated[
        str, typer.Argument(help="scenario for the live page (file or shipped name)")
    ] = "beauty_guides",
    port: Annotated[int, typer.Option(help="port to listen on")] = DEFAULT_PORT,
    host: Annotated[
        str,
        typer.Option(help="address to listen on: 0.0.0.0 lets other computers on the network in"),
    ] = "127.0.0.1",
    consumers: Annotated[
        int | None,
        typer.Option(
            help="consumers on the live page (default 600: classroom size); the population "
            "alone changes: stores, budgets and nodes stay as the scenario file says"
        ),
    ] = None,
    game: Annotated[
        Path | None, typer.Option(help="game folder: serve its facilitator and team pages")
    ] = None,
    teams: Annotated[
        str | None, typer.Option(help="with --game: create the game there with these teams")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="seed (default: the scenario's)")] = None,
    engine: Annotated[
        str | None,
        typer.Option(
            help="engine of the live page (default fast) and of a game created here "
            "(default agents): agents or fast"
        ),
    ] = None,
    room: Annotated[
        bool,
        typer.Option(
            help="facilitator mode: every screen shows one shared market; only the "
            "facilitator's link (printed) steers it"
        ),
    ] = False,
) -> None:
    """Start the live browser app (and a game's pages with --game)."""
    from sim.protocol import ENGINES

    if engine is not None and engine not in ENGINES:
        fail(f"--engine: unknown engine {engine!r} (known: {', '.join(ENGINES)})")

    load_or_fail(scenario, None)  # one-line errors before starting a server
    if consumers is not None and consumers <= 0:
        fail(f"--consumers: must be positive (got {consumers})")
    if teams and game is None:
        fail("--teams: needs --game DIR")
    new_game = game is not None and bool(teams) and not (game / "game.json").exists()
    # a save is checked before the port, so its one-line error is the one shown
    the_game = _load_game(game) if game is not None and not new_game else None
    if not 0 < port < 65536:
        fail(f"--port: must be 1 to 65535 (got {port})")
    from sim.workshop.serve import listen_problem

    problem = listen_problem(host, port)  # before the URL is printed: it would not answer
    if problem:
        fail(problem)
    try:
        import solara  # noqa: F401
    except ImportError:
        fail("the app needs solara: pip install -e '.[app]'", 1)
    env = dict(os.environ, SIYU_APP_SCENARIO=scenario)
    if engine is not None:
        env["SIYU_APP_ENGINE"] = engine
    room_key = secrets.token_urlsafe(12) if room else None
    if room_key:
        env["SIYU_APP_ROOM_KEY"] = room_key
    if consumers is not None:
        env["SIYU_APP_CONSUMERS"] = str(consumers)
    if seed is not None:
        env["SIYU_APP_SEED"] = str(seed)
    if game is not None:
        if new_game:
            the_game = _new_game(scenario, teams, game, seed, None, None, None, engine or "agents")
        env["SIYU_GAME_DIR"] = str(game.resolve())
    where = f"http://{host}:{port}"
    print(f"Siyu workshop app on {where}/ (live model); stop it with Ctrl-C", flush=True)
    if room_key:
        print(f"  every screen: {where}/   facilitator (steers): {where}/?key={room_key}")
    if the_game is not None:
        if host in ("0.0.0.0", "::"):
            print("  participants: replace the address with this computer's on the network")
        _print_links(the_game, where)
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
    from sim.workshop.serve import serve

    sys.stdout.flush()  # the links before anything the server prints
    raise typer.Exit(serve(cmd, env))


def register(app: typer.Typer) -> None:
    """Add `siyu app` and `siyu game …` to the main command."""
    app.command("app")(app_command)
    app.add_typer(game_app, name="game")
