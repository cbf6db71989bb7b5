"""Whether this process is a Jupyter kernel that can show rich output in the running cell."""

from __future__ import annotations

import sys
from typing import Any


def shell() -> Any:
    """The running IPython shell, or None (plain Python, or IPython not imported at all)."""
    ipython_module = sys.modules.get('IPython')
    if ipython_module is None:
        return None
    try:
        return ipython_module.get_ipython()
    except Exception:  # a broken or half-initialised IPython is no kernel
        return None


def in_kernel() -> bool:
    """True inside a Jupyter kernel (ipykernel), where displays go to the notebook; False in a terminal IPython.

    A worker process forked from the kernel is not the kernel: its output must not reach the kernel's sockets.
    """
    if getattr(shell(), 'kernel', None) is None:
        return False
    import multiprocessing

    return multiprocessing.parent_process() is None


__all__ = ['in_kernel', 'shell']
