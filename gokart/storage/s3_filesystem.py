"""The S3 calls gokart's storage layer makes, through boto3's synchronous client.

Why not s3fs: its aiobotocore client cannot be intercepted by moto's in-process ``mock_aws``, so
users' test suites around S3 workspaces would reach the network. Every request here goes through a
plain boto3 client, which ``mock_aws`` (and botocore's own event hooks) see.

``S3FileSystem`` is a small fsspec file system with exactly what ``gokart.storage.filesystem`` and the modules
on top of it use: ``exists``, ``ls``, ``find``, ``info``/``size``/``modified``, ``open`` for reading,
``pipe_file`` and ``upload_fileobj`` for atomic writes, and ``rm``. It takes s3fs's option names
(``key``, ``secret``, ``token``, ``endpoint_url``, ``client_kwargs``, ``config_kwargs``, ``anon``,
``profile``, ``s3_additional_kwargs``), so ``[fsspec.s3]`` sections and ``set_storage_options``
calls written for s3fs keep working.

Requests time out after ``storage_timeout`` seconds and are retried ``storage_retries`` times
(botocore's standard retry mode); a request that still fails raises ``StorageUnavailableError``
naming the endpoint, so a dead endpoint fails a build in seconds instead of minutes.
"""

from __future__ import annotations

import datetime
import email.utils
import io
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from typing import IO, Any, TypeVar

from fsspec import AbstractFileSystem

from gokart.core import settings
from gokart.core.error_messages import missing_bucket_error
from gokart.errors import StorageUnavailableError

logger = logging.getLogger(__name__)

T = TypeVar('T')

DEFAULT_STORAGE_TIMEOUT: float = settings.setting('storage_timeout').default
DEFAULT_STORAGE_RETRIES: int = settings.setting('storage_retries').default

# Downloads up to this size are read into memory; larger ones spill to a local temporary file.
_READ_IN_MEMORY_BYTES = 32 * 1024 * 1024
_COPY_CHUNK_BYTES = 8 * 1024 * 1024
_DELETE_BATCH = 1000

# fsspec's own options and s3fs options with no meaning for this client: accepted and ignored.
_IGNORED_OPTIONS = frozenset(
    {
        'use_listings_cache',
        'listings_expiry_time',
        'max_paths',
        'skip_instance_cache',
        'default_block_size',
        'default_fill_cache',
        'default_cache_type',
        'cache_regions',
        'asynchronous',
        'loop',
        'max_concurrency',
        'fixed_upload_size',
        'version_aware',
        'use_ssl',  # given to the client below
        'requester_pays',  # given per request below
    }
)
_warned_options: set[str] = set()


SMALL_PUT_BYTES = 1024 * 1024
"""Bodies up to this size are sent with their headers, without waiting for ``100 Continue``."""


def _send_small_puts_without_expect(model: Any, params: dict[str, Any], **kwargs: Any) -> None:
    """Drop ``Expect: 100-continue`` from PutObject requests with a small body.

    botocore asks for it on every upload, so each PUT waits a round trip for the server's go-ahead
    before sending its body: on a bucket 20 ms away, 40 ms for a record of a few hundred bytes, and
    a task on S3 writes six small objects (its output, five ``log/`` records) plus its lease. The
    header only saves sending a large body that the server would refuse; a small one is cheaper to
    send. (The header is not signed, so removing it leaves the signature valid.)
    """
    if model.name != 'PutObject' or 'Expect' not in params.get('headers', {}):
        return
    from botocore.utils import determine_content_length  # botocore is the s3 extra's; loaded by now

    try:
        size = determine_content_length(params.get('body'))
    except Exception:
        return
    if size is not None and size <= SMALL_PUT_BYTES:
        del params['headers']['Expect']


# (pid, made after moto was imported, client) by the options it was made with: see S3FileSystem._shared_client.
_SHARED_CLIENTS: dict[str, tuple[int, bool, Any]] = {}
_SHARED_CLIENTS_LOCK = threading.Lock()


class S3FileSystem(AbstractFileSystem):  # type: ignore[misc]
    """``s3://`` paths through one lazily created, cached boto3 client per set of options."""

    protocol = ('s3', 's3a')
    root_marker = ''

    def __init__(
        self,
        key: str | None = None,
        secret: str | None = None,
        token: str | None = None,
        endpoint_url: str | None = None,
        anon: bool = False,
        profile: str | None = None,
        client_kwargs: dict[str, Any] | None = None,
        config_kwargs: dict[str, Any] | None = None,
        s3_additional_kwargs: dict[str, Any] | None = None,
        storage_timeout: float = DEFAULT_STORAGE_TIMEOUT,
        storage_retries: int = DEFAULT_STORAGE_RETRIES,
        **options: Any,
    ) -> None:
        super().__init__()
        self._client_options = dict(client_kwargs or {})
        if key is not None or secret is not None:
            self._client_options.setdefault('aws_access_key_id', key)
            self._client_options.setdefault('aws_secret_access_key', secret)
        if token is not None:
            self._client_options.setdefault('aws_session_token', token)
        if endpoint_url:
            self._client_options.setdefault('endpoint_url', endpoint_url)
        if 'use_ssl' in options:
            self._client_options.setdefault('use_ssl', bool(options['use_ssl']))
        self._config = {
            'connect_timeout': storage_timeout,
            'read_timeout': storage_timeout,
            'retries': {'total_max_attempts': int(storage_retries) + 1, 'mode': 'standard'},
            **(config_kwargs or {}),
        }
        if anon:
            self._config['signature_version'] = 'unsigned'
        self._profile = profile
        self._request_extras = dict(s3_additional_kwargs or {})
        if options.get('requester_pays'):
            self._request_extras.setdefault('RequestPayer', 'requester')
        _warn_unknown(set(options) - _IGNORED_OPTIONS)
        self._client: Any = None
        self._client_saw_moto = False
        self._transfer_config: Any = None

    # -- the client ---------------------------------------------------------------------------------

    @property
    def client(self) -> Any:
        """The boto3 S3 client, made on first use (making one costs ~50-100 ms).

        moto's ``mock_aws`` hooks into every botocore client made after moto is imported; a client
        made before that is made again once, so a user's in-process mock sees every request.
        """
        moto_loaded = 'moto.core.models' in sys.modules
        client = self._client
        if client is None or (moto_loaded and not self._client_saw_moto):
            with _SHARED_CLIENTS_LOCK:
                if self._client is None or (moto_loaded and not self._client_saw_moto):
                    self._client, self._client_saw_moto = self._shared_client(moto_loaded)
                client = self._client
        return client

    def _shared_client(self, moto_loaded: bool) -> tuple[Any, bool]:
        """(client, made after moto was imported): one per set of options in this process, shared by every thread.

        fsspec keeps a file system instance per thread, so without this each thread that writes
        (the run records written at once, completion checks in threads) made a client of its own:
        ~100 ms of CPU each, seconds on a busy machine, for a client boto3 lets threads share. A
        forked child makes its own (a client's connections must not cross a fork).
        """
        key = self._client_key()
        known = _SHARED_CLIENTS.get(key)
        if known is not None and known[0] == os.getpid() and (known[1] or not moto_loaded):
            return known[2], known[1]
        client = self._make_client()
        _SHARED_CLIENTS[key] = (os.getpid(), moto_loaded, client)
        return client, moto_loaded

    def _client_key(self) -> str:
        def ordered(mapping: dict[str, Any]) -> list[tuple[str, Any]]:
            return sorted(mapping.items(), key=lambda item: item[0])

        return repr((ordered(self._client_options), ordered(self._config), self._profile))

    def _make_client(self) -> Any:
        import boto3
        from botocore.config import Config

        config = {key: dict(value) if isinstance(value, dict) else value for key, value in self._config.items()}  # Config edits them
        if config.get('signature_version') == 'unsigned':
            from botocore import UNSIGNED

            config['signature_version'] = UNSIGNED
        session = boto3.session.Session(profile_name=self._profile) if self._profile else boto3.session.Session()
        # Timestamps stay text: parsing the LastModified of every key of a 1,000-key listing costs more
        # than the request; ``modified`` parses the one it needs.
        session._session.get_component('response_parser_factory').set_parser_defaults(timestamp_parser=str)
        client = session.client('s3', config=Config(**config), **self._client_options)
        # After botocore's own handler of the same event, which adds the header.
        client.meta.events.register_last('before-call.s3', _send_small_puts_without_expect)
        return client

    @property
    def endpoint(self) -> str:
        """The endpoint requests go to, for error messages."""
        client = self._client
        if client is not None:
            return str(client.meta.endpoint_url)
        return str(self._client_options.get('endpoint_url') or 'the default AWS S3 endpoint')

    def _transfer(self) -> Any:
        if self._transfer_config is None:
            from boto3.s3.transfer import TransferConfig

            self._transfer_config = TransferConfig(multipart_threshold=_COPY_CHUNK_BYTES, multipart_chunksize=_COPY_CHUNK_BYTES)
        return self._transfer_config

    def _call(self, what: str, path: str, request: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``request(*args, **kwargs)``; a connection still failing after every retry becomes ``StorageUnavailableError``."""
        from botocore.exceptions import ConnectionError as BotoConnectionError
        from botocore.exceptions import HTTPClientError, NoCredentialsError

        try:
            return request(*args, **kwargs)
        except (BotoConnectionError, HTTPClientError) as error:
            retries = self._config.get('retries') or {}
            attempts = retries.get('total_max_attempts') or (retries['max_attempts'] + 1 if 'max_attempts' in retries else '?')
            raise StorageUnavailableError(
                f'S3 endpoint {self.endpoint} did not answer while {what} s3://{path} '
                f'({attempts} attempts, {self._config.get("read_timeout")} s timeout each): {error}. '
                'Check that the endpoint is up and reachable ([S3Config] endpoint_url, AWS_ENDPOINT_URL), '
                'or allow more time with [gokart] storage_retries / storage_timeout.',
                endpoint=self.endpoint,
                path=f's3://{path}',
            ) from error
        except NoCredentialsError as error:
            raise PermissionError(
                f'No AWS credentials for {what} s3://{path}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY '
                '(or the variables [S3Config] aws_access_key_id_name / aws_secret_access_key_name name), '
                'AWS_PROFILE, or key and secret in [fsspec.s3].'
            ) from error
        except Exception as error:
            missing = missing_bucket_error(error, f's3://{path}', self.endpoint)
            if missing is None:
                raise
            raise missing from None  # the whole story is in the message: no botocore traceback on top

    # -- paths --------------------------------------------------------------------------------------

    @staticmethod
    def split_path(path: str) -> tuple[str, str]:
        """``(bucket, key)`` of ``bucket/key`` (the protocol already stripped)."""
        bucket, _, key = path.partition('/')
        return bucket, key

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        path = str(path)
        for prefix in ('s3://', 's3a://'):
            if path.startswith(prefix):
                path = path[len(prefix) :]
                break
        return path.rstrip('/')

    # -- reading metadata ---------------------------------------------------------------------------

    def _head(self, path: str) -> dict[str, Any] | None:
        """The object's HEAD response, or None when no object has this key."""
        from botocore.exceptions import ClientError

        bucket, key = self.split_path(self._strip_protocol(path))
        if not key:
            return None
        try:
            return self._call('checking', f'{bucket}/{key}', self.client.head_object, Bucket=bucket, Key=key, **self._read_extras())  # type: ignore[no-any-return]
        except ClientError as error:
            if _is_missing(error):
                return None
            raise

    def _read_extras(self) -> dict[str, Any]:
        payer = self._request_extras.get('RequestPayer')
        return {'RequestPayer': payer} if payer else {}

    def exists(self, path: str, **kwargs: Any) -> bool:
        """True for an object, and for a "directory": a prefix some object's key starts with."""
        if self._head(path) is not None:
            return True
        bucket, key = self.split_path(self._strip_protocol(path))
        prefix = f'{key}/' if key else ''
        response = self._call('listing', f'{bucket}/{prefix}', self._list_page, bucket, prefix, '/', 1, None)
        return bool(response.get('KeyCount') or response.get('Contents') or response.get('CommonPrefixes'))

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        path = self._strip_protocol(path)
        head = self._head(path)
        if head is None:
            if self.exists(path):
                return {'name': path, 'size': 0, 'type': 'directory'}
            raise FileNotFoundError(f's3://{path}')
        return {
            'name': path,
            'size': int(head.get('ContentLength', 0)),
            'type': 'file',
            'LastModified': _parse_timestamp(head['LastModified']) if head.get('LastModified') else None,
            'ETag': head.get('ETag'),
            'metadata': head.get('Metadata', {}),
        }

    def size(self, path: str) -> int:
        return int(self.info(path)['size'])

    def modified(self, path: str) -> datetime.datetime:
        head = self._head(path)
        if head is None:
            raise FileNotFoundError(f's3://{self._strip_protocol(path)}')
        return _parse_timestamp(head['LastModified'])

    def _list_page(self, bucket: str, prefix: str, delimiter: str | None, max_keys: int | None, token: str | None) -> dict[str, Any]:
        request: dict[str, Any] = {'Bucket': bucket, 'Prefix': prefix, **self._read_extras()}
        if delimiter:
            request['Delimiter'] = delimiter
        if max_keys:
            request['MaxKeys'] = max_keys
        if token:
            request['ContinuationToken'] = token
        return self.client.list_objects_v2(**request)  # type: ignore[no-any-return]

    def _list(self, path: str, delimiter: str | None) -> Iterator[dict[str, Any]]:
        """Every page of the listing below ``path`` (all pages: S3 returns at most 1,000 keys a page)."""
        bucket, key = self.split_path(self._strip_protocol(path))
        prefix = f'{key}/' if key else ''
        token: str | None = None
        while True:
            page = self._call('listing', f'{bucket}/{prefix}', self._list_page, bucket, prefix, delimiter, None, token)
            yield page
            if not page.get('IsTruncated'):
                return
            token = page.get('NextContinuationToken')

    def ls(self, path: str, detail: bool = False, **kwargs: Any) -> list[Any]:
        """The objects and "subdirectories" directly below ``path`` (an empty list when there are none)."""
        bucket = self.split_path(self._strip_protocol(path))[0]
        entries: list[dict[str, Any]] = []
        for page in self._list(path, delimiter='/'):
            for item in page.get('Contents', ()):
                entries.append({'name': f'{bucket}/{item["Key"]}', 'size': item.get('Size', 0), 'type': 'file'})
            for item in page.get('CommonPrefixes', ()):
                entries.append({'name': f'{bucket}/{item["Prefix"].rstrip("/")}', 'size': 0, 'type': 'directory'})
        return entries if detail else [entry['name'] for entry in entries]

    def ls_pages(self, path: str) -> Iterator[tuple[list[str], bool]]:
        """``ls`` one page (one request) at a time: the names of each page, and whether more pages follow.

        A caller that only needs some names can stop early (``gokart.storage.filesystem.exists_many``).
        """
        bucket = self.split_path(self._strip_protocol(path))[0]
        for page in self._list(path, delimiter='/'):
            names = [f'{bucket}/{item["Key"]}'.rstrip('/') for item in page.get('Contents', ())]
            names += [f'{bucket}/{item["Prefix"]}'.rstrip('/') for item in page.get('CommonPrefixes', ())]
            yield names, bool(page.get('IsTruncated'))

    def find(self, path: str, maxdepth: int | None = None, withdirs: bool = False, detail: bool = False, **kwargs: Any) -> Any:
        """Every object below ``path``, recursively (``path`` itself when it is an object).

        With ``detail``, each name maps to its ``size`` and ``LastModified`` (an aware datetime), from
        the listing itself: no request per object.
        """
        bucket = self.split_path(self._strip_protocol(path))[0]
        items = [(f'{bucket}/{item["Key"]}', item) for page in self._list(path, delimiter=None) for item in page.get('Contents', ())]
        if not items:
            head = self._head(path)
            if head is not None:
                items = [(self._strip_protocol(path), {'Size': head.get('ContentLength', 0), 'LastModified': head.get('LastModified')})]
        if not detail:
            return [name for name, _ in items]
        return {
            name: {
                'name': name,
                'type': 'file',
                'size': int(item.get('Size', 0)),
                'LastModified': _parse_timestamp(item['LastModified']) if item.get('LastModified') else None,
            }
            for name, item in items
        }

    # -- multipart uploads --------------------------------------------------------------------------

    def incomplete_uploads(self, path: str) -> list[dict[str, Any]]:
        """Multipart uploads started below ``path`` and neither completed nor aborted, oldest first.

        Each is ``{'name', 'upload_id', 'initiated' (aware datetime), 'size' (bytes of its parts so far)}``.
        Their parts are stored (and billed) until the upload is aborted, yet no listing of objects shows them.
        """
        bucket, key = self.split_path(self._strip_protocol(path))
        prefix = f'{key}/' if key else ''
        uploads: list[dict[str, Any]] = []
        request: dict[str, Any] = {'Bucket': bucket, 'Prefix': prefix}
        while True:
            page = self._call('listing the multipart uploads of', f'{bucket}/{prefix}', self.client.list_multipart_uploads, **request)
            for upload in page.get('Uploads', ()):
                name = f'{bucket}/{upload["Key"]}'
                uploads.append(
                    {
                        'name': name,
                        'upload_id': upload['UploadId'],
                        'initiated': _parse_timestamp(upload['Initiated']),
                        'size': self._uploaded_bytes(bucket, upload['Key'], upload['UploadId']),
                    }
                )
            if not page.get('IsTruncated'):
                break
            request['KeyMarker'], request['UploadIdMarker'] = page.get('NextKeyMarker'), page.get('NextUploadIdMarker')
        return sorted(uploads, key=lambda u: u['initiated'])

    def _uploaded_bytes(self, bucket: str, key: str, upload_id: str) -> int:
        total = 0
        request: dict[str, Any] = {'Bucket': bucket, 'Key': key, 'UploadId': upload_id}
        while True:
            page = self._call('listing the parts of', f'{bucket}/{key}', self.client.list_parts, **request)
            total += sum(int(part.get('Size', 0)) for part in page.get('Parts', ()))
            if not page.get('IsTruncated'):
                return total
            request['PartNumberMarker'] = page.get('NextPartNumberMarker')

    def abort_upload(self, path: str, upload_id: str) -> None:
        """Abort the multipart upload ``upload_id`` to ``path``: its parts are deleted, no object appears."""
        bucket, key = self.split_path(self._strip_protocol(path))
        self._call(
            'aborting an upload to', f'{bucket}/{key}', self.client.abort_multipart_upload, Bucket=bucket, Key=key, UploadId=upload_id
        )

    # -- reading and writing objects ----------------------------------------------------------------

    def _open(
        self, path: str, mode: str = 'rb', block_size: Any = None, autocommit: bool = True, cache_options: Any = None, **kwargs: Any
    ) -> IO[bytes]:
        if mode != 'rb':
            raise ValueError(
                f'gokart opens s3://{path} for reading only (mode {mode!r}); write with gokart.storage.filesystem.atomic_write, '
                'which uploads the file whole when it is complete'
            )
        return self.read_object(path)

    def read_object(self, path: str) -> IO[bytes]:
        """The whole object as a seekable stream: in memory when small, else in a local temporary file."""
        from botocore.exceptions import ClientError

        path = self._strip_protocol(path)
        bucket, key = self.split_path(path)
        try:
            response = self._call('reading', path, self.client.get_object, Bucket=bucket, Key=key, **self._read_extras())
        except ClientError as error:
            if _is_missing(error):
                raise FileNotFoundError(f's3://{path}') from error
            raise
        body = response['Body']
        try:
            if int(response.get('ContentLength', 0)) <= _READ_IN_MEMORY_BYTES:
                return io.BytesIO(self._call('reading', path, body.read))
            spool = tempfile.TemporaryFile()
            try:
                self._call('reading', path, _copy, body, spool)
            except BaseException:
                spool.close()
                raise
            spool.seek(0)
            return spool
        finally:
            body.close()

    def cat_file(self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any) -> bytes:
        with self.read_object(path) as f:
            data = f.read()
        return data[start:end]

    def pipe_file(self, path: str, value: bytes, mode: str = 'overwrite', **kwargs: Any) -> None:
        """Store ``value`` as one object in one request: it appears whole or not at all."""
        path = self._strip_protocol(path)
        bucket, key = self.split_path(path)
        self._call('writing', path, self.client.put_object, Bucket=bucket, Key=key, Body=value, **self._request_extras)

    def upload_fileobj(self, f: IO[bytes], path: str) -> None:
        """Upload a readable stream as one object (multipart past 8 MiB); S3 publishes it only when complete."""
        path = self._strip_protocol(path)
        bucket, key = self.split_path(path)
        self._call(
            'writing', path, self.client.upload_fileobj, f, bucket, key, ExtraArgs=self._request_extras or None, Config=self._transfer()
        )

    def cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        """Copy an object within S3 without its bytes passing through this process (CopyObject, multipart past 8 MiB).

        The copy appears whole or not at all, as every S3 write does.
        """
        source, destination = self._strip_protocol(path1), self._strip_protocol(path2)
        source_bucket, source_key = self.split_path(source)
        bucket, key = self.split_path(destination)
        self._call(
            'copying to',
            destination,
            self.client.copy,
            {'Bucket': source_bucket, 'Key': source_key},
            bucket,
            key,
            ExtraArgs=self._request_extras or None,
            Config=self._transfer(),
        )

    def rm(self, path: Any, recursive: bool = False, maxdepth: int | None = None) -> None:
        """Delete the object at ``path`` (or each of a list of paths) and, with ``recursive``, every object below it.

        Keys are deleted 1,000 to a request, so removing many objects costs few requests.
        """
        keys_by_bucket: dict[str, list[str]] = {}
        for one in path if isinstance(path, list) else [path]:
            one = self._strip_protocol(one)
            bucket, key = self.split_path(one)
            keys = keys_by_bucket.setdefault(bucket, [])
            if key:
                keys.append(key)
            if recursive:
                keys += [name.split('/', 1)[1] for name in self.find(one) if name.split('/', 1)[1] != key]
        for bucket, keys in keys_by_bucket.items():
            keys = list(dict.fromkeys(keys))
            for start in range(0, len(keys), _DELETE_BATCH):
                batch = [{'Key': k} for k in keys[start : start + _DELETE_BATCH]]
                self._call(
                    'deleting',
                    f'{bucket}/{batch[0]["Key"]}',
                    self.client.delete_objects,
                    Bucket=bucket,
                    Delete={'Objects': batch, 'Quiet': True},
                )

    def rm_file(self, path: str) -> None:
        self.rm(path)


def _parse_timestamp(value: Any) -> datetime.datetime:
    """An aware datetime from S3's text (an HTTP date in HEAD responses, ISO 8601 in listings)."""
    if isinstance(value, datetime.datetime):
        parsed = value
    elif str(value)[:1].isdigit():
        parsed = datetime.datetime.fromisoformat(str(value).replace('Z', '+00:00'))
    else:
        parsed = email.utils.parsedate_to_datetime(str(value))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=datetime.timezone.utc)


def _copy(source: Any, destination: IO[bytes]) -> None:
    for chunk in iter(lambda: source.read(_COPY_CHUNK_BYTES), b''):
        destination.write(chunk)


def _is_missing(error: Any) -> bool:
    code = str(error.response.get('Error', {}).get('Code', ''))
    return code in ('404', 'NoSuchKey', 'NotFound')


def _warn_unknown(names: set[str]) -> None:
    for name in sorted(names - _warned_options):
        _warned_options.add(name)
        logger.warning('gokart ignores the S3 option %r: it is an s3fs option the boto3 client gokart uses does not take', name)
