"""A small pipeline for the ``gokart rekey`` tests: a chain of task-instance parameters, a diamond, a model output."""

import luigi

import gokart

RUNS: list[str] = []  # names of the tasks whose run() executed in this process


class Source(gokart.TaskOnKart[int]):
    n = luigi.IntParameter(default=1)

    def run(self):
        RUNS.append('Source')
        self.dump(self.n)


class Step(gokart.TaskOnKart[int]):
    previous = gokart.TaskInstanceParameter()

    def run(self):
        RUNS.append('Step')
        self.dump(self.load('previous') + 1)


class Both(gokart.TaskOnKart[int]):
    tasks = gokart.ListTaskInstanceParameter()

    def output(self):
        return {'sum': self.make_target('rekey/both.pkl'), 'text': self.make_target('rekey/both.txt')}

    def run(self):
        RUNS.append('Both')
        total = sum(self.load('tasks'))
        self.dump(total, 'sum')
        self.dump(str(total), 'text')


class Root(gokart.TaskOnKart[int]):
    depth = luigi.IntParameter(default=3)

    def requires(self):
        task = Source()
        for _ in range(self.depth):
            task = Step(previous=task)
        return Both(tasks=[task, Step(previous=Source(n=2))])

    def run(self):
        RUNS.append('Root')
        self.dump(self.load()['sum'])
