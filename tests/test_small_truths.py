"""Small truths (issue 13, item 7): path errors are path errors, an unwritable .gokart-locks/ does not stop a
build, and an input from the future does not make its downstream run on every build."""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path
from typing import Any

import luigi
import pytest

import gokart
from gokart.conflict_prevention_lock.file_lock import UnwritableLockDirectoryWarning
from gokart.errors import GokartBuildError, UnwritableObjectError
from gokart.records.modification_time import FutureModificationTimeWarning
from gokart.storage.output_path import OutputPathError


class Named(gokart.TaskOnKart[str]):
    name = luigi.Parameter()

    def output(self) -> Any:
        return self.make_target(f'named/{self.name}.pkl')

    def run(self) -> None:
        self.dump(self.name)


def test_a_nul_byte_is_a_path_error(tmp_path: Path) -> None:
    # An over-long name fails when written, as in gokart 1.12 (tests/compat/test_smaller_differences.py).
    task = Named(name='nul\x00byte', workspace_directory=str(tmp_path))
    with pytest.raises(OutputPathError) as raised:
        task.output()
    assert not isinstance(raised.value, UnwritableObjectError)
    assert 'Named[' in str(raised.value)
    with pytest.raises(GokartBuildError, match='OutputPathError'):
        gokart.build(task, reset_register=False)


def test_a_name_just_under_the_limit_still_writes(tmp_path: Path) -> None:
    # 255 bytes with the id; the hidden temporary file beside it must not exceed the limit either.
    name = 'y' * (255 - len('_') - 32 - len('.pkl'))
    assert gokart.build(Named(name=name, workspace_directory=str(tmp_path)), reset_register=False) == name


class Upstream(gokart.TaskOnKart[str]):
    def run(self) -> None:
        self.dump('up')


class Downstream(gokart.TaskOnKart[str]):
    def requires(self) -> Any:
        return Upstream(workspace_directory=self.workspace_directory)

    def run(self) -> None:
        ran.append('down')
        self.dump(self.load() + ' and down')


ran: list[str] = []


def test_an_unwritable_lock_directory_falls_back_to_process_locks_with_one_warning(tmp_path: Path) -> None:
    (tmp_path / '.gokart-locks').write_text('not a directory: no lock file can be made in it')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        assert gokart.build(Downstream(workspace_directory=str(tmp_path)), reset_register=False) == 'up and down'
    found = [w for w in caught if issubclass(w.category, UnwritableLockDirectoryWarning)]
    assert len(found) == 1
    assert '.gokart-locks' in str(found[0].message)


class Pair(gokart.TaskOnKart[str]):
    def requires(self) -> Any:
        return [Named(name=name, workspace_directory=self.workspace_directory) for name in ('left', 'right')]

    def run(self) -> None:
        self.dump(' '.join(self.load()))


def test_with_forked_workers_an_unwritable_lock_directory_is_warned_about_once_by_the_build(tmp_path: Path) -> None:
    (tmp_path / '.gokart-locks').write_text('not a directory')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        assert gokart.build(Pair(workspace_directory=str(tmp_path)), workers=2, reset_register=False) == 'left right'
    assert len([w for w in caught if issubclass(w.category, UnwritableLockDirectoryWarning)]) == 1


@pytest.mark.skipif(os.geteuid() == 0, reason='root writes to read-only directories anyway')
def test_a_read_only_cached_workspace_builds(tmp_path: Path) -> None:
    workspace = tmp_path / 'cache'
    gokart.build(Upstream(workspace_directory=str(workspace)), reset_register=False)
    for directory, _, _ in os.walk(workspace):
        os.chmod(directory, 0o555)
    try:

        class ReadsCache(gokart.TaskOnKart[str]):
            def requires(self) -> Any:
                return Upstream(workspace_directory=str(workspace))

            def output(self) -> Any:
                return self.make_target(str(tmp_path / 'out' / 'result.pkl'), use_unique_id=False)

            def run(self) -> None:
                self.dump(self.load() + ' read')

        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            assert gokart.build(ReadsCache(workspace_directory=str(workspace)), reset_register=False) == 'up read'
    finally:
        for directory, _, _ in os.walk(workspace):
            os.chmod(directory, 0o755)


def test_an_input_from_the_future_is_named_and_does_not_rerun_its_downstream_forever(tmp_path: Path) -> None:
    workspace = str(tmp_path)
    down = Downstream(workspace_directory=workspace, modification_time_check=True)
    ran.clear()
    gokart.build(down, reset_register=False)
    assert ran == ['down']
    upstream_path = Upstream(workspace_directory=workspace).output().path()
    a_day_ahead = time.time() + 86400
    os.utime(upstream_path, (a_day_ahead, a_day_ahead))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        for _ in range(3):
            gokart.build(Downstream(workspace_directory=workspace, modification_time_check=True), reset_register=False)
    assert ran == ['down']  # not run again on every build
    found = [w for w in caught if issubclass(w.category, FutureModificationTimeWarning)]
    assert len(found) == 1 and upstream_path in str(found[0].message)


def test_an_input_newer_than_the_output_still_reruns_the_downstream(tmp_path: Path) -> None:
    workspace = str(tmp_path)
    ran.clear()
    gokart.build(Downstream(workspace_directory=workspace, modification_time_check=True), reset_register=False)
    output_path = Downstream(workspace_directory=workspace).output().path()
    an_hour_ago = time.time() - 3600
    os.utime(output_path, (an_hour_ago, an_hour_ago))
    gokart.build(Downstream(workspace_directory=workspace, modification_time_check=True), reset_register=False)
    assert ran == ['down', 'down']
