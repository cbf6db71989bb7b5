"""thunderbolt loads model and large-frame zips written by a signed build and by an unsigned one.

thunderbolt unpacks a zip output with ``gokart.zip_client_util.make_zip_client(...).unpack_archive()``
and loads the ``load_function.pkl`` inside with ``gokart.target.make_target(...).load()``. The
pickles inside a signed zip carry no signature of their own; the zip client checks the zip's
signature and vouches for what it extracted.
"""

from __future__ import annotations

import os
import pickle
import zipfile

import pandas as pd
import pytest
from signed_zip_tasks import Frame, Model, PickleTrap

import gokart
import gokart.zip_client_util  # thunderbolt reaches it as an attribute of gokart
from gokart.errors import UnsignedOutputError
from gokart.storage import signing

thunderbolt = pytest.importorskip('thunderbolt')


def _build_and_read_with_thunderbolt() -> tuple[dict, pd.DataFrame]:
    gokart.build(Model(), return_value=False)
    gokart.build(Frame(), return_value=False)
    reader = thunderbolt.Thunderbolt('./resources', use_tqdm=False, use_cache=False)
    return reader.get_data('Model'), reader.get_data('Frame')


def _expect_loaded(model: dict, frame: pd.DataFrame) -> None:
    assert model == {'weights': [0.5, 0.25]}
    pd.testing.assert_frame_equal(frame, pd.DataFrame({'a': range(40)}))


def test_thunderbolt_loads_the_zips_of_an_unsigned_build(monkeypatch):
    monkeypatch.delenv(signing.ENVIRONMENT_VARIABLE, raising=False)
    _expect_loaded(*_build_and_read_with_thunderbolt())


def test_thunderbolt_loads_the_zips_of_a_signed_build(monkeypatch):
    monkeypatch.setenv(signing.ENVIRONMENT_VARIABLE, 'a secret of the team')
    _expect_loaded(*_build_and_read_with_thunderbolt())
    with open(Model().output().path(), 'rb') as f:
        assert signing.split_trailer(f)[1] is not None


def test_thunderbolt_without_the_key_loads_the_zips_of_a_signed_build(monkeypatch):
    monkeypatch.setenv(signing.ENVIRONMENT_VARIABLE, 'a secret of the team')
    gokart.build(Model(), return_value=False)
    monkeypatch.delenv(signing.ENVIRONMENT_VARIABLE)
    assert thunderbolt.Thunderbolt('./resources', use_tqdm=False, use_cache=False).get_data('Model') == {'weights': [0.5, 0.25]}


def test_thunderbolt_with_the_key_refuses_a_model_zip_with_a_planted_pickle(monkeypatch, tmp_path):
    monkeypatch.setenv(signing.ENVIRONMENT_VARIABLE, 'a secret of the team')
    gokart.build(Model(), return_value=False)
    path = Model().output().path()
    with open(path, 'rb') as f:
        _, trailer = signing.split_trailer(f)
    assert trailer is not None
    marker = str(tmp_path / 'code-ran')
    with zipfile.ZipFile(path, 'w') as forged:
        forged.writestr('model.pkl', pickle.dumps({'weights': []}))
        forged.writestr('load_function.pkl', pickle.dumps(PickleTrap(marker)))
    with open(path, 'ab') as f:
        f.write(signing.trailer(trailer.name, trailer.digest))
    reader = thunderbolt.Thunderbolt('./resources', use_tqdm=False, use_cache=False)
    with pytest.raises(UnsignedOutputError, match='does not match'):
        reader.get_data('Model')
    assert not os.path.exists(marker)


def test_thunderbolt_with_the_key_refuses_the_zip_of_an_unsigned_build(monkeypatch):
    monkeypatch.delenv(signing.ENVIRONMENT_VARIABLE, raising=False)
    gokart.build(Model(), return_value=False)
    monkeypatch.setenv(signing.ENVIRONMENT_VARIABLE, 'a secret of the team')
    reader = thunderbolt.Thunderbolt('./resources', use_tqdm=False, use_cache=False)
    with pytest.raises(UnsignedOutputError, match='load_function.pkl'):
        reader.get_data('Model')


def test_a_vouched_pickle_changed_after_extraction_is_refused(monkeypatch):
    monkeypatch.setenv(signing.ENVIRONMENT_VARIABLE, 'a secret of the team')
    gokart.build(Model(), return_value=False)
    scratch = os.path.abspath('scratch')
    gokart.zip_client_util.make_zip_client(Model().output().path(), scratch).unpack_archive()
    load_function = os.path.join(scratch, 'load_function.pkl')
    assert gokart.target.make_target(load_function).load() is not None
    with open(load_function, 'ab') as f:
        f.write(b'\x00')
    with pytest.raises(UnsignedOutputError, match='no signature'):
        gokart.target.make_target(load_function).load()
