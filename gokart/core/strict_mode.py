"""``[gokart] strict``: opt in to failing where gokart 1.12 only carries on.

gokart 1.12's control flow is the default (see docs/design.md, "Compatibility rule"): a mistake that
1.12 let pass, such as a ``run()`` that writes no output, is a warning. With ``strict = true`` in the
``[gokart]`` section of the luigi config, or ``GOKART_STRICT=true`` in the environment (which wins),
such a mistake raises instead. The option is read each time a mistake is found, so a test may switch
it with the environment or ``luigi.configuration`` and see the effect at once.
"""

from __future__ import annotations

import os

from gokart.core.config_lookup import config_section
from gokart.errors import ConfigOptionError

SECTION = 'gokart'
OPTION = 'strict'
VARIABLE = 'GOKART_STRICT'

_TRUE = frozenset({'true', '1', 'yes', 'on'})
_FALSE = frozenset({'false', '0', 'no', 'off', ''})


def enabled() -> bool:
    """Whether strict mode is on: ``GOKART_STRICT`` if set, else ``[gokart] strict``, else off."""
    text = os.environ.get(VARIABLE)
    source = f'the environment variable {VARIABLE}'
    if text is None:
        text = (config_section(SECTION) or {}).get(OPTION)
        source = f'[{SECTION}] {OPTION} in the luigi config'
    if text is None:
        return False
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigOptionError(
        f'{source} is {text!r}: set it to true (mistakes such as a run() that writes no output raise) or false (they warn).'
    )
