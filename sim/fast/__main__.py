"""`python -m sim.fast`: compile the fast engine now (about a minute, once per install and
code version; later runs load the compiled code from the cache in a second or two)."""

from __future__ import annotations

import time


def main() -> None:
    from sim.fast import FastModel
    from sim.params import Scenario

    t0 = time.perf_counter()
    sc = Scenario.model_validate({"run": {"days": 2, "consumers": 50}})
    FastModel(sc, 0).run()
    print(f"fast engine ready ({time.perf_counter() - t0:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
