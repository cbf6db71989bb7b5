"""gokart 1.12's home of ``GCSZipClient`` (a zip archive on GCS, through gcsfs); the class lives in ``gokart.zip_client``."""

from gokart.zip_client import GCSZipClient, ZipClient

__all__ = ['GCSZipClient', 'ZipClient']
