"""The bridge from scenario to the fast engine's arrays (every scalar parameter under its
own name, text choices as codes), and the strategy review and staffing both engines share,
on hand-made inputs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import numpy as np
import pytest
from pydantic import BaseModel

from sim import load_scenario, rules
from sim.fast import FastModel
from sim.fast.bridge import (
    BRAND_FIELDS,
    CATEGORY_FIELDS,
    GLOBAL_FIELDS,
    PER_BRAND_FIELDS,
    PLATFORM_FIELDS,
    POPULATION_FIELDS,
    STRATEGY_FIELDS,
    TOUCH_FIELDS,
    ChannelPolicy,
    GuideRegime,
    KocKind,
    PackageCardChannel,
    ScalarField,
    check_distinct,
    scalar_fields,
)
from sim.fast.layout import BRAND_TABLES, GLOBAL_SPECIALS
from sim.network import Network
from sim.params import MarketParams, StrategyParams
from sim.review import review_strategies, trailing_roi
from sim.staffing import Staff, best_connected, draw_staff, guide_skills
from sim.vocab import MEMBER_CHANNELS, DistributorKind, MemberChannel

KERNELS = Path(__file__).parents[1] / "sim" / "fast" / "kernels.py"


# ---------------------------------------------------------------- the generator
class Toy(BaseModel):
    mode: Literal["first", "second", "third"] = "first"
    count: int = 0
    share: float = 0.0
    flag: bool = False
    name: str = ""
    levels: list[float] = []


def test_generator_reads_scalar_fields_with_their_types_and_skips_the_rest():
    fields = {f.name: f for f in scalar_fields(Toy)}
    assert list(fields) == ["mode", "count", "share", "flag"]
    assert [fields[n].dtype for n in fields] == [np.int64, np.int64, np.float64, np.bool_]
    assert fields["mode"].codes is not None and fields["count"].codes is None


def test_a_third_text_option_has_a_code_of_its_own():
    mode = {f.name: f for f in scalar_fields(Toy)}["mode"]
    codes = [mode.encode(o) for o in ("first", "second", "third")]
    assert codes == [0, 1, 2]
    assert mode.codes.__name__ == "Mode"
    assert [m.name for m in mode.codes] == ["FIRST", "SECOND", "THIRD"]
    with pytest.raises(KeyError):
        mode.encode("fourth")


def test_encoding_converts_to_the_fields_type():
    f = ScalarField("x", np.float64)
    assert f.encode(3) == 3.0 and isinstance(f.encode(3), float)
    assert isinstance(ScalarField("k", np.int64).encode(np.int64(2)), int)


def test_two_parameters_under_one_name_are_refused():
    with pytest.raises(TypeError, match="count"):
        check_distinct(scalar_fields(Toy), (ScalarField("count", np.float64),))


def test_the_text_choices_of_a_strategy():
    assert (ChannelPolicy.SEPARATE, ChannelPolicy.ASSIST) == (0, 1)
    assert (GuideRegime.QUALITY, GuideRegime.QUOTA) == (0, 1)
    assert (KocKind.KOC, KocKind.SMALL_B) == (0, 1)
    # a package card's channel is held as a member-channel code
    for name in MEMBER_CHANNELS:
        assert PackageCardChannel[name.upper()] == MemberChannel[name.upper()]


# ---------------------------------------------------------------- the arrays
@pytest.fixture(scope="module")
def model() -> FastModel:
    overrides = {
        "run.consumers": 400,
        "run.days": 5,
        "brands.guides.strategy.channel_policy": "assist",
        "brands.guides.strategy.guide_regime": "quota",
        "brands.guides.strategy.package_card_channel": "mini_program",
        "brands.guides.strategy.koc_kind": "small_b",
        "brands.guides.strategy.tooling_per_day": 7.5,
        "categories.beauty.trial_on_awareness": 0.25,
        "platform.cpm_growth_per_year": 0.125,
        "touches.referral_rate": 0.0075,
        "population.active_window": 45,
    }
    return FastModel(load_scenario("bench_three_brands", overrides), np.random.default_rng(1))


def test_every_scalar_parameter_reaches_its_array_under_its_own_name(model):
    sc = model.scenario
    for b, bp in enumerate(model.brand_params):
        for fields, params in (
            (STRATEGY_FIELDS, model.strategies[b]),
            (BRAND_FIELDS, bp),
            (CATEGORY_FIELDS, sc.categories[bp.category]),
        ):
            for f in fields:
                array = getattr(model.B, f.name)
                assert array.dtype == f.dtype, f.name
                assert array[b] == f.encode(getattr(params, f.name)), f.name
    for fields, params in (
        (POPULATION_FIELDS, sc.population),
        (TOUCH_FIELDS, sc.touches),
        (PLATFORM_FIELDS, sc.platform),
    ):
        for f in fields:
            assert getattr(model.G, f.name) == getattr(params, f.name), f.name
    b = model.brand_names.index("guides")
    assert model.B.channel_policy[b] == ChannelPolicy.ASSIST
    assert model.B.guide_regime[b] == GuideRegime.QUOTA
    assert model.B.package_card_channel[b] == MemberChannel.MINI_PROGRAM
    assert model.B.koc_kind[b] == KocKind.SMALL_B
    assert model.B.tooling_per_day[b] == 7.5
    assert model.B.trial_on_awareness[b] == 0.25
    assert model.G.cpm_growth_per_year == 0.125
    assert model.G.referral_rate == 0.0075
    assert model.G.active_window == 45


def test_adopting_a_strategy_rewrites_its_levers(model):
    b = model.brand_names.index("guides")
    st = model.strategies[b].model_copy(
        update={"channel_policy": "separate", "guide_regime": "quality", "koc_fee_per_day": 3.0}
    )
    B = model.B._replace(**{f.name: getattr(model.B, f.name).copy() for f in STRATEGY_FIELDS})
    model._set_levers(B, b, st)
    assert B.channel_policy[b] == ChannelPolicy.SEPARATE
    assert B.guide_regime[b] == GuideRegime.QUALITY
    assert B.koc_fee_per_day[b] == 3.0


def test_the_kernels_read_parameters_by_their_own_names():
    """Every brand or global field a kernel reads is a parameter field of the same name or
    one of the tables written by hand: a renamed copy of a lever cannot creep back."""
    source = KERNELS.read_text()
    brand_names = {f.name for f in PER_BRAND_FIELDS} | set(BRAND_TABLES)
    global_names = {f.name for f in GLOBAL_FIELDS} | set(GLOBAL_SPECIALS)
    used_b = set(re.findall(r"\bB\.(\w+)", source))
    used_g = set(re.findall(r"\bG\.(\w+)", source))
    assert used_b and used_g
    assert used_b <= brand_names, sorted(used_b - brand_names)
    assert used_g <= global_names, sorted(used_g - global_names)


# ---------------------------------------------------------------- strategy review
class Scripted:
    """A stand-in generator that returns scripted draws and records each call."""

    def __init__(self, order, picks=(), uniforms=()):
        self.order, self.picks, self.uniforms = list(order), list(picks), list(uniforms)
        self.calls: list[str] = []

    def permutation(self, n):
        self.calls.append("permutation")
        assert n == len(self.order)
        return np.array(self.order)

    def integers(self, lo, hi):
        self.calls.append(f"integers({lo},{hi})")
        return self.picks.pop(0)

    def random(self):
        self.calls.append("random")
        return self.uniforms.pop(0)


MARKET = MarketParams(payoff_window=10, fermi_kappa=0.2, exploration=0.05)
A = StrategyParams()
B_ = StrategyParams(ad_budget_per_day=0.0)


def ledger(gp, cost, days=20):
    """[day, brand] columns: the day's gross profit and cost, the same every day."""
    return np.tile(np.asarray(gp, float), (days, 1)), np.tile(np.asarray(cost, float), (days, 1))


def test_trailing_roi_sums_the_window_ending_today():
    gp = np.arange(20.0)[:, None] * np.array([[1.0, 0.0]])
    cost = np.ones((20, 2))
    roi = trailing_roi(gp, cost, today=9, window=5)
    assert roi == [sum(range(5, 10)) / 5, 0.0]
    assert trailing_roi(gp, np.zeros((20, 2)), 9, 5) == [0.0, 0.0]  # no cost: 0


def review(gp, cost, adaptive, category, strategies, since, today, rng):
    applied = []
    out = review_strategies(
        gp, cost, adaptive, category, strategies, since, today, MARKET, rng,
        lambda b, s: applied.append((b, s)),
    )  # fmt: skip
    assert out == applied
    return out


def test_a_brand_copies_a_more_profitable_peer():
    gp, cost = ledger([0.0, 2.0], [1.0, 1.0])
    rng = Scripted([0, 1], picks=[0], uniforms=[0.9])
    # brand 0 sees ROI 0 against its peer's 2: P(copy) = logistic(10), above 0.9
    out = review(gp, cost, [True, False], [0, 0], [A, B_], [0, 0], 19, rng)
    assert out == [(0, B_)]
    assert rng.calls == ["permutation", "integers(0,1)", "random"]


def test_a_less_profitable_peer_is_rarely_copied_and_exploration_flips_private_ops():
    gp, cost = ledger([2.0, 0.0], [1.0, 1.0])
    # brand 1 is not adaptive (no draws); brand 0 sees ROI 2 against its peer's 0:
    # P(copy) = logistic(-10) is below 0.01, then exploration 0.05 is above 0.04
    rng = Scripted([1, 0], picks=[0], uniforms=[0.01, 0.04])
    out = review(gp, cost, [True, False], [0, 0], [A, B_], [0, 0], 19, rng)
    assert out == [(0, A.model_copy(update={"private_ops": False}))]
    assert rng.calls == ["permutation", "integers(0,1)", "random", "random"]


def test_no_review_before_a_whole_payoff_window_nor_without_peers():
    gp, cost = ledger([0.0, 2.0, 5.0], [1.0, 1.0, 1.0])
    # brand 0 adopted its strategy 5 days ago; brand 2 has no peer in its category
    rng = Scripted([0, 2, 1])
    out = review(gp, cost, [True, False, True], [0, 0, 1], [A, B_, A], [15, 0, 0], 19, rng)
    assert out == [] and rng.calls == ["permutation"]


def test_a_single_brand_draws_nothing():
    gp, cost = ledger([1.0], [1.0])
    rng = Scripted([0])
    assert review(gp, cost, [True], [0], [A], [0], 19, rng) == [] and rng.calls == []


def test_later_brands_see_an_adopted_strategy():
    gp, cost = ledger([0.0, 2.0, 0.0], [1.0, 1.0, 1.0])
    adaptive, category, since = [True, False, True], [0, 0, 0], [0, 0, 0]
    # brand 0 copies brand 1 (B_); brand 2 then draws peer 0 (its peers are [0, 1]), now
    # running B_, whose ROI equals its own: P(copy) = 1/2
    rng = Scripted([0, 2, 1], picks=[0, 0], uniforms=[0.5, 0.4])
    out = review(gp, cost, adaptive, category, [A, B_, A], since, 19, rng)
    assert out == [(0, B_), (2, B_)]
    rng = Scripted([0, 2, 1], picks=[0, 0], uniforms=[0.5, 0.5, 0.5])
    out = review(gp, cost, adaptive, category, [A, B_, A], since, 19, rng)
    assert out == [(0, B_)]  # 0.5 is not below 1/2, nor below exploration


# ---------------------------------------------------------------- staffing
def ring(n: int) -> Network:
    """Each node tied to its two neighbours, and node 0 to everyone too (the hub)."""
    ties = {i: {(i - 1) % n, (i + 1) % n} for i in range(n)}
    for i in range(1, n):
        ties[0].add(i)
        ties[i].add(0)
    indptr = np.cumsum([0] + [len(ties[i]) for i in range(n)])
    indices = np.concatenate([sorted(ties[i]) for i in range(n)])
    return Network(n, indptr, indices)


def test_best_connected_breaks_ties_by_the_larger_key():
    deg = np.array([3, 5, 5, 1, 5])
    key = np.array([0.9, 0.2, 0.7, 0.99, 0.4])
    assert best_connected(deg, key, 3).tolist() == [2, 4, 1]
    assert best_connected(deg, key, 10).tolist() == [2, 4, 1, 0, 3]
    assert best_connected(deg, key, 0).size == 0


def test_no_private_ops_no_staff_and_no_draws():
    rng = np.random.default_rng(3)
    state = rng.bit_generator.state
    staff = draw_staff(StrategyParams(private_ops=False, koc_count=3), 5, ring(10), rng)
    assert staff.skills.size == 0 and staff.distributors == Staff().distributors
    assert rng.bit_generator.state == state


def test_guide_skills_are_drawn_one_per_guide_as_gammas_around_one():
    st = StrategyParams(guides_per_store=1.5, guide_skill_sd=0.3)
    skills = guide_skills(st, 4, np.random.default_rng(7))
    # one at a time, as the reference engine drew them before: the same numbers
    ref = np.random.default_rng(7)
    shape, scale = rules.gamma_shape_scale(1.0, 0.3)
    assert skills.dtype == np.float64
    assert skills.tolist() == [float(ref.gamma(shape, scale)) for _ in range(6)]
    flat = guide_skills(st.model_copy(update={"guide_skill_sd": 0.0}), 4, None)
    assert flat.tolist() == [1.0] * 6


def test_distributors_kocs_by_connection_then_employees():
    net = ring(12)
    st = StrategyParams(
        koc_count=2, koc_kind="small_b", koc_circle=4.0, employee_distributors=3,
        employee_circle=2.0, guides_per_store=0.0,
    )  # fmt: skip
    staff = draw_staff(st, 2, net, np.random.default_rng(11))
    kinds = [d.kind for d in staff.distributors]
    assert kinds == [DistributorKind.SMALL_B] * 2 + [DistributorKind.EMPLOYEE] * 3
    assert staff.distributors[0].centre == 0  # the hub is the best connected
    for d in staff.distributors:
        assert d.centre not in d.circle.tolist()
        assert len(set(d.circle.tolist())) == d.circle.size <= net.n - 1
    again = draw_staff(st, 2, net, np.random.default_rng(11))
    assert [(d.kind, d.centre, d.circle.tolist()) for d in again.distributors] == [
        (d.kind, d.centre, d.circle.tolist()) for d in staff.distributors
    ]
