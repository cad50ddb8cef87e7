"""The workshop game: teams run competing brands in one market, a quarter per round.

Pure logic, no UI. A game is a scenario (fully resolved and stored), a seed, the teams
(one brand each, all cloned from one of the scenario's brands, so the game is fair), the
game rules (budget per round and what money buys) and, per round, each team's decision.

Each round every team submits a `Decision` (a quarterly budget split across ads, guides,
content, discounts, rewards and KOCs, plus guide KPI regime, content mix, channel policy and
optional market research); when all teams have submitted, the round applies the decisions
to the brands' strategies and steps the model `round_days` days.

A game is saved to a folder as JSON (`game.json`: the scenario, seed, rules, decisions and
each round's results) after every submission and round. Loading rebuilds the model by
replaying the rounds from the seed: the same seed and decisions give the same market, and
the replayed results are checked against the saved ones, so a restart between rounds
restores the game exactly.

Randomness: the market steps on the run's Generator (`sim.runner.run_rng(seed)`); research
noise comes from a Generator derived from (seed, round, team, study), so buying a study
never changes the market.
"""

from __future__ import annotations

import json
import math
import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.agents import AWARE, CUSTOMER, MEMBER
from sim.kpis import flow_kpis
from sim.params import ContentMix, RewardTier, Scenario, StrategyParams

GAME_FILE = "game.json"
FORMAT_VERSION = 1
STUDIES = ("survey", "panel")
SPLIT_ITEMS = ("ads", "guides", "content", "discounts", "rewards", "kocs")
STAFFING_FIELDS = (
    "private_ops",
    "guides_per_store",
    "guide_skill_sd",
    "koc_count",
    "koc_kind",
    "koc_circle",
    "employee_distributors",
    "employee_circle",
)
"""Strategy fields that change who works for the brand: changing one re-staffs it."""

Share = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]


class GameError(Exception):
    """A refused action: `str(err)` is one line `WHERE: KEY: message`."""

    def __init__(self, where: str | Path, key: str | None, message: str):
        self.where = str(where)
        self.key = key
        self.message = " ".join(str(message).split())
        super().__init__(f"{self.where}: {key}: {self.message}" if key else f"{where}: {message}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


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
    member_value: NonNeg = Field(
        30.0, description="yuan: score value of each reachable member at the end"
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


def _explain(err: dict[str, Any]) -> tuple[str, str]:
    loc = [str(p) for p in err["loc"] if not str(p).startswith("function-")]
    key = ".".join(loc) or "(top level)"
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        return key, "unknown key"
    if err["type"] == "missing":
        return key, "missing"
    if err["type"] == "value_error":
        msg = msg.removeprefix("Value error, ")
        first, sep, rest = msg.partition(":")
        if sep and " " not in first:
            key = ".".join([*loc, first]) if loc and loc[-1] != first else first
            return key, rest.strip()
    if "input" in err and not isinstance(err["input"], dict):
        msg += f" (got {err['input']!r})"
    return key, msg


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
        text = path.read_text(encoding="utf-8")
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


def research_cost(decision: Decision, rules: GameRules) -> float:
    return sum(rules.survey_cost if s == "survey" else rules.panel_cost for s in decision.research)


def apply_strategy(brand: Any, strategy: StrategyParams) -> None:
    """Give a brand new levers; re-staff guides and KOCs only if staffing changed (so a
    change of ad budget does not break the guides' 1:1 relationships)."""
    old = brand.strategy
    if any(getattr(old, f) != getattr(strategy, f) for f in STAFFING_FIELDS):
        brand.adopt(strategy)
    else:
        brand.strategy = strategy.model_copy(deep=True)


# ---------------------------------------------------------------- building the market
def game_scenario(
    scenario: Scenario, teams: list[str], brand: str | None, rules: GameRules
) -> Scenario:
    """The game's market: one brand per team, each a copy of the template brand (not
    adaptive), the horizon long enough for all rounds."""
    if not teams:
        raise GameError("--teams", None, "at least one team is needed")
    for t in teams:
        if not t or not all(ch.isalnum() or ch in "_-" for ch in t):
            raise GameError("--teams", None, f"team name {t!r}: use letters, digits, _ or -")
    if len(set(teams)) != len(teams):
        raise GameError("--teams", None, "team names must be different")
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
        daily += round(bp.stores * st.guides_per_store) * st.guide_salary_per_day
    return float(max(20_000.0, round(1.5 * daily * rules.round_days, -3)))


# ---------------------------------------------------------------- the game
class Game:
    """A game in a folder. `Game.new` creates it, `Game.load` restores it by replay."""

    def __init__(self, folder: Path, state: dict[str, Any], check: bool = True):
        from sim.model import MarketModel
        from sim.runner import run_rng

        self.folder = Path(folder)
        self.state = state
        self.scenario = Scenario.model_validate(state["scenario"])
        self.rules = GameRules.model_validate(state["rules"])
        self.seed = int(state["seed"])
        self.teams: list[str] = list(state["teams"])
        self.model = MarketModel(self.scenario, rng=run_rng(self.seed))
        self.brand_of = {br.name: br for br in self.model.brands}
        self.template = {t: self.scenario.brands[t].strategy for t in self.teams}
        saved = state["rounds"]
        state["rounds"] = []
        for k, rnd in enumerate(saved):
            decisions = {t: Decision.model_validate(d) for t, d in rnd["decisions"].items()}
            results = self._play(decisions)
            if check and _fingerprint(results) != _fingerprint(rnd["results"]):
                raise GameError(
                    self.folder / GAME_FILE,
                    f"rounds.{k + 1}",
                    "replaying the saved decisions does not reproduce the saved results "
                    "(the simulator changed since the game was saved)",
                )

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
    ) -> Game:
        folder = Path(folder)
        if (folder / GAME_FILE).exists():
            raise GameError(folder, None, "a game already exists in this folder")
        if folder.exists() and not folder.is_dir():
            raise GameError(folder, None, "exists and is not a folder")
        rules_data = dict(rules or {}) if not isinstance(rules, GameRules) else rules.model_dump()
        if "budget_per_round" not in rules_data:
            base = GameRules.model_validate(rules_data)
            rules_data["budget_per_round"] = suggested_budget(scenario, brand, base)
        game_rules = GameRules.model_validate(rules_data)
        sc = game_scenario(scenario, teams, brand, game_rules)
        state = {
            "format": FORMAT_VERSION,
            "name": scenario.name,
            "seed": scenario.run.seed if seed is None else int(seed),
            "teams": list(teams),
            "rules": game_rules.model_dump(mode="json"),
            "scenario": sc.model_dump(mode="json"),
            "rounds": [],
            "pending": {},
        }
        game = cls(folder, state)
        game.save()
        return game

    @classmethod
    def load(cls, folder: str | Path) -> Game:
        path = Path(folder) / GAME_FILE
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise GameError(folder, None, f"no game here (no {GAME_FILE})") from None
        except (OSError, json.JSONDecodeError) as exc:
            raise GameError(path, None, f"cannot read the game: {exc}") from None
        if state.get("format") != FORMAT_VERSION:
            raise GameError(path, "format", f"unsupported game format {state.get('format')!r}")
        try:
            return cls(Path(folder), state)
        except ValidationError as exc:
            key, msg = _explain(exc.errors()[0])
            raise GameError(path, key, msg) from None

    def save(self) -> None:
        """Write game.json atomically (and the round reports as Markdown for paper)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / GAME_FILE
        tmp = path.with_name(f".{GAME_FILE}.tmp")
        tmp.write_text(
            json.dumps(self.state, indent=1, ensure_ascii=False, allow_nan=False) + "\n",
            encoding="utf-8",
        )
        os.replace(tmp, path)

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

    def waiting_for(self) -> list[str]:
        return [t for t in self.teams if t not in self.state["pending"]]

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
    def check(self, team: str, decision: Decision, where: str | Path = "decision") -> None:
        """Refuse a decision that breaks the rules (one GameError with the reason)."""
        if team not in self.teams:
            raise GameError(
                where, "team", f"unknown team {team!r} (teams: {', '.join(self.teams)})"
            )
        if self.finished:
            raise GameError(
                where, None, f"the game is over (all {self.rules.rounds} rounds played)"
            )
        cap = self.rules.budget_per_round
        research = research_cost(decision, self.rules)
        if decision.budget + research > cap + 1e-6:
            extra = f" plus research {research:,.0f}" if research else ""
            raise GameError(
                where,
                "budget",
                f"{decision.budget:,.0f}{extra} yuan is over the budget of {cap:,.0f} yuan a round",
            )
        stores = self.scenario.brands[team].stores
        if decision.split.guides > 0 and stores == 0:
            raise GameError(
                where, "split.guides", "the brand has no stores, so it cannot hire guides"
            )

    def submit(
        self, team: str, decision: Decision | dict, where: str | Path = "decision"
    ) -> Decision:
        """Record a team's decision for the next round (replacing an earlier submission)."""
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
        decisions = self.pending
        results = self._play(decisions)
        self.state["pending"] = {}
        self.save()
        return results

    def _play(self, decisions: dict[str, Decision]) -> dict[str, Any]:
        model = self.model
        k = self.round + 1
        for team in self.teams:
            br = self.brand_of[team]
            lv = levers(decisions[team], self.template[team], br.stores, self.rules)
            apply_strategy(br, self.template[team].model_copy(update=lv))
        start = model.today
        for _ in range(self.rules.round_days):
            model.step()
        results = round_results(model, start, model.today)
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
            t["score"] = t["cumulative_contribution"] + self.rules.member_value * t["reachable"]
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


def round_results(model: Any, start: int, end: int) -> dict[str, Any]:
    """Per team: the round's flows (P&L, funnel, CAC, ROI, private share) and end stocks."""
    frame = model.ledger.to_frame(end)
    rows = frame[frame["day"] >= start]
    out: dict[str, Any] = {"days": [start, end], "teams": {}}
    for br in model.brands:
        r = rows[rows["brand"] == br.name]
        flows = r.drop(columns=["day", "brand", "category"]).sum()
        last = r[r["day"] == end - 1].iloc[0]
        k = flow_kpis(flows)
        costs = {name: float(sum(flows[c] for c in cols)) for name, cols in WATERFALL_COSTS}
        out["teams"][br.name] = {
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
            "funnel": {
                s: float(last[f"stock_{s}"])
                for s in ("unaware", "aware", "customers", "members", "lapsed")
            },
            "members": float(last["stock_members"]),
            "reachable": float(last["stock_reachable"]),
            "guides": float(last["stock_guides"]),
            "kocs": float(last["stock_koc_nodes"]),
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
        for br in model.brands:
            states = model.funnel[br.index, sample]
            aware = float(np.isin(states, (AWARE, CUSTOMER, MEMBER)).mean())
            member = float((states == MEMBER).mean())
            out["brands"][br.name] = {
                "aware": aware,
                "aware_margin": 1.96 * math.sqrt(aware * (1 - aware) / n),
                "member": member,
                "member_margin": 1.96 * math.sqrt(member * (1 - member) / n),
            }
        return out
    # panel: a sample of the round's orders, by brand and channel
    start, end = model.today - game.rules.round_days, model.today
    data = model.ledger.data
    cells = [(br.name, ch) for br in model.brands for ch in ("platform", "private", "store")]
    counts = np.array(
        [data[f"orders_{ch}"][start:end, i // 3].sum() for i, (_, ch) in enumerate(cells)]
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
# ads: yuan/day of platform ads = budget x ads / {r.round_days}
# guides: salaried 1:1 guides = budget x guides / ({r.round_days} x daily salary)
# content: ops team and tooling; one broadcast a week per {r.post_cost_per_day:g} yuan/day
# discounts: each {r.discount_cost_per_point:,.0f} yuan buys 1 point of private-shop discount
# rewards: reward per first referral = budget x rewards / {r.reward_pool_per_yuan:g} (x2 at 5)
# kocs: KOCs recruited = budget x kocs / ({r.round_days} x {r.koc_cost_per_day:g})
"""
