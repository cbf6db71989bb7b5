"""Configuration: [TaskOnKart] defaults, per-task sections, add_config, inherits_config_params."""

import luigi
import pytest

import gokart
from gokart.config_params import inherits_config_params


class Configurable(gokart.TaskOnKart):
    value = luigi.Parameter(default='default')


def test_task_section_sets_parameters():
    config = luigi.configuration.get_config()
    config.add_section('Configurable')
    config.set('Configurable', 'value', 'configured')
    assert Configurable().value == 'configured'
    assert Configurable(value='explicit').value == 'explicit'


def test_task_on_kart_section_sets_built_in_parameters_for_every_task():
    config = luigi.configuration.get_config()
    config.add_section('TaskOnKart')
    config.set('TaskOnKart', 'workspace_directory', './from_config/')
    assert Configurable().workspace_directory == './from_config/'
    assert Configurable(workspace_directory='./explicit/').workspace_directory == './explicit/'


def test_add_config_reads_a_file_and_rejects_a_missing_one(tmp_path):
    path = tmp_path / 'extra.cfg'
    path.write_text('[Configurable]\nvalue=from-file\n')
    gokart.add_config(str(path))
    assert Configurable().value == 'from-file'
    with pytest.raises(AssertionError):
        gokart.add_config(str(tmp_path / 'missing.cfg'))


class Shared(luigi.Config):
    value = luigi.Parameter(default='shared')
    other = luigi.Parameter(default='aliased')


def test_inherits_config_params_fills_shared_names_and_aliases():
    @inherits_config_params(Shared, parameter_alias={'other': 'renamed'})
    class InheritsShared(gokart.TaskOnKart):
        value = luigi.Parameter()
        renamed = luigi.Parameter()

    assert InheritsShared.__name__ == 'InheritsShared'
    task = InheritsShared()
    assert (task.value, task.renamed) == ('shared', 'aliased')
    assert InheritsShared(value='explicit').value == 'explicit'
