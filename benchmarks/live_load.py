"""The live page's load test (sim.workshop.load): N markets played at once, each followed by
a screen; prints days per second per session, bytes and milliseconds per view.

    python benchmarks/live_load.py [--sessions 30] [--seconds 20] [--consumers 600]
"""

from __future__ import annotations

import argparse

from sim.workshop.load import load_test

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--consumers", type=int, default=None)
    ap.add_argument("--engine", default="fast")
    a = ap.parse_args()
    print(load_test(a.sessions, a.seconds, consumers=a.consumers, engine=a.engine).line())
