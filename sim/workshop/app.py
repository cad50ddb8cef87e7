"""The Siyu workshop app (Solara): `siyu app [SCENARIO] [--game DIR]`.

Pages:
- `/?s=ID`       the live model of session ID (a new one gets an ID in its address, so a
                 reload keeps it): the social network coloured by each consumer's state
                 towards a chosen brand (hover or click a consumer for its state), the KPI
                 panel, plots, levers, category, engine, play / step / reset, seed; in
                 facilitator mode (`siyu app --room`) every screen shows the room's market
                 and only `/?key=K` steers it;
- `/game?key=F`  the facilitator: who has submitted, run the round, market dashboard, ranking;
- `/game/team/X?key=T` team X: the decision form and its own round report.

The game pages open only with the secret of their link (`siyu game links DIR`); a wrong or
missing one gets "this link is not valid". No game page links to another, and the actions
(submit, run a round) check the secret again on the server when they happen (`access`).

The live page's network and plots are SVG drawn by small Vue templates (network.vue,
plots.vue) from values the server computes (`sim.workshop.live`), so the app works in a
classroom without internet (Mesa's SolaraViz draws with Vega from a CDN and needs a Mesa
space, which this model, with its network as arrays, does not have), and a tick sends only
what changed. The game pages' figures are matplotlib images.

The live page reads its market only through the engine protocol (`sim.protocol`), so it runs
on either engine (`fast` by default; `agents`, the reference). Its markets live in
`SESSIONS`, stepped by their own threads; a page follows its market by polling its version.

Configuration comes from the environment (set by `siyu app`): SIYU_APP_SCENARIO,
SIYU_APP_CONSUMERS, SIYU_APP_SEED, SIYU_APP_ENGINE, SIYU_APP_ROOM_KEY, SIYU_GAME_DIR.
"""

from __future__ import annotations

import os
import threading
import warnings
from typing import Any
from urllib.parse import parse_qs, unquote

import numpy as np
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
warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
# Solara's server warns on every page load over plain http (a classroom's local network)
# that it falls back to a same-site cookie: true, harmless, and 12 lines each time.


def Md(text: str, classes: list[str] | None = None, **kwargs: Any) -> None:
    """Markdown in a div carrying CSS classes (Solara's Markdown takes none)."""
    with solara.Column(classes=classes or [], gap="0px"):
        solara.Markdown(text, **kwargs)


@solara.component_vue("network.vue")
def NetworkSvg(
    ids: list,
    xy: list,
    edges: str,
    states: str,
    rings: str,
    guides: list,
    colors: list,
    labels: list,
    guided: str,
    size: int,
    event_pick: Any = None,
):
    pass


@solara.component_vue("plots.vue")
def PlotsSvg(panels: list, empty: str):
    pass


# ------------------------------------------------------------------------ the live page
SESSIONS = lv.Sessions()
"""The server's live markets by session id (in the page's address as `?s=ID`)."""
ROOM = "room"
"""The session id of the one market every screen shows in facilitator mode."""
ROOM_KEY = os.environ.get("SIYU_APP_ROOM_KEY")
"""Facilitator mode (`siyu app --room`): every screen shows the one market of `ROOM`; only
the link with this key (`/?key=KEY`) steers it."""
POLL_S = 0.2
"""seconds: how often a screen looks for a new tick of its market."""
LEVER_SLIDERS = (
    ("ad budget (yuan/day)", "ad_budget_per_day", 0.0, 0.0, "{:,.0f}"),
    ("guides per store", "guides_per_store", 3.0, 0.1, "{:.1f}"),
    ("selling share of touches", "selling_share", 1.0, 0.05, "{:.0%}"),
    ("broadcasts per week", "broadcasts_per_week", 7.0, 0.5, "{:.1f}"),
    ("private discount", "private_discount", 0.5, 0.01, "{:.0%}"),
    ("referral reward (yuan)", "referral_reward", 300.0, 5.0, "{:,.0f}"),
)
"""Lever sliders of the live page: label, lever, upper bound, step (lower bound 0), how the
value is written after the label (no thumb bubble: it covered the slider above). The ad
budget's bounds follow the market's size (`budget_slider`)."""


def budget_slider(value: float) -> tuple[float, float]:
    """Upper bound and step of the ad budget's slider: a power of ten at least five times
    the budget (100 yuan at least), in 100 steps."""
    top = max(100.0, 10.0 ** np.ceil(np.log10(max(value, 1.0) * 5)))
    return top, top / 100


def _scenario_names() -> list[str]:
    return [p.stem for p in shipped_scenarios()]


def new_live(settings: dict[str, Any]) -> lv.Live:
    """A live market from the page's choices (scenario, category, seed, engine)."""
    sc = lv.live_scenario(settings["scenario"], CONSUMERS, settings["category"] or None)
    return lv.Live(sc, int(settings["seed"]), settings["engine"])


def open_session(sid: str | None) -> lv.Session:
    settings = {"scenario": SCENARIO, "category": "", "seed": SEED, "engine": ENGINE}
    session = SESSIONS.open(sid, lambda: new_live(settings))
    if not session.settings:
        session.settings = settings
    return session


@solara.component
def LivePage(sid: str | None, key: str | None):
    """The live market of session `sid` (a new one, put into the address, when missing or
    unknown); in facilitator mode the room's market, steered only with the room's key."""
    router = solara.use_router()
    if ROOM_KEY:
        sid, steers = ROOM, key == ROOM_KEY
    else:
        steers = True
    session = solara.use_memo(lambda: open_session(sid), [sid])
    _, set_version = solara.use_state(session.version)  # a setter any thread may call
    picked = solara.use_reactive(None)
    error = solara.use_reactive("")

    def keep_address():
        if not ROOM_KEY and sid != session.id:
            router.push(f"/?s={session.id}")

    solara.use_effect(keep_address, [session.id])

    def follow():
        stop = threading.Event()

        def loop():
            seen = -1
            while not stop.wait(POLL_S):
                if session.version != seen:
                    seen = session.version
                    set_version(seen)

        threading.Thread(target=loop, daemon=True).start()
        return stop.set

    solara.use_effect(follow, [session.id])

    def redraw_after(action: Any, *args: Any) -> None:
        """Act on the market and draw this screen at once (others follow by polling)."""
        action(*args)
        set_version(session.version)

    def rebuild(**changes: Any):
        settings = {**session.settings, **changes}
        try:
            live = new_live(settings)
        except ScenarioError as exc:
            error.set(str(exc))
            return
        error.set("")
        picked.set(None)
        session.settings = settings
        session.replace(live)

    view = session.view()
    static = session.static()
    plots = session.plots()
    with session.lock:
        m = session.live
        names = m.model.brand_names
        pick_text = (
            lv.consumer_text(m.model, picked.value)
            if picked.value is not None and picked.value < m.model.n_consumers
            else ""
        )
    b = view["brand"]
    solara.Title("Siyu · live market")
    with solara.Column(style={"padding": "6px 10px", "max-width": "1280px"}, gap="4px"):
        with solara.Row(style={"align-items": "center"}, gap="10px"):
            solara.HTML(  # not Markdown: that would send a new widget every tick
                tag="div",
                unsafe_innerHTML=f"<b>Siyu · Day {view['day']}</b> · {m.scenario.name} · "
                f"{m.model.n_consumers} consumers · seed {m.seed} · {m.engine} engine"
                + ("" if steers else " · the facilitator steers this market"),
                style={"font-size": "18px"},
                classes=["siyu-day"],
            )
            if steers:
                solara.Button(
                    "Pause" if view["playing"] else "Play",
                    on_click=lambda: redraw_after(session.play, not session.playing),
                    color="primary",
                    classes=["siyu-play"],
                )
                solara.Button(
                    f"Step {lv.DAYS_PER_TICK} days",
                    on_click=lambda: redraw_after(session.step, lv.DAYS_PER_TICK),
                    classes=["siyu-step"],
                )
                solara.Button("Reset", on_click=lambda: rebuild(), classes=["siyu-reset"])
        if error.value:
            solara.Error(error.value)
        with solara.Row(gap="12px", style={"align-items": "flex-start", "flex-wrap": "nowrap"}):
            with solara.Column(
                style={
                    "width": "250px",
                    "max-height": "650px",
                    "overflow-y": "auto",
                    "overflow-x": "hidden",
                },
                gap="0px",
                classes=["siyu-controls"],
            ):
                Controls(session, view, names, rebuild, not steers)
            with solara.Column(style={"width": f"{lv.SVG_SIZE + 4}px"}, gap="4px"):
                NetworkSvg(
                    **static,
                    **view["network"],
                    colors=list(lv.STATE_COLORS),
                    labels=list(lv.STATE_LABELS),
                    guided=lv.GUIDED_RING,
                    size=lv.SVG_SIZE,
                    event_pick=lambda i: picked.set(int(i)),
                )
                Legend()
                if pick_text:
                    Md(
                        "\n".join(f"- {part}" for part in pick_text.split("; ")),
                        classes=["siyu-picked"],
                        style={"font-size": "13px"},
                    )
                else:
                    solara.Text("click a consumer to see its state", style={"color": "#777"})
            with solara.Column(gap="4px"):
                Kpis(view["kpis"], names[b], m.twin_model is not None)
                PlotsSvg(
                    panels=plots["panels"],
                    empty=f"the plots start when the first {lv.WINDOW}-day window ends "
                    f"(day {lv.WINDOW})",
                )


@solara.component
def Legend():
    items = " ".join(
        f'<span style="display:inline-block;width:11px;height:11px;border-radius:6px;'
        f'background:{c};margin:0 3px 0 8px"></span>{label}'
        for c, label in zip(lv.STATE_COLORS, lv.STATE_LABELS, strict=True)
    )
    solara.HTML(
        tag="div",
        unsafe_innerHTML=items + " &nbsp; ◆ guide &nbsp; black ring: KOC &nbsp; "
        f'<span style="color:{lv.GUIDED_RING}">◯</span> served by a guide',
        style={"font-size": "13px"},
    )


KPI_CELLS = (
    ("contribution", "contribution", "yuan"),
    ("incremental", "incremental contribution", "yuan"),
    ("private_share", "private share", "%"),
    ("members", "members", ""),
    ("reachable", "reachable", ""),
    ("cac_private", "private CAC", "yuan"),
    ("gmv", "GMV", "yuan"),
)
"""The KPI panel's cells: key of `live.kpi_panel`, label, unit."""


@solara.component
def Kpis(k: dict, brand: str, twin: bool):
    """The KPI panel, always shown (dashes until the first day): so far, for the brand
    shown; the incremental contribution is against a twin market stepped alongside on the
    same seed with private operations off."""

    def cell(key: str, label: str, unit: str) -> str:
        v = k[key]
        if v is None:
            text = "–"
        elif unit == "%":
            text = f"{v:.1%}"
        else:
            text = f"{v:,.0f}"
        suffix = f" ({unit})" if unit and unit != "%" else ""
        return (
            f'<div class="siyu-kpi siyu-kpi-{key}" style="padding:2px 10px">'
            f'<div style="font-size:13px;color:#555">{label}{suffix}</div>'
            f'<div style="font-size:22px;font-weight:bold">{text}</div></div>'
        )

    cells = "".join(cell(*c) for c in KPI_CELLS if twin or c[0] != "incremental")
    note = (
        "incremental: minus a twin market on the same seed with private operations off"
        if twin
        else "no incremental figure: the twin market is off"
    )
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f'<div style="font-size:13px;color:#555">{brand}, day 0 to {k["day"]} · {note}</div>'
            f'<div style="display:flex;flex-wrap:wrap">{cells}</div>'
        ),
        classes=["siyu-kpis"],
        style={"border": "1px solid #ddd", "border-radius": "4px", "padding": "4px"},
    )


@solara.component
def Controls(session: lv.Session, view: dict, names: list[str], rebuild: Any, locked: bool):
    """The page's choices and the brand's levers (a lever changes the market from the next
    day on); each lever in its own spaced row with its value written after its label."""
    lev = view["levers"]
    settings = session.settings

    def setter(name, step=None):
        def set_(value):
            # a slider rounds a value off its grid and sends it back: never a user's move
            # (a move is a whole step), so it must not change the lever
            if step is not None and abs(float(value) - float(lev[name])) < step / 2:
                return
            session.set_lever(name, value)

        return set_

    solara.Select(
        "scenario",
        values=_scenario_names(),
        value=settings["scenario"],
        on_value=lambda v: rebuild(scenario=v, category=""),
        disabled=locked,
    )
    solara.Select(
        "category (all brands; rebuilds)",
        values=["", *session.live.scenario.categories],
        value=settings["category"],
        on_value=lambda v: rebuild(category=v),
        disabled=locked,
    )
    solara.Select(
        "engine (rebuilds)",
        values=list(ENGINES),
        value=settings["engine"],
        on_value=lambda v: rebuild(engine=v),
        disabled=locked,
    )
    solara.InputInt(
        "seed (rebuilds)",
        value=int(settings["seed"]),
        on_value=lambda v: rebuild(seed=v),
        disabled=locked,
    )
    solara.Select(
        "brand shown and steered",
        values=names,
        value=names[view["brand"]],
        on_value=lambda v: session.show_brand(names.index(v)),
        disabled=locked,
    )
    solara.Checkbox(
        label="private-domain operations",
        value=lev["private_ops"],
        on_value=setter("private_ops"),
        disabled=locked,
    )
    solara.Select(
        "guide KPI regime",
        values=["quality", "quota"],
        value=lev["guide_regime"],
        on_value=setter("guide_regime"),
        disabled=locked,
    )
    solara.Select(
        "channel policy",
        values=["separate", "assist"],
        value=lev["channel_policy"],
        on_value=setter("channel_policy"),
        disabled=locked,
    )
    for label, key, top, step, fmt in LEVER_SLIDERS:
        if key == "ad_budget_per_day":
            top, step = budget_slider(
                session.live.scenario.brands[names[view["brand"]]].strategy.ad_budget_per_day
            )
        with solara.Column(
            classes=["siyu-lever", f"siyu-lever-{key}"], style={"padding-top": "6px"}, gap="0px"
        ):
            solara.SliderFloat(
                f"{label}: {fmt.format(lev[key])}",
                value=lev[key],
                min=0,
                max=top,
                step=step,
                on_value=setter(key, step),
                thumb_label=False,
                disabled=locked,
            )
    with solara.Column(classes=["siyu-lever", "siyu-lever-koc_count"], gap="0px"):
        solara.SliderInt(
            f"KOCs: {int(lev['koc_count'])}",
            value=int(lev["koc_count"]),
            min=0,
            max=30,
            on_value=setter("koc_count", 1),
            thumb_label=False,
            disabled=locked,
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
        LivePage(parse_qs(router.search or "").get("s", [None])[0], key)


@solara.component
def Layout(children: list | None = None):
    """No app bar: each page brings its own navigation."""
    with solara.Column(children=children or []):
        pass


load_scenario(SCENARIO)  # a bad scenario fails at start, not in the browser
routes = [
    solara.Route(path="/", component=Page, label="Live model", layout=Layout),
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
