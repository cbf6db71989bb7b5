"""What every scenario script shares: timing, peak memory and the one JSON line it prints.

A scenario prints exactly one JSON line on stdout as its last line:
`{"metrics": {name: seconds, ...}, "peak_rss_mb": float, "info": {...}}` on success, or
`{"error": "ExceptionName", "message": "..."}` (exit status 2) when it raised. The harness
(`benchmarks/run.py`) reads that line; everything else on stdout/stderr is kept only for
diagnosis.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB (Linux reports ru_maxrss in KiB)."""
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / (1024 * 1024) if sys.platform == 'darwin' else maxrss / 1024


class Stopwatch:
    """Collects named wall-clock measurements taken with `time.perf_counter`."""

    def __init__(self) -> None:
        self.metrics: dict[str, float] = {}

    @contextmanager
    def measure(self, name: str, cpu: bool = False) -> Iterator[None]:
        """Time the block as ``name``; with ``cpu``, also its CPU time as ``cpu_{name}``.

        CPU time (user and system, of this process and of the child processes it waited for) moves
        less than wall time when others load the machine, so it separates two trees' costs better.
        """
        start, start_cpu = time.perf_counter(), cpu_seconds()
        yield
        self.metrics[name] = time.perf_counter() - start
        if cpu:
            self.metrics[f'cpu_{name}'] = cpu_seconds() - start_cpu


def cpu_seconds() -> float:
    """User and system time of this process and of its waited-for children so far."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def emit(metrics: dict[str, float], **info: Any) -> None:
    """Prints the result line the harness reads."""
    print(json.dumps({'metrics': metrics, 'peak_rss_mb': round(peak_rss_mb(), 1), 'info': info}), flush=True)


def main(scenario: Callable[[], None]) -> None:
    """Runs `scenario`; any exception becomes an error line and exit status 2 instead of a crash."""
    try:
        scenario()
    except BaseException as exc:  # noqa: BLE001 - RecursionError, KeyboardInterrupt, build errors: all are results
        traceback.print_exc(limit=5)
        message = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ''
        print(json.dumps({'error': error_name(exc), 'message': message}), flush=True)
        sys.exit(2)


def error_name(exc: BaseException) -> str:
    """The exception's class name, plus the underlying cause when a library wrapped it.

    luigi turns a RecursionError raised while building a deep DAG into a ValueError about a
    parameter default; naming the real cause keeps the result honest and readable.
    """
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or current.__context__
    recursion = [e for e in chain if isinstance(e, RecursionError)]
    cause = recursion[0] if recursion else chain[-1]
    if type(cause) is type(exc):
        return type(exc).__name__
    return f'{type(exc).__name__} (from {type(cause).__name__})'
