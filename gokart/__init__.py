"""gokart: reproducible machine-learning pipelines on luigi.

A drop-in replacement for gokart 1.12: same API, same unique ids and output file names.
"""

# Submodules that gokart 1.12 left as attributes of the package after ``import gokart``: code reaches
# them as ``gokart.worker`` etc. without importing them. Each imports in about a millisecond.
from gokart import (  # noqa: F401
    gcs_config,
    gcs_obj_metadata_client,
    object_storage,
    required_task_output,
    slack,
    task_complete_check,
    worker,
    zip_client,
    zip_client_util,
)
from gokart.build import WorkerSchedulerFactory, build
from gokart.commands.report import report
from gokart.contracts import Schema
from gokart.info import make_tree_info, tree_info
from gokart.notebook.plan import plan
from gokart.pandas_type_config import PandasTypeConfig
from gokart.parameter import (
    ExplicitBoolParameter,
    ListTaskInstanceParameter,
    SerializableParameter,
    TaskInstanceParameter,
    ZonedDateSecondParameter,
)
from gokart.run import run
from gokart.runs import diff, lineage, load_run  # and gokart.runs itself, callable (docs/runs.md)
from gokart.task import TaskOnKart
from gokart.testing import test_run
from gokart.tree.task_info import make_task_info_as_tree_str
from gokart.utils import add_config
from gokart.workspace_management import delete_local_unnecessary_outputs

__all__ = [
    'ExplicitBoolParameter',
    'ListTaskInstanceParameter',
    'PandasTypeConfig',
    'Schema',
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
    'plan',
    'report',
    'run',
    'runs',
    'diff',
    'lineage',
    'load_run',
    'test_run',
    'tree_info',
]
