"""One boto3 client per set of S3 options, shared by every thread (real moto server).

fsspec keeps a file system instance per thread; a client made per thread cost ~100 ms of CPU each
(seconds on a busy machine) when the three START records of a task were written at once from
threads, and its requests escaped the hooks registered on gokart's client.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from s3_request_count import counted_s3_requests

from gokart.storage import filesystem as storage

pytestmark = pytest.mark.integration


def test_writes_made_at_once_from_threads_go_through_the_one_client(s3_bucket: str) -> None:
    paths = [f's3://{s3_bucket}/together/record_{k}.pkl' for k in range(3)]
    with counted_s3_requests() as counts:
        storage.write_many([(path, f'record {k}'.encode()) for k, path in enumerate(paths)])

    assert counts['PutObject'] == 3  # all three seen by the hooks on the client of this thread
    for k, path in enumerate(paths):
        with storage.open_read(path) as f:
            assert f.read() == f'record {k}'.encode()


def test_a_thread_gets_the_client_of_the_main_thread(s3_bucket: str) -> None:
    main = storage.filesystem_for_protocol('s3').client
    seen: list[Any] = []
    thread = threading.Thread(target=lambda: seen.append(storage.filesystem_for_protocol('s3').client))
    thread.start()
    thread.join()
    assert seen == [main]
