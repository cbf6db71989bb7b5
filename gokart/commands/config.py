"""``gokart config``: the effective value of every gokart setting and where it came from.

Each row is one setting of ``gokart.core.settings.SETTINGS``: its value as gokart would read it now
(from this directory's luigi config and this environment), and its source: ``environment
(GOKART_...)``, ``file ([gokart] ...)`` or ``default``. A secret (the pickle signing key) shows as
``(set)``, never its value. A value gokart cannot read is shown with the error and makes the exit
status 1, so a CI step can check a deployment's settings.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from gokart.commands.registry import Command, Invocation
from gokart.core import settings
from gokart.core.config_lookup import config_section

NAME = 'config'
HELP = 'print the effective value of every [gokart] setting and where it came from (default, file, environment)'


def register(commands: Any) -> None:
    """Add ``gokart config`` to the ``gokart`` parser's subparsers."""
    parser = commands.add_parser(NAME, help=HELP, description=HELP, allow_abbrev=False)
    parser.add_argument('--format', choices=('table', 'json'), default='table', help='output format (default table)')


def run(arguments: argparse.Namespace, invocation: Invocation | None = None) -> int:
    """Print the settings; 1 when one of them has a value gokart cannot read."""
    rows = effective_settings()
    if arguments.format == 'json':
        print(json.dumps(rows, indent=2))
    else:
        _print_table(rows)
    return 1 if any(row['error'] for row in rows) else 0


def effective_settings() -> list[dict[str, Any]]:
    """One row per declared setting: name, value (as shown), source, environment variable and error (None when readable)."""
    section = config_section(settings.SECTION) or {}
    rows = []
    for declared in settings.SETTINGS:
        row: dict[str, Any] = {'name': declared.name, 'variable': declared.environment_variable, 'error': None}
        try:
            found = settings.lookup(declared.name, section)
        except Exception as e:  # a bad value is reported in its row; the other settings are still shown
            row.update(value=None, source='invalid', error=str(e))
        else:
            row.update(value=shown_value(declared, found.value), source=_source(declared, found.source))
        rows.append(row)
    return rows


def shown_value(declared: settings.Setting, value: Any) -> str:
    """``value`` of ``declared`` as ``gokart config`` and docs/configuration.md show it."""
    if declared.secret:
        return '(unset)' if value is None else '(set)'
    if declared.kind.show is not None:
        return declared.kind.show(value)
    if value is None:
        return '(unset)'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _source(declared: settings.Setting, source: str) -> str:
    if source == 'environment':
        return f'environment ({declared.environment_variable})'
    if source == 'file':
        return f'file ([{settings.SECTION}] {declared.name})'
    return 'default'


def _print_table(rows: list[dict[str, Any]]) -> None:
    cells = [(row['name'], row['value'] if row['error'] is None else 'INVALID', row['source']) for row in rows]
    widths = [max(len(str(c[i])) for c in [('setting', 'value', 'source'), *cells]) for i in range(2)]
    for name, value, source in [('setting', 'value', 'source'), *cells]:
        print(f'{name:<{widths[0]}}  {value:<{widths[1]}}  {source}'.rstrip())
    for row in rows:
        if row['error']:
            print(f'gokart config: {row["error"]}', file=sys.stderr)


COMMAND = Command(NAME, HELP, run, takes_task=False, parser=register)
"""``gokart config``, as ``commands.registry`` declares commands."""


__all__ = ['COMMAND', 'effective_settings', 'shown_value', 'register', 'run']
