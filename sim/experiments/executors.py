"""Executors behind one interface: `imap(fn, items)` runs `fn(*args)` for each `(key, args)` of
`items` and yields `(key, result)` as tasks finish, where `result` is what `fn` returned or a
`TaskFailed` with its cause; `shutdown(cancel)` releases the workers.

- serial (`SerialExecutor`): runs each task in this process, one by one (the library's
  simplest executor; the command line's `--workers 1` is a pool of one worker process, so
  that a run that crashes the interpreter cannot take the sweep down);
- processes (`ProcessExecutor`, default): long-lived worker processes of our own (forked from
  a fork server that has imported the simulator), fed one task at a time over a pipe. A
  worker that dies (a segfault, `os.abort()`, SIGKILL, the kernel's out-of-memory killer)
  fails only the task it held, with the signal as its cause; the pool starts a replacement
  and goes on. Workers die with the sweep (each watches the sweep's process and exits with
  it; Linux also kills them with the fork server, PR_SET_PDEATHSIG) and ignore Ctrl-C, which
  the sweep handles;
- threads (`ThreadExecutor`, `siyu run --threads N`): a pool of threads in this process; the
  fast engine's compiled day releases the interpreter lock, so large runs use several cores
  with no process to start and no second compilation (no isolation, as serial);
- dask (`DaskExecutor`, `scheduler="tcp://HOST:PORT"`): a `dask.distributed.Client` on a
  running cluster (the optional extra `siyu[cluster]`; imported only when asked for). A task
  that keeps killing its workers fails with its cause; a lost scheduler, no workers for
  `NO_WORKERS_S` seconds or workers without the package raise `ExecutorError`.

Tasks are plain functions of picklable arguments and return their results, so every executor
runs exactly the same code; the driver alone writes the results store. Every executor pulls
tasks from `items` lazily and keeps a bounded number in flight, so a sweep's parent holds
neither every task nor every result.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import multiprocessing.connection
import os
import select
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Hashable, Iterable, Iterator
from concurrent.futures import CancelledError
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.machine import usable_cores

NO_WORKERS_S = 60.0
"""Seconds a Dask sweep waits with no worker on the scheduler (at the start, or after every
worker left) before it stops with an error (`--no-workers-timeout`)."""

LOST_SCHEDULER_S = 10.0
"""Seconds a Dask client may try to reconnect to its scheduler before the sweep stops."""

DASK_WINDOW_PER_THREAD = 2
"""Tasks in flight on a Dask cluster per worker thread (enough to keep every thread busy)."""

SHUTDOWN_GRACE_S = 5.0
"""Seconds idle workers get to exit on their own at the end before they are killed."""
WAKE_S = 0.5
"""Seconds the parent waits for its workers before it looks again: Python acts on a signal
only in the main thread between bytecodes, and a signal taken by another thread does not
interrupt the main thread's wait, so the wait must end now and then for Ctrl-C to work."""

Item = tuple[Hashable, tuple[Any, ...]]


class ExecutorError(Exception):
    """An executor that cannot start or cannot go on (a bad --workers, an unreachable or lost
    scheduler, no workers, workers without the package)."""


@dataclass(frozen=True)
class TaskFailed:
    """A task that produced no result: the exception it raised, or the death of its worker."""

    cause: str


def describe(exc: BaseException) -> str:
    """An exception as one line: `Type: message (at file.py:line)`."""
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" (at {Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
    return " ".join(f"{type(exc).__name__}: {exc}{where}".split())


def death_cause(exitcode: int | None) -> str:
    """Why a worker process ended, from its exit code (negative: the signal that killed it)."""
    if exitcode is None:
        return "worker died"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = str(-exitcode)
        hint = " (out of memory, or killed by another process)" if name == "SIGKILL" else ""
        return f"worker died: signal {name}{hint}"
    return f"worker died: exit code {exitcode}"


# --------------------------------------------------------------------------- serial


class SerialExecutor:
    """Runs tasks one by one in this process, lazily, in order (no isolation: a run that
    crashes the interpreter ends the sweep; use `ProcessExecutor(1)` for that)."""

    name = "serial"
    workers = 1

    def imap(self, fn: Callable[..., Any], items: Iterable[Item]) -> Iterator[tuple[Hashable, Any]]:
        for key, args in items:
            try:
                yield key, fn(*args)
            except Exception as exc:
                yield key, TaskFailed(describe(exc))

    def shutdown(self, cancel: bool = False) -> None:
        pass


# --------------------------------------------------------------------------- threads


class ThreadExecutor:
    """Runs tasks on `workers` threads of this process, at most `2 * workers` in flight,
    yielding each result as it finishes. The fast engine's compiled day releases the
    interpreter lock, so runs of a large market proceed on several cores at once with no
    worker process to start, no second copy of the imports and no second compilation; each
    run keeps its own generators, so its bytes do not depend on the number of threads. A
    task that raises fails only itself (`TaskFailed`); as with `SerialExecutor`, a run that
    crashes the interpreter ends the command (use processes for isolation)."""

    name = "threads"

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ExecutorError(f"--threads must be at least 1 (got {workers})")
        self.workers = workers
        self._pool: Any = None

    def imap(self, fn: Callable[..., Any], items: Iterable[Item]) -> Iterator[tuple[Hashable, Any]]:
        from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

        def call(args: tuple[Any, ...]) -> Any:
            try:
                return fn(*args)
            except Exception as exc:
                return TaskFailed(describe(exc))

        self._pool = pool = ThreadPoolExecutor(self.workers, thread_name_prefix="siyu-run")
        pending: dict[Any, Hashable] = {}
        source = iter(items)
        try:
            while True:
                while len(pending) < 2 * self.workers:
                    nxt = next(source, None)
                    if nxt is None:
                        break
                    key, args = nxt
                    pending[pool.submit(call, args)] = key
                if not pending:
                    return
                done, _ = wait(pending, timeout=WAKE_S, return_when=FIRST_COMPLETED)
                for future in done:
                    yield pending.pop(future), future.result()
        finally:
            for future in pending:
                future.cancel()

    def shutdown(self, cancel: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=cancel)
            self._pool = None


# --------------------------------------------------------------------------- local processes

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux only)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


def _exit_with(pid: int) -> None:
    """End this process as soon as process `pid` (the sweep) ends: a worker forked by the
    fork server is not the sweep's child, so the kernel's parent-death signal covers only the
    fork server. Watches a pidfd (Linux), else polls once a second."""

    def watch() -> None:
        try:
            fd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            fd = None
        if fd is not None:
            select.select([fd], [], [])
        else:
            while True:
                time.sleep(1.0)
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
        os._exit(1)

    threading.Thread(target=watch, name="siyu-exit-with-sweep", daemon=True).start()


def _worker_main(conn: multiprocessing.connection.Connection, parent: int) -> None:
    """A pool worker: receive `(fn, args)`, send back `("ok", result)` or `("err", cause)`,
    until told to stop (None) or until the pipe to the parent closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _die_with_parent()
    _exit_with(parent)
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        except Exception as exc:  # a task that cannot be unpickled here
            reply: tuple[str, Any] = ("err", f"cannot receive the task: {describe(exc)}")
        else:
            if msg is None:
                return
            fn, args = msg
            try:
                reply = ("ok", fn(*args))
            except Exception as exc:
                reply = ("err", describe(exc))
        try:
            conn.send(reply)
        except (EOFError, OSError):
            return
        except Exception as exc:  # a result that cannot be pickled
            conn.send(("err", f"cannot send the result back: {describe(exc)}"))


PRELOAD = ("sim.experiments.sweep", "sim.runner", "sim.fast")
"""Modules the fork server imports once, so that a new worker (the first ones, or one that
replaces a worker that died) starts in a fraction of a second instead of importing them."""


def worker_context() -> Any:
    """Where workers come from: a fork server that has imported PRELOAD (where the platform
    has one), else fresh interpreters (spawn). Either way a worker never inherits the
    sweep's threads, and a script that starts a pool needs the `__main__` guard. The fork
    server is started once per process: workers see the environment of that moment."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(list(PRELOAD))
    return ctx


@dataclass
class _Worker:
    proc: Any
    conn: multiprocessing.connection.Connection
    key: Hashable | None = None
    busy: bool = False


class ProcessExecutor:
    """A pool of long-lived local worker processes that survives its tasks: a worker that
    dies fails only the task it held, and is replaced when there is more to do."""

    name = "processes"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or usable_cores()
        self._ctx = worker_context()
        self._pool: list[_Worker] = []

    def _start(self) -> _Worker:
        """A new worker. It is started with SIGINT ignored (which a new fork server and the
        worker keep), so a Ctrl-C while it starts cannot kill it with a traceback; the parent
        stops it instead."""
        here, child = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(
            target=_worker_main, args=(child, os.getpid()), daemon=True, name="siyu-worker"
        )
        main = threading.current_thread() is threading.main_thread()
        old = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
        try:
            proc.start()
        finally:
            if main and old is not None:
                signal.signal(signal.SIGINT, old)
        child.close()
        worker = _Worker(proc, here)
        self._pool.append(worker)
        return worker

    def _drop(self, worker: _Worker) -> None:
        self._pool.remove(worker)
        worker.conn.close()
        if worker.proc.is_alive():
            worker.proc.kill()
        worker.proc.join()

    def imap(self, fn: Callable[..., Any], items: Iterable[Item]) -> Iterator[tuple[Hashable, Any]]:
        items = iter(items)
        more = True
        while True:
            # feed idle (or new) workers, one task each
            while more:
                idle = [w for w in self._pool if not w.busy]
                if not idle and len(self._pool) >= self.workers:
                    break
                try:
                    key, args = next(items)
                except StopIteration:
                    more = False
                    break
                worker = idle[0] if idle else self._start()
                try:
                    worker.conn.send((fn, args))
                except OSError:  # died while idle: replace it, the task goes to another
                    self._drop(worker)
                    worker = self._start()
                    worker.conn.send((fn, args))
                except Exception as exc:  # the task cannot be pickled
                    yield key, TaskFailed(f"cannot send the task to a worker: {describe(exc)}")
                    continue
                worker.key, worker.busy = key, True
            busy = [w for w in self._pool if w.busy]
            if not busy:
                return
            waits: list[Any] = [w.conn for w in busy] + [w.proc.sentinel for w in busy]
            # wake now and then even when no worker is done: a Ctrl-C delivered to another
            # thread of this process (a numerical library's) is then acted on at once
            ready = set(multiprocessing.connection.wait(waits, timeout=WAKE_S))
            for worker in busy:
                if worker.conn not in ready and worker.proc.sentinel not in ready:
                    continue
                key = worker.key
                try:
                    status, value = worker.conn.recv() if worker.conn.poll() else (None, None)
                except (EOFError, OSError):
                    status, value = None, None
                if status is None:  # the worker died with the task
                    worker.proc.join(SHUTDOWN_GRACE_S)
                    cause = death_cause(worker.proc.exitcode)
                    self._drop(worker)
                    yield key, TaskFailed(cause)
                    continue
                worker.key, worker.busy = None, False
                yield key, (value if status == "ok" else TaskFailed(str(value)))

    def shutdown(self, cancel: bool = False) -> None:
        """Stop the workers: ask them to exit (at once with `cancel`: kill them, leaving the
        tasks they held unfinished)."""
        pool, self._pool = self._pool, []
        for w in pool:
            if cancel:
                w.proc.kill()
            else:
                with contextlib.suppress(OSError):
                    w.conn.send(None)
        for w in pool:
            w.proc.join(None if cancel else SHUTDOWN_GRACE_S)
            if w.proc.is_alive():
                w.proc.kill()
                w.proc.join()
            w.conn.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.shutdown(cancel=True)


# --------------------------------------------------------------------------- dask


def package_version() -> str:
    """The package version a worker runs (sent to Dask workers to check they have it). Read
    from the package itself, which every version of siyu has, so a worker with another
    version answers with its version instead of failing to import this one's module."""
    import sim

    return sim.__version__


class DaskExecutor:
    """A Dask `distributed` cluster reached through its scheduler's address."""

    name = "dask"

    def __init__(
        self, address: str, timeout: float = 10.0, no_workers_s: float = NO_WORKERS_S
    ) -> None:
        try:
            from dask.distributed import Client
        except ImportError:
            raise ExecutorError(
                "dask.distributed is not installed (pip install 'siyu[cluster]')"
            ) from None
        try:
            self._client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ExecutorError(f"cannot connect to {address}: {exc}") from None
        self.address = address
        self.no_workers_s = no_workers_s
        try:
            self._check_workers()
        except BaseException:
            self._client.close()
            raise
        self.workers = max(1, sum(self._client.nthreads().values()))

    def _check_workers(self) -> None:
        """Wait for a worker and check it imports this package at this version."""
        from sim.version import __version__

        fut = self._client.submit(package_version, pure=False)
        try:
            theirs = fut.result(timeout=self.no_workers_s)
        except CancelledError:
            raise ExecutorError(f"lost the Dask scheduler at {self.address}") from None
        except TimeoutError:
            raise ExecutorError(
                f"no Dask worker ran a task within {self.no_workers_s:g} s at {self.address} "
                "(start workers with: dask worker ADDRESS)"
            ) from None
        except Exception as exc:
            raise ExecutorError(
                f"the Dask workers at {self.address} cannot import siyu ({describe(exc)}); "
                f"install siyu {__version__} with its cluster extra (siyu[cluster]) on every worker"
            ) from None
        finally:
            fut.release()
        if theirs != __version__:
            raise ExecutorError(
                f"the Dask workers at {self.address} run siyu {theirs}, this is {__version__}; "
                "install the same version on every worker"
            )

    def imap(self, fn: Callable[..., Any], items: Iterable[Item]) -> Iterator[tuple[Hashable, Any]]:
        from dask.distributed import wait
        from distributed import KilledWorker

        items = iter(items)
        window = max(2, DASK_WINDOW_PER_THREAD * self.workers)
        flight: dict[Any, Hashable] = {}
        more = True
        no_workers_since: float | None = None
        lost_since: float | None = None
        while True:
            while more and len(flight) < window:
                try:
                    key, args = next(items)
                except StopIteration:
                    more = False
                    break
                flight[self._client.submit(fn, *args, pure=False)] = key
            if not flight:
                return
            try:
                with self._client.as_current():
                    done = wait(list(flight), timeout=1.0, return_when="FIRST_COMPLETED").done
            except TimeoutError:
                done = set()
            except CancelledError:  # the client cancels every future when it loses the scheduler
                raise ExecutorError(f"lost the Dask scheduler at {self.address}") from None
            now = time.monotonic()
            if self._client.status != "running":
                lost_since = lost_since or now
                if self._client.status in ("closed", "closing", "failed") or (
                    now - lost_since > LOST_SCHEDULER_S
                ):
                    raise ExecutorError(f"lost the Dask scheduler at {self.address}")
                continue
            lost_since = None
            if not done:
                if self._client.scheduler_info().get("workers"):
                    no_workers_since = None
                else:
                    no_workers_since = no_workers_since or now
                    if now - no_workers_since > self.no_workers_s:
                        raise ExecutorError(
                            f"no Dask workers at {self.address} for {self.no_workers_s:g} s"
                        )
                continue
            for fut in done:
                key = flight.pop(fut)
                if fut.status == "finished":
                    value = fut.result()
                elif fut.status == "cancelled":
                    raise ExecutorError(f"lost the Dask scheduler at {self.address}")
                else:
                    exc = fut.exception()
                    if isinstance(exc, KilledWorker):
                        value = TaskFailed(
                            "worker died: the run killed every Dask worker that ran it "
                            "(a crash or out of memory)"
                        )
                    else:
                        value = TaskFailed(describe(exc))
                fut.release()
                yield key, value

    def shutdown(self, cancel: bool = False) -> None:
        self._client.close()


def make_executor(
    workers: int | None = None,
    scheduler: str | None = None,
    no_workers_s: float = NO_WORKERS_S,
) -> ProcessExecutor | DaskExecutor:
    """The executor for `--workers N` / `--scheduler ADDRESS` (default: a worker per core
    this process may use, `sim.machine.usable_cores`).

    `--workers 1` is one worker process (runs one after another, isolated from this one)."""
    if workers is not None and workers < 1:
        raise ExecutorError(f"--workers must be at least 1 (got {workers})")
    if scheduler:
        if "://" not in scheduler:
            raise ExecutorError(f"--scheduler: expected tcp://HOST:PORT (got {scheduler!r})")
        return DaskExecutor(scheduler, no_workers_s=no_workers_s)
    return ProcessExecutor(workers)
