"""Constructing a task: luigi's parameter resolution, without the work luigi repeats for every task.

luigi resolves a task's parameter values twice per construction (its metaclass, for the instance
cache, then ``Task.__init__``), scans the class for its parameters each time, and looks every default
up in the command line and the config. A big DAG constructs many thousands of tasks, so
``TaskOnKart`` hands the work to this module: the values the metaclass resolved are taken over by
``__init__`` (``remember_resolution``/``take_resolution``), each class's parameter tables are built
once (``class_setup``, ``plain_defaults``; ``gokart.ids.task_class`` drops them when a parameter
attribute changes), and the attributes luigi's ``__init__`` sets are set here (``set_parameters``;
a test compares them with ``luigi.Task.__init__``).
"""

from __future__ import annotations

import threading
from typing import Any

import luigi
from luigi.cmdline_parser import CmdlineParser
from luigi.parameter import ParameterVisibility, _no_value

from gokart import errors
from gokart.core import task_protocol
from gokart.core.config_lookup import config_section, section_items
from gokart.ids import identity


def set_parameters(task: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """What ``luigi.Task.__init__`` does, without resolving the parameters a second time.

    luigi's metaclass resolves the parameter values (for its instance cache) just before
    ``__init__``, which then resolves them again; the values the metaclass got for these very
    arguments are taken over. The attributes set are luigi's own.
    """
    cls = type(task)
    values = take_resolution(cls, args, kwargs)
    if values is None:
        values = task.get_param_values(task.get_params(), args, kwargs)
        _last_resolution.value = None  # used here; no later construction may take it over
    setup = class_setup(cls)
    if setup.plain_setters:
        task.__dict__.update(values)  # what each parameter's __set__ would do
    else:
        for name, value in values:
            setattr(task, name, value)
    task.param_kwargs = dict(values)
    if setup.own_init:  # only an __init__ of the task's own can change param_kwargs after this (see after_init)
        task._gokart_init_values = values
    for name, param in setup.type_warnings:
        param._warn_on_wrong_param_type(name, task.param_kwargs[name])
    task.task_id = identity.luigi_task_id(task.get_task_family(), task.to_str_params(only_significant=True, only_public=True))
    task._Task__hash = hash(task.task_id)
    task.set_tracking_url = None
    task.set_status_message = None
    task.set_progress_percentage = None


def after_init(task: Any) -> None:
    """Once the whole ``__init__`` of ``task`` has run: drop cached parameter texts if it changed ``param_kwargs``.

    gokart 1.12 serializes the parameters at the first ``to_str_params`` call after construction, so a
    subclass ``__init__`` that sets ``self.param_kwargs[name]`` after ``super().__init__()`` changes the
    unique id (luigi's ``task_id``, computed inside ``super().__init__()``, keeps the old values).
    Ours serialize while constructing, for the ``task_id``; those texts are forgotten here when a value
    is no longer the one set.
    """
    values = task.__dict__.pop('_gokart_init_values', None)
    if values is None:
        return
    current = task.param_kwargs
    if len(current) != len(values) or any(current.get(name, _MISSING) is not value for name, value in values):
        task.__dict__.pop('_gokart_str_params', None)
        task.__dict__.pop('_gokart_targets', None)


def values_set(task: Any) -> list[tuple[str, Any]] | None:
    """``param_kwargs`` as a list while it holds exactly the values set at construction, else None (it was changed since).

    The attributes ``set_parameters`` set are those values, so they are what ``param_kwargs`` is compared
    with; a parameter class with its own ``__set__`` may store something else, and is never taken as unchanged.
    """
    setup = class_setup(type(task))
    current = task.param_kwargs
    if not setup.plain_setters or len(current) != setup.param_count:
        return None
    attributes = task.__dict__
    for name, value in current.items():
        if attributes.get(name, _MISSING) is not value:
            return None
    return list(current.items())


def remember_resolution(cls: type, args: tuple[Any, ...], kwargs: dict[str, Any], values: list[tuple[str, Any]]) -> None:
    """Keep what ``get_param_values`` resolved for ``cls`` and these arguments, for the ``__init__`` that follows."""
    _last_resolution.value = (cls, args, kwargs, values)


def describe_arguments(kwargs: dict[str, Any]) -> None:
    """What luigi's ``get_param_values`` does first, for its error text: the repr of every argument.

    The repr of a gokart task computes its unique id, so in gokart 1.12 constructing a task with
    another as an argument computes (and, with ``cache_unique_id``, fixes) that task's id, and fails
    there when its ``requires()`` fails. The fast path below must not skip that: the ids of the
    gokart tasks among the arguments (inside lists, tuples, dicts and sets too) are computed here.
    """
    pending = [value for value in kwargs.values() if type(value) not in _PLAIN_VALUE_TYPES]
    while pending:
        value = pending.pop()
        if task_protocol.is_kart(value):
            value.make_unique_id()
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, (list, tuple, set, frozenset)):
            pending.extend(value)


_PLAIN_VALUE_TYPES = frozenset({str, int, float, bool, type(None), bytes})


def values_from_defaults(cls: Any, params: Any, args: Any, kwargs: Any) -> list[tuple[str, Any]] | None:
    """The parameter values of ``cls`` for ``kwargs`` from its own defaults, or None when luigi must resolve them.

    luigi looks every default up in the command line and the config, two lookups per parameter per
    construction (about 1 ms a task). When no command line is being parsed and the config has no
    section for this task, every default is the parameter's own: use them directly.
    """
    defaults = None if args else plain_defaults(cls, params)
    if defaults is None or not (defaults.required <= kwargs.keys() <= defaults.position.keys()):
        return None
    values = defaults.values.copy()
    for name, given in kwargs.items():
        position = defaults.position[name]
        value = params[position][1].normalize(given)
        values[position] = (name, list_to_tuple(value))
    # Then the defaults not given, as luigi orders them (so the first error raised is luigi's).
    for position in defaults.volatile:
        name, param = params[position]
        if name not in kwargs:  # normalized now, as luigi does at every construction (it may raise, as luigi's would)
            values[position] = (name, list_to_tuple(param.normalize(param._default)))
    return values


_MISSING = object()


class _LastResolution(threading.local):
    value: tuple[type, tuple[Any, ...], dict[str, Any], list[tuple[str, Any]]] | None = None


_last_resolution = _LastResolution()


def take_resolution(cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[tuple[str, Any]] | None:
    """The values ``get_param_values`` last resolved in this thread, if for ``cls`` and these very arguments.

    Arguments match when they are the same objects (luigi hands ``__init__`` the ones its metaclass
    resolved); anything else, such as a subclass ``__init__`` changing kwargs, resolves again.
    """
    last = _last_resolution.value
    _last_resolution.value = None
    if last is None or last[0] is not cls:
        return None
    _, last_args, last_kwargs, values = last
    if len(last_args) != len(args) or any(a is not b for a, b in zip(last_args, args, strict=True)):
        return None
    if len(last_kwargs) != len(kwargs) or any(kwargs.get(k, _MISSING) is not v for k, v in last_kwargs.items()):
        return None
    return values


class ClassSetup:
    """Per task class: how to set parameter values and which of them luigi type-checks with a warning."""

    def __init__(self, cls: Any) -> None:
        params = cls.get_params()
        self.plain_setters = all(type(param).__set__ in _PLAIN_SETTERS for _, param in params)
        # luigi's base check only warns for plain luigi.Parameter; subclasses that keep it never warn.
        self.type_warnings = [
            (name, param)
            for name, param in params
            if type(param) is luigi.Parameter or type(param)._warn_on_wrong_param_type is not luigi.Parameter._warn_on_wrong_param_type
        ]
        self._params = params
        self.param_count = len(params)
        # Whether a class between ``cls`` and TaskOnKart defines __init__: code that runs after
        # TaskOnKart's and may change param_kwargs. Without one, after_init has nothing to look at.
        base = _kart_base()
        mro = cls.__mro__
        self.own_init = base not in mro or any('__init__' in c.__dict__ for c in mro[: mro.index(base)])
        # Attributes make_task_instance_dictionary need not look at: gokart's own parameters and the
        # bookkeeping luigi and gokart keep on every task, none of which holds a task.
        self.never_tasks = frozenset(name for name, _ in _kart_base().get_params()) | _BOOKKEEPING_ATTRIBUTES
        self._shown: dict[tuple[bool, bool], list[tuple[str, luigi.Parameter]]] = {}
        self._significant_all_public: bool | None = None

    def significant_all_public(self) -> bool:
        """Whether every significant parameter ``to_str_params`` shows is public, so both significant views are equal."""
        same = self._significant_all_public
        if same is None:
            same = self._significant_all_public = self.shown_params(True, True) == self.shown_params(True, False)
        return same

    def shown_params(self, only_significant: bool, only_public: bool) -> list[tuple[str, luigi.Parameter]]:
        """The parameters ``to_str_params`` serializes, by luigi's rules, in declaration order."""
        key = (only_significant, only_public)
        shown = self._shown.get(key)
        if shown is None:
            shown = self._shown[key] = [
                (name, param)
                for name, param in self._params
                if (param.significant or not only_significant)
                and (param.visibility == ParameterVisibility.PUBLIC or not only_public)
                and param.visibility != ParameterVisibility.PRIVATE
            ]
        return shown


_BOOKKEEPING_ATTRIBUTES = frozenset(
    {
        'task_log',
        'task_unique_id',
        'param_kwargs',
        'task_id',
        '_Task__hash',
        'set_tracking_url',
        'set_status_message',
        'set_progress_percentage',
        '_rerun_state',
        '_lock_at_dump',
        'run',
        '_gokart_str_params',
        '_gokart_targets',
        '_gokart_init_values',
        '_gokart_code_generation',
        '_gokart_run_state',  # core.run_state: what a build notes about the task, never a task
    }
)
_PLAIN_SETTERS = (luigi.Parameter.__set__, luigi.parameter.OptionalParameterMixin.__set__)


def class_setup(cls: Any) -> ClassSetup:
    setup = cls.__dict__.get('_gokart_setup')
    if setup is None:
        setup = ClassSetup(cls)
        type.__setattr__(cls, '_gokart_setup', setup)
    return setup  # type: ignore[no-any-return]


class _Defaults:
    """The normalized default of each parameter of a class, in declaration order.

    A default is normalized once, here, unless its normalization depends on the moment (a path made
    absolute against the working directory, or checked to exist) or fails: those are ``volatile``
    and normalized at each construction that does not give the parameter, as luigi does, so an
    invalid default only fails the calls that use it.
    """

    def __init__(self, params: list[tuple[str, luigi.Parameter]]) -> None:
        self.params = params
        self.values: list[tuple[str, Any]] = []
        self.volatile: list[int] = []
        for position, (name, param) in enumerate(params):
            if param._default is _no_value:  # no default: _MISSING here, and it must be given as a keyword
                self.values.append((name, _MISSING))
                continue
            value: Any = None
            if isinstance(param, luigi.PathParameter):
                self.volatile.append(position)
            else:
                try:
                    value = list_to_tuple(param.normalize(param._default))
                except Exception:  # noqa: BLE001 - raised again, by the construction that uses this default
                    self.volatile.append(position)
            self.values.append((name, value))
        self.position = {name: i for i, (name, _) in enumerate(params)}
        self.required = {name for name, value in self.values if value is _MISSING}


def list_to_tuple(value: Any) -> Any:
    # luigi stores list and set values as tuples, so that tasks stay hashable.
    if isinstance(value, set):
        return tuple(identity.stable_set(value))  # a fixed order, so the id is the same in every process
    return tuple(value) if isinstance(value, list) else value


def plain_defaults(cls: Any, params: list[tuple[str, luigi.Parameter]]) -> _Defaults | None:
    """Normalized defaults of ``cls``'s parameters, or None when the command line or config may override them."""
    if CmdlineParser.get_instance() is not None:
        return None
    if config_section(cls.get_task_family()) is not None:
        return None
    cached = cls.__dict__.get('_gokart_defaults')
    if cached is None or cached.params is not params:
        if any(param._config_path for _, param in params):  # a deprecated config alias: let luigi resolve it
            return None
        cached = _Defaults(params)
        type.__setattr__(cls, '_gokart_defaults', cached)
    return cached  # type: ignore[no-any-return]


def add_configuration(cls: Any, kwargs: dict[str, Any], section: str) -> None:
    """Fill ``kwargs`` from config ``section`` as gokart 1.12's ``TaskOnKart._add_configuration`` does (SPEC 3.2).

    An option applies when it names an attribute of ``TaskOnKart`` itself or of ``cls`` itself (not
    of a class in between), and ``kwargs`` does not give it: so ``[TaskOnKart] retry_count = 3`` sets
    a task's own ``retry_count`` parameter, though luigi.Task has an attribute of that name. The
    config is asked through ``luigi.configuration.get_config()`` at each call, as 1.12 did (tests
    patch it). An option naming an attribute that is not a parameter raises an ``AttributeError``, as
    in 1.12, with a message naming the option.
    """
    options = section_items(luigi.configuration.get_config(), section)
    if not options:
        return
    base = _kart_base()
    for key, value in options.items():
        if key in kwargs:
            continue
        attribute = cls.__dict__.get(key, _MISSING)
        if attribute is _MISSING:
            attribute = base.__dict__.get(key, _MISSING)
            if attribute is _MISSING or key in _BASE_ATTRIBUTES_NOT_IN_1_12:
                continue
        if not isinstance(attribute, luigi.Parameter):
            raise errors.ConfigNotAParameterError(
                f'[{section}] {key} = {value} in the luigi config: {key} of {cls.__name__} is not a parameter (a {type(attribute).__name__}), '
                f'so the config cannot set it. Remove the option, or make {key} a luigi.Parameter.'
            )
        kwargs[key] = attribute.parse(value)


# Plain class attributes our TaskOnKart has and gokart 1.12's has not: 1.12 passes over a config option
# naming one (nothing of that name on its TaskOnKart), so ours does too instead of refusing it.
_BASE_ATTRIBUTES_NOT_IN_1_12 = frozenset({'redis_run_once'})


def _kart_base() -> Any:
    return task_protocol.kart_base()
