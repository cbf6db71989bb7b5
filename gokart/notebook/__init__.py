"""gokart in a Jupyter kernel: live build progress in the cell, task DAGs and plans as inline pictures and tables.

Nothing here is imported unless a kernel is running (or a task is displayed), so scripts pay nothing.
"""
