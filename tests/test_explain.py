"""``gokart plan`` and ``gokart why`` give one diagnosis, and it is the true one, in every case a newcomer meets."""

import itertools
import os
import sys
import textwrap

import luigi
import pytest

import gokart
from gokart.commands import explain
from gokart.commands.cli import main

PIPELINE = """
import luigi
import gokart

FACTOR = 2


def helper(x):
    return x * FACTOR


class ExplainSource(gokart.TaskOnKart[int]):
    n = luigi.IntParameter(default=1)
    offset = luigi.IntParameter(default=0)

    def run(self):
        self.dump(helper(self.n) + self.offset)


class ExplainSink(gokart.TaskOnKart[int]):
    n = luigi.IntParameter(default=1)
    scale = luigi.IntParameter(default=1)

    def requires(self):
        return ExplainSource(n=self.n)

    def run(self):
        self.dump(self.load() * self.scale)
"""

_names = itertools.count()


@pytest.fixture
def pipeline(tmp_path, monkeypatch):
    """A fresh module (its own name, so classes of other tests never mix in) in the working directory."""
    name = f'explain_pipeline_{next(_names)}'
    (tmp_path / f'{name}.py').write_text(textwrap.dedent(PIPELINE))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, 'dont_write_bytecode', True)
    module = __import__(name)
    yield module
    sys.modules.pop(name, None)
    # Unregister the classes, so that --ExplainSource-offset names one class in the next test, as in a real process.
    registry = luigi.task_register.Register._reg
    registry[:] = [cls for cls in registry if cls.__module__ != name]


def cli(capsys, *argv):
    status = main(list(argv))
    return status, capsys.readouterr().out.splitlines()


def diagnoses(capsys, module, *params):
    """The root's line of ``gokart plan``, and the first line of ``gokart why``, for the same command line."""
    spec = f'{module.__name__}:ExplainSink'
    _, plan_lines = cli(capsys, 'plan', spec, *params)
    status, why_lines = cli(capsys, 'why', spec, *params)
    root_line = [line for line in plan_lines if ' ExplainSink[' in line][0]
    return root_line, why_lines, status


def build(module, **params):
    gokart.build(module.ExplainSink(**params), reset_register=False)
    luigi.task_register.Register.clear_instance_cache()  # the commands run as in a new process


def edit_constant(module):
    """Change FACTOR in the file, then forget the module so that the next command imports the new code."""
    path = module.__file__
    with open(path) as f:
        source = f.read()
    with open(path, 'w') as f:
        f.write(source.replace('FACTOR = 2', 'FACTOR = 30'))
    sys.modules.pop(module.__name__)


def setup_new_parameters(module):
    build(module)
    return ['--scale', '3'], explain.CHANGED_PARAMETER, "scale: '1' -> '3'"


def setup_changed_upstream(module):
    build(module)
    # The root names the upstream task and its reason; the upstream task's own line says what changed.
    return ['--ExplainSource-offset', '5'], explain.UPSTREAM_CHANGED, 'ExplainSource[', 'will run: changed parameter'


def setup_deleted_output(module):
    build(module, n=1)
    build(module, n=2)  # a sibling run that differs in a parameter must not be blamed
    os.remove(module.ExplainSink(n=1).output().path())
    return ['--n', '1'], explain.OUTPUT_DELETED, 'its run is recorded in log/: deleted?'


def setup_deleted_output_and_upstream_output(module):
    build(module)
    os.remove(module.ExplainSink().output().path())
    os.remove(module.ExplainSource().output().path())
    return [], explain.OUTPUT_DELETED, 'its run is recorded in log/: deleted?'


def setup_code_change(module):
    luigi.configuration.get_config().set('TaskOnKart', 'code_fingerprint_check', 'true')
    build(module)
    edit_constant(module)
    return [], explain.UPSTREAM_CHANGED, 'ExplainSource[', 'will run: changed code'


def setup_rerun(module):
    build(module)
    return ['--rerun'], explain.RERUN, explain.RERUN


def setup_first_run(module):
    return [], explain.NO_OUTPUT, 'first run'


CASES = {
    'new parameters': setup_new_parameters,
    'changed upstream': setup_changed_upstream,
    'deleted output': setup_deleted_output,
    'deleted output and upstream output': setup_deleted_output_and_upstream_output,
    'code change': setup_code_change,
    'rerun': setup_rerun,
    'first run ever': setup_first_run,
}


@pytest.mark.parametrize('case', list(CASES))
def test_plan_and_why_agree_on_the_true_reason(case, pipeline, capsys):
    params, reason, *details = CASES[case](pipeline)
    capsys.readouterr()
    plan_line, why_lines, status = diagnoses(capsys, pipeline, *params)
    explanation = plan_line.split(': ', 1)[1]
    assert explanation.startswith(reason)
    assert all(detail in explanation for detail in details), explanation
    assert 'offset' not in explanation or case != 'changed upstream', 'the root repeats its upstream change nested in itself'
    assert why_lines[0].endswith(f': a build would run it: {explanation}')
    assert status == 1


def test_deleted_output_why_names_the_own_run_and_the_missing_file(pipeline, capsys):
    setup_deleted_output(pipeline)
    capsys.readouterr()
    _, why_lines, _ = diagnoses(capsys, pipeline, '--n', '1')
    own_id = pipeline.ExplainSink(n=1).make_unique_id()
    assert why_lines[1] == f'  its own run {own_id} is recorded in ./resources/log/; missing now:'
    assert why_lines[2] == f'    {pipeline.ExplainSink(n=1).output().path()}'
    step = explain.why(pipeline.ExplainSink(n=1))
    assert step.own_run is not None and step.own_run.finished


def test_deleted_upstream_output_keeps_the_task_cached_in_both(pipeline, capsys):
    build(pipeline)
    os.remove(pipeline.ExplainSource().output().path())
    status, lines = cli(capsys, 'plan', f'{pipeline.__name__}:ExplainSink')
    assert lines == [f'cached  ExplainSink[{pipeline.ExplainSink().make_unique_id()}]', '0 to run, 1 cached']
    status, lines = cli(capsys, 'why', f'{pipeline.__name__}:ExplainSink')
    assert status == 0 and lines[0].endswith('its output exists; a build would load it.')


def test_code_change_why_sees_the_cached_run_output_that_exists(pipeline, capsys):
    setup_code_change(pipeline)
    capsys.readouterr()
    spec = f'{pipeline.__name__}:ExplainSource'
    _, plan_lines = cli(capsys, 'plan', spec)
    _, why_lines = cli(capsys, 'why', spec)
    explanation = plan_lines[0].split(': ', 1)[1]
    assert explanation.startswith(f'changed code (code changed in {pipeline.__name__}.FACTOR)')
    assert why_lines[0].endswith(explanation)
    assert why_lines[2].endswith('(output exists)')


def test_an_unfinished_run_is_not_called_deleted(pipeline, capsys):
    build(pipeline)
    task = pipeline.ExplainSink()
    os.remove(task.output().path())
    os.remove(task._log_path('task_log'))  # as after a run that started and then failed
    step = explain.plan(task)[-1]
    assert step.reason == explain.UNFINISHED_RUN and explain.why(task).reason == explain.UNFINISHED_RUN


NESTED = """
import luigi
import gokart


class NestedModel(gokart.TaskOnKart[float]):
    c = luigi.FloatParameter()

    def run(self):
        self.dump(self.c)


class NestedEvaluate(gokart.TaskOnKart[float]):
    model = gokart.TaskInstanceParameter()

    def run(self):
        self.dump(self.load('model'))


class NestedReport(gokart.TaskOnKart[list]):
    evaluations = gokart.ListTaskInstanceParameter()

    def run(self):
        self.dump(self.load('evaluations'))


class NestedPipeline(gokart.TaskOnKart[list]):
    second = luigi.FloatParameter(default=0.1)

    def requires(self):
        return NestedReport(evaluations=[NestedEvaluate(model=NestedModel(c=c)) for c in (1.0, self.second)])

    def run(self):
        self.dump(self.load())
"""


def test_plan_names_the_leaf_that_differs_inside_a_list_of_nested_tasks(tmp_path, monkeypatch, capsys):
    name = f'explain_nested_{next(_names)}'
    (tmp_path / f'{name}.py').write_text(textwrap.dedent(NESTED))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    module = __import__(name)
    try:
        gokart.build(module.NestedPipeline(), reset_register=False)
        luigi.task_register.Register.clear_instance_cache()
        capsys.readouterr()
        _, lines = cli(capsys, 'plan', f'{name}:NestedPipeline', '--second', '0.01')
    finally:
        sys.modules.pop(name, None)
        registry = luigi.task_register.Register._reg
        registry[:] = [cls for cls in registry if cls.__module__ != name]
    report = [line for line in lines if ' NestedReport[' in line][0]
    assert "(evaluations[1].model.c: '0.1' -> '0.01')" in report, report
    root = [line for line in lines if ' NestedPipeline[' in line][0]
    assert 'evaluations' not in root, 'the root repeats the change of its upstream task nested in itself'


def test_long_values_are_shortened_around_their_first_difference():
    before, after = 'x' * 200 + 'old' + 'y' * 100, 'x' * 200 + 'new' + 'y' * 100
    line = explain.Difference(name='blob', cached=before, current=after, upstream=False).describe()
    shown_before, shown_after = line.removeprefix('blob: ').split(' -> ')
    assert 'old' in shown_before and 'new' in shown_after and shown_before != shown_after
    assert len(line) < 160


def test_a_task_with_many_changed_parameters_names_a_few_and_counts_the_rest():
    cached = {f'p{i}': '1' for i in range(10)}
    current = {f'p{i}': '2' for i in range(10)}
    step = explain.Step(task=None, name='T', unique_id='0', will_run=True, reason=explain.CHANGED_PARAMETER)
    step.differences = explain._parameter_differences(current, cached)
    assert step.summary() == "changed parameter (p0: '1' -> '2'; p1: '1' -> '2'; p2: '1' -> '2'; and 7 more)"


# ----- issue 31: like with like, no false first run, a failed upstream, the chain to the first cause ----------
MODELS = """
import luigi
import gokart


class ModelsData(gokart.TaskOnKart[int]):
    offset = luigi.IntParameter(default=0)

    def run(self):
        self.dump(self.offset)


class ModelsFeatures(gokart.TaskOnKart[int]):
    def requires(self):
        return ModelsData()

    def run(self):
        self.dump(self.load() + 1)


class TrainA(gokart.TaskOnKart[float]):
    C = luigi.FloatParameter(default=1.0)

    def run(self):
        self.dump(self.C)


class TrainB(gokart.TaskOnKart[float]):
    depth = luigi.IntParameter(default=6)
    leaves = luigi.IntParameter(default=31)

    def run(self):
        self.dump(float(self.depth))


class Evaluate(gokart.TaskOnKart[dict]):
    model = gokart.TaskInstanceParameter()

    def run(self):
        self.dump({'score': self.load('model')})


class ModelsReport(gokart.TaskOnKart[int]):
    def requires(self):
        return ModelsFeatures()

    def run(self):
        self.dump(self.load())


class Failing(gokart.TaskOnKart[int]):
    def run(self):
        raise ValueError('the input file has no header')


class AfterFailing(gokart.TaskOnKart[int]):
    def requires(self):
        return Failing()

    def run(self):
        self.dump(self.load())
"""


@pytest.fixture
def models(tmp_path, monkeypatch):
    name = f'explain_models_{next(_names)}'
    (tmp_path / f'{name}.py').write_text(textwrap.dedent(MODELS))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, 'dont_write_bytecode', True)
    yield __import__(name)
    sys.modules.pop(name, None)
    registry = luigi.task_register.Register._reg
    registry[:] = [cls for cls in registry if cls.__module__ != name]


@pytest.mark.parametrize('order', ['B first', 'A first'])
def test_the_closest_cached_run_holds_an_upstream_task_of_the_same_class(models, order):
    built = [models.Evaluate(model=models.TrainB(depth=6)), models.Evaluate(model=models.TrainA(C=1.0))]
    for task in built if order == 'B first' else built[::-1]:
        gokart.build(task, reset_register=False, log_level=40)
    luigi.task_register.Register.clear_instance_cache()
    # Two leaves differ from the run of the same class, one value from the other: the same class is still the closer.
    root = explain.plan(models.Evaluate(model=models.TrainB(depth=8, leaves=63)))[-1]
    assert root.closest is not None and root.closest.unique_id == built[0].make_unique_id()
    assert [d.describe() for d in root.differences] == ["model.depth: '6' -> '8'", "model.leaves: '31' -> '63'"]


def test_turning_on_the_code_fingerprint_is_not_called_a_first_run(models, capsys):
    gokart.build(models.ModelsReport(), reset_register=False, log_level=40)
    luigi.configuration.get_config().set('TaskOnKart', 'code_fingerprint_check', 'true')
    luigi.task_register.Register.clear_instance_cache()
    capsys.readouterr()
    status, lines = cli(capsys, 'why', f'{models.__name__}:ModelsReport')
    text = '\n'.join(lines)
    assert 'first run' not in text and 'no run of' not in text, text
    assert 'the code fingerprint is new' in lines[0], lines[0]
    assert explain.why(models.ModelsReport()).reason == explain.CHANGED_CODE


def test_why_follows_the_upstream_chain_down_to_the_changed_leaf_parameter(models, capsys):
    gokart.build(models.ModelsReport(), reset_register=False, log_level=40)
    luigi.task_register.Register.clear_instance_cache()
    capsys.readouterr()
    _, lines = cli(capsys, 'why', f'{models.__name__}:ModelsReport', '--ModelsData-offset', '5')
    assert lines[0].startswith(f'ModelsReport[{models.ModelsReport().make_unique_id()}]: a build would run it: upstream changed')
    features = [i for i, line in enumerate(lines) if line.startswith('  ModelsFeatures[')]
    data = [i for i, line in enumerate(lines) if line.startswith('    ModelsData[')]
    assert features and data and data[0] > features[0], lines
    assert "offset: '0' -> '5'" in lines[data[0]], lines


def test_a_failed_run_says_so_in_why_load_run_and_the_load_of_its_output(models, capsys):
    with pytest.raises(gokart.errors.GokartBuildError):
        gokart.build(models.AfterFailing(), reset_register=False, log_level=50)
    luigi.task_register.Register.clear_instance_cache()
    failing = models.Failing()
    step = explain.why(failing)
    assert step.reason == explain.FAILED_RUN
    assert 'ValueError: the input file has no header' in step.explanation()
    with pytest.raises(gokart.runs.RunNotFoundError, match='failed: ValueError: the input file has no header'):
        gokart.load_run(failing.make_unique_id())
    with pytest.raises(gokart.errors.OutputNotFoundError) as raised:
        models.AfterFailing().load()
    assert 'failed: ValueError: the input file has no header' in str(raised.value)
    assert 'did you call self.dump()' not in str(raised.value)
    capsys.readouterr()
    _, lines = cli(capsys, 'why', f'{models.__name__}:AfterFailing')
    assert any('Failing[' in line and 'the input file has no header' in line for line in lines), lines
