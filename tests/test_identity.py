"""Unique ids and output paths match gokart 1.12 byte for byte (SPEC.md section 4.1)."""

import datetime
import hashlib
import textwrap

import luigi
import pytest
from mypkg.tasks import Downstream, Insig, Many, Mixed, Params, Upstream, WithDeps

import gokart


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


@pytest.mark.parametrize(
    ('make_task', 'hashed', 'uid', 'path'),
    [
        (
            lambda: Params(n=3, name='foo'),
            "[{'n': '3', 'name': 'foo'}, 'Params']",
            '6f4b257f76b9a82c2ee2f4f15011fdac',
            'mypkg/tasks/Params',
        ),
        (lambda: Params(n=3), "[{'n': '3', 'name': 'abc'}, 'Params']", '27ba978922dd551d197240bc39326e2d', 'mypkg/tasks/Params'),
        (lambda: Upstream(), "[{}, 'Upstream']", 'ffa04ed60540c2a03c8b3c3ddde17250', 'mypkg/tasks/Upstream'),
        (
            lambda: Downstream(task=Upstream()),
            '[\'ffa04ed60540c2a03c8b3c3ddde17250\', {\'task\': \'{"type": "Upstream", "params": '
            "\"425a6839314159265359a726dd4e0000000080000a2000210082b177245385090a726dd4e0\"}'}, 'Downstream']",
            '9dd6d0681faa5c5c5918215e8a4d92da',
            'mypkg/tasks/Downstream',
        ),
        (lambda: Insig(n=1, verbose='anything'), "[{'n': '1'}, 'Insig']", '88f0397d6cd06134fa4d4047757b84d6', 'mypkg/tasks/Insig'),
        (lambda: Insig(n=1, verbose='other'), "[{'n': '1'}, 'Insig']", '88f0397d6cd06134fa4d4047757b84d6', 'mypkg/tasks/Insig'),
        (
            lambda: Mixed(d=datetime.date(2024, 1, 2)),
            "[{'d': '2024-01-02', 'lst': '[1, 2]', 'f': '0.5', 'b': 'False'}, 'Mixed']",
            '68aba8844d1c83d086829843fe2dfcf8',
            None,
        ),
        (
            lambda: WithDeps(),
            "['813c0eb03436afe8db7b57e75b989e8c', {}, 'WithDeps']",
            '92b602933093baec1a82201f03491ecd',
            'mypkg/tasks/WithDeps',
        ),
        (lambda: Params(n=1), "[{'n': '1', 'name': 'abc'}, 'Params']", '9629653f35864350376bb65fdaa42d41', None),
        (lambda: Params(n=2), "[{'n': '2', 'name': 'abc'}, 'Params']", '813c0eb03436afe8db7b57e75b989e8c', None),
    ],
)
def test_worked_examples_give_gokart_ids_and_paths(make_task, hashed, uid, path):
    task = make_task()
    assert md5(hashed) == uid
    assert task.make_unique_id() == uid
    if path is not None:
        assert task.output().path() == f'./resources/{path}_{uid}.pkl'


def test_mixed_output_path_uses_the_given_relative_path():
    assert Mixed(d=datetime.date(2024, 1, 2)).output().path() == './resources/data/out_68aba8844d1c83d086829843fe2dfcf8.csv'


def test_list_task_instance_parameter_id():
    task = Many(tasks=[Params(n=1), Params(n=2)])
    assert task.make_unique_id() == 'd505b68e32995875cc7949d2f245a2e0'
    assert task.output().path() == './resources/mypkg/tasks/Many_d505b68e32995875cc7949d2f245a2e0.pkl'


def test_worked_examples_build_and_load():
    assert gokart.build(Downstream(task=Upstream())) == 2
    assert gokart.build(Mixed(d=datetime.date(2024, 1, 2))).shape == (2, 1)
    assert gokart.build(WithDeps()) == 'abc-2'
    assert gokart.build(Many(tasks=[Params(n=1), Params(n=2)])) == 'abc-1,abc-2'


def test_bare_task_and_namespace_ids():
    class N(gokart.TaskOnKart):
        task_namespace = 'myns'

    class D(gokart.TaskOnKart):
        t = gokart.TaskInstanceParameter()

    assert gokart.TaskOnKart().make_unique_id() == '7757badf81370beccb26f204c5bddba5'
    assert N().make_unique_id() == '5bd9132c436d6d14a7f72379c4d292e7'
    assert '"type": "myns.N"' in D(t=N()).to_str_params(only_significant=True)['t']
    assert repr(D(t=N())) == f'D[{D(t=N()).make_unique_id()}](t=myns.N(5bd9132c436d6d14a7f72379c4d292e7))'


def test_plain_luigi_requirement_enters_the_hash_as_its_params():
    class Plain(luigi.Task):
        x = luigi.IntParameter()

    class UsesPlain(gokart.TaskOnKart):
        def requires(self):
            return Plain(x=5)

    assert UsesPlain().make_unique_id() == md5("[{'x': '5'}, {}, 'UsesPlain']")


def test_docs_example_ids():
    class TaskA(gokart.TaskOnKart):
        param = luigi.Parameter()

    assert TaskA(param='foo').make_unique_id() == 'be65508b556dd3752359b4246791413d'
    assert TaskA(param='bar').make_unique_id() == '5a824f7d232eb69d46f0ac6bbd93b565'


def test_non_ascii_and_quotes_are_hashed_as_python_repr():
    class U(gokart.TaskOnKart):
        s = luigi.Parameter()

    assert U(s="日本語 'q'").make_unique_id() == md5(str([{'s': "日本語 'q'"}, 'U']))


def test_built_in_parameters_never_change_the_id():
    a = Params(n=3)
    b = Params(n=3, workspace_directory='elsewhere', rerun=True, redis_timeout=100, fix_random_seed_value=1)
    assert a.make_unique_id() == b.make_unique_id()


def test_insignificant_dependency_is_left_out_but_its_params_stay_in_owner_params():
    class Owner(gokart.TaskOnKart):
        task = gokart.TaskInstanceParameter()

    significant = Owner(task=Params(n=1))
    # luigi's instance cache treats both owners as equal (insignificant params are not in luigi's task_id).
    luigi.task_register.Register.clear_instance_cache()
    insignificant = Owner(task=Params(n=1, significant=False))
    assert insignificant.make_unique_id() == md5(str([insignificant.to_str_params(only_significant=True), 'Owner']))
    assert significant.make_unique_id() != insignificant.make_unique_id()


def test_serialized_task_definition_check_adds_the_class_source(tmp_path):
    module = tmp_path / 'codemod.py'
    module.write_text(
        textwrap.dedent(
            """
            import gokart

            class Code(gokart.TaskOnKart):
                def run(self): self.dump(1)
            """
        )
    )
    import importlib.util

    spec = importlib.util.spec_from_file_location('codemod', module)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    task = loaded.Code(serialized_task_definition_check=True)
    assert task.make_unique_id() == md5(str([{}, 'Code', '    def run(self): self.dump(1)\n']))


def test_cache_unique_id_freezes_the_id_and_can_be_turned_off():
    class P(gokart.TaskOnKart):
        x = luigi.IntParameter(default=1)

    frozen = P()
    first = frozen.make_unique_id()
    assert frozen.task_unique_id == first
    fresh = P(x=1, cache_unique_id=False)
    assert fresh.make_unique_id() == first
    assert fresh.task_unique_id is None


def test_id_of_a_chain_10000_deep_is_linear_and_has_no_recursion_limit():
    class Link(gokart.TaskOnKart):
        n = luigi.IntParameter()

        def requires(self):
            return Link(n=self.n - 1) if self.n > 0 else []

    deep = Link(n=10_000)
    expected = md5(str([{'n': '0'}, 'Link']))
    for n in range(1, 4):
        expected = md5(str([expected, {'n': str(n)}, 'Link']))
    assert Link(n=3).make_unique_id() == expected
    assert len(deep.make_unique_id()) == 32
