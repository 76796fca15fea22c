"""One OpenAI-compatible client for every model Hearth talks to, local or remote.

The local engine process, llama.cpp's llama-server, vLLM and Ollama all speak
``POST {base_url}/chat/completions`` with Server-Sent Events, so "use a bigger machine in the
house" is a base URL and a key, not other code. Stdlib ``http.client`` only: no proxy from the
environment is used (the servers are on this machine or this network).

``stream_chat`` returns a :class:`ChatStream`: iterate it for text deltas; afterwards its
``summary`` has the token counts and timings. Cancelling (``cancel`` set) closes the connection
at once — also while the server is still reading the prompt, before it answered — which is how
the server learns to stop generating; a cancelled stream just ends, it does not raise.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from wizard.engine.errors import (
    EngineAuthError,
    EngineBusy,
    EngineConnectionError,
    EngineError,
    EngineRequestError,
    EngineTimeout,
)
from wizard.engine.plan import GenerationParams

Cancel = threading.Event | Callable[[], bool] | None
_CANCEL_POLL_SECONDS = 0.02  # for a cancel that is a function; an Event is waited on
_CANCEL_WAIT_SECONDS = 0.25  # how often a watcher waiting on an Event looks whether the reply ended


@dataclass
class ChatSummary:
    """What one reply cost. Times are seconds, measured by the client from sending the request."""

    text: str = ""
    finish_reason: str | None = None  # stop | length | cancelled; None if the stream broke
    prompt_tokens: int | None = None
    cached_tokens: int | None = None  # prompt tokens the server reused from its cache
    completion_tokens: int = 0
    time_to_first_token: float | None = None
    tokens_per_second: float | None = None  # after the first token, as the client received them
    elapsed: float = 0.0
    server_timings: dict = field(default_factory=dict)  # llama-server style, when the server sends it


def _is_cancelled(cancel: Cancel) -> bool:
    if cancel is None:
        return False
    if isinstance(cancel, threading.Event):
        return cancel.is_set()
    return bool(cancel())


class ChatStream:
    """Iterator of reply text deltas; ``summary`` is complete once iteration ends.

    Raises while iterating: EngineConnectionError, EngineTimeout, EngineError (see
    :meth:`EngineClient.stream_chat`), or whatever ``on_connection_error`` turns them into.
    """

    def __init__(self, deltas: Iterator[str] | ChatStream, summary: ChatSummary | None = None, *,
                 on_connection_error: Callable[[EngineError], EngineError] | None = None) -> None:
        if isinstance(deltas, ChatStream):
            summary = deltas.summary
        self._deltas = iter(deltas)
        self.summary = summary or ChatSummary()
        self._translate = on_connection_error

    def __iter__(self) -> ChatStream:
        return self

    def __next__(self) -> str:
        try:
            return next(self._deltas)
        except EngineError as exc:
            if self._translate is None:
                raise
            translated = self._translate(exc)
            if translated is exc:
                raise
            raise translated from exc

    @property
    def text(self) -> str:
        """Everything received so far (kept even when the stream broke)."""
        return self.summary.text

    def close(self) -> None:
        close = getattr(self._deltas, "close", None)
        if close:
            close()


class EngineClient:
    """Talks to an OpenAI-compatible server at ``base_url`` (e.g. ``http://127.0.0.1:8080/v1``)."""

    def __init__(self, base_url: str, *, api_key: str = "", timeout: float = 120.0,
                 connect_timeout: float = 10.0) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise EngineRequestError("The AI server address must start with http:// or https://.",
                                     hint="Check the server address in Hearth's settings.",
                                     details=f"base_url={base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._prefix = parts.path
        self.api_key = api_key
        self.timeout = timeout
        self.connect_timeout = connect_timeout

    # -- simple calls --------------------------------------------------------------------------

    def list_models(self) -> list[str]:
        """The model ids the server offers.

        Raises: EngineConnectionError, EngineAuthError, EngineTimeout, EngineError.
        """
        connection, response = self._open("GET", self._prefix + "/models")
        try:
            payload = _read_json(response)
        finally:
            connection.close()
        return [item.get("id", "") for item in payload.get("data", [])]

    def health(self) -> dict:
        """``GET /health`` on the server root (Hearth's engine and llama-server have it)."""
        root = self._prefix.removesuffix("/v1")
        connection, response = self._open("GET", root + "/health")
        try:
            return _read_json(response)
        finally:
            connection.close()

    def chat(self, messages: Sequence[dict], *, params: GenerationParams | None = None,
             cancel: Cancel = None) -> ChatSummary:
        """The whole reply at once (streamed underneath); raises as :meth:`stream_chat`."""
        stream = self.stream_chat(messages, params=params, cancel=cancel)
        for _ in stream:
            pass
        return stream.summary

    # -- streaming -----------------------------------------------------------------------------

    def stream_chat(self, messages: Sequence[dict], *, params: GenerationParams | None = None,
                    cancel: Cancel = None, model: str | None = None) -> ChatStream:
        """Send ``messages`` (never modified) and stream the reply.

        Nothing is sent until the first ``next()``.

        Raises (while iterating):
            EngineConnectionError: the server cannot be reached, or the connection broke mid-reply.
            EngineAuthError: the key was refused (401/403).
            EngineBusy: the server is generating another reply (429).
            EngineTimeout: no answer within ``timeout`` seconds.
            EngineRequestError: the server rejected the request (e.g. conversation too long).
            EngineError: the server failed (5xx) or sent something that is not a chat stream.
        """
        summary = ChatSummary()
        body = {"model": model or "default", "messages": [dict(m) for m in messages], "stream": True,
                "stream_options": {"include_usage": True}, **(params or GenerationParams()).to_request()}
        return ChatStream(self._stream_deltas(body, summary, cancel), summary)

    def _stream_deltas(self, body: dict, summary: ChatSummary, cancel: Cancel) -> Iterator[str]:
        started = time.perf_counter()
        first_at = last_at = None
        chunks = 0
        done = threading.Event()
        try:
            connection, response = self._open("POST", self._prefix + "/chat/completions", body,
                                              cancel=cancel, done=done)
        except EngineError:
            done.set()
            if not _is_cancelled(cancel):
                raise
            summary.finish_reason = "cancelled"  # stopped before the server answered
            summary.elapsed = time.perf_counter() - started
            return
        try:
            for payload in self._events(response, cancel):
                if "error" in payload:
                    error = payload["error"]
                    message = error.get("message") if isinstance(error, dict) else str(error)
                    raise EngineError("The AI server failed while answering.", details=str(message))
                usage = payload.get("usage")
                if usage:
                    summary.prompt_tokens = usage.get("prompt_tokens")
                    summary.completion_tokens = usage.get("completion_tokens") or chunks
                    details = usage.get("prompt_tokens_details") or {}
                    summary.cached_tokens = details.get("cached_tokens", summary.cached_tokens)
                if isinstance(payload.get("timings"), dict):
                    summary.server_timings = payload["timings"]
                    summary.cached_tokens = payload["timings"].get("cache_n", summary.cached_tokens)
                for choice in payload.get("choices") or ():
                    content = (choice.get("delta") or {}).get("content")
                    if content:
                        now = time.perf_counter()
                        first_at = first_at or now
                        last_at = now
                        chunks += 1
                        summary.text += content
                        yield content
                    if choice.get("finish_reason"):
                        summary.finish_reason = choice["finish_reason"]
            if _is_cancelled(cancel):
                summary.finish_reason = "cancelled"
            elif summary.finish_reason is None:
                raise EngineConnectionError("The connection to the AI broke in the middle of its answer.",
                                            details="stream ended without a finish reason")
        finally:
            done.set()
            response.close()  # the socket is the response's now: this is what ends the connection
            connection.close()
            summary.elapsed = time.perf_counter() - started
            summary.completion_tokens = summary.completion_tokens or chunks
            if first_at is not None:
                summary.time_to_first_token = first_at - started
                if summary.completion_tokens > 1 and last_at > first_at:
                    summary.tokens_per_second = (summary.completion_tokens - 1) / (last_at - first_at)

    def _events(self, response: http.client.HTTPResponse, cancel: Cancel) -> Iterator[dict]:
        while True:
            try:
                line = response.readline()
            except (TimeoutError, socket.timeout) as exc:
                if _is_cancelled(cancel):
                    return
                raise EngineTimeout("The AI stopped sending its answer.", details=str(exc)) from exc
            except (OSError, http.client.HTTPException, ValueError) as exc:
                if _is_cancelled(cancel):
                    return
                raise EngineConnectionError("The connection to the AI broke in the middle of its answer.",
                                            details=repr(exc)) from exc
            if not line or _is_cancelled(cancel):
                return
            line = line.strip()
            if not line.startswith(b"data:"):
                continue  # blank separators, comments, "event:" lines
            data = line[5:].strip()
            if data == b"[DONE]":
                return
            try:
                yield json.loads(data.decode("utf-8"))
            except ValueError as exc:  # UnicodeDecodeError too
                raise EngineError("The AI server sent something Hearth does not understand.",
                                  details=data[:200].decode("utf-8", "replace")) from exc

    # -- plumbing ------------------------------------------------------------------------------

    def _open(self, method: str, path: str, body: dict | None = None, *, cancel: Cancel = None,
              done: threading.Event | None = None) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """Send the request and read the answer's status; with ``cancel``, a watcher closes the
        connection as soon as it is set, until ``done`` is set."""
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        connection = cls(self._host, self._port, timeout=self.connect_timeout)
        connected: list[socket.socket] = []  # the socket, for the watcher: for an HTTP/1.0 answer
        # http.client hands it to the response and forgets it (connection.sock becomes None)
        if cancel is not None and done is not None:
            threading.Thread(target=_close_on_cancel, args=(connected, cancel, done), daemon=True,
                             name="cancel-watch").start()
        headers = {"Accept": "application/json, text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        where = f"{self._host}:{self._port}"
        try:
            connection.connect()
            connected.append(connection.sock)
            connection.sock.settimeout(self.timeout)
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
        except ConnectionRefusedError as exc:
            connection.close()
            raise EngineConnectionError(f"Hearth could not reach the AI at {where}: nothing answered there.",
                                        details=repr(exc)) from exc
        except (TimeoutError, socket.timeout) as exc:
            connection.close()
            raise EngineTimeout(f"The AI at {where} did not answer in time.", details=repr(exc)) from exc
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise EngineConnectionError(f"Hearth could not talk to the AI at {where}.",
                                        details=repr(exc)) from exc
        if response.status >= 400:
            try:
                raise _status_error(response, where)
            finally:
                connection.close()
        return connection, response


def _close_on_cancel(connected: list[socket.socket], cancel: Cancel, done: threading.Event) -> None:
    while not done.is_set():
        if isinstance(cancel, threading.Event):
            fired = cancel.wait(_CANCEL_WAIT_SECONDS)  # wakes the moment it is set
        else:
            fired = done.wait(_CANCEL_POLL_SECONDS) is False and _is_cancelled(cancel)
        if fired:
            break
    while not done.is_set():  # cancelled: close the socket, once it exists
        if connected:
            sock = connected[0]
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes the reader and tells the server at once
            except OSError:
                pass
            return
        done.wait(_CANCEL_POLL_SECONDS)


def _read_json(response: http.client.HTTPResponse) -> dict:
    try:
        return json.loads(response.read())
    except (ValueError, OSError, http.client.HTTPException) as exc:
        raise EngineError("The AI server sent something Hearth does not understand.", details=repr(exc)) from exc


def _status_error(response: http.client.HTTPResponse, where: str) -> EngineError:
    try:
        raw = response.read(64 * 1024)
        error = json.loads(raw).get("error") or {}
        message = error.get("message", "") if isinstance(error, dict) else str(error)
    except (ValueError, OSError, AttributeError, http.client.HTTPException):
        message = ""
    details = f"HTTP {response.status} from {where}: {message}".strip()
    if response.status in (401, 403):
        return EngineAuthError(f"The AI at {where} refused Hearth's key.", details=details)
    if response.status == 429:
        return EngineBusy("The AI is busy with another answer.", details=details)
    if response.status == 404:
        return EngineRequestError(f"The AI at {where} does not offer this; is the address right?",
                                  hint="Check the server address in Hearth's settings.", details=details)
    if response.status < 500:
        return EngineRequestError(message or "The AI server rejected the request.", details=details)
    return EngineError("The AI server failed while answering.", details=details)
