"""Four processes building the same overlapping DAG on one local workspace run every task exactly once.

Each ``run()`` appends one line to a counter file of its own with ``O_APPEND`` (appends of one
short line are atomic), so the number of lines is the number of times the body ran. gokart 1.12.2
without Redis ran 6 to 12 tasks of such a DAG twice and failed 1 to 4 of the 4 builds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import gokart

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(gokart.__file__)))

# 13 tasks: 6 leaves, 4 middles each reading 3 overlapping leaves, 2 tops over the middles, 1 root.
PIPELINE = textwrap.dedent(
    """
    import os, sys, time
    import luigi, pandas as pd
    import gokart

    COUNTS = os.environ['GOKART_TEST_COUNTS']

    def count_run(task):
        name = f'{type(task).__name__}_{task.make_unique_id()}'
        fd = os.open(os.path.join(COUNTS, name), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, f'{os.getpid()}\\n'.encode())
        finally:
            os.close(fd)
        time.sleep(0.05)  # widen the window in which another process could start the same task

    class Base(gokart.TaskOnKart):
        task_namespace = 'concurrency'
        def output(self):
            return self.make_target(f'concurrency/{type(self).__name__}.parquet')

    class Leaf(Base):
        i = luigi.IntParameter()
        def run(self):
            count_run(self)
            self.dump(pd.DataFrame({'v': [self.i] * 20_000}))

    class Middle(Base):
        j = luigi.IntParameter()
        def requires(self):
            return [Leaf(i=(self.j + k) % 6) for k in range(3)]
        def run(self):
            count_run(self)
            self.dump(pd.DataFrame({'v': [int(sum(f['v'].sum() for f in self.load()))]}))

    class Top(Base):
        k = luigi.IntParameter()
        def requires(self):
            return [Middle(j=j) for j in range(4) if j % 2 == self.k or j == 3]
        def run(self):
            count_run(self)
            self.dump(pd.DataFrame({'v': [int(sum(f['v'].sum() for f in self.load()))]}))

    class Root(Base):
        def requires(self):
            return [Top(k=0), Top(k=1)]
        def run(self):
            count_run(self)
            self.dump(pd.DataFrame({'v': [int(sum(f['v'].sum() for f in self.load()))]}))

    def leaf_value(i):
        return pd.DataFrame({'v': [i] * 20_000})

    def expected(task):
        if isinstance(task, Leaf):
            return leaf_value(task.i)
        return pd.DataFrame({'v': [int(sum(expected(r)['v'].sum() for r in task.requires()))]})

    def all_tasks():
        seen, stack = [], [Root()]
        while stack:
            task = stack.pop()
            if task not in seen:
                seen.append(task)
                stack.extend(task.requires())
        return seen

    if __name__ == '__main__':
        if sys.argv[1] == 'build':
            gokart.build(Root(), workers=int(sys.argv[2]), return_value=False)
        else:
            tasks = all_tasks()
            for task in tasks:
                pd.testing.assert_frame_equal(task.output().load(), expected(task))
            print(len(tasks))
    """
)


def test_four_processes_building_one_dag_run_each_task_once(tmp_path):
    (tmp_path / 'pipeline.py').write_text(PIPELINE)
    counts = tmp_path / 'counts'
    counts.mkdir()
    env = {**os.environ, 'PYTHONPATH': REPOSITORY, 'GOKART_TEST_COUNTS': str(counts)}

    builds = [
        subprocess.Popen(
            [sys.executable, 'pipeline.py', 'build', str(workers)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for workers in (1, 1, 2, 2)
    ]
    results = [(build.wait(timeout=300), build.stderr.read() if build.stderr else '') for build in builds]
    for returncode, stderr in results:
        assert returncode == 0, stderr[-3000:]

    runs = {name: (counts / name).read_text().splitlines() for name in os.listdir(counts)}
    assert len(runs) == 13
    assert {name: len(pids) for name, pids in runs.items() if len(pids) != 1} == {}

    verified = subprocess.run([sys.executable, 'pipeline.py', 'verify'], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert verified.returncode == 0, verified.stderr[-3000:]
    assert verified.stdout.strip() == '13'
    leftovers = [name for _, _, names in os.walk(tmp_path / 'resources') for name in names if name.endswith('.gokart-tmp')]
    assert leftovers == []
