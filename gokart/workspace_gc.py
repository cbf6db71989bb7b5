"""Find (and delete) workspace files that no task under the given roots can produce or read.

Every output and ``log/`` record of a task carries the task's unique id in its file name
(``{Name}_{uid}.ext``). A file whose name carries an id that no task of the roots' DAGs has is left
over from parameters or code that no longer exist. Files without an id in their name (outputs made
with ``use_unique_id=False``, user files) are never touched: nothing says who owns them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from gokart import dag, storage

_ID_IN_NAME = re.compile(r'_([0-9a-f]{32})(?=\.|$)')


@dataclass
class Garbage:
    path: str
    size: int


@dataclass
class Survey:
    """What a workspace holds for the roots: the garbage, and how many files belong to the roots' DAGs.

    ``kept == 0`` means no file of the DAGs exists there: the parameters or the directory are likely
    not the ones the workspace was built with, and then every file with an id would look like garbage.
    """

    garbage: list[Garbage]
    kept: int
    workspaces: list[str]


def find_garbage(roots: list[Any]) -> list[Garbage]:
    """Files under the roots' workspaces whose unique id belongs to no task of the roots' DAGs, with sizes, by path."""
    return survey(roots).garbage


def survey(roots: list[Any]) -> Survey:
    """The garbage of :func:`find_garbage` and the count of files that the roots' DAGs do reach."""
    reachable, workspaces = _reachable_ids(roots)
    found: list[Garbage] = []
    kept = 0
    for workspace in sorted(workspaces):
        if storage.is_local(workspace) and not os.path.isdir(storage.local_path(workspace)):
            continue
        for path in storage.list_files(workspace):
            match = _ID_IN_NAME.search(os.path.basename(path))
            if match is None:
                continue
            if match.group(1) in reachable:
                kept += 1
                continue
            try:
                size = storage.size(path)
            except OSError:
                continue
            found.append(Garbage(path=path, size=size))
    return Survey(garbage=sorted(found, key=lambda g: g.path), kept=kept, workspaces=sorted(workspaces))


def delete_garbage(garbage: list[Garbage]) -> None:
    """Remove the files ``find_garbage`` returned."""
    for item in garbage:
        storage.remove(item.path)


def _reachable_ids(roots: list[Any]) -> tuple[set[str], set[str]]:
    ids: set[str] = set()
    workspaces: set[str] = set()
    # A plain luigi task (no unique id) has no files here, and neither is it followed.
    for task in dag.walk(roots, key=lambda t: t.make_unique_id(), include=lambda t: hasattr(t, 'make_unique_id')):
        ids.add(task.make_unique_id())
        workspace = getattr(task, 'workspace_directory', None)
        if isinstance(workspace, str):
            workspaces.add(workspace)
    return ids, workspaces


__all__ = ['Garbage', 'Survey', 'delete_garbage', 'find_garbage', 'survey']
