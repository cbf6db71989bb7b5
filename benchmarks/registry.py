"""The list of benchmark scenarios. To add one, append a `Scenario` in `all_scenarios()`.

A scenario is a script in `benchmarks/scenarios/` plus its arguments. The harness runs it once
per implementation (ours, gokart 1.12.2) in a fresh temporary directory as the working
directory, and reads the JSON line it prints (see `scenarios/_common.py`). Use only gokart's
public API in scenario scripts, so the same code measures both implementations.
"""

from __future__ import annotations

from dataclasses import dataclass

DAG_SIZES = (100, 2000, 10_000)
FRAME_ROWS = (1_000_000, 10_000_000)
# Every format at the small size; the big size only for the binary frame formats (a 1e7-row csv or json takes minutes).
FRAME_FORMATS = ('pkl', 'parquet', 'feather', 'csv', 'tsv', 'json', 'txt', 'npz')


@dataclass(frozen=True)
class Scenario:
    """One measurement: which script to run, with what, and in which modes."""

    name: str
    script: str
    args: tuple[str, ...]
    description: str
    quick: bool = True  # part of `--quick`
    ours_only: bool = False  # gokart 1.12.2 is not run (too slow to be useful)
    timeout: float = 120.0  # seconds per run, setup included; past it the run is recorded as 'timeout'
    repeat: int = 1  # runs per implementation; the median of each metric is kept
    show_rss: bool = False  # add a peak-RSS row to the table


def all_scenarios() -> list[Scenario]:
    """Every scenario, in the order they run and are printed."""
    scenarios = [
        Scenario('import', 'import_gokart.py', (), 'wall time of `import gokart` in a fresh interpreter', repeat=5),
    ]
    for n in DAG_SIZES:
        for shape, what in (('wide', f'{n} leaves under one root'), ('chain', f'a chain of {n} tasks under one root')):
            for mode in ('cold', 'warm'):
                floor = ('--floor',) if shape == 'wide' and mode == 'cold' else ()
                scenarios.append(
                    Scenario(
                        f'dag_{shape}_{mode}_{n}',
                        'dag.py',
                        ('--shape', shape, '--n', str(n), '--mode', mode, *floor),
                        f'{mode} build of {what}'
                        + (' (only the new root runs)' if mode == 'warm' else '')
                        + (', beside the bare loop writing the same files (floor_seconds, ratio_floor)' if floor else ''),
                        quick=n <= 100,
                        show_rss=mode == 'cold' and n >= DAG_SIZES[-1],
                    )
                )
    scenarios.append(
        Scenario(
            'plan_wide_warm_100000',
            'dag.py',
            ('--shape', 'wide', '--n', '100000', '--mode', 'warm'),
            'construct and plan 100,000 complete tasks under a new root; only the root runs',
            quick=False,
            ours_only=True,
            timeout=900.0,
            show_rss=True,
        )
    )
    parallel = (
        ('sleep8_workers1', ('--kind', 'sleep', '--n', '8', '--workers', '1'), '8 tasks sleeping 0.5 s, workers=1'),
        ('sleep8_workers4', ('--kind', 'sleep', '--n', '8', '--workers', '4'), '8 tasks sleeping 0.5 s, workers=4'),
        ('trivial400_workers2', ('--kind', 'leaf', '--n', '400', '--workers', '2'), '400 trivial tasks, workers=2'),
        ('cpu4_workers2', ('--kind', 'burn', '--n', '4', '--workers', '2'), '4 tasks burning ~0.5 s of Python CPU, workers=2'),
        ('chain10_workers1', ('--kind', 'chain', '--n', '10', '--workers', '1'), 'a chain of 10 trivial tasks under a root, workers=1'),
        (
            'chain10_workers2',
            ('--kind', 'chain', '--n', '10', '--workers', '2'),
            'the same chain with workers=2: never two tasks ready at once',
        ),
    )
    for name, args, description in parallel:
        scenarios.append(Scenario(name, 'parallel.py', args, description))
    for rows in FRAME_ROWS:
        for file_format in FRAME_FORMATS if rows <= FRAME_ROWS[0] else ('pkl', 'parquet', 'feather'):
            scenarios.append(
                Scenario(
                    f'frame_{file_format}_{rows:.0e}'.replace('+0', ''),
                    'frame_io.py',
                    ('--format', file_format, '--rows', str(rows)),
                    f'dump and load a {rows:,}-row mixed pandas frame as {file_format}, gokart vs the raw library call '
                    '(alternating, 7 rounds, medians and ratios of wall and CPU time)',
                    quick=rows <= FRAME_ROWS[0],
                    timeout=600.0,
                    show_rss=True,
                )
            )
    scenarios.append(
        Scenario(
            's3_cache_hit_1000',
            's3_cache_hit.py',
            ('--n', '1000'),
            'cache-hit check of 1,000 leaves on S3 (moto server in its own process); ms per task',
            quick=False,
            ours_only=True,
            timeout=300.0,
        )
    )
    scenarios.append(
        Scenario(
            's3_frame_pkl_1e6',
            's3_frame_io.py',
            ('--format', 'pkl', '--rows', '1000000'),
            'dump and load a 1,000,000-row mixed pandas frame as pkl on S3 (moto server in its own process)',
            quick=False,
            ours_only=True,
            timeout=600.0,
        )
    )
    scenarios += s3_latency_scenarios()
    scenarios += engine_scenarios()
    scenarios += id_scheme_scenarios()
    scenarios += runs_scenarios()
    scenarios.append(
        Scenario(
            'early_cutoff_chain_100',
            'early_cutoff.py',
            ('--n', '100', '--work', '0.3'),
            'a chain of 100 tasks of 0.3 s of work whose first reruns with the same output, rebuilt without and with early cutoff '
            '(goal: the cut-off rebuild under 5 % of the full one)',
            quick=False,
            ours_only=True,
            timeout=300.0,
        )
    )
    scenarios.append(
        Scenario(
            'contracts_2000',
            'contracts.py',
            ('--n', '2000', '--rows', '10000000'),
            'frame contracts (gokart.Schema) of 2,000 declared frame tasks vs their warm plan (goal: under 5 %); '
            'footers of cached parquet outputs; bytes read of a 1e7-row footer',
            quick=False,
            ours_only=True,
            timeout=300.0,
        )
    )
    scenarios.append(
        Scenario(
            'code_fingerprint_2000x10',
            'code_fingerprint.py',
            ('--n', '2000', '--classes', '10'),
            'fingerprinting 2,000 cached tasks of 10 notebook-style classes vs a warm plan of them (goal: under 5 %)',
            quick=False,
            ours_only=True,
            timeout=300.0,
        )
    )
    return scenarios


def runs_scenarios() -> list[Scenario]:
    """The runs index and the lineage journal (`runs_index.py`, ours only: gokart 1.12.2 has neither)."""
    return [
        Scenario(
            'runs_local_10000',
            'runs_index.py',
            ('--kind', 'local', '--n', '10000'),
            '10,000 recorded runs on a local workspace: first and nothing-new sync, runs(where=...), lineage --down, vs a pandas loop',
            ours_only=True,
            timeout=300.0,
        ),
        Scenario(
            'runs_local_100000',
            'runs_index.py',
            ('--kind', 'local', '--n', '100000'),
            'runs_local_10000 with 100,000 recorded runs (100 leaves, each used by 1,000 runs)',
            quick=False,
            ours_only=True,
            timeout=900.0,
        ),
        Scenario(
            'runs_s3_10000',
            'runs_index.py',
            ('--kind', 's3', '--n', '10000'),
            '10,000 recorded runs on S3 behind the 20 ms proxy: first and nothing-new sync, requests counted',
            quick=False,
            ours_only=True,
            timeout=900.0,
        ),
        Scenario(
            'runs_journal_overhead_2000',
            'runs_index.py',
            ('--kind', 'overhead', '--n', '2000'),
            'cold local build of 2,000 leaves under a root, lineage journal on vs off (GOKART_LINEAGE=0), fresh processes, 3 rounds',
            quick=False,
            ours_only=True,
            timeout=900.0,
        ),
        Scenario(
            'runs_journal_overhead_200',
            'runs_index.py',
            ('--kind', 'overhead', '--n', '200', '--rounds', '2'),
            'runs_journal_overhead_2000 with 200 leaves (the --quick size)',
            ours_only=True,
            timeout=300.0,
        ),
    ]


def s3_latency_scenarios() -> list[Scenario]:
    """S3 through `latency_proxy.py` (20 ms a request, like a real bucket): warm plans and workspace leases."""
    return [
        Scenario(
            's3_plan_warm_1000',
            's3_plan_warm.py',
            ('--n', '1000'),
            'warm build of 1,000 cached leaves on S3 behind a 20 ms-per-request proxy, with the breakdown of its requests and time',
            quick=False,
            timeout=600.0,
        ),
        Scenario(
            's3_plan_warm_2000',
            's3_plan_warm.py',
            ('--n', '2000'),
            'warm build of 2,000 cached leaves on S3 behind a 20 ms-per-request proxy (only a new root runs); requests counted',
            quick=False,
            timeout=600.0,
        ),
        # gokart 1.12.2 checks each task with its own requests (about 70 ms a task here at 2,000):
        # 20,000 would take over 20 minutes, so only ours runs at this size.
        Scenario(
            's3_plan_warm_20000',
            's3_plan_warm.py',
            ('--n', '20000'),
            's3_plan_warm_2000 with 20,000 leaves (ours only: gokart 1.12.2 would need over 20 minutes)',
            quick=False,
            ours_only=True,
            timeout=900.0,
        ),
        # The team cache is ours (gokart 1.12.2 has no shared workspace): `team_cache.py`.
        Scenario(
            'team_cache_1000',
            'team_cache.py',
            ('--n', '1000', '--fetch', '1000'),
            'warm plan of 1,000 shared hits vs the bucket as the only workspace (plan_ratio, goal <= 1.3); 1,000 fetches in parallel vs '
            'one by one (fetch_speedup, goal >= 10); S3 behind a 20 ms-per-request proxy',
            quick=False,
            ours_only=True,
            timeout=600.0,
        ),
        # Workspace leases are ours (gokart 1.12.2 has no lock without Redis): `s3_leases.py`.
        Scenario(
            's3_leases_overhead_500',
            's3_leases.py',
            ('--kind', 'overhead', '--n', '500'),
            'cold build of 500 leaves on S3 behind the proxy, run_lock=none vs workspace: lease overhead and extra requests per task',
            quick=False,
            ours_only=True,
            timeout=900.0,
        ),
        Scenario(
            's3_leases_3x500',
            's3_leases.py',
            ('--kind', 'processes', '--n', '500', '--processes', '3'),
            '3 processes building the same 500 leaves on S3 with workspace leases, vs 1 process: duplicate runs and wall time',
            quick=False,
            ours_only=True,
            timeout=900.0,
        ),
    ]


def engine_scenarios() -> list[Scenario]:
    """Tasks on two workers, every engine in one run side by side (`engines.py`): local executor, Dask batched and not, luigid."""
    dask_side_by_side = 'local,dask,dask_unbatched,dask_noop'
    return [
        Scenario(
            'engine_trivial2000',
            'engines.py',
            ('--n', '2000', '--engines', dask_side_by_side, '--rounds', '3'),
            '2,000 trivial tasks on 2 workers: local executor, Dask batched, Dask unbatched, Dask no-op functions (3 rounds, median)',
            quick=False,
            ours_only=True,
            timeout=1200.0,
        ),
        Scenario(
            'engine_luigid_trivial2000',
            'engines.py',
            ('--n', '2000', '--engines', 'local,luigid'),
            '2,000 trivial tasks on 2 workers: local executor and luigid with one `gokart.run --workers 2`',
            quick=False,
            ours_only=True,
            timeout=1200.0,
        ),
        Scenario(
            'engine_sleep200',
            'engines.py',
            ('--n', '200', '--kind', 'sleep', '--engines', 'dask,dask_unbatched'),
            '200 tasks sleeping 0.5 s on 2 Dask workers: batched no slower than unbatched (big tasks still spread)',
            quick=False,
            ours_only=True,
            timeout=600.0,
        ),
        # luigid is left out at this size: 2,000 tasks take it minutes (about 0.2 s a task).
        Scenario(
            'engine_trivial20000',
            'engines.py',
            ('--n', '20000', '--engines', dask_side_by_side),
            '20,000 trivial tasks on 2 workers: local executor, Dask batched, Dask unbatched, Dask no-op functions',
            quick=False,
            ours_only=True,
            timeout=2400.0,
        ),
        Scenario(
            'engine_dask_trivial100000',
            'engines.py',
            ('--n', '100000', '--engines', 'dask'),
            '100,000 trivial tasks on 2 Dask workers, batched: time and the scheduler process peak memory',
            quick=False,
            ours_only=True,
            timeout=2400.0,
        ),
    ]


def id_scheme_scenarios() -> list[Scenario]:
    """Id scheme 2 (Merkle) where scheme 1 cannot go, its planning cost, and `gokart rekey` (`id_schemes.py`, `dag.py`)."""
    return [
        Scenario(
            f'tip_chain_{mode}_10000_scheme2',
            'id_schemes.py',
            ('--kind', 'tip_chain', '--n', '10000', '--mode', mode),
            f'{mode} build of a chain of 10,000 TaskInstanceParameters under id scheme 2'
            + (' (only the new root runs)' if mode == 'warm' else ''),
            quick=False,
            ours_only=True,
            timeout=300.0,
        )
        for mode in ('cold', 'warm')
    ] + [
        Scenario(
            'lattice_1000_scheme2',
            'id_schemes.py',
            ('--kind', 'lattice', '--depth', '1000', '--scheme', '2'),
            'construct + ids of a lattice 1,000 levels deep (2 tasks a level, each holding both below), scheme 2',
            quick=False,
            ours_only=True,
        ),
        Scenario(
            'lattice_scheme1_60s',
            'id_schemes.py',
            ('--kind', 'lattice', '--scheme', '1', '--budget', '60'),
            'the same lattice under scheme 1, deeper until 60 s are spent: time of the deepest (its depth in results.json)',
            quick=False,
            ours_only=True,
            timeout=300.0,
        ),
        Scenario(
            'plan_wide_warm_100000_scheme2',
            'dag.py',
            ('--shape', 'wide', '--n', '100000', '--mode', 'warm', '--id-scheme', '2'),
            'plan_wide_warm_100000 under id scheme 2',
            quick=False,
            ours_only=True,
            timeout=900.0,
            show_rss=True,
        ),
        Scenario(
            'rekey_wide_10000',
            'id_schemes.py',
            ('--kind', 'rekey', '--n', '10000'),
            'gokart rekey --to 2 of a built local workspace of 10,001 tasks (60,006 files)',
            quick=False,
            ours_only=True,
            timeout=900.0,
        ),
    ]
