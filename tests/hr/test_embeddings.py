"""Embeddings from an OpenAI-compatible endpoint (a local HTTP server that
records its requests), and in-process from all-MiniLM-L6-v2."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from appliance.hr.embeddings import (
    EmbeddingsInvalid,
    EmbeddingsUnavailable,
    LocalEmbedder,
    RemoteEmbedder,
)
from tests.support.processes import free_port


class Endpoint:
    """Answers /v1/embeddings with vectors of ``dimensions`` numbers."""

    def __init__(self, dimensions: int = 384, status: int = 200) -> None:
        self.dimensions = dimensions
        self.status = status
        self.requests: list[dict[str, Any]] = []
        self.headers: list[str] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                endpoint.requests.append(body)
                endpoint.headers.append(self.headers.get("Authorization", ""))
                data = [
                    {"index": i, "embedding": [float(i + 1)] * endpoint.dimensions}
                    for i in range(len(body["input"]))
                ]
                content = json.dumps({"data": data}).encode()
                self.send_response(endpoint.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    server = Endpoint()
    yield server
    server.close()


def test_remote_vectors_are_normalized(endpoint):
    embedder = RemoteEmbedder(endpoint.url, "minilm", "secret-key", timeout=5)
    vectors = embedder.embed(["one", "two"])
    assert len(vectors) == 2
    assert len(vectors[0]) == 384
    assert sum(x * x for x in vectors[1]) == pytest.approx(1.0)
    assert endpoint.requests == [{"model": "minilm", "input": ["one", "two"]}]
    assert endpoint.headers == ["Bearer secret-key"]
    assert "secret-key" not in repr(embedder)


def test_remote_batches_long_input(endpoint):
    RemoteEmbedder(endpoint.url, "minilm", None, timeout=5).embed(["x"] * 70)
    assert [len(r["input"]) for r in endpoint.requests] == [32, 32, 6]


def test_remote_wrong_dimensions_rejected():
    server = Endpoint(dimensions=768)
    try:
        with pytest.raises(EmbeddingsInvalid):
            RemoteEmbedder(server.url, "other", None, timeout=5).embed(["x"])
    finally:
        server.close()


def test_remote_server_error_is_transient():
    server = Endpoint(status=503)
    try:
        with pytest.raises(EmbeddingsUnavailable):
            RemoteEmbedder(server.url, "minilm", None, timeout=5).embed(["x"])
    finally:
        server.close()


def test_remote_down_is_transient():
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(EmbeddingsUnavailable):
        RemoteEmbedder(url, "minilm", None, timeout=2).embed(["x"])


def test_local_model_loads_offline():
    embedder = LocalEmbedder()
    leave, vacation, printer = embedder.embed(
        ["annual leave days", "vacation time off", "printer toner cartridge"]
    )
    assert len(leave) == 384
    assert sum(x * x for x in leave) == pytest.approx(1.0, abs=1e-4)
    close = sum(a * b for a, b in zip(leave, vacation, strict=True))
    far = sum(a * b for a, b in zip(leave, printer, strict=True))
    assert close > far
