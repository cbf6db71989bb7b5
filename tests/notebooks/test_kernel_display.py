"""A task as a cell's value is a picture of its DAG; gokart.plan(task) is a table of what a build would do."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

import pytest

from tests.notebooks.conftest import Kernel

pytestmark = pytest.mark.timeout(300)

TASKS = '''
import gokart, luigi

class Prices(luigi.ExternalTask):
    """External data: nothing makes it."""
    def output(self):
        return luigi.LocalTarget('external/prices.pkl')

class Leaf(gokart.TaskOnKart[int]):
    i = luigi.IntParameter()
    def run(self):
        self.dump(self.i)

class Priced(gokart.TaskOnKart[int]):
    def requires(self):
        return Prices()
    def run(self):
        self.dump(len(self.load()))

class Root(gokart.TaskOnKart[int]):
    n = luigi.IntParameter(default=2)
    def requires(self):
        return {'leaves': [Leaf(i=i) for i in range(self.n)], 'priced': Priced()}
    def run(self):
        self.dump(1)

gokart.build(Leaf(i=0))
'''


@pytest.fixture(scope='module')
def display_kernel(kernel: Kernel) -> Kernel:
    kernel.run(TASKS).ok()
    return kernel


def _svg(page: str) -> ElementTree.Element:
    match = re.search(r'<svg.*</svg>', page, re.S)
    assert match, page
    return ElementTree.fromstring(match.group(0))


def _tasks(svg: ElementTree.Element) -> list[tuple[str, str, str]]:
    """(name, state, tooltip) of each task box."""
    found = []
    for group in svg.iter('{http://www.w3.org/2000/svg}g'):
        texts = [t.text or '' for t in group.iter('{http://www.w3.org/2000/svg}text')]
        title = group.find('{http://www.w3.org/2000/svg}title')
        found.append((texts[0], group.attrib['data-state'], title.text if title is not None else ''))
    return found


def test_task_shows_its_dag_coloured_by_state(display_kernel: Kernel) -> None:
    cell = display_kernel.run('Root()').ok()
    page = cell.result('text/html')
    tasks = sorted(_tasks(_svg(page)))
    assert [(name, state) for name, state, _ in tasks] == [
        ('Leaf', 'cached'),
        ('Leaf', 'will run'),
        ('Priced', 'missing input'),
        ('Prices', 'missing input'),
        ('Root', 'missing input'),
    ]
    leaf_id = display_kernel.run('Leaf(i=0).make_unique_id()').ok().result().strip("'")
    cached_tooltip = next(tip for name, state, tip in tasks if state == 'cached')
    assert f'Leaf[{leaf_id}]' in cached_tooltip and f'output: ./resources/__main__/Leaf_{leaf_id}.pkl' in cached_tooltip
    assert 'output: external/prices.pkl (missing)' in next(tip for name, _, tip in tasks if name == 'Prices')
    assert cell.result().startswith('Root[')  # the text form is unchanged


def test_big_dag_collapses_repeated_families_and_says_so(display_kernel: Kernel) -> None:
    page = display_kernel.run('Root(n=500)').ok().result('text/html')
    tasks = _tasks(_svg(page))
    assert len(tasks) == 4
    leaves = next(t for t in tasks if t[0].startswith('Leaf'))
    assert leaves[0] == 'Leaf ×500' and leaves[1] == 'mixed' and '1 cached' in leaves[2] and '499 will run' in leaves[2]
    assert '503 tasks, more than 40: each family repeated in a layer is drawn as one box' in page
    assert len(page) < 10_000


def test_plan_is_a_table_of_what_a_build_would_do(display_kernel: Kernel) -> None:
    cell = display_kernel.run('plan = gokart.plan(Root())\nplan').ok()
    page = cell.result('text/html')
    assert re.findall(r'<th>(\w+)</th>', page) == ['task', 'id', 'state', 'reason']
    rows = re.findall(r'<tr><td>(\w+)</td><td><code>(\w+)</code></td><td[^>]*>([\w ]+)</td><td>([^<]*)</td></tr>', page)
    states = {(name, state) for name, _, state, _ in rows}
    assert ('Leaf', 'cached') in states and ('Leaf', 'will run') in states and ('Prices', 'missing input') in states
    assert all(len(unique_id) == 32 for name, unique_id, _, _ in rows if name != 'Prices')  # a luigi task has its task_id
    assert 'to run' in cell.result()  # the text form is gokart plan's
    assert display_kernel.run('len(plan.to_run), len(plan.cached)').ok().result() == '(4, 1)'
    # Nothing ran.
    assert display_kernel.run('Root().complete()').ok().result() == 'False'
