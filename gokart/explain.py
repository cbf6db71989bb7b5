"""Dry-run explanations: which tasks a build would run and why (``plan``), and why a task has no output (``why``).

A task's output file carries its unique id, and the id is a hash of its significant parameters and of
its requirements' ids. So "why will this run?" has four answers: the rerun flag is set; nothing with
this class was ever built; a parameter differs from a cached run; or an upstream task differs. The
cached runs are found through the ``log/task_params/{Class}_{uid}.pkl`` records that every run leaves,
which hold the significant parameters as strings. Nothing here calls ``complete()``, which would
delete outputs under ``rerun=True``.
"""

from __future__ import annotations

import bz2
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from gokart import storage
from gokart.utils import flatten

RERUN = 'rerun flag'
NO_OUTPUT = 'no output'
CHANGED_PARAMETER = 'changed parameter'
UPSTREAM_CHANGED = 'upstream changed'
MISSING_EXTERNAL = 'missing external data'
CHANGED_CODE = 'changed code'

_RECORD_NAME = re.compile(r'^(?P<name>.+)_(?P<uid>[0-9a-f]{32})\.pkl$')


@dataclass
class Difference:
    """One significant value that differs between this task and a cached run of its class."""

    name: str  # a parameter name; 'task.param' inside a task parameter; 'requires[i]' for a requirement's id
    cached: str | None
    current: str | None
    upstream: bool  # the difference is in an upstream task, not in this task's own parameters

    def describe(self) -> str:
        if self.cached is None and self.current is None:
            return self.name
        return f'{self.name}: {_short(self.cached)} -> {_short(self.current)}'


@dataclass
class CachedRun:
    """A run of the same class recorded in the workspace, and how it differs from the task asked about."""

    unique_id: str
    params: dict[str, str]
    output_paths: list[str]
    output_exists: bool
    differences: list[Difference] = field(default_factory=list)


@dataclass
class Step:
    """One task of a plan: ``will_run`` with a ``reason`` (one of the module's constants) and details, or cached."""

    task: Any
    name: str
    unique_id: str
    will_run: bool
    reason: str | None = None
    differences: list[Difference] = field(default_factory=list)
    closest: CachedRun | None = None

    def describe(self) -> str:
        head = f'{self.name}[{self.unique_id}]'
        if not self.will_run:
            return f'cached  {head}'
        text = f'run     {head}: {self.reason}'
        if self.differences:
            text += ' (' + '; '.join(d.describe() for d in self.differences) + ')'
        if self.closest is not None:
            text += f', closest cached run {self.closest.unique_id}'
        return text


def plan(root: Any) -> list[Step]:
    """What a build of ``root`` would do, requirements first. As in a build, nothing under a cached task is looked at."""
    explainer = Explainer()
    steps: list[Step] = []
    seen: set[str] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    decided: dict[str, Step] = {}
    while stack:
        task, expanded = stack.pop()
        key = _key(task)
        if expanded:
            steps.append(decided[key])
            continue
        if key in seen:
            continue
        seen.add(key)
        step = explainer.step(task)
        decided[key] = step
        stack.append((task, True))
        if step.will_run:
            stack.extend((r, False) for r in reversed(_requirements(task)))
    return steps


def why(task: Any) -> tuple[bool, list[CachedRun]]:
    """Whether ``task``'s outputs exist, and the cached runs of its class nearest first (those with outputs before the rest)."""
    explainer = Explainer()
    return outputs_exist(task), explainer.cached_runs(task)


def outputs_exist(task: Any) -> bool:
    """True when the task has outputs and all of them exist (``complete()`` without its side effects)."""
    outputs = flatten(task.output())
    return bool(outputs) and all(t.exists() for t in outputs)


class Explainer:
    """Finds and compares cached runs; keeps the listing of each records directory for the whole explanation."""

    def __init__(self) -> None:
        self._records: dict[str, dict[str, list[str]]] = {}

    def step(self, task: Any) -> Step:
        step = Step(task=task, name=type(task).__name__, unique_id=_unique_id(task), will_run=True)
        if getattr(task, 'rerun', False):
            step.reason = RERUN
            return step
        if outputs_exist(task):
            step.will_run = False
            return step
        if getattr(task, 'run', None) is None:
            step.reason = MISSING_EXTERNAL
            return step
        runs = self.cached_runs(task)
        if not runs:
            step.reason = NO_OUTPUT
            return step
        closest = runs[0]
        step.closest, step.differences = closest, closest.differences
        if not closest.differences:
            # Equal parameters and requirements but another id: the class source or the code fingerprint is
            # part of the id, or the cached run could not be rebuilt to compare its requirements.
            code_changes = _code_differences(task, closest.unique_id)
            if code_changes:
                step.differences = code_changes
                step.reason = CHANGED_CODE
            else:
                step.reason = CHANGED_CODE if getattr(task, 'serialized_task_definition_check', False) else NO_OUTPUT
        elif all(d.upstream for d in closest.differences):
            step.reason = UPSTREAM_CHANGED
        else:
            step.reason = CHANGED_PARAMETER
        return step

    def cached_runs(self, task: Any) -> list[CachedRun]:
        workspace = getattr(task, 'workspace_directory', None)
        if not isinstance(workspace, str):
            return []
        own_id = _unique_id(task)
        current = dict(task.to_str_params(only_significant=True))
        runs = []
        for unique_id, path in self._records_of(workspace, type(task).__name__):
            if unique_id == own_id:
                continue
            try:
                params = _load_record(path)
            except Exception:
                continue
            runs.append(self._compare(task, current, unique_id, params))
        runs.sort(key=lambda r: (not r.output_exists, len(r.differences)))
        return runs

    def _compare(self, task: Any, current: dict[str, str], unique_id: str, params: dict[str, str]) -> CachedRun:
        differences = _parameter_differences(current, params)
        candidate = _rebuild(task, params)
        paths: list[str] = []
        exists = False
        if candidate is not None:
            try:
                paths = [str(t.path()) for t in flatten(candidate.output())]
                exists = outputs_exist(candidate)
            except Exception:
                pass
            if not differences:
                differences = _requirement_differences(task, candidate)
        return CachedRun(unique_id=unique_id, params=params, output_paths=paths, output_exists=exists, differences=differences)

    def _records_of(self, workspace: str, name: str) -> list[tuple[str, str]]:
        if workspace not in self._records:
            directory = os.path.join(workspace, 'log', 'task_params')
            by_name: dict[str, list[str]] = {}
            try:
                files = storage.list_files(directory) if storage.exists(directory) or not storage.is_local(directory) else []
            except Exception:
                files = []
            for path in files:
                match = _RECORD_NAME.match(os.path.basename(path))
                if match:
                    by_name.setdefault(match['name'], []).append(path)
            self._records[workspace] = by_name
        found = self._records[workspace].get(name, [])
        return [(_RECORD_NAME.match(os.path.basename(p))['uid'], p) for p in sorted(found)]  # type: ignore[index]


def _code_differences(task: Any, cached_unique_id: str) -> list[Difference]:
    """``code changed in X`` for each function whose fingerprint differs from the cached run's record."""
    if not getattr(task, 'code_fingerprint_check', False):
        return []
    from gokart.code_fingerprint import changed_code, code_fingerprint_parts, load_code_fingerprint_parts

    try:
        before = load_code_fingerprint_parts(task, unique_id=cached_unique_id)
    except Exception:
        return []
    if before is None:
        return []
    return [
        Difference(name=f'code changed in {name}', cached=None, current=None, upstream=False)
        for name in changed_code(before, code_fingerprint_parts(type(task)))
    ]


def _parameter_differences(current: dict[str, str], cached: dict[str, str], prefix: str = '', upstream: bool = False) -> list[Difference]:
    differences = []
    for name in list(current) + [n for n in cached if n not in current]:
        now, before = current.get(name), cached.get(name)
        if now == before:
            continue
        inner_now, inner_before = _decode_task_parameter(now), _decode_task_parameter(before)
        if inner_now is not None and inner_before is not None and inner_now[0] == inner_before[0]:
            # A task held in a parameter: name the upstream parameter that differs, not two opaque blobs.
            differences += _parameter_differences(inner_now[1], inner_before[1], prefix=f'{prefix}{name}.', upstream=True)
        else:
            is_task = inner_now is not None or inner_before is not None
            differences.append(
                Difference(name=prefix + name, cached=_readable(before), current=_readable(now), upstream=upstream or is_task)
            )
    return differences


def _decode_task_parameter(value: str | None) -> tuple[str, dict[str, str]] | None:
    """``(family, params)`` of a serialized TaskInstanceParameter value, or None for any other value."""
    if not value or not value.startswith('{'):
        return None
    try:
        data = json.loads(value)
        if not isinstance(data, dict) or set(data) != {'type', 'params'}:
            return None
        params = json.loads(bz2.decompress(bytes.fromhex(data['params'])).decode())
        return str(data['type']), {str(k): str(v) for k, v in params.items()}
    except Exception:
        return None


def _readable(value: str | None) -> str | None:
    decoded = _decode_task_parameter(value)
    if decoded is None:
        return value
    family, params = decoded
    return f'{family}(' + ', '.join(f'{k}={_readable(v)}' for k, v in params.items()) + ')'


def _requirement_differences(task: Any, candidate: Any) -> list[Difference]:
    """Requirements of equal position whose ids differ: the upstream change of a task with its own ``requires()``."""
    differences = []
    mine, theirs = _requirements(task), _requirements(candidate)
    for position in range(max(len(mine), len(theirs))):
        now = _label(mine[position]) if position < len(mine) else None
        before = _label(theirs[position]) if position < len(theirs) else None
        if now != before:
            differences.append(Difference(name=f'requires[{position}]', cached=before, current=now, upstream=True))
    return differences


def _rebuild(task: Any, params: dict[str, str]) -> Any:
    """The task of the record: its parameters parsed, this task's insignificant ones (workspace, ...) kept."""
    cls = type(task)
    kwargs: dict[str, Any] = {}
    try:
        for name, parameter in cls.get_params():
            if name in params:
                kwargs[name] = parameter.parse(params[name])
            elif not parameter.significant and name != 'rerun':
                kwargs[name] = getattr(task, name)
        return cls(**kwargs)
    except Exception:
        return None


def _load_record(path: str) -> dict[str, str]:
    from gokart.target import make_target

    loaded = make_target(path).load()
    if not isinstance(loaded, dict):
        raise ValueError(f'{path} does not hold a parameter dict')
    return {str(k): str(v) for k, v in loaded.items()}


def _requirements(task: Any) -> list[Any]:
    return [r for r in flatten(task.requires()) if hasattr(r, 'output')]


def _unique_id(task: Any) -> str:
    make_unique_id = getattr(task, 'make_unique_id', None)
    return str(make_unique_id()) if make_unique_id is not None else str(task.task_id)


def _key(task: Any) -> str:
    return f'{type(task).__name__}_{_unique_id(task)}'


def _label(task: Any) -> str:
    return f'{type(task).__name__}-{_unique_id(task)}'


def _short(value: str | None) -> str:
    if value is None:
        return '(absent)'
    return repr(value if len(value) <= 60 else value[:57] + '...')


__all__ = [
    'CHANGED_CODE',
    'CHANGED_PARAMETER',
    'MISSING_EXTERNAL',
    'NO_OUTPUT',
    'RERUN',
    'UPSTREAM_CHANGED',
    'CachedRun',
    'Difference',
    'Explainer',
    'Step',
    'plan',
    'outputs_exist',
    'why',
]
