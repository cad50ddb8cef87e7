"""The contract's tiny market: a dozen consumers and four brands that between them use
every mechanism an event can reach, so one scenario serves every contract test.

- brand 0 `guided`: a store with one guide (quality regime, capacity 2), the separate
  channel policy (a private shop), a welcome gift, member services, referral reward tiers
  (1 -> 30, 3 -> 100), spend tiers, package cards leading to the guide;
- brand 1 `quota_assist`: a store with one quota guide (pushes reluctant joiners in), the
  assist policy with a member coupon, a small-B node and an employee distributor;
- brand 2 `qr_shop`: a store without guides (the counter's QR code invites into the
  mini-program), package cards on every parcel;
- brand 3 `public`: no private operations, in a second category.

Each brand has at most one guide: where a guide is drawn, the reference engine picks
among the guides with room and the fast engine by rejection among all; with one guide
neither draws (`Generator.integers(0, 1)` consumes nothing), so the draws stay aligned.
"""

from __future__ import annotations

from typing import Any

from sim.params import Scenario

TODAY = 10
"""The day every contract event happens on (members were last faded earlier)."""
DAYS = 400
"""Horizon: long enough that a cohort opened on `TODAY` books at 90 and 365 days."""
CONSUMERS = 12

GUIDED, QUOTA_ASSIST, QR_SHOP, PUBLIC = range(4)
CARE, SNACKS = range(2)


def contract_scenario(
    budgets: dict[str, float] | None = None, **strategy_overrides: dict[str, Any]
) -> Scenario:
    """The tiny market; `strategy_overrides[brand name]` updates that brand's strategy,
    `budgets[brand name]` sets its annual_budget."""
    brands: dict[str, dict[str, Any]] = {
        "guided": {
            "category": "care",
            "appeal": 0.3,
            "stores": 1,
            "store_coverage": 1.0,
            "strategy": {
                "guides_per_store": 1.0,
                "guide_capacity": 2,
                "guide_skill_sd": 0.0,
                "channel_policy": "separate",
                "private_discount": 0.08,
                "welcome_gift": 10.0,
                "member_service": 0.4,
                "referral_tiers": [
                    {"referrals": 1, "reward": 30.0},
                    {"referrals": 3, "reward": 100.0},
                ],
                "tier_spend": [100.0, 300.0],
                "tier_discount": [0.05, 0.1],
                "package_card_rate": 0.5,
                "package_card_channel": "guide",
                "guide_invite_rate": 0.6,
                "tooling_per_day": 50.0,
            },
        },
        "quota_assist": {
            "category": "care",
            "stores": 1,
            "store_coverage": 1.0,
            "strategy": {
                "guides_per_store": 1.0,
                "guide_capacity": 2,
                "guide_skill_sd": 0.0,
                "guide_regime": "quota",
                "quota_pressure": 0.7,
                "reluctant_tolerance": 0.2,
                "channel_policy": "assist",
                "member_coupon": 0.1,
                "welcome_gift": 5.0,
                "koc_count": 1,
                "koc_kind": "small_b",
                "koc_circle": 5.0,
                "koc_commission": 0.12,
                "employee_distributors": 1,
                "employee_circle": 4.0,
                "employee_commission": 0.06,
                "package_card_rate": 0.8,
                "guide_commission": 0.07,
            },
        },
        "qr_shop": {
            "category": "care",
            "appeal": -0.2,
            "stores": 1,
            "store_coverage": 1.0,
            "strategy": {
                "qr_invite_rate": 0.7,
                "package_card_rate": 1.0,
                "package_card_channel": "mini_program",
                "welcome_gift": 0.0,
                "private_discount": 0.03,
            },
        },
        "public": {"category": "snacks", "strategy": {"private_ops": False}},
    }
    for name, update in strategy_overrides.items():
        brands[name]["strategy"] = {**brands[name]["strategy"], **update}
    for brand in brands.values():
        brand["initial"] = {"aware": 0.0, "customers": 0.0, "members": 0.0}
        brand["strategy"].setdefault("ad_budget_per_day", 0.0)
    for name, budget in (budgets or {}).items():
        brands[name]["annual_budget"] = budget
    return Scenario.model_validate(
        {
            "run": {"days": DAYS, "consumers": CONSUMERS},
            "network": {"kind": "small_world", "mean_degree": 4},
            "population": {"hunter_share": 0.0},
            "touches": {"selling_conversion": 0.6},  # selling touches often convert here
            "categories": {
                "care": {
                    "price": 200.0,
                    "service_need": 0.6,
                    "sku_breadth": 1.3,
                    "trial_on_awareness": 0.4,
                    "platform_fit": 0.2,
                    "private_fit": 0.1,
                    "store_fit": 0.3,
                },
                "snacks": {"price": 50.0, "service_need": 0.1, "trial_on_awareness": 0.2},
            },
            "platform": {"ad_trial_boost": 0.3},
            "brands": brands,
        }
    )
