"""The module of SPEC.md's worked hash examples B to G; its path is part of the expected output paths."""

import luigi

import gokart


class Params(gokart.TaskOnKart[str]):
    n: luigi.IntParameter = luigi.IntParameter()
    name: luigi.Parameter = luigi.Parameter(default='abc')

    def run(self):
        self.dump(f'{self.name}-{self.n}')


class Upstream(gokart.TaskOnKart[int]):
    def run(self):
        self.dump(1)


class Downstream(gokart.TaskOnKart[int]):
    task: gokart.TaskInstanceParameter = gokart.TaskInstanceParameter()

    def run(self):
        self.dump(self.load('task') + 1)


class Insig(gokart.TaskOnKart[str]):
    n: luigi.IntParameter = luigi.IntParameter()
    verbose: luigi.Parameter = luigi.Parameter(default='x', significant=False)

    def run(self):
        self.dump('insig')


class Mixed(gokart.TaskOnKart):
    task_namespace = 'ns'
    d = luigi.DateParameter()
    lst = luigi.ListParameter(default=[1, 2])
    f = luigi.FloatParameter(default=0.5)
    b = luigi.BoolParameter(default=False)

    def output(self):
        return self.make_target('data/out.csv')

    def run(self):
        import pandas as pd

        self.dump(pd.DataFrame({'a': [1, 2]}))


class WithDeps(gokart.TaskOnKart):
    def requires(self):
        return dict(a=Params(n=1, significant=False), b=Params(n=2))

    def run(self):
        self.dump(self.load('b'))


class Many(gokart.TaskOnKart):
    tasks = gokart.ListTaskInstanceParameter()

    def run(self):
        self.dump(','.join(self.load('tasks')))
