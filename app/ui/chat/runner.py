"""The assistant behind the chat window: its engine process and one reply at a time.

Every slow step runs through :func:`app.tasks.run_task`: starting (and restarting) the
engine, and each reply. A reply's text arrives on a worker thread piece by piece; it is
collected in :class:`PendingText` and handed to the window in one batch every
``BATCH_MS`` milliseconds, never per token. If the engine process dies in the middle of a
reply, what was written stays saved (``ChatSession`` does that), the window is told, and the
engine is started again so the person can press Regenerate.

Summaries of past conversations (when the assistant's memory allows them): a conversation that
got replies is summarised (:func:`wizard.agent.summarize_conversation`, a task) once the person
moves to another one, whenever the engine is idle and ready; a reply the person asks for meanwhile
stops the summary, which is written later. When the window closes, the conversations still
waiting are summarised only if the measured speed says it fits in ``CLOSE_SUMMARY_SECONDS``
(and the work is stopped at that limit): closing never waits longer.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from app.tasks import TaskHandle, run_task
from app.ui.chat.chat_setup import ChatSetup
from app.ui.chat.confirm import WriteConfirmer
from wizard.agent import ChatSession, ConversationStore, TurnResult, counter_for, summarize_conversation
from wizard.agent.memory import SUMMARY_MAX_TOKENS, SUMMARY_TRANSCRIPT_CHARS
from wizard.engine import EngineCrashed, EngineError
from wizard.errors import HearthError

log = logging.getLogger(__name__)

BATCH_MS = 40
CLOSE_SUMMARY_SECONDS = 4.0
SUMMARY_STOP_SECONDS = 5.0  # a reply waits at most this long for a stopped summary to let go
SUMMARY_WAIT_STEP = 0.05
CHARS_PER_TOKEN = 4  # for the estimate only
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
    summary_written = Signal(int)  # a conversation's summary was stored in memory
    _conversation_left = Signal(int)  # from ChatSession, on whichever thread changed the conversation

    def __init__(self, setup: ChatSetup, store: ConversationStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setup = setup
        self.store = store
        self.engine = None
        self.session: ChatSession | None = None
        self.state = STOPPED
        self.last_result: TurnResult | None = None
        self.engine_died = False  # the last reply failed because the engine process died
        self.unsent_text: str | None = None  # the text of the last failed send, if it was not saved
        self.first_conversation: int | None = None  # the one shown while the engine was starting
        self._engine_task: TaskHandle | None = None
        self._reply_task: TaskHandle | None = None
        self._summary_task: TaskHandle | None = None
        self._unsummarised: set[int] = set()  # conversations with replies newer than their summary
        self._conversation_left.connect(lambda _left: self.summarise_waiting())
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
                                   tools=self.tools or None, memory=self.setup.memory,
                                   on_conversation_left=self._conversation_left.emit)
        self._set_state(READY)
        self.summarise_waiting()

    def restart(self) -> None:
        """Start the engine again after it died (a task)."""
        if self.engine is None:
            self._set_state(STOPPED)
            self.start()
            return
        self._set_state(RESTARTING)
        engine = self.engine
        self._engine_task = run_task(lambda _p, _c: engine.restart(), name="restart engine",
                                     on_success=lambda _r: self._restarted(), on_error=self._engine_broke)

    def _restarted(self) -> None:
        if not self._closing:
            self._set_state(READY)
            self.summarise_waiting()

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
            try:
                return session.send(text, on_text=self._pending.add, cancel=cancel, replace_from=replace_from)
            except BaseException:
                if session.saved_question is None:  # refused or not saved: nothing was removed either
                    self.unsent_text = text  # read on the UI thread once reply_failed arrives
                raise

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
        self.unsent_text = None
        self._set_state(REPLYING)
        self._timer.start()
        summary = self._summary_task
        if summary is not None:
            summary.cancel()  # the person comes first; the summary is written later

        def after_the_summary(progress: Callable, cancel: threading.Event) -> TurnResult:
            waited = 0.0
            while summary is not None and not cancel.is_set() and waited < SUMMARY_STOP_SECONDS:
                if summary.wait(SUMMARY_WAIT_STEP):  # the engine writes one answer at a time
                    break
                waited += SUMMARY_WAIT_STEP  # Stop is not kept waiting for the summary
            return self._without_an_empty_stopped_reply(work(progress, cancel))

        self._reply_task = run_task(after_the_summary, name="reply", on_success=self._reply_succeeded,
                                    on_error=self._reply_broke)

    def _without_an_empty_stopped_reply(self, result: TurnResult) -> TurnResult:
        """Stopped before its first word (Stop pressed while a summary was still letting go of the
        engine, say): the question stays, but no empty "No answer came." reply is kept; Regenerate
        answers it. Runs in the reply's task."""
        reply = result.reply
        if not result.stopped or reply is None or reply.content.strip():
            return result
        try:
            self.store.delete_message(reply.id)
        except HearthError as exc:  # it stays, shown as an answer that did not come
            log.warning("an empty stopped reply could not be removed: %s", exc)
            return result
        return dataclasses.replace(result, reply=None)

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
        self._note_reply(result.user_message.conversation)
        self._set_state(READY)
        self.reply_done.emit(result)
        self.summarise_waiting()

    def _reply_broke(self, exc: BaseException) -> None:
        self._end_reply()
        if self._closing:
            return
        died = isinstance(exc, EngineCrashed) or (isinstance(exc, EngineError) and self.engine is not None
                                                   and not self.engine.alive)
        self.engine_died = died
        if self.session is not None and self.session.conversation_id is not None:
            self._note_reply(self.session.conversation_id)  # a partial reply is worth a summary too
        self._set_state(READY)
        self.reply_failed.emit(exc)
        if died and not self._closing:
            self.restart()
        else:
            self.summarise_waiting()

    # -- summaries of past conversations -------------------------------------------------------

    def _note_reply(self, conversation_id: int) -> None:
        if self.setup.memory.summaries:
            self._unsummarised.add(conversation_id)

    def _waiting_for_summary(self, *, including_current: bool = False) -> list[int]:
        current = self.session.conversation_id if self.session is not None else None
        return sorted((c for c in self._unsummarised if including_current or c != current), reverse=True)

    def summarise_waiting(self) -> None:
        """Summarise, one at a time in a task, the conversations the person has left since their
        last replies (only while the engine is ready and idle, and memory allows summaries)."""
        if (self._closing or self.state != READY or self.replying or self.engine is None
                or (self._summary_task is not None and self._summary_task.running)):
            return
        waiting = self._waiting_for_summary()
        if not waiting:
            return
        conversation_id, engine = waiting[0], self.engine
        self._summary_task = run_task(
            lambda _p, cancel: self._summarise(conversation_id, engine, cancel), name="summarise conversation",
            on_success=self._summarised, on_error=self._summary_failed(conversation_id))

    def _summarise(self, conversation_id: int, engine, cancel: threading.Event) -> tuple[int, bool]:
        """(the conversation, whether its summary was written); not written when stopped."""
        written = summarize_conversation(self.store, conversation_id, engine, cancel=cancel)
        return conversation_id, written is not None or not cancel.is_set()

    def _summarised(self, outcome: tuple[int, bool]) -> None:
        conversation_id, done = outcome
        self._summary_task = None
        if done:
            self._unsummarised.discard(conversation_id)
            if not self._closing:
                self.summary_written.emit(conversation_id)
        self.summarise_waiting()

    def _summary_failed(self, conversation_id: int) -> Callable[[BaseException], None]:
        def failed(exc: BaseException) -> None:  # a summary is a nicety: log it, never bother the person
            log.warning("the summary of conversation %s could not be written: %s", conversation_id, exc)
            self._summary_task = None
            self._unsummarised.discard(conversation_id)
            self.summarise_waiting()
        return failed

    def estimated_summary_seconds(self, conversation_id: int) -> float | None:
        """How long the engine would take to summarise the conversation, from the speeds measured
        on the last reply; None when nothing was measured."""
        result = self.last_result
        timings = result.summary.server_timings if result is not None else {}
        decode = timings.get("predicted_per_second") or (result.summary.tokens_per_second if result else None)
        if not decode:
            return None
        chars = sum(len(m.content) for m in self.store.messages(conversation_id))
        prompt_tokens = min(chars, SUMMARY_TRANSCRIPT_CHARS) / CHARS_PER_TOKEN
        prompt_n, prompt_ms = timings.get("prompt_n") or 0, timings.get("prompt_ms") or 0
        prompt_seconds = prompt_tokens * (prompt_ms / 1000 / prompt_n) if prompt_n and prompt_ms else 0.0
        return prompt_seconds + SUMMARY_MAX_TOKENS / decode

    def _summarise_before_closing(self, budget: float) -> None:
        """Summarise what is still waiting if the measured speed says it fits in ``budget``
        seconds; the work is stopped at ``budget`` in any case (skipped: not summarised)."""
        engine = self.engine
        if budget <= 0 or engine is None or not engine.alive or not self.setup.memory.summaries:
            return
        waiting = []
        for conversation_id in self._waiting_for_summary(including_current=True):
            try:
                estimate = self.estimated_summary_seconds(conversation_id)
            except HearthError as exc:  # deleted meanwhile, or the file cannot be read
                log.debug("no summary estimate for %s: %s", conversation_id, exc)
                continue
            # Nothing measured (answers written with tools): try; the budget still bounds the wait.
            left = budget - sum(seconds for _, seconds in waiting)
            if estimate is None or estimate <= left:
                waiting.append((conversation_id, estimate or 0.0))
        if not waiting:
            return

        def work(_progress: Callable, cancel: threading.Event) -> None:
            for conversation_id, _seconds in waiting:
                if cancel.is_set():
                    return
                summarize_conversation(self.store, conversation_id, engine, cancel=cancel)

        task = run_task(work, name="summarise before closing", on_error=lambda exc: log.warning(
            "a summary could not be written before closing: %s", exc))
        if not task.wait(budget):
            task.cancel()  # over budget: skip the rest; stopping takes one token of the engine
            task.wait(budget)

    # -- closing -----------------------------------------------------------------------------

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop any reply, wait for the tasks, summarise if that is quick, and stop the engine process."""
        self._closing = True
        self._timer.stop()
        self.confirmer.refuse_all()  # a reply waiting for "may it save?" must not hold the closing
        was_ready = self.state == READY
        for task in (self._reply_task, self._engine_task, self._summary_task):
            if task is not None:
                task.cancel()
                task.wait(timeout)
        self._reply_task = self._engine_task = self._summary_task = None  # the window is closing
        if was_ready:
            self._summarise_before_closing(min(CLOSE_SUMMARY_SECONDS, timeout))
        for engine in {id(e): e for e in (self.engine, self._loading_engine) if e is not None}.values():
            engine.stop()
        self.engine = self._loading_engine = None
        self._set_state(STOPPED)

    def _set_state(self, state: str) -> None:
        if state != self.state:
            log.debug("assistant %s: %s -> %s", self.setup.profile_id, self.state, state)
        self.state = state
        self.state_changed.emit(state)
