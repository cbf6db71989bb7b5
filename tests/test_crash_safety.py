"""Crash safety: a build killed with SIGKILL at any moment leaves only whole outputs, and a rebuild finishes it.

A child process builds a DAG with large outputs (24 MB pickles, a parquet table, a zipped large
DataFrame, and the log/ records of every task) and is killed at a random moment, often in the
middle of a write. After each kill the test rebuilds in this process and checks that every output
and every log record loads and equals what the task computes.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import luigi
import numpy as np
import pandas as pd
import pytest

import gokart
from gokart.utils import flatten

BLOCK_ELEMENTS = 3_000_000  # 24 MB of int64 per block: long enough writes for kills to land inside them
TABLE_ROWS = 150_000
FRAME_ROWS = 150_000


def _block(i: int) -> np.ndarray:
    return np.arange(BLOCK_ELEMENTS, dtype=np.int64) * (i + 1)


def _table() -> pd.DataFrame:
    return pd.DataFrame({'a': np.arange(TABLE_ROWS), 'b': np.arange(TABLE_ROWS) * 0.5})


def _frame() -> pd.DataFrame:
    return pd.DataFrame({'x': np.arange(FRAME_ROWS) % 97, 'y': np.arange(FRAME_ROWS)})


class Block(gokart.TaskOnKart[np.ndarray]):
    task_namespace = 'test_crash_safety'
    i = luigi.IntParameter()

    def run(self) -> None:
        self.dump(_block(self.i))


class Table(gokart.TaskOnKart[pd.DataFrame]):
    task_namespace = 'test_crash_safety'

    def output(self):
        return self.make_target('crash/table.parquet')

    def run(self) -> None:
        self.dump(_table())


class Frame(gokart.TaskOnKart[pd.DataFrame]):
    task_namespace = 'test_crash_safety'

    def output(self):
        return self.make_large_data_frame_target('crash/frame.zip', max_byte=2**20)

    def run(self) -> None:
        self.dump(_frame())


class Summary(gokart.TaskOnKart[dict]):
    task_namespace = 'test_crash_safety'

    def requires(self):
        kwargs = {'workspace_directory': self.workspace_directory, 'local_temporary_directory': self.local_temporary_directory}
        return {
            'blocks': [Block(i=i, **kwargs) for i in range(3)],
            'table': Table(**kwargs),
            'frame': Frame(**kwargs),
        }

    def run(self) -> None:
        inputs = self.load()
        self.dump(
            {
                'block_sums': [int(block.sum()) for block in inputs['blocks']],
                'table_rows': len(inputs['table']),
                'frame_sum': int(inputs['frame']['y'].sum()),
            }
        )


def _expected(task: Any) -> Any:
    if isinstance(task, Block):
        return _block(task.i)
    if isinstance(task, Table):
        return _table()
    if isinstance(task, Frame):
        return _frame()
    return {
        'block_sums': [int(_block(i).sum()) for i in range(3)],
        'table_rows': TABLE_ROWS,
        'frame_sum': int(_frame()['y'].sum()),
    }


def _assert_equal(loaded: Any, expected: Any) -> None:
    if isinstance(expected, np.ndarray):
        assert np.array_equal(loaded, expected)
    elif isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(loaded.reset_index(drop=True), expected)
    else:
        assert loaded == expected


def _root(workspace: str) -> Summary:
    return Summary(workspace_directory=workspace, local_temporary_directory=os.path.join(workspace, 'tmp'))


def _all_tasks(root: Summary) -> list[Any]:
    return [root, *flatten(root.requires())]


def _build_then_exit(workspace: str, workers: int) -> None:
    os.setsid()  # its own process group: the kill reaches forked workers too
    try:
        gokart.build(_root(workspace), workers=workers, reset_register=False)
    finally:
        os._exit(0)


def _remove_outputs(root: Summary) -> None:
    for task in _all_tasks(root):
        for target in flatten(task.output()):
            target.remove()


def _verify_everything_loads(root: Summary) -> None:
    for task in _all_tasks(root):
        _assert_equal(task.output().load(), _expected(task))
    for directory, _, names in os.walk(os.path.join(root.workspace_directory, 'log')):
        for name in names:
            if name.endswith(('.pkl', '.txt')) and not name.startswith('.'):
                # A log record that exists is whole: it loads (a torn pickle would raise).
                gokart.target.make_target(os.path.join(directory, name)).load()


def _remove_leftover_temporaries(workspace: str) -> int:
    """Delete the hidden temporary files killed writers left behind; returns how many there were."""
    found = 0
    for directory, _, names in os.walk(workspace):
        for name in names:
            if name.endswith('.gokart-tmp'):
                os.remove(os.path.join(directory, name))
                found += 1
    return found


def _kill_and_rebuild(workspace: str, kills: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    root = _root(workspace)
    context = multiprocessing.get_context('fork')

    gokart.build(root, reset_register=False)
    _verify_everything_loads(root)
    # How long an uninterrupted build takes in a forked child, as the killed builds run: the kills
    # below land uniformly across that time (the first build in this process, which warms caches,
    # is no measure of it).
    _remove_outputs(root)
    started = time.monotonic()
    calibration = context.Process(target=_build_then_exit, args=(workspace, 1))
    calibration.start()
    calibration.join()
    full_build_seconds = time.monotonic() - started
    _verify_everything_loads(root)

    stats = {'kills': 0, 'left_temporaries': 0, 'killed_before_finishing': 0}
    for _ in range(kills):
        _remove_outputs(root)
        child = context.Process(target=_build_then_exit, args=(workspace, rng.choice([1, 1, 2])))
        child.start()
        time.sleep(rng.uniform(0, full_build_seconds * 1.1))
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:  # it finished first
            pass
        child.join()
        stats['kills'] += 1
        stats['killed_before_finishing'] += int(not all(t.complete() for t in _all_tasks(root)))
        stats['left_temporaries'] += _remove_leftover_temporaries(workspace)

        luigi.task_register.Register.clear_instance_cache()
        root = _root(workspace)
        gokart.build(root, reset_register=False)
        _verify_everything_loads(root)
    return stats


def test_a_build_killed_at_random_moments_leaves_only_whole_outputs(tmp_path):
    stats = _kill_and_rebuild(str(tmp_path / 'workspace'), kills=6, seed=7)
    assert stats['kills'] == 6


def _kill_and_rebuild_apart(arguments: tuple[str, int, int]) -> dict[str, int]:
    return _kill_and_rebuild(*arguments)


@pytest.mark.slow
def test_two_hundred_kills_mid_build(tmp_path):
    # Two processes of 100 kills each, one per core, on workspaces of their own: the same 200 kills in
    # half the time. Each measures its uninterrupted build while the other runs, as its kills will.
    seed = random.randrange(2**32)
    halves = [(str(tmp_path / f'workspace-{k}'), 100, seed + k) for k in range(2)]
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context('fork')) as pool:
        results = list(pool.map(_kill_and_rebuild_apart, halves))
    stats = {key: sum(result[key] for result in results) for key in results[0]}
    print(f'seed={seed} {stats}')
    assert stats['kills'] == 200
    # The kills really interrupted builds, many of them in the middle of writing a file.
    assert stats['killed_before_finishing'] > 50
    assert stats['left_temporaries'] > 0
