"""A model on another computer (any OpenAI-compatible server), used the way a LocalEngine is.

The chat code starts an engine, streams replies, and stops it; with a remote server
"start" only checks that the server answers and accepts the key (``GET /v1/models``), and
"stop" lets go of it: the server belongs to someone else and keeps running.
"""

from __future__ import annotations

from collections.abc import Sequence

from wizard.engine.client import Cancel, ChatStream, ChatSummary, EngineClient, _read_json
from wizard.engine.errors import EngineAuthError, EngineConnectionError, EngineError, EngineTimeout
from wizard.engine.plan import GenerationParams, LoadPlan

SETTINGS_PLACE = "Hearth's settings (Engine: another computer)"


class RemoteEngine:
    """The same surface as :class:`wizard.engine.LocalEngine` for a server at ``url`` with ``key``.

    ``plan`` is only what Hearth assumes about the server (its ``n_ctx`` when the server does
    not say); nothing is loaded here. ``model_path`` is None: there is no file on this computer.
    """

    model_path = None
    pid = None
    stderr_tail = ""

    def __init__(self, url: str, key: str = "", *, plan: LoadPlan | None = None, timeout: float = 120.0,
                 connect_timeout: float = 10.0) -> None:
        self._client = EngineClient(url, api_key=key or "", timeout=timeout, connect_timeout=connect_timeout)
        self.base_url = self._client.base_url
        self.token = key or ""
        self.plan = plan or LoadPlan()
        self.model_name: str | None = None
        self.ready_info: dict = {}
        self._started = False

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Check that the server answers and accepts the key; learn its model's name.

        Raises:
            EngineConnectionError: nothing answers at the address (or it is not an AI server).
            EngineAuthError: the server refused the key.
            EngineTimeout: the server did not answer in time.
            EngineError: it answered with something that is not a list of models.
        """
        where = self.base_url
        try:
            models = self._models()
        except EngineAuthError as exc:
            raise EngineAuthError(f"The AI server at {where} refused Hearth's key.",
                                  hint=f"Type the right key for that server in {SETTINGS_PLACE}.",
                                  details=exc.details) from exc
        except EngineTimeout as exc:
            raise EngineTimeout(f"The AI server at {where} did not answer in time.",
                                hint="The other computer may be busy or asleep. Try again in a moment.",
                                details=exc.details) from exc
        except EngineError as exc:
            raise EngineConnectionError(
                f"Hearth could not reach an AI server at {where}.",
                hint=f"Check that the other computer is on and its AI server is running, and that the "
                     f"address in {SETTINGS_PLACE} is right.",
                details=exc.details or str(exc)) from exc
        if not models:
            raise EngineError(f"The AI server at {where} has no model to offer.",
                              hint="Ask whoever runs that server to load a model, then try again.")
        first = models[0]
        self.model_name = str(first.get("id") or "") or None
        self.ready_info = {"event": "ready", "model": self.model_name, "url": where}
        n_ctx = _context_size(first)
        if n_ctx:
            self.ready_info["n_ctx"] = n_ctx
        self._started = True

    def stop(self, timeout: float = 5.0) -> None:
        """Let go of the server (it keeps running: it is not Hearth's)."""
        self._started = False

    def restart(self) -> None:
        """Check the server again. Raises: as :meth:`start`."""
        self.stop()
        self.start()

    def __enter__(self) -> RemoteEngine:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def alive(self) -> bool:
        return self._started

    def client(self) -> EngineClient:
        return self._client

    # -- chatting ----------------------------------------------------------------------------

    def stream_chat(self, messages: Sequence[dict], *, params: GenerationParams | None = None,
                    cancel: Cancel = None) -> ChatStream:
        """Stream a reply from the server's model. Raises (while iterating): as EngineClient.stream_chat."""
        if not self._started:
            raise EngineError("The AI is not connected.", hint="Start it again from Hearth; nothing was lost.")
        return self._client.stream_chat(messages, params=params, cancel=cancel, model=self.model_name)

    def chat(self, messages: Sequence[dict], *, params: GenerationParams | None = None,
             cancel: Cancel = None) -> ChatSummary:
        """The whole reply at once. Raises: as :meth:`stream_chat`."""
        stream = self.stream_chat(messages, params=params, cancel=cancel)
        for _ in stream:
            pass
        return stream.summary

    # -- plumbing ----------------------------------------------------------------------------

    def _models(self) -> list[dict]:
        client = self._client
        connection, response = client._open("GET", client._prefix + "/models")  # the client's own request path
        try:
            payload = _read_json(response)
        finally:
            connection.close()
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, list):
            raise EngineError("The server's answer is not a list of AI models.", details=str(payload)[:200])
        return [item for item in data if isinstance(item, dict)]


def _context_size(model: dict) -> int | None:
    """The context size a server reports for its model: vLLM's ``max_model_len``, or an ``n_ctx``."""
    meta = model.get("meta") if isinstance(model.get("meta"), dict) else {}
    for value in (model.get("max_model_len"), model.get("n_ctx"), meta.get("n_ctx")):
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None
