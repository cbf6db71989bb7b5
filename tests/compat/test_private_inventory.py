"""gokart 1.12.2's private surface that users' tests and tools touch resolves here, or is declined in docs/design.md.

The inventory (gokart_1_12_2_names.json, sections ``private_module_names``, ``class_attributes``
and ``instance_attributes``) is generated from the installed 1.12.2 by make_inventory.py. Every
name must exist at the same place here unless docs/design.md's section "gokart 1.12.2 private
names not provided" declines it with a reason, so a name that goes missing fails this test. The
names that do exist are checked to behave as in 1.12 (results measured on the reference).
"""

from __future__ import annotations

import importlib
import io
import json
import os
import pickle
import re
import sys
from typing import Any

import luigi
import pytest
from make_inventory import sample_instances
from reference_python import REPOSITORY

import gokart
from gokart.file_processor.base import _ChunkedLargeFileReader
from gokart.in_memory.repository import InMemoryCacheRepository
from gokart.slack import EventAggregator
from gokart.tree.task_info_formatter import RequiredTask, _make_requires_info

INVENTORY_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'gokart_1_12_2_names.json')
with open(INVENTORY_PATH) as _file:
    INVENTORY: dict[str, Any] = json.load(_file)
DESIGN = os.path.join(REPOSITORY, 'docs', 'design.md')
SECTION_TITLE = '## gokart 1.12.2 private names not provided'


def declined_names() -> set[str]:
    """The backticked names of the bullets of docs/design.md's section on declined private names."""
    with open(DESIGN) as file:
        text = file.read()
    assert SECTION_TITLE in text, f'docs/design.md lacks the section {SECTION_TITLE!r}'
    section = text.split(SECTION_TITLE, 1)[1].split('\n## ', 1)[0]
    bullets = [line for line in section.splitlines() if line.startswith('- ')]
    return {name for line in bullets for name in re.findall(r'`([^`]+)`', line.split(':', 1)[0])}


DECLINED = declined_names()


def _declined(name: str, cls: type | None = None) -> bool:
    # A TaskOnKart attribute declined once is declined for the subclasses 1.12 ships (tree_info, test_run).
    if name in DECLINED:
        return True
    attribute = name.rsplit('.', 1)[-1]
    return cls is not None and issubclass(cls, gokart.TaskOnKart) and f'gokart.task.TaskOnKart.{attribute}' in DECLINED


def test_module_level_private_names_resolve() -> None:
    missing = [
        f'{module_name}.{name}'
        for module_name, names in INVENTORY['private_module_names'].items()
        for name in names
        if not hasattr(importlib.import_module(module_name), name) and not _declined(f'{module_name}.{name}')
    ]
    assert not missing, f'missing and not declined in docs/design.md: {missing}'


def test_class_attributes_resolve() -> None:
    missing = []
    for qualified, names in INVENTORY['class_attributes'].items():
        module_name, class_name = qualified.rsplit('.', 1)
        cls = getattr(importlib.import_module(module_name), class_name)
        missing += [f'{qualified}.{name}' for name in names if not hasattr(cls, name) and not _declined(f'{qualified}.{name}', cls)]
    assert not missing, f'missing and not declined in docs/design.md: {missing}'


def test_instance_attributes_resolve(tmp_path: Any) -> None:
    instances = sample_instances(str(tmp_path))
    assert set(instances) == set(INVENTORY['instance_attributes'])
    missing = [
        f'{kind}.{name}'
        for kind, names in INVENTORY['instance_attributes'].items()
        for name in names
        if not hasattr(instances[kind], name) and not _declined(f'{kind}.{name}')
    ]
    assert not missing, f'missing and not declined in docs/design.md: {missing}'


def test_every_declined_name_is_one_of_1_12s() -> None:
    # A stale entry would hide a regression of a name that exists again.
    known = {f'{module}.{name}' for module, names in INVENTORY['private_module_names'].items() for name in names}
    known |= {f'{cls}.{name}' for cls, names in INVENTORY['class_attributes'].items() for name in names}
    known |= {f'{kind}.{name}' for kind, names in INVENTORY['instance_attributes'].items() for name in names}
    assert DECLINED <= known, sorted(DECLINED - known)


def test_chunked_large_file_reader_reads_as_the_file_does() -> None:
    reader = _ChunkedLargeFileReader(io.BytesIO(b'abcdefghij'))
    assert (reader.read(3), reader.read(-1), reader.read(5)) == (b'abc', b'defghij', b'')
    lines = _ChunkedLargeFileReader(io.BytesIO(b'ab\ncd\n'))
    assert (lines.readline(), lines.read(100), lines.seekable()) == (b'ab\n', b'cd\n', True)
    assert lines.seek(0) is None and lines.read(2) == b'ab'
    assert pickle.load(_ChunkedLargeFileReader(io.BytesIO(pickle.dumps({'a': [1, 2]})))) == {'a': [1, 2]}


def test_chunked_large_file_reader_splits_large_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes: list[int] = []

    class Recording(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            sizes.append(-1 if size is None else size)
            return super().read(size)

    monkeypatch.setattr(_ChunkedLargeFileReader, '_CHUNK_BYTES', 4)
    assert _ChunkedLargeFileReader(Recording(b'0123456789')).read(10) == b'0123456789'
    assert sizes == [4, 4, 2]


class InventoryLeaf(gokart.TaskOnKart[int]):
    p = luigi.IntParameter(default=1)


def test_make_requires_info_keeps_the_shape_of_requires() -> None:
    one, two = InventoryLeaf(), InventoryLeaf(p=2)
    info = lambda task: RequiredTask(name='InventoryLeaf', unique_id=task.make_unique_id())  # noqa: E731
    assert _make_requires_info([]) == [] and _make_requires_info({}) == {}
    assert _make_requires_info(one) == info(one)
    assert _make_requires_info([one, {'k': two}]) == [info(one), {'k': info(two)}]
    assert _make_requires_info((one, two)) == [info(one), info(two)]  # a tuple becomes a list, as in 1.12
    assert _make_requires_info({'k': two, 'l': [one]}) == {'k': info(two), 'l': [info(one)]}
    with pytest.raises(TypeError, match='unexpected type'):
        _make_requires_info(1)


def test_add_configuration_fills_parameters_from_a_config_section() -> None:
    config = luigi.configuration.get_config()
    config.set('InventoryLeaf', 'p', '7')
    config.set('InventoryOther', 'q', '8')
    kwargs: dict[str, Any] = {'a': 1}
    InventoryLeaf._add_configuration(kwargs, 'InventoryLeaf')
    assert kwargs == {'a': 1, 'p': 7}  # parsed by the parameter
    untouched: dict[str, Any] = {'p': 1}
    InventoryLeaf._add_configuration(untouched, 'InventoryLeaf')
    InventoryLeaf._add_configuration(untouched, 'InventoryOther')
    InventoryLeaf._add_configuration(untouched, 'NoSuchSection')
    assert untouched == {'p': 1}


def test_in_memory_repository_get_gen_yields_keys_and_values() -> None:
    repository = InMemoryCacheRepository()
    repository.clear()
    repository.set_value('k1', 1)
    repository.set_value('k2', {'a': 2})
    assert list(repository.get_gen()) == [('k1', 1), ('k2', {'a': 2})]
    assert list(InMemoryCacheRepository().get_gen()) == [('k1', 1), ('k2', {'a': 2})]  # one cache per process
    repository.clear()


def test_try_set_seed_seeds_what_exists_and_the_random_seed_is_1_12s() -> None:
    import random

    assert gokart.TaskOnKart.try_set_seed(['random.seed', 'no_such_module.seed', 'random.no_such'], 5) == ['random.seed']
    drawn = random.random()
    random.seed(5)
    assert drawn == random.random()
    assert InventoryLeaf()._get_random_seed() == int(InventoryLeaf().make_unique_id(), 16) % (2**32 - 1)


class InventoryRun(gokart.TaskOnKart[int]):
    def run(self) -> None:
        self.dump(1)


def test_run_wraps_the_users_run() -> None:
    task = InventoryRun()
    assert task.run.__wrapped__.__func__ is InventoryRun.run


class RecordingSlack:
    def __init__(self) -> None:
        self.calls: list[dict[str, str]] = []

    def send_snippet(self, **kwargs: str) -> None:
        self.calls.append(kwargs)


def test_try_to_send_event_summary_to_slack_posts_the_run_report() -> None:
    run_module = sys.modules['gokart.run']
    aggregator = EventAggregator()
    aggregator._success(InventoryLeaf())
    aggregator._failure(InventoryLeaf(p=4), ValueError('boom'))
    slack = RecordingSlack()
    run_module._try_to_send_event_summary_to_slack(slack, aggregator, ['InventoryLeaf', '--local-scheduler'])
    assert run_module._try_to_send_event_summary_to_slack(None, aggregator, ['InventoryLeaf']) is None
    [call] = slack.calls
    assert call['comment'] == 'Report of InventoryLeaf\nSuccess: 1; Failure: 1'  # 1.12's comment
    assert call['title'] == 'event.txt'
    assert f'Task: InventoryLeaf:[{InventoryLeaf(p=4).make_unique_id()}]; Exception: boom' in call['content']
    assert call['content'].endswith('==== Tree Info ====\nPlease add SlackConfig.send_tree_info to include tree-info')
    assert EventAggregator._task_to_str(InventoryLeaf()) == f'InventoryLeaf:[{InventoryLeaf().make_unique_id()}]'


def test_slack_api_is_none_without_slack_config() -> None:
    assert sys.modules['gokart.run']._try_get_slack_api(['InventoryLeaf', '--local-scheduler']) is None
