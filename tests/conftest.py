import os
import sys

import luigi
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), 'golden'))


@pytest.fixture(autouse=True)
def isolated_workspace(tmp_path, monkeypatch):
    """Each test runs in its own directory, so the default ./resources/ workspace is fresh, with a clean luigi state."""
    monkeypatch.chdir(tmp_path)
    luigi.task_register.Register.clear_instance_cache()
    config = luigi.configuration.get_config()
    sections = {section: dict(config.items(section)) for section in config.sections()} if hasattr(config, 'sections') else {}
    yield tmp_path
    luigi.task_register.Register.clear_instance_cache()
    for section in list(config.sections()):
        if section not in sections:
            config.remove_section(section)
