"""Parameters gokart adds to luigi's: task instances, explicit booleans, serializable objects, zoned datetimes."""

from __future__ import annotations

import bz2
import datetime
import json
import logging
import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypedDict, TypeVar, runtime_checkable

import luigi
from luigi import task_register
from luigi.parameter import ConfigPath, ParameterVisibility, _no_value
from typing_extensions import TypeVar as TypeVarWithDefault

from gokart.core import task_protocol
from gokart.errors import TaskInstanceTypeError, TaskParameterAttributeError, TaskParameterTypeError
from gokart.ids import id_scheme

if TYPE_CHECKING:
    from gokart.task import TaskOnKart

logger = logging.getLogger(__name__)

TASK_ON_KART_TYPE = TypeVarWithDefault('TASK_ON_KART_TYPE', bound='TaskOnKart[Any]', default='TaskOnKart[Any]')
S = TypeVar('S', bound='Serializable')


def _checked_type(parameter: str, argument: str, value: Any) -> Any:
    """``value`` when it is None or a class; a TypeError at class definition otherwise, not a confusing one at construction."""
    if value is None or isinstance(value, type):
        return value
    raise TaskParameterTypeError(
        f'{parameter}({argument}=...) must be a class, such as a TaskOnKart subclass, or None; got {value!r} '
        f'(a {type(value).__name__}). For a generic task class such as TaskOnKart[int], pass the class itself (TaskOnKart).'
    )


class TaskInstanceParameter(luigi.Parameter[TASK_ON_KART_TYPE]):
    """A parameter whose value is a task instance; the task becomes a requirement under the default ``requires()``.

    Serialized as ``{"type": family, "params": hex(bz2(json(significant params)))}`` so that the owner's unique id
    is the one gokart 1.12 computes; under id scheme 2 as ``{"type": family, "id": unique id}`` (see
    ``gokart.ids.id_scheme``). ``parse`` reads both, the second by finding the task constructed with that id.
    """

    def __init__(self, expected_type: type | None = None, *args: Any, bypass_expected_type_check: bool = False, **kwargs: Any) -> None:
        self._expected_type = _checked_type('TaskInstanceParameter', 'expected_type', expected_type)
        super().__init__(*args, **kwargs)

    @property
    def expected_type(self) -> type:
        return self._expected_type if self._expected_type is not None else task_protocol.kart_base()

    @staticmethod
    def _recursive(param_dict: dict[str, Any]) -> Any:
        if 'params' not in param_dict and 'id' in param_dict:  # scheme 2's {"type": family, "id": id}
            return id_scheme.constructed_task(param_dict['type'], param_dict['id'])
        params = param_dict['params']
        task_cls = task_register.Register.get_task_cls(param_dict['type'])
        if isinstance(params, str):
            params = json.loads(bz2.decompress(bytes.fromhex(params)).decode())
        return task_cls.from_str_params(params)

    def parse(self, s: Any) -> Any:
        if isinstance(s, str):
            s = json.loads(s)
        return self._recursive(dict(s))

    def serialize(self, x: Any) -> str:
        if id_scheme.current() == 2:  # the task's id stands for it, so the text does not grow with its DAG
            return id_scheme.task_reference(x)
        params = bz2.compress(json.dumps(x.to_str_params(only_significant=True)).encode()).hex()
        return json.dumps({'type': x.get_task_family(), 'params': params})

    def normalize(self, v: Any) -> Any:
        # None too is refused, with the TypeError gokart 1.12 raises (it has no "no task" value).
        if v is None:
            raise TaskInstanceTypeError(
                f'expected an instance of {self.expected_type.__name__}, but None is passed (also when None is the default): '
                f'pass a task instance, {self.expected_type.__name__}(...), or declare the dependency in requires() instead.'
            )
        if isinstance(v, type):  # the class itself, a common slip: name it, not its metaclass
            raise TaskInstanceTypeError(
                f'{v} is not an instance of {self.expected_type}: the class {v.__name__} was passed, not a task; pass {v.__name__}(...)'
            )
        if not isinstance(v, self.expected_type):
            raise TaskInstanceTypeError(
                f'{type(v)} is not an instance of {self.expected_type}: pass a task instance, {self.expected_type.__name__}(...)'
            )
        return v

    def _warn_on_wrong_param_type(self, param_name: str, param_value: Any) -> None:
        # None is refused here too (a TypeError, as in gokart 1.12), also when it is the default.
        if param_value is None:
            raise TaskInstanceTypeError(
                f'Parameter "{param_name}" expects an instance of {self.expected_type.__name__}, but None is passed '
                '(also when None is its default): pass a task, or declare the dependency in requires() instead.'
            )
        if not isinstance(param_value, self.expected_type):
            raise TaskInstanceTypeError(
                f'Parameter "{param_name}" expects an instance of {self.expected_type.__name__}, but {type(param_value).__name__} is passed.'
            )


class _TaskInstanceEncoder(json.JSONEncoder):
    def default(self, obj: Any) -> Any:
        if isinstance(obj, luigi.Task):
            return TaskInstanceParameter().serialize(obj)
        return super().default(obj)


class ListTaskInstanceParameter(luigi.Parameter[list[TASK_ON_KART_TYPE]]):
    """A parameter holding a list of task instances (stored as a tuple, as luigi does with lists)."""

    def __init__(
        self, expected_elements_type: type | None = None, *args: Any, bypass_expected_type_check: bool = False, **kwargs: Any
    ) -> None:
        self._expected_elements_type = _checked_type('ListTaskInstanceParameter', 'expected_elements_type', expected_elements_type)
        super().__init__(*args, **kwargs)

    @property
    def expected_elements_type(self) -> type:
        return self._expected_elements_type if self._expected_elements_type is not None else task_protocol.kart_base()

    def parse(self, s: Any) -> Any:
        if isinstance(s, str):
            s = json.loads(s)
        return tuple(TaskInstanceParameter().parse(x) for x in s)

    def serialize(self, x: Any) -> str:
        # As 1.12: JSON of the value as it is (a tuple is a JSON list), so a string put in param_kwargs
        # by an __init__ is the JSON string, not a list of its characters.
        return json.dumps(x, cls=_TaskInstanceEncoder)

    def normalize(self, v: Any) -> Any:
        if v is None or isinstance(v, luigi.Task) or isinstance(v, type):
            # gokart 1.12 fails iterating over it: the same TypeError, saying what to pass instead.
            raise TaskInstanceTypeError(
                f'{v!r} is not a list of tasks: pass a list of task instances, [{self.expected_elements_type.__name__}(...), ...]'
            )
        values = tuple(v)
        for element in values:
            if isinstance(element, type):
                raise TaskInstanceTypeError(
                    f'{element} is not an instance of {self.expected_elements_type}: the class {element.__name__} was passed, '
                    f'not a task; pass {element.__name__}(...)'
                )
            if not isinstance(element, self.expected_elements_type):
                raise TaskInstanceTypeError(f'{type(element)} is not an instance of {self.expected_elements_type}')
        return values

    def _warn_on_wrong_param_type(self, param_name: str, param_value: Any) -> None:
        for element in param_value or ():
            if not isinstance(element, self.expected_elements_type):
                raise TaskInstanceTypeError(
                    f'Parameter "{param_name}" expects a list of {self.expected_elements_type.__name__}, '
                    f'but an element of type {type(element).__name__} is passed.'
                )


class ExplicitBoolParameter(luigi.BoolParameter):
    """A bool parameter that needs an explicit value on the command line (``--flag true``).

    Without a default it is required, as in gokart 1.12 (luigi's ``BoolParameter`` would default to False).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault('parsing', luigi.BoolParameter.EXPLICIT_PARSING)
        has_default = bool(args) or kwargs.get('default', _no_value) is not _no_value
        super().__init__(*args, **kwargs)
        if not has_default:
            self._default = _no_value

    @classmethod
    def _parser_kwargs(cls, param_name: Any, task_name: Any = None) -> Any:
        # luigi.Parameter's argparse settings: a value is required, so a bare `--flag` is an argparse error.
        return luigi.Parameter._parser_kwargs.__func__(cls, param_name, task_name)  # type: ignore[attr-defined]

    def normalize(self, x: Any) -> Any:
        # As in gokart 1.12: a value given in Python that is neither true nor false (None, 0, 1, 'yes')
        # becomes None, and the task is built with it; only the command line (parse) refuses it.
        text = str(x).lower()
        if text in _EXPLICIT_BOOLS:
            return _EXPLICIT_BOOLS[text]
        warnings.warn(
            f'ExplicitBoolParameter {getattr(self, "_attribute_name", None) or ""} got {x!r}, which is neither True nor False '
            "(nor 'true'/'false'): its value is None, as in gokart 1.12. Pass True or False.",
            stacklevel=2,
        )
        return None


_EXPLICIT_BOOLS = {'true': True, 'false': False}


@runtime_checkable
class Serializable(Protocol):
    """What a ``SerializableParameter`` value implements: a string form for the hash and the command line."""

    def gokart_serialize(self) -> str: ...

    @classmethod
    def gokart_deserialize(cls: type[S], s: str) -> S: ...


class SerializableParameter(luigi.Parameter, Generic[S]):
    """A parameter holding any object with ``gokart_serialize()`` and ``gokart_deserialize(s)``."""

    def __init__(self, object_type: type[S], *args: Any, **kwargs: Any) -> None:
        self._object_type = object_type
        super().__init__(*args, **kwargs)

    def parse(self, s: Any) -> Any:
        if isinstance(s, self._object_type):
            return s
        return self._object_type.gokart_deserialize(s)

    def serialize(self, x: Any) -> str:
        return x.gokart_serialize()


class ZonedDateSecondParameter(luigi.Parameter):
    """A timezone-aware datetime with second precision, parsed as ISO 8601 (a trailing ``Z`` means UTC)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)

    def parse(self, s: Any) -> Any:
        if isinstance(s, datetime.datetime):
            return s
        text = s[:-1] + '+00:00' if s.endswith('Z') else s
        value = datetime.datetime.fromisoformat(text)
        if value.tzinfo is None:
            logger.warning(f'{self.__class__.__name__} is given a datetime without a timezone: {s}')
        return value

    def serialize(self, dt: Any) -> str:
        # The value a task holds is already normalized (no microseconds); a datetime serialized here
        # directly keeps its microseconds, as in gokart 1.12.
        return dt.isoformat()  # type: ignore[no-any-return]

    def normalize(self, dt: Any) -> Any:
        # Only datetimes (and objects like them) are taken, as in gokart 1.12: a string given in Python
        # raises a TypeError, None or a number an AttributeError, each with a message saying what to pass.
        try:
            return dt.replace(microsecond=0)
        except TypeError as e:
            raise TaskParameterTypeError(self._wrong_value(dt)) from e
        except AttributeError as e:
            raise TaskParameterAttributeError(self._wrong_value(dt)) from e

    def _wrong_value(self, dt: Any) -> str:
        name = getattr(self, '_attribute_name', None) or 'ZonedDateSecondParameter'
        hint = f' (parse it first: {type(self).__name__}().parse({dt!r}))' if isinstance(dt, str) else ''
        return f'{name} takes a timezone-aware datetime.datetime, not {dt!r} (a {type(dt).__name__}){hint}.'


class ParameterKwargs(TypedDict, total=False):
    """The keyword arguments every luigi parameter accepts, for typing ``**kwargs`` passed on to one."""

    significant: bool
    description: str | None
    config_path: ConfigPath | None
    positional: bool
    always_in_help: bool
    batch_method: Callable[[Iterable[Any]], Any] | None
    visibility: ParameterVisibility
