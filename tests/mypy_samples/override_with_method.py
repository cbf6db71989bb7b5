import luigi

from gokart.task import TaskOnKart


class Base(TaskOnKart[int]):
    value: int = luigi.IntParameter(default=1)


class Child(Base):
    def value(self) -> int:  # type: ignore[override]
        return 2
