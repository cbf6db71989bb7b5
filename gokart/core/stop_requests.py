"""A request to stop the build (SIGTERM, Ctrl-C) that outlives the exception it raised.

A signal handler can only raise an exception where the process happens to be, and some code there
swallows it: luigi's event dispatch returns quietly on ``KeyboardInterrupt`` (the type of Ctrl-C and
of our SIGTERM's ``BuildTerminated``), so a SIGTERM that landed in a SUCCESS handler was dropped and
the build went on. The handlers (``execution.termination``) therefore also record the request here,
and the places a build passes through often (each event dispatched, each task scheduled or finished
in a worker) call ``raise_if_requested``: a request swallowed once is raised again there.

Each check reads one module global, so checking costs nothing measurable.
"""

from __future__ import annotations

_requested: type[BaseException] | None = None
_message = ''


def request(kind: type[BaseException], message: str) -> None:
    """Record that the build must stop with ``kind(message)``; the first request of a build wins."""
    global _requested, _message
    if _requested is None:
        _requested, _message = kind, message


def requested() -> type[BaseException] | None:
    """The kind of stop requested in this process, or None."""
    return _requested


def raise_if_requested() -> None:
    """Raise the requested stop again (wherever the first one was swallowed)."""
    if _requested is not None:
        raise _requested(_message)


def clear() -> None:
    """Forget the request: the build it stopped is over, and this process goes on (a notebook, a caller that caught it)."""
    global _requested, _message
    _requested, _message = None, ''


__all__ = ['request', 'requested', 'raise_if_requested', 'clear']
