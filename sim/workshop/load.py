"""The live page's load test: many markets played at once in one process, as the app's
server holds them (`sim.workshop.live.Session`), each followed by a screen that takes every
view its market offers — the KPI panel and network state each tick, the plots when a
30-day window completes — measured as simulated days per second per session, bytes a
screen is sent per tick and milliseconds the server spends per view.

What it measures is the server's side: stepping (market and twin), computing the views and
their size as JSON (what Solara sends is the changed values of a page's widgets, about
this size). It does not run browsers or the websocket; the browser tests
(tests/test_workshop_live_browser.py) drive real pages.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from dataclasses import dataclass

from sim.workshop import live as lv

POLL_S = 0.2
"""seconds: how often a screen looks for a new tick (as the app's pages do)."""


@dataclass(frozen=True)
class LoadResult:
    """What a load test measured."""

    sessions: int
    seconds: float
    consumers: int
    days: list[int]
    """Days each session advanced."""
    ticks: int
    """Views taken by all screens together."""
    bytes_per_tick: float
    """Mean bytes of a view a screen is sent (plots counted in the tick they changed)."""
    static_bytes: int
    """Bytes a screen is sent once per market (positions and edges)."""
    view_ms: float
    """Mean milliseconds the server spent on one view (KPIs, network, plots when due)."""

    @property
    def days_per_second(self) -> list[float]:
        return [d / self.seconds for d in self.days]

    def line(self) -> str:
        rates = self.days_per_second
        return (
            f"{self.sessions} sessions x {self.consumers} consumers for {self.seconds:.0f} s: "
            f"{min(rates):.1f} to {max(rates):.1f} days/s per session "
            f"(median {statistics.median(rates):.1f}); {self.bytes_per_tick / 1000:.1f} kB "
            f"and {self.view_ms:.1f} ms per view; {self.static_bytes / 1000:.0f} kB once"
        )


def screen(session: lv.Session, stop: threading.Event, out: list) -> None:
    """Follow a session as a page does: on each new version take the view (and the plots),
    record (bytes, seconds)."""
    seen, plots = -1, None
    while not stop.wait(POLL_S):
        if session.version == seen:
            continue
        start = time.perf_counter()
        view = session.view()
        seen = view["version"]
        sent = len(json.dumps(view))
        now = session.plots()
        if now is not plots:
            plots = now
            sent += len(json.dumps(now))
        out.append((sent, time.perf_counter() - start))


def load_test(
    sessions: int = 30,
    seconds: float = 10.0,
    scenario: str = "beauty_guides",
    consumers: int | None = None,
    engine: str = lv.LIVE_ENGINE,
) -> LoadResult:
    """Play `sessions` markets of `scenario` at once for `seconds`, each with a screen.

    Each market first plays one tick before the clock starts, so the fast engine's compiled
    day is loaded (or, on a cold cache, compiled) first: what is timed is a warm server, as
    a workshop's is once its first page has played, not one compile shared by all."""
    sc = lv.live_scenario(scenario, consumers)
    held = [lv.Session(str(k), lv.Live(sc, seed=1 + k, engine=engine)) for k in range(sessions)]
    for s in held:
        s.step()
    static = len(json.dumps(held[0].static()))
    stop = threading.Event()
    records: list[list] = [[] for _ in held]
    threads = [
        threading.Thread(target=screen, args=(s, stop, r), daemon=True)
        for s, r in zip(held, records, strict=True)
    ]
    for t in threads:
        t.start()
    start_days = [s.live.day for s in held]
    for s in held:
        s.play(True)
    time.sleep(seconds)
    for s in held:
        s.play(False)
    days = [s.live.day - d for s, d in zip(held, start_days, strict=True)]
    stop.set()
    for t in threads:
        t.join()
    flat = [r for rs in records for r in rs]
    return LoadResult(
        sessions=sessions,
        seconds=seconds,
        consumers=sc.run.consumers,
        days=days,
        ticks=len(flat),
        bytes_per_tick=statistics.fmean(b for b, _ in flat) if flat else 0.0,
        static_bytes=static,
        view_ms=1000 * statistics.fmean(t for _, t in flat) if flat else 0.0,
    )
