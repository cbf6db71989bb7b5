"""Sizes and durations as people write them: ``1.5 MiB`` out, ``7d`` / ``12h`` / ``30m`` in."""

from __future__ import annotations

import datetime
import re

_DURATION = re.compile(r'^\s*(?P<amount>\d+(?:\.\d+)?)\s*(?P<unit>[smhdw])\s*$')
_SECONDS_PER_UNIT = {'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 7 * 86400}
_SIZE_UNITS = ('B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB')


def parse_duration(text: str) -> datetime.timedelta:
    """``7d``, ``12h``, ``30m``, ``45s`` or ``2w`` as a timedelta; ``ValueError`` saying the accepted form otherwise."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f'{text!r} is not a duration: write a number and a unit s, m, h, d or w, e.g. 7d, 12h, 30m')
    return datetime.timedelta(seconds=float(match['amount']) * _SECONDS_PER_UNIT[match['unit']])


def human_size(size: int) -> str:
    """``512 B``, ``1.5 KiB``, ``20.0 MiB``: binary units, one decimal past bytes."""
    value = float(size)
    for unit in _SIZE_UNITS:
        if abs(value) < 1024 or unit == _SIZE_UNITS[-1]:
            return f'{int(value)} {unit}' if unit == 'B' else f'{value:.1f} {unit}'
        value /= 1024
    raise AssertionError('unreachable')  # pragma: no cover


__all__ = ['human_size', 'parse_duration']
