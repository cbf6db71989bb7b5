"""``[GCSConfig]``: which environment variable holds the GCS service-account credentials.

The variable holds either the path of a service-account JSON file or the JSON text itself; when it
is unset or empty, the application default credentials apply. gokart's own ``gs://`` I/O goes
through gcsfs (``gokart.storage.options``); ``get_gcs_client()`` gives tools built on gokart 1.12
(thunderbolt reads ``gs://`` workspaces with it) the luigi ``GCSClient`` they expect.
"""

from __future__ import annotations

import json
import os
from typing import Any

import luigi

from gokart.storage.backends import require_client


class GCSConfig(luigi.Config):
    _client: Any = None  # the client made by the first call, per instance (gokart 1.12's attribute)
    gcs_credential_name = luigi.Parameter(default='GCS_CREDENTIAL', description='env var holding a credential file path or JSON')

    def get_gcs_token(self) -> str | dict[str, Any] | None:
        """What gcsfs takes as ``token``: a file path, the parsed JSON, or None for the default credentials."""
        return parse_gcs_credential(os.environ.get(self.gcs_credential_name, ''))

    def get_gcs_client(self) -> Any:
        """luigi's ``luigi.contrib.gcs.GCSClient`` with these credentials, made once per config instance (as gokart 1.12 did).

        The storage API's description comes from the copy google-api-python-client ships, so no
        request is made to build the client.
        """
        _require_google_client('GCSConfig().get_gcs_client()')
        client = self.__dict__.get('_client')
        if client is None:
            client = self._client = self._get_gcs_client()
        return client

    def _get_gcs_client(self) -> Any:
        _require_google_client('GCSConfig().get_gcs_client()')
        from luigi.contrib.gcs import GCSClient

        return GCSClient(oauth_credentials=self._load_oauth_credentials())

    def _load_oauth_credentials(self) -> Any:
        """Service-account credentials from the variable ``gcs_credential_name`` names, or None for the default ones."""
        _require_google_client('GCSConfig()._load_oauth_credentials()')
        token = self.get_gcs_token()
        if token is None:
            return None
        from google.oauth2 import service_account

        if isinstance(token, dict):
            return service_account.Credentials.from_service_account_info(token)
        return service_account.Credentials.from_service_account_file(token)


def _require_google_client(subject: str) -> None:
    # luigi's GCSClient imports the Google API client lazily and, without it, fails only on its first request.
    require_client('gs', subject)


def parse_gcs_credential(value: str) -> str | dict[str, Any] | None:
    """Read a credential variable's value: JSON text becomes a dict, anything else non-empty is a file path."""
    value = value.strip()
    if not value:
        return None
    if value.startswith('{'):
        parsed: dict[str, Any] = json.loads(value)
        return parsed
    return value
