"""``S3ZipClient``: a zip archive on S3, through s3fs (see ``gokart.zip_client``)."""

from gokart.zip_client import StorageZipClient, ZipClient

__all__ = ['S3ZipClient', 'ZipClient']


class S3ZipClient(StorageZipClient):
    """A zip client for ``s3://`` archives; credentials and endpoint as in ``gokart.storage_options``."""
