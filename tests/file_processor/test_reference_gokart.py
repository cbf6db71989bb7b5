"""Files cross over between this package and the real gokart 1.12.2, in both directions.

Needs gokart 1.12.2 installed in /work/venvs/ref (or $GOKART_REFERENCE_PYTHON); skipped without it.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from compat_cases import CASES, GOKART_CANNOT_DUMP, assert_same, normalize  # noqa: E402
from reference_python import reference_python  # noqa: E402

from gokart.file_processor import make_file_processor  # noqa: E402

_REFERENCE = reference_python()
REFERENCE_PYTHON = Path(_REFERENCE or 'missing')

pytestmark = pytest.mark.skipif(_REFERENCE is None, reason='reference gokart 1.12.2 virtualenv not available (make reference-venv)')


def _load_ours(path: Path, dataframe_type: Any) -> Any:
    with open(path, 'rb') as file:
        return normalize(make_file_processor(str(path), dataframe_type=dataframe_type).load(file))


@pytest.fixture(scope='module')
def exchanged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, Any]]]:
    directory = tmp_path_factory.mktemp('exchange')
    for name, extension, dataframe_type, build in CASES:
        with open(directory / f'ours_{name}{extension}', 'wb') as file:
            make_file_processor(f'x{extension}', dataframe_type=dataframe_type).dump(build(), file)  # type: ignore[arg-type]
    script = Path(__file__).with_name('reference_gokart.py')
    subprocess.run([str(REFERENCE_PYTHON), str(script), str(directory)], check=True, cwd=directory, capture_output=True, timeout=300)
    with open(directory / 'results.pkl', 'rb') as file:
        return directory, pickle.load(file)


@pytest.mark.parametrize(('name', 'extension', 'dataframe_type'), [case[:3] for case in CASES], ids=[case[0] for case in CASES])
def test_gokart_reads_our_file_as_we_do(
    exchanged: tuple[Path, dict[str, dict[str, Any]]], name: str, extension: str, dataframe_type: str
) -> None:
    directory, results = exchanged
    assert_same(results[name]['ours'], _load_ours(directory / f'ours_{name}{extension}', dataframe_type))


@pytest.mark.parametrize(
    ('name', 'extension', 'dataframe_type'),
    [case[:3] for case in CASES if case[0] not in GOKART_CANNOT_DUMP],
    ids=[case[0] for case in CASES if case[0] not in GOKART_CANNOT_DUMP],
)
def test_we_read_gokart_file_as_gokart_does(
    exchanged: tuple[Path, dict[str, dict[str, Any]]], name: str, extension: str, dataframe_type: str
) -> None:
    directory, results = exchanged
    from_gokart_file = _load_ours(directory / f'gokart_{name}{extension}', dataframe_type)
    assert_same(results[name]['gokart'], from_gokart_file)
    assert_same(from_gokart_file, _load_ours(directory / f'ours_{name}{extension}', dataframe_type))
