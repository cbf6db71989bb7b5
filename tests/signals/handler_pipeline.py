"""A pipeline whose event handlers take time, for the termination tests (issue 30, no request lost).

    python handler_pipeline.py MODE MARKER_DIRECTORY [SECONDS_IN_SUCCESS_HANDLER]

Six tasks in a chain, as an operator would run them: each task's SUCCESS handler sends a
"notification" that takes a while (1 s by default). MODE is ``build`` (gokart.build in this
process), ``build2`` (two forked workers), ``luigi`` (gokart.build through luigi's worker), ``run``
(gokart.run) or ``run2`` (gokart.run --workers=2). Each handler appends ``enter {i} {time}`` and
``leave {i} {time}`` lines (monotonic clock) to ``{MARKER_DIRECTORY}/handlers``, so a test knows
where its signal landed. The workspace is ``./resources``. The same script runs under gokart 1.12.2.

``make_pipeline`` returns the task classes for other test modules (the sweep forks its builds from
a process that imported this one).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import luigi

import gokart

STEPS = 6


def _note(markers: str, line: str) -> None:
    with open(os.path.join(markers, 'handlers'), 'a') as f:
        f.write(f'{line} {time.monotonic():.6f}\n')


class NotifiedStep(gokart.TaskOnKart[str]):
    __module__ = 'handler_pipeline'
    i = luigi.IntParameter()
    markers = luigi.Parameter(significant=False)
    notification_seconds = luigi.FloatParameter(default=1.0, significant=False)
    payload_bytes = luigi.IntParameter(default=1000, significant=False)

    def requires(self) -> Any:
        if self.i == 0:
            return []
        return NotifiedStep(
            i=self.i - 1, markers=self.markers, notification_seconds=self.notification_seconds, payload_bytes=self.payload_bytes
        )

    def run(self) -> None:
        self.dump(bytes([self.i]) * self.payload_bytes)


@NotifiedStep.event_handler(luigi.Event.SUCCESS)
def _notify(task: NotifiedStep) -> None:
    """A notification sent when a task succeeds (a chat message, a webhook): it takes a while."""
    _note(task.markers, f'enter {task.i}')
    time.sleep(task.notification_seconds)
    _note(task.markers, f'leave {task.i}')


def root(markers: str, notification_seconds: float = 1.0, payload_bytes: int = 1000) -> NotifiedStep:
    return NotifiedStep(i=STEPS - 1, markers=markers, notification_seconds=notification_seconds, payload_bytes=payload_bytes)


def build(mode: str, markers: str, notification_seconds: float = 1.0, payload_bytes: int = 1000) -> None:
    """Build the chain in ``mode``; returns when it is built (gokart.run exits)."""
    task = root(markers, notification_seconds, payload_bytes)
    if mode in ('run', 'run2'):
        workers = ['--workers=2'] if mode == 'run2' else []
        gokart.run(
            [
                'NotifiedStep',
                f'--i={STEPS - 1}',
                f'--markers={markers}',
                f'--notification-seconds={notification_seconds}',
                f'--payload-bytes={payload_bytes}',
                '--local-scheduler',
                '--no-lock',
                *workers,
            ]
        )
    options: dict[str, Any] = {'build2': {'workers': 2}, 'luigi': {'executor': 'luigi'}}.get(mode, {})
    gokart.build(task, reset_register=False, **options)


if __name__ == '__main__':
    sys.modules.setdefault('handler_pipeline', sys.modules['__main__'])
    build(sys.argv[1], sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 1.0)
