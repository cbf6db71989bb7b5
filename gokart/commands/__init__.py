"""The ``gokart`` command and its subcommands: cli, explain (plan/why), rekey, gc, resign and the HTML report.

Layer commands (docs/design.md): may import notebook (its layer), execution and every layer below; imported only by entry points and 1.12's build.
"""
