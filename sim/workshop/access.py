"""The game as the app's pages reach it: every draw and every action re-reads the save, every
action is checked against the secret of the link it came from, one writer at a time.

Why: the app and `siyu game` commands may change the same game (a team submits on paper
while others use the pages), so nothing is acted on from a copy read when a page was drawn;
and the pages are served on a classroom network, so a team's link opens only that team's
form and only the facilitator's link runs a round. The check is made here, on the server,
when the action happens: a page that is merely not shown is not a lock.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sim.workshop.game import Decision, Game
from sim.workshop.report import write_round_reports
from sim.workshop.savefile import GameError, locked

NOT_VALID = "this link is not valid"


class NotAllowed(GameError):
    """An action or page asked for with a wrong or missing secret."""

    def __init__(self, where: str | Path = "link"):
        super().__init__(where, None, NOT_VALID)


class GameDesk:
    """The game of one folder for the app's pages (one per server process).

    The `Game` (with its replayed market) is kept between requests only as a cache: before
    each use `Game.reload` re-reads the save, cheaply when only submissions changed, by
    replay when rounds were played elsewhere. `lock` serialises the threads of the server
    around that shared object; actions also hold the save's writers' lock (processes)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.lock = threading.RLock()
        self._game: Game | None = None

    def fresh(self) -> Game:
        """The game re-read from its save (call with `lock` held; use it while held)."""
        if self._game is None:
            self._game = Game.load(self.folder)
        else:
            try:
                self._game.reload()
            except GameError:
                self._game = None
                raise
        return self._game

    def submit(self, team: str, key: str | None, data: dict[str, Any]) -> tuple[Decision, int]:
        """A team's decision from its form: (the decision, the round it is for)."""
        with self.lock, locked(self.folder):
            game = self.fresh()
            if not game.allows(key, team):
                raise NotAllowed()
            decision = game.submit(team, data, where="form")
            return decision, game.round + 1

    def run_round(self, key: str | None) -> tuple[int, str | None]:
        """Run the next round for the facilitator: (round played, a note if its Markdown
        reports could not be written; the round is saved either way)."""
        with self.lock, locked(self.folder):
            game = self.fresh()
            if not game.allows(key):
                raise NotAllowed()
            before = game.round
            try:
                game.run_round()
            except BaseException as exc:
                if not isinstance(exc, GameError) or game.round != before:
                    self._game = None  # the market moved: replay from the save next time
                raise
            note = None
            try:
                write_round_reports(game)
            except GameError as exc:
                note = (
                    f"{exc}. The round is saved; write the reports again with "
                    f"`siyu game report {self.folder}`."
                )
            return game.round, note
