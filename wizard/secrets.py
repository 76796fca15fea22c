"""Secrets (access tokens, passwords for integrations): the system keyring, or nowhere.

A secret is named by who it belongs to (a profile or an integration, e.g.
``"huggingface"``) and what it is (e.g. ``"token"``)::

    set_secret("huggingface", "token", value)
    get_secret("huggingface", "token")          # None when nothing is stored
    delete_secret("huggingface", "token")       # True when something was removed

Values go to the operating system's keyring (macOS Keychain, Windows Credential
Locker, the Secret Service of GNOME/KDE) through ``keyring`` and never to a file.
Where no secure keyring exists (a headless Linux machine, a locked keyring, a backend
that would write plain text) every call raises :class:`NoSecureStorageError` instead
of falling back to anything. A caller that still wants to go on can keep the secret in
memory for this run only with :class:`SessionSecrets` — an explicit choice, never a
silent fallback.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from wizard.errors import HearthError, HearthValueError

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

# keyring is imported inside the functions that use it: it is slow to import (entry points,
# backends) and the window's first paint must not wait for it.

log = logging.getLogger(__name__)

SERVICE_PREFIX = "Hearth"
HUB_TOKEN = ("huggingface", "token")  # (owner, name) of the Hugging Face access token
HUB_TOKEN_VARIABLE = "HF_TOKEN"  # huggingface_hub's own variable; set, it wins over the keyring

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$")
# Backends that exist but write secrets to a file Hearth would call plain text (or a
# file that asks for its password on a terminal no window user can see).
_INSECURE_MODULES = ("keyrings.alt.file",)


class NoSecureStorageError(HearthError):
    """This computer has no secure place for secrets (or it is locked); nothing was stored."""

    default_hint = ("You can keep it for this session only: Hearth will forget it when it closes. "
                    "To have it remembered, install and unlock a keyring (for example GNOME Keyring "
                    "or KWallet) and try again.")


class SecretStorageError(HearthError):
    """The keyring exists but refused or failed the request."""

    default_hint = "Try again. If it keeps failing, restart the computer's keyring (or log out and in)."


class SecretNameError(HearthValueError):
    """An owner or secret name Hearth would not use as a keyring entry."""

    default_hint = "Use plain letters, digits, spaces, dots, dashes or underscores."


def _check_name(what: str, value: str) -> str:
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise SecretNameError(f"“{value}” cannot be used as a {what} for a secret.",
                              details=f"{what}={value!r}")
    return value


def _service(owner: str) -> str:
    return f"{SERVICE_PREFIX}/{_check_name('owner', owner)}"


def _no_storage(reason: str, details: str = "", *, saving: bool = False) -> NoSecureStorageError:
    message = f"This computer has no secure place to keep passwords and keys: {reason}."
    if saving:
        message += " Hearth did not save it anywhere."
    return NoSecureStorageError(message, details=details)


def _is_secure(backend: KeyringBackend) -> bool:
    import keyring.backends.chainer
    import keyring.backends.fail
    import keyring.backends.null

    if isinstance(backend, (keyring.backends.fail.Keyring, keyring.backends.null.Keyring)):
        return False
    if type(backend).__module__.startswith(_INSECURE_MODULES) or "plaintext" in type(backend).__name__.lower():
        return False
    if isinstance(backend, keyring.backends.chainer.ChainerBackend):
        chained = list(backend.backends)
        return bool(chained) and _is_secure(chained[0])  # the first one receives every write
    return True


def secure_backend(*, saving: bool = False) -> KeyringBackend:
    """The keyring backend in force, if it keeps secrets securely.

    ``saving`` only changes the wording of the error (it then says nothing was saved).

    Raises:
        NoSecureStorageError: keyring found no backend, only ones that fail or store
            nothing, or one that would write plain text.
    """
    import keyring

    backend = keyring.get_keyring()
    if not _is_secure(backend):
        raise _no_storage("no keyring service is running", details=f"keyring backend: {backend!r}",
                          saving=saving)
    return backend


def storage_name() -> str:
    """A human name for where secrets go ("Secret Service Keyring" …).

    Raises:
        NoSecureStorageError: see :func:`secure_backend`.
    """
    backend = secure_backend()
    return (type(backend).__doc__ or type(backend).__name__).strip().splitlines()[0]


def _backend_failures() -> tuple[type[BaseException], ...]:
    """What a backend may raise besides keyring's own errors (D-Bus, the OS)."""
    from keyring.errors import KeyringError

    failures: list[type[BaseException]] = [KeyringError, OSError, RuntimeError]
    try:
        from secretstorage.exceptions import SecretStorageException
        failures.append(SecretStorageException)
    except ImportError:
        pass
    try:
        from jeepney.wrappers import DBusErrorResponse
        failures.append(DBusErrorResponse)
    except ImportError:
        pass
    return tuple(failures)


def _translate(exc: BaseException, action: str) -> HearthError:
    from keyring.errors import KeyringLocked, NoKeyringError

    details = f"{type(exc).__name__}: {exc}"
    saving = action == "save"
    if isinstance(exc, KeyringLocked):
        return _no_storage("the keyring is locked and could not be unlocked", details, saving=saving)
    if isinstance(exc, NoKeyringError):
        return _no_storage("no keyring service is running", details, saving=saving)
    return SecretStorageError(f"The computer's keyring could not {action} the secret.", details=details)


def get_secret(owner: str, name: str) -> str | None:
    """The stored value, or ``None`` when there is none.

    Raises:
        SecretNameError: ``owner`` or ``name`` is not a plain name.
        NoSecureStorageError: no secure keyring (or it is locked).
        SecretStorageError: the keyring failed.
    """
    service, name = _service(owner), _check_name("name", name)
    backend = secure_backend()
    try:
        return backend.get_password(service, name)
    except _backend_failures() as exc:
        raise _translate(exc, "read") from exc


def set_secret(owner: str, name: str, value: str) -> None:
    """Store ``value`` in the keyring, replacing any earlier one. Nothing else is written.

    Raises:
        SecretNameError: ``owner`` or ``name`` is not a plain name.
        HearthValueError: ``value`` is empty.
        NoSecureStorageError: no secure keyring (or it is locked); nothing was stored.
        SecretStorageError: the keyring failed; nothing was stored.
    """
    service, name = _service(owner), _check_name("name", name)
    if not isinstance(value, str) or not value:
        raise HearthValueError("An empty secret cannot be saved.", hint="Paste the key or password again.")
    backend = secure_backend(saving=True)
    try:
        backend.set_password(service, name, value)
    except _backend_failures() as exc:
        raise _translate(exc, "save") from exc
    log.info("saved secret %s/%s in %s", owner, name, type(backend).__name__)  # never the value


def delete_secret(owner: str, name: str) -> bool:
    """Remove the secret; ``True`` if one was stored, ``False`` if there was none.

    Raises:
        SecretNameError, NoSecureStorageError, SecretStorageError: as :func:`set_secret`.
    """
    from keyring.errors import PasswordDeleteError

    service, name = _service(owner), _check_name("name", name)
    backend = secure_backend()
    try:
        if backend.get_password(service, name) is None:
            return False
        backend.delete_password(service, name)
    except PasswordDeleteError:
        return False
    except _backend_failures() as exc:
        raise _translate(exc, "delete") from exc
    log.info("deleted secret %s/%s", owner, name)
    return True


@dataclass
class SessionSecrets:
    """Secrets kept in this process's memory only, forgotten when Hearth closes.

    For when :class:`NoSecureStorageError` was raised and the person chose "keep for
    this session only". Same calls as the keyring functions; never writes anywhere and
    never shows a value in its ``repr``.
    """

    _values: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)

    def get(self, owner: str, name: str) -> str | None:
        return self._values.get((_check_name("owner", owner), _check_name("name", name)))

    def set(self, owner: str, name: str, value: str) -> None:
        """Raises: SecretNameError; HearthValueError if ``value`` is empty."""
        key = (_check_name("owner", owner), _check_name("name", name))
        if not isinstance(value, str) or not value:
            raise HearthValueError("An empty secret cannot be kept.", hint="Paste the key or password again.")
        self._values[key] = value

    def delete(self, owner: str, name: str) -> bool:
        return self._values.pop((_check_name("owner", owner), _check_name("name", name)), None) is not None

    def names(self) -> list[tuple[str, str]]:
        """The (owner, name) pairs held, never the values."""
        return sorted(self._values)

    def clear(self) -> None:
        self._values.clear()


def hub_token(*, session: SessionSecrets | None = None) -> str | None:
    """The Hugging Face access token for gated or private models, or ``None``.

    In order: ``HF_TOKEN`` in the environment; the token kept for this session only
    (``session``, when the person chose that in Settings); the one saved in the keyring.
    Every download (the setup window, ``hearth download``, ``hearth provision``) gets it
    from here and passes it as a parameter; it is never written to a file. No keyring, a
    locked or failing one means no token: public models still download, and a gated one
    then says plainly that it needs access. Never raises.
    """
    if token := os.environ.get(HUB_TOKEN_VARIABLE, "").strip():
        return token
    if session is not None and (token := session.get(*HUB_TOKEN)):
        return token
    try:
        return get_secret(*HUB_TOKEN)
    except HearthError as exc:
        log.info("no Hugging Face token from the keyring: %s", exc.user_message)
        return None
