"""A real HTTP server on 127.0.0.1 that plays the Hugging Face Hub for tests.

It speaks the part of the Hub's protocol that downloads use, closely enough for
``huggingface_hub`` itself to work against it (``HF_ENDPOINT`` or ``endpoint=``):

- ``GET  /api/models/{repo}`` and ``/api/models/{repo}/revision/{rev}``: model info
- ``GET  /api/models/{repo}/tree/{rev}[/{folder}]``: the file list
- ``POST /api/models/{repo}/paths-info/{rev}``: details of named paths
- ``HEAD``/``GET /{repo}/resolve/{rev}/{path}``: the file, with ``X-Repo-Commit``,
  ``ETag`` (the sha256 for LFS files), ``X-Linked-Size``; ``Range`` gives 206
- errors carry ``X-Error-Code``: RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo

Switches simulate a bad network: a dropped connection at byte N, a corrupted byte, a
slow link, a stall, a forced status (401, 404, 500 …), a connection closed before any
answer, a server that ignores Range requests. It counts every file byte it hands to
the socket, so a test can prove a resumed download fetched only what was missing.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import sys
import threading
import time
from collections import Counter
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from tests.support.hub_mirror_files import (
    CHUNK,
    LFS_THRESHOLD,
    MirrorFile,
    MirrorRepo,
    NetworkTrouble,
    git_blob_sha1,
    hash_file,
)


class HubMirror:
    """The server. Use as a context manager or call ``start()``/``stop()``."""

    def __init__(self) -> None:
        self.repos: dict[str, MirrorRepo] = {}
        self.trouble = NetworkTrouble()
        self.bytes_served = 0
        self.bytes_served_by_path: Counter[str] = Counter()
        self.requests: list[dict[str, str | None]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle -------------------------------------------------------------------
    def start(self) -> HubMirror:
        server = _QuietServer(("127.0.0.1", 0), _HubHandler)
        server.daemon_threads = True
        server.mirror = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="hub-mirror", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> HubMirror:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "the mirror is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # ---- content ---------------------------------------------------------------------
    def add_repo(
        self,
        repo_id: str,
        files: dict[str, bytes | Path],
        *,
        gated: bool = False,
        token: str | None = None,
        branch: str = "main",
    ) -> MirrorRepo:
        """Serve ``files`` (path in repo -> bytes or a local file) as ``repo_id``."""
        entries: dict[str, MirrorFile] = {}
        commit = hashlib.sha1(repo_id.encode())
        for path, content in sorted(files.items()):
            if isinstance(content, Path):
                sha256, size = hash_file(content)
                entry = MirrorFile(path, size, sha256, lfs=True, source=content)
            else:
                sha256, size = hashlib.sha256(content).hexdigest(), len(content)
                lfs = size >= LFS_THRESHOLD or path.endswith(".gguf")
                entry = MirrorFile(path, size, sha256, lfs=lfs, data=content)
            entries[path] = entry
            commit.update(f"{path}:{sha256}".encode())
        repo = MirrorRepo(repo_id, entries, commit.hexdigest(), gated=gated, token=token)
        repo.branches[branch] = repo.sha
        self.repos[repo_id] = repo
        return repo

    def url_of(self, repo_id: str, path: str, revision: str = "main") -> str:
        return f"{self.url}/{repo_id}/resolve/{revision}/{path}"

    def reset_counters(self) -> None:
        with self._lock:
            self.bytes_served = 0
            self.bytes_served_by_path.clear()
            self.requests.clear()

    def _count(self, path: str, sent: int) -> None:
        with self._lock:
            self.bytes_served += sent
            self.bytes_served_by_path[path] += sent

    def _take_forced_status(self, method: str) -> int | None:
        with self._lock:
            trouble = self.trouble
            if trouble.force_status is None or trouble.force_status_method not in (None, method):
                return None
            status = trouble.force_status
            if trouble.force_status_times is not None:
                trouble.force_status_times -= 1
                if trouble.force_status_times <= 0:
                    trouble.force_status, trouble.force_status_times = None, None
                    trouble.force_status_method = None
            return status

    def _take_hang_up(self) -> bool:
        with self._lock:
            if self.trouble.hang_up_times <= 0:
                return False
            self.trouble.hang_up_times -= 1
            return True

    def _take_drop(self, start: int, end: int) -> int | None:
        """The offset where this response must be cut, if one falls inside it."""
        with self._lock:
            trouble = self.trouble
            if trouble.drop_at is None or not start <= trouble.drop_at < end:
                return None
            drop_at = trouble.drop_at
            trouble.drop_times -= 1
            if trouble.drop_times <= 0:
                trouble.drop_at = None
                trouble.drop_times = 1
            return drop_at


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client that dies mid-transfer (a test's SIGKILL) is expected: no traceback on stderr."""
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


_RESOLVE = re.compile(r"^/(?:models/)?(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)$")
_API = re.compile(
    r"^/api/models/(?P<repo>[^/]+/[^/]+)"
    r"(?:/(?P<kind>revision|tree|paths-info)/(?P<rev>[^/]+)(?:/(?P<path>.*))?)?$"
)
_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


class _HubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "HubMirror/1.0"
    # TCP_NODELAY, as the Hub's servers (and nginx's default) have: without it each small
    # answer written as headers + body waited ~40 ms for the client's delayed ACK.
    disable_nagle_algorithm = True

    @property
    def mirror(self) -> HubMirror:
        return self.server.mirror  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib name)
        pass  # tests read mirror.requests instead of stderr noise

    # ---- dispatch ----------------------------------------------------------------------
    def do_HEAD(self) -> None:  # noqa: N802
        self._dispatch(send_body=False)

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch(send_body=True)

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch(send_body=True)

    def _dispatch(self, *, send_body: bool) -> None:
        url = urlsplit(self.path)
        path = unquote(url.path)
        with self.mirror._lock:
            self.mirror.requests.append(
                {"method": self.command, "path": path, "range": self.headers.get("Range"),
                 "authorization": self.headers.get("Authorization")}
            )
        body = self._read_request_body()
        if self.mirror._take_hang_up():
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        forced = self.mirror._take_forced_status(self.command)
        if forced is not None:
            self._error(forced, None, f"Forced status {forced}", send_body)
            return
        if match := _RESOLVE.match(path):
            self._resolve(match["repo"], match["rev"], match["path"], send_body)
        elif match := _API.match(path):
            self._api(match["repo"], match["kind"], match["rev"], match["path"] or "",
                      parse_qs(url.query), body)
        else:
            self._error(404, None, "Not found", send_body)

    def _read_request_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    # ---- responses ---------------------------------------------------------------------
    def _json(self, payload: object, *, status: int = 200, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, code: str | None, message: str, send_body: bool = True) -> None:
        data = json.dumps({"error": message}).encode() if send_body else b""
        self.send_response(status)
        if code:
            self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", message)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)

    def _find_repo(self, repo_id: str, send_body: bool = True) -> MirrorRepo | None:
        repo = self.mirror.repos.get(repo_id)
        if repo is None:
            self._error(404, "RepoNotFound", "Repository not found", send_body)
            return None
        if repo.gated and self.headers.get("Authorization") != f"Bearer {repo.token}":
            self._error(
                401, "GatedRepo",
                f"Access to model {repo_id} is restricted. You must have access to it and be authenticated to access it.",
                send_body,
            )
            return None
        return repo

    def _find_revision(self, repo: MirrorRepo, revision: str, send_body: bool = True) -> str | None:
        commit = repo.resolve_revision(unquote(revision))
        if commit is None:
            self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}", send_body)
        return commit

    # ---- /api/models ---------------------------------------------------------------
    def _api(self, repo_id: str, kind: str | None, revision: str | None, sub: str,
             query: dict[str, list[str]], body: bytes) -> None:
        repo = self._find_repo(repo_id)
        if repo is None:
            return
        commit = self._find_revision(repo, revision or "main")
        if commit is None:
            return
        if kind in (None, "revision"):
            self._json(self._model_info(repo, commit))
        elif kind == "tree":
            recursive = query.get("recursive", ["false"])[0].lower() in ("1", "true")
            self._json(self._tree(repo, sub.strip("/"), recursive))
        else:  # paths-info
            wanted = parse_qs(body.decode()).get("paths", [])
            if not wanted and body.startswith(b"{"):
                wanted = json.loads(body).get("paths", [])
            items = [self._tree_item(repo.files[p]) for p in wanted if p in repo.files]
            self._json(items)

    @staticmethod
    def _model_info(repo: MirrorRepo, commit: str) -> dict[str, object]:
        siblings = []
        for entry in repo.files.values():
            sibling: dict[str, object] = {"rfilename": entry.path, "size": entry.size,
                                          "blobId": entry.git_oid}
            if entry.lfs:
                sibling["lfs"] = {"size": entry.size, "sha256": entry.sha256,
                                  "pointerSize": len(entry.lfs_pointer)}
            siblings.append(sibling)
        return {
            "_id": commit[:24], "id": repo.repo_id, "modelId": repo.repo_id, "sha": commit,
            "private": False, "gated": "auto" if repo.gated else False, "disabled": False,
            "downloads": 0, "likes": 0, "tags": ["gguf"], "library_name": "gguf",
            "lastModified": "2026-01-01T00:00:00.000Z", "createdAt": "2026-01-01T00:00:00.000Z",
            "siblings": siblings,
        }

    @staticmethod
    def _tree_item(entry: MirrorFile) -> dict[str, object]:
        item: dict[str, object] = {"type": "file", "oid": entry.git_oid, "size": entry.size,
                                   "path": entry.path}
        if entry.lfs:
            item["lfs"] = {"oid": entry.sha256, "size": entry.size,
                           "pointerSize": len(entry.lfs_pointer)}
        return item

    def _tree(self, repo: MirrorRepo, folder: str, recursive: bool) -> list[dict[str, object]]:
        prefix = f"{folder}/" if folder else ""
        items: list[dict[str, object]] = []
        folders: set[str] = set()
        for path, entry in repo.files.items():
            if not path.startswith(prefix):
                continue
            rest = path[len(prefix):]
            parts = rest.split("/")
            for depth in range(1, len(parts)):
                if depth > 1 and not recursive:
                    break
                folders.add(prefix + "/".join(parts[:depth]))
            if recursive or len(parts) == 1:
                items.append(self._tree_item(entry))
        dirs = [{"type": "directory", "oid": git_blob_sha1(d.encode()), "size": 0, "path": d}
                for d in sorted(folders)]
        return dirs + items

    # ---- /resolve ------------------------------------------------------------------
    def _resolve(self, repo_id: str, revision: str, path: str, send_body: bool) -> None:
        repo = self._find_repo(repo_id, send_body)
        if repo is None:
            return
        commit = self._find_revision(repo, revision, send_body)
        if commit is None:
            return
        entry = repo.files.get(path)
        if entry is None:
            self._error(404, "EntryNotFound", f"{path} does not exist on \"{revision}\"", send_body)
            return

        start, end = 0, entry.size  # end is exclusive
        status = HTTPStatus.OK
        header = None if self.mirror.trouble.ignore_range else self.headers.get("Range")
        if header and (match := _RANGE.match(header.strip())):
            start = int(match[1])
            end = min(entry.size, int(match[2]) + 1) if match[2] else entry.size
            if start >= entry.size:
                self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                self.send_header("Content-Range", f"bytes */{entry.size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = HTTPStatus.PARTIAL_CONTENT

        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(end - start))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", f'"{entry.etag}"')
        self.send_header("X-Repo-Commit", commit)
        if entry.lfs:
            self.send_header("X-Linked-Etag", f'"{entry.sha256}"')
            self.send_header("X-Linked-Size", str(entry.size))
        if status == HTTPStatus.PARTIAL_CONTENT:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{entry.size}")
        self.end_headers()
        if send_body and self.command == "GET":
            self._stream(entry, start, end)

    def _stream(self, entry: MirrorFile, start: int, end: int) -> None:
        mirror, trouble = self.mirror, self.mirror.trouble
        drop_at = mirror._take_drop(start, end)
        stop = drop_at if drop_at is not None else end
        stall_at = trouble.stall_at
        if stall_at is not None and not start <= stall_at < stop:
            stall_at = None
        began = time.monotonic()
        position = start
        try:
            while position < stop:
                if stall_at is not None and position == stall_at:
                    self.wfile.flush()
                    time.sleep(trouble.stall_seconds)
                    began += trouble.stall_seconds
                    stall_at = None
                limit = stall_at if stall_at is not None else stop
                size = CHUNK
                if trouble.bytes_per_second:  # small steps, each sent no sooner than the rate allows
                    size = max(1, min(CHUNK, int(trouble.bytes_per_second / 20)))
                    size = min(size, limit - position)
                    due = (position + size - start) / trouble.bytes_per_second
                    if (wait := due - (time.monotonic() - began)) > 0:
                        time.sleep(wait)
                chunk = bytearray(entry.read(position, min(size, limit - position)))
                if trouble.corrupt_at is not None and position <= trouble.corrupt_at < position + len(chunk):
                    chunk[trouble.corrupt_at - position] ^= 0xFF
                # Counted before it is written: once the client has the bytes, a test may look at
                # the count (counted after, the client sometimes got there first). A write that
                # fails (the client is gone) is taken off again.
                mirror._count(entry.path, len(chunk))
                try:
                    self.wfile.write(chunk)
                except OSError:
                    mirror._count(entry.path, -len(chunk))
                    raise
                position += len(chunk)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            return
        if drop_at is not None:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
