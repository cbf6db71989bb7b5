import luigi

from gokart.task import TaskOnKart


class UsesPositional(TaskOnKart[int]):
    value: int = luigi.IntParameter(3)
