"""The guards every test relies on: no outside network, a private home, a memory keyring."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import keyring
import pytest

from tests.support.network_guard import OutsideNetworkError, is_loopback


@pytest.mark.parametrize("address", [("93.184.216.34", 80), ("10.0.0.1", 443), ("example.com", 443),
                                     ("2001:db8::1", 80, 0, 0)])
def test_no_test_can_reach_outside_this_machine(address: tuple) -> None:
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock, pytest.raises(OutsideNetworkError):
        sock.connect(address)


@pytest.mark.parametrize("address", [("127.0.0.1", 1), ("127.8.9.10", 1), ("localhost", 1), ("::1", 1)])
def test_loopback_is_allowed(address: tuple) -> None:
    assert is_loopback(address)


def test_the_test_home_is_private(hearth_home: Path, tmp_path: Path) -> None:
    assert os.environ["HEARTH_HOME"] == str(hearth_home)
    assert hearth_home.is_relative_to(tmp_path)
    assert Path(os.environ["HF_HUB_CACHE"]).is_relative_to(tmp_path)
    assert os.environ["HF_HUB_DISABLE_XET"] == "1"


def test_the_memory_keyring_stores_and_forgets(keyring_memory) -> None:
    keyring.set_password("hearth", "mail", "s3cret")
    assert keyring.get_password("hearth", "mail") == "s3cret"
    assert keyring_memory.secrets == {("hearth", "mail"): "s3cret"}
    keyring.delete_password("hearth", "mail")
    assert keyring.get_password("hearth", "mail") is None
    with pytest.raises(keyring.errors.PasswordDeleteError):
        keyring.delete_password("hearth", "mail")


def test_the_memory_keyring_is_gone_after_its_test() -> None:
    from tests.support.keyring_memory import MemoryKeyring

    assert not isinstance(keyring.get_keyring(), MemoryKeyring)
