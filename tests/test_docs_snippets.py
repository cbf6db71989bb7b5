"""Every code snippet of README.md, docs/ and examples/README.md runs, so the documentation cannot drift from the code.

Fenced blocks are run by language:

- ``python``: the blocks of one document run in order in one namespace, in a fresh process and an
  empty working directory; ``console``: each ``$ command`` runs (``gokart`` as ``python -m gokart``)
  and the lines shown under it must be its output; ``bash``: run with bash; ``ini`` is read with
  luigi's config parser (a ``# comment`` after a value would become part of the value) and ``toml``
  with tomllib. Blocks without a language are output or diagrams and are not run.

HTML comments just above a fence (invisible on GitHub) say more:

- ``<!-- snippet: skip REASON -->``: not run, for example because it needs a luigid or a bucket;
- ``<!-- snippet: mypy -->``: a python block is also type-checked by mypy with the gokart plugin,
  from a directory outside this repository (so mypy must find the installed gokart);
- ``<!-- snippet-setup CODE -->``: python that runs first (imports, a ``task`` to show);
- ``<!-- snippet-check CODE -->``: python that runs after the block and asserts what the text claims.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / 'README.md', *sorted((ROOT / 'docs').glob('*.md')), ROOT / 'examples' / 'README.md']
RUN = {'python', 'console', 'bash', 'ini', 'toml'}

_FENCE = re.compile(r'^```(?P<language>[\w-]*)[ \t]*\n(?P<code>.*?)^```[ \t]*$', re.S | re.M)
_SKIP = re.compile(r'<!--\s*snippet:\s*skip\b(?P<reason>.*?)-->', re.S)
_MYPY = re.compile(r'<!--\s*snippet:\s*mypy\s*-->')
_SETUP = re.compile(r'<!--\s*snippet-setup\s*\n(?P<code>.*?)-->', re.S)
_CHECK = re.compile(r'<!--\s*snippet-check\s*\n(?P<code>.*?)-->', re.S)


@dataclass
class Snippet:
    document: Path
    line: int
    language: str
    code: str
    skip: str | None = None
    mypy: bool = False
    setup: str = ''
    check: str = ''

    @property
    def label(self) -> str:
        return f'{self.document.relative_to(ROOT)}:{self.line}'


def snippets(document: Path) -> list[Snippet]:
    text = document.read_text()
    found, previous_end = [], 0
    for match in _FENCE.finditer(text):
        directives = text[previous_end : match.start()]
        previous_end = match.end()
        skip = _SKIP.search(directives)
        setup, check = _SETUP.search(directives), _CHECK.search(directives)
        found.append(
            Snippet(
                document=document,
                line=text.count('\n', 0, match.start()) + 1,
                language=match['language'],
                code=match['code'],
                skip=(skip['reason'].strip() or 'no reason given') if skip else None,
                mypy=bool(_MYPY.search(directives)),
                setup=setup['code'] if setup else '',
                check=check['code'] if check else '',
            )
        )
    return found


ALL = [s for document in DOCUMENTS for s in snippets(document)]


def runnable(language: str) -> list[Snippet]:
    return [s for s in ALL if s.language == language and s.skip is None]


def environment() -> dict[str, str]:
    env = dict(os.environ, GOKART_PROGRESS='0')
    env['PATH'] = os.path.dirname(sys.executable) + os.pathsep + env.get('PATH', '')
    return env


def test_every_snippet_is_run_or_says_why_not():
    assert len(ALL) > 20  # the parser finds the documents' blocks
    unknown = [f'{s.label} ({s.language})' for s in ALL if s.language and s.language not in RUN]
    assert not unknown, f'snippets in a language this test cannot run: mark them <!-- snippet: skip REASON -->: {unknown}'
    assert all(s.skip != 'no reason given' for s in ALL), [s.label for s in ALL if s.skip == 'no reason given']


# The python blocks of each document run in a fresh interpreter, one after another, in one namespace.
_RUNNER = """
import json, sys, traceback
namespace = {'__name__': '__main__'}
for label, code in json.load(sys.stdin):
    try:
        exec(compile(code, label, 'exec'), namespace)
    except BaseException:
        traceback.print_exc()
        print(f'snippet {label} failed', file=sys.stderr)
        sys.exit(1)
"""


@pytest.mark.parametrize('document', sorted({s.document for s in runnable('python')}), ids=lambda d: str(d.relative_to(ROOT)))
def test_python_snippets_run(document, tmp_path):
    steps = []
    for snippet in runnable('python'):
        if snippet.document == document:
            steps += [
                (f'{snippet.label} (setup)', snippet.setup),
                (snippet.label, snippet.code),
                (f'{snippet.label} (check)', snippet.check),
            ]
    done = subprocess.run(
        [sys.executable, '-c', _RUNNER],
        input=json.dumps(steps),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment(),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.parametrize('snippet', runnable('ini'), ids=lambda s: s.label)
def test_ini_snippets_are_what_luigi_reads(snippet):
    from luigi.configuration.cfg_parser import LuigiConfigParser

    parser = LuigiConfigParser()
    parser.read_string(snippet.code)
    for section in parser.sections():
        for key, value in parser.items(section, raw=True):
            assert not re.search(r'\s[#;]', value), (
                f'{snippet.label}: luigi reads [{section}] {key} as {value!r}: put the comment on its own line'
            )


@pytest.mark.parametrize('snippet', runnable('toml'), ids=lambda s: s.label)
def test_toml_snippets_parse(snippet):
    tomllib = pytest.importorskip('tomllib')  # Python 3.11+
    tomllib.loads(snippet.code)


def run_setup(snippet: Snippet, directory: Path) -> None:
    if snippet.setup:
        done = subprocess.run([sys.executable, '-c', snippet.setup], capture_output=True, text=True, cwd=directory, env=environment())
        assert done.returncode == 0, done.stderr[-3000:]


def console_steps(code: str) -> list[tuple[str, list[str]]]:
    """``(command, expected output lines)`` of each ``$ `` line of a console block."""
    steps: list[tuple[str, list[str]]] = []
    for line in code.splitlines():
        if line.startswith('$ '):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
    return steps


@pytest.mark.parametrize('snippet', runnable('console'), ids=lambda s: s.label)
def test_console_snippets_print_what_they_show(snippet, tmp_path):
    run_setup(snippet, tmp_path)
    for command, expected in console_steps(snippet.code):
        argv = shlex.split(command, comments=True)
        if argv[0] == 'gokart':
            argv = [sys.executable, '-m', 'gokart', *argv[1:]]
        done = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, env=environment(), timeout=300)
        assert 'Traceback' not in done.stderr, f'{snippet.label}: $ {command}\n{done.stderr}'
        if expected:
            assert done.stdout.splitlines() == expected, f'{snippet.label}: $ {command}'


@pytest.mark.parametrize('snippet', runnable('bash'), ids=lambda s: s.label)
def test_bash_snippets_run(snippet, tmp_path):
    run_setup(snippet, tmp_path)
    done = subprocess.run(['bash', '-e', '-c', snippet.code], capture_output=True, text=True, cwd=tmp_path, env=environment(), timeout=300)
    assert done.returncode == 0, f'{snippet.label}\n{done.stderr[-3000:]}'


@pytest.mark.parametrize('snippet', [s for s in runnable('python') if s.mypy], ids=lambda s: s.label)
def test_typed_snippets_pass_mypy_with_the_installed_gokart(snippet, tmp_path):
    (tmp_path / 'snippet.py').write_text(snippet.setup + snippet.code)
    (tmp_path / 'mypy.ini').write_text('[mypy]\nplugins = gokart.mypy:plugin\n')
    done = subprocess.run(
        [sys.executable, '-m', 'mypy', '--no-incremental', 'snippet.py'], capture_output=True, text=True, cwd=tmp_path, env=environment()
    )
    assert done.returncode == 0, f'{snippet.label}\n{done.stdout}'
