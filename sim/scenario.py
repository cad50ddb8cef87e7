"""Load scenario files: TOML with `extends`, command-line overrides, one-line errors.

A scenario file states only what differs from the file it extends (or from the defaults
in `sim.params`). Files are data: they are parsed with `tomllib`, never executed.

Every problem is raised as one `ScenarioError` whose text is a single line
`FILE: KEY: message`, where FILE is the file that set the offending key (a parent in an
`extends` chain when the key came from there) or the command-line option that did
(`--set`, `--days`, ...).

Files are read as UTF-8 (a leading byte-order mark is allowed). Values nested deeper than
`MAX_DEPTH` levels are refused before anything walks them, so that a hostile or broken file
gives one line rather than a RecursionError.
"""

from __future__ import annotations

import copy
import difflib
import itertools
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sim.params import Scenario

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
META_KEYS = ("extends", "replace")
MAX_DEPTH = 32
"""Deepest nesting of tables and arrays a scenario or override may use (real files use 6)."""

KeyPath = tuple[str, ...]
Origins = dict[KeyPath, str]
"""Which source (a file, or an option such as `--set`) last set each table and value."""


class ScenarioError(Exception):
    """A bad scenario or override: `str(err)` is the one line shown to the user."""

    def __init__(self, file: str | Path, key: str | None, message: str):
        self.file = str(file)
        self.key = key
        self.message = printable(message)  # one line, whatever the input
        where = f"{printable(self.file)}: {printable(key)}: " if key else f"{printable(file)}: "
        super().__init__(where + self.message)


def printable(text: object) -> str:
    """One line of printable text: whitespace runs become one space, other control
    characters (a terminal escape in a key name, say) are shown escaped."""
    line = " ".join(str(text).split())
    if line.isprintable():
        return line
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)


@dataclass(frozen=True)
class Override:
    """One override of a dotted key, and the source it came from (for error messages)."""

    source: str
    path: tuple[str, ...]
    value: Any


def check_file_name(name: str | Path, source: str | Path | None = None, key: str | None = None):
    """Refuse a name the system cannot look up (too long, a NUL byte) in one line, instead
    of the OSError or ValueError that `Path.exists` raises for it."""
    try:
        Path(name).exists()
    except (OSError, ValueError) as exc:
        text = str(name)
        shown = text if len(text) <= 60 else text[:59] + "…"
        reason = getattr(exc, "strerror", None) or str(exc)
        if source is None:
            raise ScenarioError(shown, None, f"not a usable file name ({reason})") from None
        raise ScenarioError(source, key, f"{shown}: not a usable file name ({reason})") from None


def resolve_path(name: str | Path) -> Path:
    """A scenario path, or a shipped scenario's name (`beauty_guides` -> scenarios/…toml)."""
    check_file_name(name)
    path = Path(name)
    if path.exists():
        return path
    if str(name) and Path(name).name == str(name):  # a bare name: look among shipped files
        for candidate in (SCENARIO_DIR / f"{name}.toml", SCENARIO_DIR / str(name)):
            if candidate.is_file():
                return candidate
    shipped = [p.stem for p in shipped_scenarios()]
    hint = did_you_mean(Path(name).stem, shipped)
    raise ScenarioError(name, None, f"no such file (and no shipped scenario of that name){hint}")


def too_deep(value: Any, limit: int = MAX_DEPTH) -> KeyPath | None:
    """The key path at which `value` nests tables or arrays deeper than `limit`, or None.

    Iterative and bounded (it never looks below `limit`), so it is safe on any input.
    """
    stack: list[tuple[Any, KeyPath]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, Mapping | list | tuple) and len(path) >= limit:
            return path
        if isinstance(item, Mapping):
            stack.extend((v, (*path, str(k))) for k, v in item.items())
        elif isinstance(item, list | tuple):
            stack.extend((v, (*path, str(i))) for i, v in enumerate(item))
    return None


def _depth_key(path: KeyPath) -> str:
    """A short key for a too-deep value: its table keys down to the first array index."""
    keys: list[str] = []
    for part in path[:4]:
        if part.isdigit() and keys:
            break
        keys.append(part)
    return ".".join(keys) or "(top level)"


def check_depth(value: Any, source: str | Path, prefix: KeyPath = ()) -> None:
    """Raise one ScenarioError if `value` nests deeper than MAX_DEPTH."""
    path = too_deep(value, MAX_DEPTH - len(prefix))
    if path is not None:
        key = _depth_key((*prefix, *path))
        raise ScenarioError(source, key, f"tables or arrays nested more than {MAX_DEPTH} deep")


def _deep_line(text: str) -> tuple[str | None, str]:
    """For a file too deep to parse: the key (if one is seen) and line where brackets pile up."""
    for n, line in enumerate(text.splitlines(), 1):
        if line.count("[") + line.count("{") > MAX_DEPTH:
            key = line.split("=", 1)[0].strip().strip("\"'") if "=" in line else ""
            if not key or len(key) > 60 or "[" in key or "{" in key:
                return None, f" (line {n})"
            return key, f" (line {n})"
    return None, ""


def read_toml_file(path: Path, what: str = "scenario file") -> dict[str, Any]:
    """Parse a TOML file into a table checked for depth, or raise one ScenarioError.

    A byte-order mark at the start is accepted; binary, non-UTF-8, unreadable and
    recursion-deep files are refused with one line naming the file.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ScenarioError(path, None, "no such file") from None
    except IsADirectoryError:
        raise ScenarioError(path, None, f"is a folder, not a {what}") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(path, None, f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ScenarioError(path, None, f"cannot read: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        if msg.endswith("(at end of document)"):  # tomllib gives no line number there
            msg = msg.replace("(at end of document)", f"(at end of document, line {_lines(text)})")
        raise ScenarioError(path, None, f"TOML syntax error: {msg}") from None
    except RecursionError:
        key, where = _deep_line(text)
        msg = f"tables or arrays nested too deep to read{where}"
        raise ScenarioError(path, key, msg) from None
    check_depth(data, path)
    return data


def _lines(text: str) -> int:
    return max(1, len(text.splitlines()))


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; any other value (lists included) replaces."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _origins(data: Mapping[str, Any], source: str, prefix: KeyPath = ()) -> Origins:
    """Every key path of a (nested) table, each mapped to `source`."""
    out: Origins = {}
    for key, value in data.items():
        path = (*prefix, str(key))
        out[path] = source
        if isinstance(value, Mapping):
            out.update(_origins(value, source, path))
    return out


def origin_of(origins: Origins, key: str, default: str) -> str:
    """The source of a dotted key: the longest of its prefixes that some source set."""
    parts = tuple(key.split(".")) if key else ()
    for n in range(len(parts), 0, -1):
        if parts[:n] in origins:
            return origins[parts[:n]]
    return default


def load_raw(path: Path, _chain: tuple[Path, ...] = ()) -> tuple[dict[str, Any], Origins]:
    """The merged table of a file and its `extends` chain, and which file set each key.

    `path` is shown in messages as given; parents are shown relative to it. A table's
    origin is the last file in the chain (the one nearest `path`) that set anything in it.
    """
    real = path.resolve()
    chain_real = tuple(p.resolve() for p in _chain)
    if real in chain_real:
        cycle = " -> ".join(p.name for p in (*_chain, path))
        raise ScenarioError(_chain[-1], "extends", f"cycle: {cycle}")
    data = read_toml_file(path)
    parent = data.pop("extends", None)
    replaced = _replaced_tables(data.pop("replace", []), path)
    origin = _origins(data, str(path))
    if parent is None:
        return data, origin
    if not isinstance(parent, str) or not parent.strip():
        raise ScenarioError(path, "extends", f"must be a file name (a string), got {parent!r}")
    parent_path = resolve_extends(parent, path)
    base, base_origin = load_raw(parent_path, (*_chain, path))
    for table in replaced:  # the file's own entries are the whole table
        base.pop(table, None)
        base_origin = {k: v for k, v in base_origin.items() if k[0] != table}
    return deep_merge(base, data), {**base_origin, **origin}


def _replaced_tables(value: Any, path: Path) -> list[str]:
    """The `replace = ["brands"]` of a file: named tables it defines whole instead of
    merging into the ones it extends."""
    if not isinstance(value, list) or any(v not in NAMED_TABLES for v in value):
        raise ScenarioError(
            path,
            "replace",
            f"must be a list of {' or '.join(map(repr, NAMED_TABLES))}, got {value!r}",
        )
    return list(value)


def added_entries(path: Path) -> list[str]:
    """One-line notes for each file in `path`'s `extends` chain that adds brands next to
    inherited ones without `replace`: the merge keeps the inherited brands, which a newcomer
    may not expect, so commands say so on stderr. (Categories are a library brands pick
    from: adding one to the inherited ones is the usual case and needs no note.)"""
    notes = []
    for child, parent in itertools.pairwise(extends_chain(path)):
        own = read_toml_file(child)
        parent_data, _ = load_raw(parent)
        for table in ("brands",):
            mine, theirs = own.get(table), parent_data.get(table)
            if table in own.get("replace", []) or not isinstance(mine, Mapping):
                continue
            if not isinstance(theirs, Mapping) or not theirs:
                continue
            new = [str(k) for k in mine if k not in theirs]
            if new:
                kept = ", ".join(map(str, theirs))
                notes.append(
                    f"{child}: {table}: adds {', '.join(new)} and keeps {kept} from "
                    f'{parent.name} (replace = ["{table}"] keeps only its own)'
                )
    return notes


def resolve_extends(parent: str, path: Path) -> Path:
    """The file an `extends = "..."` in `path` names: a path relative to `path`'s folder (or
    absolute), with or without `.toml`; else a shipped scenario's name, as on the command
    line (`extends = "beauty_guides"` works from any folder). A file next to `path` wins
    over a shipped scenario of the same name."""
    parent_path = Path(parent) if Path(parent).is_absolute() else path.parent / parent
    check_file_name(parent_path, path, "extends")
    if not parent_path.exists() and not parent.endswith(".toml"):
        parent_path = parent_path.with_name(parent_path.name + ".toml")
    if parent_path.is_file():
        return parent_path
    shipped = [p.stem for p in SCENARIO_DIR.glob("*.toml")]
    if Path(parent).name == parent:  # a bare name: a shipped scenario?
        for candidate in (SCENARIO_DIR / f"{parent}.toml", SCENARIO_DIR / parent):
            if candidate.is_file():
                return candidate
    hint = did_you_mean(Path(parent).stem, shipped)
    raise ScenarioError(
        path, "extends", f"no such file: {parent} (nor a shipped scenario of that name){hint}"
    )


def extends_chain(path: Path) -> list[Path]:
    """`path` and the files its `extends` chain reads, nearest first (what a scenario's
    content depends on, e.g. for a fingerprint of what an experiment runs)."""
    chain = [path]
    while True:
        parent = read_toml_file(chain[-1]).get("extends")
        if not isinstance(parent, str) or not parent.strip():
            return chain
        nxt = resolve_extends(parent, chain[-1])
        if nxt.resolve() in {p.resolve() for p in chain}:
            raise ScenarioError(chain[-1], "extends", f"cycle at {nxt.name}")
        chain.append(nxt)


def parse_override(text: str, source: str = "--set") -> Override:
    """`brands.a.strategy.private_discount=0.1` -> Override; the value is read as TOML.

    Values that are not valid TOML (bare words such as `quota`) are taken as strings.
    """
    if "=" not in text:
        raise ScenarioError(source, text, "expected path.to.key=value")
    key, raw = text.split("=", 1)
    key = key.strip()
    parts = tuple(part.strip() for part in key.split("."))
    if not key or any(not part for part in parts):
        raise ScenarioError(source, text, "expected path.to.key=value")
    if parts[0] in META_KEYS:
        raise ScenarioError(source, key, "cannot be overridden on the command line")
    raw = raw.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # a bare word such as quota or assist
    except RecursionError:
        raise ScenarioError(source, key, "value nested too deep to read") from None
    check_depth(value, source, parts)
    return Override(source, parts, value)


def apply_override(data: dict[str, Any], path: Sequence[str], value: Any) -> dict[str, Any]:
    """Set one dotted key in a nested table (copying, not mutating)."""
    nested: Any = value
    for part in reversed(path):
        nested = {part: nested}
    return deep_merge(data, nested)


def did_you_mean(word: object, choices: Sequence[str]) -> str:
    """ " (did you mean 'x'?)" for the closest of `choices` to `word`, or "" when none is close:
    the hint every one-line error about an unknown name ends with."""
    hint = difflib.get_close_matches(str(word), choices, n=1)
    return f" (did you mean {hint[0]!r}?)" if hint else ""


def _valid_keys(loc: tuple[Any, ...]) -> list[str]:
    """Field names valid at a location of Scenario, for 'did you mean' hints."""
    model: Any = Scenario
    for part in loc[:-1]:
        if isinstance(model, type) and issubclass(model, BaseModel):
            field = model.model_fields.get(str(part))
            if field is None:
                return []
            model = field.annotation
        else:  # a dict[str, Model] or list[Model] level: the part is a name or an index
            model = getattr(model, "__args__", (None, None))[-1]
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    args = getattr(model, "__args__", ())
    if args and isinstance(args[-1], type) and issubclass(args[-1], BaseModel):
        return list(args[-1].model_fields)
    return []


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _explain(err: Mapping[str, Any]) -> tuple[str, str]:
    """(dotted key, message) for one pydantic error."""
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    key = ".".join(str(p) if p != "" else '""' for p in loc)  # an empty key shows as ""
    if err["type"] == "extra_forbidden":
        msg = "unknown key" + did_you_mean(str(loc[-1]), _valid_keys(loc))
        return key, msg
    msg = err["msg"]
    if err["type"] == "value_error":
        msg = msg.removeprefix("Value error, ")
        # validators name their own key at the start of the message when they know it
        first, sep, rest = msg.partition(":")
        if sep and first and " " not in first:
            return first, rest.strip()
        return key or "(top level)", msg
    if "input" in err and err["type"] != "missing" and not isinstance(err["input"], dict):
        msg += f" (got {_short(err['input'])})"
    return key or "(top level)", msg


def validate(data: dict[str, Any], file: str | Path, origins: Origins | None = None) -> Scenario:
    """Validate a merged table into a Scenario, or raise one ScenarioError.

    The error names the source (from `origins`) that set the offending key, else `file`.
    """
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        key, msg = _explain(errors[0])
        more = len(errors) - 1
        if more:
            msg += f" (and {more} more problem{'s' if more > 1 else ''})"
        source = origin_of(origins or {}, key, str(file))
        raise ScenarioError(source, key, msg) from None


NAMED_TABLES = ("brands", "categories")
"""Tables of user-named entries: an override may change an entry, not invent one by a typo."""


def _check_named_entry(data: Mapping[str, Any], item: Override) -> None:
    """`--set brands.NAME.key=v` must name an existing brand (a typo would add a brand).

    Setting a whole entry (`--set brands.new={stores = 2}`) still defines a new one.
    """
    if len(item.path) < 3 or item.path[0] not in NAMED_TABLES:
        return
    table, name = item.path[0], item.path[1]
    entries = data.get(table)
    if not isinstance(entries, Mapping):
        entries = Scenario.model_fields[table].default
    if name in entries:
        return
    known = sorted(map(str, entries))
    what = "brand" if table == "brands" else "category"
    raise ScenarioError(
        item.source,
        ".".join(item.path[:2]),
        f"unknown {what} {name!r}" + did_you_mean(name, known) + f" (known: {', '.join(known)})",
    )


def plain(value: Any) -> Any:
    """NumPy scalars (an np.int64 from a loop over np.arange, say) as the Python numbers
    they are, inside lists and tables too; anything else unchanged (and still validated)."""
    if type(value).__module__ == "numpy" and getattr(value, "shape", None) == ():
        return value.item()
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    return value


def _as_overrides(
    overrides: Sequence[str | Override] | Mapping[str, Any] | None,
) -> list[Override]:
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        return [Override("overrides", tuple(str(k).split(".")), v) for k, v in overrides.items()]
    if isinstance(overrides, str):
        overrides = [overrides]
    return [o if isinstance(o, Override) else parse_override(o) for o in overrides]


def load_scenario(
    name: str | Path,
    overrides: Sequence[str | Override] | Mapping[str, Any] | None = None,
) -> Scenario:
    """Load a scenario file (or shipped name), apply overrides, validate, resolve defaults.

    `overrides` is a list of `path.to.key=value` strings (as on the command line, values
    read as TOML) or `Override`s, or a mapping of dotted keys to values (Python API).
    `name` defaults to the stem of the file named (not inherited through `extends`).
    """
    path = resolve_path(name)
    return _scenario_of(path, *load_raw(path), overrides)


class ScenarioLoader:
    """A scenario file (or shipped name) and its `extends` chain, read once, from which
    `load` makes any number of scenarios with their own overrides: what `load_scenario`
    does, without reading and parsing the files again for each (a sweep's points). The
    files are read when the loader is made, so every scenario it makes comes from the
    same bytes."""

    def __init__(self, name: str | Path) -> None:
        self.path = resolve_path(name)
        self._data, self._origins = load_raw(self.path)

    def load(
        self, overrides: Sequence[str | Override] | Mapping[str, Any] | None = None
    ) -> Scenario:
        """The scenario with `overrides` applied, validated (`load_scenario`)."""
        return _scenario_of(self.path, copy.deepcopy(self._data), dict(self._origins), overrides)


def _scenario_of(
    path: Path,
    data: dict[str, Any],
    origins: Origins,
    overrides: Sequence[str | Override] | Mapping[str, Any] | None,
) -> Scenario:
    """`load_scenario`'s work after reading: the file's stem as the name unless the file
    sets one, the overrides applied, the whole validated (`data` and `origins` are the
    caller's own, changed here)."""
    if origins.get(("name",)) != str(path):  # not set by the file itself: its stem
        data["name"] = path.stem
        origins[("name",)] = str(path)
    for item in _as_overrides(overrides):
        check_depth(item.value, item.source, item.path)
        item = replace(item, value=plain(item.value))
        _check_named_entry(data, item)
        data = apply_override(data, item.path, item.value)
        for n in range(1, len(item.path) + 1):
            origins[item.path[:n]] = item.source
        if isinstance(item.value, Mapping):
            origins.update(_origins(item.value, item.source, item.path))
    return validate(data, path, origins)


def shipped_scenarios() -> list[Path]:
    """The shipped scenario files, sorted by name (files starting with '_' are bases)."""
    return sorted(p for p in SCENARIO_DIR.glob("*.toml") if not p.name.startswith("_"))
