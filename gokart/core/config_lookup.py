"""Reading luigi's config quickly: the parser, and the items of one section.

Parameters, the id scheme, storage options and signing all ask the config; this module imports
nothing of gokart, so each of them can ask it without depending on the others.
"""

from __future__ import annotations

import os
from typing import Any

import luigi

_config_of_choice: tuple[str | None, Any] | None = None


def luigi_config() -> Any:
    """What ``luigi.configuration.get_config()`` returns, without its lookups on every call.

    Parameters consult the config on every task construction; the parser is looked up again only
    when ``LUIGI_CONFIG_PARSER`` changes or luigi drops its singleton.
    """
    global _config_of_choice
    choice = os.environ.get('LUIGI_CONFIG_PARSER')
    known = _config_of_choice
    if known is None or known[0] != choice or type(known[1])._instance is not known[1]:
        known = _config_of_choice = (choice, luigi.configuration.get_config())
    return known[1]


def config_section(section: str) -> dict[str, str] | None:
    """The items of a section of luigi's config, or None when it has none; for the cfg and TOML parsers alike."""
    config = luigi_config()
    data = getattr(config, 'data', None)
    if isinstance(data, dict):  # luigi's TOML parser keeps its values here
        found = data.get(section)
        return {k: str(v) for k, v in found.items()} if isinstance(found, dict) else None
    if not config.has_section(section):
        return None
    return dict(config.items(section))
