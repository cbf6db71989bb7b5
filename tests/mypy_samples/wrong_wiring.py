"""Tasks wired wrongly: each marked line must be reported."""

import luigi

from gokart.parameter import TaskInstanceParameter
from gokart.task import TaskOnKart


class MakeNumber(TaskOnKart[int]):
    value: int = luigi.IntParameter()


class MakeName(TaskOnKart[str]):
    pass


class Double(TaskOnKart[int]):
    number: TaskOnKart[int] = TaskInstanceParameter()
    rerun_count = luigi.IntParameter(default=0)

    def run(self) -> None:
        self.dump('not an int')  # E: dump of a str in a TaskOnKart[int]


MakeNumber(value='1')  # E: str for an int parameter
Double(number=MakeName())  # E: TaskOnKart[str] for TaskOnKart[int]
Double(number=MakeNumber(value=1), rerun_count='many')  # E: inferred int parameter
Double(number=MakeNumber(value=1), unknown=1)  # E: no such parameter
