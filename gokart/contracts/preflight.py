"""The contract check for paths that do not plan through ``execution.plan``: luigi's worker (``gokart.run``, ``executor='luigi'``).

luigi walks the DAG itself, one task at a time while it runs them; to find a broken contract before
the first ``run()``, the DAG is walked here first, as a dry run: outputs that exist (one listing per
directory and level) end the walk there, as they end a build's, and ``complete()`` is not called
(with ``rerun=True`` it would delete outputs). Only when some task of the process declares a schema.
"""

from __future__ import annotations

from typing import Any

from gokart.contracts.dag_check import ContractCheck, check_contracts
from gokart.contracts.declarations import possibly_declared
from gokart.core import dag
from gokart.storage import filesystem as storage
from gokart.target import TargetOnKart
from gokart.utils import flatten


def check_before_run(roots: list[Any]) -> None:
    """Raise ``SchemaContractError`` when the declared contracts of the DAG under ``roots`` are broken."""
    if not possibly_declared():
        return
    contracts_of_dag(roots).raise_if_broken()


def contracts_of_dag(roots: list[Any]) -> ContractCheck:
    """Walk the DAG under ``roots`` as a dry run and check its contracts (``dag_check.check_contracts``)."""
    cached: dict[Any, bool] = {}
    order: list[Any] = []
    with dag.planning():
        level = list(roots)
        for task in level:
            cached.setdefault(task, False)
        while level:
            answers = storage.exists_many(_output_paths(level))
            following = []
            with storage.known_existence(answers):
                for task in level:
                    order.append(task)
                    cached[task] = _outputs_exist(task)
                    if cached[task]:
                        continue
                    try:
                        requirements = dag.requirements(task)
                    except Exception:
                        continue  # the build reports a requires() that fails, where it belongs
                    for requirement in requirements:
                        if requirement not in cached:
                            cached[requirement] = False
                            following.append(requirement)
            level = following
        return check_contracts(order, cached.get)


def _outputs_exist(task: Any) -> bool:
    if getattr(task, 'rerun', False):
        return False
    try:
        outputs = flatten(task.output())
        return bool(outputs) and all(t.exists() for t in outputs)
    except Exception:
        return False


def _output_paths(tasks: list[Any]) -> list[str]:
    paths: list[str] = []
    for task in tasks:
        try:
            paths.extend(t.path() for t in flatten(task.output()) if isinstance(t, TargetOnKart))
        except Exception:
            continue
    return paths


__all__ = ['check_before_run', 'contracts_of_dag']
