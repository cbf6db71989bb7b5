"""What a build leaves in ``log/`` and checks against it: run records, modification times, the main-module check.

May import ``storage``, ``ids`` and ``core`` (and 1.12's ``target``); imported by execution, commands and 1.12's task and build.
"""
