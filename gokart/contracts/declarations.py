"""What a task class declares about the frames it dumps (``output_schema``) and reads (``input_schema``).

Read once per class and kept, so a plan pays one dictionary lookup per task. A declaration is a
``gokart.Schema``, a pandera ``DataFrameModel`` (or pandera ``DataFrameSchema``) when pandera is
installed, or a dict of them keyed by output name (``output_schema``) or by input name
(``input_schema``: the key ``load()`` takes). ``output_schema`` may also come from the task's type,
``TaskOnKart[Annotated[pd.DataFrame, Schema(...)]]``. Any other value of those attributes (a luigi
parameter that happens to be called ``output_schema``, say) is no declaration and changes nothing.
"""

from __future__ import annotations

import sys
import typing
from dataclasses import dataclass
from typing import Any

from gokart.contracts import schema as schema_module
from gokart.contracts.schema import Schema
from gokart.errors import SchemaDeclarationError

ALL_OUTPUTS: None = None
"""The key of a schema that applies to every output of a task (a plain ``output_schema = Schema(...)``)."""


@dataclass(frozen=True)
class Declarations:
    """One class's contracts: its outputs' schemas by output name (``ALL_OUTPUTS`` for all) and its inputs' by load name.

    An input's value is a dict too: by the producer's output name, ``ALL_OUTPUTS`` for a plain Schema.
    ``models`` holds the pandera models behind the output schemas, whose own checks run at dump.
    """

    outputs: dict[str | None, Schema]
    inputs: dict[str | None, dict[str | None, Schema]]
    models: dict[str | None, Any]

    def output_schema(self, output_name: str | None) -> Schema | None:
        """The schema of the output named ``output_name`` (None: the only output)."""
        found = self.outputs.get(output_name)
        return found if found is not None else self.outputs.get(ALL_OUTPUTS)


_by_class: dict[type, Declarations | None] = {}


def possibly_declared() -> bool:
    """False when no task of this process can declare a contract: no Schema was ever made and pandera is not imported.

    The plan asks this first, so a build without contracts pays for none.
    """
    return schema_module.made > 0 or 'pandera' in sys.modules


def declarations_of(cls: type) -> Declarations | None:
    """The contracts ``cls`` declares, None when it declares none. Read once per class."""
    try:
        return _by_class[cls]
    except KeyError:
        pass
    found = _read(cls)
    _by_class[cls] = found
    return found


def forget(cls: type | None = None) -> None:
    """Read the declarations of ``cls`` (or of every class) again: a test or a notebook that changed one after first use."""
    if cls is None:
        _by_class.clear()
    else:
        _by_class.pop(cls, None)


def _read(cls: type) -> Declarations | None:
    outputs, models = _output_declaration(cls)
    inputs = _input_declaration(cls)
    if not outputs and not inputs:
        return None
    return Declarations(outputs=outputs, inputs=inputs, models=models)


def _output_declaration(cls: type) -> tuple[dict[str | None, Schema], dict[str | None, Any]]:
    declared = getattr(cls, 'output_schema', None)
    if declared is None:
        declared = _annotated_schema(cls)
    outputs: dict[str | None, Schema] = {}
    models: dict[str | None, Any] = {}
    if isinstance(declared, dict):
        for name, value in declared.items():
            found = as_schema(value, f'{cls.__name__}.output_schema[{name!r}]')
            if found is not None:
                outputs[str(name)] = found
                if _is_pandera(value):
                    models[str(name)] = value
        return outputs, models
    found = as_schema(declared, f'{cls.__name__}.output_schema', ignore_others=True)
    if found is not None:
        outputs[ALL_OUTPUTS] = found
        if _is_pandera(declared):
            models[ALL_OUTPUTS] = declared
    return outputs, models


def _input_declaration(cls: type) -> dict[str | None, dict[str | None, Schema]]:
    declared = getattr(cls, 'input_schema', None)
    single = as_schema(declared, f'{cls.__name__}.input_schema', ignore_others=True)
    if single is not None:
        return {None: {ALL_OUTPUTS: single}}  # the only input: key None
    if not isinstance(declared, dict):
        return {}
    inputs: dict[str | None, dict[str | None, Schema]] = {}
    for input_name, value in declared.items():
        where = f'{cls.__name__}.input_schema[{input_name!r}]'
        if isinstance(value, dict):  # an input with several outputs: its schemas by the producer's output name
            by_output = {str(name): as_schema(inner, f'{where}[{name!r}]') for name, inner in value.items()}
            inputs[str(input_name)] = {name: s for name, s in by_output.items() if s is not None}
        else:
            found = as_schema(value, where)
            if found is not None:
                inputs[str(input_name)] = {ALL_OUTPUTS: found}
    return inputs


def as_schema(value: Any, where: str, ignore_others: bool = False) -> Schema | None:
    """``value`` as a Schema: itself, or the columns of a pandera model or schema; None for None.

    Inside a dict of schemas anything else is a mistake worth naming; as the attribute's whole value it is
    ignored (``ignore_others``), since the attribute may be the user's own for another purpose.
    """
    if value is None or isinstance(value, Schema):
        return value
    if _is_pandera(value):
        return _from_pandera(value, where)
    if ignore_others:
        return None
    raise SchemaDeclarationError(
        f'{where} is {value!r} ({type(value).__name__}): give a gokart.Schema(column=dtype, ...) or a pandera DataFrameModel.'
    )


def _annotated_schema(cls: type) -> Any:
    """The Schema (or pandera model) in ``TaskOnKart[Annotated[Frame, Schema(...)]]``, if the task's type carries one."""
    from gokart.utils import task_type_argument

    dumped = task_type_argument(cls)
    if typing.get_origin(dumped) is not typing.Annotated:
        return None
    for metadata in getattr(dumped, '__metadata__', ()):
        if isinstance(metadata, Schema) or _is_pandera(metadata):
            return metadata
    return None


def _is_pandera(value: Any) -> bool:
    if 'pandera' not in sys.modules:  # nobody could have made a pandera model without importing it
        return False
    from pandera.api.base.schema import BaseSchema
    from pandera.api.dataframe.model import DataFrameModel

    return (isinstance(value, type) and issubclass(value, DataFrameModel)) or isinstance(value, BaseSchema)


def _from_pandera(value: Any, where: str) -> Schema:
    """The columns, dtypes and strictness of a pandera DataFrameModel or DataFrameSchema."""
    try:
        frame_schema = getattr(value, 'to_schema')() if isinstance(value, type) else value  # noqa: B009 - a pandera model class
        columns = getattr(frame_schema, 'columns', None) or {}
        dtypes = {str(name): (None if column.dtype is None else str(column.dtype)) for name, column in columns.items()}
    except Exception as e:
        raise SchemaDeclarationError(f'{where}: the pandera model {value!r} cannot be read as columns: {type(e).__name__}: {e}') from e
    return Schema(dtypes, strict=getattr(frame_schema, 'strict', False) is True)


__all__ = ['ALL_OUTPUTS', 'Declarations', 'as_schema', 'declarations_of', 'forget', 'possibly_declared']
