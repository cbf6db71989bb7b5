"""The ``log/`` records of each run: the one place that knows where they live, and their writers.

Layout: ``{workspace}/log/{kind}/{TaskClass}_{unique_id}.{extension}``. Every other module asks
``path``, ``read``, ``write``, ``runs_of`` and ``params_of`` here instead of spelling a path, so a
lineage index or a remote metadata store can take over the records in this one module.

The records are written by luigi event handlers on TaskOnKart: START writes the task parameters and module versions and fixes the random seed; PROCESSING_TIME
writes the seconds spent in ``run()``; SUCCESS writes ``task_log`` with the output paths. The seed
is set last, right before ``run()``, so that nothing drawn while writing the records shifts the
random stream the task sees (a gokart 1.12 defect this fixes).
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import sys
import time
from collections.abc import Iterable
from typing import Any

import luigi

from gokart.core import run_state
from gokart.core.task_protocol import KartTask
from gokart.ids import id_scheme
from gokart.ids.code_fingerprint import code_fingerprint_parts
from gokart.records import lineage
from gokart.storage import filesystem as storage
from gokart.target import SingleFileTarget, insert_unique_id, make_target, write_small_file, write_small_files
from gokart.utils import flatten

logger = logging.getLogger(__name__)
_task_logger = logging.getLogger('gokart.task')  # gokart 1.12 logged a task's FAILURE from gokart.task

_SINGLE_FILE_TARGET_DUMP = SingleFileTarget.dump

_module_versions_cache: tuple[int, str] | None = None

LOG_DIRECTORY = 'log'
TASK_PARAMS, TASK_LOG, PROCESSING_TIME, RANDOM_SEED, MODULE_VERSIONS = (
    'task_params',
    'task_log',
    'processing_time',
    'random_seed',
    'module_versions',
)
CODE_FINGERPRINT, TASK_INFO = 'code_fingerprint', 'task_info'
# The records one run of a task leaves, with their extensions.
RUN_RECORDS = (
    (TASK_LOG, 'pkl'),
    (TASK_PARAMS, 'pkl'),
    (RANDOM_SEED, 'pkl'),
    (PROCESSING_TIME, 'pkl'),
    (MODULE_VERSIONS, 'txt'),
    (CODE_FINGERPRINT, 'pkl'),
)
# Every kind of record under log/, the task_info dumps of gokart.build included.
KINDS = (PROCESSING_TIME, TASK_INFO, TASK_LOG, MODULE_VERSIONS, RANDOM_SEED, TASK_PARAMS, CODE_FINGERPRINT)
_RECORD_NAME = re.compile(r'^(?P<name>.+)_(?P<uid>[0-9a-f]{32})\.pkl$')


# ----- where records live --------------------------------------------------------------------
def log_directory(workspace: str) -> str:
    """The directory of every record of ``workspace``."""
    return os.path.join(workspace, LOG_DIRECTORY)


def directory(workspace: str, kind: str) -> str:
    """The directory of the records of one kind."""
    return os.path.join(workspace, LOG_DIRECTORY, kind)


def relative_path(kind: str, class_name: str, extension: str = 'pkl') -> str:
    """A record's path inside the workspace before the unique id is inserted (as ``make_target`` takes it)."""
    return f'{LOG_DIRECTORY}/{kind}/{class_name}.{extension}'


def path_in(workspace: str, kind: str, class_name: str, unique_id: str | None, extension: str = 'pkl') -> str:
    """The record of ``kind`` of the run of ``class_name`` with ``unique_id`` (no id: the bare name) in ``workspace``."""
    return insert_unique_id(os.path.join(workspace, relative_path(kind, class_name, extension)), unique_id)


def path(kind: str, task: KartTask, extension: str = 'pkl', unique_id: str | None = None) -> str:
    """The record of ``kind`` of ``task``'s run (or of its class's run with ``unique_id``), without building a target."""
    return path_in(task.workspace_directory, kind, type(task).__name__, unique_id or task.make_unique_id(), extension)


def sibling(record: str, kind: str, extension: str = 'pkl') -> str:
    """The record of ``kind`` of the same run as the record at ``record``."""
    kind_directory, name = os.path.split(record)
    return os.path.join(os.path.dirname(kind_directory), kind, os.path.splitext(name)[0] + '.' + extension)


# ----- reading and writing -------------------------------------------------------------------
def target(kind: str, task: KartTask, extension: str = 'pkl') -> Any:
    """The record of ``kind`` of ``task`` as the task's own target (its file processor and storage options)."""
    return task.make_target(relative_path(kind, type(task).__name__, extension))


def write(kind: str, task: KartTask, obj: Any, extension: str = 'pkl') -> None:
    """Write one record of ``task``'s run in one atomic call."""
    # Five records per run make them a large share of a small task's cost: skip building targets
    # (task.dump's checks are for outputs anyway).
    if _dump_is_replaced():
        _dump_through_target(task, [(kind, obj, extension)])
        return
    write_small_file(path(kind, task, extension), obj, task.workspace_directory)


def write_together(task: KartTask, records: list[tuple[str, Any, str]]) -> None:
    """Write several records of ``task``'s run, (kind, object, extension) each; at once on S3/GCS."""
    if _dump_is_replaced():
        _dump_through_target(task, records)
        return
    write_small_files([(path(kind, task, extension), obj) for kind, obj, extension in records], task.workspace_directory)


def _dump_is_replaced() -> bool:
    """Whether a test replaced ``SingleFileTarget.dump`` (one identity comparison)."""
    return SingleFileTarget.dump is not _SINGLE_FILE_TARGET_DUMP


def _dump_through_target(task: KartTask, records: list[tuple[str, Any, str]]) -> None:
    """Write the records as gokart 1.12 did, one ``target.dump(obj, lock_at_dump=..., ...)`` each.

    Users' tests replace ``SingleFileTarget.dump`` to watch or divert every dump of a run, records
    included; while they do, the records take that path so the replacement sees 1.12's calls.
    """
    task_params = task.to_str_params(only_significant=True, only_public=True)
    for kind, obj, extension in records:
        target(kind, task, extension).dump(obj, lock_at_dump=True, task_params=task_params, custom_labels=None, required_task_outputs=None)


def read(kind: str, task: KartTask, default: Any, extension: str = 'pkl') -> Any:
    """The record of ``kind`` of ``task``'s run, or ``default`` when the run left none."""
    found = target(kind, task, extension)
    return found.load() if found.exists() else default


def runs_in(workspace: str) -> dict[str, list[tuple[str, str]]]:
    """Every recorded run of ``workspace`` (one listing of its ``task_params`` records): class name -> [(unique id, record)], sorted."""
    records = directory(workspace, TASK_PARAMS)
    try:
        files = storage.list_files(records)  # a missing local directory lists as empty; no HEAD first on S3/GCS
    except Exception:  # a missing bucket or an unreadable workspace: no recorded runs to explain with
        files = []
    runs: dict[str, list[tuple[str, str]]] = {}
    for record in sorted(files):
        match = _RECORD_NAME.match(os.path.basename(record))
        if match:
            runs.setdefault(match['name'], []).append((match['uid'], record))
    return runs


def scheme_census(workspace: str) -> id_scheme.WorkspaceCensus:
    """How many runs recorded in ``workspace`` carry ids of each scheme (one listing, as ``runs_in``)."""
    scheme2 = scheme1 = 0
    for runs in runs_in(workspace).values():
        for unique_id, _ in runs:
            if id_scheme.is_scheme2_id(unique_id):
                scheme2 += 1
            else:
                scheme1 += 1
    return id_scheme.WorkspaceCensus(workspace, scheme1, scheme2)


def runs_of(workspace: str, class_name: str) -> list[tuple[str, str]]:
    """The recorded runs of ``class_name`` in ``workspace``: (unique id, its ``task_params`` record), sorted."""
    return runs_in(workspace).get(class_name, [])


def params_of(workspace: str, class_name: str, unique_id: str) -> Any:
    """The parameters recorded by the run of ``class_name`` with ``unique_id`` in ``workspace``."""
    return make_target(path_in(workspace, TASK_PARAMS, class_name, unique_id)).load()


def code_fingerprint_record_path(task: KartTask, unique_id: str | None = None) -> str:
    """Where the code parts of ``task`` (or of the run with ``unique_id``) are recorded: ``{ws}/log/code_fingerprint/{Class}_{id}.pkl``."""
    return path(CODE_FINGERPRINT, task, unique_id=unique_id)


def dump_code_fingerprint_parts(task: KartTask) -> None:
    """Record the task's code parts next to its other ``log/`` records, for ``gokart why`` to compare later."""
    target(CODE_FINGERPRINT, task).dump(code_fingerprint_parts(type(task)), lock_at_dump=False)


def load_code_fingerprint_parts(task: KartTask, unique_id: str | None = None) -> dict[str, str] | None:
    """The parts recorded for the run of ``task``'s class with ``unique_id`` (default: the task's own id), or None."""
    record = code_fingerprint_record_path(task, unique_id)
    if not storage.exists(record):
        return None
    loaded = make_target(record).load()
    return dict(loaded) if isinstance(loaded, dict) else None


def register(task_class: Any) -> None:
    """Attach the record writers to ``task_class`` (once; luigi keeps handlers in a set)."""
    task_class.event_handler(luigi.Event.START)(on_start)
    task_class.event_handler(luigi.Event.PROCESSING_TIME)(on_processing_time)
    task_class.event_handler(luigi.Event.SUCCESS)(on_success)
    task_class.event_handler(luigi.Event.FAILURE)(on_failure)


def on_start(task: KartTask) -> None:
    run_state.of(task).started = time.time()  # for the lineage journal's record of this run
    seed = random_seed_of(task)
    methods = resolve_seed_methods(task.fix_random_seed_methods)
    if task.should_dump_supplementary_log_files:
        records = [
            (TASK_PARAMS, _recorded_params(task), 'pkl'),
            (MODULE_VERSIONS, module_versions(), 'txt'),
            (RANDOM_SEED, {'seed': seed, 'seed_methods': methods}, 'pkl'),
        ]
        write_together(task, records)
        if getattr(task, 'code_fingerprint_check', False):
            dump_code_fingerprint_parts(task)
    # Last, so that nothing done above (writing records) can move the streams the task draws from.
    for method_name in methods:
        _seed_methods[method_name](seed)


def _recorded_params(task: KartTask) -> Any:
    params = task.to_str_params(only_significant=True)
    run_state.of(task).params = params  # the journal's record of the run reuses them rather than serialize again
    return params


def on_processing_time(task: KartTask, processing_time: float) -> None:
    run_state.of(task).processing_time = processing_time
    if task.should_dump_supplementary_log_files:
        write(PROCESSING_TIME, task, processing_time)


def on_success(task: KartTask) -> None:
    task.task_log['file_path'] = [target.path() for target in flatten(task.output())]
    if task.should_dump_supplementary_log_files:
        write(TASK_LOG, task, task.task_log)
        lineage.record_run(task, lineage.SUCCESS)


def on_failure(task: KartTask, exception: BaseException) -> None:
    if _task_logger.isEnabledFor(logging.INFO):
        _task_logger.info(f'FAILURE:\n    task name={type(task).__name__}\n    unique id={task.make_unique_id()}')
    if task.should_dump_supplementary_log_files:
        lineage.record_run(task, lineage.FAILURE, exception)


def random_seed_of(task: KartTask) -> int:
    """``fix_random_seed_value`` when set (0 included), else derived from the unique id."""
    if task.fix_random_seed_value != task.FIX_RANDOM_SEED_VALUE_NONE_MAGIC_NUMBER:
        return int(task.fix_random_seed_value)
    return int(task.make_unique_id(), 16) % (2**32 - 1)


_seed_methods: dict[str, Any] = {}


def resolve_seed_methods(methods: Iterable[str]) -> list[str]:
    """Import the dotted callables now (before forking workers, so each need not); return those that exist."""
    return [method_name for method_name in methods if seed_method(method_name) is not None]


def seed_method(method_name: str) -> Any:
    """The seed function a dotted name resolves to (imported once per process), or None when it does not exist."""
    if method_name not in _seed_methods:
        try:
            module_name, *attributes = method_name.split('.')
            obj: Any = importlib.import_module(module_name)
            for attribute in attributes:
                obj = getattr(obj, attribute)
        except (ModuleNotFoundError, AttributeError):
            obj = None
        _seed_methods[method_name] = obj
    return _seed_methods[method_name]


def module_versions() -> str:
    """``name==version`` of every imported top-level module that has a ``__version__``, one per line."""
    global _module_versions_cache
    count = len(sys.modules)
    if _module_versions_cache is not None and _module_versions_cache[0] == count:
        return _module_versions_cache[1]
    lines = []
    for name, module in sorted(list(sys.modules.items())):
        if '.' in name or name.startswith('_') or module is None:
            continue
        version = getattr(module, '__version__', None)
        if isinstance(version, str):
            lines.append(f'{name}=={version}')
    text = '\n'.join(lines)
    _module_versions_cache = (count, text)
    return text
