"""Labels on GCS objects: after a dump to ``gs://``, the task's parameters and requirements become object metadata.

The label logic is a pure function (``merge_task_state_labels``) so it is testable without GCS; the
client only reads the object's metadata through gcsfs and writes it back when something changed.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import urlsplit

from gokart.gcs_config import GCSConfig
from gokart.required_task_output import RequiredTaskOutput
from gokart.storage.backends import require_client
from gokart.storage.filesystem import filesystem
from gokart.utils import FlattenableItems, map_flattenable_items

__all__ = ['GCSConfig', 'GCSObjectMetadataClient', 'RequiredTaskOutput', 'merge_task_state_labels', 'task_state_labels']

logger = logging.getLogger(__name__)

# GCS allows 8 KiB of custom metadata (keys plus values, in UTF-8 bytes) per object.
MAX_METADATA_BYTES = 8 * 1024

# A record under some ``log/{kind}/`` of a gs:// workspace (1.12's rule, kinds and all).
_LOG_PATH = re.compile(r'^gs://[^/]+/(?:.*/)?log/(?:processing_time|task_info|task_log|module_versions|random_seed|task_params)/.')


class GCSObjectMetadataClient:
    """gokart 1.12's entry point: ``GCSObjectMetadataClient.add_task_state_labels(path, ...)``.

    The private static methods are 1.12's steps, with 1.12's results and warnings (tests and tools
    call them); ``merge_task_state_labels`` chains them.
    """

    MAX_GCS_METADATA_SIZE: int = MAX_METADATA_BYTES

    @staticmethod
    def add_task_state_labels(
        path: str,
        task_params: dict[str, str] | None = None,
        custom_labels: dict[str, Any] | None = None,
        required_task_outputs: FlattenableItems[RequiredTaskOutput] | None = None,
    ) -> None:
        """Merge the task's labels into the metadata of the object at ``path``; log records are left alone."""
        if not path.startswith('gs://') or GCSObjectMetadataClient._is_log_related_path(path):
            return
        require_client('gs', f'GCSObjectMetadataClient.add_task_state_labels({path!r})')
        fs, fs_path = filesystem(path)
        existing = dict(fs.info(fs_path).get('metadata') or {})
        updated = merge_task_state_labels(existing, task_params, custom_labels, required_task_outputs)
        if updated is not None:
            fs.setxattrs(fs_path, **updated)

    @staticmethod
    def _makepatch(original: dict[str, Any], modified: dict[str, Any]) -> dict[str, Any]:
        """The JSON patch turning ``original`` into ``modified`` (changed keys, ``None`` for removed ones; nested dicts patched in turn).

        gokart 1.12's step before sending metadata to GCS, made by the Google API client, which must be importable.
        """
        require_client('gs', 'GCSObjectMetadataClient._makepatch()')
        from googleapiclient.model import makepatch

        patch: dict[str, Any] = makepatch(original, modified)
        return patch

    @staticmethod
    def _is_log_related_path(path: str) -> bool:
        """True for gokart's own ``log/`` records (task_log, processing_time, ...), which get no labels."""
        return _LOG_PATH.search(path) is not None

    @staticmethod
    def _path_to_bucket_and_key(path: str) -> tuple[str, str]:
        """``gs://bucket/a/b.pkl`` is ``('bucket', 'a/b.pkl')``; query and fragment are not part of the key."""
        parts = urlsplit(path)
        if parts.scheme != 'gs':
            raise AssertionError(f'{path} is not a gs:// path.')  # 1.12's exception type
        return parts.netloc, parts.path.lstrip('/')

    @staticmethod
    def _normalize_labels(labels: dict[str, Any] | None) -> dict[str, str]:
        """Keys and values as ``str`` (``None`` becomes ``'None'``); no labels is ``{}``."""
        return {str(key): str(value) for key, value in (labels or {}).items()}

    @staticmethod
    def _get_serialized_string(required_task_outputs: FlattenableItems[RequiredTaskOutput]) -> FlattenableItems[Any]:
        """The structure of required outputs with each output as its ``serialize()`` dict."""
        return map_flattenable_items(lambda output: output.serialize(), required_task_outputs)

    @staticmethod
    def _merge_custom_labels_and_task_params_labels(normalized_labels_list: list[dict[str, str]]) -> dict[str, str]:
        """The first non-empty value of each key wins; a later repeat or an empty value is skipped with a warning."""
        merged: dict[str, str] = {}
        for labels in normalized_labels_list:
            for key, value in labels.items():
                if not value:
                    logger.warning(f'value of label_name={key} is empty. So skip to add as a metadata.')
                    continue
                if key in merged:
                    logger.warning(f'label_name={key} is already seen. So skip to add as metadata.')
                    continue
                merged[key] = value
        return merged

    @staticmethod
    def _adjust_gcs_metadata_limit_size(_labels: dict[str, str]) -> dict[str, str]:
        """The longest leading run of labels whose keys and values fit ``MAX_GCS_METADATA_SIZE`` bytes."""
        adjusted: dict[str, str] = {}
        total = 0
        for key, value in _labels.items():
            total += len(key.encode()) + len(value.encode())
            if total > MAX_METADATA_BYTES:
                break
            adjusted[key] = value
        return adjusted

    @staticmethod
    def _get_patched_obj_metadata(
        metadata: Any,
        task_params: dict[str, str] | None = None,
        custom_labels: dict[str, Any] | None = None,
        required_task_outputs: FlattenableItems[RequiredTaskOutput] | None = None,
    ) -> dict[str, Any] | Any:
        """The object's metadata with the task's labels laid over it, cut to the size limit.

        A ``metadata`` that is not a dict (a failed metadata request) is returned as it is, with a warning.
        """
        if not isinstance(metadata, dict):
            logger.warning(
                f'metadata is not a dict: {metadata}, something wrong was happened when getting response when get bucket and object information.'
            )
            return metadata
        labels = task_state_labels(task_params, custom_labels, required_task_outputs)
        return GCSObjectMetadataClient._adjust_gcs_metadata_limit_size({**metadata, **labels})


def merge_task_state_labels(
    existing_metadata: dict[str, str],
    task_params: dict[str, str] | None,
    custom_labels: dict[str, Any] | None,
    required_task_outputs: FlattenableItems[RequiredTaskOutput] | None,
) -> dict[str, str] | None:
    """The object's new metadata, or None when it would not change.

    Labels come in order: ``custom_labels``, the task's significant public parameters, then
    ``__required_task_outputs`` as JSON, keys and values made ``str``; the first value of a repeated
    key wins and empty values are skipped (both with a warning, as 1.12). They are laid over the
    existing metadata, and the result keeps its longest leading run of entries that fits 8 KiB,
    existing entries first (gokart 1.12's rule: metadata already over the limit is emptied).
    """
    merged = GCSObjectMetadataClient._get_patched_obj_metadata(existing_metadata, task_params, custom_labels, required_task_outputs)
    return None if merged == existing_metadata else merged


def task_state_labels(
    task_params: dict[str, str] | None,
    custom_labels: dict[str, Any] | None,
    required_task_outputs: FlattenableItems[RequiredTaskOutput] | None,
) -> dict[str, str]:
    """The labels of one dump, in priority order (see ``merge_task_state_labels``)."""
    client = GCSObjectMetadataClient
    sources = [client._normalize_labels(custom_labels), client._normalize_labels(task_params)]
    if required_task_outputs:
        sources.append({'__required_task_outputs': json.dumps(client._get_serialized_string(required_task_outputs))})
    return client._merge_custom_labels_and_task_params_labels(sources)
