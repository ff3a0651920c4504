"""A local OpenAI-compatible HTTP server for tests: it records every request
body it receives and forwards it to a real engine (the llama.cpp server).

It stands in for what cannot run here. With ``translate_json_schema`` it
accepts vLLM's ``json_schema`` response format and passes it on in
llama.cpp's dialect, so a request built for vLLM is answered by the real
model. With ``delay`` it holds each request first, which gives a test time to
kill a worker in the middle of a model call. With ``rewrite`` it passes each
successful completion through a function first, which lets a test give the
caller an answer the model could have written but did not (junk, say).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx


class EngineProxy:
    def __init__(
        self,
        upstream: str | None,
        *,
        translate_json_schema: bool = False,
        delay: float = 0.0,
        rewrite: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        self.upstream = upstream.rstrip("/") if upstream else None
        self.translate_json_schema = translate_json_schema
        self.delay = delay
        self.rewrite = rewrite
        self.requests: list[bytes] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> EngineProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def bodies(self) -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(raw) for raw in self.requests]

    def _forward(self, path: str, raw: bytes) -> tuple[int, bytes]:
        if self.upstream is None:
            return 503, b'{"error": {"message": "no upstream"}}'
        body = raw
        if self.translate_json_schema and raw:
            data = json.loads(raw)
            response_format = data.get("response_format") or {}
            if response_format.get("type") == "json_schema":
                schema = response_format["json_schema"]["schema"]
                data["response_format"] = {"type": "json_object", "schema": schema}
                body = json.dumps(data).encode()
        url = self.upstream + path.removeprefix("/v1")
        try:
            if raw:
                response = httpx.post(
                    url,
                    content=body,
                    headers={"Content-Type": "application/json"},
                    timeout=120,
                )
            else:
                response = httpx.get(url, timeout=10)
        except httpx.HTTPError:
            return 502, b'{"error": {"message": "upstream unreachable"}}'
        if self.rewrite is not None and raw and response.status_code == 200:
            return 200, json.dumps(self.rewrite(response.json())).encode()
        return response.status_code, response.content

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                self._reply(*proxy._forward(self.path, b""))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                with proxy._lock:
                    proxy.requests.append(raw)
                if proxy.delay:
                    time.sleep(proxy.delay)
                self._reply(*proxy._forward(self.path, raw))

            def _reply(self, status: int, content: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

        return Handler
