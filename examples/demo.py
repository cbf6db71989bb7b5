"""Runs the wine pipeline twice and shows that the second run is served entirely from cache.

`python examples/demo.py [--workspace DIR]` builds the pipeline in a fresh workspace (a new
temporary directory unless one is given), prints the report, builds it again and prints how
many task bodies ran each time. It exits with status 1 if the first run ran nothing or the
second run ran anything: that is the caching promise gokart makes.

Task bodies are counted with luigi's START event, which fires just before a task's `run()`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import luigi

import gokart

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wine_pipeline import format_report, make_report_task  # noqa: E402

started: list[str] = []


@luigi.Task.event_handler(luigi.Event.START)
def _count_start(task: luigi.Task) -> None:
    started.append(task.get_task_family())


def build_once(workspace: str) -> tuple[dict, list[str]]:
    """Builds the report in `workspace` and returns it with the families of the tasks that ran."""
    started.clear()
    report = gokart.build(make_report_task(workspace))
    return report, list(started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--workspace', help='output directory (default: a new temporary directory)')
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix='gokart-demo-') as tmp:
        workspace = args.workspace or tmp
        print(f'workspace: {workspace}')
        first_report, first = build_once(workspace)
        print(format_report(first_report))
        print(f'first run: {len(first)} tasks ran ({", ".join(sorted(set(first)))})')
        second_report, second = build_once(workspace)
        if second:
            print(f'second run: {len(second)} tasks ran: {second}; expected all cache hits', file=sys.stderr)
            return 1
        print('second run: 0 tasks ran, all cache hits')
        if not first:
            print('first run ran nothing: the workspace was not fresh, nothing was shown', file=sys.stderr)
            return 1
        if second_report != first_report:
            print(f'second report differs from the first: {second_report} != {first_report}', file=sys.stderr)
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
