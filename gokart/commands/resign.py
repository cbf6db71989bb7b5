"""Move a workspace signed by an older gokart to the current signature format: ``python -m gokart.resign WORKSPACE``.

Signature format v1 bound an output's base name only, so two signed files sharing a base name
(``train/data_<id>.pkl`` and ``test/data_<id>.pkl``, or two ``log/`` records of one task) could be
swapped. v2 binds the path relative to the workspace, and loading refuses v1 files. This command
checks every v1-signed file of a workspace against its v1 signature under the current key
(``GOKART_PICKLE_SIGNING_KEY`` or ``[gokart] pickle_signing_key``) and, when it checks out,
rewrites it (atomically) with a v2 trailer. Files that fail the check are listed and left alone:
delete them or rerun the tasks that write them. Run it on a workspace nobody is swapping files in.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import sys
from dataclasses import dataclass, field

from gokart.storage import filesystem as storage
from gokart.storage import signing


@dataclass
class ResignReport:
    """What ``resign_workspace`` did: files re-signed, files whose v1 signature failed (left alone)."""

    resigned: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def resign_workspace(workspace_directory: str, key: bytes | None = None) -> ResignReport:
    """Re-sign every v1-signed file below ``workspace_directory`` in the v2 format; see the module docstring."""
    key = key or signing.signing_key()
    if key is None:
        raise ValueError(
            f'cannot re-sign {workspace_directory}: set {signing.ENVIRONMENT_VARIABLE} (or [gokart] pickle_signing_key) to the key the files were signed with.'
        )
    report = ResignReport()
    for path in sorted(storage.list_files(workspace_directory)):
        if not _ends_with_legacy_trailer(path):
            continue
        with storage.open_read(path) as stream:
            content, found = signing.split_trailer(stream)
        if found is None or found.version != 1 or not _legacy_signature_holds(key, path, content, found.digest):
            report.refused.append(path)
            continue
        name = signing.signed_name(path, workspace_directory)
        mac = signing.new_mac(key, name)
        mac.update(content)
        storage.write_bytes(path, content + signing.trailer(name.encode('utf-8', 'surrogateescape'), mac.digest()))
        report.resigned.append(path)
    return report


def _ends_with_legacy_trailer(path: str) -> bool:
    if storage.size(path) < signing.LEGACY_TRAILER_BYTES:
        return False
    with storage.open_read(path) as stream:
        stream.seek(-signing.LEGACY_TRAILER_BYTES, os.SEEK_END)
        return stream.read(len(signing.LEGACY_TRAILER_MAGIC)) == signing.LEGACY_TRAILER_MAGIC


def _legacy_signature_holds(key: bytes, path: str, content: bytes, digest: bytes) -> bool:
    base_name = os.path.basename(path.rstrip('/')).encode()
    mac = hmac.new(key, digestmod=hashlib.sha256)
    mac.update(signing.LEGACY_DOMAIN + len(base_name).to_bytes(4, 'big') + base_name)
    mac.update(content)
    return hmac.compare_digest(mac.digest(), digest)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog='python -m gokart.resign', description=__doc__.splitlines()[0] if __doc__ else None, allow_abbrev=False
    )
    parser.add_argument('workspace_directory', help='the workspace_directory of the tasks (local path or URL)')
    arguments = parser.parse_args(argv)
    try:
        report = resign_workspace(arguments.workspace_directory)
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    for path in report.refused:
        print(f'not re-signed, its v1 signature does not hold (delete it or rerun its task): {path}', file=sys.stderr)
    print(f're-signed {len(report.resigned)} file(s); {len(report.refused)} refused')
    return 1 if report.refused else 0


if __name__ == '__main__':
    sys.exit(main())
