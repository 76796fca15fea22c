"""Fixtures for the engine tests: one real engine process per module, and raw HTTP."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from wizard.engine import LoadPlan, LocalEngine

PLAN = LoadPlan(n_ctx=2048, n_threads=2)
CAPITAL_QUESTION = [{"role": "user", "content": "Name the capital city of France."}]
LONG_REQUEST = [{"role": "user", "content": "Write a very long story about a dragon who learns to bake bread."}]


@pytest.fixture(scope="module")
def engine(tiny_model: Path) -> Iterator[LocalEngine]:
    """The real tiny model in a real engine child process, shared by one test module."""
    with LocalEngine(tiny_model, PLAN, busy_wait=0.5) as running:
        yield running


def raw_request(port: int, method: str, path: str, headers: dict[str, str],
                body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """Send exactly these headers (no Host added) and read the whole answer."""
    lines = [f"{method} {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: close")
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:  # a busy 2-core CI machine
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, payload = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    answer_headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        answer_headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), answer_headers, payload
