"""Tasks with zip outputs (a model and a large frame) and a hostile pickle, shared by the signing tests."""

from __future__ import annotations

import pickle
from typing import Any

import pandas as pd

import gokart


def save_pickle(obj: Any, path: str) -> None:
    with open(path, 'wb') as f:
        pickle.dump(obj, f)


def load_pickle(path: str) -> Any:
    with open(path, 'rb') as f:
        return pickle.load(f)


class Model(gokart.TaskOnKart[dict]):
    task_namespace = 'signed_zip_tasks'

    def output(self):
        return self.make_model_target('model/model.zip', save_function=save_pickle, load_function=load_pickle)

    def run(self) -> None:
        self.dump({'weights': [0.5, 0.25]})


class Frame(gokart.TaskOnKart[pd.DataFrame]):
    task_namespace = 'signed_zip_tasks'

    def output(self):
        return self.make_large_data_frame_target('frame/frame.zip', max_byte=64)

    def run(self) -> None:
        self.dump(pd.DataFrame({'a': range(40)}))


class PickleTrap:
    """Unpickling this creates the file ``marker``: evidence that code from the workspace ran."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))
