"""What a build of a wide DAG costs, counted rather than timed: the guard of its speed.

A build plans the DAG once and runs from that plan, so each task is constructed once, its
``requires()`` called once, each output path made once (its target, and the journal's absolute
form of it), and storage asked no more than a build needs. Timings belong in ``benchmarks/``;
these counts do not depend on the machine, and a change that makes a build do some of its work
twice shows here as a number off by N.

Each build runs as a rerun does: a fresh set of task objects (luigi's instance cache emptied), a
new root over N leaves, cold (nothing built) and warm (every leaf built before).
"""

from __future__ import annotations

import collections
import json
import os
from typing import Any
from unittest import mock

import luigi
import pytest
from luigi.mock import MockFileSystem, MockTarget

import gokart
import gokart.target
from gokart.records import lineage

N = 40

constructed: collections.Counter[str] = collections.Counter()
required: collections.Counter[str] = collections.Counter()


class _Counted(gokart.TaskOnKart[int]):
    """Counts each construction (every ``Class(...)`` call, cached instance or not) and each requires()."""

    @classmethod
    def get_param_values(cls, params: Any, args: Any, kwargs: Any) -> Any:
        constructed[f'{cls.__name__}{sorted(kwargs.items())}'] += 1
        return super().get_param_values(params, args, kwargs)

    def requires(self) -> Any:
        required[self.task_id] += 1
        return self.own_requirements()

    def own_requirements(self) -> Any:
        return []


class CountedLeaf(_Counted):
    i = luigi.IntParameter()

    def run(self) -> None:
        self.dump(self.i)


class CountedRoot(_Counted):
    """Loads every leaf, as a real pipeline's downstream task does."""

    n = luigi.IntParameter()
    tag = luigi.Parameter()

    def own_requirements(self) -> Any:
        return [CountedLeaf(i=i) for i in range(self.n)]

    def run(self) -> None:
        self.dump(sum(self.load()))


def _build(tag: str) -> int:
    luigi.task_register.Register.clear_instance_cache()  # a rerun makes its task objects anew
    constructed.clear()
    required.clear()
    return gokart.build(CountedRoot(n=N, tag=tag), reset_register=False)


@pytest.fixture
def made_targets(monkeypatch: pytest.MonkeyPatch) -> collections.Counter[str]:
    """How many times each output's target (and so its path) is made."""
    made: collections.Counter[str] = collections.Counter()
    make = gokart.target.make_target

    def counting(file_path: str, *args: Any, **kwargs: Any) -> Any:
        target = make(file_path, *args, **kwargs)
        made[target.path()] += 1
        return target

    monkeypatch.setattr(gokart.target, 'make_target', counting)
    return made


@pytest.fixture
def absolute_paths(monkeypatch: pytest.MonkeyPatch) -> collections.Counter[str]:
    """How many times the journal turns each output path into the absolute one it records."""
    made: collections.Counter[str] = collections.Counter()
    absolute = lineage._absolute

    def counting(path: str, *args: Any) -> str:
        made[path] += 1
        return absolute(path, *args)

    monkeypatch.setattr(lineage, '_absolute', counting)
    return made


def _leaf_paths() -> list[str]:
    return [CountedLeaf(i=i).output().path() for i in range(N)]


@pytest.mark.parametrize('mode', ['cold', 'warm'])
def test_each_task_is_constructed_and_asked_for_its_requirements_once(mode: str) -> None:
    if mode == 'warm':
        _build('before')
    assert _build(mode) == sum(range(N))
    root = f"CountedRoot[('n', {N}), ('tag', '{mode}')]"
    assert constructed.pop(root) == 1
    assert sorted(constructed.values()) == [1] * N  # each leaf once: by the root's requires()
    assert len(constructed) == N
    # Ids need every task's requirements (an id hashes the ids upstream): the plan, the journal and load() reuse them.
    assert required[CountedRoot(n=N, tag=mode).task_id] == 1
    assert sorted(required.values()) == [1] * (N + 1)


@pytest.mark.parametrize('mode', ['cold', 'warm'])
def test_each_output_path_is_made_once(mode: str, made_targets: collections.Counter[str], absolute_paths: collections.Counter[str]) -> None:
    if mode == 'warm':
        _build('before')
    made_targets.clear()
    absolute_paths.clear()
    _build(mode)
    root_path = CountedRoot(n=N, tag=mode).output().path()
    outputs = [*_leaf_paths(), root_path]
    assert {path: made_targets[path] for path in outputs} == dict.fromkeys(outputs, 1)
    assert set(made_targets) == set(outputs)  # no other target: the run records are written by path
    # The journal records each output path once as it ran (cold) or as a requirement (warm): made absolute once each.
    assert {path: absolute_paths[path] for path in outputs} == dict.fromkeys(outputs, 1)
    assert sum(absolute_paths.values()) == len(outputs)
    journal = _journal_records()
    root_record = next(r for r in journal if r['params'].get('tag') == mode)
    assert [r['outputs'] for r in root_record['requires']] == [[os.path.abspath(p)] for p in _leaf_paths()]


def _journal_records() -> list[dict[str, Any]]:
    lineage.close()  # publish this process's journal
    folder = lineage.directory(os.path.abspath('resources'))
    found = []
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), 'rb') as f:
            found += [json.loads(line) for line in f.read().splitlines() if line.strip()]
    return found


class _CountingTarget(MockTarget):
    """luigi's in-memory target, counting what a build asks of it (gokart 1.12's seam: a replaced ``luigi.LocalTarget``)."""

    asked: collections.Counter[str] = collections.Counter()

    def exists(self) -> bool:
        self.asked['exists'] += 1
        return bool(super().exists())

    def open(self, mode: str = 'r') -> Any:
        self.asked['read' if mode.startswith('r') else 'write'] += 1
        return super().open(mode)


RECORDS_PER_RUN = 5  # log/: task_params, module_versions, random_seed, processing_time, task_log


@pytest.mark.parametrize('mode', ['cold', 'warm'])
def test_storage_is_asked_what_a_build_needs_and_no_more(mode: str) -> None:
    MockFileSystem().clear()
    with mock.patch('luigi.LocalTarget', new=lambda path, **kwargs: _CountingTarget(path, **kwargs)):
        if mode == 'warm':
            _build('before')
        _CountingTarget.asked.clear()
        assert _build(mode) == sum(range(N))
    MockFileSystem().clear()
    ran = N + 1 if mode == 'cold' else 1
    assert dict(_CountingTarget.asked) == {
        # the plan asks once per task; each task that runs is checked once more under its run lock
        'exists': (N + 1) + ran,
        # the root loads every leaf; gokart.build loads the root's output to return it
        'read': N + 1,
        # each run writes its output and its records
        'write': ran * (1 + RECORDS_PER_RUN),
    }


def test_import_gokart_and_a_build_without_frames_load_no_frame_library(tmp_path) -> None:
    """pandas and pyarrow cost a third of a second and 60 MB to import: only a task that dumps or loads a frame should pay it."""
    import subprocess
    import sys

    code = (
        'import sys, luigi, gokart\n'
        'class Small(gokart.TaskOnKart[int]):\n'
        '    i = luigi.IntParameter()\n'
        '    def run(self):\n'
        '        self.dump(self.i)\n'
        'assert gokart.build(Small(i=3)) == 3\n'
        "print(sorted(m for m in ('pandas', 'pyarrow', 'polars') if m in sys.modules))\n"
    )
    found = subprocess.run([sys.executable, '-c', code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert found.stdout.strip() == '[]'
