"""Compare what our gokart and gokart 1.12.2 make of the same generated tasks (issue 22, item 9).

``differences(seeds, reference)`` writes the module of each seed (``differential_tasks.generate``)
into one directory, runs ``differential_driver.py`` over all of them under our interpreter and
under the reference one (both at once, in the same directory and under the same hash seed, so a
relative or absolute path is the same for both), and returns one line per call where the two
reports differ. ``make fuzz`` runs it from the command line:

    python tests/compat/differential_run.py --seeds 500 [--start 0] [--reference PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
REPOSITORY = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from differential_tasks import generate  # noqa: E402

DRIVER = os.path.join(HERE, 'differential_driver.py')


def _run_driver(python: str, isolated: bool, case_file: str, directory: str) -> subprocess.Popen[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(('PYTHON', 'LUIGI', 'GOKART'))}
    environment['PYTHONHASHSEED'] = '0'
    environment['PYTHONDONTWRITEBYTECODE'] = '1'
    command = [python]
    if isolated:
        command.append('-I')  # the reference interpreter must not see our checkout
    else:
        environment['PYTHONPATH'] = REPOSITORY
    command += [DRIVER, case_file]
    return subprocess.Popen(command, cwd=directory, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _reports(process: subprocess.Popen[str], who: str) -> list[Any]:
    out, err = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f'the driver failed under {who} (exit {process.returncode}):\n{err[-4000:]}')
    return json.loads(out)  # type: ignore[no-any-return]


def reports_of(sources: dict[str, str], calls: dict[str, list[str]], reference: str) -> dict[str, tuple[list[Any], list[Any]]]:
    """Run the calls of each module (by name) under both interpreters: name -> (our reports, 1.12's reports)."""
    with tempfile.TemporaryDirectory(prefix='gokart-differential-') as directory:
        cases = []
        for name, source in sources.items():
            module = f'differential_case_{name}'
            with open(os.path.join(directory, f'{module}.py'), 'w', encoding='utf-8') as f:
                f.write(source)
            cases.append({'module': module, 'calls': calls[name]})
        case_file = os.path.join(directory, 'cases.json')
        with open(case_file, 'w', encoding='utf-8') as f:
            json.dump({'directory': directory, 'cases': cases}, f)
        ours = _run_driver(sys.executable, False, case_file, directory)
        theirs = _run_driver(reference, True, case_file, directory)
        our_reports, their_reports = _reports(ours, 'our gokart'), _reports(theirs, 'gokart 1.12.2')
    return {name: (mine, its) for name, mine, its in zip(sources, our_reports, their_reports, strict=True)}


def compare(label: str, ours: list[Any], theirs: list[Any]) -> list[str]:
    """One line per call and field where our report differs from 1.12's."""
    if len(ours) != len(theirs):  # one of them failed to import the module
        return [f'{label}: import\n    ours {ours[0]!r}\n    1.12 {theirs[0]!r}']
    found = []
    for ours_one, theirs_one in zip(ours, theirs, strict=True):
        for key in theirs_one:
            if key == 'call' or ours_one.get(key) == theirs_one[key] or _same_failure(ours_one.get(key), theirs_one[key]):
                continue
            found.append(
                f'{label}: {ours_one["call"]}\n    {key}: ours {ours_one.get(key)!r}\n    {" " * len(key)}  1.12 {theirs_one[key]!r}'
            )
    return found


def differences(seeds: Iterable[int], reference: str) -> list[str]:
    """One line per call whose reports differ between our gokart and 1.12.2, naming the seed, the call and the field."""
    generated = {str(seed): generate(seed) for seed in seeds}
    reports = reports_of(
        {name: case.source for name, case in generated.items()}, {name: case.calls for name, case in generated.items()}, reference
    )
    found = []
    for name, (ours, theirs) in reports.items():
        found += compare(f'seed {name}', ours, theirs)
    return found


def _same_failure(ours: Any, theirs: Any) -> bool:
    """Both raised, and ours is 1.12's exception or a subclass of it (our messages may be clearer)."""
    return bool(ours and 'error' in ours and 'error' in theirs and theirs['error'][0] in ours['error'])


def source_of(seed: int) -> str:
    """The generated module of ``seed`` and its calls, for reading a reported difference."""
    case = generate(seed)
    return case.source + '\n# calls:\n' + '\n'.join(f'# {call}' for call in case.calls) + '\n'


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--seeds', type=int, default=200, help='how many seeds to run (default 200)')
    parser.add_argument('--start', type=int, default=0, help='the first seed (default 0)')
    parser.add_argument('--batch', type=int, default=50, help='seeds per interpreter run (default 50)')
    parser.add_argument('--show', type=int, help='print the module of this seed and exit')
    parser.add_argument(
        '--reference',
        default=os.environ.get('GOKART_REFERENCE_PYTHON', os.path.join(REPOSITORY, '.venv-ref', 'bin', 'python')),
        help='the interpreter with gokart 1.12.2 (default: .venv-ref, or $GOKART_REFERENCE_PYTHON)',
    )
    arguments = parser.parse_args()
    if arguments.show is not None:
        sys.stdout.write(source_of(arguments.show))
        return 0
    if not os.path.exists(arguments.reference):
        print(f'gokart 1.12.2 reference interpreter not found at {arguments.reference}: run `make reference-venv`', file=sys.stderr)
        return 2
    total = 0
    for first in range(arguments.start, arguments.start + arguments.seeds, arguments.batch):
        batch = range(first, min(first + arguments.batch, arguments.start + arguments.seeds))
        found = differences(batch, arguments.reference)
        for line in found:
            print(line)
        total += len(found)
        print(f'seeds {batch.start}-{batch.stop - 1}: {len(found)} differences', file=sys.stderr)
    print(f'{arguments.seeds} seeds: {total} differences', file=sys.stderr)
    return 1 if total else 0


if __name__ == '__main__':
    sys.exit(main())
