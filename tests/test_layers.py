"""The package's layers point one way: no import circles, no private names taken from another
module, and every module imports only from its own layer or the layers below it.

Every module of `sim` is parsed with `ast` (nothing is imported), so the check sees imports
that run only inside a function or only for the type checker:

- module-level and function-level imports are edges alike (a function-level import still
  couples the two modules; it only hides a circle from the interpreter);
- imports under `if TYPE_CHECKING:` are edges too: an annotation naming a class of a higher
  layer is as much a dependency on that layer as a call is;
- `from sim.pkg import name` is an edge to `sim.pkg.name` when that is a module, else to
  `sim.pkg`; a package's own `__init__` run on the way (Python imports `sim` before `sim.x`)
  is not an edge, or every module would depend on the `sim` facade that re-exports the API.

The layer order lives in LAYERS below, one sentence per layer; docs/architecture.md draws it.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "sim"

LAYERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "foundation",
        "The shared vocabulary, the version, the atomic file writer, the machine's usable "
        "cores, and the processor hints and integer sort of compiled code: no sim imports.",
        ("sim.vocab", "sim.version", "sim.files", "sim.machine", "sim.hints", "sim.sorting"),
    ),
    (
        "model",
        "The model description: parameters and scenario files (and their scaling to another "
        "population), the counterfactual twins (named transforms of a scenario), the rules "
        "(formulas with their sources), the ledger schema and the KPI definitions read from a "
        "ledger (the engines use kpis.ratio, so KPIs sit below them) and the snapshots an "
        "engine gives of a brand or a consumer.",
        (
            "sim.params",
            "sim.scenario",
            "sim.scaling",
            "sim.counterfactual",
            "sim.rules",
            "sim.calendar",
            "sim.ledger",
            "sim.kpis",
            "sim.frameworks",
            "sim.snapshots",
        ),
    ),
    (
        "engines",
        "The two engines and what they share (the run's random streams, population draw, "
        "network, bookkeeping): they turn a scenario and a seed into a ledger and know nothing "
        "of runs, files or reports.",
        (
            "sim.streams",
            "sim.population",
            "sim.network",
            "sim.accounting",
            "sim.events",
            "sim.staffing",
            "sim.review",
            "sim.agents",
            "sim.model",
            "sim.fast",
        ),
    ),
    (
        "runs",
        "The computing API: the engine protocol, `run()` with its seed and the run's summary "
        "(a large market run as regions, a thread each), and the effects of a scenario "
        "against its counterfactual twin over paired replicates (`measure`, with the paired "
        "intervals compare reuses); the `sim` package itself "
        "re-exports it. No files, no reports.",
        ("sim.protocol", "sim.regions", "sim.runner", "sim.effects", "sim"),
    ),
    (
        "presentation",
        "Number formats, Markdown and terminal tables and the figure style, for every reader "
        "of results (reports, experiments, workshop, CLI); knows no engine.",
        ("sim.present",),
    ),
    (
        "outputs",
        "A run's report and the folder of outputs written from a run (write_outputs), and the "
        "curated examples written with them.",
        ("sim.report", "sim.outputs", "sim.examples"),
    ),
    (
        "applications",
        "What is built on runs and reports: experiments (sweeps, comparisons, budget "
        "optimisation, their reports), the workshop game and live page, the parameter "
        "reference (it quotes experiment limits) and calibration to a brand's order log "
        "(fits, holdout, calibrated scenario).",
        ("sim.experiments", "sim.workshop", "sim.docs", "sim.calibrate"),
    ),
    (
        "interfaces",
        "The ways in for people: the `siyu` command line (its program's first step, its "
        "shared error and loading helpers, the workshop commands) and the workshop's "
        "browser app and server.",
        (
            "sim.command",
            "sim.workshop.cli",
            "sim.workshop.app",
            "sim.workshop.serve",
            "sim.cli",
            "sim.launch",
        ),
    ),
)
"""(name, what it holds, module prefixes), lowest layer first. A module belongs to the layer
of its longest matching prefix, so `sim.workshop.cli` is an interface while the rest of
`sim.workshop` is an application; `sim` names the package's own `__init__` only, so a new
module is placed on purpose. A module may import its own layer and the layers below."""


@dataclass(frozen=True)
class Import:
    """One import in a module: the module it reaches, the name taken, and where."""

    source: str
    target: str
    name: str | None
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sim_modules() -> dict[str, Path]:
    """Every module of the package, by dotted name."""
    return {module_name(p): p for p in sorted((ROOT / PACKAGE).rglob("*.py"))}


def _absolute(module: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module an ImportFrom names (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(module: str, path: Path, known: set[str]) -> list[Import]:
    """Every import of a sim module inside `module`, wherever it sits in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    out: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                    out.append(Import(module, alias.name, None, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, path, node)
            if base != PACKAGE and not base.startswith(PACKAGE + "."):
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in known:
                    out.append(Import(module, sub, None, node.lineno))
                else:
                    out.append(Import(module, base, alias.name, node.lineno))
    return out


def module_aliases(path: Path, known: set[str]) -> dict[str, str]:
    """Local names bound to sim modules (`import sim.x as y`, `from sim.w import live as lv`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname and alias.name in known:
                    out[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                if sub in known:
                    out[alias.asname or alias.name] = sub
    return out


def private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def layer_of(module: str) -> int | None:
    """Index in LAYERS of the module's longest matching prefix (None: not placed)."""
    best: tuple[int, int] | None = None
    for i, (_, _, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            inside = module == p or (p != PACKAGE and module.startswith(p + "."))
            if inside and (best is None or len(p) > best[0]):
                best = (len(p), i)
    return None if best is None else best[1]


def graph() -> dict[str, set[str]]:
    modules = sim_modules()
    known = set(modules)
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for m, path in modules.items():
        for imp in imports_of(m, path, known):
            if imp.target != m and imp.target in known:
                edges[m].add(imp.target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(found)


def cycle_path(edges: dict[str, set[str]], component: list[str]) -> list[str]:
    """A shortest circle through the component's first module: [a, b, ..., a]."""
    start, inside = component[0], set(component)
    came: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt: list[str] = []
        for v in frontier:
            for w in sorted(edges[v] & inside):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(came[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if w not in came:
                    came[w] = v
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"no circle through {start}")


# --------------------------------------------------------------------------- the checks


def test_no_import_cycles() -> None:
    edges = graph()
    found = cycles(edges)
    shown = []
    for c in found:
        size = f" (a circle among {len(c)} modules)" if len(c) > 2 else ""
        shown.append(" -> ".join(cycle_path(edges, c)) + size)
    assert not found, "import circles: " + "; ".join(shown)


def test_no_private_names_from_other_modules() -> None:
    modules = sim_modules()
    known = set(modules)
    bad: list[str] = []
    for m, path in modules.items():
        for imp in imports_of(m, path, known):
            if imp.target == m:
                continue
            taken = imp.name if imp.name is not None else imp.target.rsplit(".", 1)[-1]
            if private(taken):
                bad.append(f"{m}:{imp.line} imports {imp.target}.{imp.name or ''}".rstrip("."))
        aliases = module_aliases(path, known)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and aliases[node.value.id] != m
                and private(node.attr)
            ):
                target = aliases[node.value.id]
                bad.append(f"{m}:{node.lineno} uses {target}.{node.attr}")
    assert not bad, "private names used across modules:\n" + "\n".join(bad)


def test_every_module_has_a_layer() -> None:
    unplaced = sorted(m for m in sim_modules() if layer_of(m) is None)
    assert not unplaced, f"modules with no layer (add them to LAYERS): {unplaced}"


def test_imports_go_down_the_layers() -> None:
    modules = sim_modules()
    known = set(modules)
    bad: list[str] = []
    for m, path in modules.items():
        here = layer_of(m)
        for imp in imports_of(m, path, known):
            there = layer_of(imp.target)
            if here is not None and there is not None and there > here:
                bad.append(
                    f"{m}:{imp.line} ({LAYERS[here][0]}) imports {imp.target} ({LAYERS[there][0]})"
                )
    assert not bad, "imports that go up the layers:\n" + "\n".join(bad)


def test_architecture_page_draws_these_layers() -> None:
    """docs/architecture.md draws LAYERS: the same layers, top to bottom, each naming its
    modules (so the page and the table cannot drift apart)."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = text.split("```text\n", 1)[1].split("```", 1)[0]
    drawn: dict[str, str] = {}
    current = ""
    for line in block.splitlines():
        if line and not line[0].isspace():
            current = line.split()[0]
            drawn[current] = line
        elif current:
            drawn[current] += " " + line
    assert list(drawn) == [name for name, _, _ in reversed(LAYERS)]
    missing = [
        f"{name}: {p}" for name, _, prefixes in LAYERS for p in prefixes if p not in drawn[name]
    ]
    assert not missing, f"modules the page does not draw in their layer: {missing}"


# --------------------------------------------------------------------------- the checker itself


@pytest.fixture
def fake_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A throwaway `sim` package to show each check fails on what it is meant to catch."""
    pkg = tmp_path / PACKAGE
    (pkg / "sub").mkdir(parents=True)
    files = {
        "__init__.py": "from sim.high import api\n",
        "vocab.py": "X = 1\n",
        "low.py": (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from sim.high import Thing\n"
        ),
        "high.py": "def f():\n    from sim.low import _secret\n    from . import vocab\n",
        "sub/__init__.py": "",
        "sub/mod.py": "from ..vocab import X\nimport sim.low as lo\ny = lo._hidden\n",
    }
    for name, text in files.items():
        (pkg / name).write_text(text, encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    return pkg


def test_checker_sees_every_kind_of_edge(fake_package: Path) -> None:
    edges = graph()
    assert edges["sim.low"] == {"sim.high"}  # under TYPE_CHECKING
    assert edges["sim.high"] == {"sim.low", "sim.vocab"}  # in a function, relative
    assert edges["sim.sub.mod"] == {"sim.vocab", "sim.low"}
    assert edges["sim"] == {"sim.high"}
    assert cycles(edges) == [["sim.high", "sim.low"]]
    assert cycle_path(edges, ["sim.high", "sim.low"]) == ["sim.high", "sim.low", "sim.high"]
    with pytest.raises(AssertionError, match=r"import circles: sim.high -> sim.low -> sim.high"):
        test_no_import_cycles()


def test_checker_names_private_uses(fake_package: Path) -> None:
    with pytest.raises(AssertionError) as info:
        test_no_private_names_from_other_modules()
    text = str(info.value)
    assert "sim.high:2 imports sim.low._secret" in text
    assert "sim.sub.mod:3 uses sim.low._hidden" in text


def test_checker_finds_upward_imports(fake_package: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    layers = (
        ("low", "", ("sim.vocab", "sim.low", "sim.sub")),
        ("high", "", ("sim.high", "sim")),
    )
    monkeypatch.setattr(sys.modules[__name__], "LAYERS", layers)
    assert layer_of("sim.sub.mod") == 0 and layer_of("sim.high") == 1
    with pytest.raises(AssertionError, match=r"sim.low:3 \(low\) imports sim.high \(high\)"):
        test_imports_go_down_the_layers()
    test_every_module_has_a_layer()
    monkeypatch.setattr(sys.modules[__name__], "LAYERS", (layers[0], ("high", "", ("sim",))))
    assert layer_of("sim") == 1 and layer_of("sim.high") is None
    with pytest.raises(AssertionError, match=r"no layer.*\['sim.high'\]"):
        test_every_module_has_a_layer()
