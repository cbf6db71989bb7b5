"""gokart.commands.registry: every `gokart` subcommand is one Command; a third party's is one more registration."""

import luigi
import pytest

import gokart
from gokart.commands import cli, registry


class Greeted(gokart.TaskOnKart[str]):
    name = luigi.Parameter()
    loud = luigi.BoolParameter()


@pytest.fixture
def own_registry(monkeypatch):
    monkeypatch.setattr(registry, '_commands', dict(registry._commands))


def test_every_builtin_subcommand_is_a_registered_command_in_help_order():
    names = [command.name for command in registry.commands()]
    assert names[:7] == ['tree', 'report', 'plan', 'why', 'gc', 'rekey', 'cache']
    assert {'runs', 'lineage', 'diff', 'config'} <= set(names)
    assert [c.name for c in registry.commands() if c.several_roots] == ['gc']


def test_a_registered_command_gets_its_options_and_the_constructed_task(own_registry, capsys):
    seen = []

    def options(parser):
        parser.add_argument('--times', type=int, default=1)

    def run(arguments, invocation):
        seen.append((arguments.times, invocation.roots))
        return 3

    registry.register_command(registry.Command('hello', 'greet a task', run, options))
    # options before or after the task, a boolean parameter alone, an upstream-style value after the flag
    assert cli.main(['hello', '--times', '2', 'Greeted', '--loud', '--name', 'ada']) == 3
    assert cli.main(['hello', 'Greeted', '--name=bob', '--times=4']) == 3
    assert [(times, [(t.name, t.loud) for t in roots]) for times, roots in seen] == [(2, [('ada', True)]), (4, [('bob', False)])]
    assert cli.main(['hello', 'Greeted', '--name', 'x', '+', 'Greeted', '--name', 'y']) == 2  # one root only
    assert 'only gc takes several' in capsys.readouterr().err


def test_a_command_without_a_task_reads_its_own_arguments(own_registry):
    def parser(subparsers):
        subparsers.add_parser('count', help='count words').add_argument('words', nargs='*')

    registry.register_command(registry.Command('count', 'count words', lambda a, i: len(a.words), takes_task=False, parser=parser))
    assert cli.main(['count', 'a', 'b', 'c']) == 3


def test_one_rule_says_whether_a_flag_takes_the_next_token():
    boolean, text = luigi.BoolParameter(), luigi.Parameter()
    assert cli.flag_takes_value('--name', 'ada', text) and not cli.flag_takes_value('--name=ada', 'x', text)
    assert not cli.flag_takes_value('--loud', '--name', boolean) and cli.flag_takes_value('--loud', 'false', boolean)
    assert cli.flag_takes_value('--rerun', 'x', None) and not cli.flag_takes_value('--rerun', 'pkg:Task', None)
    assert not cli.flag_takes_value('--yes', 'pkg:Task', False) and not cli.flag_takes_value('--name', None, text)
