"""The workshop game: teams run competing brands in one market, a quarter per round.

Pure logic, no UI. A game is a scenario (fully resolved and stored), a seed, the teams
(one brand each, all cloned from one of the scenario's brands, so the game is fair), the
game rules (budget per round and what money buys) and, per round, each team's decision.

Each round every team submits a `Decision` (a quarterly budget split across ads, guides,
content, discounts, rewards and KOCs, plus guide KPI regime, content mix, channel policy and
optional market research); when all teams have submitted, the round applies the decisions
to the brands' strategies and steps the model `round_days` days.

The market runs on either engine through the engine protocol (`sim.protocol`): the game
reads it only through the protocol (ledger, funnel states, `set_strategy`). A game is saved
to a folder as JSON (`game.json`: the scenario, seed, engine, rules, decisions and each
round's results) after every submission and round; a save without an engine is a game of
the reference engine (`LEGACY_ENGINE`). Loading reads the save only; the market is rebuilt
when a command first needs it (running a round): continued from `market.state`, the market
saved after the last round (`sim.workshop.marketfile`), or else by replaying the rounds from
the seed on the game's engine, the replayed results checked against the saved ones. Either
way the same seed and decisions give the same market, byte for byte, so a restart between
rounds restores the game exactly and round 8 costs about what round 1 costs.
Each played round carries checksums of its decisions and results,
so an edited save is reported as edited, not as a changed simulator. The save also holds the
secrets of the links (one per team, one for the facilitator): see `savefile` and the
facilitator guide's threat model.

Each team's score counts the incremental contribution of its private operations against its
twin market (the same market and seed, its brand without private operations: `TWIN`), stepped
beside the game's. The facilitator may apply platform shocks (`SHOCKS`) from a round on, and
a game may hold computer-run rivals (`RIVALS`) that decide by a fixed rule from the save.

Randomness: the market steps on the run's random streams (`sim.runner.run_rng(seed)`); research
noise comes from a Generator derived from (seed, round, team, study), so buying a study
never changes the market.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import math
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.counterfactual import BUILTINS
from sim.kpis import flow_kpis
from sim.params import (
    ContentMix,
    PlatformParams,
    RewardTier,
    Scenario,
    StrategyParams,
    expected_guides,
)
from sim.protocol import ENGINES, Engine, build_engine
from sim.vocab import CHANNELS, STATE_NAMES, State
from sim.workshop.marketfile import read_market, write_market
from sim.workshop.savefile import (
    FORMAT_VERSION,
    GAME_FILE,
    GameError,
    digest,
    explain,
    locked,
    new_secrets,
    read_state,
    round_checks,
    write_state,
)

__all__ = ["FORMAT_VERSION", "GAME_FILE", "Decision", "Game", "GameError", "GameRules"]

STUDIES = ("survey", "panel")
SPLIT_ITEMS = ("ads", "guides", "content", "discounts", "rewards", "kocs")
LEGACY_ENGINE = "agents"
"""The engine of a save that names none: every game before the choice was played on the
reference engine, and replays on it."""
DEFAULT_ENGINE = "agents"
"""The engine of a new game unless chosen (see the README's Workshop section)."""

RESUMABLE_ENGINES = ("agents",)
"""Engines whose market is saved after each round (`sim.workshop.marketfile`). The fast
engine's state does not yet survive pickling exactly (its compiled kernels share arrays in
ways a pickle does not keep), so a fast game replays: a round of it takes well under a
second at workshop sizes."""

Share = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]


class _Strict(BaseModel):
    """No unknown keys, no coercion ("3" is not a number, "yes" not a bool), no NaN or inf."""

    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, strict=True, allow_inf_nan=False
    )


class GameRules(_Strict):
    """What a round is, what a team may spend, what money buys, how teams are scored."""

    rounds: Annotated[int, Field(gt=0, le=40)] = Field(8, description="rounds in the game")
    round_days: Annotated[int, Field(gt=0)] = Field(90, description="days: one round")
    budget_per_round: NonNeg = Field(
        100_000.0, description="yuan: most a team may commit in a round (research included)"
    )
    post_cost_per_day: Annotated[float, Field(gt=0)] = Field(
        100.0, description="yuan/day of content budget that buys one broadcast a week"
    )
    discount_cost_per_point: Annotated[float, Field(gt=0)] = Field(
        2_000.0, description="yuan/round of discount budget per point (1%) of private discount"
    )
    max_discount: Share = Field(0.4, description="share of price: highest private discount")
    reward_pool_per_yuan: Annotated[float, Field(gt=0)] = Field(
        50.0, description="yuan of reward budget per yuan of reward per first referral"
    )
    koc_cost_per_day: Annotated[float, Field(gt=0)] = Field(
        30.0, description="yuan/day per KOC: recruiting, samples and fees (a cash cost)"
    )
    survey_cost: NonNeg = Field(5_000.0, description="yuan: awareness and membership survey")
    survey_sample: Annotated[int, Field(gt=0)] = Field(200, description="respondents")
    panel_cost: NonNeg = Field(8_000.0, description="yuan: channel panel")
    panel_sample: Annotated[int, Field(gt=0)] = Field(300, description="orders in the panel")
    value_rounds: Annotated[float, Field(ge=0.0)] = Field(
        4.0,
        description="rounds: the score counts a round's incremental contribution of private "
        "operations (against the team's twin market) this many rounds more: the customer value "
        "of the private domain (4 quarters: a year); 0: no twin markets are run",
    )
    member_value: NonNeg = Field(
        0.0,
        description="yuan: score value of each reachable member at the end, whatever members "
        "add (the score of games saved before `value_rounds`: 30 there, 0 in new games)",
    )


class Split(_Strict):
    """Shares of the round's budget; they must sum to 1."""

    ads: Share = 0.0
    guides: Share = 0.0
    content: Share = 0.0
    discounts: Share = 0.0
    rewards: Share = 0.0
    kocs: Share = 0.0

    @model_validator(mode="after")
    def _sums_to_one(self) -> Split:
        total = sum(getattr(self, k) for k in SPLIT_ITEMS)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"split: shares must sum to 1 (they sum to {total:g})")
        return self


class Decision(_Strict):
    """One team's decision for one round (a decision form, or a TOML decision file)."""

    budget: NonNeg = Field(description="yuan committed this round (research comes on top)")
    split: Split = Field(description="shares of the budget across the six uses")
    guide_regime: Literal["quality", "quota"] = "quality"
    content_mix: ContentMix = ContentMix()
    channel_policy: Literal["separate", "assist"] = "separate"
    research: list[Literal["survey", "panel"]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_research(self) -> Decision:
        if len(set(self.research)) != len(self.research):
            raise ValueError("research: each study can be bought once a round")
        return self

    def spend(self, item: str) -> float:
        return self.budget * getattr(self.split, item)


_explain = explain


def parse_decision(data: dict[str, Any], where: str | Path = "decision") -> Decision:
    """Validate a decision table, or raise one GameError naming the key."""
    try:
        return Decision.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        key, msg = _explain(errors[0])
        raise GameError(where, key, msg) from None


def read_decision(path: str | Path) -> Decision:
    """Read a TOML (or JSON) decision file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark from an editor is fine
    except (OSError, UnicodeDecodeError) as exc:
        raise GameError(
            path, None, f"cannot read: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise GameError(
            path, None, f"not valid {path.suffix.lstrip('.') or 'TOML'}: {exc}"
        ) from None
    return parse_decision(data, path)


def default_decision(template: StrategyParams, rules: GameRules) -> Decision:
    """A neutral starting form: the whole budget on ads (teams change it)."""
    return Decision(
        budget=rules.budget_per_round,
        split=Split(ads=1.0),
        guide_regime=template.guide_regime,
        content_mix=template.content_mix,
        channel_policy=template.channel_policy,
    )


# ---------------------------------------------------------------- decisions -> levers
def levers(decision: Decision, base: StrategyParams, stores: int, rules: GameRules) -> dict:
    """The strategy levers a decision sets (the mapping the facilitator guide explains)."""
    days = rules.round_days
    guide_pay = base.guide_salary_per_day * days
    guides = math.floor(decision.spend("guides") / guide_pay + 1e-9) if guide_pay > 0 else 0
    content_per_day = decision.spend("content") / days
    reward = decision.spend("rewards") / rules.reward_pool_per_yuan
    kocs = math.floor(decision.spend("kocs") / (rules.koc_cost_per_day * days) + 1e-9)
    discount = decision.spend("discounts") / rules.discount_cost_per_point / 100.0
    private = any(decision.split.__dict__[k] > 0 for k in SPLIT_ITEMS if k != "ads")
    return {
        "private_ops": private,
        "ad_budget_per_day": decision.spend("ads") / days,
        "guides_per_store": guides / stores if stores else 0.0,
        "guide_regime": decision.guide_regime,
        "tooling_per_day": content_per_day,
        "broadcasts_per_week": min(7.0, content_per_day / rules.post_cost_per_day),
        "content_mix": decision.content_mix,
        "private_discount": min(rules.max_discount, discount),
        "referral_tiers": [
            RewardTier(referrals=1, reward=reward),
            RewardTier(referrals=5, reward=2 * reward),
        ]
        if reward > 0
        else [],
        "koc_count": kocs,
        "koc_fee_per_day": rules.koc_cost_per_day,
        "channel_policy": decision.channel_policy,
    }


USE_HELP = {
    "ads": "platform ads: yuan/day of ads = budget x share / round days; impressions at the "
    "day's CPM (it rises with every brand's ad demand)",
    "guides": "salaried 1:1 WeCom store guides, whole guides only (a remainder is not "
    "spent); guides also earn a commission on each sale they guide, paid on top",
    "content": "ops team and tooling, spent in full; one broadcast a week per {post:g} yuan/day",
    "discounts": "sets the private-shop discount: each {point:,.0f} yuan buys 1 point (1%), "
    "at most {max_pct:.0f}%; the discount is paid on each private order, so the P&L shows "
    "discount x private sales, not this allocation",
    "rewards": "sets the reward per first referral (budget x share / {pool:g}; twice that at "
    "5 referrals), paid per referral, so the P&L shows reward x referrals; the P&L line "
    "'rewards and gifts' also holds the scenario's welcome gift to each new member",
    "kocs": "KOCs recruited, whole KOCs only, at {koc:g} yuan/day each (fees); KOCs also "
    "earn a commission on the sales they bring, paid on top",
}
"""What each use of the budget buys and how it reaches the P&L: one text for the paper
form's comments, the web form's help and the round report (`use_help`)."""


def use_help(item: str, rules: GameRules) -> str:
    """The explanation of one budget use, with the game's prices filled in."""
    return USE_HELP[item].format(
        post=rules.post_cost_per_day,
        point=rules.discount_cost_per_point,
        max_pct=100 * rules.max_discount,
        pool=rules.reward_pool_per_yuan,
        koc=rules.koc_cost_per_day,
    )


def purchases(
    decision: Decision, base: StrategyParams, stores: int, rules: GameRules, cpm: float
) -> list[dict[str, Any]]:
    """What each use of the decision's budget buys, with its price: one row per use
    (`use`, `yuan` allocated, `price`, `buys`), for the form, before a team submits.
    `cpm` is the scenario's base CPM (yuan per 1000 impressions at reference demand)."""
    lv = levers(decision, base, stores, rules)
    days = rules.round_days
    guides = round(lv["guides_per_store"] * stores)
    reward = lv["referral_tiers"][0].reward if lv["referral_tiers"] else 0.0
    rows = [
        (
            "ads",
            f"{cpm:g} yuan per 1000 impressions (base CPM)",
            f"{lv['ad_budget_per_day']:,.0f} yuan/day: about "
            f"{1000 * lv['ad_budget_per_day'] / cpm:,.0f} impressions a day at base CPM",
        ),
        (
            "guides",
            f"{base.guide_salary_per_day:g} yuan/day per guide ({days} days)",
            f"{guides} guides ({lv['guides_per_store']:.2f} per store, {stores} stores)",
        ),
        (
            "content",
            f"{rules.post_cost_per_day:g} yuan/day per weekly broadcast",
            f"{lv['tooling_per_day']:,.0f} yuan/day: {lv['broadcasts_per_week']:.1f} "
            "broadcasts a week",
        ),
        (
            "discounts",
            f"{rules.discount_cost_per_point:,.0f} yuan per point of discount",
            f"{100 * lv['private_discount']:.1f}% off every private-shop order",
        ),
        (
            "rewards",
            f"{rules.reward_pool_per_yuan:g} yuan of budget per yuan of reward",
            f"{reward:,.0f} yuan per first referral ({2 * reward:,.0f} at 5 referrals)",
        ),
        (
            "kocs",
            f"{rules.koc_cost_per_day:g} yuan/day per KOC ({days} days)",
            f"{lv['koc_count']} KOCs",
        ),
    ]
    return [
        {"use": use, "yuan": decision.spend(use), "price": price, "buys": buys}
        for use, price, buys in rows
    ]


BOOKED = {
    "ads": ("cost_ads",),
    "guides": ("cost_guide_salary", "cost_guide_commission"),
    "content": ("cost_tooling",),
    "discounts": ("discounts",),
    "rewards": ("cost_referral_rewards", "cost_welcome_gifts"),
    "kocs": ("cost_koc_fees", "cost_koc_commission"),
}
"""The ledger columns each budget use is booked in (`round_results` keeps them as `cash`)."""


def allocated_vs_booked(decision: Decision, team_results: dict[str, Any]) -> list[dict]:
    """Per budget use: the yuan allocated and the yuan the P&L booked for it, column by
    column (they differ where a use is paid per event: see `USE_HELP`)."""
    cash = team_results.get("cash") or {}
    return [
        {
            "use": use,
            "allocated": decision.spend(use),
            "booked": {col: cash[col] for col in cols if col in cash},
        }
        for use, cols in BOOKED.items()
    ]


TWIN = "no_private_ops"
"""The counterfactual of a team's twin market (`sim.counterfactual`): the same market on the
same seed (common random numbers), the other teams as they played, the team's own ads as it
bought them, and no private operations of its own (no guides, content, discounts, rewards or
KOCs, and none of their costs)."""
TWIN_SETTINGS = BUILTINS[TWIN].settings


def score_parts(t: dict[str, Any], rules: GameRules) -> dict[str, float]:
    """A team's score after a round and its parts (the formula stated on every page):
    score = cumulative contribution after research + customer value, where customer value =
    `value_rounds` x the round's incremental contribution of the team's private operations
    (its contribution minus its twin's; nothing if negative: a brand would stop operations
    that lose money) + `member_value` per reachable member (0 in new games)."""
    incremental = t.get("incremental_contribution", 0.0)
    value = rules.value_rounds * max(0.0, incremental) + rules.member_value * t["reachable"]
    return {"customer_value": value, "score": t["cumulative_contribution"] + value}


def score_rule(rules: GameRules) -> str:
    """The score formula in words, with the game's numbers."""
    text = "score = cumulative contribution after research"
    if rules.value_rounds > 0:
        text += (
            f" + customer value: {rules.value_rounds:g} x this round's incremental "
            "contribution of your private operations (your contribution minus your twin's: "
            "the same market, same seed, your brand without private operations; 0 if "
            "negative)"
        )
    if rules.member_value > 0:
        text += f" + {rules.member_value:g} yuan per reachable member at the end of the round"
    return text


# ---------------------------------------------------------------- shocks and rivals
SHOCKS: dict[str, tuple[str, float | None]] = {
    "ban_package_cards": (
        "the platform bans package cards: no brand may put cards in platform parcels that "
        "invite buyers into its private domain",
        None,
    ),
    "platform_discount": (
        "the platform obliges every brand to a standing discount of {value:.0%} on the "
        "platform (a festival price war)",
        0.1,
    ),
    "cpm_spike": (
        "the platform's traffic costs {value:g} times as much: every brand's CPM is "
        "multiplied by {value:g} (a festival auction)",
        2.0,
    ),
    "take_rate": (
        "the platform raises its commission to {value:.0%} of the GMV sold on it",
        0.1,
    ),
}
"""Shocks a facilitator may apply to every brand from a round on: kind -> (what happens,
default size or None). Each is a platform rule every team's strategy must follow
(`shock_settings`) or new platform terms (`shock_platform`)."""

SHOCK_RANGES: dict[str, tuple[float, float, str]] = {
    "platform_discount": (0.0, 1.0, "a share from 0 to below 1"),
    "take_rate": (0.0, 1.0, "a share from 0 to below 1"),
    "cpm_spike": (0.1, 10.0, "a multiplier from 0.1 to below 10"),
}
"""The sizes a shock with a size accepts: kind -> (low, high exclusive, in words)."""


def shock_text(shock: dict[str, Any]) -> str:
    """One line for pages and reports: from which round, what happens."""
    what = SHOCKS[shock["kind"]][0].format(value=shock["value"])
    return f"from round {shock['from_round']}: {what}"


def shock_settings(shock: dict[str, Any]) -> dict[str, Any]:
    """The strategy fields a shock sets for every brand (none for new platform terms)."""
    if shock["kind"] == "ban_package_cards":
        return {"package_card_rate": 0.0}
    if shock["kind"] == "platform_discount":
        return {"platform_discount": float(shock["value"])}
    return {}


def shock_platform(platform: PlatformParams, shocks: list[dict[str, Any]]) -> PlatformParams:
    """The platform's terms under `shocks` (in the order applied), from the scenario's own:
    a CPM spike multiplies the base CPM, a take-rate rise sets the commission."""
    update: dict[str, float] = {}
    for shock in shocks:
        if shock["kind"] == "cpm_spike":
            update["base_cpm"] = update.get("base_cpm", platform.base_cpm) * shock["value"]
        elif shock["kind"] == "take_rate":
            update["take_rate"] = float(shock["value"])
    return platform.model_copy(update=update) if update else platform


RIVALS = {
    "ads_only": "puts the whole budget on ads, every round",
    "balanced": "a fixed split every round: 40% ads, 20% guides, 15% content, 10% discounts, "
    "5% rewards, 10% KOCs (guides go to ads for a brand without stores)",
    "copycat": "copies the split and policies of the team with the best score after the last "
    "round (another team; balanced in round 1), at the full budget, without research",
}
"""Computer-run rival brands for small classes: archetype -> its decision rule. Each rule
is deterministic: it reads only the save, so a game replays exactly."""
BALANCED = {
    "ads": 0.4,
    "guides": 0.2,
    "content": 0.15,
    "discounts": 0.1,
    "rewards": 0.05,
    "kocs": 0.1,
}


def rival_names(archetypes: list[str], taken: list[str]) -> dict[str, str]:
    """Team names for rivals (`rival-ARCHETYPE`, numbered when repeated) -> archetype."""
    out: dict[str, str] = {}
    for a in archetypes:
        if a not in RIVALS:
            raise GameError("--rivals", None, f"unknown rival {a!r} (known: {', '.join(RIVALS)})")
        name, n = f"rival-{a}", 1
        while name in out or name in taken:
            n += 1
            name = f"rival-{a}-{n}"
        out[name] = a
    return out


def research_cost(decision: Decision, rules: GameRules) -> float:
    return sum(rules.survey_cost if s == "survey" else rules.panel_cost for s in decision.research)


# ---------------------------------------------------------------- building the market
def team_names_problem(teams: list[str]) -> str | None:
    """What is wrong with a list of team names (they go into links and file names), or None."""
    if not teams:
        return "at least one team is needed"
    for t in teams:
        if not t or not all(ch.isalnum() or ch in "_-" for ch in t):
            return f"team name {t!r}: use letters, digits, _ or -"
    if len(set(teams)) != len(teams):
        return "team names must be different"
    return None


def game_scenario(
    scenario: Scenario, teams: list[str], brand: str | None, rules: GameRules
) -> Scenario:
    """The game's market: one brand per team, each a copy of the template brand (not
    adaptive), the horizon long enough for all rounds."""
    problem = team_names_problem(teams)
    if problem:
        raise GameError("--teams", None, problem)
    name = brand or next(iter(scenario.brands))
    if name not in scenario.brands:
        known = ", ".join(scenario.brands)
        raise GameError("--brand", None, f"unknown brand {name!r} (known: {known})")
    template = scenario.brands[name].model_copy(update={"adaptive": False}, deep=True)
    data = scenario.model_dump(mode="json")
    data["brands"] = {t: template.model_dump(mode="json") for t in teams}
    data["run"]["days"] = rules.rounds * rules.round_days
    return Scenario.model_validate(data)


def suggested_budget(scenario: Scenario, brand: str | None, rules: GameRules) -> float:
    """1.5 times what the template brand's fixed spend costs in a round, in round thousands."""
    bp = scenario.brands[brand or next(iter(scenario.brands))]
    st = bp.strategy
    daily = st.ad_budget_per_day + st.tooling_per_day
    if st.private_ops:
        daily += expected_guides(bp) * st.guide_salary_per_day
    return float(max(20_000.0, round(1.5 * daily * rules.round_days, -3)))


def _validated(model: type[BaseModel], data: Any, path: Path, prefix: str) -> Any:
    """`model` validated from a saved table, or one GameError naming the saved key."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        key, msg = explain(exc.errors()[0], prefix)
        raise GameError(path, key, msg) from None


def _like(new: Any, saved: Any) -> Any:
    """`new` cut to the keys `saved` has (results of a newer version may hold more, such as
    the cash booked per budget use: a save from before them still replays)."""
    if isinstance(new, dict) and isinstance(saved, dict):
        return {k: _like(new[k], saved[k]) if k in new else None for k in saved}
    return new


def _replay_mismatch(rnd: dict[str, Any]) -> str:
    if rnd.get("sha256") is not None:  # decisions and results match their checksums
        return (
            "replaying the saved decisions gives other results than those saved: the "
            "simulator changed since the game was saved (the save itself is intact)"
        )
    return (
        "replaying the saved decisions does not reproduce the saved results: the save was "
        "edited, or the simulator changed since it was saved"
    )


# ---------------------------------------------------------------- the game
def _needs_upgrade(state: dict[str, Any]) -> bool:
    """A save from before links had secrets and rounds had checksums (format 1)."""
    return (
        state["format"] != FORMAT_VERSION
        or state.get("secrets") is None
        or any(rnd.get("sha256") is None for rnd in state["rounds"])
    )


class Game:
    """A game in a folder. `Game.new` creates it, `Game.load` restores it by replay,
    `Game.edit` holds the writers' lock around a fresh load, `reload` re-reads the save."""

    def __init__(self, folder: Path, state: dict[str, Any], check: bool = True):
        """Build the game from a save that `read_state` accepted: check what it means
        (teams, decisions, checksums), then replay its rounds and compare the results.
        A format-1 save gets its secrets and checksums here (`upgraded` is then True)."""
        self.folder = Path(folder)
        path = self.folder / GAME_FILE
        self.state = state
        self.scenario = _validated(Scenario, state["scenario"], path, "scenario")
        rules = state["rules"]
        if isinstance(rules, dict) and "value_rounds" not in rules:  # saved before twins
            rules = {**rules, "value_rounds": 0.0, "member_value": rules.get("member_value", 30.0)}
        self.rules = _validated(GameRules, rules, path, "rules")
        self.seed = int(state["seed"])
        self.teams: list[str] = list(state["teams"])
        problem = team_names_problem(self.teams)
        if problem:
            raise GameError(path, "teams", problem)
        if list(self.scenario.brands) != self.teams:
            raise GameError(path, "teams", "do not match the brands of the game's scenario")
        if len(state["rounds"]) > self.rules.rounds:
            raise GameError(
                path,
                "rounds",
                f"{len(state['rounds'])} rounds saved, the game has {self.rules.rounds}",
            )
        self.template = {t: self.scenario.brands[t].strategy for t in self.teams}
        saved = state["rounds"]
        for k, rnd in enumerate(saved, 1):  # every decision valid, within the rules, unedited
            self._saved_decisions(k, rnd)
        self._check_pending(state)
        self.upgraded = _needs_upgrade(state)
        if state.get("secrets") is None:
            state["secrets"] = new_secrets(self.teams)
        self._check_secrets(state)
        state.setdefault("shocks", [])
        state.setdefault("rivals", {})
        self._check_extras(state)
        self.engine = state.get("engine") or LEGACY_ENGINE
        if self.engine not in ENGINES:
            known = ", ".join(ENGINES)
            raise GameError(path, "engine", f"unknown engine {self.engine!r} (known: {known})")
        self.brand_of = {name: b for b, name in enumerate(self.scenario.brands)}
        self._check = check
        self._model: Engine | None = None
        self._twins: dict[str, Engine] = {}
        self.market_from: str | None = None
        """How the market was rebuilt: "save" (`DIR/market.state`), "replay", or None (not
        yet: commands that only read or record decisions never need it)."""
        if self.upgraded:  # an old save has no checksums: replaying it is its check
            self._replay()
        for rnd in saved:
            if rnd.get("sha256") is None:
                rnd["sha256"] = round_checks(rnd["decisions"], rnd["results"])
        state["format"] = FORMAT_VERSION

    @property
    def model(self) -> Engine:
        """The market after the last round played: continued from `DIR/market.state` when
        that file was signed by this game for exactly these rounds, else replayed from the
        seed (and the file written again), so round N costs about what round 1 costs."""
        if self._model is None:
            restored = None
            if self.engine in RESUMABLE_ENGINES:
                restored = read_market(
                    self.folder, self.secret(), self.round, self._rounds_digest()
                )
            if (
                isinstance(restored, tuple)
                and len(restored) == 2
                and restored[0].today == self.round * self.rules.round_days
                and set(restored[1]) == set(self.twin_teams)
            ):
                (self._model, self._twins), self.market_from = restored, "save"
            else:
                self._replay()
                self._write_market()
        assert self._model is not None
        return self._model

    @property
    def twin_teams(self) -> list[str]:
        """The teams with a twin market (every team, unless `value_rounds` is 0)."""
        return list(self.teams) if self.rules.value_rounds > 0 else []

    def _rounds_digest(self) -> str:
        return digest([rnd.get("sha256") for rnd in self.state["rounds"]])

    def _write_market(self) -> None:
        """Save the market for the next command (best effort: without it the game replays)."""
        if self._model is None or self.engine not in RESUMABLE_ENGINES:
            return
        with contextlib.suppress(OSError):
            write_market(
                self.folder,
                (self._model, self._twins),
                self.secret(),
                self.round,
                self._rounds_digest(),
            )

    def _replay(self) -> None:
        """Rebuild the market from the seed by playing the saved rounds again, checking that
        each gives the saved results (unless built with check=False)."""
        from sim.runner import run_rng

        path = self.folder / GAME_FILE
        saved = self.state["rounds"]
        played = [
            {t: Decision.model_validate(d) for t, d in rnd["decisions"].items()} for rnd in saved
        ]
        self._model = build_engine(self.engine, self.scenario, run_rng(self.seed))
        self._twins = {
            t: build_engine(self.engine, self.scenario, run_rng(self.seed)) for t in self.twin_teams
        }
        self.state["rounds"] = []
        try:
            for k, (rnd, decisions) in enumerate(zip(saved, played, strict=True), 1):
                results = self._play(decisions)
                if self._check and digest(_like(results, rnd["results"])) != digest(rnd["results"]):
                    raise GameError(path, f"rounds.{k}", _replay_mismatch(rnd))
        except BaseException:
            self._model = None
            raise
        finally:  # keep the saved rounds (equal to the replayed ones)
            self.state["rounds"] = saved
        self.market_from = "replay"

    def _saved_decisions(self, k: int, rnd: dict[str, Any]) -> dict[str, Decision]:
        """Round k's decisions, checked: every team's, valid, within the rules, unedited."""
        path = self.folder / GAME_FILE
        where = f"rounds.{k}.decisions"
        for team in rnd["decisions"]:
            if team not in self.teams:
                raise GameError(path, f"{where}.{team}", "not a team of this game")
        for team in self.teams:
            if team not in rnd["decisions"]:
                raise GameError(path, f"{where}.{team}", "missing")
        checks = rnd.get("sha256")
        if checks is not None and set(checks["decisions"]) != set(self.teams):
            raise GameError(path, f"rounds.{k}.sha256.decisions", "do not match the teams")
        out = {}
        for team in self.teams:
            data = rnd["decisions"][team]
            out[team] = self._valid_decision(data, team, f"{where}.{team}", "edited decision")
            if checks is not None and digest(data) != checks["decisions"][team]:
                raise GameError(
                    path,
                    f"{where}.{team}",
                    "edited decision: it no longer matches the checksum saved when round "
                    f"{k} was played (restore the original or start a new game)",
                )
        if checks is not None and digest(rnd["results"]) != checks["results"]:
            raise GameError(
                path,
                f"rounds.{k}.results",
                "edited results: they no longer match the checksum saved when the round was played",
            )
        return out

    def _valid_decision(self, data: dict, team: str, where: str, what: str) -> Decision:
        path = self.folder / GAME_FILE
        try:
            decision = parse_decision(data)
        except GameError as exc:
            raise GameError(
                path, f"{where}.{exc.key}", f"{what} is invalid: {exc.message}"
            ) from None
        problem = self._rule_problem(team, decision)
        if problem:
            key, msg = problem
            raise GameError(path, f"{where}.{key}", f"{what} breaks the rules: {msg}")
        return decision

    def _check_pending(self, state: dict[str, Any]) -> None:
        for team, data in state["pending"].items():
            if team not in self.teams:
                raise GameError(
                    self.folder / GAME_FILE, f"pending.{team}", "not a team of this game"
                )
            self._valid_decision(data, team, f"pending.{team}", "submitted decision")

    def _check_extras(self, state: dict[str, Any]) -> None:
        """The shocks and rivals of a save name known kinds, rounds and teams."""
        path = self.folder / GAME_FILE
        for j, shock in enumerate(state["shocks"], 1):
            if shock["kind"] not in SHOCKS:
                raise GameError(path, f"shocks.{j}.kind", f"unknown shock {shock['kind']!r}")
            if not 1 <= shock["from_round"] <= self.rules.rounds:
                raise GameError(path, f"shocks.{j}.from_round", "not a round of this game")
        for team, archetype in state["rivals"].items():
            if team not in self.teams:
                raise GameError(path, f"rivals.{team}", "not a team of this game")
            if archetype not in RIVALS:
                raise GameError(path, f"rivals.{team}", f"unknown rival {archetype!r}")

    def _check_secrets(self, state: dict[str, Any]) -> None:
        if set(state["secrets"]["teams"]) != set(self.teams):
            raise GameError(self.folder / GAME_FILE, "secrets.teams", "do not match the teams")

    # ------------------------------------------------------------ create / load / save
    @classmethod
    def new(
        cls,
        folder: str | Path,
        scenario: Scenario,
        teams: list[str],
        seed: int | None = None,
        brand: str | None = None,
        rules: GameRules | dict | None = None,
        engine: str = DEFAULT_ENGINE,
        rivals: list[str] | None = None,
    ) -> Game:
        """Create a game in `folder` (refused if one is there) on the named engine, with
        computer-run rival brands of the named archetypes (`RIVALS`) after the teams."""
        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            raise GameError(folder, None, "exists and is not a folder")
        if engine not in ENGINES:
            raise GameError(
                "--engine", None, f"unknown engine {engine!r} (known: {', '.join(ENGINES)})"
            )
        rules_data = dict(rules or {}) if not isinstance(rules, GameRules) else rules.model_dump()
        if "budget_per_round" not in rules_data:
            base = GameRules.model_validate(rules_data)
            rules_data["budget_per_round"] = suggested_budget(scenario, brand, base)
        game_rules = GameRules.model_validate(rules_data)
        problem = team_names_problem(teams)
        if problem:
            raise GameError("--teams", None, problem)
        bots = rival_names(list(rivals or []), list(teams))
        teams = [*teams, *bots]
        sc = game_scenario(scenario, teams, brand, game_rules)
        state = {
            "format": FORMAT_VERSION,
            "name": scenario.name,
            "seed": scenario.run.seed if seed is None else int(seed),
            "engine": engine,
            "teams": list(teams),
            "rules": game_rules.model_dump(mode="json"),
            "scenario": sc.model_dump(mode="json"),
            "rounds": [],
            "pending": {},
            "secrets": new_secrets(list(teams)),
            "shocks": [],
            "rivals": bots,
        }
        with locked(folder):
            if (folder / GAME_FILE).exists():
                raise GameError(folder, None, "a game already exists in this folder")
            game = cls(folder, state)
            game.save()
        return game

    @classmethod
    def load(cls, folder: str | Path) -> Game:
        """The game saved in `folder`, rebuilt by replay and checked; a format-1 save is
        upgraded (secrets and checksums added) and written back, under the lock."""
        state = read_state(folder)
        if not _needs_upgrade(state):
            return cls(Path(folder), state)
        with locked(folder):
            game = cls(Path(folder), read_state(folder))
            if game.upgraded:
                game.save()
                game.upgraded = False
            return game

    @classmethod
    @contextlib.contextmanager
    def edit(cls, folder: str | Path) -> Iterator[Game]:
        """The game freshly loaded under the writers' lock, for an action that saves."""
        with locked(folder):
            yield cls.load(folder)

    def reload(self) -> None:
        """Re-read the save (another process may have written it). Cheap when only the
        submissions or secrets changed; a full replay when rounds were played elsewhere."""
        state = read_state(self.folder)
        state.setdefault("shocks", [])
        state.setdefault("rivals", {})
        same = not _needs_upgrade(state) and all(
            state.get(k) == self.state.get(k)
            for k in ("seed", "engine", "teams", "rules", "scenario", "rounds", "shocks", "rivals")
        )
        if same:
            self._check_pending(state)
            self._check_secrets(state)
            self.state["pending"] = state["pending"]
            self.state["secrets"] = state["secrets"]
            self.state["name"] = state["name"]
            return
        fresh = Game.load(self.folder)
        self.__dict__.update(fresh.__dict__)

    def save(self) -> None:
        """Write game.json atomically (callers that change the game hold the lock)."""
        write_state(self.folder, self.state)

    # ------------------------------------------------------------ access
    def secret(self, team: str | None = None) -> str:
        """The secret of a team's link, or of the facilitator's (team None)."""
        s = self.state["secrets"]
        return s["facilitator"] if team is None else s["teams"][team]

    def allows(self, key: str | None, team: str | None = None) -> bool:
        """Whether `key` (from a link) opens the facilitator's page (team None) or the
        page of `team`. Compared in constant time; a missing or unknown team never passes."""
        if not key or (team is not None and team not in self.teams):
            return False
        return hmac.compare_digest(key.encode("utf-8"), self.secret(team).encode("utf-8"))

    def links(self, base_url: str) -> dict[str, str]:
        """The links to hand out: "facilitator" and one per team, each with its secret."""
        base = base_url.rstrip("/")
        out = {"facilitator": f"{base}/game?key={self.secret()}"}
        for team in self.players:
            out[team] = f"{base}/game/team/{quote(team)}?key={self.secret(team)}"
        return out

    def renew_secrets(self) -> None:
        """New secrets for every link (the old links stop working); saves."""
        self.state["secrets"] = new_secrets(self.teams)
        self.save()

    # ------------------------------------------------------------ state
    @property
    def round(self) -> int:
        """Rounds played so far (the next round is `round + 1`)."""
        return len(self.state["rounds"])

    @property
    def finished(self) -> bool:
        return self.round >= self.rules.rounds

    @property
    def pending(self) -> dict[str, Decision]:
        return {t: Decision.model_validate(d) for t, d in self.state["pending"].items()}

    @property
    def rivals(self) -> dict[str, str]:
        """Computer-run teams -> archetype (`RIVALS`)."""
        return self.state["rivals"]

    @property
    def players(self) -> list[str]:
        """The teams people play (every team but the rivals)."""
        return [t for t in self.teams if t not in self.rivals]

    def waiting_for(self) -> list[str]:
        """Teams of people that have not submitted for the next round (rivals never wait)."""
        return [t for t in self.players if t not in self.state["pending"]]

    def shocks_for(self, k: int) -> list[dict[str, Any]]:
        """The shocks in force in round k, in the order they were applied."""
        return [s for s in self.state["shocks"] if s["from_round"] <= k]

    def add_shock(
        self, kind: str, from_round: int | None = None, value: float | None = None
    ) -> dict[str, Any]:
        """Apply a shock to every brand from a round on (default: the next round; never a
        round already played); saves. Callers sharing the folder hold the lock."""
        if kind not in SHOCKS:
            raise GameError("--kind", None, f"unknown shock {kind!r} (known: {', '.join(SHOCKS)})")
        k = self.round + 1 if from_round is None else from_round
        if not self.round < k <= self.rules.rounds:
            raise GameError(
                "--from-round",
                None,
                f"round {k} is not to come (next round {self.round + 1}, last {self.rules.rounds})",
            )
        default = SHOCKS[kind][1]
        size = float(default if value is None else value) if default is not None else 0.0
        if default is not None:
            low, high, words = SHOCK_RANGES[kind]
            if not low <= size < high:
                raise GameError("--value", None, f"{words} (got {size:g})")
        shock = {"kind": kind, "from_round": k, "value": size}
        self.state["shocks"].append(shock)
        self.save()
        return shock

    def rival_decision(self, team: str) -> Decision:
        """The decision of a computer-run team for the next round, by its archetype's rule."""
        archetype, cap = self.rivals[team], self.rules.budget_per_round
        stores = self.scenario.brands[team].stores
        if archetype == "copycat" and self.round:
            others = [t for t, _ in self.ranking() if t != team]
            if others:
                d = self.decision(self.round, others[0])
                copy = d.model_copy(update={"budget": cap, "research": []})
                if self._rule_problem(team, copy) is None:
                    return copy
        if archetype == "ads_only":
            return default_decision(self.template[team], self.rules)
        split = dict(BALANCED)
        if stores == 0:
            split["ads"] += split.pop("guides")
        return Decision(
            budget=cap,
            split=Split(**split),
            guide_regime=self.template[team].guide_regime,
            content_mix=self.template[team].content_mix,
            channel_policy=self.template[team].channel_policy,
        )

    def results(self, k: int) -> dict[str, Any]:
        """Results of round k (1-based)."""
        return self.state["rounds"][k - 1]["results"]

    def decision(self, k: int, team: str) -> Decision:
        return Decision.model_validate(self.state["rounds"][k - 1]["decisions"][team])

    def last_decision(self, team: str) -> Decision:
        if team in self.state["pending"]:
            return Decision.model_validate(self.state["pending"][team])
        if self.round:
            return self.decision(self.round, team)
        return default_decision(self.template[team], self.rules)

    # ------------------------------------------------------------ actions
    def _rule_problem(self, team: str, decision: Decision) -> tuple[str, str] | None:
        """(key, reason) if the decision breaks the game's rules for this team, else None."""
        cap = self.rules.budget_per_round
        research = research_cost(decision, self.rules)
        if decision.budget + research > cap + 1e-6:
            extra = f" plus research {research:,.0f}" if research else ""
            return (
                "budget",
                f"{decision.budget:,.0f}{extra} yuan is over the budget of {cap:,.0f} yuan a round",
            )
        stores = self.scenario.brands[team].stores
        if decision.split.guides > 0 and stores == 0:
            return "split.guides", "the brand has no stores, so it cannot hire guides"
        return None

    def check(self, team: str, decision: Decision, where: str | Path = "decision") -> None:
        """Refuse a decision that breaks the rules (one GameError with the reason)."""
        if team not in self.teams:
            raise GameError(
                where, "team", f"unknown team {team!r} (teams: {', '.join(self.teams)})"
            )
        if team in self.rivals:
            raise GameError(where, "team", f"{team} is a computer-run rival: it decides itself")
        if self.finished:
            raise GameError(
                where, None, f"the game is over (all {self.rules.rounds} rounds played)"
            )
        problem = self._rule_problem(team, decision)
        if problem:
            raise GameError(where, *problem)

    def submit(
        self, team: str, decision: Decision | dict, where: str | Path = "decision"
    ) -> Decision:
        """Record a team's decision for the next round (replacing an earlier submission).
        Callers sharing the folder hold the lock around a fresh load (`Game.edit`)."""
        if not isinstance(decision, Decision):
            decision = parse_decision(decision, where)
        self.check(team, decision, where)
        self.state["pending"][team] = decision.model_dump(mode="json")
        self.save()
        return decision

    def run_round(self) -> dict[str, Any]:
        """Play the next round once every team has submitted; save; return its results."""
        if self.finished:
            raise GameError(
                self.folder, None, f"the game is over (all {self.rules.rounds} rounds played)"
            )
        waiting = self.waiting_for()
        if waiting:
            raise GameError(
                self.folder, None, f"round {self.round + 1} waits for team(s) {', '.join(waiting)}"
            )
        for team in self.rivals:
            self.state["pending"][team] = self.rival_decision(team).model_dump(mode="json")
        decisions = self.pending
        results = self._play(decisions)
        rnd = self.state["rounds"][-1]
        rnd["sha256"] = round_checks(rnd["decisions"], rnd["results"])
        self.state["pending"] = {}
        self.save()
        self._write_market()
        return results

    def _play(self, decisions: dict[str, Decision]) -> dict[str, Any]:
        model = self.model
        k = self.round + 1
        strategies = {}
        for team in self.teams:
            stores = self.scenario.brands[team].stores
            lv = levers(decisions[team], self.template[team], stores, self.rules)
            for shock in self.shocks_for(k):
                lv.update(shock_settings(shock))
            strategies[team] = self.template[team].model_copy(update=lv)
            model.set_strategy(self.brand_of[team], strategies[team])
        platform = shock_platform(self.scenario.platform, self.shocks_for(k))
        for market in (model, *self._twins.values()):
            if market.scenario.platform != platform:  # a save's market keeps its terms
                market.set_platform(platform)
        start = model.today
        for _ in range(self.rules.round_days):
            model.step()
        results = round_results(model, start, model.today)
        for team, twin in self._twins.items():  # the same market, the team without private ops
            for other in self.teams:
                st = strategies[other]
                if other == team:
                    st = st.model_copy(update=TWIN_SETTINGS(self.scenario.brands[team]))
                twin.set_strategy(self.brand_of[other], st)
            for _ in range(self.rules.round_days):
                twin.step()
            t = results["teams"][team]
            twin_t = round_results(twin, start, twin.today)["teams"][team]
            t["twin_contribution"] = twin_t["contribution"]
            t["incremental_contribution"] = t["contribution"] - twin_t["contribution"]
        for team in self.teams:
            t = results["teams"][team]
            spent = research_cost(decisions[team], self.rules)
            t["research_cost"] = spent
            t["contribution_after_research"] = t["contribution"] - spent
            t["research"] = {
                study: run_study(self, study, team, k) for study in decisions[team].research
            }
        prev = self.state["rounds"][-1]["results"]["teams"] if self.state["rounds"] else {}
        for team in self.teams:
            t = results["teams"][team]
            before = prev.get(team, {}).get("cumulative_contribution", 0.0)
            t["cumulative_contribution"] = before + t["contribution_after_research"]
            t.update(score_parts(t, self.rules))
        self.state["rounds"].append(
            {
                "decisions": {t: d.model_dump(mode="json") for t, d in decisions.items()},
                "results": results,
            }
        )
        return results

    def ranking(self) -> list[tuple[str, float]]:
        """Teams by score after the last round played (best first)."""
        return self.ranking_after(self.round)

    def ranking_after(self, k: int) -> list[tuple[str, float]]:
        """Teams by score after round k (best first; ties keep the team order)."""
        if not k:
            return [(t, 0.0) for t in self.teams]
        teams = self.results(k)["teams"]
        return sorted(((t, teams[t]["score"]) for t in self.teams), key=lambda x: -x[1])


# ---------------------------------------------------------------- results and research
WATERFALL_COSTS = (
    ("ads", ("cost_ads",)),
    ("platform commission", ("cost_platform_commission",)),
    ("guides", ("cost_guide_salary", "cost_guide_commission")),
    ("KOCs", ("cost_koc_commission", "cost_koc_fees")),
    ("rewards and gifts", ("cost_referral_rewards", "cost_welcome_gifts")),
    ("content and tooling", ("cost_tooling",)),
)


def round_results(model: Engine, start: int, end: int) -> dict[str, Any]:
    """Per team: the round's flows (P&L, funnel, CAC, ROI, private share) and end stocks."""
    frame = model.ledger.to_frame(end)
    rows = frame[frame["day"] >= start]
    out: dict[str, Any] = {"days": [start, end], "teams": {}}
    for name in model.brand_names:
        r = rows[rows["brand"] == name]
        flows = r.drop(columns=["day", "brand", "category"]).sum()
        last = r[r["day"] == end - 1].iloc[0]
        k = flow_kpis(flows)
        costs = {name: float(sum(flows[c] for c in cols)) for name, cols in WATERFALL_COSTS}
        out["teams"][name] = {
            **{
                key: k[key]
                for key in (
                    "gmv",
                    "gmv_platform",
                    "gmv_private",
                    "gmv_store",
                    "private_share",
                    "new_customers",
                    "new_members",
                    "gross_profit",
                    "cost_total",
                    "contribution",
                    "cac_public",
                    "cac_private",
                    "cac_blended",
                    "roas_ads",
                    "roi_public",
                    "roi_private",
                    "roi_total",
                    "mutes",
                    "leaves",
                )
            },
            "list_sales": float(flows["gmv_total"] + flows["discounts"]),
            "discounts": float(flows["discounts"]),
            "cogs": float(flows["cogs"]),
            "costs": costs,
            "funnel": {s: float(last[f"stock_{s}"]) for s in STATE_NAMES},
            "members": float(last["stock_members"]),
            "reachable": float(last["stock_reachable"]),
            "guides": float(last["stock_guides"]),
            "kocs": float(last["stock_koc_nodes"]),
            "cash": {c: float(flows[c]) for cols in BOOKED.values() for c in cols},
        }
    return out


def _fingerprint(results: dict[str, Any]) -> list:
    return [
        (t, round(v["gmv"], 2), round(v["cost_total"], 2), v["members"])
        for t, v in sorted(results["teams"].items())
    ]


def study_rng(seed: int, k: int, team_index: int, study: str) -> np.random.Generator:
    """The Generator of one study: derived from the game seed, the round, team and study."""
    return np.random.default_rng(
        np.random.SeedSequence([seed, k, team_index, STUDIES.index(study)])
    )


def run_study(game: Game, study: str, team: str, k: int) -> dict[str, Any]:
    rng = study_rng(game.seed, k, game.teams.index(team), study)
    model = game.model
    if study == "survey":
        n = min(game.rules.survey_sample, model.n_consumers)
        sample = rng.choice(model.n_consumers, size=n, replace=False)
        out: dict[str, Any] = {"sample": int(n), "brands": {}}
        for b, name in enumerate(model.brand_names):
            states = model.states(b)[sample]
            aware = float(np.isin(states, (State.AWARE, State.CUSTOMER, State.MEMBER)).mean())
            member = float((states == State.MEMBER).mean())
            out["brands"][name] = {
                "aware": aware,
                "aware_margin": 1.96 * math.sqrt(aware * (1 - aware) / n),
                "member": member,
                "member_margin": 1.96 * math.sqrt(member * (1 - member) / n),
            }
        return out
    # panel: a sample of the round's orders, by brand and channel
    start, end = model.today - game.rules.round_days, model.today
    data = model.ledger.data
    cells = [(name, ch) for name in model.brand_names for ch in CHANNELS]
    counts = np.array(
        [
            data[f"orders_{ch}"][start:end, i // len(CHANNELS)].sum()
            for i, (_, ch) in enumerate(cells)
        ]
    )
    total = counts.sum()
    n = game.rules.panel_sample
    drawn = rng.multinomial(n, counts / total) if total > 0 else np.zeros(len(cells), dtype=int)
    out = {"sample": int(n), "brands": {}}
    for i, (name, ch) in enumerate(cells):
        out["brands"].setdefault(name, {})[ch] = int(drawn[i])
    return out


def decision_toml(game: Game, team: str) -> str:
    """A decision file to fill in, starting from the team's last decision."""
    d = game.last_decision(team)
    r = game.rules
    split = "\n".join(f"{k} = {getattr(d.split, k):g}" for k in SPLIT_ITEMS)
    research = ", ".join(f'"{s}"' for s in d.research)
    name = game.state["name"]
    uses = "\n".join(_comment(f"{k}: {use_help(k, r)}") for k in SPLIT_ITEMS)
    return f"""# Decision of team {team} for round {game.round + 1} of {r.rounds} ({name})
# budget + research must stay within {r.budget_per_round:,.0f} yuan a round.
budget = {d.budget:g}            # yuan committed this round

guide_regime = "{d.guide_regime}"       # quality | quota (pull-in targets)
channel_policy = "{d.channel_policy}"    # separate | assist (private pushes platform coupons)
content_mix = {{ content = {d.content_mix.content:g}, service = {d.content_mix.service:g}, \
selling = {d.content_mix.selling:g} }}
research = [{research}]   # "survey" ({r.survey_cost:,.0f} yuan), "panel" ({r.panel_cost:,.0f})

[split]                    # shares of the budget; they must sum to 1
{split}
{uses}
"""


def _comment(text: str, width: int = 92) -> str:
    """`text` as TOML comment lines of at most `width` characters."""
    import textwrap

    return "\n".join("# " + line for line in textwrap.wrap(text, width - 2))
