"""A task's declared columns as text, for ``gokart plan``, the HTML report, the notebook display and the runs index."""

from __future__ import annotations

from typing import Any

from gokart.contracts.declarations import ALL_OUTPUTS, declarations_of, possibly_declared


def declared_columns(task: Any) -> list[str]:
    """One line per declaration of ``task``: ``dumps a: int64, b: float64``, ``reads 'data': a: int64``; empty when it declares none."""
    if not possibly_declared():
        return []
    try:
        declared = declarations_of(type(task))
    except Exception:  # a display never fails on a bad declaration: the build names it
        return []
    if declared is None:
        return []
    lines = []
    for output_name, schema in declared.outputs.items():
        lines.append(f'dumps{"" if output_name is ALL_OUTPUTS else f" {output_name!r}"} {schema.describe()}')
    for input_name, by_output in declared.inputs.items():
        for output_name, schema in by_output.items():
            source = '' if input_name is None else f' {input_name!r}'
            source += '' if output_name is ALL_OUTPUTS else f'[{output_name!r}]'
            lines.append(f'reads{source} {schema.describe()}')
    return lines


def output_schema_records(task: Any) -> dict[str, dict[str, str | None]]:
    """The declared output schemas of ``task`` by output name (``''`` for all outputs), as the runs index records them."""
    if not possibly_declared():
        return {}
    try:
        declared = declarations_of(type(task))
    except Exception:
        return {}
    if declared is None:
        return {}
    return {output_name or '': schema.as_record() for output_name, schema in declared.outputs.items()}


__all__ = ['declared_columns', 'output_schema_records']
