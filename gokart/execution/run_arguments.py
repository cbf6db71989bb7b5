"""The command line of ``gokart.run``, checked before anything runs, so a bad value is said in one clear sentence.

luigi parses a parameter's value only when it constructs the task, and its errors do not say which flag
was wrong (``Count[args=(), kwargs={}]: Error when parsing the default value of 'x'``). Here every value
given on the command line (``--x`` of the root task, ``--Class-x`` of any task) is parsed first.

What happens next is gokart 1.12's control flow (docs/design.md, "Compatibility rule"); only the words are ours:

- a value the root task's parameter refuses raises what 1.12 raises out of ``gokart.run`` (the parameter's
  ``ValueError`` or ``TypeError``), as ``TaskParameterError`` / ``TaskParameterTypeError`` naming the task
  and the flag;
- a required parameter of the root task left out raises ``MissingParameterError``, a luigi
  ``MissingParameterException``, saying how to give it;
- a bad value for another task's ``--Class-x`` is a warning: 1.12 fails (or not) when that task is
  constructed, and so does this run.

An abbreviated flag is taken as in gokart 1.12, where luigi's parser reads ``--n-bin=7`` as
``--n-bins=7`` (argparse's prefix matching), but with a warning naming the whole flag, since a
misspelled flag could set another parameter. ``[gokart] strict = true`` refuses it: it is then what any
unknown flag is, argparse's ``unrecognized arguments`` error (exit 2). An unknown flag's error is
followed by the flag it resembles.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import logging
import re
from collections.abc import Iterator
from typing import Any, NoReturn

from luigi.cmdline_parser import CmdlineParser
from luigi.parameter import MissingParameterException, Parameter
from luigi.task_register import Register

from gokart.core import strict_mode
from gokart.errors import MissingParameterError, TaskParameterError, TaskParameterTypeError

logger = logging.getLogger(__name__)


def check_command_line(cmdline_args: list[str]) -> None:
    """Raise, naming the task and the flag, when the root task of ``cmdline_args`` cannot be made from it."""
    strict = strict_mode.enabled()
    with _luigi_parsers(abbreviations=not strict), CmdlineParser.global_instance(cmdline_args) as parser:
        known = parser.known_args
        root = known.root_task
        if not strict:
            _warn_on_abbreviations(cmdline_args, root)
        for task_name, is_root_flag, param_name, parameter in Register.get_all_params():
            if is_root_flag and task_name != root:
                continue
            global_flag = f'--{task_name}-{param_name}'.replace('_', '-')
            local_flag = f'--{param_name.replace("_", "-")}'
            value = getattr(known, parameter._parser_global_dest(param_name, task_name), None)
            if task_name == root and value is None:
                value = getattr(known, param_name, None)
            if value is None:
                continue
            _check_value(task_name, task_name == root, _flag_given(cmdline_args, global_flag, local_flag), parameter, value)
        try:
            parser.get_task_obj()
        except MissingParameterException as e:
            if isinstance(e, MissingParameterError):
                raise
            raise MissingParameterError(str(e)) from e


def _check_value(task_name: str, is_root: bool, flag: str, parameter: Parameter, value: str) -> None:
    try:
        parameter.parse(value)
    except Exception as e:
        message = f'{task_name}: bad value {value!r} for {flag}: {type(e).__name__}: {e}'
        if not is_root:
            # 1.12 parses it when the task is constructed, inside the build: that decides the exit code.
            logger.warning(f'{message}. {task_name} cannot be built with it.')
            return
        if isinstance(e, TypeError):
            raise TaskParameterTypeError(message) from e
        if isinstance(e, ValueError) or flag.startswith(f'--{task_name}-'):
            # luigi turns any error of a --Class-x value into a ValueError; a ValueError of --x is the parameter's own.
            raise TaskParameterError(message) from e
        # Another error of --x is left to luigi, which decides what 1.12 does with it.


def _warn_on_abbreviations(cmdline_args: list[str], root: str) -> None:
    """Warn of each ``--flag`` that argparse will take as the one longer flag it begins."""
    flags = {'--help', '--module'}
    for task_name, without_section, param_name, _ in Register.get_all_params():
        flags.add(f'--{task_name}-{param_name}'.replace('_', '-'))
        if without_section or task_name == root:
            flags.add(f'--{param_name.replace("_", "-")}')
    for argument in cmdline_args:
        given = argument.split('=', 1)[0]
        if not given.startswith('--') or given in flags:
            continue
        meant = [flag for flag in flags if flag.startswith(given)]
        if len(meant) == 1:
            logger.warning(
                f'{given} is taken as {meant[0]} (an abbreviation); write the flag in full, '
                'or set [gokart] strict = true to refuse abbreviations.'
            )


@contextlib.contextmanager
def _luigi_parsers(abbreviations: bool) -> Iterator[None]:
    """luigi's command-line parsers, built while this lasts, suggest a flag for an unknown one, and without
    ``abbreviations`` take whole flags only.

    Only the check needs it: a command line it accepts in strict mode has no abbreviation, so luigi's own
    parsing of the same arguments afterwards (abbreviations on) reads every flag exactly as the check did.
    """
    original = CmdlineParser.__dict__['_build_parser']  # the staticmethod itself, put back as it was
    build = CmdlineParser._build_parser

    def build_without_abbreviations(*args: Any, **kwargs: Any) -> argparse.ArgumentParser:
        parser = build(*args, **kwargs)
        parser.allow_abbrev = abbreviations  # read by argparse when it parses, so it may be set after construction
        report = parser.error

        def error(message: str) -> NoReturn:
            report(_ambiguous(message) or message + _suggestion(message, parser))
            raise SystemExit(2)  # not reached: argparse's error exits with 2

        parser.error = error  # type: ignore[method-assign]
        return parser

    CmdlineParser._build_parser = staticmethod(build_without_abbreviations)  # type: ignore[method-assign]
    try:
        yield
    finally:
        CmdlineParser._build_parser = original  # type: ignore[method-assign]


def _suggestion(message: str, parser: argparse.ArgumentParser) -> str:
    """`` (did you mean --n-bins?)`` for each unrecognized flag of argparse's ``message`` that resembles a known one."""
    prefix = 'unrecognized arguments: '
    if not message.startswith(prefix):
        return ''
    known = [flag for action in parser._actions for flag in action.option_strings]
    hints = []
    for argument in message[len(prefix) :].split():
        flag = argument.partition('=')[0]
        if not flag.startswith('--'):
            continue
        extended = [k for k in known if k.startswith(flag)]
        close = extended[:3] if extended else difflib.get_close_matches(flag, known, n=3, cutoff=0.75)
        if close:
            hints.append(f'{flag}: did you mean {" or ".join(close)}?')
    return f' ({"; ".join(hints)})' if hints else ''


def _ambiguous(message: str) -> str | None:
    """argparse's ``ambiguous option: --C could match`` and forty flags, as one line naming the flag meant.

    ``--C`` after the task ``Compare`` begins every ``--Compare-...`` flag, and luigi's first reading of
    the line takes it as an abbreviation of one of them: the flag of the parameter itself is ``--Compare-C``.
    """
    found = re.match(r'ambiguous option: (--[^\s=]+)(?:=\S*)? could match (.+)$', message)
    if found is None:
        return None
    flag, candidates = found.group(1), [c.strip() for c in found.group(2).split(',')]
    owners = [c[2:].split('-', 1)[0] for c in candidates if c.startswith('--') and c[2:].partition('-')[2] == flag[2:]]
    if not owners:
        return f'ambiguous option: {flag} begins {len(candidates)} flags ({", ".join(candidates[:3])}, ...): write the flag whole'
    meant = ' or '.join(f'--{owner}-{flag[2:]}' for owner in owners)
    return f'ambiguous option: {flag} begins {len(candidates)} flags; write {meant} (the parameter {flag[2:]} of {", ".join(owners)})'


def _flag_given(cmdline_args: list[str], global_flag: str, local_flag: str) -> str:
    """Whichever spelling of the parameter's flag the command line used (luigi stores both in one place)."""
    used = {arg.partition('=')[0] for arg in cmdline_args}
    return global_flag if global_flag in used or local_flag not in used else local_flag


__all__ = ['check_command_line']
