"""The README's performance figures describe today's engine: every measurement of
`benchmarks/bench_fast.py` is recorded in benchmarks/performance.json at the fast engine's
current source stamp, and the README shows the record (its table and the first-run figures
in its text). Fast: nothing is measured here; `python benchmarks/bench_fast.py --write`
measures everything (about half an hour) and rewrites both."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import benchmark_module, performance_sandbox


@pytest.fixture(scope="module")
def perf():
    with benchmark_module("performance") as module:
        yield module


@pytest.fixture(scope="module")
def bench():
    with benchmark_module("bench_fast", "performance") as module:
        yield module


def test_every_figure_is_current(perf) -> None:
    problems = perf.stale(perf.load())
    assert not problems, f"stale performance figures ({'; '.join(problems)}): {perf.FIX}"


def test_readme_shows_the_recorded_figures(perf) -> None:
    text = perf.README.read_text(encoding="utf-8")
    assert perf.render_readme(text, perf.load()) == text, f"README performance: {perf.FIX}"


ROWS = [
    ("(a) speed-up fast / agents", "1", "60.0x", ">= 50x", "yes"),
    ("(b) fast consumer-days/s, 1,000,000 consumers", "1", "19.00M", ">= 25M", "NO"),
    ("(c) peak memory per consumer, 1,000,000 consumers", "1", "300 B", "(reported)", ""),
    ("(b2) fast consumer-days/s, national staff", "1", "26.00M", ">= 40M", "NO"),
    ("(e) time, 50,000,000 consumers", "1", "270.0 s", "< 5 min", "yes"),
    ("(f) first run on a fresh install", "", "24.0 s", "< 20 s", "NO"),
]


def test_a_measurement_left_out_keeps_its_rows(perf, monkeypatch) -> None:
    """`--write --skip-50m`: (e)'s rows and their stamp stay; the rest are replaced."""
    monkeypatch.setattr(perf, "engine_stamp", lambda: "old")
    first = {"first": 24.0, "warm": 4.4, "one-process": 41.0}
    record = perf.merged({"rows": []}, ROWS, {perf.group_of(r) for r in ROWS}, {"first_run": first})
    assert [r[0][:4] for r in record["rows"]] == ["(a) ", "(b) ", "(c) ", "(b2)", "(e) ", "(f) "]
    monkeypatch.setattr(perf, "engine_stamp", lambda: "new")
    changed = "the fast engine changed since it was measured"
    expected = {
        g: f"({g}): {changed} ({record['measured'][g]['date']})"
        for g in ["a", "b", "c", "b2", "e", "f"]
    }
    expected.update({g: f"({g}): never measured" for g in ("d", "g", "peer", "r")})
    assert perf.stale(record) == [expected[g] for g in perf.GROUPS]
    faster = [("(b) fast consumer-days/s, 1,000,000 consumers", "1", "26.00M", ">= 25M", "yes")]
    again = perf.merged(record, faster, {"b"}, {})
    assert again["first_run"] == first  # (f) not measured again: its figures kept
    assert [r[2] for r in again["rows"]] == ["60.0x", "26.00M", "300 B", "26.00M", "270.0 s",
                                             "24.0 s"]  # fmt: skip
    assert again["measured"]["b"]["engine"] == "new"
    assert again["measured"]["e"]["engine"] == "old"


def test_a_changed_engine_makes_its_figures_stale(perf, monkeypatch) -> None:
    """A figure describes the engine it was measured on: once the compiled sources change
    (the engine's source stamp), the check names every measurement made before."""
    monkeypatch.setattr(perf, "engine_stamp", lambda: "one")
    rows = [(f"({g}) figure", "", "1", "", "") for g in perf.GROUPS]
    record = perf.merged({"rows": []}, rows, set(perf.GROUPS), {})
    assert perf.stale(record) == []
    monkeypatch.setattr(perf, "engine_stamp", lambda: "two")
    lines = perf.stale(record)
    assert len(lines) == len(perf.GROUPS)
    assert all("the fast engine changed since it was measured" in line for line in lines)
    del record["measured"]["peer"]
    assert "(peer): never measured" in perf.stale(record)


def test_readme_rendering(perf) -> None:
    record = {
        "machine": {"cpu_count": 2, "machine": "x86_64", "python": "3.11.7"},
        "measured": {"a": {"date": "2026-12-04", "engine": "e"}},
        "rows": [list(r) for r in ROWS],
        "first_run": {"first": 24.04, "warm": 4.37, "one-process": 41.3},
        "replicates": {"one": 23.4, "default": 17.1, "one_peak_gb": 0.634},
    }
    text = "\n".join(
        [
            "took <!-- performance: first -->old<!-- /performance: first -->,",
            "warm <!-- performance: warm -->x<!-- /performance: warm --> and",
            "again <!-- performance: warm -->y<!-- /performance: warm -->,",
            "<!-- performance: one-process --><!-- /performance: one-process -->.",
            "<!-- performance: install --><!-- /performance: install -->",
            "<!-- performance: cold -->25 s<!-- /performance: cold -->",
            "<!-- performance: replicates-one -->1<!-- /performance: replicates-one -->",
            "<!-- performance: replicates-default --><!-- /performance: replicates-default -->",
            "<!-- performance: replicates-one-peak --><!-- /performance: replicates-one-peak -->",
            "<!-- performance: replicates-default-peak -->"
            "<!-- /performance: replicates-default-peak -->",
            perf.BEGIN,
            "an old table",
            perf.END,
            "after",
        ]
    )
    out = perf.render_readme(text, record)
    assert "took <!-- performance: first -->24 s<!-- /performance: first -->," in out
    assert "warm <!-- performance: warm -->4.4 s<!-- /performance: warm --> and" in out
    assert "again <!-- performance: warm -->4.4 s<!-- /performance: warm -->," in out
    assert "<!-- performance: one-process -->41 s<!-- /performance: one-process -->." in out
    assert "<!-- performance: cold -->–<!-- /performance: cold -->" in out  # not recorded
    assert "<!-- performance: replicates-one -->23 s<!-- /performance: replicates-one -->" in out
    assert "replicates-default -->17 s<!--" in out and "replicates-one-peak -->0.63 GB<!--" in out
    assert "replicates-default-peak -->–<!--" in out  # not in the record: a dash, not a number
    assert "an old table" not in out and out.endswith(perf.END + "\nafter")
    assert "| (b2) fast consumer-days/s, national staff | 1 | 26.00M | >= 40M | NO |" in out
    assert (
        "| (c) peak memory per consumer, 1,000,000 consumers | 1 | 300 B | (reported) |   |" in out
    )
    assert "Measured 2026-12-04 on a shared 2-core x86_64 machine" in out
    assert perf.render_readme(out, record) == out  # written once, unchanged by a second pass
    with pytest.raises(ValueError, match="performance: warm"):
        perf.render_readme(text.replace("<!-- /performance: warm -->", ""), record)
    with pytest.raises(ValueError, match="no table"):
        perf.render_readme(text.replace(perf.END, ""), record)
    with pytest.raises(ValueError, match="a row of no measurement"):
        perf.group_of(("(z) what", "", "", "", ""))


@pytest.mark.parametrize(
    ("argv", "why"),
    [
        (["--write"], ""),
        (["--write", "--skip-50m", "--skip-peer"], ""),
        (["--write", "--quick"], "only at the targets' sizes"),
        (["--write", "--big-consumers", "1000"], "only at the targets' sizes"),
        (["--write", "--threads", "1"], "only at the default thread and region counts"),
        (["--write", "--regions", "2"], "only at the default thread and region counts"),
        (["--write", "--engine", "agents"], "only for the fast engine"),
        (["--quick"], ""),
    ],
)
def test_write_is_refused_off_the_targets(bench, argv, why) -> None:
    refused = bench.write_refused(bench.parse_args(argv))
    assert (why in refused) if why else refused == ""


def test_write_refused_before_measuring(bench, capsys) -> None:
    assert bench.main(["--write", "--quick"]) == 2
    err = capsys.readouterr()
    assert err.err.strip().splitlines() == [
        "bench_fast.py: --write: only at the targets' sizes (no --quick, no size options)"
    ]
    assert err.out == ""  # refused at once: nothing measured


def test_record_writes_the_rows_and_the_readme(bench, perf, tmp_path: Path, monkeypatch) -> None:
    """`--write`'s last step: the final table's rows and (f)'s seconds into the record, the
    README rewritten from it."""
    performance_sandbox(perf, tmp_path, monkeypatch)
    first = bench.FirstRun(
        first_seconds=3.456,
        warm_seconds=3.1,
        cold_seconds=23.456,
        one_process_seconds=40.0,
        install_seconds=27.94,
    )
    bench.record([r for r in ROWS if not r[0].startswith("(f)")], first)
    record = json.loads(perf.RECORD.read_text())
    assert set(record["measured"]) == {"a", "b", "c", "b2", "e"}
    assert record["first_run"] == {
        "first": 3.46,
        "install": 27.94,
        "warm": 3.1,
        "cold": 23.46,
        "one-process": 40.0,
    }
    text = perf.README.read_text()
    assert "<!-- performance: first -->3.5 s<!-- /performance: first -->" in text
    assert "<!-- performance: install -->28 s<!-- /performance: install -->" in text
    assert "<!-- performance: cold -->23 s<!-- /performance: cold -->" in text
    assert "| (e) time, 50,000,000 consumers | 1 | 270.0 s | < 5 min | yes |" in text
