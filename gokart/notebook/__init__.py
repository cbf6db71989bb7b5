"""gokart in a Jupyter kernel: live build progress in the cell, task DAGs and plans as inline pictures and tables.

Layer commands (docs/design.md): may import commands (its layer), execution and every layer below; imported by gokart.plan, by 1.12's build and run for the cell's progress, and by task to display one.

Nothing here is imported unless a kernel is running (or a task is displayed), so scripts pay nothing.
"""
