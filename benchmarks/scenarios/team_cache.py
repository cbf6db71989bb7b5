"""The team cache on S3 behind a 20 ms-per-request proxy: a warm plan through it, and fetching its outputs.

    python team_cache.py --n N [--delay-ms 20] [--fetch N]

N leaves are written to `s3://<bucket>/workspace` (as `s3_plan_warm.py` does, straight to moto's
server), then, through the proxy, in one process:

- `plan_only_workspace`: the plan of a new root over the N leaves with that bucket as the only
  workspace (`[TaskOnKart] workspace_directory`), what a team sharing one bucket has today;
- `plan_shared`: the same plan from an empty local workspace with the bucket as
  `[gokart] shared_workspace`: every leaf is a shared hit. `plan_ratio` is `plan_shared` over
  `plan_only_workspace` (the goal: at most 1.3). Each plan is made twice, alternating, and the faster
  of each kept;
- `fetch_parallel` / `fetch_one_by_one`: fetching `--fetch` of the leaves' outputs into an empty local
  workspace as a build does (`execution.team_cache.fetch_outputs`, 32 at a time), and one after
  another into another one; `fetch_speedup` is their ratio (the goal: at least 10).
  `fetch_parallel_no_delay` is the parallel fetch straight to moto's server, without the proxy: the
  floor the server's own CPU sets (it shares the machine's cores with the build), which bounds
  `fetch_parallel` here where a real bucket would not.

The moto server keeps connections alive between requests, as S3 does.

Ours only: gokart 1.12.2 has no shared workspace.
"""

from __future__ import annotations

import argparse
import os
import time

from _common import Stopwatch, emit, main
from _s3 import configure, moto_bucket, slow_endpoint
from s3_plan_warm import write_all_leaves, write_leaves


def scenario() -> None:
    parser = argparse.ArgumentParser(allow_abbrev=False)
    parser.add_argument('--n', type=int, required=True)
    parser.add_argument('--fetch', type=int, default=1000, help='outputs fetched in the fetch measurements')
    parser.add_argument('--delay-ms', type=float, default=20.0)
    parser.add_argument('--setup-processes', type=int, default=4)
    parser.add_argument('--setup', nargs=2, type=int, metavar=('START', 'STOP'))
    args = parser.parse_args()
    if args.setup:
        write_leaves(*args.setup)
        return
    with moto_bucket(keep_alive=True) as (endpoint, bucket):
        write_all_leaves(max(args.n, args.fetch), endpoint, bucket, args.setup_processes)
        with slow_endpoint(endpoint, args.delay_ms / 1000) as (proxied, proxy):
            configure(proxied, bucket)
            import luigi
            from _tasks import Leaf, WideRoot

            import gokart  # noqa: F401
            from gokart.execution import team_cache
            from gokart.execution.plan import TaskState, make_plan
            from gokart.storage import shared_workspace

            shared = f's3://{bucket}/workspace'
            config = luigi.configuration.get_config()
            if not config.has_section('gokart'):
                config.add_section('gokart')

            def as_only_workspace() -> None:
                config.set('TaskOnKart', 'workspace_directory', shared)
                config.remove_option('gokart', 'shared_workspace')

            def through_shared(own: str) -> None:
                config.set('TaskOnKart', 'workspace_directory', own)
                config.set('gokart', 'shared_workspace', shared)

            def planned(tag: str) -> tuple[float, int]:
                luigi.task_register.Register.clear_instance_cache()
                shared_workspace.refresh()
                began = time.perf_counter()
                plan = make_plan([WideRoot(n=args.n, tag=tag)])
                seconds = time.perf_counter() - began
                return seconds, plan.count(TaskState.COMPLETE)

            stopwatch = Stopwatch()
            timings: dict[str, list[float]] = {'plan_only_workspace': [], 'plan_shared': []}
            requests: dict[str, int] = {}
            for attempt in range(2):
                as_only_workspace()
                proxy.reset()
                seconds, complete = planned(f'only-{attempt}')
                requests['plan_only_workspace'] = proxy.stats()['requests']
                assert complete == args.n, complete
                timings['plan_only_workspace'].append(seconds)
                through_shared(os.path.abspath(f'own-{attempt}'))
                proxy.reset()
                seconds, complete = planned(f'shared-{attempt}')
                requests['plan_shared'] = proxy.stats()['requests']
                assert complete == args.n, complete
                timings['plan_shared'].append(seconds)
            for name, values in timings.items():
                stopwatch.metrics[name] = min(values)
                stopwatch.metrics[f'n_requests_{name}'] = requests[name]
            stopwatch.metrics['plan_ratio'] = stopwatch.metrics['plan_shared'] / stopwatch.metrics['plan_only_workspace']

            def leaves(own: str) -> list[object]:
                through_shared(own)
                luigi.task_register.Register.clear_instance_cache()
                shared_workspace.refresh()
                return [Leaf(i=i) for i in range(args.fetch)]

            parallel = leaves(os.path.abspath('fetch-parallel'))
            with stopwatch.measure('fetch_parallel'):
                fetched = team_cache.fetch_outputs(parallel)
            assert fetched == args.fetch, fetched
            one_by_one = leaves(os.path.abspath('fetch-serial'))
            with stopwatch.measure('fetch_one_by_one'):
                shared_workspace.existence(
                    (task.output().path(), task.workspace_directory)  # type: ignore[attr-defined]
                    for task in one_by_one
                )
                for task in one_by_one:
                    target = task.output()  # type: ignore[attr-defined]
                    assert shared_workspace.fetch(target.path(), task.workspace_directory)  # type: ignore[attr-defined]
            stopwatch.metrics['fetch_speedup'] = stopwatch.metrics['fetch_one_by_one'] / stopwatch.metrics['fetch_parallel']
            # The floor set by the moto server (its CPU shares the machine): the parallel fetch with no delay at all.
            os.environ['AWS_ENDPOINT_URL'] = endpoint
            straight = leaves(os.path.abspath('fetch-straight'))
            with stopwatch.measure('fetch_parallel_no_delay'):
                team_cache.fetch_outputs(straight)
        emit(dict(stopwatch.metrics), tasks=args.n + 1, fetched=args.fetch, delay_ms=args.delay_ms)


if __name__ == '__main__':
    main(scenario)
