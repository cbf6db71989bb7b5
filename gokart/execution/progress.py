"""Live progress of a build on a terminal: done / cached / running / failed of the total, the running task, elapsed time.

The display is an :class:`ExecutionListener` of the local executor. Its callbacks only update counters, and
rich redraws the line a few times a second from its own thread, so a build of many tiny tasks pays almost
nothing for it. It is quiet when stderr is not a terminal (CI logs, pipes) unless forced.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from gokart.core import settings
from gokart.execution.plan import Plan, TaskState

_REFRESHES_PER_SECOND = 4


CellDisplay = Callable[['BuildProgress'], AbstractContextManager[None]]
"""Draws a BuildProgress in a notebook cell while a build runs (``gokart.notebook.progress.for_this_process``)."""


def progress_enabled(setting: Any = None, in_kernel: bool = False) -> bool:
    """Whether to show progress: ``True``/``False`` win; otherwise ``GOKART_PROGRESS`` (0/1), otherwise stderr is a TTY or this is a Jupyter kernel."""
    if isinstance(setting, bool):
        return setting
    if setting is not None:
        return str(setting).strip().lower() not in ('0', 'false', 'no', 'off', '')
    from_environment = settings.value('progress')
    if from_environment is not None:
        return bool(from_environment)
    return _stderr_is_terminal() or in_kernel


@contextmanager
def progress_listener(
    setting: Any = None, redirect_stderr: bool = False, cell_display: CellDisplay | None = None
) -> Iterator[BuildProgress | None]:
    """The listener for ``gokart.build(progress=...)``: a live display while the block runs, or ``None`` when quiet.

    ``redirect_stderr`` sends what is written to ``sys.stderr`` meanwhile (log lines) through rich, which
    ends the progress line before each of them and draws it again below.
    """
    if not progress_enabled(setting, in_kernel=cell_display is not None):
        yield None
        return
    if cell_display is not None:  # in a Jupyter kernel: drawn in the running cell instead of on the kernel's stderr
        in_cell = BuildProgress()
        with cell_display(in_cell):
            yield in_cell
        return
    from rich.console import Console
    from rich.live import Live

    progress = BuildProgress()
    # A forced display on a non-terminal still gets rich's control codes: the user asked for it.
    console = Console(stderr=True, force_terminal=True if setting is True else None)
    with Live(
        progress,
        console=console,
        refresh_per_second=_REFRESHES_PER_SECOND,
        transient=False,
        redirect_stdout=False,
        redirect_stderr=redirect_stderr,
    ):
        yield progress


class BuildProgress:
    """Counts of a build's tasks by state, fed by the executor and drawn by rich (``__rich__``)."""

    def __init__(self) -> None:
        self.total = 0
        self.cached = 0
        self.done = 0
        self.failed = 0
        self._running: dict[int, str] = {}
        self._lock = threading.Lock()
        self._started_at = time.monotonic()

    @property
    def running(self) -> int:
        return len(self._running)

    def running_names(self) -> list[str]:
        """The class names of the tasks running now, oldest first."""
        with self._lock:
            return list(self._running.values())

    # ----- ExecutionListener ----------------------------------------------------------------
    def planned(self, plan: Plan) -> None:
        self.total = len(plan.tasks)
        self.cached = plan.count(TaskState.COMPLETE)

    def started(self, task: Any) -> None:
        with self._lock:
            self._running[id(task)] = type(task).__name__

    def put_aside(self, task: Any) -> None:
        with self._lock:
            self._running.pop(id(task), None)

    def finished(self, task: Any, succeeded: bool) -> None:
        with self._lock:
            self._running.pop(id(task), None)
        if succeeded:
            self.done += 1
        else:
            self.failed += 1

    # ----- drawing --------------------------------------------------------------------------
    def status_line(self) -> str:
        """One line such as ``gokart 12/40 done, 3 cached, 1 running, 0 failed | Train | 0:00:05``."""
        with self._lock:
            running_names = list(self._running.values())
        elapsed = int(time.monotonic() - self._started_at)
        finished = self.done + self.cached + self.failed
        current = running_names[-1] if running_names else '-'
        if len(running_names) > 1:
            current += f' (+{len(running_names) - 1})'
        hours, rest = divmod(elapsed, 3600)
        return (
            f'gokart {finished}/{self.total} | {self.done} done, {self.cached} cached, {len(running_names)} running, '
            f'{self.failed} failed | {current} | {hours}:{rest // 60:02d}:{rest % 60:02d}'
        )

    def __rich__(self) -> Any:
        from rich.text import Text

        text = Text(self.status_line())
        if self.failed:
            text.stylize('bold red')
        return text


@contextmanager
def luigi_progress(setting: Any = None, cell_display: CellDisplay | None = None) -> Iterator[BuildProgress | None]:
    """Progress for builds that luigi's own worker runs (``gokart.run``), fed by luigi's task events.

    luigi announces neither the plan nor the tasks it finds complete, so the total grows as
    requirements are discovered and complete tasks count as cached only at the end. Events fire in
    the process that runs the task: with ``--workers`` above 1 luigi runs tasks in child processes
    and only the discovered total moves here.

    luigi's log handler, set up inside the build, writes to ``sys.stderr``: that is redirected through
    the display, so that each log line starts on a line of its own instead of after the progress line.
    """
    import luigi

    with progress_listener(setting, redirect_stderr=True, cell_display=cell_display) as progress:
        if progress is None:
            yield None
            return
        seen: set[Any] = set()

        def discovered(task: Any, requirement: Any) -> None:
            seen.update((task, requirement))
            progress.total = len(seen)

        handlers = [
            (luigi.Event.DEPENDENCY_DISCOVERED, discovered),
            (luigi.Event.START, lambda task: progress.started(task)),
            (luigi.Event.SUCCESS, lambda task: progress.finished(task, True)),
            (luigi.Event.FAILURE, lambda task, exception: progress.finished(task, False)),
        ]
        for event, handler in handlers:
            luigi.Task.event_handler(event)(handler)
        try:
            yield progress
        finally:
            for event, handler in handlers:
                luigi.Task.remove_event_handler(event, handler)
            progress.total = max(progress.total, progress.done + progress.failed, 1)
            if not progress.failed:  # with no failure, every discovered task that did not run was complete
                progress.cached = progress.total - progress.done


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


__all__ = ['BuildProgress', 'luigi_progress', 'progress_enabled', 'progress_listener']
