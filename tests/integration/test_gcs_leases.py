"""Workspace leases on gs:// through gcsfs, against the ``gcp-storage-emulator`` GCS emulator.

The emulator speaks GCS's JSON API but ignores preconditions (``ifGenerationMatch``): what is
tested here is the plumbing (requests accepted, generations as versions, the lease readable while
a task runs, deleted after). Exclusivity itself is tested on S3 (test_workspace_leases.py); see
docs/run_locks.md.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from integration_servers import free_port

import gokart
from gokart.run_locks.lease import LEASE_DIRECTORY, lease_path
from gokart.run_locks.selection import refresh_settings
from gokart.storage import filesystem as storage
from gokart.storage.options import clear_storage_options, set_storage_options

pytest.importorskip('gcsfs', reason='pip install "gokart[gcs]"')
pytest.importorskip('gcp_storage_emulator', reason='pip install gcp-storage-emulator (in the test extra)')

pytestmark = pytest.mark.integration


@pytest.fixture
def gcs_workspace() -> Iterator[str]:
    import fsspec
    import gcsfs.core
    from gcp_storage_emulator.server import create_server

    port, bucket = free_port(), f'gokart-leases-{uuid.uuid4().hex[:8]}'
    server = create_server('127.0.0.1', port, in_memory=True, default_bucket=bucket)
    server.start()
    replaced = {protocol: fsspec.get_filesystem_class(protocol) for protocol in ('gs', 'gcs')}
    for protocol in replaced:  # the JSON-API client: the default one asks Google's control plane about the bucket first
        fsspec.register_implementation(protocol, gcsfs.core.GCSFileSystem, clobber=True)
    set_storage_options('gs', token='anon', project='test', endpoint_url=f'http://127.0.0.1:{port}')
    try:
        yield f'gs://{bucket}/ws'
    finally:
        clear_storage_options('gs')
        for protocol, cls in replaced.items():
            fsspec.register_implementation(protocol, cls, clobber=True)
        server.stop()


leases_seen: list[dict[str, object]] = []


class GcsStep(gokart.TaskOnKart[str]):
    task_namespace = 'test_gcs_leases'

    def run(self) -> None:
        fs, _ = storage.filesystem(self.workspace_directory)
        leases_seen.append(json.loads(fs.cat_file(lease_path(self.workspace_directory, f'GcsStep_{self.make_unique_id()}'))))
        self.dump('built on gs://')


def test_a_build_on_gcs_holds_a_generation_checked_lease_while_the_task_runs(gcs_workspace: str) -> None:
    leases_seen.clear()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv('GOKART_RUN_LOCK', 'workspace')  # strict: a refused lease would fail the build, not warn
        refresh_settings()
        assert gokart.build(GcsStep(workspace_directory=gcs_workspace), reset_register=False) == 'built on gs://'
    refresh_settings()
    assert [lease['holder'] for lease in leases_seen] and leases_seen[0]['lease_seconds'] == 60.0
    fs, _ = storage.filesystem(gcs_workspace)
    assert not fs.exists(f'{gcs_workspace}/{LEASE_DIRECTORY}/GcsStep_{GcsStep().make_unique_id()}.lease')
