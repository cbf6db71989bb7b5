"""``[gokart] run_lock`` and ``[gokart] run_lock_lease_seconds``, read once per build.

The environment variables ``GOKART_RUN_LOCK`` and ``GOKART_RUN_LOCK_LEASE_SECONDS`` win over the
luigi config, so one run can switch locking without editing the config file. The values are read
when a build starts planning (``refresh``), not once per task: the executor asks for them for every
task it runs.
"""

from __future__ import annotations

from typing import NamedTuple

from gokart.core import settings as gokart_settings

SECTION = gokart_settings.SECTION
MODE_OPTION = 'run_lock'
LEASE_OPTION = 'run_lock_lease_seconds'
MODE_VARIABLE = gokart_settings.setting(MODE_OPTION).environment_variable
LEASE_VARIABLE = gokart_settings.setting(LEASE_OPTION).environment_variable

MODES = ('auto', 'file', 'redis', 'workspace', 'none')
DEFAULT_LEASE_SECONDS: float = gokart_settings.setting(LEASE_OPTION).default
MINIMUM_LEASE_SECONDS = 1.0


class RunLockSettings(NamedTuple):
    mode: str
    lease_seconds: float


_current: RunLockSettings | None = None


def current() -> RunLockSettings:
    """The settings read at the start of this build (read now if no build refreshed them)."""
    global _current
    settings = _current
    if settings is None:
        settings = _current = read()
    return settings


def refresh() -> RunLockSettings:
    """Read the settings again from the environment and the luigi config; called when a build starts."""
    global _current
    _current = read()
    return _current


def read() -> RunLockSettings:
    """Both settings as ``core.settings`` reads them (a bad value raises ``RunLockConfigurationError``)."""
    return RunLockSettings(mode=gokart_settings.value(MODE_OPTION), lease_seconds=gokart_settings.value(LEASE_OPTION))
