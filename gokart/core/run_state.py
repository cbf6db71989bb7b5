"""What gokart keeps about one task instance while it is built: one owner object instead of loose attributes.

The executor, the ``log/`` record writers, the lineage journal, early cutoff and ``dump`` all note
things about the run of a task (when it started, how long it took, the parameters serialized for its
records, the metrics and frame columns it dumped, the run whose outputs early cutoff placed, whether
``run()`` dumped anything). They keep them here, in one typed ``RunState`` per task instance
(``of(task)``), so that a field is spelled once and a new one is declared in one place. The state
lives in the task's ``__dict__`` under ``ATTRIBUTE``: it follows the task into forked workers and
through pickling, as the task does, and ``gokart.ids.construction`` knows the name as bookkeeping
that holds no task.
"""

from __future__ import annotations

from typing import Any

ATTRIBUTE = '_gokart_run_state'


class RunState:
    """The run of one task instance, as far as this process saw it."""

    __slots__ = ('started', 'processing_time', 'params', 'metrics', 'schemas', 'outputs', 'cutoff_from', 'dumped')

    def __init__(self) -> None:
        self.started: float | None = None  # START: the time the run began (the journal's record of it)
        self.processing_time: float | None = None  # PROCESSING_TIME, in seconds
        self.params: dict[str, str] | None = None  # the significant parameters as the task_params record serialized them
        self.metrics: dict[str, Any] | None = None  # a small mapping of names to numbers the run dumped (or early cutoff reused)
        self.schemas: dict[str, Any] | None = None  # output path -> the columns (and declared schema) of a frame dumped there
        self.outputs: tuple[str, list[str]] | None = None  # (unique id, output paths) of the journal's record, for its dependents
        self.cutoff_from: dict[str, Any] | None = None  # the recorded run whose outputs early cutoff placed instead of running
        self.dumped = False  # run() wrote an output (dump was called)

    def __repr__(self) -> str:
        return f'RunState({", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)})'


def of(task: Any) -> RunState:
    """The run state of ``task``, made on first use."""
    state = task.__dict__.get(ATTRIBUTE)
    if state is None:
        state = task.__dict__[ATTRIBUTE] = RunState()
    return state  # type: ignore[no-any-return]


def peek(task: Any) -> RunState | None:
    """The run state of ``task`` if something was noted, else None (any object: a plain luigi task has none)."""
    return getattr(task, '__dict__', {}).get(ATTRIBUTE)  # type: ignore[no-any-return]


__all__ = ['ATTRIBUTE', 'RunState', 'of', 'peek']
