"""Every call the contract makes into the two engines, in one place: building both from a
scenario, putting a consumer in a given state, applying one event, adopting a strategy,
and reading back the state and the day's ledger slot as comparable snapshots.

The reference engine is driven through its agents' methods (`sim.agents`), the fast
engine through the compiled single-event entry point `sim.fast.events.apply_event`, which
calls the kernels the day calls. Both receive a fresh `np.random.default_rng(seed)` per
event (as the model's `rng`; re-staffing draws from the brand's staffing stream of
`sim.streams`); a snapshot includes the Generator's state, so the contract also requires
the same draws.

When the engines' internals move (rules into `sim.rules`, bookings into an accounting
module), this is the module to re-point; the tests only speak the shared vocabulary. It
reads `FastModel`'s arrays (`W`, `B`) and `ledger.array`, applies events with
`FastModel.apply_event`, and adopts strategies through the engine protocol's
`set_strategy(..., restaff=True)`, the path a strategy review takes.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from sim import rules
from sim.agents import Guide, Membership
from sim.fast import FastModel
from sim.fast.events import Event
from sim.fast.kernels import expand_demand
from sim.fast.layout import NO_COHORT
from sim.ledger import COLUMNS
from sim.model import MarketModel
from sim.params import Scenario, StrategyParams
from sim.rules import NEVER_DAY
from sim.streams import Purpose
from sim.vocab import (
    COHORT_HORIZONS,
    Channel,
    DistributorKind,
    MemberChannel,
    Prompt,
    Source,
    State,
    Touch,
    words,
)
from tests.contract.scenario import TODAY
from tests.contract.state import Member, Person

STATE_ONLY = (Event.SET_STATE, Event.ADMIT, Event.DROP_REACHABLE)
"""Event codes that only build a state (no draws, no bookings)."""

SOURCE_WORDS = words(Source)
MEMBER_CHANNEL_WORDS = words(MemberChannel)


class Pair:
    """The reference and the fast engine built from one scenario and seed, both on day
    `TODAY`, with their ledgers open on that day.

    Both engines draw their set-up from the run's streams (`sim.streams`), but a test
    still puts every consumer it involves in a given state, and compares distributors only
    after both re-staffed."""

    def __init__(self, scenario: Scenario, seed: int = 0):
        self.ref = MarketModel(scenario, seed)
        self.fast = FastModel(scenario, seed, lean=False)  # every array: tests put any state
        # both engines draw the network from the same stream: a referral reaches the same
        # friend
        assert np.array_equal(self.ref.network.indices, self.fast.network.indices)
        self.ref.today = self.fast.today = TODAY
        self.ref.ledger.day = TODAY
        self.brands = len(scenario.brands)
        self.categories = self.fast.W.next_need.shape[1]
        self.ref_rng: np.random.Generator | None = None
        self.fast_rng: np.random.Generator | None = None

    # ------------------------------------------------------------------ state
    def put(self, i: int, person: Person) -> None:
        """Put consumer i in the given state (every brand; absent holdings: unaware)."""
        self._put_ref(i, person)
        self._put_fast(i, person)

    def _knows(self, person: Person, cat: int) -> bool:
        return any(
            person.holding(b).state in (State.AWARE, State.CUSTOMER, State.MEMBER)
            for b in range(self.brands)
            if self.ref.brands[b].category_index == cat
        )

    def _put_ref(self, i: int, person: Person) -> None:
        model = self.ref
        c = model.consumers[i]
        assert not c.memberships, "put a consumer's state once, on fresh engines"
        c.price_sensitivity, c.trust, c.tolerance = person.alpha, person.trust, person.tolerance
        c.slots, c.hunter = person.slots, person.hunter
        model.birthdays[i] = person.birthday  # lifecycle operations
        for cat in range(self.categories):
            c.need_rates[cat] = person.need_rates[cat]
            c.need_p[cat] = 0.0
            c.next_need[cat] = NEVER_DAY if self._knows(person, cat) else -1
        for b in range(self.brands):
            h = person.holding(b)
            brand = model.brands[b]
            model.funnel[b, i] = h.state
            c.purchases[b] = h.purchases
            c.spend[b] = h.spend
            c.source[b] = None if h.source is None else SOURCE_WORDS[h.source]
            c.acquired[b] = h.acquired
            c.last_purchase[b] = h.last_purchase
            c.cohort_day[b] = h.cohort_day
            if h.cohort_day is not None:
                c.cohort_source[b] = SOURCE_WORDS[h.source or Source.ORGANIC]
                c.cohort_pending[b] = [h.cohort_day + x > TODAY for x in COHORT_HORIZONS]
            if h.annoyed:
                c.annoyed.add(b)
            brand.koc_reach[i] = h.koc_reach
            model.store_access[b, i] = h.store_access
            c.dropout[b] = h.dropout
            c.shop_habit[b], c.habit_day[b] = h.habit, h.habit_day
            m = h.member
            if m is not None:
                guide = None if m.guide is None else brand.guides[m.guide]
                c.memberships[b] = ref_membership(m, guide)
                if guide is not None:
                    guide.members.append(c)

    def _put_fast(self, i: int, person: Person) -> None:
        fm = self.fast
        W = fm.W
        W.alpha[i], W.trust[i], W.tolerance[i] = person.alpha, person.trust, person.tolerance
        W.slots[i], W.hunter[i] = person.slots, person.hunter
        W.birthday[i] = person.birthday  # lifecycle operations
        for cat in range(self.categories):
            W.need_rate[i, cat] = person.need_rates[cat]
            W.need_p[i, cat] = 0.0
            W.next_need[i, cat] = NEVER_DAY if self._knows(person, cat) else -1
        for b in range(self.brands):
            h = person.holding(b)
            if h.member is None:
                self._fast_event(Event.SET_STATE, i, b, (int(h.state),), seed=0)
            W.purchases[b, i] = h.purchases
            W.n_ever[b] += h.purchases >= 1
            W.n_repeat[b] += h.purchases >= 2
            W.spend[b, i] = h.spend
            W.source[b, i] = -1 if h.source is None else int(h.source)
            W.acquired[b, i] = h.acquired
            W.last_purchase[b, i] = h.last_purchase
            W.cohort_day[b, i] = NO_COHORT if h.cohort_day is None else h.cohort_day
            W.cohort_src[b, i] = int(h.source or Source.ORGANIC) if h.cohort_day is not None else 0
            W.annoyed[b, i] = h.annoyed
            if h.koc_reach and not W.koc_reach[b, i]:
                W.n_koc_reach[b] += 1
            W.koc_reach[b, i] = h.koc_reach
            W.store_access[b, i] = h.store_access
            W.dropout[b, i] = h.dropout
            W.habit[b, i], W.habit_day[b, i] = h.habit, h.habit_day
            m = h.member
            if m is not None:
                g = self.fast_guide(b, m.guide)
                args = (int(m.channel), g, int(m.reluctant), m.updated)
                self._fast_event(Event.ADMIT, i, b, args, (m.engagement,), seed=0)
                W.m_fat[b, i], W.m_harv[b, i] = m.fatigue, m.harvest
                W.m_refs[b, i] = m.referrals
                # lifecycle operations: joined on the day the reference engine records
                W.m_joined[b, i], W.m_life[b, i] = m.updated * 16, m.lifecycle_day
                if m.muted:
                    W.m_muted[b, i] = True
                    if g >= 0:
                        self._fast_event(Event.DROP_REACHABLE, i, b, (), seed=0)

    def spend(self, b: int, day: int, column: str, amount: float) -> None:
        """Book `amount` yuan into a column of brand b on `day` in both ledgers (what the
        brand spent before the event)."""
        k = list(COLUMNS).index(column)
        self.ref.ledger.array[day, k, b] += amount
        self.fast.ledger.array[day, k, b] += amount

    def set_home(self, i: int, platform: int) -> None:
        """Consumer i shops on public platform `platform` (several platforms) in both."""
        self.ref.homes[i] = platform
        self.fast.W.home[i] = platform

    def set_budget_spent(self, b: int, spent: float) -> None:
        """Brand b's spend counted against its budget this year, up to the day before
        yesterday, in both engines."""
        self.ref.brands[b].budget_spent = spent
        self.fast.W.budget_spent[b] = spent

    def set_reviews(self, b: int, stock: float, rewarded: int = 0, others: int = 0) -> None:
        """Brand b's platform review stock and today's platform orders by review chance
        (rewarded members', others'), in both engines (private lifts public, ODD 7.21)."""
        self.ref.brands[b].review_stock = stock
        self.ref.brands[b].review_orders = [rewarded, others]
        self.fast.W.review_stock[b] = stock
        self.fast.W.review_orders[b] = (rewarded, others)

    # ------------------------------------------------------------------ events
    def _fast_event(self, code: Event, i: int, b: int, ints=(), floats=(), *, seed: int) -> int:
        """Apply an event code of `sim.fast.events` with a fresh Generator (kept as
        `fast_rng` for the snapshot unless the code only sets state)."""
        a = np.zeros(4, dtype=np.int64)
        a[: len(ints)] = ints
        f = np.zeros(2, dtype=np.float64)
        f[: len(floats)] = floats
        rng = np.random.default_rng(seed)
        if code not in STATE_ONLY:
            self.fast_rng = rng
        self.fast.rng = rng
        return self.fast.apply_event(code, i, b, a, f, TODAY)

    def apply(self, event: Event, i: int, b: int, seed: int = 0, **kw: Any) -> tuple[Any, Any]:
        """Apply one event to consumer i and brand b in both engines, each with
        `np.random.default_rng(seed)`; returns both engines' answers (bool or None)."""
        self.ref.rng = self.ref_rng = np.random.default_rng(seed)
        ref = self._ref_event(event, i, b, **kw)
        ints, floats = self._fast_args(event, i, b, **kw)
        fast = self._fast_event(event, i, b, ints, floats, seed=seed)
        if ref is None:
            return None, None
        return bool(ref), bool(fast)

    def _ref_event(self, event: Event, i: int, b: int, **kw: Any):
        model = self.ref
        c = model.consumers[i]
        brand = model.brands[b]
        if event == Event.PURCHASE:
            c.purchase(b, Channel(kw["channel"]), kw["share"], Prompt(kw["prompt"]))
        elif event == Event.BUY_FROM:
            channel = kw.get("channel")
            c.buy_from(
                b,
                Prompt(kw["prompt"]),
                channel=None if channel is None else Channel(channel),
            )
        elif event == Event.RECEIVE_TOUCH:
            guide = None
            if kw["by_guide"]:
                m = c.memberships.get(b)
                guide = m.guide if m is not None and m.guide is not None else brand.guides[0]
            c.receive_touch(b, Touch(kw["kind"]), kw["effect"], kw["skill"], guide)
        elif event == Event.INVITE:
            word = MEMBER_CHANNEL_WORDS[kw["channel"]]
            return brand.invite(c, SOURCE_WORDS[kw["source"]], word)
        elif event == Event.JOIN:
            guide = None if kw.get("guide") is None else brand.guides[kw["guide"]]
            c.join(
                b,
                MEMBER_CHANNEL_WORDS[kw["channel"]],
                SOURCE_WORDS[kw["source"]],
                guide,
                kw["reluctant"],
            )
        elif event == Event.LEAVE:
            c.leave(b, excluded=kw["excluded"])
        elif event == Event.LAPSE:
            c.lapse(b)
        elif event == Event.REFERRAL:
            brand.referral(c, c.memberships[b], model.consumers[kw["friend"]])
        elif event == Event.REFER_FRIEND:
            c.refer_friend(b)
        elif event == Event.FAKE_REFERRAL:
            brand.fake_referral(c, c.memberships[b])
        elif event == Event.BECOME_AWARE:
            return c.become_aware(b, SOURCE_WORDS[kw["source"]])
        elif event == Event.POST_REACHES:
            node = SimpleNamespace(kind=DistributorKind(kw["kind"]))
            brand.post_reaches(c, SOURCE_WORDS[kw["source"]], node)
        elif event == Event.STORE_INVITE:
            brand.store_invite(c)
        elif event == Event.ON_NEED:
            c.on_need(kw["cat"])
        elif event == Event.BUDGET_DAY:
            brand.budget_day()
        elif event == Event.RELIFT_NEED:  # demand expansion
            c.relift_need(kw["cat"])
        elif event == Event.REVIEWS_DAY:
            brand.reviews_day()
        elif event == Event.FESTIVAL_NEED:  # the calendar
            c.festival_need(kw["cat"], kw["multiplier"])
        elif event == Event.FESTIVAL_POST:
            brand.festival_post()
        elif event == Event.LIFECYCLE_TOUCHES:
            return brand.guides[kw.get("guide", 0)].lifecycle_touches(kw["n"])
        else:
            raise ValueError(f"no reference call for {event!r}")
        return None

    def _fast_args(self, event: Event, i: int, b: int, **kw: Any) -> tuple[tuple, tuple]:
        if event == Event.PURCHASE:
            return (int(kw["channel"]), int(kw["prompt"])), (kw["share"],)
        if event == Event.BUY_FROM:
            channel = kw.get("channel")
            return (int(kw["prompt"]), -1 if channel is None else int(channel)), ()
        if event == Event.RECEIVE_TOUCH:
            return (int(kw["kind"]), int(kw["by_guide"])), (kw["effect"], kw["skill"])
        if event == Event.INVITE:
            return (int(kw["source"]), int(kw["channel"])), ()
        if event == Event.JOIN:
            g = self.fast_guide(b, kw.get("guide"))
            return (int(kw["channel"]), int(kw["source"]), g, int(kw["reluctant"])), ()
        if event == Event.LEAVE:
            return (int(kw["excluded"]),), ()
        if event == Event.REFERRAL:
            return (kw["friend"],), ()
        if event == Event.BECOME_AWARE:
            return (int(kw["source"]),), ()
        if event == Event.POST_REACHES:
            return (int(kw["source"]), int(kw["kind"])), ()
        if event == Event.ON_NEED:
            return (kw["cat"],), ()
        if event == Event.RELIFT_NEED:  # demand expansion
            return (kw["cat"],), ()
        if event == Event.FESTIVAL_NEED:  # the calendar
            return (kw["cat"],), (kw["multiplier"],)
        if event == Event.LIFECYCLE_TOUCHES:
            return (kw.get("guide", 0), kw["n"]), ()
        return (), ()

    def fast_guide(self, b: int, guide: int | None) -> int:
        """The fast engine's index of brand b's guide at a position (−1: none)."""
        return -1 if guide is None else int(self.fast.W.b_glo[b]) + guide

    # ------------------------------------------------------------------ order values
    def order_value_means(self) -> tuple[np.ndarray, np.ndarray]:
        """Order values and baskets: every consumer's mean order value per category sold,
        relative to its price, as drawn at set-up, in (reference, fast); the fast engine
        holds an empty table (and reads 1) when no category spreads order values."""
        sold = [
            k
            for k, name in enumerate(self.ref.scenario.categories)
            if any(br.category == name for br in self.ref.scenario.brands.values())
        ]
        return self.ref.order_value_mean[:, sold], self.fast.W.value_mean

    # ------------------------------------------------------------------ demand expansion
    def set_need_clock(self, i: int, cat: int, day: int, lift: float = 0.0) -> None:
        """Consumer i's next need in a category on `day`, with `lift` in force, in both
        engines (the reference also files it in its agenda)."""
        c = self.ref.consumers[i]
        c.next_need[cat], c.need_lift[cat] = day, lift
        self.ref.agenda.setdefault(day, []).append((c, cat))
        self.fast.W.next_need[i, cat], self.fast.W.need_lift[i, cat] = day, lift

    def demand_due(self) -> tuple[list[int], list[int]]:
        """The consumers each engine has listed for the day's end recomputation."""
        W = self.fast.W
        return sorted(self.ref.demand_due), sorted(W.dm_list[: W.dm_n[0]].tolist())

    def expand_demand(self) -> None:
        """Both engines' end-of-needs step of demand expansion on `TODAY`, each drawing
        from the run's stream `Phase.DEMAND_EXPANSION` (no Generator handed in)."""
        self.ref.expand_demand()
        fm = self.fast
        W, B, _ = fm._structs()
        expand_demand(W, B, TODAY, fm._draw, fm._S)
        self.ref_rng = self.fast_rng = None

    # ------------------------------------------------------------------ strategy review
    def adopt(self, b: int, strategy: StrategyParams) -> None:
        """Brand b adopts a strategy in both engines (what a strategy review applies):
        levers, staff (guides' skills and distributors' circles drawn afresh, from the
        brand's staffing stream, which both engines have drawn alike since set-up) and the
        members of guides who go."""
        self.ref_rng = self.ref.streams.setup(Purpose.STAFFING, b)
        self.ref.set_strategy(b, strategy, restaff=True)
        self.fast_rng = self.fast.streams.setup(Purpose.STAFFING, b)
        self.fast.set_strategy(b, strategy, restaff=True)

    # ------------------------------------------------------------------ snapshots
    def snapshots(
        self, consumers: list[int], staff: int | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """(reference, fast) snapshots of the consumers, every brand's counts and guides
        (and the distributors of brand `staff`), the day's ledger slot and the
        Generator's state."""
        self.ref.ledger.close_day()
        self.ref.ledger.day = TODAY
        ref, fast = self._ref_snapshot(consumers), self._fast_snapshot(consumers)
        for snapshot in (ref, fast):
            for key in [k for k in snapshot if k.endswith(".distributors")]:
                if key != f"brand{staff}.distributors":
                    del snapshot[key]
        return ref, fast

    def ledger_slot(self, column: str, b: int) -> tuple[float, float]:
        """A column of brand b on `TODAY` in (reference, fast), once `snapshots` closed it."""
        k = list(COLUMNS).index(column)
        return float(self.ref.ledger.data[column][TODAY, b]), float(
            self.fast.ledger.array[TODAY, k, b]
        )

    def _ref_snapshot(self, consumers: list[int]) -> dict[str, Any]:
        model = self.ref
        out: dict[str, Any] = {"rng": _rng_state(self.ref_rng)}
        for name in COLUMNS:
            out[f"ledger.{name}"] = model.ledger.data[name][TODAY].copy()
        for b, brand in enumerate(model.brands):
            key = f"brand{b}"
            out[f"{key}.states"] = tuple(np.bincount(model.funnel[b], minlength=5).tolist())
            out[f"{key}.ever"] = int((model.purchases[b] > 0).sum())
            out[f"{key}.repeat"] = int((model.purchases[b] > 1).sum())
            out[f"{key}.fake_members"] = int(brand.fake_members)
            out[f"{key}.koc_reach"] = int(brand.koc_reach.sum())
            out[f"{key}.strategy_since"] = int(brand.strategy_since)
            out[f"{key}.private_ops"] = bool(brand.private_ops)
            out[f"{key}.budget_spent"] = float(brand.budget_spent)
            out[f"{key}.ad_spend"] = float(brand.ad_spend)
            out[f"{key}.review_stock"] = float(brand.review_stock)  # private lifts public
            out[f"{key}.review_orders"] = tuple(int(x) for x in brand.review_orders)
            out[f"{key}.skills"] = [float(g.skill) for g in brand.guides]
            full = 0
            for j, g in enumerate(brand.guides):
                out[f"{key}.guide{j}.members"] = tuple(sorted(c.index for c in g.members))
                out[f"{key}.guide{j}.reachable"] = tuple(
                    sorted(c.index for c in g.members if not brand.index_muted(c))
                )
                full += not g.has_room()
            out[f"{key}.full_guides"] = full
            out[f"{key}.distributors"] = tuple(
                (int(d.kind), tuple(np.asarray(d.circle).tolist())) for d in brand.distributors
            )
        for i in consumers:
            c = model.consumers[i]
            out[f"c{i}.memberships"] = len(c.memberships)
            for cat in range(self.categories):
                out[f"c{i}.next_need{cat}"] = int(c.next_need[cat])
                out[f"c{i}.need_lift{cat}"] = float(c.need_lift[cat])  # demand expansion
            for b, brand in enumerate(model.brands):
                key = f"c{i}.b{b}"
                out[f"{key}.state"] = int(model.funnel[b, i])
                out[f"{key}.purchases"] = int(c.purchases[b])
                out[f"{key}.spend"] = float(c.spend[b])
                out[f"{key}.source"] = (
                    -1 if c.source[b] is None else SOURCE_WORDS.index(c.source[b])
                )
                out[f"{key}.acquired"] = int(c.acquired[b])
                out[f"{key}.last_purchase"] = int(c.last_purchase[b])
                out[f"{key}.annoyed"] = b in c.annoyed
                out[f"{key}.koc_reach"] = bool(brand.koc_reach[i])
                out[f"{key}.habit_day"] = int(c.habit_day[b])
                out[f"{key}.habit"] = rules.habit_now(
                    float(c.shop_habit[b]),
                    model.scenario.population.habit_half_life,
                    TODAY - int(c.habit_day[b]),
                )
                day = c.cohort_day[b]
                out[f"{key}.cohort_day"] = day
                if day is not None:
                    out[f"{key}.cohort_source"] = SOURCE_WORDS.index(c.cohort_source[b])
                    out[f"{key}.cohort_gmv"] = [float(x) for x in c.cohort_spend[b]]
                    out[f"{key}.cohort_pv"] = [float(x) for x in c.cohort_pv[b]]
                m = c.memberships.get(b)
                out[f"{key}.member"] = m is not None
                if m is not None:
                    out[f"{key}.channel"] = MEMBER_CHANNEL_WORDS.index(m.channel)
                    days = TODAY - m.updated
                    pop = model.scenario.population
                    out[f"{key}.engagement"] = rules.decay(m.engagement, pop.engagement_decay, days)
                    out[f"{key}.fatigue"] = rules.decay(m.fatigue, pop.fatigue_decay, days)
                    out[f"{key}.harvest"] = float(m.harvest)
                    out[f"{key}.muted"] = bool(m.muted)
                    out[f"{key}.reluctant"] = bool(m.reluctant)
                    out[f"{key}.guide"] = -1 if m.guide is None else brand.guides.index(m.guide)
                    out[f"{key}.referrals"] = int(m.referrals)
                    out[f"{key}.lifecycle_day"] = int(m.lifecycle_day)
        return out

    def _fast_snapshot(self, consumers: list[int]) -> dict[str, Any]:
        fm = self.fast
        W = fm.W
        L = fm.ledger.array
        book = fm._book  # cohort buckets by due day (booked into the ledger on that day)
        out: dict[str, Any] = {"rng": _rng_state(self.fast_rng)}
        for k, name in enumerate(COLUMNS):
            out[f"ledger.{name}"] = L[TODAY, k, :].copy()
        for b in range(self.brands):
            key = f"brand{b}"
            out[f"{key}.states"] = tuple(int(x) for x in W.n_state[b])
            out[f"{key}.ever"] = int(W.n_ever[b])
            out[f"{key}.repeat"] = int(W.n_repeat[b])
            out[f"{key}.fake_members"] = int(W.fake_members[b])
            out[f"{key}.koc_reach"] = int(W.n_koc_reach[b])
            out[f"{key}.strategy_since"] = int(fm.strategy_since[b])
            out[f"{key}.private_ops"] = bool(fm.B.private_ops[b])
            out[f"{key}.budget_spent"] = float(W.budget_spent[b])
            out[f"{key}.ad_spend"] = float(W.ad_spend[b])
            out[f"{key}.review_stock"] = float(W.review_stock[b])  # private lifts public
            out[f"{key}.review_orders"] = tuple(int(x) for x in W.review_orders[b])
            lo, hi = int(W.b_glo[b]), int(W.b_ghi[b])
            out[f"{key}.skills"] = [float(x) for x in W.g_skill[lo:hi]]
            for j, g in enumerate(range(lo, hi)):
                members = np.flatnonzero(W.m_guide[b] == g)
                assert W.g_n[g] == members.size, "the guide's count of members"
                out[f"{key}.guide{j}.members"] = tuple(members.tolist())
                reach = W.g_list[W.g_off[g] : W.g_off[g] + W.g_len[g]]
                for pos, i in enumerate(reach.tolist()):
                    assert W.m_gpos[b, i] == pos, "a reachable member's position"
                out[f"{key}.guide{j}.reachable"] = tuple(sorted(reach.tolist()))
            out[f"{key}.full_guides"] = int(W.b_full[b])
            out[f"{key}.distributors"] = tuple(
                (int(W.d_kind[d]), tuple(W.d_idx[W.d_ptr[d] : W.d_ptr[d + 1]].tolist()))
                for d in np.flatnonzero(W.d_brand == b).tolist()
            )
        for i in consumers:
            out[f"c{i}.memberships"] = int(W.n_memb[i])
            for cat in range(self.categories):
                out[f"c{i}.next_need{cat}"] = int(W.next_need[i, cat])
                out[f"c{i}.need_lift{cat}"] = float(W.need_lift[i, cat])  # demand expansion
            for b in range(self.brands):
                key = f"c{i}.b{b}"
                out[f"{key}.state"] = int(W.funnel[b, i])
                out[f"{key}.purchases"] = int(W.purchases[b, i])
                out[f"{key}.spend"] = float(W.spend[b, i])
                out[f"{key}.source"] = int(W.source[b, i])
                out[f"{key}.acquired"] = int(W.acquired[b, i])
                out[f"{key}.last_purchase"] = int(W.last_purchase[b, i])
                out[f"{key}.annoyed"] = bool(W.annoyed[b, i])
                out[f"{key}.koc_reach"] = bool(W.koc_reach[b, i])
                out[f"{key}.habit_day"] = int(W.habit_day[b, i])
                out[f"{key}.habit"] = rules.habit_now(
                    float(W.habit[b, i]),
                    fm.scenario.population.habit_half_life,
                    TODAY - int(W.habit_day[b, i]),
                )
                day = int(W.cohort_day[b, i])
                out[f"{key}.cohort_day"] = None if day == NO_COHORT else day
                if day != NO_COHORT:
                    src = int(W.cohort_src[b, i])
                    out[f"{key}.cohort_source"] = src
                    due = [day + x for x in COHORT_HORIZONS]
                    out[f"{key}.cohort_gmv"] = [
                        float(book[d, b, h, src, 0]) for h, d in enumerate(due)
                    ]
                    out[f"{key}.cohort_pv"] = [
                        float(book[d, b, h, src, 1]) for h, d in enumerate(due)
                    ]
                member = W.m_channel[b, i] >= 0
                out[f"{key}.member"] = bool(member)
                if member:
                    out[f"{key}.channel"] = int(W.m_channel[b, i])
                    days = TODAY - int(W.m_upd[b, i])
                    out[f"{key}.engagement"] = float(W.m_eng[b, i] * fm.G.engagement_pow[days])
                    out[f"{key}.fatigue"] = float(W.m_fat[b, i] * fm.G.fatigue_pow[days])
                    out[f"{key}.harvest"] = float(W.m_harv[b, i])
                    out[f"{key}.muted"] = bool(W.m_muted[b, i])
                    out[f"{key}.reluctant"] = bool(W.m_reluct[b, i])
                    g = int(W.m_guide[b, i])
                    out[f"{key}.guide"] = -1 if g < 0 else g - int(W.b_glo[b])
                    out[f"{key}.referrals"] = int(W.m_refs[b, i])
                    out[f"{key}.lifecycle_day"] = int(W.m_life[b, i])
        return out


def ref_membership(m: Member, guide: Guide | None) -> Membership:
    """The reference engine's Membership for a contract `Member`."""
    return Membership(
        channel=MEMBER_CHANNEL_WORDS[m.channel],
        joined=m.updated,
        engagement=m.engagement,
        fatigue=m.fatigue,
        harvest=m.harvest,
        updated=m.updated,
        muted=m.muted,
        reluctant=m.reluctant,
        guide=guide,
        referrals=m.referrals,
        lifecycle_day=m.lifecycle_day,
    )


def _rng_state(rng: np.random.Generator | None) -> tuple | None:
    """Where a Generator stands (None before any event): equal states mean the engines
    drew the same random numbers."""
    if rng is None:
        return None
    state = rng.bit_generator.state["state"]
    return (int(state["state"]), int(state["inc"]))
