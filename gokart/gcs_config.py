"""``[GCSConfig]``: which environment variable holds the GCS service-account credentials.

The variable holds either the path of a service-account JSON file or the JSON text itself; when it
is unset or empty, gcsfs uses the application default credentials.
"""

from __future__ import annotations

import json
import os
from typing import Any

import luigi


class GCSConfig(luigi.Config):
    gcs_credential_name = luigi.Parameter(default='GCS_CREDENTIAL', description='env var holding a credential file path or JSON')

    def get_gcs_token(self) -> str | dict[str, Any] | None:
        """What gcsfs takes as ``token``: a file path, the parsed JSON, or None for the default credentials."""
        return parse_gcs_credential(os.environ.get(self.gcs_credential_name, ''))

    def get_gcs_client(self) -> Any:
        """The gcsfs file system every ``gs://`` path of gokart uses (gokart 1.12 returned a luigi GCSClient here)."""
        from gokart.storage import filesystem_for_protocol

        return filesystem_for_protocol('gs')


def parse_gcs_credential(value: str) -> str | dict[str, Any] | None:
    """Read a credential variable's value: JSON text becomes a dict, anything else non-empty is a file path."""
    value = value.strip()
    if not value:
        return None
    if value.startswith('{'):
        parsed: dict[str, Any] = json.loads(value)
        return parsed
    return value
