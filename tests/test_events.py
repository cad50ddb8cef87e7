"""Individual-level output (`sim.events`, `run(..., events=...)`, `siyu run --events`): the
events aggregate to the ledger exactly on both engines, the customer summary is the one a
CLV library computes from the orders, the same seed writes the same bytes, recording
changes no draw and no ledger entry, and the two engines record the same rows for the same
event from the same state (the engine contract's set-up, tests/contract)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario, run
from sim.events import FILES, TABLES, WIDTH
from sim.fast.events import Event
from sim.vocab import (
    CHANNELS,
    SOURCES_CUSTOMER,
    SOURCES_MEMBER,
    Channel,
    MemberChannel,
    Source,
    State,
    Touch,
)
from tests.contract.adapter import Pair
from tests.contract.scenario import GUIDED, QUOTA_ASSIST, contract_scenario
from tests.contract.state import Holding, Member, Person, customer, member

SIZES = {"fast": (1500, 120), "agents": (400, 60)}
"""Consumers and days per engine (the reference engine is slow)."""


def small(name: str, engine: str):
    n, days = SIZES[engine]
    return load_scenario(name, {"run.consumers": n, "run.days": days})


@pytest.fixture(scope="module", params=["fast", "agents", "fast in 2 regions"])
def recorded(request, tmp_path_factory):
    """A run of a three-brand scenario with events, on each engine, and in two regions
    (`sim.regions`: their events and ledgers merged)."""
    engine, _, regions = request.param.partition(" in ")
    folder = tmp_path_factory.mktemp(f"events-{engine}") / "events"
    result = run(
        small("bench_three_brands", engine),
        seed=4,
        engine=engine,
        events=folder,
        regions=int(regions.split()[0]) if regions else 1,
    )
    tables = {name.removesuffix(".parquet"): pd.read_parquet(folder / name) for name in FILES}
    return result, tables


def _by(frame: pd.DataFrame, keys: list[str], how: dict) -> pd.DataFrame:
    return frame.groupby(keys, observed=True).agg(**how)


def _against(ledger: pd.DataFrame, table: pd.DataFrame, columns: dict[str, str]) -> None:
    """Each ledger column equals the table's column of the same day and brand (0 where
    the table has no row)."""
    led = ledger.set_index(["day", "brand"])
    got = led[[]].join(table.set_axis(table.index.set_names(["day", "brand"]))).fillna(0.0)
    for ledger_col, table_col in columns.items():
        np.testing.assert_allclose(
            led[ledger_col].to_numpy(),
            got[table_col].to_numpy(),
            rtol=1e-12,
            atol=1e-9,
            err_msg=ledger_col,
        )


def test_files_and_columns(recorded):
    result, tables = recorded
    assert result.events is not None and sorted(p.name for p in result.events.iterdir()) == sorted(
        FILES
    )
    for name, table in tables.items():
        assert list(table.columns) == list(TABLES[name]), name
    assert len(tables["orders"]) > 100 and len(tables["memberships"]) > 10


def test_orders_aggregate_to_the_ledger(recorded):
    """Orders and value by brand × day × channel and × source, first orders and member
    GMV: exactly the ledger's columns."""
    result, t = recorded
    o = t["orders"]
    ledger = result.ledger
    assert len(o) == ledger.orders_total.sum() > 0
    for ch in CHANNELS:
        part = _by(
            o[o.channel == ch], ["day", "brand"], {"n": ("value", "size"), "v": ("value", "sum")}
        )
        _against(ledger, part, {f"orders_{ch}": "n", f"gmv_{ch}": "v"})
    for s in SOURCES_CUSTOMER:
        part = _by(o[o.source == s], ["day", "brand"], {"v": ("value", "sum")})
        _against(ledger, part, {f"gmv_source_{s}": "v"})
        firsts = o[(o.source == s) & o["first"]]
        _against(
            ledger,
            _by(firsts, ["day", "brand"], {"n": ("value", "size")}),
            {f"new_customers_{s}": "n"},
        )
    _against(
        ledger,
        _by(o[o["first"]], ["day", "brand"], {"n": ("value", "size")}),
        {"first_orders": "n"},
    )
    _against(
        ledger, _by(o[o.member], ["day", "brand"], {"v": ("value", "sum")}), {"gmv_members": "v"}
    )


def test_memberships_and_lapses_aggregate_to_the_ledger(recorded):
    result, t = recorded
    m, lapses, ledger = t["memberships"], t["lapses"], result.ledger
    joins = m[m.kind == "join"]
    assert len(joins) == ledger.new_members_total.sum() > 0
    for s in SOURCES_MEMBER:
        part = _by(joins[joins.source == s], ["day", "brand"], {"n": ("consumer", "size")})
        _against(ledger, part, {f"new_members_{s}": "n"})
    for kind, column in (("mute", "mutes"), ("leave", "leaves")):
        part = _by(m[m.kind == kind], ["day", "brand"], {"n": ("consumer", "size")})
        _against(ledger, part, {column: "n"})
    assert len(lapses) == ledger.lapses.sum() > 0
    _against(ledger, _by(lapses, ["day", "brand"], {"n": ("consumer", "size")}), {"lapses": "n"})
    assert m.loc[m.kind == "join", "source"].notna().all()
    assert m.loc[m.kind != "join", "source"].isna().all()


def test_customer_summary_is_the_orders_summarized(recorded):
    """frequency, recency, T and monetary value as CLV libraries compute them from an
    order log at daily resolution (several orders on a day are one purchase), and the
    first order's source and channel."""
    result, t = recorded
    o, c = t["orders"], t["customers"]
    days = result.scenario.run.days
    daily = o.groupby(["brand", "consumer", "day"], observed=True).value.sum().reset_index()
    g = daily.groupby(["brand", "consumer"], observed=True)
    first = g.day.min()
    want = pd.DataFrame(
        {
            "frequency": g.day.size() - 1,
            "recency": g.day.max() - first,
            "T": days - 1 - first,
        }
    )
    repeat = daily[
        daily.day > daily.groupby(["brand", "consumer"], observed=True).day.transform("min")
    ]
    want["monetary_value"] = repeat.groupby(["brand", "consumer"], observed=True).value.mean()
    want["monetary_value"] = want["monetary_value"].fillna(0.0)
    firsts = (
        o.groupby(["brand", "consumer"], observed=True).head(1).set_index(["brand", "consumer"])
    )
    want["source"] = firsts.source.astype(str)
    want["first_channel"] = firsts.channel.astype(str)
    want["orders"] = o.groupby(["brand", "consumer"], observed=True).size()
    got = c.set_index(["brand", "consumer"]).sort_index()
    want = want.sort_index()
    assert len(got) == len(want) > 0
    assert (got.frequency > 0).any()
    for col in ("frequency", "recency", "T", "orders"):
        np.testing.assert_array_equal(got[col].to_numpy(), want[col].to_numpy(), err_msg=col)
    np.testing.assert_allclose(got.monetary_value.to_numpy(), want.monetary_value.to_numpy())
    for col in ("source", "first_channel"):
        assert (got[col].astype(str).to_numpy() == want[col].to_numpy()).all(), col


@pytest.mark.parametrize("engine", ["fast", "agents"])
def test_same_seed_same_bytes_and_the_same_ledger(engine, tmp_path):
    """Two runs with one seed write byte-identical event files; the ledger is the one a
    run without events gives (recording changes no draw)."""
    sc = small("beauty_guides", engine)
    a = run(sc, seed=2, engine=engine, events=tmp_path / "a")
    run(sc, seed=2, engine=engine, events=tmp_path / "b")
    plain = run(sc, seed=2, engine=engine)
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    pd.testing.assert_frame_equal(a.ledger, plain.ledger)
    assert plain.events is None and a.events == tmp_path / "a"


def test_a_failed_run_leaves_nothing(tmp_path):
    """An interrupted run removes its half-written event files."""
    sc = small("beauty_guides", "fast")

    def stop(day: int) -> None:
        if day >= 30:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(sc, seed=1, events=tmp_path / "ev", progress=stop)
    assert list(tmp_path.iterdir()) == []


def test_a_failing_writer_stops_the_run_and_leaves_nothing(tmp_path, monkeypatch):
    """The events are written by a second thread while the model steps on: an error there
    reaches the run (at the next stretch of days) and nothing is left behind."""
    import sim.events

    calls = []

    def broken_add(self, ints, values):
        calls.append(len(values))
        raise OSError("disk full")

    monkeypatch.setattr(sim.events.EventWriter, "add", broken_add)
    with pytest.raises(OSError, match="disk full"):
        run(small("beauty_guides", "fast"), seed=1, events=tmp_path / "ev")
    assert calls and list(tmp_path.iterdir()) == []


def test_refuses_a_folder_of_other_files(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        run(small("beauty_guides", "fast"), seed=1, events=tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


# --------------------------------------------------------------------------- engine contract
def _rows(event: Event, person: Person, b: int, seed: int, overrides=None, **kw):
    """Both engines' raw event rows for one event from one state (tests/contract)."""
    pair = Pair(contract_scenario(**(overrides or {})))
    pair.put(0, person)
    pair.ref.record_events()
    pair.fast.record_events()
    pair.apply(event, 0, b, seed, **kw)
    return pair.ref.take_events(), pair.fast.take_events()


TOUCHED = {
    "plain": {},
    "tired": {"fatigue": 5.9, "updated": 10},
    "harvested": {"harvest": 0.49},
    "engaged": {"engagement": 0.95},
}
CASES = [
    *(
        (
            Event.RECEIVE_TOUCH,
            Person(
                need_rates=(0.5, 0.05),
                holdings={
                    GUIDED: replace(
                        member(spend=90.0), member=Member(channel=ch, guide=g, **TOUCHED[s])
                    )
                },
            ),
            GUIDED,
            {"kind": kind, "by_guide": g is not None, "effect": 1.0, "skill": 1.2},
        )
        for s, kind, (ch, g) in itertools.product(
            TOUCHED, list(Touch), [(MemberChannel.GUIDE, 0), (MemberChannel.GROUP, None)]
        )
    ),
    *(
        (
            Event.PURCHASE,
            Person(holdings={b: holding}),
            b,
            {"channel": channel, "prompt": 0, "share": 0.85},
        )
        for b, channel, holding in itertools.product(
            (GUIDED, QUOTA_ASSIST),
            list(Channel),
            (
                Holding(state=State.AWARE, source=Source.KOC, dropout=0.9),
                customer(purchases=2, spend=250.0, cohort_day=2, dropout=0.9),
                replace(member(channel=MemberChannel.GROUP), dropout=0.9),
            ),
        )
    ),
    (Event.LAPSE, Person(holdings={GUIDED: member()}), GUIDED, {}),
    (
        Event.INVITE,
        Person(holdings={GUIDED: customer()}),
        GUIDED,
        {"source": Source.STORE, "channel": MemberChannel.GROUP},
    ),
]


def test_engines_record_the_same_rows_for_the_same_event():
    """Each case's event, from one state with one Generator, in both engines: the same
    rows (orders, joins, mutes, leaves, lapses), in the same order."""
    kinds = set()
    for (event, person, b, kw), seed in itertools.product(CASES, (0, 1, 2)):
        (ri, rv), (fi, fv) = _rows(event, person, b, seed, **kw)
        assert ri.shape[1] == WIDTH
        np.testing.assert_array_equal(ri, fi, err_msg=f"{event.name} {kw} seed {seed}")
        np.testing.assert_allclose(rv, fv, rtol=1e-6)
        kinds.update(ri[:, 0].tolist())
    assert kinds == {0, 1, 2, 3, 4}, kinds  # every kind of event was exercised


def test_docs_list_every_column():
    """docs/EVENTS.md documents every column of every table."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "EVENTS.md").read_text()
    for name, columns in TABLES.items():
        section = text.split(f"### `{name}.parquet`", 1)[1].split("###", 1)[0]
        for column in columns:
            assert f"| `{column}` |" in section, (name, column)


def test_siyu_run_events(tmp_path, capsys):
    """`siyu run --events` puts the four files into the run's folder, beside its ledger,
    and leaves no scratch folder behind; without it there are none."""
    from tests.helpers import cli

    out = tmp_path / "runs" / "x"
    args = ["run", "beauty_guides", "--days", 20, "--consumers", 300, "--no-report"]
    code, stdout, _ = cli([*args, "--no-twin", "--events", "--out", out], capsys)
    assert code == 0, stdout
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(["metrics.parquet", "summary.json", *FILES])
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["x"]
    ledger = pd.read_parquet(out / "metrics.parquet")
    assert len(pd.read_parquet(out / "orders.parquet")) == ledger.orders_total.sum()
    code, _, _ = cli([*args, "--no-twin", "--out", out], capsys)
    assert code == 0 and not (out / "orders.parquet").exists()
