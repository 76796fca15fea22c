"""The local API refuses everyone but its token holder on this computer; hostile models are refused."""

from __future__ import annotations

import ipaddress
import json
import socket
import subprocess
import threading
from pathlib import Path

import psutil
import pytest

from tests.wizard.engine.conftest import CAPITAL_QUESTION, PLAN, raw_request
from tests.wizard.engine.gguf_edit import read_gguf_string, rewrite_gguf
from tests.wizard.engine.test_template import cve_2024_34359_payload
from wizard.engine import (
    EngineAuthError,
    EngineClient,
    EngineConnectionError,
    EngineRequestError,
    EngineTimeout,
    GenerationParams,
    LocalEngine,
    NoChatTemplateError,
    UnsafeServerSettings,
    UnsafeTemplateError,
    engine_command,
)
from wizard.engine.server import check_bind

pytestmark = pytest.mark.slow
GREEDY = GenerationParams(temperature=0.0, max_tokens=48)


def ask(engine: LocalEngine, headers: dict[str, str], method: str = "GET", path: str = "/v1/models"):
    return raw_request(engine.port, method, path, headers)


def test_the_right_token_and_host_are_answered(engine: LocalEngine) -> None:
    for host in ("127.0.0.1", f"127.0.0.1:{engine.port}", f"localhost:{engine.port}", f"[::1]:{engine.port}"):
        status, headers, body = ask(engine, {"Host": host, "Authorization": f"Bearer {engine.token}"})
        assert status == 200, host
        assert json.loads(body)["data"][0]["id"] == "SmolLM2-135M-Instruct.Q4_1"
        assert "access-control-allow-origin" not in headers


@pytest.mark.parametrize("authorization", [None, "Bearer ", "Bearer wrong-token", "Basic abc", "TOKEN"])
def test_a_missing_or_wrong_token_is_401(engine: LocalEngine, authorization: str | None) -> None:
    headers = {"Host": f"127.0.0.1:{engine.port}"}
    if authorization is not None:
        headers["Authorization"] = authorization.replace("TOKEN", engine.token)
    for method, path in (("GET", "/v1/models"), ("GET", "/health"), ("POST", "/v1/chat/completions")):
        status, answer_headers, body = ask(engine, headers, method, path)
        assert status == 401
        assert json.loads(body)["error"]["code"] == "invalid_api_key"
        assert answer_headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("host", [None, "evil.example", "evil.example:8080", "127.0.0.1.evil.example",
                                  "localhost.evil.example", "127.0.0.1:1", "0.0.0.0", "192.168.1.10"])
def test_a_host_header_naming_another_machine_is_403_even_with_the_token(engine: LocalEngine,
                                                                       host: str | None) -> None:
    headers = {"Authorization": f"Bearer {engine.token}"}
    if host is not None:
        headers["Host"] = host
    status, _, body = ask(engine, headers)
    assert status == 403
    assert json.loads(body)["error"]["code"] == "host_not_allowed"


def test_web_pages_of_other_origins_get_no_cors_and_are_refused(engine: LocalEngine) -> None:
    base = {"Host": f"127.0.0.1:{engine.port}", "Authorization": f"Bearer {engine.token}"}
    status, headers, body = ask(engine, {**base, "Origin": "https://evil.example"})
    assert status == 403 and json.loads(body)["error"]["code"] == "origin_not_allowed"
    assert "access-control-allow-origin" not in headers
    status, headers, _ = ask(engine, {"Host": base["Host"], "Origin": "https://evil.example",
                                      "Access-Control-Request-Method": "POST"}, "OPTIONS")
    assert status == 403 and "access-control-allow-origin" not in headers
    status, headers, _ = ask(engine, {**base, "Origin": f"http://localhost:{engine.port}"})
    assert status == 200 and "access-control-allow-origin" not in headers


def non_loopback_addresses() -> list[str]:
    found = []
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family == socket.AF_INET and not ipaddress.ip_address(address.address).is_loopback:
                found.append(address.address)
    return found


def test_the_engine_process_listens_on_127_0_0_1_only(engine: LocalEngine) -> None:
    connections = psutil.Process(engine.pid).net_connections(kind="inet")
    listening = [c for c in connections if c.status == psutil.CONN_LISTEN]
    assert [(c.laddr.ip, c.laddr.port) for c in listening] == [("127.0.0.1", engine.port)]
    assert [c for c in connections if c.type == socket.SOCK_DGRAM] == []
    assert all(ipaddress.ip_address(c.laddr.ip).is_loopback for c in connections)
    # The port is free on every other address of this machine: had the engine bound a wildcard
    # (0.0.0.0 or ::), binding the same port on the machine's own network address would fail.
    for address in non_loopback_addresses():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((address, engine.port))


def test_bind_rules() -> None:
    check_bind("127.0.0.1", "t")
    check_bind("::1", "t")
    with pytest.raises(UnsafeServerSettings, match="other computers without a token"):
        check_bind("0.0.0.0", "")
    with pytest.raises(UnsafeServerSettings, match="other computers without a token"):
        check_bind("192.168.1.10", "")
    with pytest.raises(UnsafeServerSettings, match="without a token"):
        check_bind("127.0.0.1", "")


@pytest.mark.parametrize("host", ["0.0.0.0", "127.0.0.1"])
def test_the_engine_process_refuses_to_listen_without_a_token(tiny_model: Path, host: str) -> None:
    result = subprocess.run(engine_command(tiny_model, PLAN, host=host), input=b"\n",
                            capture_output=True, timeout=60)
    event = json.loads(result.stdout)
    assert result.returncode == 2
    assert event["event"] == "error" and event["error"] == "UnsafeServerSettings"
    assert "without a token" in event["message"]


class RecordingCommand:
    """The real engine command, remembering each time it was asked for (just before Popen)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, *args, **kwargs) -> list[str]:
        self.calls += 1
        return engine_command(*args, **kwargs)


def engine_processes() -> list[psutil.Process]:
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "wizard.engine.server" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def cve_model(tmp_path: Path, tiny_model: Path) -> tuple[Path, Path]:
    marker = tmp_path / "pwned"
    hostile = tmp_path / "hostile.gguf"
    rewrite_gguf(tiny_model, hostile, key="tokenizer.chat_template", new_value=cve_2024_34359_payload(marker))
    assert read_gguf_string(hostile, "tokenizer.chat_template") == cve_2024_34359_payload(marker)
    return hostile, marker


def test_the_cve_2024_34359_model_file_is_refused_before_any_process_starts(tmp_path: Path,
                                                                            tiny_model: Path) -> None:
    hostile, marker = cve_model(tmp_path, tiny_model)
    before = {p.pid for p in engine_processes()}
    command = RecordingCommand()
    engine = LocalEngine(hostile, PLAN, command=command)
    with pytest.raises(UnsafeTemplateError) as caught:
        engine.start()
    assert command.calls == 0 and engine._process is None and engine.pid is None  # no child, ever
    assert {p.pid for p in engine_processes()} == before
    assert not engine.alive
    assert caught.value.user_message == ("This model file contains instructions that try to break out "
                                         "of their safe box, so Hearth will not use it.")
    assert "tampered" in caught.value.hint
    assert "__class__" in caught.value.details
    assert not marker.exists()


def test_the_engine_process_refuses_the_cve_template_too(tmp_path: Path, tiny_model: Path) -> None:
    """The second line: started directly, past the parent's check, the child refuses it itself."""
    hostile, marker = cve_model(tmp_path, tiny_model)
    result = subprocess.run(engine_command(hostile, PLAN), input=b"a-token\n", capture_output=True, timeout=120)
    event = json.loads(result.stdout)
    assert result.returncode == 2
    assert event["event"] == "error" and event["error"] == "UnsafeTemplateError"
    assert "safe box" in event["message"]
    assert not marker.exists()


def test_a_rewritten_model_with_a_harmless_template_still_works(tmp_path: Path, tiny_model: Path) -> None:
    # The GGUF rewriting keeps the tensor data aligned: the edited file loads and answers.
    edited = tmp_path / "edited.gguf"
    original = read_gguf_string(tiny_model, "tokenizer.chat_template")
    rewrite_gguf(tiny_model, edited, key="tokenizer.chat_template", new_value=original.replace(
        "You are a helpful AI assistant named SmolLM, trained by Hugging Face", "You are a helpful assistant"))
    with LocalEngine(edited, PLAN) as engine:
        assert "Paris" in "".join(engine.stream_chat(CAPITAL_QUESTION, params=GREEDY))


def test_a_model_without_a_chat_template_is_refused_not_guessed(tmp_path: Path, tiny_model: Path) -> None:
    bare = tmp_path / "bare.gguf"
    rewrite_gguf(tiny_model, bare, key="tokenizer.chat_template", new_key="tokenizer.removed_template")
    assert read_gguf_string(bare, "tokenizer.chat_template") is None
    command = RecordingCommand()
    with pytest.raises(NoChatTemplateError) as caught:
        LocalEngine(bare, PLAN, command=command).start()
    assert "does not say how to hold a conversation" in caught.value.user_message
    assert "'llama'" in caught.value.details
    assert command.calls == 0  # an architecture with no certain format: refused from the header


def test_remote_mode_is_the_same_client_with_a_url_and_a_key(engine: LocalEngine, tiny_model: Path) -> None:
    with LocalEngine(tiny_model, PLAN) as other:
        assert other.port != engine.port and other.token != engine.token
        remote = EngineClient(f"http://localhost:{other.port}/v1", api_key=other.token)
        assert remote.list_models() == ["SmolLM2-135M-Instruct.Q4_1"]
        summary = remote.chat(CAPITAL_QUESTION, params=GREEDY)
        assert "Paris" in summary.text and summary.finish_reason == "stop"

        with pytest.raises(EngineAuthError) as caught:
            EngineClient(f"http://localhost:{other.port}/v1", api_key=engine.token).chat(CAPITAL_QUESTION)
        assert "refused Hearth's key" in caught.value.user_message
        assert "401" in caught.value.details


def test_nothing_listening_is_a_plain_connection_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(EngineConnectionError) as caught:
        EngineClient(f"http://127.0.0.1:{port}/v1", api_key="k").list_models()
    assert "nothing answered there" in caught.value.user_message


def test_a_server_that_never_answers_is_a_timeout() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        client = EngineClient(f"http://127.0.0.1:{port}/v1", api_key="k", timeout=0.5)
        with pytest.raises(EngineTimeout) as caught:
            list(client.stream_chat(CAPITAL_QUESTION))
        assert isinstance(caught.value, TimeoutError)


def test_a_server_address_that_is_not_http_is_refused() -> None:
    with pytest.raises(EngineRequestError, match="must start with http"):
        EngineClient("ftp://example.org/v1")


def test_a_conversation_too_long_for_the_context_is_a_plain_error(engine: LocalEngine) -> None:
    huge = [{"role": "user", "content": "word " * 3000}]
    with pytest.raises(EngineRequestError) as caught:
        list(engine.stream_chat(huge))
    assert "too long" in caught.value.user_message


def test_a_stream_cut_mid_reply_by_a_server_is_a_connection_error() -> None:
    # A server that sends two chunks and hangs up without finishing (no finish_reason, no [DONE]).
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        def serve_once() -> None:
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                chunk = {"choices": [{"index": 0, "delta": {"content": "Par"}, "finish_reason": None}]}
                connection.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
                                   + b"data: " + json.dumps(chunk).encode() + b"\n\n")

        server = threading.Thread(target=serve_once)
        server.start()
        stream = EngineClient(f"http://127.0.0.1:{port}/v1").stream_chat(CAPITAL_QUESTION)
        with pytest.raises(EngineConnectionError, match="broke in the middle"):
            list(stream)
        server.join()
        assert stream.text == "Par"
