"""Run GCS object-metadata cases through the gokart this interpreter imports; used by test_gcs_metadata_reference.py.

Reads JSON cases on stdin and writes one JSON result per case on stdout: the patched metadata (or
the exception type) and the warnings logged by ``gokart.gcs_obj_metadata_client``. The same file
runs under gokart 1.12.2's interpreter and ours, so both see identical inputs. A required output is
written ``{"__required__": [task_name, output_path]}`` in the JSON and rebuilt here.
"""

import json
import logging
import sys

from gokart.gcs_obj_metadata_client import GCSObjectMetadataClient
from gokart.required_task_output import RequiredTaskOutput


class _Recorder(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append([record.levelname, record.getMessage()])


def _rebuild(value):
    if isinstance(value, dict):
        if set(value) == {'__required__'}:
            return RequiredTaskOutput(task_name=value['__required__'][0], output_path=value['__required__'][1])
        return {key: _rebuild(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rebuild(item) for item in value]
    return value


def _call(function, *args):
    try:
        return {'value': function(*args)}
    except Exception as error:
        return {'error': type(error).__name__}


def run_case(case):
    if case['kind'] == 'patch':
        return _call(
            GCSObjectMetadataClient._get_patched_obj_metadata,
            case['metadata'],
            case['task_params'],
            case['custom_labels'],
            _rebuild(case['required_task_outputs']),
        )
    if case['kind'] == 'log_path':
        return _call(GCSObjectMetadataClient._is_log_related_path, case['path'])
    if case['kind'] == 'bucket_and_key':
        return _call(lambda path: list(GCSObjectMetadataClient._path_to_bucket_and_key(path)), case['path'])
    raise ValueError(case['kind'])


def main():
    recorder = _Recorder()
    logger = logging.getLogger('gokart.gcs_obj_metadata_client')
    logger.addHandler(recorder)
    logger.setLevel(logging.DEBUG)
    results = []
    for case in json.load(sys.stdin):
        recorder.records = []
        result = run_case(case)
        result['logs'] = recorder.records
        results.append(result)
    json.dump(results, sys.stdout)


if __name__ == '__main__':
    main()
