"""A real Jupyter kernel for the notebook tests: ipykernel on this interpreter, driven by nbclient.

Each test module gets one kernel (starting one takes a couple of seconds) working in its own
directory. The kernel imports the gokart of this checkout: the repository root goes on its
PYTHONPATH (an editable install in CI points at the same directory).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip('nbformat')
nbclient = pytest.importorskip('nbclient')
pytest.importorskip('ipykernel')

from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402
from jupyter_client.manager import KernelManager  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
KERNEL_NAME = 'gokart-tests'


@dataclass
class Cell:
    """What one executed cell showed."""

    outputs: list[dict[str, Any]]
    widget_states: dict[str, Any] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)  # every display and widget message, in order

    def drawings(self) -> list[str]:
        """The text/plain of every display and display update of the cell, in order: a live display's history."""
        found = []
        for message in self.messages:
            data = message['content'].get('data')
            if message['msg_type'] in ('display_data', 'update_display_data') and isinstance(data, dict) and 'text/plain' in data:
                found.append(str(data['text/plain']))
        return found

    def widget_values(self, name: str) -> list[Any]:
        """Every value the kernel gave the widget attribute ``name`` during the cell, in order."""
        found = []
        for message in self.messages:
            if message['msg_type'] in ('comm_open', 'comm_msg'):
                state = message['content'].get('data', {}).get('state', {})
                if name in state:
                    found.append(state[name])
        return found

    @property
    def stdout(self) -> str:
        return ''.join(o['text'] for o in self.outputs if o['output_type'] == 'stream' and o['name'] == 'stdout')

    @property
    def stderr(self) -> str:
        return ''.join(o['text'] for o in self.outputs if o['output_type'] == 'stream' and o['name'] == 'stderr')

    @property
    def error(self) -> dict[str, Any] | None:
        errors = [o for o in self.outputs if o['output_type'] == 'error']
        return errors[0] if errors else None

    @property
    def displays(self) -> list[dict[str, Any]]:
        """The mime bundles of display_data and execute_result outputs, in order."""
        return [o['data'] for o in self.outputs if o['output_type'] in ('display_data', 'execute_result')]

    def result(self, mime: str = 'text/plain') -> str:
        """The cell's value (its last expression) in ``mime``."""
        results = [o['data'] for o in self.outputs if o['output_type'] == 'execute_result']
        assert results, f'the cell has no value: {self.outputs}'
        return str(results[-1][mime])

    def ok(self) -> Cell:
        assert self.error is None, '\n'.join(self.error['traceback']) if self.error else ''
        return self


class Kernel:
    """One running kernel; ``run(code)`` executes a cell and returns what it showed."""

    def __init__(self, client: Any, notebook: Any, manager: KernelManager, directory: Path) -> None:
        self._client = client
        self._notebook = notebook
        self._manager = manager
        self.directory = directory
        self._messages: list[dict[str, Any]] = []
        process_message = client.process_message

        def recording(message: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
            if message.get('msg_type') in ('display_data', 'update_display_data', 'comm_open', 'comm_msg'):
                self._messages.append(message)
            return process_message(message, *args, **kwargs)

        client.process_message = recording

    @property
    def pid(self) -> int:
        return int(self._manager.provisioner.process.pid)  # type: ignore[union-attr]

    def run(self, code: str) -> Cell:
        cell = nbformat.v4.new_code_cell(code)
        self._notebook.cells.append(cell)
        self._messages = []
        executed = self._client.execute_cell(cell, len(self._notebook.cells) - 1)
        states = dict(getattr(self._client, 'widget_state', {}) or {})
        return Cell(outputs=[dict(o) for o in executed.outputs], widget_states=states, messages=self._messages)

    def start(self, code: str) -> RunningCell:
        """Execute a cell in the background (to interrupt it); ``RunningCell.wait()`` gives its Cell."""
        return RunningCell(self, code)


class RunningCell:
    def __init__(self, kernel: Kernel, code: str) -> None:
        self._result: list[Cell] = []
        self._thread = threading.Thread(target=lambda: self._result.append(kernel.run(code)), daemon=True)
        self._thread.start()

    def wait(self, timeout: float = 60) -> Cell:
        self._thread.join(timeout)
        assert self._result, f'the cell did not finish within {timeout} s'
        return self._result[0]


def _kernel_spec_directory(root: Path) -> Path:
    """A kernelspec that runs ipykernel on this interpreter with this checkout importable."""
    directory = root / 'kernels' / KERNEL_NAME
    directory.mkdir(parents=True)
    environment = {'PYTHONPATH': os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get('PYTHONPATH', '')]))}
    spec = {
        'argv': [sys.executable, '-m', 'ipykernel_launcher', '-f', '{connection_file}'],
        'display_name': 'gokart tests',
        'language': 'python',
        'env': environment,
    }
    (directory / 'kernel.json').write_text(json.dumps(spec))
    return root / 'kernels'


@pytest.fixture(scope='module')
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    root = tmp_path_factory.mktemp('kernel')
    directory = root / 'work'
    directory.mkdir()
    manager = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(_kernel_spec_directory(root))]))
    notebook = nbformat.v4.new_notebook()
    client = nbclient.NotebookClient(notebook, km=manager, timeout=120, allow_errors=True, resources={'metadata': {'path': str(directory)}})
    with client.setup_kernel():
        kernel = Kernel(client, notebook, manager, directory)
        imported = kernel.run('import gokart; print(gokart.__file__)').ok().stdout.strip()
        assert imported == str(REPO_ROOT / 'gokart' / '__init__.py'), f'the kernel imports another gokart: {imported}'
        yield kernel
