"""Facts the prose of the documentation states, checked against the code, so they cannot drift."""

import importlib.util
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def read(path: str) -> str:
    return (ROOT / path).read_text()


def test_formats_md_names_the_parquet_codecs_in_use():
    from gokart.file_processor.tabular import DEFAULT_PARQUET_COMPRESSION

    text = ' '.join(read('docs/formats.md').split())
    assert 'snappy for pandas, zstd for polars' in text
    assert DEFAULT_PARQUET_COMPRESSION['pandas'] == 'snappy' and DEFAULT_PARQUET_COMPRESSION['polars'] == 'zstd'


def test_benchmarks_md_names_every_s3_scenario():
    spec = importlib.util.spec_from_file_location('bench_registry', ROOT / 'benchmarks' / 'registry.py')
    registry = importlib.util.module_from_spec(spec)
    sys.modules['bench_registry'] = registry
    spec.loader.exec_module(registry)
    s3 = [s.name for s in registry.all_scenarios() if s.name.startswith('s3_')]
    text = read('docs/benchmarks.md')
    assert s3 and all(f'`{name}`' in text for name in s3)
    assert 'placeholder' not in text


def test_docs_refer_to_no_spec_file_outside_the_repository():
    for path in ['README.md', 'docs/design.md']:
        assert not re.search(r'\bSPEC(\.md)?\b', read(path)), path


def test_readme_tells_about_the_hidden_lock_directory():
    from gokart.conflict_prevention_lock import file_lock

    assert '.gokart-locks/' in read('README.md') and '.gokart-locks' in (file_lock.__doc__ or '')


def test_design_md_tree_names_each_of_our_packages_and_each_says_its_layer():
    """docs/design.md opens with one line per package of ours; the package's docstring names the same layer."""
    import ast
    import json

    inventory = {name.split('.')[1] for name in json.loads(read('tests/compat/gokart_1_12_2_names.json'))['modules'] if '.' in name}
    ours = sorted(p.name for p in (ROOT / 'gokart').iterdir() if (p / '__init__.py').is_file() and p.name not in inventory)
    text = read('docs/design.md')
    tree = text[text.index('## The tree') : text.index('## One build through the tree')]
    assert ours and [name for name in ours if f'\n  {name}/ ' not in tree] == []
    for name in ours:
        docstring = ast.get_docstring(ast.parse(read(f'gokart/{name}/__init__.py'))) or ''
        assert re.match(r'.+\n\nLayer \w+ \(docs/design\.md\): may import ', docstring), name


def test_design_md_tree_says_which_packages_share_a_layer():
    """Packages that one row of tests/test_code_quality.py's _LAYERS holds import each other: their rows of the tree say so."""
    sys.path.insert(0, str(ROOT / 'tests'))
    try:
        from test_code_quality import _LAYERS
    finally:
        sys.path.remove(str(ROOT / 'tests'))
    text = read('docs/design.md')
    tree = text[text.index('## The tree') : text.index('## One build through the tree')]
    rows = {line.split()[0].rstrip('/'): line for line in tree.splitlines() if re.match(r'  \w+/ ', line)}
    layers: dict[str, set[str]] = {}
    for name, ours, _ in _LAYERS:
        layers.setdefault(name, set()).update(ours.split())
    for packages in layers.values():
        for package in packages:
            may_import = rows[package][112:]
            assert all(other in may_import for other in packages - {package}), (package, may_import)
