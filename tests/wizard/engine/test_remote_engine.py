"""RemoteEngine against a real OpenAI-compatible server: Hearth's own engine process on 127.0.0.1."""

from __future__ import annotations

import socket

import pytest

from tests.wizard.engine.conftest import CAPITAL_QUESTION
from wizard.engine import (
    EngineAuthError,
    EngineConnectionError,
    EngineError,
    GenerationParams,
    LoadPlan,
    LocalEngine,
    RemoteEngine,
)

GREEDY = GenerationParams(temperature=0.0, seed=1, max_tokens=24)


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_remote_engine_chats_with_a_real_server_like_a_local_one(engine: LocalEngine) -> None:
    remote = RemoteEngine(engine.base_url, engine.token, plan=LoadPlan(n_ctx=1024))
    assert not remote.alive and remote.model_path is None and remote.pid is None
    with remote:
        assert remote.alive
        assert remote.model_name == engine.model_path.stem  # what the server's /v1/models says
        assert remote.ready_info["model"] == engine.model_path.stem
        assert "n_ctx" not in remote.ready_info  # Hearth's server does not report it: the plan's is used
        stream = remote.stream_chat(CAPITAL_QUESTION, params=GREEDY)
        pieces = list(stream)
        assert "paris" in "".join(pieces).lower() and stream.summary.completion_tokens > 1
        assert "paris" in remote.chat(CAPITAL_QUESTION, params=GREEDY).text.lower()
        assert "paris" in remote.client().chat(CAPITAL_QUESTION, params=GREEDY).text.lower()
    assert not remote.alive
    assert engine.alive  # stopping a remote engine leaves the server running
    remote.restart()
    assert remote.alive


def test_a_closed_port_is_a_plain_connection_error() -> None:
    port = closed_port()
    remote = RemoteEngine(f"http://127.0.0.1:{port}/v1", "key")
    with pytest.raises(EngineConnectionError) as caught:
        remote.start()
    error = caught.value
    assert error.user_message == f"Hearth could not reach an AI server at http://127.0.0.1:{port}/v1."
    assert "settings" in error.hint and "running" in error.hint
    assert "Traceback" not in error.user_message and not remote.alive


def test_a_wrong_key_is_a_plain_auth_error(engine: LocalEngine) -> None:
    remote = RemoteEngine(engine.base_url, "not-the-key")
    with pytest.raises(EngineAuthError) as caught:
        remote.start()
    assert caught.value.user_message == f"The AI server at {engine.base_url} refused Hearth's key."
    assert "key" in caught.value.hint and "settings" in caught.value.hint
    assert "401" in caught.value.details and not remote.alive


def test_an_address_that_is_not_an_ai_server_is_a_plain_error(hub_mirror) -> None:
    remote = RemoteEngine(hub_mirror.url + "/v1", "")  # a real HTTP server that is not an AI server
    with pytest.raises(EngineConnectionError, match="could not reach an AI server"):
        remote.start()


def test_chatting_before_start_says_it_is_not_connected(engine: LocalEngine) -> None:
    with pytest.raises(EngineError, match="not connected"):
        RemoteEngine(engine.base_url, engine.token).stream_chat(CAPITAL_QUESTION)


@pytest.mark.parametrize("answered", [True, False])
def test_cancel_closes_the_connection_at_once_even_if_the_server_sends_nothing_more(answered: bool) -> None:
    """A stalled server (a slow model mid-token, or still reading the prompt): Stop must not wait
    for its next word, and the server must see the connection end (that is how it stops)."""
    import json
    import threading
    import time

    from wizard.engine import EngineClient

    server_saw_the_end = threading.Event()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        def stall_after_one_word() -> None:
            connection, _ = listener.accept()
            with connection:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += connection.recv(65536)
                head, _, body = request.partition(b"\r\n\r\n")
                length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                                  if line.lower().startswith(b"content-length")))
                while len(body) < length:
                    body += connection.recv(65536)
                if answered:  # headers and one word, then nothing
                    chunk = {"choices": [{"index": 0, "delta": {"content": "Once"}, "finish_reason": None}]}
                    connection.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
                                       + b"data: " + json.dumps(chunk).encode() + b"\n\n")
                connection.settimeout(30)
                if connection.recv(1) == b"":
                    server_saw_the_end.set()

        server = threading.Thread(target=stall_after_one_word)
        server.start()
        cancel = threading.Event()
        stream = EngineClient(f"http://127.0.0.1:{port}/v1").stream_chat(CAPITAL_QUESTION, cancel=cancel)
        received: list[str] = []
        reader = threading.Thread(target=lambda: received.extend(stream))
        reader.start()
        time.sleep(0.3)  # the reader is now waiting for the server
        cancel.set()
        reader.join(10)
        assert not reader.is_alive(), "the stream kept waiting for the stalled server"
        assert stream.summary.finish_reason == "cancelled"
        assert received == (["Once"] if answered else [])
        assert server_saw_the_end.wait(10)
        server.join(10)
