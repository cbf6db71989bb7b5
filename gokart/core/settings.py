"""Every ``[gokart]`` setting, declared once: name, type, default, environment variable, documentation.

A setting is read with ``value(name)`` (or ``lookup(name)`` for the value together with where it came
from). The environment variable wins over the ``[gokart]`` section of the luigi config, which wins over
the default; a variable or option that is unset or blank counts as not given. A value that cannot be
read raises the setting's error (``ConfigOptionError`` unless it says otherwise) naming the variable or
option, the value and what to give instead. ``gokart config`` prints the effective value of each one.

Settings are read at call time, never cached here: callers that ask for a value per task (the run lock,
the id scheme, the signing key) keep it for a build themselves, and a test may switch a setting with
``monkeypatch.setenv`` or ``luigi.configuration`` and see the effect at the next read.

Adding a setting is one entry in ``SETTINGS`` below, for example::

    Setting('shared_workspace', TEXT, None, 'A workspace read before building a missing output.'),

(its variable is ``GOKART_SHARED_WORKSPACE`` unless ``variable=`` says otherwise; ``in_file=False``
makes it an environment variable only), then the same row in docs/configuration.md:
``tests/test_settings.py`` fails until the docs list it, and prints the row to paste. Types: ``BOOLEAN``
(true/false, 1/0, yes/no, on/off, in any case), ``TEXT``, ``integer(minimum)``, ``number(minimum)``,
``choice(*names)``, or a ``Kind`` of your own.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, NamedTuple

from gokart.core.config_lookup import config_section
from gokart.errors import ConfigOptionError, GokartError, RunLockConfigurationError

SECTION = 'gokart'


class Kind(NamedTuple):
    """How a setting's text becomes its value: ``parse`` raises ``ValueError`` with what to give instead."""

    name: str  # as the docs and ``gokart config`` show the type
    parse: Callable[[str], Any]
    show: Callable[[Any], str] | None = None  # a value as ``gokart config`` prints it, when str() would mislead


_TRUE = frozenset({'true', '1', 'yes', 'on'})
_FALSE = frozenset({'false', '0', 'no', 'off'})


def parse_boolean(text: str) -> bool:
    """The one spelling of a boolean setting: true/1/yes/on or false/0/no/off, in any case."""
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError('give true or false (also 1/0, yes/no, on/off)')


BOOLEAN = Kind('boolean', parse_boolean)
TEXT = Kind('text', str)


def integer(minimum: int | None = None) -> Kind:
    """A whole number, at least ``minimum`` when given."""

    def parse(text: str) -> int:
        try:
            number = int(text.strip())
        except ValueError:
            number = None
        if number is None or (minimum is not None and number < minimum):
            raise ValueError('give a whole number' + (f' >= {minimum}' if minimum is not None else ''))
        return number

    return Kind('integer' if minimum is None else f'integer >= {minimum}', parse)


def number(minimum: float | None = None, above: bool = False) -> Kind:
    """A number, at least ``minimum`` (greater than it with ``above``) when given."""
    bound = '' if minimum is None else f' {">" if above else ">="} {minimum:g}'

    def parse(text: str) -> float:
        try:
            found = float(text.strip())
        except ValueError:
            found = None
        if found is None or found != found or (minimum is not None and (found <= minimum if above else found < minimum)):
            raise ValueError(f'give a number{bound}')
        return found

    return Kind(f'number{bound}', parse)


def choice(*names: str) -> Kind:
    """One of ``names`` (in any case)."""

    def parse(text: str) -> str:
        word = text.strip().lower()
        if word not in names:
            raise ValueError(f'use one of {", ".join(names)}')
        return word

    return Kind('one of ' + ', '.join(names), parse)


class Setting(NamedTuple):
    """One setting: ``[gokart] name`` in the luigi config (unless ``in_file`` is false) and its environment variable."""

    name: str
    kind: Kind
    default: Any
    doc: str
    variable: str = ''  # '' means GOKART_<NAME>
    in_file: bool = True
    secret: bool = False  # ``gokart config`` shows whether it is set, never the value
    error: type[GokartError] = ConfigOptionError
    hint: str = ''  # the error's advice in place of the type's ("give a number >= 1"), when the setting's own words are clearer

    @property
    def environment_variable(self) -> str:
        return self.variable or f'GOKART_{self.name.upper()}'


def _dask_batch(text: str) -> int | None:
    word = text.strip().lower()
    if word in ('', 'auto'):
        return 0
    if word in ('off', 'none', '1') or word in _FALSE:
        return None
    try:
        count = int(word)
    except ValueError:
        count = -1
    if count < 0:
        raise ValueError('give auto, off or a number of tasks a group (e.g. 64)')
    return count


def _id_scheme(text: str) -> int:
    word = text.strip()
    if word not in ('1', '2'):
        raise ValueError('not an id scheme: use 1 (gokart 1.12 ids, the default) or 2 (Merkle ids)')
    return int(word)


SETTINGS: tuple[Setting, ...] = (
    Setting(
        'strict',
        BOOLEAN,
        False,
        'Raise where gokart 1.12 only warns (a run() that dumped nothing, an abbreviated gokart.run flag).',
        hint='set it to true (mistakes such as a run() that writes no output raise) or false (they warn)',
    ),
    Setting('id_scheme', Kind('1 or 2', _id_scheme), 1, 'Unique-id scheme: 1 (gokart 1.12 ids) or 2 (Merkle ids, docs/ids.md).'),
    Setting(
        'run_lock',
        choice('auto', 'file', 'redis', 'workspace', 'none'),
        'auto',
        'The run lock around each task (docs/run_locks.md): auto is file locks locally, Redis when redis_host/redis_port are set, '
        'workspace leases on s3:// and gs://.',
        error=RunLockConfigurationError,
    ),
    Setting(
        'run_lock_lease_seconds',
        number(1.0),
        60.0,
        'How long a workspace lease lasts unless renewed, in seconds.',
        error=RunLockConfigurationError,
        hint='give the lease time of workspace run locks in seconds, at least 1 (default 60)',
    ),
    Setting(
        'pickle_signing_key',
        TEXT,
        None,
        'Sign pickle outputs with this key and refuse unsigned ones (docs/safety.md).',
        secret=True,
    ),
    Setting(
        'early_cutoff',
        BOOLEAN,
        False,
        'Reuse the outputs of a run whose inputs have the same content though an upstream id changed (docs/early_cutoff.md).',
    ),
    Setting('storage_timeout', number(0.0, above=True), 3.0, 'Seconds an S3 request may take to connect or read.'),
    Setting('storage_retries', integer(0), 3, 'How many times a failed S3 request is tried again.'),
    Setting(
        'dask_batch',
        Kind('auto, off or N', _dask_batch, lambda n: 'auto' if n == 0 else 'off' if n is None else str(n)),
        0,
        'Cheap Dask tasks run in groups of about a second (auto, 0), one Dask task each (off), or groups of at most N.',
        error=GokartError,
    ),
    Setting(
        'shared_workspace',
        TEXT,
        None,
        "The team's shared workspace: outputs missing from a task's own workspace are read from it (docs/team-cache.md).",
    ),
    Setting('shared_push', BOOLEAN, False, 'Builds also push what they ran to shared_workspace (what CI sets).'),
    Setting('shared_signing_key', TEXT, None, 'Ed25519 private key (PEM file) that signs what is pushed to shared_workspace.'),
    Setting(
        'shared_trusted_keys',
        TEXT,
        None,
        'Ed25519 public keys (PEM files, comma separated): only shared outputs signed by one of them are used.',
    ),
    Setting('executor', TEXT, 'local', 'The executor of gokart.build and gokart.run: local, luigi, dask.', in_file=False),
    Setting('dask_address', TEXT, None, 'The Dask scheduler to build on with executor dask.', in_file=False),
    Setting('progress', BOOLEAN, None, 'Show a live progress display (unset: when stderr is a terminal or in Jupyter).', in_file=False),
    Setting('lineage', BOOLEAN, True, 'Journal every run in .gokart/lineage of its workspace (gokart runs reads it).', in_file=False),
    Setting(
        'cache_dir', TEXT, None, 'Where the runs indexes of object-store workspaces live (unset: $XDG_CACHE_HOME/gokart).', in_file=False
    ),
    Setting('slack_api_url', TEXT, None, 'Base URL of the Slack Web API (unset: Slack itself).', in_file=False),
)

_BY_NAME = {setting.name: setting for setting in SETTINGS}


class Resolved(NamedTuple):
    """A setting's effective value, the text it was read from (None for the default) and where that was."""

    value: Any
    text: str | None
    source: str  # 'default', 'file' or 'environment'
    where: str  # for messages: 'the environment variable GOKART_X', '[gokart] x in the luigi config', 'the default'


def setting(name: str) -> Setting:
    """The declaration of ``name``; a ``KeyError`` naming the known settings for a name not declared."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f'{name!r} is not a gokart setting: declared are {", ".join(_BY_NAME)}') from None


def lookup(name: str, section: dict[str, str] | None = None) -> Resolved:
    """The value of ``name`` and where it came from: environment, then ``[gokart]`` (``section`` if given), then default."""
    declared = setting(name)
    variable = declared.environment_variable
    text = os.environ.get(variable)
    if text is not None and text.strip():
        return Resolved(
            _parsed(declared, text, f'the environment variable {variable}'), text, 'environment', f'the environment variable {variable}'
        )
    if declared.in_file:
        if section is None:
            section = config_section(SECTION) or {}
        text = section.get(declared.name)
        if text is not None and text.strip():
            where = f'[{SECTION}] {declared.name} in the luigi config'
            return Resolved(_parsed(declared, text, where), text, 'file', where)
    return Resolved(declared.default, None, 'default', 'the default')


def value(name: str) -> Any:
    """The effective value of the setting ``name`` (see ``lookup``)."""
    return lookup(name).value


def _parsed(declared: Setting, text: str, where: str) -> Any:
    try:
        return declared.kind.parse(text)
    except ValueError as e:
        raise declared.error(f'{where} is {text!r}: {declared.hint or e}.') from None


__all__ = [
    'BOOLEAN',
    'SECTION',
    'SETTINGS',
    'TEXT',
    'Kind',
    'Resolved',
    'Setting',
    'choice',
    'integer',
    'lookup',
    'number',
    'parse_boolean',
    'setting',
    'value',
]
