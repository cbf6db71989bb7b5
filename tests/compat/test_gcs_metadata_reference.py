"""GCS object labels are those gokart 1.12.2 writes: the same inputs through both, compared.

Teams query their buckets by these labels (``__required_task_outputs``, the task's parameters),
so the merge order, normalisation, the 8 KiB cut and the warnings must stay 1.12's. The cases
(hand-written edge cases plus seeded random ones, with conflicts, empty values, nested required
outputs and metadata over the limit) run through gcs_metadata_runner.py under gokart 1.12.2's
interpreter and under ours. Skips without the reference interpreter (fails under CI).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from typing import Any

import pytest
from reference_python import REPOSITORY, reference_python

from gokart.gcs_obj_metadata_client import merge_task_state_labels

RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'gcs_metadata_runner.py')
ALPHABET = ['a', 'b', 'c', 'key', 'é', '日本', '__required_task_outputs', '1']


def _required(name: str, path: str) -> dict[str, list[str]]:
    return {'__required__': [name, path]}


def _patch(metadata: Any = None, task_params: Any = None, custom_labels: Any = None, required: Any = None) -> dict[str, Any]:
    return {
        'kind': 'patch',
        'metadata': {} if metadata is None else metadata,
        'task_params': task_params,
        'custom_labels': custom_labels,
        'required_task_outputs': required,
    }


def hand_written_cases() -> list[dict[str, Any]]:
    nested = [_required('A', 'gs://b/a.pkl'), {'k': _required('B', 'gs://b/b.pkl'), 'l': [_required('Ü', 'gs://b/日本.pkl')]}]
    cases = [
        _patch(),
        _patch(task_params={'a': '1'}),
        _patch({'x': 'y'}, task_params={'a': '1'}),
        _patch({'a': '0'}, task_params={'a': '1'}, custom_labels={'a': '2', 'b': 3}),
        _patch(task_params={'a': '1', 'c': ''}, custom_labels={'a': '2', 'n': None}),
        _patch(custom_labels={'a': '', 'b': ''}, task_params={'a': ''}),
        _patch(custom_labels={'a': None}, task_params={'a': '1'}),
        _patch(custom_labels={'list': [1, 2], 'dict': {'d': 1}, 'float': 1.5, 'bool': True, '7': 8}),
        _patch(task_params={'a': 1, 'b': None}),
        _patch(required=_required('A', 'gs://b/a.pkl')),
        _patch(required=nested),
        _patch(required=[]),
        _patch(required={}),
        _patch(task_params={'__required_task_outputs': 'x'}, required=_required('A', 'p')),
        _patch(custom_labels={'__required_task_outputs': 'x'}, required=nested),
        _patch({'b': '0', 'a': '0'}, task_params={'a': '1', 'c': '2'}),
        _patch({'a': ''}, task_params={'b': '1'}),
        _patch({'z': 'x' * 9000}, task_params={'a': '1'}),  # existing metadata over the limit
        _patch({'z': 'x' * 8000}, task_params={'a': '1'}),
        _patch({'z': 'x' * 100}, task_params={'a': 'y' * 8090}),  # exactly 8 KiB
        _patch({'z': 'x' * 100}, task_params={'a': 'y' * 8091}),
        _patch(task_params={'a': 'é' * 4095}),
        _patch(task_params={'a': 'é' * 4096}),  # 8 KiB of characters, more of UTF-8 bytes
        _patch(task_params={'a': 'x' * 4000, 'b': 'x' * 5000, 'c': 'y'}),
        _patch(task_params={'a': 'x' * 5000, 'b': 'x' * 1000, 'c': 'y' * 3000}),
        _patch(task_params={'big': 'x' * 9000}),
        _patch({'a': 1}, task_params={'b': '2'}),  # a non-string existing value
        _patch(None, task_params={'a': '1'}) | {'metadata': None},  # a failed metadata request
        _patch(None, task_params={'a': '1'}) | {'metadata': 'not a dict'},
    ]
    paths = [
        'gs://b/log/task_log/x.pkl',
        'gs://b/x/log/processing_time/x.pkl',
        'gs://b/log/x.pkl',
        'gs://b/log/random_seed/x',
        'gs://b/log/module_versions/a.txt',
        'gs://b/log/task_params/a.pkl',
        'gs://b/log/task_info/a.pkl',
        'gs://b/xlog/task_log/x.pkl',
        'gs://b/log/code_fingerprint/a.pkl',
        'gs://log/task_log/x.pkl',
        's3://b/log/task_log/a.pkl',
        'gs://b/a/log/task_log',
        'gs://b/log/task_log/',
        'gs://b/log/task_log/sub/x.pkl',
        'gs://b//log/task_log/x.pkl',
        'gs://b/LOG/task_log/x.pkl',
        'log/task_log/x.pkl',
        'gs:/b/log/task_log/x.pkl',
        'gs://b/log/task_log/x.pkl?q',
    ]
    cases += [{'kind': 'log_path', 'path': path} for path in paths]
    buckets = ['gs://b/x/y.pkl', 'gs://b', 'gs://b/', 'gs://b/x/', 's3://b/k', 'b/k', 'gs:/b/k', 'GS://b/k', 'gs://', 'gs://b/a b/%20?x#y']
    cases += [{'kind': 'bucket_and_key', 'path': path} for path in buckets]
    return cases


def _random_labels(rng: random.Random, allow_any: bool) -> dict[str, Any] | None:
    if rng.random() < 0.15:
        return None
    labels: dict[str, Any] = {}
    for _ in range(rng.randint(0, 5)):
        key = rng.choice(ALPHABET)
        value = rng.choice(['', 'v', 'ü' * rng.randint(1, 3), 'x' * rng.choice([1, 100, 2000, 4000, 8200])])
        if allow_any:
            value = rng.choice([value, value, None, rng.randint(-3, 3), 2.5, [1, 'a']])
        labels[key] = value
    return labels


def _random_required(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 2 or roll < 0.4:
        return _required(rng.choice(['A', 'Bé', '日本']), f'gs://bucket/{rng.choice(["a", "b/c", "ü"])}_{rng.randint(0, 9)}.pkl')
    if roll < 0.7:
        return [_random_required(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(ALPHABET): _random_required(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def random_cases(seed: int, count: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    cases = []
    for _ in range(count):
        existing = {rng.choice(ALPHABET): rng.choice(['old', 'x' * rng.choice([10, 3000, 8500])]) for _ in range(rng.randint(0, 3))}
        required = _random_required(rng) if rng.random() < 0.5 else None
        cases.append(_patch(existing, _random_labels(rng, allow_any=False), _random_labels(rng, allow_any=True), required))
    return cases


def run_under(python: str, cases: list[dict[str, Any]], cwd: Any, env: dict[str, str]) -> list[dict[str, Any]]:
    completed = subprocess.run([python, RUNNER], input=json.dumps(cases), capture_output=True, text=True, cwd=cwd, env=env, check=False)
    assert completed.returncode == 0, completed.stderr
    results: list[dict[str, Any]] = json.loads(completed.stdout)
    return results


@pytest.fixture(scope='module')
def cases() -> list[dict[str, Any]]:
    return hand_written_cases() + random_cases(seed=22, count=300)


@pytest.fixture(scope='module')
def ours(cases: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    env = {**os.environ, 'PYTHONPATH': REPOSITORY}
    return run_under(sys.executable, cases, tmp_path_factory.mktemp('ours'), env)


def test_labels_and_warnings_are_gokart_1_12s(cases: list[dict[str, Any]], ours: list[dict[str, Any]], tmp_path: Any) -> None:
    python = reference_python()
    if python is None:
        pytest.skip('gokart 1.12.2 reference interpreter not set up: make reference-venv')
    env = {key: value for key, value in os.environ.items() if key != 'PYTHONPATH'}
    reference = run_under(python, cases, tmp_path, env)
    differences = [(case, theirs, mine) for case, theirs, mine in zip(cases, reference, ours, strict=True) if theirs != mine]
    assert not differences, f'{len(differences)} of {len(cases)} cases differ from 1.12.2; first: {differences[0]}'


def test_the_runner_imports_our_gokart(ours: list[dict[str, Any]], cases: list[dict[str, Any]]) -> None:
    # Guards the comparison itself: the first case of our run is answered by this repository's code.
    assert len(ours) == len(cases)
    completed = subprocess.run(
        [sys.executable, '-c', 'import gokart; print(gokart.__file__)'],
        capture_output=True,
        text=True,
        env={**os.environ, 'PYTHONPATH': REPOSITORY},
        check=True,
    )
    assert completed.stdout.startswith(REPOSITORY)


def test_our_merge_patches_only_what_changes(cases: list[dict[str, Any]], ours: list[dict[str, Any]]) -> None:
    # merge_task_state_labels is the path dumps take: None (no request) exactly when the metadata stays.
    for case, result in zip(cases, ours, strict=True):
        if case['kind'] != 'patch' or 'error' in result or not isinstance(case['metadata'], dict) or case['required_task_outputs']:
            continue
        merged = merge_task_state_labels(case['metadata'], case['task_params'], case['custom_labels'], None)
        assert merged == (None if result['value'] == case['metadata'] else result['value'])
