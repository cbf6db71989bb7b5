"""The plan-time check of a whole DAG's frame contracts, before any ``run()``.

Every edge whose consumer declares an ``input_schema`` is compared with what its producer declares
(``output_schema``); a producer whose output is cached as parquet or feather is also compared from
the file's footer, with today's declarations, so an output written before a schema changed is found
here rather than by a ``KeyError`` hours later. The build of a DAG without declarations pays one
check of a counter (``possibly_declared``); with declarations, one dictionary lookup per task plus the
comparisons of the edges that declare something.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from gokart.contracts import footer
from gokart.contracts.declarations import ALL_OUTPUTS, Declarations, declarations_of, possibly_declared
from gokart.contracts.frames import Mismatch, compare
from gokart.contracts.schema import Schema, compatible
from gokart.core import dag
from gokart.core.error_messages import describe_task
from gokart.core.task_protocol import is_kart, kart_base
from gokart.errors import SchemaContractError, SchemaDeclarationError
from gokart.storage import filesystem as storage
from gokart.utils import flatten

SHOWN_PROBLEMS = 20


@dataclass
class ContractCheck:
    """What the check found: each problem as a paragraph, and the footers it read (path -> bytes read)."""

    problems: list[str] = field(default_factory=list)
    footers_read: dict[str, int] = field(default_factory=dict)

    def raise_if_broken(self) -> None:
        if self.problems:
            raise SchemaContractError(contract_error_message(self.problems))


def check_contracts(tasks: Iterable[Any], cached: Callable[[Any], bool | None]) -> ContractCheck:
    """Compare the declared contracts of ``tasks`` (a planned DAG); ``cached(task)``: its outputs exist and it will not run (None: unknown).

    Consumers that will run are compared with their producers; cached tasks that declare an output
    schema have their parquet/feather outputs' footers compared with it.
    """
    check = ContractCheck()
    if not possibly_declared():
        return check
    checker = _Checker(check, cached)
    declaring = [(task, declared) for task in tasks if (declared := declarations_of(type(task))) is not None]
    checker.prefetch_remote_footers([task for task, declared in declaring if declared.outputs and cached(task)])
    for task, declared in declaring:
        if cached(task):
            checker.check_cached_outputs(task, declared)
        elif declared.inputs:
            checker.check_inputs(task, declared)
    return check


def contract_error_message(problems: list[str]) -> str:
    shown = problems[:SHOWN_PROBLEMS]
    more = [f'... and {len(problems) - SHOWN_PROBLEMS} more'] if len(problems) > SHOWN_PROBLEMS else []
    count = f'{len(problems)} frame contract{"s are" if len(problems) > 1 else " is"} broken'
    return f'{count}; found at plan time, before any task ran:\n' + '\n'.join(['', *shown, *more])


class _Checker:
    def __init__(self, check: ContractCheck, cached: Callable[[Any], bool | None]) -> None:
        self._check = check
        self._cached = cached
        self._footers: dict[str, footer.FooterColumns | BaseException] = {}
        self._checked_outputs: set[int] = set()
        self._prefetched: dict[str, footer.FooterColumns | Exception] = {}

    # ----- consumers: their input_schema against what producers declare (or have cached) ------------
    def check_inputs(self, consumer: Any, declared: Declarations) -> None:
        inputs = _Inputs(consumer)
        for input_name, by_output in declared.inputs.items():
            producers = inputs.producers(input_name)
            if producers is None:
                self._unknown_input(consumer, str(input_name), inputs.names())
                continue
            for producer in producers:
                for output_name, wanted in by_output.items():
                    self._compare_edge(consumer, input_name, producer, output_name, wanted)

    def _unknown_input(self, consumer: Any, input_name: str, known: list[str]) -> None:
        guess = closest_column(input_name, known)
        hint = f' Did you mean {guess!r}?' if guess else ''
        self._problem(
            f'{type(consumer).__name__}.input_schema names the input {input_name!r}, which {describe_task(consumer)} does not have '
            f'(its inputs: {", ".join(repr(n) for n in known) or "none by name: requires() returns no dict"}).{hint}'
        )

    def _compare_edge(self, consumer: Any, input_name: str | None, producer: Any, output_name: str | None, wanted: Schema) -> None:
        produced_declared = declarations_of(type(producer))
        produced = produced_declared.output_schema(output_name) if produced_declared is not None else None
        if produced is not None:
            for column in wanted:
                if column not in produced:
                    guess = closest_column(column, [c for c in produced if c not in wanted])
                    hint = f' Did you mean {guess!r}? (renamed upstream?)' if guess else ''
                    self._problem(
                        f'{_reads_text(consumer, input_name, output_name)} reads column {column!r}, which {describe_task(producer)} does not declare.{hint}\n'
                        f'    {_declaration_line(producer, "output_schema", output_name, produced, (guess,))}\n'
                        f'    {_declaration_line(consumer, "input_schema", input_name, wanted, (column,))}'
                    )
                elif not compatible(wanted.kind(column), produced.kind(column)):
                    self._problem(
                        f'{_reads_text(consumer, input_name, output_name)} reads column {column!r} as {wanted[column]}, but {describe_task(producer)} declares it {produced[column]}.\n'
                        f'    {_declaration_line(producer, "output_schema", output_name, produced, (column,))}\n'
                        f'    {_declaration_line(consumer, "input_schema", input_name, wanted, (column,))}'
                    )
            return
        if self._cached(producer):  # nothing declared upstream: what the cached file holds is the contract
            for path, found in self._footer_columns(producer, output_name):
                mismatch = compare(wanted, found.columns)
                if mismatch.missing or mismatch.wrong_dtype:
                    self._problem(
                        f'{_reads_text(consumer, input_name, output_name)} needs {wanted!r}, but the cached output {path} of {describe_task(producer)} has '
                        f'{_columns_text(found.columns)}: {_without_extra(mismatch).describe()}.{_rename_hint(mismatch, wanted, found.columns)}'
                    )

    # ----- cached outputs: their footers against today's output_schema ------------------------------
    def check_cached_outputs(self, task: Any, declared: Declarations) -> None:
        if id(task) in self._checked_outputs:
            return
        self._checked_outputs.add(id(task))
        for output_name in declared.outputs:
            schema = declared.output_schema(output_name)
            if schema is None:
                continue
            for path, found in self._footer_columns(task, output_name):
                mismatch = compare(schema, found.columns)
                if mismatch:
                    self._problem(
                        f'The cached output {path} of {describe_task(task)} no longer matches its output_schema '
                        f'{schema!r}: {mismatch.describe()}. It was written before the schema (or the code) changed; a schema '
                        'is not part of the unique id, so the file is still taken as complete. Rebuild it: build with '
                        f'rerun=True on {type(task).__name__} (e.g. --{type(task).get_task_family()}-rerun), or delete the file.'
                    )

    def prefetch_remote_footers(self, tasks: list[Any]) -> None:
        """Read the footers of these cached tasks' outputs on object stores at once: each is a few requests, a round trip each."""
        wanted = []
        for task in tasks:
            for target in _targets(task, ALL_OUTPUTS):
                fmt = footer.file_format(target)
                path = str(target.path()) if fmt is not None else ''
                if fmt is not None and not storage.is_local(path):
                    wanted.append((path, fmt))
        if not wanted:
            return

        def read(item: tuple[str, str]) -> footer.FooterColumns | Exception:
            try:
                return footer.cached_columns(*item)
            except Exception as e:  # reported, naming the task, when the check comes to it
                return e

        with ThreadPoolExecutor(max_workers=min(_REMOTE_READS, len(wanted))) as pool:
            self._prefetched.update(zip((path for path, _ in wanted), pool.map(read, wanted), strict=True))

    def _footer_columns(self, task: Any, output_name: str | None) -> list[tuple[str, footer.FooterColumns]]:
        """The footers of ``task``'s parquet/feather outputs named ``output_name`` (all of them for ``ALL_OUTPUTS``)."""
        found = []
        for target in _targets(task, output_name):
            fmt = footer.file_format(target)
            if fmt is None:
                continue
            path = str(target.path())
            columns = self._footers.get(path)
            if columns is None:
                try:
                    prefetched = self._prefetched.pop(path, None)
                    if isinstance(prefetched, Exception):
                        raise prefetched
                    columns = prefetched if prefetched is not None else footer.cached_columns(path, fmt)
                    self._check.footers_read[path] = columns.bytes_read
                except Exception as e:  # a corrupt or truncated cached file
                    columns = e
                    self._problem(
                        f'The cached output {path} of {describe_task(task)} cannot be read as {fmt} '
                        f'({type(e).__name__}: {e}): it is corrupt or truncated. Delete it, or build with rerun=True.'
                    )
                self._footers[path] = columns
            if isinstance(columns, footer.FooterColumns):
                found.append((path, columns))
        return found

    def _problem(self, text: str) -> None:
        self._check.problems.append(f'- {text}')


_REMOTE_READS = 32  # footers read at once on an object store, as the planner checks existence there


def _targets(task: Any, output_name: str | None) -> list[Any]:
    """``task``'s output targets named ``output_name`` (all of them for ``ALL_OUTPUTS``); none when ``output()`` raises."""
    try:
        outputs = task.output()
    except Exception:
        return []  # planning reports a task whose output() fails
    if isinstance(outputs, dict) and output_name is not ALL_OUTPUTS:
        return flatten(outputs.get(output_name, []))
    return flatten(outputs)


_own_requires: dict[type, bool] = {}


def _has_own_requires(task: Any) -> bool:
    """Whether the task's class defines its own ``requires()`` (else TaskOnKart's: its task-instance parameters by name)."""
    cls = type(task)
    found = _own_requires.get(cls)
    if found is None:
        found = _own_requires[cls] = cls.requires is not getattr(kart_base(), 'requires')  # noqa: B009 - TaskOnKart, known by the protocol only
    return found


class _Inputs:
    """The tasks a consumer loads, by the name ``load()`` takes, found as cheaply as the consumer allows.

    A plain ``input_schema = Schema(...)`` (name None) is the schema of each requirement: the list the
    plan collected (``dag.requirements``, remembered while planning). A named input of a task with
    gokart's own ``requires()`` is the task-instance parameter of that name; only a task with its own
    ``requires()`` is asked for it again, to read the dict's keys.
    """

    def __init__(self, consumer: Any) -> None:
        self._consumer = consumer
        self._required: dict[str, list[Any]] | None = None

    def producers(self, input_name: str | None) -> list[Any] | None:
        if input_name is None:
            try:
                return [t for t in dag.requirements(self._consumer) if hasattr(t, 'output')]
            except Exception:
                return []  # planning reports a requires() that fails
        if _has_own_requires(self._consumer) is False:
            value = getattr(self._consumer, input_name, None)
            tasks = [t for t in (value if isinstance(value, tuple) else (value,)) if is_kart(t)]
            return tasks or None
        return self._by_name().get(input_name)

    def names(self) -> list[str]:
        if _has_own_requires(self._consumer) is False:
            return list(self._consumer.make_task_instance_dictionary())
        return list(self._by_name())

    def _by_name(self) -> dict[str, list[Any]]:
        if self._required is None:
            try:
                required = self._consumer.requires()
            except Exception:
                required = None  # planning reports a requires() that fails
            self._required = (
                {str(name): [t for t in flatten(value) if hasattr(t, 'output')] for name, value in required.items()}
                if isinstance(required, dict)
                else {}
            )
        return self._required


def _reads_text(consumer: Any, input_name: str | None, output_name: str | None) -> str:
    where = '' if input_name is None else f' {input_name!r}'
    output = '' if output_name is None else f' (its output {output_name!r})'
    return f'{describe_task(consumer)}, through its input{where}{output},'


def _declaration_line(task: Any, attribute: str, key: str | None, schema: Schema, focus: tuple[str | None, ...] = ()) -> str:
    """``Class.attribute[key] = Schema(...)``; a long schema shortened to its first columns and those of ``focus``."""
    keyed = '' if key is None else f'[{key!r}]'
    if len(schema) <= SHOWN_COLUMNS:
        return f'{type(task).__name__}.{attribute}{keyed} = {schema!r}'
    names = list(schema)
    chosen = set(names[:SHOWN_COLUMNS]) | {n for n in focus if n is not None}
    parts = [n if schema[n] is None else f'{n}: {schema[n]}' for n in names if n in chosen]
    return f'{type(task).__name__}.{attribute}{keyed}: {len(names)} columns, among them ' + ', '.join(parts) + ', ...'


SHOWN_COLUMNS = 6


def closest_column(name: str, candidates: list[str]) -> str | None:
    """The candidate a renamed ``name`` most likely became: one containing it (``age`` -> ``age_years``), else the most alike."""
    lowered = name.lower()
    containing = [c for c in candidates if lowered in c.lower() or c.lower() in lowered]
    if containing:
        return min(containing, key=lambda c: abs(len(c) - len(name)))
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.5)
    return close[0] if close else None


def _without_extra(mismatch: Mismatch) -> Mismatch:
    return Mismatch(missing=mismatch.missing, wrong_dtype=mismatch.wrong_dtype)


def _rename_hint(mismatch: Mismatch, wanted: Schema, columns: dict[str, str]) -> str:
    hints = []
    for column in mismatch.missing:
        guess = closest_column(column, [c for c in columns if c not in wanted])
        if guess:
            hints.append(f' Did you mean {guess!r} for {column!r}? (renamed upstream?)')
    return ''.join(hints)


def _columns_text(columns: dict[str, str], limit: int = 12) -> str:
    shown = [f'{name}: {kind}' for name, kind in list(columns.items())[:limit]]
    return 'the columns ' + ', '.join(shown) + (f', and {len(columns) - limit} more' if len(columns) > limit else '')


__all__ = ['ContractCheck', 'SchemaDeclarationError', 'check_contracts', 'contract_error_message']
