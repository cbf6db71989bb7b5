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


class WithAMethodNamedInConfig(gokart.TaskOnKart):
    def threshold(self) -> int:
        return 1


def test_an_option_naming_a_method_is_refused_but_one_naming_a_setting_only_ours_has_is_passed_over():
    # gokart 1.12 refuses an option naming a task attribute that is no parameter (an AttributeError) and
    # passes over a name its TaskOnKart lacks: redis_run_once is ours alone, so a config written for
    # either library builds the same.
    config = luigi.configuration.get_config()
    config.add_section('TaskOnKart')
    config.set('TaskOnKart', 'threshold', '3')
    with pytest.raises(AttributeError, match=r'threshold of WithAMethodNamedInConfig is not a parameter'):
        WithAMethodNamedInConfig()
    config.remove_option('TaskOnKart', 'threshold')
    config.set('TaskOnKart', 'redis_run_once', 'false')
    assert Configurable().redis_run_once is True


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
