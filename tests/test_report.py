"""The HTML DAG report: states, layout, a self-contained page, and what headless Chromium draws of a 50-task DAG."""

import os
import re
import shutil
import subprocess
import tempfile

import luigi
import pytest

import gokart
from gokart.commands.report import NodeState, collect_graph, report, write_report
from gokart.execution import execute

CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which('google-chrome')
CHROMIUM_FLAGS = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
]


class Source(gokart.TaskOnKart[int]):
    index = luigi.IntParameter()

    def run(self):
        self.dump(self.index)


class Feature(gokart.TaskOnKart[int]):
    source = gokart.TaskInstanceParameter()
    fail = luigi.BoolParameter(default=False)

    def run(self):
        if self.fail:
            raise RuntimeError('feature failed on purpose')
        self.dump(self.load('source') * 2)


class Merge(gokart.TaskOnKart[int]):
    features = gokart.ListTaskInstanceParameter()

    def requires(self):
        return self.features

    def run(self):
        self.dump(sum(self.load()))


def fifty_task_dag(failing_feature: int = 7):
    """20 sources, 20 features, 9 merges of 4 features (with overlap), and a final merge: 50 tasks."""
    features = [Feature(source=Source(index=i), fail=(i == failing_feature)) for i in range(20)]
    merges = [Merge(features=features[2 * k : 2 * k + 4]) for k in range(9)]
    return Merge(features=merges)


def test_states_without_a_build_come_from_existing_outputs_and_rerun_deletes_nothing(tmp_path):
    gokart.build(Source(index=1), reset_register=False)
    graph = collect_graph(Feature(source=Source(index=1, rerun=True)))
    states = {n.name: n.state for n in graph.nodes}
    assert states == {'Feature': NodeState.PENDING, 'Source': NodeState.CACHED}
    assert Source(index=1).output().exists()
    source = next(n for n in graph.nodes if n.name == 'Source')
    assert source.outputs[0].size and source.outputs[0].size > 0 and source.processing_time is not None
    assert source.params == {'index': '1'}


def test_layers_put_every_requirement_left_of_its_dependents():
    graph = collect_graph(fifty_task_dag())
    assert len(graph.nodes) == 50
    assert all(graph.nodes[r].layer < node.layer for node in graph.nodes for r in node.requirements)
    assert graph.nodes[graph.root].layer == max(n.layer for n in graph.nodes)
    assert sorted(len(layer) for layer in graph.layers) == [1, 9, 20, 20]


def test_states_after_a_build_are_cached_ran_failed_and_pending(tmp_path):
    gokart.build(Source(index=0), reset_register=False)
    root = fifty_task_dag()
    outcome = execute([root])
    graph = collect_graph(root, outcome=outcome)
    counts = {state: graph.count(state) for state in NodeState}
    # Source 0 was cached; Feature 7 failed; the merges holding it (k=2,3) and the final merge are left pending.
    assert counts == {NodeState.CACHED: 1, NodeState.RAN: 45, NodeState.FAILED: 1, NodeState.PENDING: 3}
    failed = next(n for n in graph.nodes if n.state is NodeState.FAILED)
    assert failed.params['fail'] == 'True' and 'feature failed on purpose' in (failed.error or '')


def test_the_page_is_one_self_contained_file(tmp_path):
    path = report(fifty_task_dag(), str(tmp_path / 'out' / 'report.html'))
    page = open(path, encoding='utf-8').read()
    assert page.startswith('<!DOCTYPE html>')
    assert '<link' not in page and ' src=' not in page and '@import' not in page
    assert re.findall(r'https?://[^"\s]+', page) == ['http://www.w3.org/2000/svg']  # the SVG namespace, never fetched
    assert page.count('<g class="node ') == 50


def _chromium(*arguments: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [CHROMIUM, *CHROMIUM_FLAGS, f'--user-data-dir={profile}', *arguments],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.skipif(CHROMIUM is None, reason='no chromium binary on PATH (Debian: apt-get install chromium)')
def test_chromium_draws_every_task_of_a_50_task_dag_with_its_state(tmp_path):
    gokart.build(Source(index=0), reset_register=False)
    root = fifty_task_dag()
    outcome = execute([root])
    path = write_report(root, str(tmp_path / 'report.html'), outcome=outcome)
    url = 'file://' + os.path.abspath(path)

    dom = _chromium('--dump-dom', url + '#q=fail=true')
    nodes = re.findall(r'<g class="node state-(\w+)([^"]*)" id="task-(\w+?)_([0-9a-f]{32})"[^>]*data-state="(\w+)"', dom)
    assert len(nodes) == 50
    assert len({(name, uid) for _, _, name, uid, _ in nodes}) == 50
    expected = {f'{type(t).__name__}_{t.make_unique_id()}' for t in _all_tasks(root)}
    assert {f'{name}_{uid}' for _, _, name, uid, _ in nodes} == expected
    states = [state for state, _, _, _, data_state in nodes if state == data_state]
    assert sorted(states) == sorted(['cached'] + ['ran'] * 45 + ['failed'] + ['pending'] * 3)
    failed = [extra for state, extra, *_ in nodes if state == 'failed']
    assert 'match' in failed[0]  # the page's script ran: the #q= search marked the failing task
    assert sum('dim' in extra for _, extra, *_ in nodes) == 49
    assert len(re.findall(r'<path class="edge"', dom)) == sum(len(n.requirements) for n in collect_graph(root).nodes)

    screenshot = tmp_path / 'report.png'
    _chromium('--window-size=1400,900', '--hide-scrollbars', f'--screenshot={screenshot}', url)
    assert screenshot.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' and screenshot.stat().st_size > 20_000
    destination = os.environ.get('GOKART_REPORT_SCREENSHOT')
    if destination:  # `make screenshot` refreshes docs/images/report.png this way
        shutil.copyfile(screenshot, destination)


def _all_tasks(root):
    seen, stack = {}, [root]
    while stack:
        task = stack.pop()
        seen.setdefault(task.make_unique_id(), task)
        stack.extend(gokart.utils.flatten(task.requires()))
    return list(seen.values())


# Appended after the report's own script, so it runs once the page has sized the drawing to the window: the
# rendered size of every label in screen pixels (its font size times the SVG's scale on screen), the label box
# heights, and each node's texts.
MEASURE = """<script>
(function () {
  var svg = document.getElementById('dag'), scale = svg.getScreenCTM().a, found = [];
  document.querySelectorAll('.node').forEach(function (node) {
    var texts = {};
    node.querySelectorAll('text').forEach(function (text) {
      texts[text.getAttribute('class')] = {
        text: text.textContent,
        px: parseFloat(getComputedStyle(text).fontSize) * scale,
        box: text.getBoundingClientRect().height,
      };
    });
    found.push({id: node.id, texts: texts});
  });
  var pre = document.createElement('pre'); pre.id = 'measured'; pre.textContent = JSON.stringify(found);
  document.body.appendChild(pre);
})();
</script>"""


def _measured(path: str, window: str = '1400,900') -> list[dict]:
    import json

    page = open(path, encoding='utf-8').read()
    measuring = path.replace('.html', '-measured.html')
    with open(measuring, 'w', encoding='utf-8') as f:
        f.write(page.replace('</body>', MEASURE + '</body>'))
    dom = _chromium(f'--window-size={window}', '--hide-scrollbars', '--dump-dom', 'file://' + os.path.abspath(measuring))
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    import html as html_module

    return json.loads(html_module.unescape(found.group(1)))


@pytest.mark.skipif(CHROMIUM is None, reason='no chromium binary on PATH (Debian: apt-get install chromium)')
def test_chromium_draws_labels_of_a_50_task_dag_at_least_12_px_and_siblings_with_what_tells_them_apart(tmp_path):
    root = fifty_task_dag()
    path = report(root, str(tmp_path / 'report.html'))
    nodes = _measured(path)
    assert len(nodes) == 50
    sizes = [label['px'] for node in nodes for label in node['texts'].values()]
    assert min(sizes) >= 12, f'labels as small as {min(sizes):.1f} px in a 1400x900 window'
    assert min(label['box'] for node in nodes for label in node['texts'].values() if label['text']) >= 12
    features = {node['id']: node['texts']['distinction']['text'] for node in nodes if node['id'].startswith('task-Feature_')}
    three, seven = (f'task-Feature_{Feature(source=Source(index=i), fail=(i == 7)).make_unique_id()}' for i in (3, 7))
    assert features[three] == 'source.index=3'
    assert features[seven] == 'fail=True, source.index=7'
    assert len(set(features.values())) == 20  # every sibling reads differently, not only by its hash


@pytest.mark.skipif(CHROMIUM is None, reason='no chromium binary on PATH (Debian: apt-get install chromium)')
def test_chromium_fits_a_small_dag_to_the_window_with_larger_labels(tmp_path):
    path = report(Feature(source=Source(index=1)), str(tmp_path / 'small.html'))
    nodes = _measured(path)
    names = [node['texts']['name'] for node in nodes]
    assert all(label['px'] > 15 for label in names)  # scaled up to the window, not drawn at its smallest


NOTEBOOK_MEASURE = """<script>
(function () {
  var found = [];
  document.querySelectorAll('.gokart-task').forEach(function (task) {
    var box = task.querySelector('rect').getBoundingClientRect(), texts = [];
    task.querySelectorAll('text').forEach(function (text) {
      var r = text.getBoundingClientRect();
      texts.push({text: text.textContent, cls: text.getAttribute('class') || '', inside: r.right <= box.right + 0.5 && r.bottom <= box.bottom + 0.5});
    });
    found.push({title: task.querySelector('title').textContent.split('\\n')[0], texts: texts});
  });
  var pre = document.createElement('pre'); pre.id = 'measured'; pre.textContent = JSON.stringify(found);
  document.body.appendChild(pre);
})();
</script>"""


@pytest.mark.skipif(CHROMIUM is None, reason='no chromium binary on PATH (Debian: apt-get install chromium)')
def test_chromium_draws_the_notebook_display_with_siblings_told_apart_as_the_report_does(tmp_path):
    import html as html_module
    import json

    from gokart.notebook.display import task_html

    root = fifty_task_dag()
    page = tmp_path / 'cell.html'
    page.write_text(f'<!DOCTYPE html><html><body>{task_html(root, max_nodes=60)}{NOTEBOOK_MEASURE}</body></html>', encoding='utf-8')
    dom = _chromium('--window-size=1400,900', '--dump-dom', 'file://' + str(page))
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    tasks = json.loads(html_module.unescape(found.group(1)))
    assert len(tasks) == 50
    assert all(text['inside'] for task in tasks for text in task['texts']), 'a label runs out of its box'
    features = {
        t['title']: next(x['text'] for x in t['texts'] if x['cls'] == 'distinction') for t in tasks if t['title'].startswith('Feature[')
    }
    report_graph = collect_graph(root)
    expected = {f'{n.name}[{n.unique_id}]': n.distinction for n in report_graph.nodes if n.name == 'Feature'}
    assert {k.split(' ')[0]: v for k, v in features.items()} == expected  # the report's words for each sibling
    assert len(set(features.values())) == 20


class Stage(gokart.TaskOnKart[int]):
    """A pipeline of six stages (data, features, split, model, evaluate, compare), as a newcomer's first one."""

    depth = luigi.IntParameter()
    variant = luigi.IntParameter(default=0)

    def requires(self):
        if self.depth == 5:
            return [Stage(depth=4, variant=v) for v in range(3)]
        return [Stage(depth=self.depth - 1)] if self.depth > 0 else []

    def run(self):
        self.dump(self.depth)


PLACED = """<script>
(function () {
  var found = [];
  document.querySelectorAll('.node').forEach(function (node) {
    var box = node.querySelector('rect').getBoundingClientRect(), inside = true;
    node.querySelectorAll('text').forEach(function (text) { if (text.getBoundingClientRect().right > box.right + 0.5) inside = false; });
    found.push({left: box.left, right: box.right, top: box.top, bottom: box.bottom, labels_inside: inside});
  });
  var canvas = document.getElementById('canvas').getBoundingClientRect();
  var pre = document.createElement('pre'); pre.id = 'measured';
  pre.textContent = JSON.stringify({nodes: found, canvas: {left: canvas.left, right: canvas.right, top: canvas.top, bottom: canvas.bottom}});
  document.body.appendChild(pre);
})();
</script>"""


@pytest.mark.skipif(CHROMIUM is None, reason='no chromium binary on PATH (Debian: apt-get install chromium)')
def test_chromium_shows_every_task_of_a_six_stage_pipeline_in_a_1400_px_window_at_readable_size(tmp_path):
    import html as html_module
    import json

    path = report(Stage(depth=5), str(tmp_path / 'report.html'))
    measuring = tmp_path / 'placed.html'
    measuring.write_text(open(path, encoding='utf-8').read().replace('</body>', PLACED + '</body>'), encoding='utf-8')
    dom = _chromium('--window-size=1400,900', '--hide-scrollbars', '--dump-dom', 'file://' + str(measuring))
    found = json.loads(html_module.unescape(re.search(r'<pre id="measured">(.*?)</pre>', dom, re.S).group(1)))
    canvas, nodes = found['canvas'], found['nodes']
    assert len(nodes) == 1 + 3 + 4  # the three variants share their upstream chain
    for node in nodes:  # every task on screen, none cut off at the left (the sources) or under the panel
        assert canvas['left'] <= node['left'] and node['right'] <= canvas['right'], (node, canvas)
        assert canvas['top'] <= node['top'] and node['bottom'] <= canvas['bottom'], (node, canvas)
        assert node['labels_inside']
    widths = [node['right'] - node['left'] for node in nodes]
    assert min(widths) >= 200  # at 100%: a unit is a pixel or more, so the 12-unit labels are 12 px or more
