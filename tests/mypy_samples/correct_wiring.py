"""Tasks wired correctly: mypy with the gokart plugin reports nothing."""

import datetime
import enum

import luigi
from typing_extensions import assert_type

from gokart.parameter import ListTaskInstanceParameter, TaskInstanceParameter
from gokart.task import TaskOnKart


class Color(enum.Enum):
    RED = 'red'


class MakeNumber(TaskOnKart[int]):
    value: int = luigi.IntParameter()
    offset = luigi.IntParameter(default=0)  # unannotated: the type is inferred from the parameter class
    day = luigi.DateParameter(default=datetime.date(2024, 1, 1))
    color = luigi.EnumParameter(enum=Color, default=Color.RED)
    note = luigi.OptionalParameter(default=None)

    def run(self) -> None:
        self.dump(self.value + self.offset)


class MakeName(TaskOnKart[str]):
    def run(self) -> None:
        self.dump('name')


class Add(TaskOnKart[int]):
    left: TaskOnKart[int] = TaskInstanceParameter()
    right: TaskOnKart[int] = TaskInstanceParameter()
    others = ListTaskInstanceParameter(default=[])
    label: str = luigi.Parameter(default='sum')

    def run(self) -> None:
        left = self.load(self.left)
        assert_type(left, int)
        numbers = self.load([self.left, self.right])
        assert_type(numbers, list[int])
        self.dump(left + sum(numbers))


class AddMore(Add):
    """Inherits every parameter of Add and adds one."""

    factor: float = luigi.FloatParameter(default=1.0)


Add(left=MakeNumber(value=1), right=MakeNumber(value=2, offset=3, day=datetime.date(2024, 2, 1), color=Color.RED, note='x'))
AddMore(left=MakeNumber(value=1), right=MakeNumber(value=2), label='total', factor=2.5, others=[MakeName()])
AddMore(left=MakeNumber(value=1), right=MakeNumber(value=2), workspace_directory='./elsewhere/', rerun=True)
