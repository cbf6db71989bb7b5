"""Dump and load of a pandas DataFrame through gokart, next to the raw library call, measured so that a ratio can be told from noise.

    python frame_io.py --format pkl|parquet|feather|csv|tsv|json|txt|npz --rows N [--rounds R]

The frame has N rows of mixed columns (two int64, two float64, two str). The raw calls are
`pickle.dump(protocol=5)` / `pickle.load`, `pyarrow.parquet.write_table` (defaults) /
`read_table().to_pandas()`, `pyarrow.feather.write_feather` (defaults) / `read_feather`,
`to_csv(index=False)` / `read_csv` (`sep='\t'` for tsv), `to_json()` / `read_json()`: what the
disk and the library can do on this machine right now. txt dumps the frame's `label` column as N
lines (raw: one `write` of the joined lines, `readlines()` stripped) and npz its numeric columns
as one N x 4 array (raw: `numpy.savez_compressed(data=...)` / `numpy.load(...)['data']`), the
objects those formats hold in gokart 1.12. Ours: `dump` is `gokart.build` of a task
whose `run()` dumps the frame to `data.<format>` (a new task each round, so each round really
dumps); `load` is `gokart.build` of the same, now complete, task: it only loads the output.
gokart's own format choices apply, so the gap to raw shows what they cost.

How noise is kept out (a shared machine moves single figures by a factor of two):
- ours and raw alternate, and which goes first alternates from round to round;
- both start from the same page-cache state: before each timed dump, the dirty pages are written
  out (`os.sync`), so neither pays for the other's writeback; before each timed load, the file
  to be read is read once, so both load from the page cache; each dump writes a new file, and the
  files of a round are deleted (and synced) after it;
- the CPU time of this process (all threads, `*_cpu`) is taken with the wall time: other
  processes on a busy machine delay the wall clock much more than they change the CPU spent;
- R rounds (default 7); each figure is the median, `*_spread` the min-max range of the rounds,
  and `*_ratio` the median of the per-round ratios ours / raw (paired, so slow phases of the
  machine cancel), with `*_ratio_min` / `*_ratio_max`; `*_over_ms` is ours - raw in ms.
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import time
from collections.abc import Callable

import luigi
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
from _common import emit, main

import gokart

# What the dump task writes; module state, because a task parameter would be hashed.
FRAME: object = None


class DumpFrame(gokart.TaskOnKart[pd.DataFrame]):
    """Dumps the module's FRAME in the chosen format."""

    file_format = luigi.Parameter()
    rows = luigi.IntParameter()
    attempt = luigi.IntParameter(default=0)  # a new attempt is a new task, so each repeat really dumps

    def output(self):
        return self.make_target(f'frame/data.{self.file_format}')

    def run(self) -> None:
        self.dump(FRAME)


def make_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    words = np.array(['alpha', 'beta', 'gamma', 'delta', 'epsilon'])
    return pd.DataFrame(
        {
            'id': np.arange(rows, dtype=np.int64),
            'count': rng.integers(0, 1000, rows),
            'x': rng.random(rows),
            'y': rng.normal(size=rows),
            'label': words[rng.integers(0, len(words), rows)],
            'code': pd.Series(rng.integers(0, 1_000_000, rows)).astype(str).to_numpy(),
        }
    )


FORMATS = ('pkl', 'parquet', 'feather', 'csv', 'tsv', 'json', 'txt', 'npz')


def payload(df: pd.DataFrame, file_format: str) -> object:
    """What a task dumps in ``file_format``: the frame, or for txt and npz the object those formats hold."""
    if file_format == 'txt':
        return df['label'].tolist()
    if file_format == 'npz':
        return df[['id', 'count', 'x', 'y']].to_numpy()
    return df


def raw_dump(df: object, file_format: str, path: str) -> None:
    if file_format in ('csv', 'tsv'):
        df.to_csv(path, index=False, sep='\t' if file_format == 'tsv' else ',')  # type: ignore[attr-defined]
    elif file_format == 'json':
        df.to_json(path)  # type: ignore[attr-defined]
    elif file_format == 'txt':
        with open(path, 'w') as f:
            f.write('\n'.join(df))  # type: ignore[arg-type]
    elif file_format == 'npz':
        np.savez_compressed(path, data=df)
    elif file_format == 'pkl':
        with open(path, 'wb') as f:
            pickle.dump(df, f, protocol=5)
    elif file_format == 'parquet':
        pq.write_table(pa.Table.from_pandas(df), path)
    else:
        feather.write_feather(df, path)


def raw_load(file_format: str, path: str) -> object:
    if file_format in ('csv', 'tsv'):
        return pd.read_csv(path, sep='\t' if file_format == 'tsv' else ',')
    if file_format == 'json':
        return pd.read_json(path)
    if file_format == 'txt':
        with open(path) as f:
            return [line.rstrip() for line in f.readlines()]
    if file_format == 'npz':
        with np.load(path) as archive:
            return archive['data']
    if file_format == 'pkl':
        with open(path, 'rb') as f:
            return pickle.load(f)
    if file_format == 'parquet':
        return pq.read_table(path).to_pandas()
    return feather.read_feather(path)


def timed(step: Callable[[], object]) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def timed_both(step: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process, all its threads) of ``step``."""
    wall, cpu = time.perf_counter(), time.process_time()
    step()
    return time.perf_counter() - wall, time.process_time() - cpu


def read_through(path: str) -> None:
    """Read ``path`` once, so the timed load that follows finds it in the page cache (not timed)."""
    with open(path, 'rb') as f:
        while f.read(1 << 24):
            pass


def scenario() -> None:
    global FRAME
    parser = argparse.ArgumentParser(allow_abbrev=False)
    parser.add_argument('--format', dest='file_format', choices=FORMATS, required=True)
    parser.add_argument('--rows', type=int, required=True)
    parser.add_argument('--rounds', type=int, default=7)
    args = parser.parse_args()
    frame = make_frame(args.rows)
    FRAME = payload(frame, args.file_format)
    os.makedirs('raw', exist_ok=True)
    names = ('raw_dump', 'dump', 'raw_load', 'load')
    samples: dict[str, list[float]] = {name: [] for name in names + tuple(f'{name}_cpu' for name in names)}
    sizes: dict[str, int] = {}
    for round_ in range(args.rounds):
        raw_path = os.path.join('raw', f'data_{round_}.{args.file_format}')
        task = DumpFrame(file_format=args.file_format, rows=args.rows, attempt=round_)

        def raw_dump_step(path: str = raw_path) -> None:
            raw_dump(FRAME, args.file_format, path)

        def dump_step(task: DumpFrame = task) -> None:
            gokart.build(task, return_value=False)

        loaded: dict[str, object] = {}
        dumps = [('raw_dump', raw_dump_step), ('dump', dump_step)]
        for name, step in dumps if round_ % 2 == 0 else reversed(dumps):
            os.sync()
            _record(samples, name, timed_both(step))
        ours_path = task.output().path()
        loads = [
            ('raw_load', raw_path, lambda into=loaded, path=raw_path: into.__setitem__('raw', raw_load(args.file_format, path))),
            ('load', ours_path, lambda into=loaded, task=task: into.__setitem__('gokart', gokart.build(task))),
        ]
        for name, path, step in loads if round_ % 2 == 0 else reversed(loads):
            read_through(path)
            _record(samples, name, timed_both(step))
        for name, found in loaded.items():
            if _shape(found) != _shape(FRAME):
                raise AssertionError(f'{name} load returned shape {_shape(found)}, expected {_shape(FRAME)}')
        sizes = {'raw': os.path.getsize(raw_path), 'gokart': os.path.getsize(ours_path)}
        loaded.clear()
        os.remove(raw_path)
        os.remove(ours_path)
        os.sync()
    metrics: dict[str, float] = {}
    for name, values in samples.items():
        metrics[name] = statistics.median(values)
        metrics[f'{name}_spread'] = max(values) - min(values)
    for step in ('dump', 'load', 'dump_cpu', 'load_cpu'):
        ratios = [ours / raw for ours, raw in zip(samples[step], samples[f'raw_{step}'], strict=True)]
        metrics[f'{step}_ratio'] = statistics.median(ratios)
        metrics[f'{step}_ratio_min'] = min(ratios)
        metrics[f'{step}_ratio_max'] = max(ratios)
        metrics[f'{step}_over_ms'] = (metrics[step] - metrics[f'raw_{step}']) * 1000
    emit(
        metrics,
        rows=args.rows,
        rounds=args.rounds,
        frame_mb=round(frame.memory_usage(deep=True).sum() / 2**20, 1),
        raw_file_mb=round(sizes['raw'] / 2**20, 1),
        gokart_file_mb=round(sizes['gokart'] / 2**20, 1),
        load=os.getloadavg()[0],
    )


def _shape(found: object) -> object:
    return getattr(found, 'shape', None) or len(found)  # type: ignore[arg-type]


def _record(samples: dict[str, list[float]], name: str, both: tuple[float, float]) -> None:
    samples[name].append(both[0])
    samples[f'{name}_cpu'].append(both[1])


if __name__ == '__main__':
    main(scenario)
