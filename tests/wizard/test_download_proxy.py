"""A download goes through the system proxy (HTTP_PROXY), as on a company or school network.

The proxy is a small real HTTP proxy written here, on 127.0.0.1, forwarding absolute-URI
requests to the local Hub mirror. tests/conftest.py clears the proxy variables and lists
127.0.0.1 in NO_PROXY; this test sets its own.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import huggingface_hub
import pytest

from tests.support import tiny_model as tiny
from tests.support.hub_mirror import HubMirror
from wizard.download import RetryPolicy, download_from_hub

REPO, FILE = "acme/tiny-GGUF", "tiny.Q4_1.gguf"
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer",
              "transfer-encoding", "upgrade"}


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib name)
        pass

    def do_HEAD(self) -> None:  # noqa: N802
        self._forward()

    def do_GET(self) -> None:  # noqa: N802
        self._forward()

    def do_POST(self) -> None:  # noqa: N802
        self._forward()

    def _forward(self) -> None:
        self.server.seen.append((self.command, self.path))  # type: ignore[attr-defined]
        target = urlsplit(self.path)
        if target.scheme != "http" or not target.hostname:  # not a proxy request
            self.send_error(400, "absolute URI expected")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        upstream = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=30)
        try:
            upstream.request(self.command, target.path + (f"?{target.query}" if target.query else ""),
                             body=body, headers=headers)
            answer = upstream.getresponse()
            self.send_response(answer.status, answer.reason)
            for name, value in answer.getheaders():
                if name.lower() not in HOP_BY_HOP:
                    self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                while block := answer.read(64 * 1024):
                    self.wfile.write(block)
        finally:
            upstream.close()


@pytest.fixture
def proxy() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ProxyHandler)
    server.daemon_threads = True
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def fresh_session() -> Iterator[None]:
    """huggingface_hub's HTTP client reads the proxy variables when it is made: make it anew."""
    huggingface_hub.close_session()
    yield
    huggingface_hub.close_session()  # later tests must not go through this test's proxy


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy"])
def test_a_download_goes_through_the_proxy_set_in_the_environment(
        hub_mirror: HubMirror, tiny_model: Path, proxy: ThreadingHTTPServer, fresh_session: None,
        monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    hub_mirror.add_repo(REPO, {FILE: tiny_model})
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    host, port = proxy.server_address[:2]
    monkeypatch.setenv(variable, f"http://{host}:{port}")

    assert huggingface_hub.get_session().trust_env
    result = download_from_hub(REPO, FILE, endpoint=hub_mirror.url, policy=RetryPolicy(backoff=0.05))

    assert tiny.sha256_of(result.path) == tiny.SHA256
    seen = proxy.seen  # type: ignore[attr-defined]
    assert [method for method, _ in seen] == ["HEAD", "POST", "GET"]
    assert all(url.startswith(f"{hub_mirror.url}/") for _, url in seen)  # absolute URIs: proxy requests
    assert len(hub_mirror.requests) == len(seen)  # nothing went to the mirror around the proxy
    assert hub_mirror.bytes_served_by_path[FILE] == tiny.SIZE


def test_no_proxy_still_lets_a_listed_host_be_reached_directly(
        hub_mirror: HubMirror, tiny_model: Path, proxy: ThreadingHTTPServer, fresh_session: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    hub_mirror.add_repo(REPO, {FILE: tiny_model})
    host, port = proxy.server_address[:2]
    monkeypatch.setenv("HTTP_PROXY", f"http://{host}:{port}")  # NO_PROXY (conftest) lists 127.0.0.1

    result = download_from_hub(REPO, FILE, endpoint=hub_mirror.url, policy=RetryPolicy(backoff=0.05))
    assert tiny.sha256_of(result.path) == tiny.SHA256
    assert proxy.seen == []  # type: ignore[attr-defined]
