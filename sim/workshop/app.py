"""The Siyu workshop app (Solara): `siyu app [SCENARIO] [--game DIR]`.

Pages:
- `/`            the live model: the social network coloured by each consumer's state
                 towards a chosen brand (hover or click a consumer for its state), live plots,
                 levers, category, engine, play / step / reset, seed;
- `/game?key=F`  the facilitator: who has submitted, run the round, market dashboard, ranking;
- `/game/team/X?key=T` team X: the decision form and its own round report.

The game pages open only with the secret of their link (`siyu game links DIR`); a wrong or
missing one gets "this link is not valid". No game page links to another, and the actions
(submit, run a round) check the secret again on the server when they happen (`access`).

Plots are matplotlib images and the network an SVG drawn by a small Vue template, so the
app works in a classroom without internet (Mesa's SolaraViz draws with Vega from a CDN and
needs a Mesa space, which this model, with its network as arrays, does not have).

The live page reads its market only through the engine protocol (`sim.protocol`), so it runs
on either engine (`agents`, the reference, by default; `fast`).

Configuration comes from the environment (set by `siyu app`): SIYU_APP_SCENARIO,
SIYU_APP_CONSUMERS, SIYU_APP_SEED, SIYU_APP_ENGINE, SIYU_GAME_DIR.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any
from urllib.parse import parse_qs, unquote

import solara

from sim.protocol import ENGINES
from sim.scenario import ScenarioError, load_scenario, shipped_scenarios
from sim.workshop import live as lv
from sim.workshop.access import NOT_VALID, GameDesk, NotAllowed
from sim.workshop.game import (
    RIVALS,
    SHOCKS,
    SPLIT_ITEMS,
    Decision,
    Game,
    GameError,
    GameRules,
    parse_decision,
    purchases,
    score_rule,
    shock_text,
    use_help,
)
from sim.workshop.report import (
    market_figure,
    market_markdown,
    team_markdown,
    waterfall_figure,
)
from sim.workshop.savefile import locked

SCENARIO = os.environ.get("SIYU_APP_SCENARIO", "beauty_guides")
CONSUMERS = int(os.environ["SIYU_APP_CONSUMERS"]) if os.environ.get("SIYU_APP_CONSUMERS") else None
SEED = int(os.environ.get("SIYU_APP_SEED", "1"))
ENGINE = os.environ.get("SIYU_APP_ENGINE") or lv.LIVE_ENGINE
GAME_DIR = os.environ.get("SIYU_GAME_DIR")
DAYS_PER_STEP = 7


LEVER_SLIDERS = (
    ("selling share of touches", "selling_share", 1.0, 0.05),
    ("broadcasts per week", "broadcasts_per_week", 7.0, 0.5),
    ("private discount", "private_discount", 0.5, 0.01),
    ("referral reward (yuan)", "referral_reward", 300.0, 5.0),
)
"""Lever sliders of the live page: label, lever, upper bound, step (lower bound 0)."""


def Md(text: str, classes: list[str] | None = None, **kwargs: Any) -> None:
    """Markdown in a div carrying CSS classes (Solara's Markdown takes none)."""
    with solara.Column(classes=classes or [], gap="0px"):
        solara.Markdown(text, **kwargs)


@solara.component_vue("network.vue")
def NetworkSvg(
    points: list,
    guides: list,
    edges: str,
    size: int,
    event_pick: Any = None,
):
    pass


# ------------------------------------------------------------------------ the live page
def _scenario_names() -> list[str]:
    return [p.stem for p in shipped_scenarios()]


@solara.component
def LivePage():
    scenario_name = solara.use_reactive(SCENARIO)
    category = solara.use_reactive("")
    engine = solara.use_reactive(ENGINE)
    seed = solara.use_reactive(SEED)
    live = solara.use_reactive(None)
    tick = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    brand = solara.use_reactive(0)
    picked = solara.use_reactive(None)
    error = solara.use_reactive("")

    def build():
        try:
            sc = lv.live_scenario(scenario_name.value, CONSUMERS, category.value or None)
        except ScenarioError as exc:
            error.set(str(exc))
            return
        error.set("")
        playing.set(False)
        brand.set(0)
        picked.set(None)
        live.set(lv.Live(sc, int(seed.value), engine.value))
        tick.set(tick.value + 1)

    solara.use_effect(build, [scenario_name.value, category.value, engine.value])

    def play_loop():
        if not playing.value:
            return
        stop = threading.Event()

        def loop():
            while not stop.is_set() and playing.value and live.value is not None:
                live.value.step(DAYS_PER_STEP)
                tick.set(tick.value + 1)
                if live.value.day >= live.value.model.days:
                    playing.set(False)
                time.sleep(0.3)

        threading.Thread(target=loop, daemon=True).start()
        return stop.set

    solara.use_effect(play_loop, [playing.value])

    def step():
        if live.value is not None:
            live.value.step(DAYS_PER_STEP)
            tick.set(tick.value + 1)

    with solara.Column(style={"padding": "12px"}):
        solara.Title("Siyu · live market")
        Md("## Siyu · live market")
        if error.value:
            solara.Error(error.value)
        m = live.value
        if m is None:
            solara.Info("building the market …")
            return
        names = m.model.brand_names
        b = min(brand.value, len(names) - 1)
        with solara.Columns([1, 3]):
            with solara.Column():
                Controls(m, b, names, brand, scenario_name, category, engine, seed, tick, build)
                with solara.Row():
                    solara.Button(
                        "Pause" if playing.value else "Play",
                        on_click=lambda: playing.set(not playing.value),
                        color="primary",
                        classes=["siyu-play"],
                    )
                    solara.Button(
                        f"Step {DAYS_PER_STEP} days", on_click=step, classes=["siyu-step"]
                    )
                    solara.Button("Reset", on_click=build, classes=["siyu-reset"])
            with solara.Column():
                Md(
                    f"**Day {m.day}** · {m.scenario.name} · {m.model.n_consumers} consumers · "
                    f"seed {m.seed} · {m.engine} engine",
                    style={"font-size": "16px"},
                )
                with solara.Row():
                    points, guides = lv.network_points(m, b)
                    with solara.Column():
                        NetworkSvg(
                            points=points,
                            guides=guides,
                            edges=m.edges,
                            size=lv.SVG_SIZE,
                            event_pick=lambda i: picked.set(int(i)),
                        )
                        Legend()
                    with solara.Column(style={"max-width": "380px"}):
                        Md("**Consumer** (hover a dot; click to pin)")
                        if picked.value is not None and picked.value < m.model.n_consumers:
                            Md(
                                "\n".join(
                                    f"- {part}"
                                    for part in lv.consumer_text(m.model, picked.value).split("; ")
                                ),
                                classes=["siyu-picked"],
                            )
                        else:
                            solara.Text("none picked")
                        Kpis(m, b)
                fig = lv.live_figure(m, b)
                solara.FigureMatplotlib(fig, format="png", dependencies=[tick.value, b])


@solara.component
def Legend():
    items = " ".join(
        f'<span style="display:inline-block;width:10px;height:10px;border-radius:5px;'
        f'background:{c};margin:0 3px 0 8px"></span>{label}'
        for c, label in zip(lv.STATE_COLORS, lv.STATE_LABELS, strict=True)
    )
    solara.HTML(
        tag="div",
        unsafe_innerHTML=items + " &nbsp; ◆ guide &nbsp; black ring: KOC &nbsp; "
        "green ring: served by a guide",
        style={"font-size": "12px"},
    )


@solara.component
def Kpis(m: lv.Live, b: int):
    if m.day == 0:
        return
    from sim.kpis import summarize

    frame = m.model.ledger.to_frame(m.day)
    k = summarize(frame, m.model.n_consumers)["brands"][m.model.brand_names[b]]

    def f(v, fmt="{:,.0f}"):
        return "–" if v is None else fmt.format(v)

    Md(
        "\n".join(
            [
                "| KPI (so far) | value |",
                "|---|---:|",
                f"| GMV | {f(k['gmv'])} |",
                f"| private share | {f(k['private_share'], '{:.1%}')} |",
                f"| CAC public / private | {f(k['cac_public'])} / {f(k['cac_private'])} |",
                f"| ROI public / private | {f(k['roi_public'], '{:.2f}')} / "
                f"{f(k['roi_private'], '{:.2f}')} |",
                f"| members (reachable) | {f(k['members'])} ({f(k['reachable'])}) |",
                f"| contribution | {f(k['contribution'])} |",
            ]
        ),
        classes=["siyu-kpis"],
    )


@solara.component
def Controls(m, b, names, brand, scenario_name, category, engine, seed, tick, rebuild):
    lev = m.levers(b)

    def setter(name):
        def set_(value):
            m.set_lever(b, name, value)
            tick.set(tick.value + 1)

        return set_

    solara.Select("scenario", values=_scenario_names(), value=scenario_name)
    cats = list(m.scenario.categories)
    solara.Select(
        "category (all brands; rebuilds)",
        values=["", *cats],
        value=category.value,
        on_value=category.set,
    )
    solara.Select(
        "engine (rebuilds)", values=list(ENGINES), value=engine.value, on_value=engine.set
    )
    solara.InputInt("seed (reset to apply)", value=seed)
    solara.Select(
        "brand shown and steered",
        values=names,
        value=names[b],
        on_value=lambda v: brand.set(names.index(v)),
    )
    solara.Checkbox(
        label="private-domain operations", value=lev["private_ops"], on_value=setter("private_ops")
    )
    with solara.Column(classes=["siyu-ad-budget"]):
        solara.SliderFloat(
            "ad budget (yuan/day)",
            thumb_label="always",
            value=lev["ad_budget_per_day"],
            min=0,
            max=3000,
            step=50,
            on_value=setter("ad_budget_per_day"),
        )
    solara.SliderFloat(
        "guides per store",
        thumb_label="always",
        value=lev["guides_per_store"],
        min=0,
        max=3,
        step=0.1,
        on_value=setter("guides_per_store"),
    )
    solara.Select(
        "guide KPI regime",
        values=["quality", "quota"],
        value=lev["guide_regime"],
        on_value=setter("guide_regime"),
    )
    for label, key, top, step in LEVER_SLIDERS:
        solara.SliderFloat(
            label,
            thumb_label="always",
            value=lev[key],
            min=0,
            max=top,
            step=step,
            on_value=setter(key),
        )
    solara.SliderInt(
        "KOCs", value=int(lev["koc_count"]), min=0, max=30, on_value=setter("koc_count")
    )
    solara.Select(
        "channel policy",
        values=["separate", "assist"],
        value=lev["channel_policy"],
        on_value=setter("channel_policy"),
    )


# ------------------------------------------------------------------------ the game pages
DESK = GameDesk(GAME_DIR) if GAME_DIR else None
"""The game of SIYU_GAME_DIR: re-read from its save before every draw and every action."""


@solara.component
def InvalidLink():
    """What a wrong or missing secret (or an unknown team) gets: nothing about the game."""
    solara.Title("Siyu")
    with solara.Column(style={"padding": "12px"}):
        Md(
            f"## {NOT_VALID[0].upper()}{NOT_VALID[1:]}\n\n"
            "Check that you typed the whole link, or ask the facilitator for your team's link.",
            classes=["siyu-invalid"],
        )


@solara.component
def GameUnavailable(text: str):
    solara.Title("Siyu")
    with solara.Column(style={"padding": "12px"}):
        solara.Error(text, classes=["siyu-game-error"])


@solara.component
def FacilitatorPage(key: str | None):
    tick = solara.use_reactive(0)
    message = solara.use_reactive("")
    shock_kind = solara.use_reactive(next(iter(SHOCKS)))
    if DESK is None:
        GameUnavailable("No game: start the app with `siyu app SCENARIO --game DIR --teams A,B`.")
        return
    with DESK.lock:  # the game re-read and held for this draw; set no reactive in here
        try:
            game = DESK.fresh()
        except GameError as exc:
            GameUnavailable(str(exc))
            return
        if not game.allows(key):
            InvalidLink()
            return
        FacilitatorView(game, key, tick, message, shock_kind)


def FacilitatorView(game: Game, key: str | None, tick: Any, message: Any, shock_kind: Any) -> None:
    """The facilitator's page body (drawn while the desk holds the game)."""

    def apply_shock():
        try:
            with DESK.lock, locked(DESK.folder):
                fresh = DESK.fresh()
                if not fresh.allows(key):
                    raise NotAllowed()
                text = f"Shock recorded: {shock_text(fresh.add_shock(shock_kind.value))}."
        except NotAllowed:
            text = f"Refused: {NOT_VALID}"
        except GameError as exc:
            text = f"Refused: {exc.message}"
        message.set(text)
        tick.set(tick.value + 1)

    def run_round():
        try:
            played, note = DESK.run_round(key)
            text = f"Round {played} played." + (f" {note}" if note else "")
        except GameError as exc:
            text = f"Refused: {exc.message}"
        message.set(text)
        tick.set(tick.value + 1)

    solara.Title("Siyu · facilitator")
    with solara.Column(style={"padding": "12px"}):
        with solara.Row():
            solara.Button("Live model", href="/", text=True)
        Md(f"## Facilitator · {game.state['name']} · round {game.round} of {game.rules.rounds}")
        waiting = game.waiting_for()
        if game.finished:
            solara.Success("The game is over.")
        else:
            submitted = [t for t in game.teams if t not in waiting]
            Md(
                f"Round {game.round + 1}: submitted **{', '.join(submitted) or '–'}**; "
                f"waiting for **{', '.join(waiting) or '– (ready)'}**",
                classes=["siyu-status"],
            )
            solara.Button(
                f"Run round {game.round + 1}",
                on_click=run_round,
                disabled=bool(waiting),
                color="primary",
                classes=["siyu-run-round"],
            )
            solara.Button("Refresh", on_click=lambda: tick.set(tick.value + 1), text=True)
            with solara.Row(classes=["siyu-shock"]):
                solara.Select("platform shock", values=list(SHOCKS), value=shock_kind)
                solara.Button(
                    f"Apply from round {game.round + 1}",
                    on_click=apply_shock,
                    classes=["siyu-apply-shock"],
                )
            news = [f"- Shock {shock_text(x)}." for x in game.state["shocks"]]
            news += [f"- Rival {t} (computer-run): {RIVALS[a]}." for t, a in game.rivals.items()]
            if news:
                Md("\n".join(news), classes=["siyu-news"])
        if message.value:
            (solara.Error if message.value.startswith("Refused") else solara.Info)(message.value)
        if game.round:
            Md(market_markdown(game), classes=["siyu-market"])
            solara.FigureMatplotlib(
                market_figure(game), format="png", dependencies=[game.round, tick.value]
            )
        else:
            Md(score_rule(game.rules) + ".")


@solara.component
def TeamPage(team: str, key: str | None):
    tick = solara.use_reactive(0)
    message = solara.use_reactive("")
    if DESK is None:
        GameUnavailable("No game is being played on this server.")
        return
    with DESK.lock:  # the game re-read and held for this draw; set no reactive in here
        try:
            game, problem = DESK.fresh(), ""
        except GameError as exc:
            game, problem = None, str(exc)
        known = game is not None and game.allows(key, team)
        last = game.last_decision(team) if known else Decision(budget=0, split={"ads": 1.0})
        # hooks run on every draw, in the same order, whatever the link
        form = {
            "budget": solara.use_reactive(last.budget),
            "shares": {k: solara.use_reactive(getattr(last.split, k)) for k in SPLIT_ITEMS},
            "regime": solara.use_reactive(last.guide_regime),
            "policy": solara.use_reactive(last.channel_policy),
            "mix": {
                k: solara.use_reactive(getattr(last.content_mix, k))
                for k in ("content", "service", "selling")
            },
            "research": {s: solara.use_reactive(s in last.research) for s in ("survey", "panel")},
        }
        if game is None:
            GameUnavailable(problem)
            return
        if not known:
            InvalidLink()
            return
        TeamView(game, team, key, form, tick, message)


def TeamView(game: Game, team: str, key: str | None, form: dict, tick: Any, message: Any) -> None:
    """A team's page body (drawn while the desk holds the game)."""
    rules: GameRules = game.rules
    budget, shares, research = form["budget"], form["shares"], form["research"]

    def form_data() -> dict[str, Any]:
        return {
            "budget": budget.value,
            "split": {k: v.value for k, v in shares.items()},
            "guide_regime": form["regime"].value,
            "channel_policy": form["policy"].value,
            "content_mix": {k: v.value for k, v in form["mix"].items()},
            "research": [s for s, v in research.items() if v.value],
        }

    def submit():
        data = form_data()
        try:
            _, k = DESK.submit(team, key, data)
            text = f"Submitted for round {k}."
        except NotAllowed:
            text = f"Refused: {NOT_VALID}"
        except GameError as exc:
            text = f"Refused: {exc.key + ': ' if exc.key else ''}{exc.message}"
        message.set(text)
        tick.set(tick.value + 1)

    solara.Title(f"Siyu · team {team}")
    with solara.Column(style={"padding": "12px"}):
        Md(
            f"## Team {team} · {game.state['name']} · "
            + (
                f"decision for round {game.round + 1} of {rules.rounds}"
                if not game.finished
                else "game over"
            )
        )
        with solara.Columns([2, 3]):
            with solara.Column():
                if not game.finished:
                    total = sum(v.value for v in shares.values())
                    Md(
                        f"Budget at most **{rules.budget_per_round:,.0f} yuan** a round, research "
                        f"included (survey {rules.survey_cost:,.0f}, "
                        f"panel {rules.panel_cost:,.0f})."
                        f" Shares sum to **{total:.2f}** (must be 1)."
                    )
                    Md(f"Score: {score_rule(rules)}.", classes=["siyu-score-rule"])
                    solara.InputFloat("budget (yuan)", value=budget, classes=["siyu-budget"])
                    for k, v in shares.items():
                        solara.InputFloat(
                            f"share: {k}",
                            value=v,
                            classes=[f"siyu-share-{k}"],
                            continuous_update=True,
                        )
                    BuysTable(game, team, form_data())
                    solara.Select(
                        "guide KPI regime", values=["quality", "quota"], value=form["regime"]
                    )
                    solara.Select(
                        "channel policy", values=["separate", "assist"], value=form["policy"]
                    )
                    with solara.Row():
                        for k, v in form["mix"].items():
                            solara.InputFloat(f"mix: {k}", value=v)
                    with solara.Row():
                        for s, v in research.items():
                            with solara.Column(classes=[f"siyu-buy-{s}"]):
                                solara.Checkbox(label=f"buy {s}", value=v)
                    solara.Button(
                        "Submit decision", on_click=submit, color="primary", classes=["siyu-submit"]
                    )
                    pending = team in game.state["pending"]
                    Md(
                        "Your decision for this round is **in**."
                        if pending
                        else "No decision submitted for this round yet.",
                        classes=["siyu-pending"],
                    )
                if message.value:
                    if message.value.startswith("Refused"):
                        solara.Error(message.value, classes=["siyu-refused"])
                    else:
                        solara.Success(message.value, classes=["siyu-ok"])
            with solara.Column():
                if game.round:
                    t = game.results(game.round)["teams"][team]
                    solara.FigureMatplotlib(
                        waterfall_figure(t, f"Team {team} · round {game.round} · P&L"),
                        format="png",
                        dependencies=[game.round, team],
                    )
                    Md(team_markdown(game, team), classes=["siyu-report"])
                else:
                    solara.Info("Your report appears here after the first round.")


def BuysTable(game: Game, team: str, data: dict[str, Any]) -> None:
    """What the form's budget buys, use by use, at the game's prices (redrawn as the team
    types), with how each use is paid: the same text as the paper form's comments."""
    try:
        decision = parse_decision(data, "form")
    except GameError as exc:
        Md(f"*{exc.key}: {exc.message}*", classes=["siyu-buys-problem"])
        return
    stores = game.scenario.brands[team].stores
    cpm = game.scenario.platform.base_cpm
    rows = purchases(decision, game.template[team], stores, game.rules, cpm)
    lines = [
        "| use | yuan | price | buys | how it is paid |",
        "|---|---:|---|---|---|",
        *[
            f"| {r['use']} | {r['yuan']:,.0f} | {r['price']} | {r['buys']} | "
            f"{use_help(r['use'], game.rules)} |"
            for r in rows
        ],
    ]
    Md("**What this budget buys**\n\n" + "\n".join(lines), classes=["siyu-buys"])


@solara.component
def Page(_rest=None):  # solara passes a path part it did not match (untyped: no cast)
    """Picks the page from the path: `/game/team/NAME`, `/game` or the live page."""
    router = solara.use_router()
    parts = [p for p in router.parts if p]
    key = parse_qs(router.search or "").get("key", [None])[0]
    if parts[:1] == ["game"]:
        if len(parts) == 3 and parts[1] == "team":
            TeamPage(unquote(parts[2]), key)
        elif len(parts) == 1:
            FacilitatorPage(key)
        else:
            InvalidLink()
    else:
        LivePage()


@solara.component
def Layout(children: list | None = None):
    """No app bar: each page brings its own navigation."""
    with solara.Column(children=children or []):
        pass


load_scenario(SCENARIO)  # a bad scenario fails at start, not in the browser
routes = [
    solara.Route(path="/", component=Page, label="Live model"),
    solara.Route(
        path="game",
        component=Page,
        label="Game",
        # /game/team/NAME: NAME (any name) reaches Page as an argument; Page reads the path
        children=[
            solara.Route(path="/", component=Page),
            solara.Route(path="team", component=Page),
        ],
    ),
]
