"""The DAG of a build: the checked requirements of a task, and a walk over every task reachable from some roots.

Every part of gokart that follows ``requires()`` (ids, planning, explain, garbage collection, reports,
the test runner) goes through ``requirements``, so each sees the same list, the same validation and
the same error when ``requires()`` fails. While a build is being planned (``planning()``), the
requirements of each task are collected once: the id computation lists them, and the planner takes
the same list instead of calling ``requires()``, and constructing every upstream task, a second time.
The memo belongs to the build, not to the tasks, and is dropped when planning ends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import luigi

from gokart.core.error_messages import bad_requirement_message, clause
from gokart.core.task_protocol import KartTask
from gokart.errors import RequiresError, requires_raised
from gokart.utils import flatten

# id(task) -> (task, its requirements) while a build is planned; the task is held so its id stays its own.
_memo: dict[int, tuple[Any, list[Any]]] | None = None
_depth = 0
_scope_lock = threading.Lock()  # builds planned in several threads at once share one memo


@contextmanager
def planning() -> Iterator[None]:
    """Collect the requirements of each task at most once until the outermost ``planning()`` ends.

    Nested or concurrent scopes (a task that builds another DAG, builds in several threads) share one memo:
    the same task object has the same requirements in each.
    """
    global _memo, _depth
    with _scope_lock:
        if _depth == 0:
            _memo = {}
        _depth += 1
    try:
        yield
    finally:
        with _scope_lock:
            _depth -= 1
            if _depth == 0:
                _memo = None


def requirements(task: Any) -> Sequence[Any]:
    """The flattened requirements of ``task``, each checked to be a luigi task.

    Raises ``RequiresError`` naming the task when ``requires()`` raises or returns something that is
    not a task. The list returned may be shared with other callers during planning: do not change it.
    """
    memo = _memo
    if memo is None:
        return _collect(task)
    known = memo.get(id(task))
    if known is not None:
        return known[1]
    collected = _collect(task)
    if collected:  # a leaf's requires() is cheap to ask again; a wide DAG's leaves would cost memory here
        memo[id(task)] = (task, collected)
    return collected


def _collect(task: Any) -> list[Any]:
    try:
        collected = flatten(task.requires())
    except RequiresError:
        raise
    except Exception as e:
        raise requires_raised(
            f'requires() of {type(task).__name__}({task.to_str_params(only_significant=True)}) raised {type(e).__name__}: {clause(e)}. '
            'A task whose requires() fails has no unique id and cannot run: fix requires().',
            e,
        ) from e
    for requirement in collected:
        if not isinstance(requirement, luigi.Task):
            raise RequiresError(bad_requirement_message(task, task.requires(), requirement))
    return collected


def walk(
    roots: Iterable[Any],
    *,
    key: Callable[[Any], Hashable] | None = None,
    include: Callable[[Any], bool] | None = None,
) -> Iterator[Any]:
    """Each task reachable from ``roots`` once: depth first, a task before its requirements, in ``requires()`` order.

    ``key`` says when two task objects are the same task (default: the same object). A task for which
    ``include`` is false is neither yielded nor descended into. Iterative, so any depth works.
    """
    seen: dict[Hashable, Any] = {}  # the values keep walked tasks alive, so an id() key is never reused
    stack = list(roots)
    stack.reverse()
    while stack:
        task = stack.pop()
        if include is not None and not include(task):
            continue
        marker = id(task) if key is None else key(task)
        if marker in seen:
            continue
        seen[marker] = task
        yield task
        stack.extend(reversed(requirements(task)))


def writer_of(task: KartTask, target: Any) -> Any:
    """The task among ``task`` and its requirements that has ``target`` among its outputs, or None.

    For error messages ("written by ..."): it never raises, whatever ``requires()`` or ``output()`` do.
    """
    try:
        path = target.path()
        for candidate in [task, *requirements(task)]:
            if any(getattr(t, 'path', lambda: None)() == path for t in flatten(candidate.output())):
                return candidate
    except Exception:  # naming the writer is a courtesy: never fail the error message over it
        return None
    return None


__all__ = ['planning', 'requirements', 'walk', 'writer_of']
