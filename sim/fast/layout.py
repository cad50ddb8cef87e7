"""The fast engine's data layout: every agent is a row in flat arrays, grouped in three
named tuples that the compiled kernels receive.

- `World`: consumers (per consumer, and per brand × consumer), the social network,
  guides, distributors and store catchments;
- `Brands`: one entry per brand for each lever and brand/category constant (updated in
  place when an adaptive brand adopts a peer's strategy);
- `Globals`: the scenario's population, touch and platform constants.

`Brands` and `Globals` are generated from the parameter models (`sim.fast.bridge`): each
scalar field keeps the scenario's name; a text choice is held as its code.

The kernels receive each group as a Numba StructRef (`as_struct`): a pointer to the
arrays, so compiling a kernel does not grow with the number of fields.

Codes (funnel states, channels, sources, prompts, touch and distributor kinds) are those of
`sim.vocab`, shared with the reference engine.

Memory layout (`consumer_state`): the kernels index per-brand state as `W.field[b, i]`
whatever the layout. With RECORDS (the default; see there for the measured trade-off)
the per consumer × brand fields are split by how the day reads them:
- the brand record (`brand_record`, BRAND_FIELDS), 24 bytes per consumer and brand (28
  wide; the block is aligned to 64 bytes), in consumer-major order ([n, nb]: all brands
  of one consumer together, as a need's choice set reads them): what a need's choice and
  an order read and write for one brand at scattered consumers (purchases, spend,
  dropout, acquisition day, cohort, guide, source, store access, annoyance). As dense
  arrays an order's fields are about ten cache misses, as a record one or two.
- the membership record (`member_record`, MEMBER_FIELDS), 16 bytes per consumer and
  brand (20 wide), in brand-major order ([nb, n]: one brand's members in index order):
  what every touch reads and writes (engagement, fatigue, harvest feeling, the day they
  were faded, muted, reluctant). A guide's message, a node's post or the members' day at
  a scattered member meets one cache line where the dense arrays were six; a post, which
  touches every member of one brand in index order, reads the same bytes either way.
- Dense [nb, n] arrays (DENSE_FIELDS): `funnel` and `m_channel` (scanned whole for one
  brand: posts, the census's counts at the start of each run_days window, awareness by
  skipping), the members' day's join stamps (`m_joined`, read for every candidate),
  `last_purchase` (read for every member at the start of each window),
  `advocates` (updated for each friend of one who changes state: one field per friend),
  the rarely written `habit` and `habit_day` (zero pages until written: in the record
  they would be memory from the start, which at 15,000,000 consumers raised the run's
  peak past measurement d's bound), and the rarely touched `m_gpos`, `m_refs`,
  `m_life`, `withheld`, `koc_reach`. In index order a dense field's cache line holds 16
  members or more, the records' line two or three.
- Per consumer, dense [n] arrays (CONSUMER_FIELDS and the rest): a record of them was
  measured slower (see RECORDS).
Each field of a record is a strided view ([nb, n]) of its record block, so Numba sees
'A'-layout arrays; nothing takes those fields' memory as contiguous (`next_need`, the one
array `ravel`led, stays C-contiguous). Without RECORDS every field is a dense array.

Dtypes and ranges: floats are float32 (as computed in float64 and stored), flags int8/bool.
`slots` is int8 (capped at 127 when drawn) and so is `n_memb`, which never exceeds it; `home`
int8 (a platform's index), `birthday` int16 (a day of the year). Counts and day stamps are
bounded only by `sim.params.HARD_LIMIT` once SIYU_ALLOW_LARGE lifts the size limits
(`run.days`, guides, guide capacities, referrals), so no one smaller integer holds every
valid run. The seven fields of NARROW are therefore int16 in a run whose bounds fit
(`narrow_fits`: up to 2,047 days, 32,767 guides, a guide capacity and a network degree of
32,767 — every shipped scenario, and the national runs of benchmarks/bench_fast.py), and
int32 otherwise (`FastModel._fit_narrow` widens them, before the run or at a re-staffing
that passes a bound): two compiled forms of the kernels, the second only for such a run.
The other counts and day stamps stay int32 (`last_purchase` and `acquired` hold −10⁶, the
reference engine's "never" and "before the run"; `purchases` and `m_refs` have no bound
that a run's parameters give).

Bytes (narrow): 68 per consumer and brand in either layout: the 24-byte brand record and
the 16-byte membership record (as dense arrays the same bytes: m_muted and m_reluct 1
each, m_upd 2, m_eng, m_fat and m_harv 4 each), then funnel, m_channel, withheld and
koc_reach 1 each, advocates, habit_day, m_joined and m_gpos 2 each, last_purchase, habit,
m_refs and m_life 4 each; 14 more when wide (16 with RECORDS: the wide membership
record's 2 bytes of padding). Then 23 per consumer (16 of traits and flags, birthday
2, demand expansion's dm_due and dm_list 5) and 16 per consumer and category sold
(need_rate, need_p, next_need and demand expansion's need_lift; 24 more where a category
spreads order values: `value_mean`), plus the network: 4 bytes a consumer of row pointers
(int32 while twice the ties fit in it, `sim.network`; int64 beyond, which compiles the
kernels once more for that type) and 4 bytes a tie each way. Less where a mechanism no
brand can use leaves its arrays without consumers (UNUSED_WHEN_OFF): without demand
expansion, distributors, franchisees, lifecycle targeting and guides, 7 bytes fewer per
consumer (dm_due and dm_list 5, birthday 2), 4 per consumer and category sold (need_lift)
and 8 per consumer and brand (koc_reach and withheld 1 each, m_gpos 2, 4 when wide, and
m_life 4). Of those, the arrays filled with a
marker (birthday, m_gpos, m_life) are resident memory from the start; the zeroed ones are
the allocator's untouched zero pages until written, address space rather than memory, so
leaving them out lowers the peak little. Inside run_days
(`kernels.plan_days`) the window's need lists take 8 bytes an entry (in chunks of 31 keys
and a link), with room for twice the needs due in the window, and the census's member
counts 16 bytes a brand and day of the window: no per-consumer list.
benchmarks/bench_fast.py measures the peak per consumer.
"""

from __future__ import annotations

import hashlib
from typing import Any, NamedTuple

import numpy as np
from numba import njit, typeof
from numba.core import types
from numba.experimental import structref
from numba.extending import intrinsic

from sim.fast.bridge import GLOBAL_FIELDS, PER_BRAND_FIELDS
from sim.rules import NEVER_DAY, NO_LIFECYCLE_TOUCH

# ---- markers (the codes of states, channels, sources, prompts and kinds are sim.vocab's)
NOT_ACQUIRED = -1
NO_COHORT = -(2**15)
"""cohort_day of a consumer in no cohort: below every day (a cohort starts on a day of the
run, ≥ 0), and held by int16 (NARROW)."""
NEVER = NEVER_DAY
"""next_need of a consumer whose need rate is 0 (or whose next need lies beyond it)."""

# ---- the per-consumer and per consumer × brand fields (see the module docstring):
# (field, dtype, initial value)
CONSUMER_FIELDS: tuple[tuple[str, str, float], ...] = (
    ("alpha", "f4", 0),
    ("trust", "f4", 0),
    ("tolerance", "f4", 0),
    ("slots", "i1", 0),
    ("hunter", "?", 0),
    ("n_memb", "i1", 0),
    ("home", "i1", 0),
)
"""The per-consumer fields set by `consumer_state` (16 bytes a consumer, dense arrays)."""

BRAND_FIELDS: tuple[tuple[str, str, float], ...] = (
    ("purchases", "i4", 0),
    ("spend", "f4", 0),
    ("dropout", "f4", 0),
    ("acquired", "i4", NOT_ACQUIRED),
    ("cohort_day", "i4", NO_COHORT),
    ("m_guide", "i4", -1),
    ("source", "i1", -1),
    ("cohort_src", "i1", 0),
    ("store_access", "?", 0),
    ("annoyed", "?", 0),
)
"""The per consumer × brand fields held in one record (`brand_record`): those a need's
choice and an order read and write for one brand at a scattered consumer, whose pages are
memory early in either layout (most hold a marker from the set-up, or the initial
funnel's customers' values), so that the record adds nothing to a run's peak. The
four-byte fields come first, then the NARROW ones, then the bytes: no padding."""

MEMBER_FIELDS: tuple[tuple[str, str, float], ...] = (
    ("m_eng", "f4", 0),
    ("m_fat", "f4", 0),
    ("m_harv", "f4", 0),
    ("m_upd", "i4", 0),
    ("m_muted", "?", 0),
    ("m_reluct", "?", 0),
)
"""The membership's per consumer × brand fields that a touch reads and writes, held in
one record (`member_record`) in brand-major order: a guide's message, a post, a node's
post or the members' day touches them all at once, at scattered consumers one cache line
where as dense arrays they were six; a post, which reads them for every member of one
brand in index order, reads as many bytes either way."""

DENSE_FIELDS: tuple[tuple[str, str, float], ...] = (
    ("funnel", "i1", 0),
    ("m_channel", "i1", -1),
    ("advocates", "i4", 0),
    ("last_purchase", "i4", -(10**6)),
    ("habit", "f4", 0),
    ("habit_day", "i4", 0),
    ("m_joined", "i4", 0),
    ("m_gpos", "i4", -1),
    ("m_refs", "i4", 0),
    ("m_life", "i4", NO_LIFECYCLE_TOUCH),
    ("withheld", "?", 0),
    ("koc_reach", "?", 0),
)
"""The per consumer × brand fields kept as their own C-contiguous [nb, n] arrays: those
read for every member of a brand in index order (a post's touches, the members' day, the
start of each run_days window), where a cache line of one field holds 16 members or more;
the rarely written private shop's habit, whose untouched pages stay address space rather
than memory; and the rarely touched ones."""

NARROW: dict[str, str] = {
    "habit_day": "a day of the run: 0 .. days − 1",
    "m_upd": "a day of the run: 0 .. days − 1",
    "cohort_day": "a day of the run, or NO_COHORT",
    "m_joined": "a join stamp, day·16 + phase: 0 .. 16·days + 15",
    "m_guide": "a guide's index, or −1: −1 .. guides − 1",
    "m_gpos": "a position in a guide's list, or −1: −1 .. its capacity − 1",
    "advocates": "friends who are customers or members: 0 .. the consumer's ties (the ties "
    "are stored both ways, so one's count is at most its row of the network)",
}
"""The per consumer × brand fields held as int16 where the run's bounds fit (`narrow_fits`),
with the range each holds; int32 otherwise, in the records as in the dense arrays
(`field_dtype`)."""

NARROW_MAX = 2**15 - 1
"""The largest value int16 holds: every bound of `narrow_fits` must stay within it."""


def narrow_fits(days: int, guides: int = 0, capacity: int = 0, degree: int = 0) -> bool:
    """Whether every field of NARROW holds its range as int16 in a run of `days` days with
    `guides` guides of at most `capacity` members each and ties of at most `degree` per
    consumer (the join stamp, day·16 + phase, is the widest day field)."""
    return max(16 * days + 15, guides, capacity, degree) <= NARROW_MAX


def field_dtype(name: str, dtype: str, narrow: bool) -> str:
    """The dtype field `name` (declared `dtype`) is held in: int16 for a field of NARROW in
    a run that `narrow_fits` (`narrow`), else as declared."""
    return "i2" if narrow and name in NARROW else dtype


def _record(fields: tuple[tuple[str, str, float], ...], narrow: bool) -> np.dtype:
    """The aligned record dtype of `fields`, each in the dtype `field_dtype` gives it."""
    return np.dtype([(name, field_dtype(name, d, narrow)) for name, d, _ in fields], align=True)


def brand_record(narrow: bool = False) -> np.dtype:
    """The record of BRAND_FIELDS, its fields of NARROW int16 with `narrow`: 24 bytes (28
    wide), consumer-major in its block, so a need's choice reads all brands of one
    consumer from one or two adjacent cache lines."""
    return _record(BRAND_FIELDS, narrow)


def member_record(narrow: bool = False) -> np.dtype:
    """The record of MEMBER_FIELDS, `m_upd` int16 with `narrow`: 16 bytes (20 wide), so
    that four records share a cache line and none straddles two (narrow)."""
    return _record(MEMBER_FIELDS, narrow)


LINE = 64
"""Bytes of a cache line: the record blocks' alignment."""
assert brand_record(True).itemsize == 24 and brand_record(False).itemsize == 28
assert member_record(True).itemsize == 16 and member_record(False).itemsize == 20


def _aligned_block(dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    """A zeroed C-contiguous array of `dtype` whose first byte is on a cache-line boundary
    (a view into a slightly larger byte block)."""
    size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    raw = np.zeros(size + LINE, dtype=np.uint8)
    start = -raw.__array_interface__["data"][0] % LINE
    return raw[start : start + size].view(dtype).reshape(shape)


UNUSED_WHEN_OFF: dict[str, str] = {
    "need_lift": "demand expansion: no strategy has member_need_lift > 0 ([0, ncat])",
    "dm_due": "demand expansion, as need_lift ([0])",
    "dm_list": "demand expansion, as need_lift ([0])",
    "koc_reach": "distributors: no strategy has koc_count or employee_distributors > 0",
    "withheld": "channel conflict: no brand has stores and franchise_share > 0",
    "birthday": "lifecycle operations: no strategy has touch_targeting = lifecycle ([0])",
    "m_gpos": "guides: no brand has stores and a strategy with guides_per_store > 0",
    "m_life": "lifecycle operations: no strategy has touch_targeting = lifecycle, and no "
    "brand starts with more members than customers (see FastModel._give_room)",
}
"""The World arrays allocated without consumers ([nb, 0], or as noted) when no brand of the
run can use their mechanism (`FastModel`): their values would stay the initial ones all
run, and nothing reads them. Each read and write is behind that mechanism's switch or
the array's size (`kernels.lift_of`, `store_invite`'s withheld); a strategy that turns a
mechanism on during the run (`FastModel.set_strategy`, a re-staffing) gives the array its
consumers first, at the initial value, which is what it would have held. All of them are
dense arrays (DENSE_FIELDS, or per consumer)."""

RECORDS = True
"""Whether `consumer_state` holds BRAND_FIELDS in one record per consumer and brand (True,
the default) or every field in its own dense array (False); both write the same bytes.
Process time of a whole run (bench_fast's scenario and overrides, 1,000,000 consumers x
365 days, a fresh process per run, the two layouts alternated, two rounds, under load, as
`benchmarks/layout_ab.py` runs it): with national staff (b2)
14.74 / 13.78 s dense against 12.66 / 12.61 s with records (-11 %); with staff scaled with
the population (b) 21.23 / 22.02 s against 18.38 / 20.74 s (-10 %). By phase
(`benchmarks/profile_fast.py --density national`, days 150-179, alternated): the needs
(a need's choice and its order) 13.6 against 9.7 ms a day, the posts (which read the
membership fields of every member in index order, dense in both) unchanged, a whole day
43.1 against 38.3 ms. At 15,000,000 consumers (national_guides, measurement d) a run took
69.3 s against 72.8 s, at the same peak (2.37 GB against 2.37 GB, from a 0.2 GB base).
The membership record came later (`member_record`; before it those six fields were dense
arrays): in three alternated rounds of the same runs (process time of `run()`, the
engine's bytes unchanged) (b) took 18.55 / 18.84 / 18.37 s against 20.09 / 20.14 /
19.98 s (-8 %: a guide's message meets one line of them, not six) and (b2) 12.67 / 12.81
/ 12.70 s against 12.84 / 12.65 / 12.87 s (-1 %).

Tried and measured: the membership fields in the brand record too (the layout of earlier
versions, 64 bytes a record): posts 25.8 against 9.4 ms a day, a whole day slower; the
per-consumer traits in a 16-byte record of their own: 2-5 % slower than dense (a post
reads a member's tolerance and hunter flag, 16 or 64 to a dense line, 4 to a record's);
the private shop's habit in the record (32 bytes): memory from the start where dense pages
stay untouched until a private order, which raised measurement d's peak by 0.09 GB, past
its bound. Switching recompiles the kernels."""


def brand_records(nb: int, n: int, narrow: bool = False) -> dict[str, np.ndarray]:
    """The fields of BRAND_FIELDS as [nb, n] views of one zeroed block of `brand_record`s
    (consumer-major), no initial value written yet: the allocator's untouched zero pages
    until `consumer_state` writes the markers."""
    block = _aligned_block(brand_record(narrow), (n, nb))
    return {name: block[name].T for name, _, _ in BRAND_FIELDS}


def member_records(nb: int, n: int, narrow: bool = False) -> dict[str, np.ndarray]:
    """The fields of MEMBER_FIELDS as [nb, n] views of one zeroed block of `member_record`s
    (brand-major: one brand's members in index order, as a post reads them)."""
    block = _aligned_block(member_record(narrow), (nb, n))
    return {name: block[name] for name, _, _ in MEMBER_FIELDS}


def record_views(nb: int, n: int, narrow: bool = False) -> dict[str, np.ndarray]:
    """Every record field ([nb, n] views): `brand_records` and `member_records`."""
    return {**brand_records(nb, n, narrow), **member_records(nb, n, narrow)}


def consumer_state(
    nb: int,
    n: int,
    records: bool | None = None,
    unused: frozenset[str] = frozenset(),
    narrow: bool = False,
    views: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """World's per-consumer fields ([n]) and per consumer × brand fields ([nb, n]), each
    set to its initial value (CONSUMER_FIELDS, BRAND_FIELDS, MEMBER_FIELDS, DENSE_FIELDS);
    the caller writes the drawn traits in. With `records` (default RECORDS) the fields of
    BRAND_FIELDS and MEMBER_FIELDS are views of the records (`record_views`), else dense
    arrays. The
    dense arrays named in `unused` (fields of UNUSED_WHEN_OFF whose mechanism the run
    cannot use) get no consumers: [nb, 0]; with `narrow` (a run that `narrow_fits`) the
    fields of NARROW are int16, in the records as in the dense arrays. `views`: the
    records' fields as `brand_records` made them (drawn into already), to be given their
    initial values; made here when not given."""
    records = RECORDS if records is None else records
    out: dict[str, np.ndarray] = {}
    if records and views is None:
        views = record_views(nb, n, narrow)
    for name, dtype, fill in CONSUMER_FIELDS:
        out[name] = np.zeros(n, dtype=dtype)
        if fill:
            out[name][...] = fill
    for name, dtype, fill in BRAND_FIELDS + MEMBER_FIELDS:
        if records:
            out[name] = views[name]
        else:
            size = 0 if name in unused else n
            out[name] = np.zeros((nb, size), dtype=field_dtype(name, dtype, narrow))
        if fill:
            out[name][...] = fill
    for name, dtype, fill in DENSE_FIELDS:  # zeros: the allocator's zeroed pages, no pass
        size, dtype = 0 if name in unused else n, field_dtype(name, dtype, narrow)
        out[name] = np.full((nb, size), fill, dtype) if fill else np.zeros((nb, size), dtype)
    return out


def widened(world: dict[str, np.ndarray], records: bool | None = None) -> dict[str, np.ndarray]:
    """The arrays that replace `world`'s (the World's arrays by name) when the fields of
    NARROW become int32, every value kept (`FastModel._fit_narrow`): each dense field of
    NARROW copied as int32; with `records` (default RECORDS) every field of BRAND_FIELDS
    and MEMBER_FIELDS, in records made again with the wide `brand_record` and
    `member_record`, so that each group is views of one block again."""
    records = RECORDS if records is None else records
    in_record = {name for name, _, _ in BRAND_FIELDS + MEMBER_FIELDS} if records else set()
    out = {name: world[name].astype(np.int32) for name in NARROW if name not in in_record}
    if records:
        nb, n = world["funnel"].shape
        views = record_views(nb, n)
        for name in sorted(in_record):
            out[name] = views[name]
            out[name][...] = world[name]
    return out


class World(NamedTuple):
    """Agents as arrays. [n] per consumer; [nb, n] per brand × consumer; m_* is the
    consumer's membership of the brand's private domain (m_channel −1: not a member)."""

    # consumers
    need_rate: np.ndarray  # [n, ncat] f4, needs per day
    need_p: np.ndarray  # [n, ncat] f4, P(a need today)
    next_need: np.ndarray  # [n, ncat] i4, day of the next need; −1 untracked
    alpha: np.ndarray  # [n] f4 price sensitivity
    trust: np.ndarray  # [n] f4 platform trust
    tolerance: np.ndarray  # [n] f4 fatigue tolerance
    slots: np.ndarray  # [n] i1 attention slots
    hunter: np.ndarray  # [n] bool coupon hunter
    n_memb: np.ndarray  # [n] i1 memberships held
    home: np.ndarray  # [n] i1 home public platform (several platforms; 0 with one)
    birthday: np.ndarray  # [n] i2 day of the year, −1 not drawn ([0]: UNUSED_WHEN_OFF)
    # consumer × brand
    funnel: np.ndarray  # [nb, n] i1 state (sim.vocab.State)
    purchases: np.ndarray  # [nb, n] i4
    source: np.ndarray  # [nb, n] i1 customer source code, −1 none
    acquired: np.ndarray  # [nb, n] i4 acquisition day, NOT_ACQUIRED
    spend: np.ndarray  # [nb, n] f4 cumulative spend
    last_purchase: np.ndarray  # [nb, n] i4
    cohort_day: np.ndarray  # [nb, n] i2/i4 (NARROW) day the cohort began, NO_COHORT
    cohort_src: np.ndarray  # [nb, n] i1
    dropout: np.ndarray  # [nb, n] f4 BG/NBD p
    store_access: np.ndarray  # [nb, n] bool
    withheld: np.ndarray  # [nb, n] bool kept by its franchisee (channel conflict)
    annoyed: np.ndarray  # [nb, n] bool
    koc_reach: np.ndarray  # [nb, n] bool
    advocates: np.ndarray  # [nb, n] i2/i4 (NARROW) friends who are customers or members
    habit: np.ndarray  # [nb, n] f4 habit of ordering in the brand's own shop, as of habit_day
    habit_day: np.ndarray  # [nb, n] i2/i4 (NARROW) day the habit was last updated
    m_channel: np.ndarray  # [nb, n] i1 member channel code, −1 none
    m_joined: np.ndarray  # [nb, n] i2/i4 (NARROW) join stamp (day·16 + phase)
    m_eng: np.ndarray  # [nb, n] f4 engagement
    m_fat: np.ndarray  # [nb, n] f4 fatigue
    m_harv: np.ndarray  # [nb, n] f4 harvest feeling
    m_upd: np.ndarray  # [nb, n] i2/i4 (NARROW) day engagement and fatigue were last faded
    m_muted: np.ndarray  # [nb, n] bool
    m_reluct: np.ndarray  # [nb, n] bool
    m_guide: np.ndarray  # [nb, n] i2/i4 (NARROW) guide index, −1
    m_gpos: np.ndarray  # [nb, n] i2/i4 (NARROW) place in its guide's reachable list ([nb, 0]: none)
    m_refs: np.ndarray  # [nb, n] i4 successful referrals
    m_life: np.ndarray  # [nb, n] i4 day of the last lifecycle touch ([nb, 0]: UNUSED_WHEN_OFF)
    # network (CSR)
    indptr: np.ndarray  # [n + 1] i4 (i8 where twice the ties pass 2**31 − 1)
    indices: np.ndarray  # [2 · ties] i4
    # guides: members of guide g (reachable ones) are g_list[g_off[g] : g_off[g] + g_len[g]]
    g_brand: np.ndarray
    g_skill: np.ndarray
    g_n: np.ndarray  # all members (muted ones too: they take room)
    g_len: np.ndarray  # reachable members
    g_off: np.ndarray
    g_cap: np.ndarray
    g_list: np.ndarray
    g_scratch: np.ndarray  # [2, largest capacity] i8 a guide-day's picks and pool (or due keys)
    b_glo: np.ndarray  # [nb] guides of brand b are g_lo..g_hi−1
    b_ghi: np.ndarray
    b_full: np.ndarray  # [nb] guides without room
    # distributors: circle of d is d_idx[d_ptr[d] : d_ptr[d+1]]
    d_brand: np.ndarray
    d_kind: np.ndarray
    d_ptr: np.ndarray
    d_idx: np.ndarray
    # store catchments: c_idx[c_ptr[b] : c_ptr[b+1]]
    c_ptr: np.ndarray
    c_idx: np.ndarray
    # brand state
    adstock: np.ndarray  # [nb] f8
    budget_spent: np.ndarray  # [nb] f8 spend counted against the budget this year, to yesterday
    ad_spend: np.ndarray  # [nb] f8 today's ads, once the budget has allowed them
    pl_adstock: np.ndarray  # [nb, P] f8 adstock by platform (adstock is their sum)
    pl_words: np.ndarray  # [4] u8 scratch of a package card's ban draw (streams.order_uniform)
    fake_members: np.ndarray  # [nb] i8
    n_advocates: np.ndarray  # [nb] i8 customers + members
    n_koc_reach: np.ndarray  # [nb] i8 distinct consumers ever reached by distributors
    n_state: np.ndarray  # [nb, 5] i8 consumers in each funnel state
    n_ever: np.ndarray  # [nb] i8 consumers who ever bought
    n_repeat: np.ndarray  # [nb] i8 consumers who bought at least twice
    # private lifts public (ODD 7.21): the platform review stock the rating is built from,
    # and today's platform orders by review chance (sim.rules.REVIEW_REWARDED, REVIEW_OTHER)
    review_stock: np.ndarray  # [nb] f8
    review_orders: np.ndarray  # [nb, 2] i8
    scratch_i: np.ndarray  # [3, w] i8 buffers for the choice sets of on_need / buy_from
    scratch_f: np.ndarray  # [6, w] f8
    phase: np.ndarray  # [1] i8 the day's current phase (see kernels.PHASE_*)
    # raw event rows (sim.events), when the run records them: ev_n[0] rows are in use;
    # the kernels grow the buffers when full and the driver takes the rows between days
    ev_on: np.ndarray  # [1] bool record events
    ev_int: np.ndarray  # [cap, sim.events.WIDTH] i4
    ev_val: np.ndarray  # [cap] f8 an order's value
    ev_n: np.ndarray  # [1] i8 rows in use
    # order values and baskets (issue 12, item 5): each consumer's mean order value per
    # category sold, relative to the price ([n, ncat] f8; [0, ncat] when no category has
    # order_value_cv > 0), and what an order's own draw needs: the key words of its stream
    # (Phase.ORDER_VALUE), views of the day's Generator state memory (as FastModel._S[0],
    # _S[1]) and room to keep the stream it interrupts
    value_mean: np.ndarray
    value_key: np.ndarray  # [4] u8
    draw_words: np.ndarray  # [4] u8 view
    draw_flags: np.ndarray  # [4] u4 view
    draw_saved: np.ndarray  # [10] u8: state words 0-3, flags 4-5, new state 6-9
    # demand expansion (kernels.expand_demand): the need lift in force, and the consumers
    # whose lift may have changed today (dm_list[:dm_n[0]], flagged in dm_due)
    need_lift: np.ndarray  # [n, ncat] f4 rise of the need rate in force (0: none)
    dm_due: np.ndarray  # [n] bool listed for recomputation at the day's end
    dm_list: np.ndarray  # [n] i4 consumers listed
    dm_n: np.ndarray  # [1] i8 consumers listed
    dm_seen: np.ndarray  # [nb] f8 each brand's effective lift at the last recomputation
    # days that cost what happens in them (kernels.plan_days, set at the start of each
    # run_days call): the needs due in the days being stepped, listed by day, and each
    # brand's member stocks kept as they change, so that neither the needs step nor the
    # census scans the population every day. Outside run_days the window is empty and both
    # fall back to a scan.
    nq_meta: np.ndarray  # [3] i8 first day, end day (exclusive) of the window, chunks used
    nq_head: np.ndarray  # [days in window, 2] i8 each day's newest chunk (−1 none), keys listed
    nq: np.ndarray  # [chunks, 32] i8 31 keys i·ncat + cat of one day, its older chunk (−1)
    cs_n: np.ndarray  # [nb, 7] i8 members by channel (4), muted, engaged, active (see census)
    cs_stop: np.ndarray  # [2, nb, days in window] i8 engaged / active spans ending each day
    cs_meta: np.ndarray  # [5] i8 [0] first day whose ending spans the census has not yet
    # taken off, [1] end of the window (exclusive), [2] 1: the counts are kept; (checks)
    # [3] 1: the census also scans and writes the scan's counts, [4] brand-days on which
    # the kept counts differed from the scan


BRAND_TABLES: dict[str, str] = {
    "mix": "[nb, 3] f8 shares of content, service, selling touches (strategy.content_mix)",
    "tier_needed": "[nb, T] i8 referral counts of the reward tiers (strategy.referral_tiers)",
    "tier_reward": "[nb, T] f8 rewards of the reward tiers",
    "n_reward_tiers": "[nb] i8 reward tiers in use",
    "tier_spend": "[nb, K] f8 spend thresholds of the membership tiers (strategy.tier_spend)",
    "tier_discount": "[nb, K] f8 discounts of the membership tiers (strategy.tier_discount)",
    "n_spend_tiers": "[nb] i8 membership tiers in use",
    "category": "[nb] i8 index of the brand's category among the categories sold",
    "cat_brands": "[ncat, max brands per category] i8 brands of each category, -1 padded",
    "cat_nbrands": "[ncat] i8 brands in each category",
    "ad_split": "[nb, P] f8 share of the ad budget on each platform (params.ad_split)",
    "segment_mix": "[nb, 4, 3] f8 mix of each lifecycle segment's touches (strategy."
    "segment_mix; lifecycle operations)",
}
"""The per-brand arrays written by hand (`FastModel._brands`): tables and indices that are
not one scalar field of a parameter model."""

Brands = NamedTuple(
    "Brands",
    [(f.name, np.ndarray) for f in PER_BRAND_FIELDS]
    + [(name, np.ndarray) for name in BRAND_TABLES],
)
Brands.__doc__ = """Per brand (index b): one [nb] array for each scalar field of its strategy
(its levers, rewritten when an adaptive brand adopts another strategy), of its brand
parameters and of its category, under the field's own name (`sim.fast.bridge`), then the
tables of BRAND_TABLES."""

GLOBAL_SPECIALS: dict[str, str] = {
    "n": "consumers (run.consumers)",
    "days": "horizon (run.days)",
    "mixing": "the network is random mixing (no ties)",
    "discount_factor": "daily discount factor (market.discount_rate_per_year)",
    "fatigue_pow": "(1 - fatigue_decay)^d for d = 0..days+1",
    "engagement_pow": "(1 - engagement_decay)^d for d = 0..days+1",
    "fatigue_touch": "[3] fatigue added by a touch, by touch kind (touches.fatigue_*)",
    "pl_base_cpm": "[P] base CPM of each public platform (params.platform_terms)",
    "pl_cpm_growth": "[P] its cpm_growth_per_year",
    "pl_elasticity": "[P] its cpm_demand_elasticity",
    "pl_reference": "[P] its reference_ad_demand",
    "pl_take_rate": "[P] its take_rate",
    "pl_protection": "[P] its buyer_protection",
    "pl_feed": "[P] bool: its discovery is a content feed",
    "pl_feed_boost": "[P] its feed_boost",
    "pl_ban_risk": "[P] its ban_risk",
    "pl_shoppers": "[P] i8 consumers whose home platform it is",
    "ban_key": "[4] u8 key words of the ban draws' daily stream (Phase.PLATFORM_BAN)",
    "start_day_of_year": "calendar day of day 0 (calendar.start_day_of_year)",
    "fest_first": "[F] i8 first day of year of each festival window (calendar.festivals)",
    "fest_last": "[F] i8 last day of year of each festival window",
    "fest_mult": "[3, F] f8 CPM, demand and interaction multipliers of each festival",
    "festival_today": "[4] f8 today's calendar row (sim.calendar.day_row), set each day",
}
"""The globals computed by hand (`FastModel._globals`)."""

Globals = NamedTuple(
    "Globals",
    [(name, Any) for name in GLOBAL_SPECIALS] + [(f.name, Any) for f in GLOBAL_FIELDS],
)
Globals.__doc__ = """Scenario constants the kernels read: GLOBAL_SPECIALS, then every scalar
field of the population, touch effects and platform, under its own name."""


# ---- the StructRef forms the kernels receive (same fields, passed by reference)
class _StructType(types.StructRef):
    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)

    @property
    def mangling_args(self):
        """The type in compiled symbol names: its class and a digest of its fields. (The
        name lists every field with its type; each kernel's symbol would repeat it for
        every struct it takes, tens of kilobytes a symbol to parse, link and cache.)"""
        digest = hashlib.sha256(self.name.encode()).hexdigest()[:20]
        return f"{type(self).__name__}_{digest}", ()


@structref.register
class WorldType(_StructType):
    pass


@structref.register
class BrandsType(_StructType):
    pass


@structref.register
class GlobalsType(_StructType):
    pass


class WorldRef(structref.StructRefProxy):
    pass


class BrandsRef(structref.StructRefProxy):
    pass


class GlobalsRef(structref.StructRefProxy):
    pass


structref.define_proxy(WorldRef, WorldType, list(World._fields))
structref.define_proxy(BrandsRef, BrandsType, list(Brands._fields))
structref.define_proxy(GlobalsRef, GlobalsType, list(Globals._fields))


def _struct_from_tuple(struct_typeclass: type[_StructType], fields: tuple[str, ...]):
    """An intrinsic that makes a struct of `struct_typeclass` from a layout tuple of its
    fields, in one step: the payload allocated (zeroed, with the destructor that releases
    every field), each field stored from the tuple and its reference taken.

    It makes the struct StructRefProxy's constructor (`WorldRef(*t)`) made, without
    that constructor: a function of one argument per field (86 to 94) that stores them
    one attribute at a time, which the three structs took about 1.5 s to compile in a
    fresh install's first run (`benchmarks/first_run.py`)."""

    @intrinsic
    def make(typingctx, tup):
        if not isinstance(tup, types.BaseTuple) or len(tup) != len(fields):
            return None
        inst_type = struct_typeclass(list(zip(fields, tup.types, strict=True)))

        def codegen(context, builder, signature, args):
            new_struct = structref.new._defn(typingctx, types.TypeRef(inst_type))[1]
            value = new_struct(context, builder, inst_type(types.TypeRef(inst_type)), [None])
            data = structref._Utils(context, builder, inst_type).get_data_struct(value)
            for k, (name, typ) in enumerate(inst_type.field_dict.items()):
                member = builder.extract_value(args[0], k)
                context.nrt.incref(builder, typ, member)  # the struct's own reference
                setattr(data, name, member)
            return value

        return inst_type(tup), codegen

    return make


_new_world = _struct_from_tuple(WorldType, World._fields)
_new_brands = _struct_from_tuple(BrandsType, Brands._fields)
_new_globals = _struct_from_tuple(GlobalsType, Globals._fields)


# cached entry points (StructRefProxy's own constructor would compile afresh in every process)
@njit(cache=True)
def _world_ref(t):
    return _new_world(t)


@njit(cache=True)
def _brands_ref(t):
    return _new_brands(t)


@njit(cache=True)
def _globals_ref(t):
    return _new_globals(t)


_MAKERS = {World: _world_ref, Brands: _brands_ref, Globals: _globals_ref}


_TYPES = {World: WorldType, Brands: BrandsType, Globals: GlobalsType}


def struct_type(group: World | Brands | Globals) -> types.StructRef:
    """The type of `as_struct(group)`, known without making the struct (which compiles its
    maker on a cold cache)."""
    return _TYPES[type(group)](list(zip(group._fields, map(typeof, group), strict=True)))


def as_struct(group: World | Brands | Globals):
    """The StructRef holding the same arrays (and scalars) as a layout tuple."""
    return _MAKERS[type(group)](group)
