"""gokart 1.12's home of ``make_zip_client``; the zip clients themselves live in ``gokart.zip_client``.

thunderbolt and other code written against 1.12 import ``make_zip_client`` from here to unpack
model archives (``.zip`` outputs of ``make_model_target``).
"""

from gokart.object_storage import ObjectStorage
from gokart.zip_client import LocalZipClient, ZipClient, make_zip_client

__all__ = ['LocalZipClient', 'ObjectStorage', 'ZipClient', 'make_zip_client']
