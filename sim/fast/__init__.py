"""The fast engine: the same market model as `sim.model` (the Mesa reference engine), with
consumers, guides and distributors held as arrays (one row per agent, compact dtypes) and
stepped by Numba-compiled kernels that call the very same formulas in `sim.rules`.

`FastModel(scenario, rng).run()` fills a `sim.ledger.Ledger` with the same schema as the
reference engine; `sim.runner.run(..., engine="fast")` is the usual way in. How its update
order differs from the reference engine, and why that does not matter, is in docs/ODD.md
(section 'The two engines'); tests/docking checks that both engines give the same
distributions of every headline KPI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.fast.engine import FastModel


def __getattr__(name: str) -> Any:
    """`FastModel`, loaded on first use (PEP 562): importing a light module of this package
    (`sim.fast.early`, which the `siyu` program imports first) loads no NumPy or Numba."""
    if name != "FastModel":
        raise AttributeError(f"module 'sim.fast' has no attribute {name!r}")
    from sim.fast.engine import FastModel

    globals()["FastModel"] = FastModel
    return FastModel


__all__ = ["FastModel"]
