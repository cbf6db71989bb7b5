"""The package stays lint-clean, formatted and type-checked (the settings live in pyproject.toml)."""

import ast
import json
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


def import_graph(root, type_checking=False):
    """gokart module -> the gokart modules it imports, at module level or inside functions.

    Imports of other libraries (pandas, boto3, redis, ... imported in functions for their import
    time) are no edges: only gokart's own modules can close a cycle. Neither is the implicit import
    of a parent package, which Python runs before its submodules. Imports under ``if TYPE_CHECKING:``
    are edges only with ``type_checking=True``: they close no cycle, but they still name a layer.
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
        skipped = set() if type_checking else _type_checking_only(tree)
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


# ----- the direction of imports between the layers (issue 23) ---------------------------------------
# Lowest first. A module may import modules of its own layer and of the layers below, never above,
# inside functions and under TYPE_CHECKING included (within a layer, the cycle test above keeps the
# order). Our code sits in subpackages named for what they hold; gokart 1.12's top-level modules and
# packages stay where users import them, each listed in the layer of what it uses and is used by.
# `runs` and `notebook` are the rooms of the next features. A top-level module or package missing
# here fails the test: place it (and a module of ours belongs in a subpackage, docs/design.md).
_LAYERS = (
    # layer        our subpackages          gokart 1.12's modules and packages beside them
    ('core', 'core', 'errors utils config_params required_task_output task_complete_check pandas_type_config mypy'),
    ('ids', 'ids', 'parameter'),
    ('storage', 'storage run_locks', 'target file_processor object_storage zip_client zip_client_util gcs_zip_client s3_zip_client'),
    ('storage', '', 'gcs_obj_metadata_client conflict_prevention_lock in_memory gcs_config s3_config'),
    ('contracts', 'contracts', ''),
    ('records', 'records runs', ''),
    ('tasks', '', 'task tree info workspace_management'),
    ('execution', 'execution', 'worker'),
    ('commands', 'commands notebook', 'build run testing slack'),
    ('entry points', '', '__init__ __main__ resign'),
)

# The imports that go up, each with its reason. Anything else going up fails the test.
_UPWARD_EDGES = {
    ('gokart.task', 'gokart.notebook.display'): (
        "TaskOnKart._repr_html_ is the hook Jupyter calls to show a task; it imports the picture's code inside the method, "
        'only when a notebook displays a task'
    ),
    ('gokart.utils', 'gokart.ids.id_scheme'): (
        "gokart 1.12's add_config reads a config file, which may set [gokart] id_scheme: it asks id_scheme to read "
        'the setting again. utils stays in core because core.dag walks requirements with its flatten'
    ),
    ('gokart.parameter', 'gokart.task'): (
        "TYPE_CHECKING only (the former parameter <-> task circle): TaskInstanceParameter's annotations name "
        'TaskOnKart, while at run time it finds the task base class through core.task_protocol'
    ),
}


def layer_of(module):
    """The index in ``_LAYERS`` of a gokart module: its subpackage's, or the top-level module's own."""
    parts = module.split('.')
    room = parts[1] if len(parts) > 1 else '__init__'
    names = [name for name, _, _ in _LAYERS]
    for name, ours, theirs in _LAYERS:
        if room in ours.split() or room in theirs.split():
            return names.index(name)  # a layer may take two rows of the table
    raise AssertionError(f'{module}: {room} is in no layer of _LAYERS in tests/test_code_quality.py; place it there')


def upward_imports(graph, allowed=()):
    """The edges of ``graph`` from a module to a module of a higher layer, except those in ``allowed``.

    Every module must be in a layer, also one that imports nothing of gokart's.
    """
    layers = {module: layer_of(module) for module in graph}
    return sorted(
        (source, target)
        for source, targets in graph.items()
        for target in targets
        if layers[target] > layers[source] and (source, target) not in allowed
    )


def test_layer_check_fails_on_an_import_against_the_direction(tmp_path):
    """A core module importing a command, even inside a function, is reported; the other direction is not."""
    package = tmp_path / 'gokart'
    for room in ('core', 'commands'):
        (package / room).mkdir(parents=True)
        (package / room / '__init__.py').write_text('')
    (package / '__init__.py').write_text('from gokart.commands import cli\n')
    (package / 'core' / 'dag.py').write_text('def walk():\n    from gokart.commands.cli import main\n    return main\n')
    (package / 'commands' / 'cli.py').write_text('from gokart.core import dag\n\ndef main():\n    return dag\n')
    graph = import_graph(str(tmp_path), type_checking=True)
    assert upward_imports(graph) == [('gokart.core.dag', 'gokart.commands.cli')]
    assert upward_imports(graph, allowed={('gokart.core.dag', 'gokart.commands.cli')}) == []
    (package / 'stray.py').write_text('')
    with pytest.raises(AssertionError, match='stray is in no layer'):
        upward_imports(import_graph(str(tmp_path)))


def test_gokart_imports_only_downward_between_layers():
    """commands -> execution -> tasks -> records -> storage -> ids -> core, each a subpackage and the 1.12 modules beside it."""
    graph = import_graph(ROOT, type_checking=True)
    assert all(edge[1] in graph.get(edge[0], ()) for edge in _UPWARD_EDGES), 'a listed upward import no longer exists'
    assert upward_imports(graph, allowed=_UPWARD_EDGES) == []


def test_the_top_level_holds_gokart_1_12_modules_and_entry_points_only():
    """Our machinery is in subpackages; the top level is gokart 1.12's import paths plus __main__ and resign."""
    with open(os.path.join(ROOT, 'tests', 'compat', 'gokart_1_12_2_names.json'), encoding='utf-8') as f:
        inventory = {name.split('.')[1] for name in json.load(f)['modules'] if name.count('.') >= 1}
    package = os.path.join(ROOT, 'gokart')
    top_level = {
        name[: -len('.py')] if name.endswith('.py') else name
        for name in os.listdir(package)
        if name.endswith('.py') or os.path.isfile(os.path.join(package, name, '__init__.py'))
    }
    subpackages = {room for _, ours, _ in _LAYERS for room in ours.split()}
    assert top_level - inventory - subpackages == {'__init__', '__main__', 'resign'}
