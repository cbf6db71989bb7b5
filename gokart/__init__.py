"""gokart: reproducible machine-learning pipelines on luigi.

A drop-in replacement for gokart 1.12: same API, same unique ids and output file names.
"""

from gokart.build import WorkerSchedulerFactory, build
from gokart.info import make_tree_info, tree_info
from gokart.pandas_type_config import PandasTypeConfig
from gokart.parameter import (
    ExplicitBoolParameter,
    ListTaskInstanceParameter,
    SerializableParameter,
    TaskInstanceParameter,
    ZonedDateSecondParameter,
)
from gokart.report import report
from gokart.run import run
from gokart.task import TaskOnKart
from gokart.testing import test_run
from gokart.tree.task_info import make_task_info_as_tree_str
from gokart.utils import add_config
from gokart.workspace_management import delete_local_unnecessary_outputs

__all__ = [
    'ExplicitBoolParameter',
    'ListTaskInstanceParameter',
    'PandasTypeConfig',
    'SerializableParameter',
    'TaskInstanceParameter',
    'TaskOnKart',
    'WorkerSchedulerFactory',
    'ZonedDateSecondParameter',
    'add_config',
    'build',
    'delete_local_unnecessary_outputs',
    'make_task_info_as_tree_str',
    'make_tree_info',
    'report',
    'run',
    'test_run',
    'tree_info',
]
