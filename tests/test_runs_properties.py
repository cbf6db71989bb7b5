"""Property test of the runs index (issue 31): over generated journals (valid, malformed, duplicated, partial
records), every query returns rows consistent with the valid records, or raises one of the documented errors."""

from __future__ import annotations

import json
import os
import tempfile

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runs_pipeline import Train

import gokart
from gokart.runs import RunNotFoundError, WhereError

IDS = [f'{n:02d}' * 16 for n in range(6)]  # a small pool, so that duplicates and reruns of one id are common
DOCUMENTED = (RunNotFoundError, WhereError, FileNotFoundError)


@st.composite
def valid_record(draw: st.DrawFn) -> dict:
    c = draw(st.sampled_from([0.1, 0.5, 0.9]))
    return {
        'class': 'Train',
        'family': 'Train',
        'id': draw(st.sampled_from(IDS)),
        'params': {'c': str(c), 'model': draw(st.sampled_from(['svm', 'rf'])), 'data': 'x'},
        'outputs': [],
        'requires': draw(st.sampled_from([[], [{'class': 'Data', 'family': 'Data', 'id': IDS[0], 'outputs': []}]])),
        'metrics': draw(st.sampled_from([None, {'accuracy': 0.5}, {'accuracy': 0.9}])),
        'start': 1.0,
        'end': float(draw(st.integers(1, 50))),
        'state': draw(st.sampled_from(['SUCCESS', 'FAILURE'])),
        'error': None,
    }


MALFORMATIONS = [
    ('family', {'a': 1}),
    ('requires', 'Data_123'),
    ('params', ['c', 1]),
    ('class', ['Train']),
    ('end', 'yesterday'),
    ('metrics', {'accuracy': 'high'}),
    ('outputs', 'a.pkl'),
    ('id', 7),
]


@st.composite
def journal(draw: st.DrawFn) -> tuple[list[bytes], list[dict]]:
    """Lines of a journal and the valid records among them, in order."""
    lines: list[bytes] = []
    valid: list[dict] = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(['valid', 'valid', 'malformed', 'duplicate', 'garbage']))
        if kind == 'valid' or (kind == 'duplicate' and not valid):
            record = draw(valid_record())
            valid.append(record)
            lines.append(json.dumps(record).encode())
        elif kind == 'duplicate':
            record = draw(st.sampled_from(valid))
            valid.append(record)
            lines.append(json.dumps(record).encode())
        elif kind == 'malformed':
            field, value = draw(st.sampled_from(MALFORMATIONS))
            lines.append(json.dumps({**draw(valid_record()), field: value}).encode())
        else:
            lines.append(draw(st.sampled_from([b'not json', b'[1, 2]', b'"a string"', b'{"class": "Train", "id":', b'null'])))
    data = b''.join(line + b'\n' for line in lines)
    if draw(st.booleans()):  # a partial last line, as a reader sees a line being written
        data += json.dumps(draw(valid_record())).encode()[: draw(st.integers(1, 30))]
    return [data], valid


def expected_runs(valid: list[dict]) -> dict[str, dict]:
    latest: dict[str, dict] = {}
    for record in valid:
        before = latest.get(record['id'])
        if before is None or record['end'] >= before['end']:
            latest[record['id']] = record
    return latest


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(journal(), st.sampled_from(['c > 0.3', "state == 'SUCCESS'", 'accuracy > 0.6', 'model in ("svm",)', 'nothing > 1']))
def test_every_query_of_generated_records_agrees_with_the_valid_records_or_raises_a_documented_error(generated, where) -> None:
    chunks, valid = generated
    workspace = tempfile.mkdtemp()
    folder = os.path.join(workspace, '.gokart', 'lineage')
    os.makedirs(folder)
    for number, data in enumerate(chunks):
        with open(os.path.join(folder, f'generated-{number:05d}.jsonl'), 'wb') as f:
            f.write(data)
    expected = expected_runs(valid)

    found = gokart.runs(Train, workspace=workspace)
    assert sorted(found['unique_id']) == sorted(expected)
    for _, got in found.iterrows():
        record = expected[got['unique_id']]
        assert got['state'] == record['state'] and got['c'] == float(record['params']['c']) and got['model'] == record['params']['model']
        assert (got.get('accuracy') if 'accuracy' in found else None) == (record['metrics'] or {}).get('accuracy') or (
            record['metrics'] is None and pd.isna(got.get('accuracy'))
        )

    try:
        filtered = gokart.runs(Train, workspace=workspace, where=where)
    except DOCUMENTED:
        filtered = None
    if filtered is not None and where != 'nothing > 1':
        mask = {
            'c > 0.3': lambda r: float(r['params']['c']) > 0.3,
            "state == 'SUCCESS'": lambda r: r['state'] == 'SUCCESS',
            'accuracy > 0.6': lambda r: (r['metrics'] or {}).get('accuracy', 0) > 0.6,
            'model in ("svm",)': lambda r: r['params']['model'] == 'svm',
        }[where]
        assert sorted(filtered['unique_id']) == sorted(i for i, r in expected.items() if mask(r))

    for asked in [*IDS[:3], IDS[0][:6], f'Train_{IDS[1]}', '______', '%%%%%%']:
        try:
            run_lineage = gokart.lineage(asked, workspace=workspace)
        except DOCUMENTED:
            assert not any(i.startswith(asked.removeprefix('Train_')) for i in expected) or asked.startswith(IDS[0][:6])
            continue
        assert run_lineage['unique_id'][0] in expected
        try:
            gokart.load_run(asked, workspace=workspace)
        except DOCUMENTED:
            pass
        try:
            result = gokart.diff(asked, IDS[2], workspace=workspace)
        except DOCUMENTED:
            continue
        assert result.a.endswith(run_lineage['unique_id'][0])
