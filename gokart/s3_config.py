"""``[S3Config]``: the names of the environment variables holding S3 credentials, and an optional endpoint.

gokart 1.12 users keep their keys in environment variables and tell gokart the variables' names;
the same section works here. gokart's own ``s3://`` I/O reads these options through
``gokart.storage.options``; ``get_s3_client()`` gives tools built on gokart 1.12 (thunderbolt, user
code) the luigi ``S3Client`` they expect.
"""

from __future__ import annotations

import os
from typing import Any

import luigi

from gokart.storage.backends import require_client


class S3Config(luigi.Config):
    _client: Any = None  # the client made by the first call, per instance (gokart 1.12's attribute)
    aws_access_key_id_name = luigi.Parameter(default='AWS_ACCESS_KEY_ID', description='env var holding the AWS access key id')
    aws_secret_access_key_name = luigi.Parameter(default='AWS_SECRET_ACCESS_KEY', description='env var holding the AWS secret key')
    endpoint_url = luigi.OptionalParameter(
        default=None, description='S3 endpoint (MinIO, a local server, ...); AWS_ENDPOINT_URL also works'
    )

    def get_s3_client(self) -> Any:
        """luigi's ``luigi.contrib.s3.S3Client`` with these credentials, made once per config instance (as gokart 1.12 did)."""
        # Checked at every call, as 1.12 did: luigi's S3Client needs boto3 and only says so on first use.
        require_client('s3', 'S3Config().get_s3_client()')
        client = self.__dict__.get('_client')
        if client is None:
            client = self._client = self._get_s3_client()
        return client

    def _get_s3_client(self) -> Any:
        require_client('s3', 'S3Config().get_s3_client()')
        from luigi.contrib.s3 import S3Client

        options: dict[str, Any] = {
            'aws_access_key_id': os.environ.get(self.aws_access_key_id_name),
            'aws_secret_access_key': os.environ.get(self.aws_secret_access_key_name),
        }
        endpoint = self.endpoint_url or os.environ.get('AWS_ENDPOINT_URL_S3') or os.environ.get('AWS_ENDPOINT_URL')
        if endpoint:
            options['endpoint_url'] = endpoint
        return S3Client(**options)
