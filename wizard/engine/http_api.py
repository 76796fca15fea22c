"""The engine's OpenAI-compatible HTTP API (stdlib only), closed to everyone but its token holder.

Endpoints: ``GET /health``, ``GET /v1/models``, ``POST /v1/chat/completions`` (``stream`` true:
Server-Sent Events of ``chat.completion.chunk`` ending with ``data: [DONE]``; false: one
``chat.completion``). Every endpoint requires ``Authorization: Bearer <token>`` and a Host
header naming this machine's loopback (127.0.0.1, localhost, [::1]) — the check that stops DNS
rebinding (Ollama CVE-2024-28224). No CORS header is ever sent, and a request from a web page
of another origin (an ``Origin`` header that is not loopback) is refused.

One reply is generated at a time. A second request waits up to ``busy_wait`` seconds (so "stop,
then send again" just works) and then gets 429 with ``Retry-After``.

A client that closes its connection stops its reply at once: while generating, a watcher thread
waits for the connection to end and then aborts the model's step in progress (also while it
is still reading the prompt, before any header was sent).

Final chunks and responses carry llama-server's ``timings`` object (``cache_n`` = prompt
tokens reused from the KV cache, ``prompt_n`` = prompt tokens evaluated) and OpenAI's
``usage.prompt_tokens_details.cached_tokens``.
"""

from __future__ import annotations

import hmac
import json
import select
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from wizard.engine.constrain import grammar_from_request
from wizard.engine.errors import ChatTemplateError, EngineError, EngineRequestError, UnsafeTemplateError
from wizard.engine.generator import GenerationStats, LlamaRunner
from wizard.engine.plan import GenerationParams
from wizard.engine.template import ChatTemplate

LOOPBACK_HOST_NAMES = ("127.0.0.1", "localhost", "[::1]")
MAX_BODY_BYTES = 8 * 1024 * 1024
WRITE_EVERY_SECONDS = 0.03  # the chat window shows text every 40 ms


def host_header_allowed(host: str | None, port: int) -> bool:
    """True for ``127.0.0.1``, ``localhost`` or ``[::1]``, alone or with this server's port."""
    if not host:
        return False
    host = host.strip().lower()
    for name in LOOPBACK_HOST_NAMES:
        if host == name or host == f"{name}:{port}":
            return True
    return False


def origin_allowed(origin: str | None) -> bool:
    """No Origin (not a browser) or a page served from this machine's loopback."""
    if origin is None:
        return True
    for name in LOOPBACK_HOST_NAMES:
        for scheme in ("http://", "https://"):
            prefix = scheme + name
            if origin == prefix or origin.startswith(prefix + ":"):
                return True
    return False


class EngineHTTPServer(ThreadingHTTPServer):
    """Serves one loaded model to holders of ``token``."""

    daemon_threads = True
    request_queue_size = 16

    def __init__(self, address: tuple[str, int], *, runner: LlamaRunner, template: ChatTemplate,
                 token: str, model_id: str, busy_wait: float = 5.0) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, EngineRequestHandler)
        self.runner = runner
        self.template = template
        self.token = token
        self.model_id = model_id
        self.busy_wait = busy_wait
        self.generation_lock = threading.Lock()
        self.last_generation: dict | None = None

    @property
    def port(self) -> int:
        return self.server_address[1]


class _ClientGone(Exception):
    pass


class EngineRequestHandler(BaseHTTPRequestHandler):
    server: EngineHTTPServer
    protocol_version = "HTTP/1.0"  # one request per connection; a stream ends when it closes
    disable_nagle_algorithm = True  # each token's event leaves at once, not held for an ACK
    server_version = "Hearth"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # stderr is kept for llama.cpp's errors

    # -- the gate every request passes ---------------------------------------------------------

    def _admitted(self) -> bool:
        if not host_header_allowed(self.headers.get("Host"), self.server.port):
            self._send_error(403, "This server only answers requests addressed to this computer.",
                             "host_not_allowed")
            return False
        if not origin_allowed(self.headers.get("Origin")):
            self._send_error(403, "Web pages from other sites may not use this server.", "origin_not_allowed")
            return False
        given = self.headers.get("Authorization", "")
        expected = f"Bearer {self.server.token}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            self._send_error(401, "A valid token is required.", "invalid_api_key",
                             extra_headers={"WWW-Authenticate": "Bearer"})
            return False
        return True

    def do_OPTIONS(self) -> None:  # noqa: N802 - stdlib naming
        self._send_error(403, "Cross-origin requests are not allowed.", "cors_not_allowed")

    def do_GET(self) -> None:  # noqa: N802
        if not self._admitted():
            return
        if self.path == "/health":
            busy = self.server.generation_lock.locked()
            self._send_json(200, {"status": "ok", "busy": busy, "last_generation": self.server.last_generation})
        elif self.path == "/v1/models":
            self._send_json(200, {"object": "list", "data": [
                {"id": self.server.model_id, "object": "model", "created": 0, "owned_by": "hearth"}]})
        else:
            self._send_error(404, "There is nothing here.", "not_found")

    def do_POST(self) -> None:  # noqa: N802
        if not self._admitted():
            return
        if self.path != "/v1/chat/completions":
            self._send_error(404, "There is nothing here.", "not_found")
            return
        try:
            body = self._read_json()
            messages = _messages_from(body)
            params = _params_from(body)
            prompt = self.server.runner.tokenize(self.server.template.render(messages))
        except UnsafeTemplateError as exc:
            self._send_error(500, exc.user_message, "unsafe_template")
            return
        except (EngineRequestError, ChatTemplateError) as exc:
            self._send_error(400, exc.user_message, "invalid_request_error", details=exc.details)
            return
        if not self.server.generation_lock.acquire(timeout=self.server.busy_wait):
            self._send_error(429, "The AI is busy with another answer.", "busy",
                             extra_headers={"Retry-After": "1"})
            return
        try:
            self._generate(body, prompt, params)
        finally:
            self.server.generation_lock.release()

    # -- generation ----------------------------------------------------------------------------

    def _generate(self, body: dict, prompt: list[int], params: GenerationParams) -> None:
        stats = GenerationStats()
        cancelled = threading.Event()
        watcher = _ClientWatcher(self.connection, on_gone=lambda: (cancelled.set(), self.server.runner.abort()))
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        created = int(time.time())
        pieces = self.server.runner.generate(prompt, params, cancelled.is_set, stats)
        try:
            if body.get("stream"):
                self._stream(pieces, stats, completion_id, created, cancelled,
                             include_usage=bool((body.get("stream_options") or {}).get("include_usage")))
            else:
                text = "".join(pieces)
                self._send_json(200, {
                    "id": completion_id, "object": "chat.completion", "created": created,
                    "model": self.server.model_id,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                 "finish_reason": _finish(stats)}],
                    "usage": _usage(stats), "timings": stats.timings(),
                })
        except EngineRequestError as exc:
            self._send_error(400, exc.user_message, "context_length_exceeded", details=exc.details)
        except EngineError as exc:
            self._send_error(500, exc.user_message, "engine_error", details=exc.details)
        except _ClientGone:
            stats.finish_reason = "cancelled"
        finally:
            watcher.stop()  # before the lock is released: it must never abort the next reply
            pieces.close()
            self.server.last_generation = {**stats.timings(), "finish_reason": stats.finish_reason,
                                           "completion_tokens": stats.completion_tokens}

    def _stream(self, pieces, stats: GenerationStats, completion_id: str, created: int,
                cancelled: threading.Event, *, include_usage: bool) -> None:
        def chunk(delta: dict, finish: str | None = None) -> dict:
            return {"id": completion_id, "object": "chat.completion.chunk", "created": created,
                    "model": self.server.model_id,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        first = next(pieces, None)  # prompt errors surface here, before any header is sent
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self._send_event(chunk({"role": "assistant", "content": ""}), cancelled)
        if first is not None:
            # Every piece's event is the same JSON around its text: built once, not per token.
            head, _, tail = ("data: " + json.dumps(chunk({"content": ""}), ensure_ascii=False) + "\n\n"
                             ).encode().partition(b'"content": ""')
            head += b'"content": '
            write, dumps, clock = self._write, json.dumps, time.perf_counter
            write(head + dumps(first, ensure_ascii=False).encode() + tail, cancelled)
            waiting, written_at = [], clock()
            for piece in pieces:
                # Pieces that come faster than WRITE_EVERY_SECONDS leave together: one wake-up
                # of the reader for several tokens, which on a small machine is CPU the model
                # keeps. Each piece is still its own event; none waits longer than that.
                waiting.append(head + dumps(piece, ensure_ascii=False).encode() + tail)
                now = clock()
                if now - written_at >= WRITE_EVERY_SECONDS:
                    write(b"".join(waiting), cancelled)
                    waiting, written_at = [], now
            if waiting:
                write(b"".join(waiting), cancelled)
        final = chunk({}, _finish(stats))
        final["timings"] = stats.timings()
        self._send_event(final, cancelled)
        if include_usage:
            self._send_event({**chunk({}), "choices": [], "usage": _usage(stats)}, cancelled)
        self._write(b"data: [DONE]\n\n", cancelled)

    def _send_event(self, payload: dict, cancelled: threading.Event) -> None:
        self._write(b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n", cancelled)

    def _write(self, data: bytes, cancelled: threading.Event) -> None:
        try:
            self.wfile.write(data)
        except OSError as exc:  # BrokenPipe, ConnectionReset: the client went away
            cancelled.set()
            raise _ClientGone() from exc

    # -- plumbing ------------------------------------------------------------------------------

    def _read_json(self) -> dict:
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            raise EngineRequestError("The request had no length.") from None
        if length < 0 or length > MAX_BODY_BYTES:
            raise EngineRequestError("The request is too large.", details=f"{length} bytes")
        try:
            body = json.loads(self.rfile.read(length))
        except (ValueError, UnicodeDecodeError) as exc:
            raise EngineRequestError("The request is not valid JSON.", details=str(exc)) from exc
        if not isinstance(body, dict):
            raise EngineRequestError("The request must be a JSON object.")
        return body

    def _send_json(self, status: int, payload: dict, extra_headers: dict | None = None) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (extra_headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client is gone; nothing to tell it

    def _send_error(self, status: int, message: str, code: str, *, details: str = "",
                    extra_headers: dict | None = None) -> None:
        error = {"message": message, "type": code, "code": code}
        if details:
            error["details"] = details
        self._send_json(status, {"error": error}, extra_headers)


class _ClientWatcher:
    """Calls ``on_gone`` once if the client closes ``connection`` before :meth:`stop`.

    The request body has been read (one request per connection), so the socket turning readable
    means the client hung up (EOF); bytes it sends anyway are read and dropped.
    """

    def __init__(self, connection: socket.socket, *, on_gone) -> None:
        self._connection = connection
        self._on_gone = on_gone
        self._wake_read, self._wake_write = socket.socketpair()
        self._stopped = False
        self._thread = threading.Thread(target=self._watch, daemon=True, name="client-watch")
        self._thread.start()

    def _watch(self) -> None:
        try:
            while True:
                readable, _, _ = select.select([self._connection, self._wake_read], [], [])
                if self._wake_read in readable:
                    return
                if self._connection.recv(4096) == b"":
                    break
        except OSError:
            pass  # reset by the client: gone too
        if not self._stopped:
            self._on_gone()

    def stop(self) -> None:
        self._stopped = True
        try:
            self._wake_write.send(b"x")
        except OSError:
            pass
        self._thread.join()
        self._wake_read.close()
        self._wake_write.close()


def _messages_from(body: dict) -> list[dict]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise EngineRequestError("The request has no messages.")
    cleaned = []
    for message in messages:
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise EngineRequestError("Each message needs a role and content.")
        content = message.get("content")
        if isinstance(content, list):  # OpenAI content parts: keep the text ones
            content = "".join(part.get("text", "") for part in content
                              if isinstance(part, dict) and part.get("type") == "text")
        if content is None:
            content = ""
        if not isinstance(content, str):
            raise EngineRequestError("A message's content must be text.")
        cleaned.append({**message, "content": content})
    return cleaned


def _params_from(body: dict) -> GenerationParams:
    defaults = GenerationParams()
    stop = body.get("stop") or ()
    if isinstance(stop, str):
        stop = (stop,)
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    try:
        return GenerationParams(
            temperature=float(body.get("temperature", defaults.temperature)),
            top_p=float(body.get("top_p", defaults.top_p)),
            top_k=int(body.get("top_k", defaults.top_k)),
            min_p=float(body.get("min_p", defaults.min_p)),
            repeat_penalty=float(body.get("repeat_penalty", defaults.repeat_penalty)),
            seed=None if body.get("seed") is None else int(body["seed"]),
            max_tokens=None if max_tokens is None else max(1, int(max_tokens)),
            stop=tuple(str(s) for s in stop),
            grammar=grammar_from_request(body),
        )
    except EngineRequestError:
        raise
    except (TypeError, ValueError) as exc:
        raise EngineRequestError("A sampling setting in the request is not a number.",
                                 details=str(exc)) from exc


def _finish(stats: GenerationStats) -> str:
    return "length" if stats.finish_reason == "length" else "stop"


def _usage(stats: GenerationStats) -> dict:
    return {"prompt_tokens": stats.prompt_tokens, "completion_tokens": stats.completion_tokens,
            "total_tokens": stats.prompt_tokens + stats.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": stats.cached_tokens}}
