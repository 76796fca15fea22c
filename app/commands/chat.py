"""``hearth chat [--profile P | --model FILE.gguf] [MESSAGE]``: talk to a model from the terminal.

``--profile P`` uses an assistant set up on this computer (``hearth profile list``): its model,
the way setup chose to load it, its persona, its sampling settings, its tools (its document
folders are brought up to date in its search index first; Ctrl+C skips that) and what its recipe
lets it remember. Before the write_file tool saves anything, the person is asked in the terminal;
when standard input is not a terminal nobody can be asked, so nothing is saved. ``--model`` runs a
bare model file with Hearth's default persona, no tools, and memory on. With neither, the assistant used last (or the only
one) is used; with no assistant set up, the command says to add ``--model``.

With a MESSAGE: prints the reply on standard output as it arrives, then exits (one-shot).
Without: a conversation: type a message and press Enter; Ctrl+C stops a reply (not the
program), Ctrl+D (or typing /exit) ends. When standard input is not a terminal, each line read
is one message. Everything is saved in Hearth's conversation database, like the window's chats;
``--conversation ID`` continues an earlier one. Notices (older messages left out, something
remembered, tools used) and errors go to standard error, so standard output holds only the
conversation. If the model's process dies mid-answer, the command says so, starts it again and
the conversation goes on (what was written is saved).

Exit codes: 0 done, 1 error (plain message on standard error), 130 stopped with Ctrl+C.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from wizard.errors import HearthError, HearthValueError

DEFAULT_CONTEXT = 2048
EXIT_WORDS = ("/exit", "/quit")
PREVIEW_LINES = 12


class NoModelChosenError(HearthValueError):
    """The command was not told which model file to use."""

    default_hint = ("Add --model followed by the path of a .gguf model file, for example: --model ~/model.gguf "
                    "(or set up an assistant first and use --profile).")


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--profile", metavar="P",
                       help="the assistant to use (see `hearth profile list`; default: the one used last)")
    which.add_argument("--model", type=Path, metavar="FILE.gguf", help="the model file to run")
    parser.add_argument("--context", type=int, default=None, metavar="TOKENS",
                        help=f"how many tokens the model reads at once (default: the assistant's setting, "
                             f"or {DEFAULT_CONTEXT} with --model)")


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


def chosen_profile(args: argparse.Namespace):  # -> Profile | None
    """The profile named by ``--profile``; without it and without ``--model``, the default one.

    Raises: ProfileNotFoundError, ProfileDamagedError, NoModelChosenError (nothing to run).
    """
    from wizard.profiles import default_profile, load_profile

    if args.model is not None:
        return None
    if args.profile is not None:
        return load_profile(args.profile)
    profile = default_profile()
    if profile is None:
        raise NoModelChosenError("Hearth needs to know which model to use.")
    return profile


def start_engine(args: argparse.Namespace, profile=None, **engine_options: object):  # -> LocalEngine
    """Start the local engine for ``profile`` (or ``--model``), with ``--context``; tells the person on stderr.

    Raises: NoModelChosenError, HearthValueError (bad --context), ProfileModelMissingError, the
    errors of LocalEngine.start.
    """
    import psutil

    from wizard.engine import LoadPlan, LocalEngine

    if args.context is not None and not 256 <= args.context <= 1_048_576:
        raise HearthValueError("The context size must be between 256 and 1048576 tokens.",
                               hint="Leave --context out to use the default.", details=f"--context {args.context}")
    if profile is not None:
        from wizard.profiles import engine_for

        engine = engine_for(profile, n_ctx=args.context)  # settings applied: model, remote server, local API
        if engine_options:  # `hearth serve` runs the model itself, on the port it was given
            if not isinstance(engine, LocalEngine):
                raise HearthValueError(f"{profile.name} uses an AI server on another computer, so there is "
                                       "no model here to serve.",
                                       hint="Give a model file with --model, or switch the engine back to "
                                            "this computer in Settings.")
            engine = LocalEngine(engine.model_path, engine.plan, **engine_options)
        where = engine.model_path.name if engine.model_path else "another computer"
        print(f"Loading {profile.name} ({profile.model_name or where})…", file=sys.stderr, flush=True)
    else:
        if args.model is None:
            raise NoModelChosenError("Hearth needs to know which model to use.")
        threads = max(1, psutil.cpu_count(logical=False) or psutil.cpu_count() or 2)
        plan = LoadPlan(n_ctx=args.context or DEFAULT_CONTEXT, n_threads=threads)
        engine = LocalEngine(args.model.expanduser(), plan, **engine_options)
        print(f"Loading {args.model.name}…", file=sys.stderr, flush=True)
    engine.start()
    return engine


def remember_used(profile) -> None:
    """Make ``profile`` the default next time; a failure to note it only goes to the log."""
    import logging

    from wizard.profiles import mark_used

    try:
        mark_used(profile)
    except HearthError as exc:
        logging.getLogger(__name__).warning("could not remember the profile used: %s", exc.details)


@contextlib.contextmanager
def ctrl_c_stops(cancel: threading.Event) -> Iterator[None]:
    """While inside, Ctrl+C sets ``cancel`` (stopping the reply) instead of stopping the program."""
    previous = signal.signal(signal.SIGINT, lambda signum, frame: cancel.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run(args: argparse.Namespace) -> int:
    from wizard.agent import ChatSession, ConversationStore, MemoryPolicy, counter_for
    from wizard.agent.chat import DEFAULT_SYSTEM_PROMPT
    from wizard.engine import GenerationParams

    if args.temperature is not None and not 0 <= args.temperature <= 2:
        raise HearthValueError("The temperature must be between 0 and 2.", details=f"--temperature {args.temperature}")
    profile = chosen_profile(args)
    system_prompt, params, memory, tools = DEFAULT_SYSTEM_PROMPT, GenerationParams(), MemoryPolicy(), {}
    if profile is not None:
        from wizard.agent.tools.for_profile import tools_for_profile
        from wizard.profiles import chat_settings

        system_prompt, params = chat_settings(profile)
        memory = MemoryPolicy.from_recipe(profile.recipe.memory)
        tools = tools_for_profile(profile, confirm=terminal_confirm)  # before loading: a bad tool fails fast
    if args.temperature is not None:
        params = dataclasses.replace(params, temperature=args.temperature)
    store = ConversationStore()
    try:
        conversation_id = None
        if args.conversation is not None:
            conversation_id = store.get(args.conversation).id
        if "documents_search" in tools:
            update_documents(profile)
        engine = start_engine(args, profile)
        if profile is not None:
            remember_used(profile)
        try:
            session = ChatSession(store, engine, counter=counter_for(engine.model_path),
                                  n_ctx=int(engine.ready_info.get("n_ctx") or engine.plan.n_ctx),
                                  model=(profile.model_name if profile and profile.model_name
                                         else engine.model_path.stem if engine.model_path
                                         else getattr(engine, "model_name", None) or "remote"),
                                  profile=profile.id if profile else "", conversation_id=conversation_id,
                                  system_prompt=system_prompt, params=params, tools=tools or None,
                                  memory=memory)
            if args.message:
                return _one_shot(session, " ".join(args.message))
            return _conversation(session, engine)
        finally:
            engine.stop()
    finally:
        store.close()


def terminal_confirm(path: Path, preview: str) -> bool:
    """Ask in the terminal before the write_file tool saves ``path``; without a terminal, refuse."""
    if not sys.stdin.isatty():
        print(f"(Not saved: {path}. Hearth asks before saving a file, and only an interactive terminal "
              "can be asked.)", file=sys.stderr, flush=True)
        return False
    shown = "\n".join("    " + line for line in preview.splitlines()[:PREVIEW_LINES])
    print(f"\nThe assistant wants to save this in {path}:\n{shown}", file=sys.stderr, flush=True)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl+C here means "no"
    try:
        print("Save it? Type y and Enter to save, Enter alone not to: ", end="", file=sys.stderr, flush=True)
        answer = input()  # no prompt argument: that would go to standard output, the conversation's
    except (EOFError, KeyboardInterrupt):
        answer = ""
    finally:
        signal.signal(signal.SIGINT, previous)
    allowed = answer.strip().lower() in ("y", "yes")
    if not allowed:
        print("(Not saved.)", file=sys.stderr, flush=True)
    return allowed


def update_documents(profile) -> None:
    """Bring the profile's search index up to date with its document folders (only changed files
    are read); progress on stderr, Ctrl+C skips it and the chat goes on with the index as it was."""
    from wizard.agent.documents.index import DocumentIndex
    from wizard.agent.tools.for_profile import DOCUMENT_INDEX_FILE

    folders = [Path(folder.path) for folder in profile.recipe.document_folders]
    if not folders:
        return
    cancel = threading.Event()

    def progress(step) -> None:
        if step.total:
            print(f"\rReading your documents… {step.done} of {step.total}", end="", file=sys.stderr, flush=True)

    with ctrl_c_stops(cancel):
        report = DocumentIndex(profile.folder / DOCUMENT_INDEX_FILE).update(folders, progress=progress, cancel=cancel)
    if report.cancelled:
        print("\nStopped reading your documents; searching uses what was read before.", file=sys.stderr)
    elif report.added or report.updated or report.removed:
        print(f"\rYour documents are ready to search ({len(report.added)} new, {len(report.updated)} changed, "
              f"{len(report.removed)} gone).", file=sys.stderr, flush=True)
    elif report.unchanged:
        print(file=sys.stderr, flush=True)


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
            answered = True  # what it wrote before it stopped is in the conversation
            print(f"\n{exc.user_message} What it wrote so far is saved.\nRestarting the AI…",
                  file=sys.stderr, flush=True)
            engine.restart()
            print("The AI is running again. Send your next message (or the same one again).",
                  file=sys.stderr, flush=True)
        except HearthError as exc:  # e.g. a message too long: the conversation goes on
            print(exc.for_terminal(), file=sys.stderr, flush=True)
    if answered and session.conversation_id is not None and session.memory.summaries:
        cancel = threading.Event()
        print("Saving a short summary of this conversation to memory…", file=sys.stderr, flush=True)
        with ctrl_c_stops(cancel):
            try:
                summarize_conversation(session.store, session.conversation_id, engine, cancel=cancel)
            except HearthError as exc:
                print(f"The summary could not be written: {exc.user_message}", file=sys.stderr)
    return 0
