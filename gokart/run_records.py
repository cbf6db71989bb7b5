"""The ``log/`` records of each run, written by luigi event handlers on TaskOnKart.

START writes the task parameters and module versions and fixes the random seed; PROCESSING_TIME
writes the seconds spent in ``run()``; SUCCESS writes ``task_log`` with the output paths. The seed
is set last, right before ``run()``, so that nothing drawn while writing the records shifts the
random stream the task sees (a gokart 1.12 defect this fixes).
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Iterable
from typing import Any

import luigi

from gokart.target import write_small_file
from gokart.utils import flatten

logger = logging.getLogger(__name__)

_module_versions_cache: tuple[int, str] | None = None


def register(task_class: Any) -> None:
    """Attach the record writers to ``task_class`` (once; luigi keeps handlers in a set)."""
    task_class.event_handler(luigi.Event.START)(on_start)
    task_class.event_handler(luigi.Event.PROCESSING_TIME)(on_processing_time)
    task_class.event_handler(luigi.Event.SUCCESS)(on_success)
    task_class.event_handler(luigi.Event.FAILURE)(on_failure)


def on_start(task: Any) -> None:
    if task.should_dump_supplementary_log_files:
        _write_record(task, 'task_params', task.to_str_params(only_significant=True))
        _write_record(task, 'module_versions', module_versions(), 'txt')
        if getattr(task, 'code_fingerprint_check', False):
            from gokart.code_fingerprint import dump_code_fingerprint_parts

            dump_code_fingerprint_parts(task)
    seed = random_seed_of(task)
    methods = resolve_seed_methods(task.fix_random_seed_methods)
    if task.should_dump_supplementary_log_files:
        _write_record(task, 'random_seed', {'seed': seed, 'seed_methods': methods})
    # Last, so that nothing done above (writing records) can move the streams the task draws from.
    for method_name in methods:
        _seed_methods[method_name](seed)


def on_processing_time(task: Any, processing_time: float) -> None:
    if task.should_dump_supplementary_log_files:
        _write_record(task, 'processing_time', processing_time)


def on_success(task: Any) -> None:
    task.task_log['file_path'] = [target.path() for target in flatten(task.output())]
    if task.should_dump_supplementary_log_files:
        _write_record(task, 'task_log', task.task_log)


def on_failure(task: Any, exception: BaseException) -> None:
    logger.info(f'FAILURE:\n    task name={type(task).__name__}\n    unique id={task.make_unique_id()}')


def _write_record(task: Any, kind: str, obj: Any, extension: str = 'pkl') -> None:
    # Five records per run make them a large share of a small task's cost: skip building targets
    # and write each file in one atomic call (task.dump's checks are for outputs anyway).
    write_small_file(task._log_path(kind, extension), obj, task.workspace_directory)


def random_seed_of(task: Any) -> int:
    """``fix_random_seed_value`` when set (0 included), else derived from the unique id."""
    if task.fix_random_seed_value != task.FIX_RANDOM_SEED_VALUE_NONE_MAGIC_NUMBER:
        return int(task.fix_random_seed_value)
    return int(task.make_unique_id(), 16) % (2**32 - 1)


_seed_methods: dict[str, Any] = {}


def resolve_seed_methods(methods: Iterable[str]) -> list[str]:
    """Import the dotted callables now (before forking workers, so each need not); return those that exist."""
    return [method_name for method_name in methods if _seed_method(method_name) is not None]


def _seed_method(method_name: str) -> Any:
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
