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

Fingerprints are computed once per class per process.
"""

from __future__ import annotations

import ast
import enum
import hashlib
import inspect
import os
import site
import sys
import sysconfig
import textwrap
import types
import weakref
from typing import Any

import luigi

from gokart.core import task_protocol

_NOT_FIRST_PARTY_PACKAGES = frozenset({'gokart', 'luigi', 'builtins', '__future__'})
_SKIPPED_CLASS_ATTRIBUTES = frozenset({'__module__', '__qualname__', '__doc__', '__dict__', '__weakref__', '__annotations__'})
_cache: weakref.WeakKeyDictionary[type, dict[str, str]] = weakref.WeakKeyDictionary()


def code_fingerprint(task_class: type) -> str:
    """One md5 over :func:`code_fingerprint_parts`; what enters the unique id when ``code_fingerprint_check`` is on."""
    parts = code_fingerprint_parts(task_class)
    return hashlib.md5('\n'.join(f'{name}={digest}' for name, digest in sorted(parts.items())).encode()).hexdigest()


def code_fingerprint_parts(task_class: type) -> dict[str, str]:
    """The md5 of each piece of code the task depends on, by qualified name (``pkg.mod.Task.run``, ``pkg.helpers.clean``).

    Comparing two of these dicts tells which function, method or constant changed between runs.
    """
    found = _cache.get(task_class)
    if found is None:
        walker = _Walker(own_package=task_class.__module__.split('.')[0])
        walker.visit_class(task_class)
        found = _cache[task_class] = dict(sorted(walker.parts.items()))
    return dict(found)


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
        self._visited: set[int] = set()

    # ----- classes ----------------------------------------------------------------------------
    def visit_class(self, cls: type) -> None:
        """The members of ``cls`` and of its first-party bases."""
        for klass in cls.__mro__:
            if id(klass) in self._visited or not self._is_first_party_module(klass.__module__):
                continue
            self._visited.add(id(klass))
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
        tree = _syntax_tree(function)
        if tree is None:
            self.parts[qualified_name] = _code_object_digest(function.__code__)
            chains = [[name] for name in _code_object_names(function.__code__)]
        else:
            self.parts[qualified_name] = hashlib.md5(_normalized(tree).encode()).hexdigest()
            chains = _name_chains(tree)
        scope = _scope_of(function)
        for chain in chains:
            self._follow(chain, scope, function)

    def _follow(self, chain: list[str], scope: dict[str, Any], function: types.FunctionType) -> None:
        """Resolve ``a.b.c`` in a function's scope: through modules, to a function, class or constant."""
        head = chain[0]
        if head not in scope:
            return  # a local, an attribute of self, or a builtin
        value = scope[head]
        owner = function.__module__
        # A closure variable belongs to the enclosing function, a global to the module.
        name = f'{owner}.{function.__qualname__}.{head}' if head in function.__code__.co_freevars else f'{owner}.{head}'
        for attribute in chain[1:]:
            if not isinstance(value, types.ModuleType):
                break
            owner, name = value.__name__, f'{value.__name__}.{attribute}'
            value = getattr(value, attribute, None)
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


def _scope_of(function: types.FunctionType) -> dict[str, Any]:
    """The names a function can see besides its locals: its globals, overridden by its closure cells."""
    scope = dict(function.__globals__)  # builtins live in __builtins__, so they stay unresolved
    for name, cell in zip(function.__code__.co_freevars, function.__closure__ or (), strict=False):
        try:
            scope[name] = cell.cell_contents
        except ValueError:  # a cell not filled yet
            continue
    return scope


def _syntax_tree(function: types.FunctionType) -> ast.AST | None:
    """The function's parsed source without docstrings; None when there is no parsable source (e.g. a lambda in a call)."""
    try:
        source = textwrap.dedent(inspect.getsource(function))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError, IndentationError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and _has_docstring(node):
            node.body = node.body[1:] or [ast.Pass()]
    return tree


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
    'own_code',
]
