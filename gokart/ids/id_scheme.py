"""Unique-id scheme 2 (Merkle), opt-in, and which scheme is in force.

Scheme 1 is gokart 1.12's (``gokart.ids.identity``): a task holding another in a ``TaskInstanceParameter``
hashes that task's serialized parameters, nested all the way up, so the hash input grows with the
whole upstream DAG and doubles at every diamond. Scheme 2 hashes a task's class family, its own
significant parameters and only the *ids* of its upstream tasks: O(1) work per edge. A task held in a
``TaskInstanceParameter`` is serialized as ``{"type": family, "id": id}``. Scheme-2 ids keep the
32-hex-digit form; their last two digits check the first thirty, so the scheme a file was made under
can be read from its name (``is_scheme2_id``). The algorithm, step by step: docs/ids.md.

The scheme comes from ``GOKART_ID_SCHEME`` or ``[gokart] id_scheme`` in the luigi config (scheme 1
when neither is set), read at first use; ``gokart.add_config`` and ``refresh()`` read it again, and
``use(scheme)`` overrides it in a block (tests, ``gokart rekey``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import luigi

from gokart.core import settings
from gokart.core.task_protocol import KartTask
from gokart.errors import GokartError, TaskParameterError
from gokart.ids.code_fingerprint import code_fingerprint, own_code

CONFIG_SECTION = settings.SECTION
CONFIG_OPTION = 'id_scheme'
ENVIRONMENT_VARIABLE = settings.setting(CONFIG_OPTION).environment_variable
SCHEMES = (1, 2)
CHECK_MODULUS = 251


def current() -> int:
    """The id scheme in force: 1 (gokart 1.12's, the default) or 2 (Merkle).

    Read from the environment and the config once, at first use (and again by ``refresh``): this is
    asked for every task and every task-instance parameter, so it must cost no lookup.
    """
    if _override is not None:
        return _override
    if _read is not None:
        return _read
    return refresh()


def refresh() -> int:
    """Read the scheme again from ``GOKART_ID_SCHEME`` and the luigi config (``gokart.add_config`` calls this)."""
    global _read
    _read = int(settings.value(CONFIG_OPTION))
    return _read


def follow(scheme: Any) -> None:
    """Make ``scheme`` (None: the default, 1) the one in force in this process, whatever its environment says.

    For a process that works for another (a Dask worker for a client): outputs must be named as there.
    Tasks luigi kept from before are dropped when the scheme changes, as their ids were another scheme's.
    """
    global _read
    checked = 1 if scheme in (None, '') else _checked(scheme, f'the id scheme {scheme!r} of the build')
    if checked != current():
        luigi.task_register.Register.clear_instance_cache()
    _read = checked


@contextlib.contextmanager
def use(scheme: int) -> Iterator[None]:
    """Make ``scheme`` the one in force in this block (in every thread), whatever the environment and config say.

    Tasks keep the id they were given, and luigi hands back an already constructed task for equal
    parameters, so luigi's instance cache is cleared on entry and exit: tasks constructed inside
    are the block's own.
    """
    global _override
    checked = _checked(scheme, f'gokart.ids.id_scheme.use({scheme!r})')
    previous = _override
    luigi.task_register.Register.clear_instance_cache()
    _override = checked
    try:
        yield
    finally:
        _override = previous
        luigi.task_register.Register.clear_instance_cache()


def merkle_id(task: KartTask, upstream: list[Any]) -> str:
    """The scheme-2 id of ``task`` (docs/ids.md, steps 4 to 7).

    ``upstream`` holds the ids of its significant gokart requirements and the luigi ``task_id`` of its
    plain luigi requirements, in ``requires()`` order.
    """
    cls = type(task)
    family = _families.get(cls) or _family_entry(cls)
    parts: list[Any] = [2, family[0], task.to_str_params(only_significant=True), upstream]
    if task.serialized_task_definition_check:
        parts.append(('code', own_code(cls)))
    if task.code_fingerprint_check:
        parts.append(('code_fingerprint', code_fingerprint(cls)))
    # The first 30 hex digits of the md5 of repr(parts) (UTF-8), as scheme 1 hashes, then the check
    # digits of with_check, written out: this runs once for every task of every DAG.
    body = hashlib.md5(str(parts).encode(), usedforsecurity=False).hexdigest()[:30]
    return body + _CHECK_DIGITS[int(body, 16) % CHECK_MODULUS]


def with_check(body: str) -> str:
    """``body`` (30 hex digits) followed by the two check digits that mark a scheme-2 id: ``int(body, 16) % 251``."""
    return body + _CHECK_DIGITS[int(body, 16) % CHECK_MODULUS]


_CHECK_DIGITS = [f'{value:02x}' for value in range(CHECK_MODULUS)]


def is_scheme2_id(unique_id: str) -> bool:
    """Whether ``unique_id``'s check digits are right; a scheme-1 id passes by chance once in 256."""
    return len(unique_id) == 32 and with_check(unique_id[:30]) == unique_id


def task_reference(task: KartTask) -> str:
    """How a ``TaskInstanceParameter`` serializes ``task`` under scheme 2: its family and id, O(1) in the DAG.

    The task is remembered under its id, so that ``TaskInstanceParameter.parse`` of this text finds it.
    """
    unique_id = task.make_unique_id()
    _constructed[unique_id] = task
    # The text of json.dumps({'type': family, 'id': id}), built directly: this runs for every edge of the DAG.
    return f'{{"type": {_family_json(type(task))}, "id": "{unique_id}"}}'


def constructed_task(family: str, unique_id: str) -> KartTask:
    """The live task of ``family`` whose scheme-2 id is ``unique_id``; a clear error when this process has none."""
    found = _constructed.get(unique_id)
    if found is None:
        found = _find_in_instance_cache(family, unique_id)
    if found is not None and found.get_task_family() == family:
        return found
    raise TaskParameterError(
        f'TaskInstanceParameter cannot find the {family} task with scheme-2 id {unique_id}: a value '
        '{"type": ..., "id": ...} names a task constructed in this process, and none has that id. '
        f'Pass the task by its parameters instead: {{"type": "{family}", "params": {{"name": "value", ...}}}}.'
    )


def _find_in_instance_cache(family: str, unique_id: str) -> Any:
    """A task of ``family`` with ``unique_id`` among those luigi keeps for reuse, when nothing serialized it yet."""
    cache = getattr(luigi.task_register.Register, '_Register__instance_cache', None) or {}
    for task in list(cache.values()):
        if task.get_task_family() == family and _id_if_task(task) == unique_id:
            _constructed[unique_id] = task
            return task
    return None


def _id_if_task(task: Any) -> str | None:
    make_unique_id = getattr(task, 'make_unique_id', None)
    return make_unique_id() if make_unique_id is not None else None


def describe(scheme: int) -> str:
    """The scheme as gokart plan/why/report name it: ``1 (gokart 1.12)`` or ``2 (Merkle)``."""
    return '1 (gokart 1.12)' if scheme == 1 else '2 (Merkle)'


_override: int | None = None  # set by use()
_read: int | None = None  # what the environment and config said, once read
# Tasks serialized by a task-instance parameter, by scheme-2 id; weak, so it never keeps a DAG alive.
_constructed: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()


_families: dict[type, tuple[str, str]] = {}


def _family_json(cls: type) -> str:
    return _family_entry(cls)[1]


def _family_entry(cls: Any) -> tuple[str, str]:
    # luigi recomputes a class's family (namespace + name) on every call; it is asked for on every edge.
    entry = _families.get(cls)
    if entry is None:
        family = cls.get_task_family()
        entry = _families[cls] = (family, json.dumps(family))
    return entry


def _checked(value: Any, where: str) -> int:
    try:
        scheme = int(str(value).strip())
    except ValueError:
        scheme = 0
    if scheme not in SCHEMES:
        raise GokartError(f'{where} is not an id scheme: use 1 (gokart 1.12 ids, the default) or 2 (Merkle ids).')
    return scheme


@dataclass
class WorkspaceCensus:
    """How many runs recorded in a workspace (``log/task_params/{Class}_{id}.pkl``) carry ids of each scheme."""

    workspace: str
    scheme1: int
    scheme2: int

    def verdict(self) -> str:
        """Which scheme the workspace's outputs were made under: '1', '2', 'mixed' or 'empty'."""
        if self.scheme1 + self.scheme2 == 0:
            return 'empty'
        if self.scheme1 == 0:
            return '2'
        # A scheme-1 id passes the scheme-2 check once in 256: a few such ids among many are chance.
        if self.scheme2 <= 2 + (self.scheme1 + self.scheme2) // 128:
            return '1'
        return 'mixed'

    def describe(self, in_force: int) -> str:
        """One line for ``gokart plan``/``why``/``report``: the scheme in force and the one the workspace holds."""
        head = f'ids: scheme {describe(in_force)} in force; {self.workspace} holds '
        verdict = self.verdict()
        if verdict == 'empty':
            return head + 'no recorded runs'
        counts = f'{self.scheme1} runs under scheme-1 ids, {self.scheme2} under scheme-2 ids'
        if verdict == 'mixed':
            return head + f'runs of both schemes ({counts})'
        text = head + f'scheme-{verdict} outputs ({counts})'
        if int(verdict) != in_force:
            text += f': move them with `gokart rekey --to {in_force} MODULE:TASK`, or set {ENVIRONMENT_VARIABLE}={verdict}'
        return text
