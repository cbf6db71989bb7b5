"""``gokart rekey``: a workspace built under one id scheme is reused under the other after a rekey."""

from __future__ import annotations

import os

import pytest
from rekey_pipeline import RUNS, Root

import gokart
from gokart.commands.cli import main
from gokart.commands.rekey import CONFLICT, COPIED, IN_PLACE, MOVED, rekey
from gokart.ids import id_scheme
from gokart.storage import filesystem as storage


@pytest.fixture(autouse=True)
def fresh_runs():
    RUNS.clear()
    yield
    id_scheme._read = None


def build_under(scheme: int, **params) -> list[str]:
    """Build Root under ``scheme``; the names of the tasks that ran."""
    RUNS.clear()
    with id_scheme.use(scheme):
        gokart.build(Root(**params), reset_register=False)
    return sorted(RUNS)


def files(directory: str = 'resources') -> set[str]:
    """The outputs and records in the workspace (not the run-lock file, which carries no id)."""
    found = {os.path.relpath(os.path.join(d, f), directory) for d, _, names in os.walk(directory) for f in names}
    return {f for f in found if not f.startswith('.gokart')}  # the run locks and the lineage journal: not outputs or records


def test_a_workspace_built_under_scheme1_is_reused_under_scheme2_after_rekey():
    assert build_under(1) == ['Both', 'Root', 'Source', 'Source', 'Step', 'Step', 'Step', 'Step']
    before = files()
    report = rekey(Root(), to_scheme=2)
    assert report.count(MOVED) == len(before)  # every output and record had an id in its name
    assert build_under(2) == []
    with id_scheme.use(2):
        assert Root().output().load() == 7
        assert {f for f in files() if Root().make_unique_id() in f} and not any(Root().make_unique_id() in f for f in before)
    assert len(files()) == len(before)


def test_rekey_is_idempotent_and_goes_back_to_scheme1():
    build_under(1)
    before = files()
    rekey(Root(), to_scheme=2)
    again = rekey(Root(), to_scheme=2)
    assert again.count(MOVED) == 0 and again.count(IN_PLACE) == len(before)
    back = rekey(Root(), to_scheme=1)
    assert back.count(MOVED) == len(before)
    assert files() == before
    assert build_under(1) == []


def test_dry_run_changes_nothing_and_copy_keeps_the_old_names():
    build_under(1)
    before = files()
    dry = rekey(Root(), to_scheme=2, dry_run=True)
    assert dry.count(MOVED) == len(before) and files() == before
    assert any('would be moved' in line for line in dry.table())
    copied = rekey(Root(), to_scheme=2, copy=True)
    assert copied.count(COPIED) == len(before) and before < files()
    assert build_under(1) == [] and build_under(2) == []


def test_an_interrupted_rekey_is_finished_by_running_it_again(monkeypatch):
    build_under(1)
    before = files()
    moves = []
    real_move = storage.move

    def crash_after_five(source: str, destination: str) -> None:
        if len(moves) == 5:
            raise KeyboardInterrupt('the machine went down')
        moves.append(source)
        real_move(source, destination)

    monkeypatch.setattr(storage, 'move', crash_after_five)
    with pytest.raises(KeyboardInterrupt):
        rekey(Root(), to_scheme=2)
    monkeypatch.setattr(storage, 'move', real_move)
    finished = rekey(Root(), to_scheme=2)
    assert finished.count(IN_PLACE) == 5 and finished.count(MOVED) == len(before) - 5
    assert build_under(2) == []


def test_an_object_store_move_cut_short_after_its_copy_is_finished():
    build_under(1)
    report = rekey(Root(), to_scheme=2, copy=True)  # what a move leaves when it stops between copy and delete
    finished = rekey(Root(), to_scheme=2)
    assert finished.count(IN_PLACE) == report.count(COPIED)
    assert not {move.source for task in finished.tasks for move in task.files if os.path.exists(move.source)}


def test_files_that_differ_under_both_names_are_left_alone():
    build_under(1)
    build_under(2)
    report = rekey(Root(), to_scheme=2)
    assert report.count(CONFLICT) > 0  # the task_params records differ: the two builds wrote different text
    conflicts = [move for task in report.tasks for move in task.files if move.state == CONFLICT]
    assert all(os.path.exists(m.source) and os.path.exists(m.destination) for m in conflicts)


def test_signed_outputs_are_re_signed_under_their_new_names(monkeypatch):
    from gokart.storage import signing

    monkeypatch.setenv('GOKART_PICKLE_SIGNING_KEY', 'rekey-test-key')
    build_under(1)
    with id_scheme.use(1), open(Root().output().path(), 'rb') as f:
        assert signing.split_trailer(f)[1] is not None  # the output is signed, under its scheme-1 name
    rekey(Root(), to_scheme=2)
    assert build_under(2) == []
    with id_scheme.use(2):
        assert Root().output().load() == 7  # a signature bound to the old name would be refused here


def test_the_command_prints_a_table_and_needs_to(capsys, monkeypatch):
    build_under(1)
    assert main(['rekey', 'rekey_pipeline:Root']) == 2
    assert '--to 2' in capsys.readouterr().err
    assert main(['rekey', '--to', '2', '--dry-run', 'rekey_pipeline:Root', '--depth', '3']) == 0
    out = capsys.readouterr().out.splitlines()
    with id_scheme.use(1):
        old = Root().make_unique_id()
    with id_scheme.use(2):
        new = Root().make_unique_id()
    assert out[0].split() == ['task', 'scheme-1', 'id', 'scheme-2', 'id', 'files']
    assert out[1].split()[:4] == ['Root', old, '->', new]
    assert out[-1].startswith('8 tasks: 49 files would be moved')
    assert main(['rekey', 'rekey_pipeline:Root', '--to', '2']) == 0
    capsys.readouterr()
    monkeypatch.setenv('GOKART_ID_SCHEME', '2')
    id_scheme.refresh()
    assert main(['plan', 'rekey_pipeline:Root']) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-2].startswith('ids: scheme 2 (Merkle) in force; ./resources/ holds scheme-2 outputs (0 runs under scheme-1 ids, 8 under')
    assert out[-1] == '0 to run, 1 cached'


def test_plan_says_when_the_workspace_holds_the_other_scheme(capsys):
    build_under(1)
    with id_scheme.use(2):
        assert main(['plan', 'rekey_pipeline:Root']) == 0
    line = capsys.readouterr().out.splitlines()[-2]
    assert 'holds scheme-1 outputs (8 runs under scheme-1 ids' in line
    assert 'gokart rekey --to 2 MODULE:TASK' in line


def test_the_report_names_the_scheme_in_force_and_the_workspaces(tmp_path):
    build_under(1)
    with id_scheme.use(2):
        page = (tmp_path / gokart.report(Root(), 'report.html')).read_text()
    assert 'id scheme 2 (the workspace holds scheme-1 runs: gokart rekey --to 2)' in page
