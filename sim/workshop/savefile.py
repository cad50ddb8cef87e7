"""The game's save file, `DIR/game.json`: reading it defensively, writing it atomically, the
lock that keeps two writers (the app and a `siyu game` command, say) from interleaving, the
checksums that tell an edited save from a changed simulator, and the access secrets.

Reading never trusts the file: bytes that are not UTF-8, JSON that is not an object, a key
of the wrong type or a missing one each become one `GameError` naming the file and the key.
Writing goes to a temporary file in the same folder, flushed to disk, then `os.replace`d
over the save, so a reader (a page being drawn) always sees a whole save, old or new.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from sim.files import atomic_write

GAME_FILE = "game.json"
LOCK_FILE = ".game.lock"
FORMAT_VERSION = 2
"""2: access secrets and per-round checksums. Format 1 saves (neither) are upgraded on load."""
READABLE_FORMATS = (1, FORMAT_VERSION)
LOCK_WAIT_S = 60.0
"""seconds: longest wait for another writer (a round of a large game takes a few seconds)."""
LOCK_POLL_S = 0.05
SECRET_BYTES = 16
"""bytes of randomness per secret (22 URL-safe characters): not guessable by trying links."""


class GameError(Exception):
    """A refused action: `str(err)` is one line `WHERE: KEY: message`."""

    def __init__(self, where: str | Path, key: str | None, message: str):
        self.where = str(where)
        self.key = key
        self.message = " ".join(str(message).split())
        super().__init__(f"{self.where}: {key}: {self.message}" if key else f"{where}: {message}")


# ---------------------------------------------------------------- the save's structure
class _Save(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class SavedChecks(_Save):
    """SHA-256 of each team's decision and of the results, taken when the round was played."""

    decisions: dict[StrictStr, StrictStr]
    results: StrictStr


class SavedRound(_Save):
    decisions: dict[StrictStr, dict[StrictStr, Any]]
    results: dict[StrictStr, Any]
    sha256: SavedChecks | None = None


SecretText = Annotated[StrictStr, Field(min_length=16)]


class Secrets(_Save):
    """The secrets in the links: one for the facilitator, one per team."""

    facilitator: SecretText
    teams: dict[StrictStr, SecretText]


class SavedShock(_Save):
    """A facilitator's shock: its kind, the first round it applies to, its size."""

    kind: StrictStr
    from_round: StrictInt
    value: float


class SaveFile(_Save):
    """What `game.json` must hold (types checked strictly: a seed of "3" is refused)."""

    format: StrictInt
    name: StrictStr
    seed: StrictInt
    engine: StrictStr | None = None  # absent in saves from before the engine choice
    teams: list[StrictStr] = Field(min_length=1)
    rules: dict[StrictStr, Any]
    scenario: dict[StrictStr, Any]
    rounds: list[SavedRound]
    pending: dict[StrictStr, dict[StrictStr, Any]]
    secrets: Secrets | None = None
    shocks: list[SavedShock] = Field(default_factory=list)  # absent in older saves
    rivals: dict[StrictStr, StrictStr] = Field(default_factory=dict)  # team -> archetype


def explain(err: dict[str, Any], prefix: str = "") -> tuple[str, str]:
    """(dotted key, message) of one pydantic error, in the project's one-line style."""
    loc = [str(p) for p in err["loc"] if not str(p).startswith("function-")]
    key = ".".join(([prefix] if prefix else []) + loc) or "(top level)"
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        return key, "unknown key"
    if err["type"] == "missing":
        return key, "missing"
    if err["type"] == "value_error":
        msg = msg.removeprefix("Value error, ")
        first, sep, rest = msg.partition(":")
        if sep and " " not in first:
            key = ".".join([*loc, first]) if loc and loc[-1] != first else first
            if prefix:
                key = f"{prefix}.{key}"
            return key, rest.strip()
    if "input" in err and not isinstance(err["input"], dict | list):
        msg += f" (got {err['input']!r})"
    return key, msg


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a save may hold")


def read_state(folder: str | Path) -> dict[str, Any]:
    """The save of the game in `folder`, checked for structure and types (not yet for
    meaning: that is `Game`'s job), or one GameError naming the file and what is wrong."""
    path = Path(folder) / GAME_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise GameError(folder, None, f"no game here (no {GAME_FILE})") from None
    except OSError as exc:
        raise GameError(path, None, f"cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GameError(
            path, None, f"not a game save: not UTF-8 text (byte {exc.start}); a damaged file?"
        ) from None
    try:
        state = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise GameError(path, None, f"not a game save: not valid JSON ({exc})") from None
    except ValueError as exc:
        raise GameError(path, None, f"not a game save: {exc}") from None
    except RecursionError:
        raise GameError(path, None, "not a game save: JSON nested too deeply") from None
    if not isinstance(state, dict):
        kind = {list: "an array", str: "a string"}.get(type(state), type(state).__name__)
        raise GameError(path, None, f"not a game save: the JSON is {kind}, not an object")
    fmt = state.get("format")
    if type(fmt) is not int or fmt not in READABLE_FORMATS:
        raise GameError(path, "format", f"unsupported game format {fmt!r}")
    try:
        SaveFile.model_validate(state)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = list(err["loc"])
        if loc[:1] == ["rounds"] and len(loc) > 1 and isinstance(loc[1], int):
            loc[1] += 1  # rounds are counted from 1, as everywhere else
        key, msg = explain({**err, "loc": tuple(loc)})
        raise GameError(path, key, msg) from None
    return state


# ---------------------------------------------------------------- writing
def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` so that readers see the old file or the new one, never a part;
    flushed to disk before it replaces the old one (a save outlives a power cut), and
    readable by its owner only (it holds the links' secrets)."""

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())

    atomic_write(path, write, mode=0o600)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` as `write_atomic` writes text (whole or not at all, owner-only)."""

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    atomic_write(path, write, mode=0o600)


def write_state(folder: Path, state: dict[str, Any]) -> None:
    text = json.dumps(state, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    try:
        write_atomic(Path(folder) / GAME_FILE, text)
    except OSError as exc:
        raise GameError(
            Path(folder) / GAME_FILE, None, f"cannot write: {exc.strerror or exc}"
        ) from None


# ---------------------------------------------------------------- the writers' lock
_held = threading.local()


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def locked(folder: str | Path, wait: float = LOCK_WAIT_S) -> Iterator[None]:
    """Hold the game's writers' lock (`DIR/.game.lock`): one writer at a time across
    processes and threads; re-entrant within a thread. Waits at most `wait` seconds."""
    folder = Path(folder)
    key = str(folder.resolve())
    counts: dict[str, int] = _held.__dict__.setdefault("counts", {})
    if counts.get(key):
        counts[key] += 1
        try:
            yield
        finally:
            counts[key] -= 1
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise GameError(folder / LOCK_FILE, None, f"cannot lock: {exc.strerror or exc}") from None
    try:
        deadline = time.monotonic() + wait
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                raise GameError(
                    folder, None, f"busy: another command has held the game for {wait:g} s"
                )
            time.sleep(LOCK_POLL_S)
        counts[key] = 1
        try:
            yield
        finally:
            counts.pop(key, None)
    finally:
        os.close(fd)  # closing releases the lock


# ---------------------------------------------------------------- checksums and secrets
def digest(value: Any) -> str:
    """SHA-256 of a JSON value in canonical form (sorted keys, no spaces)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def round_checks(decisions: dict[str, Any], results: dict[str, Any]) -> dict[str, Any]:
    return {
        "decisions": {t: digest(d) for t, d in decisions.items()},
        "results": digest(results),
    }


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def new_secrets(teams: list[str]) -> dict[str, Any]:
    return {"facilitator": new_secret(), "teams": {t: new_secret() for t in teams}}
