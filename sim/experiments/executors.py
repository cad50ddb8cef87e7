"""Executors behind one interface: `submit(fn, *args)` returns a future, `as_completed(futures)`
yields them as they finish, `shutdown()` releases workers.

- serial (`workers=1`): runs each task in this process when `as_completed` reaches it;
- processes (default): `concurrent.futures.ProcessPoolExecutor` on the local cores;
- dask (`scheduler="tcp://HOST:PORT"`): a `dask.distributed.Client` on a running cluster
  (the optional extra `siyu[cluster]`; imported only when asked for).

Tasks are plain functions of picklable arguments and return their results, so every executor
runs exactly the same code; the driver alone writes the results store.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import as_completed as cf_as_completed
from typing import Any


class ExecutorError(Exception):
    """An executor that cannot start (a bad --workers, an unreachable scheduler)."""


class SerialExecutor:
    """Runs tasks one by one in this process, lazily, in submission order."""

    name = "serial"
    workers = 1

    def __init__(self) -> None:
        self._pending: dict[Future, tuple[Callable[..., Any], tuple[Any, ...]]] = {}

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        fut: Future = Future()
        self._pending[fut] = (fn, args)
        return fut

    def as_completed(self, futures: Iterable[Future]) -> Iterator[Future]:
        for fut in list(futures):
            call = self._pending.pop(fut, None)
            if call is not None:
                fn, args = call
                try:
                    fut.set_result(fn(*args))
                except Exception as exc:
                    fut.set_exception(exc)
            yield fut

    def shutdown(self, cancel: bool = False) -> None:
        self._pending.clear()


class ProcessExecutor:
    """A local process pool (`concurrent.futures`)."""

    name = "processes"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._pool = ProcessPoolExecutor(max_workers=self.workers)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        return self._pool.submit(fn, *args)

    def as_completed(self, futures: Iterable[Future]) -> Iterator[Future]:
        return cf_as_completed(list(futures))

    def shutdown(self, cancel: bool = False) -> None:
        self._pool.shutdown(wait=not cancel, cancel_futures=cancel)


class DaskExecutor:
    """A Dask `distributed` cluster reached through its scheduler's address."""

    name = "dask"

    def __init__(self, address: str, timeout: float = 10.0) -> None:
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
        self.workers = max(1, sum(self._client.nthreads().values()))

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self._client.submit(fn, *args, pure=False)

    def as_completed(self, futures: Iterable[Any]) -> Iterator[Any]:
        from dask.distributed import as_completed

        return iter(as_completed(list(futures), loop=self._client.loop))

    def shutdown(self, cancel: bool = False) -> None:
        self._client.close()


def make_executor(
    workers: int | None = None, scheduler: str | None = None
) -> SerialExecutor | ProcessExecutor | DaskExecutor:
    """The executor for `--workers N` / `--scheduler ADDRESS` (default: all local cores)."""
    if workers is not None and workers < 1:
        raise ExecutorError(f"--workers must be at least 1 (got {workers})")
    if scheduler:
        if "://" not in scheduler:
            raise ExecutorError(f"--scheduler: expected tcp://HOST:PORT (got {scheduler!r})")
        return DaskExecutor(scheduler)
    if workers == 1:
        return SerialExecutor()
    return ProcessExecutor(workers)
