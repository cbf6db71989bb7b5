"""Unique ids: identity, the id schemes, code fingerprints, the construction fast path and the task class registry.

Layer ids (docs/design.md): may import core (and 1.12's parameter beside it); imported by records and the layers above.
"""
