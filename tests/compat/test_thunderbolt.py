"""thunderbolt, the reader of gokart workspaces, loads what a pipeline of ours wrote.

thunderbolt lists tasks from ``log/task_log`` and ``log/task_params``, loads outputs with
``gokart.target.make_target(path).load()`` and unpacks model zips with
``gokart.zip_client_util.make_zip_client(path, tmp).unpack_archive()``, then calls the pickled
``load_function`` on ``model.pkl``. Each test builds in the per-test working directory that
conftest provides (thunderbolt resolves ``./resources`` paths and its ``./tmp`` against it).

The ``build_signing`` fixture runs every test here on an unsigned and on a signed build
(tests/test_signing_thunderbolt.py covers what signing refuses).
"""

from __future__ import annotations

import pickle
from typing import Any

import luigi
import pandas as pd
import pytest

import gokart
from gokart.storage import signing

thunderbolt = pytest.importorskip('thunderbolt')

FRAME = pd.DataFrame({'user': [1, 2, 3], 'score': [0.5, 0.25, 0.125]})


def save_model(model: Any, path: str) -> None:
    with open(path, 'wb') as file:
        pickle.dump(model, file)


def load_model(path: str) -> Any:
    with open(path, 'rb') as file:
        return pickle.load(file)


class Features(gokart.TaskOnKart[pd.DataFrame]):
    task_namespace = 'compat_thunderbolt'

    def output(self) -> Any:
        return self.make_target('features/features.csv')

    def run(self) -> None:
        self.dump(FRAME)


class Train(gokart.TaskOnKart[dict]):
    task_namespace = 'compat_thunderbolt'
    features = gokart.TaskInstanceParameter()
    learning_rate: float = luigi.FloatParameter(default=0.1)  # type: ignore[assignment]

    def output(self) -> Any:
        return self.make_model_target('model/model.zip', save_function=save_model, load_function=load_model)

    def run(self) -> None:
        frame = self.load('features')
        self.dump({'weights': frame['score'].tolist(), 'learning_rate': self.learning_rate})


class Report(gokart.TaskOnKart[Any]):
    task_namespace = 'compat_thunderbolt'
    model = gokart.TaskInstanceParameter()

    def output(self) -> Any:
        return {'summary': self.make_target('report/summary.pkl'), 'table': self.make_target('report/table.pkl')}

    def run(self) -> None:
        model = self.load('model')
        self.dump({'n_weights': len(model['weights'])}, 'summary')
        self.dump(pd.DataFrame({'weight': model['weights']}), 'table')


@pytest.fixture(params=['unsigned', 'signed'])
def build_signing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """How the build is signed: ``'unsigned'`` builds without a key, ``'signed'`` with one (thunderbolt reads in the same process)."""
    if request.param == 'signed':
        monkeypatch.setenv(signing.ENVIRONMENT_VARIABLE, 'the key of the team')
    else:
        monkeypatch.delenv(signing.ENVIRONMENT_VARIABLE, raising=False)
    return str(request.param)


def build_pipeline() -> None:
    gokart.build(Report(model=Train(features=Features())), return_value=False, log_level=40)


def test_thunderbolt_lists_every_task_of_the_workspace_with_its_parameters(build_signing: str) -> None:
    build_pipeline()

    tasks = thunderbolt.Thunderbolt('./resources', use_tqdm=False, use_cache=False).get_task_df()

    assert sorted(tasks['task_name']) == ['Features', 'Report', 'Train']
    train_params = tasks.loc[tasks['task_name'] == 'Train', 'task_params'].iloc[0]
    assert train_params['learning_rate'] == '0.1'


def test_thunderbolt_loads_the_model_zip_with_its_load_function(build_signing: str) -> None:
    build_pipeline()

    model = thunderbolt.Thunderbolt('./resources', use_tqdm=False, use_cache=False).get_data('Train')

    assert model == {'weights': [0.5, 0.25, 0.125], 'learning_rate': 0.1}


def test_thunderbolt_loads_ordinary_outputs_one_or_several_per_task(build_signing: str) -> None:
    build_pipeline()
    reader = thunderbolt.Thunderbolt('./resources', use_tqdm=False, use_cache=False)

    pd.testing.assert_frame_equal(reader.get_data('Features'), FRAME)
    summary, table = reader.get_data('Report')  # a task with two outputs gives a list, in output order
    assert summary == {'n_weights': 3}
    pd.testing.assert_frame_equal(table, pd.DataFrame({'weight': [0.5, 0.25, 0.125]}))
