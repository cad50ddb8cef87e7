"""The live model behind the app's first page, without UI: build a market at a classroom
size on either engine (the fast one by default, so a room of 30 fits on one server), change
levers while it runs, lay out the network, compute what a screen shows, draw the plots; and
the sessions that hold a market between page loads, step it while it plays and share one
view of it among every screen that shows it.

Everything here reads the market through the engine protocol (`sim.protocol.Engine`):
population arrays for the picture, snapshots for tooltips, guides and distributors,
`set_strategy` for a lever, the ledger's array for the KPIs (`sim.kpis.flow_kpis` and
`stock_kpis`, the definitions every report uses). The layout and every draw use Generators
derived from the run's seed; nothing here touches global random state.

What a screen is sent is kept small: the consumers' positions and the network's edges once
per market (at most `DRAW_LIMIT` consumers drawn), then per tick one character per drawn
consumer for its state and one for its ring, the KPI panel, and the plots only when a
30-day window completes (the plots show complete windows only).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from sim.counterfactual import twin as twin_scenario
from sim.kpis import flow_kpis, stock_kpis
from sim.ledger import COLUMNS
from sim.params import RewardTier, Scenario
from sim.present.figures import CHANNEL_COLORS, STOCK_COLORS
from sim.protocol import Engine, build_engine
from sim.scaling import scale_market
from sim.scenario import load_scenario
from sim.vocab import MEMBER_CHANNELS, STATE_NAMES

CLASSROOM_CONSUMERS = 600
"""Consumers on the live page by default: big enough to show the dynamics, small enough
to draw every consumer and step a week in a blink."""
LIVE_DAYS = 3650
"""Horizon of the live ledger (the page can play up to ten years)."""
STATE_COLORS = tuple(STOCK_COLORS[name] for name in STATE_NAMES)
"""Each funnel state's colour (in `sim.vocab.State` order), as in the reports' figures."""
STATE_LABELS = ("unaware", "aware", "customer", "member", "lapsed")
GUIDED_RING = CHANNEL_COLORS["private"]
"""The ring of a member served by a guide: the private channel's colour."""
SVG_SIZE = 360
"""The network drawing's side in pixels (it fits a 1280x720 screen beside the plots)."""
DRAW_LIMIT = 1500
"""Most consumers drawn on the network (an evenly spaced sample above it): what a screen
is sent per tick grows with the consumers drawn, not with the market."""
LIVE_ENGINE = "fast"
"""The live page's engine unless chosen (`siyu app --engine`, or the page's selector)."""
WINDOW = 30
"""days: the plots' window; only complete windows are drawn."""
DAYS_PER_TICK = 7
"""days stepped per tick while a market plays (and per press of Step)."""
TICK_S = 0.5
"""seconds between a playing market's ticks at most: two simulated weeks a second when the
server keeps up, at least one week a second for 30 markets on one server (the load test)."""
TWIN = "no_private_ops"
"""The counterfactual the live page's incremental contribution is measured against: a twin
market stepped alongside on the same seed with private operations off for every brand."""

LEVERS = (
    "ad_budget_per_day",
    "guides_per_store",
    "guide_regime",
    "selling_share",
    "broadcasts_per_week",
    "private_discount",
    "referral_reward",
    "koc_count",
    "channel_policy",
)


def live_scenario(name: str, consumers: int | None = None, category: str | None = None) -> Scenario:
    """The scenario at classroom size (and with every brand in `category` if given): the
    same market per consumer as the file (`sim.scaling.scale_market`: stores, visits,
    budgets and nodes follow the population), so the class sees the scenario it chose."""
    base = load_scenario(name)
    overrides: dict[str, Any] = {"run.days": LIVE_DAYS}
    if category:
        for b in base.brands:
            overrides[f"brands.{b}.category"] = category
    scenario = load_scenario(name, overrides)
    size = consumers or min(base.run.consumers, CLASSROOM_CONSUMERS)
    return scale_market(scenario, size)[0]


@dataclass
class Live:
    """A running market on the live page, on the named engine, with its counterfactual twin
    (`TWIN`: private operations off) stepped alongside on the same seed when `twin` is on."""

    scenario: Scenario
    seed: int
    engine: str = LIVE_ENGINE
    twin: bool = True
    model: Engine = field(init=False)
    twin_model: Engine | None = field(init=False, default=None)
    layout: np.ndarray = field(init=False)
    drawn: np.ndarray = field(init=False)
    edges: str = ""

    def __post_init__(self) -> None:
        from sim.runner import run_rng

        self.model = build_engine(self.engine, self.scenario, run_rng(self.seed))
        if self.twin:
            other = twin_scenario(self.scenario, TWIN)
            self.twin_model = build_engine(self.engine, other, run_rng(self.seed))
        self.layout = network_layout(self.model, self.seed)
        self.drawn = drawn_consumers(self.model.n_consumers)
        self.edges = edge_path(self.model, self.layout, self.drawn)

    @property
    def day(self) -> int:
        return self.model.today

    def step(self, days: int = DAYS_PER_TICK) -> None:
        for _ in range(min(days, self.model.days - self.model.today)):
            self.model.step()
            if self.twin_model is not None:
                self.twin_model.step()

    def levers(self, b: int) -> dict[str, Any]:
        st = self.model.strategy(b)
        tiers = st.referral_tiers
        return {
            "ad_budget_per_day": st.ad_budget_per_day,
            "guides_per_store": st.guides_per_store,
            "guide_regime": st.guide_regime,
            "selling_share": st.content_mix.selling,
            "broadcasts_per_week": st.broadcasts_per_week,
            "private_discount": st.private_discount,
            "referral_reward": tiers[0].reward if tiers else 0.0,
            "koc_count": st.koc_count,
            "channel_policy": st.channel_policy,
            "private_ops": st.private_ops,
        }

    def set_lever(self, b: int, name: str, value: Any) -> None:
        """Change one lever of brand b from today on (re-staffs only for staff levers); the
        twin takes the same strategy with private operations off, so the two markets differ
        only in what the twin switches off."""
        st = self.model.strategy(b)
        if name == "selling_share":
            rest = 1.0 - float(value)
            other = st.content_mix.content + st.content_mix.service
            content = rest * (st.content_mix.content / other if other > 0 else 0.7)
            update = {
                "content_mix": {"content": content, "service": rest - content, "selling": value}
            }
        elif name == "referral_reward":
            tiers = [RewardTier(referrals=t.referrals, reward=t.reward) for t in st.referral_tiers]
            if value <= 0:
                tiers = []
            elif tiers:
                scale = value / tiers[0].reward if tiers[0].reward > 0 else 1.0
                tiers = [RewardTier(referrals=t.referrals, reward=t.reward * scale) for t in tiers]
            else:
                tiers = [RewardTier(referrals=1, reward=value)]
            update = {"referral_tiers": tiers}
        elif name == "koc_count":
            update = {"koc_count": int(value)}
        else:
            update = {name: value}
        data = st.model_dump()
        data.update(update)
        if name != "private_ops" and name not in ("ad_budget_per_day", "channel_policy"):
            data["private_ops"] = True
        new = type(st).model_validate(data)
        self.model.set_strategy(b, new)
        if self.twin_model is not None:
            self.twin_model.set_strategy(b, new.model_copy(update={"private_ops": False}))


def drawn_consumers(n: int, limit: int = DRAW_LIMIT) -> np.ndarray:
    """The consumers the network drawing shows: all of them up to `limit`, else `limit`
    evenly spaced ones (the same every tick, so a screen is sent their positions once)."""
    if n <= limit:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, limit).round().astype(np.int64))


def network_layout(model: Engine, seed: int, iterations: int = 50) -> np.ndarray:
    """Positions (n x 2, in SVG pixels): a Fruchterman-Reingold spring layout (numpy, dense:
    classroom sizes) from random starting points drawn from a Generator of the run's seed;
    a circle beyond 2,000 consumers."""
    net = model.network
    n = net.n
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5E7]))
    if n > 2000 or net.mixing:
        angle = rng.permutation(n) * 2 * np.pi / n
        xy = np.column_stack([np.cos(angle), np.sin(angle)])
    else:
        src = np.repeat(np.arange(n), net.degree())
        dst = net.indices
        xy = rng.random((n, 2))
        k = 1.0 / np.sqrt(n)
        step = 0.1
        for _ in range(iterations):
            dx = xy[:, 0, None] - xy[None, :, 0]
            dy = xy[:, 1, None] - xy[None, :, 1]
            inv = (k * k) / (dx * dx + dy * dy + 1e-9)
            disp = np.column_stack([(dx * inv).sum(axis=1), (dy * inv).sum(axis=1)])
            d = xy[src] - xy[dst]
            length = np.sqrt((d**2).sum(axis=1)) + 1e-9
            np.add.at(disp, src, -d * (length / k)[:, None] / 2)
            norm = np.sqrt((disp**2).sum(axis=1)) + 1e-9
            xy = xy + disp / norm[:, None] * np.minimum(norm, step)[:, None]
            step *= 0.95
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    return 12 + (xy - lo) / span * (SVG_SIZE - 24)


def edge_path(model: Engine, xy: np.ndarray, drawn: np.ndarray, limit: int = 4000) -> str:
    """The network's edges among the drawn consumers as one SVG path (at most `limit`)."""
    net = model.network
    if net.mixing:
        return ""
    shown = np.zeros(net.n, dtype=bool)
    shown[drawn] = True
    src = np.repeat(np.arange(net.n), net.degree())
    keep = (src < net.indices) & shown[src] & shown[net.indices]
    a, b = src[keep][:limit], net.indices[keep][:limit]
    return " ".join(
        f"M{xy[i, 0]:.0f} {xy[i, 1]:.0f}L{xy[j, 0]:.0f} {xy[j, 1]:.0f}"
        for i, j in zip(a.tolist(), b.tolist(), strict=True)
    )


def koc_centres(model: Engine, b: int) -> list[int]:
    """The consumers who act as the brand's KOCs, small-B nodes and employee distributors."""
    return [d.centre for d in model.brand_snapshot(b).distributors]


def consumer_text(model: Engine, i: int) -> str:
    """One consumer's state towards every brand (what hovering or clicking shows);
    engagement faded to today."""
    c = model.consumer_snapshot(i)
    parts = [f"consumer {i}: {c.friends} friends"]
    if c.hunter:
        parts.append("coupon hunter")
    for name, cb in zip(model.brand_names, c.brands, strict=True):
        text = f"{name}: {STATE_LABELS[cb.state]}, {cb.purchases} purchases"
        m = cb.membership
        if m is not None:
            text += f", member via {MEMBER_CHANNELS[m.channel]}" + (" (muted)" if m.muted else "")
            text += f", engagement {m.engagement:.2f}"
        parts.append(text)
    return "; ".join(parts)


def network_static(live: Live) -> dict[str, Any]:
    """What a screen is sent once per market: the drawn consumers' numbers and positions
    (SVG pixels) and the edges among them."""
    xy = live.layout[live.drawn]
    return {
        "ids": live.drawn.tolist(),
        "xy": [[round(float(x), 1), round(float(y), 1)] for x, y in xy],
        "edges": live.edges,
    }


def network_view(live: Live, b: int) -> dict[str, Any]:
    """What a screen is sent per tick for the network: each drawn consumer's state towards
    brand b as one digit (`sim.vocab.State`), its ring as one digit (0 none, 1 a member
    served by a guide, 2 a KOC or node), and the guides (black diamonds at the centre of
    their members, with a tooltip)."""
    model = live.model
    drawn = live.drawn
    states = model.states(b)[drawn]
    rings = (model.member_guides(b)[drawn] >= 0).astype(np.int8)
    brand = model.brand_snapshot(b)
    kocs = np.isin(drawn, [d.centre for d in brand.distributors])
    rings[kocs] = 2
    guides = []
    for k, g in enumerate(brand.guides):
        idx = list(g.members)
        centre = live.layout[idx].mean(axis=0) if idx else np.array([14.0 + 16 * k, 14.0])
        guides.append(
            {
                "k": k,
                "x": round(float(centre[0]), 1),
                "y": round(float(centre[1]), 1),
                "t": f"guide {k + 1} (store {g.store + 1}): {len(idx)} members",
            }
        )
    return {
        "states": "".join(map(str, states.tolist())),
        "rings": "".join(map(str, rings.tolist())),
        "guides": guides,
    }


def brand_totals(model: Engine, b: int) -> tuple[dict[str, float], dict[str, float]] | None:
    """Brand b's flows summed over the days stepped and its stocks at the last one, read
    from the ledger's array (None before the first day): what `sim.kpis.flow_kpis` and
    `stock_kpis` take (a mapping by column, here plain floats: a tick's KPIs in a few
    milliseconds)."""
    day = model.today
    if day == 0:
        return None
    rows = model.ledger.array[:day, :, b]
    return row_dict(rows.sum(axis=0)), row_dict(rows[-1])


def row_dict(values: np.ndarray) -> dict[str, float]:
    return dict(zip(COLUMNS, values.tolist(), strict=True))


def windows(model: Engine, b: int, window: int = WINDOW) -> list[dict[str, Any]]:
    """Brand b's complete windows: each one's last day, its KPIs (`sim.kpis.flow_kpis` of
    its summed flows, as `sim.kpis.periodic` computes them) and its stocks at its last day."""
    days = complete_days(model.today, window)
    cube = model.ledger.array[:days, :, b].reshape(days // window, window, len(COLUMNS))
    out = []
    for k, (flows, last) in enumerate(zip(cube.sum(axis=1), cube[:, -1], strict=True)):
        stocks = {c: v for c, v in row_dict(last).items() if c.startswith("stock_")}
        out.append({"day": (k + 1) * window, **flow_kpis(row_dict(flows)), **stocks})
    return out


def kpi_panel(live: Live, b: int) -> dict[str, Any]:
    """The KPI panel of brand b so far: GMV, contribution, the incremental contribution
    against the twin (`TWIN`), private share, ROI and CAC of private operations, members
    and reachable members. Values are None before the first day (and a ratio without events);
    `incremental` is None without a twin. Cheap: sums over the ledger's array, then the
    reports' own KPI definitions (`sim.kpis.flow_kpis`, `stock_kpis`)."""
    out: dict[str, Any] = {
        "day": live.day,
        "gmv": None,
        "contribution": None,
        "incremental": None,
        "private_share": None,
        "roi_private": None,
        "cac_private": None,
        "members": None,
        "reachable": None,
    }
    totals = brand_totals(live.model, b)
    if totals is None:
        return out
    flows, last = totals
    k = {**flow_kpis(flows), **stock_kpis(last, live.model.n_consumers)}
    out.update({key: k[key] for key in out if key in k})
    if live.twin_model is not None:
        twin_totals = brand_totals(live.twin_model, b)
        if twin_totals is not None:
            out["incremental"] = k["contribution"] - flow_kpis(twin_totals[0])["contribution"]
    return out


def complete_days(day: int, window: int = WINDOW) -> int:
    """The days of complete windows by `day` (the plots draw no partial window)."""
    return day // window * window


PANEL_PX = (290, 236)
"""One plot panel's size in pixels; four of them (2x2) fit beside the network at 1280x720."""
MARGIN = (64, 14, 30, 44)
"""A panel's margins in pixels: left (y labels), right, top (title), bottom (x labels)."""


def nice_ticks(lo: float, hi: float, count: int = 4) -> np.ndarray:
    """Round tick values covering [lo, hi] (matplotlib's MaxNLocator; no drawing)."""
    if not np.isfinite(hi - lo) or hi <= lo:
        hi = lo + 1.0
    ticks = MaxNLocator(count).tick_values(lo, hi)
    return ticks[(ticks >= lo - 1e-9) & (ticks <= hi + 1e-9)]


def svg_panel(
    title: str,
    ylabel: str,
    x: np.ndarray,
    series: list[tuple[str, str, np.ndarray, bool]],
    fmt: Callable[[float], str] | None = None,
    stacked: bool = False,
    ref: float | None = None,
    top: float | None = None,
) -> dict[str, Any]:
    """One panel as SVG pieces a screen draws as they are (pixel coordinates computed
    here): `series` is (label, colour, values, dashed); stacked series fill areas. Values
    that are not finite (a ratio without events) leave a gap."""
    w, h = PANEL_PX
    left, right, upper, lower = MARGIN
    x = np.asarray(x, dtype=float)
    values = [np.asarray(v, dtype=float) for _, _, v, _ in series]
    if stacked:
        values = list(np.cumsum(values, axis=0))
    finite = np.concatenate([v[np.isfinite(v)] for v in values] + [np.zeros(1)])
    lo = min(0.0, float(finite.min()))
    hi = top if top is not None else max(float(finite.max()), ref or 0.0) * 1.08
    yt = nice_ticks(lo, hi)
    lo, hi = min(lo, float(yt[0])), max(hi, float(yt[-1]))
    if fmt is None:  # as many decimals as the tick spacing needs, thousands separated
        spacing = float(yt[1] - yt[0]) if len(yt) > 1 else 1.0
        decimals = max(0, int(np.ceil(-np.log10(spacing) - 1e-9)))

        def fmt(v: float) -> str:
            return f"{v:,.{decimals}f}"

    x_lo, x_hi = float(x.min()), float(max(x.max(), x.min() + 1))

    def px(xv: np.ndarray) -> np.ndarray:
        return left + (xv - x_lo) / (x_hi - x_lo) * (w - left - right)

    def py(yv: np.ndarray) -> np.ndarray:
        return h - lower - (yv - lo) / (hi - lo) * (h - upper - lower)

    def path(xs: np.ndarray, ys: np.ndarray) -> str:
        out, pen = [], "M"
        for a, b in zip(px(xs).tolist(), py(ys).tolist(), strict=True):
            if not np.isfinite(b):
                pen = "M"
                continue
            out.append(f"{pen}{a:.1f} {b:.1f}")
            pen = "L"
        return "".join(out)

    shapes = []
    below = np.zeros_like(x)
    for (_, colour, _, dashed), v in zip(series, values, strict=True):
        if stacked:
            edge = path(x, v)
            back = path(x[::-1], below[::-1]).replace("M", "L", 1)
            shapes.append({"d": edge + back + "Z", "c": colour, "fill": True, "dash": False})
            below = v
        else:
            shapes.append({"d": path(x, v), "c": colour, "fill": False, "dash": dashed})
    xt = nice_ticks(x_lo, x_hi)
    return {
        "title": title,
        "ylabel": ylabel,
        "w": w,
        "h": h,
        "box": [left, upper, w - left - right, h - upper - lower],
        "xticks": [
            {"p": round(float(p), 1), "t": f"{v:,.0f}"} for p, v in zip(px(xt), xt, strict=True)
        ],
        "yticks": [
            {"p": round(float(p), 1), "t": fmt(float(v))} for p, v in zip(py(yt), yt, strict=True)
        ],
        "shapes": shapes,
        "legend": [{"t": label, "c": colour} for label, colour, _, _ in series],
        "ref": None if ref is None else round(float(py(np.array([ref]))[0]), 1),
    }


def percent(v: float) -> str:
    return f"{v:.0%}"


def plot_panels(live: Live, b: int, window: int = WINDOW) -> dict[str, Any]:
    """Brand b's path over complete `window`-day windows, for a projector: funnel stocks
    (% of consumers), GMV by channel (thousand yuan per window), ROI of public and private
    spending (break-even 1), members and reachable members. The reports' colours; no
    partial window (a window's flows are whole, so its last point never "crashes")."""
    model = live.model
    name = model.brand_names[b]
    days = complete_days(model.today, window)
    out: dict[str, Any] = {"brand": name, "days": days, "window": window, "panels": []}
    if days == 0:
        return out
    per = pd.DataFrame(windows(model, b, window)).fillna(np.nan)
    x = per["day"].to_numpy()
    n = model.n_consumers
    order = ("members", "customers", "lapsed", "aware", "unaware")
    roi = (("public", "platform"), ("private", "private"))
    out["panels"] = [
        svg_panel(
            "funnel",
            "% of consumers",
            x,
            [(s, STOCK_COLORS[s], per[f"stock_{s}"].to_numpy() / n, False) for s in order],
            percent,
            stacked=True,
            top=1.0,
        ),
        svg_panel(
            "GMV by channel",
            f"thousand yuan / {window} days",
            x,
            [
                (ch, c, per[f"gmv_{ch}"].to_numpy() / 1000, False)
                for ch, c in CHANNEL_COLORS.items()
            ],
        ),
        svg_panel(
            "ROI (break-even 1)",
            "gross profit per yuan",
            x,
            [(k, CHANNEL_COLORS[ch], per[f"roi_{k}"].to_numpy(), False) for k, ch in roi],
            ref=1.0,
        ),
        svg_panel(
            "private domain",
            "consumers",
            x,
            [
                ("members", STOCK_COLORS["members"], per["stock_members"].to_numpy(), False),
                ("reachable", CHANNEL_COLORS["private"], per["stock_reachable"].to_numpy(), True),
            ],
        ),
    ]
    return out


# ------------------------------------------------------------------------ sessions
class Session:
    """One market held between page loads and shared by every screen that shows it: it
    steps while it plays (on its own thread, not a page's), takes levers, and computes each
    view once per tick for all its screens (the plots once per complete window)."""

    def __init__(self, sid: str, live: Live):
        self.id = sid
        self.lock = threading.RLock()
        self.live = live
        self.brand = 0
        self.settings: dict[str, Any] = {}
        """The page's choices that built this market (scenario, category, seed, engine)."""
        self.version = 0
        """Bumped by every change a screen must redraw for."""
        self.playing = False
        self.touched = time.monotonic()
        self._thread: threading.Thread | None = None
        self._views: dict[tuple, Any] = {}

    def changed(self) -> None:
        self.version += 1

    def replace(self, live: Live) -> None:
        """A new market (reset, another scenario, seed or engine): stops playing."""
        with self.lock:
            self.playing = False
            self.live = live
            self.brand = min(self.brand, len(live.model.brand_names) - 1)
            self._views.clear()
            self.changed()

    def step(self, days: int = DAYS_PER_TICK) -> None:
        with self.lock:
            self.live.step(days)
            self.changed()

    def set_lever(self, name: str, value: Any) -> None:
        with self.lock:
            self.live.set_lever(self.brand, name, value)
            self.changed()

    def show_brand(self, b: int) -> None:
        with self.lock:
            self.brand = b
            self.changed()

    def play(self, on: bool = True) -> None:
        """Start or stop playing: a tick of `DAYS_PER_TICK` days every `TICK_S` seconds."""
        with self.lock:
            self.playing = on
            if on and (self._thread is None or not self._thread.is_alive()):
                self._thread = threading.Thread(target=self._play, daemon=True)
                self._thread.start()
            self.changed()

    def _play(self) -> None:
        while self.playing:
            start = time.monotonic()
            with self.lock:
                if not self.playing:
                    break
                live = self.live
                if live.day >= live.model.days:
                    self.playing = False
                else:
                    live.step(DAYS_PER_TICK)
                self.changed()
            time.sleep(max(0.0, TICK_S - (time.monotonic() - start)))

    def _cached(self, key: tuple, make: Callable[[], Any]) -> Any:
        with self.lock:
            if key not in self._views:
                if len(self._views) > 16:
                    self._views.clear()
                self._views[key] = make()
            return self._views[key]

    def view(self) -> dict[str, Any]:
        """What every screen of this market draws now: day, brand, levers, KPI panel and
        network state (computed once per version for all screens)."""
        with self.lock:
            live, b = self.live, self.brand
            return self._cached(
                ("view", id(live), self.version),
                lambda: {
                    "version": self.version,
                    "day": live.day,
                    "brand": b,
                    "playing": self.playing,
                    "levers": live.levers(b),
                    "kpis": kpi_panel(live, b),
                    "network": network_view(live, b),
                },
            )

    def static(self) -> dict[str, Any]:
        with self.lock:
            live = self.live
            return self._cached(("static", id(live)), lambda: network_static(live))

    def plots(self) -> dict[str, Any]:
        """The plots (computed again only when a window completes or the brand changes)."""
        with self.lock:
            live, b = self.live, self.brand
            days = complete_days(live.day)
            return self._cached(("plots", id(live), b, days), lambda: plot_panels(live, b))


class Sessions:
    """The server's markets by session id (kept in the page's address, so a reload finds
    its market). At most `limit`: a new one drops the one used longest ago."""

    def __init__(self, limit: int = 64):
        self.limit = limit
        self._by_id: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, sid: str | None) -> Session | None:
        with self._lock:
            s = self._by_id.get(sid or "")
            if s is not None:
                self._by_id.move_to_end(s.id)
                s.touched = time.monotonic()
            return s

    def open(self, sid: str | None, make: Callable[[], Live]) -> Session:
        """The session `sid`, or a new one (under `sid`, or a new random id) with `make()`."""
        found = self.get(sid)
        if found is not None:
            return found
        session = Session(sid or new_id(), make())
        with self._lock:
            found = self._by_id.setdefault(session.id, session)
            while len(self._by_id) > self.limit:
                _, old = self._by_id.popitem(last=False)
                old.playing = False
        return found

    def __len__(self) -> int:
        return len(self._by_id)


def new_id() -> str:
    """A new session id: unguessable, short enough for an address bar."""
    return secrets.token_urlsafe(9)
