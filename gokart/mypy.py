"""mypy plugin that type-checks how gokart tasks are wired together.

Enable it with ``plugins = gokart.mypy:plugin`` in ``mypy.ini`` or ``plugins = ["gokart.mypy"]``
under ``[tool.mypy]`` in ``pyproject.toml``. It does two things:

* every class deriving from ``gokart.TaskOnKart`` gets a synthesized keyword-only ``__init__``
  whose arguments are the task's parameters (inherited ones included), so that
  ``MyTask(foo='x')`` is checked against ``foo: int = luigi.IntParameter()``;
* a parameter call such as ``luigi.IntParameter(default=1)`` evaluates to the type of its
  ``default=`` (``Any`` without one), which is what lets ``foo: int = luigi.IntParameter()``
  type-check at all.

Options are read from ``[tool.gokart-mypy]`` in ``pyproject.toml`` only:
``disallow_missing_parameters = true`` makes parameters without ``default=`` required.
"""

from __future__ import annotations

import re
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from mypy.nodes import (
    ARG_NAMED,
    ARG_NAMED_OPT,
    ARG_POS,
    ARG_STAR,
    Argument,
    AssignmentStmt,
    CallExpr,
    Context,
    Decorator,
    Expression,
    FuncDef,
    IndexExpr,
    NameExpr,
    OverloadedFuncDef,
    RefExpr,
    TempNode,
    TypeApplication,
    TypeInfo,
    Var,
)
from mypy.options import Options
from mypy.plugin import ClassDefContext, FunctionContext, Plugin, ReportConfigContext, SemanticAnalyzerPluginInterface
from mypy.plugins.common import add_method_to_class, deserialize_and_fixup_type
from mypy.semanal_shared import has_placeholder
from mypy.types import AnyType, Instance, NoneType, Type, TypeOfAny, UnionType

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - mypy itself depends on tomli for these versions
    import tomli as tomllib

__all__ = ['TaskOnKartPlugin', 'plugin']

TASK_ON_KART_FULLNAME: Final = 'gokart.task.TaskOnKart'
LUIGI_TASK_FULLNAME: Final = 'luigi.task.Task'
METADATA_KEY: Final = 'gokart'
PARAMETER_FULLNAME_PATTERN: Final = re.compile(r'^(gokart|luigi)(\.parameter)?\.\w*Parameter$')

POSITIONAL_ARGUMENT_MESSAGE: Final = (
    'Positional arguments are not allowed for parameters when using the mypy plugin. '
    "Update your code to use named arguments, like luigi.Parameter(default='foo') instead of luigi.Parameter('foo')"
)
OVERRIDE_MESSAGE: Final = 'TaskOnKart attribute may only be overridden by another attribute'

# Parameter class name (without an ``Optional`` prefix) -> fully qualified type of its value.
_VALUE_TYPE_BY_PARAMETER: Final[dict[str, str]] = {
    'Parameter': 'builtins.str',
    'StrParameter': 'builtins.str',
    'IntParameter': 'builtins.int',
    'FloatParameter': 'builtins.float',
    'BoolParameter': 'builtins.bool',
    'ExplicitBoolParameter': 'builtins.bool',
    'DateParameter': 'datetime.date',
    'MonthParameter': 'datetime.date',
    'YearParameter': 'datetime.date',
    'DateHourParameter': 'datetime.datetime',
    'DateMinuteParameter': 'datetime.datetime',
    'DateSecondParameter': 'datetime.datetime',
    'ZonedDateSecondParameter': 'datetime.datetime',
    'TimeDeltaParameter': 'datetime.timedelta',
    'DictParameter': 'builtins.dict',
    'ListParameter': 'builtins.tuple',
    'TupleParameter': 'builtins.tuple',
    'PathParameter': 'pathlib.Path',
}
# Parameters whose value type is given by one of their own keyword arguments.
_TYPE_ARGUMENT_BY_PARAMETER: Final[dict[str, str]] = {
    'NumericalParameter': 'var_type',
    'ChoiceParameter': 'var_type',
    'EnumParameter': 'enum',
}


@dataclass(frozen=True)
class PluginConfig:
    """Settings from ``[tool.gokart-mypy]``."""

    disallow_missing_parameters: bool = False

    @classmethod
    def from_config_file(cls, config_file: str | None) -> PluginConfig:
        """Read the settings; only pyproject.toml can hold them, other config files give a warning."""
        if config_file is None:
            return cls()
        if not config_file.endswith('.toml'):
            warnings.warn('gokart mypy plugin can be configured by pyproject.toml', stacklevel=1)
            return cls()
        with open(config_file, 'rb') as f:
            section = tomllib.load(f).get('tool', {}).get('gokart-mypy', {})
        disallow = section.get('disallow_missing_parameters', False)
        if not isinstance(disallow, bool):
            raise ValueError('disallow_missing_parameters must be a boolean value')
        return cls(disallow_missing_parameters=disallow)


@dataclass
class TaskParameter:
    """One parameter of a task class as it appears in the synthesized ``__init__``."""

    name: str
    type: Type
    has_default: bool
    line: int
    column: int

    def to_argument(self, required: bool) -> Argument:
        kind = ARG_NAMED if required else ARG_NAMED_OPT
        return Argument(Var(self.name, self.type), self.type, None, kind)

    def serialize(self) -> dict[str, Any]:
        return {'name': self.name, 'type': self.type.serialize(), 'has_default': self.has_default, 'line': self.line, 'column': self.column}

    @classmethod
    def deserialize(cls, data: dict[str, Any], api: SemanticAnalyzerPluginInterface) -> TaskParameter:
        return cls(data['name'], deserialize_and_fixup_type(data['type'], api), data['has_default'], data['line'], data['column'])


# The __init__ this plugin generated for each class, to tell it apart from one the user wrote.
_GENERATED_INITS: dict[str, FuncDef | Decorator] = {}


class TaskOnKartPlugin(Plugin):
    """Synthesizes ``__init__`` for TaskOnKart subclasses and types parameter calls."""

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self._config = PluginConfig.from_config_file(options.config_file)

    def report_config_data(self, ctx: ReportConfigContext) -> dict[str, bool]:
        # mypy's incremental cache must be invalidated when the settings change.
        return {'disallow_missing_parameters': self._config.disallow_missing_parameters}

    def get_base_class_hook(self, fullname: str) -> Callable[[ClassDefContext], None] | None:
        # The hook is asked with the name of the *direct* base, so a user base class deriving from
        # TaskOnKart must be recognised through its MRO; luigi.Task covers TaskOnKart itself.
        if fullname == LUIGI_TASK_FULLNAME or _is_task_on_kart_name(self, fullname):
            return self._transform_task_class
        return None

    def get_function_hook(self, fullname: str) -> Callable[[FunctionContext], Type] | None:
        if PARAMETER_FULLNAME_PATTERN.match(fullname):
            return _parameter_call_type
        return None

    def _transform_task_class(self, ctx: ClassDefContext) -> None:
        if _derives_from_task_on_kart(ctx.cls.info):
            TaskClassTransformer(ctx, self._config).transform()


def plugin(version: str) -> type[TaskOnKartPlugin]:
    """Entry point that mypy calls; the plugin does not depend on the mypy version."""
    return TaskOnKartPlugin


class TaskClassTransformer:
    """Collects the parameters of one task class and adds the ``__init__`` built from them."""

    def __init__(self, ctx: ClassDefContext, config: PluginConfig) -> None:
        self._ctx = ctx
        self._api = ctx.api
        self._info = ctx.cls.info
        self._config = config

    def transform(self) -> None:
        inherited = self._collect_inherited()
        own = self._collect_own()
        if inherited is None or own is None:
            # Some type is not analysed yet (forward reference or unprocessed base): try again later.
            if not self._api.final_iteration:
                self._api.defer()
            return
        removed = self._report_non_attribute_overrides(inherited)
        self._info.metadata[METADATA_KEY] = {'parameters': [p.serialize() for p in own], 'removed': removed}

        parameters = {name: p for name, p in inherited.items() if name not in removed}
        for p in own:
            parameters.pop(p.name, None)  # a redefinition moves to the child's position
            parameters[p.name] = p
        if self._info.fullname != TASK_ON_KART_FULLNAME and not self._defines_own_init():
            self._add_init(list(parameters.values()))

    def _add_init(self, parameters: list[TaskParameter]) -> None:
        required = self._config.disallow_missing_parameters
        arguments = [p.to_argument(required and not p.has_default) for p in parameters]
        previous = self._info.names.get('__init__')
        generated = _GENERATED_INITS.get(self._info.fullname)
        if previous is not None and generated is not None and previous.node is generated:
            # This hook runs again after a deferral: replace our own earlier result.
            del self._info.names['__init__']
            self._ctx.cls.defs.body.remove(generated)
        func = add_method_to_class(self._api, self._ctx.cls, '__init__', arguments, NoneType())
        _GENERATED_INITS[self._info.fullname] = func
        # luigi.Task is a dataclass_transform, so mypy's dataclasses plugin later replaces any
        # plugin-generated __init__ by one built from annotated attributes only. Marking ours as
        # user-written keeps it (and with it unannotated parameters and disallow_missing_parameters).
        self._info.names['__init__'].plugin_generated = False

    def _collect_inherited(self) -> dict[str, TaskParameter] | None:
        parameters: dict[str, TaskParameter] = {}
        # Farthest base first, so that nearer classes override what they redefine.
        for base in reversed(self._info.mro[1:]):
            if not _derives_from_task_on_kart(base):
                continue
            data = base.metadata.get(METADATA_KEY)
            if data is None:
                return None
            for name in data['removed']:
                parameters.pop(name, None)
            for item in data['parameters']:
                parameter = TaskParameter.deserialize(item, self._api)
                parameters.pop(parameter.name, None)
                parameters[parameter.name] = parameter
        return parameters

    def _collect_own(self) -> list[TaskParameter] | None:
        parameters: list[TaskParameter] = []
        for stmt in self._ctx.cls.defs.body:
            call = _parameter_call(stmt)
            if call is None:
                continue
            assert isinstance(stmt, AssignmentStmt)
            lvalue = stmt.lvalues[0]
            assert isinstance(lvalue, NameExpr)
            if any(kind in (ARG_POS, ARG_STAR) for kind in call.arg_kinds):
                self._fail(POSITIONAL_ARGUMENT_MESSAGE, call)
            if stmt.unanalyzed_type is not None and stmt.type is not None:
                value_type: Type = stmt.type
                if isinstance(value_type, Instance):
                    # ``x: TaskInstanceParameter[TaskOnKart[int]] = ...`` (the form pyright understands) holds a TaskOnKart[int].
                    value_type = _declared_value_type(value_type) or value_type
            else:
                value_type = _infer_value_type(call, self._api)
            if has_placeholder(value_type):
                return None
            parameters.append(TaskParameter(lvalue.name, value_type, 'default' in call.arg_names, stmt.line, stmt.column))
        return parameters

    def _report_non_attribute_overrides(self, inherited: dict[str, TaskParameter]) -> list[str]:
        """Parameters that this class replaces by a method, property or plain value stop being parameters."""
        removed = []
        own_parameter_names = {lvalue.name for stmt in self._ctx.cls.defs.body if _parameter_call(stmt) for lvalue in _name_lvalues(stmt)}
        for name in inherited:
            symbol = self._info.names.get(name)
            if symbol is None or name in own_parameter_names or symbol.plugin_generated:
                continue
            node = symbol.node
            if isinstance(node, FuncDef | Decorator | OverloadedFuncDef):
                self._fail(OVERRIDE_MESSAGE, node)
                removed.append(name)
            elif isinstance(node, Var) and _assigns_plain_value(self._ctx.cls.defs.body, name):
                removed.append(name)
        return removed

    def _defines_own_init(self) -> bool:
        symbol = self._info.names.get('__init__')
        return symbol is not None and not symbol.plugin_generated and symbol.node is not _GENERATED_INITS.get(self._info.fullname)

    def _fail(self, message: str, context: Context) -> None:
        self._api.fail(message, context)


def _parameter_call_type(ctx: FunctionContext) -> Type:
    """``SomeParameter(default=x)`` has the type of ``x``; without ``default=`` it is ``Any``.

    A subscripted call, ``TaskInstanceParameter[TaskOnKart[int]]()``, has the value type it names.
    """
    if isinstance(ctx.context, CallExpr) and isinstance(ctx.context.callee, IndexExpr) and isinstance(ctx.default_return_type, Instance):
        value_type = _declared_value_type(ctx.default_return_type)
        if value_type is not None:
            return value_type
    for names, types in zip(ctx.arg_names, ctx.arg_types, strict=True):
        for name, arg_type in zip(names, types, strict=True):
            if name == 'default':
                return arg_type
    return AnyType(TypeOfAny.special_form)


def _declared_value_type(parameter: Instance) -> Type | None:
    """``T`` of a ``luigi.Parameter[T]`` instance type (``list[X]`` for ``ListTaskInstanceParameter[X]``)."""
    from mypy.maptype import map_instance_to_supertype

    for base in parameter.type.mro:
        if base.fullname == 'luigi.parameter.Parameter' and base.defn.type_vars:
            mapped = map_instance_to_supertype(parameter, base)
            return mapped.args[0] if mapped.args else None
    return None


def _is_task_on_kart_name(plugin: Plugin, fullname: str) -> bool:
    symbol = plugin.lookup_fully_qualified(fullname)
    return symbol is not None and isinstance(symbol.node, TypeInfo) and _derives_from_task_on_kart(symbol.node)


def _derives_from_task_on_kart(info: TypeInfo) -> bool:
    return any(base.fullname == TASK_ON_KART_FULLNAME for base in info.mro)


def _parameter_call(stmt: object) -> CallExpr | None:
    """The parameter call of ``name = luigi.XParameter(...)`` (annotated or not), else None."""
    if not isinstance(stmt, AssignmentStmt) or len(stmt.lvalues) != 1 or not isinstance(stmt.lvalues[0], NameExpr):
        return None
    call = stmt.rvalue
    if isinstance(call, CallExpr) and PARAMETER_FULLNAME_PATTERN.match(_parameter_class_name(call)):
        return call
    return None


def _parameter_class_name(call: CallExpr) -> str:
    """Full name of the class called: ``luigi.IntParameter(...)``, or ``TaskInstanceParameter[...](...)`` subscripted."""
    callee = call.callee.base if isinstance(call.callee, IndexExpr) else call.callee
    return (callee.fullname or '') if isinstance(callee, RefExpr) else ''


def _subscript_types(call: CallExpr) -> list[Type]:
    """The type arguments of a subscripted parameter class, ``[TaskOnKart[int]]``; empty when not subscripted."""
    if isinstance(call.callee, IndexExpr) and isinstance(call.callee.analyzed, TypeApplication):
        return list(call.callee.analyzed.types)
    return []


def _name_lvalues(stmt: object) -> list[NameExpr]:
    assert isinstance(stmt, AssignmentStmt)
    return [lvalue for lvalue in stmt.lvalues if isinstance(lvalue, NameExpr)]


def _assigns_plain_value(body: list[Any], name: str) -> bool:
    for stmt in body:
        if isinstance(stmt, AssignmentStmt) and any(lvalue.name == name for lvalue in _name_lvalues(stmt)):
            return not isinstance(stmt.rvalue, TempNode)  # ``name: T`` alone keeps the parameter
    return False


def _infer_value_type(call: CallExpr, api: SemanticAnalyzerPluginInterface) -> Type:
    """The value type of an unannotated parameter, from the parameter class (see SPEC: mypy plugin)."""
    class_name = _parameter_class_name(call).rsplit('.', 1)[-1]
    declared = _subscript_types(call)
    if len(declared) == 1:  # TaskInstanceParameter[TaskOnKart[int]]() names its value type
        return api.named_type('builtins.list', declared) if class_name == 'ListTaskInstanceParameter' else declared[0]
    optional = class_name.startswith('Optional')
    if optional:
        class_name = class_name[len('Optional') :]
    value_type = _value_type_of(class_name, call, api)
    if optional and not isinstance(value_type, AnyType):
        return UnionType([value_type, NoneType()])
    return value_type


def _value_type_of(class_name: str, call: CallExpr, api: SemanticAnalyzerPluginInterface) -> Type:
    any_type = AnyType(TypeOfAny.special_form)
    if class_name in ('TaskInstanceParameter', 'ListTaskInstanceParameter'):
        task = api.named_type_or_none(TASK_ON_KART_FULLNAME, [any_type])
        if task is None:
            return any_type
        return api.named_type('builtins.list', [task]) if class_name.startswith('List') else task
    if class_name in _TYPE_ARGUMENT_BY_PARAMETER:
        return _type_from_class_expression(_keyword_argument(call, _TYPE_ARGUMENT_BY_PARAMETER[class_name]))
    fullname = _VALUE_TYPE_BY_PARAMETER.get(class_name)
    if fullname is None:
        return any_type
    info = api.lookup_fully_qualified_or_none(fullname)
    if info is None or not isinstance(info.node, TypeInfo):
        return any_type  # e.g. datetime not imported anywhere in this build
    return Instance(info.node, [any_type] * len(info.node.defn.type_vars))


def _keyword_argument(call: CallExpr, name: str) -> Expression | None:
    for arg_name, arg in zip(call.arg_names, call.args, strict=True):
        if arg_name == name:
            return arg
    return None


def _type_from_class_expression(expr: Expression | None) -> Type:
    """``var_type=int`` or ``enum=Color`` refer to a class: its instances are the values."""
    if isinstance(expr, RefExpr) and isinstance(expr.node, TypeInfo):
        return Instance(expr.node, [AnyType(TypeOfAny.special_form)] * len(expr.node.defn.type_vars))
    return AnyType(TypeOfAny.special_form)


# gokart 1.12's names for the plugin's parts, for code that imports them.
METADATA_TAG: Final = METADATA_KEY
PARAMETER_FULLNAME_MATCHER: Final = PARAMETER_FULLNAME_PATTERN
PARAMETER_TMP_MATCHER: Final = re.compile(r'^\w*Parameter$')
"""A parameter class's short name, before mypy has resolved the full one."""
TaskOnKartPluginOptions = PluginConfig
TaskOnKartAttribute = TaskParameter
TaskOnKartTransformer = TaskClassTransformer


class PluginOptions(Enum):
    """The settings ``[tool.gokart-mypy]`` accepts (see ``PluginConfig``)."""

    DISALLOW_MISSING_PARAMETERS = 'disallow_missing_parameters'


def is_parameter_call(expr: Expression) -> bool:
    """Whether ``expr`` calls a luigi or gokart parameter class, like ``luigi.IntParameter(default=1)``."""
    return isinstance(expr, CallExpr) and bool(PARAMETER_FULLNAME_PATTERN.match(_parameter_class_name(expr)))
