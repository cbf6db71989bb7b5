"""Small helpers that gokart 1.12 exposes from ``gokart.utils``."""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable
from io import BytesIO
from typing import Any, Protocol, TypeVar, Union

import luigi

from gokart.core import task_protocol
from gokart.core.config_lookup import config_section as config_section  # re-exported: code written before config_lookup imports it here
from gokart.core.config_lookup import luigi_config as luigi_config  # re-exported, likewise
from gokart.ids import id_scheme

T = TypeVar('T')
K = TypeVar('K')

FlattenableItems = Union[T, Iterable['FlattenableItems[T]'], dict[str, 'FlattenableItems[T]']]


class FileLike(Protocol):
    """What a loader needs from a file: reading and seeking back (pickles of old pandas are read twice)."""

    def read(self, n: int = -1, /) -> bytes: ...

    def readline(self) -> bytes: ...

    def seek(self, offset: int, whence: int = 0, /) -> int: ...

    def seekable(self) -> bool: ...

    def tell(self) -> int: ...


def add_config(file_path: str) -> None:
    """Add a luigi config file (.cfg/.ini or .toml); a missing file is an ``AssertionError``."""
    # TOML files are read when luigi's parser is 'toml' (LUIGI_CONFIG_PARSER=toml), as in luigi itself.
    assert luigi.configuration.add_config_path(file_path), f'config file {file_path} does not exist.'
    id_scheme.refresh()  # the file may set [gokart] id_scheme


def flatten(targets: Any) -> list[Any]:
    """Flatten nested dicts (values, in order), lists and tuples into a list; ``None`` gives ``[]``.

    ``None`` anywhere inside is left out too, as luigi's and gokart 1.12's flatten do (a ``requires()``
    returning ``[A(), None]`` requires A). Iterative, so arbitrarily deep structures never hit the
    recursion limit. A str is one item.
    """
    if targets is None:
        return []
    flat: list[Any] = []
    stack: list[Any] = [targets]
    while stack:
        item = stack.pop()
        if item is None:
            continue
        kind = _kinds.get(type(item)) or _kind_of(item)
        if kind is _LEAF:
            flat.append(item)
        elif kind is _MAPPING:
            stack.extend(reversed(list(item.values())))
        elif kind is _SEQUENCE:
            stack.extend(reversed(item))
        else:
            stack.extend(reversed(list(item)))
    return flat


_LEAF, _MAPPING, _SEQUENCE, _ITERABLE = 'leaf', 'mapping', 'sequence', 'iterable'
_kinds: dict[type, str] = {}


def _kind_of(item: Any) -> str:
    # flatten meets the same few types (a task, a target, a list) millions of times in a big DAG:
    # classify each type once.
    if isinstance(item, dict):
        kind = _MAPPING
    elif isinstance(item, (list, tuple)):
        kind = _SEQUENCE
    elif isinstance(item, str) or not _is_plain_iterable(item):
        kind = _LEAF
    else:
        kind = _ITERABLE
    _kinds[type(item)] = kind
    return kind


def _is_plain_iterable(item: Any) -> bool:
    # luigi tasks and targets are never iterated into; generic iterables (sets, generators) are.
    if isinstance(item, (luigi.Task, luigi.target.Target, bytes)):
        return False
    return isinstance(item, Iterable) and not hasattr(item, 'read')


def map_flattenable_items(func: Callable[[Any], Any], items: Any) -> Any:
    """Apply ``func`` to every leaf of a dict/list/tuple structure, keeping its shape."""
    if isinstance(items, dict):
        return {k: map_flattenable_items(func, v) for k, v in items.items()}
    if isinstance(items, tuple):
        return tuple(map_flattenable_items(func, i) for i in items)
    if isinstance(items, str):
        return func(items)
    if isinstance(items, Iterable) and not isinstance(items, (bytes, luigi.Task)):
        return [map_flattenable_items(func, i) for i in items]
    return func(items)


def load_dill_with_pandas_backward_compatibility(file: FileLike | BytesIO) -> Any:
    """Load a pickle written by dill or pickle, falling back to pandas for pickles of old pandas versions."""
    import dill

    try:
        return dill.load(file)
    except Exception:
        import pandas as pd

        file.seek(0)
        return pd.read_pickle(file)


def get_dataframe_type_from_task(task: Any) -> str:
    """'pandas', 'polars' or 'polars-lazy', from the ``T`` of ``TaskOnKart[T]`` in the task's class hierarchy."""
    cls = task if isinstance(task, type) else type(task)
    dumped_type = _resolve_task_type_argument(cls)
    if typing.get_origin(dumped_type) is typing.Annotated:  # TaskOnKart[Annotated[pl.DataFrame, Schema(...)]] dumps a pl.DataFrame
        dumped_type = typing.get_args(dumped_type)[0]
    if dumped_type is None:
        return 'pandas'
    module = getattr(dumped_type, '__module__', '') or ''
    if 'polars' in module:
        return 'polars-lazy' if getattr(dumped_type, '__name__', '') == 'LazyFrame' else 'polars'
    return 'pandas'


def task_type_argument(cls: type) -> Any:
    """The ``T`` of ``TaskOnKart[T]`` for ``cls`` (through generic intermediate classes), None when not given."""
    return _resolve_task_type_argument(cls)


def _resolve_task_type_argument(cls: type) -> Any:
    """Find X in ``TaskOnKart[X]`` along the MRO, following TypeVars through generic intermediate classes."""
    task_on_kart = task_protocol.kart_base()
    bindings: dict[Any, Any] = {}
    for klass in cls.__mro__:
        for base in getattr(klass, '__orig_bases__', ()):
            origin = typing.get_origin(base)
            if origin is None:
                continue
            args = [bindings.get(a, a) if isinstance(a, TypeVar) else a for a in typing.get_args(base)]
            if origin is task_on_kart:
                value = args[0] if args else None
                return None if isinstance(value, TypeVar) else value
            parameters = getattr(origin, '__parameters__', ())
            for parameter, arg in zip(parameters, args, strict=False):
                bindings.setdefault(parameter, arg)
    return None
