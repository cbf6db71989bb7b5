"""A task whose first runner hangs holding its lease, for the takeover test.

    python killed_holder_pipeline.py STARTED_MARKER

Run as a script, the task writes ``STARTED_MARKER`` from inside ``run()`` (so its lease is held)
and then hangs until killed. Imported by the test, the same task runs normally.
"""

from __future__ import annotations

import sys
import time

import gokart

STARTED_MARKER = ''


class HeldWhenKilled(gokart.TaskOnKart[str]):
    __module__ = 'killed_holder_pipeline'

    def run(self) -> None:
        if STARTED_MARKER:
            with open(STARTED_MARKER, 'w') as f:
                f.write('running')
            time.sleep(3600)
        self.dump('finished by the process that took over')


if __name__ == '__main__':
    STARTED_MARKER = sys.argv[1]
    gokart.build(HeldWhenKilled())
