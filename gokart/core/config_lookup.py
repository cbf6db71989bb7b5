"""Reading luigi's config quickly: the parser, and the items of one section.

Parameters, the id scheme, storage options and signing all ask the config; this module imports
nothing of gokart, so each of them can ask it without depending on the others.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import luigi

_config_of_choice: tuple[str | bytes | None, Any] | None = None


def luigi_config() -> Any:
    """What ``luigi.configuration.get_config()`` returns, without its lookups on every call.

    Parameters consult the config on every task construction; the parser is looked up again only
    when ``LUIGI_CONFIG_PARSER`` changes or luigi drops its singleton.
    """
    global _config_of_choice
    choice = _parser_choice()
    known = _config_of_choice
    if known is None or known[0] != choice or type(known[1])._instance is not known[1]:
        known = _config_of_choice = (choice, luigi.configuration.get_config())
    return known[1]


# os.environ.get encodes the name and decodes the value on every call, which is most of the cost of
# a config lookup, and every task construction makes two. On POSIX, os.environ keeps the bytes in
# ``_data``: the same variable, read without the conversions (the value is only compared).
_RAW_ENVIRON = getattr(os.environ, '_data', None) if os.name == 'posix' else None
_PARSER_VARIABLE = b'LUIGI_CONFIG_PARSER'


def _parser_choice() -> str | bytes | None:
    """``LUIGI_CONFIG_PARSER`` as set now (bytes when read raw): only compared with what it was."""
    if isinstance(_RAW_ENVIRON, dict):
        return _RAW_ENVIRON.get(_PARSER_VARIABLE)  # type: ignore[no-any-return]
    return os.environ.get('LUIGI_CONFIG_PARSER')


def config_section(section: str) -> dict[str, str] | None:
    """The items of a section of luigi's config, or None when it has none; for the cfg and TOML parsers alike."""
    return section_items(luigi_config(), section)


def section_items(config: Any, section: str) -> dict[str, Any] | None:
    """The items of ``section`` in ``config``, or None when it has none.

    ``config`` is what ``luigi.configuration.get_config()`` returns: luigi's cfg or TOML parser, or,
    where a test patched it, a plain mapping of sections to options (gokart 1.12 read it by
    ``section in config`` and ``config[section]``, so such a patch worked there).
    """
    data = getattr(config, 'data', None)
    if isinstance(data, dict):  # luigi's TOML parser keeps its values here
        found = data.get(section)
        return {k: str(v) for k, v in found.items()} if isinstance(found, dict) else None
    has_section = getattr(config, 'has_section', None)
    if has_section is None and isinstance(config, Mapping):
        mapping = config.get(section)
        return dict(mapping) if mapping is not None else None
    if not config.has_section(section):
        return None
    return dict(config.items(section))
