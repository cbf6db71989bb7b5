"""gokart's parameters: task instances, explicit bools, serializable objects, zoned datetimes."""

import datetime

import luigi
import pytest

import gokart
from gokart.errors import TaskInstanceTypeError


class Producer(gokart.TaskOnKart[int]):
    x = luigi.IntParameter(default=1)

    def run(self):
        self.dump(self.x)


class Other(gokart.TaskOnKart[str]):
    pass


class Consumer(gokart.TaskOnKart[int]):
    task = gokart.TaskInstanceParameter(expected_type=Producer)
    tasks = gokart.ListTaskInstanceParameter(expected_elements_type=Producer, default=[])

    def run(self):
        self.dump(self.load('task'))


def test_task_instance_parameter_rejects_a_task_of_the_wrong_class():
    with pytest.raises(TypeError) as info:
        Consumer(task=Other())
    assert isinstance(info.value, TaskInstanceTypeError)
    assert 'Producer' in str(info.value)


def test_list_task_instance_parameter_checks_every_element():
    with pytest.raises(TypeError):
        Consumer(task=Producer(), tasks=[Producer(), Other()])
    assert Consumer(task=Producer(), tasks=[Producer(x=2)]).tasks == (Producer(x=2),)


def test_task_instance_parameter_round_trips_through_its_serialization():
    param = gokart.TaskInstanceParameter()
    text = param.serialize(Producer(x=5))
    assert param.parse(text).x == 5
    lists = gokart.ListTaskInstanceParameter()
    assert [t.x for t in lists.parse(lists.serialize([Producer(x=1), Producer(x=2)]))] == [1, 2]


def test_explicit_bool_parses_explicit_values_only():
    param = gokart.ExplicitBoolParameter()
    assert param.parse('true') is True and param.parse('False') is False
    with pytest.raises(ValueError):
        param.parse('maybe')


class Money:
    def __init__(self, cents):
        self.cents = cents

    def gokart_serialize(self):
        return str(self.cents)

    @classmethod
    def gokart_deserialize(cls, s):
        return cls(int(s))


def test_serializable_parameter_uses_the_objects_own_text():
    class Priced(gokart.TaskOnKart):
        price = gokart.SerializableParameter(object_type=Money)

    task = Priced(price=Money(250))
    assert task.to_str_params(only_significant=True) == {'price': '250'}
    assert gokart.SerializableParameter(object_type=Money).parse('7').cents == 7
    assert isinstance(Money(1), gokart.parameter.Serializable)


def test_zoned_date_second_parameter():
    param = gokart.ZonedDateSecondParameter()
    value = param.parse('2024-01-02T03:04:05.123Z')
    assert value.tzinfo is not None
    assert param.serialize(param.normalize(value)) == '2024-01-02T03:04:05+00:00'  # a task's value is normalized first
    aware = datetime.datetime(2024, 1, 2, 3, 4, 5, 999, tzinfo=datetime.timezone.utc)
    assert param.normalize(aware).microsecond == 0
