"""Bad input gets ONE clear line on stderr (`error: FILE: KEY: message`), exit code 2,
no traceback, and no output folder. Exercised through the real entry point
(`sim.cli.main`, in-process and as the installed `siyu` script) and the Python API."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sim import ScenarioError, load_scenario
from tests.helpers import cli

OUT = "out"


def siyu_command() -> list[str]:
    """The installed `siyu` script next to this interpreter, else `python -m sim.cli`."""
    script = Path(sys.executable).with_name("siyu")
    if script.exists():
        return [str(script)]
    found = shutil.which("siyu")
    return [found] if found else [sys.executable, "-m", "sim.cli"]


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def assert_bad_input(code: int, err: str, folder: Path, prefix: str, *needles: str) -> str:
    """Exit 2, exactly one non-empty stderr line starting `error: PREFIX`, no traceback,
    containing every needle, and no output folder (neither --out nor the default)."""
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one line, got:\n{err}"
    line = lines[0]
    assert line.startswith(f"error: {prefix}"), line
    for needle in needles:
        assert needle in line, f"{needle!r} not in {line!r}"
    assert not (folder / OUT).exists()
    assert not (folder / "reports").exists()
    return line


# id -> (files, scenario file, extra args, expected "FILE: KEY: " prefix, needles)
CASES: dict[str, tuple[dict[str, str], str, list[str], str, tuple[str, ...]]] = {
    "toml-syntax": (
        {"s.toml": "[run]\ndays = 60\nconsumers = = 3\n"},
        "s.toml",
        [],
        "s.toml: TOML syntax error",
        ("line 3",),
    ),
    "toml-syntax-at-end": (
        {"s.toml": "[run]\ndays = [1, \n"},
        "s.toml",
        [],
        "s.toml: TOML syntax error",
        ("line 2",),
    ),
    "toml-duplicate-key": (
        {"s.toml": "[run]\ndays = 1\ndays = 2\n"},
        "s.toml",
        [],
        "s.toml: TOML syntax error",
        ("line 3",),
    ),
    "unknown-top-key": (
        {"s.toml": "[runn]\ndays = 60\n"},
        "s.toml",
        [],
        "s.toml: runn: unknown key",
        ("did you mean 'run'",),
    ),
    "unknown-nested-key": (
        {"s.toml": "[brands.a.strategy]\nprivate_discont = 0.1\n"},
        "s.toml",
        [],
        "s.toml: brands.a.strategy.private_discont: unknown key",
        ("did you mean 'private_discount'",),
    ),
    "unknown-key-in-category": (
        {"s.toml": "[categories.default]\nprise = 100\n"},
        "s.toml",
        [],
        "s.toml: categories.default.prise: unknown key",
        ("did you mean 'price'",),
    ),
    "unknown-key-in-list-of-tables": (
        {"s.toml": "[[brands.a.strategy.referral_tiers]]\nreferals = 1\n"},
        "s.toml",
        [],
        "s.toml: brands.a.strategy.referral_tiers.0.referals: unknown key",
        ("did you mean 'referrals'",),
    ),
    "unknown-key-without-near-name": (
        {"s.toml": "[brands.a]\nzzzzzz = 1\n"},
        "s.toml",
        [],
        "s.toml: brands.a.zzzzzz: unknown key",
        (),
    ),
    "wrong-type": (
        {"s.toml": '[run]\nconsumers = "many"\n'},
        "s.toml",
        [],
        "s.toml: run.consumers: ",
        ("integer", "'many'"),
    ),
    "table-expected": (
        {"s.toml": "run = 5\n"},
        "s.toml",
        [],
        "s.toml: run: ",
        ("got 5",),
    ),
    "share-above-1": (
        {"s.toml": "[brands.a.strategy]\nprivate_discount = 1.5\n"},
        "s.toml",
        [],
        "s.toml: brands.a.strategy.private_discount: ",
        ("1.5",),
    ),
    "share-below-0": (
        {"s.toml": "[population]\nhunter_share = -0.1\n"},
        "s.toml",
        [],
        "s.toml: population.hunter_share: ",
        ("-0.1",),
    ),
    "negative-budget": (
        {"s.toml": "[brands.a]\nannual_budget = -5\n"},
        "s.toml",
        [],
        "s.toml: brands.a.annual_budget: ",
        ("greater than or equal to 0",),
    ),
    "negative-ad-spend": (
        {"s.toml": "[brands.a.strategy]\nad_budget_per_day = -1\n"},
        "s.toml",
        [],
        "s.toml: brands.a.strategy.ad_budget_per_day: ",
        ("-1",),
    ),
    "more-guides-than-affordable": (
        {
            "s.toml": "[brands.a]\nstores = 50\nannual_budget = 1e6\n"
            "[brands.a.strategy]\nguides_per_store = 2\n"
        },
        "s.toml",
        [],
        "s.toml: brands.a.strategy: ",
        ("100 guides", "annual_budget"),
    ),
    "content-mix-not-1": (
        {"s.toml": "[brands.a.strategy.content_mix]\ncontent = 0.5\n"},
        "s.toml",
        [],
        "s.toml: brands.a.strategy.content_mix: ",
        ("sum to 1", "0.9"),
    ),
    "initial-shares-not-nested": (
        {"s.toml": "[brands.a.initial]\naware = 0.1\ncustomers = 0.2\n"},
        "s.toml",
        [],
        "s.toml: brands.a.initial: ",
        ("customers <= aware",),
    ),
    "unknown-category": (
        {"s.toml": '[brands.a]\ncategory = "shoes"\n'},
        "s.toml",
        [],
        "s.toml: brands.a.category: ",
        ("'shoes'", "default"),
    ),
    "unknown-literal": (
        {"s.toml": '[brands.a.strategy]\nguide_regime = "weekly"\n'},
        "s.toml",
        [],
        "s.toml: brands.a.strategy.guide_regime: ",
        ("'quota'", "'weekly'"),
    ),
    "no-brands": (
        {"s.toml": "[brands]\n"},
        "s.toml",
        [],
        "s.toml: brands: ",
        ("at least one brand",),
    ),
    "error-in-parent": (
        {
            "base.toml": "[brands.a.strategy]\nprivat_discount = 0.1\nad_budget_per_day = 5\n",
            # the child sets a sibling in the same table: origin must be tracked per key
            "child.toml": 'extends = "base.toml"\n[brands.a.strategy]\nad_budget_per_day = 9\n',
        },
        "child.toml",
        [],
        "base.toml: brands.a.strategy.privat_discount: unknown key",
        ("did you mean 'private_discount'",),
    ),
    "error-in-grandparent": (
        {
            "lib/root.toml": '[brands.a]\ncategory = "shoes"\nstores = 1\n',
            "lib/mid.toml": 'extends = "root"\n[brands.a]\nstores = 2\n',
            "child.toml": 'extends = "lib/mid.toml"\n[brands.a]\nstores = 3\n',
        },
        "child.toml",
        [],
        f"lib{os.sep}root.toml: brands.a.category: ",
        ("'shoes'",),
    ),
    "table-error-in-parent": (
        {
            "base.toml": "[brands.a.strategy.content_mix]\ncontent = 0.2\n",
            "child.toml": 'extends = "base.toml"\n[brands.a]\nstores = 2\n',
        },
        "child.toml",
        [],
        "base.toml: brands.a.strategy.content_mix: ",
        ("sum to 1",),
    ),
    "extends-missing-file": (
        {"s.toml": 'extends = "nope.toml"\n'},
        "s.toml",
        [],
        "s.toml: extends: ",
        ("no such file", "nope.toml"),
    ),
    "extends-unknown-shipped-name": (
        {"s.toml": 'extends = "beauty_guide"\n'},
        "s.toml",
        [],
        "s.toml: extends: ",
        ("no such file", "did you mean 'beauty_guides'?"),
    ),
    "replace-unknown-table": (
        {"s.toml": 'extends = "public_only"\nreplace = ["brand"]\n'},
        "s.toml",
        [],
        "s.toml: replace: ",
        ("'brands' or 'categories'",),
    ),
    "extends-not-a-string": (
        {"s.toml": "extends = 3\n"},
        "s.toml",
        [],
        "s.toml: extends: ",
        ("string",),
    ),
    "extends-cycle": (
        {"a.toml": 'extends = "b.toml"\n', "b.toml": 'extends = "a.toml"\n'},
        "a.toml",
        [],
        "b.toml: extends: cycle",
        ("a.toml -> b.toml -> a.toml",),
    ),
    "extends-self": (
        {"a.toml": 'extends = "a.toml"\n'},
        "a.toml",
        [],
        "a.toml: extends: cycle",
        (),
    ),
    "missing-file": ({}, "nope.toml", [], "nope.toml: ", ("no such file",)),
    "folder-not-file": ({"dir/x.toml": ""}, "dir", [], "dir: ", ("folder",)),
    "set-unknown-key": (
        {"s.toml": ""},
        "s.toml",
        ["--set", "run.dayz=3"],
        "--set: run.dayz: unknown key",
        ("did you mean 'days'",),
    ),
    "set-unknown-brand": (
        {"s.toml": "[brands.kiehls]\nstores = 1\n"},
        "s.toml",
        ["--set", "brands.kiehl.strategy.private_discount=0.1"],
        "--set: brands.kiehl: unknown brand 'kiehl'",
        ("did you mean 'kiehls'",),
    ),
    "set-no-equals": ({"s.toml": ""}, "s.toml", ["--set", "run.days"], "--set: run.days: ", ()),
    "set-empty-part": ({"s.toml": ""}, "s.toml", ["--set", "run..days=3"], "--set: ", ()),
    "set-wrong-type": (
        {"s.toml": ""},
        "s.toml",
        ["--set", "run.days=abc"],
        "--set: run.days: ",
        ("'abc'",),
    ),
    "set-out-of-range": (
        {"s.toml": ""},
        "s.toml",
        ["--set", "brands.brand.strategy.private_discount=2"],
        "--set: brands.brand.strategy.private_discount: ",
        ("less than or equal to 1",),
    ),
    "set-extends": ({"s.toml": ""}, "s.toml", ["--set", "extends=x.toml"], "--set: extends: ", ()),
    "days-0": ({"s.toml": ""}, "s.toml", ["--days", "0"], "--days: run.days: ", ("0",)),
    "consumers-negative": (
        {"s.toml": ""},
        "s.toml",
        ["--consumers", "-5"],
        "--consumers: run.consumers: ",
        (),
    ),
    "seed-negative": ({"s.toml": ""}, "s.toml", ["--seed", "-1"], "--seed: run.seed: ", ()),
    "days-not-a-number": ({"s.toml": ""}, "s.toml", ["--days", "abc"], "", ("'--days'",)),
    "unknown-option": ({"s.toml": ""}, "s.toml", ["--dayz", "3"], "", ("--dayz",)),
    "bad-engine": (
        {"s.toml": ""},
        "s.toml",
        ["--engine", "warp"],
        "--engine: ",
        ("'warp'", "agents"),
    ),
    "markup-in-key-shown-verbatim": (
        {"s.toml": '[run]\n"[/red]x[bold]" = 1\n'},
        "s.toml",
        [],
        "s.toml: run.[/red]x[bold]: unknown key",
        (),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_run_bad_input(
    case: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`siyu run` on bad input: one line naming file and key, exit 2, nothing written."""
    files, scenario, extra, prefix, needles = CASES[case]
    write(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(["run", scenario, *extra, "--out", OUT, "--no-report"], capsys)
    assert_bad_input(code, err, tmp_path, prefix, *needles)
    assert out == ""


@pytest.mark.parametrize("case", [c for c in CASES if not CASES[c][2]])
def test_validate_bad_file(
    case: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`siyu validate` reports bad files with the same one line (and prints no JSON)."""
    files, scenario, _, prefix, needles = CASES[case]
    write(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(["validate", scenario], capsys)
    assert_bad_input(code, err, tmp_path, prefix, *needles)
    assert out == ""


def test_default_output_folder_not_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --out, bad input leaves no reports/runs/... behind either."""
    write(tmp_path, {"s.toml": "[run]\ndays = 0\n"})
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(["run", "s.toml", "--no-report"], capsys)
    assert_bad_input(code, err, tmp_path, "s.toml: run.days: ")


def test_out_is_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, {"s.toml": "", "taken": "keep me"})
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(["run", "s.toml", "--out", "taken"], capsys)
    assert_bad_input(code, err, tmp_path, "--out: taken: ", "not a folder")
    assert (tmp_path / "taken").read_text() == "keep me"


def test_out_is_a_foreign_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Writing replaces the output folder, so a folder that is not a run's is refused."""
    write(tmp_path, {"s.toml": "", "mine/notes.txt": "precious"})
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(["run", "s.toml", "--out", "mine"], capsys)
    assert_bad_input(code, err, tmp_path, "--out: mine: ", "refusing")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "precious"


def test_long_error_is_one_line_on_a_narrow_terminal(tmp_path: Path) -> None:
    """The real `siyu` script: no traceback, one line even when far wider than COLUMNS."""
    long_name = "b" * 120
    write(tmp_path, {"s.toml": f"[brands.{long_name}.strategy]\nprivate_discont = 0.1\n"})
    env = {**os.environ, "COLUMNS": "40", "TERM": "xterm-256color", "FORCE_COLOR": "1"}
    proc = subprocess.run(
        [*siyu_command(), "run", "s.toml", "--out", OUT, "--no-report"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    line = assert_bad_input(
        proc.returncode,
        proc.stderr,
        tmp_path,
        f"s.toml: brands.{long_name}.strategy.private_discont: unknown key",
        "did you mean 'private_discount'",
    )
    assert "\x1b[" not in line  # no colour codes or markup artefacts
    assert proc.stdout == ""


def test_real_script_usage_error(tmp_path: Path) -> None:
    """click's own usage errors (a non-integer --days) are one line too, via the script."""
    write(tmp_path, {"s.toml": ""})
    proc = subprocess.run(
        [*siyu_command(), "run", "s.toml", "--days", "x", "--out", OUT],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "40"},
    )
    assert_bad_input(proc.returncode, proc.stderr, tmp_path, "", "'--days'", "siyu run --help")


def test_api_error_has_file_and_key(tmp_path: Path) -> None:
    write(tmp_path, {"s.toml": "[brands.a.strategy]\nprivate_discont = 0.1\n"})
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "s.toml")
    err = info.value
    assert err.file == str(tmp_path / "s.toml")
    assert err.key == "brands.a.strategy.private_discont"
    assert "did you mean 'private_discount'" in err.message
    assert str(err) == f"{err.file}: {err.key}: {err.message}"
    assert "\n" not in str(err)


def test_api_error_names_parent_file(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "base.toml": "[brands.a]\nstores = 2\n[brands.a.strategy]\nbroadcasts_per_wek = 1\n",
            "child.toml": 'extends = "base.toml"\n[brands.a]\nstores = 3\n',
        },
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "child.toml")
    assert Path(info.value.file) == tmp_path / "base.toml"
    assert info.value.key == "brands.a.strategy.broadcasts_per_wek"
    assert "did you mean 'broadcasts_per_week'" in info.value.message


def test_api_override_errors_name_their_source(tmp_path: Path) -> None:
    write(tmp_path, {"s.toml": ""})
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "s.toml", {"run.days": 0})
    assert (info.value.file, info.value.key) == ("overrides", "run.days")
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "s.toml", ["run.consumers=lots"])
    assert (info.value.file, info.value.key) == ("--set", "run.consumers")


def test_file_error_not_blamed_on_unrelated_override(tmp_path: Path) -> None:
    write(tmp_path, {"s.toml": "[brands.a.strategy.content_mix]\nselling = 0.5\n"})
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "s.toml", ["brands.a.strategy.private_discount=0.1"])
    assert info.value.file == str(tmp_path / "s.toml")
    assert info.value.key == "brands.a.strategy.content_mix"


def test_files_are_data_not_code(tmp_path: Path) -> None:
    """Values that look like code are just (wrongly typed) strings: nothing runs."""
    marker = tmp_path / "pwned"
    payload = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    write(tmp_path, {"s.toml": f"description = '''{payload}'''\n[run]\ndays = '''{payload}'''\n"})
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "s.toml")
    assert info.value.key == "run.days"
    assert not marker.exists()


# --------------------------------------------------------------------------- the corpus
#
# tests/bad_inputs/{scenarios,experiments}/*.toml: one bad file each, whose first lines say
# what must be refused:
#     # expect: KEY            (the key the one line names; empty: the file alone)
#     # contains: a | b        (texts the line must contain)
# Every case: exit 2, one line `error: FILE: KEY: …` on stderr, no traceback, nothing on
# stdout, no --out folder and no reports/ folder.

CORPUS = Path(__file__).resolve().parent / "bad_inputs"


def corpus_cases(kind: str) -> list[Path]:
    return sorted((CORPUS / kind).glob("*.toml"))


def expectation(path: Path) -> tuple[str, tuple[str, ...]]:
    """(key, needles) from a corpus file's header."""
    header: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        if not line.startswith("# "):
            break
        name, _, value = line[2:].partition(":")
        header[name.strip()] = value.strip()
    needles = tuple(n.strip() for n in header["contains"].split("|") if n.strip())
    return header["expect"], needles


def copy_case(path: Path, folder: Path) -> str:
    (folder / path.name).write_bytes(path.read_bytes())
    return path.name


def prefix_for(file: str, key: str) -> str:
    return f"{file}: {key}: " if key else f"{file}: "


@pytest.mark.parametrize("path", corpus_cases("scenarios"), ids=lambda p: p.stem)
def test_corpus_scenario(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key, needles = expectation(path)
    name = copy_case(path, tmp_path)
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(["run", name, "--out", OUT, "--no-report"], capsys)
    line = assert_bad_input(code, err, tmp_path, prefix_for(name, key), *needles)
    assert "\x1b" not in line  # control characters from the file are shown escaped
    assert out == ""


@pytest.mark.parametrize("path", corpus_cases("experiments"), ids=lambda p: p.stem)
def test_corpus_experiment(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key, needles = expectation(path)
    name = copy_case(path, tmp_path)
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(["sweep", name, "--out", OUT, "--workers", "1", "--no-report"], capsys)
    assert_bad_input(code, err, tmp_path, prefix_for(name, key), *needles)
    assert out == ""


# Cases a text file cannot hold (bytes that are not UTF-8, several files) and options:
# id -> (files, scenario, extra args, expected "FILE: KEY: " prefix, needles)
TABLE: dict[str, tuple[dict[str, str | bytes], str, list[str], str, tuple[str, ...]]] = {
    "binary-file": ({"s.toml": bytes(range(256))}, "s.toml", [], "s.toml: ", ("not UTF-8",)),
    "latin-1-file": (
        {"s.toml": 'description = "café"\n'.encode("latin-1")},
        "s.toml",
        [],
        "s.toml: ",
        ("not UTF-8", "byte 18"),
    ),
    "utf-16-file": (
        {"s.toml": "[run]\ndays = 3\n".encode("utf-16")},
        "s.toml",
        [],
        "s.toml: ",
        ("not UTF-8",),
    ),
    "nul-byte": ({"s.toml": b"[run]\ndays = 3\x00\n"}, "s.toml", [], "s.toml: TOML syntax", ()),
    "two-byte-order-marks": (
        {"s.toml": b"\xef\xbb\xbf\xef\xbb\xbf[run]\n"},
        "s.toml",
        [],
        "s.toml: TOML syntax error",
        ("line 1",),
    ),
    "nan-in-parent": (
        {"base.toml": "[brands.a]\nappeal = nan\n", "child.toml": 'extends = "base"\n'},
        "child.toml",
        [],
        "base.toml: brands.a.appeal: ",
        ("finite number",),
    ),
    "string-in-parent": (
        {
            "base.toml": '[run]\ndays = "30"\n',
            "child.toml": 'extends = "base.toml"\n[run]\nconsumers = 100\n',
        },
        "child.toml",
        [],
        "base.toml: run.days: ",
        ("valid integer",),
    ),
    "binary-parent": (
        {"base.toml": b"\xff\xfe\x00", "child.toml": 'extends = "base.toml"\n'},
        "child.toml",
        [],
        "base.toml: ",
        ("not UTF-8",),
    ),
    "too-deep-parent": (
        {"base.toml": "x = " + "[" * 5000 + "]" * 5000, "child.toml": 'extends = "base.toml"\n'},
        "child.toml",
        [],
        "base.toml: x: ",
        ("too deep",),
    ),
    "set-nan": ({"s.toml": ""}, "s.toml", ["--set", "run.days=nan"], "--set: run.days: ", ()),
    "set-nan-float": (
        {"s.toml": ""},
        "s.toml",
        ["--set", "brands.brand.appeal=nan"],
        "--set: brands.brand.appeal: ",
        ("finite number",),
    ),
    "set-inf": (
        {"s.toml": ""},
        "s.toml",
        ["--set", "population.wom_rate=inf"],
        "--set: population.wom_rate: ",
        ("finite number",),
    ),
    "set-minus-inf": (
        {"s.toml": ""},
        "s.toml",
        ["--set", "population.outside_utility=-inf"],
        "--set: population.outside_utility: ",
        ("finite number",),
    ),
    "set-quoted-number": (
        {"s.toml": ""},
        "s.toml",
        ["--set", 'run.days="30"'],
        "--set: run.days: ",
        ("valid integer", "'30'"),
    ),
    "set-quoted-share": (
        {"s.toml": ""},
        "s.toml",
        ["--set", 'brands.brand.strategy.private_discount="0.1"'],
        "--set: brands.brand.strategy.private_discount: ",
        ("valid number",),
    ),
    "set-bare-yes": (
        {"s.toml": ""},
        "s.toml",
        ["--set", "brands.brand.strategy.private_ops=yes"],
        "--set: brands.brand.strategy.private_ops: ",
        ("valid boolean", "'yes'"),
    ),
    "set-quoted-true": (
        {"s.toml": ""},
        "s.toml",
        ["--set", 'brands.brand.adaptive="true"'],
        "--set: brands.brand.adaptive: ",
        ("valid boolean",),
    ),
    "set-float-for-int": (
        {"s.toml": ""},
        "s.toml",
        ["--set", "run.consumers=1e9"],
        "--set: run.consumers: ",
        ("valid integer",),
    ),
    "set-days-10e30": (
        {"s.toml": ""},
        "s.toml",
        ["--set", "run.days=1000000000000000000000000000000"],
        "--set: run.days: ",
        ("above the limit", "SIYU_ALLOW_LARGE=1"),
    ),
    "set-days-above-limit": (
        {"s.toml": ""},
        "s.toml",
        ["--set", "run.days=36501"],
        "--set: run.days: ",
        ("36,500",),
    ),
    "set-deep-value": (
        {"s.toml": ""},
        "s.toml",
        ["--set", "description=" + "[" * 5000],
        "--set: description: ",
        ("too deep",),
    ),
    "set-deep-but-readable": (
        {"s.toml": ""},
        "s.toml",
        ["--set", "description=" + "[" * 40 + "]" * 40],
        "--set: description: ",
        ("nested more than 32 deep",),
    ),
    "set-nan-in-list": (
        {"s.toml": ""},
        "s.toml",
        [
            "--set",
            "brands.brand.strategy.tier_spend=[1.0, nan]",
            "--set",
            "brands.brand.strategy.tier_discount=[0.1, 0.2]",
        ],
        "--set: brands.brand.strategy.tier_spend.1: ",
        ("finite number",),
    ),
    "set-table-with-nan": (
        {"s.toml": ""},
        "s.toml",
        ["--set", "run={days = 10, consumers = nan}"],
        "--set: run.consumers: ",
        (),
    ),
    "days-above-limit": (
        {"s.toml": ""},
        "s.toml",
        ["--days", "36501"],
        "--days: run.days: ",
        ("above the limit of 36,500", "SIYU_ALLOW_LARGE=1"),
    ),
    "days-10e30": (
        {"s.toml": ""},
        "s.toml",
        ["--days", "1" + "0" * 30],
        "--days: run.days: ",
        ("about 1e+30 days",),
    ),
    "consumers-above-limit": (
        {"s.toml": ""},
        "s.toml",
        ["--consumers", "100000001"],
        "--consumers: run.consumers: ",
        ("100,000,000",),
    ),
    "consumers-10e30": (
        {"s.toml": ""},
        "s.toml",
        ["--consumers", "1" + "0" * 30],
        "--consumers: run.consumers: ",
        ("above the limit",),
    ),
    "seed-2-to-64": (
        {"s.toml": ""},
        "s.toml",
        ["--seed", str(2**64)],
        "--seed: run.seed: ",
        ("less than",),
    ),
    "days-nan": ({"s.toml": ""}, "s.toml", ["--days", "nan"], "", ("'--days'",)),
    "consumers-inf": ({"s.toml": ""}, "s.toml", ["--consumers", "inf"], "", ("'--consumers'",)),
    "seed-float": ({"s.toml": ""}, "s.toml", ["--seed", "1.5"], "", ("'--seed'",)),
    "days-empty": ({"s.toml": ""}, "s.toml", ["--days", ""], "", ("'--days'",)),
    "file-name-too-long": (
        {},
        "a" * 5000,
        [],
        "a" * 59 + "…: ",
        ("not a usable file name",),
    ),
    "extends-name-too-long": (
        {"s.toml": f'extends = "{"c" * 5000}"\n'},
        "s.toml",
        [],
        "s.toml: extends: ",
        ("not a usable file name",),
    ),
    "out-name-too-long": (
        {"s.toml": ""},
        "s.toml",
        ["--out", "o" * 5000],
        "--out: " + "o" * 239 + "…: cannot write",
        (),
    ),
    "out-under-a-file": (
        {"s.toml": ""},
        "s.toml",
        ["--out", "s.toml/run"],
        "--out: s.toml/run: cannot write in ",
        ("not a folder",),
    ),
}


def write_any(folder: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


@pytest.mark.parametrize("case", list(TABLE))
def test_table_bad_input(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    files, scenario, extra, prefix, needles = TABLE[case]
    write_any(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    if "--out" not in extra:
        extra = [*extra, "--out", OUT]
    code, out, err = cli(["run", scenario, *extra, "--no-report"], capsys)
    assert_bad_input(code, err, tmp_path, prefix, *needles)
    assert out == ""
    if "--out" in TABLE[case][2]:
        assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]
        assert (tmp_path / "s.toml").read_text() == ""


def test_binary_experiment_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "e.toml"
    path.write_bytes(bytes(range(255, -1, -1)))
    code, out, err = cli(["sweep", path, "--out", tmp_path / OUT], capsys)
    assert_bad_input(code, err, tmp_path, f"{path}: ", "not UTF-8")
    assert out == ""


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("scenarios", "deep_arrays_10000"),
        ("scenarios", "nan_appeal"),
        ("scenarios", "days_10e30"),
        ("experiments", "grid_10e9_points"),
        ("experiments", "factor_nan_value"),
    ],
)
def test_corpus_through_the_script(kind: str, name: str, tmp_path: Path) -> None:
    """A few corpus cases through the installed `siyu` script: a real process, one line."""
    path = CORPUS / kind / f"{name}.toml"
    key, needles = expectation(path)
    file = copy_case(path, tmp_path)
    command = "run" if kind == "scenarios" else "sweep"
    env = {k: v for k, v in os.environ.items() if k != "SIYU_ALLOW_LARGE"}
    proc = subprocess.run(
        [*siyu_command(), command, file, "--out", OUT, "--no-report"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert_bad_input(proc.returncode, proc.stderr, tmp_path, prefix_for(file, key), *needles)
    assert proc.stdout == ""


def test_set_nan_through_the_script(tmp_path: Path) -> None:
    write(tmp_path, {"s.toml": ""})
    proc = subprocess.run(
        [*siyu_command(), "validate", "s.toml", "--set", "brands.brand.appeal=nan"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert_bad_input(
        proc.returncode, proc.stderr, tmp_path, "--set: brands.brand.appeal: ", "finite number"
    )
    assert proc.stdout == ""


# --------------------------------------------------------------------------- output faults

TINY = "[run]\ndays = 4\nconsumers = 60\n"


def _no_simulation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any simulation fail the test: --out must be refused before one starts."""
    import sim.runner

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("simulated before checking --out")

    monkeypatch.setattr(sim.runner, "run", refuse)


def test_unwritable_out_refused_before_simulating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A place where nothing can be created (permissions, a read-only disk) is found by a
    probe before the run, not after it."""
    import tempfile

    write(tmp_path, {"s.toml": TINY})
    monkeypatch.chdir(tmp_path)
    _no_simulation(monkeypatch)

    def denied(*args: object, dir: str | None = None, **kwargs: object) -> str:
        raise PermissionError(errno.EACCES, "Permission denied", str(Path(str(dir)) / "probe"))

    monkeypatch.setattr(tempfile, "mkdtemp", denied)
    code, out, err = cli(["run", "s.toml", "--out", "a/b/out", "--no-report"], capsys)
    assert_bad_input(code, err, tmp_path, f"--out: a/b/out: cannot write in {tmp_path}: ")
    assert "Permission denied" in err and out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes anywhere")
def test_read_only_folder_refused_before_simulating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, {"s.toml": TINY})
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    monkeypatch.chdir(tmp_path)
    _no_simulation(monkeypatch)
    try:
        code, _, err = cli(["run", "s.toml", "--out", "locked/out", "--no-report"], capsys)
    finally:
        locked.chmod(0o755)
    assert_bad_input(code, err, tmp_path, "--out: locked/out: cannot write in ", "ermission")
    assert list(locked.iterdir()) == []


def _disk_full(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writing the ledger fills the disk: part of a file is written, then ENOSPC."""
    import pandas as pd

    def full(self: object, path: object, *args: object, **kwargs: object) -> None:
        Path(str(path)).write_bytes(b"PAR1 half a file")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)


@pytest.mark.parametrize("out", [["--out", "deep/er/out"], []], ids=["out", "default"])
def test_disk_full_while_writing_leaves_nothing(
    out: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A full disk after the run: one line, exit 2, no temporary folder, no half-written
    output and none of the parent folders the write created (reports/ included)."""
    write(tmp_path, {"s.toml": TINY})
    monkeypatch.chdir(tmp_path)
    _disk_full(monkeypatch)
    code, stdout, err = cli(["run", "s.toml", "--engine", "agents", *out, "--no-report"], capsys)
    target = out[1] if out else str(Path("reports") / "runs" / "s-1")
    assert_bad_input(
        code, err, tmp_path, f"--out: {target}: cannot write: ", "No space left", "nothing written"
    )
    assert stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]


def test_disk_full_keeps_the_previous_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rewriting a run's folder that fails leaves the previous run's output as it was."""
    write(tmp_path, {"s.toml": TINY})
    monkeypatch.chdir(tmp_path)
    args = ["run", "s.toml", "--engine", "agents", "--out", OUT, "--no-report"]
    code, _, err = cli(args, capsys)
    assert code == 0, err
    before = {p.name: p.read_bytes() for p in (tmp_path / OUT).iterdir()}
    _disk_full(monkeypatch)
    code, _, err = cli([*args, "--seed", "2"], capsys)
    assert code == 2 and len(err.splitlines()) == 1 and "No space left" in err
    assert {p.name: p.read_bytes() for p in (tmp_path / OUT).iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [OUT, "s.toml"]


def test_write_outputs_failure_removes_what_it_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API: a report that fails half-way leaves no temporary folder and no parents."""
    import sim.report
    from sim.outputs import write_outputs
    from sim.runner import run

    result = run(load_scenario("beauty_guides", {"run.days": 3, "run.consumers": 50}), 1, "agents")

    def broken(res: object, folder: Path, figures: object = None) -> None:
        (folder / "report.md").write_text("half", encoding="utf-8")
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(sim.report, "write_report", broken)
    with pytest.raises(OSError, match="Input/output"):
        write_outputs(result, tmp_path / "a" / "b" / "run")
    assert list(tmp_path.iterdir()) == []


def test_compare_too_many_runs_refused_before_any_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`compare` has the sweep's run limit: 10^9 replicates are refused at once, not run."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SIYU_ALLOW_LARGE", raising=False)
    args = ["compare", "public_only", "beauty_guides", "--replicates", "1000000000"]
    code, out, err = cli([*args, "--out", OUT], capsys)
    assert_bad_input(code, err, tmp_path, "--replicates: ", "2,000,000,000 runs", "1,000,000")
    assert out == ""
