"""The command line of ``gokart.run``, checked before anything runs: a bad value is one line, not a traceback.

luigi parses a parameter's value only when it constructs the task, deep inside its scheduling code, so
``python pipeline.py Task --x abc`` used to end in a traceback from ``IntParameter.parse``. Here every
value given on the command line (``--x`` of the root task, ``--Class-x`` of any task) is parsed first;
a value its parameter refuses, or a required parameter left out, exits with status 2 and one line
that names the task and the flag, as the ``gokart`` command does.
"""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn

from luigi.cmdline_parser import CmdlineParser
from luigi.parameter import MissingParameterException
from luigi.task_register import Register

USAGE_ERROR = 2


def check_command_line(cmdline_args: list[str]) -> None:
    """Exit with status 2 and one line on stderr when a parameter value of ``cmdline_args`` is unusable."""
    with CmdlineParser.global_instance(cmdline_args) as parser:
        known = parser.known_args
        root = known.root_task
        for task_name, is_root_flag, param_name, parameter in Register.get_all_params():
            if is_root_flag and task_name != root:
                continue
            value = getattr(known, parameter._parser_global_dest(param_name, task_name), None)
            if task_name == root and value is None:
                value = getattr(known, param_name, None)
            if value is None:
                continue
            flag = _flag_given(cmdline_args, f'--{task_name}-{param_name}'.replace('_', '-'), f'--{param_name.replace("_", "-")}')
            try:
                parameter.parse(value)
            except Exception as e:
                _exit(f'{task_name}: bad value {value!r} for {flag}: {type(e).__name__}: {e}')
        try:
            parser.get_task_obj()
        except MissingParameterException as e:
            _exit(str(e))


def _flag_given(cmdline_args: list[str], global_flag: str, local_flag: str) -> str:
    """Whichever spelling of the parameter's flag the command line used (luigi stores both in one place)."""
    used = {arg.partition('=')[0] for arg in cmdline_args}
    return global_flag if global_flag in used or local_flag not in used else local_flag


def _exit(message: Any) -> NoReturn:
    print(f'{os.path.basename(sys.argv[0]) or "gokart.run"}: {message}', file=sys.stderr)
    sys.exit(USAGE_ERROR)


__all__ = ['check_command_line']
