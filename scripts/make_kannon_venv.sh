#!/usr/bin/env bash
# Make a separate virtualenv in which kannon 0.1.4's own unit tests run against this gokart.
#
# kannon (https://github.com/m3dev/kannon) drives gokart tasks from its own job loop, so its tests
# are a check by a third party that this gokart keeps gokart 1.12's behaviour. The venv holds this
# repository (editable), kannon 0.1.4 without its dependencies (it pins gokart) and kannon's own
# dependency (the kubernetes client, which its tests only construct objects of).
#
# kannon's tests are not in its 0.1.4 sdist or wheel; they are taken, in this order, from
#   1. $KANNON_TESTS_DIR, a directory holding kannon's test files (test/test_master.py and
#      test/test_master_build.py of its repository at the release: 5 + 3 tests for 0.1.4);
#   2. the kannon sdist, should a release ship them;
#   3. a git clone of https://github.com/m3dev/kannon at the tag of the release (needs github.com).
# They are copied to <venv>/kannon-tests, where tests/compat/test_kannon.py runs them.
#
# Usage: scripts/make_kannon_venv.sh [VENV_DIR]          (default: <repo>/.venv-kannon)
#        GOKART_SPEC='gokart==1.12.2' scripts/make_kannon_venv.sh /tmp/kannon-ref
#          installs that gokart from PyPI instead of this repository (to check the reference).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${1:-$repo/.venv-kannon}"
kannon_version="${KANNON_VERSION:-0.1.4}"
python="${PYTHON:-python3}"

"$python" -m venv "$venv"
printf '*\n' > "$venv/.gitignore"  # never committed, wherever it lives
"$venv/bin/python" -m pip install --quiet --upgrade pip
if [[ -n "${GOKART_SPEC:-}" ]]; then
    "$venv/bin/python" -m pip install --quiet "$GOKART_SPEC"
else
    "$venv/bin/python" -m pip install --quiet -e "$repo"
fi
"$venv/bin/python" -m pip install --quiet --no-deps "kannon==$kannon_version"
"$venv/bin/python" -m pip install --quiet 'kubernetes>=26.1.0,<27'

tests="$venv/kannon-tests"
rm -rf "$tests"
mkdir -p "$tests"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

copy_tests_from() {  # copy every test_*.py under $1 (kannon keeps them in test/ and its subfolders)
    local found
    found="$(find "$1" -name 'test_*.py' 2>/dev/null | head -n 1)"
    [[ -n "$found" ]] || return 1
    find "$1" -name 'test_*.py' -exec cp {} "$tests/" \;
}

if [[ -n "${KANNON_TESTS_DIR:-}" ]] && copy_tests_from "$KANNON_TESTS_DIR"; then
    echo "kannon tests: copied from $KANNON_TESTS_DIR"
elif "$venv/bin/python" -m pip download --quiet --no-binary :all: --no-deps "kannon==$kannon_version" -d "$work/sdist" \
    && tar -xzf "$work"/sdist/kannon-*.tar.gz -C "$work/sdist" && copy_tests_from "$work/sdist"; then
    echo "kannon tests: taken from the kannon $kannon_version sdist"
elif export GIT_TERMINAL_PROMPT=0 && { git clone --quiet --depth 1 --branch "v$kannon_version" https://github.com/m3dev/kannon "$work/git" 2>/dev/null \
    || git clone --quiet --depth 1 --branch "$kannon_version" https://github.com/m3dev/kannon "$work/git" 2>/dev/null; } \
    && copy_tests_from "$work/git"; then
    echo "kannon tests: taken from the kannon git repository at $kannon_version"
else
    echo "kannon tests: not found. Put kannon $kannon_version's test files (test/test_master*.py of its repository)" \
        "in a directory and run again with KANNON_TESTS_DIR=<that directory>." >&2
    exit 1
fi
echo "kannon venv ready: $venv (tests in $tests)"
