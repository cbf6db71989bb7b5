"""Conditional writes on GCS for workspace leases: ``ifGenerationMatch`` through gcsfs's request method.

A lease's version is its object generation. Creating sends ``ifGenerationMatch=0`` (only if
absent), renewing and taking over send the generation last seen, deleting sends ours; GCS answers
412 when the condition fails, which gcsfs raises as ``FileExistsError``. Uses the gcsfs file system
gokart's GCS storage uses, so its credentials and project apply. The lease is uploaded as
``application/octet-stream`` (a plain media upload; the JSON it holds is read back as bytes).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote


class GcsLeaseStore:
    def __init__(self, fs: Any) -> None:
        self.fs = fs

    def _where(self, path: str) -> tuple[str, str]:
        bucket, key, _ = self.fs.split_path(path)
        return bucket, key

    def create(self, path: str, body: bytes) -> str | None:
        return self._upload(path, body, '0')

    def replace(self, path: str, body: bytes, version: str) -> str | None:
        return self._upload(path, body, version)

    def _upload(self, path: str, body: bytes, generation: str) -> str | None:
        bucket, key = self._where(path)
        url = f'{self.fs._location}/upload/storage/v1/b/{quote(bucket, safe="")}/o'
        try:
            resource = self.fs.call(
                'POST',
                url,
                uploadType='media',
                name=key,
                ifGenerationMatch=generation,
                headers={'Content-Type': 'application/octet-stream'},
                data=body,
                json_out=True,
            )
        except (FileExistsError, FileNotFoundError):  # 412: the generation is not the one expected; 404: gone
            return None
        return str(resource['generation'])

    def version(self, path: str) -> str | None:
        bucket, key = self._where(path)
        try:
            resource = self.fs.call('GET', 'b/{}/o/{}', bucket, key, json_out=True)
        except FileNotFoundError:
            return None
        return str(resource['generation'])

    def read(self, path: str) -> bytes | None:
        bucket, key = self._where(path)
        try:
            _, content = self.fs.call('GET', 'b/{}/o/{}', bucket, key, alt='media')
        except FileNotFoundError:
            return None
        return bytes(content)

    def delete(self, path: str, version: str) -> None:
        bucket, key = self._where(path)
        try:
            self.fs.call('DELETE', 'b/{}/o/{}', bucket, key, ifGenerationMatch=version)
        except (FileExistsError, FileNotFoundError):
            pass  # no longer ours
