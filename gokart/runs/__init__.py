"""Runs and lineage: which parameters gave which results, and what made or used a file (see docs/runs.md).

Layer records (docs/design.md): may import records (its layer), contracts, storage, ids and core; imported by the entry points and commands.

``gokart.runs(Train)`` is :func:`runs`; this module also offers ``sync``, ``load_run``, ``lineage``
and ``diff``. The package stays callable as ``gokart.runs(...)`` (see ``_CallableModule``).
"""

from __future__ import annotations

import sys
import types
from typing import Any

from gokart.runs.diff import RunDiff, diff
from gokart.runs.index import IndexUnavailableError, WorkspaceNotFoundError
from gokart.runs.query import RunNotFoundError, default_workspace, lineage, load_run, runs, sync
from gokart.runs.where import WhereError

__all__ = [
    'IndexUnavailableError',
    'RunDiff',
    'RunNotFoundError',
    'WhereError',
    'WorkspaceNotFoundError',
    'default_workspace',
    'diff',
    'lineage',
    'load_run',
    'runs',
    'sync',
]


class _CallableModule(types.ModuleType):
    """``gokart.runs`` is both this package and the function ``runs``: ``gokart.runs(Train)`` works as documented."""

    def __call__(self, task: Any, workspace: str | None = None, where: str | None = None, sync: bool = True) -> Any:
        return runs(task, workspace=workspace, where=where, sync=sync)


sys.modules[__name__].__class__ = _CallableModule
