"""The accounting of sim/accounting.py: each booking on a hand-made day slot, exact values."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sim import accounting as A
from sim.ledger import COLUMNS, COST_TYPES
from sim.vocab import SOURCES_MEMBER, Channel, DistributorKind, Prompt, Source, Touch

NB = 3
B = 1  # the brand booked; the others must stay untouched


def slot() -> np.ndarray:
    return np.zeros((len(COLUMNS), NB))


def booked(day: np.ndarray) -> dict[str, float]:
    """The non-zero cells of brand B, by column name; other brands must be empty."""
    others = np.delete(day, B, axis=1)
    assert not others.any(), "booked into another brand"
    return {name: day[k, B] for k, name in enumerate(COLUMNS) if day[k, B] != 0}


def order(day=None, **kw) -> dict[str, float]:
    """Book one order (defaults: a first platform order, organic, nothing prompted it)."""
    args = dict(
        channel=Channel.PLATFORM,
        source=Source.ORGANIC,
        prompt=Prompt.NONE,
        price=80.0,
        list_price=100.0,
        gross_margin=0.6,
        first=True,
        member=False,
        guided=False,
        coupon=False,
        take_rate=0.05,
        guide_commission=0.1,
        koc_commission=0.2,
        employee_commission=0.3,
    )
    args.update(kw)
    day = slot() if day is None else day
    A.book_order(day, B, *args.values())
    return booked(day)


def name_at(k: int) -> str:
    return list(COLUMNS)[k]


def test_columns_indexed_by_codes():
    assert name_at(A.GMV_BY_CHANNEL[Channel.STORE]) == "gmv_store"
    assert name_at(A.GMV_BY_SOURCE[Source.DISTRIBUTOR]) == "gmv_source_distributor"
    assert name_at(A.TOUCHES_BY_KIND[Touch.SELLING]) == "touches_selling"
    assert name_at(A.COHORT_PV[1, Source.KOC]) == "cohort365_pv_koc"
    for s in SOURCES_MEMBER:
        assert name_at(A.NEW_MEMBERS_BY_SOURCE[Source[s.upper()]]) == f"new_members_{s}"
    assert A.NEW_MEMBERS_BY_SOURCE[Source.ADS] == -1
    assert A.NEW_MEMBERS_BY_SOURCE[Source.ORGANIC] == -1


def test_first_platform_order_books_everything_it_triggers():
    got = order()
    assert got == {
        "gmv_platform": 80.0,
        "orders_platform": 1.0,
        "gmv_total": 80.0,
        "orders_total": 1.0,
        "units_total": 1.0,
        "cogs": 40.0,
        "gross_profit": 40.0,
        "discounts": 20.0,
        "gmv_source_organic": 80.0,
        "new_customers_organic": 1.0,
        "new_customers_total": 1.0,
        "gmv_first_organic": 80.0,
        "first_orders": 1.0,
        "acq_discounts_organic": 20.0,
        "cost_platform_commission": 4.0,
        "cost_total": 4.0,
        "gmv_attr_public": 80.0,
        "orders_attr_public": 1.0,
    }


def test_first_order_of_an_ad_customer_is_the_public_domains():
    got = order(source=Source.ADS)
    assert got["gmv_attr_ads"] == 80.0 and got["orders_attr_ads"] == 1.0
    assert got["gross_profit_attr_ads"] == 40.0
    assert got["commission_attr_ads"] == 4.0 == got["cost_platform_commission"]
    assert got["acq_discounts_ads"] == 20.0
    assert "new_customers_private" not in got and "acq_cost_ads" not in got


def test_repeat_member_order_in_the_private_shop_pays_the_guide():
    got = order(
        channel=Channel.PRIVATE,
        source=Source.STORE,
        prompt=Prompt.GUIDE,
        first=False,
        member=True,
        guided=True,
    )
    assert got == {
        "gmv_private": 80.0,
        "orders_private": 1.0,
        "gmv_total": 80.0,
        "orders_total": 1.0,
        "units_total": 1.0,
        "cogs": 40.0,
        "gross_profit": 40.0,
        "discounts": 20.0,
        "gmv_source_store": 80.0,
        "repeat_orders": 1.0,
        "repeat_orders_members": 1.0,
        "gmv_members": 80.0,
        "gmv_pushed": 80.0,
        "gmv_guided": 80.0,
        "cost_guide_commission": 8.0,
        "cost_total": 8.0,
        "serve_cost": 8.0,
        "gmv_attr_private": 80.0,
        "orders_attr_private": 1.0,
        "gross_profit_attr_private": 40.0,
    }


def test_guided_first_order_of_a_member_is_a_private_acquisition():
    got = order(
        channel=Channel.PRIVATE, source=Source.STORE, prompt=Prompt.GUIDE, member=True, guided=True
    )
    assert got["cost_guide_commission"] == 8.0 == got["acq_cost_store"]
    assert "serve_cost" not in got
    assert got["new_customers_private"] == 1.0 and got["discounts_first_private"] == 20.0
    assert got["acq_discounts_store"] == 20.0


@pytest.mark.parametrize(
    ("prompt", "rate"),
    [(Prompt.KOC, 0.2), (Prompt.SMALL_B, 0.2), (Prompt.EMPLOYEE, 0.3)],
)
def test_order_through_a_distributor_link_pays_its_commission(prompt, rate):
    got = order(channel=Channel.STORE, source=Source.KOC, prompt=prompt)
    assert got["gmv_koc"] == 80.0
    assert got["cost_koc_commission"] == 80.0 * rate
    assert got["cost_total"] == 80.0 * rate  # a store order: no platform take
    assert got["gmv_attr_private"] == 80.0
    assert "gmv_pushed" not in got and "gmv_attr_public" not in got
    assert got["acq_cost_koc"] == 80.0 * rate  # a first order: the commission acquires
    assert got["new_customers_private"] == 1.0
    repeat = order(channel=Channel.STORE, source=Source.KOC, prompt=prompt, first=False)
    assert repeat["serve_cost"] == 80.0 * rate and "acq_cost_koc" not in repeat


def test_coupon_order_is_assisted_and_private():
    got = order(member=True, coupon=True, first=False)
    assert got["gmv_assisted"] == 80.0
    assert got["gmv_attr_private"] == 80.0 and "gmv_attr_public" not in got
    assert got["cost_platform_commission"] == 4.0 == got["commission_attr_private"]
    assert "commission_attr_ads" not in got


def test_guided_member_on_the_platform_earns_the_guide_nothing():
    got = order(member=True, guided=True, first=False)
    assert "cost_guide_commission" not in got


def test_orders_of_a_day_add_up():
    day = slot()
    order(day)
    got = order(day, price=100.0, first=False)
    assert got["gmv_total"] == 180.0
    assert got["orders_total"] == 2.0
    assert got["discounts"] == 20.0
    assert got["cost_total"] == 4.0 + 5.0
    assert got["first_orders"] == 1.0 and got["repeat_orders"] == 1.0


@pytest.mark.parametrize(
    ("channel", "coupon", "prompt", "private"),
    [
        (channel, coupon, prompt, True)
        for channel, coupon, prompt in itertools.product(Channel, (False, True), Prompt)
        if channel == Channel.PRIVATE
        or coupon
        or prompt in (Prompt.GUIDE, Prompt.PUSH, Prompt.KOC, Prompt.SMALL_B, Prompt.EMPLOYEE)
    ]
    + [
        (channel, False, prompt, False)
        for channel in (Channel.PLATFORM, Channel.STORE)
        for prompt in (Prompt.NONE, Prompt.TRIAL)
    ],
)
def test_private_credit_every_branch(channel, coupon, prompt, private):
    assert A.private_credit(channel, coupon, prompt) is private
    got = order(channel=channel, coupon=coupon, prompt=prompt)
    assert ("gmv_attr_private" in got) is private
    assert ("gmv_attr_public" in got) is (not private and channel == Channel.PLATFORM)


def test_prompt_classes():
    assert [p for p in Prompt if A.pushed(p)] == [Prompt.GUIDE, Prompt.PUSH]
    assert [p for p in Prompt if A.via_distributor(p)] == [
        Prompt.KOC,
        Prompt.SMALL_B,
        Prompt.EMPLOYEE,
    ]
    for kind in DistributorKind:
        assert Prompt(A.distributor_prompt(kind)).name == kind.name
        assert A.distributor_kind(A.distributor_prompt(kind)) == kind


def test_book_cost_each_type():
    day = slot()
    for k, kind in enumerate(COST_TYPES):
        A.book_cost(day, B, A.column(f"cost_{kind}"), float(k + 1))
    got = booked(day)
    assert got == {
        **{f"cost_{kind}": float(k + 1) for k, kind in enumerate(COST_TYPES)},
        "cost_total": sum(range(1, len(COST_TYPES) + 1)),
    }


@pytest.mark.parametrize("source", [s for s in SOURCES_MEMBER])
def test_join(source):
    day = slot()
    A.book_join(day, B, Source[source.upper()], 0.0, A.SERVES)
    assert booked(day) == {f"new_members_{source}": 1.0, "new_members_total": 1.0}
    A.book_join(day, B, Source[source.upper()], 12.5, A.SERVES)
    assert booked(day) == {
        f"new_members_{source}": 2.0,
        "new_members_total": 2.0,
        "cost_welcome_gifts": 12.5,
        "cost_total": 12.5,
        "serve_cost": 12.5,
    }


def test_welcome_gift_to_a_prospect_acquires_its_source():
    day = slot()
    A.book_join(day, B, Source.STORE, 12.5, A.acquisition_source(True, Source.ADS))
    assert booked(day)["acq_cost_ads"] == 12.5 and "serve_cost" not in booked(day)


def test_acquisition_source():
    assert A.acquisition_source(False, Source.ADS) == A.SERVES
    assert A.acquisition_source(True, Source.KOC) == Source.KOC
    assert A.acquisition_source(True, -1) == Source.ORGANIC


def test_invites_count_prospects_by_source():
    day = slot()
    A.book_invite(day, B, A.SERVES)
    assert booked(day) == {"invites": 1.0}
    A.book_invite(day, B, Source.STORE)
    assert booked(day) == {"invites": 2.0, "invites_new_store": 1.0}


@pytest.mark.parametrize("kind", list(Touch))
def test_touch(kind):
    day = slot()
    A.book_touch(day, B, kind)
    A.book_touch(day, B, kind)
    assert booked(day) == {f"touches_{kind.name.lower()}": 2.0, "touches_total": 2.0}


@pytest.mark.parametrize(
    ("book", "column"),
    [
        (A.book_mute, "mutes"),
        (A.book_leave, "leaves"),
        (A.book_lapse, "lapses"),
        (A.book_referral, "referrals"),
        (A.book_koc_reach, "koc_reached"),
    ],
)
def test_counts(book, column):
    day = slot()
    book(day, B)
    assert booked(day) == {column: 1.0}


def test_referral_reward_only_when_due():
    day = slot()
    A.book_referral_reward(day, B, 0.0)
    assert booked(day) == {}
    A.book_referral_reward(day, B, 30.0)
    assert booked(day) == {
        "cost_referral_rewards": 30.0,
        "cost_total": 30.0,
        "acq_cost_referral": 30.0,
    }


def test_fake_referral():
    day = slot()
    A.book_fake_referral(day, B, 0.0)
    assert booked(day) == {"fake_members": 1.0}
    A.book_fake_referral(day, B, 30.0)
    assert booked(day) == {
        "fake_members": 2.0,
        "cost_referral_rewards": 30.0,
        "cost_total": 30.0,
        "cost_referral_rewards_hunters": 30.0,
        "acq_cost_referral": 30.0,
    }


def test_fixed_costs():
    day = slot()
    A.book_fixed_costs(day, B, 0, 300.0, 0.0, 0, 0, 50.0)
    assert booked(day) == {}
    A.book_fixed_costs(day, B, 4, 300.0, 20.0, 3, 1, 50.0)
    assert booked(day) == {
        "cost_guide_salary": 1200.0,
        "cost_tooling": 20.0,
        "cost_koc_fees": 200.0,
        "cost_total": 1420.0,
        "acq_cost_koc": 150.0,  # KOCs' posts credit 'koc', small-B nodes' 'distributor'
        "acq_cost_distributor": 50.0,
    }


def test_ads_and_cpm():
    day = slot()
    A.book_ads(day, B, 0.0, 0.0)
    assert booked(day) == {}
    A.book_ads(day, B, 500.0, 25000.0)
    A.book_cpm(day, B, 20.0)
    A.book_cpm(day, B, 21.0)  # a rate: set, not added
    assert booked(day) == {
        "cost_ads": 500.0,
        "cost_total": 500.0,
        "acq_cost_ads": 500.0,
        "impressions": 25000.0,
        "cpm": 21.0,
    }


def test_cohort():
    day = slot()
    A.book_cohort(day, B, 1, Source.REFERRAL, 300.0, 280.0)
    assert booked(day) == {
        "cohort365_gmv_referral": 300.0,
        "cohort365_pv_referral": 280.0,
        "cohort365_n_referral": 1.0,
    }


def test_compiled_order_books_the_same_bytes():
    """The fast engine's compiled book_order (sim.fast.jit) books exactly what the Python
    function books, on every branch."""
    from sim.fast.jit import accounting as compiled

    ours, theirs = slot(), slot()
    for channel, prompt, first, member, guided, coupon in itertools.product(
        Channel, Prompt, *[(False, True)] * 4
    ):
        codes = (channel, Source.ADS, prompt)
        rest = (87.3, 99.0, 0.37, first, member, guided, coupon, 0.05, 0.11, 0.13, 0.17)
        A.book_order(ours, B, *codes, *rest)
        compiled.book_order(theirs, B, *(np.int64(c) for c in codes), *rest)
    assert ours.tobytes() == theirs.tobytes()
