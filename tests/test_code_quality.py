"""The package stays lint-clean, formatted and type-checked (the settings live in pyproject.toml)."""

import ast
import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tool(name):
    found = shutil.which(name, path=os.path.dirname(sys.executable)) or shutil.which(name)
    if found is None:
        pytest.skip(f'{name} is not installed; `pip install -e .[test]` installs it')
    return found


def test_ruff_check_is_clean():
    result = subprocess.run([tool('ruff'), 'check', 'gokart'], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = subprocess.run([tool('ruff'), 'format', '--check', 'gokart'], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean():
    result = subprocess.run([sys.executable, '-m', 'mypy', 'gokart'], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _sources():
    package = os.path.join(ROOT, 'gokart')
    for directory, _, names in os.walk(package):
        for name in sorted(names):
            if name.endswith('.py'):
                path = os.path.join(directory, name)
                yield os.path.relpath(path, ROOT).replace(os.sep, '/'), path


def test_only_dag_follows_requires():
    """Every walk of the DAG goes through gokart.core.dag, so each sees the same checked requirements (issue 15)."""
    pattern = re.compile(r'flatten\([^\n]*\.requires\(\)')
    found = [
        f'{name}:{number}'
        for name, path in _sources()
        if name != 'gokart/core/dag.py'
        for number, line in enumerate(open(path, encoding='utf-8'), start=1)
        if pattern.search(line)
    ]
    assert found == [], f'use gokart.core.dag.requirements / gokart.core.dag.walk instead of flatten(task.requires()) at {found}'


# Modules still spelling a log/ path of their own: the id scheme census (being reworked with the id
# scheme) and the GCS metadata client's pattern of records it leaves unlabelled.
_RECORD_PATH_EXCEPTIONS = {'gokart/records/run_records.py', 'gokart/ids/id_scheme.py', 'gokart/gcs_obj_metadata_client.py'}


def test_only_run_records_spells_a_record_path():
    """Code outside run_records.py asks it for log/ paths instead of building them (issue 15); docstrings may mention them."""
    component = re.compile(r'(^|/)log(/|$)')
    found = []
    for name, path in _sources():
        if name in _RECORD_PATH_EXCEPTIONS:
            continue
        tree = ast.parse(open(path, encoding='utf-8').read())
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
                and component.search(node.value)
            ):
                found.append(f'{name}:{node.lineno} {node.value!r}')
    assert found == [], f'ask gokart.records.run_records for record paths: {found}'


# ----- the import graph of gokart/ has no cycle (issue 15) ------------------------------------------
# A re-export keeps a name importable where gokart 1.12 had it while its code lives elsewhere. Listed
# here, each edge with its reason, are the re-exports whose source module must look back into the
# re-exporting module; every other cycle fails the test.
_RE_EXPORT_EDGES = {
    ('gokart.conflict_prevention_lock.task_lock', 'gokart.conflict_prevention_lock.redis_lock'): (
        "task_lock is gokart 1.12's home of RedisClient, set_task_lock and set_lock_scheduler, and of the `redis` "
        'name users patch (`...task_lock.redis.Redis`); redis_lock looks that patch up in task_lock at call time'
    ),
}


def _module_name(relative_path):
    name = relative_path[: -len('.py')].replace('/', '.')
    return name[: -len('.__init__')] if name.endswith('.__init__') else name


def _type_checking_only(tree):
    """Import nodes under ``if TYPE_CHECKING:``: type checkers read them, Python never runs them."""
    nodes = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and 'TYPE_CHECKING' in ast.unparse(node.test):
            nodes.update(id(sub) for statement in node.body for sub in ast.walk(statement))
    return nodes


def _imported_modules(module, is_package, node, modules):
    """The gokart modules an import statement of ``module`` loads (``from pkg import submodule`` names the submodule)."""
    if isinstance(node, ast.Import):
        targets = [alias.name for alias in node.names]
    else:
        base = node.module or ''
        if node.level:
            parts = module.split('.')[: len(module.split('.')) - node.level + (1 if is_package else 0)]
            base = '.'.join(parts + ([base] if base else []))
        targets = [f'{base}.{alias.name}' if f'{base}.{alias.name}' in modules else base for alias in node.names]
    found = set()
    for target in targets:
        while target and target not in modules:  # `import gokart.a.b as x`, `from gokart.a import name`
            target = target.rpartition('.')[0]
        if target:
            found.add(target)
    return found


def import_graph(root):
    """gokart module -> the gokart modules it imports, at module level or inside functions.

    Imports of other libraries (pandas, boto3, redis, ... imported in functions for their import
    time) are no edges: only gokart's own modules can close a cycle. Neither is the implicit import
    of a parent package, which Python runs before its submodules.
    """
    files = {}
    for directory, _, names in os.walk(os.path.join(root, 'gokart')):
        for name in names:
            if name.endswith('.py'):
                path = os.path.join(directory, name)
                files[_module_name(os.path.relpath(path, root).replace(os.sep, '/'))] = path
    graph = {}
    for module, path in files.items():
        tree = ast.parse(open(path, encoding='utf-8').read())
        skipped = _type_checking_only(tree)
        edges = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in skipped:
                edges |= _imported_modules(module, path.endswith('__init__.py'), node, files)
        graph[module] = {target for target in edges if target != module and (module, target) not in _RE_EXPORT_EDGES}
    return graph


def cycles(graph):
    """The strongly connected components of more than one node of ``graph`` (node -> successors), each sorted.

    Tarjan's algorithm, iterative so a long chain of imports cannot hit the recursion limit.
    """
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph.get(successor, ())))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return sorted(found)


def test_cycle_finder_reports_each_cycle_and_nothing_else():
    graph = {'a': {'b'}, 'b': {'c'}, 'c': {'a', 'd'}, 'd': set(), 'e': {'f'}, 'f': {'e'}, 'g': {'a'}}
    assert cycles(graph) == [['a', 'b', 'c'], ['e', 'f']]
    assert cycles({'a': {'b'}, 'b': {'c'}, 'c': set()}) == []


def test_import_graph_sees_function_level_imports(tmp_path):
    package = tmp_path / 'gokart'
    package.mkdir()
    (package / '__init__.py').write_text('')
    (package / 'low.py').write_text('def f():\n    from gokart import high\n    import pandas\n')
    (package / 'high.py').write_text(
        'from gokart.low import f\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from gokart import typed\n'
    )
    (package / 'typed.py').write_text('from . import high\n')
    graph = import_graph(str(tmp_path))
    assert graph['gokart.low'] == {'gokart.high'} and graph['gokart.high'] == {'gokart.low'}
    assert graph['gokart.typed'] == {'gokart.high'}
    assert cycles(graph) == [['gokart.high', 'gokart.low']]


def test_gokart_modules_import_each_other_without_a_cycle():
    """Each module can be understood (and changed) without the ones that import it; re-exports excepted above."""
    graph = import_graph(ROOT)
    assert all(edge[0] in graph and edge[1] in graph for edge in _RE_EXPORT_EDGES), 'a listed re-export no longer exists'
    assert cycles(graph) == []
