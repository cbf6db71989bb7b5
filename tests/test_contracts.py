"""Frame contracts (``gokart.Schema``): a renamed column is caught before anything runs, a wrong frame is never written.

Each test builds a tiny pipeline of frames and asserts what a user sees: the error, the message, which
tasks ran (counted with luigi's START event) and which files exist.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from typing import Annotated

import luigi
import numpy as np
import pandas as pd
import polars as pl
import pytest

import gokart
from gokart.contracts import footer
from gokart.contracts.declarations import declarations_of
from gokart.errors import GokartBuildError, SchemaContractError, SchemaDeclarationError, SchemaMismatchError


@pytest.fixture
def started():
    """The families of the tasks whose run() started, in order."""
    names: list[str] = []

    def count(task):
        names.append(task.get_task_family())

    luigi.Task.event_handler(luigi.Event.START)(count)
    yield names
    luigi.Task.remove_event_handler(luigi.Event.START, count)


def features_task(schema, frame, path='features.parquet'):
    class Features(gokart.TaskOnKart[pd.DataFrame]):
        output_schema = schema
        version = luigi.IntParameter(default=0)

        def output(self):
            return self.make_target(path)

        def run(self):
            self.dump(frame)

    return Features


def train_task(schema):
    class Train(gokart.TaskOnKart[pd.DataFrame]):
        features = gokart.TaskInstanceParameter()
        input_schema = schema

        def run(self):
            frame = self.load('features')
            self.dump(frame[['age']])

    return Train


AGE_YEARS = pd.DataFrame({'age_years': [31, 45], 'income': [1.0, 2.5]})


# ----- plan time: the whole DAG, before any run() ---------------------------------------------------------
def test_a_renamed_column_is_caught_before_any_task_runs(started):
    Features = features_task(gokart.Schema(age_years='int64', income='float64'), AGE_YEARS)
    Train = train_task({'features': gokart.Schema(age='int64', income=None)})
    with pytest.raises(SchemaContractError) as raised:
        gokart.build(Train(features=Features()))
    assert started == []  # runs counted: 0
    message = str(raised.value)
    assert "through its input 'features'" in message and "reads column 'age'" in message
    assert 'Train[' in message and 'Features[' in message  # both tasks, with their ids
    assert "Did you mean 'age_years'?" in message
    assert "Features.output_schema = Schema(age_years='int64', income='float64')" in message
    assert "Train.input_schema['features'] = Schema(age='int64', income=None)" in message
    assert isinstance(raised.value, GokartBuildError)  # the except clause around a build still catches it
    assert not os.path.exists('resources')  # nothing was written


def test_a_dtype_conflict_names_both_declarations(started):
    Features = features_task(gokart.Schema(age='float64'), pd.DataFrame({'age': [1.0]}))
    Train = train_task({'features': gokart.Schema(age='int64')})
    with pytest.raises(SchemaContractError, match=r"reads column 'age' as int64, but Features\[\w+\] declares it float64"):
        gokart.build(Train(features=Features()))
    assert started == []


def test_a_pandas_producer_and_a_polars_consumer_agree_on_dtype_kinds(started):
    Features = features_task(gokart.Schema(age='int64', name='str'), pd.DataFrame({'age': [1], 'name': ['a']}))

    class PolarsTrain(gokart.TaskOnKart[pl.DataFrame]):
        features = gokart.TaskInstanceParameter()
        input_schema = gokart.Schema(age=pl.Int64, name=pl.String)  # the only input: a plain Schema

        def run(self):
            self.dump(pl.from_pandas(self.load('features')))

    result = gokart.build(PolarsTrain(features=Features()))
    assert result.columns == ['age', 'name'] and started == ['Features', 'PolarsTrain']


def test_an_input_schema_naming_no_input_suggests_the_right_name():
    Features = features_task(gokart.Schema(age='int64'), pd.DataFrame({'age': [1]}))
    Train = train_task({'feature': gokart.Schema(age='int64')})
    with pytest.raises(
        SchemaContractError,
        match=r"names the input 'feature', which .* does not have \(its inputs: 'features'\)\. Did you mean 'features'\?",
    ):
        gokart.build(Train(features=Features()))


def test_the_executor_of_luigi_checks_before_running_too(started):
    Features = features_task(gokart.Schema(age_years='int64'), AGE_YEARS)
    Train = train_task({'features': gokart.Schema(age='int64')})
    with pytest.raises(SchemaContractError, match="Did you mean 'age_years'"):
        gokart.build(Train(features=Features()), executor='luigi')
    assert started == []


def test_a_task_that_declares_nothing_keeps_its_id_and_builds_as_before():
    plain = features_task(None, AGE_YEARS)
    plain_id = plain().make_unique_id()
    declared = features_task(gokart.Schema(age_years='int64', income='float64'), AGE_YEARS)
    assert declared().make_unique_id() == plain_id  # a schema is no parameter: ids and file names stay
    assert declarations_of(plain) is None
    pd.testing.assert_frame_equal(gokart.build(declared()), AGE_YEARS)


def test_an_attribute_of_that_name_holding_something_else_is_no_declaration():
    class Legacy(gokart.TaskOnKart[pd.DataFrame]):
        output_schema = luigi.Parameter(default='v1')  # a team's own parameter of that name

        def run(self):
            self.dump(pd.DataFrame({'x': [1]}))

    assert declarations_of(Legacy) is None
    assert list(gokart.build(Legacy()).columns) == ['x']


def test_a_process_without_schemas_runs_no_contract_check():
    code = 'import gokart; from gokart.contracts.declarations import possibly_declared; print(possibly_declared())'
    output = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == 'False'


def test_an_input_whose_producer_declares_nothing_is_checked_when_loaded(started):
    Features = features_task(None, AGE_YEARS)  # nothing declared upstream: the plan has nothing to compare
    Train = train_task({'features': gokart.Schema(age='int64')})
    task = Train(features=Features())
    with pytest.raises(GokartBuildError) as raised:
        gokart.build(task)
    (error,) = raised.value.raised_exceptions[task.make_unique_id()]
    assert isinstance(error, SchemaMismatchError)
    assert "loaded its input 'features', which does not hold what its input_schema Schema(age='int64') reads" in str(error)
    assert "missing column 'age'. Did you mean 'age_years' for 'age'?" in str(error)
    assert started == ['Features', 'Train']


# ----- at dump ----------------------------------------------------------------------------------------
def test_a_frame_that_does_not_match_is_refused_and_nothing_is_written():
    Features = features_task(gokart.Schema(age='int64', income='float64', city=None), pd.DataFrame({'age': [1.5], 'income': [2.0]}))
    task = Features()
    with pytest.raises(GokartBuildError) as raised:
        gokart.build(task)
    (error,) = raised.value.raised_exceptions[task.make_unique_id()]
    assert isinstance(error, SchemaMismatchError)
    assert "missing column 'city'" in str(error) and "column 'age' is float64, declared int64" in str(error)
    assert 'Nothing was written' in str(error)
    assert not task.output().exists()


def test_a_strict_schema_refuses_extra_columns():
    Features = features_task(gokart.Schema(age='int64', strict=True), pd.DataFrame({'age': [1], 'debug': ['x']}))
    with pytest.raises(GokartBuildError, match=r"extra column 'debug' \(the schema is strict\)"):
        gokart.build(Features())


def test_a_non_frame_dumped_against_a_schema_is_refused():
    Features = features_task(gokart.Schema(age='int64'), {'age': [1]}, path='features.pkl')
    with pytest.raises(GokartBuildError, match='not a pandas or polars DataFrame'):
        gokart.build(Features())


def test_polars_frames_and_annotated_task_types_are_checked_at_dump():
    class PolarsFeatures(gokart.TaskOnKart[Annotated[pl.DataFrame, gokart.Schema(age='Int64', name='String')]]):
        wrong = luigi.BoolParameter(default=False)

        def output(self):
            return self.make_target('polars_features.parquet')

        def run(self):
            self.dump(pl.DataFrame({'age': [1.5] if self.wrong else [1], 'name': ['a']}))

    assert isinstance(gokart.build(PolarsFeatures()), pl.DataFrame)  # Annotated keeps the polars backend
    with pytest.raises(GokartBuildError, match="column 'age' is Float64, declared Int64"):
        gokart.build(PolarsFeatures(wrong=True))


def test_an_output_schema_by_output_name_checks_each_named_output():
    class Split(gokart.TaskOnKart[pd.DataFrame]):
        output_schema = {'train': gokart.Schema(x='int64'), 'test': gokart.Schema(x='int64', y='int64')}

        def output(self):
            return {'train': self.make_target('train.pkl'), 'test': self.make_target('test.pkl')}

        def run(self):
            self.dump(pd.DataFrame({'x': [1]}), 'train')
            self.dump(pd.DataFrame({'x': [1]}), 'test')

    with pytest.raises(GokartBuildError, match=r"output_schema 'test' .*missing column 'y'"):
        gokart.build(Split())
    assert Split().output()['train'].exists() and not Split().output()['test'].exists()


def test_an_unknown_dtype_name_is_refused_where_it_is_declared():
    with pytest.raises(SchemaDeclarationError, match="Unknown dtype 'int46' of column 'age'"):
        gokart.Schema(age='int46')


def test_dtype_names_of_pandas_polars_and_python_reduce_to_one_kind():
    one = gokart.Schema(a='int64', b='float64', c='string', d='datetime64[ns]', e='category', f='bool')
    other = gokart.Schema(a=pl.Int64, b=float, c=str, d=pl.Datetime('us'), e='Categorical', f='Boolean')
    assert one == other and hash(one) == hash(other)
    assert gokart.Schema(a='int32') != gokart.Schema(a='int64')
    assert repr(gokart.Schema(a='int64', c=None)) == "Schema(a='int64', c=None)"


# ----- cached outputs, from their footers ---------------------------------------------------------------
def test_a_stale_cached_output_is_reported_at_plan_with_the_fix(started):
    Features = features_task(gokart.Schema(age='int64'), pd.DataFrame({'age': [1]}))
    gokart.build(Features())
    cached = Features().output().path()
    # The feature code changes its declared schema: same class, same parameters, same unique id, old file.
    Features = features_task(gokart.Schema(age='int64', income='float64'), pd.DataFrame({'age': [1], 'income': [2.0]}))
    Train = train_task({'features': gokart.Schema(age='int64')})
    started.clear()
    with pytest.raises(SchemaContractError) as raised:
        gokart.build(Train(features=Features()))
    assert started == []
    message = str(raised.value)
    assert f'The cached output {cached} of Features[' in message and "missing column 'income'" in message
    assert 'rerun=True' in message and 'delete the file' in message
    luigi.task_register.Register.clear_instance_cache()  # else luigi hands back the Train of the failed build (rerun is insignificant)
    gokart.build(Train(features=Features(rerun=True)))  # the fix the message gives
    assert started == ['Features', 'Train']


def test_a_consumer_is_checked_against_a_cached_file_whose_producer_declares_nothing(started):
    Features = features_task(None, AGE_YEARS, path='features.feather')
    gokart.build(Features())
    Train = train_task({'features': gokart.Schema(age='int64')})
    started.clear()
    with pytest.raises(
        SchemaContractError, match=r"the cached output .*features_\w+\.feather .*missing column 'age'.* Did you mean 'age_years'"
    ):
        gokart.build(Train(features=Features()))
    assert started == []


def test_a_cached_parquet_output_is_checked_from_its_footer_alone():
    rows = 1_000_000
    frame = pd.DataFrame({'id': np.arange(rows), 'value': np.random.default_rng(0).random(rows)})
    Big = features_task(gokart.Schema(id='int64', value='float64'), frame, path='big.parquet')
    gokart.build(Big(), return_value=False)
    path = Big().output().path()
    read = footer.read_columns(path, footer.PARQUET)
    assert read.columns == {'id': 'int64', 'value': 'float64'}
    assert read.file_size == os.path.getsize(path) > 10_000_000
    assert read.bytes_read < 8 * 1024  # the footer and its length: a few KiB, not the 16 MB of data


def test_an_unchanged_cached_file_is_not_read_twice_in_one_process_and_a_rewritten_one_is():
    Features = features_task(gokart.Schema(age_years='int64', income='float64'), AGE_YEARS)
    gokart.build(Features(), return_value=False)
    path = Features().output().path()
    first = footer.cached_columns(path, footer.PARQUET)
    assert footer.cached_columns(path, footer.PARQUET) is first
    AGE_YEARS.assign(city='x').to_parquet(path, index=False)  # replaced, as gokart's atomic writes replace a file
    assert footer.cached_columns(path, footer.PARQUET).columns == {'age_years': 'int64', 'income': 'float64', 'city': 'string'}


def test_a_cached_file_that_is_no_parquet_is_reported_as_corrupt(started):
    Features = features_task(gokart.Schema(age='int64'), pd.DataFrame({'age': [1]}))
    gokart.build(Features(), return_value=False)
    with open(Features().output().path(), 'wb') as f:
        f.write(b'not a parquet file at all')
    Train = train_task({'features': gokart.Schema(age='int64')})
    started.clear()
    with pytest.raises(SchemaContractError, match=r'cannot be read as parquet .*corrupt or truncated'):
        gokart.build(Train(features=Features()))
    assert started == []


def test_a_feather_footer_gives_its_columns_without_gokarts_index_column():
    Features = features_task(gokart.Schema(age_years='int64', income='float64'), AGE_YEARS, path='f.feather')
    gokart.build(Features(), return_value=False)
    read = footer.read_columns(Features().output().path(), footer.FEATHER)
    assert read.columns == {'age_years': 'int64', 'income': 'float64'} and read.bytes_read < 4096


# ----- seen: the report, the notebook display, gokart.plan ----------------------------------------------------
def test_the_report_and_the_notebook_show_declared_columns_and_gokart_plan_the_broken_contracts():
    Features = features_task(gokart.Schema(age_years='int64', income='float64'), AGE_YEARS)
    Train = train_task({'features': gokart.Schema(age='int64')})
    task = Train(features=Features())
    with open(gokart.report(task, 'report.html'), encoding='utf-8') as f:
        page = f.read()
    assert 'dumps age_years: int64, income: float64' in page and 'reads &#x27;features&#x27; age: int64' in page
    picture = task._repr_html_()
    assert 'dumps age_years: int64, income: float64' in picture  # the hover text of the task's box
    planned = gokart.plan(task)
    assert "reads 'features' age: int64" in str(planned)
    assert len(planned.broken_contracts) == 1 and "Did you mean 'age_years'?" in planned.broken_contracts[0]
    assert 'Broken frame contracts' in planned._repr_html_() and 'dumps age_years: int64' in planned._repr_html_()


# ----- the runs index and gokart diff ---------------------------------------------------------------------
def test_the_runs_index_records_each_outputs_schema_and_diff_shows_the_changes():
    First = features_task(gokart.Schema(age='int64'), pd.DataFrame({'age': [31], 'income': [1]}))
    gokart.build(First(version=1), return_value=False)
    Second = features_task(gokart.Schema(age_years='int64', income='float64'), pd.DataFrame({'age_years': [31], 'income': [1.5]}))
    gokart.build(Second(version=2), return_value=False)
    found = gokart.diff(First(version=1).make_unique_id(), Second(version=2).make_unique_id())
    assert ('columns of features.parquet', ['age'], ['age_years']) in found.output
    assert ('dtype of income in features.parquet', 'int64', 'float64') in found.output
    assert ('declared schema of features.parquet', 'age: int64', 'age_years: int64, income: float64') in found.output
    assert not any(name == 'values' for name, _, _ in found.output)
    (row,) = gokart.runs(Second, where='version == 2').to_dict('records')
    assert row['output_schemas'] == [
        {'columns': {'age_years': 'int64', 'income': 'float64'}, 'declared': {'age_years': 'int64', 'income': 'float64'}}
    ]


# ----- gokart plan -------------------------------------------------------------------------------------
PIPELINE = """
import pandas as pd
import gokart


class Features(gokart.TaskOnKart[pd.DataFrame]):
    output_schema = gokart.Schema(age_years='int64')

    def run(self):
        self.dump(pd.DataFrame({'age_years': [1]}))


class Train(gokart.TaskOnKart[pd.DataFrame]):
    features = gokart.TaskInstanceParameter(default=Features())
    input_schema = {'features': gokart.Schema(age='int64')}

    def run(self):
        self.dump(self.load('features'))
"""


def test_gokart_plan_shows_declared_columns_and_fails_on_a_broken_contract(tmp_path):
    (tmp_path / 'contract_pipeline.py').write_text(textwrap.dedent(PIPELINE))
    done = subprocess.run([sys.executable, '-m', 'gokart', 'plan', 'contract_pipeline:Train'], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert 'dumps age_years: int64' in done.stdout and "reads 'features' age: int64" in done.stdout
    assert 'SchemaContractError' in done.stderr and "Did you mean 'age_years'?" in done.stderr


def test_gokart_run_exits_before_running_anything_on_a_broken_contract(tmp_path):
    (tmp_path / 'contract_pipeline.py').write_text(textwrap.dedent(PIPELINE))
    code = 'import gokart, contract_pipeline; gokart.run(["Train", "--local-scheduler"])'
    done = subprocess.run(
        [sys.executable, '-c', code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, 'PYTHONPATH': f'{tmp_path}{os.pathsep}{os.environ.get("PYTHONPATH", "")}'},
    )
    assert done.returncode == 50, done.stderr  # gokart.run's scheduling-error code: nothing ran
    assert "Did you mean 'age_years'?" in done.stderr
    assert not (tmp_path / 'resources').exists()


# ----- pandera, when installed ---------------------------------------------------------------------------
try:
    import pandera.pandas as pandera
    from pandera.typing import Series
except ImportError:  # an extra (gokart[pandera]): without it, its test skips
    pandera = None
else:

    class FeatureModel(pandera.DataFrameModel):  # at module level: pandera reads its annotations from the module
        age_years: Series[int] = pandera.Field(ge=0)
        income: Series[float]


@pytest.mark.skipif(pandera is None, reason='pandera is not installed (pip install gokart[pandera])')
def test_a_pandera_model_is_a_contract_at_plan_and_at_dump():
    Features = features_task(FeatureModel, pd.DataFrame({'age_years': [-1], 'income': [1.0]}))
    Train = train_task({'features': gokart.Schema(age='int64')})
    with pytest.raises(SchemaContractError, match="Did you mean 'age_years'"):
        gokart.build(Train(features=Features()))
    with pytest.raises(GokartBuildError, match=r"pandera model 'FeatureModel' rejects"):  # the model's own checks run at dump
        gokart.build(Features())
    assert not Features().output().exists()
    Good = features_task(FeatureModel, pd.DataFrame({'age_years': [3], 'income': [1.0]}))
    luigi.task_register.Register.clear_instance_cache()
    assert list(gokart.build(Good()).columns) == ['age_years', 'income']


@pytest.mark.skipif(pandera is None, reason='pandera is not installed (pip install gokart[pandera])')
def test_a_pandera_polars_model_refuses_a_polars_frame_at_dump():
    import pandera.polars as pandera_polars

    class PolarsModel(pandera_polars.DataFrameModel):
        age: pl.Int64
        name: pl.String

    class PolarsFeatures(gokart.TaskOnKart[pl.DataFrame]):
        wrong = luigi.BoolParameter(default=False)
        output_schema = PolarsModel

        def output(self):
            return self.make_target('polars.parquet')

        def run(self):
            self.dump(pl.DataFrame({'age': [1], 'name' if not self.wrong else 'nick': ['a']}))

    with pytest.raises(GokartBuildError, match="missing column 'name'"):
        gokart.build(PolarsFeatures(wrong=True))
    assert gokart.build(PolarsFeatures()).columns == ['age', 'name']


def test_gokart_plan_reports_a_stale_cached_output_without_running_anything(started):
    Features = features_task(gokart.Schema(age='int64'), pd.DataFrame({'age': [1]}))
    gokart.build(Features(), return_value=False)
    Features = features_task(gokart.Schema(age='int64', city='string'), pd.DataFrame({'age': [1], 'city': ['x']}))
    Train = train_task({'features': gokart.Schema(age='int64')})
    started.clear()
    planned = gokart.plan(Train(features=Features()))
    assert [step.will_run for step in planned] == [False, True]
    (problem,) = planned.broken_contracts
    assert "no longer matches its output_schema Schema(age='int64', city='string'): missing column 'city'" in problem
    assert started == []
