"""The live progress display of gokart.build: on for terminals or when forced, silent otherwise, never changing results."""

import io

import luigi
import pytest

import gokart
from gokart.execution import execute
from gokart.execution.progress import BuildProgress, progress_enabled


class Leaf(gokart.TaskOnKart[int]):
    number = luigi.IntParameter()

    def run(self):
        self.dump(self.number)


class Total(gokart.TaskOnKart[int]):
    count = luigi.IntParameter(default=3)

    def requires(self):
        return [Leaf(number=i) for i in range(self.count)]

    def run(self):
        self.dump(sum(self.load()))


class Broken(gokart.TaskOnKart[int]):
    def requires(self):
        return Leaf(number=100)

    def run(self):
        raise ValueError('broken on purpose')


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv('GOKART_PROGRESS', raising=False)


def test_setting_wins_then_environment_then_terminal(monkeypatch, no_env):
    monkeypatch.setattr('sys.stderr', io.StringIO())
    assert progress_enabled(None) is False
    assert progress_enabled(True) is True
    monkeypatch.setattr('sys.stderr', Terminal())
    assert progress_enabled(None) is True
    assert progress_enabled(False) is False
    monkeypatch.setenv('GOKART_PROGRESS', '0')
    assert progress_enabled(None) is False
    monkeypatch.setenv('GOKART_PROGRESS', '1')
    monkeypatch.setattr('sys.stderr', io.StringIO())
    assert progress_enabled(None) is True


def test_forced_progress_draws_the_final_counts_and_keeps_the_result(capsys, no_env):
    assert gokart.build(Total(), reset_register=False, progress=True) == 3
    final = capsys.readouterr().err.replace('\r', '\n').splitlines()
    last = [line for line in final if 'gokart ' in line][-1]
    assert 'gokart 4/4 | 4 done, 0 cached, 0 running, 0 failed' in last


def test_quiet_when_turned_off_or_not_a_terminal(capsys, monkeypatch, no_env):
    assert gokart.build(Total(count=2), reset_register=False, progress=False) == 1
    assert 'gokart ' not in capsys.readouterr().err
    # capsys' stderr is not a terminal, so the default is quiet too
    assert gokart.build(Total(count=2), reset_register=False) == 1
    assert 'gokart ' not in capsys.readouterr().err
    monkeypatch.setenv('GOKART_PROGRESS', '0')
    assert gokart.build(Total(count=4), reset_register=False, progress=None) == 6
    assert 'gokart ' not in capsys.readouterr().err


def test_counts_follow_the_executor_events_for_cached_ran_and_failed_tasks(no_env):
    gokart.build(Leaf(number=100), reset_register=False, progress=False)
    progress = BuildProgress()
    execute([Broken(), Total(count=2)], listener=progress)
    assert (progress.total, progress.cached, progress.done, progress.failed, progress.running) == (5, 1, 3, 1, 0)
    assert progress.status_line().startswith('gokart 5/5 | 3 done, 1 cached, 0 running, 1 failed | - | 0:00:')


def test_redraws_are_throttled_not_one_per_task(capsys, no_env):
    # Each redraw writes one status line; a build of 1,500 tasks must not redraw per task.
    gokart.build(Total(count=1500), reset_register=False, progress=True)
    redraws = capsys.readouterr().err.count('gokart ')
    assert 1 <= redraws < 300


def test_gokart_run_shows_progress_from_luigi_events(tmp_path):
    import os
    import subprocess
    import sys
    import textwrap

    script = tmp_path / 'pipeline.py'
    script.write_text(
        textwrap.dedent(
            """
            import luigi
            import gokart

            class Leaf(gokart.TaskOnKart):
                i = luigi.IntParameter()
                def run(self):
                    self.dump(self.i)

            class Root(gokart.TaskOnKart):
                def requires(self):
                    return [Leaf(i=i) for i in range(3)]
                def run(self):
                    self.dump(sum(self.load()))

            if __name__ == '__main__':
                gokart.run()
            """
        )
    )
    env = {**os.environ, 'GOKART_PROGRESS': '1', 'PYTHONPATH': os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}
    result = subprocess.run(
        [sys.executable, str(script), 'Root', '--local-scheduler'], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert 'gokart 4/4 | 4 done, 0 cached, 0 running, 0 failed' in result.stderr
