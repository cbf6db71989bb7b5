"""``gokart runs``, ``gokart lineage`` and ``gokart diff``: the runs index from the command line (see docs/runs.md).

    gokart runs    MODULE:TASK [--where EXPR] [--sort COL] [--desc] [--format table|csv|json] [--html FILE]
    gokart lineage PATH|UNIQUE_ID|MODULE:TASK [--param value ...] [--down] [--depth N]
    gokart diff    ID ID

On a terminal the tables are drawn with rich; piped, they are plain text (or csv/json with --format).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from gokart.commands.registry import Command, Invocation

COMMANDS = ('runs', 'lineage', 'diff')
_TABLE_HIDDEN = (
    'family',
    'end_time',
    'output_paths',
    'requires',
    'error',
    'scheme',
    'code_fingerprint',
    'git_dirty',
    'host',
    'user',
    'source',
)


def _parents() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument('--workspace', metavar='DIR', help="the workspace (default: the task's workspace_directory as configured)")
    shared.add_argument('--no-sync', action='store_true', help='answer from the index as it is, without reading new records')
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument('--format', choices=('table', 'csv', 'json'), default='table', help='output format (default table)')
    return shared, output


def _add_runs(commands: Any) -> None:
    shared, output = _parents()
    runs = commands.add_parser(
        'runs', parents=[shared, output], help='recorded runs of a task class: parameters, metrics, times, state', description=RUNS_HELP
    )
    runs.add_argument('task', metavar='MODULE:TASK', help='the task class')
    runs.add_argument('--where', metavar='EXPR', help='keep the runs for which EXPR holds, e.g. "c > 0.5 and model == \'svm\'"')
    runs.add_argument('--sort', metavar='COL', help='sort by this column')
    runs.add_argument('--desc', action='store_true', help='sort in descending order')
    runs.add_argument('--limit', type=int, metavar='N', help='print the first N rows only')
    runs.add_argument('--html', metavar='FILE', help='also write a self-contained page with a sortable table and a plot')
    runs.add_argument('--x', metavar='PARAM', help='the parameter on the x axis of the --html plot (default: the first numeric one)')
    runs.add_argument('--y', metavar='METRIC', help='the metric on the y axis of the --html plot (default: the first metric)')


def _add_lineage(commands: Any) -> None:
    shared, output = _parents()
    lineage = commands.add_parser(
        'lineage',
        parents=[shared, output],
        help='what produced a file or task (upstream), or what used it (--down)',
        description=LINEAGE_HELP,
    )
    lineage.add_argument('target', metavar='PATH|ID|MODULE:TASK', help='an output path, a recorded unique id, or a task')
    lineage.add_argument('params', nargs=argparse.REMAINDER, help="the task's parameters as --name value")
    lineage.add_argument('--down', action='store_true', help='the runs that consumed it, recursively')
    lineage.add_argument('--depth', type=int, metavar='N', help='follow N levels at most')


def _add_diff(commands: Any) -> None:
    shared, _ = _parents()
    diff = commands.add_parser('diff', parents=[shared], help='what differs between two recorded runs', description=DIFF_HELP)
    diff.add_argument('ids', nargs=2, metavar='ID', help='two unique ids (a prefix of 6 or more characters will do)')


def register(commands: Any) -> None:
    """Add the three subcommands to the ``gokart`` parser's subparsers."""
    for entry in COMMAND_ENTRIES:
        entry.parser(commands)  # type: ignore[misc]


def _run_entry(arguments: argparse.Namespace, invocation: Invocation) -> int:
    return run(arguments, invocation.make_task)  # type: ignore[arg-type]


COMMAND_ENTRIES = (
    Command('runs', 'recorded runs of a task class', _run_entry, takes_task=False, parser=_add_runs),
    Command('lineage', 'what produced a file or task, or what used it', _run_entry, takes_task=False, parser=_add_lineage),
    Command('diff', 'what differs between two recorded runs', _run_entry, takes_task=False, parser=_add_diff),
)
"""The three commands of the runs index, as ``commands.registry`` declares commands."""


RUNS_HELP = (
    'Print one row per recorded run of a task class: its unique id, every significant parameter, the metrics of a '
    'metrics-dict output, start time, processing time, state and whether the output still exists. The index '
    '(.gokart/runs.sqlite) is synced first with what appeared since the last sync.'
)
LINEAGE_HELP = (
    'Upstream (default): the run that produced PATH (or the task), then the runs that produced each of its inputs, '
    'recursively, with their parameters. --down: the recorded runs that consumed it, and theirs, recursively.'
)
DIFF_HELP = 'Parameter, upstream and code differences between two recorded runs, and how their outputs differ (metrics; shape, columns and dtypes of frames).'


def run(arguments: argparse.Namespace, make_task: Callable[[list[str]], Any]) -> int:
    """Run one of ``COMMANDS``; the exit status. ``make_task`` is the ``gokart`` command's (tokens to a task)."""
    from gokart.errors import GokartError

    try:
        if arguments.command == 'runs':
            return _runs(arguments)
        if arguments.command == 'lineage':
            return _lineage(arguments, make_task)
        return _diff(arguments)
    except (GokartError, LookupError, FileNotFoundError, ValueError) as e:
        print(f'gokart {arguments.command}: {e}', file=sys.stderr)
        return 1


def _runs(arguments: argparse.Namespace) -> int:
    import gokart.runs as runs_module
    from gokart.runs.query import task_class

    cls = task_class(arguments.task)
    frame = runs_module.runs(cls, workspace=arguments.workspace, where=arguments.where, sync=not arguments.no_sync)
    if arguments.sort:
        if arguments.sort not in frame.columns:
            raise ValueError(f'--sort {arguments.sort}: no such column; the columns are {", ".join(frame.columns)}')
        frame = frame.sort_values(arguments.sort, ascending=not arguments.desc, kind='stable').reset_index(drop=True)
    if arguments.html:
        from gokart.commands.runs_page import write_runs_page

        write_runs_page(frame, arguments.html, title=f'runs of {cls.__name__}', x=arguments.x, y=arguments.y)
        print(f'wrote {arguments.html}', file=sys.stderr)
    if arguments.limit is not None:
        frame = frame.head(arguments.limit)
    _print_frame(frame, arguments.format, title=f'{len(frame)} runs of {cls.__name__}')
    return 0


def _lineage(arguments: argparse.Namespace, make_task: Callable[[list[str]], Any]) -> int:
    import gokart.runs as runs_module

    target: Any = arguments.target
    arguments.params = _own_options(arguments, arguments.params)
    if not os.path.exists(target) and '://' not in target and _looks_like_task(target):
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        target = make_task([target, *arguments.params])
    elif arguments.params:
        raise ValueError(f'parameters ({" ".join(arguments.params)}) are given to a task, and {target} is a path or an id')
    frame = runs_module.lineage(
        target,
        direction='down' if arguments.down else 'up',
        depth=arguments.depth,
        workspace=arguments.workspace,
        sync=not arguments.no_sync,
    )
    if arguments.format == 'table' and not frame.empty:
        for _, row in frame.iterrows():
            print(_lineage_line(row))
        return 0
    _print_frame(frame, arguments.format, title='lineage')
    return 0


def _own_options(arguments: argparse.Namespace, tokens: list[str]) -> list[str]:
    """``tokens`` (after the target) without the command's own options, which are set on ``arguments``."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument('--workspace', default=arguments.workspace)
    parser.add_argument('--no-sync', action='store_true', default=arguments.no_sync)
    parser.add_argument('--down', action='store_true', default=arguments.down)
    parser.add_argument('--depth', type=int, default=arguments.depth)
    parser.add_argument('--format', choices=('table', 'csv', 'json'), default=arguments.format)
    found, rest = parser.parse_known_args(tokens)
    for name, value in vars(found).items():
        setattr(arguments, name, value)
    return rest


def _looks_like_task(token: str) -> bool:
    if ':' in token:
        return True
    module, _, name = token.rpartition('.')
    return bool(module) and name[:1].isupper()


def _lineage_line(row: Any) -> str:
    params = ', '.join(f'{k}={v}' for k, v in (row['params'] or {}).items())
    start = row['start_time'].strftime('%Y-%m-%d %H:%M:%S') if row['start_time'] is not None else '-'
    via = f'  via {row["path"]}' if row['path'] and row['depth'] else ''
    return f'{"  " * int(row["depth"])}{row["family"]}_{row["unique_id"]} ({params}) {row["state"]} {start}{via}'


def _diff(arguments: argparse.Namespace) -> int:
    import gokart.runs as runs_module

    found = runs_module.diff(arguments.ids[0], arguments.ids[1], workspace=arguments.workspace, sync=not arguments.no_sync)
    print(found)
    return 0


# ----- printing ------------------------------------------------------------------------------
def _print_frame(frame: Any, format: str, title: str) -> None:
    if format == 'csv':
        print(_plain_cells(frame).to_csv(index=False), end='')
        return
    if format == 'json':
        print(frame.to_json(orient='records', date_format='iso', default_handler=str))
        return
    hidden = [*_TABLE_HIDDEN, *(c for c in ('git_commit', 'output_size') if c in frame and frame[c].isna().all())]
    shown = frame[[c for c in frame.columns if c not in hidden]].copy()
    if 'unique_id' in shown:
        shown['unique_id'] = shown['unique_id'].str.slice(0, 12)
    if 'start_time' in shown:
        shown['start_time'] = shown['start_time'].dt.strftime('%Y-%m-%d %H:%M:%S')
    if 'processing_time' in shown:
        shown['processing_time'] = shown['processing_time'].map(lambda s: '' if s != s or s is None else f'{s:.3f}s')
    if sys.stdout.isatty():
        _print_rich(shown, title)
    else:
        print(shown.to_string(index=False) if not shown.empty else f'no {title.split(" ", 1)[-1]}')


def _plain_cells(frame: Any) -> Any:
    copy = frame.copy()
    for column in copy.columns:
        if copy[column].dtype != object:  # an empty frame's time columns are datetime64, which map().any() refuses
            continue
        if copy[column].map(lambda v: isinstance(v, (list, tuple, dict))).any():
            copy[column] = copy[column].map(lambda v: json.dumps(v, default=str) if isinstance(v, (list, tuple, dict)) else v)
    return copy


def _print_rich(frame: Any, title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in frame.columns:
        table.add_column(str(column), justify='right' if frame[column].dtype.kind in 'if' else 'left')
    for row in frame.itertuples(index=False):
        table.add_row(*('' if v is None else str(v) for v in row))
    Console().print(table)
