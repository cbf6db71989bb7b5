"""Ed25519 signatures of the outputs in a shared workspace: written by the pusher (CI), checked by readers.

A pushed output ``X_{id}.pkl`` gets a small JSON file beside it, ``X_{id}.pkl.gokart-signature``,
naming the output's path relative to the workspace, the task's unique id, the SHA-256 and size of
its content, the code fingerprint when the task has one, and, when the pusher holds a signing key
(``[gokart] shared_signing_key``), the raw Ed25519 public key and the signature over all of those.
The output itself keeps the bytes gokart 1.12 writes, so gokart 1.12 reads the shared workspace as is.

Readers always check the content hash when a signature file is there (a fetch that got other bytes
than were pushed is refused). With ``[gokart] shared_trusted_keys`` set they also require a
signature made by one of those public keys: a reader can verify but not forge. The cryptography is
the ``cryptography`` library's Ed25519; the HMAC trailer of ``gokart.storage.signing`` stays for
setups where every reader and writer holds one secret.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from gokart.errors import ConfigOptionError

SIGNATURE_SUFFIX = '.gokart-signature'
FORMAT = 'gokart-shared-output-v1'
_DOMAIN = b'gokart shared output signature v1\x00'
_UNIQUE_ID = re.compile(r'_([0-9a-f]{32})(?:\.[^/]*)?$')


def signature_path(shared_path: str) -> str:
    """Where the signature file of the shared output at ``shared_path`` lives: beside it, so one listing sees both."""
    return shared_path + SIGNATURE_SUFFIX


def unique_id_in(relative_path: str) -> str | None:
    """The unique id in an output's file name (``dir/Name_{id}.ext``), or None when it has none."""
    found = _UNIQUE_ID.search(relative_path)
    return found.group(1) if found else None


@dataclass(frozen=True)
class SignedFacts:
    """What a signature vouches for: the output's place, its task's id and its content."""

    path: str  # relative to the workspace, '/'-separated
    unique_id: str | None
    sha256: str
    size: int
    code_fingerprint: str | None = None

    def message(self) -> bytes:
        """The bytes the Ed25519 signature is made over: a domain tag and the facts as canonical JSON."""
        return _DOMAIN + json.dumps(self._fields(), sort_keys=True, separators=(',', ':')).encode()

    def _fields(self) -> dict[str, Any]:
        return {
            'path': self.path,
            'unique_id': self.unique_id,
            'sha256': self.sha256,
            'size': self.size,
            'code_fingerprint': self.code_fingerprint,
        }


def signature_file(facts: SignedFacts, private_key: Any | None) -> bytes:
    """The content of the signature file for ``facts``, signed when ``private_key`` (an Ed25519 key) is given."""
    record: dict[str, Any] = {'format': FORMAT, **facts._fields(), 'public_key': None, 'signature': None}
    if private_key is not None:
        from cryptography.hazmat.primitives import serialization

        raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        record['public_key'] = base64.b64encode(raw).decode()
        record['signature'] = base64.b64encode(private_key.sign(facts.message())).decode()
    return json.dumps(record, sort_keys=True, indent=1).encode()


def recorded_sha256(content: bytes) -> str | None:
    """The content hash a signature file records (for a pusher comparing its file with what is shared); None when unreadable."""
    try:
        value = json.loads(content).get('sha256')
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def refusal(signature: bytes | None, facts: SignedFacts, trusted_keys: list[Any], *, signature_required: bool) -> str | None:
    """Why a fetched output with ``facts`` (what the reader found) must not be used, or None when it may be.

    ``signature`` is the signature file's content (None when there is none). Without
    ``signature_required`` a missing signature file is accepted (a workspace written by gokart 1.12
    or without signing) but a recorded hash that differs from the content is not.
    """
    if signature is None:
        return 'unsigned (no signature file beside it)' if signature_required else None
    try:
        record = json.loads(signature)
        if not isinstance(record, dict) or record.get('format') != FORMAT:
            raise ValueError('not a gokart signature file')
        recorded = SignedFacts(
            path=str(record['path']),
            unique_id=record['unique_id'],
            sha256=str(record['sha256']),
            size=int(record['size']),
            code_fingerprint=record.get('code_fingerprint'),
        )
    except (ValueError, KeyError, TypeError) as error:
        return f'its signature file is unreadable ({error})'
    if recorded.path != facts.path:
        return f'its signature names another output ({recorded.path!r}): a signed file was copied or moved here'
    if recorded.unique_id != facts.unique_id:
        return f'its signature names another unique id ({recorded.unique_id})'
    if recorded.sha256 != facts.sha256 or recorded.size != facts.size:
        return 'tampered (its content is not the content that was signed)'
    if not signature_required:
        return None
    if not record.get('signature') or not record.get('public_key'):
        return 'unsigned (pushed without a signing key)'
    try:
        public_raw = base64.b64decode(record['public_key'], validate=True)
        signature_raw = base64.b64decode(record['signature'], validate=True)
    except (ValueError, TypeError):
        return 'its signature file is unreadable (bad base64)'
    key = next((k for k in trusted_keys if _raw_public(k) == public_raw), None)
    if key is None:
        return f'signed by an unknown key (fingerprint {key_fingerprint_of_raw(public_raw)}, not among shared_trusted_keys)'
    from cryptography.exceptions import InvalidSignature

    try:
        key.verify(signature_raw, recorded.message())
    except InvalidSignature:
        return 'tampered (its signature does not verify against the trusted key it names)'
    return None


def load_private_key(path: str, setting: str) -> Any:
    """The Ed25519 private key in the PEM file ``path``; a ``ConfigOptionError`` naming ``setting`` when it is not one."""
    _require_cryptography(setting)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        with open(path, 'rb') as f:
            key = serialization.load_pem_private_key(f.read(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise ConfigOptionError(f'{setting} = {path}: cannot read an unencrypted PEM private key from it ({error}).') from error
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigOptionError(f'{setting} = {path}: the key is a {type(key).__name__}, not an Ed25519 private key.')
    return key


def load_public_key(path: str, setting: str) -> Any:
    """The Ed25519 public key in the PEM file ``path``; a ``ConfigOptionError`` naming ``setting`` when it is not one."""
    _require_cryptography(setting)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        with open(path, 'rb') as f:
            key = serialization.load_pem_public_key(f.read())
    except (OSError, ValueError, TypeError) as error:
        raise ConfigOptionError(f'{setting}: cannot read a PEM public key from {path} ({error}).') from error
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigOptionError(f'{setting}: the key in {path} is a {type(key).__name__}, not an Ed25519 public key.')
    return key


def _require_cryptography(setting: str) -> None:
    # Only the team cache's keys need the library, so it is an extra; imported here, at the first key a
    # setting names, a missing one is one clear message rather than a ModuleNotFoundError mid-build.
    try:
        import cryptography  # noqa: F401
    except ImportError as error:
        raise ImportError(
            f'{setting} needs the cryptography library for its Ed25519 keys: pip install gokart[signing] (or pip install cryptography).'
        ) from error


def key_fingerprint_of_raw(raw: bytes) -> str:
    """A short name of a public key for messages: the first 16 hex digits of the SHA-256 of its raw bytes."""
    return hashlib.sha256(raw).hexdigest()[:16]


def _raw_public(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return bytes(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
