"""``gokart.Schema``: the columns a frame holds, and their dtypes where they matter.

A dtype is given by name as pandas, polars or Arrow spell it (``'int64'``, ``'Int64'``, ``'float64'``,
``'String'``, ``'datetime64[ns]'``, ``'category'``), or as a Python, numpy, pandas or polars type;
``None`` accepts any dtype. Each name is reduced to one *kind* (``int64``, ``float64``, ``string``,
``datetime``, ...) so that a pandas producer and a polars consumer can agree: pandas' ``'int64'`` and
polars' ``Int64`` are the same kind, ``int32`` another. Bit widths count; time units and time zones do
not (a parquet file of microseconds read back as nanoseconds is the same column to its readers).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping
from typing import Any

from gokart.errors import SchemaDeclarationError

_KINDS: dict[str, str] = {
    **{name: name for name in ('int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64')},
    **{name: name for name in ('float16', 'float32', 'float64')},
    'int': 'int64',
    'integer': 'int64',
    'float': 'float64',  # numpy's and pandas' 'float' is 64 bits (Arrow's is not: footers are read by type, not by name)
    'double': 'float64',
    'bool': 'bool',
    'boolean': 'bool',
    'str': 'string',
    'string': 'string',
    'utf8': 'string',
    'large_string': 'string',
    'large_utf8': 'string',
    'object': 'object',
    'category': 'category',
    'categorical': 'category',
    'enum': 'category',
    'dictionary': 'category',
    'datetime': 'datetime',
    'datetime64': 'datetime',
    'timestamp': 'datetime',
    'date': 'date',
    'date32': 'date',
    'date64': 'date',
    'timedelta': 'duration',
    'timedelta64': 'duration',
    'duration': 'duration',
    'time': 'time',
    'time64': 'time',
    'bytes': 'binary',
    'binary': 'binary',
    'large_binary': 'binary',
    'list': 'list',
    'large_list': 'list',
    'array': 'list',
    'struct': 'struct',
    'decimal': 'decimal',
    'decimal128': 'decimal',
    'null': 'null',
}
KINDS = frozenset(_KINDS.values())
"""Every kind a dtype name reduces to."""

# A pandas object column holds Python objects of any kind: strings, lists, dicts, dates, bytes. What
# it holds is only known by looking at every value, which a contract never does.
_OBJECT_HOLDS = frozenset({'object', 'string', 'binary', 'list', 'struct', 'decimal', 'date', 'time', 'null'})

_PYTHON_TYPES = {builtins.int: 'int64', builtins.float: 'float64', builtins.str: 'string', builtins.bool: 'bool', builtins.bytes: 'binary'}

made = 0
"""How many schemas were made in this process: none means no task declares one, and no check needs to run."""


class Schema(Mapping[str, 'str | None']):
    """The columns a frame holds: ``Schema(a='int64', b='float64', c=None)``; ``None`` accepts any dtype.

    On a task, ``output_schema = Schema(...)`` is what it dumps (checked at dump, at plan time and
    against cached files), ``input_schema = {'data': Schema(...)}`` what it reads of each input.
    ``strict=True`` also refuses columns the schema does not name. Columns whose names are not Python
    identifiers (or ``strict``) are given as a mapping: ``Schema({'sepal length': 'float64'})``.
    """

    def __init__(self, columns: Mapping[str, Any] | None = None, /, *, strict: bool = False, **named: Any) -> None:
        global made
        given = {**(columns or {}), **named}
        self._declared: dict[str, str | None] = {}
        self._kinds: dict[str, str | None] = {}
        for name, dtype in given.items():
            if not isinstance(name, str):
                raise SchemaDeclarationError(f'Schema column names are strings; got {name!r} ({type(name).__name__}).')
            self._declared[name] = None if dtype is None else dtype_name(dtype)
            self._kinds[name] = None if dtype is None else kind_of(dtype, column=name)
        self.strict = bool(strict)
        made += 1

    # ----- Mapping: column -> the dtype as declared ------------------------------------------------
    def __getitem__(self, column: str) -> str | None:
        return self._declared[column]

    def __iter__(self) -> Iterator[str]:
        return iter(self._declared)

    def __len__(self) -> int:
        return len(self._declared)

    def __contains__(self, column: object) -> bool:  # Mapping's asks __getitem__ and catches KeyError: slower
        return column in self._declared

    def kind(self, column: str) -> str | None:
        """The kind of ``column``'s declared dtype (``'int64'``, ``'string'``, ...), None when any dtype will do."""
        return self._kinds[column]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Schema):
            return NotImplemented
        return self._kinds == other._kinds and self.strict == other.strict

    def __hash__(self) -> int:
        return hash((tuple(sorted(self._kinds.items(), key=lambda item: item[0])), self.strict))

    def __repr__(self) -> str:
        if all(name.isidentifier() and name != 'strict' for name in self._declared):
            parts = [f'{name}={dtype!r}' for name, dtype in self._declared.items()]
        else:
            parts = [repr(self._declared)]
        if self.strict:
            parts.append('strict=True')
        return f'Schema({", ".join(parts)})'

    def describe(self) -> str:
        """``a: int64, b: float64, c`` (a column of any dtype bare), ``strict`` last when set: the text plan and reports show."""
        text = ', '.join(name if dtype is None else f'{name}: {dtype}' for name, dtype in self._declared.items())
        return text + (' (strict)' if self.strict else '')

    def as_record(self) -> dict[str, str | None]:
        """The columns and their declared dtypes, as the runs index keeps them."""
        return dict(self._declared)


def kind_of(dtype: Any, column: str | None = None) -> str:
    """The kind a dtype name or type reduces to; ``SchemaDeclarationError`` naming the column for one not known."""
    name = dtype_name(dtype)
    kind = kind_of_name(name)
    if kind is None:
        where = f' of column {column!r}' if column is not None else ''
        raise SchemaDeclarationError(
            f'Unknown dtype {name!r}{where}. Use a pandas, polars or Arrow dtype name '
            f"(e.g. 'int64', 'float64', 'string', 'bool', 'datetime64[ns]', 'category', 'Int64', 'String'), "
            'a Python type (int, float, str, bool), or None for any dtype.'
        )
    return kind


def kind_of_name(name: str) -> str | None:
    """The kind of a dtype name (``'Int64'``, ``'datetime64[ns, UTC]'``, ``'List(Int64)'``); None for a name not known."""
    base = name.strip()
    for stop in '[(<':
        base = base.split(stop, 1)[0]
    return _KINDS.get(base.strip().lower())


def dtype_name(dtype: Any) -> str:
    """The text of a dtype as its library spells it: ``'int64'``, ``'Int64'`` (a polars class), ``'string'`` for ``str``."""
    if isinstance(dtype, str):
        return dtype
    if isinstance(dtype, type):
        python = _PYTHON_TYPES.get(dtype)
        if python is not None:
            return python
        return str(getattr(dtype, '__name__', dtype))
    return str(dtype)


def compatible(expected: str | None, actual: str | None) -> bool:
    """Whether a column of kind ``actual`` satisfies a declaration of kind ``expected`` (None on either side: yes)."""
    if expected is None or actual is None or expected == actual:
        return True
    # pandas keeps strings (and lists, dates, ...) in object columns unless told otherwise: either side may be the object one.
    return (expected == 'object' and actual in _OBJECT_HOLDS) or (actual == 'object' and expected in _OBJECT_HOLDS)


__all__ = ['KINDS', 'Schema', 'compatible', 'dtype_name', 'kind_of', 'kind_of_name']
