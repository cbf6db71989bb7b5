"""``GCSZipClient``: a zip archive on GCS, through gcsfs (see ``gokart.zip_client``)."""

from gokart.zip_client import StorageZipClient, ZipClient

__all__ = ['GCSZipClient', 'ZipClient']


class GCSZipClient(StorageZipClient):
    """A zip client for ``gs://`` archives; credentials from ``[GCSConfig]`` as in ``gokart.storage_options``."""
