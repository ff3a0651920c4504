"""A stand-in for an external LLM provider: a local OpenAI-compatible HTTP
server on a free loopback port that keeps the exact bytes of every request
it receives and answers with a chat completion the test chooses.

``statuses`` makes the first requests fail with the given HTTP statuses
(503 to exercise retries); ``redirect_to`` answers every request with a 307
to another address, as a provider that tries to forward the body would.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeProvider:
    def __init__(
        self,
        answer: str = "Assessment: the finding stands.",
        *,
        statuses: list[int] | None = None,
        redirect_to: str | None = None,
        prompt_tokens: int = 120,
        completion_tokens: int = 30,
    ) -> None:
        self.answer = answer
        self.statuses = list(statuses or [])
        self.redirect_to = redirect_to
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens
        self.requests: list[bytes] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        port: int = self.server.server_address[1]
        return port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> FakeProvider:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def received(self) -> list[bytes]:
        with self._lock:
            return list(self.requests)

    def completion(self) -> dict[str, Any]:
        return {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 0,
            "model": "frontier-large",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": self.answer},
                }
            ],
            "usage": {
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "total_tokens": self.prompt_tokens + self.completion_tokens,
            },
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                with provider._lock:
                    provider.requests.append(raw)
                    provider.headers.append(dict(self.headers))
                    status = provider.statuses.pop(0) if provider.statuses else 200
                if provider.redirect_to:
                    self.send_response(307)
                    self.send_header("Location", provider.redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                content = (
                    json.dumps(provider.completion()).encode()
                    if status == 200
                    else b'{"error": {"message": "busy"}}'
                )
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

        return Handler
