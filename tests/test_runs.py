"""Runs and lineage (issue 25): the journal, the index and its sync, gokart.runs / lineage / diff / load_run, the CLI and its page."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import luigi
import pandas as pd
import pytest
import runs_pipeline
from runs_pipeline import Chosen, Data, Leaf, Train, Wide

import gokart
from gokart.errors import GokartBuildError, GokartError
from gokart.records import lineage as journal
from gokart.runs import index
from gokart.runs.where import WhereError

TESTS = os.path.dirname(os.path.abspath(__file__))
REPOSITORY = os.path.dirname(TESTS)
ENVIRONMENT = {**os.environ, 'PYTHONPATH': os.pathsep.join([REPOSITORY, TESTS])}


def build_grid() -> list[Train]:
    tasks = [Train(c=c, model=model) for c in (0.1, 0.5, 0.9) for model in ('svm', 'rf')]
    for task in tasks:
        gokart.build(task, log_level=40)
    return tasks


def files_under(root: str) -> set[str]:
    return {os.path.relpath(os.path.join(d, f), root) for d, _, names in os.walk(root) for f in names}


def journal_files() -> set[str]:
    folder = os.path.join('resources', '.gokart', 'lineage')
    return set(os.listdir(folder)) if os.path.isdir(folder) else set()


# ----- the journal ---------------------------------------------------------------------------
def test_a_cold_build_adds_one_journal_for_the_process_and_leaves_the_1_12_file_set_as_it_is():
    gokart.build(Wide(size=30), log_level=40)
    found = files_under('resources')
    hidden = {f for f in found if f.startswith('.gokart' + os.sep)}
    assert hidden == {os.path.join('.gokart', 'lineage', name) for name in journal_files()} | {os.path.join('.gokart', 'workspace-id')}
    assert len(journal_files()) == 1  # one journal for 31 tasks, not a file per task
    visible = found - hidden - {os.path.join('.gokart-locks', 'tasks.lock')}
    assert len(visible) == 31 * 6  # the output and the five log/ records of each task, as gokart 1.12 leaves them
    [name] = journal_files()
    records = [json.loads(line) for line in open(os.path.join('resources', '.gokart', 'lineage', name))]
    assert len(records) == 31 and len({(r['stream'], r['seq']) for r in records}) == 31
    root = records[-1]
    assert root['class'] == 'Wide' and root['id'] == Wide(size=30).make_unique_id() and root['state'] == 'SUCCESS'
    assert sorted(r['id'] for r in root['requires']) == sorted(Leaf(index=i).make_unique_id() for i in range(30))
    assert root['requires'][0]['outputs'][0].startswith(os.path.abspath('resources'))
    assert root['host'] and root['user'] and root['end'] >= root['start'] and root['scheme'] == 1


def test_the_journal_is_readable_while_the_build_runs():
    seen: list[int] = []

    class Reader(gokart.TaskOnKart[int]):
        def requires(self):
            return [Leaf(index=i) for i in range(4)]

        def run(self):
            seen.append(len(gokart.runs(Leaf)))
            self.dump(0)

    gokart.build(Reader(), log_level=40)
    assert seen == [4]
    # This process's journal is still open (it is published, renamed .jsonl, when the process ends): read line by line.
    assert [n for n in journal_files() if n.endswith(journal.OPEN_SUFFIX)] != []


def test_a_crashed_build_keeps_the_runs_journaled_before_the_crash():
    result = subprocess.run([sys.executable, os.path.join(TESTS, 'runs_pipeline.py'), 'crash'], env=ENVIRONMENT, capture_output=True)
    assert result.returncode == 9
    assert any(name.endswith(journal.OPEN_SUFFIX) for name in journal_files())  # never published: the process was killed
    leaves = gokart.runs(Leaf)
    assert sorted(leaves['index']) == [0, 1, 2]
    assert set(leaves['source']) == {'journal'} and set(leaves['state']) == {'SUCCESS'}
    crashed = gokart.runs(runs_pipeline.Crashing)
    assert list(crashed['state']) == ['STARTED']  # from its log/ task_params record only: it never finished


def test_a_failed_run_is_journaled_with_its_error():
    class Failing(gokart.TaskOnKart[int]):
        def run(self):
            raise RuntimeError('no data today')

    with pytest.raises(GokartBuildError):
        gokart.build(Failing(), log_level=50)
    found = gokart.runs(Failing)
    assert list(found['state']) == ['FAILURE'] and 'no data today' in found['error'][0]


# ----- the index and its sync ----------------------------------------------------------------
def test_runs_have_decoded_parameters_metrics_and_output_state():
    tasks = build_grid()
    found = gokart.runs(Train)
    assert len(found) == 6
    assert set(found['unique_id']) == {t.make_unique_id() for t in tasks}
    row = found[(found['c'] == 0.5) & (found['model'] == 'rf')].iloc[0]
    assert isinstance(row['c'], float) and row['accuracy'] == 1.0 and row['rows'] == 10.0
    assert row['data'] == f'Data_{Data().make_unique_id()}'  # an upstream task as its family and id
    assert row['output_exists'] and row['output_size'] > 0 and row['state'] == 'SUCCESS'
    assert row['requires'] == [f'Data_{Data().make_unique_id()}']
    assert isinstance(row['start_time'], pd.Timestamp) and row['processing_time'] >= 0
    os.remove(row['output_paths'][0])
    again = gokart.runs(Train)
    assert not again.set_index('unique_id').loc[row['unique_id'], 'output_exists']


def test_runs_recorded_before_the_journal_still_appear_from_their_log_records():
    build_grid()
    with_journal = gokart.runs(Train).set_index('unique_id')
    shutil.rmtree(os.path.join('resources', '.gokart'))  # as a workspace built by gokart 1.12 (or before this journal) is
    found = gokart.runs(Train).set_index('unique_id')
    assert set(found['source']) == {'log records'}
    assert sorted(found.index) == sorted(with_journal.index)
    columns = ['c', 'model', 'data', 'accuracy', 'rows', 'state', 'output_exists', 'output_paths']
    pd.testing.assert_frame_equal(found.loc[with_journal.index, columns], with_journal[columns])


def test_a_deleted_database_is_rebuilt_with_nothing_lost():
    build_grid()
    before = gokart.runs(Train)
    database = index.database_path('./resources')
    assert os.path.exists(database)
    for suffix in ('', '-wal', '-shm'):
        if os.path.exists(database + suffix):
            os.remove(database + suffix)
    after = gokart.runs(Train)
    pd.testing.assert_frame_equal(before, after)


def test_a_sync_with_nothing_new_reads_no_file():
    build_grid()
    first = gokart.runs.sync('./resources')
    assert first.journal_records == 7 and first.log_runs == 0  # the log/ records of journaled runs are not read
    assert gokart.runs.sync('./resources').files_read == 0
    gokart.build(Train(c=0.7), log_level=40)
    result = gokart.runs.sync('./resources')
    assert (result.journal_records, result.files_read) == (1, 1)  # the new line of the open journal, from where the last sync stopped
    assert gokart.runs.sync('./resources').files_read == 0


def test_sync_during_a_concurrent_build_loses_and_duplicates_no_run():
    size = 120
    build = subprocess.Popen([sys.executable, os.path.join(TESTS, 'runs_pipeline.py'), 'build', str(size), 'x', '2'], env=ENVIRONMENT)
    counts = []
    while build.poll() is None and not os.path.isdir('resources'):  # before the build makes it, there is no workspace to ask
        pass
    while build.poll() is None:
        counts.append(len(gokart.runs(Leaf)))
    assert build.wait() == 0
    final = gokart.runs(Leaf)
    assert len(final) == size and final['unique_id'].is_unique
    assert sorted(final['index']) == list(range(size))
    assert counts == sorted(counts)  # rows only ever appear
    database = index.database_path('./resources')
    for suffix in ('', '-wal', '-shm'):
        if os.path.exists(database + suffix):
            os.remove(database + suffix)
    rebuilt = gokart.runs(Leaf)
    assert sorted(rebuilt['unique_id']) == sorted(final['unique_id'])


def test_two_processes_syncing_at_once_index_each_run_once():
    gokart.build(Wide(size=50), log_level=40)
    code = 'import gokart, runs_pipeline; print(len(gokart.runs(runs_pipeline.Leaf)))'
    syncs = [subprocess.Popen([sys.executable, '-c', code], env=ENVIRONMENT, stdout=subprocess.PIPE, text=True) for _ in range(3)]
    outputs = [p.communicate()[0].strip() for p in syncs]
    assert outputs == ['50', '50', '50']
    connection = index.connect('./resources')
    assert connection.execute("SELECT count(*) FROM runs WHERE class = 'Leaf'").fetchone()[0] == 50


@pytest.mark.parametrize('scheme', [1, 2])
def test_runs_of_scheme_1_and_scheme_2_workspaces(scheme, monkeypatch):
    from gokart.ids import id_scheme

    with id_scheme.use(scheme):
        tasks = build_grid()
        ids = {t.make_unique_id() for t in tasks}
        found = gokart.runs(Train)
        assert set(found['unique_id']) == ids and set(found['scheme']) == {scheme}
        shutil.rmtree(os.path.join('resources', '.gokart'))
        from_log = gokart.runs(Train)
        assert set(from_log['unique_id']) == ids and set(from_log['c']) == {0.1, 0.5, 0.9}


# ----- where ---------------------------------------------------------------------------------
def test_where_selects_by_parameters_metrics_and_built_in_columns():
    build_grid()
    found = gokart.runs(Train, where="c > 0.3 and model == 'svm'")
    assert sorted(found['c']) == [0.5, 0.9] and set(found['model']) == {'svm'}
    assert sorted(gokart.runs('runs_pipeline:Train', where='accuracy > 0.8')['c']) == [0.5, 0.5]
    assert len(gokart.runs(Train, where="model in ('rf',) and not c < 0.5")) == 2
    assert len(gokart.runs(Train, where="state == 'SUCCESS' and 0.2 < c < 0.6")) == 2
    assert len(gokart.runs(Train, where='model == "x\' OR 1=1 --"')) == 0  # values are bound, never spliced into SQL


def test_where_over_a_list_parameter_is_applied_to_the_frame():
    gokart.build(Chosen(names=['a', 'b']), log_level=40)
    gokart.build(Chosen(names=['c']), log_level=40)
    assert len(gokart.runs(Chosen)) == 2
    assert [list(v) for v in gokart.runs(Chosen, where="state == 'SUCCESS' and names != ('c',)")['names']] == [['a', 'b']]


@pytest.mark.parametrize(
    'expression',
    [
        '__import__("os").system("touch pwned")',
        "open('pwned', 'w')",
        'c.__class__.__subclasses__()',
        '[x for x in ()]',
        'lambda: 1',
        'c + 1 > 2',
        "model == f'{c}'",
        '(x := 1)',
        'c in model',
    ],
)
def test_a_where_expression_that_tries_to_run_code_is_refused_with_a_clear_error(expression):
    build_grid()
    with pytest.raises(WhereError, match='is not allowed|is not an expression') as raised:
        gokart.runs(Train, where=expression)
    assert 'never run as code' in str(raised.value) or 'comparisons of columns' in str(raised.value)
    assert not os.path.exists('pwned')


def test_a_where_naming_no_column_says_which_columns_there_are():
    build_grid()
    with pytest.raises(WhereError, match="no column 'modle'; did you mean 'model'.*columns: unique_id"):
        gokart.runs(Train, where="modle == 'svm'")
    assert gokart.runs(Train, where='gamma > 1').empty  # like no column: a metric no run has recorded yet (issue 31)


# ----- load_run, lineage, diff ---------------------------------------------------------------
def test_load_run_loads_the_output_of_a_run_by_id_or_prefix():
    tasks = build_grid()
    expected = tasks[0].output().load()
    assert gokart.load_run(tasks[0].make_unique_id()) == expected
    assert gokart.load_run(tasks[0].make_unique_id()[:10]) == expected
    with pytest.raises(gokart.runs.RunNotFoundError, match='no recorded run'):
        gokart.load_run('0' * 32)


def test_lineage_up_traces_a_model_back_to_its_data_and_down_finds_every_consumer():
    tasks = build_grid()
    best = gokart.runs(Train).sort_values('accuracy', ascending=False).iloc[0]
    up = gokart.lineage(best['output_paths'][0])
    assert list(up['family']) == ['Train', 'Data'] and list(up['depth']) == [0, 1]
    assert up['unique_id'][1] == Data().make_unique_id() and up['params'][1] == {'rows': '10'}
    assert up['path'][1] == os.path.abspath(Data().output().path())
    down = gokart.lineage(Data().output().path(), direction='down')
    assert sorted(down['unique_id']) == sorted(t.make_unique_id() for t in tasks) and set(down['depth']) == {1}
    assert len(gokart.lineage(Data(), direction='down')) == 7  # the task itself, then its 6 consumers
    assert len(gokart.lineage(tasks[0], depth=0)) == 1


def test_diff_names_parameter_upstream_and_output_differences():
    gokart.build(Train(c=0.1), log_level=40)
    gokart.build(Train(c=0.1, data=Data(rows=4)), log_level=40)
    a, b = Train(c=0.1).make_unique_id(), Train(c=0.1, data=Data(rows=4)).make_unique_id()
    found = gokart.diff(a, b)
    assert found.parameters == [('data.rows', '10', '4')]  # the task held in data, leaf by leaf (issue 31)
    assert found.upstream == [('Data', Data().make_unique_id(), Data(rows=4).make_unique_id())]
    assert ('metric rows', 10.0, 4.0) in found.output
    frames = gokart.diff(Data().make_unique_id(), Data(rows=4).make_unique_id())
    assert ('shape', (10, 2), (4, 2)) in frames.output and 'parameter rows' in str(frames)


# ----- the command line ----------------------------------------------------------------------
def gokart_command(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, '-m', 'gokart', *arguments], env=ENVIRONMENT, capture_output=True, text=True)


def test_gokart_runs_lineage_and_diff_on_the_command_line():
    tasks = build_grid()
    listed = gokart_command('runs', 'runs_pipeline:Train', '--where', "model == 'svm'", '--sort', 'accuracy', '--desc')
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split()[:4] == ['unique_id', 'c', 'model', 'data'] and len(lines) == 4
    assert lines[1].split()[1] == '0.5'
    as_csv = gokart_command('runs', 'runs_pipeline:Train', '--format', 'csv')
    assert len(pd.read_csv(__import__('io').StringIO(as_csv.stdout))) == 6
    as_json = json.loads(gokart_command('runs', 'runs_pipeline:Train', '--format', 'json').stdout)
    assert {r['unique_id'] for r in as_json} == {t.make_unique_id() for t in tasks}
    up = gokart_command('lineage', 'runs_pipeline:Train', '--c', '0.5', '--model', 'rf')
    assert up.returncode == 0, up.stderr
    assert up.stdout.splitlines()[0].startswith(f'Train_{Train(c=0.5, model="rf").make_unique_id()} (c=0.5, ')
    assert up.stdout.splitlines()[1].startswith(f'  Data_{Data().make_unique_id()} (rows=10)')
    down = gokart_command('lineage', '--down', Data().output().path())
    assert len(down.stdout.splitlines()) == 6
    diff = gokart_command('diff', tasks[0].make_unique_id(), tasks[1].make_unique_id()[:8])
    assert "parameter model: 'svm' -> 'rf'" in diff.stdout
    refused = gokart_command('runs', 'runs_pipeline:Train', '--where', "__import__('os')")
    assert refused.returncode == 1 and 'is not allowed' in refused.stderr


def test_gc_leaves_the_journal_and_the_index_alone():
    build_grid()
    gokart.runs(Train)
    result = gokart_command('gc', 'runs_pipeline:Train', '--c', '0.1')
    assert result.returncode == 0, result.stderr
    assert '.gokart' + os.sep not in result.stdout and '.gokart/' not in result.stdout


CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which('google-chrome')


@pytest.mark.skipif(CHROMIUM is None, reason='no chromium binary on PATH (Debian: apt-get install chromium)')
def test_chromium_draws_the_runs_page_sorted_with_one_point_per_run(tmp_path):
    build_grid()
    page = tmp_path / 'runs.html'
    result = gokart_command('runs', 'runs_pipeline:Train', '--html', str(page))
    assert result.returncode == 0, result.stderr
    text = page.read_text()
    assert re.findall(r'https?://[^"\s\']+', text) == ['http://www.w3.org/2000/svg']  # the SVG namespace, never fetched
    assert '<link' not in text and ' src=' not in text
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run(
            [
                CHROMIUM,
                '--headless',
                '--no-sandbox',
                '--disable-gpu',
                f'--user-data-dir={profile}',
                '--dump-dom',
                f'file://{page}#sort=c:desc&y=accuracy',
            ],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
    rows = re.findall(r'<tr class="run">(.*?)</tr>', dom)
    assert len(rows) == 6
    values_of_c = [float(re.findall(r'<td[^>]*>([^<]*)</td>', row)[1]) for row in rows]
    assert values_of_c == sorted(values_of_c, reverse=True)  # the script ran and sorted by the fragment's column
    assert len(re.findall(r'<circle ', dom)) == 6
    assert 'data-x="c" data-y="accuracy"' in dom  # the fragment chose the plotted metric


def test_runs_takes_a_class_a_task_or_a_name():
    build_grid()
    assert len(gokart.runs(Train)) == len(gokart.runs(Train())) == len(gokart.runs('runs_pipeline.Train')) == 6
    with pytest.raises(GokartError, match='cannot import no_such_module'):
        gokart.runs('no_such_module:Train')


def test_the_demo_prints_the_runs_of_its_two_models_and_the_lineage_of_the_best(tmp_path):
    demo = os.path.join(REPOSITORY, 'examples', 'demo.py')
    result = subprocess.run([sys.executable, demo, '--workspace', str(tmp_path / 'demo')], env=ENVIRONMENT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    runs_part = result.stdout.split('$ gokart runs wine_pipeline:EvaluateModel', 1)[1].split('$ gokart lineage', 1)
    table = [line for line in runs_part[0].splitlines()[1:] if line.strip()]
    assert table[0].split()[0] == 'unique_id' and len(table) == 3  # the header and the two models
    lineage_lines = [line for line in runs_part[1].splitlines()[1:] if line.strip()]
    assert lineage_lines[0].startswith('EvaluateModel_') and lineage_lines[-1].strip().startswith('LoadWineData_')
    assert table[1].split()[0] in lineage_lines[0]  # the best (sorted first) is the one traced


# ----- issue 31: right answers -----------------------------------------------------------------
def test_an_upstream_column_names_the_run_the_run_read_not_one_computed_under_todays_settings():
    config = luigi.configuration.get_config()
    config.set('TaskOnKart', 'code_fingerprint_check', 'true')
    luigi.task_register.Register.clear_instance_cache()
    gokart.build(Train(c=0.3, data=Data()), log_level=40)
    config.remove_option('TaskOnKart', 'code_fingerprint_check')
    luigi.task_register.Register.clear_instance_cache()
    read = Data().make_unique_id()  # today's id of Data(): without the fingerprint, another id than the run read
    [row] = gokart.runs(Train).to_dict('records')
    [required] = row['requires']
    assert row['data'] == required and required != f'Data_{read}'
    assert gokart.runs(Train, where=f"data == 'Data_{read}'").empty
    assert len(gokart.runs(Train, where=f"data == '{required}'")) == 1


def test_an_upstream_column_of_a_run_known_only_from_log_records_takes_the_id_from_the_upstream_records():
    config = luigi.configuration.get_config()
    config.set('TaskOnKart', 'code_fingerprint_check', 'true')
    luigi.task_register.Register.clear_instance_cache()
    gokart.build(Train(c=0.3, data=Data()), log_level=40)
    recorded = Data().make_unique_id()
    config.remove_option('TaskOnKart', 'code_fingerprint_check')
    luigi.task_register.Register.clear_instance_cache()
    shutil.rmtree(os.path.join('resources', '.gokart'))  # as gokart 1.12 leaves a workspace
    [row] = gokart.runs(Train).to_dict('records')
    assert row['data'] == f'Data_{recorded}'


def test_csv_of_an_empty_result_is_the_header():
    build_grid()
    found = gokart_command('runs', 'runs_pipeline:Train', '--where', 'c > 5', '--format', 'csv')
    assert found.returncode == 0, found.stderr
    [header] = found.stdout.splitlines()
    assert header.split(',')[:4] == ['unique_id', 'family', 'c', 'model']


def test_one_id_grammar_full_prefix_and_family_form_with_percent_and_underscore_as_plain_characters():
    tasks = build_grid()
    unique_id = tasks[0].make_unique_id()
    other = tasks[1].make_unique_id()
    for name in (unique_id, unique_id[:8], f'Train_{unique_id}', f'Train_{unique_id[:8]}'):
        assert gokart.load_run(name) == gokart.load_run(unique_id), name
        assert list(gokart.lineage(name)['unique_id'])[0] == unique_id, name
        assert gokart.diff(name, other).a == f'Train_{unique_id}', name
    for pattern in ('______', '%%%%%%', unique_id[:6] + '%', '_' + unique_id[1:8], f'Data_{unique_id}'):
        with pytest.raises(gokart.runs.RunNotFoundError):
            gokart.load_run(pattern)
        with pytest.raises(gokart.runs.RunNotFoundError):
            gokart.lineage(pattern)
    with pytest.raises(gokart.runs.RunNotFoundError, match='6 characters'):
        gokart.load_run(unique_id[:4])
    up = gokart_command('lineage', f'Train_{unique_id[:10]}')
    assert up.returncode == 0 and up.stdout.startswith(f'Train_{unique_id} '), up.stderr
    diff = gokart_command('diff', f'Train_{unique_id}', other[:8])
    assert diff.returncode == 0 and "parameter model: 'svm' -> 'rf'" in diff.stdout, diff.stderr
    refused = gokart_command('diff', '______', other)
    assert refused.returncode == 1 and "no recorded run has the unique id '______'" in refused.stderr


# ----- issue 31: bad records and bad places ------------------------------------------------------
def close_index_files() -> str:
    """The index path with its WAL checkpointed away, so the main file holds every page."""
    database = index.database_path('./resources')
    connection = index.connect('./resources')
    connection.execute('PRAGMA wal_checkpoint(TRUNCATE)')
    connection.close()
    for suffix in ('-wal', '-shm'):
        if os.path.exists(database + suffix):
            os.remove(database + suffix)
    return database


@pytest.mark.parametrize('damage', ['random bytes', 'torn page', 'truncated'])
def test_a_damaged_index_is_set_aside_and_rebuilt_with_one_warning(damage, caplog):
    build_grid()
    before = gokart.runs(Train)
    database = close_index_files()
    size = os.path.getsize(database)
    with open(database, 'r+b') as f:
        if damage == 'random bytes':
            f.write(os.urandom(size))
        elif damage == 'torn page':
            f.seek(4096 * 2)  # a page of the runs table, past the header
            f.write(os.urandom(4096))
        else:
            f.truncate(size // 3)
    with caplog.at_level('WARNING', logger='gokart.runs'):
        after = gokart.runs(Train)
    pd.testing.assert_frame_equal(before, after)
    warnings = [r for r in caplog.records if 'damaged' in r.getMessage()]
    assert len(warnings) == 1 and 'rebuilt from the records' in warnings[0].getMessage()
    assert [n for n in os.listdir(os.path.dirname(database)) if '.damaged-' in n]
    assert len(gokart.runs(Train)) == 6 and len([r for r in caplog.records if 'damaged' in r.getMessage()]) == 1


def test_journal_lines_of_unexpected_types_are_skipped_with_a_warning_naming_file_and_line(caplog):
    build_grid()
    [name] = journal_files()
    path = os.path.join('resources', '.gokart', 'lineage', name)
    lines_before = sum(1 for _ in open(path))
    bad = [
        {'class': 'Train', 'id': 'f' * 32, 'family': {'a': 1}},
        {'class': 'Train', 'id': 'e' * 32, 'requires': 'Data_123'},
        {'class': 'Train', 'id': 'd' * 32, 'params': ['c', 1]},
        {'class': ['Train'], 'id': 'c' * 32},
    ]
    with open(path, 'a') as f:
        for record in bad:
            f.write(json.dumps(record) + '\n')
        f.write('{"class": "Train", "id": \n')  # not JSON
    with caplog.at_level('WARNING', logger='gokart.runs'):
        found = gokart.runs(Train)
        assert len(gokart.runs(Train, where='c > 0.2')) == 4
        assert len(gokart.lineage(found['output_paths'][0][0])) == 2
    assert len(found) == 6 and not found['unique_id'].str.fullmatch('[c-f]{32}').any()
    [warning] = [r.getMessage() for r in caplog.records if 'skipped' in r.getMessage()]
    assert path.split(os.sep)[-1] in warning and '5 unreadable record(s)' in warning
    assert f'line {lines_before + 1}: family is dict' in warning and f'line {lines_before + 2}: requires is str' in warning
    os.remove(path)
    assert len(gokart.runs(Train)) == 6  # what was indexed stays; nothing of the bad lines ever entered


def test_a_missing_workspace_is_an_error_that_names_the_close_one_and_creates_nothing():
    build_grid()
    with pytest.raises(gokart.runs.WorkspaceNotFoundError, match=r'no workspace at \./resourcse.*did you mean \./resources\?'):
        gokart.runs(Train, workspace='./resourcse')
    assert not os.path.exists('resourcse')
    os.chdir(tempfile.mkdtemp())
    for ask in (
        lambda: gokart.runs(Train),
        lambda: gokart.load_run('abcdef'),
        lambda: gokart.lineage('abcdef'),
        lambda: gokart.runs.sync(),
    ):
        with pytest.raises(gokart.runs.WorkspaceNotFoundError):
            ask()
    assert os.listdir('.') == []
    refused = gokart_command('runs', 'runs_pipeline:Train', '--workspace', './nowhere')
    assert refused.returncode == 1 and 'no workspace at ./nowhere' in refused.stderr and 'Traceback' not in refused.stderr


def test_a_full_disk_is_said_so(tmp_path):
    build_grid()
    database = index.database_path('./resources')
    for suffix in ('', '-wal', '-shm'):
        if os.path.exists(database + suffix):
            os.remove(database + suffix)
    os.symlink('/dev/full', database)  # every write there fails with ENOSPC, as on a full disk
    with pytest.raises(gokart.runs.IndexUnavailableError, match='the disk is full'):
        gokart.runs(Train)
    assert os.path.islink(database)  # not taken for damage and set aside


READ_ONLY = shutil.which('unshare') is not None and (
    subprocess.run(['unshare', '-rm', 'sh', '-c', 'mount --bind / / 2>/dev/null || mount --bind /tmp /tmp'], capture_output=True).returncode
    == 0
)


@pytest.mark.skipif(not READ_ONLY, reason='needs unshare and user namespaces to mount the workspace read-only')
def test_a_read_only_workspace_keeps_its_index_in_the_users_cache(tmp_path):
    build_grid()
    expected = sorted(gokart.runs(Train)['unique_id'])
    shutil.rmtree(os.path.join('resources', '.gokart', 'runs.sqlite'), ignore_errors=True)
    for name in os.listdir(os.path.join('resources', '.gokart')):
        if name.startswith('runs.sqlite'):
            os.remove(os.path.join('resources', '.gokart', name))
    cache = tmp_path / 'cache'
    code = 'import gokart, runs_pipeline; print(",".join(sorted(gokart.runs(runs_pipeline.Train)["unique_id"])))'
    script = f"mount --bind resources resources && mount -o remount,bind,ro resources && {sys.executable} -c '{code}'"
    result = subprocess.run(
        ['unshare', '-rm', 'sh', '-c', script], env={**ENVIRONMENT, 'GOKART_CACHE_DIR': str(cache)}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split(',') == expected
    assert [p.name for p in (cache / 'runs').iterdir() if p.suffix == '.sqlite'] != []
    assert not [n for n in os.listdir(os.path.join('resources', '.gokart')) if n.startswith('runs.sqlite')]


def test_journal_chunks_copied_from_another_workspace_are_left_out_with_a_warning(caplog):
    build_grid()
    gokart.build(Train(c=0.7, workspace_directory='./elsewhere'), log_level=40)
    journal.close()  # publish this process's journals (.open -> .jsonl), as at the end of a process
    folder = os.path.join('elsewhere', '.gokart', 'lineage')
    [copied] = os.listdir(folder)
    shutil.copy(os.path.join(folder, copied), os.path.join('resources', '.gokart', 'lineage', 'copied-00000.jsonl'))
    with caplog.at_level('WARNING', logger='gokart.runs'):
        found = gokart.runs(Train)
        again = gokart.runs(Train)
    assert len(found) == len(again) == 6 and 0.7 not in set(found['c'])
    [warning] = [r.getMessage() for r in caplog.records if 'another workspace' in r.getMessage()]
    assert 'copied-00000.jsonl' in warning and 'left out 1 record(s)' in warning  # Train's; its Data() wrote to ./resources
    assert len(gokart.runs(Train, workspace='./elsewhere')) == 1


# ----- issue 31: where over the usual layout ----------------------------------------------------------
def test_where_over_upstream_parameters_output_columns_typos_and_metrics_not_recorded_yet():
    for c, rows in ((0.1, 3), (0.5, 6), (0.9, 9)):
        gokart.build(Train(c=c, data=Data(rows=rows)), log_level=40)
    assert sorted(gokart.runs(Train, where='data.rows > 4')['c']) == [0.5, 0.9]
    assert sorted(gokart.runs(Train, where='data.rows > 4 and c < 0.7')['c']) == [0.5]
    assert len(gokart.runs(Train, where='output_exists == True')) == 3
    os.remove(Train(c=0.1, data=Data(rows=3)).output().path())
    assert sorted(gokart.runs(Train, where='output_exists == False')['c']) == [0.1]
    with pytest.raises(WhereError, match="did you mean 'accuracy'"):
        gokart.runs(Train, where='acuracy > 0.5')
    with pytest.raises(WhereError, match="did you mean 'c'"):
        gokart.runs(Train, where='C > 0.5')
    assert gokart.runs(Train, where='f1_macro > 0.5').empty  # a metric no run has recorded yet
    assert len(gokart.runs(Train, where='error == None')) == 3


@pytest.mark.parametrize(
    'where',
    [
        '1 == 1',
        "'a' < 'b'",
        'not ' * 5000 + 'c > 1',
        '(' * 300 + 'c > 1' + ')' * 300,
        "start_time > 'yesterday'",
        "end_time < '2026-13-45'",
    ],
)
def test_where_refuses_what_it_cannot_answer_with_a_where_error(where):
    build_grid()
    with pytest.raises(WhereError):
        gokart.runs(Train, where=where)


def test_long_and_or_chains_and_nul_bytes_compare_right():
    build_grid()
    assert len(gokart.runs(Train, where=' and '.join(['c > 0.2'] * 2000))) == 4
    assert len(gokart.runs(Train, where=' or '.join([f'c == {i / 10}' for i in range(3000)]))) == 6
    gokart.build(Train(c=0.3, model='a\x00b'), log_level=40)
    gokart.build(Train(c=0.3, model='a'), log_level=40)
    assert list(gokart.runs(Train, where="model == 'a\x00b'")['model']) == ['a\x00b']
    assert list(gokart.runs(Train, where="model == 'a\\x00b'")['model']) == ['a\x00b']
    assert list(gokart.runs(Train, where="model == 'a'")['model']) == ['a']


def test_runs_html_with_an_unknown_axis_is_an_error(tmp_path):
    build_grid()
    refused = gokart_command('runs', 'runs_pipeline:Train', '--html', str(tmp_path / 'page.html'), '--x', 'accuracyy')
    assert refused.returncode == 1 and '--x accuracyy is no column of these runs; did you mean accuracy?' in refused.stderr
    assert not (tmp_path / 'page.html').exists()


def test_diff_is_readable_nested_changes_identical_metrics_changed_cells_with_no_module_imported():
    gokart.build(Train(c=0.1), log_level=40)
    gokart.build(Train(c=0.1, data=Data(rows=4)), log_level=40)
    gokart.build(Train(c=0.1, model='rf'), log_level=40)
    base = Train(c=0.1).make_unique_id()
    # The command imports no module of the pipeline: the records are decoded as they are.
    nested = gokart_command('diff', base, Train(c=0.1, data=Data(rows=4)).make_unique_id())
    assert nested.returncode == 0, nested.stderr
    assert "parameter data.rows: '10' -> '4'" in nested.stdout and 'BZh' not in nested.stdout and '425a68' not in nested.stdout
    same_metrics = gokart.diff(base, Train(c=0.1, model='rf').make_unique_id())
    assert same_metrics.output == [] and 'metrics identical (accuracy=0.8, rows=10)' in str(same_metrics)
    gokart.build(Data(rows=10), log_level=40)
    frames = gokart.diff(Data().make_unique_id(), Data(rows=4).make_unique_id())
    assert ('shape', (10, 2), (4, 2)) in frames.output
    shown = str(gokart.diff(Data().make_unique_id(), Data().make_unique_id()))
    assert 'no difference recorded' in shown


def test_diff_of_two_frames_of_one_shape_names_the_changed_cells():
    class Numbers(gokart.TaskOnKart[pd.DataFrame]):
        bump = luigi.IntParameter(default=0)

        def run(self):
            self.dump(pd.DataFrame({'x': [1.0, 2.0, 3.0 + self.bump, 4.0], 'y': [0, 1, 0, 1]}))

    gokart.build(Numbers(), log_level=40)
    gokart.build(Numbers(bump=5), log_level=40)
    found = gokart.diff(Numbers().make_unique_id(), Numbers(bump=5).make_unique_id())
    assert ('values (1 of 4 rows differ)', {'x[2]': 3.0}, {'x[2]': 8.0}) in found.output
    assert "values: 'differ'" not in str(found)
