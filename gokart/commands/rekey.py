"""``gokart rekey``: move a workspace's outputs and ``log/`` records from one id scheme to the other.

Every output and record carries its task's unique id in its name, so switching a workspace from
scheme 1 (gokart 1.12's ids) to scheme 2 (Merkle ids, ``gokart.ids.id_scheme``) would make every cached
task look new. ``rekey`` constructs the DAG once under each scheme, pairs the two DAGs task by task
(the same walk of ``requires()``), and renames (or copies) each existing file from its old name to
its new one, on local disks and object stores alike through ``gokart.storage.filesystem``.

Each file moves on its own: a local rename is atomic, and an object store move is a copy followed
by a delete. So an interrupted rekey leaves every file either at its old name, at its new name, or
(object stores) at both with the same size, and running it again finishes the job; a file already
at its new name is left alone, which makes a second run a no-op.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from gokart.core import dag
from gokart.errors import GokartError
from gokart.ids import id_scheme
from gokart.records import run_records
from gokart.storage import filesystem as storage
from gokart.storage import signing
from gokart.task import TaskOnKart
from gokart.utils import flatten

RECORD_KINDS = run_records.RUN_RECORDS

MOVED, COPIED, IN_PLACE, NOT_BUILT, SAME_NAME, CONFLICT = 'moved', 'copied', 'in place', 'not built', 'same name', 'conflict'


@dataclass
class FileMove:
    """One file of a task: its name under the old scheme, under the new one, and what rekey did (or would do)."""

    source: str
    destination: str
    workspace: str
    state: str = ''


@dataclass
class TaskRekey:
    """One task of the DAG with its ids under both schemes and its files."""

    name: str
    old_id: str
    new_id: str
    files: list[FileMove] = field(default_factory=list)

    def count(self, state: str) -> int:
        return sum(1 for f in self.files if f.state == state)


@dataclass
class RekeyReport:
    tasks: list[TaskRekey]
    to_scheme: int
    dry_run: bool
    copy: bool

    def count(self, state: str) -> int:
        return sum(t.count(state) for t in self.tasks)

    def table(self) -> Iterator[str]:
        """Lines of the table ``gokart rekey`` prints: one row per task, then a summary."""
        verb = COPIED if self.copy else MOVED
        would = 'would be ' if self.dry_run else ''
        old, new = 3 - self.to_scheme, self.to_scheme
        yield f'{"task":<32} {f"scheme-{old} id":<32}    {f"scheme-{new} id":<32}  files'
        for task in self.tasks:
            parts = [f'{task.count(verb)} {would}{verb}']
            for state in (IN_PLACE, CONFLICT):
                if task.count(state):
                    parts.append(f'{task.count(state)} {state}')
            if not any(f.state in (verb, IN_PLACE, CONFLICT) for f in task.files):
                parts = ['not built' if task.old_id != task.new_id else 'same id']
            yield f'{task.name:<32} {task.old_id} -> {task.new_id}  {", ".join(parts)}'
        yield (
            f'{len(self.tasks)} tasks: {self.count(verb)} files {would}{verb}, {self.count(IN_PLACE)} already in place, '
            f'{self.count(CONFLICT)} conflicts (both names exist with different sizes; left alone)'
        )


def rekey(root: Any, to_scheme: int, dry_run: bool = False, copy: bool = False) -> RekeyReport:
    """Move (or copy) the files of ``root``'s DAG from their names under the other scheme to ``to_scheme``'s."""
    if to_scheme not in id_scheme.SCHEMES:
        raise GokartError(f'rekey --to {to_scheme}: the id schemes are 1 (gokart 1.12) and 2 (Merkle).')
    from_scheme = 3 - to_scheme
    old = _describe_dag(root, from_scheme)
    new = _describe_dag(root, to_scheme)
    tasks = []
    if len(old) != len(new) or any(a[0] != b[0] or len(a[3]) != len(b[3]) for a, b in zip(old, new, strict=True)):
        raise GokartError(
            f'rekey: the DAG of {type(root).__name__} is not the same under id schemes 1 and 2 (its requires() or output() '
            'depends on something besides the parameters); rekey needs the same tasks and files under both.'
        )
    for (task_name, old_id, workspace, old_paths), (_, new_id, _, new_paths) in zip(old, new, strict=True):
        files = [FileMove(source, destination, workspace) for source, destination in zip(old_paths, new_paths, strict=True)]
        tasks.append(TaskRekey(task_name, old_id, new_id, files))
    _carry_out([f for t in tasks for f in t.files], dry_run=dry_run, copy=copy)
    return RekeyReport(tasks, to_scheme, dry_run, copy)


def rebuild(task: Any) -> Any:
    """A fresh copy of ``task`` under the scheme now in force, with fresh copies of the tasks its parameters hold.

    Tasks returned by ``requires()`` are constructed by ``requires()`` itself. Iterative, so a chain
    of task-instance parameters of any depth is copied without recursion.
    """
    copies: dict[int, Any] = {}
    stack: list[Any] = [task]
    while stack:
        current = stack[-1]
        if id(current) in copies:
            stack.pop()
            continue
        held = [v for v in _held_tasks(current) if id(v) not in copies]
        if held:
            stack.extend(held)
            continue
        stack.pop()
        kwargs = {name: _copied(value, copies, TaskOnKart) for name, value in current.param_kwargs.items()}
        copies[id(current)] = type(current)(**kwargs)
    return copies[id(task)]


def _held_tasks(task: Any) -> list[Any]:
    found = []
    for value in task.param_kwargs.values():
        if isinstance(value, TaskOnKart):
            found.append(value)
        elif isinstance(value, tuple):
            found.extend(v for v in value if isinstance(v, TaskOnKart))
    return found


def _copied(value: Any, copies: dict[int, Any], kart: type) -> Any:
    if isinstance(value, kart):
        return copies[id(value)]
    if isinstance(value, tuple) and any(isinstance(v, kart) for v in value):
        return tuple(copies[id(v)] if isinstance(v, kart) else v for v in value)
    return value


def _describe_dag(root: Any, scheme: int) -> list[tuple[str, str, str, list[str]]]:
    """Each task of ``root``'s DAG under ``scheme``, in one fixed walk order: name, id, workspace and its file paths."""
    described: list[tuple[str, str, str, list[str]]] = []
    with id_scheme.use(scheme):
        for task in dag.walk([rebuild(root)]):
            if isinstance(task, TaskOnKart):
                described.append((type(task).__name__, task.make_unique_id(), task.workspace_directory, list(_paths_of(task))))
    return described


def _paths_of(task: Any) -> Iterable[str]:
    for target in flatten(task.output()):
        path = target.path() if callable(getattr(target, 'path', None)) else getattr(target, 'path', None)
        if isinstance(path, str):
            yield path
    if task.should_dump_supplementary_log_files:
        for kind, extension in RECORD_KINDS:
            yield run_records.path(kind, task, extension)


def _carry_out(moves: list[FileMove], dry_run: bool, copy: bool) -> None:
    key = signing.signing_key()
    present = storage.exists_many([p for m in moves for p in (m.source, m.destination) if m.source != m.destination])
    done: set[str] = set()  # sources already handled (a file two tasks share)
    for move in moves:
        if move.source == move.destination:
            move.state = SAME_NAME
            continue
        if move.source in done:
            move.state = IN_PLACE
            continue
        done.add(move.source)
        source, destination = present[move.source], present[move.destination]
        if not source:
            move.state = IN_PLACE if destination else NOT_BUILT
        elif not destination:
            move.state = COPIED if copy else MOVED
            if not dry_run:
                (storage.copy if copy else storage.move)(move.source, move.destination)
        elif copy:
            move.state = IN_PLACE
        elif storage.size(move.source) == storage.size(move.destination):
            # An object-store move cut short after its copy: finish it.
            move.state = IN_PLACE
            if not dry_run:
                storage.remove(move.source)
        else:
            move.state = CONFLICT
        if key is not None and not dry_run and move.state in (MOVED, COPIED, IN_PLACE):
            _sign_under_new_name(move, key)


def _sign_under_new_name(move: FileMove, key: bytes) -> None:
    """Re-sign a signed file under its new name, after checking its signature under the old one.

    A signature binds the file's path (with its id), so a renamed signed file would be refused on
    load. Files without a signature, or already signed under the new name, are left as they are.
    """
    if not move.destination.endswith((*signing.COVERED_EXTENSIONS, '.zip')):
        return
    with storage.open_read(move.destination) as f:
        raw = f.read()
    content, found = signing.split_trailer(io.BytesIO(raw))
    if found is None or found.version != 2:
        return
    if found.name.decode('utf-8', 'surrogateescape') == signing.signed_name(move.destination, move.workspace):
        return
    signing.verified(io.BytesIO(raw), move.source, workspace=move.workspace)  # refuses a file that is not what it claims
    with storage.atomic_write(move.destination) as stream, signing.signed(stream, move.destination, workspace=move.workspace) as signer:
        signer.write(content)
