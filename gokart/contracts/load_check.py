"""The check ``load()`` makes: an input frame without the columns the task's ``input_schema`` says it reads is named at once.

The plan compares declarations; an input whose producer declares nothing and ran in this very build
is only known when it is loaded. Failing there, naming the input and the column, beats the
``KeyError`` a few lines further down ``run()``. Only column names and dtypes are looked at.
"""

from __future__ import annotations

from typing import Any

from gokart.contracts.dag_check import closest_column
from gokart.contracts.declarations import ALL_OUTPUTS, declarations_of, possibly_declared
from gokart.contracts.frames import Mismatch, compare, frame_columns
from gokart.contracts.schema import Schema
from gokart.core.error_messages import describe_task
from gokart.errors import SchemaMismatchError


def check_loaded(task: Any, target: Any, loaded: Any) -> None:
    """Raise ``SchemaMismatchError`` when what ``task.load(target)`` returned lacks columns its ``input_schema`` declares.

    ``target`` is what ``load`` was given: an input name, or None for all inputs (by input name when
    ``requires()`` returns a dict). Anything else is not checked; nothing is when the task declares nothing.
    """
    if not possibly_declared():
        return
    declared = declarations_of(type(task))
    if declared is None or not declared.inputs:
        return
    if isinstance(target, str):
        _check_input(task, target, loaded, declared.inputs)
    elif target is None and isinstance(loaded, dict) and isinstance(task.requires(), dict):
        for name, value in loaded.items():
            _check_input(task, str(name), value, declared.inputs)
    elif target is None:
        _check_input(task, None, loaded, declared.inputs)


def _check_input(task: Any, input_name: str | None, value: Any, inputs: dict[str | None, dict[str | None, Schema]]) -> None:
    by_output = inputs.get(input_name) or inputs.get(None)
    if not by_output:
        return
    for output_name, schema in by_output.items():
        part = value.get(output_name) if output_name is not ALL_OUTPUTS and isinstance(value, dict) else value
        for frame in part if isinstance(part, list) else [part]:
            columns = frame_columns(frame)
            if columns is None:
                continue  # not a frame: what it holds is not a frame contract's to say
            full = compare(schema, columns)
            mismatch = Mismatch(missing=full.missing, wrong_dtype=full.wrong_dtype)
            if mismatch:
                raise SchemaMismatchError(_message(task, input_name, output_name, schema, mismatch, columns))


def _message(
    task: Any, input_name: str | None, output_name: str | None, schema: Schema, mismatch: Mismatch, columns: dict[str, str]
) -> str:
    where = '' if input_name is None else f' {input_name!r}'
    where += '' if output_name is None else f' (its output {output_name!r})'
    hints = ''.join(
        f' Did you mean {guess!r} for {column!r}? (renamed upstream?)'
        for column in mismatch.missing
        if (guess := closest_column(column, [c for c in columns if c not in schema]))
    )
    shown = ', '.join(f'{name}: {dtype}' for name, dtype in list(columns.items())[:12]) + (', ...' if len(columns) > 12 else '')
    return (
        f'{describe_task(task)} loaded its input{where}, which does not hold what its input_schema {schema!r} reads: '
        f'{mismatch.describe()}.{hints} The frame has the columns {shown}.'
    )


__all__ = ['check_loaded']
