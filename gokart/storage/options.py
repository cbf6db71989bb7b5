"""fsspec options per protocol: gokart's config sections, the environment, a ``[fsspec.<protocol>]`` section and code.

Options are merged from the lowest to the highest precedence:

1. what gokart users already set: ``[S3Config]`` names the environment variables holding the AWS key
   and secret, and may give an ``endpoint_url`` (``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL`` also
   work); ``[GCSConfig] gcs_credential_name`` names the variable holding a service-account file path
   or its JSON text;
2. a luigi config section named after the protocol, e.g. ``[fsspec.s3]`` with ``anon=false`` or
   ``client_kwargs={"region_name": "eu-west-1"}`` (values are read as JSON when they parse as JSON);
3. ``set_storage_options(protocol, **options)`` from code.

``s3://`` paths go through ``gokart.storage.s3_filesystem`` (boto3), which takes s3fs's option names, plus
``storage_timeout`` and ``storage_retries`` from the ``[gokart]`` section.

Listing caches are off by default for object stores: another process or machine may write an output
at any moment, and a stale listing would make a finished task look incomplete (or the reverse).
"""

from __future__ import annotations

import json
import os
from typing import Any, TypeVar

from gokart.core.config_lookup import config_section, luigi_config
from gokart.storage import backends

T = TypeVar('T')

_overrides: dict[str, dict[str, Any]] = {}
_version = 0


def set_storage_options(protocol: str, **options: Any) -> None:
    """Set fsspec options (``endpoint_url``, ``key``, ``token``, ...) for every path of ``protocol``; replaces earlier ones."""
    global _version
    _overrides[protocol] = dict(options)
    _version += 1


def clear_storage_options(protocol: str | None = None) -> None:
    """Forget options set with ``set_storage_options`` (for one protocol, or all)."""
    global _version
    if protocol is None:
        _overrides.clear()
    else:
        _overrides.pop(protocol, None)
    _version += 1


def storage_options_version() -> int:
    """Changes whenever options set from code change, so callers caching file systems know to drop them."""
    return _version + backends.registrations()


def storage_options_for(protocol: str) -> dict[str, Any]:
    """The keyword arguments the fsspec file system of ``protocol`` is created with."""
    backend = backends.backend_of(protocol)
    options: dict[str, Any] = {}
    if backend.object_store:
        options['use_listings_cache'] = False
    for credentials in backend.options:  # the entry's own: [S3Config] credentials, [GCSConfig] token, timeouts
        options.update(backends.resolve(credentials)())
    options.update(config_section_options(protocol))
    options.update(_overrides.get(protocol, {}))
    return options


def s3_options() -> dict[str, Any]:
    """S3 options (s3fs names) from ``[S3Config]`` and the environment, as gokart 1.12 users set their credentials."""
    from gokart.s3_config import S3Config

    config = _config_instance(S3Config)
    options: dict[str, Any] = {}
    key = os.environ.get(config.aws_access_key_id_name)
    secret = os.environ.get(config.aws_secret_access_key_name)
    if key and secret:
        options['key'] = key
        options['secret'] = secret
    endpoint = config.endpoint_url or os.environ.get('AWS_ENDPOINT_URL_S3') or os.environ.get('AWS_ENDPOINT_URL')
    if endpoint:
        options['endpoint_url'] = endpoint
    return options


_config_instances: dict[type, tuple[Any, Any, Any]] = {}


def _config_instance(config_class: type[T]) -> T:
    """``config_class()``, reused while its config section is unchanged and no command line is being parsed.

    Making a luigi ``Config`` resolves every parameter (~150 us); every remote read and write asks
    for its options, so the instance is remembered with the section it was made from.
    """
    from luigi.cmdline_parser import CmdlineParser

    state = (luigi_config(), config_section(config_class.__name__))
    known = _config_instances.get(config_class)
    if known is not None and known[0] is state[0] and known[1] == state[1] and CmdlineParser.get_instance() is None:
        return known[2]  # type: ignore[no-any-return]
    instance = config_class()
    _config_instances[config_class] = (state[0], state[1], instance)
    return instance


def retry_options() -> dict[str, Any]:
    """``storage_timeout`` (seconds per connect or read) and ``storage_retries`` from the ``[gokart]`` section, when set."""
    from gokart.core import settings

    section = config_section(settings.SECTION) or {}
    options: dict[str, Any] = {}
    for name in ('storage_timeout', 'storage_retries'):
        found = settings.lookup(name, section)
        if found.source != 'default':  # unset: the file system's own defaults (the same numbers)
            options[name] = found.value
    return options


def gcs_options() -> dict[str, Any]:
    """gcsfs options: the ``token`` from the variable ``[GCSConfig] gcs_credential_name`` names, when set."""
    from gokart.gcs_config import GCSConfig

    token = _config_instance(GCSConfig).get_gcs_token()
    return {'token': token} if token is not None else {}


def config_section_options(protocol: str) -> dict[str, Any]:
    """Options from the luigi config section ``[fsspec.<protocol>]``."""
    import luigi

    config = luigi.configuration.get_config()
    section = f'fsspec.{protocol}'
    if not config.has_section(section):
        return {}
    return {key: _parse_value(value) for key, value in config.items(section)}


def _parse_value(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value
