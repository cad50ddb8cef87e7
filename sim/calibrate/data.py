"""A brand's own data: the schema, its loaders and the per-customer summary models take.

The order log is the one table calibration needs: one row per order with the columns

| column | type | meaning |
|---|---|---|
| `customer` | text | customer id (any text; the same customer keeps the same id) |
| `date` | date | day of the order (ISO `YYYY-MM-DD`, or `YYYYMMDD`) |
| `value` | number ≥ 0 | order value in the brand's currency |
| `channel` | text | where it was placed (e.g. platform, private, store) |
| `source` | text, optional | how the customer was acquired (ads, referral, ...) |

Optional tables (same rules): member events (`customer`, `date`, `event` in join/mute/leave,
`channel`), daily ad spend (`date`, `spend` ≥ 0, optional `impressions` ≥ 0) and daily
store traffic (`date`, `visits` ≥ 0). Files are CSV or Parquet (by the suffix, or as
asked); the CDNOW text file of Fader, Hardie & Lee (2005) is read by `read_cdnow` into the
same order-log schema. Every problem raises one `DataError` whose text is one line,
`FILE: column X: message` or `FILE: row N, column X: message` (N counts data rows from 1,
the CSV header not counted).

Orders on the same day by the same customer are one transaction for the models (their
values add up): the buy-till-you-die models count purchase occasions, as Fader, Hardie &
Lee (2005) do on CDNOW.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
CDNOW_SAMPLE = ROOT / "data" / "cdnow" / "CDNOW_sample.txt"
"""The CDNOW 1/10th sample (2,357 customers, 1997-01-01 to 1998-06-30), read from the
repository checkout (data/cdnow/README.md gives its source and citation)."""

FORMATS = ("csv", "parquet", "cdnow")


class DataError(Exception):
    """A bad data file: `str(err)` is the one line shown to the user."""


@dataclass(frozen=True)
class Column:
    """One column of a table: its name, kind (text, date, number, count, choice), whether
    it must be there, and the values a choice column allows."""

    name: str
    kind: str
    required: bool = True
    choices: tuple[str, ...] = ()


ORDERS: tuple[Column, ...] = (
    Column("customer", "text"),
    Column("date", "date"),
    Column("value", "number"),
    Column("channel", "text"),
    Column("source", "text", required=False),
)
MEMBER_EVENTS: tuple[Column, ...] = (
    Column("customer", "text"),
    Column("date", "date"),
    Column("event", "choice", choices=("join", "mute", "leave")),
    Column("channel", "text"),
)
AD_SPEND: tuple[Column, ...] = (
    Column("date", "date"),
    Column("spend", "number"),
    Column("impressions", "number", required=False),
)
STORE_TRAFFIC: tuple[Column, ...] = (Column("date", "date"), Column("visits", "number"))


def _where(path: Path, column: str, row: int | None = None) -> str:
    return f"{path}: row {row}, column {column}" if row is not None else f"{path}: column {column}"


def read_table(path: str | Path, fmt: str | None = None) -> pd.DataFrame:
    """A CSV or Parquet file as a frame of its raw columns (CSV cells as text)."""
    path = Path(path)
    fmt = fmt or ("parquet" if path.suffix.lower() in (".parquet", ".pq") else "csv")
    if fmt not in ("csv", "parquet"):
        raise DataError(f"{path}: unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    if not path.is_file():
        raise DataError(f"{path}: " + ("a folder, not a file" if path.is_dir() else "no such file"))
    try:
        if fmt == "parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise DataError(f"{path}: cannot read as {fmt}: {reason}") from None


def _dates(path: Path, name: str, col: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(col):
        out = pd.to_datetime(col)
    else:
        text = col.astype(str).str.strip()
        compact = text.str.fullmatch(r"\d{8}")
        out = pd.Series(pd.NaT, index=col.index, dtype="datetime64[ns]")
        out[compact] = pd.to_datetime(text[compact], format="%Y%m%d", errors="coerce")
        out[~compact] = pd.to_datetime(text[~compact], format="ISO8601", errors="coerce")
    bad = out.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"{_where(path, name, i + 1)}: not a date: {col.iloc[i]!r}")
    return out.dt.normalize()


def _numbers(path: Path, name: str, col: pd.Series) -> pd.Series:
    out = pd.to_numeric(col, errors="coerce").astype(float)
    bad = ~np.isfinite(out.to_numpy())
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(f"{_where(path, name, i + 1)}: not a number: {col.iloc[i]!r}")
    neg = out.to_numpy() < 0
    if neg.any():
        i = int(np.flatnonzero(neg)[0])
        raise DataError(f"{_where(path, name, i + 1)}: negative value {out.iloc[i]:g}")
    return out


def validate(frame: pd.DataFrame, schema: tuple[Column, ...], path: str | Path) -> pd.DataFrame:
    """The table with its columns checked and typed (dates parsed, numbers ≥ 0, text
    without blanks); unknown columns are dropped, a missing optional text column is empty."""
    path = Path(path)
    frame = frame.rename(columns=lambda c: str(c).strip().lower())
    if frame.empty:
        raise DataError(f"{path}: no rows")
    out: dict[str, pd.Series] = {}
    for c in schema:
        if c.name not in frame.columns:
            if c.required:
                have = ", ".join(map(str, frame.columns)) or "none"
                raise DataError(f"{_where(path, c.name)}: missing (columns found: {have})")
            continue
        col = frame[c.name].reset_index(drop=True)
        if c.kind == "date":
            out[c.name] = _dates(path, c.name, col)
        elif c.kind == "number":
            out[c.name] = _numbers(path, c.name, col)
        else:
            text = col.astype(str).str.strip()
            blank = (text == "") | col.isna()
            if blank.any() and c.required:
                i = int(np.flatnonzero(blank.to_numpy())[0])
                raise DataError(f"{_where(path, c.name, i + 1)}: empty")
            if c.choices:
                wrong = ~text.isin(c.choices)
                if wrong.any():
                    i = int(np.flatnonzero(wrong.to_numpy())[0])
                    raise DataError(
                        f"{_where(path, c.name, i + 1)}: {text.iloc[i]!r} is not one of "
                        f"{', '.join(c.choices)}"
                    )
            out[c.name] = text
    return pd.DataFrame(out)


def read_cdnow(path: str | Path = CDNOW_SAMPLE) -> pd.DataFrame:
    """The CDNOW text format (whitespace-separated: customer id, id in the master file,
    date YYYYMMDD, number of CDs, dollar value) as an order log; channel "online"."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        raw = pd.read_csv(
            path,
            sep=r"\s+",
            header=None,
            dtype=str,
            names=["customer", "master", "date", "cds", "value"],
        )
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise DataError(
            f"{path}: cannot read as cdnow: {' '.join(str(exc).split())[:200]}"
        ) from None
    if raw["value"].isna().any():
        i = int(np.flatnonzero(raw["value"].isna().to_numpy())[0])
        raise DataError(f"{path}: row {i + 1}: expected 5 columns (id, id, date, CDs, dollars)")
    raw["channel"] = "online"
    return validate(raw, ORDERS, path)


def load_orders(path: str | Path, fmt: str | None = None) -> pd.DataFrame:
    """An order log (see the module's schema), validated, from CSV, Parquet or CDNOW text."""
    if fmt == "cdnow":
        return read_cdnow(path)
    return validate(read_table(path, fmt), ORDERS, path)


def load_member_events(path: str | Path, fmt: str | None = None) -> pd.DataFrame:
    """Member events (join, mute, leave by channel), validated."""
    return validate(read_table(path, fmt), MEMBER_EVENTS, path)


def load_ad_spend(path: str | Path, fmt: str | None = None) -> pd.DataFrame:
    """Daily ad spend (and impressions), validated."""
    return validate(read_table(path, fmt), AD_SPEND, path)


def load_store_traffic(path: str | Path, fmt: str | None = None) -> pd.DataFrame:
    """Daily store visits, validated."""
    return validate(read_table(path, fmt), STORE_TRAFFIC, path)


def transactions(orders: pd.DataFrame) -> pd.DataFrame:
    """Purchase occasions: one row per customer and day (values summed), sorted."""
    out = orders.groupby(["customer", "date"], as_index=False, sort=True)["value"].sum()
    return out.sort_values(["customer", "date"], kind="stable").reset_index(drop=True)


def calibration_end(orders: pd.DataFrame, text: str, unit_days: int = 7) -> pd.Timestamp:
    """The last day of the calibration period from `--calibration-end`: a date, or a whole
    number of periods (weeks by default) counted from the first order's day (39 on CDNOW
    is 1997-09-30, the end of Fader, Hardie & Lee's week 39)."""
    text = str(text).strip()
    start = orders["date"].min()
    if text.isdigit():
        periods = int(text)
        if periods <= 0:
            raise ValueError(f"--calibration-end: {text}: must be at least 1 period")
        try:
            return start + pd.Timedelta(days=periods * unit_days - 1)
        except (OverflowError, ValueError):
            raise ValueError(f"--calibration-end: {text}: too many periods") from None
    try:
        day = pd.Timestamp(text).normalize()
    except ValueError:
        raise ValueError(f"--calibration-end: {text!r}: not a date or a number of weeks") from None
    return day


@dataclass(frozen=True)
class Summary:
    """Per-customer summary of a calibration period (times in periods of `unit_days`):
    x repeat transactions, t_x the time of the last one since the first, T the time from the
    first to the period's end, m the mean value of the repeat transactions (NaN if none),
    first the first day, and holdout the transactions after the period (up to `holdout_end`)."""

    customer: np.ndarray
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    m: np.ndarray
    first: np.ndarray
    holdout: np.ndarray
    start: pd.Timestamp
    end: pd.Timestamp
    holdout_end: pd.Timestamp
    unit_days: int

    @property
    def holdout_length(self) -> float:
        """Length of the holdout period in periods."""
        return (self.holdout_end - self.end).days / self.unit_days


def summarise(orders: pd.DataFrame, end: pd.Timestamp, unit_days: int = 7) -> Summary:
    """The per-customer summary of customers whose first order falls on or before `end`
    (the cohort the models describe); later orders make up the holdout counts."""
    tx = transactions(orders)
    first = tx.groupby("customer")["date"].transform("min")
    tx = tx[first <= end].assign(first=first[first <= end])
    if tx.empty:
        raise ValueError(f"--calibration-end: {end.date()}: before the first order")
    cal = tx[tx["date"] <= end]
    g = cal.groupby("customer", sort=True)
    n = g.size()
    last = g["date"].max()
    first_day = g["date"].min()
    total = g["value"].sum()
    first_value = g["value"].first()
    x = (n - 1).to_numpy(float)
    repeat_value = (total - first_value).to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.where(x > 0, repeat_value / np.maximum(x, 1), np.nan)
    hold = tx[tx["date"] > end].groupby("customer").size().reindex(n.index, fill_value=0)
    return Summary(
        customer=n.index.to_numpy(),
        x=x,
        t_x=((last - first_day).dt.days / unit_days).to_numpy(float),
        T=((end - first_day).dt.days / unit_days).to_numpy(float),
        m=m,
        first=first_day.to_numpy(),
        holdout=hold.to_numpy(float),
        start=tx["date"].min(),
        end=end,
        holdout_end=max(tx["date"].max(), end),
        unit_days=unit_days,
    )
