"""The live model behind the app's first page, without UI: build a market at a classroom
size on either engine, change levers while it runs, lay out the network, draw the plots.

Everything here reads the market through the engine protocol (`sim.protocol.Engine`):
population arrays for the picture, snapshots for tooltips, guides and distributors,
`set_strategy` for a lever. The layout and every draw use Generators derived from the run's
seed; nothing here touches global random state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from sim.kpis import periodic
from sim.params import RewardTier, Scenario
from sim.protocol import Engine, build_engine
from sim.scaling import scale_market
from sim.scenario import load_scenario
from sim.vocab import MEMBER_CHANNELS, STATE_NAMES

CLASSROOM_CONSUMERS = 600
"""Consumers on the live page by default: big enough to show the dynamics, small enough
to draw every consumer and step a week in a blink."""
LIVE_DAYS = 3650
"""Horizon of the live ledger (the page can play up to ten years)."""
STATE_COLORS = ("#d9d9d9", "#9ecae1", "#3182bd", "#31a354", "#e6550d")
STATE_LABELS = ("unaware", "aware", "customer", "member", "lapsed")
CHANNEL_COLORS = {"platform": "#ff7f0e", "private": "#2ca02c", "store": "#9467bd"}
SVG_SIZE = 460
LIVE_ENGINE = "agents"
"""The live page's engine unless chosen (`siyu app --engine`, or the page's selector)."""

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
    """A running market on the live page, on the named engine."""

    scenario: Scenario
    seed: int
    engine: str = LIVE_ENGINE
    model: Engine = field(init=False)
    layout: np.ndarray = field(init=False)
    edges: str = ""

    def __post_init__(self) -> None:
        from sim.runner import run_rng

        self.model = build_engine(self.engine, self.scenario, run_rng(self.seed))
        self.layout = network_layout(self.model, self.seed)
        self.edges = edge_path(self.model, self.layout)

    @property
    def day(self) -> int:
        return self.model.today

    def step(self, days: int = 7) -> None:
        for _ in range(min(days, self.model.days - self.model.today)):
            self.model.step()

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
        """Change one lever of brand b from today on (re-staffs only for staff levers)."""
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
        self.model.set_strategy(b, type(st).model_validate(data))


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


def edge_path(model: Engine, xy: np.ndarray, limit: int = 4000) -> str:
    net = model.network
    if net.mixing:
        return ""
    src = np.repeat(np.arange(net.n), net.degree())
    keep = src < net.indices
    a, b = src[keep][:limit], net.indices[keep][:limit]
    return " ".join(
        f"M{xy[i, 0]:.1f} {xy[i, 1]:.1f}L{xy[j, 0]:.1f} {xy[j, 1]:.1f}"
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


def network_points(live: Live, b: int) -> tuple[list[dict], list[dict]]:
    """Consumers coloured by state towards brand b; KOCs ringed black and enlarged, members
    with a guide ringed; guides as black diamonds at the centre of their members."""
    model = live.model
    xy = live.layout
    states = model.states(b)
    guided_row = model.member_guides(b) >= 0
    brand = model.brand_snapshot(b)
    kocs = {d.centre for d in brand.distributors}
    points = []
    for i in range(model.n_consumers):
        s = int(states[i])
        guided = bool(guided_row[i])
        koc = i in kocs
        points.append(
            {
                "i": i,
                "x": round(float(xy[i, 0]), 1),
                "y": round(float(xy[i, 1]), 1),
                "r": 7 if koc else 4,
                "c": STATE_COLORS[s],
                "s": "#000" if koc else ("#31a354" if guided else "#fff"),
                "w": 2 if koc or guided else 0.5,
                "t": ("KOC · " if koc else "") + consumer_text(model, i),
            }
        )
    guides = []
    for k, g in enumerate(brand.guides):
        idx = list(g.members)
        centre = xy[idx].mean(axis=0) if idx else np.array([14.0 + 16 * k, 14.0])
        guides.append(
            {
                "k": k,
                "x": round(float(centre[0]), 1),
                "y": round(float(centre[1]), 1),
                "t": f"guide {k + 1} (store {g.store + 1}): {len(idx)} members",
            }
        )
    return points, guides


def live_figure(live: Live, b: int, window: int = 30) -> Figure:
    """Penetration path, funnel stocks, GMV by channel, CAC and ROI by channel for brand b."""
    model = live.model
    name = model.brand_names[b]
    fig = Figure(figsize=(10, 6.4), dpi=80, layout="constrained")
    axes = fig.subplots(2, 3).ravel()
    fig.suptitle(f"{name} · day {model.today}", fontsize=11)
    if model.today == 0:
        for ax in axes:
            ax.text(0.5, 0.5, "press step or play", ha="center", va="center", color="grey")
            ax.set_axis_off()
        return fig
    ledger = model.ledger.to_frame(model.today)
    rows = ledger[ledger["brand"] == name]
    n = model.n_consumers
    ax = axes[0]
    ax.plot(rows["day"], rows["stock_ever_customers"] / n, color="#3182bd")
    ax.set_title("penetration (ever bought)", fontsize=9)
    ax.set_ylim(0, None)
    ax = axes[1]
    stocks = [rows[f"stock_{s}"].to_numpy() / n for s in STATE_NAMES]
    ax.stackplot(rows["day"], *stocks, colors=STATE_COLORS, labels=STATE_LABELS)
    ax.set_title("funnel stocks (share of consumers)", fontsize=9)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=6, loc="lower left")
    per = periodic(ledger, window)
    per = per[per["brand"] == name]
    ax = axes[2]
    for ch, color in CHANNEL_COLORS.items():
        ax.plot(per["day"], per[f"gmv_{ch}"], marker=".", color=color, label=ch)
    ax.set_title(f"GMV by channel (per {window} days)", fontsize=9)
    ax.legend(fontsize=7)
    for ax, key, title in (
        (axes[3], "cac", "CAC by channel (yuan)"),
        (axes[4], "roi", "ROI by channel"),
    ):
        ax.plot(per["day"], per[f"{key}_public"], marker=".", color="#ff7f0e", label="public")
        ax.plot(per["day"], per[f"{key}_private"], marker=".", color="#2ca02c", label="private")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
        if key == "roi":
            ax.axhline(1.0, color="grey", lw=0.7, ls="--")
    ax = axes[5]
    ax.plot(per["day"], per["stock_members"], marker=".", color="#31a354", label="members")
    ax.plot(per["day"], per["stock_reachable"], color="#74c476", ls="--", label="reachable")
    ax.set_title("members", fontsize=9)
    ax.legend(fontsize=7)
    for ax in axes:
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    return fig
