import luigi

from gokart.task import TaskOnKart


class NeedsValue(TaskOnKart[int]):
    value: int = luigi.IntParameter()
    scale: int = luigi.IntParameter(default=1)


NeedsValue(scale=2)
