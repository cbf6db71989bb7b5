"""Runs the wine pipeline twice and shows that the second run is served entirely from cache.

`python examples/demo.py [--workspace DIR]` builds the pipeline in a fresh workspace (a new
directory under the temporary directory unless one is given, kept afterwards so you can look at
its files), writes the HTML report of the DAG there, prints the results, builds it again and
prints how many task bodies ran each time, shows a frame contract (the pipeline's declared
`gokart.Schema`s) stopping a build on a renamed column before anything runs, then the `gokart`
commands to try next. It exits with status 1 if the first run ran nothing or the second run ran
anything (the caching promise gokart makes), or if the renamed column was not caught before any
task ran.

Task bodies are counted with luigi's START event, which fires just before a task's `run()`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import luigi

import gokart

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wine_pipeline import FEATURE_COLUMNS, LoadWineData, MakeFeatures, SplitTrainTest, WinePipeline, format_report  # noqa: E402

started: list[str] = []


@luigi.Task.event_handler(luigi.Event.START)
def _count_start(task: luigi.Task) -> None:
    started.append(task.get_task_family())


def build_once(workspace: str, **options: str) -> tuple[dict, list[str]]:
    """Builds the report in `workspace` and returns it with the families of the tasks that ran."""
    started.clear()
    report = gokart.build(WinePipeline(workspace_directory=workspace), **options)
    return report, list(started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    parser.add_argument('--workspace', help='output directory (default: a new directory under the temporary directory, kept)')
    args = parser.parse_args()
    workspace = os.path.abspath(args.workspace or tempfile.mkdtemp(prefix='gokart-demo-')) + os.sep
    html = os.path.join(workspace, 'report.html')
    print(f'workspace: {workspace}')
    first_report, first = build_once(workspace, report=html)
    print(format_report(first_report))
    print(f'first run: {len(first)} tasks ran ({", ".join(sorted(set(first)))})')
    second_report, second = build_once(workspace)
    if second:
        print(f'second run: {len(second)} tasks ran: {second}; expected all cache hits', file=sys.stderr)
        return 1
    print('second run: 0 tasks ran, all cache hits')
    if not first:
        print('first run ran nothing: the workspace was not fresh, nothing was shown', file=sys.stderr)
        return 1
    if second_report != first_report:
        print(f'second report differs from the first: {second_report} != {first_report}', file=sys.stderr)
        return 1
    if not show_a_broken_contract(workspace):
        return 1
    print(next_steps(workspace, html))
    print_runs_and_lineage(workspace)
    return 0


class RenamedFeatures(MakeFeatures):
    """MakeFeatures after a well-meant rename of `phenols_ratio` to `phenol_ratio`, declared in its schema too."""

    output_schema = gokart.Schema(
        **{('phenol_ratio' if name == 'phenols_ratio' else name): dtype for name, dtype in FEATURE_COLUMNS.items()}
    )

    def run(self) -> None:
        super().run()  # never reached in the demo: the plan stops the build first


def show_a_broken_contract(workspace: str) -> bool:
    """Build the split on top of a renamed feature column: the frame contracts stop it before any task runs."""
    ws = {'workspace_directory': workspace}
    split = SplitTrainTest(features=RenamedFeatures(data=LoadWineData(**ws), **ws), **ws)
    print('\nFrame contracts: each task declares the columns it dumps and reads (gokart.Schema). Rename a feature column upstream:')
    started.clear()
    try:
        gokart.build(split)
    except gokart.errors.SchemaContractError as e:
        print(f'SchemaContractError: {e}')
        print(f'tasks run before the error: {len(started)}')
        return not started
    print('the renamed column was not caught', file=sys.stderr)
    return False


def next_steps(workspace: str, html: str) -> str:
    """Where the files are, and the `gokart` commands to try on them, runnable as printed."""
    gokart_command = f'{sys.executable} -m gokart'
    task = f'wine_pipeline:WinePipeline --workspace-directory {workspace}'
    return '\n'.join(
        [
            '',
            f"The workspace is kept: look at its files (outputs, and log/ with each run's records), delete it when done: {workspace}",
            f'HTML report of the DAG (open it in a browser): {html}',
            'Try next:',
            f'  cd {os.path.dirname(os.path.abspath(__file__))}',
            f'  {gokart_command} plan {task}          # a dry run: everything is cached',
            f'  {gokart_command} tree {task}',
            f'  {gokart_command} report -o {html} {task}',
            '  then change MODEL_SETTINGS in wine_pipeline.py and run plan again: it names what changed.',
        ]
    )


def print_runs_and_lineage(workspace: str) -> None:
    """The `gokart runs` table of the two models' evaluations, and the lineage of the best one (see docs/runs.md)."""
    from gokart.commands.cli import main as gokart_main

    print(f'\n$ gokart runs wine_pipeline:EvaluateModel --sort accuracy --desc --workspace {workspace}')
    gokart_main(['runs', 'wine_pipeline:EvaluateModel', '--sort', 'accuracy', '--desc', '--workspace', workspace])
    runs = gokart.runs('wine_pipeline:EvaluateModel', workspace=workspace)
    best = runs.sort_values('accuracy', ascending=False).iloc[0]
    print(f'\n$ gokart lineage {best["unique_id"]} --workspace {workspace}   # the best model, traced back to its data')
    gokart_main(['lineage', str(best['unique_id']), '--workspace', workspace])


if __name__ == '__main__':
    sys.exit(main())
