"""``gokart.build``: run a task and its requirements in this process and return what it dumped."""

from __future__ import annotations

import enum
import functools
import logging
import sys
from dataclasses import dataclass
from logging import getLogger
from typing import Any, Literal, NoReturn, Protocol, TypeVar, overload

import backoff
import luigi
import luigi.interface
from luigi import rpc, scheduler
from luigi.execution_summary import LuigiRunResult, LuigiStatusCode

from gokart import worker
from gokart.contracts.preflight import check_before_run
from gokart.core import settings
from gokart.core.error_messages import build_failure_message, describe_task, not_a_task_message
from gokart.errors import GokartBuildError, HasLockedTaskException, NotATaskError, TaskLockException
from gokart.execution import executors
from gokart.execution.termination import BuildTerminated, terminate_on_sigterm
from gokart.ids import code_fingerprint
from gokart.records import lineage, run_records
from gokart.storage import filesystem as storage
from gokart.target import TargetOnKart
from gokart.task import TaskOnKart
from gokart.utils import flatten
from gokart.worker import Interruption, interruption_of

T = TypeVar('T')

logger: logging.Logger = getLogger(__name__)

# Options of our executor; any other keyword goes to luigi.build and selects the luigi path.
_EXECUTOR_OPTIONS = frozenset({'workers', 'parallel', 'executor', 'progress', 'report', 'dask_client', 'dask_address'})
# The options only we know; luigi.build is never given them (``workers`` is luigi's too).
_OUR_OPTIONS = _EXECUTOR_OPTIONS - {'workers'}

# luigi's own build function, to tell when a test has replaced ``luigi.build`` (mock.patch('luigi.build')).
# Taken from luigi.interface, where a patch of the name ``luigi.build`` does not reach, so importing
# gokart inside such a patch still captures the real one.
_LUIGI_BUILD = luigi.interface.build


class LoggerConfig:
    """Silence logging below ``level`` for the duration of a build, then restore what was there."""

    def __init__(self, level: int) -> None:
        self.logger = getLogger(__name__)
        self.default_level = self.logger.level
        self.level = level
        self._previous_disable = logging.root.manager.disable

    def __enter__(self) -> LoggerConfig:
        logging.disable(self.level - 10)
        self.logger.setLevel(self.level)
        return self

    def __exit__(self, *exc: Any) -> None:
        logging.disable(self._previous_disable)
        self.logger.setLevel(self.default_level)


class TaskDumpMode(enum.Enum):
    TREE = 'tree'
    TABLE = 'table'
    NONE = 'none'


class TaskDumpOutputType(enum.Enum):
    PRINT = 'print'
    DUMP = 'dump'
    NONE = 'none'


@dataclass
class TaskDumpConfig:
    mode: TaskDumpMode = TaskDumpMode.NONE
    output_type: TaskDumpOutputType = TaskDumpOutputType.NONE


class TaskLockExceptionRaisedFlag:
    """Set by a luigi-path build when a task failed on a Redis task lock held by another run.

    The build then raises ``HasLockedTaskException`` instead of a build error, so callers can retry.
    """

    def __init__(self) -> None:
        self.flag: bool = False


class WorkerProtocol(Protocol):
    """What a build needs of a luigi worker: schedule a task DAG (``add``) and run it (``run``), each reporting success."""

    def add(self, task: TaskOnKart[Any]) -> bool: ...

    def run(self) -> bool: ...


class WorkerSchedulerFactory:
    """What luigi.build / luigi's command line use to make schedulers and workers on the luigi path."""

    def create_local_scheduler(self) -> scheduler.Scheduler:
        return scheduler.Scheduler(prune_on_get_work=True, record_task_history=False)

    def create_remote_scheduler(self, url: str) -> rpc.RemoteScheduler:
        return rpc.RemoteScheduler(url)

    def create_worker(self, scheduler: scheduler.Scheduler, worker_processes: int, assistant: bool = False) -> WorkerProtocol:
        return worker.Worker(scheduler=scheduler, worker_processes=worker_processes, assistant=assistant)


@overload
def build(
    task: TaskOnKart[T],
    return_value: Literal[True] = True,
    reset_register: bool = True,
    log_level: int = logging.ERROR,
    task_lock_exception_max_tries: int = 10,
    task_lock_exception_max_wait_seconds: int = 600,
    task_dump_config: TaskDumpConfig = TaskDumpConfig(),
    **env_params: Any,
) -> T: ...


@overload
def build(
    task: TaskOnKart[T],
    return_value: Literal[False],
    reset_register: bool = True,
    log_level: int = logging.ERROR,
    task_lock_exception_max_tries: int = 10,
    task_lock_exception_max_wait_seconds: int = 600,
    task_dump_config: TaskDumpConfig = TaskDumpConfig(),
    **env_params: Any,
) -> None: ...


def build(
    task: TaskOnKart[Any],
    return_value: bool = True,
    reset_register: bool = True,
    log_level: int = logging.ERROR,
    task_lock_exception_max_tries: int = 10,
    task_lock_exception_max_wait_seconds: int = 600,
    task_dump_config: TaskDumpConfig = TaskDumpConfig(),
    **env_params: Any,
) -> Any:
    """Run ``task`` and whatever it needs, then return its loaded output (``None`` with ``return_value=False``).

    ``workers=N`` runs independent tasks at once: forked processes by default (CPU-bound work),
    threads with ``parallel='thread'`` (I/O-bound work). Any other luigi option runs the build through
    luigi's own scheduler and worker instead, as does ``executor='luigi'`` or the environment variable
    ``GOKART_EXECUTOR=luigi``; ``local_scheduler=False, scheduler_host=..., scheduler_port=...`` uses luigid.
    ``executor='dask'`` with ``dask_client=Client(...)`` or ``dask_address='tcp://host:8786'`` (or
    ``GOKART_EXECUTOR=dask`` and ``GOKART_DASK_ADDRESS``) runs it on Dask distributed (docs/distributed.md);
    ``executor=NAME`` runs it on an executor registered with ``gokart.execution.executors.register_executor``.
    Any failure raises ``GokartBuildError`` with every task's exception in ``raised_exceptions``.
    """
    if not isinstance(task, luigi.Task):  # luigi's TaskException, which gokart 1.12's scheduling raised
        raise NotATaskError(not_a_task_message('gokart.build', task))
    if reset_register:
        _deduplicate_task_register()
    code_fingerprint.refresh()  # code redefined since ids were cached (a notebook cell, a reload) gives new ids
    with LoggerConfig(level=log_level):
        process_task_info(task, task_dump_config)

        # Each wait grows exponentially with full jitter, capped at task_lock_exception_max_wait_seconds.
        @backoff.on_exception(
            functools.partial(backoff.expo, max_value=task_lock_exception_max_wait_seconds),
            HasLockedTaskException,
            max_tries=task_lock_exception_max_tries,
            jitter=backoff.full_jitter,
        )
        def _build_once() -> None:
            _run(task, env_params)

        with terminate_on_sigterm():  # SIGTERM stops the build and its workers, then exits 143
            try:
                _build_once()
            except BuildTerminated:
                raise
            except KeyboardInterrupt as e:
                _report_interrupted_build(task, e)
    if not return_value:
        return None
    return _load_output(task)


def _report_interrupted_build(root: TaskOnKart[Any], error: KeyboardInterrupt) -> NoReturn:
    """Ctrl-C on a terminal: the summary ``gokart.run`` prints (the interrupted tasks, what is done, how to resume), then
    a plain ``KeyboardInterrupt`` raised from here, not the executor's frames. Elsewhere (a notebook, a pipe) the
    interrupt goes on as it came: code that catches it sees what it saw before.
    """
    if not sys.stderr.isatty():
        raise error
    try:
        interruption = interruption_of(error) or _interruption_seen(root, error)
    except Exception:  # the summary is a courtesy: never lose the interrupt over it
        raise error from None
    lines = interruption.lines()
    sys.stderr.write(''.join(f'{line}\n' for line in lines[:-1]))
    sys.stderr.flush()
    raise KeyboardInterrupt(lines[-1]) from None


def _interruption_seen(root: TaskOnKart[Any], error: KeyboardInterrupt) -> Interruption:
    """What the Ctrl-C stopped, from the traceback (the tasks whose ``run`` it went through) and the outputs that exist now."""
    from gokart.core import dag

    running = []
    trace = error.__traceback__
    while trace is not None:
        owner = trace.tb_frame.f_locals.get('self')
        if trace.tb_frame.f_code.co_name == 'run' and isinstance(owner, luigi.Task) and owner not in running:
            running.append(owner)
        trace = trace.tb_next
    tasks = list(dag.walk([root], key=lambda t: t.task_id))
    done = sum(1 for t in tasks if _outputs_exist(t))
    return Interruption(interrupted=[describe_task(t) for t in running], done=done, not_run=len(tasks) - done)


def _outputs_exist(task: Any) -> bool:
    try:
        outputs = flatten(task.output())
        return bool(outputs) and all(t.exists() for t in outputs)
    except Exception:
        return False


def _run(task: TaskOnKart[Any], env_params: dict[str, Any]) -> None:
    # A Dask client or address alone asks for Dask too, rather than being ignored by the local executor.
    implied = 'dask' if env_params.keys() & {'dask_client', 'dask_address'} else None
    name = env_params.get('executor') or implied or settings.value('executor')
    report_path = env_params.get('report')
    # A replaced luigi.build is a test simulating the scheduler's outcome: it is called as gokart 1.12 calls it.
    if set(env_params) - _EXECUTOR_OPTIONS or luigi.build is not _LUIGI_BUILD:
        executor = executors.executor_named('luigi')
    else:
        executor = executors.executor_named(str(name))
    if executors.delegates_to_luigi(executor):
        try:
            _run_with_luigi(task, {k: v for k, v in env_params.items() if k not in _OUR_OPTIONS})
        finally:
            if report_path:
                _write_report(task, str(report_path), None)
        return
    from gokart.execution.progress import progress_listener
    from gokart.notebook.progress import for_this_process

    _set_up_luigi_logging()
    with progress_listener(env_params.get('progress'), cell_display=for_this_process()) as listener:
        outcome = executor.execute([task], listener, env_params)
    if report_path:
        _write_report(task, str(report_path), outcome)
    exceptions = outcome.exceptions_by_task()
    if any(isinstance(e, TaskLockException) for e in exceptions.values()):
        raise HasLockedTaskException()
    # Tasks left pending behind missing external data are not an error (as in gokart): loading the
    # root output then reports what is missing.
    if exceptions or (outcome.not_run and not outcome.missing_external):
        message = build_failure_message(outcome.summary(), {describe_task(t): e for t, e in exceptions.items()})
        raise GokartBuildError(message, _by_unique_id(exceptions))


def _set_up_luigi_logging() -> None:
    """luigi's logging set-up, as ``luigi.build`` makes it for gokart 1.12's builds: once per process.

    The first build gives luigi's ``luigi-interface`` logger the build's level and a stderr handler;
    each build logs how luigi's logging is configured. Our executor's worker records go through those
    loggers (``execution.worker_records``), so they reach the same handlers as 1.12's did.
    """
    set_up = luigi.interface.InterfaceLogging
    if set_up._configured:  # nothing to read: luigi only says so (at INFO, disabled below ERROR by default)
        if logging.root.manager.disable < logging.INFO:
            set_up.setup()
        return
    set_up.setup(luigi.interface.core(log_level=logging.getLevelName(logger.getEffectiveLevel())))


def _run_with_luigi(task: TaskOnKart[Any], env_params: dict[str, Any]) -> None:
    collected: dict[Any, list[BaseException]] = {}
    lock_raised = TaskLockExceptionRaisedFlag()

    @TaskOnKart.event_handler(luigi.Event.FAILURE)
    def _collect(failed_task: Any, exception: BaseException) -> None:
        if isinstance(exception, TaskLockException):
            lock_raised.flag = True
        else:
            collected.setdefault(failed_task, []).append(exception)

    check_before_run([task])  # declared frame contracts, before luigi runs anything (nothing when none is declared)
    try:
        # The arguments, and their order, of gokart 1.12's call: tests that replace luigi.build check them.
        arguments: dict[str, Any] = {
            'worker_scheduler_factory': WorkerSchedulerFactory(),
            'local_scheduler': True,
            'detailed_summary': True,
            'log_level': logging.getLevelName(logger.getEffectiveLevel()),
        }
        result = luigi.build([task], **{**arguments, **env_params})
    finally:
        TaskOnKart.remove_event_handler(luigi.Event.FAILURE, _collect)
        lineage.flush()
    if lock_raised.flag:
        raise HasLockedTaskException()
    if result.status in (
        luigi.LuigiStatusCode.FAILED,
        luigi.LuigiStatusCode.FAILED_AND_SCHEDULING_FAILED,
        luigi.LuigiStatusCode.SCHEDULING_FAILED,
    ):
        raise GokartBuildError(
            result.summary_text, {t.make_unique_id(): [e for e in es if isinstance(e, Exception)] for t, es in collected.items()}
        )


def _write_report(task: TaskOnKart[Any], path: str, outcome: Any) -> None:
    from gokart.commands.report import write_report

    write_report(task, path, outcome=outcome)


def _by_unique_id(exceptions: dict[Any, BaseException]) -> dict[str, list[Exception]]:
    found: dict[str, list[Exception]] = {}
    for task, exception in exceptions.items():
        key = str(task.task_id)
        if isinstance(task, TaskOnKart):
            try:
                key = task.make_unique_id()
            except Exception:  # a task in a cycle or with a failing requires() has no unique id
                pass
        if isinstance(exception, Exception):
            found.setdefault(key, []).append(exception)
    return found


def _load_output(task: TaskOnKart[Any]) -> Any:
    output = task.output()
    if isinstance(output, luigi.target.Target):
        return task._load_one(output)
    if isinstance(output, (list, tuple)):
        return [task._load_one(t) for t in output if isinstance(t, luigi.target.Target)]
    if isinstance(output, dict):
        return {k: task._load_one(t) for k, t in output.items() if isinstance(t, luigi.target.Target)}
    raise ValueError(f'output type is not supported: {type(output)}')


def process_task_info(task: TaskOnKart[Any], task_dump_config: TaskDumpConfig = TaskDumpConfig()) -> None:
    """Print or dump the task tree or table before a build, as ``task_dump_config`` asks."""
    mode, output_type = task_dump_config.mode, task_dump_config.output_type
    if mode == TaskDumpMode.NONE and output_type == TaskDumpOutputType.NONE:
        return
    from gokart.tree.task_info import dump_task_info_table, make_task_info_as_table, make_task_info_as_tree_str

    workspace, name = task.workspace_directory, type(task).__name__
    if mode == TaskDumpMode.TREE and output_type == TaskDumpOutputType.PRINT:
        _log_through_stderr(make_task_info_as_tree_str(task))
    elif mode == TaskDumpMode.TABLE and output_type == TaskDumpOutputType.PRINT:
        _log_through_stderr(make_task_info_as_table(task).to_csv(index=False, sep='\t'))
    elif mode == TaskDumpMode.TREE and output_type == TaskDumpOutputType.DUMP:
        # gokart 1.12 named this file with a bare TaskOnKart's id; the root task's own id is used here.
        _write_text(
            run_records.path_in(workspace, run_records.TASK_INFO, name, task.make_unique_id(), 'txt'), make_task_info_as_tree_str(task)
        )
    elif mode == TaskDumpMode.TABLE and output_type == TaskDumpOutputType.DUMP:
        dump_task_info_table(task, run_records.path_in(workspace, run_records.TASK_INFO, name, None))
    else:
        raise ValueError(f'Unsupported TaskDumpConfig: {task_dump_config}')


def _write_text(path: str, text: str) -> None:
    with storage.atomic_write(path) as f:
        f.write(text.encode())


def _log_through_stderr(message: str) -> None:
    handler = logging.StreamHandler()
    logger.addHandler(handler)
    try:
        level = logger.level
        logger.setLevel(logging.INFO)
        with _logging_enabled():
            logger.info(message)
        logger.setLevel(level)
    finally:
        logger.removeHandler(handler)


class _logging_enabled:
    def __enter__(self) -> None:
        self._previous = logging.root.manager.disable
        logging.disable(logging.NOTSET)

    def __exit__(self, *exc: Any) -> None:
        logging.disable(self._previous)


def _deduplicate_task_register() -> None:
    """Keep one class per task family: the latest definition and the classes it derives from.

    Notebooks redefine task classes; two unrelated classes with one family would make luigi's
    lookups ambiguous. gokart 1.12 emptied the register of user classes, which broke
    ``restore``, command-line lookup and dynamic requirements after a build; this keeps them working.
    """
    from luigi.task_register import Register

    kept: list[Any] = []
    latest: dict[str, Any] = {}
    for task_class in reversed(Register._reg):
        family = task_class.get_task_family()
        newest = latest.get(family)
        if newest is None:
            latest[family] = task_class
            kept.append(task_class)
        elif issubclass(newest, task_class):
            kept.append(task_class)
    Register._reg = list(reversed(kept))


__all__ = [
    'build',
    'GokartBuildError',
    'HasLockedTaskException',
    'WorkerSchedulerFactory',
    'TaskDumpConfig',
    'TaskDumpMode',
    'TaskDumpOutputType',
    'process_task_info',
    'LoggerConfig',
    'LuigiRunResult',
    'LuigiStatusCode',
    'TargetOnKart',
    'TaskLockException',
    'TaskLockExceptionRaisedFlag',
    'TaskOnKart',
    'WorkerProtocol',
    'worker',
]
