"""Run a planned DAG on a Dask distributed cluster: ``gokart.build(task, executor='dask', ...)``.

The DAG is planned here, as for the local executor; its incomplete tasks are then cut into groups
(``dask_groups``: chains fused, cheap siblings batched, ``[gokart] dask_batch``), each one Dask
task whose dependencies are the futures of the groups it waits for. On the worker a group's tasks
run in order as on the local executor (see ``dask_worker``) and it returns only each task's status:
values travel through the workspace, never through Dask's memory. Equal keys make two clients of
one scheduler share a group, and run locks make each task run once anyway. A task that raises
stops only the tasks that need it, in its group and in later ones; independent tasks go on. A
worker that dies mid-group is Dask's to handle: the scheduler runs the group again elsewhere (up
to its ``allowed-failures``), where the tasks the dead worker finished are complete and skipped.

``distributed`` is imported only when a Dask build starts, so ``import gokart`` stays light.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from gokart.core import dag, settings
from gokart.core.error_messages import describe_task
from gokart.core.task_protocol import KartTask
from gokart.errors import GokartError
from gokart.execution.dask_groups import Group, batch_setting, make_groups
from gokart.execution.dask_worker import (
    NOT_RUN,
    MemberStatus,
    TaskFailedOnWorker,
    config_snapshot,
    config_value,
    group_payload,
    restore_status,
    run_group,
)
from gokart.execution.local import fewer_garbage_collections, plan_roots
from gokart.execution.plan import Plan
from gokart.execution.scheduling import BuildOutcome, ExecutionListener, ReadySet
from gokart.storage import signing

if TYPE_CHECKING:
    from distributed import Client, Future

ADDRESS_VARIABLE = settings.setting('dask_address').environment_variable


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
        with fewer_garbage_collections(), signing.key_pinned(), dag.planning():
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
    address = address or settings.value('dask_address') or None
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
    """Submits the incomplete tasks of a plan as one Dask graph of groups and follows their futures to the end."""

    def __init__(self, client: Client, plan: Plan, outcome: BuildOutcome, listener: ExecutionListener | None) -> None:
        self.client = client
        self.plan = plan
        self.outcome = outcome
        self.tasks = ReadySet(plan, outcome, listener)  # the scheduling core: events, results, what did not run
        self.groups: list[Group] = []
        self.futures: dict[int, Future] = {}  # by group
        self.waiting_on: dict[int, int] = {}  # group -> upstream groups not finished
        self.dependents: dict[int, list[int]] = {}
        self.config: Future | None = None

    def run(self) -> None:
        order = self.tasks.order()  # Dask gets the whole graph at once: requirements first
        if order:
            self.groups = make_groups(self.plan, order, _worker_threads(self.client), batch_setting(), dask_key)
            self._submit()
            try:
                self._follow()
            finally:
                for future in self.futures.values():
                    future.release()
                if self.config is not None:
                    self.config.release()
        succeeded = self.tasks.finished - self.outcome.failed.keys()
        self.outcome.succeeded = [self.plan.tasks[i].task for i in sorted(succeeded)]  # in the plan's order
        self.tasks.settle()

    def _submit(self) -> None:
        nodes = self.plan.tasks
        snapshot = config_snapshot()
        config = self.config = self.client.submit(config_value, snapshot, key=f'gokart-config-{snapshot[0]}', pure=False)
        position: dict[int, tuple[int, int]] = {}  # task -> (group, position in it)
        for g, group in enumerate(self.groups):
            for p, index in enumerate(group.members):
                position[index] = (g, p)
        for g, group in enumerate(self.groups):
            argument = {u: a for a, u in enumerate(group.upstream)}
            inside: list[list[int]] = []
            outside: list[list[tuple[int, int]]] = []
            for index in group.members:
                here: list[int] = []
                there: list[tuple[int, int]] = []
                for r in nodes[index].requirements:
                    if r in position:
                        rg, rp = position[r]
                        if rg == g:
                            here.append(rp)
                        else:
                            there.append((argument[rg], rp))
                inside.append(here)
                outside.append(there)
            payload = group_payload([nodes[i].task for i in group.members], inside, outside)
            upstream = [self.futures[u] for u in group.upstream]
            self.futures[g] = self.client.submit(run_group, config, payload, *upstream, key=group.key, pure=False)
            self.waiting_on[g] = len(group.upstream)
            for u in group.upstream:
                self.dependents.setdefault(u, []).append(g)
        for g in range(len(self.groups)):
            if self.waiting_on[g] == 0:
                self._started(g)

    def _started(self, g: int) -> None:
        self.tasks.start(self.groups[g].members)

    def _follow(self) -> None:
        from distributed import as_completed

        group_of = {future.key: g for g, future in self.futures.items()}
        for future in as_completed(list(self.futures.values()), loop=self.client.loop):
            g = group_of[future.key]
            members = self.groups[g].members
            statuses: list[MemberStatus | BaseException]
            if future.status == 'finished':
                statuses = future.result()
            elif any(self.futures[u].status != 'finished' for u in self.groups[g].upstream):
                statuses = [NOT_RUN] * len(members)  # never ran: Dask passed an upstream group's error down
            else:
                error = _exception_of(future, self.plan.tasks[members[0]].task, len(members))
                statuses = [error] * len(members)
            self._finished(g, statuses)

    def _finished(self, g: int, statuses: list[MemberStatus | BaseException]) -> None:
        for index, status in zip(self.groups[g].members, statuses, strict=True):
            if status == NOT_RUN:
                self.tasks.put_aside(index)  # no longer running, and neither done nor failed
                continue
            error = None if status is None else status if isinstance(status, BaseException) else restore_status(status)
            self.tasks.finish(index, error, release=False)  # Dask releases the dependents: groups, below
        for dependent in self.dependents.get(g, []):
            self.waiting_on[dependent] -= 1
            if self.waiting_on[dependent] == 0:
                self._started(dependent)


def _worker_threads(client: Client) -> int:
    """How many tasks the cluster runs at once (its workers' threads); 1 when the scheduler does not say."""
    try:
        workers = client.scheduler_info().get('workers', {})
    except Exception:
        return 1
    return max(1, sum(int(w.get('nthreads', 1)) for w in workers.values()))


def _announce_dashboard(client: Client) -> None:
    """Print where the build runs and, when the scheduler serves one, the link of its dashboard."""
    try:
        info = client.scheduler_info()
    except Exception:  # the build itself will say what is wrong with the scheduler
        return
    served = 'dashboard' in info.get('services', {})
    link = f'; dashboard: {client.dashboard_link}' if served else ' (it serves no dashboard: install bokeh where it runs for one)'
    print(f'gokart: building on Dask scheduler {info.get("address", "")}{link}', file=sys.stderr)


def _exception_of(future: Future, task: Any, members: int) -> BaseException:
    """The error of a group's Dask task that did not return (its worker died, it was cancelled), named after its first task."""
    what = describe_task(task) + (f' and {members - 1} more task(s) of its Dask group {future.key!r}' if members > 1 else '')
    try:
        error = future.exception()
    except Exception as e:  # cancelled: the scheduler or the client went away
        return GokartError(f'the Dask task of {what} did not finish: {type(e).__name__}: {e}')
    if isinstance(error, TaskFailedOnWorker):
        return error.original()
    if type(error).__name__ == 'KilledWorker':
        return GokartError(
            f'{what}: every Dask worker that ran it died (killed, out of memory or crashed); '
            f"the scheduler's distributed.scheduler.allowed-failures limit was reached: {error}"
        )
    if error is None:
        return GokartError(f'the Dask task of {what} ended as {future.status!r}')
    return error


__all__ = ['ADDRESS_VARIABLE', 'connect', 'dask_key', 'execute_on_dask']
