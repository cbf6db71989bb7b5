"""Task information as text and tables, against the examples of SPEC.md section 8 (gokart 1.12.2's own output)."""

import pickle
import re

import luigi
import pytest

import gokart
from gokart.tree.task_info import dump_task_info_table, dump_task_info_tree, make_task_info_as_table, make_task_info_as_tree_str
from gokart.tree.task_info_formatter import RequiredTask, TaskInfo


# The task definitions of gokart's docs ("Task Information"), in a script run directly, as the SPEC's outputs were made.
class TaskA(gokart.TaskOnKart[str]):
    __module__ = '__main__'
    param = luigi.Parameter()

    def run(self):
        self.dump(f'{self.param}')


class TaskB(gokart.TaskOnKart[str]):
    __module__ = '__main__'
    task = gokart.TaskInstanceParameter()

    def run(self):
        self.dump(self.load('task') + ' taskB')


class TaskC(gokart.TaskOnKart[str]):
    __module__ = '__main__'
    task = gokart.TaskInstanceParameter()

    def run(self):
        self.dump(self.load('task') + ' taskC')


class TaskD(gokart.TaskOnKart[str]):
    __module__ = '__main__'
    task1 = gokart.TaskInstanceParameter()
    task2 = gokart.TaskInstanceParameter()

    def run(self):
        self.dump(self.load('task1') + ' ' + self.load('task2') + ' taskD')


def docs_task_d():
    def inner():
        return TaskD(task1=TaskC(task=TaskA(param='foo')), task2=TaskC(task=TaskB(task=TaskA(param='bar'))))

    return TaskD(task1=TaskD(task1=inner(), task2=inner()), task2=TaskD(task1=inner(), task2=inner()))


SPEC_TASK_D_TREE = """
└─-(PENDING) TaskD[66b1c27da8ab88166f2cefff537ce461]
   |--(PENDING) TaskD[4d6dbd52941d26708ae01d52a6453d65]
   |  |--(PENDING) TaskD[833f36d5c13814b49e82c4ce9584d345]
   |  |  |--(PENDING) TaskC[66d4ec7ae14c9eb2ca0db4d835d83ace]
   |  |  |  └─-(PENDING) TaskA[be65508b556dd3752359b4246791413d]
   |  |  └─-(PENDING) TaskC[7b0a387ef40a9f4fddfd5088736ec71c]
   |  |     └─-(PENDING) TaskB[169999e765ef9d2a15d91a4dc58c1aac]
   |  |        └─-(PENDING) TaskA[5a824f7d232eb69d46f0ac6bbd93b565]
   |  └─-(PENDING) TaskD[833f36d5c13814b49e82c4ce9584d345]
   |     └─- ...
   └─-(PENDING) TaskD[4d6dbd52941d26708ae01d52a6453d65]
      └─- ..."""

SPEC_DETAILS_TREE = """
└─-(COMPLETE) TaskC[66d4ec7ae14c9eb2ca0db4d835d83ace](parameter={'task': 'TaskA-be65508b556dd3752359b4246791413d'}, output=['./resources/__main__/TaskC_66d4ec7ae14c9eb2ca0db4d835d83ace.pkl'], time=0.0006105899810791016s, task_log={'file_path': ['./resources/__main__/TaskC_66d4ec7ae14c9eb2ca0db4d835d83ace.pkl']})
   └─-(COMPLETE) TaskA[be65508b556dd3752359b4246791413d](parameter={'param': 'foo'}, output=['./resources/__main__/TaskA_be65508b556dd3752359b4246791413d.pkl'], time=0.00034308433532714844s, task_log={'file_path': ['./resources/__main__/TaskA_be65508b556dd3752359b4246791413d.pkl']})"""  # noqa: E501

TIME = re.compile(r'time=[0-9.e-]+s')


def test_docs_task_d_tree_with_abbreviation_matches_spec_exactly():
    assert make_task_info_as_tree_str(docs_task_d()) == SPEC_TASK_D_TREE


def test_without_abbreviation_repeated_subtrees_are_printed_in_full():
    text = make_task_info_as_tree_str(docs_task_d(), abbr=False)
    assert '...' not in text
    assert text.count('TaskD[833f36d5c13814b49e82c4ce9584d345]') == 4
    assert text.count('\n') == 1 + 2 + 4 + 4 * 5  # the root, 2 + 4 TaskD, and the 5 tasks under each inner TaskD
    assert text.startswith('\n└─-(PENDING) TaskD[66b1c27da8ab88166f2cefff537ce461]') and not text.endswith('\n')


def test_ignored_task_names_are_left_out_with_their_subtrees():
    text = make_task_info_as_tree_str(docs_task_d(), ignore_task_names=['TaskB'])
    assert 'TaskB' not in text and 'TaskA[5a824f7d232eb69d46f0ac6bbd93b565]' not in text
    assert '   |  |  └─-(PENDING) TaskC[7b0a387ef40a9f4fddfd5088736ec71c]\n   |  └─-(PENDING) TaskD' in text


def test_details_after_a_build_match_spec_but_for_the_measured_times():
    task = TaskC(task=TaskA(param='foo'))
    gokart.build(task, reset_register=False)
    text = make_task_info_as_tree_str(task, details=True)
    assert TIME.sub('time=Xs', text) == TIME.sub('time=Xs', SPEC_DETAILS_TREE)


def test_a_pending_task_shows_unknown_time_and_an_empty_task_log():
    text = make_task_info_as_tree_str(TaskA(param='never built'), details=True)
    assert text.endswith('time=unknown, task_log={})')
    assert text.startswith('\n└─-(PENDING) TaskA[')


def test_old_names_give_the_same_tree():
    task = docs_task_d()
    assert gokart.make_tree_info(task) == SPEC_TASK_D_TREE
    assert gokart.make_tree_info(task, details=True) == make_task_info_as_tree_str(task, details=True)


def test_table_has_one_row_per_distinct_task_in_preorder_with_spec_columns():
    task = TaskC(task=TaskA(param='foo'))
    gokart.build(task, reset_register=False)
    table = make_task_info_as_table(task)
    assert list(table.columns) == ['name', 'unique_id', 'output_paths', 'params', 'processing_time', 'is_complete', 'task_log', 'requires']
    assert list(table['name']) == ['TaskC', 'TaskA']
    first = table.iloc[0]
    assert first['unique_id'] == '66d4ec7ae14c9eb2ca0db4d835d83ace'
    assert first['output_paths'] == ['./resources/__main__/TaskC_66d4ec7ae14c9eb2ca0db4d835d83ace.pkl']
    assert first['params'] == {'task': 'TaskA-be65508b556dd3752359b4246791413d'}
    assert first['is_complete'] == 'COMPLETE' and first['processing_time'].endswith('s')
    assert first['task_log'] == {'file_path': ['./resources/__main__/TaskC_66d4ec7ae14c9eb2ca0db4d835d83ace.pkl']}
    assert first['requires'] == {'task': RequiredTask(name='TaskA', unique_id='be65508b556dd3752359b4246791413d')}
    assert table.iloc[1]['requires'] == []
    assert len(make_task_info_as_table(docs_task_d())) == 8  # 3 TaskD, 2 TaskC, 1 TaskB, 2 TaskA


def test_dump_task_info_table_inserts_the_root_id_and_follows_the_extension(tmp_path):
    task = TaskC(task=TaskA(param='foo'))
    dump_task_info_table(task, 'info/table.csv')
    written = tmp_path / 'info' / 'table_66d4ec7ae14c9eb2ca0db4d835d83ace.csv'
    assert written.read_text().splitlines()[0] == 'name,unique_id,output_paths,params,processing_time,is_complete,task_log,requires'


def test_dump_task_info_tree_pickles_task_info_and_insists_on_pkl(tmp_path):
    task = TaskC(task=TaskA(param='foo'))
    with pytest.raises(AssertionError, match='File extention must be `.pkl`, not `.csv`.'):
        dump_task_info_tree(task, 'info/tree.csv')
    dump_task_info_tree(task, 'info/tree.pkl')
    dump_task_info_tree(task, 'info/plain.pkl', use_unique_id=False)
    with open(tmp_path / 'info' / 'tree_66d4ec7ae14c9eb2ca0db4d835d83ace.pkl', 'rb') as f:
        info = pickle.load(f)
    assert isinstance(info, TaskInfo)
    assert (info.name, info.unique_id, info.is_complete) == ('TaskC', '66d4ec7ae14c9eb2ca0db4d835d83ace', 'PENDING')
    assert [child.name for child in info.children_task_infos] == ['TaskA']
    assert (tmp_path / 'info' / 'plain.pkl').exists()


class TreeInfoCliRoot(gokart.TaskOnKart[str]):
    task = gokart.TaskInstanceParameter(default=TaskA(param='foo'))

    def run(self):
        self.dump('done')


@pytest.mark.parametrize('mode, details', [('simple', False), ('all', True)])
def test_run_with_tree_info_mode_writes_the_tree_and_runs_nothing(tmp_path, mode, details):
    with pytest.raises(SystemExit) as exit_info:
        gokart.run(['TreeInfoCliRoot', '--local-scheduler', f'--tree-info-mode={mode}', '--tree-info-output-path=tree.txt'])
    assert exit_info.value.code == 0
    written = (tmp_path / 'resources' / 'tree.txt').read_text()
    assert written == make_task_info_as_tree_str(TreeInfoCliRoot(), details=details)
    assert written.startswith('\n└─-(PENDING) TreeInfoCliRoot[')
    assert not (tmp_path / 'resources' / '__main__').exists()
