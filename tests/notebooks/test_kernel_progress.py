"""A live progress display in the cell during gokart.build in a kernel; off with progress=False or GOKART_PROGRESS=0."""

from __future__ import annotations

import pytest

from tests.notebooks.conftest import Kernel

pytestmark = pytest.mark.timeout(300)

TASKS = """
import os, time
import gokart, luigi

class Nap(gokart.TaskOnKart[int]):
    i = luigi.IntParameter()
    tag = luigi.Parameter(default='')

    def run(self):
        time.sleep(0.8)
        self.dump(self.i)

class Naps(gokart.TaskOnKart[int]):
    tag = luigi.Parameter(default='')
    fail = luigi.BoolParameter(default=False)

    def requires(self):
        return [Nap(i=i, tag=self.tag) for i in range(2)]

    def run(self):
        if self.fail:
            raise RuntimeError('no sum today')
        self.dump(sum(self.load()))
"""


@pytest.fixture(scope='module')
def html_kernel(kernel: Kernel) -> Kernel:
    """Without ipywidgets (blocked in the kernel), the display is redrawn HTML with a text fallback."""
    kernel.run('import sys\nsys.modules["ipywidgets"] = None\n' + TASKS).ok()
    return kernel


def test_progress_is_live_and_ends_finished(html_kernel: Kernel) -> None:
    cell = html_kernel.run('gokart.build(Naps(tag="a"))').ok()
    drawings = cell.drawings()
    assert any('1 running' in d and 'Nap' in d for d in drawings), drawings  # seen while a task ran
    assert drawings[-1].startswith('gokart 3/3 | 3 done, 0 cached, 0 running, 0 failed'), drawings
    assert drawings[-1].endswith('| finished')
    html = [o['data']['text/html'] for o in cell.outputs if o['output_type'] == 'display_data']
    assert len(html) == 1 and 'gokart-progress' in html[0]  # one display, redrawn in place
    cached = html_kernel.run('gokart.build(Naps(tag="a"))').ok().drawings()
    assert cached[-1].startswith('gokart 1/1 | 0 done, 1 cached'), cached


def test_progress_ends_failed(html_kernel: Kernel) -> None:
    cell = html_kernel.run('gokart.build(Naps(tag="b", fail=True))')
    assert cell.error is not None and cell.error['ename'] == 'GokartBuildError'
    last = cell.drawings()[-1]
    assert '2 done' in last and '1 failed' in last and last.endswith('| failed'), last


def test_progress_ends_interrupted(html_kernel: Kernel) -> None:
    cell = html_kernel.run(
        'import threading, signal\nthreading.Timer(0.4, os.kill, (os.getpid(), signal.SIGINT)).start()\ngokart.build(Naps(tag="c"))\n'
    )
    assert cell.error is not None and cell.error['ename'] == 'KeyboardInterrupt'
    assert cell.drawings()[-1].endswith('| interrupted'), cell.drawings()


@pytest.mark.parametrize('switch', ['progress=False', 'GOKART_PROGRESS=0'])
def test_progress_can_be_turned_off(html_kernel: Kernel, switch: str) -> None:
    if switch == 'progress=False':
        code = 'gokart.build(Naps(tag="d"), progress=False)'
    else:
        code = 'os.environ["GOKART_PROGRESS"] = "0"\ntry:\n    gokart.build(Naps(tag="e"))\nfinally:\n    del os.environ["GOKART_PROGRESS"]'
    cell = html_kernel.run(code).ok()
    assert cell.drawings() == []


def test_progress_is_a_widget_where_ipywidgets_is_installed(html_kernel: Kernel) -> None:
    pytest.importorskip('ipywidgets')
    html_kernel.run('del sys.modules["ipywidgets"]').ok()
    try:
        cell = html_kernel.run('gokart.build(Naps(tag="f"))').ok()
    finally:
        html_kernel.run('sys.modules["ipywidgets"] = None').ok()
    assert any('application/vnd.jupyter.widget-view+json' in data for data in cell.displays)
    bar = [v for v in cell.widget_values('value') if isinstance(v, int)]
    label = [v for v in cell.widget_values('value') if isinstance(v, str)]
    assert bar[-1] == 3 and cell.widget_values('max')[-1] == 3
    assert cell.widget_values('bar_style')[-1] == 'success'
    assert any('running: Nap' in v for v in label), label
    assert label[-1].startswith('gokart 3/3 | 3 done') and label[-1].endswith('| finished')
