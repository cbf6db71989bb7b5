"""``gokart.run``'s ``--executor`` and ``--dask-address`` are taken out before luigi parses the command line."""

from __future__ import annotations

import pytest

from gokart.execution.dask_command import pop_executor_options


def test_both_spellings_are_taken_out_and_the_rest_kept_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv('GOKART_EXECUTOR', raising=False)
    args = ['pkg.Root', '--executor', 'dask', '--param=1', '--dask-address=tcp://scheduler:8786', '--workers', '2']
    assert pop_executor_options(args) == ('dask', 'tcp://scheduler:8786', ['pkg.Root', '--param=1', '--workers', '2'])
    assert pop_executor_options(['pkg.Root']) == (None, None, ['pkg.Root'])


def test_the_environment_chooses_the_executor_when_the_command_line_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('GOKART_EXECUTOR', 'dask')
    assert pop_executor_options(['pkg.Root'])[0] == 'dask'
    assert pop_executor_options(['pkg.Root', '--executor', 'luigi'])[0] == 'luigi'


def test_an_option_without_a_value_says_what_to_write() -> None:
    with pytest.raises(SystemExit, match='--dask-address needs a value'):
        pop_executor_options(['pkg.Root', '--dask-address', '--workers', '2'])
