"""Completion checks by listing on S3 (a real moto server): the same verdicts as one check per output, for far fewer requests.

The property test puts random present and absent outputs across a few directories (one of them
holding more than 1,000 objects, so listings span pages), with names that are prefixes of other
names and temporaries of unfinished writes, and compares what ``storage.exists_many``, the
planner and ``gokart plan`` say with ``storage.exists`` asked path by path. The request counts
are what a user pays for: a warm plan of N tasks in one directory costs a few listing pages, not N HEADs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from integration_servers import FAKE_AWS_ENVIRONMENT
from listing_pipeline import AllNamed, ListedLeaf, ListedRoot
from s3_request_count import counted_s3_requests

from gokart.commands import explain
from gokart.commands.cli import main
from gokart.execution.plan import TaskState, make_plan
from gokart.storage import filesystem as storage

BIG = 1100  # objects in one directory: more than one page of a listing (S3 returns 1,000 keys a page)
DIRECTORIES = ('d0', 'd1', 'd1/sub', 'empty')  # nothing is ever put in 'empty'
PRESENT_NAMES = ('a.pkl', 'a.pkl.tmp', 'ab.pkl', 'a.pk', 'b.pkl/inner.pkl', '.a.pkl.7-0.gokart-tmp', 'c.pkl', 'sub/x.pkl')
ASKED_NAMES = ('a.pkl', 'ab.pkl', 'a.pk', 'a.pkl.tmp', 'b.pkl', 'c.pkl', 'd.pkl', 'e.pkl', 'sub', 'a.pkl.gokart-tmp')


@pytest.fixture(scope='module')
def bucket(s3_endpoint: str) -> Iterator[str]:
    """A bucket for the module (moto lists a bucket in time proportional to all its keys: the big workspace has its own)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**FAKE_AWS_ENVIRONMENT, 'AWS_ENDPOINT_URL': s3_endpoint}.items():
            patch.setenv(name, value)
        yield new_bucket('gokart-listing')


def new_bucket(stem: str) -> str:
    import boto3

    name = f'{stem}-{uuid.uuid4().hex[:12]}'
    boto3.client('s3', region_name='us-east-1').create_bucket(Bucket=name)
    return name


@pytest.fixture(scope='module')
def warm_workspace(bucket: str) -> str:
    """A workspace of its own bucket where every leaf of ``ListedRoot(width=BIG)`` has its output (and the root has none).

    The leaves' outputs share one directory of ``BIG`` objects: more than one page of a listing.
    """
    import boto3

    workspace = f's3://{new_bucket("gokart-warm")}/warm/'
    put_objects(
        boto3.client('s3', region_name='us-east-1'),
        leaf_path(workspace, 0).split('/')[2],
        [key_of(leaf_path(workspace, i)) for i in range(BIG)],
    )
    return workspace


def leaf_path(workspace: str, number: int) -> str:
    return str(ListedLeaf(number=number, workspace_directory=workspace).output().path())


def key_of(path: str) -> str:
    return path.split('/', 3)[3]


def put_objects(client: object, bucket: str, keys: list[str]) -> None:
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda key: client.put_object(Bucket=bucket, Key=key, Body=b'x'), keys))  # type: ignore[attr-defined]


layouts = st.fixed_dictionaries(
    {
        'present': st.sets(st.tuples(st.sampled_from(DIRECTORIES[:3]), st.sampled_from(PRESENT_NAMES)), max_size=14),
        'asked': st.sets(st.tuples(st.sampled_from(DIRECTORIES), st.sampled_from(ASKED_NAMES)), min_size=1, max_size=24),
        'asked_big': st.sets(st.integers(min_value=0, max_value=BIG + 40), max_size=8),
        'list_from': st.sampled_from([1, 4]),
    }
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layout=layouts)
def test_listing_verdicts_are_those_of_one_check_per_path(bucket, warm_workspace, layout, monkeypatch):
    import boto3

    monkeypatch.setattr(storage, '_LIST_DIRECTORY_FROM', layout['list_from'])  # 1: every directory is listed, even for one path
    prefix = f's3://{bucket}/{uuid.uuid4().hex[:8]}'
    client = boto3.client('s3', region_name='us-east-1')
    put_objects(client, bucket, [f'{prefix[len(f"s3://{bucket}/") :]}/{d}/{n}' for d, n in layout['present']])
    asked = sorted(f'{prefix}/{d}/{n}' for d, n in layout['asked'])
    asked += [leaf_path(warm_workspace, i) for i in sorted(layout['asked_big'])]
    one_by_one = {path: storage.exists(path) for path in asked}
    assert dict(storage.exists_many(asked)) == one_by_one
    for i in layout['asked_big']:
        assert one_by_one[leaf_path(warm_workspace, i)] == (i < BIG)  # on the second page of the listing too

    outputs = sorted({n for _, n in layout['asked'] if n.endswith('.pkl')})
    root = AllNamed(names=[f'd0/{n}' for n in outputs], workspace_directory=f'{prefix}/')
    planned = {t.task.name: t.state is TaskState.COMPLETE for t in make_plan([root]).tasks if t.task is not root}
    assert planned == {f'd0/{n}': storage.exists(f'{prefix}/d0/{n}') for n in outputs}
    explained = {s.task.name: not s.will_run for s in explain.plan(root) if s.task is not root}
    assert explained == planned


def test_temporaries_and_longer_names_do_not_count_as_outputs(bucket):
    import boto3

    workspace = f's3://{bucket}/{uuid.uuid4().hex[:8]}/'
    client = boto3.client('s3', region_name='us-east-1')
    key = workspace[len(f's3://{bucket}/') :]
    put_objects(client, bucket, [f'{key}out/.a.pkl.12-0.gokart-tmp', f'{key}out/a.pkl.tmp', f'{key}out/b.pkl', f'{key}out/ab.pkl'])
    names = ['out/a.pkl', 'out/b.pkl', 'out/c.pkl', 'out/d.pkl', 'out/a.pk']
    plan = make_plan([AllNamed(names=names, workspace_directory=workspace)])
    complete = sorted(t.task.name for t in plan.tasks if t.state is TaskState.COMPLETE)
    assert complete == ['out/b.pkl']


def test_outputs_at_the_top_of_a_bucket_and_under_a_missing_prefix(bucket, s3_endpoint):
    import boto3

    top = f'gokart-top-{uuid.uuid4().hex[:8]}'
    client = boto3.client('s3', endpoint_url=s3_endpoint, region_name='us-east-1')
    client.create_bucket(Bucket=top)
    put_objects(client, top, ['a.pkl', 'c.pkl', 'c.pkl.tmp', 'deep/e.pkl'])
    paths = [f's3://{top}/{n}' for n in ('a.pkl', 'b.pkl', 'c.pkl', 'deep', 'e.pkl')] + [f's3://{top}/none/{n}.pkl' for n in 'wxyz']
    found = storage.exists_many(paths)
    assert dict(found) == {path: storage.exists(path) for path in paths}
    assert [p for p, present in found.items() if present] == [f's3://{top}/a.pkl', f's3://{top}/c.pkl', f's3://{top}/deep']


def test_a_warm_plan_of_many_tasks_in_one_directory_costs_a_few_listing_pages(warm_workspace):
    root = ListedRoot(width=BIG, workspace_directory=warm_workspace)
    with counted_s3_requests() as requests:
        plan = make_plan([root])
    assert plan.count(TaskState.COMPLETE) == BIG and plan.count(TaskState.PENDING) == 1
    # The root alone is asked about (HEAD, then whether it is a prefix); its 1,100 leaves take two listing pages.
    assert requests == {'HeadObject': 1, 'ListObjectsV2': 3}


def test_gokart_plan_of_many_cached_tasks_costs_a_few_requests(warm_workspace, capsys):
    with counted_s3_requests() as requests:
        status = main(['plan', 'listing_pipeline:ListedRoot', '--width', str(BIG), '--workspace-directory', warm_workspace])
    assert status == 0 and capsys.readouterr().out.splitlines()[-1] == f'1 to run, {BIG} cached'
    assert requests['HeadObject'] <= 5 and sum(requests.values()) <= 12, requests  # the root, its records, the id census


def test_gokart_why_compares_recorded_runs_without_a_request_per_run(s3_bucket, capsys):
    import gokart

    workspace = f's3://{s3_bucket}/why/'
    gokart.build(ListedRoot(width=8, workspace_directory=workspace), reset_register=False)
    with counted_s3_requests() as requests:
        status = main(['why', '--limit', '8', 'listing_pipeline:ListedLeaf', '--number', '100', '--workspace-directory', workspace])
    out = capsys.readouterr().out
    assert status == 1 and "parameter number: '0' -> '100'" in out and out.count('(output exists)') == 8
    # Eight recorded runs: their parameters are read (GetObject each), whether they finished and whether
    # their outputs exist come from listings.
    # One HEAD (the task's own output); the records' directory is listed without a HEAD first.
    assert requests['HeadObject'] <= 1, requests


def test_gokart_plan_reads_each_recorded_run_once_however_many_tasks_of_its_class_must_run(s3_bucket, capsys):
    import gokart

    workspace = f's3://{s3_bucket}/many/'
    gokart.build(ListedRoot(width=8, workspace_directory=workspace), reset_register=False)  # records 8 runs of ListedLeaf
    with counted_s3_requests() as requests:
        status = main(['plan', 'listing_pipeline:ListedRoot', '--width', '28', '--workspace-directory', workspace])
    assert status == 0 and capsys.readouterr().out.splitlines()[-1] == '21 to run, 8 cached'
    # 20 new leaves, each compared with the 8 recorded runs: the records (parameters and task_log) are read
    # once for the plan, not once per leaf (which would be 320 reads), and their existence listed once.
    assert requests['GetObject'] <= 2 * 8 + 6, requests
    assert sum(requests.values()) <= 50, requests
