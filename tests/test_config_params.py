"""inherits_config_params: parameters a task shares with a luigi Config default to the config's values."""

from __future__ import annotations

import luigi
from luigi.cmdline_parser import CmdlineParser

import gokart
from gokart.config_params import inherits_config_params


class SharedConfig(luigi.Config):
    param_a: str = luigi.Parameter(default='config a')
    param_b: int = luigi.IntParameter(default=7)
    only_in_config: str = luigi.Parameter(default='unused')


class OtherConfig(luigi.Config):
    param_a: str = luigi.Parameter(default='other config a')


@inherits_config_params(SharedConfig)
class Inheriting(gokart.TaskOnKart[str]):
    param_a: str = luigi.Parameter()
    param_b: int = luigi.IntParameter(default=1)
    own: str = luigi.Parameter(default='own')


def test_shared_parameters_take_the_config_values() -> None:
    task = Inheriting()
    assert (task.param_a, task.param_b, task.own) == ('config a', 7, 'own')
    assert not hasattr(task, 'only_in_config')


def test_the_decorated_class_keeps_its_name() -> None:
    assert Inheriting.__name__ == 'Inheriting'
    assert Inheriting.get_task_family() == 'Inheriting'
    assert Inheriting.__module__ == __name__


def test_explicit_arguments_win() -> None:
    task = Inheriting(param_a='explicit', param_b=3)
    assert (task.param_a, task.param_b) == ('explicit', 3)


def test_config_values_enter_the_unique_id_like_explicit_ones() -> None:
    assert Inheriting().make_unique_id() == Inheriting(param_a='config a', param_b=7).make_unique_id()


def test_an_alias_maps_a_config_name_to_a_task_parameter() -> None:
    @inherits_config_params(SharedConfig, parameter_alias={'param_a': 'renamed_a'})
    class Aliased(gokart.TaskOnKart[str]):
        renamed_a: str = luigi.Parameter()

    assert Aliased().renamed_a == 'config a'


def test_a_subclass_decorated_with_another_config_overrides_the_parent_values() -> None:
    @inherits_config_params(OtherConfig)
    class Child(Inheriting):
        pass

    task = Child()
    assert (task.param_a, task.param_b) == ('other config a', 7)


def test_a_plain_subclass_inherits_the_behaviour() -> None:
    class PlainChild(Inheriting):
        pass

    assert PlainChild().param_a == 'config a'


def test_the_config_section_sets_the_inherited_values() -> None:
    luigi.configuration.get_config().set('SharedConfig', 'param_b', '42')
    assert Inheriting().param_b == 42


def test_root_task_command_line_arguments_win() -> None:
    with CmdlineParser.global_instance(['Inheriting', '--param-a=from cli', '--local-scheduler']) as parser:
        task = parser.get_task_obj()
    assert (task.param_a, task.param_b) == ('from cli', 7)


def test_config_command_line_arguments_reach_the_task() -> None:
    with CmdlineParser.global_instance(['Inheriting', '--SharedConfig-param-a=config from cli', '--local-scheduler']) as parser:
        task = parser.get_task_obj()
    assert task.param_a == 'config from cli'
