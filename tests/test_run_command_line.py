"""``python pipeline.py Task ...`` (``gokart.run``): bad values are one line with exit 2; progress and logs do not share a line."""

import os
import pty
import re
import subprocess
import sys
import textwrap

import pytest

PIPELINE = """
import luigi
import gokart


class Count(gokart.TaskOnKart[int]):
    x = luigi.IntParameter(default=1)

    def requires(self):
        return Count(x=self.x - 1) if self.x > 0 else []

    def run(self):
        self.dump(self.x)


if __name__ == '__main__':
    gokart.run()
"""


@pytest.fixture
def pipeline(tmp_path):
    path = tmp_path / 'pipeline.py'
    path.write_text(textwrap.dedent(PIPELINE))
    return path


def run_pipeline(path, *args, env=None):
    return subprocess.run([sys.executable, str(path), *args], capture_output=True, text=True, cwd=path.parent, env=env)


@pytest.mark.parametrize('flag', ['--x', '--Count-x'])
def test_a_bad_value_is_one_line_naming_the_task_and_flag_with_exit_2(pipeline, flag):
    done = run_pipeline(pipeline, 'Count', flag, 'abc', '--local-scheduler')
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"pipeline.py: Count: bad value 'abc' for {flag}: ValueError: invalid literal for int() with base 10: 'abc'"
    ]
    assert not (pipeline.parent / 'resources').exists()  # nothing ran


def test_good_values_still_run(pipeline):
    done = run_pipeline(pipeline, 'Count', '--x', '2', '--local-scheduler')
    assert done.returncode == 0, done.stderr
    assert len(list((pipeline.parent / 'resources' / '__main__').glob('Count_*.pkl'))) == 3


def test_progress_line_ends_before_each_log_line_on_a_terminal(pipeline):
    primary, secondary = pty.openpty()
    env = dict(os.environ, GOKART_PROGRESS='1', COLUMNS='200')
    process = subprocess.Popen(
        [sys.executable, str(pipeline), 'Count', '--x', '2', '--local-scheduler'],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        cwd=pipeline.parent,
        env=env,
        close_fds=True,
    )
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(primary, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    assert process.wait() == 0
    screen = b''.join(chunks).decode(errors='replace')
    assert 'gokart ' in screen and 'INFO: ' in screen  # both the progress line and luigi's log were shown
    assert re.search(r'\d:\d\d:\d\d(INFO|DEBUG|WARNING)', screen) is None  # never a log line glued to the progress line
