"""Fixtures every Hearth test shares: a private home, the real tiny model, a local Hub.

Environment set here, before any test module imports huggingface_hub or Qt:
- Qt draws offscreen (``HEARTH_TEST_QT_PLATFORM=xcb`` under Xvfb for screenshots);
- huggingface_hub points at a closed local port unless a test passes a mirror, never
  sends telemetry, and never uses Xet;
- no test can open a network connection outside 127.0.0.1 (tests/support/network_guard.py).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_SESSION_HF_HOME = tempfile.mkdtemp(prefix="hearth-tests-hf-")
os.environ["QT_QPA_PLATFORM"] = os.environ.get("HEARTH_TEST_QT_PLATFORM", "offscreen")
os.environ.update(
    HF_ENDPOINT="http://127.0.0.1:9",  # the discard port: nothing answers
    HF_HOME=_SESSION_HF_HOME,
    HF_HUB_DISABLE_TELEMETRY="1",
    HF_HUB_DISABLE_XET="1",
    HF_HUB_DISABLE_IMPLICIT_TOKEN="1",
    NO_PROXY="127.0.0.1,localhost,::1",
    no_proxy="127.0.0.1,localhost,::1",
)
for _name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
              "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_name, None)

from tests.support import network_guard  # noqa: E402
from tests.support.hub_mirror import HubMirror  # noqa: E402
from tests.support.keyring_memory import MemoryKeyring  # noqa: E402
from tests.support.tiny_model import ensure_tiny_model  # noqa: E402

network_guard.install()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A failed test may leave a task waiting to be cancelled; Qt waits for it at exit, forever."""
    tasks = sys.modules.get("app.tasks")
    if tasks is not None:
        tasks.cancel_all_and_wait(timeout=10)


@pytest.fixture(autouse=True)
def hearth_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own HEARTH_HOME and Hugging Face cache, so none touches the real home."""
    home = tmp_path / "hearth-home"
    hf_home = tmp_path / "hf-home"
    monkeypatch.setenv("HEARTH_HOME", str(home))
    monkeypatch.setenv("HF_HOME", str(hf_home))
    monkeypatch.setenv("HF_HUB_CACHE", str(hf_home / "hub"))
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:  # huggingface_hub reads these once, at import
        monkeypatch.setattr(constants, "HF_HOME", str(hf_home))
        monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hf_home / "hub"))
        monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(hf_home / "token"))
    return home


@pytest.fixture(scope="session")
def tiny_model() -> Path:
    """The real SmolLM2-135M-Instruct Q4_1 GGUF (98 MB), verified by sha256."""
    return ensure_tiny_model()


@pytest.fixture
def hub_mirror() -> Iterator[HubMirror]:
    """A fresh local Hub on 127.0.0.1; add repos with ``hub_mirror.add_repo(...)``."""
    with HubMirror() as mirror:
        yield mirror


@pytest.fixture
def keyring_memory() -> Iterator[MemoryKeyring]:
    """An in-memory keyring backend, installed for this test and removed after."""
    import keyring

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)
