"""The gokart quickstart: one task that dumps a string, built in this process.

Run it from any directory: `python examples/quickstart.py`. It prints `Hello, world!` and the
task's unique id. Outputs go to `./resources/` under the current directory (gokart's default
workspace), unless `GOKART_WORKSPACE` names another directory.
"""

import os

import gokart


class Example(gokart.TaskOnKart[str]):
    """Dumps a fixed greeting; the smallest complete task."""

    def run(self) -> None:
        self.dump('Hello, world!')


if __name__ == '__main__':
    task = Example(workspace_directory=os.environ.get('GOKART_WORKSPACE', './resources/'))
    print(gokart.build(task))  # Hello, world!
    print(task.make_unique_id())  # 8441c59b5ce0113396d53509f19371fb
