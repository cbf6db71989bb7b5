"""What frame contracts (``gokart.Schema``) cost a plan: a DAG of 2,000 frame tasks that declare them. Ours only.

    python contracts.py --n 2000 [--rows 10000000]

The DAG: ``n / 2`` ``Source(i)`` tasks, each read by a ``Feature(i)``, all read by one root; every
task declares its output schema and the consumers their input schemas; outputs are parquet. The
same DAG is built once more with classes that declare nothing. Measured in one process:
- warm_plan_plain: ``gokart.build`` of a new root over the undeclared DAG, all cached (only the root runs);
- warm_plan_declared: the same over the declared DAG: what a user with contracts pays, checks included;
- contract_check: comparing every edge of the declared DAG (``check_contracts`` with nothing cached,
  so each of the 2,000 tasks is looked up and every declared edge compared; no file is read);
- footer_check: the cached outputs the warm build uses (``n / 2`` parquet footers) against their schemas,
  as a new process reads them; footer_check_again: the same in the same process, files unchanged (a
  notebook's next build: each file's stat, no footer read).
The goal (issue 36): contract_check under 5 % of warm_plan_plain (``contract_share``).
With ``--rows``, a parquet output of that many rows is written and its columns read from its footer:
``footer_bytes_read`` against ``footer_file_size`` (counted, not timed).
"""

from __future__ import annotations

import argparse
import time

import luigi
import numpy as np
import pandas as pd
from _common import Stopwatch, emit, main

import gokart
from gokart.contracts import footer
from gokart.contracts.dag_check import check_contracts
from gokart.core import dag

COLUMNS = {'id': 'int64', 'value': 'float64', 'label': 'string'}


def _frame(i: int) -> pd.DataFrame:
    return pd.DataFrame({'id': [i], 'value': [float(i)], 'label': [str(i)]})


def _classes(declared: bool) -> tuple[type, type, type]:
    prefix = 'Declared' if declared else 'Plain'
    schema = gokart.Schema(**COLUMNS) if declared else None

    class Source(gokart.TaskOnKart[pd.DataFrame]):
        i = luigi.IntParameter()
        output_schema = schema

        def output(self):  # type: ignore[no-untyped-def]
            return self.make_target(f'{prefix}/source.parquet')

        def run(self) -> None:
            self.dump(_frame(self.i))

    class Feature(gokart.TaskOnKart[pd.DataFrame]):
        source = gokart.TaskInstanceParameter()
        output_schema = schema
        input_schema = {'source': gokart.Schema(id='int64', value='float64')} if declared else None

        def output(self):  # type: ignore[no-untyped-def]
            return self.make_target(f'{prefix}/feature.parquet')

        def run(self) -> None:
            self.dump(self.load('source'))

    class Root(gokart.TaskOnKart[int]):
        n = luigi.IntParameter()
        tag = luigi.Parameter(default='')
        input_schema = gokart.Schema(id='int64') if declared else None

        def requires(self):  # type: ignore[no-untyped-def]
            return [Feature(source=Source(i=i)) for i in range(self.n // 2)]

        def run(self) -> None:
            self.dump(len(self.requires()))

    for cls in (Source, Feature, Root):
        cls.__name__ = cls.__qualname__ = f'{prefix}{cls.__name__}'
    return Source, Feature, Root


def scenario() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--n', type=int, default=2000)
    parser.add_argument('--rows', type=int, default=0)
    args = parser.parse_args()
    stopwatch = Stopwatch()
    info: dict[str, object] = {'tasks': args.n}
    for declared in (False, True):
        _, _, root_class = _classes(declared)
        gokart.build(root_class(n=args.n, tag='setup'), progress=False)
        root = root_class(n=args.n, tag='measured')
        with stopwatch.measure('warm_plan_declared' if declared else 'warm_plan_plain'):
            gokart.build(root, progress=False)
    with dag.planning():
        tasks = [root, *dag.requirements(root)]
        tasks += [requirement for task in tasks[1:] for requirement in dag.requirements(task)]
        started = time.perf_counter()
        check = check_contracts(tasks, lambda task: False)
        stopwatch.metrics['contract_check'] = time.perf_counter() - started
        assert not check.problems, check.problems
        features = tasks[1 : 1 + args.n // 2]
        for name in ('footer_check', 'footer_check_again'):  # first as in a new process, then as in a notebook's next build
            if name == 'footer_check':
                footer._read.clear()
            started = time.perf_counter()
            check = check_contracts(features, lambda task: True)
            stopwatch.metrics[name] = time.perf_counter() - started
            assert not check.problems and len(check.footers_read) == len(features), check.problems
    info['tasks_checked'] = len(tasks)
    info['footers_read'] = len(features)
    info['contract_share'] = stopwatch.metrics['contract_check'] / stopwatch.metrics['warm_plan_plain']
    info['footer_share'] = stopwatch.metrics['footer_check'] / stopwatch.metrics['warm_plan_plain']
    info['footer_ms_each'] = 1000 * stopwatch.metrics['footer_check'] / len(features)
    if args.rows:
        frame = pd.DataFrame({'id': np.arange(args.rows), 'value': np.random.default_rng(0).random(args.rows)})
        frame.to_parquet('big.parquet', index=False)
        read = footer.read_columns('big.parquet', footer.PARQUET)
        info.update(footer_rows=args.rows, footer_bytes_read=read.bytes_read, footer_file_size=read.file_size)
    emit(stopwatch.metrics, **info)


if __name__ == '__main__':
    main(scenario)
