"""The unique id of a task: an md5 of its significant parameters, class name and upstream ids.

Byte-identical to gokart 1.12 (SPEC.md section 4). Computed iteratively in post-order so that a
chain of any depth hashes in time linear in the size of the DAG, each task once, and never hits
Python's recursion limit. Under id scheme 2 (opt-in, ``gokart.ids.id_scheme``) the same walk hashes
each task with ``id_scheme.merkle_id`` instead.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import luigi

from gokart.core import dag, task_protocol
from gokart.core.task_protocol import KartTask, is_kart
from gokart.errors import DependencyCycleError
from gokart.ids import id_scheme
from gokart.ids.code_fingerprint import code_fingerprint
from gokart.ids.code_fingerprint import generation as code_generation


def unique_id(task: KartTask) -> str:
    """The unique id of ``task``, computing (and caching, where allowed) the ids of its upstream tasks first."""
    known = _known_id(task)
    if known is not None:
        return known
    hash_task = _hash_parts if id_scheme.current() == 1 else _merkle_parts  # read once per walk
    # Post-order walk with an explicit stack: a task is hashed once all of its significant
    # requirements have an id. `pending` holds ids computed in this call for tasks that do not cache.
    pending: dict[int, str] = {}
    stack: list[tuple[KartTask, Sequence[Any] | None]] = [(task, None)]
    # Entries whose requirements were listed stay below their requirements until hashed, so they are
    # exactly the ancestors of the top entry: meeting one of them again means the DAG has a cycle.
    started: list[KartTask] = []
    started_set: set[KartTask] = set()
    while stack:
        current, requirements = stack[-1]
        if requirements is None:
            if current in started_set:
                raise DependencyCycleError(_cycle_message(started[started.index(current) :] + [current]))
            requirements = dag.requirements(current)
            stack[-1] = (current, requirements)
            started.append(current)
            started_set.add(current)
        missing = [r for r in requirements if _is_significant_kart(r) and not _overrides_unique_id(r) and _id_of(r, pending) is None]
        if missing:
            for requirement in missing:
                stack.append((requirement, None))
            continue
        stack.pop()
        started_set.discard(started.pop())
        if _id_of(current, pending) is not None:
            continue
        computed = hash_task(current, requirements, pending)
        if current.cache_unique_id:
            current.task_unique_id = computed
            current.__dict__['_gokart_code_generation'] = code_generation()
        else:
            pending[id(current)] = computed
    result = _id_of(task, pending)
    assert result is not None
    return result


_TASK_ID_JSON = json.JSONEncoder(separators=(',', ':'), sort_keys=True)


def luigi_task_id(task_family: str, str_params: dict[str, str]) -> str:
    """luigi's ``task_id`` (what ``luigi.task.task_id_str`` returns), which the scheduler and ``==`` use.

    Every task construction computes one; this builds the same string with one JSON encoder kept
    for all of them instead of a new one per call. A test compares the two on many inputs.
    """
    param_hash = hashlib.md5(_TASK_ID_JSON.encode(str_params).encode('utf-8'), usedforsecurity=False).hexdigest()
    shown = sorted(str_params)[: luigi.task.TASK_ID_INCLUDE_PARAMS]
    summary = luigi.task.TASK_ID_INVALID_CHAR_REGEX.sub(
        '_', '_'.join(str_params[name][: luigi.task.TASK_ID_TRUNCATE_PARAMS] for name in shown)
    )
    return f'{task_family}_{summary}_{param_hash[: luigi.task.TASK_ID_TRUNCATE_HASH]}'


def hash_parts(parts: list[Any]) -> str:
    """md5 of the repr of the hash input, exactly as gokart 1.12 hashes it."""
    return hashlib.md5(str(parts).encode()).hexdigest()


# Types whose hash, and so whose iteration order in a set, is the same in every process. Strings,
# bytes and most objects hash differently under each PYTHONHASHSEED.
_STABLY_HASHED = (int, float, complex, type(None))


class _OrderedSet(set):  # type: ignore[type-arg]
    """A set that iterates and prints in a fixed order, so its serialization is the same in every process."""

    def __iter__(self) -> Iterator[Any]:
        return iter(_sorted(super().__iter__()))

    def __repr__(self) -> str:
        return '{' + ', '.join(map(repr, self)) + '}' if self else 'set()'

    __str__ = __repr__


class _OrderedFrozenset(frozenset):  # type: ignore[type-arg]
    """A frozenset that iterates and prints in a fixed order (see ``_OrderedSet``)."""

    def __iter__(self) -> Iterator[Any]:
        return iter(_sorted(super().__iter__()))

    def __repr__(self) -> str:
        return 'frozenset({' + ', '.join(map(repr, self)) + '})' if self else 'frozenset()'

    __str__ = __repr__


def _sorted(items: Iterable[Any]) -> list[Any]:
    items = list(items)
    try:
        return sorted(items)
    except TypeError:  # mixed types: order by type, then text
        return sorted(items, key=lambda item: (type(item).__qualname__, repr(item)))


def stable_set(value: Any) -> Any:
    """``value`` itself, or for a set whose order would change between processes, one with a fixed order.

    luigi serializes a set parameter (as a tuple, or a frozenset's text) in iteration order, which for
    strings depends on the process's hash seed, so the unique id drifted between processes. Sets whose
    members hash the same everywhere (small ints, floats) keep gokart 1.12's order and so its ids.
    """
    if type(value) is set:
        return value if all(map(_hashes_stably, value)) else _OrderedSet(value)
    if type(value) is frozenset:
        return value if all(map(_hashes_stably, value)) else _OrderedFrozenset(value)
    return value


def _hashes_stably(item: Any) -> bool:
    if isinstance(item, tuple):
        return all(map(_hashes_stably, item))
    return isinstance(item, _STABLY_HASHED)


def with_stable_sets(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Parameter arguments with every set argument ordered (see ``stable_set``); the same objects when there is none."""
    # Every task construction passes here: one C-level scan when no argument is a set.
    if _SET_TYPES.isdisjoint(map(type, kwargs.values())) and (not args or _SET_TYPES.isdisjoint(map(type, args))):
        return args, kwargs
    return tuple(stable_set(value) for value in args), {name: stable_set(value) for name, value in kwargs.items()}


_SET_TYPES = frozenset((set, frozenset))


def _cycle_message(cycle: list[Any]) -> str:
    # No unique id exists inside a cycle, so tasks are named by class and parameters.
    path = ' -> '.join(f'{type(t).__name__}({t.to_str_params(only_significant=True)})' for t in cycle)
    return (
        f'the requirements of these tasks form a cycle, so none of them has a unique id or can run: {path}. Break the cycle in requires().'
    )


def _known_id(task: Any) -> str | None:
    if not task.cache_unique_id:
        return None
    if task.task_unique_id is not None and task.__dict__.get('_gokart_code_generation', 0) != code_generation():
        forget_unique_id(task)
    return task.task_unique_id  # type: ignore[no-any-return]


def forget_unique_id(task: Any) -> None:
    """Drop a cached id and the targets named with it: code a fingerprint covers changed since (``code_fingerprint.refresh``)."""
    task.task_unique_id = None
    task.__dict__.pop('_gokart_targets', None)


def _id_of(task: Any, pending: dict[int, str]) -> str | None:
    known = _known_id(task)
    return known if known is not None else pending.get(id(task))


def _is_significant_kart(requirement: Any) -> bool:
    return is_kart(requirement) and bool(requirement.significant)


def _overrides_unique_id(task: Any) -> bool:
    """Whether the class of ``task`` defines its own ``make_unique_id`` (then its requirers use what that returns)."""
    kind = type(task)
    found = _overriding_classes.get(kind)
    if found is None:
        found = _overriding_classes[kind] = getattr(kind, 'make_unique_id', None) is not getattr(
            task_protocol.kart_base(), 'make_unique_id', None
        )
    return found


_overriding_classes: dict[type, bool] = {}


def _requirement_id(requirement: Any, pending: dict[int, str]) -> str | None:
    # A class overriding make_unique_id() enters its requirers' ids with what the override returns,
    # as in gokart 1.12 (which asks each requirement for its make_unique_id()).
    if _overrides_unique_id(requirement):
        return requirement.make_unique_id()  # type: ignore[no-any-return]
    return _id_of(requirement, pending)


def _merkle_parts(task: KartTask, requirements: Sequence[Any], pending: dict[int, str]) -> str:
    upstream: list[Any] = []
    for requirement in requirements:
        if is_kart(requirement):
            if requirement.significant:
                upstream.append(_requirement_id(requirement, pending))
        else:  # a plain luigi task enters as luigi's own id of it
            upstream.append(requirement.task_id)
    return id_scheme.merkle_id(task, upstream)


def _hash_parts(task: KartTask, requirements: Sequence[Any], pending: dict[int, str]) -> str:
    parts: list[Any] = []
    for requirement in requirements:
        if is_kart(requirement):
            if requirement.significant:
                parts.append(_requirement_id(requirement, pending))
        else:
            parts.append(requirement.to_str_params(only_significant=True))
    parts.append(task.to_str_params(only_significant=True))
    parts.append(type(task).__name__)
    if task.serialized_task_definition_check:
        parts.append(task.get_own_code())  # the method, so that a class overriding it is heard, as in gokart 1.12
    if getattr(task, 'code_fingerprint_check', False):  # opt-in, so ids stay gokart 1.12's by default
        parts.append(code_fingerprint(type(task)))
    return hash_parts(parts)
