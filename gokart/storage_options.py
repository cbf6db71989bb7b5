"""fsspec options per protocol, gathered from gokart's config sections and the environment."""

from __future__ import annotations

import os
from typing import Any

_overrides: dict[str, dict[str, Any]] = {}


def set_storage_options(protocol: str, **options: Any) -> None:
    """Set fsspec options (``endpoint_url``, ``key``, ``token``, ...) for every path of ``protocol``."""
    _overrides[protocol] = dict(options)


def storage_options_for(protocol: str) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if protocol in ('s3', 's3a'):
        options.update(_s3_options())
    options.update(_overrides.get(protocol, {}))
    return options


def _s3_options() -> dict[str, Any]:
    options: dict[str, Any] = {}
    try:
        from gokart.s3_config import S3Config

        config = S3Config()
        key = os.environ.get(config.aws_access_key_id_name)
        secret = os.environ.get(config.aws_secret_access_key_name)
    except Exception:
        key = os.environ.get('AWS_ACCESS_KEY_ID')
        secret = os.environ.get('AWS_SECRET_ACCESS_KEY')
    if key and secret:
        options['key'] = key
        options['secret'] = secret
    endpoint = os.environ.get('AWS_ENDPOINT_URL_S3') or os.environ.get('AWS_ENDPOINT_URL')
    if endpoint:
        options['client_kwargs'] = {'endpoint_url': endpoint}
    return options
