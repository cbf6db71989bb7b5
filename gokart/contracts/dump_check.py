"""The check ``dump()`` makes: a frame that does not match the task's ``output_schema`` is refused before a byte is written."""

from __future__ import annotations

from typing import Any

from gokart.contracts.declarations import ALL_OUTPUTS, declarations_of, possibly_declared
from gokart.contracts.frames import compare, frame_columns
from gokart.contracts.schema import Schema
from gokart.core.error_messages import describe_task
from gokart.errors import SchemaMismatchError


def check_dump(task: Any, obj: Any, output_name: str | None, path: str) -> Schema | None:
    """Raise ``SchemaMismatchError`` when ``obj`` does not match the schema declared for the output ``output_name`` of ``task``.

    Returns the schema checked (None when the output declares none), which the runs index records.

    Names the missing columns, the extra ones (a strict schema) and those of another dtype. A pandera
    model declared as the schema also runs its own checks here (value ranges and the like), as pandera
    users expect of it. Costs one lookup when the task declares nothing.
    """
    if not possibly_declared():
        return None
    declared = declarations_of(type(task))
    if declared is None:
        return None
    schema = declared.output_schema(output_name)
    if schema is None:
        return None
    output = '' if output_name is None else f' {output_name!r}'
    columns = frame_columns(obj)
    if columns is None:
        raise SchemaMismatchError(
            f'{describe_task(task)} declares output_schema {schema!r} for its output{output}, but dump() was given a '
            f'{type(obj).__module__}.{type(obj).__qualname__}, not a pandas or polars DataFrame. Nothing was written to {path}.'
        )
    mismatch = compare(schema, columns)
    if mismatch:
        raise SchemaMismatchError(
            f'{describe_task(task)} refused to dump a frame that does not match its output_schema{output} {schema!r}: '
            f'{mismatch.describe()}. The frame has {_columns_text(columns)}. Nothing was written to {path}. '
            'Fix run(), or the declared schema if the frame is right.'
        )
    model = declared.models.get(output_name, declared.models.get(ALL_OUTPUTS))
    if model is not None:
        _validate_with_pandera(task, model, obj, output, path)
    return schema


def _validate_with_pandera(task: Any, model: Any, obj: Any, output: str, path: str) -> None:
    import pandera.errors as errors  # imported already: the model came from pandera

    try:
        model.validate(obj, lazy=True)
    except (errors.SchemaError, errors.SchemaErrors) as e:
        raise SchemaMismatchError(
            f'{describe_task(task)} refused to dump a frame that its pandera model{output} {getattr(model, "__name__", model)!r} '
            f'rejects. Nothing was written to {path}.\n{e}'
        ) from e


def _columns_text(columns: dict[str, str], limit: int = 12) -> str:
    shown = [f'{name}: {dtype}' for name, dtype in list(columns.items())[:limit]]
    more = f', and {len(columns) - limit} more' if len(columns) > limit else ''
    return 'the columns ' + ', '.join(shown) + more if shown else 'no columns'


__all__ = ['check_dump']
