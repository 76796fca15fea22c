"""The chat window's central area: conversations and memory on the left, the chat on the right.

The assistant (engine + session) is an :class:`~app.ui.chat.runner.AssistantRunner`; this
widget only shows what it does. Keys: Enter sends, Shift+Enter starts a new line, Esc stops.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QSplitter, QTabWidget, QVBoxLayout, QWidget

from app.ui.chat.chat_setup import ChatSetup
from app.ui.chat.composer import Composer
from app.ui.chat.conversations import ConversationPanel
from app.ui.chat.memory_panel import MemoryPanel
from app.ui.chat.messages import MessageList, MessageWidget
from app.ui.chat.runner import BROKEN, READY, REPLYING, RESTARTING, STARTING, AssistantRunner
from app.ui.chat.status import DocumentsStatus, StatusLine, engine_memory_bytes
from app.ui.widgets import InlineError, name_qt_parts
from wizard.agent import ConversationStore, MemoryStore, TurnResult
from wizard.agent.store import ConversationNotFoundError

MEMORY_REFRESH_MS = 2000


class ChatView(QWidget):
    """Chat with one assistant. Call :meth:`start` once shown and :meth:`shutdown` before closing."""

    state_changed = Signal(str)

    def __init__(self, setup: ChatSetup, *, store: ConversationStore | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setup = setup
        self.setAccessibleName(f"Chat with {setup.assistant}")
        self.store = store or ConversationStore()
        self._owns_store = store is None
        self.runner = AssistantRunner(setup, self.store, self)
        self._streaming: MessageWidget | None = None
        self._streamed = ""
        self._sent_edit: int | None = None  # the earlier message the text sent was to replace
        self._announce_ready_again = False
        self._been_ready = False
        self._build()
        self._connect()
        self.show_conversation(None)

    # -- building ----------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.error = InlineError(self, retry_text="Try again", name="Problem")
        self.error.retry_requested.connect(self._retry_start)
        self.conversations = ConversationPanel(self.store, profile=self.setup.profile_id,
                                               on_error=self.show_error, parent=self)
        self.memory = MemoryPanel(MemoryStore(self.store), profile=self.setup.profile_id,
                                  assistant=self.setup.assistant, on_error=self.show_error, parent=self)
        self.side = QTabWidget(self)
        self.side.setAccessibleName("Conversations and memory")
        self.side.tabBar().setAccessibleName("Conversations and memory")
        self.side.addTab(self.conversations, "&Conversations")
        self.side.addTab(self.memory, "&Memory")
        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        self.messages = MessageList(right)
        self.composer = Composer(right)
        right_layout.addWidget(self.messages, 1)
        right_layout.addWidget(self.composer)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setAccessibleName("Chat panes")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.side)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 3)
        self.status = StatusLine(self.setup.model_name, self)
        self.documents: DocumentsStatus | None = None
        layout.addWidget(self.error)
        layout.addWidget(self.splitter, 1)
        if self.setup.document_index is not None:
            self.documents = DocumentsStatus(self.setup.document_index, self.setup.document_folders, self)
            layout.addWidget(self.documents)
        layout.addWidget(self.status)
        self.setTabOrder(self.side, self.messages)
        self.setTabOrder(self.messages, self.composer.edit)
        self.stop_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        self.stop_shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.stop_shortcut.activated.connect(self.stop)
        self.memory_timer = QTimer(self)
        self.memory_timer.setInterval(MEMORY_REFRESH_MS)
        self.memory_timer.timeout.connect(self.refresh_memory_in_use)
        name_qt_parts(self)

    def _summary_written(self, _conversation_id: int) -> None:
        self.memory.refresh()  # a past conversation's summary is a memory too

    def _connect(self) -> None:
        self.runner.state_changed.connect(self._state_changed)
        self.runner.text_arrived.connect(self._text_arrived)
        self.runner.reply_done.connect(self._reply_done)
        self.runner.reply_failed.connect(self._reply_failed)
        self.runner.engine_failed.connect(self._engine_failed)
        self.runner.summary_written.connect(self._summary_written)
        self.composer.send_requested.connect(self.send)
        self.composer.stop_requested.connect(self.stop)
        self.composer.regenerate_requested.connect(self.regenerate)
        self.messages.edit_requested.connect(self.edit_message)
        self.conversations.chosen.connect(self.show_conversation)
        self.conversations.new_requested.connect(lambda: self.show_conversation(None))
        self.conversations.deleted.connect(self._conversation_deleted)

    # -- starting and stopping ---------------------------------------------------------------

    def start(self) -> None:
        """Start the assistant's engine and, if it has document folders, read them (both tasks)."""
        self.runner.start()
        if self.documents is not None:
            self.documents.start()
        self.memory_timer.start()

    def _retry_start(self) -> None:
        self.error.clear()
        self.runner.start()

    def shutdown(self) -> None:
        """Stop the reply, the document reading and the engine; close the database if ours."""
        self.memory_timer.stop()
        if self.documents is not None and self.documents.task is not None:
            self.documents.task.cancel()
            self.documents.task.wait(10)
        if self.conversations.export_task is not None:
            self.conversations.export_task.wait(10)  # it reads the database about to be closed
        self.runner.shutdown()
        if self._owns_store:
            self.store.close()

    # -- conversations -----------------------------------------------------------------------

    @property
    def conversation_id(self) -> int | None:
        return self._conversation_id

    def show_conversation(self, conversation_id: int | None) -> None:
        """Show a saved conversation (None: a new, empty one)."""
        if self.runner.replying:
            return
        self._conversation_id = conversation_id
        self.runner.first_conversation = conversation_id  # if the engine is still getting ready
        if self.runner.session is not None:
            self.runner.session.conversation_id = conversation_id
        self.composer.cancel_edit()
        self.render()
        self.conversations.select(conversation_id)
        self._update_composer()

    def _conversation_deleted(self, conversation_id: int) -> None:
        if conversation_id == self._conversation_id:
            self.show_conversation(None)

    def render(self) -> None:
        """Draw the conversation's messages from the database."""
        self.messages.clear()
        self._streaming = None
        saved = []
        if self._conversation_id is not None:
            try:
                saved = self.store.messages(self._conversation_id)
            except ConversationNotFoundError:
                self._conversation_id = None
        if not saved and self.setup.greeting:
            self.messages.add_message(role="assistant", speaker=self.setup.assistant, text=self.setup.greeting)
        for message in saved:
            if message.role == "system":
                continue
            self.messages.add_message(role=message.role, speaker=self._speaker(message.role), text=message.content,
                                      message_id=message.id, status=message.status)
        self.messages.scroll_to_bottom()

    def _settle_messages(self) -> None:
        """After an answer: give the shown messages their saved ids, texts and notes, drawing
        again only what changed. Drawing a long conversation anew after every answer froze the
        window for a moment; when the shown messages no longer line up with the saved ones
        (the first answer after the greeting, an edit sent again), all are drawn again."""
        self._streaming = None
        try:
            saved = [m for m in self.store.messages(self._conversation_id) if m.role != "system"] \
                if self._conversation_id is not None else []
        except ConversationNotFoundError:
            saved = []
        shown = self.messages.messages()
        if not saved or len(shown) != len(saved) or any(
                widget.role != message.role or (widget.message_id is not None and widget.message_id != message.id)
                for widget, message in zip(shown, saved)):
            self.render()
            return
        self.messages.remove_notices()
        for widget, message in zip(shown, saved):
            if widget.message_id is None:
                widget.set_message_id(message.id)
            widget.set_text(message.content)  # the same text again does nothing
            widget.set_status(message.status)

    def _speaker(self, role: str) -> str:
        if role == "user":
            return self.setup.person_name or "You"
        return self.setup.assistant

    # -- sending -----------------------------------------------------------------------------

    def send(self, text: str) -> None:
        """Send ``text`` (as if typed and Enter pressed); the text box is emptied (or, after an edit,
        given back the draft written before it)."""
        if self.runner.state != READY or not text.strip():
            return
        self.error.clear()
        replace_from = self.composer.editing
        self._sent_edit = replace_from
        if replace_from is not None:
            for widget in self.messages.messages():
                if widget.message_id is not None and widget.message_id >= replace_from:
                    widget.hide()
        self.messages.add_message(role="user", speaker=self._speaker("user"), text=text)
        self._begin_answer()
        self.composer.edit.clear()
        self.composer.finish_edit()
        self.runner.send(text, replace_from=replace_from)

    def regenerate(self) -> None:
        """Write the last answer again."""
        if self.runner.state != READY or not self._can_regenerate():
            return
        self.error.clear()
        widgets = self.messages.messages()
        if widgets and widgets[-1].role == "assistant" and widgets[-1].message_id is not None:
            widgets[-1].hide()
        self._begin_answer()
        self.runner.regenerate()

    def stop(self) -> None:
        """Stop the answer being written (Esc); what was written stays."""
        self.runner.stop_reply()

    def edit_message(self, message_id: int, text: str) -> None:
        """Put an earlier message of the person's back in the text box to change and send again."""
        if self.runner.replying:
            return
        self.composer.start_edit(message_id, text)

    def _begin_answer(self) -> None:
        self._streamed = ""
        self._streaming = self.messages.add_message(role="assistant", speaker=self.setup.assistant, text="…")
        self.messages.scroll_to_bottom()

    def _text_arrived(self, batch: str) -> None:
        self._streamed += batch
        if self._streaming is not None:
            self._streaming.set_text(self._streamed)

    def _reply_done(self, result: TurnResult) -> None:
        self._conversation_id = self.runner.session.conversation_id if self.runner.session else None
        self._settle_messages()
        if result.stopped and result.reply is None:
            self.messages.add_notice(f"Stopped before {self.setup.assistant} wrote anything. "
                                     "Press Regenerate for an answer.")
        for notice in result.notices:
            self.messages.add_notice(notice.message)
        if result.notices:
            self.memory.refresh()
        self.status.set_speed(result.summary.tokens_per_second)
        self.conversations.refresh(current=self._conversation_id)
        self.refresh_memory_in_use()
        self._update_composer()

    def _reply_failed(self, exc: BaseException) -> None:
        if self.runner.session is not None and self.runner.session.conversation_id is not None:
            self._conversation_id = self.runner.session.conversation_id
        self.render()
        self.conversations.refresh(current=self._conversation_id)
        self._give_back_unsaved_text()
        self._update_composer()
        if self.runner.engine_died:
            self._announce_ready_again = True
            self.messages.add_notice(
                f"{self.setup.assistant} stopped unexpectedly in the middle of its answer. What it wrote is "
                f"kept. Hearth is starting {self.setup.assistant} again…")
            return
        self.show_error(exc)

    def _give_back_unsaved_text(self) -> None:
        """After a failed send: what the person sent goes back in the text box if it was not saved
        (too long, the database refused it …), as the edit it was; nothing typed is lost."""
        text, self.runner.unsent_text = self.runner.unsent_text, None
        if not text:
            return
        if self._sent_edit is not None and any(w.message_id == self._sent_edit for w in self.messages.messages()):
            self.composer.start_edit(self._sent_edit, text)  # what the box holds now is kept as the draft
            return
        typed_meanwhile = self.composer.text()
        self.composer.set_text(f"{text}\n\n{typed_meanwhile}" if typed_meanwhile.strip() else text)

    def _engine_failed(self, exc: BaseException) -> None:
        self.error.show_error(exc, can_retry=True)

    def show_error(self, exc: BaseException) -> None:
        self.error.show_error(exc)

    # -- state -------------------------------------------------------------------------------

    def _state_changed(self, state: str) -> None:
        name = self.setup.assistant
        words = {STARTING: f"Getting {name} ready…", READY: "Ready", REPLYING: f"{name} is writing… (Esc stops)",
                 RESTARTING: f"Starting {name} again…", BROKEN: f"{name} could not start."}
        self.status.state.setText(words.get(state, ""))
        if state == READY and self._announce_ready_again:
            self._announce_ready_again = False
            self.messages.add_notice(f"{name} is ready again. Press Regenerate for a complete answer.")
        self.conversations.setEnabled(state != REPLYING)
        self.memory.setEnabled(state != REPLYING)
        self._update_composer()
        if state == READY and self._focus_belongs_in_the_text_box():
            self.composer.edit.setFocus()
        if state == READY:
            self._been_ready = True
        self.state_changed.emit(state)

    def _focus_belongs_in_the_text_box(self) -> bool:
        """On the first "ready", or when the focus is in the chat itself (or nowhere): a person
        working in the conversation list, the search, the memory panel … is not pulled away."""
        focus = self.window().focusWidget()
        chat_pane = self.composer.parentWidget()
        return not self._been_ready or focus is None or focus is self or chat_pane.isAncestorOf(focus)

    def _can_regenerate(self) -> bool:
        if self._conversation_id is None:
            return False
        return any(w.role == "user" for w in self.messages.messages() if w.message_id is not None)

    def _update_composer(self) -> None:
        state = self.runner.state
        self.composer.set_state(ready=state == READY, replying=state == REPLYING,
                                can_regenerate=self._can_regenerate())

    def refresh_memory_in_use(self) -> None:
        self.status.set_memory(engine_memory_bytes(self.runner.engine_pid))

    # -- remembered layout -------------------------------------------------------------------

    def splitter_state(self) -> QByteArray:
        return self.splitter.saveState()

    def restore_splitter(self, state: object) -> None:
        if isinstance(state, QByteArray):
            self.splitter.restoreState(state)
