"""The rules of `sim.rules`, compiled by Numba for the fast engine's kernels.

Nothing here is a formula: each name is the function of `sim.rules` with the same name,
compiled into the kernels that call it. The kernels' compiled code is cached on disk
(`sim/fast/__pycache__`, or Numba's user-wide cache where the package is read-only) and
stamped with a hash of every source it is built from (the sim/fast modules, sim/rules.py,
and sim/ledger.py and sim/params.py, whose column and code tables become constants), so
editing any of them recompiles; Numba's own stamp would only notice a change to the file
of the entry point.
"""

from __future__ import annotations

import hashlib
import types
from pathlib import Path

from numba import njit
from numba.core import caching

from sim import rules

_SIM = Path(rules.__file__).parent
_SOURCES = [*sorted(Path(__file__).parent.glob("*.py"))] + [
    _SIM / name for name in ("rules.py", "ledger.py", "params.py")
]
"""What the compiled code is built from: the engine, the rules, and the ledger's columns and
the parameters' codes, which the kernels hold as constants."""
_STAMP = hashlib.sha256(b"".join(p.read_bytes() for p in _SOURCES)).hexdigest()


class _Stamped:
    """A Numba cache locator for this package's files only, stamped with all the engine's
    sources instead of the one file's modification time."""

    def get_source_stamp(self):
        return _STAMP

    @classmethod
    def from_function(cls, py_func, py_file):
        if Path(py_file).parent != Path(__file__).parent:
            return None
        return super().from_function(py_func, py_file)


class _StampedInTree(_Stamped, caching.InTreeCacheLocator):
    """Next to the source (`sim/fast/__pycache__`)."""


class _StampedUserWide(_Stamped, caching.UserWideCacheLocator):
    """Numba's user-wide cache, where the package is read-only."""


caching.CacheImpl._locator_classes[:0] = [_StampedInTree, _StampedUserWide]

_NAMES = (
    "_at_most_one",
    "skip_scale",
    "bounded_poisson_mean",
    "geometric_skip",
    "need_day",
    "hill",
    "logistic",
    "traffic_cpm",
    "adstock",
    "ad_awareness_hazard",
    "combine_hazards",
    "word_of_mouth_hazard",
    "daily_need_probability",
    "latent_need_probability",
    "channel_utility",
    "logit_shares",
    "draw_index",
    "effective_price_share",
    "tier_discount",
    "join_probability",
    "pressured_join_probability",
    "engagement_after_touch",
    "decay",
    "harvest_feeling",
    "selling_conversion",
    "dropout_probability",
    "referral_probability",
    "hunter_fake_probability",
    "next_referral_reward",
    "reward_due",
)
"""Compiled in this order: a rule that calls another (hill, logistic) comes after it."""

# The rules see each other through their module's globals; the compiled copies see the
# compiled versions instead, in a namespace of their own (sim.rules itself is untouched).
_namespace = dict(vars(rules))
for _name in _NAMES:
    _f = getattr(rules, _name)
    _copy = types.FunctionType(_f.__code__, _namespace, _name, _f.__defaults__, _f.__closure__)
    _copy.__module__, _copy.__qualname__, _copy.__doc__ = _f.__module__, _name, _f.__doc__
    _namespace[_name] = njit(nogil=True)(_copy)

hill = _namespace["hill"]
skip_scale = _namespace["skip_scale"]
bounded_poisson_mean = _namespace["bounded_poisson_mean"]
geometric_skip = _namespace["geometric_skip"]
need_day = _namespace["need_day"]
traffic_cpm = _namespace["traffic_cpm"]
adstock = _namespace["adstock"]
ad_awareness_hazard = _namespace["ad_awareness_hazard"]
combine_hazards = _namespace["combine_hazards"]
word_of_mouth_hazard = _namespace["word_of_mouth_hazard"]
daily_need_probability = _namespace["daily_need_probability"]
latent_need_probability = _namespace["latent_need_probability"]
channel_utility = _namespace["channel_utility"]
logit_shares = _namespace["logit_shares"]
draw_index = _namespace["draw_index"]
effective_price_share = _namespace["effective_price_share"]
tier_discount = _namespace["tier_discount"]
join_probability = _namespace["join_probability"]
pressured_join_probability = _namespace["pressured_join_probability"]
engagement_after_touch = _namespace["engagement_after_touch"]
decay = _namespace["decay"]
harvest_feeling = _namespace["harvest_feeling"]
selling_conversion = _namespace["selling_conversion"]
dropout_probability = _namespace["dropout_probability"]
referral_probability = _namespace["referral_probability"]
hunter_fake_probability = _namespace["hunter_fake_probability"]
next_referral_reward = _namespace["next_referral_reward"]
reward_due = _namespace["reward_due"]
