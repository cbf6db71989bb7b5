"""``[S3Config]``: names of the environment variables holding S3 credentials."""

import luigi


class S3Config(luigi.Config):
    aws_access_key_id_name = luigi.Parameter(default='AWS_ACCESS_KEY_ID', description='env var holding the AWS access key id')
    aws_secret_access_key_name = luigi.Parameter(default='AWS_SECRET_ACCESS_KEY', description='env var holding the AWS secret key')
