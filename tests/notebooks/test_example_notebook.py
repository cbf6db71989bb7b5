"""examples/notebook.ipynb runs top to bottom on a real kernel and shows what docs/notebooks.md says."""

from __future__ import annotations

import nbformat
import pytest

from tests.notebooks.conftest import REPO_ROOT, Kernel

pytestmark = pytest.mark.timeout(300)


def test_example_notebook_runs_and_follows_the_helper(kernel: Kernel) -> None:
    notebook = nbformat.read(REPO_ROOT / 'examples' / 'notebook.ipynb', as_version=4)
    cells = [kernel.run(cell.source).ok() for cell in notebook.cells if cell.cell_type == 'code']
    picture, first_plan, first_build, _, second_plan, second_build = cells[2:]
    assert '<svg' in picture.result('text/html') and 'will run' in picture.result('text/html')
    assert first_plan.result().endswith('2 to run, 0 cached')
    assert first_build.result() == '[0, 10, 20, 30]'
    assert 'changed code' in second_plan.result() and second_plan.result().endswith('1 to run, 1 cached')
    assert second_build.result() == '[0, 100, 200, 300]'
