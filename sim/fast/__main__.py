"""`python -m sim.fast`: compile the fast engine now (once per install and code version;
later runs load the compiled code from the cache in a second or two): the day
(`kernels.run_days` and the set-up entries), which a first run would otherwise compile,
and the single-event entry point the engine contract uses (`events.apply_event`), which
no run needs. Each entry point is compiled with every helper it calls linked in
(`sim.fast.jit.helper`)."""

from __future__ import annotations

import time


def main() -> None:
    import numpy as np

    from sim.fast import FastModel
    from sim.fast.events import Event
    from sim.params import Scenario

    t0 = time.perf_counter()
    sc = Scenario.model_validate({"run": {"days": 2, "consumers": 50}})
    model = FastModel(sc, 0)
    model.apply_event(Event.LAPSE, 0, 0, np.zeros(4, dtype=np.int64), np.zeros(2), 0)
    model = FastModel(sc, 0)
    model.run()
    print(f"fast engine ready ({time.perf_counter() - t0:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
