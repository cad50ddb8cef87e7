"""Round reports of the workshop game: each team's results (P&L waterfall from list-price
sales to contribution, funnel, CAC, ROI, private share, members, research bought) and the
facilitator's market dashboard and ranking. Text is Markdown (for paper workshops and the
CLI), in the workshop's number formats (`sim.present.format`); figures are matplotlib (for
the app).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from sim.present.format import fmt_plain_ratio as ratio
from sim.present.format import fmt_plain_share as pct
from sim.present.format import fmt_whole_money as money
from sim.workshop.game import (
    RIVALS,
    Game,
    allocated_vs_booked,
    score_rule,
    shock_text,
    use_help,
)
from sim.workshop.savefile import GameError, write_atomic

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def waterfall(t: dict[str, Any]) -> list[tuple[str, float, str]]:
    """(label, amount, kind) from list-price sales down to contribution after research:
    kind is "total" (a level) or "step" (a signed change)."""
    rows: list[tuple[str, float, str]] = [
        ("sales at list price", t["list_sales"], "total"),
        ("discounts", -t["discounts"], "step"),
        ("GMV", t["gmv"], "total"),
        ("cost of goods", -t["cogs"], "step"),
        ("gross profit", t["gross_profit"], "total"),
    ]
    rows += [(name, -v, "step") for name, v in t["costs"].items()]
    rows.append(("contribution", t["contribution"], "total"))
    rows.append(("research", -t.get("research_cost", 0.0), "step"))
    rows.append(("after research", t["contribution_after_research"], "total"))
    return rows


def waterfall_figure(t: dict[str, Any], title: str = "") -> Figure:
    fig = Figure(figsize=(8, 3.6), dpi=90, layout="constrained")
    ax = fig.subplots()
    level = 0.0
    labels = []
    for j, (label, amount, kind) in enumerate(waterfall(t)):
        if kind == "total":
            ax.bar(j, amount, color="#4c72b0")
            level = amount
        else:
            ax.bar(j, amount, bottom=level, color="#55a868" if amount >= 0 else "#c44e52")
            level += amount
        labels.append(label)
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xticks(range(len(labels)), labels, rotation=35, ha="right", fontsize=8)
    ax.set_ylabel("yuan")
    ax.set_title(title or "P&L waterfall", fontsize=10)
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
    return fig


def team_markdown(game: Game, team: str, k: int | None = None) -> str:
    """One team's report for round k (default: the last round played)."""
    k = k or game.round
    if not k:
        return f"# Team {team}\n\nNo round played yet.\n"
    t = game.results(k)["teams"][team]
    d = game.decision(k, team)
    rank = [name for name, _ in game.ranking_after(k)].index(team) + 1
    lines = [
        f"# Team {team} · round {k} of {game.rules.rounds} ({game.state['name']})",
        "",
        f"Score {money(t['score'])} (rank {rank} of {len(game.teams)}); "
        f"contribution after research this round {money(t['contribution_after_research'])} yuan, "
        f"cumulative {money(t['cumulative_contribution'])} yuan.",
        "",
        *incremental_lines(game, t),
        *news_lines(game, k),
        "## P&L (yuan, this round)",
        "",
        "| line | yuan |",
        "|---|---:|",
        *[f"| {label} | {money(v)} |" for label, v, _ in waterfall(t)],
        "",
        *money_trail(game, team, k),
        "## KPIs",
        "",
        "| KPI | value |",
        "|---|---:|",
        f"| GMV platform / private / store | {money(t['gmv_platform'])} / "
        f"{money(t['gmv_private'])} / {money(t['gmv_store'])} |",
        f"| private share of GMV | {pct(t['private_share'])} |",
        f"| new customers / new members | {money(t['new_customers'])} / "
        f"{money(t['new_members'])} |",
        f"| CAC public / private / blended | {ratio(t['cac_public'])} / "
        f"{ratio(t['cac_private'])} / {ratio(t['cac_blended'])} |",
        f"| ROAS ads | {ratio(t['roas_ads'])} |",
        f"| ROI public / private / total | {ratio(t['roi_public'])} / "
        f"{ratio(t['roi_private'])} / {ratio(t['roi_total'])} |",
        f"| members (reachable) | {money(t['members'])} ({money(t['reachable'])}) |",
        f"| mutes / leaves this round | {money(t['mutes'])} / {money(t['leaves'])} |",
        f"| guides / KOCs working | {money(t['guides'])} / {money(t['kocs'])} |",
        "",
        "## Funnel at the end of the round (consumers)",
        "",
        "| " + " | ".join(t["funnel"]) + " |",
        "|" + "---:|" * len(t["funnel"]),
        "| " + " | ".join(money(v) for v in t["funnel"].values()) + " |",
        "",
        "## Your decision",
        "",
        f"Budget {money(d.budget)} yuan: "
        + ", ".join(f"{name} {100 * getattr(d.split, name):.0f}%" for name in d.split.__dict__)
        + f"; guides {d.guide_regime}; channel policy {d.channel_policy}; content mix "
        f"{d.content_mix.content:g}/{d.content_mix.service:g}/{d.content_mix.selling:g}.",
    ]
    research = t.get("research") or {}
    if research:
        lines += ["", "## Research", ""]
        lines += research_markdown(research)
    return "\n".join(lines) + "\n"


BOOKED_LABELS = {
    "cost_ads": "ads",
    "cost_guide_salary": "guide salaries",
    "cost_guide_commission": "guide commission",
    "cost_tooling": "content and tooling",
    "discounts": "discounts on orders",
    "cost_referral_rewards": "referral rewards",
    "cost_welcome_gifts": "welcome gifts",
    "cost_koc_fees": "KOC fees",
    "cost_koc_commission": "KOC commission",
}


def news_lines(game: Game, k: int) -> list[str]:
    """Market news for round k: shocks in force, and the computer-run rivals' rules."""
    lines = [f"- Shock {shock_text(s)}." for s in game.shocks_for(k)]
    lines += [f"- Rival {t} (computer-run): {RIVALS[a]}." for t, a in game.rivals.items()]
    return ["## Market news", "", *lines, ""] if lines else []


def incremental_lines(game: Game, t: dict[str, Any]) -> list[str]:
    """What the team's private operations added this round, against its twin, and the score
    formula (nothing for a game without twins)."""
    if "incremental_contribution" not in t:
        return [f"Score: {score_rule(game.rules)}.", ""]
    return [
        f"Your private operations added **{money(t['incremental_contribution'])} yuan** of "
        f"contribution this round: {money(t['contribution'])} against "
        f"{money(t['twin_contribution'])} in your twin market (the same market and seed, your "
        "brand without private operations; one seed, so a measured difference, not a "
        f"forecast). Customer value {money(t.get('customer_value', 0.0))} yuan.",
        "",
        f"Score: {score_rule(game.rules)}.",
        "",
    ]


def money_trail(game: Game, team: str, k: int) -> list[str]:
    """Markdown lines: each budget use's allocation beside what the P&L booked for it, and
    why they differ (some uses are paid per order or per referral, not as allocated)."""
    t = game.results(k)["teams"][team]
    if "cash" not in t:  # a round played before the cash was kept
        return []
    rows = allocated_vs_booked(game.decision(k, team), t)
    lines = [
        "## Your budget: allocated and booked (yuan, this round)",
        "",
        "| use | allocated | booked in the P&L | how it is paid |",
        "|---|---:|---|---|",
    ]
    for row in rows:
        booked = "; ".join(f"{BOOKED_LABELS[col]} {money(v)}" for col, v in row["booked"].items())
        lines.append(
            f"| {row['use']} | {money(row['allocated'])} | {booked} | "
            f"{use_help(row['use'], game.rules)} |"
        )
    return [*lines, ""]


def research_markdown(research: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if "survey" in research:
        s = research["survey"]
        lines += [
            f"Survey of {s['sample']} consumers (95% margins):",
            "",
            "| brand | aware | members |",
            "|---|---:|---:|",
        ]
        for name, v in s["brands"].items():
            lines.append(
                f"| {name} | {pct(v['aware'])} ± {pct(v['aware_margin'])} | "
                f"{pct(v['member'])} ± {pct(v['member_margin'])} |"
            )
        lines.append("")
    if "panel" in research:
        p = research["panel"]
        lines += [
            f"Channel panel: {p['sample']} orders of the round, by brand and channel:",
            "",
            "| brand | platform | private | store |",
            "|---|---:|---:|---:|",
        ]
        for name, v in p["brands"].items():
            lines.append(f"| {name} | {v['platform']} | {v['private']} | {v['store']} |")
        lines.append("")
    return lines


def market_markdown(game: Game, k: int | None = None) -> str:
    """The facilitator's dashboard: ranking by the stated score and every team's KPIs."""
    k = k or game.round
    head = f"# Market · {game.state['name']} · round {k} of {game.rules.rounds}"
    if not k:
        return head + "\n\nNo round played yet.\n"
    teams = game.results(k)["teams"]
    lines = [
        head,
        "",
        score_rule(game.rules) + ".",
        "",
        *news_lines(game, k),
        "| rank | team | score | cumulative contribution | customer value | incremental "
        "contribution (round) | GMV | private share | members | CAC blended | ROI total |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for j, (team, score) in enumerate(game.ranking_after(k), 1):
        t = teams[team]
        lines.append(
            f"| {j} | {team} | {money(score)} | {money(t['cumulative_contribution'])} | "
            f"{money(t.get('customer_value', 0.0))} | "
            f"{money(t['incremental_contribution']) if 'incremental_contribution' in t else '–'} | "
            f"{money(t['gmv'])} | {pct(t['private_share'])} | {money(t['members'])} | "
            f"{ratio(t['cac_blended'])} | {ratio(t['roi_total'])} |"
        )
    return "\n".join(lines) + "\n"


def history(game: Game, key: str) -> dict[str, list[float]]:
    """One result per round per team (None as NaN)."""
    out: dict[str, list[float]] = {t: [] for t in game.teams}
    for k in range(1, game.round + 1):
        for t, v in game.results(k)["teams"].items():
            value = v[key]
            out[t].append(float("nan") if value is None else float(value))
    return out


def market_figure(game: Game) -> Figure:
    """Per round and team: GMV, private share, members, cumulative contribution."""
    fig = Figure(figsize=(10, 5.2), dpi=85, layout="constrained")
    axes = fig.subplots(2, 2).ravel()
    panels = (
        ("gmv", "GMV per round (yuan)"),
        ("private_share", "private share of GMV"),
        ("members", "members"),
        ("cumulative_contribution", "cumulative contribution (yuan)"),
    )
    rounds = list(range(1, game.round + 1))
    for ax, (key, title) in zip(axes, panels, strict=True):
        for j, (team, values) in enumerate(history(game, key).items()):
            ax.plot(rounds, values, marker="o", color=COLORS[j % len(COLORS)], label=team)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("round")
        ax.set_xticks(rounds or [1])
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    return fig


def write_round_reports(game: Game, k: int | None = None) -> Path:
    """Write round-K/<team>.md and round-K/market.md into the game folder (for paper), each
    file atomically; a disk fault is one GameError (the round itself is already saved, and
    `siyu game report DIR` writes the reports again)."""
    k = k or game.round
    if not 1 <= k <= game.round:
        raise GameError(game.folder, "--round", f"round {k} has not been played")
    folder = game.folder / f"round-{k}"
    try:
        for team in game.teams:
            write_atomic(folder / f"{team}.md", team_markdown(game, team, k))
        write_atomic(folder / "market.md", market_markdown(game, k))
    except OSError as exc:
        raise GameError(
            folder, None, f"cannot write the round reports: {exc.strerror or exc}"
        ) from None
    return folder
