"""``gokart gc`` on an S3 workspace (a real moto server): what it lists, what ``--yes`` deletes, what it costs.

Unreachable outputs go with their ``log/`` records; temporaries of unfinished writes, expired leases
and incomplete multipart uploads go once they are old enough; a refused or missing bucket is an
error naming the workspace. gs:// goes through the same fsspec code (documented, not tested here).
"""

from __future__ import annotations

import datetime
import http.server
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from listing_pipeline import ListedLeaf, ListedRoot
from s3_request_count import counted_s3_requests

import gokart
from gokart.commands import gc as workspace_gc
from gokart.commands.cli import main
from gokart.records import run_records
from gokart.storage import filesystem as storage


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def gc(capsys: pytest.CaptureFixture[str], workspace: str, *options: str, width: int = 2) -> tuple[int, str, str]:
    return run_cli(capsys, 'gc', *options, 'listing_pipeline:ListedRoot', '--width', str(width), '--workspace-directory', workspace)


def listed_paths(out: str) -> list[str]:
    return [line.split()[-1] for line in out.splitlines()[:-1] if line.startswith(' ')]  # not the workspace lines


def test_gc_lists_then_deletes_unreachable_outputs_with_their_records(s3_bucket, capsys):
    workspace = f's3://{s3_bucket}/ws/'
    gokart.build(ListedRoot(width=2, workspace_directory=workspace), reset_register=False)
    gokart.build(ListedRoot(width=3, workspace_directory=workspace), reset_register=False)
    gone = [ListedRoot(width=3, workspace_directory=workspace), ListedLeaf(number=2, workspace_directory=workspace)]
    records = [run_records.path(run_records.TASK_PARAMS, task) for task in gone]

    status, out, _ = gc(capsys, workspace)
    assert status == 0
    listed = listed_paths(out)
    assert {task.output().path() for task in gone} | set(records) <= set(listed)
    assert len(listed) >= 2 * len(run_records.RUN_RECORDS)  # both tasks' outputs and records
    assert all(any(task.make_unique_id() in path for task in gone) for path in listed)
    assert ' B  output ' in out and ' B  log record ' in out  # human-readable sizes and what each file is
    assert out.splitlines()[-1].startswith(f'{len(listed)} files, ') and 'would be deleted' in out
    assert all(storage.exists(path) for path in listed)  # a dry run

    status, out, _ = gc(capsys, workspace, '--yes')
    assert status == 0 and out.splitlines()[-1].startswith(f'deleted {len(listed)} files, ')
    assert not any(storage.exists(path) for path in listed)
    assert ListedRoot(width=2, workspace_directory=workspace).output().exists()
    assert all(ListedLeaf(number=i, workspace_directory=workspace).output().exists() for i in range(2))
    assert gc(capsys, workspace)[1].strip() == 'nothing to collect'


def test_older_than_keeps_recent_garbage(s3_bucket, capsys):
    workspace = f's3://{s3_bucket}/ws/'
    gokart.build(ListedRoot(width=3, workspace_directory=workspace), reset_register=False)
    status, out, _ = gc(capsys, workspace, '--older-than', '7d', '--yes')
    assert status == 0 and out.startswith('nothing to collect (') and 'younger than 7d kept)' in out
    assert ListedRoot(width=3, workspace_directory=workspace).output().exists()


def test_temporaries_expired_leases_and_incomplete_uploads_go_once_old_enough(s3_bucket, capsys):
    import boto3

    workspace = f's3://{s3_bucket}/ws/'
    gokart.build(ListedRoot(width=1, workspace_directory=workspace), reset_register=False)
    client = boto3.client('s3', region_name='us-east-1')
    temporary, lease = 'ws/listing_pipeline/.ListedLeaf_x.pkl.12-0.gokart-tmp', 'ws/.gokart-leases/ListedLeaf_0123.lease'
    client.put_object(Bucket=s3_bucket, Key=temporary, Body=b'partial')
    client.put_object(Bucket=s3_bucket, Key=lease, Body=b'{"holder": "host:1"}')
    upload = client.create_multipart_upload(Bucket=s3_bucket, Key='ws/listing_pipeline/big.pkl')['UploadId']
    client.upload_part(Bucket=s3_bucket, Key='ws/listing_pipeline/big.pkl', UploadId=upload, PartNumber=1, Body=b'p' * 2048)
    roots = [ListedRoot(width=1, workspace_directory=workspace)]

    now = workspace_gc.survey(roots)
    # The temporary and the lease are fresh: work in progress, as far as gc can tell. (moto reports every
    # upload as initiated in 2010, so the upload is old already.)
    assert [g.kind for g in now.garbage] == [workspace_gc.INCOMPLETE_UPLOAD] and now.young == 2

    later = workspace_gc.survey(roots, now=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=2))
    assert [(g.path, g.kind, g.size) for g in later.garbage] == [
        (f's3://{s3_bucket}/{lease}', workspace_gc.STALE_LEASE, len(b'{"holder": "host:1"}')),
        (f's3://{s3_bucket}/{temporary}', workspace_gc.TEMPORARY, len(b'partial')),
        (f's3://{s3_bucket}/ws/listing_pipeline/big.pkl', workspace_gc.INCOMPLETE_UPLOAD, 2048),
    ]

    # --older-than overrides the in-flight threshold, not a lease's lifetime: a lease just written may be live.
    status, out, _ = gc(capsys, workspace, '--older-than', '0s', width=1)
    assert listed_paths(out) == [f's3://{s3_bucket}/{temporary}', f's3://{s3_bucket}/ws/listing_pipeline/big.pkl']
    assert 'incomplete upload' in out and out.splitlines()[-1].startswith('1 files and 1 incomplete uploads, 2.0 KiB')

    workspace_gc.delete_garbage(later.garbage)
    assert client.list_multipart_uploads(Bucket=s3_bucket).get('Uploads', []) == []
    assert not storage.exists(f's3://{s3_bucket}/{temporary}') and not storage.exists(f's3://{s3_bucket}/{lease}')
    assert roots[0].output().exists()


def test_gc_of_a_large_workspace_costs_listing_pages_and_batched_deletes(s3_bucket, capsys):
    import boto3

    workspace = f's3://{s3_bucket}/ws/'
    leaves = [ListedLeaf(number=i, workspace_directory=workspace).output().path() for i in range(1101)]
    client = boto3.client('s3', region_name='us-east-1')
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda path: client.put_object(Bucket=s3_bucket, Key=path.split('/', 3)[3], Body=b'x'), leaves))

    with counted_s3_requests() as requests:
        status, out, _ = gc(capsys, workspace, width=1)  # leaf 0 is reachable, leaves 1..1100 are not
    assert status == 0 and out.splitlines()[-1].startswith('1100 files, ')
    assert requests == {'ListObjectsV2': 2, 'ListMultipartUploads': 1}  # two pages; no request per object

    with counted_s3_requests() as requests:
        status, out, _ = gc(capsys, workspace, '--yes', width=1)
    assert out.splitlines()[-1].startswith('deleted 1100 files, ')
    assert requests == {'ListObjectsV2': 2, 'ListMultipartUploads': 1, 'DeleteObjects': 2}  # 1,000 keys a request
    assert storage.list_files(workspace) == [leaves[0]]


def test_a_missing_bucket_is_an_error_naming_it(s3_bucket, capsys):
    status, _, err = gc(capsys, f's3://{s3_bucket}-gone/ws/')
    assert status == 1
    assert f"'{s3_bucket}-gone' does not exist" in err and f's3://{s3_bucket}-gone/ws' in err


class _Refusing(http.server.BaseHTTPRequestHandler):
    """An S3 endpoint that refuses every request as S3 does when the credentials lack a permission."""

    def _refuse(self) -> None:
        body = b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>'
        self.send_response(403)
        self.send_header('Content-Type', 'application/xml')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _refuse

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def refusing_endpoint() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f'http://127.0.0.1:{server.server_address[1]}'
    finally:
        server.shutdown()
        server.server_close()


def test_a_refused_listing_is_an_error_naming_the_workspace_and_the_permissions(refusing_endpoint, monkeypatch, capsys):
    monkeypatch.setenv('AWS_ENDPOINT_URL', refusing_endpoint)
    workspace = f's3://private-{uuid.uuid4().hex[:8]}/ws/'
    status, _, err = gc(capsys, workspace)
    assert status == 1
    assert f'could not list {workspace}' in err and 'AccessDenied' in err and 's3:ListBucket' in err
