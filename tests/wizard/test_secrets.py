"""wizard.secrets through keyring's real API: an in-memory backend, and the backends that are not secure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backends.chainer
import keyring.backends.fail
import keyring.backends.null
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, PasswordSetError

from tests.support.keyring_memory import MemoryKeyring
from wizard import secrets
from wizard.errors import HearthValueError
from wizard.secrets import (
    NoSecureStorageError,
    SecretNameError,
    SecretStorageError,
    SessionSecrets,
    delete_secret,
    get_secret,
    set_secret,
)

SECRET = "hf_sEcReT-value-0123456789"


@pytest.fixture
def installed() -> Iterator[list[KeyringBackend]]:
    """Install a backend for one test (``installed.append(b)``) and restore keyring's choice after."""
    previous = keyring.get_keyring()
    chosen: list[KeyringBackend] = []
    try:
        yield chosen
    finally:
        keyring.set_keyring(previous)


def use(installed: list[KeyringBackend], backend: KeyringBackend) -> None:
    installed.append(backend)
    keyring.set_keyring(backend)


def files_containing(root: Path, needle: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def test_set_get_delete_round_trip_in_the_keyring(keyring_memory: MemoryKeyring, hearth_home: Path) -> None:
    assert get_secret("huggingface", "token") is None
    set_secret("huggingface", "token", SECRET)
    assert get_secret("huggingface", "token") == SECRET
    assert keyring_memory.secrets == {("Hearth/huggingface", "token"): SECRET}
    set_secret("huggingface", "token", "replaced")
    assert get_secret("huggingface", "token") == "replaced"
    assert delete_secret("huggingface", "token") is True
    assert delete_secret("huggingface", "token") is False
    assert get_secret("huggingface", "token") is None
    assert keyring_memory.secrets == {}


def test_secrets_of_different_owners_do_not_mix(keyring_memory: MemoryKeyring) -> None:
    set_secret("profile-anna", "smtp password", "anna's")
    set_secret("profile-ben", "smtp password", "ben's")
    assert get_secret("profile-anna", "smtp password") == "anna's"
    assert get_secret("profile-ben", "smtp password") == "ben's"
    delete_secret("profile-anna", "smtp password")
    assert get_secret("profile-ben", "smtp password") == "ben's"


@pytest.mark.parametrize("owner,name", [("", "token"), ("../x", "token"), ("huggingface", "a/b"),
                                        ("huggingface", "tok\nen"), ("x" * 65, "token")])
def test_odd_names_are_refused_before_the_keyring_is_asked(keyring_memory: MemoryKeyring, owner: str,
                                                           name: str) -> None:
    with pytest.raises(SecretNameError) as caught:
        set_secret(owner, name, SECRET)
    assert caught.value.hint
    assert keyring_memory.secrets == {}


def test_an_empty_value_is_refused(keyring_memory: MemoryKeyring) -> None:
    with pytest.raises(HearthValueError):
        set_secret("huggingface", "token", "")
    assert keyring_memory.secrets == {}


@pytest.mark.parametrize("backend", [keyring.backends.fail.Keyring(), keyring.backends.null.Keyring()],
                         ids=["fail", "null"])
def test_no_secure_backend_refuses_plainly_and_writes_nothing(installed: list[KeyringBackend],
                                                             backend: KeyringBackend, hearth_home: Path) -> None:
    use(installed, backend)
    with pytest.raises(NoSecureStorageError) as caught:
        set_secret("huggingface", "token", SECRET)
    error = caught.value
    assert error.user_message == ("This computer has no secure place to keep passwords and keys: "
                                  "no keyring service is running. Hearth did not save it anywhere.")
    assert "session only" in error.hint
    assert SECRET not in str(error) + error.details
    with pytest.raises(NoSecureStorageError):
        get_secret("huggingface", "token")
    with pytest.raises(NoSecureStorageError):
        delete_secret("huggingface", "token")
    assert not hearth_home.exists() or files_containing(hearth_home, SECRET) == []


def test_a_chainer_with_nothing_to_chain_is_not_secure(installed: list[KeyringBackend],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    chainer = keyring.backends.chainer.ChainerBackend()
    monkeypatch.setattr(keyring.backend, "_limit", lambda backend: False)  # keyring's own filter hook
    assert list(chainer.backends) == []
    use(installed, chainer)
    with pytest.raises(NoSecureStorageError):
        set_secret("huggingface", "token", SECRET)


class PlaintextKeyring(MemoryKeyring):
    """Named like keyrings.alt's file backend that writes secrets in the clear."""


def test_a_plaintext_backend_is_refused(installed: list[KeyringBackend]) -> None:
    backend = PlaintextKeyring()
    use(installed, backend)
    with pytest.raises(NoSecureStorageError):
        set_secret("huggingface", "token", SECRET)
    assert backend.secrets == {}


class LockedKeyring(MemoryKeyring):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")


class RefusingKeyring(MemoryKeyring):
    """What keyring's macOS backend raises when the Keychain refuses (its own wording, status -25293)."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise PasswordSetError("Can't store password on keychain: (-25293, 'Unknown Error')")


def test_a_locked_keyring_says_so_and_a_failing_one_is_a_plain_error(installed: list[KeyringBackend]) -> None:
    use(installed, LockedKeyring())
    with pytest.raises(NoSecureStorageError, match="the keyring is locked"):
        set_secret("huggingface", "token", SECRET)
    use(installed, RefusingKeyring())
    with pytest.raises(SecretStorageError) as caught:
        set_secret("huggingface", "token", SECRET)
    assert caught.value.user_message == "The computer's keyring could not save the secret."
    assert "-25293" in caught.value.details


def test_storage_name_describes_the_backend(keyring_memory: MemoryKeyring, installed: list[KeyringBackend]) -> None:
    assert secrets.storage_name() == "MemoryKeyring"  # no class docstring: the class name
    use(installed, keyring.backends.null.Keyring())
    with pytest.raises(NoSecureStorageError):
        secrets.storage_name()
    use(installed, keyring.backends.fail.Keyring())
    with pytest.raises(NoSecureStorageError):
        secrets.storage_name()


def test_session_secrets_live_in_memory_only(installed: list[KeyringBackend], hearth_home: Path) -> None:
    use(installed, keyring.backends.fail.Keyring())
    session = SessionSecrets()
    session.set("huggingface", "token", SECRET)
    assert session.get("huggingface", "token") == SECRET
    assert session.names() == [("huggingface", "token")]
    assert SECRET not in repr(session)
    assert SessionSecrets().get("huggingface", "token") is None  # another session knows nothing
    assert session.delete("huggingface", "token") is True
    assert session.delete("huggingface", "token") is False
    with pytest.raises(SecretNameError):
        session.set("../up", "token", SECRET)
    assert not hearth_home.exists() or files_containing(hearth_home, SECRET) == []
