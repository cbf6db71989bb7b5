"""Code fingerprints: a task's unique id that changes when its code does, not only when its parameters do.

gokart's ``serialized_task_definition_check`` hashes the raw source of the task class's own methods:
a comment or a blank line invalidates the cache, and a change in a helper function the task calls
does not. The fingerprint here covers the task's methods *and* the first-party functions, classes
and constants they reach, recursively, and hashes their syntax tree without docstrings, so only
changes that can alter behaviour change it.

What counts:

- every method, property and plain class constant defined by the task class and by its
  first-party base classes (``TaskOnKart``, ``luigi.Task`` and other library classes are not);
- every global or closure name those functions use (``helper(x)``, ``helpers.clean(x)``,
  ``THRESHOLD``) that resolves to a function or class of a first-party module, followed
  recursively, or to a plain data constant of a first-party module: numbers, strings, bytes,
  None, enums and tuples/frozensets of them under any name, and lists/sets/dicts of them under
  an UPPER_CASE name (a lower-case module-level dict is often a cache filled at run time);
- first-party means: not the standard library, not installed under site-packages/dist-packages,
  not gokart or luigi, or in the task class's own top-level package (so helpers shipped in the
  same installed package count too).

Other task classes a method names (``return Upstream()``) are not followed: their code belongs to
their own fingerprint, and their output enters this task's id through their unique id. Objects
that are neither functions, classes nor plain data (a compiled regex, a model) are not hashed.

Fingerprints follow the running process, as a notebook needs: each walk records what it looked up
(the function bound to each global name, each module attribute, each class's members, closure
cells, the value of mutable constants), and a later call reuses the fingerprint only while all of
those are still the same objects. Redefining a helper in a later cell, rebinding a constant or
patching a method of a base class therefore changes the id; an unchanged process pays a few
identity checks per call. Each function's hashed source is memoized by the function object, so a
change re-hashes only what changed. Source comes from ``inspect``, and for code typed into IPython
or Jupyter from the kernel's cell history when ``linecache`` no longer holds it.
"""

from __future__ import annotations

import ast
import enum
import hashlib
import inspect
import linecache
import os
import site
import sys
import sysconfig
import textwrap
import types
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import luigi

from gokart.core import task_protocol

_NOT_FIRST_PARTY_PACKAGES = frozenset({'gokart', 'luigi', 'builtins', '__future__'})
_SKIPPED_CLASS_ATTRIBUTES = frozenset({'__module__', '__qualname__', '__doc__', '__dict__', '__weakref__', '__annotations__'})
_ABSENT: Any = object()  # what a lookup found when the name was not bound


@dataclass
class _Lookups:
    """What one walk read, so a later call can tell, by identity, whether the same walk would read the same things."""

    names: list[tuple[Mapping[str, Any], str, Any]] = field(default_factory=list)  # namespace, name, object found
    classes: list[tuple[type, tuple[tuple[str, Any], ...], int]] = field(default_factory=list)  # a class, its members, len(vars)
    codes: list[tuple[types.FunctionType, types.CodeType]] = field(default_factory=list)
    cells: list[tuple[Any, Any]] = field(default_factory=list)  # closure cell, its contents
    data: list[tuple[Any, str | None]] = field(default_factory=list)  # a mutable constant and its text then

    def unchanged(self) -> bool:
        # Plain loops and identity checks: this runs for every unique id asked for (a few µs per class).
        for namespace, name, seen in self.names:
            if namespace.get(name, _ABSENT) is not seen:
                return False
        for position, (klass, members, size) in enumerate(self.classes):
            current = vars(klass)
            for name, member in members:
                if current.get(name, _ABSENT) is not member:
                    return False
            if len(current) != size:  # a member added, or a cache of gokart's filled since (then nothing changed)
                if len(_class_members(klass)) != len(members):
                    return False
                self.classes[position] = (klass, members, len(current))
        for function, code in self.codes:
            if function.__code__ is not code:
                return False
        for cell, contents in self.cells:
            if _cell_contents(cell) is not contents:
                return False
        for value, text in self.data:
            if _plain_data_repr(value) != text:
                return False
        return True


@dataclass
class _Fingerprint:
    parts: dict[str, str]
    digest: str
    lookups: _Lookups


# Entries hold strong references to the objects they saw, so an id is never reused by a new object
# while an entry compares against it.
_cache: weakref.WeakKeyDictionary[type, _Fingerprint] = weakref.WeakKeyDictionary()
# A function's own hash and the names it reads depend only on its code object.
_function_memo: weakref.WeakKeyDictionary[types.FunctionType, tuple[types.CodeType, str, list[list[str]]]] = weakref.WeakKeyDictionary()


def code_fingerprint(task_class: type) -> str:
    """One md5 over :func:`code_fingerprint_parts`; what enters the unique id when ``code_fingerprint_check`` is on."""
    return _fingerprint(task_class).digest


def code_fingerprint_parts(task_class: type) -> dict[str, str]:
    """The md5 of each piece of code the task depends on, by qualified name (``pkg.mod.Task.run``, ``pkg.helpers.clean``).

    Comparing two of these dicts tells which function, method or constant changed between runs.
    """
    return dict(_fingerprint(task_class).parts)


_generation = 0


def generation() -> int:
    """How many times :func:`refresh` found changed code; a unique id cached under another generation is recomputed."""
    return _generation


def refresh() -> int:
    """Drop the fingerprints whose code changed since they were computed, and return the generation.

    A task instance caches its unique id (and luigi hands the same instance back for the same
    parameters), so a changed helper must also invalidate ids computed before the change: a
    build, a plan, and each cell of an IPython kernel call this first.
    """
    global _generation
    stale = [task_class for task_class, found in list(_cache.items()) if not found.lookups.unchanged()]
    for task_class in stale:
        _cache.pop(task_class, None)
    if stale:
        _generation += 1
    return _generation


def _fingerprint(task_class: type) -> _Fingerprint:
    found = _cache.get(task_class)
    if found is not None and found.lookups.unchanged():
        return found
    if found is not None:
        global _generation
        _generation += 1  # other tasks may hold ids made with the old fingerprint
    elif task_class.__module__ == '__main__':
        _refresh_before_each_cell()
    walker = _Walker(own_package=task_class.__module__.split('.')[0])
    walker.visit_class(task_class)
    parts = dict(sorted(walker.parts.items()))
    digest = hashlib.md5('\n'.join(f'{name}={value}' for name, value in parts.items()).encode()).hexdigest()
    found = _cache[task_class] = _Fingerprint(parts=parts, digest=digest, lookups=walker.lookups)
    return found


_hooked_shells: weakref.WeakSet[Any] = weakref.WeakSet()


def _refresh_before_each_cell() -> None:
    """In IPython or Jupyter, run :func:`refresh` before each cell, so ids asked for in a cell see the cells run before it."""
    ipython_module = sys.modules.get('IPython')
    shell = ipython_module.get_ipython() if ipython_module is not None else None  # type: ignore[attr-defined]
    events = getattr(shell, 'events', None)
    if shell is None or events is None or shell in _hooked_shells:
        return
    events.register('pre_run_cell', lambda *_: refresh())
    _hooked_shells.add(shell)


def changed_code(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Qualified names whose code differs between two parts dicts, including ones added or removed; sorted."""
    return sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))


def own_code(task: Any) -> str:
    """Source of the methods a task defines beyond TaskOnKart's, sorted and joined (``serialized_task_definition_check``).

    Given a task instance (as ``TaskOnKart.get_own_code`` and scheme-1 ids do, like gokart 1.12),
    the members are the instance's: an ``lru_cache``'d method counts (it binds to the instance), a
    function stored on the instance counts, and ``to_str_params`` does not (gokart 1.12 replaces it
    on each instance with a cache, which has no source). Given a class (scheme 2), the class's.
    """
    return ''.join(sorted(code_of(task) - code_of(task_protocol.kart_base())))


def code_of(cls: Any) -> set[str]:
    """The source of every method of ``cls`` (a class or an instance), inherited ones included; methods without source are left out."""
    codes = set()
    for name, member in inspect.getmembers(cls, predicate=lambda m: inspect.isfunction(m) or inspect.ismethod(m)):
        if name == 'to_str_params' and not isinstance(cls, type):
            continue  # an instance's to_str_params is a per-instance cache in gokart 1.12, without source
        try:
            codes.add(inspect.getsource(member))
        except (OSError, TypeError):  # built-in or dynamically created methods have no source
            continue
    return codes


class _Walker:
    """Collects the parts of one task class: each function, class member or constant it reaches, once."""

    def __init__(self, own_package: str) -> None:
        self.own_package = own_package
        self.parts: dict[str, str] = {}
        self.lookups = _Lookups()
        self._visited: set[int] = set()

    # ----- classes ----------------------------------------------------------------------------
    def visit_class(self, cls: type) -> None:
        """The members of ``cls`` and of its first-party bases."""
        for klass in cls.__mro__:
            if id(klass) in self._visited or not self._is_first_party_module(klass.__module__):
                continue
            self._visited.add(id(klass))
            self.lookups.classes.append((klass, _class_members(klass), len(vars(klass))))
            for name, member in vars(klass).items():
                self._visit_member(f'{klass.__module__}.{klass.__qualname__}.{name}', name, member)

    def _visit_member(self, qualified_name: str, name: str, member: Any) -> None:
        if name in _SKIPPED_CLASS_ATTRIBUTES or isinstance(member, luigi.Parameter):
            return
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        member = _unwrapped(member)
        if isinstance(member, property):
            for role, accessor in (('fget', member.fget), ('fset', member.fset), ('fdel', member.fdel)):
                accessor = _unwrapped(accessor)
                if isinstance(accessor, types.FunctionType):
                    self.visit_function(f'{qualified_name}.{role}', accessor)
            return
        if isinstance(member, types.FunctionType):
            self.visit_function(qualified_name, member)
        elif not name.startswith('_'):  # luigi and gokart keep private caches on task classes
            self._add_constant(qualified_name, member)

    # ----- functions --------------------------------------------------------------------------
    def visit_function(self, qualified_name: str, function: types.FunctionType) -> None:
        """Hash ``function``'s normalized code and follow the names it uses."""
        if id(function) in self._visited:
            return
        self._visited.add(id(function))
        self.lookups.codes.append((function, function.__code__))
        digest, chains = _function_digest(function)
        self.parts[qualified_name] = digest
        globals_, cells = function.__globals__, dict(zip(function.__code__.co_freevars, function.__closure__ or (), strict=False))
        for chain in chains:
            self._follow(chain, globals_, cells, function)

    def _follow(self, chain: list[str], globals_: dict[str, Any], cells: dict[str, Any], function: types.FunctionType) -> None:
        """Resolve ``a.b.c`` where ``function`` runs: through modules, to a function, class or constant; record each lookup."""
        head = chain[0]
        owner = function.__module__
        if head in cells:  # a closure variable belongs to the enclosing function
            value = _cell_contents(cells[head])
            self.lookups.cells.append((cells[head], value))
            name = f'{owner}.{function.__qualname__}.{head}'
        else:
            value = globals_.get(head, _ABSENT)  # builtins live in __builtins__, so they stay unresolved
            self.lookups.names.append((globals_, head, value))
            name = f'{owner}.{head}'
        if value is _ABSENT:
            return  # not bound (yet): a later definition of the name is a change
        for attribute in chain[1:]:
            if not isinstance(value, types.ModuleType):
                break
            namespace = vars(value)
            owner, name = value.__name__, f'{value.__name__}.{attribute}'
            value = namespace.get(attribute, _ABSENT)
            self.lookups.names.append((namespace, attribute, value))
            if value is _ABSENT:
                return
        self._visit_value(name, value, owner)

    def _visit_value(self, name: str, value: Any, owner: str) -> None:
        value = _unwrapped(value)
        if isinstance(value, types.ModuleType):
            return
        if isinstance(value, types.FunctionType):
            if self._is_first_party_module(value.__module__):
                self.visit_function(f'{value.__module__}.{value.__qualname__}', value)
            return
        if isinstance(value, type):
            # Another task's code is its own fingerprint; its output reaches this task through its id.
            if not issubclass(value, luigi.Task) and self._is_first_party_module(value.__module__):
                self.visit_class(value)
            return
        if self._is_first_party_module(owner) and (isinstance(value, _IMMUTABLE) or name.rsplit('.', 1)[-1].isupper()):
            # A lower-case module-level list or dict is as often a cache filled at run time as a constant:
            # only immutable values and UPPER_CASE names count, so the fingerprint does not drift while a process runs.
            self._add_constant(name, value)

    def _add_constant(self, name: str, value: Any) -> None:
        text = _plain_data_repr(value)
        if not isinstance(value, _IMMUTABLE):  # a list or dict can change in place, under the same identity
            self.lookups.data.append((value, text))
        if text is not None:
            self.parts[name] = hashlib.md5(text.encode()).hexdigest()

    # ----- first party ------------------------------------------------------------------------
    def _is_first_party_module(self, module_name: str | None) -> bool:
        if not module_name:
            return False
        top = module_name.split('.')[0]
        if top == self.own_package:
            return True
        if top in _NOT_FIRST_PARTY_PACKAGES or top in sys.stdlib_module_names:
            return False
        module = sys.modules.get(module_name)
        file = getattr(module, '__file__', None)
        if file is None:
            return module_name == '__main__'  # a notebook or an interactive session
        return not _is_library_path(file)


def _class_members(klass: type) -> tuple[tuple[str, Any], ...]:
    """A class's own members, without the caches gokart fills on task classes at first use (``_gokart_params`` ...)."""
    return tuple((name, member) for name, member in vars(klass).items() if not name.startswith('_gokart_'))


def _cell_contents(cell: Any) -> Any:
    try:
        return cell.cell_contents
    except ValueError:  # a cell not filled yet
        return _ABSENT


def _function_digest(function: types.FunctionType) -> tuple[str, list[list[str]]]:
    """The md5 of a function's normalized code and the global or closure names it reads, memoized per function and code object."""
    memo = _function_memo.get(function)
    if memo is not None and memo[0] is function.__code__:
        return memo[1], memo[2]
    code = function.__code__
    tree = _syntax_tree(function)
    if tree is None:
        digest = _code_object_digest(code)
        chains = [[name] for name in _code_object_names(code)]
    else:
        digest = hashlib.md5(_normalized(tree).encode()).hexdigest()
        # Only names the code reads as globals or closure variables: a local ``df`` or ``i`` is not the
        # notebook's global of that name.
        outer = set(_code_object_names(code))
        chains = [chain for chain in _name_chains(tree) if chain[0] in outer]
    _function_memo[function] = (code, digest, chains)
    return digest, chains


def _syntax_tree(function: types.FunctionType) -> ast.AST | None:
    """The function's parsed source without docstrings; None when there is no parsable source (e.g. a lambda in a call)."""
    source = _source_of(function)
    if source is None:
        return None
    try:
        tree = ast.parse(textwrap.dedent(source))
    except (SyntaxError, IndentationError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and _has_docstring(node):
            node.body = node.body[1:] or [ast.Pass()]
    return tree


def _source_of(function: types.FunctionType) -> str | None:
    """The function's source: from ``inspect`` (files, ``linecache``), else from the IPython cell it was typed in."""
    try:
        return inspect.getsource(function)
    except (OSError, TypeError):
        pass
    lines = _kernel_cell_lines(function.__code__.co_filename)
    first = function.__code__.co_firstlineno
    if lines is None or not 0 < first <= len(lines):
        return None
    try:
        return ''.join(inspect.getblock(lines[first - 1 :]))
    except (SyntaxError, IndentationError, ValueError):
        return None


def _kernel_cell_lines(filename: str) -> list[str] | None:
    """The lines of the IPython/Jupyter cell compiled under ``filename``, from the kernel's history.

    IPython puts each cell in ``linecache``, but anything calling ``linecache.clearcache()`` drops it;
    the shell's compiler still maps the file name to the cell number, and the history keeps the cell.
    """
    cached: Any = linecache.cache.get(filename)
    if cached is not None and len(cached) > 2 and cached[2]:
        return list(cached[2])
    ipython_module = sys.modules.get('IPython')
    shell = ipython_module.get_ipython() if ipython_module is not None else None  # type: ignore[attr-defined]
    if shell is None:
        return None
    number = getattr(getattr(shell, 'compile', None), '_filename_map', {}).get(filename)
    history = getattr(getattr(shell, 'history_manager', None), 'input_hist_parsed', None)
    if not isinstance(number, int) or history is None or not 0 <= number < len(history):
        return None
    text = history[number]
    return (text if text.endswith('\n') else text + '\n').splitlines(keepends=True)


def _normalized(node: Any) -> str:
    """A text form of a syntax tree, like ``ast.dump`` but stable across Python versions.

    Empty and None fields are left out, so fields that newer Pythons add (``type_params``) or that
    ``ast.dump`` stopped showing do not change the text; positions are never included.
    """
    if isinstance(node, ast.AST):
        fields = []
        for name, value in ast.iter_fields(node):
            if value is None or value == [] or name in ('type_comment', 'kind'):
                continue
            fields.append(f'{name}={_normalized(value)}')
        return f'{type(node).__name__}({", ".join(fields)})'
    if isinstance(node, list):
        return '[' + ', '.join(_normalized(item) for item in node) + ']'
    return repr(node)


def _unwrapped(value: Any) -> Any:
    """The function under ``functools.wraps``-style decorators (``functools.cache``, user decorators)."""
    if not callable(value) or not hasattr(value, '__wrapped__'):
        return value
    try:
        return inspect.unwrap(value)
    except ValueError:  # a cycle of __wrapped__
        return value


def _has_docstring(node: ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    first = node.body[0] if node.body else None
    return isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)


def _name_chains(tree: ast.AST) -> list[list[str]]:
    """Every ``name`` and ``name.attr.attr`` read in the tree, as lists of names."""
    chains: list[list[str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            chains.append([node.id])
        elif isinstance(node, ast.Attribute):
            chain = [node.attr]
            value: ast.expr = node.value
            while isinstance(value, ast.Attribute):
                chain.append(value.attr)
                value = value.value
            if isinstance(value, ast.Name):
                chains.append([value.id, *reversed(chain)])
    return chains


def _code_object_digest(code: types.CodeType) -> str:
    """md5 of bytecode, names and constants (nested code objects included); line numbers are left out."""
    digest = hashlib.md5()
    digest.update(code.co_code)
    digest.update(repr(code.co_names).encode())
    for constant in code.co_consts:
        digest.update(_code_object_digest(constant).encode() if isinstance(constant, types.CodeType) else repr(constant).encode())
    return digest.hexdigest()


def _code_object_names(code: types.CodeType) -> list[str]:
    names = list(code.co_names) + list(code.co_freevars)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names.extend(_code_object_names(constant))
    return names


_PLAIN_SCALARS = (type(None), bool, int, float, complex, str, bytes)
_IMMUTABLE = (*_PLAIN_SCALARS, tuple, frozenset, enum.Enum)


def _plain_data_repr(value: Any, depth: int = 0) -> str | None:
    """A repr that is stable across processes for plain data, None for anything else."""
    if depth > 10:
        return None
    if isinstance(value, _PLAIN_SCALARS):
        return repr(value)
    if isinstance(value, enum.Enum):
        return f'{type(value).__qualname__}.{value.name}={_plain_data_repr(value.value, depth + 1)}'
    if isinstance(value, (tuple, list)):
        items = [_plain_data_repr(v, depth + 1) for v in value]
        return None if None in items else f'{type(value).__name__}[{", ".join(items)}]'  # type: ignore[arg-type]
    if isinstance(value, (set, frozenset)):
        members = [_plain_data_repr(v, depth + 1) for v in value]
        return None if None in members else f'set{{{", ".join(sorted(members))}}}'  # type: ignore[arg-type]
    if isinstance(value, dict):
        pairs = [(_plain_data_repr(k, depth + 1), _plain_data_repr(v, depth + 1)) for k, v in value.items()]
        if any(k is None or v is None for k, v in pairs):
            return None
        return 'dict{' + ', '.join(f'{k}: {v}' for k, v in pairs) + '}'
    return None


def _library_roots() -> tuple[str, ...]:
    roots = set()
    for key in ('stdlib', 'platstdlib', 'purelib', 'platlib'):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(os.path.realpath(path))
    for path in [*site.getsitepackages(), site.getusersitepackages()]:
        roots.add(os.path.realpath(path))
    return tuple(sorted(roots))


_LIBRARY_ROOTS = _library_roots()


def _is_library_path(file: str) -> bool:
    path = os.path.realpath(file)
    parts = path.split(os.sep)
    if 'site-packages' in parts or 'dist-packages' in parts:
        return True
    return any(path.startswith(root + os.sep) for root in _LIBRARY_ROOTS)


__all__ = [
    'changed_code',
    'code_fingerprint',
    'code_fingerprint_parts',
    'code_of',
    'generation',
    'own_code',
    'refresh',
]
