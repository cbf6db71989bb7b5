"""Properties of scheme-2 ids over generated values.

- The same task has the same id in another process, under any hash seed.
- An id changes exactly when an own significant parameter or the id of a significant upstream task changes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import luigi
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gokart
from gokart.ids import id_scheme

TASKS = textwrap.dedent(
    """
    import luigi
    import gokart

    class Source(gokart.TaskOnKart):
        task_namespace = 'scheme2_properties'
        seed = luigi.IntParameter(default=0)
        tags = luigi.ListParameter(default=[])
        note = luigi.Parameter(default='', significant=False)

    class Join(gokart.TaskOnKart):
        task_namespace = 'scheme2_properties'
        left = gokart.TaskInstanceParameter()
        right = gokart.TaskInstanceParameter()
        label = luigi.Parameter(default='')

    def ids(seeds, tags, label):
        left = Source(seed=seeds[0], tags=set(tags))
        right = Source(seed=seeds[1])
        top = Join(left=left, right=Join(left=right, right=left, label=label), label=label)
        return [left.make_unique_id(), right.make_unique_id(), top.make_unique_id()]
    """
)
namespace: dict = {}
exec(compile(TASKS, 'scheme2_tasks', 'exec'), namespace)
Source, Join, ids_of = namespace['Source'], namespace['Join'], namespace['ids']

words = st.text(alphabet='abcdefgh', min_size=1, max_size=6)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seeds=st.tuples(st.integers(-1000, 1000), st.integers(-1000, 1000)), tags=st.sets(words, max_size=5), label=words)
def test_ids_are_the_same_in_other_processes_and_hash_seeds(seeds, tags, label, tmp_path):
    with id_scheme.use(2):
        expected = ids_of(seeds, sorted(tags), label)
    script = tmp_path / 'ids.py'
    script.write_text(TASKS + f'\nimport json\nprint(json.dumps(ids({list(seeds)!r}, {sorted(tags)!r}, {label!r})))\n')
    for hash_seed in ('0', '1', '12345'):
        environment = {**os.environ, 'PYTHONHASHSEED': hash_seed, 'GOKART_ID_SCHEME': '2'}
        completed = subprocess.run([sys.executable, str(script)], env=environment, capture_output=True, text=True, cwd=tmp_path)
        assert completed.returncode == 0, completed.stderr[-2000:]
        assert json.loads(completed.stdout.splitlines()[-1]) == expected


values = st.tuples(st.integers(0, 3), st.sampled_from(['', 'a', 'b']), st.sampled_from(['x', 'y']))


@settings(max_examples=60, deadline=None)
@given(first=values, second=values)
def test_an_id_changes_exactly_when_a_significant_parameter_or_upstream_id_does(first, second):
    luigi.task_register.Register.clear_instance_cache()
    with id_scheme.use(2):

        def build(value):
            seed, label, note = value
            source = Source(seed=seed, note=note)  # note is not significant
            return source, Join(left=source, right=Source(seed=7), label=label)

        source_a, join_a = build(first)
        source_b, join_b = build(second)
        assert (source_a.make_unique_id() == source_b.make_unique_id()) == (first[0] == second[0])
        same_join = first[0] == second[0] and first[1] == second[1]
        assert (join_a.make_unique_id() == join_b.make_unique_id()) == same_join
        # Only the id of an upstream task enters: the same upstream id gives the same downstream id.
        rebuilt = Join(left=Source(seed=first[0], note='other'), right=Source(seed=7), label=first[1])
        assert rebuilt.make_unique_id() == join_a.make_unique_id()


def test_an_insignificant_upstream_task_leaves_the_upstream_list():
    with id_scheme.use(2):

        class Uses(gokart.TaskOnKart):
            task_namespace = 'scheme2_properties'
            n = luigi.IntParameter(default=0, significant=False)
            keep = luigi.BoolParameter(default=False, significant=False)

            def requires(self):
                return Source(seed=self.n, significant=self.keep)

        assert Uses(n=1).make_unique_id() == Uses(n=2).make_unique_id()
        assert Uses(n=1, keep=True).make_unique_id() != Uses(n=2, keep=True).make_unique_id()
