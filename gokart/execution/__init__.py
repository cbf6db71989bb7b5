"""Planning a DAG and running it: our own local executor, and luigi's scheduler for the luigi path."""

from gokart.execution.local import BuildOutcome, ExecutionListener, execute
from gokart.execution.plan import Plan, TaskState, make_plan

__all__ = ['BuildOutcome', 'ExecutionListener', 'Plan', 'TaskState', 'execute', 'make_plan']
