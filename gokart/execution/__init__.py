"""Planning a DAG and running it: our local executor, Dask, the completion check, progress, run arguments.

Layer execution (docs/design.md): may import 1.12's task layer, records, storage, run_locks, ids, core; imported by 1.12's worker, build, run and commands.
"""

from gokart.execution.local import execute
from gokart.execution.plan import Plan, TaskState, make_plan
from gokart.execution.scheduling import BuildOutcome, ExecutionListener

__all__ = ['BuildOutcome', 'ExecutionListener', 'Plan', 'TaskState', 'execute', 'make_plan']
