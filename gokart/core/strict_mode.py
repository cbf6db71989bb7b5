"""``[gokart] strict``: opt in to failing where gokart 1.12 only carries on.

gokart 1.12's control flow is the default (see docs/design.md, "Compatibility rule"): a mistake that
1.12 let pass, such as a ``run()`` that writes no output, is a warning. With ``strict = true`` in the
``[gokart]`` section of the luigi config, or ``GOKART_STRICT=true`` in the environment (which wins),
such a mistake raises instead. The option is read each time a mistake is found, so a test may switch
it with the environment or ``luigi.configuration`` and see the effect at once.
"""

from __future__ import annotations

from gokart.core import settings

SECTION = settings.SECTION
OPTION = 'strict'
VARIABLE = settings.setting(OPTION).environment_variable


def enabled() -> bool:
    """Whether strict mode is on: ``GOKART_STRICT`` if set, else ``[gokart] strict``, else off (``core.settings``)."""
    return bool(settings.value(OPTION))
