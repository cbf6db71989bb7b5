"""Typical user code type-checks with plain mypy too: luigi's parameters are typed descriptors."""

import luigi
from typing_extensions import assert_type

from gokart.task import TaskOnKart


class MakeNumber(TaskOnKart[int]):
    value = luigi.IntParameter(default=1)

    def run(self) -> None:
        assert_type(self.value, int)
        self.dump(self.value)


class Double(TaskOnKart[int]):
    def requires(self) -> TaskOnKart[int]:
        return MakeNumber(value=2)

    def run(self) -> None:
        number = self.load(MakeNumber(value=2))
        assert_type(number, int)
        numbers = self.load([MakeNumber(value=1), MakeNumber(value=2)])
        assert_type(numbers, list[int])
        self.dump(number * 2)


Double()
MakeNumber(value=3)
