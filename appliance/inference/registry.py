"""Which engine serves which workload.

By default one engine, configured by the ``APPLIANCE_ENGINE_*`` variables,
serves every workload. ``APPLIANCE_ENGINES_FILE`` may name a YAML file that
defines several engines and maps workloads to them, for example a vLLM server
with one LoRA adapter per workload (see deploy/engines.example.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

KINDS = ("llamacpp", "vllm", "openai")
DEFAULT_ENGINE = "default"


@dataclass(frozen=True)
class Engine:
    """An OpenAI-compatible endpoint and the model to ask for there."""

    name: str
    url: str
    model: str
    kind: str
    timeout: float
    max_tokens: int
    api_key: str | None = None
    model_version: str = ""

    def __repr__(self) -> str:  # keeps the API key out of logs and tracebacks
        return f"Engine({self.name!r}, {self.kind}, {self.url}, {self.model!r})"


def _engine(name: str, spec: dict[str, Any], defaults: dict[str, Any]) -> Engine:
    merged = {**defaults, **spec}
    kind = str(merged.get("kind", "")).lower()
    if kind not in KINDS:
        raise ImproperlyConfigured(
            f"Engine {name!r} has kind {kind!r}; use one of {', '.join(KINDS)}."
        )
    for key in ("url", "model"):
        if not merged.get(key):
            raise ImproperlyConfigured(f"Engine {name!r} needs a {key}.")
    api_key = merged.get("api_key")
    key_file = merged.get("api_key_file")
    if key_file:
        try:
            api_key = Path(key_file).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"Engine {name!r}: api_key_file {key_file!r} cannot be read "
                f"({exc.strerror}). Fix the path or the file's permissions."
            ) from None
    return Engine(
        name=name,
        url=str(merged["url"]).rstrip("/"),
        model=str(merged["model"]),
        kind=kind,
        timeout=float(merged.get("timeout", 120)),
        max_tokens=int(merged.get("max_tokens", 512)),
        api_key=api_key,
        model_version=str(merged.get("model_version", "")),
    )


@lru_cache(maxsize=1)
def _load() -> tuple[dict[str, Engine], dict[str, tuple[str, str | None]]]:
    defaults = dict(settings.ENGINE_DEFAULT)
    engines = {DEFAULT_ENGINE: _engine(DEFAULT_ENGINE, {}, defaults)}
    routes: dict[str, tuple[str, str | None]] = {}
    if settings.ENGINES_FILE:
        path = Path(settings.ENGINES_FILE)
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ImproperlyConfigured(
                f"APPLIANCE_ENGINES_FILE {path} cannot be read: {exc}"
            ) from None
        for name, spec in (data.get("engines") or {}).items():
            engines[name] = _engine(name, spec or {}, defaults)
        for workload, spec in (data.get("workloads") or {}).items():
            engine_name = spec.get("engine", DEFAULT_ENGINE)
            if engine_name not in engines:
                raise ImproperlyConfigured(
                    f"Workload {workload!r} in {path} names engine "
                    f"{engine_name!r}, which is not defined there."
                )
            routes[workload] = (engine_name, spec.get("model"))
    return engines, routes


def engine_for(workload: str) -> Engine:
    """The engine for ``workload``, with the workload's model (adapter) name."""
    engines, routes = _load()
    engine_name, model = routes.get(workload, (DEFAULT_ENGINE, None))
    engine = engines[engine_name]
    if model:
        engine = Engine(**{**engine.__dict__, "model": model})
    return engine


def all_engines() -> dict[str, Engine]:
    return dict(_load()[0])


def routed_workloads() -> list[str]:
    """Workloads the engines file names, in file order."""
    return list(_load()[1])


def engines_in_use(workloads: list[str]) -> dict[str, Engine]:
    """The engines that serve ``workloads``, by engine name."""
    engines, routes = _load()
    used = {routes.get(workload, (DEFAULT_ENGINE, None))[0] for workload in workloads}
    return {name: engine for name, engine in engines.items() if name in used}


def reset() -> None:
    _load.cache_clear()
