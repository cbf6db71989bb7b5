"""`make bench`: runs every benchmark scenario on our gokart and on gokart 1.12.2, side by side.

    python benchmarks/run.py [--quick] [--only NAME ...] [--list]

Each scenario (see `registry.py`) runs as its own subprocess per implementation, in a new
temporary working directory:
- ours: this interpreter (or `--ours-python`) with the repository root on PYTHONPATH;
- gokart 1.12.2: the interpreter of a virtual environment in `benchmarks/.cache/ref-venv`,
  created on first use with `pip install gokart==1.12.2` (and the same pandas, pyarrow, numpy
  and luigi versions as ours, so only gokart differs), or `--ref-python`.
A run that raises, crashes or passes its time limit is recorded as such; the suite goes on.
Results are printed as a table and written to `benchmarks/results.json`, with the machine's load
average at the start, after each run and at the end (a shared machine moves every figure). Nothing is asserted:
this reports, it does not judge.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from typing import Any

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(BENCH_DIR)
SCENARIO_DIR = os.path.join(BENCH_DIR, 'scenarios')
CACHE_DIR = os.path.join(BENCH_DIR, '.cache')
REF_VERSION = '1.12.2'
# Packages pinned in the reference venv to the versions ours runs with, so the comparison is
# between the two gokarts and not between two pandas or pyarrow releases.
# boto3 too: the S3 scenarios run gokart 1.12.2 on S3, which it reaches through boto3 (not a
# dependency of gokart itself).
SHARED_PACKAGES = ('luigi', 'pandas', 'pyarrow', 'numpy', 'dill', 'boto3')
IMPLEMENTATIONS = ('ours', 'gokart')

sys.path.insert(0, BENCH_DIR)
from registry import Scenario, all_scenarios  # noqa: E402

PROBE = """
import importlib.metadata as md, json, sys
info = {'python': sys.version.split()[0]}
for name in ('gokart',) + tuple(sys.argv[1:]):
    try:
        info[name] = md.version(name)
    except md.PackageNotFoundError:
        info[name] = None
try:
    import gokart
    info['gokart_file'] = getattr(gokart, '__file__', None) or str(list(gokart.__path__))
    info['gokart'] = info['gokart'] or getattr(gokart, '__version__', None)
except Exception as exc:
    info['import_error'] = f'{type(exc).__name__}: {exc}'
print(json.dumps(info))
"""

WORK_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '.cache', 'work')


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    scenarios = select(all_scenarios(), args.quick, args.only)
    if args.list:
        for s in scenarios:
            print(f'{s.name:28} {s.description}{"  [ours only]" if s.ours_only else ""}')
        return 0
    if not scenarios:
        print(f'no scenario matches {args.only}; see --list', file=sys.stderr)
        return 2
    implementations = [impl for impl in IMPLEMENTATIONS if impl not in args.skip]
    ours_env = implementation_env(args.ours_pythonpath)
    interpreters = {'ours': args.ours_python, 'gokart': None}
    environment: dict[str, Any] = {'machine': platform.platform(), 'cpus': os.cpu_count(), 'quick': args.quick}
    # The machine may be shared: its load (1, 5 and 15-minute averages) is part of every figure.
    environment['load_average_at_start'] = os.getloadavg()
    if 'ours' in implementations:
        environment['ours'] = probe(args.ours_python, ours_env)
        print(f'ours:   {args.ours_python}  {describe(environment["ours"])}')
    if 'gokart' in implementations:
        interpreters['gokart'] = args.ref_python or ensure_ref_venv(environment.get('ours') or probe(sys.executable, ours_env))
        environment['gokart'] = probe(interpreters['gokart'], implementation_env(''))
        print(f'gokart: {interpreters["gokart"]}  {describe(environment["gokart"])}')
    results: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()
    try:
        for scenario in scenarios:
            results[scenario.name] = {'description': scenario.description, 'args': list(scenario.args)}
            for impl in implementations:
                if impl == 'gokart' and scenario.ours_only:
                    results[scenario.name][impl] = {'status': 'skipped', 'error': 'ours only'}
                    continue
                env = ours_env if impl == 'ours' else implementation_env('')
                python = interpreters[impl]
                assert python is not None
                outcome = run_scenario(scenario, python, env, args.timeout_scale, args.work_root)
                outcome['load_average_after'] = os.getloadavg()
                results[scenario.name][impl] = outcome
                print(f'  {scenario.name:28} {impl:7} {short(outcome)}', flush=True)
    except KeyboardInterrupt:
        print('interrupted: reporting what finished', file=sys.stderr)
    total = time.perf_counter() - started
    environment['load_average_at_end'] = os.getloadavg()
    remove_workspaces()
    print()
    print(format_table(scenarios, results))
    load = ' -> '.join(' '.join(f'{x:.1f}' for x in environment[k]) for k in ('load_average_at_start', 'load_average_at_end'))
    print(f'\n{len(results)} scenarios in {total:.0f} s; load average (1, 5, 15 min) {load}')
    write_json(args.output, {'environment': environment, 'total_seconds': total, 'results': results})
    print(f'results written to {os.path.relpath(args.output)}')
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    parser.add_argument('--quick', action='store_true', help='small sizes only (no 2,000/10,000-task DAGs, no 1e7 rows, no 100k plan)')
    parser.add_argument(
        '--only',
        action='append',
        default=[],
        metavar='NAME',
        help='run scenarios whose name contains NAME (or matching a glob); repeatable',
    )
    parser.add_argument('--list', action='store_true', help='list the selected scenarios and exit')
    parser.add_argument('--ours-python', default=sys.executable, help='interpreter for our gokart (default: this one)')
    parser.add_argument('--ours-pythonpath', default=REPO_ROOT, help="PYTHONPATH for ours (default: the repository root; '' for none)")
    parser.add_argument(
        '--ref-python',
        default=os.environ.get('GOKART_REF_PYTHON'),
        help='interpreter with gokart 1.12.2 (default: $GOKART_REF_PYTHON, else the cached venv)',
    )
    parser.add_argument('--skip', action='append', default=[], choices=IMPLEMENTATIONS, help='do not run this implementation')
    parser.add_argument('--timeout-scale', type=float, default=1.0, help='multiply every time limit by this')
    parser.add_argument(
        '--work-root',
        default=WORK_ROOT,
        help='where scenario workspaces are made (default: benchmarks/.cache/work); /dev/shm measures without the disk',
    )
    parser.add_argument('--output', default=os.path.join(BENCH_DIR, 'results.json'), help='where to write the JSON results')
    return parser.parse_args(argv)


def select(scenarios: list[Scenario], quick: bool, only: list[str]) -> list[Scenario]:
    """Applies --quick and --only: a pattern naming a scenario exactly selects just it, else it is a substring or a glob."""
    chosen = [s for s in scenarios if s.quick] if quick else scenarios
    if only:
        names = {s.name for s in chosen}

        def matches(name: str, pattern: str) -> bool:
            return name == pattern if pattern in names else pattern in name or fnmatch.fnmatch(name, pattern)

        chosen = [s for s in chosen if any(matches(s.name, pattern) for pattern in only)]
    return chosen


def implementation_env(pythonpath: str) -> dict[str, str]:
    """The environment of a scenario process: ours sees the repository, the reference does not.

    Both sides start moto's S3 server (`scenarios/_s3.py`) with this interpreter, which has moto
    (the project's test extra) where the reference venv may not; `GOKART_BENCH_MOTO_PYTHON` overrides.
    """
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env.setdefault('GOKART_BENCH_MOTO_PYTHON', sys.executable)
    if pythonpath:
        env['PYTHONPATH'] = pythonpath
    return env


def probe(python: str, env: dict[str, str]) -> dict[str, Any]:
    """Versions of the interesting packages as seen by `python`."""
    command = [python, '-c', PROBE, *SHARED_PACKAGES]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=tempfile.gettempdir())
    if proc.returncode != 0:
        return {'probe_error': proc.stderr.strip().splitlines()[-1:] or [f'exit {proc.returncode}']}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def describe(info: dict[str, Any]) -> str:
    if 'import_error' in info or 'probe_error' in info:
        return f'cannot import gokart: {info.get("import_error") or info.get("probe_error")}'
    versions = ', '.join(f'{name} {info.get(name)}' for name in ('gokart', *SHARED_PACKAGES))
    return f'python {info["python"]}, {versions}; gokart from {info.get("gokart_file")}'


def ensure_ref_venv(ours: dict[str, Any]) -> str:
    """Returns the reference interpreter, creating `benchmarks/.cache/ref-venv` if needed."""
    venv = os.path.join(CACHE_DIR, 'ref-venv')
    python = os.path.join(venv, 'bin', 'python')
    if os.path.exists(python):
        found = probe(python, implementation_env(''))
        # Every shared package present (an older cache lacks boto3); the versions are shown, not required,
        # as the fallback install below may have had to take others.
        if found.get('gokart') == REF_VERSION and all(found.get(name) for name in SHARED_PACKAGES if ours.get(name)):
            return python
    print(f'creating {os.path.relpath(venv)} with gokart=={REF_VERSION} (once; takes a minute or two)', flush=True)
    subprocess.run([sys.executable, '-m', 'venv', '--clear', venv], check=True)
    pip = [python, '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check']
    pins = [f'{name}=={ours[name]}' for name in SHARED_PACKAGES if ours.get(name)]
    if subprocess.run([*pip, f'gokart=={REF_VERSION}', *pins]).returncode != 0:
        print('installing with the same package versions as ours failed; installing gokart alone', flush=True)
        subprocess.run([*pip, f'gokart=={REF_VERSION}'], check=True)
    return python


def run_scenario(scenario: Scenario, python: str, env: dict[str, str], timeout_scale: float, work_root: str = WORK_ROOT) -> dict[str, Any]:
    """Runs the scenario `repeat` times and keeps the median of each metric."""
    runs = [run_once(scenario, python, env, scenario.timeout * timeout_scale, work_root) for _ in range(scenario.repeat)]
    good = [r for r in runs if r['status'] == 'ok']
    if len(good) < len(runs):
        return next(r for r in runs if r['status'] != 'ok')
    if len(runs) == 1:
        return runs[0]
    merged = dict(runs[0])
    merged['metrics'] = {name: statistics.median(r['metrics'][name] for r in runs) for name in runs[0]['metrics']}
    merged['peak_rss_mb'] = statistics.median(r['peak_rss_mb'] for r in runs)
    merged['runs'] = [r['metrics'] for r in runs]
    return merged


def run_once(scenario: Scenario, python: str, env: dict[str, str], timeout: float, work_root: str = WORK_ROOT) -> dict[str, Any]:
    """One subprocess in a fresh temporary directory; every way it can end becomes a result."""
    command = [python, os.path.join(SCENARIO_DIR, scenario.script), *scenario.args]
    # Workspaces live under benchmarks/.cache rather than the system temp dir: on some machines /tmp
    # creates files many times slower than the disk the project is on, which would swamp both sides.
    os.makedirs(work_root, exist_ok=True)
    # Write back what earlier runs left dirty, so that this run does not pay for it.
    os.sync()
    # Workspaces are kept until the whole suite is done (see `remove_workspaces`): on a disk mounted
    # with `discard`, deleting one run's thousands of files stalls the file creation of the next
    # runs for seconds, which measured one side's cleanup as the other side's build time.
    workdir = tempfile.mkdtemp(prefix=f'gokart-bench-{scenario.name}-', dir=work_root)
    _workspaces.append(workdir)
    started = time.perf_counter()
    # A new session, so a timeout can kill the scenario together with its worker processes.
    pipes = {'stdout': subprocess.PIPE, 'stderr': subprocess.PIPE}
    proc = subprocess.Popen(command, cwd=workdir, env=env, text=True, start_new_session=True, **pipes)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {'status': 'timeout', 'error': f'timeout after {timeout:.0f} s', 'wall_seconds': time.perf_counter() - started}
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    wall = time.perf_counter() - started
    line = last_json_line(stdout)
    if line is not None and 'metrics' in line and proc.returncode == 0:
        return {'status': 'ok', 'wall_seconds': wall, **line}
    # The end of stderr (the traceback) goes into results.json, to diagnose without rerunning.
    stderr_tail = stderr.strip().splitlines()[-30:]
    if line is not None and 'error' in line:
        return {'status': 'error', 'error': line['error'], 'message': line.get('message', ''), 'wall_seconds': wall, 'stderr': stderr_tail}
    how = f'signal {-proc.returncode}' if proc.returncode < 0 else f'exit {proc.returncode}'
    message = stderr_tail[-1][:300] if stderr_tail else ''
    return {'status': 'crash', 'error': f'crashed ({how})', 'message': message, 'wall_seconds': wall, 'stderr': stderr_tail}


_workspaces: list[str] = []


def remove_workspaces() -> None:
    """Delete the workspaces of every run, once nothing is being measured any more."""
    while _workspaces:
        shutil.rmtree(_workspaces.pop(), ignore_errors=True)
    os.sync()


def last_json_line(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith('{'):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                return None
    return None


def short(outcome: dict[str, Any]) -> str:
    if outcome['status'] != 'ok':
        return f'{outcome["status"]}: {outcome.get("error", "")} {outcome.get("message", "")}'.rstrip()
    metrics = ', '.join(f'{name}={format_value(value, unit_of(name))}' for name, value in outcome['metrics'].items())
    return f'{metrics}  peak RSS {outcome["peak_rss_mb"]:.0f} MB'


def format_table(scenarios: list[Scenario], results: dict[str, dict[str, Any]]) -> str:
    """scenario | ours | gokart 1.12.2 | ratio (gokart / ours, so > 1 means ours is faster/smaller)."""
    rows: list[tuple[str, str, str, str]] = []
    for scenario in scenarios:
        if scenario.name not in results:
            continue
        outcomes = {impl: results[scenario.name].get(impl, {'status': 'skipped', 'error': 'not run'}) for impl in IMPLEMENTATIONS}
        metric_names: list[str] = []
        for outcome in outcomes.values():
            metric_names += [m for m in outcome.get('metrics', {}) if m not in metric_names]
        for metric in metric_names or ['seconds']:
            label = scenario.name if metric == 'seconds' else f'{scenario.name} {metric}'
            unit = unit_of(metric)
            rows.append((label, *cells(outcomes, lambda o, m=metric: o['metrics'].get(m), unit)))
        if scenario.show_rss:
            rows.append((f'{scenario.name} peak RSS', *cells(outcomes, lambda o: o.get('peak_rss_mb'), 'MB')))
    header = ('scenario', 'ours', f'gokart {REF_VERSION}', 'ratio')
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    lines = [' | '.join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row)) for row in [header, *rows]]
    lines.insert(1, '-+-'.join('-' * w for w in widths))
    return '\n'.join(lines)


def unit_of(metric: str) -> str:
    """A metric's unit from its name: `ms_*` milliseconds, `*_mb` MiB, `n_*` a count (no unit), `ratio_*` a ratio, else seconds."""
    if metric.startswith('ratio_'):
        return 'x'
    return 'ms' if metric.startswith('ms_') else 'MB' if metric.endswith('_mb') else '' if metric.startswith('n_') else 's'


def format_value(value: float, unit: str) -> str:
    if unit == 'MB':
        return f'{value:.0f} MB'
    if not unit:
        return f'{value:.0f}' if float(value).is_integer() else f'{value:.3f}'
    if unit == 'x':
        return f'{value:.2f}x'
    return f'{value:.3f} {unit}'


def cells(outcomes: dict[str, dict[str, Any]], value_of: Any, unit: str) -> tuple[str, str, str]:
    values: dict[str, float | None] = {}
    texts: list[str] = []
    for impl in IMPLEMENTATIONS:
        outcome = outcomes[impl]
        value = value_of(outcome) if outcome['status'] == 'ok' else None
        values[impl] = value
        if value is not None:
            texts.append(format_value(value, unit))
        elif outcome['status'] == 'ok':
            texts.append('-')
        else:
            texts.append(outcome['status'] if outcome['status'] in ('timeout', 'skipped') else str(outcome.get('error', outcome['status'])))
    ours, ref = values['ours'], values['gokart']
    ratio = f'{ref / ours:.2f}x' if ours and ref is not None else '-'
    return texts[0], texts[1], ratio


def write_json(path: str, payload: dict[str, Any]) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(payload, f, indent=2, default=lambda o: asdict(o) if hasattr(o, '__dataclass_fields__') else str(o))
        f.write('\n')


if __name__ == '__main__':
    sys.exit(main())
