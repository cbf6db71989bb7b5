"""Targets: where one output lives, how it is read and written, and its lock.

A target joins a location (a local path or any fsspec URL, see ``gokart.storage.filesystem``), a file
processor (``gokart.file_processor``, chosen by extension) and the Redis lock parameters of the
cache entry. Every write is atomic: a crash mid-dump never leaves an output that counts as complete.
"""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from abc import abstractmethod
from collections.abc import Callable
from datetime import datetime
from typing import IO, Any, cast

import luigi

from gokart.conflict_prevention_lock.task_lock import TaskLockParams, make_task_lock_params
from gokart.conflict_prevention_lock.task_lock_wrappers import wrap_dump_with_lock, wrap_load_with_lock, wrap_remove_with_lock
from gokart.core import error_messages
from gokart.errors import CorruptOutputError, OutputNotFoundError
from gokart.file_processor import FileProcessor, make_file_processor
from gokart.gcs_obj_metadata_client import GCSObjectMetadataClient
from gokart.object_storage import ObjectStorage
from gokart.required_task_output import RequiredTaskOutput
from gokart.storage import content_hash, shared_workspace, signing
from gokart.storage import filesystem as storage
from gokart.storage.backends import backend_of
from gokart.zip_client import ZipClient
from gokart.zip_client_util import make_zip_client

NO_LOCK = make_task_lock_params(file_path='', unique_id=None)
"""The lock parameters of a target that takes no lock (no Redis configured)."""


class TargetOnKart(luigi.target.Target):
    """One output of a task: ``exists``, ``load``, ``dump``, ``remove``, ``last_modification_time``, ``path``."""

    def exists(self) -> bool:
        return self._exists()

    def load(self) -> Any:
        return wrap_load_with_lock(func=self._load, task_lock_params=self._get_task_lock_params())()

    def dump(
        self,
        obj: Any,
        lock_at_dump: bool = True,
        task_params: dict[str, str] | None = None,
        custom_labels: dict[str, Any] | None = None,
        required_task_outputs: Any = None,
    ) -> None:
        if lock_at_dump:
            wrap_dump_with_lock(func=self._dump, task_lock_params=self._get_task_lock_params(), exist_check=self.exists)(obj)
        else:
            self._dump(obj)
        if backend_of(storage.protocol_of(self.path())).object_labels:
            GCSObjectMetadataClient.add_task_state_labels(self.path(), task_params, custom_labels, required_task_outputs)

    def remove(self) -> None:
        if self.exists():
            wrap_remove_with_lock(self._remove, task_lock_params=self._get_task_lock_params())()

    def last_modification_time(self) -> datetime:
        return self._last_modification_time()

    def path(self) -> str:
        return self._path()

    @abstractmethod
    def _exists(self) -> bool: ...

    @abstractmethod
    def _get_task_lock_params(self) -> TaskLockParams: ...

    @abstractmethod
    def _load(self) -> Any: ...

    @abstractmethod
    def _dump(self, obj: Any) -> None: ...

    @abstractmethod
    def _remove(self) -> None: ...

    @abstractmethod
    def _last_modification_time(self) -> datetime: ...

    @abstractmethod
    def _path(self) -> str: ...


class _FileTarget(TargetOnKart):
    """What every target stored as one file (or one object) shares: its path, lock, existence and time."""

    def __init__(self, path: str, task_lock_params: TaskLockParams | None, workspace_directory: str | None = None) -> None:
        if '://' in path:
            storage.require_client_library(path)
        self._file_path = path
        self._task_lock_params = task_lock_params or NO_LOCK
        # The workspace of the task the output belongs to: signatures bind the path relative to it.
        self._workspace_directory = workspace_directory
        self._removed = False

    def _exists(self) -> bool:
        # Found in the own workspace, or else in the team's shared one (gokart.storage.shared_workspace).
        if storage.exists(self._file_path):
            return True
        return not getattr(self, '_removed', False) and shared_workspace.exists_in_shared(self._file_path, self._workspace_directory)

    def _get_task_lock_params(self) -> TaskLockParams:
        return self._task_lock_params

    def _remove(self) -> None:
        # A removed output stays removed for this target (rerun=True): its shared copy does not bring it back.
        self._removed = True
        storage.remove(self._file_path)

    def _last_modification_time(self) -> datetime:
        try:
            return storage.modification_time(self._file_path)
        except FileNotFoundError:
            shared = shared_workspace.shared_path(self._file_path, self._workspace_directory)
            if shared is None or not shared_workspace.exists_in_shared(self._file_path, self._workspace_directory):
                raise
            return storage.modification_time(shared)

    def _path(self) -> str:
        return self._file_path

    def _open_existing(self) -> IO[bytes]:
        try:
            return storage.open_read(self._file_path)
        except FileNotFoundError as e:
            missing = e
        # A shared hit is copied into the own workspace when first loaded, then read from there.
        if self._exists() and shared_workspace.fetch(self._file_path, self._workspace_directory):
            return storage.open_read(self._file_path)
        raise OutputNotFoundError(
            f'{self._file_path} does not exist: run the task that writes it first.{shared_workspace.refusal_note(self._file_path, self._workspace_directory)}'
        ) from missing


class SingleFileTarget(_FileTarget):
    """An output stored as one file, in the format its processor gives it."""

    def __init__(
        self, path: str, processor: FileProcessor, task_lock_params: TaskLockParams | None = None, *, workspace_directory: str | None = None
    ) -> None:
        super().__init__(path, task_lock_params, workspace_directory)
        self._processor = processor

    @property
    def _target(self) -> luigi.target.FileSystemTarget:
        """gokart 1.12's wrapped luigi target, for code that reads it (``target._target.path`` is the output path).

        Built on first access with the processor's format; loads and dumps do not go through it
        (``gokart.storage`` does the I/O), so it costs nothing to targets nobody inspects.
        """
        wrapped = self.__dict__.get('_wrapped_luigi_target')
        if wrapped is None:
            wrapped = self.__dict__['_wrapped_luigi_target'] = _luigi_target(self._file_path, self._processor.format())
        return wrapped

    def _load(self) -> Any:
        with self._open_existing() as stream:
            content = signing.verified(stream, self._file_path, signing.covers(self._processor), self._workspace_directory)
            return read_with_processor(self._processor, content, self._file_path)

    def _dump(self, obj: Any) -> None:
        signs = signing.covers(self._processor)
        with (
            storage.atomic_write(self._file_path) as stream,
            signing.signed(stream, self._file_path, signs, self._workspace_directory) as out,
        ):
            hashing = content_hash.HashingWriter(out)  # the content hash, taken on the way (no second read)
            write_with_processor(self._processor, obj, cast(IO[bytes], hashing))
        content_hash.note_written(self._file_path, hashing, signed=out is not stream)


class ModelTarget(_FileTarget):
    """An output saved by a user function into a zip, with the load function pickled beside it."""

    def __init__(
        self,
        file_path: str,
        temporary_directory: str,
        load_function: Callable[[str], Any] | None,
        save_function: Callable[[Any, str], Any],
        task_lock_params: TaskLockParams | None = None,
        *,
        workspace_directory: str | None = None,
    ) -> None:
        super().__init__(file_path, task_lock_params, workspace_directory)
        self._temporary_directory = temporary_directory
        self._save_function = save_function
        self._load_function = load_function

    @property
    def _zip_client(self) -> ZipClient:
        """gokart 1.12's zip client of the model archive (``._zip_client.path`` is the zip's path), made on access."""
        return make_zip_client(self._file_path, self._temporary_directory)

    def _load(self) -> Any:
        import dill

        with self._scratch_directory() as scratch:
            stream = self._open_existing()
            try:
                with (
                    stream,
                    zipfile.ZipFile(_seekable(signing.verified(stream, self._file_path, workspace=self._workspace_directory))) as archive,
                ):
                    archive.extractall(scratch)
            except zipfile.BadZipFile as e:
                raise CorruptOutputError(_corrupt_message(self._file_path, e)) from e
            load_function = self._load_function
            if not load_function:
                with open(os.path.join(scratch, 'load_function.pkl'), 'rb') as f:
                    load_function = dill.load(f)
            return load_function(os.path.join(scratch, 'model.pkl'))

    def _dump(self, obj: Any) -> None:
        import dill

        with self._scratch_directory() as scratch:
            self._save_function(obj, os.path.join(scratch, 'model.pkl'))
            with open(os.path.join(scratch, 'load_function.pkl'), 'wb') as f:
                dill.dump(self._load_function, f)
            with (
                storage.atomic_write(self._file_path) as stream,
                signing.signed(stream, self._file_path, workspace=self._workspace_directory) as out,
            ):
                hashing = content_hash.HashingWriter(out)  # a seekable archive rewrites its headers: then read back once
                with zipfile.ZipFile(hashing, 'w', zipfile.ZIP_DEFLATED) as archive:
                    for root, _, files in os.walk(scratch):
                        for name in sorted(files):
                            full = os.path.join(root, name)
                            archive.write(full, os.path.relpath(full, scratch))
            content_hash.note_written(self._file_path, hashing, signed=out is not stream)

    def _scratch_directory(self) -> tempfile.TemporaryDirectory[str]:
        # A fresh directory per call: two processes handling the same model never share scratch files.
        os.makedirs(self._temporary_directory, exist_ok=True)
        return tempfile.TemporaryDirectory(dir=self._temporary_directory)


class LargeDataFrameProcessor:
    """Save a DataFrame as several pickles of at most about ``max_byte`` each, and load them back in order."""

    def __init__(self, max_byte: int) -> None:
        self.max_byte = int(max_byte)

    def save(self, df: Any, file_path: str) -> None:
        import numpy as np

        directory = os.path.dirname(file_path)
        os.makedirs(directory, exist_ok=True)
        if df.empty:
            df.to_pickle(os.path.join(directory, 'data_0.pkl'))
            return
        split_size = df.values.nbytes // self.max_byte + 1
        for i, positions in enumerate(np.array_split(np.arange(len(df)), split_size)):
            df.iloc[positions].to_pickle(os.path.join(directory, f'data_{i}.pkl'))

    @staticmethod
    def load(file_path: str) -> Any:
        import pandas as pd

        directory = os.path.dirname(file_path)
        parts = [name for name in os.listdir(directory) if name.startswith('data_') and name.endswith('.pkl')]
        # Numeric order of the part index keeps the rows in their original order.
        parts.sort(key=lambda name: int(name[len('data_') : -len('.pkl')]))
        return pd.concat([pd.read_pickle(os.path.join(directory, name)) for name in parts])


def make_target(
    file_path: str,
    unique_id: str | None = None,
    processor: FileProcessor | None = None,
    task_lock_params: TaskLockParams | None = None,
    store_index_in_feather: bool = True,
    *,
    workspace_directory: str | None = None,
) -> TargetOnKart:
    """A single-file target at ``file_path`` with ``_{unique_id}`` inserted before the extension.

    ``workspace_directory`` (given by tasks) is where ``file_path`` lies: a signed output's signature
    binds its path relative to it. Without it, the whole path is bound (see ``gokart.storage.signing``).
    """
    _task_lock_params = (
        task_lock_params if task_lock_params is not None else make_task_lock_params(file_path=file_path, unique_id=unique_id)
    )
    file_path = insert_unique_id(file_path, unique_id)
    _processor = processor or make_file_processor(file_path, store_index_in_feather=store_index_in_feather)
    return SingleFileTarget(
        path=file_path, processor=_processor, task_lock_params=_task_lock_params, workspace_directory=workspace_directory
    )


def make_model_target(
    file_path: str,
    temporary_directory: str,
    save_function: Callable[[Any, str], Any],
    load_function: Callable[[str], Any],
    unique_id: str | None = None,
    task_lock_params: TaskLockParams | None = None,
    *,
    workspace_directory: str | None = None,
) -> TargetOnKart:
    """A zip target whose content ``save_function`` writes and ``load_function`` reads (``workspace_directory`` as in ``make_target``)."""
    _task_lock_params = (
        task_lock_params if task_lock_params is not None else make_task_lock_params(file_path=file_path, unique_id=unique_id)
    )
    return ModelTarget(
        file_path=insert_unique_id(file_path, unique_id),
        temporary_directory=temporary_directory,
        save_function=save_function,
        load_function=load_function,
        task_lock_params=_task_lock_params,
        workspace_directory=workspace_directory,
    )


def write_small_file(path: str, obj: Any, workspace_directory: str | None = None) -> None:
    """Write ``obj`` to ``path`` in its extension's format, for gokart's own small files (``log/`` records).

    The bytes are built in memory and published with one atomic write, which costs a few system
    calls instead of the stream machinery of a target. No lock is taken: the file is whole or absent
    either way, and no completion check reads it.
    """
    storage.write_bytes(path, small_file_bytes(path, obj, workspace_directory))


def write_small_files(files: list[tuple[str, Any]], workspace_directory: str | None = None) -> None:
    """``write_small_file`` for several (path, object) pairs, written at once on remote stores (``storage.write_many``)."""
    storage.write_many((path, small_file_bytes(path, obj, workspace_directory)) for path, obj in files)


def small_file_bytes(path: str, obj: Any, workspace_directory: str | None = None) -> memoryview:
    """The bytes of ``obj`` as ``path``'s extension stores it, signed when signing covers that format."""
    processor = make_file_processor(path)
    buffer = io.BytesIO()
    with signing.signed(buffer, path, signing.covers(processor), workspace_directory) as out:
        write_with_processor(processor, obj, out)
    return buffer.getbuffer()


def read_with_processor(processor: FileProcessor, stream: IO[bytes], path: str) -> Any:
    """Load through ``processor``; an unreadable file is a ``CorruptOutputError`` naming it."""
    try:
        return processor.load(_wrap_reader(processor, stream))
    except (ImportError, MemoryError, CorruptOutputError):
        raise
    except Exception as e:
        raise CorruptOutputError(_corrupt_message(path, e)) from e


def write_with_processor(processor: FileProcessor, obj: Any, stream: IO[bytes]) -> None:
    fmt = processor.format()
    if _is_binary_format(fmt):
        processor.dump(obj, stream)
        return
    writer = (fmt or luigi.format.get_default_format()).pipe_writer(_Unclosable(stream))
    processor.dump(obj, writer)
    writer.close()


def _wrap_reader(processor: FileProcessor, stream: IO[bytes]) -> Any:
    fmt = processor.format()
    if _is_binary_format(fmt):
        return stream
    return (fmt or luigi.format.get_default_format()).pipe_reader(stream)


def _is_binary_format(fmt: Any) -> bool:
    return fmt is luigi.format.Nop or isinstance(fmt, luigi.format.NopFormat)


def _corrupt_message(path: str, error: BaseException) -> str:
    return (
        f'cannot load {path}: {type(error).__name__}: {error_messages.clause(error)}; the file is truncated, corrupt or not in '
        'the format its extension says: rerun the task that writes it with rerun=True, or delete the file.'
    )


def _luigi_target(path: str, fmt: Any) -> luigi.target.FileSystemTarget:
    if storage.is_local(path):
        return luigi.LocalTarget(storage.local_path(path), format=fmt)
    return ObjectStorage.get_object_storage_target(path, fmt)


def _seekable(stream: IO[bytes]) -> IO[bytes]:
    if stream.seekable():
        return stream
    return io.BytesIO(stream.read())


class _Unclosable(io.RawIOBase):
    """Lets a luigi format wrapper close its writer without closing our atomic stream."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self._stream.write(b)
        return len(b)

    def flush(self) -> None:
        self._stream.flush()


def insert_unique_id(original_path: str, unique_id: str | None = None) -> str:
    """``dir/Name.ext`` becomes ``dir/Name_{unique_id}.ext``; unchanged without an id."""
    if unique_id is not None:
        root, ext = os.path.splitext(original_path)
        return f'{root}_{unique_id}{ext}'
    return original_path


__all__ = [
    'FileProcessor',
    'GCSObjectMetadataClient',
    'LargeDataFrameProcessor',
    'ModelTarget',
    'ObjectStorage',
    'RequiredTaskOutput',
    'SingleFileTarget',
    'TargetOnKart',
    'make_file_processor',
    'make_model_target',
    'make_target',
    'make_zip_client',
]
