"""Run a planned DAG on a Dask distributed cluster: ``gokart.build(task, executor='dask', ...)``.

The DAG is planned here, as for the local executor; each incomplete task then becomes one Dask task
keyed ``{family}-{unique_id}`` whose dependencies are the futures of its incomplete requirements.
A Dask task runs the gokart task through the local executor's ``run_task`` on a worker (run lock,
events, ``log/`` records, signing, atomic outputs) and returns ``None``: values travel through the
workspace, never through Dask's memory. Equal keys make two clients of one scheduler share a task,
so it runs once. The client's luigi config travels with each task and is applied on the worker before the task
is constructed there (tasks built in ``requires()`` on the worker read it), except the pickle
signing key: workers keep their own. A task that raises makes its Dask task fail with the exception; Dask then runs no
dependent of it, while independent branches go on. A worker that dies mid-task is Dask's to handle:
the scheduler runs the task again on another worker, up to its ``allowed-failures`` setting.

``distributed`` is imported only when a Dask build starts, so ``import gokart`` stays light.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import pickle
import sys
import traceback
from typing import TYPE_CHECKING, Any

import luigi

from gokart import signing
from gokart.errors import GokartError, describe_task
from gokart.execution.local import BuildOutcome, ExecutionListener, _fewer_garbage_collections, _plan, _raise_on_cycle, run_task
from gokart.execution.plan import Plan, TaskState

if TYPE_CHECKING:
    from distributed import Client, Future

ADDRESS_VARIABLE = 'GOKART_DASK_ADDRESS'
_RECIPE = 'docs/distributed.md#worker-environments'


def execute_on_dask(
    roots: list[Any], client: Client | None = None, address: str | None = None, listener: ExecutionListener | None = None
) -> BuildOutcome:
    """Plan the DAG under ``roots`` here and run what is not complete on the Dask cluster of ``client`` or ``address``.

    Without either, ``GOKART_DASK_ADDRESS`` or the process's current Dask client is used. A client made
    here from an address is closed at the end; a client passed in is left open.
    """
    own_client = client is None
    if client is None:
        client, own_client = connect(address)
    try:
        _announce_dashboard(client)
        with _fewer_garbage_collections(), signing.key_pinned():
            plan = _plan(roots)
            if listener is not None:
                listener.planned(plan)
            outcome = BuildOutcome(plan=plan)
            _DaskRun(client, plan, outcome, listener).run()
        return outcome
    finally:
        if own_client:
            client.close()


def connect(address: str | None = None) -> tuple[Client, bool]:
    """(client, made here): of the scheduler at ``address``, else ``GOKART_DASK_ADDRESS``, else the current client; else a clear error.

    A client made here is the caller's to close; the process's current client is not.
    """
    try:
        from distributed import Client, default_client
    except ImportError as e:
        raise GokartError("executor='dask' needs Dask distributed: pip install 'gokart[dask]'") from e
    address = address or os.environ.get(ADDRESS_VARIABLE) or None
    if address:
        try:
            return Client(address, set_as_default=False), True
        except OSError as e:
            raise GokartError(f"executor='dask' could not reach the Dask scheduler at {address!r}: {e}. Is it running?") from e
    try:
        current = default_client()
    except ValueError:
        raise GokartError(
            "executor='dask' needs a scheduler: pass dask_client=Client(...) or dask_address='tcp://host:8786' "
            f'(or set {ADDRESS_VARIABLE}); see docs/distributed.md'
        ) from None
    return current, False


def dask_key(task: Any) -> str:
    """The Dask key of a task, ``{family}-{unique_id}``: equal for the same task in every client."""
    return f'{task.get_task_family()}-{task.make_unique_id()}'


class _DaskRun:
    """Submits the incomplete tasks of a plan as one Dask graph and follows their futures to the end."""

    def __init__(self, client: Client, plan: Plan, outcome: BuildOutcome, listener: ExecutionListener | None) -> None:
        self.client = client
        self.plan = plan
        self.outcome = outcome
        self.listener = listener
        self.futures: dict[int, Future] = {}
        self.waiting_on: dict[int, int] = {}
        self.not_run: set[int] = set()  # errored only because a requirement failed

    def run(self) -> None:
        order = self._submittable_in_order()
        if order:
            self._submit(order)
            try:
                self._follow()
            finally:
                for future in self.futures.values():
                    future.release()
        submitted = set(self.futures)
        done = submitted - set(self.outcome.failed) - self.not_run
        self.outcome.succeeded = [self.plan.tasks[i].task for i in sorted(done)]
        self.outcome.not_run = [
            i for i, n in enumerate(self.plan.tasks) if n.state is TaskState.PENDING and i not in done and i not in self.outcome.failed
        ]
        _raise_on_cycle(self.plan, self.outcome)

    def _submittable_in_order(self) -> list[int]:
        """Pending tasks whose requirements are complete or submittable, requirements first (Kahn's order).

        Tasks behind missing external data, a broken task or a cycle are left out and end as not run.
        """
        nodes = self.plan.tasks
        waiting = {
            i: sum(1 for r in n.requirements if nodes[r].state is not TaskState.COMPLETE)
            for i, n in enumerate(nodes)
            if n.state is TaskState.PENDING
        }
        ready = [i for i, count in waiting.items() if count == 0]
        order: list[int] = []
        while ready:
            index = ready.pop()
            order.append(index)
            for dependent in nodes[index].dependents:
                if dependent in waiting:
                    waiting[dependent] -= 1
                    if waiting[dependent] == 0:
                        ready.append(dependent)
        self.waiting_on = {i: sum(1 for r in nodes[i].requirements if nodes[r].state is TaskState.PENDING) for i in order}
        return order

    def _submit(self, order: list[int]) -> None:
        nodes = self.plan.tasks
        config = config_snapshot()
        for index in order:
            task = nodes[index].task
            upstream = [self.futures[r] for r in nodes[index].requirements if r in self.futures]
            self.futures[index] = self.client.submit(_run_on_worker, config, _task_payload(task), *upstream, key=dask_key(task), pure=False)
        if self.listener is not None:
            for index in order:
                if self.waiting_on[index] == 0:
                    self.listener.started(nodes[index].task)

    def _follow(self) -> None:
        from distributed import as_completed

        index_of = {future.key: index for index, future in self.futures.items()}
        for future in as_completed(list(self.futures.values()), loop=self.client.loop):
            index = index_of[future.key]
            if future.status == 'finished':
                self._finished(index, None)
            elif self._blamed_upstream(index):
                self.not_run.add(index)
            else:
                self._finished(index, _exception_of(future, self.plan.tasks[index].task))

    def _blamed_upstream(self, index: int) -> bool:
        """An errored future whose submitted requirement did not finish was never run: Dask passed the error down."""
        return any(r in self.futures and self.futures[r].status != 'finished' for r in self.plan.tasks[index].requirements)

    def _finished(self, index: int, error: BaseException | None) -> None:
        nodes = self.plan.tasks
        if self.listener is not None:
            self.listener.finished(nodes[index].task, error is None)
        if error is not None:
            self.outcome.failed[index] = error
            return
        for dependent in nodes[index].dependents:
            if dependent in self.waiting_on:
                self.waiting_on[dependent] -= 1
                if self.waiting_on[dependent] == 0 and self.listener is not None:
                    self.listener.started(nodes[dependent].task)


def _announce_dashboard(client: Client) -> None:
    """Print where the build runs and, when the scheduler serves one, the link of its dashboard."""
    try:
        info = client.scheduler_info()
    except Exception:  # the build itself will say what is wrong with the scheduler
        return
    served = 'dashboard' in info.get('services', {})
    link = f'; dashboard: {client.dashboard_link}' if served else ' (it serves no dashboard: install bokeh where it runs for one)'
    print(f'gokart: building on Dask scheduler {info.get("address", "")}{link}', file=sys.stderr)


# ----- what travels to the workers ----------------------------------------------------------------


def config_snapshot() -> tuple[str, bytes]:
    """(digest, pickled sections) of this process's luigi config, without the pickle signing key."""
    from gokart import signing

    config = luigi.configuration.get_config()
    data = getattr(config, 'data', None)
    if isinstance(data, dict):  # luigi's TOML parser
        sections = {name: dict(items) for name, items in data.items() if isinstance(items, dict)}
    else:
        sections = {name: dict(config.items(name, raw=True)) for name in config.sections()}
    sections.get(signing.CONFIG_SECTION, {}).pop(signing.CONFIG_OPTION, None)
    pickled = pickle.dumps(sections, protocol=pickle.HIGHEST_PROTOCOL)
    return hashlib.sha256(pickled).hexdigest(), pickled


_applied_config: str | None = None


def _apply_config(snapshot: tuple[str, bytes]) -> None:
    """Make a worker's luigi config the client's (once per distinct config), keeping the worker's signing key."""
    global _applied_config
    digest, pickled = snapshot
    if digest == _applied_config:
        return
    from gokart import signing

    sections: dict[str, dict[str, Any]] = pickle.loads(pickled)
    config = luigi.configuration.get_config()
    worker_key = config.get(signing.CONFIG_SECTION, signing.CONFIG_OPTION, None)
    if worker_key is not None:
        sections.setdefault(signing.CONFIG_SECTION, {})[signing.CONFIG_OPTION] = worker_key
    if isinstance(getattr(config, 'data', None), dict):  # luigi's TOML parser
        config.data = sections
    else:
        for name in config.sections():
            config.remove_section(name)
        for name, items in sections.items():
            config.add_section(name)
            for option, value in items.items():
                config.set(name, option, value)
    _applied_config = digest


@functools.cache
def _task_pickler_class() -> type[pickle.Pickler]:
    """A cloudpickle pickler that sends each task as its class and parameter values, so workers construct it again.

    Task instances carry wrapped methods that cannot be pickled; their class and parameters are all
    that defines them, and constructing them again gives the same unique id. cloudpickle sends an
    importable class by reference and one defined in ``__main__`` (a script, a notebook) by value.
    """
    import cloudpickle

    class TaskPickler(cloudpickle.Pickler):  # type: ignore[misc]
        def reducer_override(self, obj: Any) -> Any:
            if isinstance(obj, luigi.Task):
                return _rebuild_task, (type(obj), obj.param_kwargs)
            return super().reducer_override(obj)

    return TaskPickler


def _rebuild_task(task_class: type, param_kwargs: dict[str, Any]) -> Any:
    return task_class(**param_kwargs)


def _task_payload(task: Any) -> tuple[str, str, bytes]:
    """(module of the task's class, description, pickled task) for ``_run_on_worker``."""
    buffer = io.BytesIO()
    try:
        _task_pickler_class()(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(task)
    except Exception as e:
        raise GokartError(
            f'{describe_task(task)} cannot be sent to Dask workers: {type(e).__name__}: {e}. '
            f'Its class and parameter values must be picklable (see {_RECIPE})'
        ) from e
    return type(task).__module__, describe_task(task), buffer.getvalue()


class TaskFailedOnWorker(GokartError):
    """Carries a task's exception from a Dask worker; the build reports the original exception."""

    def __init__(self, payload: bytes | None, description: str) -> None:
        super().__init__(description)
        self.payload = payload
        self.description = description

    def __reduce__(self) -> Any:
        return TaskFailedOnWorker, (self.payload, self.description)

    def original(self) -> BaseException:
        if self.payload is not None:
            try:
                return pickle.loads(self.payload)  # type: ignore[no-any-return]
            except Exception:
                pass
        return GokartError(self.description)


def _run_on_worker(config: tuple[str, bytes], payload: tuple[str, str, bytes], *upstream: Any) -> None:
    """The Dask task: apply the client's config, construct the gokart task from its payload and run it; raise what it raised."""
    _apply_config(config)
    module, description, data = payload
    try:
        task = pickle.loads(data)
    except (ImportError, AttributeError) as e:
        raise TaskFailedOnWorker(
            None,
            f'Dask worker {_worker_address()} cannot import module {module!r} of {description}: {type(e).__name__}: {e}. '
            'Task classes must be importable on every worker: client.upload_file(...), the same package installed, '
            f'or a shared image (see {_RECIPE})',
        ) from None
    try:
        run_task(task)
    except Exception as e:
        try:
            pickled: bytes | None = pickle.dumps(e)
        except Exception:
            pickled = None
        raise TaskFailedOnWorker(pickled, f'{type(e).__name__}: {e}\n{traceback.format_exc()}') from None


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except Exception:
        return '(unknown)'


def _exception_of(future: Future, task: Any) -> BaseException:
    try:
        error = future.exception()
    except Exception as e:  # cancelled: the scheduler or the client went away
        return GokartError(f'the Dask task of {describe_task(task)} did not finish: {type(e).__name__}: {e}')
    if isinstance(error, TaskFailedOnWorker):
        return error.original()
    if type(error).__name__ == 'KilledWorker':
        return GokartError(
            f'{describe_task(task)}: every Dask worker that ran it died (killed, out of memory or crashed); '
            f"the scheduler's distributed.scheduler.allowed-failures limit was reached: {error}"
        )
    if error is None:
        return GokartError(f'the Dask task of {describe_task(task)} ended as {future.status!r}')
    return error


__all__ = ['ADDRESS_VARIABLE', 'TaskFailedOnWorker', 'connect', 'dask_key', 'execute_on_dask']
