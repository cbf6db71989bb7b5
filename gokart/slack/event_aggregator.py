"""Collects which luigi tasks succeeded or failed during a run, for the Slack report."""

from __future__ import annotations

import os
from typing import TypedDict

import luigi


class FailureEvent(TypedDict):
    """One failed task of the run: its name and unique id, and the exception it raised, as the report shows them."""

    task: str
    exception: str


class EventAggregator:
    """Listens to SUCCESS and FAILURE of every ``luigi.Task`` once ``set_handlers()`` is called."""

    def __init__(self) -> None:
        self._success_events: list[str] = []
        self._failure_events: list[FailureEvent] = []
        self._registered = False

    def set_handlers(self) -> None:
        """Register the listeners on ``luigi.Task``; calling it again does not register twice."""
        if self._registered:
            return
        luigi.Task.event_handler(luigi.Event.SUCCESS)(self._success)
        luigi.Task.event_handler(luigi.Event.FAILURE)(self._failure)
        self._registered = True

    def get_summary(self) -> str:
        """One line with the counts, e.g. ``Success: 2; Failure: 1``."""
        return f'Success: {len(self._success_events)}; Failure: {len(self._failure_events)}'

    def get_event_list(self) -> str:
        """The failed tasks with their exceptions, then the succeeded tasks; a hint when nothing ran."""
        sections: list[str] = []
        if self._failure_events:
            failures = [f'Task: {event["task"]}; Exception: {event["exception"]}' for event in self._failure_events]
            sections.append(os.linesep.join(['---- Failure Tasks ----', *failures]))
        if self._success_events:
            sections.append(os.linesep.join(['---- Success Tasks ----', *self._success_events]))
        if not sections:
            return 'Tasks were not executed.'
        # gokart 1.12.2 glued the two sections together on one line; a line break keeps them readable.
        return os.linesep.join(sections)

    @staticmethod
    def _task_to_str(task: luigi.Task) -> str:
        """gokart 1.12's name of a task in the report: ``Name:[unique_id]``."""
        return _task_to_str(task)

    def _success(self, task: luigi.Task) -> None:
        self._success_events.append(_task_to_str(task))

    def _failure(self, task: luigi.Task, exception: BaseException) -> None:
        self._failure_events.append(FailureEvent(task=_task_to_str(task), exception=str(exception)))


def _task_to_str(task: luigi.Task) -> str:
    # gokart tasks are named by their unique id (as in file names); plain luigi tasks by luigi's task_id.
    make_unique_id = getattr(task, 'make_unique_id', None)
    unique_id = make_unique_id() if callable(make_unique_id) else task.task_id
    return f'{type(task).__name__}:[{unique_id}]'
