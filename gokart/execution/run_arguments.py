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
"""

from __future__ import annotations

import logging

from luigi.cmdline_parser import CmdlineParser
from luigi.parameter import MissingParameterException, Parameter
from luigi.task_register import Register

from gokart.errors import MissingParameterError, TaskParameterError, TaskParameterTypeError

logger = logging.getLogger(__name__)


def check_command_line(cmdline_args: list[str]) -> None:
    """Raise, naming the task and the flag, when the root task of ``cmdline_args`` cannot be made from it."""
    with CmdlineParser.global_instance(cmdline_args) as parser:
        known = parser.known_args
        root = known.root_task
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


def _flag_given(cmdline_args: list[str], global_flag: str, local_flag: str) -> str:
    """Whichever spelling of the parameter's flag the command line used (luigi stores both in one place)."""
    used = {arg.partition('=')[0] for arg in cmdline_args}
    return global_flag if global_flag in used or local_flag not in used else local_flag


__all__ = ['check_command_line']
