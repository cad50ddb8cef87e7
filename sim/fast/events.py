"""One event at a time: a compiled entry point that applies a single model event (an order,
a touch, a join, a leave, a referral ...) to the fast engine's arrays by calling the very
kernel function the day's control flow calls (`sim.fast.kernels`).

It exists for the engine contract (tests/test_contract.py): the same event, fed to both
engines from the same state with the same Generator, must leave the same state and the
same ledger entries. A few codes only set state (a funnel move, an admission, a guide's
list of reachable members) so that a test can build a given state with the engine's own
bookkeeping (advocate counts, guides' lists) kept consistent.

One entry point dispatching on an event code keeps the compiled code to one signature:
`python -m sim.fast` compiles it into the cache with the day.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from sim.fast import jit
from sim.fast import kernels as K


class Event(IntEnum):
    """Event codes of `apply_event`, with the meaning of its integer arguments `a` and
    float arguments `f` (i: the consumer, b: the brand)."""

    SET_STATE = 0  # a[0] funnel state
    PURCHASE = 1  # a[0] channel, a[1] prompt; f[0] price share
    BUY_FROM = 2  # a[0] prompt, a[1] channel (−1: chosen by logit)
    RECEIVE_TOUCH = 3  # a[0] touch kind, a[1] by a guide (0/1); f[0] effect, f[1] skill
    INVITE = 4  # a[0] source, a[1] member channel
    JOIN = 5  # a[0] member channel, a[1] source, a[2] guide (−1), a[3] reluctant (0/1)
    LEAVE = 6  # a[0] excluded (0/1)
    LAPSE = 7
    REFERRAL = 8  # a[0] the friend
    REFER_FRIEND = 9
    FAKE_REFERRAL = 10
    BECOME_AWARE = 11  # a[0] source
    POST_REACHES = 12  # a[0] source, a[1] distributor kind
    STORE_INVITE = 13
    ON_NEED = 14  # a[0] category
    ADMIT = 15  # state only: a[0] member channel, a[1] guide (−1), a[2] reluctant, a[3]
    #             day faded to; f[0] engagement
    DROP_REACHABLE = 16  # state only: off its guide's list of reachable members (muted)
    BUDGET_DAY = 17  # brand b counts yesterday's spend and decides today's ads (i unused)
    # demand expansion (codes 50-54)
    RELIFT_NEED = 50  # a[0] category: the need lift recomputed, the clock redrawn (b unused)
    REVIEWS_DAY = 25  # brand b's platform reviews of the day (i unused; ODD 7.21)
    # the calendar (codes 30-34)
    FESTIVAL_NEED = 30  # a[0] category; f[0] the day's demand multiplier
    FESTIVAL_POST = 31  # brand b's festival post to its members (i unused)
    LIFECYCLE_TOUCHES = 45  # lifecycle operations: a[0] the brand's guide by position, a[1]
    #                         messages; i unused; returns the messages sent


@jit.entry
def apply_event(W, B, G, L, book, today, rng, code, i, b, a, f):
    """Apply event `code` to consumer i and brand b on day `today` (see `Event`); returns
    the kernel's boolean answer where it has one (became aware, invited and joined), else
    0."""
    out = 0
    if code == Event.SET_STATE:
        K.set_state(W, G, b, i, np.int64(a[0]))
    elif code == Event.PURCHASE:
        K.purchase(W, B, G, L, book, today, rng, i, b, np.int64(a[0]), f[0], np.int64(a[1]))
    elif code == Event.BUY_FROM:
        K.buy_from(W, B, G, L, book, today, rng, i, b, np.int64(a[0]), np.int64(a[1]))
    elif code == Event.RECEIVE_TOUCH:
        K.receive_touch(
            W, B, G, L, book, today, rng, i, b, np.int64(a[0]), f[0], f[1], np.bool_(a[1] != 0)
        )
    elif code == Event.INVITE:
        out = 1 if K.invite(W, B, G, L, today, rng, i, b, np.int64(a[0]), np.int64(a[1])) else 0
    elif code == Event.JOIN:
        K.join(W, B, G, L, today, i, b, np.int64(a[0]), np.int64(a[1]), np.int64(a[2]), a[3] != 0)
    elif code == Event.LEAVE:
        K.leave(W, G, i, b, np.bool_(a[0] != 0))
    elif code == Event.LAPSE:
        K.lapse(W, B, G, L, today, i, b)
    elif code == Event.REFERRAL:
        K.referral(W, B, G, L, book, today, rng, i, b, np.int64(a[0]))
    elif code == Event.REFER_FRIEND:
        K.refer_friend(W, B, G, L, book, today, rng, i, b)
    elif code == Event.FAKE_REFERRAL:
        K.fake_referral(W, B, L, today, i, b)
    elif code == Event.BECOME_AWARE:
        out = 1 if K.become_aware(W, B, G, L, book, today, rng, i, b, np.int64(a[0])) else 0
    elif code == Event.POST_REACHES:
        K.post_reaches(W, B, G, L, book, today, rng, i, b, np.int64(a[0]), np.int64(a[1]))
    elif code == Event.STORE_INVITE:
        K.store_invite(W, B, G, L, today, rng, i, b)
    elif code == Event.ON_NEED:
        K.on_need(W, B, G, L, book, today, rng, i, np.int64(a[0]))
    elif code == Event.ADMIT:
        K.admit(
            W,
            G,
            b,
            i,
            np.int64(a[0]),
            np.int64(a[1]),
            f[0],
            np.int64(a[3]),
            np.int64(0),
            np.bool_(a[2] != 0),
        )
    elif code == Event.DROP_REACHABLE:
        K.guide_drop_reachable(W, np.int64(W.m_guide[b, i]), b, i)
    elif code == Event.BUDGET_DAY:
        K.budget_day(W, B, L, today, b)
    elif code == Event.RELIFT_NEED:  # demand expansion
        K.relift_need(W, B, i, np.int64(a[0]), today, rng)
    elif code == Event.REVIEWS_DAY:
        K.reviews_day(W, B, G, L, today, rng, b)
    elif code == Event.FESTIVAL_NEED:
        K.festival_need(W, B, G, L, book, today, rng, i, np.int64(a[0]), f[0])
    elif code == Event.FESTIVAL_POST:
        K.festival_post(W, B, G, L, book, today, rng, b)
    elif code == Event.LIFECYCLE_TOUCHES:
        g = np.int64(W.b_glo[b] + a[0])
        out = K.lifecycle_touches(W, B, G, L, book, today, rng, g, np.int64(a[1]))
    return np.int64(out)
