"""``python pipeline.py Task ...`` (``gokart.run``): bad values raise what gokart 1.12 raises, naming the flag; a task that writes
nothing exits 0; progress and logs do not share a line."""

import os
import pickle
import pty
import re
import subprocess
import sys
import textwrap

import luigi
import pytest

import gokart

PIPELINE = """
import luigi
import gokart


class Count(gokart.TaskOnKart[int]):
    x = luigi.IntParameter(default=1)

    def requires(self):
        return Count(x=self.x - 1) if self.x > 0 else []

    def run(self):
        self.dump(self.x)


class Notify(gokart.TaskOnKart[int]):
    def run(self):
        print('notified')  # a side effect, no output


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
def test_a_bad_value_raises_the_value_error_naming_the_task_and_flag(pipeline, flag):
    done = run_pipeline(pipeline, 'Count', flag, 'abc', '--local-scheduler')
    assert done.returncode == 1  # an uncaught exception, as gokart 1.12 ends
    assert done.stderr.splitlines()[-1] == (
        f"gokart.errors.TaskParameterError: Count: bad value 'abc' for {flag}: ValueError: invalid literal for int() with base 10: 'abc'"
    )
    assert not (pipeline.parent / 'resources').exists()  # nothing ran


class RunLineCount(gokart.TaskOnKart[int]):
    x = luigi.IntParameter(default=1)


class RunLineNeeds(gokart.TaskOnKart[int]):
    size = luigi.IntParameter()


def test_gokart_run_raises_what_a_test_of_gokart_1_12_expects():
    with pytest.raises(ValueError, match=r"RunLineCount: bad value 'abc' for --x: ValueError: invalid literal"):
        gokart.run(['RunLineCount', '--x', 'abc', '--local-scheduler'])
    with pytest.raises(luigi.parameter.MissingParameterException, match=r"RunLineNeeds: the parameter 'size' has no default .* --size"):
        gokart.run(['RunLineNeeds', '--local-scheduler'])


def test_a_task_that_writes_nothing_exits_0_with_a_warning_naming_it(pipeline):
    done = run_pipeline(pipeline, 'Notify', '--local-scheduler')
    assert done.returncode == 0, done.stderr
    assert 'notified' in done.stdout
    assert re.search(r'NothingDumpedWarning: Notify\[\w+\] finished run\(\) without writing its output \S+Notify_\w+\.pkl', done.stderr)
    strict = run_pipeline(pipeline, 'Notify', '--local-scheduler', env=dict(os.environ, GOKART_STRICT='true'))
    assert strict.returncode == 40 and 'NothingDumpedError: Notify[' in strict.stderr


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


BINS = """
import luigi
import gokart


class Bins(gokart.TaskOnKart[int]):
    n_bins = luigi.IntParameter(default=3)

    def run(self):
        self.dump(self.n_bins)


if __name__ == '__main__':
    gokart.run()
"""


@pytest.fixture
def bins(tmp_path):
    path = tmp_path / 'bins.py'
    path.write_text(textwrap.dedent(BINS))
    return path


def test_an_abbreviated_flag_is_taken_as_in_1_12_with_a_warning_naming_the_whole_flag(bins):
    # luigi's parser takes --n-bin=7 for --n-bins=7 (argparse's prefix matching), as gokart 1.12 does.
    done = run_pipeline(bins, 'Bins', '--local-scheduler', '--n-bin=7')
    assert done.returncode == 0, done.stderr
    assert '--n-bin is taken as --n-bins (an abbreviation); write the flag in full' in done.stderr
    outputs = list((bins.parent / 'resources' / '__main__').glob('Bins_*.pkl'))
    assert len(outputs) == 1 and pickle.loads(outputs[0].read_bytes()) == 7


def test_in_strict_mode_an_abbreviated_flag_is_refused_with_the_flag_it_resembles(bins, monkeypatch):
    monkeypatch.setenv('GOKART_STRICT', 'true')
    done = run_pipeline(bins, 'Bins', '--local-scheduler', '--n-bin=7')
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == 'bins.py: error: unrecognized arguments: --n-bin=7 (--n-bin: did you mean --n-bins?)'
    assert not (bins.parent / 'resources').exists()  # nothing ran
    done = run_pipeline(bins, 'Bins', '--local-scheduler', '--n-bins=7')
    assert done.returncode == 0, done.stderr


def test_a_misspelled_flag_is_the_error_gokart_1_12_gives_with_a_suggestion(bins):
    from reference_python import reference_python

    reference = reference_python()
    if reference is None:
        pytest.skip('gokart 1.12.2 reference interpreter not set up (make reference-venv)')
    ours = run_pipeline(bins, 'Bins', '--local-scheduler', '--nbins=7')
    alone = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}  # the reference imports its own gokart
    theirs = subprocess.run(
        [reference, str(bins), 'Bins', '--local-scheduler', '--nbins=7'], capture_output=True, text=True, cwd=bins.parent, env=alone
    )
    assert ours.returncode == theirs.returncode == 2
    assert theirs.stderr.splitlines()[-1] == 'bins.py: error: unrecognized arguments: --nbins=7'
    assert ours.stderr.splitlines()[-1] == 'bins.py: error: unrecognized arguments: --nbins=7 (--nbins: did you mean --n-bins?)'


def test_a_misspelled_task_suggests_task_classes_only_and_keeps_1_12s_exception(tmp_path):
    path = tmp_path / 'run_pipe.py'
    path.write_text(textwrap.dedent(PIPELINE.replace('Count', 'Metrics')))
    done = run_pipeline(path, 'Metircs', '--local-scheduler')
    assert done.returncode == 1  # the uncaught exception, as in gokart 1.12
    last = done.stderr.splitlines()[-1]
    assert last == "gokart.errors.TaskClassNotFoundError: No task Metircs. Did you mean 'Metrics'?"
    checked = subprocess.run(
        [
            sys.executable,
            '-c',
            'import luigi.task_register, gokart.errors as e; print(issubclass(e.TaskClassNotFoundError, luigi.task_register.TaskClassNotFoundException))',
        ],
        capture_output=True,
        text=True,
    )
    assert checked.stdout.strip() == 'True'
