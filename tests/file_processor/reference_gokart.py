"""Run inside gokart 1.12.2's virtualenv: dump every case with gokart, load both implementations' files.

Usage: python reference_gokart.py DIRECTORY. Our files are DIRECTORY/ours_<case><ext>; this writes
DIRECTORY/gokart_<case><ext> and DIRECTORY/results.pkl = {case: {'gokart': ..., 'ours': ...}},
each value a normalized loaded object or ('error', repr(exception)).
"""

import os
import pickle
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from compat_cases import CASES, GOKART_CANNOT_DUMP, normalize  # noqa: E402

from gokart.file_processor import make_file_processor  # noqa: E402
from gokart.target import make_target  # noqa: E402


def _target(path, dataframe_type):
    return make_target(path, processor=make_file_processor(path, dataframe_type=dataframe_type))


def _load(path, dataframe_type):
    try:
        return normalize(_target(path, dataframe_type).load())
    except Exception as error:
        return ('error', repr(error))


def main(directory):
    results = {}
    for name, extension, dataframe_type, build in CASES:
        gokart_path = os.path.join(directory, f'gokart_{name}{extension}')
        if name not in GOKART_CANNOT_DUMP:
            _target(gokart_path, dataframe_type).dump(build())
        results[name] = {
            'gokart': _load(gokart_path, dataframe_type),
            'ours': _load(os.path.join(directory, f'ours_{name}{extension}'), dataframe_type),
        }
    with open(os.path.join(directory, 'results.pkl'), 'wb') as file:
        pickle.dump(results, file, protocol=4)


if __name__ == '__main__':
    main(sys.argv[1])
