"""``python -m gokart``: the ``gokart`` console command, for environments where its script is not on PATH."""

import sys

from gokart.commands.cli import main

if __name__ == '__main__':
    sys.exit(main())
