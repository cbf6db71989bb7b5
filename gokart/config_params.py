"""``inherits_config_params``: fill a task's parameters from a luigi Config class."""

from __future__ import annotations

from typing import Any, TypeVar

import luigi

T = TypeVar('T', bound=type)


def inherits_config_params(config_class: type[luigi.Config], parameter_alias: dict[str, str] | None = None) -> Any:
    """Decorate a task class so that parameters it shares with ``config_class`` default to the config's values.

    ``parameter_alias`` maps a config parameter name to the task parameter it fills. Explicit
    arguments and root-task command-line values still win.
    """
    alias = parameter_alias or {}

    def decorator(task_class: T) -> T:
        class Wrapped(task_class):  # type: ignore[valid-type, misc]
            @classmethod
            def get_param_values(cls, params: Any, args: Any, kwargs: dict[str, Any]) -> Any:
                config = config_class()
                for config_name, _ in config_class.get_params():
                    task_name = alias.get(config_name, config_name)
                    if hasattr(cls, task_name) and task_name not in kwargs:
                        kwargs[task_name] = getattr(config, config_name)
                return super().get_param_values(params, args, kwargs)

        Wrapped.__name__ = task_class.__name__
        Wrapped.__qualname__ = task_class.__qualname__
        Wrapped.__module__ = task_class.__module__
        Wrapped.__doc__ = task_class.__doc__
        return Wrapped  # type: ignore[return-value]

    return decorator
