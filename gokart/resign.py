"""``python -m gokart.resign WORKSPACE``: re-sign pickles signed by an older gokart (docs/safety.md).

The documented entry point only; the command lives in ``gokart.commands.resign``.
"""

import sys

from gokart.commands.resign import main, resign_workspace

__all__ = ['main', 'resign_workspace']

if __name__ == '__main__':
    sys.exit(main())
