"""Benchmark of the fast engine: against the reference engine, and at national scale.

    python benchmarks/bench_fast.py                # every measurement (~6 min on 2 cores)
    python benchmarks/bench_fast.py --skip-15m     # all but the 15-million-consumer year
    python benchmarks/bench_fast.py --quick        # small sizes, ~1 min: checks the set-up
    python benchmarks/bench_fast.py --quick --engine agents   # the same without the fast engine

Measured in one invocation, each in its own fresh subprocess (so peak memory is per
measurement, and a crash, an out-of-memory kill or a timeout is reported, not fatal):

 (a) the fast engine against the reference on the same scenario: `beauty_guides` at
     10,000 consumers for a year (365 days), median wall time of `--repeats` runs (seeds 1..n) on
     each engine after one warm-up run at a tiny size (JIT compilation excluded, reported
     apart); consumer-days per second of each and their ratio;
 (b) consumer-days per second of the fast engine at 1,000,000 consumers and 3 brands for
     365 days: `scenarios/bench_three_brands.toml`, every mechanism on, scaled up from its
     shipped 1,500 consumers (see `scaled_overrides`) twice: with its staff (stores, hence
     guides, KOCs, employee distributors) scaled with the population — a stress test, one
     guide per ~170 consumers — and (b2) with staff at the national case's density (one
     store per 15M / 3,600 consumers, as Bosideng);
 (c) peak memory per consumer of (b): peak RSS of the run (VmHWM, reset after the warm-up
     where the kernel allows) minus the RSS of the interpreter with the package imported
     and compiled, divided by the consumers;
 (d) time and peak memory of a 365-day run at 15,000,000 consumers with 9,000 guides:
     `scenarios/national_guides.toml` (3,600 stores x 2.5 guides), scaled up from its
     shipped 2,000 consumers.

The final table puts the targets beside the figures: (a) fast >= 50x the reference at 10k
consumers; (b) >= 20M consumer-days/s at 1M consumers and 3 brands; (d) 15M x 365 days in
< 10 min (the whole subprocess: start-up, compilation and the run) and < 8 GB peak RSS.
With `--quick` (or other sizes) the figures are shown but not judged against the targets.
Figures are from one machine; compare ratios, not absolute numbers, across machines. The
benchmark is never part of the test suite (tests/test_bench_fast.py only checks its
plumbing at a tiny size).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

TARGET_SPEEDUP = 50.0
TARGET_CDPS = 20e6
TARGET_15M_SECONDS = 600.0
TARGET_15M_BYTES = 8e9

FULL = {
    "ab": ("beauty_guides", 10_000, 365),
    "big": ("bench_three_brands", 1_000_000, 365),
    "national": ("national_guides", 15_000_000, 365),
}
QUICK = {
    "ab": ("beauty_guides", 2_000, 60),
    "big": ("bench_three_brands", 100_000, 30),
    "national": ("national_guides", 200_000, 30),
}
WARMUP = {"run.consumers": 300, "run.days": 5}
"""A tiny run of the shipped scenario first in every subprocess: JIT compilation and
first-call costs, timed apart (`warmup_seconds`)."""


@dataclass
class Spec:
    """One measurement, run by a fresh subprocess (`--child`)."""

    label: str
    scenario: str
    engine: str
    overrides: dict[str, Any]
    repeats: int = 1
    seed: int = 1
    warmup: bool = True
    progress: bool = True


@dataclass
class Result:
    """What a measurement gives back (`error` set when it crashed or timed out)."""

    label: str
    engine: str
    consumers: int
    days: int
    seconds: list[float] = field(default_factory=list)
    warmup_seconds: float = 0.0
    wall_seconds: float = 0.0  # the whole subprocess: start-up, imports, warm-up, runs
    baseline_rss: int = 0
    peak_rss: int = 0
    peak_reset: bool = False
    gmv: float = 0.0
    members: float = 0.0
    error: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float("nan")

    @property
    def consumer_days_per_s(self) -> float:
        return self.consumers * self.days / self.median if self.seconds else float("nan")

    @property
    def bytes_per_consumer(self) -> float:
        if not self.peak_rss:
            return float("nan")
        return max(self.peak_rss - self.baseline_rss, 0) / self.consumers


# ---------------------------------------------------------------------------- scenarios
def scaled_overrides(name: str, consumers: int, days: int, scale_counts: bool | float) -> dict:
    """Overrides that run a shipped scenario at `consumers` with the same market per
    consumer: store visits, ad budgets (and the platform's reference ad demand, so the CPM
    is unchanged) and tooling grow with the population; with `scale_counts`, so do stores
    (hence guides), KOCs and employee distributors. Without it those stay as in the file
    (national_guides: 3,600 stores and 9,000 guides are the real counts); a number instead
    of True scales those counts by that factor instead of the population's."""
    from sim.scenario import load_scenario

    sc = load_scenario(name)
    f = consumers / sc.run.consumers
    out: dict[str, Any] = {
        "run.consumers": consumers,
        "run.days": days,
        "platform.reference_ad_demand": sc.platform.reference_ad_demand * f,
    }
    for b, bp in sc.brands.items():
        st = bp.strategy
        out[f"brands.{b}.store_visits_per_day"] = bp.store_visits_per_day * f
        out[f"brands.{b}.strategy.ad_budget_per_day"] = st.ad_budget_per_day * f
        out[f"brands.{b}.strategy.tooling_per_day"] = st.tooling_per_day * f
        if scale_counts:
            g = f if scale_counts is True else float(scale_counts)
            out[f"brands.{b}.stores"] = max(round(bp.stores * g), min(bp.stores, 1))
            out[f"brands.{b}.strategy.koc_count"] = round(st.koc_count * g)
            out[f"brands.{b}.strategy.employee_distributors"] = round(st.employee_distributors * g)
    return out


def national_density(name: str, consumers: int) -> float:
    """The factor that gives scenario `name` at `consumers` as many consumers per store as
    the national case (national_guides: 3,600 stores for 15,000,000 consumers)."""
    from sim.scenario import load_scenario

    stores = sum(bp.stores for bp in load_scenario(name).brands.values())
    nat = load_scenario("national_guides").brands["bosideng"].stores
    return consumers / (15_000_000 / nat) / max(stores, 1)


# ---------------------------------------------------------------------------- the child
def status_bytes(key: str) -> int:
    """VmRSS / VmHWM of this process in bytes (0 where /proc is not available)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0: write 5 to clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _maxrss_bytes() -> int:
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


def run_measurement(spec: Spec, echo=None) -> Result:
    """Run a measurement in this process (the subprocess calls this): optional warm-up,
    baseline RSS, then `repeats` timed runs; peak RSS from VmHWM (or ru_maxrss)."""
    t_start = time.perf_counter()
    from sim.runner import run
    from sim.scenario import load_scenario

    sc = load_scenario(spec.scenario, spec.overrides)
    days, consumers = sc.run.days, sc.run.consumers
    res = Result(spec.label, spec.engine, consumers, days)
    if spec.warmup:
        t0 = time.perf_counter()
        run(load_scenario(spec.scenario, WARMUP), 0, engine=spec.engine)  # the shipped file
        res.warmup_seconds = time.perf_counter() - t0
    res.baseline_rss = status_bytes("VmRSS")
    res.peak_reset = reset_peak()
    step = max(days // 10, 1)
    for k in range(spec.repeats):
        t0 = time.perf_counter()
        last = [t0]

        def progress(day: int, t0: float = t0, k: int = k, last: list = last) -> None:
            # a line at each tenth of the run, at most one every 5 s (and the last day)
            now = time.perf_counter()
            if echo is None or not (day == days or (day % step == 0 and now - last[0] > 5)):
                return
            last[0] = now
            echo(
                f"    {spec.label} · {spec.engine} · run {k + 1}/{spec.repeats} · "
                f"day {day}/{days} · {now - t0:.0f} s"
            )

        result = run(sc, spec.seed + k, engine=spec.engine, progress=progress)
        res.seconds.append(time.perf_counter() - t0)
        market = result.summary["kpis"]["market"]
        res.gmv, res.members = float(market["gmv"]), float(market["members"])
        del result
    res.peak_rss = status_bytes("VmHWM") if res.peak_reset else 0
    if not res.peak_rss:  # no /proc, or no reset: the process's lifetime peak
        res.peak_rss = max(status_bytes("VmHWM"), _maxrss_bytes())
    res.wall_seconds = time.perf_counter() - t_start
    return res


def _child(payload: str) -> None:
    spec = Spec(**json.loads(payload))
    res = run_measurement(spec, echo=lambda line: print(line, file=sys.stderr, flush=True))
    print("RESULT " + json.dumps(asdict(res)), flush=True)


# ---------------------------------------------------------------------------- the parent
def measure(spec: Spec, timeout: float, echo=print) -> Result:
    """Run one measurement in a fresh subprocess, streaming its progress lines; a crash,
    an out-of-memory kill or a timeout gives a Result with `error` set."""
    sc_days = spec.overrides.get("run.days", 0)
    sc_consumers = spec.overrides.get("run.consumers", 0)
    echo(
        f"[{spec.label}] {spec.engine} · {spec.scenario} · {sc_consumers:,} consumers × "
        f"{sc_days} days · {spec.repeats} run(s)"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(asdict(spec))]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        proc.kill()

    timer = threading.Timer(timeout, kill)
    timer.start()
    payload, tail = None, []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            if line.startswith("RESULT "):
                payload = json.loads(line[len("RESULT ") :])
            else:
                tail = [*tail[-19:], line]
                echo(line)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    except BaseException:
        proc.kill()
        raise
    finally:
        timer.cancel()
    wall = time.perf_counter() - t0
    peak_child = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    if payload is not None and proc.returncode == 0:
        res = Result(**{k: v for k, v in payload.items() if k in Result.__dataclass_fields__})
        res.wall_seconds = wall
        if not res.peak_rss:
            res.peak_rss = peak_child
        return res
    res = Result(spec.label, spec.engine, sc_consumers, sc_days, wall_seconds=wall)
    res.peak_rss = peak_child
    if timed_out.is_set():
        res.error = f"timed out after {timeout:.0f} s"
    elif proc.returncode == -9:
        res.error = "killed (SIGKILL: out of memory?)"
    else:
        last = next((x for x in reversed(tail) if x.strip()), "")
        res.error = f"exit code {proc.returncode}: {last[-200:]}"
    echo(f"[{spec.label}] FAILED: {res.error}")
    return res


# ---------------------------------------------------------------------------- reporting
def _gb(x: float) -> str:
    return f"{x / 1e9:.2f} GB"


def _fmt_rate(x: float) -> str:
    return "–" if x != x else f"{x / 1e6:.2f}M" if x >= 1e6 else f"{x:,.0f}"


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("yes" if ok else "NO")


def summary_rows(results: dict[str, Result], judged: bool) -> list[tuple[str, str, str, str]]:
    """(measurement, figure, target, met) rows for the final table; `met` is "n/a" when
    the sizes are not the targets' sizes."""
    rows: list[tuple[str, str, str, str]] = []

    def add(what: str, figure: str, target: str = "", ok: bool | None = None) -> None:
        met = "" if not target or target == "(reported)" else _verdict(ok if judged else None)
        rows.append((what, figure, target, met))

    ref, cand = results.get("a-ref"), results.get("a-cand")
    speedup = f">= {TARGET_SPEEDUP:.0f}x"
    if ref is not None and cand is not None:
        sfx = f"{cand.consumers:,} consumers x {cand.days} d"
        if ref.error or cand.error:
            add(f"(a) speed-up at {sfx}", f"failed: {ref.error or cand.error}", speedup, False)
        else:
            ratio = cand.consumer_days_per_s / ref.consumer_days_per_s
            add(f"(a) {ref.engine} consumer-days/s, {sfx}", _fmt_rate(ref.consumer_days_per_s))
            add(f"(a) {cand.engine} consumer-days/s, {sfx}", _fmt_rate(cand.consumer_days_per_s))
            add(f"(a) speed-up {cand.engine} / {ref.engine}", f"{ratio:.1f}x", speedup,
                ratio >= TARGET_SPEEDUP)  # fmt: skip
    rate = f">= {TARGET_CDPS / 1e6:.0f}M"
    for key, what in (("b", "3 brands"), ("b2", "3 brands, national staff density")):
        res = results.get(key)
        if res is None:
            continue
        sfx = f"{res.consumers:,} consumers x {res.days} d, {what}"
        if res.error:
            add(f"({key}) consumer-days/s, {sfx}", f"failed: {res.error}", rate, False)
            continue
        cdps = res.consumer_days_per_s
        add(f"({key}) {res.engine} consumer-days/s, {sfx}", _fmt_rate(cdps), rate,
            cdps >= TARGET_CDPS)  # fmt: skip
        if key == "b":
            per = f"{res.bytes_per_consumer:,.0f} B (peak {_gb(res.peak_rss)})"
            add(f"(c) peak memory per consumer, {sfx}", per, "(reported)")
    nat = results.get("d")
    minutes = f"< {TARGET_15M_SECONDS / 60:.0f} min"
    memory = f"< {TARGET_15M_BYTES / 1e9:.0f} GB"
    if nat is not None:
        sfx = f"{nat.consumers:,} consumers x {nat.days} d, 9,000 guides"
        if nat.error:
            both = f"{minutes}, {memory}"
            add(f"(d) time and memory, {sfx}", f"failed: {nat.error}", both, False)
        else:
            took = f"{nat.wall_seconds / 60:.1f} min (run {nat.median / 60:.1f} min)"
            add(f"(d) time, {sfx}", took, minutes, nat.wall_seconds < TARGET_15M_SECONDS)
            used = f"{_gb(nat.peak_rss)} ({nat.bytes_per_consumer:,.0f} B/consumer)"
            add(f"(d) peak memory, {sfx}", used, memory, nat.peak_rss < TARGET_15M_BYTES)
    return rows


def format_table(rows: list[tuple[str, str, str, str]]) -> str:
    head = ("measurement", "figure", "target", "met")
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(head)]  # fmt: skip
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [line.format(*head), line.format(*("-" * w for w in widths))]
    return "\n".join(out + [line.format(*r) for r in rows])


def _detail(res: Result) -> str:
    if res.error:
        return f"  {res.label} {res.engine}: FAILED ({res.error})"
    runs = ", ".join(f"{s:.2f}" for s in res.seconds)
    return (
        f"  {res.label} {res.engine}: {res.consumers:,} × {res.days} d · runs [{runs}] s · "
        f"median {res.median:.2f} s · {_fmt_rate(res.consumer_days_per_s)} consumer-days/s · "
        f"warm-up {res.warmup_seconds:.1f} s · subprocess {res.wall_seconds:.1f} s · "
        f"peak {_gb(res.peak_rss)} (baseline {_gb(res.baseline_rss)}"
        f"{'' if res.peak_reset else ', peak not reset after warm-up'}) · "
        f"GMV {res.gmv:,.0f} · members {res.members:,.0f}"
    )


# ---------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawTextHelpFormatter
    )
    ap.add_argument("--engine", default="fast", help="engine measured (default fast)")
    ap.add_argument("--reference", default="agents", help="reference engine for (a)")
    ap.add_argument("--quick", action="store_true", help="small sizes, targets not judged")
    ap.add_argument("--skip-15m", action="store_true", help="leave out (d)")
    ap.add_argument("--repeats", type=int, default=None, help="runs per engine in (a) (3)")
    ap.add_argument("--ab-consumers", type=int, help="(a) consumers (10,000)")
    ap.add_argument("--ab-days", type=int, help="(a) days (365)")
    ap.add_argument("--big-consumers", type=int, help="(b, c) consumers (1,000,000)")
    ap.add_argument("--big-days", type=int, help="(b, c) days (365)")
    ap.add_argument("--national-consumers", type=int, help="(d) consumers (15,000,000)")
    ap.add_argument("--national-days", type=int, help="(d) days (365)")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per subprocess")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def plan(args: argparse.Namespace) -> tuple[list[tuple[str, Spec]], bool]:
    """The measurements to run (key, spec) and whether the sizes are the target sizes."""
    sizes = dict(QUICK if args.quick else FULL)
    for key, c_opt, d_opt in (("ab", "ab_consumers", "ab_days"),
                              ("big", "big_consumers", "big_days"),
                              ("national", "national_consumers", "national_days")):  # fmt: skip
        name, consumers, days = sizes[key]
        sizes[key] = (name, getattr(args, c_opt) or consumers, getattr(args, d_opt) or days)
    judged = sizes == FULL
    repeats = args.repeats or (1 if args.quick else 3)
    name, consumers, days = sizes["ab"]
    ab = {"run.consumers": consumers, "run.days": days}
    specs = [
        ("a-ref", Spec("a-ref", name, args.reference, ab, repeats=repeats)),
        ("a-cand", Spec("a-cand", name, args.engine, ab, repeats=repeats)),
    ]
    name, consumers, days = sizes["big"]
    specs.append(("b", Spec("b", name, args.engine, scaled_overrides(name, consumers, days, True))))
    dense = national_density(name, consumers)
    over = scaled_overrides(name, consumers, days, dense)
    specs.append(("b2", Spec("b2", name, args.engine, over)))
    if not args.skip_15m:
        name, consumers, days = sizes["national"]
        over = scaled_overrides(name, consumers, days, False)
        specs.append(("d", Spec("d", name, args.engine, over)))
    return specs, judged


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        _child(args.child)
        return 0
    specs, judged = plan(args)
    print(
        f"bench_fast · engine {args.engine} vs reference {args.reference} · "
        f"{'quick sizes' if args.quick else 'target sizes' if judged else 'custom sizes'} · "
        f"{os.cpu_count()} CPUs · Python {platform.python_version()} · {platform.machine()}",
        flush=True,
    )
    results: dict[str, Result] = {}
    for key, spec in specs:
        res = measure(spec, args.timeout, echo=lambda line: print(line, flush=True))
        results[key] = res
        print(_detail(res), flush=True)
    print()
    if not judged:
        print("sizes differ from the targets' sizes: figures shown, targets not judged")
    print(format_table(summary_rows(results, judged)))
    return 1 if any(r.error for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
