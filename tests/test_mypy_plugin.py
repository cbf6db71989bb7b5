"""The gokart mypy plugin, exercised the way users meet it: mypy run on task modules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mypy import api

from gokart.mypy import POSITIONAL_ARGUMENT_MESSAGE, PluginConfig

SAMPLES = Path(__file__).parent / 'mypy_samples'
REPO_ROOT = Path(__file__).parent.parent


@pytest.fixture(scope='module')
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # One cache for the module: luigi, pandas and gokart are analysed once instead of in every test.
    return tmp_path_factory.mktemp('mypy_cache')


def run_mypy(tmp_path: Path, cache_dir: Path, sample: str, *, plugin: bool = True, gokart_mypy: str = '') -> tuple[str, int]:
    """Type-check one sample with a throw-away pyproject.toml; returns (report, exit status)."""
    lines = ['[tool.mypy]', 'follow_imports = "silent"', f'mypy_path = "{REPO_ROOT}"']
    if plugin:
        lines.append('plugins = ["gokart.mypy"]')
    if gokart_mypy:
        lines += ['[tool.gokart-mypy]', gokart_mypy]
    config = tmp_path / 'pyproject.toml'
    config.write_text('\n'.join(lines) + '\n')
    stdout, stderr, status = api.run(['--config-file', str(config), '--cache-dir', str(cache_dir), str(SAMPLES / sample)])
    return stdout + stderr, status


@pytest.fixture(autouse=True)
def plugin_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    # mypy imports the plugin by module name from sys.path.
    monkeypatch.syspath_prepend(str(REPO_ROOT))


def errors(report: str) -> list[tuple[int, str]]:
    return [(int(m[1]), m[2]) for m in re.finditer(r'^\S+\.py:(\d+): error: (.*)$', report, re.MULTILINE)]


def test_correct_wiring_passes(tmp_path: Path, cache_dir: Path) -> None:
    report, status = run_mypy(tmp_path, cache_dir, 'correct_wiring.py')
    assert status == 0, report


def test_wrong_wiring_is_reported(tmp_path: Path, cache_dir: Path) -> None:
    report, status = run_mypy(tmp_path, cache_dir, 'wrong_wiring.py')
    assert status == 1
    assert errors(report) == [
        (22, 'Argument 1 to "dump" of "TaskOnKart" has incompatible type "str"; expected "int"  [arg-type]'),
        (25, 'Argument "value" to "MakeNumber" has incompatible type "str"; expected "int"  [arg-type]'),
        (26, 'Argument "number" to "Double" has incompatible type "MakeName"; expected "TaskOnKart[int]"  [arg-type]'),
        (27, 'Argument "rerun_count" to "Double" has incompatible type "str"; expected "int"  [arg-type]'),
        (28, 'Unexpected keyword argument "unknown" for "Double"  [call-arg]'),
    ]


def test_positional_argument_to_a_parameter_is_reported(tmp_path: Path, cache_dir: Path) -> None:
    report, _ = run_mypy(tmp_path, cache_dir, 'positional_argument.py')
    assert errors(report) == [(7, POSITIONAL_ARGUMENT_MESSAGE + '  [misc]')]
    assert 'Update your code to use named arguments, like luigi.Parameter(default=' in report


def test_overriding_a_parameter_with_a_method_is_reported(tmp_path: Path, cache_dir: Path) -> None:
    report, _ = run_mypy(tmp_path, cache_dir, 'override_with_method.py')
    assert (11, 'TaskOnKart attribute may only be overridden by another attribute  [misc]') in errors(report)


def test_parameters_are_optional_by_default(tmp_path: Path, cache_dir: Path) -> None:
    report, status = run_mypy(tmp_path, cache_dir, 'missing_parameters.py')
    assert status == 0, report


def test_disallow_missing_parameters_requires_parameters_without_default(tmp_path: Path, cache_dir: Path) -> None:
    report, _ = run_mypy(tmp_path, cache_dir, 'missing_parameters.py', gokart_mypy='disallow_missing_parameters = true')
    assert errors(report) == [(11, 'Missing named argument "value" for "NeedsValue"  [call-arg]')]


def test_disallow_missing_parameters_must_be_a_bool(tmp_path: Path) -> None:
    config = tmp_path / 'pyproject.toml'
    config.write_text('[tool.gokart-mypy]\ndisallow_missing_parameters = "yes"\n')
    with pytest.raises(ValueError, match='disallow_missing_parameters must be a boolean value'):
        PluginConfig.from_config_file(str(config))


def test_plugin_settings_come_from_pyproject_only(tmp_path: Path) -> None:
    ini = tmp_path / 'mypy.ini'
    ini.write_text('[mypy]\n')
    with pytest.warns(UserWarning, match='gokart mypy plugin can be configured by pyproject.toml'):
        assert PluginConfig.from_config_file(str(ini)) == PluginConfig(disallow_missing_parameters=False)
    toml = tmp_path / 'pyproject.toml'
    toml.write_text('[tool.gokart-mypy]\ndisallow_missing_parameters = true\n')
    assert PluginConfig.from_config_file(str(toml)).disallow_missing_parameters is True


def test_plain_mypy_checks_user_code_without_the_plugin(tmp_path: Path, cache_dir: Path) -> None:
    report, status = run_mypy(tmp_path, cache_dir, 'without_plugin.py', plugin=False)
    assert status == 0, report


def test_incremental_cache_keeps_inherited_parameters(tmp_path: Path) -> None:
    # The second run reads the parent classes from mypy's cache: their parameters must survive it.
    config = tmp_path / 'pyproject.toml'
    config.write_text(f'[tool.mypy]\nplugins = ["gokart.mypy"]\nfollow_imports = "silent"\nmypy_path = "{REPO_ROOT}"\n')
    module = tmp_path / 'pipeline_base.py'
    module.write_text((SAMPLES / 'correct_wiring.py').read_text())
    user = tmp_path / 'user.py'
    args = ['--config-file', str(config), '--cache-dir', str(tmp_path / 'cache'), str(user)]
    user.write_text('from pipeline_base import AddMore, MakeNumber\nAddMore(left=MakeNumber(value=1), factor=2.0)\n')
    assert api.run(args)[2] == 0
    user.write_text('from pipeline_base import AddMore, MakeNumber\nAddMore(left=MakeNumber(value=1), factor="x")\n')
    report = api.run(args)[0]
    assert 'Argument "factor" to "AddMore" has incompatible type "str"; expected "float"' in report
