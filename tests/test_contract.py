"""The engine contract: the same event, applied to the same state with the same Generator,
leaves the same state and the same ledger entries in both engines.

Each test puts the consumers it involves in a given state in both engines
(`tests.contract.adapter.Pair.put`), applies one event with `np.random.default_rng(seed)`
in both, and compares (`tests.contract.state.assert_same`) the consumers' state, every
brand's counts and guides, the day's ledger slot, and the Generator's state: integers,
flags and ledger counts exactly, floats (the fast engine keeps per-consumer floats in
float32) and money to a relative 1e-5.

What the engines legitimately do differently is kept out of the event, never loosened:
- the next need day (Generator.geometric in the reference, a skip rule on one uniform in
  the fast engine): every consumer's daily need probability is 0, so neither draws (the
  latent need a pushed offer converts reads the need rate, which is set);
- the guide a new member gets (a random guide among those with room vs rejection among
  all): each brand has one guide, so neither draws;
- the join stamp (a day in the reference, day·16 + phase in the fast engine): not compared;
- when engagement and fatigue are faded (a touch on a muted member fades them in the
  reference engine only): both are compared as faded to the event day, not as stored;
- a distributor's circle: drawn differently at set-up, compared only after both engines
  re-staffed from the same Generator (a strategy adoption).

Docking (tests/docking) compares the engines' distributions at ±10%; this contract
catches a one-term drift in a single rule that docking passes (benchmarks/contract_mutants.py).
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from sim.fast.events import Event
from sim.vocab import Channel, DistributorKind, MemberChannel, Prompt, Source, State, Touch
from tests.contract.adapter import Pair
from tests.contract.scenario import (
    CARE,
    GUIDED,
    PUBLIC,
    QR_SHOP,
    QUOTA_ASSIST,
    SNACKS,
    TODAY,
    contract_scenario,
)
from tests.contract.state import Holding, Member, Person, assert_same, customer, member

SEEDS = (0, 1, 2)


def check(
    person: Person,
    event: Event,
    b: int,
    seed: int = 0,
    others: dict[int, Person] | None = None,
    scenario_overrides: dict | None = None,
    **kw,
) -> Pair:
    """Consumer 0 in state `person` (and others in theirs), one event, then the contract."""
    pair = Pair(contract_scenario(**(scenario_overrides or {})))
    pair.put(0, person)
    for i, p in (others or {}).items():
        pair.put(i, p)
    answers = pair.apply(event, 0, b, seed, **kw)
    assert answers[0] == answers[1], f"answers differ: {answers}"
    ref, fast = pair.snapshots([0, *(others or {})])
    assert_same(ref, fast, f"{event.name} b={b} seed={seed} {kw}")
    return pair


# --------------------------------------------------------------------------- touches
TOUCH_STATES = {
    "plain": {},
    "tired": {"fatigue": 5.9, "updated": TODAY},  # tolerance 6: a content or selling touch mutes
    "harvested": {"harvest": 0.49},  # threshold 0.5: a selling touch makes the member leave
    "reluctant": {"reluctant": True, "fatigue": 0.8, "updated": TODAY},  # tolerance 0.15 x 6
    "engaged": {"engagement": 0.95},
}


@pytest.mark.parametrize("state", TOUCH_STATES)
@pytest.mark.parametrize("via", ["guide", "group", "broadcast"])
@pytest.mark.parametrize("kind", list(Touch), ids=lambda k: k.name.lower())
@pytest.mark.parametrize("hunter", [False, True], ids=["person", "hunter"])
def test_touch(kind, via, state, hunter):
    """A touch of each kind on a member, by a guide (skill ≠ 1) or a group / broadcast post
    (their effects): engagement (content, service × service need), fatigue (× effect),
    the harvest feeling (not for hunters), a selling conversion, muting, a harvest leave."""
    b = GUIDED
    channel = {
        "guide": MemberChannel.GUIDE,
        "group": MemberChannel.GROUP,
        "broadcast": MemberChannel.MINI_PROGRAM,
    }[via]
    effect = {"guide": 1.0, "group": 0.3, "broadcast": 0.5}[via]
    skill = 1.3 if via == "guide" else 1.0
    m = Member(channel=channel, guide=0 if via == "guide" else None, **TOUCH_STATES[state])
    person = Person(
        hunter=hunter,
        need_rates=(0.2, 0.05),
        holdings={b: replace(member(spend=90.0), member=m)},
    )
    for seed in SEEDS:
        check(
            person,
            Event.RECEIVE_TOUCH,
            b,
            seed,
            kind=kind,
            by_guide=via == "guide",
            effect=effect,
            skill=skill,
        )


@pytest.mark.parametrize("seed", range(6))
def test_selling_touch_converts_a_reluctant_member_of_a_quota_guide(seed):
    """A selling touch by a quota guide to a reluctant, engaged member with a strong need:
    the pushed order (member coupon under assist, guide commission) and the mute test at
    the reluctant tolerance."""
    m = Member(channel=MemberChannel.GUIDE, guide=0, reluctant=True, engagement=0.9)
    person = Person(need_rates=(0.5, 0.05), holdings={QUOTA_ASSIST: replace(member(), member=m)})
    check(
        person,
        Event.RECEIVE_TOUCH,
        QUOTA_ASSIST,
        seed,
        kind=Touch.SELLING,
        by_guide=True,
        effect=1.0,
        skill=1.2,
    )


def test_touch_on_a_muted_member_does_nothing():
    m = Member(channel=MemberChannel.GUIDE, guide=0, muted=True)
    check(
        Person(holdings={GUIDED: replace(member(), member=m)}),
        Event.RECEIVE_TOUCH,
        GUIDED,
        kind=Touch.CONTENT,
        by_guide=True,
        effect=1.0,
        skill=1.0,
    )


# --------------------------------------------------------------------------- orders
POLICIES = {
    "separate": (GUIDED, None),
    "assist_coupon": (QUOTA_ASSIST, None),
    "assist_no_coupon": (QUOTA_ASSIST, {"quota_assist": {"member_coupon": 0.0}}),
    "no_private_ops": (PUBLIC, None),
}
MEMBERSHIPS = {
    "none": None,
    "group": Member(channel=MemberChannel.GROUP),
    "guide": Member(channel=MemberChannel.GUIDE, guide=0),
}


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("membership", MEMBERSHIPS)
@pytest.mark.parametrize("first", [True, False], ids=["first", "repeat"])
@pytest.mark.parametrize("channel", list(Channel), ids=lambda c: c.name.lower())
def test_order(channel, first, membership, policy):
    """An order on each channel, first or repeat, by a member (group, guide) or not, under
    each channel policy (with and without a coupon), for every prompt: the bookings
    (GMV by channel and source, first/repeat, member GMV, coupon-assisted GMV, commissions,
    the private-influenced credit), the cohort, the package card or store invitation that
    may follow, and the drop-out draw."""
    b, overrides = POLICIES[policy]
    m = MEMBERSHIPS[membership]
    if m is not None and b == PUBLIC:
        pytest.skip("a brand without private operations has no members")
    if m is not None and m.guide is not None and b not in (GUIDED, QUOTA_ASSIST):
        pytest.skip("no guide")
    if first:
        holding = Holding(state=State.AWARE, source=Source.KOC, dropout=0.3)
        if m is not None:
            holding = replace(holding, state=State.MEMBER, member=m)
    else:
        holding = customer(purchases=2, spend=250.0, cohort_day=2, dropout=0.3)
        if m is not None:
            holding = replace(holding, state=State.MEMBER, member=m)
    for prompt, seed in zip(Prompt, itertools.cycle(SEEDS), strict=False):
        check(
            Person(holdings={b: holding}),
            Event.PURCHASE,
            b,
            seed,
            scenario_overrides=overrides,
            channel=channel,
            prompt=prompt,
            share=0.85,
        )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("b", [GUIDED, QUOTA_ASSIST, QR_SHOP, PUBLIC])
def test_need_chooses_among_brands_and_channels(b, seed):
    """A need: the logit over known brands of the category and their channels (spend
    tiers, member coupon, private shop, store), the order, the need clock restarted."""
    cat = SNACKS if b == PUBLIC else CARE
    holdings = {
        GUIDED: member(spend=150.0, channel=MemberChannel.GUIDE, guide=0, engagement=0.7),
        QUOTA_ASSIST: member(spend=400.0, channel=MemberChannel.GROUP),
        QR_SHOP: Holding(state=State.AWARE, source=Source.STORE),
        PUBLIC: customer(),
    }
    check(Person(alpha=1.4, holdings=holdings), Event.ON_NEED, b, seed, cat=cat)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("prompt", [Prompt.TRIAL, Prompt.GUIDE, Prompt.PUSH, Prompt.EMPLOYEE])
@pytest.mark.parametrize("b", [GUIDED, QUOTA_ASSIST, QR_SHOP])
def test_buy_from(b, prompt, seed):
    """A prompted order: the channel drawn among the brand's own (logit without the
    outside option), or the private shop a distributor's link leads to."""
    holding = member(spend=120.0) if b != QR_SHOP else customer()
    channel = Channel.PRIVATE if prompt == Prompt.EMPLOYEE else None
    check(Person(holdings={b: holding}), Event.BUY_FROM, b, seed, prompt=prompt, channel=channel)


HABITS = {"none": (0.0, 0), "fresh": (0.8, TODAY - 1), "faded": (0.9, TODAY - 120)}


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("habit", HABITS)
@pytest.mark.parametrize("event", ["need", "private_order", "store_order"])
def test_shop_habit(event, habit, seed):
    """The ordering habit for a brand's own shop: faded to the day (half-life), weighed in
    the private shop's utility when a member chooses among brands and channels, built up
    by an order in the private shop (smoothing toward 1) and left alone by an order
    elsewhere (`sim.rules.habit_now`, `habit_after_private_order`)."""
    value, day = HABITS[habit]
    holding = replace(
        member(spend=150.0, channel=MemberChannel.GROUP, engagement=0.3),
        habit=value,
        habit_day=day,
    )
    person = Person(alpha=1.2, holdings={GUIDED: holding})
    if event == "need":
        check(person, Event.ON_NEED, GUIDED, seed, cat=CARE)
    else:
        channel = Channel.PRIVATE if event == "private_order" else Channel.STORE
        check(
            person,
            Event.PURCHASE,
            GUIDED,
            seed,
            channel=channel,
            prompt=Prompt.NONE,
            share=0.9,
        )


# --------------------------------------------------------------------------- joining
@pytest.mark.parametrize("reluctant", [False, True])
@pytest.mark.parametrize("source", [s for s in Source if s not in (Source.ADS, Source.ORGANIC)])
@pytest.mark.parametrize("b", [GUIDED, QUOTA_ASSIST, QR_SHOP])
def test_join(b, source, reluctant):
    """A join from each member source, reluctant or not: the starting engagement, the
    annoyance of a reluctant joiner, the new-member columns, the welcome gift."""
    channel = MemberChannel.GUIDE if b != QR_SHOP else MemberChannel.MINI_PROGRAM
    guide = 0 if b != QR_SHOP else None
    check(
        Person(holdings={b: customer()}),
        Event.JOIN,
        b,
        channel=channel,
        source=source,
        guide=guide,
        reluctant=reluctant,
    )


INVITEES = {
    "customer": Person(
        holdings={GUIDED: customer(), QUOTA_ASSIST: customer(), QR_SHOP: customer()}
    ),
    "aware": Person(holdings={b: Holding(state=State.AWARE, source=Source.ADS) for b in (0, 1, 2)}),
    "hunter": Person(hunter=True, holdings={b: customer() for b in (0, 1, 2)}),
    "no_slot": Person(slots=1, holdings={PUBLIC: customer(), GUIDED: customer()}),
    "lapsed": Person(holdings={b: Holding(state=State.LAPSED, purchases=1) for b in (0, 1, 2)}),
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("invitee", INVITEES)
@pytest.mark.parametrize(
    "channel", [MemberChannel.GUIDE, MemberChannel.GROUP, MemberChannel.MINI_PROGRAM]
)
@pytest.mark.parametrize("b", [GUIDED, QUOTA_ASSIST, QR_SHOP])
def test_invite(b, channel, invitee, seed):
    """An invitation: where the member goes (a guide with room, else the group), the join
    probability (hunters: the gift or the tiers; a full set of attention slots refuses),
    the quota guide's pressure (reluctant joiners), a lapsed consumer not invited."""
    person = INVITEES[invitee]
    if invitee == "no_slot":  # the one slot is taken by another brand's membership
        person = replace(person, holdings={**person.holdings, QR_SHOP: member()})
        if b == QR_SHOP:
            pytest.skip("already a member")
    check(person, Event.INVITE, b, seed, source=Source.STORE, channel=channel)


def test_invite_to_a_full_guide_places_in_the_group():
    """The guide has no room (capacity 2, two members): the invitee goes to the group."""
    others = {
        i: Person(holdings={GUIDED: member(channel=MemberChannel.GUIDE, guide=0)}) for i in (1, 2)
    }
    pair = check(
        Person(holdings={GUIDED: customer()}),
        Event.INVITE,
        GUIDED,
        3,
        others=others,
        source=Source.PACKAGE_CARD,
        channel=MemberChannel.GUIDE,
    )
    assert pair.ref.brands[GUIDED].guides[0].has_room() is False


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("b", [GUIDED, QUOTA_ASSIST, QR_SHOP, PUBLIC])
def test_store_invite(b, seed):
    """A store visitor: a guide's invitation (× the quota multiplier), or the QR code."""
    check(Person(holdings={b: customer()}), Event.STORE_INVITE, b, seed)


# --------------------------------------------------------------------------- leaving
@pytest.mark.parametrize("excluded", [False, True], ids=["plain", "excluded"])
@pytest.mark.parametrize("muted", [False, True])
@pytest.mark.parametrize("purchases", [0, 2])
@pytest.mark.parametrize("guide", [None, 0])
def test_leave(guide, purchases, muted, excluded):
    """Leaving a private domain, plainly (back to customer or aware) or excluded (feeling
    harvested: lapsed or unaware, the source forgotten); a guide's lists kept."""
    channel = MemberChannel.GUIDE if guide is not None else MemberChannel.GROUP
    holding = member(purchases=purchases, channel=channel, guide=guide, muted=muted)
    check(Person(holdings={GUIDED: holding}), Event.LEAVE, GUIDED, excluded=excluded)


@pytest.mark.parametrize("holding", ["customer", "member", "guide_member"])
def test_lapse(holding):
    """A lapse (BG/NBD drop-out): the lapse booked, a membership left, acquisition reset."""
    h = {
        "customer": customer(),
        "member": member(),
        "guide_member": member(channel=MemberChannel.GUIDE, guide=0),
    }[holding]
    check(Person(holdings={GUIDED: h}), Event.LAPSE, GUIDED)


def test_mute_then_leave_plain():
    """A muted member who leaves (members' day): the plain leave of a muted guide member,
    who is on the guide's member list but not its reachable list."""
    h = member(channel=MemberChannel.GUIDE, guide=0, muted=True)
    check(Person(holdings={GUIDED: h}), Event.LEAVE, GUIDED, excluded=False)


# --------------------------------------------------------------------------- referrals
FRIENDS = {
    "unaware": Person(),
    "aware": Person(holdings={GUIDED: Holding(state=State.AWARE, source=Source.ADS)}),
    "customer": Person(holdings={GUIDED: customer()}),
    "member": Person(holdings={GUIDED: member()}),
    "hunter": Person(hunter=True),
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("referrals", [0, 1, 2])
@pytest.mark.parametrize("friend", FRIENDS)
def test_referral(friend, referrals, seed):
    """A member refers a friend: the friend hears of the brand (a trial may follow) and is
    invited to the group; a join counts towards the reward tiers (1 -> 30, 3 -> 100)."""
    referrer = Person(holdings={GUIDED: member(referrals=referrals, engagement=0.8)})
    check(referrer, Event.REFERRAL, GUIDED, seed, others={5: FRIENDS[friend]}, friend=5)


@pytest.mark.parametrize("seed", SEEDS)
def test_refer_friend(seed):
    """A referral to a random tie of the (shared) network."""
    friends = {i: Person(holdings={GUIDED: Holding(state=State.AWARE)}) for i in range(1, 12)}
    check(Person(holdings={GUIDED: member()}), Event.REFER_FRIEND, GUIDED, seed, others=friends)


@pytest.mark.parametrize("referrals", [0, 1, 2, 3])
def test_fake_referral(referrals):
    """A hunter's fake account: a fake member, the reward tier reached, hunters' rewards."""
    hunter = Person(hunter=True, holdings={GUIDED: member(referrals=referrals)})
    check(hunter, Event.FAKE_REFERRAL, GUIDED)


# --------------------------------------------------------------------------- awareness
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("before", [State.UNAWARE, State.LAPSED, State.AWARE])
@pytest.mark.parametrize("source", [s for s in Source if s != Source.PACKAGE_CARD])
@pytest.mark.parametrize("b", [GUIDED, QUOTA_ASSIST, PUBLIC])
def test_become_aware(b, source, before, seed):
    """Hearing of a brand (again, if lapsed): the source, the need clock started, the trial
    on awareness (boosted for ads) and the order it brings."""
    holding = Holding(state=before, purchases=int(before == State.LAPSED))
    if before == State.AWARE:
        holding = replace(holding, source=Source.ORGANIC)
    check(Person(holdings={b: holding}), Event.BECOME_AWARE, b, seed, source=source)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("state", ["unaware", "lapsed", "aware", "customer", "member"])
@pytest.mark.parametrize("kind", list(DistributorKind), ids=lambda k: k.name.lower())
def test_post_reaches(kind, state, seed):
    """A distributor's post reaches a consumer: reach counted, awareness, an order through
    the node's link (commission by kind), an invitation to the mini-program."""
    b = QUOTA_ASSIST
    holding = {
        "unaware": Holding(),
        "lapsed": Holding(state=State.LAPSED, purchases=1),
        "aware": Holding(state=State.AWARE, source=Source.ADS),
        "customer": customer(),
        "member": member(channel=MemberChannel.GROUP),
    }[state]
    source = Source.KOC if kind == DistributorKind.KOC else Source.DISTRIBUTOR
    person = Person(need_rates=(0.6, 0.05), holdings={b: holding})
    overrides = {"quota_assist": {"koc_conversion": 0.9, "koc_join": 0.8, "koc_awareness": 0.7}}
    check(
        person,
        Event.POST_REACHES,
        b,
        seed,
        scenario_overrides=overrides,
        source=source,
        kind=kind,
    )


# --------------------------------------------------------------------------- strategy review
ADOPTIONS = {
    "guided_takes_quota_assist": (GUIDED, QUOTA_ASSIST, None),
    "quota_assist_takes_guided": (QUOTA_ASSIST, GUIDED, None),
    "qr_shop_takes_guided": (QR_SHOP, GUIDED, None),
    "guided_stops_private_ops": (GUIDED, None, {"private_ops": False}),
    "guided_skill_spread": (GUIDED, None, {"guide_skill_sd": 0.4, "guides_per_store": 2.0}),
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("adoption", ADOPTIONS)
def test_adopt_strategy(adoption, seed):
    """What a strategy review applies once it has chosen (the choice itself is the shared
    Fermi rule): the levers, the staff (guides' skills and distributors' circles drawn from
    the brand's staffing stream), members of departing guides moved to the group; then an order and
    an invitation under the new levers agree too. KOCs are recruited by the staffing both
    engines share (`sim.staffing.draw_staff`), so the same consumers."""
    b, peer, update = ADOPTIONS[adoption]
    pair = Pair(contract_scenario(), seed)
    holding = member(channel=MemberChannel.GUIDE, guide=0) if b != QR_SHOP else member()
    pair.put(0, Person(holdings={b: holding}))
    pair.put(1, Person(holdings={b: customer()}))
    strategy = pair.ref.brands[peer if peer is not None else b].strategy
    if update is not None:
        strategy = strategy.model_copy(update=update)
    pair.adopt(b, strategy)
    ref, fast = pair.snapshots([0, 1], staff=b)
    assert_same(ref, fast, f"adopt {adoption}")
    pair.apply(Event.PURCHASE, 0, b, seed, channel=Channel.PLATFORM, prompt=Prompt.NONE, share=0.9)
    pair.apply(Event.INVITE, 1, b, seed + 10, source=Source.STORE, channel=MemberChannel.GUIDE)
    ref, fast = pair.snapshots([0, 1], staff=b)
    assert_same(ref, fast, f"after adopt {adoption}")


def test_contract_day_is_the_event_day():
    """The harness books on `TODAY` in both engines (a guard for the comparisons above:
    an event booked on another day would compare two empty slots)."""
    pair = check(
        Person(holdings={GUIDED: customer()}),
        Event.PURCHASE,
        GUIDED,
        channel=Channel.PLATFORM,
        prompt=Prompt.NONE,
        share=1.0,
    )
    assert pair.ledger_slot("orders_total", GUIDED) == (1.0, 1.0)


# --------------------------------------------------------------------------- budgets
BUDGET_FIXED = {GUIDED: 200.0 + 50.0, QUOTA_ASSIST: 200.0 + 3.0, PUBLIC: 0.0}
"""Each brand's contracted operations per day in the budget scenario: guided pays one
guide (200) and tooling (50); quota_assist one guide and its small-B node's fee (3; the
employee distributor is paid by commission only); public runs no private operations."""
YESTERDAY = {
    "cost_ads": 100.0,
    "cost_guide_salary": 200.0,
    "cost_tooling": 50.0,
    "cost_welcome_gifts": 40.0,
    "cost_referral_rewards": 30.0,
    "cost_koc_fees": 3.0,
    "cost_platform_commission": 1000.0,  # fees on sales: not counted
    "cost_guide_commission": 77.0,
    "cost_koc_commission": 11.0,
}
COUNTED_YESTERDAY = 100.0 + 200.0 + 50.0 + 40.0 + 30.0 + 3.0


@pytest.mark.parametrize("b", [GUIDED, QUOTA_ASSIST, PUBLIC])
@pytest.mark.parametrize("slack", [1.0, 0.0, -1.0])
def test_contract_budget_day(b, slack):
    """The budget's daily decision (`sim.rules.ads_within_budget`): both engines count
    yesterday's budgeted spend (not commissions), reserve the contracted operations for
    the rest of the budget year and run today's ads only if they fit; a cap one yuan short
    binds (ads stop, ``budget_bound`` 1), an exact fit does not."""
    before, ads = 100_000.0, 100.0
    days_left = 365 - TODAY
    budget = before + COUNTED_YESTERDAY + BUDGET_FIXED[b] * days_left + ads + slack
    names = ["guided", "quota_assist", "qr_shop", "public"]
    overrides = {name: {"ad_budget_per_day": ads} for name in names}
    overrides["quota_assist"]["koc_fee_per_day"] = 3.0
    pair = Pair(contract_scenario(budgets={names[b]: budget}, **overrides))
    for column, amount in YESTERDAY.items():
        pair.spend(b, TODAY - 1, column, amount)
    pair.set_budget_spent(b, before)
    pair.apply(Event.BUDGET_DAY, 0, b)
    ref, fast = pair.snapshots([0])
    assert_same(ref, fast, f"budget day b={b} slack={slack}")
    bound = slack < 0
    assert ref[f"brand{b}.budget_spent"] == before + COUNTED_YESTERDAY
    assert ref[f"brand{b}.ad_spend"] == (0.0 if bound else ads)
    assert pair.ledger_slot("budget_bound", b) == ((1.0, 1.0) if bound else (0.0, 0.0))
