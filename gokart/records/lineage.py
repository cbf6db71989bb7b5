"""The lineage journal: one record per finished task run, one journal per build process.

A record says what ``log/`` does not: the ids and output paths of the run's direct requirements,
its id scheme, code fingerprint, the git commit of the task's code, host, user, start and end time
and final state. It lives beside the lock directory, under ``{workspace}/.gokart/lineage/``, so
gokart 1.12's file set and names stay as they are, and adds no file per task:

- on a local workspace each process appends one JSON line per finished task to its journal
  ``{stream}-{chunk}.open`` (one ``write`` of a whole line, so a reader sees whole lines only, and
  a crash loses nothing written before it). After ``CHUNK_RECORDS`` lines, and when the process
  ends, the file is renamed to ``{stream}-{chunk}.jsonl``: published, never written again.
- on S3/GCS lines are kept in memory and each chunk is published as one object
  ``{stream}-{chunk}.jsonl`` (after ``REMOTE_CHUNK_RECORDS`` lines or ``REMOTE_FLUSH_SECONDS``,
  at the end of a build and when the process ends): a crash loses the lines of the unflushed chunk.

``stream`` names the process (host, pid and a random part), so writers never share a file, and
each line carries ``stream`` and ``seq``, which identify it wherever a reader finds it.

Content hashes (``storage.content_hash``, for early cutoff): ``contents`` lists, parallel to
``outputs``, each output's ``{'hash', 'size', 'mtime_ns'}`` as the run wrote it (None where not
known); each entry of ``requires`` may carry ``hashes``, the content its outputs had when the run
read them; ``cutoff_from`` names the run a cut-off run's outputs came from. A line of ``kind`` ``'content'`` remembers the hash of a file computed on first need (an
output written before the journal knew hashes, or by gokart 1.12). Readers ignore keys they do not know,
so older journals read as before and older readers read these.
"""

from __future__ import annotations

import atexit
import functools
import getpass
import json
import logging
import numbers
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from gokart.contracts.frames import frame_columns
from gokart.core import dag, run_state, settings
from gokart.core.task_protocol import KartTask
from gokart.errors import ConfigOptionError
from gokart.ids import id_scheme
from gokart.storage import content_hash, local_target_seam
from gokart.storage import filesystem as storage
from gokart.utils import flatten

logger = logging.getLogger(__name__)

HIDDEN_DIRECTORY = '.gokart'
LINEAGE_DIRECTORY = f'{HIDDEN_DIRECTORY}/lineage'
OPEN_SUFFIX, PUBLISHED_SUFFIX = '.open', '.jsonl'
CHUNK_RECORDS = 2000
REMOTE_CHUNK_RECORDS = 500
REMOTE_FLUSH_SECONDS = 5.0
FORMAT_VERSION = 1

SUCCESS, FAILURE = 'SUCCESS', 'FAILURE'
DISABLE_VARIABLE = settings.setting('lineage').environment_variable
"""``GOKART_LINEAGE=0`` turns the journal off (the log/ records are written as ever; ``gokart.runs`` still reads them)."""


def directory(workspace: str) -> str:
    """``{workspace}/.gokart/lineage``: where the journals of ``workspace`` are."""
    return f'{workspace.rstrip("/")}/{LINEAGE_DIRECTORY}'


def is_journal(name: str) -> bool:
    return name.endswith(PUBLISHED_SUFFIX) or name.endswith(OPEN_SUFFIX)


def chunk_stem(name: str) -> str:
    """``host-pid-xxxx-00003`` for both the open and the published name of one chunk."""
    base = name.rsplit('/', 1)[-1]
    for suffix in (PUBLISHED_SUFFIX, OPEN_SUFFIX):
        if base.endswith(suffix):
            return base[: -len(suffix)]
    return base


METRICS_LIMIT = 256
"""A dumped mapping of names to numbers with at most this many entries is recorded as the run's metrics."""


# ----- what a record says --------------------------------------------------------------------
def metrics_of(obj: Any) -> dict[str, float] | None:
    """``obj`` as metrics (a small mapping of names to real numbers, bools excluded), else None."""
    if not isinstance(obj, Mapping) or not obj or len(obj) > METRICS_LIMIT:
        return None
    found: dict[str, float] = {}
    for name, value in obj.items():
        if not isinstance(name, str) or isinstance(value, bool) or not isinstance(value, numbers.Real):
            return None
        found[name] = float(value)
    return found


def note_dumped(task: KartTask, obj: Any, path: str | None = None, schema: Any = None) -> None:
    """Remember ``obj`` as the run's metrics when it is a small mapping of names to numbers (see ``metrics_of``).

    A frame dumped to ``path`` leaves its columns and dtypes (and the ``gokart.Schema`` it was checked
    against, if any) for the run's ``schemas``, which ``gokart diff`` compares: names only, no values read.
    """
    metrics = metrics_of(obj)
    if metrics is not None:
        run_state.of(task).metrics = metrics
    if path is not None:
        try:
            columns = frame_columns(obj)
        except Exception:  # a lazy frame whose schema cannot be resolved: the record goes without it, the dump stands
            columns = None
        if columns is not None:
            declared = schema.as_record() if schema is not None else None
            state = run_state.of(task)
            state.schemas = state.schemas or {}
            state.schemas[_absolute(str(path))] = {'columns': columns, 'declared': declared}


def _requirement(task: Any, directories: dict[str, str]) -> dict[str, Any]:
    unique_id = task.make_unique_id() if hasattr(task, 'make_unique_id') else str(getattr(task, 'task_id', ''))
    # A requirement that ran in this process kept the paths its own record gave (see _recorded_outputs):
    # a cold build then makes each task's journal paths once, not once more per task that requires it.
    state = run_state.peek(task)
    known = state.outputs if state is not None else None
    outputs = known[1] if known is not None and known[0] == unique_id else _output_paths(task, directories)
    found = {'class': type(task).__name__, 'family': task.get_task_family(), 'id': unique_id, 'outputs': outputs}
    hashes = [_known_digest(path) for path in outputs]
    if any(hashes):  # the content this run read, where this process knows it (written or hashed here): no file is read for it
        found['hashes'] = hashes
    return found


def _known_digest(path: str) -> str | None:
    # ``path`` is a journal path (see _absolute): already the content store's key, unless a URL ends with '/'.
    known = content_hash.known(path) if path.endswith('/') else content_hash.known_at_key(path)
    return known.digest if known is not None else None


def _output_contents(paths: list[str]) -> list[dict[str, Any] | None] | None:
    """The content hash (and size, time) of each output as written by this process; None when none is known."""
    contents = [content_hash.known(path) if path.endswith('/') else content_hash.known_at_key(path) for path in paths]
    if not any(contents):
        return None
    return [content.as_record() if content is not None else None for content in contents]


def _output_paths(task: Any, directories: dict[str, str]) -> list[str]:
    try:
        return [_absolute(str(target.path()), directories) for target in flatten(task.output()) if hasattr(target, 'path')]
    except Exception:  # an output() that raises is the task's to report, not the journal's
        return []


def _recorded_outputs(task: KartTask, unique_id: str, directories: dict[str, str]) -> list[str]:
    """The output paths SUCCESS put in ``task_log`` (computed once per run), else asked of the task; kept for its dependents' records."""
    task_log = getattr(task, 'task_log', None)
    paths = task_log.get('file_path') if isinstance(task_log, dict) else None
    outputs = [_absolute(str(path), directories) for path in paths] if isinstance(paths, list) else _output_paths(task, directories)
    run_state.of(task).outputs = (unique_id, outputs)
    return outputs


def _absolute(path: str, directories: dict[str, str] | None = None) -> str:
    """Local paths made absolute (the build's working directory is not the reader's); URLs as they are.

    ``directories`` keeps the absolute form of each directory met while one record is made: the
    thousands of outputs a wide task requires share a few directories, and normalizing a path
    costs more than looking its directory up.
    """
    if not storage.is_local(path):
        return path
    local = storage.local_path(path)
    directory, _, name = local.rpartition('/')
    if not directory or name in ('', '.', '..'):
        return os.path.abspath(local)
    found = directories.get(directory) if directories is not None else None
    if found is None:
        found = os.path.abspath(directory)
        if directories is not None:
            directories[directory] = found
    return f'{found}/{name}' if found != '/' else f'/{name}'


def _direct_requirements(task: Any, directories: dict[str, str]) -> list[dict[str, Any]]:
    try:
        return [_requirement(required, directories) for required in dag.requirements(task)]
    except Exception:
        return []


def task_parameter_ids(task: Any) -> dict[str, Any]:
    """The unique id of each task held in a significant parameter (a list of ids for a list of tasks): what the run read.

    Readers show these ids, not ones computed again from the parameters, which today's code or
    settings (a code fingerprint turned on) may make differently.
    """
    import luigi

    found: dict[str, Any] = {}
    try:
        for name, parameter in task.get_params():
            if not parameter.significant:  # before reading the value: most of TaskOnKart's own parameters are insignificant
                continue
            value = getattr(task, name, None)
            if isinstance(value, luigi.Task):
                found[name] = _unique_id(value)
            elif isinstance(value, (list, tuple)) and value and all(isinstance(v, luigi.Task) for v in value):
                found[name] = [_unique_id(v) for v in value]
    except Exception:  # a parameter that cannot be read is the task's to report
        return {}
    return found


def _unique_id(task: Any) -> str:
    return str(task.make_unique_id()) if hasattr(task, 'make_unique_id') else str(task.task_id)


def make_record(
    task: KartTask, state: str, started: float | None, processing_time: float | None, error: BaseException | None
) -> dict[str, Any]:
    """The journal line of ``task``'s run that just ended in ``state``."""
    now = time.time()
    fingerprint = None
    if getattr(task, 'code_fingerprint_check', False):
        from gokart.ids.code_fingerprint import code_fingerprint

        fingerprint = code_fingerprint(type(task))
    noted = run_state.peek(task) or run_state.RunState()
    params = dict(noted.params or task.to_str_params(only_significant=True))
    unique_id = task.make_unique_id()
    directories: dict[str, str] = {}
    outputs = _recorded_outputs(task, unique_id, directories)
    record: dict[str, Any] = {
        'v': FORMAT_VERSION,
        'class': type(task).__name__,
        'family': task.get_task_family(),
        'module': type(task).__module__,
        'id': unique_id,
        'scheme': id_scheme.current(),
        'params': params,
        'requires': _direct_requirements(task, directories),
        'task_params': task_parameter_ids(task),
        'outputs': outputs,
        'contents': _output_contents(outputs),
        'cutoff_from': noted.cutoff_from,
        'metrics': noted.metrics,
        'schemas': noted.schemas,
        'code_fingerprint': fingerprint,
        'git': git_state(type(task)),
        'host': _HOST,
        'user': _user(),
        'pid': os.getpid(),
        'start': started if started is not None else now,
        'end': now,
        'processing_time': processing_time,
        'state': state,
        'error': f'{type(error).__name__}: {error}' if error is not None else None,
    }
    return record


_HOST = socket.gethostname()
_git_cache: dict[str, dict[str, Any] | None] = {}


@functools.cache
def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (a container without one in /etc/passwd)
        return str(os.getuid()) if hasattr(os, 'getuid') else ''


def git_state(cls: type) -> dict[str, Any] | None:
    """``{'commit', 'dirty'}`` of the git repository holding ``cls``'s module, None outside one; asked once per repository and process."""
    folder = _module_folder(cls)
    if folder is None:
        return None
    if folder in _git_cache:
        return _git_cache[folder]
    root = _repository_root(folder)
    if root is None:
        state = None
    elif root in _git_cache:
        state = _git_cache[root]
    else:  # the answer prepare() asked for when the build began, else asked now
        state = _answer_of(_git_asked.pop(root, None) or _ask_git(root))
    _git_cache[folder] = state
    if root is not None:
        _git_cache[root] = state
    return state


def prepare(task_classes: Iterable[type]) -> None:
    """Start asking git about the repositories of ``task_classes`` now, so the first record of a build need not wait for it.

    A build calls this with its roots' classes before it plans: git then answers while the DAG is
    planned, on the machine's other core, instead of between the first task's run and its record.
    """
    if not _journal_on():
        return
    for cls in set(task_classes):
        folder = _module_folder(cls)
        if folder is None or folder in _git_cache:
            continue
        root = _repository_root(folder)
        if root is not None and root not in _git_cache and root not in _git_asked:
            asked = _ask_git(root)
            if asked is not None:
                if not _git_asked and not _git_drain_registered:
                    _register_git_drain()
                _git_asked[root] = asked


def _register_git_drain() -> None:
    global _git_drain_registered
    _git_drain_registered = True
    atexit.register(_drain_git)


def _drain_git() -> None:
    """Read the answers no build asked for (a build with nothing to run), so no git process outlives its reader."""
    while _git_asked:
        _answer_of(_git_asked.popitem()[1])


def stop_git() -> None:
    """Kill the git processes still answering (the build was terminated): none outlives the build, and exit waits for none."""
    while _git_asked:
        for process in _git_asked.popitem()[1][1:]:
            try:
                process.kill()
                process.communicate()
            except OSError:  # already gone
                pass


def _module_folder(cls: type) -> str | None:
    module = sys.modules.get(cls.__module__)
    file = getattr(module, '__file__', None)
    if not file:
        return None
    # An absolute file name names the same folder whatever the working directory: made once, not once per task.
    return _folder_of_absolute(file) if os.path.isabs(file) else os.path.dirname(os.path.abspath(file))


@functools.lru_cache(maxsize=1024)
def _folder_of_absolute(file: str) -> str:
    return os.path.dirname(os.path.abspath(file))


def _repository_root(folder: str) -> str | None:
    root = folder
    while not os.path.exists(os.path.join(root, '.git')):
        parent = os.path.dirname(root)
        if parent == root:
            return None
        root = parent
    return root


_GitQuestions = tuple[str, subprocess.Popen, subprocess.Popen]  # type: ignore[type-arg]  # root, commit, status
_git_asked: dict[str, _GitQuestions] = {}  # repository root -> git processes started by prepare(), not yet read
_git_drain_registered = False


def _ask_git(root: str) -> _GitQuestions | None:
    """Start the two git commands whose answers make the state: the commit, and whether tracked files changed."""
    commands = (['rev-parse', 'HEAD'], ['status', '--porcelain', '--untracked-files=no'])
    started: list[subprocess.Popen] = []  # type: ignore[type-arg]
    try:
        for command in commands:
            pipes = {'stdout': subprocess.PIPE, 'stderr': subprocess.DEVNULL, 'stdin': subprocess.DEVNULL}
            started.append(subprocess.Popen(['git', '-C', root, *command], text=True, **pipes))  # type: ignore[call-overload]
    except OSError:  # no git binary: say nothing
        for process in started:
            _answer(process)
        return None
    return root, started[0], started[1]


def _answer_of(asked: _GitQuestions | None) -> dict[str, Any] | None:
    if asked is None:
        return None
    root, *processes = asked
    commit, status = (_answer(process) for process in processes)
    if commit is None or status is None:  # not a usable repository, or git hung: say nothing
        return None
    return {'commit': commit.strip(), 'dirty': bool(status.strip()), 'root': root}


def _answer(process: subprocess.Popen) -> str | None:  # type: ignore[type-arg]
    """What one git command printed, None when it failed or took over 10 s."""
    try:
        out, _ = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return None
    return str(out) if process.returncode == 0 else None


# ----- which workspace a journal belongs to --------------------------------------------------
WORKSPACE_ID_FILE = f'{HIDDEN_DIRECTORY}/workspace-id'


def workspace_id(workspace: str, create: bool = False) -> str | None:
    """What the journal lines of ``workspace`` carry as ``workspace_id``, so that a reader knows chunks copied from another.

    A local workspace has a random token in ``.gokart/workspace-id``, made by its first writer (one
    atomic link, so concurrent first writers agree), and the same wherever the folder is mounted; an
    object store's is its URL. None when unknown (no token yet and ``create`` False, or it cannot be made).
    """
    if not storage.is_local(workspace):
        return workspace.rstrip('/')
    path = os.path.join(storage.local_path(workspace), WORKSPACE_ID_FILE)
    try:
        with open(path) as f:
            return f.read().strip() or None
    except FileNotFoundError:
        if not create:
            return None
    except OSError:
        return None
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        draft = f'{path}.{os.getpid()}-{secrets.token_hex(4)}'
        with open(draft, 'w') as f:
            f.write(secrets.token_hex(16))
        try:
            os.link(draft, path)  # fails when another writer was first: its token is the one
        except FileExistsError:
            pass
        finally:
            os.remove(draft)
        with open(path) as f:
            return f.read().strip() or None
    except OSError:  # a read-only or full workspace: its lines carry no id, and every reader takes them
        return None


# ----- the writers ---------------------------------------------------------------------------
class _LocalJournal:
    """Appends whole lines to ``{stream}-{chunk}.open`` and renames it ``.jsonl`` when full or at the end."""

    def __init__(self, folder: str, stream: str) -> None:
        self._folder = folder
        self._stream = stream
        self._chunk = 0
        self._lines = 0
        self._fd: int | None = None

    def _name(self, suffix: str) -> str:
        return os.path.join(self._folder, f'{self._stream}-{self._chunk:05d}{suffix}')

    def append(self, line: bytes) -> None:
        if self._fd is not None and os.fstat(self._fd).st_nlink == 0:  # the workspace was deleted meanwhile: start a new journal
            os.close(self._fd)
            self._fd = None
            self._chunk += 1
            self._lines = 0
        if self._fd is None:
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, 'O_CLOEXEC', 0)
            self._fd = storage.create_in_directory(self._name(OPEN_SUFFIX), lambda: os.open(self._name(OPEN_SUFFIX), flags, 0o666))
        os.write(self._fd, line)  # one write of a whole line: readers never see half of it
        self._lines += 1
        if self._lines >= CHUNK_RECORDS:
            self.publish()

    def publish(self) -> None:
        if self._fd is None:
            return
        os.close(self._fd)
        self._fd = None
        try:
            os.replace(self._name(OPEN_SUFFIX), self._name(PUBLISHED_SUFFIX))
        except FileNotFoundError:  # the workspace was cleaned meanwhile
            pass
        self._chunk += 1
        self._lines = 0

    def flush(self) -> None:
        """Every line is with the OS already; nothing is held here."""


class _RemoteJournal:
    """Keeps lines in memory and publishes each chunk as one object."""

    def __init__(self, folder: str, stream: str) -> None:
        self._folder = folder
        self._stream = stream
        self._chunk = 0
        self._lines: list[bytes] = []
        self._since = 0.0

    def append(self, line: bytes) -> None:
        if not self._lines:
            self._since = time.monotonic()
        self._lines.append(line)
        if len(self._lines) >= REMOTE_CHUNK_RECORDS or time.monotonic() - self._since >= REMOTE_FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if not self._lines:
            return
        data, self._lines = b''.join(self._lines), []
        storage.write_bytes(f'{self._folder}/{self._stream}-{self._chunk:05d}{PUBLISHED_SUFFIX}', data)
        self._chunk += 1

    def publish(self) -> None:
        self.flush()


class _Journals:
    """This process's journal per workspace."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stream = f'{_HOST}-{os.getpid()}-{secrets.token_hex(3)}'
        self.seq = 0
        self.writers: dict[str, _LocalJournal | _RemoteJournal] = {}
        self.workspace_ids: dict[str, str | None] = {}  # by the workspace as asked for (see workspace_id)
        self.exit_registered = False

    def writer(self, workspace: str) -> _LocalJournal | _RemoteJournal:
        original = workspace
        if storage.is_local(workspace):  # './resources' is another directory after a chdir
            workspace = os.path.join(os.getcwd(), storage.local_path(workspace))
        found = self.writers.get(workspace)
        if found is None:
            folder = directory(workspace)
            if storage.is_local(workspace):
                found = _LocalJournal(folder, self.stream)
            else:
                found = _RemoteJournal(folder, self.stream)
            self.writers[workspace] = found
            self.workspace_ids[original] = workspace_id(workspace, create=True)
            self._register_exit()
        return found

    def _register_exit(self) -> None:
        if self.exit_registered:
            return
        self.exit_registered = True
        atexit.register(close)
        # A forked worker (multiprocessing, luigi's task processes) leaves through multiprocessing's
        # exit, which runs its finalizers but not atexit.
        import multiprocessing.util

        multiprocessing.util.Finalize(None, close, exitpriority=100)


_journals = _Journals()


def _reset_after_fork() -> None:
    # A forked child must not write to its parent's files or publish its parent's chunks: it starts its own stream.
    # Nor read the answers of git processes its parent started: it asks again if it needs to.
    global _journals
    _journals = _Journals()
    _git_asked.clear()


if hasattr(os, 'register_at_fork'):
    os.register_at_fork(after_in_child=_reset_after_fork)


_LINE_ENCODER = json.JSONEncoder(separators=(',', ':'), default=str)
"""What ``json.dumps(record, separators=(',', ':'), default=str)`` uses, made once: ``dumps`` with options builds a new one per line."""


def append(workspace: str, record: dict[str, Any]) -> None:
    """Add ``record`` to this process's journal of ``workspace``."""
    journals = _journals
    with journals.lock:
        writer = journals.writer(workspace)
        record = {'stream': journals.stream, 'seq': journals.seq, 'workspace_id': journals.workspace_ids.get(workspace), **record}
        journals.seq += 1
        line = (_LINE_ENCODER.encode(record) + '\n').encode()
        writer.append(line)


def _journal_on() -> bool:
    try:
        return bool(settings.value('lineage'))
    except ConfigOptionError as e:  # a mistyped switch of the journal must not fail the build it records
        logger.warning(f'{e}: the runs are journaled')
        return True


CONTENT_KIND = 'content'
"""The ``kind`` of a journal line that remembers the content hash of a file gokart read to hash (an output older than the journal)."""


def record_content(workspace: str, path: str, content: content_hash.Content) -> None:
    """Journal the hash of ``path`` computed just now, so no later build reads the file again for it; never raises."""
    if not _journal_on():
        return
    try:
        append(workspace, {'v': FORMAT_VERSION, 'kind': CONTENT_KIND, 'path': _absolute(path), **content.as_record(), 'end': time.time()})
    except Exception as e:
        logger.warning(f'gokart could not journal the content hash of {path}: {e}')


def record_run(task: KartTask, state: str, error: BaseException | None = None) -> None:
    """Journal the run of ``task`` that just ended in ``state``; a failure to journal is logged, never raised into the build."""
    workspace = getattr(task, 'workspace_directory', None)
    if not isinstance(workspace, str) or not _journal_on():
        return
    if storage.is_local(workspace) and local_target_seam.replacement() is not None:
        return  # local outputs go to a stand-in (a test's in-memory store): so do no real files
    try:
        noted = run_state.peek(task) or run_state.RunState()
        record = make_record(task, state, noted.started, noted.processing_time, error)
        append(workspace, record)
    except Exception as e:  # the journal is a record of the build, never a reason for it to fail
        logger.warning(f'gokart could not journal the run of {type(task).__name__}[{getattr(task, "make_unique_id", lambda: "?")()}]: {e}')


published = 0
"""How many times ``flush`` published this process's journals: a reader caching what they said (early cutoff's index) reads again after."""


def flush() -> None:
    """Publish what is held in memory (remote journals); called at the end of each build."""
    global published
    journals = _journals
    published += 1
    with journals.lock:
        for writer in journals.writers.values():
            _quietly(writer.flush)


def close() -> None:
    """Publish every journal of this process (at exit): local ones are renamed ``.jsonl``, remote ones flushed."""
    journals = _journals
    with journals.lock:
        for writer in journals.writers.values():
            _quietly(writer.publish)
        journals.writers.clear()


def _quietly(call: Any) -> None:
    try:
        call()
    except Exception as e:
        logger.warning(f'gokart could not publish a lineage journal: {e}')


# ----- reading -------------------------------------------------------------------------------
def parse_lines(data: bytes) -> tuple[list[dict[str, Any]], int]:
    """The records of the whole lines in ``data``, and how many bytes they span (a partial last line is left for later)."""
    end = data.rfind(b'\n') + 1
    records = []
    for line in data[:end].splitlines():
        if not line.strip():
            continue
        try:
            found = json.loads(line)
        except ValueError:  # a torn line from a crash mid-write: skipped, never fatal
            continue
        if isinstance(found, dict):
            records.append(found)
    return records, end


def read_records(paths: Iterable[str]) -> list[dict[str, Any]]:
    """Every record in the journals at ``paths``."""
    found: list[dict[str, Any]] = []
    for path in paths:
        with storage.open_read(path) as f:
            found.extend(parse_lines(f.read())[0])
    return found
