"""The metaclass of TaskOnKart: luigi's ``Register``, plus forgetting per-class tables when a parameter (or ``__init__``) changes.

``gokart.task`` keeps, per task class, tables built from its parameters (the parameter list, the
normalized defaults, how values are set and shown) so that constructing a task costs no scan of the
class. A test or a plugin may replace a parameter attribute after the class was first used
(``Task.param = luigi.IntParameter(default=2)``, ``mock.patch.object(Task, 'param', ...)``, ``del``):
this metaclass sees every such assignment on the class and drops the tables of the class and of
its subclasses, so the next construction uses the new parameter. Construction itself checks nothing.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

import luigi
from luigi.task_register import Register

CLASS_TABLE_PREFIX = '_gokart_'
"""Per-class tables are class attributes whose names start with this, set with ``type.__setattr__``."""


class _TaskRegister(Register):
    """luigi's task register; assigning or deleting a parameter attribute of a task class forgets its tables."""

    def __setattr__(cls, name: str, value: Any) -> None:
        old = _static_attribute(cls, name)
        if isinstance(value, luigi.Parameter) and getattr(value, '_attribute_name', None) is None:
            # luigi names a parameter through __set_name__, which only the class statement calls.
            value.__set_name__(cls, name)
        super().__setattr__(name, value)
        # A new __init__ changes whether construction must look for changes it makes (ClassSetup.own_init).
        if isinstance(value, luigi.Parameter) or isinstance(old, luigi.Parameter) or name == '__init__':
            forget_class_tables(cls)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        task = super().__call__(*args, **kwargs)
        # The whole __init__ has run (the subclass's too): forget what was derived from parameter
        # values that it changed afterwards in param_kwargs (see construction.after_init).
        after_init = getattr(task, '_gokart_after_init', None)
        if after_init is not None:
            after_init()
        return task

    def __delattr__(cls, name: str) -> None:
        old = _static_attribute(cls, name)
        super().__delattr__(name)
        if isinstance(old, luigi.Parameter) or name == '__init__':
            forget_class_tables(cls)


if TYPE_CHECKING:
    # Type checkers see luigi's own metaclass: a metaclass of ours on TaskOnKart makes plain mypy stop
    # applying luigi.Task's dataclass_transform, so user code calling MyTask(param=...) would not check.
    TaskRegister = Register
else:
    TaskRegister = _TaskRegister


def forget_class_tables(cls: type) -> None:
    """Drop the per-class tables of ``cls`` and of every subclass of it; they are rebuilt on the next construction."""
    pending = [cls]
    seen: set[type] = set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        for name in [name for name in current.__dict__ if name.startswith(CLASS_TABLE_PREFIX)]:
            type.__delattr__(current, name)
        pending.extend(type.__subclasses__(current))


def _static_attribute(cls: type, name: str) -> Any:
    """The attribute ``name`` of ``cls`` as stored (no descriptor called), or None."""
    try:
        return inspect.getattr_static(cls, name)
    except AttributeError:
        return None
