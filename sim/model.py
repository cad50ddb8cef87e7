"""`MarketModel`: the reference engine. One step is one day; several brands compete for
the same consumers on one platform. It wires the agents, owns the schedule (the process
order below, documented in docs/ODD.md) and the ledger.

Process order of a day:
 1. each brand counts its spend against its budget year and its ads run only if they fit;
    the platform prices traffic from the total ad demand (several platforms: each from the
    ads on it; dearer on the calendar's festivals);
 2. brands, in random order: pay fixed costs, advertise, word of mouth, store traffic;
 3. KOCs, small-B nodes and employee distributors post (random order);
 4. guides send 1:1 messages (random order); brands broadcast to their other members
    (and, on a festival day of the calendar, send their festival posts);
 5. members live a private-domain day (referrals, fake referrals, leaving when muted);
 6. consumers whose need arrives today choose and buy (random order); on a festival day,
    tracked consumers may have an extra need (index order); demand expansion redraws the
    need clocks of members whose need lift changed today;
 6b. each brand's platform orders of the day are reviewed; its review stock (the platform
    rating's input) fades and grows (private lifts public, ODD 7.21);
 7. acquisition cohorts reaching 90 and 365 days are booked;
 8. the census records the stocks; every `review_days`, adaptive brands review strategy.
"""

from __future__ import annotations

from collections.abc import Callable

import mesa
import numpy as np

from sim import accounting, calendar, population, rules
from sim.agents import (
    Brand,
    Consumer,
    Distributor,
    Guide,
    Membership,
    Platform,
)
from sim.events import EventRows
from sim.ledger import Ledger
from sim.network import build_network
from sim.params import PlatformParams, Scenario, StrategyParams, ad_split, platform_terms
from sim.review import review_strategies
from sim.snapshots import (
    BrandSnapshot,
    ConsumerBrandSnapshot,
    ConsumerSnapshot,
    DistributorSnapshot,
    GuideSnapshot,
    MembershipSnapshot,
    restaffs,
)
from sim.streams import (
    Phase,
    Purpose,
    RunStreams,
    as_streams,
    card_sub,
    festival_post_sub,
    need_sub,
    order_uniform,
)
from sim.vocab import (
    COHORT_HORIZONS,
    MEMBER_CHANNELS,
    STATE_NAMES,
    DistributorKind,
    MemberChannel,
    Source,
    State,
)

LONG_AGO = -(10**6)
"""Acquisition day given to consumers who were customers before the run started."""


class MarketModel(mesa.Model):
    """The market: consumers, brands with their guides and distributors, the platform."""

    def __init__(
        self, scenario: Scenario, rng: RunStreams | int | np.random.Generator | None = None
    ):
        self.streams = streams = as_streams(rng)
        # Mesa seeds its stdlib `random` with a number from the Generator it is given: its
        # own stream, so that it shifts no other draw
        super().__init__(rng=streams.setup(Purpose.MESA))
        self._draw = np.random.Generator(np.random.PCG64(0))
        self._brand_draws: list[np.random.Generator] = []
        self.rng = streams.setup(Purpose.EVENTS)
        """The Generator the agents draw from now: each set-up stream, then each daily
        stream, in turn (`sim.streams`)."""
        self.scenario = scenario
        self.events: EventRows | None = None
        """The raw event rows the agents note (`sim.events`); None: not recorded."""
        self.today = 0
        self.days = scenario.run.days
        self.n_consumers = n = scenario.run.consumers
        sc = scenario
        self.discount_factor = rules.daily_discount_factor(sc.market.discount_rate_per_year)

        cat_names = list(sc.categories)
        brand_names = list(sc.brands)
        self.ledger = Ledger(self.days, brand_names, [sc.brands[b].category for b in brand_names])
        self.agenda: dict[int, list[tuple[Consumer, int]]] = {}
        # demand expansion: consumers to recompute at the day's end, and each brand's lift
        # as the last recomputation saw it (0 at the start: day-0 members are picked up)
        self.demand_due: set[int] = set()
        self._need_lift_seen: list[float] = [0.0] * len(sc.brands)
        # due day -> cohorts to book: (consumer, brand, acquisition day, horizon index), or
        # (None, brand, source, (spend, present value), horizon index) for a frozen cohort
        self.cohort_agenda: dict[int, list[tuple]] = {}
        # the calendar: the festivals' windows and today's row (multipliers, festival flag)
        self.calendar = calendar.windows(sc.calendar)
        self.festival = np.array([1.0, 1.0, 1.0, 0.0])

        # ---- the network and the platform
        self.network = build_network(sc.network, n, streams.setup(Purpose.NETWORK))
        self.platform = Platform(self)
        # ---- several public platforms: each consumer's home platform (drawn only when the
        # scenario names several), the platforms' terms and their shoppers
        self._set_platforms()
        self.homes = np.zeros(n, dtype=np.int64)
        if len(self.platforms) > 1:
            shares = np.array([p.shoppers for p in self.platforms])
            u = streams.setup(Purpose.PLATFORMS).random(n)
            self.homes = rules.home_platforms(u, shares)
        self.shoppers = np.bincount(self.homes, minlength=len(self.platforms))
        self.platform_agents = [self.platform] + [
            Platform(self, k) for k in range(1, len(self.platforms))
        ]
        self._ban_words = np.zeros(4, dtype=np.uint64)

        # ---- brands (consumers need them to exist to size their per-brand state)
        self.brands: list[Brand] = []
        for b, name in enumerate(brand_names):
            bp = sc.brands[name]
            self.brands.append(
                Brand(self, b, name, bp, sc.categories[bp.category], cat_names.index(bp.category))
            )
        nb = len(self.brands)
        self._brand_draws = [np.random.Generator(np.random.PCG64(0)) for _ in range(nb)]
        self.brands_in_category = [
            [br.index for br in self.brands if br.category_index == c]
            for c in range(len(cat_names))
        ]
        self.funnel = np.zeros((nb, n), dtype=np.int8)
        self.purchases = np.zeros((nb, n), dtype=np.int32)
        self.store_access = np.zeros((nb, n), dtype=bool)
        for br in self.brands:
            if br.stores > 0:
                near = streams.setup(Purpose.STORES, br.index).random(n)
                self.store_access[br.index] = near < br.params.store_coverage
        self.store_catchment = [np.flatnonzero(row) for row in self.store_access]
        # organisation and channel conflict: customers their franchisee keeps
        self.withheld = population.channel_owners(sc, brand_names, n, streams)

        # ---- consumers: heterogeneity drawn as arrays, then one agent each
        need = np.zeros((n, len(cat_names)))
        for k, name in enumerate(cat_names):
            rng = streams.setup(Purpose.NEED_RATES, k)
            need[:, k] = population.need_rates(sc, [name], n, rng)[:, 0]
        t = population.traits(sc, brand_names, n, streams.setup(Purpose.TRAITS))
        # order values and baskets: each consumer's mean order value per category, relative
        # to its price, and the Generator an order's own value stream is loaded into
        self.order_value_mean = population.order_value_means(sc, cat_names, n, streams)
        self.value_draw = np.random.Generator(np.random.PCG64(0))
        self.consumers: list[Consumer] = [
            Consumer(
                self,
                i,
                need[i],
                float(t.alpha[i]),
                float(t.trust[i]),
                int(t.slots[i]),
                bool(t.hunter[i]),
                float(t.tolerance[i]),
                t.dropout[:, i],
            )
            for i in range(n)
        ]
        for br in self.brands:
            br.staff()
        # lifecycle operations: birthdays only if a brand touches members on them; each
        # brand's lifecycle touches draw from their own daily stream
        self.birthdays = population.birthdays(n, None)
        self._draw_birthdays([br.strategy for br in self.brands])
        self.lifecycle_draws = [np.random.Generator(np.random.PCG64(0)) for _ in range(nb)]
        self._initial_funnel()
        self.rng = streams.setup(Purpose.NEED_CLOCKS)
        for c in self.consumers:
            for cat in range(len(cat_names)):
                c.start_needs(cat)
        self.rng = streams.setup(Purpose.EVENTS)

    # ------------------------------------------------------------------ set-up helpers
    def _initial_funnel(self) -> None:
        """Day-0 funnel per brand: nested random sets aware ⊇ customers ⊇ members."""
        n = self.n_consumers
        for br in self.brands:
            init = br.params.initial
            self.rng = self.streams.setup(Purpose.FUNNEL, br.index)
            order = self.rng.permutation(n)
            n_aware, n_cust, n_mem = (
                round(init.aware * n),
                round(init.customers * n),
                round(init.members * n),
            )
            for rank, i in enumerate(order[:n_aware].tolist()):
                c = self.consumers[i]
                self.funnel[br.index, i] = State.AWARE
                c.source[br.index] = "organic"
                if rank < n_cust:
                    self.funnel[br.index, i] = State.CUSTOMER
                    c.purchases[br.index] = 1
                    c.acquired[br.index] = LONG_AGO
                    c.last_purchase[br.index] = -int(
                        self.rng.integers(1, init.last_purchase_within + 1)
                    )
                if rank < n_mem and br.private_ops:
                    # existing WeCom friends of guides if the brand has guides, else where its
                    # package cards lead
                    preferred = "guide" if br.guides else br.strategy.package_card_channel
                    channel, guide = br.place_member(preferred)
                    c.memberships[br.index] = Membership(
                        channel=channel,
                        joined=0,
                        engagement=self.scenario.population.join_engagement,
                        guide=guide,
                        lifecycle_day=rules.WELCOMED_BEFORE_RUN,
                    )
                    if guide is not None:
                        guide.members.append(c)
                    self.funnel[br.index, i] = State.MEMBER

    def _draw_birthdays(self, strategies: list[StrategyParams]) -> None:
        """Lifecycle operations: draw the consumers' birthdays (`Purpose.BIRTHDAYS`) the
        first time a strategy touches members on them; never otherwise."""
        if self.birthdays[:1].tolist() == [-1] and population.wants_birthdays(strategies):
            rng = self.streams.setup(Purpose.BIRTHDAYS)
            self.birthdays = population.birthdays(self.n_consumers, rng)

    def start_cohort(self, consumer: Consumer, b: int) -> None:
        """A consumer becomes a customer (again) and opens a cohort due at 90 and 365 days.
        A previous cohort still open (the customer lapsed and came back) is frozen — its
        value is final — and booked on its own due days, so every cohort counts at its age."""
        old = consumer.cohort_day[b]
        for h in np.flatnonzero(consumer.cohort_pending[b]).tolist():
            frozen = (consumer.cohort_spend[b, h], consumer.cohort_pv[b, h])
            due = old + COHORT_HORIZONS[h]
            self.cohort_agenda.setdefault(due, []).append(
                (None, b, consumer.cohort_source[b], frozen, h)
            )
        day = self.today
        consumer.cohort_day[b] = day
        consumer.cohort_source[b] = consumer.source[b] or "organic"
        consumer.cohort_spend[b] = 0.0
        consumer.cohort_pv[b] = 0.0
        consumer.cohort_pending[b] = True
        for h, horizon in enumerate(COHORT_HORIZONS):
            self.cohort_agenda.setdefault(day + horizon, []).append((consumer, b, day, None, h))

    def book_cohort(self, b: int, source: str, spend: float, pv: float, h: int) -> None:
        """Book one customer's value over its first `horizon` days into the ledger."""
        accounting.book_cohort(self.ledger.today, b, h, Source[source.upper()], spend, pv)

    # ------------------------------------------------------------------ several platforms
    def _set_platforms(self) -> None:
        """The public platforms' terms (`sim.params.platform_terms`) and the discovery
        multiplier of each (`sim.rules.discovery_multiplier`), from the scenario."""
        self.platforms = platform_terms(self.scenario)
        self.discovery = np.array(
            [
                rules.discovery_multiplier(p.discovery == "feed", p.feed_boost)
                for p in self.platforms
            ]
        )

    def ad_split(self, strategy: StrategyParams) -> np.ndarray:
        """A strategy's shares of the ad budget by platform (`sim.params.ad_split`)."""
        return np.array(ad_split(self.scenario, strategy))

    def ban_uniform(self, consumer: int, b: int, orders: int) -> float:
        """The uniform of a package card's ban draw: stream `Phase.PLATFORM_BAN` of today
        and the order (`sim.streams.order_uniform`), outside the order's own stream."""
        key = self.streams.keys[Phase.PLATFORM_BAN]
        sub = np.uint64(card_sub(consumer, b, orders))  # a hash: above int64
        return float(order_uniform(key, self.today, sub, self._ban_words))

    # ------------------------------------------------------------------ the day
    def use(self, phase: Phase, sub: int = 0) -> np.random.Generator:
        """Draw from today's stream of `phase` (and sub-key) from its start on: the agents'
        `model.rng`, set to that stream (`sim.streams.RunStreams.daily`)."""
        self.rng = self.streams.daily(phase, self.today, sub, self._draw)
        return self.rng

    def _pooled(self, agents: list, order: Phase, phase: Phase) -> None:
        """Step distributors or guides of all brands in one random order (stream `order`);
        each draws from its brand's stream of `phase`, continued across that brand's agents."""
        draws = [
            self.streams.daily(phase, self.today, b, g) for b, g in enumerate(self._brand_draws)
        ]
        for k in self.use(order).permutation(len(agents)).tolist():
            self.rng = draws[agents[k].brand.index]
            agents[k].step()

    def step(self) -> None:
        """One day in the process order above; each phase draws from its own stream
        (`sim.streams.Phase`), per brand where the phase is a brand's, per need for needs."""
        sc = self.scenario
        calendar.day_row(self.calendar, sc.calendar.start_day_of_year, self.today, self.festival)
        for br in self.brands:
            br.budget_day()
        # each platform prices its traffic from the ad demand on it (several platforms)
        splits = [self.ad_split(br.strategy) for br in self.brands]
        cpms = np.array(
            [
                pl.price_traffic(sum(br.ad_spend * splits[br.index][k] for br in self.brands))
                for k, pl in enumerate(self.platform_agents)
            ]
        )
        brands = [self.brands[k] for k in self.use(Phase.BRAND_ORDER).permutation(len(self.brands))]
        for br in brands:
            cpm = rules.blended_cpm(cpms, splits[br.index])
            accounting.book_cpm(self.ledger.today, br.index, cpm)
            br.pay_fixed_costs()
            self.use(Phase.ADS, br.index)
            br.advertise(cpms, splits[br.index])
            self.use(Phase.WORD_OF_MOUTH, br.index)
            br.word_of_mouth()
            self.use(Phase.STORE_TRAFFIC, br.index)
            br.store_traffic()
        by_type = self.agents_by_type
        distributors = list(by_type[Distributor]) if Distributor in by_type else []
        self._pooled(distributors, Phase.DISTRIBUTOR_ORDER, Phase.DISTRIBUTORS)
        guides = list(by_type[Guide]) if Guide in by_type else []
        for br in self.brands:  # lifecycle operations: the brand's lifecycle touches' stream
            if br.strategy.touch_targeting == "lifecycle":
                self.streams.daily(
                    Phase.LIFECYCLE, self.today, br.index, self.lifecycle_draws[br.index]
                )
        self._pooled(guides, Phase.GUIDE_ORDER, Phase.GUIDES)
        for br in brands:
            if br.private_ops:
                self.use(Phase.BROADCAST, br.index)
                br.broadcast()
        if self.festival[calendar.FESTIVAL]:  # the calendar: festival posts
            for br in brands:
                if br.private_ops:
                    self.use(Phase.FESTIVAL, festival_post_sub(br.index))
                    br.festival_post()
        for br in brands:
            if br.private_ops:
                self.use(Phase.MEMBERS_DAY, br.index)
                br.members_day()
        due = self.agenda.pop(self.today, [])
        for k in self.use(Phase.NEED_ORDER).permutation(len(due)).tolist():
            c, cat = due[k]
            if c.next_need[cat] == self.today:
                self.use(Phase.NEEDS, need_sub(c.index, cat))
                c.on_need(cat)
        if self.festival[calendar.DEMAND] > 1.0:
            self._festival_needs(self.festival[calendar.DEMAND])
        self.expand_demand()
        for br in self.brands:  # private lifts public (7.21): the day's platform reviews
            self.use(Phase.REVIEWS, br.index)
            br.reviews_day()
        self.rng = self.streams.setup(Purpose.EVENTS)
        self._book_cohorts()
        self._census()
        self.ledger.close_day()
        if (self.today + 1) % sc.market.review_days == 0:
            self._review_strategies()
        self.today += 1

    def expand_demand(self) -> None:
        """Demand expansion at the end of the needs step: members of a brand whose effective
        lift changed (its lever, or private operations switched at a review) and consumers
        who joined, muted or left today get their need lift recomputed; a changed lift
        redraws the tracked need clock from stream `Phase.DEMAND_EXPANSION` (sub-key: the
        consumer and category). Nothing is drawn while no brand has a lift."""
        for br in self.brands:
            lift = rules.membership_need_lift(
                br.strategy.member_need_lift, True, False, br.private_ops
            )
            if lift != self._need_lift_seen[br.index]:
                self._need_lift_seen[br.index] = lift
                self.demand_due.update(
                    np.flatnonzero(self.funnel[br.index] == State.MEMBER).tolist()
                )
        for i in sorted(self.demand_due):
            c = self.consumers[i]
            for cat, brands in enumerate(self.brands_in_category):
                if brands:
                    self.use(Phase.DEMAND_EXPANSION, need_sub(i, cat))
                    c.relift_need(cat)
        self.demand_due.clear()

    def _festival_needs(self, multiplier: float) -> None:
        """The calendar: after the day's due needs, every consumer whose needs are tracked
        in a category (§3.3) may have an extra need there (`Consumer.festival_need`), in
        index order, each from its own stream (`Phase.FESTIVAL`, the need's sub-key)."""
        today = self.today
        ncat = len(self.brands_in_category)
        for c in self.consumers:
            for cat in range(ncat):
                if c.next_need[cat] > today:
                    self.use(Phase.FESTIVAL, need_sub(c.index, cat))
                    c.festival_need(cat, multiplier)

    def _book_cohorts(self) -> None:
        for c, b, tag, frozen, h in self.cohort_agenda.pop(self.today, []):
            if c is None:  # a frozen cohort of a customer who lapsed and came back
                self.book_cohort(b, tag, frozen[0], frozen[1], h)
            elif c.cohort_day[b] == tag and c.cohort_pending[b, h]:
                self.book_cohort(b, c.cohort_source[b], c.cohort_spend[b, h], c.cohort_pv[b, h], h)
                c.cohort_pending[b, h] = False

    def _census(self) -> None:
        ledger = self.ledger
        window = self.scenario.population.active_window
        for br in self.brands:
            b = br.index
            counts = np.bincount(self.funnel[b], minlength=len(STATE_NAMES))
            for s, name in enumerate(STATE_NAMES):
                ledger.set(f"stock_{name}", b, counts[s])
            bought = self.purchases[b]
            ledger.set("stock_ever_customers", b, int((bought > 0).sum()))
            ledger.set("stock_repeat_customers", b, int((bought > 1).sum()))
            muted = active = engaged = 0
            per_channel = dict.fromkeys(MEMBER_CHANNELS, 0)
            fade = self.scenario.population.engagement_decay
            threshold = self.scenario.population.engaged_threshold
            today = self.today
            for i in np.flatnonzero(self.funnel[b] == State.MEMBER).tolist():
                c = self.consumers[i]
                m = c.memberships[b]
                per_channel[m.channel] += 1
                if m.muted:
                    muted += 1
                    continue
                engaged += rules.decay(m.engagement, fade, today - m.updated) >= threshold
                active += today - c.last_purchase[b] < window
            ledger.set("stock_muted", b, muted)
            ledger.set("stock_reachable", b, counts[State.MEMBER] - muted)
            ledger.set("stock_active_members", b, active)
            ledger.set("stock_engaged", b, engaged)
            for ch, k in per_channel.items():
                ledger.set(f"stock_members_{ch}", b, k)
            ledger.set("stock_fake_members", b, br.fake_members)
            ledger.set("stock_koc_reach", b, int(br.koc_reach.sum()))
            ledger.set("stock_koc_nodes", b, len(br.distributors))
            ledger.set("stock_guides", b, len(br.guides))
            ledger.set("private_ops", b, float(br.private_ops))

    def _review_strategies(self) -> None:
        """Adaptive brands imitate more profitable peers (`sim.review.review_strategies`):
        an adoption takes over all levers and re-staffs the brand, through the one path of
        a strategy change (`set_strategy`)."""
        review_strategies(
            self.ledger.data["gross_profit"],
            self.ledger.data["cost_total"],
            [br.params.adaptive for br in self.brands],
            [br.category_index for br in self.brands],
            [br.strategy for br in self.brands],
            [br.strategy_since for br in self.brands],
            self.today,
            self.scenario.market,
            self.streams.daily(Phase.REVIEW, self.today, 0, self._draw),
            lambda b, strategy: self.set_strategy(b, strategy, restaff=True),
        )

    def run(self, progress: Callable[[int], None] | None = None) -> None:
        """Step through the scenario's horizon, calling `progress(day)` after each day."""
        for _ in range(self.days):
            self.step()
            if progress is not None:
                progress(self.today)

    # ------------------------------------------------------------------ engine protocol
    # (sim.protocol.Engine: what the workshop and the runner may ask of an engine)
    def record_events(self) -> np.ndarray:
        """From now on, note every order, join, mute, leave and lapse (`sim.events`);
        returns who has bought from each brand so far (bool [brand, consumer])."""
        if self.events is None:
            self.events = EventRows()
        return self.purchases > 0

    def take_events(self) -> tuple[np.ndarray, np.ndarray]:
        """The raw event rows noted since the last call (`sim.events.WIDTH` int32 columns,
        and the values), in the order the events happened."""
        if self.events is None:
            raise RuntimeError("events are not recorded: call record_events() first")
        return self.events.take()

    @property
    def brand_names(self) -> list[str]:
        """The brands, in index order."""
        return [br.name for br in self.brands]

    def set_strategy(
        self, brand: int, strategy: StrategyParams, restaff: bool | None = None
    ) -> None:
        """Give brand `brand` a new strategy from the next day on: re-staff (and restart
        the strategy's clock) if a staffing field changed or `restaff` is True, else just
        take the new levers (sim.protocol.Engine.set_strategy)."""
        br = self.brands[brand]
        self._draw_birthdays([strategy])
        if restaff is None:
            restaff = restaffs(br.strategy, strategy)
        if restaff:
            br.adopt(strategy)
        else:
            br.strategy = strategy.model_copy(deep=True)

    def set_platform(self, platform: PlatformParams) -> None:
        """New platform terms from the next day on (sim.protocol.Engine.set_platform): the
        agents read `scenario.platform` each day, so a new scenario object is enough."""
        self.scenario = self.scenario.model_copy(update={"platform": platform.model_copy()})
        self._set_platforms()

    def strategy(self, brand: int) -> StrategyParams:
        """A copy of the brand's current strategy."""
        return self.brands[brand].strategy.model_copy(deep=True)

    def brand_snapshot(self, brand: int) -> BrandSnapshot:
        """The brand's strategy, staff and fake members (sim.snapshots.BrandSnapshot)."""
        br = self.brands[brand]
        return BrandSnapshot(
            index=brand,
            name=br.name,
            category=br.params.category,
            strategy=br.strategy.model_copy(deep=True),
            strategy_since=int(br.strategy_since),
            stores=int(br.stores),
            guides=tuple(
                GuideSnapshot(
                    store=int(g.store),
                    skill=float(g.skill),
                    members=tuple(sorted(c.index for c in g.members)),
                )
                for g in br.guides
            ),
            distributors=tuple(
                DistributorSnapshot(
                    kind=DistributorKind(d.kind),
                    centre=int(d.person),
                    circle=tuple(int(i) for i in d.circle.tolist()),
                )
                for d in br.distributors
            ),
            fake_members=int(br.fake_members),
        )

    def consumer_snapshot(self, consumer: int) -> ConsumerSnapshot:
        """One consumer towards every brand (sim.snapshots.ConsumerSnapshot); memberships
        faded to today without touching the agent."""
        c = self.consumers[consumer]
        pop = self.scenario.population
        net = self.network
        brands = []
        for br in self.brands:
            b = br.index
            m = c.memberships.get(b)
            ms = None
            if m is not None:
                days = self.today - m.updated
                ms = MembershipSnapshot(
                    channel=MemberChannel[m.channel.upper()],
                    joined=int(m.joined),
                    engagement=float(rules.decay(m.engagement, pop.engagement_decay, days)),
                    fatigue=float(rules.decay(m.fatigue, pop.fatigue_decay, days)),
                    muted=bool(m.muted),
                    reluctant=bool(m.reluctant),
                    guide=None if m.guide is None else br.guides.index(m.guide),
                    referrals=int(m.referrals),
                )
            bought = int(self.purchases[b, consumer])
            brands.append(
                ConsumerBrandSnapshot(
                    state=State(int(self.funnel[b, consumer])),
                    purchases=bought,
                    spend=float(c.spend[b]),
                    last_purchase=int(c.last_purchase[b]) if bought else None,
                    membership=ms,
                )
            )
        return ConsumerSnapshot(
            index=consumer,
            friends=int(net.indptr[consumer + 1] - net.indptr[consumer]),
            hunter=bool(c.hunter),
            brands=tuple(brands),
        )

    def states(self, brand: int) -> np.ndarray:
        """Every consumer's funnel state towards the brand (a read-only view)."""
        row = self.funnel[brand].view()
        row.flags.writeable = False
        return row

    def member_channels(self, brand: int) -> np.ndarray:
        """Each consumer's member channel code in the brand's private domain, −1 if none."""
        out = np.full(self.n_consumers, -1, dtype=np.int8)
        for i, c in enumerate(self.consumers):
            m = c.memberships.get(brand)
            if m is not None:
                out[i] = MemberChannel[m.channel.upper()]
        out.flags.writeable = False
        return out

    def member_guides(self, brand: int) -> np.ndarray:
        """Each member's guide (position among the brand's guides), −1 if none."""
        out = np.full(self.n_consumers, -1, dtype=np.int32)
        for k, g in enumerate(self.brands[brand].guides):
            for c in g.members:
                out[c.index] = k
        out.flags.writeable = False
        return out
