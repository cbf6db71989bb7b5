"""Conditional writes on S3 for workspace leases: ``If-None-Match: *`` and ``If-Match: <ETag>``.

Through the same boto3 client as gokart's S3 storage (``gokart.storage.s3_filesystem``), so the endpoint,
credentials, timeouts and users' in-process ``mock_aws`` apply to leases too. AWS S3 has honoured
conditional puts since 2024 and conditional deletes since 2025; a store that rejects a conditional
delete (older S3-compatible servers) gets a check of the ETag followed by a plain delete.
"""

from __future__ import annotations

from typing import Any

from gokart.storage.s3_filesystem import S3FileSystem

# 412: the condition failed. 409: a concurrent conditional write to the same key won (S3 asks to retry).
_LOST_RACE = frozenset({'PreconditionFailed', 'ConditionalRequestConflict', '412', '409'})
_MISSING = frozenset({'NoSuchKey', '404', 'NotFound'})
_UNSUPPORTED = frozenset({'NotImplemented', 'InvalidArgument', 'InvalidRequest', '501'})


class S3LeaseStore:
    def __init__(self, fs: S3FileSystem) -> None:
        self.fs = fs
        self._conditional_delete = True

    def _where(self, path: str) -> tuple[str, str]:
        return self.fs.split_path(self.fs._strip_protocol(path))

    def _request(self, what: str, path: str, method: str, **kwargs: Any) -> Any:
        bucket, key = self._where(path)
        return self.fs._call(what, f'{bucket}/{key}', getattr(self.fs.client, method), Bucket=bucket, Key=key, **kwargs)

    def create(self, path: str, body: bytes) -> str | None:
        return self._put(path, body, IfNoneMatch='*')

    def replace(self, path: str, body: bytes, version: str) -> str | None:
        return self._put(path, body, IfMatch=version)

    def _put(self, path: str, body: bytes, **condition: str) -> str | None:
        from botocore.exceptions import ClientError

        try:
            response = self._request('writing the lease', path, 'put_object', Body=body, ContentType='application/json', **condition)
        except ClientError as error:
            if _code(error) in _LOST_RACE or _code(error) in _MISSING:
                return None
            raise
        return str(response['ETag'])

    def version(self, path: str) -> str | None:
        from botocore.exceptions import ClientError

        try:
            return str(self._request('checking the lease', path, 'head_object')['ETag'])
        except ClientError as error:
            if _code(error) in _MISSING:
                return None
            raise

    def read(self, path: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            return bytes(self._request('reading the lease', path, 'get_object')['Body'].read())
        except ClientError as error:
            if _code(error) in _MISSING:
                return None
            raise

    def delete(self, path: str, version: str) -> None:
        from botocore.exceptions import ClientError

        if self._conditional_delete:
            try:
                self._request('deleting the lease', path, 'delete_object', IfMatch=version)
                return
            except ClientError as error:
                code = _code(error)
                if code in _LOST_RACE or code in _MISSING:
                    return  # no longer ours
                if code not in _UNSUPPORTED:
                    raise
                self._conditional_delete = False
        if self.version(path) == version:  # not atomic, but a lease is only taken over after a whole lease time
            self._request('deleting the lease', path, 'delete_object')


def _code(error: Any) -> str:
    response = getattr(error, 'response', None) or {}
    code = str(response.get('Error', {}).get('Code', ''))
    if code:
        return code
    return str(response.get('ResponseMetadata', {}).get('HTTPStatusCode', ''))
