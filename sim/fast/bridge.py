"""The one bridge from a scenario to the fast engine's arrays.

Every scalar field of the parameter models becomes a per-brand array (`StrategyParams`,
`BrandParams`, `CategoryParams`) or a global (`PopulationParams`, `TouchEffects`,
`PlatformParams`) under the scenario's own name, so `grep ad_budget_per_day` finds the
scenario key, the array and every kernel that reads it. The field lists are read from the
pydantic models when this module is imported (Numba needs them to type the kernels).

- a number (`float`) becomes float64, a count (`int`) int64 and a flag (`bool`) a bool;
- a text choice (a ``Literal[...]`` field: `channel_policy`, `guide_regime`, ...) becomes
  an int64 code, its position among the options, and an `IntEnum` generated from the same
  Literal names the codes (`ChannelPolicy.ASSIST`). A third option gets a code of its
  own: it can never read as one of the others.

Fields of other kinds (the content mix, tier lists, the category's name) are not
scalars: `sim.fast.engine` writes their arrays by hand, as `sim.fast.layout` declares.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Literal, get_args, get_origin

import numpy as np
from pydantic import BaseModel

from sim.params import (
    BrandParams,
    CategoryParams,
    PlatformParams,
    PopulationParams,
    StrategyParams,
    TouchEffects,
)
from sim.vocab import MEMBER_CHANNELS, TOUCH_KINDS, words


def option_enum(field: str, options: tuple[str, ...]) -> type[IntEnum]:
    """An IntEnum naming the codes of a text choice: member OPTION (upper case) has the
    option's position as its value; its class name is the field's in CamelCase."""
    name = "".join(part.capitalize() for part in field.split("_"))
    return IntEnum(
        name, {o.upper(): k for k, o in enumerate(options)}, module=__name__, qualname=name
    )


@dataclass(frozen=True)
class ScalarField:
    """One scalar parameter field as the fast engine holds it."""

    name: str
    dtype: type
    """numpy scalar type of its per-brand array (float64, int64 or bool_)."""
    codes: type[IntEnum] | None = None
    """For a text choice: the codes of its options (value = code); None otherwise."""

    def encode(self, value: Any) -> Any:
        """The value as the arrays hold it: a text choice's code, else the value itself
        (converted to the field's Python type, as a global)."""
        if self.codes is not None:
            return int(self.codes[value.upper()])
        return {np.float64: float, np.int64: int, np.bool_: bool}[self.dtype](value)


def scalar_fields(model: type[BaseModel]) -> tuple[ScalarField, ...]:
    """The scalar fields of a parameter model, in declaration order: numbers, counts,
    flags and text choices (Literal). Other fields (nested models, lists, free text) are
    left out."""
    out = []
    for name, info in model.model_fields.items():
        ann = info.annotation
        if get_origin(ann) is Literal:
            out.append(ScalarField(name, np.int64, option_enum(name, get_args(ann))))
        elif ann is bool:
            out.append(ScalarField(name, np.bool_))
        elif ann is int:
            out.append(ScalarField(name, np.int64))
        elif ann is float:
            out.append(ScalarField(name, np.float64))
    return tuple(out)


def check_distinct(*groups: tuple[ScalarField, ...]) -> None:
    """Refuse field lists that would bridge two parameters under one array name."""
    names = [f.name for group in groups for f in group]
    clash = sorted({n for n in names if names.count(n) > 1})
    if clash:
        raise TypeError(f"parameter fields bridged twice under one name: {clash}")


STRATEGY_FIELDS = scalar_fields(StrategyParams)
"""A brand's levers (change when an adaptive brand adopts another strategy)."""
BRAND_FIELDS = scalar_fields(BrandParams)
"""A brand's fixed traits."""
CATEGORY_FIELDS = scalar_fields(CategoryParams)
"""The traits of a brand's category, per brand."""
POPULATION_FIELDS = scalar_fields(PopulationParams)
TOUCH_FIELDS = scalar_fields(TouchEffects)
PLATFORM_FIELDS = scalar_fields(PlatformParams)

PER_BRAND_FIELDS = STRATEGY_FIELDS + BRAND_FIELDS + CATEGORY_FIELDS
"""Every generated per-brand array, in `layout.Brands` order."""
GLOBAL_FIELDS = POPULATION_FIELDS + TOUCH_FIELDS + PLATFORM_FIELDS
"""Every generated global, in `layout.Globals` order."""
check_distinct(PER_BRAND_FIELDS)
check_distinct(GLOBAL_FIELDS)

CODES: dict[str, type[IntEnum]] = {
    f.name: f.codes for f in PER_BRAND_FIELDS + GLOBAL_FIELDS if f.codes is not None
}
"""The codes of every text choice, by field name."""

ChannelPolicy = CODES["channel_policy"]
"""`StrategyParams.channel_policy`: SEPARATE, ASSIST."""
GuideRegime = CODES["guide_regime"]
"""`StrategyParams.guide_regime`: QUALITY, QUOTA."""
PackageCardChannel = CODES["package_card_channel"]
"""`StrategyParams.package_card_channel`: its codes are member-channel codes."""
KocKind = CODES["koc_kind"]
"""`StrategyParams.koc_kind`: KOC, SMALL_B."""
PrivateSalesKpi = CODES["private_sales_kpi"]
"""`StrategyParams.private_sales_kpi`: SHARED, SEPARATE."""
FestivalBroadcast = CODES["festival_broadcast"]
"""`StrategyParams.festival_broadcast` (the calendar): its codes are touch kinds, then NONE."""
TouchTargeting = CODES["touch_targeting"]
"""`StrategyParams.touch_targeting`: RANDOM, LIFECYCLE (lifecycle operations)."""

if words(PackageCardChannel) != MEMBER_CHANNELS:
    raise TypeError(
        "StrategyParams.package_card_channel must list the member channels in "
        f"sim.vocab.MemberChannel order {MEMBER_CHANNELS}, got {words(PackageCardChannel)}"
    )

if words(FestivalBroadcast)[: len(TOUCH_KINDS)] != TOUCH_KINDS:
    raise TypeError(
        "StrategyParams.festival_broadcast must list the touch kinds in sim.vocab.Touch "
        f"order {TOUCH_KINDS} before 'none', got {words(FestivalBroadcast)}"
    )


def write_fields(arrays: Any, b: int, fields: tuple[ScalarField, ...], params: BaseModel) -> None:
    """Write a parameter table's scalar fields into entry b of the same-named arrays."""
    for f in fields:
        getattr(arrays, f.name)[b] = f.encode(getattr(params, f.name))


def field_values(fields: tuple[ScalarField, ...], params: BaseModel) -> dict[str, Any]:
    """A parameter table's scalar fields as globals: {name: encoded value}."""
    return {f.name: f.encode(getattr(params, f.name)) for f in fields}
