"""Early cutoff (opt-in ``[gokart] early_cutoff``): a task whose inputs have the content its last run read is not run again.

A unique id hashes a task's parameters and its upstream ids, so a rerun upstream renames everything
below it, even when the upstream wrote the same bytes as before. Ids stay as they are (a plan still
knows every id before anything runs); cutoff is a second lookup, made right before ``run()`` would
be called, under the task's run lock:

1. the task's *cutoff key* (its family, its own parameters without the upstream tasks they hold,
   its code fingerprint when ``code_fingerprint_check`` is on; ``runs.row.cutoff_key``) names
   the runs that could stand in for this one; the runs index (``gokart.runs``) finds the successful
   ones, latest first;
2. a run stands in when it read, requirement by requirement, outputs with the content hashes the
   task's requirements have now (``storage.content_hash``: known from writing them, from the journal,
   or hashed once on first need and journaled), and its own outputs are still there as it wrote them;
3. its outputs are then placed at the task's paths (``storage.filesystem.place_copy``: a hard link
   or copy locally, a server-side copy on S3/GCS, each whole or absent; a signed output is signed
   again for its new place), and ``run()`` is not called. The executor fires the task's events as
   for a run, so its ``log/`` records are written, and its journal line names the run its outputs
   came from (``cutoff_from``).

A cut-off output has the hash of the one it copies, so the task's own downstream are cut off the
same way: a chain stops at the first unchanged output. Anything unexpected (no index, a record of
another shape, a file gone meanwhile) means "no cutoff": the task runs, as gokart 1.12 would run it.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import logging
import os
import sqlite3
import threading
import time
from typing import Any

from gokart.core import run_state, settings
from gokart.records import lineage
from gokart.storage import content_hash, local_target_seam, signing
from gokart.storage import filesystem as storage

logger = logging.getLogger(__name__)

_CANDIDATES = 20  # the latest runs of one cutoff key looked at; older ones have been superseded


def enabled() -> bool:
    """``[gokart] early_cutoff`` / ``GOKART_EARLY_CUTOFF`` (off by default: with it, a ``run()`` 1.12 would call may not be called)."""
    return bool(settings.value('early_cutoff'))


@dataclasses.dataclass(frozen=True)
class Source:
    """The earlier run whose outputs a cut-off task reuses."""

    task_class: str
    id: str
    family: str
    end: float | None
    outputs: tuple[str, ...]
    metrics: dict[str, float] | None
    shared: bool = False  # recorded in the team cache's shared workspace: its outputs are fetched from there first

    @property
    def label(self) -> str:
        return f'{self.family}_{self.id}'

    def as_record(self) -> dict[str, Any]:
        found = {'class': self.task_class, 'id': self.id, 'family': self.family, 'end': self.end}
        return {**found, 'shared': True} if self.shared else found


@dataclasses.dataclass(frozen=True)
class Finding:
    """What the lookup found for one task: the run that stands in for it, or why none does."""

    source: Source | None
    reason: str
    changed_input: str | None = None  # the requirement whose output's content differs, when that is the reason


def cut_off(task: Any) -> Source | None:
    """Place the outputs of a run that stands in for ``task`` at its paths and return that run; None when ``task`` must run.

    The executors call this under the task's run lock, where they would call ``run()``. Never raises
    for a lookup or placement that fails: the task then runs.
    """
    run_state.of(task).cutoff_from = None  # a task instance built again in this process: what an earlier build did is not this run
    if not enabled() or not eligible(task):
        return None
    try:
        finding = find(task)
        if finding.source is None:
            logger.debug(f'{_describe(task)} is not cut off: {finding.reason}')
            return None
        place(task, finding.source)
    except Exception as e:  # cutoff only ever spares work: when in doubt, the task runs
        logger.warning(f'gokart early cutoff: {_describe(task)} runs, the lookup or the placement of its outputs failed: {e}')
        return None
    state = run_state.of(task)
    state.cutoff_from = finding.source.as_record()
    if finding.source.metrics:
        state.metrics = finding.source.metrics
    logger.info(f"{_describe(task)} is cut off: its inputs have the content {finding.source.label} read; its outputs are that run's")
    return finding.source


def eligible(task: Any) -> bool:
    """Whether ``task`` could ever be cut off: file outputs only, no ``rerun``, no requirements ``run()`` yields as it goes."""
    workspace = getattr(task, 'workspace_directory', None)
    if getattr(task, 'rerun', False) or not isinstance(workspace, str):
        return False
    if storage.is_local(workspace) and local_target_seam.replacement() is not None:
        return False  # local outputs go to a stand-in (a test's in-memory store): no journal, no index, no files of ours
    run = getattr(type(task), 'run', None)
    if run is None or inspect.isgeneratorfunction(inspect.unwrap(run)):
        return False  # dynamic requirements: what it reads is known only by running it
    return _file_outputs(task) is not None


def find(task: Any) -> Finding:
    """The latest successful run with ``task``'s cutoff key that read what ``task``'s requirements hold now, outputs intact.

    The task's own workspace is asked first, then the team cache's shared workspace
    (``[gokart] shared_workspace``), whose outputs are fetched (verified) before they are placed.
    """
    outputs = _file_outputs(task)
    if outputs is None:
        return Finding(None, 'its outputs are not files')
    inputs = _requirement_outputs(task)
    if inputs is None:
        return Finding(None, 'an input is not a file')
    own_id = task.make_unique_id()
    workspace = task.workspace_directory
    key = _cutoff_key(task)
    changed: str | None = None
    recorded = False
    for where, shared in _workspaces(workspace):
        try:
            index = _index(where)
            candidates = index.candidates(key, own_id)
        except Exception as e:
            if not shared:
                raise
            logger.debug(f'gokart early cutoff: the runs of the shared workspace {where} cannot be read ({e}): not asked')
            continue
        recorded = recorded or bool(candidates)
        for candidate in candidates:
            differs = _first_differing_input(candidate, inputs, index, workspace)
            if differs is not None:
                changed = changed or differs
                continue
            if not _outputs_intact(candidate, outputs, own_id, (where, workspace) if shared else None):
                continue
            metrics = candidate.get('metrics')
            source = Source(
                task_class=str(candidate['class']),
                id=str(candidate['id']),
                family=str(candidate.get('family') or candidate['class']),
                end=candidate.get('end'),
                outputs=tuple(candidate['outputs']),
                metrics=metrics if isinstance(metrics, dict) else None,
                shared=shared,
            )
            return Finding(source, 'its inputs have the content an earlier run read')
    if not recorded:
        return Finding(None, 'no earlier run with the same parameters and code is recorded')
    if changed is not None:
        return Finding(None, f"{changed}'s output changed", changed_input=changed)
    return Finding(None, 'the outputs of the earlier runs that read the same inputs are gone or changed')


def _workspaces(workspace: str) -> list[tuple[str, bool]]:
    """Where earlier runs are looked for: the task's workspace, then the shared one of the team cache when one is set."""
    from gokart.storage import shared_workspace

    found = [(workspace, False)]
    try:
        shared = shared_workspace.settings().workspace if shared_workspace.enabled() else None
    except Exception:  # a team-cache setting that cannot be read is the team cache's to report
        shared = None
    if shared is not None and not shared_workspace.same_place(shared, workspace):
        found.append((shared, True))
    return found


def place(task: Any, source: Source) -> None:
    """Make ``task``'s outputs copies of ``source``'s, each whole or absent (signed again for its place when signing is on)."""
    own_id = task.make_unique_id()
    for target, recorded in zip(_file_outputs(task) or [], source.outputs, strict=True):
        new = target.path()
        if content_hash.key(recorded) == content_hash.key(new):
            continue
        # The earlier output named as this task names its own (relative to the same workspace): a signature binds that form.
        old = new.replace(own_id, source.id)
        if source.shared:
            from gokart.storage import shared_workspace

            if not shared_workspace.fetch(old, task.workspace_directory):  # checked against its signature file, as any fetch
                raise FileNotFoundError(f'{recorded} could not be fetched from the shared workspace')
        elif content_hash.key(old) != content_hash.key(recorded):
            old = recorded
        known = content_hash.current(old) or content_hash.hash_file(old)
        if _signed_here(target):
            _copy_signed(target, old, new, task.workspace_directory)
        else:
            storage.place_copy(old, new)
        stat = content_hash.local_stat(new)
        content_hash.remember(
            new, content_hash.Content(known.digest, stat.st_size if stat else known.size, stat.st_mtime_ns if stat else None)
        )


def inputs_unchanged_since_run(task: Any) -> bool:
    """Whether every input of ``task`` has the content its recorded run of this very id read (``modification_time_check`` by content)."""
    inputs = _requirement_outputs(task)
    if inputs is None or not eligible(task):
        return False
    try:
        index = _index(task.workspace_directory)
        record = index.run(type(task).__name__, task.make_unique_id())
        return record is not None and _first_differing_input(record, inputs, index, task.workspace_directory) is None
    except Exception as e:
        logger.warning(f'gokart early cutoff: cannot compare the inputs of {_describe(task)} by content ({e}); their times decide')
        return False


def may_be_cut_off(task: Any) -> bool:
    """Whether a run with ``task``'s cutoff key is recorded, so the task may be cut off if its inputs come out unchanged (for ``gokart plan``)."""
    if not eligible(task):
        return False
    try:
        return bool(_index(task.workspace_directory).candidates(_cutoff_key(task), task.make_unique_id()))
    except Exception:
        return False


# ----- the inputs and outputs of a task ---------------------------------------------------------
def _file_outputs(task: Any) -> list[Any] | None:
    """The task's outputs when every one is a gokart file target (a local file or an object), else None."""
    from gokart.target import ModelTarget, SingleFileTarget
    from gokart.utils import flatten

    try:
        targets = flatten(task.output())
    except Exception:
        return None
    if not targets or not all(isinstance(t, (SingleFileTarget, ModelTarget)) for t in targets):
        return None
    return list(targets)


@dataclasses.dataclass(frozen=True)
class _Input:
    family: str
    label: str  # Family_<id>, as messages name it
    paths: tuple[str, ...]


def _requirement_outputs(task: Any) -> list[_Input] | None:
    from gokart.core import dag

    try:
        found = []
        for required in dag.requirements(task):
            targets = _file_outputs(required)
            if targets is None:
                return None
            family = required.get_task_family()
            found.append(_Input(family, f'{family}_{required.make_unique_id()}', tuple(t.path() for t in targets)))
        return found
    except Exception:
        return None


def _first_differing_input(run: dict[str, Any], inputs: list[_Input], index: _Index, workspace: str) -> str | None:
    """The label of the first input whose content is not what ``run`` read (any mismatch of shape counts); None when all match."""
    recorded = run.get('requires')
    if not isinstance(recorded, list) or len(recorded) != len(inputs):
        return inputs[0].label if inputs else 'a requirement'
    for was, now in zip(recorded, inputs, strict=True):
        if not isinstance(was, dict) or was.get('family') != now.family:
            return now.label
        old_paths, old_hashes = was.get('outputs'), was.get('hashes')
        if not isinstance(old_paths, list) or len(old_paths) != len(now.paths):
            return now.label
        for position, (old_path, new_path) in enumerate(zip(old_paths, now.paths, strict=True)):
            old = old_hashes[position] if isinstance(old_hashes, list) and len(old_hashes) == len(old_paths) else None
            if not content_hash.is_digest(old):  # not written down by the run: what was recorded for that file before it started
                old = index.recorded_hash(old_path, before=run.get('start')) if isinstance(old_path, str) else None
            if old is None or old != _current_hash(new_path, index, workspace):
                return now.label
    return None


def _current_hash(path: str, index: _Index, workspace: str) -> str | None:
    """The content hash of the file at ``path`` now: remembered, recorded in the journal (and still that file), or read once."""
    known = content_hash.current(path)
    if known is not None:
        return known.digest
    recorded = index.recorded_content(path)
    if recorded is not None and _still_the_file(path, recorded):
        content_hash.remember(path, recorded)
        return recorded.digest
    try:
        computed = content_hash.hash_file(path)
    except FileNotFoundError:
        return None
    lineage.record_content(workspace, path, computed)  # no later build reads this file again for its hash
    return computed.digest


def _still_the_file(path: str, content: content_hash.Content) -> bool:
    """Whether the file at ``path`` is the one ``content`` was taken from: same size and (locally) modification time."""
    stat = content_hash.local_stat(path)
    if stat is not None:
        return (content.size is None or stat.st_size == content.size) and content.mtime_ns == stat.st_mtime_ns
    if storage.is_local(path):
        return False
    try:
        return content.size is not None and storage.size(path) == content.size
    except FileNotFoundError:
        return False


def _outputs_intact(run: dict[str, Any], targets: list[Any], own_id: str, shared: tuple[str, str] | None = None) -> bool:
    """Whether ``run``'s outputs match ``task``'s one for one (the same paths but for the id) and are still as it wrote them.

    ``shared``: (shared workspace, own workspace) for a run recorded in the team cache, whose paths lie in the shared one.
    """
    old_paths, contents = run.get('outputs'), run.get('contents')
    if not isinstance(old_paths, list) or len(old_paths) != len(targets):
        return False
    for position, (old, target) in enumerate(zip(old_paths, targets, strict=True)):
        if not isinstance(old, str):
            return False
        here = _in_own_workspace(old, shared) if shared is not None else old
        if here is None or content_hash.key(here).replace(str(run.get('id')), own_id) != content_hash.key(target.path()):
            return False
        recorded = (
            content_hash.Content.from_record(contents[position]) if isinstance(contents, list) and len(contents) == len(old_paths) else None
        )
        if recorded is None:
            if not _unchanged_since(old, run.get('end')):
                return False
        elif _still_the_file(old, recorded):
            content_hash.remember(old, recorded)
        else:
            return False
    return True


def _in_own_workspace(path: str, shared: tuple[str, str]) -> str | None:
    """The own workspace's counterpart of a path of the shared workspace (the same path relative to each)."""
    from gokart.storage import shared_workspace

    shared_root, own_root = shared
    relative = shared_workspace.relative_path(content_hash.key(path), content_hash.key(shared_root))
    return None if relative is None else shared_workspace.join(own_root, relative)


def _unchanged_since(path: str, end: Any) -> bool:
    """For a run recorded without content hashes: a local file not modified after the run ended is taken as the one it wrote."""
    stat = content_hash.local_stat(path)
    return stat is not None and isinstance(end, (int, float)) and stat.st_mtime <= end + 1.0


def _signed_here(target: Any) -> bool:
    from gokart.target import ModelTarget

    if signing.signing_key() is None:
        return False
    return isinstance(target, ModelTarget) or signing.covers(target._processor)


def _copy_signed(target: Any, old: str, new: str, workspace: str) -> None:
    """A signed output read, checked against its own place, and written signed for its new place."""
    with storage.open_read(old) as stream:
        content = signing.verified(stream, old, True, workspace).read()
    with storage.atomic_write(new) as stream, signing.signed(stream, new, True, workspace) as out:
        out.write(content)


def _cutoff_key(task: Any) -> str:
    from gokart.runs.row import cutoff_key

    params = dict(task.to_str_params(only_significant=True))
    return cutoff_key(task.get_task_family(), params, lineage.task_parameter_ids(task), _fingerprint(task))


def _fingerprint(task: Any) -> str | None:
    if not getattr(task, 'code_fingerprint_check', False):
        return None
    from gokart.ids.code_fingerprint import code_fingerprint

    return code_fingerprint(type(task))


def _describe(task: Any) -> str:
    from gokart.core.error_messages import describe_task

    return describe_task(task)


# ----- the runs index, as the lookup reads it ---------------------------------------------------
class _Index:
    """One process's connection to a workspace's runs index, brought up to date with the journals when asked."""

    def __init__(self, workspace: str) -> None:
        from gokart.runs import index

        self.workspace = workspace
        self._connection = index.connect(workspace)
        self._lock = threading.Lock()
        self._synced_at = float('-inf')
        self._synced_after = -1

    def _sync(self) -> None:
        from gokart.runs.sync import sync_journals

        sync_journals(self._connection, self.workspace)
        self._synced_at = time.monotonic()
        self._synced_after = lineage.published

    def _stale(self) -> bool:
        # The runs that can stand in for a task were recorded by earlier builds: one sync per build finds
        # them (a build's end publishes its journals: lineage.published). What this build's other
        # processes record meanwhile (the hashes of outputs they wrote) is read again when a lookup
        # misses; on an object store also every few seconds, as often as journals are published there.
        if self._synced_after != lineage.published:
            return True
        return not storage.is_local(self.workspace) and time.monotonic() - self._synced_at > lineage.REMOTE_FLUSH_SECONDS

    def _rows(self, query: str, arguments: tuple[Any, ...], resync: bool) -> list[sqlite3.Row]:
        with self._lock:
            if self._stale():
                self._sync()
            rows = self._connection.execute(query, arguments).fetchall()
            if not rows and (resync or self._may_resync()):  # written meanwhile by another process
                self._sync()
                rows = self._connection.execute(query, arguments).fetchall()
            return rows

    def _may_resync(self) -> bool:
        # A long-lived worker (Dask) never sees a build end: a miss reads the journals again, locally at
        # once (a scan that finds nothing new), on an object store at most every few seconds.
        return storage.is_local(self.workspace) or time.monotonic() - self._synced_at > lineage.REMOTE_FLUSH_SECONDS

    def candidates(self, cutoff_key: str, own_id: str) -> list[dict[str, Any]]:
        rows = self._rows(
            f'SELECT {_RUN_COLUMNS} FROM runs WHERE cutoff_key = ? AND state = ? AND id != ? ORDER BY "end" DESC LIMIT {_CANDIDATES}',
            (cutoff_key, lineage.SUCCESS, own_id),
            resync=False,
        )
        return [_decoded(row) for row in rows]

    def run(self, task_class: str, unique_id: str) -> dict[str, Any] | None:
        rows = self._rows(f'SELECT {_RUN_COLUMNS} FROM runs WHERE class = ? AND id = ?', (task_class, unique_id), resync=True)
        return _decoded(rows[0]) if rows else None

    def recorded_content(self, path: str, before: Any = None) -> content_hash.Content | None:
        """The latest hash recorded for ``path``; with ``before`` (a time), the latest recorded by then."""
        from gokart.runs.sync import normal_path

        if isinstance(before, (int, float)) and not isinstance(before, bool):
            query = 'SELECT hash, size, mtime_ns FROM contents WHERE path = ? AND "end" <= ? ORDER BY "end" DESC LIMIT 1'
            rows = self._rows(query, (normal_path(path), float(before)), resync=True)
        else:
            query = 'SELECT hash, size, mtime_ns FROM contents WHERE path = ? ORDER BY "end" DESC LIMIT 1'
            rows = self._rows(query, (normal_path(path),), resync=True)
        if not rows:
            return None
        return content_hash.Content.from_record({'hash': rows[0][0], 'size': rows[0][1], 'mtime_ns': rows[0][2]})

    def recorded_hash(self, path: str, before: Any = None) -> str | None:
        found = self.recorded_content(path, before)
        return found.digest if found is not None else None


_RUN_COLUMNS = '"class", id, family, outputs, requires, contents, start, "end", metrics'


def _decoded(row: sqlite3.Row | tuple[Any, ...]) -> dict[str, Any]:
    names = ('class', 'id', 'family', 'outputs', 'requires', 'contents', 'start', 'end', 'metrics')
    found = dict(zip(names, row, strict=True))
    for name in ('outputs', 'requires', 'contents', 'metrics'):
        try:
            found[name] = json.loads(found[name]) if isinstance(found[name], str) else None
        except ValueError:  # a damaged row: it matches nothing
            found[name] = None
    return found


_indexes: dict[tuple[int, str], _Index] = {}
_indexes_lock = threading.Lock()


def _index(workspace: str) -> _Index:
    """This process's index of ``workspace`` (a forked worker opens its own: SQLite connections do not cross a fork)."""
    if storage.is_local(workspace):  # './resources' is another directory after a chdir
        workspace = os.path.abspath(storage.local_path(workspace))
    key = (os.getpid(), workspace)
    with _indexes_lock:
        found = _indexes.get(key)
        if found is None:
            found = _indexes[key] = _Index(workspace)
        return found


__all__ = ['Finding', 'Source', 'cut_off', 'eligible', 'enabled', 'find', 'inputs_unchanged_since_run', 'may_be_cut_off', 'place']
