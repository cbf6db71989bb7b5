"""Id scheme 2 (Merkle): goldens computed by the algorithm of docs/ids.md, selection, task-instance parameters.

Scheme 1 stays gokart 1.12's ids (tests/test_identity.py pins them, run under the default scheme).
"""

from __future__ import annotations

import datetime
import hashlib
import json

import luigi
import pytest
from mypkg.tasks import Downstream, Insig, Many, Mixed, Params, Upstream, WithDeps

import gokart
from gokart.errors import GokartError, TaskParameterError
from gokart.ids import id_scheme


@pytest.fixture(autouse=True)
def scheme_read_afresh():
    """Each test reads the scheme from its own environment and config, and leaves none behind."""
    id_scheme.refresh()
    yield
    id_scheme._read = None


def documented_id(family: str, params: dict, upstream: list, *extra: tuple) -> str:
    """docs/ids.md steps 4 to 7, written out independently of gokart.ids.id_scheme."""
    body = hashlib.md5(str([2, family, params, upstream, *extra]).encode('utf-8')).hexdigest()[:30]
    return body + format(int(body, 16) % 251, '02x')


def reference(family: str, uid: str) -> str:
    return json.dumps({'type': family, 'id': uid})


UPSTREAM = '37c9438276b03fb5478593c481f0c001'
PARAMS_1 = '279807122dde0813c07516d4ab0e82d1'
PARAMS_2 = '9053db252d571a60fdf20f78db290343'

GOLDEN = [
    (
        lambda: Params(n=3, name='foo'),
        {'family': 'Params', 'params': {'n': '3', 'name': 'foo'}, 'upstream': []},
        '3cab9cb5220fccb337f69b038cc35fa3',
    ),
    (lambda: Params(n=1), {'family': 'Params', 'params': {'n': '1', 'name': 'abc'}, 'upstream': []}, PARAMS_1),
    (lambda: Params(n=2), {'family': 'Params', 'params': {'n': '2', 'name': 'abc'}, 'upstream': []}, PARAMS_2),
    (lambda: Upstream(), {'family': 'Upstream', 'params': {}, 'upstream': []}, UPSTREAM),
    (
        lambda: Downstream(task=Upstream()),
        {'family': 'Downstream', 'params': {'task': reference('Upstream', UPSTREAM)}, 'upstream': [UPSTREAM]},
        'b6ce1a33519e0cdd19cec22f57b6333c',
    ),
    (lambda: Insig(n=1, verbose='anything'), {'family': 'Insig', 'params': {'n': '1'}, 'upstream': []}, '671b7fad70d734d795714693443fbe67'),
    (
        lambda: Mixed(d=datetime.date(2024, 1, 2)),
        {'family': 'ns.Mixed', 'params': {'d': '2024-01-02', 'lst': '[1, 2]', 'f': '0.5', 'b': 'False'}, 'upstream': []},
        '94dea397e7e73aa15fff6bf1798081cd',
    ),
    (lambda: WithDeps(), {'family': 'WithDeps', 'params': {}, 'upstream': [PARAMS_2]}, 'cde581ce0188e08eed4210465b811eb2'),
    (
        lambda: Many(tasks=[Params(n=1), Params(n=2)]),
        {
            'family': 'Many',
            'params': {'tasks': json.dumps([reference('Params', PARAMS_1), reference('Params', PARAMS_2)])},
            'upstream': [PARAMS_1, PARAMS_2],
        },
        'c5e0e5206b656e2519ebb083ac6ac338',
    ),
    (lambda: gokart.TaskOnKart(), {'family': 'TaskOnKart', 'params': {}, 'upstream': []}, '421dac9932f76d5a974544cd2a33f4b9'),
]


@pytest.mark.parametrize(('make_task', 'payload', 'uid'), GOLDEN)
def test_scheme2_ids_of_the_worked_examples_follow_the_documented_algorithm(make_task, payload, uid):
    assert documented_id(payload['family'], payload['params'], payload['upstream']) == uid
    with id_scheme.use(2):
        task = make_task()
        assert task.make_unique_id() == uid
        assert task.output().path().endswith(f'_{uid}{".csv" if isinstance(task, Mixed) else ".pkl"}')
        assert id_scheme.is_scheme2_id(uid)


def test_scheme1_stays_gokart_1_12_and_is_the_default():
    assert id_scheme.current() == 1
    assert Downstream(task=Upstream()).make_unique_id() == '9dd6d0681faa5c5c5918215e8a4d92da'
    with id_scheme.use(1):
        assert Many(tasks=[Params(n=1), Params(n=2)]).make_unique_id() == 'd505b68e32995875cc7949d2f245a2e0'
    assert not id_scheme.is_scheme2_id('9dd6d0681faa5c5c5918215e8a4d92da')


class PlainUpstream(luigi.Task):
    x = luigi.IntParameter()


class UsesPlain(gokart.TaskOnKart):
    def requires(self):
        return PlainUpstream(x=5)


def test_a_plain_luigi_requirement_enters_as_its_luigi_task_id():
    with id_scheme.use(2):
        task = UsesPlain()
        expected = documented_id('UsesPlain', {}, [PlainUpstream(x=5).task_id])
        assert task.make_unique_id() == expected


def test_code_checks_enter_the_payload():
    class Coded(gokart.TaskOnKart):
        def run(self):
            self.dump(1)

    with id_scheme.use(2):
        plain = Coded().make_unique_id()
        coded = Coded(serialized_task_definition_check=True).make_unique_id()
    assert plain != coded
    code = gokart.TaskOnKart.get_code(Coded) - gokart.TaskOnKart.get_code(gokart.TaskOnKart)
    assert coded == documented_id('Coded', {}, [], ('code', ''.join(sorted(code))))


def test_the_scheme_comes_from_the_environment_or_the_config(tmp_path, monkeypatch):
    config = tmp_path / 'scheme.cfg'
    config.write_text('[gokart]\nid_scheme = 2\n')
    paths = luigi.configuration.LuigiConfigParser._config_paths
    monkeypatch.setattr(luigi.configuration.LuigiConfigParser, '_config_paths', list(paths))
    gokart.add_config(str(config))
    try:
        assert id_scheme.current() == 2
        luigi.task_register.Register.clear_instance_cache()
        assert Upstream().make_unique_id() == UPSTREAM
        monkeypatch.setenv('GOKART_ID_SCHEME', '1')
        assert id_scheme.refresh() == 1  # the environment wins
        monkeypatch.setenv('GOKART_ID_SCHEME', 'merkle')
        with pytest.raises(GokartError, match="GOKART_ID_SCHEME is 'merkle': not an id scheme: use 1"):
            id_scheme.refresh()
    finally:
        luigi.configuration.get_config().remove_section('gokart')
        luigi.task_register.Register.clear_instance_cache()


def test_task_instance_parameters_stay_small_and_parse_back_under_scheme2():
    with id_scheme.use(2):
        task = Upstream()
        for _ in range(300):
            task = Downstream(task=task)
        held = task.to_str_params()['task']
        assert len(held) < 80 and len(task.task_id) < 80
        assert gokart.TaskInstanceParameter().parse(held) is task.task
        assert Downstream.from_str_params(task.to_str_params()) is task
        listed = Many(tasks=[Params(n=1), Params(n=2)])
        assert gokart.ListTaskInstanceParameter().parse(listed.to_str_params()['tasks']) == (Params(n=1), Params(n=2))


def test_parse_finds_a_constructed_task_that_nothing_serialized_yet():
    with id_scheme.use(2):
        task = Params(n=8)
        assert gokart.TaskInstanceParameter().parse(reference('Params', task.make_unique_id())) is task


def test_parse_of_an_unknown_scheme2_id_says_what_to_pass_instead():
    with id_scheme.use(2), pytest.raises(TaskParameterError) as raised:
        gokart.TaskInstanceParameter().parse(reference('Upstream', '0' * 32))
    message = str(raised.value)
    assert 'cannot find the Upstream task with scheme-2 id 00000000000000000000000000000000' in message
    assert '{"type": "Upstream", "params": {' in message


def test_parameters_in_scheme1_or_dict_form_still_parse_under_scheme2():
    with id_scheme.use(1):
        scheme1_text = Downstream(task=Params(n=4)).to_str_params()['task']
    with id_scheme.use(2):
        assert gokart.TaskInstanceParameter().parse(scheme1_text) == Params(n=4)
        assert gokart.TaskInstanceParameter().parse('{"type": "Params", "params": {"n": "5"}}') == Params(n=5)


class RunSource(gokart.TaskOnKart[int]):
    task_namespace = 'test_id_scheme'
    n = luigi.IntParameter(default=1)

    def run(self):
        self.dump(self.n)


class RunHolder(gokart.TaskOnKart[int]):
    task_namespace = 'test_id_scheme'  # a family no other test module registers, for luigi's command line
    source = gokart.TaskInstanceParameter()

    def run(self):
        self.dump(self.load('source') + 1)


def test_gokart_run_takes_a_root_whose_task_parameter_is_given_by_its_parameters():
    with id_scheme.use(2):
        with pytest.raises(SystemExit) as exited:
            gokart.run(
                ['test_id_scheme.RunHolder', '--source', '{"type": "test_id_scheme.RunSource", "params": {"n": "4"}}', '--local-scheduler']
            )
        assert exited.value.code == 0
        built = RunHolder(source=RunSource(n=4))
        assert built.output().load() == 5
        assert id_scheme.is_scheme2_id(built.make_unique_id())


def test_a_lattice_of_diamonds_gets_ids_without_growth():
    # Two tasks a level, each holding both below: the scheme-1 hash input doubles per level.
    with id_scheme.use(2):
        level = [Params(n=0), Params(n=1)]
        for _ in range(200):
            level = [Many(tasks=level), Many(tasks=level[::-1])]
        assert all(len(t.to_str_params()['tasks']) < 200 for t in level)
        assert level[0].make_unique_id() != level[1].make_unique_id()
