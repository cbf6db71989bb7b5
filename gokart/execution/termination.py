"""Stop a build cleanly on SIGTERM, and never leave its worker processes behind.

``docker stop`` and Kubernetes send SIGTERM (later SIGKILL) to the main process only. Python's
default reaction to SIGTERM kills the process at once, so forked workers lived on as orphans, still
running tasks and holding the build's stdout and stderr open (a supervisor then never sees EOF).

- In the main process, ``terminate_on_sigterm()`` turns SIGTERM into ``BuildTerminated`` raised in
  the main thread: dispatching stops, the executor interrupts its workers, context managers release
  their locks and remove their temporary files, and the process exits with status 143 (128 + 15).
- Each worker process calls ``guard_worker(parent_pid)`` first: it asks the kernel to send it SIGTERM
  when its parent dies (``PR_SET_PDEATHSIG`` on Linux), and a thread checks the parent every 0.5 s
  too (the only way elsewhere, and a backstop for a signal swallowed on Linux): on SIGTERM the worker
  unwinds the task it is running (cleaning up as above) and exits 143; a worker whose parent is gone
  and that has not unwound 1 s later exits at once.
- No request is lost: luigi's event dispatch swallows ``KeyboardInterrupt`` (so ``BuildTerminated``
  and Ctrl-C's exception too), and code may catch it elsewhere. The handlers record the request in
  ``core.stop_requests``, which raises it again after every event dispatched, between tasks and
  when a worker's task returns; a build that still ends with a request recorded ends as requested.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

from gokart.core import stop_requests
from gokart.records import lineage

EXIT_STATUS = 128 + signal.SIGTERM
_PR_SET_PDEATHSIG = 1
_PARENT_POLL_SECONDS = 0.5
_UNWIND_SECONDS = 1.0  # how long an orphaned worker may take to clean up after its SIGTERM

R = TypeVar('R')


class BuildTerminated(KeyboardInterrupt):
    """The build process received SIGTERM.

    A ``KeyboardInterrupt`` so that ``except Exception`` in task code and luigi's worker (which reports
    other exceptions as task failures and carries on) let it through, as they let Ctrl-C through.
    """


_handling = False  # whether terminate_on_sigterm is active in this process (nested builds keep the outer one)


@contextmanager
def terminate_on_sigterm() -> Iterator[None]:
    """Within the block, SIGTERM raises ``BuildTerminated``; leaving the block by it exits the process with 143.

    Ctrl-C still raises ``KeyboardInterrupt``, and both are recorded in ``core.stop_requests`` so that
    one swallowed (inside a luigi event handler) is raised again. Only the main thread can receive
    signals, and a handler the program installed itself is left alone, so elsewhere this does nothing.
    """
    global _handling
    if _handling or threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    previous_interrupt = (
        signal.signal(signal.SIGINT, _raise_interrupted) if signal.getsignal(signal.SIGINT) is signal.default_int_handler else None
    )
    _handling = True
    stop_requests.clear()
    try:
        yield
        stop_requests.raise_if_requested()  # a request swallowed where no check followed: the build still ends as asked
    except BuildTerminated:
        lineage.stop_git()  # the journal's questions to git, started for this build, are not waited for
        # The process is going away: its final garbage collections would walk every object of the
        # build (most of a second for a big one), while gokart 1.12, killed at once, ran none.
        gc.freeze()
        raise SystemExit(EXIT_STATUS) from None
    finally:
        _handling = False
        signal.signal(signal.SIGTERM, previous)
        if previous_interrupt is not None:
            signal.signal(signal.SIGINT, previous_interrupt)
        stop_requests.clear()


def _raise_terminated(signum: int, frame: Any) -> None:
    message = f'received signal {signum}: the build stops'
    stop_requests.request(BuildTerminated, message)
    raise BuildTerminated(message)


def _raise_interrupted(signum: int, frame: Any) -> None:
    stop_requests.request(KeyboardInterrupt, '')
    raise KeyboardInterrupt


# --- worker processes ----------------------------------------------------------------------------

_running_task = False


def guard_worker(parent_pid: int) -> None:
    """Make this forked worker exit (status 143) on SIGTERM and when ``parent_pid`` dies.

    Between tasks it exits at once; during a task, the task is interrupted with ``BuildTerminated``
    first, so its locks and temporary files are cleaned up.
    """
    global _running_task, _handling
    _running_task, _handling = False, True
    stop_requests.clear()
    signal.signal(signal.SIGTERM, _worker_on_sigterm)
    if signal.getsignal(signal.SIGINT) is _raise_interrupted:  # a worker takes Ctrl-C as it did: its parent stops it
        signal.signal(signal.SIGINT, signal.default_int_handler)
    _die_with_parent()
    threading.Thread(target=_watch_parent, args=(parent_pid,), name='gokart-parent-watch', daemon=True).start()
    if os.getppid() != parent_pid:  # the parent died before the kernel was told to signal this process
        os._exit(EXIT_STATUS)


def run_guarded(func: Callable[..., R], *args: Any) -> R:
    """Call ``func`` in a guarded worker as one task: SIGTERM interrupts it, then the worker exits 143."""
    global _running_task
    try:
        # Inside the try, so that a SIGTERM between any two of these lines ends the worker: raised
        # outside it, the pool would send the exception back and wait for the next task.
        _running_task = True
        try:
            result = func(*args)
        finally:
            _running_task = False
    except BuildTerminated:
        _flush_and_exit()
    if stop_requests.requested() is not None:  # the SIGTERM was swallowed inside the task: stop all the same
        _flush_and_exit()
    return result


def _worker_on_sigterm(signum: int, frame: Any) -> None:
    message = f'received signal {signum}: the worker stops'
    stop_requests.request(BuildTerminated, message)
    if _running_task:
        raise BuildTerminated(message)
    _flush_and_exit()


def _flush_and_exit() -> NoReturn:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(EXIT_STATUS)


def _die_with_parent() -> bool:
    """Ask Linux to send SIGTERM to this process when its parent dies; False where that is unavailable."""
    if not sys.platform.startswith('linux'):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None)  # the C library the interpreter is linked with
        return bool(libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid: int) -> None:
    """When the parent is gone: SIGTERM this worker (unless the kernel already did), and exit if it has not unwound in time."""
    while os.getppid() == parent_pid:
        time.sleep(_PARENT_POLL_SECONDS)
    if stop_requests.requested() is None:
        os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(_UNWIND_SECONDS)
    _flush_and_exit()


__all__ = ['BuildTerminated', 'EXIT_STATUS', 'terminate_on_sigterm', 'guard_worker', 'run_guarded']
