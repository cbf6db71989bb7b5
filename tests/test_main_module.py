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


def test_running_the_script_next_to_the_imported_modules_cache_warns_once_per_class(tmp_path):
    (tmp_path / 'mypipe.py').write_text(textwrap.dedent(SCRIPT))
    alone = run(tmp_path, 'mypipe.py')
    assert 'TwoCachesWarning' not in alone.stderr  # nothing under resources/mypipe/ yet
    run(tmp_path, '-c', 'import gokart, mypipe; gokart.build(mypipe.Bye())')
    (tmp_path / 'resources' / '__main__').rename(tmp_path / 'old_main')  # so that the script's tasks run again
    warned = run(tmp_path, 'mypipe.py')
    assert warned.stdout.strip() == 'hi bye'
    lines = [line for line in warned.stderr.splitlines() if 'TwoCachesWarning' in line]
    assert len(lines) == 2  # Hello and Bye, each once
    assert 'Hello runs as __main__.Hello' in lines[0] and './resources/mypipe/ already holds outputs of mypipe.Hello' in lines[0]
    assert 'two separate caches' in lines[0]
