"""gokart.build from a real Jupyter kernel: tasks defined in cells, redefined, run on workers and on Dask, failing."""

from __future__ import annotations

import pytest

from tests.notebooks.conftest import Kernel

pytestmark = pytest.mark.timeout(300)


def test_tasks_defined_in_cells_build_without_gokart_run(kernel: Kernel) -> None:
    kernel.run(
        'import gokart, luigi\n'
        'class Numbers(gokart.TaskOnKart[list]):\n'
        '    n = luigi.IntParameter(default=3)\n'
        '    def run(self):\n'
        '        self.dump(list(range(self.n)))\n'
    ).ok()
    kernel.run(
        'class Total(gokart.TaskOnKart[int]):\n'
        '    numbers = gokart.TaskInstanceParameter()\n'
        '    def run(self):\n'
        '        self.dump(sum(self.load("numbers")))\n'
    ).ok()
    assert kernel.run('gokart.build(Total(numbers=Numbers(n=4)))').ok().result() == '6'


def test_redefined_task_class_uses_the_newest_definition(kernel: Kernel) -> None:
    kernel.run('class Greeting(gokart.TaskOnKart[str]):\n    def run(self):\n        self.dump("hello")\n').ok()
    assert kernel.run('gokart.build(Greeting())').ok().result() == "'hello'"
    # The cell edited and run again: a new class with the same family; the parameter makes a new id.
    redefined = kernel.run(
        'class Greeting(gokart.TaskOnKart[str]):\n'
        '    word = luigi.Parameter(default="bye")\n'
        '    def run(self):\n'
        '        self.dump(self.word)\n'
    ).ok()
    assert 'already' not in redefined.stderr.lower()
    built = kernel.run('gokart.build(Greeting())').ok()
    assert built.result() == "'bye'"
    assert built.stderr == ''
    # luigi's lookup by family finds the newest class, not an ambiguity between the two.
    assert kernel.run('luigi.task_register.Register.get_task_cls("Greeting") is Greeting').ok().result() == 'True'


def test_workers_2_fork_from_the_kernel(kernel: Kernel) -> None:
    kernel.run(
        'import os\n'
        'class Pid(gokart.TaskOnKart[int]):\n'
        '    i = luigi.IntParameter()\n'
        '    def run(self):\n'
        '        self.dump(os.getpid())\n'
        'class Pids(gokart.TaskOnKart[list]):\n'
        '    def requires(self):\n'
        '        return [Pid(i=i) for i in range(4)]\n'
        '    def run(self):\n'
        '        self.dump(self.load())\n'
    ).ok()
    cell = kernel.run('pids = gokart.build(Pids(), workers=2)\nsorted(set(pids) - {os.getpid()}) != [], len(pids)').ok()
    assert cell.result() == '(True, 4)'
    assert kernel.run('1 + 1').ok().result() == '2'  # the kernel is still answering


def test_dask_runs_notebook_defined_classes(kernel: Kernel) -> None:
    pytest.importorskip('distributed')
    kernel.run(
        'from distributed import Client, LocalCluster\n'
        'cluster = LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None)\n'
        'client = Client(cluster)\n'
    ).ok()
    try:
        cell = kernel.run('gokart.build(Total(numbers=Numbers(n=5)), dask_client=client)').ok()
        assert cell.result() == '10'
    finally:
        kernel.run('client.close(); cluster.close()').ok()


def test_failing_task_is_one_concise_error(kernel: Kernel) -> None:
    kernel.run('class Broken(gokart.TaskOnKart[int]):\n    def run(self):\n        raise ValueError("the column price is missing")\n').ok()
    cell = kernel.run('gokart.build(Broken())')
    assert cell.error is not None
    assert cell.error['ename'] == 'GokartBuildError'
    assert (
        'Broken' in cell.error['evalue'] and 'ValueError' in cell.error['evalue'] and 'the column price is missing' in cell.error['evalue']
    )
    assert cell.error['evalue'].count('Broken[') == 2  # the summary gokart 1.12 prints, then the task with its exception
    # No luigi log flood: the failed task's traceback once (it points at the cell's line), in the one ERROR
    # record gokart 1.12.2 prints there too (luigi's "Worker ... failed"), and nothing below ERROR.
    assert cell.stderr.count('Traceback') == 1, cell.stderr
    assert 'raise ValueError("the column price is missing")' in cell.stderr
    assert cell.stderr.count('Worker(') <= 1, cell.stderr
    assert not any(word in cell.stderr for word in ('INFO', 'DEBUG', 'Scheduled', 'Done scheduling')), cell.stderr
