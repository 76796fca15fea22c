"""``hearth chat --model FILE.gguf [MESSAGE]``: talk to a model from the terminal.

With a MESSAGE: prints the reply on standard output as it arrives, then exits (one-shot).
Without: a conversation: type a message and press Enter; Ctrl+C stops a reply (not the
program), Ctrl+D (or typing /exit) ends. When standard input is not a terminal, each line read
is one message. Everything is saved in Hearth's conversation database, like the window's chats;
``--conversation ID`` continues an earlier one. Notices (older messages left out, something
remembered) and errors go to standard error, so standard output holds only the conversation.

Exit codes: 0 done, 1 error (plain message on standard error), 130 stopped with Ctrl+C.
``--profile`` is not offered yet: profiles do not exist yet.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from wizard.errors import HearthError, HearthValueError

DEFAULT_CONTEXT = 2048
EXIT_WORDS = ("/exit", "/quit")


class NoModelChosenError(HearthValueError):
    """The command was not told which model file to use."""

    default_hint = "Add --model followed by the path of a .gguf model file, for example: --model ~/model.gguf"


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", type=Path, metavar="FILE.gguf", help="the model file to run")
    parser.add_argument("--context", type=int, default=DEFAULT_CONTEXT, metavar="TOKENS",
                        help=f"how many tokens the model reads at once (default {DEFAULT_CONTEXT})")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "chat", help="chat with a model in the terminal",
        description="Chat with an AI model in the terminal. Give a message to get one answer, or "
        "none to have a conversation (Ctrl+C stops an answer, Ctrl+D ends). Conversations are saved.")
    add_engine_arguments(parser)
    parser.add_argument("--conversation", type=int, metavar="ID", help="continue the conversation with this number")
    parser.add_argument("--temperature", type=float, default=None, metavar="T",
                        help="how adventurous the wording is: 0 gives the same answer every time (default 0.7)")
    parser.add_argument("message", nargs="*", metavar="MESSAGE", help="the message to send (one answer, then exit)")
    parser.set_defaults(handler=run)


def start_engine(args: argparse.Namespace, **engine_options: object):  # -> LocalEngine
    """Start the local engine for ``--model`` with ``--context``; tells the person on stderr.

    Raises: NoModelChosenError, HearthValueError (bad --context), the errors of LocalEngine.start.
    """
    import psutil

    from wizard.engine import LoadPlan, LocalEngine

    if args.model is None:
        raise NoModelChosenError("Hearth needs to know which model to use.")
    if not 256 <= args.context <= 1_048_576:
        raise HearthValueError("The context size must be between 256 and 1048576 tokens.",
                               hint="Leave --context out to use the default.", details=f"--context {args.context}")
    threads = max(1, psutil.cpu_count(logical=False) or psutil.cpu_count() or 2)
    engine = LocalEngine(args.model.expanduser(), LoadPlan(n_ctx=args.context, n_threads=threads), **engine_options)
    print(f"Loading {args.model.name}…", file=sys.stderr, flush=True)
    engine.start()
    return engine


@contextlib.contextmanager
def ctrl_c_stops(cancel: threading.Event) -> Iterator[None]:
    """While inside, Ctrl+C sets ``cancel`` (stopping the reply) instead of stopping the program."""
    previous = signal.signal(signal.SIGINT, lambda signum, frame: cancel.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run(args: argparse.Namespace) -> int:
    from wizard.agent import ChatSession, ConversationStore, counter_for
    from wizard.engine import GenerationParams

    if args.temperature is not None and not 0 <= args.temperature <= 2:
        raise HearthValueError("The temperature must be between 0 and 2.", details=f"--temperature {args.temperature}")
    params = GenerationParams() if args.temperature is None else GenerationParams(temperature=args.temperature)
    store = ConversationStore()
    try:
        conversation_id = None
        if args.conversation is not None:
            conversation_id = store.get(args.conversation).id
        engine = start_engine(args)
        try:
            session = ChatSession(store, engine, counter=counter_for(engine.model_path),
                                  n_ctx=int(engine.ready_info.get("n_ctx") or args.context),
                                  model=engine.model_path.stem, conversation_id=conversation_id,
                                  params=params)
            if args.message:
                return _one_shot(session, " ".join(args.message))
            return _conversation(session, engine)
        finally:
            engine.stop()
    finally:
        store.close()


def _turn(session, text: str, *, prefix: str = "") -> bool:
    """One message and its streamed reply; returns False if Ctrl+C stopped the reply."""
    cancel = threading.Event()
    started = []

    def show(piece: str) -> None:
        if not started:
            started.append(True)
            sys.stdout.write(prefix)
        sys.stdout.write(piece)
        sys.stdout.flush()

    with ctrl_c_stops(cancel):
        result = session.send(text, on_text=show, cancel=cancel)
    sys.stdout.write("\n")
    sys.stdout.flush()
    for notice in result.notices:
        print(f"({notice.message})", file=sys.stderr, flush=True)
    if result.stopped:
        print("(Answer stopped. What was written so far is saved.)", file=sys.stderr, flush=True)
        return False
    return True


def _one_shot(session, text: str) -> int:
    return 0 if _turn(session, text) else 130


def _conversation(session, engine) -> int:
    from wizard.agent import summarize_conversation
    from wizard.engine import EngineCrashed

    interactive = sys.stdin.isatty()
    if interactive:
        print("Type a message and press Enter. Ctrl+C stops an answer; Ctrl+D ends.", file=sys.stderr)
    answered = False
    while True:
        try:
            text = input("You: ") if interactive else sys.stdin.readline()
        except EOFError:
            text = ""
        except KeyboardInterrupt:
            print("\nStopped.", file=sys.stderr)
            return 130
        if not text:  # Ctrl+D / end of input
            if interactive:
                print(file=sys.stderr)
            break
        text = text.strip()
        if not text:
            continue
        if text.lower() in EXIT_WORDS:
            break
        try:
            answered |= _turn(session, text, prefix="AI: " if interactive else "")
        except EngineCrashed as exc:
            print(f"\n{exc.for_terminal()}\nRestarting the AI…", file=sys.stderr, flush=True)
            engine.restart()
        except HearthError as exc:  # e.g. a message too long: the conversation goes on
            print(exc.for_terminal(), file=sys.stderr, flush=True)
    if answered and session.conversation_id is not None:
        cancel = threading.Event()
        print("Saving a short summary of this conversation to memory…", file=sys.stderr, flush=True)
        with ctrl_c_stops(cancel):
            try:
                summarize_conversation(session.store, session.conversation_id, engine, cancel=cancel)
            except HearthError as exc:
                print(f"The summary could not be written: {exc.user_message}", file=sys.stderr)
    return 0
