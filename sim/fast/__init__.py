"""The fast engine: the same market model as `sim.model` (the Mesa reference engine), with
consumers, guides and distributors held as arrays (one row per agent, compact dtypes) and
stepped by Numba-compiled kernels that call the very same formulas in `sim.rules`.

`FastModel(scenario, rng).run()` fills a `sim.ledger.Ledger` with the same schema as the
reference engine; `sim.runner.run(..., engine="fast")` is the usual way in. How its update
order differs from the reference engine, and why that does not matter, is in docs/ODD.md
(section 'The two engines'); tests/docking checks that both engines give the same
distributions of every headline KPI.
"""

from sim.fast.engine import FastModel

__all__ = ["FastModel"]
