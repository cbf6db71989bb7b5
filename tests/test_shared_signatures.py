"""The team cache's Ed25519 keys: what a user without the optional library is told."""

import builtins

import pytest

from gokart.storage import shared_signatures


def test_a_key_setting_without_the_cryptography_library_says_which_extra_to_install(monkeypatch, tmp_path):
    real_import = builtins.__import__

    def without_cryptography(name, *args, **kwargs):
        if name == 'cryptography' or name.startswith('cryptography.'):
            raise ImportError('No module named cryptography')
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, '__import__', without_cryptography)
    key = tmp_path / 'ci.pub.pem'
    key.write_text('not read')
    with pytest.raises(ImportError, match=r'shared_trusted_keys needs the cryptography library.*pip install gokart\[signing\]'):
        shared_signatures.load_public_key(str(key), 'shared_trusted_keys')
