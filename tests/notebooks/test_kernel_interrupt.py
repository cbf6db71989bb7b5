""" "Interrupt kernel" during a build: it stops at once and leaves nothing behind, and the kernel builds on.

The tasks write their output slowly through a file processor, so the interrupt lands while the
temporary output files are half written, on the kernel's main thread (serial) and in forked workers.
"""

from __future__ import annotations

import os
import signal
import struct
import time
from pathlib import Path

import psutil
import pytest

from tests.notebooks.conftest import Kernel

pytestmark = pytest.mark.timeout(300)

TASKS = '''
import os, time
import gokart, luigi
from gokart.file_processor.base import BinaryFormatProcessor

class SlowText(BinaryFormatProcessor):
    """Writes one byte every 50 ms while the file 'slow' exists, announcing the start in started-<name>."""

    def load(self, file):
        return file.read().decode()

    def dump(self, obj, file):
        for position, character in enumerate(obj):
            file.write(character.encode())
            file.flush()
            if position == 0:
                open(f'started-{obj[:8]}', 'w').close()
            if os.path.exists('slow'):
                time.sleep(0.05)

class Slow(gokart.TaskOnKart[str]):
    i = luigi.IntParameter()
    round = luigi.Parameter()

    def output(self):
        return self.make_target(f'slow/{self.round}-{self.i}.txt', processor=SlowText())

    def run(self):
        self.dump(f'{self.round}-{self.i}'.ljust(8, '.') + 'x' * 400)

class BothSlow(gokart.TaskOnKart[list]):
    round = luigi.Parameter()

    def requires(self):
        return [Slow(i=i, round=self.round) for i in range(2)]

    def run(self):
        self.dump(self.load())
'''


def _wait_for(paths: list[Path], count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while sum(p.exists() for p in paths) < count:
        assert time.monotonic() < deadline, f'the build never started writing {paths}'
        time.sleep(0.02)


def _locked_ranges(directory: Path) -> list[str]:
    """Lock files of the workspace with a byte-range lock still held by some process (Linux OFD locks)."""
    import fcntl

    held = []
    for path in directory.rglob('*'):
        if not path.is_file():
            continue
        fd = os.open(path, os.O_RDWR)
        try:
            query = struct.pack('hhqqi', fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
            answer = fcntl.fcntl(fd, getattr(fcntl, 'F_OFD_GETLK', 36), query)
            if struct.unpack('hhqqi', answer)[0] != fcntl.F_UNLCK:
                held.append(str(path))
        finally:
            os.close(fd)
    return held


@pytest.fixture(scope='module')
def slow_kernel(kernel: Kernel) -> Kernel:
    kernel.run(TASKS).ok()
    return kernel


@pytest.mark.parametrize(('how', 'workers'), [('serial', 1), ('pool', 2), ('group', 2)])
def test_interrupt_stops_the_build_and_leaves_nothing_behind(slow_kernel: Kernel, how: str, workers: int) -> None:
    """serial: the task runs on the kernel's main thread; pool: SIGINT to the kernel, which has two forked workers;
    group: SIGINT to the kernel's process group, workers included, as Jupyter's "Interrupt kernel" sends it."""
    kernel, directory, round_name = slow_kernel, slow_kernel.directory, how
    (directory / 'slow').touch()
    children_before = {p.pid for p in psutil.Process(kernel.pid).children(recursive=True)}
    # The moment gokart.build gives control back is taken in the kernel (IPython then takes a while to
    # format the traceback, which is not the build's doing).
    running = kernel.start(
        'import time\n'
        'try:\n'
        f'    gokart.build(BothSlow(round={round_name!r}), workers={workers})\n'
        'except KeyboardInterrupt:\n'
        '    stopped_at = time.time()\n'
        '    raise\n'
    )
    names = [f'{round_name}-{i}'.ljust(8, '.')[:8] for i in range(2)]
    _wait_for([directory / f'started-{name}' for name in names], count=workers)  # each worker is writing
    interrupted_at = time.time()
    if how == 'group':
        os.killpg(os.getpgid(kernel.pid), signal.SIGINT)  # what Jupyter's "Interrupt kernel" does
    else:
        os.kill(kernel.pid, signal.SIGINT)
    cell = running.wait(timeout=30)
    stopped_after = float(kernel.run('stopped_at').ok().result()) - interrupted_at

    assert cell.error is not None and cell.error['ename'] == 'KeyboardInterrupt', cell.outputs
    assert stopped_after < 2, f'the build took {stopped_after:.1f} s to stop'
    left = {p.pid for p in psutil.Process(kernel.pid).children(recursive=True)} - children_before
    assert left == set(), f'worker processes left behind: {left}'
    workspace = directory / 'resources'
    assert [str(p.relative_to(workspace)) for p in workspace.rglob('*.gokart-tmp*')] == []
    assert sorted(p.name for p in (workspace / 'slow').glob(f'{round_name}-*')) == []  # no partial output under the real name
    assert _locked_ranges(workspace / '.gokart-locks') == [] if (workspace / '.gokart-locks').exists() else True

    # The kernel answers, and the next build of the same task finishes the job.
    (directory / 'slow').unlink()
    assert kernel.run('1 + 1').ok().result() == '2'
    finished = kernel.run(f'[len(text) for text in gokart.build(BothSlow(round={round_name!r}), workers={workers})]').ok()
    assert finished.result() == '[408, 408]'
