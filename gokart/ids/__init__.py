"""Unique ids: the id schemes, code fingerprints, the construction fast path and the task class registry.

May import ``core`` (and 1.12's ``errors``, ``utils``); imported by storage, records, execution, commands and 1.12's task.
"""
