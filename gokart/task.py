"""TaskOnKart: the base class of every gokart task.

A task is a pure description (class + parameter values). From it we derive its unique id
(``gokart.ids.identity``), where its outputs live (``gokart.target``) and whether it is done
(``complete``). This module holds the built-in parameters and the user-facing methods; the
work is delegated to the modules named above and to the run records in ``gokart.records.run_records``.
"""

from __future__ import annotations

import functools
import logging
import os
import random
import types
import warnings
from collections.abc import Callable, Generator, Iterable
from typing import Any, Generic, TypeVar, overload

import luigi
from luigi.parameter import ParameterVisibility
from luigi.task import getpaths

import gokart.target
from gokart import errors
from gokart.conflict_prevention_lock.run_once import wrap_run_once
from gokart.conflict_prevention_lock.task_lock import make_task_lock_params, make_task_lock_params_for_run
from gokart.conflict_prevention_lock.task_lock_wrappers import wrap_run_with_lock
from gokart.contracts.dump_check import check_dump
from gokart.contracts.load_check import check_loaded
from gokart.core import dag, error_messages, run_state, stop_requests, strict_mode, task_protocol
from gokart.errors import CorruptOutputError, EmptyDumpError, NotARequirementError, OutputNotFoundError, UnsupportedFormatError
from gokart.file_processor import FileProcessor as FileProcessor  # re-exported, as in gokart 1.12
from gokart.file_processor import make_file_processor
from gokart.ids import code_fingerprint, construction, identity
from gokart.ids.task_class import TaskRegister
from gokart.pandas_type_config import PandasTypeConfigMap as PandasTypeConfigMap  # re-exported, as in gokart 1.12
from gokart.pandas_type_config import check_pandas_types
from gokart.parameter import ExplicitBoolParameter, ListTaskInstanceParameter, TaskInstanceParameter
from gokart.records import lineage, main_module, run_records
from gokart.records.modification_time import newest_input_time
from gokart.required_task_output import RequiredTaskOutput
from gokart.run_locks.ownership import check_run_lock_held, checked_by_executor
from gokart.runs import cutoff
from gokart.storage.backends import backend_of as storage_backend_of
from gokart.storage.filesystem import protocol_of
from gokart.storage.output_path import check_output_path, warn_if_outside_workspace
from gokart.target import TargetOnKart
from gokart.task_complete_check import task_complete_check_wrapper as task_complete_check_wrapper  # re-exported, as in gokart 1.12
from gokart.utils import flatten, get_dataframe_type_from_task, map_flattenable_items

logger = logging.getLogger(__name__)

T = TypeVar('T')
K = TypeVar('K')

_NOT_COPIED_BY_CLONE = ('rerun', 'strict_check', 'modification_time_check')


class TaskOnKart(luigi.Task, Generic[T], metaclass=TaskRegister):
    """Base class of gokart tasks; ``T`` is the type the task dumps.

    Subclass it, declare luigi parameters and write ``run()``: ``self.load()`` reads what the
    requirements dumped and ``self.dump(obj)`` writes this task's output under a file name that
    carries the task's unique id.
    """

    workspace_directory = luigi.Parameter(default='./resources/', description='Root of all outputs and logs.', significant=False)
    local_temporary_directory = luigi.Parameter(
        default='./resources/tmp/', description='Scratch directory for model targets.', significant=False
    )
    rerun = luigi.BoolParameter(default=False, description='Delete the outputs and run again.', significant=False)
    strict_check = luigi.BoolParameter(default=False, description='Also require every input to exist.', significant=False)
    modification_time_check = luigi.BoolParameter(
        default=False, description='Also require every input to be older than every output.', significant=False
    )
    serialized_task_definition_check = luigi.BoolParameter(
        default=False, description='Add the source code of the task class to its unique id.', significant=False
    )
    delete_unnecessary_output_files = luigi.BoolParameter(
        default=False, description='With gokart.run: delete outputs the DAG does not need, then exit.', significant=False
    )
    significant = luigi.BoolParameter(
        default=True, description="When False, this task's id does not enter the ids of tasks that depend on it.", significant=False
    )
    fix_random_seed_methods = luigi.ListParameter(
        default=('random.seed', 'numpy.random.seed'), description='Callables seeded before run().', significant=False
    )
    FIX_RANDOM_SEED_VALUE_NONE_MAGIC_NUMBER = -42497368
    fix_random_seed_value = luigi.IntParameter(
        default=FIX_RANDOM_SEED_VALUE_NONE_MAGIC_NUMBER, description='Explicit random seed.', significant=False
    )
    redis_host = luigi.OptionalParameter(default=None, description='Redis host for locks.', significant=False)
    redis_port = luigi.OptionalIntParameter(default=None, description='Redis port for locks.', significant=False)
    redis_timeout = luigi.IntParameter(default=180, description='Redis lock TTL in seconds.', significant=False)
    fail_on_empty_dump = ExplicitBoolParameter(default=False, description='Fail when an empty DataFrame is dumped.', significant=False)
    store_index_in_feather = ExplicitBoolParameter(
        default=True, description='Keep the DataFrame index in feather files.', significant=False
    )
    cache_unique_id = ExplicitBoolParameter(default=True, description='Compute the unique id once.', significant=False)
    should_dump_supplementary_log_files = ExplicitBoolParameter(
        default=True, description='Write the log/ records of each run.', significant=False
    )
    complete_check_at_run = ExplicitBoolParameter(default=True, description='Skip run() when the outputs already exist.', significant=False)
    should_lock_run = ExplicitBoolParameter(default=False, description='Hold a Redis lock for the whole run().', significant=False)
    # Ours, not gokart 1.12's: declared last and not positional, so 1.12's positional calls
    # (every built-in parameter by position, then the task's own) keep meaning what they meant.
    code_fingerprint_check = ExplicitBoolParameter(
        default=False,
        description='Add a fingerprint of the code the task runs (its methods and the first-party helpers they call) to its unique id.',
        significant=False,
        positional=False,
    )
    redis_run_once = True  # no annotation: with one, type checkers (dataclass_transform) would take it for a constructor argument
    """With redis_host and redis_port set, run() waits for the task's Redis run lock, so processes on all machines run it once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._add_configuration(kwargs, 'TaskOnKart')
        self.task_log: dict[str, Any] = {}
        self.task_unique_id: str | None = None
        construction.set_parameters(self, args, kwargs)
        self._rerun_state = bool(self.rerun)
        self._lock_at_dump = True
        if self.complete_check_at_run:
            self.run = _skip_when_complete(self, self.run)  # type: ignore[method-assign]
        if self.should_lock_run:
            if self.redis_host is None or self.redis_port is None:
                missing = [name for name in ('redis_host', 'redis_port') if getattr(self, name) is None]
                raise errors.LockConfigurationError(
                    f'{error_messages.describe_task(self)}: should_lock_run=True needs redis_host and redis_port, '
                    f'but {" and ".join(missing)} {"is" if len(missing) == 1 else "are"} not set. '
                    'Set both (as parameters or in the [TaskOnKart] config section), or leave should_lock_run False.'
                )
            self._lock_at_dump = False
            self.run = wrap_run_with_lock(self.run, self._named_lock_errors(make_task_lock_params_for_run, self))  # type: ignore[method-assign]
        elif self.redis_run_once and self.redis_host is not None and self.redis_port is not None:
            self.run = wrap_run_once(self, self.run)  # type: ignore[method-assign]

    def _gokart_after_init(self) -> None:
        # Called by the metaclass once the whole __init__ (a subclass's too) has run.
        construction.after_init(self)

    def trigger_event(self, event: Any, *args: Any, **kwargs: Any) -> None:
        """luigi's dispatch to the event handlers; then a SIGTERM or Ctrl-C that landed in one is raised again.

        luigi returns quietly when a handler raises ``KeyboardInterrupt``, which dropped a termination
        request arriving during a slow SUCCESS handler (a notification) or a record write
        (``core.stop_requests``).
        """
        super().trigger_event(event, *args, **kwargs)
        stop_requests.raise_if_requested()

    # ----- identity -------------------------------------------------------------------------
    @classmethod
    def get_params(cls) -> list[tuple[str, luigi.Parameter]]:
        # luigi scans dir(cls) on every construction; the parameters of a class do not change.
        cached = cls.__dict__.get('_gokart_params')
        if cached is None:
            cached = super().get_params()
            type.__setattr__(cls, '_gokart_params', cached)
        return cached  # type: ignore[no-any-return]

    @classmethod
    def get_param_values(cls, params: Any, args: Any, kwargs: Any) -> list[tuple[str, Any]]:
        try:
            values = cls._resolve_param_values(params, *identity.with_stable_sets(args, kwargs))
            construction.remember_resolution(cls, args, kwargs, values)
            return values
        except (luigi.parameter.MissingParameterException, ValueError, TypeError) as e:
            clearer = error_messages.parameter_error(cls, params, kwargs, e)
            if clearer is e:
                raise
            raise clearer from e
        except luigi.parameter.UnknownParameterException as e:
            unknown = [name for name in kwargs if name not in dict(params)]
            if not unknown or isinstance(e, errors.UnknownParameterError):
                raise
            raise error_messages.unknown_parameter_error(cls, params, unknown[0]) from e

    @staticmethod
    def try_set_seed(methods: list[str], random_seed: int) -> list[str]:
        """Seed with ``random_seed`` each dotted function of ``methods`` that exists (``'numpy.random.seed'``); return those.

        gokart 1.12's helper; runs call it for ``fix_random_seed_methods`` before ``run()`` (see
        ``gokart.run_records``). A module or attribute that does not exist is skipped.
        """
        found = run_records.resolve_seed_methods(methods)
        for method_name in found:
            run_records.seed_method(method_name)(random_seed)
        return found

    def _get_random_seed(self) -> int:
        """The seed of this task's run: ``fix_random_seed_value``, else derived from the unique id (gokart 1.12's helper)."""
        return run_records.random_seed_of(self)

    @classmethod
    def _add_configuration(cls, kwargs: dict[str, Any], section: str) -> None:
        """gokart 1.12's helper: fill ``kwargs`` with the options of config ``section`` that name parameters.

        Options naming a parameter of ``TaskOnKart`` or of this class itself, not already in ``kwargs``,
        are added, parsed by that parameter (``'7'`` for an ``IntParameter`` becomes ``7``); other
        options, and a missing section, change nothing. Construction calls it for ``[TaskOnKart]``.
        """
        construction.add_configuration(cls, kwargs, section)

    @classmethod
    def _resolve_param_values(cls, params: Any, args: Any, kwargs: Any) -> list[tuple[str, Any]]:
        if not args:  # with positional arguments luigi resolves them (and describes them) itself
            construction.describe_arguments(kwargs)
        values = construction.values_from_defaults(cls, params, args, kwargs)
        if values is None:
            return super().get_param_values(params, args, kwargs)  # type: ignore[no-any-return]
        return values

    def to_str_params(self, only_significant: bool = False, only_public: bool = False) -> dict[str, str]:
        # Cached per instance: serializing task-instance parameters walks upstream tasks, and a deep
        # DAG would otherwise serialize each upstream task once per downstream task.
        cache = self.__dict__.setdefault('_gokart_str_params', {})
        key = (only_significant, only_public)
        found = cache.get(key)
        if found is None:
            setup = construction.class_setup(type(self))
            if only_significant and setup.significant_all_public():
                # luigi's task_id asks for the public ones, the unique id for all: the same dict here.
                found = cache.get((True, not only_public))
            if found is None:
                values = self.param_kwargs
                found = {name: param.serialize(values[name]) for name, param in setup.shown_params(only_significant, only_public)}
            cache[key] = found
        return found  # type: ignore[no-any-return]

    def make_unique_id(self) -> str:
        """The md5 id of this task (see SPEC section 4); inserted into every output file name."""
        # Asked about ten times per task in a build: read the instance dict, where luigi's parameter
        # descriptor would read cache_unique_id too (a subclass's plain attribute is looked up as one).
        values = self.__dict__
        known = values.get('task_unique_id')
        if known is not None and values.get('_gokart_code_generation', 0) == code_fingerprint.generation():
            if values['cache_unique_id'] if 'cache_unique_id' in values else self.cache_unique_id:
                return known  # type: ignore[no-any-return]
        return identity.unique_id(self)

    def _repr_html_(self) -> str | None:
        """Jupyter shows a task as a picture of its DAG coloured by what a build would do (``gokart.notebook.display``)."""
        from gokart.notebook.display import task_html

        try:
            return task_html(self)
        except Exception:  # a display must never break the cell: Jupyter falls back to the text repr
            return None

    def get_own_code(self) -> str:
        """The source that ``serialized_task_definition_check`` adds to the unique id (see ``code_fingerprint.own_code``)."""
        return code_fingerprint.own_code(self)

    @staticmethod
    def get_code(target_class: type) -> set[str]:
        return code_fingerprint.code_of(target_class)

    # ----- dependencies and outputs ---------------------------------------------------------
    def requires(self) -> Any:
        """Every task held by this task's attributes (task-instance parameters), by attribute name."""
        tasks = self.make_task_instance_dictionary()
        return tasks or []

    def make_task_instance_dictionary(self) -> dict[str, Any]:
        # This runs over every attribute of every task of a DAG: decide by type, once per type,
        # rather than with an isinstance per value (TaskOnKart's metaclass makes those slow).
        found = {}
        never_tasks = construction.class_setup(type(self)).never_tasks
        for key, value in vars(self).items():
            if key in never_tasks:
                continue
            kind = type(value)
            if kind is tuple:
                if value and all(_is_task_on_kart_type(type(v)) for v in value):
                    found[key] = value
            elif _is_task_on_kart_type(kind):
                found[key] = value
        return found

    def input(self) -> Any:
        """The outputs of what ``requires()`` returns, in its shape; during a build, without calling it again (``dag.declared``)."""
        return getpaths(dag.declared(self))

    @staticmethod
    def is_task_on_kart(value: Any) -> bool:
        return isinstance(value, TaskOnKart) or (isinstance(value, tuple) and bool(value) and all(isinstance(v, TaskOnKart) for v in value))

    def output(self) -> Any:
        return self.make_target()

    def make_target(self, relative_file_path: str | None = None, use_unique_id: bool = True, processor: Any = None) -> TargetOnKart:
        """A target under the workspace; without a path, ``{module}/{ClassName}.pkl``."""
        # Targets are immutable and a task's parameters are fixed, so the same request gives the same
        # target: keep it, since output() and the log targets are asked for many times per build.
        if relative_file_path is not None and not isinstance(relative_file_path, str):
            relative_file_path = _output_path_text(self, relative_file_path)
        cacheable = processor is None and self.cache_unique_id
        if cacheable:
            if self.__dict__.get('_gokart_code_generation', 0) != code_fingerprint.generation():
                identity.forget_unique_id(self)  # code changed since the id was made: so did the targets' names
            cache = self.__dict__.setdefault('_gokart_targets', {})
            found = cache.get((relative_file_path, use_unique_id))
            if found is not None:
                return found  # type: ignore[no-any-return]
        target = self._make_target(relative_file_path, use_unique_id, processor)
        if cacheable:
            cache[(relative_file_path, use_unique_id)] = target
        return target

    def _make_target(self, relative_file_path: str | None, use_unique_id: bool, processor: Any) -> TargetOnKart:
        formatted_relative_file_path = (
            relative_file_path
            if relative_file_path is not None
            else os.path.join(self.__module__.replace('.', '/'), f'{type(self).__name__}.pkl')
        )
        if relative_file_path is not None and (relative_file_path.startswith(('/', '\\')) or '..' in relative_file_path):
            warn_if_outside_workspace(self, relative_file_path, self.workspace_directory)
        file_path = os.path.join(self.workspace_directory, formatted_relative_file_path)
        unique_id = self.make_unique_id() if use_unique_id else None
        check_output_path(self, file_path, unique_id)
        if processor is None and relative_file_path is not None:
            try:
                processor = make_file_processor(
                    file_path,
                    store_index_in_feather=self.store_index_in_feather,
                    dataframe_type=_dataframe_type_of(type(self)),  # type: ignore[arg-type]
                )
            except UnsupportedFormatError as e:
                raise UnsupportedFormatError(f'{error_messages.describe_task(self)} cannot have the output {file_path}: {e}') from e
        task_lock_params = self._lock_params(file_path, unique_id)
        return gokart.target.make_target(
            file_path=file_path,
            unique_id=unique_id,
            processor=processor,
            task_lock_params=task_lock_params,
            store_index_in_feather=self.store_index_in_feather,
            workspace_directory=self.workspace_directory,
        )

    def _lock_params(self, file_path: str, unique_id: str | None) -> Any:
        if self.redis_host is None or self.redis_port is None:
            if self.redis_timeout is not None and self.redis_timeout <= gokart.target.NO_LOCK.lock_extend_seconds:
                # gokart 1.12 refuses a too short redis_timeout without Redis too: the same error, naming the task.
                self._named_lock_errors(make_task_lock_params, file_path=file_path, unique_id=unique_id, redis_timeout=self.redis_timeout)
            return gokart.target.NO_LOCK  # nothing to lock: share one value instead of a key per target
        # Built from the path before the id is inserted, as gokart does (the Redis key adds the id).
        return self._named_lock_errors(
            make_task_lock_params,
            file_path=file_path,
            unique_id=unique_id,
            redis_host=self.redis_host,
            redis_port=self.redis_port,
            redis_timeout=self.redis_timeout,
            raise_task_lock_exception_on_collision=False,
        )

    def _named_lock_errors(self, make: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``make(*args, **kwargs)``, with a ``LockConfigurationError`` naming this task."""
        try:
            return make(*args, **kwargs)
        except errors.LockConfigurationError as e:
            raise errors.LockConfigurationError(f'{error_messages.describe_task(self)}: {e}') from e

    def make_large_data_frame_target(
        self, relative_file_path: str | None = None, use_unique_id: bool = True, max_byte: int = 2**26
    ) -> TargetOnKart:
        """A zip of pickled row chunks of about ``max_byte`` each, for frames too large for one pickle."""
        formatted_relative_file_path = (
            relative_file_path
            if relative_file_path is not None
            else os.path.join(self.__module__.replace('.', '/'), f'{type(self).__name__}.zip')
        )
        return self.make_model_target(
            relative_file_path=formatted_relative_file_path,
            save_function=gokart.target.LargeDataFrameProcessor(max_byte=max_byte).save,
            load_function=gokart.target.LargeDataFrameProcessor.load,
            use_unique_id=use_unique_id,
        )

    def make_model_target(
        self,
        relative_file_path: str,
        save_function: Callable[[Any, str], Any],
        load_function: Callable[[str], Any],
        use_unique_id: bool = True,
    ) -> TargetOnKart:
        """A zip target: ``save_function(obj, path)`` writes the model, ``load_function(path)`` reads it back."""
        file_path = os.path.join(self.workspace_directory, relative_file_path)
        if relative_file_path[-3:] != 'zip':
            raise AssertionError(f'extension must be zip, but {relative_file_path} is passed.')
        unique_id = self.make_unique_id() if use_unique_id else None
        task_lock_params = self._lock_params(file_path, unique_id)
        return gokart.target.make_model_target(
            file_path=file_path,
            temporary_directory=self.local_temporary_directory,
            unique_id=unique_id,
            save_function=save_function,
            load_function=load_function,
            task_lock_params=task_lock_params,
            workspace_directory=self.workspace_directory,
        )

    # ----- completion -----------------------------------------------------------------------
    def complete(self) -> bool:
        """True when every output exists (and, with the strict checks, every input too and in time order).

        With ``rerun=True`` the first call deletes the outputs and returns False.
        """
        if self._rerun_state:
            for target in flatten(self.output()):
                target.remove()
            self._rerun_state = False
            return False
        is_completed = True
        for target in flatten(self.output()):
            if not target.exists():
                is_completed = False
                break
        if self.strict_check or self.modification_time_check:
            requirements = dag.requirements(self)
            inputs = flatten(self.input())
            is_completed = is_completed and all(task.complete() for task in requirements) and all(i.exists() for i in inputs)
        if not self.modification_time_check or not is_completed or not self.input():
            return is_completed
        return self._check_modification_time()

    def _check_modification_time(self) -> bool:
        common_path = set(t.path() for t in flatten(self.input())) & set(t.path() for t in flatten(self.output()))
        input_tasks = [t for t in flatten(self.input()) if t.path() not in common_path]
        output_tasks = [t for t in flatten(self.output()) if t.path() not in common_path]
        input_modification_time = newest_input_time(self, input_tasks)  # inputs from the future are left out, with a warning
        output_modification_time = min([target.last_modification_time() for target in output_tasks]) if output_tasks else None
        if input_modification_time is None or output_modification_time is None:
            return True
        if input_modification_time <= output_modification_time:
            return True
        # With early cutoff, an input rewritten with the bytes this run read leaves the outputs as good as they were.
        return cutoff.enabled() and cutoff.inputs_unchanged_since_run(self)

    # ----- load and dump --------------------------------------------------------------------
    @overload
    def load(self, target: TaskOnKart[K]) -> K: ...

    @overload
    def load(self, target: list[TaskOnKart[K]]) -> list[K]: ...

    @overload
    def load(self, target: None | str | TargetOnKart = None) -> Any: ...

    def load(self, target: Any = None) -> Any:
        """Load what requirements dumped: all inputs (None), a key of a dict ``requires()``, a task, or a list."""

        def _load(targets: Any) -> Any:
            if isinstance(targets, (list, tuple)):
                return [_load(t) for t in targets]
            if isinstance(targets, dict):
                return {k: _load(t) for k, t in targets.items()}
            return self._load_one(targets)

        loaded = _load(self._get_input_targets(target))
        if target is None or isinstance(target, str):  # an input_schema, if declared, names the columns it reads
            check_loaded(self, target, loaded)
        return loaded

    def load_generator(self, target: Any = None) -> Generator[Any, None, None]:
        """Yield each loaded input in turn, depth first; one object in memory at a time."""
        for leaf in flatten(self._get_input_targets(target)):
            yield self._load_one(leaf)

    def load_data_frame(self, target: Any = None, required_columns: set[str] | None = None, drop_columns: bool = False) -> Any:
        """Deprecated helper of gokart < 1.10: load DataFrame inputs as one frame and check its columns."""
        import pandas as pd

        warnings.warn('load_data_frame is deprecated: use load() and select columns.', DeprecationWarning, stacklevel=2)
        data = self.load(target=target)
        if isinstance(data, dict) and len(data) == 1:
            data = list(data.values())[0]
        if isinstance(data, list):
            data = pd.concat(data)
        required = set(required_columns or ())
        if data.empty and not required.issubset(data.columns):
            return pd.DataFrame(columns=sorted(required))
        missing = required - set(data.columns)
        if missing:
            raise AssertionError(
                f'{error_messages.describe_task(self)}: load_data_frame needs the columns {sorted(missing)}, '
                f'which the loaded data lacks (it has {list(data.columns)}).'
            )
        if drop_columns:
            data = data[[c for c in data.columns if c in required]]
        return data

    def dump(self, obj: T, target: None | str | TargetOnKart = None, custom_labels: dict[str, Any] | None = None) -> None:
        """Write ``obj`` to this task's output (or the named output of a dict ``output()``), atomically."""
        run_state.of(self).dumped = True  # run() wrote something (see _check_dumped)
        check_pandas_types(obj, task_namespace=self.task_namespace)
        if self.fail_on_empty_dump and _is_empty_pandas_frame(obj):
            raise EmptyDumpError(f'{error_messages.describe_task(self)} dumped an empty DataFrame and fail_on_empty_dump is set.')
        output_target = self._get_output_target(target)
        schema = check_dump(self, obj, target if isinstance(target, str) else None, output_target.path())  # output_schema, if declared
        check_run_lock_held(self)  # a lease taken over by another process: leave the output to it
        required_task_outputs = (
            self._required_task_outputs() if storage_backend_of(protocol_of(output_target.path())).object_labels else None
        )
        try:
            output_target.dump(
                obj,
                lock_at_dump=self._lock_at_dump,
                task_params=self.to_str_params(only_significant=True, only_public=True),
                custom_labels=custom_labels,
                required_task_outputs=required_task_outputs,
            )
        except Exception as e:
            clearer = error_messages.dump_error(self, output_target.path(), obj, e)
            if clearer is e:
                raise
            raise clearer from e
        lineage.note_dumped(self, obj, output_target.path(), schema)  # metrics, and a frame's columns, go into the run's lineage record

    def _load_one(self, target: Any) -> Any:
        try:
            return target.load()
        except OutputNotFoundError as e:
            writer = dag.writer_of(self, target)
            failure = _recorded_failure(writer) if writer is not None else None
            raise OutputNotFoundError(error_messages.missing_input_message(self, target, e, writer, failure)) from e
        except CorruptOutputError as e:
            raise type(e)(error_messages.corrupt_input_message(self, target, e, dag.writer_of(self, target))) from e

    def _get_input_targets(self, target: Any) -> Any:
        if target is None:
            return self.input()
        if isinstance(target, str):
            inputs = self.input()
            if not isinstance(inputs, dict):
                raise AssertionError(
                    f'{error_messages.describe_task(self)}: load({target!r}) needs requires() to return a dict of tasks, '
                    f'but its input is a {type(inputs).__name__}; call load() without a name.'
                )
            if target not in inputs:
                raise error_messages.unknown_input_error(self, target, inputs)
            return inputs[target]
        if isinstance(target, TaskOnKart):
            requirement_ids = {t.make_unique_id() for t in dag.requirements(self) if isinstance(t, TaskOnKart)}
            if target.make_unique_id() not in requirement_ids:
                raise NotARequirementError(
                    f'{error_messages.describe_task(self)} cannot load {target!r}: it should be in requires method. '
                    'Return it from requires() (or hold it in a TaskInstanceParameter) to load it.'
                )
            return target.output()
        if isinstance(target, luigi.target.Target):
            return target
        if isinstance(target, dict):
            return {k: self._get_input_targets(v) for k, v in target.items()}
        if isinstance(target, Iterable):
            return [self._get_input_targets(t) for t in target]
        raise TypeError(f'{type(self).__name__}.load() cannot load {type(target)}: pass None, a key, a task, a target or a list of them.')

    def _get_output_target(self, target: Any) -> Any:
        if target is None:
            output = self.output()
            if not isinstance(output, luigi.target.Target):
                raise AssertionError(
                    f'output must be TargetOnKart, but {type(output)} is passed; pass dump(obj, target=key) for a dict output.'
                )
            return output
        if isinstance(target, str):
            output = self.output()
            if not isinstance(output, dict):
                raise AssertionError(f'output must be dict[str, TargetOnKart], but {type(output)} is passed.')
            return output[target]
        return target

    def _required_task_outputs(self) -> Any:
        return map_flattenable_items(
            lambda task: map_flattenable_items(lambda output: RequiredTaskOutput(task.get_task_family(), output.path()), task.output()),
            self.requires(),
        )

    # ----- run records ----------------------------------------------------------------------
    def get_task_log(self) -> dict[str, Any]:
        if self.task_log:
            return self.task_log
        return run_records.read(run_records.TASK_LOG, self, {})  # type: ignore[no-any-return]

    def get_processing_time(self) -> float | str:
        return run_records.read(run_records.PROCESSING_TIME, self, 'unknown')  # type: ignore[no-any-return]

    def get_task_params(self) -> dict[str, str]:
        return run_records.read(run_records.TASK_PARAMS, self, {})  # type: ignore[no-any-return]

    def _log_target(self, kind: str, extension: str = 'pkl') -> TargetOnKart:
        """The ``log/`` record of ``kind`` of this task's run (see ``run_records``)."""
        return run_records.target(kind, self, extension)  # type: ignore[no-any-return]

    def _log_path(self, kind: str, extension: str = 'pkl') -> str:
        """The path of ``_log_target(kind, extension)``, without building the target."""
        return run_records.path(kind, self, extension)

    def get_info(self, only_significant: bool = False) -> dict[str, str]:
        params = self.get_params()
        params_str = {}
        for name, param in params:
            if only_significant and not param.significant:
                continue
            value = getattr(self, name)
            if isinstance(param, TaskInstanceParameter) and value is not None:
                params_str[name] = f'{type(value).__name__}-{value.make_unique_id()}'
            else:
                params_str[name] = param.serialize(value)
        return params_str

    # ----- copies and restore ---------------------------------------------------------------
    def clone(self, cls: type | None = None, **kwargs: Any) -> Any:
        """A task of ``cls`` (default: this class) with this task's parameter values, overridden by ``kwargs``."""
        cls = cls or type(self)
        new_kwargs = {}
        for name, _ in cls.get_params():  # type: ignore[attr-defined]
            if name in kwargs:
                new_kwargs[name] = kwargs[name]
            elif name not in _NOT_COPIED_BY_CLONE and hasattr(self, name):
                new_kwargs[name] = getattr(self, name)
        return cls(**new_kwargs)

    @classmethod
    def restore(cls, unique_id: str) -> Any:
        """Rebuild a task from the task_params record its run left in the (default) workspace."""
        params = run_records.params_of(TaskOnKart().workspace_directory, cls.__name__, unique_id)
        return cls.from_str_params(params)

    # ----- presentation ---------------------------------------------------------------------
    def __repr__(self) -> str:
        return f'{self.get_task_family()}[{self.make_unique_id()}]({self._parameters_text(only_public=False)})'

    def __str__(self) -> str:
        return f'{self.get_task_family()}[{self.make_unique_id()}]({self._parameters_text(only_public=True)})'

    def _parameters_text(self, only_public: bool) -> str:
        parts = []
        for (name, param), (_, value) in zip(self.get_params(), _current_values(self), strict=True):  # both in declaration order
            if not param.significant:
                continue
            if only_public and param.visibility != ParameterVisibility.PUBLIC:
                continue
            parts.append(f'{name}={_value_text(param, value)}')
        return ', '.join(parts)

    @property
    def priority(self) -> float:  # type: ignore[override]
        # luigi's scheduler orders ready tasks by priority; gokart 1.12 randomizes it.
        return random.Random().random()


def _output_path_text(task: TaskOnKart[Any], path: Any) -> str:
    """A ``pathlib.Path`` given to make_target as text (gokart 1.12 joined it as one); anything else is a TypeError, as in 1.12."""
    text = os.fspath(path) if isinstance(path, os.PathLike) else None
    if not isinstance(text, str):
        raise errors.OutputPathTypeError(
            f'{error_messages.describe_task(task)}: make_target() needs the output path relative to the workspace as a str '
            f"(or a pathlib.Path), but got {path!r} (a {type(path).__name__}); e.g. make_target('model/result.pkl')."
        )
    return text


def _current_values(task: TaskOnKart[Any]) -> list[tuple[str, Any]]:
    """The parameter values of ``task`` as luigi resolves its ``param_kwargs`` now: what 1.12's ``repr``/``str`` show.

    gokart 1.12 resolved ``param_kwargs`` again at every ``repr`` (luigi's ``get_param_values``), so a value
    an ``__init__`` put there after ``super().__init__()`` is what is shown, normalized: an invalid choice
    raises luigi's ``ValueError``, a name that is no parameter ``UnknownParameterException``. Task-instance
    values are taken as they are, as 1.12's parameters took them (a string where tasks belong fails
    when shown, with 1.12's ``AttributeError``). Values still those set at construction are not resolved again.
    """
    unchanged = construction.values_set(task)
    if unchanged is not None:
        return unchanged
    current = task.param_kwargs
    params = task.get_params()
    names = {name for name, _ in params}
    family = task.get_task_family()
    for name in current:
        if name not in names:
            raise luigi.parameter.UnknownParameterException(f'{family}[args=[], kwargs={current}]: unknown parameter {name}')
    resolved = []
    for name, param in params:
        if name not in current:
            value = param.task_value(family, name)  # luigi's: the config, then the default, else MissingParameterException
        elif isinstance(param, (TaskInstanceParameter, ListTaskInstanceParameter)):
            value = current[name]
        else:
            value = param.normalize(current[name])
        resolved.append((name, value))
    return resolved


def _value_text(param: luigi.Parameter, value: Any) -> str:
    if isinstance(param, TaskInstanceParameter) and isinstance(value, TaskOnKart):
        return f'{value.get_task_family()}({value.make_unique_id()})'
    if isinstance(param, ListTaskInstanceParameter) and value is not None:
        return '[' + ', '.join(f'{t.get_task_family()}({t.make_unique_id()})' for t in value) + ']'
    return str(param.serialize(value))


def _skip_when_complete(task: TaskOnKart[Any], run: Callable[[], Any]) -> Callable[[], Any]:
    # The check is the task's complete() as it is now, at construction, as gokart 1.12 binds it:
    # tests that later replace task.complete on the instance (kannon's do) drive only their own loop.
    # The class's function is kept rather than a bound method: no object more per task constructed.
    own_complete = task.__dict__.get('complete')
    class_complete = type(task).complete

    def run_unless_complete() -> Any:
        # The executor checks completion itself, under the task's run lock (see execution.completion_check).
        if not checked_by_executor(task) and (own_complete() if own_complete is not None else class_complete(task)):
            logger.warning(f'{type(task).__name__} is skipped because it has already been completed.')
            return None
        result = run()
        if not isinstance(result, types.GeneratorType):  # a generator dumps when the executor drives it
            _check_dumped(task)
        return result

    # Named as the user's run, which it wraps, as gokart 1.12's wrapper was: tests read run.__name__ and
    # follow run.__wrapped__ (through the lock wrapper too) to the user's own method. __module__ stays
    # this module's: dill pickles a task's wrapped run by value (kannon ships tasks so), and a function
    # whose globals are not its module's would drag this module's globals into the pickle.
    return functools.update_wrapper(run_unless_complete, run, assigned=('__name__', '__qualname__', '__doc__'))


def _check_dumped(task: TaskOnKart[Any]) -> None:
    """Warn, naming the task and the paths, when run() neither called dump() nor wrote its outputs otherwise.

    gokart 1.12 lets such a task succeed (side-effect tasks, tasks with no run() at all), so this is a
    ``NothingDumpedWarning`` and the build goes on; a downstream load of the missing output fails with its
    own clear error. Strict mode (``[gokart] strict = true``) raises ``NothingDumpedError`` instead.
    Skipped when dump is replaced (mocks, ``--test-run-pandas``): writing nothing is then the point;
    and when the class defines its own ``complete()``: its outputs are then not what makes it done (kannon's
    test tasks, for one, complete by time and write nothing).
    """
    noted = run_state.peek(task)
    if (noted is not None and noted.dumped) or 'dump' in task.__dict__ or type(task).dump is not _REAL_DUMP:
        return
    if type(task).complete is not _REAL_COMPLETE:
        return
    missing = [str(target.path()) for target in flatten(task.output()) if not target.exists()]
    if not missing:
        return
    if strict_mode.enabled():
        raise error_messages.nothing_dumped_error(task, missing)
    # A Python warning rather than a log record: gokart.build silences logging below ERROR, and a
    # warning can be filtered, or turned into an error for one test run (-W error::...NothingDumpedWarning).
    warnings.warn(error_messages.nothing_dumped_message(task, missing, strict=False), errors.NothingDumpedWarning, stacklevel=2)


_REAL_DUMP = TaskOnKart.dump
_REAL_COMPLETE = TaskOnKart.complete

_task_on_kart_types: dict[type, bool] = {}


def _is_task_on_kart_type(kind: type) -> bool:
    known = _task_on_kart_types.get(kind)
    if known is None:
        known = _task_on_kart_types[kind] = issubclass(kind, TaskOnKart)
    return known


_dataframe_types: dict[type, str] = {}


def _dataframe_type_of(cls: type) -> str:
    found = _dataframe_types.get(cls)
    if found is None:
        found = _dataframe_types[cls] = get_dataframe_type_from_task(cls)
    return found


def _is_empty_pandas_frame(obj: Any) -> bool:
    module = type(obj).__module__
    if not module.startswith('pandas'):
        return False
    import pandas as pd

    return isinstance(obj, pd.DataFrame) and obj.empty


task_protocol.declare_base(TaskOnKart)
run_records.register(TaskOnKart)
main_module.register(TaskOnKart)


def _recorded_failure(writer: Any) -> str | None:
    """The error the runs index recorded for ``writer``'s last run when it failed (why its output is missing), else None."""
    workspace = getattr(writer, 'workspace_directory', None)
    unique_id = getattr(writer, 'make_unique_id', None)
    if not isinstance(workspace, str) or unique_id is None:
        return None
    from gokart.runs.query import recorded_failure

    return recorded_failure(workspace, type(writer).__name__, str(unique_id()))
