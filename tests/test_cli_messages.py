"""Messages of the command lines a new user meets (issue 31, "smaller things"): a dotted task name, a flag the
task's own name makes ambiguous, a misspelled class after module:, a class given where a task belongs.
The control flow stays gokart 1.12's (checked against .venv-ref where it exists); only the words say more."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import pytest
from reference_python import reference_python

import gokart

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

COMPARE = """
import luigi
import gokart


class Upstream(gokart.TaskOnKart[int]):
    def run(self):
        self.dump(1)


class Compare(gokart.TaskOnKart[float]):
    C = luigi.FloatParameter(default=1.0)
    Cache = luigi.IntParameter(default=1)

    def run(self):
        self.dump(self.C)


class Down(gokart.TaskOnKart[int]):
    up = gokart.TaskInstanceParameter()
    ups = gokart.ListTaskInstanceParameter(default=[])

    def run(self):
        self.dump(2)
"""

RUN = 'import sys, gokart\nsys.argv = ["run"] + sys.argv[1:]\ngokart.run()\n'


@pytest.fixture
def package(tmp_path):
    (tmp_path / 'mlpipe').mkdir()
    (tmp_path / 'mlpipe' / '__init__.py').write_text('')
    (tmp_path / 'mlpipe' / 'compare.py').write_text(textwrap.dedent(COMPARE))
    (tmp_path / 'run_it.py').write_text(RUN)
    return tmp_path


def run(package, python: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, 'PYTHONPATH': os.pathsep.join([REPOSITORY, str(package)])}
    if python != sys.executable:
        environment['PYTHONPATH'] = str(package)
    return subprocess.run(
        [python, 'run_it.py', *arguments, '--local-scheduler'], cwd=package, env=environment, capture_output=True, text=True
    )


def test_a_dotted_task_name_is_named_whole_with_the_module_flag_to_use(package):
    found = run(package, sys.executable, 'mlpipe.compare.Compare')
    assert 'TaskClassNotFoundError: No task mlpipe.compare.Compare.' in found.stderr  # 1.12's words, the name whole
    assert '--module mlpipe.compare Compare' in found.stderr
    ran = run(package, sys.executable, '--module', 'mlpipe.compare', 'Compare', '--Compare-C', '2')
    assert ran.returncode == 0, ran.stderr
    reference = reference_python()
    if reference is not None:  # 1.12.2 raises luigi's TaskClassNotFoundException with the same first words
        assert 'No task mlpipe.compare.Compare.' in run(package, reference, 'mlpipe.compare.Compare').stderr


def test_a_flag_the_tasks_own_name_makes_ambiguous_names_the_flag_meant(package):
    found = run(package, sys.executable, '--module', 'mlpipe.compare', 'Compare', '--C', '2')
    assert found.returncode == 2  # argparse's usage error, as in 1.12
    [line] = [line for line in found.stderr.splitlines() if 'ambiguous option' in line]
    assert re.search(r'ambiguous option: --C begins \d+ flags; write --Compare-C \(the parameter C of Compare\)$', line), line
    reference = reference_python()
    if reference is not None:
        assert run(package, reference, '--module', 'mlpipe.compare', 'Compare', '--C', '2').returncode == 2


def test_gokart_plan_of_a_misspelled_class_suggests_the_one_meant(package):
    environment = {**os.environ, 'PYTHONPATH': os.pathsep.join([REPOSITORY, str(package)])}
    found = subprocess.run(
        [sys.executable, '-m', 'gokart', 'plan', 'mlpipe.compare:Compar'], cwd=package, env=environment, capture_output=True, text=True
    )
    assert found.returncode != 0 and 'mlpipe.compare has no Compar; did you mean mlpipe.compare:Compare?' in found.stderr


def test_a_class_given_to_a_task_instance_parameter_is_named(package, monkeypatch):
    monkeypatch.syspath_prepend(str(package))
    from mlpipe import compare

    with pytest.raises(TypeError, match=r'the class Upstream was passed, not a task; pass Upstream\(\.\.\.\)') as raised:
        compare.Down(up=compare.Upstream)
    assert '_TaskRegister' not in str(raised.value) and '(a class)' in str(raised.value)
    with pytest.raises(TypeError, match=r'pass Upstream\(\.\.\.\)'):
        compare.Down(up=compare.Upstream(), ups=[compare.Upstream])
    assert isinstance(compare.Down(up=compare.Upstream()), gokart.TaskOnKart)


SLOW = """
import time
import luigi
import gokart


class Leaf(gokart.TaskOnKart[int]):
    i = luigi.IntParameter()

    def run(self):
        time.sleep(60)
        self.dump(self.i)


class Root(gokart.TaskOnKart[int]):
    def requires(self):
        return [Leaf(i=i) for i in range(3)]

    def run(self):
        self.dump(0)


print('started', flush=True)
gokart.build(Root())
"""


def test_ctrl_c_in_gokart_build_on_a_terminal_prints_the_summary_not_the_executors_frames(tmp_path):
    import pty
    import select
    import time

    (tmp_path / 'slow.py').write_text(SLOW)
    pid, fd = pty.fork()
    if pid == 0:  # the child: a script on a terminal, as a user runs it
        os.chdir(tmp_path)
        os.environ['PYTHONPATH'] = REPOSITORY
        os.execv(sys.executable, [sys.executable, 'slow.py'])
    output = b''

    def read(seconds: float, until: bytes | None = None) -> None:
        nonlocal output
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not (until and until in output):
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    return
                if not chunk:
                    return
                output += chunk

    read(60, until=b'running')
    time.sleep(1.0)  # a Leaf is in its run()
    os.write(fd, b'\x03')  # Ctrl-C through the terminal
    read(30)
    _, status = os.waitpid(pid, 0)
    text = output.decode(errors='replace').replace('\r', '')
    assert os.waitstatus_to_exitcode(status) == -2  # still KeyboardInterrupt: Python leaves by SIGINT, as 1.12 does
    assert re.search(r'interrupted Leaf\[[0-9a-f]{32}\]$', text, re.MULTILINE), text  # after the progress line's escapes
    assert 'KeyboardInterrupt: interrupted: 0 tasks done, 4 not run; run the same command to resume' in text, text
    traceback = text[text.index('Traceback') :]
    assert traceback.count('  File ') <= 3 and 'execution/local.py' not in traceback, traceback
