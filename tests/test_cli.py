"""The ``gokart`` command: tree, report, plan, why and gc on a small pipeline module in the working directory."""

import textwrap

import pytest

from gokart.commands import explain
from gokart.commands.cli import main, make_task

PIPELINE = """
import luigi
import gokart


class Load(gokart.TaskOnKart[list]):
    size = luigi.IntParameter(default=3)

    def run(self):
        self.dump(list(range(self.size)))


class Train(gokart.TaskOnKart[float]):
    data = gokart.TaskInstanceParameter(default=Load())
    lr = luigi.FloatParameter(default=0.1)

    def run(self):
        self.dump(sum(self.load('data')) * self.lr)


class Report(gokart.TaskOnKart[str]):
    size = luigi.IntParameter(default=3)

    def requires(self):
        return Load(size=self.size)

    def run(self):
        self.dump(str(self.load()))


class Count(gokart.TaskOnKart[int]):
    def requires(self):
        return Load()

    def run(self):
        self.dump(len(self.load()))
"""


@pytest.fixture
def pipeline(tmp_path):
    (tmp_path / 'cli_pipeline.py').write_text(textwrap.dedent(PIPELINE))
    import gokart

    main(['tree', 'cli_pipeline:Train'])  # imports the module from the working directory
    import cli_pipeline

    gokart.build(cli_pipeline.Train(), reset_register=False)
    gokart.build(cli_pipeline.Report(), reset_register=False)
    return cli_pipeline


def run_cli(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_parameters_are_parsed_by_each_luigi_parameter(pipeline):
    task = make_task(['cli_pipeline.Train', '--lr', '0.5', '--data', pipeline.Train.data.serialize(pipeline.Load(size=4))])
    assert task == pipeline.Train(lr=0.5, data=pipeline.Load(size=4))
    assert make_task(['cli_pipeline:Train', '--lr=0.5', '--rerun']).rerun is True


def test_tree_prints_the_spec_tree_format(pipeline, capsys):
    status, out, _ = run_cli(capsys, 'tree', 'cli_pipeline:Train', '--lr', '0.2')
    uid = pipeline.Train(lr=0.2).make_unique_id()
    assert status == 0
    assert out.splitlines() == [f'└─-(PENDING) Train[{uid}]', '   └─-(COMPLETE) Load[9e61ecf530c3c98ebfa4b55e7d10bbd9]']


def test_unknown_parameter_is_a_usage_error_naming_the_known_ones(pipeline, capsys):
    status, _, err = run_cli(capsys, 'plan', 'cli_pipeline:Train', '--rate', '0.2')
    assert status == 2
    assert 'Train has no parameter --rate' in err and '--lr' in err


def test_plan_of_a_built_pipeline_runs_nothing(pipeline, capsys):
    status, out, _ = run_cli(capsys, 'plan', 'cli_pipeline:Train')
    assert status == 0
    assert out.splitlines()[-1] == '0 to run, 1 cached'


def test_plan_reason_for_one_changed_parameter(pipeline, capsys):
    steps = explain.plan(pipeline.Train(lr=0.2))
    assert [(s.name, s.will_run, s.reason) for s in steps] == [('Load', False, None), ('Train', True, explain.CHANGED_PARAMETER)]
    assert [d.describe() for d in steps[1].differences] == ["lr: '0.1' -> '0.2'"]
    assert steps[1].closest.unique_id == pipeline.Train().make_unique_id() and steps[1].closest.output_exists
    _, out, _ = run_cli(capsys, 'plan', 'cli_pipeline:Train', '--lr', '0.2')
    assert "changed parameter (lr: '0.1' -> '0.2')" in out and out.splitlines()[-1] == '1 to run, 1 cached'


def test_plan_reason_for_one_changed_upstream_task(pipeline):
    steps = explain.plan(pipeline.Train(data=pipeline.Load(size=5)))
    by_name = {s.name: s for s in steps}
    assert by_name['Load'].reason == explain.CHANGED_PARAMETER
    assert [d.describe() for d in by_name['Load'].differences] == ["size: '3' -> '5'"]
    assert by_name['Train'].reason == explain.UPSTREAM_CHANGED
    assert [(d.name, d.cached, d.current, d.upstream) for d in by_name['Train'].differences] == [('data.size', '3', '5', True)]


def test_plan_reason_for_an_upstream_task_chosen_in_requires(pipeline):
    # Report passes `size` on to Load: its own parameter changed, and so did its requirement.
    steps = explain.plan(pipeline.Report(size=4))
    assert [(s.name, s.reason) for s in steps] == [('Load', explain.CHANGED_PARAMETER), ('Report', explain.CHANGED_PARAMETER)]


def test_plan_reason_for_the_rerun_flag_and_no_output(pipeline, capsys):
    steps = explain.plan(pipeline.Train(rerun=True))
    assert [(s.name, s.will_run, s.reason) for s in steps] == [('Load', False, None), ('Train', True, explain.RERUN)]
    assert pipeline.Train().output().exists()  # planning deleted nothing
    _, out, _ = run_cli(capsys, 'plan', 'cli_pipeline:Train', '--rerun')
    assert ': rerun flag' in out
    never_built = explain.plan(pipeline.Load(size=3, workspace_directory='./other/'))
    assert [(s.name, s.reason) for s in never_built] == [('Load', explain.NO_OUTPUT)]


def test_why_names_the_differing_parameter_and_upstream_of_cached_runs(pipeline, capsys):
    status, out, _ = run_cli(capsys, 'why', 'cli_pipeline:Train', '--lr', '0.3')
    assert status == 1
    lines = out.splitlines()
    assert lines[0].endswith(
        "a build would run it: changed parameter (lr: '0.1' -> '0.3'), closest cached run " + pipeline.Train().make_unique_id()
    )
    assert lines[1] == 'Other recorded runs of Train, nearest first:'
    assert lines[2] == f'  {pipeline.Train().make_unique_id()} (output exists)'
    assert lines[3] == "    parameter lr: '0.1' -> '0.3'"
    step = explain.why(pipeline.Train(data=pipeline.Load(size=7)))
    assert step.will_run and [(d.name, d.upstream) for d in step.runs[0].differences] == [('data.size', True)]
    status, out, _ = run_cli(capsys, 'why', 'cli_pipeline:Train')
    assert status == 0 and 'its output exists' in out


def test_gc_lists_unreachable_files_and_deletes_only_with_yes(pipeline, capsys, tmp_path):
    train_id = pipeline.Train().make_unique_id()
    status, out, _ = run_cli(capsys, 'gc', 'cli_pipeline:Load', '+', 'cli_pipeline:Report')
    assert status == 0
    assert out.splitlines()[0].startswith('./resources/: ')  # the workspace, then its files indented
    listed = [line.split()[-1] for line in out.splitlines()[1:-1]]
    assert listed and all(train_id in path for path in listed)
    assert any(path.endswith(f'cli_pipeline/Train_{train_id}.pkl') for path in listed)
    assert any(f'log/task_params/Train_{train_id}.pkl' in path for path in listed)
    assert pipeline.Train().output().exists()  # a dry run
    status, out, _ = run_cli(capsys, 'gc', '--yes', 'cli_pipeline:Load', '+', 'cli_pipeline:Report')
    assert out.splitlines()[-1].startswith(f'deleted {len(listed)} files')
    assert not pipeline.Train().output().exists()
    assert pipeline.Load().output().exists() and pipeline.Report().output().exists()
    _, out, _ = run_cli(capsys, 'gc', 'cli_pipeline:Report')
    assert out.strip() == 'nothing to collect'


def test_report_writes_the_html_file(pipeline, capsys, tmp_path):
    status, out, _ = run_cli(capsys, 'report', '-o', 'site/dag.html', 'cli_pipeline:Train', '--lr', '0.2')
    page = (tmp_path / 'site' / 'dag.html').read_text()
    assert status == 0 and out.strip() == 'wrote site/dag.html'
    assert 'data-state="pending"' in page and 'data-state="cached"' in page


def test_upstream_parameters_in_luigis_class_param_form_and_options_on_either_side(pipeline, capsys):
    import luigi

    import gokart

    gokart.build(pipeline.Count(), reset_register=False)
    luigi.task_register.Register.clear_instance_cache()  # as in a new process
    status, out, _ = run_cli(capsys, 'plan', 'cli_pipeline:Report', '--size', '3', '--Load-size', '9')
    assert status == 0 and out.splitlines()[-1] == '0 to run, 1 cached'  # Report passes size to Load itself
    status, before, _ = run_cli(capsys, 'why', '--limit', '1', 'cli_pipeline:Count', '--Load-size', '6')
    status, after, _ = run_cli(capsys, 'why', '--Load-size', '6', 'cli_pipeline:Count', '--limit', '1')
    assert before == after and 'upstream changed (Load[' in before and "size: '3' -> '6'" in before
    status, out, err = run_cli(capsys, 'plan', 'cli_pipeline:Train', '--Nothing-size', '6')
    assert status == 2 and 'Train has no parameter --Nothing-size' in err and '--Class-param value' in err


def test_gc_deletes_nothing_when_no_file_of_the_dag_exists(pipeline, capsys):
    before = sorted(str(p) for p in (pipeline.Train().output().path(), pipeline.Report().output().path()))
    status, out, _ = run_cli(capsys, 'gc', 'cli_pipeline:Report', '--size', '99', '--yes')
    assert status == 1
    assert 'no file of the given DAG exists in ./resources/' in out and 'Nothing deleted; pass --force' in out
    assert all(pipeline.Train().output().exists() for _ in before) and pipeline.Report().output().exists()
    status, out, _ = run_cli(capsys, 'gc', '--force', 'cli_pipeline:Report', '--size', '99', '--yes')
    assert status == 0 and out.splitlines()[-1].startswith('deleted ')
    assert not pipeline.Report().output().exists()


def test_version_help_and_python_dash_m(capsys):
    import subprocess
    import sys

    with pytest.raises(SystemExit):
        main(['--version'])
    assert capsys.readouterr().out.startswith('gokart 1.12.2')
    with pytest.raises(SystemExit):
        main(['gc', '--help'])
    assert 'join their roots with "+"' in ' '.join(capsys.readouterr().out.split())
    done = subprocess.run([sys.executable, '-m', 'gokart', 'plan'], capture_output=True, text=True)
    assert done.returncode == 2 and 'gokart plan: name a task' in done.stderr


def test_gc_older_than_keeps_recent_garbage_and_a_bad_duration_is_a_usage_error(pipeline, capsys):
    status, out, _ = run_cli(capsys, 'gc', '--older-than', '7d', '--yes', 'cli_pipeline:Load', '+', 'cli_pipeline:Report')
    assert status == 0 and out.startswith('nothing to collect (') and 'younger than 7d kept' in out
    assert pipeline.Train().output().exists()
    status, _, err = run_cli(capsys, 'gc', '--older-than', 'a week', 'cli_pipeline:Report')
    assert status == 2 and "--older-than: 'a week' is not a duration" in err and '7d, 12h' in err


def test_gc_collects_temporaries_of_interrupted_writes_once_they_are_an_hour_old(pipeline, capsys, tmp_path):
    import os
    import time

    directory = tmp_path / 'resources' / 'cli_pipeline'
    old, fresh = directory / '.Load_x.pkl.41-0.gokart-tmp', directory / '.Load_y.pkl.42-0.gokart-tmp'
    old.write_bytes(b'x' * 2048)
    fresh.write_bytes(b'y')
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    status, out, _ = run_cli(capsys, 'gc', '--yes', 'cli_pipeline:Train', '+', 'cli_pipeline:Report')
    assert status == 0
    assert out.splitlines()[0] == './resources/: 1 files, 2.0 KiB'
    assert out.splitlines()[1].split() == ['2.0', 'KiB', 'temporary', './resources/cli_pipeline/.Load_x.pkl.41-0.gokart-tmp']
    assert (
        out.splitlines()[2]
        == 'deleted 1 files, 2.0 KiB in all (1 recent temporaries, leases or uploads kept: work in progress may own them)'
    )
    assert not old.exists() and fresh.exists()
    assert pipeline.Train().output().exists() and pipeline.Report().output().exists()


def test_plan_help_with_a_task_lists_its_parameters_and_the_workspace_directory(pipeline, capsys):
    status, out, _ = run_cli(capsys, 'plan', 'cli_pipeline:Train', '--help')
    assert status == 0
    lines = out.splitlines()
    own = lines[lines.index('Parameters of cli_pipeline:Train, given after it as --name value:') + 1 :]
    assert own[0].split()[:3] == ['--data', 'TaskInstanceParameter,', 'default'] and own[0].split()[3].startswith('Load[')
    assert own[1].split() == ['--lr', 'FloatParameter,', 'default', '0.1']
    assert any(line.split()[0] == '--workspace-directory' and "'./resources/'" in line for line in own)


def test_plan_help_without_a_task_says_how_to_give_the_workspace_directory(capsys):
    with pytest.raises(SystemExit) as exited:
        main(['plan', '--help'])
    assert exited.value.code == 0
    help_text = ' '.join(capsys.readouterr().out.split())
    assert '--workspace-directory DIR' in help_text and 'gokart COMMAND MODULE:TASK --help lists them' in help_text


def test_an_abbreviated_option_is_an_error_not_another_option(capsys):
    with pytest.raises(SystemExit) as exited:
        main(['--vers'])  # argparse's prefix matching would take it for --version
    assert exited.value.code == 2 and 'unrecognized arguments: --vers' in capsys.readouterr().err


def test_a_misspelled_task_parameter_suggests_the_name(pipeline, capsys):
    status, _, err = run_cli(capsys, 'plan', 'cli_pipeline:Train', '--l', '0.2')
    assert status == 2 and "Train has no parameter --l. Did you mean '--lr'?" in err


def test_gc_groups_garbage_by_workspace_and_deletes_only_in_the_named_one_unless_all_workspaces(pipeline, capsys, tmp_path):
    import gokart

    # Report is given ws/; the Load its requires() makes keeps the default workspace, ./resources/.
    for size in (3, 4):
        gokart.build(pipeline.Report(size=size, workspace_directory='ws/'), reset_register=False)
    mine, upstream = pipeline.Report(size=4, workspace_directory='ws/'), pipeline.Load(size=4)
    command = ['gc', 'cli_pipeline:Report', '--workspace-directory', 'ws/']
    status, out, _ = run_cli(capsys, *command)
    assert status == 0
    groups: dict[str, list[str]] = {}
    for line in out.splitlines()[:-1]:
        if line.startswith(' '):  # a file of the workspace line above it
            groups[list(groups)[-1]].append(line.split()[-1])
        else:
            groups[line] = []
    headings = list(groups)
    assert [h.split(':')[0] for h in headings] == ['ws/', './resources/']
    for heading, paths in groups.items():
        assert heading.split(': ', 1)[1].startswith(f'{len(paths)} files, ')
    assert mine.output().path() in groups[headings[0]] and upstream.output().path() in groups[headings[1]]
    assert 'not the one named' in headings[1] and '--all-workspaces' in out.splitlines()[-1]

    status, out, _ = run_cli(capsys, *command, '--yes')
    assert status == 0 and not mine.output().exists()
    assert upstream.output().exists(), 'gc --yes deleted outside the named workspace'
    left = len(groups[headings[1]])
    assert out.splitlines()[-1].startswith(f'deleted {len(groups[headings[0]])} files, ')
    assert f'left {left} files, ' in out.splitlines()[-1] and 'in ./resources/' in out.splitlines()[-1]

    status, out, _ = run_cli(capsys, *command, '--yes', '--all-workspaces')
    assert status == 0 and not upstream.output().exists()
    assert out.splitlines()[-1].startswith(f'deleted {left} files, ')
    assert pipeline.Report(size=3, workspace_directory='ws/').output().exists() and pipeline.Load(size=3).output().exists()
