"""`make bench-compare REF=<commit>`: the quick suite on this tree and on another commit, alternating, with ratios.

    python benchmarks/compare.py REF [--rounds 3] [--only NAME ...] [--full]

A speed change is judged against the tree it changes, measured on the same machine at the same
time: on a shared machine the load moves every figure by more than most changes do, so two runs
an hour apart say little. This runs each scenario of the quick suite (or of `--only`, or of the
whole suite with `--full`) on both trees in turn, swapping which goes first every round, and prints
the median of each metric on each side and their ratio `this / REF` (under 1: this tree is faster).

REF is exported with `git archive` into a temporary directory (nothing in the repository changes)
and put first on PYTHONPATH, so its gokart is imported; the scenario scripts are this tree's for
both sides, so only gokart differs. A scenario that fails on one side is shown as failing there.
Nothing is asserted: like `make bench`, this reports.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from typing import Any

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH_DIR)
import run as harness  # noqa: E402
from registry import Scenario, all_scenarios  # noqa: E402

SIDES = ('this', 'ref')


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    scenarios = [s for s in harness.select(all_scenarios(), not args.full, args.only) if s.name not in args.exclude]
    if not scenarios:
        print(f'no scenario matches {args.only}; see `python benchmarks/run.py --list`', file=sys.stderr)
        return 2
    ref_tree = tempfile.mkdtemp(prefix='gokart-bench-ref-')
    try:
        commit = export(args.ref, ref_tree)
        paths = {'this': harness.REPO_ROOT, 'ref': ref_tree}
        print(f'this: {harness.REPO_ROOT} ({describe_head(harness.REPO_ROOT)})')
        print(f'ref:  {args.ref} = {commit} exported to {ref_tree}')
        print(f'{len(scenarios)} scenarios x {args.rounds} rounds, alternating; load average at start {format_load()}', flush=True)
        results = measure(scenarios, paths, args)
    finally:
        harness.remove_workspaces()
        shutil.rmtree(ref_tree, ignore_errors=True)
    print()
    print(format_table(scenarios, results))
    print(
        f'\nthis / REF under 1 means this tree is faster (or smaller); medians of {args.rounds} rounds; load average at end {format_load()}'
    )
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    parser.add_argument('ref', help='the commit (or branch, tag) to compare this tree against')
    parser.add_argument('--rounds', type=int, default=3, help='runs of each scenario on each side (default 3)')
    parser.add_argument('--only', action='append', default=[], metavar='NAME', help='as in run.py: scenarios whose name contains NAME')
    parser.add_argument('--exclude', action='append', default=[], metavar='NAME', help='leave out the scenario named NAME')
    parser.add_argument('--full', action='store_true', help='the whole suite rather than the quick one')
    parser.add_argument('--timeout-scale', type=float, default=1.0, help='multiply every time limit by this')
    parser.add_argument('--work-root', default=harness.WORK_ROOT, help='where scenario workspaces are made (as in run.py)')
    return parser.parse_args(argv)


def export(ref: str, into: str) -> str:
    """Writes the files of commit ``ref`` into ``into``; returns the commit's short hash."""
    commit = subprocess.run(
        ['git', '-C', harness.REPO_ROOT, 'rev-parse', '--short', f'{ref}^{{commit}}'], capture_output=True, text=True, check=True
    ).stdout.strip()
    archive = subprocess.Popen(['git', '-C', harness.REPO_ROOT, 'archive', '--format=tar', commit], stdout=subprocess.PIPE)
    subprocess.run(['tar', '-x', '-C', into], stdin=archive.stdout, check=True)
    if archive.wait() != 0:
        raise SystemExit(f'git archive {commit} failed')
    return commit


def describe_head(root: str) -> str:
    found = subprocess.run(['git', '-C', root, 'describe', '--always', '--dirty'], capture_output=True, text=True)
    return found.stdout.strip() or 'not a git checkout'


def format_load() -> str:
    return ' '.join(f'{x:.1f}' for x in os.getloadavg())


def measure(scenarios: list[Scenario], paths: dict[str, str], args: argparse.Namespace) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Every run of every scenario on both sides; the side that goes first alternates round by round."""
    results: dict[str, dict[str, list[dict[str, Any]]]] = {s.name: {side: [] for side in SIDES} for s in scenarios}
    for round_number in range(args.rounds):
        order = SIDES if round_number % 2 == 0 else tuple(reversed(SIDES))
        for scenario in scenarios:
            for side in order:
                env = harness.implementation_env(paths[side])
                outcome = harness.run_once(scenario, sys.executable, env, scenario.timeout * args.timeout_scale, args.work_root)
                results[scenario.name][side].append(outcome)
                print(f'  round {round_number + 1} {scenario.name:28} {side:4} {harness.short(outcome)}', flush=True)
    return results


def format_table(scenarios: list[Scenario], results: dict[str, dict[str, list[dict[str, Any]]]]) -> str:
    header = ('scenario', 'this', 'ref', 'this / REF')
    rows: list[tuple[str, str, str, str]] = []
    for scenario in scenarios:
        runs = results[scenario.name]
        names: list[str] = []
        for side in SIDES:
            for outcome in runs[side]:
                names += [m for m in outcome.get('metrics', {}) if m not in names]
        for metric in names or ['seconds']:
            label = scenario.name if metric == 'seconds' else f'{scenario.name} {metric}'
            rows.append((label, *compare(runs, lambda o, m=metric: o.get('metrics', {}).get(m), harness.unit_of(metric))))
        rows.append((f'{scenario.name} peak RSS', *compare(runs, lambda o: o.get('peak_rss_mb'), 'MB')))
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    lines = [' | '.join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row)) for row in [header, *rows]]
    lines.insert(1, '-+-'.join('-' * w for w in widths))
    return '\n'.join(lines)


def compare(runs: dict[str, list[dict[str, Any]]], value_of: Any, unit: str) -> tuple[str, str, str]:
    """The median on each side (or why there is none) and their ratio."""
    medians: dict[str, float | None] = {}
    texts: list[str] = []
    for side in SIDES:
        failed = [o for o in runs[side] if o['status'] != 'ok']
        values = [v for o in runs[side] if o['status'] == 'ok' and (v := value_of(o)) is not None]
        medians[side] = statistics.median(values) if values and not failed else None
        if failed:
            texts.append(f'{failed[0]["status"]}: {failed[0].get("error", "")}'[:40])
        else:
            texts.append(harness.format_value(medians[side], unit) if medians[side] is not None else '-')
    this, ref = medians['this'], medians['ref']
    ratio = f'{this / ref:.2f}' if this is not None and ref else '-'
    return texts[0], texts[1], ratio


if __name__ == '__main__':
    sys.exit(main())
