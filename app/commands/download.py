"""``hearth download REPO FILE``: fetch one model file from the Hub or a mirror.

Exit codes: 0 downloaded and verified; 1 an error (printed as a plain sentence);
130 interrupted (Ctrl-C or SIGTERM) — the part already downloaded is kept and running
the same command again continues from there.

The mirror is ``--endpoint``, else the one in Settings; the access token for gated models
is ``HF_TOKEN``, else the one saved in Settings (the keyring); see
:func:`wizard.secrets.hub_token`. Neither the token nor anything derived from it is written.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

EXIT_INTERRUPTED = 130


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "download", help="download a model file (resumes if interrupted)",
        description="Download one model file, check it, and put it in Hearth's models folder. "
        "If the download is interrupted, run the same command again to continue.")
    parser.add_argument("repo", metavar="REPO", help="the model on the Hub, e.g. HuggingFaceTB/SmolLM2-135M-Instruct-GGUF")
    parser.add_argument("file", metavar="FILE", help="the file in it, e.g. model-q4_k_m.gguf")
    parser.add_argument("--revision", default="main", help="branch, tag or commit (default: main)")
    parser.add_argument("--endpoint", default=None, metavar="URL",
                        help="a Hub mirror to download from (default: the mirror in Settings, "
                             "else HF_ENDPOINT or huggingface.co)")
    parser.add_argument("--dest", type=Path, default=None, metavar="DIR",
                        help="models folder to use instead of Hearth's own")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from app.commands.progress_bar import TerminalProgressBar, human_bytes
    from wizard.download import DownloadCancelled, download_from_hub
    from wizard.secrets import hub_token
    from wizard.settings import download_endpoint

    args.endpoint = download_endpoint(args.endpoint)
    cancel = threading.Event()
    bar = TerminalProgressBar()

    def stop(signum: int, frame: object) -> None:
        cancel.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():  # signal() works only there
        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        result = download_from_hub(args.repo, args.file, revision=args.revision, endpoint=args.endpoint,
                                   token=hub_token(), models_dir=args.dest,
                                   progress=bar, cancel=cancel)
    except DownloadCancelled:
        bar.finish()
        print("Stopped. What was downloaded so far is kept; run the same command again to continue.",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except BaseException:
        bar.finish()
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print(f"Saved {result.path} ({human_bytes(result.size)}, sha256 {result.digest}).")
    _register(result, args)
    return 0


def _register(result: object, args: argparse.Namespace) -> None:
    """Add the model to the installed-models list; a failure there does not undo the download."""
    from wizard.errors import HearthError
    from wizard.models import register_download

    try:
        register_download(result, revision=args.revision, endpoint=args.endpoint)
    except HearthError as exc:
        logging.getLogger(__name__).warning("download not registered: %s", exc.details or exc)
        print(f"Warning: {exc.user_message} The model file itself is saved.", file=sys.stderr)
