"""``[gokart] run_lock`` and ``[gokart] run_lock_lease_seconds``, read once per build.

The environment variables ``GOKART_RUN_LOCK`` and ``GOKART_RUN_LOCK_LEASE_SECONDS`` win over the
luigi config, so one run can switch locking without editing the config file. The values are read
when a build starts planning (``refresh``), not once per task: the executor asks for them for every
task it runs.
"""

from __future__ import annotations

import os
from typing import NamedTuple

from gokart.errors import RunLockConfigurationError
from gokart.utils import config_section

SECTION = 'gokart'
MODE_OPTION = 'run_lock'
LEASE_OPTION = 'run_lock_lease_seconds'
MODE_VARIABLE = 'GOKART_RUN_LOCK'
LEASE_VARIABLE = 'GOKART_RUN_LOCK_LEASE_SECONDS'

MODES = ('auto', 'file', 'redis', 'workspace', 'none')
DEFAULT_LEASE_SECONDS = 60.0
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
    section = config_section(SECTION) or {}
    mode_text, mode_source = _value(MODE_VARIABLE, section.get(MODE_OPTION), 'auto')
    mode = mode_text.strip().lower()
    if mode not in MODES:
        raise RunLockConfigurationError(
            f'{mode_source} is {mode_text!r}, which is not a run lock backend: use one of {", ".join(MODES)} '
            '(auto: file locks for local workspaces, Redis when redis_host/redis_port are set, workspace leases on s3:// and gs://).'
        )
    lease_text, lease_source = _value(LEASE_VARIABLE, section.get(LEASE_OPTION), str(DEFAULT_LEASE_SECONDS))
    try:
        lease_seconds = float(lease_text)
    except ValueError:
        lease_seconds = -1.0
    if not lease_seconds >= MINIMUM_LEASE_SECONDS:
        raise RunLockConfigurationError(
            f'{lease_source} is {lease_text!r}: give the lease time of workspace run locks in seconds, at least {MINIMUM_LEASE_SECONDS:g} '
            f'(default {DEFAULT_LEASE_SECONDS:g}).'
        )
    return RunLockSettings(mode=mode, lease_seconds=lease_seconds)


def _value(variable: str, configured: str | None, default: str) -> tuple[str, str]:
    """The value and where it came from, for messages: the environment wins over the config file."""
    from_environment = os.environ.get(variable)
    if from_environment:
        return from_environment, f'the environment variable {variable}'
    if configured is not None and configured.strip():
        option = MODE_OPTION if variable == MODE_VARIABLE else LEASE_OPTION
        return configured, f'[{SECTION}] {option} in the luigi config'
    return default, 'the default'
