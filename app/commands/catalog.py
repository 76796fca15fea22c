"""``hearth catalog refresh [--endpoint URL] [--output FILE]``: re-read the model list's facts from the Hub.

For every model in the list (or those named with ``--only``) it asks the Hub for the
file's commit, size and sha256 and reads the GGUF header from the file's first bytes
(HTTP Range; a 5 GB model costs a few megabytes), through :mod:`wizard.catalog.refresh`.
It prints what changed per model and writes the list (atomically, keeping its leading
comments) to ``--output``, else back to the list it read (``--catalog``, else Hearth's
own ``recipes/catalog.toml``).

The mirror is ``--endpoint``, else the one in Settings; the token is ``HF_TOKEN``, else
the one saved in Settings. Exit codes: 0 every model refreshed; 1 an error, or some
models could not be refreshed (they keep their old facts, and the others are written).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "catalog", help="update Hearth's list of models from the Hub",
        description="Work with Hearth's list of models (recipes/catalog.toml).")
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    refresh = actions.add_parser(
        "refresh", help="re-read each model's size, checksum and header from the Hub",
        description="Ask the Hub (or a mirror) for each listed model file's size, sha256 and commit, "
        "read its header from the first bytes of the file, and write the updated list.")
    refresh.add_argument("--endpoint", default=None, metavar="URL",
                         help="a Hub mirror to ask (default: the mirror in Settings, else HF_ENDPOINT "
                              "or huggingface.co)")
    refresh.add_argument("--catalog", type=Path, default=None, metavar="FILE",
                         help="the list to refresh (default: Hearth's own)")
    refresh.add_argument("--output", type=Path, default=None, metavar="FILE",
                         help="where to write the refreshed list (default: over the list that was read)")
    refresh.add_argument("--only", action="append", default=None, metavar="ID",
                         help="refresh only this model (may be given more than once)")
    refresh.set_defaults(handler=run_refresh)


def run_refresh(args: argparse.Namespace) -> int:
    from wizard.catalog import CatalogError, default_catalog_path, load_catalog
    from wizard.catalog.refresh import refresh_catalog
    from wizard.catalog.write import write_catalog
    from wizard.secrets import hub_token
    from wizard.settings import download_endpoint

    source = args.catalog or default_catalog_path()
    catalog = load_catalog(source)
    only = set(args.only) if args.only else None
    if only is not None:
        unknown = sorted(only - set(catalog.ids()))
        if unknown:
            raise CatalogError("no model with this name is in the list.", entry_id=unknown[0], path=source)
    endpoint = download_endpoint(args.endpoint)

    def progress(entry_id: str, done: int, total: int) -> None:
        print(f"Reading {entry_id} ({done + 1} of {total})…", file=sys.stderr, flush=True)

    result = refresh_catalog(catalog, endpoint=endpoint, token=hub_token(), only=only, progress=progress)
    for refreshed in result.refreshed:
        entry = refreshed.entry
        print(f"{entry.id}: {'; '.join(refreshed.changes) if refreshed.changes else 'unchanged'} "
              f"(read {refreshed.bytes_fetched / 1e6:.1f} MB of a {entry.size_bytes / 1e9:.2f} GB file)")
    for failure in result.failed:
        print(f"Could not refresh {failure.entry_id}: {failure.user_message}", file=sys.stderr)
    total = len(result.refreshed) + len(result.failed)
    if not result.refreshed:
        print(f"Error: none of the {total} models could be refreshed, so the list was not changed.",
              file=sys.stderr)
        return 1
    output = args.output or source
    write_catalog(result.catalog, output, comments_from=source)
    print(f"Refreshed {len(result.refreshed)} of {total} models; wrote {output}.")
    return 1 if result.failed else 0
