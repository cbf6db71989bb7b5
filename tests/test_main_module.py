"""``python mypipe.py`` and ``import mypipe`` write two caches; the first run as ``__main__`` next to the other warns once."""

import subprocess
import sys
import textwrap

SCRIPT = """
import gokart


class Hello(gokart.TaskOnKart[str]):
    def run(self):
        self.dump('hi')


class Bye(gokart.TaskOnKart[str]):
    def requires(self):
        return Hello()

    def run(self):
        self.dump(self.load() + ' bye')


if __name__ == '__main__':
    print(gokart.build(Bye()))
"""


def run(tmp_path, *argv):
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, cwd=tmp_path, check=True)


def test_running_the_script_next_to_the_imported_modules_cache_warns_once_per_build(tmp_path):
    (tmp_path / 'mypipe.py').write_text(textwrap.dedent(SCRIPT))
    alone = run(tmp_path, 'mypipe.py')
    assert 'TwoCachesWarning' not in alone.stderr  # nothing under resources/mypipe/ yet
    run(tmp_path, '-c', 'import gokart, mypipe; gokart.build(mypipe.Bye())')
    (tmp_path / 'resources' / '__main__').rename(tmp_path / 'old_main')  # so that the script's tasks run again
    warned = run(tmp_path, 'mypipe.py')
    assert warned.stdout.strip() == 'hi bye'
    lines = [line for line in warned.stderr.splitlines() if 'TwoCachesWarning' in line]
    assert len(lines) == 1, lines  # one warning naming both classes
    assert 'Hello' in lines[0] and 'Bye' in lines[0] and 'run as __main__' in lines[0]
    assert './resources/mypipe/ already holds outputs of the same classes' in lines[0] and 'two separate caches' in lines[0]


RUN_SCRIPT = """
import luigi
import gokart


class Leaf(gokart.TaskOnKart[int]):
    n = luigi.IntParameter()

    def run(self):
        self.dump(self.n)


class Top(gokart.TaskOnKart[int]):
    def requires(self):
        return [Leaf(n=i) for i in range(4)]

    def run(self):
        self.dump(sum(self.load()))


if __name__ == '__main__':
    gokart.run()
"""


def test_gokart_run_with_two_workers_warns_once_not_once_per_worker(tmp_path):
    (tmp_path / 'runpipe.py').write_text(textwrap.dedent(RUN_SCRIPT))
    run(tmp_path, '-c', 'import gokart, runpipe; gokart.build(runpipe.Top())')
    done = subprocess.run(
        [sys.executable, 'runpipe.py', 'Top', '--local-scheduler', '--workers=2'], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if 'TwoCachesWarning' in line]
    assert len(lines) == 1, lines
    assert 'Leaf' in lines[0] and 'Top' in lines[0]


def test_gokart_plan_says_that_the_script_started_directly_would_use_another_cache(tmp_path):
    (tmp_path / 'runpipe.py').write_text(textwrap.dedent(RUN_SCRIPT))
    run(tmp_path, '-c', 'import gokart, runpipe; gokart.build(runpipe.Top())')
    planned = run(tmp_path, '-m', 'gokart', 'plan', 'runpipe:Top')
    lines = planned.stdout.splitlines()
    assert lines[-1] == '0 to run, 1 cached'
    warning = [line for line in lines if line.startswith('TwoCachesWarning: ')]
    assert len(warning) == 1 and 'runs them as __main__' in warning[0] and './resources/__main__/' in warning[0], lines
    # A module that is no script (no gokart.run() under a __main__ guard) has one cache only: nothing to say.
    (tmp_path / 'plainpipe.py').write_text(textwrap.dedent(RUN_SCRIPT.split('if __name__')[0]))
    run(tmp_path, '-c', 'import gokart, plainpipe; gokart.build(plainpipe.Top())')
    planned = run(tmp_path, '-m', 'gokart', 'plan', 'plainpipe:Top')
    assert 'TwoCachesWarning' not in planned.stdout
