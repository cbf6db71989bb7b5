"""``[S3Config]``: the names of the environment variables holding S3 credentials, and an optional endpoint.

gokart 1.12 users keep their keys in environment variables and tell gokart the variables' names;
the same section works here. The options reach s3fs through ``gokart.storage_options``.
"""

from __future__ import annotations

from typing import Any

import luigi


class S3Config(luigi.Config):
    aws_access_key_id_name = luigi.Parameter(default='AWS_ACCESS_KEY_ID', description='env var holding the AWS access key id')
    aws_secret_access_key_name = luigi.Parameter(default='AWS_SECRET_ACCESS_KEY', description='env var holding the AWS secret key')
    endpoint_url = luigi.OptionalParameter(
        default=None, description='S3 endpoint (MinIO, a local server, ...); AWS_ENDPOINT_URL also works'
    )

    def get_s3_client(self) -> Any:
        """The s3fs file system every ``s3://`` path of gokart uses (gokart 1.12 returned a luigi S3Client here)."""
        from gokart.storage import filesystem_for_protocol

        return filesystem_for_protocol('s3')
