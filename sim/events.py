"""Individual-level output of a run: every order, membership event and lapse of every
consumer, and a per-customer summary in the form CLV libraries take (frequency, recency,
T, monetary value), written as Parquet (`siyu run --events`, `run(..., events=PATH)`).

Both engines record the same raw rows (`WIDTH` integers and one value per event, columns
`KIND` … `FLAGS`) at the very calls that book the event into the ledger
(`sim.accounting`), so the events aggregate to the ledger exactly: orders and their
value by brand × day × channel are ``orders_<channel>`` and ``gmv_<channel>``, joins
by source ``new_members_<source>``, mutes ``mutes``, leaves ``leaves``, lapses ``lapses``.
An `EventWriter` takes the rows a day (or a few days) at a time, writes them to Parquet
row groups as they come (memory stays bounded at any population) and keeps per customer
the few numbers the summary needs.

Tables (`TABLES` documents every column; codes are `sim.vocab`'s, written as their words):

- ``orders.parquet``: one row per order, in the order the engine placed them;
- ``memberships.parquet``: joins, mutes and leaves of the private domain;
- ``lapses.parquet``: BG/NBD dropouts (a member who lapses leaves with the lapse: it is
  in this table with ``member`` true, not among the leaves, as in the ledger);
- ``customers.parquet``: one row per brand × consumer with an order in the run.

Days are the run's day index (0 … days − 1). Day-0 members and customers (the scenario's
`initial` funnel) are a starting state, not events, as in the ledger; their purchase before
the run is not an observed order (``customer_at_start`` marks them in the summary).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from enum import IntEnum
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim.vocab import CHANNELS, MEMBER_CHANNELS, PROMPTS, words
from sim.vocab import Source as _SourceEnum


class Kind(IntEnum):
    """What a raw event row records."""

    ORDER = 0
    JOIN = 1
    MUTE = 2
    LEAVE = 3
    LAPSE = 4


# ---- a raw row: WIDTH int32 columns, and a float64 value (an order's price paid, else 0)
KIND, CONSUMER, BRAND, DAY, CHANNEL, SOURCE, PROMPT, FLAGS = range(8)
WIDTH = 8
"""Integers per raw row. CHANNEL: an order's `Channel`, or the member's `MemberChannel`
for a membership event (−1 for a lapse); SOURCE: an order's customer `Source`, a join's
member `Source`, else −1; PROMPT: an order's `Prompt`, else −1; FLAGS: the bits below."""
FIRST, MEMBER, HARVESTED = 1, 2, 4
"""FLAGS bits: an order that is the customer's first (``first_orders`` in the ledger); an
order placed, or a lapse suffered, by a member; a leave because the member felt harvested
(it also drops the brand), as against a muted member who goes."""

SOURCES = words(_SourceEnum)
MEMBERSHIP_KINDS = ("join", "mute", "leave")
FILES = ("orders.parquet", "memberships.parquet", "lapses.parquet", "customers.parquet")
"""The files `EventWriter` writes into its folder."""

TABLES: dict[str, dict[str, str]] = {
    "orders": {
        "consumer": "int32: the consumer's index (0 … consumers − 1)",
        "brand": "dictionary: the brand's name",
        "category": "dictionary: the brand's category",
        "day": "int32: the day of the order (0 … days − 1)",
        "channel": "dictionary: where it was placed (platform, private, store)",
        "value": "float64, yuan: the price paid (the order's GMV)",
        "source": "dictionary: the customer's acquisition source (ads, store, referral, "
        "koc, distributor, organic)",
        "prompt": "dictionary: what prompted it (none, trial, guide, push, koc, small_b, employee)",
        "member": "bool: placed by a member of the brand's private domain",
        "first": "bool: the customer's first order (a new or re-acquired customer)",
    },
    "memberships": {
        "consumer": "int32: the consumer's index",
        "brand": "dictionary: the brand's name",
        "day": "int32: the day of the event",
        "kind": "dictionary: join, mute or leave",
        "channel": "dictionary: the member channel (guide, group, mini_program, "
        "official_account) joined, muted or left",
        "source": "dictionary: how a join came about (package_card, store, referral, koc, "
        "distributor); null for a mute or a leave",
        "harvested": "bool: a leave because the member felt harvested (it also drops the "
        "brand); false for a muted member who goes, and for joins and mutes",
    },
    "lapses": {
        "consumer": "int32: the consumer's index",
        "brand": "dictionary: the brand's name",
        "day": "int32: the day of the dropout (the day of the order after which it came)",
        "member": "bool: the customer was a member (the membership ends with the lapse)",
    },
    "customers": {
        "brand": "dictionary: the brand's name",
        "consumer": "int32: the consumer's index",
        "source": "dictionary: acquisition source on the first order in the run",
        "first_channel": "dictionary: channel of the first order in the run",
        "first_day": "int32: day of the first order in the run",
        "frequency": "int32: repeat purchases: days with an order after the first such day "
        "(several orders on one day count once, as CLV libraries count them)",
        "recency": "int32, days: last order day − first order day (0 without repeats)",
        "T": "int32, days: the customer's age at the end of the run, last day − first "
        "order day (days − 1 − first_day)",
        "monetary_value": "float64, yuan: mean value of a repeat day's orders (0 without "
        "repeats), the Gamma-Gamma model's input",
        "orders": "int32: all orders in the run",
        "value": "float64, yuan: their total value",
        "customer_at_start": "bool: a customer at day 0 (bought before the run; that order "
        "is not observed)",
    },
}
"""Every column of every table, with its type and meaning."""


def _dictionary(codes: np.ndarray, names: tuple[str, ...] | list[str]) -> pa.Array:
    """Codes (−1: null) as a dictionary array of their names."""
    codes = np.asarray(codes, dtype=np.int32)
    mask = codes < 0
    return pa.DictionaryArray.from_arrays(
        pa.array(np.where(mask, 0, codes), type=pa.int32(), mask=mask if mask.any() else None),
        pa.array(list(names), type=pa.string()),
    )


class EventWriter:
    """Streams a run's raw event rows into Parquet files in `folder` and writes the
    customer summary at `close`.

    `add(ints, values)` takes rows in the order of the events, whole days at a time; each
    table is written in row groups of at least `row_group` rows, so memory is bounded by
    that and by the per-customer counters (about 40 bytes per consumer and brand).
    """

    def __init__(
        self,
        folder: Path,
        brands: list[str],
        categories: list[str],
        days: int,
        customers_at_start: np.ndarray,
        row_group: int = 1 << 20,
    ):
        self.folder = Path(folder)
        self.brands = list(brands)
        self.categories = sorted(set(categories))
        self.brand_category = np.array([self.categories.index(c) for c in categories])
        self.days = int(days)
        self.row_group = row_group
        nb, n = customers_at_start.shape
        self.n = n
        self.at_start = customers_at_start.astype(bool).copy()
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []
        self._pending_rows = 0
        self._writers: dict[str, pq.ParquetWriter] = {}
        # per brand × consumer: what the summary needs, updated from each batch of orders
        self.first_day = np.full((nb, n), -1, dtype=np.int32)
        self.last_day = np.full((nb, n), -1, dtype=np.int32)
        self.order_days = np.zeros((nb, n), dtype=np.int32)
        self.orders = np.zeros((nb, n), dtype=np.int32)
        self.value = np.zeros((nb, n))
        self.first_value = np.zeros((nb, n))
        self.first_source = np.zeros((nb, n), dtype=np.int8)
        self.first_channel = np.zeros((nb, n), dtype=np.int8)

    # ------------------------------------------------------------------ taking rows
    def add(self, ints: np.ndarray, values: np.ndarray) -> None:
        """Rows of whole days, in event order: counted into the summary at once, written
        to the tables when a row group's worth has gathered."""
        if len(values) == 0:
            return
        ints = np.ascontiguousarray(ints, dtype=np.int32).reshape(-1, WIDTH)
        values = np.asarray(values, dtype=np.float64)
        self._count_orders(ints, values)
        self._pending.append((ints.copy(), values.copy()))
        self._pending_rows += len(values)
        if self._pending_rows >= self.row_group:
            self._flush()

    def _count_orders(self, ints: np.ndarray, values: np.ndarray) -> None:
        is_order = ints[:, KIND] == Kind.ORDER
        if not is_order.any():
            return
        o = ints[is_order]
        v = values[is_order]
        key = o[:, BRAND].astype(np.int64) * self.n + o[:, CONSUMER]
        day = o[:, DAY].astype(np.int64)
        first_day, last_day = self.first_day.reshape(-1), self.last_day.reshape(-1)
        keys, first_at, inverse = np.unique(key, return_index=True, return_inverse=True)
        self.orders.reshape(-1)[keys] += np.bincount(inverse).astype(np.int32)
        self.value.reshape(-1)[keys] += np.bincount(inverse, weights=v)
        new = first_day[keys] < 0  # first order in the run: rows are in event order
        at = first_at[new]
        first_day[keys[new]] = day[at]
        self.first_source.reshape(-1)[keys[new]] = o[at, SOURCE]
        self.first_channel.reshape(-1)[keys[new]] = o[at, CHANNEL]
        on_first = day == first_day[key]
        self.first_value.reshape(-1)[keys] += np.bincount(
            inverse, weights=np.where(on_first, v, 0.0), minlength=keys.size
        )
        span = self.days + 1
        key_days = np.unique(key * span + day)  # distinct (customer, day)
        k, d = key_days // span, key_days % span
        fresh = d != last_day[k]  # a day not already counted in an earlier batch
        np.add.at(self.order_days.reshape(-1), k[fresh], 1)
        np.maximum.at(last_day, k, d.astype(np.int32))

    # ------------------------------------------------------------------ writing
    def _write(self, name: str, table: pa.Table) -> None:
        if table.num_rows == 0 and name in self._writers:
            return
        writer = self._writers.get(name)
        if writer is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            writer = pq.ParquetWriter(
                self.folder / f"{name}.parquet", table.schema, compression="zstd"
            )
            self._writers[name] = writer
        writer.write_table(table, row_group_size=max(table.num_rows, 1))

    def _flush(self, final: bool = False) -> None:
        if self._pending:
            ints = np.concatenate([p[0] for p in self._pending])
            values = np.concatenate([p[1] for p in self._pending])
        else:
            ints, values = np.zeros((0, WIDTH), dtype=np.int32), np.zeros(0)
        self._pending, self._pending_rows = [], 0
        if len(values) or final:
            for name, table in self._tables(ints, values).items():
                self._write(name, table)

    def _tables(self, ints: np.ndarray, values: np.ndarray) -> dict[str, pa.Table]:
        kind = ints[:, KIND]
        out = {}
        rows = ints[kind == Kind.ORDER]
        brand = rows[:, BRAND]
        out["orders"] = pa.table(
            {
                "consumer": pa.array(rows[:, CONSUMER], type=pa.int32()),
                "brand": _dictionary(brand, self.brands),
                "category": _dictionary(self.brand_category[brand], self.categories),
                "day": pa.array(rows[:, DAY], type=pa.int32()),
                "channel": _dictionary(rows[:, CHANNEL], CHANNELS),
                "value": pa.array(values[kind == Kind.ORDER], type=pa.float64()),
                "source": _dictionary(rows[:, SOURCE], SOURCES),
                "prompt": _dictionary(rows[:, PROMPT], PROMPTS),
                "member": pa.array((rows[:, FLAGS] & MEMBER) != 0),
                "first": pa.array((rows[:, FLAGS] & FIRST) != 0),
            }
        )
        is_m = (kind == Kind.JOIN) | (kind == Kind.MUTE) | (kind == Kind.LEAVE)
        rows = ints[is_m]
        out["memberships"] = pa.table(
            {
                "consumer": pa.array(rows[:, CONSUMER], type=pa.int32()),
                "brand": _dictionary(rows[:, BRAND], self.brands),
                "day": pa.array(rows[:, DAY], type=pa.int32()),
                "kind": _dictionary(rows[:, KIND] - Kind.JOIN, MEMBERSHIP_KINDS),
                "channel": _dictionary(rows[:, CHANNEL], MEMBER_CHANNELS),
                "source": _dictionary(rows[:, SOURCE], SOURCES),
                "harvested": pa.array((rows[:, FLAGS] & HARVESTED) != 0),
            }
        )
        rows = ints[kind == Kind.LAPSE]
        out["lapses"] = pa.table(
            {
                "consumer": pa.array(rows[:, CONSUMER], type=pa.int32()),
                "brand": _dictionary(rows[:, BRAND], self.brands),
                "day": pa.array(rows[:, DAY], type=pa.int32()),
                "member": pa.array((rows[:, FLAGS] & MEMBER) != 0),
            }
        )
        return out

    def customers(self) -> pa.Table:
        """The per-customer summary (`TABLES["customers"]`), brand by brand, consumers in
        index order."""
        b, i = np.nonzero(self.orders > 0)
        first = self.first_day[b, i]
        frequency = self.order_days[b, i] - 1
        repeat_value = self.value[b, i] - self.first_value[b, i]
        with np.errstate(invalid="ignore", divide="ignore"):
            monetary = np.where(frequency > 0, repeat_value / np.maximum(frequency, 1), 0.0)
        return pa.table(
            {
                "brand": _dictionary(b, self.brands),
                "consumer": pa.array(i.astype(np.int32), type=pa.int32()),
                "source": _dictionary(self.first_source[b, i], SOURCES),
                "first_channel": _dictionary(self.first_channel[b, i], CHANNELS),
                "first_day": pa.array(first, type=pa.int32()),
                "frequency": pa.array(frequency.astype(np.int32), type=pa.int32()),
                "recency": pa.array((self.last_day[b, i] - first).astype(np.int32)),
                "T": pa.array((self.days - 1 - first).astype(np.int32)),
                "monetary_value": pa.array(monetary, type=pa.float64()),
                "orders": pa.array(self.orders[b, i], type=pa.int32()),
                "value": pa.array(self.value[b, i], type=pa.float64()),
                "customer_at_start": pa.array(self.at_start[b, i]),
            }
        )

    def close(self) -> None:
        """Write what is pending and the customer summary; close the files."""
        self._flush(final=True)
        self._write("customers", self.customers())
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def abort(self) -> None:
        """Close the files without finishing them (the caller removes the folder)."""
        for writer in self._writers.values():
            with contextlib.suppress(Exception):  # the folder is being thrown away
                writer.close()
        self._writers = {}


class EventRows:
    """The reference engine's buffer of raw rows: the agents append one tuple per event
    (`note`); the model hands a day's rows to its writer (`take`)."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, ...]] = []
        self.values: list[float] = []

    def note(
        self,
        kind: int,
        consumer: int,
        brand: int,
        day: int,
        channel: int = -1,
        source: int = -1,
        prompt: int = -1,
        flags: int = 0,
        value: float = 0.0,
    ) -> None:
        """One event (the raw row's columns)."""
        self.rows.append((kind, consumer, brand, day, channel, source, prompt, flags))
        self.values.append(value)

    def take(self) -> tuple[np.ndarray, np.ndarray]:
        """The rows noted since the last call, as (ints [k, WIDTH], values [k])."""
        ints = np.array(self.rows, dtype=np.int32).reshape(-1, WIDTH)
        values = np.array(self.values, dtype=np.float64)
        self.rows, self.values = [], []
        return ints, values


def order_flags(first: bool, member: bool) -> int:
    """The FLAGS of an order."""
    return (FIRST if first else 0) | (MEMBER if member else 0)


def open_folder(target: Path) -> Path:
    """A fresh temporary sibling of `target` to write the event files into; `finish`
    moves it into place. Refuses a `target` that is a file or a non-empty folder without
    event files (so nothing of the user's is ever replaced)."""
    target = Path(target)
    if target.exists() and (
        not target.is_dir() or any(p.name not in FILES for p in target.iterdir())
    ):
        raise FileExistsError(f"{target} exists and is not a folder of event files")
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))


def finish(tmp: Path, target: Path) -> Path:
    """Move the finished folder `tmp` to `target` (replacing earlier event files there)."""
    target = Path(target)
    if target.exists():
        shutil.rmtree(target)
    os.replace(tmp, target)
    return target
