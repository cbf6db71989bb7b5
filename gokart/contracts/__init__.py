"""Frame contracts (``gokart.Schema``): the columns a task dumps and reads, checked at plan time, at dump and on cached files.

Layer contracts (docs/design.md): may import storage, ids and core; imported by records, 1.12's task, execution and commands.
"""

from gokart.contracts.schema import Schema

__all__ = ['Schema']
