"""Early cutoff (issue 33): a task whose inputs came out with the content its last run read is not run again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import cutoff_pipeline
import luigi
import pytest
from cutoff_pipeline import RUNS, Base, First, Link, Top

import gokart

TESTS = os.path.dirname(os.path.abspath(__file__))
REPOSITORY = os.path.dirname(TESTS)


@pytest.fixture(autouse=True)
def fresh_counts():
    RUNS.clear()
    yield
    RUNS.clear()


def configure(section: str, option: str, value: str) -> None:
    """A changed parameter, set where a team sets one ([Section] option), and fresh task instances."""
    luigi.configuration.get_config().set(section, option, value)
    luigi.task_register.Register.clear_instance_cache()


def journal(workspace: str = 'resources') -> list[dict]:
    folder = os.path.join(workspace, '.gokart', 'lineage')
    found = []
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name)) as f:
            found.extend(json.loads(line) for line in f if line.strip())
    return [r for r in found if 'class' in r]


def cut_off_runs(records: list[dict]) -> list[dict]:
    return [r for r in records if r.get('cutoff_from')]


@pytest.fixture
def cutoff_on(monkeypatch):
    monkeypatch.setenv('GOKART_EARLY_CUTOFF', 'true')


def test_a_chain_of_100_stops_at_the_first_unchanged_output(cutoff_on):
    gokart.build(Link(n=99), log_level=40)
    assert len(RUNS) == 101
    RUNS.clear()
    configure('First', 'level', '2')  # First gets a new id: so does every Link below it
    result = gokart.build(Link(n=99), log_level=40)
    assert RUNS == ['First']  # no run() after the first
    assert result == [1, 2, 3, *range(100)]
    new_ids = {Link(n=i).make_unique_id() for i in range(100)}
    records = journal()
    cut = cut_off_runs(records)
    assert {r['id'] for r in cut} == new_ids
    old_ids = {r['id'] for r in records if r['class'] == 'Link' and not r.get('cutoff_from')}
    assert {r['cutoff_from']['id'] for r in cut} == old_ids  # each names the run its output came from
    link = Link(n=5)
    assert os.path.exists(f'resources/log/task_log/Link_{link.make_unique_id()}.pkl')  # its log/ records as for a run


def test_without_cutoff_all_100_run_as_in_gokart_1_12():
    gokart.build(Link(n=99), log_level=40)
    RUNS.clear()
    configure('First', 'level', '2')
    gokart.build(Link(n=99), log_level=40)
    assert len(RUNS) == 101
    assert not cut_off_runs(journal())


def test_a_diamond_reruns_the_branch_that_changed_and_cuts_off_the_one_that_did_not(cutoff_on):
    gokart.build(Top(), log_level=40)
    RUNS.clear()
    configure('Base', 'value', '2')  # Right's part of Base changes, Left's does not
    assert gokart.build(Top(), log_level=40) == 10 + 2
    assert sorted(RUNS) == ['Base', 'Left', 'Right', 'Top']  # Left reran (its input changed) but wrote the same: BelowLeft is cut off
    [cut] = cut_off_runs(journal())
    assert cut['class'] == 'BelowLeft'


def test_an_upstream_with_a_changed_output_reruns_everything_below_it(cutoff_on):
    gokart.build(Top(), log_level=40)
    RUNS.clear()
    configure('Base', 'label', 'b')  # a new id, the same output: nothing below runs
    assert gokart.build(Top(), log_level=40) == 11
    assert RUNS == ['Base']
    assert {r['class'] for r in cut_off_runs(journal())} == {'Left', 'Right', 'BelowLeft', 'Top'}


def test_a_cut_off_chain_with_worker_processes_and_threads(cutoff_on):
    gokart.build(Link(n=20), log_level=40)
    configure('First', 'level', '2')
    gokart.build(Link(n=20), log_level=40, workers=2)
    assert len(cut_off_runs(journal())) == 21
    configure('First', 'level', '3')
    gokart.build(Link(n=20), log_level=40, workers=2, parallel='thread')
    assert len(cut_off_runs(journal())) == 42
    assert gokart.build(Link(n=20), log_level=40) == [1, 2, 3, *range(21)]


def test_the_luigi_executor_cuts_off_too(cutoff_on):
    gokart.build(Link(n=5), log_level=40)
    configure('First', 'level', '2')
    assert gokart.build(Link(n=5), log_level=40, executor='luigi') == [1, 2, 3, *range(6)]
    assert len(cut_off_runs(journal())) == 6


def test_rerun_is_never_cut_off(cutoff_on):
    gokart.build(Link(n=2), log_level=40)
    RUNS.clear()
    configure('First', 'level', '2')
    gokart.build(Link(n=2, rerun=True), log_level=40)
    assert 'Link2' in RUNS


def test_a_cut_off_output_of_a_signed_workspace_loads_at_its_new_place(cutoff_on, monkeypatch):
    monkeypatch.setenv('GOKART_PICKLE_SIGNING_KEY', 's' * 32)
    gokart.build(Link(n=3), log_level=40)
    configure('First', 'level', '2')
    assert gokart.build(Link(n=3), log_level=40) == [1, 2, 3, 0, 1, 2, 3]
    assert len(cut_off_runs(journal())) == 4  # signed again for the new place, so the next task's load accepts it


def make_upstream_look_newer() -> None:
    """Link0's output rewritten after Link1 ran (its time later than Link1's output's, both in the past), the bytes unchanged."""
    import time

    upstream, downstream = Link(n=0).output().path(), Link(n=1).output().path()
    now = time.time()
    os.utime(downstream, (now - 200, now - 200))
    with open(upstream, 'rb') as f:
        data = f.read()
    with open(upstream, 'wb') as f:
        f.write(data)
    os.utime(upstream, (now - 100, now - 100))


def test_modification_time_check_goes_by_content_with_cutoff(cutoff_on):
    root = Link(n=1, modification_time_check=True)
    gokart.build(root, log_level=40)
    RUNS.clear()
    make_upstream_look_newer()  # rewritten since, with the same bytes
    luigi.task_register.Register.clear_instance_cache()
    gokart.build(Link(n=1, modification_time_check=True), log_level=40)
    assert RUNS == []  # the same content: not stale


def test_modification_time_check_without_cutoff_stays_by_time():
    gokart.build(Link(n=1, modification_time_check=True), log_level=40)
    RUNS.clear()
    make_upstream_look_newer()
    luigi.task_register.Register.clear_instance_cache()
    gokart.build(Link(n=1, modification_time_check=True), log_level=40)
    assert RUNS == ['Link1']


# ----- a kill while a cut-off output is placed --------------------------------------------------
KILLED_PLACEMENT = textwrap.dedent(
    """
    import os, shutil, signal, sys
    import luigi
    import gokart
    from cutoff_pipeline import Link
    os.environ['GOKART_EARLY_CUTOFF'] = 'true'
    where = sys.argv[1]
    luigi.configuration.get_config().set('First', 'level', '2')
    if where == 'link':  # between the hard link made beside the output and its rename into place
        real_replace = os.replace
        def replace(source, target, *args, **kwargs):
            if '.gokart-tmp' in str(source) and 'Link_' in str(target):
                os.kill(os.getpid(), signal.SIGKILL)
            return real_replace(source, target, *args, **kwargs)
        os.replace = replace
    else:  # no hard links on this file system: killed halfway through the copy
        def no_link(*args, **kwargs):
            raise OSError(18, 'Invalid cross-device link')
        os.link = no_link
        real_copy = shutil.copyfileobj
        def copy(source, destination, length=0):
            destination.write(source.read(7))
            destination.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        shutil.copyfileobj = copy
    gokart.build(Link(n=3), log_level=40)
    """
)


@pytest.mark.parametrize('where', ['link', 'copy'])
def test_a_kill_during_placement_leaves_the_output_whole_or_absent(cutoff_on, where):
    gokart.build(Link(n=3), log_level=40)
    environment = {**os.environ, 'PYTHONPATH': os.pathsep.join([REPOSITORY, TESTS])}
    killed = subprocess.run([sys.executable, '-c', KILLED_PLACEMENT, where], env=environment, capture_output=True, timeout=120)
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]
    configure('First', 'level', '2')
    placed_at = Link(n=0).output().path()
    assert not os.path.exists(placed_at)  # the kill came before the output was whole: it is absent, not partial
    RUNS.clear()
    assert gokart.build(Link(n=3), log_level=40) == [1, 2, 3, 0, 1, 2, 3]
    assert RUNS == []  # First ran in the killed build; the next build cuts off the rest


# ----- a refactored helper under code_fingerprint_check -----------------------------------------
HELPER_V1 = """
def features(values):
    return [v * 2 for v in values]
"""
HELPER_V2 = """
def features(values):
    doubled = []
    for value in values:  # refactored: the same result
        doubled.append(value + value)
    return doubled
"""
FINGERPRINTED = """
import gokart
from helpers import features


class Raw(gokart.TaskOnKart):
    def run(self):
        self.dump([1, 2, 3])


class Features(gokart.TaskOnKart):
    def requires(self):
        return Raw(code_fingerprint_check=True)

    def run(self):
        self.dump(features(self.load()))


class Train(gokart.TaskOnKart):
    def requires(self):
        return Features(code_fingerprint_check=True)

    def run(self):
        self.dump(sum(self.load()))


class Report(gokart.TaskOnKart):
    def requires(self):
        return Train(code_fingerprint_check=True)

    def run(self):
        self.dump(f'total {self.load()}')
"""


def test_a_refactored_helper_reruns_only_the_task_that_calls_it(tmp_path, monkeypatch):
    project = tmp_path / 'project'
    project.mkdir()
    (project / 'pipeline.py').write_text(FINGERPRINTED)
    environment = {**os.environ, 'PYTHONPATH': os.pathsep.join([REPOSITORY, str(project)]), 'GOKART_EARLY_CUTOFF': 'true'}
    build = 'import gokart, pipeline; print(gokart.build(pipeline.Report(code_fingerprint_check=True), log_level=40))'
    for helper in (HELPER_V1, HELPER_V2):
        (project / 'helpers.py').write_text(helper)
        done = subprocess.run([sys.executable, '-c', build], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.strip() == 'total 12'
    records = journal(str(tmp_path / 'resources'))
    ran = [r['class'] for r in records if not r.get('cutoff_from')]
    assert ran == ['Raw', 'Features', 'Train', 'Report', 'Features']  # the second build ran only Features
    assert [r['class'] for r in cut_off_runs(records)] == ['Train', 'Report']


def test_cutoff_is_off_by_default_and_named_in_gokart_config():
    from gokart.core import settings

    assert settings.value('early_cutoff') is False
    assert cutoff_pipeline.RUNS is RUNS
    assert Base().make_unique_id() != Base(label='b').make_unique_id()
    assert First(level=2).make_unique_id() != First().make_unique_id()  # ids stay built from inputs


# ----- saying it: plan, why, the build's summary, gokart.runs --------------------------------------
def test_plan_and_why_say_what_cutoff_would_do(cutoff_on):
    from gokart.commands import explain

    gokart.build(Link(n=2), log_level=40)
    configure('First', 'level', '2')
    steps = {step.name + str(step.task.n if step.name == 'Link' else ''): step for step in explain.plan(Link(n=2))}
    assert steps['First'].cutoff is None  # its own parameter changed: it runs
    assert "may be cut off (runs only if First's output changes)" in steps['Link0'].explanation()
    assert "may be cut off (runs only if Link's output changes)" in steps['Link2'].explanation()
    gokart.build(First(), log_level=40)
    luigi.task_register.Register.clear_instance_cache()
    assert 'will be cut off: its inputs have the content the run Link_' in explain.why(Link(n=0)).explanation()


def test_why_names_the_input_that_changed(cutoff_on):
    from gokart.commands import explain

    gokart.build(Top(), log_level=40)
    configure('Base', 'value', '2')
    gokart.build(Base(), log_level=40)
    luigi.task_register.Register.clear_instance_cache()
    assert 'not cut off: Base_' in explain.why(cutoff_pipeline.Right()).explanation()


def test_the_build_summary_and_gokart_runs_show_the_cut_off_runs(cutoff_on):
    from gokart.execution import local

    gokart.build(Link(n=3), log_level=40)
    configure('First', 'level', '2')
    outcome = local.execute([Link(n=3)])
    assert len(outcome.cut_off) == 4
    summary = outcome.summary()
    assert '* 4 were cut off' in summary and '* 1 ran successfully' in summary
    old_link0 = [r['id'] for r in journal() if r['class'] == 'Link' and r['params']['n'] == '0'][0]
    assert f'from Link_{old_link0}' in summary
    frame = gokart.runs(Link)
    spared = frame[frame['cutoff_from'].notna()]
    assert len(spared) == 4 and f'Link_{old_link0}' in set(spared['cutoff_from'])
    assert all(isinstance(h, str) and h.startswith('blake3:') for hashes in frame['output_hashes'] for h in hashes)
    configure('First', 'level', '3')
    assert len(local.execute([Link(n=3)], workers=2).cut_off) == 4  # told back from the worker processes too


def test_a_cut_off_output_can_come_from_the_team_caches_shared_workspace(cutoff_on, tmp_path):
    """CI built the chain in the shared workspace; a developer whose First has a new id gets the Links from there."""
    from gokart.storage import shared_workspace

    shared = str(tmp_path / 'team-cache')
    config = luigi.configuration.get_config()
    config.set('TaskOnKart', 'workspace_directory', shared)  # CI's builds write the team cache
    luigi.task_register.Register.clear_instance_cache()
    gokart.build(Link(n=3), log_level=40)
    RUNS.clear()
    config.set('TaskOnKart', 'workspace_directory', str(tmp_path / 'mine'))
    if not config.has_section('gokart'):
        config.add_section('gokart')
    config.set('gokart', 'shared_workspace', shared)
    shared_workspace.refresh()
    try:
        configure('First', 'level', '2')
        assert gokart.build(Link(n=3), log_level=40) == [1, 2, 3, 0, 1, 2, 3]
    finally:
        config.remove_option('gokart', 'shared_workspace')
        config.remove_option('TaskOnKart', 'workspace_directory')
        shared_workspace.refresh()
    assert RUNS == ['First']  # the Links were cut off from CI's runs, their outputs fetched from the team cache
    cut = cut_off_runs(journal(str(tmp_path / 'mine')))
    assert len(cut) == 4 and all(r['cutoff_from'].get('shared') for r in cut)


def test_runs_recorded_by_worker_processes_without_cutoff_can_stand_in_later(monkeypatch):
    """Made with cutoff off on two processes, a run may not have noted what it read: the hash its producer recorded serves."""
    gokart.build(Link(n=6), log_level=40, workers=2)
    monkeypatch.setenv('GOKART_EARLY_CUTOFF', 'true')
    configure('First', 'level', '2')
    RUNS.clear()
    assert gokart.build(Link(n=6), log_level=40) == [1, 2, 3, *range(7)]
    assert RUNS == ['First']
