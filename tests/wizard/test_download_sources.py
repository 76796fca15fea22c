"""Where downloads come from: the mirror setting and the access token, for every way Hearth downloads.

``hearth download`` (in this process), ``hearth provision``'s model step
(:func:`wizard.provision.model.install_model`) and the token lookup itself
(:func:`wizard.secrets.hub_token`), against the real local Hub mirror and an in-memory
keyring. The setup window's side is tested in tests/app/settings/test_downloads_page.py.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest

from app.__main__ import main
from tests.support import tiny_model as tiny
from tests.support.hub_mirror import HubMirror
from tests.support.keyring_memory import MemoryKeyring
from wizard.catalog import CatalogEntry
from wizard.catalog.refresh import header_numbers
from wizard.gguf import read_gguf_header
from wizard.models import ModelRegistry
from wizard.provision.answers import Answers
from wizard.provision.model import ModelPick, describe, install_model
from wizard.secrets import HUB_TOKEN, SessionSecrets, hub_token, set_secret
from wizard.settings import Settings, download_endpoint, load_settings, save_settings

TOKEN = "hf_GatedAccess-7s3cr3t"
REPO, FILE = "acme/gated-GGUF", "tiny.Q4_1.gguf"
CLOSED = "http://127.0.0.1:9"  # nothing answers there


@pytest.fixture
def gated(hub_mirror: HubMirror, tiny_model: Path) -> HubMirror:
    hub_mirror.add_repo(REPO, {FILE: tiny_model}, gated=True, token=TOKEN)
    return hub_mirror


def use_mirror_setting(url: str) -> None:
    save_settings(Settings(hub_mirror=url))


def files_containing(root: Path, needle: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


# ---- the token lookup ---------------------------------------------------------------------

def test_the_token_comes_from_hf_token_then_this_session_then_the_keyring(
        keyring_memory: MemoryKeyring, monkeypatch: pytest.MonkeyPatch) -> None:
    assert hub_token() is None
    set_secret(*HUB_TOKEN, "hf_from-the-keyring")
    assert hub_token() == "hf_from-the-keyring"
    session = SessionSecrets()
    session.set(*HUB_TOKEN, "hf_for-this-session")
    assert hub_token(session=session) == "hf_for-this-session"
    monkeypatch.setenv("HF_TOKEN", "hf_from-the-environment")
    assert hub_token(session=session) == "hf_from-the-environment"


def test_no_keyring_means_no_token_and_no_error() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        assert hub_token() is None
        session = SessionSecrets()
        session.set(*HUB_TOKEN, TOKEN)
        assert hub_token(session=session) == TOKEN  # "keep it for this session only" still works
    finally:
        keyring.set_keyring(previous)


# ---- the mirror setting -------------------------------------------------------------------

def test_the_mirror_setting_is_saved_checked_and_loses_to_an_explicit_choice() -> None:
    assert download_endpoint() is None  # nothing set: huggingface_hub's default
    use_mirror_setting("https://hf-mirror.example.org/")
    assert load_settings().settings.hub_mirror == "https://hf-mirror.example.org/"
    assert download_endpoint() == "https://hf-mirror.example.org"
    assert download_endpoint("http://127.0.0.1:8000") == "http://127.0.0.1:8000"
    assert "hub_mirror = \"https://hf-mirror.example.org/\"" in load_settings().path.read_text()


@pytest.mark.parametrize(("address", "words"), [
    ("hf-mirror.example.org", "must start with https://"),
    ("ftp://hf-mirror.example.org", "must start with https://"),
    ("https://me:secret@hf-mirror.example.org", "Do not put a password"),
    ("https://hf-mirror.example.org:port", "port that is not a number"),
    ("https://hf-mirror.example.org/?x=1", "without ? or #"),
])
def test_a_bad_mirror_address_is_refused_plainly(address: str, words: str) -> None:
    from wizard.settings import SettingsError

    with pytest.raises(SettingsError) as caught:
        Settings().changed(hub_mirror=address)
    assert words in caught.value.user_message


def test_a_bad_mirror_in_the_file_falls_back_to_hugging_face_with_a_notice() -> None:
    path = load_settings().path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('schema_version = 1\ntheme = "dark"\nhub_mirror = "not an address"\n')
    loaded = load_settings()
    assert loaded.settings.hub_mirror == "" and loaded.settings.theme == "dark"
    assert loaded.notice is not None and "hub_mirror" in loaded.notice.details


# ---- hearth download -------------------------------------------------------------------

def test_hearth_download_uses_the_mirror_setting_and_the_keyring_token(
        gated: HubMirror, keyring_memory: MemoryKeyring, tmp_path: Path) -> None:
    use_mirror_setting(gated.url)
    set_secret(*HUB_TOKEN, TOKEN)
    assert main(["download", REPO, FILE, "--dest", str(tmp_path / "models")]) == 0
    assert tiny.sha256_of(tmp_path / "models" / "acme--gated-GGUF" / FILE) == tiny.SHA256
    assert {r["authorization"] for r in gated.requests} == {f"Bearer {TOKEN}"}
    assert files_containing(tmp_path, TOKEN) == []


def test_endpoint_on_the_command_line_wins_over_the_setting(gated: HubMirror, keyring_memory: MemoryKeyring,
                                                            tmp_path: Path) -> None:
    use_mirror_setting(CLOSED)
    set_secret(*HUB_TOKEN, TOKEN)
    assert main(["download", REPO, FILE, "--endpoint", gated.url, "--dest", str(tmp_path / "m")]) == 0
    assert len(gated.requests) == 3


# ---- hearth provision's model step -------------------------------------------------------

def download_pick(tiny_model: Path) -> ModelPick:
    header = read_gguf_header(tiny_model)
    entry = CatalogEntry(
        id="tiny", name="Tiny test model", family="smollm", repo=REPO, file=FILE, licence="apache-2.0",
        parameters=134_515_008, languages=("en",), capabilities=frozenset({"chat"}), quality=10,
        quantization="Q4_1", header=header_numbers(header, entry_id="tiny"), size_bytes=tiny.SIZE,
        sha256=tiny.SHA256)
    return ModelPick(entry.name, None, "a test", "download", None, entry=entry, size_bytes=tiny.SIZE)


def answers(tmp_path: Path, mirror: str | None) -> Answers:
    return Answers(source=tmp_path / "answers.toml", recipe="everyday-assistant", model="tiny", model_file=None,
                   person_name="", folders=None, local_api=False, model_pack=None, mirror=mirror, catalog=None,
                   verify=False)


def test_provisioning_without_a_mirror_in_its_answers_uses_the_setting_and_the_token(
        gated: HubMirror, keyring_memory: MemoryKeyring, tiny_model: Path, tmp_path: Path) -> None:
    use_mirror_setting(gated.url)
    set_secret(*HUB_TOKEN, TOKEN)
    steps: list[str] = []
    pick = download_pick(tiny_model)
    assert describe(pick, answers(tmp_path, None)).startswith(f"Model: Tiny test model, to be downloaded "
                                                              f"from the mirror {gated.url}:")
    done = install_model(pick, answers(tmp_path, None), registry=ModelRegistry(), step=steps.append)

    assert tiny.sha256_of(done.path) == tiny.SHA256
    assert done.record is not None and done.record.source.endpoint == gated.url
    assert steps[0] == f"Downloading {REPO}/{FILE} from {gated.url}…"
    assert {r["authorization"] for r in gated.requests} == {f"Bearer {TOKEN}"}
    assert files_containing(tmp_path, TOKEN) == []


def test_provisioning_prefers_the_mirror_its_answers_name(gated: HubMirror, keyring_memory: MemoryKeyring,
                                                          tiny_model: Path, tmp_path: Path) -> None:
    use_mirror_setting(CLOSED)
    set_secret(*HUB_TOKEN, TOKEN)
    done = install_model(download_pick(tiny_model), answers(tmp_path, gated.url), registry=ModelRegistry(),
                         step=lambda _: None)
    assert tiny.sha256_of(done.path) == tiny.SHA256


# ---- a mirror that never answers ---------------------------------------------------------

def test_a_mirror_that_never_answers_is_given_up_on_after_a_few_seconds_with_its_address() -> None:
    import httpx2

    from wizard.download import DownloadNetworkError, RetryPolicy
    from wizard.download.hub_source import describe_remote_file, with_retries

    waits: list[float] = []
    policy = RetryPolicy(backoff=0.01)
    with pytest.raises(DownloadNetworkError) as caught:
        describe_remote_file(REPO, FILE, revision="main", endpoint=CLOSED, token=None, policy=policy,
                             on_wait=waits.append)
    assert len(waits) == policy.unreachable_attempts < policy.attempts
    assert CLOSED in caught.value.hint and "Settings → Downloads" in caught.value.hint
    # A server that has answered before (the second request, the transfer) keeps every try.
    tries: list[int] = []

    def refused() -> None:
        tries.append(1)
        httpx2.get(CLOSED, timeout=2.0)

    with pytest.raises(httpx2.ConnectError):
        with_retries(refused, policy=policy, should_stop=lambda: None, on_wait=lambda s: None)
    assert len(tries) == policy.attempts + 1


def busy_then_gone(answers: int) -> tuple[str, threading.Thread]:
    """A real server that answers ``answers`` requests with 503 (closing each connection), then
    stops listening: a connection after that is refused."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with listener:
            for _ in range(answers):
                connection, _ = listener.accept()
                with connection:
                    request = b""
                    while b"\r\n\r\n" not in request and (piece := connection.recv(4096)):
                        request += piece
                    connection.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                                       b"Connection: close\r\n\r\n")

    server = threading.Thread(target=serve, name="busy-then-gone", daemon=True)
    server.start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}", server


def test_a_server_that_answered_before_refusing_keeps_every_try() -> None:
    from wizard.download import DownloadNetworkError, RetryPolicy
    from wizard.download.hub_source import describe_remote_file

    address, server = busy_then_gone(answers=2)
    waits: list[float] = []

    def waiting(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            server.join(5)  # both 503s sent and the server gone before the next try

    policy = RetryPolicy(backoff=0.01, max_backoff=0.01)
    with pytest.raises(DownloadNetworkError) as caught:
        describe_remote_file(REPO, FILE, revision="main", endpoint=address, token=None, policy=policy,
                             on_wait=waiting)
    assert not server.is_alive()
    assert len(waits) == policy.attempts > policy.unreachable_attempts
    assert caught.value.user_message == "Hearth could not reach the download server."
    assert "ConnectError" in caught.value.details
    # It answered at that address, so the address is not what to check.
    assert address not in caught.value.hint and "Settings" not in caught.value.hint


def test_the_hint_says_where_the_unreachable_address_came_from(monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx2
    from huggingface_hub import constants

    from wizard.download import DownloadNetworkError, RetryPolicy
    from wizard.download.hub_source import HUGGING_FACE, describe_remote_file, plain_error

    quick = RetryPolicy(backoff=0.01, max_backoff=0.01)
    # A mirror Hearth was given: the setting, --endpoint or an answer file (it cannot tell which).
    with pytest.raises(DownloadNetworkError) as given:
        describe_remote_file(REPO, FILE, revision="main", endpoint=CLOSED, token=None, policy=quick)
    assert given.value.hint == (f"Check your internet connection, and that {CLOSED} is the right address of the "
                                "download mirror (set in Settings → Downloads, or by --endpoint or an answer "
                                "file), then try again.")
    assert given.value.details.startswith(f"{CLOSED}: ConnectError")

    # No mirror given: huggingface_hub's endpoint, here HF_ENDPOINT (tests/conftest.py sets it).
    other = "http://127.0.0.1:7"
    monkeypatch.setattr(constants, "ENDPOINT", other)
    with pytest.raises(DownloadNetworkError) as from_env:
        describe_remote_file(REPO, FILE, revision="main", endpoint=None, token=None, policy=quick)
    assert other in from_env.value.hint and "HF_ENDPOINT environment variable" in from_env.value.hint
    assert "Settings" not in from_env.value.hint
    assert from_env.value.details.startswith(f"{other}: ConnectError")

    # Hugging Face itself: its address is not in question, only the connection.
    refused = pytest.raises(httpx2.ConnectError, httpx2.get, CLOSED, timeout=2.0).value
    monkeypatch.setattr(constants, "ENDPOINT", HUGGING_FACE)
    default = plain_error(refused, repo_id=REPO, filename=FILE, revision="main", token_given=False)
    assert isinstance(default, DownloadNetworkError)
    assert default.hint == DownloadNetworkError.default_hint
    assert default.details.startswith(f"{HUGGING_FACE}: ConnectError")
