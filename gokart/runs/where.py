"""The ``where`` expressions of ``gokart.runs``: comparisons of columns with constants, parsed, never evaluated as code.

The text is parsed with Python's ``ast`` and every node is checked against a short list: names
(columns), constants (numbers, strings, True, False, None, and tuples or lists of them after
``in``), the comparisons ``== != < <= > >= in not in``, ``and``, ``or``, ``not`` and a unary minus
on a number. Anything else (a call, an attribute, a subscript, a lambda, an f-string, ...) is
refused with ``WhereError`` before anything runs. The checked tree is then translated to SQL
(``to_sql``, with bound values) or applied to a DataFrame column by column (``apply``).
"""

from __future__ import annotations

import ast
import difflib
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gokart.errors import GokartError

_COMPARISONS: dict[type, str] = {ast.Eq: '=', ast.NotEq: '!=', ast.Lt: '<', ast.LtE: '<=', ast.Gt: '>', ast.GtE: '>='}
_MEMBERSHIP = (ast.In, ast.NotIn)
_CONSTANT_TYPES = (int, float, str, bool, type(None))

GRAMMAR = 'comparisons of columns with constants (==, !=, <, <=, >, >=, in, not in) joined by and, or, not'


class WhereError(GokartError, ValueError):
    """A ``where`` expression that is not a plain comparison of columns (it is refused, never run)."""


@dataclass(frozen=True)
class Where:
    """A checked ``where`` expression."""

    text: str
    tree: ast.expr

    @property
    def names(self) -> set[str]:
        """The columns named, a dotted one (``model.C``: a parameter of the task held in ``model``) whole."""
        found: set[str] = set()
        stack: list[ast.AST] = [self.tree]
        while stack:
            node = stack.pop()
            name = column_name(node)
            if name is not None:
                found.add(name)
            else:
                stack.extend(ast.iter_child_nodes(node))
        return found


def column_name(node: ast.AST) -> str | None:
    """``'c'`` for the name ``c``, ``'model.C'`` for ``model.C`` (names and attributes only), else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = column_name(node.value)
        return None if base is None else f'{base}.{node.attr}'
    return None


MAX_DEPTH = 64
"""How deeply a where expression may nest (``not not ...``, parentheses): deeper is refused, never a RecursionError."""


def parse(text: str) -> Where:
    """Check ``text`` and return it parsed; ``WhereError`` says what is not allowed, and where."""
    if not isinstance(text, str):
        raise WhereError(f'where takes a string expression, not {type(text).__name__}')
    try:
        # A NUL can only be meant inside a string constant: written as its escape, Python's parser reads it there.
        tree = ast.parse(text.strip().replace('\x00', '\\x00'), mode='eval')
    except SyntaxError as e:
        raise WhereError(
            f'where {text!r} is not an expression gokart can read ({e.msg}); it takes {GRAMMAR}, e.g. "c > 0.5 and model == \'svm\'"'
        ) from None
    except (RecursionError, MemoryError, ValueError) as e:  # nesting too deep for Python's parser; a NUL byte in the text
        raise WhereError(f'where {_shown(text)}: gokart cannot read it ({type(e).__name__}); it takes {GRAMMAR}') from None
    if _depth(tree.body) > MAX_DEPTH:
        raise WhereError(f'where {_shown(text)} nests more than {MAX_DEPTH} levels deep; write it flatter (e.g. "x in (1, 2)")')
    _check(tree.body, text)
    return Where(text, tree.body)


def _depth(node: ast.AST) -> int:
    """The nesting depth of ``node``, without recursion (a hostile expression may nest thousands deep)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(current))
    return deepest


def _shown(text: str) -> str:
    return repr(text) if len(text) <= 80 else repr(text[:77] + '...')


def _check(node: ast.AST, text: str) -> None:
    if isinstance(node, ast.BoolOp) and isinstance(node.op, (ast.And, ast.Or)):
        for value in node.values:
            _check(value, text)
        return
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _check(node.operand, text)
        return
    if isinstance(node, ast.Compare):
        operands = [node.left, *node.comparators]
        for position, op in enumerate(node.ops):
            if isinstance(op, _MEMBERSHIP):
                _check_operand(operands[position], text)
                _check_collection(operands[position + 1], text)
            elif type(op) in _COMPARISONS:
                _check_operand(operands[position], text)
                _check_operand(operands[position + 1], text)
            else:
                _refuse(node, text, f'the operator {type(op).__name__}')
            if column_name(operands[position]) is None and column_name(operands[position + 1]) is None:
                snippet = ast.get_source_segment(text.strip(), node) or ''
                raise WhereError(f'where {_shown(text)}: {snippet!r} compares two constants; name a column on one side')
        return
    if column_name(node) is not None:  # a column used as a truth value: "flag"
        return
    _refuse(node, text, _what(node))


def _check_operand(node: ast.AST, text: str) -> None:
    if column_name(node) is not None or _is_constant(node):
        return
    _refuse(node, text, _what(node))


def _check_collection(node: ast.AST, text: str) -> None:
    if isinstance(node, (ast.Tuple, ast.List)) and all(_is_constant(element) for element in node.elts):
        return
    _refuse(node, text, f'{_what(node)} after "in" (it takes a tuple or list of constants)')


def _is_constant(node: ast.AST) -> bool:
    if isinstance(node, (ast.Tuple, ast.List)):  # compared whole with a list or tuple parameter
        return all(_is_constant(element) for element in node.elts)
    if isinstance(node, ast.Constant):
        return isinstance(node.value, _CONSTANT_TYPES)
    return (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and _is_number(node.operand.value)
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def constant(node: ast.AST) -> Any:
    """The value of a checked constant node."""
    if isinstance(node, ast.UnaryOp):
        return -constant(node.operand)
    if isinstance(node, (ast.Tuple, ast.List)):
        return tuple(constant(element) for element in node.elts)
    assert isinstance(node, ast.Constant)
    return node.value


def _what(node: ast.AST) -> str:
    names = {
        ast.Call: 'a function call',
        ast.Attribute: 'an attribute access (other than a parameter of an upstream task, model.C)',
        ast.Subscript: 'a subscript',
        ast.Lambda: 'a lambda',
        ast.JoinedStr: 'an f-string',
        ast.BinOp: 'arithmetic',
        ast.NamedExpr: 'an assignment',
        ast.ListComp: 'a comprehension',
        ast.GeneratorExp: 'a comprehension',
        ast.IfExp: 'a conditional expression',
    }
    return names.get(type(node), f'a {type(node).__name__} expression')


def _refuse(node: ast.AST, text: str, what: str) -> None:
    snippet = ast.get_source_segment(text.strip(), node) or ''
    raise WhereError(f'where {text!r}: {what} ({snippet!r}) is not allowed; a where expression takes {GRAMMAR} and is never run as code')


# ----- applying it ---------------------------------------------------------------------------
class NotTranslatable(Exception):
    """The expression names a column SQL cannot compare as the task's parameter would (it is applied to the frame instead)."""


# A column as SQL sees it: its SQL text, its bound values, and how a constant compared with it is converted.
@dataclass(frozen=True)
class SqlColumn:
    sql: str
    values: tuple[Any, ...]
    convert: Callable[[Any], Any]


def to_sql(where: Where, column: Callable[[str], SqlColumn]) -> tuple[str, list[Any]]:
    """``where`` as a SQL condition with ``?`` placeholders and their values; ``column`` maps a name to its SQL."""
    values: list[Any] = []
    return _sql(where.tree, column, values), values


def _sql(node: ast.AST, column: Callable[[str], SqlColumn], values: list[Any]) -> str:
    if isinstance(node, ast.BoolOp):
        joiner = ' AND ' if isinstance(node.op, ast.And) else ' OR '
        return '(' + joiner.join(_sql(value, column, values) for value in node.values) + ')'
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return f'(NOT {_sql(node.operand, column, values)})'
    if isinstance(node, ast.Compare):
        parts = []
        operands = [node.left, *node.comparators]
        for position, op in enumerate(node.ops):
            parts.append(_sql_comparison(operands[position], op, operands[position + 1], column, values))
        return '(' + ' AND '.join(parts) + ')'
    raise NotTranslatable(type(node).__name__)  # a bare column as a truth value


def _sql_comparison(left: ast.AST, op: ast.cmpop, right: ast.AST, column: Callable[[str], SqlColumn], values: list[Any]) -> str:
    for side in (left, right):
        dotted = column_name(side)
        if dotted is not None and '.' in dotted:
            raise NotTranslatable(dotted)  # a parameter inside a task parameter: compared in the frame
        if isinstance(side, ast.Constant) and isinstance(side.value, str) and '\x00' in side.value:
            raise NotTranslatable('a NUL byte')  # SQLite's JSON functions stop at it; the frame compares it whole
    if isinstance(op, _MEMBERSHIP):
        assert isinstance(left, ast.Name) and isinstance(right, (ast.Tuple, ast.List))
        if any(isinstance(e, ast.Constant) and isinstance(e.value, str) and '\x00' in e.value for e in right.elts):
            raise NotTranslatable('a NUL byte')
        found = column(left.id)
        members = [found.convert(constant(element)) for element in right.elts]
        values.extend(found.values)
        values.extend(members)
        keyword = 'IN' if isinstance(op, ast.In) else 'NOT IN'
        return f'({found.sql} {keyword} ({", ".join("?" for _ in members)}))'
    symbol = _COMPARISONS[type(op)]
    if isinstance(left, ast.Name) and isinstance(right, ast.Name):
        a, b = column(left.id), column(right.id)
        values.extend(a.values + b.values)
        return f'({a.sql} {symbol} {b.sql})'
    if not isinstance(left, ast.Name) and not isinstance(right, ast.Name):
        raise NotTranslatable('two constants')
    name, other, flipped = (left, right, False) if isinstance(left, ast.Name) else (right, left, True)
    assert isinstance(name, ast.Name)
    found = column(name.id)
    value = constant(other)
    if isinstance(value, tuple):
        raise NotTranslatable('a list value')
    if value is None:
        if symbol not in ('=', '!='):
            raise WhereError(f'{name.id} {symbol} None: None is only compared with == or !=')
        values.extend(found.values)
        return f'({found.sql} IS {"NOT " if symbol == "!=" else ""}NULL)'
    values.extend(found.values)
    values.append(found.convert(value))
    if flipped:
        return f'({found.sql} {_FLIPPED[symbol]} ?)'
    return f'({found.sql} {symbol} ?)'


_FLIPPED = {'=': '=', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<='}


def apply(where: Where, frame: Any) -> Any:
    """The rows of the DataFrame ``frame`` for which ``where`` holds."""
    return frame[_mask(where.tree, frame, where.text)]


def _mask(node: ast.AST, frame: Any, text: str) -> Any:
    import pandas as pd

    if isinstance(node, ast.BoolOp):
        masks = [_mask(value, frame, text) for value in node.values]
        result = masks[0]
        for mask in masks[1:]:
            result = (result & mask) if isinstance(node.op, ast.And) else (result | mask)
        return result
    if isinstance(node, ast.UnaryOp):
        return ~_mask(node.operand, frame, text)
    if column_name(node) is not None:
        return _series(str(column_name(node)), frame, text).fillna(False).astype(bool)
    assert isinstance(node, ast.Compare)
    result = pd.Series(True, index=frame.index)
    operands = [node.left, *node.comparators]
    for position, op in enumerate(node.ops):
        left, right = operands[position], operands[position + 1]
        if isinstance(op, _MEMBERSHIP):
            members = [constant(element) for element in right.elts]  # type: ignore[attr-defined]
            found = _value(left, frame, text).isin(members)
            result &= found if isinstance(op, ast.In) else ~found
            continue
        a, b = _value(left, frame, text), _value(right, frame, text)
        if isinstance(a, tuple) or isinstance(b, tuple):  # a whole list or tuple value, compared cell by cell
            series, value = (b, a) if isinstance(a, tuple) else (a, b)
            equal = series.map(functools.partial(_same_sequence, value))
            if not isinstance(op, (ast.Eq, ast.NotEq)):
                raise WhereError(f'where {text!r}: a list or tuple is only compared with == or !=')
            result &= equal if isinstance(op, ast.Eq) else ~equal
            continue
        if isinstance(b, type(None)) or isinstance(a, type(None)):
            series = a if b is None else b
            isnull = series.isna()
            result &= isnull if isinstance(op, ast.Eq) else ~isnull
            continue
        try:
            result &= _COMPARE[type(op)](a, b).fillna(False).astype(bool)
        except TypeError as e:
            raise WhereError(f'where {text!r}: cannot compare {ast.unparse(left)} with {ast.unparse(right)} ({e})') from None
    return result


def _same_sequence(value: tuple[Any, ...], cell: Any) -> bool:
    return isinstance(cell, (list, tuple)) and tuple(cell) == value


def _value(node: ast.AST, frame: Any, text: str) -> Any:
    name = column_name(node)
    if name is not None:
        return _series(name, frame, text)
    return constant(node)


def _series(name: str, frame: Any, text: str) -> Any:
    if name not in frame.columns:
        import pandas as pd

        unknown(name, [str(c) for c in frame.columns], text)
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    return frame[name]


def unknown(name: str, columns: list[str], text: str) -> None:
    """``WhereError`` for a name close to a column (a typo); a name like none is a metric no run has recorded yet."""
    close = difflib.get_close_matches(name, columns, n=1, cutoff=0.75) or [c for c in columns if c.lower() == name.lower()]
    if close:
        raise WhereError(f'where {_shown(text)}: there is no column {name!r}; did you mean {close[0]!r}? (columns: {", ".join(columns)})')


def _compare(symbol: str) -> Callable[[Any, Any], Any]:
    import operator

    function = {'=': operator.eq, '!=': operator.ne, '<': operator.lt, '<=': operator.le, '>': operator.gt, '>=': operator.ge}[symbol]

    def compare(a: Any, b: Any) -> Any:
        import pandas as pd

        if not isinstance(a, pd.Series):  # constant on the left: compare the series from its side
            return _compare(_FLIPPED[symbol])(b, a)
        return function(a, b)

    return compare


_COMPARE = {op: _compare(symbol) for op, symbol in _COMPARISONS.items()}
