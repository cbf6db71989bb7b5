"""Count the S3 requests gokart makes, by operation, through botocore's event hooks on gokart's own client."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from gokart.storage import filesystem as storage


@contextmanager
def counted_s3_requests() -> Iterator[Counter[str]]:
    """Within the block, each API call of gokart's S3 client adds one to its operation's count (``HeadObject``, ...).

    Pages of a listing are separate calls and count one each, as they are billed.
    """
    counts: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        counts[model.name] += 1

    events = storage.filesystem_for_protocol('s3').client.meta.events
    events.register('before-call.s3', count)
    try:
        yield counts
    finally:
        events.unregister('before-call.s3', count)
