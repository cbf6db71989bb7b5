"""The ``gokart`` command and its subcommands: cli, explain (plan/why), rekey, gc, resign and the HTML report.

May import every other layer and gokart 1.12's modules; nothing but entry points (``__main__``, ``resign``, ``gokart.report``, 1.12's build) imports it.
"""
