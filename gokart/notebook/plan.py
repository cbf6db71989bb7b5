"""``gokart.plan(task)``: what a build of ``task`` would do, as ``gokart plan`` prints it, and as a table in a notebook."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # gokart.explain is imported by the first plan, not by ``import gokart``
    from gokart.commands import explain


class BuildPlan:
    """The steps of a dry run, requirements first (:class:`gokart.explain.Step`); shown as a table by Jupyter.

    ``len(plan)``, iteration and indexing give the steps; ``to_run`` and ``cached`` split them.
    """

    def __init__(self, steps: list[explain.Step], broken_contracts: list[str] | None = None) -> None:
        self.steps = steps
        self.broken_contracts = broken_contracts or []
        """The frame contracts (gokart.Schema) a build would refuse at plan time, one paragraph each; a build raises SchemaContractError."""

    @property
    def to_run(self) -> list[explain.Step]:
        return [s for s in self.steps if s.will_run]

    @property
    def cached(self) -> list[explain.Step]:
        return [s for s in self.steps if not s.will_run]

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[explain.Step]:
        return iter(self.steps)

    def __getitem__(self, index: int) -> explain.Step:
        return self.steps[index]

    def summary(self) -> str:
        return f'{len(self.to_run)} to run, {len(self.cached)} cached'

    def __str__(self) -> str:
        lines = []
        for step in self.steps:
            lines.append(step.describe())
            lines.extend(f'        {line}' for line in _declared_columns(step))
        lines.append(self.summary())
        if self.broken_contracts:
            lines += ['broken frame contracts (a build would stop before running anything):', *self.broken_contracts]
        return '\n'.join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        rows = []
        declared = [_declared_columns(step) for step in self.steps]
        with_columns = any(declared)  # the column only when some task declares a frame contract
        for step, lines in zip(self.steps, declared, strict=True):
            state = _state(step)
            colour = {'cached': '#dbeafe', 'cached (shared)': '#e0e7ff', 'will run': '#dcfce7', 'missing input': '#fef3c7'}[state]
            columns = f'<td>{"<br>".join(html.escape(line) for line in lines)}</td>' if with_columns else ''
            rows.append(
                f'<tr><td>{html.escape(step.name)}</td><td><code>{html.escape(step.unique_id)}</code></td>'
                f'<td style="background:{colour}">{state}</td><td>{html.escape(step.explanation() if step.will_run else _cached_reason(step))}</td>'
                f'{columns}</tr>'
            )
        broken = ''
        if self.broken_contracts:
            items = ''.join(
                f'<li><pre style="white-space:pre-wrap;margin:0">{html.escape(p.removeprefix("- "))}</pre></li>'
                for p in self.broken_contracts
            )
            broken = (
                f'<p style="color:#b91c1c"><b>Broken frame contracts</b>: a build would stop before running anything.</p><ul>{items}</ul>'
            )
        return (
            '<table class="gokart-plan"><thead><tr><th>task</th><th>id</th><th>state</th><th>reason</th>'
            f'{"<th>columns</th>" if with_columns else ""}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table><p>{html.escape(self.summary())}</p>{broken}'
        )


def _declared_columns(step: explain.Step) -> list[str]:
    from gokart.contracts.describe import declared_columns

    return declared_columns(step.task)


def _state(step: explain.Step) -> str:
    from gokart.commands.explain import MISSING_EXTERNAL

    if not step.will_run:
        return 'cached (shared)' if step.shared else 'cached'
    return 'missing input' if step.reason == MISSING_EXTERNAL else 'will run'


def _cached_reason(step: explain.Step) -> str:
    return 'its output is in the shared workspace (fetched when loaded)' if step.shared else 'its output exists'


def plan(task: Any) -> BuildPlan:
    """What ``gokart.build(task)`` would do now, without running or deleting anything (the Python form of ``gokart plan``)."""
    from gokart.commands import explain
    from gokart.contracts.dag_check import check_contracts
    from gokart.ids import code_fingerprint

    code_fingerprint.refresh()  # ids follow code redefined since they were cached, as in a build
    steps = explain.plan(task)
    cached = {step.task: not step.will_run for step in steps}
    return BuildPlan(steps, check_contracts([step.task for step in steps], cached.get).problems)


__all__ = ['BuildPlan', 'plan']
