"""Every import path and name that gokart 1.12 users rely on (SPEC.md section 2) exists here too."""

import importlib

import pytest

import gokart

INVENTORY = {
    'gokart.errors': ['GokartBuildError', 'HasLockedTaskException', 'PandasTypeError', 'EmptyDumpError'],
    'gokart.build': [
        'build',
        'GokartBuildError',
        'HasLockedTaskException',
        'WorkerSchedulerFactory',
        'TaskDumpConfig',
        'TaskDumpMode',
        'TaskDumpOutputType',
        'process_task_info',
        'LoggerConfig',
    ],
    'gokart.task': ['TaskOnKart', 'EmptyDumpError'],
    'gokart.target': ['TargetOnKart', 'SingleFileTarget', 'ModelTarget', 'LargeDataFrameProcessor', 'make_target', 'make_model_target'],
    'gokart.file_processor': [
        'FileProcessor',
        'DataFrameType',
        'BinaryFileProcessor',
        'PickleFileProcessor',
        'TextFileProcessor',
        'GzipFileProcessor',
        'XmlFileProcessor',
        'NpzFileProcessor',
        'CsvFileProcessor',
        'JsonFileProcessor',
        'ParquetFileProcessor',
        'FeatherFileProcessor',
        'make_file_processor',
    ],
    'gokart.parameter': [
        'TaskInstanceParameter',
        'ListTaskInstanceParameter',
        'ExplicitBoolParameter',
        'SerializableParameter',
        'ZonedDateSecondParameter',
        'Serializable',
    ],
    'gokart.config_params': ['inherits_config_params'],
    'gokart.utils': [
        'add_config',
        'flatten',
        'map_flattenable_items',
        'FlattenableItems',
        'get_dataframe_type_from_task',
        'load_dill_with_pandas_backward_compatibility',
    ],
    'gokart.tree.task_info': ['make_task_info_as_tree_str', 'make_task_info_as_table', 'dump_task_info_table', 'dump_task_info_tree'],
    'gokart.tree.task_info_formatter': ['TaskInfo', 'RequiredTask', 'make_task_info_tree', 'make_tree_info', 'make_tree_info_table_list'],
    'gokart.info': ['make_tree_info', 'tree_info'],
    'gokart.testing': ['test_run', 'try_to_run_test_for_empty_data_frame', 'assert_frame_contents_equal'],
    'gokart.pandas_type_config': ['PandasTypeConfig', 'PandasTypeConfigMap', 'PandasTypeError'],
    'gokart.workspace_management': ['delete_local_unnecessary_outputs'],
    'gokart.conflict_prevention_lock.task_lock': [
        'TaskLockParams',
        'TaskLockException',
        'RedisClient',
        'make_task_lock_key',
        'make_task_lock_params',
        'make_task_lock_params_for_run',
        'set_task_lock',
        'set_lock_scheduler',
    ],
    'gokart.conflict_prevention_lock.task_lock_wrappers': [
        'wrap_dump_with_lock',
        'wrap_load_with_lock',
        'wrap_remove_with_lock',
        'wrap_run_with_lock',
    ],
    'gokart.in_memory': ['InMemoryCacheRepository', 'InMemoryTarget', 'make_in_memory_target'],
    'gokart.slack': [
        'SlackConfig',
        'SlackAPI',
        'EventAggregator',
        'ChannelListNotLoadedError',
        'ChannelNotFoundError',
        'FileNotUploadedError',
    ],
    'gokart.s3_config': ['S3Config'],
    'gokart.gcs_config': ['GCSConfig'],
    'gokart.object_storage': ['ObjectStorage'],
    'gokart.zip_client': ['ZipClient', 'LocalZipClient'],
    'gokart.s3_zip_client': ['S3ZipClient'],
    'gokart.gcs_zip_client': ['GCSZipClient'],
    'gokart.gcs_obj_metadata_client': ['GCSObjectMetadataClient'],
    'gokart.worker': ['Worker', 'gokart_worker', 'TaskProcess'],
    'gokart.mypy': ['plugin'],
    'gokart.required_task_output': ['RequiredTaskOutput'],
}


@pytest.mark.parametrize('module_name', sorted(INVENTORY))
def test_module_path_holds_its_names(module_name):
    module = importlib.import_module(module_name)
    missing = [name for name in INVENTORY[module_name] if not hasattr(module, name)]
    assert missing == []


def test_top_level_names_of_gokart_1_12_are_exported():
    expected = {
        'TaskOnKart',
        'build',
        'run',
        'WorkerSchedulerFactory',
        'TaskInstanceParameter',
        'ListTaskInstanceParameter',
        'ExplicitBoolParameter',
        'SerializableParameter',
        'ZonedDateSecondParameter',
        'PandasTypeConfig',
        'add_config',
        'delete_local_unnecessary_outputs',
        'make_task_info_as_tree_str',
        'make_tree_info',
        'tree_info',
        'test_run',
    }
    assert expected <= set(gokart.__all__)
    assert all(callable(getattr(gokart, name)) for name in expected)


def test_required_task_output_serializes_as_gokart_does():
    from gokart.required_task_output import RequiredTaskOutput

    assert RequiredTaskOutput('T', 'p').serialize() == {'__gokart_task_name': 'T', '__gokart_output_path': 'p'}


def test_names_of_ours_beside_1_12s_are_exported():
    """Ours, not gokart 1.12's: frame contracts (docs/contracts.md), plan, report and the runs index."""
    assert {'Schema', 'plan', 'report', 'runs', 'diff', 'lineage', 'load_run'} <= set(gokart.__all__)
    assert gokart.Schema(a='int64', b=None)['a'] == 'int64'
