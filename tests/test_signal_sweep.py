"""Signals at random moments: no termination request is lost, wherever it lands (issue 30).

Each trial forks a build of ``signals/handler_pipeline.py`` (six tasks, each with a SUCCESS handler
that takes 0.1 s and outputs of a few MB), waits a random time across a whole build, and sends
SIGTERM to the main process (as ``docker stop`` does) or, in some trials, SIGINT to the process
group (a terminal's Ctrl-C). The signal lands in a handler, a record write, an output write, the
scheduling, or after the build; every trial must:
- end within 2 s of the signal with the requested status: 143 for SIGTERM, the KeyboardInterrupt of
  Ctrl-C (130 here), or 0 only when the build had finished before the signal;
- leave no process of the build;
- leave every output and every ``log/`` record whole or absent.
The trials are counted: how many landed inside a handler, how many before the build finished.
The serial build, forked workers, ``gokart.run`` and ``gokart.run --workers=2`` are swept; the
reference test does the same to gokart 1.12.2's serial build, which dies of the signal at once.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import luigi
import pytest

import gokart
from tests.reference_python import reference_python

HERE = Path(__file__).resolve().parent / 'signals'
sys.path.insert(0, str(HERE))

import handler_pipeline  # noqa: E402

ENDS_WITHIN_SECONDS = 2.0
NOTIFICATION_SECONDS = 0.1
PAYLOAD_BYTES = 3_000_000
# (mode, signal, trials): about a minute on a loaded 2-core machine; luigi's forked task processes are the slow part.
SWEEP = [
    ('build', signal.SIGTERM, 10),
    ('build', signal.SIGINT, 3),
    ('build2', signal.SIGTERM, 6),
    ('run', signal.SIGTERM, 4),
    ('run', signal.SIGINT, 2),
    ('run2', signal.SIGTERM, 3),
]
INTERRUPTED = 130


def _build_in_child(mode: str, workspace: str, markers: str, ready: Any = None) -> None:
    os.setsid()  # its own process group, as a container's or a terminal's
    os.chdir(workspace)
    status = 0
    try:
        if ready is not None:
            ready.set()  # the moments swept start here: a signal before would hit the test's own start-up code
        handler_pipeline.build(mode, markers, NOTIFICATION_SECONDS, PAYLOAD_BYTES)
    except SystemExit as e:
        status = e.code if isinstance(e.code, int) else 1
    except KeyboardInterrupt:
        status = INTERRUPTED
    except BaseException:
        status = 1
    atexit._run_exitfuncs()  # as the interpreter would at exit (a forked child's exit skips them)
    os._exit(status)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def _handler_spans(markers: Path) -> tuple[list[tuple[float, float]], float | None]:
    """The (enter, leave) times of the handlers (leave is infinite when cut short), and when the last one left."""
    entered: dict[str, float] = {}
    spans: list[tuple[float, float]] = []
    last_left = None
    path = markers / 'handlers'
    for line in path.read_text().splitlines() if path.exists() else []:
        parts = line.split()
        if len(parts) != 3:
            continue  # a line cut by the signal
        what, step, at = parts[0], parts[1], float(parts[2])
        if what == 'enter':
            entered[step] = at
        elif step in entered:
            spans.append((entered.pop(step), at))
            if step == str(handler_pipeline.STEPS - 1):
                last_left = at
    spans.extend((at, float('inf')) for at in entered.values())
    return spans, last_left


def _check_outputs(workspace: Path, markers: str) -> tuple[int, int]:
    """Every output and log/ record that exists loads whole; (outputs present, temporaries removed)."""
    luigi.task_register.Register.clear_instance_cache()
    here = os.getcwd()
    os.chdir(workspace)
    try:
        present = 0
        task = handler_pipeline.root(markers, NOTIFICATION_SECONDS, PAYLOAD_BYTES)
        while True:
            target = task.output()
            if target.exists():
                present += 1
                assert target.load() == bytes([task.i]) * PAYLOAD_BYTES
            requirements = luigi.task.flatten(task.requires())
            if not requirements:
                break
            task = requirements[0]
        for record in (workspace / 'resources' / 'log').rglob('*.pkl'):
            if not record.name.startswith('.'):
                gokart.target.make_target(str(record)).load()  # a torn pickle would raise
    finally:
        os.chdir(here)
    temporaries = list(workspace.rglob('*.gokart-tmp'))
    for path in temporaries:
        path.unlink()
    return present, len(temporaries)


def _trial(mode: str, signum: int, delay: float, root: Path, context: Any) -> dict[str, Any]:
    workspace, markers = root / 'workspace', root / 'markers'
    for directory in (workspace, markers):
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
    ready = context.Event()
    child = context.Process(target=_build_in_child, args=(mode, str(workspace), str(markers), ready))
    child.start()
    assert ready.wait(30)
    time.sleep(delay)
    signalled = time.monotonic()
    try:
        if signum == signal.SIGINT:
            os.killpg(child.pid, signal.SIGINT)
        else:
            os.kill(child.pid, signum)
    except ProcessLookupError:
        pass
    child.join(30)
    ended = time.monotonic() - signalled
    if child.exitcode is None:
        os.killpg(child.pid, signal.SIGKILL)
        child.join()
        pytest.fail(f'{mode}: the build was still running 30 s after {signal.Signals(signum).name}')
    listing = ''
    while _group_alive(child.pid) and time.monotonic() - signalled < 10:
        if not listing and time.monotonic() - signalled > ENDS_WITHIN_SECONDS:  # what is left, for the failure message
            listing = subprocess.run(['ps', '-eo', 'pid,pgid,ppid,stat,etime,args'], capture_output=True, text=True).stdout
            listing = '\n'.join(line for line in listing.splitlines() if line.split()[1] == str(child.pid)) or 'none listed'
        time.sleep(0.02)
    group_gone = time.monotonic() - signalled
    if _group_alive(child.pid):
        os.killpg(child.pid, signal.SIGKILL)
    spans, last_left = _handler_spans(markers)
    finished_before = last_left is not None and last_left < signalled
    present, temporaries = _check_outputs(workspace, str(markers))
    return {
        'status': child.exitcode,
        'ended': ended,
        'processes_gone_after': group_gone,
        'processes_left': listing,
        'in_handler': any(enter <= signalled < leave for enter, leave in spans),
        'finished_before': finished_before,
        'outputs': present,
        'temporaries': temporaries,
    }


def _expected_statuses(signum: int, finished_before: bool) -> set[int]:
    # Ours ends a build with 143 (or the KeyboardInterrupt of Ctrl-C); before gokart.run has begun the
    # build, or once it is over, the signal's default action ends the process, as in gokart 1.12:
    # the same status to a shell. 0 only when the build had finished before the signal.
    ended_by_it = {signal.SIGTERM: {143, -signal.SIGTERM}, signal.SIGINT: {INTERRUPTED, -signal.SIGINT}}[signum]
    return ended_by_it | {0} if finished_before else ended_by_it


def _uninterrupted_seconds(mode: str, root: Path, context: Any) -> float:
    workspace, markers = root / 'workspace', root / 'markers'
    for directory in (workspace, markers):
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
    started = time.monotonic()
    child = context.Process(target=_build_in_child, args=(mode, str(workspace), str(markers)))
    child.start()
    child.join(120)
    assert child.exitcode == 0, f'{mode}: the uninterrupted build exited {child.exitcode}'
    return time.monotonic() - started


def test_signals_at_random_moments_end_every_build_at_once_leaving_whole_outputs_and_no_process(tmp_path: Path) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    context = multiprocessing.get_context('fork')
    counts: Counter[str] = Counter()
    failures: list[str] = []
    for mode, signum, trials in SWEEP:
        duration = _uninterrupted_seconds(mode, tmp_path, context)
        for _ in range(trials):
            delay = rng.uniform(0, duration * 1.05)
            found = _trial(mode, signum, delay, tmp_path, context)
            if max(found['ended'], found['processes_gone_after']) > ENDS_WITHIN_SECONDS:
                # Once more at the same moment: on a machine shared by many builds a process can wait
                # its turn for a second; a lost request is lost again (it lets the build run on).
                counts['repeated_as_slow'] += 1
                found = _trial(mode, signum, delay, tmp_path, context)
            counts['trials'] += 1
            counts['in_handler'] += found['in_handler']
            counts['before_the_end'] += not found['finished_before']
            counts['outputs_absent'] += found['outputs'] < handler_pipeline.STEPS
            counts['temporaries_left'] += found['temporaries']
            name = signal.Signals(signum).name
            if found['status'] not in _expected_statuses(signum, found['finished_before']):
                failures.append(f'{mode} {name} after {delay:.2f} s: status {found["status"]} ({found})')
            if max(found['ended'], found['processes_gone_after']) > ENDS_WITHIN_SECONDS:
                failures.append(
                    f'{mode} {name} after {delay:.2f} s: ended after {found["ended"]:.2f} s, its processes after '
                    f'{found["processes_gone_after"]:.2f} s: {found["processes_left"]}'
                )
    print(f'seed={seed} {dict(counts)}')
    assert not failures, f'seed={seed}: ' + '\n'.join(failures)
    assert counts['trials'] == sum(trials for _, _, trials in SWEEP)
    # The sweep really covered the moments that used to lose the request.
    assert counts['in_handler'] >= counts['trials'] // 5, dict(counts)
    assert counts['before_the_end'] >= counts['trials'] // 2, dict(counts)


def test_gokart_112_dies_of_a_sigterm_at_any_moment_as_ours_ends_with_143(tmp_path: Path) -> None:
    reference = reference_python()
    if reference is None:
        pytest.skip('gokart 1.12.2 reference interpreter not set up (make reference-venv)')
    rng = random.Random(30)
    environment = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    environment['LUIGI_CONFIG_PATH'] = str(tmp_path / 'absent.cfg')
    statuses: Counter[int] = Counter()
    for _ in range(3):
        markers = tmp_path / 'markers'
        shutil.rmtree(markers, ignore_errors=True)
        shutil.rmtree(tmp_path / 'resources', ignore_errors=True)
        markers.mkdir()
        process = subprocess.Popen(
            [reference, str(HERE / 'handler_pipeline.py'), 'build', str(markers), str(NOTIFICATION_SECONDS)],
            cwd=tmp_path,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        while not (markers / 'handlers').exists():  # past the imports: the build has begun
            assert process.poll() is None
            time.sleep(0.01)
        time.sleep(rng.uniform(0, handler_pipeline.STEPS * NOTIFICATION_SECONDS))
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        assert time.monotonic() - signalled < ENDS_WITHIN_SECONDS
        statuses[process.returncode] += 1
    # 1.12.2's status is death by SIGTERM, which shells, docker and Kubernetes report as 143: ours exits 143.
    assert statuses == Counter({-signal.SIGTERM: 3}), statuses
