"""The ``gokart`` console command: look at a pipeline without running it.

    gokart tree   [--details] [--no-abbr] [--table] [--ignore NAME] MODULE:TASK [--param value ...]
    gokart report [-o report.html] MODULE:TASK [--param value ...]
    gokart plan   MODULE:TASK [--param value ...]
    gokart why    [--limit N] MODULE:TASK [--param value ...]
    gokart gc     [--yes] [--all-workspaces] [--force] [--older-than 7d] MODULE:TASK [--param value ...] [+ MODULE:TASK2 ...]
    gokart rekey  --to {1,2} [--dry-run] [--copy] MODULE:TASK [--param value ...]
    gokart runs | lineage | diff   (the runs index: see gokart.commands.runs)
    gokart config [--format json]  (every [gokart] setting: value and source)

A task is named ``package.module:Class`` or ``package.module.Class`` (a bare registered class name also
works); the current directory is importable. Parameters follow the task as ``--name value`` or
``--name=value`` (``-`` and ``_`` are the same) and are read with each luigi parameter's own ``parse``;
an upstream task's parameter is given in luigi's form ``--Class-param value``. The command's own
options go before or after the task. ``python -m gokart`` is the same command.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import luigi
from luigi.cmdline_parser import CmdlineParser

from gokart.commands import config as config_command
from gokart.commands import registry
from gokart.commands import runs as runs_commands
from gokart.commands.registry import Command, Invocation, register_command
from gokart.core.error_messages import did_you_mean
from gokart.core.task_names import task_class_named
from gokart.errors import TaskNameError


class UsageError(Exception):
    """A command line that names no task, an unknown task or parameter, or a bad value."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gokart`` command; returns the exit status."""
    parser, commands = _parser()
    tokens = list(sys.argv[1:] if argv is None else argv)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    if tokens and tokens[0] in commands and _task_help_asked(tokens[1:]):
        return _print_task_help(commands[tokens[0]], tokens)
    arguments = parser.parse_args(_task_parameters_after_task(tokens, commands))
    if not getattr(arguments, 'command', None):
        parser.print_help()
        return 2
    declared = registry.command_named(arguments.command)
    try:
        if not declared.takes_task:  # a class, a path, ids or nothing: the command reads its arguments itself
            return int(declared.run(arguments, Invocation(make_task=make_task)))
        groups = _split_roots(arguments.task)
        if not groups:
            raise UsageError('name a task: MODULE:TASK [--param value ...]')
        if not declared.several_roots and len(groups) > 1:
            several = ' and '.join(c.name for c in registry.commands() if c.several_roots)
            raise UsageError(f'gokart {arguments.command} takes one task; only {several} takes several, separated by "+"')
        command = commands[arguments.command]
        lines = [sort_tokens(tokens, _options_of(command)) for tokens in groups]
        command.parse_args([token for line in lines for token in line.options], namespace=arguments)
        upstream = [token for line in lines for token in line.upstream]
        with _upstream_parameters([next(line.family for line in lines if line.family), *upstream] if upstream else []):
            roots = [make_task(line.task) for line in lines]
            return int(declared.run(arguments, Invocation(roots=roots, make_task=make_task)))
    except UsageError as e:
        print(f'gokart {arguments.command}: {e}', file=sys.stderr)
        return 2


def _task_help_asked(tokens: list[str]) -> bool:
    """``--help`` (or ``-h``) given together with a task: the help is then the command's and the task's parameters."""
    return any(t in ('-h', '--help') for t in tokens) and any(_looks_like_task(t) for t in tokens)


def _print_task_help(command: argparse.ArgumentParser, tokens: list[str]) -> int:
    """The command's help, then every parameter of the named task with its type and default."""
    spec = next(t for t in tokens[1:] if _looks_like_task(t))
    try:
        cls = find_task_class(spec)
    except UsageError as e:
        print(f'gokart {tokens[0]}: {e}', file=sys.stderr)
        return 2
    print(command.format_help())
    common = _common_parameters(cls)
    own = [(n, p) for n, p in cls.get_params() if n not in common]
    print(f'Parameters of {spec}, given after it as --name value:')
    for line in parameter_help(own) or ['(none of its own)']:
        print(f'  {line}')
    shared = [(n, p) for n, p in cls.get_params() if n in common]
    if shared:
        print('Parameters every gokart task has:')
        for line in parameter_help(sorted(shared, key=lambda item: item[0] != 'workspace_directory')):
            print(f'  {line}')
    return 0


def _common_parameters(cls: Any) -> set[str]:
    """The names of the parameters that ``cls`` inherits from TaskOnKart (none for a plain luigi task)."""
    from gokart.task import TaskOnKart

    return {name for name, _ in TaskOnKart.get_params()} if issubclass(cls, TaskOnKart) else set()


def parameter_help(params: Sequence[tuple[str, Any]]) -> list[str]:
    """One line per parameter: its flag, its kind, its default (or that it is required), whether it is in the id."""
    rows = []
    for name, parameter in params:
        default = parameter._default
        if default is luigi.parameter._no_value:
            value = 'required'
        else:
            value = f'default {default!r}'
        significance = '' if parameter.significant else ', not part of the id'
        description = f': {parameter.description}' if parameter.description else ''
        rows.append((f'--{name.replace("_", "-")}', f'{type(parameter).__name__}, {value}{significance}{description}'))
    width = max((len(flag) for flag, _ in rows), default=0)
    return [f'{flag:<{width}}  {text}' for flag, text in rows]


TASK_EPILOG = (
    "The task's parameters follow it as --name value; gokart COMMAND MODULE:TASK --help lists them. Every gokart task also "
    'takes --workspace-directory DIR, where its outputs and log/ records are (default ./resources/), and --rerun.'
)


def _task_parameters_after_task(argv: list[str], commands: dict[str, argparse.ArgumentParser]) -> list[str]:
    """``argv`` with task parameters given before ``MODULE:TASK`` moved after it, where the task's parsing reads them.

    The command's own options stay in front. A ``--name`` without ``=`` takes the next token as its value
    unless that token looks like the task (``module:Class`` or ``module.Class``), so ``--rerun pkg:Task`` works.
    """
    if not argv or argv[0] not in commands:
        return argv
    argv = list(argv)
    options = _options_of(commands[argv[0]])
    # `gokart cache push ...` (action_word): the word goes after the command's options, right before the task.
    takes_word = registry.command_named(argv[0]).action_word
    action = [argv.pop(1)] if takes_word and len(argv) > 1 and not argv[1].startswith('-') and not _looks_like_task(argv[1]) else []
    front, moved = [argv[0]], list[str]()
    position = 1
    while position < len(argv):
        token = argv[position]
        name, _, _ = token.partition('=')
        if not token.startswith('-') or token == '+':
            break
        following = argv[position + 1] if position + 1 < len(argv) else None
        takes_value = flag_takes_value(token, following, options.get(name))
        destination = front if name in options else moved
        destination.extend(argv[position : position + 1 + int(takes_value)])
        position += 1 + int(takes_value)
    rest = argv[position:]
    return front + action + rest[:1] + moved + rest[1:]


def _looks_like_task(token: str) -> bool:
    if token.startswith('-'):
        return False
    if ':' in token:
        return True
    module, _, name = token.rpartition('.')
    return bool(module) and name[:1].isupper()


@dataclass
class CommandLine:
    """The tokens of one root: its own parameters, the command's options, and upstream ``--Class-param`` ones."""

    task: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    upstream: list[str] = field(default_factory=list)
    family: str = ''  # a task family for luigi's parser, which wants one first (any will do)


def sort_tokens(tokens: Sequence[str], command_options: dict[str, bool] | None = None) -> CommandLine:
    """Split ``MODULE:TASK --param v ...`` into the task's own tokens, command options and upstream parameters.

    A name is the task's parameter first, then one of ``command_options`` (option -> takes a value), then
    luigi's ``--Class-param`` of a registered task class; anything else stays with the task, whose
    parsing reports it.
    """
    line = CommandLine()
    if not tokens:
        return line
    line.task.append(tokens[0])
    params = dict(find_task_class(tokens[0]).get_params())
    options = command_options or {}
    upstream = _upstream_flags()
    position = 1
    while position < len(tokens):
        token = tokens[position]
        name, _, _ = token.partition('=')
        key = name[2:].replace('-', '_') if name.startswith('--') else None
        following = tokens[position + 1] if position + 1 < len(tokens) else None
        if key is not None and key in params:
            destination, declared = line.task, params[key]
        elif name in options:
            destination, declared = line.options, options[name]
        elif key is not None and key in upstream:
            destination, declared = line.upstream, upstream[key][1]
            line.family = line.family or upstream[key][0]
        else:
            destination, declared = line.task, False  # the task's parsing reports it; the next token is not taken
        takes_value = flag_takes_value(token, following, declared)
        destination.append(token)
        if takes_value:
            destination.append(tokens[position + 1])
            position += 1
        position += 1
    return line


def flag_takes_value(token: str, following: str | None, declared: bool | luigi.Parameter | None) -> bool:
    """Whether the flag ``token`` takes ``following`` as its value: the one rule of the ``gokart`` command line.

    ``--name=value`` carries its own value, and a last token takes none. Otherwise it depends on what
    the flag is (``declared``): a command option as argparse declares it (True/False); a luigi
    parameter always, except a ``BoolParameter`` before another flag (alone it means true, as in
    luigi); a flag not known yet (None) unless the next token is the task (``--rerun pkg:Task``).
    """
    if '=' in token or following is None:
        return False
    if isinstance(declared, bool):
        return declared
    if isinstance(declared, luigi.Parameter):
        return not (isinstance(declared, luigi.BoolParameter) and following.startswith('--'))
    return not _looks_like_task(following)


def _upstream_flags() -> dict[str, tuple[str, luigi.Parameter]]:
    """luigi's ``--Class-param`` of every registered task class, spelled with underscores, to its family and parameter."""
    flags: dict[str, tuple[str, luigi.Parameter]] = {}
    for family, cls in luigi.task_register.Register._get_reg().items():
        if not (isinstance(cls, type) and issubclass(cls, luigi.Task)):
            continue  # a family name that two classes share: luigi cannot resolve it either
        for name, parameter in cls.get_params():
            flags[f'{family}_{name}'.replace('-', '_')] = (family, parameter)
    return flags


@contextlib.contextmanager
def _upstream_parameters(tokens: list[str]) -> Iterator[None]:
    """Give upstream tasks the ``--Class-param`` values through luigi's own command-line parser, as ``gokart.run`` does."""
    if not tokens:
        yield
        return
    try:
        context = CmdlineParser.global_instance(tokens)
        context.__enter__()
    except SystemExit:
        raise UsageError(f'luigi cannot read {" ".join(tokens[1:])} (see above): give upstream parameters as --Class-param value')
    try:
        yield
    finally:
        context.__exit__(None, None, None)


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
            flag, flags = f'--{name.replace("_", "-")}', [f'--{n.replace("_", "-")}' for n in params]
            raise UsageError(
                f'{cls.__name__} has no parameter {flag}.{did_you_mean(flag, flags)} '
                f'Its significant parameters: {known}. '
                "An upstream task's parameter is given as --Class-param value."
            )
        parameter = params[name]
        if not has_value:
            following = rest[position + 1] if position + 1 < len(rest) else None
            if following is not None and flag_takes_value(token, following, parameter):
                value = following
                position += 1
            elif isinstance(parameter, luigi.BoolParameter):
                value = 'true'  # --flag alone, as luigi reads it
            else:
                raise UsageError(f'--{name.replace("_", "-")} needs a value')
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
    try:
        return task_class_named(spec)
    except TaskNameError as e:
        raise UsageError(str(e)) from e


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
    from gokart.commands.report import write_report

    path = write_report(roots[0], arguments.output)
    print(f'wrote {path}')
    _print_scheme_line(roots[0])
    return 0


def _plan(arguments: argparse.Namespace, roots: list[Any]) -> int:
    from gokart.commands.explain import plan
    from gokart.contracts.describe import declared_columns

    steps = plan(roots[0])
    running = [s for s in steps if s.will_run]
    for step in steps:
        print(step.describe())
        for line in declared_columns(step.task):
            print(f'        {line}')
    _print_scheme_line(roots[0])
    from gokart.records.main_module import plan_warning

    warning = plan_warning([step.task for step in steps])
    if warning is not None:
        print(f'TwoCachesWarning: {warning}')
    print(f'{len(running)} to run, {len(steps) - len(running)} cached')
    return 1 if _print_broken_contracts(steps) else 0


def _print_broken_contracts(steps: list[Any]) -> bool:
    """Print the broken frame contracts of the plan (gokart.Schema) to stderr, as a build would raise them; True if any."""
    from gokart.contracts.dag_check import check_contracts, contract_error_message

    cached = {step.task: not step.will_run for step in steps}
    check = check_contracts([step.task for step in steps], cached.get)
    if check.problems:
        print(f'SchemaContractError: {contract_error_message(check.problems)}', file=sys.stderr)
    return bool(check.problems)


def _why(arguments: argparse.Namespace, roots: list[Any]) -> int:
    from gokart.commands.explain import why
    from gokart.records import run_records

    task = roots[0]
    step = why(task)
    head = f'{step.name}[{step.unique_id}]'
    if not step.will_run:
        where = 'is in the shared workspace; a build would fetch it and load it' if step.shared else 'exists; a build would load it'
        print(f'{head}: its output {where}.')
        return 0
    print(f'{head}: a build would run it: {step.explanation()}')
    _print_causes(step, depth=1, seen=set())
    if step.own_run is not None:
        print(f'  its own run {step.own_run.unique_id} is recorded in {run_records.log_directory(task.workspace_directory)}/; missing now:')
        for path in step.own_run.output_paths:
            print(f'    {path}')
    if not step.runs:
        if step.own_run is None:
            print(f'  no run of {step.name} is recorded in {run_records.directory(task.workspace_directory, run_records.TASK_PARAMS)}/.')
        return 1
    print(f'Other recorded runs of {step.name}, nearest first:')
    for run in step.runs[: arguments.limit]:
        state = 'output exists' if run.output_exists else 'output missing'
        print(f'  {run.unique_id} ({state})')
        shown = run.differences[:WHY_DIFFERENCES]
        for difference in shown:
            kind = 'upstream' if difference.upstream else 'parameter'
            print(f'    {kind} {difference.describe()}')
        if len(run.differences) > len(shown):
            print(f'    and {len(run.differences) - len(shown)} more differences')
        if not run.differences:
            print('    same significant parameters: the id differs through the code or an upstream task (see above)')
    return 1


def _print_causes(step: Any, depth: int, seen: set[str]) -> None:
    """Each upstream task that will run and why, then what made it run, down to the first cause (an edited helper, a leaf parameter)."""
    for difference in step.differences:
        if difference.detail is None:
            continue
        name = difference.name.partition(' ')[0]
        print(f'{"  " * depth}{name}: {difference.detail}')
        inner = difference.step
        if inner is not None and name not in seen:
            seen.add(name)
            _print_causes(inner, depth + 1, seen)


def _count(items: list[Any], human_size: Any) -> str:
    """``3 files, 1.2 KiB`` (with ``and N incomplete uploads`` when there are any) for a group of garbage."""
    uploads = sum(1 for g in items if g.upload_id is not None)
    what = f'{len(items) - uploads} files' + (f' and {uploads} incomplete uploads' if uploads else '')
    return f'{what}, {human_size(sum(g.size for g in items))}'


def _left(elsewhere: list[Any], human_size: Any) -> str:
    """What --yes left in workspaces other than the named ones, and how to delete it too."""
    if not elsewhere:
        return ''
    where = ', '.join(sorted({g.workspace for g in elsewhere}))
    return f'; left {_count(elsewhere, human_size)} in {where} (not the named workspace): add --all-workspaces to delete them too'


WHY_DIFFERENCES = 5  # lines of differences per recorded run: a few, so many runs stay readable


def _gc(arguments: argparse.Namespace, roots: list[Any]) -> int:
    from gokart.commands.gc import WorkspaceAccessError, delete_garbage, survey
    from gokart.core.human_units import human_size, parse_duration
    from gokart.errors import MissingBucketError, StorageUnavailableError

    try:
        older_than = parse_duration(arguments.older_than) if arguments.older_than is not None else None
    except ValueError as e:
        raise UsageError(f'--older-than: {e}')
    try:
        found = survey(roots, older_than=older_than)
        garbage = found.garbage
        kept_young = ''
        if found.young:
            kept_young = (
                f' ({found.young} younger than {arguments.older_than} kept)'
                if arguments.older_than
                else f' ({found.young} recent temporaries, leases or uploads kept: work in progress may own them)'
            )
        width = max((len(item.kind) for item in garbage), default=0)
        for workspace, items in found.by_workspace().items():
            named = (
                '' if workspace in found.named else ' (an upstream workspace, not the one named: --yes leaves it unless --all-workspaces)'
            )
            print(f'{workspace}: {_count(items, human_size)}{named}')
            for item in items:
                print(f'  {human_size(item.size):>10}  {item.kind:<{width}}  {item.path}')
        elsewhere = [] if arguments.all_workspaces else [g for g in garbage if g.workspace not in found.named]
        left = {id(g) for g in elsewhere}
        total = human_size(sum(g.size for g in garbage))
        uploads = sum(1 for g in garbage if g.upload_id is not None)
        files = len(garbage) - uploads
        if not garbage:
            print(f'nothing to collect{kept_young}')
        elif found.unreachable and not found.kept and not arguments.force:
            where = ', '.join(found.workspaces)
            print(
                f'no file of the given DAG exists in {where}: are these the parameters and the directory it was built with? '
                f'Nothing {"deleted" if arguments.yes else "would be deleted"}; pass --force to treat all {found.unreachable} files as garbage.'
            )
            return 1
        elif arguments.yes:
            deleted = [g for g in garbage if id(g) not in left]
            delete_garbage(deleted)
            uploads = sum(1 for g in deleted if g.upload_id is not None)
            aborted = f', aborted {uploads} incomplete uploads' if uploads else ''
            size = human_size(sum(g.size for g in deleted))
            print(f'deleted {len(deleted) - uploads} files{aborted}, {size} in all{kept_young}{_left(elsewhere, human_size)}')
        elif elsewhere:
            in_named = [g for g in garbage if id(g) not in left]
            where = ', '.join(sorted({g.workspace for g in elsewhere}))
            print(
                f'{_count(garbage, human_size)} in all{kept_young}; --yes would delete the {_count(in_named, human_size)} in '
                f'{", ".join(found.named)} and leave those in {where}; --yes --all-workspaces deletes them all'
            )
        else:
            what = f'{files} files' + (f' and {uploads} incomplete uploads' if uploads else '')
            print(f'{what}, {total} in all, would be deleted{kept_young}; run again with --yes to delete them')
    except (WorkspaceAccessError, MissingBucketError, StorageUnavailableError) as e:
        print(f'gokart gc: {e}', file=sys.stderr)
        return 1
    return 0


def _why_and_scheme(arguments: argparse.Namespace, roots: list[Any]) -> int:
    status = _why(arguments, roots)
    _print_scheme_line(roots[0])
    return status


def _print_scheme_line(task: Any) -> None:
    """Which id scheme is in force and which one the task's workspace holds, once scheme 2 is in either (see docs/ids.md)."""
    from gokart.ids import id_scheme
    from gokart.records import run_records

    census = run_records.scheme_census(task.workspace_directory)
    if id_scheme.current() != 1 or census.verdict() not in ('1', 'empty'):
        print(census.describe(id_scheme.current()))


def _rekey(arguments: argparse.Namespace, roots: list[Any]) -> int:
    from gokart.commands.rekey import CONFLICT, rekey

    if arguments.to is None:
        raise UsageError('say which id scheme to move to: --to 2 (Merkle ids) or --to 1 (gokart 1.12 ids)')
    result = rekey(roots[0], arguments.to, dry_run=arguments.dry_run, copy=arguments.copy)
    for line in result.table():
        print(line)
    return 1 if result.count(CONFLICT) else 0


def _cache(arguments: argparse.Namespace, roots: list[Any]) -> int:
    from gokart.commands import cache

    action = getattr(arguments, 'action', None)
    if action not in cache.ACTIONS:
        raise UsageError(f'{action!r} is not one of push, pull, status: gokart cache {{push,pull,status}} MODULE:TASK [--param value ...]')
    return cache.run(action, roots[0], arguments.dry_run)


def _options_of(command: argparse.ArgumentParser) -> dict[str, bool]:
    """The option strings of a subcommand, each with whether it takes a value."""
    return {flag: action.nargs != 0 for action in command._actions if action.option_strings for flag in action.option_strings}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version('gokart')
    except PackageNotFoundError:
        return 'unknown (not installed)'


GC_HELP = (
    'List the workspace files that no task of the given DAGs produces or reads (files whose name carries a unique id '
    'that none of those tasks has), with their log/ records, and the leftovers of interrupted work: temporary files '
    '(.gokart-tmp), expired run-lock leases (.gokart-leases/) and, on S3, incomplete multipart uploads; delete them '
    'with --yes. Works on local, s3:// and gs:// workspaces alike. Several pipelines can share a workspace: join their '
    'roots with "+" so that every DAG you want to keep is counted, e.g. gokart gc pipe:Train + pipe:Report --yes. '
    'When no file of the given DAGs exists in the workspace (wrong parameters or directory), gc deletes nothing unless --force. '
    'The garbage is shown by workspace directory, with a count and size each; upstream tasks may write to another workspace '
    "than the root's (their own workspace_directory, ./resources/ by default): --yes deletes only in the root's workspace, "
    'and says what it left elsewhere, unless --all-workspaces is given.'
)


REKEY_HELP = (
    'Construct the DAG under id schemes 1 and 2 and rename (or copy) every existing output and log/ record of each '
    'task from its name under the other scheme to its name under --to, locally or on an object store. Prints one row '
    'per task; running it again finishes an interrupted rekey and changes nothing after a complete one.'
)


CACHE_HELP = (
    'status: each task of the DAG as local, shared, both or missing. push: upload the outputs and log/ records of '
    'the tasks that are complete locally and not yet shared (never overwriting; signed with [gokart] shared_signing_key '
    'when set). pull: fetch what a build of the task would load from the shared workspace.'
)


def _tree_options(tree: argparse.ArgumentParser) -> None:
    tree.add_argument('--details', action='store_true', help='add parameters, outputs, times and task logs')
    tree.add_argument('--no-abbr', action='store_true', help='print repeated subtrees in full')
    tree.add_argument('--table', action='store_true', help='print the task table (tab separated) instead')
    tree.add_argument('--ignore', action='append', metavar='NAME', help='leave out tasks of this class (repeatable)')


def _report_options(report: argparse.ArgumentParser) -> None:
    report.add_argument('-o', '--output', default='report.html', help='file to write (default report.html)')


def _why_options(why: argparse.ArgumentParser) -> None:
    why.add_argument('--limit', type=int, default=5, help='recorded runs to show (default 5)')


def _gc_options(gc: argparse.ArgumentParser) -> None:
    gc.add_argument('--yes', action='store_true', help='delete them')
    gc.add_argument('--force', action='store_true', help='delete even when no file of the given DAGs exists in the workspace')
    gc.add_argument(
        '--all-workspaces',
        action='store_true',
        help="with --yes, also delete in upstream tasks' workspaces other than the named one (by default only listed)",
    )
    gc.add_argument(
        '--older-than',
        metavar='DURATION',
        help='keep anything changed more recently than this, e.g. 7d, 12h, 30m (default: keep temporaries and uploads younger than 1h)',
    )


def _rekey_options(rekey: argparse.ArgumentParser) -> None:
    rekey.add_argument('--to', type=int, choices=(1, 2), help='the id scheme to move to (required)')
    rekey.add_argument('--dry-run', action='store_true', help='print what would be renamed; change nothing')
    rekey.add_argument('--copy', action='store_true', help='copy instead of renaming (the old names stay)')


def _cache_options(cache: argparse.ArgumentParser) -> None:
    # SUPPRESS: the options are parsed a second time, without the action word, which must not reset it.
    cache.add_argument('action', nargs='?', default=argparse.SUPPRESS, help='push, pull or status')
    cache.add_argument('--dry-run', action='store_true', help='push: list the files it would upload; upload nothing')


def _on_roots(handler: Any) -> Any:
    """A handler of (arguments, roots) as a Command's run."""
    return lambda arguments, invocation: handler(arguments, invocation.roots)


for _command in (
    Command('tree', 'print the task tree (or table)', _on_roots(_tree), _tree_options),
    Command('report', 'write the HTML report of the DAG', _on_roots(_report), _report_options),
    Command('plan', 'dry run: what a build would run, what is cached, and why', _on_roots(_plan)),
    Command(
        'why', 'why a task has no output: the nearest cached runs of its class and what differs', _on_roots(_why_and_scheme), _why_options
    ),
    Command(
        'gc',
        'workspace files no given task reaches (dry run unless --yes)',
        _on_roots(_gc),
        _gc_options,
        several_roots=True,
        description=GC_HELP,
        usage='gokart gc [--yes] [--all-workspaces] [--force] [--older-than DURATION] MODULE:TASK [--param value ...] [+ MODULE:TASK2 [--param value ...] ...]',
    ),
    Command(
        'rekey',
        'rename the outputs and log/ records of a DAG to its ids under another id scheme',
        _on_roots(_rekey),
        _rekey_options,
        description=REKEY_HELP,
        usage='gokart rekey --to {1,2} [--dry-run] [--copy] MODULE:TASK [--param value ...]',
    ),
    Command(
        'cache',
        'the team cache ([gokart] shared_workspace): push a DAG to it, pull what a build loads, or the status of each task',
        _on_roots(_cache),
        _cache_options,
        action_word=True,
        description=CACHE_HELP,
        usage='gokart cache {push,pull,status} [--dry-run] MODULE:TASK [--param value ...]',
    ),
    *runs_commands.COMMAND_ENTRIES,
    config_command.COMMAND,
):
    register_command(_command)


def _parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    # allow_abbrev=False everywhere: argparse's prefix matching would take a misspelled option for another one.
    parser = argparse.ArgumentParser(
        prog='gokart',
        description='Look at a gokart pipeline: its tree, an HTML report, what a build would run and why.',
        allow_abbrev=False,
    )
    parser.add_argument('--version', action='version', version=f'gokart {_version()}')
    subparsers = parser.add_subparsers(dest='command', metavar='COMMAND')
    for command in registry.commands():
        if command.parser is not None:
            command.parser(subparsers)
            continue
        extra: dict[str, Any] = {'description': command.description} if command.description else {}
        if command.usage:
            extra['usage'] = command.usage
        epilog = TASK_EPILOG if command.takes_task else None
        own = subparsers.add_parser(command.name, help=command.help, allow_abbrev=False, epilog=epilog, **extra)
        if command.options is not None:
            command.options(own)
        if command.takes_task:
            own.add_argument(
                'task',
                nargs=argparse.REMAINDER,
                help='MODULE:TASK then its parameters as --name value'
                + ('; "+" starts another root whose DAG is kept too' if command.several_roots else ''),
            )
    return parser, dict(subparsers.choices)


if __name__ == '__main__':
    sys.exit(main())
