"""What the modules below ``gokart.task`` know of a task: a Protocol for type checkers, and the base class at run time.

Identity, the DAG walk, error messages and the executor handle tasks without importing
``gokart.task``, which imports them: they type tasks as :class:`KartTask` and ask :func:`is_kart`
where they must tell a gokart task from a plain luigi one. ``gokart.task`` declares ``TaskOnKart``
here once, right after defining it; every such question is asked after that (a task exists).
"""

from __future__ import annotations

from typing import Any, Protocol


class KartTask(Protocol):
    """The part of ``TaskOnKart`` that identity, planning, execution and error messages use."""

    task_unique_id: str | None
    task_id: str
    task_log: dict[str, Any]  # what the run logged; SUCCESS adds its output paths (records/run_records.py)
    FIX_RANDOM_SEED_VALUE_NONE_MAGIC_NUMBER: int

    @property
    def task_namespace(self) -> str | None: ...

    @property
    def workspace_directory(self) -> str: ...

    @property
    def significant(self) -> bool: ...

    @property
    def cache_unique_id(self) -> bool: ...

    @property
    def serialized_task_definition_check(self) -> bool: ...

    @property
    def code_fingerprint_check(self) -> bool: ...

    def get_own_code(self) -> str: ...

    @property
    def fix_random_seed_methods(self) -> Any: ...

    @property
    def fix_random_seed_value(self) -> int: ...

    def make_target(self, relative_file_path: str | None = None, use_unique_id: bool = True, processor: Any = None) -> Any: ...

    @property
    def should_dump_supplementary_log_files(self) -> bool: ...

    @classmethod
    def get_task_family(cls) -> str: ...

    def to_str_params(self, only_significant: bool = False, only_public: bool = False) -> dict[str, str]: ...

    def make_unique_id(self) -> str: ...

    def requires(self) -> Any: ...

    def output(self) -> Any: ...

    def input(self) -> Any: ...

    def complete(self) -> bool: ...

    def run(self) -> Any: ...


_declared: list[type] = []


def declare_base(cls: type) -> None:
    """Make ``cls`` (``TaskOnKart``) the class :func:`kart_base` returns; ``gokart.task`` calls this once."""
    _declared[:] = [cls]


def kart_base() -> type:
    """``TaskOnKart``; declared by ``gokart.task``, which every task class imports, so it is there once a task is."""
    if not _declared:
        raise RuntimeError('gokart.task is not imported yet: import gokart (or gokart.task) before using tasks.')
    return _declared[0]


def is_kart(value: Any) -> bool:
    """Whether ``value`` is a gokart task (an instance of ``TaskOnKart``), as ``isinstance`` would say."""
    return bool(_declared) and isinstance(value, _declared[0])


def is_kart_class(cls: Any) -> bool:
    """Whether ``cls`` is ``TaskOnKart`` or a subclass of it."""
    return bool(_declared) and isinstance(cls, type) and issubclass(cls, _declared[0])
