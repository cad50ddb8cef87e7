"""Typed scenario parameters: every number that shapes behaviour, with its default.

This module is the one place where defaults live. Each field carries its unit and a
one-line meaning in its description; `siyu validate` prints the resolved values and
`docs/parameters.md` is generated from these classes (`siyu params`).

Figures quoted in descriptions come from the domain brief's source cases (Bosideng,
Kiehl's, brand A, Luckin, Dmall) or from the marketing-science literature named there.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from sim import vocab

ALLOW_LARGE_ENV = "SIYU_ALLOW_LARGE"
"""Environment variable: set to 1 to lift the size limits below (for those who mean it)."""
HARD_LIMIT = 2**31 - 1
"""The most any size may be even with the override: what the engines' indices can count."""


def allow_large() -> bool:
    """Whether the user lifted the size limits (SIYU_ALLOW_LARGE set, and not to 0)."""
    return os.environ.get(ALLOW_LARGE_ENV, "").strip() not in ("", "0")


def _count(value: float) -> str:
    """A readable count, short even for absurd values (10**30 prints as 'about 1e+30')."""
    digits = len(str(int(value)))
    if digits > 15:
        return f"about 1e+{digits - 1}"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.7g}"


def check_size(value: float, limit: int, unit: str) -> float:
    """Refuse a size above `limit` (unless the override is set) or above HARD_LIMIT.

    The message has no colon, so that error reports keep the key pydantic located.
    """
    if value > limit and not allow_large():
        raise ValueError(
            f"{_count(value)} {unit} is above the limit of {limit:,} "
            f"(set {ALLOW_LARGE_ENV}=1 in the environment if you mean it)"
        )
    if value > HARD_LIMIT:
        raise ValueError(
            f"{_count(value)} {unit} is more than the engines can count ({HARD_LIMIT:,})"
        )
    return value


def Capped(limit: int, unit: str) -> AfterValidator:
    """A pydantic validator: the size limit of `check_size` for one field."""
    return AfterValidator(lambda v: check_size(v, limit, unit))


SIZE_LIMITS: dict[str, tuple[int, str]] = {
    "run.days": (36_500, "days"),
    "run.consumers": (100_000_000, "consumers"),
    "network.mean_degree": (10_000, "ties"),
    "brands.NAME.stores": (1_000_000, "stores"),
    "brands.NAME.strategy.guides_per_store (times stores)": (10_000_000, "guides"),
    "brands.NAME.strategy.koc_count": (10_000_000, "nodes"),
    "brands.NAME.strategy.employee_distributors": (10_000_000, "employees"),
    "population.attention_slots_mean": (1_000, "brands"),
    "brands.NAME.strategy.guide_touches_per_day": (10_000, "messages a day"),
    "brands.NAME.strategy.koc_circle": (10_000_000, "people"),
    "brands.NAME.strategy.employee_circle": (10_000_000, "people"),
    "brands.NAME.store_visits_per_day": (10_000_000, "visits a day"),
}
"""Sizes that cost memory or time in proportion: key -> (limit, unit). Above its limit a
scenario is refused unless SIYU_ALLOW_LARGE=1 (36,500 days is 100 years). The daily counts
and circle sizes are here too: each unit is a loop step (or an allocation) every day."""


Share = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
Pos = Annotated[float, Field(gt=0.0)]
NonNegInt = Annotated[int, Field(ge=0, le=HARD_LIMIT)]
PosInt = Annotated[int, Field(gt=0, le=HARD_LIMIT)]
Seed = Annotated[int, Field(ge=0, lt=2**63)]
Rate = Annotated[float, Field(ge=0.0, le=HARD_LIMIT)]
"""A count per day or a circle size drawn as a Poisson mean: finite and countable."""

SOURCES_CUSTOMER = vocab.SOURCES_CUSTOMER
"""Where a consumer first heard of a brand; credited when it first buys."""
SOURCES_MEMBER = vocab.SOURCES_MEMBER
"""How a consumer entered a brand's private domain."""
CHANNELS = vocab.CHANNELS
"""Where an order is placed: the public platform, the brand's own shop, a physical store."""
MEMBER_CHANNELS = vocab.MEMBER_CHANNELS
"""The private-domain channel a member sits in."""


GUIDES_KEY = "brands.NAME.strategy.guides_per_store (times stores)"


def _size(key: str) -> AfterValidator:
    return Capped(*SIZE_LIMITS[key])


class Strict(BaseModel):
    """Base for all parameter tables: unknown keys are errors, values are validated on set.

    Types are strict (a string is never read as a number or a flag; an integer is fine where
    a number is expected) and numbers must be finite (NaN and infinities are refused).
    """

    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, strict=True, allow_inf_nan=False
    )


EXTENSIVE = "extensive"
"""Field metadata key: the quantity is extensive (see `F`)."""


def F(default, desc: str, extensive: bool = False, **kw):
    """A field with a default and a description ('unit: meaning').

    `extensive=True` marks a quantity of the whole market (a count of things, money per day
    for everyone) that grows in proportion to the population: `sim.scaling.scale_market`
    multiplies it when a run changes `run.consumers` with `--consumers`. Every other field
    is intensive (a per-capita rate, a share, a price, a circle size in people, a salary per
    guide) and keeps its value at any population.
    """
    if extensive:
        kw["json_schema_extra"] = {EXTENSIVE: True}
    return Field(default, description=desc, **kw)


def is_extensive(model: type[BaseModel], name: str) -> bool:
    """Whether field `name` of a parameter model is marked extensive (`F(extensive=True)`)."""
    extra = model.model_fields[name].json_schema_extra
    return isinstance(extra, dict) and bool(extra.get(EXTENSIVE))


class RunParams(Strict):
    days: Annotated[int, Field(gt=0), _size("run.days")] = F(
        365, "days: simulated horizon (one step = one day; at most 36,500: see the limits below)"
    )
    consumers: Annotated[int, Field(gt=0), _size("run.consumers")] = F(
        3000, "people: simulated consumers (at most 100 million: see the limits below)"
    )
    seed: Seed = F(1, "integer: default seed when the command line gives none")
    counterfactual: str = F(
        "no_private_ops",
        "name: the twin `siyu run` measures effects against (a built-in counterfactual, "
        'NAME@BRAND for one brand, or one of [counterfactuals]; "none" for the attributed '
        "run alone)",
    )


class NetworkParams(Strict):
    kind: Literal["small_world", "scale_free", "complete"] = F(
        "small_world",
        "small_world (Watts-Strogatz), scale_free (Barabasi-Albert), or complete "
        "(random mixing: word of mouth sees the whole population, the Bass limit)",
    )
    mean_degree: Annotated[int, Field(ge=2), _size("network.mean_degree")] = F(
        10, "ties: average number of friends"
    )
    rewire: Share = F(0.1, "probability: Watts-Strogatz rewiring of each tie")


class PopulationParams(Strict):
    need_shape: Pos = F(
        2.0,
        "gamma shape: heterogeneity of purchase-need rates (the category sets the mean); "
        "BG/NBD's r",
    )
    price_sensitivity_mean: Pos = F(1.0, "utility per 100% of list price: mean of alpha_i")
    price_sensitivity_cv: NonNeg = F(0.3, "ratio: coefficient of variation of alpha_i")
    platform_trust_mean: Share = F(0.7, "0-1: mean trust in platform buyer protection")
    platform_trust_concentration: Pos = F(10.0, "beta concentration of platform trust")
    attention_slots_mean: Annotated[
        Rate, Field(ge=1.0), _size("population.attention_slots_mean")
    ] = F(3.0, "brands: private domains a consumer keeps active (1 + Poisson)")
    hunter_share: Share = F(0.03, "share: coupon hunters (wool party) in the population")
    fatigue_tolerance_mean: Pos = F(6.0, "fatigue units: mean tolerance before muting")
    fatigue_tolerance_cv: NonNeg = F(0.3, "ratio: coefficient of variation of tolerance")
    fatigue_decay: Share = F(0.1, "share/day: fatigue that fades each day")
    engagement_decay: Share = F(0.01, "share/day: engagement that fades each day")
    harvest_threshold: Share = F(
        0.5, "share: selling touches among recent touches above which a member feels harvested"
    )
    harvest_memory: Pos = F(30.0, "touches: memory of the harvest feeling (EWMA span)")
    annoyance_penalty: NonNeg = F(
        1.0, "utility: lasting dislike of a brand one has muted (spam damages the brand)"
    )
    muted_leave_rate: Share = F(0.01, "probability/day: a muted member leaves the domain")
    organic_awareness: Share = F(0.0002, "probability/day: awareness from search and shelves")
    awareness_decay: Share = F(
        0.01, "probability/day: an aware non-customer forgets the brand (ad memory)"
    )
    wom_rate: NonNeg = F(
        0.02,
        "per day: word-of-mouth awareness hazard times the share of friends who are customers "
        "(the Bass q)",
    )
    trust_weight: NonNeg = F(1.0, "utility: weight of trust x buyer protection on the platform")
    relationship_weight: NonNeg = F(1.5, "utility: weight of member engagement in private/store")
    customer_loyalty: NonNeg = F(0.5, "utility: bonus for a brand already bought")
    convenience_platform: float = F(0.5, "utility: convenience of buying on the platform")
    convenience_private: float = F(0.3, "utility: convenience of the brand's mini-program shop")
    convenience_store: float = F(-0.3, "utility: convenience of a trip to a store")
    store_service_value: NonNeg = F(1.0, "utility: in-store service times category service need")
    habit_weight: NonNeg = F(
        3.0,
        "utility: value of a full habit of ordering in a brand's own shop (the mini-program's "
        "'slot in the phone'; Guadagni & Little 1983 loyalty, by channel)",
    )
    habit_gain: Share = F(
        0.5, "share of the gap to 1: habit one order in the brand's own shop builds"
    )
    habit_half_life: Pos = F(
        60.0, "days: half-life of the ordering habit between orders (frequency decides)"
    )

    # -- private lifts public (ODD 7.21): reviews posted on the platform after an order
    review_rate: Share = F(
        0.0,
        "probability: a buyer posts a platform review after a platform order without a "
        "reward (0: no unrewarded reviews)",
    )
    review_reward_sensitivity: NonNeg = F(
        20.0,
        "per 100% of list price: how strongly a points reward per review raises a member's "
        "review probability, 1 - (1 - review_rate) e^(-s R/P)",
    )

    outside_utility: float = F(1.0, "utility: buying an unmodelled brand or waiting instead")
    join_engagement: Share = F(0.2, "0-1: engagement of a new member (and of day-0 members)")
    reluctant_engagement: Share = F(
        0.5, "multiplier on the starting engagement of a member who joined reluctantly"
    )
    join_hassle: NonNeg = F(1.0, "utility: cost of adding a guide / joining a group")
    join_value_weight: NonNeg = F(
        3.0, "utility per 100% of price: value of member discounts and gifts when deciding to join"
    )
    join_service_weight: NonNeg = F(1.5, "utility: value of 1:1 service times service need")
    latent_need_window: Pos = F(
        30.0, "days: a pushed offer converts only if a need would arise within about this window"
    )
    engaged_threshold: Share = F(0.3, "0-1: engagement from which a member counts as engaged")
    active_window: PosInt = F(90, "days: a member is active if it bought within this window")


class PlatformParams(Strict):
    base_cpm: Pos = F(40.0, "yuan per 1000 impressions at reference demand on day 0")
    cpm_growth_per_year: NonNeg = F(
        0.25, "share/year: drift of traffic cost (the fading traffic dividend)"
    )
    cpm_demand_elasticity: NonNeg = F(
        0.3, "elasticity: CPM rises with total ad demand over the reference"
    )
    reference_ad_demand: Pos = F(
        5000.0, "yuan/day: total ad spend at which CPM equals base", extensive=True
    )
    take_rate: Share = F(0.05, "share of platform GMV: platform commission")
    buyer_protection: NonNeg = F(1.0, "utility: buyer protection (times consumer trust)")
    adstock_theta: Annotated[float, Field(ge=0.0, lt=1.0)] = F(
        0.5, "share/day: geometric adstock carry-over of impressions"
    )
    ad_max_hazard: Share = F(0.008, "probability/day: awareness hazard at full saturation")
    hill_k: Pos = F(1.0, "impressions per consumer-day: Hill half-saturation")
    hill_s: Pos = F(1.0, "Hill shape")
    ad_trial_boost: NonNeg = F(
        0.0, "share: of ad-aware consumers who try at once (promotion-driven impulse)"
    )
    # -- private lifts public (ODD 7.21): the brand's platform rating built from reviews
    rating_weight: NonNeg = F(
        0.5,
        "utility: lift of a fully saturated platform rating on the platform channel, for "
        "every buyer (reviews are its only input: no reviews, no lift)",
    )
    rating_half_saturation: Pos = F(
        0.02, "reviews per consumer: review stock at which the rating lift is half its weight"
    )
    review_decay: Share = F(
        0.005, "share/day: of the review stock that fades each day (recent reviews count)"
    )


# ---- several public platforms (issue 12, item 4)
_PLATFORM = PlatformParams()
"""The `[platform]` table's defaults: a named platform's terms default to them."""

PLATFORM_TERMS = (
    "base_cpm",
    "cpm_growth_per_year",
    "cpm_demand_elasticity",
    "reference_ad_demand",
    "take_rate",
    "buyer_protection",
)
"""The terms a named platform sets for itself and `[platform]` sets for the one platform."""


class PublicPlatform(Strict):
    """One named public platform (Tmall, JD, Douyin, Channels ...) of `[platforms.NAME]`:
    its own traffic price, commission, buyer protection, discovery and ban risk, and the
    share of consumers who shop there. The ad response (adstock, Hill, trial boost) stays
    the `[platform]` table's, shared by all platforms."""

    shoppers: Share = F(1.0, "share of consumers whose home platform this is (the shares sum to 1)")
    base_cpm: Pos = F(_PLATFORM.base_cpm, "yuan per 1000 impressions at reference demand on day 0")
    cpm_growth_per_year: NonNeg = F(
        _PLATFORM.cpm_growth_per_year, "share/year: drift of this platform's traffic cost"
    )
    cpm_demand_elasticity: NonNeg = F(
        _PLATFORM.cpm_demand_elasticity,
        "elasticity: CPM rises with the ad demand on this platform over the reference",
    )
    reference_ad_demand: Pos = F(
        _PLATFORM.reference_ad_demand,
        "yuan/day: ad spend on this platform at which CPM equals base",
        extensive=True,
    )
    take_rate: Share = F(
        _PLATFORM.take_rate, "share of platform GMV: commission on its shoppers' orders"
    )
    buyer_protection: NonNeg = F(
        _PLATFORM.buyer_protection,
        "utility: buyer protection its shoppers value (times their trust)",
    )
    discovery: Literal["search", "feed"] = F(
        "search",
        "search (Tmall, JD: people find goods) or feed (Douyin, Channels: a content feed "
        "shows goods to people, sim.rules.discovery_multiplier)",
    )
    feed_boost: NonNeg = F(
        1.0,
        "multiplier: organic awareness and word of mouth among the shoppers of a feed "
        "platform (ignored on a search platform)",
    )
    ban_risk: Share = F(
        0.0,
        "probability: a package card in a parcel of this platform is reported and blocked "
        "(no invitation; the platform bans diverting its buyers)",
    )


MAX_PLATFORMS = 100
"""The most public platforms a scenario may name (a consumer's home is a small integer)."""


def platform_terms(scenario: Scenario) -> list[PublicPlatform]:
    """The scenario's public platforms in order: its `[platforms.NAME]` tables, or, when it
    names none, the one platform of `[platform]` (every consumer shops there; search
    discovery, no ban risk)."""
    if scenario.platforms:
        return list(scenario.platforms.values())
    p = scenario.platform
    return [PublicPlatform(shoppers=1.0, **{term: getattr(p, term) for term in PLATFORM_TERMS})]


def ad_split(scenario: Scenario, strategy: StrategyParams) -> list[float]:
    """Shares of a brand's ad budget on each platform (`platform_terms` order): the
    strategy's `platform_ad_shares`, or, when it gives none, in proportion to each
    platform's shoppers ([1.0] with one platform). Raises ValueError naming an unknown
    platform."""
    if not scenario.platforms:
        return [1.0]
    names = list(scenario.platforms)
    given = strategy.platform_ad_shares
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise ValueError(
            f"platform_ad_shares: unknown platform {unknown[0]!r} (known: {', '.join(names)})"
        )
    if not given:
        return [scenario.platforms[k].shoppers for k in names]
    return [float(given.get(k, 0.0)) for k in names]


def _check_platforms(scenario: Scenario) -> None:
    """Cross-field checks of several platforms: shoppers sum to 1, and every brand's
    ad shares name known platforms and sum to 1."""
    if not scenario.platforms:
        for name, brand in scenario.brands.items():
            if brand.strategy.platform_ad_shares:
                raise ValueError(
                    f"brands.{name}.strategy.platform_ad_shares: needs [platforms] tables"
                )
        return
    if len(scenario.platforms) > MAX_PLATFORMS:
        raise ValueError(
            f"platforms: {len(scenario.platforms)} platforms is more than the "
            f"{MAX_PLATFORMS} a scenario may have"
        )
    total = sum(p.shoppers for p in scenario.platforms.values())
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"platforms: the shoppers shares must sum to 1 (got {total:g})")
    for name, brand in scenario.brands.items():
        shares = brand.strategy.platform_ad_shares
        try:
            ad_split(scenario, brand.strategy)
        except ValueError as exc:
            raise ValueError(f"brands.{name}.strategy.{exc}") from None
        if shares and abs(sum(shares.values()) - 1.0) > 1e-6:
            raise ValueError(
                f"brands.{name}.strategy.platform_ad_shares: must sum to 1 "
                f"(got {sum(shares.values()):g})"
            )


class CategoryParams(Strict):
    price: Pos = F(200.0, "yuan: list price of an average order")
    gross_margin: Share = F(0.6, "share: gross margin at list price")
    purchases_per_year: Pos = F(4.0, "orders/year: mean need rate of a customer")
    sku_breadth: NonNeg = F(1.0, "multiplier: breadth of the range a push can recommend")
    service_need: Share = F(0.5, "0-1: how much buyers value advice and after-sales care")
    dropout_mean: Share = F(0.15, "probability: BG/NBD dropout after a purchase (mean of p)")
    dropout_concentration: Pos = F(5.0, "beta concentration a+b of the dropout probability")
    trial_on_awareness: Share = F(0.0, "probability: a newly aware consumer buys at once")
    platform_fit: float = F(0.0, "utility: how well the category sells on platforms")
    private_fit: float = F(
        0.0,
        "utility: how well it sells in a mini-program beyond the ordering habit its buyers "
        "keep (population.habit_*): an input, 0 in the shipped categories",
    )
    store_fit: float = F(0.0, "utility: how much the category is bought in stores")
    # -- order values and baskets (issue 12, item 5; Gamma-Gamma spend, Fader, Hardie & Lee 2005)
    order_value_cv: NonNeg = F(
        0.0,
        "ratio: coefficient of variation across consumers of the mean value of their orders "
        "(Gamma, mean = price; 0: every consumer's orders are at the price)",
    )
    order_value_cv_order: NonNeg = F(
        0.0,
        "ratio: coefficient of variation of one order's value around its buyer's mean "
        "(Gamma, mean 1; 0: every order at the buyer's mean)",
    )


class ContentMix(Strict):
    content: Share = F(0.6, "share of touches: brand, product and scene content")
    service: Share = F(0.3, "share of touches: service and Q&A")
    selling: Share = F(0.1, "share of touches: selling")

    @model_validator(mode="after")
    def _sums_to_one(self) -> ContentMix:
        total = self.content + self.service + self.selling
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"content + service + selling must sum to 1 (got {total:g})")
        return self


class RewardTier(Strict):
    referrals: PosInt = F(1, "count: successful referrals that reach this tier")
    reward: NonNeg = F(30.0, "yuan: cost of the reward paid when the tier is reached")


class TouchEffects(Strict):
    fatigue_content: NonNeg = F(0.3, "fatigue units added by a content touch")
    fatigue_service: NonNeg = F(0.1, "fatigue units added by a service touch")
    fatigue_selling: NonNeg = F(1.0, "fatigue units added by a selling touch")
    engagement_content: Share = F(0.06, "share of the gap to 1: engagement from a content touch")
    engagement_service: Share = F(
        0.12, "share of the gap to 1: engagement from a service touch (times service need)"
    )
    selling_conversion: Share = F(
        0.15, "probability: a selling touch to a fully engaged member with a latent need buys"
    )
    group_effect: Share = F(0.3, "multiplier: effect of a group post vs a 1:1 message")
    broadcast_effect: Share = F(0.5, "multiplier: effect of a mini-program/official-account push")
    referral_rate: NonNeg = F(0.004, "probability/day: a fully engaged member refers a friend")
    reward_sensitivity: NonNeg = F(
        2.0, "multiplier per 100% of price: how much the next reward raises referral"
    )
    hunter_fake_rate: NonNeg = F(
        0.05, "fakes/day: fake referrals by a hunter member when the reward equals the price"
    )
    member_retention: Share = F(0.6, "share: cut in dropout probability for a fully engaged member")


MAX_NEED_LIFT = 10.0
"""Largest `member_need_lift` (demand expansion): a member's need rate at most 11 times its
own, already far above any repurchase uplift the source cases report."""


class StrategyParams(Strict):
    """A brand's levers. Strategies are data: a new strategy is a new table, not a class."""

    private_ops: bool = F(True, "flag: the brand runs private-domain operations at all")
    ad_budget_per_day: NonNeg = F(1000.0, "yuan/day: public-platform ad spend", extensive=True)
    platform_ad_shares: dict[str, Share] = F(
        {},
        "platform name -> share of the ad budget spent there (sum 1; [platforms] only; "
        "empty: in proportion to each platform's shoppers)",
    )
    targeting_precision: Share = F(
        0.1, "share: impressions that reach target consumers ('1 in 10 circles')"
    )
    platform_discount: Share = F(0.0, "share of price: standing discount on the platform")
    package_card_rate: Share = F(0.0, "share of platform parcels carrying a package card")
    package_card_channel: Literal["guide", "group", "mini_program", "official_account"] = F(
        "group", "member channel a package card leads to"
    )
    guides_per_store: NonNeg = F(0.0, "guides per store (WeCom 1:1 store guides)")
    guide_regime: Literal["quality", "quota"] = F(
        "quality", "guide KPI: quality (natural traffic) or quota (pull-in targets)"
    )
    guide_capacity: PosInt = F(300, "members one guide serves")
    guide_touches_per_day: Annotated[Rate, _size("brands.NAME.strategy.guide_touches_per_day")] = F(
        15.0, "messages/day per guide (9,000 guides, ~4M messages a month)"
    )
    guide_invite_rate: Share = F(0.3, "probability: a guide invites a store visitor or buyer")
    qr_invite_rate: Share = F(
        0.0,
        "probability: a store visitor or buyer is asked to scan the mini-program QR code "
        "(where no guide serves)",
    )
    quota_invite_multiplier: Pos = F(2.0, "multiplier on invites under the quota regime")
    quota_pressure: Share = F(
        0.5, "share: of reluctant invitees who join anyway under quota pressure"
    )
    reluctant_tolerance: Share = F(
        0.15, "multiplier on fatigue tolerance of members who joined reluctantly"
    )
    guide_salary_per_day: NonNeg = F(200.0, "yuan/day per guide")
    guide_commission: Share = F(0.05, "share of the GMV a guide's members place in private/store")
    guide_skill_sd: NonNeg = F(0.2, "sd of guide skill around 1")
    content_mix: ContentMix = F(ContentMix(), "the 631 mix of touches")
    broadcasts_per_week: Annotated[float, Field(ge=0.0, le=7.0)] = F(
        2.0, "posts/week to group, mini-program and account members (at most one a day)"
    )
    private_discount: Share = F(0.05, "share of price: discount in the private shop")
    member_coupon: Share = F(
        0.0, "share of price: coupon pushed to members (redeemed on the platform under assist)"
    )
    welcome_gift: NonNeg = F(10.0, "yuan: gift for joining (a cost when paid)")
    member_service: NonNeg = F(
        0.0, "utility: differentiated member services (cleaning, VIP returns) times service need"
    )
    referral_tiers: list[RewardTier] = F(
        [], "tiered fission rewards (Kiehl's: 1 -> sample, 10 -> full size)"
    )
    koc_count: Annotated[float, Field(ge=0), _size("brands.NAME.strategy.koc_count")] = F(
        0.0,
        "KOCs or small-B nodes recruited (a fraction, as in a scaled market, is drawn "
        "without bias when the brand staffs)",
        extensive=True,
    )
    koc_kind: Literal["koc", "small_b"] = F("koc", "what the recruited nodes are")
    koc_circle: Annotated[Rate, Field(gt=0.0), _size("brands.NAME.strategy.koc_circle")] = F(
        100.0, "people: circle a KOC or small-B node radiates to"
    )
    koc_posts_per_week: Annotated[float, Field(ge=0.0, le=7.0)] = F(2.0, "posts/week per KOC")
    koc_post_reach: Share = F(0.5, "share of the circle that sees a post")
    koc_awareness: Share = F(0.3, "probability: a reached unaware consumer becomes aware")
    koc_conversion: Share = F(0.05, "probability: a reached consumer with a latent need buys")
    koc_join: Share = F(0.1, "probability: a reached buyer is invited and considers joining")
    koc_commission: Share = F(0.1, "share of GMV paid to the KOC on sales it brings")
    koc_fee_per_day: NonNeg = F(0.0, "yuan/day per node: serving cost of a small-B node")
    employee_distributors: Annotated[
        float, Field(ge=0), _size("brands.NAME.strategy.employee_distributors")
    ] = F(
        0.0,
        "employees selling to their own circles (a fraction is drawn without bias, as KOCs)",
        extensive=True,
    )
    employee_circle: Annotated[
        Rate, Field(gt=0.0), _size("brands.NAME.strategy.employee_circle")
    ] = F(30.0, "people: circle of one employee distributor")
    employee_posts_per_week: Annotated[float, Field(ge=0.0, le=7.0)] = F(
        1.0, "posts/week per employee distributor"
    )
    employee_commission: Share = F(0.05, "share of GMV paid to the employee")
    channel_policy: Literal["separate", "assist"] = F(
        "separate",
        "separate: the private shop is its own sales channel; assist: private pushes "
        "platform coupons and sales land on the platform",
    )
    tier_spend: list[NonNeg] = F([], "yuan: cumulative spend thresholds of membership tiers")
    tier_discount: list[Share] = F([], "share of price: extra discount at each tier")
    tooling_per_day: NonNeg = F(
        0.0, "yuan/day: SCRM tooling, mini-program and ops team", extensive=True
    )
    # organisation and channel conflict (brand A): who is credited with private sales, how
    # willing the public team is to divert, and the private shop's guarantee
    private_sales_kpi: Literal["shared", "separate"] = F(
        "shared",
        "shared: private-shop sales also count towards the public (platform-store) team's "
        "KPI, so it sends the package cards the strategy plans; separate: they count only "
        "for a private sales team, and the public team, losing the buyers it diverts, sends "
        "only public_team_cooperation of them (brand A; under the assist policy private "
        "sales land on the platform, so nothing is lost either way)",
    )
    public_team_cooperation: Share = F(
        0.5,
        "share: of the planned package cards a public team sends when the buyers it diverts "
        "to the private shop no longer count for it (private_sales_kpi separate; a stylised "
        "value: brand A's article names an unwilling team, no figure)",
    )
    private_guarantee: NonNeg = F(
        0.0,
        "utility: the private shop's buyer guarantee (Youzan's escrow answering the "
        "platform's buyer protection), valued like it: times consumer trust and "
        "trust_weight; equal to platform.buyer_protection it matches the platform",
    )
    # -- order values and baskets (issue 12, item 5)
    cross_sell: Share = F(
        0.0,
        "share: of the range beyond one product (category sku_breadth - 1) that a private-shop "
        "or pushed order adds to the basket (recommendations, bundles; 0: no cross-sell)",
    )
    # --- demand expansion (issue 12, item 8): membership raises the member's own need rate
    member_need_lift: Annotated[float, Field(ge=0.0, le=MAX_NEED_LIFT)] = F(
        0.0,
        "share: rise of a member's own need rate in the brand's category while it is a "
        "(not muted) member and the brand runs private operations: repurchase reminders and "
        "cross-sell, rate x (1 + lift); 0 switches demand expansion off (at most 10)",
    )
    # -- private lifts public (ODD 7.21): points for reviews, points as a currency
    review_points: NonNeg = F(
        0.0,
        "yuan: points a member of a brand running private operations gets for posting a "
        "platform review after a platform order (a cost when the review is posted)",
    )
    points_rate: Share = F(
        0.0,
        "share of the price paid: points a member earns on an order in any of the brand's "
        "channels (full-domain membership), redeemable as part of a later price; valued by "
        "the member as money and booked as a cost when earned",
    )
    # ---- the calendar (festival touch plan): off with "none"
    festival_broadcast: Literal["content", "service", "selling", "none"] = F(
        "none",
        "touch kind (content, service, selling) of an extra post the brand sends to its "
        "group, mini-program and account members on every festival day of the [calendar] "
        "(Kiehl's 618 / Double 11 campaigns); none: no festival post",
    )
    # ---- lifecycle operations: touches triggered by a member's state (off: "random")
    touch_targeting: Literal["random", "lifecycle"] = F(
        "random",
        "whom a guide's daily 1:1 messages go to: random (members drawn at random) or "
        "lifecycle (first the members due a welcome, win-back or birthday touch, then at "
        "random)",
    )
    welcome_days: NonNegInt = F(
        7, "days: a member who joined within this many days is due one welcome touch"
    )
    winback_after: NonNeg = F(
        1.5,
        "inter-purchase times (365 / the category's purchases_per_year): a member whose last "
        "order lies this far back is due one win-back touch",
    )
    winback_until: NonNeg = F(
        4.0, "inter-purchase times: a member whose last order lies further back is not won back"
    )
    birthday_days: NonNegInt = F(
        0,
        "days: a member is due one birthday touch within this many days from its birthday "
        "(0: none; birthdays are drawn only for a brand with lifecycle targeting and this > 0)",
    )
    welcome_mix: ContentMix | None = F(None, "the mix of welcome touches (none: content_mix)")
    winback_mix: ContentMix | None = F(None, "the mix of win-back touches (none: content_mix)")
    birthday_mix: ContentMix | None = F(None, "the mix of birthday touches (none: content_mix)")

    @model_validator(mode="after")
    def _tiers_consistent(self) -> StrategyParams:
        if len(self.tier_spend) != len(self.tier_discount):
            raise ValueError("tier_spend and tier_discount must have the same length")
        if list(self.tier_spend) != sorted(self.tier_spend):
            raise ValueError("tier_spend must be increasing")
        counts = [t.referrals for t in self.referral_tiers]
        if counts != sorted(set(counts)):
            raise ValueError("referral_tiers must have strictly increasing 'referrals'")
        return self

    @model_validator(mode="after")
    def _winback_window(self) -> StrategyParams:
        """Lifecycle operations: the win-back window must not end before it starts."""
        if self.winback_until < self.winback_after:
            raise ValueError("winback_until must be at least winback_after")
        return self

    def segment_mix(self, segment: int) -> ContentMix:
        """Lifecycle operations: the content mix of a lifecycle segment's touches
        (`sim.vocab.Segment`): its own mix if the strategy gives one, else content_mix."""
        own = (None, self.welcome_mix, self.winback_mix, self.birthday_mix)[segment]
        return self.content_mix if own is None else own

    def wants_birthdays(self) -> bool:
        """Lifecycle operations: whether this strategy touches members on their birthday."""
        return self.touch_targeting == "lifecycle" and self.birthday_days > 0


class InitialState(Strict):
    aware: Share = F(0.1, "share of consumers aware of the brand on day 0")
    customers: Share = F(0.02, "share of consumers who have bought before day 0")
    members: Share = F(0.0, "share of consumers in the brand's private domain on day 0")
    last_purchase_within: PosInt = F(
        365, "days: day-0 customers bought last at a uniform day within this many days"
    )

    @model_validator(mode="after")
    def _nested(self) -> InitialState:
        if not self.members <= self.customers <= self.aware:
            raise ValueError("initial shares must satisfy members <= customers <= aware")
        return self


class BrandParams(Strict):
    category: str = F("default", "name of a [categories] table")
    appeal: float = F(0.0, "utility: brand preference on top of price and channel")
    stores: Annotated[float, Field(ge=0), _size("brands.NAME.stores")] = F(
        0.0,
        "physical stores: a brand has stores if above 0; guides number stores x "
        "guides_per_store (a fraction, as in a scaled market, is drawn without bias)",
        extensive=True,
    )
    store_coverage: Share = F(0.3, "share of consumers living near one of its stores")
    store_visits_per_day: Annotated[Rate, _size("brands.NAME.store_visits_per_day")] = F(
        0.0, "visits/day across all stores", extensive=True
    )
    store_conversion: Share = F(0.3, "probability: a store visit with a latent need buys")
    franchise_share: Share = F(
        0.0,
        "share: of the store customers whose store is a franchisee's or a distributor's, "
        "which owns the relationship (Bosideng: 3,600 stores, 50% direct)",
    )
    franchise_handover: Share = F(
        0.0,
        "share: of its customers a franchisee hands over to the brand's private domain; the "
        "rest are never invited at a store (brand A: distributors unwilling to hand over)",
    )
    annual_budget: NonNeg = F(
        1e12,
        "yuan/budget year (days 0-364, 365-729, ...): most the brand spends on ads, guides' "
        "salaries, tooling, node fees, welcome gifts and referral rewards (commissions are "
        "fees on sales, not budget); a year's planned ads and operations must fit at load, "
        "and during a run the ads stop for the rest of the year once they no longer fit "
        "(sim.rules.ads_within_budget)",
        extensive=True,
    )
    adaptive: bool = F(False, "flag: reviews its strategy and imitates peers (Fermi rule)")
    initial: InitialState = F(InitialState(), "funnel on day 0")
    strategy: StrategyParams = F(StrategyParams(), "the brand's levers")


def expected_guides(brand: BrandParams) -> float:
    """A brand's expected number of store guides: stores x guides_per_store. Staffing draws
    the whole number by unbiased rounding (`sim.staffing.draw_count`); budgets and limits
    are checked on this expectation."""
    return brand.stores * brand.strategy.guides_per_store


def planned_annual_spend(brand: BrandParams) -> float:
    """yuan/year: what a brand's plan commits to spend in a budget year, ads and contracted
    operations (365 x (ads + expected guides x salary + tooling + nodes x daily fee)); it
    must fit `annual_budget` at load. Welcome gifts and referral rewards are paid as
    consumers join and refer, so they are not planned here (the run counts them)."""
    st = brand.strategy
    return 365.0 * (
        st.ad_budget_per_day
        + expected_guides(brand) * st.guide_salary_per_day
        + st.tooling_per_day
        + st.koc_count * st.koc_fee_per_day
    )


class MarketParams(Strict):
    review_days: PosInt = F(90, "days: how often adaptive brands review their strategy")
    payoff_window: PosInt = F(
        180,
        "days: trailing window of the ROI a reviewing brand compares; a brand reviews "
        "only a strategy it has run this long",
    )
    fermi_kappa: Pos = F(0.2, "ROI units: noise of imitation in the Fermi rule")
    exploration: Share = F(0.02, "probability: a reviewing brand switches private ops at random")
    discount_rate_per_year: NonNeg = F(0.1, "share/year: discount rate for LTV and CLV")


# ---- the calendar: festival days (618, Double 11, user-defined)
DAYS_PER_YEAR = 365
"""Days of the calendar year festivals are placed in (no leap days)."""
MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

FESTIVAL_PRESETS: dict[str, dict[str, Any]] = {
    "618": {
        "name": "618",
        "first": "06-01",
        "last": "06-18",
        "cpm_multiplier": 1.5,
        "demand_multiplier": 2.0,
        "interaction_multiplier": 3.0,
    },
    "double11": {
        "name": "Double 11",
        "first": "11-01",
        "last": "11-11",
        "cpm_multiplier": 2.0,
        "demand_multiplier": 3.0,
        "interaction_multiplier": 4.0,
    },
}
"""The named festivals a scenario can ask for (`preset`), with their windows (JD's 618
runs 1-18 June; Tmall's Double 11 sale 1-11 November) and stylised multipliers: traffic
dearer, demand and private interaction "several times the daily level" (Kiehl's). Keys a
festival table gives itself override the preset's."""


def day_of_year_value(value: int | str) -> int:
    """A calendar day as day of year 1-365: an integer as it is, or "MM-DD" (no leap day).
    Raises ValueError with a readable message otherwise."""
    if isinstance(value, bool):
        raise ValueError('a day must be a day of year (1-365) or a month-day "MM-DD"')
    if isinstance(value, int):
        if not 1 <= value <= DAYS_PER_YEAR:
            raise ValueError(f"day of year {value} is outside 1-{DAYS_PER_YEAR}")
        return value
    month, sep, day = str(value).partition("-")
    if not (sep and month.isdigit() and day.isdigit()):
        raise ValueError(f'{value!r} is not a month-day "MM-DD" nor a day of year')
    m, d = int(month), int(day)
    if not 1 <= m <= 12 or not 1 <= d <= MONTH_DAYS[m - 1]:
        raise ValueError(f"{value!r} is not a day of a (non-leap) year")
    return sum(MONTH_DAYS[: m - 1]) + d


def _preset_text(key: str, preset: dict[str, Any]) -> str:
    """A preset as the parameter reference states it (from `FESTIVAL_PRESETS`)."""
    return (
        f"{key} ({preset['first']} to {preset['last']}; CPM x{preset['cpm_multiplier']:g}, "
        f"demand x{preset['demand_multiplier']:g}, "
        f"interaction x{preset['interaction_multiplier']:g})"
    )


DayOfYear = Annotated[int | str, AfterValidator(day_of_year_value)]
"""A calendar day: day of year 1-365 or "MM-DD"; held as the day of year."""


class Festival(Strict):
    """A festival window of the calendar: from `first` to `last` (inclusive; a window whose
    last day comes before its first runs over the new year), with the day's multipliers."""

    preset: Literal["none", "618", "double11"] = F(
        "none",
        "a named festival whose window and multipliers are the defaults of this table: "
        + "; ".join(_preset_text(k, v) for k, v in FESTIVAL_PRESETS.items()),
    )
    name: str = F("festival", "name shown in reports")
    first: DayOfYear | None = F(
        None, 'day of year (1-365) or month-day "MM-DD": first day of the window'
    )
    last: DayOfYear | None = F(
        None, 'day of year (1-365) or month-day "MM-DD": last day of the window'
    )
    cpm_multiplier: Pos = F(1.0, "multiplier: the platform's CPM on the festival's days")
    demand_multiplier: Annotated[float, Field(ge=1.0, le=1000.0)] = F(
        1.0,
        "multiplier (at least 1): consumers' need rate on the festival's days (extra needs, "
        "not a changed need clock)",
    )
    interaction_multiplier: Annotated[float, Field(gt=0.0, le=1000.0)] = F(
        1.0,
        "multiplier: guides' messages, brands' broadcasts and members' referrals on the "
        "festival's days",
    )

    @model_validator(mode="before")
    @classmethod
    def _from_preset(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("preset", "none") in FESTIVAL_PRESETS:
            return {**FESTIVAL_PRESETS[data["preset"]], **data}
        return data

    @model_validator(mode="after")
    def _window(self) -> Festival:
        if self.first is None or self.last is None:
            raise ValueError("first and last are needed for a festival without a preset")
        return self


class CalendarParams(Strict):
    """The calendar of the run: which day of the year day 0 is, and the festivals. Without
    festivals every day is the same (the mechanism is off)."""

    start_day_of_year: DayOfYear = F(
        1, 'day of year (1-365) or month-day "MM-DD": the calendar day of the run\'s day 0'
    )
    festivals: list[Festival] = F(
        [],
        'festival windows (preset "618", "double11" or your own); none: every day the same',
    )


BUILTIN_COUNTERFACTUALS: tuple[str, ...] = (
    "no_private_ops",
    "no_guides",
    "no_fission",
    "no_nodes",
    "no_private_discount",
)
"""The counterfactuals every scenario has (their transforms are in `sim.counterfactual`)."""
NO_COUNTERFACTUAL = "none"
"""`run.counterfactual` (or `--counterfactual`) value that asks for no twin."""
TWIN_CONTEXT = "counterfactual_twin"
"""Validation context flag: the scenario being validated is a twin, whose own declared
counterfactuals are not checked again (that would recurse)."""


class Counterfactual(Strict):
    """A scenario's own counterfactual: the same scenario with some keys set otherwise."""

    description: str = F("", "what the twin switches off, and what stays")
    set: dict[str, Any] = F(
        {},
        "dotted key -> value: what the twin changes (e.g. "
        '"brands.brand.strategy.package_card_rate" = 0.0)',
    )


def _set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    """Set `a.b.c` in a nested table in place; every table on the way must exist (a typo
    in a brand's name is an error, never a new brand)."""
    *parents, last = key.split(".")
    table = data
    for i, part in enumerate(parents):
        nxt = table.get(part) if isinstance(table, dict) else None
        if not isinstance(nxt, dict):
            where = ".".join(parents[: i + 1])
            raise KeyError(f"{where}: no such table")
        table = nxt
    if not last:
        raise KeyError(f"{key}: empty key")
    table[last] = value


MAX_CATEGORIES = 1 << 12
"""The most product categories a scenario may have (4,096): each consumer's needs get one
random stream per category (`sim.streams.need_sub`)."""


class Scenario(Strict):
    """A fully resolved scenario: what a run needs, nothing more."""

    name: str = F("scenario", "short name (defaults to the file stem)")
    description: str = F("", "what the case shows")
    source_case: str = F("", "which source case it reflects")
    run: RunParams = F(RunParams(), "horizon, size and seed")
    network: NetworkParams = F(NetworkParams(), "the consumers' social network")
    population: PopulationParams = F(PopulationParams(), "consumer heterogeneity and behaviour")
    touches: TouchEffects = F(TouchEffects(), "effects of private-domain touches")
    platform: PlatformParams = F(PlatformParams(), "the public domain")
    platforms: dict[str, PublicPlatform] = F(
        {},
        "several named public platforms by name (their own CPM, take rate, buyer "
        "protection, discovery, ban risk and shoppers); none: the one [platform]",
    )
    market: MarketParams = F(MarketParams(), "market-level rules (imitation, discounting)")
    calendar: CalendarParams = F(
        CalendarParams(), "festival days (618, Double 11, user-defined); none by default"
    )
    categories: dict[str, CategoryParams] = F(
        {"default": CategoryParams()}, "product categories by name"
    )
    brands: dict[str, BrandParams] = F({"brand": BrandParams()}, "competing brands by name")
    counterfactuals: dict[str, Counterfactual] = F(
        {},
        "the scenario's own counterfactual twins by name (besides the built-in no_private_ops, "
        "no_guides, no_fission, no_nodes, no_private_discount)",
    )

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        if not self.brands:
            raise ValueError("brands: at least one brand is needed")
        if len(self.categories) > MAX_CATEGORIES:
            raise ValueError(
                f"categories: {len(self.categories):,} categories is more than the "
                f"{MAX_CATEGORIES:,} a scenario may have"
            )
        for name, brand in self.brands.items():
            if brand.category not in self.categories:
                raise ValueError(
                    f"brands.{name}.category: unknown category {brand.category!r} "
                    f"(known: {', '.join(sorted(self.categories))})"
                )
        return self

    @model_validator(mode="after")
    def _platforms(self) -> Scenario:
        _check_platforms(self)
        return self

    @model_validator(mode="after")
    def _affordable(self) -> Scenario:
        for name, brand in self.brands.items():
            guides = expected_guides(brand)  # the mean of the unbiased draw at staffing
            try:
                check_size(guides, *SIZE_LIMITS[GUIDES_KEY])
            except ValueError as exc:
                raise ValueError(f"brands.{name}.strategy.guides_per_store: {exc}") from None
            fixed = planned_annual_spend(brand)
            if fixed > brand.annual_budget:
                raise ValueError(
                    f"brands.{name}.strategy: ads, {guides:,.4g} guides, tooling and node fees "
                    f"cost {fixed:,.0f} yuan/year, more than annual_budget "
                    f"{brand.annual_budget:,.0f}"
                )
        return self

    @model_validator(mode="after")
    def _counterfactuals(self, info: ValidationInfo) -> Scenario:
        known = (*BUILTIN_COUNTERFACTUALS, *self.counterfactuals, NO_COUNTERFACTUAL)
        for name in self.counterfactuals:
            if name in BUILTIN_COUNTERFACTUALS or name == NO_COUNTERFACTUAL:
                raise ValueError(
                    f"counterfactuals.{name}: is a built-in name; give yours another name"
                )
        name, at, brand = self.run.counterfactual.partition("@")  # NAME or NAME@BRAND
        if name not in known:
            raise ValueError(
                f"run.counterfactual: unknown counterfactual {name!r} (known: {', '.join(known)})"
            )
        if at and (brand not in self.brands or name not in BUILTIN_COUNTERFACTUALS):
            raise ValueError(
                f"run.counterfactual: {self.run.counterfactual!r}: NAME@BRAND needs a built-in "
                f"counterfactual and a brand of the scenario (brands: {', '.join(self.brands)})"
            )
        if info.context and info.context.get(TWIN_CONTEXT):
            return self
        for name, cf in self.counterfactuals.items():
            try:
                self.changed(cf.set)
            except (KeyError, ValueError) as exc:
                raise ValueError(f"counterfactuals.{name}.set.{_problem(exc)}") from None
        return self

    def changed(self, values: Mapping[str, Any]) -> Scenario:
        """A new, validated scenario with dotted keys set to new values (this one is left
        as it is). Raises KeyError for a key whose table does not exist and ValueError
        ("KEY: message") for a value the scenario refuses. Declared counterfactuals are not
        checked again on the result (a twin is not a scenario file)."""
        data = self.model_dump()
        for key, value in values.items():
            _set_dotted(data, str(key), value)
        try:
            return Scenario.model_validate(data, context={TWIN_CONTEXT: True})
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            msg = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            elif "input" in err and not isinstance(err["input"], dict):
                msg += f" (got {err['input']!r})"
            raise ValueError(f"{loc}: {msg}" if loc else msg) from None

    def brand_names(self) -> list[str]:
        return list(self.brands)


def _problem(exc: KeyError | ValueError) -> str:
    """The text of a failed `Scenario.changed`: "KEY: message"."""
    return str(exc.args[0]) if exc.args else str(exc)
