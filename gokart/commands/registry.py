"""The ``gokart`` subcommands, each declared as one ``Command`` and registered in the order ``gokart --help`` lists them.

A command that takes a task (``MODULE:TASK [--param value ...]`` after its own options) gets the
constructed roots: ``commands.cli`` reads the command line for all of them alike (task parameters,
upstream ``--Class-param`` ones, ``+`` between roots where ``several_roots``). A command that takes
something else (a class, a path, ids, nothing) builds its own parser with ``parser`` and reads its
arguments itself. ``run`` returns the exit status. A third party's command is one more call::

    register_command(Command('hello', 'say hello to a task', run=lambda arguments, call: print(call.roots) or 0))

made before ``gokart.commands.cli.main`` builds its parser.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Invocation:
    """What a command's ``run`` is given besides its parsed arguments."""

    roots: list[Any] = field(default_factory=list)  # the MODULE:TASK roots, constructed (empty when ``takes_task`` is false)
    make_task: Callable[[list[str]], Any] | None = (
        None  # tokens (MODULE:TASK --param value ...) to a task, for commands that construct their own
    )


@dataclass(frozen=True)
class Command:
    """One ``gokart`` subcommand."""

    name: str
    help: str
    run: Callable[[argparse.Namespace, Invocation], int]
    options: Callable[[argparse.ArgumentParser], None] | None = None  # adds the command's own options to its parser
    takes_task: bool = True
    several_roots: bool = False  # MODULE:TASK ... + MODULE:TASK2 ...
    action_word: bool = False  # a word right after the command (gokart cache push ...), before its options
    description: str | None = None
    usage: str | None = None
    parser: Callable[[Any], None] | None = None  # builds the command's parser on the subparsers itself (for takes_task=False)


_commands: dict[str, Command] = {}


def register_command(command: Command) -> None:
    """Add ``command`` (or replace the one of the same name); ``gokart --help`` lists them in the order registered."""
    _commands[command.name] = command


def commands() -> list[Command]:
    """Every registered command, in the order registered."""
    return list(_commands.values())


def command_named(name: str) -> Command:
    return _commands[name]


__all__ = ['Command', 'Invocation', 'command_named', 'commands', 'register_command']
