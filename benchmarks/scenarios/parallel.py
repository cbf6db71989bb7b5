"""Builds a root over K independent tasks with `gokart.build(root, workers=W)`.

    python parallel.py --kind sleep|leaf|burn|chain --n K --workers W

- sleep: each task sleeps 0.5 s (I/O-like waiting; ideal time K * 0.5 / W).
- leaf: trivial tasks; measures the per-task overhead of the parallel machinery.
- burn: each task burns ~0.5 s of pure-Python CPU; only process-level parallelism helps.
- chain: a chain of K trivial tasks under a root: never two ready at once, so workers cannot help
  and should cost nothing.
"""

from __future__ import annotations

import argparse

from _common import Stopwatch, emit, main
from _tasks import ChainRoot, FanOutRoot

import gokart


def scenario() -> None:
    parser = argparse.ArgumentParser(allow_abbrev=False)
    parser.add_argument('--kind', choices=['sleep', 'leaf', 'burn', 'chain'], required=True)
    parser.add_argument('--n', type=int, required=True)
    parser.add_argument('--workers', type=int, default=1)
    args = parser.parse_args()
    stopwatch = Stopwatch()
    with stopwatch.measure('seconds'):
        root = ChainRoot(n=args.n) if args.kind == 'chain' else FanOutRoot(kind=args.kind, n=args.n)
        result = gokart.build(root, workers=args.workers)
    if result != args.n:
        raise AssertionError(f'root returned {result!r}, expected {args.n}')
    emit(stopwatch.metrics, tasks=args.n + 1, workers=args.workers)


if __name__ == '__main__':
    main(scenario)
