"""Delete workspace files that a DAG does not need, on a local or a remote (fsspec) workspace."""

from __future__ import annotations

import logging
import os
from typing import Any

from gokart.conflict_prevention_lock.file_lock import LOCK_DIRECTORY
from gokart.core import dag
from gokart.records import lineage, run_records
from gokart.storage import filesystem as storage
from gokart.utils import flatten

logger = logging.getLogger(__name__)


def delete_local_unnecessary_outputs(task: Any) -> None:
    """Delete every file under the task's workspace that is neither an output of its DAG nor under ``log/``.

    Paths are compared in a normal form, so with the default ``./resources/`` the needed files are kept
    (gokart 1.12 compared ``./resources/x`` with ``resources/x`` and deleted everything). Despite its
    historical name it works on remote workspaces too (``s3://``, ``gs://``, any fsspec URL).
    """
    unnecessary = unnecessary_outputs(task)
    if not unnecessary:
        logger.info('no unnecessary files in the workspace.')
        return
    logger.info('delete unnecessary files: ' + ', '.join(unnecessary))
    for path in unnecessary:
        storage.remove(path)


def delete_unnecessary_outputs(task: Any) -> None:
    """The same as ``delete_local_unnecessary_outputs``, under a name that says it is not only local."""
    delete_local_unnecessary_outputs(task)


def unnecessary_outputs(task: Any) -> list[str]:
    """The files ``delete_local_unnecessary_outputs`` would delete: workspace files outside the DAG's outputs and ``log/``.

    Temporary files of writes in progress, the run locks of other processes and the hidden ``.gokart/``
    directory (the lineage journals and the runs index, docs/runs.md) are never listed.
    """
    workspace = task.workspace_directory
    needed = {_normalized(path) for path in _output_paths_of_dag(task)}
    log_directory = _normalized(run_records.log_directory(workspace))
    return [
        path
        for path in storage.list_files(workspace)
        if _normalized(path) not in needed
        and not _normalized(path).startswith(log_directory + '/')
        and '.' in os.path.basename(path)
        and not path.endswith(storage.TEMPORARY_SUFFIX)
        and f'/{LOCK_DIRECTORY}/' not in path.replace(os.sep, '/')
        and f'/{lineage.HIDDEN_DIRECTORY}/' not in path.replace(os.sep, '/')
    ]


def _output_paths_of_dag(root: Any) -> list[str]:
    paths: list[str] = []
    for task in dag.walk([root], key=lambda t: t):  # equal tasks (luigi's ==) are one task
        paths.extend(target.path() for target in flatten(task.output()))
    return paths


def _normalized(path: str) -> str:
    if storage.is_local(path):
        return os.path.normpath(storage.local_path(path))
    # One spelling per object: the protocol plus the file system's own path (``memory://x`` lists as ``/x``).
    return f'{storage.protocol_of(path)}:{os.path.normpath(storage.filesystem(path)[1])}'
