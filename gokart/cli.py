"""The ``gokart`` console command: look at a pipeline without running it.

    gokart tree   [--details] [--no-abbr] [--table] [--ignore NAME] MODULE:TASK [--param value ...]
    gokart report [-o report.html] MODULE:TASK [--param value ...]
    gokart plan   MODULE:TASK [--param value ...]
    gokart why    MODULE:TASK [--param value ...]
    gokart gc     [--yes] MODULE:TASK [--param value ...] [+ MODULE:TASK2 ...]

A task is named ``package.module:Class`` or ``package.module.Class`` (a bare registered class name also
works); the current directory is importable. Parameters follow the task as ``--name value`` or
``--name=value`` (``-`` and ``_`` are the same) and are read with each luigi parameter's own ``parse``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

import luigi


class UsageError(Exception):
    """A command line that names no task, an unknown task or parameter, or a bad value."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gokart`` command; returns the exit status."""
    parser = _parser()
    arguments = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if not getattr(arguments, 'command', None):
        parser.print_help()
        return 2
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        roots = [make_task(spec) for spec in _split_roots(arguments.task)]
        if not roots:
            raise UsageError('name a task: MODULE:TASK [--param value ...]')
        if arguments.command != 'gc' and len(roots) > 1:
            raise UsageError(f'gokart {arguments.command} takes one task; only gc takes several, separated by "+"')
        return int(_COMMANDS[arguments.command](arguments, roots))
    except UsageError as e:
        print(f'gokart {arguments.command}: {e}', file=sys.stderr)
        return 2


def make_task(tokens: Sequence[str]) -> Any:
    """The task instance named by ``tokens``: a task spec then ``--name value`` pairs."""
    if not tokens:
        raise UsageError('name a task: MODULE:TASK [--param value ...]')
    spec, rest = tokens[0], list(tokens[1:])
    cls = find_task_class(spec)
    params = dict(cls.get_params())
    kwargs: dict[str, Any] = {}
    position = 0
    while position < len(rest):
        token = rest[position]
        if not token.startswith('--'):
            raise UsageError(f'expected --name value, got {token!r}')
        name, has_value, value = token[2:].partition('=')
        name = name.replace('-', '_')
        if name not in params:
            known = ', '.join(f'--{n.replace("_", "-")}' for n, p in params.items() if p.significant) or '(none)'
            raise UsageError(f'{cls.__name__} has no parameter --{name.replace("_", "-")}; its significant parameters: {known}')
        parameter = params[name]
        if not has_value:
            following = rest[position + 1] if position + 1 < len(rest) else None
            if isinstance(parameter, luigi.BoolParameter) and (following is None or following.startswith('--')):
                value = 'true'
            elif following is None:
                raise UsageError(f'--{name.replace("_", "-")} needs a value')
            else:
                value = following
                position += 1
        try:
            kwargs[name] = parameter.parse(value)
        except Exception as e:
            raise UsageError(f'bad value {value!r} for --{name.replace("_", "-")}: {type(e).__name__}: {e}')
        position += 1
    try:
        return cls(**kwargs)
    except Exception as e:
        raise UsageError(f'cannot make {cls.__name__}: {type(e).__name__}: {e}')


def find_task_class(spec: str) -> Any:
    """The class named ``module:Class``, ``module.Class``, or a bare class name registered with luigi."""
    module_name, separator, class_name = spec.partition(':')
    if not separator:
        module_name, _, class_name = spec.rpartition('.')
    if module_name:
        try:
            module = importlib.import_module(module_name)
        except ImportError as e:
            raise UsageError(f'cannot import {module_name}: {e}')
        cls = getattr(module, class_name, None)
        if cls is None:
            raise UsageError(f'{module_name} has no {class_name}')
    else:
        try:
            cls = luigi.task_register.Register.get_task_cls(class_name)
        except Exception:
            raise UsageError(f'unknown task {class_name!r}: name it as MODULE:TASK')
    if not (isinstance(cls, type) and issubclass(cls, luigi.Task)):
        raise UsageError(f'{spec} is not a luigi task class')
    return cls


def _split_roots(tokens: list[str]) -> list[list[str]]:
    groups: list[list[str]] = [[]]
    for token in tokens:
        if token == '+':
            groups.append([])
        else:
            groups[-1].append(token)
    return [g for g in groups if g]


def _tree(arguments: argparse.Namespace, roots: list[Any]) -> int:
    from gokart.tree.task_info import make_task_info_as_table, make_task_info_as_tree_str

    ignored = arguments.ignore or None
    if arguments.table:
        print(make_task_info_as_table(roots[0], ignore_task_names=ignored).to_csv(index=False, sep='\t'), end='')
    else:
        print(
            make_task_info_as_tree_str(roots[0], details=arguments.details, abbr=not arguments.no_abbr, ignore_task_names=ignored).lstrip(
                '\n'
            )
        )
    return 0


def _report(arguments: argparse.Namespace, roots: list[Any]) -> int:
    from gokart.report import write_report

    path = write_report(roots[0], arguments.output)
    print(f'wrote {path}')
    return 0


def _plan(arguments: argparse.Namespace, roots: list[Any]) -> int:
    from gokart.explain import plan

    steps = plan(roots[0])
    running = [s for s in steps if s.will_run]
    for step in steps:
        print(step.describe())
    print(f'{len(running)} to run, {len(steps) - len(running)} cached')
    return 0


def _why(arguments: argparse.Namespace, roots: list[Any]) -> int:
    from gokart.explain import why

    task = roots[0]
    exists, runs = why(task)
    head = f'{type(task).__name__}[{task.make_unique_id()}]'
    if exists:
        print(f'{head}: its output exists; a build would load it.')
        return 0
    if getattr(task, 'rerun', False):
        print(f'{head}: rerun is set, so a build would delete and remake its output.')
    if not runs:
        print(f'{head}: no output, and no run of {type(task).__name__} is recorded in {task.workspace_directory}log/task_params/.')
        return 1
    print(f'{head}: no output. Recorded runs of {type(task).__name__}, nearest first:')
    for run in runs[: arguments.limit]:
        state = 'output exists' if run.output_exists else 'output missing'
        print(f'  {run.unique_id} ({state})')
        for difference in run.differences or []:
            kind = 'upstream' if difference.upstream else 'parameter'
            print(f'    {kind} {difference.describe()}')
        if not run.differences:
            print('    no significant parameter or upstream id differs (the class code may be part of the id)')
    return 1


def _gc(arguments: argparse.Namespace, roots: list[Any]) -> int:
    from gokart.workspace_gc import delete_garbage, find_garbage

    garbage = find_garbage(roots)
    for item in garbage:
        print(f'{item.size:>12,d}  {item.path}')
    total = sum(g.size for g in garbage)
    if not garbage:
        print('nothing to collect')
    elif arguments.yes:
        delete_garbage(garbage)
        print(f'deleted {len(garbage)} files, {total:,d} bytes')
    else:
        print(f'{len(garbage)} files, {total:,d} bytes not reachable from the given tasks; run again with --yes to delete them')
    return 0


_COMMANDS = {'tree': _tree, 'report': _report, 'plan': _plan, 'why': _why, 'gc': _gc}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='gokart', description='Look at a gokart pipeline: its tree, an HTML report, what a build would run and why.'
    )
    commands = parser.add_subparsers(dest='command', metavar='COMMAND')
    task_help = 'MODULE:TASK then its parameters as --name value'

    tree = commands.add_parser('tree', help='print the task tree (or table)')
    tree.add_argument('--details', action='store_true', help='add parameters, outputs, times and task logs')
    tree.add_argument('--no-abbr', action='store_true', help='print repeated subtrees in full')
    tree.add_argument('--table', action='store_true', help='print the task table (tab separated) instead')
    tree.add_argument('--ignore', action='append', metavar='NAME', help='leave out tasks of this class (repeatable)')

    report = commands.add_parser('report', help='write the HTML report of the DAG')
    report.add_argument('-o', '--output', default='report.html', help='file to write (default report.html)')

    commands.add_parser('plan', help='dry run: what a build would run, what is cached, and why')
    why = commands.add_parser('why', help='why a task has no output: the nearest cached runs of its class and what differs')
    why.add_argument('--limit', type=int, default=5, help='recorded runs to show (default 5)')
    gc = commands.add_parser('gc', help='workspace files no given task reaches (dry run unless --yes)')
    gc.add_argument('--yes', action='store_true', help='delete them')
    for command in commands.choices.values():
        command.add_argument('task', nargs=argparse.REMAINDER, help=task_help)
    return parser


if __name__ == '__main__':
    sys.exit(main())
