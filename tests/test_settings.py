"""Every [gokart] setting declared once (gokart.core.settings), read through one function; `gokart config`."""

import json
from pathlib import Path

import luigi
import pytest

from gokart.commands import cli
from gokart.commands.config import shown_value
from gokart.core import settings, strict_mode
from gokart.errors import ConfigOptionError, RunLockConfigurationError
from gokart.records import lineage
from gokart.run_locks import settings as run_lock_settings

ROOT = Path(__file__).resolve().parent.parent


def docs_row(declared: settings.Setting) -> str:
    option = f'`{declared.name}`' if declared.in_file else '(environment only)'
    default = '(unset)' if declared.default is None else shown_value(declared, declared.default)
    return f'| {option} | `{declared.environment_variable}` | {declared.kind.name} | {default} | {declared.doc} |'


def test_docs_configuration_lists_every_setting_as_declared():
    text = (ROOT / 'docs' / 'configuration.md').read_text()
    listed = [line for line in text.splitlines() if line.startswith('| `') or line.startswith('| (environment only)')]
    expected = [docs_row(declared) for declared in settings.SETTINGS]
    missing = [row for row in expected if row not in listed]
    stale = [row for row in listed if row not in expected]
    assert not missing and not stale, 'docs/configuration.md: paste these rows\n' + '\n'.join(missing) + '\nand remove\n' + '\n'.join(stale)


def test_every_declared_setting_has_its_own_variable_and_a_doc():
    variables = [declared.environment_variable for declared in settings.SETTINGS]
    assert len(set(variables)) == len(variables) == len({d.name for d in settings.SETTINGS})
    assert all(v.startswith('GOKART_') for v in variables)
    assert all(declared.doc.endswith('.') for declared in settings.SETTINGS)


@pytest.fixture
def gokart_section():
    config = luigi.configuration.get_config()
    config.add_section('gokart') if not config.has_section('gokart') else None
    yield config
    config.remove_section('gokart')


def test_the_environment_wins_over_the_file_which_wins_over_the_default(monkeypatch, gokart_section):
    monkeypatch.delenv('GOKART_RUN_LOCK_LEASE_SECONDS', raising=False)
    assert settings.lookup('run_lock_lease_seconds')[::2] == (60.0, 'default')
    gokart_section.set('gokart', 'run_lock_lease_seconds', '90')
    assert settings.lookup('run_lock_lease_seconds')[::2] == (90.0, 'file')
    monkeypatch.setenv('GOKART_RUN_LOCK_LEASE_SECONDS', '5')
    assert settings.lookup('run_lock_lease_seconds')[::2] == (5.0, 'environment')
    assert run_lock_settings.read().lease_seconds == 5.0
    monkeypatch.setenv('GOKART_RUN_LOCK_LEASE_SECONDS', '  ')  # blank counts as not given
    assert settings.value('run_lock_lease_seconds') == 90.0


def test_booleans_are_spelled_one_way_for_every_switch(monkeypatch):
    for word, expected in [('on', True), ('YES', True), ('1', True), ('off', False), ('No', False), ('false', False)]:
        monkeypatch.setenv('GOKART_STRICT', word)
        assert strict_mode.enabled() is expected
        monkeypatch.setenv('GOKART_LINEAGE', word)
        assert lineage._journal_on() is expected
    monkeypatch.setenv('GOKART_STRICT', 'maybe')
    with pytest.raises(ConfigOptionError, match="GOKART_STRICT is 'maybe': set it to true"):
        strict_mode.enabled()


def test_a_bad_value_raises_the_settings_own_error_naming_the_option(monkeypatch, gokart_section):
    monkeypatch.delenv('GOKART_RUN_LOCK', raising=False)
    gokart_section.set('gokart', 'run_lock', 'sometimes')
    with pytest.raises(RunLockConfigurationError, match=r"\[gokart\] run_lock in the luigi config is 'sometimes': use one of auto, file"):
        run_lock_settings.read()
    with pytest.raises(KeyError, match='not a gokart setting'):
        settings.value('run_locks')


def test_gokart_config_prints_each_value_with_its_source(monkeypatch, gokart_section, capsys):
    for declared in settings.SETTINGS:
        monkeypatch.delenv(declared.environment_variable, raising=False)
    monkeypatch.setenv('GOKART_ID_SCHEME', '2')
    monkeypatch.setenv('GOKART_PICKLE_SIGNING_KEY', 'not-shown-anywhere')
    gokart_section.set('gokart', 'dask_batch', 'off')
    assert cli.main(['config']) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split(None, 2)[1:] for line in out.splitlines()[1:]}
    assert rows['id_scheme'] == ['2', 'environment (GOKART_ID_SCHEME)']
    assert rows['dask_batch'] == ['off', 'file ([gokart] dask_batch)']
    assert rows['strict'] == ['false', 'default']
    assert rows['pickle_signing_key'] == ['(set)', 'environment (GOKART_PICKLE_SIGNING_KEY)']
    assert 'not-shown-anywhere' not in out
    assert set(rows) == {declared.name for declared in settings.SETTINGS}

    monkeypatch.setenv('GOKART_STORAGE_RETRIES', '-2')
    assert cli.main(['config', '--format', 'json']) == 1
    captured = capsys.readouterr()
    shown = {row['name']: row for row in json.loads(captured.out)}
    assert shown['storage_retries']['error'] == "the environment variable GOKART_STORAGE_RETRIES is '-2': give a whole number >= 0."
    assert shown['id_scheme']['value'] == '2'
