"""`FastModel`: builds the fast engine's arrays from a Scenario, steps the compiled day
(`kernels.run_days`) and, between days, does what stays in Python: adaptive brands'
strategy reviews and re-staffing. Its ledger has the reference engine's schema.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim import population, rules
from sim.fast import kernels as K
from sim.fast.layout import (
    DISTRIBUTOR_KINDS,
    GROUP_CH,
    GUIDE_CH,
    NO_COHORT,
    NOT_ACQUIRED,
    Brands,
    Globals,
    World,
    as_struct,
    col,
)
from sim.kpis import ratio
from sim.ledger import Ledger
from sim.network import build_network, circle
from sim.params import MEMBER_CHANNELS, SOURCES_CUSTOMER, Scenario, StrategyParams

_COHORT_COLUMNS = {
    (h, s, k): col(f"cohort{horizon}_{what}_{src}")
    for h, horizon in enumerate((90, 365))
    for s, src in enumerate(SOURCES_CUSTOMER)
    for k, what in enumerate(("gmv", "pv", "n"))
}


class FastModel:
    """The market of `sim.model.MarketModel`, over arrays. Same constructor and `run`."""

    def __init__(self, scenario: Scenario, rng: np.random.Generator | int | None = None):
        if not isinstance(rng, np.random.Generator):
            rng = np.random.default_rng(rng)
        self.rng = rng
        self.scenario = sc = scenario
        self.today = 0
        self.days = sc.run.days
        self.n_consumers = n = sc.run.consumers
        # needs are tracked only in categories some brand sells (as in the reference
        # engine, where a category no brand sells is never known, so never tracked)
        cat_names = [c for c in sc.categories if any(b.category == c for b in sc.brands.values())]
        self.brand_names = list(sc.brands)
        nb = len(self.brand_names)
        self.brand_params = [sc.brands[name] for name in self.brand_names]
        self.strategies: list[StrategyParams] = [
            bp.strategy.model_copy(deep=True) for bp in self.brand_params
        ]
        self.strategy_since = [0] * nb
        self.ledger = Ledger(self.days, self.brand_names, [bp.category for bp in self.brand_params])
        self._L = self.ledger.array  # the compiled day writes the ledger's array in place
        self._book = np.zeros((self.days, nb, 2, len(SOURCES_CUSTOMER), 3))

        self.network = build_network(sc.network, n, rng)
        self.B = self._brands(cat_names)
        self.G = self._globals()

        # ---- consumers, drawn as in MarketModel.__init__ (store catchments first)
        ncat = len(cat_names)
        store_access = np.zeros((nb, n), dtype=bool)
        for b, bp in enumerate(self.brand_params):
            if bp.stores > 0:
                store_access[b] = rng.random(n) < bp.store_coverage
        need = population.need_rates(sc, cat_names, n, rng)
        t = population.traits(sc, self.brand_names, n, rng)
        catchments = [np.flatnonzero(row).astype(np.int32) for row in store_access]
        c_ptr = np.zeros(nb + 1, dtype=np.int64)
        c_ptr[1:] = np.cumsum([c.size for c in catchments])

        def per_brand(dtype, fill=0):
            return np.full((nb, n), fill, dtype=dtype)

        net = self.network
        self.W = World(
            need_rate=need.astype(np.float32),
            need_p=rules.daily_need_probability(need).astype(np.float32),
            next_need=np.full((n, ncat), -1, dtype=np.int32),
            alpha=t.alpha.astype(np.float32),
            trust=t.trust.astype(np.float32),
            tolerance=t.tolerance.astype(np.float32),
            slots=np.minimum(t.slots, 127).astype(np.int8),
            hunter=t.hunter,
            n_memb=np.zeros(n, dtype=np.int8),
            funnel=per_brand(np.int8),
            purchases=per_brand(np.int32),
            source=per_brand(np.int8, -1),
            acquired=per_brand(np.int32, NOT_ACQUIRED),
            spend=per_brand(np.float32),
            last_purchase=per_brand(np.int32, -(10**6)),
            cohort_day=per_brand(np.int32, NO_COHORT),
            cohort_src=per_brand(np.int8),
            dropout=t.dropout.astype(np.float32),
            store_access=store_access,
            annoyed=per_brand(np.bool_),
            koc_reach=per_brand(np.bool_),
            advocates=per_brand(np.int32),
            m_channel=per_brand(np.int8, -1),
            m_joined=per_brand(np.int32),
            m_eng=per_brand(np.float32),
            m_fat=per_brand(np.float32),
            m_harv=per_brand(np.float32),
            m_upd=per_brand(np.int32),
            m_muted=per_brand(np.bool_),
            m_reluct=per_brand(np.bool_),
            m_guide=per_brand(np.int32, -1),
            m_gpos=per_brand(np.int32, -1),
            m_refs=per_brand(np.int32),
            indptr=net.indptr,
            indices=net.indices,
            g_brand=np.zeros(0, dtype=np.int32),
            g_skill=np.zeros(0, dtype=np.float32),
            g_n=np.zeros(0, dtype=np.int32),
            g_len=np.zeros(0, dtype=np.int32),
            g_off=np.zeros(0, dtype=np.int64),
            g_cap=np.zeros(0, dtype=np.int32),
            g_list=np.zeros(0, dtype=np.int32),
            b_glo=np.zeros(nb, dtype=np.int64),
            b_ghi=np.zeros(nb, dtype=np.int64),
            b_full=np.zeros(nb, dtype=np.int64),
            d_brand=np.zeros(0, dtype=np.int32),
            d_kind=np.zeros(0, dtype=np.int32),
            d_ptr=np.zeros(1, dtype=np.int64),
            d_idx=np.zeros(0, dtype=np.int32),
            c_ptr=c_ptr,
            c_idx=np.concatenate(catchments) if catchments else np.zeros(0, dtype=np.int32),
            adstock=np.zeros(nb),
            fake_members=np.zeros(nb, dtype=np.int64),
            n_advocates=np.zeros(nb, dtype=np.int64),
            n_koc_reach=np.zeros(nb, dtype=np.int64),
            n_state=np.array([[n, 0, 0, 0, 0]] * nb, dtype=np.int64).reshape(nb, 5),
            n_ever=np.zeros(nb, dtype=np.int64),
            n_repeat=np.zeros(nb, dtype=np.int64),
            scratch_i=np.zeros((3, 3 * nb + 2), dtype=np.int64),
            scratch_f=np.zeros((6, 3 * nb + 2)),
            phase=np.zeros(1, dtype=np.int64),
        )
        self._skills: list[np.ndarray] = [np.zeros(0, dtype=np.float32)] * nb
        self._distributors: list[list[tuple[int, np.ndarray]]] = [[] for _ in range(nb)]
        for b in range(nb):
            self._staff(b)
        self._layout_staff()
        self._initial_funnel()
        W, B, _ = self._structs()
        K.start_all_needs(W, B, 0, self.rng)

    # ------------------------------------------------------------------ set-up helpers
    def _structs(self) -> tuple:
        """(World, Brands, Globals) as the StructRefs the kernels take, sharing the arrays
        of self.W, self.B and self.G (rebuilt when the staff layout replaces arrays)."""
        if getattr(self, "_refs", None) is None:
            self._refs = (as_struct(self.W), as_struct(self.B), as_struct(self.G))
        return self._refs

    def _globals(self) -> Globals:
        sc = self.scenario
        pop, te, p = sc.population, sc.touches, sc.platform
        span = np.arange(self.days + 2)
        return Globals(
            n=self.n_consumers,
            days=self.days,
            mixing=bool(self.network.mixing),
            discount_factor=rules.daily_discount_factor(sc.market.discount_rate_per_year),
            fatigue_pow=rules.decay(1.0, pop.fatigue_decay, span).astype(np.float64),
            engagement_pow=rules.decay(1.0, pop.engagement_decay, span).astype(np.float64),
            harvest_threshold=pop.harvest_threshold,
            harvest_memory=pop.harvest_memory,
            annoyance_penalty=pop.annoyance_penalty,
            muted_leave_rate=pop.muted_leave_rate,
            organic_awareness=pop.organic_awareness,
            awareness_decay=pop.awareness_decay,
            wom_rate=pop.wom_rate,
            trust_weight=pop.trust_weight,
            relationship_weight=pop.relationship_weight,
            customer_loyalty=pop.customer_loyalty,
            convenience_platform=pop.convenience_platform,
            convenience_private=pop.convenience_private,
            convenience_store=pop.convenience_store,
            store_service_value=pop.store_service_value,
            outside_utility=pop.outside_utility,
            join_engagement=pop.join_engagement,
            reluctant_engagement=pop.reluctant_engagement,
            join_hassle=pop.join_hassle,
            join_value_weight=pop.join_value_weight,
            join_service_weight=pop.join_service_weight,
            latent_need_window=pop.latent_need_window,
            engaged_threshold=pop.engaged_threshold,
            active_window=pop.active_window,
            fatigue_touch=np.array([te.fatigue_content, te.fatigue_service, te.fatigue_selling]),
            engagement_content=te.engagement_content,
            engagement_service=te.engagement_service,
            selling_conversion=te.selling_conversion,
            group_effect=te.group_effect,
            broadcast_effect=te.broadcast_effect,
            referral_rate=te.referral_rate,
            reward_sensitivity=te.reward_sensitivity,
            hunter_fake_rate=te.hunter_fake_rate,
            member_retention=te.member_retention,
            base_cpm=p.base_cpm,
            cpm_growth=p.cpm_growth_per_year,
            reference_demand=p.reference_ad_demand,
            cpm_elasticity=p.cpm_demand_elasticity,
            take_rate=p.take_rate,
            buyer_protection=p.buyer_protection,
            adstock_theta=p.adstock_theta,
            ad_max_hazard=p.ad_max_hazard,
            hill_k=p.hill_k,
            hill_s=p.hill_s,
            ad_trial_boost=p.ad_trial_boost,
        )

    def _brands(self, cat_names: list[str]) -> Brands:
        sc = self.scenario
        nb = len(self.brand_names)
        t_max = max([len(s.referral_tiers) for s in self.strategies] + [1])
        k_max = max([len(s.tier_spend) for s in self.strategies] + [1])
        # every strategy a brand may adopt comes from a peer: size the tier tables for all
        f = np.zeros
        arrays = {name: f(nb) for name in Brands._fields}
        arrays.update(
            private_ops=np.zeros(nb, dtype=np.bool_),
            quota=np.zeros(nb, dtype=np.bool_),
            assist=np.zeros(nb, dtype=np.bool_),
            package_card_channel=np.zeros(nb, dtype=np.int64),
            guide_capacity=np.zeros(nb, dtype=np.int64),
            mix=f((nb, 3)),
            tier_needed=np.zeros((nb, t_max), dtype=np.int64),
            tier_reward=f((nb, t_max)),
            n_reward_tiers=np.zeros(nb, dtype=np.int64),
            tier_spend=f((nb, k_max)),
            tier_discount=f((nb, k_max)),
            n_spend_tiers=np.zeros(nb, dtype=np.int64),
            stores=np.zeros(nb, dtype=np.int64),
            category=np.zeros(nb, dtype=np.int64),
        )
        per_cat = [
            [b for b, bp in enumerate(self.brand_params) if bp.category == c] for c in cat_names
        ]
        width = max([len(x) for x in per_cat] + [1])
        cat_brands = np.full((len(cat_names), width), -1, dtype=np.int64)
        for c, members in enumerate(per_cat):
            cat_brands[c, : len(members)] = members
        arrays["cat_brands"] = cat_brands
        arrays["cat_nbrands"] = np.array([len(x) for x in per_cat], dtype=np.int64)
        B = Brands(**arrays)
        for b, bp in enumerate(self.brand_params):
            cat = sc.categories[bp.category]
            B.appeal[b] = bp.appeal
            B.stores[b] = bp.stores
            B.store_visits[b] = bp.store_visits_per_day
            B.store_conversion[b] = bp.store_conversion
            B.category[b] = cat_names.index(bp.category)
            B.price[b] = cat.price
            B.gross_margin[b] = cat.gross_margin
            B.service_need[b] = cat.service_need
            B.sku_breadth[b] = cat.sku_breadth
            B.trial[b] = cat.trial_on_awareness
            B.platform_fit[b] = cat.platform_fit
            B.private_fit[b] = cat.private_fit
            B.store_fit[b] = cat.store_fit
            self._set_levers(B, b, self.strategies[b])
        return B

    @staticmethod
    def _set_levers(B: Brands, b: int, st: StrategyParams) -> None:
        """Write a strategy's levers into brand b's entries."""
        B.private_ops[b] = st.private_ops
        B.ad_budget[b] = st.ad_budget_per_day
        B.precision[b] = st.targeting_precision
        B.platform_discount[b] = st.platform_discount
        B.package_card_rate[b] = st.package_card_rate
        B.package_card_channel[b] = MEMBER_CHANNELS.index(st.package_card_channel)
        B.guide_touches[b] = st.guide_touches_per_day
        B.guide_invite_rate[b] = st.guide_invite_rate
        B.qr_invite_rate[b] = st.qr_invite_rate
        B.quota[b] = st.guide_regime == "quota"
        B.quota_multiplier[b] = st.quota_invite_multiplier
        B.quota_pressure[b] = st.quota_pressure
        B.reluctant_tolerance[b] = st.reluctant_tolerance
        B.guide_salary[b] = st.guide_salary_per_day
        B.guide_commission[b] = st.guide_commission
        B.mix[b] = (st.content_mix.content, st.content_mix.service, st.content_mix.selling)
        B.broadcasts[b] = st.broadcasts_per_week
        B.private_discount[b] = st.private_discount
        B.member_coupon[b] = st.member_coupon
        B.assist[b] = st.channel_policy == "assist"
        B.welcome_gift[b] = st.welcome_gift
        B.member_service[b] = st.member_service
        t = len(st.referral_tiers)
        if t > B.tier_needed.shape[1] or len(st.tier_spend) > B.tier_spend.shape[1]:
            raise ValueError("a strategy with more tiers than any brand started with")
        B.n_reward_tiers[b] = t
        B.tier_needed[b, :t] = [x.referrals for x in st.referral_tiers]
        B.tier_reward[b, :t] = [x.reward for x in st.referral_tiers]
        k = len(st.tier_spend)
        B.n_spend_tiers[b] = k
        B.tier_spend[b, :k] = st.tier_spend
        B.tier_discount[b, :k] = st.tier_discount
        B.koc_posts[b] = st.koc_posts_per_week
        B.koc_post_reach[b] = st.koc_post_reach
        B.koc_awareness[b] = st.koc_awareness
        B.koc_conversion[b] = st.koc_conversion
        B.koc_join[b] = st.koc_join
        B.koc_commission[b] = st.koc_commission
        B.koc_fee[b] = st.koc_fee_per_day
        B.employee_posts[b] = st.employee_posts_per_week
        B.employee_commission[b] = st.employee_commission
        B.tooling[b] = st.tooling_per_day
        B.guide_capacity[b] = st.guide_capacity

    def _staff(self, b: int) -> None:
        """Brand.staff for brand b: draw its guides' skills and its distributors' circles
        (the arrays are laid out by `_layout_staff`). Members of guides who go become
        group members."""
        rng = self.rng
        st = self.strategies[b]
        W = self.W
        had_guides = W.m_guide[b] >= 0
        if had_guides.any():
            W.m_channel[b, had_guides] = GROUP_CH
            W.m_guide[b, had_guides] = -1
            W.m_gpos[b, had_guides] = -1
        self._skills[b] = np.zeros(0, dtype=np.float32)
        self._distributors[b] = []
        if not st.private_ops:
            return
        n_guides = round(self.brand_params[b].stores * st.guides_per_store)
        if st.guide_skill_sd <= 0:
            self._skills[b] = np.ones(n_guides, dtype=np.float32)
        else:
            shape, scale = rules.gamma_shape_scale(1.0, st.guide_skill_sd)
            self._skills[b] = rng.gamma(shape, float(scale), size=n_guides).astype(np.float32)
        net = self.network
        if st.koc_count:
            # KOCs are people with wide circles: the best-connected, ties broken at random
            deg = net.degree() if not net.mixing else np.zeros(net.n)
            key = deg + rng.random(net.n)
            top = np.argpartition(-key, min(st.koc_count, net.n) - 1)[: st.koc_count]
            top = top[np.argsort(-key[top])]
            kind = DISTRIBUTOR_KINDS.index(st.koc_kind)
            for centre in top.tolist():
                size = int(rng.poisson(rules.bounded_poisson_mean(st.koc_circle)))
                self._distributors[b].append((kind, circle(net, centre, size, rng)))
        for _ in range(st.employee_distributors):
            centre = int(rng.integers(0, net.n))
            size = int(rng.poisson(rules.bounded_poisson_mean(st.employee_circle)))
            self._distributors[b].append((2, circle(net, centre, size, rng)))

    def _layout_staff(self) -> None:
        """Lay all brands' guides and distributors out as arrays; members keep their
        guides (by position within their brand) and guides' reachable lists are rebuilt."""
        W, B = self.W, self.B
        nb = len(self.brand_names)
        counts = [s.size for s in self._skills]
        glo = np.zeros(nb, dtype=np.int64)
        glo[1:] = np.cumsum(counts)[:-1]
        ghi = glo + counts
        # members' guides as positions within their brand, before the layout moves
        local = [np.where(W.m_guide[b] >= 0, W.m_guide[b] - W.b_glo[b], -1) for b in range(nb)]
        total = int(sum(counts))
        g_brand = np.repeat(np.arange(nb, dtype=np.int32), counts)
        g_cap = B.guide_capacity[g_brand].astype(np.int32)
        g_off = np.zeros(total, dtype=np.int64)
        if total:
            g_off[1:] = np.cumsum(g_cap.astype(np.int64))[:-1]
        g_list = np.zeros(int(g_cap.astype(np.int64).sum()), dtype=np.int32)
        g_n = np.zeros(total, dtype=np.int32)
        g_len = np.zeros(total, dtype=np.int32)
        b_full = np.zeros(nb, dtype=np.int64)
        for b in range(nb):
            W.m_guide[b] = np.where(local[b] >= 0, local[b] + glo[b], -1)
            members = np.flatnonzero(W.m_guide[b] >= 0)
            guides = W.m_guide[b, members]
            np.add.at(g_n, guides, 1)
            reach = members[~W.m_muted[b, members]]
            order = np.argsort(W.m_guide[b, reach], kind="stable")
            reach = reach[order]
            rg = W.m_guide[b, reach]
            if reach.size:
                starts = np.searchsorted(rg, rg, side="left")
                pos = np.arange(reach.size) - starts
                g_list[g_off[rg] + pos] = reach
                W.m_gpos[b, reach] = pos
                np.add.at(g_len, rg, 1)
            b_full[b] = int((g_n[glo[b] : ghi[b]] >= g_cap[glo[b] : ghi[b]]).sum())
        circles = [(b, kind, c) for b in range(nb) for kind, c in self._distributors[b]]
        d_ptr = np.zeros(len(circles) + 1, dtype=np.int64)
        d_ptr[1:] = np.cumsum([c.size for _, _, c in circles])
        self._refs = None
        self.W = W._replace(
            g_brand=g_brand,
            g_skill=np.concatenate(self._skills).astype(np.float32),
            g_n=g_n,
            g_len=g_len,
            g_off=g_off,
            g_cap=g_cap,
            g_list=g_list,
            b_glo=glo,
            b_ghi=ghi,
            b_full=b_full,
            d_brand=np.array([b for b, _, _ in circles], dtype=np.int32),
            d_kind=np.array([k for _, k, _ in circles], dtype=np.int32),
            d_ptr=d_ptr,
            d_idx=(
                np.concatenate([c for _, _, c in circles]).astype(np.int32)
                if circles
                else np.zeros(0, dtype=np.int32)
            ),
        )

    def _initial_funnel(self) -> None:
        n = self.n_consumers
        for b, bp in enumerate(self.brand_params):
            init = bp.initial
            order = self.rng.permutation(n)
            st = self.strategies[b]
            has_guides = self.W.b_ghi[b] > self.W.b_glo[b]
            preferred = GUIDE_CH if has_guides else MEMBER_CHANNELS.index(st.package_card_channel)
            K.initial_funnel(
                *self._structs(),
                self._L,
                b,
                order,
                round(init.aware * n),
                round(init.customers * n),
                round(init.members * n),
                init.last_purchase_within,
                preferred,
                self.rng,
            )

    # ------------------------------------------------------------------ running
    def step(self) -> None:
        """One day (the same process order as MarketModel.step)."""
        K.run_days(*self._structs(), self._L, self._book, self.today, self.today + 1, self.rng)
        if (self.today + 1) % self.scenario.market.review_days == 0:
            self._review_strategies()
        self.today += 1
        self.close()

    def run(self, progress: Callable[[int], None] | None = None) -> None:
        """Step through the horizon; `progress(day)` after each chunk of days."""
        review = self.scenario.market.review_days
        chunk = max(1, min(review, 30))
        while self.today < self.days:
            # stop at the end of a review day, so reviews happen between days
            next_review = (self.today // review + 1) * review
            last = min(self.days, self.today + chunk, next_review)
            K.run_days(*self._structs(), self._L, self._book, self.today, last, self.rng)
            self.today = last
            if self.today % review == 0:
                self.today -= 1
                self._review_strategies()
                self.today += 1
            if progress is not None:
                progress(self.today)
        self.close()

    def close(self) -> None:
        """Bring the Ledger up to date: cohorts booked on their due day (flows and stocks
        are already in its array)."""
        L = self._L
        for (h, s, k), c in _COHORT_COLUMNS.items():
            L[:, c, :] = self._book[:, :, h, s, k]
        self.ledger.day = self.today

    # ------------------------------------------------------------------ strategy review
    def _review_strategies(self) -> None:
        """MarketModel._review_strategies: Fermi imitation of a random same-category peer
        by adaptive brands whose strategy has run a whole payoff window."""
        mk = self.scenario.market
        nb = len(self.brand_names)
        if nb < 2:
            return
        lo = max(0, self.today + 1 - mk.payoff_window)
        gp = self._L[lo : self.today + 1, col("gross_profit"), :].sum(axis=0)
        cost = self._L[lo : self.today + 1, col("cost_total"), :].sum(axis=0)
        roi = [ratio(g, c) or 0.0 for g, c in zip(gp, cost, strict=True)]
        rng = self.rng
        changed = False
        for b in rng.permutation(nb).tolist():
            bp = self.brand_params[b]
            if not bp.adaptive or self.today + 1 - self.strategy_since[b] < mk.payoff_window:
                continue
            peers = [
                p for p in range(nb) if p != b and self.brand_params[p].category == bp.category
            ]
            if not peers:
                continue
            peer = peers[int(rng.integers(0, len(peers)))]
            p_copy = rules.fermi_copy_probability(roi[peer], roi[b], mk.fermi_kappa)
            if rng.random() < p_copy and self.strategies[peer] != self.strategies[b]:
                self._adopt(b, self.strategies[peer])
                changed = True
            elif rng.random() < mk.exploration:
                st = self.strategies[b]
                self._adopt(b, st.model_copy(update={"private_ops": not st.private_ops}))
                changed = True
        if changed:
            self._layout_staff()

    def _adopt(self, b: int, strategy: StrategyParams) -> None:
        self.strategies[b] = strategy.model_copy(deep=True)
        self.strategy_since[b] = self.today + 1
        self._set_levers(self.B, b, self.strategies[b])
        self._staff(b)
