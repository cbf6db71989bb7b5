"""gokart.run: luigi's command line with gokart's exit codes and options, run as a user would."""

import os
import subprocess
import sys
import textwrap

import pytest

PIPELINE = textwrap.dedent(
    """
    import luigi
    import gokart


    class Hello(gokart.TaskOnKart[str]):
        name = luigi.Parameter(default='world')
        shout = gokart.ExplicitBoolParameter(default=False)

        def run(self):
            text = f'Hello, {self.name}!'
            self.dump(text.upper() if self.shout else text)


    class Broken(gokart.TaskOnKart):
        def run(self):
            raise RuntimeError('broken on purpose')


    class Missing(luigi.ExternalTask):
        def output(self):
            return luigi.LocalTarget('does-not-exist.txt')


    class NeedsMissing(gokart.TaskOnKart):
        def requires(self):
            return Missing()

        def run(self):
            self.dump(1)


    class Configured(gokart.TaskOnKart[str]):
        value = luigi.Parameter(default='default')

        def run(self):
            self.dump(self.value)


    if __name__ == '__main__':
        gokart.run()
    """
)


@pytest.fixture
def pipeline(tmp_path):
    path = tmp_path / 'pipeline.py'
    path.write_text(PIPELINE)
    return path


def run_cli(pipeline, *args, env=None):
    environment = {**os.environ, 'PYTHONPATH': os.pathsep.join([os.path.dirname(os.path.dirname(os.path.abspath(__file__))), *sys.path])}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, str(pipeline), *args], cwd=pipeline.parent, capture_output=True, text=True, env=environment, timeout=300
    )


def load_output(pipeline, pattern):
    import glob
    import pickle

    (path,) = glob.glob(str(pipeline.parent / 'resources' / '__main__' / pattern))
    with open(path, 'rb') as f:
        return pickle.load(f)


def test_success_exits_zero_and_writes_the_output(pipeline):
    result = run_cli(pipeline, 'Hello', '--local-scheduler', '--name', 'kart', '--shout', 'true')
    assert result.returncode == 0, result.stderr
    assert load_output(pipeline, 'Hello_*.pkl') == 'HELLO, KART!'


def test_failed_task_exits_40(pipeline):
    result = run_cli(pipeline, 'Broken', '--local-scheduler')
    assert result.returncode == 40
    assert 'broken on purpose' in result.stderr


def test_missing_external_data_exits_20(pipeline):
    assert run_cli(pipeline, 'NeedsMissing', '--local-scheduler').returncode == 20


def test_unknown_task_exits_non_zero(pipeline):
    assert run_cli(pipeline, 'NoSuchTask', '--local-scheduler').returncode != 0


def test_explicit_bool_needs_a_value(pipeline):
    result = run_cli(pipeline, 'Hello', '--local-scheduler', '--shout')
    assert result.returncode != 0


def test_tree_info_mode_writes_the_tree_without_running(pipeline):
    result = run_cli(pipeline, 'Hello', '--local-scheduler', '--tree-info-mode=simple', '--tree-info-output-path=tree.txt')
    assert result.returncode == 0, result.stderr
    tree = (pipeline.parent / 'resources' / 'tree.txt').read_text()
    assert '(PENDING) Hello[' in tree
    assert not (pipeline.parent / 'resources' / '__main__').exists()


def test_config_file_sets_task_and_task_on_kart_parameters(pipeline):
    (pipeline.parent / 'luigi.cfg').write_text('[Configured]\nvalue=from-config\n\n[TaskOnKart]\nworkspace_directory=./configured_ws/\n')
    result = run_cli(pipeline, 'Configured', '--local-scheduler')
    assert result.returncode == 0, result.stderr
    import glob
    import pickle

    (path,) = glob.glob(str(pipeline.parent / 'configured_ws' / '__main__' / 'Configured_*.pkl'))
    with open(path, 'rb') as f:
        assert pickle.load(f) == 'from-config'


def test_toml_config_is_read_with_the_toml_parser(pipeline):
    (pipeline.parent / 'luigi.toml').write_text('[Configured]\nvalue = "from-toml"\n')
    result = run_cli(pipeline, 'Configured', '--local-scheduler', env={'LUIGI_CONFIG_PARSER': 'toml', 'LUIGI_CONFIG_PATH': 'luigi.toml'})
    assert result.returncode == 0, result.stderr
    assert load_output(pipeline, 'Configured_*.pkl') == 'from-toml'


def test_delete_unnecessary_output_files_keeps_needed_outputs(pipeline):
    assert run_cli(pipeline, 'Hello', '--local-scheduler').returncode == 0
    stale = pipeline.parent / 'resources' / '__main__' / 'Stale_0123.pkl'
    stale.write_bytes(b'x')
    result = run_cli(pipeline, 'Hello', '--local-scheduler', '--delete-unnecessary-output-files')
    assert result.returncode == 0, result.stderr
    assert not stale.exists()
    assert load_output(pipeline, 'Hello_*.pkl') == 'Hello, world!'
