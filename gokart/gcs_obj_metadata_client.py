"""Labels on GCS objects: after a dump to ``gs://``, the task's parameters and requirements become object metadata.

The label logic is a pure function (``merge_task_state_labels``) so it is testable without GCS; the
client only reads the object's metadata through gcsfs and writes it back when something changed.
"""

from __future__ import annotations

import json
import re
from typing import Any

from gokart.gcs_config import GCSConfig
from gokart.required_task_output import RequiredTaskOutput
from gokart.storage.filesystem import filesystem
from gokart.utils import FlattenableItems, map_flattenable_items

__all__ = ['GCSConfig', 'GCSObjectMetadataClient', 'RequiredTaskOutput', 'merge_task_state_labels', 'task_state_labels']

# GCS allows 8 KiB of custom metadata (keys plus values) per object.
MAX_METADATA_BYTES = 8 * 1024

_LOG_PATH = re.compile(r'/log/(processing_time|task_info|task_log|module_versions|random_seed|task_params)/')


class GCSObjectMetadataClient:
    """gokart 1.12's entry point: ``GCSObjectMetadataClient.add_task_state_labels(path, ...)``."""

    @staticmethod
    def add_task_state_labels(
        path: str,
        task_params: dict[str, str] | None = None,
        custom_labels: dict[str, Any] | None = None,
        required_task_outputs: FlattenableItems[RequiredTaskOutput] | None = None,
    ) -> None:
        """Merge the task's labels into the metadata of the object at ``path``; log records are left alone."""
        if not path.startswith('gs://') or _LOG_PATH.search(path):
            return
        fs, fs_path = filesystem(path)
        existing = dict(fs.info(fs_path).get('metadata') or {})
        updated = merge_task_state_labels(existing, task_params, custom_labels, required_task_outputs)
        if updated is not None:
            fs.setxattrs(fs_path, **updated)


def merge_task_state_labels(
    existing_metadata: dict[str, str],
    task_params: dict[str, str] | None,
    custom_labels: dict[str, Any] | None,
    required_task_outputs: FlattenableItems[RequiredTaskOutput] | None,
) -> dict[str, str] | None:
    """The object's new metadata, or None when it would not change.

    Labels come in order: ``custom_labels`` (keys and values made ``str``), the task's significant public
    parameters, then ``__required_task_outputs`` as JSON; the first value of a repeated key wins and empty
    values are skipped. They are laid over the existing metadata; while the total exceeds 8 KiB the last
    labels are dropped.
    """
    labels = task_state_labels(task_params, custom_labels, required_task_outputs)
    merged = {**existing_metadata, **labels}
    while labels and _metadata_bytes(merged) > MAX_METADATA_BYTES:
        labels.popitem()
        merged = {**existing_metadata, **labels}
    return None if merged == existing_metadata else merged


def task_state_labels(
    task_params: dict[str, str] | None,
    custom_labels: dict[str, Any] | None,
    required_task_outputs: FlattenableItems[RequiredTaskOutput] | None,
) -> dict[str, str]:
    """The labels of one dump, in priority order (see ``merge_task_state_labels``)."""
    labels: dict[str, str] = {}
    sources: list[dict[str, Any]] = [
        {str(k): str(v) for k, v in (custom_labels or {}).items()},
        dict(task_params or {}),
    ]
    if required_task_outputs:
        serialized = map_flattenable_items(lambda output: output.serialize(), required_task_outputs)
        sources.append({'__required_task_outputs': json.dumps(serialized)})
    for source in sources:
        for key, value in source.items():
            if key not in labels and value not in (None, ''):
                labels[key] = str(value)
    return labels


def _metadata_bytes(metadata: dict[str, str]) -> int:
    return sum(len(key.encode()) + len(value.encode()) for key, value in metadata.items())
