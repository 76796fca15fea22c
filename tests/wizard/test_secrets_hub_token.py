"""`hearth download` takes the Hub token from the keyring (HF_TOKEN overrides it), never from or to a file."""

from __future__ import annotations

from pathlib import Path

import keyring
import keyring.backends.fail
import pytest

from app.__main__ import main
from tests.support.hub_mirror import HubMirror
from tests.support.keyring_memory import MemoryKeyring
from wizard.secrets import HUB_TOKEN, set_secret

TOKEN = "hf_GatedAccess-7s3cr3t"
REPO, FILE = "acme/gated-GGUF", "gated.gguf"
CONTENT = b"GGUF" + bytes(range(256)) * 32


@pytest.fixture
def gated(hub_mirror: HubMirror) -> HubMirror:
    hub_mirror.add_repo(REPO, {FILE: CONTENT}, gated=True, token=TOKEN)
    return hub_mirror


def download(mirror: HubMirror, dest: Path) -> int:
    return main(["download", REPO, FILE, "--endpoint", mirror.url, "--dest", str(dest)])


def files_containing(root: Path, needle: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def test_the_token_saved_in_the_keyring_opens_a_gated_model(gated: HubMirror, keyring_memory: MemoryKeyring,
                                                            tmp_path: Path, hearth_home: Path) -> None:
    set_secret(*HUB_TOKEN, TOKEN)
    assert download(gated, tmp_path / "models") == 0
    assert (tmp_path / "models" / "acme--gated-GGUF" / FILE).read_bytes() == CONTENT
    assert {r["authorization"] for r in gated.requests} == {f"Bearer {TOKEN}"}
    assert files_containing(tmp_path, TOKEN) == []  # not in the log, a sidecar or anywhere else


def test_hf_token_overrides_the_keyring(gated: HubMirror, keyring_memory: MemoryKeyring, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    set_secret(*HUB_TOKEN, "hf_an-old-revoked-token")
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    assert download(gated, tmp_path / "models") == 0
    assert {r["authorization"] for r in gated.requests} == {f"Bearer {TOKEN}"}


def test_no_keyring_means_no_token_and_a_plain_refusal(gated: HubMirror, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        assert download(gated, tmp_path / "models") == 1
    finally:
        keyring.set_keyring(previous)
    err = capsys.readouterr().err
    assert "Error: " in err and "Traceback" not in err
    assert {r["authorization"] for r in gated.requests} == {None}
    assert not (tmp_path / "models" / "acme--gated-GGUF" / FILE).exists()
