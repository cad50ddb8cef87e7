"""The actors of the reference engine, each a `mesa.Agent`: consumers, guides, KOCs (and
small-B nodes and employee distributors), brands and the platform.

Behaviour lives in methods that read like the control flow they run: every formula and
decision rule is a call into `sim.rules`; every number comes from the scenario
(`sim.params`). Money and counts go to the ledger through `sim.accounting` (today's slot,
`Ledger.today`) and nowhere else. Funnel states, channels, prompts and touch kinds are the
codes of `sim.vocab`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import mesa
import numpy as np

from sim import accounting, rules
from sim.calendar import CPM, INTERACTION
from sim.events import HARVESTED, EventRows, Kind, order_flags
from sim.events import MEMBER as MEMBER_FLAG
from sim.ledger import Ledger
from sim.network import Network
from sim.params import (
    MEMBER_CHANNELS,
    BrandParams,
    CategoryParams,
    PublicPlatform,
    Scenario,
    StrategyParams,
)
from sim.staffing import draw_staff
from sim.streams import Phase, Purpose, RunStreams, order_sub
from sim.vocab import (
    COHORT_HORIZONS,
    SOURCES_CUSTOMER,
    Channel,
    DistributorKind,
    MemberChannel,
    Prompt,
    Segment,
    Source,
    State,
    Touch,
)


class Market(Protocol):
    """What the agents use of their model (`sim.model.MarketModel`), named here so that
    this module need not import the model that imports it."""

    scenario: Scenario
    rng: np.random.Generator
    today: int
    n_consumers: int
    discount_factor: float
    funnel: np.ndarray  # [brand, consumer] State code
    purchases: np.ndarray  # [brand, consumer]
    store_access: np.ndarray  # [brand, consumer]
    store_catchment: list[np.ndarray]
    withheld: np.ndarray  # [brand, consumer] kept by its franchisee (channel conflict)
    ledger: Ledger
    events: EventRows | None  # the raw event rows, when the run records events (sim.events)
    network: Network
    brands: list[Brand]
    consumers: list[Consumer]
    brands_in_category: list[list[int]]
    agenda: dict[int, list[tuple[Consumer, int]]]
    # order values and baskets (issue 12, item 5)
    streams: RunStreams
    order_value_mean: np.ndarray  # [consumer, category] mean order value / price
    value_draw: np.random.Generator  # the Generator an order's own value stream is loaded into
    demand_due: set[int]  # demand expansion: consumers whose need lift may have changed today
    platforms: list[PublicPlatform]  # the public platforms' terms (sim.params.platform_terms)
    homes: np.ndarray  # [consumer] home platform
    shoppers: np.ndarray  # [platform] consumers whose home it is
    discovery: np.ndarray  # [platform] sim.rules.discovery_multiplier
    festival: np.ndarray  # today's calendar row (sim.calendar.day_row): multipliers, flag
    birthdays: np.ndarray  # [consumer] day of the year, −1: not drawn (lifecycle operations)
    lifecycle_draws: list[np.random.Generator]  # today's lifecycle stream per brand

    def start_cohort(self, consumer: Consumer, b: int) -> None: ...

    def ban_uniform(self, consumer: int, b: int, orders: int) -> float: ...


UNAWARE, AWARE, CUSTOMER, MEMBER, LAPSED = map(int, State)
"""The funnel states of `sim.vocab.State` as plain ints, for the model's NumPy funnel
(`model.funnel[b, i]`): NumPy takes a plain int at once, while an IntEnum member makes it
probe the enum class for array protocols on every comparison or store."""
NOT_ACQUIRED = -1
"""`Consumer.acquired[b]` of someone who is not (or no longer) a customer of brand b."""


@dataclass(slots=True)
class Membership:
    """A consumer's place in one brand's private domain."""

    channel: str
    joined: int
    engagement: float
    fatigue: float = 0.0
    harvest: float = 0.0
    updated: int = 0
    muted: bool = False
    reluctant: bool = False
    guide: Guide | None = None
    referrals: int = 0
    lifecycle_day: int = rules.NO_LIFECYCLE_TOUCH  # lifecycle operations: last such touch


class Consumer(mesa.Agent):
    """A person with needs per category, who learns of brands, buys, joins private domains,
    tires of them, refers friends and lapses."""

    def __init__(
        self,
        model: Market,
        index: int,
        need_rates: np.ndarray,
        price_sensitivity: float,
        trust: float,
        slots: int,
        hunter: bool,
        tolerance: float,
        dropout: np.ndarray,
    ):
        super().__init__(model)
        self.index = index
        self.need_rates = need_rates  # per category, per day
        self.price_sensitivity = price_sensitivity
        self.trust = trust
        self.slots = slots
        self.hunter = hunter
        self.tolerance = tolerance
        self.dropout = dropout  # BG/NBD p per brand
        nb = len(model.brands)
        self.source: list[str | None] = [None] * nb
        self.acquired: list[int] = [NOT_ACQUIRED] * nb
        self.purchases = model.purchases[:, index]  # a view: the model counts for the census
        self.spend = np.zeros(nb)
        # the latest acquisition cohort per brand: its day, spend in its first 90 / 365 days
        # (and discounted to that day), and which of the two horizons are still to be booked
        self.cohort_day: list[int | None] = [None] * nb
        self.cohort_source: list[str] = ["organic"] * nb
        self.cohort_spend = np.zeros((nb, 2))
        self.cohort_pv = np.zeros((nb, 2))
        self.cohort_pending = np.zeros((nb, 2), dtype=bool)
        self.last_purchase = np.full(nb, -(10**6), dtype=np.int64)
        self.memberships: dict[int, Membership] = {}
        self.annoyed: set[int] = set()  # brands this consumer muted: they now count against them
        # the habit of ordering in each brand's own shop (rules.habit_now), as of habit_day
        self.shop_habit = np.zeros(nb)
        self.habit_day = np.zeros(nb, dtype=np.int64)
        self.need_p = rules.daily_need_probability(need_rates)
        self.next_need = np.full(len(need_rates), -1, dtype=np.int64)
        # demand expansion: the rise of each category's need rate in force (membership)
        self.need_lift = np.zeros(len(need_rates), dtype=np.float32)

    # ------------------------------------------------------------------ state helpers
    def state(self, b: int) -> int:
        return int(self.model.funnel[b, self.index])

    def _set_state(self, b: int, state: int) -> None:
        self.model.funnel[b, self.index] = state

    def free_slot(self) -> bool:
        return len(self.memberships) < self.slots

    def schedule_need(self, cat: int, today: int) -> None:
        """Draw the day of the next need in a category (Poisson arrivals, discrete days).

        Needs are only tracked while the consumer knows a brand of the category: an unaware
        consumer's needs go to unmodelled brands. Arrivals are memoryless, so starting the
        clock when awareness begins changes nothing in distribution.
        """
        if not self.knows_category(cat):
            self.next_need[cat] = -1
            return
        p = self.need_probability(cat)
        wait = int(self.model.rng.geometric(p)) if p > 0 else rules.NEVER_DAY
        self.next_need[cat] = rules.need_day(today, wait)
        self.model.agenda.setdefault(int(self.next_need[cat]), []).append((self, cat))

    def knows_category(self, cat: int) -> bool:
        """Aware of, or buying from, at least one brand of the category."""
        funnel = self.model.funnel
        return any(
            AWARE <= funnel[b, self.index] <= MEMBER for b in self.model.brands_in_category[cat]
        )

    def start_needs(self, cat: int) -> None:
        """Begin tracking needs in a category if not already tracked."""
        if self.next_need[cat] < self.model.today:
            self.schedule_need(cat, self.model.today)

    def latent_need(self, cat: int) -> float:
        return float(
            rules.latent_need_probability(
                self.need_rate_now(cat), self.model.scenario.population.latent_need_window
            )
        )

    # ---- demand expansion (issue 12, item 8): membership raises the own need rate
    def need_rate_now(self, cat: int) -> float:
        """The need rate in force: λ, or λ·(1 + lift) under demand expansion."""
        lift = self.need_lift[cat]
        if lift == 0:
            return self.need_rates[cat]
        return rules.lifted_need_rate(float(self.need_rates[cat]), float(lift))

    def need_probability(self, cat: int) -> float:
        """P(a need today) at the need rate in force (the stored one while no lift)."""
        if self.need_lift[cat] == 0:
            return self.need_p[cat]
        return float(rules.daily_need_probability(self.need_rate_now(cat)))

    def relift_need(self, cat: int) -> None:
        """Demand expansion: set the category's lift from the memberships held now (the
        largest `rules.membership_need_lift` over its brands); if it changed and the need is
        tracked, redraw the next need from today at the new rate, one uniform from
        `model.rng` (`rules.redrawn_need_day`; memorylessness makes it exact)."""
        model = self.model
        lift = 0.0
        for b in model.brands_in_category[cat]:
            brand = model.brands[b]
            m = self.memberships.get(b)
            lift = max(
                lift,
                rules.membership_need_lift(
                    brand.strategy.member_need_lift,
                    m is not None,
                    m is not None and m.muted,
                    brand.private_ops,
                ),
            )
        if np.float32(lift) == self.need_lift[cat]:
            return
        self.need_lift[cat] = lift
        if self.next_need[cat] > model.today:
            day = rules.redrawn_need_day(
                model.rng.random(), self.need_probability(cat), model.today
            )
            self.next_need[cat] = day
            model.agenda.setdefault(int(day), []).append((self, cat))

    def note_need_lift(self, b: int, joined: bool) -> None:
        """Demand expansion: a join (of a brand with a lift) or a mute or leave (of a
        consumer with a lift in force) may change the need rate: recompute it at the day's
        end (`MarketModel.expand_demand`)."""
        if (
            self.model.brands[b].strategy.member_need_lift > 0
            if joined
            else bool(self.need_lift.any())
        ):
            self.model.demand_due.add(self.index)

    def habit_today(self, b: int) -> float:
        """The habit of ordering in brand b's own shop, faded to today (lazily)."""
        pop = self.model.scenario.population
        days = self.model.today - int(self.habit_day[b])
        return float(rules.habit_now(float(self.shop_habit[b]), pop.habit_half_life, days))

    def membership(self, b: int) -> Membership | None:
        """The membership, with fatigue and engagement faded to today."""
        m = self.memberships.get(b)
        if m is not None and m.updated != self.model.today:
            pop = self.model.scenario.population
            days = self.model.today - m.updated
            m.fatigue = float(rules.decay(m.fatigue, pop.fatigue_decay, days))
            m.engagement = float(rules.decay(m.engagement, pop.engagement_decay, days))
            m.updated = self.model.today
        return m

    # ------------------------------------------------------------------ awareness
    def become_aware(self, b: int, source: str) -> bool:
        """Hear of a brand (again, if lapsed). Returns True if the state changed."""
        if self.state(b) not in (UNAWARE, LAPSED):
            return False
        self._set_state(b, AWARE)
        self.source[b] = source
        brand = self.model.brands[b]
        self.start_needs(brand.category_index)
        trial = float(
            rules.trial_probability(
                brand.category.trial_on_awareness,
                source == "ads",
                self.model.scenario.platform.ad_trial_boost,
            )
        )
        if trial > 0 and self.model.rng.random() < trial:
            self.buy_from(b, prompted_by=Prompt.TRIAL, outside=False)
        return True

    def forget(self, b: int) -> None:
        """An aware non-customer forgets the brand (back to unaware)."""
        if self.state(b) == AWARE:
            self._set_state(b, UNAWARE)
            self.source[b] = None

    # ------------------------------------------------------------------ buying
    def options(self, b: int) -> list[tuple[Channel, float, float]]:
        """(channel, utility, price share) of each way to buy brand b now."""
        brand = self.model.brands[b]
        st = brand.strategy
        pop = self.model.scenario.population
        m = self.memberships.get(b)
        member = m is not None and brand.private_ops
        engagement = m.engagement if member else 0.0
        loyalty = pop.customer_loyalty if self.purchases[b] > 0 else 0.0
        tier = (
            float(rules.tier_discount(self.spend[b], st.tier_spend, st.tier_discount))
            if member
            else 0.0
        )
        service = rules.member_service_value(member, st.member_service, brand.category.service_need)
        common = dict(
            price_sensitivity=self.price_sensitivity,
            relationship=pop.relationship_weight * engagement,
            loyalty=loyalty,
            appeal=brand.params.appeal - (pop.annoyance_penalty if b in self.annoyed else 0.0),
        )
        out: list[tuple[Channel, float, float]] = []

        def offer(channel: Channel, share: float, convenience: float, **terms: float) -> None:
            utility = rules.channel_utility(share, convenience=convenience, **terms, **common)
            out.append((channel, float(utility), float(share)))

        cat = brand.category
        coupon = rules.member_coupon_share(member, st.channel_policy == "assist", st.member_coupon)
        platform = self.model.scenario.platform
        protection = self.model.platforms[self.model.homes[self.index]].buyer_protection
        # private lifts public (7.21): the platform rating everyone sees, a member's points
        rating = rules.platform_rating_value(
            platform.rating_weight,
            brand.review_stock,
            self.model.n_consumers,
            platform.rating_half_saturation,
        )
        share = rules.effective_price_share(st.platform_discount, coupon, tier)
        points = rules.points_value(member, st.points_rate, self.price_sensitivity, share)
        offer(
            Channel.PLATFORM,
            share,
            pop.convenience_platform + cat.platform_fit + rating + points,
            protection=rules.platform_protection_value(pop.trust_weight, self.trust, protection),
        )
        if rules.private_shop_offered(member, st.channel_policy == "separate"):
            share = rules.effective_price_share(st.private_discount, 0.0, tier)
            points = rules.points_value(member, st.points_rate, self.price_sensitivity, share)
            offer(
                Channel.PRIVATE,
                share,
                rules.private_convenience(
                    pop.convenience_private, cat.private_fit, pop.habit_weight, self.habit_today(b)
                )
                + points,
                service=service,
                # the private shop's guarantee (organisation and channel conflict)
                protection=rules.private_guarantee_value(
                    pop.trust_weight, self.trust, st.private_guarantee
                ),
            )
        if brand.stores > 0 and self.model.store_access[b, self.index]:
            share = rules.effective_price_share(0.0, 0.0, tier)
            points = rules.points_value(member, st.points_rate, self.price_sensitivity, share)
            offer(
                Channel.STORE,
                share,
                pop.convenience_store + cat.store_fit + points,
                service=rules.store_service_value(
                    pop.store_service_value, cat.service_need, service
                ),
            )
        return out

    def on_need(self, cat: int) -> None:
        """A need arises: choose among known brands of the category and their channels, or
        the outside option (multinomial logit), then buy."""
        model = self.model
        choices: list[tuple[int, Channel, float]] = []
        utils: list[float] = []
        for b in model.brands_in_category[cat]:
            if model.funnel[b, self.index] in (AWARE, CUSTOMER, MEMBER):
                self.membership(b)
                for channel, u, share in self.options(b):
                    choices.append((b, channel, share))
                    utils.append(u)
        if choices:
            probs = rules.logit_probabilities(utils, model.scenario.population.outside_utility)
            k = rules.draw_index(probs, model.rng.random())
            if k < len(choices):
                b, channel, share = choices[k]
                self.purchase(b, channel, share, prompted_by=Prompt.NONE)
        self.schedule_need(cat, model.today)

    def festival_need(self, cat: int, multiplier: float) -> None:
        """The calendar: on a festival day with demand multiplier m, an extra need in the
        category with probability 1 − e^{−(m−1)λ} (`rules.festival_need_probability`),
        met like a due need (`on_need`: choice, purchase, the next due day redrawn from
        today). The ordinary need clock is left as it is."""
        p = rules.festival_need_probability(self.need_rate_now(cat), multiplier)
        if self.model.rng.random() < p:
            self.on_need(cat)

    def buy_from(
        self, b: int, prompted_by: Prompt, outside: bool = False, channel: Channel | None = None
    ) -> bool:
        """Buy brand b now (a pushed offer, a trial or a store visit): choose the channel by
        logit among the brand's channels (or take the one given). Returns True if bought."""
        opts = self.options(b)
        if channel is not None:
            opts = [o for o in opts if o[0] == channel] or opts[:1]
        probs = rules.logit_probabilities(
            [u for _, u, _ in opts],
            self.model.scenario.population.outside_utility if outside else None,
        )
        k = rules.draw_index(probs, self.model.rng.random())
        if k >= len(opts):
            return False
        name, _, share = opts[k]
        self.purchase(b, name, share, prompted_by)
        cat = self.model.brands[b].category_index
        self.schedule_need(cat, self.model.today)  # the need is met: its clock restarts
        return True

    def purchase(self, b: int, channel: Channel, share: float, prompted_by: Prompt) -> None:
        """Place an order, then maybe get a package card and maybe drop out (BG/NBD)."""
        model = self.model
        brand = model.brands[b]
        first = self.acquired[b] == NOT_ACQUIRED  # a new (or re-acquired) customer
        if self.source[b] is None:
            self.source[b] = "organic"
        if first:
            self.acquired[b] = model.today
            model.start_cohort(self, b)
        member = self.memberships.get(b)
        list_price = self.order_value(b, channel, prompted_by)
        price = list_price * share
        brand.record_order(
            self,
            channel,
            price,
            first=bool(first),
            member=member,
            prompted_by=prompted_by,
            list_price=list_price,
        )
        self.purchases[b] += 1
        self.spend[b] += price
        self.last_purchase[b] = model.today
        if channel == Channel.PRIVATE:  # the order keeps the shop's slot in the phone warm
            habit = rules.habit_after_private_order(
                self.habit_today(b), model.scenario.population.habit_gain
            )
            self.shop_habit[b] = habit
            self.habit_day[b] = model.today
        if self.cohort_day[b] is not None:
            age = model.today - self.cohort_day[b]
            pv = rules.present_value(price, model.discount_factor, age)
            for h, horizon in enumerate(COHORT_HORIZONS):
                if age < horizon:
                    self.cohort_spend[b, h] += price
                    self.cohort_pv[b, h] += pv
        if self.state(b) in (AWARE, UNAWARE, LAPSED):
            self._set_state(b, CUSTOMER)
        invitation = int(
            rules.invitation_after_purchase(channel, member is not None, brand.private_ops)
        )
        if invitation == Source.PACKAGE_CARD:
            st = brand.strategy
            sent = rules.package_card_probability(  # the public team's diversion (KPI credit)
                st.package_card_rate,
                st.private_sales_kpi == "separate",
                st.channel_policy == "separate",
                st.public_team_cooperation,
            )
            if model.rng.random() < sent:
                # several platforms: the home platform may block the card (ban risk)
                risk = model.platforms[model.homes[self.index]].ban_risk
                if risk > 0 and rules.card_blocked(
                    risk, model.ban_uniform(self.index, b, int(self.purchases[b]))
                ):
                    accounting.book_card_blocked(model.ledger.today, b)
                else:
                    brand.invite(self, "package_card", st.package_card_channel)
        elif invitation == Source.STORE:
            brand.store_invite(self)
        m = self.membership(b)
        p = rules.dropout_probability(
            self.dropout[b], m.engagement if m else 0.0, model.scenario.touches.member_retention
        )
        if model.rng.random() < p:
            self.lapse(b)

    # ------------------------------------------------------------------ order values
    # Order values and baskets (issue 12, item 5).
    def order_value(self, b: int, channel: Channel, prompted_by: Prompt) -> float:
        """The list value of this consumer's order of brand b now
        (`rules.order_list_value`): the category's price times this consumer's mean order
        value in it, the basket cross-sell adds in the private shop or on a push
        (`rules.basket_multiplier`) and, where orders vary, this order's own Gamma draw
        from its stream (`Phase.ORDER_VALUE`, sub-key `sim.streams.order_sub`)."""
        model = self.model
        brand = model.brands[b]
        cat = brand.category
        basket = rules.basket_multiplier(
            brand.strategy.cross_sell, cat.sku_breadth, channel, accounting.pushed(prompted_by)
        )
        draw = 1.0
        if cat.order_value_cv_order > 0:
            sub = int(order_sub(self.index, b, int(self.purchases[b])))
            gen = model.streams.daily(Phase.ORDER_VALUE, model.today, sub, model.value_draw)
            shape = rules.order_value_shape(cat.order_value_cv_order)
            draw = float(gen.gamma(shape, 1.0 / shape))
        mean = float(model.order_value_mean[self.index, brand.category_index])
        return rules.order_list_value(cat.price, mean, basket, draw)

    # ------------------------------------------------------------------ private domain
    def join(self, b: int, channel: str, source: str, guide: Guide | None, reluctant: bool) -> None:
        brand = self.model.brands[b]
        pop = self.model.scenario.population
        start = rules.joiner_engagement(pop.join_engagement, reluctant, pop.reluctant_engagement)
        self.memberships[b] = Membership(
            channel=channel,
            joined=self.model.today,
            engagement=start,
            updated=self.model.today,
            reluctant=reluctant,
            guide=guide,
        )
        if guide is not None:
            guide.members.append(self)
        if reluctant:  # pushed into it: the pressure itself counts against the brand
            self.annoyed.add(b)
        if self.state(b) != MEMBER:
            self._set_state(b, MEMBER)
        brand.on_join(self, source, channel)
        self.note_need_lift(b, joined=True)  # demand expansion

    def leave(self, b: int, excluded: bool = False) -> None:
        """Leave brand b's private domain; if `excluded` (felt harvested) also drop the brand."""
        m = self.memberships.pop(b, None)
        if m is None:
            return
        self.note_need_lift(b, joined=False)  # demand expansion
        if m.guide is not None:
            m.guide.members.remove(self)
        if excluded:  # shuns the brand: no longer a customer, nor merely aware
            self._set_state(b, LAPSED if self.purchases[b] > 0 else UNAWARE)
            self.acquired[b] = NOT_ACQUIRED
            self.source[b] = None
        else:
            self._set_state(b, CUSTOMER if self.purchases[b] > 0 else AWARE)

    def lapse(self, b: int) -> None:
        """Drop out as a customer (BG/NBD): no more purchases from the brand."""
        accounting.book_lapse(self.model.ledger.today, b)
        if self.model.events is not None:
            self.model.events.note(
                Kind.LAPSE,
                self.index,
                b,
                self.model.today,
                flags=MEMBER_FLAG if b in self.memberships else 0,
            )
        if b in self.memberships:
            self.leave(b)
        self._set_state(b, LAPSED)
        self.acquired[b] = NOT_ACQUIRED

    def receive_touch(
        self, b: int, kind: Touch, effect: float, skill: float, guide: Guide | None
    ) -> None:
        """A private-domain message: content and service build engagement, everything adds
        fatigue, selling may convert a latent need. Too much fatigue mutes; feeling
        harvested makes the member leave and shun the brand."""
        m = self.membership(b)
        if m is None or m.muted:
            return
        model = self.model
        brand = model.brands[b]
        te = model.scenario.touches
        pop = model.scenario.population
        accounting.book_touch(model.ledger.today, b, kind)
        m.fatigue += rules.touch_fatigue(
            kind, effect, (te.fatigue_content, te.fatigue_service, te.fatigue_selling)
        )
        gain = rules.touch_engagement_gain(
            kind,
            effect,
            skill,
            te.engagement_content,
            te.engagement_service,
            brand.category.service_need,
        )
        m.engagement = float(rules.engagement_after_touch(m.engagement, gain))
        if not self.hunter:
            m.harvest = float(
                rules.harvest_feeling(m.harvest, kind == Touch.SELLING, pop.harvest_memory)
            )
        if kind == Touch.SELLING:
            cat = brand.category_index
            p = rules.selling_conversion(
                te.selling_conversion,
                m.engagement,
                self.latent_need(cat),
                brand.category.sku_breadth,
                effect,
                skill,
            )
            if model.rng.random() < p:
                self.buy_from(b, prompted_by=Prompt.GUIDE if guide is not None else Prompt.PUSH)
                if b not in self.memberships:
                    return
        tolerance = rules.fatigue_tolerance(
            self.tolerance, m.reluctant, brand.strategy.reluctant_tolerance
        )
        if rules.mutes(m.fatigue, tolerance):
            m.muted = True
            self.annoyed.add(b)
            self.note_need_lift(b, joined=False)  # demand expansion
            accounting.book_mute(model.ledger.today, b)
            self.note_membership(Kind.MUTE, b, m)
        elif rules.feels_harvested(m.harvest, pop.harvest_threshold):
            accounting.book_leave(model.ledger.today, b)
            self.note_membership(Kind.LEAVE, b, m, harvested=True)
            self.leave(b, excluded=True)

    def note_membership(
        self, kind: Kind, b: int, m: Membership, source: int = -1, harvested: bool = False
    ) -> None:
        """Record a join, mute or leave of brand b's private domain (`sim.events`), if the
        run records events."""
        if self.model.events is not None:
            self.model.events.note(
                kind,
                self.index,
                b,
                self.model.today,
                channel=MEMBER_CHANNELS.index(m.channel),
                source=source,
                flags=HARVESTED if harvested else 0,
            )

    def refer_friend(self, b: int) -> None:
        """Tell a friend (a random network tie; anyone, under random mixing) about brand b."""
        model = self.model
        rng = model.rng
        friends = None if model.network.mixing else model.network.friends(self.index)
        if friends is None or friends.size == 0:
            friend = int(rng.integers(0, model.n_consumers))
        else:
            friend = int(friends[rng.integers(0, friends.size)])
        if friend != self.index:
            model.brands[b].referral(self, self.memberships[b], model.consumers[friend])


class Guide(mesa.Agent):
    """A store guide: adds visitors and buyers on WeCom, serves up to `capacity` members
    1:1, sends a daily budget of messages in the brand's content mix, earns commission."""

    def __init__(self, model: Market, brand: Brand, store: int, skill: float):
        super().__init__(model)
        self.brand = brand
        self.store = store
        self.skill = skill
        self.members: list[Consumer] = []

    def has_room(self) -> bool:
        return len(self.members) < self.brand.strategy.guide_capacity

    def step(self) -> None:
        st = self.brand.strategy
        rng = self.model.rng
        # the calendar: more messages on festival days (rules.festival_rate)
        rate = rules.festival_rate(st.guide_touches_per_day, self.model.festival[INTERACTION])
        n = int(rng.poisson(rules.bounded_poisson_mean(rate)))
        reachable = [c for c in self.members if not self.brand.index_muted(c)]
        if not reachable or n == 0:
            return
        if st.touch_targeting == "lifecycle":  # lifecycle operations: due members first,
            today, b = self.model.today, self.brand.index  # from the lifecycle stream
            self.model.rng = self.model.lifecycle_draws[b]
            sent = self.lifecycle_touches(n)
            self.model.rng = rng
            if sent > 0:
                n -= sent
                reachable = [
                    c
                    for c in self.members
                    if not self.brand.index_muted(c) and c.memberships[b].lifecycle_day != today
                ]
                if not reachable or n <= 0:
                    return
        picks = rng.choice(len(reachable), size=min(n, len(reachable)), replace=False)
        kinds = self.brand.draw_kinds(len(picks))
        for j, kind in zip(picks.tolist(), kinds, strict=True):
            reachable[j].receive_touch(self.brand.index, kind, 1.0, self.skill, self)

    # ------------------------------------------------------------------ lifecycle operations
    def due_members(self) -> list[tuple[int, Consumer]]:
        """The guide's reachable members due a lifecycle touch today, as (segment,
        consumer), in the order it serves them (`rules.lifecycle_segment`,
        `rules.lifecycle_priority`)."""
        model, brand = self.model, self.brand
        st, b, today = brand.strategy, brand.index, model.today
        cycle = rules.inter_purchase_days(brand.category.purchases_per_year)
        start, end = st.winback_after * cycle, st.winback_until * cycle
        due = []
        bought, birthdays = model.purchases[b], model.birthdays
        for c in self.members:
            m = c.memberships[b]
            if m.muted:
                continue
            segment = rules.lifecycle_segment(
                today,
                m.joined,
                c.last_purchase[b].item(),
                bought[c.index].item() > 0,
                birthdays[c.index].item(),
                m.lifecycle_day,
                st.welcome_days,
                start,
                end,
                st.birthday_days,
            )
            if segment != Segment.NONE:
                key = rules.lifecycle_priority(segment, c.index, model.n_consumers)
                due.append((key, segment, c))
        due.sort(key=lambda x: x[0])
        return [(segment, c) for _, segment, c in due]

    def lifecycle_touches(self, n: int) -> int:
        """Send up to n of today's messages to the members due a lifecycle touch, each of
        a kind drawn from its segment's mix (the day's draws come from the brand's
        lifecycle stream, `Phase.LIFECYCLE`: `step` points `model.rng` at it); returns how
        many were sent."""
        model, brand = self.model, self.brand
        b = brand.index
        sent = 0
        for segment, c in self.due_members():
            if sent >= n:
                break
            m = c.memberships.get(b)
            if m is None or m.muted:
                continue
            mix = brand.strategy.segment_mix(segment)
            u = model.rng.random()
            kind = Touch(rules.draw_index((mix.content, mix.service, mix.selling), u))
            m.lifecycle_day = model.today
            accounting.book_lifecycle_touch(model.ledger.today, b, segment)
            c.receive_touch(b, kind, 1.0, self.skill, self)
            sent += 1
        return sent


class Distributor(mesa.Agent):
    """A KOC, small-B node or employee distributor: posts to a circle of ~100 (KOC) or a
    few dozen (employee) people and earns commission on the sales its link brings."""

    def __init__(
        self, model: Market, brand: Brand, kind: DistributorKind, person: int, circle: np.ndarray
    ):
        super().__init__(model)
        self.brand = brand
        self.kind = kind
        self.person = person  # the consumer who is this KOC, node owner or employee
        self.circle = circle

    def step(self) -> None:
        st = self.brand.strategy
        rng = self.model.rng
        kind = self.kind
        posts = (
            st.employee_posts_per_week
            if kind == DistributorKind.EMPLOYEE
            else st.koc_posts_per_week
        )
        if rng.random() >= rules.posting_probability(posts):
            return
        reached = self.circle[rng.random(self.circle.size) < st.koc_post_reach]
        source = SOURCES_CUSTOMER[rules.distributor_source(kind)]
        for i in reached.tolist():
            self.brand.post_reaches(self.model.consumers[i], source, self)


class Platform(mesa.Agent):
    """The public domain: sells traffic at a CPM that rises with total ad demand and drifts
    up over time, takes a commission on its GMV, and protects buyers."""

    def __init__(self, model: Market, k: int = 0):
        super().__init__(model)
        self.k = k  # its place among the scenario's platforms (sim.params.platform_terms)
        self.cpm = model.scenario.platform.base_cpm

    def price_traffic(self, ad_demand: float) -> float:
        p = self.model.platforms[self.k]
        cpm = rules.traffic_cpm(
            p.base_cpm,
            p.cpm_growth_per_year,
            self.model.today,
            ad_demand,
            p.reference_ad_demand,
            p.cpm_demand_elasticity,
        )
        # the calendar: traffic is dearer on festival days
        self.cpm = float(rules.festival_cpm(cpm, self.model.festival[CPM]))
        return self.cpm


class Brand(mesa.Agent):
    """A brand in one category with its strategy levers as data; buys ads, runs stores,
    guides, KOCs and a private domain, pays for all of it through the ledger, and (if
    adaptive) imitates more profitable peers."""

    def __init__(
        self,
        model: Market,
        index: int,
        name: str,
        params: BrandParams,
        category: CategoryParams,
        category_index: int,
    ):
        super().__init__(model)
        self.index = index
        self.name = name
        self.params = params
        self.category = category
        self.category_index = category_index
        self.stores = params.stores
        self.strategy: StrategyParams = params.strategy.model_copy(deep=True)
        self.strategy_since = 0  # day the current strategy was adopted
        self.adstock = 0.0
        self.platform_adstock = np.zeros(len(model.platforms))  # by platform; sums to adstock
        self.budget_spent = 0.0  # spend counted against the budget this year, to yesterday
        self.ad_spend = 0.0  # today's ads, once the budget has allowed them
        self.guides: list[Guide] = []
        self.distributors: list[Distributor] = []
        self.fake_members = 0
        self.koc_reach = np.zeros(model.n_consumers, dtype=bool)
        # private lifts public (7.21): the platform review stock the rating is built from,
        # and today's platform orders by review chance (rules.REVIEW_REWARDED, REVIEW_OTHER)
        self.review_stock = 0.0
        self.review_orders = [0, 0]

    # ------------------------------------------------------------------ helpers
    @property
    def private_ops(self) -> bool:
        return self.strategy.private_ops

    @property
    def reward_tiers(self) -> tuple[list[int], list[float]]:
        """Referral reward tiers as (referral counts needed, rewards)."""
        tiers = self.strategy.referral_tiers
        return [t.referrals for t in tiers], [t.reward for t in tiers]

    def index_muted(self, consumer: Consumer) -> bool:
        m = consumer.memberships.get(self.index)
        return m is None or m.muted

    def draw_kinds(self, n: int) -> list[Touch]:
        mix = self.strategy.content_mix
        idx = self.model.rng.choice(3, size=n, p=[mix.content, mix.service, mix.selling])
        return [Touch(k) for k in idx.tolist()]

    # ------------------------------------------------------------------ set-up
    def staff(self) -> None:
        """Hire guides and recruit distributors as the strategy says (re-run on change):
        `sim.staffing.draw_staff`. Members of guides who go become group members."""
        model = self.model
        for g in self.guides:
            for c in list(g.members):
                m = c.memberships.get(self.index)
                if m is not None:
                    m.channel, m.guide = "group", None
            g.remove()
        for d in self.distributors:
            d.remove()
        staff = draw_staff(
            self.strategy,
            self.stores,
            model.network,
            model.streams.setup(Purpose.STAFFING, self.index),
        )
        self.guides = [
            Guide(model, self, j % max(self.stores, 1), skill)
            for j, skill in enumerate(staff.skills.tolist())
        ]
        self.distributors = [
            Distributor(model, self, DistributorKind(d.kind), d.centre, d.circle)
            for d in staff.distributors
        ]

    # ------------------------------------------------------------------ daily behaviour
    def pay_fixed_costs(self) -> None:
        """A day of private-domain operations: guides, tooling, KOC and small-B fees."""
        st = self.strategy
        if st.private_ops:
            accounting.book_fixed_costs(
                self.model.ledger.today,
                self.index,
                len(self.guides),
                st.guide_salary_per_day,
                st.tooling_per_day,
                sum(d.kind == DistributorKind.KOC for d in self.distributors),
                sum(d.kind == DistributorKind.SMALL_B for d in self.distributors),
                st.koc_fee_per_day,
            )

    def budget_day(self) -> None:
        """Count yesterday's spend against the budget year (reset on its first day) and let
        today's ads run only if they fit (`sim.rules.ads_within_budget`); `ad_spend` is
        what `advertise` buys today."""
        model = self.model
        today, st = model.today, self.strategy
        start = rules.budget_year_start(today)
        if today == start:
            self.budget_spent = 0.0
        else:
            spent = accounting.budget_spend(model.ledger.array[today - 1], self.index)
            self.budget_spent += spent
        nodes = sum(d.kind != DistributorKind.EMPLOYEE for d in self.distributors)
        fixed = rules.fixed_cost_per_day(
            st.private_ops,
            len(self.guides),
            st.guide_salary_per_day,
            st.tooling_per_day,
            nodes,
            st.koc_fee_per_day,
        )
        days_left = rules.budget_days_left(today)
        if rules.ads_within_budget(
            st.ad_budget_per_day, self.budget_spent, fixed, days_left, self.params.annual_budget
        ):
            self.ad_spend = st.ad_budget_per_day
        else:
            self.ad_spend = 0.0
            accounting.book_budget_bound(model.ledger.today, self.index)

    def advertise(self, cpms: np.ndarray, split: np.ndarray) -> None:
        """Buy impressions on each platform (the budget's `split` at each platform's CPM),
        carry them over (adstock per platform), turn them into awareness (Hill) among
        that platform's shoppers only."""
        model = self.model
        p = model.scenario.platform
        h = np.zeros(len(model.platforms))
        for k in range(h.size):
            spend = self.ad_spend * split[k]
            impressions = rules.impressions_bought(spend, cpms[k])
            accounting.book_ads(model.ledger.today, self.index, spend, impressions)
            self.platform_adstock[k] = rules.adstock(
                self.platform_adstock[k], impressions, p.adstock_theta
            )
            h[k] = rules.ad_awareness_hazard(
                self.platform_adstock[k],
                model.shoppers[k],
                self.strategy.targeting_precision,
                p.ad_max_hazard,
                p.hill_k,
                p.hill_s,
            )
        self.adstock = float(self.platform_adstock.sum())
        if not (h > 0).any():
            return
        row = model.funnel[self.index]
        eligible = np.flatnonzero((row == UNAWARE) | (row == LAPSED))
        hit = eligible[model.rng.random(eligible.size) < h[model.homes[eligible]]]
        for i in hit.tolist():
            model.consumers[i].become_aware(self.index, "ads")

    def word_of_mouth(self) -> None:
        """Aware non-customers forget at a daily rate; organic awareness and word of mouth
        from customers and members to their friends at hazard
        organic + q · (share of one's friends who are customers or members)."""
        model = self.model
        pop = model.scenario.population
        row = model.funnel[self.index]
        if pop.awareness_decay > 0:
            aware = np.flatnonzero(row == AWARE)
            for i in aware[model.rng.random(aware.size) < pop.awareness_decay].tolist():
                model.consumers[i].forget(self.index)
        advocates = (row == CUSTOMER) | (row == MEMBER)
        eligible = np.flatnonzero((row == UNAWARE) | (row == LAPSED))
        if eligible.size == 0:
            return
        net = model.network
        if net.mixing:
            share = np.full(eligible.size, advocates.mean())
        else:
            counts = np.add.reduceat(advocates[net.indices].astype(np.int64), net.indptr[:-1])
            deg = net.degree()
            counts = np.where(deg > 0, counts, 0)
            share = counts[eligible] / np.maximum(deg[eligible], 1)
        feed = model.discovery[model.homes[eligible]]  # 1 on search platforms
        h = rules.combine_hazards(
            pop.organic_awareness * feed, rules.word_of_mouth_hazard(pop.wom_rate * feed, share)
        )
        hit = eligible[model.rng.random(eligible.size) < h]
        for i in hit.tolist():
            model.consumers[i].become_aware(self.index, "organic")

    def store_traffic(self) -> None:
        """Store visits: visitors learn of the brand, may buy, and guides may add them."""
        model = self.model
        if self.stores == 0 or self.params.store_visits_per_day <= 0:
            return
        near = model.store_catchment[self.index]
        if near.size == 0:
            return
        visits = int(
            model.rng.poisson(rules.bounded_poisson_mean(self.params.store_visits_per_day))
        )
        for i in model.rng.choice(near, size=visits).tolist():
            c = model.consumers[i]
            c.become_aware(self.index, "store")
            p = rules.conversion_probability(
                self.params.store_conversion, c.latent_need(self.category_index)
            )
            if model.rng.random() < p:
                c.buy_from(self.index, prompted_by=Prompt.NONE, channel=Channel.STORE)
            elif self.index not in c.memberships and self.private_ops:
                self.store_invite(c)

    def store_invite(self, consumer: Consumer) -> None:
        """A guide asks a visitor or buyer to add them on WeCom; without guides, the
        counter's QR code invites them into the mini-program; never a customer its
        franchisee keeps (`rules.store_invite_rate`)."""
        st = self.strategy
        withheld = bool(self.model.withheld[self.index, consumer.index])  # its franchisee's
        if not self.guides:
            if st.qr_invite_rate > 0 and self.model.rng.random() < rules.store_invite_rate(
                st.qr_invite_rate, withheld
            ):
                self.invite(consumer, "store", "mini_program")
            return
        p = rules.guide_invite_probability(
            st.guide_invite_rate, st.guide_regime == "quota", st.quota_invite_multiplier
        )
        if self.model.rng.random() < rules.store_invite_rate(p, withheld):
            self.invite(consumer, "store", "guide")

    def place_member(self, channel: str) -> tuple[str, Guide | None]:
        """Where a new member goes: a random guide with room if the channel is 'guide'
        (the group if every guide is full), else the channel itself."""
        if channel != "guide":
            return channel, None
        room = [g for g in self.guides if g.has_room()]
        if not room:
            return "group", None
        return "guide", room[int(self.model.rng.integers(0, len(room)))]

    def invite(self, consumer: Consumer, source: str, channel: str) -> bool:
        """Invite a consumer into the private domain; they join if they have a free
        attention slot and the membership is worth it (quota guides push reluctant ones)."""
        model = self.model
        b = self.index
        if b in consumer.memberships or consumer.state(b) == LAPSED or not self.private_ops:
            return False
        accounting.book_invite(
            model.ledger.today,
            b,
            accounting.acquisition_source(
                consumer.acquired[b] == NOT_ACQUIRED,
                Source[consumer.source[b].upper()] if consumer.source[b] else -1,
            ),
        )
        st = self.strategy
        channel, guide = self.place_member(channel)
        pop = model.scenario.population
        if consumer.hunter:
            p_join = rules.hunter_join_probability(st.welcome_gift, len(st.referral_tiers))
        elif not consumer.free_slot():
            return False
        else:
            discount = rules.join_discount(
                st.channel_policy == "separate", st.private_discount, st.member_coupon
            )
            p_join = float(
                rules.join_probability(
                    st.welcome_gift / self.category.price,
                    discount,
                    self.category.service_need,
                    guide is not None,
                    pop.join_value_weight,
                    pop.join_service_weight,
                    pop.join_hassle,
                )
            )
        pressured = p_join
        if guide is not None and st.guide_regime == "quota":
            pressured = float(rules.pressured_join_probability(p_join, st.quota_pressure))
        u = model.rng.random()
        if u < pressured:  # above p_join: joins only because the guide pushed (reluctant)
            consumer.join(b, channel, source, guide, reluctant=u >= p_join)
            return True
        return False

    def on_join(self, consumer: Consumer, source: str, channel: str) -> None:
        accounting.book_join(
            self.model.ledger.today,
            self.index,
            Source[source.upper()],
            self.strategy.welcome_gift,
            accounting.acquisition_source(
                consumer.acquired[self.index] == NOT_ACQUIRED,
                Source[consumer.source[self.index].upper()] if consumer.source[self.index] else -1,
            ),
        )
        consumer.note_membership(
            Kind.JOIN, self.index, consumer.memberships[self.index], Source[source.upper()]
        )

    def broadcast(self) -> None:
        """Posts to group, mini-program and official-account members (not guide 1:1)."""
        model = self.model
        st = self.strategy
        # the calendar: more posts on festival days (rules.festival_rate)
        posts = rules.festival_rate(st.broadcasts_per_week, model.festival[INTERACTION])
        if st.broadcasts_per_week <= 0 or model.rng.random() >= rules.posting_probability(posts):
            return
        self.post_to_members(self.draw_kinds(1)[0])

    def post_to_members(self, kind: Touch) -> None:
        """One post of `kind` to the brand's group, mini-program and official-account
        members (guides' members are reached 1:1 instead), each touched with its channel's
        broadcast effect: a broadcast, or a festival post."""
        model = self.model
        te = model.scenario.touches
        b = self.index
        for i in np.flatnonzero(model.funnel[b] == MEMBER).tolist():
            c = model.consumers[i]
            m = c.memberships.get(b)
            if m is None or m.channel == "guide":
                continue
            effect = rules.broadcast_touch_effect(
                MemberChannel[m.channel.upper()], te.group_effect, te.broadcast_effect
            )
            c.receive_touch(b, kind, effect, 1.0, None)

    # ---- the calendar: the festival touch plan
    def festival_post(self) -> None:
        """On a festival day a brand whose strategy names a `festival_broadcast` kind posts
        one extra touch of that kind to its group, mini-program and official-account
        members, as a broadcast reaches them (no draw decides whether or what)."""
        word = self.strategy.festival_broadcast
        if word == "none":
            return
        self.post_to_members(Touch[word.upper()])

    def members_day(self) -> None:
        """The members' daily private-domain life, drawn for all members at once: engaged
        members refer friends (rewards raise the rate), coupon hunters register fake
        referrals for the reward, muted members may leave."""
        model = self.model
        rng = model.rng
        te = model.scenario.touches
        b = self.index
        idx = rng.permutation(np.flatnonzero(model.funnel[b] == MEMBER))
        if idx.size == 0:
            return
        members = [model.consumers[i] for i in idx.tolist()]
        ms = [c.memberships[b] for c in members]
        tiers = self.reward_tiers
        price = self.category.price
        muted = np.array([m.muted for m in ms])
        hunter = np.array([c.hunter for c in members])
        faded_days = model.today - np.array([m.updated for m in ms])
        engagement = rules.decay(
            np.array([m.engagement for m in ms]),
            model.scenario.population.engagement_decay,
            faded_days,
        )
        reward = np.array([rules.next_referral_reward(m.referrals, *tiers) for m in ms]) / price
        p = np.where(
            muted,
            model.scenario.population.muted_leave_rate,
            np.where(
                hunter & bool(tiers[0]),
                rules.hunter_fake_probability(te.hunter_fake_rate, reward),
                np.where(
                    hunter,
                    0.0,
                    rules.referral_probability(
                        # the calendar: members refer more on festival days
                        rules.festival_rate(te.referral_rate, model.festival[INTERACTION]),
                        engagement,
                        reward,
                        te.reward_sensitivity,
                    ),
                ),
            ),
        )
        for k in np.flatnonzero(rng.random(idx.size) < p).tolist():
            c, m = members[k], ms[k]
            if c.memberships.get(b) is not m:
                continue  # left earlier today (e.g. a referral chain)
            if m.muted:
                accounting.book_leave(model.ledger.today, b)
                c.note_membership(Kind.LEAVE, b, m)
                c.leave(b)
            elif c.hunter:
                self.fake_referral(c, m)
            else:
                c.refer_friend(b)

    def post_reaches(self, consumer: Consumer, source: str, node: Distributor) -> None:
        """A KOC/distributor post reaches a consumer: awareness, maybe an order through the
        node's link (private shop, commission), maybe an invitation to join."""
        st = self.strategy
        rng = self.model.rng
        b = self.index
        accounting.book_koc_reach(self.model.ledger.today, b)
        self.koc_reach[consumer.index] = True
        state = consumer.state(b)
        if state in (UNAWARE, LAPSED):
            if rng.random() < st.koc_awareness:
                consumer.become_aware(b, source)
            return
        p = rules.conversion_probability(
            st.koc_conversion, consumer.latent_need(self.category_index)
        )
        if rng.random() < p:
            consumer.buy_from(
                b,
                prompted_by=accounting.distributor_prompt(node.kind),
                channel=Channel.PRIVATE if b in consumer.memberships else None,
            )
            if rng.random() < st.koc_join and b not in consumer.memberships:
                self.invite(consumer, source, "mini_program")

    def referral(self, referrer: Consumer, m: Membership, friend: Consumer) -> None:
        """A member refers a friend: the friend hears of the brand and is invited; a join
        counts towards the referrer's reward tiers."""
        b = self.index
        if b in friend.memberships:
            return
        accounting.book_referral(self.model.ledger.today, b)
        friend.become_aware(b, "referral")
        if self.invite(friend, "referral", "group"):
            m.referrals += 1
            reward = rules.reward_due(m.referrals, *self.reward_tiers)
            accounting.book_referral_reward(self.model.ledger.today, b, reward)

    def fake_referral(self, hunter: Consumer, m: Membership) -> None:
        """A coupon hunter registers a fake account: it counts as a member and earns the
        reward tier, and never buys."""
        self.fake_members += 1
        m.referrals += 1
        reward = rules.reward_due(m.referrals, *self.reward_tiers)
        accounting.book_fake_referral(self.model.ledger.today, self.index, reward)

    def record_order(
        self,
        consumer: Consumer,
        channel: Channel,
        price: float,
        first: bool,
        member: Membership | None,
        prompted_by: Prompt,
        list_price: float | None = None,
    ) -> None:
        """Account one order (`sim.accounting.book_order`): GMV by channel and source, the
        costs it triggers (platform commission, guide and KOC commission). `list_price`:
        the order's value before discounts (`Consumer.order_value`; the category's price
        when not given)."""
        st = self.strategy
        cat = self.category
        coupon = rules.member_coupon_applies(
            member is not None,
            self.private_ops,
            channel,
            st.channel_policy == "assist",
            st.member_coupon,
        )
        source = Source[(consumer.source[self.index] or "organic").upper()]
        accounting.book_order(
            self.model.ledger.today,
            self.index,
            channel,
            source,
            prompted_by,
            price,
            cat.price if list_price is None else list_price,
            cat.gross_margin,
            first,
            member is not None,
            member is not None and member.guide is not None,
            coupon,
            self.model.platforms[self.model.homes[consumer.index]].take_rate,
            st.guide_commission,
            st.koc_commission,
            st.employee_commission,
        )
        # private lifts public (7.21): points earned, the order's review chance
        is_member = member is not None
        points = rules.points_earned(is_member, self.private_ops, st.points_rate, price)
        accounting.book_points(
            self.model.ledger.today, self.index, points, int(source) if first else accounting.SERVES
        )
        kind = int(rules.review_kind(channel, is_member, self.private_ops, st.review_points))
        if kind >= 0:
            self.review_orders[kind] += 1
        if self.model.events is not None:
            self.model.events.note(
                Kind.ORDER,
                consumer.index,
                self.index,
                self.model.today,
                channel=int(channel),
                source=int(source),
                prompt=int(prompted_by),
                flags=order_flags(first, member is not None),
                value=price,
            )

    # ------------------------------------------------------------------ private lifts public
    def reviews_day(self) -> None:
        """The day's platform reviews (ODD 7.21): each of today's platform orders is reviewed
        with its probability (`rules.review_probability`): the rewarded members' orders
        first, then the others, one uniform each from `model.rng` (the brand's reviews
        stream), drawn only where a review can happen. The reviews and their points are booked,
        the review stock fades and grows (`rules.review_stock_after`), and today's order
        counts start again."""
        model = self.model
        pop, st = model.scenario.population, self.strategy
        n = self.review_orders
        p = [
            rules.review_probability(
                pop.review_rate,
                kind == rules.REVIEW_REWARDED,
                pop.review_reward_sensitivity,
                st.review_points,
                self.category.price,
            )
            for kind in (rules.REVIEW_REWARDED, rules.REVIEW_OTHER)
        ]
        counts = [0, 0]
        if (n[0] > 0 and p[0] > 0) or (n[1] > 0 and p[1] > 0):
            rng = model.rng
            for kind in (rules.REVIEW_REWARDED, rules.REVIEW_OTHER):
                if p[kind] > 0:
                    for _ in range(n[kind]):
                        if rng.random() < p[kind]:
                            counts[kind] += 1
        day = model.ledger.today
        accounting.book_reviews(day, self.index, counts[0], counts[1], st.review_points)
        self.review_stock = float(
            rules.review_stock_after(
                self.review_stock, counts[0] + counts[1], model.scenario.platform.review_decay
            )
        )
        accounting.book_review_stock(day, self.index, self.review_stock)
        self.review_orders = [0, 0]

    # ------------------------------------------------------------------ strategy review
    def adopt(self, strategy: StrategyParams) -> None:
        """Take over a strategy (all levers) and re-staff accordingly."""
        self.strategy = strategy.model_copy(deep=True)
        self.strategy_since = self.model.today + 1
        self.staff()
