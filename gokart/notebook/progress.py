"""Live progress of a build in the running notebook cell.

The counters are the terminal display's (:class:`gokart.progress.BuildProgress`, fed by the executor, which
calls :func:`cell_display` in a kernel);
only the drawing differs. With ipywidgets installed the cell shows a progress bar widget; without it,
an HTML line (text in plain front ends) that is redrawn in place through a display id. A thread
redraws a few times a second, so the callbacks stay as cheap as on a terminal, and the last drawing
says how the build ended: finished, failed or interrupted.
"""

from __future__ import annotations

import contextvars
import html
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

_REDRAW_SECONDS = 0.25


class Counts(Protocol):
    """What is drawn: :class:`gokart.progress.BuildProgress`, fed by the executor."""

    total: int
    cached: int
    done: int
    failed: int

    def running_names(self) -> list[str]: ...

    def status_line(self) -> str: ...


class _Status:
    """The counts, and how the build ended once it has: 'finished', 'failed' or 'interrupted'."""

    def __init__(self, counts: Counts) -> None:
        self.counts = counts
        self.ending: str | None = None

    def text(self) -> str:
        line = self.counts.status_line()
        return line if self.ending is None else f'{line} | {self.ending}'

    def html(self) -> str:
        counts = self.counts
        finished = counts.done + counts.cached + counts.failed
        share = 100 * finished / counts.total if counts.total else (100 if self.ending else 0)
        colour = '#dc2626' if counts.failed or self.ending == 'interrupted' else ('#16a34a' if self.ending else '#3b82f6')
        running = counts.running_names()
        names = ', '.join(html.escape(n) for n in running[:5]) + (f' (+{len(running) - 5})' if len(running) > 5 else '')
        return (
            '<div class="gokart-progress" style="font:12px/1.5 ui-monospace,monospace">'
            '<div style="width:320px;height:8px;background:#e5e7eb;border-radius:4px;overflow:hidden">'
            f'<div style="width:{share:.0f}%;height:100%;background:{colour}"></div></div>'
            f'<span>{html.escape(self.text())}</span>'
            + (f'<br><span style="color:#6b7280">running: {names}</span>' if names else '')
            + '</div>'
        )


class _HtmlDrawing:
    """An HTML display (with a text fallback) redrawn in place through its display id."""

    def __init__(self, progress: _Status) -> None:
        from IPython.display import display

        self._progress = progress
        self._handle = display(self._bundle(), raw=True, display_id=True)
        self._last = ''

    def _bundle(self) -> dict[str, str]:
        return {'text/plain': self._progress.text(), 'text/html': self._progress.html()}

    def draw(self) -> None:
        bundle = self._bundle()
        if bundle['text/plain'] != self._last and self._handle is not None:
            self._last = bundle['text/plain']
            self._handle.update(bundle, raw=True)


class _WidgetDrawing:
    """An ipywidgets progress bar with the status line beside it."""

    def __init__(self, progress: _Status) -> None:
        import ipywidgets
        from IPython.display import display

        self._progress = progress
        self.bar = ipywidgets.IntProgress(value=0, min=0, max=1, description='gokart')
        self.label = ipywidgets.HTML()
        display(ipywidgets.HBox([self.bar, self.label]))

    def draw(self) -> None:
        status, progress = self._progress, self._progress.counts
        self.bar.max = max(progress.total, 1)
        self.bar.value = progress.done + progress.cached + progress.failed
        if status.ending is not None:
            self.bar.bar_style = 'success' if status.ending == 'finished' else 'danger'
        running = progress.running_names()
        text = html.escape(status.text()) + (
            f' <span style="color:#6b7280">running: {html.escape(", ".join(running[:5]))}</span>' if running else ''
        )
        if self.label.value != text:
            self.label.value = text


def _drawing(progress: _Status) -> _HtmlDrawing | _WidgetDrawing:
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return _HtmlDrawing(progress)
    return _WidgetDrawing(progress)


def for_this_process() -> Callable[[Counts], AbstractContextManager[None]] | None:
    """:func:`cell_display` in a Jupyter kernel, else None: what ``gokart.build`` hands its progress listener."""
    from gokart.notebook.kernel import in_kernel

    return cell_display if in_kernel() else None


@contextmanager
def cell_display(counts: Counts) -> Iterator[None]:
    """A live display of ``counts`` in the current cell while the block (a build) runs, ended with how it ended."""
    progress = _Status(counts)
    drawing = _drawing(progress)
    stop = threading.Event()

    def redraw() -> None:
        while not stop.wait(_REDRAW_SECONDS):
            drawing.draw()

    # The kernel routes output to the cell through context variables: the thread must see the cell's.
    thread = threading.Thread(target=contextvars.copy_context().run, args=(redraw,), name='gokart-cell-progress', daemon=True)
    thread.start()
    try:
        yield
    except KeyboardInterrupt:
        progress.ending = 'interrupted'
        raise
    except BaseException:
        progress.ending = 'failed'
        raise
    finally:
        stop.set()
        thread.join()
        if progress.ending is None:
            progress.ending = 'failed' if counts.failed else 'finished'
        drawing.draw()


__all__ = ['Counts', 'cell_display', 'for_this_process']
