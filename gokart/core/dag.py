"""The DAG of a build: the checked requirements of a task, and a walk over every task reachable from some roots.

Every part of gokart that follows ``requires()`` (ids, planning, explain, garbage collection, reports,
the test runner) goes through ``requirements``, so each sees the same list, the same validation and
the same error when ``requires()`` fails. While a build is planned and run (``planning()``), the
requirements of each task are collected once: the id computation lists them, and the planner, the
lineage journal and ``input()`` (what ``load()`` reads) take the same list instead of calling
``requires()``, and constructing every upstream task, again. The memo belongs to the build, not to
the tasks, and is dropped when the build ends.
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

# id(task) -> what requires() gave while a build runs: the task itself when it requires nothing (a
# wide DAG's many leaves cost one entry each, no more), else (task, what requires() returned, its
# checked flattened list). The task is held so its id() stays its own.
_memo: dict[int, Any] | None = None
_depth = 0
_scope_lock = threading.Lock()  # builds planned in several threads at once share one memo
# requires() results kept as they are for ``declared``: those that can be walked again. A generator
# or another one-shot iterable is asked for afresh.
_REUSABLE = (list, tuple, dict, luigi.Task, type(None))


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
        return _collect(task)[1]
    known = memo.get(id(task))
    if known is not None:
        return () if known is task else known[2]
    declared, collected = _collect(task)
    memo[id(task)] = (task, declared, collected) if collected else task
    return collected


def declared(task: Any) -> Any:
    """What ``task.requires()`` returns, as it returns it (a dict stays a dict): ``input()`` maps it to targets.

    During a build this is the value the planner collected, when it can be walked again; a task
    that requires nothing, or whose requires() gave a generator, is asked again.
    """
    memo = _memo
    if memo is not None:
        known = memo.get(id(task))
        if known is not None and known is not task and isinstance(known[1], _REUSABLE):
            return known[1]
    return task.requires()


def _collect(task: Any) -> tuple[Any, list[Any]]:
    """What ``requires()`` returned and its flattened, checked list."""
    try:
        declared = task.requires()
        collected = flatten(declared)
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
            raise RequiresError(
                bad_requirement_message(task, declared if isinstance(declared, _REUSABLE) else task.requires(), requirement)
            )
    return declared, collected


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


__all__ = ['declared', 'planning', 'requirements', 'walk', 'writer_of']
