"""Dry-run explanations: which tasks a build would run and why (``plan``), and why a task has no output (``why``).

A task's output file carries its unique id, and the id is a hash of its significant parameters and of
its requirements' ids. So "why will this run?" has these answers: the rerun flag is set; the task's
own run is recorded but its output is gone (deleted, or the run never finished); nothing with this
class was ever built; a parameter differs from a cached run; the code differs; or an upstream task
differs. The cached runs are found through the ``log/task_params/{Class}_{uid}.pkl`` records that
every run leaves, which hold the significant parameters as strings. Nothing here calls
``complete()``, which would delete outputs under ``rerun=True``.

``plan`` and ``why`` share one diagnosis (:meth:`Explainer.step`), so they cannot disagree.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from gokart.core import dag
from gokart.core.task_names import decoded_task_instance
from gokart.core.task_protocol import KartTask
from gokart.execution.plan import found_in_shared, output_locations
from gokart.ids.code_fingerprint import changed_code, code_fingerprint_parts
from gokart.records import run_records
from gokart.runs import cutoff
from gokart.storage import filesystem as storage
from gokart.storage import shared_workspace
from gokart.target import make_target
from gokart.utils import flatten

RERUN = 'rerun flag'
NO_OUTPUT = 'no output'
CHANGED_PARAMETER = 'changed parameter'
UPSTREAM_CHANGED = 'upstream changed'
MISSING_EXTERNAL = 'missing external data'
CHANGED_CODE = 'changed code'
OUTPUT_DELETED = 'output missing'
UNFINISHED_RUN = 'unfinished run'
FAILED_RUN = 'failed run'


@dataclass
class Difference:
    """One significant value that differs between this task and a cached run of its class."""

    name: str  # a parameter name; 'task.param' inside a task parameter; 'requires[i]' for a requirement's id
    cached: str | None
    current: str | None
    upstream: bool  # the difference is in an upstream task, not in this task's own parameters
    detail: str | None = None  # for an upstream task that will run: its own diagnosis, which ``why`` prints below
    changed_class: bool = False  # a task parameter holds a task of another class than the cached run's
    step: Step | None = None  # for an upstream task that will run: its diagnosis, which ``why`` follows down to the first cause

    def describe(self) -> str:
        if self.cached is None and self.current is None:
            return self.name
        before, after = _short_pair(self.cached, self.current)
        return f'{self.name}: {before} -> {after}'


SHOWN_DIFFERENCES = 3  # differences named per task; a task of many changed parameters stays readable


def describe_differences(differences: list[Difference], limit: int = SHOWN_DIFFERENCES) -> list[str]:
    """The first ``limit`` differences described, and how many more there are."""
    described = [d.describe() for d in differences[:limit]]
    if len(differences) > limit:
        described.append(f'and {len(differences) - limit} more')
    return described


@dataclass
class CachedRun:
    """A run of the same class recorded in the workspace, and how it differs from the task asked about."""

    unique_id: str
    params: dict[str, str]
    output_paths: list[str]
    output_exists: bool
    differences: list[Difference] = field(default_factory=list)
    finished: bool = True  # its task_log record exists: the run reached SUCCESS
    error: str | None = None  # the error the runs index recorded for it, when its last run failed


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
    own_run: CachedRun | None = None  # the recorded run with this task's own id, when its output is missing
    runs: list[CachedRun] = field(default_factory=list)  # other recorded runs of the class, nearest first
    cutoff: str | None = None  # with early cutoff on: whether the run may be spared (docs/early_cutoff.md)
    shared: bool = False  # cached through the team's shared workspace (fetched when a build loads it)

    def describe(self) -> str:
        head = f'{self.name}[{self.unique_id}]'
        if not self.will_run:
            return f'cached  {head}' + (' (in the shared workspace)' if self.shared else '')
        return f'run     {head}: {self.explanation()}'

    def summary(self) -> str:
        """The reason and what differs, without the closest cached run."""
        text = str(self.reason)
        if self.reason == NO_OUTPUT and self.closest is None:
            if self.runs:  # never "first run" when runs are recorded: say what is known
                text += (
                    ' (runs of this class are recorded with the same significant parameters under other ids; the records do not say why)'
                )
            else:
                text += ' (first run: no run of this class is recorded in log/)'
        if self.reason == FAILED_RUN and self.own_run is not None:
            text += f' (its last run failed: {self.own_run.error})'
        if self.differences:
            text += ' (' + '; '.join(describe_differences(self.differences)) + ')'
        return text

    def explanation(self) -> str:
        """The reason with its details, as ``plan`` and ``why`` both print it."""
        text = self._explanation()
        return f'{text}; {self.cutoff}' if self.cutoff else text

    def _explanation(self) -> str:
        if self.reason == OUTPUT_DELETED:
            return f'{OUTPUT_DELETED} (its run is recorded in log/: deleted?)'
        if self.reason == UNFINISHED_RUN:
            return f'{UNFINISHED_RUN} (its run started but never succeeded: it failed or was interrupted)'
        if self.reason == FAILED_RUN:
            return self.summary()
        text = self.summary()
        if self.closest is not None:
            text += f', closest cached run {self.closest.unique_id}'
        return text


def plan(root: Any) -> list[Step]:
    """What a build of ``root`` would do, requirements first. As in a build, nothing under a cached task is looked at.

    Whether outputs exist is found level by level first, with one listing per output directory where
    that is cheaper (``storage.exists_many``), as a build plans: on an object store a plan of
    thousands of cached tasks costs a few listing requests, not one request per task.
    """
    shared_workspace.refresh()
    with dag.planning(), shared_workspace.verification_deferred(), storage.known_existence(_existence_by_level(root)):
        return _plan(root)


def _existence_by_level(root: Any) -> storage.ExistenceAnswers:
    """Whether each output of the tasks ``plan`` will diagnose exists, asked one breadth-first level at a time."""
    answers = storage.ExistenceAnswers()
    level, seen = [root], {_key(root)}
    with storage.known_existence(answers):
        while level:
            locations = output_locations(level)
            found = storage.exists_many(path for path, _ in locations)
            if shared_workspace.enabled():  # what the own workspace lacks, asked of the shared one by listings too
                shared_workspace.existence(location for location in locations if not found.get(location[0]))
            answers.update(found)
            answers.unavailable.update(found.unavailable)
            following = []
            for task in level:
                try:
                    if not getattr(task, 'rerun', False) and outputs_exist(task):
                        continue
                    requirements = _requirements(task)
                except Exception:
                    continue  # the diagnosis raises the same error where it belongs
                for requirement in requirements:
                    key = _key(requirement)
                    if key not in seen:
                        seen.add(key)
                        following.append(requirement)
            level = following
    return answers


def _plan(root: Any) -> list[Step]:
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


def why(task: KartTask) -> Step:
    """The diagnosis of ``task`` that ``plan`` gives it, with every recorded run of its class (``Step.runs``) nearest first."""
    shared_workspace.refresh()
    explainer = Explainer()
    with shared_workspace.verification_deferred():
        step = explainer.step(task)
    if not step.runs and step.will_run:
        step.runs = explainer.cached_runs(task)
    return step


def outputs_exist(task: Any) -> bool:
    """True when the task has outputs and all of them exist (``complete()`` without its side effects)."""
    outputs = flatten(task.output())
    return bool(outputs) and all(t.exists() for t in outputs)


@dataclass
class _RecordedRun:
    """What one recorded run left: its parameters and the output paths of its ``task_log`` (None: unfinished)."""

    unique_id: str
    params: dict[str, str]
    task_log_paths: list[str] | None


class Explainer:
    """Finds and compares cached runs.

    Keeps, for the whole explanation, the listing of each records directory, the records of each class
    read once, and which of their outputs exist: a plan in which many tasks of one class must run
    compares each with the same recorded runs, and reads none of them twice.
    """

    def __init__(self) -> None:
        self._records: dict[str, dict[str, list[tuple[str, str]]]] = {}
        self._recorded_runs: dict[tuple[str, str], list[_RecordedRun]] = {}
        self._existence: dict[str, bool] = {}
        self._steps: dict[str, Step] = {}

    def step(self, task: Any) -> Step:
        """The one diagnosis of ``task``: cached, or why a build would run it. Remembered per task."""
        key = _key(task)
        if key not in self._steps:
            step = self._steps[key] = self._diagnose(task)
            if step.will_run and step.reason not in (RERUN, MISSING_EXTERNAL) and cutoff.enabled():
                step.cutoff = self._cutoff(task)
        return self._steps[key]

    def _cutoff(self, task: Any) -> str | None:
        """What early cutoff would make of ``task``: cut off now, or only if the upstream tasks that will run write something new."""
        running = [r for r in _requirements(task) if self.step(r).will_run]
        if running:
            if not cutoff.may_be_cut_off(task):
                return None
            names = ', '.join(dict.fromkeys(type(r).__name__ for r in running))
            return f"may be cut off (runs only if {names}'s output changes)"
        if not cutoff.eligible(task):
            return None
        finding = cutoff.find(task)
        if finding.source is not None:
            return f'will be cut off: its inputs have the content the run {finding.source.label} read, whose outputs it reuses'
        if finding.changed_input is not None:
            return f'not cut off: {finding.changed_input} wrote something else than what the last run with these parameters read'
        return None

    def _diagnose(self, task: Any) -> Step:
        step = Step(task=task, name=type(task).__name__, unique_id=step_id(task), will_run=True)
        if getattr(task, 'rerun', False):
            step.reason = RERUN
            return step
        if outputs_exist(task):
            step.will_run = False
            step.shared = shared_workspace.enabled() and found_in_shared(task)
            return step
        if getattr(task, 'run', None) is None:
            step.reason = MISSING_EXTERNAL
            return step
        # Its own id recorded: the output went missing after that run (or the run never finished). Checked
        # before any sibling run, whose parameters would otherwise be blamed for nothing.
        step.own_run = self.own_run(task)
        if step.own_run is not None:
            step.own_run.error = recorded_failure(task)
            if step.own_run.error is not None:
                step.reason = FAILED_RUN
            else:
                step.reason = OUTPUT_DELETED if step.own_run.finished else UNFINISHED_RUN
            return step
        step.runs = self.cached_runs(task)
        if not step.runs:
            step.reason = NO_OUTPUT
            step.differences = self._failed_requirements(task)  # a first run that will meet a failure upstream: said here
            return step
        closest = step.runs[0]
        step.closest, step.differences = closest, closest.differences
        if closest.differences:
            step.reason = UPSTREAM_CHANGED if all(d.upstream for d in closest.differences) else CHANGED_PARAMETER
            return step
        # Equal parameters and requirements but another id: the task's code is part of the id (code
        # fingerprint, class source), or a requirement's id changed without its parameters changing.
        code_changes = _code_differences(task, closest.unique_id)
        if code_changes:
            step.differences, step.reason = code_changes, CHANGED_CODE
            return step
        upstream = self._new_requirements(task)
        if upstream:
            step.differences, step.reason = upstream, UPSTREAM_CHANGED
        elif getattr(task, 'serialized_task_definition_check', False):
            step.reason = CHANGED_CODE
        else:
            step.closest, step.reason = None, NO_OUTPUT
        return step

    def own_run(self, task: Any) -> CachedRun | None:
        """The recorded run with ``task``'s own unique id, if its parameters record exists."""
        workspace = getattr(task, 'workspace_directory', None)
        if not isinstance(workspace, str):
            return None
        own_id = step_id(task)
        for unique_id, path in self._records_of(workspace, type(task).__name__):
            if unique_id == own_id:
                paths = [str(t.path()) for t in flatten(task.output())]
                params = dict(task.to_str_params(only_significant=True))
                finished = _task_log_paths(path) is not None
                return CachedRun(unique_id=own_id, params=params, output_paths=paths, output_exists=False, finished=finished)
        return None

    def _new_requirements(self, task: Any) -> list[Difference]:
        """Requirements that never ran under their current id, each with its own diagnosis: the upstream change."""
        differences = []
        for requirement in _requirements(task):
            if outputs_exist(requirement) or self.own_run(requirement) is not None:
                continue
            inner = self.step(requirement)
            if inner.will_run:
                # Only the requirement and its reason: its own line (or ``gokart why`` on it) says what differs,
                # and repeating that here would nest every upstream change in each task below it.
                name = f'{type(requirement).__name__}[{step_id(requirement)}] will run: {inner.reason}'
                differences.append(Difference(name=name, cached=None, current=None, upstream=True, detail=inner.summary(), step=inner))
        return differences

    def _failed_requirements(self, task: Any) -> list[Difference]:
        """Requirements whose last recorded run failed (the index holds the error), each with its diagnosis."""
        differences = []
        try:
            requirements = _requirements(task)
        except Exception:
            return []
        for requirement in requirements:
            if outputs_exist(requirement):
                continue
            inner = self.step(requirement)
            if inner.reason == FAILED_RUN:
                name = f'{type(requirement).__name__}[{step_id(requirement)}] will run: {inner.reason}'
                differences.append(Difference(name=name, cached=None, current=None, upstream=True, detail=inner.summary(), step=inner))
        return differences

    def cached_runs(self, task: Any) -> list[CachedRun]:
        workspace = getattr(task, 'workspace_directory', None)
        if not isinstance(workspace, str):
            return []
        own_id = step_id(task)
        current = dict(task.to_str_params(only_significant=True))
        recorded_runs = self._recorded_runs_of(workspace, type(task).__name__)
        runs = [self._compare(task, current, recorded) for recorded in recorded_runs if recorded.unique_id != own_id]
        self._learn_existence(p for run in runs for p in run.output_paths)
        for run in runs:
            run.output_exists = bool(run.output_paths) and all(self._existence[p] for p in run.output_paths)
        # Like with like first: a run whose task parameters hold tasks of the same classes, so that what
        # differs is named leaf by leaf (model.depth: 6 -> 8), not as one task of another class.
        runs.sort(key=lambda r: (sum(d.changed_class for d in r.differences), not r.output_exists, len(r.differences)))
        return runs

    def _recorded_runs_of(self, workspace: str, name: str) -> list[_RecordedRun]:
        """The recorded runs of class ``name``, each record read once per explanation."""
        key = (workspace, name)
        if key not in self._recorded_runs:
            records = self._records_of(workspace, name)
            # Whether each run finished (its task_log record exists): on an object store one listing per
            # directory for all runs at once, not a request per run.
            recorded = []
            with storage.known_existence(storage.exists_many(run_records.sibling(path, run_records.TASK_LOG) for _, path in records)):
                for unique_id, path in records:
                    try:
                        params = _load_record(path)
                    except Exception:
                        continue
                    recorded.append(_RecordedRun(unique_id, params, _task_log_paths(path)))
            self._recorded_runs[key] = recorded
        return self._recorded_runs[key]

    def _learn_existence(self, paths: Iterable[str]) -> None:
        """Find out which of ``paths`` exist, asking the store only about those not known yet (one listing per directory)."""
        unknown = [p for p in dict.fromkeys(paths) if p not in self._existence]
        if not unknown:
            return
        with storage.known_existence(storage.exists_many(unknown)):
            for path in unknown:
                self._existence[path] = _exists(path)

    def _compare(self, task: Any, current: dict[str, str], recorded: _RecordedRun) -> CachedRun:
        differences = _parameter_differences(current, recorded.params)
        # The output paths the run wrote, from its task_log record; else the rebuilt task's, under the
        # recorded id (with today's code the rebuilt task may have another id than the run had). The
        # task is rebuilt from the record only when needed: a task per pair is the costly part.
        paths = recorded.task_log_paths
        candidate = _rebuild(task, recorded.params) if paths is None or not differences else None
        if paths is None and candidate is not None:
            try:
                rebuilt_id = step_id(candidate)
                paths = [str(t.path()).replace(rebuilt_id, recorded.unique_id) for t in flatten(candidate.output())]
            except Exception:
                paths = None
        if candidate is not None and not differences:
            differences = _requirement_differences(task, candidate)
        # output_exists is set by cached_runs, which asks about the outputs of all runs at once.
        return CachedRun(
            unique_id=recorded.unique_id,
            params=recorded.params,
            output_paths=paths or [],
            output_exists=False,
            differences=differences,
            finished=recorded.task_log_paths is not None,
        )

    def _records_of(self, workspace: str, name: str) -> list[tuple[str, str]]:
        if workspace not in self._records:  # one listing per workspace for the whole explanation
            self._records[workspace] = run_records.runs_in(workspace)
        return self._records[workspace].get(name, [])


def _code_differences(task: KartTask, cached_unique_id: str) -> list[Difference]:
    """``code changed in X`` for each function whose fingerprint differs from the cached run's record.

    A run recorded without a fingerprint (``code_fingerprint_check`` was off) differs by the fingerprint
    itself; one recorded with a fingerprint, from a task that has the check off now, the other way round.
    """
    checked = bool(getattr(task, 'code_fingerprint_check', False))
    try:
        before = run_records.load_code_fingerprint_parts(task, unique_id=cached_unique_id)
    except Exception:
        return []
    if not checked:
        if before is None:
            return []
        name = f'code_fingerprint_check is off now; the cached run {cached_unique_id} was recorded with a code fingerprint'
        return [Difference(name=name, cached=None, current=None, upstream=False)]
    if before is None:
        name = f'the code fingerprint is new: the cached run {cached_unique_id} was recorded without one (code_fingerprint_check was off)'
        return [Difference(name=name, cached=None, current=None, upstream=False)]
    return [
        Difference(name=f'code changed in {name}', cached=None, current=None, upstream=False)
        for name in changed_code(before, code_fingerprint_parts(type(task)))
    ]


def recorded_failure(task: Any) -> str | None:
    """The error of ``task``'s own run when the runs index records its last run as a failure, else None."""
    workspace = getattr(task, 'workspace_directory', None)
    if not isinstance(workspace, str):
        return None
    from gokart.runs.query import recorded_failure as failure_in_index

    return failure_in_index(workspace, type(task).__name__, step_id(task))


def _parameter_differences(current: dict[str, str], cached: dict[str, str], prefix: str = '', upstream: bool = False) -> list[Difference]:
    differences = []
    for name in list(current) + [n for n in cached if n not in current]:
        differences += _value_differences(prefix + name, current.get(name), cached.get(name), upstream)
    return differences


def _value_differences(path: str, now: str | None, before: str | None, upstream: bool) -> list[Difference]:
    """The leaves that differ between two serialized values at ``path``, nested tasks and lists of tasks decoded.

    A task held in a parameter (or a list of them) is compared parameter by parameter, so the line names
    ``evaluations[1].model.C`` instead of two opaque serialized blobs.
    """
    if now == before:
        return []
    task_now, task_before = decoded_task_instance(now), decoded_task_instance(before)
    if task_now is not None and task_before is not None and task_now[0] == task_before[0]:
        return _parameter_differences(task_now[1], task_before[1], prefix=f'{path}.', upstream=True)
    list_now, list_before = _decode_task_list(now), _decode_task_list(before)
    if list_now is not None and list_before is not None:
        differences = []
        for position in range(max(len(list_now), len(list_before))):
            element_now = list_now[position] if position < len(list_now) else None
            element_before = list_before[position] if position < len(list_before) else None
            differences += _value_differences(f'{path}[{position}]', element_now, element_before, upstream=True)
        return differences
    is_task = any(decoded is not None for decoded in (task_now, task_before, list_now, list_before))
    changed_class = (task_now is None) != (task_before is None) or (task_now is not None and task_before is not None)
    return [
        Difference(
            name=path,
            cached=_readable(before),
            current=_readable(now),
            upstream=upstream or is_task,
            changed_class=is_task and changed_class,
        )
    ]


def parameter_leaves(params: dict[str, str], prefix: str = '') -> dict[str, str]:
    """The significant parameters with tasks held in parameters (and lists of them) decoded: ``{'model.C': '0.01', ...}``.

    A nested task's family is a leaf of its own (``model``: ``TrainModel``), so two tasks of different
    classes in one parameter differ there.
    """
    leaves: dict[str, str] = {}
    for name, value in params.items():
        path = prefix + name
        task = decoded_task_instance(value)
        elements = _decode_task_list(value) if task is None else None
        if task is not None:
            leaves[path] = task[0]
            leaves.update(parameter_leaves(task[1], prefix=f'{path}.'))
        elif elements is not None:
            leaves[path] = f'{len(elements)} tasks'
            for position, element in enumerate(elements):
                leaves.update(parameter_leaves({f'{path}[{position}]': element}))
        else:
            leaves[path] = value
    return leaves


def _decode_task_list(value: str | None) -> list[str] | None:
    """The serialized tasks of a ListTaskInstanceParameter value (a JSON list of them), or None for any other value."""
    if not value or not value.startswith('['):
        return None
    try:
        data = json.loads(value)
    except ValueError:
        return None
    if not isinstance(data, list) or not all(isinstance(item, str) and decoded_task_instance(item) is not None for item in data):
        return None
    return data


def _readable(value: str | None) -> str | None:
    decoded = decoded_task_instance(value)
    if decoded is None:
        elements = _decode_task_list(value)
        return value if elements is None else '[' + ', '.join(str(_readable(e)) for e in elements) + ']'
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


def _task_log_paths(params_record: str) -> list[str] | None:
    """The output paths in the ``task_log`` record of the run whose ``task_params`` record is given; None without one."""
    task_log = run_records.sibling(params_record, run_records.TASK_LOG)
    try:
        if not _exists(task_log):
            return None
        loaded = make_target(task_log).load()
    except Exception:
        return None
    paths = loaded.get('file_path') if isinstance(loaded, dict) else None
    return [str(p) for p in paths] if isinstance(paths, list) else []


def _exists(path: str) -> bool:
    try:
        return bool(storage.exists(path))
    except Exception:
        return False


def _load_record(path: str) -> dict[str, str]:
    loaded = make_target(path).load()
    if not isinstance(loaded, dict):
        raise ValueError(f'{path} does not hold a parameter dict')
    return {str(k): str(v) for k, v in loaded.items()}


def _requirements(task: Any) -> list[Any]:
    return list(dag.requirements(task))


def step_id(task: Any) -> str:
    """The unique id that names the task's output and records (``make_unique_id``, luigi's task id otherwise)."""
    make_unique_id = getattr(task, 'make_unique_id', None)
    return str(make_unique_id()) if make_unique_id is not None else str(task.task_id)


def _key(task: Any) -> str:
    return f'{type(task).__name__}_{step_id(task)}'


def _label(task: Any) -> str:
    return f'{type(task).__name__}-{step_id(task)}'


def _short(value: str | None) -> str:
    if value is None:
        return '(absent)'
    return repr(value if len(value) <= SHORT else value[: SHORT - 3] + '...')


SHORT = 60  # characters of a value shown in a difference


def _short_pair(before: str | None, after: str | None) -> tuple[str, str]:
    """Both values shortened around their first difference, so a shortened pair never looks equal.

    Both are cut at the same offset, a little before the first character that differs; a value that
    fits is shown whole.
    """
    if before is None or after is None or (len(before) <= SHORT and len(after) <= SHORT):
        return _short(before), _short(after)
    common = 0
    for a, b in zip(before, after, strict=False):  # up to the shorter one
        if a != b:
            break
        common += 1
    start = max(0, common - 15)
    return _window(before, start), _window(after, start)


def _window(value: str, start: int) -> str:
    end = start + SHORT - 6
    return repr(('...' if start else '') + value[start:end] + ('...' if end < len(value) else ''))


__all__ = [
    'CHANGED_CODE',
    'CHANGED_PARAMETER',
    'FAILED_RUN',
    'MISSING_EXTERNAL',
    'NO_OUTPUT',
    'OUTPUT_DELETED',
    'RERUN',
    'UNFINISHED_RUN',
    'UPSTREAM_CHANGED',
    'CachedRun',
    'Difference',
    'Explainer',
    'Step',
    'describe_differences',
    'plan',
    'outputs_exist',
    'parameter_leaves',
    'step_id',
    'why',
]
