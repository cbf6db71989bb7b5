"""With code_fingerprint_check, a task defined in a notebook follows the kernel: what its code calls *now* decides its id."""

from __future__ import annotations

import pytest

from tests.notebooks.conftest import Kernel

pytestmark = pytest.mark.timeout(300)


def test_redefined_helper_changes_the_result(kernel: Kernel) -> None:
    kernel.run(
        'import gokart\n'
        'def helper(x):\n'
        '    return x * 10\n'
        'class Scaled(gokart.TaskOnKart[int]):\n'
        '    def run(self):\n'
        '        self.dump(helper(1))\n'
    ).ok()
    assert kernel.run('gokart.build(Scaled(code_fingerprint_check=True))').ok().result() == '10'
    kernel.run('def helper(x):\n    return x * 100\n').ok()
    assert kernel.run('gokart.build(Scaled(code_fingerprint_check=True))').ok().result() == '100'
    # Back to the first definition: the first output is found again, not rebuilt under a new id.
    kernel.run('def helper(x):\n    return x * 10\n').ok()
    assert kernel.run('gokart.build(Scaled(code_fingerprint_check=True))').ok().result() == '10'


def test_changed_global_constant_changes_the_result(kernel: Kernel) -> None:
    kernel.run(
        'RATE = 3\nLABELS = ["a"]\nclass Rated(gokart.TaskOnKart[str]):\n    def run(self):\n        self.dump(f"{RATE}:{LABELS}")\n'
    ).ok()
    assert kernel.run('gokart.build(Rated(code_fingerprint_check=True))').ok().result() == '"3:[\'a\']"'
    kernel.run('RATE = 4').ok()
    assert kernel.run('gokart.build(Rated(code_fingerprint_check=True))').ok().result() == '"4:[\'a\']"'
    kernel.run('LABELS.append("b")').ok()  # changed in place: same object, new value
    assert kernel.run('gokart.build(Rated(code_fingerprint_check=True))').ok().result() == "\"4:['a', 'b']\""


def test_changed_method_of_a_base_class_from_another_cell_changes_the_result(kernel: Kernel) -> None:
    kernel.run(
        'class Base(gokart.TaskOnKart[int]):\n'
        '    def factor(self):\n'
        '        return 2\n'
        'class Mixer:\n'
        '    @staticmethod\n'
        '    def mix(x):\n'
        '        return x + 1\n'
    ).ok()
    kernel.run('class Child(Base):\n    def run(self):\n        self.dump(Mixer.mix(self.factor()))\n').ok()
    assert kernel.run('gokart.build(Child(code_fingerprint_check=True))').ok().result() == '3'
    # A method of the base class replaced from a later cell.
    kernel.run('def factor(self):\n    return 5\nBase.factor = factor').ok()
    assert kernel.run('gokart.build(Child(code_fingerprint_check=True))').ok().result() == '6'
    # A helper class the task names, redefined in a later cell.
    kernel.run('class Mixer:\n    @staticmethod\n    def mix(x):\n        return x + 10\n').ok()
    assert kernel.run('gokart.build(Child(code_fingerprint_check=True))').ok().result() == '15'
    # The base class's cell edited and run again, then the task's cell.
    kernel.run('class Base(gokart.TaskOnKart[int]):\n    def factor(self):\n        return 7\n').ok()
    kernel.run('class Child(Base):\n    def run(self):\n        self.dump(Mixer.mix(self.factor()))\n').ok()
    assert kernel.run('gokart.build(Child(code_fingerprint_check=True))').ok().result() == '17'


def test_fingerprint_comes_from_the_cell_history_when_linecache_forgot_it(kernel: Kernel) -> None:
    """Code typed into the kernel is hashed from its source even after ``linecache.clearcache()``,
    so clearing the cache (as some libraries do) does not move the ids of notebook tasks."""
    kernel.run(
        'class Plain(gokart.TaskOnKart[int]):\n'
        '    def run(self):\n'
        '        self.dump(1)  # a comment, which a hash of bytecode would not see either\n'
    ).ok()
    before = kernel.run('Plain(code_fingerprint_check=True).make_unique_id()').ok().result()
    after = (
        kernel.run(
            'import linecache\n'
            'from gokart.ids import code_fingerprint\n'
            'linecache.clearcache()\n'
            'code_fingerprint._cache.clear(); code_fingerprint._function_memo.clear()\n'
            'Plain(code_fingerprint_check=True).make_unique_id()'
        )
        .ok()
        .result()
    )
    assert after == before
    parts = kernel.run('sorted(code_fingerprint.code_fingerprint_parts(Plain))').ok().result()
    assert parts == "['__main__.Plain.run']"


def test_unchanged_kernel_keeps_the_id_and_a_local_name_is_not_a_global(kernel: Kernel) -> None:
    kernel.run(
        'class Summed(gokart.TaskOnKart[int]):\n'
        '    def run(self):\n'
        '        total = 0\n'
        '        for i in range(3):\n'
        '            total += i\n'
        '        self.dump(total)\n'
    ).ok()
    first = kernel.run('Summed(code_fingerprint_check=True).make_unique_id()').ok().result()
    # Notebook globals that share a name with the task's locals are not the task's code.
    kernel.run('i = 42\ntotal = "x"').ok()
    assert kernel.run('Summed(code_fingerprint_check=True).make_unique_id()').ok().result() == first
