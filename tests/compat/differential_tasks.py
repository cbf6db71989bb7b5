"""Random task definitions for the differential check of ids against gokart 1.12.2 (issue 22, item 9).

``generate(seed)`` writes the Python source of a module of task classes and a list of calls
(expressions evaluated in that module) that construct tasks from them. The same source is imported
by our gokart and by gokart 1.12.2 (``differential_driver.py`` runs under each interpreter), so both
see the very same definitions; the driver reports, per call, what each gokart made of it.

What varies: every luigi and gokart parameter type with its options (significant, positional,
visibility, optional, defaults, some of them invalid), values at the edges (unicode, quotes,
nested lists/dicts/tuples, floats such as -0.0, 5e-324, inf and nan, dates at year 1 and 9999),
task-instance parameters nesting earlier tasks, ``requires()`` returning tasks, lists, dicts,
tuples and nested mixtures of them (with ``None`` and plain luigi tasks inside), inheritance,
namespaces, custom outputs, and the class-level customisations users write (an ``__init__`` that
edits ``param_kwargs``, overridden ``make_unique_id``/``to_str_params``, ``lru_cache``'d methods,
functions held in attributes), each with and without ``serialized_task_definition_check``.

Left out on purpose, because gokart 1.12.2 itself is not deterministic there (docs/ids.md):
- sets of strings (or of other objects hashed by PYTHONHASHSEED): 1.12 serializes them in hash
  order, so its ids differ between processes; ours are sorted;
- output extensions 1.12 does not know (``.jsonl``, ``.xz``, ``.lzma``): 1.12 fails to make the
  target, ours writes them (documented in docs/ids.md and README).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

HEADER = """\
import datetime
import enum
import functools
import hashlib
import os

import luigi
import luigi.date_interval
from luigi.parameter import ParameterVisibility

import gokart


class Color(enum.Enum):
    RED = 1
    GREEN = 'green'
    BLUE = 3.5


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def gokart_serialize(self):
        return f'{self.x},{self.y}'

    @classmethod
    def gokart_deserialize(cls, s):
        x, y = s.split(',')
        return cls(int(x), int(y))

    def __eq__(self, other):
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)

    def __hash__(self):
        return hash((self.x, self.y))

    def __repr__(self):  # the same text in both processes (a plain Parameter holding a Point serializes it with str)
        return f'Point({self.x}, {self.y})'


class Plain(luigi.Task):
    x = luigi.IntParameter(default=0)
    word = luigi.Parameter(default='plain')


def helper_function(value):
    return value * 2


def save_model(obj, path):
    with open(path, 'w') as f:
        f.write(str(obj))


def load_model(path):
    with open(path) as f:
        return f.read()


def chdir(path):
    os.makedirs(path, exist_ok=True)
    os.chdir(path)
    return 'chdir'


TZ_9 = datetime.timezone(datetime.timedelta(hours=9))
"""

STRINGS = [
    '',
    'a',
    'hello world',
    '日本語',
    "it's",
    'say "hi"',
    'both \' and "',
    'back\\slash',
    'tab\tnew\nline',
    '😀 emoji',
    'e\u0301',
    '\x00nul',
    'x' * 120,
    '{"json": [1, 2]}',
    '--flag',
    '  spaces  ',
    'Ünïcödé ß',
    '\u202eright-to-left',
]
INTS = [0, 1, -1, 7, 42, 2**31, 2**63, -(2**64), 10**30]
FLOATS = [
    '0.0',
    '-0.0',
    '1.0',
    '0.1',
    '1e-07',
    '1e+16',
    '1.7976931348623157e+308',
    '5e-324',
    '-2.5',
    "float('inf')",
    "float('-inf')",
    "float('nan')",
    '0.3333333333333333',
    '3',
]
DATES = [
    'datetime.date(1, 1, 1)',
    'datetime.date(9999, 12, 31)',
    'datetime.date(2024, 2, 29)',
    'datetime.date(1970, 1, 1)',
    'datetime.date(2023, 7, 4)',
]
DATETIMES = [
    'datetime.datetime(1, 1, 1)',
    'datetime.datetime(9999, 12, 31, 23, 59, 59, 999999)',
    'datetime.datetime(2024, 2, 29, 13, 45, 12, 345678)',
    'datetime.datetime(1970, 1, 1, 0, 0)',
]
ZONED = [
    'datetime.datetime(2024, 1, 2, 3, 4, 5, 678, tzinfo=datetime.timezone.utc)',
    'datetime.datetime(1999, 12, 31, 23, 59, 59, tzinfo=TZ_9)',
    "'2024-01-02T03:04:05Z'",
    "'2024-01-02T03:04:05+09:00'",
    "'2024-01-02T03:04:05.123456+00:00'",
]
TIMEDELTAS = [
    'datetime.timedelta(0)',
    'datetime.timedelta(days=1, seconds=30)',
    'datetime.timedelta(weeks=3, microseconds=5)',
    'datetime.timedelta(seconds=-1)',
]
INTERVALS = [
    'luigi.date_interval.Year(2020)',
    'luigi.date_interval.Month(2024, 2)',
    'luigi.date_interval.Date(2023, 1, 31)',
    'luigi.date_interval.Week(2021, 7)',
]
ENUMS = ['Color.RED', 'Color.GREEN', 'Color.BLUE']
CHOICES = ['a', 'b', '日本']
# Names of luigi.Task attributes that a user may take for a parameter name.
TASK_ATTRIBUTE_NAMES = ['priority', 'resources', 'disabled', 'owner_email', 'retry_count']
OUTPUT_EXTENSIONS = [
    '.pkl',
    '.txt',
    '.csv',
    '.tsv',
    '.json',
    '.ndjson',
    '.gz',
    '.parquet',
    '.feather',
    '.npz',
    '.png',
    '.jpg',
    '.ini',
    '.xml',
    '.html',
    '',
]
# Source lines of the bodies of __init__ overrides (after super().__init__), by what they do to the task.


@dataclass
class Case:
    """One generated module and the calls to make in it."""

    seed: int
    source: str
    calls: list[str] = field(default_factory=list)


@dataclass
class _Param:
    name: str
    kind: str
    declaration: str
    has_default: bool
    positional: bool
    options: dict[str, str]


@dataclass
class _Class:
    name: str
    base: str
    params: list[_Param]  # own and inherited, in declaration order
    lines: list[str]
    task_valued: bool = False  # holds task-instance parameters (so its calls nest other tasks)


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.classes: list[_Class] = []

    # ----- values ---------------------------------------------------------------------------
    def string(self) -> str:
        return repr(self.rng.choice(STRINGS))

    def nested(self, depth: int = 0) -> str:
        """A JSON-like value: scalars, lists, tuples and dicts with unicode keys, nested a few levels."""
        rng = self.rng
        roll = rng.random()
        if depth >= 3 or roll < 0.45:
            return rng.choice([self.string(), repr(rng.choice(INTS)), rng.choice(FLOATS[:10]), 'True', 'False', 'None'])
        size = rng.randint(0, 3)
        items = [self.nested(depth + 1) for _ in range(size)]
        if roll < 0.65:
            return '[' + ', '.join(items) + ']'
        if roll < 0.8:
            return '(' + ''.join(f'{item}, ' for item in items) + ')'
        return '{' + ', '.join(f'{self.string()}: {item}' for item in items) + '}'

    def list_value(self) -> str:
        return '[' + ', '.join(self.nested(1) for _ in range(self.rng.randint(0, 4))) + ']'

    def dict_value(self) -> str:
        return '{' + ', '.join(f'{self.string()}: {self.nested(1)}' for _ in range(self.rng.randint(0, 4))) + '}'

    def tuple_value(self) -> str:
        inner = [self.nested(2) for _ in range(self.rng.randint(0, 3))]
        return '(' + ''.join(f'{item}, ' for item in inner) + ')'

    def int_set(self) -> str:
        members = self.rng.sample([0, 1, 2, 3, 8, 16, 40, -5, 1000], self.rng.randint(1, 4))
        return ('frozenset(' if self.rng.random() < 0.3 else 'set(') + repr(members) + ')'

    def task_call(self, below: int | None = None, depth: int = 0) -> str | None:
        """A call constructing one of the classes generated so far, or None when there is none."""
        pool = self.classes if below is None else self.classes[:below]
        if depth > 2:
            pool = [c for c in pool if not c.task_valued]
        if not pool:
            return None
        return self.valid_call(self.rng.choice(pool), depth + 1)

    def value(self, kind: str, options: dict[str, str], depth: int = 0) -> str:
        rng = self.rng
        optional = kind.startswith('Optional')
        if optional and rng.random() < 0.3:
            return 'None'
        base = kind.removeprefix('Optional')
        if base in ('Parameter', 'StrParameter'):
            return rng.choice([self.string(), self.string(), repr(rng.choice(INTS)), self.int_set(), self.nested()])
        if base == 'IntParameter':
            return repr(rng.choice(INTS))
        if base == 'FloatParameter':
            return rng.choice(FLOATS)
        if base == 'BoolParameter':
            return rng.choice(['True', 'False'])
        if kind == 'ExplicitBoolParameter':
            return rng.choice(['True', 'False', 'True', 'False', 'None', '0', '1', "'true'", "'False'", "'yes'", "''"])
        if base == 'DateParameter':
            return rng.choice(DATES)
        if base == 'MonthParameter':
            return rng.choice(DATES)
        if base == 'YearParameter':
            return rng.choice(DATES)
        if base in ('DateHourParameter', 'DateMinuteParameter', 'DateSecondParameter'):
            return rng.choice(DATETIMES)
        if kind == 'ZonedDateSecondParameter':
            return rng.choice(ZONED)
        if base == 'TimeDeltaParameter':
            return rng.choice(TIMEDELTAS)
        if base == 'DateIntervalParameter':
            return rng.choice(INTERVALS)
        if base == 'ListParameter':
            return self.list_value()
        if base == 'TupleParameter':
            return self.tuple_value()
        if base == 'DictParameter':
            return self.dict_value()
        if base == 'EnumParameter':
            return rng.choice(ENUMS)
        if base == 'EnumListParameter':
            return '[' + ', '.join(rng.choice(ENUMS) for _ in range(rng.randint(0, 3))) + ']'
        if base == 'ChoiceParameter':
            return repr(rng.choice(CHOICES))
        if base == 'ChoiceListParameter':
            return repr(rng.sample(CHOICES, rng.randint(0, 3)))
        if base == 'NumericalParameter':
            return repr(rng.choice([0, 1, 5, 99, 100, 101, -1]))
        if base == 'PathParameter':
            return repr(rng.choice(['.', 'some/dir', '/tmp', 'a b/ü.txt', '..']))
        if kind == 'TaskParameter':
            return rng.choice([c.name for c in self.classes] or ['Plain'])
        if kind == 'SerializableParameter':
            return f'Point({rng.randint(-3, 9)}, {rng.randint(0, 99)})'
        if kind == 'TaskInstanceParameter':
            return self.task_call(depth=depth) or 'None'
        if kind == 'ListTaskInstanceParameter':
            calls = [self.task_call(depth=depth) for _ in range(rng.randint(0, 3))]
            return '[' + ', '.join(c for c in calls if c) + ']'
        raise AssertionError(kind)

    # ----- parameters -----------------------------------------------------------------------
    KINDS = [
        'Parameter',
        'StrParameter',
        'IntParameter',
        'FloatParameter',
        'BoolParameter',
        'DateParameter',
        'MonthParameter',
        'YearParameter',
        'DateHourParameter',
        'DateMinuteParameter',
        'DateSecondParameter',
        'TimeDeltaParameter',
        'DateIntervalParameter',
        'ListParameter',
        'TupleParameter',
        'DictParameter',
        'EnumParameter',
        'EnumListParameter',
        'ChoiceParameter',
        'ChoiceListParameter',
        'NumericalParameter',
        'PathParameter',
        'TaskParameter',
        'OptionalParameter',
        'OptionalStrParameter',
        'OptionalIntParameter',
        'OptionalFloatParameter',
        'OptionalBoolParameter',
        'OptionalListParameter',
        'OptionalDictParameter',
        'OptionalTupleParameter',
        'OptionalChoiceParameter',
        'OptionalNumericalParameter',
        'OptionalPathParameter',
        'ExplicitBoolParameter',
        'SerializableParameter',
        'ZonedDateSecondParameter',
        'TaskInstanceParameter',
        'TaskInstanceParameter',
        'ListTaskInstanceParameter',
    ]
    GOKART_KINDS = frozenset(
        {'ExplicitBoolParameter', 'SerializableParameter', 'ZonedDateSecondParameter', 'TaskInstanceParameter', 'ListTaskInstanceParameter'}
    )

    def parameter(self, name: str) -> _Param:
        rng = self.rng
        kind = rng.choice(self.KINDS)
        module = 'gokart' if kind in self.GOKART_KINDS else 'luigi'
        options: dict[str, str] = {}
        arguments: list[str] = []
        if kind == 'SerializableParameter':
            arguments.append('object_type=Point')
        if kind in ('EnumParameter', 'EnumListParameter'):
            arguments.append('enum=Color')
        if kind in ('ChoiceParameter', 'ChoiceListParameter', 'OptionalChoiceParameter'):
            arguments.append(f'choices={CHOICES!r}')
        if kind in ('NumericalParameter', 'OptionalNumericalParameter'):
            arguments.append(f'var_type={rng.choice(["int", "float"])}, min_value=0, max_value=100')
        if kind in ('PathParameter', 'OptionalPathParameter'):
            if rng.random() < 0.4:
                arguments.append('absolute=True')
            if rng.random() < 0.25:
                arguments.append('exists=True')
                options['exists'] = 'True'
        if kind == 'TaskInstanceParameter' and rng.random() < 0.3:
            arguments.append('expected_type=gokart.TaskOnKart')
        has_default = rng.random() < 0.6
        if kind == 'TaskInstanceParameter' and rng.random() < 0.25:
            has_default = True
            arguments.append('default=None')  # 1.12 accepts it: the task then requires nothing through it
        elif has_default:
            if options.get('exists') and rng.random() < 0.6:
                default = repr('does/not/exist')  # invalid, and fine as long as every call passes a value
            elif kind in ('ChoiceParameter',) and rng.random() < 0.3:
                default = repr('not a choice')
            elif kind in ('TaskInstanceParameter', 'ListTaskInstanceParameter'):
                default = self.value(kind, options, depth=2)
            else:
                default = self.value(kind, options)
            arguments.append(f'default={default}')
        if rng.random() < 0.25:
            arguments.append('significant=False')
        positional = rng.random() > 0.25
        if not positional:
            arguments.append('positional=False')
        if rng.random() < 0.15:
            arguments.append(f'visibility=ParameterVisibility.{rng.choice(["HIDDEN", "PRIVATE"])}')
        if rng.random() < 0.1:
            arguments.append(f'description={self.string()}')
        declaration = f'{name} = {module}.{kind}({", ".join(arguments)})'
        return _Param(name, kind, declaration, has_default, positional, options)

    # ----- classes --------------------------------------------------------------------------
    def task_class(self, index: int) -> _Class:
        rng = self.rng
        name = f'S{self.seed}T{index}'
        parent: _Class | None = None
        if self.classes and rng.random() < 0.3:
            parent = rng.choice(self.classes)
        base = parent.name if parent else 'gokart.TaskOnKart'
        params = list(parent.params) if parent else []
        own: list[_Param] = []
        taken = {p.name for p in params}
        for k in range(rng.choice([0, 1, 1, 2, 2, 3, 4])):
            param_name = f'p{index}_{k}'
            if rng.random() < 0.08:
                param_name = rng.choice(TASK_ATTRIBUTE_NAMES)
            if param_name in taken:
                continue
            taken.add(param_name)
            own.append(self.parameter(param_name))
        lines = [f'class {name}({base}):']
        if rng.random() < 0.25:
            lines.append(f'    task_namespace = {rng.choice(["ns", "ns.inner", "日本", ""])!r}')
        lines += [f'    {p.declaration}' for p in own]
        # Replace the parameters a subclass re-declares, keeping their place (luigi orders by creation).
        params = params + own
        cls = _Class(name, base, params, lines)
        cls.task_valued = any(p.kind in ('TaskInstanceParameter', 'ListTaskInstanceParameter') for p in params) or bool(
            parent and parent.task_valued
        )
        self.requires_method(cls, index)
        self.output_method(cls)
        self.customisations(cls, index)
        if len(lines) == 1:
            lines.append('    pass')
        return cls

    def requirement_structure(self, index: int, depth: int = 0) -> str:
        rng = self.rng
        roll = rng.random()
        if depth >= 2 or roll < 0.35:
            leaf = rng.random()
            if leaf < 0.1:
                return 'None'
            if leaf < 0.2:
                return f'Plain(x={rng.choice(INTS[:5])})'
            return self.task_call(below=index, depth=1) or 'Plain()'
        items = [self.requirement_structure(index, depth + 1) for _ in range(rng.randint(0, 3))]
        if roll < 0.6:
            return '[' + ', '.join(items) + ']'
        if roll < 0.75:
            return '(' + ''.join(f'{item}, ' for item in items) + ')'
        return '{' + ', '.join(f'{f"r{i}"!r}: {item}' for i, item in enumerate(items)) + '}'

    def requires_method(self, cls: _Class, index: int) -> None:
        rng = self.rng
        roll = rng.random()
        if roll < 0.5 or index == 0:
            return  # the default requires(): the task-instance parameters
        task_params = [p.name for p in cls.params if p.kind == 'TaskInstanceParameter']
        if roll < 0.6 and task_params:
            body = f'[self.{rng.choice(task_params)}, {self.requirement_structure(index)}]'
        elif roll < 0.7:
            body = 'super().requires()'  # the parent's, or TaskOnKart's default
        else:
            body = self.requirement_structure(index)
        cls.lines += ['    def requires(self):', f'        return {body}']

    def output_method(self, cls: _Class) -> None:
        rng = self.rng
        roll = rng.random()
        if roll < 0.45:
            return

        def target() -> str:
            extension = rng.choice(OUTPUT_EXTENSIONS)
            directory = rng.choice(['', 'out/', 'deep/er/', 'ü/'])
            use_unique_id = '' if rng.random() < 0.8 else ', use_unique_id=False'
            return f"self.make_target('{directory}{cls.name.lower()}_{rng.randint(0, 9)}{extension}'{use_unique_id})"

        if roll < 0.7:
            body = target()
        elif roll < 0.8:
            body = '{' + ', '.join(f"'o{i}': {target()}" for i in range(rng.randint(1, 3))) + '}'
        elif roll < 0.85:
            body = '[' + ', '.join(target() for _ in range(rng.randint(1, 2))) + ']'
        elif roll < 0.9:
            body = f"self.make_model_target('model/{cls.name}.zip', save_function=save_model, load_function=load_model)"
        elif roll < 0.95:
            body = 'self.make_large_data_frame_target()'
        else:
            body = 'self.make_target()'
        cls.lines += ['    def output(self):', f'        return {body}']

    def customisations(self, cls: _Class, index: int) -> None:
        rng = self.rng
        lines = cls.lines
        if rng.random() < 0.3:
            lines += ['    def run(self):', f'        self.dump({self.nested()})']
        if rng.random() < 0.1:
            lines += ['    @functools.lru_cache(maxsize=None)', '    def cached_helper(self):', '        return 1']
        if rng.random() < 0.1:
            lines += ['    held_function = helper_function']
        if rng.random() < 0.06:
            lines += ['    held_static = staticmethod(helper_function)']
        if rng.random() < 0.06:
            lines += [
                '    def to_str_params(self, only_significant=False, only_public=False):',
                '        params = dict(super().to_str_params(only_significant=only_significant, only_public=only_public))',
                "        params['extra'] = 'from an override'",
                '        return params',
            ]
        if rng.random() < 0.06:
            lines += ['    def make_unique_id(self):', '        return hashlib.md5(super().make_unique_id().encode()).hexdigest()']
        if rng.random() < 0.1:
            significant = [p for p in cls.params if p.kind not in ('TaskInstanceParameter', 'ListTaskInstanceParameter')]
            init = ['    def __init__(self, *args, **kwargs):', '        super().__init__(*args, **kwargs)']
            if significant and rng.random() < 0.6:
                changed = rng.choice(significant)
                init.append(f'        self.param_kwargs[{changed.name!r}] = {self.value(changed.kind, changed.options)}')
            else:
                held = self.task_call(below=index, depth=2)
                if held is not None:
                    init.append(f'        self.held_task = {held}')
            lines += init
        if rng.random() < 0.05:
            lines += ['    @property', '    def a_property(self):', '        return 1']

    # ----- calls ----------------------------------------------------------------------------
    def valid_arguments(self, cls: _Class, depth: int = 0) -> dict[str, str]:
        """Every required parameter and some of the others, by name: the source of each value."""
        arguments = {}
        for param in cls.params:
            needed = not param.has_default or param.options.get('exists')
            if needed or self.rng.random() < 0.4:
                arguments[param.name] = self.value(param.kind, param.options, depth)
        return arguments

    def valid_call(self, cls: _Class, depth: int = 0, **extra: str) -> str:
        arguments = {**self.valid_arguments(cls, depth), **extra}
        return f'{cls.name}({", ".join(f"{name}={value}" for name, value in arguments.items())})'

    def calls(self, cls: _Class) -> list[str]:
        rng = self.rng
        calls = [self.valid_call(cls)]
        if rng.random() < 0.5:
            calls.append(self.valid_call(cls))
        if rng.random() < 0.2:
            calls.append(self.valid_call(cls, serialized_task_definition_check='True'))
        if rng.random() < 0.15:
            calls.append(self.positional_call(cls))
        if rng.random() < 0.15 and cls.params:
            # One parameter given a value of another kind: the construction may fail; its exception type is compared.
            param = rng.choice(cls.params)
            other = rng.choice([k for k in self.KINDS if k not in ('TaskInstanceParameter', 'ListTaskInstanceParameter', 'TaskParameter')])
            calls.append(self.valid_call(cls, **{param.name: self.value(other, {})}))
        if rng.random() < 0.1 and any(not p.has_default for p in cls.params):
            arguments = self.valid_arguments(cls)
            arguments.pop(rng.choice([p.name for p in cls.params if not p.has_default]))
            calls.append(f'{cls.name}({", ".join(f"{name}={value}" for name, value in arguments.items())})')  # a missing parameter
        if rng.random() < 0.1:
            calls.append(self.valid_call(cls, significant='False', cache_unique_id=rng.choice(['True', 'False'])))
        return calls

    def positional_call(self, cls: _Class) -> str:
        """Every positional parameter by position, TaskOnKart's built-in ones (1.12's 19) first."""
        builtins = [
            "'./resources/'",
            "'./resources/tmp/'",
            'False',
            'False',
            'False',
            self.rng.choice(['False', 'True']),
            'False',
            self.rng.choice(['True', 'False']),
            "('random.seed',)",
            '-42497368',
            'None',
            'None',
            '180',
            'False',
            'True',
            'True',
            'True',
            'True',
            'False',
        ]
        own = []
        keywords = []
        for param in cls.params:
            value = self.value(param.kind, param.options)
            if param.positional and not keywords:
                own.append(value)
            else:
                keywords.append(f'{param.name}={value}')
        return f'{cls.name}({", ".join(builtins + own + keywords)})'


def generate(seed: int) -> Case:
    """The module source and calls of seed ``seed`` (the same for the same seed, on every machine)."""
    generator = _Generator(seed)
    calls: list[str] = []
    for index in range(generator.rng.randint(3, 7)):
        cls = generator.task_class(index)
        generator.classes.append(cls)
        calls += generator.calls(cls)
    if generator.rng.random() < 0.15:
        calls.append("chdir('elsewhere')")  # PathParameter(absolute=True) defaults then name the new directory
        calls += [generator.valid_call(c) for c in generator.classes[-2:]]
    body = '\n\n\n'.join('\n'.join(c.lines) for c in generator.classes)
    return Case(seed, f'{HEADER}\n\n{body}\n', calls)
