"""The secrets that belong to Hearth's settings, kept in the keyring (:mod:`wizard.secrets`),
never in ``settings.toml``: the remote engine's key, the local API's token and the Hugging
Face access token. Where no secure keyring exists the caller may pass a
:class:`~wizard.secrets.SessionSecrets` to keep them for this run only.
"""

from __future__ import annotations

from wizard.errors import HearthValueError
from wizard.secrets import HUB_TOKEN, NoSecureStorageError, SessionSecrets, delete_secret, get_secret, set_secret

REMOTE_ENGINE_KEY = ("engine", "remote-key")  # (owner, name) in wizard.secrets
LOCAL_API_TOKEN = ("local-api", "token")


def _get(key: tuple[str, str], session: SessionSecrets | None) -> str | None:
    if session is None:
        return get_secret(*key)
    if session.get(*key) is not None:
        return session.get(*key)
    try:
        return get_secret(*key)
    except NoSecureStorageError:  # the person chose "this session only"
        return None


def _set(key: tuple[str, str], value: str, session: SessionSecrets | None) -> None:
    if session is not None:
        session.set(*key, value)
    else:
        set_secret(*key, value)


def remote_engine_key(*, session: SessionSecrets | None = None) -> str | None:
    """The remote server's key (session first, then the keyring), or None.

    Raises: NoSecureStorageError, SecretStorageError (only when ``session`` has none).
    """
    return _get(REMOTE_ENGINE_KEY, session)


def set_remote_engine_key(key: str, *, session: SessionSecrets | None = None) -> None:
    """Store the remote server's key; an empty key removes it. With ``session``: this run only.

    Raises: NoSecureStorageError (no ``session`` and no secure keyring), SecretStorageError.
    """
    key = key.strip()
    if not key:
        if session is not None:
            session.delete(*REMOTE_ENGINE_KEY)
        else:
            delete_secret(*REMOTE_ENGINE_KEY)
        return
    _set(REMOTE_ENGINE_KEY, key, session)


def local_api_token(*, session: SessionSecrets | None = None, create: bool = True) -> str | None:
    """The local API's token; a new random one is made and stored when there is none.

    Raises: NoSecureStorageError (no ``session`` and no secure keyring), SecretStorageError.
    """
    token = _get(LOCAL_API_TOKEN, session)
    if token is None and create:
        token = new_local_api_token(session=session)
    return token


def new_local_api_token(*, session: SessionSecrets | None = None) -> str:
    """Make, store and return a fresh token (apps using the old one must be given the new one).

    Raises: NoSecureStorageError, SecretStorageError.
    """
    import secrets as random_tokens  # here: hmac and random cost ~5 ms before the window is drawn

    token = random_tokens.token_urlsafe(32)
    _set(LOCAL_API_TOKEN, token, session)
    return token


def saved_hub_token(*, session: SessionSecrets | None = None) -> str | None:
    """The Hugging Face access token saved in Settings (session first, then the keyring), or None.

    Unlike :func:`wizard.secrets.hub_token` (what downloads use) it ignores ``HF_TOKEN``.

    Raises: NoSecureStorageError, SecretStorageError (only when ``session`` has none).
    """
    return _get(HUB_TOKEN, session)


def set_hub_token(token: str, *, session: SessionSecrets | None = None) -> None:
    """Store the Hugging Face access token (with ``session``: for this run only).

    Raises:
        HearthValueError: ``token`` is empty.
        NoSecureStorageError: no ``session`` and no secure keyring; nothing was stored.
        SecretStorageError: the keyring failed.
    """
    token = token.strip()
    if not token:
        raise HearthValueError("Paste the access token first.",
                               hint="Hugging Face shows your tokens under Settings → Access Tokens.")
    _set(HUB_TOKEN, token, session)


def remove_hub_token(*, session: SessionSecrets | None = None) -> bool:
    """Forget the Hugging Face access token, in ``session`` and the keyring; True if one was there.

    Raises: SecretStorageError (the keyring failed). No secure keyring is not an error here:
    nothing can be stored there.
    """
    removed = session.delete(*HUB_TOKEN) if session is not None else False
    try:
        removed = delete_secret(*HUB_TOKEN) or removed
    except NoSecureStorageError:
        pass
    return removed
