"""What a build leaves in ``log/`` and checks against it: run records, modification times, the main-module check.

Layer records (docs/design.md): may import runs (its layer), contracts, storage, ids and core; imported by 1.12's task, execution and commands.
"""
