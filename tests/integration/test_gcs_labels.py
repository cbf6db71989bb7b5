"""Labels on gs:// outputs, written through gcsfs to a GCS emulator, are the metadata gokart 1.12.2 computes.

tests/compat/test_gcs_metadata_reference.py checks the label rule against 1.12.2 itself; this
checks that a build writes that rule's result to the object: the task's parameters, custom labels
(which win over a parameter of the same name, with 1.12's warning) and the required outputs.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import luigi
import pytest

import gokart
from gokart.gcs_obj_metadata_client import GCSObjectMetadataClient
from gokart.required_task_output import RequiredTaskOutput
from gokart.storage import filesystem as storage


class LabelUpstream(gokart.TaskOnKart[int]):
    def run(self) -> None:
        self.dump(1)


class LabelDownstream(gokart.TaskOnKart[int]):
    n = luigi.IntParameter(default=3)
    note = luigi.Parameter(default='')

    def requires(self) -> Any:
        return {'up': LabelUpstream(workspace_directory=self.workspace_directory)}

    def run(self) -> None:
        self.dump(2, custom_labels={'team': 'ml', 'n': 'custom'})


def metadata_of(path: str) -> dict[str, str]:
    fs, fs_path = storage.filesystem(path)
    fs.invalidate_cache()
    return dict(fs.info(fs_path).get('metadata') or {})


def test_a_build_labels_its_gs_outputs_as_1_12_does(gcs_bucket: str, caplog: pytest.LogCaptureFixture) -> None:
    task = LabelDownstream(workspace_directory=f'gs://{gcs_bucket}/labels')
    with caplog.at_level(logging.WARNING, logger='gokart.gcs_obj_metadata_client'):
        assert gokart.build(task, reset_register=False) == 2
    upstream_path = task.requires()['up'].output().path()
    expected = GCSObjectMetadataClient._get_patched_obj_metadata(
        {},
        task.to_str_params(only_significant=True, only_public=True),
        {'team': 'ml', 'n': 'custom'},
        {'up': RequiredTaskOutput(task_name='LabelUpstream', output_path=upstream_path)},
    )
    assert metadata_of(task.output().path()) == expected
    labels = metadata_of(task.output().path())
    assert labels['n'] == 'custom' and labels['team'] == 'ml' and 'note' not in labels  # empty parameter skipped
    assert json.loads(labels['__required_task_outputs']) == {
        'up': {'__gokart_task_name': 'LabelUpstream', '__gokart_output_path': upstream_path}
    }
    assert 'label_name=n is already seen. So skip to add as metadata.' in caplog.messages
    assert 'value of label_name=note is empty. So skip to add as a metadata.' in caplog.messages
    assert metadata_of(upstream_path) == {}  # no parameters, no labels, nothing required
    record = f'gs://{gcs_bucket}/labels/log/task_log/LabelDownstream_{task.make_unique_id()}.pkl'
    assert storage.exists(record) and metadata_of(record) == {}  # log records get no labels
