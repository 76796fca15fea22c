"""One turn of a conversation: save what the person said, build the prompt, stream and save the reply.

Order of a turn (:meth:`ChatSession.send`):

1. the user message is committed to the database before anything is sent to the model;
2. an explicit "remember that …" becomes a fact in memory (committed too) and a notice, when
   the assistant's :class:`~wizard.agent.memory.MemoryPolicy` allows it (else a notice says not);
3. the prompt is assembled within the context window (:mod:`wizard.agent.context`);
4. the reply is streamed; its row is created at the first words with status ``partial`` and
   rewritten every ``flush_seconds`` while it streams, then marked ``complete`` at the end. If
   the reply is stopped, the engine crashes or the process is killed, what was saved stays,
   marked ``partial`` (``failed`` if no word came).

The engine is anything with ``stream_chat(messages, params=, cancel=)`` returning a ChatStream:
a :class:`~wizard.engine.LocalEngine` or an :class:`~wizard.engine.EngineClient` (remote).

With ``tools``, step 4 is the tool loop (:func:`wizard.agent.tools.run_tool_loop`) instead of a
plain stream: each tool step becomes a ``tool`` notice as it happens, and the final answer is
delivered to ``on_text`` in one piece (the loop's constrained JSON cannot be shown while it is
written). The messages table has no room for metadata, so the tool steps are kept as one plain
line at the end of the saved reply ("Tools used: …", naming the files a search found), also when
the turn is stopped or breaks; :attr:`TurnResult.sources` has the full paths of the files used.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath

from wizard.agent.context import AssembledPrompt, TurnNotice, assemble_prompt, memory_budget_for
from wizard.agent.memory import MemoryPolicy, MemoryStore, detect_remember_request, memory_block
from wizard.agent.store import Conversation, ConversationStore, Message
from wizard.agent.tokens import TokenCounter
from wizard.agent.tools.base import Tool
from wizard.agent.tools.loop import LoopStep, run_tool_loop
from wizard.engine.client import Cancel, ChatSummary
from wizard.engine.errors import EngineRequestError
from wizard.engine.plan import GenerationParams
from wizard.errors import HearthValueError

DEFAULT_SYSTEM_PROMPT = ("You are Hearth, a helpful assistant running privately on this person's own "
                         "computer. Answer clearly and briefly.")
FLUSH_SECONDS = 0.5
MAX_TOOL_STEPS = 4
TOOLS_USED_PREFIX = "Tools used: "
STEP_DETAIL_CHARS = 80
MAX_NAMED_FILES = 3


class EmptyMessageError(HearthValueError):
    """The person sent nothing to answer."""

    default_hint = "Type a question or a request first."


@dataclass
class TurnResult:
    user_message: Message
    reply: Message | None  # None only if the engine failed before the first word
    summary: ChatSummary
    notices: list[TurnNotice] = field(default_factory=list)
    prompt: AssembledPrompt | None = None
    sources: list[str] = field(default_factory=list)  # the files the tools drew on, full paths

    @property
    def stopped(self) -> bool:
        return self.summary.finish_reason == "cancelled"


class ChatSession:
    """One conversation with one model. Not for concurrent turns (one reply at a time).

    ``memory`` is what it may remember and give the model from memory (default: everything).
    ``on_conversation_left(id)`` is called (on the thread that changed it) when
    :attr:`conversation_id` changes from a conversation to another one or to None.
    """

    def __init__(self, store: ConversationStore, engine: object, *, counter: TokenCounter, n_ctx: int,
                 model: str = "", conversation_id: int | None = None, profile: str = "",
                 system_prompt: str = DEFAULT_SYSTEM_PROMPT, params: GenerationParams | None = None,
                 flush_seconds: float = FLUSH_SECONDS, tools: Mapping[str, Tool] | None = None,
                 max_tool_steps: int = MAX_TOOL_STEPS, memory: MemoryPolicy | None = None,
                 on_conversation_left: Callable[[int], None] | None = None) -> None:
        self.store = store
        self.memories = MemoryStore(store)
        self.engine = engine
        self.counter = counter
        self.n_ctx = n_ctx
        self.model = model
        self.profile = profile
        self.system_prompt = system_prompt
        self.params = params or GenerationParams()
        self.flush_seconds = flush_seconds
        self.on_conversation_left = on_conversation_left
        self._conversation_id = conversation_id
        self.tools = dict(tools) if tools else None
        self.max_tool_steps = max_tool_steps
        self.memory = memory or MemoryPolicy()
        self.saved_question: Message | None = None  # the person's message of the last send, once saved

    @property
    def conversation_id(self) -> int | None:
        return self._conversation_id

    @conversation_id.setter
    def conversation_id(self, value: int | None) -> None:
        previous, self._conversation_id = self._conversation_id, value
        if previous is not None and previous != value and self.on_conversation_left is not None:
            self.on_conversation_left(previous)

    @property
    def conversation(self) -> Conversation | None:
        return self.store.get(self.conversation_id) if self.conversation_id is not None else None

    def send(self, text: str, *, on_text: Callable[[str], None] | None = None,
             cancel: Cancel = None, replace_from: int | None = None) -> TurnResult:
        """Save ``text`` as the person's message, then stream and save the reply.

        ``on_text`` receives each piece of the reply as it arrives. ``replace_from``: the id of
        an earlier message of this conversation that ``text`` replaces, with all after it (edit
        and send again); they go in the same transaction that saves ``text``.
        :attr:`saved_question` is the person's message once it is saved (None until then, so
        after an error the caller knows whether ``text`` was kept).

        Raises:
            EmptyMessageError: ``text`` is blank (nothing saved).
            MessageTooLongError: ``text`` cannot fit in the model's context (nothing saved; the
                caller still has the text).
            EngineError subclasses (EngineCrashed …): the user message and any part of the reply
                are saved; call :meth:`regenerate` after restarting the engine.
            DatabaseError: the database could not be written (nothing sent to the model).
        """
        self.saved_question = None
        self.check_sendable(text)
        if self.conversation_id is None:
            self.conversation_id = self.store.create(profile=self.profile, model=self.model).id
            replace_from = None
        user_message = self.store.add_message(self.conversation_id, "user", text, replacing_from=replace_from)
        self.saved_question = user_message
        notices = []
        fact = detect_remember_request(text)
        if fact and self.memory.may_keep_fact(fact):
            self.memories.add_fact(fact, profile=self.profile, source_conversation=self.conversation_id)
            notices.append(TurnNotice("remembered", f"Remembered: {fact}"))
        elif fact:
            notices.append(TurnNotice("not_remembered", self.memory.refusal()))
        return self._reply(user_message, notices, on_text=on_text, cancel=cancel)

    def regenerate(self, *, on_text: Callable[[str], None] | None = None, cancel: Cancel = None) -> TurnResult:
        """Answer the last user message again (after a crash or a stopped reply); whatever reply
        it had is removed first.

        Raises: HearthValueError if there is no user message to answer; as :meth:`send`.
        """
        messages = self.store.messages(self.conversation_id) if self.conversation_id is not None else []
        users = [m for m in messages if m.role == "user"]
        if not users:
            raise HearthValueError("There is no question to answer again.", hint="Type a message first.")
        last_user = users[-1]
        for message in messages:
            if message.id > last_user.id:
                self.store.delete_message(message.id)
        return self._reply(last_user, [], on_text=on_text, cancel=cancel)

    # -- internals -------------------------------------------------------------------------------

    def check_sendable(self, text: str) -> None:
        """Raise what :meth:`send` would for ``text`` before saving anything (checked first, so a
        retry leaves no copies behind and an edit removes nothing when refused).

        Raises:
            EmptyMessageError: ``text`` is blank.
            MessageTooLongError: ``text`` cannot fit in the model's context.
        """
        if not text.strip():
            raise EmptyMessageError("There is no message to send.")
        self._assemble(text, history=[])

    def _assemble(self, newest: str, history: list[Message]) -> AssembledPrompt:
        memories = self.memories.list(profile=self.profile) if self.memory.enabled else []
        memories = [memory for memory in memories if self.memory.may_use(memory)]
        block, left_out = memory_block(memories, budget_tokens=memory_budget_for(self.n_ctx),
                                       counter=self.counter, exclude_conversation=self.conversation_id)
        conversation = self.conversation
        prompt = assemble_prompt(system_prompt=self.system_prompt, memory=block, history=history,
                                 newest=newest, n_ctx=self.n_ctx, counter=self.counter,
                                 context_from=conversation.context_from if conversation else None)
        if left_out:
            prompt.notices.append(TurnNotice(
                "memories_left_out", f"{left_out} older memories were not used: there was no room for them."))
        return prompt

    def _reply(self, user_message: Message, notices: list[TurnNotice], *,
               on_text: Callable[[str], None] | None, cancel: Cancel) -> TurnResult:
        history = [m for m in self.store.messages(self.conversation_id) if m.id < user_message.id]
        prompt = self._assemble(user_message.content, history)
        if prompt.context_from != self.conversation.context_from:
            self.store.set_context_from(self.conversation_id, prompt.context_from)
        notices = notices + prompt.notices
        writer = _ReplyWriter(self.store, self.conversation_id, self.model, self.flush_seconds)
        if self.tools:
            return self._reply_with_tools(user_message, notices, prompt, writer, on_text=on_text, cancel=cancel)
        stream = self.engine.stream_chat(prompt.messages, params=self.params, cancel=cancel)
        try:
            for piece in stream:
                writer.add(piece)
                if on_text is not None:
                    on_text(piece)
        except EngineRequestError as exc:
            writer.finish(stream.summary, failed=True)
            if "context_length_exceeded" in (exc.details or ""):
                # the counter was too optimistic for this model: never hide it from the person
                raise EngineRequestError(
                    "The conversation no longer fits in the model's memory.",
                    hint="Start a new conversation; this one is saved.", details=exc.details) from exc
            raise
        except BaseException:
            writer.finish(stream.summary, failed=True)
            raise
        reply = writer.finish(stream.summary, failed=False)
        return TurnResult(user_message=user_message, reply=reply, summary=stream.summary,
                          notices=notices, prompt=prompt)

    def _reply_with_tools(self, user_message: Message, notices: list[TurnNotice], prompt: AssembledPrompt,
                          writer: _ReplyWriter, *, on_text: Callable[[str], None] | None,
                          cancel: Cancel) -> TurnResult:
        steps: list[LoopStep] = []

        def on_step(step: LoopStep) -> None:
            steps.append(step)
            notices.append(TurnNotice("tool", describe_step(step)))

        started = time.monotonic()
        try:
            loop = run_tool_loop(self.engine, prompt.messages, self.tools, max_steps=self.max_tool_steps,
                                 params=self.params, cancel=cancel, on_step=on_step)
        except BaseException:
            writer.text = _with_tools_line(writer.text, steps)
            writer.finish(ChatSummary(), failed=True)
            raise
        finish = "cancelled" if loop.stopped == "cancelled" else "stop"
        summary = ChatSummary(text=loop.answer, finish_reason=finish, elapsed=time.monotonic() - started)
        text = _with_tools_line(loop.answer, steps)
        if text:
            writer.add(text)
            if on_text is not None:
                on_text(text)
        reply = writer.finish(summary, failed=False)
        return TurnResult(user_message=user_message, reply=reply, summary=summary, notices=notices, prompt=prompt,
                          sources=list(loop.sources))


def describe_step(step: LoopStep) -> str:
    """A short plain sentence for one tool step ("Used the calculator: 2+2 = 4", "Read notes.txt")."""
    args = step.arguments

    def short(value: object) -> str:
        text = " ".join(str(value).split())
        return text if len(text) <= STEP_DETAIL_CHARS else text[:STEP_DETAIL_CHARS - 1] + "…"

    def short_path(value: object) -> str:  # the file name is the part worth keeping
        text = str(value)
        return text if len(text) <= STEP_DETAIL_CHARS else "…" + text[-(STEP_DETAIL_CHARS - 1):]

    if step.outcome == "invalid":
        return f"Tried to use a tool ({short(step.tool or 'unknown')}), but the call did not work"
    if step.tool == "calculator":
        done = f"Used the calculator: {short(step.result)}" if step.outcome == "ok" else \
            f"Used the calculator on {short(args.get('expression', ''))}"
    elif step.tool == "datetime":
        done = "Looked at today's date and time"
    elif step.tool == "read_file":
        done = f"Read {short_path(args.get('path', ''))}"
    elif step.tool == "write_file":
        path = short_path(args.get("path", ""))
        if step.outcome == "ok" and not step.result.startswith("Saved"):
            return f"Did not save {path}: you did not allow it"
        done = f"Saved {path}"
    elif step.tool == "notes_write":
        done = "Wrote a note"
    elif step.tool == "notes_search":
        done = f"Searched the notes for \u201c{short(args.get('query', ''))}\u201d"
    elif step.tool == "documents_search":
        done = f"Searched your documents for \u201c{short(args.get('query', ''))}\u201d"
        if step.outcome == "ok":
            done += f": found {file_names(step.sources)}" if step.sources else ": nothing matched"
    else:
        done = f"Used {short(step.tool)}"
    if step.outcome == "refused":
        return f"Not allowed: {done[0].lower()}{done[1:]}"
    if step.outcome == "error":
        return f"{done} (it did not work)"
    return done


def file_names(paths: Sequence[str], *, most: int = MAX_NAMED_FILES) -> str:
    """The names of the files, without their folders: "a.txt, b.md and 2 more"."""
    names = list(dict.fromkeys(PurePath(path).name or str(path) for path in paths))
    shown = ", ".join(names[:most])
    return f"{shown} and {len(names) - most} more" if len(names) > most else shown


def _with_tools_line(text: str, steps: list[LoopStep]) -> str:
    if not steps:
        return text
    line = TOOLS_USED_PREFIX + "; ".join(describe_step(step) for step in steps) + "."
    return f"{text}\n\n{line}" if text else line


class _ReplyWriter:
    """Saves a streaming reply: created at the first words, rewritten every few tenths of a second."""

    def __init__(self, store: ConversationStore, conversation_id: int, model: str, flush_seconds: float) -> None:
        self.store = store
        self.conversation_id = conversation_id
        self.model = model
        self.flush_seconds = flush_seconds
        self.text = ""
        self.message_id: int | None = None
        self.saved_length = 0
        self.last_flush = 0.0

    def add(self, piece: str) -> None:
        self.text += piece
        now = time.monotonic()
        if self.message_id is None:
            self.message_id = self.store.add_message(self.conversation_id, "assistant", self.text,
                                                     model=self.model, status="partial").id
            self.saved_length, self.last_flush = len(self.text), now
        elif now - self.last_flush >= self.flush_seconds:
            self.store.update_message(self.message_id, content=self.text)
            self.saved_length, self.last_flush = len(self.text), now

    def finish(self, summary: ChatSummary, *, failed: bool) -> Message | None:
        """Write the final state: complete, partial (stopped/broken with words) or failed (none)."""
        if failed or summary.finish_reason in (None, "cancelled"):
            status = "partial" if self.text else "failed"
        else:
            status = "complete"
        if self.message_id is None:
            self.message_id = self.store.add_message(self.conversation_id, "assistant", self.text,
                                                     model=self.model, status=status).id
        self.store.update_message(self.message_id, content=self.text, status=status,
                                  prompt_tokens=summary.prompt_tokens,
                                  completion_tokens=summary.completion_tokens or None,
                                  cached_tokens=summary.cached_tokens)
        return self.store.message(self.message_id)
