"""``gokart rekey`` on an S3 workspace (moto's standalone server over HTTP): moves are copies then deletes."""

from __future__ import annotations

import boto3
from rekey_pipeline import RUNS, Root

import gokart
from gokart.commands.rekey import COPIED, IN_PLACE, MOVED, rekey
from gokart.ids import id_scheme


def keys(endpoint: str, bucket: str) -> set[str]:
    listing = boto3.client('s3', endpoint_url=endpoint).list_objects_v2(Bucket=bucket)
    # the lineage journal under .gokart/ is neither an output nor a record: rekey leaves it alone
    return {item['Key'] for item in listing.get('Contents', []) if '/.gokart/' not in f'/{item["Key"]}'}


def build_under(scheme: int) -> list[str]:
    RUNS.clear()
    with id_scheme.use(scheme):
        gokart.build(Root(), reset_register=False)
    return sorted(RUNS)


def test_an_s3_workspace_built_under_scheme1_is_reused_under_scheme2(s3_workspace: str, s3_endpoint: str) -> None:
    assert len(build_under(1)) == 8
    before = keys(s3_endpoint, s3_workspace)
    assert rekey(Root(), to_scheme=2).count(MOVED) == len(before)
    after = keys(s3_endpoint, s3_workspace)
    assert len(after) == len(before) and not after & before
    assert build_under(2) == []
    again = rekey(Root(), to_scheme=2)
    assert again.count(MOVED) == 0 and again.count(IN_PLACE) == len(before)
    assert rekey(Root(), to_scheme=1).count(MOVED) == len(before)
    assert keys(s3_endpoint, s3_workspace) == before and build_under(1) == []


def test_an_s3_move_stopped_between_copy_and_delete_is_finished(s3_workspace: str, s3_endpoint: str) -> None:
    build_under(1)
    before = keys(s3_endpoint, s3_workspace)
    copied = rekey(Root(), to_scheme=2, copy=True)
    assert copied.count(COPIED) == len(before) and len(keys(s3_endpoint, s3_workspace)) == 2 * len(before)
    finished = rekey(Root(), to_scheme=2)
    assert finished.count(IN_PLACE) == len(before)
    assert not keys(s3_endpoint, s3_workspace) & before
    assert build_under(2) == []
