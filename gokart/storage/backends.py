"""The storage backends, one entry per protocol: what each can do and which code does it.

Any protocol fsspec knows works for plain reads and writes without an entry here (``az://``,
``hdfs://``, ...). An entry gives a protocol what S3 and GCS have beyond that: the client library
gokart checks for (and the pip command the missing-library message names), credentials and endpoint
options from gokart's config, its own file system class, conditional writes for workspace run locks
(leases), a server-side copy, a model-zip client and object labels. Everything else in gokart asks
this table (``backend_of(protocol)``) instead of comparing protocol names, so this is the one module
that spells them.

The code an entry names is given as ``'module:attribute'`` (or the object itself) and imported only
when it is first used, so ``import gokart`` loads no cloud client. A third party adds a protocol with
one call (docs/extending.md)::

    from gokart.storage.backends import StorageBackend, register_storage_backend

    register_storage_backend(StorageBackend(protocols=('toy',), label='Toy', listing=True))

The client libraries are looked for at each call (``require_client``), never remembered: a library
removed or hidden after start-up fails the same way as one never installed, as in gokart 1.12.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, NamedTuple

from gokart.errors import MissingStorageLibraryError

Reference = str | Callable[..., Any]
"""Code an entry names: ``'package.module:attribute'``, imported at first use, or the callable itself."""


class StorageBackend(NamedTuple):
    """What one storage protocol (and its aliases) can do."""

    protocols: tuple[str, ...]  # the first is the one messages name: ('s3', 's3a')
    label: str  # as messages name the store: 'S3'
    client_modules: tuple[str, ...] = ()  # must be importable to use the protocol (checked at each call)
    install: str = ''  # what to pip install for them: 'gokart[s3]'
    filesystem: Reference | None = None  # (**options) -> the fsspec file system; None: fsspec.filesystem(protocol, ...)
    options: tuple[Reference, ...] = ()  # () -> dict: credentials and endpoint options from gokart's config, merged in order
    object_store: bool = False  # shared with other processes and machines: fsspec's listings cache is off
    in_process: bool = False  # seen by this process only (memory://): no run lock is needed
    listing: bool = True  # a directory listing answers many existence checks at once
    lease_store: Reference | None = None  # (file system) -> a run_locks.lease.LeaseStore: conditional writes for leases
    server_side_copy: bool = False  # the file system's copy() copies within the store, atomically
    zip_client: Reference | None = None  # (file_path, temporary_directory) -> a zip_client.ZipClient for model targets
    object_labels: bool = False  # dumped objects get gokart's task-state labels (gcs_obj_metadata_client)
    rooted_paths: bool = False  # the file system's paths keep their leading '/' (memory://)

    @property
    def name(self) -> str:
        return self.protocols[0]

    def require_client(self, subject: str, modules: tuple[str, ...] = ()) -> None:
        """Raise ``MissingStorageLibraryError`` (an ``ImportError``) when a client library cannot be imported now.

        The message names ``subject``, the module that failed and what to install, in gokart 1.12's
        words (``... support requires additional dependencies. Install them with: pip install gokart[s3]``),
        which users' tests match.
        """
        for module in self.client_modules + modules:
            try:
                import_client_module(module)
            except ImportError as error:
                install = f' Install them with: pip install {self.install}' if self.install else ''
                raise MissingStorageLibraryError(
                    f'{subject} needs {module}, which cannot be imported ({error}). {self.label} support requires additional dependencies.{install}'
                ) from error


def import_client_module(module: str) -> None:
    """Import ``module`` now; the one place a backend's client library is looked for (an ``ImportError`` when missing).

    Through ``builtins.__import__``, as an ``import`` statement here would: ``importlib.import_module``
    answers from ``sys.modules`` without calling it, so a test that patches ``builtins.__import__`` to
    make a library look missing (gokart 1.12 users' tests do) would not be seen. An imported module
    costs a dictionary look-up.
    """
    __import__(module)


def resolve(reference: Reference) -> Callable[..., Any]:
    """The callable a ``Reference`` names, importing its module now if it is a ``'module:attribute'`` string."""
    if callable(reference):
        return reference
    module, _, attribute = reference.partition(':')
    found: Any = importlib.import_module(module)
    for part in attribute.split('.'):
        found = getattr(found, part)
    return found  # type: ignore[no-any-return]


_LOCAL = StorageBackend(protocols=('file',), label='local', listing=True)
_BUILT_IN = (
    _LOCAL,
    StorageBackend(protocols=('memory',), label='in-memory', in_process=True, server_side_copy=True, rooted_paths=True),
    StorageBackend(
        protocols=('s3', 's3a'),
        label='S3',
        client_modules=('boto3',),
        install='gokart[s3]',
        filesystem='gokart.storage.s3_filesystem:S3FileSystem',  # boto3's synchronous client, which moto's in-process mock intercepts
        options=('gokart.storage.options:s3_options', 'gokart.storage.options:retry_options'),
        object_store=True,
        server_side_copy=True,  # S3FileSystem.cp_file: CopyObject (multipart past 8 MiB)
        lease_store='gokart.run_locks.s3_leases:S3LeaseStore',
        zip_client='gokart.zip_client:S3ZipClient',
    ),
    StorageBackend(
        protocols=('gs', 'gcs'),
        label='GCS',
        # gcsfs does the I/O; the Google API client and google.oauth2 are what gokart 1.12 needed for every
        # gs:// call (gokart[gcs] installs them), and users' tests hide them to check the message.
        client_modules=('gcsfs', 'google.auth', 'googleapiclient', 'google.oauth2'),
        install='gokart[gcs]',
        options=('gokart.storage.options:gcs_options',),
        object_store=True,
        server_side_copy=True,  # gcsfs copies by a rewrite within GCS
        lease_store='gokart.run_locks.gcs_leases:GcsLeaseStore',
        zip_client='gokart.zip_client:GCSZipClient',
        object_labels=True,
    ),
)

_backends: dict[str, StorageBackend] = {}
_registrations = 0


def register_storage_backend(backend: StorageBackend) -> None:
    """Make ``backend`` the entry of each of its protocols (replacing an entry gokart or an earlier call made)."""
    global _registrations
    for protocol in backend.protocols:
        _backends[protocol] = backend
    _registrations += 1


def registrations() -> int:
    """How many entries were registered since start-up: a change tells callers caching file systems to drop them."""
    return _registrations


for _backend in _BUILT_IN:
    for _protocol in _backend.protocols:
        _backends[_protocol] = _backend


def backend_of(protocol: str) -> StorageBackend:
    """The entry of ``protocol``; a protocol without one is plain fsspec, with the defaults of ``StorageBackend``."""
    found = _backends.get(protocol)
    if found is not None:
        return found
    return StorageBackend(protocols=(protocol,), label=f'{protocol}://')


def declared(protocol: str) -> bool:
    """Whether ``protocol`` has an entry (built in or registered), rather than being plain fsspec."""
    return protocol in _backends


def require_client(protocol: str, subject: str, modules: tuple[str, ...] = ()) -> None:
    """``backend_of(protocol).require_client(subject, modules)``: a protocol without an entry needs nothing here."""
    found = _backends.get(protocol)
    if found is not None:
        found.require_client(subject, modules)


def lease_protocols() -> list[str]:
    """The protocols that take workspace leases, as messages name them: ``['s3', 'gs']``."""
    return list(dict.fromkeys(b.name for b in _backends.values() if b.lease_store is not None))


OBJECT_STORE_PREFIXES = [f'{b.name}://' for b in _BUILT_IN if b.object_store]
"""``['s3://', 'gs://']``: the object stores gokart 1.12 knew (its ``object_storage_path_prefix``)."""


__all__ = [
    'OBJECT_STORE_PREFIXES',
    'Reference',
    'StorageBackend',
    'backend_of',
    'declared',
    'import_client_module',
    'lease_protocols',
    'register_storage_backend',
    'registrations',
    'require_client',
    'resolve',
]
