"""An in-memory keyring backend: real keyring API, nothing written anywhere."""

from __future__ import annotations

from jaraco.classes.properties import classproperty  # keyring's own dependency
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    @classproperty
    def priority(cls) -> float:  # noqa: N805
        # Not viable for keyring's own discovery: every subclass of KeyringBackend is a
        # candidate once imported, and this one must never be picked by accident.
        raise RuntimeError("the in-memory keyring is installed only by the keyring_memory fixture")

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.secrets.pop((service, username), None) is None:
            raise PasswordDeleteError(f"no secret stored for {service}/{username}")
