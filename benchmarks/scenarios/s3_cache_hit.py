"""Cache-hit check of a wide DAG whose workspace is on S3 (moto's server in a separate process).

    python s3_cache_hit.py --n N

Every one of the N leaves is already in `s3://<bucket>/workspace` and only the root (a new `tag`)
is missing, so the build must learn that N outputs exist and run one task. This is done twice in
one process: `seconds_first_build` includes the one-time costs of a fresh process (importing pandas
and boto3, the first connection); `seconds` is the second build, with new task instances, and
`ms_per_task` is `seconds / N` in milliseconds: the cost of a cache-hit check per task.

The server and the configuration are those of `_s3.py`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from _common import Stopwatch, emit, main
from _s3 import configure, moto_bucket


def write_leaves(n: int) -> None:
    from _tasks import Leaf

    for i in range(n):
        Leaf(i=i).dump(i)


def scenario() -> None:
    parser = argparse.ArgumentParser(allow_abbrev=False)
    parser.add_argument('--n', type=int, required=True)
    parser.add_argument('--setup', nargs=2, metavar=('ENDPOINT', 'BUCKET'), help='only write the leaves (child process)')
    args = parser.parse_args()
    if args.setup:
        configure(*args.setup)
        write_leaves(args.n)
        return

    with moto_bucket() as (endpoint, bucket):
        subprocess.run([sys.executable, __file__, '--n', str(args.n), '--setup', endpoint, bucket], check=True)
        configure(endpoint, bucket)

        import luigi
        from _tasks import WideRoot

        import gokart

        stopwatch = Stopwatch()
        for tag, metric in (('first', 'seconds_first_build'), ('second', 'seconds')):
            luigi.task_register.Register.clear_instance_cache()
            with stopwatch.measure(metric):
                result = gokart.build(WideRoot(n=args.n, tag=tag))
            if result != args.n:
                raise AssertionError(f'root returned {result!r}, expected {args.n}')
        stopwatch.metrics['ms_per_task'] = stopwatch.metrics['seconds'] / args.n * 1000
        emit(stopwatch.metrics, tasks=args.n + 1)


if __name__ == '__main__':
    main(scenario)
