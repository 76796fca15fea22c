"""The assistant behind the chat window: its engine process and one reply at a time.

Every slow step runs through :func:`app.tasks.run_task`: starting (and restarting) the
engine, and each reply. A reply's text arrives on a worker thread piece by piece; it is
collected in :class:`PendingText` and handed to the window in one batch every
``BATCH_MS`` milliseconds, never per token. If the engine process dies in the middle of a
reply, what was written stays saved (``ChatSession`` does that), the window is told, and the
engine is started again so the person can press Regenerate.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from app.tasks import TaskHandle, run_task
from app.ui.chat.chat_setup import ChatSetup
from app.ui.chat.confirm import WriteConfirmer
from wizard.agent import ChatSession, ConversationStore, TurnResult, counter_for
from wizard.engine import EngineCrashed, EngineError

log = logging.getLogger(__name__)

BATCH_MS = 40
STOPPED, STARTING, READY, REPLYING, RESTARTING, BROKEN = (
    "stopped", "starting", "ready", "replying", "restarting", "broken")


class PendingText:
    """Pieces of a reply added by the worker, taken all at once by the UI thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pieces: list[str] = []

    def add(self, piece: str) -> None:
        with self._lock:
            self._pieces.append(piece)

    def take(self) -> str:
        with self._lock:
            text, self._pieces = "".join(self._pieces), []
        return text


class AssistantRunner(QObject):
    """Owns the engine and the :class:`ChatSession` of one assistant. Lives on the UI thread."""

    state_changed = Signal(str)
    text_arrived = Signal(str)  # the next batch of the reply being written
    reply_done = Signal(object)  # TurnResult
    reply_failed = Signal(object)  # the exception; the engine is restarted if it died
    engine_failed = Signal(object)  # the engine could not start

    def __init__(self, setup: ChatSetup, store: ConversationStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setup = setup
        self.store = store
        self.engine = None
        self.session: ChatSession | None = None
        self.state = STOPPED
        self.last_result: TurnResult | None = None
        self.engine_died = False  # the last reply failed because the engine process died
        self.first_conversation: int | None = None  # the one shown while the engine was starting
        self._engine_task: TaskHandle | None = None
        self._reply_task: TaskHandle | None = None
        self._pending = PendingText()
        self._closing = False
        self._loading_engine = None
        self._timer = QTimer(self)
        self._timer.setInterval(BATCH_MS)
        self._timer.timeout.connect(self._flush)
        # asks "may it save this file?" for the write_file tool, from the reply's worker thread
        self.confirmer = WriteConfirmer(parent if isinstance(parent, QWidget) else None, setup.assistant)
        self.tools: dict | None = None

    # -- the engine --------------------------------------------------------------------------

    def start(self) -> None:
        """Start the engine (a task); ``state_changed`` says when it is ready or broken."""
        if self._closing or self.state in (STARTING, READY, REPLYING, RESTARTING):
            return
        self._set_state(STARTING)
        self._engine_task = run_task(self._start_work, name="start engine", on_success=self._started,
                                     on_error=self._engine_broke)

    def _start_work(self, _progress: Callable, cancel: threading.Event) -> tuple:
        if self.tools is None and self.setup.make_tools is not None:
            self.tools = self.setup.make_tools(self.confirmer)  # opens the notes/documents files
        engine = self.setup.make_engine()
        self._loading_engine = engine  # shutdown() stops it even if the result never arrives
        engine.start()
        if cancel.is_set():  # the window closed while the model was loading
            engine.stop()
            return None, None
        return engine, counter_for(engine.model_path)

    def _started(self, result: tuple) -> None:
        engine, counter = result
        if engine is None:
            return
        if self._closing:
            engine.stop()
            return
        self.engine = engine
        n_ctx = int(engine.ready_info.get("n_ctx") or engine.plan.n_ctx)
        conversation = self.session.conversation_id if self.session else self.first_conversation
        self.session = ChatSession(self.store, engine, counter=counter, n_ctx=n_ctx,
                                   model=self.setup.model_name or engine.model_path.stem,
                                   profile=self.setup.profile_id, conversation_id=conversation,
                                   system_prompt=self.setup.system_prompt, params=self.setup.params,
                                   tools=self.tools or None)
        self._set_state(READY)

    def restart(self) -> None:
        """Start the engine again after it died (a task)."""
        if self.engine is None:
            self._set_state(STOPPED)
            self.start()
            return
        self._set_state(RESTARTING)
        engine = self.engine
        self._engine_task = run_task(lambda _p, _c: engine.restart(), name="restart engine",
                                     on_success=lambda _r: self._set_state(READY) if not self._closing else None,
                                     on_error=self._engine_broke)

    def _engine_broke(self, exc: BaseException) -> None:
        if self._closing:
            return
        self._set_state(BROKEN)
        self.engine_failed.emit(exc)

    @property
    def engine_pid(self) -> int | None:
        return self.engine.pid if self.engine is not None and self.engine.alive else None

    # -- replies -----------------------------------------------------------------------------

    def send(self, text: str, *, replace_from: int | None = None) -> None:
        """Send ``text``; with ``replace_from`` (a user message id) that message and everything
        after it are removed first (edit and send again)."""
        session = self._ready_session()

        def work(_progress: Callable, cancel: threading.Event) -> TurnResult:
            if replace_from is not None and session.conversation_id is not None:
                for message in self.store.messages(session.conversation_id):
                    if message.id >= replace_from:
                        self.store.delete_message(message.id)
            return session.send(text, on_text=self._pending.add, cancel=cancel)

        self._start_reply(work)

    def regenerate(self) -> None:
        """Write the answer to the last user message again (its old answer is removed)."""
        session = self._ready_session()
        self._start_reply(lambda _p, cancel: session.regenerate(on_text=self._pending.add, cancel=cancel))

    def stop_reply(self) -> None:
        """Stop the answer being written; what was written so far is kept."""
        if self._reply_task is not None:
            self._reply_task.cancel()

    @property
    def replying(self) -> bool:
        return self._reply_task is not None and self._reply_task.running

    def _ready_session(self) -> ChatSession:
        if self.state != READY or self.session is None:
            raise RuntimeError(f"the assistant is not ready ({self.state})")
        return self.session

    def _start_reply(self, work: Callable) -> None:
        self._pending.take()
        self._set_state(REPLYING)
        self._timer.start()
        self._reply_task = run_task(work, name="reply", on_success=self._reply_succeeded,
                                    on_error=self._reply_broke)

    def _flush(self) -> None:
        text = self._pending.take()
        if text:
            self.text_arrived.emit(text)

    def _end_reply(self) -> None:
        self._timer.stop()
        self._flush()
        self._reply_task = None

    def _reply_succeeded(self, result: TurnResult) -> None:
        self._end_reply()
        if self._closing:  # the window is gone (and maybe the database closed): nothing to show
            return
        self.last_result = result
        self._set_state(READY)
        self.reply_done.emit(result)

    def _reply_broke(self, exc: BaseException) -> None:
        self._end_reply()
        if self._closing:
            return
        died = isinstance(exc, EngineCrashed) or (isinstance(exc, EngineError) and self.engine is not None
                                                   and not self.engine.alive)
        self.engine_died = died
        self._set_state(READY)
        self.reply_failed.emit(exc)
        if died and not self._closing:
            self.restart()

    # -- closing -----------------------------------------------------------------------------

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop any reply, wait for the tasks, and stop the engine process."""
        self._closing = True
        self._timer.stop()
        self.confirmer.refuse_all()  # a reply waiting for "may it save?" must not hold the closing
        for task in (self._reply_task, self._engine_task):
            if task is not None:
                task.cancel()
                task.wait(timeout)
        self._reply_task = self._engine_task = None  # their outcomes are dropped: the window is closing
        for engine in {id(e): e for e in (self.engine, self._loading_engine) if e is not None}.values():
            engine.stop()
        self.engine = self._loading_engine = None
        self._set_state(STOPPED)

    def _set_state(self, state: str) -> None:
        if state != self.state:
            log.debug("assistant %s: %s -> %s", self.setup.profile_id, self.state, state)
        self.state = state
        self.state_changed.emit(state)
