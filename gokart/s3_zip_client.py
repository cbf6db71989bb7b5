"""gokart 1.12's home of ``S3ZipClient`` (a zip archive on S3, through s3fs); the class lives in ``gokart.zip_client``."""

from gokart.zip_client import S3ZipClient, ZipClient

__all__ = ['S3ZipClient', 'ZipClient']
