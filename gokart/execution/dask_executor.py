"""Run a planned DAG on a Dask distributed cluster: ``gokart.build(task, executor='dask', ...)``.

The DAG is planned here, as for the local executor; each incomplete task then becomes one Dask
task keyed ``{family}-{unique_id}`` whose dependencies are the futures of its incomplete
requirements. On the worker it runs as on the local executor (see ``dask_worker``) and returns
``None``: values travel through the workspace, never through Dask's memory. Equal keys make two
clients of one scheduler share a task, so it runs once. A task that raises fails its Dask task;
Dask then runs no dependent of it, while independent branches go on. A worker that dies mid-task
is Dask's to handle: the scheduler runs the task again elsewhere, up to its ``allowed-failures``.

``distributed`` is imported only when a Dask build starts, so ``import gokart`` stays light.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from gokart.core.error_messages import describe_task
from gokart.core.task_protocol import KartTask
from gokart.errors import GokartError
from gokart.execution.dask_worker import TaskFailedOnWorker, config_snapshot, config_value, run_on_worker, task_payload
from gokart.execution.local import BuildOutcome, ExecutionListener, fewer_garbage_collections, plan_roots, raise_on_cycle
from gokart.execution.plan import Plan, TaskState
from gokart.storage import signing

if TYPE_CHECKING:
    from distributed import Client, Future

ADDRESS_VARIABLE = 'GOKART_DASK_ADDRESS'


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
        with fewer_garbage_collections(), signing.key_pinned():
            plan = plan_roots(roots)
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


def dask_key(task: KartTask) -> str:
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
        self.config: Future | None = None

    def run(self) -> None:
        order = self._submittable_in_order()
        if order:
            self._submit(order)
            try:
                self._follow()
            finally:
                for future in self.futures.values():
                    future.release()
                if self.config is not None:
                    self.config.release()
        submitted = set(self.futures)
        done = submitted - set(self.outcome.failed) - self.not_run
        self.outcome.succeeded = [self.plan.tasks[i].task for i in sorted(done)]
        self.outcome.not_run = [
            i for i, n in enumerate(self.plan.tasks) if n.state is TaskState.PENDING and i not in done and i not in self.outcome.failed
        ]
        raise_on_cycle(self.plan, self.outcome)

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
        snapshot = config_snapshot()
        config = self.config = self.client.submit(config_value, snapshot, key=f'gokart-config-{snapshot[0]}', pure=False)
        for index in order:
            task = nodes[index].task
            upstream = [self.futures[r] for r in nodes[index].requirements if r in self.futures]
            self.futures[index] = self.client.submit(run_on_worker, config, task_payload(task), *upstream, key=dask_key(task), pure=False)
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


__all__ = ['ADDRESS_VARIABLE', 'connect', 'dask_key', 'execute_on_dask']
