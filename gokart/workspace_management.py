"""Delete workspace files that a DAG does not need."""

from __future__ import annotations

import logging
import os
from typing import Any

from gokart import storage
from gokart.utils import flatten

logger = logging.getLogger(__name__)


def delete_local_unnecessary_outputs(task: Any) -> None:
    """Delete every file under the task's workspace that is neither an output of its DAG nor under ``log/``.

    Paths are normalized before comparing, so with the default ``./resources/`` the needed files are kept
    (gokart 1.12 compared ``./resources/x`` with ``resources/x`` and deleted everything).
    """
    workspace = task.workspace_directory
    needed = {_normalized(path) for path in _output_paths_of_dag(task)}
    log_directory = _normalized(os.path.join(workspace, 'log'))
    unnecessary = [
        path
        for path in storage.list_files(workspace)
        if _normalized(path) not in needed
        and not _normalized(path).startswith(log_directory + '/')
        and '.' in os.path.basename(path)
        and not path.endswith('.gokart-tmp')
    ]
    if not unnecessary:
        logger.info('no unnecessary files in the workspace.')
        return
    logger.info('delete unnecessary files: ' + ', '.join(unnecessary))
    for path in unnecessary:
        storage.remove(path)


def _output_paths_of_dag(root: Any) -> list[str]:
    paths: list[str] = []
    seen: set[Any] = set()
    stack = [root]
    while stack:
        task = stack.pop()
        if task in seen:
            continue
        seen.add(task)
        paths.extend(target.path() for target in flatten(task.output()))
        stack.extend(flatten(task.requires()))
    return paths


def _normalized(path: str) -> str:
    return os.path.normpath(path) if storage.is_local(path) else path
