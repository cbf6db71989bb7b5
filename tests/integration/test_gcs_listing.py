"""gs:// workspaces through gcsfs against a GCS emulator (``gcp-storage-emulator``): listing checks and ``gokart gc``.

The same fsspec code serves S3 and GCS; these tests check what differs underneath: gcsfs's own
pagination (1,000 objects a page), its listing fields (``updated``, ``size``) and batched deletes.
Incomplete uploads are an S3 notion here (GCS resumable uploads cannot be listed).
"""

from __future__ import annotations

import datetime

import pytest
from listing_pipeline import ListedLeaf, ListedRoot

from gokart.commands import gc as workspace_gc
from gokart.commands.cli import main
from gokart.execution.plan import TaskState, make_plan
from gokart.storage import filesystem as storage

pytest.importorskip('gcsfs', reason='pip install "gokart[gcs]"')
pytest.importorskip('gcp_storage_emulator', reason='pip install gcp-storage-emulator (in the test extra)')

PAST_ONE_PAGE = 1050


def leaf_path(workspace: str, number: int) -> str:
    return str(ListedLeaf(number=number, workspace_directory=workspace).output().path())


@pytest.fixture(scope='module')
def gcs_workspace(gcs_bucket: str) -> str:
    """A workspace whose leaves 0..PAST_ONE_PAGE-1 have outputs: one directory, more than one page of a listing."""
    workspace = f'gs://{gcs_bucket}/ws/'
    fs, _ = storage.filesystem(workspace)
    for i in range(PAST_ONE_PAGE):  # one by one: gcsfs's concurrent pipe stalls for minutes against the emulator
        fs.pipe_file(fs._strip_protocol(leaf_path(workspace, i)), b'x')
    return workspace


def test_listing_verdicts_on_gcs_are_those_of_one_check_per_path(gcs_workspace):
    asked = [leaf_path(gcs_workspace, i) for i in range(PAST_ONE_PAGE + 5)]
    found = storage.exists_many(asked)
    assert sum(found.values()) == PAST_ONE_PAGE  # the second page too
    sample = asked[:5] + asked[990:1010] + asked[-10:]
    assert {path: found[path] for path in sample} == {path: storage.exists(path) for path in sample}
    plan = make_plan([ListedRoot(width=PAST_ONE_PAGE + 2, workspace_directory=gcs_workspace)])
    assert plan.count(TaskState.COMPLETE) == PAST_ONE_PAGE and plan.count(TaskState.PENDING) == 3


def test_gc_on_gcs_lists_sizes_and_times_and_deletes_in_batches(gcs_workspace, capsys):
    fs, _ = storage.filesystem(gcs_workspace)
    temporary = f'{gcs_workspace}listing_pipeline/.ListedLeaf_x.pkl.3-0.gokart-tmp'
    fs.pipe_file(fs._strip_protocol(temporary), b'partial')
    entries = {entry.path: entry for entry in storage.list_entries(gcs_workspace)}
    now = datetime.datetime.now(datetime.timezone.utc)
    assert entries[temporary].size == len(b'partial') and abs(now - entries[temporary].modified) < datetime.timedelta(hours=1)

    argv = ['gc', '--older-than', '0s', 'listing_pipeline:ListedRoot', '--width', '1000', '--workspace-directory', gcs_workspace]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1].startswith(f'{PAST_ONE_PAGE - 1000 + 1} files, ')  # leaves 1000.. and the temporary
    assert main(['gc', '--yes', *argv[1:]]) == 0
    left = storage.list_files(gcs_workspace)
    assert len(left) == 1000 and temporary not in left and leaf_path(gcs_workspace, PAST_ONE_PAGE - 1) not in left
    assert workspace_gc.survey([ListedRoot(width=1000, workspace_directory=gcs_workspace)]).garbage == []


def test_gc_of_a_missing_gcs_bucket_is_an_error_naming_it(gcs_bucket, capsys):
    workspace = f'gs://{gcs_bucket}-gone/ws/'
    assert main(['gc', 'listing_pipeline:ListedRoot', '--workspace-directory', workspace]) == 1
    err = capsys.readouterr().err
    assert f"bucket '{gcs_bucket}-gone' of the workspace {workspace} does not exist" in err


def test_copy_on_gcs_is_done_by_the_store_and_leaves_the_source(gcs_workspace):
    """gs:// declares a server-side copy (storage.backends): gokart rekey --copy copies inside the bucket."""
    source, destination = f'{gcs_workspace}copy/source.bin', f'{gcs_workspace}copy/elsewhere/destination.bin'
    storage.write_bytes(source, b'the bytes')
    storage.copy(source, destination)
    with storage.open_read(destination) as copied:
        assert copied.read() == b'the bytes'
    assert storage.exists(source)
